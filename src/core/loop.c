/* core/loop — see loop.h. */
#include "core/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

#define LOOP_MAX_SIGNALS 8
#define LOOP_MAX_TURN_HOOKS 8
#define LOOP_MAX_EVENTS 64

struct loop_fdent {
	int fd;
	loop_fd_fn fn;
	void *arg;
	bool live;
};

struct loop {
	int epfd;
	int timerfd;
	int sigfd;
	sigset_t sigmask;
	struct {
		int signo;
		loop_signal_fn fn;
		void *arg;
	} sigs[LOOP_MAX_SIGNALS];
	size_t nsigs;
	struct {
		loop_turn_fn fn;
		void *arg;
	} hooks[LOOP_MAX_TURN_HOOKS];
	size_t nhooks;
	/* fd table indexed by fd number (grown on demand) */
	struct loop_fdent *fds;
	size_t nfds;
	/* timer min-heap */
	struct loop_timer **heap;
	size_t heap_len, heap_cap;
	uint64_t armed_for; /* deadline the timerfd is set to, 0 = disarmed */
	uint64_t now;
	bool stop;
};

/* Sentinel registration ids for the loop's own descriptors. */
static void loop_on_timerfd(void *arg, uint32_t ev);
static void loop_on_sigfd(void *arg, uint32_t ev);

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->sigfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto err_free;
	l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timerfd < 0)
		goto err_ep;
	sigemptyset(&l->sigmask);
	l->now = time_mono_ms();
	if (loop_add_fd(l, l->timerfd, EPOLLIN, loop_on_timerfd, l) < 0)
		goto err_tfd;
	return l;
err_tfd:
	close(l->timerfd);
err_ep:
	close(l->epfd);
err_free:
	free(l);
	return NULL;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->timerfd);
	close(l->epfd);
	free(l->fds);
	free(l->heap);
	free(l);
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg)
{
	if (fd < 0)
		return -EBADF;
	if ((size_t)fd >= l->nfds) {
		size_t n = l->nfds ? l->nfds : 64;
		while (n <= (size_t)fd)
			n *= 2;
		struct loop_fdent *f = realloc(l->fds, n * sizeof(*f));
		if (!f)
			return -ENOMEM;
		memset(f + l->nfds, 0, (n - l->nfds) * sizeof(*f));
		l->fds = f;
		l->nfds = n;
	}
	struct epoll_event ev = {.events = events, .data.fd = fd};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	l->fds[fd] = (struct loop_fdent){.fd = fd, .fn = fn, .arg = arg, .live = true};
	return 0;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void loop_del_fd(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].live)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].live = false;
}

/* ---- timers: binary min-heap on deadline ---- */

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->heap_idx = a;
	l->heap[b]->heap_idx = b;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (l->heap[p]->deadline_ms <= l->heap[i]->deadline_ms)
			break;
		heap_swap(l, i, p);
		i = p;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t a = 2 * i + 1, b = a + 1, m = i;
		if (a < l->heap_len && l->heap[a]->deadline_ms < l->heap[m]->deadline_ms)
			m = a;
		if (b < l->heap_len && l->heap[b]->deadline_ms < l->heap[m]->deadline_ms)
			m = b;
		if (m == i)
			break;
		heap_swap(l, i, m);
		i = m;
	}
}

static void heap_remove(struct loop *l, struct loop_timer *t)
{
	size_t i = t->heap_idx;
	l->heap_len--;
	if (i != l->heap_len) {
		l->heap[i] = l->heap[l->heap_len];
		l->heap[i]->heap_idx = i;
		heap_down(l, i);
		heap_up(l, i);
	}
	t->heap_idx = (size_t)-1;
}

