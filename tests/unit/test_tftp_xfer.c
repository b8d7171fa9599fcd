/*
 * Unit tests for tftp/xfer, the read-transfer state machine, driven with a fake clock and a
 * file that exists only as a function of the offset (so 64 MiB files cost no memory).
 * Tables: file sizes and block endings, block-number rollover, windows, retransmission and
 * the retry budget, duplicate ACKs (Sorcerer's Apprentice), netascii, and a seeded lossy
 * network run end to end against a simulated RFC 7440 client.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tftp/tftp_xfer.h"

/* ---- a file made of a pattern, and a source that can fail or shrink ---- */

struct fake_file {
	uint64_t size;
	const uint8_t *bytes; /* when set, the content; else pattern(off) */
	int fail_at_call;     /* readv call number that fails with -EIO (0 = never) */
	uint64_t shrink_to;   /* when set, reads see the file cut to this size */
	int calls;
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 31 + (off >> 9) * 7 + (off >> 17));
}

static ssize_t fake_readv(void *arg, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct fake_file *f = arg;
	f->calls++;
	if (f->fail_at_call && f->calls == f->fail_at_call)
		return -EIO;
	uint64_t size = f->shrink_to ? f->shrink_to : f->size;
	size_t done = 0;
	for (int i = 0; i < iovcnt; i++) {
		uint8_t *d = iov[i].iov_base;
		for (size_t j = 0; j < iov[i].iov_len; j++, off++) {
			if (off >= size)
				return (ssize_t)done;
			d[j] = f->bytes ? f->bytes[off] : pattern(off);
			done++;
		}
	}
	return (ssize_t)done;
}

/* ---- harness ---- */

#define SCRATCH (70 * 1024)

struct sim {
	struct fake_file file;
	struct tftp_xfer x;
	struct tftp_batch b;
	uint8_t buf[SCRATCH];
	struct tftp_na_mark marks[TFTP_NA_MARKS(68)];
	uint64_t now;
	/* what the last fill() produced */
	size_t n;
	uint16_t opcode[TFTP_BATCH_MAX];
	uint16_t block[TFTP_BATCH_MAX];
	uint32_t len[TFTP_BATCH_MAX];
	uint8_t *pkt[TFTP_BATCH_MAX]; /* copies: the batch buffer is reused by every fill */
	uint8_t copy[4 * SCRATCH];
	size_t copied;
};

static const struct tftp_xfer_cfg default_cfg = {.rto_max_ms = 1000, .rto_min_ms = 50, .retries = 6};

static struct sim *sim_new(uint64_t size, uint16_t blksize, uint16_t window, bool oack,
			   enum tftp_mode mode)
{
	struct sim *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->file.size = size;
	s->now = 1000;
	s->b.buf = s->buf;
	s->b.cap = sizeof(s->buf);
	struct tftp_params p = {.blksize = blksize, .windowsize = window, .oack = oack,
				.ack_blksize = oack, .tsize = size};
	struct tftp_source src = {.readv = fake_readv, .arg = &s->file};
	tftp_xfer_init(&s->x, &p, mode, size, &default_cfg, &src,
		       mode == TFTP_MODE_NETASCII ? s->marks : NULL, s->now);
	return s;
}

/* Collect everything due now (one or more fills). Returns the packet count. */
static size_t fill(struct sim *s)
{
	s->n = 0;
	s->copied = 0;
	for (;;) {
		size_t k = tftp_xfer_fill(&s->x, &s->b, s->now);
		if (!k)
			break;
		for (size_t i = 0; i < k && s->n < TFTP_BATCH_MAX; i++) {
			const uint8_t *p = s->b.buf + s->b.pkt[i].off;
			assert_true(s->copied + s->b.pkt[i].len <= sizeof(s->copy));
			s->pkt[s->n] = s->copy + s->copied;
			memcpy(s->pkt[s->n], p, s->b.pkt[i].len);
			s->copied += s->b.pkt[i].len;
			s->opcode[s->n] = (uint16_t)(p[0] << 8 | p[1]);
			s->block[s->n] = (uint16_t)(p[2] << 8 | p[3]);
			s->len[s->n] = s->b.pkt[i].len;
			s->n++;
		}
		if (s->n >= TFTP_BATCH_MAX)
			break;
	}
	return s->n;
}

