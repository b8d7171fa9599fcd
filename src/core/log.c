/* core/log — see log.h. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

static enum log_level g_level = LOG_LVL_INFO;
static log_sink_fn g_sink;
static void *g_sink_arg;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level lvl)
{
	g_level = lvl;
}

enum log_level log_get_level(void)
{
	return g_level;
}

void log_set_sink(log_sink_fn fn, void *arg)
{
	g_sink = fn;
	g_sink_arg = arg;
}

__attribute__((format(printf, 4, 0))) static void
log_vmsg(enum log_level lvl, const char *module, const char *suffix, const char *fmt, va_list ap)
{
	if (lvl > g_level)
		return;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl], module);
	if (n < 0)
		return;
	size_t off = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	int m = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
	if (m > 0)
		off += (size_t)m < sizeof(line) - off ? (size_t)m : sizeof(line) - off - 1;
	if (suffix && off < sizeof(line) - 1) {
		m = snprintf(line + off, sizeof(line) - off, "%s", suffix);
		if (m > 0)
			off += (size_t)m < sizeof(line) - off ? (size_t)m : sizeof(line) - off - 1;
	}
	fprintf(stderr, "%s\n", line);
	if (g_sink)
		g_sink(g_sink_arg, lvl, line);
}

void log_msg(enum log_level lvl, const char *module, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(lvl, module, NULL, fmt, ap);
	va_end(ap);
}

void log_rl(struct log_ratelimit *rl, enum log_level lvl, const char *module, const char *fmt, ...)
{
	uint64_t now = time_mono_ms();
	if (rl->primed && now - rl->last_ms < rl->interval_ms) {
		rl->suppressed++;
		return;
	}
	char suffix[64] = "";
	if (rl->suppressed)
		snprintf(suffix, sizeof(suffix), " suppressed=%llu",
			 (unsigned long long)rl->suppressed);
	rl->primed = 1;
	rl->last_ms = now;
	rl->suppressed = 0;
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(lvl, module, suffix, fmt, ap);
	va_end(ap);
}

char *log_escape(char *dst, size_t dstlen, const void *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *s = src;
	size_t o = 0;
	if (dstlen == 0)
		return dst;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = s[i];
		int plain = ch >= 0x20 && ch < 0x7f && !strchr("\"\\<>&'", ch);
		size_t need = plain ? 1 : 4;
		if (o + need + 4 > dstlen) { /* room for "..." + NUL */
			if (o + 4 <= dstlen) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (plain) {
			dst[o++] = (char)ch;
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		}
	}
	dst[o < dstlen ? o : dstlen - 1] = 0;
	return dst;
}
