/*
 * files — see files.h. The path rules live in files_open(): generated, then loaders, then
 * beneath the root with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS).
 */
#include "files/files.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/util.h"

#define FILES_BUCKETS 256

struct files_loader {
	char name[CONF_PATH_LEN]; /* normalised request name */
	char path[CONF_PATH_LEN]; /* absolute path, or a path beneath the root */
	bool absolute;
};

struct files_handle {
	struct files *owner; /* NULL once detached by files_free */
	struct files_handle *next; /* bucket chain (shared file handles only) */
	unsigned refs;
	int fd;            /* -1 for generated content */
	dev_t dev;
	ino_t ino;
	uint64_t size;
	int64_t mtime;
	int64_t mtime_ns;
	char *data;        /* generated content */
};

struct files {
	int rootfd;
	char root[CONF_PATH_LEN];
	struct files_loader loaders[CONF_ARCH_COUNT];
	size_t nloaders;
	files_gen_fn gen;
	void *gen_arg;
	struct files_handle *buckets[FILES_BUCKETS];
	size_t nopen;
};

static int sys_openat2(int dirfd, const char *path, uint64_t flags)
{
	struct open_how how = {
		.flags = flags,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static int open_root(const char *root, char *err, size_t errlen)
{
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "files: cannot open root %s: %s", root, strerror(e));
		return -e;
	}
	/* openat2 needs Linux 5.6; say so now rather than on the first request. */
	int probe = sys_openat2(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (probe < 0 && errno == ENOSYS) {
		close(fd);
		snprintf(err, errlen, "files: openat2() is not available (Linux 5.6 or later needed)");
		return -ENOSYS;
	}
	if (probe >= 0)
		close(probe);
	return fd;
}

int files_normalize(const char *path, char *dst, size_t dstlen)
{
	size_t o = 0;
	bool leading = true;
	for (const char *s = path; *s; s++) {
		char ch = *s == '\\' ? '/' : *s;
		if (leading && ch == '/')
			continue;
		leading = false;
		if (o + 1 >= dstlen)
			return -ENAMETOOLONG;
		dst[o++] = ch;
	}
	if (dstlen)
		dst[o] = 0;
	return 0;
}

static void build_loaders(const struct conf *c, struct files_loader *out, size_t *n)
{
	*n = 0;
	for (int a = 0; a < CONF_ARCH_COUNT; a++) {
		const char *p = c->loaders[a];
		if (!p[0] || strstr(p, "://"))
			continue; /* none, or an http:// URL: not a file of ours */
		struct files_loader *l = &out[*n];
		if (files_normalize(conf_loader_name(c, (enum conf_arch)a), l->name,
				    sizeof(l->name)) < 0 ||
		    !l->name[0])
			continue;
		l->absolute = p[0] == '/';
		if (l->absolute)
			str_copy(l->path, p, sizeof(l->path));
		else if (files_normalize(p, l->path, sizeof(l->path)) < 0)
			continue;
		(*n)++;
	}
}

struct files *files_new(const struct conf *c, char *err, size_t errlen)
{
	struct files *f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "files: out of memory");
		return NULL;
	}
	f->rootfd = open_root(c->root, err, errlen);
	if (f->rootfd < 0) {
		free(f);
		return NULL;
	}
	str_copy(f->root, c->root, sizeof(f->root));
	build_loaders(c, f->loaders, &f->nloaders);
	return f;
}

void files_free(struct files *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < FILES_BUCKETS; i++) {
		for (struct files_handle *h = f->buckets[i], *n; h; h = n) {
			n = h->next;
			h->owner = NULL;
			h->next = NULL;
		}
	}
	close(f->rootfd);
	free(f);
}

int files_reconfigure(struct files *f, const struct conf *c, char *err, size_t errlen)
{
	if (strcmp(c->root, f->root)) {
		int fd = open_root(c->root, err, errlen);
		if (fd < 0)
			return fd;
		close(f->rootfd);
		f->rootfd = fd;
		str_copy(f->root, c->root, sizeof(f->root));
	}
	build_loaders(c, f->loaders, &f->nloaders);
	return 0;
}

void files_set_generator(struct files *f, files_gen_fn fn, void *arg)
{
	f->gen = fn;
	f->gen_arg = arg;
}

static size_t bucket_of(dev_t dev, ino_t ino)
{
	uint64_t k = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev;
	return (size_t)(k >> 56) % FILES_BUCKETS;
}

static int map_open_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return -ENOENT;
	case ENAMETOOLONG:
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case ENOSYS:
		return -e;
	default: /* EXDEV (escape), ELOOP, EACCES, EPERM, ENXIO, ... */
		return -EACCES;
	}
}

