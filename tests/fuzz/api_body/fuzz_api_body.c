/*
 * libFuzzer target for the JSON API's request-body parsers (api_proto.h): the bodies of
 * every write route (login, next-boot/entry, hosts, tokens), plus the pieces that read other
 * request text (path MAC, Host, Origin, Cookie, route matching) and the hosts.conf renderer
 * fed with a parsed host.
 *
 * Input: one selector byte, then the body. Checked: no crash or sanitizer report; a body
 * accepted has NUL-terminated fields that pass the documented forms (names, hostnames,
 * entries); an error always leaves a non-empty message; a host accepted renders to a
 * hosts.conf text with exactly one "[host " line and no other section.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(int r, const char *err)
{
	if (r < 0 && !err[0])
		abort();
	if (r < 0 && r != -EINVAL && r != -EFBIG)
		abort();
}

static void check_host(const struct api_body_host *h)
{
	if (!api_name_ok(h->name))
		abort();
	struct conf_host ch = {0};
	memcpy(ch.name, h->name, sizeof(ch.name));
	memcpy(ch.mac, h->mac, 6);
	ch.has_ip = h->has_ip;
	ch.ip = h->ip;
	memcpy(ch.hostname, h->hostname, sizeof(ch.hostname));
	memcpy(ch.boot, h->boot, sizeof(ch.boot));
	char *text = NULL;
	size_t len = 0;
	if (api_hosts_render(NULL, 0, &ch, NULL, &text, &len) < 0)
		abort();
	size_t sections = 0; /* lines that open a section */
	for (const char *p = text; p; p = strchr(p, '\n')) {
		p += *p == '\n';
		sections += *p == '[';
	}
	if (sections != 1 || !strstr(text, "\n[host "))
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	char err[256] = "";
	int r;
	switch (sel % 6) {
	case 0: {
		struct api_body_login b;
		r = api_parse_login(body, len, &b, err, sizeof(err));
		check_err(r, err);
		if (r == 0 && (!b.password[0] || strlen(b.password) > 255))
			abort();
		break;
	}
	case 1: {
		struct api_body_entry b;
		r = api_parse_entry(body, len, &b, err, sizeof(err));
		check_err(r, err);
		if (r == 0 && !b.entry[0])
			abort();
		break;
	}
	case 2: {
		struct api_body_host b;
		r = api_parse_host(body, len, &b, err, sizeof(err));
		check_err(r, err);
		if (r == 0)
			check_host(&b);
		break;
	}
	case 3: {
		struct api_body_token b;
		r = api_parse_token(body, len, &b, err, sizeof(err));
		check_err(r, err);
		if (r == 0 && !api_name_ok(b.name))
			abort();
		break;
	}
	default: {
		/* text pieces of a request: as a C string */
		char *s = malloc(len + 1);
		if (!s)
			return 0;
		memcpy(s, body, len);
		s[len] = 0;
		uint8_t mac[6];
		api_parse_path_mac(s, mac);
		uint32_t addrs[2] = {0x0a4d0001u, 0x7f000001u};
		struct api_host_policy hp = {addrs, 2, "pixied.lan [fe80::1] boot.example.org."};
		bool ok = api_host_ok(s, &hp);
		(void)ok;
		api_origin_ok(s, "10.77.0.1:8080");
		char out[80];
		api_cookie_get(s, "pixied_session", out, sizeof(out));
		struct api_match m;
		char allow[96];
		const char *methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"};
		r = api_route_match(methods[sel % 6], s, &m, allow, sizeof(allow));
		if (r == 0 && strlen(m.arg) >= API_ARG_LEN)
			abort();
		struct api_log_fields lf;
		api_log_split(s, &lf);
		free(s);
		break;
	}
	}
	return 0;
}
