/*
 * test_store — unit tests for store/ (SQLite leases and one-shot next boot).
 *
 * Covers: round trips of every lease field, replace/delete, persistence across reopen, the
 * state-directory flock, transactions (batch, rollback, failed commit), rows written into the
 * file behind the store's back (skipped or sanitised, never trusted), schema version checks and
 * nextboot. Each test gets its own mkdtemp directory under /tmp, removed afterwards.
 * Does not cover: performance beyond one coarse bound (see the scratch benchmark in the report).
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <fcntl.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/util.h"
#include "store/store.h"

/* ---- fixture: a fresh temporary directory; the state dir is <tmp>/state -------------- */

struct fx {
	char tmp[64];
	char state[96];
	char db[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->tmp, "/tmp/pixied-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	snprintf(f->state, sizeof(f->state), "%s/state", f->tmp);
	snprintf(f->db, sizeof(f->db), "%s/leases.db", f->state);
	*state = f;
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	nftw(f->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static struct store *open_ok(const struct fx *f)
{
	char err[512] = "";
	struct store *s = store_open(f->state, true, err, sizeof(err));
	if (!s)
		fail_msg("store_open: %s", err);
	return s;
}

/* Raw SQL on leases.db while no store is open: writes the store did not write. */
static void raw_exec(const struct fx *f, const char *sql)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("raw sql '%s': %s", sql, msg);
	sqlite3_close(db);
}

/* Create the schema by opening and closing the store once. */
static void make_schema(const struct fx *f)
{
	store_close(open_ok(f));
}

/* ---- collecting leases ---------------------------------------------------------------- */

struct collect {
	struct store_lease *v;
	size_t n, cap;
	size_t stop_after; /* return stop_ret after this many, 0 = never */
	int stop_ret;
};

static int collect_fn(void *arg, const struct store_lease *l)
{
	struct collect *c = arg;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		assert_non_null(c->v);
	}
	c->v[c->n++] = *l;
	if (c->stop_after && c->n == c->stop_after)
		return c->stop_ret;
	return 0;
}

static void collect_all(struct store *s, struct collect *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(store_lease_each(s, collect_fn, c), 0);
}

static void assert_lease_equal(const struct store_lease *a, const struct store_lease *b)
{
	assert_int_equal(a->ip, b->ip);
	assert_memory_equal(a->mac, b->mac, 6);
	assert_int_equal(a->client_id_len, b->client_id_len);
	if (a->client_id_len)
		assert_memory_equal(a->client_id, b->client_id, a->client_id_len);
	assert_true(a->expires == b->expires);
	assert_int_equal(a->state, b->state);
	assert_string_equal(a->hostname, b->hostname);
}

static struct store_lease mk_lease(uint32_t ip, uint8_t tag, uint8_t cid_len, int64_t expires,
				   enum store_lease_state st, const char *host)
{
	struct store_lease l;
	memset(&l, 0, sizeof(l));
	l.ip = ip;
	const uint8_t mac[6] = {0x52, 0x54, 0x00, (uint8_t)(ip >> 8), (uint8_t)ip, tag};
	memcpy(l.mac, mac, 6);
	for (unsigned i = 0; i < cid_len; i++)
		l.client_id[i] = (uint8_t)(i * 7 + tag);
	l.client_id_len = cid_len;
	l.expires = expires;
	l.state = st;
	str_copy(l.hostname, host, sizeof(l.hostname));
	return l;
}

#define H63 "h23456789012345678901234567890123456789012345678901234567890123"

/* Deliberately not sorted by ip: store_lease_each must return them in ip order. */
static const struct lease_row {
	uint32_t ip;
	uint8_t tag, cid_len;
	int64_t expires;
	enum store_lease_state state;
	const char *host;
} lease_rows[] = {
	{0xc0a80105, 1, 0, 1700000000, STORE_LEASE_BOUND, "station-01"},  /* no client id */
	{0x0a000001, 2, 1, 1700000100, STORE_LEASE_RELEASED, ""},         /* 1-byte id, no name */
	{0xffffffff, 3, 64, INT64_MAX, STORE_LEASE_DECLINED, H63},         /* max id, max name */
	{0x00000000, 4, 7, -1, STORE_LEASE_EXPIRED, "a"},                  /* ip 0, past expiry */
	{0x0a000002, 5, 63, 0, STORE_LEASE_BOUND, "with space and-dash"},
	{0x7fffffff, 6, 2, INT64_MIN, STORE_LEASE_RELEASED, "x.example"},
};

static int cmp_lease_ip(const void *a, const void *b)
{
	const struct store_lease *x = a, *y = b;
	return x->ip < y->ip ? -1 : x->ip > y->ip;
}

static void put_rows(struct store *s, struct store_lease *want)
{
	for (size_t i = 0; i < ARRAY_SIZE(lease_rows); i++) {
		const struct lease_row *r = &lease_rows[i];
		want[i] = mk_lease(r->ip, r->tag, r->cid_len, r->expires, r->state, r->host);
		assert_int_equal(store_lease_put(s, &want[i]), 0);
	}
	qsort(want, ARRAY_SIZE(lease_rows), sizeof(*want), cmp_lease_ip);
}

static void assert_all_rows(struct store *s, const struct store_lease *want)
{
	struct collect c;
	collect_all(s, &c);
	assert_int_equal(c.n, ARRAY_SIZE(lease_rows));
	for (size_t i = 0; i < c.n; i++)
		assert_lease_equal(&c.v[i], &want[i]);
	free(c.v);
}

/* ---- leases ---------------------------------------------------------------------------- */

static void test_put_then_each_returns_every_field_in_ip_order(void **state)
{
	struct fx *f = *state;
	struct store *s = open_ok(f);
	struct store_lease want[ARRAY_SIZE(lease_rows)];
	put_rows(s, want);
	assert_all_rows(s, want);
	store_close(s);
}

static void test_reopen_keeps_every_lease(void **state)
{
	struct fx *f = *state;
	struct store *s = open_ok(f);
	struct store_lease want[ARRAY_SIZE(lease_rows)];
	put_rows(s, want);
	store_close(s);

	/* a restart (and one with synchronous=NORMAL) sees every lease */
	s = open_ok(f);
	assert_all_rows(s, want);
	store_close(s);
	char err[256];
	s = store_open(f->state, false, err, sizeof(err));
	assert_non_null(s);
	assert_all_rows(s, want);
	store_close(s);
}

static void test_put_same_ip_replaces_the_lease(void **state)
{
	struct fx *f = *state;
	struct store *s = open_ok(f);
	struct store_lease a = mk_lease(0x0a000005, 1, 10, 100, STORE_LEASE_BOUND, "first");
	struct store_lease b = mk_lease(0x0a000005, 9, 0, 200, STORE_LEASE_RELEASED, "");
	assert_int_equal(store_lease_put(s, &a), 0);
	assert_int_equal(store_lease_put(s, &b), 0);

	struct collect c;
	collect_all(s, &c);
	assert_int_equal(c.n, 1);
	assert_lease_equal(&c.v[0], &b); /* client id removed, name cleared, all replaced */
	free(c.v);
	store_close(s);
}

static void test_del_removes_only_that_ip_and_absent_ip_is_not_an_error(void **state)
{
	struct fx *f = *state;
	struct store *s = open_ok(f);
	struct store_lease want[ARRAY_SIZE(lease_rows)];
	put_rows(s, want);

	assert_int_equal(store_lease_del(s, want[1].ip), 0);
	assert_int_equal(store_lease_del(s, 0x01020304), 0); /* never stored */
	assert_int_equal(store_lease_del(s, want[1].ip), 0); /* already gone */

	struct collect c;
	collect_all(s, &c);
	assert_int_equal(c.n, ARRAY_SIZE(lease_rows) - 1);
	for (size_t i = 0, j = 0; i < ARRAY_SIZE(lease_rows); i++) {
		if (i == 1)
			continue;
		assert_lease_equal(&c.v[j++], &want[i]);
	}
	free(c.v);
	store_close(s);
}

static void test_put_rejects_invalid_leases_and_stores_valid_ones(void **state)
{
	struct fx *f = *state;
	struct store *s = open_ok(f);
	static const struct {
		const char *name;
		unsigned cid_len;
		int st;
		int want;
	} rows[] = {
		{"valid, 64-byte client id", 64, STORE_LEASE_BOUND, 0},
		{"client id 65 bytes", 65, STORE_LEASE_BOUND, -EINVAL},
		{"client id 255 bytes", 255, STORE_LEASE_BOUND, -EINVAL},
		{"state 0", 0, 0, -EINVAL},
		{"state 5", 0, 5, -EINVAL},
		{"state -1", 0, -1, -EINVAL},
		{"valid, state expired", 0, STORE_LEASE_EXPIRED, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct store_lease l = mk_lease((uint32_t)i + 1, 1, 0, 5, STORE_LEASE_BOUND, "n");
		l.client_id_len = (uint8_t)rows[i].cid_len;
		l.state = (enum store_lease_state)rows[i].st;
		if (store_lease_put(s, &l) != rows[i].want)
			fail_msg("%s: expected %d", rows[i].name, rows[i].want);
	}
	assert_int_equal(store_lease_put(s, NULL), -EINVAL);

	struct collect c;
	collect_all(s, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.v[0].ip, 1);
	assert_int_equal(c.v[1].ip, 7);
	free(c.v);
	store_close(s);
}

static void test_put_hostname_without_nul_is_cut_at_63_bytes(void **state)
{
	struct fx *f = *state;
	struct store *s = open_ok(f);
	struct store_lease l = mk_lease(1, 1, 0, 5, STORE_LEASE_BOUND, "");
	memset(l.hostname, 'h', sizeof(l.hostname)); /* no terminator at all */
	assert_int_equal(store_lease_put(s, &l), 0);

	struct collect c;
	collect_all(s, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(strlen(c.v[0].hostname), STORE_HOSTNAME_MAX - 1);
	free(c.v);
	store_close(s);
}

static void test_each_stops_when_fn_returns_nonzero_and_can_run_again(void **state)
{
	struct fx *f = *state;
	struct store *s = open_ok(f);
	struct store_lease want[ARRAY_SIZE(lease_rows)];
	put_rows(s, want);

	struct collect c = {.stop_after = 2, .stop_ret = 7};
	assert_int_equal(store_lease_each(s, collect_fn, &c), 7);
	assert_int_equal(c.n, 2);
	free(c.v);

	assert_all_rows(s, want); /* the scan was reset, a new one starts at the first row */
	store_close(s);
}

struct nested {
	struct store *s;
	int inner;
};

static int nested_fn(void *arg, const struct store_lease *l)
{
	(void)l;
	struct nested *n = arg;
	n->inner = store_lease_each(n->s, collect_fn, NULL);
	/* writing from inside the scan is allowed */
	struct store_lease extra = mk_lease(0x0b000000, 1, 0, 5, STORE_LEASE_BOUND, "extra");
	assert_int_equal(store_lease_put(n->s, &extra), 0);
	return 1;
}

static void test_each_called_from_fn_is_busy_and_fn_may_write(void **state)
{
	struct fx *f = *state;
	struct store *s = open_ok(f);
	struct store_lease l = mk_lease(1, 1, 0, 5, STORE_LEASE_BOUND, "");
	assert_int_equal(store_lease_put(s, &l), 0);

	struct nested n = {.s = s};
	assert_int_equal(store_lease_each(s, nested_fn, &n), 1);
	assert_int_equal(n.inner, -EBUSY);

	struct collect c;
	collect_all(s, &c);
	assert_int_equal(c.n, 2);
	free(c.v);
	store_close(s);
}

/* ---- the state directory and its lock ------------------------------------------------ */

static void test_open_creates_missing_state_dir_0750(void **state)
{
	struct fx *f = *state;
	mode_t old = umask(022);
	struct store *s = open_ok(f);
	umask(old);
	struct stat st;
	assert_int_equal(stat(f->state, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	store_close(s);
}

static void test_second_open_fails_while_first_is_open_and_works_after_close(void **state)
{
	struct fx *f = *state;
	struct store *a = open_ok(f);

	char err[512], want[512];
	snprintf(want, sizeof(want),
		 "another pixied is already using state directory %s (lock %s/pixied.lock held)",
		 f->state, f->state);
	for (int i = 0; i < 2; i++) { /* FULL and NORMAL alike */
		memset(err, 0, sizeof(err));
		assert_null(store_open(f->state, i == 0, err, sizeof(err)));
		assert_string_equal(err, want);
	}

	store_close(a);
	struct store *b = open_ok(f);
	store_close(b);
}

/* Which of our fds point at path, and are they all close-on-exec? Returns how many. */
static int count_fds_to(const char *path, int *cloexec)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	*cloexec = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char target[512];
		ssize_t len = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = '\0';
		if (strcmp(target, path) != 0)
			continue;
		n++;
		int flags = fcntl(atoi(e->d_name), F_GETFD);
		*cloexec += flags >= 0 && (flags & FD_CLOEXEC);
	}
	closedir(d);
	return n;
}

static void test_lock_and_db_fds_are_close_on_exec_and_closed_by_close(void **state)
{
	struct fx *f = *state;
	char lock[128];
	snprintf(lock, sizeof(lock), "%s/pixied.lock", f->state);
	struct store *s = open_ok(f);
	int cloexec;
	const char *paths[] = {lock, f->db};
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		int n = count_fds_to(paths[i], &cloexec);
		assert_int_equal(n, 1);
		assert_int_equal(cloexec, 1);
	}
	store_close(s);
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		assert_int_equal(count_fds_to(paths[i], &cloexec), 0);
}

static void test_open_failures_name_the_file_or_directory(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *name;
		const char *prepare; /* "garbage", "newer", "missing-parent" */
		const char *want;    /* substring of the error */
	} rows[] = {
		{"leases.db is not a database", "garbage", "leases.db: file is not a database"},
		{"schema from a newer pixied", "newer", "schema version 99 is newer"},
		{"parent of the state dir missing", "missing-parent", "No such file or directory"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char dir[256];
		snprintf(dir, sizeof(dir), "%s/case%zu", f->tmp, i);
		if (strcmp(rows[i].prepare, "missing-parent") == 0) {
			snprintf(dir, sizeof(dir), "%s/no/such/dir", f->tmp);
		} else {
			assert_int_equal(mkdir(dir, 0750), 0);
			char db[300];
			snprintf(db, sizeof(db), "%s/leases.db", dir);
			if (strcmp(rows[i].prepare, "garbage") == 0) {
				FILE *fp = fopen(db, "w");
				assert_non_null(fp);
				for (int k = 0; k < 256; k++)
					fputs("this is not sqlite ", fp);
				fclose(fp);
			} else {
				sqlite3 *raw;
				assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
				assert_int_equal(
					sqlite3_exec(raw, "PRAGMA user_version = 99;", 0, 0, 0),
					SQLITE_OK);
				sqlite3_close(raw);
			}
		}
		char err[512] = "";
		struct store *s = store_open(dir, true, err, sizeof(err));
		if (s)
			fail_msg("%s: store_open succeeded", rows[i].name);
		if (!strstr(err, rows[i].want) || !strstr(err, dir))
			fail_msg("%s: error '%s' lacks '%s' or '%s'", rows[i].name, err,
				 rows[i].want, dir);
	}
	/* and a good directory still opens afterwards */
	store_close(open_ok(f));
}

static void test_open_with_no_dir_fails(void **state)
{
	(void)state;
	char err[128] = "";
	assert_null(store_open(NULL, true, err, sizeof(err)));
	assert_true(err[0] != '\0');
	assert_null(store_open("", true, NULL, 0)); /* no error buffer is fine too */
}

/* ---- transactions ---------------------------------------------------------------------- */

static void test_batch_of_10000_puts_in_one_transaction_is_fast_and_persists(void **state)
{
	struct fx *f = *state;
	struct store *s = open_ok(f);
	enum { N = 10000 };
	uint64_t t0 = time_mono_ms();
	assert_int_equal(store_begin(s), 0);
	for (uint32_t i = 0; i < N; i++) {
		struct store_lease l =
			mk_lease(0x0a000000 + i, (uint8_t)i, (uint8_t)(i % 65), 1700000000 + i,
				 STORE_LEASE_BOUND, "batch");
		assert_int_equal(store_lease_put(s, &l), 0);
	}
	assert_int_equal(store_commit(s), 0);
	uint64_t ms = time_mono_ms() - t0;
	if (ms >= 2000)
		fail_msg("10000 puts in one transaction took %llu ms", (unsigned long long)ms);
	store_close(s);

	s = open_ok(f);
	struct collect c;
	collect_all(s, &c);
	assert_int_equal(c.n, N);
	for (uint32_t i = 0; i < N; i++) {
		struct store_lease l =
			mk_lease(0x0a000000 + i, (uint8_t)i, (uint8_t)(i % 65), 1700000000 + i,
				 STORE_LEASE_BOUND, "batch");
		assert_lease_equal(&c.v[i], &l);
	}
	free(c.v);
	store_close(s);
}

static void test_rollback_discards_puts_dels_and_nextboot(void **state)
{
	struct fx *f = *state;
	struct store *s = open_ok(f);
	const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	struct store_lease keep = mk_lease(1, 1, 3, 5, STORE_LEASE_BOUND, "keep");
	assert_int_equal(store_lease_put(s, &keep), 0);

	assert_int_equal(store_begin(s), 0);
	assert_true(store_in_transaction(s));
	struct store_lease gone = mk_lease(2, 2, 0, 5, STORE_LEASE_BOUND, "gone");
	assert_int_equal(store_lease_put(s, &gone), 0);
	assert_int_equal(store_lease_del(s, 1), 0);
	assert_int_equal(store_nextboot_set(s, mac, "rescue"), 0);
	store_rollback(s);
	assert_false(store_in_transaction(s));
	store_close(s);

	s = open_ok(f);
	struct collect c;
	collect_all(s, &c);
	assert_int_equal(c.n, 1);
	assert_lease_equal(&c.v[0], &keep);
	free(c.v);
	char buf[64];
	assert_int_equal(store_nextboot_get(s, mac, buf, sizeof(buf)), 0);
	store_close(s);
}

static void test_transaction_misuse_is_reported_not_fatal(void **state)
{
	struct fx *f = *state;
	struct store *s = open_ok(f);
	assert_false(store_in_transaction(s));
	assert_int_equal(store_commit(s), -EINVAL); /* commit without begin */
	store_rollback(s);                          /* rollback without begin: no-op */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_begin(s), -EINPROGRESS); /* nested begin */
	assert_true(store_in_transaction(s));
	struct store_lease l = mk_lease(1, 1, 0, 5, STORE_LEASE_BOUND, "");
	assert_int_equal(store_lease_put(s, &l), 0);
	assert_int_equal(store_commit(s), 0);
	assert_false(store_in_transaction(s));

	/* closing with a transaction open rolls it back */
	assert_int_equal(store_begin(s), 0);
	struct store_lease l2 = mk_lease(2, 1, 0, 5, STORE_LEASE_BOUND, "");
	assert_int_equal(store_lease_put(s, &l2), 0);
	store_close(s);
	s = open_ok(f);
	struct collect c;
	collect_all(s, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.v[0].ip, 1);
	free(c.v);
	store_close(s);
}

static void test_failed_commit_returns_eio_and_stores_nothing(void **state)
{
	struct fx *f = *state;
	make_schema(f);
	/* A deferred foreign key that the commit itself finds broken: inserting ip 666 adds a
	 * dangling child row, so COMMIT fails (foreign_keys is on) after every put succeeded. */
	raw_exec(f, "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
		    "CREATE TABLE child (p INTEGER REFERENCES parent (id)"
		    "  DEFERRABLE INITIALLY DEFERRED);"
		    "CREATE TRIGGER poison AFTER INSERT ON leases WHEN NEW.ip = 666"
		    "  BEGIN INSERT INTO child VALUES (12345); END;");
	struct store *s = open_ok(f);

	assert_int_equal(store_begin(s), 0);
	struct store_lease a = mk_lease(1, 1, 0, 5, STORE_LEASE_BOUND, "a");
	struct store_lease bad = mk_lease(666, 2, 0, 5, STORE_LEASE_BOUND, "poison");
	assert_int_equal(store_lease_put(s, &a), 0);
	assert_int_equal(store_lease_put(s, &bad), 0);
	assert_int_equal(store_commit(s), -EIO);
	assert_false(store_in_transaction(s));

	struct collect c;
	collect_all(s, &c);
	assert_int_equal(c.n, 0);
	free(c.v);

	/* the store is usable afterwards, and autocommit puts fail on their own */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_lease_put(s, &a), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_lease_put(s, &bad), -EIO);
	collect_all(s, &c);
	assert_int_equal(c.n, 1);
	free(c.v);
	store_close(s);
}

