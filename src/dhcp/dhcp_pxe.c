/*
 * dhcp/pxe — the architecture table, the boot facts of a request and the boot decision.
 *
 * Owns: RFC 4578 / IANA processor architecture types, PXE/HTTPClient/iPXE detection, the
 * choice of boot file or URL and the PXE options that go with it. Does not own: leases,
 * reply routing, option order, the wire format (see dhcp_pxe.h). Pure: no I/O.
 */
#include "dhcp/dhcp_pxe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/cursor.h"
#include "core/log.h"
#include "core/util.h"

#define NONE DHCP_PXE_ARCH_NONE

/*
 * IANA "Processor Architecture Types" (DHCPv6 parameters registry; RFC 4578 §2.1 for 0-9
 * with errata 4624, which swapped 7 and 9 to match what EDK2 and everyone else send).
 * EBC (9) is booted like x64 UEFI: older EDK2 builds sent 9 on x64 machines.
 */
static const struct dhcp_pxe_arch arch_table[] = {
	{0, "x86 BIOS", CONF_ARCH_BIOS, false},
	{1, "NEC/PC98 (deprecated)", NONE, false},
	{2, "Itanium", NONE, false},
	{3, "DEC Alpha (deprecated)", NONE, false},
	{4, "Arc x86 (deprecated)", NONE, false},
	{5, "Intel Lean Client (deprecated)", NONE, false},
	{6, "x86 UEFI", CONF_ARCH_EFI32, false},
	{7, "x64 UEFI", CONF_ARCH_EFI64, false},
	{8, "EFI Xscale (deprecated)", NONE, false},
	{9, "EBC", CONF_ARCH_EFI64, false},
	{10, "ARM 32-bit UEFI", CONF_ARCH_ARM32, false},
	{11, "ARM 64-bit UEFI", CONF_ARCH_ARM64, false},
	{12, "PowerPC Open Firmware", NONE, false},
	{13, "PowerPC ePAPR", NONE, false},
	{14, "POWER OPAL v3", NONE, false},
	{15, "x86 UEFI boot from HTTP", CONF_ARCH_EFI32_HTTP, true},
	{16, "x64 UEFI boot from HTTP", CONF_ARCH_EFI64_HTTP, true},
	{17, "EBC boot from HTTP", CONF_ARCH_EFI64_HTTP, true},
	{18, "ARM 32-bit UEFI boot from HTTP", CONF_ARCH_ARM32_HTTP, true},
	{19, "ARM 64-bit UEFI boot from HTTP", CONF_ARCH_ARM64_HTTP, true},
	{20, "PC/AT BIOS boot from HTTP", CONF_ARCH_BIOS_HTTP, true},
	{21, "ARM 32-bit U-Boot", NONE, false},
	{22, "ARM 64-bit U-Boot", NONE, false},
	{23, "ARM 32-bit U-Boot boot from HTTP", NONE, true},
	{24, "ARM 64-bit U-Boot boot from HTTP", NONE, true},
	{25, "RISC-V 32-bit UEFI", CONF_ARCH_RISCV32, false},
	{26, "RISC-V 32-bit UEFI boot from HTTP", CONF_ARCH_RISCV32, true},
	{27, "RISC-V 64-bit UEFI", CONF_ARCH_RISCV64, false},
	{28, "RISC-V 64-bit UEFI boot from HTTP", CONF_ARCH_RISCV64_HTTP, true},
	{29, "RISC-V 128-bit UEFI", NONE, false},
	{30, "RISC-V 128-bit UEFI boot from HTTP", NONE, true},
	{31, "s390 Basic", NONE, false},
	{32, "s390 Extended", NONE, false},
	{33, "MIPS 32-bit UEFI", NONE, false},
	{34, "MIPS 64-bit UEFI", NONE, false},
	{35, "Sunway 32-bit UEFI", NONE, false},
	{36, "Sunway 64-bit UEFI", NONE, false},
	{37, "LoongArch 32-bit UEFI", NONE, false},
	{38, "LoongArch 32-bit UEFI boot from HTTP", NONE, true},
	{39, "LoongArch 64-bit UEFI", CONF_ARCH_LOONGARCH64, false},
	{40, "LoongArch 64-bit UEFI boot from HTTP", CONF_ARCH_LOONGARCH64, true},
	{41, "ARM rpiboot", NONE, false},
};

const struct dhcp_pxe_arch *dhcp_pxe_arch_table(size_t *n)
{
	*n = ARRAY_SIZE(arch_table);
	return arch_table;
}

const struct dhcp_pxe_arch *dhcp_pxe_arch_find(uint16_t code)
{
	/* The table is dense from 0: the code is the index. */
	if (code >= ARRAY_SIZE(arch_table))
		return NULL;
	return &arch_table[code];
}

