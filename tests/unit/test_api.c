/*
 * test_api — unit tests for the pure parts of the JSON API (api_proto.h).
 *
 * Covers, table-driven: route matching (every documented route, HEAD on GET routes, 404
 * vs 405 with Allow, trailing slash, over-long segments), path MACs, request bodies for
 * every write route (valid, unknown key, duplicate key, wrong type, bad form, too deep,
 * too big, trailing bytes, not an object, NUL), the JSON depth scan, Host and Origin checks,
 * the Cookie reader, the login throttle (free attempts, exponential wait, cap, forgetting,
 * reset on success, the global counter), SSE framing (CR/LF/CRLF split, no event name,
 * buffer too small, CR in the event name), the magic packet, hosts.conf rendering (add,
 * skip, only from_state hosts, values that could break a line refused), log-line splitting,
 * the password hash round trip.
 * Does not cover: handlers, sessions and files (tests/system/test_api.py).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "api/api.h"
#include "api/api_proto.h"
#include "core/util.h"

/* ---- routes ---------------------------------------------------------------------------- */

static void test_route_table_matches_its_own_patterns_and_methods(void **state)
{
	(void)state;
	size_t n;
	const struct api_route *rt = api_routes(&n);
	assert_true(n >= 26);
	for (size_t i = 0; i < n; i++) {
		char path[160];
		/* put a sample argument where the pattern has one */
		const char *b = strchr(rt[i].pattern, '{');
		if (b)
			snprintf(path, sizeof(path), "%.*s%s%s", (int)(b - rt[i].pattern),
				 rt[i].pattern, "52:54:00:00:00:01", strchr(b, '}') + 1);
		else
			snprintf(path, sizeof(path), "%s", rt[i].pattern);
		struct api_match m;
		char allow[96];
		assert_int_equal(api_route_match(rt[i].method, path, &m, allow, sizeof(allow)), 0);
		assert_ptr_equal(m.route, &rt[i]);
		assert_string_equal(m.arg, b ? "52:54:00:00:00:01" : "");
	}
}

static const struct {
	const char *method, *path;
	int want; /* 0, -ENOENT, -EPERM */
	int id;   /* route when 0 */
	const char *arg, *allow;
} route_rows[] = {
    {"GET", "/api/v1/status", 0, API_R_STATUS, "", NULL},
    {"HEAD", "/api/v1/status", 0, API_R_STATUS, "", NULL},
    {"GET", "/api/v1/status/", 0, API_R_STATUS, "", NULL},
    {"POST", "/api/v1/status", -EPERM, 0, NULL, "GET, HEAD"},
    {"GET", "/api/v1/statusx", -ENOENT, 0, NULL, NULL},
    {"GET", "/api/v1/clients", 0, API_R_CLIENTS, "", NULL},
    {"GET", "/api/v1/clients/aabbccddeeff", 0, API_R_CLIENT, "aabbccddeeff", NULL},
    {"PUT", "/api/v1/clients/aabbccddeeff/next-boot", 0, API_R_NEXTBOOT_PUT, "aabbccddeeff", NULL},
    {"DELETE", "/api/v1/clients/aa/next-boot", 0, API_R_NEXTBOOT_DEL, "aa", NULL},
    {"GET", "/api/v1/clients/aa/next-boot", -EPERM, 0, NULL, "PUT, DELETE"},
    {"POST", "/api/v1/clients/aa/wake", 0, API_R_WAKE, "aa", NULL},
    {"POST", "/api/v1/clients//wake", -ENOENT, 0, NULL, NULL},
    {"POST", "/api/v1/hosts", 0, API_R_HOST_ADD, "", NULL},
    {"GET", "/api/v1/hosts", 0, API_R_HOSTS, "", NULL},
    {"DELETE", "/api/v1/hosts", -EPERM, 0, NULL, "GET, HEAD, POST"},
    {"DELETE", "/api/v1/hosts/station-01", 0, API_R_HOST_DEL, "station-01", NULL},
    {"DELETE", "/api/v1/leases/10.0.0.5", 0, API_R_LEASE_DEL, "10.0.0.5", NULL},
    {"GET", "/api/v1/catalog/preview", 0, API_R_PREVIEW, "", NULL},
    {"GET", "/metrics", 0, API_R_METRICS, "", NULL},
    {"GET", "/metricsx", -ENOENT, 0, NULL, NULL},
    {"PATCH", "/api/v1/login", -EPERM, 0, NULL, "POST"},
    {"GET", "/api/v1/", -ENOENT, 0, NULL, NULL},
    {"GET", "/api/v1/clients/aa/bb", -ENOENT, 0, NULL, NULL},
};

