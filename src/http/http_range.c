/*
 * http/range — the Range header (RFC 9110 §14.1.2, §14.2) and the multipart/byteranges body
 * (§14.6). Pure: see http_proto.h. Owns parsing, merging and the body layout; does not own
 * reading the file (the caller's read function) or sending anything.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/cursor.h"
#include "core/util.h"
#include "http/http_proto.h"

static bool peek(const struct cursor *c, uint8_t ch)
{
	return c->left && c->p[0] == ch;
}

static bool peek_digit(const struct cursor *c)
{
	return c->left && c->p[0] >= '0' && c->p[0] <= '9';
}

/* 1*DIGIT into *v; -ERANGE past 2^64 - 1, -EINVAL when there is no digit. */
static int take_u64(struct cursor *c, uint64_t *v)
{
	uint64_t x = 0;
	if (!peek_digit(c))
		return -EINVAL;
	while (peek_digit(c)) {
		uint8_t d;
		cursor_u8(c, &d);
		unsigned digit = d - '0';
		if (x > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		x = x * 10 + digit;
	}
	*v = x;
	return 0;
}

static void skip_ows(struct cursor *c)
{
	while (peek(c, ' ') || peek(c, '\t'))
		cursor_skip(c, 1);
}

/* Insert [a, b] into the sorted disjoint set w[0..*n), merging what overlaps or touches.
 * Returns -E2BIG when a new distinct piece does not fit. */
static int set_insert(struct http_range *w, size_t *n, uint64_t a, uint64_t b)
{
	size_t i = 0;
	/* skip pieces entirely before [a, b] and not touching it (b < a - 1) */
	while (i < *n && w[i].last < a && a - w[i].last > 1)
		i++;
	size_t j = i;
	/* absorb every piece that overlaps or touches: w[j].first <= b + 1 (b < UINT64_MAX) */
	while (j < *n && w[j].first <= b + 1) {
		a = MIN(a, w[j].first);
		b = MAX(b, w[j].last);
		j++;
	}
	if (j == i) { /* nothing absorbed: a new piece at i */
		if (*n == HTTP_RANGES_WORK)
			return -E2BIG;
		memmove(&w[i + 1], &w[i], (*n - i) * sizeof(*w));
		(*n)++;
	} else if (j > i + 1) { /* w[i..j) become one */
		memmove(&w[i + 1], &w[j], (*n - j) * sizeof(*w));
		*n -= j - i - 1;
	}
	w[i].first = a;
	w[i].last = b;
	return 0;
}

enum http_range_result http_range_parse(const char *value, size_t len, uint64_t size,
					struct http_range out[HTTP_RANGES_MAX], size_t *n)
{
	struct http_range w[HTTP_RANGES_WORK];
	size_t nw = 0, specs = 0;
	struct cursor c;
	*n = 0;
	cursor_init(&c, value, len);
	/* RFC 9110 §14.1: range units are compared case-insensitively */
	if (c.left < 6 || !mem_eq_nocase(c.p, 6, "bytes="))
		return HTTP_RANGE_IGNORE;
	cursor_skip(&c, 6);
	bool after_comma = false;
	for (;;) {
		/* #rule (RFC 9110 §5.6.1.2): OWS around commas (not right after '='), empty
		 * elements ignored */
		if (after_comma)
			skip_ows(&c);
		if (peek(&c, ',')) {
			cursor_skip(&c, 1);
			after_comma = true;
			continue;
		}
		if (!c.left)
			break;
		uint64_t first = 0, last = 0;
		bool has_first = false, has_last = false;
		if (peek_digit(&c)) {
			if (take_u64(&c, &first))
				return HTTP_RANGE_IGNORE;
			has_first = true;
		}
		if (!peek(&c, '-'))
			return HTTP_RANGE_IGNORE;
		cursor_skip(&c, 1);
		if (peek_digit(&c)) {
			if (take_u64(&c, &last))
				return HTTP_RANGE_IGNORE;
			has_last = true;
		}
		if (!has_first && !has_last)
			return HTTP_RANGE_IGNORE;
		skip_ows(&c);
		if (c.left && !peek(&c, ','))
			return HTTP_RANGE_IGNORE;
		specs++;
		/* §14.1.1: "A byte-range-spec is invalid if the last-pos value is present and
		 * less than the first-pos" -> the whole header is invalid */
		if (has_first && has_last && last < first)
			return HTTP_RANGE_IGNORE;
		uint64_t a, b;
		if (has_first) {
			if (first >= size)
				continue; /* unsatisfiable piece */
			a = first;
			b = has_last ? MIN(last, size - 1) : size - 1;
		} else {
			/* suffix-range: the last `last` bytes; -0 selects nothing (§14.1.2) */
			if (last == 0 || size == 0)
				continue;
			a = size - MIN(last, size);
			b = size - 1;
		}
		if (set_insert(w, &nw, a, b) < 0)
			return HTTP_RANGE_IGNORE;
	}
	if (specs == 0)
		return HTTP_RANGE_IGNORE;
	if (nw == 0)
		return HTTP_RANGE_UNSATISFIABLE;
	/* §14.2: a server MAY ignore a set of many small ranges; we serve at most 16 */
	if (nw > HTTP_RANGES_MAX)
		return HTTP_RANGE_IGNORE;
	memcpy(out, w, nw * sizeof(*w));
	*n = nw;
	return HTTP_RANGE_OK;
}

/* ---- multipart/byteranges ---- */

static bool boundary_ok(const char *b)
{
	size_t n = strlen(b);
	if (n == 0 || n > HTTP_BOUNDARY_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = b[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z')))
			return false;
	}
	return true;
}

/* The delimiter and headers in front of part i. Returns the length (< cap). */
static int part_header(const struct http_multipart *m, size_t i, char *buf, size_t cap)
{
	return snprintf(buf, cap,
			"\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %" PRIu64 "-%" PRIu64
			"/%" PRIu64 "\r\n\r\n",
			m->boundary, m->ctype, m->r[i].first, m->r[i].last, m->size);
}

#define PART_HDR_CAP 320 /* 2+2+24+2 + 14+127+2 + 21+3*20+2+2 + 2 < 320 */

static int trailer(const struct http_multipart *m, char *buf, size_t cap)
{
	return snprintf(buf, cap, "\r\n--%s--\r\n", m->boundary);
}

int http_multipart_init(struct http_multipart *m, const struct http_range *r, size_t n,
			uint64_t size, const char *ctype, const char *boundary)
{
	if (n < 2 || n > HTTP_RANGES_MAX || !boundary_ok(boundary))
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	memcpy(m->r, r, n * sizeof(*r));
	m->n = n;
	m->size = size;
	str_copy(m->ctype, ctype, sizeof(m->ctype));
	str_copy(m->boundary, boundary, sizeof(m->boundary));
	char buf[PART_HDR_CAP];
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].first > r[i].last || r[i].last >= size)
			return -EINVAL;
		m->hdrlen[i] = (uint16_t)part_header(m, i, buf, sizeof(buf));
		uint64_t part = r[i].last - r[i].first + 1;
		/* a body past 2^64 bytes (only for sizes near 2^64) */
		if (part == 0 || __builtin_add_overflow(total, part, &total) ||
		    __builtin_add_overflow(total, (uint64_t)m->hdrlen[i], &total))
			return -EOVERFLOW;
	}
	if (__builtin_add_overflow(total, (uint64_t)trailer(m, buf, sizeof(buf)), &total))
		return -EOVERFLOW;
	m->total = total;
	return 0;
}

