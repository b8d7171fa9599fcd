/*
 * metrics — what pixied exports at /metrics (Prometheus text format 0.0.4; docs/api.md lists
 * the families): DHCP messages by type and architecture, pool addresses by state, TFTP
 * transfers and bytes, HTTP requests by status and bytes, clients by boot status, boots and
 * the histogram of time from first DISCOVER to "booted".
 *
 * Owns: the counters only metrics keeps (HTTP requests by status code and bytes, fed by
 * metrics_on_http from the HTTP access hook; the boot-duration histogram, fed by the
 * clients/ "booted" notifications it subscribes to), the snapshot of every source's
 * counters at render time, and the family names, help texts and label values.
 * Does not own: the text syntax (metrics_text.h), the counters of the other modules (read
 * through their *_stats calls), the /metrics route and its authentication (api/).
 * Single-threaded like the rest of pixied.
 */
#ifndef PIXIED_METRICS_METRICS_H
#define PIXIED_METRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clients/clients.h"
#include "conf/conf.h"
#include "dhcp/dhcp_server.h"
#include "http/http.h"
#include "tftp/tftp.h"

struct dhcp_service;
struct metrics;

/* Where the numbers come from. Any pointer may be NULL (that part is left out). */
struct metrics_sources {
	const struct dhcp_service *dhcp; /* dhcp_service_server() is asked at every render */
	const struct tftp_server *tftp;
	const struct http_server *http; /* connections gauge (requests come via on_http) */
	struct clients *clients;        /* subscribed to for "booted" events */
	const char *version;            /* build_info's label; NULL = PIXIED_VERSION */
	int64_t started_ms;             /* wall-clock start (Unix ms); 0 = when created */
};

/* NULL on ENOMEM or when the clients subscription is refused (full). */
struct metrics *metrics_new(const struct metrics_sources *src);
/* Unsubscribes from clients (free metrics before clients). NULL is fine. */
void metrics_free(struct metrics *m);

/* One finished HTTP request (call it from the http access hook): counted by status code
 * (codes outside 100-599, and 0 = none sent, count as code "0") and body bytes. */
void metrics_on_http(struct metrics *m, const struct http_access *a);

/*
 * The exposition, malloc'd into *out (NUL-terminated; free it), *len its length. Serve it
 * with Content-Type METRICS_CONTENT_TYPE. 0, -ENOMEM, or -EINVAL (a bug: see the log).
 */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
int metrics_render(struct metrics *m, char **out, size_t *len);
/* The same with the signature of struct api_deps' hook:
 * .metrics = metrics_render_hook, .metrics_arg = m. */
int metrics_render_hook(void *m, char **out, size_t *len);

/* ---- for tests and the fuzzer ---------------------------------------------------------- */

/* Histogram of first DISCOVER -> booted, in seconds (upper bounds; +Inf follows). */
#define METRICS_BOOT_BUCKETS 12
extern const double metrics_boot_bounds[METRICS_BOOT_BUCKETS];

#define METRICS_HTTP_CODES 600 /* [0] = none / out of range, [100..599] */

struct metrics_pool {
	const char *name;
	uint64_t size, free, offered, bound, declined, reclaimable;
};

/* Every number one render shows; metrics_render fills one from the sources. */
struct metrics_snapshot {
	const char *version;
	double start_time_s;
	const struct dhcp_server_stats *dhcp; /* NULL = no DHCP engine */
	const struct metrics_pool *pools;
	size_t npools;
	const struct tftp_stats *tftp; /* NULL = no TFTP */
	const struct http_stats *http; /* NULL = no HTTP server */
	const uint64_t *http_codes;    /* [METRICS_HTTP_CODES], NULL = none */
	uint64_t http_bytes;
	const struct clients_stats *clients; /* NULL = no clients registry */
	const uint64_t *boot_counts;         /* [METRICS_BOOT_BUCKETS + 1], NULL = no data */
	double boot_sum_s;
};

/* The pure part of metrics_render: the text of s into buf. Length, -ENOSPC, -EINVAL. */
int metrics_encode(const struct metrics_snapshot *s, char *buf, size_t cap);

/* What the "booted" subscription does with one event (for tests without a registry). */
void metrics_on_client_event(void *m, const struct clients_event *ev);

#endif
