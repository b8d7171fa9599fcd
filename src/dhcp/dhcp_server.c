/*
 * dhcp/server — the DHCPv4 protocol engine (full RFC 2131 server and proxyDHCP).
 *
 * Owns: pools, leases in memory, reservations, the RFC 2131 §4.3 message rules, relays,
 * proxy mode, reply routing (§4.1) and option selection/order. Does not own: sockets,
 * probes on the wire, SQLite, the clock, PXE boot choice (dhcp_pxe), the wire codec
 * (dhcp_wire). See dhcp_server.h.
 *
 * Data model. Every address we know something about has one `struct lease` record, found
 * by IP (hash) and by client key (hash, a multimap: one client may hold records in several
 * pools). A record is in one of these states:
 *   L_OFFER     only a pending offer (never acknowledged); freed when the offer goes;
 *   L_BOUND     acknowledged, valid until `expires` (expired = reclaimable, still sticky);
 *   L_RELEASED  released by its client: reclaimable, still sticky;
 *   L_DECLINED  quarantined until `expires`;
 *   L_EXPIRED   restored as expired from the store.
 * Any record may also carry a pending offer (offer_until > 0; FIFO list, bounded by
 * conf->dhcp.max_offers, oldest evicted). Each pool range has a bitmap: a bit is set when
 * the address has a record or may never be offered (network, broadcast, our addresses,
 * routers/DNS/NTP servers, reservations), so a clear bit is an address never used; it is
 * found by next-fit word scanning. When no bit is clear, the oldest expired record (per-pool
 * min-heap on `expires`, also holding quarantined ones) and then the oldest released one
 * (per-pool list ordered by release time) are reclaimed. Memory is bounded by the number
 * of addresses in the pools plus reservations plus stored leases.
 *
 * Client key: option 61 if present (1..64 bytes) unless it is just htype+chaddr, else
 * htype+chaddr. Folding "01:<mac>" into the hardware key keeps one address for a machine
 * whose PXE ROM sends no option 61 and whose iPXE then sends 01:<mac> (DHCP-OPTIONS.md §3-4).
 */
#include "dhcp/dhcp_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define BCAST_ADDR 0xffffffffu
#define BOOTP_FLAG_BROADCAST 0x8000u
#define PORT_SERVER 67
#define PORT_CLIENT 68
#define PORT_PXE 4011
#define MAX_RANGE_SIZE (1u << 24)
#define TAB_MIN 1024
#define NPROBE_TRACK 32

enum lstate {
	L_OFFER = 0,
	L_BOUND = STORE_LEASE_BOUND,
	L_RELEASED = STORE_LEASE_RELEASED,
	L_DECLINED = STORE_LEASE_DECLINED,
	L_EXPIRED = STORE_LEASE_EXPIRED,
};

#define KEY_MAX (2 + 16 + STORE_CLIENT_ID_MAX)
struct ckey {
	uint8_t len;
	uint8_t b[KEY_MAX]; /* 'H' htype chaddr... | 'C' client-id... | 'X' (probe conflict) */
};

struct lease {
	uint32_t ip;
	uint8_t state;
	bool probing, probed;
	bool reserved_ip;  /* a reservation's address: never reclaimed for anyone else */
	bool in_rel;
	int16_t pool;
	int8_t range;      /* -1: outside the pool's ranges */
	int64_t expires;
	int64_t offer_until; /* 0: no pending offer */
	uint32_t offer_xid;
	size_t heap_idx;   /* SIZE_MAX: not in the heap */
	struct ckey key;
	uint8_t mac[6];
	uint8_t client_id_len;
	uint8_t client_id[STORE_CLIENT_ID_MAX];
	char hostname[STORE_HOSTNAME_MAX];
	struct lease *ip_next, *key_next;
	struct lease *off_prev, *off_next;
	struct lease *rel_prev, *rel_next;
};

struct range_bm {
	uint32_t start, end;
	uint64_t size;
	uint64_t nset;   /* bits set inside [0, size) */
	uint64_t cursor; /* next-fit position */
	uint64_t *bits;  /* padding bits past `size` are set */
};

struct spool {
	const struct conf_pool *cp;
	uint32_t net, mask;
	uint64_t lease_time;
	struct range_bm r[CONF_MAX_RANGES];
	size_t nr;
	struct lease **heap;
	size_t heap_len, heap_cap;
	struct lease *rel_head, *rel_tail;
};

struct probe_track {
	struct ckey key;
	uint32_t xid;
	unsigned attempts;
	int64_t when;
};

struct dhcp_server {
	const struct conf *c;
	struct dhcp_server_iface *ifs;
	size_t nifs;
	struct spool *pools;
	size_t npools;
	const struct conf_host **host_mac; /* open addressing by MAC */
	const struct conf_host **host_ip;  /* open addressing by reserved IP */
	size_t host_cap;
	struct lease **ip_tab, **key_tab;
	size_t tab_cap;
	size_t nleases;
	struct lease *off_head, *off_tail;
	size_t noffers;
	struct probe_track probes[NPROBE_TRACK];
	struct dhcp_server_stats st;
	/* scratch for building one reply (single-threaded engine) */
	struct dhcp_reply pre, out;
};

/* One request being handled. */
struct req {
	struct dhcp_server *s;
	const struct dhcp_rx *rx;
	const struct dhcp_msg *m;
	const struct dhcp_server_iface *ifc;
	uint32_t sid;      /* our address for option 54 / the source of the reply */
	int64_t now;
	struct ckey key;
	const struct conf_host *host;
	uint16_t cand[CONF_MAX_POOLS];
	size_t ncand;
	struct dhcp_tx *tx;
	const char **why;
	struct dhcp_pxe_boot boot;
};

/* ---- small helpers ---- */

static uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return mix32(h);
}

static bool key_eq(const struct ckey *a, const struct ckey *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

static bool in_subnet(uint32_t ip, uint32_t net, uint32_t mask)
{
	return (ip & mask) == net;
}

static uint32_t subnet_bcast(const struct spool *p)
{
	return p->net | ~p->mask;
}

/* Network and broadcast addresses exist only on subnets bigger than /31 (RFC 3021). */
static bool is_net_or_bcast(const struct spool *p, uint32_t ip)
{
	if (p->mask >= 0xfffffffeu)
		return false;
	return ip == p->net || ip == subnet_bcast(p);
}

static bool is_own_addr(const struct dhcp_server *s, uint32_t ip)
{
	for (size_t i = 0; i < s->nifs; i++)
		if (s->ifs[i].addr == ip)
			return true;
	return false;
}

static const struct dhcp_server_iface *iface_by_index(const struct dhcp_server *s, int ifindex)
{
	for (size_t i = 0; i < s->nifs; i++)
		if (s->ifs[i].ifindex == ifindex)
			return &s->ifs[i];
	return NULL;
}

/* ---- reservations ---- */

static size_t host_slot_mac(const struct dhcp_server *s, const uint8_t mac[6])
{
	return hash_bytes(mac, 6) & (s->host_cap - 1);
}

static size_t host_slot_ip(const struct dhcp_server *s, uint32_t ip)
{
	return mix32(ip) & (s->host_cap - 1);
}

static const struct conf_host *host_by_mac(const struct dhcp_server *s, const uint8_t mac[6])
{
	if (!s->host_cap)
		return NULL;
	for (size_t i = host_slot_mac(s, mac);; i = (i + 1) & (s->host_cap - 1)) {
		const struct conf_host *h = s->host_mac[i];
		if (!h)
			return NULL;
		if (!memcmp(h->mac, mac, 6))
			return h;
	}
}

static const struct conf_host *host_by_ip(const struct dhcp_server *s, uint32_t ip)
{
	if (!s->host_cap)
		return NULL;
	for (size_t i = host_slot_ip(s, ip);; i = (i + 1) & (s->host_cap - 1)) {
		const struct conf_host *h = s->host_ip[i];
		if (!h)
			return NULL;
		if (h->ip == ip)
			return h;
	}
}

static int hosts_build(struct dhcp_server *s)
{
	size_t cap = 16;
	while (cap < 2 * s->c->nhosts + 1)
		cap *= 2;
	s->host_mac = calloc(cap, sizeof(*s->host_mac));
	s->host_ip = calloc(cap, sizeof(*s->host_ip));
	if (!s->host_mac || !s->host_ip)
		return -ENOMEM;
	s->host_cap = cap;
	for (size_t k = 0; k < s->c->nhosts; k++) {
		const struct conf_host *h = &s->c->hosts[k];
		if (!host_by_mac(s, h->mac)) { /* first [host] with a MAC wins */
			size_t i = host_slot_mac(s, h->mac);
			while (s->host_mac[i])
				i = (i + 1) & (cap - 1);
			s->host_mac[i] = h;
		}
		if (h->has_ip && !host_by_ip(s, h->ip)) {
			size_t i = host_slot_ip(s, h->ip);
			while (s->host_ip[i])
				i = (i + 1) & (cap - 1);
			s->host_ip[i] = h;
		}
	}
	return 0;
}

/* ---- range bitmaps ---- */

static int range_find(const struct spool *p, uint32_t ip)
{
	for (size_t i = 0; i < p->nr; i++)
		if (ip >= p->r[i].start && ip <= p->r[i].end)
			return (int)i;
	return -1;
}

static bool bm_test(const struct range_bm *r, uint32_t ip)
{
	uint64_t i = ip - r->start;
	return r->bits[i / 64] & (1ULL << (i % 64));
}

static void bm_set(struct range_bm *r, uint32_t ip)
{
	uint64_t i = ip - r->start;
	if (!(r->bits[i / 64] & (1ULL << (i % 64)))) {
		r->bits[i / 64] |= 1ULL << (i % 64);
		r->nset++;
	}
}

static void bm_clear(struct range_bm *r, uint32_t ip)
{
	uint64_t i = ip - r->start;
	if (r->bits[i / 64] & (1ULL << (i % 64))) {
		r->bits[i / 64] &= ~(1ULL << (i % 64));
		r->nset--;
	}
}

/* Next clear bit at or after the cursor, wrapping once. */
static bool bm_next_free(struct range_bm *r, uint32_t *ip)
{
	if (r->nset >= r->size)
		return false;
	uint64_t nwords = (r->size + 63) / 64;
	uint64_t start = r->cursor < r->size ? r->cursor : 0;
	uint64_t w0 = start / 64;
	for (uint64_t i = 0; i <= nwords; i++) {
		uint64_t wi = (w0 + i) % nwords;
		uint64_t word = r->bits[wi];
		if (i == 0 && start % 64)
			word |= (1ULL << (start % 64)) - 1; /* below the cursor: second lap */
		if (~word) {
			uint64_t idx = wi * 64 + (uint64_t)__builtin_ctzll(~word);
			r->cursor = idx + 1;
			*ip = r->start + (uint32_t)idx;
			return true;
		}
	}
	return false;
}

/* Addresses never offered from a pool, whatever the leases say. */
static bool static_blocked(const struct dhcp_server *s, const struct spool *p, uint32_t ip)
{
	if (is_net_or_bcast(p, ip) || is_own_addr(s, ip) || host_by_ip(s, ip))
		return true;
	const struct conf_pool *cp = p->cp;
	for (size_t i = 0; i < cp->nrouters; i++)
		if (cp->routers[i] == ip)
			return true;
	for (size_t i = 0; i < cp->ndns; i++)
		if (cp->dns[i] == ip)
			return true;
	for (size_t i = 0; i < cp->nntp; i++)
		if (cp->ntp[i] == ip)
			return true;
	return false;
}

static void block_addr(struct spool *p, uint32_t ip)
{
	int ri = range_find(p, ip);
	if (ri >= 0)
		bm_set(&p->r[ri], ip);
}

/* ---- lease tables ---- */

static size_t ip_slot(const struct dhcp_server *s, uint32_t ip)
{
	return mix32(ip) & (s->tab_cap - 1);
}

static size_t key_slot(const struct dhcp_server *s, const struct ckey *k)
{
	return hash_bytes(k->b, k->len) & (s->tab_cap - 1);
}

static struct lease *lease_by_ip(const struct dhcp_server *s, uint32_t ip)
{
	for (struct lease *l = s->ip_tab[ip_slot(s, ip)]; l; l = l->ip_next)
		if (l->ip == ip)
			return l;
	return NULL;
}

static void key_link(struct dhcp_server *s, struct lease *l)
{
	size_t i = key_slot(s, &l->key);
	l->key_next = s->key_tab[i];
	s->key_tab[i] = l;
}

static void key_unlink(struct dhcp_server *s, struct lease *l)
{
	for (struct lease **pp = &s->key_tab[key_slot(s, &l->key)]; *pp; pp = &(*pp)->key_next)
		if (*pp == l) {
			*pp = l->key_next;
			l->key_next = NULL;
			return;
		}
}

static void ip_link(struct dhcp_server *s, struct lease *l)
{
	size_t i = ip_slot(s, l->ip);
	l->ip_next = s->ip_tab[i];
	s->ip_tab[i] = l;
}

static void ip_unlink(struct dhcp_server *s, struct lease *l)
{
	for (struct lease **pp = &s->ip_tab[ip_slot(s, l->ip)]; *pp; pp = &(*pp)->ip_next)
		if (*pp == l) {
			*pp = l->ip_next;
			l->ip_next = NULL;
			return;
		}
}

static int tabs_alloc(struct dhcp_server *s, size_t cap)
{
	struct lease **ipt = calloc(cap, sizeof(*ipt)), **kt = calloc(cap, sizeof(*kt));
	if (!ipt || !kt) {
		free(ipt);
		free(kt);
		return -ENOMEM;
	}
	struct lease **old_ip = s->ip_tab;
	size_t old_cap = s->tab_cap;
	free(s->key_tab);
	s->ip_tab = ipt;
	s->key_tab = kt;
	s->tab_cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		struct lease *l = old_ip[i], *next;
		for (; l; l = next) {
			next = l->ip_next;
			ip_link(s, l);
			key_link(s, l);
		}
	}
	free(old_ip);
	return 0;
}

