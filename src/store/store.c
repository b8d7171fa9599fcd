/*
 * store — the SQLite backend of store.h: `<state>/leases.db` in WAL mode, guarded by an
 * exclusive flock on `<state>/pixied.lock`.
 *
 * Owns: the database connection, the lock file descriptor, the schema and its migrations
 * (PRAGMA user_version), prepared statements, and validation of every row read back (the
 * file is not trusted: a bad row is skipped, never crashes us).
 * Does not own: when transactions happen (the caller batches one per loop turn), lease
 * policy (dhcp/), sanitising hostnames before they are stored (the caller does).
 * One thread only: the connection is opened with SQLITE_OPEN_NOMUTEX.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "core/util.h"

#define STORE_BUSY_TIMEOUT_MS 100 /* the flock rules out another writer; only the CLI could */

struct store {
	sqlite3 *db;
	int lock_fd;
	bool iterating; /* inside store_lease_each */
	bool client_iterating; /* inside store_client_each */
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *lease_put, *lease_del, *lease_all, *lease_by_ip;
	sqlite3_stmt *nb_set, *nb_get, *nb_clear;
	sqlite3_stmt *pin_set, *pin_get, *pin_clear;
	sqlite3_stmt *cl_put, *cl_get, *cl_all, *cl_del, *cl_prune;
	char db_path[PATH_MAX];
};

/*
 * Schema migrations: migrations[i] takes the schema from user_version i to i + 1. Append
 * only; never edit a step that has shipped.
 */
static const char *const migrations[] = {
	/* 1: leases */
	"CREATE TABLE leases ("
	"  ip INTEGER PRIMARY KEY,"
	"  mac BLOB NOT NULL,"
	"  client_id BLOB,"
	"  expires INTEGER NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  hostname TEXT NOT NULL DEFAULT ''"
	");",
	/* 2: one-shot next boot per MAC */
	"CREATE TABLE nextboot ("
	"  mac BLOB PRIMARY KEY,"
	"  entry TEXT NOT NULL,"
	"  set_at INTEGER NOT NULL"
	");",
	/* 3: client records (clients/): the blob is clients' own versioned encoding */
	"CREATE TABLE clients ("
	"  mac BLOB PRIMARY KEY,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  data BLOB NOT NULL"
	");"
	"CREATE INDEX clients_last_seen ON clients (last_seen);",
	/* 4: permanent boot entry per MAC (set through the API) */
	"CREATE TABLE pins ("
	"  mac BLOB PRIMARY KEY,"
	"  entry TEXT NOT NULL,"
	"  set_at INTEGER NOT NULL"
	");",
};
#define SCHEMA_VERSION ((int)ARRAY_SIZE(migrations))

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* SQLite result code -> negative errno. Anything we cannot name is an I/O failure. */
static int sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_TOOBIG:
		return -E2BIG;
	default:
		return -EIO;
	}
}

static int sql_fail(struct store *s, const char *what, int rc)
{
	log_err("store", "%s: %s: %s", s->db_path, what, sqlite3_errmsg(s->db));
	return sql_errno(rc);
}

/* Step a statement that returns no rows, then reset it for the next use. */
static int stmt_run(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int ret = 0;
	if (rc != SQLITE_DONE)
		ret = sql_fail(s, what, rc);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

/* Copy printable ASCII from src (n bytes) into dst, always NUL-terminated; returns its length. */
static size_t copy_printable(char *dst, size_t dstlen, const unsigned char *src, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 1 < dstlen; i++)
		if (src[i] >= 0x20 && src[i] <= 0x7e)
			dst[o++] = (char)src[i];
	dst[o] = '\0';
	return o;
}

static bool is_printable(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return false;
	return true;
}

static bool lease_state_valid(long long st)
{
	return st >= STORE_LEASE_BOUND && st <= STORE_LEASE_EXPIRED;
}

