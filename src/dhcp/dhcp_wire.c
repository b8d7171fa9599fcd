/*
 * dhcp/wire — DHCPv4/BOOTP wire codec: bytes -> struct dhcp_msg, struct dhcp_reply -> bytes.
 *
 * Owns: the fixed BOOTP header, the magic cookie, option TLV framing (PAD/END, option 52
 * overload, RFC 3396 concatenation and splitting), exact-length option getters, the reply
 * size limit (option 57) and the 300-byte padding. Reads only through struct cursor, writes
 * only through struct writer.
 *
 * Does not own: what any option means (dhcp_server, dhcp_pxe), which options to send, where
 * a reply goes (broadcast/unicast/relay: net/ and dhcp_server), logging, allocation.
 *
 * Decisions worth knowing:
 * - len < 236 is DHCP_PARSE_SHORT. 236..239 bytes is a BOOTP header without a vendor area;
 *   it parses as BOOTP without options (has_cookie false) when the header is well formed,
 *   unless the bytes after the header are the start of the cookie (a cut-off DHCP message),
 *   which is DHCP_PARSE_SHORT. len > DHCP_MAX_LEN is DHCP_PARSE_TOO_BIG.
 * - >= 240 bytes without the cookie: BOOTP, the vendor area is opaque and not parsed.
 * - A missing END is tolerated in the options field (clients end the datagram right after
 *   the last option) but not in `file`/`sname` when option 52 overloads them: those fixed
 *   fields must close their options with END (DHCP_PARSE_NO_END).
 * - When option 52 says `file`/`sname` carry options, m->file/m->sname are zeroed so no
 *   caller reads options as a boot file or server name.
 * - Option 52 is taken from the `options` field only; instances inside `file`/`sname` are
 *   ignored (no nested overload, RFC 2131 §4.1 reads the options field first).
 * - On failure the header fields already read (op, xid, chaddr, ...) are kept for the
 *   caller's log line; options, type and overload are cleared.
 */
#include "dhcp/dhcp_wire.h"

#include <errno.h>
#include <string.h>

#include "core/cursor.h"
#include "core/writer.h"

#define DHCP_SNAME_OFF 44
#define DHCP_FILE_OFF 108
#define DHCP_OPTS_OFF 240
#define DHCP_IP_UDP_HDR 28       /* IPv4 header (no options) + UDP header */
#define DHCP_DEFAULT_MAX 548     /* RFC 2131 §2: 576-byte datagrams -> 548-byte payload */
#define DHCP_OVERLOAD_FILE 1
#define DHCP_OVERLOAD_SNAME 2

const char *dhcp_parse_strerror(enum dhcp_parse_err e)
{
	switch (e) {
	case DHCP_PARSE_OK:
		return "ok";
	case DHCP_PARSE_SHORT:
		return "datagram too short";
	case DHCP_PARSE_BAD_OP:
		return "bad op";
	case DHCP_PARSE_BAD_HLEN:
		return "bad hardware address length";
	case DHCP_PARSE_TRUNC_OPT:
		return "option runs past its area";
	case DHCP_PARSE_NO_END:
		return "options without END";
	case DHCP_PARSE_BAD_OVERLOAD:
		return "bad option 52 (overload)";
	case DHCP_PARSE_BAD_TYPE:
		return "bad option 53 (message type)";
	case DHCP_PARSE_TOO_BIG:
		return "message or options too big";
	}
	return "unknown parse error";
}

/* ---- parsing ---- */

enum scan_pass { SCAN_COUNT, SCAN_COPY };

/*
 * One options area (the options field, or an overloaded file/sname). SCAN_COUNT adds each
 * instance's length to m->opt[code].len; SCAN_COPY appends the bytes to the option's slot
 * in m->optbuf, advancing fill[code]. Both passes walk the same bytes with the same rules.
 */
