/* tftp/rx — see tftp_rx.h. */
#include "tftp/tftp_rx.h"

#include <errno.h>
#include <string.h>

#include "core/util.h"

/* A common client retransmission interval (tftp-hpa, atftp: 5 s): the sender drives. */
#define TFTP_RX_QUIET_MS 5000

static bool rx_terminal(const struct tftp_rx *r)
{
	return r->state == TFTP_RX_DONE || r->state == TFTP_RX_FAILED;
}

static void rx_fail(struct tftp_rx *r, enum tftp_xfer_end end, uint16_t code, const char *msg,
		    uint64_t now)
{
	if (msg || code) {
		int n = tftp_build_error(r->errpkt, sizeof(r->errpkt), code, msg);
		if (n > 0) {
			r->err_len = (uint16_t)n;
			r->error_due = true;
		}
	}
	r->state = TFTP_RX_FAILED;
	r->end = end;
	r->ended_ms = now;
	r->reply_due = false;
	r->deadline = 0;
}

void tftp_rx_init(struct tftp_rx *r, const struct tftp_params *p, enum tftp_mode mode,
		  const struct tftp_xfer_cfg *cfg, const struct tftp_sink *sink, uint64_t now)
{
	memset(r, 0, sizeof(*r));
	r->p = *p;
	if (r->p.blksize < TFTP_BLKSIZE_MIN)
		r->p.blksize = TFTP_BLKSIZE_DEFAULT;
	if (r->p.windowsize < 1)
		r->p.windowsize = 1;
	r->cfg = *cfg;
	/* RFC 2349: a negotiated timeout is the wait before our ACK goes out again */
	if (p->timeout_s)
		r->cfg.rto_max_ms = (uint64_t)p->timeout_s * 1000;
	if (r->cfg.rto_max_ms < 1)
		r->cfg.rto_max_ms = 1;
	r->sink = *sink;
	r->netascii = mode == TFTP_MODE_NETASCII;
	r->expect = 1;
	r->started_ms = now;
	r->state = TFTP_RX_WAIT;
	/* RFC 2347: options accepted -> OACK (DATA 1 answers it); else RFC 1350: ACK 0 */
	if (p->oack) {
		int n = tftp_build_oack(r->oack, sizeof(r->oack), &r->p);
		if (n > 0)
			r->oack_len = (uint16_t)n;
	}
	r->reply_due = true;
}

/* netascii (RFC 764): CR LF is a newline, CR NUL a bare CR. Decoded in small chunks. */
static int write_netascii(struct tftp_rx *r, const uint8_t *p, size_t n, bool last)
{
	uint8_t out[1024];
	size_t o = 0;
	for (size_t i = 0; i <= n; i++) {
		if (o + 2 > sizeof(out) || i == n) {
			if (i == n && last && r->cr_pending) {
				out[o++] = '\r'; /* a CR at the very end stays a CR */
				r->cr_pending = false;
			}
			if (o) {
				int e = r->sink.write(r->sink.arg, out, o, r->offset);
				if (e < 0)
					return e;
				r->offset += o;
				o = 0;
			}
			if (i == n)
				break;
		}
		uint8_t c = p[i];
		if (r->cr_pending) {
			r->cr_pending = false;
			if (c == '\n') {
				out[o++] = '\n';
				continue;
			}
			out[o++] = '\r';
			if (c == '\0')
				continue;
		}
		if (c == '\r')
			r->cr_pending = true;
		else
			out[o++] = c;
	}
	return 0;
}

static uint16_t errno_to_tftp(int e, const char **msg)
{
	switch (e) {
	case -ENOSPC:
	case -EDQUOT:
	case -EFBIG:
		*msg = NULL;
		return TFTP_ERR_DISK_FULL;
	case -EEXIST:
		*msg = NULL;
		return TFTP_ERR_EXISTS;
	case -EACCES:
	case -EPERM:
		*msg = NULL;
		return TFTP_ERR_ACCESS;
	default:
		*msg = "Write error";
		return TFTP_ERR_UNDEF;
	}
}

static void ack_now(struct tftp_rx *r, uint64_t block)
{
	r->acked = block;
	r->reply_due = true;
	r->in_window = 0;
}

