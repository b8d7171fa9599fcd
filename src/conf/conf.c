/*
 * conf — INI loading (libinih) into struct conf, and validation.
 *
 * Every key goes through one table row: its section kind, its name and a setter that
 * parses with the bounded parsers of core/util. Errors name file, line, section, key and
 * what is accepted; all errors of a file are collected, not just the first. Cross-key rules
 * (ranges inside subnets, unique MACs, T1 < T2 < lease) run after the whole file is read.
 * Owns no sockets; reads only the file it is given.
 */
#include "conf/conf.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

static const char *const arch_names[CONF_ARCH_COUNT] = {
	[CONF_ARCH_BIOS] = "bios",
	[CONF_ARCH_EFI32] = "efi32",
	[CONF_ARCH_EFI64] = "efi64",
	[CONF_ARCH_ARM32] = "arm32",
	[CONF_ARCH_ARM64] = "arm64",
	[CONF_ARCH_RISCV32] = "riscv32",
	[CONF_ARCH_RISCV64] = "riscv64",
	[CONF_ARCH_LOONGARCH64] = "loongarch64",
	[CONF_ARCH_EFI32_HTTP] = "efi32-http",
	[CONF_ARCH_EFI64_HTTP] = "efi64-http",
	[CONF_ARCH_ARM32_HTTP] = "arm32-http",
	[CONF_ARCH_ARM64_HTTP] = "arm64-http",
	[CONF_ARCH_BIOS_HTTP] = "bios-http",
	[CONF_ARCH_RISCV64_HTTP] = "riscv64-http",
};

const char *conf_arch_name(enum conf_arch a)
{
	return (unsigned)a < CONF_ARCH_COUNT ? arch_names[a] : "?";
}

enum sect_kind { SECT_NONE, SECT_SERVER, SECT_DHCP, SECT_SUBNET, SECT_HOST, SECT_LOADERS,
		 SECT_TFTP, SECT_HTTP, SECT_MENU, SECT_ENTRY, SECT_API };

#define MAX_SEEN 64

struct ctx {
	struct conf *c;
	const char *name; /* file name for messages */
	unsigned line;
	char *err;
	size_t errlen, errused;
	int nerr;
	/* the section being read */
	char cur[128];
	enum sect_kind kind;
	struct conf_pool *pool;
	struct conf_host *host;
	struct {
		char key[40];
		unsigned line;
	} seen[MAX_SEEN];
	size_t nseen;
	/* which singleton sections were given, and where */
	unsigned sect_line[SECT_API + 1];
	bool hosts_only;          /* reading <state>/hosts.conf: only [host NAME] */
	const char *main_name;    /* the main file's name while reading hosts.conf */
	const char *hosts_text;   /* <state>/hosts.conf, NULL = none */
	size_t hosts_len;
	char hosts_name[CONF_PATH_LEN + 16];
	size_t hosts_cap;
	struct conf_entry *entry;
	size_t entries_cap;
	bool entry_type_given;
	/* reading from a string */
	const char *text;
	size_t textpos, textlen;
};

__attribute__((format(printf, 2, 3))) static void cerr(struct ctx *x, const char *fmt, ...)
{
	x->nerr++;
	if (!x->err || x->errlen == 0 || x->errused + 1 >= x->errlen)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int n;
	if (x->line)
		n = snprintf(x->err + x->errused, x->errlen - x->errused, "%s:%u: %s\n", x->name,
			     x->line, msg);
	else
		n = snprintf(x->err + x->errused, x->errlen - x->errused, "%s: %s\n", x->name, msg);
	if (n > 0)
		x->errused = MIN(x->errused + (size_t)n, x->errlen - 1);
}

/* ---- value parsers: 0 ok, else an error was reported ---- */

typedef int (*setter_fn)(struct ctx *x, const char *key, const char *v, void *dst);

#define BAD(fmt, ...) (cerr(x, "[%s] %s = %s: " fmt, x->cur, key, v, ##__VA_ARGS__), -1)

static int set_str(struct ctx *x, const char *key, const char *v, void *dst, size_t cap)
{
	if (strlen(v) >= cap)
		return BAD("too long (at most %zu characters)", cap - 1);
	str_copy(dst, v, cap);
	return 0;
}

static int set_abs_path(struct ctx *x, const char *key, const char *v, void *dst)
{
	if (v[0] != '/')
		return BAD("must be an absolute path (starting with /)");
	return set_str(x, key, v, dst, CONF_PATH_LEN);
}

static int set_bool(struct ctx *x, const char *key, const char *v, void *dst)
{
	if (parse_bool(v, dst))
		return BAD("not a boolean; accepted: yes, no, true, false, on, off, 1, 0");
	return 0;
}

static int set_port(struct ctx *x, const char *key, const char *v, void *dst)
{
	uint64_t n;
	if (parse_u64(v, 1, 65535, &n))
		return BAD("not a port; accepted: 1-65535");
	*(uint16_t *)dst = (uint16_t)n;
	return 0;
}

static int set_duration(struct ctx *x, const char *key, const char *v, void *dst,
			uint64_t min, uint64_t max)
{
	if (parse_duration(v, min, max, dst))
		return BAD("not a duration in range; accepted: %llu-%llu seconds, with an optional "
			   "unit s, m, h or d (e.g. 12h)",
			   (unsigned long long)min, (unsigned long long)max);
	return 0;
}

/* Milliseconds: "500ms", "2s", or a bare number of milliseconds. */
static int set_ms(struct ctx *x, const char *key, const char *v, void *dst, uint64_t min,
		  uint64_t max)
{
	size_t n = strlen(v);
	uint64_t out, mult = 1;
	if (n > 2 && !strcmp(v + n - 2, "ms"))
		n -= 2;
	else if (n > 1 && v[n - 1] == 's') {
		n -= 1;
		mult = 1000;
	}
	if (parse_u64n(v, n, 0, UINT64_MAX / 1000, &out) || out * mult < min || out * mult > max)
		return BAD("not a time in range; accepted: %llu-%llu ms, written like 500ms or 2s",
			   (unsigned long long)min, (unsigned long long)max);
	*(uint64_t *)dst = out * mult;
	return 0;
}

static int set_uint(struct ctx *x, const char *key, const char *v, uint64_t *dst, uint64_t min,
		    uint64_t max)
{
	if (parse_u64(v, min, max, dst))
		return BAD("not a number in range; accepted: %llu-%llu", (unsigned long long)min,
			   (unsigned long long)max);
	return 0;
}

