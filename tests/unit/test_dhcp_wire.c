/*
 * Unit tests for dhcp/wire (src/dhcp/dhcp_wire.c): parsing crafted and real firmware
 * datagrams, the typed getters, and the reply builder (order, splitting, padding, size
 * limit), table-driven, one row per behaviour, good and bad rows side by side.
 *
 * Does not test what options mean (dhcp_server / dhcp_pxe tests do) or sockets.
 * Real packets come from tests/fuzz/dhcp_parse/corpus/ (tests/fuzz/extract_seeds.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp/dhcp_wire.h"

#ifndef PIXIED_SOURCE_ROOT
#define PIXIED_SOURCE_ROOT "."
#endif
#define CORPUS_DIR PIXIED_SOURCE_ROOT "/tests/fuzz/dhcp_parse/corpus"

#define B(...) ((const uint8_t[]){__VA_ARGS__})
#define BYTES(...) B(__VA_ARGS__), sizeof(B(__VA_ARGS__))
#define OPTS(...) .opts = B(__VA_ARGS__), .opts_len = sizeof(B(__VA_ARGS__))
#define FILEF(...) .file = B(__VA_ARGS__), .file_len = sizeof(B(__VA_ARGS__))
#define SNAME(...) .sname = B(__VA_ARGS__), .sname_len = sizeof(B(__VA_ARGS__))
#define AT236(...) .at236 = B(__VA_ARGS__), .at236_len = sizeof(B(__VA_ARGS__))
#define LEN(n) .exact_len = true, .len = (n)
#define OP(v) .set_op = true, .op = (v)
#define HTYPE(v) .set_htype = true, .htype = (v)
#define HLEN(v) .set_hlen = true, .hlen = (v)

static const uint8_t test_mac[6] = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};

/* ---- crafted datagrams ---- */

struct pkt_spec {
	bool set_op, set_htype, set_hlen;
	uint8_t op, htype, hlen;
	bool no_cookie;              /* leave bytes 236.. as at236 / zeros */
	const uint8_t *at236;        /* bytes at offset 236 (instead of the cookie) */
	size_t at236_len;
	const uint8_t *opts;         /* bytes after the cookie */
	size_t opts_len;
	const uint8_t *file, *sname; /* written at the start of the file / sname fields */
	size_t file_len, sname_len;
	bool exact_len;              /* datagram length is len (zero-filled / cut) */
	size_t len;
};

static uint8_t pktbuf[2048];

/* Builds the datagram in pktbuf and returns its length. */
static size_t make_pkt(const struct pkt_spec *s)
{
	memset(pktbuf, 0, sizeof(pktbuf));
	pktbuf[0] = s->set_op ? s->op : 1;
	pktbuf[1] = s->set_htype ? s->htype : 1;
	pktbuf[2] = s->set_hlen ? s->hlen : 6;
	pktbuf[3] = 0; /* hops */
	memcpy(pktbuf + 4, B(0x12, 0x34, 0x56, 0x78), 4);
	memcpy(pktbuf + 28, test_mac, sizeof(test_mac));
	if (s->sname_len)
		memcpy(pktbuf + 44, s->sname, s->sname_len);
	if (s->file_len)
		memcpy(pktbuf + 108, s->file, s->file_len);
	size_t len = 236;
	if (s->at236_len) {
		memcpy(pktbuf + 236, s->at236, s->at236_len);
		len += s->at236_len;
	} else if (!s->no_cookie) {
		memcpy(pktbuf + 236, B(0x63, 0x82, 0x53, 0x63), 4);
		len += 4;
	}
	if (s->opts_len) {
		memcpy(pktbuf + len, s->opts, s->opts_len);
		len += s->opts_len;
	}
	return s->exact_len ? s->len : len;
}

/* ---- parse table ---- */

struct parse_row {
	const char *name;
	struct pkt_spec pkt;
	enum dhcp_parse_err want;
	bool bootp;            /* when OK: has_cookie must be false */
	uint8_t want_type;
	uint8_t want_overload;
	void (*check)(const struct dhcp_msg *m);
};

static void assert_opt(const struct dhcp_msg *m, uint8_t code, const void *want, size_t want_len)
{
	size_t len = 99;
	const uint8_t *p = dhcp_msg_opt(m, code, &len);
	assert_non_null(p);
	assert_int_equal(len, want_len);
	if (want_len)
		assert_memory_equal(p, want, want_len);
}

static void assert_absent(const struct dhcp_msg *m, uint8_t code)
{
	size_t len = 99;
	assert_null(dhcp_msg_opt(m, code, &len));
	assert_int_equal(len, 0);
}

static void check_no_options(const struct dhcp_msg *m)
{
	for (unsigned code = 0; code < 256; code++)
		assert_false(m->opt[code].present);
	assert_int_equal(m->optbuf_len, 0);
}

static void check_header_kept(const struct dhcp_msg *m)
{
	assert_int_equal(m->xid, 0x12345678);
	assert_memory_equal(m->chaddr, test_mac, sizeof(test_mac));
	check_no_options(m);
}

static void check_60_abc(const struct dhcp_msg *m)
{
	assert_opt(m, DHCP_OPT_VENDOR_CLASS, "abc", 3);
}

static void check_60_abc_file_zeroed(const struct dhcp_msg *m)
{
	static const uint8_t zero[128];
	check_60_abc(m);
	assert_memory_equal(m->file, zero, sizeof(m->file));
}

static void check_60_abc_sname_zeroed(const struct dhcp_msg *m)
{
	static const uint8_t zero[64];
	check_60_abc(m);
	assert_memory_equal(m->sname, zero, sizeof(m->sname));
}

static void check_43_fills_file(const struct dhcp_msg *m)
{
	size_t len;
	assert_non_null(dhcp_msg_opt(m, DHCP_OPT_VENDOR, &len));
	assert_int_equal(len, 125);
}

static void check_77_abc_in_area_order(const struct dhcp_msg *m)
{
	assert_opt(m, DHCP_OPT_USER_CLASS, "abc", 3);
	assert_opt(m, DHCP_OPT_HOSTNAME, "hs", 2);
}

static void check_file_is_string_without_overload(const struct dhcp_msg *m)
{
	assert_absent(m, DHCP_OPT_VENDOR_CLASS);
	assert_memory_equal(m->file, "\x3c\x03" "abc", 5);
}

static void check_overload_in_file_ignored(const struct dhcp_msg *m)
{
	assert_absent(m, DHCP_OPT_VENDOR_CLASS);
	assert_int_equal(m->sname[0], 0x3c); /* sname not read as options: still raw */
	assert_opt(m, DHCP_OPT_OVERLOAD, "\x01", 1);
}