static void test_route_match_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(route_rows); i++) {
		struct api_match m;
		char allow[96];
		int r = api_route_match(route_rows[i].method, route_rows[i].path, &m, allow,
					sizeof(allow));
		if (r != route_rows[i].want)
			fail_msg("row %zu: %s %s -> %d", i, route_rows[i].method,
				 route_rows[i].path, r);
		if (r == 0) {
			assert_int_equal(m.route->id, route_rows[i].id);
			assert_string_equal(m.arg, route_rows[i].arg);
		}
		if (r == -EPERM)
			assert_string_equal(allow, route_rows[i].allow);
	}
}

static void test_route_argument_longer_than_its_buffer_is_not_found(void **state)
{
	(void)state;
	char path[400];
	memset(path, 0, sizeof(path));
	strcpy(path, "/api/v1/hosts/");
	memset(path + strlen(path), 'a', API_ARG_LEN);
	struct api_match m;
	assert_int_equal(api_route_match("DELETE", path, &m, NULL, 0), -ENOENT);
}

static void test_state_changing_methods(void **state)
{
	(void)state;
	assert_false(api_method_changes_state("GET"));
	assert_false(api_method_changes_state("HEAD"));
	assert_false(api_method_changes_state("OPTIONS"));
	assert_true(api_method_changes_state("POST"));
	assert_true(api_method_changes_state("PUT"));
	assert_true(api_method_changes_state("DELETE"));
	assert_true(api_method_changes_state("PATCH"));
}

static const struct {
	const char *s;
	int ok;
} mac_rows[] = {
    {"52:54:00:12:34:56", 1}, {"52-54-00-12-34-56", 1}, {"525400123456", 1},
    {"AABBCCDDEEFF", 1},      {"52:54:00:12:34", 0},    {"52540012345", 0},
    {"5254001234567", 0},     {"zz5400123456", 0},      {"", 0},
};

static void test_path_mac_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(mac_rows); i++) {
		uint8_t mac[6];
		int r = api_parse_path_mac(mac_rows[i].s, mac);
		if ((r == 0) != mac_rows[i].ok)
			fail_msg("row %zu: %s -> %d", i, mac_rows[i].s, r);
		if (r == 0)
			assert_int_equal(mac[0], mac_rows[i].s[0] == 'A' ? 0xaa : 0x52);
	}
}

/* ---- bodies ---------------------------------------------------------------------------- */

enum which { B_LOGIN, B_ENTRY, B_HOST, B_TOKEN };

