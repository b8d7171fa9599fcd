/*
 * boot — see boot.h. The catalog (config entries + iso-dir), per-client resolution, the
 * generated files (iPXE script, PXELINUX configs, templates, syslinux modules). The text
 * itself is made by the pure renderers in boot_render.c; this file gathers the facts:
 * the store (one-shot next boot, leases), the config, and what exists beneath the root.
 */
#include "boot/boot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "boot/boot_render.h"
#include "core/log.h"
#include "core/util.h"
#include "files/files.h"
#include "store/store.h"

#define BOOT_MAX_ISOS     1024
#define BOOT_TEMPLATE_MAX (512u * 1024) /* a template larger than this is refused */
#define BOOT_SYSFILE_MAX  (4u << 20)
/* netboot.xyz-style names in the root: re-listed when the root's mtime changes, and at
 * least this often (a symlink's target can appear without touching the root) */
#define BOOT_NETBOOT_TTL_MS 2000
#define BOOT_NETBOOT_MAX    4096 /* more matching names than this: probe each time */

/* syslinux files served under stable names when the root has none of its own */
static const char *const sys_names[] = {
    "ldlinux.c32", "libcom32.c32", "libutil.c32", "menu.c32", "vesamenu.c32",
    "pxechn.c32",  "reboot.c32",   "chain.c32",   "memdisk",
};
#define NSYS ARRAY_SIZE(sys_names)

struct sysfile {
	char *data;
	size_t len;
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	bool loaded;
};

/*
 * The netboot.xyz-style files of the root (local-vars.ipxe, menu.ipxe, HOSTNAME-*.ipxe,
 * MAC-*.ipxe) as of the last listing, sorted. Valid while the root directory's identity and
 * mtime are unchanged and the listing is younger than BOOT_NETBOOT_TTL_MS; a listing taken
 * within a second of the root's mtime is "racy" (a file created in the same clock tick
 * leaves the mtime as it was) and is not trusted for the next render.
 */
struct nbcache {
	bool listed;   /* names hold a listing (usable by the render that took it) */
	bool valid;    /* ...and later renders may trust it too (not racy) */
	bool overflow; /* too many names: root_has() per probe instead */
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	uint64_t at_ms;
	char **names;
	size_t n;
};

struct boot {
	const struct conf *c;
	struct store *st;
	int rootfd;
	/* catalog: config entries in file order, then the ISOs sorted by name */
	struct boot_item *items;
	size_t nitems;
	bool built;
	bool iso_seen; /* iso-dir existed at the last scan */
	dev_t iso_dev;
	ino_t iso_ino;
	struct timespec iso_mtime;
	/* our addresses, for ${server} when the request does not say */
	uint32_t addrs[CONF_MAX_IFACES], masks[CONF_MAX_IFACES];
	size_t naddrs;
	char modules_dir[CONF_PATH_LEN];
	char memdisk_path[CONF_PATH_LEN];
	struct sysfile sys[NSYS];
	struct nbcache nbc;
	boot_report_fn report_fn;
	void *report_arg;
};

static void nbcache_drop(struct nbcache *nc);

static struct log_ratelimit rl_store = LOG_RATELIMIT_INIT(10000);
static struct log_ratelimit rl_scan = LOG_RATELIMIT_INIT(60000);

static int openat_beneath(int dirfd, const char *path, uint64_t flags)
{
	struct open_how how = {
	    .flags = flags,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* Is `path` a regular file beneath the root? */
static bool root_has(const struct boot *b, const char *path)
{
	if (b->rootfd < 0 || !path[0])
		return false;
	int fd = openat_beneath(b->rootfd, path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	close(fd);
	return ok;
}

/* The names iso-dir may contribute: what an [entry NAME] may be called. */
static bool name_ok(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len >= CONF_NAME_LEN)
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '-' || *n == '_' || *n == '.'))
			return false;
	return true;
}

/* ---- the catalog ------------------------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Read the *.iso names of the open directory dfd (consumed) into a sorted list. */
static size_t scan_isos(const struct boot *b, int dfd, char ***out)
{
	*out = NULL;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	char **names = NULL;
	size_t n = 0, cap = 0, skipped = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len <= 4 || strcasecmp(de->d_name + len - 4, ".iso"))
			continue;
		if (!name_ok(de->d_name) || conf_entry_by_name(b->c, de->d_name) ||
		    n == BOOT_MAX_ISOS) {
			skipped++;
			continue;
		}
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **p = realloc(names, nc * sizeof(*p));
			if (!p)
				break;
			names = p;
			cap = nc;
		}
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	closedir(d);
	if (skipped)
		log_rl(&rl_scan, LOG_LVL_WARN, "boot",
		       "iso-dir %s: %zu .iso file(s) left out (name not 1-63 of A-Z a-z 0-9 . _ -, "
		       "same as an [entry], or more than %d)",
		       b->c->menu.iso_dir, skipped, BOOT_MAX_ISOS);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	return n;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Bring the catalog up to date: rebuilt after a reconfigure and when iso-dir changed. */