static void check_zero_len_61_12_60(const struct dhcp_msg *m)
{
	assert_opt(m, DHCP_OPT_CLIENT_ID, NULL, 0);
	assert_opt(m, DHCP_OPT_HOSTNAME, NULL, 0);
	assert_opt(m, DHCP_OPT_VENDOR_CLASS, NULL, 0);
	uint8_t v8;
	assert_int_equal(dhcp_msg_opt_u8(m, DHCP_OPT_CLIENT_ID, &v8), -EBADMSG);
}

static void check_43_split_255_45(const struct dhcp_msg *m)
{
	size_t len;
	const uint8_t *p = dhcp_msg_opt(m, DHCP_OPT_VENDOR, &len);
	assert_non_null(p);
	assert_int_equal(len, 300);
	for (size_t i = 0; i < 255; i++)
		assert_int_equal(p[i], 0xaa);
	for (size_t i = 255; i < 300; i++)
		assert_int_equal(p[i], 0xbb);
}

static void check_43_abcd(const struct dhcp_msg *m)
{
	assert_opt(m, DHCP_OPT_VENDOR, "abcd", 4);
	assert_opt(m, DHCP_OPT_VENDOR_CLASS, "x", 1);
}

static void check_after_end_ignored(const struct dhcp_msg *m)
{
	assert_absent(m, DHCP_OPT_VENDOR_CLASS);
}

/* 43 with 255 x 0xaa, then 43 with 45 x 0xbb (RFC 3396 split), then END */
static uint8_t split_43[2 + 255 + 2 + 45 + 1];
/* main: 53 DISCOVER, 52 = 1; file: 43 with 126 bytes exactly filling it, no END */
static uint8_t file_full_43[128];
/* file: 43 with 125 bytes, then END: exactly 128 bytes */
static uint8_t file_full_43_end[128];
/* 1500-byte and 1501-byte datagrams: one big PAD run after 53 */
static uint8_t pad_run[1500 - 240];

static void init_buffers(void)
{
	size_t i = 0;
	split_43[i++] = 43;
	split_43[i++] = 255;
	memset(split_43 + i, 0xaa, 255);
	i += 255;
	split_43[i++] = 43;
	split_43[i++] = 45;
	memset(split_43 + i, 0xbb, 45);
	i += 45;
	split_43[i++] = 255;
	file_full_43[0] = 43;
	file_full_43[1] = 126;
	memset(file_full_43 + 2, 0x11, 126);
	file_full_43_end[0] = 43;
	file_full_43_end[1] = 125;
	memset(file_full_43_end + 2, 0x11, 125);
	file_full_43_end[127] = 255;
	memset(pad_run, 0, sizeof(pad_run));
	pad_run[0] = 53;
	pad_run[1] = 1;
	pad_run[2] = 1;
}

