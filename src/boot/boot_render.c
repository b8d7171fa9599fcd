/*
 * boot/render — see boot_render.h: output buffer, ${variable} expansion with escaping, the
 * /boot.ipxe query string, catalog item accessors, the iPXE and PXELINUX renderers.
 * Pure: no I/O, no allocation beyond the output buffer, no logging.
 */
#include "boot/boot_render.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

/* ---- output buffer ---------------------------------------------------------------------- */

void boot_buf_init(struct boot_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void boot_buf_free(struct boot_buf *b)
{
	free(b->p);
	boot_buf_init(b);
}

static bool buf_reserve(struct boot_buf *b, size_t n)
{
	if (b->err)
		return false;
	if (n > BOOT_OUT_MAX || b->len > BOOT_OUT_MAX - n) {
		b->err = -E2BIG;
		return false;
	}
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void boot_buf_put(struct boot_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void boot_buf_puts(struct boot_buf *b, const char *s)
{
	boot_buf_put(b, s, strlen(s));
}

void boot_buf_printf(struct boot_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	/* every caller formats short, bounded pieces; longer text goes through boot_buf_put */
	boot_buf_put(b, tmp, MIN((size_t)n, sizeof(tmp) - 1));
}

int boot_buf_take(struct boot_buf *b, char **out, size_t *len)
{
	if (b->err) {
		int e = b->err;
		boot_buf_free(b);
		return e;
	}
	if (!buf_reserve(b, 0)) {
		int e = b->err;
		boot_buf_free(b);
		return e;
	}
	*out = b->p;
	*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return 0;
}

/* ---- expansion ---------------------------------------------------------------------------- */

static bool safe_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
}

void boot_escape_value(struct boot_buf *out, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!v)
		return;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (safe_byte(*p)) {
			boot_buf_put(out, (const char *)p, 1);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			boot_buf_put(out, e, 3);
		}
	}
}

static const char *var_value(const struct boot_vars *v, const char *name, size_t n, bool *known)
{
	static const struct {
		const char *name;
		size_t off;
	} vars[] = {
	    {"server", offsetof(struct boot_vars, server)},
	    {"base", offsetof(struct boot_vars, base)},
	    {"mac", offsetof(struct boot_vars, mac)},
	    {"ip", offsetof(struct boot_vars, ip)},
	    {"hostname", offsetof(struct boot_vars, hostname)},
	    {"uuid", offsetof(struct boot_vars, uuid)},
	    {"arch", offsetof(struct boot_vars, arch)},
	};
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		if (strlen(vars[i].name) == n && !memcmp(vars[i].name, name, n)) {
			*known = true;
			const char *val;
			memcpy(&val, (const char *)v + vars[i].off, sizeof(val));
			return val ? val : "";
		}
	}
	*known = false;
	return NULL;
}

void boot_expand(struct boot_buf *out, const char *text, size_t n, const struct boot_vars *v)
{
	size_t i = 0, lit = 0;
	while (i < n) {
		if (text[i] != '$' || n - i < 2 || text[i + 1] != '{') {
			i++;
			continue;
		}
		/* ${name}: a name is lower-case letters only; anything else is not ours */
		size_t j = i + 2;
		while (j < n && text[j] >= 'a' && text[j] <= 'z' && j - i < 16)
			j++;
		bool known = false;
		const char *val = NULL;
		if (j < n && text[j] == '}' && j > i + 2)
			val = var_value(v, text + i + 2, j - i - 2, &known);
		if (!known) {
			i += 2; /* left for iPXE / the template's language, copied verbatim */
			continue;
		}
		boot_buf_put(out, text + lit, i - lit);
		boot_escape_value(out, val);
		i = j + 1;
		lit = i;
	}
	boot_buf_put(out, text + lit, n - lit);
}

bool boot_is_url(const char *t)
{
	if (t[0] == '$' && t[1] == '{')
		return true;
	size_t i = 0;
	if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
		return false;
	while ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
	       (t[i] >= '0' && t[i] <= '9') || t[i] == '+' || t[i] == '.' || t[i] == '-')
		i++;
	return !strncmp(t + i, "://", 3);
}

