/*
 * Unit tests for dhcp/pxe: the architecture table, client facts (60/77/93/94/97/175) and
 * the boot decision. Requests are built as raw bytes and parsed with dhcp_wire, like the
 * server sees them. Does not test addresses or reply routing (test_dhcp_server.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "core/util.h"
#include "dhcp/dhcp_pxe.h"
#include "dhcp/dhcp_wire.h"

/* ---- building requests ---- */

struct pkt {
	uint8_t b[DHCP_MAX_LEN];
	size_t len;
};

static void pkt_init(struct pkt *p, uint8_t type)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x77, 0x00, 0x10};
	memset(p, 0, sizeof(*p));
	p->b[0] = 1;
	p->b[1] = 1;
	p->b[2] = 6;
	p->b[4] = 0x12;
	p->b[5] = 0x34;
	memcpy(p->b + 28, mac, 6);
	p->b[236] = 0x63;
	p->b[237] = 0x82;
	p->b[238] = 0x53;
	p->b[239] = 0x63;
	p->len = 240;
	p->b[p->len++] = DHCP_OPT_MSG_TYPE;
	p->b[p->len++] = 1;
	p->b[p->len++] = type;
}

static void pkt_opt(struct pkt *p, uint8_t code, const void *data, size_t len)
{
	assert_true(p->len + 2 + len < sizeof(p->b));
	p->b[p->len++] = code;
	p->b[p->len++] = (uint8_t)len;
	memcpy(p->b + p->len, data, len);
	p->len += len;
}

static void pkt_parse(struct pkt *p, struct dhcp_msg *m)
{
	p->b[p->len++] = DHCP_OPT_END;
	if (p->len < 300)
		p->len = 300;
	assert_int_equal(dhcp_msg_parse(m, p->b, p->len), DHCP_PARSE_OK);
}

static struct dhcp_msg msg;

/* ---- config ---- */

static struct conf cfg;

static void conf_defaults(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.dhcp.mode = CONF_DHCP_FULL;
	cfg.dhcp.no_proxydhcp_wait = true;
	cfg.http.enabled = true;
	cfg.http.port = 80;
	strcpy(cfg.loaders[CONF_ARCH_BIOS], "/usr/lib/ipxe/undionly.kpxe");
	strcpy(cfg.loaders[CONF_ARCH_EFI64], "/usr/lib/ipxe/ipxe.efi");
	strcpy(cfg.loaders[CONF_ARCH_EFI32], "ipxe/ipxe-i386.efi"); /* beneath root */
}

static int setup(void **state)
{
	(void)state;
	conf_defaults();
	return 0;
}

#define SERVER_IP 0x0a4d0001u /* 10.77.0.1 */

/* ---- the architecture table ---- */

static const struct {
	uint16_t code;
	enum conf_arch arch;
	bool http;
} arch_rows[] = {
	{0, CONF_ARCH_BIOS, false},
	{1, DHCP_PXE_ARCH_NONE, false},
	{2, DHCP_PXE_ARCH_NONE, false},
	{3, DHCP_PXE_ARCH_NONE, false},
	{4, DHCP_PXE_ARCH_NONE, false},
	{5, DHCP_PXE_ARCH_NONE, false},
	{6, CONF_ARCH_EFI32, false},
	{7, CONF_ARCH_EFI64, false},
	{8, DHCP_PXE_ARCH_NONE, false},
	{9, CONF_ARCH_EFI64, false}, /* EBC: booted like x64 UEFI (EDK2 history) */
	{10, CONF_ARCH_ARM32, false},
	{11, CONF_ARCH_ARM64, false},
	{12, DHCP_PXE_ARCH_NONE, false},
	{13, DHCP_PXE_ARCH_NONE, false},
	{14, DHCP_PXE_ARCH_NONE, false},
	{15, CONF_ARCH_EFI32_HTTP, true},
	{16, CONF_ARCH_EFI64_HTTP, true},
	{17, CONF_ARCH_EFI64_HTTP, true},
	{18, CONF_ARCH_ARM32_HTTP, true},
	{19, CONF_ARCH_ARM64_HTTP, true},
	{20, CONF_ARCH_BIOS_HTTP, true},
	{21, DHCP_PXE_ARCH_NONE, false},
	{22, DHCP_PXE_ARCH_NONE, false},
	{23, DHCP_PXE_ARCH_NONE, true},
	{24, DHCP_PXE_ARCH_NONE, true},
	{25, CONF_ARCH_RISCV32, false},
	{26, CONF_ARCH_RISCV32, true},
	{27, CONF_ARCH_RISCV64, false},
	{28, CONF_ARCH_RISCV64_HTTP, true},
	{29, DHCP_PXE_ARCH_NONE, false},
	{30, DHCP_PXE_ARCH_NONE, true},
	{31, DHCP_PXE_ARCH_NONE, false},
	{32, DHCP_PXE_ARCH_NONE, false},
	{33, DHCP_PXE_ARCH_NONE, false},
	{34, DHCP_PXE_ARCH_NONE, false},
	{35, DHCP_PXE_ARCH_NONE, false},
	{36, DHCP_PXE_ARCH_NONE, false},
	{37, DHCP_PXE_ARCH_NONE, false},
	{38, DHCP_PXE_ARCH_NONE, true},
	{39, CONF_ARCH_LOONGARCH64, false},
	{40, CONF_ARCH_LOONGARCH64, true},
	{41, DHCP_PXE_ARCH_NONE, false},
};