static enum dhcp_parse_err scan_area(struct dhcp_msg *m, struct cursor c, bool main_area,
				     enum scan_pass pass, uint16_t *fill, size_t *total)
{
	for (;;) {
		uint8_t code, olen;
		if (cursor_u8(&c, &code) < 0)
			/* no END: tolerated in the options field (see file comment), not in an
			 * overloaded file/sname field, whose unused bytes must follow an END */
			return main_area ? DHCP_PARSE_OK : DHCP_PARSE_NO_END;
		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			return DHCP_PARSE_OK; /* bytes after END are padding */
		if (cursor_u8(&c, &olen) < 0 || olen > c.left)
			return DHCP_PARSE_TRUNC_OPT;
		struct cursor val;
		(void)cursor_sub(&c, olen, &val); /* cannot fail: olen <= c.left */
		/* RFC 2131 §4.1: the options field is read first so that option 52 is known
		 * before file/sname; an option 52 inside them is not honoured. */
		if (code == DHCP_OPT_OVERLOAD && !main_area)
			continue;
		struct dhcp_optref *ref = &m->opt[code];
		if (pass == SCAN_COUNT) {
			/* The one byte of option 52, checked by the caller once counting is done. */
			if (code == DHCP_OPT_OVERLOAD && olen == 1)
				(void)cursor_u8(&val, &m->overload);
			/* RFC 3396 §7: all instances are concatenated into one value. */
			if ((size_t)ref->len + olen > DHCP_OPTBUF_LEN || *total + olen > DHCP_OPTBUF_LEN)
				return DHCP_PARSE_TOO_BIG;
			ref->len = (uint16_t)(ref->len + olen);
			ref->present = true;
			*total += olen;
		} else {
			(void)cursor_bytes(&val, m->optbuf + ref->off + fill[code], olen);
			fill[code] = (uint16_t)(fill[code] + olen);
		}
	}
}

static void clear_options(struct dhcp_msg *m)
{
	memset(m->opt, 0, sizeof(m->opt));
	memset(m->optbuf, 0, sizeof(m->optbuf));
	m->optbuf_len = 0;
	m->overload = 0;
	m->type = DHCP_NONE;
}

/* The n bytes at offset off of the datagram as their own cursor (empty if out of range). */
static struct cursor area_at(const uint8_t *buf, size_t len, size_t off, size_t n)
{
	struct cursor c, sub;
	cursor_init(&c, buf, len);
	if (cursor_skip(&c, off) < 0 || cursor_sub(&c, n, &sub) < 0)
		cursor_init(&sub, NULL, 0);
	return sub;
}

static enum dhcp_parse_err parse_options(struct dhcp_msg *m, const uint8_t *buf, size_t len)
{
	struct cursor areas[3];
	size_t nareas = 0, total = 0;
	enum dhcp_parse_err err;

	areas[nareas++] = area_at(buf, len, DHCP_OPTS_OFF, len - DHCP_OPTS_OFF);
	err = scan_area(m, areas[0], true, SCAN_COUNT, NULL, &total);
	if (err != DHCP_PARSE_OK)
		return err;

	/* RFC 2132 §9.3: option 52 is one byte, 1 = file, 2 = sname, 3 = both. It is known
	 * from the options field before file/sname are touched (RFC 2131 §4.1). */
	if (m->opt[DHCP_OPT_OVERLOAD].present &&
	    (m->opt[DHCP_OPT_OVERLOAD].len != 1 || m->overload < 1 || m->overload > 3))
		return DHCP_PARSE_BAD_OVERLOAD;

	/* RFC 2131 §4.1: "The 'file' field MUST be interpreted next (if the 'option overload'
	 * option indicates that the 'file' field contains DHCP options), followed by the
	 * 'sname' field." RFC 3396 §7 concatenates in the same order. */
	if (m->overload & DHCP_OVERLOAD_FILE)
		areas[nareas++] = area_at(buf, len, DHCP_FILE_OFF, sizeof(m->file));
	if (m->overload & DHCP_OVERLOAD_SNAME)
		areas[nareas++] = area_at(buf, len, DHCP_SNAME_OFF, sizeof(m->sname));
	for (size_t i = 1; i < nareas; i++) {
		err = scan_area(m, areas[i], false, SCAN_COUNT, NULL, &total);
		if (err != DHCP_PARSE_OK)
			return err;
	}
	if (m->overload & DHCP_OVERLOAD_FILE)
		memset(m->file, 0, sizeof(m->file));
	if (m->overload & DHCP_OVERLOAD_SNAME)
		memset(m->sname, 0, sizeof(m->sname));

