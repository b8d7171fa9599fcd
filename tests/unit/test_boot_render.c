/*
 * Unit tests for boot/render (pure): ${variable} expansion and its escaping (a host name
 * full of shell and iPXE metacharacters cannot add a command to a script), the /boot.ipxe
 * query string, the architecture families, and both renderers against golden files — one
 * per entry kind and format, plus the menus. Run with PIXIED_UPDATE_GOLDEN=1 to rewrite
 * the golden files after an intended change (then read the diff).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/boot_render.h"
#include "conf/conf.h"

#ifndef PIXIED_SOURCE_ROOT
#define PIXIED_SOURCE_ROOT "."
#endif

static const char catalog_conf[] =
    "[server]\n"
    "interfaces = eth0\n"
    "root = /tmp\n"
    "[menu]\n"
    "title = Lab boot menu\n"
    "default = debian\n"
    "timeout = 5s\n"
    "[entry debian]\n"
    "label = Debian 12 installer\n"
    "kernel = debian/linux\n"
    "initrd = debian/initrd.gz firmware.cpio.gz\n"
    "args = auto=true url=${base}/templates/preseed.cfg.tmpl hostname=${hostname} "
    "console=ttyS0\n"
    "[entry nbxyz]\n"
    "label = netboot.xyz\n"
    "file-bios = netboot.xyz.kpxe\n"
    "file-efi64 = netboot.xyz.efi\n"
    "file-arm64 = netboot.xyz-arm64.efi\n"
    "[entry live]\n"
    "label = Live ISO over HTTP\n"
    "image = iso/live.iso\n"
    "[entry freedos]\n"
    "type = memdisk\n"
    "label = FreeDOS (memdisk)\n"
    "image = iso/fdos.iso\n"
    "arch = bios\n"
    "[entry local]\n"
    "type = local\n"
    "label = Boot from the local disk\n"
    "[entry shell]\n"
    "type = shell\n"
    "label = iPXE shell\n"
    "[entry reboot]\n"
    "type = reboot\n"
    "[entry pxelinux]\n"
    "label = PXELINUX menu over HTTP\n"
    "file-bios = syslinux/lpxelinux.0\n"
    "[entry efi-only]\n"
    "kernel = http://mirror.example/efi/vmlinuz\n"
    "arch = efi64 arm64\n";

static struct conf *cat;
static struct boot_item items[16];
static size_t nitems;

static int setup(void **state)
{
	(void)state;
	char err[2048];
	cat = conf_load_string(catalog_conf, "test.conf", err, sizeof(err));
	if (!cat) {
		fprintf(stderr, "%s", err);
		return -1;
	}
	for (size_t i = 0; i < cat->nentries; i++)
		items[nitems++].entry = &cat->entries[i];
	/* and one ISO as iso-dir contributes it */
	snprintf(items[nitems].iso_name, sizeof(items[0].iso_name), "debian-12.iso");
	snprintf(items[nitems].iso_image, sizeof(items[0].iso_image), "iso/debian-12.iso");
	nitems++;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	conf_free(cat);
	return 0;
}

static const struct boot_item *item(const char *name)
{
	for (size_t i = 0; i < nitems; i++)
		if (!strcmp(boot_item_name(&items[i]), name))
			return &items[i];
	fail_msg("no item %s", name);
	return NULL;
}

static struct boot_vars lab_vars(unsigned family)
{
	return (struct boot_vars){
	    .server = "10.77.0.1",
	    .base = "http://10.77.0.1",
	    .mac = "52:54:00:12:34:56",
	    .ip = "10.77.0.101",
	    .hostname = "station-01",
	    .uuid = "b8945908-d6a6-41a9-611d-74a6ab80b83d",
	    .arch = family ? conf_family_name(family) : "",
	};
}

static struct boot_menu lab_menu(void)
{
	return (struct boot_menu){.title = cat->menu.title,
				  .default_name = cat->menu.default_entry,
				  .timeout_ms = cat->menu.timeout_ms,
				  .items = items,
				  .nitems = nitems};
}

