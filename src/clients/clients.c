/*
 * clients — see clients.h. This file owns the in-memory registry (hash by MAC, index by IP,
 * LRU list), the boot status machine, the stall/booted rules and diagnoses, the persisted
 * blob, the JSON writers and the subscriber list. It does no I/O except through store/.
 *
 * The status machine, per boot attempt (phases only move forward within an attempt):
 *   waiting-for-dhcp --(boot file handed to firmware)--> waiting-for-loader
 *   waiting-for-loader --(loader fully served)--> waiting-for-script
 *   waiting-for-dhcp --(script URL handed to iPXE)--> waiting-for-script
 *   waiting-for-script --(script/config served)--> booting
 *   booting --(last expected file served | quiet after kernel/initrd/ISO | the booted OS
 *              asks for an address)--> booted
 *   any of the waiting/booting phases --(no progress for stall_ms)--> stalled (+ diagnosis);
 *   progress leaves stalled again. A firmware (PXE / HTTP Boot) DISCOVER starts a new
 *   attempt unless one is still waiting for DHCP; an iPXE DISCOVER unless a loader or script
 *   is under way. Plain DHCP clients are "online" and never enter the machine.
 */
#include "clients/clients.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cursor.h"
#include "core/log.h"
#include "core/util.h"
#include "core/writer.h"
#include "store/store.h"

#define MOD "clients"

#define DEF_MAX_CLIENTS    2048
#define DEF_TIMELINE       48
#define MAX_TIMELINE       1024
#define DEF_PERSIST_EVENTS 24
#define DEF_STORE_KEEP     50000
#define DEF_STALL_MS       60000
#define DEF_QUIET_MS       10000
#define DEF_FLUSH_MS       1000
#define PENDING_MAX        2048 /* evicted records waiting to be written (a few MB at most) */
#define TL_INITIAL         8 /* a timeline ring starts this small and doubles up to timeline_len */
#define PRUNE_EVERY        1024 /* record writes between two prunes of the table, at least;
				* and at least store_keep / 8 */
#define BLOB_VERSION       2    /* 2 added T_PINNED and T_IFACE */
#define BLOB_VERSION_MIN   1    /* oldest version still read */

/* ---- per-record state ------------------------------------------------------------------ */

struct expect {
	size_t n;
	char path[CLIENTS_EXPECT_MAX][CLIENTS_FILE_LEN]; /* normalised */
	enum clients_file_kind kind[CLIENTS_EXPECT_MAX];
	bool done[CLIENTS_EXPECT_MAX];
};

/* What happened in the current boot attempt: the facts the diagnosis is made of. */
struct attempt {
	bool active;
	bool restored;       /* read back after a restart: the details below are gone */
	int64_t progress_ms; /* last event that moved it on */
	uint32_t discovers;
	bool offered, acked, naked, no_file;
	uint32_t offered_ip;
	bool loader_started, loader_done, transfer_open;
	bool ipxe_dhcp_after_loader, script_given, script_requested, script_done;
	bool files_after_script;
	bool quiet_candidate; /* no expectations: a kernel/initrd was served */
	int64_t iso_first_ms; /* first good read of the ISO being booted, 0 = none */
	bool expect_declared; /* clients_expect_files was called for this attempt */
	char no_file_why[DHCP_PXE_REASON_LEN];
	char no_reply_why[64];
	char last_error[160];
	char mismatch[200];
	char open_path[64]; /* a transfer that started and has not ended */
	char last_path[64]; /* the last file served */
};

struct rec {
	struct clients_record r;
	struct rec *hnext; /* MAC hash chain */
	struct rec *inext; /* IP index chain (when ip_indexed) */
	bool ip_indexed;
	uint32_t ip_key;          /* the address it is indexed under */
	int64_t ip_time_ms;       /* when it claimed that address */
	struct rec *prev, *next;  /* LRU: head = most recently seen */
	struct clients_event *tl; /* ring */
	size_t tl_cap, tl_first, tl_n;
	struct attempt a;
	struct expect *ex; /* NULL = none declared */
	enum clients_status phase;
	bool stalled;
	bool dirty;
	bool stored; /* a version of it is in the store */
};

struct pending {
	uint64_t key; /* mac as a number: the list is scanned for every new MAC */
	uint8_t mac[6];
	int64_t first_seen_ms, last_seen_ms;
	uint8_t *blob;
	size_t len;
};

struct sub {
	clients_notify_fn fn;
	void *arg;
};

struct clients {
	struct store *st;
	struct clients_limits lim;
	struct rec **buckets;  /* by MAC */
	struct rec **ibuckets; /* by IP */
	size_t nbuckets;       /* power of two */
	struct rec *head, *tail;
	size_t count;
	struct rec **dirty; /* records changed since the last write */
	size_t ndirty, dirty_cap;
	int64_t oldest_dirty_ms;
	struct pending pend[PENDING_MAX];
	size_t npend;
	size_t writes_since_prune;
	struct sub subs[CLIENTS_SUBSCRIBERS_MAX];
	size_t nsubs;
	bool notifying;
	bool marking; /* the timer is marking: not the client being seen */
	struct clients_stats st_;
	uint8_t blob[STORE_CLIENT_DATA_MAX]; /* scratch for encode / store reads */
};

static struct log_ratelimit rl_store = LOG_RATELIMIT_INIT(5000);

/* ---- names ----------------------------------------------------------------------------- */

const char *clients_status_name(enum clients_status s)
{
	static const char *const names[] = {
	    [CLIENTS_ST_WAITING_DHCP] = "waiting-for-dhcp",
	    [CLIENTS_ST_WAITING_LOADER] = "waiting-for-loader",
	    [CLIENTS_ST_WAITING_SCRIPT] = "waiting-for-script",
	    [CLIENTS_ST_BOOTING] = "booting",
	    [CLIENTS_ST_BOOTED] = "booted",
	    [CLIENTS_ST_STALLED] = "stalled",
	    [CLIENTS_ST_ONLINE] = "online",
	};
	return (unsigned)s < ARRAY_SIZE(names) && names[s] ? names[s] : "?";
}

const char *clients_event_name(enum clients_event_kind k)
{
	static const char *const names[] = {
	    [CLIENTS_EV_DHCP_DISCOVER] = "dhcp-discover",
	    [CLIENTS_EV_DHCP_OFFER] = "dhcp-offer",
	    [CLIENTS_EV_DHCP_REQUEST] = "dhcp-request",
	    [CLIENTS_EV_DHCP_ACK] = "dhcp-ack",
	    [CLIENTS_EV_DHCP_NAK] = "dhcp-nak",
	    [CLIENTS_EV_DHCP_INFORM] = "dhcp-inform",
	    [CLIENTS_EV_DHCP_RELEASE] = "dhcp-release",
	    [CLIENTS_EV_DHCP_DECLINE] = "dhcp-decline",
	    [CLIENTS_EV_BOOTP_REQUEST] = "bootp-request",
	    [CLIENTS_EV_BOOTP_REPLY] = "bootp-reply",
	    [CLIENTS_EV_TFTP_START] = "tftp-start",
	    [CLIENTS_EV_TFTP_END] = "tftp-end",
	    [CLIENTS_EV_TFTP_ERROR] = "tftp-error",
	    [CLIENTS_EV_HTTP_LOADER] = "http-loader",
	    [CLIENTS_EV_HTTP_SCRIPT] = "http-script",
	    [CLIENTS_EV_HTTP_KERNEL] = "http-kernel",
	    [CLIENTS_EV_HTTP_INITRD] = "http-initrd",
	    [CLIENTS_EV_HTTP_ISO] = "http-iso",
	    [CLIENTS_EV_HTTP_FILE] = "http-file",
	    [CLIENTS_EV_BOOT_CHOICE] = "boot-choice",
	    [CLIENTS_EV_BOOTED] = "booted",
	    [CLIENTS_EV_STALLED] = "stalled",
	    [CLIENTS_EV_ADMIN] = "admin",
	    [CLIENTS_EV_UPDATE] = "update",
	};
	return (unsigned)k < ARRAY_SIZE(names) && names[k] ? names[k] : "?";
}

/* ---- small helpers --------------------------------------------------------------------- */

int64_t clients_time_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t clients_sanitize(char *dst, size_t dstlen, const void *src, size_t n)
{
	if (!dst || dstlen == 0)
		return 0;
	const unsigned char *p = src;
	size_t o = 0;
	for (size_t i = 0; p && i < n && o + 1 < dstlen; i++) {
		if (p[i] == 0)
			break; /* some clients NUL-terminate option 12 */
		if (p[i] >= 0x20 && p[i] <= 0x7e)
			dst[o++] = (char)p[i];
	}
	dst[o] = '\0';
	return o;
}

static void set_str(char *dst, size_t dstlen, const char *src)
{
	clients_sanitize(dst, dstlen, src, src ? strlen(src) : 0);
}

static void __attribute__((format(printf, 3, 4)))
fmt_to(char *dst, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(dst, len, fmt, ap);
	va_end(ap);
	if (n < 0)
		dst[0] = '\0';
}

static int64_t elapsed(int64_t now, int64_t then)
{
	return now > then ? now - then : 0;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcasecmp(s + a - b, suf) == 0;
}

static bool starts_with(const char *s, const char *pre)
{
	return strncasecmp(s, pre, strlen(pre)) == 0;
}

static const char *base_name(const char *p)
{
	const char *b = strrchr(p, '/');
	return b ? b + 1 : p;
}

/*
 * A file name or URL in the one form paths are compared in: no scheme://host[:port], no
 * query or fragment, '\' as '/', no leading '/', printable ASCII only.
 */
static void norm_path(char *dst, size_t dstlen, const char *src)
{
	dst[0] = '\0';
	if (!src)
		return;
	const char *p = src;
	const char *scheme = strstr(p, "://");
	if (scheme && (size_t)(scheme - p) <= 8) {
		p = scheme + 3;
		p += strcspn(p, "/?#");
	}
	size_t n = strcspn(p, "?#");
	char tmp[CLIENTS_FILE_LEN * 2];
	clients_sanitize(tmp, sizeof(tmp), p, n);
	for (char *q = tmp; *q; q++)
		if (*q == '\\')
			*q = '/';
	const char *t = tmp;
	while (*t == '/')
		t++;
	str_copy(dst, t, dstlen);
}

/* UEFI types of the IANA Processor Architecture Types registry (RFC 4578 §2.1): 6, 7, 9-11,
 * 15-19, 25-30, 33-40. */
static bool is_uefi_arch(uint16_t code)
{
	const uint64_t uefi = 0x1fe7e0f8ec0ull;
	return code < 64 && (uefi >> code & 1);
}

static bool is_bios_loader_name(const char *b)
{
	return ends_with(b, ".kpxe") || ends_with(b, ".kkpxe") || ends_with(b, ".pxe") ||
	       ends_with(b, ".0") || ends_with(b, ".com");
}

/* ---- hash, index, LRU ------------------------------------------------------------------ */

static size_t mac_hash(const struct clients *c, const uint8_t mac[6])
{
	uint64_t h = 1469598103934665603ull;
	for (int i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29)) & (c->nbuckets - 1);
}

static size_t ip_hash(const struct clients *c, uint32_t ip)
{
	uint64_t h = (uint64_t)ip * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 32) & (c->nbuckets - 1);
}

static struct rec *find(const struct clients *c, const uint8_t mac[6])
{
	for (struct rec *r = c->buckets[mac_hash(c, mac)]; r; r = r->hnext)
		if (!memcmp(r->r.mac, mac, 6))
			return r;
	return NULL;
}

static void ip_unindex(struct clients *c, struct rec *r)
{
	if (!r->ip_indexed)
		return;
	struct rec **pp = &c->ibuckets[ip_hash(c, r->ip_key)];
	while (*pp && *pp != r)
		pp = &(*pp)->inext;
	if (*pp)
		*pp = r->inext;
	r->inext = NULL;
	r->ip_indexed = false;
}