	/* Lay the concatenated values out one after another, then copy. */
	size_t off = 0;
	for (size_t code = 0; code < 256; code++) {
		if (!m->opt[code].present)
			continue;
		m->opt[code].off = (uint16_t)off;
		off += m->opt[code].len;
	}
	m->optbuf_len = off; /* == total <= DHCP_OPTBUF_LEN, checked while counting */
	uint16_t fill[256] = {0};
	for (size_t i = 0; i < nareas; i++)
		(void)scan_area(m, areas[i], i == 0, SCAN_COPY, fill, &total);

	/* RFC 2132 §9.6: option 53 is one byte; 1..8 are the RFC 2131 types. */
	if (m->opt[DHCP_OPT_MSG_TYPE].present) {
		uint8_t t;
		if (dhcp_msg_opt_u8(m, DHCP_OPT_MSG_TYPE, &t) < 0 || t < DHCPDISCOVER || t > DHCPINFORM)
			return DHCP_PARSE_BAD_TYPE;
		m->type = t;
	}
	return DHCP_PARSE_OK;
}

enum dhcp_parse_err dhcp_msg_parse(struct dhcp_msg *m, const uint8_t *buf, size_t len)
{
	struct cursor c;
	uint32_t cookie = 0;

	memset(m, 0, sizeof(*m));
	if (len < DHCP_HDR_LEN)
		return DHCP_PARSE_SHORT;
	if (len > DHCP_MAX_LEN)
		return DHCP_PARSE_TOO_BIG;

	/* RFC 2131 §2, figure 1: the fixed-format header. */
	cursor_init(&c, buf, len);
	if (cursor_u8(&c, &m->op) < 0 || cursor_u8(&c, &m->htype) < 0 || cursor_u8(&c, &m->hlen) < 0 ||
	    cursor_u8(&c, &m->hops) < 0 || cursor_be32(&c, &m->xid) < 0 ||
	    cursor_be16(&c, &m->secs) < 0 || cursor_be16(&c, &m->flags) < 0 ||
	    cursor_be32(&c, &m->ciaddr) < 0 || cursor_be32(&c, &m->yiaddr) < 0 ||
	    cursor_be32(&c, &m->siaddr) < 0 || cursor_be32(&c, &m->giaddr) < 0 ||
	    cursor_bytes(&c, m->chaddr, sizeof(m->chaddr)) < 0 ||
	    cursor_bytes(&c, m->sname, sizeof(m->sname)) < 0 ||
	    cursor_bytes(&c, m->file, sizeof(m->file)) < 0)
		return DHCP_PARSE_SHORT; /* cannot happen: len >= 236 */

	if (m->op != DHCP_OP_REQUEST && m->op != DHCP_OP_REPLY)
		return DHCP_PARSE_BAD_OP;
	/* chaddr is 16 bytes; Ethernet (htype 1) addresses are 6 (RFC 1700 / RFC 2131 §2). */
	if (m->hlen == 0 || m->hlen > sizeof(m->chaddr) || (m->htype == 1 && m->hlen != 6))
		return DHCP_PARSE_BAD_HLEN;

	/* RFC 2131 §3: the options field starts with the magic cookie 99.130.83.99. */
	if (c.left < 4) {
		static const uint8_t magic[4] = {0x63, 0x82, 0x53, 0x63};
		/* 1..3 bytes that begin the cookie: a DHCP message cut short. */
		if (c.left && memcmp(c.p, magic, c.left) == 0)
			return DHCP_PARSE_SHORT;
		return DHCP_PARSE_OK; /* BOOTP header without a vendor area */
	}
	(void)cursor_be32(&c, &cookie);
	if (cookie != DHCP_COOKIE)
		return DHCP_PARSE_OK; /* BOOTP: vendor area is not ours to read */
	m->has_cookie = true;

	enum dhcp_parse_err err = parse_options(m, buf, len);
	if (err != DHCP_PARSE_OK)
		clear_options(m);
	return err;
}

const uint8_t *dhcp_msg_opt(const struct dhcp_msg *m, uint8_t code, size_t *len)
{
	const struct dhcp_optref *ref = &m->opt[code];
	if (!ref->present || (size_t)ref->off + ref->len > DHCP_OPTBUF_LEN) {
		*len = 0;
		return NULL;
	}
	*len = ref->len;
	return m->optbuf + ref->off;
}