static const struct parse_row parse_rows[] = {
	/* datagram size */
	{"parse_0_bytes_is_short", {LEN(0)}, .want = DHCP_PARSE_SHORT},
	{"parse_1_byte_is_short", {LEN(1)}, .want = DHCP_PARSE_SHORT},
	{"parse_235_bytes_is_short", {LEN(235)}, .want = DHCP_PARSE_SHORT},
	{"parse_236_bytes_is_bootp_without_options", {.no_cookie = true}, .want = DHCP_PARSE_OK, .bootp = true,
	 .check = check_no_options},
	{"parse_239_zero_bytes_after_header_is_bootp", {.no_cookie = true, LEN(239)}, .want = DHCP_PARSE_OK,
	 .bootp = true, .check = check_no_options},
	{"parse_239_bytes_with_cut_cookie_is_short", {AT236(0x63, 0x82, 0x53)}, .want = DHCP_PARSE_SHORT},
	{"parse_237_bytes_with_cut_cookie_is_short", {AT236(0x63)}, .want = DHCP_PARSE_SHORT},
	{"parse_238_bytes_not_a_cookie_is_bootp", {AT236(0x63, 0x00)}, .want = DHCP_PARSE_OK, .bootp = true},
	{"parse_240_bytes_cookie_no_options_is_dhcp_without_type", {0}, .want = DHCP_PARSE_OK,
	 .want_type = DHCP_NONE, .check = check_no_options},
	{"parse_240_bytes_wrong_cookie_is_bootp", {AT236(0x63, 0x82, 0x53, 0x64)}, .want = DHCP_PARSE_OK,
	 .bootp = true, .check = check_no_options},
	{"parse_300_bytes_bootp_vendor_area_is_not_parsed",
	 {AT236(0x01, 0x02, 0x03, 0x04, 53, 1, 1, 60, 200), LEN(300)}, .want = DHCP_PARSE_OK, .bootp = true,
	 .check = check_no_options},
	{"parse_1500_bytes_is_accepted", {.opts = pad_run, .opts_len = sizeof(pad_run)}, .want = DHCP_PARSE_OK,
	 .want_type = DHCPDISCOVER},
	{"parse_1501_bytes_is_too_big", {.opts = pad_run, .opts_len = sizeof(pad_run), LEN(1501)},
	 .want = DHCP_PARSE_TOO_BIG},

	/* header */
	{"parse_op_1_is_accepted", {OP(1), OPTS(53, 1, 1, 255)}, .want = DHCP_PARSE_OK, .want_type = DHCPDISCOVER},
	{"parse_op_2_is_accepted", {OP(2), OPTS(53, 1, 2, 255)}, .want = DHCP_PARSE_OK, .want_type = DHCPOFFER},
	{"parse_op_0_is_rejected", {OP(0), OPTS(53, 1, 1, 255)}, .want = DHCP_PARSE_BAD_OP, .check = check_header_kept},
	{"parse_op_3_is_rejected", {OP(3)}, .want = DHCP_PARSE_BAD_OP},
	{"parse_op_0_on_236_bytes_is_rejected", {OP(0), .no_cookie = true}, .want = DHCP_PARSE_BAD_OP},
	{"parse_hlen_0_is_rejected", {HLEN(0)}, .want = DHCP_PARSE_BAD_HLEN},
	{"parse_hlen_17_is_rejected", {HTYPE(6), HLEN(17)}, .want = DHCP_PARSE_BAD_HLEN},
	{"parse_hlen_255_is_rejected", {HLEN(255)}, .want = DHCP_PARSE_BAD_HLEN},
	{"parse_htype_1_hlen_5_is_rejected", {HLEN(5)}, .want = DHCP_PARSE_BAD_HLEN},
	{"parse_htype_1_hlen_16_is_rejected", {HLEN(16)}, .want = DHCP_PARSE_BAD_HLEN},
	{"parse_htype_6_hlen_16_is_accepted", {HTYPE(6), HLEN(16)}, .want = DHCP_PARSE_OK},
	{"parse_hlen_0_on_236_bytes_is_rejected", {HLEN(0), .no_cookie = true}, .want = DHCP_PARSE_BAD_HLEN},

	/* option framing */
	{"parse_options_without_end_are_accepted", {OPTS(53, 1, 1, 60, 3, 'a', 'b', 'c')}, .want = DHCP_PARSE_OK,
	 .want_type = DHCPDISCOVER, .check = check_60_abc},
	{"parse_pad_between_options_is_skipped", {OPTS(0, 53, 1, 1, 0, 0, 60, 3, 'a', 'b', 'c', 255)},
	 .want = DHCP_PARSE_OK, .want_type = DHCPDISCOVER, .check = check_60_abc},
	{"parse_option_exactly_reaching_the_end_is_accepted", {OPTS(53, 1, 1, 60, 3, 'a', 'b', 'c')},
	 .want = DHCP_PARSE_OK, .want_type = DHCPDISCOVER},
	{"parse_option_length_past_end_is_trunc", {OPTS(53, 1, 1, 60, 5, 'a', 'b')}, .want = DHCP_PARSE_TRUNC_OPT,
	 .check = check_header_kept},
	{"parse_option_code_without_length_is_trunc", {OPTS(53, 1, 1, 60)}, .want = DHCP_PARSE_TRUNC_OPT},
	{"parse_bytes_after_end_are_ignored", {OPTS(53, 1, 1, 255, 60, 200, 'x')}, .want = DHCP_PARSE_OK,
	 .want_type = DHCPDISCOVER, .check = check_after_end_ignored},
	{"parse_zero_length_61_12_60_are_present_and_empty", {OPTS(53, 1, 1, 61, 0, 12, 0, 60, 0, 255)},
	 .want = DHCP_PARSE_OK, .want_type = DHCPDISCOVER, .check = check_zero_len_61_12_60},

	/* option 53 */
	{"parse_type_1_discover_is_accepted", {OPTS(53, 1, 1)}, .want = DHCP_PARSE_OK, .want_type = DHCPDISCOVER},
	{"parse_type_8_inform_is_accepted", {OPTS(53, 1, 8)}, .want = DHCP_PARSE_OK, .want_type = DHCPINFORM},
	{"parse_type_0_is_rejected", {OPTS(53, 1, 0)}, .want = DHCP_PARSE_BAD_TYPE, .check = check_header_kept},
	{"parse_type_9_is_rejected", {OPTS(53, 1, 9)}, .want = DHCP_PARSE_BAD_TYPE},
	{"parse_type_len_0_is_rejected", {OPTS(53, 0)}, .want = DHCP_PARSE_BAD_TYPE},
	{"parse_type_len_2_is_rejected", {OPTS(53, 2, 1, 1)}, .want = DHCP_PARSE_BAD_TYPE},
	{"parse_type_twice_concatenates_and_is_rejected", {OPTS(53, 1, 1, 53, 1, 3)}, .want = DHCP_PARSE_BAD_TYPE},

	/* RFC 3396 concatenation */
	{"parse_split_43_is_concatenated_rfc3396", {.opts = split_43, .opts_len = sizeof(split_43)},
	 .want = DHCP_PARSE_OK, .check = check_43_split_255_45},
	{"parse_non_adjacent_instances_are_concatenated_in_order",
	 {OPTS(43, 2, 'a', 'b', 60, 1, 'x', 43, 2, 'c', 'd', 255)}, .want = DHCP_PARSE_OK, .check = check_43_abcd},

	/* option 52 overload */
	{"parse_overload_1_reads_options_from_file", {OPTS(53, 1, 1, 52, 1, 1, 255), FILEF(60, 3, 'a', 'b', 'c', 255)},
	 .want = DHCP_PARSE_OK, .want_type = DHCPDISCOVER, .want_overload = 1, .check = check_60_abc_file_zeroed},
	{"parse_overload_1_file_filled_up_to_its_end_is_accepted",
	 {OPTS(53, 1, 1, 52, 1, 1, 255), .file = file_full_43_end, .file_len = sizeof(file_full_43_end)},
	 .want = DHCP_PARSE_OK, .want_type = DHCPDISCOVER, .want_overload = 1, .check = check_43_fills_file},
	{"parse_overload_1_file_without_end_is_rejected",
	 {OPTS(53, 1, 1, 52, 1, 1, 255), .file = file_full_43, .file_len = sizeof(file_full_43)},
	 .want = DHCP_PARSE_NO_END},
	{"parse_overload_2_reads_options_from_sname", {OPTS(53, 1, 1, 52, 1, 2, 255), SNAME(60, 3, 'a', 'b', 'c', 255)},
	 .want = DHCP_PARSE_OK, .want_type = DHCPDISCOVER, .want_overload = 2, .check = check_60_abc_sname_zeroed},
	{"parse_overload_2_sname_without_end_is_rejected",
	 {OPTS(53, 1, 1, 52, 1, 2), SNAME(60, 3, 'a', 'b', 'c')}, .want = DHCP_PARSE_NO_END},
	{"parse_overload_3_concatenates_options_then_file_then_sname",
	 {OPTS(53, 1, 1, 52, 1, 3, 77, 1, 'a', 255), FILEF(77, 1, 'b', 12, 1, 'h', 255),
	  SNAME(77, 1, 'c', 12, 1, 's', 255)},
	 .want = DHCP_PARSE_OK, .want_type = DHCPDISCOVER, .want_overload = 3, .check = check_77_abc_in_area_order},
	{"parse_overload_0_is_rejected", {OPTS(53, 1, 1, 52, 1, 0, 255)}, .want = DHCP_PARSE_BAD_OVERLOAD},
	{"parse_overload_4_is_rejected", {OPTS(53, 1, 1, 52, 1, 4, 255)}, .want = DHCP_PARSE_BAD_OVERLOAD},
	{"parse_overload_len_0_is_rejected", {OPTS(53, 1, 1, 52, 0, 255)}, .want = DHCP_PARSE_BAD_OVERLOAD},
	{"parse_overload_len_2_is_rejected", {OPTS(53, 1, 1, 52, 2, 1, 1, 255)}, .want = DHCP_PARSE_BAD_OVERLOAD},
	{"parse_overload_file_option_past_end_is_trunc",
	 {OPTS(53, 1, 1, 52, 1, 1, 255), FILEF(0, 0, 0, 43, 200, 1, 2, 3)}, .want = DHCP_PARSE_TRUNC_OPT},
	{"parse_without_overload_file_is_a_string_not_options",
	 {OPTS(53, 1, 1, 255), FILEF(60, 3, 'a', 'b', 'c')}, .want = DHCP_PARSE_OK, .want_type = DHCPDISCOVER,
	 .check = check_file_is_string_without_overload},
	{"parse_overload_inside_file_is_ignored",
	 {OPTS(53, 1, 1, 52, 1, 1, 255), FILEF(52, 1, 2, 255), SNAME(60, 3, 'a', 'b', 'c', 255)},
	 .want = DHCP_PARSE_OK, .want_type = DHCPDISCOVER, .want_overload = 1, .check = check_overload_in_file_ignored},
};

