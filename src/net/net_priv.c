/*
 * net/net_priv — giving up root once the sockets are open: switch to an unprivileged user,
 * keep exactly the listed capabilities (permitted + effective), empty the bounding set of
 * everything else, set no_new_privs, then prove root cannot be regained. Does not open
 * sockets, chroot or chown (the caller does those, before calling this).
 */
#include "net/net.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Highest capability number we will ever look at in the bounding set. */
#define CAP_SCAN_MAX 64

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* getpwnam_r with a growing buffer. 0, -ENOENT for no such user, or another negative errno. */
static int lookup_user(const char *user, uid_t *uid, gid_t *gid)
{
	size_t size = 4096;

	if (!user || !*user)
		return -EINVAL;
	for (;;) {
		struct passwd pw, *res = NULL;
		char *buf = malloc(size);
		if (!buf)
			return -ENOMEM;
		int r = getpwnam_r(user, &pw, buf, size, &res);
		if (r == 0 && res) {
			*uid = pw.pw_uid;
			*gid = pw.pw_gid;
			free(buf);
			return 0;
		}
		free(buf);
		if (r == ERANGE && size < (1u << 20)) {
			size *= 2;
			continue;
		}
		/* getpwnam_r(3): "not found" is 0 with a NULL result, or one of these. */
		if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM)
			return -ENOENT;
		return -r;
	}
}

int net_user_ids(const char *user, uid_t *uid, gid_t *gid)
{
	uid_t u;
	gid_t g;
	int r = lookup_user(user, &u, &g);
	if (r < 0)
		return r;
	if (uid)
		*uid = u;
	if (gid)
		*gid = g;
	return 0;
}

static bool cap_listed(const int *caps, size_t ncaps, int cap)
{
	for (size_t i = 0; i < ncaps; i++)
		if (caps[i] == cap)
			return true;
	return false;
}

int net_drop_privileges(const char *user, const int *caps, size_t ncaps, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;
	int r;

	if (geteuid() != 0)
		return 0;
	if (ncaps && !caps)
		return -EINVAL;
	for (size_t i = 0; i < ncaps; i++) {
		if (caps[i] < 0 || caps[i] >= CAP_SCAN_MAX || !cap_valid(caps[i])) {
			set_err(err, errlen, "capability %d is not known to this system", caps[i]);
			return -EINVAL;
		}
	}

	r = lookup_user(user, &uid, &gid);
	if (r == -ENOENT) {
		set_err(err, errlen,
			"user '%s' does not exist: create it (useradd --system --no-create-home %s) "
			"or set [server] user",
			user ? user : "", user ? user : "");
		return r;
	}
	if (r < 0) {
		set_err(err, errlen, "looking up user '%s': %s", user ? user : "", strerror(-r));
		return r;
	}
	if (uid == 0) {
		set_err(err, errlen, "user '%s' has uid 0: set [server] user to an unprivileged user",
			user);
		return -EINVAL;
	}

	/* Keep the permitted set across the uid change below. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		r = -errno;
		set_err(err, errlen, "prctl(PR_SET_KEEPCAPS): %s", strerror(errno));
		return r;
	}

	/* Bounding set first: dropping from it needs CAP_SETPCAP, which goes with root. */
	for (int cap = 0; cap < CAP_SCAN_MAX; cap++) {
		int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (in < 0)
			break; /* EINVAL: past the kernel's last capability */
		if (in == 0 || cap_listed(caps, ncaps, cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			r = -errno;
			set_err(err, errlen, "dropping capability %d from the bounding set: %s", cap,
				strerror(errno));
			return r;
		}
	}
	/* Ambient capabilities would survive an execve; there should be none, make sure. */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);

	/* Groups before the gid, the gid before the uid: both need CAP_SETGID, lost with root. */
	if (setgroups(0, NULL) < 0) {
		r = -errno;
		set_err(err, errlen, "setgroups: %s", strerror(errno));
		return r;
	}
	if (setresgid(gid, gid, gid) < 0) {
		r = -errno;
		set_err(err, errlen, "setresgid(%u): %s", (unsigned)gid, strerror(errno));
		return r;
	}
	if (setresuid(uid, uid, uid) < 0) {
		r = -errno;
		set_err(err, errlen, "setresuid(%u): %s", (unsigned)uid, strerror(errno));
		return r;
	}

	/* Permitted and effective = exactly the list; inheritable empty. */
	cap_t set = cap_init();
	if (!set) {
		r = -errno;
		set_err(err, errlen, "cap_init: %s", strerror(errno));
		return r;
	}
	cap_value_t vals[CAP_SCAN_MAX];
	size_t nvals = 0;
	for (size_t i = 0; i < ncaps && nvals < CAP_SCAN_MAX; i++)
		vals[nvals++] = (cap_value_t)caps[i];
	if ((nvals && (cap_set_flag(set, CAP_PERMITTED, (int)nvals, vals, CAP_SET) < 0 ||
		       cap_set_flag(set, CAP_EFFECTIVE, (int)nvals, vals, CAP_SET) < 0)) ||
	    cap_set_proc(set) < 0) {
		r = -errno;
		set_err(err, errlen, "setting capabilities: %s", strerror(errno));
		cap_free(set);
		return r;
	}
	cap_free(set);

	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		set_err(err, errlen, "prctl: %s", strerror(errno));
		return r;
	}

	/* Verify: no uid or gid of root is left and root cannot be taken back. */
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru == 0 || eu == 0 ||
	    su == 0 || rg != gid || eg != gid || sg != gid) {
		set_err(err, errlen, "still running with root ids after dropping privileges");
		return -EPERM;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		set_err(err, errlen, "could regain root after dropping privileges");
		return -EPERM;
	}
	return 0;
}
