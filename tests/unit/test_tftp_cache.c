/*
 * Unit tests for tftp/cache, the shared chunk cache: each row is a script of reads (file,
 * reader, offset, length, time) against in-memory files, checking the bytes returned, the
 * result (bytes, -EAGAIN, an error) and how many chunks were read from the "disk" so far.
 * Covers sharing between readers, spans across chunks and iovecs, the end of the file,
 * errors, a full cache (busy until a slot goes cold), a lone reader recycling its own slot,
 * and dropping a file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tftp/tftp_cache.h"

#define NFILES 4
static const uint64_t file_size[NFILES] = {1000, 100, 4096, 250};

static uint8_t file_byte(int key, uint64_t off)
{
	return (uint8_t)(off * 7u + (unsigned)key * 13u + (off >> 8));
}

struct fake_file {
	int key;
	int fail; /* -errno for the next pread, 0 = none */
	int preads;
};

static ssize_t fake_pread(void *arg, void *buf, size_t len, uint64_t off)
{
	struct fake_file *f = arg;
	f->preads++;
	if (f->fail) {
		int e = f->fail;
		f->fail = 0;
		return e;
	}
	uint64_t size = file_size[f->key];
	size_t n = off >= size ? 0 : (size_t)(size - off < len ? size - off : len);
	for (size_t i = 0; i < n; i++)
		((uint8_t *)buf)[i] = file_byte(f->key, off + i);
	return (ssize_t)n;
}

enum op { READ, READ2 /* the same range as two iovecs */, FAIL, DROP, END };

struct step {
	enum op op;
	int key, user;
	uint64_t off;
	size_t len;
	uint64_t now;
	ssize_t want;   /* READ: the result */
	uint64_t loads; /* READ: chunks loaded so far (all files) */
};

struct row {
	const char *name;
	size_t nslots, chunk;
	uint64_t cold_ms;
	struct step steps[12];
};