/* r claims ip now (an ack, a request, a boot-script fetch): later TFTP/HTTP events from ip
 * are its. */
static void ip_claim(struct clients *c, struct rec *r, uint32_t ip, int64_t now)
{
	if (!ip)
		return;
	r->r.ip = ip;
	r->ip_time_ms = now;
	if (r->ip_indexed && r->ip_key == ip)
		return;
	ip_unindex(c, r);
	size_t b = ip_hash(c, ip);
	r->ip_key = ip;
	r->inext = c->ibuckets[b];
	c->ibuckets[b] = r;
	r->ip_indexed = true;
}

static struct rec *find_by_ip(const struct clients *c, uint32_t ip)
{
	struct rec *best = NULL;
	for (struct rec *r = c->ibuckets[ip_hash(c, ip)]; r; r = r->inext)
		if (r->ip_key == ip && (!best || r->ip_time_ms > best->ip_time_ms))
			best = r;
	return best;
}

static void lru_unlink(struct clients *c, struct rec *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		c->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		c->tail = r->prev;
	r->prev = r->next = NULL;
}

static void lru_push_head(struct clients *c, struct rec *r)
{
	r->prev = NULL;
	r->next = c->head;
	if (c->head)
		c->head->prev = r;
	c->head = r;
	if (!c->tail)
		c->tail = r;
}

static void touch(struct clients *c, struct rec *r, int64_t now)
{
	if (now > r->r.last_seen_ms)
		r->r.last_seen_ms = now;
	if (c->head != r) {
		lru_unlink(c, r);
		lru_push_head(c, r);
	}
}

static void mark_dirty(struct clients *c, struct rec *r, int64_t now)
{
	if (r->dirty)
		return;
	if (c->ndirty == c->dirty_cap) {
		size_t n = c->dirty_cap ? c->dirty_cap * 2 : 64;
		struct rec **d = realloc(c->dirty, n * sizeof(*d));
		if (!d)
			return; /* stays clean: written with its next change */
		c->dirty = d;
		c->dirty_cap = n;
	}
	if (c->ndirty == 0)
		c->oldest_dirty_ms = now;
	c->dirty[c->ndirty++] = r;
	r->dirty = true;
}

static void undirty(struct clients *c, struct rec *r)
{
	if (!r->dirty)
		return;
	for (size_t i = 0; i < c->ndirty; i++)
		if (c->dirty[i] == r) {
			c->dirty[i] = c->dirty[--c->ndirty];
			break;
		}
	r->dirty = false;
}

/* ---- timeline ring --------------------------------------------------------------------- */

/* Copy r's timeline, oldest first; at most cap of the newest. Returns the count. */
static size_t tl_copy(const struct rec *r, struct clients_event *out, size_t cap)
{
	size_t n = MIN(r->tl_n, cap);
	size_t skip = r->tl_n - n;
	for (size_t i = 0; i < n; i++)
		out[i] = r->tl[(r->tl_first + skip + i) % r->tl_cap];
	return n;
}

static void tl_push(const struct clients *c, struct rec *r, const struct clients_event *ev)
{
	if (r->tl_n == r->tl_cap && r->tl_cap < c->lim.timeline_len) {
		size_t n = r->tl_cap ? MIN(r->tl_cap * 2, c->lim.timeline_len) : TL_INITIAL;
		n = MIN(n, c->lim.timeline_len);
		struct clients_event *t = malloc(n * sizeof(*t));
		if (t) {
			size_t k = tl_copy(r, t, r->tl_n);
			free(r->tl);
			r->tl = t;
			r->tl_cap = n;
			r->tl_first = 0;
			r->tl_n = k;
		}
	}
	if (r->tl_cap == 0)
		return;
	if (r->tl_n == r->tl_cap) { /* full: drop the oldest */
		r->tl[r->tl_first] = *ev;
		r->tl_first = (r->tl_first + 1) % r->tl_cap;
	} else {
		r->tl[(r->tl_first + r->tl_n) % r->tl_cap] = *ev;
		r->tl_n++;
	}
}

/* ---- blob (persisted form) ------------------------------------------------------------- */

enum {
	T_IP = 1,
	T_HOSTNAME,
	T_ARCH,
	T_VCLASS,
	T_FLAGS,
	T_UUID,
	T_LOADER,
	T_SCRIPT,
	T_ENTRY,
	T_RULE,
	T_HOST,
	T_STATUS,
	T_DIAG,
	T_TIMES,
	T_EVENT,
	T_PINNED, /* version 2 */
	T_IFACE,  /* version 2 */
};

static void w_be64(struct writer *w, uint64_t v)
{
	writer_be32(w, (uint32_t)(v >> 32));
	writer_be32(w, (uint32_t)v);
}

static int c_be64(struct cursor *c, uint64_t *v)
{
	uint32_t hi, lo;
	if (cursor_be32(c, &hi) < 0 || cursor_be32(c, &lo) < 0)
		return -EBADMSG;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

static void w_tlv(struct writer *w, uint8_t tag, const void *v, size_t n)
{
	writer_u8(w, tag);
	writer_be16(w, (uint16_t)n);
	writer_bytes(w, v, n);
}

static void w_str(struct writer *w, uint8_t tag, const char *s)
{
	size_t n = strlen(s);
	if (n)
		w_tlv(w, tag, s, MIN(n, 0xffffu));
}

int clients_blob_encode(const struct clients_record *r, const struct clients_event *tl, size_t n,
			uint8_t *buf, size_t cap)
{
	struct writer w;
	writer_init(&w, buf, cap);
	writer_u8(&w, BLOB_VERSION);
	if (r->ip) {
		writer_u8(&w, T_IP);
		writer_be16(&w, 4);
		writer_be32(&w, r->ip);
	}
	w_str(&w, T_HOSTNAME, r->hostname);
	if (r->has_arch) {
		size_t nl = strlen(r->arch_name);
		writer_u8(&w, T_ARCH);
		writer_be16(&w, (uint16_t)(2 + nl));
		writer_be16(&w, r->arch_code);
		writer_bytes(&w, r->arch_name, nl);
	}
	w_str(&w, T_VCLASS, r->vendor_class);
	uint8_t flags =
	    (uint8_t)((r->is_pxe ? 1 : 0) | (r->is_http ? 2 : 0) | (r->is_ipxe ? 4 : 0));
	w_tlv(&w, T_FLAGS, &flags, 1);
	if (r->has_uuid)
		w_tlv(&w, T_UUID, r->uuid, 16);
	w_str(&w, T_LOADER, r->loader);
	w_str(&w, T_SCRIPT, r->script);
	w_str(&w, T_ENTRY, r->entry);
	w_str(&w, T_RULE, r->rule);
	w_str(&w, T_HOST, r->host);
	w_str(&w, T_PINNED, r->pinned);
	w_str(&w, T_IFACE, r->iface);
	uint8_t stv[2] = {(uint8_t)r->status, (uint8_t)r->stalled_in};
	w_tlv(&w, T_STATUS, stv, 2);
	w_str(&w, T_DIAG, r->diagnosis);
	writer_u8(&w, T_TIMES);
	writer_be16(&w, 8 * 3 + 4);
	w_be64(&w, (uint64_t)r->status_since_ms);
	w_be64(&w, (uint64_t)r->attempt_start_ms);
	w_be64(&w, r->last_boot_ms);
	writer_be32(&w, r->boots);
	for (size_t i = 0; i < n; i++) {
		const struct clients_event *e = &tl[i];
		size_t dl = strlen(e->detail);
		writer_u8(&w, T_EVENT);
		writer_be16(&w, (uint16_t)(8 + 1 + 1 + 4 + 8 + 8 + dl));
		w_be64(&w, (uint64_t)e->time_ms);
		writer_u8(&w, (uint8_t)e->kind);
		writer_u8(&w, (uint8_t)e->status);
		writer_be32(&w, e->ip);
		w_be64(&w, e->bytes);
		w_be64(&w, e->duration_ms);
		writer_bytes(&w, e->detail, dl);
	}
	if (w.overflow)
		return -ENOSPC;
	return (int)w.len;
}

static void c_str(struct cursor *v, char *dst, size_t dstlen)
{
	memset(dst, 0, dstlen); /* a repeated field leaves nothing of the earlier one behind */
	clients_sanitize(dst, dstlen, v->p, v->left);
}

static bool valid_status(unsigned s)
{
	return s < CLIENTS_ST_COUNT;
}

int clients_blob_decode(const uint8_t *blob, size_t len, struct clients_record *out,
			struct clients_event *tl, size_t tl_cap, size_t *tl_n)
{
	uint8_t mac[6];
	memcpy(mac, out->mac, 6);
	memset(out, 0, sizeof(*out));
	memcpy(out->mac, mac, 6);
	out->status = CLIENTS_ST_ONLINE;
	size_t nev = 0;
	if (tl_n)
		*tl_n = 0;
	struct cursor c;
	cursor_init(&c, blob, len);
	uint8_t ver;
	/* every version is the same TLV list; a later one only adds tags */
	if (cursor_u8(&c, &ver) < 0 || ver < BLOB_VERSION_MIN || ver > BLOB_VERSION)
		return -EPROTO;
	for (;;) {
		uint8_t tag;
		uint16_t vlen;
		struct cursor v;
		if (cursor_u8(&c, &tag) < 0 || cursor_be16(&c, &vlen) < 0 ||
		    cursor_sub(&c, vlen, &v) < 0)
			break; /* end, or truncated: keep what was read */
		switch (tag) {
		case T_IP:
			if (vlen == 4)
				cursor_be32(&v, &out->ip);
			break;
		case T_HOSTNAME: c_str(&v, out->hostname, sizeof(out->hostname)); break;
		case T_ARCH:
			if (vlen >= 2 && cursor_be16(&v, &out->arch_code) == 0) {
				out->has_arch = true;
				c_str(&v, out->arch_name, sizeof(out->arch_name));
			}
			break;
		case T_VCLASS: c_str(&v, out->vendor_class, sizeof(out->vendor_class)); break;
		case T_FLAGS: {
			uint8_t f;
			if (vlen == 1 && cursor_u8(&v, &f) == 0) {
				out->is_pxe = f & 1;
				out->is_http = f & 2;
				out->is_ipxe = f & 4;
			}
			break;
		}
		case T_UUID:
			if (vlen == 16 && cursor_bytes(&v, out->uuid, 16) == 0)
				out->has_uuid = true;
			break;
		case T_LOADER: c_str(&v, out->loader, sizeof(out->loader)); break;
		case T_SCRIPT: c_str(&v, out->script, sizeof(out->script)); break;
		case T_ENTRY: c_str(&v, out->entry, sizeof(out->entry)); break;
		case T_RULE: c_str(&v, out->rule, sizeof(out->rule)); break;
		case T_HOST: c_str(&v, out->host, sizeof(out->host)); break;
		case T_PINNED: c_str(&v, out->pinned, sizeof(out->pinned)); break;
		case T_IFACE: c_str(&v, out->iface, sizeof(out->iface)); break;
		case T_STATUS: {
			uint8_t s, si;
			if (vlen == 2 && cursor_u8(&v, &s) == 0 && cursor_u8(&v, &si) == 0 &&
			    valid_status(s) && valid_status(si)) {
				out->status = (enum clients_status)s;
				out->stalled_in = (enum clients_status)si;
			}
			break;
		}
		case T_DIAG: c_str(&v, out->diagnosis, sizeof(out->diagnosis)); break;
		case T_TIMES: {
			uint64_t a, b, d;
			uint32_t boots;
			if (vlen == 28 && c_be64(&v, &a) == 0 && c_be64(&v, &b) == 0 &&
			    c_be64(&v, &d) == 0 && cursor_be32(&v, &boots) == 0) {
				out->status_since_ms = (int64_t)a;
				out->attempt_start_ms = (int64_t)b;
				out->last_boot_ms = d;
				out->boots = boots;
			}
			break;
		}
		case T_EVENT: {
			struct clients_event e;
			memset(&e, 0, sizeof(e));
			uint64_t t;
			uint8_t k, s;
			if (c_be64(&v, &t) < 0 || cursor_u8(&v, &k) < 0 || cursor_u8(&v, &s) < 0 ||
			    cursor_be32(&v, &e.ip) < 0 || c_be64(&v, &e.bytes) < 0 ||
			    c_be64(&v, &e.duration_ms) < 0)
				break;
			if (k >= CLIENTS_EV_UPDATE || !valid_status(s))
				break;
			memcpy(e.mac, out->mac, 6);
			e.time_ms = (int64_t)t;
			e.kind = (enum clients_event_kind)k;
			e.status = (enum clients_status)s;
			c_str(&v, e.detail, sizeof(e.detail));
			if (tl && tl_cap) {
				if (nev == tl_cap) { /* keep the newest */
					memmove(tl, tl + 1, (tl_cap - 1) * sizeof(*tl));
					nev--;
				}
				tl[nev++] = e;
			}
			break;
		}
		default: break; /* a later version's field */
		}
	}
	if (tl_n)
		*tl_n = nev;
	return 0;
}

/* ---- records in and out of memory ------------------------------------------------------ */

static void rec_free(struct rec *r)
{
	if (!r)
		return;
	free(r->tl);
	free(r->ex);
	free(r);
}

static void unlink_rec(struct clients *c, struct rec *r)
{
	struct rec **pp = &c->buckets[mac_hash(c, r->r.mac)];
	while (*pp && *pp != r)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = r->hnext;
	ip_unindex(c, r);
	lru_unlink(c, r);
	undirty(c, r);
	c->count--;
}

static int encode_rec(struct clients *c, const struct rec *r, uint8_t *buf, size_t cap)
{
	size_t n = MIN(r->tl_n, c->lim.persist_events);
	struct clients_event *tmp = n ? malloc(n * sizeof(*tmp)) : NULL;
	if (n && !tmp)
		return -ENOMEM;
	if (n)
		tl_copy(r, tmp, n);
	int len;
	/* a blob that does not fit loses its oldest events first */
	while ((len = clients_blob_encode(&r->r, tmp, n, buf, cap)) == -ENOSPC && n > 0) {
		size_t drop = (n + 1) / 2;
		memmove(tmp, tmp + drop, (n - drop) * sizeof(*tmp));
		n -= drop;
	}
	free(tmp);
	return len;
}

static int put_blob(struct clients *c, const uint8_t mac[6], int64_t first, int64_t last,
		    const uint8_t *blob, size_t len)
{
	struct store_client sc = {
	    .first_seen_ms = first, .last_seen_ms = last, .data = blob, .data_len = len};
	memcpy(sc.mac, mac, 6);
	int r = store_client_put(c->st, &sc);
	if (r < 0) {
		c->st_.store_errors++;
		return r;
	}
	c->st_.written++;
	c->writes_since_prune++;
	return 0;
}

static int write_pending(struct clients *c)
{
	size_t i = 0;
	int ret = 0;
	for (; i < c->npend; i++) {
		struct pending *p = &c->pend[i];
		ret = put_blob(c, p->mac, p->first_seen_ms, p->last_seen_ms, p->blob, p->len);
		if (ret < 0)
			break;
	}
	return ret < 0 ? ret : (int)i;
}

static void drop_pending(struct clients *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c->pend[i].blob);
	memmove(c->pend, c->pend + n, (c->npend - n) * sizeof(c->pend[0]));
	c->npend -= n;
}

