/*
 * api — the JSON API under /api/v1/ and /metrics, as docs/api.md describes them: routes
 * registered as admin routes on the HTTP server, authentication (password, sessions with a
 * CSRF token, API tokens, login throttling, Host and Origin checks), the live event stream
 * (SSE), the recent-log ring, host reservations in <state>/hosts.conf and Wake-on-LAN.
 *
 * Owns: sessions (memory only), the password hash file $state/api-password (when [api]
 * password-hash is unset), $state/api-tokens (token hashes), $state/hosts.conf (rewritten
 * atomically, applied through the reload callback), the SSE streams, the log ring (the
 * core/log sink), a raw socket for Wake-on-LAN. The pure parts are in api_proto.h.
 * Does not own: HTTP itself (http/), client records (clients/), boot choices (boot/),
 * leases (dhcp/, store/), the metrics text (metrics/, through a hook), the config model
 * and reload (conf/, main). Single-threaded: everything runs inside loop_run.
 */
#ifndef PIXIED_API_API_H
#define PIXIED_API_API_H

#include <stddef.h>

struct api;
struct boot;
struct clients;
struct conf;
struct dhcp_service;
struct http_response;
struct http_server;
struct loop;
struct net_iface;
struct store;
struct tftp_server;

struct api_deps {
	struct loop *loop;
	const struct conf *conf; /* the running config; api_reconfigure hands over a new one */
	const char *conf_path;   /* the main config file (GET /api/v1/config) */
	struct store *store;
	struct clients *clients;
	struct boot *boot;
	struct dhcp_service *dhcp;
	struct tftp_server *tftp; /* NULL when [tftp] is off */
	struct http_server *http;
	const struct net_iface *ifs; /* the served interfaces (copied) */
	size_t nifs;
	/*
	 * main's validate-then-swap reload (the one SIGHUP runs): 0, or < 0 with the config
	 * errors in err (then the running config stays). It calls api_reconfigure on success.
	 * NULL = host reservations cannot be changed (503).
	 */
	int (*reload)(void *arg, char *err, size_t errlen);
	void *reload_arg;
	/* The Prometheus text for /metrics (malloc'd, NUL-terminated): 0 or a negative errno.
	 * NULL = /metrics answers 503. */
	int (*metrics)(void *arg, char **out, size_t *len);
	void *metrics_arg;
};

/*
 * Register /api/v1/ and /metrics on deps->http, subscribe to clients for SSE, install the
 * log sink, and (with [api] enabled and no password-hash) read or create
 * $state/api-password, printing a generated password once in the log. Opens the raw
 * socket for Wake-on-LAN, so call it before privileges are dropped. NULL with err on
 * failure.
 */
struct api *api_new(const struct api_deps *deps, char *err, size_t errlen);
/* Ends every stream, forgets every session, removes the log sink. NULL is fine. */
void api_free(struct api *a);
/* A new config was swapped in (reload): keep this pointer instead of the old one. Sessions
 * stay; their idle timeout follows the new session-timeout. A newly set password-hash
 * takes effect for the next login. */
void api_reconfigure(struct api *a, const struct conf *c);

/*
 * An argon2id hash (crypto_pwhash_str: libsodium's interactive limits) of password into
 * out (NUL-terminated): what [api] password-hash takes and `pixied --hash-password`
 * prints. 0, -EINVAL (empty), or -ENOMEM.
 */
#define API_HASH_LEN 128
int api_hash_password(const char *password, char out[API_HASH_LEN]);

/*
 * The headers every API and UI answer carries: X-Content-Type-Options nosniff,
 * X-Frame-Options DENY, Referrer-Policy no-referrer, plus Cache-Control and a
 * Content-Security-Policy when given (NULL = not set here). 0 or -ENOSPC.
 */
int api_security_headers(struct http_response *resp, const char *cache_control, const char *csp);

#endif