static const struct {
	enum which w;
	const char *body;
	int want;
	const char *err_has; /* substring of the error when it fails */
} body_rows[] = {
    {B_LOGIN, "{\"password\":\"hunter2\"}", 0, NULL},
    {B_LOGIN, " {\"password\" : \"p\"}\n", 0, NULL},
    {B_LOGIN, "{\"password\":\"\"}", -EINVAL, "\"password\""},
    {B_LOGIN, "{}", -EINVAL, "required"},
    {B_LOGIN, "", -EINVAL, "empty"},
    {B_LOGIN, "{\"password\":\"a\",\"user\":\"root\"}", -EINVAL, "unknown key \"user\""},
    {B_LOGIN, "{\"password\":1}", -EINVAL, "must be a string"},
    {B_LOGIN, "[\"password\"]", -EINVAL, "JSON object"},
    {B_LOGIN, "{\"password\":\"a\"} x", -EINVAL, "after its JSON"},
    {B_LOGIN, "{\"password\":\"a\"", -EINVAL, "not valid JSON"},
    {B_ENTRY, "{\"entry\":\"debian\"}", 0, NULL},
    {B_ENTRY, "{\"entry\":\"debian-12.iso\"}", 0, NULL},
    {B_ENTRY, "{\"entry\":\"a\",\"entry\":\"b\"}", -EINVAL, "twice"},
    {B_ENTRY, "{\"entry\":\"has space\"}", -EINVAL, "catalog entry"},
    {B_ENTRY, "{\"entry\":null}", -EINVAL, "must be a string"},
    {B_ENTRY, "{\"Entry\":\"debian\"}", -EINVAL, "accepted keys: entry"},
    {B_ENTRY, "{\"entry\":\"debian\",\"x\":[[[[[[[[1]]]]]]]]}", -EINVAL, "deeper than 8"},
    {B_ENTRY, "{\"entry\":\"d\",\"x\":[[[[[[1]]]]]]}", -EINVAL, "unknown key \"x\""},
    {B_HOST, "{\"name\":\"st-01\",\"mac\":\"52:54:00:12:34:56\"}", 0, NULL},
    {B_HOST,
     "{\"name\":\"st-01\",\"mac\":\"52:54:00:12:34:56\",\"ip\":\"10.0.0.9\",\"hostname\":"
     "\"st1.lan\",\"boot\":\"debian\"}",
     0, NULL},
    {B_HOST, "{\"name\":\"st-01\",\"mac\":\"52:54:00:12:34:56\",\"ip\":null}", 0, NULL},
    {B_HOST, "{\"name\":\"st 01\",\"mac\":\"52:54:00:12:34:56\"}", -EINVAL, "\"name\""},
    {B_HOST, "{\"name\":\"x]\\n[server\",\"mac\":\"52:54:00:12:34:56\"}", -EINVAL, "\"name\""},
    {B_HOST, "{\"name\":\"st\",\"mac\":\"52:54:00:12:34\"}", -EINVAL, "\"mac\""},
    {B_HOST, "{\"name\":\"st\",\"mac\":\"52:54:00:12:34:56\",\"ip\":\"10.0.0\"}", -EINVAL,
     "\"ip\""},
    {B_HOST, "{\"name\":\"st\",\"mac\":\"52:54:00:12:34:56\",\"hostname\":\"a_b\"}", -EINVAL,
     "\"hostname\""},
    {B_HOST, "{\"name\":\"st\",\"mac\":\"52:54:00:12:34:56\",\"boot\":\"a;b\"}", -EINVAL,
     "\"boot\""},
    {B_HOST, "{\"name\":\"st\"}", -EINVAL, "\"mac\" is required"},
    {B_TOKEN, "{\"name\":\"ci\"}", 0, NULL},
    {B_TOKEN, "{\"name\":\"\"}", -EINVAL, "\"name\""},
    {B_TOKEN, "{\"name\":\"ci\",\"scope\":\"all\"}", -EINVAL, "unknown key"},
};

static int parse_which(enum which w, const char *body, size_t len, char *err, size_t errlen)
{
	struct api_body_login l;
	struct api_body_entry e;
	struct api_body_host h;
	struct api_body_token t;
	switch (w) {
	case B_LOGIN: return api_parse_login(body, len, &l, err, errlen);
	case B_ENTRY: return api_parse_entry(body, len, &e, err, errlen);
	case B_HOST: return api_parse_host(body, len, &h, err, errlen);
	case B_TOKEN: return api_parse_token(body, len, &t, err, errlen);
	}
	return -1;
}

static void test_body_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(body_rows); i++) {
		char err[256] = "";
		int r = parse_which(body_rows[i].w, body_rows[i].body, strlen(body_rows[i].body),
				    err, sizeof(err));
		if (r != body_rows[i].want)
			fail_msg("row %zu: %s -> %d (%s)", i, body_rows[i].body, r, err);
		if (r < 0 && !strstr(err, body_rows[i].err_has))
			fail_msg("row %zu: error \"%s\" lacks \"%s\"", i, err,
				 body_rows[i].err_has);
	}
}