void boot_url(struct boot_buf *out, const char *path, const struct boot_vars *v)
{
	if (boot_is_url(path)) {
		boot_expand(out, path, strlen(path), v);
		return;
	}
	while (*path == '/')
		path++;
	boot_escape_value(out, v->base);
	boot_buf_put(out, "/", 1);
	boot_expand(out, path, strlen(path), v);
}

/* ---- the /boot.ipxe query string ---------------------------------------------------------- */

/* Percent-decode s[0..n) into dst (NUL-terminated); false if too long, malformed or NUL. */
static bool pct_decode(const char *s, size_t n, char *dst, size_t dstlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3)
				return false;
			int h = hex_digit(s[i + 1]), l = hex_digit(s[i + 2]);
			if (h < 0 || l < 0)
				return false;
			c = h * 16 + l;
			i += 2;
		}
		if (c == 0 || o + 1 >= dstlen)
			return false;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return true;
}

static bool parse_uuid(const char *s, char out[BOOT_UUID_LEN])
{
	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : hex_digit(s[i]) < 0)
			return false;
		out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] - 'A' + 'a') : s[i];
	}
	out[36] = '\0';
	return true;
}

/* iPXE's ${buildarch} values and the family each has under UEFI. */
static const struct {
	const char *buildarch;
	unsigned efi_family;
	bool x86;
} buildarchs[] = {
    {"i386", CONF_FAM_EFI32, true},           {"x86_64", CONF_FAM_EFI64, true},
    {"arm32", CONF_FAM_ARM32, false},         {"arm64", CONF_FAM_ARM64, false},
    {"riscv32", CONF_FAM_RISCV32, false},     {"riscv64", CONF_FAM_RISCV64, false},
    {"loong64", CONF_FAM_LOONGARCH64, false},
};

static int family_by_name(const char *s)
{
	for (unsigned b = 0; b < 8; b++)
		if (!strcmp(s, conf_family_name(1u << b)))
			return (int)(1u << b);
	return 0;
}

unsigned boot_family_from(const char *buildarch, const char *platform)
{
	bool pcbios = !strcmp(platform, "pcbios"), efi = !strcmp(platform, "efi");
	for (size_t i = 0; i < ARRAY_SIZE(buildarchs); i++) {
		if (strcmp(buildarch, buildarchs[i].buildarch))
			continue;
		if (pcbios)
			return buildarchs[i].x86 ? CONF_FAM_BIOS : 0;
		if (efi || !buildarchs[i].x86)
			return buildarchs[i].efi_family; /* non-x86 iPXE runs only under UEFI */
		return 0; /* x86 without a platform: BIOS or UEFI, cannot tell */
	}
	return pcbios ? CONF_FAM_BIOS : 0;
}

static bool is_buildarch(const char *s)
{
	for (size_t k = 0; k < ARRAY_SIZE(buildarchs); k++)
		if (!strcmp(s, buildarchs[k].buildarch))
			return true;
	return false;
}

void boot_request_param(struct boot_request *rq, const char *name, const char *val)
{
	if (!strcmp(name, "mac")) {
		rq->has_mac = (parse_mac_any(val, rq->mac) == 0);
	} else if (!strcmp(name, "uuid")) {
		if (!parse_uuid(val, rq->uuid))
			rq->uuid[0] = '\0';
	} else if (!strcmp(name, "arch")) {
		bool ok = is_buildarch(val) || family_by_name(val);
		str_copy(rq->buildarch, ok ? val : "", sizeof(rq->buildarch));
	} else if (!strcmp(name, "platform")) {
		bool ok = !strcmp(val, "pcbios") || !strcmp(val, "efi");
		str_copy(rq->platform, ok ? val : "", sizeof(rq->platform));
	}
}

void boot_request_finish(struct boot_request *rq)
{
	if (rq->buildarch[0] && !is_buildarch(rq->buildarch))
		rq->family = (unsigned)family_by_name(rq->buildarch);
	else
		rq->family = boot_family_from(rq->buildarch, rq->platform);
}

void boot_request_parse_query(const char *q, size_t len, struct boot_request *rq)
{
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && q[j] != '&')
			j++;
		const char *eq = memchr(q + i, '=', j - i);
		char key[16], val[128];
		if (eq && pct_decode(q + i, (size_t)(eq - (q + i)), key, sizeof(key)) &&
		    pct_decode(eq + 1, (size_t)(q + j - (eq + 1)), val, sizeof(val)))
			boot_request_param(rq, key, val);
		i = j + 1;
	}
	boot_request_finish(rq);
}

