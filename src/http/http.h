/*
 * http — the HTTP/1.1 server: libmicrohttpd (MHD) in external-epoll mode inside pixied's
 * one loop, serving GET and HEAD of the shared file namespace (files/: root, loaders,
 * generated files) and the dynamic routes other modules register (the boot catalog's
 * /boot.ipxe, the API's /api/v1/...).
 *
 * Owns: the listening TCP sockets (we accept and hand each connection to MHD with
 * MHD_add_connection, so SIGHUP can rebind and the limits can change), the MHD daemon and
 * its epoll descriptor on our loop, connection limits (total, per client address, header
 * size, idle timeout, minimum transfer rate), static files (Range / multi-range, ETag,
 * conditional requests, sendfile for files of any size), the route table and one access-log
 * line per request. Pure protocol pieces (Range parser, validators, percent-decoding, query
 * strings, content types) are in http_proto.h.
 * Does not own: what a route answers (boot/, api/), opening or confining files (files/).
 * Single-threaded: every callback runs inside loop_run.
 */
#ifndef PIXIED_HTTP_HTTP_H
#define PIXIED_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct files;
struct loop;
struct net_iface;
struct http_server;

/* Query parameters per request, and the longest query string accepted (bytes). */
#define HTTP_PARAMS_MAX 32
#define HTTP_QUERY_MAX  4096
/* Largest request body a route receives (POST/PUT/PATCH); larger ones get 413. */
#define HTTP_BODY_MAX         (1u << 20)
/* The same for admin routes (http_server_route_admin): the API takes small JSON bodies, and
 * a body is buffered before the route can check who sent it. */
#define HTTP_ADMIN_BODY_MAX (64u * 1024)
#define HTTP_RESP_HEADERS_MAX 8

/* One query parameter, percent-decoded. */
struct http_param {
	const char *name;
	const char *value; /* "" for a bare name */
};

/* What a route handler sees. Everything is valid only during the call. */
struct http_request {
	const char *method; /* "GET", "HEAD", "POST", ... as sent */
	const char *path;   /* percent-decoded once, starting with '/', without the query */
	const char *target; /* the raw request-target as sent (escape before showing it) */
	const struct http_param *params; /* the query, percent-decoded ('+' = space), in order */
	size_t nparams;
	bool is_v6;
	uint32_t addr4;    /* client address, host order; valid when !is_v6 */
	uint8_t addr6[16]; /* valid when is_v6 */
	uint16_t port;     /* client port */
	uint32_t local4;   /* the address the client connected to (host order, 0 for IPv6):
			    * what the client calls us, for ${server} in generated URLs */
	uint16_t local_port;
	const char *body; /* POST/PUT/PATCH only; NULL otherwise */
	size_t body_len;
	bool admin_listener; /* came in on an [api] listener (see http_server_route_admin) */
	const void *priv;    /* for http_request_header */
};

/* A request header's value (case-insensitive name), NULL when absent. */
const char *http_request_header(const struct http_request *r, const char *name);
/* The first query parameter called name, NULL when absent. */
const char *http_request_param(const struct http_request *r, const char *name);

/* What a route handler fills in. Starts as {status 200, no body, text/plain}. */
struct http_response {
	int status;
	char *body; /* malloc'd; the server frees it (also on error) */
	size_t body_len;
	const char *content_type; /* static string; NULL = "text/plain; charset=utf-8" */
	struct {
		char name[40];
		char value[512];
	} headers[HTTP_RESP_HEADERS_MAX]; /* extra headers, e.g. Cache-Control, Location */
	size_t nheaders;
};
/* Add a header to resp; -ENOSPC when full, -EINVAL for a name or value that is too long or
 * holds CR, LF or NUL. */
int http_response_header(struct http_response *resp, const char *name, const char *value);

/*
 * A dynamic route: every request whose decoded path starts with path_prefix (the longest
 * prefix wins; a prefix ending in '/' matches a subtree, one without matches that exact path
 * or the path followed by '/' or '?') goes to fn, whatever the method: fn answers 405 itself
 * for methods it does not take. Request bodies of POST, PUT and PATCH are read (at most
 * HTTP_BODY_MAX) and handed over; GET/HEAD bodies are never read. For HEAD the body fn
 * returns is not sent. fn returns 0, or a negative errno for a 500.
 */
typedef int (*http_route_fn)(void *arg, const struct http_request *req, struct http_response *resp);
/* 0, -EEXIST (that prefix is taken), -EINVAL (not starting with '/', longer than 127), -ENOMEM. */
int http_server_route(struct http_server *h, const char *path_prefix, http_route_fn fn, void *arg);

