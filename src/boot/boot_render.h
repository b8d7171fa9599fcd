/*
 * boot/render — the pure part of the boot catalog: variable expansion with escaping, the
 * catalog item view, and the two renderers (iPXE script, PXELINUX config). No I/O, no
 * store, no clock: boot.c gathers the facts (which rule chose, which netboot.xyz files
 * exist, the client's variables) and these functions turn them into text. Unit tests
 * compare their output with golden files; fuzzers drive them with arbitrary input.
 *
 * Escaping rule (the one promise that keeps a client-chosen host name from injecting
 * commands): a substituted ${value} keeps only A-Z a-z 0-9 . _ : / - and every other byte
 * becomes %XX. iPXE splits a line on whitespace before it expands its own ${...}, treats
 * the tokens `||`, `&&`, `;` and a leading `#` specially and joins lines ending in `\`;
 * PXELINUX configs and shell-like templates break on newlines and quotes. None of those
 * characters survive the rule, so a value is always part of the token it was written in.
 * Text written by the admin in the config ($args, labels) is trusted and copied as is;
 * unknown ${names} are left for iPXE (or the template's own language) to expand.
 */
#ifndef PIXIED_BOOT_RENDER_H
#define PIXIED_BOOT_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/boot.h"
#include "conf/conf.h"

/* Largest text a renderer or template expansion produces; beyond it -E2BIG. */
#define BOOT_OUT_MAX (1u << 20)

/* A growing output buffer; errors stick (the first one is reported by boot_buf_take). */
struct boot_buf {
	char *p;
	size_t len, cap;
	int err; /* 0, -ENOMEM or -E2BIG */
};
void boot_buf_init(struct boot_buf *b);
void boot_buf_free(struct boot_buf *b);
void boot_buf_put(struct boot_buf *b, const char *s, size_t n);
void boot_buf_puts(struct boot_buf *b, const char *s);
void boot_buf_printf(struct boot_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* 0 and the NUL-terminated text (caller frees) with its length, or the sticky error. */
int boot_buf_take(struct boot_buf *b, char **out, size_t *len);

/* The raw values of the variables (NULL = empty). */
struct boot_vars {
	const char *server;   /* our address as the client reached it: 10.0.0.1 */
	const char *base;     /* http://<server>[:port] */
	const char *mac;      /* aa:bb:cc:dd:ee:ff */
	const char *ip;       /* the client's address */
	const char *hostname; /* host rule hostname, else the lease's (client-chosen!) */
	const char *uuid;     /* SMBIOS UUID as iPXE sends it */
	const char *arch;     /* family name: bios, efi64, arm64, ... */
};

/* Append v escaped by the rule above. */
void boot_escape_value(struct boot_buf *out, const char *v);
/* Append text[0..n) with ${server} ${base} ${mac} ${ip} ${hostname} ${uuid} ${arch} expanded. */
void boot_expand(struct boot_buf *out, const char *text, size_t n, const struct boot_vars *v);
/* Is text an absolute URL (scheme://) or does it start with a ${...} (admin-built URL)? */
bool boot_is_url(const char *text);
/* Append the URL for a catalog path: URLs as they are, else <base>/<path>. Expanded. */
void boot_url(struct boot_buf *out, const char *path, const struct boot_vars *v);

/* The family bit for iPXE's ${buildarch} and ${platform} (either may be ""); 0 = unknown. */
unsigned boot_family_from(const char *buildarch, const char *platform);

/* One catalog entry: an [entry NAME] section or an ISO found in iso-dir. */
#define BOOT_ISO_IMAGE_LEN (CONF_PATH_LEN + CONF_NAME_LEN + 2)
struct boot_item {
	const struct conf_entry *entry;     /* NULL for an ISO */
	char iso_name[CONF_NAME_LEN];       /* the ISO's file name (its entry name and label) */
	char iso_image[BOOT_ISO_IMAGE_LEN]; /* "<iso-dir>/<file>" beneath the root */
};
const char *boot_item_name(const struct boot_item *it);
const char *boot_item_label(const struct boot_item *it);
enum conf_entry_kind boot_item_kind(const struct boot_item *it);
unsigned boot_item_archs(const struct boot_item *it);
const char *boot_item_image(const struct boot_item *it);
/* The chain target for a family (file-<family>, else file); "" when there is none. */
const char *boot_item_chain(const struct boot_item *it, unsigned family);

enum boot_format { BOOT_FMT_IPXE, BOOT_FMT_PXELINUX };
/* Can this item be offered to a client of `family` (0 = unknown) in this format? */
bool boot_item_visible(const struct boot_item *it, unsigned family, enum boot_format fmt);

struct boot_menu {
	const char *title;
	const char *default_name; /* "" = the first visible item */
	uint64_t timeout_ms;      /* 0 = wait for a choice */
	const struct boot_item *items;
	size_t nitems;
};

/* What the resolution decided: one item, or the menu (item NULL). */
#define BOOT_WHY_LEN 256
struct boot_choice {
	enum boot_rule rule;
	const struct boot_item *item;
	char why[BOOT_WHY_LEN]; /* for the comment at the top; printable ASCII only is kept */
};

/* netboot.xyz-style files found in the root, chained in this order before the menu. */
struct boot_netboot {
	bool local_vars;                        /* local-vars.ipxe */
	char hostname_file[CONF_NAME_LEN + 16]; /* "HOSTNAME-<name>.ipxe" or "" */
	char mac_file[32];                      /* "MAC-<12 hex>.ipxe" or "" */
	bool menu;                              /* menu.ipxe */
};

/* Is this chain target PXELINUX's HTTP-capable build (basename lpxelinux.0)? The iPXE
 * renderer sets option 210 to ${base}/ before chaining it. */
bool boot_chain_is_lpxelinux(const char *target);
/* pxelinux.0 or lpxelinux.0 (any case), as a path or the last segment of a URL. */
bool boot_chain_is_pxelinux(const char *target);

/*
 * What a client will fetch to boot `it`, in order, with its kind (boot/'s report): URLs as
 * the iPXE script has them, or paths as the PXELINUX config names them (beneath the root,
 * without "::"). Empty for local, shell and reboot. At most BOOT_REPORT_FILES_MAX.
 */
struct boot_files {
	struct boot_buf path[BOOT_REPORT_FILES_MAX]; /* NUL-terminated unless err */
	enum boot_file_kind kind[BOOT_REPORT_FILES_MAX];
	size_t n;
};
void boot_item_files(const struct boot_item *it, const struct boot_vars *v, unsigned family,
		     enum boot_format fmt, struct boot_files *out);
/* 0, or the first path's buffer error (-ENOMEM, -E2BIG). */
int boot_files_err(const struct boot_files *f);
void boot_files_free(struct boot_files *f);

/* The iPXE script (client of `family`; nb may be NULL). 0 or the buffer's error. */
int boot_render_ipxe_script(const struct boot_menu *m, const struct boot_choice *ch,
			    const struct boot_vars *v, unsigned family,
			    const struct boot_netboot *nb, struct boot_buf *out);

/*
 * The PXELINUX config (BIOS). prefixed: PXELINUX has a path prefix (option 210), so
 * relative kernel/initrd/image paths are written `::path` (from the TFTP root).
 */
int boot_render_pxelinux_cfg(const struct boot_menu *m, const struct boot_choice *ch,
			     const struct boot_vars *v, bool prefixed, struct boot_buf *out);

#endif