/* Run writes in the open transaction, or in one of our own that is committed at once. */
static int write_batch(struct clients *c, bool with_records);
static uint64_t mac_key(const uint8_t mac[6]);
static void fill_from_store(struct clients *c, struct clients_record *r);

/* Make room for one more record: the least recently seen leaves memory; if it has changes
 * not yet written they wait in the pending list (written by the next flush). */
static void evict_one(struct clients *c)
{
	struct rec *r = c->tail;
	if (!r)
		return;
	if (r->dirty && c->st) {
		if (c->npend == PENDING_MAX)
			(void)write_batch(c,
					  false); /* a flood of new MACs: write the backlog now */
		if (c->npend < PENDING_MAX) {
			int len = encode_rec(c, r, c->blob, sizeof(c->blob));
			uint8_t *copy = len > 0 ? malloc((size_t)len) : NULL;
			if (copy) {
				memcpy(copy, c->blob, (size_t)len);
				struct pending *p = &c->pend[c->npend++];
				memcpy(p->mac, r->r.mac, 6);
				p->key = mac_key(r->r.mac);
				p->first_seen_ms = r->r.first_seen_ms;
				p->last_seen_ms = r->r.last_seen_ms;
				p->blob = copy;
				p->len = (size_t)len;
			} else {
				c->st_.store_errors++; /* its latest changes are lost */
			}
		} else {
			c->st_.store_errors++;
		}
	}
	unlink_rec(c, r);
	rec_free(r);
	c->st_.evicted++;
}

/* Restore the attempt-independent state of a record read back from the store. */
static void rec_from_record(struct rec *r, const struct clients_record *cr)
{
	r->r = *cr;
	r->r.next_boot[0] = '\0';
	r->stalled = cr->status == CLIENTS_ST_STALLED;
	r->phase = r->stalled ? cr->stalled_in : cr->status;
	if (r->phase == CLIENTS_ST_STALLED || !valid_status(r->phase))
		r->phase = CLIENTS_ST_WAITING_DHCP;
	/* the attempt's details are gone with the old process: what is left is the phase and
	 * the time of the last event, enough to notice a stall */
	r->a.active = r->phase != CLIENTS_ST_ONLINE && r->phase != CLIENTS_ST_BOOTED;
	r->a.restored = r->a.active;
	r->a.progress_ms = cr->last_seen_ms;
}

static struct rec *insert(struct clients *c, const uint8_t mac[6])
{
	while (c->count >= c->lim.max_clients && c->tail)
		evict_one(c);
	struct rec *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	memcpy(r->r.mac, mac, 6);
	size_t b = mac_hash(c, mac);
	r->hnext = c->buckets[b];
	c->buckets[b] = r;
	lru_push_head(c, r);
	c->count++;
	return r;
}

static uint64_t mac_key(const uint8_t mac[6])
{
	uint64_t k = 0;
	for (int i = 0; i < 6; i++)
		k = k << 8 | mac[i];
	return k;
}

/* Find a pending (evicted, unwritten) blob for mac; its index or -1. */
static ssize_t pending_find(const struct clients *c, const uint8_t mac[6])
{
	uint64_t k = mac_key(mac);
	for (size_t i = c->npend; i-- > 0;)
		if (c->pend[i].key == k)
			return (ssize_t)i;
	return -1;
}

/*
 * The persisted version of mac: from the pending list, else the store. 1 and *cr (with
 * up to tl_cap events), 0 when there is none, < 0 on a store error.
 */
static int load_persisted(struct clients *c, const uint8_t mac[6], struct clients_record *cr,
			  struct clients_event *tl, size_t tl_cap, size_t *tl_n, bool *from_pending)
{
	*from_pending = false;
	memset(cr, 0, sizeof(*cr));
	memcpy(cr->mac, mac, 6);
	ssize_t pi = pending_find(c, mac);
	if (pi >= 0) {
		const struct pending *p = &c->pend[pi];
		if (clients_blob_decode(p->blob, p->len, cr, tl, tl_cap, tl_n) < 0)
			return 0;
		cr->first_seen_ms = p->first_seen_ms;
		cr->last_seen_ms = p->last_seen_ms;
		*from_pending = true;
		return 1;
	}
	if (!c->st)
		return 0;
	struct store_client sc;
	int r = store_client_get(c->st, mac, &sc, c->blob, sizeof(c->blob));
	if (r < 0) {
		c->st_.store_errors++;
		return r;
	}
	if (r == 0)
		return 0;
	if (clients_blob_decode(sc.data, sc.data_len, cr, tl, tl_cap, tl_n) < 0) {
		char m[MAC_STRLEN];
		log_rl(&rl_store, LOG_LVL_WARN, MOD, "stored record mac=%s has an unknown format",
		       fmt_mac(m, mac));
		memset(cr, 0, sizeof(*cr));
		memcpy(cr->mac, mac, 6);
		cr->status = CLIENTS_ST_ONLINE;
	}
	cr->first_seen_ms = sc.first_seen_ms;
	cr->last_seen_ms = sc.last_seen_ms;
	return 1;
}

/* The record for mac in memory, reloaded from the pending list or the store, or (create)
 * a new one. NULL when unknown (without create) or out of memory. */
static struct rec *get_rec(struct clients *c, const uint8_t mac[6], bool create, int64_t now)
{
	struct rec *r = find(c, mac);
	if (r)
		return r;
	struct clients_record cr;
	size_t ntl = 0;
	struct clients_event *tl =
	    calloc(c->lim.persist_events ? c->lim.persist_events : 1, sizeof(*tl));
	if (!tl)
		return NULL;
	bool from_pending;
	int found = load_persisted(c, mac, &cr, tl, c->lim.persist_events, &ntl, &from_pending);
	if (found <= 0 && !create) {
		free(tl);
		return NULL;
	}
	r = insert(c, mac);
	if (!r) {
		free(tl);
		return NULL;
	}
	if (found > 0) {
		rec_from_record(r, &cr);
		r->stored = !from_pending;
		for (size_t i = 0; i < ntl; i++)
			tl_push(c, r, &tl[i]);
		if (from_pending) {
			ssize_t pi = pending_find(c, mac);
			if (pi >= 0) {
				free(c->pend[pi].blob);
				memmove(&c->pend[pi], &c->pend[pi + 1],
					(c->npend - (size_t)pi - 1) * sizeof(c->pend[0]));
				c->npend--;
			}
			mark_dirty(c, r, now);
		}
		if (r->r.ip)
			ip_claim(c, r, r->r.ip, r->r.last_seen_ms);
	} else {
		r->r.first_seen_ms = now;
		r->r.last_seen_ms = now;
		r->r.status = CLIENTS_ST_ONLINE;
		r->r.status_since_ms = now;
		r->phase = CLIENTS_ST_ONLINE;
		c->st_.created++;
	}
	free(tl);
	return r;
}

/* The client at ip: the latest claimer in memory, else the store's lease for ip. */
static struct rec *rec_by_ip(struct clients *c, uint32_t ip, int64_t now)
{
	if (!ip)
		return NULL;
	struct rec *r = find_by_ip(c, ip);
	if (r || !c->st)
		return r;
	struct store_lease l;
	if (store_lease_by_ip(c->st, ip, &l) != 1 || l.state != STORE_LEASE_BOUND)
		return NULL;
	r = get_rec(c, l.mac, true, now);
	if (r)
		ip_claim(c, r, ip, now);
	return r;
}

/* ---- events, status, notifications ----------------------------------------------------- */

static void notify(struct clients *c, const struct clients_event *ev)
{
	if (c->notifying)
		return;
	c->notifying = true;
	for (size_t i = 0; i < c->nsubs; i++)
		c->subs[i].fn(c->subs[i].arg, ev);
	c->notifying = false;
}

static void sync_status(struct rec *r, int64_t now)
{
	enum clients_status s = r->stalled ? CLIENTS_ST_STALLED : r->phase;
	if (s != r->r.status) {
		r->r.status = s;
		r->r.status_since_ms = now;
	}
	r->r.stalled_in = r->stalled ? r->phase : CLIENTS_ST_WAITING_DHCP;
	if (!r->stalled)
		r->r.diagnosis[0] = '\0';
}

