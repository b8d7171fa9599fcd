/* tftp/xfer — see tftp_xfer.h. */
#include "tftp/tftp_xfer.h"

#include <errno.h>
#include <string.h>

#include "core/util.h"

static bool terminal(const struct tftp_xfer *x)
{
	return x->state == TFTP_XFER_DONE || x->state == TFTP_XFER_FAILED;
}

/* One past the last block of a window starting at `start`. */
static uint64_t window_end(const struct tftp_xfer *x, uint64_t start)
{
	uint64_t end = start + x->p.windowsize;
	if (x->last != UINT64_MAX && end > x->last + 1)
		end = x->last + 1;
	return end;
}

static void set_rto_from_rtt(struct tftp_xfer *x)
{
	if (!x->have_rtt) {
		x->rto = x->cfg.rto_max_ms;
		return;
	}
	uint64_t rto = x->srtt + MAX((uint64_t)1, 4 * x->rttvar);
	x->rto = MIN(MAX(rto, x->cfg.rto_min_ms), x->cfg.rto_max_ms);
}

/* RFC 6298 §2 estimator, in ms; samples only from blocks never retransmitted (Karn). */
static void rtt_sample(struct tftp_xfer *x, uint64_t r)
{
	if (!x->have_rtt) {
		x->srtt = r;
		x->rttvar = r / 2;
		x->have_rtt = true;
	} else {
		uint64_t d = x->srtt > r ? x->srtt - r : r - x->srtt;
		x->rttvar = (3 * x->rttvar + d) / 4;
		x->srtt = (7 * x->srtt + r) / 8;
	}
	set_rto_from_rtt(x);
}

static void finish(struct tftp_xfer *x, enum tftp_xfer_state st, enum tftp_xfer_end end,
		   uint64_t now)
{
	x->state = st;
	x->end = end;
	x->ended_ms = now;
	x->deadline = 0;
}

static void fail_with_error(struct tftp_xfer *x, enum tftp_xfer_end end, uint16_t code,
			    const char *msg, uint64_t now)
{
	int n = tftp_build_error(x->errpkt, sizeof(x->errpkt), code, msg);
	if (n > 0) {
		x->err_len = (uint16_t)n;
		x->error_due = true;
	}
	finish(x, TFTP_XFER_FAILED, end, now);
}

void tftp_xfer_init(struct tftp_xfer *x, const struct tftp_params *p, enum tftp_mode mode,
		    uint64_t size, const struct tftp_xfer_cfg *cfg, const struct tftp_source *src,
		    struct tftp_na_mark *marks, uint64_t now)
{
	memset(x, 0, sizeof(*x));
	x->p = *p;
	if (x->p.blksize < TFTP_BLKSIZE_MIN)
		x->p.blksize = TFTP_BLKSIZE_DEFAULT;
	if (x->p.windowsize < 1)
		x->p.windowsize = 1;
	x->cfg = *cfg;
	if (x->cfg.rto_min_ms < 1)
		x->cfg.rto_min_ms = 1;
	if (x->cfg.rto_max_ms < x->cfg.rto_min_ms)
		x->cfg.rto_max_ms = x->cfg.rto_min_ms;
	x->src = *src;
	x->size = size;
	x->netascii = mode == TFTP_MODE_NETASCII && marks;
	/*
	 * RFC 1350 §6: a DATA shorter than the block size ends the transfer, so a file of
	 * exactly k blocks ends with an empty block k + 1 (and a 0-byte file is one empty block).
	 */
	x->last = x->netascii ? UINT64_MAX : size / x->p.blksize + 1;
	if (x->netascii) {
		x->marks = marks;
		x->nmarks = TFTP_NA_MARKS(x->p.windowsize);
		x->marks[1 % x->nmarks] = (struct tftp_na_mark){.off = 0, .pending = -1};
	}
	/*
	 * RFC 2349 timeout: the client's interval replaces [tftp] timeout as the first and the
	 * longest wait before a retransmission. Below it the timeout adapts to the measured
	 * round trip, so one lost packet on a LAN costs tens of milliseconds, not seconds; an
	 * early resend is only a duplicate the client ignores (we never resend on its ACKs).
	 */
	if (p->timeout_s) {
		x->cfg.rto_max_ms = (uint64_t)p->timeout_s * 1000;
		x->cfg.rto_min_ms = MIN(x->cfg.rto_min_ms, x->cfg.rto_max_ms);
	}
	x->rto = x->cfg.rto_max_ms;
	x->started_ms = now;
	if (p->oack) {
		int n = tftp_build_oack(x->oack, sizeof(x->oack), &x->p);
		if (n > 0) {
			x->oack_len = (uint16_t)n;
			x->oack_due = true;
			x->state = TFTP_XFER_OACK;
			return;
		}
	}
	x->state = TFTP_XFER_DATA;
	x->base = x->next = x->sent_hi = 1;
	x->burst_end = window_end(x, 1);
}

