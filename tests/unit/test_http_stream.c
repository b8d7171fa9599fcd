/*
 * Unit tests for streaming responses (http_response_stream, http_stream_write/close) and
 * the access hook of http/server, in-process on 127.0.0.1 (test_http_harness.h): a stream
 * route (/events, an admin route like the API's) whose stream the test drives from the
 * loop thread while the cmocka thread reads the raw chunked bytes. Each test states the
 * behaviour: writes arrive in order, on_close runs exactly once (close, client hang-up,
 * reconfigure, server freed), an idle stream does not spin, a reader that does not read
 * gets -ENOBUFS, HEAD cannot stream; the access hook runs once per request with the status,
 * body bytes, completeness and admin flag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "test_http_harness.h"

#define HELLO "data: hello\n\n"

struct acc {
	char method[8];
	char path[64];
	int status;
	uint64_t bytes;
	bool complete, admin;
};

/* Loop-thread state; the cmocka thread reads it only through hh_call (snapshot). */
struct tstate {
	struct http_stream *st; /* the open stream, NULL after its on_close */
	int closes;             /* on_close calls */
	int bad_closes;         /* on_close for a stream that is not the open one */
	int open_ret;           /* http_response_stream's last return */
	struct acc acc[128];
	size_t nacc;
};

static struct tstate ts;
static struct hh x;

static void on_sclose(void *arg, struct http_stream *s)
{
	struct tstate *t = arg;
	t->closes++;
	if (s == t->st)
		t->st = NULL;
	else
		t->bad_closes++;
}

static int events_route(void *arg, const struct http_request *req, struct http_response *resp)
{
	struct tstate *t = arg;
	resp->content_type = "text/event-stream";
	http_response_header(resp, "Cache-Control", "no-store");
	struct http_stream *s = NULL;
	t->open_ret = http_response_stream(resp, req, on_sclose, t, &s);
	if (t->open_ret < 0) {
		resp->body = strdup("plain");
		resp->body_len = 5;
		return 0;
	}
	t->st = s;
	return http_stream_write(s, HELLO, strlen(HELLO));
}

static int admin_route(void *arg, const struct http_request *req, struct http_response *resp)
{
	(void)arg;
	(void)req;
	resp->body = strdup("admin");
	resp->body_len = 5;
	return 0;
}

static void on_access(void *arg, const struct http_access *a)
{
	struct tstate *t = arg;
	if (t->nacc == sizeof(t->acc) / sizeof(t->acc[0]))
		return;
	struct acc *e = &t->acc[t->nacc++];
	snprintf(e->method, sizeof(e->method), "%s", a->method);
	snprintf(e->path, sizeof(e->path), "%s", a->path);
	e->status = a->status;
	e->bytes = a->bytes;
	e->complete = a->complete;
	e->admin = a->admin;
}

/* ---- calls run on the loop thread ---- */

struct wr {
	const char *data;
	size_t len;
	int ret;
};

static void do_write(void *arg)
{
	struct wr *w = arg;
	w->ret = ts.st ? http_stream_write(ts.st, w->data, w->len) : -ESRCH;
}

static void do_close(void *arg)
{
	(void)arg;
	if (ts.st)
		http_stream_close(ts.st);
}

static void do_close_then_write(void *arg)
{
	struct wr *w = arg;
	http_stream_close(ts.st);
	w->ret = http_stream_write(ts.st, w->data, w->len);
}

static void do_snapshot(void *arg)
{
	memcpy(arg, &ts, sizeof(ts));
}

static void do_stats(void *arg)
{
	http_server_stats(x.h, arg);
}

