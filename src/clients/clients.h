/*
 * clients — one record per MAC address pixied hears from, with a bounded timeline of what
 * happened to it (DHCP, TFTP, HTTP, the boot choice), its boot status and, when a boot
 * stalls, a diagnosis in plain words. The read side (get, iterate, JSON, change
 * notifications) is what the API, the UI, the SSE stream and the metrics build on.
 *
 * Owns: the records in memory (hash by MAC, index by IP for TFTP/HTTP events that carry only
 * an address, LRU list bounding how many are held), each record's timeline ring, the boot
 * status machine and its stall/booted rules, the persisted form of a record (an opaque,
 * versioned blob in the store's `clients` table: every field of struct clients_record and
 * its last `persist_events` timeline events), the JSON text of records and events, and the
 * subscriber list.
 * Does not own: the wire (dhcp/, tftp/, http/ hand over facts they already parsed), the boot
 * choice itself (boot/ tells us), the one-shot next boot (read from the store when a record
 * is read; boot/ and the API write it), SQL (store/), transactions of other modules, HTTP
 * routes, metrics exposition.
 *
 * Time: every `now_ms` is wall-clock Unix time in milliseconds (clients_time_ms()), because
 * records outlive the process and the UI shows these times. A clock stepping backwards only
 * delays stall and booted marks.
 * Single-threaded like the rest of pixied. Everything a client sent is kept as printable
 * ASCII (other bytes dropped) and escaped again by the JSON writers.
 */
#ifndef PIXIED_CLIENTS_CLIENTS_H
#define PIXIED_CLIENTS_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp/dhcp_pxe.h"

struct clients;
struct store;

/* ---- limits ---------------------------------------------------------------------------- */

/* Zero in any field selects its default. */
struct clients_limits {
	size_t max_clients;    /* records held in memory, LRU by last seen; default 2048 */
	size_t timeline_len;   /* events kept per record in memory; default 48, at most 1024 */
	size_t persist_events; /* newest events stored with a record; default 24, <= timeline_len */
	size_t store_keep;     /* rows kept in the store (oldest pruned); default 50000 */
	uint64_t stall_ms;     /* no progress for this long while booting = stalled; 60000 */
	uint64_t booted_quiet_ms; /* no expected files: quiet this long after a kernel/initrd/ISO
				   * was served = booted; default 10000 */
	uint64_t flush_ms;        /* longest a change waits for a write of its own; default 1000 */
};

/* ---- the model ------------------------------------------------------------------------- */

enum clients_status {
	CLIENTS_ST_WAITING_DHCP = 0, /* a boot attempt began; no boot file handed out yet */
	CLIENTS_ST_WAITING_LOADER,   /* has a boot file (loader) to fetch; not fetched yet */
	CLIENTS_ST_WAITING_SCRIPT,   /* loader served, or iPXE given its script URL */
	CLIENTS_ST_BOOTING,          /* script/config served; fetching kernel, initrd, ISO */
	CLIENTS_ST_BOOTED,           /* its last boot file was served (see clients_expect_files) */
	CLIENTS_ST_STALLED,          /* no progress for stall_ms: see `diagnosis` */
	CLIENTS_ST_ONLINE,           /* a plain DHCP client (not PXE, HTTP Boot or iPXE) */
	CLIENTS_ST_COUNT
};
/* "waiting-for-dhcp", "waiting-for-loader", "waiting-for-script", "booting", "booted",
 * "stalled", "online"; "?" out of range. */
const char *clients_status_name(enum clients_status s);

