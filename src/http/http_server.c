/*
 * http/server — see http.h. libmicrohttpd glue, listening sockets, limits, static files,
 * routes and the access log.
 *
 * How MHD lives in our loop: MHD runs with MHD_USE_EPOLL and no thread of its own, and with
 * MHD_USE_NO_LISTEN_SOCKET: we accept() on our own sockets and hand each connection over with
 * MHD_add_connection. MHD's epoll descriptor is one more fd on our loop; when it is readable
 * (or the loop_timer armed from MHD_get_timeout fires) we call MHD_run. MHD's own limits
 * (connections, per address, memory pool = header cap, idle timeout) are fixed for a daemon's
 * life, so a SIGHUP that changes them starts a new daemon ("generation") for new connections
 * while the old one finishes what it has and is stopped once empty.
 *
 * Minimum rate: MHD's timeout is an idle timeout that any byte resets, so a client trickling
 * one byte every few seconds (slowloris) would hold its connection forever. Once a second we
 * read TCP_INFO (bytes received and bytes acknowledged) of every connection that is in the
 * middle of a request; one that moved fewer than min-rate bytes/s over a whole timeout
 * window is shut down (shutdown(2): MHD sees the end of the stream and closes it).
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/tcp.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "files/files.h"
#include "http/http_proto.h"
#include "net/net.h"
#include "net/net_listen.h"

#define MOD              "http"
#define MAX_LISTENERS    (CONF_MAX_IFACES * 2)
#define ACCEPT_BATCH     64
#define ACCEPT_PAUSE_MS  100         /* after EMFILE: stop accepting for a moment */
#define SWEEP_MS         1000        /* min-rate check and retiring old daemons */
#define POOL_SLACK       (8 * 1024)  /* MHD pool beyond header-max: response headers, bookkeeping */
#define BIG_BODY         (64 * 1024) /* responses whose aborted transfers get an exact byte count */
#define UNSET            UINT64_MAX
#define BLOCK_SIZE       (64 * 1024) /* callback responses (multipart, generated files) */
#define SMALL_BODY       (32 * 1024) /* bodies up to this are read into memory, not sendfile */
#define CLIENT_STRLEN    (INET6_ADDRSTRLEN + 8)
#define TARGET_LOGLEN    300
#define ROUTE_PREFIX_MAX 128

struct http_cfg {
	bool enabled;
	uint16_t port;
	uint32_t addrs[CONF_MAX_IFACES];
	size_t naddrs;
	/* [api]: admin routes answered at all; own listeners (admin_port 0 = none, the [http]
	 * listeners answer admin routes) on admin_addrs (none = the interfaces) */
	bool api_enabled;
	uint16_t admin_port;
	uint32_t admin_addrs[CONF_MAX_IFACES];
	size_t admin_naddrs;
	uint64_t max_connections, max_per_client, header_max, timeout_ms, min_rate;
	bool access_log;
};

struct listener {
	struct http_server *srv;
	int fd;
	bool admin; /* an [api] listener: admin routes only */
	char what[64];
};

/* One MHD daemon. */
struct gen {
	struct http_server *srv;
	struct MHD_Daemon *d;
	int epfd;
	struct loop_timer timer;
	size_t nconns;
	struct http_cfg cfg; /* the limits it was started with */
	struct gen *next;
};

/* One TCP connection (MHD's socket_context). */
struct conn {
	struct http_server *srv;
	struct gen *gen;
	struct conn *prev, *next;
	int fd;
	bool is_v6;
	uint32_t addr4;
	uint8_t addr6[16];
	uint16_t port;
	uint32_t local4;
	uint16_t local_port;
	char client[CLIENT_STRLEN];
	bool admin;                 /* accepted on an [api] listener */
	struct http_stream *stream; /* the open stream on it (exempt from min-rate) */
	/* min-rate: a request is in progress (busy) from its first byte to its completion.
	 * TCP_INFO is read by the sweep only, never per request: UNSET = read it next sweep */
	bool busy, killed;
	uint64_t rx_idle;                /* tcpi_bytes_received after the last request ended */
	uint64_t win_start_ms, win_base; /* current window: start, rx + acked at its start */
};

struct route {
	char prefix[ROUTE_PREFIX_MAX];
	size_t len;
	bool admin; /* http_server_route_admin */
	http_route_fn fn;
	void *arg;
};

/*
 * A streaming response. Two references: the request (dropped in on_completed, or when the
 * route fails before a response exists) and MHD's response (its free callback). The
 * connection is suspended while the queue is empty and nothing says end (no busy loop);
 * while suspended MHD does not see a hang-up, so the socket is on our loop for EPOLLRDHUP.
 */
struct http_stream {
	struct http_server *srv;
	struct conn *conn; /* NULL once the request ended */
	struct MHD_Connection *mc;
	http_stream_close_fn on_close;
	void *arg;
	struct http_stream *prev, *next; /* srv->streams, until ended */
	char *q;                         /* queued bytes: q[qoff, qoff + qlen) */
	size_t qoff, qlen, qcap;
	uint64_t sent; /* bytes handed to MHD */
	int refs;
	bool queued;    /* the response went to MHD */
	bool suspended; /* MHD_suspend_connection and not resumed */
	bool watching;  /* the socket is on our loop */
	bool closing;   /* end after the queue (http_stream_close, reconfigure) */
	bool abort;     /* end now, queue dropped (hang-up, overflow, server freed) */
	bool overflow;  /* a write was refused with -ENOBUFS */
	bool ended;     /* on_close has run */
};

/* One request (MHD's con_cls), from the URI log callback to the completion callback. */
struct req {
	struct http_server *srv;
	struct conn *conn;
	struct MHD_Connection *mc;
	struct http_stream *stream; /* the route made its response a stream */
	uint64_t start_ms;
	uint64_t acked0; /* tcpi_bytes_acked when a big response was queued, else UNSET */
	char *target;    /* raw request-target */
	size_t target_len;
	char method[16];
	bool started;    /* the access handler ran */
	bool collecting; /* reading a route's request body */
	bool body_over;
	int pending;    /* an error status to answer in the second call */
	int status;     /* the status we queued; 0 = none (MHD answered itself) */
	uint64_t bytes; /* body bytes of the queued response */
	const struct route *route;
	char *path; /* decoded */
	char *qbuf;
	struct http_param params[HTTP_PARAMS_MAX];
	size_t nparams;
	char *body;
	size_t body_len, body_cap;
};

struct http_server {
	struct loop *loop;
	struct files *files;
	struct http_cfg cfg;
	struct net_iface *ifs;
	size_t nifs;
	struct listener *ls[MAX_LISTENERS]; /* [http] */
	size_t nls;
	struct listener *als[MAX_LISTENERS]; /* [api] port, or [http] port with [http] off */
	size_t nals;
	bool adding_admin; /* what the connection MHD_add_connection announces came on */
	struct http_stream *streams;
	http_access_fn access_fn;
	void *access_arg;
	struct gen *cur; /* gets new connections */
	struct gen *old; /* retired, draining */
	struct conn *conns;
	struct route *routes;
	size_t nroutes;
	struct loop_timer sweep, accept_pause;
	bool paused;
	uint64_t boundary_ctr;
	struct http_stats st;
	struct log_ratelimit rl_refuse, rl_accept, rl_slow, rl_mhd, rl_err;
};

/* ---- small helpers ---- */

