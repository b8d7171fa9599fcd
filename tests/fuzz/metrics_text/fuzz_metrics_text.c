/*
 * libFuzzer target for metrics/: the Prometheus text encoder and the exposition built from a
 * snapshot of every source's counters.
 *
 * Input: one mode byte (low bit), then the rest.
 *  0: a sequence of encoder calls (families with random names, types and HELP bytes;
 *     counter/gauge samples with random label names and raw label-value bytes, u64 and raw
 *     double values; histograms with raw bounds, counts and sum) into a buffer of random
 *     size;
 *  1: a snapshot with raw numbers, raw pool names and version -> metrics_encode.
 * Checked every time: whatever the encoder accepts, the text passes the strict parser in
 * prom_check.h; every accepted scalar sample reads back with the same name, the same label
 * values (made UTF-8: invalid bytes as U+FFFD) and the same value; every histogram's _count
 * is the sum of its counts (saturating); a too-small buffer gives -ENOSPC and "" and never
 * overruns, and a big enough one gives the same text; mode 1 always succeeds.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "metrics/metrics.h"
#include "metrics/metrics_text.h"

#include "prom_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "../fuzz_in.h"

static double take_double(struct in *in)
{
	uint64_t b = take(in, 8);
	double d;
	memcpy(&d, &b, sizeof(d));
	return d;
}

/* Up to cap - 1 raw bytes, stopping at a NUL like a C string would. */
static void take_str(struct in *in, char *dst, size_t cap)
{
	size_t l = take8(in);
	if (l > cap - 1)
		l = cap - 1;
	if (l > in->n)
		l = in->n;
	memcpy(dst, in->p, l);
	dst[l] = '\0';
	in->p += l;
	in->n -= l;
}

/* The label value a reader must see: s with invalid UTF-8 bytes as U+FFFD (RFC 3629). */
static size_t utf8_fix(const char *s, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0;
	while (i < n) {
		size_t k = 1;
		if (p[i] >= 0x80) {
			k = 0;
			for (size_t len = 2; len <= 4 && !k; len++)
				if (n - i >= len && pc_utf8(p + i, len))
					k = len;
		}
		if (!k) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
		}
	}
	out[o] = '\0';
	return o;
}

/* ---- mode 0: encoder calls ------------------------------------------------------------- */

#define MAX_EXPECT 256
struct expect {
	bool hist;
	char name[METRICS_NAME_MAX];
	size_t nl;
	char lname[4][16];
	char lvalue[4][3 * 64 + 1];
	double v;       /* scalar */
	uint64_t count; /* histogram: the expected _count */
	size_t nlines;  /* histogram: samples it writes */
};

struct check {
	struct expect *e;
	size_t n, at, line_in;
};

static void on_sample(void *arg, const struct pc_sample *s)
{
	struct check *c = arg;
	if (c->at >= c->n)
		abort(); /* a sample nobody wrote */
	const struct expect *e = &c->e[c->at];
	if (!e->hist) {
		if (strcmp(s->name, e->name) || s->nl != e->nl)
			abort();
		for (size_t i = 0; i < e->nl; i++)
			if (strcmp(s->l[i].name, e->lname[i]) ||
			    strcmp(s->l[i].value, e->lvalue[i]))
				abort();
		if (!(s->v == e->v || (isnan(s->v) && isnan(e->v))))
			abort();
		c->at++;
		return;
	}
	c->line_in++;
	if (c->line_in == e->nlines) { /* the _count line */
		if (s->v != (double)e->count)
			abort();
		c->at++;
		c->line_in = 0;
	}
}

static const char *const label_names[] = {"pool", "state", "le",  "__x", "code", "quantile",
					  "a1",   "9x",    "a-b", "",    "type"};
static const char *const metric_names[] = {
    "pixied_x_total", "pixied_h", "pixied_h_count",  "g",     "a:b", "9bad",
    "bad-name",       "",         "pixied_h_bucket", "_under"};

