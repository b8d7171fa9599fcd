/*
 * test_metrics — unit tests for metrics/ (the Prometheus text encoder and the families).
 *
 * Covers, table-driven: label value escaping (\ " line feed, invalid UTF-8 as U+FFFD, valid
 * UTF-8 and other bytes kept) and HELP escaping; the float forms (integers, shortest round
 * trip, NaN, +Inf, -Inf); metric and label name rules; every refusal (bad names, a family
 * twice, histogram series names taken, reserved or repeated labels, samples of the wrong
 * type or outside a family, negative counters, bad bucket bounds, too many families) next
 * to the accepted case; a histogram's exact text; buffer limits (-ENOSPC and "", never an
 * overrun); the full exposition of a snapshot (every family of docs/api.md, strict parse,
 * values read back); HTTP requests by code and bytes; the boot-duration histogram fed by a
 * real clients/ registry through a local boot; metrics_render with no sources.
 * Does not cover: the daemon's sources over real traffic (tests/system/test_metrics.py).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/util.h"
#include "dhcp/dhcp_wire.h"
#include "metrics/metrics.h"
#include "metrics/metrics_text.h"

#include "../fuzz/metrics_text/prom_check.h"

static char buf[1 << 16];

static void assert_strict(const char *text, size_t len)
{
	char err[256];
	if (!prom_check(text, len, NULL, NULL, err, sizeof(err)))
		fail_msg("not strict 0.0.4 (%s):\n%s", err, text);
}

/* ---- escaping -------------------------------------------------------------------------- */

static void test_label_values_are_escaped_and_made_utf8(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		const char *value;
		const char *want; /* the sample line */
	} rows[] = {
	    {"plain", "eth1", "m{l=\"eth1\"} 1\n"},
	    {"backslash", "a\\b", "m{l=\"a\\\\b\"} 1\n"},
	    {"double quote", "say \"hi\"", "m{l=\"say \\\"hi\\\"\"} 1\n"},
	    {"line feed", "two\nlines", "m{l=\"two\\nlines\"} 1\n"},
	    {"all three", "\\\"\n", "m{l=\"\\\\\\\"\\n\"} 1\n"},
	    {"valid UTF-8 kept", "caf\xc3\xa9 \xe2\x82\xac",
	     "m{l=\"caf\xc3\xa9 \xe2\x82\xac\"} 1\n"},
	    {"invalid byte replaced",
	     "a\xff"
	     "b",
	     "m{l=\"a\xef\xbf\xbd"
	     "b\"} 1\n"},
	    {"overlong replaced", "\xc0\xaf", "m{l=\"\xef\xbf\xbd\xef\xbf\xbd\"} 1\n"},
	    {"surrogate replaced", "\xed\xa0\x80",
	     "m{l=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"} 1\n"},
	    {"cut sequence replaced", "\xe2\x82", "m{l=\"\xef\xbf\xbd\xef\xbf\xbd\"} 1\n"},
	    {"tab and CR kept", "a\tb\rc", "m{l=\"a\tb\rc\"} 1\n"},
	    {"empty", "", "m{l=\"\"} 1\n"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct metrics_text t;
		metrics_text_init(&t, buf, sizeof(buf));
		assert_int_equal(metrics_text_family(&t, "m", METRICS_GAUGE, "h"), 0);
		struct metrics_label l = {"l", rows[i].value};
		assert_int_equal(metrics_text_u64(&t, &l, 1, 1), 0);
		int len = metrics_text_end(&t, buf, sizeof(buf));
		assert_true(len > 0);
		const char *line = strstr(buf, "\nm{");
		if (!line || strcmp(line + 1, rows[i].want) != 0)
			fail_msg("%s: got %s", rows[i].name, buf);
		assert_strict(buf, (size_t)len);
	}
}

