/* tftp/cache — see tftp_cache.h. */
#include "tftp/tftp_cache.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct slot {
	const void *key;  /* NULL = empty */
	uint64_t base;    /* file offset of data[0], a multiple of the chunk size */
	size_t len;       /* bytes valid; < chunk only at the end of the file */
	uint64_t used;    /* last use, ms */
	const void *user; /* the reader that loaded it */
	bool shared;      /* another reader has used it since */
	uint8_t *data;
};

struct tftp_cache {
	size_t nslots, chunk;
	uint64_t cold_ms;
	struct slot *slots;
	uint8_t *mem;
	struct tftp_cache_stats st;
};

struct tftp_cache *tftp_cache_new(size_t nslots, size_t chunk, uint64_t cold_ms)
{
	if (!nslots || !chunk || chunk > SIZE_MAX / nslots)
		return NULL;
	struct tftp_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->slots = calloc(nslots, sizeof(*c->slots));
	c->mem = malloc(nslots * chunk);
	if (!c->slots || !c->mem) {
		tftp_cache_free(c);
		return NULL;
	}
	c->nslots = nslots;
	c->chunk = chunk;
	c->cold_ms = cold_ms;
	for (size_t i = 0; i < nslots; i++)
		c->slots[i].data = c->mem + i * chunk;
	return c;
}

void tftp_cache_free(struct tftp_cache *c)
{
	if (!c)
		return;
	free(c->mem);
	free(c->slots);
	free(c);
}

static struct slot *find(struct tftp_cache *c, const void *key, uint64_t base)
{
	for (size_t i = 0; i < c->nslots; i++)
		if (c->slots[i].key == key && c->slots[i].base == base)
			return &c->slots[i];
	return NULL;
}

/*
 * The slot a miss may take, or NULL: an empty one; else the least recently used if it is
 * cold; else the least recently used of this reader's own unshared ones.
 */
static struct slot *victim(struct tftp_cache *c, const void *user, uint64_t now)
{
	struct slot *lru = NULL, *own = NULL;
	for (size_t i = 0; i < c->nslots; i++) {
		struct slot *sl = &c->slots[i];
		if (!sl->key)
			return sl;
		if (!lru || sl->used < lru->used)
			lru = sl;
		if (sl->user == user && !sl->shared && (!own || sl->used < own->used))
			own = sl;
	}
	if (lru && lru->used + c->cold_ms <= now)
		return lru;
	return own;
}

/* Read the chunk at base into the slot victim() allows. */
static struct slot *load(struct tftp_cache *c, const void *key, const void *user, uint64_t base,
			 const struct tftp_cache_reader *rd, uint64_t now, ssize_t *err)
{
	struct slot *v = victim(c, user, now);
	if (!v) {
		c->st.busy++;
		*err = -EAGAIN;
		return NULL;
	}
	ssize_t n = rd->pread(rd->arg, v->data, c->chunk, base);
	if (n < 0) {
		v->key = NULL;
		*err = n;
		return NULL;
	}
	c->st.loads++;
	v->key = key;
	v->user = user;
	v->shared = false;
	v->base = base;
	v->len = MIN((size_t)n, c->chunk);
	v->used = now;
	return v;
}

ssize_t tftp_cache_readv(struct tftp_cache *c, const void *key, const void *user,
			 const struct tftp_cache_reader *rd, const struct iovec *iov, int iovcnt,
			 uint64_t off, uint64_t now)
{
	size_t done = 0, vo = 0;
	uint64_t pos = off;
	int vi = 0;
	while (vi < iovcnt) {
		if (vo == iov[vi].iov_len) {
			vi++;
			vo = 0;
			continue;
		}
		uint64_t base = pos - pos % c->chunk;
		struct slot *sl = find(c, key, base);
		if (sl) {
			c->st.hits++;
			if (sl->user != user)
				sl->shared = true;
		} else {
			ssize_t err = 0;
			sl = load(c, key, user, base, rd, now, &err);
			if (!sl)
				return err;
		}
		sl->used = now;
		size_t in = (size_t)(pos - base);
		if (in >= sl->len)
			break; /* end of file */
		size_t n = MIN(sl->len - in, iov[vi].iov_len - vo);
		memcpy((uint8_t *)iov[vi].iov_base + vo, sl->data + in, n);
		vo += n;
		pos += n;
		done += n;
	}
	return (ssize_t)done;
}

void tftp_cache_drop(struct tftp_cache *c, const void *key)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nslots; i++)
		if (c->slots[i].key == key)
			c->slots[i].key = NULL;
}

void tftp_cache_stats(const struct tftp_cache *c, struct tftp_cache_stats *s)
{
	*s = c->st;
}