/* ---- catalog items ------------------------------------------------------------------------- */

const char *boot_item_name(const struct boot_item *it)
{
	return it->entry ? it->entry->name : it->iso_name;
}

const char *boot_item_label(const struct boot_item *it)
{
	if (it->entry)
		return it->entry->label[0] ? it->entry->label : it->entry->name;
	return it->iso_name;
}

enum conf_entry_kind boot_item_kind(const struct boot_item *it)
{
	return it->entry ? it->entry->kind : CONF_ENTRY_SANBOOT;
}

unsigned boot_item_archs(const struct boot_item *it)
{
	return it->entry ? it->entry->archs : 0;
}

const char *boot_item_image(const struct boot_item *it)
{
	return it->entry ? it->entry->image : it->iso_image;
}

const char *boot_item_chain(const struct boot_item *it, unsigned family)
{
	if (!it->entry)
		return "";
	for (unsigned b = 0; b < 8; b++)
		if (family == 1u << b && it->entry->chain_fam[b][0])
			return it->entry->chain_fam[b];
	return it->entry->chain;
}

static void url_basename(const char *url, size_t n, const char **b, size_t *bl);

/* lpxelinux.0 or pxelinux.0 (any case), in any folder or URL */
bool boot_chain_is_pxelinux(const char *target)
{
	const char *b;
	size_t bl;
	url_basename(target, strlen(target), &b, &bl);
	return (bl == 11 && !strncasecmp(b, "lpxelinux.0", 11)) ||
	       (bl == 10 && !strncasecmp(b, "pxelinux.0", 10));
}

bool boot_item_visible(const struct boot_item *it, unsigned family, enum boot_format fmt)
{
	enum conf_entry_kind k = boot_item_kind(it);
	unsigned archs = boot_item_archs(it);
	if (fmt == BOOT_FMT_PXELINUX) {
		/* PXELINUX runs on BIOS only and has no SAN boot and no shell */
		if (archs && !(archs & CONF_FAM_BIOS))
			return false;
		if (k == CONF_ENTRY_SANBOOT || k == CONF_ENTRY_SHELL)
			return false;
		if (k == CONF_ENTRY_CHAIN) {
			/* a chain to PXELINUX itself would only come back here: left out */
			const char *t = boot_item_chain(it, CONF_FAM_BIOS);
			return t[0] && !boot_is_url(t) && !boot_chain_is_pxelinux(t);
		}
		return true;
	}
	if (archs && family && !(archs & family))
		return false;
	if (k == CONF_ENTRY_CHAIN)
		return boot_item_chain(it, family)[0] != '\0';
	return true;
}

/* ---- shared rendering helpers ------------------------------------------------------------- */

/* A comment or label text: printable ASCII kept, anything else '?', so it stays one line. */
static void put_line_text(struct boot_buf *o, const char *s)
{
	for (; *s; s++) {
		char c = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
		boot_buf_put(o, &c, 1);
	}
}

static void put_header(struct boot_buf *o, const struct boot_choice *ch, const struct boot_vars *v)
{
	boot_buf_puts(o, "# pixied: chosen by ");
	boot_buf_puts(o, boot_rule_name(ch->rule));
	if (ch->why[0]) {
		boot_buf_puts(o, ": ");
		put_line_text(o, ch->why);
	}
	boot_buf_puts(o, "\n# client: mac=");
	boot_escape_value(o, v->mac && v->mac[0] ? v->mac : "unknown");
	boot_buf_puts(o, " ip=");
	boot_escape_value(o, v->ip && v->ip[0] ? v->ip : "unknown");
	boot_buf_puts(o, " arch=");
	boot_escape_value(o, v->arch && v->arch[0] ? v->arch : "unknown");
	boot_buf_puts(o, "\n");
}

/*
 * Admin text (args, paths, URLs) expanded onto the current line. The config cannot hold a
 * line break, but a renderer never trusts that: CR and LF become spaces, so nothing
 * written here can start a line of its own.
 */
