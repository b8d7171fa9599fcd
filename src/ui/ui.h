/*
 * ui — the web UI: static files (HTML, CSS, JavaScript modules, an icon) embedded in the
 * binary at build time (src/ui/gen_assets.py makes ui_assets.c from src/ui/assets/), served
 * at /ui/ as an admin route.
 *
 * Owns: the /ui route (GET and HEAD of the embedded files, "/ui" redirected to "/ui/"), their
 * content types and ETags, conditional GET (If-None-Match), and the security headers every UI
 * response carries (the CSP of docs/api.md, nosniff, X-Frame-Options, Referrer-Policy).
 * Does not own: logins, sessions, CSRF or Host checks (api/: the UI is only a client of the
 * JSON API; the files hold nothing secret, so they are served without a session so the login
 * form can load), the HTTP server itself (http/).
 */
#ifndef PIXIED_UI_UI_H
#define PIXIED_UI_UI_H

#include <stddef.h>

struct http_server;
struct http_response;

/* Content-Security-Policy of every UI response: no inline script or style anywhere. */
#define UI_CSP                                                                                     \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "                \
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/* Register the /ui route on h (http_server_route_admin). 0 or a negative errno. */
int ui_register(struct http_server *h);

/*
 * The answer to one request (pure; what the route does, minus reading headers): method as
 * sent, path decoded and starting with "/ui", if_none_match the header's value or NULL.
 * Fills resp (status, body, content type, headers). 0, or -ENOMEM.
 */
int ui_answer(const char *method, const char *path, const char *if_none_match,
	      struct http_response *resp);

/* One embedded file (ui_assets.c, generated). */
struct ui_asset {
	const char *name; /* as under /ui/, e.g. "app.js"; "index.html" answers "/ui/" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
	const char *etag; /* strong, quoted: a hash of the bytes */
};
extern const struct ui_asset ui_assets[];
extern const size_t ui_nassets;

/* The embedded file called name, NULL when there is none. */
const struct ui_asset *ui_asset_find(const char *name);

#endif
