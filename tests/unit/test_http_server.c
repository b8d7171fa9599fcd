/*
 * Unit tests for http/server in-process: a real http_server on 127.0.0.1 (a free port) with
 * routes registered, driven by a client thread that sends raw requests while the main
 * thread runs the loop. Checks the route contract (longest prefix, subtree vs exact,
 * decoded query parameters, request headers, POST bodies plain and chunked, 413 over
 * HTTP_BODY_MAX, HEAD without a body, a failing handler as 500, extra response headers,
 * keep-alive across a route and a file) and http_server_route's errors. One cmocka test per
 * request row, asserting on what the client received.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "files/files.h"
#include "http/http.h"

static int echo_route(void *arg, const struct http_request *req, struct http_response *resp)
{
	const char *tag = arg;
	const char *hv = http_request_header(req, "X-Test");
	const char *a = http_request_param(req, "a");
	char ip[INET_ADDRSTRLEN];
	uint32_t be = htonl(req->addr4);
	inet_ntop(AF_INET, &be, ip, sizeof(ip));
	size_t cap = 512 + req->body_len;
	resp->body = malloc(cap);
	if (!resp->body)
		return -ENOMEM;
	int n =
	    snprintf(resp->body, cap,
		     "tag=%s method=%s path=%s n=%zu a=%s hdr=%s client=%s local=%s body=%zu:", tag,
		     req->method, req->path, req->nparams, a ? a : "-", hv ? hv : "-", ip,
		     req->local4 == 0x7f000001 ? "127.0.0.1" : "?", req->body_len);
	if (req->body_len <= 64 && req->body)
		n += snprintf(resp->body + n, cap - (size_t)n, "%.*s", (int)req->body_len,
			      req->body);
	resp->body_len = (size_t)n;
	resp->content_type = "text/x-echo";
	if (!strcmp(req->method, "DELETE")) {
		resp->status = 405;
		http_response_header(resp, "Allow", "GET, HEAD, POST");
	}
	return http_response_header(resp, "X-Route", tag);
}

static int fail_route(void *arg, const struct http_request *req, struct http_response *resp)
{
	(void)arg;
	(void)req;
	resp->body = strdup("half-built");
	resp->body_len = 10;
	return -EIO;
}

struct row {
	const char *name;
	const char *req; /* NULL: built by the client thread (big bodies) */
	int status;
	const char *has; /* substring of the body (or NULL) */
	const char *hdr; /* substring of the header block (or NULL) */
	bool empty_body;
	/* filled by the client thread */
	char *got;
	size_t got_len;
};

#define CLOSE "Connection: close\r\n"

static struct row rows[] = {
    {"route_gets_decoded_query_params",
     "GET /api/echo?a=1+2%2B3&b=%41 HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n", 200,
     "tag=api method=GET path=/api/echo n=2 a=1 2+3 ", "X-Route: api", false, NULL, 0},
    {"route_sees_request_headers_and_client_address",
     "GET /api/echo HTTP/1.1\r\nHost: x\r\nX-Test: hello\r\n" CLOSE "\r\n", 200,
     "hdr=hello client=127.0.0.1 local=127.0.0.1", "Content-Type: text/x-echo", false, NULL, 0},
    {"route_gets_a_post_body",
     "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n" CLOSE "\r\nhello", 200,
     "method=POST path=/api/echo n=0 a=- hdr=- client=127.0.0.1 local=127.0.0.1 body=5:hello", NULL,
     false, NULL, 0},
    {"route_gets_a_chunked_post_body",
     "POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n" CLOSE
     "\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
     200, "body=7:abcdefg", NULL, false, NULL, 0},
    {"post_over_body_max_is_413",
     "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n" CLOSE "\r\n", 413, NULL,
     NULL, false, NULL, 0},
    {"chunked_post_over_body_max_is_413", NULL, 413, NULL, NULL, false, NULL, 0},
    {"head_on_route_has_no_body", "HEAD /api/echo HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n", 200, NULL,
     "Content-Length: ", true, NULL, 0},
    {"longest_prefix_wins", "GET /api/v1/x HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n", 200,
     "tag=v1x method=GET path=/api/v1/x n=", NULL, false, NULL, 0},
    {"exact_prefix_matches_a_subpath", "GET /api/v1/x/y HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n", 200,
     "tag=v1x method=GET path=/api/v1/x/y n=", NULL, false, NULL, 0},
    {"exact_prefix_does_not_match_a_longer_name",
     "GET /api/v1/xy HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n", 200,
     "tag=api method=GET path=/api/v1/xy n=", NULL, false, NULL, 0},
    {"subtree_prefix_does_not_match_its_sibling", "GET /apix HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n",
     404, NULL, NULL, false, NULL, 0},
    {"route_may_answer_405_with_allow", "DELETE /api/echo HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n",
     405, "method=DELETE", "Allow: GET, HEAD, POST", false, NULL, 0},
    {"failing_route_is_500", "GET /fail HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n", 500, NULL, NULL,
     false, NULL, 0},
    {"files_are_served_beside_routes", "GET /f.txt HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n", 200,
     "file body", "ETag: \"", false, NULL, 0},
    {"post_to_a_file_is_405",
     "POST /f.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n" CLOSE "\r\nx", 405, NULL,
     "Allow: GET, HEAD", false, NULL, 0},
    {"keep_alive_across_route_and_file",
     "GET /api/echo HTTP/1.1\r\nHost: x\r\n\r\n"
     "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok"
     "GET /f.txt HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n",
     200, "file body", NULL, false, NULL, 0},
};