/* ---- expiry heap and released list (per pool) ---- */

static void heap_swap(struct spool *p, size_t a, size_t b)
{
	struct lease *t = p->heap[a];
	p->heap[a] = p->heap[b];
	p->heap[b] = t;
	p->heap[a]->heap_idx = a;
	p->heap[b]->heap_idx = b;
}

static void heap_up(struct spool *p, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (p->heap[parent]->expires <= p->heap[i]->expires)
			break;
		heap_swap(p, parent, i);
		i = parent;
	}
}

static void heap_down(struct spool *p, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < p->heap_len && p->heap[l]->expires < p->heap[m]->expires)
			m = l;
		if (r < p->heap_len && p->heap[r]->expires < p->heap[m]->expires)
			m = r;
		if (m == i)
			return;
		heap_swap(p, i, m);
		i = m;
	}
}

static void heap_push(struct spool *p, struct lease *l)
{
	if (p->heap_len == p->heap_cap) {
		size_t cap = p->heap_cap ? p->heap_cap * 2 : 64;
		struct lease **h = realloc(p->heap, cap * sizeof(*h));
		if (!h)
			return; /* out of memory: the record is just not reclaimable */
		p->heap = h;
		p->heap_cap = cap;
	}
	l->heap_idx = p->heap_len;
	p->heap[p->heap_len++] = l;
	heap_up(p, l->heap_idx);
}

static void heap_remove(struct spool *p, struct lease *l)
{
	size_t i = l->heap_idx;
	if (i == SIZE_MAX)
		return;
	l->heap_idx = SIZE_MAX;
	p->heap_len--;
	if (i == p->heap_len)
		return;
	p->heap[i] = p->heap[p->heap_len];
	p->heap[i]->heap_idx = i;
	heap_down(p, i);
	heap_up(p, i);
}

static void rel_insert(struct spool *p, struct lease *l)
{
	/* Ordered by release time (`expires`); releases arrive in order, so this is O(1). */
	struct lease *after = p->rel_tail;
	while (after && after->expires > l->expires)
		after = after->rel_prev;
	l->rel_prev = after;
	l->rel_next = after ? after->rel_next : p->rel_head;
	if (l->rel_next)
		l->rel_next->rel_prev = l;
	else
		p->rel_tail = l;
	if (after)
		after->rel_next = l;
	else
		p->rel_head = l;
	l->in_rel = true;
}

static void rel_remove(struct spool *p, struct lease *l)
{
	if (!l->in_rel)
		return;
	if (l->rel_prev)
		l->rel_prev->rel_next = l->rel_next;
	else
		p->rel_head = l->rel_next;
	if (l->rel_next)
		l->rel_next->rel_prev = l->rel_prev;
	else
		p->rel_tail = l->rel_prev;
	l->rel_prev = l->rel_next = NULL;
	l->in_rel = false;
}

static void lists_detach(struct dhcp_server *s, struct lease *l)
{
	struct spool *p = &s->pools[l->pool];
	heap_remove(p, l);
	rel_remove(p, l);
}

/* Put a record where reclaiming finds it (only in-range, non-reserved addresses). */
static void lists_attach(struct dhcp_server *s, struct lease *l)
{
	struct spool *p = &s->pools[l->pool];
	if (l->range < 0 || l->reserved_ip)
		return;
	switch (l->state) {
	case L_BOUND:
	case L_EXPIRED:
	case L_DECLINED:
		heap_push(p, l);
		break;
	case L_RELEASED:
		rel_insert(p, l);
		break;
	default:
		break;
	}
}

/* ---- records ---- */

static struct lease *lease_new(struct dhcp_server *s, uint32_t ip, int pool, const struct ckey *key)
{
	if (s->nleases >= s->tab_cap && tabs_alloc(s, s->tab_cap * 2) < 0 && s->nleases >= 4 * s->tab_cap)
		return NULL;
	struct lease *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	struct spool *p = &s->pools[pool];
	l->ip = ip;
	l->pool = (int16_t)pool;
	l->range = (int8_t)range_find(p, ip);
	l->heap_idx = SIZE_MAX;
	l->reserved_ip = host_by_ip(s, ip) != NULL;
	l->key = *key;
	ip_link(s, l);
	key_link(s, l);
	if (l->range >= 0)
		bm_set(&p->r[l->range], ip);
	s->nleases++;
	s->st.leases = s->nleases;
	return l;
}

static void offer_unlink(struct dhcp_server *s, struct lease *l)
{
	if (!l->offer_until)
		return;
	if (l->off_prev)
		l->off_prev->off_next = l->off_next;
	else
		s->off_head = l->off_next;
	if (l->off_next)
		l->off_next->off_prev = l->off_prev;
	else
		s->off_tail = l->off_prev;
	l->off_prev = l->off_next = NULL;
	l->offer_until = 0;
	s->noffers--;
	s->st.pending_offers = s->noffers;
}

static void offer_clear(struct dhcp_server *s, struct lease *l)
{
	offer_unlink(s, l);
	l->probing = l->probed = false;
}

static void lease_free(struct dhcp_server *s, struct lease *l)
{
	struct spool *p = &s->pools[l->pool];
	offer_unlink(s, l);
	lists_detach(s, l);
	ip_unlink(s, l);
	key_unlink(s, l);
	if (l->range >= 0 && !static_blocked(s, p, l->ip))
		bm_clear(&p->r[l->range], l->ip);
	free(l);
	s->nleases--;
	s->st.leases = s->nleases;
}

/* A pending offer goes away: an offer-only record goes with it. */
static void offer_drop(struct dhcp_server *s, struct lease *l)
{
	if (l->state == L_OFFER) {
		lease_free(s, l);
		return;
	}
	offer_clear(s, l);
}

static void offer_set(struct dhcp_server *s, struct lease *l, int64_t now, uint32_t xid)
{
	offer_unlink(s, l);
	/* Memory stays bounded under a DISCOVER flood: the oldest pending offer goes. */
	uint64_t max = s->c->dhcp.max_offers ? s->c->dhcp.max_offers : 1;
	while (s->noffers >= max && s->off_head) {
		s->st.offers_evicted++;
		offer_drop(s, s->off_head);
	}
	uint64_t hold = s->c->dhcp.offer_time ? s->c->dhcp.offer_time : 60;
	l->offer_until = now + (int64_t)hold;
	l->offer_xid = xid;
	l->off_next = NULL;
	l->off_prev = s->off_tail;
	if (s->off_tail)
		s->off_tail->off_next = l;
	else
		s->off_head = l;
	s->off_tail = l;
	s->noffers++;
	s->st.pending_offers = s->noffers;
}

static void expire_offers(struct dhcp_server *s, int64_t now)
{
	while (s->off_head && s->off_head->offer_until <= now)
		offer_drop(s, s->off_head);
}