static void run_parse_row(void **state)
{
	const struct parse_row *row = *state;
	size_t len = make_pkt(&row->pkt);
	struct dhcp_msg *m = malloc(sizeof(*m));
	assert_non_null(m);
	memset(m, 0xa5, sizeof(*m)); /* parse must reset everything */

	enum dhcp_parse_err err = dhcp_msg_parse(m, pktbuf, len);
	assert_string_equal(dhcp_parse_strerror(err), dhcp_parse_strerror(row->want));
	if (err == DHCP_PARSE_OK) {
		assert_int_equal(m->has_cookie, !row->bootp);
		assert_int_equal(m->type, row->want_type);
		assert_int_equal(m->overload, row->want_overload);
		assert_int_equal(m->xid, 0x12345678);
		assert_int_equal(m->hlen, row->pkt.set_hlen ? row->pkt.hlen : 6);
	} else {
		assert_int_equal(m->type, DHCP_NONE);
		assert_int_equal(m->overload, 0);
		check_no_options(m);
	}
	if (row->check)
		row->check(m);
	free(m);
}

static void test_parse_null_buffer_len_0_is_short(void **state)
{
	(void)state;
	static struct dhcp_msg m;
	assert_int_equal(dhcp_msg_parse(&m, NULL, 0), DHCP_PARSE_SHORT);
}

/* ---- getters ---- */

enum getter { G_U8, G_U16, G_U32, G_IP };

struct getter_row {
	const char *name;
	const uint8_t *opts;
	size_t opts_len;
	uint8_t code;
	enum getter g;
	int want;
	uint32_t want_v;
};

#define GROW(name, code, g, want, v, ...) {name, BYTES(53, 1, 1, __VA_ARGS__), code, g, want, v}

static const struct getter_row getter_rows[] = {
	GROW("opt50_len4_ip_is_read_in_host_order", 50, G_IP, 0, 0x0a4d0091, 50, 4, 10, 77, 0, 145),
	GROW("opt50_len0_ip_is_ebadmsg", 50, G_IP, -EBADMSG, 0, 50, 0),
	GROW("opt50_len1_ip_is_ebadmsg", 50, G_IP, -EBADMSG, 0, 50, 1, 10),
	GROW("opt50_len3_ip_is_ebadmsg", 50, G_IP, -EBADMSG, 0, 50, 3, 10, 77, 0),
	GROW("opt50_len5_ip_is_ebadmsg", 50, G_IP, -EBADMSG, 0, 50, 5, 10, 77, 0, 145, 1),
	GROW("opt54_len4_ip_is_read", 54, G_IP, 0, 0x0a4d0001, 54, 4, 10, 77, 0, 1),
	GROW("opt54_len0_ip_is_ebadmsg", 54, G_IP, -EBADMSG, 0, 54, 0),
	GROW("opt54_len1_ip_is_ebadmsg", 54, G_IP, -EBADMSG, 0, 54, 1, 10),
	GROW("opt54_len3_ip_is_ebadmsg", 54, G_IP, -EBADMSG, 0, 54, 3, 10, 77, 0),
	GROW("opt54_len5_ip_is_ebadmsg", 54, G_IP, -EBADMSG, 0, 54, 5, 10, 77, 0, 1, 1),
	GROW("opt51_len4_u32_is_read", 51, G_U32, 0, 3600, 51, 4, 0, 0, 0x0e, 0x10),
	GROW("opt51_len0_u32_is_ebadmsg", 51, G_U32, -EBADMSG, 0, 51, 0),
	GROW("opt51_len1_u32_is_ebadmsg", 51, G_U32, -EBADMSG, 0, 51, 1, 0),
	GROW("opt51_len3_u32_is_ebadmsg", 51, G_U32, -EBADMSG, 0, 51, 3, 0, 0, 0),
	GROW("opt51_len5_u32_is_ebadmsg", 51, G_U32, -EBADMSG, 0, 51, 5, 0, 0, 0, 0, 0),
	GROW("opt51_absent_u32_is_enoent", 51, G_U32, -ENOENT, 0, 255),
	GROW("opt50_absent_ip_is_enoent", 50, G_IP, -ENOENT, 0, 255),
	GROW("opt57_len2_u16_is_read", 57, G_U16, 0, 1472, 57, 2, 0x05, 0xc0),
	GROW("opt57_len3_u16_is_ebadmsg", 57, G_U16, -EBADMSG, 0, 57, 3, 0x05, 0xc0, 0),
	GROW("opt57_len1_u16_is_ebadmsg", 57, G_U16, -EBADMSG, 0, 57, 1, 0x05),
	GROW("opt53_len1_u8_is_read", 53, G_U8, 0, 1, 255),
	GROW("opt93_len1_u16_is_ebadmsg", 93, G_U16, -EBADMSG, 0, 93, 1, 7),
	GROW("opt93_len2_u8_is_ebadmsg", 93, G_U8, -EBADMSG, 0, 93, 2, 0, 7),
	GROW("opt93_absent_u16_is_enoent", 93, G_U16, -ENOENT, 0, 60, 1, 'x'),
	GROW("opt0_pad_is_never_present", 0, G_U8, -ENOENT, 0, 0, 0, 0),
	GROW("opt255_end_is_never_present", 255, G_U8, -ENOENT, 0, 255),
};

static void run_getter_row(void **state)
{
	const struct getter_row *row = *state;
	struct pkt_spec s = {.opts = row->opts, .opts_len = row->opts_len};
	static struct dhcp_msg m;
	assert_int_equal(dhcp_msg_parse(&m, pktbuf, make_pkt(&s)), DHCP_PARSE_OK);
	uint8_t v8 = 0;
	uint16_t v16 = 0;
	uint32_t v32 = 0, v = 0;
	int rc = 0;
	switch (row->g) {
	case G_U8:
		rc = dhcp_msg_opt_u8(&m, row->code, &v8);
		v = v8;
		break;
	case G_U16:
		rc = dhcp_msg_opt_u16(&m, row->code, &v16);
		v = v16;
		break;
	case G_U32:
		rc = dhcp_msg_opt_u32(&m, row->code, &v32);
		v = v32;
		break;
	case G_IP:
		rc = dhcp_msg_opt_ip(&m, row->code, &v32);
		v = v32;
		break;
	}
	assert_int_equal(rc, row->want);
	if (rc == 0)
		assert_int_equal(v, row->want_v);
}

/* ---- real firmware packets ---- */