static void cfg_from_conf(struct http_cfg *o, const struct conf *c)
{
	const struct conf_http *h = &c->http;
	memset(o, 0, sizeof(*o));
	o->enabled = h->enabled;
	o->port = h->port;
	o->naddrs = MIN(h->naddrs, (size_t)CONF_MAX_IFACES);
	memcpy(o->addrs, h->addrs, o->naddrs * sizeof(o->addrs[0]));
	o->max_connections = MAX(h->max_connections, 1u);
	o->max_per_client = MAX(h->max_per_client, 1u);
	o->header_max = MAX(h->header_max, 1024u);
	o->timeout_ms = MAX(h->timeout_ms, 100u);
	o->min_rate = h->min_rate;
	o->access_log = h->access_log;

	/*
	 * The [api] listeners: on [api] port when set, on [api] address or else where [http]
	 * listens. With [http] off and no [api] port they take the [http] port, so the API
	 * stays reachable. An [api] port equal to the [http] port on the same addresses would
	 * be the same sockets (SO_REUSEPORT would share connections between them at random):
	 * that is the shared setup, port 0.
	 */
	const struct conf_api *a = &c->api;
	o->api_enabled = a->enabled;
	const uint32_t *aa = a->naddrs ? a->addrs : h->addrs;
	size_t an = MIN(a->naddrs ? a->naddrs : h->naddrs, (size_t)CONF_MAX_IFACES);
	bool same_addrs = !a->naddrs || (a->naddrs == o->naddrs &&
					 !memcmp(a->addrs, o->addrs, an * sizeof(a->addrs[0])));
	if (!a->enabled)
		o->admin_port = 0;
	else if (a->port && !(h->enabled && a->port == h->port && same_addrs))
		o->admin_port = a->port;
	else if (!h->enabled)
		o->admin_port = h->port;
	if (o->admin_port) {
		o->admin_naddrs = an;
		memcpy(o->admin_addrs, aa, an * sizeof(aa[0]));
	}
}

static bool boot_listen_equal(const struct http_cfg *a, const struct http_cfg *b)
{
	return a->enabled == b->enabled && a->port == b->port && a->naddrs == b->naddrs &&
	       !memcmp(a->addrs, b->addrs, a->naddrs * sizeof(a->addrs[0]));
}

static bool admin_listen_equal(const struct http_cfg *a, const struct http_cfg *b)
{
	return a->admin_port == b->admin_port && a->admin_naddrs == b->admin_naddrs &&
	       !memcmp(a->admin_addrs, b->admin_addrs, a->admin_naddrs * sizeof(a->addrs[0]));
}

/* The options MHD fixes per daemon. */
static bool mhd_cfg_equal(const struct http_cfg *a, const struct http_cfg *b)
{
	return a->max_connections == b->max_connections && a->max_per_client == b->max_per_client &&
	       a->header_max == b->header_max && a->timeout_ms == b->timeout_ms;
}

static unsigned clamp_uint(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (unsigned)v;
}

static int tcp_counters(int fd, uint64_t *rx, uint64_t *acked)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -errno;
	/* older kernels fill less: the fields then stay 0 */
	*rx = ti.tcpi_bytes_received;
	*acked = ti.tcpi_bytes_acked;
	return 0;
}

/* Make the coming close(2) abortive (RST): the kernel drops what is still queued for a
 * client that stopped reading, instead of holding it for minutes. */
