/*
 * metrics — see metrics.h. Keeps the two things no other module counts (HTTP requests by
 * status code, the boot-duration histogram), snapshots every source at render time and
 * writes the families through the pure encoder in metrics_text.c.
 */
#include "metrics/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "dhcp/dhcp.h"
#include "dhcp/dhcp_wire.h"
#include "metrics/metrics_text.h"

#define MOD "metrics"

#ifndef PIXIED_VERSION
#define PIXIED_VERSION "unknown"
#endif

#define RENDER_FIRST (16u * 1024)        /* first buffer; doubled while it does not fit */
#define RENDER_MAX   (16u * 1024 * 1024) /* never more: -ENOMEM */

/* Seconds: a PXE boot takes from a few seconds (local boot) to many minutes (an ISO). */
const double metrics_boot_bounds[METRICS_BOOT_BUCKETS] = {1,  2,   5,   10,  20,   30,
							  60, 120, 300, 600, 1200, 1800};

struct metrics {
	struct metrics_sources src;
	bool subscribed;
	uint64_t http_codes[METRICS_HTTP_CODES];
	uint64_t http_bytes;
	bool http_seen; /* metrics_on_http was called */
	uint64_t boot_counts[METRICS_BOOT_BUCKETS + 1];
	double boot_sum_s;
};

/* ---- inputs ---------------------------------------------------------------------------- */

void metrics_on_client_event(void *arg, const struct clients_event *ev)
{
	struct metrics *m = arg;
	if (!m || !ev || ev->kind != CLIENTS_EV_BOOTED)
		return;
	double s = (double)ev->duration_ms / 1000.0;
	size_t i = 0;
	while (i < METRICS_BOOT_BUCKETS && s > metrics_boot_bounds[i])
		i++;
	m->boot_counts[i]++;
	m->boot_sum_s += s;
}

void metrics_on_http(struct metrics *m, const struct http_access *a)
{
	if (!m || !a)
		return;
	size_t code = a->status >= 100 && a->status < METRICS_HTTP_CODES ? (size_t)a->status : 0;
	m->http_codes[code]++;
	m->http_bytes += a->bytes;
	m->http_seen = true;
}

/* ---- lifetime -------------------------------------------------------------------------- */

struct metrics *metrics_new(const struct metrics_sources *src)
{
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	if (src)
		m->src = *src;
	if (!m->src.version)
		m->src.version = PIXIED_VERSION;
	if (!m->src.started_ms)
		m->src.started_ms = clients_time_ms();
	if (m->src.clients) {
		int r = clients_subscribe(m->src.clients, metrics_on_client_event, m);
		if (r < 0) {
			log_msg(LOG_LVL_ERR, MOD, "cannot follow client events: %s", strerror(-r));
			free(m);
			return NULL;
		}
		m->subscribed = true;
	}
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	if (m->subscribed)
		clients_unsubscribe(m->src.clients, metrics_on_client_event, m);
	free(m);
}

/* ---- the families ---------------------------------------------------------------------- */

static const char *const dhcp_type_names[DHCPINFORM + 1] = {
    "bootp", "discover", "offer", "request", "decline", "ack", "nak", "release", "inform",
};

/* Types a client sends: their arch="none" row is shown even at zero, so the family has
 * its series from the first scrape. */
static bool client_type(size_t t)
{
	return t == 0 || t == DHCPDISCOVER || t == DHCPREQUEST || t == DHCPDECLINE ||
	       t == DHCPRELEASE || t == DHCPINFORM;
}

#define L(n, v) ((struct metrics_label){(n), (v)})