/* A list of IPv4 addresses separated by spaces or commas. */
static int set_ip_list(struct ctx *x, const char *key, const char *v, uint32_t *out, size_t *n,
		       size_t max)
{
	char buf[512];
	if (strlen(v) >= sizeof(buf))
		return BAD("too long");
	str_copy(buf, v, sizeof(buf));
	*n = 0;
	char *save = NULL;
	for (char *t = strtok_r(buf, " ,\t", &save); t; t = strtok_r(NULL, " ,\t", &save)) {
		if (*n == max)
			return BAD("too many addresses (at most %zu)", max);
		if (parse_ipv4(t, &out[*n]))
			return BAD("'%s' is not an IPv4 address (like 192.168.10.1)", t);
		(*n)++;
	}
	if (*n == 0)
		return BAD("empty; give one or more IPv4 addresses");
	return 0;
}

/* "a.b.c.d/len" */
static int parse_cidr(const char *v, uint32_t *net, uint32_t *mask)
{
	char buf[32];
	const char *slash = strchr(v, '/');
	if (!slash || (size_t)(slash - v) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, v, (size_t)(slash - v));
	buf[slash - v] = 0;
	uint64_t len;
	if (parse_ipv4(buf, net) || parse_u64(slash + 1, 1, 30, &len))
		return -EINVAL;
	*mask = ipv4_mask((unsigned)len);
	if (*net & ~*mask)
		return -ERANGE;
	return 0;
}

static int hostname_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
			return 0;
	}
	return s[0] != '-' && s[0] != '.';
}

/* ---- section handlers ---- */

static int pool_key(struct ctx *x, struct conf_pool *p, const char *key, const char *v)
{
	if (!strcmp(key, "range")) {
		char a[32], b[32], extra;
		if (p->nranges == CONF_MAX_RANGES)
			return BAD("too many ranges in one section (at most %d)", CONF_MAX_RANGES);
		struct conf_range *r = &p->ranges[p->nranges];
		if (sscanf(v, "%31s %31s %c", a, b, &extra) != 2 || parse_ipv4(a, &r->start) ||
		    parse_ipv4(b, &r->end))
			return BAD("accepted: two IPv4 addresses, first and last of the range "
				   "(e.g. 192.168.10.100 192.168.10.199)");
		if (r->start > r->end)
			return BAD("the first address is above the last");
		p->nranges++;
		return 0;
	}
	if (!strcmp(key, "subnet")) {
		int r = parse_cidr(v, &p->net, &p->mask);
		if (r == -ERANGE)
			return BAD("host bits set; write the network address (e.g. 10.1.0.0/24)");
		if (r)
			return BAD("accepted: network/prefix length 1-30 (e.g. 10.1.0.0/24)");
		p->has_subnet = true;
		return 0;
	}
	if (!strcmp(key, "router"))
		return set_ip_list(x, key, v, p->routers, &p->nrouters, CONF_MAX_ADDRS);
	if (!strcmp(key, "dns"))
		return set_ip_list(x, key, v, p->dns, &p->ndns, CONF_MAX_ADDRS);
	if (!strcmp(key, "ntp"))
		return set_ip_list(x, key, v, p->ntp, &p->nntp, CONF_MAX_ADDRS);
	if (!strcmp(key, "domain")) {
		if (!hostname_ok(v))
			return BAD("not a domain name (letters, digits, '-' and '.')");
		return set_str(x, key, v, p->domain, sizeof(p->domain));
	}
	return 1; /* not a pool key */
}

static int dhcp_key(struct ctx *x, const char *key, const char *v)
{
	struct conf_dhcp *d = &x->c->dhcp;
	if (!strcmp(key, "mode")) {
		if (!strcasecmp(v, "full"))
			d->mode = CONF_DHCP_FULL;
		else if (!strcasecmp(v, "proxy"))
			d->mode = CONF_DHCP_PROXY;
		else if (!strcasecmp(v, "off"))
			d->mode = CONF_DHCP_OFF;
		else
			return BAD("unknown mode; accepted: full, proxy, off");
		return 0;
	}
	if (!strcmp(key, "lease-time"))
		return set_duration(x, key, v, &d->lease_time, 2, 365 * 86400);
	if (!strcmp(key, "renewal-time"))
		return set_duration(x, key, v, &d->t1, 1, 365 * 86400);
	if (!strcmp(key, "rebinding-time"))
		return set_duration(x, key, v, &d->t2, 1, 365 * 86400);
	if (!strcmp(key, "decline-time"))
		return set_duration(x, key, v, &d->decline_time, 1, 30 * 86400);
	if (!strcmp(key, "offer-time"))
		return set_duration(x, key, v, &d->offer_time, 1, 3600);
	if (!strcmp(key, "probe")) {
		if (!strcasecmp(v, "none") || !strcasecmp(v, "off"))
			d->probe = CONF_PROBE_NONE;
		else if (!strcasecmp(v, "ping") || !strcasecmp(v, "icmp"))
			d->probe = CONF_PROBE_PING;
		else if (!strcasecmp(v, "arp"))
			d->probe = CONF_PROBE_ARP;
		else
			return BAD("accepted: none, ping, arp");
		return 0;
	}
	if (!strcmp(key, "probe-timeout"))
		return set_ms(x, key, v, &d->probe_timeout_ms, 10, 10000);
	if (!strcmp(key, "authoritative"))
		return set_bool(x, key, v, &d->authoritative);
	if (!strcmp(key, "lease-sync")) {
		if (!strcasecmp(v, "full"))
			d->sync_full = true;
		else if (!strcasecmp(v, "normal"))
			d->sync_full = false;
		else
			return BAD("accepted: full (every lease on disk before its ACK), normal");
		return 0;
	}
	if (!strcmp(key, "max-offers"))
		return set_uint(x, key, v, &d->max_offers, 16, 1000000);
	if (!strcmp(key, "ipxe-skip-proxydhcp"))
		return set_bool(x, key, v, &d->no_proxydhcp_wait);
	if (!strcmp(key, "pxelinux-configfile"))
		return set_str(x, key, v, d->pxelinux_configfile, sizeof(d->pxelinux_configfile));
	if (!strcmp(key, "pxelinux-pathprefix"))
		return set_str(x, key, v, d->pxelinux_pathprefix, sizeof(d->pxelinux_pathprefix));
	return 1;
}

