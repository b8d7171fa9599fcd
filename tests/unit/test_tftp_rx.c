/*
 * Unit tests for tftp/rx, the write-transfer state machine (the server receiving), with a
 * fake clock and an in-memory sink: file sizes and endings, windows, duplicates and gaps,
 * the final ACK only after the commit, dallying, failures of the sink, netascii decoding,
 * block-number rollover, and the retry budget.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tftp/tftp_rx.h"

struct mem_sink {
	uint8_t *buf;
	size_t cap, len;
	int commits;
	int fail_write;  /* -errno for the next write, 0 = none */
	int fail_commit;
};

static int mem_write(void *arg, const void *b, size_t n, uint64_t off)
{
	struct mem_sink *m = arg;
	if (m->fail_write)
		return m->fail_write;
	assert_int_equal(off, m->len); /* always appended in order */
	if (m->len + n > m->cap) {
		m->cap = (m->len + n) * 2 + 64;
		m->buf = realloc(m->buf, m->cap);
		assert_non_null(m->buf);
	}
	memcpy(m->buf + m->len, b, n);
	m->len += n;
	return 0;
}

static int mem_commit(void *arg)
{
	struct mem_sink *m = arg;
	m->commits++;
	return m->fail_commit;
}

struct rsim {
	struct mem_sink sink;
	struct tftp_rx r;
	struct tftp_batch b;
	uint8_t buf[256];
	uint64_t now;
	/* last packet out */
	uint16_t op, num;
	size_t n;
};

static const struct tftp_xfer_cfg cfg = {.rto_max_ms = 1000, .rto_min_ms = 50, .retries = 3};

static struct rsim *rsim_new(uint16_t blksize, uint16_t window, bool oack, enum tftp_mode mode)
{
	struct rsim *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->now = 500;
	s->b.buf = s->buf;
	s->b.cap = sizeof(s->buf);
	struct tftp_params p = {.blksize = blksize, .windowsize = window, .oack = oack,
				.ack_blksize = oack};
	struct tftp_sink k = {.write = mem_write, .commit = mem_commit, .arg = &s->sink};
	tftp_rx_init(&s->r, &p, mode, &cfg, &k, s->now);
	return s;
}

static void rsim_free(struct rsim *s)
{
	free(s->sink.buf);
	free(s);
}

/* What goes out now: 0 or 1 packet (opcode and block/code in op/num). */
static size_t out(struct rsim *s)
{
	s->n = tftp_rx_fill(&s->r, &s->b, s->now);
	if (s->n) {
		s->op = (uint16_t)(s->buf[0] << 8 | s->buf[1]);
		s->num = (uint16_t)(s->buf[2] << 8 | s->buf[3]);
	}
	return s->n;
}

static void data(struct rsim *s, uint16_t block, const void *p, size_t n)
{
	uint8_t pkt[70000];
	pkt[0] = 0;
	pkt[1] = TFTP_OP_DATA;
	pkt[2] = (uint8_t)(block >> 8);
	pkt[3] = (uint8_t)block;
	memcpy(pkt + 4, p, n);
	tftp_rx_on_packet(&s->r, pkt, n + 4, s->now);
}

static uint8_t pat(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 8));
}

/* ---- sizes: one row each ---- */

struct size_row {
	const char *name;
	size_t size;
	uint16_t blksize, window;
	unsigned acks; /* ACKs after ACK 0 (or the OACK) */
};

static const struct size_row size_rows[] = {
	{"upload_of_0_bytes_is_one_empty_block", 0, 512, 1, 1},
	{"upload_of_511_bytes", 511, 512, 1, 1},
	{"upload_of_512_bytes_ends_with_an_empty_block", 512, 512, 1, 2},
	{"upload_of_513_bytes", 513, 512, 1, 2},
	{"upload_with_window_4_acks_each_window_and_the_end", 10 * 512 + 3, 512, 4, 3},
	{"upload_with_window_4_of_exact_windows", 8 * 512, 512, 4, 3},
};