static void __attribute__((format(printf, 8, 9)))
record_event(struct clients *c, struct rec *r, enum clients_event_kind kind, uint32_t ip,
	     uint64_t bytes, uint64_t dur, int64_t now, const char *fmt, ...)
{
	struct clients_event ev;
	memset(&ev, 0, sizeof(ev));
	memcpy(ev.mac, r->r.mac, 6);
	ev.time_ms = now;
	ev.kind = kind;
	ev.ip = ip;
	ev.bytes = bytes;
	ev.duration_ms = dur;
	char tmp[CLIENTS_DETAIL_LEN * 2];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	clients_sanitize(ev.detail, sizeof(ev.detail), tmp, n > 0 ? strlen(tmp) : 0);
	sync_status(r, now);
	ev.status = r->r.status;
	if (kind != CLIENTS_EV_UPDATE) {
		tl_push(c, r, &ev);
		c->st_.events++;
	}
	if (!c->marking)
		touch(c, r, now);
	mark_dirty(c, r, now);
	notify(c, &ev);
}

/* Phases within an attempt only move forward (booted stays booted). */
static void advance(struct rec *r, enum clients_status to)
{
	if (r->phase == CLIENTS_ST_ONLINE || r->phase < to)
		r->phase = to;
}

static void progress(struct rec *r, int64_t now)
{
	r->a.progress_ms = now;
	r->a.restored = false;
	r->stalled = false;
}

static void new_attempt(struct rec *r, int64_t now)
{
	memset(&r->a, 0, sizeof(r->a));
	r->a.active = true;
	r->a.progress_ms = now;
	free(r->ex);
	r->ex = NULL;
	r->phase = CLIENTS_ST_WAITING_DHCP;
	r->stalled = false;
	r->r.attempt_start_ms = now;
}

static void mark_booted(struct clients *c, struct rec *r, int64_t now, const char *why)
{
	if (r->phase == CLIENTS_ST_BOOTED)
		return;
	r->phase = CLIENTS_ST_BOOTED;
	r->stalled = false;
	r->a.active = false;
	uint64_t dur = r->r.attempt_start_ms ? (uint64_t)elapsed(now, r->r.attempt_start_ms) : 0;
	r->r.boots++;
	r->r.last_boot_ms = dur;
	c->st_.booted++;
	record_event(c, r, CLIENTS_EV_BOOTED, r->r.ip, 0, dur, now, "%s%s%s", r->r.entry,
		     r->r.entry[0] ? ": " : "", why);
}

/* ---- DHCP ------------------------------------------------------------------------------ */

static enum clients_event_kind dhcp_kind(uint8_t t, bool reply)
{
	switch (t) {
	case DHCPDISCOVER: return CLIENTS_EV_DHCP_DISCOVER;
	case DHCPOFFER: return CLIENTS_EV_DHCP_OFFER;
	case DHCPREQUEST: return CLIENTS_EV_DHCP_REQUEST;
	case DHCPDECLINE: return CLIENTS_EV_DHCP_DECLINE;
	case DHCPACK: return CLIENTS_EV_DHCP_ACK;
	case DHCPNAK: return CLIENTS_EV_DHCP_NAK;
	case DHCPRELEASE: return CLIENTS_EV_DHCP_RELEASE;
	case DHCPINFORM: return CLIENTS_EV_DHCP_INFORM;
	default: return reply ? CLIENTS_EV_BOOTP_REPLY : CLIENTS_EV_BOOTP_REQUEST;
	}
}

int clients_on_dhcp(struct clients *c, const struct clients_dhcp *d, int64_t now)
{
	if (!c || !d || !d->facts || !d->facts->has_mac)
		return -EINVAL;
	if (c->notifying)
		return -EBUSY;
	const struct dhcp_pxe_facts *f = d->facts;
	struct rec *r = get_rec(c, f->mac, true, now);
	if (!r)
		return -ENOMEM;
	struct clients_record *cr = &r->r;

	/* what the request says about the client */
	if (d->hostname && d->hostname_len)
		clients_sanitize(cr->hostname, sizeof(cr->hostname), d->hostname, d->hostname_len);
	if (f->has_arch) {
		cr->has_arch = true;
		cr->arch_code = f->arch_code;
		set_str(cr->arch_name, sizeof(cr->arch_name), f->arch_name);
	}
	if (f->vendor_class[0])
		set_str(cr->vendor_class, sizeof(cr->vendor_class), f->vendor_class);
	if (d->iface && d->iface[0])
		set_str(cr->iface, sizeof(cr->iface), d->iface); /* where Wake-on-LAN goes */
	cr->is_pxe = f->is_pxe;
	cr->is_http = f->is_http;
	cr->is_ipxe = f->is_ipxe;
	if (f->has_uuid) {
		cr->has_uuid = true;
		memcpy(cr->uuid, f->uuid, 16);
	}
	bool boot_client = f->is_pxe || f->is_http || f->is_ipxe;
	bool is_req = d->msg_type == DHCPREQUEST;
	bool has_file = d->replied && d->boot_file && d->boot_file[0];
	bool proxy =
	    d->replied && !d->yiaddr && (d->reply_type == DHCPOFFER || d->reply_type == DHCPACK);

	/* the address: ours when we gave one, else what the client says it has or asks for */
	uint32_t ip = 0;
	if (d->replied && d->yiaddr && d->reply_type != DHCPNAK)
		ip = d->yiaddr;
	else if (d->ciaddr)
		ip = d->ciaddr;
	else if (is_req && d->requested_ip)
		ip = d->requested_ip;
	if (d->msg_type == DHCPRELEASE || d->msg_type == DHCPDECLINE)
		ip = 0; /* not the client's any more */
	else if (ip)
		ip_claim(c, r, ip, now);

	/* the status machine */
	bool booted_by_os = false;
	if (!boot_client) {
		if (r->phase == CLIENTS_ST_BOOTING && r->a.active)
			booted_by_os = d->msg_type == DHCPDISCOVER || d->msg_type == DHCPREQUEST;
		else if (r->phase == CLIENTS_ST_WAITING_DHCP || !r->a.active)
			if (r->phase != CLIENTS_ST_BOOTED) {
				r->phase = CLIENTS_ST_ONLINE;
				r->stalled = false;
				r->a.active = false;
			}
	} else if (d->msg_type == DHCPRELEASE || d->msg_type == DHCPDECLINE ||
		   d->msg_type == DHCPINFORM) {
		/* recorded below; they neither start nor move a boot */
	} else {
		bool starts = d->msg_type == DHCPDISCOVER || d->msg_type == DHCP_NONE;
		if (starts) {
			bool cont;
			if (!r->a.active)
				cont = false;
			else if (f->is_ipxe)
				cont = r->phase == CLIENTS_ST_WAITING_LOADER ||
				       r->phase == CLIENTS_ST_WAITING_SCRIPT ||
				       r->phase == CLIENTS_ST_BOOTING ||
				       (r->phase == CLIENTS_ST_WAITING_DHCP && r->a.discovers);
			else
				cont = r->phase == CLIENTS_ST_WAITING_DHCP;
			if (!cont)
				new_attempt(r, now);
			r->a.discovers++;
		} else if (!r->a.active) {
			/* a REQUEST etc. without a DISCOVER we saw (we started mid-way) */
			new_attempt(r, now);
		}
		progress(r, now);
		if (f->is_ipxe && r->a.loader_done)
			r->a.ipxe_dhcp_after_loader = true;
		if (!d->replied) {
			if (d->no_reply_why)
				set_str(r->a.no_reply_why, sizeof(r->a.no_reply_why),
					d->no_reply_why);
		} else if (d->reply_type == DHCPNAK) {
			r->a.naked = true;
		} else if (d->reply_type == DHCPOFFER && !proxy) {
			r->a.offered = true;
			r->a.offered_ip = d->yiaddr;
			if (!has_file && d->no_boot_why && d->no_boot_why[0]) {
				r->a.no_file = true;
				set_str(r->a.no_file_why, sizeof(r->a.no_file_why), d->no_boot_why);
			}
		} else { /* ACK, proxy OFFER/ACK, BOOTREPLY: the client may act on it now */
			r->a.acked = true;
			if (has_file) {
				r->a.no_file = false;
				if (f->is_ipxe) {
					set_str(cr->script, sizeof(cr->script), d->boot_file);
					r->a.script_given = true;
					advance(r, CLIENTS_ST_WAITING_SCRIPT);
				} else {
					set_str(cr->loader, sizeof(cr->loader), d->boot_file);
					advance(r, CLIENTS_ST_WAITING_LOADER);
				}
			} else if (d->no_boot_why && d->no_boot_why[0]) {
				r->a.no_file = true;
				set_str(r->a.no_file_why, sizeof(r->a.no_file_why), d->no_boot_why);
			}
		}
	}

	/* the timeline: the request, then the reply */
	char what[96] = "";
	if (f->is_ipxe)
		str_copy(what, "iPXE", sizeof(what));
	else if (f->is_http)
		str_copy(what, "HTTPClient", sizeof(what));
	else if (f->is_pxe)
		str_copy(what, "PXEClient", sizeof(what));
	if (f->has_arch)
		fmt_to(what + strlen(what), sizeof(what) - strlen(what), "%s%s", what[0] ? " " : "",
		       f->arch_name);
	char why[80] = "";
	if (!d->replied && d->no_reply_why)
		fmt_to(why, sizeof(why), "%sno reply: %s", what[0] ? "; " : "", d->no_reply_why);
	record_event(c, r, dhcp_kind(d->msg_type, false),
		     d->msg_type == DHCPRELEASE || d->msg_type == DHCPDECLINE
			 ? d->ciaddr ? d->ciaddr : d->requested_ip
			 : ip,
		     0, 0, now, "%s%s%s", what, why, d->local_port == 4011 ? " (port 4011)" : "");
	if (d->replied) {
		if (has_file)
			record_event(c, r, dhcp_kind(d->reply_type, true), d->yiaddr, 0, 0, now,
				     "%sfile %s", proxy ? "proxy: " : "", d->boot_file);
		else if (d->reply_type == DHCPNAK)
			record_event(c, r, CLIENTS_EV_DHCP_NAK, 0, 0, 0, now, "request refused");
		else if (boot_client)
			record_event(c, r, dhcp_kind(d->reply_type, true), d->yiaddr, 0, 0, now,
				     "%sno boot file%s%s", proxy ? "proxy: " : "",
				     d->no_boot_why && d->no_boot_why[0] ? ": " : "",
				     d->no_boot_why ? d->no_boot_why : "");
		else
			record_event(c, r, dhcp_kind(d->reply_type, true), d->yiaddr, 0, 0, now,
				     "%s", "");
	}
	if (booted_by_os)
		mark_booted(c, r, now, "the booted system asked for an address");
	return 0;
}

/* ---- files: TFTP and HTTP -------------------------------------------------------------- */

static enum clients_file_kind guess_kind(const struct rec *r, const char *p)
{
	const char *b = base_name(p);
	if (ends_with(b, ".iso"))
		return CLIENTS_FILE_ISO;
	if (ends_with(b, ".ipxe") || starts_with(p, "pxelinux.cfg/") || ends_with(b, ".cfg"))
		return CLIENTS_FILE_SCRIPT;
	if (starts_with(b, "vmlinuz") || starts_with(b, "vmlinux") || starts_with(b, "bzimage") ||
	    starts_with(b, "kernel") || !strcasecmp(b, "linux") || !strcasecmp(b, "linux64"))
		return CLIENTS_FILE_KERNEL;
	if (strcasestr(b, "initrd") || strcasestr(b, "initramfs") || ends_with(b, ".cpio") ||
	    strcasestr(b, ".cpio."))
		return CLIENTS_FILE_INITRD;
	bool before_script = r->phase < CLIENTS_ST_BOOTING || r->phase == CLIENTS_ST_ONLINE;
	if (is_bios_loader_name(b) || ends_with(b, ".efi"))
		return before_script ? CLIENTS_FILE_LOADER : CLIENTS_FILE_KERNEL;
	return CLIENTS_FILE_OTHER;
}

