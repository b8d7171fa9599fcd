/*
 * conf — the configuration model, INI loading (libinih) and validation.
 *
 * conf_load() parses one file into a fresh struct conf, checks every key and value and
 * the cross-key rules, and on any problem returns NULL with every error (file:line: key:
 * what is accepted) appended to the error buffer. The running daemon swaps configs on
 * SIGHUP only after a new one loaded cleanly. Owns no sockets and does no other I/O.
 */
#ifndef PIXIED_CONF_CONF_H
#define PIXIED_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_IFACES 8
#define CONF_MAX_ADDRS 4   /* routers, dns, ntp servers per pool */
#define CONF_MAX_RANGES 8  /* ranges per pool */
#define CONF_MAX_POOLS 64
#define CONF_NAME_LEN 64
#define CONF_PATH_LEN 256
#define CONF_URL_LEN 512

enum conf_dhcp_mode { CONF_DHCP_OFF, CONF_DHCP_FULL, CONF_DHCP_PROXY };
enum conf_probe { CONF_PROBE_NONE, CONF_PROBE_PING, CONF_PROBE_ARP };

/* Loader architectures: the [loaders] keys. Index into conf_loaders.path[]. */
enum conf_arch {
	CONF_ARCH_BIOS,      /* 0 x86 BIOS */
	CONF_ARCH_EFI32,     /* 6 x86 UEFI (IA32) */
	CONF_ARCH_EFI64,     /* 7, 9 x64 UEFI (EDK2 sends 7) */
	CONF_ARCH_ARM32,     /* 10 ARM 32-bit UEFI */
	CONF_ARCH_ARM64,     /* 11 ARM 64-bit UEFI */
	CONF_ARCH_RISCV32,   /* 25 */
	CONF_ARCH_RISCV64,   /* 27 */
	CONF_ARCH_LOONGARCH64, /* 39 */
	/* UEFI HTTP Boot variants (option 60 "HTTPClient"): a URL, not a TFTP name */
	CONF_ARCH_EFI32_HTTP, /* 15 */
	CONF_ARCH_EFI64_HTTP, /* 16 */
	CONF_ARCH_ARM32_HTTP, /* 18 */
	CONF_ARCH_ARM64_HTTP, /* 19 */
	CONF_ARCH_BIOS_HTTP,  /* 20 */
	CONF_ARCH_RISCV64_HTTP, /* 28 */
	CONF_ARCH_COUNT
};
/* The [loaders] key for an arch ("bios", "efi64", "arm64-http", ...). */
const char *conf_arch_name(enum conf_arch a);

struct conf_range {
	uint32_t start, end; /* host order, inclusive */
};

/* A DHCP pool: the [dhcp] section's own (name "dhcp") or a [subnet NAME] section. */
struct conf_pool {
	char name[CONF_NAME_LEN];
	unsigned line;
	bool has_subnet;       /* subnet given; otherwise derived from an interface at start */
	uint32_t net, mask;    /* host order */
	struct conf_range ranges[CONF_MAX_RANGES];
	size_t nranges;
	uint32_t routers[CONF_MAX_ADDRS];
	size_t nrouters;
	uint32_t dns[CONF_MAX_ADDRS];
	size_t ndns;
	uint32_t ntp[CONF_MAX_ADDRS]; /* option 42 */
	size_t nntp;
	char domain[CONF_NAME_LEN * 2]; /* option 15, "" = none */
	uint64_t lease_time;  /* seconds, 0 = use [dhcp] lease-time */
};

struct conf_host {
	char name[CONF_NAME_LEN];
	unsigned line;
	uint8_t mac[6];
	bool has_ip;
	uint32_t ip;
	char hostname[CONF_NAME_LEN]; /* option 12; "" = the section name */
	char boot[CONF_NAME_LEN];     /* catalog entry (boot catalog issue); "" = none */
};

struct conf_dhcp {
	enum conf_dhcp_mode mode;          /* default proxy */
	uint64_t lease_time;               /* default 12h */
	uint64_t t1, t2;                   /* 0 = 50% / 87.5% of the lease */
	uint64_t decline_time;             /* quarantine after DECLINE, default 10m */
	uint64_t offer_time;               /* how long an OFFER holds an address, default 60s */
	enum conf_probe probe;             /* conflict probe before offering, default none */
	uint64_t probe_timeout_ms;         /* default 500 */
	bool authoritative;                /* NAK requests for addresses we do not know; default yes */
	bool sync_full;                    /* SQLite synchronous=FULL (default) or NORMAL */
	uint64_t max_offers;               /* pending offers kept in memory, default 4096 */
	bool no_proxydhcp_wait;            /* tell iPXE not to wait for ProxyDHCP (full mode), default yes */
};

struct conf_tftp {
	bool enabled;           /* default yes */
	uint32_t addrs[CONF_MAX_IFACES]; /* bind only these; none = all addresses of the interfaces */
	size_t naddrs;
	uint16_t port;          /* 69 */
	uint64_t blksize_max;   /* 0 = derive from MTU; else 8..65464 */
	uint64_t windowsize_max;/* default 64 */
	uint64_t retries;       /* default 6 */
	uint64_t timeout_ms;    /* default 1000 */
	uint64_t max_transfers; /* default 512 */
	uint64_t max_per_client;/* default 16 */
	bool single_port;       /* replies from port 69; default no */
	char write_dir[CONF_PATH_LEN]; /* "" = writes refused */
};

struct conf_http {
	bool enabled;           /* default yes */
	uint32_t addrs[CONF_MAX_IFACES];
	size_t naddrs;
	uint16_t port;          /* 80 */
};

struct conf {
	char path[CONF_PATH_LEN]; /* the file this came from */
	/* [server] */
	char ifaces[CONF_MAX_IFACES][CONF_NAME_LEN];
	size_t nifaces;
	char root[CONF_PATH_LEN];  /* default /srv/pixied */
	char state[CONF_PATH_LEN]; /* default /var/lib/pixied */
	char user[CONF_NAME_LEN];  /* default pixied; "" or "root" = do not drop */
	/* [dhcp] + [subnet NAME] */
	struct conf_dhcp dhcp;
	struct conf_pool pools[CONF_MAX_POOLS];
	size_t npools;
	/* [host NAME] */
	struct conf_host *hosts;
	size_t nhosts;
	/* [loaders]: absolute path (served under its basename) or a path beneath root;
	 * the HTTP variants may also be a full http:// URL. "" = none for that arch. */
	char loaders[CONF_ARCH_COUNT][CONF_PATH_LEN];
	struct conf_tftp tftp;
	struct conf_http http;
};

/*
 * Load and validate `path`. On success returns a new config (free with conf_free) and
 * leaves err untouched; on failure returns NULL and writes one line per problem into err
 * (always NUL-terminated, truncated if long).
 */
struct conf *conf_load(const char *path, char *err, size_t errlen);
/* Load from a string (tests, fuzzing); `name` is used in error messages. */
struct conf *conf_load_string(const char *text, const char *name, char *err, size_t errlen);
void conf_free(struct conf *c);

/* The name a loader is served under (its basename for absolute paths). */
const char *conf_loader_name(const struct conf *c, enum conf_arch a);

/* Find a host by MAC, NULL if none. */
const struct conf_host *conf_host_by_mac(const struct conf *c, const uint8_t mac[6]);

#endif