static void run_size_row(void **state)
{
	const struct size_row *r = *state;
	struct rsim *s = rsim_new(r->blksize, r->window, false, TFTP_MODE_OCTET);
	assert_int_equal(out(s), 1);
	assert_int_equal(s->op, TFTP_OP_ACK);
	assert_int_equal(s->num, 0);
	uint8_t *src = malloc(r->size + 1);
	for (size_t i = 0; i < r->size; i++)
		src[i] = pat(i);
	unsigned acks = 0;
	for (size_t off = 0, blk = 1;; off += r->blksize, blk++) {
		size_t n = r->size - off < r->blksize ? r->size - off : r->blksize;
		data(s, (uint16_t)blk, src + off, n);
		if (out(s)) {
			assert_int_equal(s->op, TFTP_OP_ACK);
			assert_int_equal(s->num, (uint16_t)blk);
			acks++;
		}
		if (n < r->blksize)
			break;
	}
	assert_int_equal(acks, r->acks);
	assert_int_equal(s->sink.commits, 1);
	assert_int_equal(s->sink.len, r->size);
	if (r->size)
		assert_memory_equal(s->sink.buf, src, r->size);
	assert_int_equal(s->r.state, TFTP_RX_DALLY);
	assert_int_equal(s->r.end, TFTP_END_OK);
	assert_false(tftp_rx_finished(&s->r));
	s->now = tftp_rx_deadline(&s->r);
	tftp_rx_on_timer(&s->r, s->now);
	assert_true(tftp_rx_finished(&s->r));
	free(src);
	rsim_free(s);
}

/* ---- behaviours ---- */

static void test_oack_is_answered_by_data_1(void **state)
{
	(void)state;
	struct rsim *s = rsim_new(1024, 1, true, TFTP_MODE_OCTET);
	assert_int_equal(out(s), 1);
	assert_int_equal(s->op, TFTP_OP_OACK);
	s->now = tftp_rx_deadline(&s->r);
	tftp_rx_on_timer(&s->r, s->now);
	assert_int_equal(out(s), 1);
	assert_int_equal(s->op, TFTP_OP_OACK); /* resent: no DATA 1 yet */
	data(s, 1, "abc", 3);
	assert_int_equal(out(s), 1);
	assert_int_equal(s->op, TFTP_OP_ACK);
	assert_int_equal(s->num, 1);
	rsim_free(s);
}

static void test_duplicate_data_is_acked_again_once(void **state)
{
	(void)state;
	struct rsim *s = rsim_new(8, 1, false, TFTP_MODE_OCTET);
	out(s);
	data(s, 1, "12345678", 8);
	out(s);
	s->now += 200;
	data(s, 1, "12345678", 8); /* our ACK 1 was lost */
	assert_int_equal(out(s), 1);
	assert_int_equal(s->num, 1);
	data(s, 1, "12345678", 8); /* again within a few ms: not twice */
	assert_int_equal(out(s), 0);
	assert_int_equal(s->sink.len, 8);
	rsim_free(s);
}

static void test_block_past_a_gap_is_answered_with_the_last_in_order(void **state)
{
	(void)state;
	struct rsim *s = rsim_new(8, 4, false, TFTP_MODE_OCTET);
	out(s);
	data(s, 1, "aaaaaaaa", 8);
	assert_int_equal(out(s), 0);
	data(s, 3, "cccccccc", 8); /* 2 was lost */
	assert_int_equal(out(s), 1);
	assert_int_equal(s->num, 1);
	data(s, 2, "bbbbbbbb", 8);
	data(s, 3, "cccccccc", 8);
	data(s, 4, "dddddddd", 8);
	data(s, 5, "eeeeeeee", 8);
	assert_int_equal(out(s), 1); /* the window restarted after ACK 1: 2..5 */
	assert_int_equal(s->num, 5);
	assert_int_equal(s->sink.len, 40);
	rsim_free(s);
}

