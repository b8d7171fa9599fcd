/*
 * Unit tests for admin routes and the [api] listeners of http/server, in-process on
 * 127.0.0.1 (test_http_harness.h). One row per configuration: which listener answers an
 * admin route, a plain route and a file, and what req->admin_listener says; then
 * http_server_reconfigure moving the API onto its own port and back, and a reconfigure
 * whose [api] port cannot be bound changing nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_http_harness.h"

static int admin_route(void *arg, const struct http_request *req, struct http_response *resp)
{
	(void)arg;
	char b[64];
	int n = snprintf(b, sizeof(b), "admin admin_listener=%d", req->admin_listener);
	resp->body = strndup(b, (size_t)n);
	resp->body_len = (size_t)n;
	return 0;
}

static int boot_route(void *arg, const struct http_request *req, struct http_response *resp)
{
	(void)arg;
	char b[64];
	int n = snprintf(b, sizeof(b), "boot admin_listener=%d", req->admin_listener);
	resp->body = strndup(b, (size_t)n);
	resp->body_len = (size_t)n;
	return 0;
}

enum which { HTTP_PORT, API_PORT };

struct probe {
	enum which port;
	const char *path;
	int status; /* 0: connection refused */
	const char *has;
};

struct row {
	const char *name;
	const char *conf; /* {P} = the [http] port, {A} = the [api] port */
	struct probe probes[8];
};

#define H "[http]\naddress = 127.0.0.1\nport = {P}\naccess-log = no\n"

static const struct row rows[] = {
    {"api_port_set_admin_routes_only_on_api_listener",
     H "[api]\nport = {A}\n",
     {{API_PORT, "/api/x", 200, "admin admin_listener=1"},
      {HTTP_PORT, "/api/x", 404, NULL},
      {API_PORT, "/f.txt", 404, NULL},
      {API_PORT, "/boot", 404, NULL},
      {API_PORT, "/", 404, NULL},
      {HTTP_PORT, "/f.txt", 200, "file body"},
      {HTTP_PORT, "/boot", 200, "boot admin_listener=0"}}},
    {"api_port_unset_shares_the_http_listeners",
     H,
     {{HTTP_PORT, "/api/x", 200, "admin admin_listener=0"},
      {HTTP_PORT, "/f.txt", 200, "file body"},
      {HTTP_PORT, "/boot", 200, "boot admin_listener=0"},
      {API_PORT, "/api/x", 0, NULL}}},
    {"api_port_equal_to_http_port_is_shared",
     H "[api]\nport = {P}\n",
     {{HTTP_PORT, "/api/x", 200, "admin admin_listener=0"},
      {HTTP_PORT, "/f.txt", 200, "file body"}}},
    {"http_disabled_api_port_still_serves_the_api",
     H "enabled = no\n[api]\nport = {A}\n",
     {{API_PORT, "/api/x", 200, "admin admin_listener=1"},
      {API_PORT, "/f.txt", 404, NULL},
      {HTTP_PORT, "/f.txt", 0, NULL}}},
    {"http_disabled_without_api_port_serves_only_the_api_on_the_http_port",
     H "enabled = no\n",
     {{HTTP_PORT, "/api/x", 200, "admin admin_listener=1"},
      {HTTP_PORT, "/f.txt", 404, NULL},
      {HTTP_PORT, "/boot", 404, NULL}}},
    {"api_disabled_answers_admin_routes_404",
     H "[api]\nenabled = no\n",
     {{HTTP_PORT, "/api/x", 404, NULL}, {HTTP_PORT, "/f.txt", 200, "file body"}}},
    {"api_disabled_opens_no_api_listener",
     H "[api]\nenabled = no\nport = {A}\n",
     {{API_PORT, "/api/x", 0, NULL},
      {HTTP_PORT, "/api/x", 404, NULL},
      {HTTP_PORT, "/boot", 200, "boot"}}},
    {"http_and_api_disabled_bind_nothing",
     H "enabled = no\n[api]\nenabled = no\n",
     {{HTTP_PORT, "/api/x", 0, NULL}}},
};

static uint16_t ports[2];