static void ack(struct sim *s, uint16_t block)
{
	uint8_t p[4] = {0, TFTP_OP_ACK, (uint8_t)(block >> 8), (uint8_t)block};
	tftp_xfer_on_packet(&s->x, p, sizeof(p), s->now);
}

static void error_from_client(struct sim *s, uint16_t code)
{
	uint8_t p[] = {0, TFTP_OP_ERROR, 0, (uint8_t)code, 'x', 0};
	tftp_xfer_on_packet(&s->x, p, sizeof(p), s->now);
}

static void timer(struct sim *s)
{
	uint64_t d = tftp_xfer_deadline(&s->x);
	assert_true(d > 0);
	s->now = d;
	tftp_xfer_on_timer(&s->x, s->now);
}

/* ---- sizes and endings: one row per file size ---- */

struct size_row {
	const char *name;
	uint64_t size;
	uint16_t blksize;
	uint64_t blocks;     /* DATA packets in a clean run */
	uint32_t last_len;   /* payload of the last block */
};

static const struct size_row size_rows[] = {
	{"zero_byte_file_is_one_empty_block", 0, 512, 1, 0},
	{"file_of_511_bytes_is_one_short_block", 511, 512, 1, 511},
	{"file_of_512_bytes_ends_with_an_empty_block", 512, 512, 2, 0},
	{"file_of_513_bytes_is_two_blocks", 513, 512, 2, 1},
	{"file_of_k_times_blksize_ends_with_an_empty_block", 3 * 1468, 1468, 4, 0},
	{"blksize_8_works", 20, 8, 3, 4},
	{"blksize_65464_works", 65464 + 10, 65464, 2, 10},
};

static void run_size_row(void **state)
{
	const struct size_row *r = *state;
	struct sim *s = sim_new(r->size, r->blksize, 1, false, TFTP_MODE_OCTET);
	uint64_t pkts = 0;
	uint32_t last = 0;
	while (!tftp_xfer_finished(&s->x)) {
		assert_int_equal(fill(s), 1);
		pkts++;
		last = s->len[0] - 4;
		ack(s, s->block[0]);
	}
	assert_int_equal(pkts, r->blocks);
	assert_int_equal(last, r->last_len);
	assert_int_equal(s->x.end, TFTP_END_OK);
	assert_int_equal(s->x.bytes_acked, r->size);
	assert_int_equal(s->x.retrans_pkts, 0);
	free(s);
}

/* ---- rollover ---- */

struct roll_row {
	const char *name;
	uint64_t size;
	uint16_t blksize, window;
};

static const struct roll_row roll_rows[] = {
	/* 64 MiB at 512: 131073 blocks, wraps twice (the system test, in memory) */
	{"file_of_64_mib_at_blksize_512_rolls_over_twice", 64ull << 20, 512, 1},
	{"file_of_64_mib_at_1468_window_16_completes", 64ull << 20, 1468, 16},
	{"block_numbers_roll_over_several_times_at_blksize_8", 5ull * 65536 * 8 + 3, 8, 1},
	{"rollover_inside_a_window_is_followed", 65536ull * 512 + 100, 512, 64},
};

static void run_roll_row(void **state)
{
	const struct roll_row *r = *state;
	struct sim *s = sim_new(r->size, r->blksize, r->window, false, TFTP_MODE_OCTET);
	uint64_t expect = 1, wraps = 0, pkts = 0;
	uint16_t prev = 0;
	while (!tftp_xfer_finished(&s->x)) {
		size_t n = fill(s);
		assert_true(n >= 1 && n <= r->window);
		for (size_t i = 0; i < n; i++) {
			/* RFC 1350 block numbers are 16 bits: after 65535 comes 0 */
			assert_int_equal(s->block[i], (uint16_t)(expect & 0xffff));
			if (s->block[i] == 0)
				wraps++;
			prev = s->block[i];
			expect++;
			pkts++;
		}
		ack(s, prev);
	}
	assert_int_equal(pkts, r->size / r->blksize + 1);
	assert_int_equal(wraps, (r->size / r->blksize + 1) / 65536);
	assert_int_equal(s->x.end, TFTP_END_OK);
	assert_int_equal(s->x.retrans_pkts, 0);
	free(s);
}

