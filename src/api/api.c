/*
 * api — the JSON API (/api/v1/...) and /metrics: request dispatch, authentication, the
 * handlers for every route in api_proto.c's table, SSE streams, the log ring, host
 * reservations in <state>/hosts.conf and Wake-on-LAN. See api.h for what it owns; the
 * contract is docs/api.md. The decisions that need no I/O (route matching, bodies, Host and
 * Origin checks, throttling, SSE framing, the magic packet) live in api_proto.c.
 */
#include "api/api.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_proto.h"
#include "boot/boot.h"
#include "boot/boot_render.h"
#include "clients/clients.h"
#include "conf/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "dhcp/dhcp.h"
#include "dhcp/dhcp_server.h"
#include "http/http.h"
#include "net/net.h"
#include "store/store.h"
#include "tftp/tftp.h"

#ifndef PIXIED_VERSION
#define PIXIED_VERSION "unknown"
#endif

#define SESSIONS_MAX     64
#define SESSION_ID_LEN   32
#define TOKENS_MAX       64
#define STREAMS_MAX      64
#define STREAMS_PER_ADDR 8
#define PING_MS          15000
#define LOG_RING         1000
#define LOG_LINE         480
#define COOKIE_NAME      "pixied_session"
#define PASSWORD_FILE    "api-password"
#define TOKENS_FILE      "api-tokens"

struct session {
	bool used;
	uint8_t id[SESSION_ID_LEN];
	char csrf[2 * 32 + 1];
	uint64_t last_mono_ms;
};

struct token {
	char name[64];
	int64_t created_ms;
	uint8_t hash[32];
};

struct stream {
	struct api *a; /* NULL once the api is gone: on_close then only frees */
	struct http_stream *hs;
	uint8_t addr[16];
	/* who opened it: the stream ends when that login ends (logout, expiry, token gone) */
	bool by_session;
	uint8_t session_id[SESSION_ID_LEN];
	char token_name[64];
};

struct log_line {
	enum log_level lvl;
	char text[LOG_LINE];
};

struct api {
	struct api_deps d;
	bool ring_paused; /* the generated password's log line stays out of the ring */
	const struct conf *conf;
	struct net_iface ifs[CONF_MAX_IFACES];
	size_t nifs;
	char pw_hash[256]; /* from $state/api-password when the config has none */
	int64_t started_ms;
	int rawfd;
	struct session sessions[SESSIONS_MAX];
	struct api_throttle throttle;
	struct token tokens[TOKENS_MAX];
	size_t ntokens;
	struct stream *streams[STREAMS_MAX];
	uint64_t sse_id;
	struct loop_timer ping;
	struct log_line *ring; /* LOG_RING lines */
	size_t ring_head, ring_n;
	bool subscribed;
	char frame[24 * 1024]; /* one SSE message */
	char rec_json[16 * 1024];
};

/* Who a request comes from, once authenticated. */
struct who {
	struct session *session; /* cookie */
	const struct token *token;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static void to_hex(char *out, const uint8_t *in, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = 0;
}

static int from_hex(uint8_t *out, size_t n, const char *in)
{
	if (strlen(in) != 2 * n)
		return -EINVAL;
	size_t bin_len = 0;
	if (sodium_hex2bin(out, n, in, 2 * n, NULL, &bin_len, NULL) < 0 || bin_len != n)
		return -EINVAL;
	return 0;
}

static int set_body(struct http_response *resp, int status, char *text)
{
	if (!text)
		return -ENOMEM;
	free(resp->body);
	resp->status = status;
	resp->body = text;
	resp->body_len = strlen(text);
	resp->content_type = "application/json";
	return 0;
}

/*
 * cJSON text with < > & ' written as \u003c \u003e \u0026 \u0027, like clients/'s writers:
 * the text stays the same JSON, and is safe even if a page ever put it into HTML. These
 * bytes occur only inside strings in JSON text, so the rewrite is exact. Frees t.
 */
static char *html_safe(char *t)
{
	if (!t)
		return NULL;
	size_t n = 0, len = strlen(t);
	for (const char *p = t; *p; p++)
		n += strchr("<>&'", *p) != NULL;
	if (!n)
		return t;
	char *out = malloc(len + 5 * n + 1);
	if (!out) {
		free(t);
		return NULL;
	}
	char *o = out;
	for (const char *p = t; *p; p++) {
		if (strchr("<>&'", *p)) {
			snprintf(o, 7, "\\u%04x", (unsigned)(unsigned char)*p);
			o += 6;
		} else {
			*o++ = *p;
		}
	}
	*o = 0;
	free(t);
	return out;
}

static int reply_json(struct http_response *resp, int status, cJSON *j)
{
	if (!j)
		return -ENOMEM;
	char *t = html_safe(cJSON_PrintUnformatted(j));
	cJSON_Delete(j);
	return set_body(resp, status, t);
}

__attribute__((format(printf, 3, 4))) static int reply_error(struct http_response *resp, int status,
							     const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON *j = cJSON_CreateObject();
	if (!j || !cJSON_AddStringToObject(j, "error", msg)) {
		cJSON_Delete(j);
		return -ENOMEM;
	}
	return reply_json(resp, status, j);
}

static int reply_status(struct http_response *resp, int status)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->status = status;
	return 0;
}

int api_security_headers(struct http_response *resp, const char *cache_control, const char *csp)
{
	int r = 0;
	if (cache_control)
		r |= http_response_header(resp, "Cache-Control", cache_control);
	r |= http_response_header(resp, "X-Content-Type-Options", "nosniff");
	r |= http_response_header(resp, "X-Frame-Options", "DENY");
	r |= http_response_header(resp, "Referrer-Policy", "no-referrer");
	if (csp)
		r |= http_response_header(resp, "Content-Security-Policy", csp);
	return r ? -ENOSPC : 0;
}

/* The 16-byte throttle/stream key of a request's address (IPv4-mapped; IPv6 by /64). */
static void addr_key(const struct http_request *req, uint8_t key[16])
{
	memset(key, 0, 16);
	if (req->is_v6) {
		memcpy(key, req->addr6, 8);
		return;
	}
	key[10] = key[11] = 0xff;
	key[12] = (uint8_t)(req->addr4 >> 24);
	key[13] = (uint8_t)(req->addr4 >> 16);
	key[14] = (uint8_t)(req->addr4 >> 8);
	key[15] = (uint8_t)req->addr4;
}

static void addr_text(const struct http_request *req, char *buf, size_t cap)
{
	char ip[IPV4_STRLEN];
	if (req->is_v6)
		str_copy(buf, "ipv6", cap);
	else
		str_copy(buf, fmt_ipv4(ip, req->addr4), cap);
}

/* ---- files in the state directory ------------------------------------------------------- */

/*
 * Replace <state>/name with data: a temporary file, fsync, rename, fsync of the directory.
 * Running as root (before privileges are dropped) the file gets the directory's owner.
 */
static int write_state_file(const char *dir, const char *name, const void *data, size_t len,
			    mode_t mode)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	char tmp[96];
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	int r = 0;
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		r = -errno;
		goto out_dir;
	}
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		goto out_fd;
	}
	struct stat st;
	if (geteuid() == 0 && fstat(dfd, &st) == 0 && fchown(fd, st.st_uid, st.st_gid) < 0) {
		r = -errno;
		goto out_fd;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out_fd;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		r = -errno;
		goto out_fd;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto out_tmp;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) < 0) {
		r = -errno;
		goto out_tmp;
	}
	if (fsync(dfd) < 0)
		r = -errno;
	goto out_dir;
out_fd:
	close(fd);
out_tmp:
	unlinkat(dfd, tmp, 0);
out_dir:
	close(dfd);
	return r;
}