static void test_host_body_fields_are_filled(void **state)
{
	(void)state;
	const char *b = "{\"name\":\"st-01\",\"mac\":\"52-54-00-12-34-56\",\"ip\":\"10.0.0.9\","
			"\"hostname\":\"st1\",\"boot\":\"debian\"}";
	struct api_body_host h;
	char err[128];
	assert_int_equal(api_parse_host(b, strlen(b), &h, err, sizeof(err)), 0);
	assert_string_equal(h.name, "st-01");
	assert_int_equal(h.mac[5], 0x56);
	assert_true(h.has_ip);
	assert_int_equal(h.ip, 0x0a000009u);
	assert_string_equal(h.hostname, "st1");
	assert_string_equal(h.boot, "debian");
}

static void test_body_over_64k_is_efbig_and_nul_is_refused(void **state)
{
	(void)state;
	size_t n = API_BODY_MAX + 1;
	char *big = malloc(n);
	memset(big, ' ', n);
	char err[128];
	struct api_body_entry e;
	assert_int_equal(api_parse_entry(big, n, &e, err, sizeof(err)), -EFBIG);
	assert_int_equal(api_parse_entry(big, API_BODY_MAX, &e, err, sizeof(err)), -EINVAL);
	free(big);
	const char nul[] = "{\"entry\":\"a\0b\"}";
	assert_int_equal(api_parse_entry(nul, sizeof(nul) - 1, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "NUL"));
}

static const struct {
	const char *text;
	int want;
} depth_rows[] = {
    {"{}", 1},
    {"[[[]]]", 3},
    {"{\"a\":\"[[[[[[[[[[\"}", 1},
    {"{\"a\":\"\\\"[[[[[[[[[\"}", 1},
    {"[[[[[[[[]]]]]]]]", 8},
    {"[[[[[[[[[]]]]]]]]]", -EINVAL},
    {"1", 0},
};

static void test_json_depth_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(depth_rows); i++)
		assert_int_equal(api_json_depth(depth_rows[i].text, strlen(depth_rows[i].text), 8),
				 depth_rows[i].want);
}

/* ---- Host, Origin, Cookie -------------------------------------------------------------- */

static const struct {
	const char *host;
	bool ok;
} host_rows[] = {
    {"10.77.0.1", true},
    {"10.77.0.1:8080", true},
    {"localhost", true},
    {"LOCALHOST:80", true},
    {"127.0.0.1:80", true},
    {"[::1]:8080", true},
    {"pixied.lan", true},
    {"Pixied.LAN.", true},
    {"boot.example.org:443", true},
    {"[fe80::1]", true},
    {"evil.example", false},
    {"pixied.lan.evil.example", false},
    {"10.77.0.2", false},
    {"10.77.0.1:", false},
    {"10.77.0.1:80:80", false},
    {"10.77.0.1:123456", false},
    {"", false},
    {"[::1", false},
    {"[::1]x", false},
    {NULL, false},
};

static void test_host_rows(void **state)
{
	(void)state;
	uint32_t addrs[] = {0x0a4d0001u};
	struct api_host_policy p = {addrs, 1, "pixied.lan, boot.example.org. [fe80::1]"};
	for (size_t i = 0; i < ARRAY_SIZE(host_rows); i++)
		if (api_host_ok(host_rows[i].host, &p) != host_rows[i].ok)
			fail_msg("row %zu: %s", i, host_rows[i].host ? host_rows[i].host : "NULL");
}

static const struct {
	const char *origin, *host;
	bool ok;
} origin_rows[] = {
    {"http://10.77.0.1", "10.77.0.1", true},
    {"https://10.77.0.1:8443", "10.77.0.1:8443", true},
    {"HTTP://Pixied.lan", "pixied.lan", true},
    {"http://10.77.0.1:81", "10.77.0.1", false},
    {"http://evil.example", "10.77.0.1", false},
    {"null", "10.77.0.1", false},
    {"http://10.77.0.1/", "10.77.0.1", false},
    {"ftp://10.77.0.1", "10.77.0.1", false},
    {NULL, "10.77.0.1", false},
    {"http://", "", false},
};