/* ---- behaviours, one test each ---- */

static void test_oack_comes_first_and_ack_0_starts_data(void **state)
{
	(void)state;
	struct sim *s = sim_new(1000, 512, 1, true, TFTP_MODE_OCTET);
	assert_int_equal(fill(s), 1);
	assert_int_equal(s->opcode[0], TFTP_OP_OACK);
	assert_int_equal(fill(s), 0);
	ack(s, 5); /* not ACK 0: ignored */
	assert_int_equal(fill(s), 0);
	ack(s, 0);
	assert_int_equal(fill(s), 1);
	assert_int_equal(s->opcode[0], TFTP_OP_DATA);
	assert_int_equal(s->block[0], 1);
	free(s);
}

static void test_error_8_after_oack_ends_at_once_without_reply(void **state)
{
	(void)state;
	struct sim *s = sim_new(850528, 1468, 4, true, TFTP_MODE_OCTET);
	assert_int_equal(fill(s), 1);
	error_from_client(s, TFTP_ERR_OPTION);
	assert_true(tftp_xfer_finished(&s->x));
	assert_int_equal(s->x.end, TFTP_END_OPTION_ABORT);
	assert_int_equal(fill(s), 0);
	assert_int_equal(tftp_xfer_deadline(&s->x), 0);
	free(s);
}

static void test_error_from_client_mid_transfer_ends_it(void **state)
{
	(void)state;
	struct sim *s = sim_new(10000, 512, 1, false, TFTP_MODE_OCTET);
	fill(s);
	ack(s, 1);
	fill(s);
	error_from_client(s, TFTP_ERR_DISK_FULL);
	assert_true(tftp_xfer_finished(&s->x));
	assert_int_equal(s->x.end, TFTP_END_CLIENT_ERROR);
	assert_int_equal(s->x.client_error, TFTP_ERR_DISK_FULL);
	assert_int_equal(fill(s), 0);
	free(s);
}

static void test_oack_is_resent_on_timeout(void **state)
{
	(void)state;
	struct sim *s = sim_new(1000, 512, 1, true, TFTP_MODE_OCTET);
	fill(s);
	timer(s);
	assert_int_equal(fill(s), 1);
	assert_int_equal(s->opcode[0], TFTP_OP_OACK);
	free(s);
}

static void test_window_sends_windowsize_blocks_then_waits(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 8, false, TFTP_MODE_OCTET);
	assert_int_equal(fill(s), 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(s->block[i], i + 1);
	assert_int_equal(fill(s), 0);
	ack(s, 8);
	assert_int_equal(fill(s), 8);
	assert_int_equal(s->block[0], 9);
	free(s);
}

static void test_ack_inside_window_slides_it_from_the_next_block(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 8, false, TFTP_MODE_OCTET);
	fill(s);
	ack(s, 3); /* RFC 7440: the client had blocks up to 3 */
	assert_int_equal(fill(s), 8);
	assert_int_equal(s->block[0], 4);
	assert_int_equal(s->block[7], 11);
	assert_int_equal(s->x.retrans_pkts, 5); /* 4..8 again */
	free(s);
}

static void test_duplicate_ack_never_causes_a_resend(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 4, false, TFTP_MODE_OCTET);
	fill(s);
	ack(s, 4);
	assert_int_equal(fill(s), 4);
	for (int i = 0; i < 100; i++) {
		ack(s, 4);
		assert_int_equal(fill(s), 0);
	}
	free(s);
}