struct fw_row {
	const char *name;
	const char *file;
	size_t len;
	uint8_t type;
	uint32_t xid;
	uint16_t flags;
	uint16_t arch;       /* option 93 */
	uint16_t max_size;   /* option 57 */
	const char *vendor;  /* option 60 */
	const char *user;    /* option 77, NULL: absent */
	uint8_t ndi[3];      /* option 94 */
	bool has_61_175;
	uint32_t server_id;  /* option 54, 0: absent */
};

static const struct fw_row fw_rows[] = {
	{"seed_bios_ipxe_rom_discover_fields", "bios-seabios-e1000-ipxe-rom-0.bin", 400, DHCPDISCOVER,
	 0x883b3e47, 0x0000, 0, 1472, "PXEClient:Arch:00000:UNDI:002001", "iPXE", {1, 2, 1}, true, 0},
	{"seed_bios_ipxe_rom_request_fields", "bios-seabios-e1000-ipxe-rom-4.bin", 412, DHCPREQUEST,
	 0x883b3e47, 0x0000, 0, 1472, "PXEClient:Arch:00000:UNDI:002001", "iPXE", {1, 2, 1}, true,
	 0x0a4d0001},
	{"seed_undionly_discover_is_broadcast", "bios-ipxe-rom-forced-undionly-tftp-loop-6.bin", 400,
	 DHCPDISCOVER, 0xe0b00e20, 0x8000, 0, 1472, "PXEClient:Arch:00000:UNDI:002001", "iPXE",
	 {1, 2, 1}, true, 0},
	{"seed_ovmf_native_discover_fields", "uefi-ovmf-virtio-native-pxe-0.bin", 347, DHCPDISCOVER,
	 0xb558851b, 0x8000, 7, 1472, "PXEClient:Arch:00007:UNDI:003000", NULL, {1, 3, 0}, false, 0},
	{"seed_ovmf_native_request_max_size_65280", "uefi-ovmf-virtio-native-pxe-2.bin", 359, DHCPREQUEST,
	 0xb558851b, 0x8000, 7, 65280, "PXEClient:Arch:00007:UNDI:003000", NULL, {1, 3, 0}, false,
	 0x0a4d0001},
	{"seed_ipxe_efi_on_ovmf_discover_fields", "uefi-ovmf-virtio-native-pxe-4.bin", 391, DHCPDISCOVER,
	 0xbb93be73, 0x0000, 7, 1472, "PXEClient:Arch:00007:UNDI:003010", "iPXE", {1, 3, 10}, true, 0},
	{"seed_ipxe_efi_rom_discover_fields", "uefi-ovmf-e1000-ipxe-efi-rom-0.bin", 388, DHCPDISCOVER,
	 0x880d3b73, 0x0000, 7, 1472, "PXEClient:Arch:00007:UNDI:003010", "iPXE", {1, 3, 10}, true, 0},
};

static size_t read_seed(const char *name, uint8_t *buf, size_t cap)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void run_fw_row(void **state)
{
	const struct fw_row *row = *state;
	static uint8_t buf[4096];
	static struct dhcp_msg m;
	size_t n = read_seed(row->file, buf, sizeof(buf));
	assert_int_equal(n, row->len);
	assert_int_equal(dhcp_msg_parse(&m, buf, n), DHCP_PARSE_OK);
	assert_true(m.has_cookie);
	assert_int_equal(m.op, DHCP_OP_REQUEST);
	assert_int_equal(m.type, row->type);
	assert_int_equal(m.xid, row->xid);
	assert_int_equal(m.flags, row->flags);
	assert_int_equal(m.htype, 1);
	assert_int_equal(m.hlen, 6);
	assert_memory_equal(m.chaddr, test_mac, sizeof(test_mac));
	assert_int_equal(m.overload, 0);

	uint16_t v16;
	assert_int_equal(dhcp_msg_opt_u16(&m, DHCP_OPT_CLIENT_ARCH, &v16), 0);
	assert_int_equal(v16, row->arch);
	assert_int_equal(dhcp_msg_opt_u16(&m, DHCP_OPT_MAX_SIZE, &v16), 0);
	assert_int_equal(v16, row->max_size);
	assert_opt(&m, DHCP_OPT_VENDOR_CLASS, row->vendor, strlen(row->vendor));
	if (row->user)
		assert_opt(&m, DHCP_OPT_USER_CLASS, row->user, strlen(row->user));
	else
		assert_absent(&m, DHCP_OPT_USER_CLASS);
	assert_opt(&m, DHCP_OPT_CLIENT_NDI, row->ndi, 3);

	/* 97: type 0 + 16 zero bytes (QEMU run without -uuid) */
	static const uint8_t uuid0[17];
	assert_opt(&m, DHCP_OPT_UUID, uuid0, sizeof(uuid0));
	if (row->has_61_175) {
		uint8_t cid[7] = {1};
		memcpy(cid + 1, test_mac, 6);
		assert_opt(&m, DHCP_OPT_CLIENT_ID, cid, sizeof(cid));
		size_t len;
		assert_non_null(dhcp_msg_opt(&m, DHCP_OPT_IPXE_ENCAP, &len));
	} else {
		assert_absent(&m, DHCP_OPT_CLIENT_ID);
		assert_absent(&m, DHCP_OPT_IPXE_ENCAP);
	}
	uint32_t ip;
	if (row->server_id) {
		assert_int_equal(dhcp_msg_opt_ip(&m, DHCP_OPT_SERVER_ID, &ip), 0);
		assert_int_equal(ip, row->server_id);
		assert_int_equal(dhcp_msg_opt_ip(&m, DHCP_OPT_REQUESTED_IP, &ip), 0);
		assert_int_equal(ip, 0x0a4d0091); /* 10.77.0.145 */
	} else {
		assert_int_equal(dhcp_msg_opt_ip(&m, DHCP_OPT_SERVER_ID, &ip), -ENOENT);
	}
}

/* Every packet extracted from the captures (client and dnsmasq alike) parses. */
static void test_every_captured_packet_parses(void **state)
{
	(void)state;
	static uint8_t buf[4096];
	static struct dhcp_msg m;
	DIR *d = opendir(CORPUS_DIR);
	assert_non_null(d);
	size_t count = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "bios-", 5) != 0 && strncmp(e->d_name, "uefi-", 5) != 0)
			continue;
		size_t n = read_seed(e->d_name, buf, sizeof(buf));
		enum dhcp_parse_err err = dhcp_msg_parse(&m, buf, n);
		if (err != DHCP_PARSE_OK)
			fail_msg("%s: %s", e->d_name, dhcp_parse_strerror(err));
		assert_true(m.type >= DHCPDISCOVER && m.type <= DHCPACK);
		count++;
	}
	closedir(d);
	assert_true(count >= 40);
}