/* ---- rows the store did not write ------------------------------------------------------ */

static void test_bad_rows_are_skipped_and_good_rows_kept(void **state)
{
	struct fx *f = *state;
	make_schema(f);
	static const struct {
		const char *name;
		const char *values; /* (ip, mac, client_id, expires, state, hostname) */
		int kept;
	} rows[] = {
		{"good row", "(1, x'020000000001', NULL, 5, 1, 'one')", 1},
		{"mac 5 bytes", "(2, x'0200000000', NULL, 5, 1, '')", 0},
		{"mac 7 bytes", "(3, x'02000000000102', NULL, 5, 1, '')", 0},
		{"mac 0 bytes", "(4, x'', NULL, 5, 1, '')", 0},
		{"mac as 6-char text", "(5, 'abcdef', NULL, 5, 1, '')", 0},
		{"mac as integer", "(6, 123456, NULL, 5, 1, '')", 0},
		{"client id 64 bytes", "(7, x'020000000007', zeroblob(64), 5, 1, '')", 1},
		{"client id 65 bytes", "(8, x'020000000008', zeroblob(65), 5, 1, '')", 0},
		{"client id 100000 bytes", "(9, x'020000000009', zeroblob(100000), 5, 1, '')", 0},
		{"client id empty blob", "(10, x'02000000000a', x'', 5, 1, '')", 1},
		{"client id as text", "(11, x'02000000000b', 'abc', 5, 1, '')", 0},
		{"state 0", "(12, x'02000000000c', NULL, 5, 0, '')", 0},
		{"state 5", "(13, x'02000000000d', NULL, 5, 5, '')", 0},
		{"state as text", "(14, x'02000000000e', NULL, 5, 'bound', '')", 0},
		{"state 4 (expired)", "(15, x'02000000000f', NULL, 5, 4, '')", 1},
		{"expires as text", "(16, x'020000000010', NULL, 'soon', 1, '')", 0},
		{"expires as real", "(17, x'020000000011', NULL, 1.5, 1, '')", 0},
		{"ip negative", "(-1, x'020000000012', NULL, 5, 1, '')", 0},
		{"ip above 32 bits", "(4294967296, x'020000000013', NULL, 5, 1, '')", 0},
		{"ip 2^32-1", "(4294967295, x'020000000014', NULL, 5, 1, '')", 1},
		{"hostname as blob", "(18, x'020000000015', NULL, 5, 1, x'41420043')", 1},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char sql[256];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO leases (ip, mac, client_id, expires, state, hostname)"
			 " VALUES %s;",
			 rows[i].values);
		raw_exec(f, sql);
	}

	struct store *s = open_ok(f);
	struct collect c;
	collect_all(s, &c);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		/* the ip is the first value of the row */
		long long ip = strtoll(rows[i].values + 1, NULL, 10);
		int seen = 0;
		for (size_t j = 0; j < c.n; j++)
			seen += (long long)c.v[j].ip == ip;
		if (seen != rows[i].kept)
			fail_msg("%s: seen %d times, want %d", rows[i].name, seen, rows[i].kept);
	}
	/* the kept rows are read back correctly */
	for (size_t j = 0; j < c.n; j++) {
		if (c.v[j].ip == 7)
			assert_int_equal(c.v[j].client_id_len, 64);
		if (c.v[j].ip == 10)
			assert_int_equal(c.v[j].client_id_len, 0);
		if (c.v[j].ip == 18)
			assert_string_equal(c.v[j].hostname, "ABC");
	}
	free(c.v);
	store_close(s);
}