static char *expand(const char *text, const struct boot_vars *v)
{
	struct boot_buf b;
	boot_buf_init(&b);
	boot_expand(&b, text, strlen(text), v);
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(boot_buf_take(&b, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	return out;
}

/* ---- expansion ------------------------------------------------------------------------ */

struct expand_row {
	const char *name;
	const char *text;
	const char *hostname;
	const char *want;
};

static const struct expand_row expand_rows[] = {
    {"every_known_variable_is_replaced",
     "${server} ${base} ${mac} ${ip} ${hostname} ${uuid} ${arch}", "station-01",
     "10.77.0.1 http://10.77.0.1 52:54:00:12:34:56 10.77.0.101 station-01 "
     "b8945908-d6a6-41a9-611d-74a6ab80b83d efi64"},
    {"unknown_variable_is_left_for_ipxe", "${net0/ip} ${buildarch} ${MAC}", "h",
     "${net0/ip} ${buildarch} ${MAC}"},
    {"ipxe_setting_with_type_is_left_alone", "MAC-${mac:hexraw}.ipxe", "h",
     "MAC-${mac:hexraw}.ipxe"},
    {"unterminated_brace_is_copied", "a ${mac", "h", "a ${mac"},
    {"lone_dollar_is_copied", "$ $$ ${} ${", "h", "$ $$ ${} ${"},
    {"adjacent_variables", "${mac}${ip}", "h", "52:54:00:12:34:5610.77.0.101"},
    {"empty_value_expands_to_nothing", "x=${hostname}.", "", "x=."},
    {"space_in_value_is_escaped", "h=${hostname}", "my host", "h=my%20host"},
    {"newline_in_value_is_escaped", "h=${hostname}", "a\nreboot", "h=a%0Areboot"},
    {"carriage_return_is_escaped", "h=${hostname}", "a\r", "h=a%0D"},
    {"ipxe_or_operator_is_escaped", "h=${hostname}", "||", "h=%7C%7C"},
    {"ipxe_and_semicolon_are_escaped", "h=${hostname}", "&&;", "h=%26%26%3B"},
    {"ipxe_setting_in_value_is_not_expanded", "h=${hostname}", "${net0/mac}",
     "h=%24%7Bnet0/mac%7D"},
    {"variable_name_in_value_is_not_expanded_again", "h=${hostname}", "${mac}", "h=%24%7Bmac%7D"},
    {"comment_hash_is_escaped", "h=${hostname}", "#x", "h=%23x"},
    {"line_continuation_backslash_is_escaped", "h=${hostname}", "x\\", "h=x%5C"},
    {"quotes_and_shell_chars_are_escaped", "h=${hostname}", "'\"`$()<>",
     "h=%27%22%60%24%28%29%3C%3E"},
    {"percent_itself_is_escaped", "h=${hostname}", "50%", "h=50%25"},
    {"high_bytes_are_escaped", "h=${hostname}", "\xc3\xa9", "h=%C3%A9"},
    {"ordinary_host_name_is_unchanged", "h=${hostname}", "web-01.lab_a", "h=web-01.lab_a"},
};

static void run_expand_row(void **state)
{
	const struct expand_row *r = *state;
	struct boot_vars v = lab_vars(CONF_FAM_EFI64);
	v.hostname = r->hostname;
	char *out = expand(r->text, &v);
	assert_string_equal(out, r->want);
	free(out);
}

static void test_null_values_expand_to_nothing(void **state)
{
	(void)state;
	struct boot_vars v = {0};
	char *out = expand("[${server}${base}${mac}${ip}${hostname}${uuid}${arch}]", &v);
	assert_string_equal(out, "[]");
	free(out);
}

/*
 * The injection contract: whatever the host name, the script has the same lines as with
 * an ordinary one, and the value stays inside the token it was written in.
 */
static const char *const hostile_names[] = {
    "x\nreboot",   "x || reboot",      "x ; reboot",
    "x && reboot", "${reboot}",        "x\\",
    "#",           "x\r\nshell",       "\n:debian\nshell\n",
    "a b c d e f", "goto pixied/menu", "\"; reboot; echo \"",
    "$(reboot)",   "`reboot`",         "x\tkernel http://evil/x",
};

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_hostile_hostname_cannot_add_ipxe_commands(void **state)
{
	(void)state;
	struct boot_menu m = lab_menu();
	struct boot_choice ch = {.rule = BOOT_RULE_HOST, .item = item("debian")};
	struct boot_vars v = lab_vars(CONF_FAM_EFI64);
	struct boot_buf ref;
	boot_buf_init(&ref);
	assert_int_equal(boot_render_ipxe_script(&m, &ch, &v, CONF_FAM_EFI64, NULL, &ref), 0);
	size_t ref_lines = count_lines(ref.p);
	for (size_t i = 0; i < sizeof(hostile_names) / sizeof(hostile_names[0]); i++) {
		v.hostname = hostile_names[i];
		struct boot_buf o;
		boot_buf_init(&o);
		assert_int_equal(boot_render_ipxe_script(&m, &ch, &v, CONF_FAM_EFI64, NULL, &o), 0);
		assert_int_equal(count_lines(o.p), ref_lines);
		const char *kl = strstr(o.p, "\nkernel ");
		assert_non_null(kl);
		const char *h = strstr(kl, " hostname=");
		assert_non_null(h);
		/* the value runs to the next space: only safe bytes and %XX */
		for (const char *p = h + 10; *p && *p != ' ' && *p != '\n'; p++)
			assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					   "0123456789._:/-%",
					   *p) != NULL);
		assert_null(strstr(o.p, "reboot\n"));
		assert_null(strstr(o.p, "||"));
		assert_null(strstr(o.p, "${reboot}"));
		boot_buf_free(&o);
	}
	boot_buf_free(&ref);
}