/* The [loaders] key pairs: plain <-> "-http". */
static enum conf_arch arch_http_variant(enum conf_arch a)
{
	switch (a) {
	case CONF_ARCH_BIOS: return CONF_ARCH_BIOS_HTTP;
	case CONF_ARCH_EFI32: return CONF_ARCH_EFI32_HTTP;
	case CONF_ARCH_EFI64: return CONF_ARCH_EFI64_HTTP;
	case CONF_ARCH_ARM32: return CONF_ARCH_ARM32_HTTP;
	case CONF_ARCH_ARM64: return CONF_ARCH_ARM64_HTTP;
	case CONF_ARCH_RISCV64: return CONF_ARCH_RISCV64_HTTP;
	default: return a;
	}
}

static enum conf_arch arch_plain_variant(enum conf_arch a)
{
	switch (a) {
	case CONF_ARCH_BIOS_HTTP: return CONF_ARCH_BIOS;
	case CONF_ARCH_EFI32_HTTP: return CONF_ARCH_EFI32;
	case CONF_ARCH_EFI64_HTTP: return CONF_ARCH_EFI64;
	case CONF_ARCH_ARM32_HTTP: return CONF_ARCH_ARM32;
	case CONF_ARCH_ARM64_HTTP: return CONF_ARCH_ARM64;
	case CONF_ARCH_RISCV64_HTTP: return CONF_ARCH_RISCV64;
	default: return a;
	}
}

/* ---- facts ---- */

static bool has_prefix(const uint8_t *p, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);
	return p && n >= pl && memcmp(p, prefix, pl) == 0;
}

/*
 * Option 77. iPXE sends the bare 4 bytes "iPXE" (not RFC 3004's length-prefixed form: seen
 * from the SeaBIOS iPXE ROM, undionly.kpxe and ipxe.efi, DHCP-OPTIONS.md §1, §4); RFC 3004
 * §2 clients send instances of [len][data], len >= 1, any of which may say "iPXE".
 */
static bool user_class_is_ipxe(const uint8_t *p, size_t n)
{
	if (!p)
		return false;
	if (n == 4 && memcmp(p, "iPXE", 4) == 0)
		return true;
	struct cursor c;
	cursor_init(&c, p, n);
	while (c.left) {
		uint8_t ilen;
		struct cursor inst;
		if (cursor_u8(&c, &ilen) < 0 || ilen == 0 || cursor_sub(&c, ilen, &inst) < 0)
			return false; /* not RFC 3004 */
		if (ilen == 4 && memcmp(inst.p, "iPXE", 4) == 0)
			return true;
	}
	return false;
}

/* Option 175: iPXE's encapsulated options, TLV inside TLV; PAD and END allowed. */
static void parse_ipxe_encap(const uint8_t *p, size_t n, struct dhcp_pxe_facts *f)
{
	struct cursor c;
	cursor_init(&c, p, n);
	while (c.left) {
		uint8_t code, len;
		struct cursor v;
		if (cursor_u8(&c, &code) < 0)
			return;
		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			return;
		if (cursor_u8(&c, &len) < 0 || cursor_sub(&c, len, &v) < 0)
			return; /* truncated: keep what we have */
		if (code >= 0x10 && code <= 0x7f)
			f->ipxe_features[code / 8] |= (uint8_t)(1u << (code % 8));
		else if (code == DHCP_PXE_IPXE_BUS_ID && len >= 1 && len <= sizeof(f->ipxe_busid)) {
			(void)cursor_bytes(&v, f->ipxe_busid, len);
			f->ipxe_busid_len = len;
		} else if (code == DHCP_PXE_IPXE_VERSION && len == 3) {
			(void)cursor_bytes(&v, f->ipxe_version, 3);
			f->has_ipxe_version = true;
		}
	}
}

bool dhcp_pxe_ipxe_has_feature(const struct dhcp_pxe_facts *f, uint8_t code)
{
	if (code > 0x7f)
		return false;
	return f->ipxe_features[code / 8] & (1u << (code % 8));
}

/* "PXEClient:Arch:00007:UNDI:003000" -> 7, for PXE clients that omit option 93. */
static bool arch_from_vendor_class(const uint8_t *p, size_t n, uint16_t *code)
{
	static const char pre[] = "PXEClient:Arch:";
	uint64_t v;
	if (!has_prefix(p, n, pre) || n < sizeof(pre) - 1 + 5)
		return false;
	if (parse_u64n((const char *)p + sizeof(pre) - 1, 5, 0, UINT16_MAX, &v) < 0)
		return false;
	*code = (uint16_t)v;
	return true;
}