static uint16_t port;
static int done_pipe[2];

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(0x7f000001);
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

static void read_all(int fd, struct row *r)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	for (;;) {
		if (n + 1024 > cap)
			b = realloc(b, cap *= 2);
		ssize_t k = recv(fd, b + n, cap - n - 1, 0);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	b[n] = 0;
	r->got = b;
	r->got_len = n;
}

static void *client(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct row *r = &rows[i];
		int fd = dial();
		if (fd < 0)
			continue;
		if (r->req) {
			send_all(fd, r->req, strlen(r->req));
		} else { /* chunked body over HTTP_BODY_MAX, in 64 KiB chunks */
			const char *h = "POST /api/echo HTTP/1.1\r\nHost: x\r\n"
					"Transfer-Encoding: chunked\r\n" CLOSE "\r\n";
			send_all(fd, h, strlen(h));
			static char chunk[65536 + 16];
			int hl = snprintf(chunk, sizeof(chunk), "10000\r\n");
			memset(chunk + hl, 'z', 65536);
			memcpy(chunk + hl + 65536, "\r\n", 2);
			for (int k = 0; k < 20; k++)
				send_all(fd, chunk, (size_t)hl + 65536 + 2);
			send_all(fd, "0\r\n\r\n", 5);
		}
		read_all(fd, r);
		close(fd);
	}
	ssize_t w = write(done_pipe[1], "x", 1);
	(void)w;
	return NULL;
}

static void on_done(void *arg, uint32_t ev)
{
	(void)ev;
	loop_stop(arg);
}

static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(0x7f000001);
	socklen_t l = sizeof(a);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

static int run_server(void **state)
{
	(void)state;
	char dir[] = "/tmp/pixied-http-test-XXXXXX";
	if (!mkdtemp(dir))
		return -1;
	char p[512];
	snprintf(p, sizeof(p), "%s/f.txt", dir);
	FILE *f = fopen(p, "w");
	fputs("file body\n", f);
	fclose(f);
	port = free_port();
	char text[1024], err[2048] = "";
	snprintf(text, sizeof(text),
		 "[server]\ninterfaces = lo\nroot = %s\nstate = %s\nuser = root\n"
		 "[dhcp]\nmode = off\n[tftp]\nenabled = no\n"
		 "[http]\naddress = 127.0.0.1\nport = %u\naccess-log = no\n",
		 dir, dir, port);
	struct conf *c = conf_load_string(text, "test.conf", err, sizeof(err));
	if (!c) {
		fprintf(stderr, "%s", err);
		return -1;
	}
	log_set_level(LOG_LVL_WARN);
	struct loop *l = loop_new();
	struct files *fs = files_new(c, err, sizeof(err));
	struct http_server *h = fs ? http_server_new(l, c, fs, NULL, 0, err, sizeof(err)) : NULL;
	if (!h) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	static const char api[] = "api", v1x[] = "v1x";
	if (http_server_route(h, "/api/", echo_route, (void *)api) ||
	    http_server_route(h, "/api/v1/x", echo_route, (void *)v1x) ||
	    http_server_route(h, "/fail", fail_route, NULL) ||
	    http_server_route(h, "/api/", echo_route, NULL) != -EEXIST ||
	    http_server_route(h, "api", echo_route, NULL) != -EINVAL)
		return -1;
	if (pipe2(done_pipe, O_CLOEXEC) < 0)
		return -1;
	loop_add_fd(l, done_pipe[0], EPOLLIN, on_done, l);
	pthread_t t;
	pthread_create(&t, NULL, client, NULL);
	loop_run(l);
	pthread_join(t, NULL);
	loop_del_fd(l, done_pipe[0]);
	close(done_pipe[0]);
	close(done_pipe[1]);
	http_server_free(h);
	files_free(fs);
	loop_free(l);
	conf_free(c);
	unlink(p);
	rmdir(dir);
	return 0;
}

static int free_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		free(rows[i].got);
	return 0;
}

static void run_row(void **state)
{
	const struct row *r = *state;
	assert_non_null(r->got);
	/* the last response on the connection */
	const char *last = r->got, *p;
	while ((p = strstr(last + 1, "HTTP/1.1 ")))
		last = p;
	int status = 0;
	assert_int_equal(sscanf(last, "HTTP/1.1 %d", &status), 1);
	assert_int_equal(status, r->status);
	const char *body = strstr(last, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	if (r->has)
		assert_non_null(strstr(body, r->has));
	if (r->hdr) {
		size_t hl = (size_t)(body - last);
		char *head = strndup(last, hl);
		assert_non_null(strstr(head, r->hdr));
		free(head);
	}
	if (r->empty_body)
		assert_int_equal(strlen(body), 0);
}

int main(void)
{
	static struct CMUnitTest tests[64];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		tests[n++] = (struct CMUnitTest){rows[i].name, run_row, NULL, NULL, &rows[i]};
	return _cmocka_run_group_tests("http_server", tests, n, run_server, free_rows);
}