static void mode_calls(struct in *in)
{
	static char big[1 << 18], small[1 << 18];
	static struct expect ex[MAX_EXPECT];
	size_t nex = 0;
	struct metrics_text *t = malloc(sizeof(*t));
	struct metrics_text *t2 = malloc(sizeof(*t2));
	if (!t || !t2)
		abort();
	size_t cap2 = take(in, 2); /* a second, often too small, buffer */
	metrics_text_init(t, big, sizeof(big));
	metrics_text_init(t2, small, cap2);
	char fam[METRICS_NAME_MAX] = "";
	enum metrics_type fam_type = METRICS_GAUGE;
	for (int op = 0; op < 48 && in->n; op++) {
		uint8_t o = take8(in);
		char help[200];
		switch (o % 4) {
		case 0: { /* family */
			char name[METRICS_NAME_MAX];
			uint8_t k = take8(in);
			if (k & 0x80)
				take_str(in, name, sizeof(name));
			else
				snprintf(name, sizeof(name), "%s%s",
					 metric_names[k % ARRAY_SIZE(metric_names)],
					 k & 0x40 ? "" : "_s");
			enum metrics_type ty = (enum metrics_type)(take8(in) % 3);
			take_str(in, help, sizeof(help));
			int r = metrics_text_family(t, name, ty, help);
			metrics_text_family(t2, name, ty, help);
			if (r == 0) {
				strcpy(fam, name);
				fam_type = ty;
			}
			break;
		}
		case 1:
		case 2: { /* counter/gauge sample */
			struct metrics_label l[4];
			char vals[4][64];
			size_t nl = take8(in) % 5;
			for (size_t i = 0; i < nl; i++) {
				l[i].name = label_names[take8(in) % ARRAY_SIZE(label_names)];
				take_str(in, vals[i], sizeof(vals[i]));
				l[i].value = vals[i];
			}
			double v;
			int r;
			if (o % 4 == 1) {
				uint64_t u = take(in, 8);
				v = (double)u;
				r = metrics_text_u64(t, l, nl, u);
				metrics_text_u64(t2, l, nl, u);
			} else {
				v = take_double(in);
				r = metrics_text_double(t, l, nl, v);
				metrics_text_double(t2, l, nl, v);
			}
			if (r == 0 && nex < MAX_EXPECT) {
				struct expect *e = &ex[nex++];
				memset(e, 0, sizeof(*e));
				strcpy(e->name, fam);
				e->nl = nl;
				for (size_t i = 0; i < nl; i++) {
					strcpy(e->lname[i], l[i].name);
					utf8_fix(vals[i], e->lvalue[i]);
				}
				e->v = v;
			}
			break;
		}
		default: { /* histogram series */
			double b[METRICS_BUCKETS_MAX + 2];
			uint64_t cnt[METRICS_BUCKETS_MAX + 2];
			size_t nb = take8(in) % (METRICS_BUCKETS_MAX + 2);
			uint8_t how = take8(in);
			for (size_t i = 0; i < nb; i++)
				b[i] = how & 1 ? take_double(in)
					       : (double)(int8_t)take8(in) + (double)i * 100;
			for (size_t i = 0; i <= nb; i++)
				cnt[i] = how & 2 ? take(in, 8) : take8(in);
			double sum = take_double(in);
			struct metrics_label l;
			char val[64];
			take_str(in, val, sizeof(val));
			l.name = "pool";
			l.value = val;
			size_t nl = how & 4 ? 1 : 0;
			int r = metrics_text_histogram(t, &l, nl, b, cnt, nb, sum);
			metrics_text_histogram(t2, &l, nl, b, cnt, nb, sum);
			if (r == 0 && nex < MAX_EXPECT) {
				struct expect *e = &ex[nex++];
				memset(e, 0, sizeof(*e));
				e->hist = true;
				uint64_t total = 0;
				for (size_t i = 0; i <= nb; i++)
					total = cnt[i] > UINT64_MAX - total ? UINT64_MAX
									    : total + cnt[i];
				e->count = total;
				e->nlines = nb + 1 + 2;
			}
			(void)fam_type;
			break;
		}
		}
	}
	int len = metrics_text_end(t, big, sizeof(big));
	int len2 = metrics_text_end(t2, cap2 ? small : NULL, cap2);
	if (len >= 0) {
		if ((size_t)len != strlen(big))
			abort();
		char err[200];
		struct check c = {.e = ex, .n = nex};
		if (!prom_check(big, (size_t)len, on_sample, &c, err, sizeof(err))) {
			fprintf(stderr, "strict parser: %s\n---\n%s---\n", err, big);
			abort();
		}
		if (nex < MAX_EXPECT && c.at != nex)
			abort(); /* a sample that was accepted but not written */
		if (len2 >= 0 && (len2 != len || memcmp(small, big, (size_t)len + 1)))
			abort();
		if (len2 < 0 && (len2 != -ENOSPC || (size_t)len < cap2 || (cap2 && small[0])))
			abort();
	} else if (len != -EINVAL && len != -E2BIG) {
		abort();
	} else if (big[0] != '\0') {
		abort();
	}
	free(t);
	free(t2);
}