static void test_hostname_read_back_is_terminated_and_printable_only(void **state)
{
	struct fx *f = *state;
	make_schema(f);
	static const struct {
		const char *sql_value;
		const char *want;
	} rows[] = {
		{"'station-01'", "station-01"},
		{"''", ""},
		{"'a' || char(1) || 'b' || char(127) || 'c'", "abc"},
		{"'tab' || char(9) || 'here' || char(10)", "tabhere"},
		{"'caf' || char(233)", "caf"},                     /* UTF-8 é dropped */
		{"CAST(x'61620063640a' AS TEXT)", "abcd"},          /* embedded NUL */
		{"'<script>'", "<script>"},                        /* printable: kept, escaped later */
		{"replace(hex(zeroblob(50)), '0', 'x')", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
		{"char(1,2,3) || replace(hex(zeroblob(35)), '0', 'y')",
		 "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char sql[256];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO leases (ip, mac, expires, state, hostname)"
			 " VALUES (%zu, x'020000000001', 5, 1, %s);",
			 i + 1, rows[i].sql_value);
		raw_exec(f, sql);
	}
	struct store *s = open_ok(f);
	struct collect c;
	collect_all(s, &c);
	assert_int_equal(c.n, ARRAY_SIZE(rows));
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(c.v[i].ip, i + 1);
		assert_int_equal(c.v[i].hostname[STORE_HOSTNAME_MAX - 1], '\0');
		if (strcmp(c.v[i].hostname, rows[i].want) != 0)
			fail_msg("row %zu (%s): got '%s' want '%s'", i, rows[i].sql_value,
				 c.v[i].hostname, rows[i].want);
	}
	free(c.v);
	store_close(s);
}