static void test_help_text_escapes_backslash_and_line_feed_only(void **state)
{
	(void)state;
	struct metrics_text t;
	metrics_text_init(&t, buf, sizeof(buf));
	assert_int_equal(metrics_text_family(&t, "m_total", METRICS_COUNTER, "a \"b\" \\c\nd"), 0);
	int len = metrics_text_end(&t, buf, sizeof(buf));
	assert_string_equal(buf, "# HELP m_total a \"b\" \\\\c\\nd\n# TYPE m_total counter\n");
	assert_strict(buf, (size_t)len);
}

/* ---- numbers and names ----------------------------------------------------------------- */

static void test_floats_take_the_shortest_exact_form(void **state)
{
	(void)state;
	static const struct {
		double v;
		const char *want;
	} rows[] = {
	    {0, "0"},
	    {1, "1"},
	    {0.1, "0.1"},
	    {1.5, "1.5"},
	    {-2.25, "-2.25"},
	    {1e300, "1e+300"},
	    {2.5e-7, "2.5e-07"},
	    {1.0 / 3, "0.33333333333333331"},
	    {1700000000.123, "1700000000.123"},
	    {NAN, "NaN"},
	    {INFINITY, "+Inf"},
	    {-INFINITY, "-Inf"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char b[METRICS_NUM_MAX];
		assert_string_equal(metrics_text_fmt_double(b, rows[i].v), rows[i].want);
		if (isfinite(rows[i].v))
			assert_true(strtod(b, NULL) == rows[i].v);
	}
}

static void test_metric_and_label_names_follow_the_data_model(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		bool metric, label;
	} rows[] = {
	    {"pixied_boots_total", true, true},
	    {"_x", true, true},
	    {"a:b", true, false},    /* colons: metric names only */
	    {"__name", true, false}, /* reserved label prefix */
	    {"a1", true, true},
	    {"1a", false, false},
	    {"a-b", false, false},
	    {"a b", false, false},
	    {"é", false, false},
	    {"", false, false},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		if (metrics_text_metric_name_ok(rows[i].s) != rows[i].metric ||
		    metrics_text_label_name_ok(rows[i].s) != rows[i].label)
			fail_msg("name \"%s\"", rows[i].s);
	}
	char longname[METRICS_NAME_MAX + 1];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(metrics_text_metric_name_ok(longname));
	longname[METRICS_NAME_MAX - 1] = '\0';
	assert_true(metrics_text_metric_name_ok(longname));
}

/* ---- refusals -------------------------------------------------------------------------- */

enum step { S_FAM, S_U64, S_DBL, S_HIST };
struct call {
	enum step step;
	const char *name; /* family name (S_FAM) */
	enum metrics_type type;
	const char *l1, *l2; /* label names (value "v"), NULL = none */
	double v;
	const double *bounds;
	size_t nb;
};

static const double B_OK[] = {1, 2, 5};
static const double B_EQUAL[] = {1, 1};
static const double B_DOWN[] = {2, 1};
static const double B_NAN[] = {NAN};
static const double B_INF[] = {1, INFINITY};
static const double B_NEGZERO[] = {-0.0, 0.0};

