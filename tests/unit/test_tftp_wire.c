/*
 * Unit tests for tftp/wire: request parsing (every bad-input shape from the issue, one row
 * each), option validation and negotiation, the OACK/ERROR/ACK builders and transfer
 * packet parsing. Every table row runs as its own named cmocka test.
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

#include "tftp/tftp_wire.h"

/* A packet literal: string literals may hold NULs, so sizeof - 1 is the length. */
#define PKT(s) .pkt = (const uint8_t *)(s), .len = sizeof(s) - 1

/* ---- request parsing ---- */

struct req_row {
	const char *name;
	const uint8_t *pkt;
	size_t len;
	int ret;
	uint16_t opcode;
	const char *file; /* NULL: not checked */
	enum tftp_mode mode;
	/* options expected after parsing: -1 = unset */
	long blksize, tsize, timeout, windowsize;
	unsigned count;
	bool trailing;
};

#define NOOPT .blksize = -1, .tsize = -1, .timeout = -1, .windowsize = -1

static const struct req_row req_rows[] = {
	{"rrq_octet_is_parsed", PKT("\0\1pxelinux.0\0octet\0"), 0, 1, "pxelinux.0", TFTP_MODE_OCTET,
	 NOOPT},
	{"rrq_mode_is_case_insensitive", PKT("\0\1f\0OcTeT\0"), 0, 1, "f", TFTP_MODE_OCTET, NOOPT},
	{"rrq_netascii_mode_is_parsed", PKT("\0\1f\0NETASCII\0"), 0, 1, "f", TFTP_MODE_NETASCII,
	 NOOPT},
	{"wrq_is_parsed_as_a_request", PKT("\0\2up\0octet\0"), 0, 2, "up", TFTP_MODE_OCTET, NOOPT},
	{"rrq_mode_mail_is_refused", PKT("\0\1f\0mail\0"), -EPROTONOSUPPORT, 1, "f", 0, NOOPT},
	{"rrq_unknown_mode_is_refused", PKT("\0\1f\0binary\0"), -EPROTONOSUPPORT, 1, "f", 0, NOOPT},
	{"rrq_empty_mode_is_refused", PKT("\0\1f\0\0"), -EPROTONOSUPPORT, 1, "f", 0, NOOPT},
	{"empty_packet_is_malformed", PKT(""), -EBADMSG, 0, NULL, 0, NOOPT},
	{"one_byte_packet_is_malformed", PKT("\0"), -EBADMSG, 0, NULL, 0, NOOPT},
	{"rrq_opcode_only_is_malformed", PKT("\0\1"), -EBADMSG, 1, NULL, 0, NOOPT},
	{"rrq_three_bytes_is_malformed", PKT("\0\1a"), -EBADMSG, 1, NULL, 0, NOOPT},
	{"wrq_three_bytes_is_malformed", PKT("\0\2\0"), -EBADMSG, 2, NULL, 0, NOOPT},
	{"rrq_without_nul_after_name_is_malformed", PKT("\0\1file"), -EBADMSG, 1, NULL, 0, NOOPT},
	{"rrq_without_mode_is_malformed", PKT("\0\1file\0"), -EBADMSG, 1, NULL, 0, NOOPT},
	{"rrq_without_nul_after_mode_is_malformed", PKT("\0\1file\0octet"), -EBADMSG, 1, NULL, 0,
	 NOOPT},
	{"data_on_port_69_is_not_a_request", PKT("\0\3\0\1abc"), -EOPNOTSUPP, 3, NULL, 0, NOOPT},
	{"ack_on_port_69_is_not_a_request", PKT("\0\4\0\1"), -EOPNOTSUPP, 4, NULL, 0, NOOPT},
	{"error_on_port_69_is_not_a_request", PKT("\0\5\0\1x\0"), -EOPNOTSUPP, 5, NULL, 0, NOOPT},
	{"oack_on_port_69_is_not_a_request", PKT("\0\6"), -EOPNOTSUPP, 6, NULL, 0, NOOPT},
	{"opcode_0_is_not_a_request", PKT("\0\0f\0octet\0"), -EOPNOTSUPP, 0, NULL, 0, NOOPT},
	{"opcode_7_is_not_a_request", PKT("\0\7f\0octet\0"), -EOPNOTSUPP, 7, NULL, 0, NOOPT},
	{"ovmf_tsize_probe_request_is_parsed",
	 PKT("\0\1ipxe.efi\0octet\0tsize\0" "0\0blksize\0" "1468\0windowsize\0" "4\0"), 0, 1,
	 "ipxe.efi", TFTP_MODE_OCTET, .blksize = 1468, .tsize = 0, .timeout = -1, .windowsize = 4,
	 .count = 3},
	{"option_names_are_case_insensitive", PKT("\0\1f\0octet\0BlkSize\0" "1024\0TSIZE\0" "0\0"),
	 0, 1, "f", TFTP_MODE_OCTET, .blksize = 1024, .tsize = 0, .timeout = -1, .windowsize = -1,
	 .count = 2},
	{"blksize_8_is_the_smallest_accepted", PKT("\0\1f\0octet\0blksize\0" "8\0"), 0, 1, "f", 0,
	 .blksize = 8, .tsize = -1, .timeout = -1, .windowsize = -1, .count = 1},
	{"blksize_65464_is_the_largest_accepted", PKT("\0\1f\0octet\0blksize\0" "65464\0"), 0, 1,
	 "f", 0, .blksize = 65464, .tsize = -1, .timeout = -1, .windowsize = -1, .count = 1},
	{"blksize_0_is_ignored", PKT("\0\1f\0octet\0blksize\0" "0\0"), 0, 1, "f", 0, NOOPT,
	 .count = 1},
	{"blksize_7_is_ignored", PKT("\0\1f\0octet\0blksize\0" "7\0"), 0, 1, "f", 0, NOOPT,
	 .count = 1},
	{"blksize_65465_is_ignored", PKT("\0\1f\0octet\0blksize\0" "65465\0"), 0, 1, "f", 0, NOOPT,
	 .count = 1},
	{"blksize_minus_1_is_ignored", PKT("\0\1f\0octet\0blksize\0-1\0"), 0, 1, "f", 0, NOOPT,
	 .count = 1},
	{"blksize_huge_is_ignored",
	 PKT("\0\1f\0octet\0blksize\0" "999999999999999999999999999999\0"), 0, 1, "f", 0, NOOPT,
	 .count = 1},
	{"blksize_abc_is_ignored", PKT("\0\1f\0octet\0blksize\0abc\0"), 0, 1, "f", 0, NOOPT,
	 .count = 1},
	{"blksize_empty_is_ignored", PKT("\0\1f\0octet\0blksize\0\0"), 0, 1, "f", 0, NOOPT,
	 .count = 1},
	{"blksize_with_space_is_ignored", PKT("\0\1f\0octet\0blksize\0 512\0"), 0, 1, "f", 0, NOOPT,
	 .count = 1},
	{"windowsize_0_is_ignored", PKT("\0\1f\0octet\0windowsize\0" "0\0"), 0, 1, "f", 0, NOOPT,
	 .count = 1},
	{"windowsize_65536_is_ignored", PKT("\0\1f\0octet\0windowsize\0" "65536\0"), 0, 1, "f", 0,
	 NOOPT, .count = 1},
	{"windowsize_65535_is_accepted", PKT("\0\1f\0octet\0windowsize\0" "65535\0"), 0, 1, "f", 0,
	 .blksize = -1, .tsize = -1, .timeout = -1, .windowsize = 65535, .count = 1},
	{"timeout_0_is_ignored", PKT("\0\1f\0octet\0timeout\0" "0\0"), 0, 1, "f", 0, NOOPT,
	 .count = 1},
	{"timeout_256_is_ignored", PKT("\0\1f\0octet\0timeout\0" "256\0"), 0, 1, "f", 0, NOOPT,
	 .count = 1},
	{"timeout_255_is_accepted", PKT("\0\1f\0octet\0timeout\0" "255\0"), 0, 1, "f", 0,
	 .blksize = -1, .tsize = -1, .timeout = 255, .windowsize = -1, .count = 1},
	{"tsize_64bit_is_accepted", PKT("\0\1f\0octet\0tsize\0" "18446744073709551615\0"), 0, 1, "f",
	 0, .blksize = -1, .tsize = -2 /* UINT64_MAX */, .timeout = -1, .windowsize = -1,
	 .count = 1},
	{"repeated_option_first_wins", PKT("\0\1f\0octet\0blksize\0" "1024\0blksize\0" "512\0"), 0, 1,
	 "f", 0, .blksize = 1024, .tsize = -1, .timeout = -1, .windowsize = -1, .count = 2},
	{"repeated_option_bad_first_decides",
	 PKT("\0\1f\0octet\0blksize\0" "7\0BLKSIZE\0" "1024\0"), 0, 1, "f", 0, NOOPT, .count = 2},
	{"unknown_option_is_ignored", PKT("\0\1f\0octet\0multicast\0\0rollover\0" "1\0"), 0, 1, "f",
	 0, NOOPT, .count = 2},
	{"last_option_value_without_nul_is_ignored",
	 PKT("\0\1f\0octet\0tsize\0" "0\0blksize\0" "1432"), 0, 1, "f", 0, .blksize = -1, .tsize = 0,
	 .timeout = -1, .windowsize = -1, .count = 1, .trailing = true},
	{"option_name_without_value_is_ignored", PKT("\0\1f\0octet\0blksize\0"), 0, 1, "f", 0,
	 NOOPT, .trailing = true},
	{"option_name_without_nul_is_ignored", PKT("\0\1f\0octet\0blks"), 0, 1, "f", 0, NOOPT,
	 .trailing = true},
	{"trailing_nul_padding_is_tolerated", PKT("\0\1f\0octet\0blksize\0" "512\0\0\0\0\0"), 0, 1,
	 "f", 0, .blksize = 512, .tsize = -1, .timeout = -1, .windowsize = -1, .count = 1,
	 .trailing = true},
	{"name_with_backslashes_is_kept_as_sent", PKT("\0\1..\\..\\x\0octet\0"), 0, 1, "..\\..\\x",
	 0, NOOPT},
	{"empty_name_is_parsed", PKT("\0\1\0octet\0"), 0, 1, "", 0, NOOPT},
};

