/*
 * boot — the boot catalog: what each machine boots, and the scripts and configs that say so.
 *
 * Owns: the catalog ([entry NAME] sections in file order, then one sanboot entry per *.iso
 * in [menu] iso-dir, rescanned when the folder's mtime changes); per-client resolution
 * (one-shot next boot from the store, then the [host] `boot =` rule, then the menu); the
 * generated files: the iPXE script (/boot.ipxe, also over TFTP), PXELINUX configs
 * (pxelinux.cfg/<uuid>, 01-<mac>, hex-IP prefixes, default) when the root has none,
 * templates/NAME.tmpl with variables expanded, and syslinux's modules and memdisk under stable
 * names (ldlinux.c32, menu.c32, ..., memdisk) when the root has none of its own.
 *
 * Does not own: sockets or HTTP/TFTP protocol (http/, tftp/), the file namespace and its
 * path rules (files/ calls boot_files_gen first for every open), the DHCP options that
 * point PXELINUX at its config (dhcp/), the SQLite schema (store/). The pure layer —
 * variable expansion, the query-string parser and both renderers — is in boot_render.h.
 * Single-threaded like the rest of pixied.
 */
#ifndef PIXIED_BOOT_BOOT_H
#define PIXIED_BOOT_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

struct boot;
struct store;
struct files_client;

#define BOOT_UUID_LEN     37 /* 8-4-4-4-12 lower-case hex + NUL */
#define BOOT_TOKEN_LEN    16 /* buildarch / platform tokens */
#define BOOT_HOSTNAME_LEN 64

/* Who is asking for a boot script or config. Zero it, then fill what is known. */
struct boot_request {
	bool has_mac;
	uint8_t mac[6];
	char uuid[BOOT_UUID_LEN];         /* "" = unknown; canonical lower-case form */
	char buildarch[BOOT_TOKEN_LEN];   /* iPXE ${buildarch} or a family name (efi64); else "" */
	char platform[BOOT_TOKEN_LEN];    /* iPXE ${platform}: pcbios, efi; else "" */
	unsigned family;                  /* one CONF_FAM_* bit; 0 = unknown */
	uint32_t client_ip;               /* host order; 0 = unknown */
	uint32_t server_ip;               /* address the client reached us on; 0 = pick one */
	uint16_t server_port;             /* HTTP port it reached; 0 = [http] port */
	char hostname[BOOT_HOSTNAME_LEN]; /* "" = find it (host rule, then the lease) */
};

/*
 * Read the query of /boot.ipxe: mac (aa:bb:.. or 12 hex digits), uuid, arch (iPXE
 * ${buildarch}: i386 x86_64 arm32 arm64 riscv32 riscv64 loong64, or a family name such as
 * efi64), platform (pcbios, efi). Anything malformed or unknown is ignored (the field stays
 * unknown); never fails. boot_request_param takes one decoded name=value pair, then
 * boot_request_finish derives `family`; boot_request_parse_query does both for a raw query
 * string (without the '?', percent-decoded here). None touches the addresses or hostname.
 */
void boot_request_param(struct boot_request *rq, const char *name, const char *value);
void boot_request_finish(struct boot_request *rq);
void boot_request_parse_query(const char *query, size_t len, struct boot_request *rq);

/*
 * A new catalog for config c (kept by pointer until the next boot_reconfigure; the caller
 * keeps it alive). st may be NULL (no one-shot next boot, no lease lookups). Opens the root
 * directory. NULL with a message in err on failure.
 */
struct boot *boot_new(const struct conf *c, struct store *st, char *err, size_t errlen);
void boot_free(struct boot *b);
/*
 * Switch to config c (kept by pointer, like boot_new). It always switches — the caller may
 * free the old config — and returns a negative errno with a message in err when c's root
 * cannot be opened: nothing beneath the root is served or looked at until a later
 * reconfigure opens one.
 */
int boot_reconfigure(struct boot *b, const struct conf *c, char *err, size_t errlen);

/*
 * The addresses pixied serves on (for ${server} and ${base} when the request does not say
 * which address the client reached, i.e. over TFTP): the one whose subnet holds the client,
 * else the first. host order. At most CONF_MAX_IFACES are kept.
 */
void boot_set_addresses(struct boot *b, const uint32_t *addrs, const uint32_t *masks, size_t n);

/*
 * Where syslinux's files are (tests): dir holding ldlinux.c32, menu.c32, ... (default
 * /usr/lib/syslinux/modules/bios) and the memdisk file (default /usr/lib/syslinux/memdisk).
 */
void boot_set_syslinux_paths(struct boot *b, const char *modules_dir, const char *memdisk);

/* Which rule chose what a client boots. */
enum boot_rule {
	BOOT_RULE_MENU,     /* no next boot and no host rule (or neither usable): the menu */
	BOOT_RULE_HOST,     /* [host NAME] boot = ENTRY */
	BOOT_RULE_NEXTBOOT, /* the one-shot next boot stored for this MAC */
	BOOT_RULE_PIN,      /* the permanent entry set through the API (store_pin_*) */
};
/* "menu", "host rule", "next boot", "permanent" */
const char *boot_rule_name(enum boot_rule r);

