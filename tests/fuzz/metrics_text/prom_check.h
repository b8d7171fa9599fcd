/*
 * prom_check — a strict parser for the Prometheus text format 0.0.4 as metrics/ writes it,
 * shared by the metrics_text fuzzer and test_metrics. Test code only: not part of pixied.
 *
 * Accepts only (stricter than Prometheus' own parser, never looser):
 *  - lines ending in "\n", none empty; comments only "# HELP name text" and
 *    "# TYPE name counter|gauge|histogram|summary|untyped", each at most once per family
 *    and before its samples; HELP text with the escapes \\ and \n only;
 *  - samples "name{l="v",...} value" (one space, no trailing comma, no timestamp), label
 *    names [a-zA-Z_][a-zA-Z0-9_]* not starting with "__", none twice; label values with the
 *    escapes \\ \" \n only, no raw line feed, valid UTF-8 once decoded;
 *  - every sample inside a family declared by TYPE: counter/gauge samples named as the
 *    family, histogram samples name_bucket / name_sum / name_count; a family's lines
 *    contiguous (a family never comes back); counters not negative; "le" only on
 *    _bucket (required there), "quantile" never;
 *  - values: NaN, +Inf, -Inf or [+-]digits[.digits][e[+-]digits];
 *  - each histogram series (its labels without le): _bucket lines with strictly increasing
 *    le and non-decreasing integer counts, ending with le="+Inf", then _sum, then _count
 *    equal to the +Inf bucket.
 * prom_check() returns true or false with the reason and line in err; on_sample (may be
 * NULL) sees each sample with its labels decoded.
 */
#ifndef PIXIED_TEST_PROM_CHECK_H
#define PIXIED_TEST_PROM_CHECK_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PC_NAME_MAX   128
#define PC_VALUE_MAX  16384
#define PC_LABELS_MAX 16
#define PC_FAM_MAX    256

enum { PC_COUNTER, PC_GAUGE, PC_HISTOGRAM, PC_SUMMARY, PC_UNTYPED };

struct pc_label {
	char name[PC_NAME_MAX];
	char value[PC_VALUE_MAX];
	size_t value_len;
};

struct pc_sample {
	char name[PC_NAME_MAX];
	struct pc_label l[PC_LABELS_MAX];
	size_t nl;
	double v;
};

typedef void (*pc_sample_fn)(void *arg, const struct pc_sample *s);

struct pc {
	const char *p;
	size_t n, i;
	unsigned line;
	char *err;
	size_t errlen;
	char fam[PC_FAM_MAX][PC_NAME_MAX];
	int fam_type[PC_FAM_MAX];
	bool fam_help[PC_FAM_MAX], fam_typed[PC_FAM_MAX];
	size_t nfam;
	int cur;
	bool cur_samples;
	/* the histogram series being read */
	int hstate; /* 0 none/complete, 1 in buckets, 2 after _sum */
	char hkey[2 * PC_VALUE_MAX];
	char key[2 * PC_VALUE_MAX]; /* scratch: the series key of the sample being read */
	double last_le;
	uint64_t last_cum;
	const char *vtok; /* the value token of the sample being read */
	size_t vlen;
	bool seen_inf;
	struct pc_sample s; /* scratch */
};

static bool pc_fail(struct pc *c, const char *why)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "line %u: %s", c->line, why);
	return false;
}

static bool pc_peek(const struct pc *c, char ch)
{
	return c->i < c->n && c->p[c->i] == ch;
}

static bool pc_lit(struct pc *c, const char *s)
{
	size_t l = strlen(s);
	if (c->n - c->i < l || memcmp(c->p + c->i, s, l) != 0)
		return false;
	c->i += l;
	return true;
}