/* An O_PATH descriptor for the request, regular files only. */
static int open_path(struct files *f, const char *path, bool absolute, struct stat *st)
{
	int fd = absolute ? open(path, O_PATH | O_CLOEXEC)
			  : sys_openat2(f->rootfd, path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return map_open_errno(errno);
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EACCES; /* directories, FIFOs, devices, sockets are never served */
	}
	return fd;
}

static struct files_handle *find_shared(struct files *f, const struct stat *st)
{
	for (struct files_handle *h = f->buckets[bucket_of(st->st_dev, st->st_ino)]; h; h = h->next)
		if (h->dev == st->st_dev && h->ino == st->st_ino &&
		    h->size == (uint64_t)st->st_size && h->mtime == st->st_mtim.tv_sec &&
		    h->mtime_ns == st->st_mtim.tv_nsec)
			return h;
	return NULL;
}

static int open_file(struct files *f, const char *path, bool absolute, struct files_handle **out)
{
	struct stat st;
	int pfd = open_path(f, path, absolute, &st);
	if (pfd < 0)
		return pfd;
	struct files_handle *h = find_shared(f, &st);
	if (h) {
		close(pfd);
		h->refs++;
		*out = h;
		return 0;
	}
	close(pfd);
	/*
	 * Reopen for reading and check it is still the same regular file: the O_PATH step
	 * kept us from ever opening a FIFO or a device. O_NONBLOCK guards the race anyway.
	 */
	uint64_t fl = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	int fd = absolute ? open(path, (int)fl) : sys_openat2(f->rootfd, path, fl);
	if (fd < 0)
		return map_open_errno(errno);
	struct stat st2;
	if (fstat(fd, &st2) < 0 || !S_ISREG(st2.st_mode) || st2.st_dev != st.st_dev ||
	    st2.st_ino != st.st_ino) {
		close(fd);
		return -EACCES;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		return -ENOMEM;
	}
	h->owner = f;
	h->refs = 1;
	h->fd = fd;
	h->dev = st2.st_dev;
	h->ino = st2.st_ino;
	h->size = (uint64_t)st2.st_size;
	h->mtime = st2.st_mtim.tv_sec;
	h->mtime_ns = st2.st_mtim.tv_nsec;
	size_t b = bucket_of(h->dev, h->ino);
	h->next = f->buckets[b];
	f->buckets[b] = h;
	f->nopen++;
	*out = h;
	return 0;
}

int files_open(struct files *f, const char *path, const struct files_client *who,
	       struct files_handle **h)
{
	char norm[FILES_PATH_MAX + 1];
	*h = NULL;
	int r = files_normalize(path, norm, sizeof(norm));
	if (r < 0)
		return r;
	if (!norm[0])
		return -ENOENT;
	if (f->gen) {
		char *data = NULL;
		size_t len = 0;
		r = f->gen(f->gen_arg, norm, who, &data, &len);
		if (r < 0)
			return r;
		if (r > 0) {
			struct files_handle *g = calloc(1, sizeof(*g));
			if (!g) {
				free(data);
				return -ENOMEM;
			}
			g->refs = 1;
			g->fd = -1;
			g->data = data;
			g->size = len;
			*h = g;
			return 0;
		}
	}
	for (size_t i = 0; i < f->nloaders; i++)
		if (!strcmp(f->loaders[i].name, norm))
			return open_file(f, f->loaders[i].path, f->loaders[i].absolute, h);
	return open_file(f, norm, false, h);
}

ssize_t files_pread(struct files_handle *h, void *buf, size_t len, uint64_t off)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	return files_preadv(h, &iov, 1, off);
}