/* Which expected file p is (-1 none). */
static int expect_index(const struct rec *r, const char *p)
{
	if (!r->ex)
		return -1;
	for (size_t i = 0; i < r->ex->n; i++)
		if (!strcmp(r->ex->path[i], p))
			return (int)i;
	return -1;
}

static enum clients_file_kind classify(const struct rec *r, const char *p)
{
	int ei = expect_index(r, p);
	if (ei >= 0)
		return r->ex->kind[ei];
	if (r->r.script[0]) {
		char s[CLIENTS_FILE_LEN];
		norm_path(s, sizeof(s), r->r.script);
		if (s[0] && !strcmp(s, p))
			return CLIENTS_FILE_SCRIPT;
	}
	if (r->r.loader[0]) {
		char l[CLIENTS_FILE_LEN];
		norm_path(l, sizeof(l), r->r.loader);
		if (l[0] && (!strcmp(l, p) || !strcmp(base_name(l), base_name(p))))
			return CLIENTS_FILE_LOADER;
	}
	return guess_kind(r, p);
}

static const char *kind_word(enum clients_file_kind k)
{
	switch (k) {
	case CLIENTS_FILE_LOADER: return "loader";
	case CLIENTS_FILE_SCRIPT: return "boot script";
	case CLIENTS_FILE_KERNEL: return "kernel";
	case CLIENTS_FILE_INITRD: return "initrd";
	case CLIENTS_FILE_ISO: return "ISO image";
	default: return "file";
	}
}

/* A UEFI machine asking for a BIOS loader or the other way round: remember it in words. */
static void check_mismatch(struct rec *r, enum clients_file_kind k, const char *p)
{
	if (!r->r.has_arch || k != CLIENTS_FILE_LOADER)
		return;
	const char *b = base_name(p);
	bool uefi = is_uefi_arch(r->r.arch_code), bios = r->r.arch_code == 0;
	if (uefi && is_bios_loader_name(b))
		fmt_to(r->a.mismatch, sizeof(r->a.mismatch),
		       "UEFI client (%s) asked for a BIOS loader (%.48s): whoever hands out its "
		       "boot file (pixied's [loaders], or another DHCP/proxyDHCP server) gives the "
		       "wrong one",
		       r->r.arch_name, b);
	else if (bios && ends_with(b, ".efi"))
		fmt_to(r->a.mismatch, sizeof(r->a.mismatch),
		       "BIOS client asked for a UEFI loader (%.48s): whoever hands out its boot "
		       "file (pixied's [loaders], or another DHCP/proxyDHCP server) gives the "
		       "wrong one",
		       b);
}

/* A file was requested (a transfer began or an HTTP request came in). */
static void file_started(struct rec *r, enum clients_file_kind k, const char *p, int64_t now)
{
	progress(r, now);
	check_mismatch(r, k, p);
	switch (k) {
	case CLIENTS_FILE_LOADER: r->a.loader_started = true; break;
	case CLIENTS_FILE_SCRIPT: r->a.script_requested = true; break;
	case CLIENTS_FILE_KERNEL:
	case CLIENTS_FILE_INITRD:
	case CLIENTS_FILE_ISO:
		r->a.files_after_script = true;
		advance(r, CLIENTS_ST_BOOTING);
		break;
	default:
		if (r->a.script_done)
			r->a.files_after_script = true;
		break;
	}
}

/*
 * A file was served whole (or a piece of an ISO). Returns true when that makes the client
 * booted (why says so): the caller records the file's event, then mark_booted().
 */
static bool file_served(struct rec *r, enum clients_file_kind k, const char *p, int64_t now,
			char *why, size_t whylen)
{
	progress(r, now);
	str_copy(r->a.last_path, p, sizeof(r->a.last_path));
	r->a.last_error[0] = '\0';
	switch (k) {
	case CLIENTS_FILE_LOADER:
		r->a.loader_done = true;
		advance(r, CLIENTS_ST_WAITING_SCRIPT);
		return false;
	case CLIENTS_FILE_SCRIPT:
		r->a.script_requested = true;
		r->a.script_done = true;
		advance(r, CLIENTS_ST_BOOTING);
		if (r->a.expect_declared && r->ex && r->ex->n == 0) {
			str_copy(why, "nothing more to fetch", whylen);
			return true;
		}
		return false;
	default: break;
	}
	if (k != CLIENTS_FILE_OTHER || r->a.script_done)
		advance(r, CLIENTS_ST_BOOTING);
	if (r->phase == CLIENTS_ST_BOOTED)
		return false;
	int ei = expect_index(r, p);
	if (r->a.expect_declared && r->ex && r->ex->n) {
		if (ei < 0)
			return false;
		r->ex->done[ei] = true;
		if ((size_t)ei != r->ex->n - 1)
			return false;
		if (k == CLIENTS_FILE_ISO) {
			if (!r->a.iso_first_ms)
				r->a.iso_first_ms = now;
			return false;
		}
		fmt_to(why, whylen, "%s %.48s served", kind_word(k), base_name(p));
		return true;
	}
	if (k == CLIENTS_FILE_KERNEL || k == CLIENTS_FILE_INITRD)
		r->a.quiet_candidate = true;
	else if (k == CLIENTS_FILE_ISO && !r->a.iso_first_ms)
		r->a.iso_first_ms = now;
	return false;
}

static enum clients_event_kind http_kind(enum clients_file_kind k)
{
	switch (k) {
	case CLIENTS_FILE_LOADER: return CLIENTS_EV_HTTP_LOADER;
	case CLIENTS_FILE_SCRIPT: return CLIENTS_EV_HTTP_SCRIPT;
	case CLIENTS_FILE_KERNEL: return CLIENTS_EV_HTTP_KERNEL;
	case CLIENTS_FILE_INITRD: return CLIENTS_EV_HTTP_INITRD;
	case CLIENTS_FILE_ISO: return CLIENTS_EV_HTTP_ISO;
	default: return CLIENTS_EV_HTTP_FILE;
	}
}

/* Events from clients that are not network-booting are not recorded. */
static bool follows_files(const struct rec *r)
{
	return r->phase != CLIENTS_ST_ONLINE;
}

int clients_on_tftp(struct clients *c, const struct clients_tftp *t, int64_t now)
{
	if (!c || !t)
		return -EINVAL;
	if (c->notifying)
		return -EBUSY;
	struct rec *r = rec_by_ip(c, t->ip, now);
	if (!r) {
		c->st_.unmatched++;
		return -ENOENT;
	}
	if (!follows_files(r))
		return 0;
	char p[CLIENTS_FILE_LEN];
	norm_path(p, sizeof(p), t->path);
	enum clients_file_kind k = classify(r, p);
	const char *reason = t->reason ? t->reason : "?";
	switch (t->what) {
	case CLIENTS_XFER_START:
		file_started(r, k, p, now);
		r->a.transfer_open = true;
		str_copy(r->a.open_path, p, sizeof(r->a.open_path));
		if (t->size)
			record_event(c, r, CLIENTS_EV_TFTP_START, t->ip, t->size, 0, now, "%s (%s)",
				     p, kind_word(k));
		else
			record_event(c, r, CLIENTS_EV_TFTP_START, t->ip, 0, 0, now, "%s (%s)", p,
				     kind_word(k));
		break;
	case CLIENTS_XFER_END:
		r->a.transfer_open = false;
		if (t->ok) {
			char why[CLIENTS_DETAIL_LEN];
			bool booted = file_served(r, k, p, now, why, sizeof(why));
			record_event(c, r, CLIENTS_EV_TFTP_END, t->ip, t->bytes, t->duration_ms,
				     now, "%s ok", p);
			if (booted)
				mark_booted(c, r, now, why);
		} else if (!strcmp(reason, "option-abort") ||
			   (!strcmp(reason, "client-error") && t->bytes == 0)) {
			/* PXE ROMs ask for the size, then abort and ask again: normal */
			progress(r, now);
			record_event(c, r, CLIENTS_EV_TFTP_END, t->ip, t->bytes, t->duration_ms,
				     now, "%s: size probe, aborted by the client", p);
		} else {
			progress(r, now);
			fmt_to(r->a.last_error, sizeof(r->a.last_error),
			       "TFTP transfer of %.64s failed: %s after %llu bytes", p, reason,
			       (unsigned long long)t->bytes);
			record_event(c, r, CLIENTS_EV_TFTP_ERROR, t->ip, t->bytes, t->duration_ms,
				     now, "%s: %s", p, reason);
		}
		break;
	case CLIENTS_XFER_REFUSED:
		progress(r, now);
		/* PXELINUX tries several config names before `default`: not-found is normal */
		if (!(starts_with(p, "pxelinux.cfg/") && !strcmp(reason, "not-found")))
			fmt_to(r->a.last_error, sizeof(r->a.last_error),
			       "TFTP request for %.64s refused: %s%s", p, reason,
			       !strcmp(reason, "not-found") ? " (no such file beneath the root)"
							    : "");
		check_mismatch(r, k, p);
		record_event(c, r, CLIENTS_EV_TFTP_ERROR, t->ip, 0, 0, now, "%s: %s", p, reason);
		break;
	default: return -EINVAL;
	}
	return 0;
}

int clients_on_http(struct clients *c, const struct clients_http *h, int64_t now)
{
	if (!c || !h)
		return -EINVAL;
	if (c->notifying)
		return -EBUSY;
	if (h->method && strcmp(h->method, "GET"))
		return 0;
	struct rec *r = NULL;
	if (h->mac) {
		r = get_rec(c, h->mac, false, now);
		if (r && h->ip)
			ip_claim(c, r, h->ip, now);
	}
	if (!r)
		r = rec_by_ip(c, h->ip, now);
	if (!r) {
		c->st_.unmatched++;
		return -ENOENT;
	}
	if (!follows_files(r))
		return 0;
	char p[CLIENTS_FILE_LEN];
	norm_path(p, sizeof(p), h->path);
	enum clients_file_kind k = classify(r, p);
	file_started(r, k, p, now);
	bool good = (h->status >= 200 && h->status < 300) || h->status == 304;
	enum clients_event_kind ek = http_kind(k);
	if (good && h->complete) {
		char why[CLIENTS_DETAIL_LEN];
		bool booted = file_served(r, k, p, now, why, sizeof(why));
		record_event(c, r, ek, h->ip, h->bytes, h->duration_ms, now, "GET /%s %d", p,
			     h->status);
		if (booted)
			mark_booted(c, r, now, why);
		return 0;
	}
	progress(r, now);
	if (good)
		fmt_to(r->a.last_error, sizeof(r->a.last_error),
		       "the %s /%.64s was cut off after %llu bytes: the client went away or the "
		       "network dropped the connection",
		       kind_word(k), p, (unsigned long long)h->bytes);
	else
		fmt_to(r->a.last_error, sizeof(r->a.last_error),
		       "the %s /%.64s failed with HTTP %d%s", kind_word(k), p, h->status,
		       h->status == 404 ? ": check the path beneath the root" : "");
	record_event(c, r, ek, h->ip, h->bytes, h->duration_ms, now, "GET /%s %d%s", p, h->status,
		     good ? " cut off" : "");
	return 0;
}

/* ---- boot choice, expectations, admin -------------------------------------------------- */