/* Read <state>/name (at most max bytes) into a malloc'd NUL-terminated buffer. */
static int read_state_file(const char *dir, const char *name, size_t max, char **out, size_t *len)
{
	char path[CONF_PATH_LEN + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	char *buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t n = 0;
	for (;;) {
		ssize_t m = read(fd, buf + n, max + 1 - n);
		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0) {
			int e = -errno;
			free(buf);
			close(fd);
			return e;
		}
		if (m == 0)
			break;
		n += (size_t)m;
		if (n > max) {
			free(buf);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	buf[n] = 0;
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

static int unlink_state_file(const char *dir, const char *name)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	int r = unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (r == 0)
		fsync(dfd);
	close(dfd);
	return r;
}

/* ---- password ---------------------------------------------------------------------------- */

int api_hash_password(const char *password, char out[API_HASH_LEN])
{
	_Static_assert(crypto_pwhash_STRBYTES <= API_HASH_LEN, "hash buffer");
	if (!password || !password[0])
		return -EINVAL;
	if (sodium_init() < 0)
		return -ENOMEM;
	if (crypto_pwhash_str_alg(out, password, strlen(password),
				  crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13))
		return -ENOMEM;
	return 0;
}

/* The hash logins are checked against: [api] password-hash, else $state/api-password. */
static const char *password_hash(const struct api *a)
{
	return a->conf->api.password_hash[0] ? a->conf->api.password_hash : a->pw_hash;
}

/* Read $state/api-password, or make a password, store its hash and print it once. */
static int load_or_make_password(struct api *a, char *err, size_t errlen)
{
	const char *state = a->conf->state;
	char *text = NULL;
	int r = read_state_file(state, PASSWORD_FILE, sizeof(a->pw_hash) - 1, &text, NULL);
	if (r == 0) {
		text[strcspn(text, "\r\n \t")] = 0;
		if (strncmp(text, "$argon2id$", 10)) {
			snprintf(err, errlen,
				 "%s/%s does not hold an argon2id hash; delete it to have a new "
				 "password generated, or set [api] password-hash",
				 state, PASSWORD_FILE);
			free(text);
			return -EINVAL;
		}
		str_copy(a->pw_hash, text, sizeof(a->pw_hash));
		free(text);
		return 0;
	}
	if (r != -ENOENT) {
		snprintf(err, errlen, "cannot read %s/%s: %s", state, PASSWORD_FILE, strerror(-r));
		return r;
	}
	uint8_t raw[12];
	char pw[2 * sizeof(raw) + 1], hash[API_HASH_LEN], line[API_HASH_LEN + 1];
	randombytes_buf(raw, sizeof(raw));
	to_hex(pw, raw, sizeof(raw));
	if (api_hash_password(pw, hash) < 0) {
		snprintf(err, errlen, "cannot hash the generated API password (out of memory)");
		return -ENOMEM;
	}
	int n = snprintf(line, sizeof(line), "%s\n", hash);
	r = write_state_file(state, PASSWORD_FILE, line, (size_t)n, 0600);
	if (r < 0) {
		snprintf(err, errlen, "cannot write %s/%s: %s", state, PASSWORD_FILE, strerror(-r));
		return r;
	}
	str_copy(a->pw_hash, hash, sizeof(a->pw_hash));
	/* Printed once, and never into the log ring (GET /api/v1/log): at start the ring is not
	 * installed yet; on a reload that generates one it is paused for this line. */
	a->ring_paused = true;
	log_warn("api",
		 "generated the web UI/API password: %s (shown only now; its hash is in "
		 "%s/%s; set [api] password-hash to choose your own)",
		 pw, state, PASSWORD_FILE);
	a->ring_paused = false;
	sodium_memzero(pw, sizeof(pw));
	return 0;
}

/* ---- sessions ---------------------------------------------------------------------------- */

static uint64_t session_ttl_ms(const struct api *a)
{
	return a->conf->api.session_timeout * 1000;
}

static struct session *session_find(struct api *a, const char *cookie_hdr, uint64_t now)
{
	char val[2 * SESSION_ID_LEN + 8];
	uint8_t id[SESSION_ID_LEN];
	if (api_cookie_get(cookie_hdr, COOKIE_NAME, val, sizeof(val)) < 0 ||
	    from_hex(id, sizeof(id), val) < 0)
		return NULL;
	struct session *found = NULL;
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		struct session *s = &a->sessions[i];
		if (!s->used)
			continue;
		if (now - s->last_mono_ms > session_ttl_ms(a)) {
			sodium_memzero(s, sizeof(*s));
			continue;
		}
		if (sodium_memcmp(s->id, id, sizeof(id)) == 0)
			found = s;
	}
	if (found)
		found->last_mono_ms = now;
	return found;
}

static struct session *session_new(struct api *a, uint64_t now)
{
	struct session *s = &a->sessions[0];
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		struct session *c = &a->sessions[i];
		if (!c->used || now - c->last_mono_ms > session_ttl_ms(a)) {
			s = c;
			break;
		}
		if (c->last_mono_ms < s->last_mono_ms)
			s = c; /* full: the one idle longest goes */
	}
	uint8_t csrf[32];
	s->used = true;
	randombytes_buf(s->id, sizeof(s->id));
	randombytes_buf(csrf, sizeof(csrf));
	to_hex(s->csrf, csrf, sizeof(csrf));
	s->last_mono_ms = now;
	return s;
}

/* ---- tokens ------------------------------------------------------------------------------ */

static void token_hash(const char *token, uint8_t out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

/* $state/api-tokens: one line per token, "NAME CREATED_MS HASH_HEX". */
static int tokens_load(struct api *a, char *err, size_t errlen)
{
	char *text = NULL;
	int r = read_state_file(a->conf->state, TOKENS_FILE, 64 * 1024, &text, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		snprintf(err, errlen, "cannot read %s/%s: %s", a->conf->state, TOKENS_FILE,
			 strerror(-r));
		return r;
	}
	unsigned lineno = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char name[64], created[24], hex[80];
		if (line[0] == '#' || !line[0])
			continue;
		struct token t = {0};
		uint64_t ms;
		if (sscanf(line, "%63s %23s %79s", name, created, hex) != 3 || !api_name_ok(name) ||
		    parse_u64(created, 0, INT64_MAX, &ms) || from_hex(t.hash, 32, hex) ||
		    a->ntokens == TOKENS_MAX) {
			log_warn("api",
				 "%s/%s:%u: not a token line (NAME CREATED_MS HASH); ignored",
				 a->conf->state, TOKENS_FILE, lineno);
			continue;
		}
		str_copy(t.name, name, sizeof(t.name));
		t.created_ms = (int64_t)ms;
		a->tokens[a->ntokens++] = t;
	}
	free(text);
	return 0;
}