static void close_abortively(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void count_status(struct http_server *s, int status)
{
	if (status >= 100 && status < 600)
		s->st.status[status / 100]++;
}

/* ---- responses ---- */

static enum MHD_Result queue(struct req *rq, struct MHD_Connection *mc, int status,
			     struct MHD_Response *resp, uint64_t body_bytes)
{
	if (!resp)
		return MHD_NO; /* out of memory: MHD closes the connection */
	if (rq) {
		rq->status = status;
		rq->bytes = strcmp(rq->method, "HEAD") ? body_bytes : 0;
		uint64_t rx;
		if (rq->bytes >= BIG_BODY && rq->conn &&
		    tcp_counters(rq->conn->fd, &rx, &rq->acked0))
			rq->acked0 = UNSET;
	}
	enum MHD_Result r = MHD_queue_response(mc, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* A short text/plain answer: "404 Not Found\n". */
static enum MHD_Result queue_error(struct req *rq, struct MHD_Connection *mc, int status,
				   const char *allow)
{
	char buf[96];
	const char *reason = MHD_get_reason_phrase_for((unsigned)status);
	int n = snprintf(buf, sizeof(buf), "%d %s\n", status, reason ? reason : "");
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer((size_t)n, buf, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	/* the headers API/UI answers carry (docs/api.md), on every error this layer answers
	 * itself (413, 404 on the wrong listener, ...): harmless for boot clients */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	return queue(rq, mc, status, resp, (uint64_t)n);
}

/* ---- file bodies through callbacks (generated content, multipart) ---- */

struct span_ctx {
	struct files_handle *fh;
	uint64_t off;
};

static ssize_t span_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct span_ctx *x = cls;
	ssize_t n = files_pread(x->fh, buf, max, x->off + pos);
	if (n <= 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n;
}

static void span_free(void *cls)
{
	struct span_ctx *x = cls;
	files_close(x->fh);
	free(x);
}

struct mp_ctx {
	struct files_handle *fh;
	struct http_multipart m;
};

static ssize_t fh_read(void *arg, void *buf, size_t len, uint64_t off)
{
	return files_pread(arg, buf, len, off);
}

static ssize_t mp_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct mp_ctx *x = cls;
	ssize_t n = http_multipart_read(&x->m, pos, buf, max, fh_read, x->fh);
	if (n <= 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n;
}

static void mp_free(void *cls)
{
	struct mp_ctx *x = cls;
	files_close(x->fh);
	free(x);
}

/* [off, off + len) of the file: read into memory when small, else sendfile from a dup of the
 * shared descriptor, or a reader callback for generated content. Takes no reference from
 * the caller. */
static struct MHD_Response *file_span(struct files_handle *fh, uint64_t off, uint64_t len)
{
	int fd = files_fd(fh);
	if (len <= SMALL_BODY) {
		/* small: one pread, and MHD sends headers and body in one sendmsg (one packet)
		 * instead of a send plus a sendfile */
		char *buf = malloc(len ? (size_t)len : 1);
		if (!buf)
			return NULL;
		ssize_t n = len ? files_pread(fh, buf, (size_t)len, off) : 0;
		if (n < 0 || (uint64_t)n != len) {
			free(buf);
			errno = n < 0 ? (int)-n : EIO;
			return NULL;
		}
		struct MHD_Response *r =
		    MHD_create_response_from_buffer((size_t)len, buf, MHD_RESPMEM_MUST_FREE);
		if (!r)
			free(buf);
		return r;
	}
	if (fd >= 0) {
		/* MHD closes the descriptor of an fd response; the shared one is not ours */
		int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (dfd < 0)
			return NULL;
		struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(len, dfd, off);
		if (!r)
			close(dfd);
		return r;
	}
	struct span_ctx *x = malloc(sizeof(*x));
	if (!x)
		return NULL;
	x->fh = files_ref(fh);
	x->off = off;
	struct MHD_Response *r =
	    MHD_create_response_from_callback(len, BLOCK_SIZE, span_read, x, span_free);
	if (!r)
		span_free(x);
	return r;
}

/* ---- static files ---- */

static const char *hdr(struct MHD_Connection *mc, const char *name)
{
	return MHD_lookup_connection_value(mc, MHD_HEADER_KIND, name);
}

static void add_validators(struct MHD_Response *r, const char *etag, int64_t mtime)
{
	char date[HTTP_DATE_LEN];
	if (etag)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	if (mtime >= 0)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED,
					http_date_fmt(date, mtime));
}

static int status_of_errno(int e)
{
	switch (e) {
	case -ENOENT:
	case -ENOTDIR:
	case -ELOOP: return MHD_HTTP_NOT_FOUND;
	case -EACCES:
	case -EPERM:
	case -EISDIR:
	case -EXDEV: return MHD_HTTP_FORBIDDEN;
	case -ENAMETOOLONG: return MHD_HTTP_URI_TOO_LONG;
	case -EINVAL: return MHD_HTTP_BAD_REQUEST;
	case -EMFILE:
	case -ENFILE:
	case -ENOMEM:
	case -EAGAIN: return MHD_HTTP_SERVICE_UNAVAILABLE;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

static const char *param(const struct req *rq, const char *name)
{
	for (size_t i = 0; i < rq->nparams; i++)
		if (!strcmp(rq->params[i].name, name))
			return rq->params[i].value;
	return NULL;
}

static enum MHD_Result serve_file(struct http_server *s, struct req *rq, struct MHD_Connection *mc)
{
	struct conn *c = rq->conn;
	struct files_client who = {.proto = "http"};
	if (c) {
		who.is_v6 = c->is_v6;
		who.addr4 = c->addr4;
		memcpy(who.addr6, c->addr6, sizeof(who.addr6));
	}
	const char *mac = param(rq, "mac");
	if (mac && parse_mac(mac, who.mac) == 0)
		who.has_mac = true;

	struct files_handle *fh;
	int r = files_open(s->files, rq->path, &who, &fh);
	if (r < 0) {
		int st = status_of_errno(r);
		if (st >= 500)
			log_rl(&s->rl_err, LOG_LVL_WARN, MOD, "cannot open a file: %s",
			       strerror(-r));
		return queue_error(rq, mc, st, NULL);
	}
	uint64_t size = files_size(fh);
	char etag_buf[HTTP_ETAG_LEN];
	const char *etag = NULL;
	int64_t mtime = -1;
	int fd = files_fd(fh);
	struct stat sb;
	if (fd >= 0 && fstat(fd, &sb) == 0) {
		etag = http_etag(etag_buf, size, sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec, sb.st_ino);
		mtime = sb.st_mtim.tv_sec;
	}
	const char *ctype = http_content_type(rq->path);
	bool is_get = !strcmp(rq->method, "GET");
	struct http_cond cond = {
	    .if_match = hdr(mc, MHD_HTTP_HEADER_IF_MATCH),
	    .if_none_match = hdr(mc, MHD_HTTP_HEADER_IF_NONE_MATCH),
	    .if_modified_since = hdr(mc, MHD_HTTP_HEADER_IF_MODIFIED_SINCE),
	    .if_unmodified_since = hdr(mc, MHD_HTTP_HEADER_IF_UNMODIFIED_SINCE),
	    .if_range = hdr(mc, MHD_HTTP_HEADER_IF_RANGE),
	    .get_or_head = true,
	    .etag = etag,
	    .mtime = mtime,
	};
	enum MHD_Result ret;
	struct MHD_Response *resp;
	switch (http_cond_eval(&cond)) {
	case HTTP_COND_NOT_MODIFIED:
		/* RFC 9110 §15.4.5: a 304 carries the ETag and validators a 200 would */
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (resp)
			add_validators(resp, etag, mtime);
		files_close(fh);
		return queue(rq, mc, MHD_HTTP_NOT_MODIFIED, resp, 0);
	case HTTP_COND_FAILED:
		files_close(fh);
		return queue_error(rq, mc, MHD_HTTP_PRECONDITION_FAILED, NULL);
	case HTTP_COND_PROCEED: break;
	}

	/* RFC 9110 §14.2: GET is the only method with range handling */
	const char *range = is_get ? hdr(mc, MHD_HTTP_HEADER_RANGE) : NULL;
	struct http_range rs[HTTP_RANGES_MAX];
	size_t nr = 0;
	enum http_range_result rr = HTTP_RANGE_IGNORE;
	if (range && http_if_range_ok(&cond))
		rr = http_range_parse(range, strlen(range), size, rs, &nr);
	char cr[96];
	int status = MHD_HTTP_OK;
	uint64_t body = size;
	if (rr == HTTP_RANGE_UNSATISFIABLE) {
		/* §15.5.17: a 416 to a byte-range request SHOULD send Content-Range bytes STAR/size
		 */
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (resp) {
			snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
			add_validators(resp, etag, mtime);
		}
		files_close(fh);
		return queue(rq, mc, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp, 0);
	}
	if (rr == HTTP_RANGE_OK && nr == 1) {
		body = rs[0].last - rs[0].first + 1;
		resp = file_span(fh, rs[0].first, body);
		if (resp) {
			snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
				 rs[0].first, rs[0].last, size);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
		}
		status = MHD_HTTP_PARTIAL_CONTENT;
	} else if (rr == HTTP_RANGE_OK) {
		struct mp_ctx *x = malloc(sizeof(*x));
		char boundary[HTTP_BOUNDARY_LEN + 1];
		uint64_t h = 0xcbf29ce484222325ull ^ (++s->boundary_ctr * 0x9e3779b97f4a7c15ull) ^
			     time_mono_ms() ^ ((uint64_t)(uintptr_t)x << 16);
		h ^= h >> 31;
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
		snprintf(boundary, sizeof(boundary), "pixied%016" PRIx64, h);
		resp = NULL;
		if (x && http_multipart_init(&x->m, rs, nr, size, ctype, boundary) == 0) {
			x->fh = files_ref(fh);
			body = x->m.total;
			resp = MHD_create_response_from_callback(x->m.total, BLOCK_SIZE, mp_read, x,
								 mp_free);
			if (!resp)
				mp_free(x);
		} else {
			free(x);
		}
		if (resp) {
			char mt[80];
			snprintf(mt, sizeof(mt), "multipart/byteranges; boundary=%s", boundary);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mt);
		}
		status = MHD_HTTP_PARTIAL_CONTENT;
	} else {
		resp = file_span(fh, 0, size);
		if (resp)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	}
	if (resp) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
		add_validators(resp, etag, mtime);
		if (fd < 0) /* generated per client and per request */
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	}
	files_close(fh);
	if (!resp) {
		log_rl(&s->rl_err, LOG_LVL_WARN, MOD, "cannot build a response: %s",
		       strerror(errno));
		return queue_error(rq, mc, MHD_HTTP_SERVICE_UNAVAILABLE, NULL);
	}
	ret = queue(rq, mc, status, resp, body);
	return ret;
}

/* ---- routes ---- */

const char *http_request_header(const struct http_request *r, const char *name)
{
	if (!r || !r->priv)
		return NULL;
	const struct req *rq = r->priv;
	return MHD_lookup_connection_value(rq->mc, MHD_HEADER_KIND, name);
}

const char *http_request_param(const struct http_request *r, const char *name)
{
	for (size_t i = 0; r && i < r->nparams; i++)
		if (!strcmp(r->params[i].name, name))
			return r->params[i].value;
	return NULL;
}

int http_response_header(struct http_response *resp, const char *name, const char *value)
{
	if (resp->nheaders == HTTP_RESP_HEADERS_MAX)
		return -ENOSPC;
	size_t nl = strlen(name), vl = strlen(value);
	if (!nl || nl >= sizeof(resp->headers[0].name) || vl >= sizeof(resp->headers[0].value) ||
	    strpbrk(name, "\r\n: \t") || strpbrk(value, "\r\n"))
		return -EINVAL;
	memcpy(resp->headers[resp->nheaders].name, name, nl + 1);
	memcpy(resp->headers[resp->nheaders].value, value, vl + 1);
	resp->nheaders++;
	return 0;
}

static bool route_matches(const struct route *rt, const char *path)
{
	if (strncmp(path, rt->prefix, rt->len))
		return false;
	if (rt->prefix[rt->len - 1] == '/')
		return true;
	return path[rt->len] == 0 || path[rt->len] == '/';
}

/*
 * The route for path on a connection from an [api] listener (admin_l) or an [http] one. An
 * [api] listener answers admin routes only; an [http] listener answers admin routes only
 * when there are no [api] listeners; [api] enabled = no turns admin routes off. *deny: 404.
 */
static const struct route *route_pick(const struct http_server *s, const char *path, bool admin_l,
				      bool *deny)
{
	const struct route *best = NULL;
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct route *rt = &s->routes[i];
		if (admin_l && !rt->admin)
			continue;
		if (route_matches(rt, path) && (!best || rt->len > best->len))
			best = rt;
	}
	if (admin_l)
		*deny = !best || !s->cfg.api_enabled;
	else
		*deny = best && best->admin && (s->cfg.admin_port || !s->cfg.api_enabled);
	return *deny ? NULL : best;
}

static int route_add(struct http_server *h, const char *path_prefix, http_route_fn fn, void *arg,
		     bool admin)
{
	size_t n = strlen(path_prefix);
	if (path_prefix[0] != '/' || n >= ROUTE_PREFIX_MAX || !fn)
		return -EINVAL;
	for (size_t i = 0; i < h->nroutes; i++)
		if (!strcmp(h->routes[i].prefix, path_prefix))
			return -EEXIST;
	struct route *r = realloc(h->routes, (h->nroutes + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	h->routes = r;
	struct route *rt = &r[h->nroutes++];
	memcpy(rt->prefix, path_prefix, n + 1);
	rt->len = n;
	rt->admin = admin;
	rt->fn = fn;
	rt->arg = arg;
	return 0;
}

int http_server_route(struct http_server *h, const char *path_prefix, http_route_fn fn, void *arg)
{
	return route_add(h, path_prefix, fn, arg, false);
}

int http_server_route_admin(struct http_server *h, const char *path_prefix, http_route_fn fn,
			    void *arg)
{
	return route_add(h, path_prefix, fn, arg, true);
}

/* ---- streams ---- */

static void gen_kick(struct gen *g);

static unsigned gen_timeout_s(const struct gen *g)
{
	return clamp_uint((g->cfg.timeout_ms + 999) / 1000);
}

static void stream_unref(struct http_stream *st)
{
	if (--st->refs > 0)
		return;
	free(st->q);
	free(st);
}

static void stream_unwatch(struct http_stream *st)
{
	if (!st->watching)
		return;
	st->watching = false;
	loop_del_fd(st->srv->loop, st->conn->fd);
}

/* Let MHD have the connection again; it runs from the loop (the ITC of
 * MHD_ALLOW_SUSPEND_RESUME wakes its epoll, and the kick makes sure). */
static void stream_wake(struct http_stream *st)
{
	if (!st->suspended)
		return;
	stream_unwatch(st);
	st->suspended = false;
	MHD_resume_connection(st->mc);
	gen_kick(st->conn->gen);
}

/* The client hung up while the connection was suspended (MHD would not notice). */
static void on_stream_hup(void *arg, uint32_t events)
{
	struct http_stream *st = arg;
	(void)events;
	st->abort = true;
	stream_wake(st);
}

/*
 * Stop the stream: after its queue (graceful) or now. Graceful: the idle timeout applies
 * again, so a client that does not read cannot hold the connection while the queue drains.
 * Now: MHD may be waiting for a socket that never becomes writable (a reader that stopped
 * reading), so the socket is shut down (reset) and MHD sees the end on its next run.
 */
static void stream_stop(struct http_stream *st, bool now)
{
	if (st->ended)
		return;
	st->closing = true;
	if (st->queued && st->conn)
		MHD_set_connection_option(st->mc, MHD_CONNECTION_OPTION_TIMEOUT,
					  gen_timeout_s(st->conn->gen));
	if (now && !st->abort && st->queued && st->conn) {
		close_abortively(st->conn->fd);
		shutdown(st->conn->fd, SHUT_RDWR);
		gen_kick(st->conn->gen);
	}
	if (now)
		st->abort = true;
	stream_wake(st);
}

/* The request is over (or never got its response): on_close, exactly once. */
static void stream_end(struct http_stream *st)
{
	if (st->ended)
		return;
	struct http_server *s = st->srv;
	stream_unwatch(st);
	st->ended = true;
	if (st->prev)
		st->prev->next = st->next;
	else
		s->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	s->st.streams--;
	if (st->conn && st->conn->stream == st)
		st->conn->stream = NULL;
	st->conn = NULL;
	if (st->on_close)
		st->on_close(st->arg, st);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *st = cls;
	(void)pos;
	if (st->abort || st->ended || !st->conn)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (st->qlen) {
		size_t n = MIN(max, st->qlen);
		memcpy(buf, st->q + st->qoff, n);
		st->qoff += n;
		st->qlen -= n;
		if (!st->qlen)
			st->qoff = 0;
		st->sent += n;
		return (ssize_t)n;
	}
	if (st->closing)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* nothing to send: park the connection until a write, a close or a hang-up */
	MHD_suspend_connection(st->mc);
	st->suspended = true;
	int r = loop_add_fd(st->srv->loop, st->conn->fd, EPOLLRDHUP, on_stream_hup, st);
	st->watching = r == 0;
	if (r < 0)
		log_rl(&st->srv->rl_err, LOG_LVL_WARN, MOD, "cannot watch a stream for hang-up: %s",
		       strerror(-r));
	return 0;
}

static void stream_resp_free(void *cls)
{
	stream_unref(cls);
}

int http_response_stream(struct http_response *resp, const struct http_request *req,
			 http_stream_close_fn on_close, void *arg, struct http_stream **out)
{
	(void)resp;
	struct req *rq = req ? (struct req *)(uintptr_t)req->priv : NULL;
	if (!rq || !rq->conn || rq->stream || !strcmp(rq->method, "HEAD"))
		return -EINVAL;
	struct http_stream *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	struct http_server *s = rq->srv;
	st->srv = s;
	st->conn = rq->conn;
	st->mc = rq->mc;
	st->on_close = on_close;
	st->arg = arg;
	st->refs = 1;
	st->next = s->streams;
	if (s->streams)
		s->streams->prev = st;
	s->streams = st;
	s->st.streams++;
	rq->stream = st;
	*out = st;
	return 0;
}

int http_stream_write(struct http_stream *st, const void *data, size_t len)
{
	if (st->ended || st->closing || st->abort)
		return -EPIPE;
	if (!len)
		return 0;
	if (len > HTTP_STREAM_QUEUE_MAX - st->qlen) {
		st->overflow = true;
		return -ENOBUFS;
	}
	if (st->qoff + st->qlen + len > st->qcap) {
		if (st->qoff) {
			memmove(st->q, st->q + st->qoff, st->qlen);
			st->qoff = 0;
		}
		if (st->qlen + len > st->qcap) {
			size_t cap = MAX(MAX(st->qcap * 2, (size_t)4096), st->qlen + len);
			cap = MIN(cap, (size_t)HTTP_STREAM_QUEUE_MAX);
			char *q = realloc(st->q, cap);
			if (!q)
				return -ENOMEM;
			st->q = q;
			st->qcap = cap;
		}
	}
	memcpy(st->q + st->qoff + st->qlen, data, len);
	st->qlen += len;
	stream_wake(st);
	return 0;
}

void http_stream_close(struct http_stream *st)
{
	if (!st || st->ended || st->closing)
		return;
	/* a reader that fell behind is cut off, not waited for */
	stream_stop(st, st->overflow);
}

/* ---- routes ---- */

static enum MHD_Result run_route(struct http_server *s, struct req *rq, struct MHD_Connection *mc)
{
	struct conn *c = rq->conn;
	struct http_request hr = {
	    .method = rq->method,
	    .path = rq->path,
	    .target = rq->target,
	    .params = rq->params,
	    .nparams = rq->nparams,
	    .body = rq->body,
	    .body_len = rq->body_len,
	    .priv = rq,
	};
	if (c) {
		hr.is_v6 = c->is_v6;
		hr.addr4 = c->addr4;
		memcpy(hr.addr6, c->addr6, sizeof(hr.addr6));
		hr.port = c->port;
		hr.local4 = c->local4;
		hr.local_port = c->local_port;
		hr.admin_listener = c->admin;
	}
	struct http_response *out = calloc(1, sizeof(*out));
	if (!out)
		return queue_error(rq, mc, MHD_HTTP_SERVICE_UNAVAILABLE, NULL);
	out->status = MHD_HTTP_OK;
	int r = rq->route->fn(rq->route->arg, &hr, out);
	struct http_stream *st = rq->stream;
	if (r < 0 || out->status < 100 || out->status > 599) {
		free(out->body);
		free(out);
		log_rl(&s->rl_err, LOG_LVL_WARN, MOD, "route %s failed: %s", rq->route->prefix,
		       r < 0 ? strerror(-r) : "bad status");
		if (st) {
			rq->stream = NULL;
			stream_end(st);
			stream_unref(st);
		}
		return queue_error(rq, mc, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
	}
	struct MHD_Response *resp;
	if (st) {
		/* open-ended: chunked on HTTP/1.1, until the connection closes on HTTP/1.0 */
		free(out->body);
		out->body = NULL;
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read,
							 st, stream_resp_free);
		if (resp)
			st->refs++;
	} else if (out->body && out->body_len) {
		resp = MHD_create_response_from_buffer(out->body_len, out->body,
						       MHD_RESPMEM_MUST_FREE);
	} else {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	}
	if (!resp) {
		free(out->body);
		free(out);
		if (st) {
			rq->stream = NULL;
			stream_end(st);
			stream_unref(st);
		}
		return queue_error(rq, mc, MHD_HTTP_SERVICE_UNAVAILABLE, NULL);
	}
	if (!(out->body && out->body_len))
		free(out->body);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				out->content_type ? out->content_type
						  : "text/plain; charset=utf-8");
	for (size_t i = 0; i < out->nheaders && i < HTTP_RESP_HEADERS_MAX; i++)
		MHD_add_response_header(resp, out->headers[i].name, out->headers[i].value);
	uint64_t len = out->body ? out->body_len : 0;
	int status = out->status;
	free(out);
	enum MHD_Result ret = queue(rq, mc, status, resp, len);
	if (st) {
		uint64_t rx;
		if (ret != MHD_YES || !c) {
			rq->stream = NULL; /* MHD dropped the response (and its reference) */
			stream_end(st);
			stream_unref(st);
			return ret;
		}
		st->queued = true;
		c->stream = st;
		if (tcp_counters(c->fd, &rx, &rq->acked0) < 0)
			rq->acked0 = UNSET;
		/* no idle timeout while it is open (stream_stop puts it back) */
		if (!st->closing)
			MHD_set_connection_option(mc, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	}
	return ret;
}

/* ---- MHD callbacks ---- */

static bool method_has_body(const char *m)
{
	return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
}

/* Parse and check what the request line and headers say. 0, or the error status. */
static int prepare(struct http_server *s, struct req *rq, struct MHD_Connection *mc)
{
	const char *path, *query;
	size_t plen, qlen;
	if (http_target_split(rq->target, rq->target_len, &path, &plen, &query, &qlen) < 0)
		return MHD_HTTP_BAD_REQUEST;
	/* The path is decoded exactly once, here (MHD's own decoded copy is not used):
	 * "%252e" becomes the three bytes "%2e", never "." */
	rq->path = malloc(plen + 1);
	if (!rq->path)
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	ssize_t dn = http_pct_decode(path, plen, rq->path, plen + 1, false);
	if (dn < 0)
		return MHD_HTTP_BAD_REQUEST;
	if ((size_t)dn > FILES_PATH_MAX + 1)
		return MHD_HTTP_URI_TOO_LONG;
	if (qlen > HTTP_QUERY_MAX)
		return MHD_HTTP_URI_TOO_LONG;
	if (qlen) {
		size_t cap = qlen + 2 * HTTP_PARAMS_MAX + 2;
		rq->qbuf = malloc(cap);
		if (!rq->qbuf)
			return MHD_HTTP_SERVICE_UNAVAILABLE;
		int n = http_query_parse(query, qlen, rq->qbuf, cap, rq->params, HTTP_PARAMS_MAX);
		if (n < 0)
			return MHD_HTTP_BAD_REQUEST;
		rq->nparams = (size_t)n;
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci && ci->header_size > s->cfg.header_max)
		return MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE;
	bool deny;
	rq->route = route_pick(s, rq->path, rq->conn && rq->conn->admin, &deny);
	return deny ? MHD_HTTP_NOT_FOUND : 0;
}

/* Answer a prepared request. */
static enum MHD_Result dispatch(struct http_server *s, struct req *rq, struct MHD_Connection *mc)
{
	if (rq->route)
		return run_route(s, rq, mc);
	if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
		return queue_error(rq, mc, MHD_HTTP_METHOD_NOT_ALLOWED, "GET, HEAD");
	return serve_file(s, rq, mc);
}

static bool has_body(struct MHD_Connection *mc)
{
	const char *cl = hdr(mc, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return hdr(mc, MHD_HTTP_HEADER_TRANSFER_ENCODING) || (cl && strcmp(cl, "0"));
}

/*
 * The first call for a request. libmicrohttpd 0.9.75 closes the connection after any
 * response queued in this first call (it cannot know the body was read), so a request
 * without a body is answered in the next call, which MHD makes as soon as the (empty) body
 * is complete. A body we do not want (GET, HEAD, a method no route takes) is never read:
 * the answer goes out now and the connection closes after it.
 */
/* The largest body rq's route takes: admin routes (the API) far less than boot routes. */
static uint64_t body_max(const struct req *rq)
{
	return rq->route && rq->route->admin ? HTTP_ADMIN_BODY_MAX : HTTP_BODY_MAX;
}

static enum MHD_Result begin(struct http_server *s, struct req *rq, struct MHD_Connection *mc)
{
	bool body = has_body(mc);
	int st = prepare(s, rq, mc);
	if (st) {
		if (body)
			return queue_error(rq, mc, st, NULL);
		rq->pending = st;
		return MHD_YES;
	}
	if (rq->route && method_has_body(rq->method)) {
		const char *cl = hdr(mc, MHD_HTTP_HEADER_CONTENT_LENGTH);
		uint64_t n;
		if (cl && (parse_u64(cl, 0, UINT64_MAX, &n) < 0 || n > body_max(rq)))
			return queue_error(rq, mc, MHD_HTTP_CONTENT_TOO_LARGE, NULL);
		rq->collecting = true;
		return MHD_YES; /* MHD calls again with the body, then once with none */
	}
	if (body)
		return dispatch(s, rq, mc);
	return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *mc, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct req *rq = *con_cls;
	(void)url;
	(void)version;
	if (!rq) /* the URI callback could not allocate */
		return queue_error(NULL, mc, MHD_HTTP_SERVICE_UNAVAILABLE, NULL);
	if (!rq->started) {
		rq->started = true;
		str_copy(rq->method, method, sizeof(rq->method));
		s->st.requests++;
		return begin(s, rq, mc);
	}
	if (rq->collecting) {
		if (*upload_size) {
			size_t n = *upload_size;
			*upload_size = 0;
			if (rq->body_over || n > body_max(rq) - rq->body_len) {
				rq->body_over = true;
				return MHD_YES; /* chunked body over the cap: drop, answer 413 */
			}
			if (rq->body_len + n + 1 > rq->body_cap) {
				size_t cap = MIN(MAX(rq->body_cap * 2, rq->body_len + n + 1),
						 (size_t)body_max(rq) + 1);
				char *b = realloc(rq->body, cap);
				if (!b)
					return MHD_NO;
				rq->body = b;
				rq->body_cap = cap;
			}
			memcpy(rq->body + rq->body_len, upload, n);
			rq->body_len += n;
			rq->body[rq->body_len] = 0;
			return MHD_YES;
		}
		rq->collecting = false;
		if (rq->body_over)
			return queue_error(rq, mc, MHD_HTTP_CONTENT_TOO_LARGE, NULL);
		return run_route(s, rq, mc);
	}
	if (*upload_size)
		return MHD_NO; /* a body we did not ask for: never buffered, close */
	if (rq->status)
		return MHD_YES;
	if (rq->pending)
		return queue_error(rq, mc, rq->pending, NULL);
	return dispatch(s, rq, mc);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *mc)
{
	struct http_server *s = cls;
	struct req *rq = calloc(1, sizeof(*rq));
	if (!rq)
		return NULL;
	rq->srv = s;
	rq->mc = mc;
	rq->start_ms = time_mono_ms();
	rq->target_len = strlen(uri);
	rq->target = strdup(uri);
	if (!rq->target) {
		free(rq);
		return NULL;
	}
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *c = ci ? ci->socket_context : NULL;
	rq->conn = c;
	rq->acked0 = UNSET;
	if (c && !c->busy) {
		c->busy = true;
		c->win_start_ms = loop_now(s->loop);
		c->win_base = UNSET;
	}
	return rq;
}

static const char *termination_name(enum MHD_RequestTerminationCode t)
{
	switch (t) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK: return "ok";
	case MHD_REQUEST_TERMINATED_WITH_ERROR: return "error";
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
	case MHD_REQUEST_TERMINATED_READ_ERROR: return "read-error";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client-abort";
	}
	return "?";
}

static void req_free(struct req *rq)
{
	free(rq->target);
	free(rq->path);
	free(rq->qbuf);
	free(rq->body);
	free(rq);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct req *rq = *con_cls;
	if (!rq)
		return;
	*con_cls = NULL;
	struct conn *c = rq->conn;
	int status = rq->status;
	if (!status) { /* MHD answered by itself (a malformed request) */
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_HTTP_STATUS);
		status = ci ? (int)ci->http_status : 0;
		if (!rq->started && rq->method[0] == 0)
			str_copy(rq->method, "-", sizeof(rq->method));
	}
	count_status(s, status);
	uint64_t bytes = rq->bytes, rx = 0, acked = 0;
	struct http_stream *st = rq->stream;
	if (st)
		bytes = st->sent;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		/* what the client acknowledged of a big body (headers included); small ones: 0 */
		if (rq->acked0 != UNSET && c && tcp_counters(c->fd, &rx, &acked) == 0)
			bytes = MIN(bytes, acked - MIN(acked, rq->acked0));
		else
			bytes = 0;
	}
	if (s->cfg.access_log) {
		char target[TARGET_LOGLEN];
		log_escape(target, sizeof(target), rq->target, rq->target_len);
		uint64_t ms = time_mono_ms() - rq->start_ms;
		if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
			log_info(MOD,
				 "access client=%s method=%s path=\"%s\" status=%d bytes=%" PRIu64
				 " ms=%" PRIu64,
				 c ? c->client : "?", rq->method, target, status, bytes, ms);
		else
			log_info(MOD,
				 "access client=%s method=%s path=\"%s\" status=%d bytes=%" PRIu64
				 " ms=%" PRIu64 " result=%s",
				 c ? c->client : "?", rq->method, target, status, bytes, ms,
				 termination_name(toe));
	}
	s->st.bytes += bytes;
	if (s->access_fn) {
		struct http_access a = {
		    .method = rq->method,
		    .path = rq->path ? rq->path : "",
		    .params = rq->params,
		    .nparams = rq->nparams,
		    .is_v6 = c && c->is_v6,
		    .addr4 = c ? c->addr4 : 0,
		    .status = status,
		    .bytes = bytes,
		    .duration_ms = time_mono_ms() - rq->start_ms,
		    .complete = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK,
		    .admin = (c && c->admin) || (rq->route && rq->route->admin),
		};
		s->access_fn(s->access_arg, &a);
	}
	if (st) {
		rq->stream = NULL;
		stream_end(st);
		stream_unref(st);
	}
	if (c) {
		c->busy = false;
		c->rx_idle = UNSET;
		if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
			close_abortively(c->fd); /* MHD closes it next */
	}
	req_free(rq);
}

static void fmt_client(struct conn *c)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (c->is_v6) {
		inet_ntop(AF_INET6, c->addr6, a, sizeof(a));
		snprintf(c->client, sizeof(c->client), "[%s]:%u", a, c->port);
	} else {
		char b[IPV4_STRLEN];
		snprintf(c->client, sizeof(c->client), "%s:%u", fmt_ipv4(b, c->addr4), c->port);
	}
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct gen *g = cls;
	struct http_server *s = g->srv;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn *c = calloc(1, sizeof(*c));
		const union MHD_ConnectionInfo *fdi =
		    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *ai =
		    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (!c || !fdi) {
			free(c);
			if (fdi)
				shutdown(fdi->connect_fd, SHUT_RDWR);
			*socket_context = NULL;
			return;
		}
		c->srv = s;
		c->gen = g;
		c->fd = fdi->connect_fd;
		c->admin = s->adding_admin;
		const struct sockaddr *sa = ai ? ai->client_addr : NULL;
		if (sa && sa->sa_family == AF_INET6) {
			const struct sockaddr_in6 *in6 =
			    (const struct sockaddr_in6 *)(const void *)sa;
			c->is_v6 = true;
			memcpy(c->addr6, &in6->sin6_addr, 16);
			c->port = ntohs(in6->sin6_port);
		} else if (sa && sa->sa_family == AF_INET) {
			const struct sockaddr_in *in4 =
			    (const struct sockaddr_in *)(const void *)sa;
			c->addr4 = ntohl(in4->sin_addr.s_addr);
			c->port = ntohs(in4->sin_port);
		}
		struct sockaddr_storage ls;
		socklen_t ll = sizeof(ls);
		if (getsockname(c->fd, (struct sockaddr *)&ls, &ll) == 0) {
			if (ls.ss_family == AF_INET) {
				const struct sockaddr_in *l4 = (const struct sockaddr_in *)&ls;
				c->local4 = ntohl(l4->sin_addr.s_addr);
				c->local_port = ntohs(l4->sin_port);
			} else if (ls.ss_family == AF_INET6) {
				const struct sockaddr_in6 *l6 = (const struct sockaddr_in6 *)&ls;
				c->local_port = ntohs(l6->sin6_port);
			}
		}
		fmt_client(c);
		c->rx_idle = 0; /* a new connection has received nothing we have seen */
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		g->nconns++;
		s->st.active++;
		*socket_context = c;
		return;
	}
	struct conn *c = *socket_context;
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->gen->nconns--;
	s->st.active--;
	*socket_context = NULL;
	free(c);
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *s = cls;
	char buf[512];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = 0;
	log_rl(&s->rl_mhd, LOG_LVL_DEBUG, MOD, "libmicrohttpd: %s", buf);
}