static void catalog_refresh(struct boot *b)
{
	const struct conf *c = b->c;
	int dfd = -1;
	struct stat st = {0};
	if (c->menu.iso_dir[0] && b->rootfd >= 0) {
		dfd =
		    openat_beneath(b->rootfd, c->menu.iso_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0 && fstat(dfd, &st) < 0) {
			close(dfd);
			dfd = -1;
		}
	}
	bool seen = dfd >= 0;
	if (b->built && seen == b->iso_seen &&
	    (!seen || (st.st_dev == b->iso_dev && st.st_ino == b->iso_ino &&
		       st.st_mtim.tv_sec == b->iso_mtime.tv_sec &&
		       st.st_mtim.tv_nsec == b->iso_mtime.tv_nsec))) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	char **names = NULL;
	size_t niso = seen ? scan_isos(b, dfd, &names) : 0; /* closes dfd */
	struct boot_item *items = calloc(c->nentries + niso + 1, sizeof(*items));
	if (!items) {
		free_names(names, niso);
		return; /* keep the old catalog; try again on the next request */
	}
	for (size_t i = 0; i < c->nentries; i++)
		items[i].entry = &c->entries[i];
	for (size_t i = 0; i < niso; i++) {
		struct boot_item *it = &items[c->nentries + i];
		str_copy(it->iso_name, names[i], sizeof(it->iso_name));
		snprintf(it->iso_image, sizeof(it->iso_image), "%s/%s", c->menu.iso_dir, names[i]);
	}
	free_names(names, niso);
	free(b->items);
	b->items = items;
	b->nitems = c->nentries + niso;
	b->built = true;
	b->iso_seen = seen;
	b->iso_dev = st.st_dev;
	b->iso_ino = st.st_ino;
	b->iso_mtime = st.st_mtim;
	if (c->menu.iso_dir[0])
		log_debug("boot", "catalog entries=%zu isos=%zu iso_dir=%s", c->nentries, niso,
			  c->menu.iso_dir);
}

static const struct boot_item *find_item(const struct boot *b, const char *name)
{
	for (size_t i = 0; i < b->nitems; i++)
		if (!strcmp(boot_item_name(&b->items[i]), name))
			return &b->items[i];
	return NULL;
}

const struct boot_item *boot_catalog_item(struct boot *b, size_t i)
{
	return i < b->nitems ? &b->items[i] : NULL;
}

size_t boot_catalog_size(struct boot *b)
{
	catalog_refresh(b);
	return b->nitems;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static int open_root(const struct conf *c, char *err, size_t errlen)
{
	int fd = open(c->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "boot: [server] root = %s: %s", c->root, strerror(e));
		return -e;
	}
	return fd;
}

struct boot *boot_new(const struct conf *c, struct store *st, char *err, size_t errlen)
{
	struct boot *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "boot: out of memory");
		return NULL;
	}
	b->rootfd = open_root(c, err, errlen);
	if (b->rootfd < 0) {
		free(b);
		return NULL;
	}
	b->c = c;
	b->st = st;
	str_copy(b->modules_dir, "/usr/lib/syslinux/modules/bios", sizeof(b->modules_dir));
	str_copy(b->memdisk_path, "/usr/lib/syslinux/memdisk", sizeof(b->memdisk_path));
	catalog_refresh(b);
	return b;
}

static void sys_drop(struct boot *b)
{
	for (size_t i = 0; i < NSYS; i++) {
		free(b->sys[i].data);
		memset(&b->sys[i], 0, sizeof(b->sys[i]));
	}
}

void boot_free(struct boot *b)
{
	if (!b)
		return;
	if (b->rootfd >= 0)
		close(b->rootfd);
	sys_drop(b);
	nbcache_drop(&b->nbc);
	free(b->items);
	free(b);
}

int boot_reconfigure(struct boot *b, const struct conf *c, char *err, size_t errlen)
{
	/* Always switch: the caller frees the config it replaces, so keeping a pointer to it
	 * would be worse than running without the root until the next reconfigure. */
	int fd = open_root(c, err, errlen);
	if (b->rootfd >= 0)
		close(b->rootfd);
	b->rootfd = fd < 0 ? -1 : fd;
	nbcache_drop(&b->nbc);
	b->c = c;
	b->built = false; /* items point into the old config */
	free(b->items);
	b->items = NULL;
	b->nitems = 0;
	catalog_refresh(b);
	return fd < 0 ? fd : 0;
}

void boot_set_addresses(struct boot *b, const uint32_t *addrs, const uint32_t *masks, size_t n)
{
	b->naddrs = 0;
	for (size_t i = 0; i < n && b->naddrs < CONF_MAX_IFACES; i++) {
		if (!addrs[i])
			continue;
		b->addrs[b->naddrs] = addrs[i];
		b->masks[b->naddrs] = masks[i];
		b->naddrs++;
	}
}

