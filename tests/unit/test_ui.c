/*
 * Unit tests for ui/: what /ui answers for each method and path (the embedded files with
 * their content types, the redirect of "/ui", 404s for names that are not files, 405 for
 * methods other than GET/HEAD), conditional GET by ETag, and the security headers on every
 * answer. Also checks the embedded files themselves: index.html loads only same-origin
 * files that are embedded, and no file is empty. Every table row is its own cmocka test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "http/http.h"
#include "ui/ui.h"

static const char *header(const struct http_response *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

static void answer(const char *method, const char *path, const char *inm, struct http_response *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	assert_int_equal(ui_answer(method, path, inm, r), 0);
}

struct row {
	const char *name;
	const char *method, *path;
	int status;
	const char *type;     /* Content-Type prefix, NULL = not checked */
	const char *asset;    /* body must be this embedded file, NULL = not checked */
	const char *location; /* Location header, NULL = none expected */
};

static const struct row rows[] = {
    {"root_serves_index_html", "GET", "/ui/", 200, "text/html; charset=utf-8", "index.html", NULL},
    {"index_by_name_is_served_too", "GET", "/ui/index.html", 200, "text/html", "index.html", NULL},
    {"script_module_is_javascript", "GET", "/ui/app.js", 200, "text/javascript", "app.js", NULL},
    {"stylesheet_is_css", "GET", "/ui/app.css", 200, "text/css", "app.css", NULL},
    {"icon_is_svg", "GET", "/ui/icon.svg", 200, "image/svg+xml", "icon.svg", NULL},
    {"head_answers_like_get", "HEAD", "/ui/dom.js", 200, "text/javascript", "dom.js", NULL},
    {"bare_ui_redirects_to_slash", "GET", "/ui", 301, NULL, NULL, "/ui/"},
    {"unknown_file_is_404", "GET", "/ui/nope.js", 404, "text/plain", NULL, NULL},
    {"subdirectory_is_404", "GET", "/ui/x/app.js", 404, "text/plain", NULL, NULL},
    {"file_used_as_directory_is_404", "GET", "/ui/index.html/", 404, NULL, NULL, NULL},
    {"dot_dot_is_not_a_file", "GET", "/ui/../etc/passwd", 404, NULL, NULL, NULL},
    {"other_prefix_is_404", "GET", "/uix", 404, NULL, NULL, NULL},
    {"post_is_405", "POST", "/ui/", 405, NULL, NULL, NULL},
    {"delete_is_405", "DELETE", "/ui/app.js", 405, NULL, NULL, NULL},
};

static void run_row(void **state)
{
	const struct row *t = *state;
	struct http_response r;
	answer(t->method, t->path, NULL, &r);
	assert_int_equal(r.status, t->status);
	if (t->type) {
		assert_non_null(r.content_type);
		assert_true(!strncmp(r.content_type, t->type, strlen(t->type)));
	}
	if (t->asset) {
		const struct ui_asset *a = ui_asset_find(t->asset);
		assert_non_null(a);
		assert_int_equal(r.body_len, a->len);
		assert_memory_equal(r.body, a->data, a->len);
		assert_string_equal(header(&r, "ETag"), a->etag);
		assert_string_equal(header(&r, "Cache-Control"), "no-cache");
	} else {
		assert_string_equal(header(&r, "Cache-Control"), "no-store");
	}
	if (t->location)
		assert_string_equal(header(&r, "Location"), t->location);
	else
		assert_null(header(&r, "Location"));
	if (t->status == 405)
		assert_string_equal(header(&r, "Allow"), "GET, HEAD");
	/* Every answer, errors included, carries the security headers of docs/api.md. */
	assert_string_equal(header(&r, "Content-Security-Policy"), UI_CSP);
	assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(header(&r, "X-Frame-Options"), "DENY");
	assert_string_equal(header(&r, "Referrer-Policy"), "no-referrer");
	free(r.body);
}

/* ---- conditional GET ---- */

struct cond_row {
	const char *name;
	const char *pre; /* If-None-Match = pre + (the asset's ETag if with_etag) + post */
	bool with_etag;
	const char *post;
	int status;
};

static const struct cond_row cond_rows[] = {
    {"matching_etag_is_304_without_body", "", true, "", 304},
    {"weak_form_of_etag_is_304", "W/", true, "", 304},
    {"etag_in_a_list_is_304", "\"old\", ", true, "", 304},
    {"star_is_304", "*", false, "", 304},
    {"other_etag_is_200", "\"0000\"", false, "", 200},
    {"malformed_header_is_200", "", true, " garbage", 200},
};

static void run_cond_row(void **state)
{
	const struct cond_row *t = *state;
	const struct ui_asset *a = ui_asset_find("app.js");
	assert_non_null(a);
	char inm[256];
	snprintf(inm, sizeof(inm), "%s%s%s", t->pre, t->with_etag ? a->etag : "", t->post);
	struct http_response r;
	answer("GET", "/ui/app.js", inm, &r);
	assert_int_equal(r.status, t->status);
	assert_string_equal(header(&r, "ETag"), a->etag);
	if (t->status == 304)
		assert_int_equal(r.body_len, 0);
	else
		assert_int_equal(r.body_len, a->len);
	free(r.body);
}

/* ---- the embedded files ---- */

static void test_every_asset_is_nonempty_with_type_and_strong_etag(void **state)
{
	(void)state;
	assert_true(ui_nassets >= 4);
	for (size_t i = 0; i < ui_nassets; i++) {
		const struct ui_asset *a = &ui_assets[i];
		assert_true(a->len > 0);
		assert_true(a->type && a->type[0]);
		assert_true(a->etag[0] == '"' && a->etag[strlen(a->etag) - 1] == '"');
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(a->etag, ui_assets[j].etag);
	}
}

/* index.html references only files that are embedded (no CDN, nothing missing). */
static void test_index_references_only_embedded_files(void **state)
{
	(void)state;
	const struct ui_asset *a = ui_asset_find("index.html");
	assert_non_null(a);
	char *html = malloc(a->len + 1);
	assert_non_null(html);
	memcpy(html, a->data, a->len);
	html[a->len] = 0;
	int refs = 0;
	for (const char *p = html; (p = strstr(p, "src=\""));) {
		p += 5;
		char name[64];
		size_t n = strcspn(p, "\"");
		assert_true(n < sizeof(name));
		memcpy(name, p, n);
		name[n] = 0;
		assert_non_null(ui_asset_find(name));
		refs++;
	}
	for (const char *p = html; (p = strstr(p, "href=\""));) {
		p += 6;
		char name[64];
		size_t n = strcspn(p, "\"");
		assert_true(n < sizeof(name));
		memcpy(name, p, n);
		name[n] = 0;
		if (name[0] != '#')
			assert_non_null(ui_asset_find(name));
		refs++;
	}
	assert_true(refs >= 3);
	free(html);
}

#define ROWS(tab, fn)                                                                              \
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)                                  \
		t[n++] = (struct CMUnitTest){tab[i].name, fn, NULL, NULL, (void *)&tab[i]};

int main(void)
{
	struct CMUnitTest t[64];
	size_t n = 0;
	ROWS(rows, run_row);
	ROWS(cond_rows, run_cond_row);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_every_asset_is_nonempty_with_type_and_strong_etag);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(test_index_references_only_embedded_files);
	return _cmocka_run_group_tests("ui", t, n, NULL, NULL);
}