static int server_key(struct ctx *x, const char *key, const char *v)
{
	struct conf *c = x->c;
	if (!strcmp(key, "interfaces")) {
		char buf[512];
		if (strlen(v) >= sizeof(buf))
			return BAD("too long");
		str_copy(buf, v, sizeof(buf));
		c->nifaces = 0;
		char *save = NULL;
		for (char *t = strtok_r(buf, " ,\t", &save); t; t = strtok_r(NULL, " ,\t", &save)) {
			if (c->nifaces == CONF_MAX_IFACES)
				return BAD("too many interfaces (at most %d)", CONF_MAX_IFACES);
			if (strlen(t) >= 16 || strchr(t, '/'))
				return BAD("'%s' is not an interface name", t);
			str_copy(c->ifaces[c->nifaces++], t, CONF_NAME_LEN);
		}
		if (!c->nifaces)
			return BAD("empty; name the interfaces pixied serves (e.g. eth1)");
		return 0;
	}
	if (!strcmp(key, "root"))
		return set_abs_path(x, key, v, c->root);
	if (!strcmp(key, "state"))
		return set_abs_path(x, key, v, c->state);
	if (!strcmp(key, "user"))
		return set_str(x, key, v, c->user, sizeof(c->user));
	if (!strcmp(key, "ipv6-ra"))
		return set_bool(x, key, v, &c->ipv6_ra);
	return 1;
}

static int host_key(struct ctx *x, const char *key, const char *v)
{
	struct conf_host *h = x->host;
	if (!strcmp(key, "mac")) {
		if (parse_mac(v, h->mac))
			return BAD("not a MAC address; accepted: aa:bb:cc:dd:ee:ff");
		return 0;
	}
	if (!strcmp(key, "ip")) {
		if (parse_ipv4(v, &h->ip))
			return BAD("not an IPv4 address (like 192.168.10.20)");
		h->has_ip = true;
		return 0;
	}
	if (!strcmp(key, "hostname")) {
		if (!hostname_ok(v))
			return BAD("not a host name (letters, digits, '-' and '.', at most 63)");
		return set_str(x, key, v, h->hostname, sizeof(h->hostname));
	}
	if (!strcmp(key, "boot"))
		return set_str(x, key, v, h->boot, sizeof(h->boot));
	return 1;
}

static int loaders_key(struct ctx *x, const char *key, const char *v)
{
	for (int a = 0; a < CONF_ARCH_COUNT; a++) {
		if (strcmp(key, arch_names[a]))
			continue;
		bool http = strstr(key, "-http") != NULL;
		if (http && !strncmp(v, "http://", 7))
			return set_str(x, key, v, x->c->loaders[a], CONF_PATH_LEN);
		if (v[0] == 0 || !strcasecmp(v, "none")) {
			x->c->loaders[a][0] = 0;
			return 0;
		}
		const char *base = strrchr(v, '/');
		base = base ? base + 1 : v;
		if (!*base)
			return BAD("names a directory; give a file");
		if (strstr(v, "/../") || !strncmp(v, "../", 3))
			return BAD("must not leave the root; give an absolute path or a path "
				   "beneath root");
		return set_str(x, key, v, x->c->loaders[a], CONF_PATH_LEN);
	}
	return 1;
}

static int addr_list_key(struct ctx *x, const char *key, const char *v, uint32_t *addrs,
			 size_t *n)
{
	return set_ip_list(x, key, v, addrs, n, CONF_MAX_IFACES);
}

static int tftp_key(struct ctx *x, const char *key, const char *v)
{
	struct conf_tftp *t = &x->c->tftp;
	if (!strcmp(key, "enabled"))
		return set_bool(x, key, v, &t->enabled);
	if (!strcmp(key, "address"))
		return addr_list_key(x, key, v, t->addrs, &t->naddrs);
	if (!strcmp(key, "port"))
		return set_port(x, key, v, &t->port);
	if (!strcmp(key, "blksize-max"))
		return set_uint(x, key, v, &t->blksize_max, 8, 65464);
	if (!strcmp(key, "windowsize-max"))
		return set_uint(x, key, v, &t->windowsize_max, 1, 65535);
	if (!strcmp(key, "retries"))
		return set_uint(x, key, v, &t->retries, 1, 100);
	if (!strcmp(key, "timeout"))
		return set_ms(x, key, v, &t->timeout_ms, 100, 255000);
	if (!strcmp(key, "max-transfers"))
		return set_uint(x, key, v, &t->max_transfers, 1, 100000);
	if (!strcmp(key, "max-per-client"))
		return set_uint(x, key, v, &t->max_per_client, 1, 100000);
	if (!strcmp(key, "single-port"))
		return set_bool(x, key, v, &t->single_port);
	if (!strcmp(key, "write-dir"))
		return set_abs_path(x, key, v, t->write_dir);
	return 1;
}

static int http_key(struct ctx *x, const char *key, const char *v)
{
	struct conf_http *h = &x->c->http;
	if (!strcmp(key, "enabled"))
		return set_bool(x, key, v, &h->enabled);
	if (!strcmp(key, "address"))
		return addr_list_key(x, key, v, h->addrs, &h->naddrs);
	if (!strcmp(key, "port"))
		return set_port(x, key, v, &h->port);
	if (!strcmp(key, "max-connections"))
		return set_uint(x, key, v, &h->max_connections, 1, 1000000);
	if (!strcmp(key, "max-per-client"))
		return set_uint(x, key, v, &h->max_per_client, 1, 1000000);
	if (!strcmp(key, "header-max"))
		return set_uint(x, key, v, &h->header_max, 1024, 1048576);
	if (!strcmp(key, "timeout"))
		return set_ms(x, key, v, &h->timeout_ms, 100, 3600000);
	if (!strcmp(key, "min-rate"))
		return set_uint(x, key, v, &h->min_rate, 0, UINT64_MAX / 2);
	if (!strcmp(key, "access-log"))
		return set_bool(x, key, v, &h->access_log);
	return 1;
}