enum clients_event_kind {
	CLIENTS_EV_DHCP_DISCOVER = 0,
	CLIENTS_EV_DHCP_OFFER,
	CLIENTS_EV_DHCP_REQUEST,
	CLIENTS_EV_DHCP_ACK,
	CLIENTS_EV_DHCP_NAK,
	CLIENTS_EV_DHCP_INFORM,
	CLIENTS_EV_DHCP_RELEASE,
	CLIENTS_EV_DHCP_DECLINE,
	CLIENTS_EV_BOOTP_REQUEST,
	CLIENTS_EV_BOOTP_REPLY,
	CLIENTS_EV_TFTP_START,
	CLIENTS_EV_TFTP_END,   /* ended: ok, or a harmless abort (PXE tsize probe) */
	CLIENTS_EV_TFTP_ERROR, /* refused or failed */
	CLIENTS_EV_HTTP_LOADER,
	CLIENTS_EV_HTTP_SCRIPT,
	CLIENTS_EV_HTTP_KERNEL,
	CLIENTS_EV_HTTP_INITRD,
	CLIENTS_EV_HTTP_ISO,
	CLIENTS_EV_HTTP_FILE,
	CLIENTS_EV_BOOT_CHOICE, /* boot/ resolved an entry for it */
	CLIENTS_EV_BOOTED,      /* duration_ms = time from the attempt's first DISCOVER */
	CLIENTS_EV_STALLED,     /* detail = the diagnosis (cut to fit) */
	CLIENTS_EV_ADMIN,       /* an admin action (API): detail says what */
	CLIENTS_EV_UPDATE,      /* notification only, never in a timeline: the record changed
				 * without an event (e.g. its next boot was set) */
	CLIENTS_EV_COUNT
};
/* "dhcp-discover", ..., "tftp-start", "tftp-end", "tftp-error", "http-loader",
 * "http-script", "http-kernel", "http-initrd", "http-iso", "http-file", "boot-choice",
 * "booted", "stalled", "admin", "update"; "?" out of range. */
const char *clients_event_name(enum clients_event_kind k);

#define CLIENTS_DETAIL_LEN   96
#define CLIENTS_HOSTNAME_LEN 64
#define CLIENTS_VCLASS_LEN   128
#define CLIENTS_FILE_LEN     128
#define CLIENTS_NAME_LEN     128
#define CLIENTS_RULE_LEN     16
#define CLIENTS_DIAG_LEN     256

struct clients_event {
	uint8_t mac[6];
	int64_t time_ms;
	enum clients_event_kind kind;
	enum clients_status status;      /* the record's status right after this event */
	uint32_t ip;                     /* address involved, host order; 0 = none */
	uint64_t bytes;                  /* transfers; 0 otherwise */
	uint64_t duration_ms;            /* transfers and "booted"; 0 otherwise */
	char detail[CLIENTS_DETAIL_LEN]; /* short words, printable ASCII */
};

/* Plain data, every string NUL-terminated printable ASCII, "" when unknown. */
struct clients_record {
	uint8_t mac[6];
	int64_t first_seen_ms, last_seen_ms;
	uint32_t ip;                         /* last address known for it (host order), 0 = none */
	char hostname[CLIENTS_HOSTNAME_LEN]; /* option 12 as sent, printable ASCII only */
	bool has_arch;
	uint16_t arch_code; /* option 93 */
	char arch_name[DHCP_PXE_ARCH_NAME_LEN];
	char vendor_class[CLIENTS_VCLASS_LEN]; /* option 60 */
	bool is_pxe, is_http, is_ipxe; /* last request: PXEClient, HTTPClient, iPXE user class */
	bool has_uuid;
	uint8_t uuid[16];                 /* option 97 */
	char loader[CLIENTS_FILE_LEN];    /* last boot file handed to its firmware (not iPXE) */
	char script[CLIENTS_FILE_LEN];    /* last boot file (script URL) handed to its iPXE */
	char entry[CLIENTS_NAME_LEN];     /* entry boot/ chose ("" = menu or unknown) */
	char rule[CLIENTS_RULE_LEN];      /* "menu", "host rule", "next boot" ("" = none yet) */
	char host[CLIENTS_NAME_LEN];      /* [host NAME] of this MAC as boot/ reported it */
	char next_boot[CLIENTS_NAME_LEN]; /* one-shot next boot in the store (filled on read) */
	char pinned[CLIENTS_NAME_LEN];    /* permanent entry set by the API (store_pin_get, filled
					   * on read) */
	char iface[16];                   /* interface it was last heard on, "" = unknown */
	enum clients_status status;
	enum clients_status stalled_in;   /* when STALLED: the status it stalled in */
	char diagnosis[CLIENTS_DIAG_LEN]; /* while STALLED ("" otherwise; the timeline keeps it) */
	int64_t status_since_ms;
	int64_t attempt_start_ms; /* first DISCOVER of the current boot attempt, 0 = none */
	uint32_t boots;           /* "booted" marks ever */
	uint64_t last_boot_ms;    /* duration of the last attempt that booted */
};

/* ---- lifetime -------------------------------------------------------------------------- */

