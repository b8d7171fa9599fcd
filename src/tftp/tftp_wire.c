/* tftp/wire — see tftp_wire.h. */
#include "tftp/tftp_wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/cursor.h"
#include "core/util.h"
#include "core/writer.h"

enum {
	OPT_BLKSIZE = 1u << 0,
	OPT_TSIZE = 1u << 1,
	OPT_TIMEOUT = 1u << 2,
	OPT_WINDOWSIZE = 1u << 3,
};

/*
 * One option pair. RFC 2347: option names are case-insensitive; an option the server does
 * not know is ignored and left out of the OACK. When a name comes twice, the first one
 * decides (even when its value is bad) so a later copy can never change a value.
 */
static void parse_option(struct tftp_options *o, const char *name, size_t nlen, const char *val,
			 size_t vlen)
{
	uint64_t v;
	if (mem_eq_nocase(name, nlen, "blksize")) {
		if (o->seen & OPT_BLKSIZE)
			return;
		o->seen |= OPT_BLKSIZE;
		/* RFC 2348: valid values range between 8 and 65464 octets, inclusive */
		if (!parse_u64n(val, vlen, TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX, &v)) {
			o->blksize_set = true;
			o->blksize = (uint16_t)v;
		}
	} else if (mem_eq_nocase(name, nlen, "tsize")) {
		if (o->seen & OPT_TSIZE)
			return;
		o->seen |= OPT_TSIZE;
		if (!parse_u64n(val, vlen, 0, UINT64_MAX, &v)) {
			o->tsize_set = true;
			o->tsize = v;
		}
	} else if (mem_eq_nocase(name, nlen, "timeout")) {
		if (o->seen & OPT_TIMEOUT)
			return;
		o->seen |= OPT_TIMEOUT;
		/* RFC 2349: valid values range between 1 and 255 seconds, inclusive */
		if (!parse_u64n(val, vlen, TFTP_TIMEOUT_MIN, TFTP_TIMEOUT_MAX, &v)) {
			o->timeout_set = true;
			o->timeout = (uint8_t)v;
		}
	} else if (mem_eq_nocase(name, nlen, "windowsize")) {
		if (o->seen & OPT_WINDOWSIZE)
			return;
		o->seen |= OPT_WINDOWSIZE;
		/* RFC 7440: valid values range between 1 and 65535 blocks, inclusive */
		if (!parse_u64n(val, vlen, 1, TFTP_WINDOW_MAX, &v)) {
			o->windowsize_set = true;
			o->windowsize = (uint16_t)v;
		}
	}
}

int tftp_parse_request(const void *pkt, size_t len, struct tftp_request *req)
{
	struct cursor c;
	uint16_t op;
	const char *mode;
	size_t mode_len;

	memset(req, 0, sizeof(*req));
	cursor_init(&c, pkt, len);
	if (cursor_be16(&c, &op) < 0)
		return -EBADMSG;
	req->opcode = op;
	if (op != TFTP_OP_RRQ && op != TFTP_OP_WRQ)
		return -EOPNOTSUPP;
	/* RFC 1350 §5: filename and mode are each terminated by a zero byte */
	if (cursor_cstr(&c, &req->file, &req->file_len) < 0 ||
	    cursor_cstr(&c, &mode, &mode_len) < 0)
		return -EBADMSG;
	if (mem_eq_nocase(mode, mode_len, "octet"))
		req->mode = TFTP_MODE_OCTET;
	else if (mem_eq_nocase(mode, mode_len, "netascii"))
		req->mode = TFTP_MODE_NETASCII;
	else
		return -EPROTONOSUPPORT; /* "mail" is obsolete; anything else is not TFTP */

	while (c.left) {
		const char *name, *val;
		size_t nlen, vlen;
		/*
		 * Lenient on purpose: an unterminated name, a name without a value, or an empty
		 * name ends the options and the rest is ignored. Apple OpenFirmware and PA-RISC
		 * firmware send trailing bytes (NUL padding) after the last option.
		 */
		if (cursor_cstr(&c, &name, &nlen) < 0 || nlen == 0 ||
		    cursor_cstr(&c, &val, &vlen) < 0) {
			req->opt.trailing = true;
			break;
		}
		req->opt.count++;
		parse_option(&req->opt, name, nlen, val, vlen);
	}
	return 0;
}