void boot_set_syslinux_paths(struct boot *b, const char *modules_dir, const char *memdisk)
{
	if (modules_dir)
		str_copy(b->modules_dir, modules_dir, sizeof(b->modules_dir));
	if (memdisk)
		str_copy(b->memdisk_path, memdisk, sizeof(b->memdisk_path));
	sys_drop(b);
}

/* ---- facts about a client ------------------------------------------------------------------ */

/* The address a client should reach us on: [http] address or an interface address in the
 * client's subnet, else the first one we have. */
static uint32_t pick_server(const struct boot *b, uint32_t client)
{
	const struct conf *c = b->c;
	for (size_t i = 0; i < b->naddrs; i++) {
		if (!client || (client & b->masks[i]) != (b->addrs[i] & b->masks[i]))
			continue;
		for (size_t k = 0; k < c->http.naddrs; k++)
			if ((c->http.addrs[k] & b->masks[i]) == (b->addrs[i] & b->masks[i]))
				return c->http.addrs[k];
		return b->addrs[i];
	}
	if (c->http.naddrs)
		return c->http.addrs[0];
	return b->naddrs ? b->addrs[0] : 0;
}

/* A bound, unexpired lease for ip, or false. */
static bool lease_of(const struct boot *b, uint32_t ip, struct store_lease *l)
{
	if (!b->st || !ip)
		return false;
	int r = store_lease_by_ip(b->st, ip, l);
	if (r < 0)
		log_rl(&rl_store, LOG_LVL_WARN, "boot", "lease lookup failed: %s", strerror(-r));
	return r == 1 && l->state == STORE_LEASE_BOUND && l->expires > time_wall();
}

/* Fill what the request does not say: the MAC from the lease (TFTP), the host name. */
static void complete_request(const struct boot *b, struct boot_request *rq)
{
	struct store_lease l;
	bool have_lease = lease_of(b, rq->client_ip, &l);
	if (have_lease && !rq->has_mac) {
		memcpy(rq->mac, l.mac, 6);
		rq->has_mac = true;
	}
	if (rq->hostname[0])
		return;
	const struct conf_host *h = rq->has_mac ? conf_host_by_mac(b->c, rq->mac) : NULL;
	if (h)
		str_copy(rq->hostname, h->hostname[0] ? h->hostname : h->name,
			 sizeof(rq->hostname));
	else if (have_lease && !memcmp(l.mac, rq->mac, 6))
		str_copy(rq->hostname, l.hostname, sizeof(rq->hostname)); /* client-chosen */
}

struct varbufs {
	char server[IPV4_STRLEN], base[48], mac[MAC_STRLEN], ip[IPV4_STRLEN];
};

static void make_vars(const struct boot *b, const struct boot_request *rq, unsigned family,
		      struct varbufs *vb, struct boot_vars *v)
{
	memset(vb, 0, sizeof(*vb));
	memset(v, 0, sizeof(*v));
	uint32_t server = rq->server_ip ? rq->server_ip : pick_server(b, rq->client_ip);
	if (server) {
		fmt_ipv4(vb->server, server);
		uint16_t port = rq->server_port   ? rq->server_port
				: b->c->http.port ? b->c->http.port
						  : 80;
		if (port == 80)
			snprintf(vb->base, sizeof(vb->base), "http://%s", vb->server);
		else
			snprintf(vb->base, sizeof(vb->base), "http://%s:%u", vb->server, port);
	}
	if (rq->has_mac)
		fmt_mac(vb->mac, rq->mac);
	if (rq->client_ip)
		fmt_ipv4(vb->ip, rq->client_ip);
	v->server = vb->server;
	v->base = vb->base;
	v->mac = vb->mac;
	v->ip = vb->ip;
	v->hostname = rq->hostname;
	v->uuid = rq->uuid;
	v->arch = family ? conf_family_name(family) : "";
}

/* Append to a NUL-terminated string, truncating. */
static void __attribute__((format(printf, 3, 4)))
str_addf(char *dst, size_t size, const char *fmt, ...)
{
	size_t l = strnlen(dst, size);
	if (l + 1 >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst + l, size - l, fmt, ap);
	va_end(ap);
}

static const char *family_label(unsigned family, enum boot_format fmt)
{
	if (fmt == BOOT_FMT_PXELINUX)
		return "PXELINUX";
	return family ? conf_family_name(family) : "this architecture";
}

/*
 * One-shot next boot, then the permanent entry (pin), then the host rule, then the menu. A
 * next boot, pin or host rule naming
 * an entry this client cannot boot (unknown name, other architecture, not in this format)
 * is passed over and said in `why`; a passed-over next boot is kept, not consumed.
 * *nextboot is set when the choice is the stored next boot (to be consumed when served).
 */
