/*
 * http/proto — validators, conditional requests, HTTP dates, percent-decoding, the request
 * target and query string, content types. Pure: see http_proto.h (the Range header and the
 * multipart body are in http_range.c). Owns no I/O.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/cursor.h"
#include "core/util.h"
#include "http/http_proto.h"

/* ---- validators ---- */

char *http_etag(char buf[HTTP_ETAG_LEN], uint64_t size, int64_t mtime_s, long mtime_ns,
		uint64_t ino)
{
	uint64_t ns = (uint64_t)mtime_s * 1000000000u + (uint64_t)(mtime_ns < 0 ? 0 : mtime_ns);
	snprintf(buf, HTTP_ETAG_LEN, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"", size, ns, ino);
	return buf;
}

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; m 1..12), Howard Hinnant's formula. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

char *http_date_fmt(char buf[HTTP_DATE_LEN], int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		str_copy(buf, "Thu, 01 Jan 1970 00:00:00 GMT", HTTP_DATE_LEN);
		return buf;
	}
	char tmp[80]; /* gcc cannot bound the fields; they are in range after gmtime_r */
	snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT", wdays[tm.tm_wday],
		 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	str_copy(buf, tmp, HTTP_DATE_LEN);
	return buf;
}

static bool take_lit(struct cursor *c, const char *lit)
{
	size_t n = strlen(lit);
	if (c->left < n || memcmp(c->p, lit, n))
		return false;
	cursor_skip(c, n);
	return true;
}

/* Exactly `digits` decimal digits (digits <= 4), or 1..digits when !exact. */
static bool take_num(struct cursor *c, unsigned digits, bool exact, unsigned *v)
{
	unsigned x = 0, k = 0;
	while (k < digits && c->left && c->p[0] >= '0' && c->p[0] <= '9') {
		x = x * 10 + (unsigned)(c->p[0] - '0');
		cursor_skip(c, 1);
		k++;
	}
	if (k == 0 || (exact && k != digits))
		return false;
	*v = x;
	return true;
}

static bool take_month(struct cursor *c, unsigned *m)
{
	for (unsigned i = 0; i < 12; i++)
		if (take_lit(c, months[i])) {
			*m = i + 1;
			return true;
		}
	return false;
}

static bool take_time(struct cursor *c, unsigned *h, unsigned *mi, unsigned *s)
{
	return take_num(c, 2, true, h) && take_lit(c, ":") && take_num(c, 2, true, mi) &&
	       take_lit(c, ":") && take_num(c, 2, true, s);
}

static bool skip_wday(struct cursor *c, bool long_form)
{
	static const char *const longs[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
					     "Thursday", "Friday", "Saturday"};
	for (unsigned i = 0; i < 7; i++)
		if (take_lit(c, long_form ? longs[i] : wdays[i]))
			return true;
	return false;
}

int http_date_parse(const char *s, int64_t *t)
{
	struct cursor c;
	unsigned d = 0, m = 0, y = 0, h = 0, mi = 0, sec = 0;
	if (!s)
		return -EINVAL;
	cursor_init(&c, s, strlen(s));
	struct cursor save = c;
	bool ok = false;
	/* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
	if (skip_wday(&c, false) && take_lit(&c, ", ") && take_num(&c, 2, true, &d) &&
	    take_lit(&c, " ") && take_month(&c, &m) && take_lit(&c, " ") &&
	    take_num(&c, 4, true, &y) && take_lit(&c, " ") && take_time(&c, &h, &mi, &sec) &&
	    take_lit(&c, " GMT") && c.left == 0)
		ok = true;
	if (!ok) { /* rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT */
		c = save;
		if (skip_wday(&c, true) && take_lit(&c, ", ") && take_num(&c, 2, true, &d) &&
		    take_lit(&c, "-") && take_month(&c, &m) && take_lit(&c, "-") &&
		    take_num(&c, 2, true, &y) && take_lit(&c, " ") &&
		    take_time(&c, &h, &mi, &sec) && take_lit(&c, " GMT") && c.left == 0) {
			/* §5.6.7: a two-digit year more than 50 years in the future is in the
			 * past century; simplified to the usual 70-99 -> 19xx split */
			y += y < 70 ? 2000 : 1900;
			ok = true;
		}
	}
	if (!ok) { /* asctime-date: Sun Nov  6 08:49:37 1994 */
		c = save;
		if (skip_wday(&c, false) && take_lit(&c, " ") && take_month(&c, &m) &&
		    take_lit(&c, " ")) {
			if (take_lit(&c, " ")) /* day padded with a space */
				ok = take_num(&c, 1, true, &d);
			else
				ok = take_num(&c, 2, true, &d);
			ok = ok && take_lit(&c, " ") && take_time(&c, &h, &mi, &sec) &&
			     take_lit(&c, " ") && take_num(&c, 4, true, &y) && c.left == 0;
		}
	}
	if (!ok || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	*t = days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + (sec == 60 ? 59 : sec);
	return 0;
}

