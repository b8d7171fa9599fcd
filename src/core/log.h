/*
 * core/log — leveled log lines with key=value fields, to stderr.
 *
 * A line looks like: `2026-11-21T21:50:01.123Z info dhcp: offer mac=52:54:00:00:00:01 ip=10.0.0.5`
 * (UTC; the date part is formatted once a second).
 * Everything that came from the wire goes through log_escape() first. Drops of bad
 * packets use log_rl(), which lets one line per key through per interval and counts the rest.
 *
 * Buffering: a busy loop turn logs many lines (an OFFER and an ACK per DHCP client), and one
 * write() per line cost 15-20 % of the CPU at 8,000 DORA/s. With log_set_buffered(true) the
 * lines of a turn are collected and written with one write() by log_flush(), which the
 * daemon calls at the end of every loop turn. An error line is written at once (with the
 * lines before it), a full buffer is written when the next line would not fit, and what is
 * left is written at exit. The sink sees every line as it is made, buffered or not.
 * Single-threaded like the loop: the buffer has no lock.
 */
#ifndef PIXIED_CORE_LOG_H
#define PIXIED_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

/* Optional sink that also receives every emitted line (for the UI's recent-log view). */
typedef void (*log_sink_fn)(void *arg, enum log_level lvl, const char *line);
void log_set_sink(log_sink_fn fn, void *arg);

void log_msg(enum log_level lvl, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Buffer lines until log_flush() (on), or write each line at once (off, the default).
 * Turning it off flushes. The daemon turns it on right before loop_run() (so start-up
 * lines such as "ready" go out at once), registers log_turn_end as its LAST end-of-turn
 * hook (lines the other hooks log go out in the same turn), and turns it off after
 * loop_run() returns. The first time it is turned on, log_flush is registered with atexit().
 */
void log_set_buffered(bool on);
/* Write the buffered lines to stderr with one write() (nothing to do when empty). */
void log_flush(void);
/* log_flush() as a loop_turn_fn (core/loop.h): loop_on_turn_end(l, log_turn_end, NULL). */
void log_turn_end(void *arg);

#define log_err(mod, ...) log_msg(LOG_LVL_ERR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_LVL_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_LVL_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...)                                                                        \
	do {                                                                                       \
		if (log_get_level() >= LOG_LVL_DEBUG)                                              \
			log_msg(LOG_LVL_DEBUG, mod, __VA_ARGS__);                                  \
	} while (0)

/*
 * Rate limiter: at most one line per `interval_ms` for each limiter; lines held
 * back are counted and the count is reported on the next line let through.
 */
struct log_ratelimit {
	uint64_t interval_ms;
	uint64_t last_ms;
	uint64_t suppressed;
	int primed;
};
#define LOG_RATELIMIT_INIT(ms) {.interval_ms = (ms)}

void log_rl(struct log_ratelimit *rl, enum log_level lvl, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Make wire bytes safe to print: printable ASCII is kept except `"`, `\`, `<`, `>`, `&`,
 * `'` and space-free controls, which become \xNN. Always NUL-terminates dst (dstlen >= 1);
 * truncates with "..." when the input does not fit. Returns dst.
 */
char *log_escape(char *dst, size_t dstlen, const void *src, size_t n);

#endif