/* ---- open / close ---------------------------------------------------------------------- */

static int take_lock(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/pixied.lock", dir) >= sizeof(path)) {
		set_err(err, errlen, "state directory %s: %s", dir, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		int e = errno;
		set_err(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		if (e == EWOULDBLOCK)
			set_err(err, errlen,
				"another pixied is already using state directory %s (lock %s held)", dir,
				path);
		else
			set_err(err, errlen, "%s: flock: %s", path, strerror(e));
		close(fd);
		return e == EWOULDBLOCK ? -EBUSY : -e;
	}
	/* The pid is only a hint for an operator; the flock is what counts. */
	if (ftruncate(fd, 0) == 0)
		dprintf(fd, "%ld\n", (long)getpid());
	return fd;
}

static int exec_sql(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		set_err(err, errlen, "%s: %s", s->db_path, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return sql_errno(rc);
	}
	return 0;
}

/* Run a PRAGMA that returns one text or integer value (read as text into out). */
static int pragma_value(struct store *s, const char *sql, char *out, size_t outlen, char *err,
			size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const unsigned char *v = sqlite3_column_text(st, 0);
			int n = sqlite3_column_bytes(st, 0);
			copy_printable(out, outlen, v ? v : (const unsigned char *)"",
				       v && n > 0 ? (size_t)n : 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			out[0] = '\0';
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK)
		set_err(err, errlen, "%s: %s (%s)", s->db_path, sqlite3_errmsg(s->db), sql);
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : sql_errno(rc);
}

static int migrate(struct store *s, char *err, size_t errlen)
{
	char buf[32];
	int ret = pragma_value(s, "PRAGMA user_version", buf, sizeof(buf), err, errlen);
	if (ret < 0)
		return ret;
	uint64_t v;
	if (parse_u64(buf, 0, INT_MAX, &v) < 0) {
		set_err(err, errlen, "%s: unreadable schema version '%s'", s->db_path, buf);
		return -EIO;
	}
	if (v > (uint64_t)SCHEMA_VERSION) {
		set_err(err, errlen,
			"%s: schema version %llu is newer than this pixied understands (%d)",
			s->db_path, (unsigned long long)v, SCHEMA_VERSION);
		return -EPROTO;
	}
	for (int i = (int)v; i < SCHEMA_VERSION; i++) {
		char bump[64];
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %d;", i + 1);
		if ((ret = exec_sql(s, "BEGIN IMMEDIATE;", err, errlen)) < 0)
			return ret;
		if ((ret = exec_sql(s, migrations[i], err, errlen)) < 0 ||
		    (ret = exec_sql(s, bump, err, errlen)) < 0 ||
		    (ret = exec_sql(s, "COMMIT;", err, errlen)) < 0) {
			if (!sqlite3_get_autocommit(s->db))
				sqlite3_exec(s->db, "ROLLBACK;", NULL, NULL, NULL);
			return ret;
		}
	}
	return 0;
}

static int prepare(struct store *s, sqlite3_stmt **st, const char *sql, char *err, size_t errlen)
{
	int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
	if (rc != SQLITE_OK) {
		set_err(err, errlen, "%s: preparing \"%s\": %s", s->db_path, sql,
			sqlite3_errmsg(s->db));
		return sql_errno(rc);
	}
	return 0;
}

static int prepare_all(struct store *s, char *err, size_t errlen)
{
	const struct {
		sqlite3_stmt **st;
		const char *sql;
	} stmts[] = {
		{&s->begin, "BEGIN IMMEDIATE"},
		{&s->commit, "COMMIT"},
		{&s->rollback, "ROLLBACK"},
		{&s->lease_put,
		 "INSERT INTO leases (ip, mac, client_id, expires, state, hostname)"
		 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		 " ON CONFLICT (ip) DO UPDATE SET mac = excluded.mac,"
		 " client_id = excluded.client_id, expires = excluded.expires,"
		 " state = excluded.state, hostname = excluded.hostname"},
		{&s->lease_del, "DELETE FROM leases WHERE ip = ?1"},
		{&s->lease_all,
		 "SELECT ip, mac, client_id, expires, state, hostname FROM leases ORDER BY ip"},
		{&s->lease_by_ip,
		 "SELECT ip, mac, client_id, expires, state, hostname FROM leases WHERE ip = ?1"},
		{&s->nb_set, "INSERT INTO nextboot (mac, entry, set_at) VALUES (?1, ?2, ?3)"
			     " ON CONFLICT (mac) DO UPDATE SET entry = excluded.entry,"
			     " set_at = excluded.set_at"},
		{&s->nb_get, "SELECT entry FROM nextboot WHERE mac = ?1"},
		{&s->nb_clear, "DELETE FROM nextboot WHERE mac = ?1"},
		{&s->pin_set, "INSERT INTO pins (mac, entry, set_at) VALUES (?1, ?2, ?3)"
			      " ON CONFLICT (mac) DO UPDATE SET entry = excluded.entry,"
			      " set_at = excluded.set_at"},
		{&s->pin_get, "SELECT entry FROM pins WHERE mac = ?1"},
		{&s->pin_clear, "DELETE FROM pins WHERE mac = ?1"},
		{&s->cl_put, "INSERT INTO clients (mac, first_seen, last_seen, data)"
			     " VALUES (?1, ?2, ?3, ?4)"
			     " ON CONFLICT (mac) DO UPDATE SET first_seen = excluded.first_seen,"
			     " last_seen = excluded.last_seen, data = excluded.data"},
		{&s->cl_get, "SELECT mac, first_seen, last_seen, data FROM clients WHERE mac = ?1"},
		{&s->cl_all, "SELECT mac, first_seen, last_seen, data FROM clients"
			     " ORDER BY last_seen DESC, mac"},
		{&s->cl_del, "DELETE FROM clients WHERE mac = ?1"},
		{&s->cl_prune, "DELETE FROM clients WHERE last_seen < (SELECT last_seen FROM clients"
			       " ORDER BY last_seen DESC LIMIT 1 OFFSET ?1 - 1)"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(stmts); i++) {
		int ret = prepare(s, stmts[i].st, stmts[i].sql, err, errlen);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void finalize_all(struct store *s)
{
	sqlite3_stmt **all[] = {&s->begin,     &s->commit,    &s->rollback,
				&s->lease_put, &s->lease_del, &s->lease_all,
				&s->nb_set,    &s->nb_get,    &s->nb_clear,
				&s->lease_by_ip, &s->cl_put,   &s->cl_get,
				&s->cl_all,    &s->cl_del,    &s->cl_prune,
				&s->pin_set,   &s->pin_get,   &s->pin_clear};
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
}

struct store *store_open(const char *dir, bool sync_full, char *err, size_t errlen)
{
	if (!dir || !*dir) {
		set_err(err, errlen, "no state directory given");
		return NULL;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		set_err(err, errlen, "state directory %s: %s", dir, strerror(errno));
		return NULL;
	}

	struct store *s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(err, errlen, "state directory %s: %s", dir, strerror(ENOMEM));
		return NULL;
	}
	s->lock_fd = -1;
	if ((size_t)snprintf(s->db_path, sizeof(s->db_path), "%s/leases.db", dir) >=
	    sizeof(s->db_path)) {
		set_err(err, errlen, "state directory %s: %s", dir, strerror(ENAMETOOLONG));
		goto err_free;
	}

	int fd = take_lock(dir, err, errlen);
	if (fd < 0)
		goto err_free;
	s->lock_fd = fd;

	int rc = sqlite3_open_v2(s->db_path, &s->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
					 SQLITE_OPEN_EXRESCODE,
				 NULL);
	if (rc != SQLITE_OK) {
		set_err(err, errlen, "%s: %s", s->db_path,
			s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto err_db;
	}
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);

	char mode[16];
	if (pragma_value(s, "PRAGMA journal_mode = WAL", mode, sizeof(mode), err, errlen) < 0)
		goto err_db;
	if (strcmp(mode, "wal") != 0) {
		set_err(err, errlen, "%s: cannot enable WAL journal (got '%s')", s->db_path, mode);
		goto err_db;
	}
	if (exec_sql(s, sync_full ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;",
		     err, errlen) < 0 ||
	    exec_sql(s, "PRAGMA foreign_keys = ON;", err, errlen) < 0)
		goto err_db;
	if (migrate(s, err, errlen) < 0)
		goto err_db;
	if (prepare_all(s, err, errlen) < 0)
		goto err_stmts;
	return s;

err_stmts:
	finalize_all(s);
err_db:
	sqlite3_close(s->db); /* NULL is fine */
	close(s->lock_fd);
err_free:
	free(s);
	return NULL;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_rollback(s);
	finalize_all(s);
	/* The last connection checkpoints the WAL into leases.db and removes it. */
	if (sqlite3_close(s->db) != SQLITE_OK)
		log_err("store", "%s: close: %s", s->db_path, sqlite3_errmsg(s->db));
	close(s->lock_fd); /* releases the flock */
	free(s);
}

/* ---- transactions ---------------------------------------------------------------------- */

bool store_in_transaction(const struct store *s)
{
	return !sqlite3_get_autocommit(s->db);
}

int store_begin(struct store *s)
{
	if (store_in_transaction(s))
		return -EINPROGRESS;
	return stmt_run(s, s->begin, "begin");
}

int store_commit(struct store *s)
{
	if (!store_in_transaction(s))
		return -EINVAL;
	int ret = stmt_run(s, s->commit, "commit");
	if (ret < 0) {
		/*
		 * Some failures (SQLITE_FULL, IOERR) roll back by themselves; others (BUSY,
		 * a deferred constraint) leave the transaction open. Either way, nothing of
		 * it must count as stored.
		 */
		store_rollback(s);
		return ret;
	}
	return 0;
}

void store_rollback(struct store *s)
{
	if (!store_in_transaction(s))
		return;
	(void)stmt_run(s, s->rollback, "rollback");
}

/* ---- leases ---------------------------------------------------------------------------- */

int store_lease_put(struct store *s, const struct store_lease *l)
{
	if (!l || l->client_id_len > STORE_CLIENT_ID_MAX || !lease_state_valid(l->state))
		return -EINVAL;
	sqlite3_stmt *st = s->lease_put;
	size_t hlen = strnlen(l->hostname, STORE_HOSTNAME_MAX - 1);
	int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)l->ip);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 2, l->mac, sizeof(l->mac), SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = l->client_id_len ? sqlite3_bind_blob(st, 3, l->client_id, l->client_id_len,
							  SQLITE_STATIC)
				      : sqlite3_bind_null(st, 3);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, l->expires);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 5, (int)l->state);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 6, l->hostname, (int)hlen, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		sqlite3_clear_bindings(st);
		return sql_fail(s, "lease put: bind", rc);
	}
	return stmt_run(s, st, "lease put");
}