static bool pc_name(struct pc *c, char *out, bool metric)
{
	size_t o = 0;
	while (c->i < c->n) {
		char ch = c->p[c->i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
			  (metric && ch == ':') || (o > 0 && ch >= '0' && ch <= '9');
		if (!ok)
			break;
		if (o + 1 >= PC_NAME_MAX)
			return pc_fail(c, "name too long");
		out[o++] = ch;
		c->i++;
	}
	out[o] = '\0';
	return o > 0 ? true : pc_fail(c, metric ? "bad metric name" : "bad label name");
}

/* RFC 3629 well-formed UTF-8. */
static bool pc_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char b = p[i];
		size_t len;
		unsigned lo = 0x80, hi = 0xbf;
		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			len = 2;
		else if (b >= 0xe0 && b <= 0xef)
			len = 3, lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
		else if (b >= 0xf0 && b <= 0xf4)
			len = 4, lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
		else
			return false;
		if (n - i < len || p[i + 1] < lo || p[i + 1] > hi)
			return false;
		for (size_t k = 2; k < len; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return false;
		i += len;
	}
	return true;
}

/* A Go float as we write them: NaN, +Inf, -Inf, [+-]digits[.digits][e[+-]digits]. */
static bool pc_float(const char *p, size_t l, double *v)
{
	char tok[64];
	if (l == 0 || l >= sizeof(tok))
		return false;
	memcpy(tok, p, l);
	tok[l] = '\0';
	if (!strcmp(tok, "NaN")) {
		*v = NAN;
		return true;
	}
	if (!strcmp(tok, "+Inf") || !strcmp(tok, "-Inf")) {
		*v = tok[0] == '+' ? INFINITY : -INFINITY;
		return true;
	}
	size_t k = 0, d = 0;
	if (tok[k] == '+' || tok[k] == '-')
		k++;
	while (tok[k] >= '0' && tok[k] <= '9')
		k++, d++;
	if (!d)
		return false;
	if (tok[k] == '.') {
		k++;
		d = 0;
		while (tok[k] >= '0' && tok[k] <= '9')
			k++, d++;
		if (!d)
			return false;
	}
	if (tok[k] == 'e' || tok[k] == 'E') {
		k++;
		if (tok[k] == '+' || tok[k] == '-')
			k++;
		d = 0;
		while (tok[k] >= '0' && tok[k] <= '9')
			k++, d++;
		if (!d)
			return false;
	}
	if (tok[k])
		return false;
	*v = strtod(tok, NULL);
	return true;
}

/* The value token (up to ' ', '\n' or the end). */
static bool pc_number(struct pc *c, double *v)
{
	size_t st = c->i;
	while (c->i < c->n && c->p[c->i] != ' ' && c->p[c->i] != '\n')
		c->i++;
	c->vtok = c->p + st;
	c->vlen = c->i - st;
	return pc_float(c->p + st, c->i - st, v) ? true : pc_fail(c, "bad value");
}

static bool pc_label_value(struct pc *c, struct pc_label *lb)
{
	if (!pc_lit(c, "\""))
		return pc_fail(c, "label value not quoted");
	size_t o = 0;
	for (;;) {
		if (c->i >= c->n)
			return pc_fail(c, "unterminated label value");
		char ch = c->p[c->i++];
		if (ch == '"')
			break;
		if (ch == '\n')
			return pc_fail(c, "raw line feed in a label value");
		if (ch == '\\') {
			if (c->i >= c->n)
				return pc_fail(c, "unterminated escape");
			char e = c->p[c->i++];
			if (e == 'n')
				ch = '\n';
			else if (e == '\\' || e == '"')
				ch = e;
			else
				return pc_fail(c, "bad escape in a label value");
		}
		if (o + 1 >= PC_VALUE_MAX)
			return pc_fail(c, "label value too long");
		lb->value[o++] = ch;
	}
	lb->value[o] = '\0';
	lb->value_len = o;
	if (!pc_utf8((const unsigned char *)lb->value, o))
		return pc_fail(c, "label value is not UTF-8");
	return true;
}

