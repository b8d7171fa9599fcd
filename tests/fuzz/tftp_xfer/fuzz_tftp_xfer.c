/*
 * libFuzzer target for the read-transfer state machine, driven with a fake clock.
 *
 * Input: 8 bytes of setup (blksize, windowsize, file size, flags), then events: a client
 * packet of any bytes, an ACK for a chosen block, an ACK for the last block sent, or the
 * clock moving on. After every event all due packets are drawn and checked: sizes, block
 * numbers inside what was sent, nothing after the end, the deadline never in the past.
 * With flag bit 0x80 the same events drive the write side (tftp_rx) into a counting sink.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tftp/tftp_rx.h"
#include "tftp/tftp_xfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
	const uint8_t *p;
	size_t left;
};

static unsigned take(struct in *in, unsigned nbytes)
{
	unsigned v = 0;
	while (nbytes--) {
		v <<= 8;
		if (in->left) {
			v |= *in->p++;
			in->left--;
		}
	}
	return v;
}

static uint64_t file_size;

/* Cheap content with newlines and bare CRs in it (netascii paths). */
static ssize_t pattern_readv(void *arg, const struct iovec *iov, int iovcnt, uint64_t off)
{
	(void)arg;
	size_t done = 0;
	for (int i = 0; i < iovcnt && off < file_size; i++) {
		size_t n = iov[i].iov_len;
		if (n > file_size - off)
			n = (size_t)(file_size - off);
		uint8_t *d = iov[i].iov_base;
		memset(d, (int)(off & 0x7f) | 0x20, n);
		for (size_t j = (size_t)((64 - off % 64) % 64); j < n; j += 64) {
			d[j] = '\n';
			if (j + 1 < n)
				d[j + 1] = '\r';
		}
		off += n;
		done += n;
	}
	return (ssize_t)done;
}

static uint8_t scratch[70 * 1024];
static struct tftp_na_mark marks[TFTP_NA_MARKS(32)];

static void drain(struct tftp_xfer *x, struct tftp_batch *b, uint64_t now, uint16_t *last_block)
{
	for (int guard = 0; guard < 64; guard++) {
		bool was_done = tftp_xfer_finished(x);
		size_t n = tftp_xfer_fill(x, b, now);
		if (!n)
			return;
		if (was_done)
			abort(); /* a finished transfer sends nothing */
		for (size_t i = 0; i < n; i++) {
			const uint8_t *p = b->buf + b->pkt[i].off;
			uint16_t op = (uint16_t)(p[0] << 8 | p[1]);
			if (b->pkt[i].len < 2 || b->pkt[i].len > (uint32_t)x->p.blksize + 4u)
				abort();
			if (op == TFTP_OP_DATA) {
				*last_block = (uint16_t)(p[2] << 8 | p[3]);
				if (x->sent_hi < x->base)
					abort();
			} else if (op != TFTP_OP_OACK && op != TFTP_OP_ERROR) {
				abort();
			}
		}
		uint64_t d = tftp_xfer_deadline(x);
		if (d && d < now)
			abort();
	}
}

static uint64_t sink_len;

static int count_write(void *arg, const void *buf, size_t len, uint64_t off)
{
	(void)arg;
	(void)buf;
	if (off != sink_len)
		abort(); /* writes are in order */
	sink_len += len;
	return 0;
}

static int count_commit(void *arg)
{
	(void)arg;
	return sink_len % 3 == 0 ? -EEXIST : 0;
}