void dhcp_pxe_facts_parse(const struct dhcp_msg *m, struct dhcp_pxe_facts *f)
{
	const uint8_t *p;
	size_t n;

	memset(f, 0, sizeof(*f));
	f->arch = NONE;
	if (m->htype == 1 && m->hlen == 6) {
		f->has_mac = true;
		memcpy(f->mac, m->chaddr, 6);
	}

	/* Option 60 (RFC 2132 §9.13): PXE spec "PXEClient:...", UEFI 2.5 §24.7 "HTTPClient:...". */
	p = dhcp_msg_opt(m, DHCP_OPT_VENDOR_CLASS, &n);
	if (p) {
		log_escape(f->vendor_class, sizeof(f->vendor_class), p, n);
		f->is_pxe = has_prefix(p, n, "PXEClient");
		f->is_http = has_prefix(p, n, "HTTPClient");
	}

	/* Option 93 (RFC 4578 §2.1): a list of 16-bit types; the first is the running one.
	 * An odd length is tolerated (first full type taken); shorter than 2 = absent. */
	size_t an;
	const uint8_t *ap = dhcp_msg_opt(m, DHCP_OPT_CLIENT_ARCH, &an);
	if (ap && an >= 2) {
		f->has_arch = true;
		f->arch_code = (uint16_t)(ap[0] << 8 | ap[1]);
	} else if (p && arch_from_vendor_class(p, n, &f->arch_code)) {
		f->has_arch = true;
	}
	if (f->has_arch) {
		const struct dhcp_pxe_arch *a = dhcp_pxe_arch_find(f->arch_code);
		if (a) {
			str_copy(f->arch_name, a->name, sizeof(f->arch_name));
			f->arch = a->arch;
		} else {
			snprintf(f->arch_name, sizeof(f->arch_name), "unknown arch %u", f->arch_code);
		}
	}

	/* Option 94 (RFC 4578 §2.2): type, major, minor. */
	p = dhcp_msg_opt(m, DHCP_OPT_CLIENT_NDI, &n);
	if (p && n == 3) {
		f->has_ndi = true;
		memcpy(f->ndi, p, 3);
	}

	/* Option 97 (RFC 4578 §2.3): type 0 followed by a 16-byte GUID; anything else is
	 * treated as absent and never echoed. */
	p = dhcp_msg_opt(m, DHCP_OPT_UUID, &n);
	if (p && n == 17 && p[0] == 0) {
		f->has_uuid = true;
		memcpy(f->uuid, p + 1, 16);
	}

	p = dhcp_msg_opt(m, DHCP_OPT_USER_CLASS, &n);
	if (user_class_is_ipxe(p, n))
		f->is_ipxe = true;
	/* Option 175: only iPXE (and gPXE/Etherboot before it) sends it. */
	p = dhcp_msg_opt(m, DHCP_OPT_IPXE_ENCAP, &n);
	if (p) {
		f->is_ipxe = true;
		parse_ipxe_encap(p, n, f);
		f->ipxe_https = dhcp_pxe_ipxe_has_feature(f, DHCP_PXE_IPXE_FEATURE_HTTPS);
	}
}

/* ---- decision ---- */

static bool is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* "http://<ip>" or "http://<ip>:<port>" */
static void http_base(const struct conf *c, uint32_t server_ip, char *buf, size_t len)
{
	char ip[IPV4_STRLEN];
	fmt_ipv4(ip, server_ip);
	uint16_t port = c->http.port ? c->http.port : 80;
	if (port == 80)
		snprintf(buf, len, "http://%s", ip);
	else
		snprintf(buf, len, "http://%s:%u", ip, port);
}

static int set_file(struct dhcp_pxe_boot *out, const char *file)
{
	if (!file[0]) {
		snprintf(out->reason, sizeof(out->reason), "empty boot file name");
		return -ENOENT;
	}
	if (str_copy(out->file, file, sizeof(out->file)) >= sizeof(out->file)) {
		out->file[0] = '\0';
		snprintf(out->reason, sizeof(out->reason), "boot file name longer than %zu bytes",
			 sizeof(out->file) - 1);
		return -ENOENT;
	}
	out->has_file = true;
	out->reason[0] = '\0';
	return 0;
}

static const char *arch_label(const struct dhcp_pxe_facts *f)
{
	return f->has_arch ? f->arch_name : "no client arch";
}

int dhcp_pxe_decide(const struct conf *c, const struct dhcp_pxe_facts *f, uint32_t server_ip,
		    enum dhcp_pxe_mode mode, struct dhcp_pxe_boot *out)
{
	char base[48], buf[DHCP_PXE_FILE_LEN + 64];
	int r;