static void put_one_line(struct boot_buf *o, struct boot_buf *tmp)
{
	if (tmp->err && !o->err)
		o->err = tmp->err;
	for (size_t i = 0; i < tmp->len; i++)
		if (tmp->p[i] == '\n' || tmp->p[i] == '\r')
			tmp->p[i] = ' ';
	boot_buf_put(o, tmp->p ? tmp->p : "", tmp->len);
	boot_buf_free(tmp);
}

static void line_expand(struct boot_buf *o, const char *text, const struct boot_vars *v)
{
	struct boot_buf t;
	boot_buf_init(&t);
	boot_expand(&t, text, strlen(text), v);
	put_one_line(o, &t);
}

static void line_url(struct boot_buf *o, const char *path, const struct boot_vars *v)
{
	struct boot_buf t;
	boot_buf_init(&t);
	boot_url(&t, path, v);
	put_one_line(o, &t);
}

/* The item the menu starts on: the configured default if visible, else the first visible. */
static const struct boot_item *menu_default(const struct boot_menu *m, unsigned family,
					    enum boot_format fmt)
{
	const struct boot_item *first = NULL;
	for (size_t i = 0; i < m->nitems; i++) {
		const struct boot_item *it = &m->items[i];
		if (!boot_item_visible(it, family, fmt))
			continue;
		if (!first)
			first = it;
		if (m->default_name && m->default_name[0] &&
		    !strcmp(boot_item_name(it), m->default_name))
			return it;
	}
	return first;
}

/* ---- iPXE ------------------------------------------------------------------------------- */

/* The name iPXE gives an image fetched from url: the last path segment. */
static void url_basename(const char *url, size_t n, const char **b, size_t *bl)
{
	size_t end = 0;
	while (end < n && url[end] != '?' && url[end] != '#')
		end++;
	size_t start = end;
	while (start > 0 && url[start - 1] != '/')
		start--;
	*b = url + start;
	*bl = end - start;
}

bool boot_chain_is_lpxelinux(const char *target)
{
	const char *b;
	size_t bl;
	url_basename(target, strlen(target), &b, &bl);
	return bl == 11 && !strncasecmp(b, "lpxelinux.0", 11);
}

/* ---- what a client fetches (boot/'s report) ------------------------------------------------ */

static void files_add(struct boot_files *f, enum boot_file_kind k, const char *path,
		      const struct boot_vars *v, enum boot_format fmt)
{
	if (f->n == BOOT_REPORT_FILES_MAX)
		return;
	struct boot_buf *o = &f->path[f->n];
	boot_buf_init(o);
	if (fmt == BOOT_FMT_IPXE) {
		line_url(o, path, v);
	} else {
		/* as the PXELINUX config names it, minus its "::": beneath the root */
		while (*path == '/')
			path++;
		line_expand(o, path, v);
	}
	boot_buf_put(o, "", 0); /* a NUL-terminated empty string for an empty path */
	f->kind[f->n++] = k;
}

void boot_item_files(const struct boot_item *it, const struct boot_vars *v, unsigned family,
		     enum boot_format fmt, struct boot_files *out)
{
	memset(out, 0, sizeof(*out));
	const struct conf_entry *e = it->entry;
	switch (boot_item_kind(it)) {
	case CONF_ENTRY_LINUX:
		files_add(out, BOOT_FILE_KERNEL, e->kernel, v, fmt);
		for (size_t i = 0; i < e->ninitrd && i < CONF_MAX_INITRDS; i++)
			files_add(out, BOOT_FILE_INITRD, e->initrd[i], v, fmt);
		break;
	case CONF_ENTRY_CHAIN: {
		const char *t =
		    boot_item_chain(it, fmt == BOOT_FMT_PXELINUX ? CONF_FAM_BIOS : family);
		if (fmt == BOOT_FMT_PXELINUX)
			files_add(out, BOOT_FILE_OTHER, "pxechn.c32", v, fmt);
		const char *b;
		size_t bl;
		url_basename(t, strlen(t), &b, &bl);
		bool script = bl > 5 && !strncasecmp(b + bl - 5, ".ipxe", 5);
		files_add(out, script ? BOOT_FILE_SCRIPT : BOOT_FILE_LOADER, t, v, fmt);
		break;
	}
	case CONF_ENTRY_SANBOOT: files_add(out, BOOT_FILE_ISO, boot_item_image(it), v, fmt); break;
	case CONF_ENTRY_MEMDISK:
		/* memdisk loads the whole image as its initrd, then boots it from memory */
		files_add(out, BOOT_FILE_KERNEL, "memdisk", v, fmt);
		files_add(out, BOOT_FILE_INITRD, boot_item_image(it), v, fmt);
		break;
	case CONF_ENTRY_LOCAL:
	case CONF_ENTRY_SHELL:
	case CONF_ENTRY_REBOOT: break; /* nothing to fetch */
	}
}