static void set_key(struct dhcp_server *s, struct lease *l, const struct ckey *k)
{
	if (key_eq(&l->key, k))
		return;
	key_unlink(s, l);
	l->key = *k;
	key_link(s, l);
}

/* Someone else holds this record right now. */
static bool busy(const struct lease *l, int64_t now)
{
	if (l->offer_until > now)
		return true;
	if ((l->state == L_BOUND || l->state == L_DECLINED) && l->expires > now)
		return true;
	return false;
}

/* Oldest expired (or past-quarantine) record of a pool without a pending offer. */
static struct lease *heap_reclaimable(const struct spool *p, int64_t now)
{
	if (!p->heap_len || p->heap[0]->expires > now)
		return NULL;
	if (!p->heap[0]->offer_until)
		return p->heap[0];
	struct lease *best = NULL; /* rare: the oldest is being re-offered to its owner */
	for (size_t i = 0; i < p->heap_len; i++) {
		struct lease *l = p->heap[i];
		if (l->expires <= now && !l->offer_until && (!best || l->expires < best->expires))
			best = l;
	}
	return best;
}

static struct lease *rel_reclaimable(const struct spool *p)
{
	for (struct lease *l = p->rel_head; l; l = l->rel_next)
		if (!l->offer_until)
			return l;
	return NULL;
}

/* ---- key and facts from a request ---- */

static void key_from_hw(struct ckey *k, uint8_t htype, const uint8_t *chaddr, uint8_t hlen)
{
	if (hlen > 16)
		hlen = 16;
	k->b[0] = 'H';
	k->b[1] = htype;
	memcpy(k->b + 2, chaddr, hlen);
	k->len = (uint8_t)(2 + hlen);
}

static void key_from_cid(struct ckey *k, uint8_t htype, const uint8_t *chaddr, uint8_t hlen,
			 const uint8_t *cid, size_t n)
{
	/* RFC 2131 §4.2: the client identifier, when sent, identifies the client. One that is
	 * just htype + chaddr names the same client as chaddr (see the file comment). */
	if (!cid || n < 1 || n > STORE_CLIENT_ID_MAX ||
	    (n == (size_t)hlen + 1 && cid[0] == htype && memcmp(cid + 1, chaddr, hlen) == 0)) {
		key_from_hw(k, htype, chaddr, hlen);
		return;
	}
	k->b[0] = 'C';
	memcpy(k->b + 1, cid, n);
	k->len = (uint8_t)(1 + n);
}

static void key_from_msg(const struct dhcp_msg *m, struct ckey *k)
{
	size_t n;
	const uint8_t *cid = dhcp_msg_opt(m, DHCP_OPT_CLIENT_ID, &n);
	key_from_cid(k, m->htype, m->chaddr, m->hlen, cid, n);
}

char *dhcp_server_sanitize_hostname(char *dst, size_t dstlen, const uint8_t *src, size_t n)
{
	size_t o = 0;
	if (!dstlen)
		return dst;
	size_t max = dstlen - 1 < 63 ? dstlen - 1 : 63;
	for (size_t i = 0; src && i < n && o < max; i++) {
		uint8_t ch = src[i];
		if (ch == 0)
			break; /* some clients NUL-terminate option 12 */
		if (ch < 0x20 || ch > 0x7e || strchr("<>\"'&\\", ch))
			continue;
		dst[o++] = (char)ch;
	}
	dst[o] = '\0';
	return dst;
}

/* ---- pools for a request ---- */

static size_t pools_for(const struct dhcp_server *s, uint32_t sel, uint16_t *out)
{
	size_t n = 0;
	for (size_t i = 0; i < s->npools; i++)
		if (in_subnet(sel, s->pools[i].net, s->pools[i].mask))
			out[n++] = (uint16_t)i;
	return n;
}

static bool pool_in_cand(const struct req *q, int pool)
{
	for (size_t i = 0; i < q->ncand; i++)
		if (q->cand[i] == pool)
			return true;
	return false;
}

static int drop(struct req *q, const char *why)
{
	*q->why = why;
	q->s->st.drops++;
	return -EINVAL;
}

/* The pools of the client's link: the relay's (giaddr) or the arrival interface's. */
static int select_link(struct req *q)
{
	uint32_t sel = q->m->giaddr ? q->m->giaddr : q->ifc->addr;
	q->ncand = pools_for(q->s, sel, q->cand);
	if (!q->ncand)
		return drop(q, q->m->giaddr ? "giaddr outside every configured subnet"
					   : "no pool for this interface");
	return 0;
}

/*
 * May `ip` be handed to this client on its link? Returns the pool index, or -1 with *why.
 * need_range: it must lie in a range (new dynamic addresses), unless it is this client's
 * own reservation.
 */
static int addr_usable(const struct req *q, uint32_t ip, bool need_range, const char **why)
{
	const struct dhcp_server *s = q->s;
	const char *w = "address not on the client's network";
	for (size_t i = 0; i < q->ncand; i++) {
		const struct spool *p = &s->pools[q->cand[i]];
		if (!in_subnet(ip, p->net, p->mask))
			continue;
		if (is_net_or_bcast(p, ip)) {
			w = "network or broadcast address";
			break;
		}
		if (is_own_addr(s, ip)) {
			w = "the server's own address";
			break;
		}
		const struct conf_host *h = host_by_ip(s, ip);
		if (h && h != q->host) {
			w = "address reserved for another host";
			break;
		}
		if (need_range && !h && range_find(p, ip) < 0) {
			w = "address outside the pool's ranges";
			continue; /* maybe another pool of the same subnet has it */
		}
		return q->cand[i];
	}
	if (why)
		*why = w;
	return -1;
}

/* The client's own record on this link, best first: pending offer, bound, then others. */
static struct lease *client_lease(struct req *q, bool need_range)
{
	struct dhcp_server *s = q->s;
	struct lease *best = NULL;
	int best_rank = -1;
	for (struct lease *l = s->key_tab[key_slot(s, &q->key)]; l; l = l->key_next) {
		if (!key_eq(&l->key, &q->key) || l->state == L_DECLINED || !pool_in_cand(q, l->pool))
			continue;
		if (addr_usable(q, l->ip, need_range, NULL) < 0)
			continue;
		int rank = l->offer_until ? 3 : l->state == L_BOUND ? 2 : 1;
		if (rank > best_rank || (rank == best_rank && l->expires > best->expires)) {
			best = l;
			best_rank = rank;
		}
	}
	return best;
}

/* Does the client hold any record on this link (other than at `except`)? */
static bool client_known(struct req *q, uint32_t except)
{
	struct dhcp_server *s = q->s;
	for (struct lease *l = s->key_tab[key_slot(s, &q->key)]; l; l = l->key_next)
		if (key_eq(&l->key, &q->key) && l->ip != except && l->state != L_DECLINED &&
		    pool_in_cand(q, l->pool))
			return true;
	return false;
}

/* Give a record (free of anyone's claim) to this client as an offer-only record. */
static void take_over(struct req *q, struct lease *l)
{
	struct dhcp_server *s = q->s;
	lists_detach(s, l);
	offer_clear(s, l);
	set_key(s, l, &q->key);
	l->state = L_OFFER;
	l->expires = 0;
	l->hostname[0] = '\0';
	l->client_id_len = 0;
}

/* ---- probe bookkeeping ---- */

