/*
 * Unit tests for core/log: the line format, per-turn buffering (log_set_buffered,
 * log_flush), errors written at once, the sink seeing every line as it is made, and a
 * full buffer written without losing or reordering lines. stderr is pointed at a
 * temporary file for each test and put back afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static int saved_stderr = -1;
static FILE *capture;

static int setup(void **state)
{
	(void)state;
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	capture = tmpfile();
	/* O_APPEND: after a truncation the next line starts the file again */
	if (saved_stderr < 0 || !capture || fcntl(fileno(capture), F_SETFL, O_APPEND) < 0 ||
	    dup2(fileno(capture), STDERR_FILENO) < 0)
		return -1;
	log_set_level(LOG_LVL_INFO);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_buffered(false);
	log_set_sink(NULL, NULL);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	fclose(capture);
	return 0;
}

/* What has reached stderr so far (static buffer). */
static const char *written(void)
{
	static char buf[1 << 20];
	long end = lseek(fileno(capture), 0, SEEK_END);
	size_t n = end > 0 ? (size_t)end : 0;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	ssize_t r = pread(fileno(capture), buf, n, 0);
	buf[r > 0 ? (size_t)r : 0] = '\0';
	return buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_line_format_is_utc_stamp_level_module_text(void **state)
{
	(void)state;
	log_info("dhcp", "offer mac=%s ip=%s", "52:54:00:00:00:01", "10.0.0.5");
	const char *w = written();
	/* 2026-11-21T21:50:01.123Z info dhcp: offer mac=52:54:00:00:00:01 ip=10.0.0.5\n */
	assert_int_equal(strlen(w), 25 + strlen("info dhcp: offer mac=52:54:00:00:00:01 ip=10.0.0.5\n"));
	assert_true(w[4] == '-' && w[7] == '-' && w[10] == 'T' && w[13] == ':' && w[16] == ':');
	assert_true(w[19] == '.' && w[23] == 'Z' && w[24] == ' ');
	assert_string_equal(w + 25, "info dhcp: offer mac=52:54:00:00:00:01 ip=10.0.0.5\n");
}

struct buf_row {
	const char *what;
	bool buffered;
	enum log_level lvl;
	bool written_at_once;
};

static const struct buf_row buf_rows[] = {
	{"unbuffered info is written at once", false, LOG_LVL_INFO, true},
	{"unbuffered warning is written at once", false, LOG_LVL_WARN, true},
	{"buffered info waits for log_flush", true, LOG_LVL_INFO, false},
	{"buffered warning waits for log_flush", true, LOG_LVL_WARN, false},
	{"buffered error is written at once", true, LOG_LVL_ERR, true},
};

static void test_buffering_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(buf_rows) / sizeof(buf_rows[0]); i++) {
		const struct buf_row *r = &buf_rows[i];
		assert_int_equal(ftruncate(fileno(capture), 0), 0);
		log_set_buffered(r->buffered);
		log_msg(r->lvl, "t", "row %zu", i);
		size_t n = count_lines(written());
		if (n != (r->written_at_once ? 1u : 0u))
			fail_msg("%s: %zu lines written before log_flush", r->what, n);
		log_flush();
		assert_int_equal(count_lines(written()), 1);
		log_flush(); /* nothing twice */
		assert_int_equal(count_lines(written()), 1);
		log_set_buffered(false);
	}
}

static void test_error_writes_the_lines_before_it_in_order(void **state)
{
	(void)state;
	log_set_buffered(true);
	log_info("t", "first");
	log_warn("t", "second");
	assert_string_equal(written(), "");
	log_err("t", "third");
	const char *w = written();
	const char *a = strstr(w, "first"), *b = strstr(w, "second"), *c = strstr(w, "third");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_true(a < b && b < c);
	assert_int_equal(count_lines(w), 3);
}

static void test_turning_buffering_off_flushes(void **state)
{
	(void)state;
	log_set_buffered(true);
	log_info("t", "pending");
	assert_string_equal(written(), "");
	log_set_buffered(false);
	assert_non_null(strstr(written(), "pending"));
}

static void test_debug_line_below_the_level_is_not_made(void **state)
{
	(void)state;
	log_debug("t", "hidden");
	log_msg(LOG_LVL_DEBUG, "t", "hidden too");
	assert_string_equal(written(), "");
}

static size_t sink_calls;
static char sink_last[256];

static void sink(void *arg, enum log_level lvl, const char *line)
{
	(void)arg;
	(void)lvl;
	sink_calls++;
	snprintf(sink_last, sizeof(sink_last), "%s", line);
}

static void test_sink_sees_each_line_at_once_without_newline(void **state)
{
	(void)state;
	sink_calls = 0;
	log_set_sink(sink, NULL);
	log_set_buffered(true);
	log_info("t", "to the ring");
	assert_int_equal(sink_calls, 1);
	assert_non_null(strstr(sink_last, "info t: to the ring"));
	assert_null(strchr(sink_last, '\n'));
	assert_string_equal(written(), ""); /* stderr still waits */
	log_flush();
	assert_non_null(strstr(written(), "to the ring"));
}

static void test_full_buffer_is_written_without_losing_lines(void **state)
{
	(void)state;
	log_set_buffered(true);
	const size_t n = 3000; /* ~100 bytes each: several buffers' worth */
	for (size_t i = 0; i < n; i++)
		log_info("t", "line %06zu padding padding padding padding padding padding", i);
	assert_true(count_lines(written()) > 0); /* a full buffer did not wait for the flush */
	assert_true(count_lines(written()) < n);
	log_flush();
	const char *w = written();
	assert_int_equal(count_lines(w), n);
	const char *p = w;
	for (size_t i = 0; i < n; i++) {
		char want[32];
		snprintf(want, sizeof(want), "line %06zu ", i);
		p = strstr(p, want);
		if (!p)
			fail_msg("line %zu missing or out of order", i);
	}
}

static void test_long_line_is_cut_not_overflowed(void **state)
{
	(void)state;
	static char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	log_set_buffered(true);
	log_info("t", "%s", big);
	log_flush();
	const char *w = written();
	assert_int_equal(count_lines(w), 1);
	assert_true(strlen(w) <= 2048);
	assert_int_equal(w[strlen(w) - 1], '\n');
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_line_format_is_utc_stamp_level_module_text),
		T(test_buffering_table),
		T(test_error_writes_the_lines_before_it_in_order),
		T(test_turning_buffering_off_flushes),
		T(test_debug_line_below_the_level_is_not_made),
		T(test_sink_sees_each_line_at_once_without_newline),
		T(test_full_buffer_is_written_without_losing_lines),
		T(test_long_line_is_cut_not_overflowed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