int boot_files_err(const struct boot_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->path[i].err)
			return f->path[i].err;
	return 0;
}

void boot_files_free(struct boot_files *f)
{
	for (size_t i = 0; i < f->n; i++)
		boot_buf_free(&f->path[i]);
	f->n = 0;
}

static void ipxe_linux(struct boot_buf *o, const struct conf_entry *e, const struct boot_vars *v)
{
	struct boot_buf urls[CONF_MAX_INITRDS];
	size_t n = MIN(e->ninitrd, (size_t)CONF_MAX_INITRDS);
	for (size_t i = 0; i < n; i++) {
		boot_buf_init(&urls[i]);
		line_url(&urls[i], e->initrd[i], v);
	}
	boot_buf_puts(o, "kernel ");
	line_url(o, e->kernel, v);
	/* iPXE under UEFI hands the kernel its initrds by name: initrd=<name> on the
	 * command line (the EFI stub looks them up); harmless under BIOS. */
	if (!strstr(e->args, "initrd=")) {
		for (size_t i = 0; i < n; i++) {
			const char *b;
			size_t bl;
			url_basename(urls[i].p ? urls[i].p : "", urls[i].len, &b, &bl);
			if (!bl)
				continue;
			boot_buf_puts(o, " initrd=");
			boot_buf_put(o, b, bl);
		}
	}
	if (e->args[0]) {
		boot_buf_puts(o, " ");
		line_expand(o, e->args, v);
	}
	boot_buf_puts(o, "\n");
	for (size_t i = 0; i < n; i++) {
		boot_buf_puts(o, "initrd ");
		boot_buf_put(o, urls[i].p ? urls[i].p : "", urls[i].len);
		boot_buf_puts(o, "\n");
		if (urls[i].err && !o->err)
			o->err = urls[i].err;
		boot_buf_free(&urls[i]);
	}
	boot_buf_puts(o, "boot\n");
}

static void ipxe_body(struct boot_buf *o, const struct boot_item *it, const struct boot_vars *v,
		      unsigned family)
{
	switch (boot_item_kind(it)) {
	case CONF_ENTRY_LINUX: ipxe_linux(o, it->entry, v); break;
	case CONF_ENTRY_CHAIN:
		if (boot_chain_is_lpxelinux(boot_item_chain(it, family))) {
			/* lpxelinux.0 under iPXE reads option 210 (path prefix, RFC 5071 §5) from
			 * the DHCP reply iPXE hands it; pointed at our HTTP base it fetches
			 * pxelinux.cfg/ and the kernel from pixied over HTTP. Our address
			 * unknown: iPXE's own ${next-server}. */
			boot_buf_puts(o, "set 210:string ");
			if (v->base && v->base[0])
				boot_escape_value(o, v->base);
			else
				boot_buf_puts(o, "http://${next-server}");
			boot_buf_puts(o, "/\n");
		}
		boot_buf_puts(o, "chain ");
		line_url(o, boot_item_chain(it, family), v);
		boot_buf_puts(o, "\n");
		break;
	case CONF_ENTRY_SANBOOT:
		boot_buf_puts(o, "sanboot ");
		line_url(o, boot_item_image(it), v);
		boot_buf_puts(o, "\n");
		break;
	case CONF_ENTRY_MEMDISK:
		/* syslinux's memdisk (served as "memdisk") loads the ISO as a BIOS drive */
		boot_buf_puts(o, "kernel ");
		line_url(o, "memdisk", v);
		boot_buf_puts(o, " iso raw\ninitrd ");
		line_url(o, boot_item_image(it), v);
		boot_buf_puts(o, "\nboot\n");
		break;
	case CONF_ENTRY_LOCAL:
		/* BIOS: boot the first hard disk through INT 13h; UEFI: leave iPXE so the
		 * firmware tries its next boot option. Unknown: let iPXE decide. */
		if (family == CONF_FAM_BIOS)
			boot_buf_puts(o, "sanboot --no-describe --drive 0x80\n");
		else if (family)
			boot_buf_puts(o, "exit\n");
		else
			boot_buf_puts(o, "iseq ${platform} efi && exit ||\n"
					 "sanboot --no-describe --drive 0x80\n");
		break;
	case CONF_ENTRY_SHELL: boot_buf_puts(o, "shell\n"); break;
	case CONF_ENTRY_REBOOT: boot_buf_puts(o, "reboot\n"); break;
	}
}