static int api_key(struct ctx *x, const char *key, const char *v)
{
	struct conf_api *a = &x->c->api;
	if (!strcmp(key, "enabled"))
		return set_bool(x, key, v, &a->enabled);
	if (!strcmp(key, "address"))
		return addr_list_key(x, key, v, a->addrs, &a->naddrs);
	if (!strcmp(key, "port"))
		return set_port(x, key, v, &a->port);
	if (!strcmp(key, "password-hash")) {
		if (strncmp(v, "$argon2id$", 10))
			return BAD("not an argon2id hash; make one with: pixied --hash-password");
		return set_str(x, key, v, a->password_hash, sizeof(a->password_hash));
	}
	if (!strcmp(key, "metrics-auth"))
		return set_bool(x, key, v, &a->metrics_auth);
	if (!strcmp(key, "host-names")) {
		for (const char *p = v; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || strchr("-.:[] ,", *p)))
				return BAD("accepted: host names separated by spaces (e.g. "
					   "pixied.lan boot.example.org)");
		return set_str(x, key, v, a->host_names, sizeof(a->host_names));
	}
	if (!strcmp(key, "session-timeout"))
		return set_duration(x, key, v, &a->session_timeout, 60, 30 * 86400);
	return 1;
}

static const char *const kind_names[] = {
	[CONF_ENTRY_LINUX] = "linux",	  [CONF_ENTRY_CHAIN] = "chain", [CONF_ENTRY_SANBOOT] = "sanboot",
	[CONF_ENTRY_MEMDISK] = "memdisk", [CONF_ENTRY_LOCAL] = "local", [CONF_ENTRY_SHELL] = "shell",
	[CONF_ENTRY_REBOOT] = "reboot",
};

const char *conf_entry_kind_name(enum conf_entry_kind k)
{
	return (unsigned)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

static const char *const family_names[] = {"bios",  "efi32",   "efi64",   "arm32",
					   "arm64", "riscv32", "riscv64", "loongarch64"};

const char *conf_family_name(unsigned family_bit)
{
	for (unsigned i = 0; i < ARRAY_SIZE(family_names); i++)
		if (family_bit == 1u << i)
			return family_names[i];
	return "?";
}

unsigned conf_arch_family(enum conf_arch a)
{
	switch (a) {
	case CONF_ARCH_BIOS:
	case CONF_ARCH_BIOS_HTTP: return CONF_FAM_BIOS;
	case CONF_ARCH_EFI32:
	case CONF_ARCH_EFI32_HTTP: return CONF_FAM_EFI32;
	case CONF_ARCH_EFI64:
	case CONF_ARCH_EFI64_HTTP: return CONF_FAM_EFI64;
	case CONF_ARCH_ARM32:
	case CONF_ARCH_ARM32_HTTP: return CONF_FAM_ARM32;
	case CONF_ARCH_ARM64:
	case CONF_ARCH_ARM64_HTTP: return CONF_FAM_ARM64;
	case CONF_ARCH_RISCV32: return CONF_FAM_RISCV32;
	case CONF_ARCH_RISCV64:
	case CONF_ARCH_RISCV64_HTTP: return CONF_FAM_RISCV64;
	case CONF_ARCH_LOONGARCH64: return CONF_FAM_LOONGARCH64;
	case CONF_ARCH_COUNT: break;
	}
	return 0;
}

static int family_bit(const char *name)
{
	for (unsigned i = 0; i < ARRAY_SIZE(family_names); i++)
		if (!strcmp(name, family_names[i]))
			return (int)i;
	return -1;
}

static int menu_key(struct ctx *x, const char *key, const char *v)
{
	struct conf_menu *m = &x->c->menu;
	if (!strcmp(key, "title"))
		return set_str(x, key, v, m->title, sizeof(m->title));
	if (!strcmp(key, "default"))
		return set_str(x, key, v, m->default_entry, sizeof(m->default_entry));
	if (!strcmp(key, "timeout")) {
		uint64_t sec;
		if (parse_duration(v, 0, 3600, &sec))
			return BAD("accepted: 0 (wait for a choice) to 3600 seconds, e.g. 10s");
		m->timeout_ms = sec * 1000;
		return 0;
	}
	if (!strcmp(key, "iso-dir")) {
		if (v[0] == '/' || strstr(v, "..") || !v[0])
			return BAD("accepted: a folder beneath root (e.g. iso), not an absolute path");
		return set_str(x, key, v, m->iso_dir, sizeof(m->iso_dir));
	}
	return 1;
}

static int entry_key(struct ctx *x, const char *key, const char *v)
{
	struct conf_entry *e = x->entry;
	if (!strcmp(key, "type")) {
		for (size_t k = 0; k < ARRAY_SIZE(kind_names); k++)
			if (!strcasecmp(v, kind_names[k])) {
				e->kind = (enum conf_entry_kind)k;
				x->entry_type_given = true;
				return 0;
			}
		return BAD("unknown type; accepted: linux, chain, sanboot, memdisk, local, shell, "
			   "reboot");
	}
	if (!strcmp(key, "label"))
		return set_str(x, key, v, e->label, sizeof(e->label));
	if (!strcmp(key, "arch")) {
		char buf[256];
		if (strlen(v) >= sizeof(buf))
			return BAD("too long");
		str_copy(buf, v, sizeof(buf));
		e->archs = 0;
		char *save = NULL;
		for (char *t = strtok_r(buf, " ,\t", &save); t; t = strtok_r(NULL, " ,\t", &save)) {
			int b = family_bit(t);
			if (b < 0)
				return BAD("'%s' is not an architecture; accepted: bios, efi32, efi64, "
					   "arm32, arm64, riscv32, riscv64, loongarch64",
					   t);
			e->archs |= 1u << b;
		}
		if (!e->archs)
			return BAD("empty");
		return 0;
	}
	if (!strcmp(key, "kernel"))
		return set_str(x, key, v, e->kernel, sizeof(e->kernel));
	if (!strcmp(key, "initrd")) {
		/* space-separated list, and the key may repeat */
		char buf[CONF_MAX_INITRDS * CONF_URL_LEN];
		if (strlen(v) >= sizeof(buf))
			return BAD("too long");
		str_copy(buf, v, sizeof(buf));
		char *save = NULL;
		for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
			if (e->ninitrd == CONF_MAX_INITRDS)
				return BAD("too many initrds (at most %d)", CONF_MAX_INITRDS);
			if (strlen(t) >= CONF_URL_LEN)
				return BAD("'%s' too long", t);
			str_copy(e->initrd[e->ninitrd++], t, CONF_URL_LEN);
		}
		return 0;
	}
	if (!strcmp(key, "args"))
		return set_str(x, key, v, e->args, sizeof(e->args));
	if (!strcmp(key, "image"))
		return set_str(x, key, v, e->image, sizeof(e->image));
	if (!strcmp(key, "file"))
		return set_str(x, key, v, e->chain, sizeof(e->chain));
	if (!strncmp(key, "file-", 5)) {
		int b = family_bit(key + 5);
		if (b < 0)
			return 1;
		return set_str(x, key, v, e->chain_fam[b], CONF_URL_LEN);
	}
	return 1;
}