static void run_req_row(void **state)
{
	const struct req_row *r = *state;
	struct tftp_request q;
	assert_int_equal(tftp_parse_request(r->pkt, r->len, &q), r->ret);
	if (r->len >= 2)
		assert_int_equal(q.opcode, r->opcode);
	if (r->ret != 0 && r->ret != -EPROTONOSUPPORT)
		return;
	if (r->file) {
		assert_int_equal(q.file_len, strlen(r->file));
		assert_memory_equal(q.file, r->file, q.file_len);
		assert_int_equal(q.file[q.file_len], 0);
	}
	if (r->ret)
		return;
	assert_int_equal(q.mode, r->mode);
	assert_int_equal(q.opt.blksize_set, r->blksize >= 0);
	if (r->blksize >= 0)
		assert_int_equal(q.opt.blksize, r->blksize);
	assert_int_equal(q.opt.tsize_set, r->tsize != -1);
	if (r->tsize >= 0)
		assert_int_equal(q.opt.tsize, (uint64_t)r->tsize);
	if (r->tsize == -2)
		assert_true(q.opt.tsize == UINT64_MAX);
	assert_int_equal(q.opt.timeout_set, r->timeout >= 0);
	if (r->timeout >= 0)
		assert_int_equal(q.opt.timeout, r->timeout);
	assert_int_equal(q.opt.windowsize_set, r->windowsize >= 0);
	if (r->windowsize >= 0)
		assert_int_equal(q.opt.windowsize, r->windowsize);
	assert_int_equal(q.opt.count, r->count);
	assert_int_equal(q.opt.trailing, r->trailing);
}