static int tokens_save(struct api *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fputs("# pixied API tokens: NAME CREATED_MS BLAKE2B-256(token); written by the API\n", f);
	for (size_t i = 0; i < a->ntokens; i++) {
		char hex[65];
		to_hex(hex, a->tokens[i].hash, 32);
		fprintf(f, "%s %lld %s\n", a->tokens[i].name, (long long)a->tokens[i].created_ms,
			hex);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	int r = write_state_file(a->conf->state, TOKENS_FILE, buf, len, 0600);
	free(buf);
	return r;
}

static const struct token *token_find(const struct api *a, const char *auth_hdr)
{
	if (!auth_hdr || strncasecmp(auth_hdr, "Bearer ", 7))
		return NULL;
	const char *tok = auth_hdr + 7;
	while (*tok == ' ')
		tok++;
	if (!*tok || strlen(tok) > 256)
		return NULL;
	uint8_t h[32];
	token_hash(tok, h);
	const struct token *found = NULL;
	for (size_t i = 0; i < a->ntokens; i++)
		if (sodium_memcmp(a->tokens[i].hash, h, 32) == 0)
			found = &a->tokens[i];
	return found;
}

/* ---- log ring ---------------------------------------------------------------------------- */

static void log_sink(void *arg, enum log_level lvl, const char *line)
{
	struct api *a = arg;
	if (a->ring_paused)
		return;
	struct log_line *l = &a->ring[(a->ring_head + a->ring_n) % LOG_RING];
	if (a->ring_n == LOG_RING)
		a->ring_head = (a->ring_head + 1) % LOG_RING;
	else
		a->ring_n++;
	l->lvl = lvl;
	str_copy(l->text, line, sizeof(l->text));
}

/* ---- SSE --------------------------------------------------------------------------------- */

static void stream_closed(void *arg, struct http_stream *hs)
{
	struct stream *s = arg;
	(void)hs;
	if (s->a)
		for (size_t i = 0; i < STREAMS_MAX; i++)
			if (s->a->streams[i] == s)
				s->a->streams[i] = NULL;
	free(s);
}

static void streams_write(struct api *a, const char *text, size_t len)
{
	for (size_t i = 0; i < STREAMS_MAX; i++) {
		struct stream *s = a->streams[i];
		if (!s)
			continue;
		int r = http_stream_write(s->hs, text, len);
		if (r == -ENOBUFS) {
			/* docs/api.md: a reader 256 KiB behind is dropped; it reconnects */
			a->streams[i] = NULL;
			s->a = NULL;
			http_stream_close(s->hs);
		}
	}
}

static size_t streams_count(const struct api *a, const uint8_t *key)
{
	size_t n = 0;
	for (size_t i = 0; i < STREAMS_MAX; i++)
		if (a->streams[i] && (!key || !memcmp(a->streams[i]->addr, key, 16)))
			n++;
	return n;
}

/* Is the login that opened s still there (session not ended or expired, token not deleted)? */
static bool stream_authorized(const struct api *a, const struct stream *s, uint64_t now)
{
	if (s->by_session) {
		for (size_t i = 0; i < SESSIONS_MAX; i++) {
			const struct session *se = &a->sessions[i];
			if (se->used && now - se->last_mono_ms <= session_ttl_ms(a) &&
			    sodium_memcmp(se->id, s->session_id, SESSION_ID_LEN) == 0)
				return true;
		}
		return false;
	}
	for (size_t i = 0; i < a->ntokens; i++)
		if (!strcmp(a->tokens[i].name, s->token_name))
			return true;
	return false;
}

/* End the streams whose login has ended (called on logout, token deletion and each ping). */
static void streams_revalidate(struct api *a)
{
	uint64_t now = loop_now(a->d.loop);
	for (size_t i = 0; i < STREAMS_MAX; i++) {
		struct stream *s = a->streams[i];
		if (s && !stream_authorized(a, s, now)) {
			a->streams[i] = NULL;
			s->a = NULL;
			http_stream_close(s->hs);
		}
	}
}

static void ping(void *arg)
{
	struct api *a = arg;
	streams_revalidate(a);
	if (!streams_count(a, NULL))
		return;
	static const char text[] = ": ping\n\n";
	streams_write(a, text, sizeof(text) - 1);
	loop_timer_arm(a->d.loop, &a->ping, loop_now(a->d.loop) + PING_MS);
}

/* clients/ recorded an event: one SSE message to every stream. */
static void on_client_event(void *arg, const struct clients_event *ev)
{
	struct api *a = arg;
	if (!streams_count(a, NULL))
		return;
	char evj[CLIENTS_EVENT_JSON_MAX];
	if (clients_event_json(ev, evj, sizeof(evj)) < 0)
		return;
	struct clients_record rec;
	int have = a->d.clients ? clients_get(a->d.clients, ev->mac, &rec, NULL, 0, NULL) : 0;
	if (have != 1 || clients_record_json(&rec, NULL, 0, a->rec_json, sizeof(a->rec_json)) < 0)
		str_copy(a->rec_json, "null", sizeof(a->rec_json));
	/* data is built in rec_json's tail-free twin: frame holds the final message */
	size_t need = strlen(evj) + strlen(a->rec_json) + 32;
	char *data = malloc(need);
	if (!data)
		return;
	int n = snprintf(data, need, "{\"event\":%s,\"client\":%s}", evj, a->rec_json);
	int len = n > 0 ? api_sse_frame(a->frame, sizeof(a->frame), "client", ++a->sse_id, data,
					(size_t)n)
			: -EINVAL;
	free(data);
	if (len > 0)
		streams_write(a, a->frame, (size_t)len);
}

/* ---- handlers ---------------------------------------------------------------------------- */

struct ctx {
	struct api *a;
	const struct http_request *req;
	struct http_response *resp;
	const struct api_match *m;
	struct who who;
	uint64_t now_mono;
	int64_t now_ms;
};

static cJSON *mac_json(const uint8_t mac[6])
{
	char b[MAC_STRLEN];
	return cJSON_CreateString(fmt_mac(b, mac));
}

static cJSON *ip_json(bool has, uint32_t ip)
{
	char b[IPV4_STRLEN];
	return has ? cJSON_CreateString(fmt_ipv4(b, ip)) : cJSON_CreateNull();
}

static int h_login(struct ctx *x)
{
	struct api *a = x->a;
	uint8_t key[16];
	char who[48];
	addr_key(x->req, key);
	addr_text(x->req, who, sizeof(who));
	uint64_t wait = api_throttle_wait(&a->throttle, key, x->now_mono);
	if (wait) {
		char ra[24];
		snprintf(ra, sizeof(ra), "%llu", (unsigned long long)((wait + 999) / 1000));
		http_response_header(x->resp, "Retry-After", ra);
		return reply_error(x->resp, 429, "too many failed logins; try again in %s s", ra);
	}
	struct api_body_login b;
	char err[256];
	int r = api_parse_login(x->req->body, x->req->body_len, &b, err, sizeof(err));
	if (r < 0)
		return reply_error(x->resp, r == -EFBIG ? 413 : 400, "%s", err);
	const char *hash = password_hash(a);
	bool ok = hash[0] && crypto_pwhash_str_verify(hash, b.password, strlen(b.password)) == 0;
	sodium_memzero(&b, sizeof(b));
	if (!ok) {
		api_throttle_fail(&a->throttle, key, x->now_mono);
		log_warn("api", "login failed from=%s", who);
		return reply_error(x->resp, 401, "wrong password");
	}
	api_throttle_ok(&a->throttle, key);
	struct session *s = session_new(a, x->now_mono);
	char id[2 * SESSION_ID_LEN + 1], cookie[200];
	to_hex(id, s->id, sizeof(s->id));
	snprintf(cookie, sizeof(cookie), COOKIE_NAME "=%s; HttpOnly; SameSite=Strict; Path=/", id);
	sodium_memzero(id, sizeof(id));
	if (http_response_header(x->resp, "Set-Cookie", cookie) < 0)
		return -ENOSPC;
	sodium_memzero(cookie, sizeof(cookie));
	log_info("api", "login from=%s", who);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "csrf", s->csrf);
	cJSON_AddNumberToObject(j, "expires", (double)(x->now_ms + (int64_t)session_ttl_ms(a)));
	return reply_json(x->resp, 200, j);
}

static int h_logout(struct ctx *x)
{
	if (x->who.session)
		sodium_memzero(x->who.session, sizeof(*x->who.session));
	streams_revalidate(x->a); /* its event streams end with it */
	http_response_header(x->resp, "Set-Cookie",
			     COOKIE_NAME "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
	return reply_status(x->resp, 204);
}

static int h_session(struct ctx *x)
{
	if (!x->who.session && !x->who.token)
		return reply_error(x->resp, 401, "not logged in: POST /api/v1/login");
	cJSON *j = cJSON_CreateObject();
	if (x->who.session) {
		cJSON_AddStringToObject(j, "user", "admin");
		cJSON_AddStringToObject(j, "csrf", x->who.session->csrf);
		cJSON_AddNumberToObject(j, "expires",
					(double)(x->now_ms + (int64_t)session_ttl_ms(x->a)));
	} else {
		char u[80];
		snprintf(u, sizeof(u), "token:%s", x->who.token->name);
		cJSON_AddStringToObject(j, "user", u);
		cJSON_AddNullToObject(j, "csrf");
		cJSON_AddNullToObject(j, "expires");
	}
	return reply_json(x->resp, 200, j);
}

static int h_tokens(struct ctx *x)
{
	cJSON *j = cJSON_CreateArray();
	for (size_t i = 0; i < x->a->ntokens; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", x->a->tokens[i].name);
		cJSON_AddNumberToObject(o, "created", (double)x->a->tokens[i].created_ms);
		cJSON_AddItemToArray(j, o);
	}
	return reply_json(x->resp, 200, j);
}

static int h_token_add(struct ctx *x)
{
	struct api *a = x->a;
	struct api_body_token b;
	char err[256];
	int r = api_parse_token(x->req->body, x->req->body_len, &b, err, sizeof(err));
	if (r < 0)
		return reply_error(x->resp, r == -EFBIG ? 413 : 400, "%s", err);
	for (size_t i = 0; i < a->ntokens; i++)
		if (!strcmp(a->tokens[i].name, b.name))
			return reply_error(x->resp, 409,
					   "a token named %s exists; delete it first or pick "
					   "another name",
					   b.name);
	if (a->ntokens == TOKENS_MAX)
		return reply_error(x->resp, 409, "%d tokens exist; delete one first", TOKENS_MAX);
	uint8_t raw[32];
	char tok[4 + 2 * sizeof(raw) + 1];
	randombytes_buf(raw, sizeof(raw));
	memcpy(tok, "pxd_", 4);
	to_hex(tok + 4, raw, sizeof(raw));
	struct token *t = &a->tokens[a->ntokens++];
	memset(t, 0, sizeof(*t));
	str_copy(t->name, b.name, sizeof(t->name));
	t->created_ms = x->now_ms;
	token_hash(tok, t->hash);
	if ((r = tokens_save(a)) < 0) {
		a->ntokens--;
		return reply_error(x->resp, 500, "cannot write %s/%s: %s", a->conf->state,
				   TOKENS_FILE, strerror(-r));
	}
	log_info("api", "token created name=%s", b.name);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "name", b.name);
	cJSON_AddStringToObject(j, "token", tok);
	sodium_memzero(tok, sizeof(tok));
	return reply_json(x->resp, 201, j);
}

static int h_token_del(struct ctx *x)
{
	struct api *a = x->a;
	for (size_t i = 0; i < a->ntokens; i++) {
		if (strcmp(a->tokens[i].name, x->m->arg))
			continue;
		struct token saved = a->tokens[i];
		memmove(&a->tokens[i], &a->tokens[i + 1], (a->ntokens - i - 1) * sizeof(saved));
		a->ntokens--;
		int r = tokens_save(a);
		if (r < 0) {
			memmove(&a->tokens[i + 1], &a->tokens[i], (a->ntokens - i) * sizeof(saved));
			a->tokens[i] = saved;
			a->ntokens++;
			return reply_error(x->resp, 500, "cannot write %s/%s: %s", a->conf->state,
					   TOKENS_FILE, strerror(-r));
		}
		log_info("api", "token deleted name=%s", saved.name);
		streams_revalidate(a); /* streams opened with it end now */
		return reply_status(x->resp, 204);
	}
	return reply_error(x->resp, 404, "no token with that name: GET /api/v1/tokens lists them");
}

