/*
 * api_proto — pure pieces of the JSON API: route table and matcher, body parsers, Host and
 * Origin checks, cookie reader, login throttle arithmetic, SSE framing, the Wake-on-LAN
 * magic packet, the hosts.conf renderer, log-line splitting. No I/O, no clock, no globals
 * other than the constant route table. See api_proto.h.
 */
#include "api/api_proto.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "core/writer.h"

/* ---- routes ----------------------------------------------------------------------------- */

static const struct api_route routes[] = {
    {API_R_LOGIN, "POST", "/api/v1/login", API_AUTH_NONE, API_BODY_LOGIN},
    {API_R_LOGOUT, "POST", "/api/v1/logout", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_SESSION, "GET", "/api/v1/session", API_AUTH_NONE, API_BODY_NONE},
    {API_R_TOKENS, "GET", "/api/v1/tokens", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_TOKEN_ADD, "POST", "/api/v1/tokens", API_AUTH_REQUIRED, API_BODY_TOKEN},
    {API_R_TOKEN_DEL, "DELETE", "/api/v1/tokens/{name}", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_STATUS, "GET", "/api/v1/status", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_CLIENTS, "GET", "/api/v1/clients", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_CLIENT, "GET", "/api/v1/clients/{mac}", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_NEXTBOOT_PUT, "PUT", "/api/v1/clients/{mac}/next-boot", API_AUTH_REQUIRED,
     API_BODY_ENTRY},
    {API_R_NEXTBOOT_DEL, "DELETE", "/api/v1/clients/{mac}/next-boot", API_AUTH_REQUIRED,
     API_BODY_NONE},
    {API_R_ENTRY_PUT, "PUT", "/api/v1/clients/{mac}/entry", API_AUTH_REQUIRED, API_BODY_ENTRY},
    {API_R_ENTRY_DEL, "DELETE", "/api/v1/clients/{mac}/entry", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_WAKE, "POST", "/api/v1/clients/{mac}/wake", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_LEASES, "GET", "/api/v1/leases", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_LEASE_DEL, "DELETE", "/api/v1/leases/{ip}", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_CATALOG, "GET", "/api/v1/catalog", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_PREVIEW, "GET", "/api/v1/catalog/preview", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_HOSTS, "GET", "/api/v1/hosts", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_HOST_ADD, "POST", "/api/v1/hosts", API_AUTH_REQUIRED, API_BODY_HOST},
    {API_R_HOST_DEL, "DELETE", "/api/v1/hosts/{name}", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_CONFIG, "GET", "/api/v1/config", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_LOG, "GET", "/api/v1/log", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_EVENTS, "GET", "/api/v1/events", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_ROUTES, "GET", "/api/v1/routes", API_AUTH_REQUIRED, API_BODY_NONE},
    {API_R_METRICS, "GET", "/metrics", API_AUTH_METRICS, API_BODY_NONE},
};

const struct api_route *api_routes(size_t *n)
{
	*n = ARRAY_SIZE(routes);
	return routes;
}

bool api_method_changes_state(const char *method)
{
	return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

/* Match path against pattern; the {..} segment (at most one) goes to arg. */
static bool pattern_match(const char *pattern, const char *path, char *arg, size_t argcap)
{
	const char *p = pattern, *s = path;
	arg[0] = 0;
	while (*p) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close)
				return false;
			size_t n = strcspn(s, "/");
			if (n == 0 || n >= argcap)
				return false;
			memcpy(arg, s, n);
			arg[n] = 0;
			s += n;
			p = close + 1;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	/* a trailing '/' is tolerated: /api/v1/clients/ is /api/v1/clients */
	return *s == 0 || (s[0] == '/' && s[1] == 0);
}

static bool method_matches(const char *route_method, const char *method)
{
	return !strcmp(route_method, method) ||
	       (!strcmp(route_method, "GET") && !strcmp(method, "HEAD"));
}