static void encode_dhcp(struct metrics_text *t, const struct metrics_snapshot *s)
{
	const struct dhcp_server_stats *d = s->dhcp;
	metrics_text_family(
	    t, "pixied_dhcp_messages_received_total", METRICS_COUNTER,
	    "DHCP and BOOTP requests received, by message type and client "
	    "architecture (the [loaders] key; none = no option 93 or not booting).");
	for (size_t ty = 0; ty <= DHCPINFORM; ty++)
		for (size_t a = 0; a <= CONF_ARCH_COUNT; a++) {
			uint64_t v = d->rx_arch[ty][a];
			if (!v && !(a == CONF_ARCH_COUNT && client_type(ty)))
				continue;
			struct metrics_label l[2] = {
			    L("type", dhcp_type_names[ty]),
			    L("arch",
			      a < CONF_ARCH_COUNT ? conf_arch_name((enum conf_arch)a) : "none")};
			metrics_text_u64(t, l, 2, v);
		}

	metrics_text_family(t, "pixied_dhcp_messages_sent_total", METRICS_COUNTER,
			    "DHCP and BOOTP replies sent, by message type (proxyDHCP replies and "
			    "ACKs to INFORM included).");
	const struct {
		const char *type;
		uint64_t v;
	} sent[] = {
	    {"offer", d->offers + d->proxy_offers},
	    {"ack", d->acks + d->proxy_acks + d->inform_acks},
	    {"nak", d->naks},
	    {"bootp", d->bootp_replies},
	};
	for (size_t i = 0; i < ARRAY_SIZE(sent); i++) {
		struct metrics_label l = L("type", sent[i].type);
		metrics_text_u64(t, &l, 1, sent[i].v);
	}

	metrics_text_family(t, "pixied_dhcp_pool_addresses", METRICS_GAUGE,
			    "Addresses of each DHCP pool by state (free: never used, handed out "
			    "first; reclaimable: expired or released, reused when free runs out).");
	for (size_t i = 0; i < s->npools; i++) {
		const struct metrics_pool *p = &s->pools[i];
		const struct {
			const char *state;
			uint64_t v;
		} st[] = {{"free", p->free},
			  {"offered", p->offered},
			  {"bound", p->bound},
			  {"declined", p->declined},
			  {"reclaimable", p->reclaimable}};
		for (size_t k = 0; k < ARRAY_SIZE(st); k++) {
			struct metrics_label l[2] = {L("pool", p->name ? p->name : ""),
						     L("state", st[k].state)};
			metrics_text_u64(t, l, 2, st[k].v);
		}
	}
	metrics_text_family(t, "pixied_dhcp_pool_size", METRICS_GAUGE,
			    "Addresses in the ranges of each DHCP pool.");
	for (size_t i = 0; i < s->npools; i++) {
		struct metrics_label l = L("pool", s->pools[i].name ? s->pools[i].name : "");
		metrics_text_u64(t, &l, 1, s->pools[i].size);
	}
}

static void encode_tftp(struct metrics_text *t, const struct tftp_stats *st)
{
	metrics_text_family(t, "pixied_tftp_transfers_active", METRICS_GAUGE,
			    "TFTP transfers in progress.");
	metrics_text_u64(t, NULL, 0, st->active);
	metrics_text_family(
	    t, "pixied_tftp_transfers_total", METRICS_COUNTER,
	    "TFTP transfers ended, by result (failed includes transfers the client "
	    "aborted, e.g. a PXE ROM's tsize probe; refused: answered with an ERROR "
	    "before any data).");
	const struct {
		const char *result;
		uint64_t v;
	} r[] = {{"ok", st->completed}, {"failed", st->failed}, {"refused", st->refused}};
	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		struct metrics_label l = L("result", r[i].result);
		metrics_text_u64(t, &l, 1, r[i].v);
	}
	metrics_text_family(t, "pixied_tftp_bytes_total", METRICS_COUNTER,
			    "TFTP payload bytes acknowledged by clients (received, for uploads).");
	metrics_text_u64(t, NULL, 0, st->bytes);
	metrics_text_family(t, "pixied_tftp_retransmissions_total", METRICS_COUNTER,
			    "TFTP DATA packets sent again after a timeout or a duplicate ACK.");
	metrics_text_u64(t, NULL, 0, st->retrans_pkts);
}

static void encode_http(struct metrics_text *t, const struct metrics_snapshot *s)
{
	if (s->http_codes) {
		metrics_text_family(t, "pixied_http_requests_total", METRICS_COUNTER,
				    "HTTP requests answered, by status code (0: none was sent).");
		for (size_t c = 0; c < METRICS_HTTP_CODES; c++) {
			if (!s->http_codes[c])
				continue;
			char code[8];
			snprintf(code, sizeof(code), "%zu", c);
			struct metrics_label l = L("code", code);
			metrics_text_u64(t, &l, 1, s->http_codes[c]);
		}
		metrics_text_family(t, "pixied_http_response_bytes_total", METRICS_COUNTER,
				    "HTTP response body bytes sent.");
		metrics_text_u64(t, NULL, 0, s->http_bytes);
	}
	if (s->http) {
		metrics_text_family(t, "pixied_http_connections_active", METRICS_GAUGE,
				    "HTTP connections open now (event streams included).");
		metrics_text_u64(t, NULL, 0, s->http->active);
	}
}