static const char *const mode_names[] = {"off", "full", "proxy"};

/* Named counters into a JSON object, in order. */
struct num {
	const char *name;
	uint64_t v;
};

static void add_nums(cJSON *o, const struct num *n, size_t k)
{
	for (size_t i = 0; i < k; i++)
		cJSON_AddNumberToObject(o, n[i].name, (double)n[i].v);
}

static int h_status(struct ctx *x)
{
	struct api *a = x->a;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "version", PIXIED_VERSION);
	cJSON_AddNumberToObject(j, "started", (double)a->started_ms);
	cJSON_AddNumberToObject(j, "uptime_s", (double)((x->now_ms - a->started_ms) / 1000));
	cJSON_AddStringToObject(j, "mode", mode_names[a->conf->dhcp.mode]);
	cJSON *ifs = cJSON_AddArrayToObject(j, "interfaces");
	for (size_t i = 0; i < a->nifs; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", a->ifs[i].name);
		cJSON_AddItemToObject(o, "address", ip_json(a->ifs[i].addr, a->ifs[i].addr));
		cJSON_AddItemToObject(o, "netmask", ip_json(a->ifs[i].addr, a->ifs[i].mask));
		cJSON_AddItemToArray(ifs, o);
	}
	cJSON *ct = cJSON_AddObjectToObject(j, "counters");
	cJSON *dj = cJSON_AddObjectToObject(ct, "dhcp");
	const struct dhcp_server *ds = a->d.dhcp ? dhcp_service_server(a->d.dhcp) : NULL;
	if (ds) {
		const struct dhcp_server_stats *s = dhcp_server_stats(ds);
		uint64_t rx = 0;
		for (size_t i = 0; i < ARRAY_SIZE(s->rx); i++)
			rx += s->rx[i];
		static const char *const rxn[] = {"bootp",   "discover", "offer",
						  "request", "decline",  "ack",
						  "nak",     "release",  "inform"};
		cJSON *rj = cJSON_AddObjectToObject(dj, "received_by_type");
		for (size_t i = 0; i < ARRAY_SIZE(s->rx) && i < ARRAY_SIZE(rxn); i++)
			cJSON_AddNumberToObject(rj, rxn[i], (double)s->rx[i]);
		cJSON_AddNumberToObject(dj, "received", (double)rx);
		const struct num dn[] = {{"offers", s->offers},
					 {"acks", s->acks},
					 {"naks", s->naks},
					 {"proxy_offers", s->proxy_offers},
					 {"proxy_acks", s->proxy_acks},
					 {"declines", s->declines},
					 {"releases", s->releases},
					 {"drops", s->drops},
					 {"exhausted", s->exhausted},
					 {"leases", s->leases}};
		add_nums(dj, dn, ARRAY_SIZE(dn));
	}
	cJSON *tj = cJSON_AddObjectToObject(ct, "tftp");
	if (a->d.tftp) {
		struct tftp_stats s;
		tftp_server_stats(a->d.tftp, &s);
		const struct num tn[] = {{"requests", s.requests},
					 {"refused", s.refused},
					 {"started", s.started},
					 {"completed", s.completed},
					 {"failed", s.failed},
					 {"active", s.active},
					 {"retransmissions", s.retrans_pkts},
					 {"bytes", s.bytes}};
		add_nums(tj, tn, ARRAY_SIZE(tn));
	}
	cJSON *hj = cJSON_AddObjectToObject(ct, "http");
	if (a->d.http) {
		struct http_stats s;
		http_server_stats(a->d.http, &s);
		const struct num hn[] = {{"connections", s.connections},
					 {"requests", s.requests},
					 {"active", s.active},
					 {"streams", s.streams},
					 {"bytes", s.bytes}};
		add_nums(hj, hn, ARRAY_SIZE(hn));
		for (int c = 1; c <= 5; c++) {
			char k[16];
			snprintf(k, sizeof(k), "%dxx", c);
			cJSON_AddNumberToObject(hj, k, (double)s.status[c]);
		}
	}
	cJSON *cj = cJSON_AddObjectToObject(ct, "clients");
	if (a->d.clients) {
		struct clients_stats s;
		clients_stats(a->d.clients, &s);
		cJSON_AddNumberToObject(cj, "in_memory", (double)s.in_memory);
		cJSON_AddNumberToObject(cj, "booted", (double)s.booted);
		cJSON_AddNumberToObject(cj, "stalled", (double)s.stalled);
		cJSON_AddNumberToObject(cj, "events", (double)s.events);
		cJSON *bs = cJSON_AddObjectToObject(cj, "by_status");
		for (int i = 0; i < CLIENTS_ST_COUNT; i++)
			cJSON_AddNumberToObject(bs, clients_status_name((enum clients_status)i),
						(double)s.by_status[i]);
	}
	return reply_json(x->resp, 200, j);
}

static int h_clients(struct ctx *x)
{
	if (!x->a->d.clients)
		return set_body(x->resp, 200, strdup("[]"));
	char *out = NULL;
	size_t len = 0;
	int r = clients_list_json(x->a->d.clients, &out, &len);
	if (r < 0)
		return reply_error(x->resp, 500, "cannot list clients: %s", strerror(-r));
	return set_body(x->resp, 200, out);
}

static int parse_mac_arg(struct ctx *x, uint8_t mac[6])
{
	if (api_parse_path_mac(x->m->arg, mac) < 0) {
		reply_error(x->resp, 400,
			    "not a MAC address in the path: write aa:bb:cc:dd:ee:ff, "
			    "aa-bb-cc-dd-ee-ff or aabbccddeeff");
		return -EINVAL;
	}
	return 0;
}

static int h_client(struct ctx *x)
{
	uint8_t mac[6];
	if (parse_mac_arg(x, mac) < 0)
		return 0;
	char *out = NULL;
	size_t len = 0;
	int r =
	    x->a->d.clients ? clients_record_json_alloc(x->a->d.clients, mac, &out, &len) : -ENOENT;
	if (r == -ENOENT)
		return reply_error(x->resp, 404, "pixied has not heard from %s", x->m->arg);
	if (r < 0)
		return reply_error(x->resp, 500, "cannot read the client: %s", strerror(-r));
	return set_body(x->resp, 200, out);
}

/* The record after a write: 200 with its JSON (with timeline). */
static int reply_record(struct ctx *x, const uint8_t mac[6])
{
	char *out = NULL;
	size_t len = 0;
	int r =
	    x->a->d.clients ? clients_record_json_alloc(x->a->d.clients, mac, &out, &len) : -ENOENT;
	if (r < 0) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddItemToObject(j, "mac", mac_json(mac));
		return reply_json(x->resp, 200, j);
	}
	return set_body(x->resp, 200, out);
}

