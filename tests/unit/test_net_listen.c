/*
 * Unit tests for net/listen: the listening-set plan (table-driven, one row per case: per
 * address, per interface, wildcard, caps) and the open-all loop with fake open/close
 * callbacks (optional failures skipped, a required failure unwinds newest first).
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "core/log.h"
#include "net/net_listen.h"

#define V4  AF_INET
#define V6  AF_INET6
#define REQ false
#define OPT true

struct want {
	int family;
	uint32_t addr4;
	const char *ifname;
	bool optional;
};

struct plan_row {
	const char *name;
	uint32_t addrs[4];
	size_t naddrs;
	const char *ifs[4];
	size_t nifs;
	size_t cap;
	size_t n;
	struct want want[8];
};

/* clang-format off */
static const struct plan_row plan_rows[] = {
    /* name, addrs, naddrs, ifs, nifs, cap, n, want */
    {"addresses_give_one_ipv4_socket_each_and_no_interface",
     {0x0a000001, 0x0a000002}, 2, {"eth0", "eth1"}, 2, 8, 2,
     {{V4, 0x0a000001, "", REQ}, {V4, 0x0a000002, "", REQ}}},
    {"addresses_are_capped", {1, 2, 3}, 3, {0}, 0, 2, 2,
     {{V4, 1, "", REQ}, {V4, 2, "", REQ}}},
    {"interfaces_give_required_ipv4_and_optional_ipv6_each", {0}, 0, {"eth0", "eth1"}, 2, 8, 4,
     {{V4, 0, "eth0", REQ}, {V6, 0, "eth0", OPT}, {V4, 0, "eth1", REQ}, {V6, 0, "eth1", OPT}}},
    {"interface_pair_is_never_split_by_the_cap", {0}, 0, {"eth0", "eth1"}, 2, 3, 2,
     {{V4, 0, "eth0", REQ}, {V6, 0, "eth0", OPT}}},
    {"nothing_configured_gives_the_wildcards", {0}, 0, {0}, 0, 8, 2,
     {{V4, 0, "", REQ}, {V6, 0, "", OPT}}},
    {"wildcards_need_room_for_both", {0}, 0, {0}, 0, 1, 0, {{0}}},
    {"zero_cap_gives_nothing", {7}, 1, {"eth0"}, 1, 0, 0, {{0}}},
};
/* clang-format on */

static void test_plan(void **state)
{
	const struct plan_row *r = *state;
	struct net_iface ifs[4];
	memset(ifs, 0, sizeof(ifs));
	for (size_t i = 0; i < r->nifs; i++)
		snprintf(ifs[i].name, sizeof(ifs[i].name), "%s", r->ifs[i]);
	struct net_listen_spec out[8];
	memset(out, 0xa5, sizeof(out));
	size_t n = net_listen_plan(r->addrs, r->naddrs, ifs, r->nifs, out, r->cap);
	assert_int_equal(n, r->n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(out[i].family, r->want[i].family);
		assert_int_equal(out[i].addr4, r->want[i].addr4);
		assert_string_equal(out[i].ifname, r->want[i].ifname);
		assert_int_equal(out[i].optional, r->want[i].optional);
	}
	/* nothing written past the cap */
	if (r->cap < 8) {
		const unsigned char *p = (const unsigned char *)&out[r->cap];
		for (size_t i = 0; i < sizeof(out[0]); i++)
			assert_int_equal(p[i], 0xa5);
	}
}

/* ---- open-all with fake callbacks ---- */

struct fake {
	int fail_at[4]; /* spec indexes (1-based) whose open fails; 0 ends */
	int opened;     /* open calls so far */
	int live;       /* objects not closed */
	int objs[8];
	int closed[8]; /* object numbers in close order */
	int nclosed;
};

static void *fake_open(void *arg, const struct net_listen_spec *sp, char *err, size_t errlen)
{
	struct fake *f = arg;
	int k = ++f->opened;
	for (int i = 0; i < 4 && f->fail_at[i]; i++)
		if (f->fail_at[i] == k) {
			snprintf(err, errlen, "fake: cannot listen on #%d (family %d)", k,
				 sp->family);
			return NULL;
		}
	f->live++;
	f->objs[k - 1] = k;
	return &f->objs[k - 1];
}

static void fake_close(void *arg, void *obj)
{
	struct fake *f = arg;
	f->live--;
	f->closed[f->nclosed++] = *(int *)obj;
}

struct open_row {
	const char *name;
	int fail_at[4];
	int ret;
	size_t nout;
	int got[4];    /* object numbers in out[] */
	int closed[4]; /* object numbers closed, in order */
	const char *err;
};

/* the set: eth0 v4 (1), eth0 v6 (2, optional), eth1 v4 (3), eth1 v6 (4, optional) */
static const struct open_row open_rows[] = {
    {"all_open", {0}, 0, 4, {1, 2, 3, 4}, {0}, ""},
    {"optional_failures_are_skipped", {2, 4}, 0, 2, {1, 3}, {0}, ""},
    {"required_failure_unwinds_newest_first",
     {3},
     -EADDRNOTAVAIL,
     0,
     {0},
     {2, 1},
     "fake: cannot listen on #3"},
    {"required_failure_after_a_skipped_optional_unwinds_the_rest",
     {2, 3},
     -EADDRNOTAVAIL,
     0,
     {0},
     {1},
     "fake: cannot listen on #3"},
    {"first_required_failure_closes_nothing",
     {1},
     -EADDRNOTAVAIL,
     0,
     {0},
     {0},
     "fake: cannot listen on #1"},
};

static void test_open(void **state)
{
	const struct open_row *r = *state;
	struct net_iface ifs[2];
	memset(ifs, 0, sizeof(ifs));
	snprintf(ifs[0].name, sizeof(ifs[0].name), "eth0");
	snprintf(ifs[1].name, sizeof(ifs[1].name), "eth1");
	struct net_listen_spec sp[4];
	size_t n = net_listen_plan(NULL, 0, ifs, 2, sp, 4);
	assert_int_equal(n, 4);
	struct fake f;
	memset(&f, 0, sizeof(f));
	memcpy(f.fail_at, r->fail_at, sizeof(f.fail_at));
	void *out[4];
	size_t nout = 99;
	char err[128] = "";
	int ret = net_listen_open(sp, n, fake_open, fake_close, &f, out, &nout, "test",
				  LOG_LVL_DEBUG, err, sizeof(err));
	assert_int_equal(ret, r->ret);
	assert_int_equal(nout, r->nout);
	for (size_t i = 0; i < nout; i++)
		assert_int_equal(*(int *)out[i], r->got[i]);
	assert_int_equal(f.live, (int)nout);
	for (int i = 0; i < f.nclosed; i++)
		assert_int_equal(f.closed[i], r->closed[i]);
	assert_int_equal(f.nclosed < 4 ? r->closed[f.nclosed] : 0, 0);
	assert_non_null(strstr(err, r->err));
	if (!r->err[0])
		assert_string_equal(err, "");
}

int main(void)
{
	static struct CMUnitTest tests[32];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(plan_rows) / sizeof(plan_rows[0]); i++)
		tests[n++] = (struct CMUnitTest){plan_rows[i].name, test_plan, NULL, NULL,
						 (void *)&plan_rows[i]};
	for (size_t i = 0; i < sizeof(open_rows) / sizeof(open_rows[0]); i++)
		tests[n++] = (struct CMUnitTest){open_rows[i].name, test_open, NULL, NULL,
						 (void *)&open_rows[i]};
	log_set_level(LOG_LVL_ERR);
	return _cmocka_run_group_tests("net_listen", tests, n, NULL, NULL);
}