static const char *const keys_help[] = {
	[SECT_SERVER] = "interfaces, root, state, user, ipv6-ra",
	[SECT_DHCP] = "mode, range, subnet, router, dns, ntp, domain, lease-time, renewal-time, "
		      "rebinding-time, decline-time, offer-time, probe, probe-timeout, "
		      "authoritative, lease-sync, max-offers, ipxe-skip-proxydhcp, "
		      "pxelinux-configfile, pxelinux-pathprefix",
	[SECT_SUBNET] = "subnet, range, router, dns, ntp, domain, lease-time",
	[SECT_HOST] = "mac, ip, hostname, boot",
	[SECT_LOADERS] = "bios, efi32, efi64, arm32, arm64, riscv32, riscv64, loongarch64, "
			 "efi32-http, efi64-http, arm32-http, arm64-http, bios-http, riscv64-http",
	[SECT_TFTP] = "enabled, address, port, blksize-max, windowsize-max, retries, timeout, "
		      "max-transfers, max-per-client, single-port, write-dir",
	[SECT_HTTP] = "enabled, address, port, max-connections, max-per-client, header-max, "
		      "timeout, min-rate, access-log",
	[SECT_MENU] = "title, default, timeout, iso-dir",
	[SECT_API] = "enabled, address, port, password-hash, metrics-auth, host-names, "
		     "session-timeout",
	[SECT_ENTRY] = "type, label, arch, kernel, initrd, args, file, file-bios, file-efi64, "
		       "file-arm64 (file-<arch>), image",
};

static struct conf_pool *new_pool(struct ctx *x, const char *name)
{
	struct conf *c = x->c;
	if (c->npools == CONF_MAX_POOLS) {
		cerr(x, "too many pools (at most %d [subnet] sections)", CONF_MAX_POOLS);
		return NULL;
	}
	struct conf_pool *p = &c->pools[c->npools++];
	memset(p, 0, sizeof(*p));
	str_copy(p->name, name, sizeof(p->name));
	p->line = x->line;
	return p;
}

static bool name_ok(const char *n)
{
	if (!*n || strlen(n) >= CONF_NAME_LEN)
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || strchr("-_.", *n)))
			return false;
	return true;
}

/* A new section header was seen (inih reports the section with each key). */
static void enter_section(struct ctx *x, const char *section)
{
	str_copy(x->cur, section, sizeof(x->cur));
	x->nseen = 0;
	x->pool = NULL;
	x->host = NULL;
	x->entry = NULL;
	x->entry_type_given = false;
	x->kind = SECT_NONE;
	static const struct {
		const char *name;
		enum sect_kind kind;
	} singles[] = {{"server", SECT_SERVER}, {"dhcp", SECT_DHCP},   {"loaders", SECT_LOADERS},
		       {"tftp", SECT_TFTP},     {"http", SECT_HTTP},
		       {"menu", SECT_MENU},     {"api", SECT_API}};
	if (x->hosts_only && strncmp(section, "host ", 5)) {
		cerr(x, "[%s]: only [host NAME] sections belong in this file (it is written by "
			"the API); move [%s] to %s", section, section, x->main_name);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(singles); i++) {
		if (strcmp(section, singles[i].name))
			continue;
		if (x->sect_line[singles[i].kind]) {
			cerr(x, "[%s] given twice (first at line %u); merge the two sections",
			     section, x->sect_line[singles[i].kind]);
			x->kind = SECT_NONE;
			return;
		}
		x->sect_line[singles[i].kind] = x->line;
		x->kind = singles[i].kind;
		if (x->kind == SECT_MENU) {
			x->c->menu.present = true;
			x->c->menu.line = x->line;
		}
		return;
	}
	const char *sp = strchr(section, ' ');
	if (sp) {
		size_t kl = (size_t)(sp - section);
		const char *name = sp + 1;
		while (*name == ' ')
			name++;
		bool host = kl == 4 && !strncmp(section, "host", 4);
		bool subnet = kl == 6 && !strncmp(section, "subnet", 6);
		bool entry = kl == 5 && !strncmp(section, "entry", 5);
		if (entry) {
			if (!name_ok(name)) {
				cerr(x, "[%s]: the name must be 1-63 letters, digits, '-', '_' or '.'",
				     section);
				return;
			}
			for (size_t i = 0; i < x->c->nentries; i++)
				if (!strcmp(x->c->entries[i].name, name)) {
					cerr(x, "[%s] given twice (first at line %u)", section,
					     x->c->entries[i].line);
					return;
				}
			if (x->c->nentries == x->entries_cap) {
				size_t n = x->entries_cap ? x->entries_cap * 2 : 8;
				struct conf_entry *e = realloc(x->c->entries, n * sizeof(*e));
				if (!e) {
					cerr(x, "out of memory");
					return;
				}
				x->c->entries = e;
				x->entries_cap = n;
			}
			x->entry = &x->c->entries[x->c->nentries++];
			memset(x->entry, 0, sizeof(*x->entry));
			str_copy(x->entry->name, name, sizeof(x->entry->name));
			x->entry->line = x->line;
			x->entry->kind = (enum conf_entry_kind)-1; /* inferred at the end */
			x->kind = SECT_ENTRY;
			return;
		}
		if (host || subnet) {
			if (!name_ok(name)) {
				cerr(x, "[%s]: the name must be 1-63 letters, digits, '-', '_' or '.'",
				     section);
				return;
			}
			if (subnet) {
				for (size_t i = 0; i < x->c->npools; i++)
					if (!strcmp(x->c->pools[i].name, name)) {
						cerr(x, "[%s] given twice (first at line %u)", section,
						     x->c->pools[i].line);
						return;
					}
				x->pool = new_pool(x, name);
				x->kind = x->pool ? SECT_SUBNET : SECT_NONE;
				return;
			}
			for (size_t i = 0; i < x->c->nhosts; i++)
				if (!strcmp(x->c->hosts[i].name, name)) {
					cerr(x, "[%s] given twice (first at line %u)", section,
					     x->c->hosts[i].line);
					return;
				}
			if (x->c->nhosts == x->hosts_cap) {
				size_t n = x->hosts_cap ? x->hosts_cap * 2 : 16;
				struct conf_host *h = realloc(x->c->hosts, n * sizeof(*h));
				if (!h) {
					cerr(x, "out of memory");
					return;
				}
				x->c->hosts = h;
				x->hosts_cap = n;
			}
			x->host = &x->c->hosts[x->c->nhosts++];
			memset(x->host, 0, sizeof(*x->host));
			str_copy(x->host->name, name, sizeof(x->host->name));
			x->host->line = x->line;
			x->host->from_state = x->hosts_only;
			x->kind = SECT_HOST;
			return;
		}
	}
	cerr(x, "unknown section [%s]; accepted: [server], [dhcp], [subnet NAME], [host NAME], "
		"[loaders], [tftp], [http], [menu], [entry NAME]",
	     section);
}