/* An admin event in mac's timeline, written to the store before the answer. */
static void admin_event(struct ctx *x, const uint8_t mac[6], const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void admin_event(struct ctx *x, const uint8_t mac[6], const char *fmt, ...)
{
	char detail[CLIENTS_DETAIL_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	char m[MAC_STRLEN];
	log_info("api", "%s mac=%s", detail, fmt_mac(m, mac));
	if (!x->a->d.clients)
		return;
	int r = clients_on_admin(x->a->d.clients, mac, detail, x->now_ms);
	if (r == 0)
		r = clients_flush(x->a->d.clients, x->now_ms, true);
	if (r < 0)
		log_warn("api", "cannot record the admin event for %s: %s", m, strerror(-r));
}

static int boot_error(struct ctx *x, int r, const char *entry)
{
	if (r == -ENOENT)
		return reply_error(x->resp, 404,
				   "no catalog entry named \"%s\"; GET /api/v1/catalog lists them",
				   entry);
	if (r == -ENODEV)
		return reply_error(x->resp, 503, "no state store: next boot cannot be kept");
	return reply_error(x->resp, 500, "cannot store it: %s", strerror(-r));
}

static int h_boot_put(struct ctx *x, bool pin)
{
	uint8_t mac[6];
	if (parse_mac_arg(x, mac) < 0)
		return 0;
	struct api_body_entry b;
	char err[256];
	int r = api_parse_entry(x->req->body, x->req->body_len, &b, err, sizeof(err));
	if (r < 0)
		return reply_error(x->resp, r == -EFBIG ? 413 : 400, "%s", err);
	r = pin ? boot_pin_set(x->a->d.boot, mac, b.entry)
		: boot_nextboot_set(x->a->d.boot, mac, b.entry);
	if (r < 0)
		return boot_error(x, r, b.entry);
	admin_event(x, mac, "%s set to %s", pin ? "permanent entry" : "next boot", b.entry);
	return reply_record(x, mac);
}

static int h_boot_del(struct ctx *x, bool pin)
{
	uint8_t mac[6];
	if (parse_mac_arg(x, mac) < 0)
		return 0;
	int r = pin ? boot_pin_clear(x->a->d.boot, mac) : boot_nextboot_clear(x->a->d.boot, mac);
	if (r < 0)
		return boot_error(x, r, "");
	admin_event(x, mac, "%s cleared", pin ? "permanent entry" : "next boot");
	return reply_status(x->resp, 204);
}

static int h_wake(struct ctx *x)
{
	struct api *a = x->a;
	uint8_t mac[6];
	if (parse_mac_arg(x, mac) < 0)
		return 0;
	struct clients_record rec;
	int have = a->d.clients ? clients_get(a->d.clients, mac, &rec, NULL, 0, NULL) : 0;
	if (have != 1 || !rec.iface[0])
		return reply_error(x->resp, 409,
				   "pixied does not know which interface %s was last seen on, so "
				   "it cannot wake it (it must have sent DHCP since records began)",
				   x->m->arg);
	struct net_iface ifc;
	bool found = false;
	for (size_t i = 0; i < a->nifs && !found; i++)
		if (!strcmp(a->ifs[i].name, rec.iface)) {
			ifc = a->ifs[i];
			found = true;
		}
	if (!found && net_iface_get(rec.iface, &ifc) == 0)
		found = true;
	if (!found)
		return reply_error(x->resp, 409, "interface %s (where %s was last seen) is gone",
				   rec.iface, x->m->arg);
	if (a->rawfd < 0)
		return reply_error(x->resp, 503,
				   "Wake-on-LAN needs a raw socket (CAP_NET_RAW at start), which "
				   "pixied could not open");
	uint8_t pkt[API_WOL_LEN];
	int n = api_wol_packet(pkt, sizeof(pkt), mac);
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	/* The magic packet as a UDP broadcast to port 9 ("discard"), the form every NIC
	 * firmware scans for (it looks for the pattern anywhere in the frame). */
	int r = n < 0 ? n
		      : net_raw_send_udp4(a->rawfd, ifc.ifindex, bcast, ifc.addr, 9, 0xffffffffu, 9,
					  pkt, (size_t)n);
	if (r < 0)
		return reply_error(x->resp, 500, "sending the magic packet on %s failed: %s",
				   ifc.name, strerror(-r));
	admin_event(x, mac, "wake-on-lan sent on %s", ifc.name);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "sent_on", ifc.name);
	return reply_json(x->resp, 202, j);
}

struct lease_ctx {
	struct api *a;
	cJSON *arr;
	int64_t now;
	/* the pools' subnets, read once per request (pool stats walk every lease) */
	struct {
		uint32_t net, mask;
		const char *name;
	} pools[CONF_MAX_POOLS];
	size_t npools;
};

static void pools_load(struct lease_ctx *lc)
{
	const struct api *a = lc->a;
	const struct dhcp_server *ds = a->d.dhcp ? dhcp_service_server(a->d.dhcp) : NULL;
	size_t n = ds ? dhcp_server_npools(ds) : 0;
	for (size_t i = 0; i < n && lc->npools < CONF_MAX_POOLS; i++) {
		struct dhcp_server_pool_stats ps;
		if (dhcp_server_pool_stats(ds, i, lc->now, &ps) == 0) {
			lc->pools[lc->npools].net = ps.net;
			lc->pools[lc->npools].mask = ps.mask;
			lc->pools[lc->npools++].name = ps.name;
		}
	}
	for (size_t i = 0; i < a->conf->npools && lc->npools < CONF_MAX_POOLS; i++) {
		const struct conf_pool *p = &a->conf->pools[i];
		if (p->has_subnet) {
			lc->pools[lc->npools].net = p->net;
			lc->pools[lc->npools].mask = p->mask;
			lc->pools[lc->npools++].name = p->name;
		}
	}
}

static const char *pool_of(const struct lease_ctx *lc, uint32_t ip)
{
	for (size_t i = 0; i < lc->npools; i++)
		if ((ip & lc->pools[i].mask) == (lc->pools[i].net & lc->pools[i].mask))
			return lc->pools[i].name;
	return NULL;
}

static int lease_one(void *arg, const struct store_lease *l)
{
	struct lease_ctx *lc = arg;
	static const char *const st[] = {"?", "bound", "released", "declined", "expired"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "ip", ip_json(true, l->ip));
	cJSON_AddItemToObject(o, "mac", mac_json(l->mac));
	cJSON_AddStringToObject(o, "hostname", l->hostname);
	const char *state = (unsigned)l->state < ARRAY_SIZE(st) ? st[l->state] : "?";
	if (l->state == STORE_LEASE_BOUND && l->expires <= lc->now)
		state = "expired";
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddNumberToObject(o, "expires", (double)l->expires * 1000.0);
	const char *pool = pool_of(lc, l->ip);
	if (pool)
		cJSON_AddStringToObject(o, "pool", pool);
	else
		cJSON_AddNullToObject(o, "pool");
	cJSON_AddItemToArray(lc->arr, o);
	return 0;
}

static int h_leases(struct ctx *x)
{
	struct lease_ctx lc = {.a = x->a, .arr = cJSON_CreateArray(), .now = time_wall()};
	pools_load(&lc);
	int r = x->a->d.store ? store_lease_each(x->a->d.store, lease_one, &lc) : 0;
	if (r < 0) {
		cJSON_Delete(lc.arr);
		return reply_error(x->resp, 500, "cannot read the leases: %s", strerror(-r));
	}
	return reply_json(x->resp, 200, lc.arr);
}

static int h_lease_del(struct ctx *x)
{
	struct api *a = x->a;
	uint32_t ip;
	if (parse_ipv4(x->m->arg, &ip) < 0)
		return reply_error(x->resp, 400, "not an IPv4 address in the path: write 10.0.0.5");
	if (!a->d.dhcp)
		return reply_error(x->resp, 409, "the DHCP server is not running");
	struct store_lease l;
	bool have_mac = a->d.store && store_lease_by_ip(a->d.store, ip, &l) == 1;
	char err[256] = "";
	int r = dhcp_service_release(a->d.dhcp, ip, err, sizeof(err));
	if (r == -ENOENT)
		return reply_error(x->resp, 404, "no lease on %s%s%s", x->m->arg,
				   err[0] ? ": " : "", err);
	if (r == -ENODEV)
		return reply_error(
		    x->resp, 409,
		    "leases are released only in full DHCP mode ([dhcp] mode = full)");
	if (r < 0)
		return reply_error(x->resp, 500, "cannot release %s: %s", x->m->arg,
				   err[0] ? err : strerror(-r));
	if (have_mac)
		admin_event(x, l.mac, "lease on %s released", x->m->arg);
	else
		log_info("api", "lease released ip=%s", x->m->arg);
	return reply_status(x->resp, 204);
}

static int h_catalog(struct ctx *x)
{
	const struct conf *c = x->a->conf;
	cJSON *j = cJSON_CreateObject();
	cJSON *es = cJSON_AddArrayToObject(j, "entries");
	/* config entries in file order, then the ISOs of iso-dir */
	size_t n = boot_catalog_size(x->a->d.boot);
	for (size_t i = 0; i < n; i++) {
		const struct boot_item *it = boot_catalog_item(x->a->d.boot, i);
		if (!it)
			break;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", boot_item_name(it));
		cJSON_AddStringToObject(o, "label", boot_item_label(it));
		cJSON_AddStringToObject(o, "type", conf_entry_kind_name(boot_item_kind(it)));
		cJSON *ar = cJSON_AddArrayToObject(o, "archs");
		unsigned archs = boot_item_archs(it);
		for (unsigned b = 0; b < 8; b++)
			if (!archs || (archs & (1u << b)))
				cJSON_AddItemToArray(ar,
						     cJSON_CreateString(conf_family_name(1u << b)));
		cJSON_AddItemToArray(es, o);
	}
	cJSON *m = cJSON_AddObjectToObject(j, "menu");
	cJSON_AddStringToObject(m, "title", c->menu.title[0] ? c->menu.title : "pixied boot menu");
	const char *def = c->menu.default_entry[0] ? c->menu.default_entry
			  : c->nentries            ? c->entries[0].name
						   : NULL;
	if (def)
		cJSON_AddStringToObject(m, "default", def);
	else
		cJSON_AddNullToObject(m, "default");
	cJSON_AddNumberToObject(m, "timeout_ms", (double)c->menu.timeout_ms);
	return reply_json(x->resp, 200, j);
}

static int h_preview(struct ctx *x)
{
	/* On an API listener of its own, the address and port the admin reached are not where
	 * boot files are served: let boot/ pick the boot side's, as for TFTP clients. */
	bool own = x->req->admin_listener;
	struct boot_request rq = {.server_ip = own ? 0 : x->req->local4,
				  .server_port = own ? 0 : x->req->local_port};
	const char *mac = http_request_param(x->req, "mac");
	uint8_t m[6];
	if (mac && api_parse_path_mac(mac, m) < 0)
		return reply_error(x->resp, 400, "mac: not a MAC address (aa:bb:cc:dd:ee:ff)");
	for (size_t i = 0; i < x->req->nparams; i++)
		boot_request_param(&rq, x->req->params[i].name, x->req->params[i].value);
	if (mac) {
		rq.has_mac = true;
		memcpy(rq.mac, m, 6);
	}
	boot_request_finish(&rq);
	char *out = NULL;
	size_t len = 0;
	int r = boot_preview_ipxe(x->a->d.boot, &rq, &out, &len, NULL);
	if (r < 0)
		return reply_error(x->resp, 500, "cannot render the script: %s", strerror(-r));
	free(x->resp->body);
	x->resp->status = 200;
	x->resp->body = out;
	x->resp->body_len = len;
	x->resp->content_type = "text/plain; charset=utf-8";
	return 0;
}

static const char *state_hosts_path(const struct api *a, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", a->conf->state, CONF_STATE_HOSTS);
	return buf;
}

static cJSON *host_json(const struct api *a, const struct conf_host *h)
{
	char p[CONF_PATH_LEN + 32];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", h->name);
	cJSON_AddItemToObject(o, "mac", mac_json(h->mac));
	cJSON_AddItemToObject(o, "ip", ip_json(h->has_ip, h->ip));
	cJSON_AddStringToObject(o, "hostname", h->hostname[0] ? h->hostname : h->name);
	cJSON_AddStringToObject(o, "boot", h->boot);
	cJSON_AddStringToObject(o, "source", h->from_state ? "api" : "config");
	cJSON_AddStringToObject(o, "file",
				h->from_state ? state_hosts_path(a, p, sizeof(p)) : a->conf->path);
	cJSON_AddNumberToObject(o, "line", h->line);
	return o;
}

static int h_hosts(struct ctx *x)
{
	cJSON *j = cJSON_CreateArray();
	for (size_t i = 0; i < x->a->conf->nhosts; i++)
		cJSON_AddItemToArray(j, host_json(x->a, &x->a->conf->hosts[i]));
	return reply_json(x->resp, 200, j);
}

/*
 * Write a new <state>/hosts.conf and apply it through the reload; when the reload refuses,
 * put the old file back. 0, or an answer already set (400/500/503) and a negative errno.
 */
static int hosts_apply(struct ctx *x, const char *text, size_t len)
{
	struct api *a = x->a;
	char state[CONF_PATH_LEN];
	str_copy(state, a->conf->state, sizeof(state));
	if (!a->d.reload) {
		reply_error(x->resp, 503, "this pixied cannot reload its configuration");
		return -ENOTSUP;
	}
	char *old = NULL;
	size_t oldlen = 0;
	int r = read_state_file(state, CONF_STATE_HOSTS, 1u << 20, &old, &oldlen);
	if (r < 0 && r != -ENOENT) {
		reply_error(x->resp, 500, "cannot read %s/%s: %s", state, CONF_STATE_HOSTS,
			    strerror(-r));
		return r;
	}
	bool had = r == 0;
	r = write_state_file(state, CONF_STATE_HOSTS, text, len, 0640);
	if (r < 0) {
		free(old);
		reply_error(x->resp, 500, "cannot write %s/%s: %s", state, CONF_STATE_HOSTS,
			    strerror(-r));
		return r;
	}
	char err[4096] = "";
	r = a->d.reload(a->d.reload_arg, err, sizeof(err));
	if (r < 0) {
		int r2 = had ? write_state_file(state, CONF_STATE_HOSTS, old, oldlen, 0640)
			     : unlink_state_file(state, CONF_STATE_HOSTS);
		if (r2 < 0)
			log_err("api", "cannot put %s/%s back: %s", state, CONF_STATE_HOSTS,
				strerror(-r2));
		free(old);
		size_t el = strlen(err);
		while (el && err[el - 1] == '\n')
			err[--el] = 0;
		reply_error(x->resp, 400, "the configuration does not accept it: %s",
			    err[0] ? err : "reload refused");
		return r;
	}
	free(old);
	return 0;
}

static int h_host_add(struct ctx *x)
{
	struct api *a = x->a;
	struct api_body_host b;
	char err[256];
	int r = api_parse_host(x->req->body, x->req->body_len, &b, err, sizeof(err));
	if (r < 0)
		return reply_error(x->resp, r == -EFBIG ? 413 : 400, "%s", err);
	for (size_t i = 0; i < a->conf->nhosts; i++) {
		const struct conf_host *h = &a->conf->hosts[i];
		const char *why = !strcmp(h->name, b.name)                 ? "name"
				  : !memcmp(h->mac, b.mac, 6)              ? "mac"
				  : b.has_ip && h->has_ip && h->ip == b.ip ? "ip"
									   : NULL;
		if (why) {
			char p[CONF_PATH_LEN + 32];
			return reply_error(
			    x->resp, 409, "[host %s] (%s line %u) has this %s", h->name,
			    h->from_state ? state_hosts_path(a, p, sizeof(p)) : a->conf->path,
			    h->line, why);
		}
	}
	struct conf_host add = {0};
	str_copy(add.name, b.name, sizeof(add.name));
	memcpy(add.mac, b.mac, 6);
	add.has_ip = b.has_ip;
	add.ip = b.ip;
	str_copy(add.hostname, b.hostname, sizeof(add.hostname));
	str_copy(add.boot, b.boot, sizeof(add.boot));
	char *text = NULL;
	size_t len = 0;
	r = api_hosts_render(a->conf->hosts, a->conf->nhosts, &add, NULL, &text, &len);
	if (r < 0)
		return reply_error(x->resp, 500, "cannot write the hosts file: %s", strerror(-r));
	r = hosts_apply(x, text, len);
	free(text);
	if (r < 0)
		return 0;
	/* a->conf is the new config now */
	admin_event(x, b.mac, "host %s added", b.name);
	for (size_t i = 0; i < a->conf->nhosts; i++)
		if (!strcmp(a->conf->hosts[i].name, b.name))
			return reply_json(x->resp, 201, host_json(a, &a->conf->hosts[i]));
	return reply_error(x->resp, 500, "the host was written but the reload did not pick it up");
}

static int h_host_del(struct ctx *x)
{
	struct api *a = x->a;
	const struct conf_host *h = NULL;
	for (size_t i = 0; i < a->conf->nhosts && !h; i++)
		if (!strcmp(a->conf->hosts[i].name, x->m->arg))
			h = &a->conf->hosts[i];
	if (!h)
		return reply_error(x->resp, 404, "no [host %s]: GET /api/v1/hosts lists them",
				   x->m->arg);
	if (!h->from_state)
		return reply_error(x->resp, 409,
				   "[host %s] is in %s (line %u): edit it there, then reload",
				   h->name, a->conf->path, h->line);
	uint8_t mac[6];
	char name[CONF_NAME_LEN];
	memcpy(mac, h->mac, 6);
	str_copy(name, h->name, sizeof(name));
	char *text = NULL;
	size_t len = 0;
	int r = api_hosts_render(a->conf->hosts, a->conf->nhosts, NULL, name, &text, &len);
	if (r < 0)
		return reply_error(x->resp, 500, "cannot write the hosts file: %s", strerror(-r));
	r = hosts_apply(x, text, len); /* h is gone after this */
	free(text);
	if (r < 0)
		return 0;
	admin_event(x, mac, "host %s removed", name);
	return reply_status(x->resp, 204);
}

static cJSON *addr_list_json(const uint32_t *addrs, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, ip_json(true, addrs[i]));
	return arr;
}

