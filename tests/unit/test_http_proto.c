/*
 * Unit tests for http/proto: ETags and their comparison, conditional requests in RFC 9110
 * §13.2.2 order (304, 412, If-Range with a stale or weak validator), HTTP dates in all three
 * forms, percent-decoding exactly once (the bad paths), request-target splitting,
 * query strings and content types. Every table row runs as its own named cmocka test.
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

#include "http/http_proto.h"

/* ---- ETag ---- */

static void test_etag_is_quoted_hex_size_mtime_inode(void **state)
{
	(void)state;
	char b[HTTP_ETAG_LEN];
	assert_string_equal(http_etag(b, 0x1000, 1, 5, 0xabc), "\"1000-3b9aca05-abc\"");
	/* 5 GiB, a 2038+ mtime, a 64-bit inode still fit */
	http_etag(b, 5ull << 30, 4102444800, 999999999, UINT64_MAX);
	assert_string_equal(b, "\"140000000-38eecfcf9240c9ff-ffffffffffffffff\"");
}

struct match_row {
	const char *name;
	const char *list, *etag;
	bool weak, match;
};

static const struct match_row match_rows[] = {
    {"same_strong_tag_matches_strongly", "\"a\"", "\"a\"", false, true},
    {"different_tag_does_not_match", "\"b\"", "\"a\"", false, false},
    {"tag_in_list_matches", "\"x\", \"a\" ,\"y\"", "\"a\"", false, true},
    {"star_matches_anything", "*", "\"a\"", false, true},
    {"star_with_spaces_matches", "  *", "\"a\"", true, true},
    {"weak_list_tag_fails_strong_comparison", "W/\"a\"", "\"a\"", false, false},
    {"weak_list_tag_passes_weak_comparison", "W/\"a\"", "\"a\"", true, true},
    {"weak_current_tag_fails_strong_comparison", "\"a\"", "W/\"a\"", false, false},
    {"unquoted_tag_is_malformed", "a", "\"a\"", true, false},
    {"unterminated_tag_is_malformed", "\"a", "\"a\"", true, false},
    {"garbage_after_tag_is_malformed", "\"a\"x", "\"a\"", true, false},
    {"malformed_entry_spoils_the_list", "\"a\", b", "\"a\"", true, false},
    {"empty_list_matches_nothing", "", "\"a\"", true, false},
    {"prefix_of_tag_does_not_match", "\"ab\"", "\"a\"", true, false},
};

static void run_match_row(void **state)
{
	const struct match_row *r = *state;
	assert_int_equal(http_etag_match(r->list, r->etag, r->weak), r->match);
}

/* ---- conditionals ---- */

#define ET        "\"10-20-30\""
#define LM        784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */
#define LM_S      "Sun, 06 Nov 1994 08:49:37 GMT"
#define LATER_S   "Mon, 07 Nov 1994 08:49:37 GMT"
#define EARLIER_S "Sat, 05 Nov 1994 08:49:37 GMT"

struct cond_row {
	const char *name;
	struct http_cond c;
	enum http_cond_result res;
	bool range_ok;
};

#define FILE_VALIDATORS .get_or_head = true, .etag = ET, .mtime = LM

