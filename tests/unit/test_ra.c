/*
 * Unit tests for ra/ (pure wire half): Router Solicitation validation as RFC 4861 §6.1.1
 * lists it (one row per rule, valid and invalid side by side), the "no router here" Router
 * Advertisement byte for byte, and build/parse round trips.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/util.h"
#include "ra/ra.h"

static const uint8_t MAC[6] = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};

/* ---- Router Solicitation validation ------------------------------------------------------- */

struct rs_row {
	const char *name;
	uint8_t pkt[32];
	size_t len;
	int hop_limit;
	bool src_unspecified;
	int want;
	bool has_slla;
	size_t nopts;
};

#define RS_HDR   133, 0, 0, 0, 0, 0, 0, 0
#define SLLA_OPT 1, 1, 0x52, 0x54, 0x00, 0x77, 0x00, 0x10

static const struct rs_row rs_rows[] = {
    {"rs_without_options_is_valid", {RS_HDR}, 8, 255, false, 0, false, 0},
    {"rs_with_source_link_layer_option_is_valid", {RS_HDR, SLLA_OPT}, 16, 255, false, 0, true, 1},
    {"rs_from_unspecified_without_slla_is_valid", {RS_HDR}, 8, 255, true, 0, false, 0},
    {"rs_from_unspecified_with_slla_is_invalid",
     {RS_HDR, SLLA_OPT},
     16,
     255,
     true,
     -EBADMSG,
     false,
     0},
    {"rs_with_hop_limit_254_is_invalid", {RS_HDR}, 8, 254, false, -EBADMSG, false, 0},
    {"rs_with_unknown_hop_limit_is_invalid", {RS_HDR}, 8, -1, false, -EBADMSG, false, 0},
    {"rs_with_code_1_is_invalid", {133, 1, 0, 0, 0, 0, 0, 0}, 8, 255, false, -EBADMSG, false, 0},
    {"rs_shorter_than_8_bytes_is_invalid",
     {133, 0, 0, 0, 0, 0, 0},
     7,
     255,
     false,
     -EBADMSG,
     false,
     0},
    {"rs_with_zero_length_option_is_invalid",
     {RS_HDR, 1, 0, 0, 0, 0, 0, 0, 0},
     16,
     255,
     false,
     -EBADMSG,
     false,
     0},
    {"rs_with_option_past_the_end_is_invalid",
     {RS_HDR, 1, 2, 0, 0, 0, 0, 0, 0},
     16,
     255,
     false,
     -EBADMSG,
     false,
     0},
    {"rs_with_option_header_cut_short_is_invalid", {RS_HDR, 1}, 9, 255, false, -EBADMSG, false, 0},
    {"rs_with_unknown_option_is_valid_and_it_is_skipped",
     {RS_HDR, 99, 1, 0, 0, 0, 0, 0, 0, SLLA_OPT},
     24,
     255,
     false,
     0,
     true,
     2},
    {"rs_with_reserved_bits_set_is_valid",
     {133, 0, 0, 0, 0xff, 0xff, 0xff, 0xff},
     8,
     255,
     false,
     0,
     false,
     0},
    {"another_icmpv6_type_is_not_an_rs",
     {134, 0, 0, 0, 0, 0, 0, 0},
     8,
     255,
     false,
     -ENOMSG,
     false,
     0},
    {"empty_message_is_invalid", {0}, 0, 255, false, -EBADMSG, false, 0},
};

static void run_rs_row(void **state)
{
	const struct rs_row *r = *state;
	struct ra_rs rs;
	assert_int_equal(ra_parse_rs(r->pkt, r->len, r->hop_limit, r->src_unspecified, &rs),
			 r->want);
	if (r->want == 0) {
		assert_int_equal(rs.has_slla, r->has_slla);
		assert_int_equal(rs.nopts, r->nopts);
		if (r->has_slla)
			assert_memory_equal(rs.slla, MAC, 6);
	}
}

/* ---- the advertisement pixied sends -------------------------------------------------------- */

static void test_no_router_ra_is_lifetime_0_no_prefix_no_flags_with_our_mac(void **state)
{
	(void)state;
	struct ra_advert a;
	ra_no_router(&a, MAC);
	uint8_t buf[RA_MAX_LEN];
	int n = ra_build_ra(buf, sizeof(buf), &a);
	static const uint8_t want[] = {
	    134, 0,    0,    0,    /* type RA, code 0, checksum left to the kernel */
	    0,   0,                /* cur hop limit unspecified; M = O = 0 */
	    0,   0,                /* router lifetime 0: not a default router */
	    0,   0,    0,    0,    /* reachable time unspecified */
	    0,   0,    0,    0,    /* retrans timer unspecified */
	    1,   1,    0x52, 0x54, /* source link-layer address option, 8 bytes */
	    0,   0x77, 0,    0x10,
	};
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	struct ra_advert b;
	assert_int_equal(ra_parse_ra(buf, (size_t)n, &b), 0);
	assert_int_equal(b.router_lifetime, 0);
	assert_false(b.managed);
	assert_false(b.other);
	assert_int_equal(b.nprefixes, 0);
	assert_int_equal(b.nopts, 1);
	assert_true(b.has_slla);
	assert_memory_equal(b.slla, MAC, 6);
}

