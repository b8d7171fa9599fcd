/* core/util — see util.h. */
#include "core/util.h"

#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <strings.h>
#include <time.h>

uint64_t time_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t time_wall(void)
{
	return (int64_t)time(NULL);
}

int parse_u64n(const char *s, size_t n, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!s || n == 0 || n > 20)
		return n > 20 && s ? -ERANGE : -EINVAL;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!s)
		return -EINVAL;
	size_t n = strlen(s);
	/* long runs of digits are a range error, not a syntax error */
	if (n > 20) {
		for (size_t i = 0; i < n; i++)
			if (s[i] < '0' || s[i] > '9')
				return -EINVAL;
		return -ERANGE;
	}
	return parse_u64n(s, n, min, max, out);
}

int parse_duration(const char *s, uint64_t min_s, uint64_t max_s, uint64_t *out_s)
{
	if (!s)
		return -EINVAL;
	size_t n = strlen(s);
	if (n == 0)
		return -EINVAL;
	uint64_t mult = 1;
	switch (s[n - 1]) {
	case 's': mult = 1; n--; break;
	case 'm': mult = 60; n--; break;
	case 'h': mult = 3600; n--; break;
	case 'd': mult = 86400; n--; break;
	default: break;
	}
	uint64_t v;
	int r = parse_u64n(s, n, 0, UINT64_MAX / 86400, &v);
	if (r)
		return r;
	v *= mult;
	if (v < min_s || v > max_s)
		return -ERANGE;
	*out_s = v;
	return 0;
}

int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int parse_ipv4(const char *s, uint32_t *out)
{
	uint32_t ip = 0;
	const char *p = s;
	for (int part = 0; part < 4; part++) {
		const char *start = p;
		while (*p >= '0' && *p <= '9')
			p++;
		uint64_t v;
		if (p - start > 3 || parse_u64n(start, (size_t)(p - start), 0, 255, &v))
			return -EINVAL;
		ip = ip << 8 | (uint32_t)v;
		if (part < 3) {
			if (*p != '.')
				return -EINVAL;
			p++;
		}
	}
	if (*p)
		return -EINVAL;
	*out = ip;
	return 0;
}

char *fmt_ipv4(char buf[IPV4_STRLEN], uint32_t ip)
{
	snprintf(buf, IPV4_STRLEN, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
		 ip & 255);
	return buf;
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -EINVAL;
	char sep = s[2];
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[i * 3]), lo = hex_digit(s[i * 3 + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != sep))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int parse_mac_any(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 12)
		return parse_mac(s, mac);
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

char *fmt_mac(char buf[MAC_STRLEN], const uint8_t mac[6])
{
	snprintf(buf, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return buf;
}

size_t str_copy(char *dst, const char *src, size_t dstlen)
{
	size_t n = strlen(src);
	if (dstlen) {
		size_t c = n < dstlen - 1 ? n : dstlen - 1;
		memcpy(dst, src, c);
		dst[c] = 0;
	}
	return n;
}

bool mem_eq_nocase(const void *a, size_t alen, const char *b)
{
	return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

uint32_t ipv4_mask(unsigned prefix)
{
	return prefix == 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~((1u << (32 - prefix)) - 1);
}

int ipv4_prefix(uint32_t mask)
{
	for (int p = 0; p <= 32; p++)
		if (ipv4_mask((unsigned)p) == mask)
			return p;
	return -1;
}

void raise_nofile(uint64_t want, const char *mod, const char *what)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rlim_t old = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? (rlim_t)want : MIN((rlim_t)want, rl.rlim_max);
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > old)
		log_info(mod, "raised open-file limit from=%llu to=%llu", (unsigned long long)old,
			 (unsigned long long)rl.rlim_cur);
	if (rl.rlim_cur < want)
		log_warn(mod, "open-file limit %llu is low for %s (wants %llu)",
			 (unsigned long long)rl.rlim_cur, what, (unsigned long long)want);
}