static void test_final_ack_waits_for_the_commit_and_exists_is_error_6(void **state)
{
	(void)state;
	struct rsim *s = rsim_new(512, 1, false, TFTP_MODE_OCTET);
	out(s);
	s->sink.fail_commit = -EEXIST;
	data(s, 1, "short", 5);
	assert_int_equal(out(s), 1);
	assert_int_equal(s->op, TFTP_OP_ERROR);
	assert_int_equal(s->num, TFTP_ERR_EXISTS);
	assert_true(tftp_rx_finished(&s->r));
	assert_int_equal(s->r.end, TFTP_END_WRITE_ERROR);
	rsim_free(s);
}

static void test_disk_full_is_error_3(void **state)
{
	(void)state;
	struct rsim *s = rsim_new(8, 1, false, TFTP_MODE_OCTET);
	out(s);
	s->sink.fail_write = -ENOSPC;
	data(s, 1, "12345678", 8);
	assert_int_equal(out(s), 1);
	assert_int_equal(s->op, TFTP_OP_ERROR);
	assert_int_equal(s->num, TFTP_ERR_DISK_FULL);
	assert_int_equal(s->sink.commits, 0);
	rsim_free(s);
}

static void test_data_longer_than_blksize_is_error_4(void **state)
{
	(void)state;
	struct rsim *s = rsim_new(8, 1, false, TFTP_MODE_OCTET);
	out(s);
	data(s, 1, "123456789", 9);
	assert_int_equal(out(s), 1);
	assert_int_equal(s->num, TFTP_ERR_ILLEGAL_OP);
	rsim_free(s);
}

static void test_resent_last_block_while_dallying_gets_the_final_ack(void **state)
{
	(void)state;
	struct rsim *s = rsim_new(512, 1, false, TFTP_MODE_OCTET);
	out(s);
	data(s, 1, "x", 1);
	out(s);
	s->now += 300;
	data(s, 1, "x", 1);
	assert_int_equal(out(s), 1);
	assert_int_equal(s->num, 1);
	data(s, 7, "y", 1); /* anything else is ignored */
	assert_int_equal(out(s), 0);
	assert_int_equal(s->sink.len, 1);
	assert_int_equal(s->sink.commits, 1);
	rsim_free(s);
}

static void test_error_from_the_client_ends_without_reply(void **state)
{
	(void)state;
	struct rsim *s = rsim_new(8, 1, false, TFTP_MODE_OCTET);
	out(s);
	data(s, 1, "12345678", 8);
	out(s);
	static const uint8_t err[] = {0, 5, 0, 0, 'x', 0};
	tftp_rx_on_packet(&s->r, err, sizeof(err), s->now);
	assert_true(tftp_rx_finished(&s->r));
	assert_int_equal(s->r.end, TFTP_END_CLIENT_ERROR);
	assert_int_equal(out(s), 0);
	assert_int_equal(s->sink.commits, 0);
	rsim_free(s);
}

static void test_silence_resends_the_ack_once_then_gives_up(void **state)
{
	(void)state;
	struct rsim *s = rsim_new(8, 1, false, TFTP_MODE_OCTET);
	out(s);
	data(s, 1, "12345678", 8);
	out(s);
	unsigned resent = 0;
	while (!tftp_rx_finished(&s->r)) {
		s->now = tftp_rx_deadline(&s->r);
		tftp_rx_on_timer(&s->r, s->now);
		if (out(s)) {
			assert_int_equal(s->op, TFTP_OP_ACK);
			assert_int_equal(s->num, 1);
			resent++;
		}
	}
	assert_int_equal(resent, 1); /* more would keep the client's own timer from firing */
	assert_int_equal(s->r.end, TFTP_END_TIMEOUT);
	/* the first timeout after 1 s, then quiet periods of 5 s (the client's timer) */
	assert_int_equal(s->now, 500 + 2 * cfg.rto_max_ms + (cfg.retries - 1) * 5000);
	rsim_free(s);
}