/*
 * A registry persisting through st (NULL: memory only, nothing survives eviction). lim may
 * be NULL (defaults). Loads up to max_clients of the most recently seen records from the
 * store so the dashboard and the stall timer carry on after a restart. NULL on ENOMEM.
 */
struct clients *clients_new(struct store *st, const struct clients_limits *lim);
/* Writes what is pending (own transaction unless one is open), then frees. NULL is fine. */
void clients_free(struct clients *c);

/* Wall-clock milliseconds (CLOCK_REALTIME): the `now_ms` every other call takes. */
int64_t clients_time_ms(void);

/* ---- inputs (event sources) ------------------------------------------------------------ */

/*
 * One DHCP/BOOTP request and pixied's decision about it. Creates the record. A PXE or HTTP
 * Boot DISCOVER (or a BOOTP request) begins a new boot attempt unless one is waiting for
 * DHCP; an iPXE DISCOVER begins one unless a loader or script is under way. Timeline: the
 * request, then the reply when there is one.
 */
struct clients_dhcp {
	const struct dhcp_pxe_facts *facts; /* required; facts->has_mac else -EINVAL */
	uint8_t msg_type;         /* the request: DHCPDISCOVER..DHCPINFORM, DHCP_NONE = BOOTP */
	bool replied;             /* a reply is going out */
	uint8_t reply_type;       /* DHCPOFFER/ACK/NAK, DHCP_NONE = BOOTREPLY (when replied) */
	uint32_t yiaddr;          /* the reply's yiaddr (0 in proxy replies) */
	uint32_t ciaddr;          /* the request's ciaddr */
	uint32_t requested_ip;    /* the request's option 50, 0 = absent */
	const char *boot_file;    /* file/URL handed out, NULL = none */
	const char *no_boot_why;  /* why a boot client got no file (tx->boot_reason), or NULL */
	const char *no_reply_why; /* why there is no reply (dhcp_server_handle's *why), or NULL */
	const uint8_t *hostname;  /* option 12 as received (raw bytes), NULL = absent */
	size_t hostname_len;
	uint16_t local_port; /* 67 or 4011 */
	const char *iface;   /* interface it came in on (for Wake-on-LAN), NULL = unknown */
};
int clients_on_dhcp(struct clients *c, const struct clients_dhcp *d, int64_t now_ms);

enum clients_xfer {
	CLIENTS_XFER_START,   /* a transfer began */
	CLIENTS_XFER_END,     /* it ended (ok or not) */
	CLIENTS_XFER_REFUSED, /* refused with an ERROR, no transfer */
};

/*
 * A TFTP event (IPv4 only). The client is found by address: the record that last got or
 * claimed that address (DHCP offer/ack, ciaddr, option 50, boot choice), else the lease in
 * the store. Returns 0, -ENOENT when no client has that address (counted in stats), or
 * -EINVAL.
 */
struct clients_tftp {
	enum clients_xfer what;
	uint32_t ip;          /* client address, host order */
	const char *path;     /* file as requested (raw), may be NULL */
	uint64_t size;        /* file size (START, END), 0 = unknown */
	uint64_t bytes;       /* acknowledged (END) */
	uint64_t duration_ms; /* END */
	bool ok;              /* END: the whole file went through */
	const char *reason;   /* END/REFUSED: tftp's words ("timeout", "not-found", ...) */
};
int clients_on_tftp(struct clients *c, const struct clients_tftp *t, int64_t now_ms);

/*
 * One finished HTTP request (the access-log point). Only GET counts toward progress; other
 * methods are ignored (returns 0). The client is found by mac when given (the script's
 * ?mac=), else by address as for TFTP. Requests from a client that is not booting (status
 * "online") are ignored, so an admin's browser does not fill its own timeline.
 */
struct clients_http {
	uint32_t ip;        /* client address (host order), 0 = IPv6/unknown */
	const uint8_t *mac; /* from the request (e.g. ?mac=), NULL = unknown */
	const char *method; /* "GET", ... (NULL = GET) */
	const char *path;   /* decoded path, as served; may carry a query */
	int status;         /* HTTP status sent */
	uint64_t bytes;     /* body bytes the client took */
	uint64_t duration_ms;
	bool complete; /* the response went out whole (MHD COMPLETED_OK) */
};
int clients_on_http(struct clients *c, const struct clients_http *h, int64_t now_ms);