int clients_on_boot_choice(struct clients *c, const uint8_t mac[6], uint32_t ip, const char *entry,
			   const char *rule, const char *host, int64_t now)
{
	if (!c || !mac)
		return -EINVAL;
	if (c->notifying)
		return -EBUSY;
	struct rec *r = get_rec(c, mac, true, now);
	if (!r)
		return -ENOMEM;
	if (ip)
		ip_claim(c, r, ip, now);
	set_str(r->r.entry, sizeof(r->r.entry), entry);
	set_str(r->r.rule, sizeof(r->r.rule), rule);
	set_str(r->r.host, sizeof(r->r.host), host);
	if (!r->a.active || r->phase == CLIENTS_ST_ONLINE || r->phase == CLIENTS_ST_BOOTED) {
		/* a script request from a client whose DHCP we did not see */
		new_attempt(r, now);
		r->a.script_given = true;
		r->phase = CLIENTS_ST_WAITING_SCRIPT;
	}
	progress(r, now);
	r->a.expect_declared = false;
	free(r->ex);
	r->ex = NULL;
	record_event(c, r, CLIENTS_EV_BOOT_CHOICE, ip, 0, 0, now, "%s (%s%s%s)",
		     r->r.entry[0] ? r->r.entry : "menu", r->r.rule[0] ? r->r.rule : "?",
		     r->r.host[0] ? ", host " : "", r->r.host);
	return 0;
}

int clients_expect_files(struct clients *c, const uint8_t mac[6], const char *const *paths,
			 const enum clients_file_kind *kinds, size_t n)
{
	if (!c || !mac || (n && !paths))
		return -EINVAL;
	struct rec *r = find(c, mac);
	if (!r)
		return -ENOENT;
	struct expect *ex = r->ex ? r->ex : calloc(1, sizeof(*ex));
	if (!ex)
		return -ENOMEM;
	memset(ex, 0, sizeof(*ex));
	r->ex = ex;
	r->a.expect_declared = true;
	/* keep the first CLIENTS_EXPECT_MAX - 1 and always the last one */
	for (size_t i = 0; i < n; i++) {
		if (ex->n == CLIENTS_EXPECT_MAX - 1 && i != n - 1)
			continue;
		if (!paths[i])
			continue;
		norm_path(ex->path[ex->n], sizeof(ex->path[0]), paths[i]);
		if (!ex->path[ex->n][0])
			continue;
		enum clients_file_kind k = kinds ? kinds[i] : CLIENTS_FILE_AUTO;
		if (k == CLIENTS_FILE_AUTO || k > CLIENTS_FILE_OTHER)
			k = guess_kind(r, ex->path[ex->n]);
		if (k == CLIENTS_FILE_LOADER || k == CLIENTS_FILE_SCRIPT)
			k = CLIENTS_FILE_KERNEL; /* what a script fetches is what it boots */
		ex->kind[ex->n] = k;
		ex->n++;
	}
	return 0;
}

int clients_on_admin(struct clients *c, const uint8_t mac[6], const char *detail, int64_t now)
{
	if (!c || !mac)
		return -EINVAL;
	if (c->notifying)
		return -EBUSY;
	struct rec *r = get_rec(c, mac, true, now);
	if (!r)
		return -ENOMEM;
	record_event(c, r, CLIENTS_EV_ADMIN, 0, 0, 0, now, "%s", detail ? detail : "");
	return 0;
}

int clients_changed(struct clients *c, const uint8_t mac[6], int64_t now)
{
	if (!c || !mac)
		return -EINVAL;
	if (c->notifying)
		return -EBUSY;
	struct rec *r = get_rec(c, mac, false, now);
	if (!r)
		return -ENOENT;
	/* keep the persisted copy of the permanent entry in step with the store */
	char pin[sizeof(r->r.pinned)];
	str_copy(pin, r->r.pinned, sizeof(pin));
	fill_from_store(c, &r->r);
	if (strcmp(pin, r->r.pinned) != 0)
		mark_dirty(c, r, now);
	struct clients_event ev;
	memset(&ev, 0, sizeof(ev));
	memcpy(ev.mac, mac, 6);
	ev.time_ms = now;
	ev.kind = CLIENTS_EV_UPDATE;
	ev.status = r->r.status;
	notify(c, &ev);
	return 0;
}

/* ---- stalls and diagnosis -------------------------------------------------------------- */

/* Why r is stuck, in words an admin can act on. */
static void diagnose(const struct rec *r, int64_t now, char *out, size_t len)
{
	const struct attempt *a = &r->a;
	char ip[IPV4_STRLEN];
	long secs = (long)(elapsed(now, a->progress_ms) / 1000);
	if (a->mismatch[0]) {
		str_copy(out, a->mismatch, len);
		return;
	}
	if (a->restored) {
		fmt_to(out, len,
		       "no progress since it was %s (pixied restarted meanwhile, so the details of "
		       "this attempt are not known)",
		       clients_status_name(r->phase));
		return;
	}
	switch (r->phase) {
	case CLIENTS_ST_WAITING_DHCP:
		if (a->naked)
			fmt_to(out, len,
			       "pixied refused its DHCP request (NAK): it asked for an address "
			       "pixied will not give it (moved from another network?); if this "
			       "repeats, look for a second DHCP server");
		else if (a->no_file)
			fmt_to(out, len, "DHCP answered without a boot file: %s", a->no_file_why);
		else if (a->offered)
			fmt_to(out, len,
			       "pixied offered %s but the client never requested it: another DHCP "
			       "server may have answered first, or the offer does not reach it "
			       "(check relays and VLANs)",
			       fmt_ipv4(ip, a->offered_ip));
		else if (a->no_reply_why[0])
			fmt_to(out, len, "pixied did not answer its DHCP requests: %s",
			       a->no_reply_why);
		else
			fmt_to(
			    out, len,
			    "it asked for an address (%u time%s) but got no usable answer: check "
			    "[dhcp] mode, and in proxy mode that a DHCP server hands out addresses",
			    a->discovers, a->discovers == 1 ? "" : "s");
		return;
	case CLIENTS_ST_WAITING_LOADER: {
		bool url = strstr(r->r.loader, "://") != NULL;
		if (a->last_error[0])
			str_copy(out, a->last_error, len);
		else if (a->transfer_open)
			fmt_to(
			    out, len,
			    "the transfer of the loader %s started but never finished: look for "
			    "packet loss or a firewall dropping TFTP data (UDP ports above 1024)",
			    a->open_path);
		else if (!a->loader_started && url)
			fmt_to(
			    out, len,
			    "got an address and the loader URL %.80s but never fetched it: check "
			    "that the HTTP port is reachable (firewall)",
			    r->r.loader);
		else if (!a->loader_started)
			fmt_to(
			    out, len,
			    "got an address but never fetched a loader (%.64s): check that nothing "
			    "blocks UDP 69 (TFTP) between the client and pixied",
			    r->r.loader[0] ? r->r.loader : "no file name");
		else
			fmt_to(out, len, "the loader was requested but not served (%lds ago)",
			       secs);
		return;
	}
	case CLIENTS_ST_WAITING_SCRIPT: {
		const char *lb = base_name(r->r.loader);
		bool ipxe_loader = strcasestr(lb, "ipxe") || ends_with(lb, ".kpxe");
		if (a->last_error[0])
			str_copy(out, a->last_error, len);
		else if (a->script_given && !a->script_requested)
			fmt_to(
			    out, len,
			    "%s but iPXE never asked for its script (%.80s): check that the HTTP "
			    "port is reachable (firewall)",
			    a->loader_done ? "loader fetched" : "iPXE got its script URL",
			    r->r.script);
		else if (a->loader_done && ipxe_loader && !a->ipxe_dhcp_after_loader)
			fmt_to(out, len,
			       "the loader %.64s was served but never asked for an address again: "
			       "it may not run on this machine (%s); check [loaders]",
			       lb, r->r.has_arch ? r->r.arch_name : "unknown architecture");
		else if (a->loader_done && ipxe_loader && !a->script_given)
			fmt_to(out, len, "iPXE asked for an address but got no script URL%s%s",
			       a->no_file_why[0] ? ": " : " (is DHCP answering iPXE?)",
			       a->no_file_why);
		else if (a->loader_done)
			fmt_to(out, len,
			       "the loader %.64s was served but it never fetched a boot script or "
			       "config (PXELINUX: check options 209/210 and ldlinux.c32)",
			       lb);
		else
			fmt_to(out, len, "no boot script was fetched (%lds without progress)",
			       secs);
		return;
	}
	case CLIENTS_ST_BOOTING:
		if (a->last_error[0]) {
			str_copy(out, a->last_error, len);
		} else if (a->transfer_open) {
			fmt_to(
			    out, len,
			    "the transfer of %s started but never finished: look for packet loss "
			    "or a firewall dropping TFTP data",
			    a->open_path);
		} else if (r->ex && r->ex->n) {
			size_t done = 0, next = r->ex->n;
			for (size_t i = 0; i < r->ex->n; i++) {
				if (r->ex->done[i])
					done++;
				else if (next == r->ex->n)
					next = i;
			}
			if (done == 0)
				fmt_to(out, len,
				       "script served but the %s (%.64s) was never fetched: check "
				       "that "
				       "its URL is reachable from the client",
				       kind_word(r->ex->kind[0]), r->ex->path[0]);
			else
				fmt_to(out, len,
				       "fetched %zu of %zu boot files; the %s (%.64s) was never "
				       "requested",
				       done, r->ex->n,
				       kind_word(r->ex->kind[next < r->ex->n ? next : 0]),
				       r->ex->path[next < r->ex->n ? next : 0]);
		} else if (!a->files_after_script) {
			fmt_to(out, len,
			       "script served but nothing was fetched after it: the client may be "
			       "waiting at the menu, or cannot reach the kernel's URL");
		} else {
			fmt_to(out, len, "no progress since %.64s was served (%lds ago)",
			       a->last_path[0] ? a->last_path : "the last file", secs);
		}
		return;
	default: fmt_to(out, len, "no progress for %lds", secs); return;
	}
}

static bool can_stall(const struct rec *r)
{
	if (!r->a.active || r->stalled)
		return false;
	switch (r->phase) {
	case CLIENTS_ST_WAITING_DHCP:
	case CLIENTS_ST_WAITING_LOADER:
	case CLIENTS_ST_WAITING_SCRIPT:
	case CLIENTS_ST_BOOTING: return true;
	default: return false;
	}
}

struct mark {
	struct rec *r;
	bool booted; /* else stalled */
};

size_t clients_tick(struct clients *c, int64_t now)
{
	if (!c || c->notifying)
		return 0;
	/* decide first, then act: recording events must not disturb the walk */
	struct mark *marks = NULL;
	size_t n = 0, cap = 0;
	int64_t quiet_ms = (int64_t)c->lim.booted_quiet_ms, stall_ms = (int64_t)c->lim.stall_ms;
	for (struct rec *r = c->head; r; r = r->next) {
		bool quiet =
		    r->phase == CLIENTS_ST_BOOTING && r->a.active && !r->stalled &&
		    ((r->a.quiet_candidate && elapsed(now, r->a.progress_ms) >= quiet_ms) ||
		     (r->a.iso_first_ms && elapsed(now, r->a.iso_first_ms) >= quiet_ms));
		bool stall = !quiet && can_stall(r) && elapsed(now, r->a.progress_ms) >= stall_ms;
		if (!quiet && !stall)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct mark *t = realloc(marks, nc * sizeof(*t));
			if (!t)
				break;
			marks = t;
			cap = nc;
		}
		marks[n++] = (struct mark){r, quiet};
	}
	c->marking = true;
	for (size_t i = 0; i < n; i++) {
		struct rec *r = marks[i].r;
		if (marks[i].booted) {
			mark_booted(c, r, now,
				    r->a.iso_first_ms
					? "booting the ISO image"
					: "no further requests after its kernel/initrd");
			continue;
		}
		r->stalled = true;
		sync_status(r, now);
		diagnose(r, now, r->r.diagnosis, sizeof(r->r.diagnosis));
		c->st_.stalled++;
		record_event(c, r, CLIENTS_EV_STALLED, r->r.ip, 0,
			     (uint64_t)elapsed(now, r->a.progress_ms), now, "%s", r->r.diagnosis);
	}
	c->marking = false;
	free(marks);
	clients_flush(c, now, false);
	return n;
}

/* ---- persistence ----------------------------------------------------------------------- */