static void ack_progress(struct tftp_xfer *x, uint64_t k, uint64_t now)
{
	if (x->sample_valid && k >= x->sample_block) {
		x->sample_valid = false;
		rtt_sample(x, now - x->sample_time);
	}
	x->timeouts = 0;
	set_rto_from_rtt(x); /* forget the backoff */
}

static void on_ack(struct tftp_xfer *x, uint16_t w, uint64_t now)
{
	if (x->state == TFTP_XFER_OACK) {
		/* RFC 2347: the client acknowledges the OACK with ACK 0 */
		if (w != 0)
			return;
		ack_progress(x, 0, now);
		x->state = TFTP_XFER_DATA;
		x->oack_due = false;
		x->base = x->next = x->sent_hi = 1;
		x->burst_end = window_end(x, 1);
		return;
	}
	/* The ACK names a block in [base - 1, sent_hi - 1]; anything else maps beyond. */
	uint64_t lo = x->base - 1;
	uint64_t k = lo + (uint16_t)(w - tftp_wire_block(lo));
	if (k >= x->sent_hi)
		return; /* a block we have not sent: ignored */
	/*
	 * A duplicate or stale ACK never causes a resend (RFC 1123 §4.2.3.1, the Sorcerer's
	 * Apprentice): only the timer retransmits.
	 */
	if (k == lo)
		return;
	ack_progress(x, k, now);
	uint64_t bs = x->p.blksize;
	if (!x->netascii)
		x->bytes_acked = MIN(k * bs, x->size);
	else
		x->bytes_acked = x->marks[(k + 1) % x->nmarks].off; /* file bytes through k */
	x->base = k + 1;
	if (k == x->last) {
		finish(x, TFTP_XFER_DONE, TFTP_END_OK, now);
		return;
	}
	/* RFC 7440 §4: the next window starts at the block after the acknowledged one */
	x->next = x->base;
	x->burst_end = window_end(x, x->base);
}

int tftp_xfer_on_packet(struct tftp_xfer *x, const void *pkt, size_t len, uint64_t now)
{
	struct tftp_packet p;
	if (terminal(x) || tftp_parse_packet(pkt, len, &p) < 0)
		return 0;
	switch (p.opcode) {
	case TFTP_OP_ACK:
		on_ack(x, p.block, now);
		break;
	case TFTP_OP_ERROR:
		/*
		 * RFC 2347 §4: a client that does not accept the OACK answers ERROR 8 and the
		 * transfer ends; UEFI does this after a tsize probe. Either way no reply.
		 */
		x->client_error = p.error_code;
		finish(x, TFTP_XFER_FAILED,
		       x->state == TFTP_XFER_OACK && p.error_code == TFTP_ERR_OPTION
			       ? TFTP_END_OPTION_ABORT
			       : TFTP_END_CLIENT_ERROR,
		       now);
		x->error_due = false;
		break;
	default:
		break; /* DATA, requests, OACK, unknown: not part of a read transfer */
	}
	return 0;
}

void tftp_xfer_on_timer(struct tftp_xfer *x, uint64_t now)
{
	if (terminal(x) || !x->deadline || now < x->deadline)
		return;
	x->sample_valid = false; /* Karn: no sample from what gets resent */
	if (x->rto < x->cfg.rto_max_ms) {
		x->rto = MIN(x->rto * 2, x->cfg.rto_max_ms);
	} else if (++x->timeouts > x->cfg.retries) {
		finish(x, TFTP_XFER_FAILED, TFTP_END_TIMEOUT, now);
		return;
	}
	x->deadline = 0;
	if (x->state == TFTP_XFER_OACK) {
		x->oack_due = true;
	} else {
		/* RFC 7440 §4: on timeout the whole window is sent again from its first block */
		x->next = x->base;
		x->burst_end = window_end(x, x->base);
		/*
		 * When the whole window went out, the client may hold all of it and its ACK was
		 * lost. atftp (0.8, RFC 7440 patch) then answers old blocks with a single extra
		 * ACK and ignores the rest; its own timer restarts on every packet, so while we
		 * resend it never repeats that ACK and the transfer stalls until one side gives
		 * up. So resend everything in flight and one block more: wherever such a client
		 * stands, it gets its next block (which re-arms its extra ACK) and the following
		 * round of old blocks draws an ACK from it. To a client that lacks the window the
		 * extra block is only out of order. At most one window beyond the acknowledged
		 * one is ever in flight. Windows only: lock-step clients re-ACK duplicates.
		 */
		uint64_t w = x->p.windowsize;
		if (w > 1 && w <= TFTP_PROBE_WINDOW_MAX && x->sent_hi >= x->base + w) {
			uint64_t end = MIN(x->sent_hi + 1, x->base + 2 * w);
			if (x->last != UINT64_MAX)
				end = MIN(end, x->last + 1);
			x->burst_end = end;
		}
	}
}