static void test_arch_table_has_a_row_for_every_iana_code(void **state)
{
	(void)state;
	size_t n;
	const struct dhcp_pxe_arch *t = dhcp_pxe_arch_table(&n);
	assert_int_equal(n, ARRAY_SIZE(arch_rows));
	for (size_t i = 0; i < ARRAY_SIZE(arch_rows); i++) {
		const struct dhcp_pxe_arch *a = dhcp_pxe_arch_find(arch_rows[i].code);
		assert_non_null(a);
		assert_ptr_equal(a, &t[i]);
		assert_int_equal(a->code, arch_rows[i].code);
		assert_int_equal(a->arch, arch_rows[i].arch);
		assert_int_equal(a->http, arch_rows[i].http);
		assert_true(a->name && a->name[0]);
		/* "boot from HTTP" rows say so in their name, the others do not */
		assert_int_equal(strstr(a->name, "HTTP") != NULL, arch_rows[i].http);
	}
}

static void test_arch_names_match_the_registry(void **state)
{
	(void)state;
	static const struct {
		uint16_t code;
		const char *name;
	} rows[] = {
		{0, "x86 BIOS"},         {6, "x86 UEFI"},
		{7, "x64 UEFI"},         {9, "EBC"},
		{10, "ARM 32-bit UEFI"}, {11, "ARM 64-bit UEFI"},
		{16, "x64 UEFI boot from HTTP"}, {25, "RISC-V 32-bit UEFI"},
		{31, "s390 Basic"},      {35, "Sunway 32-bit UEFI"},
		{39, "LoongArch 64-bit UEFI"}, {41, "ARM rpiboot"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		assert_string_equal(dhcp_pxe_arch_find(rows[i].code)->name, rows[i].name);
}

static void test_unknown_arch_code_has_no_row_and_no_loader(void **state)
{
	(void)state;
	static const uint16_t codes[] = {42, 100, 0x7fff, 0xffff};
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		assert_null(dhcp_pxe_arch_find(codes[i]));
		struct pkt p;
		pkt_init(&p, DHCPDISCOVER);
		uint8_t a[2] = {(uint8_t)(codes[i] >> 8), (uint8_t)codes[i]};
		pkt_opt(&p, DHCP_OPT_VENDOR_CLASS, "PXEClient", 9);
		pkt_opt(&p, DHCP_OPT_CLIENT_ARCH, a, 2);
		pkt_parse(&p, &msg);
		struct dhcp_pxe_facts f;
		dhcp_pxe_facts_parse(&msg, &f);
		char want[32];
		snprintf(want, sizeof(want), "unknown arch %u", codes[i]);
		assert_string_equal(f.arch_name, want);
		assert_int_equal(f.arch, DHCP_PXE_ARCH_NONE);
		struct dhcp_pxe_boot b;
		assert_int_equal(dhcp_pxe_decide(&cfg, &f, SERVER_IP, DHCP_PXE_MODE_FULL, &b), -ENOENT);
		assert_false(b.has_file);
		assert_non_null(strstr(b.reason, want));
	}
}

/* ---- facts ---- */

struct fact_row {
	const char *name;
	const uint8_t *o60; size_t n60;
	const uint8_t *o77; size_t n77;
	const uint8_t *o93; size_t n93;
	const uint8_t *o97; size_t n97;
	const uint8_t *o175; size_t n175;
	bool pxe, http, ipxe, has_arch;
	uint16_t arch;
	bool uuid;
};

#define B(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define S(s) (const uint8_t *)(s), sizeof(s) - 1
#define NONE_ NULL, 0

static const uint8_t uuid17[17] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static const struct fact_row fact_rows[] = {
	{"plain client", NONE_, NONE_, NONE_, NONE_, NONE_, false, false, false, false, 0, false},
	{"PXE BIOS", S("PXEClient:Arch:00000:UNDI:002001"), NONE_, B(0, 0), NONE_, NONE_,
	 true, false, false, true, 0, false},
	{"iPXE bare user class", S("PXEClient:Arch:00000:UNDI:002001"), S("iPXE"), B(0, 0), NONE_,
	 NONE_, true, false, true, true, 0, false},
	{"iPXE RFC 3004 user class", NONE_, B(3, 'f', 'o', 'o', 4, 'i', 'P', 'X', 'E'), NONE_, NONE_,
	 NONE_, false, false, true, false, 0, false},
	{"RFC 3004 without iPXE", NONE_, B(4, 'i', 'P', 'X', 'F'), NONE_, NONE_, NONE_, false, false,
	 false, false, 0, false},
	{"RFC 3004 malformed (zero-length instance)", NONE_, B(0, 4, 'i', 'P', 'X', 'E'), NONE_,
	 NONE_, NONE_, false, false, false, false, 0, false},
	{"RFC 3004 truncated", NONE_, B(9, 'i', 'P', 'X', 'E'), NONE_, NONE_, NONE_, false, false,
	 false, false, 0, false},
	{"user class ipxe lower case is not iPXE", NONE_, S("ipxe"), NONE_, NONE_, NONE_, false,
	 false, false, false, 0, false},
	{"option 175 alone marks iPXE", NONE_, NONE_, NONE_, NONE_, B(0x13, 1, 1), false, false,
	 true, false, 0, false},
	{"HTTPClient", S("HTTPClient:Arch:00016:UNDI:003000"), NONE_, B(0, 16), NONE_, NONE_,
	 false, true, false, true, 16, false},
	{"arch list: first one counts", S("PXEClient"), NONE_, B(0, 7, 0, 0), NONE_, NONE_, true,
	 false, false, true, 7, false},
	{"arch odd length: first full type", S("PXEClient"), NONE_, B(0, 11, 0), NONE_, NONE_, true,
	 false, false, true, 11, false},
	{"arch too short: from vendor class", S("PXEClient:Arch:00007:UNDI:003000"), NONE_, B(7),
	 NONE_, NONE_, true, false, false, true, 7, false},
	{"arch missing, vendor class without arch", S("PXEClient"), NONE_, NONE_, NONE_, NONE_,
	 true, false, false, false, 0, false},
	{"vendor class arch not digits", S("PXEClient:Arch:0x007:UNDI"), NONE_, NONE_, NONE_, NONE_,
	 true, false, false, false, 0, false},
	{"uuid well formed", S("PXEClient"), NONE_, B(0, 0), uuid17, 17, NONE_, true, false, false,
	 true, 0, true},
	{"uuid wrong type", S("PXEClient"), NONE_, B(0, 0),
	 B(1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), NONE_, true, false, false,
	 true, 0, false},
	{"uuid short", S("PXEClient"), NONE_, B(0, 0), B(0, 1, 2, 3), NONE_, true, false, false,
	 true, 0, false},
	{"PXEClient is case-sensitive", S("pxeclient"), NONE_, NONE_, NONE_, NONE_, false, false,
	 false, false, 0, false},
};

static void test_facts_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fact_rows); i++) {
		const struct fact_row *r = &fact_rows[i];
		struct pkt p;
		struct dhcp_pxe_facts f;
		pkt_init(&p, DHCPDISCOVER);
		if (r->o60)
			pkt_opt(&p, DHCP_OPT_VENDOR_CLASS, r->o60, r->n60);
		if (r->o77)
			pkt_opt(&p, DHCP_OPT_USER_CLASS, r->o77, r->n77);
		if (r->o93)
			pkt_opt(&p, DHCP_OPT_CLIENT_ARCH, r->o93, r->n93);
		if (r->o97)
			pkt_opt(&p, DHCP_OPT_UUID, r->o97, r->n97);
		if (r->o175)
			pkt_opt(&p, DHCP_OPT_IPXE_ENCAP, r->o175, r->n175);
		pkt_parse(&p, &msg);
		dhcp_pxe_facts_parse(&msg, &f);
		print_message("row: %s\n", r->name);
		assert_int_equal(f.is_pxe, r->pxe);
		assert_int_equal(f.is_http, r->http);
		assert_int_equal(f.is_ipxe, r->ipxe);
		assert_int_equal(f.has_arch, r->has_arch);
		if (r->has_arch)
			assert_int_equal(f.arch_code, r->arch);
		assert_int_equal(f.has_uuid, r->uuid);
		if (r->uuid)
			assert_memory_equal(f.uuid, uuid17 + 1, 16);
		assert_true(f.has_mac);
	}
}