static int on_key(void *user, const char *section, const char *key, const char *v)
{
	struct ctx *x = user;
	if (strcmp(section, x->cur) || (x->kind == SECT_NONE && x->nseen == 0 && !x->cur[0]))
		enter_section(x, section);
	if (!section[0]) {
		cerr(x, "%s = %s: key outside any section; put it under [server], [dhcp], ...", key,
		     v);
		return 1;
	}
	if (x->kind == SECT_NONE)
		return 1; /* section error already reported */

	/* A key given twice in one section is an error (range and initrd may repeat). */
	if (strcmp(key, "range") && strcmp(key, "initrd")) {
		for (size_t i = 0; i < x->nseen; i++)
			if (!strcmp(x->seen[i].key, key)) {
				cerr(x, "[%s] %s: given twice (first at line %u); keep one", x->cur,
				     key, x->seen[i].line);
				return 1;
			}
		if (x->nseen < MAX_SEEN) {
			str_copy(x->seen[x->nseen].key, key, sizeof(x->seen[0].key));
			x->seen[x->nseen++].line = x->line;
		}
	}

	int r = 1;
	switch (x->kind) {
	case SECT_SERVER: r = server_key(x, key, v); break;
	case SECT_DHCP:
		r = dhcp_key(x, key, v);
		if (r == 1) {
			/* pool keys in [dhcp] make the default pool, created on first use */
			if (!x->pool) {
				for (size_t i = 0; i < x->c->npools; i++)
					if (!strcmp(x->c->pools[i].name, "dhcp"))
						x->pool = &x->c->pools[i];
				if (!x->pool)
					x->pool = new_pool(x, "dhcp");
			}
			if (x->pool)
				r = pool_key(x, x->pool, key, v);
		}
		break;
	case SECT_SUBNET:
		r = !strcmp(key, "lease-time")
			    ? set_duration(x, key, v, &x->pool->lease_time, 2, 365 * 86400)
			    : pool_key(x, x->pool, key, v);
		break;
	case SECT_HOST: r = host_key(x, key, v); break;
	case SECT_LOADERS: r = loaders_key(x, key, v); break;
	case SECT_TFTP: r = tftp_key(x, key, v); break;
	case SECT_HTTP: r = http_key(x, key, v); break;
	case SECT_MENU: r = menu_key(x, key, v); break;
	case SECT_API: r = api_key(x, key, v); break;
	case SECT_ENTRY: r = entry_key(x, key, v); break;
	case SECT_NONE: break;
	}
	if (r == 1) {
		const char *secname = x->kind == SECT_HOST     ? "host NAME"
				      : x->kind == SECT_SUBNET ? "subnet NAME"
				      : x->kind == SECT_ENTRY  ? "entry NAME"
							       : x->cur;
		cerr(x, "[%s] %s: unknown key; accepted in [%s]: %s", x->cur, key, secname,
		     keys_help[x->kind]);
	}
	return 1; /* keep going: collect every error */
}

static void set_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	str_copy(c->root, "/srv/pixied", sizeof(c->root));
	str_copy(c->state, "/var/lib/pixied", sizeof(c->state));
	str_copy(c->user, "pixied", sizeof(c->user));
	c->dhcp.mode = CONF_DHCP_PROXY;
	c->dhcp.lease_time = 12 * 3600;
	c->dhcp.decline_time = 600;
	c->dhcp.offer_time = 60;
	c->dhcp.probe = CONF_PROBE_NONE;
	c->dhcp.probe_timeout_ms = 500;
	c->dhcp.authoritative = true;
	c->dhcp.sync_full = true;
	c->dhcp.max_offers = 4096;
	c->dhcp.no_proxydhcp_wait = true;
	str_copy(c->loaders[CONF_ARCH_BIOS], "/usr/lib/ipxe/undionly.kpxe", CONF_PATH_LEN);
	str_copy(c->loaders[CONF_ARCH_EFI64], "/usr/lib/ipxe/ipxe.efi", CONF_PATH_LEN);
	c->tftp.enabled = true;
	c->tftp.port = 69;
	c->tftp.windowsize_max = 64;
	c->tftp.retries = 6;
	c->tftp.timeout_ms = 1000;
	c->tftp.max_transfers = 512;
	c->tftp.max_per_client = 16;
	c->http.enabled = true;
	c->http.port = 80;
	c->http.max_connections = 1024;
	c->http.max_per_client = 64;
	c->http.header_max = 8192;
	c->http.timeout_ms = 30000;
	c->http.min_rate = 1024;
	c->http.access_log = true;
	c->api.enabled = true;
	c->api.session_timeout = 12 * 3600;
	str_copy(c->menu.title, "pixied boot menu", sizeof(c->menu.title));
	c->menu.timeout_ms = 10000;
}

static bool pool_contains(const struct conf_pool *p, uint32_t ip)
{
	return (ip & p->mask) == p->net;
}

/* A name a host or the menu may point at: an [entry], or an ISO from iso-dir. */
static bool boot_target_ok(const struct conf *c, const char *name)
{
	if (conf_entry_by_name(c, name))
		return true;
	size_t n = strlen(name);
	return c->menu.iso_dir[0] && n > 4 && !strcasecmp(name + n - 4, ".iso");
}