static void do_cpu(void *arg)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	*(uint64_t *)arg = (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

struct reconf {
	const char *text;
	int ret;
};

static void do_reconf(void *arg)
{
	struct reconf *rc = arg;
	char err[512] = "";
	struct conf *c = hh_conf(&x, rc->text);
	rc->ret = c ? http_server_reconfigure(x.h, c, err, sizeof(err)) : -EINVAL;
	conf_free(c);
}

/* ---- helpers on the cmocka thread ---- */

static struct tstate snap;
static uint16_t port;

static void snapshot(void)
{
	hh_call(&x, do_snapshot, &snap);
}

static int stream_write(const char *data, size_t len)
{
	struct wr w = {data, len, 0};
	hh_call(&x, do_write, &w);
	return w.ret;
}

/* Wait until on_close has run `want` times in all; false on timeout. */
static bool wait_closes(int want, unsigned ms)
{
	uint64_t end = hh_now_ms() + ms;
	for (;;) {
		snapshot();
		if (snap.closes >= want || hh_now_ms() >= end)
			return snap.closes == want;
		hh_sleep_ms(10);
	}
}

static bool wait_access(size_t want, unsigned ms)
{
	uint64_t end = hh_now_ms() + ms;
	for (;;) {
		snapshot();
		if (snap.nacc >= want || hh_now_ms() >= end)
			return snap.nacc == want;
		hh_sleep_ms(10);
	}
}

/* Open a stream on a new connection and read its headers and first event. */
static int open_stream(struct hh_buf *b, int rcvbuf)
{
	memset(b, 0, sizeof(*b));
	int fd = hh_dial_buf(port, rcvbuf);
	assert_true(fd >= 0);
	hh_send(fd, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_true(hh_read_until(fd, b, HELLO, 3000));
	snapshot();
	assert_non_null(snap.st);
	assert_int_equal(snap.open_ret, 0);
	return fd;
}

/* ---- tests ---- */

static void stream_delivers_writes_in_order_and_ends_on_close(void **state)
{
	(void)state;
	int closes0 = ts.closes;
	size_t nacc0 = ts.nacc;
	struct hh_buf b;
	int fd = open_stream(&b, 0);
	assert_non_null(strstr(b.p, "HTTP/1.1 200"));
	assert_non_null(strstr(b.p, "Content-Type: text/event-stream"));
	assert_non_null(strstr(b.p, "Transfer-Encoding: chunked"));
	assert_non_null(strstr(b.p, "Cache-Control: no-store"));
	struct http_stats st;
	hh_call(&x, do_stats, &st);
	assert_int_equal(st.streams, 1);

	uint64_t sent = strlen(HELLO);
	char msg[32];
	for (int i = 0; i < 10; i++) {
		int n = snprintf(msg, sizeof(msg), "data: m%d\n\n", i);
		assert_int_equal(stream_write(msg, (size_t)n), 0);
		sent += (uint64_t)n;
		if (i == 4) /* the first half arrives before the rest is written */
			assert_true(hh_read_until(fd, &b, "data: m4\n", 3000));
	}
	assert_true(hh_read_until(fd, &b, "data: m9\n", 3000));
	const char *prev = strstr(b.p, HELLO);
	for (int i = 0; i < 10; i++) {
		snprintf(msg, sizeof(msg), "data: m%d\n\n", i);
		const char *p = strstr(b.p, msg);
		assert_non_null(p);
		assert_true(p > prev);
		prev = p;
	}
	hh_call(&x, do_close, NULL);
	/* RFC 9112 §7.1: the last chunk (size 0) ends the response */
	assert_true(hh_read_until(fd, &b, "\r\n0\r\n\r\n", 3000));
	assert_true(wait_closes(closes0 + 1, 3000));
	assert_int_equal(snap.bad_closes, 0);
	assert_null(snap.st);
	hh_call(&x, do_stats, &st);
	assert_int_equal(st.streams, 0);

	/* the access hook saw it whole, with every body byte */
	assert_true(wait_access(nacc0 + 1, 3000));
	const struct acc *a = &snap.acc[nacc0];
	assert_string_equal(a->path, "/events");
	assert_int_equal(a->status, 200);
	assert_int_equal(a->bytes, sent);
	assert_true(a->complete);
	assert_true(a->admin);

	/* the connection is still usable */
	free(b.p);
	memset(&b, 0, sizeof(b));
	hh_send(fd, "GET /f.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(hh_read_until(fd, &b, "file body", 3000));
	free(b.p);
	close(fd);
}

static void idle_stream_does_not_spin_and_resumes_on_write(void **state)
{
	(void)state;
	int closes0 = ts.closes;
	struct hh_buf b;
	int fd = open_stream(&b, 0);
	uint64_t cpu0, cpu1;
	hh_call(&x, do_cpu, &cpu0);
	hh_sleep_ms(500);
	hh_call(&x, do_cpu, &cpu1);
	/* a busy loop would burn the whole 500 ms */
	assert_true(cpu1 - cpu0 < 150);
	assert_int_equal(stream_write("data: late\n\n", 12), 0);
	assert_true(hh_read_until(fd, &b, "data: late\n\n", 3000));
	hh_call(&x, do_close, NULL);
	assert_true(hh_read_until(fd, &b, "\r\n0\r\n\r\n", 3000));
	assert_true(wait_closes(closes0 + 1, 3000));
	free(b.p);
	close(fd);
}

static void client_hang_up_calls_on_close_once(void **state)
{
	(void)state;
	int closes0 = ts.closes;
	size_t nacc0 = ts.nacc;
	struct hh_buf b;
	int fd = open_stream(&b, 0);
	close(fd); /* while the stream is idle (suspended) */
	assert_true(wait_closes(closes0 + 1, 3000));
	hh_sleep_ms(200);
	snapshot();
	assert_int_equal(snap.closes, closes0 + 1);
	assert_int_equal(snap.bad_closes, 0);
	assert_null(snap.st);
	assert_true(wait_access(nacc0 + 1, 3000));
	assert_false(snap.acc[nacc0].complete);
	assert_int_equal(snap.acc[nacc0].status, 200);
	free(b.p);
}

static void client_hang_up_while_data_flows_calls_on_close_once(void **state)
{
	(void)state;
	int closes0 = ts.closes;
	struct hh_buf b;
	int fd = open_stream(&b, 0);
	static char big[16384];
	memset(big, 'x', sizeof(big));
	assert_int_equal(stream_write(big, sizeof(big)), 0);
	close(fd);
	for (int i = 0; i < 50 && stream_write(big, sizeof(big)) == 0; i++)
		hh_sleep_ms(5);
	assert_true(wait_closes(closes0 + 1, 3000));
	hh_sleep_ms(100);
	snapshot();
	assert_int_equal(snap.closes, closes0 + 1);
	assert_int_equal(snap.bad_closes, 0);
	free(b.p);
}

static void reader_that_does_not_read_gets_enobufs_and_close_cuts_it_off(void **state)
{
	(void)state;
	int closes0 = ts.closes;
	struct hh_buf b;
	int fd = open_stream(&b, 4096);
	static char chunk[16384];
	memset(chunk, 'y', sizeof(chunk));
	int ret = 0, i;
	/* one write per loop turn, so MHD and the kernel take what they can in between */
	for (i = 0; i < 4000 && ret == 0; i++) {
		ret = stream_write(chunk, sizeof(chunk));
		if (i % 16 == 0)
			hh_sleep_ms(1);
	}
	assert_int_equal(ret, -ENOBUFS);
	/* the kernel and MHD took some, but not unboundedly much */
	assert_true((uint64_t)i * sizeof(chunk) > HTTP_STREAM_QUEUE_MAX);
	hh_call(&x, do_close, NULL);
	assert_true(wait_closes(closes0 + 1, 3000));
	assert_int_equal(snap.bad_closes, 0);
	free(b.p);
	close(fd);
}

static void reader_that_keeps_up_never_gets_enobufs(void **state)
{
	(void)state;
	int closes0 = ts.closes;
	struct hh_buf b;
	int fd = open_stream(&b, 4096);
	static char chunk[16384];
	memset(chunk, 'z', sizeof(chunk));
	size_t want = b.len;
	for (int i = 0; i < 64; i++) { /* 1 MiB, 4 x HTTP_STREAM_QUEUE_MAX */
		assert_int_equal(stream_write(chunk, sizeof(chunk)), 0);
		want += sizeof(chunk);
		assert_true(hh_read_atleast(fd, &b, want, 3000));
	}
	hh_call(&x, do_close, NULL);
	assert_true(hh_read_until(fd, &b, "\r\n0\r\n\r\n", 3000));
	assert_true(wait_closes(closes0 + 1, 3000));
	free(b.p);
	close(fd);
}

static void write_after_close_is_epipe(void **state)
{
	(void)state;
	int closes0 = ts.closes;
	struct hh_buf b;
	int fd = open_stream(&b, 0);
	struct wr w = {"data: no\n\n", 10, 0};
	hh_call(&x, do_close_then_write, &w);
	assert_int_equal(w.ret, -EPIPE);
	assert_true(hh_read_until(fd, &b, "\r\n0\r\n\r\n", 3000));
	assert_null(strstr(b.p, "data: no"));
	assert_true(wait_closes(closes0 + 1, 3000));
	free(b.p);
	close(fd);
}

static void head_cannot_stream(void **state)
{
	(void)state;
	struct hh_buf b;
	int st =
	    hh_request(port, "HEAD /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &b);
	assert_int_equal(st, 200);
	snapshot();
	assert_int_equal(snap.open_ret, -EINVAL);
	assert_null(snap.st);
	assert_null(strstr(b.p, "plain"));
	free(b.p);
}

static void access_hook_runs_once_per_request_with_status_and_bytes(void **state)
{
	(void)state;
	size_t nacc0 = ts.nacc;
	struct hh_buf b;
	int st = hh_request(port,
			    "GET /f.txt HTTP/1.1\r\nHost: x\r\n\r\n"
			    "HEAD /f.txt HTTP/1.1\r\nHost: x\r\n\r\n"
			    "GET /nope?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"
			    "GET /api/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			    &b);
	assert_int_equal(st, 200);
	free(b.p);
	assert_true(wait_access(nacc0 + 4, 3000));
	hh_sleep_ms(100);
	snapshot();
	assert_int_equal(snap.nacc, nacc0 + 4);
	static const struct acc want[] = {
	    {"GET", "/f.txt", 200, 10, true, false},
	    {"HEAD", "/f.txt", 200, 0, true, false},
	    {"GET", "/nope", 404, 14, true, false}, /* "404 Not Found\n" */
	    {"GET", "/api/x", 200, 5, true, true},
	};
	for (size_t i = 0; i < 4; i++) {
		const struct acc *a = &snap.acc[nacc0 + i];
		assert_string_equal(a->method, want[i].method);
		assert_string_equal(a->path, want[i].path);
		assert_int_equal(a->status, want[i].status);
		assert_int_equal(a->bytes, want[i].bytes);
		assert_int_equal(a->complete, want[i].complete);
		assert_int_equal(a->admin, want[i].admin);
	}
	struct http_stats hs;
	hh_call(&x, do_stats, &hs);
	assert_true(hs.bytes >= 10 + 14 + 5);
}

static char conf_text[256];

static void stream_ends_on_reconfigure(void **state)
{
	(void)state;
	int closes0 = ts.closes;
	struct hh_buf b;
	int fd = open_stream(&b, 0);
	/* a new timeout starts a new MHD daemon: the old one's streams must end */
	char text[320];
	snprintf(text, sizeof(text), "%stimeout = 20s\n", conf_text);
	struct reconf rc = {text, -1};
	hh_call(&x, do_reconf, &rc);
	assert_int_equal(rc.ret, 0);
	assert_true(hh_read_until(fd, &b, "\r\n0\r\n\r\n", 3000));
	assert_true(wait_closes(closes0 + 1, 3000));
	free(b.p);
	close(fd);
	/* and a new stream works on the new daemon */
	fd = open_stream(&b, 0);
	hh_call(&x, do_close, NULL);
	assert_true(hh_read_until(fd, &b, "\r\n0\r\n\r\n", 3000));
	assert_true(wait_closes(closes0 + 2, 3000));
	free(b.p);
	close(fd);
}

static void stream_ends_on_server_free(void **state)
{
	(void)state;
	int closes0 = ts.closes;
	struct hh_buf b;
	int fd = open_stream(&b, 0);
	hh_stop(&x);
	http_server_free(x.h); /* on the cmocka thread: the loop is stopped */
	x.h = NULL;
	assert_int_equal(ts.closes, closes0 + 1);
	assert_int_equal(ts.bad_closes, 0);
	assert_null(ts.st);
	hh_read_for(fd, &b, 2000);
	assert_true(b.eof);
	free(b.p);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	hh_free_ports(&port, 1);
	snprintf(conf_text, sizeof(conf_text),
		 "[http]\naddress = 127.0.0.1\nport = %u\naccess-log = no\n", port);
	if (hh_start(&x, conf_text) < 0)
		return -1;
	if (http_server_route_admin(x.h, "/events", events_route, &ts) ||
	    http_server_route_admin(x.h, "/api/", admin_route, NULL))
		return -1;
	http_server_set_access_fn(x.h, on_access, &ts);
	hh_run(&x);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hh_free(&x);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stream_delivers_writes_in_order_and_ends_on_close),
	    cmocka_unit_test(idle_stream_does_not_spin_and_resumes_on_write),
	    cmocka_unit_test(client_hang_up_calls_on_close_once),
	    cmocka_unit_test(client_hang_up_while_data_flows_calls_on_close_once),
	    cmocka_unit_test(reader_that_does_not_read_gets_enobufs_and_close_cuts_it_off),
	    cmocka_unit_test(reader_that_keeps_up_never_gets_enobufs),
	    cmocka_unit_test(write_after_close_is_epipe),
	    cmocka_unit_test(head_cannot_stream),
	    cmocka_unit_test(access_hook_runs_once_per_request_with_status_and_bytes),
	    cmocka_unit_test(stream_ends_on_reconfigure),
	    cmocka_unit_test(stream_ends_on_server_free), /* last: frees the server */
	};
	return cmocka_run_group_tests_name("http_stream", tests, setup, teardown);
}