static void test_ipxe_encap_suboptions_are_kept(void **state)
{
	(void)state;
	/* As the SeaBIOS iPXE ROM sends it, plus HTTPS (0x14) */
	static const uint8_t o175[] = {
		0xb1, 0x05, 0x01, 0x80, 0x86, 0x10, 0x0e, /* bus-id PCI 8086:100e */
		0xeb, 0x03, 0x01, 0x00, 0x00,             /* version 1.0.0 */
		0x17, 0x01, 0x01, 0x13, 0x01, 0x01, 0x14, 0x01, 0x01, 0x00, /* DNS, HTTP, HTTPS, pad */
		0x21, 0x01, 0x01, 0xff, 0x15, 0x01, 0x01, /* PXE, END, (TFTP after END ignored) */
	};
	struct pkt p;
	struct dhcp_pxe_facts f;
	pkt_init(&p, DHCPDISCOVER);
	pkt_opt(&p, DHCP_OPT_IPXE_ENCAP, o175, sizeof(o175));
	pkt_parse(&p, &msg);
	dhcp_pxe_facts_parse(&msg, &f);
	assert_true(f.is_ipxe);
	assert_true(f.ipxe_https);
	assert_true(dhcp_pxe_ipxe_has_feature(&f, 0x13));
	assert_true(dhcp_pxe_ipxe_has_feature(&f, 0x17));
	assert_true(dhcp_pxe_ipxe_has_feature(&f, 0x21));
	assert_false(dhcp_pxe_ipxe_has_feature(&f, 0x15));
	assert_false(dhcp_pxe_ipxe_has_feature(&f, 0xb1));
	assert_int_equal(f.ipxe_busid_len, 5);
	assert_memory_equal(f.ipxe_busid, ((uint8_t[]){1, 0x80, 0x86, 0x10, 0x0e}), 5);
	assert_true(f.has_ipxe_version);
	assert_memory_equal(f.ipxe_version, ((uint8_t[]){1, 0, 0}), 3);
}