static int do_call(struct metrics_text *t, const struct call *c)
{
	struct metrics_label l[2] = {{c->l1, "v"}, {c->l2, "v"}};
	size_t nl = c->l2 ? 2 : c->l1 ? 1 : 0;
	uint64_t counts[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	switch (c->step) {
	case S_FAM: return metrics_text_family(t, c->name, c->type, "help");
	case S_U64: return metrics_text_u64(t, l, nl, (uint64_t)c->v);
	case S_DBL: return metrics_text_double(t, l, nl, c->v);
	default: return metrics_text_histogram(t, l, nl, c->bounds, counts, c->nb, 1.5);
	}
}

#define FAM(n, ty)                                                                                 \
	{                                                                                          \
		S_FAM, (n), (ty), NULL, NULL, 0, NULL, 0                                           \
	}
#define U64(l1, l2)                                                                                \
	{                                                                                          \
		S_U64, NULL, 0, (l1), (l2), 1, NULL, 0                                             \
	}
#define DBL(v)                                                                                     \
	{                                                                                          \
		S_DBL, NULL, 0, NULL, NULL, (v), NULL, 0                                           \
	}
#define HIST(l1, b, nb)                                                                            \
	{                                                                                          \
		S_HIST, NULL, 0, (l1), NULL, 0, (b), (nb)                                          \
	}

static void test_what_a_strict_parser_refuses_is_refused(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		struct call
		    pre; /* a call that must succeed first (step FAM with name NULL = none) */
		struct call c;
		int want;
	} rows[] = {
	    {"counter sample", FAM("c_total", METRICS_COUNTER), U64("a", "b"), 0},
	    {"sample before any family", FAM(NULL, 0), U64(NULL, NULL), -EINVAL},
	    {"bad family name", FAM(NULL, 0), FAM("1x", METRICS_GAUGE), -EINVAL},
	    {"family twice", FAM("g", METRICS_GAUGE), FAM("g", METRICS_COUNTER), -EINVAL},
	    {"family named like a histogram's _count", FAM("h", METRICS_HISTOGRAM),
	     FAM("h_count", METRICS_GAUGE), -EINVAL},
	    {"family named like a histogram's _bucket", FAM("h", METRICS_HISTOGRAM),
	     FAM("h_bucket", METRICS_GAUGE), -EINVAL},
	    {"histogram whose _sum is taken", FAM("h_sum", METRICS_GAUGE),
	     FAM("h", METRICS_HISTOGRAM), -EINVAL},
	    {"other suffixes are fine", FAM("h", METRICS_HISTOGRAM),
	     FAM("h_total", METRICS_COUNTER), 0},
	    {"label le on a gauge", FAM("g", METRICS_GAUGE), U64("le", NULL), -EINVAL},
	    {"label quantile on a gauge", FAM("g", METRICS_GAUGE), U64("quantile", NULL), -EINVAL},
	    {"label __reserved", FAM("g", METRICS_GAUGE), U64("__x", NULL), -EINVAL},
	    {"label twice", FAM("g", METRICS_GAUGE), U64("a", "a"), -EINVAL},
	    {"bad label name", FAM("g", METRICS_GAUGE), U64("a-b", NULL), -EINVAL},
	    {"negative counter", FAM("c_total", METRICS_COUNTER), DBL(-1), -EINVAL},
	    {"negative gauge", FAM("g", METRICS_GAUGE), DBL(-1), 0},
	    {"NaN gauge", FAM("g", METRICS_GAUGE), DBL(NAN), 0},
	    {"scalar in a histogram", FAM("h", METRICS_HISTOGRAM), U64(NULL, NULL), -EINVAL},
	    {"histogram in a gauge", FAM("g", METRICS_GAUGE), HIST(NULL, B_OK, 3), -EINVAL},
	    {"histogram", FAM("h", METRICS_HISTOGRAM), HIST("pool", B_OK, 3), 0},
	    {"histogram without bounds", FAM("h", METRICS_HISTOGRAM), HIST(NULL, NULL, 0), 0},
	    {"histogram with an le label", FAM("h", METRICS_HISTOGRAM), HIST("le", B_OK, 3),
	     -EINVAL},
	    {"equal bounds", FAM("h", METRICS_HISTOGRAM), HIST(NULL, B_EQUAL, 2), -EINVAL},
	    {"decreasing bounds", FAM("h", METRICS_HISTOGRAM), HIST(NULL, B_DOWN, 2), -EINVAL},
	    {"NaN bound", FAM("h", METRICS_HISTOGRAM), HIST(NULL, B_NAN, 1), -EINVAL},
	    {"infinite bound", FAM("h", METRICS_HISTOGRAM), HIST(NULL, B_INF, 2), -EINVAL},
	    {"-0 then 0", FAM("h", METRICS_HISTOGRAM), HIST(NULL, B_NEGZERO, 2), -EINVAL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct metrics_text t;
		metrics_text_init(&t, buf, sizeof(buf));
		if (rows[i].pre.name)
			assert_int_equal(do_call(&t, &rows[i].pre), 0);
		int r = do_call(&t, &rows[i].c);
		if (r != rows[i].want)
			fail_msg("%s: %d, want %d", rows[i].name, r, rows[i].want);
		int len = metrics_text_end(&t, buf, sizeof(buf));
		if (rows[i].want) {
			/* latched: the exposition fails as a whole */
			assert_int_equal(len, rows[i].want);
			assert_string_equal(buf, "");
		} else {
			assert_true(len > 0);
			assert_strict(buf, (size_t)len);
		}
	}
}

static void test_more_families_than_the_bound_is_e2big(void **state)
{
	(void)state;
	static char big[1 << 16];
	struct metrics_text t;
	metrics_text_init(&t, big, sizeof(big));
	char name[16];
	for (int i = 0; i < METRICS_FAMILIES_MAX; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(metrics_text_family(&t, name, METRICS_GAUGE, ""), 0);
	}
	assert_int_equal(metrics_text_family(&t, "one_more", METRICS_GAUGE, ""), -E2BIG);
	assert_int_equal(metrics_text_end(&t, big, sizeof(big)), -E2BIG);
}

/* ---- histogram text, buffers ----------------------------------------------------------- */

static void test_histogram_series_are_cumulative_and_end_with_inf(void **state)
{
	(void)state;
	struct metrics_text t;
	metrics_text_init(&t, buf, sizeof(buf));
	assert_int_equal(metrics_text_family(&t, "d_seconds", METRICS_HISTOGRAM, "h"), 0);
	const double b[] = {0.5, 1, 2.5};
	const uint64_t c[] = {1, 0, 2, UINT64_MAX};
	struct metrics_label l = {"pool", "p"};
	assert_int_equal(metrics_text_histogram(&t, &l, 1, b, c, 3, 4.75), 0);
	int len = metrics_text_end(&t, buf, sizeof(buf));
	assert_string_equal(buf, "# HELP d_seconds h\n"
				 "# TYPE d_seconds histogram\n"
				 "d_seconds_bucket{pool=\"p\",le=\"0.5\"} 1\n"
				 "d_seconds_bucket{pool=\"p\",le=\"1\"} 1\n"
				 "d_seconds_bucket{pool=\"p\",le=\"2.5\"} 3\n"
				 "d_seconds_bucket{pool=\"p\",le=\"+Inf\"} 18446744073709551615\n"
				 "d_seconds_sum{pool=\"p\"} 4.75\n"
				 "d_seconds_count{pool=\"p\"} 18446744073709551615\n");
	assert_strict(buf, (size_t)len);
}

static void test_too_small_a_buffer_is_enospc_and_empty_never_an_overrun(void **state)
{
	(void)state;
	const char *want = "# HELP g h\n# TYPE g gauge\ng{a=\"b\"} 7\n";
	size_t n = strlen(want);
	for (size_t cap = 0; cap <= n + 2; cap++) {
		char *b = malloc(cap ? cap : 1); /* exact size: ASan sees any overrun */
		struct metrics_text t;
		metrics_text_init(&t, cap ? b : NULL, cap);
		metrics_text_family(&t, "g", METRICS_GAUGE, "h");
		struct metrics_label l = {"a", "b"};
		metrics_text_u64(&t, &l, 1, 7);
		int r = metrics_text_end(&t, cap ? b : NULL, cap);
		if (cap > n) {
			assert_int_equal(r, (int)n);
			assert_string_equal(b, want);
		} else {
			assert_int_equal(r, -ENOSPC);
			if (cap)
				assert_string_equal(b, "");
		}
		free(b);
	}
}

/* ---- the families ---------------------------------------------------------------------- */

struct found {
	const char *name, *l1, *v1, *l2, *v2;
	double value;
	bool seen;
};

static void find_sample(void *arg, const struct pc_sample *s)
{
	struct found *f = arg;
	for (; f->name; f++) {
		if (strcmp(s->name, f->name))
			continue;
		size_t want = f->l2 ? 2 : f->l1 ? 1 : 0;
		if (s->nl != want)
			continue;
		if (f->l1 && (strcmp(s->l[0].name, f->l1) || strcmp(s->l[0].value, f->v1)))
			continue;
		if (f->l2 && (strcmp(s->l[1].name, f->l2) || strcmp(s->l[1].value, f->v2)))
			continue;
		if (f->seen)
			fail_msg("%s seen twice", f->name);
		f->seen = true;
		if (!(s->v == f->value || (isnan(s->v) && isnan(f->value))))
			fail_msg("%s{%s=%s}: %g, want %g", f->name, f->l1 ? f->l1 : "",
				 f->v1 ? f->v1 : "", s->v, f->value);
		return;
	}
}

static void check_found(const char *text, size_t len, struct found *f)
{
	char err[256];
	if (!prom_check(text, len, find_sample, f, err, sizeof(err)))
		fail_msg("not strict 0.0.4 (%s):\n%s", err, text);
	for (; f->name; f++)
		if (!f->seen)
			fail_msg("missing: %s{%s=\"%s\",%s=\"%s\"} in\n%s", f->name,
				 f->l1 ? f->l1 : "", f->v1 ? f->v1 : "", f->l2 ? f->l2 : "",
				 f->v2 ? f->v2 : "", text);
}

static void test_every_documented_family_is_in_the_exposition(void **state)
{
	(void)state;
	static struct dhcp_server_stats d;
	memset(&d, 0, sizeof(d));
	d.rx_arch[DHCPDISCOVER][CONF_ARCH_BIOS] = 3;
	d.rx_arch[DHCPDISCOVER][CONF_ARCH_COUNT] = 2;
	d.rx_arch[0][CONF_ARCH_EFI64] = 1;
	d.offers = 4;
	d.proxy_offers = 1;
	d.acks = 2;
	d.proxy_acks = 1;
	d.inform_acks = 1;
	d.naks = 1;
	struct metrics_pool pools[] = {
	    {.name = "lab \"a\"", .size = 100, .free = 90, .offered = 1, .bound = 8, .declined = 1},
	};
	struct tftp_stats tf = {.active = 2,
				.completed = 5,
				.failed = 1,
				.refused = 3,
				.bytes = 123456,
				.retrans_pkts = 7};
	struct http_stats hs = {.active = 4};
	static uint64_t codes[METRICS_HTTP_CODES];
	memset(codes, 0, sizeof(codes));
	codes[200] = 10;
	codes[404] = 2;
	codes[0] = 1;
	struct clients_stats cs = {.booted = 3};
	cs.by_status[CLIENTS_ST_BOOTED] = 3;
	cs.by_status[CLIENTS_ST_STALLED] = 1;
	uint64_t boots[METRICS_BOOT_BUCKETS + 1] = {0};
	boots[3] = 2;                    /* 5-10 s */
	boots[METRICS_BOOT_BUCKETS] = 1; /* above the last bound */
	struct metrics_snapshot s = {
	    .version = "0.1.0",
	    .start_time_s = 1700000000.5,
	    .dhcp = &d,
	    .pools = pools,
	    .npools = 1,
	    .tftp = &tf,
	    .http = &hs,
	    .http_codes = codes,
	    .http_bytes = 999,
	    .clients = &cs,
	    .boot_counts = boots,
	    .boot_sum_s = 4000.5,
	};
	int len = metrics_encode(&s, buf, sizeof(buf));
	assert_true(len > 0);
	struct found f[] = {
	    {"pixied_build_info", "version", "0.1.0", NULL, NULL, 1, false},
	    {"pixied_start_time_seconds", NULL, NULL, NULL, NULL, 1700000000.5, false},
	    {"pixied_dhcp_messages_received_total", "type", "discover", "arch", "bios", 3, false},
	    {"pixied_dhcp_messages_received_total", "type", "discover", "arch", "none", 2, false},
	    {"pixied_dhcp_messages_received_total", "type", "bootp", "arch", "efi64", 1, false},
	    {"pixied_dhcp_messages_received_total", "type", "request", "arch", "none", 0, false},
	    {"pixied_dhcp_messages_sent_total", "type", "offer", NULL, NULL, 5, false},
	    {"pixied_dhcp_messages_sent_total", "type", "ack", NULL, NULL, 4, false},
	    {"pixied_dhcp_messages_sent_total", "type", "nak", NULL, NULL, 1, false},
	    {"pixied_dhcp_pool_addresses", "pool", "lab \"a\"", "state", "free", 90, false},
	    {"pixied_dhcp_pool_addresses", "pool", "lab \"a\"", "state", "bound", 8, false},
	    {"pixied_dhcp_pool_addresses", "pool", "lab \"a\"", "state", "offered", 1, false},
	    {"pixied_dhcp_pool_addresses", "pool", "lab \"a\"", "state", "declined", 1, false},
	    {"pixied_dhcp_pool_addresses", "pool", "lab \"a\"", "state", "reclaimable", 0, false},
	    {"pixied_dhcp_pool_size", "pool", "lab \"a\"", NULL, NULL, 100, false},
	    {"pixied_tftp_transfers_active", NULL, NULL, NULL, NULL, 2, false},
	    {"pixied_tftp_transfers_total", "result", "ok", NULL, NULL, 5, false},
	    {"pixied_tftp_transfers_total", "result", "failed", NULL, NULL, 1, false},
	    {"pixied_tftp_transfers_total", "result", "refused", NULL, NULL, 3, false},
	    {"pixied_tftp_bytes_total", NULL, NULL, NULL, NULL, 123456, false},
	    {"pixied_tftp_retransmissions_total", NULL, NULL, NULL, NULL, 7, false},
	    {"pixied_http_requests_total", "code", "200", NULL, NULL, 10, false},
	    {"pixied_http_requests_total", "code", "404", NULL, NULL, 2, false},
	    {"pixied_http_requests_total", "code", "0", NULL, NULL, 1, false},
	    {"pixied_http_response_bytes_total", NULL, NULL, NULL, NULL, 999, false},
	    {"pixied_http_connections_active", NULL, NULL, NULL, NULL, 4, false},
	    {"pixied_clients", "status", "booted", NULL, NULL, 3, false},
	    {"pixied_clients", "status", "stalled", NULL, NULL, 1, false},
	    {"pixied_clients", "status", "waiting-for-dhcp", NULL, NULL, 0, false},
	    {"pixied_boots_total", NULL, NULL, NULL, NULL, 3, false},
	    {"pixied_boot_duration_seconds_bucket", "le", "5", NULL, NULL, 0, false},
	    {"pixied_boot_duration_seconds_bucket", "le", "10", NULL, NULL, 2, false},
	    {"pixied_boot_duration_seconds_bucket", "le", "1800", NULL, NULL, 2, false},
	    {"pixied_boot_duration_seconds_bucket", "le", "+Inf", NULL, NULL, 3, false},
	    {"pixied_boot_duration_seconds_sum", NULL, NULL, NULL, NULL, 4000.5, false},
	    {"pixied_boot_duration_seconds_count", NULL, NULL, NULL, NULL, 3, false},
	    {NULL, NULL, NULL, NULL, NULL, 0, false},
	};
	check_found(buf, (size_t)len, f);
	/* zero rows are not padded out: no offer rows received, no 500s */
	assert_null(strstr(buf, "type=\"offer\",arch="));
	assert_null(strstr(buf, "code=\"500\""));
}

static void test_render_without_sources_has_build_info_and_start_time_only(void **state)
{
	(void)state;
	struct metrics_sources src = {.version = "9.9", .started_ms = 1700000000250};
	struct metrics *m = metrics_new(&src);
	assert_non_null(m);
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(m, &out, &len), 0);
	assert_int_equal(len, strlen(out));
	struct found f[] = {
	    {"pixied_build_info", "version", "9.9", NULL, NULL, 1, false},
	    {"pixied_start_time_seconds", NULL, NULL, NULL, NULL, 1700000000.25, false},
	    {NULL, NULL, NULL, NULL, NULL, 0, false},
	};
	check_found(out, len, f);
	assert_null(strstr(out, "pixied_dhcp"));
	assert_null(strstr(out, "pixied_http"));
	free(out);
	metrics_free(m);
	metrics_free(NULL);
}