int store_lease_del(struct store *s, uint32_t ip)
{
	int rc = sqlite3_bind_int64(s->lease_del, 1, (sqlite3_int64)ip);
	if (rc != SQLITE_OK)
		return sql_fail(s, "lease del: bind", rc);
	return stmt_run(s, s->lease_del, "lease del");
}

/*
 * Turn the current row of lease_all into l. Returns NULL if the row is usable, else why not.
 * Nothing here trusts the file: types, lengths and ranges are all checked.
 */
static const char *lease_from_row(sqlite3_stmt *st, struct store_lease *l)
{
	memset(l, 0, sizeof(*l));

	if (sqlite3_column_type(st, 0) != SQLITE_INTEGER)
		return "ip is not an integer";
	sqlite3_int64 ip = sqlite3_column_int64(st, 0);
	if (ip < 0 || ip > (sqlite3_int64)UINT32_MAX)
		return "ip outside 32 bits";
	l->ip = (uint32_t)ip;

	if (sqlite3_column_type(st, 1) != SQLITE_BLOB)
		return "mac is not a blob";
	const void *mac = sqlite3_column_blob(st, 1);
	if (!mac || sqlite3_column_bytes(st, 1) != (int)sizeof(l->mac))
		return "mac is not 6 bytes";
	memcpy(l->mac, mac, sizeof(l->mac));

	switch (sqlite3_column_type(st, 2)) {
	case SQLITE_NULL:
		break;
	case SQLITE_BLOB: {
		const void *cid = sqlite3_column_blob(st, 2);
		int n = sqlite3_column_bytes(st, 2);
		if (n < 0 || n > STORE_CLIENT_ID_MAX)
			return "client id too long";
		if (n > 0) {
			if (!cid)
				return "client id unreadable";
			memcpy(l->client_id, cid, (size_t)n);
		}
		l->client_id_len = (uint8_t)n;
		break;
	}
	default:
		return "client id is not a blob";
	}

	if (sqlite3_column_type(st, 3) != SQLITE_INTEGER)
		return "expires is not an integer";
	l->expires = sqlite3_column_int64(st, 3);

	if (sqlite3_column_type(st, 4) != SQLITE_INTEGER)
		return "state is not an integer";
	sqlite3_int64 state = sqlite3_column_int64(st, 4);
	if (!lease_state_valid(state))
		return "unknown state";
	l->state = (enum store_lease_state)state;

	/* Stored as the caller gave it, but read back as untrusted bytes. */
	const unsigned char *h = sqlite3_column_text(st, 5);
	int hn = sqlite3_column_bytes(st, 5);
	copy_printable(l->hostname, sizeof(l->hostname), h ? h : (const unsigned char *)"",
		       h && hn > 0 ? (size_t)hn : 0);
	return NULL;
}