static void test_ipxe_encap_truncated_keeps_what_was_read(void **state)
{
	(void)state;
	static const uint8_t o175[] = {0x13, 0x01, 0x01, 0x14, 0x05, 0x01};
	struct pkt p;
	struct dhcp_pxe_facts f;
	pkt_init(&p, DHCPDISCOVER);
	pkt_opt(&p, DHCP_OPT_IPXE_ENCAP, o175, sizeof(o175));
	pkt_parse(&p, &msg);
	dhcp_pxe_facts_parse(&msg, &f);
	assert_true(f.is_ipxe);
	assert_true(dhcp_pxe_ipxe_has_feature(&f, 0x13));
	assert_false(f.ipxe_https);
}

static void test_vendor_class_is_escaped(void **state)
{
	(void)state;
	struct pkt p;
	struct dhcp_pxe_facts f;
	pkt_init(&p, DHCPDISCOVER);
	pkt_opt(&p, DHCP_OPT_VENDOR_CLASS, "PXE<script>\x01\"", 14);
	pkt_parse(&p, &msg);
	dhcp_pxe_facts_parse(&msg, &f);
	assert_null(strchr(f.vendor_class, '<'));
	assert_null(strchr(f.vendor_class, '"'));
	assert_null(strchr(f.vendor_class, '\x01'));
	assert_true(strlen(f.vendor_class) < sizeof(f.vendor_class));
}