static void resolve(struct boot *b, const struct boot_request *rq, unsigned family,
		    enum boot_format fmt, bool consume, struct boot_choice *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->rule = BOOT_RULE_MENU;
	if (!rq->has_mac) {
		snprintf(ch->why, sizeof(ch->why), "the client's MAC address is unknown");
		return;
	}
	char mac[MAC_STRLEN], note[BOOT_WHY_LEN] = "";
	fmt_mac(mac, rq->mac);
	if (b->st) {
		char nb[STORE_NEXTBOOT_ENTRY_MAX];
		int r = store_nextboot_get(b->st, rq->mac, nb, sizeof(nb));
		if (r < 0)
			log_rl(&rl_store, LOG_LVL_WARN, "boot",
			       "next boot lookup mac=%s failed: %s", mac, strerror(-r));
		if (r == 1) {
			const struct boot_item *it = find_item(b, nb);
			if (it && boot_item_visible(it, family, fmt)) {
				ch->rule = BOOT_RULE_NEXTBOOT;
				ch->item = it;
				snprintf(ch->why, sizeof(ch->why),
					 "one-shot next boot for %s = %s (%s)", mac, nb,
					 consume ? "now cleared"
						 : "kept: not consumed by this request");
				return;
			}
			if (it)
				str_addf(
				    note, sizeof(note),
				    "; next boot %.64s passed over (cannot boot with %s, kept)", nb,
				    family_label(family, fmt));
			else
				str_addf(note, sizeof(note),
					 "; next boot %.64s passed over (no such entry, kept)", nb);
		}
	}
	if (b->st) {
		char pin[STORE_NEXTBOOT_ENTRY_MAX];
		int r = store_pin_get(b->st, rq->mac, pin, sizeof(pin));
		if (r < 0)
			log_rl(&rl_store, LOG_LVL_WARN, "boot",
			       "permanent entry lookup mac=%s failed: %s", mac, strerror(-r));
		if (r == 1) {
			const struct boot_item *it = find_item(b, pin);
			if (it && boot_item_visible(it, family, fmt)) {
				ch->rule = BOOT_RULE_PIN;
				ch->item = it;
				str_addf(ch->why, sizeof(ch->why),
					 "permanent entry for %s = %.64s%s", mac, pin, note);
				return;
			}
			if (it)
				str_addf(
				    note, sizeof(note),
				    "; permanent entry %.64s passed over (cannot boot with %s)",
				    pin, family_label(family, fmt));
			else
				str_addf(note, sizeof(note),
					 "; permanent entry %.64s passed over (no such entry)",
					 pin);
		}
	}
	const struct conf_host *h = conf_host_by_mac(b->c, rq->mac);
	if (h && h->boot[0]) {
		const struct boot_item *it = find_item(b, h->boot);
		if (it && boot_item_visible(it, family, fmt)) {
			ch->rule = BOOT_RULE_HOST;
			ch->item = it;
			str_addf(ch->why, sizeof(ch->why), "[host %s] boot = %s%s", h->name,
				 h->boot, note);
			return;
		}
		str_addf(note, sizeof(note), "; [host %s] boot = %s passed over (%s%s)", h->name,
			 h->boot, it ? "cannot boot with " : "no such entry",
			 it ? family_label(family, fmt) : "");
	}
	str_addf(ch->why, sizeof(ch->why), "no next boot, permanent entry or host rule for %s%s",
		 mac, note);
}

static void consume_nextboot(struct boot *b, const struct boot_request *rq)
{
	int r = store_nextboot_clear(b->st, rq->mac);
	if (r < 0) {
		char mac[MAC_STRLEN];
		log_err("boot", "clearing next boot mac=%s failed: %s", fmt_mac(mac, rq->mac),
			strerror(-r));
	}
}

static const char *rule_token(enum boot_rule r)
{
	switch (r) {
	case BOOT_RULE_MENU: return "menu";
	case BOOT_RULE_HOST: return "host";
	case BOOT_RULE_NEXTBOOT: return "nextboot";
	case BOOT_RULE_PIN: return "permanent";
	}
	return "?";
}

static void log_choice(const char *what, const struct boot_request *rq, unsigned family,
		       const struct boot_choice *ch, bool preview)
{
	char mac[MAC_STRLEN] = "unknown";
	if (rq->has_mac)
		fmt_mac(mac, rq->mac);
	if (preview)
		log_debug("boot", "%s preview mac=%s arch=%s rule=%s entry=%s", what, mac,
			  family ? conf_family_name(family) : "unknown", rule_token(ch->rule),
			  ch->item ? boot_item_name(ch->item) : "-");
	else
		log_info("boot", "%s mac=%s arch=%s rule=%s entry=%s", what, mac,
			 family ? conf_family_name(family) : "unknown", rule_token(ch->rule),
			 ch->item ? boot_item_name(ch->item) : "-");
}

