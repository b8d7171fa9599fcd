/*
 * api_proto — the pure pieces of the JSON API (no I/O, no clock, no globals): the route
 * table and its matcher, request-body parsers/validators for every write route, the Host
 * and Origin checks, the session cookie reader, the login throttle arithmetic, the SSE
 * framing, the Wake-on-LAN magic packet, the <state>/hosts.conf renderer and the log-line
 * splitter. Unit-tested (tests/unit/test_api.c) and fuzzed (tests/fuzz/api_*).
 *
 * Owns: the list of routes (what GET /api/v1/routes and the system tests enumerate) and
 * the shape of every request body. Does not own: answering requests, sessions, files or
 * sockets (api.c, api_auth.c).
 */
#ifndef PIXIED_API_API_PROTO_H
#define PIXIED_API_API_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

/* docs/api.md: request bodies at most 64 KiB, nesting depth at most 8. */
#define API_BODY_MAX  (64u * 1024)
#define API_DEPTH_MAX 8

/* ---- routes ----------------------------------------------------------------------------- */

enum api_route_id {
	API_R_LOGIN,
	API_R_LOGOUT,
	API_R_SESSION,
	API_R_TOKENS,
	API_R_TOKEN_ADD,
	API_R_TOKEN_DEL,
	API_R_STATUS,
	API_R_CLIENTS,
	API_R_CLIENT,
	API_R_NEXTBOOT_PUT,
	API_R_NEXTBOOT_DEL,
	API_R_ENTRY_PUT,
	API_R_ENTRY_DEL,
	API_R_WAKE,
	API_R_LEASES,
	API_R_LEASE_DEL,
	API_R_CATALOG,
	API_R_PREVIEW,
	API_R_HOSTS,
	API_R_HOST_ADD,
	API_R_HOST_DEL,
	API_R_CONFIG,
	API_R_LOG,
	API_R_EVENTS,
	API_R_ROUTES,
	API_R_METRICS,
	API_R_COUNT
};

enum api_auth {
	API_AUTH_REQUIRED, /* a session cookie or an API token */
	API_AUTH_NONE,     /* login (and the session probe, which answers 401 itself) */
	API_AUTH_METRICS,  /* required only with [api] metrics-auth = yes */
};

enum api_body {
	API_BODY_NONE,
	API_BODY_LOGIN, /* {"password"} */
	API_BODY_ENTRY, /* {"entry"} */
	API_BODY_HOST,  /* {"name", "mac", "ip"?, "hostname"?, "boot"?} */
	API_BODY_TOKEN, /* {"name"} */
};

struct api_route {
	enum api_route_id id;
	const char *method;  /* "GET" routes also answer HEAD */
	const char *pattern; /* literal segments and one of {mac} {ip} {name} */
	enum api_auth auth;
	enum api_body body;
};

/* The table, in the order docs/api.md lists the routes. */
const struct api_route *api_routes(size_t *n);

/* True for POST, PUT, PATCH, DELETE (and anything that is not GET/HEAD/OPTIONS). */
bool api_method_changes_state(const char *method);

#define API_ARG_LEN 128
struct api_match {
	const struct api_route *route;
	char arg[API_ARG_LEN]; /* the {..} segment as it appears in the path ("" = none) */
};

/*
 * Find the route for method + path (the decoded path, no query). 0 with *m set; -ENOENT
 * when no pattern matches the path (404); -EPERM when the path matches but the method does
 * not (405): allow gets the methods that would ("GET, HEAD, PUT").
 */
int api_route_match(const char *method, const char *path, struct api_match *m, char *allow,
		    size_t allowlen);

/* A MAC in a path: aa:bb:cc:dd:ee:ff, aa-bb-..., or 12 hex digits, any case. 0 or -EINVAL. */
int api_parse_path_mac(const char *s, uint8_t mac[6]);

/* ---- request bodies --------------------------------------------------------------------- */

struct api_body_login {
	char password[256];
};
struct api_body_entry {
	char entry[128];
};
struct api_body_host {
	char name[CONF_NAME_LEN];
	uint8_t mac[6];
	bool has_ip;
	uint32_t ip;
	char hostname[CONF_NAME_LEN]; /* "" = not given */
	char boot[CONF_NAME_LEN];     /* "" = not given */
};
struct api_body_token {
	char name[64];
};

/*
 * Parse and validate a body: at most API_BODY_MAX bytes, valid JSON, nesting at most
 * API_DEPTH_MAX, a top-level object, no duplicate and no unknown keys, every value of the
 * right type and form. 0; -EFBIG (413) over the size; -EINVAL (400) otherwise. On error err
 * holds one sentence saying what to fix.
 */
int api_parse_login(const char *body, size_t len, struct api_body_login *out, char *err,
		    size_t errlen);
int api_parse_entry(const char *body, size_t len, struct api_body_entry *out, char *err,
		    size_t errlen);