/* ---- decisions ---- */

struct decide_row {
	const char *name;
	const char *o60;
	bool ipxe;
	int arch; /* -1 = no option 93 */
	bool uuid;
	enum dhcp_pxe_mode mode;
	uint16_t http_port;
	bool no_wait;
	const char *efi64_http_loader; /* NULL = unset */
	/* expected */
	int rc;
	const char *file;     /* exact, or NULL when rc < 0 */
	const char *vclass;   /* NULL = none */
	size_t o43, o175;
	bool echo_uuid;
	const char *reason;   /* substring when rc < 0 */
};

#define IPXE_URL "/boot.ipxe?mac=${mac}&arch=${buildarch}&platform=${platform}&uuid=${uuid}"

static const struct decide_row decide_rows[] = {
	{"iPXE BIOS full mode gets the script URL and no-pxedhcp", "PXEClient:Arch:00000", true, 0,
	 true, DHCP_PXE_MODE_FULL, 80, true, NULL, 0, "http://10.77.0.1" IPXE_URL, "PXEClient", 0,
	 3, true, NULL},
	{"iPXE URL carries a non-80 port", "PXEClient:Arch:00007", true, 7, false,
	 DHCP_PXE_MODE_FULL, 8080, true, NULL, 0, "http://10.77.0.1:8080" IPXE_URL, "PXEClient", 0,
	 3, false, NULL},
	{"iPXE without no_proxydhcp_wait: no 60, no 175", "PXEClient:Arch:00000", true, 0, false,
	 DHCP_PXE_MODE_FULL, 80, false, NULL, 0, "http://10.77.0.1" IPXE_URL, NULL, 0, 0, false,
	 NULL},
	{"iPXE in proxy mode: 60, no 175, no 43", "PXEClient:Arch:00000", true, 0, true,
	 DHCP_PXE_MODE_PROXY, 80, true, NULL, 0, "http://10.77.0.1" IPXE_URL, "PXEClient", 0, 0,
	 true, NULL},
	{"iPXE with unknown arch still gets the script", NULL, true, 99, false, DHCP_PXE_MODE_FULL,
	 80, true, NULL, 0, "http://10.77.0.1" IPXE_URL, "PXEClient", 0, 3, false, NULL},
	{"PXE BIOS gets the loader basename, 43, 60, uuid echo", "PXEClient:Arch:00000", false, 0,
	 true, DHCP_PXE_MODE_FULL, 80, true, NULL, 0, "undionly.kpxe", "PXEClient", 4, 0, true,
	 NULL},
	{"PXE x64 UEFI gets ipxe.efi", "PXEClient:Arch:00007", false, 7, false, DHCP_PXE_MODE_FULL,
	 80, true, NULL, 0, "ipxe.efi", "PXEClient", 4, 0, false, NULL},
	{"PXE EBC (9) is booted as x64", "PXEClient:Arch:00009", false, 9, false,
	 DHCP_PXE_MODE_PROXY, 80, true, NULL, 0, "ipxe.efi", "PXEClient", 4, 0, false, NULL},
	{"PXE loader beneath root is served as written", "PXEClient:Arch:00006", false, 6, false,
	 DHCP_PXE_MODE_FULL, 80, true, NULL, 0, "ipxe/ipxe-i386.efi", "PXEClient", 4, 0, false,
	 NULL},
	{"PXE arch from vendor class when 93 is missing", "PXEClient:Arch:00007:UNDI:003000", false,
	 -1, false, DHCP_PXE_MODE_FULL, 80, true, NULL, 0, "ipxe.efi", "PXEClient", 4, 0, false,
	 NULL},
	{"PXE ARM64 without a loader: no file", "PXEClient:Arch:00011", false, 11, false,
	 DHCP_PXE_MODE_FULL, 80, true, NULL, -ENOENT, NULL, NULL, 0, 0, false,
	 "no loader for ARM 64-bit UEFI ([loaders] arm64)"},
	{"PXE without any arch: no file", "PXEClient", false, -1, false, DHCP_PXE_MODE_FULL, 80,
	 true, NULL, -ENOENT, NULL, NULL, 0, 0, false, "no client arch"},
	{"HTTPClient x64 falls back to the efi64 loader as a URL", "HTTPClient:Arch:00016", false,
	 16, true, DHCP_PXE_MODE_FULL, 80, true, NULL, 0, "http://10.77.0.1/ipxe.efi", "HTTPClient",
	 0, 0, true, NULL},
	{"HTTPClient uses the efi64-http key, port", "HTTPClient:Arch:00016", false, 16, false,
	 DHCP_PXE_MODE_FULL, 8080, true, "/srv/http/snponly.efi", 0,
	 "http://10.77.0.1:8080/snponly.efi", "HTTPClient", 0, 0, false, NULL},
	{"HTTPClient with a full URL loader gets it as is", "HTTPClient:Arch:00016", false, 16,
	 false, DHCP_PXE_MODE_PROXY, 80, true, "https://boot.example/x.efi", 0,
	 "https://boot.example/x.efi", "HTTPClient", 0, 0, false, NULL},
	{"HTTPClient BIOS (20) without loaders", "HTTPClient:Arch:00020", false, 20, false,
	 DHCP_PXE_MODE_FULL, 80, true, NULL, 0, "http://10.77.0.1/undionly.kpxe", "HTTPClient", 0, 0,
	 false, NULL},
	{"HTTPClient ARM64 without a loader: no file", "HTTPClient:Arch:00019", false, 19, false,
	 DHCP_PXE_MODE_FULL, 80, true, NULL, -ENOENT, NULL, NULL, 0, 0, false, "arm64-http"},
	{"plain client: not a boot client", NULL, false, -1, false, DHCP_PXE_MODE_FULL, 80, true,
	 NULL, -ENOENT, NULL, NULL, 0, 0, false, "not a network-boot client"},
};