/* Long names and many options, built at run time. */
static void test_names_of_255_512_65000_bytes_are_parsed_whole(void **state)
{
	(void)state;
	static const size_t lens[] = {255, 512, 65000};
	for (size_t i = 0; i < 3; i++) {
		size_t n = lens[i];
		uint8_t *p = malloc(n + 10);
		assert_non_null(p);
		p[0] = 0;
		p[1] = 1;
		memset(p + 2, 'a', n);
		memcpy(p + 2 + n, "\0octet\0", 7);
		struct tftp_request q;
		assert_int_equal(tftp_parse_request(p, n + 9, &q), 0);
		assert_int_equal(q.file_len, n);
		free(p);
	}
}

static void test_300_options_are_read_and_the_known_ones_kept(void **state)
{
	(void)state;
	uint8_t p[8192];
	size_t o = 0;
	memcpy(p, "\0\1f\0octet\0", 10);
	o = 10;
	for (int i = 0; i < 299; i++) {
		o += (size_t)snprintf((char *)p + o, sizeof(p) - o, "x%d", i) + 1;
		o += (size_t)snprintf((char *)p + o, sizeof(p) - o, "%d", i) + 1;
	}
	o += (size_t)snprintf((char *)p + o, sizeof(p) - o, "windowsize") + 1;
	o += (size_t)snprintf((char *)p + o, sizeof(p) - o, "8") + 1;
	struct tftp_request q;
	assert_int_equal(tftp_parse_request(p, o, &q), 0);
	assert_int_equal(q.opt.count, 300);
	assert_true(q.opt.windowsize_set);
	assert_int_equal(q.opt.windowsize, 8);
	assert_false(q.opt.trailing);
}

/* ---- negotiation and OACK ---- */