static void test_http_requests_are_counted_by_code_with_their_bytes(void **state)
{
	(void)state;
	struct metrics *m = metrics_new(NULL);
	static const struct {
		int status;
		uint64_t bytes;
	} rows[] = {{200, 1000}, {200, 24}, {206, 500}, {404, 0}, {0, 0},
		    {99, 0},     {600, 0},  {-1, 0},    {599, 1}};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct http_access a = {.method = "GET",
					.path = "/x",
					.status = rows[i].status,
					.bytes = rows[i].bytes};
		metrics_on_http(m, &a);
	}
	metrics_on_http(m, NULL);
	metrics_on_http(NULL, NULL);
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(m, &out, &len), 0);
	struct found f[] = {
	    {"pixied_http_requests_total", "code", "200", NULL, NULL, 2, false},
	    {"pixied_http_requests_total", "code", "206", NULL, NULL, 1, false},
	    {"pixied_http_requests_total", "code", "404", NULL, NULL, 1, false},
	    {"pixied_http_requests_total", "code", "599", NULL, NULL, 1, false},
	    {"pixied_http_requests_total", "code", "0", NULL, NULL, 4, false}, /* 0 99 600 -1 */
	    {"pixied_http_response_bytes_total", NULL, NULL, NULL, NULL, 1525, false},
	    {NULL, NULL, NULL, NULL, NULL, 0, false},
	};
	check_found(out, len, f);
	free(out);
	metrics_free(m);
}