static int h_config(struct ctx *x)
{
	struct api *a = x->a;
	const struct conf *c = a->conf;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "file", a->d.conf_path ? a->d.conf_path : c->path);
	cJSON *ifs = cJSON_AddArrayToObject(j, "interfaces");
	for (size_t i = 0; i < c->nifaces; i++)
		cJSON_AddItemToArray(ifs, cJSON_CreateString(c->ifaces[i]));
	cJSON_AddStringToObject(j, "root", c->root);
	cJSON_AddStringToObject(j, "state", c->state);
	cJSON *dj = cJSON_AddObjectToObject(j, "dhcp");
	cJSON_AddStringToObject(dj, "mode", mode_names[c->dhcp.mode]);
	cJSON_AddNumberToObject(dj, "lease_time", (double)c->dhcp.lease_time);
	cJSON *pools = cJSON_AddArrayToObject(dj, "pools");
	const struct dhcp_server *ds = a->d.dhcp ? dhcp_service_server(a->d.dhcp) : NULL;
	for (size_t i = 0; i < c->npools; i++) {
		const struct conf_pool *p = &c->pools[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", p->name);
		char sub[40], s1[IPV4_STRLEN], s2[IPV4_STRLEN];
		struct dhcp_server_pool_stats ps = {0};
		bool have = false;
		if (ds)
			for (size_t k = 0; k < dhcp_server_npools(ds) && !have; k++)
				if (dhcp_server_pool_stats(ds, k, time_wall(), &ps) == 0 &&
				    ps.name && !strcmp(ps.name, p->name))
					have = true;
		uint32_t net = p->has_subnet ? p->net : have ? ps.net : 0;
		uint32_t mask = p->has_subnet ? p->mask : have ? ps.mask : 0;
		if (net || mask) {
			snprintf(sub, sizeof(sub), "%s/%d", fmt_ipv4(s1, net), ipv4_prefix(mask));
			cJSON_AddStringToObject(o, "subnet", sub);
		} else {
			cJSON_AddNullToObject(o, "subnet");
		}
		cJSON *rg = cJSON_AddArrayToObject(o, "ranges");
		for (size_t k = 0; k < p->nranges; k++) {
			char r[40];
			snprintf(r, sizeof(r), "%s %s", fmt_ipv4(s1, p->ranges[k].start),
				 fmt_ipv4(s2, p->ranges[k].end));
			cJSON_AddItemToArray(rg, cJSON_CreateString(r));
		}
		if (have) {
			cJSON_AddNumberToObject(o, "size", (double)ps.size);
			cJSON_AddNumberToObject(o, "free", (double)ps.free);
			cJSON_AddNumberToObject(o, "bound", (double)ps.bound);
		} else {
			cJSON_AddNullToObject(o, "size");
			cJSON_AddNullToObject(o, "free");
			cJSON_AddNullToObject(o, "bound");
		}
		cJSON_AddItemToArray(pools, o);
	}
	cJSON *tj = cJSON_AddObjectToObject(j, "tftp");
	cJSON_AddBoolToObject(tj, "enabled", c->tftp.enabled);
	cJSON_AddNumberToObject(tj, "port", c->tftp.port);
	cJSON_AddItemToObject(tj, "addresses", addr_list_json(c->tftp.addrs, c->tftp.naddrs));
	cJSON_AddNumberToObject(tj, "max_transfers", (double)c->tftp.max_transfers);
	cJSON_AddBoolToObject(tj, "writes", c->tftp.write_dir[0] != 0);
	cJSON *hj = cJSON_AddObjectToObject(j, "http");
	cJSON_AddBoolToObject(hj, "enabled", c->http.enabled);
	cJSON_AddNumberToObject(hj, "port", c->http.port);
	cJSON_AddItemToObject(hj, "addresses", addr_list_json(c->http.addrs, c->http.naddrs));
	cJSON_AddNumberToObject(hj, "max_connections", (double)c->http.max_connections);
	cJSON *aj = cJSON_AddObjectToObject(j, "api");
	cJSON_AddBoolToObject(aj, "enabled", c->api.enabled);
	cJSON_AddNumberToObject(aj, "port", c->api.port);
	cJSON_AddItemToObject(aj, "addresses", addr_list_json(c->api.addrs, c->api.naddrs));
	cJSON_AddStringToObject(aj, "password", c->api.password_hash[0] ? "config" : "generated");
	cJSON_AddBoolToObject(aj, "metrics_auth", c->api.metrics_auth);
	cJSON_AddStringToObject(aj, "host_names", c->api.host_names);
	cJSON_AddNumberToObject(aj, "session_timeout", (double)c->api.session_timeout);
	cJSON_AddNumberToObject(j, "hosts", (double)c->nhosts);
	cJSON_AddNumberToObject(j, "entries", (double)c->nentries);
	return reply_json(x->resp, 200, j);
}