int api_route_match(const char *method, const char *path, struct api_match *m, char *allow,
		    size_t allowlen)
{
	bool path_seen = false;
	char arg[API_ARG_LEN];
	if (allowlen)
		allow[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		if (!pattern_match(routes[i].pattern, path, arg, sizeof(arg)))
			continue;
		if (method_matches(routes[i].method, method)) {
			m->route = &routes[i];
			memcpy(m->arg, arg, sizeof(arg));
			return 0;
		}
		if (allowlen) {
			size_t l = strlen(allow);
			snprintf(allow + l, allowlen - l, "%s%s%s", path_seen ? ", " : "",
				 routes[i].method, strcmp(routes[i].method, "GET") ? "" : ", HEAD");
		}
		path_seen = true;
	}
	return path_seen ? -EPERM : -ENOENT;
}

int api_parse_path_mac(const char *s, uint8_t mac[6])
{
	return parse_mac_any(s, mac);
}

/* ---- request bodies --------------------------------------------------------------------- */

int api_json_depth(const char *text, size_t len, int max_depth)
{
	int depth = 0, max = 0;
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (in_str) {
			if (ch == '\\')
				i++; /* the escaped byte cannot end the string */
			else if (ch == '"')
				in_str = false;
			continue;
		}
		if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max_depth)
				return -EINVAL;
			if (depth > max)
				max = depth;
		} else if ((ch == '}' || ch == ']') && depth > 0) {
			depth--;
		}
	}
	return max;
}

bool api_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* A host name for option 12: letters, digits, '-' and '.', 1-63 bytes. */
static bool hostname_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return false;
	}
	return true;
}

/* An entry name as boot/ knows them ([entry NAME] or an ISO's name): printable ASCII. */
static bool entry_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 127)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

static bool password_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 255;
}

enum field_form { F_NAME, F_HOSTNAME, F_ENTRY, F_PASSWORD, F_MAC, F_IP };

struct field {
	const char *key;
	enum field_form form;
	bool required;
	size_t off;       /* into the output struct */
	size_t size;      /* of the string buffer (strings) */
	size_t has_off;   /* F_IP: offset of its bool, else 0 */
	const char *what; /* what is accepted, for the error */
};

static const char *const form_what[] = {
    [F_NAME] = "1-63 letters, digits, '-', '_' or '.'",
    [F_HOSTNAME] = "1-63 letters, digits, '-' or '.'",
    [F_ENTRY] = "a catalog entry name (GET /api/v1/catalog lists them)",
    [F_PASSWORD] = "1-255 bytes",
    [F_MAC] = "a MAC address such as 52:54:00:12:34:56",
    [F_IP] = "a dotted-quad IPv4 address or null",
};

static bool form_ok(enum field_form f, const char *s)
{
	switch (f) {
	case F_NAME: return api_name_ok(s);
	case F_HOSTNAME: return hostname_ok(s);
	case F_ENTRY: return entry_ok(s);
	case F_PASSWORD: return password_ok(s);
	default: return false;
	}
}

/* The keys accepted, for "unknown key" errors: "entry" or "name, mac, ip, hostname, boot". */
static void key_list(const struct field *fields, size_t n, char *buf, size_t cap)
{
	buf[0] = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, cap - l, "%s%s", i ? ", " : "", fields[i].key);
	}
}