static void test_ack_for_a_block_not_yet_sent_is_ignored(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 4, false, TFTP_MODE_OCTET);
	fill(s);
	ack(s, 9);
	assert_int_equal(fill(s), 0);
	assert_int_equal(s->x.base, 1);
	ack(s, 4);
	assert_int_equal(fill(s), 4);
	free(s);
}

static void test_stale_ack_from_an_older_window_is_ignored(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 4, false, TFTP_MODE_OCTET);
	fill(s);
	ack(s, 4);
	fill(s);
	ack(s, 8);
	fill(s);
	ack(s, 2);
	ack(s, 4);
	assert_int_equal(fill(s), 0);
	assert_int_equal(s->x.base, 9);
	free(s);
}

static void test_timeout_resends_the_whole_window_from_its_first_block(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 4, false, TFTP_MODE_OCTET);
	fill(s);
	ack(s, 4);
	fill(s);
	timer(s);
	/* 5..8 again and one block more, for a client that had them all (atftp) */
	assert_int_equal(fill(s), 5);
	assert_int_equal(s->block[0], 5);
	assert_int_equal(s->block[3], 8);
	assert_int_equal(s->block[4], 9);
	assert_int_equal(s->x.retrans_pkts, 4);
	timer(s);
	assert_int_equal(fill(s), 6); /* 5..9 in flight, and 10 */
	assert_int_equal(s->block[5], 10);
	ack(s, 10); /* the client had it all */
	assert_int_equal(fill(s), 4);
	assert_int_equal(s->block[0], 11);
	free(s);
}

static void test_lockstep_timeout_resends_only_the_block(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 1, false, TFTP_MODE_OCTET);
	fill(s);
	timer(s);
	assert_int_equal(fill(s), 1);
	assert_int_equal(s->block[0], 1);
	free(s);
}

static void test_no_probe_past_the_last_block(void **state)
{
	(void)state;
	struct sim *s = sim_new(8 * 512 - 1, 512, 4, false, TFTP_MODE_OCTET);
	fill(s);
	ack(s, 4);
	assert_int_equal(fill(s), 4); /* 5..8, 8 is the last */
	timer(s);
	assert_int_equal(fill(s), 4);
	assert_int_equal(s->block[0], 5);
	free(s);
}

static void test_retry_budget_ends_an_idle_transfer(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 1, false, TFTP_MODE_OCTET);
	fill(s);
	unsigned resends = 0;
	while (!tftp_xfer_finished(&s->x)) {
		timer(s);
		resends += (unsigned)fill(s);
	}
	/* no RTT sample yet: every timeout is at the longest timeout and counts */
	assert_int_equal(resends, default_cfg.retries);
	assert_int_equal(s->x.end, TFTP_END_TIMEOUT);
	assert_int_equal(tftp_xfer_deadline(&s->x), 0);
	free(s);
}

static void test_timeout_adapts_to_the_round_trip_and_backs_off(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 1, false, TFTP_MODE_OCTET);
	fill(s);
	assert_int_equal(tftp_xfer_deadline(&s->x), s->now + 1000);
	for (int i = 0; i < 5; i++) {
		s->now += 2;
		ack(s, s->block[0]);
		fill(s);
	}
	assert_int_equal(s->x.rto, 50); /* floor: 2 ms round trips */
	assert_int_equal(tftp_xfer_deadline(&s->x), s->now + 50);
	timer(s);
	fill(s);
	assert_int_equal(s->x.rto, 100);
	timer(s);
	fill(s);
	assert_int_equal(s->x.rto, 200);
	s->now += 1;
	ack(s, s->block[0]);
	assert_int_equal(s->x.rto, 50); /* progress forgets the backoff */
	free(s);
}

static void test_client_timeout_option_caps_the_retransmission_timeout(void **state)
{
	(void)state;
	struct sim *s = calloc(1, sizeof(*s));
	s->file.size = 5000;
	s->now = 1;
	s->b.buf = s->buf;
	s->b.cap = sizeof(s->buf);
	struct tftp_params p = {.blksize = 512, .windowsize = 1, .timeout_s = 3, .oack = true,
				.ack_timeout = true};
	struct tftp_source src = {.readv = fake_readv, .arg = &s->file};
	tftp_xfer_init(&s->x, &p, TFTP_MODE_OCTET, 5000, &default_cfg, &src, NULL, s->now);
	fill(s);
	assert_int_equal(tftp_xfer_deadline(&s->x), s->now + 3000);
	free(s);
}