void tftp_xfer_abort(struct tftp_xfer *x, uint16_t code, const char *msg, uint64_t now)
{
	if (terminal(x))
		return;
	fail_with_error(x, TFTP_END_ABORTED, code, msg, now);
}

void tftp_xfer_cancel(struct tftp_xfer *x, uint64_t now)
{
	if (terminal(x))
		return;
	finish(x, TFTP_XFER_FAILED, TFTP_END_GONE, now);
}

static bool batch_put(struct tftp_batch *b, const void *pkt, size_t len)
{
	if (b->n == TFTP_BATCH_MAX || len > b->cap - b->used)
		return false;
	memcpy(b->buf + b->used, pkt, len);
	b->pkt[b->n].off = (uint32_t)b->used;
	b->pkt[b->n].len = (uint32_t)len;
	b->used += len;
	b->n++;
	return true;
}

static void batch_reset(struct tftp_batch *b)
{
	b->used = 0;
	b->n = 0;
	b->ndata = 0;
}

/* Octet: the blocks of this fill are one contiguous file range, read with one readv. */
static int fill_octet(struct tftp_xfer *x, struct tftp_batch *b)
{
	struct iovec iov[TFTP_BATCH_MAX];
	uint64_t bs = x->p.blksize, first = x->next;
	size_t want = 0;
	int n = 0;
	while (x->next < x->burst_end && b->n < TFTP_BATCH_MAX) {
		uint64_t off = (x->next - 1) * bs;
		size_t dlen = off >= x->size ? 0 : (size_t)MIN(bs, x->size - off);
		if (TFTP_HDR_LEN + dlen > b->cap - b->used)
			break;
		uint8_t *h = b->buf + b->used;
		tftp_build_data_hdr(h, TFTP_HDR_LEN, tftp_wire_block(x->next));
		iov[n].iov_base = h + TFTP_HDR_LEN;
		iov[n].iov_len = dlen;
		b->pkt[b->n].off = (uint32_t)b->used;
		b->pkt[b->n].len = (uint32_t)(TFTP_HDR_LEN + dlen);
		b->used += TFTP_HDR_LEN + dlen;
		b->n++;
		n++;
		want += dlen;
		x->next++;
	}
	if (want) {
		ssize_t r = x->src.readv(x->src.arg, iov, n, (first - 1) * bs);
		if (r < 0 || (size_t)r != want)
			return r < 0 ? (int)r : -ESTALE; /* shrank under us */
	}
	return n;
}

/*
 * netascii (RFC 764 via RFC 1350): CR LF for a newline, CR NUL for a bare CR. Block k
 * starts where marks[k] says; each block leaves the mark for the next one.
 */
static int na_block(struct tftp_xfer *x, struct tftp_na_mark m, uint8_t *out, size_t bs,
		    struct tftp_na_mark *end, size_t *olen)
{
	uint8_t raw[512];
	size_t rawlen = 0, rawpos = 0, o = 0;
	uint64_t off = m.off;
	int pending = m.pending;
	while (o < bs) {
		if (pending >= 0) {
			out[o++] = (uint8_t)pending;
			pending = -1;
			continue;
		}
		if (rawpos == rawlen) {
			if (off >= x->size)
				break;
			size_t want = (size_t)MIN((uint64_t)sizeof(raw), x->size - off);
			struct iovec v = {.iov_base = raw, .iov_len = want};
			ssize_t r = x->src.readv(x->src.arg, &v, 1, off);
			if (r < 0)
				return (int)r;
			if ((size_t)r != want)
				return -ESTALE;
			rawlen = want;
			rawpos = 0;
		}
		uint8_t c = raw[rawpos++];
		off++;
		if (c == '\n') {
			out[o++] = '\r';
			pending = '\n';
		} else if (c == '\r') {
			out[o++] = '\r';
			pending = 0;
		} else {
			out[o++] = c;
		}
	}
	end->off = off;
	end->pending = (int16_t)pending;
	*olen = o;
	return 0;
}