static const struct cond_row cond_rows[] = {
    {"no_conditions_proceeds", {FILE_VALIDATORS}, HTTP_COND_PROCEED, true},
    {"if_none_match_same_etag_is_304",
     {.if_none_match = ET, FILE_VALIDATORS},
     HTTP_COND_NOT_MODIFIED,
     true},
    {"if_none_match_weak_form_of_etag_is_304",
     {.if_none_match = "W/" ET, FILE_VALIDATORS},
     HTTP_COND_NOT_MODIFIED,
     true},
    {"if_none_match_other_etag_proceeds",
     {.if_none_match = "\"zz\"", FILE_VALIDATORS},
     HTTP_COND_PROCEED,
     true},
    {"if_none_match_star_is_304",
     {.if_none_match = "*", FILE_VALIDATORS},
     HTTP_COND_NOT_MODIFIED,
     true},
    {"if_none_match_on_generated_content_proceeds",
     {.if_none_match = ET, .get_or_head = true, .mtime = -1},
     HTTP_COND_PROCEED,
     true},
    {"if_none_match_wins_over_if_modified_since",
     {.if_none_match = "\"zz\"", .if_modified_since = LATER_S, FILE_VALIDATORS},
     HTTP_COND_PROCEED,
     true},
    {"if_modified_since_same_date_is_304",
     {.if_modified_since = LM_S, FILE_VALIDATORS},
     HTTP_COND_NOT_MODIFIED,
     true},
    {"if_modified_since_later_date_is_304",
     {.if_modified_since = LATER_S, FILE_VALIDATORS},
     HTTP_COND_NOT_MODIFIED,
     true},
    {"if_modified_since_earlier_date_proceeds",
     {.if_modified_since = EARLIER_S, FILE_VALIDATORS},
     HTTP_COND_PROCEED,
     true},
    {"if_modified_since_invalid_date_is_ignored",
     {.if_modified_since = "yesterday", FILE_VALIDATORS},
     HTTP_COND_PROCEED,
     true},
    {"if_match_same_etag_proceeds", {.if_match = ET, FILE_VALIDATORS}, HTTP_COND_PROCEED, true},
    {"if_match_other_etag_is_412", {.if_match = "\"zz\"", FILE_VALIDATORS}, HTTP_COND_FAILED, true},
    {"if_match_weak_etag_is_412", {.if_match = "W/" ET, FILE_VALIDATORS}, HTTP_COND_FAILED, true},
    {"if_match_star_proceeds", {.if_match = "*", FILE_VALIDATORS}, HTTP_COND_PROCEED, true},
    {"if_unmodified_since_earlier_is_412",
     {.if_unmodified_since = EARLIER_S, FILE_VALIDATORS},
     HTTP_COND_FAILED,
     true},
    {"if_unmodified_since_same_proceeds",
     {.if_unmodified_since = LM_S, FILE_VALIDATORS},
     HTTP_COND_PROCEED,
     true},
    {"if_match_failing_wins_over_if_none_match",
     {.if_match = "\"zz\"", .if_none_match = ET, FILE_VALIDATORS},
     HTTP_COND_FAILED,
     true},
    {"if_range_same_etag_uses_range", {.if_range = ET, FILE_VALIDATORS}, HTTP_COND_PROCEED, true},
    {"if_range_stale_etag_sends_whole_file",
     {.if_range = "\"10-20-2f\"", FILE_VALIDATORS},
     HTTP_COND_PROCEED,
     false},
    {"if_range_weak_etag_sends_whole_file",
     {.if_range = "W/" ET, FILE_VALIDATORS},
     HTTP_COND_PROCEED,
     false},
    {"if_range_same_date_uses_range", {.if_range = LM_S, FILE_VALIDATORS}, HTTP_COND_PROCEED, true},
    {"if_range_other_date_sends_whole_file",
     {.if_range = LATER_S, FILE_VALIDATORS},
     HTTP_COND_PROCEED,
     false},
    {"if_range_garbage_sends_whole_file",
     {.if_range = "whatever", FILE_VALIDATORS},
     HTTP_COND_PROCEED,
     false},
    {"if_range_etag_on_generated_content_sends_whole",
     {.if_range = ET, .get_or_head = true, .mtime = -1},
     HTTP_COND_PROCEED,
     false},
};

static void run_cond_row(void **state)
{
	const struct cond_row *r = *state;
	assert_int_equal(http_cond_eval(&r->c), r->res);
	assert_int_equal(http_if_range_ok(&r->c), r->range_ok);
}

/* ---- dates ---- */

struct date_row {
	const char *name;
	const char *s;
	int ret;
	int64_t t;
};