static void test_hostile_hostname_cannot_add_pxelinux_lines(void **state)
{
	(void)state;
	struct boot_menu m = lab_menu();
	struct boot_choice ch = {.rule = BOOT_RULE_HOST, .item = item("debian")};
	struct boot_vars v = lab_vars(CONF_FAM_BIOS);
	struct boot_buf ref;
	boot_buf_init(&ref);
	assert_int_equal(boot_render_pxelinux_cfg(&m, &ch, &v, false, &ref), 0);
	for (size_t i = 0; i < sizeof(hostile_names) / sizeof(hostile_names[0]); i++) {
		v.hostname = hostile_names[i];
		struct boot_buf o;
		boot_buf_init(&o);
		assert_int_equal(boot_render_pxelinux_cfg(&m, &ch, &v, false, &o), 0);
		assert_int_equal(count_lines(o.p), count_lines(ref.p));
		boot_buf_free(&o);
	}
	boot_buf_free(&ref);
}

static void test_why_text_with_newline_stays_one_comment_line(void **state)
{
	(void)state;
	struct boot_menu m = lab_menu();
	struct boot_choice ch = {.rule = BOOT_RULE_NEXTBOOT, .item = item("shell")};
	snprintf(ch.why, sizeof(ch.why), "evil\nreboot\r\n");
	struct boot_vars v = lab_vars(CONF_FAM_EFI64);
	struct boot_buf o;
	boot_buf_init(&o);
	assert_int_equal(boot_render_ipxe_script(&m, &ch, &v, CONF_FAM_EFI64, NULL, &o), 0);
	assert_string_equal(o.p, "#!ipxe\n"
				 "# pixied: chosen by next boot: evil?reboot??\n"
				 "# client: mac=52:54:00:12:34:56 ip=10.77.0.101 arch=efi64\n"
				 "shell\n");
	boot_buf_free(&o);
}

/* ---- URLs --------------------------------------------------------------------------------- */

struct url_row {
	const char *name;
	const char *path;
	const char *want;
};

static const struct url_row url_rows[] = {
    {"relative_path_goes_under_base", "debian/linux", "http://10.77.0.1/debian/linux"},
    {"leading_slashes_are_dropped", "//debian/linux", "http://10.77.0.1/debian/linux"},
    {"http_url_is_kept", "http://mirror/x/linux", "http://mirror/x/linux"},
    {"tftp_url_is_kept", "tftp://10.0.0.9/x", "tftp://10.0.0.9/x"},
    {"admin_built_url_from_variable", "${base}/k/${mac}", "http://10.77.0.1/k/52:54:00:12:34:56"},
    {"not_a_scheme_is_a_path", "a:b/c", "http://10.77.0.1/a:b/c"},
    {"variables_in_relative_path_expand", "per-host/${hostname}/linux",
     "http://10.77.0.1/per-host/station-01/linux"},
};

static void run_url_row(void **state)
{
	const struct url_row *r = *state;
	struct boot_vars v = lab_vars(CONF_FAM_BIOS);
	struct boot_buf b;
	boot_buf_init(&b);
	boot_url(&b, r->path, &v);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.p, r->want);
	boot_buf_free(&b);
}

/* ---- the query string --------------------------------------------------------------------- */

struct query_row {
	const char *name;
	const char *query;
	bool has_mac;
	const char *mac; /* as fmt'd */
	const char *uuid;
	unsigned family;
};

