/* Unit tests for core: cursor, writer, bounded parsers, log escaping, loop timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/cursor.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "core/writer.h"

static void test_cursor_short_reads_fail_without_moving(void **state)
{
	(void)state;
	const uint8_t b[3] = {1, 2, 3};
	struct cursor c;
	cursor_init(&c, b, sizeof(b));
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;
	assert_int_equal(cursor_be32(&c, &v32), -EBADMSG);
	assert_int_equal(c.left, 3);
	assert_int_equal(cursor_be16(&c, &v16), 0);
	assert_int_equal(v16, 0x0102);
	assert_int_equal(cursor_be16(&c, &v16), -EBADMSG);
	assert_int_equal(cursor_u8(&c, &v8), 0);
	assert_int_equal(cursor_u8(&c, &v8), -EBADMSG);
	assert_int_equal(cursor_skip(&c, 1), -EBADMSG);
	assert_int_equal(cursor_skip(&c, SIZE_MAX), -EBADMSG);
	cursor_init(&c, NULL, 10);
	assert_int_equal(c.left, 0);
}

static void test_cursor_cstr_needs_nul(void **state)
{
	(void)state;
	const uint8_t ok[] = {'a', 'b', 0, 'c'};
	const uint8_t bad[] = {'a', 'b'};
	struct cursor c;
	const char *s;
	size_t n;
	cursor_init(&c, ok, sizeof(ok));
	assert_int_equal(cursor_cstr(&c, &s, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(c.left, 1);
	assert_int_equal(cursor_cstr(&c, &s, &n), -EBADMSG);
	cursor_init(&c, bad, sizeof(bad));
	assert_int_equal(cursor_cstr(&c, &s, &n), -EBADMSG);
	cursor_init(&c, bad, 0);
	assert_int_equal(cursor_cstr(&c, &s, &n), -EBADMSG);
}

static void test_writer_overflow_latches(void **state)
{
	(void)state;
	uint8_t b[5];
	struct writer w;
	writer_init(&w, b, sizeof(b));
	assert_int_equal(writer_be32(&w, 0x01020304), 0);
	assert_int_equal(writer_be16(&w, 1), -ENOSPC);
	assert_true(w.overflow);
	assert_int_equal(w.len, 4);
	assert_int_equal(writer_u8(&w, 9), 0);
	assert_memory_equal(b, ((uint8_t[]){1, 2, 3, 4, 9}), 5);
	assert_int_equal(writer_patch(&w, 4, "x", 2), -EINVAL);
}

struct num_row {
	const char *in;
	uint64_t min, max;
	int ret;
	uint64_t out;
};

static void test_parse_u64_table(void **state)
{
	(void)state;
	static const struct num_row rows[] = {
		{"0", 0, 10, 0, 0},
		{"10", 0, 10, 0, 10},
		{"11", 0, 10, -ERANGE, 0},
		{"18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX},
		{"18446744073709551616", 0, UINT64_MAX, -ERANGE, 0},
		{"999999999999999999999999", 0, UINT64_MAX, -ERANGE, 0},
		{"", 0, 10, -EINVAL, 0},
		{"-1", 0, 10, -EINVAL, 0},
		{"+1", 0, 10, -EINVAL, 0},
		{" 1", 0, 10, -EINVAL, 0},
		{"1 ", 0, 10, -EINVAL, 0},
		{"0x10", 0, 100, -EINVAL, 0},
		{"abc", 0, 10, -EINVAL, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		uint64_t v = 0;
		int r = parse_u64(rows[i].in, rows[i].min, rows[i].max, &v);
		if (r != rows[i].ret)
			fail_msg("parse_u64('%s') = %d, want %d", rows[i].in, r, rows[i].ret);
		if (!r && v != rows[i].out)
			fail_msg("parse_u64('%s') value", rows[i].in);
	}
}

static void test_parse_duration_units(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(parse_duration("12h", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 43200);
	assert_int_equal(parse_duration("90", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 90);
	assert_int_equal(parse_duration("2d", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 172800);
	assert_int_equal(parse_duration("5m", 0, 100, &v), -ERANGE);
	assert_int_equal(parse_duration("h", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_duration("", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_duration("1w", 0, 100, &v), -EINVAL);
}

static void test_parse_ipv4_and_mac(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int ok;
		uint32_t ip;
	} rows[] = {
		{"10.0.0.1", 1, 0x0a000001}, {"255.255.255.255", 1, 0xffffffff},
		{"0.0.0.0", 1, 0},	     {"256.0.0.1", 0, 0},
		{"1.2.3", 0, 0},	     {"1.2.3.4.5", 0, 0},
		{"1.2.3.4 ", 0, 0},	     {"01234.1.1.1", 0, 0},
		{"a.b.c.d", 0, 0},	     {"", 0, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		uint32_t ip = 0;
		int r = parse_ipv4(rows[i].in, &ip);
		if ((r == 0) != rows[i].ok || (rows[i].ok && ip != rows[i].ip))
			fail_msg("parse_ipv4('%s')", rows[i].in);
	}
	char buf[IPV4_STRLEN];
	assert_string_equal(fmt_ipv4(buf, 0xc0a80a01), "192.168.10.1");
	uint8_t mac[6];
	assert_int_equal(parse_mac("52:54:00:AB:cd:ef", mac), 0);
	char mb[MAC_STRLEN];
	assert_string_equal(fmt_mac(mb, mac), "52:54:00:ab:cd:ef");
	assert_int_not_equal(parse_mac("52:54:00:ab:cd", mac), 0);
	assert_int_not_equal(parse_mac("52:54:00:ab:cd:eg", mac), 0);
	assert_int_not_equal(parse_mac("52:54-00:ab:cd:ef", mac), 0);
	assert_int_equal(ipv4_mask(24), 0xffffff00);
	assert_int_equal(ipv4_prefix(0xffff0000), 16);
	assert_int_equal(ipv4_prefix(0xff00ff00), -1);
}

static void test_log_escape_neutralises_markup_and_controls(void **state)
{
	(void)state;
	char out[64];
	const uint8_t in[] = {'<', 's', '>', 0, '\n', 'a', 0x80};
	log_escape(out, sizeof(out), in, sizeof(in));
	assert_string_equal(out, "\\x3cs\\x3e\\x00\\x0aa\\x80");
	char small[8];
	log_escape(small, sizeof(small), "abcdefghijkl", 12);
	assert_true(strlen(small) < sizeof(small));
	assert_non_null(strstr(small, "..."));
}

static int fired[4];
static struct loop *timer_loop;
static void on_timer(void *arg)
{
	fired[(intptr_t)arg]++;
	if ((intptr_t)arg == 3)
		loop_stop(timer_loop);
}

static void test_loop_timers_fire_in_order_and_cancel(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	timer_loop = l;
	struct loop_timer t[3];
	for (intptr_t i = 0; i < 3; i++)
		loop_timer_init(&t[i], on_timer, (void *)i);
	uint64_t now = time_mono_ms();
	assert_int_equal(loop_timer_arm(l, &t[0], now + 30), 0);
	assert_int_equal(loop_timer_arm(l, &t[1], now + 10), 0);
	assert_int_equal(loop_timer_arm(l, &t[2], now + 20), 0);
	loop_timer_cancel(l, &t[2]);
	assert_false(loop_timer_armed(&t[2]));
	/* run turns until both remaining timers fired (bounded) */
	for (int turns = 0; turns < 50 && (!fired[0] || !fired[1]); turns++) {
		/* a one-shot timer that stops the loop so loop_run returns (bounded) */
		struct loop_timer stop;
		loop_timer_init(&stop, on_timer, (void *)3);
		loop_timer_arm(l, &stop, time_mono_ms() + 5);
		loop_run(l);
		loop_timer_cancel(l, &stop);
	}
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[1], 1);
	assert_int_equal(fired[2], 0);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_short_reads_fail_without_moving),
		cmocka_unit_test(test_cursor_cstr_needs_nul),
		cmocka_unit_test(test_writer_overflow_latches),
		cmocka_unit_test(test_parse_u64_table),
		cmocka_unit_test(test_parse_duration_units),
		cmocka_unit_test(test_parse_ipv4_and_mac),
		cmocka_unit_test(test_log_escape_neutralises_markup_and_controls),
		cmocka_unit_test(test_loop_timers_fire_in_order_and_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