static void test_all_duplicated_acks_send_each_block_once(void **state)
{
	(void)state;
	for (uint16_t w = 1; w <= 16; w += 15) {
		struct sim *s = sim_new(1000 * 512 + 7, 512, w, false, TFTP_MODE_OCTET);
		uint64_t pkts = 0;
		while (!tftp_xfer_finished(&s->x)) {
			size_t n = fill(s);
			assert_true(n > 0);
			pkts += n;
			s->now++;
			ack(s, s->block[n - 1]);
			ack(s, s->block[n - 1]); /* every ACK arrives twice */
		}
		assert_int_equal(pkts, 1001);
		assert_int_equal(s->x.retrans_pkts, 0);
		free(s);
	}
}

static void test_read_error_sends_error_0_and_ends(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 1, false, TFTP_MODE_OCTET);
	s->file.fail_at_call = 2;
	fill(s);
	ack(s, 1);
	assert_int_equal(fill(s), 1);
	assert_int_equal(s->opcode[0], TFTP_OP_ERROR);
	assert_int_equal(s->block[0], TFTP_ERR_UNDEF);
	assert_true(tftp_xfer_finished(&s->x));
	assert_int_equal(s->x.end, TFTP_END_READ_ERROR);
	free(s);
}

static void test_file_shrinking_under_a_transfer_ends_it_with_an_error(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 1, false, TFTP_MODE_OCTET);
	fill(s);
	s->file.shrink_to = 700;
	ack(s, 1);
	assert_int_equal(fill(s), 1);
	assert_int_equal(s->opcode[0], TFTP_OP_ERROR);
	assert_int_equal(s->x.end, TFTP_END_READ_ERROR);
	free(s);
}

static void test_abort_sends_one_error_then_finishes(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 1, false, TFTP_MODE_OCTET);
	fill(s);
	tftp_xfer_abort(&s->x, TFTP_ERR_UNDEF, "bye", s->now);
	assert_false(tftp_xfer_finished(&s->x));
	assert_int_equal(fill(s), 1);
	assert_int_equal(s->opcode[0], TFTP_OP_ERROR);
	assert_true(tftp_xfer_finished(&s->x));
	assert_int_equal(fill(s), 0);
	free(s);
}

static void test_non_ack_packets_are_ignored(void **state)
{
	(void)state;
	struct sim *s = sim_new(100 * 512, 512, 1, false, TFTP_MODE_OCTET);
	fill(s);
	static const uint8_t junk[][6] = {{0, 3, 0, 1, 'x', 'y'}, {0, 1, 'f', 0, 'o', 0},
					  {0, 6, 0, 0, 0, 0},       {0, 9, 0, 0, 0, 0}};
	for (size_t i = 0; i < 4; i++)
		tftp_xfer_on_packet(&s->x, junk[i], sizeof(junk[i]), s->now);
	for (size_t l = 0; l < 4; l++)
		tftp_xfer_on_packet(&s->x, "\0\4\0\1", l, s->now); /* 0-3 bytes */
	assert_false(tftp_xfer_finished(&s->x));
	assert_int_equal(fill(s), 0);
	assert_int_equal(s->x.base, 1);
	free(s);
}

/* ---- netascii ---- */

struct na_row {
	const char *name;
	const char *in;
	uint16_t blksize;
	const char *out; /* the whole converted stream */
	size_t out_len;
};

#define NA(s) .out = (s), .out_len = sizeof(s) - 1

