/*
 * http/proto — the pure parts of the HTTP server: no sockets, no libmicrohttpd, no files.
 *
 * Owns: the Range header parser (RFC 9110 §14), conditional requests (ETag, Last-Modified,
 * If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range: RFC 9110 §13),
 * HTTP-date parsing and formatting, the multipart/byteranges body layout, request-target
 * splitting and percent-decoding (decoded exactly once), query-string parameters, and the
 * Content-Type of a file name. Everything here is table-tested (tests/unit/test_http_*.c)
 * and fuzzed (tests/fuzz/http_range).
 * Does not own: connections, limits, logging, opening files (http_server.c, files/).
 */
#ifndef PIXIED_HTTP_HTTP_PROTO_H
#define PIXIED_HTTP_HTTP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http/http.h" /* struct http_param */

/* ---- Range: bytes=... (RFC 9110 §14.1.2) ---- */

#define HTTP_RANGES_MAX  16 /* ranges served after merging; more -> the whole file */
#define HTTP_RANGES_WORK 64 /* distinct pieces held while merging; more -> the whole file */

struct http_range {
	uint64_t first, last; /* inclusive byte offsets, first <= last < size */
};

enum http_range_result {
	HTTP_RANGE_IGNORE, /* malformed, another unit or too many pieces: send it all (200) */
	HTTP_RANGE_OK,     /* *n ranges: sorted, clamped to the size, overlaps merged */
	HTTP_RANGE_UNSATISFIABLE, /* well-formed but nothing inside the size: 416 */
};

/*
 * Parse the value of a Range header against a representation of `size` bytes. Ranges that
 * overlap or touch are merged; the result is sorted. Numbers past 2^64 - 1, `first > last`,
 * whitespace inside a range, or a missing "bytes=" make the header malformed (IGNORE).
 * A suffix `-N` is the last N bytes (the whole file when N >= size); `-0` selects nothing.
 */
enum http_range_result http_range_parse(const char *value, size_t len, uint64_t size,
					struct http_range out[HTTP_RANGES_MAX], size_t *n);

/* ---- multipart/byteranges (RFC 9110 §14.6) ---- */

#define HTTP_BOUNDARY_LEN 24

struct http_multipart {
	struct http_range r[HTTP_RANGES_MAX];
	size_t n;
	uint64_t size;   /* of the whole representation */
	char ctype[128]; /* Content-Type of each part */
	char boundary[HTTP_BOUNDARY_LEN + 1];
	uint16_t hdrlen[HTTP_RANGES_MAX]; /* bytes of each part's delimiter + headers */
	uint64_t total;                   /* Content-Length of the whole body */
};

/* Lay out the body for ranges r[0..n) (2 <= n <= HTTP_RANGES_MAX, from http_range_parse).
 * 0, -EINVAL for a bad n or a boundary not of 1..HTTP_BOUNDARY_LEN letters and digits,
 * -EOVERFLOW when the body would pass 2^64 bytes. */
int http_multipart_init(struct http_multipart *m, const struct http_range *r, size_t n,
			uint64_t size, const char *ctype, const char *boundary);

/* Reads `len` bytes of the representation at `off` (pread semantics; short only at EOF). */
typedef ssize_t (*http_read_fn)(void *arg, void *buf, size_t len, uint64_t off);

/* Copy body bytes [pos, pos + max) into buf, reading file data through rd. Returns the
 * number of bytes (0 at the end of the body) or a negative errno (-EIO on a short read). */
ssize_t http_multipart_read(const struct http_multipart *m, uint64_t pos, void *buf, size_t max,
			    http_read_fn rd, void *arg);

/* ---- validators and conditional requests (RFC 9110 §8.8, §13) ---- */

#define HTTP_ETAG_LEN 64
#define HTTP_DATE_LEN 30 /* "Sun, 06 Nov 1994 08:49:37 GMT" + NUL */

/* A strong ETag `"<size>-<mtime ns>-<inode>"` (lower-case hex). Returns buf. */
char *http_etag(char buf[HTTP_ETAG_LEN], uint64_t size, int64_t mtime_s, long mtime_ns,
		uint64_t ino);

/* IMF-fixdate of t (seconds since the epoch, UTC). Returns buf. */
char *http_date_fmt(char buf[HTTP_DATE_LEN], int64_t t);
/* Parse an HTTP-date: IMF-fixdate and the obsolete RFC 850 and asctime forms
 * (RFC 9110 §5.6.7: a recipient MUST accept all three). 0 or -EINVAL. */
int http_date_parse(const char *s, int64_t *t);

/* Does the If-Match / If-None-Match list `list` match `etag` ("*" matches anything)?
 * weak: weak comparison (If-None-Match), else strong (If-Match, If-Range). A malformed
 * list matches nothing. */
bool http_etag_match(const char *list, const char *etag, bool weak);

/* The request's conditional headers (NULL when absent) and what we know of the file. */
struct http_cond {
	const char *if_match, *if_none_match, *if_modified_since, *if_unmodified_since;
	const char *if_range;
	bool get_or_head;
	const char *etag; /* current strong ETag with quotes, NULL when none (generated content) */
	int64_t mtime;    /* Last-Modified in seconds; < 0 when none */
};

enum http_cond_result {
	HTTP_COND_PROCEED,      /* serve it */
	HTTP_COND_NOT_MODIFIED, /* 304 */
	HTTP_COND_FAILED,       /* 412 */
};

/* RFC 9110 §13.2.2 order of evaluation. */
enum http_cond_result http_cond_eval(const struct http_cond *c);
/* RFC 9110 §13.1.5: may the Range header be used? (true when there is no If-Range) */
bool http_if_range_ok(const struct http_cond *c);

/* ---- request target, percent-decoding, query ---- */

/*
 * Percent-decode src[0..n) once into dst (RFC 3986 §2.1); with plus_space '+' becomes a
 * space (form-encoded query strings). dst is NUL-terminated. Returns the decoded length,
 * -EINVAL for a malformed escape or an escape that decodes to NUL (a NUL would cut the name
 * short), -ENOSPC when dst (cap bytes with the NUL) is too small.
 */
ssize_t http_pct_decode(const char *src, size_t n, char *dst, size_t cap, bool plus_space);

/*
 * Split a request-target (origin-form "/p?q", or absolute-form "http://host/p?q", RFC 9112
 * §3.2) into the raw path and the raw query (without '?'; *qlen = 0 when none). -EINVAL for
 * anything else ("*", authority-form, an empty path).
 */
int http_target_split(const char *t, size_t n, const char **path, size_t *plen, const char **query,
		      size_t *qlen);

/*
 * Parse a raw query string into parameters, decoded into buf (cap bytes) which the names and
 * values point into. Empty pieces ("a=1&&b=2") are skipped. Returns the count, -EINVAL for a
 * bad escape or NUL, -ENOSPC when buf is too small, -E2BIG for more than max parameters.
 */
int http_query_parse(const char *q, size_t n, char *buf, size_t cap, struct http_param *out,
		     size_t max);

/* ---- content types ---- */

/* By the name's extension (case-insensitive); application/octet-stream when unknown. */
const char *http_content_type(const char *name);

#endif
