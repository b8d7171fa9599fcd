/*
 * libFuzzer target for the boot catalog's text inputs: the /boot.ipxe query string and
 * ${variable} expansion.
 *
 * Input: one mode byte, then the rest. Mode even: the rest is a query string; whatever it
 * parses to (MAC, UUID, family) must be well-formed, and the values it yields expand into
 * a template without breaking its lines. Mode odd: the rest is "value\0text": the text is
 * expanded with every variable set to value. Checked: an escaped value holds only
 * A-Z a-z 0-9 . _ : / - and %XX; expanding a non-empty value never adds a newline, a `${`,
 * a `||`, a `;`, a `#`, a backslash or a space that the text did not have.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "boot/boot_render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool safe(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '/' || c == '-' || c == '%';
}

static size_t count(const char *s, size_t n, const char *needle)
{
	size_t k = 0, nl = strlen(needle);
	for (size_t i = 0; i + nl <= n; i++)
		if (!memcmp(s + i, needle, nl))
			k++;
	return k;
}

static void check_escaped(const char *v)
{
	struct boot_buf b;
	boot_buf_init(&b);
	boot_escape_value(&b, v);
	for (size_t i = 0; i < b.len; i++) {
		if (!safe(b.p[i]))
			abort();
		if (b.p[i] == '%' && i + 2 >= b.len)
			abort();
	}
	boot_buf_free(&b);
}

static void check_expand(const char *text, size_t n, const char *value)
{
	struct boot_vars v = {value, value, value, value, value, value, value};
	struct boot_buf b;
	boot_buf_init(&b);
	boot_expand(&b, text, n, &v);
	char *out = NULL;
	size_t len = 0;
	if (boot_buf_take(&b, &out, &len) < 0)
		return;
	/* An empty value joins the text on either side of it (the admin's text); a non-empty
	 * one is all safe bytes, which form no token with their neighbours. */
	static const char *const tokens[] = {"\n", "\r", "||", "&&", ";", "#", "${", "\\", " "};
	for (size_t i = 0; value[0] && i < sizeof(tokens) / sizeof(tokens[0]); i++)
		if (count(out, len, tokens[i]) > count(text, n, tokens[i]))
			abort(); /* expansion may remove (a ${var}) but never add */
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 8192)
		return 0;
	const char *rest = (const char *)data + 1;
	size_t n = size - 1;
	if ((data[0] & 1) == 0) {
		struct boot_request rq = {0};
		boot_request_parse_query(rest, n, &rq);
		if (rq.uuid[sizeof(rq.uuid) - 1] || (rq.uuid[0] && strlen(rq.uuid) != 36))
			abort();
		if (rq.family & (rq.family - 1))
			abort(); /* at most one family */
		char mac[18] = "";
		if (rq.has_mac)
			snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", rq.mac[0],
				 rq.mac[1], rq.mac[2], rq.mac[3], rq.mac[4], rq.mac[5]);
		static const char tmpl[] =
		    "kernel ${base}/k mac=${mac} uuid=${uuid} arch=${arch}\n";
		check_expand(tmpl, sizeof(tmpl) - 1, rq.uuid);
		check_expand(tmpl, sizeof(tmpl) - 1, mac);
		return 0;
	}
	const char *nul = memchr(rest, 0, n);
	if (!nul)
		return 0;
	const char *value = rest;
	const char *text = nul + 1;
	size_t tn = n - (size_t)(text - rest);
	check_escaped(value);
	check_expand(text, tn, value);
	return 0;
}
