/*
 * Harness for the in-process http/server tests (test_http_stream.c, test_http_admin.c): a
 * real loop and http_server on 127.0.0.1, the loop running on its own thread while the
 * cmocka thread is the HTTP client. Everything that touches the server runs on the loop
 * thread through hh_call (a pipe there and back), so the server stays single-threaded.
 * Header-only: each test program includes it once.
 */
#ifndef PIXIED_TEST_HTTP_HARNESS_H
#define PIXIED_TEST_HTTP_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "files/files.h"
#include "http/http.h"

struct hh {
	struct loop *loop;
	struct conf *conf;
	struct files *files;
	struct http_server *h;
	pthread_t thr;
	bool running;
	int call_pipe[2], ret_pipe[2];
	char dir[64];
	char file[128];
};

struct hh_call {
	void (*fn)(void *);
	void *arg;
};

static inline uint64_t hh_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void hh_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* n distinct free TCP ports on 127.0.0.1 (held open together, then released). */
static inline void hh_free_ports(uint16_t *out, size_t n)
{
	int fds[8];
	for (size_t i = 0; i < n && i < 8; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET};
		a.sin_addr.s_addr = htonl(0x7f000001);
		socklen_t l = sizeof(a);
		if (bind(fds[i], (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    getsockname(fds[i], (struct sockaddr *)&a, &l) < 0)
			abort();
		out[i] = ntohs(a.sin_port);
	}
	for (size_t i = 0; i < n && i < 8; i++)
		close(fds[i]);
}

/* The config text for [server] (root, state in the harness dir) plus extra sections. */
static inline struct conf *hh_conf(struct hh *x, const char *extra)
{
	char text[4096], err[2048] = "";
	snprintf(text, sizeof(text),
		 "[server]\ninterfaces = lo\nroot = %s\nstate = %s\nuser = root\n"
		 "[dhcp]\nmode = off\n[tftp]\nenabled = no\n%s",
		 x->dir, x->dir, extra);
	struct conf *c = conf_load_string(text, "test.conf", err, sizeof(err));
	if (!c)
		fprintf(stderr, "config: %s\n", err);
	return c;
}

static inline void hh_on_call(void *arg, uint32_t ev)
{
	struct hh *x = arg;
	struct hh_call *c;
	(void)ev;
	if (read(x->call_pipe[0], &c, sizeof(c)) != (ssize_t)sizeof(c))
		return;
	c->fn(c->arg);
	if (write(x->ret_pipe[1], "x", 1) != 1)
		abort();
}

/* A server for the extra config (file f.txt = "file body\n" under root); loop not running
 * yet, so routes can be registered. 0 or -1 (message on stderr). */
static inline int hh_start(struct hh *x, const char *extra)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->dir, sizeof(x->dir), "/tmp/pixied-http-test-XXXXXX");
	if (!mkdtemp(x->dir))
		return -1;
	snprintf(x->file, sizeof(x->file), "%s/f.txt", x->dir);
	FILE *f = fopen(x->file, "w");
	if (!f)
		return -1;
	fputs("file body\n", f);
	fclose(f);
	x->conf = hh_conf(x, extra);
	if (!x->conf)
		return -1;
	char err[2048] = "";
	log_set_level(LOG_LVL_ERR);
	x->loop = loop_new();
	x->files = files_new(x->conf, err, sizeof(err));
	x->h = x->files ? http_server_new(x->loop, x->conf, x->files, NULL, 0, err, sizeof(err))
			: NULL;
	if (!x->h) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (pipe2(x->call_pipe, O_CLOEXEC) < 0 || pipe2(x->ret_pipe, O_CLOEXEC) < 0)
		return -1;
	loop_add_fd(x->loop, x->call_pipe[0], EPOLLIN, hh_on_call, x);
	return 0;
}

static inline void *hh_thread(void *arg)
{
	struct hh *x = arg;
	loop_run(x->loop);
	return NULL;
}

static inline void hh_run(struct hh *x)
{
	pthread_create(&x->thr, NULL, hh_thread, x);
	x->running = true;
}