static const struct query_row query_rows[] = {
    {"ipxe_bios_query_is_read",
     "mac=52:54:00:12:34:56&arch=i386&platform=pcbios&uuid=B8945908-D6A6-41A9-611D-74A6AB80B83D",
     true, "52:54:00:12:34:56", "b8945908-d6a6-41a9-611d-74a6ab80b83d", CONF_FAM_BIOS},
    {"x86_64_efi_is_efi64", "mac=52-54-00-12-34-56&arch=x86_64&platform=efi&uuid=", true,
     "52:54:00:12:34:56", "", CONF_FAM_EFI64},
    {"i386_efi_is_efi32", "arch=i386&platform=efi", false, NULL, "", CONF_FAM_EFI32},
    {"x86_64_pcbios_is_bios", "arch=x86_64&platform=pcbios", false, NULL, "", CONF_FAM_BIOS},
    {"arm64_without_platform_is_arm64", "arch=arm64", false, NULL, "", CONF_FAM_ARM64},
    {"x86_without_platform_is_unknown", "arch=x86_64", false, NULL, "", 0},
    {"family_name_is_accepted", "arch=efi64", false, NULL, "", CONF_FAM_EFI64},
    {"loong64_efi_is_loongarch64", "arch=loong64&platform=efi", false, NULL, "",
     CONF_FAM_LOONGARCH64},
    {"hexraw_mac_is_accepted", "mac=525400123456", true, "52:54:00:12:34:56", "", 0},
    {"percent_encoded_values_are_decoded",
     "mac=52%3A54%3A00%3a12%3a34%3a56&arch=x86%5F64"
     "&platform=efi",
     true, "52:54:00:12:34:56", "", CONF_FAM_EFI64},
    {"bad_mac_is_unknown", "mac=52:54:00:12:34", false, NULL, "", 0},
    {"mac_with_junk_is_unknown", "mac=52:54:00:12:34:56;reboot", false, NULL, "", 0},
    {"percent_nul_is_ignored", "mac=52:54:00:12:34:56%00", false, NULL, "", 0},
    {"broken_percent_is_ignored", "mac=%zz&arch=%", false, NULL, "", 0},
    {"bad_uuid_is_unknown", "uuid=b8945908-d6a6-41a9-611d-74a6ab80b83", false, NULL, "", 0},
    {"uuid_with_wrong_dashes_is_unknown", "uuid=b8945908d-6a6-41a9-611d-74a6ab80b83d", false, NULL,
     "", 0},
    {"unknown_arch_and_platform_are_unknown", "arch=sparc&platform=linux", false, NULL, "", 0},
    {"empty_and_bare_keys_are_ignored", "&&mac&=x&arch=&", false, NULL, "", 0},
    {"overlong_value_is_ignored",
     "arch=x86_64aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     false, NULL, "", 0},
    {"last_value_wins", "mac=52:54:00:00:00:01&mac=52:54:00:00:00:02", true, "52:54:00:00:00:02",
     "", 0},
};

static void run_query_row(void **state)
{
	const struct query_row *r = *state;
	struct boot_request rq = {0};
	boot_request_parse_query(r->query, strlen(r->query), &rq);
	assert_int_equal(rq.has_mac, r->has_mac);
	if (r->has_mac) {
		char m[18];
		snprintf(m, sizeof(m), "%02x:%02x:%02x:%02x:%02x:%02x", rq.mac[0], rq.mac[1],
			 rq.mac[2], rq.mac[3], rq.mac[4], rq.mac[5]);
		assert_string_equal(m, r->mac);
	}
	assert_string_equal(rq.uuid, r->uuid);
	assert_int_equal(rq.family, r->family);
	assert_int_equal(rq.client_ip, 0);
}

/* ---- visibility ----------------------------------------------------------------------------- */

struct vis_row {
	const char *name;
	const char *entry;
	unsigned family;
	enum boot_format fmt;
	bool visible;
};

static const struct vis_row vis_rows[] = {
    {"memdisk_is_shown_to_bios", "freedos", CONF_FAM_BIOS, BOOT_FMT_IPXE, true},
    {"memdisk_is_hidden_from_efi64", "freedos", CONF_FAM_EFI64, BOOT_FMT_IPXE, false},
    {"efi_only_entry_is_hidden_from_bios", "efi-only", CONF_FAM_BIOS, BOOT_FMT_IPXE, false},
    {"efi_only_entry_is_shown_to_arm64", "efi-only", CONF_FAM_ARM64, BOOT_FMT_IPXE, true},
    {"limited_entry_is_shown_when_arch_is_unknown", "efi-only", 0, BOOT_FMT_IPXE, true},
    {"chain_without_file_for_arch_is_hidden", "nbxyz", CONF_FAM_EFI32, BOOT_FMT_IPXE, false},
    {"chain_with_file_for_arch_is_shown", "nbxyz", CONF_FAM_ARM64, BOOT_FMT_IPXE, true},
    {"chain_with_unknown_arch_and_no_plain_file_is_hidden", "nbxyz", 0, BOOT_FMT_IPXE, false},
    {"sanboot_is_not_offered_by_pxelinux", "live", CONF_FAM_BIOS, BOOT_FMT_PXELINUX, false},
    {"shell_is_not_offered_by_pxelinux", "shell", CONF_FAM_BIOS, BOOT_FMT_PXELINUX, false},
    {"pxelinux_chains_the_bios_file", "nbxyz", CONF_FAM_BIOS, BOOT_FMT_PXELINUX, true},
    {"pxelinux_hides_efi_only_entries", "efi-only", CONF_FAM_BIOS, BOOT_FMT_PXELINUX, false},
    {"iso_is_shown_everywhere_in_ipxe", "debian-12.iso", CONF_FAM_ARM64, BOOT_FMT_IPXE, true},
    {"chain_to_lpxelinux_is_offered_by_ipxe", "pxelinux", CONF_FAM_BIOS, BOOT_FMT_IPXE, true},
    {"chain_to_lpxelinux_is_not_offered_by_pxelinux_itself", "pxelinux", CONF_FAM_BIOS,
     BOOT_FMT_PXELINUX, false},
};

static void run_vis_row(void **state)
{
	const struct vis_row *r = *state;
	assert_int_equal(boot_item_visible(item(r->entry), r->family, r->fmt), r->visible);
}

/* ---- golden files --------------------------------------------------------------------------- */

static void check_golden(const char *name, const char *got)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/unit/golden/boot/%s", PIXIED_SOURCE_ROOT, name);
	const char *upd = getenv("PIXIED_UPDATE_GOLDEN");
	if (upd && *upd == '1') {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
		return;
	}
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("no golden file %s (run with PIXIED_UPDATE_GOLDEN=1 to create it)", path);
	static char want[65536];
	size_t n = fread(want, 1, sizeof(want) - 1, f);
	fclose(f);
	want[n] = '\0';
	if (strcmp(want, got)) {
		fprintf(stderr, "--- golden %s ---\n%s--- got ---\n%s---\n", path, want, got);
		fail_msg("output differs from golden file %s", name);
	}
}