static const struct na_row na_rows[] = {
	{"netascii_newline_becomes_cr_lf", "a\nb", 512, NA("a\r\nb")},
	{"netascii_bare_cr_becomes_cr_nul", "a\rb", 512, NA("a\r\0b")},
	{"netascii_pair_split_across_blocks", "abcdefg\nh", 8, NA("abcdefg\r\nh")},
	{"netascii_cr_nul_split_across_blocks", "abcdefg\rh", 8, NA("abcdefg\r\0h")},
	{"netascii_exact_multiple_ends_with_empty_block", "abcdef\n", 8, NA("abcdef\r\n")},
	{"netascii_many_newlines_cross_several_blocks", "\n\n\n\n\n\n\n\n\n\n", 8,
	 NA("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n")},
	{"netascii_empty_file_is_one_empty_block", "", 512, NA("")},
};

static void run_na_row(void **state)
{
	const struct na_row *r = *state;
	for (uint16_t w = 1; w <= 3; w += 2) {
		struct sim *s = sim_new(strlen(r->in), r->blksize, w, false, TFTP_MODE_NETASCII);
		s->file.bytes = (const uint8_t *)r->in;
		uint8_t got[256];
		size_t o = 0;
		uint16_t expect = 1;
		bool lose_once = true;
		while (!tftp_xfer_finished(&s->x)) {
			fill(s);
			assert_true(s->n > 0);
			if (lose_once && s->n > 1) {
				/* the client lost this window after the first block: resend */
				lose_once = false;
				s->now++;
				timer(s);
				continue;
			}
			size_t off = 0;
			for (size_t i = 0; i < s->n; i++) {
				const uint8_t *p = s->pkt[i];
				if (s->block[i] != expect)
					continue;
				memcpy(got + o, p + 4, s->len[i] - 4);
				o += s->len[i] - 4;
				expect++;
				off++;
			}
			(void)off;
			s->now++;
			ack(s, (uint16_t)(expect - 1));
		}
		assert_int_equal(o, r->out_len);
		assert_memory_equal(got, r->out, o);
		assert_int_equal(s->x.bytes_acked, strlen(r->in));
		free(s);
	}
}

/* ---- a lossy network, seeded: the file arrives byte-identical ---- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}
static bool chance(unsigned pct)
{
	return rnd() % 1000 < pct * 10;
}

struct lossy_row {
	const char *name;
	uint64_t size;
	uint16_t blksize, window;
	unsigned loss_pct, dup_pct;
	uint64_t seed;
	bool atftp; /* receiver model: one extra ACK per good block, never a timer of its own */
};

static const struct lossy_row lossy_rows[] = {
	{"loss_5pct_window_1_delivers_every_byte", 300 * 1024, 512, 1, 5, 0, 1, false},
	{"loss_10pct_window_1_delivers_every_byte", 300 * 1024, 512, 1, 10, 0, 2, false},
	{"loss_5pct_window_16_delivers_every_byte", 600 * 1024, 1468, 16, 5, 0, 3, false},
	{"loss_10pct_window_16_delivers_every_byte", 600 * 1024, 1468, 16, 10, 0, 4, false},
	{"loss_and_duplication_window_16_delivers_every_byte", 600 * 1024, 1468, 16, 10, 20, 5, false},
	{"loss_10pct_window_16_atftp_receiver_never_stalls", 2 << 20, 1468, 16, 10, 0, 6, true},
	{"loss_10pct_window_4_atftp_receiver_never_stalls", 1 << 20, 512, 4, 10, 0, 7, true},
};

/*
 * Simulated RFC 7440 receiver: takes the expected block, ACKs at the end of each window
 * or of the file; on an out-of-order block ACKs the last in-order one. The network drops
 * packets in both directions and delivers the rest after 1 ms.
 */