/* A local boot through a real registry: iPXE gets its script URL, the script declares
 * nothing to fetch, the script is served -> "booted", 7 s after the DISCOVER. */
static void local_boot(struct clients *c, const uint8_t mac[6], int64_t t0, int64_t took_ms)
{
	struct dhcp_pxe_facts f;
	memset(&f, 0, sizeof(f));
	f.has_mac = true;
	memcpy(f.mac, mac, 6);
	f.is_pxe = f.is_ipxe = true;
	f.has_arch = true;
	str_copy(f.arch_name, "x86 BIOS", sizeof(f.arch_name));
	str_copy(f.vendor_class, "PXEClient:Arch:00000:UNDI:002001", sizeof(f.vendor_class));
	struct clients_dhcp d = {.facts = &f,
				 .msg_type = DHCPDISCOVER,
				 .replied = true,
				 .reply_type = DHCPOFFER,
				 .yiaddr = 0x0a000005,
				 .boot_file = "http://10.0.0.1/boot.ipxe"};
	assert_int_equal(clients_on_dhcp(c, &d, t0), 0);
	d.msg_type = DHCPREQUEST;
	d.reply_type = DHCPACK;
	assert_int_equal(clients_on_dhcp(c, &d, t0 + 100), 0);
	assert_int_equal(clients_expect_files(c, mac, NULL, NULL, 0), 0);
	struct clients_http h = {.ip = 0x0a000005,
				 .mac = mac,
				 .method = "GET",
				 .path = "/boot.ipxe",
				 .status = 200,
				 .bytes = 50,
				 .complete = true};
	assert_int_equal(clients_on_http(c, &h, t0 + took_ms), 0);
}