/* ---- MHD daemons on the loop ---- */

static void gen_arm(struct gen *g)
{
	MHD_UNSIGNED_LONG_LONG t;
	struct loop *l = g->srv->loop;
	if (MHD_get_timeout(g->d, &t) == MHD_YES)
		loop_timer_arm(l, &g->timer, loop_now(l) + MIN(t, (MHD_UNSIGNED_LONG_LONG)3600000));
	else
		loop_timer_cancel(l, &g->timer);
}

/*
 * MHD sends at most 128 KiB per sendfile call and per MHD_run; a connection that can take
 * more stays on MHD's ready list and MHD_get_timeout says 0. Run it again right here a few
 * times (every ready connection gets its turn on each pass) instead of going around the
 * whole loop for every chunk; then let the other descriptors of the loop have their turn.
 */
#define MHD_RUN_PASSES 16

static void gen_run(struct gen *g)
{
	MHD_UNSIGNED_LONG_LONG t = 0;
	for (int i = 0; i < MHD_RUN_PASSES; i++) {
		MHD_run(g->d);
		if (MHD_get_timeout(g->d, &t) != MHD_YES || t != 0)
			break;
	}
	gen_arm(g);
}

/* Run it from the loop, as soon as the current callback is over. */
static void gen_kick(struct gen *g)
{
	struct loop *l = g->srv->loop;
	loop_timer_arm(l, &g->timer, loop_now(l));
}