/* ---- mode 1: a snapshot ---------------------------------------------------------------- */

static void mode_snapshot(struct in *in)
{
	static char buf[1 << 20];
	static struct dhcp_server_stats d;
	static struct metrics_pool pools[8];
	static char pool_names[8][64];
	static uint64_t codes[METRICS_HTTP_CODES];
	static uint64_t boots[METRICS_BOOT_BUCKETS + 1];
	struct tftp_stats tf;
	struct http_stats hs;
	struct clients_stats cs;
	char version[64];
	uint8_t what = take8(in);
	take_str(in, version, sizeof(version));
	struct metrics_snapshot s = {.version = what & 1 ? version : NULL,
				     .start_time_s = take_double(in)};
	if (what & 2) {
		memset(&d, 0, sizeof(d));
		for (size_t i = 0; i < 24; i++)
			d.rx_arch[take8(in) % (DHCPINFORM + 1)][take8(in) % (CONF_ARCH_COUNT + 1)] =
			    take(in, 8);
		d.offers = take(in, 8);
		d.proxy_acks = take(in, 8);
		s.dhcp = &d;
		s.npools = take8(in) % 9;
		for (size_t i = 0; i < s.npools; i++) {
			take_str(in, pool_names[i], sizeof(pool_names[i]));
			pools[i] = (struct metrics_pool){.name = pool_names[i],
							 .size = take(in, 8),
							 .free = take(in, 4),
							 .bound = take(in, 4)};
		}
		s.pools = pools;
	}
	if (what & 4) {
		memset(&tf, 0, sizeof(tf));
		tf.active = take(in, 2);
		tf.bytes = take(in, 8);
		tf.failed = take(in, 8);
		s.tftp = &tf;
	}
	if (what & 8) {
		memset(codes, 0, sizeof(codes));
		for (size_t i = 0; i < 8; i++)
			codes[take(in, 2) % METRICS_HTTP_CODES] = take(in, 8);
		s.http_codes = codes;
		s.http_bytes = take(in, 8);
	}
	if (what & 16) {
		memset(&hs, 0, sizeof(hs));
		hs.active = take(in, 4);
		s.http = &hs;
	}
	if (what & 32) {
		memset(&cs, 0, sizeof(cs));
		for (size_t i = 0; i < CLIENTS_ST_COUNT; i++)
			cs.by_status[i] = take(in, 4);
		cs.booted = take(in, 8);
		s.clients = &cs;
	}
	if (what & 64) {
		for (size_t i = 0; i <= METRICS_BOOT_BUCKETS; i++)
			boots[i] = what & 128 ? take(in, 8) : take8(in);
		s.boot_counts = boots;
		s.boot_sum_s = take_double(in);
	}
	int len = metrics_encode(&s, buf, sizeof(buf));
	if (len < 0)
		abort();
	char err[200];
	if (!prom_check(buf, (size_t)len, NULL, NULL, err, sizeof(err))) {
		fprintf(stderr, "strict parser: %s\n---\n%s---\n", err, buf);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct in in = {data + 1, size - 1};
	if (data[0] & 1)
		mode_snapshot(&in);
	else
		mode_calls(&in);
	return 0;
}