static void test_boot_durations_come_from_booted_events(void **state)
{
	(void)state;
	struct clients *c = clients_new(NULL, NULL);
	assert_non_null(c);
	struct metrics_sources src = {.clients = c};
	struct metrics *m = metrics_new(&src);
	assert_non_null(m);
	const uint8_t mac1[6] = {2, 0, 0, 0, 0, 1}, mac2[6] = {2, 0, 0, 0, 0, 2};
	local_boot(c, mac1, 1700000000000, 7000);
	local_boot(c, mac2, 1700000001000, 45000);
	/* events that are not "booted" change nothing */
	struct clients_event other = {.kind = CLIENTS_EV_TFTP_END, .duration_ms = 5};
	metrics_on_client_event(m, &other);
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render(m, &out, &len), 0);
	struct found f[] = {
	    {"pixied_boots_total", NULL, NULL, NULL, NULL, 2, false},
	    {"pixied_clients", "status", "booted", NULL, NULL, 2, false},
	    {"pixied_boot_duration_seconds_bucket", "le", "5", NULL, NULL, 0, false},
	    {"pixied_boot_duration_seconds_bucket", "le", "10", NULL, NULL, 1, false},
	    {"pixied_boot_duration_seconds_bucket", "le", "30", NULL, NULL, 1, false},
	    {"pixied_boot_duration_seconds_bucket", "le", "60", NULL, NULL, 2, false},
	    {"pixied_boot_duration_seconds_bucket", "le", "+Inf", NULL, NULL, 2, false},
	    {"pixied_boot_duration_seconds_sum", NULL, NULL, NULL, NULL, 52, false},
	    {"pixied_boot_duration_seconds_count", NULL, NULL, NULL, NULL, 2, false},
	    {NULL, NULL, NULL, NULL, NULL, 0, false},
	};
	check_found(out, len, f);
	free(out);
	metrics_free(m); /* unsubscribes: later boots reach nobody */
	const uint8_t mac3[6] = {2, 0, 0, 0, 0, 3};
	local_boot(c, mac3, 1700000002000, 1000);
	clients_free(c);
}