struct golden_row {
	const char *name;  /* test name */
	const char *file;  /* golden file */
	const char *entry; /* NULL = the menu */
	enum boot_rule rule;
	unsigned family;
	enum boot_format fmt;
	bool netboot;
	bool prefixed;
};

static const struct golden_row golden_rows[] = {
    {"linux_ipxe_matches_golden", "linux.ipxe", "debian", BOOT_RULE_HOST, CONF_FAM_EFI64,
     BOOT_FMT_IPXE, false, false},
    {"chain_ipxe_matches_golden", "chain.ipxe", "nbxyz", BOOT_RULE_HOST, CONF_FAM_EFI64,
     BOOT_FMT_IPXE, false, false},
    {"chain_to_lpxelinux_sets_option_210_to_our_http_base", "chain-lpxelinux.ipxe", "pxelinux",
     BOOT_RULE_PIN, CONF_FAM_BIOS, BOOT_FMT_IPXE, false, false},
    {"sanboot_ipxe_matches_golden", "sanboot.ipxe", "live", BOOT_RULE_NEXTBOOT, CONF_FAM_EFI64,
     BOOT_FMT_IPXE, false, false},
    {"memdisk_ipxe_matches_golden", "memdisk.ipxe", "freedos", BOOT_RULE_HOST, CONF_FAM_BIOS,
     BOOT_FMT_IPXE, false, false},
    {"local_ipxe_bios_matches_golden", "local-bios.ipxe", "local", BOOT_RULE_HOST, CONF_FAM_BIOS,
     BOOT_FMT_IPXE, false, false},
    {"local_ipxe_efi_matches_golden", "local-efi64.ipxe", "local", BOOT_RULE_HOST, CONF_FAM_EFI64,
     BOOT_FMT_IPXE, false, false},
    {"local_ipxe_unknown_arch_matches_golden", "local-unknown.ipxe", "local", BOOT_RULE_HOST, 0,
     BOOT_FMT_IPXE, false, false},
    {"shell_ipxe_matches_golden", "shell.ipxe", "shell", BOOT_RULE_HOST, CONF_FAM_EFI64,
     BOOT_FMT_IPXE, false, false},
    {"reboot_ipxe_matches_golden", "reboot.ipxe", "reboot", BOOT_RULE_HOST, CONF_FAM_EFI64,
     BOOT_FMT_IPXE, false, false},
    {"menu_ipxe_efi64_matches_golden", "menu-efi64.ipxe", NULL, BOOT_RULE_MENU, CONF_FAM_EFI64,
     BOOT_FMT_IPXE, false, false},
    {"menu_ipxe_bios_with_netboot_files_matches_golden", "menu-bios-netboot.ipxe", NULL,
     BOOT_RULE_MENU, CONF_FAM_BIOS, BOOT_FMT_IPXE, true, false},
    {"linux_pxelinux_matches_golden", "linux.pxelinux", "debian", BOOT_RULE_HOST, CONF_FAM_BIOS,
     BOOT_FMT_PXELINUX, false, false},
    {"linux_pxelinux_with_path_prefix_matches_golden", "linux-prefixed.pxelinux", "debian",
     BOOT_RULE_NEXTBOOT, CONF_FAM_BIOS, BOOT_FMT_PXELINUX, false, true},
    {"chain_pxelinux_matches_golden", "chain.pxelinux", "nbxyz", BOOT_RULE_HOST, CONF_FAM_BIOS,
     BOOT_FMT_PXELINUX, false, false},
    {"memdisk_pxelinux_matches_golden", "memdisk.pxelinux", "freedos", BOOT_RULE_HOST,
     CONF_FAM_BIOS, BOOT_FMT_PXELINUX, false, false},
    {"local_pxelinux_matches_golden", "local.pxelinux", "local", BOOT_RULE_HOST, CONF_FAM_BIOS,
     BOOT_FMT_PXELINUX, false, false},
    {"reboot_pxelinux_matches_golden", "reboot.pxelinux", "reboot", BOOT_RULE_HOST, CONF_FAM_BIOS,
     BOOT_FMT_PXELINUX, false, false},
    {"menu_pxelinux_matches_golden", "menu.pxelinux", NULL, BOOT_RULE_MENU, CONF_FAM_BIOS,
     BOOT_FMT_PXELINUX, false, false},
};

