/*
 * Unit tests for boot/ with its facts around it: a scratch root under /tmp, a real store.
 * Resolution order (one-shot next boot, permanent entry, host rule, menu; what is passed over
 * and why), the report to clients/ (entry, rule, files) and the preview that makes none, the
 * next boot consumed once and kept across a store reopen, the catalog from iso-dir and its
 * rescan, netboot.xyz files chained in order when they exist (a cached listing that sees files
 * appear and vanish), the PXELINUX config lookup
 * (which name gets the generated config, which ones answer "not found"), templates and the
 * syslinux files under stable names.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "boot/boot.h"
#include "boot/boot_render.h"
#include "conf/conf.h"
#include "core/util.h"
#include "files/files.h"
#include "store/store.h"

static char base[64], rootdir[128], statedir[128], sysdir[128];

static const uint8_t MAC_RULE[6] = {0x02, 0, 0, 0, 0, 0x01};  /* [host station-01] boot = debian */
static const uint8_t MAC_PLAIN[6] = {0x02, 0, 0, 0, 0, 0x02}; /* [host plain], no boot */
static const uint8_t MAC_BIOSRULE[6] = {0x02, 0, 0, 0, 0, 0x03}; /* boot = freedos (BIOS) */
static const uint8_t MAC_ISO[6] = {0x02, 0, 0, 0, 0, 0x04};      /* boot = b.iso */
static const uint8_t MAC_NONE[6] = {0x02, 0, 0, 0, 0, 0x99};     /* not a host */
#define CLIENT_IP 0x0A4D0065u                                    /* 10.77.0.101 -> 0A4D0065 */
#define SERVER_IP 0x0A4D0001u

static void path_of(char *out, size_t n, const char *rel)
{
	snprintf(out, n, "%s/%s", rootdir, rel);
}

