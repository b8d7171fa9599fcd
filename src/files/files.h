/*
 * files — the one file namespace that TFTP (and later HTTP) serve from.
 *
 * A request path names, in this order: a generated file (the hook the boot catalog fills,
 * e.g. pxelinux.cfg/01-<mac>), a loader from [loaders] under its stable name
 * (conf_loader_name(): absolute loader paths are served under their basename and only those
 * exact files are opened outside the root), or a regular file beneath [server] root, opened
 * with openat2(root, path, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). Leading '/' are
 * stripped and '\' is read as '/' (Windows-style clients); there is no string test for "..":
 * the kernel refuses every escape from the root.
 *
 * An open file is one refcounted handle with one descriptor, shared by every transfer that
 * reads the same file (same device, inode, size and mtime); data is read with pread, never
 * whole into memory. Generated content lives in a malloc'd buffer owned by its handle.
 *
 * Owns: the root directory descriptor, the loader table, the open-file table.
 * Does not own: sockets, protocol logic, deciding what a client should boot (boot/).
 * Single-threaded like the rest of pixied.
 */
#ifndef PIXIED_FILES_FILES_H
#define PIXIED_FILES_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct conf;
struct files;
struct files_handle;

/* Longest request path accepted (bytes, without the NUL); longer ones get -ENAMETOOLONG. */
#define FILES_PATH_MAX 1024

/* Who is asking: handed to the generator so it can answer per client. */
struct files_client {
	const char *proto;  /* "tftp", "http" */
	bool is_v6;
	uint32_t addr4;     /* host order; valid when !is_v6 */
	uint8_t addr6[16];  /* network order; valid when is_v6 */
	bool has_mac;       /* known from the request (HTTP query) or not at all (TFTP) */
	uint8_t mac[6];
};

/*
 * Open the root directory (O_PATH | O_DIRECTORY) and build the loader table from `c`.
 * Returns NULL with a message in err on failure (root missing, not a directory).
 */
struct files *files_new(const struct conf *c, char *err, size_t errlen);
/* Handles still open keep working (they are detached); free them with files_close. */
void files_free(struct files *f);
/* Re-read root and [loaders]; on failure the old state stays and err says why. */
int files_reconfigure(struct files *f, const struct conf *c, char *err, size_t errlen);

/*
 * Generated-file hook (boot catalog issue). Called first for every open with the normalised
 * path (no leading '/', '\' already '/'): return 1 with a malloc'd buffer in *data (the
 * handle takes it and frees it) and its length in *len; 0 when it does not generate `path`;
 * a negative errno to refuse the request.
 */
typedef int (*files_gen_fn)(void *arg, const char *path, const struct files_client *who,
			    char **data, size_t *len);
void files_set_generator(struct files *f, files_gen_fn fn, void *arg);

/*
 * Open `path` for reading. 0 and *h on success; a negative errno otherwise:
 * -ENOENT (no such file, empty path), -ENAMETOOLONG, -EACCES (outside the root, a symlink
 * leaving it, not a regular file, unreadable), -EMFILE/-ENFILE, -ENOMEM.
 */
int files_open(struct files *f, const char *path, const struct files_client *who,
	       struct files_handle **h);
/* Normalise a request path into dst (strip leading '/', '\' -> '/'). 0 or -ENAMETOOLONG. */
int files_normalize(const char *path, char *dst, size_t dstlen);

/* pread/preadv at off; returns bytes (short only at end of file) or a negative errno.
 * preadv takes at most FILES_IOV_MAX vectors. */
#define FILES_IOV_MAX 256
ssize_t files_pread(struct files_handle *h, void *buf, size_t len, uint64_t off);
ssize_t files_preadv(struct files_handle *h, const struct iovec *iov, int iovcnt, uint64_t off);
uint64_t files_size(const struct files_handle *h);
int64_t files_mtime(const struct files_handle *h); /* seconds since the epoch; 0 if generated */
/* The shared descriptor (for sendfile), or -1 for generated content. Do not close it. */
int files_fd(const struct files_handle *h);
/* Another reference to the same handle (refcount + 1). */
struct files_handle *files_ref(struct files_handle *h);
void files_close(struct files_handle *h);

/* Number of distinct open handles (shared descriptors), for tests and metrics. */
size_t files_open_count(const struct files *f);

/*
 * Uploads (TFTP write requests into [tftp] write-dir). `path` is normalised like a read and
 * resolved beneath `dir` with RESOLVE_BENEATH; its directory must exist. Data goes to a
 * hidden temporary file beside it, and files_upload_commit() gives it its name only if that
 * name is still free (renameat2 RENAME_NOREPLACE): an upload never replaces a file, so it
 * can never replace one being read. files_upload_open fails with -EEXIST when the name is
 * taken, -ENOENT when its directory is missing, -EACCES for escapes and odd names.
 */
struct files_upload;
int files_upload_open(const char *dir, const char *path, struct files_upload **u);
int files_upload_write(struct files_upload *u, const void *buf, size_t len, uint64_t off);
/* 0, -EEXIST (the name was taken meanwhile), or another -errno; the upload stays open. */
int files_upload_commit(struct files_upload *u);
/* Removes the temporary file unless committed, and frees. */
void files_upload_close(struct files_upload *u);

#endif