static void test_decide_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(decide_rows); i++) {
		const struct decide_row *r = &decide_rows[i];
		struct pkt p;
		struct dhcp_pxe_facts f;
		struct dhcp_pxe_boot b;
		print_message("row: %s\n", r->name);
		conf_defaults();
		cfg.http.port = r->http_port;
		cfg.dhcp.no_proxydhcp_wait = r->no_wait;
		if (r->efi64_http_loader)
			strcpy(cfg.loaders[CONF_ARCH_EFI64_HTTP], r->efi64_http_loader);
		pkt_init(&p, DHCPDISCOVER);
		if (r->o60)
			pkt_opt(&p, DHCP_OPT_VENDOR_CLASS, r->o60, strlen(r->o60));
		if (r->ipxe)
			pkt_opt(&p, DHCP_OPT_USER_CLASS, "iPXE", 4);
		if (r->arch >= 0)
			pkt_opt(&p, DHCP_OPT_CLIENT_ARCH, ((uint8_t[]){0, (uint8_t)r->arch}), 2);
		if (r->uuid)
			pkt_opt(&p, DHCP_OPT_UUID, uuid17, 17);
		pkt_parse(&p, &msg);
		dhcp_pxe_facts_parse(&msg, &f);
		int rc = dhcp_pxe_decide(&cfg, &f, SERVER_IP, r->mode, &b);
		assert_int_equal(rc, r->rc);
		if (rc < 0) {
			assert_false(b.has_file);
			assert_non_null(strstr(b.reason, r->reason));
			continue;
		}
		assert_true(b.has_file);
		assert_string_equal(b.file, r->file);
		assert_int_equal(b.file_is_url, strstr(r->file, "://") != NULL);
		assert_int_equal(b.siaddr, SERVER_IP);
		if (r->vclass)
			assert_string_equal(b.vendor_class, r->vclass);
		else
			assert_null(b.vendor_class);
		assert_int_equal(b.opt43_len, r->o43);
		if (r->o43)
			assert_memory_equal(b.opt43, ((uint8_t[]){6, 1, 8, 0xff}), 4);
		assert_int_equal(b.opt175_len, r->o175);
		if (r->o175)
			assert_memory_equal(b.opt175, ((uint8_t[]){0xb0, 1, 1}), 3);
		assert_int_equal(b.echo_uuid, r->echo_uuid);
		if (r->echo_uuid)
			assert_memory_equal(b.uuid_opt, uuid17, 17);
		assert_string_equal(b.reason, "");
	}
}