/* ---- builder ---- */

struct bopt {
	uint8_t code;
	uint16_t len;
	bool req;
};

struct build_row {
	const char *name;
	size_t max_len;
	size_t cap; /* 0: 1500 */
	struct bopt opts[8];
	int want;          /* 0: success */
	size_t want_len;   /* when want == 0 */
	uint8_t kept[8];   /* codes expected on the wire, in order */
};

#define REQ(c, l) {c, l, true}
#define OPT(c, l) {c, l, false}

static const struct build_row build_rows[] = {
	{"build_small_reply_is_padded_to_300", 0, 0, {REQ(53, 1), REQ(54, 4)}, 0, 300, {53, 54}},
	{"build_keeps_options_in_the_order_added", 0, 0,
	 {REQ(53, 1), REQ(54, 4), OPT(51, 4), OPT(1, 4), OPT(3, 4), OPT(6, 8)}, 0, 300, {53, 54, 51, 1, 3, 6}},
	{"build_reply_over_300_is_not_padded", 0, 0, {REQ(53, 1), REQ(54, 4), OPT(43, 200)}, 0,
	 240 + 3 + 6 + 202 + 1, {53, 54, 43}},
	{"build_zero_length_option_is_code_and_zero", 0, 0, {REQ(53, 1), OPT(80, 0)}, 0, 300, {53, 80}},
	{"build_255_byte_option_is_one_instance", 1444, 0, {REQ(53, 1), OPT(43, 255)}, 0,
	 240 + 3 + 257 + 1, {53, 43}},
	{"build_256_byte_option_is_split_255_1", 1444, 0, {REQ(53, 1), OPT(43, 256)}, 0,
	 240 + 3 + 257 + 3 + 1, {53, 43}},
	{"build_600_byte_option_is_split_255_255_90", 1444, 0, {REQ(53, 1), OPT(43, 600)}, 0,
	 240 + 3 + 606 + 1, {53, 43}},
	{"build_default_max_548_drops_last_added_first", 0, 0,
	 {REQ(53, 1), REQ(54, 4), OPT(60, 200), OPT(66, 200), OPT(67, 200)}, 0, 452, {53, 54, 60}},
	{"build_drops_small_late_option_before_big_early_one", 0, 0,
	 {REQ(53, 1), REQ(54, 4), OPT(43, 300), OPT(12, 10)}, 0, 300, {53, 54}},
	{"build_max_len_1444_keeps_all", 1444, 0,
	 {REQ(53, 1), REQ(54, 4), OPT(60, 200), OPT(66, 200), OPT(67, 200)}, 0, 856, {53, 54, 60, 66, 67}},
	{"build_max_len_below_548_is_raised_to_548", 300, 0,
	 {REQ(53, 1), REQ(54, 4), OPT(60, 200), OPT(66, 200), OPT(67, 200)}, 0, 452, {53, 54, 60}},
	{"build_exactly_548_fits", 0, 0, {REQ(53, 1), OPT(43, 255), OPT(60, 45)}, 0, 548, {53, 43, 60}},
	{"build_549_drops_the_last", 0, 0, {REQ(53, 1), OPT(43, 255), OPT(60, 46)}, 0, 240 + 3 + 257 + 1,
	 {53, 43}},
	{"build_cap_below_max_len_limits", 1444, 600,
	 {REQ(53, 1), REQ(54, 4), OPT(60, 200), OPT(66, 200)}, 0, 452, {53, 54, 60}},
	{"build_required_option_survives_when_earlier_optional_dropped", 0, 0,
	 {OPT(43, 250), REQ(60, 250)}, 0, 240 + 252 + 1, {60}},
	{"build_required_option_too_big_is_emsgsize", 0, 0, {REQ(53, 1), REQ(43, 600)}, -EMSGSIZE, 0, {0}},
	{"build_required_options_over_cap_is_emsgsize", 1444, 400, {REQ(53, 1), REQ(43, 200)}, -EMSGSIZE,
	 0, {0}},
	{"build_cap_below_300_is_emsgsize", 0, 299, {REQ(53, 1)}, -EMSGSIZE, 0, {0}},
	{"build_cap_300_is_enough_for_a_small_reply", 0, 300, {REQ(53, 1), REQ(54, 4)}, 0, 300, {53, 54}},
};

/* Recognisable bytes per option; option 53 gets a valid type so the reply re-parses. */
static void fill_pattern(uint8_t *p, size_t n, uint8_t code)
{
	for (size_t i = 0; i < n; i++)
		p[i] = code == DHCP_OPT_MSG_TYPE ? DHCPOFFER : (uint8_t)(code + i * 7);
}

static void run_build_row(void **state)
{
	const struct build_row *row = *state;
	static struct dhcp_reply r;
	static struct dhcp_msg req, back;
	static uint8_t val[1024], out[4096];

	memset(&req, 0, sizeof(req));
	req.htype = 1;
	req.hlen = 6;
	req.xid = 0xdeadbeef;
	memcpy(req.chaddr, test_mac, 6);
	dhcp_reply_init(&r, &req);
	r.max_len = row->max_len;
	size_t nopts = 0;
	for (; nopts < 8 && row->opts[nopts].code; nopts++) {
		const struct bopt *o = &row->opts[nopts];
		fill_pattern(val, o->len, o->code);
		assert_int_equal(dhcp_reply_add(&r, o->code, val, o->len, o->req), 0);
	}
	memset(out, 0xee, sizeof(out));
	int n = dhcp_build(&r, out, row->cap ? row->cap : 1500);
	assert_int_equal(n, row->want ? row->want : (int)row->want_len);
	if (n < 0)
		return;

	/* Walk the wire: codes in order (split instances consecutive), END, zero padding. */
	assert_memory_equal(out + 236, "\x63\x82\x53\x63", 4);
	size_t i = 240, k = 0;
	int last = -1;
	while (out[i] != 255) {
		assert_true(i + 2 <= (size_t)n);
		if (out[i] != last) {
			assert_true(k < 8);
			assert_int_equal(out[i], row->kept[k]);
			k++;
			last = out[i];
		}
		i += 2u + out[i + 1];
	}
	assert_int_equal(k, strnlen((const char *)row->kept, 8));
	for (i = i + 1; i < (size_t)n; i++)
		assert_int_equal(out[i], 0);

	/* Round trip: every kept option comes back with its bytes, dropped ones are gone. */
	assert_int_equal(dhcp_msg_parse(&back, out, (size_t)n), DHCP_PARSE_OK);
	for (size_t j = 0; j < nopts; j++) {
		const struct bopt *o = &row->opts[j];
		bool kept = memchr(row->kept, o->code, 8) != NULL;
		if (kept) {
			fill_pattern(val, o->len, o->code);
			assert_opt(&back, o->code, val, o->len);
		} else {
			assert_absent(&back, o->code);
		}
	}
}

