/*
 * json_check — a strict RFC 8259 checker for the JSON that clients/ writes, shared by the
 * clients_events fuzzer and test_clients. Test code only: not part of pixied.
 *
 * json_check_strict(): the whole text is exactly one JSON value (RFC 8259 §2 grammar:
 * no raw control characters in strings, only the escapes of §7, numbers per §6, nesting at
 * most 32 deep). json_check_html_safe(): only printable ASCII and none of < > & ' — what
 * the UI and SSE stream rely on. json_get_string(): the decoded value of a top-level
 * object's string member (\u00XX decoded to one byte; other \u escapes rejected).
 */
#ifndef PIXIED_TEST_JSON_CHECK_H
#define PIXIED_TEST_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct jc {
	const char *p;
	size_t n, i;
	int depth;
};

static bool jc_value(struct jc *j);

static void jc_ws(struct jc *j)
{
	while (j->i < j->n && (j->p[j->i] == ' ' || j->p[j->i] == '\t' || j->p[j->i] == '\n' ||
			       j->p[j->i] == '\r'))
		j->i++;
}

static bool jc_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool jc_string(struct jc *j)
{
	if (j->i >= j->n || j->p[j->i] != '"')
		return false;
	j->i++;
	while (j->i < j->n) {
		unsigned char c = (unsigned char)j->p[j->i++];
		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (j->i >= j->n)
				return false;
			char e = j->p[j->i++];
			if (e == 'u') {
				if (j->n - j->i < 4)
					return false;
				for (int k = 0; k < 4; k++)
					if (!jc_hex(j->p[j->i++]))
						return false;
			} else if (!strchr("\"\\/bfnrt", e) || e == '\0') {
				return false;
			}
		}
	}
	return false;
}

static bool jc_digits(struct jc *j)
{
	size_t s = j->i;
	while (j->i < j->n && j->p[j->i] >= '0' && j->p[j->i] <= '9')
		j->i++;
	return j->i > s;
}

static bool jc_number(struct jc *j)
{
	if (j->i < j->n && j->p[j->i] == '-')
		j->i++;
	if (j->i < j->n && j->p[j->i] == '0')
		j->i++;
	else if (!jc_digits(j))
		return false;
	if (j->i < j->n && j->p[j->i] == '.') {
		j->i++;
		if (!jc_digits(j))
			return false;
	}
	if (j->i < j->n && (j->p[j->i] == 'e' || j->p[j->i] == 'E')) {
		j->i++;
		if (j->i < j->n && (j->p[j->i] == '+' || j->p[j->i] == '-'))
			j->i++;
		if (!jc_digits(j))
			return false;
	}
	return true;
}

static bool jc_lit(struct jc *j, const char *w)
{
	size_t l = strlen(w);
	if (j->n - j->i < l || memcmp(j->p + j->i, w, l))
		return false;
	j->i += l;
	return true;
}

static bool jc_container(struct jc *j, char open, char close, bool object)
{
	if (++j->depth > 32)
		return false;
	j->i++; /* open */
	(void)open;
	jc_ws(j);
	if (j->i < j->n && j->p[j->i] == close) {
		j->i++;
		j->depth--;
		return true;
	}
	for (;;) {
		jc_ws(j);
		if (object) {
			if (!jc_string(j))
				return false;
			jc_ws(j);
			if (j->i >= j->n || j->p[j->i] != ':')
				return false;
			j->i++;
			jc_ws(j);
		}
		if (!jc_value(j))
			return false;
		jc_ws(j);
		if (j->i >= j->n)
			return false;
		if (j->p[j->i] == ',') {
			j->i++;
			continue;
		}
		if (j->p[j->i] == close) {
			j->i++;
			j->depth--;
			return true;
		}
		return false;
	}
}

static bool jc_value(struct jc *j)
{
	jc_ws(j);
	if (j->i >= j->n)
		return false;
	switch (j->p[j->i]) {
	case '{': return jc_container(j, '{', '}', true);
	case '[': return jc_container(j, '[', ']', false);
	case '"': return jc_string(j);
	case 't': return jc_lit(j, "true");
	case 'f': return jc_lit(j, "false");
	case 'n': return jc_lit(j, "null");
	default: return jc_number(j);
	}
}

static inline bool json_check_strict(const char *p, size_t n)
{
	struct jc j = {p, n, 0, 0};
	if (!jc_value(&j))
		return false;
	jc_ws(&j);
	return j.i == n;
}

static inline bool json_check_html_safe(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c > 0x7e || c == '<' || c == '>' || c == '&' || c == '\'')
			return false;
	}
	return true;
}

static inline int jc_hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/*
 * The decoded value of the first member `key` (at any depth: the first occurrence of
 * "key": as a member name) that is a string. Returns its length, or -1.
 */
static inline long json_get_string(const char *p, size_t n, const char *key, char *out, size_t cap)
{
	char pat[80];
	size_t kl = strlen(key);
	if (kl + 5 > sizeof(pat) || cap == 0)
		return -1;
	pat[0] = '"';
	memcpy(pat + 1, key, kl);
	memcpy(pat + 1 + kl, "\":\"", 4);
	size_t pl = kl + 4; /* "key":" */
	for (size_t s = 0; s + pl <= n; s++) {
		if (memcmp(p + s, pat, pl))
			continue;
		size_t i = s + pl, o = 0;
		while (i < n && p[i] != '"') {
			char c = p[i++];
			if (c == '\\') {
				if (i >= n)
					return -1;
				char e = p[i++];
				switch (e) {
				case 'n': c = '\n'; break;
				case 'r': c = '\r'; break;
				case 't': c = '\t'; break;
				case 'b': c = '\b'; break;
				case 'f': c = '\f'; break;
				case 'u':
					if (n - i < 4 || p[i] != '0' || p[i + 1] != '0')
						return -1;
					c = (char)(jc_hexval(p[i + 2]) << 4 | jc_hexval(p[i + 3]));
					i += 4;
					break;
				default: c = e; break;
				}
			}
			if (o + 1 >= cap)
				return -1;
			out[o++] = c;
		}
		out[o] = '\0';
		return (long)o;
	}
	return -1;
}

#endif