/* sanboot and shell have no PXELINUX form: a menu holding only them falls back to disk */
static void test_pxelinux_without_bootable_entries_boots_the_local_disk(void **state)
{
	(void)state;
	struct boot_item only[2] = {*item("live"), *item("shell")};
	struct boot_menu m = {.title = "t", .default_name = "", .items = only, .nitems = 2};
	struct boot_choice ch = {.rule = BOOT_RULE_MENU};
	snprintf(ch.why, sizeof(ch.why),
		 "no next boot, permanent entry or host rule for 52:54:00:12:34:56");
	struct boot_vars v = lab_vars(CONF_FAM_BIOS);
	struct boot_buf o;
	boot_buf_init(&o);
	assert_int_equal(boot_render_pxelinux_cfg(&m, &ch, &v, false, &o), 0);
	check_golden("sanboot-shell.pxelinux", o.p);
	boot_buf_free(&o);
}

static void test_ipxe_menu_without_entries_for_arch_exits(void **state)
{
	(void)state;
	struct boot_item only[1] = {*item("freedos")};
	struct boot_menu m = {.title = "t", .default_name = "", .items = only, .nitems = 1};
	struct boot_choice ch = {.rule = BOOT_RULE_MENU};
	struct boot_vars v = lab_vars(CONF_FAM_EFI64);
	struct boot_buf o;
	boot_buf_init(&o);
	assert_int_equal(boot_render_ipxe_script(&m, &ch, &v, CONF_FAM_EFI64, NULL, &o), 0);
	assert_non_null(strstr(o.p, "\necho pixied: no boot entry for this machine\nexit\n"));
	assert_null(strstr(o.p, "menu "));
	boot_buf_free(&o);
}

static void test_menu_default_not_visible_falls_back_to_first_visible(void **state)
{
	(void)state;
	struct boot_menu m = lab_menu();
	m.default_name = "freedos"; /* BIOS only */
	struct boot_choice ch = {.rule = BOOT_RULE_MENU};
	struct boot_vars v = lab_vars(CONF_FAM_EFI64);
	struct boot_buf o;
	boot_buf_init(&o);
	assert_int_equal(boot_render_ipxe_script(&m, &ch, &v, CONF_FAM_EFI64, NULL, &o), 0);
	assert_non_null(strstr(o.p, "choose --timeout 5000 --default debian target"));
	assert_null(strstr(o.p, "item freedos"));
	boot_buf_free(&o);
}

static void test_zero_timeout_waits_for_a_choice(void **state)
{
	(void)state;
	struct boot_menu m = lab_menu();
	m.timeout_ms = 0;
	struct boot_choice ch = {.rule = BOOT_RULE_MENU};
	struct boot_vars v = lab_vars(CONF_FAM_BIOS);
	struct boot_buf o;
	boot_buf_init(&o);
	assert_int_equal(boot_render_ipxe_script(&m, &ch, &v, CONF_FAM_BIOS, NULL, &o), 0);
	assert_non_null(strstr(o.p, "\nchoose --default debian target && goto ${target}\n"));
	boot_buf_free(&o);
	boot_buf_init(&o);
	assert_int_equal(boot_render_pxelinux_cfg(&m, &ch, &v, false, &o), 0);
	assert_non_null(strstr(o.p, "\nTIMEOUT 0\n"));
	boot_buf_free(&o);
}

static void test_args_with_initrd_keep_their_own(void **state)
{
	(void)state;
	struct conf_entry e = {.kind = CONF_ENTRY_LINUX, .ninitrd = 1};
	snprintf(e.name, sizeof(e.name), "x");
	snprintf(e.kernel, sizeof(e.kernel), "k");
	snprintf(e.initrd[0], sizeof(e.initrd[0]), "i.gz?x=1");
	snprintf(e.args, sizeof(e.args), "initrd=mine.img quiet");
	struct boot_item it = {.entry = &e};
	struct boot_menu m = {.title = "t", .items = &it, .nitems = 1};
	struct boot_choice ch = {.rule = BOOT_RULE_HOST, .item = &it};
	struct boot_vars v = lab_vars(CONF_FAM_EFI64);
	struct boot_buf o;
	boot_buf_init(&o);
	assert_int_equal(boot_render_ipxe_script(&m, &ch, &v, CONF_FAM_EFI64, NULL, &o), 0);
	assert_non_null(strstr(o.p, "\nkernel http://10.77.0.1/k initrd=mine.img quiet\n"
				    "initrd http://10.77.0.1/i.gz?x=1\nboot\n"));
	boot_buf_free(&o);
	/* without initrd= in args, the name comes from the URL's last segment, sans query */
	e.args[0] = '\0';
	boot_buf_init(&o);
	assert_int_equal(boot_render_ipxe_script(&m, &ch, &v, CONF_FAM_EFI64, NULL, &o), 0);
	assert_non_null(strstr(o.p, "\nkernel http://10.77.0.1/k initrd=i.gz\n"));
	boot_buf_free(&o);
}