/*
 * The iPXE script for rq: its resolved entry, or the menu (after the netboot.xyz-style
 * files local-vars.ipxe, HOSTNAME-<name>.ipxe, MAC-<12 hex>.ipxe, menu.ipxe that exist in
 * the root). With consume, a one-shot next boot that the script embodies is cleared in the
 * store (pass false for HEAD requests). With consume the render is also reported
 * (boot_set_report_fn); without it (HEAD) it is not. A catalog `chain` to lpxelinux.0 is
 * preceded by `set 210:string ${base}/` so PXELINUX fetches pxelinux.cfg/ and its files
 * from pixied over HTTP. Returns 0 with a malloc'd text in *out (free it)
 * and its length, or a negative errno (-ENOMEM). rule (may be NULL) says which rule chose.
 */
int boot_render_ipxe(struct boot *b, const struct boot_request *rq, bool consume, char **out,
		     size_t *len, enum boot_rule *rule);

/* The PXELINUX config for rq (BIOS), same rules; entries PXELINUX cannot boot are left out.
 * Reported when consume is set, its files as paths beneath the root. */
int boot_render_pxelinux(struct boot *b, const struct boot_request *rq, bool consume, char **out,
			 size_t *len, enum boot_rule *rule);

/*
 * The files generator (files_set_generator(f, boot_files_gen, b)): pxelinux.cfg/NAME,
 * templates/NAME.tmpl, boot.ipxe, and syslinux modules / memdisk under their stable names.
 * Returns 1 with a malloc'd buffer, 0 when the path is not generated (the root or a loader
 * serves it), or -ENOENT to make a PXELINUX client move on to its next config name.
 */
int boot_files_gen(void *arg, const char *path, const struct files_client *who, char **data,
		   size_t *len);

/*
 * One-shot next boot (for the API): entry must name a catalog entry (an [entry] or an ISO
 * in iso-dir) — -ENOENT otherwise; -ENODEV without a store. clear of an unset MAC is 0.
 */
int boot_nextboot_set(struct boot *b, const uint8_t mac[6], const char *entry);
int boot_nextboot_clear(struct boot *b, const uint8_t mac[6]);

/*
 * Permanent entry of a MAC (for the API): resolution is next boot > permanent > [host]
 * boot = > menu. Same checks and errors as boot_nextboot_set.
 */
int boot_pin_set(struct boot *b, const uint8_t mac[6], const char *entry);
int boot_pin_clear(struct boot *b, const uint8_t mac[6]);

/*
 * What boot/ decided for a client, reported each time it renders a script or config for a
 * known MAC (not for HEAD, not for previews): clients/ turns it into the "boot-choice"
 * event and the files it waits for before calling the client booted. For the menu (entry
 * "") nfiles is 0 and means "the user chooses", not "nothing to fetch": do not declare
 * expectations then. The report and its strings are valid only during the call.
 */
enum boot_file_kind { BOOT_FILE_SCRIPT, BOOT_FILE_KERNEL, BOOT_FILE_INITRD, BOOT_FILE_ISO,
		      BOOT_FILE_LOADER, BOOT_FILE_OTHER };
#define BOOT_REPORT_FILES_MAX 10
struct boot_report {
	const uint8_t *mac;      /* 6 bytes */
	uint32_t ip;             /* requester, host order; 0 = unknown */
	const char *entry;       /* "" = the menu was rendered (the choice is the user's) */
	enum boot_rule rule;
	const char *host;        /* [host NAME] for this MAC, NULL = none */
	const char *files[BOOT_REPORT_FILES_MAX]; /* what the script fetches, in order: paths
						   * beneath the root or URLs as rendered */
	enum boot_file_kind kinds[BOOT_REPORT_FILES_MAX];
	size_t nfiles;           /* 0 with entry set = nothing to fetch (local, shell, reboot) */
};
typedef void (*boot_report_fn)(void *arg, const struct boot_report *r);
void boot_set_report_fn(struct boot *b, boot_report_fn fn, void *arg);

/*
 * A preview for the API/UI: the iPXE script rq would get now, without consuming a next boot
 * or reporting. Same returns as boot_render_ipxe.
 */
int boot_preview_ipxe(struct boot *b, const struct boot_request *rq, char **out, size_t *len,
		      enum boot_rule *rule);

/* Catalog entry i (0 .. boot_catalog_size()-1, config entries in file order, then the ISOs
 * of iso-dir): valid until the next call into boot/. NULL past the end. Read it with the
 * boot_item_* accessors of boot_render.h. */
struct boot_item;
const struct boot_item *boot_catalog_item(struct boot *b, size_t i);

/* Number of catalog entries (config entries + ISOs) after a rescan of iso-dir if needed. */
size_t boot_catalog_size(struct boot *b);

#endif