struct neg_row {
	const char *name;
	struct tftp_options opt;
	struct tftp_limits lim;
	uint64_t tsize;
	uint16_t blksize, windowsize;
	uint8_t timeout;
	bool oack;
	const uint8_t *pkt; /* expected OACK, NULL when none */
	size_t len;
};

static const struct neg_row neg_rows[] = {
	{"no_options_means_no_oack_and_defaults", {0}, {1468, 64}, 100, 512, 1, 0, false, NULL, 0},
	{"all_options_out_of_range_get_defaults", {.seen = 15, .count = 4}, {1468, 64}, 100, 512, 1,
	 0, false, NULL, 0},
	{"blksize_within_limit_is_granted", {.blksize_set = true, .blksize = 1024}, {1468, 64}, 0,
	 1024, 1, 0, true, PKT("\0\6blksize\0" "1024\0")},
	{"blksize_above_mtu_is_clamped", {.blksize_set = true, .blksize = 9000}, {1468, 64}, 0, 1468,
	 1, 0, true, PKT("\0\6blksize\0" "1468\0")},
	{"blksize_65464_on_loopback_is_granted", {.blksize_set = true, .blksize = 65464},
	 {65464, 64}, 0, 65464, 1, 0, true, PKT("\0\6blksize\0" "65464\0")},
	{"tsize_is_answered_with_the_file_size", {.tsize_set = true}, {1468, 64}, 850528, 512, 1, 0,
	 true, PKT("\0\6tsize\0" "850528\0")},
	{"tsize_of_an_empty_file_is_left_out_for_curl", {.tsize_set = true}, {1468, 64}, 0, 512, 1,
	 0, false, NULL, 0},
	{"tsize_of_an_empty_file_is_left_out_beside_blksize",
	 {.tsize_set = true, .blksize_set = true, .blksize = 1024}, {1468, 64}, 0, 1024, 1, 0, true,
	 PKT("\0\6blksize\0" "1024\0")},
	{"tsize_above_4gib_is_answered_in_full", {.tsize_set = true}, {1468, 64},
	 (uint64_t)1 << 40, 512, 1, 0, true, PKT("\0\6tsize\0" "1099511627776\0")},
	{"timeout_is_echoed", {.timeout_set = true, .timeout = 5}, {1468, 64}, 0, 512, 1, 5, true,
	 PKT("\0\6timeout\0" "5\0")},
	{"windowsize_within_limit_is_granted", {.windowsize_set = true, .windowsize = 16},
	 {1468, 64}, 0, 512, 16, 0, true, PKT("\0\6windowsize\0" "16\0")},
	{"windowsize_above_limit_is_clamped", {.windowsize_set = true, .windowsize = 1000},
	 {1468, 64}, 0, 512, 64, 0, true, PKT("\0\6windowsize\0" "64\0")},
	{"ovmf_request_gets_blksize_tsize_windowsize",
	 {.blksize_set = true, .blksize = 1468, .tsize_set = true, .windowsize_set = true,
	  .windowsize = 4},
	 {1468, 64}, 850528, 1468, 4, 0, true,
	 PKT("\0\6blksize\0" "1468\0tsize\0" "850528\0windowsize\0" "4\0")},
};

static void run_neg_row(void **state)
{
	const struct neg_row *r = *state;
	struct tftp_params p;
	tftp_negotiate(&r->opt, &r->lim, r->tsize, &p);
	assert_int_equal(p.blksize, r->blksize);
	assert_int_equal(p.windowsize, r->windowsize);
	assert_int_equal(p.timeout_s, r->timeout);
	assert_int_equal(p.oack, r->oack);
	if (!r->pkt)
		return;
	uint8_t buf[TFTP_OACK_MAX];
	int n = tftp_build_oack(buf, sizeof(buf), &p);
	assert_int_equal(n, (int)r->len);
	assert_memory_equal(buf, r->pkt, r->len);
}

static void test_oack_with_every_option_at_its_longest_fits_its_buffer(void **state)
{
	(void)state;
	struct tftp_params p = {.blksize = 65464, .windowsize = 65535, .timeout_s = 255,
				.tsize = UINT64_MAX, .ack_blksize = true, .ack_tsize = true,
				.ack_timeout = true, .ack_windowsize = true, .oack = true};
	uint8_t buf[TFTP_OACK_MAX];
	assert_true(tftp_build_oack(buf, sizeof(buf), &p) > 0);
	assert_int_equal(tftp_build_oack(buf, 20, &p), -ENOSPC);
}