static void test_origin_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(origin_rows); i++)
		if (api_origin_ok(origin_rows[i].origin, origin_rows[i].host) != origin_rows[i].ok)
			fail_msg("row %zu", i);
}

static const struct {
	const char *hdr;
	int want;
	const char *val;
} cookie_rows[] = {
    {"pixied_session=abc", 0, "abc"},
    {"a=1; pixied_session=abc; b=2", 0, "abc"},
    {"a=1;pixied_session=abc ", 0, "abc"},
    {"xpixied_session=abc", -ENOENT, NULL},
    {"pixied_sessionx=abc", -ENOENT, NULL},
    {"pixied_session", -ENOENT, NULL},
    {"pixied_session=", 0, ""},
    {"", -ENOENT, NULL},
    {NULL, -ENOENT, NULL},
    {"pixied_session=0123456789abcdef0123456789abcdef", -ENOSPC, NULL},
};

static void test_cookie_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cookie_rows); i++) {
		char out[16];
		int r = api_cookie_get(cookie_rows[i].hdr, "pixied_session", out, sizeof(out));
		if (r != cookie_rows[i].want)
			fail_msg("row %zu: %d", i, r);
		if (r == 0)
			assert_string_equal(out, cookie_rows[i].val);
	}
}

/* ---- throttle -------------------------------------------------------------------------- */

static void test_throttle_per_address_is_exponential_capped_and_forgotten(void **state)
{
	(void)state;
	static struct api_throttle t;
	memset(&t, 0, sizeof(t));
	uint8_t k1[16] = {1}, k2[16] = {2};
	uint64_t now = 1000000;
	for (int i = 0; i < API_THROTTLE_FREE; i++) {
		assert_int_equal(api_throttle_wait(&t, k1, now), 0);
		api_throttle_fail(&t, k1, now);
	}
	assert_int_equal(api_throttle_wait(&t, k1, now), 1000);
	assert_int_equal(api_throttle_wait(&t, k2, now), 0); /* other addresses are not held */
	assert_int_equal(api_throttle_wait(&t, k1, now + 400), 600);
	api_throttle_fail(&t, k1, now + 1000);
	assert_int_equal(api_throttle_wait(&t, k1, now + 1000), 2000);
	for (int i = 0; i < 20; i++) /* 26 failures: still under the global allowance */
		api_throttle_fail(&t, k1, now + 2000);
	assert_int_equal(api_throttle_wait(&t, k1, now + 2000), API_THROTTLE_MAX_MS);
	assert_int_equal(api_throttle_wait(&t, k1, now + 2000 + API_THROTTLE_FORGET_MS), 0);
	api_throttle_ok(&t, k1);
	assert_int_equal(api_throttle_wait(&t, k1, now + 3000), 0);
}

static void test_throttle_global_counter_holds_every_address(void **state)
{
	(void)state;
	static struct api_throttle t;
	memset(&t, 0, sizeof(t));
	uint64_t now = 5000;
	for (int i = 0; i < API_THROTTLE_GLOBAL_FREE; i++) {
		uint8_t k[16] = {0};
		k[0] = (uint8_t)i;
		k[1] = 9;
		api_throttle_fail(&t, k, now);
	}
	uint8_t fresh[16] = {0xee};
	assert_int_equal(api_throttle_wait(&t, fresh, now), 1000);
	for (int i = 0; i < 40; i++)
		api_throttle_fail(&t, fresh, now);
	assert_true(api_throttle_wait(&t, (uint8_t[16]){0x77}, now) <= API_THROTTLE_GLOBAL_MAX_MS);
	assert_int_equal(api_throttle_wait(&t, (uint8_t[16]){0x77}, now),
			 API_THROTTLE_GLOBAL_MAX_MS);
}