static void loop_program_timerfd(struct loop *l)
{
	uint64_t want = l->heap_len ? l->heap[0]->deadline_ms : 0;
	if (want == l->armed_for)
		return;
	struct itimerspec its = {0};
	if (want) {
		/* absolute CLOCK_MONOTONIC; 0 would disarm, so never pass 0 */
		uint64_t w = want ? want : 1;
		its.it_value.tv_sec = (time_t)(w / 1000);
		its.it_value.tv_nsec = (long)(w % 1000) * 1000000L;
	}
	timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
	l->armed_for = want;
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *arg)
{
	t->deadline_ms = 0;
	t->fn = fn;
	t->arg = arg;
	t->heap_idx = (size_t)-1;
}

int loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t deadline_ms)
{
	if (deadline_ms == 0)
		deadline_ms = 1;
	if (loop_timer_armed(t)) {
		t->deadline_ms = deadline_ms;
		heap_down(l, t->heap_idx);
		heap_up(l, t->heap_idx);
		return 0;
	}
	if (l->heap_len == l->heap_cap) {
		size_t n = l->heap_cap ? l->heap_cap * 2 : 64;
		struct loop_timer **h = realloc(l->heap, n * sizeof(*h));
		if (!h)
			return -ENOMEM;
		l->heap = h;
		l->heap_cap = n;
	}
	t->deadline_ms = deadline_ms;
	t->heap_idx = l->heap_len;
	l->heap[l->heap_len++] = t;
	heap_up(l, t->heap_idx);
	return 0;
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	if (loop_timer_armed(t))
		heap_remove(l, t);
}

static void loop_on_timerfd(void *arg, uint32_t ev)
{
	struct loop *l = arg;
	(void)ev;
	uint64_t ticks;
	while (read(l->timerfd, &ticks, sizeof(ticks)) > 0)
		;
	l->armed_for = 0;
	l->now = time_mono_ms();
	/* Fire only timers due now; a callback re-arming for "now" runs next turn. */
	uint64_t now = l->now;
	while (l->heap_len && l->heap[0]->deadline_ms <= now) {
		struct loop_timer *t = l->heap[0];
		heap_remove(l, t);
		t->fn(t->arg);
	}
}

/* ---- signals ---- */

static void loop_on_sigfd(void *arg, uint32_t ev)
{
	struct loop *l = arg;
	(void)ev;
	struct signalfd_siginfo si;
	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (size_t i = 0; i < l->nsigs; i++)
			if ((uint32_t)l->sigs[i].signo == si.ssi_signo)
				l->sigs[i].fn(l->sigs[i].arg, (int)si.ssi_signo);
	}
}

int loop_on_signal(struct loop *l, int signo, loop_signal_fn fn, void *arg)
{
	if (l->nsigs == LOOP_MAX_SIGNALS)
		return -ENOSPC;
	sigaddset(&l->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
		return -errno;
	int fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (l->sigfd < 0) {
		l->sigfd = fd;
		int r = loop_add_fd(l, fd, EPOLLIN, loop_on_sigfd, l);
		if (r < 0)
			return r;
	}
	l->sigs[l->nsigs].signo = signo;
	l->sigs[l->nsigs].fn = fn;
	l->sigs[l->nsigs].arg = arg;
	l->nsigs++;
	return 0;
}

int loop_on_turn_end(struct loop *l, loop_turn_fn fn, void *arg)
{
	if (l->nhooks == LOOP_MAX_TURN_HOOKS)
		return -ENOSPC;
	l->hooks[l->nhooks].fn = fn;
	l->hooks[l->nhooks].arg = arg;
	l->nhooks++;
	return 0;
}

uint64_t loop_now(const struct loop *l)
{
	return l->now;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	l->stop = false;
	while (!l->stop) {
		loop_program_timerfd(l);
		int n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		l->now = time_mono_ms();
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			/* an earlier callback of this turn may have removed it */
			if ((size_t)fd >= l->nfds || !l->fds[fd].live)
				continue;
			l->fds[fd].fn(l->fds[fd].arg, evs[i].events);
		}
		for (size_t i = 0; i < l->nhooks; i++)
			l->hooks[i].fn(l->hooks[i].arg);
	}
	return 0;
}
