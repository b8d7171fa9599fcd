/*
 * core/writer — the only way pixied builds a packet.
 *
 * A writer owns no memory: it fills a caller's buffer and checks tailroom
 * before every write. A write that does not fit fails with -ENOSPC, writes
 * nothing and latches w->overflow, so a builder may do a run of writes and
 * test once at the end.
 */
#ifndef PIXIED_CORE_WRITER_H
#define PIXIED_CORE_WRITER_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct writer {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static inline void writer_init(struct writer *w, void *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->overflow = false;
}

static inline size_t writer_room(const struct writer *w)
{
	return w->cap - w->len;
}

static inline int writer_bytes(struct writer *w, const void *src, size_t n)
{
	if (n > writer_room(w)) {
		w->overflow = true;
		return -ENOSPC;
	}
	if (n)
		memcpy(w->buf + w->len, src, n);
	w->len += n;
	return 0;
}

static inline int writer_zero(struct writer *w, size_t n)
{
	if (n > writer_room(w)) {
		w->overflow = true;
		return -ENOSPC;
	}
	memset(w->buf + w->len, 0, n);
	w->len += n;
	return 0;
}

static inline int writer_u8(struct writer *w, uint8_t v)
{
	return writer_bytes(w, &v, 1);
}

static inline int writer_be16(struct writer *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	return writer_bytes(w, b, 2);
}

static inline int writer_be32(struct writer *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return writer_bytes(w, b, 4);
}

/* A string followed by its NUL. */
static inline int writer_cstr(struct writer *w, const char *s)
{
	return writer_bytes(w, s, strlen(s) + 1);
}

/* Overwrite already-written bytes at offset off (for length fields). */
static inline int writer_patch(struct writer *w, size_t off, const void *src, size_t n)
{
	if (off > w->len || n > w->len - off)
		return -EINVAL;
	memcpy(w->buf + off, src, n);
	return 0;
}

#endif