/* The value of `code` as a cursor of exactly `want` bytes. */
static int opt_exact(const struct dhcp_msg *m, uint8_t code, size_t want, struct cursor *c)
{
	size_t len;
	const uint8_t *p = dhcp_msg_opt(m, code, &len);
	if (!p)
		return -ENOENT;
	if (len != want)
		return -EBADMSG;
	cursor_init(c, p, len);
	return 0;
}

int dhcp_msg_opt_u8(const struct dhcp_msg *m, uint8_t code, uint8_t *v)
{
	struct cursor c;
	int r = opt_exact(m, code, 1, &c);
	return r < 0 ? r : cursor_u8(&c, v);
}

int dhcp_msg_opt_u16(const struct dhcp_msg *m, uint8_t code, uint16_t *v)
{
	struct cursor c;
	int r = opt_exact(m, code, 2, &c);
	return r < 0 ? r : cursor_be16(&c, v);
}

int dhcp_msg_opt_u32(const struct dhcp_msg *m, uint8_t code, uint32_t *v)
{
	struct cursor c;
	int r = opt_exact(m, code, 4, &c);
	return r < 0 ? r : cursor_be32(&c, v);
}

int dhcp_msg_opt_ip(const struct dhcp_msg *m, uint8_t code, uint32_t *ip)
{
	return dhcp_msg_opt_u32(m, code, ip);
}

/* ---- building ---- */

void dhcp_reply_init(struct dhcp_reply *r, const struct dhcp_msg *req)
{
	memset(r, 0, sizeof(*r));
	r->op = DHCP_OP_REPLY;
	r->htype = req->htype;
	r->hlen = req->hlen;
	r->hops = req->hops;
	r->xid = req->xid;
	r->flags = req->flags;
	r->giaddr = req->giaddr;
	memcpy(r->chaddr, req->chaddr, sizeof(r->chaddr));
	r->bootp = !req->has_cookie || req->type == DHCP_NONE;

	/* RFC 2132 §9.10: option 57 is the largest DHCP message the client accepts, the
	 * minimum legal value being 576. Read as an IP datagram size (RFC 2131 §2's 576 is
	 * one); iPXE means the UDP payload (it sends 1472), so subtracting the IP and UDP
	 * headers is safe either way. dhcp_build() clamps to [548, DHCP_MAX_LEN]. */
	uint16_t max;
	if (dhcp_msg_opt_u16(req, DHCP_OPT_MAX_SIZE, &max) == 0 && max > DHCP_IP_UDP_HDR)
		r->max_len = (size_t)max - DHCP_IP_UDP_HDR;
}

bool dhcp_reply_has(const struct dhcp_reply *r, uint8_t code)
{
	for (size_t i = 0; i < r->nopts && i < DHCP_BUILD_MAX_OPTS; i++)
		if (r->opts[i].code == code)
			return true;
	return false;
}

int dhcp_reply_add(struct dhcp_reply *r, uint8_t code, const void *data, size_t len, bool required)
{
	/* PAD and END are framing; 52 would make the client read file/sname as options, and
	 * this builder never overloads. */
	if (code == DHCP_OPT_PAD || code == DHCP_OPT_END || code == DHCP_OPT_OVERLOAD)
		return -EINVAL;
	if (len && !data)
		return -EINVAL;
	if (dhcp_reply_has(r, code))
		return -EEXIST; /* a second instance would be concatenated by the client */
	if (r->nopts >= DHCP_BUILD_MAX_OPTS || r->store_len > sizeof(r->store) ||
	    len > sizeof(r->store) - r->store_len)
		return -ENOSPC;
	struct dhcp_build_opt *o = &r->opts[r->nopts++];
	o->code = code;
	o->len = (uint16_t)len;
	o->data = r->store + r->store_len;
	o->required = required;
	if (len)
		memcpy(r->store + r->store_len, data, len);
	r->store_len += len;
	return 0;
}

int dhcp_reply_add_u8(struct dhcp_reply *r, uint8_t code, uint8_t v, bool required)
{
	return dhcp_reply_add(r, code, &v, 1, required);
}