static void validate_catalog(struct ctx *x)
{
	struct conf *c = x->c;
	for (size_t i = 0; i < c->nentries; i++) {
		struct conf_entry *e = &c->entries[i];
		x->line = e->line;
		if ((int)e->kind == -1) {
			bool fam = false;
			for (size_t b = 0; b < 8; b++)
				fam |= e->chain_fam[b][0] != 0;
			if (e->kernel[0])
				e->kind = CONF_ENTRY_LINUX;
			else if (e->chain[0] || fam)
				e->kind = CONF_ENTRY_CHAIN;
			else if (e->image[0])
				e->kind = CONF_ENTRY_SANBOOT;
			else {
				cerr(x, "[entry %s]: what does it boot? add type = linux, chain, sanboot, "
					"memdisk, local, shell or reboot (with kernel, file or image)",
				     e->name);
				continue;
			}
		}
		if (!e->label[0])
			str_copy(e->label, e->name, sizeof(e->label));
		bool fam = false;
		for (size_t b = 0; b < 8; b++)
			fam |= e->chain_fam[b][0] != 0;
		switch (e->kind) {
		case CONF_ENTRY_LINUX:
			if (!e->kernel[0])
				cerr(x, "[entry %s]: type linux needs kernel =", e->name);
			break;
		case CONF_ENTRY_CHAIN:
			if (!e->chain[0] && !fam)
				cerr(x, "[entry %s]: type chain needs file = (or file-bios, file-efi64, ...)",
				     e->name);
			break;
		case CONF_ENTRY_SANBOOT:
			if (!e->image[0])
				cerr(x, "[entry %s]: type sanboot needs image =", e->name);
			break;
		case CONF_ENTRY_MEMDISK:
			if (!e->image[0])
				cerr(x, "[entry %s]: type memdisk needs image =", e->name);
			if (e->archs & ~(unsigned)CONF_FAM_BIOS)
				cerr(x, "[entry %s]: memdisk boots only on BIOS; use arch = bios", e->name);
			e->archs = CONF_FAM_BIOS;
			break;
		default: break;
		}
	}
	if (c->menu.default_entry[0] && !boot_target_ok(c, c->menu.default_entry)) {
		x->line = c->menu.line;
		cerr(x, "[menu] default = %s: no [entry %s]", c->menu.default_entry,
		     c->menu.default_entry);
	}
	const char *main_name = x->name;
	for (size_t i = 0; i < c->nhosts; i++) {
		const struct conf_host *h = &c->hosts[i];
		x->line = h->line;
		x->name = h->from_state ? x->hosts_name : main_name;
		if (h->boot[0] && !boot_target_ok(c, h->boot))
			cerr(x, "[host %s] boot = %s: no [entry %s] (or ISO in [menu] iso-dir)",
			     h->name, h->boot, h->boot);
	}
	x->name = main_name;
}

static void validate(struct ctx *x)
{
	struct conf *c = x->c;
	x->line = 0;
	if (c->nifaces == 0)
		cerr(x, "[server] interfaces is required: name the interfaces pixied serves "
			"(e.g. interfaces = eth1)");
	struct conf_dhcp *d = &c->dhcp;
	/* Explicit T1/T2 must fit the lease; the defaults (50% / 87.5%) always do. */
	uint64_t t1 = d->t1 ? d->t1 : d->lease_time / 2;
	uint64_t t2 = d->t2 ? d->t2 : d->lease_time * 7 / 8;
	if ((d->t1 || d->t2) && (t1 >= d->lease_time || t2 >= d->lease_time ||
				 (d->t1 && d->t2 && t1 >= t2)))
		cerr(x, "[dhcp] renewal-time (%llus) < rebinding-time (%llus) < lease-time (%llus) "
			"must hold",
		     (unsigned long long)t1, (unsigned long long)t2,
		     (unsigned long long)d->lease_time);
	for (size_t i = 0; i < c->npools; i++) {
		struct conf_pool *p = &c->pools[i];
		x->line = p->line;
		bool sub = strcmp(p->name, "dhcp") != 0;
		if (sub && !p->has_subnet)
			cerr(x, "[subnet %s]: subnet is required (e.g. subnet = 10.1.0.0/24)",
			     p->name);
		for (size_t r = 0; r < p->nranges; r++) {
			const struct conf_range *rg = &p->ranges[r];
			char a[IPV4_STRLEN], b[IPV4_STRLEN];
			if (p->has_subnet && (!pool_contains(p, rg->start) || !pool_contains(p, rg->end)))
				cerr(x, "[%s%s] range %s %s is not inside its subnet", sub ? "subnet " : "",
				     sub ? p->name : "dhcp", fmt_ipv4(a, rg->start), fmt_ipv4(b, rg->end));
			/* no two ranges anywhere may overlap */
			for (size_t j = 0; j <= i; j++)
				for (size_t s = 0; s < (j == i ? r : c->pools[j].nranges); s++) {
					const struct conf_range *o = &c->pools[j].ranges[s];
					if (rg->start <= o->end && o->start <= rg->end)
						cerr(x, "range %s %s overlaps another range (in [%s%s])",
						     fmt_ipv4(a, rg->start), fmt_ipv4(b, rg->end),
						     j ? "subnet " : "", c->pools[j].name);
				}
		}
	}
	const char *main_name = x->name;
	for (size_t i = 0; i < c->nhosts; i++) {
		struct conf_host *h = &c->hosts[i];
		x->line = h->line;
		x->name = h->from_state ? x->hosts_name : main_name;
		static const uint8_t zero[6];
		if (!memcmp(h->mac, zero, 6))
			cerr(x, "[host %s]: mac is required (e.g. mac = 52:54:00:12:34:56)", h->name);
		for (size_t j = 0; j < i; j++) {
			if (memcmp(h->mac, zero, 6) && !memcmp(h->mac, c->hosts[j].mac, 6))
				cerr(x, "[host %s]: same mac as [host %s] (line %u)", h->name,
				     c->hosts[j].name, c->hosts[j].line);
			if (h->has_ip && c->hosts[j].has_ip && h->ip == c->hosts[j].ip)
				cerr(x, "[host %s]: same ip as [host %s] (line %u)", h->name,
				     c->hosts[j].name, c->hosts[j].line);
		}
		if (h->has_ip) {
			bool ok = false, any_subnet = false;
			for (size_t p = 0; p < c->npools; p++) {
				any_subnet |= c->pools[p].has_subnet;
				if (c->pools[p].has_subnet && pool_contains(&c->pools[p], h->ip))
					ok = true;
			}
			char a[IPV4_STRLEN];
			if (any_subnet && !ok && c->pools[0].has_subnet)
				cerr(x, "[host %s]: ip %s is not inside any configured subnet", h->name,
				     fmt_ipv4(a, h->ip));
		}
	}
	x->name = main_name;
	validate_catalog(x);
	x->line = 0;
	if (d->mode == CONF_DHCP_FULL) {
		bool any = false;
		for (size_t i = 0; i < c->npools; i++)
			any |= c->pools[i].nranges > 0;
		for (size_t i = 0; i < c->nhosts; i++)
			any |= c->hosts[i].has_ip;
		if (!any)
			cerr(x, "[dhcp] mode = full needs addresses to hand out: add range = FIRST LAST "
				"to [dhcp] or [host] sections with ip =");
	}
	if (c->tftp.single_port && c->tftp.port == 0)
		cerr(x, "[tftp] single-port needs a port");
}

