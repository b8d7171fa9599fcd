/*
 * core/loop — the one event loop: epoll for descriptors, one timerfd driving a heap
 * of millisecond timers, signalfd for signals, and end-of-turn hooks.
 *
 * A "turn" is one epoll_wait and the callbacks it triggers. End-of-turn hooks run after
 * every callback of the turn: the DHCP server uses one to commit the turn's leases in a
 * single SQLite transaction and only then send the ACKs.
 * Single-threaded; nothing here blocks except epoll_wait itself.
 */
#ifndef PIXIED_CORE_LOOP_H
#define PIXIED_CORE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;

typedef void (*loop_fd_fn)(void *arg, uint32_t events);
typedef void (*loop_timer_fn)(void *arg);
typedef void (*loop_signal_fn)(void *arg, int signo);
typedef void (*loop_turn_fn)(void *arg);

/* Embedded in the owner's struct; init once, arm/cancel any number of times. */
struct loop_timer {
	uint64_t deadline_ms;
	loop_timer_fn fn;
	void *arg;
	size_t heap_idx; /* SIZE_MAX when not armed */
};

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* epoll registration; events are EPOLLIN/EPOLLOUT/... */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
void loop_del_fd(struct loop *l, int fd);

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *arg);
/* Arm (or re-arm) at an absolute monotonic time in ms (see loop_now). */
int loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t deadline_ms);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
static inline bool loop_timer_armed(const struct loop_timer *t)
{
	return t->heap_idx != (size_t)-1;
}

/* Block the signal and deliver it through signalfd to fn. */
int loop_on_signal(struct loop *l, int signo, loop_signal_fn fn, void *arg);

/* Run fn at the end of every turn (before the next epoll_wait). At most 8 hooks. */
int loop_on_turn_end(struct loop *l, loop_turn_fn fn, void *arg);

/* Monotonic ms, cached at the start of the turn. */
uint64_t loop_now(const struct loop *l);

/* Run until loop_stop(); returns 0 or a negative errno. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

#endif