/* Entry names are [A-Za-z0-9._-] (conf.c, iso-dir scan): this label can never clash. */
#define IPXE_MENU_LABEL "pixied/menu"

int boot_render_ipxe_script(const struct boot_menu *m, const struct boot_choice *ch,
			    const struct boot_vars *v, unsigned family,
			    const struct boot_netboot *nb, struct boot_buf *out)
{
	boot_buf_puts(out, "#!ipxe\n");
	put_header(out, ch, v);
	if (ch->item) {
		ipxe_body(out, ch->item, v, family);
		return out->err;
	}
	if (nb) {
		/* netboot.xyz order; a missing or returning script falls through to the next */
		if (nb->local_vars)
			boot_buf_puts(out, "chain --autofree local-vars.ipxe ||\n");
		if (nb->hostname_file[0])
			boot_buf_printf(out, "chain --autofree %s ||\n", nb->hostname_file);
		if (nb->mac_file[0])
			boot_buf_printf(out, "chain --autofree %s ||\n", nb->mac_file);
		if (nb->menu)
			boot_buf_puts(out, "chain --autofree menu.ipxe ||\n");
	}
	const struct boot_item *def = menu_default(m, family, BOOT_FMT_IPXE);
	if (!def) {
		boot_buf_puts(out, "echo pixied: no boot entry for this machine\nexit\n");
		return out->err;
	}
	boot_buf_puts(out, ":" IPXE_MENU_LABEL "\nmenu ");
	put_line_text(out, m->title);
	boot_buf_puts(out, "\n");
	for (size_t i = 0; i < m->nitems; i++) {
		const struct boot_item *it = &m->items[i];
		if (!boot_item_visible(it, family, BOOT_FMT_IPXE))
			continue;
		boot_buf_printf(out, "item %s ", boot_item_name(it));
		put_line_text(out, boot_item_label(it));
		boot_buf_puts(out, "\n");
	}
	boot_buf_puts(out, "choose");
	if (m->timeout_ms)
		boot_buf_printf(out, " --timeout %llu", (unsigned long long)m->timeout_ms);
	boot_buf_printf(out, " --default %s target && goto ${target}\n", boot_item_name(def));
	for (size_t i = 0; i < m->nitems; i++) {
		const struct boot_item *it = &m->items[i];
		if (!boot_item_visible(it, family, BOOT_FMT_IPXE))
			continue;
		boot_buf_printf(out, "\n:%s\n", boot_item_name(it));
		ipxe_body(out, it, v, family);
		boot_buf_puts(out, "goto " IPXE_MENU_LABEL "\n");
	}
	return out->err;
}

/* ---- PXELINUX ------------------------------------------------------------------------------ */

static void pxl_path(struct boot_buf *o, const char *path, const struct boot_vars *v, bool prefixed)
{
	if (boot_is_url(path)) {
		line_expand(o, path, v);
		return;
	}
	while (*path == '/')
		path++;
	if (prefixed)
		boot_buf_puts(o, "::"); /* "::name" skips the path prefix (pxelinux(1)) */
	line_expand(o, path, v);
}