static int parse_body(const char *body, size_t len, const struct field *fields, size_t nfields,
		      void *out, char *err, size_t errlen)
{
	if (len > API_BODY_MAX) {
		snprintf(err, errlen, "the body is over %u bytes; send a smaller one",
			 API_BODY_MAX);
		return -EFBIG;
	}
	if (!body || len == 0) {
		char keys[128];
		key_list(fields, nfields, keys, sizeof(keys));
		snprintf(err, errlen, "the body is empty; send a JSON object with: %s", keys);
		return -EINVAL;
	}
	if (memchr(body, 0, len)) {
		snprintf(err, errlen, "the body holds a NUL byte; send UTF-8 JSON");
		return -EINVAL;
	}
	if (api_json_depth(body, len, API_DEPTH_MAX) < 0) {
		snprintf(err, errlen, "the body nests deeper than %d levels", API_DEPTH_MAX);
		return -EINVAL;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!root) {
		size_t at = end && end >= body && end <= body + len ? (size_t)(end - body) : 0;
		snprintf(err, errlen, "the body is not valid JSON (near byte %zu)", at);
		return -EINVAL;
	}
	int r = -EINVAL;
	/* only whitespace may follow the value */
	for (const char *p = end; p && p < body + len; p++)
		if (!strchr(" \t\r\n", *p)) {
			snprintf(err, errlen,
				 "the body has bytes after its JSON value (at byte %zu)",
				 (size_t)(p - body));
			goto out;
		}
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "the body must be a JSON object");
		goto out;
	}
	bool seen[8] = {false};
	for (const cJSON *it = root->child; it; it = it->next) {
		size_t f;
		for (f = 0; f < nfields; f++)
			if (it->string && !strcmp(it->string, fields[f].key))
				break;
		if (f == nfields) {
			char keys[128], k[64];
			key_list(fields, nfields, keys, sizeof(keys));
			str_copy(k, it->string ? it->string : "", sizeof(k));
			for (char *q = k; *q; q++)
				if (*q < 0x20 || *q > 0x7e || *q == '"' || *q == '\\')
					*q = '?';
			snprintf(err, errlen, "unknown key \"%s\"; accepted keys: %s", k, keys);
			goto out;
		}
		if (seen[f]) {
			snprintf(err, errlen, "key \"%s\" given twice", fields[f].key);
			goto out;
		}
		seen[f] = true;
		const struct field *fd = &fields[f];
		char *dst = (char *)out + fd->off;
		if (fd->form == F_IP && cJSON_IsNull(it))
			continue;
		if (!cJSON_IsString(it) || !it->valuestring) {
			snprintf(err, errlen, "\"%s\" must be a string: %s", fd->key,
				 form_what[fd->form]);
			goto out;
		}
		const char *v = it->valuestring;
		if (fd->form == F_MAC) {
			if (parse_mac(v, (uint8_t *)dst) < 0) {
				snprintf(err, errlen, "\"%s\": not %s", fd->key, form_what[F_MAC]);
				goto out;
			}
		} else if (fd->form == F_IP) {
			if (parse_ipv4(v, (uint32_t *)(void *)dst) < 0) {
				snprintf(err, errlen, "\"%s\": not %s", fd->key, form_what[F_IP]);
				goto out;
			}
			*(bool *)((char *)out + fd->has_off) = true;
		} else {
			if (strlen(v) >= fd->size || !form_ok(fd->form, v)) {
				snprintf(err, errlen, "\"%s\": accepted: %s", fd->key,
					 form_what[fd->form]);
				goto out;
			}
			str_copy(dst, v, fd->size);
		}
	}
	for (size_t f = 0; f < nfields; f++)
		if (fields[f].required && !seen[f]) {
			snprintf(err, errlen, "\"%s\" is required: %s", fields[f].key,
				 form_what[fields[f].form]);
			goto out;
		}
	r = 0;
out:
	cJSON_Delete(root);
	return r;
}

#define STRF(T, k, form, req, member)                                                              \
	{                                                                                          \
		k, form, req, offsetof(T, member), sizeof(((T *)0)->member), 0, NULL               \
	}

int api_parse_login(const char *body, size_t len, struct api_body_login *out, char *err,
		    size_t errlen)
{
	static const struct field f[] = {
	    STRF(struct api_body_login, "password", F_PASSWORD, true, password),
	};
	memset(out, 0, sizeof(*out));
	return parse_body(body, len, f, ARRAY_SIZE(f), out, err, errlen);
}

int api_parse_entry(const char *body, size_t len, struct api_body_entry *out, char *err,
		    size_t errlen)
{
	static const struct field f[] = {
	    STRF(struct api_body_entry, "entry", F_ENTRY, true, entry),
	};
	memset(out, 0, sizeof(*out));
	return parse_body(body, len, f, ARRAY_SIZE(f), out, err, errlen);
}

int api_parse_host(const char *body, size_t len, struct api_body_host *out, char *err,
		   size_t errlen)
{
	static const struct field f[] = {
	    STRF(struct api_body_host, "name", F_NAME, true, name),
	    {"mac", F_MAC, true, offsetof(struct api_body_host, mac), 6, 0, NULL},
	    {"ip", F_IP, false, offsetof(struct api_body_host, ip), 4,
	     offsetof(struct api_body_host, has_ip), NULL},
	    STRF(struct api_body_host, "hostname", F_HOSTNAME, false, hostname),
	    STRF(struct api_body_host, "boot", F_ENTRY, false, boot),
	};
	memset(out, 0, sizeof(*out));
	int r = parse_body(body, len, f, ARRAY_SIZE(f), out, err, errlen);
	if (r == 0 && out->boot[0] && !api_name_ok(out->boot)) {
		snprintf(err, errlen, "\"boot\": accepted: %s", form_what[F_NAME]);
		return -EINVAL;
	}
	return r;
}