static void put(const char *rel, const char *content)
{
	char p[512];
	path_of(p, sizeof(p), rel);
	/* make parents */
	for (char *s = p + strlen(rootdir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void del(const char *rel)
{
	char p[512];
	path_of(p, sizeof(p), rel);
	unlink(p);
}

static void rm_rf(const char *dir)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static struct conf *load_conf(const char *extra)
{
	char text[4096], err[2048];
	snprintf(text, sizeof(text),
		 "[server]\ninterfaces = eth0\nroot = %s\nstate = %s\n"
		 "%s"
		 "[host station-01]\nmac = 02:00:00:00:00:01\nboot = debian\n"
		 "[host plain]\nmac = 02:00:00:00:00:02\nhostname = plain-host\n"
		 "[host biosonly]\nmac = 02:00:00:00:00:03\nboot = freedos\n"
		 "[host isohost]\nmac = 02:00:00:00:00:04\nboot = b.iso\n"
		 "[menu]\ntitle = Test menu\ntimeout = 3s\niso-dir = iso\n"
		 "[entry debian]\nkernel = debian/linux\ninitrd = debian/initrd.gz\n"
		 "args = hostname=${hostname}\n"
		 "[entry freedos]\ntype = memdisk\nimage = iso/fdos.img\narch = bios\n"
		 "[entry shell]\ntype = shell\n"
		 "[entry local]\ntype = local\n"
		 "[entry same.iso]\ntype = reboot\n",
		 rootdir, statedir, extra ? extra : "");
	struct conf *c = conf_load_string(text, "test.conf", err, sizeof(err));
	if (!c)
		fail_msg("config: %s", err);
	return c;
}

struct fixture {
	struct conf *c;
	struct store *st;
	struct boot *b;
};

static void fx_open(struct fixture *fx, const char *extra)
{
	char err[512];
	fx->c = load_conf(extra);
	fx->st = store_open(statedir, false, err, sizeof(err));
	if (!fx->st)
		fail_msg("store: %s", err);
	fx->b = boot_new(fx->c, fx->st, err, sizeof(err));
	if (!fx->b)
		fail_msg("boot: %s", err);
	uint32_t a = SERVER_IP, m = 0xFFFFFF00u;
	boot_set_addresses(fx->b, &a, &m, 1);
	boot_set_syslinux_paths(fx->b, sysdir, "/nonexistent/memdisk");
}

static void fx_close(struct fixture *fx)
{
	boot_free(fx->b);
	store_close(fx->st);
	conf_free(fx->c);
}

static int setup_each(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/pxboot-XXXXXX");
	if (!mkdtemp(base))
		return -1;
	snprintf(rootdir, sizeof(rootdir), "%s/root", base);
	snprintf(statedir, sizeof(statedir), "%s/state", base);
	snprintf(sysdir, sizeof(sysdir), "%s/syslinux", base);
	mkdir(rootdir, 0755);
	mkdir(sysdir, 0755);
	char p[256];
	mkdir((snprintf(p, sizeof(p), "%s/iso", rootdir), p), 0755);
	put("iso/b.iso", "B");
	put("iso/a.iso", "A");
	put("iso/C.ISO", "C");
	put("iso/bad name.iso", "x");
	put("iso/same.iso", "x");
	put("iso/notes.txt", "x");
	mkdir((snprintf(p, sizeof(p), "%s/iso/dir.iso", rootdir), p), 0755);
	snprintf(p, sizeof(p), "%s/ldlinux.c32", sysdir);
	FILE *f = fopen(p, "w");
	fputs("LDLINUX", f);
	fclose(f);
	return 0;
}

static int teardown_each(void **state)
{
	(void)state;
	rm_rf(base);
	return 0;
}

static char *render(struct fixture *fx, const uint8_t *mac, unsigned family, bool consume,
		    enum boot_rule *rule)
{
	struct boot_request rq = {.client_ip = CLIENT_IP, .server_ip = SERVER_IP, .family = family};
	if (mac) {
		rq.has_mac = true;
		memcpy(rq.mac, mac, 6);
	}
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(boot_render_ipxe(fx->b, &rq, consume, &out, &len, rule), 0);
	assert_int_equal(strlen(out), len);
	return out;
}

static void put_lease(struct store *st, uint32_t ip, const uint8_t *mac, const char *hostname)
{
	struct store_lease l = {.ip = ip, .state = STORE_LEASE_BOUND, .expires = time_wall() + 600};
	memcpy(l.mac, mac, 6);
	str_copy(l.hostname, hostname ? hostname : "", sizeof(l.hostname));
	assert_int_equal(store_lease_put(st, &l), 0);
}

/* ---- resolution order ------------------------------------------------------------------- */

struct resolve_row {
	const char *name;
	const uint8_t *mac;
	const char *nextboot; /* stored before rendering, or NULL */
	const char *pin;      /* permanent entry stored before rendering, or NULL */
	unsigned family;
	enum boot_rule rule;
	const char *body; /* a line the script must hold */
	const char *why;  /* a piece of the first comment */
	bool nextboot_kept;
};

static const struct resolve_row resolve_rows[] = {
    {"next_boot_wins_over_host_rule", MAC_RULE, "shell", NULL, CONF_FAM_EFI64, BOOT_RULE_NEXTBOOT,
     "\nshell\n", "one-shot next boot for 02:00:00:00:00:01 = shell (now cleared)", false},
    {"host_rule_applies_without_next_boot", MAC_RULE, NULL, NULL, CONF_FAM_EFI64, BOOT_RULE_HOST,
     "\nkernel http://10.77.0.1/debian/linux initrd=initrd.gz hostname=station-01\n",
     "[host station-01] boot = debian", false},
    {"menu_for_a_host_without_rule", MAC_PLAIN, NULL, NULL, CONF_FAM_EFI64, BOOT_RULE_MENU,
     "\nchoose --timeout 3000 --default debian target && goto ${target}\n",
     "no next boot, permanent entry or host rule for 02:00:00:00:00:02", false},
    {"menu_for_an_unknown_machine", MAC_NONE, NULL, NULL, CONF_FAM_BIOS, BOOT_RULE_MENU,
     "\nitem freedos freedos\n", "no next boot, permanent entry or host rule for 02:00:00:00:00:99",
     false},
    {"menu_when_the_mac_is_unknown", NULL, NULL, NULL, CONF_FAM_BIOS, BOOT_RULE_MENU,
     "\n:pixied/menu\n", "the client's MAC address is unknown", false},
    {"next_boot_naming_no_entry_is_passed_over_and_kept", MAC_RULE, "gone", NULL, CONF_FAM_EFI64,
     BOOT_RULE_HOST, "\nkernel ", "next boot gone passed over (no such entry, kept)", true},
    {"next_boot_for_another_arch_is_passed_over_and_kept", MAC_PLAIN, "freedos", NULL,
     CONF_FAM_EFI64, BOOT_RULE_MENU, "\n:pixied/menu\n",
     "next boot freedos passed over (cannot boot with efi64, kept)", true},
    {"next_boot_for_this_arch_is_served", MAC_PLAIN, "freedos", NULL, CONF_FAM_BIOS,
     BOOT_RULE_NEXTBOOT, "\nkernel http://10.77.0.1/memdisk iso raw\n", "= freedos", false},
    {"host_rule_for_another_arch_falls_to_the_menu", MAC_BIOSRULE, NULL, NULL, CONF_FAM_EFI64,
     BOOT_RULE_MENU, "\n:pixied/menu\n",
     "[host biosonly] boot = freedos passed over (cannot boot with efi64)", false},
    {"host_rule_may_name_an_iso_from_iso_dir", MAC_ISO, NULL, NULL, CONF_FAM_EFI64, BOOT_RULE_HOST,
     "\nsanboot http://10.77.0.1/iso/b.iso\n", "[host isohost] boot = b.iso", false},
    {"next_boot_may_name_an_iso", MAC_PLAIN, "a.iso", NULL, CONF_FAM_BIOS, BOOT_RULE_NEXTBOOT,
     "\nsanboot http://10.77.0.1/iso/a.iso\n", "= a.iso", false},
    /* the permanent entry (pin): below a next boot, above the host rule and the menu */
    {"pin_wins_over_host_rule", MAC_RULE, NULL, "shell", CONF_FAM_EFI64, BOOT_RULE_PIN, "\nshell\n",
     "permanent entry for 02:00:00:00:00:01 = shell", false},
    {"pin_wins_over_the_menu", MAC_PLAIN, NULL, "local", CONF_FAM_BIOS, BOOT_RULE_PIN,
     "\nsanboot --no-describe --drive 0x80\n", "permanent entry for 02:00:00:00:00:02 = local",
     false},
    {"next_boot_wins_over_pin", MAC_RULE, "local", "shell", CONF_FAM_EFI64, BOOT_RULE_NEXTBOOT,
     "\nexit\n", "one-shot next boot for 02:00:00:00:00:01 = local (now cleared)", false},
    {"pin_naming_no_entry_is_passed_over_for_the_host_rule", MAC_RULE, NULL, "gone", CONF_FAM_EFI64,
     BOOT_RULE_HOST, "\nkernel ",
     "[host station-01] boot = debian; permanent entry gone passed over (no such entry)", false},
    {"pin_for_another_arch_is_passed_over_for_the_menu", MAC_PLAIN, NULL, "freedos", CONF_FAM_EFI64,
     BOOT_RULE_MENU, "\n:pixied/menu\n",
     "permanent entry freedos passed over (cannot boot with efi64)", false},
    {"pin_may_name_an_iso", MAC_NONE, NULL, "b.iso", CONF_FAM_EFI64, BOOT_RULE_PIN,
     "\nsanboot http://10.77.0.1/iso/b.iso\n", "= b.iso", false},
};

static void run_resolve_row(void **state)
{
	const struct resolve_row *r = *state;
	struct fixture fx;
	fx_open(&fx, NULL);
	if (r->nextboot)
		assert_int_equal(store_nextboot_set(fx.st, r->mac, r->nextboot), 0);
	if (r->pin)
		assert_int_equal(store_pin_set(fx.st, r->mac, r->pin), 0);
	enum boot_rule rule;
	char *s = render(&fx, r->mac, r->family, true, &rule);
	if (!strstr(s, r->body) || !strstr(s, r->why))
		fail_msg("script lacks %s / %s:\n%s", r->body, r->why, s);
	assert_int_equal(rule, r->rule);
	const char *first = strchr(s, '\n') + 1;
	assert_memory_equal(first, "# pixied: chosen by ", 20);
	assert_memory_equal(first + 20, boot_rule_name(r->rule), strlen(boot_rule_name(r->rule)));
	if (r->nextboot) {
		char buf[64];
		assert_int_equal(store_nextboot_get(fx.st, r->mac, buf, sizeof(buf)),
				 r->nextboot_kept ? 1 : 0);
	}
	if (r->pin) { /* never consumed */
		char buf[64];
		assert_int_equal(store_pin_get(fx.st, r->mac, buf, sizeof(buf)), 1);
		assert_string_equal(buf, r->pin);
	}
	free(s);
	fx_close(&fx);
}

static void test_next_boot_is_consumed_once(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	assert_int_equal(boot_nextboot_set(fx.b, MAC_RULE, "shell"), 0);
	enum boot_rule rule;
	free(render(&fx, MAC_RULE, CONF_FAM_EFI64, true, &rule));
	assert_int_equal(rule, BOOT_RULE_NEXTBOOT);
	free(render(&fx, MAC_RULE, CONF_FAM_EFI64, true, &rule));
	assert_int_equal(rule, BOOT_RULE_HOST);
	fx_close(&fx);
}

static void test_head_request_does_not_consume_next_boot(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	assert_int_equal(boot_nextboot_set(fx.b, MAC_PLAIN, "shell"), 0);
	enum boot_rule rule;
	char *s = render(&fx, MAC_PLAIN, CONF_FAM_EFI64, false, &rule);
	assert_int_equal(rule, BOOT_RULE_NEXTBOOT);
	assert_non_null(strstr(s, "(kept: not consumed by this request)"));
	free(s);
	free(render(&fx, MAC_PLAIN, CONF_FAM_EFI64, true, &rule));
	assert_int_equal(rule, BOOT_RULE_NEXTBOOT);
	free(render(&fx, MAC_PLAIN, CONF_FAM_EFI64, true, &rule));
	assert_int_equal(rule, BOOT_RULE_MENU);
	fx_close(&fx);
}

static void test_next_boot_survives_a_restart(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	assert_int_equal(boot_nextboot_set(fx.b, MAC_PLAIN, "local"), 0);
	fx_close(&fx);
	fx_open(&fx, NULL);
	enum boot_rule rule;
	char *s = render(&fx, MAC_PLAIN, CONF_FAM_BIOS, true, &rule);
	assert_int_equal(rule, BOOT_RULE_NEXTBOOT);
	assert_non_null(strstr(s, "\nsanboot --no-describe --drive 0x80\n"));
	free(s);
	fx_close(&fx);
	fx_open(&fx, NULL);
	free(render(&fx, MAC_PLAIN, CONF_FAM_BIOS, true, &rule));
	assert_int_equal(rule, BOOT_RULE_MENU);
	fx_close(&fx);
}

static void test_nextboot_api_checks_the_entry(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	assert_int_equal(boot_nextboot_set(fx.b, MAC_PLAIN, "nope"), -ENOENT);
	assert_int_equal(boot_nextboot_set(fx.b, MAC_PLAIN, "C.ISO"), 0);
	assert_int_equal(boot_nextboot_clear(fx.b, MAC_PLAIN), 0);
	assert_int_equal(boot_nextboot_clear(fx.b, MAC_PLAIN), 0);
	char buf[32];
	assert_int_equal(store_nextboot_get(fx.st, MAC_PLAIN, buf, sizeof(buf)), 0);
	fx_close(&fx);
	struct conf *c = load_conf(NULL);
	char err[256];
	struct boot *b = boot_new(c, NULL, err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(boot_nextboot_set(b, MAC_PLAIN, "shell"), -ENODEV);
	boot_free(b);
	conf_free(c);
}

static void test_pin_api_checks_the_entry_and_is_never_consumed(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	assert_int_equal(boot_pin_set(fx.b, MAC_PLAIN, "nope"), -ENOENT);
	assert_int_equal(boot_pin_set(fx.b, MAC_PLAIN, "a.iso"), 0);
	enum boot_rule rule;
	for (int i = 0; i < 2; i++) { /* served twice: still pinned */
		free(render(&fx, MAC_PLAIN, CONF_FAM_BIOS, true, &rule));
		assert_int_equal(rule, BOOT_RULE_PIN);
	}
	assert_int_equal(boot_pin_clear(fx.b, MAC_PLAIN), 0);
	assert_int_equal(boot_pin_clear(fx.b, MAC_PLAIN), 0);
	free(render(&fx, MAC_PLAIN, CONF_FAM_BIOS, true, &rule));
	assert_int_equal(rule, BOOT_RULE_MENU);
	fx_close(&fx);
	struct conf *c = load_conf(NULL);
	char err[256];
	struct boot *b = boot_new(c, NULL, err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(boot_pin_set(b, MAC_PLAIN, "shell"), -ENODEV);
	assert_int_equal(boot_pin_clear(b, MAC_PLAIN), -ENODEV);
	boot_free(b);
	conf_free(c);
}

/* ---- the report to clients/ and the preview ------------------------------------------------ */

#define MAX_REPORTS 4
struct got_report {
	uint8_t mac[6];
	uint32_t ip;
	char entry[64], host[64];
	enum boot_rule rule;
	size_t nfiles;
	char files[BOOT_REPORT_FILES_MAX][128];
	enum boot_file_kind kinds[BOOT_REPORT_FILES_MAX];
};
static struct got_report reports[MAX_REPORTS];
static size_t nreports;

static void on_report(void *arg, const struct boot_report *r)
{
	assert_ptr_equal(arg, &nreports);
	assert_true(nreports < MAX_REPORTS);
	struct got_report *g = &reports[nreports++];
	memset(g, 0, sizeof(*g));
	memcpy(g->mac, r->mac, 6);
	g->ip = r->ip;
	str_copy(g->entry, r->entry, sizeof(g->entry));
	str_copy(g->host, r->host ? r->host : "(null)", sizeof(g->host));
	g->rule = r->rule;
	g->nfiles = r->nfiles;
	for (size_t i = 0; i < r->nfiles; i++) {
		str_copy(g->files[i], r->files[i], sizeof(g->files[i]));
		g->kinds[i] = r->kinds[i];
	}
}

enum use { SERVE, HEAD, PREVIEW };

struct report_row {
	const char *name;
	const uint8_t *mac;
	const char *nextboot, *pin;
	unsigned family;
	enum use use;
	size_t nreports; /* 0 or 1 */
	const char *entry, *host;
	enum boot_rule rule;
	size_t nfiles;
	const char *files[3];
	enum boot_file_kind kinds[3];
};

static const struct report_row report_rows[] = {
    {"served_script_reports_host_rule_entry_and_its_files",
     MAC_RULE,
     NULL,
     NULL,
     CONF_FAM_EFI64,
     SERVE,
     1,
     "debian",
     "station-01",
     BOOT_RULE_HOST,
     2,
     {"http://10.77.0.1/debian/linux", "http://10.77.0.1/debian/initrd.gz"},
     {BOOT_FILE_KERNEL, BOOT_FILE_INITRD}},
    {"served_menu_reports_an_empty_entry_and_no_files",
     MAC_PLAIN,
     NULL,
     NULL,
     CONF_FAM_EFI64,
     SERVE,
     1,
     "",
     "plain",
     BOOT_RULE_MENU,
     0,
     {NULL},
     {0}},
    {"machine_without_host_section_reports_no_host",
     MAC_NONE,
     NULL,
     NULL,
     CONF_FAM_BIOS,
     SERVE,
     1,
     "",
     "(null)",
     BOOT_RULE_MENU,
     0,
     {NULL},
     {0}},
    {"next_boot_is_reported_with_its_iso",
     MAC_PLAIN,
     "a.iso",
     NULL,
     CONF_FAM_EFI64,
     SERVE,
     1,
     "a.iso",
     "plain",
     BOOT_RULE_NEXTBOOT,
     1,
     {"http://10.77.0.1/iso/a.iso"},
     {BOOT_FILE_ISO}},
    {"pin_is_reported_as_permanent",
     MAC_RULE,
     NULL,
     "freedos",
     CONF_FAM_BIOS,
     SERVE,
     1,
     "freedos",
     "station-01",
     BOOT_RULE_PIN,
     2,
     {"http://10.77.0.1/memdisk", "http://10.77.0.1/iso/fdos.img"},
     {BOOT_FILE_KERNEL, BOOT_FILE_INITRD}},
    {"local_boot_reports_nothing_to_fetch",
     MAC_PLAIN,
     NULL,
     "local",
     CONF_FAM_BIOS,
     SERVE,
     1,
     "local",
     "plain",
     BOOT_RULE_PIN,
     0,
     {NULL},
     {0}},
    {"head_request_reports_nothing",
     MAC_RULE,
     NULL,
     NULL,
     CONF_FAM_EFI64,
     HEAD,
     0,
     NULL,
     NULL,
     0,
     0,
     {NULL},
     {0}},
    {"preview_reports_nothing",
     MAC_RULE,
     "shell",
     NULL,
     CONF_FAM_EFI64,
     PREVIEW,
     0,
     NULL,
     NULL,
     0,
     0,
     {NULL},
     {0}},
    {"unknown_mac_reports_nothing",
     NULL,
     NULL,
     NULL,
     CONF_FAM_EFI64,
     SERVE,
     0,
     NULL,
     NULL,
     0,
     0,
     {NULL},
     {0}},
};

static void run_report_row(void **state)
{
	const struct report_row *r = *state;
	struct fixture fx;
	fx_open(&fx, NULL);
	nreports = 0;
	boot_set_report_fn(fx.b, on_report, &nreports);
	if (r->nextboot)
		assert_int_equal(boot_nextboot_set(fx.b, r->mac, r->nextboot), 0);
	if (r->pin)
		assert_int_equal(boot_pin_set(fx.b, r->mac, r->pin), 0);
	struct boot_request rq = {
	    .client_ip = CLIENT_IP, .server_ip = SERVER_IP, .family = r->family};
	if (r->mac) {
		rq.has_mac = true;
		memcpy(rq.mac, r->mac, 6);
	}
	char *out = NULL;
	size_t len = 0;
	if (r->use == PREVIEW)
		assert_int_equal(boot_preview_ipxe(fx.b, &rq, &out, &len, NULL), 0);
	else
		assert_int_equal(boot_render_ipxe(fx.b, &rq, r->use == SERVE, &out, &len, NULL), 0);
	free(out);
	assert_int_equal(nreports, r->nreports);
	if (r->nreports) {
		const struct got_report *g = &reports[0];
		assert_memory_equal(g->mac, r->mac, 6);
		assert_int_equal(g->ip, CLIENT_IP);
		assert_string_equal(g->entry, r->entry);
		assert_string_equal(g->host, r->host);
		assert_int_equal(g->rule, r->rule);
		assert_int_equal(g->nfiles, r->nfiles);
		for (size_t i = 0; i < r->nfiles; i++) {
			assert_string_equal(g->files[i], r->files[i]);
			assert_int_equal(g->kinds[i], r->kinds[i]);
		}
	}
	fx_close(&fx);
}

/* The preview is the script a GET would get, and it leaves the next boot in place. */
static void test_preview_matches_the_served_script_and_keeps_next_boot(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	assert_int_equal(boot_nextboot_set(fx.b, MAC_RULE, "shell"), 0);
	struct boot_request rq = {.client_ip = CLIENT_IP,
				  .server_ip = SERVER_IP,
				  .family = CONF_FAM_EFI64,
				  .has_mac = true};
	memcpy(rq.mac, MAC_RULE, 6);
	char *pv = NULL;
	size_t pvlen = 0;
	enum boot_rule rule;
	for (int i = 0; i < 2; i++) {
		free(pv);
		assert_int_equal(boot_preview_ipxe(fx.b, &rq, &pv, &pvlen, &rule), 0);
		assert_int_equal(rule, BOOT_RULE_NEXTBOOT);
	}
	char *s = render(&fx, MAC_RULE, CONF_FAM_EFI64, true, &rule);
	assert_int_equal(rule, BOOT_RULE_NEXTBOOT);
	/* the same script but for the note on consuming */
	const char *pv_body = strstr(pv, "\n# client:"), *s_body = strstr(s, "\n# client:");
	assert_non_null(pv_body);
	assert_non_null(s_body);
	assert_string_equal(pv_body, s_body);
	assert_non_null(strstr(pv, "(kept: not consumed by this request)"));
	free(pv);
	free(s);
	free(render(&fx, MAC_RULE, CONF_FAM_EFI64, true, &rule));
	assert_int_equal(rule, BOOT_RULE_HOST);
	fx_close(&fx);
}

/* A served PXELINUX config reports paths beneath the root (no "::", no URL). */
static void test_served_pxelinux_config_reports_root_paths(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	nreports = 0;
	boot_set_report_fn(fx.b, on_report, &nreports);
	struct files_client who = {.proto = "tftp", .addr4 = CLIENT_IP};
	char *data;
	size_t len;
	assert_int_equal(
	    boot_files_gen(fx.b, "pxelinux.cfg/01-02-00-00-00-00-01", &who, &data, &len), 1);
	free(data);
	assert_int_equal(nreports, 1);
	assert_string_equal(reports[0].entry, "debian");
	assert_int_equal(reports[0].rule, BOOT_RULE_HOST);
	assert_int_equal(reports[0].nfiles, 2);
	assert_string_equal(reports[0].files[0], "debian/linux");
	assert_string_equal(reports[0].files[1], "debian/initrd.gz");
	/* the names that answer "not found" report nothing */
	nreports = 0;
	assert_int_equal(boot_files_gen(fx.b, "pxelinux.cfg/00000000-0000-0000-0000-000000000000",
					&who, &data, &len),
			 -ENOENT);
	assert_int_equal(nreports, 0);
	fx_close(&fx);
}

/* ---- iso-dir ------------------------------------------------------------------------------ */

static void bump_dir_mtime(const char *rel)
{
	char p[512];
	path_of(p, sizeof(p), rel);
	static int64_t bump;
	bump += 7; /* a different mtime each time, even on a coarse clock */
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = time_wall() + bump}};
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static void test_iso_dir_adds_sorted_sanboot_entries(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	/* 5 entries + C.ISO a.iso b.iso; not: "bad name.iso", same.iso (an entry's name),
	 * notes.txt, the directory dir.iso */
	assert_int_equal(boot_catalog_size(fx.b), 8);
	char *s = render(&fx, MAC_PLAIN, CONF_FAM_EFI64, true, NULL);
	const char *c = strstr(s, "\nitem C.ISO C.ISO\n");
	const char *a = strstr(s, "\nitem a.iso a.iso\n");
	const char *b = strstr(s, "\nitem b.iso b.iso\n");
	assert_true(c && a && b && c < a && a < b);
	assert_true(strstr(s, "\nitem same.iso same.iso\n") < c); /* the [entry], first */
	assert_non_null(strstr(s, "\n:a.iso\nsanboot http://10.77.0.1/iso/a.iso\n"));
	assert_null(strstr(s, "bad"));
	assert_null(strstr(s, "dir.iso"));
	free(s);
	fx_close(&fx);
}

static void test_iso_dir_is_rescanned_when_it_changes(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	assert_int_equal(boot_catalog_size(fx.b), 8);
	put("iso/new.iso", "N");
	bump_dir_mtime("iso");
	assert_int_equal(boot_catalog_size(fx.b), 9);
	char *s = render(&fx, MAC_PLAIN, CONF_FAM_EFI64, true, NULL);
	assert_non_null(strstr(s, "\nitem new.iso new.iso\n"));
	free(s);
	del("iso/a.iso");
	del("iso/b.iso");
	bump_dir_mtime("iso");
	assert_int_equal(boot_catalog_size(fx.b), 7);
	/* a host rule naming a vanished ISO falls back to the menu and says so */
	enum boot_rule rule;
	s = render(&fx, MAC_ISO, CONF_FAM_EFI64, true, &rule);
	assert_int_equal(rule, BOOT_RULE_MENU);
	assert_non_null(strstr(s, "[host isohost] boot = b.iso passed over (no such entry)"));
	free(s);
	/* the folder removed altogether: config entries only */
	char p[256];
	snprintf(p, sizeof(p), "%s/iso", rootdir);
	rm_rf(p);
	assert_int_equal(boot_catalog_size(fx.b), 5);
	fx_close(&fx);
}

static void test_missing_iso_dir_gives_config_entries_only(void **state)
{
	(void)state;
	char p[256];
	snprintf(p, sizeof(p), "%s/iso", rootdir);
	rm_rf(p);
	struct fixture fx;
	fx_open(&fx, NULL);
	assert_int_equal(boot_catalog_size(fx.b), 5);
	fx_close(&fx);
}

static void test_reconfigure_swaps_the_catalog(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	struct conf *c2 = load_conf("[entry extra]\ntype = reboot\n");
	char err[256];
	assert_int_equal(boot_reconfigure(fx.b, c2, err, sizeof(err)), 0);
	conf_free(fx.c);
	fx.c = c2;
	assert_int_equal(boot_catalog_size(fx.b), 9);
	char *s = render(&fx, MAC_PLAIN, CONF_FAM_EFI64, true, NULL);
	assert_non_null(strstr(s, "\nitem extra extra\n"));
	free(s);
	fx_close(&fx);
}

static void test_reconfigure_to_a_missing_root_switches_and_says_why(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	char saved[128];
	snprintf(saved, sizeof(saved), "%s", rootdir);
	snprintf(rootdir, sizeof(rootdir), "%s/nope", base);
	struct conf *c2 = load_conf("[entry extra]\ntype = reboot\n");
	snprintf(rootdir, sizeof(rootdir), "%s", saved);
	char err[256] = "";
	assert_int_equal(boot_reconfigure(fx.b, c2, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nope"));
	conf_free(fx.c); /* the old config is gone: boot must not use it any more */
	fx.c = c2;
	assert_int_equal(boot_catalog_size(fx.b), 6); /* no iso-dir without a root */
	char *s = render(&fx, MAC_PLAIN, CONF_FAM_EFI64, true, NULL);
	assert_non_null(strstr(s, "\nitem extra extra\n"));
	free(s);
	fx_close(&fx);
}

/* ---- netboot.xyz files -------------------------------------------------------------------- */

struct nbx_row {
	const char *name;
	const char *files[4];
	const uint8_t *mac;
	const char *want; /* the chain lines, in order */
};

static const struct nbx_row nbx_rows[] = {
    {"no_netboot_files_no_chains", {NULL}, MAC_PLAIN, "#!ipxe\n# pixied"},
    {"all_four_are_chained_in_order",
     {"menu.ipxe", "MAC-020000000002.ipxe", "HOSTNAME-plain-host.ipxe", "local-vars.ipxe"},
     MAC_PLAIN,
     "\nchain --autofree local-vars.ipxe ||\nchain --autofree HOSTNAME-plain-host.ipxe ||\n"
     "chain --autofree MAC-020000000002.ipxe ||\nchain --autofree menu.ipxe ||\n"
     ":pixied/menu\n"},
    {"only_existing_files_are_chained",
     {"menu.ipxe", "MAC-020000000002.ipxe"},
     MAC_PLAIN,
     "\nchain --autofree MAC-020000000002.ipxe ||\nchain --autofree menu.ipxe ||\n"
     ":pixied/menu\n"},
    {"another_machines_mac_file_is_not_chained",
     {"MAC-020000000001.ipxe", "local-vars.ipxe"},
     MAC_PLAIN,
     "\nchain --autofree local-vars.ipxe ||\n:pixied/menu\n"},
    {"host_rule_skips_netboot_files",
     {"menu.ipxe", "local-vars.ipxe"},
     MAC_RULE,
     "\nkernel http://10.77.0.1/debian/linux"},
};

static void run_nbx_row(void **state)
{
	const struct nbx_row *r = *state;
	for (size_t i = 0; i < 4 && r->files[i]; i++)
		put(r->files[i], "#!ipxe\n");
	struct fixture fx;
	fx_open(&fx, NULL);
	char *s = render(&fx, r->mac, CONF_FAM_BIOS, true, NULL);
	if (!strstr(s, r->want))
		fail_msg("want:\n%s\ngot:\n%s", r->want, s);
	if (!r->files[0] || r->mac == MAC_RULE)
		assert_null(strstr(s, "chain --autofree"));
	free(s);
	fx_close(&fx);
}

static void test_lease_hostname_picks_hostname_file_and_is_escaped(void **state)
{
	(void)state;
	put("HOSTNAME-web7.ipxe", "#!ipxe\n");
	struct fixture fx;
	fx_open(&fx, NULL);
	put_lease(fx.st, CLIENT_IP, MAC_NONE, "web7");
	char *s = render(&fx, MAC_NONE, CONF_FAM_BIOS, true, NULL);
	assert_non_null(strstr(s, "\nchain --autofree HOSTNAME-web7.ipxe ||\n"));
	free(s);
	/* a client-chosen name with metacharacters: no file lookup, escaped in args */
	put_lease(fx.st, CLIENT_IP, MAC_NONE, "x ; reboot");
	assert_int_equal(boot_nextboot_set(fx.b, MAC_NONE, "debian"), 0);
	s = render(&fx, MAC_NONE, CONF_FAM_BIOS, true, NULL);
	assert_non_null(strstr(s, " hostname=x%20%3B%20reboot\n"));
	free(s);
	fx_close(&fx);
}

/* Set the root's mtime to an hour ago: a listing of it is then not "racy" and is kept. */
static void age_root(void)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = time_wall() - 3600}};
	assert_int_equal(utimensat(AT_FDCWD, rootdir, ts, 0), 0);
}

/* The lookups are cached (one listing of the root), yet files that appear or vanish are
 * seen by the next render: creating or deleting one changes the root's mtime. */
static void test_netboot_files_appearing_and_vanishing_are_seen_next_render(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	age_root();
	char *s = render(&fx, MAC_PLAIN, CONF_FAM_BIOS, true, NULL);
	assert_null(strstr(s, "chain --autofree"));
	free(s);
	put("MAC-020000000002.ipxe", "#!ipxe\n");
	bump_dir_mtime(".");
	s = render(&fx, MAC_PLAIN, CONF_FAM_BIOS, true, NULL);
	assert_non_null(strstr(s, "\nchain --autofree MAC-020000000002.ipxe ||\n"));
	free(s);
	put("menu.ipxe", "#!ipxe\n"); /* racy: same second as the last listing */
	s = render(&fx, MAC_PLAIN, CONF_FAM_BIOS, true, NULL);
	assert_non_null(strstr(s, "\nchain --autofree menu.ipxe ||\n"));
	free(s);
	del("MAC-020000000002.ipxe");
	s = render(&fx, MAC_PLAIN, CONF_FAM_BIOS, true, NULL);
	assert_null(strstr(s, "MAC-020000000002.ipxe"));
	assert_non_null(strstr(s, "\nchain --autofree menu.ipxe ||\n"));
	free(s);
	fx_close(&fx);
}

/* White-box proof that the listing is reused: a file slipped in behind the cache's back
 * (the root's mtime put back as it was) is not seen until the mtime moves. */
static void test_netboot_listing_is_reused_while_the_root_is_unchanged(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	age_root();
	struct stat before;
	assert_int_equal(stat(rootdir, &before), 0);
	free(render(&fx, MAC_PLAIN, CONF_FAM_BIOS, true, NULL));
	put("local-vars.ipxe", "#!ipxe\n");
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, before.st_mtim};
	assert_int_equal(utimensat(AT_FDCWD, rootdir, ts, 0), 0);
	char *s = render(&fx, MAC_PLAIN, CONF_FAM_BIOS, true, NULL);
	assert_null(strstr(s, "local-vars.ipxe")); /* cached listing */
	free(s);
	bump_dir_mtime(".");
	s = render(&fx, MAC_PLAIN, CONF_FAM_BIOS, true, NULL);
	assert_non_null(strstr(s, "\nchain --autofree local-vars.ipxe ||\n"));
	free(s);
	fx_close(&fx);
}

/* ---- PXELINUX config lookup --------------------------------------------------------------- */

#define UUID "b8945908-d6a6-41a9-611d-74a6ab80b83d"

struct pxl_row {
	const char *name;
	const char *root_files[3]; /* beneath pxelinux.cfg/ */
	const char *extra_conf;
	bool lease; /* CLIENT_IP leased to `mac` */
	const uint8_t *mac;
	const char *path;    /* requested */
	int want;            /* 1 generated, 0 root / not ours, -ENOENT move on */
	const char *content; /* a piece of the generated text */
};

static const struct pxl_row pxl_rows[] = {
    {"uuid_without_known_mac_moves_on",
     {NULL},
     NULL,
     false,
     MAC_PLAIN,
     "pxelinux.cfg/" UUID,
     -ENOENT,
     NULL},
    {"uuid_with_a_lease_gets_the_menu_at_once",
     {NULL},
     NULL,
     true,
     MAC_PLAIN,
     "pxelinux.cfg/" UUID,
     1,
     "\nUI menu.c32\n"},
    {"mac_file_gets_the_menu_when_root_has_nothing",
     {NULL},
     NULL,
     false,
     MAC_PLAIN,
     "pxelinux.cfg/01-02-00-00-00-00-02",
     1,
     "\nDEFAULT debian\n"},
    {"mac_file_gets_the_host_rule",
     {NULL},
     NULL,
     false,
     MAC_RULE,
     "pxelinux.cfg/01-02-00-00-00-00-01",
     1,
     "# pixied: chosen by host rule"},
    {"menu_client_moves_on_to_root_default",
     {"default"},
     NULL,
     false,
     MAC_PLAIN,
     "pxelinux.cfg/01-02-00-00-00-00-02",
     -ENOENT,
     NULL},
    {"menu_client_moves_past_hex_names_to_root_default",
     {"default"},
     NULL,
     false,
     MAC_PLAIN,
     "pxelinux.cfg/0A4D006",
     -ENOENT,
     NULL},
    {"root_default_is_served_from_the_root",
     {"default"},
     NULL,
     false,
     MAC_PLAIN,
     "pxelinux.cfg/default",
     0,
     NULL},
    {"menu_client_moves_on_to_root_hex_prefix",
     {"0A4D"},
     NULL,
     false,
     MAC_PLAIN,
     "pxelinux.cfg/0A4D00",
     -ENOENT,
     NULL},
    {"root_hex_prefix_is_served_from_the_root",
     {"0A4D"},
     NULL,
     false,
     MAC_PLAIN,
     "pxelinux.cfg/0A4D",
     0,
     NULL},
    {"shorter_names_after_root_hex_prefix_are_generated",
     {"0A4D"},
     NULL,
     false,
     MAC_PLAIN,
     "pxelinux.cfg/0A4",
     1,
     "\nUI menu.c32\n"},
    {"host_rule_beats_root_default",
     {"default", "0A4D"},
     NULL,
     false,
     MAC_RULE,
     "pxelinux.cfg/01-02-00-00-00-00-01",
     1,
     "\nDEFAULT debian\n"},
    {"root_mac_file_beats_generated_uuid",
     {"01-02-00-00-00-00-01"},
     NULL,
     true,
     MAC_RULE,
     "pxelinux.cfg/" UUID,
     -ENOENT,
     NULL},
    {"root_mac_file_is_served_from_the_root",
     {"01-02-00-00-00-00-01"},
     NULL,
     false,
     MAC_RULE,
     "pxelinux.cfg/01-02-00-00-00-00-01",
     0,
     NULL},
    {"generated_default_for_unknown_client",
     {NULL},
     NULL,
     false,
     NULL,
     "pxelinux.cfg/default",
     1,
     "the client's MAC address is unknown"},
    {"hex_name_of_another_address_is_not_ours",
     {NULL},
     NULL,
     false,
     MAC_PLAIN,
     "pxelinux.cfg/C0A8",
     0,
     NULL},
    {"lower_case_hex_is_not_a_pxelinux_name",
     {NULL},
     NULL,
     false,
     MAC_PLAIN,
     "pxelinux.cfg/0a4d0065",
     0,
     NULL},
    {"other_names_are_not_ours", {NULL}, NULL, false, MAC_PLAIN, "pxelinux.cfg/foo", 0, NULL},
    {"upper_case_mac_name_is_not_ours",
     {NULL},
     NULL,
     false,
     MAC_PLAIN,
     "pxelinux.cfg/01-02-00-00-00-00-0A",
     0,
     NULL},
    {"path_prefix_is_stripped",
     {NULL},
     "[dhcp]\npxelinux-pathprefix = pxe/\n",
     false,
     MAC_RULE,
     "pxe/pxelinux.cfg/01-02-00-00-00-00-01",
     1,
     "  KERNEL ::debian/linux\n"},
    {"url_path_prefix_is_stripped",
     {NULL},
     "[dhcp]\npxelinux-pathprefix = http://10.77.0.1/boot/\n",
     false,
     MAC_RULE,
     "boot/pxelinux.cfg/default",
     1,
     "\nLABEL debian\n"},
    {"configfile_option_209_is_generated",
     {NULL},
     "[dhcp]\npxelinux-configfile = pxelinux.cfg/pixied\n",
     false,
     MAC_RULE,
     "pxelinux.cfg/pixied",
     1,
     "\nDEFAULT debian\n"},
};

static void run_pxl_row(void **state)
{
	const struct pxl_row *r = *state;
	for (size_t i = 0; i < 3 && r->root_files[i]; i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "pxelinux.cfg/%s", r->root_files[i]);
		put(rel, "# from the root\n");
	}
	struct fixture fx;
	fx_open(&fx, r->extra_conf);
	if (r->lease)
		put_lease(fx.st, CLIENT_IP, r->mac, NULL);
	struct files_client who = {.proto = "tftp", .addr4 = CLIENT_IP};
	char *data = NULL;
	size_t len = 0;
	int ret = boot_files_gen(fx.b, r->path, &who, &data, &len);
	assert_int_equal(ret, r->want);
	if (ret == 1) {
		assert_non_null(data);
		assert_int_equal(strlen(data), len);
		if (r->content && !strstr(data, r->content))
			fail_msg("want %s in:\n%s", r->content, data);
		free(data);
	}
	fx_close(&fx);
}

static void test_pxelinux_consumes_next_boot(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	assert_int_equal(boot_nextboot_set(fx.b, MAC_PLAIN, "local"), 0);
	struct files_client who = {.proto = "tftp", .addr4 = CLIENT_IP};
	char *data;
	size_t len;
	/* the decision does not consume; only the served config does */
	assert_int_equal(
	    boot_files_gen(fx.b, "pxelinux.cfg/01-02-00-00-00-00-02", &who, &data, &len), 1);
	assert_non_null(strstr(data, "\nDEFAULT local\n"));
	free(data);
	assert_int_equal(
	    boot_files_gen(fx.b, "pxelinux.cfg/01-02-00-00-00-00-02", &who, &data, &len), 1);
	assert_non_null(strstr(data, "\nUI menu.c32\n"));
	free(data);
	fx_close(&fx);
}

/* ---- templates, boot.ipxe, syslinux files ------------------------------------------------ */

static void test_template_is_expanded_for_the_client(void **state)
{
	(void)state;
	put("templates/preseed.cfg.tmpl",
	    "d-i netcfg/get_hostname string ${hostname}\n"
	    "d-i preseed/late_command string wget ${base}/done/${mac} ${ip}; echo $HOME ${HOME}\n");
	struct fixture fx;
	fx_open(&fx, NULL);
	struct files_client who = {.proto = "http", .addr4 = CLIENT_IP, .has_mac = true};
	memcpy(who.mac, MAC_PLAIN, 6);
	char *data;
	size_t len;
	assert_int_equal(boot_files_gen(fx.b, "templates/preseed.cfg.tmpl", &who, &data, &len), 1);
	assert_string_equal(data, "d-i netcfg/get_hostname string plain-host\n"
				  "d-i preseed/late_command string wget "
				  "http://10.77.0.1/done/02:00:00:00:00:02 10.77.0.101; echo $HOME "
				  "${HOME}\n");
	free(data);
	/* over TFTP the MAC comes from the lease, the name is the lease's, escaped */
	put_lease(fx.st, CLIENT_IP, MAC_NONE, "evil$(reboot)");
	struct files_client tftp = {.proto = "tftp", .addr4 = CLIENT_IP};
	assert_int_equal(boot_files_gen(fx.b, "templates/preseed.cfg.tmpl", &tftp, &data, &len), 1);
	assert_non_null(strstr(data, "get_hostname string evil%24%28reboot%29\n"));
	assert_non_null(strstr(data, "/done/02:00:00:00:00:99 "));
	free(data);
	/* not a template, or missing: not generated (files answers) */
	assert_int_equal(boot_files_gen(fx.b, "templates/preseed.cfg", &who, &data, &len), 0);
	assert_int_equal(boot_files_gen(fx.b, "templates/none.tmpl", &who, &data, &len), 0);
	assert_int_equal(boot_files_gen(fx.b, "other/preseed.cfg.tmpl", &who, &data, &len), 0);
	fx_close(&fx);
}

static void test_template_symlink_out_of_root_is_not_read(void **state)
{
	(void)state;
	char p[512], target[256];
	snprintf(target, sizeof(target), "%s/secret.tmpl", base);
	FILE *f = fopen(target, "w");
	fputs("SECRET ${mac}", f);
	fclose(f);
	put("templates/keep", "");
	path_of(p, sizeof(p), "templates/escape.tmpl");
	assert_int_equal(symlink(target, p), 0);
	struct fixture fx;
	fx_open(&fx, NULL);
	char *data = NULL;
	size_t len;
	assert_int_equal(boot_files_gen(fx.b, "templates/escape.tmpl", NULL, &data, &len), 0);
	assert_null(data);
	fx_close(&fx);
}

static void test_boot_ipxe_over_tftp_uses_the_lease(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	put_lease(fx.st, CLIENT_IP, MAC_RULE, NULL);
	struct files_client who = {.proto = "tftp", .addr4 = CLIENT_IP};
	char *data;
	size_t len;
	assert_int_equal(boot_files_gen(fx.b, "boot.ipxe", &who, &data, &len), 1);
	assert_non_null(strstr(data, "# pixied: chosen by host rule: [host station-01]"));
	free(data);
	put("boot.ipxe", "#!ipxe\necho mine\n");
	assert_int_equal(boot_files_gen(fx.b, "boot.ipxe", &who, &data, &len), 0);
	fx_close(&fx);
}

static void test_syslinux_files_are_served_under_stable_names(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, "[dhcp]\npxelinux-pathprefix = pxe/\n");
	char *data;
	size_t len;
	assert_int_equal(boot_files_gen(fx.b, "ldlinux.c32", NULL, &data, &len), 1);
	assert_int_equal(len, 7);
	assert_memory_equal(data, "LDLINUX", 7);
	free(data);
	assert_int_equal(boot_files_gen(fx.b, "pxe/ldlinux.c32", NULL, &data, &len), 1);
	free(data);
	/* not installed here: not generated (the request ends as not found) */
	assert_int_equal(boot_files_gen(fx.b, "menu.c32", NULL, &data, &len), 0);
	assert_int_equal(boot_files_gen(fx.b, "memdisk", NULL, &data, &len), 0);
	/* the root's own copy wins */
	put("ldlinux.c32", "MINE");
	assert_int_equal(boot_files_gen(fx.b, "ldlinux.c32", NULL, &data, &len), 0);
	/* unrelated names are never ours */
	assert_int_equal(boot_files_gen(fx.b, "hello.txt", NULL, &data, &len), 0);
	assert_int_equal(boot_files_gen(fx.b, "sub/ldlinux.c32", NULL, &data, &len), 0);
	fx_close(&fx);
}

