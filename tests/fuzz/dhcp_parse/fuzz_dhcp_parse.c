/*
 * fuzz_dhcp_parse — libFuzzer target for dhcp/wire.
 *
 * Parses the input as a UDP payload, reads every option through every getter, then answers
 * it: a reply echoing the request's options (53 and 54 required, the rest optional, in code
 * order) is built, and that reply must parse again with the same values for every option
 * kept; dropped options must be a tail of the added ones. Any violation calls abort().
 *
 * Does not fuzz dhcp_server/dhcp_pxe decisions (their own targets do).
 * Seeds: tests/fuzz/dhcp_parse/corpus/ (real firmware packets, tests/fuzz/extract_seeds.py).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp/dhcp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

static void check_getters(const struct dhcp_msg *m)
{
	for (unsigned code = 0; code < 256; code++) {
		size_t len = 1;
		const uint8_t *p = dhcp_msg_opt(m, (uint8_t)code, &len);
		uint8_t v8;
		uint16_t v16;
		uint32_t v32;
		int want_absent = p ? 0 : -ENOENT;
		CHECK(p || len == 0);
		if (p && len) /* touch every byte so ASan sees any bad range */
			CHECK(memchr(p, p[len - 1], len) != NULL);
		CHECK(dhcp_msg_opt_u8(m, (uint8_t)code, &v8) == (p ? (len == 1 ? 0 : -EBADMSG) : want_absent));
		CHECK(dhcp_msg_opt_u16(m, (uint8_t)code, &v16) == (p ? (len == 2 ? 0 : -EBADMSG) : want_absent));
		CHECK(dhcp_msg_opt_u32(m, (uint8_t)code, &v32) == (p ? (len == 4 ? 0 : -EBADMSG) : want_absent));
		CHECK(dhcp_msg_opt_ip(m, (uint8_t)code, &v32) == (p ? (len == 4 ? 0 : -EBADMSG) : want_absent));
	}
	CHECK(m->optbuf_len <= DHCP_OPTBUF_LEN);
	CHECK(!m->opt[DHCP_OPT_PAD].present && !m->opt[DHCP_OPT_END].present);
}

static struct dhcp_msg req, back;
static struct dhcp_reply reply;
static uint8_t out[DHCP_MAX_LEN];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum dhcp_parse_err err = dhcp_msg_parse(&req, data, size);
	CHECK(dhcp_parse_strerror(err) != NULL);
	if (err != DHCP_PARSE_OK) {
		for (unsigned code = 0; code < 256; code++)
			CHECK(!req.opt[code].present);
		return 0;
	}
	check_getters(&req);

	dhcp_reply_init(&reply, &req);
	reply.yiaddr = 0x0a4d0091;
	reply.siaddr = 0x0a4d0001;
	memcpy(reply.file, "ipxe.efi", 9);
	CHECK(dhcp_reply_add_u8(&reply, DHCP_OPT_MSG_TYPE, DHCPOFFER, true) == 0);
	CHECK(dhcp_reply_add_ip(&reply, DHCP_OPT_SERVER_ID, 0x0a4d0001, true) == 0);
	uint8_t added[256];
	size_t nadded = 0;
	for (unsigned code = 1; code < 255; code++) {
		size_t len;
		const uint8_t *p = dhcp_msg_opt(&req, (uint8_t)code, &len);
		if (!p || code == DHCP_OPT_MSG_TYPE || code == DHCP_OPT_SERVER_ID)
			continue;
		int r = dhcp_reply_add(&reply, (uint8_t)code, p, len, false);
		if (code == DHCP_OPT_OVERLOAD) {
			CHECK(r == -EINVAL);
			continue;
		}
		CHECK(r == 0 || r == -ENOSPC);
		if (r == 0)
			added[nadded++] = (uint8_t)code;
	}

	int n = dhcp_build(&reply, out, sizeof(out));
	CHECK(n >= DHCP_MIN_LEN && (size_t)n <= sizeof(out));
	CHECK(dhcp_msg_parse(&back, out, (size_t)n) == DHCP_PARSE_OK);
	check_getters(&back);
	CHECK(back.op == DHCP_OP_REPLY && back.type == DHCPOFFER && back.xid == req.xid);
	CHECK(memcmp(back.chaddr, req.chaddr, sizeof(back.chaddr)) == 0);
	uint32_t sid;
	CHECK(dhcp_msg_opt_ip(&back, DHCP_OPT_SERVER_ID, &sid) == 0 && sid == 0x0a4d0001);

	/* kept options round-trip byte for byte; dropped ones are the last added */
	bool dropping = false;
	for (size_t i = 0; i < nadded; i++) {
		size_t rlen, blen;
		const uint8_t *rp = dhcp_msg_opt(&req, added[i], &rlen);
		const uint8_t *bp = dhcp_msg_opt(&back, added[i], &blen);
		if (!bp) {
			dropping = true;
			continue;
		}
		CHECK(!dropping);
		CHECK(rlen == blen && (rlen == 0 || memcmp(rp, bp, rlen) == 0));
	}
	return 0;
}
