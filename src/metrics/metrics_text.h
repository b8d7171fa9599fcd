/*
 * metrics/metrics_text — the Prometheus text exposition format, version 0.0.4, as a pure,
 * bounded encoder: metric families (# HELP, # TYPE) of counters, gauges and histograms
 * into a caller's buffer through core/writer.h. No I/O, no allocation.
 *
 * Owns: the syntax (names, label escaping, number forms, histogram series) and refusing
 * what would make an exposition a strict parser rejects (bad names, reserved or repeated
 * label names, a family twice, samples of the wrong type, non-increasing bucket bounds).
 * Does not own: which families pixied exports or where the numbers come from (metrics.c),
 * HTTP (the api module serves /metrics).
 *
 * The format (prometheus.io "Exposition formats", text format 0.0.4):
 *  - a family's lines are contiguous: `# HELP name text`, `# TYPE name type`, then samples
 *    `name{l="v",...} value`; HELP and TYPE at most once per name, before its samples;
 *  - label values escape `\` as `\\`, `"` as `\"` and a line feed as `\n`; HELP text escapes
 *    `\` and line feed; both must be UTF-8 (invalid bytes become U+FFFD here);
 *  - a histogram `x` is the series x_bucket{le="b"} (cumulative, increasing b, ending with
 *    le="+Inf"), x_sum and x_count (= the +Inf bucket); `le` is reserved for it;
 *  - values are Go floats: integers as digits, "+Inf", "-Inf", "NaN".
 * Numbers use the C locale's '.' (pixied never calls setlocale).
 */
#ifndef PIXIED_METRICS_METRICS_TEXT_H
#define PIXIED_METRICS_METRICS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/writer.h"

#define METRICS_NAME_MAX     96 /* longest metric or label name, with the NUL */
#define METRICS_FAMILIES_MAX 64 /* families per exposition */
#define METRICS_LABELS_MAX   8  /* labels per sample (le not counted) */
#define METRICS_BUCKETS_MAX  32 /* histogram bounds (+Inf not counted) */

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

struct metrics_label {
	const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" */
	const char *value; /* any bytes up to the NUL: escaped, made UTF-8 */
};

struct metrics_text {
	struct writer w;
	int err; /* first error, latched: every later call returns it */
	bool in_family;
	enum metrics_type type;
	size_t nfam;
	char fam[METRICS_FAMILIES_MAX][METRICS_NAME_MAX]; /* names used, for "a family twice" */
	enum metrics_type fam_type[METRICS_FAMILIES_MAX];
};

/* Begin an exposition in buf[0..cap) (one byte is kept for the NUL). */
void metrics_text_init(struct metrics_text *t, char *buf, size_t cap);

/*
 * Begin a family: its HELP (any text; escaped) and TYPE lines. Returns 0, -EINVAL (bad
 * name, a name used before, a name a histogram's series use or would use: x_bucket, x_sum,
 * x_count beside a histogram x; help NULL), -E2BIG (more than METRICS_FAMILIES_MAX) or
 * -ENOSPC. The caller keeps label sets within a family distinct.
 */
int metrics_text_family(struct metrics_text *t, const char *name, enum metrics_type type,
			const char *help);

/*
 * One sample of the current counter or gauge family. -EINVAL: no family, a histogram
 * family, a bad or repeated label name, `le` or `quantile` (reserved for histograms and
 * summaries), or a negative counter. u64 prints exactly.
 */
int metrics_text_u64(struct metrics_text *t, const struct metrics_label *l, size_t nl, uint64_t v);
int metrics_text_double(struct metrics_text *t, const struct metrics_label *l, size_t nl, double v);

/*
 * One series of the current histogram family: bounds[0..nb) strictly increasing and finite
 * (upper bounds, "le"), counts[0..nb] the observations per bucket (NOT cumulative; counts[nb]
 * = above the last bound), sum their sum. Writes the cumulative _bucket lines (+Inf last),
 * _sum and _count. Cumulative counts saturate at UINT64_MAX. -EINVAL as above, or for
 * nb > METRICS_BUCKETS_MAX or bad bounds.
 */
int metrics_text_histogram(struct metrics_text *t, const struct metrics_label *l, size_t nl,
			   const double *bounds, const uint64_t *counts, size_t nb, double sum);

/* Finish: the text is NUL-terminated; returns its length, or the first error (buf = ""). */
int metrics_text_end(struct metrics_text *t, char *buf, size_t cap);

/* Helpers, exposed for tests: the float form used for values and "le" ("+Inf", "NaN",
 * the shortest of %.15g/%.17g that reads back exactly); a metric / label name check. */
#define METRICS_NUM_MAX 32
char *metrics_text_fmt_double(char buf[METRICS_NUM_MAX], double v);
bool metrics_text_metric_name_ok(const char *s);
bool metrics_text_label_name_ok(const char *s);

#endif