static void encode_clients(struct metrics_text *t, const struct metrics_snapshot *s)
{
	if (s->clients) {
		metrics_text_family(t, "pixied_clients", METRICS_GAUGE,
				    "Clients held in memory, by boot status.");
		for (size_t i = 0; i < CLIENTS_ST_COUNT; i++) {
			struct metrics_label l =
			    L("status", clients_status_name((enum clients_status)i));
			metrics_text_u64(t, &l, 1, s->clients->by_status[i]);
		}
		metrics_text_family(t, "pixied_boots_total", METRICS_COUNTER,
				    "Boots completed (a client's last boot file fully served).");
		metrics_text_u64(t, NULL, 0, s->clients->booted);
	}
	if (s->boot_counts) {
		metrics_text_family(t, "pixied_boot_duration_seconds", METRICS_HISTOGRAM,
				    "Time from a boot attempt's first DHCP DISCOVER to booted.");
		metrics_text_histogram(t, NULL, 0, metrics_boot_bounds, s->boot_counts,
				       METRICS_BOOT_BUCKETS, s->boot_sum_s);
	}
}

int metrics_encode(const struct metrics_snapshot *s, char *buf, size_t cap)
{
	if (!s)
		return -EINVAL;
	struct metrics_text *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	metrics_text_init(t, buf, cap);
	metrics_text_family(t, "pixied_build_info", METRICS_GAUGE,
			    "Always 1; the label says which pixied is running.");
	struct metrics_label v = L("version", s->version ? s->version : "");
	metrics_text_u64(t, &v, 1, 1);
	metrics_text_family(t, "pixied_start_time_seconds", METRICS_GAUGE,
			    "When pixied started, in seconds since the Unix epoch.");
	metrics_text_double(t, NULL, 0, s->start_time_s);
	if (s->dhcp)
		encode_dhcp(t, s);
	if (s->tftp)
		encode_tftp(t, s->tftp);
	encode_http(t, s);
	encode_clients(t, s);
	int r = metrics_text_end(t, buf, cap);
	free(t);
	return r;
}

/* ---- rendering ------------------------------------------------------------------------- */

int metrics_render(struct metrics *m, char **out, size_t *len)
{
	if (!m || !out)
		return -EINVAL;
	struct metrics_snapshot s = {
	    .version = m->src.version,
	    .start_time_s = (double)m->src.started_ms / 1000.0,
	    .http_codes = m->src.http || m->http_seen ? m->http_codes : NULL,
	    .http_bytes = m->http_bytes,
	    .boot_counts = m->src.clients ? m->boot_counts : NULL,
	    .boot_sum_s = m->boot_sum_s,
	};
	const struct dhcp_server *srv = m->src.dhcp ? dhcp_service_server(m->src.dhcp) : NULL;
	struct metrics_pool *pools = NULL;
	if (srv) {
		s.dhcp = dhcp_server_stats(srv);
		size_t n = dhcp_server_npools(srv);
		pools = n ? calloc(n, sizeof(*pools)) : NULL;
		if (n && !pools)
			return -ENOMEM;
		int64_t now = time_wall(); /* the engine's clock */
		for (size_t i = 0; i < n; i++) {
			struct dhcp_server_pool_stats ps;
			if (dhcp_server_pool_stats(srv, i, now, &ps) < 0)
				break;
			pools[s.npools++] = (struct metrics_pool){
			    .name = ps.name,
			    .size = ps.size,
			    .free = ps.free,
			    .offered = ps.offered,
			    .bound = ps.bound,
			    .declined = ps.declined,
			    .reclaimable = ps.reclaimable,
			};
		}
		s.pools = pools;
	}
	struct tftp_stats ts;
	if (m->src.tftp) {
		tftp_server_stats(m->src.tftp, &ts);
		s.tftp = &ts;
	}
	struct http_stats hs;
	if (m->src.http) {
		http_server_stats(m->src.http, &hs);
		s.http = &hs;
	}
	struct clients_stats cs;
	if (m->src.clients) {
		clients_stats(m->src.clients, &cs);
		s.clients = &cs;
	}

	int r = -ENOMEM;
	char *buf = NULL;
	for (size_t cap = RENDER_FIRST; cap <= RENDER_MAX; cap *= 2) {
		char *nb = realloc(buf, cap);
		if (!nb) {
			r = -ENOMEM;
			break;
		}
		buf = nb;
		r = metrics_encode(&s, buf, cap);
		if (r != -ENOSPC)
			break;
	}
	free(pools);
	if (r < 0) {
		if (r != -ENOMEM)
			log_msg(LOG_LVL_ERR, MOD, "cannot render the exposition: %s", strerror(-r));
		free(buf);
		return r == -ENOSPC ? -ENOMEM : r;
	}
	*out = buf;
	if (len)
		*len = (size_t)r;
	return 0;
}

int metrics_render_hook(void *m, char **out, size_t *len)
{
	return metrics_render(m, out, len);
}