static void test_schema_version_is_recorded(void **state)
{
	struct fx *f = *state;
	make_schema(f);
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 4);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* ---- nextboot and pins: two MAC -> entry tables with the same contract -------------------- */

struct entry_api {
	const char *name;
	const char *table;
	int (*set)(struct store *, const uint8_t *, const char *);
	int (*get)(struct store *, const uint8_t *, char *, size_t);
	int (*clear)(struct store *, const uint8_t *);
};
static const struct entry_api entry_apis[] = {
	{"nextboot", "nextboot", store_nextboot_set, store_nextboot_get, store_nextboot_clear},
	{"pin", "pins", store_pin_set, store_pin_get, store_pin_clear},
};

static void entry_set_get_clear_and_persist(struct fx *f, const struct entry_api *api)
{
	const uint8_t m1[6] = {0x00, 0x18, 0xe7, 0x42, 0x84, 0x3a};
	const uint8_t m2[6] = {0x00, 0x18, 0xe7, 0x42, 0x84, 0x3b};
	char buf[STORE_NEXTBOOT_ENTRY_MAX];

	struct store *s = open_ok(f);
	assert_int_equal(api->get(s, m1, buf, sizeof(buf)), 0); /* none yet */
	assert_string_equal(buf, "");
	assert_int_equal(api->set(s, m1, "memtest"), 0);
	assert_int_equal(api->set(s, m1, "rescue"), 0); /* set replaces */
	assert_int_equal(api->set(s, m2, "install-debian"), 0);
	assert_int_equal(api->get(s, m1, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "rescue");
	store_close(s);

	s = open_ok(f); /* a restart keeps them */
	assert_int_equal(api->get(s, m1, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "rescue");
	assert_int_equal(api->get(s, m2, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "install-debian");

	/* cleared inside a transaction */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(api->get(s, m1, buf, sizeof(buf)), 1);
	assert_int_equal(api->clear(s, m1), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(api->get(s, m1, buf, sizeof(buf)), 0);
	assert_int_equal(api->clear(s, m1), 0); /* absent: still 0 */
	store_close(s);

	s = open_ok(f);
	assert_int_equal(api->get(s, m1, buf, sizeof(buf)), 0);
	assert_int_equal(api->get(s, m2, buf, sizeof(buf)), 1);
	store_close(s);
}

static void test_nextboot_and_pin_set_get_clear_and_persist(void **state)
{
	struct fx *f = *state;
	for (size_t i = 0; i < ARRAY_SIZE(entry_apis); i++) {
		entry_set_get_clear_and_persist(f, &entry_apis[i]);
		raw_exec(f, "DELETE FROM nextboot; DELETE FROM pins;");
	}
}

static void test_nextboot_and_pin_rejects_bad_entries_and_small_buffers(void **state)
{
	struct fx *f = *state;
	const uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
	char e127[128], e128[129];
	memset(e127, 'e', 127);
	e127[127] = '\0';
	memset(e128, 'e', 128);
	e128[128] = '\0';
	const struct {
		const char *name;
		const char *entry;
		int want;
	} rows[] = {
		{"plain name", "rescue", 0},
		{"127 bytes", e127, 0},
		{"128 bytes", e128, -EINVAL},
		{"empty", "", -EINVAL},
		{"NULL", NULL, -EINVAL},
		{"control byte", "res\x01cue", -EINVAL},
		{"newline", "rescue\n", -EINVAL},
		{"non-ASCII", "caf\xc3\xa9", -EINVAL},
	};
	struct store *s = open_ok(f);
	for (size_t a = 0; a < ARRAY_SIZE(entry_apis); a++) {
		const struct entry_api *api = &entry_apis[a];
		for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
			if (api->set(s, mac, rows[i].entry) != rows[i].want)
				fail_msg("%s %s: expected %d", api->name, rows[i].name,
					 rows[i].want);
		assert_int_equal(api->set(s, NULL, "x"), -EINVAL);
		assert_int_equal(api->clear(s, NULL), -EINVAL);

		/* the last valid set was e127 */
		char big[128], small[127];
		assert_int_equal(api->get(s, mac, small, sizeof(small)), -ENOSPC);
		assert_string_equal(small, "");
		assert_int_equal(api->get(s, mac, big, sizeof(big)), 1);
		assert_string_equal(big, e127);
		assert_int_equal(api->get(s, mac, big, 0), -EINVAL);
	}
	store_close(s);
}

static void test_nextboot_and_pin_read_back_is_sanitised(void **state)
{
	struct fx *f = *state;
	make_schema(f);
	const uint8_t m1[6] = {2, 0, 0, 0, 0, 1}, m2[6] = {2, 0, 0, 0, 0, 2};
	for (size_t a = 0; a < ARRAY_SIZE(entry_apis); a++) {
		char sql[256];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO %s VALUES (x'020000000001', 're' || char(1) || 'scue', 0);"
			 "INSERT INTO %s VALUES (x'020000000002', char(1,2), 0);",
			 entry_apis[a].table, entry_apis[a].table);
		raw_exec(f, sql);
		char buf[64];
		struct store *s = open_ok(f);
		assert_int_equal(entry_apis[a].get(s, m1, buf, sizeof(buf)), 1);
		assert_string_equal(buf, "rescue");
		assert_int_equal(entry_apis[a].get(s, m2, buf, sizeof(buf)), 0); /* names nothing */
		store_close(s);
	}
}

static void test_pin_and_nextboot_of_a_mac_are_independent(void **state)
{
	struct fx *f = *state;
	const uint8_t mac[6] = {2, 0, 0, 0, 0, 7};
	char buf[64];
	struct store *s = open_ok(f);
	assert_int_equal(store_pin_set(s, mac, "debian"), 0);
	assert_int_equal(store_nextboot_set(s, mac, "memtest"), 0);
	assert_int_equal(store_nextboot_clear(s, mac), 0); /* clearing one keeps the other */
	assert_int_equal(store_pin_get(s, mac, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "debian");
	assert_int_equal(store_nextboot_set(s, mac, "memtest"), 0);
	assert_int_equal(store_pin_clear(s, mac), 0);
	assert_int_equal(store_nextboot_get(s, mac, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "memtest");
	store_close(s);
}

/* A state directory written by the previous release (schema 3) gains the pins table and
 * keeps what it had. */
static void test_schema_3_database_is_migrated_to_4_keeping_its_rows(void **state)
{
	struct fx *f = *state;
	make_schema(f);
	raw_exec(f, "DROP TABLE pins; PRAGMA user_version = 3;"
		    "INSERT INTO nextboot VALUES (x'020000000001', 'rescue', 0);");
	const uint8_t m1[6] = {2, 0, 0, 0, 0, 1};
	char buf[64];
	struct store *s = open_ok(f);
	assert_int_equal(store_nextboot_get(s, m1, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "rescue");
	assert_int_equal(store_pin_get(s, m1, buf, sizeof(buf)), 0);
	assert_int_equal(store_pin_set(s, m1, "debian"), 0);
	store_close(s);
	s = open_ok(f);
	assert_int_equal(store_pin_get(s, m1, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "debian");
	store_close(s);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_put_then_each_returns_every_field_in_ip_order),
		T(test_reopen_keeps_every_lease),
		T(test_put_same_ip_replaces_the_lease),
		T(test_del_removes_only_that_ip_and_absent_ip_is_not_an_error),
		T(test_put_rejects_invalid_leases_and_stores_valid_ones),
		T(test_put_hostname_without_nul_is_cut_at_63_bytes),
		T(test_each_stops_when_fn_returns_nonzero_and_can_run_again),
		T(test_each_called_from_fn_is_busy_and_fn_may_write),
		T(test_open_creates_missing_state_dir_0750),
		T(test_second_open_fails_while_first_is_open_and_works_after_close),
		T(test_lock_and_db_fds_are_close_on_exec_and_closed_by_close),
		T(test_open_failures_name_the_file_or_directory),
		T(test_open_with_no_dir_fails),
		T(test_batch_of_10000_puts_in_one_transaction_is_fast_and_persists),
		T(test_rollback_discards_puts_dels_and_nextboot),
		T(test_transaction_misuse_is_reported_not_fatal),
		T(test_failed_commit_returns_eio_and_stores_nothing),
		T(test_bad_rows_are_skipped_and_good_rows_kept),
		T(test_hostname_read_back_is_terminated_and_printable_only),
		T(test_schema_version_is_recorded),
		T(test_nextboot_and_pin_set_get_clear_and_persist),
		T(test_nextboot_and_pin_rejects_bad_entries_and_small_buffers),
		T(test_nextboot_and_pin_read_back_is_sanitised),
		T(test_pin_and_nextboot_of_a_mac_are_independent),
		T(test_schema_3_database_is_migrated_to_4_keeping_its_rows),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