/*
 * boot/ chose what mac boots: entry ("" or NULL = the menu), rule (boot_rule_name()), host
 * ([host NAME] matching mac, NULL = none), ip (the requester's address, 0 = unknown; it is
 * mapped to mac for later TFTP/HTTP events). Creates the record when needed.
 */
int clients_on_boot_choice(struct clients *c, const uint8_t mac[6], uint32_t ip, const char *entry,
			   const char *rule, const char *host, int64_t now_ms);

/* What a file is, for clients_expect_files and the timeline's http-* kinds. */
enum clients_file_kind {
	CLIENTS_FILE_AUTO = 0, /* guess from the name */
	CLIENTS_FILE_LOADER,
	CLIENTS_FILE_SCRIPT,
	CLIENTS_FILE_KERNEL,
	CLIENTS_FILE_INITRD,
	CLIENTS_FILE_ISO,
	CLIENTS_FILE_OTHER,
};

/*
 * The files the script just rendered for mac will fetch, in order (paths beneath the root,
 * or http(s):// URLs: scheme, host and query are ignored when matching). kinds may be NULL
 * (guess from names). The client is "booted" when the last one is fully served (HTTP 200
 * complete, or a TFTP transfer ending ok); for an ISO, when its reads go quiet. n == 0
 * declares "nothing to fetch" (local boot, shell, reboot): booted once the script is
 * served. At most CLIENTS_EXPECT_MAX are kept (the last one always). Replaces earlier
 * expectations; a new boot attempt clears them. -ENOENT for an unknown mac.
 */
#define CLIENTS_EXPECT_MAX 10
int clients_expect_files(struct clients *c, const uint8_t mac[6], const char *const *paths,
			 const enum clients_file_kind *kinds, size_t n);

/* An admin action for mac's timeline (API: "next boot set to debian by admin"). */
int clients_on_admin(struct clients *c, const uint8_t mac[6], const char *detail, int64_t now_ms);

/* The record changed outside an event (next boot set or cleared): notify subscribers with
 * CLIENTS_EV_UPDATE. -ENOENT when mac has no record. */
int clients_changed(struct clients *c, const uint8_t mac[6], int64_t now_ms);

/*
 * The 1 s timer: marks stalls (diagnosis + a "stalled" event) and quiet boots as booted, and
 * writes records whose change has waited flush_ms. Returns the number of records changed.
 */
size_t clients_tick(struct clients *c, int64_t now_ms);

/* ---- persistence ----------------------------------------------------------------------- */

/*
 * Write changed records and evicted ones not yet written, in batches: only when force is
 * set, the oldest change has waited flush_ms, or many evicted records are pending. Then, if
 * a store transaction is open (the DHCP service's, in this turn) the writes join it and its
 * commit makes them durable; otherwise clients begins and commits its own. Never leaves a
 * transaction open of its own. Prunes the table to store_keep rows
 * now and then. Returns the number of records written or a negative errno (they stay
 * pending and are tried again).
 */
int clients_flush(struct clients *c, int64_t now_ms, bool force);
/* loop_on_turn_end hook: clients_flush(arg, clients_time_ms(), false). Register it BEFORE
 * the DHCP service's hook (i.e. create clients before dhcp_service_new) so that a due batch
 * in a turn with lease writes rides the same commit. */
void clients_turn_end(void *arg);

/* ---- reading --------------------------------------------------------------------------- */

/*
 * One record with its timeline (oldest first) copied into tl (up to tl_cap; *tl_n set; tl
 * may be NULL with tl_cap 0). Looks in memory, then the store (then the timeline holds the
 * persisted events only). Returns 1, 0 when unknown, or a negative errno.
 */
int clients_get(struct clients *c, const uint8_t mac[6], struct clients_record *out,
		struct clients_event *tl, size_t tl_cap, size_t *tl_n);

/*
 * Every record, most recently seen first: those in memory and those only in the store (it
 * flushes first). fn returns non-zero to stop (returned). fn must not call clients_on_*,
 * clients_flush or clients_free. Returns 0, fn's value, or a negative errno.
 */
typedef int (*clients_each_fn)(void *arg, const struct clients_record *r);
int clients_each(struct clients *c, clients_each_fn fn, void *arg);

/* ---- change notifications (SSE) -------------------------------------------------------- */