static void test_throttle_table_full_reuses_oldest_slot(void **state)
{
	(void)state;
	static struct api_throttle t;
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < API_THROTTLE_SLOTS + 10; i++) {
		uint8_t k[16] = {0};
		k[0] = (uint8_t)i;
		k[1] = (uint8_t)(i >> 8);
		api_throttle_fail(&t, k, (uint64_t)i + 1);
	}
	size_t used = 0;
	for (size_t i = 0; i < API_THROTTLE_SLOTS; i++)
		used += t.slot[i].used;
	assert_int_equal(used, API_THROTTLE_SLOTS);
}

/* ---- SSE -------------------------------------------------------------------------------- */

static const struct {
	const char *event;
	const char *data;
	const char *want;
} sse_rows[] = {
    {"client", "{\"a\":1}", "event: client\nid: 7\ndata: {\"a\":1}\n\n"},
    {NULL, "x", "id: 7\ndata: x\n\n"},
    {"e", "a\nb", "event: e\nid: 7\ndata: a\ndata: b\n\n"},
    {"e", "a\r\nb\rc", "event: e\nid: 7\ndata: a\ndata: b\ndata: c\n\n"},
    {"e", "a\n", "event: e\nid: 7\ndata: a\ndata: \n\n"},
    {"e", "", "event: e\nid: 7\ndata: \n\n"},
};

static void test_sse_frame_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sse_rows); i++) {
		char buf[256];
		int n = api_sse_frame(buf, sizeof(buf), sse_rows[i].event, 7, sse_rows[i].data,
				      strlen(sse_rows[i].data));
		assert_int_equal(n, (int)strlen(sse_rows[i].want));
		assert_string_equal(buf, sse_rows[i].want);
	}
}

static void test_sse_frame_refuses_newline_in_event_and_small_buffers(void **state)
{
	(void)state;
	char buf[16];
	assert_int_equal(api_sse_frame(buf, sizeof(buf), "a\nb", 1, "x", 1), -EINVAL);
	assert_int_equal(api_sse_frame(buf, sizeof(buf), "client", 1, "0123456789", 10), -ENOSPC);
	assert_string_equal(buf, "");
	/* exactly fitting: "id: 1\ndata: x\n\n" is 15 bytes + NUL */
	assert_int_equal(api_sse_frame(buf, sizeof(buf), NULL, 1, "x", 1), 15);
}

/* ---- Wake-on-LAN ------------------------------------------------------------------------ */

static void test_magic_packet_is_ff_then_mac_16_times(void **state)
{
	(void)state;
	const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
	uint8_t pkt[API_WOL_LEN + 4];
	assert_int_equal(api_wol_packet(pkt, sizeof(pkt), mac), API_WOL_LEN);
	for (int i = 0; i < 6; i++)
		assert_int_equal(pkt[i], 0xff);
	for (int i = 0; i < 16; i++)
		assert_memory_equal(pkt + 6 + 6 * i, mac, 6);
	assert_int_equal(api_wol_packet(pkt, API_WOL_LEN - 1, mac), -ENOSPC);
}

/* ---- hosts.conf ------------------------------------------------------------------------- */

static void test_hosts_render_keeps_api_hosts_adds_and_skips(void **state)
{
	(void)state;
	struct conf_host list[3] = {
	    {.name = "cfg", .mac = {1, 2, 3, 4, 5, 6}, .from_state = false},
	    {.name = "old",
	     .mac = {0x52, 0x54, 0, 0, 0, 1},
	     .has_ip = true,
	     .ip = 0x0a4d0032u,
	     .from_state = true},
	    {.name = "gone", .mac = {0x52, 0x54, 0, 0, 0, 2}, .boot = "debian", .from_state = true},
	};
	struct conf_host add = {.name = "new",
				.mac = {0x52, 0x54, 0, 0, 0, 3},
				.hostname = "new-box",
				.boot = "rescue"};
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(api_hosts_render(list, 3, &add, "gone", &out, &len), 0);
	assert_int_equal(strlen(out), len);
	assert_null(strstr(out, "[host cfg]"));
	assert_null(strstr(out, "[host gone]"));
	assert_non_null(strstr(out, "[host old]\nmac = 52:54:00:00:00:01\nip = 10.77.0.50\n\n"));
	assert_non_null(strstr(out, "[host new]\nmac = 52:54:00:00:00:03\nhostname = new-box\n"
				    "boot = rescue\n\n"));
	free(out);
	struct conf_host bad = {.name = "x]\n[server", .mac = {1}};
	assert_int_equal(api_hosts_render(NULL, 0, &bad, NULL, &out, &len), -EINVAL);
	struct conf_host bad2 = {.name = "ok", .hostname = "a;b", .mac = {1}};
	assert_int_equal(api_hosts_render(NULL, 0, &bad2, NULL, &out, &len), -EINVAL);
}