static void test_changed_syslinux_file_is_read_again(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	char *data;
	size_t len;
	assert_int_equal(boot_files_gen(fx.b, "ldlinux.c32", NULL, &data, &len), 1);
	free(data);
	char p[256];
	snprintf(p, sizeof(p), "%s/ldlinux.c32", sysdir);
	FILE *f = fopen(p, "w");
	fputs("LDLINUX v2", f);
	fclose(f);
	assert_int_equal(boot_files_gen(fx.b, "ldlinux.c32", NULL, &data, &len), 1);
	assert_int_equal(len, 10);
	free(data);
	fx_close(&fx);
}

static void test_server_address_follows_the_client_subnet(void **state)
{
	(void)state;
	struct fixture fx;
	fx_open(&fx, NULL);
	uint32_t a[2] = {0xC0A80A01u, SERVER_IP}, m[2] = {0xFFFFFF00u, 0xFFFFFF00u};
	boot_set_addresses(fx.b, a, m, 2);
	struct boot_request rq = {.client_ip = CLIENT_IP, .has_mac = true};
	memcpy(rq.mac, MAC_RULE, 6);
	char *s;
	size_t len;
	assert_int_equal(boot_render_ipxe(fx.b, &rq, true, &s, &len, NULL), 0);
	assert_non_null(strstr(s, "kernel http://10.77.0.1/debian/linux"));
	free(s);
	rq.client_ip = 0xC0A80A33u;
	rq.server_port = 8080;
	assert_int_equal(boot_render_ipxe(fx.b, &rq, true, &s, &len, NULL), 0);
	assert_non_null(strstr(s, "kernel http://192.168.10.1:8080/debian/linux"));
	free(s);
	fx_close(&fx);
}

