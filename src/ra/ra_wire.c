/*
 * ra/wire — see ra.h: the pure part. ICMPv6 Router Solicitation and Router Advertisement
 * (RFC 4861 §4.1, §4.2) and their options (§4.6), read through a cursor and written through
 * a writer. No I/O, no allocation, no logging.
 */
#include "ra/ra.h"

#include <errno.h>
#include <string.h>

#include "core/cursor.h"
#include "core/writer.h"

#define RS_HDR_LEN 8  /* type, code, checksum, reserved */
#define RA_HDR_LEN 16 /* type, code, checksum, hop limit, flags, lifetime, reachable, retrans */
#define RA_FLAG_M  0x80
#define RA_FLAG_O  0x40
#define OPT_PREFIX 3

/*
 * Walk the options after the fixed header. RFC 4861 §4.6: "The value 0 is invalid. Nodes
 * MUST silently discard an ND packet that contains an option with length zero." An option
 * running past the end is as invalid. A source link-layer option of Ethernet size (length 1)
 * is kept in slla.
 */
static int walk_options(struct cursor *c, bool *has_slla, uint8_t slla[6], size_t *nopts,
			size_t *nprefixes)
{
	while (c->left) {
		uint8_t type, units;
		if (cursor_u8(c, &type) < 0 || cursor_u8(c, &units) < 0)
			return -EBADMSG;
		if (units == 0)
			return -EBADMSG;
		struct cursor body;
		if (cursor_sub(c, (size_t)units * 8 - 2, &body) < 0)
			return -EBADMSG;
		(*nopts)++;
		if (type == RA_OPT_SLLA && units == 1) {
			*has_slla = true;
			if (cursor_bytes(&body, slla, 6) < 0)
				return -EBADMSG;
		} else if (type == OPT_PREFIX && nprefixes) {
			(*nprefixes)++;
		}
	}
	return 0;
}

int ra_parse_rs(const uint8_t *buf, size_t len, int hop_limit, bool src_unspecified,
		struct ra_rs *rs)
{
	memset(rs, 0, sizeof(*rs));
	struct cursor c;
	cursor_init(&c, buf, len);
	uint8_t type, code;
	if (cursor_u8(&c, &type) < 0)
		return -EBADMSG;
	if (type != RA_ICMP6_RS)
		return -ENOMSG;
	/* RFC 4861 §6.1.1: a router MUST silently discard any received Router Solicitation
	 * that does not satisfy: IP Hop Limit is 255; ICMP Code is 0; ICMP length is 8 or more
	 * octets; all included options have a length greater than zero; if the IP source
	 * address is the unspecified address, there is no source link-layer address option.
	 * (The ICMP checksum is checked by the kernel for raw ICMPv6 sockets.) */
	if (hop_limit != RA_HOP_LIMIT)
		return -EBADMSG;
	if (cursor_u8(&c, &code) < 0 || code != 0)
		return -EBADMSG;
	if (cursor_skip(&c, RS_HDR_LEN - 2) < 0) /* checksum + reserved (ignored, §4.1) */
		return -EBADMSG;
	int r = walk_options(&c, &rs->has_slla, rs->slla, &rs->nopts, NULL);
	if (r < 0)
		return r;
	if (src_unspecified && rs->has_slla)
		return -EBADMSG;
	return 0;
}

void ra_no_router(struct ra_advert *a, const uint8_t mac[6])
{
	memset(a, 0, sizeof(*a));
	/* RFC 4861 §4.2: Router Lifetime 0 = "not a default router"; no Prefix Information so
	 * nothing is autoconfigured; M = O = 0: no DHCPv6 either. Cur Hop Limit, Reachable
	 * Time and Retrans Timer 0 = unspecified by this router. */
	a->has_slla = mac != NULL;
	if (mac)
		memcpy(a->slla, mac, 6);
}

int ra_build_ra(uint8_t *buf, size_t cap, const struct ra_advert *a)
{
	struct writer w;
	writer_init(&w, buf, cap);
	writer_u8(&w, RA_ICMP6_RA);
	writer_u8(&w, 0);   /* code */
	writer_be16(&w, 0); /* checksum: the kernel's */
	writer_u8(&w, a->cur_hop_limit);
	writer_u8(&w, (uint8_t)((a->managed ? RA_FLAG_M : 0) | (a->other ? RA_FLAG_O : 0)));
	writer_be16(&w, a->router_lifetime);
	writer_be32(&w, a->reachable_ms);
	writer_be32(&w, a->retrans_ms);
	if (a->has_slla) {
		/* §4.6.1: type 1, length in units of 8 octets (1 for a 6-byte MAC) */
		writer_u8(&w, RA_OPT_SLLA);
		writer_u8(&w, 1);
		writer_bytes(&w, a->slla, 6);
	}
	return w.overflow ? -ENOSPC : (int)w.len;
}

int ra_build_rs(uint8_t *buf, size_t cap, const uint8_t *slla)
{
	struct writer w;
	writer_init(&w, buf, cap);
	writer_u8(&w, RA_ICMP6_RS);
	writer_u8(&w, 0);
	writer_be16(&w, 0);
	writer_be32(&w, 0); /* reserved */
	if (slla) {
		writer_u8(&w, RA_OPT_SLLA);
		writer_u8(&w, 1);
		writer_bytes(&w, slla, 6);
	}
	return w.overflow ? -ENOSPC : (int)w.len;
}

int ra_parse_ra(const uint8_t *buf, size_t len, struct ra_advert *a)
{
	memset(a, 0, sizeof(*a));
	struct cursor c;
	cursor_init(&c, buf, len);
	uint8_t type, code, flags;
	uint16_t csum;
	if (cursor_u8(&c, &type) < 0)
		return -EBADMSG;
	if (type != RA_ICMP6_RA)
		return -ENOMSG;
	if (cursor_u8(&c, &code) < 0 || code != 0)
		return -EBADMSG;
	if (cursor_be16(&c, &csum) < 0 || cursor_u8(&c, &a->cur_hop_limit) < 0 ||
	    cursor_u8(&c, &flags) < 0 || cursor_be16(&c, &a->router_lifetime) < 0 ||
	    cursor_be32(&c, &a->reachable_ms) < 0 || cursor_be32(&c, &a->retrans_ms) < 0)
		return -EBADMSG;
	a->managed = flags & RA_FLAG_M;
	a->other = flags & RA_FLAG_O;
	return walk_options(&c, &a->has_slla, a->slla, &a->nopts, &a->nprefixes);
}