/* Tell clients/ (boot_set_report_fn) what rq's client was given and will fetch. */
static void report(struct boot *b, const struct boot_request *rq, const struct boot_choice *ch,
		   const struct boot_vars *v, unsigned family, enum boot_format fmt)
{
	if (!b->report_fn || !rq->has_mac)
		return;
	const struct conf_host *h = conf_host_by_mac(b->c, rq->mac);
	struct boot_report r = {
	    .mac = rq->mac,
	    .ip = rq->client_ip,
	    .entry = ch->item ? boot_item_name(ch->item) : "",
	    .rule = ch->rule,
	    .host = h ? h->name : NULL,
	};
	struct boot_files f = {0};
	if (ch->item) {
		boot_item_files(ch->item, v, family, fmt, &f);
		int e = boot_files_err(&f);
		if (e < 0) {
			/* without its files the report would say "nothing to fetch" */
			log_rl(&rl_store, LOG_LVL_WARN, "boot", "report for %s skipped: %s",
			       r.entry, strerror(-e));
			boot_files_free(&f);
			return;
		}
		for (size_t i = 0; i < f.n; i++) {
			r.files[i] = f.path[i].p;
			r.kinds[i] = f.kind[i];
		}
		r.nfiles = f.n;
	}
	b->report_fn(b->report_arg, &r);
	boot_files_free(&f);
}

static void menu_view(const struct boot *b, struct boot_menu *m)
{
	m->title = b->c->menu.title[0] ? b->c->menu.title : "pixied boot menu";
	m->default_name = b->c->menu.default_entry;
	m->timeout_ms = b->c->menu.timeout_ms;
	m->items = b->items;
	m->nitems = b->nitems;
}

/* ---- netboot.xyz-style files: a cached listing of the root ------------------------------- */

static bool nb_candidate(const char *n)
{
	size_t len = strlen(n);
	if (!strcmp(n, "local-vars.ipxe") || !strcmp(n, "menu.ipxe"))
		return true;
	if (len <= 5 || strcmp(n + len - 5, ".ipxe"))
		return false;
	return !strncmp(n, "HOSTNAME-", 9) || !strncmp(n, "MAC-", 4);
}

static void nbcache_drop(struct nbcache *nc)
{
	free_names(nc->names, nc->n);
	memset(nc, 0, sizeof(*nc));
}

/* Re-list the root when the cache cannot be trusted; on any failure the cache stays
 * invalid and nb_has() probes the file itself. */
static void nbcache_refresh(struct boot *b)
{
	struct nbcache *nc = &b->nbc;
	struct stat st;
	if (b->rootfd < 0 || fstat(b->rootfd, &st) < 0) {
		nbcache_drop(nc);
		return;
	}
	uint64_t now = time_mono_ms();
	if (nc->valid && nc->dev == st.st_dev && nc->ino == st.st_ino &&
	    nc->mtime.tv_sec == st.st_mtim.tv_sec && nc->mtime.tv_nsec == st.st_mtim.tv_nsec &&
	    now - nc->at_ms < BOOT_NETBOOT_TTL_MS)
		return;
	nbcache_drop(nc);
	int dfd = openat(b->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	bool overflow = false, failed = false;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!nb_candidate(de->d_name) || !root_has(b, de->d_name))
			continue;
		if (n == BOOT_NETBOOT_MAX) {
			overflow = true;
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **p = realloc(names, ncap * sizeof(*p));
			if (!p) {
				failed = true;
				break;
			}
			names = p;
			cap = ncap;
		}
		if (!(names[n] = strdup(de->d_name))) {
			failed = true;
			break;
		}
		n++;
	}
	closedir(d);
	if (failed) {
		free_names(names, n);
		return;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	nc->names = names;
	nc->n = n;
	nc->overflow = overflow;
	nc->dev = st.st_dev;
	nc->ino = st.st_ino;
	nc->mtime = st.st_mtim;
	nc->at_ms = now;
	nc->listed = true;
	/* racy: the root changed within the last second; list again on the next render */
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	nc->valid = wall.tv_sec - st.st_mtim.tv_sec > 1;
}

/* Does the root hold the netboot.xyz-style file `name` (one of nb_candidate's)? */
static bool nb_has(const struct boot *b, const char *name)
{
	const struct nbcache *nc = &b->nbc;
	if (!nc->listed || nc->overflow)
		return root_has(b, name);
	return nc->n && bsearch(&name, nc->names, nc->n, sizeof(*nc->names), cmp_names) != NULL;
}

/* netboot.xyz-style files that exist in the root right now. */
static void netboot_files(struct boot *b, const struct boot_request *rq, struct boot_netboot *nb)
{
	memset(nb, 0, sizeof(*nb));
	nbcache_refresh(b);
	nb->local_vars = nb_has(b, "local-vars.ipxe");
	if (rq->hostname[0] && name_ok(rq->hostname)) {
		snprintf(nb->hostname_file, sizeof(nb->hostname_file), "HOSTNAME-%s.ipxe",
			 rq->hostname);
		if (!nb_has(b, nb->hostname_file))
			nb->hostname_file[0] = '\0';
	}
	if (rq->has_mac) {
		const uint8_t *m = rq->mac;
		snprintf(nb->mac_file, sizeof(nb->mac_file), "MAC-%02x%02x%02x%02x%02x%02x.ipxe",
			 m[0], m[1], m[2], m[3], m[4], m[5]);
		if (!nb_has(b, nb->mac_file))
			nb->mac_file[0] = '\0';
	}
	nb->menu = nb_has(b, "menu.ipxe");
}