static void pxl_body(struct boot_buf *o, const struct boot_item *it, const struct boot_vars *v,
		     bool prefixed)
{
	const struct conf_entry *e = it->entry;
	switch (boot_item_kind(it)) {
	case CONF_ENTRY_LINUX:
		boot_buf_puts(o, "  KERNEL ");
		pxl_path(o, e->kernel, v, prefixed);
		boot_buf_puts(o, "\n");
		if (e->ninitrd) {
			boot_buf_puts(o, "  INITRD ");
			for (size_t i = 0; i < e->ninitrd && i < CONF_MAX_INITRDS; i++) {
				if (i)
					boot_buf_puts(o, ",");
				pxl_path(o, e->initrd[i], v, prefixed);
			}
			boot_buf_puts(o, "\n");
		}
		if (e->args[0]) {
			boot_buf_puts(o, "  APPEND ");
			line_expand(o, e->args, v);
			boot_buf_puts(o, "\n");
		}
		break;
	case CONF_ENTRY_MEMDISK:
		boot_buf_puts(o, "  KERNEL memdisk\n  INITRD ");
		pxl_path(o, boot_item_image(it), v, prefixed);
		boot_buf_puts(o, "\n  APPEND iso raw\n");
		break;
	case CONF_ENTRY_CHAIN: {
		/* pxechn.c32 loads another network boot program: "server::path" */
		const char *t = boot_item_chain(it, CONF_FAM_BIOS);
		while (*t == '/')
			t++;
		boot_buf_puts(o, "  COM32 pxechn.c32\n  APPEND ");
		if (v->server && v->server[0]) {
			boot_escape_value(o, v->server);
			boot_buf_puts(o, "::");
		}
		line_expand(o, t, v);
		boot_buf_puts(o, "\n");
		break;
	}
	case CONF_ENTRY_LOCAL: boot_buf_puts(o, "  LOCALBOOT 0\n"); break;
	case CONF_ENTRY_REBOOT: boot_buf_puts(o, "  COM32 reboot.c32\n"); break;
	case CONF_ENTRY_SANBOOT:
	case CONF_ENTRY_SHELL:
		/* not visible in PXELINUX (boot_item_visible) */
		boot_buf_puts(o, "  LOCALBOOT 0\n");
		break;
	}
}

int boot_render_pxelinux_cfg(const struct boot_menu *m, const struct boot_choice *ch,
			     const struct boot_vars *v, bool prefixed, struct boot_buf *out)
{
	put_header(out, ch, v);
	if (ch->item) {
		const char *name = boot_item_name(ch->item);
		boot_buf_printf(out, "DEFAULT %s\nPROMPT 0\n\nLABEL %s\n", name, name);
		pxl_body(out, ch->item, v, prefixed);
		return out->err;
	}
	const struct boot_item *def = menu_default(m, CONF_FAM_BIOS, BOOT_FMT_PXELINUX);
	if (!def) {
		boot_buf_puts(out, "SAY pixied: no boot entry PXELINUX can boot on this machine; "
				   "booting from the local disk\n"
				   "DEFAULT pixied-local\nPROMPT 0\n\nLABEL pixied-local\n"
				   "  LOCALBOOT 0\n");
		return out->err;
	}
	boot_buf_puts(out, "UI menu.c32\nMENU TITLE ");
	put_line_text(out, m->title);
	/* TIMEOUT counts tenths of a second; 0 waits for a choice, like [menu] timeout = 0 */
	boot_buf_printf(out, "\nPROMPT 0\nTIMEOUT %llu\nDEFAULT %s\n",
			(unsigned long long)((m->timeout_ms + 99) / 100), boot_item_name(def));
	for (size_t i = 0; i < m->nitems; i++) {
		const struct boot_item *it = &m->items[i];
		if (!boot_item_visible(it, CONF_FAM_BIOS, BOOT_FMT_PXELINUX))
			continue;
		boot_buf_printf(out, "\nLABEL %s\n  MENU LABEL ", boot_item_name(it));
		put_line_text(out, boot_item_label(it));
		boot_buf_puts(out, "\n");
		if (it == def)
			boot_buf_puts(out, "  MENU DEFAULT\n");
		pxl_body(out, it, v, prefixed);
	}
	return out->err;
}

const char *boot_rule_name(enum boot_rule r)
{
	switch (r) {
	case BOOT_RULE_MENU: return "menu";
	case BOOT_RULE_HOST: return "host rule";
	case BOOT_RULE_NEXTBOOT: return "next boot";
	case BOOT_RULE_PIN: return "permanent";
	}
	return "?";
}