static void subst(char *out, size_t cap, const char *tmpl)
{
	size_t n = 0;
	for (const char *p = tmpl; *p && n + 8 < cap; p++) {
		if (p[0] == '{' && (p[1] == 'P' || p[1] == 'A') && p[2] == '}') {
			n += (size_t)snprintf(out + n, cap - n, "%u", ports[p[1] == 'A']);
			p += 2;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = 0;
}

static void check_probes(const struct probe *pr, size_t n)
{
	for (size_t i = 0; i < n && pr[i].path; i++) {
		char req[256];
		snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", pr[i].path);
		struct hh_buf b;
		int st = hh_request(ports[pr[i].port], req, &b);
		if (st != pr[i].status)
			fprintf(stderr, "probe %zu: %s on %s port: got %d, want %d\n", i,
				pr[i].path, pr[i].port == API_PORT ? "api" : "http", st,
				pr[i].status);
		assert_int_equal(st, pr[i].status);
		if (pr[i].has) {
			const char *body = strstr(b.p, "\r\n\r\n");
			assert_non_null(body);
			assert_non_null(strstr(body, pr[i].has));
		}
		free(b.p);
	}
}

static int routes(struct hh *x)
{
	if (http_server_route_admin(x->h, "/api/", admin_route, NULL) ||
	    http_server_route(x->h, "/boot", boot_route, NULL) ||
	    http_server_route_admin(x->h, "/api/", admin_route, NULL) != -EEXIST ||
	    http_server_route_admin(x->h, "api", admin_route, NULL) != -EINVAL)
		return -1;
	return 0;
}

static void run_row(void **state)
{
	const struct row *r = *state;
	hh_free_ports(ports, 2);
	char conf[1024];
	subst(conf, sizeof(conf), r->conf);
	struct hh x;
	assert_int_equal(hh_start(&x, conf), 0);
	assert_int_equal(routes(&x), 0);
	hh_run(&x);
	check_probes(r->probes, 8);
	hh_free(&x);
}

/* ---- reconfigure ---- */

struct reconf {
	struct hh *x;
	const char *tmpl;
	int ret;
	char err[512];
};

static void do_reconf(void *arg)
{
	struct reconf *rc = arg;
	char conf[1024];
	subst(conf, sizeof(conf), rc->tmpl);
	struct conf *c = hh_conf(rc->x, conf);
	rc->ret = c ? http_server_reconfigure(rc->x->h, c, rc->err, sizeof(rc->err)) : -EINVAL;
	conf_free(c);
}

static void test_reconfigure_moves_the_api_to_its_port_and_back(void **state)
{
	(void)state;
	hh_free_ports(ports, 2);
	char conf[1024];
	subst(conf, sizeof(conf), H);
	struct hh x;
	assert_int_equal(hh_start(&x, conf), 0);
	assert_int_equal(routes(&x), 0);
	hh_run(&x);
	const struct probe shared[] = {{HTTP_PORT, "/api/x", 200, "admin_listener=0"},
				       {API_PORT, "/api/x", 0, NULL}};
	const struct probe split[] = {{HTTP_PORT, "/api/x", 404, NULL},
				      {API_PORT, "/api/x", 200, "admin_listener=1"},
				      {HTTP_PORT, "/f.txt", 200, "file body"}};
	check_probes(shared, 2);

	struct reconf rc = {&x, H "[api]\nport = {A}\n", 0, ""};
	hh_call(&x, do_reconf, &rc);
	assert_int_equal(rc.ret, 0);
	check_probes(split, 3);

	/* [api] port taken by a socket without SO_REUSEPORT: error, nothing changes */
	uint16_t busy_port[1];
	hh_free_ports(busy_port, 1);
	int busy = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(busy_port[0])};
	a.sin_addr.s_addr = htonl(0x7f000001);
	assert_int_equal(bind(busy, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(busy, 1), 0);
	char tmpl[256];
	snprintf(tmpl, sizeof(tmpl), H "[api]\nport = %u\n", busy_port[0]);
	rc.tmpl = tmpl;
	hh_call(&x, do_reconf, &rc);
	assert_true(rc.ret < 0);
	assert_non_null(strstr(rc.err, "cannot listen"));
	close(busy);
	check_probes(split, 3);

	rc.tmpl = H;
	rc.err[0] = 0;
	hh_call(&x, do_reconf, &rc);
	assert_int_equal(rc.ret, 0);
	check_probes(shared, 2);
	hh_free(&x);
}

int main(void)
{
	static struct CMUnitTest tests[32];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tests[n++] =
		    (struct CMUnitTest){rows[i].name, run_row, NULL, NULL, (void *)&rows[i]};
	tests[n++] = (struct CMUnitTest){"reconfigure_moves_the_api_to_its_port_and_back",
					 test_reconfigure_moves_the_api_to_its_port_and_back, NULL,
					 NULL, NULL};
	return _cmocka_run_group_tests("http_admin", tests, n, NULL, NULL);
}