ssize_t files_preadv(struct files_handle *h, const struct iovec *iov, int iovcnt, uint64_t off)
{
	if (h->fd < 0) {
		size_t done = 0;
		for (int i = 0; i < iovcnt; i++) {
			if (off >= h->size)
				break;
			size_t n = MIN(iov[i].iov_len, (size_t)(h->size - off));
			if (n)
				memcpy(iov[i].iov_base, h->data + off, n);
			off += n;
			done += n;
		}
		return (ssize_t)done;
	}
	if (off > (uint64_t)INT64_MAX || iovcnt < 0 || iovcnt > FILES_IOV_MAX)
		return -EINVAL;
	/* preadv may stop short (signal, huge request): go on until EOF or all filled */
	struct iovec v[FILES_IOV_MAX];
	memcpy(v, iov, (size_t)iovcnt * sizeof(*v));
	size_t done = 0;
	int i = 0;
	while (i < iovcnt) {
		ssize_t n = preadv(h->fd, v + i, iovcnt - i, (off_t)(off + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
		size_t k = (size_t)n;
		while (i < iovcnt && k >= v[i].iov_len) {
			k -= v[i].iov_len;
			i++;
		}
		if (i < iovcnt) {
			v[i].iov_base = (char *)v[i].iov_base + k;
			v[i].iov_len -= k;
		}
	}
	return (ssize_t)done;
}

uint64_t files_size(const struct files_handle *h)
{
	return h->size;
}

int64_t files_mtime(const struct files_handle *h)
{
	return h->mtime;
}

int files_fd(const struct files_handle *h)
{
	return h->fd;
}

struct files_handle *files_ref(struct files_handle *h)
{
	h->refs++;
	return h;
}

void files_close(struct files_handle *h)
{
	if (!h || --h->refs)
		return;
	if (h->fd >= 0) {
		struct files *f = h->owner;
		if (f) {
			struct files_handle **pp = &f->buckets[bucket_of(h->dev, h->ino)];
			while (*pp && *pp != h)
				pp = &(*pp)->next;
			if (*pp)
				*pp = h->next;
			f->nopen--;
		}
		close(h->fd);
	}
	free(h->data);
	free(h);
}

size_t files_open_count(const struct files *f)
{
	return f->nopen;
}

/* ---- uploads ---- */

struct files_upload {
	int dirfd;  /* the directory the file goes into (beneath the write dir) */
	int fd;     /* the temporary file */
	bool committed;
	char tmp[64];
	char name[FILES_PATH_MAX + 1];
};

int files_upload_open(const char *dir, const char *path, struct files_upload **out)
{
	char norm[FILES_PATH_MAX + 1];
	*out = NULL;
	int r = files_normalize(path, norm, sizeof(norm));
	if (r < 0)
		return r;
	char *slash = strrchr(norm, '/');
	const char *parent = ".", *base = norm;
	if (slash) {
		*slash = 0;
		parent = norm[0] ? norm : ".";
		base = slash + 1;
	}
	if (!base[0] || !strcmp(base, ".") || !strcmp(base, ".."))
		return base[0] ? -EACCES : -ENOENT;
	struct files_upload *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fd = -1;
	str_copy(u->name, base, sizeof(u->name));
	int top = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (top < 0) {
		r = map_open_errno(errno);
		goto err_free;
	}
	u->dirfd = sys_openat2(top, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
	r = u->dirfd < 0 ? map_open_errno(errno) : 0;
	close(top);
	if (r < 0)
		goto err_free;
	struct stat st;
	if (fstatat(u->dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		r = -EEXIST; /* never replace a file (one being read, or anyone's) */
		goto err_dir;
	}
	/* a hidden temporary name beside the target, created exclusively */
	for (int tries = 0; tries < 16; tries++) {
		uint64_t rnd = 0;
		int rfd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (rfd >= 0) {
			if (read(rfd, &rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd))
				rnd = 0;
			close(rfd);
		}
		rnd ^= (uint64_t)getpid() << 32 ^ (uint64_t)tries ^ (uint64_t)(uintptr_t)u;
		snprintf(u->tmp, sizeof(u->tmp), ".pixied-upload-%016llx", (unsigned long long)rnd);
		u->fd = openat(u->dirfd, u->tmp,
			       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (u->fd >= 0 || errno != EEXIST)
			break;
	}
	if (u->fd < 0) {
		r = errno == ENOSPC || errno == EDQUOT ? -ENOSPC : map_open_errno(errno);
		goto err_dir;
	}
	*out = u;
	return 0;
err_dir:
	close(u->dirfd);
err_free:
	free(u);
	return r;
}

int files_upload_write(struct files_upload *u, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	if (off > (uint64_t)INT64_MAX)
		return -EFBIG;
	while (len) {
		ssize_t n = pwrite(u->fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int files_upload_commit(struct files_upload *u)
{
	/* give the file its name only if the name is still free */
	if (renameat2(u->dirfd, u->tmp, u->dirfd, u->name, RENAME_NOREPLACE) == 0) {
		u->committed = true;
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* a file system without RENAME_NOREPLACE: link() never replaces either */
	if (linkat(u->dirfd, u->tmp, u->dirfd, u->name, 0) < 0)
		return -errno;
	unlinkat(u->dirfd, u->tmp, 0);
	u->committed = true;
	return 0;
}

void files_upload_close(struct files_upload *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	if (!u->committed)
		unlinkat(u->dirfd, u->tmp, 0);
	close(u->dirfd);
	free(u);
}