/* How a render is used: served (GET or TFTP), HEAD (no consume, no report), or a preview
 * for the API (no consume, no report, logged at debug). */
enum render_use { USE_SERVE, USE_HEAD, USE_PREVIEW };

static int render_ipxe(struct boot *b, const struct boot_request *rq_in, enum render_use use,
		       char **out, size_t *len, enum boot_rule *rule)
{
	struct boot_request rq = *rq_in;
	bool consume = use == USE_SERVE;
	catalog_refresh(b);
	complete_request(b, &rq);
	struct boot_choice ch;
	resolve(b, &rq, rq.family, BOOT_FMT_IPXE, consume, &ch);
	struct boot_netboot nb;
	if (!ch.item)
		netboot_files(b, &rq, &nb);
	struct varbufs vb;
	struct boot_vars v;
	make_vars(b, &rq, rq.family, &vb, &v);
	struct boot_menu m;
	menu_view(b, &m);
	struct boot_buf o;
	boot_buf_init(&o);
	boot_render_ipxe_script(&m, &ch, &v, rq.family, ch.item ? NULL : &nb, &o);
	int r = boot_buf_take(&o, out, len);
	if (r < 0)
		return r;
	if (ch.rule == BOOT_RULE_NEXTBOOT && consume)
		consume_nextboot(b, &rq);
	if (rule)
		*rule = ch.rule;
	log_choice("ipxe", &rq, rq.family, &ch, use == USE_PREVIEW);
	if (use == USE_SERVE)
		report(b, &rq, &ch, &v, rq.family, BOOT_FMT_IPXE);
	return 0;
}

int boot_render_ipxe(struct boot *b, const struct boot_request *rq, bool consume, char **out,
		     size_t *len, enum boot_rule *rule)
{
	return render_ipxe(b, rq, consume ? USE_SERVE : USE_HEAD, out, len, rule);
}

int boot_preview_ipxe(struct boot *b, const struct boot_request *rq, char **out, size_t *len,
		      enum boot_rule *rule)
{
	return render_ipxe(b, rq, USE_PREVIEW, out, len, rule);
}

void boot_set_report_fn(struct boot *b, boot_report_fn fn, void *arg)
{
	b->report_fn = fn;
	b->report_arg = arg;
}

static bool pxl_prefixed(const struct boot *b)
{
	return b->c->dhcp.pxelinux_pathprefix[0] != '\0';
}

int boot_render_pxelinux(struct boot *b, const struct boot_request *rq_in, bool consume, char **out,
			 size_t *len, enum boot_rule *rule)
{
	struct boot_request rq = *rq_in;
	catalog_refresh(b);
	complete_request(b, &rq);
	struct boot_choice ch;
	resolve(b, &rq, CONF_FAM_BIOS, BOOT_FMT_PXELINUX, consume, &ch);
	struct varbufs vb;
	struct boot_vars v;
	make_vars(b, &rq, CONF_FAM_BIOS, &vb, &v);
	struct boot_menu m;
	menu_view(b, &m);
	struct boot_buf o;
	boot_buf_init(&o);
	boot_render_pxelinux_cfg(&m, &ch, &v, pxl_prefixed(b), &o);
	int r = boot_buf_take(&o, out, len);
	if (r < 0)
		return r;
	if (ch.rule == BOOT_RULE_NEXTBOOT && consume)
		consume_nextboot(b, &rq);
	if (rule)
		*rule = ch.rule;
	log_choice("pxelinux", &rq, CONF_FAM_BIOS, &ch, false);
	if (consume)
		report(b, &rq, &ch, &v, CONF_FAM_BIOS, BOOT_FMT_PXELINUX);
	return 0;
}

/* ---- the files generator ----------------------------------------------------------------- */

static void request_from_client(const struct files_client *who, struct boot_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	if (!who)
		return;
	if (!who->is_v6)
		rq->client_ip = who->addr4;
	if (who->has_mac) {
		rq->has_mac = true;
		memcpy(rq->mac, who->mac, 6);
	}
}

/* The path prefix PXELINUX puts before every name (option 210), relative to our root. */
static const char *pxl_prefix(const struct boot *b)
{
	const char *p = b->c->dhcp.pxelinux_pathprefix;
	const char *s = strstr(p, "://");
	if (s) {
		p = strchr(s + 3, '/'); /* http://host[:port]/dir/ -> dir/ */
		if (!p)
			return "";
	}
	while (*p == '/')
		p++;
	return p;
}

/* The upper-case hex form of an address PXELINUX asks for: C0A8025B. */
static void hex_ip(uint32_t ip, char out[9])
{
	snprintf(out, 9, "%08X", ip);
}

static bool is_uuid_name(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		bool hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
		if (dash ? s[i] != '-' : !hex)
			return false;
	}
	return true;
}

