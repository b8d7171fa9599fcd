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
	bool from_state;              /* read from <state>/hosts.conf (written by the API) */
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
	char pxelinux_configfile[CONF_PATH_LEN]; /* option 209 to PXELINUX clients, "" = not sent */
	char pxelinux_pathprefix[CONF_PATH_LEN]; /* option 210, "" = not sent */
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
	uint64_t max_connections;  /* default 1024 */
	uint64_t max_per_client;   /* connections per client address, default 64 */
	uint64_t header_max;       /* bytes of request line + headers, default 8192 */
	uint64_t timeout_ms;       /* idle/header timeout, default 30 s */
	uint64_t min_rate;         /* bytes/s a transfer must keep up after the first timeout, default 1024 */
	bool access_log;           /* one line per request, default yes */
};

/* [api]: the JSON API, the web UI and /metrics, served by the HTTP server. */
#define CONF_HOSTNAMES_LEN 512
struct conf_api {
	bool enabled;                    /* default yes */
	uint32_t addrs[CONF_MAX_IFACES]; /* own listeners on these addresses; none = see port */
	size_t naddrs;
	uint16_t port;                   /* 0 (default) = the [http] listeners serve the API too;
					  * else own listeners on this port (on addrs, or on the
					  * [http] addresses/interfaces) and the [http] ones do not */
	char password_hash[256];         /* "" = generated at first start ($state/api-password) */
	bool metrics_auth;               /* /metrics needs a login or token; default no */
	char host_names[CONF_HOSTNAMES_LEN]; /* names accepted in Host besides our addresses,
					      * space-separated; "" = addresses only */
	uint64_t session_timeout;        /* seconds of inactivity; default 12h */
};

/* ---- the boot catalog: [entry NAME] and [menu] ---- */

enum conf_entry_kind {
	CONF_ENTRY_LINUX,   /* kernel + initrd list + args */
	CONF_ENTRY_CHAIN,   /* chain to a file or URL, per architecture */
	CONF_ENTRY_SANBOOT, /* ISO or disk image over HTTP */
	CONF_ENTRY_MEMDISK, /* BIOS ISO through syslinux's memdisk */
	CONF_ENTRY_LOCAL,   /* boot the next local device */
	CONF_ENTRY_SHELL,   /* iPXE shell */
	CONF_ENTRY_REBOOT,
};
const char *conf_entry_kind_name(enum conf_entry_kind k);

/* Architecture families an entry may be limited to (bit per family; 0 = all). */
enum conf_arch_family {
	CONF_FAM_BIOS = 1u << 0,
	CONF_FAM_EFI32 = 1u << 1,
	CONF_FAM_EFI64 = 1u << 2,
	CONF_FAM_ARM32 = 1u << 3,
	CONF_FAM_ARM64 = 1u << 4,
	CONF_FAM_RISCV32 = 1u << 5,
	CONF_FAM_RISCV64 = 1u << 6,
	CONF_FAM_LOONGARCH64 = 1u << 7,
};
/* The family of a loader arch (HTTP variants map to their plain family). */
unsigned conf_arch_family(enum conf_arch a);
/* Family names as written in `arch = ...`: bios, efi32, efi64, arm32, arm64, riscv32, riscv64, loongarch64. */
const char *conf_family_name(unsigned family_bit);

#define CONF_MAX_INITRDS 8
#define CONF_ARGS_LEN 2048

struct conf_entry {
	char name[CONF_NAME_LEN];
	unsigned line;
	enum conf_entry_kind kind;
	char label[128];                 /* menu text; default: the name */
	unsigned archs;                  /* CONF_FAM_* bits; 0 = every architecture */
	/* linux */
	char kernel[CONF_URL_LEN];       /* path beneath root or http:// URL; ${var} allowed */
	char initrd[CONF_MAX_INITRDS][CONF_URL_LEN];
	size_t ninitrd;
	char args[CONF_ARGS_LEN];        /* kernel command line; ${var} allowed */
	/* chain: `file` for every arch, `file-<family>` per family (wins over `file`) */
	char chain[CONF_URL_LEN];
	char chain_fam[8][CONF_URL_LEN]; /* index = bit number of the family */
	/* sanboot, memdisk */
	char image[CONF_URL_LEN];
};

struct conf_menu {
	bool present;
	unsigned line;
	char title[128];                 /* default "pixied boot menu" */
	char default_entry[CONF_NAME_LEN]; /* "" = the first entry */
	uint64_t timeout_ms;             /* default 10 s; 0 = wait for a choice */
	char iso_dir[CONF_PATH_LEN];     /* beneath root; every *.iso there becomes a sanboot entry */
};

struct conf {
	char path[CONF_PATH_LEN]; /* the file this came from */
	/* [server] */
	char ifaces[CONF_MAX_IFACES][CONF_NAME_LEN];
	size_t nifaces;
	char root[CONF_PATH_LEN];  /* default /srv/pixied */
	char state[CONF_PATH_LEN]; /* default /var/lib/pixied */
	char user[CONF_NAME_LEN];  /* default pixied; "" or "root" = do not drop */
	bool ipv6_ra;              /* answer IPv6 router solicitations with a "no router here"
				    * advertisement (no prefix, lifetime 0); default no */
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
	struct conf_api api;
	/* [entry NAME] in file order, and [menu] */
	struct conf_entry *entries;
	size_t nentries;
	struct conf_menu menu;
};

/* The file the API keeps its host reservations in: <state>/hosts.conf. conf_load reads it
 * after `path` (only [host NAME] sections are accepted there; hosts get from_state). */
#define CONF_STATE_HOSTS "hosts.conf"

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

/* Find an entry by name, NULL if none. */
const struct conf_entry *conf_entry_by_name(const struct conf *c, const char *name);

/* Find a host by MAC, NULL if none. */
const struct conf_host *conf_host_by_mac(const struct conf *c, const uint8_t mac[6]);

#endif