static void on_data(struct tftp_rx *r, const struct tftp_packet *d, uint64_t now)
{
	if (d->data_len > r->p.blksize) {
		rx_fail(r, TFTP_END_CLIENT_ERROR, TFTP_ERR_ILLEGAL_OP, "DATA longer than blksize",
			now);
		return;
	}
	if (r->state == TFTP_RX_DALLY) {
		/* our final ACK was lost: the client sends its last block again */
		if (d->block == tftp_wire_block(r->last_block))
			r->reply_due = true;
		return;
	}
	uint16_t delta = (uint16_t)(d->block - tftp_wire_block(r->expect));
	if (delta != 0) {
		/*
		 * A duplicate (our ACK was lost) or a block past a gap: say where we are. RFC 7440
		 * receivers ACK the last block received in order. Not twice within a few ms, so
		 * a resent window draws one ACK rather than one per block.
		 */
		uint64_t quiet = MAX(r->cfg.rto_max_ms / 8, (uint64_t)1);
		r->dup_pkts++;
		if (r->state == TFTP_RX_DATA &&
		    !(r->acked == r->expect - 1 && now - r->ack_at < quiet))
			ack_now(r, r->expect - 1);
		return;
	}
	r->state = TFTP_RX_DATA;
	r->oack_len = 0; /* DATA 1 acknowledged the OACK */
	bool last = d->data_len < r->p.blksize;
	int e = 0;
	if (r->netascii) {
		e = write_netascii(r, d->data, d->data_len, last);
	} else if (d->data_len) {
		e = r->sink.write(r->sink.arg, d->data, d->data_len, r->offset);
		if (!e)
			r->offset += d->data_len;
	}
	if (!e && last)
		e = r->sink.commit(r->sink.arg);
	if (e < 0) {
		const char *msg;
		uint16_t code = errno_to_tftp(e, &msg);
		rx_fail(r, TFTP_END_WRITE_ERROR, code, msg, now);
		return;
	}
	r->data_pkts++;
	r->timeouts = 0;
	uint64_t k = r->expect++;
	r->deadline = now + r->cfg.rto_max_ms;
	if (last) {
		/*
		 * RFC 1350 §6: the final ACK; then dally to answer a resent last block, long
		 * enough for one retransmission by the client's own timer.
		 */
		r->deadline = now + MAX(r->cfg.rto_max_ms, TFTP_RX_QUIET_MS) + r->cfg.rto_max_ms;
		r->last_block = k;
		r->end = TFTP_END_OK;
		r->ended_ms = now;
		r->state = TFTP_RX_DALLY;
		ack_now(r, k);
		return;
	}
	/* RFC 7440: one ACK per window */
	if (++r->in_window >= r->p.windowsize)
		ack_now(r, k);
}

int tftp_rx_on_packet(struct tftp_rx *r, const void *pkt, size_t len, uint64_t now)
{
	struct tftp_packet p;
	if (rx_terminal(r) || tftp_parse_packet(pkt, len, &p) < 0)
		return 0;
	switch (p.opcode) {
	case TFTP_OP_DATA:
		on_data(r, &p, now);
		break;
	case TFTP_OP_ERROR:
		r->client_error = p.error_code;
		if (r->state == TFTP_RX_DALLY) {
			r->state = TFTP_RX_DONE; /* the file is in; the client went away */
			r->deadline = 0;
			break;
		}
		rx_fail(r, TFTP_END_CLIENT_ERROR, 0, NULL, now);
		break;
	default:
		break;
	}
	return 0;
}

void tftp_rx_on_timer(struct tftp_rx *r, uint64_t now)
{
	if (rx_terminal(r) || !r->deadline || now < r->deadline)
		return;
	if (r->state == TFTP_RX_DALLY) {
		r->state = TFTP_RX_DONE;
		r->deadline = 0;
		return;
	}
	bool first = r->timeouts == 0;
	if (++r->timeouts > r->cfg.retries) {
		rx_fail(r, TFTP_END_TIMEOUT, 0, NULL, now);
		return;
	}
	/*
	 * Nothing came: our last ACK (or the OACK) may have been lost, so it goes out again,
	 * but once only while receiving. If the client's DATA was lost instead, that ACK is
	 * a duplicate to it; tftp-hpa and atftp ignore it yet restart their own timer on it,
	 * so ACKing every second would keep their retransmission (5 s) from ever happening.
	 * Then we stay quiet, counting the budget in periods of TFTP_RX_QUIET_MS so that the
	 * client's own retransmissions get their chance.
	 */
	if (first || r->state == TFTP_RX_WAIT) {
		r->reply_due = true;
		r->in_window = 0;
		r->deadline = 0;
	} else {
		r->deadline = now + MAX(r->cfg.rto_max_ms, TFTP_RX_QUIET_MS);
	}
}

void tftp_rx_abort(struct tftp_rx *r, uint16_t code, const char *msg, uint64_t now)
{
	if (!rx_terminal(r))
		rx_fail(r, TFTP_END_ABORTED, code, msg ? msg : tftp_error_text(code), now);
}

void tftp_rx_cancel(struct tftp_rx *r, uint64_t now)
{
	if (!rx_terminal(r))
		rx_fail(r, TFTP_END_GONE, 0, NULL, now);
}

size_t tftp_rx_fill(struct tftp_rx *r, struct tftp_batch *b, uint64_t now)
{
	b->used = 0;
	b->n = 0;
	b->ndata = 0;
	const uint8_t *pkt = NULL;
	uint8_t ackbuf[TFTP_HDR_LEN];
	size_t len = 0;
	if (r->error_due) {
		r->error_due = false;
		pkt = r->errpkt;
		len = r->err_len;
	} else if (r->reply_due && !rx_terminal(r)) {
		r->reply_due = false;
		if (r->state == TFTP_RX_WAIT && r->oack_len) {
			pkt = r->oack;
			len = r->oack_len;
		} else {
			tftp_build_ack(ackbuf, sizeof(ackbuf), tftp_wire_block(r->acked));
			pkt = ackbuf;
			len = sizeof(ackbuf);
			r->ack_at = now;
		}
		if (r->state != TFTP_RX_DALLY)
			r->deadline = now + r->cfg.rto_max_ms;
		else if (!r->deadline)
			r->deadline = now + r->cfg.rto_max_ms;
	}
	if (!pkt || len > b->cap)
		return 0;
	memcpy(b->buf, pkt, len);
	b->pkt[0].off = 0;
	b->pkt[0].len = (uint32_t)len;
	b->used = len;
	b->n = 1;
	return 1;
}

uint64_t tftp_rx_deadline(const struct tftp_rx *r)
{
	return rx_terminal(r) ? 0 : r->deadline;
}

bool tftp_rx_finished(const struct tftp_rx *r)
{
	return rx_terminal(r) && !r->error_due;
}
