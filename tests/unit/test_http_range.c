/*
 * Unit tests for http/range: the Range header parser (single, multi, merge, suffix,
 * unsatisfiable, malformed, overflow, 1000 x "0-0", more than 16 ranges) and the
 * multipart/byteranges body layout read back through a memory "file".
 * Every table row runs as its own named cmocka test.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_proto.h"

#define MAXR 20

struct range_row {
	const char *name;
	const char *hdr;
	uint64_t size;
	enum http_range_result res;
	size_t n;
	struct http_range r[MAXR];
};

#define R(a, b)                                                                                    \
	{                                                                                          \
		(a), (b)                                                                           \
	}
#define IGNORE HTTP_RANGE_IGNORE
#define OK     HTTP_RANGE_OK
#define UNSAT  HTTP_RANGE_UNSATISFIABLE
#define U64MAX "18446744073709551615"

static const struct range_row range_rows[] = {
    /* single ranges */
    {"first_last_is_one_range", "bytes=0-99", 1000, OK, 1, {R(0, 99)}},
    {"first_only_runs_to_the_end", "bytes=500-", 1000, OK, 1, {R(500, 999)}},
    {"last_past_the_end_is_clamped", "bytes=900-5000", 1000, OK, 1, {R(900, 999)}},
    {"single_byte_0_0", "bytes=0-0", 1000, OK, 1, {R(0, 0)}},
    {"last_byte_of_file", "bytes=999-999", 1000, OK, 1, {R(999, 999)}},
    {"unit_is_case_insensitive", "BYTES=1-2", 1000, OK, 1, {R(1, 2)}},
    {"max_u64_last_is_clamped", "bytes=0-" U64MAX, 10, OK, 1, {R(0, 9)}},
    {"leading_zeros_are_decimal", "bytes=0010-0012", 100, OK, 1, {R(10, 12)}},
    /* suffix */
    {"suffix_is_last_n_bytes", "bytes=-100", 1000, OK, 1, {R(900, 999)}},
    {"suffix_longer_than_file_is_whole_file", "bytes=-5000", 1000, OK, 1, {R(0, 999)}},
    {"suffix_max_u64_is_whole_file", "bytes=-" U64MAX, 1000, OK, 1, {R(0, 999)}},
    {"suffix_zero_is_unsatisfiable", "bytes=-0", 1000, UNSAT, 0, {{0}}},
    {"suffix_on_empty_file_is_unsatisfiable", "bytes=-5", 0, UNSAT, 0, {{0}}},
    /* multi */
    {"two_disjoint_ranges_stay_two", "bytes=0-9,20-29", 100, OK, 2, {R(0, 9), R(20, 29)}},
    {"ranges_are_sorted", "bytes=50-59,0-9", 100, OK, 2, {R(0, 9), R(50, 59)}},
    {"overlapping_ranges_merge", "bytes=0-10,5-20", 100, OK, 1, {R(0, 20)}},
    {"adjacent_ranges_merge", "bytes=0-9,10-19", 100, OK, 1, {R(0, 19)}},
    {"contained_range_merges", "bytes=0-50,10-20", 100, OK, 1, {R(0, 50)}},
    {"bridging_range_merges_three", "bytes=0-9,20-29,5-25", 100, OK, 1, {R(0, 29)}},
    {"suffix_and_prefix_merge_to_whole", "bytes=0-49,-50", 100, OK, 1, {R(0, 99)}},
    {"gap_of_one_byte_does_not_merge", "bytes=0-9,11-19", 100, OK, 2, {R(0, 9), R(11, 19)}},
    {"ows_around_commas_is_accepted",
     "bytes=0-1 , 5-6,\t8-9",
     100,
     OK,
     3,
     {R(0, 1), R(5, 6), R(8, 9)}},
    {"empty_list_elements_are_ignored", "bytes=,0-1,,5-6,", 100, OK, 2, {R(0, 1), R(5, 6)}},
    {"unsatisfiable_piece_is_dropped", "bytes=0-1,500-600", 100, OK, 1, {R(0, 1)}},
    {"sixteen_ranges_are_served",
     "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,"
     "20-20,22-22,24-24,26-26,28-28,30-30",
     100,
     OK,
     16,
     {R(0, 0), R(2, 2), R(4, 4), R(6, 6), R(8, 8), R(10, 10), R(12, 12), R(14, 14), R(16, 16),
      R(18, 18), R(20, 20), R(22, 22), R(24, 24), R(26, 26), R(28, 28), R(30, 30)}},
    {"seventeen_ranges_serve_the_whole_file",
     "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,20-20,22-22,24-24,26-26,28-28,"
     "30-30,32-32",
     100,
     IGNORE,
     0,
     {{0}}},
    {"seventeen_pieces_merging_to_one_are_served",
     "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,20-20,22-22,24-24,26-26,28-28,"
     "30-30,32-32,0-40",
     100,
     OK,
     1,
     {R(0, 40)}},
    /* unsatisfiable */
    {"first_at_size_is_unsatisfiable", "bytes=1000-", 1000, UNSAT, 0, {{0}}},
    {"first_past_size_is_unsatisfiable", "bytes=2000-3000", 1000, UNSAT, 0, {{0}}},
    {"all_pieces_out_of_range_is_unsatisfiable", "bytes=200-300,-0,400-", 100, UNSAT, 0, {{0}}},
    {"any_range_of_empty_file_is_unsatisfiable", "bytes=0-0", 0, UNSAT, 0, {{0}}},
    {"max_u64_first_is_unsatisfiable", "bytes=" U64MAX "-", 1000, UNSAT, 0, {{0}}},
    /* malformed: the whole file */
    {"last_before_first_is_malformed", "bytes=5-1", 1000, IGNORE, 0, {{0}}},
    {"one_bad_piece_spoils_the_header", "bytes=0-1,5-1", 1000, IGNORE, 0, {{0}}},
    {"first_past_2_64_is_malformed", "bytes=18446744073709551616-", 1000, IGNORE, 0, {{0}}},
    {"last_past_2_64_is_malformed", "bytes=0-18446744073709551616", 1000, IGNORE, 0, {{0}}},
    {"suffix_past_2_64_is_malformed", "bytes=-99999999999999999999999", 1000, IGNORE, 0, {{0}}},
    {"other_unit_is_ignored", "items=0-1", 1000, IGNORE, 0, {{0}}},
    {"missing_equals_is_malformed", "bytes 0-1", 1000, IGNORE, 0, {{0}}},
    {"no_ranges_is_malformed", "bytes=", 1000, IGNORE, 0, {{0}}},
    {"only_commas_is_malformed", "bytes=,,", 1000, IGNORE, 0, {{0}}},
    {"lone_dash_is_malformed", "bytes=-", 1000, IGNORE, 0, {{0}}},
    {"missing_dash_is_malformed", "bytes=5", 1000, IGNORE, 0, {{0}}},
    {"space_inside_range_is_malformed", "bytes=0 -1", 1000, IGNORE, 0, {{0}}},
    {"space_after_equals_is_malformed", "bytes= 0-1", 1000, IGNORE, 0, {{0}}},
    {"negative_number_is_malformed", "bytes=-1-5", 1000, IGNORE, 0, {{0}}},
    {"trailing_garbage_is_malformed", "bytes=0-1x", 1000, IGNORE, 0, {{0}}},
    {"hex_is_malformed", "bytes=0x10-0x20", 1000, IGNORE, 0, {{0}}},
    {"plus_sign_is_malformed", "bytes=+1-2", 1000, IGNORE, 0, {{0}}},
    {"empty_header_is_malformed", "", 1000, IGNORE, 0, {{0}}},
    {"unit_prefix_only_is_malformed", "byte", 1000, IGNORE, 0, {{0}}},
};