/* Run fn(arg) on the loop thread and wait for it. */
static inline void hh_call(struct hh *x, void (*fn)(void *), void *arg)
{
	struct hh_call c = {fn, arg}, *p = &c;
	char b;
	if (write(x->call_pipe[1], &p, sizeof(p)) != (ssize_t)sizeof(p) ||
	    read(x->ret_pipe[0], &b, 1) != 1)
		abort();
}

static inline void hh_stop_fn(void *arg)
{
	loop_stop(arg);
}

/* Stop the loop thread (the server stays). */
static inline void hh_stop(struct hh *x)
{
	if (!x->running)
		return;
	hh_call(x, hh_stop_fn, x->loop);
	pthread_join(x->thr, NULL);
	x->running = false;
}

static inline void hh_free(struct hh *x)
{
	hh_stop(x);
	http_server_free(x->h);
	x->h = NULL;
	if (x->loop) {
		loop_del_fd(x->loop, x->call_pipe[0]);
		close(x->call_pipe[0]);
		close(x->call_pipe[1]);
		close(x->ret_pipe[0]);
		close(x->ret_pipe[1]);
	}
	files_free(x->files);
	loop_free(x->loop);
	conf_free(x->conf);
	unlink(x->file);
	rmdir(x->dir);
	memset(x, 0, sizeof(*x));
}

/* A TCP connection to 127.0.0.1:port (receive timeout 5 s, optional receive buffer), or -1. */
static inline int hh_dial_buf(uint16_t port, int rcvbuf)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(0x7f000001);
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline int hh_dial(uint16_t port)
{
	return hh_dial_buf(port, 0);
}

static inline void hh_send(int fd, const char *p)
{
	size_t n = strlen(p);
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		p += k;
		n -= (size_t)k;
	}
}

/* A growing receive buffer. */
struct hh_buf {
	char *p;
	size_t len, cap;
	bool eof;
};

/* Read what arrives within ms (stops early at EOF). Returns bytes read. */
static inline size_t hh_read_for(int fd, struct hh_buf *b, unsigned ms)
{
	size_t got = 0;
	uint64_t end = hh_now_ms() + ms;
	while (!b->eof) {
		uint64_t now = hh_now_ms();
		if (now >= end)
			break;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, (int)(end - now)) <= 0)
			break;
		if (b->len + 4097 > b->cap) {
			b->cap = b->cap ? b->cap * 2 : 8192;
			b->p = realloc(b->p, b->cap);
		}
		ssize_t k = recv(fd, b->p + b->len, b->cap - b->len - 1, MSG_DONTWAIT);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
			b->eof = true;
			break;
		}
		if (k > 0) {
			b->len += (size_t)k;
			got += (size_t)k;
			b->p[b->len] = 0;
		}
	}
	return got;
}

/* Read until the buffer holds at least len bytes (true), EOF or timeout (false). */
static inline bool hh_read_atleast(int fd, struct hh_buf *b, size_t len, unsigned ms)
{
	uint64_t end = hh_now_ms() + ms;
	for (;;) {
		if (b->len >= len)
			return true;
		uint64_t now = hh_now_ms();
		if (b->eof || now >= end)
			return false;
		hh_read_for(fd, b, (unsigned)MIN(end - now, 20u));
	}
}

/* Read until needle is in the buffer (true), EOF or timeout (false). */
static inline bool hh_read_until(int fd, struct hh_buf *b, const char *needle, unsigned ms)
{
	uint64_t end = hh_now_ms() + ms;
	for (;;) {
		if (b->p && strstr(b->p, needle))
			return true;
		uint64_t now = hh_now_ms();
		if (b->eof || now >= end)
			return false;
		hh_read_for(fd, b, (unsigned)MIN(end - now, 50u));
	}
}

/* One request on a fresh connection, everything the server sent until it closed. The
 * status (0 when none or no connection). */
static inline int hh_request(uint16_t port, const char *req, struct hh_buf *b)
{
	memset(b, 0, sizeof(*b));
	int fd = hh_dial(port);
	if (fd < 0)
		return 0;
	hh_send(fd, req);
	while (!b->eof && hh_read_for(fd, b, 5000))
		;
	close(fd);
	int st = 0;
	if (b->p && sscanf(b->p, "HTTP/1.%*d %d", &st) != 1)
		st = 0;
	return st;
}

#endif
