/*
 * metrics/metrics_text — see metrics_text.h. The Prometheus text format 0.0.4 encoder:
 * pure, bounded (everything goes through core/writer.h into the caller's buffer), and
 * strict about what it writes, so a strict parser always accepts its output.
 */
#include "metrics/metrics_text.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names and numbers ----------------------------------------------------------------- */

/* "metric names may contain ASCII letters and digits, as well as underscores and colons. It
 * must match the regex [a-zA-Z_:][a-zA-Z0-9_:]*" (Prometheus data model). */
bool metrics_text_metric_name_ok(const char *s)
{
	if (!s || !s[0] || strlen(s) >= METRICS_NAME_MAX)
		return false;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		bool alpha =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

/* "Label names may contain ASCII letters, numbers, as well as underscores. They must match
 * the regex [a-zA-Z_][a-zA-Z0-9_]*. Label names beginning with __ are reserved for internal
 * use." */
bool metrics_text_label_name_ok(const char *s)
{
	if (!s || !s[0] || strlen(s) >= METRICS_NAME_MAX || (s[0] == '_' && s[1] == '_'))
		return false;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

char *metrics_text_fmt_double(char buf[METRICS_NUM_MAX], double v)
{
	if (isnan(v)) {
		strcpy(buf, "NaN");
	} else if (isinf(v)) {
		strcpy(buf, v > 0 ? "+Inf" : "-Inf");
	} else {
		/* shortest text that reads back as the same double */
		snprintf(buf, METRICS_NUM_MAX, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, METRICS_NUM_MAX, "%.17g", v);
	}
	return buf;
}

/* ---- bytes out ------------------------------------------------------------------------- */

static void put(struct metrics_text *t, const char *s, size_t n)
{
	if (!t->err && writer_bytes(&t->w, s, n) < 0)
		t->err = -ENOSPC;
}

static void puts_(struct metrics_text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at p[0..n), 0 when it is not one (RFC 3629 §4: no
 * overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* s escaped: `\` and line feed always, `"` when quoted (label values); invalid UTF-8 as
 * U+FFFD. */
static void put_escaped(struct metrics_text *t, const char *s, bool quoted)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	size_t i = 0;
	while (i < n && !t->err) {
		size_t run = i; /* copy runs of plain bytes at once */
		while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '\\' &&
		       p[run] != '"')
			run++;
		put(t, s + i, run - i);
		i = run;
		if (i >= n)
			break;
		if (p[i] == '\\') {
			put(t, "\\\\", 2);
			i++;
		} else if (p[i] == '\n') {
			put(t, "\\n", 2);
			i++;
		} else if (p[i] == '"') {
			put(t, quoted ? "\\\"" : "\"", quoted ? 2 : 1);
			i++;
		} else {
			size_t l = utf8_len(p + i, n - i);
			if (l == 0) {
				put(t, "\xef\xbf\xbd", 3);
				i++;
			} else {
				put(t, s + i, l);
				i += l;
			}
		}
	}
}

/* ---- the exposition -------------------------------------------------------------------- */

void metrics_text_init(struct metrics_text *t, char *buf, size_t cap)
{
	memset(t, 0, sizeof(*t));
	writer_init(&t->w, buf, buf && cap ? cap - 1 : 0);
	if (!buf || !cap)
		t->err = -ENOSPC;
}

static int fail(struct metrics_text *t, int err)
{
	if (!t->err)
		t->err = err;
	return t->err;
}

/* name is one of histogram h's series (h_bucket, h_sum, h_count): a parser would file its
 * samples under the wrong family. */
static bool is_series_of(const char *name, const char *h)
{
	static const char *const sfx[] = {"_bucket", "_sum", "_count"};
	size_t hl = strlen(h);
	if (strncmp(name, h, hl) != 0)
		return false;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(name + hl, sfx[i]) == 0)
			return true;
	return false;
}

int metrics_text_family(struct metrics_text *t, const char *name, enum metrics_type type,
			const char *help)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	if (t->err)
		return t->err;
	if (!metrics_text_metric_name_ok(name) || !help || (unsigned)type > METRICS_HISTOGRAM)
		return fail(t, -EINVAL);
	for (size_t i = 0; i < t->nfam; i++)
		if (strcmp(t->fam[i], name) == 0 ||
		    (t->fam_type[i] == METRICS_HISTOGRAM && is_series_of(name, t->fam[i])) ||
		    (type == METRICS_HISTOGRAM && is_series_of(t->fam[i], name)))
			return fail(t, -EINVAL);
	if (t->nfam == METRICS_FAMILIES_MAX)
		return fail(t, -E2BIG);
	t->fam_type[t->nfam] = type;
	strcpy(t->fam[t->nfam++], name);
	t->in_family = true;
	t->type = type;
	puts_(t, "# HELP ");
	puts_(t, name);
	puts_(t, " ");
	put_escaped(t, help, false);
	puts_(t, "\n# TYPE ");
	puts_(t, name);
	puts_(t, " ");
	puts_(t, types[type]);
	puts_(t, "\n");
	return t->err;
}

