/*
 * ui — serves the embedded web UI at /ui/ (see ui.h for what this module owns and what it
 * does not). The files themselves are in src/ui/assets/ and reach the binary through
 * gen_assets.py, which also refuses inline script, inline style and HTML-building calls so
 * the CSP below never has to be loosened.
 */
#include "ui/ui.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "http/http.h"
#include "http/http_proto.h"

#define INDEX "index.html"

const struct ui_asset *ui_asset_find(const char *name)
{
	for (size_t i = 0; i < ui_nassets; i++)
		if (!strcmp(ui_assets[i].name, name))
			return &ui_assets[i];
	return NULL;
}

/* Headers on every UI answer, errors and redirects included (Cache-Control is set per
 * answer: the files revalidate with their ETag). */
static int security_headers(struct http_response *resp)
{
	return api_security_headers(resp, NULL, UI_CSP);
}

static int set_body(struct http_response *resp, const void *data, size_t len)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	if (!len)
		return 0;
	resp->body = malloc(len);
	if (!resp->body)
		return -ENOMEM;
	memcpy(resp->body, data, len);
	resp->body_len = len;
	return 0;
}

static int plain(struct http_response *resp, int status, const char *text)
{
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	int r = http_response_header(resp, "Cache-Control", "no-store");
	if (r < 0)
		return r;
	return set_body(resp, text, strlen(text));
}

int ui_answer(const char *method, const char *path, const char *if_none_match,
	      struct http_response *resp)
{
	int r = security_headers(resp);
	if (r < 0)
		return r;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		if ((r = http_response_header(resp, "Allow", "GET, HEAD")) < 0)
			return r;
		return plain(resp, 405, "the web UI takes GET and HEAD only\n");
	}
	if (strncmp(path, "/ui", 3) || (path[3] && path[3] != '/'))
		return plain(resp, 404, "not found\n");
	if (!path[3]) {
		/* "/ui" -> "/ui/", so the pages' relative links resolve beneath /ui/. */
		if ((r = http_response_header(resp, "Location", "/ui/")) < 0)
			return r;
		return plain(resp, 301, "moved to /ui/\n");
	}
	const char *name = path + 4; /* after "/ui/" */
	const struct ui_asset *a = ui_asset_find(name[0] ? name : INDEX);
	/* Only flat names: "/ui/index.html/x" or "/ui/a/b" are not files here. */
	if (!a || strchr(name, '/'))
		return plain(resp, 404, "no such file in the web UI\n");
	/* Cached, but revalidated on every use (cheap: a 304), so a new pixied's UI is
	 * never mixed with an old one's files. */
	if ((r = http_response_header(resp, "Cache-Control", "no-cache")) < 0 ||
	    (r = http_response_header(resp, "ETag", a->etag)) < 0)
		return r;
	resp->content_type = a->type;
	/* RFC 9110 §13.1.2: If-None-Match uses the weak comparison; a match answers a GET or
	 * HEAD with 304 Not Modified. */
	if (if_none_match && http_etag_match(if_none_match, a->etag, true)) {
		resp->status = 304;
		return set_body(resp, NULL, 0);
	}
	resp->status = 200;
	return set_body(resp, a->data, a->len);
}

static int ui_route(void *arg, const struct http_request *req, struct http_response *resp)
{
	(void)arg;
	return ui_answer(req->method, req->path, http_request_header(req, "If-None-Match"), resp);
}

int ui_register(struct http_server *h)
{
	return http_server_route_admin(h, "/ui", ui_route, NULL);
}
