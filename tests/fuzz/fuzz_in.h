/*
 * fuzz_in.h — reading a fuzzer's input as a stream of numbers: past the end every byte is
 * 0, so a short input is still a complete (if dull) case. Shared by the fuzz targets that
 * build structured cases from raw bytes.
 */
#ifndef PIXIED_TESTS_FUZZ_IN_H
#define PIXIED_TESTS_FUZZ_IN_H

#include <stddef.h>
#include <stdint.h>

struct in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t take8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* bytes (0-8) big-endian bytes as one number */
static inline uint64_t take(struct in *in, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | take8(in);
	return v;
}

#endif