int tftp_parse_packet(const void *pkt, size_t len, struct tftp_packet *out)
{
	struct cursor c;
	memset(out, 0, sizeof(*out));
	cursor_init(&c, pkt, len);
	if (cursor_be16(&c, &out->opcode) < 0)
		return -EBADMSG;
	switch (out->opcode) {
	case TFTP_OP_DATA:
		if (cursor_be16(&c, &out->block) < 0)
			return -EBADMSG;
		out->data = c.p;
		out->data_len = c.left;
		return 0;
	case TFTP_OP_ACK:
		/* extra bytes after the block number are ignored */
		return cursor_be16(&c, &out->block) < 0 ? -EBADMSG : 0;
	case TFTP_OP_ERROR:
		if (cursor_be16(&c, &out->error_code) < 0)
			return -EBADMSG;
		/* the message should end with a NUL; take what is there either way */
		out->msg = (const char *)c.p;
		out->msg_len = c.left;
		if (c.left) {
			const char *nul = memchr(c.p, 0, c.left);
			if (nul)
				out->msg_len = (size_t)(nul - out->msg);
		}
		return 0;
	default:
		return 0;
	}
}

void tftp_negotiate(const struct tftp_options *o, const struct tftp_limits *lim, uint64_t tsize,
		    struct tftp_params *p)
{
	memset(p, 0, sizeof(*p));
	p->blksize = TFTP_BLKSIZE_DEFAULT;
	p->windowsize = 1;
	if (o->blksize_set) {
		/* RFC 2348: the server may answer with a smaller size than asked */
		uint16_t max = lim->blksize_max ? lim->blksize_max : TFTP_BLKSIZE_MAX;
		p->blksize = MIN(o->blksize, max);
		p->ack_blksize = true;
	}
	/*
	 * RFC 2349: answered with the size. Not for a 0-byte file: curl (7.88) takes
	 * "tsize 0" in an OACK for invalid and aborts; without it the client just does
	 * not learn the size in advance.
	 */
	if (o->tsize_set && tsize) {
		p->tsize = tsize;
		p->ack_tsize = true;
	}
	if (o->timeout_set) {
		/* RFC 2349: the server acknowledges with the same value */
		p->timeout_s = o->timeout;
		p->ack_timeout = true;
	}
	if (o->windowsize_set) {
		/* RFC 7440 §3: the server may answer with a smaller window */
		uint16_t max = lim->windowsize_max ? lim->windowsize_max : 1;
		p->windowsize = MIN(o->windowsize, max);
		p->ack_windowsize = true;
	}
	p->oack = p->ack_blksize || p->ack_tsize || p->ack_timeout || p->ack_windowsize;
}

static void put_opt(struct writer *w, const char *name, uint64_t v)
{
	char num[24];
	snprintf(num, sizeof(num), "%" PRIu64, v);
	writer_cstr(w, name);
	writer_cstr(w, num);
}

int tftp_build_oack(void *buf, size_t cap, const struct tftp_params *p)
{
	struct writer w;
	writer_init(&w, buf, cap);
	writer_be16(&w, TFTP_OP_OACK);
	if (p->ack_blksize)
		put_opt(&w, "blksize", p->blksize);
	if (p->ack_tsize)
		put_opt(&w, "tsize", p->tsize);
	if (p->ack_timeout)
		put_opt(&w, "timeout", p->timeout_s);
	if (p->ack_windowsize)
		put_opt(&w, "windowsize", p->windowsize);
	return w.overflow ? -ENOSPC : (int)w.len;
}

int tftp_build_error(void *buf, size_t cap, uint16_t code, const char *msg)
{
	struct writer w;
	writer_init(&w, buf, cap);
	writer_be16(&w, TFTP_OP_ERROR);
	writer_be16(&w, code);
	writer_cstr(&w, msg ? msg : tftp_error_text(code));
	return w.overflow ? -ENOSPC : (int)w.len;
}

int tftp_build_ack(void *buf, size_t cap, uint16_t block)
{
	struct writer w;
	writer_init(&w, buf, cap);
	writer_be16(&w, TFTP_OP_ACK);
	writer_be16(&w, block);
	return w.overflow ? -ENOSPC : (int)w.len;
}

int tftp_build_data_hdr(void *buf, size_t cap, uint16_t block)
{
	struct writer w;
	writer_init(&w, buf, cap);
	writer_be16(&w, TFTP_OP_DATA);
	writer_be16(&w, block);
	return w.overflow ? -ENOSPC : (int)w.len;
}

const char *tftp_error_text(uint16_t code)
{
	static const char *const text[] = {
		"Undefined error",
		"File not found",
		"Access violation",
		"Disk full or allocation exceeded",
		"Illegal TFTP operation",
		"Unknown transfer ID",
		"File already exists",
		"No such user",
		"Option negotiation failed",
	};
	return code < ARRAY_SIZE(text) ? text[code] : text[0];
}