static void test_bucket_edges_are_upper_bounds_inclusive(void **state)
{
	(void)state;
	static const struct {
		uint64_t ms;
		size_t bucket; /* index into metrics_boot_bounds; METRICS_BOOT_BUCKETS = +Inf */
	} rows[] = {{0, 0},        {1000, 0},     {1001, 1},       {2000, 1},
		    {1800000, 11}, {1800001, 12}, {UINT64_MAX, 12}};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct clients *c = clients_new(NULL, NULL);
		struct metrics_sources src = {.clients = c};
		struct metrics *m = metrics_new(&src);
		struct clients_event ev = {.kind = CLIENTS_EV_BOOTED, .duration_ms = rows[i].ms};
		metrics_on_client_event(m, &ev);
		char *out = NULL;
		size_t len = 0;
		assert_int_equal(metrics_render(m, &out, &len), 0);
		assert_strict(out, len);
		char le[METRICS_NUM_MAX], line[128];
		if (rows[i].bucket < METRICS_BOOT_BUCKETS)
			metrics_text_fmt_double(le, metrics_boot_bounds[rows[i].bucket]);
		else
			strcpy(le, "+Inf");
		snprintf(line, sizeof(line), "pixied_boot_duration_seconds_bucket{le=\"%s\"} 1\n",
			 le);
		if (!strstr(out, line))
			fail_msg("%llu ms: no %s in\n%s", (unsigned long long)rows[i].ms, line,
				 out);
		if (rows[i].bucket > 0) {
			metrics_text_fmt_double(le, metrics_boot_bounds[rows[i].bucket - 1]);
			snprintf(line, sizeof(line),
				 "pixied_boot_duration_seconds_bucket{le=\"%s\"} 0\n", le);
			assert_non_null(strstr(out, line));
		}
		free(out);
		metrics_free(m);
		clients_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_label_values_are_escaped_and_made_utf8),
	    cmocka_unit_test(test_help_text_escapes_backslash_and_line_feed_only),
	    cmocka_unit_test(test_floats_take_the_shortest_exact_form),
	    cmocka_unit_test(test_metric_and_label_names_follow_the_data_model),
	    cmocka_unit_test(test_what_a_strict_parser_refuses_is_refused),
	    cmocka_unit_test(test_more_families_than_the_bound_is_e2big),
	    cmocka_unit_test(test_histogram_series_are_cumulative_and_end_with_inf),
	    cmocka_unit_test(test_too_small_a_buffer_is_enospc_and_empty_never_an_overrun),
	    cmocka_unit_test(test_every_documented_family_is_in_the_exposition),
	    cmocka_unit_test(test_render_without_sources_has_build_info_and_start_time_only),
	    cmocka_unit_test(test_http_requests_are_counted_by_code_with_their_bytes),
	    cmocka_unit_test(test_boot_durations_come_from_booted_events),
	    cmocka_unit_test(test_bucket_edges_are_upper_bounds_inclusive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