static void run_rx(struct in *in, const struct tftp_params *p, enum tftp_mode mode,
		   const struct tftp_xfer_cfg *cfg)
{
	struct tftp_rx r;
	struct tftp_sink k = {.write = count_write, .commit = count_commit};
	struct tftp_batch b = {.buf = scratch, .cap = sizeof(scratch)};
	uint64_t now = 1000;
	uint16_t blk = 1;
	sink_len = 0;
	tftp_rx_init(&r, p, mode, cfg, &k, now);
	tftp_rx_fill(&r, &b, now);
	while (in->left && !tftp_rx_finished(&r)) {
		unsigned op = take(in, 1) % 4;
		if (op == 3) {
			now += (uint64_t)take(in, 1) * 40;
			tftp_rx_on_timer(&r, now);
		} else {
			/* DATA: the expected block (op 0), any block (1), or raw bytes (2) */
			static uint8_t pkt[70 * 1024];
			size_t n;
			if (op == 2) {
				n = take(in, 1) % 40;
				for (size_t i = 0; i < n; i++)
					pkt[i] = (uint8_t)take(in, 1);
			} else {
				uint16_t b16 = op == 0 ? blk : (uint16_t)take(in, 2);
				size_t len = take(in, 1) % 2 ? p->blksize : take(in, 2) % (p->blksize + 2u);
				pkt[0] = 0;
				pkt[1] = TFTP_OP_DATA;
				pkt[2] = (uint8_t)(b16 >> 8);
				pkt[3] = (uint8_t)b16;
				memset(pkt + 4, '\r', len);
				n = len + 4;
				if (op == 0)
					blk++;
			}
			tftp_rx_on_packet(&r, pkt, n, now);
		}
		for (int g = 0; g < 4 && tftp_rx_fill(&r, &b, now); g++)
			if (b.pkt[0].len > TFTP_OACK_MAX)
				abort();
		uint64_t d = tftp_rx_deadline(&r);
		if (d && d < now)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	unsigned bs = take(&in, 2), win = take(&in, 1), sz = take(&in, 3), fl = take(&in, 2);
	struct tftp_params p = {
		.blksize = (uint16_t)(bs < TFTP_BLKSIZE_MIN ? TFTP_BLKSIZE_MIN : bs),
		.windowsize = (uint16_t)(win % 32 + 1),
		.oack = fl & 1,
		.ack_blksize = fl & 1,
		.timeout_s = (uint8_t)(fl & 2 ? (fl >> 8) % 5 + 1 : 0),
	};
	file_size = (uint64_t)sz * ((fl & 4) ? 257 : 1);
	enum tftp_mode mode = (fl & 8) ? TFTP_MODE_NETASCII : TFTP_MODE_OCTET;
	if (mode == TFTP_MODE_NETASCII) /* converted byte by byte: keep runs fast */
		p.blksize = (uint16_t)(p.blksize % 2048 + TFTP_BLKSIZE_MIN);
	struct tftp_xfer_cfg cfg = {.rto_max_ms = 1000, .rto_min_ms = 50, .retries = (fl >> 4) % 8};
	struct tftp_source src = {.readv = pattern_readv};
	if (fl & 0x80) {
		run_rx(&in, &p, mode, &cfg);
		return 0;
	}
	struct tftp_xfer *x = malloc(sizeof(*x));
	struct tftp_batch b = {.buf = scratch, .cap = sizeof(scratch)};
	uint64_t now = 1000;
	uint16_t last = 0;

	tftp_xfer_init(x, &p, mode, file_size, &cfg, &src, marks, now);
	drain(x, &b, now, &last);
	while (in.left && !tftp_xfer_finished(x)) {
		switch (take(&in, 1) % 4) {
		case 0: {
			uint8_t pkt[40];
			size_t n = take(&in, 1) % sizeof(pkt);
			for (size_t i = 0; i < n; i++)
				pkt[i] = (uint8_t)take(&in, 1);
			tftp_xfer_on_packet(x, pkt, n, now);
			break;
		}
		case 1: {
			unsigned blk = take(&in, 2);
			uint8_t ack[4] = {0, TFTP_OP_ACK, (uint8_t)(blk >> 8), (uint8_t)blk};
			tftp_xfer_on_packet(x, ack, 4, now);
			break;
		}
		case 2: {
			uint8_t ack[4] = {0, TFTP_OP_ACK, (uint8_t)(last >> 8), (uint8_t)last};
			if (x->state == TFTP_XFER_OACK)
				ack[2] = ack[3] = 0;
			tftp_xfer_on_packet(x, ack, 4, now);
			now += take(&in, 1) % 4;
			break;
		}
		default:
			now += (uint64_t)take(&in, 1) * 20;
			tftp_xfer_on_timer(x, now);
			break;
		}
		drain(x, &b, now, &last);
	}
	free(x);
	return 0;
}