static const struct row rows[] = {
    {"a lone reader loads each chunk once and recycles its own slot",
     2,
     256,
     100,
     {{READ, 0, 1, 0, 100, 10, 100, 1},
      {READ, 0, 1, 100, 100, 11, 100, 1},
      {READ, 0, 1, 200, 100, 12, 100, 2},
      {READ, 0, 1, 300, 100, 13, 100, 2},
      {READ, 0, 1, 500, 100, 14, 100, 3},
      {READ, 0, 1, 700, 100, 15, 100, 4},
      {.op = END}}},
    {"readers of the same file share chunks",
     4,
     256,
     100,
     {{READ, 0, 1, 0, 100, 10, 100, 1},
      {READ, 0, 2, 0, 100, 10, 100, 1},
      {READ, 0, 3, 50, 100, 10, 100, 1},
      {.op = END}}},
    {"the same offset in another file is another chunk",
     4,
     256,
     100,
     {{READ, 0, 1, 0, 50, 10, 50, 1}, {READ, 1, 1, 0, 50, 10, 50, 2}, {.op = END}}},
    {"a read across chunks and iovecs is contiguous",
     4,
     256,
     100,
     {{READ2, 0, 1, 200, 400, 10, 400, 3}, {.op = END}}},
    {"a lone reader sweeps a big file through its own slot",
     4,
     256,
     100,
     {{READ2, 0, 1, 200, 400, 10, 400, 3}, {READ, 2, 2, 0, 4096, 10, 4096, 19}, {.op = END}}},
    {"the end of the file gives a short read, then nothing",
     4,
     256,
     100,
     {{READ, 1, 1, 40, 100, 10, 60, 1},
      {READ, 1, 1, 100, 100, 10, 0, 1},
      {READ, 0, 1, 900, 512, 10, 100, 2},
      {READ, 0, 1, 1000, 512, 10, 0, 2},
      {.op = END}}},
    {"a read error is returned and the next read tries again",
     4,
     256,
     100,
     {{FAIL, 0, 0, 0, 0, 0, -EIO, 0},
      {READ, 0, 1, 0, 100, 10, -EIO, 0},
      {READ, 0, 1, 0, 100, 10, 100, 1},
      {.op = END}}},
    {"a full cache of shared chunks is busy until one goes cold",
     2,
     256,
     100,
     {{READ, 0, 1, 0, 10, 10, 10, 1},
      {READ, 0, 2, 0, 10, 10, 10, 1},
      {READ, 0, 1, 256, 10, 20, 10, 2},
      {READ, 0, 2, 256, 10, 20, 10, 2},
      {READ, 0, 3, 512, 10, 50, -EAGAIN, 2},
      {READ, 0, 3, 512, 10, 109, -EAGAIN, 2},
      {READ, 0, 3, 512, 10, 110, 10, 3},
      {READ, 0, 2, 256, 10, 111, 10, 3},
      {READ, 0, 1, 0, 10, 112, -EAGAIN, 3},
      {.op = END}}},
    {"a lone reader never pushes out chunks others use",
     2,
     256,
     100,
     {{READ, 0, 1, 0, 10, 10, 10, 1},
      {READ, 0, 2, 0, 10, 10, 10, 1},
      {READ, 2, 9, 0, 10, 10, 10, 2},
      {READ, 2, 9, 300, 10, 11, 10, 3},
      {READ, 0, 1, 0, 10, 12, 10, 3},
      {READ, 0, 7, 512, 10, 20, -EAGAIN, 3},
      {.op = END}}},
    {"a dropped file is read again; other files stay",
     4,
     256,
     100,
     {{READ, 0, 1, 0, 10, 10, 10, 1},
      {READ, 1, 1, 0, 10, 10, 10, 2},
      {DROP, 0, 0, 0, 0, 0, 0, 0},
      {READ, 1, 1, 0, 10, 10, 10, 2},
      {READ, 0, 1, 0, 10, 10, 10, 3},
      {.op = END}}},
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		const struct row *row = &rows[r];
		print_message("case: %s\n", row->name);
		struct tftp_cache *c = tftp_cache_new(row->nslots, row->chunk, row->cold_ms);
		assert_non_null(c);
		struct fake_file files[NFILES];
		for (int k = 0; k < NFILES; k++)
			files[k] = (struct fake_file){.key = k};
		int keys[NFILES]; /* the cache keys: addresses, like files handles */
		for (const struct step *s = row->steps; s->op != END; s++) {
			if (s->op == FAIL) {
				files[s->key].fail = (int)s->want;
				continue;
			}
			if (s->op == DROP) {
				tftp_cache_drop(c, &keys[s->key]);
				continue;
			}
			uint8_t buf[8192];
			memset(buf, 0xee, sizeof(buf));
			assert_true(s->len <= sizeof(buf));
			struct iovec iov[2] = {{buf, s->len}};
			int n = 1;
			if (s->op == READ2) {
				iov[0].iov_len = s->len / 3;
				iov[1] = (struct iovec){buf + s->len / 3, s->len - s->len / 3};
				n = 2;
			}
			struct tftp_cache_reader rd = {.pread = fake_pread, .arg = &files[s->key]};
			ssize_t got = tftp_cache_readv(c, &keys[s->key], (void *)(uintptr_t)s->user,
						       &rd, iov, n, s->off, s->now);
			assert_int_equal(got, s->want);
			for (ssize_t i = 0; i < got; i++)
				assert_int_equal(buf[i], file_byte(s->key, s->off + (uint64_t)i));
			struct tftp_cache_stats st;
			tftp_cache_stats(c, &st);
			assert_int_equal(st.loads, s->loads);
		}
		tftp_cache_free(c);
	}
}

static void test_bad_sizes_are_refused(void **state)
{
	(void)state;
	assert_null(tftp_cache_new(0, 256, 1));
	assert_null(tftp_cache_new(4, 0, 1));
	assert_null(tftp_cache_new(SIZE_MAX / 2, 4, 1));
	tftp_cache_free(NULL);
	tftp_cache_drop(NULL, "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows),
	    cmocka_unit_test(test_bad_sizes_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