static void test_block_numbers_roll_over_on_upload(void **state)
{
	(void)state;
	struct rsim *s = rsim_new(8, 1, false, TFTP_MODE_OCTET);
	out(s);
	uint64_t blocks = 2 * 65536 + 10;
	for (uint64_t i = 1; i <= blocks; i++) {
		data(s, (uint16_t)i, "abcdefgh", i == blocks ? 3 : 8);
		assert_int_equal(out(s), 1);
		assert_int_equal(s->num, (uint16_t)i);
	}
	assert_int_equal(s->sink.len, (blocks - 1) * 8 + 3);
	assert_int_equal(s->r.end, TFTP_END_OK);
	rsim_free(s);
}

/* ---- netascii ---- */

struct na_row {
	const char *name;
	const char *wire; /* the converted stream as the client sends it */
	size_t wire_len;
	uint16_t blksize;
	const char *file;
};

#define W(x) .wire = (x), .wire_len = sizeof(x) - 1

static const struct na_row na_rows[] = {
	{"netascii_upload_cr_lf_becomes_newline", W("a\r\nb"), 512, "a\nb"},
	{"netascii_upload_cr_nul_becomes_cr", W("a\r\0b"), 512, "a\rb"},
	{"netascii_upload_pair_split_across_blocks", W("abcdefg\r\nh"), 8, "abcdefg\nh"},
	{"netascii_upload_cr_nul_split_across_blocks", W("abcdefg\r\0h"), 8, "abcdefg\rh"},
	{"netascii_upload_cr_at_the_end_stays", W("ab\r"), 512, "ab\r"},
	{"netascii_upload_cr_then_other_byte_keeps_both", W("a\rb"), 512, "a\rb"},
};

static void run_na_row(void **state)
{
	const struct na_row *r = *state;
	struct rsim *s = rsim_new(r->blksize, 1, false, TFTP_MODE_NETASCII);
	out(s);
	size_t off = 0;
	uint16_t blk = 1;
	for (;;) {
		size_t n = r->wire_len - off < r->blksize ? r->wire_len - off : r->blksize;
		data(s, blk++, r->wire + off, n);
		out(s);
		off += n;
		if (n < r->blksize)
			break;
	}
	assert_int_equal(s->sink.len, strlen(r->file));
	assert_memory_equal(s->sink.buf, r->file, s->sink.len);
	rsim_free(s);
}

int main(void)
{
	static struct CMUnitTest tests[64];
	size_t n = 0;
#define ROWS(arr, fn)                                                                              \
	for (size_t i_ = 0; i_ < sizeof(arr) / sizeof((arr)[0]); i_++)                             \
		tests[n++] = (struct CMUnitTest){(arr)[i_].name, fn, NULL, NULL, (void *)&(arr)[i_]};
#define ONE(fn) (tests[n++] = (struct CMUnitTest){#fn, fn, NULL, NULL, NULL})
	ROWS(size_rows, run_size_row);
	ONE(test_oack_is_answered_by_data_1);
	ONE(test_duplicate_data_is_acked_again_once);
	ONE(test_block_past_a_gap_is_answered_with_the_last_in_order);
	ONE(test_final_ack_waits_for_the_commit_and_exists_is_error_6);
	ONE(test_disk_full_is_error_3);
	ONE(test_data_longer_than_blksize_is_error_4);
	ONE(test_resent_last_block_while_dallying_gets_the_final_ack);
	ONE(test_error_from_the_client_ends_without_reply);
	ONE(test_silence_resends_the_ack_once_then_gives_up);
	ONE(test_block_numbers_roll_over_on_upload);
	ROWS(na_rows, run_na_row);
	return _cmocka_run_group_tests("tftp_rx", tests, n, NULL, NULL);
}