int api_parse_token(const char *body, size_t len, struct api_body_token *out, char *err,
		    size_t errlen)
{
	static const struct field f[] = {
	    STRF(struct api_body_token, "name", F_NAME, true, name),
	};
	memset(out, 0, sizeof(*out));
	return parse_body(body, len, f, ARRAY_SIZE(f), out, err, errlen);
}

/* ---- Host and Origin --------------------------------------------------------------------- */

/* Split "name[:port]" or "[v6][:port]" into the name part (brackets kept off). false when
 * the port is not 1-5 digits or the shape is wrong. */
static bool host_name_part(const char *host, char *name, size_t cap)
{
	const char *end;
	const char *start = host;
	if (host[0] == '[') {
		end = strchr(host, ']');
		if (!end)
			return false;
		start = host + 1;
		if (end[1] && end[1] != ':')
			return false;
	} else {
		end = strchr(host, ':');
		if (!end)
			end = host + strlen(host);
	}
	size_t n = (size_t)(end - start);
	if (n == 0 || n >= cap)
		return false;
	memcpy(name, start, n);
	name[n] = 0;
	const char *port = host[0] == '[' ? end + 1 : end;
	if (*port == ':') {
		port++;
		size_t pl = strlen(port);
		if (pl == 0 || pl > 5 || strspn(port, "0123456789") != pl)
			return false;
	} else if (*port) {
		return false;
	}
	if (name[n - 1] == '.' && n > 1)
		name[n - 1] = 0;
	return true;
}

bool api_host_ok(const char *host, const struct api_host_policy *p)
{
	char name[256];
	if (!host || !host_name_part(host, name, sizeof(name)))
		return false;
	if (!strcasecmp(name, "localhost") || !strcmp(name, "127.0.0.1") || !strcmp(name, "::1"))
		return true;
	uint32_t a;
	if (parse_ipv4(name, &a) == 0) {
		for (size_t i = 0; i < p->naddrs; i++)
			if (p->addrs[i] == a)
				return true;
		return false;
	}
	const char *s = p->names ? p->names : "";
	size_t nl = strlen(name);
	while (*s) {
		s += strspn(s, " ,");
		size_t n = strcspn(s, " ,");
		if (n == 0)
			break;
		const char *e = s;
		size_t m = n;
		if (m > 2 && e[0] == '[' && e[m - 1] == ']') { /* an IPv6 literal as written */
			e++;
			m -= 2;
		}
		if (m > 1 && e[m - 1] == '.')
			m--;
		if (m == nl && !strncasecmp(e, name, nl))
			return true;
		s += n;
	}
	return false;
}

bool api_origin_ok(const char *origin, const char *host)
{
	if (!origin || !host || !host[0])
		return false;
	const char *rest;
	if (!strncasecmp(origin, "http://", 7))
		rest = origin + 7;
	else if (!strncasecmp(origin, "https://", 8))
		rest = origin + 8;
	else
		return false;
	return !strcasecmp(rest, host);
}

int api_cookie_get(const char *hdr, const char *name, char *out, size_t cap)
{
	if (!hdr)
		return -ENOENT;
	size_t nl = strlen(name);
	const char *s = hdr;
	while (*s) {
		s += strspn(s, " \t;");
		size_t n = strcspn(s, ";");
		if (n > nl && !strncmp(s, name, nl) && s[nl] == '=') {
			const char *v = s + nl + 1;
			size_t vl = n - nl - 1;
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= cap)
				return -ENOSPC;
			memcpy(out, v, vl);
			out[vl] = 0;
			return 0;
		}
		s += n;
	}
	return -ENOENT;
}

/* ---- throttle --------------------------------------------------------------------------- */