ssize_t http_multipart_read(const struct http_multipart *m, uint64_t pos, void *buf, size_t max,
			    http_read_fn rd, void *arg)
{
	uint8_t *out = buf;
	size_t done = 0;
	uint64_t base = 0; /* body offset where the current piece starts */
	char hdr[PART_HDR_CAP];
	for (size_t i = 0; i <= m->n && done < max; i++) {
		/* piece 1: the part header (or the trailer after the last part) */
		int hl =
		    i < m->n ? part_header(m, i, hdr, sizeof(hdr)) : trailer(m, hdr, sizeof(hdr));
		uint64_t at = pos + done;
		if (at < base + (uint64_t)hl) {
			size_t k = MIN((size_t)(base + (uint64_t)hl - at), max - done);
			memcpy(out + done, hdr + (at - base), k);
			done += k;
		}
		base += (uint64_t)hl;
		if (i == m->n || done == max)
			break;
		/* piece 2: the file data of part i */
		uint64_t dlen = m->r[i].last - m->r[i].first + 1;
		at = pos + done;
		if (at < base + dlen) {
			uint64_t want64 = MIN(base + dlen - at, (uint64_t)(max - done));
			size_t want = (size_t)want64;
			ssize_t got = rd(arg, out + done, want, m->r[i].first + (at - base));
			if (got < 0)
				return got;
			if ((size_t)got != want)
				return -EIO; /* the file shrank under us */
			done += want;
		}
		base += dlen;
	}
	return (ssize_t)done;
}