static int h_log(struct ctx *x)
{
	struct api *a = x->a;
	uint64_t n = 200;
	const char *p = http_request_param(x->req, "n");
	if (p && parse_u64(p, 1, LOG_RING, &n) < 0)
		return reply_error(x->resp, 400, "n: accepted: 1 to %d", LOG_RING);
	static const char *const lv[] = {"error", "warn", "info", "debug"};
	cJSON *j = cJSON_CreateArray();
	size_t take = MIN((size_t)n, a->ring_n);
	for (size_t i = a->ring_n - take; i < a->ring_n; i++) {
		const struct log_line *l = &a->ring[(a->ring_head + i) % LOG_RING];
		struct api_log_fields f;
		api_log_split(l->text, &f);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "time", (double)f.time_ms);
		cJSON_AddStringToObject(o, "level", (unsigned)l->lvl < 4 ? lv[l->lvl] : "?");
		cJSON_AddStringToObject(o, "module", f.module);
		cJSON_AddStringToObject(o, "message", f.message);
		cJSON_AddItemToArray(j, o);
	}
	return reply_json(x->resp, 200, j);
}

static int h_events(struct ctx *x)
{
	struct api *a = x->a;
	if (!strcmp(x->req->method, "HEAD")) {
		x->resp->content_type = "text/event-stream";
		return reply_status(x->resp, 200);
	}
	uint8_t key[16];
	addr_key(x->req, key);
	if (streams_count(a, key) >= STREAMS_PER_ADDR)
		return reply_error(x->resp, 429,
				   "%d event streams are open from this address; "
				   "close one",
				   STREAMS_PER_ADDR);
	size_t slot = STREAMS_MAX;
	for (size_t i = 0; i < STREAMS_MAX && slot == STREAMS_MAX; i++)
		if (!a->streams[i])
			slot = i;
	if (slot == STREAMS_MAX)
		return reply_error(x->resp, 503, "too many event streams are open; try later");
	struct stream *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->a = a;
	memcpy(s->addr, key, 16);
	if (x->who.session) {
		s->by_session = true;
		memcpy(s->session_id, x->who.session->id, SESSION_ID_LEN);
	} else if (x->who.token) {
		str_copy(s->token_name, x->who.token->name, sizeof(s->token_name));
	}
	x->resp->content_type = "text/event-stream";
	int r = http_response_stream(x->resp, x->req, stream_closed, s, &s->hs);
	if (r < 0) {
		free(s);
		return r;
	}
	a->streams[slot] = s;
	static const char hello[] = "retry: 3000\n: pixied events\n\n";
	http_stream_write(s->hs, hello, sizeof(hello) - 1);
	if (!loop_timer_armed(&a->ping))
		loop_timer_arm(a->d.loop, &a->ping, loop_now(a->d.loop) + PING_MS);
	return 0;
}

static int h_routes(struct ctx *x)
{
	static const char *const auth[] = {"required", "none", "metrics"};
	static const char *const body[] = {"", "login", "entry", "host", "token"};
	size_t n;
	const struct api_route *rt = api_routes(&n);
	cJSON *j = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "method", rt[i].method);
		cJSON_AddStringToObject(o, "path", rt[i].pattern);
		cJSON_AddStringToObject(o, "auth", auth[rt[i].auth]);
		cJSON_AddBoolToObject(o, "state_changing", api_method_changes_state(rt[i].method));
		if (rt[i].body)
			cJSON_AddStringToObject(o, "body", body[rt[i].body]);
		else
			cJSON_AddNullToObject(o, "body");
		cJSON_AddItemToArray(j, o);
	}
	return reply_json(x->resp, 200, j);
}

static int h_metrics(struct ctx *x)
{
	struct api *a = x->a;
	if (!a->d.metrics)
		return reply_error(x->resp, 503, "metrics are not available in this pixied");
	char *out = NULL;
	size_t len = 0;
	int r = a->d.metrics(a->d.metrics_arg, &out, &len);
	if (r < 0)
		return reply_error(x->resp, 500, "cannot render the metrics: %s", strerror(-r));
	free(x->resp->body);
	x->resp->status = 200;
	x->resp->body = out;
	x->resp->body_len = len;
	x->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

/* Our addresses for the Host check: interfaces, [api]/[http] addresses, and the one the
 * request came in on. */
static size_t our_addrs(const struct api *a, const struct http_request *req, uint32_t *out,
			size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < a->nifs && n < cap; i++)
		out[n++] = a->ifs[i].addr;
	for (size_t i = 0; i < a->conf->api.naddrs && n < cap; i++)
		out[n++] = a->conf->api.addrs[i];
	for (size_t i = 0; i < a->conf->http.naddrs && n < cap; i++)
		out[n++] = a->conf->http.addrs[i];
	if (req->local4 && n < cap)
		out[n++] = req->local4;
	return n;
}