/* ---- log lines ------------------------------------------------------------------------- */

static void test_log_split_rows(void **state)
{
	(void)state;
	struct api_log_fields f;
	api_log_split("2026-11-21T21:50:01.123Z info dhcp: offer mac=52:54:00:00:00:01", &f);
	assert_int_equal(f.time_ms, 1795297801123LL);
	assert_string_equal(f.module, "dhcp");
	assert_string_equal(f.message, "offer mac=52:54:00:00:00:01");
	api_log_split("1970-01-01T00:00:00.000Z warn x: y", &f);
	assert_int_equal(f.time_ms, 0);
	assert_string_equal(f.module, "x");
	assert_string_equal(f.message, "y");
	const char *odd[] = {"", "free text", "2026-11-21T21:50:01Z info dhcp: old format",
			     "2026-13-21T21:50:01.123Z info dhcp: bad month",
			     "2026-11-21T21:50:01.123Z info nomodule"};
	for (size_t i = 0; i < ARRAY_SIZE(odd); i++) {
		api_log_split(odd[i], &f);
		assert_int_equal(f.time_ms, 0);
		assert_string_equal(f.module, "");
		assert_ptr_equal(f.message, odd[i]);
	}
}

/* ---- password ---------------------------------------------------------------------------- */

static void test_password_hash_is_argon2id_and_verifies(void **state)
{
	(void)state;
	char h[API_HASH_LEN];
	assert_int_equal(api_hash_password("correct horse", h), 0);
	assert_memory_equal(h, "$argon2id$", 10);
	assert_int_equal(crypto_pwhash_str_verify(h, "correct horse", 13), 0);
	assert_int_not_equal(crypto_pwhash_str_verify(h, "wrong", 5), 0);
	assert_int_equal(api_hash_password("", h), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_route_table_matches_its_own_patterns_and_methods),
	    cmocka_unit_test(test_route_match_rows),
	    cmocka_unit_test(test_route_argument_longer_than_its_buffer_is_not_found),
	    cmocka_unit_test(test_state_changing_methods),
	    cmocka_unit_test(test_path_mac_rows),
	    cmocka_unit_test(test_body_rows),
	    cmocka_unit_test(test_host_body_fields_are_filled),
	    cmocka_unit_test(test_body_over_64k_is_efbig_and_nul_is_refused),
	    cmocka_unit_test(test_json_depth_rows),
	    cmocka_unit_test(test_host_rows),
	    cmocka_unit_test(test_origin_rows),
	    cmocka_unit_test(test_cookie_rows),
	    cmocka_unit_test(test_throttle_per_address_is_exponential_capped_and_forgotten),
	    cmocka_unit_test(test_throttle_global_counter_holds_every_address),
	    cmocka_unit_test(test_throttle_table_full_reuses_oldest_slot),
	    cmocka_unit_test(test_sse_frame_rows),
	    cmocka_unit_test(test_sse_frame_refuses_newline_in_event_and_small_buffers),
	    cmocka_unit_test(test_magic_packet_is_ff_then_mac_16_times),
	    cmocka_unit_test(test_hosts_render_keeps_api_hosts_adds_and_skips),
	    cmocka_unit_test(test_log_split_rows),
	    cmocka_unit_test(test_password_hash_is_argon2id_and_verifies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