static bool parse_01_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 20 || strncmp(s, "01-", 3))
		return false;
	for (size_t i = 0; i < 17; i++) {
		char c = s[3 + i];
		if (i % 3 == 2) {
			if (c != '-')
				return false;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			return false;
		}
	}
	return parse_mac(s + 3, mac) == 0;
}

/* pxelinux.cfg/<cand> exists beneath the root, under the client's prefix. */
static bool pxl_root_has(const struct boot *b, const char *pfx, size_t pfxlen, const char *cand)
{
	char p[FILES_PATH_MAX + 64];
	snprintf(p, sizeof(p), "%.*spxelinux.cfg/%s", (int)pfxlen, pfx, cand);
	return root_has(b, p);
}

/*
 * PXELINUX asks for pxelinux.cfg/<uuid>, 01-<mac>, the hex-IP prefixes C0A8025B .. C and
 * default, in that order, and takes the first that exists (pxelinux(1)). Files in the root
 * keep their place in that order; the generated config takes one of its own:
 * - for a machine with a next boot or host rule it is the machine's own file, like a
 *   01-<mac> file: served at the first name asked for, unless the root holds the client's
 *   uuid or 01-<mac> file further on;
 * - for a machine that gets the menu it stands in for `default`: served at the first name
 *   asked for only when the root holds none of the names still to come.
 * Until the MAC is known (a uuid request without a lease) the answer is "not found", so
 * the client moves on to 01-<mac>, which names it.
 * Returns 1 (generate), 0 (not a PXELINUX config name), -ENOENT (move on).
 */
enum { POS_UUID, POS_MAC, POS_HEX, POS_DEFAULT };

static int pxl_decide(struct boot *b, const char *pfx, size_t pfxlen, const char *name,
		      struct boot_request *rq)
{
	char hex[9] = "";
	if (rq->client_ip)
		hex_ip(rq->client_ip, hex);
	int pos;
	size_t hexlen = 0;
	uint8_t mac[6];
	if (is_uuid_name(name)) {
		pos = POS_UUID;
		str_copy(rq->uuid, name, sizeof(rq->uuid));
	} else if (parse_01_mac(name, mac)) {
		pos = POS_MAC;
		rq->has_mac = true;
		memcpy(rq->mac, mac, 6);
	} else if (!strcmp(name, "default")) {
		pos = POS_DEFAULT;
	} else {
		hexlen = strlen(name);
		if (!hex[0] || hexlen == 0 || hexlen > 8 || strncmp(name, hex, hexlen))
			return 0;
		pos = POS_HEX;
	}
	complete_request(b, rq);
	if (pos == POS_UUID && !rq->has_mac)
		return -ENOENT;
	char macname[24] = "";
	if (rq->has_mac)
		snprintf(macname, sizeof(macname), "01-%02x-%02x-%02x-%02x-%02x-%02x", rq->mac[0],
			 rq->mac[1], rq->mac[2], rq->mac[3], rq->mac[4], rq->mac[5]);

	catalog_refresh(b);
	struct boot_choice ch;
	resolve(b, rq, CONF_FAM_BIOS, BOOT_FMT_PXELINUX, false, &ch);
	bool own = ch.rule != BOOT_RULE_MENU;
	if (pos == POS_UUID && macname[0] && pxl_root_has(b, pfx, pfxlen, macname))
		return -ENOENT;
	if (own)
		return 1;
	/* the menu: only where no file of the root is still to come */
	if (hex[0] && pos <= POS_HEX) {
		size_t from = pos == POS_HEX ? hexlen - 1 : 8;
		for (size_t l = from; l >= 1; l--) {
			char h[9];
			memcpy(h, hex, l);
			h[l] = '\0';
			if (pxl_root_has(b, pfx, pfxlen, h))
				return -ENOENT;
		}
	}
	if (pos < POS_DEFAULT && pxl_root_has(b, pfx, pfxlen, "default"))
		return -ENOENT;
	return 1;
}

static int gen_pxelinux(struct boot *b, const char *path, const char *pfx, size_t pfxlen,
			const char *name, bool configfile, const struct files_client *who,
			char **data, size_t *len)
{
	if (root_has(b, path))
		return 0;
	struct boot_request rq;
	request_from_client(who, &rq);
	if (!configfile) {
		int r = pxl_decide(b, pfx, pfxlen, name, &rq);
		if (r <= 0)
			return r;
	}
	int r = boot_render_pxelinux(b, &rq, true, data, len, NULL);
	return r < 0 ? r : 1;
}