/*
 * fn is called after every event is recorded (ev->mac, ev->kind, ev->status), including
 * CLIENTS_EV_UPDATE. It may read (clients_get, the JSON writers) but must not record events.
 * At most CLIENTS_SUBSCRIBERS_MAX; -ENOSPC when full, -EEXIST for the same fn+arg twice.
 */
#define CLIENTS_SUBSCRIBERS_MAX 8
typedef void (*clients_notify_fn)(void *arg, const struct clients_event *ev);
int clients_subscribe(struct clients *c, clients_notify_fn fn, void *arg);
void clients_unsubscribe(struct clients *c, clients_notify_fn fn, void *arg);

/* ---- JSON ------------------------------------------------------------------------------ */

/*
 * JSON text into buf (always NUL-terminated when cap > 0). Returns the length without the
 * NUL, or -ENOSPC when it does not fit (buf then holds ""). Strings are escaped so the text
 * is plain ASCII and safe inside HTML too: `"` `\` and bytes below 0x20 or above 0x7e as
 * \uXXXX or \n-style escapes, and `<` `>` `&` `'` as \u003c \u003e \u0026 \u0027.
 *
 * Event: {"mac":"aa:..","time":ms,"kind":"dhcp-ack","status":"waiting-for-loader",
 *         "ip":"10.0.0.5"|null,"bytes":n,"duration_ms":n,"detail":"..."}
 * Record: {"mac","first_seen","last_seen","ip"|null,"hostname","arch":{"code","name"}|null,
 *          "vendor_class","pxe","http_boot","ipxe","uuid"|null,"loader","script","entry",
 *          "rule","host","next_boot","pinned","iface","status","stalled_in"|null,"diagnosis",
 *          "status_since","attempt_start"|null,"boots","last_boot_ms",
 *          "timeline":[events...]}   ("timeline" only when tl is not NULL)
 */
/* Room that always holds one event's JSON and its NUL (every detail byte escaped). */
#define CLIENTS_EVENT_JSON_MAX 1024
int clients_event_json(const struct clients_event *ev, char *buf, size_t cap);
int clients_record_json(const struct clients_record *r, const struct clients_event *tl, size_t ntl,
			char *buf, size_t cap);
/* One record with its whole timeline as JSON, malloc'd into *out (NUL-terminated; free it):
 * what GET /api/v1/clients/<mac> answers. 0, -ENOENT for an unknown mac, or -ENOMEM. */
int clients_record_json_alloc(struct clients *c, const uint8_t mac[6], char **out, size_t *len);
/* The JSON array of every record (clients_each order, no timelines), malloc'd into *out
 * (NUL-terminated; free it). 0 or a negative errno. */
int clients_list_json(struct clients *c, char **out, size_t *len);

/* ---- counters (metrics) ---------------------------------------------------------------- */

struct clients_stats {
	uint64_t in_memory;    /* gauge */
	uint64_t created;      /* records first seen by this process (not reloaded) */
	uint64_t evicted;      /* LRU evictions */
	uint64_t events;       /* timeline events recorded */
	uint64_t unmatched;    /* TFTP/HTTP events whose address matched no client */
	uint64_t booted;       /* "booted" marks */
	uint64_t stalled;      /* "stalled" marks */
	uint64_t written;      /* records written to the store */
	uint64_t store_errors; /* failed writes/reads */
	uint64_t by_status[CLIENTS_ST_COUNT]; /* gauge: records in memory per status */
};
void clients_stats(const struct clients *c, struct clients_stats *out);

/* ---- for tests and the fuzzer ---------------------------------------------------------- */

/* Encode a record and its newest `persist_events` events as stored (0 < returned length);
 * -ENOSPC when cap is too small. */
int clients_blob_encode(const struct clients_record *r, const struct clients_event *tl, size_t n,
			uint8_t *buf, size_t cap);
/* Decode a stored blob (untrusted: every field checked, strings made printable). mac is
 * not in the blob: out->mac is left as the caller set it. Returns 0 (also for a truncated
 * blob: what was readable is kept) or -EPROTO for an unknown version. */
int clients_blob_decode(const uint8_t *blob, size_t len, struct clients_record *out,
			struct clients_event *tl, size_t tl_cap, size_t *tl_n);
/* Keep printable ASCII of src[0..n) up to the first NUL, at most dstlen - 1 bytes. */
size_t clients_sanitize(char *dst, size_t dstlen, const void *src, size_t n);

#endif
