/*
 * core/util — time, bounded number parsing, IPv4/MAC text forms, small string helpers.
 *
 * IPv4 addresses are uint32_t in host byte order everywhere inside pixied; they are
 * converted only at the socket boundary (net/) and on the wire (cursor/writer are big-endian).
 */
#ifndef PIXIED_CORE_UTIL_H
#define PIXIED_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Monotonic milliseconds (CLOCK_MONOTONIC) and wall-clock seconds. */
uint64_t time_mono_ms(void);
int64_t time_wall(void);

/*
 * One bounded parser for every number from the config or the wire (OpenBSD strtonum):
 * decimal only, no sign, no spaces, no trailing bytes; 0 on success, -EINVAL on syntax,
 * -ERANGE outside [min, max].
 */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* The same on a length-delimited, not NUL-terminated buffer. */
int parse_u64n(const char *s, size_t n, uint64_t min, uint64_t max, uint64_t *out);

/* Durations: "90", "90s", "15m", "12h", "7d" -> seconds, bounded like parse_u64. */
int parse_duration(const char *s, uint64_t min_s, uint64_t max_s, uint64_t *out_s);

/* Booleans: yes/no, true/false, on/off, 1/0 (case-insensitive). */
int parse_bool(const char *s, bool *out);

/* Dotted quad, exactly four decimal parts 0-255, no leading/trailing junk. */
int parse_ipv4(const char *s, uint32_t *out);
#define IPV4_STRLEN 16
char *fmt_ipv4(char buf[IPV4_STRLEN], uint32_t ip);

/* aa:bb:cc:dd:ee:ff or aa-bb-...; case-insensitive. */
int parse_mac(const char *s, uint8_t mac[6]);
/* parse_mac's forms, or 12 hex digits (iPXE ${mac:hexraw}, URL paths). */
int parse_mac_any(const char *s, uint8_t mac[6]);
/* The value of one hex digit (either case), -1 for anything else. */
int hex_digit(char c);
#define MAC_STRLEN 18
char *fmt_mac(char buf[MAC_STRLEN], const uint8_t mac[6]);

/* Copy with truncation, always NUL-terminates; returns strlen(src). */
size_t str_copy(char *dst, const char *src, size_t dstlen);

/* Case-insensitive compare of a length-delimited buffer with a C string. */
bool mem_eq_nocase(const void *a, size_t alen, const char *b);

/* Prefix length (0-32) -> netmask, and a netmask -> prefix length (-1 if not contiguous). */
uint32_t ipv4_mask(unsigned prefix);
int ipv4_prefix(uint32_t mask);

/*
 * Raise the soft open-file limit toward want (up to the hard limit) so that a service's own
 * limit (connections, transfers) is reached before descriptors run out. Logs under module
 * mod: the raise, or a warning naming `what` (e.g. "max-connections") when the hard limit
 * is lower.
 */
void raise_nofile(uint64_t want, const char *mod, const char *what);

#endif