/* ---- entity tags (RFC 9110 §8.8.3) ---- */

/* Next entity-tag of a comma list: *weak, the opaque-tag with its quotes in [*tag, +*len). */
static int next_etag(struct cursor *c, bool *weak, const char **tag, size_t *len)
{
	while (c->left && (c->p[0] == ' ' || c->p[0] == '\t' || c->p[0] == ','))
		cursor_skip(c, 1);
	if (!c->left)
		return 0;
	*weak = false;
	if (c->left >= 2 && c->p[0] == 'W' && c->p[1] == '/') {
		*weak = true;
		cursor_skip(c, 2);
	}
	if (!c->left || c->p[0] != '"')
		return -EINVAL;
	const uint8_t *start = c->p;
	cursor_skip(c, 1);
	/* etagc = %x21 / %x23-7E / obs-text */
	while (c->left && c->p[0] != '"') {
		uint8_t ch = c->p[0];
		if (ch < 0x21 || ch == 0x7f)
			return -EINVAL;
		cursor_skip(c, 1);
	}
	if (!c->left)
		return -EINVAL;
	cursor_skip(c, 1);
	*tag = (const char *)start;
	*len = (size_t)(c->p - start);
	while (c->left && (c->p[0] == ' ' || c->p[0] == '\t'))
		cursor_skip(c, 1);
	if (c->left && c->p[0] != ',')
		return -EINVAL;
	return 1;
}

bool http_etag_match(const char *list, const char *etag, bool weak)
{
	if (!list || !etag)
		return false;
	struct cursor c;
	cursor_init(&c, list, strlen(list));
	while (c.left && (c.p[0] == ' ' || c.p[0] == '\t'))
		cursor_skip(&c, 1);
	if (c.left == 1 && c.p[0] == '*')
		return true;
	size_t elen = strlen(etag);
	bool ewk = elen >= 2 && etag[0] == 'W' && etag[1] == '/';
	const char *eop = ewk ? etag + 2 : etag;
	size_t eoplen = ewk ? elen - 2 : elen;
	bool found = false;
	for (;;) {
		bool w;
		const char *t;
		size_t n;
		int r = next_etag(&c, &w, &t, &n);
		if (r < 0)
			return false; /* malformed: matches nothing */
		if (r == 0)
			break;
		/* §8.8.3.2: strong comparison needs both strong and equal opaque-tags */
		if (!weak && (w || ewk))
			continue;
		if (n == eoplen && !memcmp(t, eop, n))
			found = true;
	}
	return found;
}

/* ---- conditional requests (RFC 9110 §13.2.2) ---- */

