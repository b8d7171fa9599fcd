/* core/log — see log.h. Owns the line format, the per-turn buffer, rate limiting and
 * escaping; not where stderr goes (the service manager's journal or a file). */
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

#define LOG_LINE_MAX 2048
#define LOG_BUF_SIZE (64 * 1024) /* a turn's lines; more are written as it fills */

static enum log_level g_level = LOG_LVL_INFO;
static log_sink_fn g_sink;
static void *g_sink_arg;

static bool g_buffered;
static bool g_atexit;
static char g_buf[LOG_BUF_SIZE];
static size_t g_len;

/* "2026-11-21T21:50:01" of the last second a line was stamped in: gmtime_r once a second. */
static time_t g_stamp_sec = (time_t)-1;
static char g_stamp[80];

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

/* All of p[0..n) to stderr; a line that cannot be written is lost (no one to tell). */
static void write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

void log_flush(void)
{
	if (!g_len)
		return;
	write_all(g_buf, g_len);
	g_len = 0;
}

void log_turn_end(void *arg)
{
	(void)arg;
	log_flush();
}

void log_set_buffered(bool on)
{
	if (on && !g_atexit && atexit(log_flush) == 0)
		g_atexit = true;
	g_buffered = on;
	if (!on)
		log_flush();
}

/* Append [0..n) of one line (its '\n' included) to the buffer, or write it now. */
static void emit(enum log_level lvl, const char *line, size_t n)
{
	if (!g_buffered) {
		write_all(line, n);
		return;
	}
	if (n > sizeof(g_buf) - g_len)
		log_flush();
	memcpy(g_buf + g_len, line, n);
	g_len += n;
	if (lvl == LOG_LVL_ERR) /* an error is seen at once, after what led to it */
		log_flush();
}

/* "2026-11-21T21:50:01.123Z " into dst (room for LOG_STAMP_LEN + 1); returns its length. */
#define LOG_STAMP_LEN 25
static size_t stamp(char *dst)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != g_stamp_sec) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		int n = snprintf(g_stamp, sizeof(g_stamp), "%04d-%02d-%02dT%02d:%02d:%02d",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				 tm.tm_min, tm.tm_sec);
		if (n != 19) /* a year past 9999 */
			snprintf(g_stamp, sizeof(g_stamp), "9999-12-31T23:59:59");
		g_stamp_sec = ts.tv_sec;
	}
	unsigned ms = (unsigned)(ts.tv_nsec / 1000000) % 1000;
	memcpy(dst, g_stamp, 19);
	dst[19] = '.';
	dst[20] = (char)('0' + ms / 100);
	dst[21] = (char)('0' + ms / 10 % 10);
	dst[22] = (char)('0' + ms % 10);
	dst[23] = 'Z';
	dst[24] = ' ';
	dst[25] = '\0';
	return LOG_STAMP_LEN;
}

__attribute__((format(printf, 4, 0))) static void
log_vmsg(enum log_level lvl, const char *module, const char *suffix, const char *fmt, va_list ap)
{
	if (lvl > g_level)
		return;
	char line[LOG_LINE_MAX + 1]; /* + the '\n' */
	const size_t cap = LOG_LINE_MAX; /* the text, its NUL included */
	size_t off = stamp(line);
	int m = snprintf(line + off, cap - off, "%s %s: ", level_names[lvl], module);
	if (m > 0)
		off += (size_t)m < cap - off ? (size_t)m : cap - off - 1;
	m = vsnprintf(line + off, cap - off, fmt, ap);
	if (m > 0)
		off += (size_t)m < cap - off ? (size_t)m : cap - off - 1;
	if (suffix && off < cap - 1) {
		m = snprintf(line + off, cap - off, "%s", suffix);
		if (m > 0)
			off += (size_t)m < cap - off ? (size_t)m : cap - off - 1;
	}
	line[off] = '\0';
	if (g_sink) /* the line without its newline */
		g_sink(g_sink_arg, lvl, line);
	line[off] = '\n';
	emit(lvl, line, off + 1);
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