static void test_ipxe_with_http_disabled_gets_no_file(void **state)
{
	(void)state;
	struct pkt p;
	struct dhcp_pxe_facts f;
	struct dhcp_pxe_boot b;
	cfg.http.enabled = false;
	pkt_init(&p, DHCPDISCOVER);
	pkt_opt(&p, DHCP_OPT_USER_CLASS, "iPXE", 4);
	pkt_parse(&p, &msg);
	dhcp_pxe_facts_parse(&msg, &f);
	assert_int_equal(dhcp_pxe_decide(&cfg, &f, SERVER_IP, DHCP_PXE_MODE_FULL, &b), -ENOENT);
	assert_non_null(strstr(b.reason, "disabled"));
}

/* ---- the captured firmware packets ---- */

#ifndef PIXIED_SOURCE_ROOT
#define PIXIED_SOURCE_ROOT "."
#endif

static void load_seed(const char *name, struct dhcp_msg *m)
{
	char path[512];
	uint8_t buf[DHCP_MAX_LEN];
	snprintf(path, sizeof(path), "%s/tests/fuzz/dhcp_parse/corpus/%s", PIXIED_SOURCE_ROOT, name);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot open %s", path);
	size_t n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_int_equal(dhcp_msg_parse(m, buf, n), DHCP_PARSE_OK);
}

static void test_captured_firmware_facts(void **state)
{
	(void)state;
	static const struct {
		const char *seed;
		bool pxe, ipxe, https, ndi, uuid;
		uint16_t arch;
		const char *file;
	} rows[] = {
		{"bios-seabios-e1000-ipxe-rom-0.bin", true, true, false, true, true, 0,
		 "http://10.77.0.1" IPXE_URL},
		{"uefi-ovmf-virtio-native-pxe-0.bin", true, false, false, true, true, 7, "ipxe.efi"},
		{"uefi-ovmf-virtio-native-pxe-4.bin", true, true, false, true, true, 7,
		 "http://10.77.0.1" IPXE_URL},
		{"uefi-ovmf-e1000-ipxe-efi-rom-0.bin", true, true, false, true, true, 7,
		 "http://10.77.0.1" IPXE_URL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct dhcp_pxe_facts f;
		struct dhcp_pxe_boot b;
		print_message("seed: %s\n", rows[i].seed);
		load_seed(rows[i].seed, &msg);
		assert_int_equal(msg.type, DHCPDISCOVER);
		dhcp_pxe_facts_parse(&msg, &f);
		assert_int_equal(f.is_pxe, rows[i].pxe);
		assert_int_equal(f.is_ipxe, rows[i].ipxe);
		assert_int_equal(f.ipxe_https, rows[i].https);
		assert_int_equal(f.has_ndi, rows[i].ndi);
		assert_int_equal(f.has_uuid, rows[i].uuid);
		assert_true(f.has_arch);
		assert_int_equal(f.arch_code, rows[i].arch);
		assert_memory_equal(f.mac, ((uint8_t[]){0x52, 0x54, 0x00, 0x77, 0x00, 0x10}), 6);
		assert_int_equal(dhcp_pxe_decide(&cfg, &f, SERVER_IP, DHCP_PXE_MODE_FULL, &b), 0);
		assert_string_equal(b.file, rows[i].file);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_arch_table_has_a_row_for_every_iana_code, setup),
		cmocka_unit_test_setup(test_arch_names_match_the_registry, setup),
		cmocka_unit_test_setup(test_unknown_arch_code_has_no_row_and_no_loader, setup),
		cmocka_unit_test_setup(test_facts_table, setup),
		cmocka_unit_test_setup(test_ipxe_encap_suboptions_are_kept, setup),
		cmocka_unit_test_setup(test_ipxe_encap_truncated_keeps_what_was_read, setup),
		cmocka_unit_test_setup(test_vendor_class_is_escaped, setup),
		cmocka_unit_test_setup(test_decide_table, setup),
		cmocka_unit_test_setup(test_ipxe_with_http_disabled_gets_no_file, setup),
		cmocka_unit_test_setup(test_captured_firmware_facts, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