/*
 * An admin route (API, UI, /metrics): like http_server_route, but when [api] port is set it
 * is answered only on the API listeners (404 on the boot-file listeners), and the API
 * listeners answer nothing but admin routes (404). With [api] port unset (0) both kinds
 * share the [http] listeners. req->admin_listener tells the handler where it came in.
 */
int http_server_route_admin(struct http_server *h, const char *path_prefix, http_route_fn fn,
			    void *arg);

/*
 * Streaming responses (Server-Sent Events). Inside a route handler, http_response_stream
 * turns resp into an open-ended response: status and headers (content_type, extra headers)
 * go out at once, then whatever http_stream_write queues, in order, until the client goes
 * away, http_stream_close is called, or the server is freed. on_close(arg, s) runs exactly
 * once when the stream ends for any reason (after it, s is gone: drop the pointer). Streams
 * are exempt from the idle timeout and min-rate; [http] max-connections still counts them.
 */
struct http_stream;
typedef void (*http_stream_close_fn)(void *arg, struct http_stream *s);
/* 0 (*out set) or -ENOMEM; -EINVAL for HEAD (answer a plain response instead). */
int http_response_stream(struct http_response *resp, const struct http_request *req,
			 http_stream_close_fn on_close, void *arg, struct http_stream **out);
/* Queue data (copied). -ENOBUFS when more than HTTP_STREAM_QUEUE_MAX bytes are waiting (a
 * reader that does not keep up: close it), -EPIPE when it is closing. */
#define HTTP_STREAM_QUEUE_MAX (256u * 1024)
int http_stream_write(struct http_stream *s, const void *data, size_t len);
/* End the stream after what is queued (on_close runs later, from the loop). After a write
 * was refused with -ENOBUFS the queue is dropped and the connection reset instead. */
void http_stream_close(struct http_stream *s);

/*
 * Called once per finished request, after its access-log line (also when the access log is
 * off): what clients/ and the metrics count. Everything is valid only during the call.
 */
struct http_access {
	const char *method;
	const char *path;                /* percent-decoded, without the query */
	const struct http_param *params; /* the query, decoded */
	size_t nparams;
	bool is_v6;
	uint32_t addr4; /* host order, when !is_v6 */
	int status;     /* status sent (0 if none was) */
	uint64_t bytes; /* body bytes sent */
	uint64_t duration_ms;
	bool complete;     /* the response went out whole */
	bool admin;        /* an admin route (API/UI/metrics) */
};
typedef void (*http_access_fn)(void *arg, const struct http_access *a);
void http_server_set_access_fn(struct http_server *h, http_access_fn fn, void *arg);

/*
 * Bind the listening sockets (call before privileges are dropped: port 80 needs them) and
 * start MHD. With [http] address set, one socket per address; otherwise one IPv4 socket per
 * interface in ifs (SO_BINDTODEVICE, so every address of it is served) plus IPv6 where the
 * interface has it; with no interfaces, the wildcard addresses. Raises RLIMIT_NOFILE toward
 * the hard limit when max-connections needs it. Returns NULL with a message in err.
 * With [http] enabled = no, returns a server with no sockets (reconfigure may enable it).
 */
struct http_server *http_server_new(struct loop *l, const struct conf *c, struct files *f,
				    const struct net_iface *ifs, size_t nifs, char *err,
				    size_t errlen);
/* Closes every connection and socket. */
void http_server_free(struct http_server *h);

/*
 * Apply a new [http]: limits and timeouts that MHD fixes per daemon start a new MHD daemon
 * for new connections while the old one finishes its connections; a changed listening set
 * (enabled, address, port) is bound first and swapped in only if all of it succeeds (after
 * privileges were dropped, port 80 needs CAP_NET_BIND_SERVICE). 0 or a negative errno with
 * a message in err (then nothing changed).
 */
int http_server_reconfigure(struct http_server *h, const struct conf *c, char *err, size_t errlen);

struct http_stats {
	uint64_t connections; /* accepted */
	uint64_t refused;     /* over a limit at accept */
	uint64_t slow_closed; /* closed for staying under min-rate */
	uint64_t requests;
	uint64_t active;    /* open connections now */
	uint64_t status[6]; /* responses by class: [1] 1xx ... [5] 5xx */
	uint64_t bytes;     /* body bytes sent */
	uint64_t streams;   /* open streams now */
};
void http_server_stats(const struct http_server *h, struct http_stats *out);

#endif