static uint64_t slot_wait(const struct api_throttle_slot *s, uint32_t free_fails, uint64_t max_ms,
			  uint64_t now)
{
	if (!s->used || s->fails < free_fails)
		return 0;
	if (now >= s->last_ms && now - s->last_ms >= API_THROTTLE_FORGET_MS)
		return 0;
	uint32_t over = s->fails - free_fails; /* 0 -> 1 s, 1 -> 2 s, ... */
	uint64_t delay = over >= 20 ? max_ms : MIN(max_ms, (uint64_t)1000 << over);
	uint64_t until = s->last_ms + delay;
	return until > now ? until - now : 0;
}

static void slot_fail(struct api_throttle_slot *s, uint64_t now)
{
	if (s->used && now >= s->last_ms && now - s->last_ms >= API_THROTTLE_FORGET_MS)
		s->fails = 0;
	s->used = true;
	if (s->fails < UINT32_MAX)
		s->fails++;
	s->last_ms = now;
}

static struct api_throttle_slot *find_slot(const struct api_throttle *t, const uint8_t key[16])
{
	for (size_t i = 0; i < API_THROTTLE_SLOTS; i++)
		if (t->slot[i].used && !memcmp(t->slot[i].key, key, 16))
			return (struct api_throttle_slot *)&t->slot[i];
	return NULL;
}

uint64_t api_throttle_wait(const struct api_throttle *t, const uint8_t key[16], uint64_t now_ms)
{
	uint64_t g =
	    slot_wait(&t->global, API_THROTTLE_GLOBAL_FREE, API_THROTTLE_GLOBAL_MAX_MS, now_ms);
	const struct api_throttle_slot *s = find_slot(t, key);
	uint64_t a = s ? slot_wait(s, API_THROTTLE_FREE, API_THROTTLE_MAX_MS, now_ms) : 0;
	return MAX(a, g);
}

void api_throttle_fail(struct api_throttle *t, const uint8_t key[16], uint64_t now_ms)
{
	slot_fail(&t->global, now_ms);
	struct api_throttle_slot *s = find_slot(t, key);
	if (!s) {
		/* a free slot, else the one failed longest ago */
		s = &t->slot[0];
		for (size_t i = 0; i < API_THROTTLE_SLOTS; i++) {
			if (!t->slot[i].used) {
				s = &t->slot[i];
				break;
			}
			if (t->slot[i].last_ms < s->last_ms)
				s = &t->slot[i];
		}
		memset(s, 0, sizeof(*s));
		memcpy(s->key, key, 16);
	}
	slot_fail(s, now_ms);
}

void api_throttle_ok(struct api_throttle *t, const uint8_t key[16])
{
	struct api_throttle_slot *s = find_slot(t, key);
	if (s)
		memset(s, 0, sizeof(*s));
}

/* ---- SSE -------------------------------------------------------------------------------- */

int api_sse_frame(char *buf, size_t cap, const char *event, uint64_t id, const char *data,
		  size_t len)
{
	struct writer w;
	writer_init(&w, buf, cap);
	char idl[32];
	if (event) {
		if (strpbrk(event, "\r\n"))
			return -EINVAL;
		writer_bytes(&w, "event: ", 7);
		writer_bytes(&w, event, strlen(event));
		writer_u8(&w, '\n');
	}
	int n = snprintf(idl, sizeof(idl), "id: %llu\n", (unsigned long long)id);
	writer_bytes(&w, idl, (size_t)n);
	/* Every line of data is its own data: field (WHATWG HTML, 9.2.6 "Parsing an event
	 * stream": CRLF, LF and CR each end a line). */
	size_t i = 0;
	for (;;) {
		size_t j = i;
		while (j < len && data[j] != '\n' && data[j] != '\r')
			j++;
		writer_bytes(&w, "data: ", 6);
		writer_bytes(&w, data + i, j - i);
		writer_u8(&w, '\n');
		if (j >= len)
			break;
		if (data[j] == '\r' && j + 1 < len && data[j + 1] == '\n')
			j++;
		i = j + 1;
	}
	writer_u8(&w, '\n');
	writer_u8(&w, 0);
	if (w.overflow) {
		if (cap)
			buf[0] = 0;
		return -ENOSPC;
	}
	return (int)w.len - 1;
}