static void run_lossy_row(void **state)
{
	const struct lossy_row *r = *state;
	rng_state = r->seed;
	struct sim *s = sim_new(r->size, r->blksize, r->window, false, TFTP_MODE_OCTET);
	uint8_t *got = malloc(r->size + 1);
	assert_non_null(got);
	uint64_t o = 0, expect = 1, in_window = 0;
	bool done = false, extra_sent = false;
	int guard = 0;
	while (!tftp_xfer_finished(&s->x) && guard++ < 1000000) {
		if (!fill(s)) {
			timer(s); /* nothing to send: the server waits for its timer */
			continue;
		}
		uint16_t acks[TFTP_BATCH_MAX + 1];
		size_t nacks = 0;
		for (size_t i = 0; i < s->n; i++) {
			if (chance(r->loss_pct))
				continue; /* DATA lost */
			uint16_t b = s->block[i];
			const uint8_t *p = s->pkt[i];
			size_t len = s->len[i] - 4;
			if (b == (uint16_t)expect && !done) {
				memcpy(got + o, p + 4, len);
				o += len;
				expect++;
				extra_sent = false;
				if (len < r->blksize)
					done = true;
				if (done || ++in_window == r->window) {
					acks[nacks++] = b;
					in_window = 0;
				}
			} else if (!r->atftp || !extra_sent) {
				/* out of order or a duplicate: tell where we are */
				acks[nacks++] = (uint16_t)(expect - 1);
				in_window = 0;
				extra_sent = true;
			}
		}
		s->now += 1;
		for (size_t i = 0; i < nacks; i++) {
			if (chance(r->loss_pct))
				continue; /* ACK lost */
			ack(s, acks[i]);
			if (chance(r->dup_pct))
				ack(s, acks[i]);
		}
	}
	if (s->x.end != TFTP_END_OK)
		print_message("end=%d base=%llu last=%llu sent_hi=%llu got=%llu done=%d\n", s->x.end,
			      (unsigned long long)s->x.base, (unsigned long long)s->x.last,
			      (unsigned long long)s->x.sent_hi, (unsigned long long)o, done);
	assert_int_equal(s->x.end, TFTP_END_OK);
	assert_int_equal(o, r->size);
	if (r->atftp)
		assert_true(done);
	for (uint64_t i = 0; i < r->size; i++)
		if (got[i] != pattern(i))
			fail_msg("byte %llu differs", (unsigned long long)i);
	free(got);
	free(s);
}

int main(void)
{
	static struct CMUnitTest tests[256];
	size_t n = 0;
#define ROWS(arr, fn)                                                                              \
	for (size_t i_ = 0; i_ < sizeof(arr) / sizeof((arr)[0]); i_++)                             \
		tests[n++] = (struct CMUnitTest){(arr)[i_].name, fn, NULL, NULL, (void *)&(arr)[i_]};
#define ONE(fn) (tests[n++] = (struct CMUnitTest){#fn, fn, NULL, NULL, NULL})
	ROWS(size_rows, run_size_row);
	ROWS(roll_rows, run_roll_row);
	ONE(test_oack_comes_first_and_ack_0_starts_data);
	ONE(test_error_8_after_oack_ends_at_once_without_reply);
	ONE(test_error_from_client_mid_transfer_ends_it);
	ONE(test_oack_is_resent_on_timeout);
	ONE(test_window_sends_windowsize_blocks_then_waits);
	ONE(test_ack_inside_window_slides_it_from_the_next_block);
	ONE(test_duplicate_ack_never_causes_a_resend);
	ONE(test_ack_for_a_block_not_yet_sent_is_ignored);
	ONE(test_stale_ack_from_an_older_window_is_ignored);
	ONE(test_timeout_resends_the_whole_window_from_its_first_block);
	ONE(test_lockstep_timeout_resends_only_the_block);
	ONE(test_no_probe_past_the_last_block);
	ONE(test_retry_budget_ends_an_idle_transfer);
	ONE(test_timeout_adapts_to_the_round_trip_and_backs_off);
	ONE(test_client_timeout_option_caps_the_retransmission_timeout);
	ONE(test_all_duplicated_acks_send_each_block_once);
	ONE(test_read_error_sends_error_0_and_ends);
	ONE(test_file_shrinking_under_a_transfer_ends_it_with_an_error);
	ONE(test_abort_sends_one_error_then_finishes);
	ONE(test_non_ack_packets_are_ignored);
	ROWS(na_rows, run_na_row);
	ROWS(lossy_rows, run_lossy_row);
	return _cmocka_run_group_tests("tftp_xfer", tests, n, NULL, NULL);
}