int store_lease_each(struct store *s, int (*fn)(void *arg, const struct store_lease *l), void *arg)
{
	if (s->iterating)
		return -EBUSY;
	s->iterating = true;

	sqlite3_stmt *st = s->lease_all;
	unsigned skipped = 0;
	sqlite3_int64 first_bad_ip = 0;
	const char *first_bad_why = NULL;
	int ret = 0, rc;
	struct store_lease l;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *why = lease_from_row(st, &l);
		if (why) {
			if (skipped++ == 0) {
				first_bad_ip = sqlite3_column_int64(st, 0);
				first_bad_why = why;
			}
			continue;
		}
		ret = fn(arg, &l);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = sql_fail(s, "lease scan", rc);
	sqlite3_reset(st);
	s->iterating = false;

	if (skipped)
		log_warn("store", "%s: skipped %u unreadable lease row(s) (first: rowid=%lld: %s)",
			 s->db_path, skipped, (long long)first_bad_ip, first_bad_why);
	return ret;
}

int store_lease_by_ip(struct store *s, uint32_t ip, struct store_lease *l)
{
	if (!l)
		return -EINVAL;
	sqlite3_stmt *st = s->lease_by_ip;
	int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)ip);
	if (rc != SQLITE_OK)
		return sql_fail(s, "lease by ip: bind", rc);
	int ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *why = lease_from_row(st, l);
		if (why) {
			log_warn("store", "%s: unreadable lease row ip=%u: %s", s->db_path, ip, why);
			memset(l, 0, sizeof(*l));
			ret = 0;
		} else {
			ret = 1;
		}
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = sql_fail(s, "lease by ip", rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

/* ---- one-shot next boot ---------------------------------------------------------------- */

/* A MAC -> entry table (nextboot, pins): the three statements and a name for errors. */
static int entry_set(struct store *s, sqlite3_stmt *st, const char *what, const uint8_t mac[6],
		     const char *entry)
{
	if (!mac || !entry)
		return -EINVAL;
	size_t n = strnlen(entry, STORE_NEXTBOOT_ENTRY_MAX);
	if (n == 0 || n >= STORE_NEXTBOOT_ENTRY_MAX || !is_printable(entry, n))
		return -EINVAL;
	int rc = sqlite3_bind_blob(st, 1, mac, 6, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, entry, (int)n, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, time_wall());
	if (rc != SQLITE_OK) {
		sqlite3_clear_bindings(st);
		return sql_fail(s, what, rc);
	}
	return stmt_run(s, st, what);
}

static int entry_get(struct store *s, sqlite3_stmt *st, const char *what, const uint8_t mac[6],
		     char *buf, size_t buflen)
{
	if (!mac || !buf || buflen == 0)
		return -EINVAL;
	buf[0] = '\0';
	int rc = sqlite3_bind_blob(st, 1, mac, 6, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return sql_fail(s, what, rc);

	int ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		/* Untrusted on the way back: printable bytes only, always terminated. */
		const unsigned char *v = sqlite3_column_text(st, 0);
		int n = sqlite3_column_bytes(st, 0);
		char tmp[STORE_NEXTBOOT_ENTRY_MAX];
		size_t len = copy_printable(tmp, sizeof(tmp), v ? v : (const unsigned char *)"",
					    v && n > 0 ? (size_t)n : 0);
		if (len == 0) {
			ret = 0; /* an empty entry names nothing */
		} else if (len >= buflen) {
			ret = -ENOSPC;
		} else {
			memcpy(buf, tmp, len + 1);
			ret = 1;
		}
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = sql_fail(s, what, rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

static int entry_clear(struct store *s, sqlite3_stmt *st, const char *what, const uint8_t mac[6])
{
	if (!mac)
		return -EINVAL;
	int rc = sqlite3_bind_blob(st, 1, mac, 6, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return sql_fail(s, what, rc);
	return stmt_run(s, st, what);
}

int store_nextboot_set(struct store *s, const uint8_t mac[6], const char *entry)
{
	return entry_set(s, s->nb_set, "nextboot set", mac, entry);
}

int store_nextboot_get(struct store *s, const uint8_t mac[6], char *buf, size_t buflen)
{
	return entry_get(s, s->nb_get, "nextboot get", mac, buf, buflen);
}

int store_nextboot_clear(struct store *s, const uint8_t mac[6])
{
	return entry_clear(s, s->nb_clear, "nextboot clear", mac);
}

/* ---- permanent entry (pin) ------------------------------------------------------------- */

int store_pin_set(struct store *s, const uint8_t mac[6], const char *entry)
{
	return entry_set(s, s->pin_set, "pin set", mac, entry);
}

int store_pin_get(struct store *s, const uint8_t mac[6], char *buf, size_t buflen)
{
	return entry_get(s, s->pin_get, "pin get", mac, buf, buflen);
}

int store_pin_clear(struct store *s, const uint8_t mac[6])
{
	return entry_clear(s, s->pin_clear, "pin clear", mac);
}

/* ---- client records -------------------------------------------------------------------- */

int store_client_put(struct store *s, const struct store_client *c)
{
	if (!c || !c->data || c->data_len == 0 || c->data_len > STORE_CLIENT_DATA_MAX)
		return -EINVAL;
	sqlite3_stmt *st = s->cl_put;
	int rc = sqlite3_bind_blob(st, 1, c->mac, sizeof(c->mac), SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, c->first_seen_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, c->last_seen_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 4, c->data, (int)c->data_len, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		sqlite3_clear_bindings(st);
		return sql_fail(s, "client put: bind", rc);
	}
	return stmt_run(s, st, "client put");
}

/* The current row of cl_get/cl_all into c (data pointing into the statement). NULL if
 * usable, else why not: the file is not trusted. */
static const char *client_from_row(sqlite3_stmt *st, struct store_client *c)
{
	memset(c, 0, sizeof(*c));
	if (sqlite3_column_type(st, 0) != SQLITE_BLOB)
		return "mac is not a blob";
	const void *mac = sqlite3_column_blob(st, 0);
	if (!mac || sqlite3_column_bytes(st, 0) != (int)sizeof(c->mac))
		return "mac is not 6 bytes";
	memcpy(c->mac, mac, sizeof(c->mac));
	if (sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
	    sqlite3_column_type(st, 2) != SQLITE_INTEGER)
		return "seen times are not integers";
	c->first_seen_ms = sqlite3_column_int64(st, 1);
	c->last_seen_ms = sqlite3_column_int64(st, 2);
	if (sqlite3_column_type(st, 3) != SQLITE_BLOB)
		return "data is not a blob";
	const void *d = sqlite3_column_blob(st, 3);
	int n = sqlite3_column_bytes(st, 3);
	if (!d || n <= 0 || n > STORE_CLIENT_DATA_MAX)
		return "data empty or too long";
	c->data = d;
	c->data_len = (size_t)n;
	return NULL;
}

int store_client_get(struct store *s, const uint8_t mac[6], struct store_client *c, uint8_t *buf,
		     size_t buflen)
{
	if (!mac || !c || !buf)
		return -EINVAL;
	sqlite3_stmt *st = s->cl_get;
	int rc = sqlite3_bind_blob(st, 1, mac, 6, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return sql_fail(s, "client get: bind", rc);
	int ret;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *why = client_from_row(st, c);
		if (why) {
			char m[MAC_STRLEN];
			log_warn("store", "%s: unreadable client row mac=%s: %s", s->db_path,
				 fmt_mac(m, mac), why);
			memset(c, 0, sizeof(*c));
			ret = 0;
		} else if (c->data_len > buflen) {
			memset(c, 0, sizeof(*c));
			ret = -ENOSPC;
		} else {
			memcpy(buf, c->data, c->data_len);
			c->data = buf;
			ret = 1;
		}
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = sql_fail(s, "client get", rc);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

int store_client_each(struct store *s, int (*fn)(void *arg, const struct store_client *c),
		      void *arg)
{
	if (s->client_iterating)
		return -EBUSY;
	s->client_iterating = true;
	sqlite3_stmt *st = s->cl_all;
	unsigned skipped = 0;
	const char *first_bad_why = NULL;
	int ret = 0, rc;
	struct store_client c;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *why = client_from_row(st, &c);
		if (why) {
			if (skipped++ == 0)
				first_bad_why = why;
			continue;
		}
		ret = fn(arg, &c);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = sql_fail(s, "client scan", rc);
	sqlite3_reset(st);
	s->client_iterating = false;
	if (skipped)
		log_warn("store", "%s: skipped %u unreadable client row(s) (first: %s)", s->db_path,
			 skipped, first_bad_why);
	return ret;
}

int store_client_del(struct store *s, const uint8_t mac[6])
{
	if (!mac)
		return -EINVAL;
	int rc = sqlite3_bind_blob(s->cl_del, 1, mac, 6, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return sql_fail(s, "client del: bind", rc);
	return stmt_run(s, s->cl_del, "client del");
}

int store_client_prune(struct store *s, size_t keep)
{
	int rc = sqlite3_bind_int64(s->cl_prune, 1,
				    (sqlite3_int64)MIN(keep, (size_t)INT64_MAX));
	if (rc != SQLITE_OK)
		return sql_fail(s, "client prune: bind", rc);
	int ret = stmt_run(s, s->cl_prune, "client prune");
	return ret < 0 ? ret : sqlite3_changes(s->db);
}