struct build_row {
	const char *name;
	struct ra_advert a;
	size_t cap;
	int want_len;
};

static const struct build_row build_rows[] = {
    {"ra_with_flags_and_timers_round_trips",
     {.cur_hop_limit = 64,
      .managed = true,
      .other = true,
      .router_lifetime = 1800,
      .reachable_ms = 30000,
      .retrans_ms = 1000},
     RA_MAX_LEN,
     16},
    {"ra_with_slla_round_trips",
     {.router_lifetime = 0, .has_slla = true, .slla = {2, 0, 0, 0, 0, 1}},
     RA_MAX_LEN,
     24},
    {"ra_in_a_buffer_one_byte_short_is_enospc", {.has_slla = true}, 23, -ENOSPC},
    {"ra_header_in_a_15_byte_buffer_is_enospc", {0}, 15, -ENOSPC},
};

static void run_build_row(void **state)
{
	const struct build_row *r = *state;
	uint8_t buf[RA_MAX_LEN];
	int n = ra_build_ra(buf, r->cap, &r->a);
	assert_int_equal(n, r->want_len);
	if (n < 0)
		return;
	struct ra_advert b;
	assert_int_equal(ra_parse_ra(buf, (size_t)n, &b), 0);
	assert_int_equal(b.cur_hop_limit, r->a.cur_hop_limit);
	assert_int_equal(b.managed, r->a.managed);
	assert_int_equal(b.other, r->a.other);
	assert_int_equal(b.router_lifetime, r->a.router_lifetime);
	assert_int_equal(b.reachable_ms, r->a.reachable_ms);
	assert_int_equal(b.retrans_ms, r->a.retrans_ms);
	assert_int_equal(b.has_slla, r->a.has_slla);
	if (b.has_slla)
		assert_memory_equal(b.slla, r->a.slla, 6);
}

/* ---- RA parser ---------------------------------------------------------------------------- */

struct ra_row {
	const char *name;
	uint8_t pkt[48];
	size_t len;
	int want;
	size_t nprefixes;
};

#define RA_HDR0 134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

static const struct ra_row ra_rows[] = {
    {"ra_without_options_parses", {RA_HDR0}, 16, 0, 0},
    {"ra_with_a_prefix_option_counts_it",
     {RA_HDR0, 3, 4, 64, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0,       0, 0, 0,  0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
     48,
     0,
     1},
    {"ra_shorter_than_16_bytes_is_invalid", {RA_HDR0}, 15, -EBADMSG, 0},
    {"ra_with_code_1_is_invalid",
     {134, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
     16,
     -EBADMSG,
     0},
    {"ra_with_zero_length_option_is_invalid", {RA_HDR0, 5, 0}, 18, -EBADMSG, 0},
    {"ra_with_option_past_the_end_is_invalid", {RA_HDR0, 5, 1, 0, 0}, 20, -EBADMSG, 0},
    {"an_rs_is_not_an_ra", {RS_HDR}, 8, -ENOMSG, 0},
};

static void run_ra_row(void **state)
{
	const struct ra_row *r = *state;
	struct ra_advert a;
	assert_int_equal(ra_parse_ra(r->pkt, r->len, &a), r->want);
	if (r->want == 0)
		assert_int_equal(a.nprefixes, r->nprefixes);
}

static void test_built_rs_parses_back(void **state)
{
	(void)state;
	uint8_t buf[32];
	int n = ra_build_rs(buf, sizeof(buf), MAC);
	assert_int_equal(n, 16);
	struct ra_rs rs;
	assert_int_equal(ra_parse_rs(buf, (size_t)n, 255, false, &rs), 0);
	assert_true(rs.has_slla);
	assert_memory_equal(rs.slla, MAC, 6);
	n = ra_build_rs(buf, sizeof(buf), NULL);
	assert_int_equal(n, 8);
	assert_int_equal(ra_parse_rs(buf, (size_t)n, 255, true, &rs), 0);
	assert_int_equal(ra_build_rs(buf, 15, MAC), -ENOSPC);
}

int main(void)
{
	static struct CMUnitTest tests[64];
	size_t n = 0;
#define ROWS(arr, fn)                                                                              \
	for (size_t i_ = 0; i_ < ARRAY_SIZE(arr); i_++)                                            \
		tests[n++] =                                                                       \
		    (struct CMUnitTest){(arr)[i_].name, fn, NULL, NULL, (void *)&(arr)[i_]};
#define ONE(fn) (tests[n++] = (struct CMUnitTest){#fn, fn, NULL, NULL, NULL})
	ROWS(rs_rows, run_rs_row);
	ONE(test_no_router_ra_is_lifetime_0_no_prefix_no_flags_with_our_mac);
	ROWS(build_rows, run_build_row);
	ROWS(ra_rows, run_ra_row);
	ONE(test_built_rs_parses_back);
	return _cmocka_run_group_tests("ra", tests, n, NULL, NULL);
}