static bool labels_ok(const struct metrics_label *l, size_t nl)
{
	if (nl > METRICS_LABELS_MAX || (nl && !l))
		return false;
	for (size_t i = 0; i < nl; i++) {
		if (!metrics_text_label_name_ok(l[i].name) || !l[i].value ||
		    strcmp(l[i].name, "le") == 0 || strcmp(l[i].name, "quantile") == 0)
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(l[i].name, l[j].name) == 0)
				return false;
	}
	return true;
}

/* name{labels[,le="le"]} value\n */
static void sample(struct metrics_text *t, const char *suffix, const struct metrics_label *l,
		   size_t nl, const char *le, const char *value)
{
	puts_(t, t->fam[t->nfam - 1]);
	puts_(t, suffix);
	if (nl || le) {
		puts_(t, "{");
		for (size_t i = 0; i < nl; i++) {
			if (i)
				puts_(t, ",");
			puts_(t, l[i].name);
			puts_(t, "=\"");
			put_escaped(t, l[i].value, true);
			puts_(t, "\"");
		}
		if (le) {
			puts_(t, nl ? ",le=\"" : "le=\"");
			puts_(t, le);
			puts_(t, "\"");
		}
		puts_(t, "}");
	}
	puts_(t, " ");
	puts_(t, value);
	puts_(t, "\n");
}

static int scalar_check(struct metrics_text *t, const struct metrics_label *l, size_t nl)
{
	if (t->err)
		return t->err;
	if (!t->in_family || t->type == METRICS_HISTOGRAM || !labels_ok(l, nl))
		return fail(t, -EINVAL);
	return 0;
}

int metrics_text_u64(struct metrics_text *t, const struct metrics_label *l, size_t nl, uint64_t v)
{
	int e = scalar_check(t, l, nl);
	if (e)
		return e;
	char num[METRICS_NUM_MAX];
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	sample(t, "", l, nl, NULL, num);
	return t->err;
}

int metrics_text_double(struct metrics_text *t, const struct metrics_label *l, size_t nl, double v)
{
	int e = scalar_check(t, l, nl);
	if (e)
		return e;
	if (t->type == METRICS_COUNTER && v < 0)
		return fail(t, -EINVAL);
	char num[METRICS_NUM_MAX];
	sample(t, "", l, nl, NULL, metrics_text_fmt_double(num, v));
	return t->err;
}

int metrics_text_histogram(struct metrics_text *t, const struct metrics_label *l, size_t nl,
			   const double *bounds, const uint64_t *counts, size_t nb, double sum)
{
	if (t->err)
		return t->err;
	if (!t->in_family || t->type != METRICS_HISTOGRAM || !labels_ok(l, nl) || !counts ||
	    nb > METRICS_BUCKETS_MAX || (nb && !bounds))
		return fail(t, -EINVAL);
	for (size_t i = 0; i < nb; i++)
		if (!isfinite(bounds[i]) || (i && !(bounds[i] > bounds[i - 1])))
			return fail(t, -EINVAL);
	char le[METRICS_NUM_MAX], num[METRICS_NUM_MAX];
	uint64_t cum = 0;
	for (size_t i = 0; i <= nb; i++) {
		cum = counts[i] > UINT64_MAX - cum ? UINT64_MAX : cum + counts[i];
		snprintf(num, sizeof(num), "%llu", (unsigned long long)cum);
		if (i < nb)
			metrics_text_fmt_double(le, bounds[i]);
		else
			strcpy(le, "+Inf");
		sample(t, "_bucket", l, nl, le, num);
	}
	sample(t, "_sum", l, nl, NULL, metrics_text_fmt_double(num, sum));
	snprintf(num, sizeof(num), "%llu", (unsigned long long)cum);
	sample(t, "_count", l, nl, NULL, num);
	return t->err;
}

int metrics_text_end(struct metrics_text *t, char *buf, size_t cap)
{
	if (!buf || !cap)
		return -ENOSPC;
	if (t->err) {
		buf[0] = '\0';
		return t->err;
	}
	buf[t->w.len] = '\0';
	return (int)t->w.len;
}