static void test_build_splits_600_bytes_into_consecutive_255_255_90(void **state)
{
	(void)state;
	static struct dhcp_reply r;
	static struct dhcp_msg req;
	static uint8_t val[600], out[1500];
	memset(&req, 0, sizeof(req));
	dhcp_reply_init(&r, &req);
	r.max_len = 1444;
	fill_pattern(val, sizeof(val), 43);
	assert_int_equal(dhcp_reply_add(&r, 43, val, sizeof(val), true), 0);
	assert_int_equal(dhcp_build(&r, out, sizeof(out)), 240 + 606 + 1);
	assert_int_equal(out[240], 43);
	assert_int_equal(out[241], 255);
	assert_memory_equal(out + 242, val, 255);
	assert_int_equal(out[497], 43);
	assert_int_equal(out[498], 255);
	assert_memory_equal(out + 499, val + 255, 255);
	assert_int_equal(out[754], 43);
	assert_int_equal(out[755], 90);
	assert_memory_equal(out + 756, val + 510, 90);
	assert_int_equal(out[846], 255);
}

static void test_build_round_trip_keeps_header_and_options(void **state)
{
	(void)state;
	static uint8_t buf[4096], out[1500];
	static struct dhcp_msg req, back;
	static struct dhcp_reply r;
	size_t n = read_seed("bios-seabios-e1000-ipxe-rom-0.bin", buf, sizeof(buf));
	assert_int_equal(dhcp_msg_parse(&req, buf, n), DHCP_PARSE_OK);
	req.hops = 2;
	req.giaddr = 0x0a000001;

	dhcp_reply_init(&r, &req);
	assert_int_equal(r.op, DHCP_OP_REPLY);
	assert_int_equal(r.max_len, 1472 - 28);
	assert_false(r.bootp);
	r.yiaddr = 0x0a4d0091;
	r.siaddr = 0x0a4d0001;
	r.ciaddr = 0x0a4d0092;
	memcpy(r.file, "undionly.kpxe", 14);
	memcpy(r.sname, "pixie", 6);
	assert_int_equal(dhcp_reply_add_u8(&r, DHCP_OPT_MSG_TYPE, DHCPOFFER, true), 0);
	assert_int_equal(dhcp_reply_add_ip(&r, DHCP_OPT_SERVER_ID, 0x0a4d0001, true), 0);
	assert_int_equal(dhcp_reply_add_u32(&r, DHCP_OPT_LEASE_TIME, 3600, false), 0);
	assert_int_equal(dhcp_reply_add_u16(&r, DHCP_OPT_MAX_SIZE, 1472, false), 0);
	assert_int_equal(dhcp_reply_add(&r, DHCP_OPT_VENDOR_CLASS, "PXEClient", 9, false), 0);
	assert_true(dhcp_reply_has(&r, DHCP_OPT_SERVER_ID));
	assert_false(dhcp_reply_has(&r, DHCP_OPT_ROUTER));

	int len = dhcp_build(&r, out, sizeof(out));
	assert_int_equal(len, 300);
	assert_int_equal(dhcp_msg_parse(&back, out, (size_t)len), DHCP_PARSE_OK);
	assert_int_equal(back.op, DHCP_OP_REPLY);
	assert_int_equal(back.htype, 1);
	assert_int_equal(back.hlen, 6);
	assert_int_equal(back.hops, 2);
	assert_int_equal(back.xid, 0x883b3e47);
	assert_int_equal(back.secs, 0);
	assert_int_equal(back.flags, 0);
	assert_int_equal(back.ciaddr, 0x0a4d0092);
	assert_int_equal(back.yiaddr, 0x0a4d0091);
	assert_int_equal(back.siaddr, 0x0a4d0001);
	assert_int_equal(back.giaddr, 0x0a000001);
	assert_memory_equal(back.chaddr, test_mac, 6);
	assert_string_equal((const char *)back.file, "undionly.kpxe");
	assert_string_equal((const char *)back.sname, "pixie");
	assert_true(back.has_cookie);
	assert_int_equal(back.type, DHCPOFFER);
	uint32_t v32;
	uint16_t v16;
	assert_int_equal(dhcp_msg_opt_ip(&back, DHCP_OPT_SERVER_ID, &v32), 0);
	assert_int_equal(v32, 0x0a4d0001);
	assert_int_equal(dhcp_msg_opt_u32(&back, DHCP_OPT_LEASE_TIME, &v32), 0);
	assert_int_equal(v32, 3600);
	assert_int_equal(dhcp_msg_opt_u16(&back, DHCP_OPT_MAX_SIZE, &v16), 0);
	assert_int_equal(v16, 1472);
	assert_opt(&back, DHCP_OPT_VENDOR_CLASS, "PXEClient", 9);
	/* 53 and 54 lead, as added */
	assert_memory_equal(out + 240, "\x35\x01\x02\x36\x04\x0a\x4d\x00\x01", 9);
}

static void test_reply_init_on_bootp_request_is_bootp_with_default_size(void **state)
{
	(void)state;
	struct pkt_spec s = {.no_cookie = true, LEN(300)};
	static struct dhcp_msg m;
	static struct dhcp_reply r;
	assert_int_equal(dhcp_msg_parse(&m, pktbuf, make_pkt(&s)), DHCP_PARSE_OK);
	dhcp_reply_init(&r, &m);
	assert_true(r.bootp);
	assert_int_equal(r.max_len, 0);
	assert_int_equal(r.xid, 0x12345678);
	assert_int_equal(r.secs, 0);
}

static void test_reply_init_ovmf_request_max_size_65280(void **state)
{
	(void)state;
	static uint8_t buf[4096];
	static struct dhcp_msg m;
	static struct dhcp_reply r;
	size_t n = read_seed("uefi-ovmf-virtio-native-pxe-2.bin", buf, sizeof(buf));
	assert_int_equal(dhcp_msg_parse(&m, buf, n), DHCP_PARSE_OK);
	dhcp_reply_init(&r, &m);
	assert_int_equal(r.max_len, 65280 - 28);
	assert_int_equal(r.flags, 0x8000);
	static uint8_t val[1200], out[1500];
	assert_int_equal(dhcp_reply_add_u8(&r, 53, DHCPACK, true), 0);
	assert_int_equal(dhcp_reply_add(&r, 43, val, 1000, false), 0);
	assert_int_equal(dhcp_reply_add(&r, 60, val, 23, false), 0);
	/* 240 + 3 + 1008 + 25 + 1 = 1277: more than 548, within the 1500 ceiling */
	assert_int_equal(dhcp_build(&r, out, sizeof(out)), 1277);
}

