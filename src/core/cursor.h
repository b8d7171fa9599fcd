/*
 * core/cursor — the only way pixied reads bytes that came off the wire.
 *
 * A cursor is {pointer, bytes left}. Every getter checks the length before the
 * first read, compares lengths (never pointers) and fails with -EBADMSG without
 * moving when the input is short. Nothing here allocates or logs.
 */
#ifndef PIXIED_CORE_CURSOR_H
#define PIXIED_CORE_CURSOR_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t left;
};

static inline void cursor_init(struct cursor *c, const void *p, size_t n)
{
	c->p = p;
	c->left = p ? n : 0;
}

static inline int cursor_skip(struct cursor *c, size_t n)
{
	if (n > c->left)
		return -EBADMSG;
	c->p += n;
	c->left -= n;
	return 0;
}

static inline int cursor_u8(struct cursor *c, uint8_t *v)
{
	if (c->left < 1)
		return -EBADMSG;
	*v = c->p[0];
	c->p++;
	c->left--;
	return 0;
}

/* Big-endian (network order) reads. */
static inline int cursor_be16(struct cursor *c, uint16_t *v)
{
	if (c->left < 2)
		return -EBADMSG;
	*v = (uint16_t)((unsigned)c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->left -= 2;
	return 0;
}

static inline int cursor_be32(struct cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return -EBADMSG;
	*v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	c->left -= 4;
	return 0;
}

static inline int cursor_bytes(struct cursor *c, void *dst, size_t n)
{
	if (n > c->left)
		return -EBADMSG;
	if (n)
		memcpy(dst, c->p, n);
	c->p += n;
	c->left -= n;
	return 0;
}

/* Split off the next n bytes as their own cursor. */
static inline int cursor_sub(struct cursor *c, size_t n, struct cursor *sub)
{
	if (n > c->left)
		return -EBADMSG;
	cursor_init(sub, c->p, n);
	c->p += n;
	c->left -= n;
	return 0;
}

/*
 * Take a NUL-terminated string: *s points at it (inside the buffer), *len is
 * its length without the NUL. Fails when no NUL is found before the end.
 */
static inline int cursor_cstr(struct cursor *c, const char **s, size_t *len)
{
	const uint8_t *nul = c->left ? memchr(c->p, 0, c->left) : NULL;
	if (!nul)
		return -EBADMSG;
	size_t n = (size_t)(nul - c->p);
	*s = (const char *)c->p;
	*len = n;
	c->p += n + 1;
	c->left -= n + 1;
	return 0;
}

#endif