static int read_all(int fd, size_t max, char **data, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	size_t n = (size_t)st.st_size;
	char *p = malloc(n + 1);
	if (!p)
		return -ENOMEM;
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, p + got, n - got, (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = -errno;
			free(p);
			return e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	p[got] = '\0';
	*data = p;
	*len = got;
	return 0;
}

static int gen_template(struct boot *b, const char *path, const struct files_client *who,
			char **data, size_t *len)
{
	int fd = openat_beneath(b->rootfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return 0; /* let files answer (not found / refused) */
	char *text = NULL;
	size_t n = 0;
	int r = read_all(fd, BOOT_TEMPLATE_MAX, &text, &n);
	close(fd);
	if (r < 0) {
		log_rl(&rl_scan, LOG_LVL_WARN, "boot", "template %s: %s", path,
		       r == -EFBIG ? "larger than 512 KiB" : strerror(-r));
		return r == -EFBIG ? -EACCES : r;
	}
	struct boot_request rq;
	request_from_client(who, &rq);
	complete_request(b, &rq);
	struct varbufs vb;
	struct boot_vars v;
	make_vars(b, &rq, 0, &vb, &v);
	struct boot_buf o;
	boot_buf_init(&o);
	boot_expand(&o, text, n, &v);
	free(text);
	r = boot_buf_take(&o, data, len);
	return r < 0 ? r : 1;
}

/* A syslinux file under its stable name: read once, re-read when it changes on disk. */
static int gen_sysfile(struct boot *b, size_t i, char **data, size_t *len)
{
	char path[CONF_PATH_LEN * 2];
	if (!strcmp(sys_names[i], "memdisk"))
		str_copy(path, b->memdisk_path, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s/%s", b->modules_dir, sys_names[i]);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return 0; /* not installed: the request ends as "not found" */
	struct sysfile *s = &b->sys[i];
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return 0;
	}
	if (!s->loaded || s->dev != st.st_dev || s->ino != st.st_ino ||
	    s->mtime.tv_sec != st.st_mtim.tv_sec || s->mtime.tv_nsec != st.st_mtim.tv_nsec ||
	    s->len != (size_t)st.st_size) {
		char *p = NULL;
		size_t n = 0;
		int r = read_all(fd, BOOT_SYSFILE_MAX, &p, &n);
		if (r < 0) {
			close(fd);
			return r == -EFBIG ? 0 : r;
		}
		free(s->data);
		s->data = p;
		s->len = n;
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		s->mtime = st.st_mtim;
		s->loaded = true;
	}
	close(fd);
	char *copy = malloc(s->len ? s->len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, s->data, s->len);
	*data = copy;
	*len = s->len;
	return 1;
}

int boot_files_gen(void *arg, const char *path, const struct files_client *who, char **data,
		   size_t *len)
{
	struct boot *b = arg;
	size_t plen = strlen(path);
	if (!strncmp(path, "templates/", 10) && plen > 15 && !strcmp(path + plen - 5, ".tmpl"))
		return gen_template(b, path, who, data, len);
	if (!strcmp(path, "boot.ipxe")) {
		if (root_has(b, path))
			return 0;
		struct boot_request rq;
		request_from_client(who, &rq);
		int r = boot_render_ipxe(b, &rq, true, data, len, NULL);
		return r < 0 ? r : 1;
	}

	/* PXELINUX names, after the path prefix it puts in front (option 210) */
	const char *pfx = pxl_prefix(b);
	size_t pfxlen = strlen(pfx);
	const char *p = path;
	if (pfxlen && !strncmp(path, pfx, pfxlen))
		p = path + pfxlen;
	else
		pfxlen = 0;
	const char *cf = b->c->dhcp.pxelinux_configfile;
	while (*cf == '/')
		cf++;
	if (cf[0] && !strstr(cf, "://") && !strcmp(p, cf))
		return gen_pxelinux(b, path, pfx, pfxlen, p, true, who, data, len);
	if (!strncmp(p, "pxelinux.cfg/", 13) && p[13])
		return gen_pxelinux(b, path, pfx, pfxlen, p + 13, false, who, data, len);
	for (size_t i = 0; i < NSYS; i++)
		if (!strcmp(p, sys_names[i]))
			return root_has(b, path) ? 0 : gen_sysfile(b, i, data, len);
	return 0;
}

/* ---- one-shot next boot (API) ------------------------------------------------------------- */

int boot_nextboot_set(struct boot *b, const uint8_t mac[6], const char *entry)
{
	if (!b->st)
		return -ENODEV;
	catalog_refresh(b);
	if (!find_item(b, entry))
		return -ENOENT;
	return store_nextboot_set(b->st, mac, entry);
}

int boot_nextboot_clear(struct boot *b, const uint8_t mac[6])
{
	if (!b->st)
		return -ENODEV;
	return store_nextboot_clear(b->st, mac);
}

/* ---- permanent entry (API) ---------------------------------------------------------------- */

int boot_pin_set(struct boot *b, const uint8_t mac[6], const char *entry)
{
	if (!b->st)
		return -ENODEV;
	catalog_refresh(b);
	if (!find_item(b, entry))
		return -ENOENT;
	return store_pin_set(b->st, mac, entry);
}

int boot_pin_clear(struct boot *b, const uint8_t mac[6])
{
	if (!b->st)
		return -ENODEV;
	return store_pin_clear(b->st, mac);
}