static int fill_netascii(struct tftp_xfer *x, struct tftp_batch *b)
{
	size_t bs = x->p.blksize;
	int n = 0;
	while (x->next < x->burst_end && b->n < TFTP_BATCH_MAX) {
		if (TFTP_HDR_LEN + bs > b->cap - b->used)
			break;
		uint8_t *h = b->buf + b->used;
		struct tftp_na_mark m = x->marks[x->next % x->nmarks], e;
		size_t dlen;
		int r = na_block(x, m, h + TFTP_HDR_LEN, bs, &e, &dlen);
		if (r < 0)
			return r;
		x->marks[(x->next + 1) % x->nmarks] = e;
		tftp_build_data_hdr(h, TFTP_HDR_LEN, tftp_wire_block(x->next));
		b->pkt[b->n].off = (uint32_t)b->used;
		b->pkt[b->n].len = (uint32_t)(TFTP_HDR_LEN + dlen);
		b->used += TFTP_HDR_LEN + dlen;
		b->n++;
		n++;
		if (dlen < bs) {
			x->last = x->next;
			x->burst_end = x->next + 1;
		}
		x->next++;
	}
	return n;
}

size_t tftp_xfer_fill(struct tftp_xfer *x, struct tftp_batch *b, uint64_t now)
{
	batch_reset(b);
	if (x->error_due) {
		x->error_due = false;
		batch_put(b, x->errpkt, x->err_len);
		return b->n;
	}
	if (x->state == TFTP_XFER_OACK) {
		if (!x->oack_due || !batch_put(b, x->oack, x->oack_len))
			return 0;
		if (!x->oack_sent) {
			/* the first OACK: its ACK 0 is a clean RTT sample */
			x->oack_sent = true;
			x->sample_valid = true;
			x->sample_block = 0;
			x->sample_time = now;
		}
		x->oack_due = false;
		x->deadline = now + x->rto;
		return b->n;
	}
	if (x->state != TFTP_XFER_DATA)
		return 0;
	if (x->next >= x->burst_end)
		return 0;
	uint64_t first = x->next;
	int n = x->netascii ? fill_netascii(x, b) : fill_octet(x, b);
	if (n < 0) {
		batch_reset(b);
		fail_with_error(x, TFTP_END_READ_ERROR, TFTP_ERR_UNDEF,
				n == -ESTALE ? "File changed while being sent" : "Read error", now);
		x->error_due = false;
		batch_put(b, x->errpkt, x->err_len);
		return b->n;
	}
	b->ndata = (unsigned)n;
	x->data_pkts += (uint64_t)n;
	if (first < x->sent_hi)
		x->retrans_pkts += MIN(x->sent_hi, x->next) - first;
	if (x->next > x->sent_hi) {
		if (!x->sample_valid && first >= x->sent_hi) {
			/* fresh blocks only (Karn): their ACK times the round trip */
			x->sample_valid = true;
			x->sample_block = x->next - 1;
			x->sample_time = now;
		}
		x->sent_hi = x->next;
	}
	x->deadline = now + x->rto;
	return b->n;
}

uint64_t tftp_xfer_deadline(const struct tftp_xfer *x)
{
	return terminal(x) ? 0 : x->deadline;
}

bool tftp_xfer_finished(const struct tftp_xfer *x)
{
	return terminal(x) && !x->error_due;
}

const char *tftp_xfer_end_name(enum tftp_xfer_end e)
{
	switch (e) {
	case TFTP_END_NONE: return "running";
	case TFTP_END_OK: return "ok";
	case TFTP_END_CLIENT_ERROR: return "client-error";
	case TFTP_END_OPTION_ABORT: return "option-abort";
	case TFTP_END_TIMEOUT: return "timeout";
	case TFTP_END_READ_ERROR: return "read-error";
	case TFTP_END_ABORTED: return "aborted";
	case TFTP_END_GONE: return "client-gone";
	case TFTP_END_WRITE_ERROR: return "write-error";
	}
	return "unknown";
}