enum http_cond_result http_cond_eval(const struct http_cond *c)
{
	int64_t since;
	/* 1. If-Match: false -> 412 */
	if (c->if_match) {
		if (!http_etag_match(c->if_match, c->etag ? c->etag : "", false))
			return HTTP_COND_FAILED;
	} else if (c->if_unmodified_since && c->mtime >= 0 &&
		   !http_date_parse(c->if_unmodified_since, &since)) {
		/* 2. If-Unmodified-Since (ignored when invalid or no Last-Modified) */
		if (c->mtime > since)
			return HTTP_COND_FAILED;
	}
	/* 3. If-None-Match: false -> 304 for GET/HEAD, 412 otherwise */
	if (c->if_none_match) {
		bool star = false;
		const char *p = c->if_none_match;
		while (*p == ' ' || *p == '\t')
			p++;
		star = p[0] == '*' && p[1] == 0;
		if (star || (c->etag && http_etag_match(c->if_none_match, c->etag, true)))
			return c->get_or_head ? HTTP_COND_NOT_MODIFIED : HTTP_COND_FAILED;
	} else if (c->get_or_head && c->if_modified_since && c->mtime >= 0 &&
		   !http_date_parse(c->if_modified_since, &since)) {
		/* 4. If-Modified-Since, GET/HEAD only */
		if (c->mtime <= since)
			return HTTP_COND_NOT_MODIFIED;
	}
	return HTTP_COND_PROCEED;
}

bool http_if_range_ok(const struct http_cond *c)
{
	if (!c->if_range)
		return true;
	const char *v = c->if_range;
	while (*v == ' ' || *v == '\t')
		v++;
	if (v[0] == '"' || (v[0] == 'W' && v[1] == '/')) {
		/* §13.1.5: an entity-tag validator must match strongly; a weak one never does */
		if (!c->etag || v[0] == 'W')
			return false;
		return strcmp(v, c->etag) == 0;
	}
	int64_t t;
	/* an HTTP-date validator: exact match with Last-Modified */
	if (c->mtime < 0 || http_date_parse(v, &t))
		return false;
	return t == c->mtime;
}

/* ---- percent-decoding and the request target ---- */

static int hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