static char *string_reader(char *str, int num, void *stream)
{
	struct ctx *x = stream;
	if (x->textpos >= x->textlen || num <= 1)
		return NULL;
	size_t i = 0;
	while (i < (size_t)num - 1 && x->textpos < x->textlen) {
		char ch = x->text[x->textpos++];
		str[i++] = ch;
		if (ch == '\n')
			break;
	}
	str[i] = 0;
	x->line++;
	return str;
}

static struct conf *load(struct ctx *x)
{
	struct conf *c = malloc(sizeof(*c));
	if (!c) {
		cerr(x, "out of memory");
		return NULL;
	}
	set_defaults(c);
	str_copy(c->path, x->name, sizeof(c->path));
	x->c = c;
	/* Lines longer than inih's buffer would be split silently: refuse them instead. */
	for (size_t i = 0, start = 0; i <= x->textlen; i++) {
		if (i == x->textlen || x->text[i] == '\n') {
			if (i - start > 1000) {
				unsigned ln = 1;
				for (size_t k = 0; k < start; k++)
					ln += x->text[k] == '\n';
				x->line = ln;
				cerr(x, "line longer than 1000 characters");
			}
			start = i + 1;
		}
		if (i < x->textlen && x->text[i] == 0) {
			x->line = 0;
			cerr(x, "contains a NUL byte; not a text file");
			break;
		}
	}
	if (x->nerr == 0) {
		x->line = 0;
		int r = ini_parse_stream(string_reader, x, on_key, x);
		if (r > 0) {
			x->line = (unsigned)r;
			cerr(x, "syntax error; expected [section], key = value or a ; comment");
		}
		if (x->hosts_text) {
			/* the API's host reservations: only [host NAME] sections */
			const char *main_name = x->name;
			x->main_name = main_name;
			x->name = x->hosts_name;
			x->text = x->hosts_text;
			x->textlen = x->hosts_len;
			x->textpos = 0;
			x->line = 0;
			x->cur[0] = 0;
			x->kind = SECT_NONE;
			x->nseen = 0;
			x->hosts_only = true;
			r = ini_parse_stream(string_reader, x, on_key, x);
			if (r > 0) {
				x->line = (unsigned)r;
				cerr(x, "syntax error; expected [host NAME] or key = value");
			}
			x->hosts_only = false;
			x->name = main_name;
		}
		validate(x);
	}
	if (x->nerr) {
		conf_free(c);
		return NULL;
	}
	return c;
}

struct conf *conf_load_string(const char *text, const char *name, char *err, size_t errlen)
{
	struct ctx x = {.name = name, .err = err, .errlen = errlen, .text = text,
			.textlen = strlen(text)};
	if (err && errlen)
		err[0] = 0;
	return load(&x);
}

/* A whole small text file into a malloc'd NUL-terminated buffer. 0 or a negative errno. */
static int read_small_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char *buf = malloc(1u << 20);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	size_t n = fread(buf, 1, (1u << 20) - 1, f);
	bool bad = ferror(f) || !feof(f);
	fclose(f);
	if (bad) {
		free(buf);
		return -EFBIG;
	}
	buf[n] = 0;
	if (strlen(buf) != n) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*len = n;
	return 0;
}

struct conf *conf_load(const char *path, char *err, size_t errlen)
{
	struct ctx x = {.name = path, .err = err, .errlen = errlen};
	if (err && errlen)
		err[0] = 0;
	FILE *f = fopen(path, "re");
	if (!f) {
		cerr(&x, "cannot open: %s", strerror(errno));
		return NULL;
	}
	char *buf = NULL;
	size_t cap = 0, len = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			if (cap > (1u << 24)) {
				cerr(&x, "larger than 16 MiB; not a config file");
				free(buf);
				fclose(f);
				return NULL;
			}
			size_t n = cap ? cap * 2 : 8192;
			char *b = realloc(buf, n);
			if (!b) {
				free(buf);
				fclose(f);
				cerr(&x, "out of memory");
				return NULL;
			}
			buf = b;
			cap = n;
		}
		size_t r = fread(buf + len, 1, cap - len - 1, f);
		len += r;
		if (r == 0)
			break;
	}
	bool ioerr = ferror(f);
	fclose(f);
	if (ioerr) {
		free(buf);
		cerr(&x, "read error");
		return NULL;
	}
	buf[len] = 0;
	x.text = buf;
	x.textlen = len;
	/* <state>/hosts.conf: its name needs [server] state, so peek at the main file first */
	char *hosts = NULL;
	struct conf *peek = conf_load_string(buf, path, NULL, 0);
	if (peek) {
		snprintf(x.hosts_name, sizeof(x.hosts_name), "%s/%s", peek->state, CONF_STATE_HOSTS);
		conf_free(peek);
		size_t hlen = 0;
		int hr = read_small_file(x.hosts_name, &hosts, &hlen);
		if (hr == 0) {
			x.hosts_text = hosts;
			x.hosts_len = hlen;
		} else if (hr != -ENOENT) {
			cerr(&x, "cannot read %s: %s", x.hosts_name, strerror(-hr));
		}
	}
	struct conf *c = x.nerr ? NULL : load(&x);
	free(hosts);
	free(buf);
	return c;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	free(c->entries);
	free(c->hosts);
	free(c);
}

const char *conf_loader_name(const struct conf *c, enum conf_arch a)
{
	if ((unsigned)a >= CONF_ARCH_COUNT)
		return "";
	const char *p = c->loaders[a];
	if (p[0] != '/')
		return p; /* beneath root (or an http:// URL), served as written */
	const char *base = strrchr(p, '/');
	return base + 1;
}

const struct conf_entry *conf_entry_by_name(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->nentries; i++)
		if (!strcmp(c->entries[i].name, name))
			return &c->entries[i];
	return NULL;
}

const struct conf_host *conf_host_by_mac(const struct conf *c, const uint8_t mac[6])
{
	for (size_t i = 0; i < c->nhosts; i++)
		if (!memcmp(c->hosts[i].mac, mac, 6))
			return &c->hosts[i];
	return NULL;
}