int api_parse_host(const char *body, size_t len, struct api_body_host *out, char *err,
		   size_t errlen);
int api_parse_token(const char *body, size_t len, struct api_body_token *out, char *err,
		    size_t errlen);

/* The nesting depth of JSON text (strings skipped), or -EINVAL past max_depth. Pure scan;
 * does not validate the rest of the syntax. */
int api_json_depth(const char *text, size_t len, int max_depth);

/* Name rules shared with conf: 1-63 letters, digits, '-', '_', '.'. */
bool api_name_ok(const char *s);

/* ---- Host and Origin (docs/api.md "Authentication") -------------------------------------- */

struct api_host_policy {
	const uint32_t *addrs; /* our IPv4 addresses (host order) */
	size_t naddrs;
	const char *names; /* [api] host-names: separated by spaces or commas */
};
/*
 * The Host header names us: one of addrs, localhost, 127.0.0.1, [::1], or a name in names
 * (case-insensitive, a trailing dot ignored), each with or without ":port". NULL = false.
 */
bool api_host_ok(const char *host, const struct api_host_policy *p);
/* Origin is http://<host> or https://<host> for exactly this Host header (scheme and name
 * case-insensitive). NULL or "null" = false. */
bool api_origin_ok(const char *origin, const char *host);

/* The value of cookie `name` in a Cookie header into out. 0, -ENOENT, -ENOSPC. */
int api_cookie_get(const char *cookie_hdr, const char *name, char *out, size_t cap);

/* ---- login throttle --------------------------------------------------------------------- */

/*
 * Failed logins per client address and overall. Per address: API_THROTTLE_FREE failures
 * pass, then each further attempt waits 1 s, 2 s, 4 s ... up to API_THROTTLE_MAX_MS after
 * the last failure; overall the same with API_THROTTLE_GLOBAL_FREE and
 * API_THROTTLE_GLOBAL_MAX_MS. A counter is forgotten API_THROTTLE_FORGET_MS after its last
 * failure; a successful login clears its address. Times are monotonic ms.
 */
#define API_THROTTLE_SLOTS         256
#define API_THROTTLE_FREE          5
#define API_THROTTLE_MAX_MS        (5 * 60 * 1000)
#define API_THROTTLE_GLOBAL_FREE   30
#define API_THROTTLE_GLOBAL_MAX_MS (60 * 1000)
#define API_THROTTLE_FORGET_MS     (15 * 60 * 1000)
struct api_throttle_slot {
	uint8_t key[16];
	bool used;
	uint32_t fails;
	uint64_t last_ms;
};
struct api_throttle {
	struct api_throttle_slot slot[API_THROTTLE_SLOTS];
	struct api_throttle_slot global;
};
/* Milliseconds the address `key` must still wait before a login is tried (0 = go). */
uint64_t api_throttle_wait(const struct api_throttle *t, const uint8_t key[16], uint64_t now_ms);
void api_throttle_fail(struct api_throttle *t, const uint8_t key[16], uint64_t now_ms);
void api_throttle_ok(struct api_throttle *t, const uint8_t key[16]);

/* ---- Server-Sent Events ------------------------------------------------------------------ */

/*
 * One SSE message: "event: <event>\nid: <id>\ndata: <line>\n" for every line of data (split
 * at CR, LF and CRLF, per the WHATWG event-stream format) and a blank line. event may be NULL
 * (no event field) and must not hold CR/LF (-EINVAL). Returns the length (buf NUL-terminated)
 * or -ENOSPC.
 */
int api_sse_frame(char *buf, size_t cap, const char *event, uint64_t id, const char *data,
		  size_t len);

/* ---- Wake-on-LAN ------------------------------------------------------------------------- */

/* The magic packet: 6 bytes 0xff, then the MAC 16 times (102 bytes). Length or -ENOSPC. */
#define API_WOL_LEN 102
int api_wol_packet(uint8_t *buf, size_t cap, const uint8_t mac[6]);

/* ---- <state>/hosts.conf ------------------------------------------------------------------ */

/*
 * The text of <state>/hosts.conf holding the hosts of list that came from it (from_state),
 * then `add` when not NULL, without the one named `skip` (NULL = none). Every value is
 * checked again (names, hostname, boot) so nothing can break out of its line: -EINVAL.
 * 0 with a malloc'd *out, or -ENOMEM.
 */
int api_hosts_render(const struct conf_host *list, size_t n, const struct conf_host *add,
		     const char *skip, char **out, size_t *len);

/* ---- log lines ---------------------------------------------------------------------------- */

/*
 * Split a line of core/log ("2026-11-21T21:50:01.123Z info dhcp: message") into its time
 * (Unix ms), module and message. Lines in another shape keep time 0, module "" and the
 * whole line as message. Never fails.
 */
struct api_log_fields {
	int64_t time_ms;
	char module[32];
	const char *message; /* points into the line */
};
void api_log_split(const char *line, struct api_log_fields *out);

#endif