static void run_range_row(void **state)
{
	const struct range_row *row = *state;
	struct http_range out[HTTP_RANGES_MAX];
	size_t n = 99;
	enum http_range_result res =
	    http_range_parse(row->hdr, strlen(row->hdr), row->size, out, &n);
	assert_int_equal(res, row->res);
	if (res != HTTP_RANGE_OK) {
		assert_int_equal(n, 0);
		return;
	}
	assert_int_equal(n, row->n);
	for (size_t i = 0; i < n; i++) {
		assert_true(out[i].first == row->r[i].first);
		assert_true(out[i].last == row->r[i].last);
	}
}

/* 1000 copies of "0-0" (the bad input) merge into one range. */
static void test_thousand_zero_zero_ranges_merge_into_one(void **state)
{
	(void)state;
	size_t cap = 6 + 1000 * 4 + 1;
	char *h = malloc(cap);
	assert_non_null(h);
	strcpy(h, "bytes=");
	for (int i = 0; i < 1000; i++)
		strcat(h, i ? ",0-0" : "0-0");
	struct http_range out[HTTP_RANGES_MAX];
	size_t n;
	assert_int_equal(http_range_parse(h, strlen(h), 5, out, &n), HTTP_RANGE_OK);
	assert_int_equal(n, 1);
	assert_true(out[0].first == 0 && out[0].last == 0);
	free(h);
}