/* The value token as an exact unsigned integer (bucket counts, _count). */
static bool pc_count(const struct pc *c, uint64_t *out)
{
	if (c->vlen == 0 || c->vlen > 20)
		return false;
	uint64_t v = 0;
	for (size_t k = 0; k < c->vlen; k++) {
		unsigned d = (unsigned)(c->vtok[k] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int pc_family(struct pc *c, const char *name, bool create)
{
	for (size_t i = 0; i < c->nfam; i++)
		if (!strcmp(c->fam[i], name))
			return (int)i;
	if (!create || c->nfam == PC_FAM_MAX)
		return -1;
	strcpy(c->fam[c->nfam], name);
	c->fam_type[c->nfam] = PC_UNTYPED;
	c->fam_help[c->nfam] = c->fam_typed[c->nfam] = false;
	return (int)c->nfam++;
}

static bool pc_comment(struct pc *c)
{
	bool help;
	if (pc_lit(c, "# HELP "))
		help = true;
	else if (pc_lit(c, "# TYPE "))
		help = false;
	else
		return pc_fail(c, "comment other than HELP or TYPE");
	char name[PC_NAME_MAX];
	if (!pc_name(c, name, true) || !pc_lit(c, " "))
		return pc_fail(c, "bad HELP/TYPE line");
	int f = pc_family(c, name, false);
	if (f < 0 || f != c->cur) {
		if (f >= 0)
			return pc_fail(c, "family comes back after another one");
		if (c->hstate)
			return pc_fail(c, "histogram series incomplete at the end of its family");
		f = pc_family(c, name, true);
		if (f < 0)
			return pc_fail(c, "too many families");
		c->cur = f;
		c->cur_samples = false;
	}
	if (c->cur_samples)
		return pc_fail(c, "HELP/TYPE after samples");
	size_t st = c->i;
	while (c->i < c->n && c->p[c->i] != '\n')
		c->i++;
	const char *t = c->p + st;
	size_t tl = c->i - st;
	if (help) {
		if (c->fam_help[f])
			return pc_fail(c, "second HELP");
		c->fam_help[f] = true;
		for (size_t k = 0; k < tl; k++)
			if (t[k] == '\\' && (k + 1 == tl || (t[k + 1] != '\\' && t[k + 1] != 'n')))
				return pc_fail(c, "bad escape in HELP");
			else if (t[k] == '\\')
				k++;
		if (!pc_utf8((const unsigned char *)t, tl))
			return pc_fail(c, "HELP is not UTF-8");
	} else {
		static const char *const types[] = {"counter", "gauge", "histogram", "summary",
						    "untyped"};
		if (c->fam_typed[f])
			return pc_fail(c, "second TYPE");
		int ty = -1;
		for (int k = 0; k < 5; k++)
			if (strlen(types[k]) == tl && !memcmp(t, types[k], tl))
				ty = k;
		if (ty < 0)
			return pc_fail(c, "unknown TYPE");
		c->fam_typed[f] = true;
		c->fam_type[f] = ty;
	}
	return true;
}

static bool pc_sample_line(struct pc *c, pc_sample_fn fn, void *arg)
{
	struct pc_sample *s = &c->s;
	memset(s, 0, sizeof(*s));
	if (!pc_name(c, s->name, true))
		return false;
	const char *le = NULL;
	if (pc_lit(c, "{")) {
		for (;;) {
			if (s->nl == PC_LABELS_MAX)
				return pc_fail(c, "too many labels");
			struct pc_label *lb = &s->l[s->nl];
			if (!pc_name(c, lb->name, false) || !pc_lit(c, "=") ||
			    !pc_label_value(c, lb))
				return false;
			if (lb->name[0] == '_' && lb->name[1] == '_')
				return pc_fail(c, "reserved label name");
			for (size_t k = 0; k < s->nl; k++)
				if (!strcmp(s->l[k].name, lb->name))
					return pc_fail(c, "label twice");
			if (!strcmp(lb->name, "quantile"))
				return pc_fail(c, "quantile label");
			if (!strcmp(lb->name, "le"))
				le = lb->value;
			s->nl++;
			if (pc_lit(c, "}"))
				break;
			if (!pc_lit(c, ","))
				return pc_fail(c, "expected , or }");
		}
	}
	if (!pc_lit(c, " "))
		return pc_fail(c, "expected one space before the value");
	if (!pc_number(c, &s->v))
		return false;
	if (!pc_peek(c, '\n'))
		return pc_fail(c, "junk after the value");

	/* the family it belongs to */
	if (c->cur < 0 || !c->fam_typed[c->cur])
		return pc_fail(c, "sample outside a declared family");
	const char *fam = c->fam[c->cur];
	size_t fl = strlen(fam);
	int ty = c->fam_type[c->cur];
	const char *sfx = "";
	if (strncmp(s->name, fam, fl) != 0)
		return pc_fail(c, "sample of another family");
	sfx = s->name + fl;
	c->cur_samples = true;
	if (ty == PC_HISTOGRAM) {
		if (strcmp(sfx, "_bucket") && strcmp(sfx, "_sum") && strcmp(sfx, "_count"))
			return pc_fail(c, "histogram sample without _bucket/_sum/_count");
		bool bucket = !strcmp(sfx, "_bucket");
		if (bucket != (le != NULL))
			return pc_fail(c, bucket ? "bucket without le" : "le outside a bucket");
		/* the series: its labels without le */
		char *key = c->key;
		size_t ko = 0;
		for (size_t k = 0; k < s->nl; k++) {
			if (!strcmp(s->l[k].name, "le"))
				continue;
			int w = snprintf(key + ko, sizeof(c->key) - ko, "%s=%zu:", s->l[k].name,
					 s->l[k].value_len);
			if (w < 0 || (size_t)w >= sizeof(c->key) - ko ||
			    s->l[k].value_len >= sizeof(c->key) - ko - (size_t)w)
				return pc_fail(c, "series key too long");
			ko += (size_t)w;
			memcpy(key + ko, s->l[k].value, s->l[k].value_len);
			ko += s->l[k].value_len;
		}
		key[ko] = '\0';
		bool same = c->hstate && ko == strlen(c->hkey) && !memcmp(key, c->hkey, ko);
		if (c->hstate && !same)
			return pc_fail(c, "histogram series interleaved or incomplete");
		if (bucket) {
			double b;
			if (!pc_float(le, strlen(le), &b) || isnan(b))
				return pc_fail(c, "bad le");
			if (!c->hstate) {
				c->hstate = 1;
				memcpy(c->hkey, key, ko + 1);
				c->last_le = -INFINITY;
				c->last_cum = 0;
				c->seen_inf = false;
			} else if (c->hstate != 1 || c->seen_inf) {
				return pc_fail(c, "bucket after +Inf or _sum");
			}
			if (!(b > c->last_le))
				return pc_fail(c, "le not increasing");
			uint64_t cnt;
			if (!pc_count(c, &cnt) || cnt < c->last_cum)
				return pc_fail(c, "bucket counts not cumulative integers");
			c->last_le = b;
			c->last_cum = cnt;
			c->seen_inf = isinf(b) && b > 0;
		} else if (!strcmp(sfx, "_sum")) {
			if (c->hstate != 1 || !c->seen_inf)
				return pc_fail(c, "_sum before the +Inf bucket");
			c->hstate = 2;
		} else {
			if (c->hstate != 2)
				return pc_fail(c, "_count before _sum");
			uint64_t cnt;
			if (!pc_count(c, &cnt) || cnt != c->last_cum)
				return pc_fail(c, "_count differs from the +Inf bucket");
			c->hstate = 0;
		}
	} else {
		if (*sfx)
			return pc_fail(c, "sample of another family");
		if (le)
			return pc_fail(c, "le label outside a histogram");
		if (ty == PC_COUNTER && s->v < 0)
			return pc_fail(c, "negative counter");
	}
	if (fn)
		fn(arg, s);
	return true;
}

static inline bool prom_check(const char *p, size_t n, pc_sample_fn fn, void *arg, char *err,
			      size_t errlen)
{
	struct pc *c = calloc(1, sizeof(*c));
	if (!c)
		return false;
	c->p = p;
	c->n = n;
	c->err = err;
	c->errlen = errlen;
	c->cur = -1;
	c->line = 1;
	bool ok = true;
	if (err && errlen)
		err[0] = '\0';
	if (memchr(p, '\0', n))
		ok = pc_fail(c, "NUL in the text");
	while (ok && c->i < c->n) {
		if (c->p[c->i] == '\n')
			ok = pc_fail(c, "empty line");
		else if (c->p[c->i] == '#')
			ok = pc_comment(c);
		else
			ok = pc_sample_line(c, fn, arg);
		if (ok && !pc_lit(c, "\n"))
			ok = pc_fail(c, "line does not end with a line feed");
		c->line++;
	}
	if (ok && c->hstate)
		ok = pc_fail(c, "histogram series incomplete at the end");
	free(c);
	return ok;
}

#endif
