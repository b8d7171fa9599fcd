/* Unit tests for conf: every key's good and bad values, file:line errors, cross-key rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "core/util.h"

#define BASE "[server]\ninterfaces = eth1\n"

struct row {
	const char *name;
	const char *text;
	const char *err_substr; /* NULL: must load */
};

static const struct row rows[] = {
	{"minimal_loads", BASE, NULL},
	{"design_example_loads",
	 "[server]\ninterfaces = eth1\nroot = /srv/pixied ; boot files\nstate = /var/lib/pixied\n"
	 "[http]\nport = 80\n[dhcp]\nmode = proxy\nrange = 192.168.10.100 192.168.10.199\n"
	 "router = 192.168.10.1\ndns = 192.168.10.1\nlease-time = 12h\n"
	 "[host station-01]\nmac = 00:18:e7:42:84:3a\nip = 192.168.1.101\n",
	 NULL},
	{"missing_interfaces_is_error", "[dhcp]\nmode = off\n", "interfaces is required"},
	{"unknown_key_names_line_and_accepted", BASE "[dhcp]\nmoed = full\n",
	 "test.conf:4: [dhcp] moed: unknown key; accepted in [dhcp]: mode"},
	{"unknown_section", BASE "[dchp]\nmode = full\n", "test.conf:4: unknown section [dchp]"},
	{"bad_mode", BASE "[dhcp]\nmode = fast\n", "test.conf:4: [dhcp] mode = fast: unknown mode; accepted: full, proxy, off"},
	{"bad_lease_time_unit", BASE "[dhcp]\nlease-time = 12y\n", "test.conf:4: [dhcp] lease-time = 12y"},
	{"lease_time_1s_too_short", BASE "[dhcp]\nlease-time = 1\n", "lease-time = 1"},
	{"range_reversed", BASE "[dhcp]\nmode = full\nrange = 10.0.0.9 10.0.0.1\n", "first address is above"},
	{"range_three_words", BASE "[dhcp]\nrange = 10.0.0.1 10.0.0.9 10.0.0.10\n", "two IPv4 addresses"},
	{"range_outside_subnet", BASE "[dhcp]\nsubnet = 10.0.0.0/24\nrange = 10.0.1.1 10.0.1.9\n", "not inside its subnet"},
	{"ranges_overlap", BASE "[dhcp]\nrange = 10.0.0.1 10.0.0.9\nrange = 10.0.0.5 10.0.0.20\n", "overlaps"},
	{"subnet_host_bits", BASE "[subnet a]\nsubnet = 10.0.0.1/24\n", "host bits set"},
	{"subnet_section_needs_subnet", BASE "[subnet a]\nrange = 10.0.0.1 10.0.0.9\n", "subnet is required"},
	{"router_bad_ip", BASE "[dhcp]\nrouter = 10.0.0.256\n", "'10.0.0.256' is not an IPv4 address"},
	{"dns_list_ok", BASE "[dhcp]\ndns = 10.0.0.1, 10.0.0.2 10.0.0.3\n", NULL},
	{"dns_too_many", BASE "[dhcp]\ndns = 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5\n", "too many addresses"},
	{"host_bad_mac", BASE "[host a]\nmac = 00:11:22:33:44\n", "test.conf:4: [host a] mac = 00:11:22:33:44: not a MAC"},
	{"host_needs_mac", BASE "[host a]\nip = 10.0.0.5\n", "mac is required"},
	{"host_dup_mac", BASE "[host a]\nmac = 00:11:22:33:44:55\n[host b]\nmac = 00:11:22:33:44:55\n", "same mac as [host a]"},
	{"host_bad_hostname", BASE "[host a]\nmac = 00:11:22:33:44:55\nhostname = <script>\n", "not a host name"},
	{"host_twice", BASE "[host a]\nmac = 00:11:22:33:44:55\n[host a]\nmac = 00:11:22:33:44:56\n", "given twice"},
	{"key_twice", BASE "[dhcp]\nmode = full\nmode = proxy\n", "test.conf:5: [dhcp] mode: given twice (first at line 4)"},
	{"section_twice", BASE "[dhcp]\nmode = off\n[http]\nport = 8080\n[dhcp]\nlease-time = 1h\n", "[dhcp] given twice"},
	{"full_needs_addresses", BASE "[dhcp]\nmode = full\n", "needs addresses to hand out"},
	{"full_with_range_ok", BASE "[dhcp]\nmode = full\nrange = 10.0.0.10 10.0.0.20\n", NULL},
	{"t1_above_t2", BASE "[dhcp]\nlease-time = 1h\nrenewal-time = 50m\nrebinding-time = 40m\n", "renewal-time"},
	{"http_port_0", BASE "[http]\nport = 0\n", "not a port; accepted: 1-65535"},
	{"http_port_huge", BASE "[http]\nport = 99999999999999999999999\n", "not a port"},
	{"tftp_all_keys", BASE "[tftp]\nenabled = no\naddress = 10.0.0.1\nport = 6969\nblksize-max = 1468\n"
	 "windowsize-max = 16\nretries = 5\ntimeout = 500ms\nmax-transfers = 100\nmax-per-client = 4\n"
	 "single-port = yes\nwrite-dir = /srv/up\n", NULL},
	{"tftp_blksize_7", BASE "[tftp]\nblksize-max = 7\n", "accepted: 8-65464"},
	{"tftp_bool_bad", BASE "[tftp]\nenabled = maybe\n", "not a boolean"},
	{"root_relative", BASE "root = srv\n", "must be an absolute path"},
	{"loader_dotdot", BASE "[loaders]\nbios = ../x.kpxe\n", "must not leave the root"},
	{"loader_http_url", BASE "[loaders]\nefi64-http = http://10.0.0.1/ipxe.efi\n", NULL},
	{"loader_unknown_arch", BASE "[loaders]\nsparc = x\n", "unknown key; accepted in [loaders]: bios"},
	{"key_outside_section", "interfaces = eth1\n", "key outside any section"},
	{"syntax_error", BASE "this is not ini\n", "test.conf:3: syntax error"},
	{"probe_arp", BASE "[dhcp]\nprobe = arp\nprobe-timeout = 2s\n", NULL},
	{"probe_bad", BASE "[dhcp]\nprobe = dns\n", "accepted: none, ping, arp"},
	{"lease_sync_normal", BASE "[dhcp]\nlease-sync = normal\n", NULL},
	{"design_catalog_loads",
	 BASE "[host station-01]\nmac = 00:18:e7:42:84:3a\nboot = debian-install\n"
	 "[menu]\ndefault = local\ntimeout = 10s\n[entry local]\ntype = local\n"
	 "[entry debian-install]\nlabel = Debian 12 installer\nkernel = debian/linux\n"
	 "initrd = debian/initrd.gz\nargs = auto=true url=${base}/preseed/${mac}.cfg\n",
	 NULL},
	{"entry_kind_inferred_chain", BASE "[entry nbx]\nfile-bios = netboot.xyz.kpxe\nfile-efi64 = netboot.xyz.efi\n", NULL},
	{"entry_without_target", BASE "[entry x]\nlabel = X\n", "what does it boot?"},
	{"entry_bad_type", BASE "[entry x]\ntype = floppy\n", "unknown type; accepted: linux"},
	{"entry_bad_arch", BASE "[entry x]\ntype = shell\narch = sparc\n", "'sparc' is not an architecture"},
	{"entry_linux_needs_kernel", BASE "[entry x]\ntype = linux\nargs = quiet\n", "needs kernel"},
	{"entry_memdisk_efi_refused", BASE "[entry x]\ntype = memdisk\nimage = a.iso\narch = efi64\n", "memdisk boots only on BIOS"},
	{"entry_initrd_repeats", BASE "[entry x]\nkernel = k\ninitrd = a b\ninitrd = c\n", NULL},
	{"entry_unknown_file_arch", BASE "[entry x]\nfile-sparc = a\n", "unknown key; accepted in [entry NAME]"},
	{"menu_default_missing", BASE "[menu]\ndefault = nope\n", "[menu] default = nope: no [entry nope]"},
	{"menu_iso_dir_absolute", BASE "[menu]\niso-dir = /isos\n", "not an absolute path"},
	{"host_boot_missing_entry", BASE "[host a]\nmac = 00:11:22:33:44:55\nboot = nope\n", "no [entry nope]"},
	{"host_boot_iso_ok", BASE "[menu]\niso-dir = iso\n[host a]\nmac = 00:11:22:33:44:55\nboot = rescue.iso\n", NULL},
	{"http_limits", BASE "[http]\nmax-connections = 100\nmax-per-client = 8\nheader-max = 4096\ntimeout = 10s\nmin-rate = 512\naccess-log = no\n", NULL},
	{"http_header_max_small", BASE "[http]\nheader-max = 10\n", "accepted: 1024-1048576"},
	{"pxelinux_options", BASE "[dhcp]\npxelinux-configfile = pxelinux.cfg/default\npxelinux-pathprefix = /\n", NULL},
};