/* max_len 65252 (OVMF's 65280 - 28) is capped at DHCP_MAX_LEN even with a bigger buffer.
 * Option values may point at caller memory (struct dhcp_build_opt), beyond r->store. */
static void test_build_max_len_above_1500_is_capped_at_1500(void **state)
{
	(void)state;
	static struct dhcp_reply r;
	static struct dhcp_msg req, back;
	static uint8_t big[1200], out[4096];
	static const struct {
		uint16_t len60;
		int want;
	} rows[] = {
		{40, 240 + 3 + 1210 + 42 + 1}, /* 1496: fits */
		{100, 240 + 3 + 1210 + 1},     /* 1556 > 1500: 60 dropped */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.htype = 1;
		req.hlen = 6;
		dhcp_reply_init(&r, &req);
		r.max_len = 65252;
		assert_int_equal(dhcp_reply_add_u8(&r, 53, DHCPACK, true), 0);
		r.opts[r.nopts++] = (struct dhcp_build_opt){43, sizeof(big), big, false};
		r.opts[r.nopts++] = (struct dhcp_build_opt){60, rows[i].len60, big, false};
		int n = dhcp_build(&r, out, sizeof(out));
		assert_int_equal(n, rows[i].want);
		assert_int_equal(dhcp_msg_parse(&back, out, (size_t)n), DHCP_PARSE_OK);
		assert_int_equal(back.opt[43].len, sizeof(big));
		assert_int_equal(back.opt[60].present, rows[i].len60 == 40);
	}
}

struct add_row {
	const char *name;
	uint8_t code;
	size_t len;
	int prefill; /* options added before: 0 none, 1 = option 60, 2 = 64 options, 3 = 1000 bytes */
	int want;
};

static const struct add_row add_rows[] = {
	{"add_ordinary_option_succeeds", 60, 9, 0, 0},
	{"add_empty_option_succeeds", 80, 0, 0, 0},
	{"add_pad_is_einval", 0, 1, 0, -EINVAL},
	{"add_end_is_einval", 255, 1, 0, -EINVAL},
	{"add_overload_is_einval", 52, 1, 0, -EINVAL},
	{"add_same_code_twice_is_eexist", 60, 9, 1, -EEXIST},
	{"add_65th_option_is_enospc", 200, 1, 2, -ENOSPC},
	{"add_past_store_is_enospc", 43, 25, 3, -ENOSPC},
	{"add_exactly_filling_store_succeeds", 43, 24, 3, 0},
	{"add_over_1024_bytes_is_enospc", 43, 1025, 0, -ENOSPC},
};

static void run_add_row(void **state)
{
	const struct add_row *row = *state;
	static struct dhcp_reply r;
	static struct dhcp_msg req;
	static uint8_t val[2048];
	memset(&req, 0, sizeof(req));
	dhcp_reply_init(&r, &req);
	if (row->prefill == 1)
		assert_int_equal(dhcp_reply_add(&r, 60, "x", 1, false), 0);
	if (row->prefill == 2)
		for (uint8_t c = 1; c <= DHCP_BUILD_MAX_OPTS; c++)
			assert_int_equal(dhcp_reply_add_u8(&r, c == 52 ? 199 : c, c, false), 0);
	if (row->prefill == 3)
		assert_int_equal(dhcp_reply_add(&r, 60, val, 1000, false), 0);
	size_t before = r.nopts;
	assert_int_equal(dhcp_reply_add(&r, row->code, val, row->len, false), row->want);
	assert_int_equal(r.nopts, before + (row->want == 0));
}

static void test_add_helpers_encode_big_endian(void **state)
{
	(void)state;
	static struct dhcp_reply r;
	static struct dhcp_msg req;
	memset(&req, 0, sizeof(req));
	dhcp_reply_init(&r, &req);
	assert_int_equal(dhcp_reply_add_u8(&r, 53, 5, true), 0);
	assert_int_equal(dhcp_reply_add_u16(&r, 57, 0x1234, false), 0);
	assert_int_equal(dhcp_reply_add_u32(&r, 51, 0x01020304, false), 0);
	assert_int_equal(dhcp_reply_add_ip(&r, 54, 0x0a4d0001, true), 0);
	assert_memory_equal(r.opts[0].data, "\x05", 1);
	assert_memory_equal(r.opts[1].data, "\x12\x34", 2);
	assert_memory_equal(r.opts[2].data, "\x01\x02\x03\x04", 4);
	assert_memory_equal(r.opts[3].data, "\x0a\x4d\x00\x01", 4);
	assert_true(r.opts[0].required);
	assert_false(r.opts[1].required);
}

static void test_strerror_names_every_reason(void **state)
{
	(void)state;
	const char *seen[DHCP_PARSE_TOO_BIG + 1];
	for (int e = DHCP_PARSE_OK; e <= DHCP_PARSE_TOO_BIG; e++) {
		seen[e] = dhcp_parse_strerror((enum dhcp_parse_err)e);
		assert_non_null(seen[e]);
		assert_true(strlen(seen[e]) > 0);
		for (int j = 0; j < e; j++)
			assert_string_not_equal(seen[j], seen[e]);
	}
	assert_non_null(dhcp_parse_strerror((enum dhcp_parse_err)99));
}

#define ROWS(arr, fn)                                                                              \
	do {                                                                                       \
		for (size_t i_ = 0; i_ < sizeof(arr) / sizeof((arr)[0]); i_++)                     \
			tests[n++] = (struct CMUnitTest){(arr)[i_].name, fn, NULL, NULL,           \
							 (void *)&(arr)[i_]};                      \
	} while (0)
#define ONE(fn) (tests[n++] = (struct CMUnitTest){#fn, fn, NULL, NULL, NULL})

int main(void)
{
	static struct CMUnitTest tests[256];
	size_t n = 0;
	init_buffers();
	ROWS(parse_rows, run_parse_row);
	ONE(test_parse_null_buffer_len_0_is_short);
	ROWS(getter_rows, run_getter_row);
	ROWS(fw_rows, run_fw_row);
	ONE(test_every_captured_packet_parses);
	ROWS(build_rows, run_build_row);
	ONE(test_build_splits_600_bytes_into_consecutive_255_255_90);
	ONE(test_build_round_trip_keeps_header_and_options);
	ONE(test_reply_init_on_bootp_request_is_bootp_with_default_size);
	ONE(test_reply_init_ovmf_request_max_size_65280);
	ONE(test_build_max_len_above_1500_is_capped_at_1500);
	ROWS(add_rows, run_add_row);
	ONE(test_add_helpers_encode_big_endian);
	ONE(test_strerror_names_every_reason);
	return _cmocka_run_group_tests("dhcp_wire", tests, n, NULL, NULL);
}