static void on_gen_fd(void *arg, uint32_t events)
{
	(void)events;
	gen_run(arg);
}

static void on_gen_timer(void *arg)
{
	gen_run(arg);
}

static struct gen *gen_new(struct http_server *s, const struct http_cfg *cfg, char *err,
			   size_t errlen)
{
	struct gen *g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "http: out of memory");
		return NULL;
	}
	g->srv = s;
	g->cfg = *cfg;
	g->epfd = -1;
	loop_timer_init(&g->timer, on_gen_timer, g);
	unsigned timeout_s = clamp_uint((cfg->timeout_ms + 999) / 1000);
	size_t pool = (size_t)cfg->header_max + POOL_SLACK;
	g->d = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME,
	    0, NULL, NULL, on_access, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
	    MHD_OPTION_CONNECTION_LIMIT, clamp_uint(cfg->max_connections),
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, clamp_uint(cfg->max_per_client),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, g, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
	    /* SIGPIPE is ignored process-wide (http_server_new); MHD may then use sendfile */
	    MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, MHD_OPTION_END);
	if (!g->d) {
		snprintf(err, errlen, "http: cannot start libmicrohttpd: %s", strerror(errno));
		free(g);
		return NULL;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(g->d, MHD_DAEMON_INFO_EPOLL_FD);
	int r = di ? loop_add_fd(s->loop, di->epoll_fd, EPOLLIN, on_gen_fd, g) : -EBADF;
	if (r < 0) {
		snprintf(err, errlen, "http: cannot watch libmicrohttpd's epoll: %s", strerror(-r));
		MHD_stop_daemon(g->d);
		free(g);
		return NULL;
	}
	g->epfd = di->epoll_fd;
	return g;
}