static int write_batch(struct clients *c, bool with_records)
{
	bool own = !store_in_transaction(c->st);
	int ret;
	if (own && (ret = store_begin(c->st)) < 0) {
		c->st_.store_errors++;
		return ret;
	}
	size_t npend_done = 0, nrec = 0;
	ret = write_pending(c);
	if (ret >= 0) {
		npend_done = (size_t)ret;
		ret = 0;
	}
	if (ret == 0 && with_records) {
		for (size_t i = 0; i < c->ndirty; i++) {
			struct rec *r = c->dirty[i];
			int len = encode_rec(c, r, c->blob, sizeof(c->blob));
			if (len < 0) {
				ret = len;
				break;
			}
			ret = put_blob(c, r->r.mac, r->r.first_seen_ms, r->r.last_seen_ms, c->blob,
				       (size_t)len);
			if (ret < 0)
				break;
			nrec++;
		}
	}
	if (ret == 0 && c->writes_since_prune >= MAX(PRUNE_EVERY, c->lim.store_keep / 8)) {
		int p = store_client_prune(c->st, c->lim.store_keep);
		if (p >= 0)
			c->writes_since_prune = 0;
	}
	if (own) {
		if (ret < 0)
			store_rollback(c->st);
		else if ((ret = store_commit(c->st)) < 0)
			c->st_.store_errors++;
	}
	if (ret < 0) {
		log_rl(&rl_store, LOG_LVL_WARN, MOD,
		       "writing client records failed: %s (kept, "
		       "tried again)",
		       strerror(-ret));
		return ret;
	}
	drop_pending(c, npend_done);
	if (with_records) {
		for (size_t i = 0; i < c->ndirty; i++) {
			c->dirty[i]->dirty = false;
			c->dirty[i]->stored = true;
		}
		c->ndirty = 0;
	}
	return (int)(npend_done + nrec);
}

int clients_flush(struct clients *c, int64_t now, bool force)
{
	if (!c)
		return -EINVAL;
	if (!c->st) {
		for (size_t i = 0; i < c->ndirty; i++)
			c->dirty[i]->dirty = false;
		c->ndirty = 0;
		return 0;
	}
	if (c->ndirty == 0 && c->npend == 0)
		return 0;
	/* Batch: at most one write per flush_ms (a busy DHCP turn must not also write every
	 * record it touched); when due, the writes join a transaction that is open. A flood of
	 * new MACs fills the pending list: write it with the DHCP turn's commit when there is
	 * one (no fsync of our own), on our own only when it is nearly full. */
	bool in_tx = store_in_transaction(c->st);
	bool due = force || (in_tx && c->npend >= PENDING_MAX / 4) || c->npend >= PENDING_MAX * 3 / 4 ||
		   elapsed(now, c->oldest_dirty_ms) >= (int64_t)c->lim.flush_ms ||
		   (c->ndirty == 0 && c->npend > 0 &&
		    elapsed(now, c->oldest_dirty_ms) >= (int64_t)c->lim.flush_ms);
	if (!due)
		return 0;
	int r = write_batch(c, true);
	if (r >= 0)
		c->oldest_dirty_ms = now;
	return r;
}

void clients_turn_end(void *arg)
{
	struct clients *c = arg;
	if (c && (c->ndirty || c->npend))
		clients_flush(c, clients_time_ms(), false);
}

/* ---- lifetime -------------------------------------------------------------------------- */

static int warm_one(void *arg, const struct store_client *sc)
{
	struct clients *c = arg;
	if (c->count >= c->lim.max_clients)
		return 1;
	struct clients_record cr;
	memset(&cr, 0, sizeof(cr));
	memcpy(cr.mac, sc->mac, 6);
	size_t n = 0;
	struct clients_event *tl = calloc(c->lim.persist_events, sizeof(*tl));
	if (!tl)
		return -ENOMEM;
	if (clients_blob_decode(sc->data, sc->data_len, &cr, tl, c->lim.persist_events, &n) < 0) {
		free(tl);
		return 0;
	}
	cr.first_seen_ms = sc->first_seen_ms;
	cr.last_seen_ms = sc->last_seen_ms;
	if (find(c, cr.mac)) {
		free(tl);
		return 0;
	}
	/* rows come most recent first: append at the LRU tail */
	struct rec *r = calloc(1, sizeof(*r));
	if (!r) {
		free(tl);
		return -ENOMEM;
	}
	memcpy(r->r.mac, cr.mac, 6);
	rec_from_record(r, &cr);
	r->stored = true;
	for (size_t i = 0; i < n; i++)
		tl_push(c, r, &tl[i]);
	free(tl);
	size_t b = mac_hash(c, cr.mac);
	r->hnext = c->buckets[b];
	c->buckets[b] = r;
	r->prev = c->tail;
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->count++;
	if (r->r.ip)
		ip_claim(c, r, r->r.ip, r->r.last_seen_ms);
	return 0;
}

struct clients *clients_new(struct store *st, const struct clients_limits *lim)
{
	struct clients *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->st = st;
	if (lim)
		c->lim = *lim;
	if (!c->lim.max_clients)
		c->lim.max_clients = DEF_MAX_CLIENTS;
	if (!c->lim.timeline_len)
		c->lim.timeline_len = DEF_TIMELINE;
	c->lim.timeline_len = MIN(c->lim.timeline_len, (size_t)MAX_TIMELINE);
	if (!c->lim.persist_events)
		c->lim.persist_events = DEF_PERSIST_EVENTS;
	c->lim.persist_events = MIN(c->lim.persist_events, c->lim.timeline_len);
	if (!c->lim.store_keep)
		c->lim.store_keep = DEF_STORE_KEEP;
	c->lim.store_keep = MAX(c->lim.store_keep, c->lim.max_clients);
	if (!c->lim.stall_ms)
		c->lim.stall_ms = DEF_STALL_MS;
	if (!c->lim.booted_quiet_ms)
		c->lim.booted_quiet_ms = DEF_QUIET_MS;
	if (!c->lim.flush_ms)
		c->lim.flush_ms = DEF_FLUSH_MS;
	size_t nb = 64;
	while (nb < c->lim.max_clients * 2 && nb < ((size_t)1 << 30))
		nb <<= 1;
	c->nbuckets = nb;
	c->buckets = calloc(nb, sizeof(*c->buckets));
	c->ibuckets = calloc(nb, sizeof(*c->ibuckets));
	if (!c->buckets || !c->ibuckets)
		goto err;
	if (st) {
		int r = store_client_each(st, warm_one, c);
		if (r < 0)
			log_warn(MOD, "cannot read client records from the store: %s",
				 strerror(-r));
	}
	return c;
err:
	free(c->buckets);
	free(c->ibuckets);
	free(c);
	return NULL;
}

void clients_free(struct clients *c)
{
	if (!c)
		return;
	if (c->st && (c->ndirty || c->npend))
		clients_flush(c, clients_time_ms(), true);
	struct rec *r = c->head;
	while (r) {
		struct rec *n = r->next;
		rec_free(r);
		r = n;
	}
	drop_pending(c, c->npend);
	free(c->dirty);
	free(c->buckets);
	free(c->ibuckets);
	free(c);
}

/* ---- reading --------------------------------------------------------------------------- */

/* What the API sets lives in the store, not in the record: the one-shot next boot and the
 * permanent entry are read afresh every time a record is read. Without a store, next_boot
 * is "" and pinned keeps what the record holds. */
static void fill_from_store(struct clients *c, struct clients_record *r)
{
	r->next_boot[0] = '\0';
	if (!c->st)
		return;
	if (store_nextboot_get(c->st, r->mac, r->next_boot, sizeof(r->next_boot)) != 1)
		r->next_boot[0] = '\0';
	if (store_pin_get(c->st, r->mac, r->pinned, sizeof(r->pinned)) != 1)
		r->pinned[0] = '\0';
}

int clients_get(struct clients *c, const uint8_t mac[6], struct clients_record *out,
		struct clients_event *tl, size_t tl_cap, size_t *tl_n)
{
	if (!c || !mac || !out || (tl_cap && !tl))
		return -EINVAL;
	if (tl_n)
		*tl_n = 0;
	struct rec *r = find(c, mac);
	if (r) {
		*out = r->r;
		size_t n = tl ? tl_copy(r, tl, tl_cap) : 0;
		if (tl_n)
			*tl_n = n;
		fill_from_store(c, out);
		return 1;
	}
	bool from_pending;
	int f = load_persisted(c, mac, out, tl, tl ? tl_cap : 0, tl_n, &from_pending);
	if (f == 1)
		fill_from_store(c, out);
	return f;
}

struct each_ctx {
	struct clients *c;
	clients_each_fn fn;
	void *arg;
	struct clients_record tmp;
};

static int each_row(void *arg, const struct store_client *sc)
{
	struct each_ctx *e = arg;
	struct rec *r = find(e->c, sc->mac);
	if (r) {
		e->tmp = r->r;
	} else {
		memset(&e->tmp, 0, sizeof(e->tmp));
		memcpy(e->tmp.mac, sc->mac, 6);
		if (clients_blob_decode(sc->data, sc->data_len, &e->tmp, NULL, 0, NULL) < 0)
			return 0;
		e->tmp.first_seen_ms = sc->first_seen_ms;
		e->tmp.last_seen_ms = sc->last_seen_ms;
	}
	fill_from_store(e->c, &e->tmp);
	return e->fn(e->arg, &e->tmp);
}

int clients_each(struct clients *c, clients_each_fn fn, void *arg)
{
	if (!c || !fn)
		return -EINVAL;
	struct each_ctx *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->c = c;
	e->fn = fn;
	e->arg = arg;
	int ret = 0;
	bool via_store = false;
	if (c->st && clients_flush(c, clients_time_ms(), true) >= 0) {
		via_store = true;
		ret = store_client_each(c->st, each_row, e);
	}
	if (ret == 0) {
		/* without a store (or when it failed): memory, most recent first; with one, the
		 * records it does not hold yet */
		for (struct rec *r = c->head; r && ret == 0; r = r->next) {
			if (via_store && r->stored)
				continue;
			e->tmp = r->r;
			fill_from_store(c, &e->tmp);
			ret = fn(arg, &e->tmp);
		}
	}
	free(e);
	return ret;
}

/* ---- subscribers ----------------------------------------------------------------------- */

int clients_subscribe(struct clients *c, clients_notify_fn fn, void *arg)
{
	if (!c || !fn)
		return -EINVAL;
	for (size_t i = 0; i < c->nsubs; i++)
		if (c->subs[i].fn == fn && c->subs[i].arg == arg)
			return -EEXIST;
	if (c->nsubs == CLIENTS_SUBSCRIBERS_MAX)
		return -ENOSPC;
	c->subs[c->nsubs++] = (struct sub){fn, arg};
	return 0;
}

void clients_unsubscribe(struct clients *c, clients_notify_fn fn, void *arg)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nsubs; i++)
		if (c->subs[i].fn == fn && c->subs[i].arg == arg) {
			memmove(&c->subs[i], &c->subs[i + 1],
				(c->nsubs - i - 1) * sizeof(c->subs[0]));
			c->nsubs--;
			return;
		}
}

void clients_stats(const struct clients *c, struct clients_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	*out = c->st_;
	out->in_memory = c->count;
	memset(out->by_status, 0, sizeof(out->by_status));
	for (const struct rec *r = c->head; r; r = r->next)
		if ((unsigned)r->r.status < CLIENTS_ST_COUNT)
			out->by_status[r->r.status]++;
}

/* ---- JSON ------------------------------------------------------------------------------ */

/*
 * One small JSON writer serves events and records alike: values go through the bounded
 * writer (core/writer.h, which latches overflow), and each object is a table of fields, so
 * the two objects share every line that writes a field. The caller's buffer keeps one byte
 * for the NUL.
 */

static void j_raw(struct writer *w, const char *s, size_t n)
{
	(void)writer_bytes(w, s, n);
}