static void test_error_packet_carries_code_and_text(void **state)
{
	(void)state;
	uint8_t b[TFTP_ERROR_MAX];
	int n = tftp_build_error(b, sizeof(b), TFTP_ERR_NOT_FOUND, NULL);
	assert_int_equal(n, 4 + 15);
	assert_memory_equal(b, "\0\5\0\1File not found\0", (size_t)n);
	n = tftp_build_error(b, sizeof(b), TFTP_ERR_UNKNOWN_TID, "x");
	assert_memory_equal(b, "\0\5\0\5x\0", 6);
	assert_int_equal(tftp_build_error(b, 4, 0, "toolong"), -ENOSPC);
	assert_string_equal(tftp_error_text(99), "Undefined error");
	assert_int_equal(tftp_build_ack(b, sizeof(b), 0xfffe), 4);
	assert_memory_equal(b, "\0\4\xff\xfe", 4);
	assert_int_equal(tftp_build_data_hdr(b, 3, 1), -ENOSPC);
}

/* ---- transfer packets ---- */

struct pkt_row {
	const char *name;
	const uint8_t *pkt;
	size_t len;
	int ret;
	uint16_t opcode, block, code;
	size_t data_len;
	const char *msg;
};

static const struct pkt_row pkt_rows[] = {
	{"ack_is_parsed", PKT("\0\4\1\2"), 0, 4, 0x102, 0, 0, NULL},
	{"ack_with_extra_bytes_is_parsed", PKT("\0\4\0\7xyz"), 0, 4, 7, 0, 0, NULL},
	{"ack_of_3_bytes_is_malformed", PKT("\0\4\1"), -EBADMSG, 4, 0, 0, 0, NULL},
	{"ack_of_2_bytes_is_malformed", PKT("\0\4"), -EBADMSG, 4, 0, 0, 0, NULL},
	{"packet_of_1_byte_is_malformed", PKT("\4"), -EBADMSG, 0, 0, 0, 0, NULL},
	{"empty_packet_is_malformed_too", PKT(""), -EBADMSG, 0, 0, 0, 0, NULL},
	{"error_with_message_is_parsed", PKT("\0\5\0\10User aborted the transfer\0"), 0, 5, 0, 8, 0,
	 "User aborted the transfer"},
	{"error_without_nul_is_parsed", PKT("\0\5\0\1abc"), 0, 5, 0, 1, 0, "abc"},
	{"error_without_message_is_parsed", PKT("\0\5\0\2"), 0, 5, 0, 2, 0, ""},
	{"error_of_3_bytes_is_malformed", PKT("\0\5\0"), -EBADMSG, 5, 0, 0, 0, NULL},
	{"data_is_parsed", PKT("\0\3\0\1hello"), 0, 3, 1, 0, 5, NULL},
	{"empty_data_is_parsed", PKT("\0\3\xff\xff"), 0, 3, 0xffff, 0, 0, NULL},
	{"data_of_3_bytes_is_malformed", PKT("\0\3\0"), -EBADMSG, 3, 0, 0, 0, NULL},
	{"unknown_opcode_parses_with_opcode_set", PKT("\0\x09"), 0, 9, 0, 0, 0, NULL},
};

static void run_pkt_row(void **state)
{
	const struct pkt_row *r = *state;
	struct tftp_packet p;
	assert_int_equal(tftp_parse_packet(r->pkt, r->len, &p), r->ret);
	if (r->ret)
		return;
	assert_int_equal(p.opcode, r->opcode);
	assert_int_equal(p.block, r->block);
	assert_int_equal(p.error_code, r->code);
	assert_int_equal(p.data_len, r->data_len);
	if (r->msg) {
		assert_int_equal(p.msg_len, strlen(r->msg));
		assert_memory_equal(p.msg, r->msg, p.msg_len);
	}
}

int main(void)
{
	static struct CMUnitTest tests[256];
	size_t n = 0;
#define ROWS(arr, fn)                                                                              \
	for (size_t i_ = 0; i_ < sizeof(arr) / sizeof((arr)[0]); i_++)                             \
		tests[n++] = (struct CMUnitTest){(arr)[i_].name, fn, NULL, NULL, (void *)&(arr)[i_]};
#define ONE(fn) (tests[n++] = (struct CMUnitTest){#fn, fn, NULL, NULL, NULL})
	ROWS(req_rows, run_req_row);
	ROWS(neg_rows, run_neg_row);
	ROWS(pkt_rows, run_pkt_row);
	ONE(test_names_of_255_512_65000_bytes_are_parsed_whole);
	ONE(test_300_options_are_read_and_the_known_ones_kept);
	ONE(test_oack_with_every_option_at_its_longest_fits_its_buffer);
	ONE(test_error_packet_carries_code_and_text);
	return _cmocka_run_group_tests("tftp_wire", tests, n, NULL, NULL);
}