static struct probe_track *probe_track_find(struct dhcp_server *s, const struct ckey *k,
					    uint32_t xid, int64_t now, bool create)
{
	struct probe_track *oldest = &s->probes[0];
	uint64_t hold = s->c->dhcp.offer_time ? s->c->dhcp.offer_time : 60;
	for (size_t i = 0; i < NPROBE_TRACK; i++) {
		struct probe_track *t = &s->probes[i];
		if (t->key.len && t->xid == xid && key_eq(&t->key, k)) {
			if (now - t->when > (int64_t)hold)
				t->attempts = 0; /* an old transaction: start over */
			return t;
		}
		if (t->when < oldest->when)
			oldest = t;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	oldest->key = *k;
	oldest->xid = xid;
	oldest->when = now;
	return oldest;
}

/* ---- replies ---- */

static uint64_t pool_lease_time(const struct dhcp_server *s, const struct spool *p)
{
	uint64_t t = p && p->lease_time ? p->lease_time : s->c->dhcp.lease_time;
	if (!t)
		t = 12 * 3600;
	return t > 0xffffffffu ? 0xffffffffu : t;
}

static void fill_store_lease(const struct lease *l, struct store_lease *out)
{
	memset(out, 0, sizeof(*out));
	out->ip = l->ip;
	memcpy(out->mac, l->mac, 6);
	out->client_id_len = l->client_id_len;
	memcpy(out->client_id, l->client_id, l->client_id_len);
	out->expires = l->expires;
	out->state = (enum store_lease_state)l->state;
	str_copy(out->hostname, l->hostname, sizeof(out->hostname));
}

static void persist(struct req *q, const struct lease *l)
{
	q->tx->persist = true;
	fill_store_lease(l, &q->tx->lease);
}

/* Identity fields of the request go onto the record. */
static void note_client(struct req *q, struct lease *l)
{
	const struct dhcp_msg *m = q->m;
	size_t n;
	const uint8_t *cid = dhcp_msg_opt(m, DHCP_OPT_CLIENT_ID, &n);
	if (m->htype == 1 && m->hlen == 6)
		memcpy(l->mac, m->chaddr, 6);
	if (cid && n <= STORE_CLIENT_ID_MAX) {
		memcpy(l->client_id, cid, n);
		l->client_id_len = (uint8_t)n;
	} else {
		l->client_id_len = 0;
	}
	if (q->host) {
		str_copy(l->hostname, q->host->hostname[0] ? q->host->hostname : q->host->name,
			 sizeof(l->hostname));
	} else {
		const uint8_t *hn = dhcp_msg_opt(m, DHCP_OPT_HOSTNAME, &n);
		dhcp_server_sanitize_hostname(l->hostname, sizeof(l->hostname), hn, n);
	}
}

void dhcp_server_route(const struct dhcp_msg *req, uint8_t type, uint32_t yiaddr,
		       struct dhcp_tx *tx)
{
	memset(tx->dst_mac, 0, sizeof(tx->dst_mac));
	/* RFC 2131 §4.1: "If the 'giaddr' field in a DHCP message from a client is non-zero,
	 * the server sends any return messages to the 'DHCP server' port on the BOOTP relay
	 * agent whose address appears in 'giaddr'." */
	if (req->giaddr) {
		tx->dest = DHCP_DEST_UDP;
		tx->dst_ip = req->giaddr;
		tx->dst_port = PORT_SERVER;
		return;
	}
	tx->dst_port = PORT_CLIENT;
	/* "In all cases, when 'giaddr' is zero, the server broadcasts any DHCPNAK messages." */
	if (type == DHCPNAK) {
		tx->dest = DHCP_DEST_BROADCAST;
		tx->dst_ip = BCAST_ADDR;
		return;
	}
	/* "If the 'giaddr' field is zero and the 'ciaddr' field is nonzero, then the server
	 * unicasts DHCPOFFER and DHCPACK messages to the address in 'ciaddr'." */
	if (req->ciaddr) {
		tx->dest = DHCP_DEST_UDP;
		tx->dst_ip = req->ciaddr;
		return;
	}
	/* "If 'giaddr' is zero and 'ciaddr' is zero, and the broadcast bit is set, then the
	 * server broadcasts DHCPOFFER and DHCPACK messages to 0xffffffff. If the broadcast bit
	 * is not set [...] the server unicasts [...] to the client's hardware address and
	 * 'yiaddr' address." Without an Ethernet address or a yiaddr that is impossible. */
	if ((req->flags & BOOTP_FLAG_BROADCAST) || !yiaddr || req->htype != 1 || req->hlen != 6) {
		tx->dest = DHCP_DEST_BROADCAST;
		tx->dst_ip = BCAST_ADDR;
		return;
	}
	tx->dest = DHCP_DEST_RAW;
	tx->dst_ip = yiaddr;
	memcpy(tx->dst_mac, req->chaddr, 6);
}

static void add_ip_list(struct dhcp_reply *r, uint8_t code, const uint32_t *ips, size_t n)
{
	uint8_t b[4 * CONF_MAX_ADDRS];
	if (!n)
		return;
	if (n > CONF_MAX_ADDRS)
		n = CONF_MAX_ADDRS;
	for (size_t i = 0; i < n; i++) {
		b[4 * i] = (uint8_t)(ips[i] >> 24);
		b[4 * i + 1] = (uint8_t)(ips[i] >> 16);
		b[4 * i + 2] = (uint8_t)(ips[i] >> 8);
		b[4 * i + 3] = (uint8_t)ips[i];
	}
	(void)dhcp_reply_add(r, code, b, 4 * n, false);
}

/* RFC 2131 §4.4.5 defaults: T1 = 0.5 * lease, T2 = 0.875 * lease. */
static void add_lease_opts(const struct dhcp_server *s, struct dhcp_reply *r, uint64_t lease)
{
	uint64_t t1 = s->c->dhcp.t1, t2 = s->c->dhcp.t2;
	if (!t1 || t1 >= lease)
		t1 = lease / 2;
	if (!t2 || t2 >= lease || t2 <= t1)
		t2 = lease * 7 / 8;
	if (t2 <= t1)
		t2 = t1;
	/* RFC 2131 §4.3.1 table 3: lease time MUST be in DHCPOFFER and DHCPACK. */
	(void)dhcp_reply_add_u32(r, DHCP_OPT_LEASE_TIME, (uint32_t)lease, true);
	if (lease != 0xffffffffu) {
		(void)dhcp_reply_add_u32(r, DHCP_OPT_T1, (uint32_t)t1, false);
		(void)dhcp_reply_add_u32(r, DHCP_OPT_T2, (uint32_t)t2, false);
	}
}

/* Decide the boot part for this client; sets tx->boot_* for logs. */
static void decide_boot(struct req *q, enum dhcp_pxe_mode mode)
{
	struct dhcp_tx *tx = q->tx;
	dhcp_pxe_decide(q->s->c, &tx->facts, q->sid, mode, &q->boot);
	if (q->boot.has_file) {
		str_copy(tx->boot_buf, q->boot.file, sizeof(tx->boot_buf));
		tx->boot_file = tx->boot_buf;
	} else if (q->boot.boot_client) {
		str_copy(tx->boot_reason, q->boot.reason, sizeof(tx->boot_reason));
	}
}

/* A client handed PXELINUX (pxelinux.0 / lpxelinux.0, from Debian's pxelinux package)
 * gets options 209 (config file) and 210 (path prefix) when [dhcp] configures them. */
static void add_pxelinux_opts(const struct conf *c, const struct dhcp_pxe_boot *b,
			      struct dhcp_reply *r)
{
	const char *base = strrchr(b->file, '/');
	base = base ? base + 1 : b->file;
	if (strcmp(base, "pxelinux.0") && strcmp(base, "lpxelinux.0"))
		return;
	const char *cf = c->dhcp.pxelinux_configfile, *pp = c->dhcp.pxelinux_pathprefix;
	if (cf[0])
		(void)dhcp_reply_add(r, DHCP_OPT_PXELINUX_CONFIGFILE, cf, strlen(cf), false);
	if (pp[0])
		(void)dhcp_reply_add(r, DHCP_OPT_PXELINUX_PATHPREFIX, pp, strlen(pp), false);
}

/* Boot fields and options (60, 43, 175, 67, 97, 66, 209, 210); `required` in proxy replies. */
static void add_boot_opts(struct req *q, struct dhcp_reply *r, bool required)
{
	const struct dhcp_pxe_boot *b = &q->boot;
	if (!b->has_file)
		return;
	r->siaddr = b->siaddr;
	str_copy((char *)r->file, b->file, sizeof(r->file));
	if (b->vendor_class)
		(void)dhcp_reply_add(r, DHCP_OPT_VENDOR_CLASS, b->vendor_class,
				     strlen(b->vendor_class), required);
	if (b->opt43_len)
		(void)dhcp_reply_add(r, DHCP_OPT_VENDOR, b->opt43, b->opt43_len, required);
	if (b->opt175_len)
		(void)dhcp_reply_add(r, DHCP_OPT_IPXE_ENCAP, b->opt175, b->opt175_len, false);
	/* Option 67 with its NUL, as dnsmasq sends it: some PXE ROMs copy it as a C string. */
	(void)dhcp_reply_add(r, DHCP_OPT_BOOTFILE, b->file, strlen(b->file) + 1, required);
	if (b->echo_uuid)
		(void)dhcp_reply_add(r, DHCP_OPT_UUID, b->uuid_opt, sizeof(b->uuid_opt), false);
	add_pxelinux_opts(q->s->c, b, r);
}

/* Option 66: our address as text, beside a TFTP file name (not a URL). */
static void add_tftp_server(struct req *q, struct dhcp_reply *r)
{
	const struct dhcp_pxe_boot *b = &q->boot;
	if (!b->has_file || b->file_is_url)
		return;
	char ip[IPV4_STRLEN];
	fmt_ipv4(ip, b->siaddr);
	(void)dhcp_reply_add(r, DHCP_OPT_TFTP_SERVER, ip, strlen(ip), false);
}

/* Subnet options of a pool: the essentials (1, 3, 6, 28) ... */
static void add_net_basic(struct dhcp_reply *r, const struct spool *p)
{
	const struct conf_pool *cp = p->cp;
	(void)dhcp_reply_add_ip(r, DHCP_OPT_SUBNET_MASK, p->mask, false);
	add_ip_list(r, DHCP_OPT_ROUTER, cp->routers, cp->nrouters);
	add_ip_list(r, DHCP_OPT_DNS, cp->dns, cp->ndns);
	(void)dhcp_reply_add_ip(r, DHCP_OPT_BROADCAST, subnet_bcast(p), false);
}

/* ... and the rest (12 for a reservation, 15, 42), dropped first when space runs out. */
static void add_net_extra(struct req *q, struct dhcp_reply *r, const struct spool *p)
{
	const struct conf_pool *cp = p->cp;
	if (q->host) {
		const char *hn = q->host->hostname[0] ? q->host->hostname : q->host->name;
		if (hn[0])
			(void)dhcp_reply_add(r, DHCP_OPT_HOSTNAME, hn, strlen(hn), false);
	}
	if (cp->domain[0])
		(void)dhcp_reply_add(r, DHCP_OPT_DOMAIN, cp->domain, strlen(cp->domain), false);
	add_ip_list(r, DHCP_OPT_NTP, cp->ntp, cp->nntp);
}

/*
 * Our order, most important first (the builder drops from the end when the reply would not
 * fit; options the client asked for in 55 are moved ahead of all of these anyway):
 * lease times, 1 3 6 28, the boot options, 12 15 42, 66.
 */
static void add_net_opts(struct req *q, struct dhcp_reply *r, const struct spool *p)
{
	add_net_basic(r, p);
	add_boot_opts(q, r, false);
	add_net_extra(q, r, p);
	add_tftp_server(q, r);
}


/*
 * Order the options of s->pre into s->out and build: 53 and 54 first, then the options
 * the client asked for in its option 55 order, then the rest in our order, then option 82
 * last (RFC 3046 §2.2). The builder drops options from the end when the reply would not
 * fit the client's option 57, so requested options outlive unrequested ones.
 */
static int build(struct req *q, uint8_t type, bool with_sid)
{
	struct dhcp_server *s = q->s;
	struct dhcp_reply *pre = &s->pre, *out = &s->out;
	struct dhcp_tx *tx = q->tx;
	size_t n;

	*out = *pre;
	out->nopts = 0;
	out->store_len = 0;
	bool used[DHCP_BUILD_MAX_OPTS] = {false};

	if (type != DHCP_NONE)
		(void)dhcp_reply_add_u8(out, DHCP_OPT_MSG_TYPE, type, true);
	if (with_sid)
		(void)dhcp_reply_add_ip(out, DHCP_OPT_SERVER_ID, q->sid, true);
	const uint8_t *prl = dhcp_msg_opt(q->m, DHCP_OPT_PRL, &n);
	for (size_t i = 0; prl && i < n; i++) {
		for (size_t k = 0; k < pre->nopts; k++) {
			if (used[k] || pre->opts[k].code != prl[i])
				continue;
			used[k] = true;
			(void)dhcp_reply_add(out, pre->opts[k].code, pre->opts[k].data, pre->opts[k].len,
					     pre->opts[k].required);
		}
	}
	for (size_t k = 0; k < pre->nopts; k++)
		if (!used[k])
			(void)dhcp_reply_add(out, pre->opts[k].code, pre->opts[k].data, pre->opts[k].len,
					     pre->opts[k].required);
	/* RFC 3046 §2.2: "DHCP servers [...] MUST copy the Relay Agent Information option as
	 * the last DHCP option in the response." */
	const uint8_t *o82 = dhcp_msg_opt(q->m, DHCP_OPT_RELAY_AGENT, &n);
	if (o82 && type != DHCP_NONE && dhcp_reply_add(out, DHCP_OPT_RELAY_AGENT, o82, n, true) < 0)
		return drop(q, "relay agent option too large to echo");

	int len = dhcp_build(out, tx->buf, sizeof(tx->buf));
	if (len < 0)
		return drop(q, "reply does not fit the client's maximum message size");
	tx->len = (size_t)len;
	tx->type = type;
	return DHCP_RES_REPLY;
}

static void reply_init(struct req *q)
{
	dhcp_reply_init(&q->s->pre, q->m);
}

/* OFFER / ACK carrying an address. */
static int reply_lease(struct req *q, uint8_t type, struct lease *l)
{
	struct dhcp_server *s = q->s;
	struct dhcp_reply *r = &s->pre;
	const struct spool *p = &s->pools[l->pool];
	reply_init(q);
	/* RFC 2131 §4.3.1 table 3: ciaddr 0 in DHCPOFFER; ciaddr from the request in ACK. */
	r->ciaddr = type == DHCPACK ? q->m->ciaddr : 0;
	r->yiaddr = l->ip;
	add_lease_opts(s, r, pool_lease_time(s, p));
	decide_boot(q, DHCP_PXE_MODE_FULL);
	add_net_opts(q, r, p);
	dhcp_server_route(q->m, type, l->ip, q->tx);
	q->tx->yiaddr = l->ip;
	int res = build(q, type, true);
	if (res == DHCP_RES_REPLY) {
		if (type == DHCPOFFER)
			s->st.offers++;
		else
			s->st.acks++;
	}
	return res;
}

static int reply_nak(struct req *q, const char *why)
{
	struct dhcp_reply *r = &q->s->pre;
	*q->why = why;
	reply_init(q);
	/* RFC 2131 §4.3.2: "If 'giaddr' is set in the DHCPREQUEST message, the server sets
	 * the broadcast bit in the DHCPNAK" (the relay then broadcasts it on the client's
	 * link). */
	if (q->m->giaddr)
		r->flags |= BOOTP_FLAG_BROADCAST;
	(void)dhcp_reply_add(r, DHCP_OPT_MESSAGE, why, strlen(why), false);
	dhcp_server_route(q->m, DHCPNAK, 0, q->tx);
	int res = build(q, DHCPNAK, true);
	if (res == DHCP_RES_REPLY)
		q->s->st.naks++;
	return res;
}

/* ---- full mode ---- */

static void bind_lease(struct req *q, struct lease *l)
{
	struct dhcp_server *s = q->s;
	lists_detach(s, l);
	offer_clear(s, l);
	set_key(s, l, &q->key);
	l->state = L_BOUND;
	l->expires = q->now + (int64_t)pool_lease_time(s, &s->pools[l->pool]);
	note_client(q, l);
	lists_attach(s, l);
	persist(q, l);
}

/* The reservation's record for this client, taken over or created; NULL + why if not. */
static struct lease *reserved_lease(struct req *q, const char **why)
{
	struct dhcp_server *s = q->s;
	uint32_t ip = q->host->ip;
	int pi = addr_usable(q, ip, false, why);
	if (pi < 0) {
		*why = "reserved address not on the client's network";
		return NULL;
	}
	struct lease *l = lease_by_ip(s, ip);
	if (l && !key_eq(&l->key, &q->key)) {
		if (busy(l, q->now)) {
			*why = l->state == L_DECLINED ? "reserved address quarantined (declined)"
						      : "reserved address in use by another client";
			return NULL;
		}
		take_over(q, l);
	} else if (l && l->state == L_DECLINED && l->expires > q->now) {
		*why = "reserved address quarantined (declined)";
		return NULL;
	}
	if (!l && !(l = lease_new(s, ip, pi, &q->key)))
		*why = "out of memory";
	return l;
}

static int do_discover(struct req *q)
{
	struct dhcp_server *s = q->s;
	struct lease *l = NULL;
	const char *w = NULL;
	bool fresh = false;
	int r;

	if ((r = select_link(q)) < 0)
		return r;

	if (q->host && q->host->has_ip) {
		/* A reservation: always that address (never probed: it is ours to give). */
		if (!(l = reserved_lease(q, &w)))
			return drop(q, w);
	} else if ((l = client_lease(q, true))) {
		/* RFC 2131 §4.3.1: the client's current or previous address first. */
		/* Its own address is not probed (dnsmasq does the same). */
		if (l->probing && !l->probed) {
			*q->why = "conflict probe in progress";
			return DHCP_RES_NOREPLY;
		}
	} else {
		/* Then the address it asked for (option 50), if free. */
		uint32_t want;
		if (dhcp_msg_opt_ip(q->m, DHCP_OPT_REQUESTED_IP, &want) == 0) {
			int pi = addr_usable(q, want, true, NULL), ri = -1;
			if (pi >= 0)
				ri = range_find(&s->pools[pi], want);
			/* a clear bit: no record and not blocked */
			if (ri >= 0 && !bm_test(&s->pools[pi].r[ri], want))
				l = lease_new(s, want, pi, &q->key);
		}
		/* Then a never-used address, next-fit through the link's pools. */
		for (size_t i = 0; !l && i < q->ncand; i++) {
			struct spool *p = &s->pools[q->cand[i]];
			for (size_t k = 0; !l && k < p->nr; k++) {
				uint32_t ip;
				if (!bm_next_free(&p->r[k], &ip))
					continue;
				if (lease_by_ip(s, ip)) { /* cannot happen: bit clear means no record */
					bm_set(&p->r[k], ip);
					continue;
				}
				l = lease_new(s, ip, q->cand[i], &q->key);
			}
		}
		/* Then the oldest expired lease, then the oldest released one. */
		struct lease *old = NULL;
		for (size_t i = 0; !l && i < q->ncand; i++) {
			struct lease *c = heap_reclaimable(&s->pools[q->cand[i]], q->now);
			if (c && (!old || c->expires < old->expires))
				old = c;
		}
		for (size_t i = 0; !l && !old && i < q->ncand; i++) {
			struct lease *c = rel_reclaimable(&s->pools[q->cand[i]]);
			if (c && (!old || c->expires < old->expires))
				old = c;
		}
		if (!l && old) {
			take_over(q, old);
			l = old;
		}
		if (!l) {
			s->st.exhausted++;
			return drop(q, "pool exhausted");
		}
		fresh = true;
	}

	if (fresh && s->c->dhcp.probe != CONF_PROBE_NONE) {
		struct probe_track *t = probe_track_find(s, &q->key, q->m->xid, q->now, true);
		if (t->attempts >= DHCP_SERVER_PROBE_ATTEMPTS) {
			offer_drop(s, l);
			return drop(q, "no conflict-free address after probing");
		}
		t->when = q->now;
		offer_set(s, l, q->now, q->m->xid);
		l->probing = true;
		l->probed = false;
		q->tx->probe_ip = l->ip;
		s->st.probes++;
		return DHCP_RES_PROBE;
	}

	offer_set(s, l, q->now, q->m->xid);
	note_client(q, l);
	return reply_lease(q, DHCPOFFER, l);
}

/* Forget our pending offers to this client (it chose another server). */
static void forget_offers(struct req *q)
{
	struct dhcp_server *s = q->s;
	struct lease *l = s->key_tab[key_slot(s, &q->key)], *next;
	for (; l; l = next) {
		next = l->key_next;
		if (key_eq(&l->key, &q->key) && l->offer_until)
			offer_drop(s, l);
	}
}

/* SELECTING: the client took our offer (RFC 2131 §4.3.2). */
static int do_selecting(struct req *q, uint32_t ip)
{
	struct dhcp_server *s = q->s;
	const char *w = NULL;
	struct lease *l;

	if (q->host && q->host->has_ip) {
		if (ip != q->host->ip)
			return reply_nak(q, "requested address is not the host's reservation");
		if (!(l = reserved_lease(q, &w)))
			return reply_nak(q, w);
		bind_lease(q, l);
		return reply_lease(q, DHCPACK, l);
	}
	if (addr_usable(q, ip, true, &w) < 0)
		return reply_nak(q, w);
	l = lease_by_ip(s, ip);
	if (!l || !key_eq(&l->key, &q->key) || l->state == L_DECLINED || (l->probing && !l->probed))
		return reply_nak(q, "requested address was not offered to this client");
	bind_lease(q, l);
	return reply_lease(q, DHCPACK, l);
}

/* INIT-REBOOT: a rebooting client asks for its old address (RFC 2131 §4.3.2). */
static int do_init_reboot(struct req *q, uint32_t ip)
{
	struct dhcp_server *s = q->s;
	const char *w = NULL;
	struct lease *l;

	/* "DHCPREQUEST generated during INIT-REBOOT state: [...] Server SHOULD send a DHCPNAK
	 * message to the client if the 'requested IP address' is incorrect, or is on the
	 * wrong network." */
	if (addr_usable(q, ip, false, &w) < 0)
		return reply_nak(q, w);
	if (q->host && q->host->has_ip) {
		if (ip != q->host->ip)
			return reply_nak(q, "requested address is not the host's reservation");
		if (!(l = reserved_lease(q, &w)))
			return reply_nak(q, w);
		bind_lease(q, l);
		return reply_lease(q, DHCPACK, l);
	}
	l = lease_by_ip(s, ip);
	/* Its own lease; or the address we just offered it, for clients that leave option 54
	 * out of their SELECTING REQUEST. */
	if (l && key_eq(&l->key, &q->key) && l->state != L_DECLINED &&
	    (l->state != L_OFFER || l->offer_until) && !(l->probing && !l->probed)) {
		bind_lease(q, l);
		return reply_lease(q, DHCPACK, l);
	}
	if (l && !key_eq(&l->key, &q->key) && busy(l, q->now))
		return reply_nak(q, "requested address belongs to another client");
	if (client_known(q, ip))
		return reply_nak(q, "requested address is not the client's lease");
	/* RFC 2131 §4.3.2 says "If the DHCP server has no record of this client, then it MUST
	 * remain silent"; an authoritative server (the default here, like dnsmasq's
	 * dhcp-authoritative) NAKs instead so the client starts over at once. */
	if (s->c->dhcp.authoritative)
		return reply_nak(q, "no record of this client");
	*q->why = "INIT-REBOOT from an unknown client (not authoritative)";
	return DHCP_RES_NOREPLY;
}

/* RENEWING (unicast) / REBINDING (broadcast): ciaddr set (RFC 2131 §4.3.2). */
static int do_renew(struct req *q, bool rebinding)
{
	struct dhcp_server *s = q->s;
	uint32_t ip = q->m->ciaddr;
	const char *w = NULL;
	struct lease *l;

	if (!rebinding && !q->m->giaddr) {
		/* Renewals are unicast straight to us, not via the relay: find the pool by the
		 * client's own address. */
		q->ncand = pools_for(s, ip, q->cand);
	} else {
		uint32_t sel = q->m->giaddr ? q->m->giaddr : q->ifc->addr;
		q->ncand = pools_for(s, sel, q->cand);
	}
	if (!q->ncand || addr_usable(q, ip, false, &w) < 0) {
		if (!q->ncand)
			w = "address not on any of our networks";
		if (s->c->dhcp.authoritative)
			return reply_nak(q, w);
		*q->why = w;
		return DHCP_RES_NOREPLY;
	}
	if (q->host && q->host->has_ip) {
		if (ip != q->host->ip)
			return reply_nak(q, "address is not the host's reservation");
		if (!(l = reserved_lease(q, &w)))
			return reply_nak(q, w);
		bind_lease(q, l);
		return reply_lease(q, DHCPACK, l);
	}
	l = lease_by_ip(s, ip);
	if (l && key_eq(&l->key, &q->key) &&
	    (l->state == L_BOUND || l->state == L_EXPIRED || l->state == L_RELEASED)) {
		bind_lease(q, l);
		return reply_lease(q, DHCPACK, l);
	}
	if (l)
		return reply_nak(q, "address belongs to another client");
	/* "If the DHCP server has no record of this client [...] (not authoritative) silent". */
	if (s->c->dhcp.authoritative)
		return reply_nak(q, "no lease for this address");
	*q->why = "renewal of an unknown lease (not authoritative)";
	return DHCP_RES_NOREPLY;
}

static int do_request(struct req *q)
{
	const struct dhcp_msg *m = q->m;
	uint32_t ip, sid;
	bool has50 = dhcp_msg_opt_ip(m, DHCP_OPT_REQUESTED_IP, &ip) == 0;
	bool has54 = dhcp_msg_opt_ip(m, DHCP_OPT_SERVER_ID, &sid) == 0;
	int r;

	if (m->ciaddr == 0) {
		/* RFC 2131 §4.3.2: SELECTING and INIT-REBOOT carry 'requested IP address' and
		 * MUST have ciaddr zero. */
		if (!has50)
			return drop(q, "REQUEST with neither ciaddr nor requested address");
		if (has54) {
			/* RFC 2131 §4.3.2: a server identifier that is not ours means the client
			 * chose another server: withdraw our offer, stay silent. Any of our
			 * addresses counts (a client may reach us over another route). */
			if (!is_own_addr(q->s, sid)) {
				forget_offers(q);
				*q->why = "client selected another server";
				return DHCP_RES_NOREPLY;
			}
			q->sid = sid;
			q->tx->src_ip = sid;
			if ((r = select_link(q)) < 0)
				return r;
			return do_selecting(q, ip);
		}
		if ((r = select_link(q)) < 0)
			return r;
		return do_init_reboot(q, ip);
	}
	/* RENEWING: unicast to one of our addresses; REBINDING: broadcast. */
	bool rebinding = q->rx->dst_ip == BCAST_ADDR || q->rx->dst_ip == 0;
	return do_renew(q, rebinding);
}

/* RFC 2131 §4.3.3 */
static int do_decline(struct req *q)
{
	struct dhcp_server *s = q->s;
	uint32_t ip, sid;
	if (dhcp_msg_opt_ip(q->m, DHCP_OPT_SERVER_ID, &sid) < 0 || !is_own_addr(s, sid))
		return drop(q, "DECLINE for another server");
	if (dhcp_msg_opt_ip(q->m, DHCP_OPT_REQUESTED_IP, &ip) < 0)
		return drop(q, "DECLINE without requested address");
	struct lease *l = lease_by_ip(s, ip);
	/* Only the client we gave the address to may take it out of service; anyone else
	 * could otherwise empty the pool. */
	if (!l || !key_eq(&l->key, &q->key) || !(l->offer_until || l->state == L_BOUND))
		return drop(q, "DECLINE from a client that does not hold the address");
	/* "the server MUST mark the network address as not available". */
	lists_detach(s, l);
	offer_clear(s, l);
	note_client(q, l);
	l->state = L_DECLINED;
	l->expires = q->now + (int64_t)(s->c->dhcp.decline_time ? s->c->dhcp.decline_time : 600);
	lists_attach(s, l);
	persist(q, l);
	q->tx->yiaddr = ip;
	s->st.declines++;
	*q->why = "address declined: quarantined";
	return DHCP_RES_NOREPLY;
}

/* RFC 2131 §4.3.4 */
static int do_release(struct req *q)
{
	struct dhcp_server *s = q->s;
	uint32_t sid;
	if (dhcp_msg_opt_ip(q->m, DHCP_OPT_SERVER_ID, &sid) < 0 || !is_own_addr(s, sid))
		return drop(q, "RELEASE for another server");
	struct lease *l = lease_by_ip(s, q->m->ciaddr);
	if (!l || !key_eq(&l->key, &q->key) || l->state != L_BOUND)
		return drop(q, "RELEASE from a client that does not hold the address");
	/* "Upon receipt of a DHCPRELEASE message, the server marks the network address as
	 * not allocated. The server SHOULD retain a record of the client's initialization
	 * parameters for possible reuse": the record stays, keyed to the client. */
	lists_detach(s, l);
	offer_clear(s, l);
	l->state = L_RELEASED;
	l->expires = q->now;
	lists_attach(s, l);
	persist(q, l);
	q->tx->yiaddr = l->ip;
	s->st.releases++;
	*q->why = "address released";
	return DHCP_RES_NOREPLY;
}

/* RFC 2131 §4.3.4 for an admin (dhcp_server.h): same end state as the owner's RELEASE. */
int dhcp_server_release(struct dhcp_server *s, uint32_t ip, int64_t now, struct store_lease *out)
{
	struct lease *l = lease_by_ip(s, ip);
	if (!l || (l->state != L_BOUND && l->state != L_DECLINED))
		return -ENOENT;
	lists_detach(s, l);
	offer_clear(s, l);
	l->state = L_RELEASED;
	l->expires = now;
	lists_attach(s, l);
	fill_store_lease(l, out);
	s->st.releases++;
	return 0;
}

/* RFC 2131 §4.3.5 */
static int do_inform(struct req *q)
{
	struct dhcp_server *s = q->s;
	uint32_t ci = q->m->ciaddr ? q->m->ciaddr : q->rx->src_ip;
	if (!ci)
		return drop(q, "INFORM without ciaddr");
	q->ncand = pools_for(s, ci, q->cand);
	if (!q->ncand)
		return drop(q, "INFORM from an address outside our subnets");
	const struct spool *p = &s->pools[q->cand[0]];
	struct dhcp_reply *r = &s->pre;
	reply_init(q);
	/* "The server responds to a DHCPINFORM message by sending a DHCPACK message directly
	 * to the address given in the 'ciaddr' field [...] The server MUST NOT send a lease
	 * expiration time to the client and SHOULD NOT fill in 'yiaddr'." */
	r->ciaddr = ci;
	decide_boot(q, DHCP_PXE_MODE_FULL);
	add_net_opts(q, r, p);
	struct dhcp_tx *tx = q->tx;
	tx->dest = DHCP_DEST_UDP;
	tx->dst_ip = ci;
	tx->dst_port = PORT_CLIENT;
	int res = build(q, DHCPACK, true);
	if (res == DHCP_RES_REPLY)
		s->st.inform_acks++;
	return res;
}

/* BOOTP (no option 53): reserved hosts only (RFC 951, RFC 1542). */
static int do_bootp(struct req *q)
{
	struct dhcp_server *s = q->s;
	const char *w = NULL;
	int r;
	if ((r = select_link(q)) < 0)
		return r;
	if (!q->host || !q->host->has_ip) {
		*q->why = "BOOTP client without a reservation";
		return DHCP_RES_NOREPLY;
	}
	int pi = addr_usable(q, q->host->ip, false, &w);
	if (pi < 0)
		return drop(q, "reserved address not on the BOOTP client's network");
	struct dhcp_reply *rep = &s->pre;
	reply_init(q);
	rep->yiaddr = q->host->ip;
	decide_boot(q, DHCP_PXE_MODE_FULL);
	if (q->m->has_cookie) { /* options only for a client that speaks RFC 1497 vendor options */
		add_net_basic(rep, &s->pools[pi]);
		add_net_extra(q, rep, &s->pools[pi]);
	}
	if (q->boot.has_file) {
		rep->siaddr = q->boot.siaddr;
		str_copy((char *)rep->file, q->boot.file, sizeof(rep->file));
	}
	dhcp_server_route(q->m, DHCP_NONE, q->host->ip, q->tx);
	q->tx->yiaddr = q->host->ip;
	int res = build(q, DHCP_NONE, false);
	if (res == DHCP_RES_REPLY)
		s->st.bootp_replies++;
	return res;
}

/* ---- proxy ---- */

/* Where a reply without an address goes. */
enum boot_route {
	BOOT_ROUTE_RFC2131, /* §4.1 rules with yiaddr 0: broadcast, or back to the relay */
	BOOT_ROUTE_SOURCE,  /* unicast back to the request's source address and port */
};

/*
 * Boot information without an address, the one reply proxy mode sends: an OFFER on port
 * 67 (PXE 2.1 §2.2.2) or an ACK on port 4011 (§2.2.4). `type` sets the message type and
 * ciaddr (RFC 2131 §4.3.1 table 3: 0 in an OFFER, the request's in an ACK), `route` where
 * it goes, `counter` the stat it counts in. No boot file for the client: no reply.
 */
static int reply_boot_info(struct req *q, uint8_t type, enum boot_route route,
			   uint64_t *counter)
{
	decide_boot(q, DHCP_PXE_MODE_PROXY);
	if (!q->boot.has_file) {
		*q->why = route == BOOT_ROUTE_SOURCE ? "port 4011: no boot file for this client"
						     : "proxy: no boot file for this client";
		return DHCP_RES_NOREPLY;
	}
	struct dhcp_reply *r = &q->s->pre;
	reply_init(q);
	r->ciaddr = type == DHCPACK ? q->m->ciaddr : 0;
	r->yiaddr = 0;
	add_boot_opts(q, r, true);
	add_tftp_server(q, r);
	struct dhcp_tx *tx = q->tx;
	if (route == BOOT_ROUTE_SOURCE) {
		tx->dest = DHCP_DEST_UDP;
		tx->dst_ip = q->rx->src_ip;
		tx->dst_port = q->rx->src_port;
	} else {
		dhcp_server_route(q->m, type, 0, tx); /* no yiaddr: broadcast (or the relay) */
	}
	int res = build(q, type, true);
	if (res == DHCP_RES_REPLY)
		(*counter)++;
	return res;
}

/*
 * ProxyDHCP (PXE 2.1 §2.2.2, as dnsmasq does it): on port 67 only a DISCOVER from a PXE /
 * HTTP Boot client is answered, with an OFFER without an address that carries the boot
 * information; the client's REQUEST on 67 belongs to the real DHCP server and gets nothing
 * from us (dnsmasq: "if we're just a proxy server, go no further"). PXE firmware that wants
 * more asks on port 4011 (do_4011). iPXE takes siaddr + option 67 from the proxy offer as
 * is and does not ask again.
 */
static int do_proxy67(struct req *q)
{
	if (q->m->type != DHCPDISCOVER) {
		*q->why = "proxy: only DISCOVER is answered on port 67";
		return DHCP_RES_NOREPLY;
	}
	return reply_boot_info(q, DHCPOFFER, BOOT_ROUTE_RFC2131, &q->s->st.proxy_offers);
}

/* PXE boot server port 4011 (PXE 2.1 §2.2.4): REQUEST -> ACK with the boot file,
 * unicast back to where it came from. */
static int do_4011(struct req *q)
{
	if (q->m->type != DHCPREQUEST) {
		*q->why = "port 4011: only REQUEST is answered";
		return DHCP_RES_NOREPLY;
	}
	if (!q->rx->src_ip || !q->rx->src_port)
		return drop(q, "port 4011 request without a source address");
	return reply_boot_info(q, DHCPACK, BOOT_ROUTE_SOURCE, &q->s->st.proxy_acks);
}

/* ---- entry points ---- */

/*
 * Options whose length RFC 2132 fixes or bounds: a request carrying one of them with
 * another length is malformed and dropped, rather than read as if the option were absent
 * (a REQUEST with a 3-byte server identifier is not a REQUEST without one).
 * 93, 94 and 97 are read leniently by dhcp_pxe (firmware gets them wrong).
 */
static const char *check_option_lengths(const struct dhcp_msg *m)
{
	static const struct {
		uint8_t code;
		uint8_t min, max;
		const char *why;
	} rules[] = {
		{DHCP_OPT_REQUESTED_IP, 4, 4, "option 50 (requested address) is not 4 bytes"},
		{DHCP_OPT_LEASE_TIME, 4, 4, "option 51 (lease time) is not 4 bytes"},
		{DHCP_OPT_SERVER_ID, 4, 4, "option 54 (server identifier) is not 4 bytes"},
		{DHCP_OPT_MAX_SIZE, 2, 2, "option 57 (maximum message size) is not 2 bytes"},
		{DHCP_OPT_CLIENT_ID, 2, 255, "option 61 (client identifier) shorter than 2 bytes"},
		{DHCP_OPT_HOSTNAME, 1, 255, "option 12 (host name) is empty"},
		{DHCP_OPT_VENDOR_CLASS, 1, 255, "option 60 (vendor class) is empty"},
		{DHCP_OPT_PRL, 1, 255, "option 55 (parameter request list) is empty"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
		size_t len;
		if (!m->opt[rules[i].code].present)
			continue;
		(void)dhcp_msg_opt(m, rules[i].code, &len);
		if (len < rules[i].min || len > rules[i].max)
			return rules[i].why;
	}
	return NULL;
}

/* Column of stats.rx_arch: the loader key of the client's option 93 (or the arch in its
 * PXEClient:Arch:NNNNN vendor class); CONF_ARCH_COUNT for no arch, an arch without a
 * loader key, or a client that is not booting (PXE, HTTP Boot or iPXE). */
static size_t rx_arch_index(const struct dhcp_pxe_facts *f, bool boot_client)
{
	if (!boot_client || !f->has_arch || (size_t)f->arch >= CONF_ARCH_COUNT)
		return CONF_ARCH_COUNT;
	return (size_t)f->arch;
}

int dhcp_server_handle(struct dhcp_server *s, const struct dhcp_rx *rx, int64_t now,
		       struct dhcp_tx *tx, const char **why)
{
	static const char *unused;
	struct req q;
	const struct dhcp_msg *m = rx->msg;

	if (!why)
		why = &unused;
	*why = NULL;
	memset(tx, 0, sizeof(*tx));
	memset(&q, 0, sizeof(q));
	q.s = s;
	q.rx = rx;
	q.m = m;
	q.now = now;
	q.tx = tx;
	q.why = why;

	/* Facts first: the per-architecture counters cover every request, dropped ones too
	 * (the parse never fails; malformed options count as absent). */
	dhcp_pxe_facts_parse(m, &tx->facts);
	bool boot_client = tx->facts.is_pxe || tx->facts.is_http || tx->facts.is_ipxe;
	if (m->type <= DHCPINFORM) {
		s->st.rx[m->type]++;
		s->st.rx_arch[m->type][rx_arch_index(&tx->facts, boot_client)]++;
	}
	if (s->c->dhcp.mode == CONF_DHCP_OFF) {
		*why = "DHCP is off";
		return DHCP_RES_NOREPLY;
	}
	if (m->op != DHCP_OP_REQUEST)
		return drop(&q, "not a BOOTREQUEST");
	if (!(q.ifc = iface_by_index(s, rx->ifindex)))
		return drop(&q, "not a configured interface");
	const char *bad = check_option_lengths(m);
	if (bad)
		return drop(&q, bad);

	/* Server identifier: the address the client (or relay) sent to when it is one of
	 * ours (unicast renewals, relays configured with another of our addresses), else the
	 * arrival interface's address. */
	q.sid = is_own_addr(s, rx->dst_ip) ? rx->dst_ip : q.ifc->addr;
	tx->ifindex = rx->ifindex;
	tx->src_ip = q.sid;
	tx->src_port = rx->local_port == PORT_PXE ? PORT_PXE : PORT_SERVER;
	key_from_msg(m, &q.key);
	if (m->htype == 1 && m->hlen == 6)
		q.host = host_by_mac(s, m->chaddr);
	expire_offers(s, now);

	if (rx->local_port == PORT_PXE) {
		if (!boot_client) {
			*why = "port 4011: not a PXE client";
			return DHCP_RES_NOREPLY;
		}
		return do_4011(&q);
	}
	if (s->c->dhcp.mode == CONF_DHCP_PROXY) {
		if (!boot_client) {
			*why = "proxy: not a PXE client";
			return DHCP_RES_NOREPLY;
		}
		return do_proxy67(&q);
	}

	switch (m->type) {
	case DHCP_NONE:
		return do_bootp(&q);
	case DHCPDISCOVER:
		return do_discover(&q);
	case DHCPREQUEST:
		return do_request(&q);
	case DHCPDECLINE:
		return do_decline(&q);
	case DHCPRELEASE:
		return do_release(&q);
	case DHCPINFORM:
		return do_inform(&q);
	default:
		return drop(&q, "server message type from a client");
	}
}

void dhcp_server_probe_done(struct dhcp_server *s, uint32_t ip, bool in_use, int64_t now,
			    struct dhcp_tx *tx)
{
	if (tx)
		tx->persist = false;
	struct lease *l = lease_by_ip(s, ip);
	if (!l || !l->probing || l->probed)
		return;
	if (!in_use) {
		l->probed = true;
		return;
	}
	/* Someone answers on the address: quarantine it like a DECLINE, keyed to nobody. */
	s->st.probe_conflicts++;
	struct probe_track *t = probe_track_find(s, &l->key, l->offer_xid, now, true);
	t->attempts++;
	t->when = now;
	struct ckey nobody = {.len = 1, .b = {'X'}};
	lists_detach(s, l);
	offer_clear(s, l);
	set_key(s, l, &nobody);
	memset(l->mac, 0, sizeof(l->mac));
	l->client_id_len = 0;
	l->hostname[0] = '\0';
	l->state = L_DECLINED;
	l->expires = now + (int64_t)(s->c->dhcp.decline_time ? s->c->dhcp.decline_time : 600);
	lists_attach(s, l);
	if (tx) {
		tx->persist = true;
		fill_store_lease(l, &tx->lease);
	}
}

/* ---- construction ---- */

static void pools_free(struct spool *pools, size_t n)
{
	for (size_t i = 0; pools && i < n; i++) {
		for (size_t k = 0; k < pools[i].nr; k++)
			free(pools[i].r[k].bits);
		free(pools[i].heap);
	}
	free(pools);
}

static void server_release(struct dhcp_server *s)
{
	for (size_t i = 0; s->ip_tab && i < s->tab_cap; i++) {
		struct lease *l = s->ip_tab[i], *next;
		for (; l; l = next) {
			next = l->ip_next;
			free(l);
		}
	}
	free(s->ip_tab);
	free(s->key_tab);
	pools_free(s->pools, s->npools);
	free(s->host_mac);
	free(s->host_ip);
	free(s->ifs);
}

void dhcp_server_free(struct dhcp_server *s)
{
	if (!s)
		return;
	server_release(s);
	free(s);
}

static int pools_build(struct dhcp_server *s, char *err, size_t errlen)
{
	const struct conf *c = s->c;
	char a[IPV4_STRLEN], b[IPV4_STRLEN], a2[IPV4_STRLEN], b2[IPV4_STRLEN];

	if (c->dhcp.mode != CONF_DHCP_FULL || !c->npools)
		return 0;
	s->pools = calloc(c->npools, sizeof(*s->pools));
	if (!s->pools) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->npools = c->npools;
	for (size_t i = 0; i < c->npools; i++) {
		const struct conf_pool *cp = &c->pools[i];
		struct spool *p = &s->pools[i];
		p->cp = cp;
		p->lease_time = cp->lease_time;
		if (cp->has_subnet) {
			p->mask = cp->mask;
			p->net = cp->net & cp->mask;
		} else {
			if (!cp->nranges) {
				snprintf(err, errlen, "pool %s (line %u): no subnet and no range to find one",
					 cp->name, cp->line);
				return -EINVAL;
			}
			size_t k;
			for (k = 0; k < s->nifs; k++) {
				const struct dhcp_server_iface *f = &s->ifs[k];
				if (f->addr && in_subnet(cp->ranges[0].start, f->addr & f->mask, f->mask))
					break;
			}
			if (k == s->nifs) {
				snprintf(err, errlen,
					 "pool %s (line %u): no interface has a subnet containing %s; "
					 "give the pool a subnet or serve its interface",
					 cp->name, cp->line, fmt_ipv4(a, cp->ranges[0].start));
				return -EINVAL;
			}
			p->mask = s->ifs[k].mask;
			p->net = s->ifs[k].addr & p->mask;
		}
		for (size_t k = 0; k < cp->nranges && k < CONF_MAX_RANGES; k++) {
			const struct conf_range *cr = &cp->ranges[k];
			if (cr->start > cr->end || !in_subnet(cr->start, p->net, p->mask) ||
			    !in_subnet(cr->end, p->net, p->mask)) {
				snprintf(err, errlen, "pool %s (line %u): range %s-%s is not inside %s/%d",
					 cp->name, cp->line, fmt_ipv4(a, cr->start), fmt_ipv4(b, cr->end),
					 fmt_ipv4(a2, p->net), ipv4_prefix(p->mask));
				return -EINVAL;
			}
			uint64_t size = (uint64_t)cr->end - cr->start + 1;
			if (size > MAX_RANGE_SIZE) {
				snprintf(err, errlen, "pool %s (line %u): range %s-%s larger than a /8",
					 cp->name, cp->line, fmt_ipv4(a, cr->start), fmt_ipv4(b, cr->end));
				return -EINVAL;
			}
			struct range_bm *r = &p->r[p->nr];
			uint64_t nwords = (size + 63) / 64;
			r->bits = calloc(nwords, sizeof(uint64_t));
			if (!r->bits) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			r->start = cr->start;
			r->end = cr->end;
			r->size = size;
			if (size % 64)
				r->bits[nwords - 1] = ~((1ULL << (size % 64)) - 1);
			p->nr++;
		}
	}
	/* Overlapping ranges would hand one address out twice. */
	for (size_t i = 0; i < s->npools; i++)
		for (size_t k = 0; k < s->pools[i].nr; k++)
			for (size_t j = i; j < s->npools; j++)
				for (size_t m = (j == i ? k + 1 : 0); m < s->pools[j].nr; m++) {
					const struct range_bm *x = &s->pools[i].r[k], *y = &s->pools[j].r[m];
					if (x->start <= y->end && y->start <= x->end) {
						snprintf(err, errlen, "pools %s and %s: ranges %s-%s and %s-%s overlap",
							 s->pools[i].cp->name, s->pools[j].cp->name,
							 fmt_ipv4(a, x->start), fmt_ipv4(b, x->end),
							 fmt_ipv4(a2, y->start), fmt_ipv4(b2, y->end));
						return -EINVAL;
					}
				}
	/* Addresses never offered. */
	for (size_t i = 0; i < s->npools; i++) {
		struct spool *p = &s->pools[i];
		const struct conf_pool *cp = p->cp;
		if (p->mask < 0xfffffffeu) {
			block_addr(p, p->net);
			block_addr(p, subnet_bcast(p));
		}
		for (size_t k = 0; k < s->nifs; k++)
			block_addr(p, s->ifs[k].addr);
		for (size_t k = 0; k < cp->nrouters; k++)
			block_addr(p, cp->routers[k]);
		for (size_t k = 0; k < cp->ndns; k++)
			block_addr(p, cp->dns[k]);
		for (size_t k = 0; k < cp->nntp; k++)
			block_addr(p, cp->ntp[k]);
		for (size_t k = 0; k < c->nhosts; k++)
			if (c->hosts[k].has_ip)
				block_addr(p, c->hosts[k].ip);
	}
	return 0;
}

static struct dhcp_server *server_build(const struct conf *c, const struct dhcp_server_iface *ifs,
					size_t nifs, char *err, size_t errlen)
{
	struct dhcp_server *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->c = c;
	if (nifs) {
		s->ifs = calloc(nifs, sizeof(*s->ifs));
		if (!s->ifs)
			goto err_nomem;
		memcpy(s->ifs, ifs, nifs * sizeof(*ifs));
		s->nifs = nifs;
	}
	if (hosts_build(s) < 0)
		goto err_nomem;
	if (tabs_alloc(s, TAB_MIN) < 0)
		goto err_nomem;
	if (pools_build(s, err, errlen) < 0)
		goto err_free;
	return s;

err_nomem:
	snprintf(err, errlen, "out of memory");
err_free:
	dhcp_server_free(s);
	return NULL;
}

struct dhcp_server *dhcp_server_new(const struct conf *c, const struct dhcp_server_iface *ifs,
				    size_t nifs, char *err, size_t errlen)
{
	return server_build(c, ifs, nifs, err, errlen);
}

/* Put a known lease in: the pool whose range (else subnet) holds the address. */
static int insert_record(struct dhcp_server *s, uint32_t ip, const struct ckey *key,
			 const uint8_t mac[6], const uint8_t *cid, size_t cid_len,
			 const char *hostname, uint8_t state, int64_t expires)
{
	int pool = -1;
	for (size_t i = 0; i < s->npools; i++) {
		struct spool *p = &s->pools[i];
		if (!in_subnet(ip, p->net, p->mask))
			continue;
		if (range_find(p, ip) >= 0) {
			pool = (int)i;
			break;
		}
		if (pool < 0)
			pool = (int)i;
	}
	if (pool < 0 || is_net_or_bcast(&s->pools[pool], ip) || is_own_addr(s, ip))
		return -ENOENT;
	if (state != L_BOUND && state != L_RELEASED && state != L_DECLINED && state != L_EXPIRED)
		return -EINVAL;
	struct lease *old = lease_by_ip(s, ip);
	if (old)
		lease_free(s, old);
	struct lease *l = lease_new(s, ip, pool, key);
	if (!l)
		return -ENOMEM;
	memcpy(l->mac, mac, 6);
	if (cid_len > sizeof(l->client_id))
		cid_len = sizeof(l->client_id);
	memcpy(l->client_id, cid, cid_len);
	l->client_id_len = (uint8_t)cid_len;
	dhcp_server_sanitize_hostname(l->hostname, sizeof(l->hostname), (const uint8_t *)hostname,
				      strnlen(hostname, STORE_HOSTNAME_MAX));
	l->state = state;
	l->expires = expires;
	lists_attach(s, l);
	return 0;
}

int dhcp_server_restore_lease(struct dhcp_server *s, const struct store_lease *l, int64_t now)
{
	(void)now; /* expiry is judged when the address is wanted */
	struct ckey key;
	size_t cid_len = l->client_id_len <= STORE_CLIENT_ID_MAX ? l->client_id_len : 0;
	if (l->state == STORE_LEASE_DECLINED && cid_len == 0 && !memcmp(l->mac, "\0\0\0\0\0\0", 6)) {
		key.len = 1;
		key.b[0] = 'X'; /* a probe conflict: nobody's */
	} else {
		key_from_cid(&key, 1, l->mac, 6, cid_len ? l->client_id : NULL, cid_len);
	}
	return insert_record(s, l->ip, &key, l->mac, l->client_id, cid_len, l->hostname,
			     (uint8_t)l->state, l->expires);
}

int dhcp_server_reconfigure(struct dhcp_server *s, const struct conf *c,
			    const struct dhcp_server_iface *ifs, size_t nifs, char *err,
			    size_t errlen)
{
	struct dhcp_server *n = server_build(c, ifs, nifs, err, errlen);
	if (!n)
		return -EINVAL;
	/* Keep every lease the new pools still cover; pending offers are dropped. */
	for (size_t i = 0; i < s->tab_cap; i++)
		for (struct lease *l = s->ip_tab[i]; l; l = l->ip_next) {
			if (l->state == L_OFFER)
				continue;
			int r = insert_record(n, l->ip, &l->key, l->mac, l->client_id, l->client_id_len,
					      l->hostname, l->state, l->expires);
			if (r == -ENOMEM) {
				snprintf(err, errlen, "out of memory");
				dhcp_server_free(n);
				return r;
			}
		}
	n->st = s->st;
	n->st.pending_offers = n->noffers;
	n->st.leases = n->nleases;
	memcpy(n->probes, s->probes, sizeof(n->probes));
	struct dhcp_server tmp = *s;
	*s = *n;
	*n = tmp;
	dhcp_server_free(n);
	return 0;
}

/* ---- stats ---- */

const struct dhcp_server_stats *dhcp_server_stats(const struct dhcp_server *s)
{
	return &s->st;
}

size_t dhcp_server_npools(const struct dhcp_server *s)
{
	return s->npools;
}

int dhcp_server_pool_stats(const struct dhcp_server *s, size_t i, int64_t now,
			   struct dhcp_server_pool_stats *out)
{
	if (i >= s->npools)
		return -ENOENT;
	const struct spool *p = &s->pools[i];
	memset(out, 0, sizeof(*out));
	out->name = p->cp->name;
	out->net = p->net;
	out->mask = p->mask;
	for (size_t k = 0; k < p->nr; k++) {
		out->size += p->r[k].size;
		out->free += p->r[k].size - p->r[k].nset;
	}
	for (size_t k = 0; k < s->tab_cap; k++)
		for (const struct lease *l = s->ip_tab[k]; l; l = l->ip_next) {
			if (l->pool != (int)i)
				continue;
			if (l->offer_until > now)
				out->offered++;
			else if (l->state == L_BOUND && l->expires > now)
				out->bound++;
			else if (l->state == L_DECLINED && l->expires > now)
				out->declined++;
			else if (l->state != L_OFFER)
				out->reclaimable++;
		}
	return 0;
}