ssize_t http_pct_decode(const char *src, size_t n, char *dst, size_t cap, bool plus_space)
{
	struct cursor c;
	size_t o = 0;
	if (cap == 0)
		return -ENOSPC;
	cursor_init(&c, src, n);
	while (c.left) {
		uint8_t ch;
		cursor_u8(&c, &ch);
		if (ch == '%') {
			uint8_t h[2];
			if (cursor_bytes(&c, h, 2) < 0)
				return -EINVAL;
			int hi = hexval(h[0]), lo = hexval(h[1]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			ch = (uint8_t)(hi << 4 | lo);
			if (ch == 0)
				return -EINVAL;
		} else if (ch == '+' && plus_space) {
			ch = ' ';
		} else if (ch == 0) {
			return -EINVAL;
		}
		if (o + 1 >= cap)
			return -ENOSPC;
		dst[o++] = (char)ch;
	}
	dst[o] = 0;
	return (ssize_t)o;
}

int http_target_split(const char *t, size_t n, const char **path, size_t *plen, const char **query,
		      size_t *qlen)
{
	struct cursor c;
	cursor_init(&c, t, n);
	/* RFC 9112 §3.2.2: a server MUST accept the absolute-form */
	if (c.left >= 7 && mem_eq_nocase(c.p, 7, "http://")) {
		cursor_skip(&c, 7);
		while (c.left && c.p[0] != '/' && c.p[0] != '?')
			cursor_skip(&c, 1);
		if (!c.left || c.p[0] != '/')
			return -EINVAL; /* "http://host" or "http://host?q": no path */
	}
	if (!c.left || c.p[0] != '/')
		return -EINVAL;
	const uint8_t *q = memchr(c.p, '?', c.left);
	*path = (const char *)c.p;
	if (q) {
		*plen = (size_t)(q - c.p);
		*query = (const char *)q + 1;
		*qlen = c.left - *plen - 1;
	} else {
		*plen = c.left;
		*query = (const char *)c.p + c.left;
		*qlen = 0;
	}
	/* a fragment is never sent by clients; treat '#' as part of the query/path as sent */
	return 0;
}

int http_query_parse(const char *q, size_t n, char *buf, size_t cap, struct http_param *out,
		     size_t max)
{
	size_t count = 0, used = 0;
	struct cursor c;
	cursor_init(&c, q, n);
	while (c.left) {
		const uint8_t *amp = memchr(c.p, '&', c.left);
		size_t plen = amp ? (size_t)(amp - c.p) : c.left;
		struct cursor piece;
		if (cursor_sub(&c, plen, &piece) < 0)
			return -EINVAL; /* cannot happen: plen <= c.left */
		if (amp)
			cursor_skip(&c, 1);
		if (plen == 0)
			continue;
		if (count == max)
			return -E2BIG;
		const uint8_t *eq = memchr(piece.p, '=', piece.left);
		size_t nlen = eq ? (size_t)(eq - piece.p) : piece.left;
		size_t vlen = eq ? piece.left - nlen - 1 : 0;
		if (used >= cap)
			return -ENOSPC;
		ssize_t dn =
		    http_pct_decode((const char *)piece.p, nlen, buf + used, cap - used, true);
		if (dn < 0)
			return (int)dn;
		out[count].name = buf + used;
		used += (size_t)dn + 1;
		if (used >= cap)
			return -ENOSPC;
		ssize_t dv = http_pct_decode(eq ? (const char *)eq + 1 : "", vlen, buf + used,
					     cap - used, true);
		if (dv < 0)
			return (int)dv;
		out[count].value = buf + used;
		used += (size_t)dv + 1;
		count++;
	}
	return (int)count;
}

/* ---- content types ---- */

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {"ipxe", "text/plain; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"cfg", "text/plain; charset=utf-8"},
    {"conf", "text/plain; charset=utf-8"},
    {"tmpl", "text/plain; charset=utf-8"},
    {"sh", "text/plain; charset=utf-8"},
    {"ks", "text/plain; charset=utf-8"},
    {"seed", "text/plain; charset=utf-8"},
    {"yaml", "text/plain; charset=utf-8"},
    {"yml", "text/plain; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css"},
    {"js", "text/javascript"},
    {"json", "application/json"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/vnd.microsoft.icon"},
    {"efi", "application/octet-stream"},
    {"kpxe", "application/octet-stream"},
    {"kkpxe", "application/octet-stream"},
    {"pxe", "application/octet-stream"},
    {"lkrn", "application/octet-stream"},
    {"0", "application/octet-stream"},
    {"c32", "application/octet-stream"},
    {"bin", "application/octet-stream"},
    {"iso", "application/x-iso9660-image"},
    {"img", "application/octet-stream"},
    {"raw", "application/octet-stream"},
    {"qcow2", "application/octet-stream"},
    {"vhd", "application/octet-stream"},
    {"gz", "application/gzip"},
    {"tgz", "application/gzip"},
    {"xz", "application/x-xz"},
    {"zst", "application/zstd"},
    {"bz2", "application/x-bzip2"},
    {"lz4", "application/octet-stream"},
    {"cpio", "application/x-cpio"},
    {"tar", "application/x-tar"},
    {"zip", "application/zip"},
    {"wim", "application/octet-stream"},
    {"sdi", "application/octet-stream"},
    {"sig", "application/pgp-signature"},
    {"asc", "application/pgp-signature"},
};

const char *http_content_type(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	/* PXELINUX configs have no extension: pxelinux.cfg/default, 01-<mac>, C0A80A */
	size_t dirlen = slash ? (size_t)(slash - name) : 0;
	if (dirlen >= 12 && !strncmp(slash - 12, "pxelinux.cfg", 12) &&
	    (dirlen == 12 || slash[-13] == '/'))
		return "text/plain; charset=utf-8";
	const char *dot = strrchr(base, '.');
	if (dot && dot != base && dot[1]) {
		for (size_t i = 0; i < ARRAY_SIZE(types); i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	}
	return "application/octet-stream";
}