	memset(out, 0, sizeof(*out));
	out->boot_client = f->is_pxe || f->is_http || f->is_ipxe;
	if (!out->boot_client) {
		snprintf(out->reason, sizeof(out->reason), "not a network-boot client");
		return -ENOENT;
	}

	if (f->is_ipxe) {
		/* Already running iPXE: hand it its boot script (never the loader again, or it
		 * chain-loads itself forever; DHCP-OPTIONS.md §2). iPXE expands ${...} in the
		 * file name before fetching it. */
		if (!c->http.enabled) {
			snprintf(out->reason, sizeof(out->reason), "iPXE client but [http] is disabled");
			return -ENOENT;
		}
		http_base(c, server_ip, base, sizeof(base));
		snprintf(buf, sizeof(buf),
			 "%s/boot.ipxe?mac=${mac}&arch=${buildarch}&platform=${platform}&uuid=${uuid}",
			 base);
		if ((r = set_file(out, buf)) < 0)
			return r;
		out->file_is_url = true;
		if (f->is_http) {
			out->vendor_class = "HTTPClient";
		} else if (mode == DHCP_PXE_MODE_PROXY) {
			out->vendor_class = "PXEClient";
		} else if (c->dhcp.no_proxydhcp_wait) {
			/* iPXE takes an offer with 60 "PXEClient" as the ProxyDHCP offer too and
			 * honours 175.176 "no-pxedhcp": it requests at once instead of waiting ~3 s
			 * for ProxyDHCP offers (DHCP-OPTIONS.md §6). */
			out->vendor_class = "PXEClient";
			out->opt175[0] = DHCP_PXE_IPXE_NO_PXEDHCP;
			out->opt175[1] = 1;
			out->opt175[2] = 1;
			out->opt175_len = 3;
		}
	} else if (f->is_http) {
		/* UEFI HTTP Boot (UEFI 2.5+ §24.7): the file is a URL; the reply must carry
		 * 60 "HTTPClient" or the firmware ignores the offer. */
		enum conf_arch a = f->arch;
		if (!f->has_arch || a == NONE) {
			snprintf(out->reason, sizeof(out->reason), "no loader for %s", arch_label(f));
			return -ENOENT;
		}
		enum conf_arch ha = arch_http_variant(a), pa = arch_plain_variant(a);
		const char *name = c->loaders[ha];
		if (!name[0])
			name = c->loaders[pa];
		if (!name[0]) {
			snprintf(out->reason, sizeof(out->reason), "no loader for %s ([loaders] %s)",
				 f->arch_name, conf_arch_name(ha));
			return -ENOENT;
		}
		if (is_url(name)) {
			r = set_file(out, name);
		} else {
			if (!c->http.enabled) {
				snprintf(out->reason, sizeof(out->reason),
					 "HTTP Boot client but [http] is disabled");
				return -ENOENT;
			}
			const char *served = conf_loader_name(c, c->loaders[ha][0] ? ha : pa);
			http_base(c, server_ip, base, sizeof(base));
			snprintf(buf, sizeof(buf), "%s/%s", base, served);
			r = set_file(out, buf);
		}
		if (r < 0)
			return r;
		out->file_is_url = true;
		out->vendor_class = "HTTPClient";
	} else {
		/* PXE firmware: its arch's loader over TFTP. */
		enum conf_arch a = f->arch;
		if (!f->has_arch || a == NONE) {
			snprintf(out->reason, sizeof(out->reason), "no loader for %s", arch_label(f));
			return -ENOENT;
		}
		a = arch_plain_variant(a); /* a PXEClient that sent an HTTP arch type */
		const char *name = conf_loader_name(c, a);
		if (!name || !name[0] || is_url(name)) {
			snprintf(out->reason, sizeof(out->reason), "no loader for %s ([loaders] %s)",
				 f->arch_name, conf_arch_name(a));
			return -ENOENT;
		}
		if ((r = set_file(out, name)) < 0)
			return r;
		out->vendor_class = "PXEClient";
		/* PXE 2.1 §2.2.5, option 43 sub-option 6 PXE_DISCOVERY_CONTROL bit 3 (8): boot
		 * the file named in this offer, no boot-server discovery or menu. */
		out->opt43[0] = 6;
		out->opt43[1] = 1;
		out->opt43[2] = 8;
		out->opt43[3] = DHCP_OPT_END;
		out->opt43_len = 4;
	}

	out->siaddr = server_ip;
	/* PXE 2.1 §2.2.5 / RFC 4578 §2.3: a server replying to a PXE client echoes its UUID. */
	if (f->has_uuid && (f->is_pxe || f->is_http)) {
		out->echo_uuid = true;
		out->uuid_opt[0] = 0;
		memcpy(out->uuid_opt + 1, f->uuid, 16);
	}
	return 0;
}