static void test_conf_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char err[4096];
		struct conf *c = conf_load_string(rows[i].text, "test.conf", err, sizeof(err));
		if (!rows[i].err_substr) {
			if (!c)
				fail_msg("%s: expected to load, got:\n%s", rows[i].name, err);
		} else {
			if (c)
				fail_msg("%s: expected an error containing '%s'", rows[i].name,
					 rows[i].err_substr);
			if (!strstr(err, rows[i].err_substr))
				fail_msg("%s: error '%s' lacks '%s'", rows[i].name, err,
					 rows[i].err_substr);
		}
		conf_free(c);
	}
}

static void test_conf_values_and_defaults(void **state)
{
	(void)state;
	char err[2048];
	struct conf *c = conf_load_string(
		BASE "[dhcp]\nmode = full\nrange = 10.0.0.10 10.0.0.20\nrouter = 10.0.0.1\n"
		     "lease-time = 2h\n[subnet far]\nsubnet = 10.9.0.0/16\nrange = 10.9.1.1 10.9.1.200\n"
		     "[host pc]\nmac = AA-bb-cc-dd-ee-ff\nip = 10.0.0.5\nhostname = pc1\n"
		     "[loaders]\nbios = boot/undi.kpxe\n",
		"t", err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->dhcp.mode, CONF_DHCP_FULL);
	assert_int_equal(c->dhcp.lease_time, 7200);
	assert_int_equal(c->npools, 2);
	assert_string_equal(c->pools[0].name, "dhcp");
	assert_false(c->pools[0].has_subnet);
	assert_int_equal(c->pools[1].net, 0x0a090000);
	assert_int_equal(c->pools[1].mask, 0xffff0000);
	assert_int_equal(c->nhosts, 1);
	const uint8_t mac[6] = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	assert_ptr_equal(conf_host_by_mac(c, mac), &c->hosts[0]);
	assert_string_equal(conf_loader_name(c, CONF_ARCH_BIOS), "boot/undi.kpxe");
	assert_string_equal(conf_loader_name(c, CONF_ARCH_EFI64), "ipxe.efi");
	assert_string_equal(conf_loader_name(c, CONF_ARCH_ARM64), "");
	assert_int_equal(c->http.port, 80);
	assert_int_equal(c->tftp.port, 69);
	assert_true(c->tftp.enabled);
	assert_true(c->dhcp.sync_full);
	assert_string_equal(c->user, "pixied");
	conf_free(c);
}

static void test_conf_collects_every_error(void **state)
{
	(void)state;
	char err[4096];
	struct conf *c = conf_load_string(BASE "[dhcp]\nmode = x\nlease-time = y\n[http]\nport = z\n",
					  "f", err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "f:4:"));
	assert_non_null(strstr(err, "f:5:"));
	assert_non_null(strstr(err, "f:7:"));
}

static void test_conf_file_missing_names_file(void **state)
{
	(void)state;
	char err[512];
	assert_null(conf_load("/nonexistent/pixied.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/pixied.conf: cannot open"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_table),
		cmocka_unit_test(test_conf_values_and_defaults),
		cmocka_unit_test(test_conf_collects_every_error),
		cmocka_unit_test(test_conf_file_missing_names_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
