/*
 * tftp/cache — a small server-wide cache of file chunks shared by every transfer, so that
 * many clients fetching the same boot loader at once read it from memory instead of with
 * a pread per block.
 *
 * A fixed number of fixed-size, chunk-aligned slots (a fixed base of memory, not per
 * transfer), keyed by an opaque file key (the shared files handle). A miss takes, in this
 * order: an empty slot; the least recently used slot if it has gone unused for `cold_ms`;
 * the least recently used of the slots this reader (an opaque `user`, the transfer) loaded
 * and no other reader has used (a lone sequential reader recycles its own slots: one read
 * per chunk, and it never pushes out chunks others use). Otherwise the caller reads by
 * itself (-EAGAIN): a
 * working set larger than the cache (many files, or readers far apart in one big file)
 * then costs what it cost without the cache, plus at most one chunk per slot per cold_ms.
 *
 * Owns: the slots and their memory. Does not own: files (reads go through the caller's
 * reader callback), deciding when a key becomes invalid (the caller drops it before the
 * file behind the key can be freed). Pure apart from the reader; the clock is passed in.
 */
#ifndef PIXIED_TFTP_TFTP_CACHE_H
#define PIXIED_TFTP_TFTP_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct tftp_cache;

/* Reads len bytes at off into buf: bytes read (short only at end of file) or -errno. */
struct tftp_cache_reader {
	ssize_t (*pread)(void *arg, void *buf, size_t len, uint64_t off);
	void *arg;
};

struct tftp_cache_stats {
	uint64_t hits;  /* chunk lookups found in the cache */
	uint64_t loads; /* chunks read into a slot */
	uint64_t busy;  /* misses refused because no slot was cold (-EAGAIN) */
};

/* nslots chunks of `chunk` bytes (chunk > 0). NULL when out of memory. */
struct tftp_cache *tftp_cache_new(size_t nslots, size_t chunk, uint64_t cold_ms);
void tftp_cache_free(struct tftp_cache *c);

/*
 * Fill iov (iovcnt vectors, as preadv) from the file `key` starting at off, at time now
 * (ms), for the reader `user` (compared, never dereferenced). Returns the bytes copied
 * (short only at the end of the file), -EAGAIN when a chunk is missing and no slot may be
 * replaced yet (read it yourself; iov may hold part of the data), or the reader's negative
 * errno. key must not be NULL.
 */
ssize_t tftp_cache_readv(struct tftp_cache *c, const void *key, const void *user,
			 const struct tftp_cache_reader *rd, const struct iovec *iov, int iovcnt,
			 uint64_t off, uint64_t now);

/* Forget every chunk of key (before the file behind it is closed). */
void tftp_cache_drop(struct tftp_cache *c, const void *key);

void tftp_cache_stats(const struct tftp_cache *c, struct tftp_cache_stats *s);

#endif