int dhcp_reply_add_u16(struct dhcp_reply *r, uint8_t code, uint16_t v, bool required)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	return dhcp_reply_add(r, code, b, sizeof(b), required);
}

int dhcp_reply_add_u32(struct dhcp_reply *r, uint8_t code, uint32_t v, bool required)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return dhcp_reply_add(r, code, b, sizeof(b), required);
}

int dhcp_reply_add_ip(struct dhcp_reply *r, uint8_t code, uint32_t ip, bool required)
{
	return dhcp_reply_add_u32(r, code, ip, required);
}

/* Bytes one option takes on the wire: RFC 3396 §6 splits values over 255 bytes into
 * consecutive instances, each with its own code and length. */
static size_t opt_wire_len(const struct dhcp_build_opt *o)
{
	if (o->len == 0)
		return 2;
	return o->len + 2 * (((size_t)o->len + 254) / 255);
}

static void write_opt(struct writer *w, const struct dhcp_build_opt *o)
{
	size_t off = 0;
	do {
		size_t n = o->len - off > 255 ? 255 : o->len - off;
		writer_u8(w, o->code);
		writer_u8(w, (uint8_t)n);
		if (n)
			writer_bytes(w, o->data + off, n);
		off += n;
	} while (off < o->len);
}

int dhcp_build(const struct dhcp_reply *r, uint8_t *buf, size_t cap)
{
	if (r->nopts > DHCP_BUILD_MAX_OPTS)
		return -EINVAL;

	/* RFC 2131 §2: every client takes 576-byte datagrams (548 bytes of DHCP); more only
	 * when it said so with option 57. */
	size_t limit = r->max_len ? r->max_len : DHCP_DEFAULT_MAX;
	if (limit < DHCP_DEFAULT_MAX)
		limit = DHCP_DEFAULT_MAX;
	if (limit > DHCP_MAX_LEN)
		limit = DHCP_MAX_LEN;
	if (limit > cap)
		limit = cap;
	if (limit < DHCP_MIN_LEN)
		return -EMSGSIZE;

	/* Which options fit: drop the lowest-priority (last added) optional ones first. */
	bool keep[DHCP_BUILD_MAX_OPTS];
	size_t need = DHCP_OPTS_OFF + 1; /* header, cookie, END */
	for (size_t i = 0; i < r->nopts; i++) {
		keep[i] = true;
		need += opt_wire_len(&r->opts[i]);
	}
	for (size_t i = r->nopts; i-- > 0 && need > limit;) {
		if (r->opts[i].required)
			continue;
		keep[i] = false;
		need -= opt_wire_len(&r->opts[i]);
	}
	if (need > limit)
		return -EMSGSIZE;

	struct writer w;
	writer_init(&w, buf, limit);
	/* RFC 2131 §2, figure 1 */
	writer_u8(&w, r->op ? r->op : DHCP_OP_REPLY);
	writer_u8(&w, r->htype);
	writer_u8(&w, r->hlen);
	writer_u8(&w, r->hops);
	writer_be32(&w, r->xid);
	writer_be16(&w, r->secs);
	writer_be16(&w, r->flags);
	writer_be32(&w, r->ciaddr);
	writer_be32(&w, r->yiaddr);
	writer_be32(&w, r->siaddr);
	writer_be32(&w, r->giaddr);
	writer_bytes(&w, r->chaddr, sizeof(r->chaddr));
	writer_bytes(&w, r->sname, sizeof(r->sname));
	writer_bytes(&w, r->file, sizeof(r->file));
	/* RFC 2131 §3: the cookie, also the RFC 1497 vendor-extension cookie for BOOTP. */
	writer_be32(&w, DHCP_COOKIE);
	for (size_t i = 0; i < r->nopts; i++)
		if (keep[i])
			write_opt(&w, &r->opts[i]);
	writer_u8(&w, DHCP_OPT_END);
	/* RFC 1542 §3.2.2: BOOTP relay agents and old clients want at least 300 bytes. */
	if (w.len < DHCP_MIN_LEN)
		writer_zero(&w, DHCP_MIN_LEN - w.len);
	if (w.overflow)
		return -EMSGSIZE; /* not reached: sizes were checked above */
	return (int)w.len;
}
