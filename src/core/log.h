/*
 * core/log — leveled log lines with key=value fields, to stderr.
 *
 * A line looks like: `2026-11-21T21:50:01Z info dhcp: offer mac=52:54:00:00:00:01 ip=10.0.0.5`.
 * Everything that came from the wire goes through log_escape() first. Drops of bad
 * packets use log_rl(), which lets one line per key through per interval and counts the rest.
 */
#ifndef PIXIED_CORE_LOG_H
#define PIXIED_CORE_LOG_H

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