static const struct date_row date_rows[] = {
    {"imf_fixdate_is_parsed", "Sun, 06 Nov 1994 08:49:37 GMT", 0, LM},
    {"rfc850_date_is_parsed", "Sunday, 06-Nov-94 08:49:37 GMT", 0, LM},
    {"asctime_date_is_parsed", "Sun Nov  6 08:49:37 1994", 0, LM},
    {"asctime_two_digit_day_is_parsed", "Thu Nov 17 08:49:37 1994", 0, 785062177},
    {"epoch_is_parsed", "Thu, 01 Jan 1970 00:00:00 GMT", 0, 0},
    {"year_2100_is_parsed", "Fri, 01 Jan 2100 00:00:00 GMT", 0, 4102444800},
    {"leap_day_is_parsed", "Thu, 29 Feb 2024 12:00:00 GMT", 0, 1709208000},
    {"lowercase_month_is_refused", "Sun, 06 nov 1994 08:49:37 GMT", -EINVAL, 0},
    {"missing_gmt_is_refused", "Sun, 06 Nov 1994 08:49:37", -EINVAL, 0},
    {"other_zone_is_refused", "Sun, 06 Nov 1994 08:49:37 UTC", -EINVAL, 0},
    {"trailing_bytes_are_refused", "Sun, 06 Nov 1994 08:49:37 GMTx", -EINVAL, 0},
    {"hour_25_is_refused", "Sun, 06 Nov 1994 25:49:37 GMT", -EINVAL, 0},
    {"one_digit_day_in_fixdate_is_refused", "Sun, 6 Nov 1994 08:49:37 GMT", -EINVAL, 0},
    {"empty_date_is_refused", "", -EINVAL, 0},
    {"number_is_refused", "784111777", -EINVAL, 0},
};

static void run_date_row(void **state)
{
	const struct date_row *r = *state;
	int64_t t = -1;
	assert_int_equal(http_date_parse(r->s, &t), r->ret);
	if (r->ret == 0)
		assert_true(t == r->t);
}

static void test_date_format_round_trips(void **state)
{
	(void)state;
	char b[HTTP_DATE_LEN];
	assert_string_equal(http_date_fmt(b, LM), LM_S);
	int64_t samples[] = {0, 951782400, 1709208000, 2147483648, 4102444800, 253402300799};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		int64_t t;
		assert_int_equal(http_date_parse(http_date_fmt(b, samples[i]), &t), 0);
		assert_true(t == samples[i]);
	}
}

/* ---- percent-decoding ---- */

struct pct_row {
	const char *name;
	const char *in;
	bool plus;
	ssize_t ret;
	const char *out;
};

static const struct pct_row pct_rows[] = {
    {"plain_path_is_unchanged", "/boot/vmlinuz", false, 13, "/boot/vmlinuz"},
    {"escaped_dots_decode_to_dots", "%2e%2e/", false, 3, "../"},
    {"mixed_dot_escape_decodes", ".%2e/", false, 3, "../"},
    {"double_encoding_is_decoded_once", "%252e%252e/", false, 7, "%2e%2e/"},
    {"escaped_backslash_decodes", "..%5c", false, 3, "..\\"},
    {"escaped_nul_is_refused", "a%00b", false, -EINVAL, NULL},
    {"overlong_utf8_stays_two_bytes", "%c0%ae", false, 2, "\xc0\xae"},
    {"uppercase_hex_decodes", "%2E%2F", false, 2, "./"},
    {"truncated_escape_is_refused", "abc%2", false, -EINVAL, NULL},
    {"lone_percent_is_refused", "%", false, -EINVAL, NULL},
    {"non_hex_escape_is_refused", "%zz", false, -EINVAL, NULL},
    {"plus_stays_plus_in_paths", "a+b", false, 3, "a+b"},
    {"plus_is_space_in_queries", "a+b", true, 3, "a b"},
    {"escaped_plus_is_plus_in_queries", "a%2bb", true, 3, "a+b"},
    {"empty_input_is_empty", "", false, 0, ""},
    {"utf8_passes_through", "caf\xc3\xa9", false, 5, "caf\xc3\xa9"},
};