/* Our address unknown (no base): PXELINUX is pointed at iPXE's own next-server. */
static void test_lpxelinux_chain_without_base_uses_next_server(void **state)
{
	(void)state;
	struct boot_menu m = lab_menu();
	struct boot_choice ch = {.rule = BOOT_RULE_HOST, .item = item("pxelinux")};
	struct boot_vars v = lab_vars(CONF_FAM_BIOS);
	v.base = "";
	struct boot_buf o;
	boot_buf_init(&o);
	assert_int_equal(boot_render_ipxe_script(&m, &ch, &v, CONF_FAM_BIOS, NULL, &o), 0);
	assert_non_null(strstr(o.p, "\nset 210:string http://${next-server}/\nchain "));
	boot_buf_free(&o);
}

static void run_golden_row(void **state)
{
	const struct golden_row *r = *state;
	struct boot_menu m = lab_menu();
	struct boot_choice ch = {.rule = r->rule, .item = r->entry ? item(r->entry) : NULL};
	if (r->rule == BOOT_RULE_PIN)
		snprintf(ch.why, sizeof(ch.why), "permanent entry for 52:54:00:12:34:56 = %s",
			 r->entry);
	else if (r->rule == BOOT_RULE_HOST)
		snprintf(ch.why, sizeof(ch.why), "[host station-01] boot = %s", r->entry);
	else if (r->rule == BOOT_RULE_NEXTBOOT)
		snprintf(ch.why, sizeof(ch.why),
			 "one-shot next boot for 52:54:00:12:34:56 = %s (now cleared)", r->entry);
	else
		snprintf(ch.why, sizeof(ch.why),
			 "no next boot, permanent entry or host rule for 52:54:00:12:34:56");
	struct boot_vars v = lab_vars(r->family);
	struct boot_netboot nb = {.local_vars = true, .menu = true};
	snprintf(nb.hostname_file, sizeof(nb.hostname_file), "HOSTNAME-station-01.ipxe");
	snprintf(nb.mac_file, sizeof(nb.mac_file), "MAC-525400123456.ipxe");
	struct boot_buf o;
	boot_buf_init(&o);
	int ret = r->fmt == BOOT_FMT_IPXE
		      ? boot_render_ipxe_script(&m, &ch, &v, r->family, r->netboot ? &nb : NULL, &o)
		      : boot_render_pxelinux_cfg(&m, &ch, &v, r->prefixed, &o);
	assert_int_equal(ret, 0);
	check_golden(r->file, o.p);
	boot_buf_free(&o);
}

/* ---- what a client fetches (the report's files) ---------------------------------------- */

struct files_row {
	const char *name;
	const char *entry;
	unsigned family;
	enum boot_format fmt;
	size_t n;
	const char *path[4];
	enum boot_file_kind kind[4];
};

static const struct files_row files_rows[] = {
    {"linux_fetches_kernel_then_initrds_as_urls",
     "debian",
     CONF_FAM_EFI64,
     BOOT_FMT_IPXE,
     3,
     {"http://10.77.0.1/debian/linux", "http://10.77.0.1/debian/initrd.gz",
      "http://10.77.0.1/firmware.cpio.gz"},
     {BOOT_FILE_KERNEL, BOOT_FILE_INITRD, BOOT_FILE_INITRD}},
    {"linux_in_pxelinux_fetches_paths_beneath_the_root",
     "debian",
     CONF_FAM_BIOS,
     BOOT_FMT_PXELINUX,
     3,
     {"debian/linux", "debian/initrd.gz", "firmware.cpio.gz"},
     {BOOT_FILE_KERNEL, BOOT_FILE_INITRD, BOOT_FILE_INITRD}},
    {"chain_fetches_the_loader_for_the_arch",
     "nbxyz",
     CONF_FAM_EFI64,
     BOOT_FMT_IPXE,
     1,
     {"http://10.77.0.1/netboot.xyz.efi"},
     {BOOT_FILE_LOADER}},
    {"chain_in_pxelinux_fetches_pxechn_then_the_loader",
     "nbxyz",
     CONF_FAM_BIOS,
     BOOT_FMT_PXELINUX,
     2,
     {"pxechn.c32", "netboot.xyz.kpxe"},
     {BOOT_FILE_OTHER, BOOT_FILE_LOADER}},
    {"sanboot_fetches_the_iso",
     "live",
     CONF_FAM_EFI64,
     BOOT_FMT_IPXE,
     1,
     {"http://10.77.0.1/iso/live.iso"},
     {BOOT_FILE_ISO}},
    {"iso_from_iso_dir_fetches_itself",
     "debian-12.iso",
     CONF_FAM_BIOS,
     BOOT_FMT_IPXE,
     1,
     {"http://10.77.0.1/iso/debian-12.iso"},
     {BOOT_FILE_ISO}},
    {"memdisk_fetches_memdisk_then_the_whole_image",
     "freedos",
     CONF_FAM_BIOS,
     BOOT_FMT_IPXE,
     2,
     {"http://10.77.0.1/memdisk", "http://10.77.0.1/iso/fdos.iso"},
     {BOOT_FILE_KERNEL, BOOT_FILE_INITRD}},
    {"local_fetches_nothing", "local", CONF_FAM_BIOS, BOOT_FMT_IPXE, 0, {NULL}, {0}},
    {"shell_fetches_nothing", "shell", CONF_FAM_EFI64, BOOT_FMT_IPXE, 0, {NULL}, {0}},
    {"reboot_fetches_nothing", "reboot", CONF_FAM_BIOS, BOOT_FMT_PXELINUX, 0, {NULL}, {0}},
    {"url_kernel_is_reported_as_its_url",
     "efi-only",
     CONF_FAM_EFI64,
     BOOT_FMT_IPXE,
     1,
     {"http://mirror.example/efi/vmlinuz"},
     {BOOT_FILE_KERNEL}},
};