/* ---- Wake-on-LAN ------------------------------------------------------------------------ */

int api_wol_packet(uint8_t *buf, size_t cap, const uint8_t mac[6])
{
	struct writer w;
	writer_init(&w, buf, cap);
	for (int i = 0; i < 6; i++)
		writer_u8(&w, 0xff);
	for (int i = 0; i < 16; i++)
		writer_bytes(&w, mac, 6);
	return w.overflow ? -ENOSPC : (int)w.len;
}

/* ---- hosts.conf -------------------------------------------------------------------------- */

/* Printable ASCII that cannot end its line or start a comment (also no `extra`). Values
 * from the API were checked strictly already; this guards what the file held. */
static bool value_safe(const char *s, const char *extra)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == ';' || *s == '#' ||
		    (extra && strchr(extra, *s)))
			return false;
	return true;
}

static int host_lines(FILE *f, const struct conf_host *h)
{
	char mac[MAC_STRLEN], ip[IPV4_STRLEN];
	if (!value_safe(h->name, "]") || !value_safe(h->hostname, NULL) ||
	    !value_safe(h->boot, NULL) || !h->name[0])
		return -EINVAL;
	fprintf(f, "[host %s]\nmac = %s\n", h->name, fmt_mac(mac, h->mac));
	if (h->has_ip)
		fprintf(f, "ip = %s\n", fmt_ipv4(ip, h->ip));
	if (h->hostname[0])
		fprintf(f, "hostname = %s\n", h->hostname);
	if (h->boot[0])
		fprintf(f, "boot = %s\n", h->boot);
	fputc('\n', f);
	return 0;
}

int api_hosts_render(const struct conf_host *list, size_t n, const struct conf_host *add,
		     const char *skip, char **out, size_t *len)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	if (!f)
		return -ENOMEM;
	int r = 0;
	fputs("; written by pixied's API (POST/DELETE /api/v1/hosts); edits are kept, but\n"
	      "; only [host NAME] sections are accepted here\n\n",
	      f);
	for (size_t i = 0; i < n && r == 0; i++)
		if (list[i].from_state && !(skip && !strcmp(skip, list[i].name)))
			r = host_lines(f, &list[i]);
	if (r == 0 && add)
		r = host_lines(f, add);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	*len = blen;
	return 0;
}

/* ---- log lines --------------------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's algorithm: days since 1970-01-01 of a proleptic Gregorian date. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void api_log_split(const char *line, struct api_log_fields *out)
{
	memset(out, 0, sizeof(*out));
	out->message = line;
	/* 2026-11-21T21:50:01.123Z info dhcp: message */
	uint64_t y, mo, d, h, mi, s, ms;
	if (strlen(line) < 25 || line[4] != '-' || line[7] != '-' || line[10] != 'T' ||
	    line[13] != ':' || line[16] != ':' || line[19] != '.' || line[23] != 'Z' ||
	    line[24] != ' ' || parse_u64n(line, 4, 1970, 9999, &y) ||
	    parse_u64n(line + 5, 2, 1, 12, &mo) || parse_u64n(line + 8, 2, 1, 31, &d) ||
	    parse_u64n(line + 11, 2, 0, 23, &h) || parse_u64n(line + 14, 2, 0, 59, &mi) ||
	    parse_u64n(line + 17, 2, 0, 60, &s) || parse_u64n(line + 20, 3, 0, 999, &ms))
		return;
	const char *p = line + 25;
	const char *sp = strchr(p, ' '); /* after the level */
	if (!sp)
		return;
	const char *mod = sp + 1;
	const char *colon = strstr(mod, ": ");
	size_t ml = colon ? (size_t)(colon - mod) : 0;
	if (!colon || ml == 0 || ml >= sizeof(out->module) || memchr(mod, ' ', ml))
		return;
	int64_t days = days_from_civil((int64_t)y, (unsigned)mo, (unsigned)d);
	out->time_ms = ((days * 86400) + (int64_t)(h * 3600 + mi * 60 + s)) * 1000 + (int64_t)ms;
	memcpy(out->module, mod, ml);
	out->module[ml] = 0;
	out->message = colon + 2;
}