static bool content_type_json(const char *ct)
{
	if (!ct)
		return false;
	size_t n = strlen("application/json");
	return !strncasecmp(ct, "application/json", n) &&
	       (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

static int dispatch(struct ctx *x)
{
	switch (x->m->route->id) {
	case API_R_LOGIN: return h_login(x);
	case API_R_LOGOUT: return h_logout(x);
	case API_R_SESSION: return h_session(x);
	case API_R_TOKENS: return h_tokens(x);
	case API_R_TOKEN_ADD: return h_token_add(x);
	case API_R_TOKEN_DEL: return h_token_del(x);
	case API_R_STATUS: return h_status(x);
	case API_R_CLIENTS: return h_clients(x);
	case API_R_CLIENT: return h_client(x);
	case API_R_NEXTBOOT_PUT: return h_boot_put(x, false);
	case API_R_NEXTBOOT_DEL: return h_boot_del(x, false);
	case API_R_ENTRY_PUT: return h_boot_put(x, true);
	case API_R_ENTRY_DEL: return h_boot_del(x, true);
	case API_R_WAKE: return h_wake(x);
	case API_R_LEASES: return h_leases(x);
	case API_R_LEASE_DEL: return h_lease_del(x);
	case API_R_CATALOG: return h_catalog(x);
	case API_R_PREVIEW: return h_preview(x);
	case API_R_HOSTS: return h_hosts(x);
	case API_R_HOST_ADD: return h_host_add(x);
	case API_R_HOST_DEL: return h_host_del(x);
	case API_R_CONFIG: return h_config(x);
	case API_R_LOG: return h_log(x);
	case API_R_EVENTS: return h_events(x);
	case API_R_ROUTES: return h_routes(x);
	case API_R_METRICS: return h_metrics(x);
	case API_R_COUNT: break;
	}
	return reply_error(x->resp, 500, "unhandled route");
}

static int api_route_fn(void *arg, const struct http_request *req, struct http_response *resp)
{
	struct api *a = arg;
	struct ctx x = {.a = a,
			.req = req,
			.resp = resp,
			.now_mono = loop_now(a->d.loop),
			.now_ms = clients_time_ms()};
	if (api_security_headers(resp, "no-store", NULL) < 0)
		return -ENOSPC;
	if (!a->conf->api.enabled)
		return reply_error(resp, 404, "the API is off ([api] enabled = no)");
	/* Host: one of our names, so a DNS-rebinding page cannot talk to us */
	const char *host = http_request_header(req, "Host");
	uint32_t addrs[3 * CONF_MAX_IFACES + 1];
	struct api_host_policy hp = {addrs, our_addrs(a, req, addrs, ARRAY_SIZE(addrs)),
				     a->conf->api.host_names};
	if (!api_host_ok(host, &hp)) {
		char esc[80];
		log_escape(esc, sizeof(esc), host ? host : "", host ? strlen(host) : 0);
		return reply_error(resp, 403,
				   "Host \"%s\" is not one of this server's addresses or names; "
				   "use its address, or add the name to [api] host-names",
				   esc);
	}
	struct api_match m;
	char allow[96];
	int r = api_route_match(req->method, req->path, &m, allow, sizeof(allow));
	if (r == -ENOENT)
		return reply_error(resp, 404, "no such API route; GET /api/v1/routes lists them");
	if (r == -EPERM) {
		http_response_header(resp, "Allow", allow);
		char meth[24];
		log_escape(meth, sizeof(meth), req->method, strlen(req->method));
		return reply_error(resp, 405, "method %s is not allowed here; allowed: %s", meth,
				   allow);
	}
	x.m = &m;
	bool writes = api_method_changes_state(req->method);
	const char *origin = http_request_header(req, "Origin");
	if (writes && origin && !api_origin_ok(origin, host))
		return reply_error(resp, 403,
				   "cross-origin request refused: Origin must be http://%s", host);
	x.who.token = token_find(a, http_request_header(req, "Authorization"));
	if (!x.who.token) {
		if (http_request_header(req, "Authorization"))
			return reply_error(resp, 401, "unknown API token");
		x.who.session = session_find(a, http_request_header(req, "Cookie"), x.now_mono);
	}
	bool authed = x.who.token || x.who.session;
	bool need = m.route->auth == API_AUTH_REQUIRED ||
		    (m.route->auth == API_AUTH_METRICS && a->conf->api.metrics_auth);
	if (need && !authed)
		return reply_error(resp, 401,
				   "log in first (POST /api/v1/login), or send Authorization: "
				   "Bearer <token>");
	if (writes && x.who.session && !x.who.token) {
		/* docs/api.md: with a cookie, Origin and the CSRF token are required */
		if (!origin)
			return reply_error(resp, 403,
					   "state-changing requests need an Origin header");
		const char *csrf = http_request_header(req, "X-CSRF-Token");
		size_t cl = strlen(x.who.session->csrf);
		if (!csrf || strlen(csrf) != cl ||
		    sodium_memcmp(csrf, x.who.session->csrf, cl) != 0)
			return reply_error(resp, 403,
					   "missing or wrong X-CSRF-Token: use the csrf value from "
					   "POST /api/v1/login or GET /api/v1/session");
	}
	if (m.route->body != API_BODY_NONE) {
		if (req->body_len > API_BODY_MAX)
			return reply_error(resp, 413, "the body is over %u bytes", API_BODY_MAX);
		if (req->body_len && !content_type_json(http_request_header(req, "Content-Type")))
			return reply_error(resp, 415,
					   "send the body as Content-Type: application/json");
	}
	int dr = dispatch(&x);
	if (dr == 0 && api_method_changes_state(m.route->method) && resp->status < 300 &&
	    a->d.dhcp && dhcp_service_commit(a->d.dhcp) < 0) {
		/* our store writes joined the DHCP turn's open transaction: persisted before the
		 * answer, or the answer says they were not */
		free(resp->body);
		resp->body = NULL;
		resp->body_len = 0;
		return reply_error(resp, 500,
				   "the state store could not commit the change; see "
				   "the log");
	}
	return dr;
}

/* ---- lifetime ---------------------------------------------------------------------------- */

struct api *api_new(const struct api_deps *deps, char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		snprintf(err, errlen, "api: libsodium cannot initialise");
		return NULL;
	}
	struct api *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "api: out of memory");
		return NULL;
	}
	a->d = *deps;
	a->conf = deps->conf;
	a->rawfd = -1;
	a->nifs = MIN(deps->nifs, (size_t)CONF_MAX_IFACES);
	if (a->nifs)
		memcpy(a->ifs, deps->ifs, a->nifs * sizeof(a->ifs[0]));
	a->started_ms = clients_time_ms();
	loop_timer_init(&a->ping, ping, a);
	a->ring = calloc(LOG_RING, sizeof(*a->ring));
	if (!a->ring) {
		snprintf(err, errlen, "api: out of memory");
		goto fail;
	}
	if (a->conf->api.enabled && !a->conf->api.password_hash[0] &&
	    load_or_make_password(a, err, errlen) < 0)
		goto fail;
	if (tokens_load(a, err, errlen) < 0)
		goto fail;
	if (deps->http && (http_server_route_admin(deps->http, "/api/v1/", api_route_fn, a) < 0 ||
			   http_server_route_admin(deps->http, "/metrics", api_route_fn, a) < 0)) {
		snprintf(err, errlen,
			 "api: cannot register /api/v1/ and /metrics on the HTTP server");
		goto fail;
	}
	if (deps->clients) {
		if (clients_subscribe(deps->clients, on_client_event, a) < 0) {
			snprintf(err, errlen, "api: cannot subscribe to client events");
			goto fail;
		}
		a->subscribed = true;
	}
	a->rawfd = net_raw_open();
	if (a->rawfd < 0)
		log_warn("api", "no raw socket for Wake-on-LAN (%s); wake requests will fail",
			 strerror(-a->rawfd));
	log_set_sink(log_sink, a);
	return a;
fail:
	free(a->ring);
	free(a);
	return NULL;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	log_set_sink(NULL, NULL);
	if (a->subscribed)
		clients_unsubscribe(a->d.clients, on_client_event, a);
	for (size_t i = 0; i < STREAMS_MAX; i++) {
		struct stream *s = a->streams[i];
		if (!s)
			continue;
		a->streams[i] = NULL;
		s->a = NULL; /* stream_closed frees it later */
		http_stream_close(s->hs);
	}
	loop_timer_cancel(a->d.loop, &a->ping);
	if (a->rawfd >= 0)
		close(a->rawfd);
	sodium_memzero(a->sessions, sizeof(a->sessions));
	free(a->ring);
	free(a);
}

void api_reconfigure(struct api *a, const struct conf *c)
{
	if (!a || !c)
		return;
	a->conf = c;
	if (c->api.enabled && !c->api.password_hash[0] && !a->pw_hash[0]) {
		char err[256];
		if (load_or_make_password(a, err, sizeof(err)) < 0)
			log_err("api", "%s", err);
	}
}