static void gen_free(struct gen *g)
{
	if (!g)
		return;
	struct loop *l = g->srv->loop;
	loop_timer_cancel(l, &g->timer);
	loop_del_fd(l, g->epfd);
	MHD_stop_daemon(g->d); /* closes its connections: completion callbacks run now */
	free(g);
}

/* ---- listening sockets ---- */

static void pause_accepting(struct http_server *s)
{
	if (s->paused)
		return;
	s->paused = true;
	for (size_t i = 0; i < s->nls; i++)
		loop_mod_fd(s->loop, s->ls[i]->fd, 0);
	for (size_t i = 0; i < s->nals; i++)
		loop_mod_fd(s->loop, s->als[i]->fd, 0);
	loop_timer_arm(s->loop, &s->accept_pause, loop_now(s->loop) + ACCEPT_PAUSE_MS);
}

static void on_accept_pause(void *arg)
{
	struct http_server *s = arg;
	s->paused = false;
	for (size_t i = 0; i < s->nls; i++)
		loop_mod_fd(s->loop, s->ls[i]->fd, EPOLLIN);
	for (size_t i = 0; i < s->nals; i++)
		loop_mod_fd(s->loop, s->als[i]->fd, EPOLLIN);
}

static void accept_some(struct listener *l)
{
	struct http_server *s = l->srv;
	if (!s->cur)
		return;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			log_rl(&s->rl_accept, LOG_LVL_WARN, MOD, "accept on=%s: %s", l->what,
			       strerror(errno));
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				pause_accepting(s);
			break;
		}
		s->st.connections++;
		/* MHD announces the connection (on_connection) from inside MHD_add_connection */
		s->adding_admin = l->admin;
		enum MHD_Result added =
		    MHD_add_connection(s->cur->d, fd, (struct sockaddr *)&ss, len);
		s->adding_admin = false;
		if (added != MHD_YES) {
			/* over max-connections or max-per-client: MHD has closed the socket */
			int e = errno;
			char a[INET6_ADDRSTRLEN] = "?";
			if (ss.ss_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a,
					  sizeof(a));
			else if (ss.ss_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a,
					  sizeof(a));
			s->st.refused++;
			log_rl(&s->rl_refuse, LOG_LVL_WARN, MOD,
			       "refused connection client=%s active=%" PRIu64 " reason=\"%s\"", a,
			       s->st.active, strerror(e));
		}
	}
	gen_run(s->cur);
}

