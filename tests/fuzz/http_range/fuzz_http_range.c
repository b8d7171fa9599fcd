/*
 * libFuzzer target for the HTTP parsers that read request bytes without I/O: the Range
 * header (checked against several sizes: sorted, disjoint, non-touching, inside the size,
 * at most 16, and a multipart body of exactly the announced length), the percent-decoder
 * (decoded once: never longer than the input, never a NUL), the request-target splitter,
 * query strings, entity-tag lists and HTTP dates.
 * Seeds: tests/fuzz/http_range/corpus/ (named after what they exercise).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ssize_t zero_read(void *arg, void *buf, size_t len, uint64_t off)
{
	(void)arg;
	(void)off;
	memset(buf, 'x', len);
	return (ssize_t)len;
}

static void check_ranges(const char *s, size_t n, uint64_t size)
{
	struct http_range r[HTTP_RANGES_MAX];
	size_t nr = 0;
	enum http_range_result res = http_range_parse(s, n, size, r, &nr);
	if (res != HTTP_RANGE_OK) {
		if (nr != 0)
			abort();
		return;
	}
	if (nr == 0 || nr > HTTP_RANGES_MAX)
		abort();
	for (size_t i = 0; i < nr; i++) {
		if (r[i].first > r[i].last || r[i].last >= size)
			abort();
		if (i && r[i].first <= r[i - 1].last + 1)
			abort(); /* must be sorted and merged */
	}
	if (nr >= 2) {
		struct http_multipart m;
		int e =
		    http_multipart_init(&m, r, nr, size, "application/octet-stream", "b0undary");
		if (e == -EOVERFLOW && size > (UINT64_MAX >> 1))
			return;
		if (e)
			abort();
		/* read the first and last 4 KiB: lengths add up, the end is the end */
		char buf[4096];
		ssize_t got = http_multipart_read(&m, 0, buf, sizeof(buf), zero_read, NULL);
		if (got < 0 || (uint64_t)got != (m.total < sizeof(buf) ? m.total : sizeof(buf)))
			abort();
		if (http_multipart_read(&m, m.total, buf, sizeof(buf), zero_read, NULL) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = {0, 1, 100, 4096, 5ull << 30, UINT64_MAX - 1};
	const char *s = (const char *)data;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_ranges(s, size, sizes[i]);

	char *out = malloc(size + 1);
	if (!out)
		return 0;
	for (int plus = 0; plus < 2; plus++) {
		ssize_t n = http_pct_decode(s, size, out, size + 1, plus);
		if (n >= 0 && ((size_t)n > size || memchr(out, 0, (size_t)n) || out[n] != 0))
			abort();
	}
	const char *p, *q;
	size_t pl, ql;
	if (http_target_split(s, size, &p, &pl, &q, &ql) == 0) {
		if (pl == 0 || p[0] != '/' || p + pl > s + size || q + ql > s + size)
			abort();
		struct http_param prm[8];
		size_t cap = ql + 2 * 8 + 2;
		char *qb = malloc(cap);
		if (qb) {
			int k = http_query_parse(q, ql, qb, cap, prm, 8);
			for (int i = 0; i < k; i++)
				if (strlen(prm[i].name) > ql || strlen(prm[i].value) > ql)
					abort();
			free(qb);
		}
	}
	/* NUL-terminated views for the string parsers */
	memcpy(out, data, size);
	out[size] = 0;
	int64_t t;
	http_date_parse(out, &t);
	http_etag_match(out, "\"1-2-3\"", true);
	http_etag_match(out, "\"1-2-3\"", false);
	struct http_cond c = {.if_range = out,
			      .if_none_match = out,
			      .if_match = out,
			      .if_modified_since = out,
			      .get_or_head = true,
			      .etag = "\"a\"",
			      .mtime = 1};
	http_cond_eval(&c);
	http_if_range_ok(&c);
	http_content_type(out);
	free(out);
	return 0;
}