static void run_files_row(void **state)
{
	const struct files_row *r = *state;
	struct boot_vars v = lab_vars(r->family);
	struct boot_files f;
	boot_item_files(item(r->entry), &v, r->family, r->fmt, &f);
	assert_int_equal(boot_files_err(&f), 0);
	assert_int_equal(f.n, r->n);
	for (size_t i = 0; i < r->n; i++) {
		assert_string_equal(f.path[i].p, r->path[i]);
		assert_int_equal(f.kind[i], r->kind[i]);
	}
	boot_files_free(&f);
}

struct lpx_row {
	const char *name;
	const char *target;
	bool is_lpxelinux;
};

static const struct lpx_row lpx_rows[] = {
    {"lpxelinux_at_the_root_is_lpxelinux", "lpxelinux.0", true},
    {"lpxelinux_in_a_folder_is_lpxelinux", "syslinux/lpxelinux.0", true},
    {"lpxelinux_url_with_query_is_lpxelinux", "http://x/b/LPXELINUX.0?x=1", true},
    {"tftp_only_pxelinux_is_not", "pxelinux.0", false},
    {"a_name_ending_in_lpxelinux_is_not", "xlpxelinux.0", false},
    {"an_ipxe_script_is_not", "lpxelinux.0.ipxe", false},
};

static void run_lpx_row(void **state)
{
	const struct lpx_row *r = *state;
	assert_int_equal(boot_chain_is_lpxelinux(r->target), r->is_lpxelinux);
}

/* ---- buffer limits ----------------------------------------------------------------------------
 */

static void test_output_over_the_limit_is_e2big(void **state)
{
	(void)state;
	struct boot_buf b;
	boot_buf_init(&b);
	static char chunk[65536];
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 20; i++)
		boot_buf_put(&b, chunk, sizeof(chunk));
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(boot_buf_take(&b, &out, &len), -E2BIG);
	assert_null(out);
}

static void test_rule_names(void **state)
{
	(void)state;
	assert_string_equal(boot_rule_name(BOOT_RULE_MENU), "menu");
	assert_string_equal(boot_rule_name(BOOT_RULE_HOST), "host rule");
	assert_string_equal(boot_rule_name(BOOT_RULE_NEXTBOOT), "next boot");
	assert_string_equal(boot_rule_name(BOOT_RULE_PIN), "permanent");
}

int main(void)
{
	static struct CMUnitTest tests[256];
	size_t n = 0;
#define ROWS(arr, fn)                                                                              \
	for (size_t i_ = 0; i_ < sizeof(arr) / sizeof((arr)[0]); i_++)                             \
		tests[n++] =                                                                       \
		    (struct CMUnitTest){(arr)[i_].name, fn, NULL, NULL, (void *)&(arr)[i_]};
#define ONE(fn) (tests[n++] = (struct CMUnitTest){#fn, fn, NULL, NULL, NULL})
	ROWS(expand_rows, run_expand_row);
	ONE(test_null_values_expand_to_nothing);
	ONE(test_hostile_hostname_cannot_add_ipxe_commands);
	ONE(test_hostile_hostname_cannot_add_pxelinux_lines);
	ONE(test_why_text_with_newline_stays_one_comment_line);
	ROWS(url_rows, run_url_row);
	ROWS(query_rows, run_query_row);
	ROWS(vis_rows, run_vis_row);
	ROWS(golden_rows, run_golden_row);
	ROWS(files_rows, run_files_row);
	ROWS(lpx_rows, run_lpx_row);
	ONE(test_pxelinux_without_bootable_entries_boots_the_local_disk);
	ONE(test_ipxe_menu_without_entries_for_arch_exits);
	ONE(test_menu_default_not_visible_falls_back_to_first_visible);
	ONE(test_zero_timeout_waits_for_a_choice);
	ONE(test_args_with_initrd_keep_their_own);
	ONE(test_lpxelinux_chain_without_base_uses_next_server);
	ONE(test_output_over_the_limit_is_e2big);
	ONE(test_rule_names);
	return _cmocka_run_group_tests("boot_render", tests, n, setup, teardown);
}