static void run_pct_row(void **state)
{
	const struct pct_row *r = *state;
	char out[64];
	ssize_t n = http_pct_decode(r->in, strlen(r->in), out, sizeof(out), r->plus);
	assert_int_equal(n, r->ret);
	if (n >= 0) {
		assert_memory_equal(out, r->out, (size_t)n);
		assert_int_equal(out[n], 0);
	}
}

static void test_pct_decode_reports_a_full_buffer(void **state)
{
	(void)state;
	char out[4];
	assert_int_equal(http_pct_decode("abc", 3, out, sizeof(out), false), 3);
	assert_int_equal(http_pct_decode("abcd", 4, out, sizeof(out), false), -ENOSPC);
	assert_int_equal(http_pct_decode("a", 1, out, 0, false), -ENOSPC);
}

/* ---- request target ---- */

struct target_row {
	const char *name;
	const char *t;
	int ret;
	const char *path, *query;
};

static const struct target_row target_rows[] = {
    {"origin_form_path_only", "/a/b", 0, "/a/b", ""},
    {"origin_form_with_query", "/boot.ipxe?mac=1&arch=2", 0, "/boot.ipxe", "mac=1&arch=2"},
    {"empty_query_after_question_mark", "/x?", 0, "/x", ""},
    {"question_mark_in_query_stays", "/x?a=?b", 0, "/x", "a=?b"},
    {"absolute_form_is_accepted", "http://10.0.0.1:80/x?y", 0, "/x", "y"},
    {"absolute_form_scheme_is_case_insensitive", "HTTP://h/x", 0, "/x", ""},
    {"absolute_form_without_path_is_refused", "http://host", -EINVAL, NULL, NULL},
    {"asterisk_form_is_refused", "*", -EINVAL, NULL, NULL},
    {"authority_form_is_refused", "example.com:443", -EINVAL, NULL, NULL},
    {"relative_path_is_refused", "a/b", -EINVAL, NULL, NULL},
    {"empty_target_is_refused", "", -EINVAL, NULL, NULL},
};

static void run_target_row(void **state)
{
	const struct target_row *r = *state;
	const char *p, *q;
	size_t pl, ql;
	assert_int_equal(http_target_split(r->t, strlen(r->t), &p, &pl, &q, &ql), r->ret);
	if (r->ret)
		return;
	assert_int_equal(pl, strlen(r->path));
	assert_memory_equal(p, r->path, pl);
	assert_int_equal(ql, strlen(r->query));
	assert_memory_equal(q, r->query, ql);
}

/* ---- query strings ---- */

struct query_row {
	const char *name;
	const char *q;
	int ret;
	const char *pairs[8][2];
};

static const struct query_row query_rows[] = {
    {"ipxe_boot_query_is_parsed",
     "mac=52%3a54%3a00%3a12%3a34%3a56&arch=x86_64&platform=efi&uuid=",
     4,
     {{"mac", "52:54:00:12:34:56"}, {"arch", "x86_64"}, {"platform", "efi"}, {"uuid", ""}}},
    {"bare_name_has_empty_value", "debug", 1, {{"debug", ""}}},
    {"empty_pieces_are_skipped", "&&a=1&&", 1, {{"a", "1"}}},
    {"plus_is_space_in_values", "name=a+b%20c", 1, {{"name", "a b c"}}},
    {"second_equals_belongs_to_value", "a=b=c", 1, {{"a", "b=c"}}},
    {"escaped_ampersand_stays_in_value", "a=x%26y&b=2", 2, {{"a", "x&y"}, {"b", "2"}}},
    {"nul_in_value_is_refused", "a=%00", -EINVAL, {{0}}},
    {"bad_escape_in_name_is_refused", "%zz=1", -EINVAL, {{0}}},
    {"more_than_max_params_is_refused", "a&b&c&d&e", -E2BIG, {{0}}},
    {"empty_query_has_no_params", "", 0, {{0}}},
};