/* 65 distinct pieces overflow the merge set: the header is ignored, never overrun. */
static void test_sixty_five_distinct_pieces_are_ignored(void **state)
{
	(void)state;
	char h[2048] = "bytes=";
	for (int i = 0; i < 65; i++) {
		char p[32];
		snprintf(p, sizeof(p), "%s%d-%d", i ? "," : "", i * 2, i * 2);
		strcat(h, p);
	}
	struct http_range out[HTTP_RANGES_MAX];
	size_t n;
	assert_int_equal(http_range_parse(h, strlen(h), 1000, out, &n), HTTP_RANGE_IGNORE);
}

/* The header is length-delimited: bytes after len are not read. */
static void test_parser_stops_at_len(void **state)
{
	(void)state;
	const char h[] = "bytes=0-4,garbage";
	struct http_range out[HTTP_RANGES_MAX];
	size_t n;
	assert_int_equal(http_range_parse(h, 9, 100, out, &n), HTTP_RANGE_OK);
	assert_int_equal(n, 1);
	assert_true(out[0].last == 4);
}

/* ---- multipart/byteranges ---- */

static const char file_data[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static ssize_t mem_read(void *arg, void *buf, size_t len, uint64_t off)
{
	(void)arg;
	size_t size = sizeof(file_data) - 1;
	if (off >= size)
		return 0;
	size_t n = len < size - off ? len : size - (size_t)off;
	memcpy(buf, file_data + off, n);
	return (ssize_t)n;
}

static ssize_t short_read(void *arg, void *buf, size_t len, uint64_t off)
{
	(void)arg;
	(void)buf;
	(void)len;
	(void)off;
	return 0;
}

static const char multipart_expected[] = "\r\n--B0undary\r\n"
					 "Content-Type: text/plain\r\n"
					 "Content-Range: bytes 0-2/36\r\n"
					 "\r\n"
					 "012"
					 "\r\n--B0undary\r\n"
					 "Content-Type: text/plain\r\n"
					 "Content-Range: bytes 30-35/36\r\n"
					 "\r\n"
					 "uvwxyz"
					 "\r\n--B0undary--\r\n";

static void test_multipart_body_is_exact(void **state)
{
	(void)state;
	struct http_range r[2] = {{0, 2}, {30, 35}};
	struct http_multipart m;
	assert_int_equal(http_multipart_init(&m, r, 2, 36, "text/plain", "B0undary"), 0);
	assert_true(m.total == sizeof(multipart_expected) - 1);
	char out[512];
	ssize_t n = http_multipart_read(&m, 0, out, sizeof(out), mem_read, NULL);
	assert_int_equal(n, (ssize_t)m.total);
	assert_memory_equal(out, multipart_expected, m.total);
	assert_int_equal(http_multipart_read(&m, m.total, out, sizeof(out), mem_read, NULL), 0);
}

/* Read in every chunk size from 1 byte up: the concatenation is always the same body. */
static void test_multipart_read_in_any_chunks_is_identical(void **state)
{
	(void)state;
	struct http_range r[2] = {{0, 2}, {30, 35}};
	struct http_multipart m;
	assert_int_equal(http_multipart_init(&m, r, 2, 36, "text/plain", "B0undary"), 0);
	for (size_t chunk = 1; chunk <= m.total; chunk++) {
		char out[512];
		uint64_t pos = 0;
		while (pos < m.total) {
			ssize_t n = http_multipart_read(&m, pos, out + pos, chunk, mem_read, NULL);
			assert_true(n > 0);
			pos += (uint64_t)n;
		}
		assert_memory_equal(out, multipart_expected, m.total);
	}
}

static void test_multipart_short_file_read_is_an_error(void **state)
{
	(void)state;
	struct http_range r[2] = {{0, 2}, {30, 35}};
	struct http_multipart m;
	char out[512];
	assert_int_equal(http_multipart_init(&m, r, 2, 36, "text/plain", "B"), 0);
	assert_int_equal(http_multipart_read(&m, 0, out, sizeof(out), short_read, NULL), -EIO);
}

struct mp_bad_row {
	const char *name;
	size_t n;
	uint64_t size;
	const char *boundary;
};

static const struct mp_bad_row mp_bad_rows[] = {
    {"multipart_of_one_range_is_refused", 1, 36, "B"},
    {"multipart_of_seventeen_ranges_is_refused", 17, 36, "B"},
    {"empty_boundary_is_refused", 2, 36, ""},
    {"boundary_with_crlf_is_refused", 2, 36, "a\r\nb"},
    {"boundary_longer_than_24_is_refused", 2, 36, "0123456789012345678901234"},
    {"range_past_size_is_refused", 2, 30, "B"},
};

static void run_mp_bad_row(void **state)
{
	const struct mp_bad_row *row = *state;
	struct http_range r[17];
	for (size_t i = 0; i < 17; i++) {
		r[i].first = i * 2;
		r[i].last = i * 2;
	}
	r[1].first = 30;
	r[1].last = 35;
	struct http_multipart m;
	assert_int_equal(http_multipart_init(&m, r, row->n, row->size, "text/plain", row->boundary),
			 -EINVAL);
}

int main(void)
{
	static struct CMUnitTest tests[256];
	size_t n = 0;
#define ROWS(arr, fn)                                                                              \
	for (size_t i_ = 0; i_ < sizeof(arr) / sizeof((arr)[0]); i_++)                             \
		tests[n++] =                                                                       \
		    (struct CMUnitTest){(arr)[i_].name, fn, NULL, NULL, (void *)&(arr)[i_]};
#define ONE(fn) (tests[n++] = (struct CMUnitTest){#fn, fn, NULL, NULL, NULL})
	ROWS(range_rows, run_range_row);
	ROWS(mp_bad_rows, run_mp_bad_row);
	ONE(test_thousand_zero_zero_ranges_merge_into_one);
	ONE(test_sixty_five_distinct_pieces_are_ignored);
	ONE(test_parser_stops_at_len);
	ONE(test_multipart_body_is_exact);
	ONE(test_multipart_read_in_any_chunks_is_identical);
	ONE(test_multipart_short_file_read_is_an_error);
	return _cmocka_run_group_tests("http_range", tests, n, NULL, NULL);
}