static void on_listener(void *arg, uint32_t events)
{
	(void)events;
	accept_some(arg);
}

static struct listener *listener_open(struct http_server *s, int family, uint32_t addr4,
				      const char *ifname, uint16_t port, bool admin, char *err,
				      size_t errlen)
{
	int one = 1;
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} b;
	socklen_t blen;
	char what[64];
	memset(&b, 0, sizeof(b));
	if (family == AF_INET6) {
		b.in6.sin6_family = AF_INET6;
		b.in6.sin6_port = htons(port);
		blen = sizeof(b.in6);
		snprintf(what, sizeof(what), "[::]:%u%s%s", port, ifname ? "%" : "",
			 ifname ? ifname : "");
	} else {
		char a[IPV4_STRLEN];
		b.in4.sin_family = AF_INET;
		b.in4.sin_port = htons(port);
		b.in4.sin_addr.s_addr = htonl(addr4);
		blen = sizeof(b.in4);
		snprintf(what, sizeof(what), "%s:%u%s%s", fmt_ipv4(a, addr4), port,
			 ifname ? "%" : "", ifname ? ifname : "");
	}
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err;
	/* SO_REUSEPORT: a reload binds the new set while the old one still listens */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto err_fd;
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto err_fd;
	if (ifname &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0)
		goto err_fd;
	if (bind(fd, &b.sa, blen) < 0 || listen(fd, 1024) < 0)
		goto err_fd;
	struct listener *l = calloc(1, sizeof(*l));
	if (!l) {
		errno = ENOMEM;
		goto err_fd;
	}
	l->srv = s;
	l->fd = fd;
	l->admin = admin;
	str_copy(l->what, what, sizeof(l->what));
	int r = loop_add_fd(s->loop, fd, EPOLLIN, on_listener, l);
	if (r < 0) {
		free(l);
		errno = -r;
		goto err_fd;
	}
	if (s->paused)
		loop_mod_fd(s->loop, fd, 0);
	if (admin)
		log_info(MOD, "listening on=%s serves=api", what);
	else
		log_info(MOD, "listening on=%s", what);
	return l;
err_fd : {
	int e = errno;
	close(fd);
	errno = e;
}
err:
	snprintf(err, errlen, "http: cannot listen on %s: %s", what, strerror(errno));
	return NULL;
}

static void listener_close(struct http_server *s, struct listener *l)
{
	loop_del_fd(s->loop, l->fd);
	close(l->fd);
	free(l);
}

struct listen_ctx {
	struct http_server *s;
	uint16_t port;
	bool admin;
};

static void *listener_open_spec(void *arg, const struct net_listen_spec *sp, char *err,
				size_t errlen)
{
	const struct listen_ctx *x = arg;
	return listener_open(x->s, sp->family, sp->addr4, sp->ifname[0] ? sp->ifname : NULL,
			     x->port, x->admin, err, errlen);
}

static void listener_close_spec(void *arg, void *l)
{
	const struct listen_ctx *x = arg;
	listener_close(x->s, l);
}

/* One listening set (net_listen_plan: per address, else per interface v4 + optional v6,
 * else wildcard) into out; 0, or -errno with err set and nothing left open. */
static int listeners_open(struct http_server *s, const uint32_t *addrs, size_t naddrs,
			  uint16_t port, bool admin, struct listener **out, size_t *nout, char *err,
			  size_t errlen)
{
	struct net_listen_spec sp[MAX_LISTENERS];
	size_t n = net_listen_plan(addrs, naddrs, s->ifs, s->nifs, sp, MAX_LISTENERS);
	struct listen_ctx x = {s, port, admin};
	void *o[MAX_LISTENERS];
	int r = net_listen_open(sp, n, listener_open_spec, listener_close_spec, &x, o, nout, MOD,
				LOG_LVL_DEBUG, err, errlen);
	for (size_t i = 0; i < *nout; i++)
		out[i] = o[i];
	return r;
}

/* The [http] listeners for cfg (none when disabled). */
static int listeners_build(struct http_server *s, const struct http_cfg *cfg, struct listener **out,
			   size_t *nout, char *err, size_t errlen)
{
	*nout = 0;
	if (!cfg->enabled)
		return 0;
	return listeners_open(s, cfg->addrs, cfg->naddrs, cfg->port, false, out, nout, err, errlen);
}

/* The [api] listeners for cfg (none when the [http] ones serve the API). */
static int admin_listeners_build(struct http_server *s, const struct http_cfg *cfg,
				 struct listener **out, size_t *nout, char *err, size_t errlen)
{
	*nout = 0;
	if (!cfg->admin_port)
		return 0;
	return listeners_open(s, cfg->admin_addrs, cfg->admin_naddrs, cfg->admin_port, true, out,
			      nout, err, errlen);
}

/* ---- minimum rate and retiring daemons ---- */

