/*
 * root_child.h — the harness of unit tests that need root: each case runs in a forked child
 * (which owns the network namespaces it makes), the child reports with CHECK/CHECK_EQ and
 * its exit code, and the parent turns that into a cmocka result. Not root, or no
 * namespaces: the case is skipped with a clear message, or fails when CI sets
 * PIXIED_REQUIRE_ROOT_TESTS=1. Include after <cmocka.h>.
 */
#ifndef PIXIED_TESTS_ROOT_CHILD_H
#define PIXIED_TESTS_ROOT_CHILD_H

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { CHILD_OK = 0, CHILD_FAIL = 1, CHILD_SKIP = 77 };

/* In the child: print what failed and give up (cmocka's asserts belong to the parent). */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			return CHILD_FAIL;                                                         \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_) {                                                                    \
			fprintf(stderr, "%s:%d: %s = %lld, want %s = %lld\n", __FILE__, __LINE__,  \
				#a, a_, #b, b_);                                                   \
			return CHILD_FAIL;                                                         \
		}                                                                                  \
	} while (0)

static inline void root_child_skip_or_fail(const char *why)
{
	const char *e = getenv("PIXIED_REQUIRE_ROOT_TESTS");
	if (e && strcmp(e, "1") == 0)
		fail_msg("PIXIED_REQUIRE_ROOT_TESTS=1 but %s", why);
	print_message("[ SKIPPED  ] %s\n", why);
	skip();
}

/* Skip (or fail under CI) unless root; `suite` names the meson test for the message. */
static inline void root_child_need_root(const char *suite)
{
	char why[160];
	snprintf(why, sizeof(why),
		 "not running as root (root-only test: run the unit tests as root, e.g. sudo "
		 "meson test -C build %s)",
		 suite);
	if (geteuid() != 0)
		root_child_skip_or_fail(why);
}

/* Run fn(arg) in a forked child and check its exit code; CHILD_SKIP skips with skip_why. */
static inline void root_child_run(int (*fn)(void *), void *arg, const char *skip_why)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		assert_int_equal(errno, EINTR);
	if (WIFSIGNALED(st))
		fail_msg("child killed by signal %d", WTERMSIG(st));
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == CHILD_SKIP)
		root_child_skip_or_fail(skip_why);
	assert_int_equal(WEXITSTATUS(st), CHILD_OK);
}

/* Bring interface `name` up: 0 or a negative errno. */
static inline int root_child_link_up(const char *name)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int r = 0;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!r && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* In the child: a fresh network namespace with lo up; CHILD_SKIP if namespaces are not
 * available. */
static inline int root_child_fresh_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return CHILD_SKIP;
	}
	return root_child_link_up("lo") < 0 ? CHILD_FAIL : CHILD_OK;
}

#endif