int main(void)
{
	static struct CMUnitTest tests[128];
	size_t n = 0;
#define ROWS(arr, fn)                                                                              \
	for (size_t i_ = 0; i_ < sizeof(arr) / sizeof((arr)[0]); i_++)                             \
		tests[n++] = (struct CMUnitTest){(arr)[i_].name, fn, setup_each, teardown_each,    \
						 (void *)&(arr)[i_]};
#define ONE(fn) (tests[n++] = (struct CMUnitTest){#fn, fn, setup_each, teardown_each, NULL})
	ROWS(resolve_rows, run_resolve_row);
	ONE(test_next_boot_is_consumed_once);
	ONE(test_head_request_does_not_consume_next_boot);
	ONE(test_next_boot_survives_a_restart);
	ONE(test_nextboot_api_checks_the_entry);
	ONE(test_pin_api_checks_the_entry_and_is_never_consumed);
	ROWS(report_rows, run_report_row);
	ONE(test_preview_matches_the_served_script_and_keeps_next_boot);
	ONE(test_served_pxelinux_config_reports_root_paths);
	ONE(test_iso_dir_adds_sorted_sanboot_entries);
	ONE(test_iso_dir_is_rescanned_when_it_changes);
	ONE(test_missing_iso_dir_gives_config_entries_only);
	ONE(test_reconfigure_swaps_the_catalog);
	ONE(test_reconfigure_to_a_missing_root_switches_and_says_why);
	ROWS(nbx_rows, run_nbx_row);
	ONE(test_lease_hostname_picks_hostname_file_and_is_escaped);
	ONE(test_netboot_files_appearing_and_vanishing_are_seen_next_render);
	ONE(test_netboot_listing_is_reused_while_the_root_is_unchanged);
	ROWS(pxl_rows, run_pxl_row);
	ONE(test_pxelinux_consumes_next_boot);
	ONE(test_template_is_expanded_for_the_client);
	ONE(test_template_symlink_out_of_root_is_not_read);
	ONE(test_boot_ipxe_over_tftp_uses_the_lease);
	ONE(test_syslinux_files_are_served_under_stable_names);
	ONE(test_changed_syslinux_file_is_read_again);
	ONE(test_server_address_follows_the_client_subnet);
	return _cmocka_run_group_tests("boot_catalog", tests, n, NULL, NULL);
}