static void run_query_row(void **state)
{
	const struct query_row *r = *state;
	struct http_param p[4];
	char buf[256];
	int n = http_query_parse(r->q, strlen(r->q), buf, sizeof(buf), p, 4);
	assert_int_equal(n, r->ret);
	for (int i = 0; i < n; i++) {
		assert_string_equal(p[i].name, r->pairs[i][0]);
		assert_string_equal(p[i].value, r->pairs[i][1]);
	}
}

static void test_query_reports_a_small_buffer(void **state)
{
	(void)state;
	struct http_param p[4];
	char buf[6];
	assert_int_equal(http_query_parse("abc=def", 7, buf, sizeof(buf), p, 4), -ENOSPC);
	assert_int_equal(http_query_parse("ab=cd", 5, buf, sizeof(buf), p, 4), 1);
}

/* ---- content types ---- */

struct ctype_row {
	const char *name;
	const char *file, *type;
};

static const struct ctype_row ctype_rows[] = {
    {"ipxe_script_is_text", "boot/menu.ipxe", "text/plain; charset=utf-8"},
    {"efi_binary_is_octet_stream", "ipxe.efi", "application/octet-stream"},
    {"kpxe_is_octet_stream", "undionly.kpxe", "application/octet-stream"},
    {"pxelinux_0_is_octet_stream", "pxelinux.0", "application/octet-stream"},
    {"iso_is_iso9660", "images/debian.iso", "application/x-iso9660-image"},
    {"extension_is_case_insensitive", "DEBIAN.ISO", "application/x-iso9660-image"},
    {"cfg_is_text", "pxelinux.cfg/default.cfg", "text/plain; charset=utf-8"},
    {"txt_is_text", "hello.txt", "text/plain; charset=utf-8"},
    {"html_is_html", "index.html", "text/html; charset=utf-8"},
    {"gz_is_gzip", "initrd.gz", "application/gzip"},
    {"img_is_octet_stream", "disk.img", "application/octet-stream"},
    {"no_extension_is_octet_stream", "vmlinuz", "application/octet-stream"},
    {"dot_in_directory_does_not_count", "a.iso/vmlinuz", "application/octet-stream"},
    {"dotfile_has_no_extension", ".iso", "application/octet-stream"},
    {"trailing_dot_is_octet_stream", "file.", "application/octet-stream"},
    {"pxelinux_cfg_default_is_text", "pxelinux.cfg/default", "text/plain; charset=utf-8"},
    {"pxelinux_cfg_mac_file_is_text", "/boot/pxelinux.cfg/01-52-54-00-12-34-56",
     "text/plain; charset=utf-8"},
    {"other_cfg_dir_is_not_pxelinux", "xpxelinux.cfg/default", "application/octet-stream"},
};

static void run_ctype_row(void **state)
{
	const struct ctype_row *r = *state;
	assert_string_equal(http_content_type(r->file), r->type);
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
	ONE(test_etag_is_quoted_hex_size_mtime_inode);
	ROWS(match_rows, run_match_row);
	ROWS(cond_rows, run_cond_row);
	ROWS(date_rows, run_date_row);
	ONE(test_date_format_round_trips);
	ROWS(pct_rows, run_pct_row);
	ONE(test_pct_decode_reports_a_full_buffer);
	ROWS(target_rows, run_target_row);
	ROWS(query_rows, run_query_row);
	ONE(test_query_reports_a_small_buffer);
	ROWS(ctype_rows, run_ctype_row);
	return _cmocka_run_group_tests("http_proto", tests, n, NULL, NULL);
}