static void j_lit(struct writer *w, const char *s)
{
	j_raw(w, s, strlen(s));
}

/* A JSON string of the bytes p[0..n): ASCII out, HTML-significant characters escaped. */
static void j_strn(struct writer *w, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	j_raw(w, "\"", 1);
	for (size_t i = 0; i < n && !w->overflow; i++) {
		unsigned char ch = (unsigned char)p[i];
		switch (ch) {
		case '"': j_raw(w, "\\\"", 2); continue;
		case '\\': j_raw(w, "\\\\", 2); continue;
		case '\n': j_raw(w, "\\n", 2); continue;
		case '\r': j_raw(w, "\\r", 2); continue;
		case '\t': j_raw(w, "\\t", 2); continue;
		default: break;
		}
		if (ch < 0x20 || ch > 0x7e || ch == '<' || ch == '>' || ch == '&' || ch == '\'') {
			/* bytes above 0x7e are not known to be UTF-8: shown as Latin-1 code points
			 */
			char e[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
			j_raw(w, e, sizeof(e));
		} else {
			j_raw(w, (const char *)&ch, 1);
		}
	}
	j_raw(w, "\"", 1);
}

static void j_str(struct writer *w, const char *s)
{
	j_strn(w, s, strlen(s));
}

static void j_u64(struct writer *w, uint64_t v)
{
	char t[24];
	snprintf(t, sizeof(t), "%llu", (unsigned long long)v);
	j_lit(w, t);
}

static void j_i64(struct writer *w, int64_t v)
{
	char t[24];
	snprintf(t, sizeof(t), "%lld", (long long)v);
	j_lit(w, t);
}

static void j_key(struct writer *w, const char *k, bool first)
{
	if (!first)
		j_raw(w, ",", 1);
	j_str(w, k);
	j_raw(w, ":", 1);
}

enum jtype {
	J_MAC,      /* uint8_t[6] -> "aa:bb:.." */
	J_I64,      /* int64_t */
	J_TIME_OPT, /* int64_t, null when 0 */
	J_U64,      /* uint64_t */
	J_U32,      /* uint32_t */
	J_BOOL,     /* bool */
	J_IP,       /* uint32_t host order, null when 0 */
	J_STR,      /* char[size]: never read past the array */
	J_STATUS,   /* enum clients_status -> its name */
	J_KIND,     /* enum clients_event_kind -> its name */
	/* whole-record values (the field is struct clients_record itself) */
	J_R_ARCH,    /* {"code","name"} | null */
	J_R_UUID,    /* "xxxxxxxx-xxxx-..." | null */
	J_R_STALLED, /* the status it stalled in | null */
};

struct jfield {
	const char *key;
	enum jtype type;
	size_t off, size;
};

#define JF(key, type, st, m)                                                                       \
	{                                                                                          \
		key, type, offsetof(st, m), sizeof(((st *)0)->m)                                   \
	}
#define JF_EV(key, type, m)  JF(key, type, struct clients_event, m)
#define JF_REC(key, type, m) JF(key, type, struct clients_record, m)
#define JF_WHOLE(key, type)                                                                        \
	{                                                                                          \
		key, type, 0, sizeof(struct clients_record)                                        \
	}

/* clients.h and docs/api.md list these; the order is the documented one. */
static const struct jfield event_fields[] = {
    JF_EV("mac", J_MAC, mac),
    JF_EV("time", J_I64, time_ms),
    JF_EV("kind", J_KIND, kind),
    JF_EV("status", J_STATUS, status),
    JF_EV("ip", J_IP, ip),
    JF_EV("bytes", J_U64, bytes),
    JF_EV("duration_ms", J_U64, duration_ms),
    JF_EV("detail", J_STR, detail),
};

static const struct jfield record_fields[] = {
    JF_REC("mac", J_MAC, mac),
    JF_REC("first_seen", J_I64, first_seen_ms),
    JF_REC("last_seen", J_I64, last_seen_ms),
    JF_REC("ip", J_IP, ip),
    JF_REC("hostname", J_STR, hostname),
    JF_WHOLE("arch", J_R_ARCH),
    JF_REC("vendor_class", J_STR, vendor_class),
    JF_REC("pxe", J_BOOL, is_pxe),
    JF_REC("http_boot", J_BOOL, is_http),
    JF_REC("ipxe", J_BOOL, is_ipxe),
    JF_WHOLE("uuid", J_R_UUID),
    JF_REC("loader", J_STR, loader),
    JF_REC("script", J_STR, script),
    JF_REC("entry", J_STR, entry),
    JF_REC("rule", J_STR, rule),
    JF_REC("host", J_STR, host),
    JF_REC("next_boot", J_STR, next_boot),
    JF_REC("pinned", J_STR, pinned),
    JF_REC("iface", J_STR, iface),
    JF_REC("status", J_STATUS, status),
    JF_WHOLE("stalled_in", J_R_STALLED),
    JF_REC("diagnosis", J_STR, diagnosis),
    JF_REC("status_since", J_I64, status_since_ms),
    JF_REC("attempt_start", J_TIME_OPT, attempt_start_ms),
    JF_REC("boots", J_U32, boots),
    JF_REC("last_boot_ms", J_U64, last_boot_ms),
};

static void j_value(struct writer *w, const struct jfield *f, const void *obj)
{
	const char *p = (const char *)obj + f->off;
	const struct clients_record *r = obj; /* only for J_R_* */
	char t[40];
	switch (f->type) {
	case J_MAC: j_str(w, fmt_mac(t, (const uint8_t *)p)); break;
	case J_I64: j_i64(w, *(const int64_t *)p); break;
	case J_TIME_OPT:
		if (*(const int64_t *)p)
			j_i64(w, *(const int64_t *)p);
		else
			j_lit(w, "null");
		break;
	case J_U64: j_u64(w, *(const uint64_t *)p); break;
	case J_U32: j_u64(w, *(const uint32_t *)p); break;
	case J_BOOL: j_lit(w, *(const bool *)p ? "true" : "false"); break;
	case J_IP:
		if (*(const uint32_t *)p)
			j_str(w, fmt_ipv4(t, *(const uint32_t *)p));
		else
			j_lit(w, "null");
		break;
	case J_STR: j_strn(w, p, strnlen(p, f->size)); break;
	case J_STATUS: j_str(w, clients_status_name(*(const enum clients_status *)p)); break;
	case J_KIND: j_str(w, clients_event_name(*(const enum clients_event_kind *)p)); break;
	case J_R_ARCH:
		if (!r->has_arch) {
			j_lit(w, "null");
			break;
		}
		j_raw(w, "{", 1);
		j_key(w, "code", true);
		j_u64(w, r->arch_code);
		j_key(w, "name", false);
		j_strn(w, r->arch_name, strnlen(r->arch_name, sizeof(r->arch_name)));
		j_raw(w, "}", 1);
		break;
	case J_R_UUID: {
		if (!r->has_uuid) {
			j_lit(w, "null");
			break;
		}
		const uint8_t *b = r->uuid;
		snprintf(t, sizeof(t),
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
			 b[12], b[13], b[14], b[15]);
		j_str(w, t);
		break;
	}
	case J_R_STALLED:
		if (r->status == CLIENTS_ST_STALLED)
			j_str(w, clients_status_name(r->stalled_in));
		else
			j_lit(w, "null");
		break;
	}
}

/* The fields of obj as "key":value pairs (no braces). */
static void j_fields(struct writer *w, const struct jfield *f, size_t n, const void *obj)
{
	for (size_t i = 0; i < n && !w->overflow; i++) {
		j_key(w, f[i].key, i == 0);
		j_value(w, &f[i], obj);
	}
}

static void event_body(struct writer *w, const struct clients_event *ev)
{
	j_raw(w, "{", 1);
	j_fields(w, event_fields, ARRAY_SIZE(event_fields), ev);
	j_raw(w, "}", 1);
}

static void record_body(struct writer *w, const struct clients_record *r,
			const struct clients_event *tl, size_t ntl)
{
	j_raw(w, "{", 1);
	j_fields(w, record_fields, ARRAY_SIZE(record_fields), r);
	if (tl) {
		j_key(w, "timeline", false);
		j_raw(w, "[", 1);
		for (size_t i = 0; i < ntl && !w->overflow; i++) {
			if (i)
				j_raw(w, ",", 1);
			event_body(w, &tl[i]);
		}
		j_raw(w, "]", 1);
	}
	j_raw(w, "}", 1);
}

/* A writer on buf that keeps the last byte for the NUL. */
static void j_begin(struct writer *w, char *buf, size_t cap)
{
	writer_init(w, buf, cap ? cap - 1 : 0);
}

static int j_end(struct writer *w, char *buf, size_t cap)
{
	if (cap == 0)
		return -ENOSPC;
	if (w->overflow) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	buf[w->len] = '\0';
	return (int)w->len;
}

int clients_event_json(const struct clients_event *ev, char *buf, size_t cap)
{
	if (!ev || (!buf && cap))
		return -EINVAL;
	struct writer w;
	j_begin(&w, buf, cap);
	event_body(&w, ev);
	return j_end(&w, buf, cap);
}

int clients_record_json(const struct clients_record *r, const struct clients_event *tl, size_t ntl,
			char *buf, size_t cap)
{
	if (!r || (!buf && cap))
		return -EINVAL;
	struct writer w;
	j_begin(&w, buf, cap);
	record_body(&w, r, tl, ntl);
	return j_end(&w, buf, cap);
}

struct list_ctx {
	char *buf;
	size_t len, cap;
	bool first;
	int err;
};

static int list_one(void *arg, const struct clients_record *r)
{
	struct list_ctx *l = arg;
	for (;;) {
		size_t room = l->cap - l->len;
		struct writer w;
		writer_init(&w, l->buf + l->len, room);
		if (!l->first)
			j_raw(&w, ",", 1);
		record_body(&w, r, NULL, 0);
		if (!w.overflow && w.len + 2 < room) { /* keep room for "]" and the NUL */
			l->len += w.len;
			l->first = false;
			return 0;
		}
		size_t nc = l->cap * 2;
		char *nb = realloc(l->buf, nc);
		if (!nb) {
			l->err = -ENOMEM;
			return 1;
		}
		l->buf = nb;
		l->cap = nc;
	}
}

int clients_list_json(struct clients *c, char **out, size_t *len)
{
	if (!c || !out)
		return -EINVAL;
	struct list_ctx l = {.cap = 4096, .first = true};
	l.buf = malloc(l.cap);
	if (!l.buf)
		return -ENOMEM;
	l.buf[l.len++] = '[';
	int r = clients_each(c, list_one, &l);
	if (l.err || r < 0) {
		free(l.buf);
		return l.err ? l.err : r;
	}
	l.buf[l.len++] = ']';
	l.buf[l.len] = '\0';
	*out = l.buf;
	if (len)
		*len = l.len;
	return 0;
}

int clients_record_json_alloc(struct clients *c, const uint8_t mac[6], char **out, size_t *len)
{
	if (!c || !mac || !out)
		return -EINVAL;
	struct clients_record r;
	size_t n = 0;
	struct clients_event *tl = calloc(c->lim.timeline_len, sizeof(*tl));
	if (!tl)
		return -ENOMEM;
	int f = clients_get(c, mac, &r, tl, c->lim.timeline_len, &n);
	if (f <= 0) {
		free(tl);
		return f < 0 ? f : -ENOENT;
	}
	size_t cap = 2048 + n * CLIENTS_EVENT_JSON_MAX;
	char *buf = malloc(cap);
	int l = buf ? clients_record_json(&r, tl, n, buf, cap) : -ENOMEM;
	free(tl);
	if (l < 0) {
		free(buf);
		return l == -ENOSPC ? -ENOMEM : l;
	}
	*out = buf;
	if (len)
		*len = (size_t)l;
	return 0;
}