static void sweep_conns(struct http_server *s, uint64_t now)
{
	uint64_t rate = s->cfg.min_rate, win = s->cfg.timeout_ms;
	for (struct conn *c = s->conns; c; c = c->next) {
		uint64_t rx, acked;
		if (c->killed || c->stream || tcp_counters(c->fd, &rx, &acked) < 0)
			continue;
		if (!c->busy) {
			if (c->rx_idle == UNSET) {
				c->rx_idle = rx;
				continue;
			}
			/* bytes after the last request ended: the next one has begun */
			if (rx > c->rx_idle) {
				c->busy = true;
				c->win_start_ms = now;
				c->win_base = rx + acked;
			}
			continue;
		}
		if (c->win_base == UNSET) { /* a request began since the last sweep */
			c->win_start_ms = now;
			c->win_base = rx + acked;
			continue;
		}
		if (rate == 0 || now - c->win_start_ms < win)
			continue;
		uint64_t moved = rx + acked - MIN(rx + acked, c->win_base);
		uint64_t span = now - c->win_start_ms;
		if (moved < rate * span / 1000) {
			c->killed = true;
			s->st.slow_closed++;
			log_rl(&s->rl_slow, LOG_LVL_WARN, MOD,
			       "closing slow connection client=%s bytes=%" PRIu64 " ms=%" PRIu64
			       " min-rate=%" PRIu64,
			       c->client, moved, span, rate);
			close_abortively(c->fd);
			shutdown(c->fd, SHUT_RDWR); /* MHD reads the end of stream and closes */
		} else {
			c->win_start_ms = now;
			c->win_base = rx + acked;
		}
	}
}

static void on_sweep(void *arg)
{
	struct http_server *s = arg;
	uint64_t now = loop_now(s->loop);
	sweep_conns(s, now);
	for (struct gen **pg = &s->old; *pg;) {
		struct gen *g = *pg;
		if (g->nconns == 0) {
			*pg = g->next;
			gen_free(g);
		} else {
			pg = &g->next;
		}
	}
	/* shut-down sockets: let MHD see them now rather than on its next event */
	for (struct gen *g = s->old; g; g = g->next)
		gen_run(g);
	if (s->cur)
		gen_run(s->cur);
	loop_timer_arm(s->loop, &s->sweep, now + SWEEP_MS);
}

/* ---- public ---- */

struct http_server *http_server_new(struct loop *l, const struct conf *c, struct files *f,
				    const struct net_iface *ifs, size_t nifs, char *err,
				    size_t errlen)
{
	struct http_server *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "http: out of memory");
		return NULL;
	}
	s->loop = l;
	s->files = f;
	s->rl_refuse = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000);
	s->rl_accept = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000);
	s->rl_slow = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000);
	s->rl_mhd = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000);
	s->rl_err = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000);
	loop_timer_init(&s->sweep, on_sweep, s);
	loop_timer_init(&s->accept_pause, on_accept_pause, s);
	cfg_from_conf(&s->cfg, c);
	/* a peer closing while we write must be an EPIPE, not a signal (also lets MHD sendfile) */
	signal(SIGPIPE, SIG_IGN);
	/* a connection holds its socket and, while a file is sent, a dup of the file's fd */
	raise_nofile(s->cfg.max_connections * 2 + 256, MOD, "max-connections");
	if (nifs) {
		s->ifs = calloc(nifs, sizeof(*s->ifs));
		if (!s->ifs) {
			snprintf(err, errlen, "http: out of memory");
			goto err_free;
		}
		memcpy(s->ifs, ifs, nifs * sizeof(*ifs));
		s->nifs = nifs;
	}
	s->cur = gen_new(s, &s->cfg, err, errlen);
	if (!s->cur)
		goto err_free;
	if (listeners_build(s, &s->cfg, s->ls, &s->nls, err, errlen) < 0)
		goto err_gen;
	if (admin_listeners_build(s, &s->cfg, s->als, &s->nals, err, errlen) < 0)
		goto err_ls;
	loop_timer_arm(l, &s->sweep, loop_now(l) + SWEEP_MS);
	return s;
err_ls:
	while (s->nls)
		listener_close(s, s->ls[--s->nls]);
err_gen:
	gen_free(s->cur);
err_free:
	free(s->ifs);
	free(s);
	return NULL;
}

/* End every stream (graceful: after its queue; else at once), for connections from an
 * [api] listener (admin), the [http] ones, or both. */
static void streams_stop(struct http_server *s, bool admin, bool boot, bool now)
{
	for (struct http_stream *st = s->streams; st; st = st->next)
		if (st->conn && (st->conn->admin ? admin : boot))
			stream_stop(st, now);
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nls; i++)
		listener_close(s, s->ls[i]);
	s->nls = 0;
	for (size_t i = 0; i < s->nals; i++)
		listener_close(s, s->als[i]);
	s->nals = 0;
	/* MHD must not be stopped with suspended connections: resume every stream and let
	 * MHD end them (their on_close runs here) */
	streams_stop(s, true, true, true);
	for (struct gen *g = s->old; g; g = g->next)
		MHD_run(g->d);
	if (s->cur)
		MHD_run(s->cur->d);
	while (s->old) {
		struct gen *g = s->old;
		s->old = g->next;
		gen_free(g);
	}
	gen_free(s->cur);
	/* MHD_stop_daemon ran every completion callback: no stream is left */
	while (s->streams) { /* not reached unless MHD skipped a completion */
		struct http_stream *st = s->streams;
		st->conn = NULL; /* MHD has freed the connections */
		st->watching = false;
		stream_end(st);
	}
	loop_timer_cancel(s->loop, &s->sweep);
	loop_timer_cancel(s->loop, &s->accept_pause);
	free(s->routes);
	free(s->ifs);
	free(s);
}

/* Swap a built listening set in: connections already queued on the old sockets are taken,
 * not reset. */
static void listeners_swap(struct http_server *s, struct listener **cur, size_t *ncur,
			   struct listener **nl, size_t n)
{
	for (size_t i = 0; i < *ncur; i++) {
		accept_some(cur[i]);
		listener_close(s, cur[i]);
	}
	memcpy(cur, nl, n * sizeof(nl[0]));
	*ncur = n;
}

int http_server_reconfigure(struct http_server *s, const struct conf *c, char *err, size_t errlen)
{
	struct http_cfg nc;
	cfg_from_conf(&nc, c);
	struct gen *ng = NULL;
	if (!mhd_cfg_equal(&nc, &s->cfg)) {
		ng = gen_new(s, &nc, err, errlen);
		if (!ng)
			return -ENOMEM;
	}
	/* bind everything new first; swap only when all of it succeeded */
	bool boot_changed = !boot_listen_equal(&nc, &s->cfg);
	bool admin_changed = !admin_listen_equal(&nc, &s->cfg);
	struct listener *nl[MAX_LISTENERS], *nal[MAX_LISTENERS];
	size_t n = 0, na = 0;
	if (boot_changed) {
		int r = listeners_build(s, &nc, nl, &n, err, errlen);
		if (r < 0) {
			gen_free(ng);
			return r;
		}
	}
	if (admin_changed) {
		int r = admin_listeners_build(s, &nc, nal, &na, err, errlen);
		if (r < 0) {
			while (n)
				listener_close(s, nl[--n]);
			gen_free(ng);
			return r;
		}
	}
	if (boot_changed)
		listeners_swap(s, s->ls, &s->nls, nl, n);
	if (admin_changed)
		listeners_swap(s, s->als, &s->nals, nal, na);
	/*
	 * Streams end (gracefully; an EventSource reconnects) where what they came in on
	 * changed: all of them with a new daemon (the old one must drain), else those of the
	 * listening set that changed, and every admin one when the admin routes moved.
	 */
	bool routing = nc.api_enabled != s->cfg.api_enabled || !nc.admin_port != !s->cfg.admin_port;
	streams_stop(s, ng || admin_changed || routing, ng || boot_changed || routing, false);
	if (ng) {
		s->cur->next = s->old;
		s->old = s->cur;
		s->cur = ng;
		raise_nofile(nc.max_connections * 2 + 256, MOD, "max-connections");
	}
	s->cfg = nc;
	return 0;
}

void http_server_set_access_fn(struct http_server *h, http_access_fn fn, void *arg)
{
	h->access_fn = fn;
	h->access_arg = arg;
}

void http_server_stats(const struct http_server *s, struct http_stats *out)
{
	*out = s->st;
}
