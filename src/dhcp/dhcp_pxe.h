/*
 * dhcp/pxe — what a booting client is, and what it should boot.
 *
 * Owns: the IANA Processor Architecture Type table (RFC 4578 §2.1 and the IANA registry,
 * with RFC 4578 errata 4624: 7 = x64 UEFI, 9 = EBC), reading the boot-related options of
 * a parsed request into struct dhcp_pxe_facts (60 vendor class, 77 user class, 93 client
 * arch, 94 NDI, 97 UUID, 175 iPXE encapsulated options), and the boot decision: which
 * file name / URL a client gets and which PXE options go with it (60, 43, 175, 97, 66).
 *
 * Does not own: addresses, leases, where a reply goes or the order options are sent in
 * (dhcp_server), the wire format (dhcp_wire), the loader files themselves (files/), the
 * boot script a client fetches (boot/). Pure: no I/O, no allocation, no logging.
 */
#ifndef PIXIED_DHCP_PXE_H
#define PIXIED_DHCP_PXE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "dhcp/dhcp_wire.h"

/* "No loader key for this architecture" in the enum conf_arch fields below. */
#define DHCP_PXE_ARCH_NONE CONF_ARCH_COUNT

/* One row of the IANA Processor Architecture Types registry. */
struct dhcp_pxe_arch {
	uint16_t code;
	const char *name;      /* the registry's name */
	enum conf_arch arch;   /* [loaders] key it boots with, DHCP_PXE_ARCH_NONE if none */
	bool http;             /* a "boot from HTTP" type */
};

/* The row for `code`, NULL for a code the registry does not define (or we do not know). */
const struct dhcp_pxe_arch *dhcp_pxe_arch_find(uint16_t code);
/* The whole table, ordered by code (tests, docs, the UI). */
const struct dhcp_pxe_arch *dhcp_pxe_arch_table(size_t *n);

/* iPXE option 175 sub-options we read (iPXE include/ipxe/dhcp.h, features.h). */
enum {
	DHCP_PXE_IPXE_FEATURE_HTTPS = 0x14, /* feature flags are 0x10..0x7f */
	DHCP_PXE_IPXE_NO_PXEDHCP = 0xb0,    /* 176: do not wait for ProxyDHCP (server -> iPXE) */
	DHCP_PXE_IPXE_BUS_ID = 0xb1,        /* 177: bus type + ids */
	DHCP_PXE_IPXE_VERSION = 0xeb,       /* 235: major, minor, patch */
};

#define DHCP_PXE_VCLASS_LEN 128
#define DHCP_PXE_ARCH_NAME_LEN 48
#define DHCP_PXE_FILE_LEN 128   /* the BOOTP `file` field, NUL included */
#define DHCP_PXE_REASON_LEN 96

/* What a request says about the client. Fixed size, no pointers: safe to copy/keep. */
struct dhcp_pxe_facts {
	bool has_mac;                 /* htype 1, hlen 6 */
	uint8_t mac[6];
	bool has_arch;                /* option 93 (or PXEClient:Arch:NNNNN in option 60) */
	uint16_t arch_code;
	char arch_name[DHCP_PXE_ARCH_NAME_LEN]; /* registry name, "unknown arch N" or "" */
	enum conf_arch arch;          /* loader key from the table, DHCP_PXE_ARCH_NONE if none */
	bool is_pxe;                  /* option 60 starts with "PXEClient" */
	bool is_http;                 /* option 60 starts with "HTTPClient" (UEFI HTTP Boot) */
	bool is_ipxe;                 /* user class "iPXE" (bare or RFC 3004) or option 175 */
	bool has_uuid;                /* option 97: type 0 + 16 bytes exactly */
	uint8_t uuid[16];
	bool has_ndi;                 /* option 94: 3 bytes */
	uint8_t ndi[3];               /* type (1 = UNDI), major, minor */
	char vendor_class[DHCP_PXE_VCLASS_LEN]; /* option 60, log_escape()d; "" when absent */
	/* iPXE (option 175) */
	uint8_t ipxe_features[16];    /* bit n set = feature sub-option n (0..127) was sent */
	bool ipxe_https;              /* feature 0x14 */
	uint8_t ipxe_busid_len;       /* 0 = none */
	uint8_t ipxe_busid[8];        /* 1 = PCI: vendor, device, bus:dev.fn (big-endian) */
	bool has_ipxe_version;
	uint8_t ipxe_version[3];
};

/* Read every boot-related option of m. Never fails: malformed options count as absent. */
void dhcp_pxe_facts_parse(const struct dhcp_msg *m, struct dhcp_pxe_facts *f);

/* Is feature sub-option `code` (0x10..0x7f) in the client's option 175? */
bool dhcp_pxe_ipxe_has_feature(const struct dhcp_pxe_facts *f, uint8_t code);

enum dhcp_pxe_mode { DHCP_PXE_MODE_FULL, DHCP_PXE_MODE_PROXY };

/* The boot part of a reply. */
struct dhcp_pxe_boot {
	bool boot_client;             /* PXE, HTTPClient or iPXE: worth boot options at all */
	bool has_file;                /* a boot file/URL was chosen; the options below apply */
	char file[DHCP_PXE_FILE_LEN]; /* BOOTP `file` and option 67 */
	bool file_is_url;             /* http(s):// URL (iPXE, HTTPClient); else a TFTP name */
	uint32_t siaddr;              /* next-server: our address on this interface */
	const char *vendor_class;     /* option 60 to send: "PXEClient", "HTTPClient" or NULL */
	uint8_t opt43[4];             /* PXE vendor options (discovery control) */
	size_t opt43_len;
	uint8_t opt175[3];            /* iPXE encapsulated: 176 no-pxedhcp = 1 */
	size_t opt175_len;
	bool echo_uuid;               /* echo option 97 (type 0 + uuid) */
	uint8_t uuid_opt[17];
	char reason[DHCP_PXE_REASON_LEN]; /* why has_file is false ("" when it is true) */
};

/*
 * Decide what `f` boots, given our address on the arrival interface. Rules:
 * - a client already running iPXE gets the URL of its boot script, never a loader again;
 * - UEFI HTTP Boot ("HTTPClient") gets http://<us>[:port]/<loader> for its arch (or the
 *   loader key's own http:// URL), with option 60 "HTTPClient";
 * - PXE firmware gets its arch's loader name over TFTP with 60 "PXEClient" and option 43
 *   discovery control 8 (boot the offered file, no boot-server discovery);
 * - full mode + conf->dhcp.no_proxydhcp_wait: iPXE also gets 60 "PXEClient" and 175.176 = 1
 *   so it does not wait ~3 s for ProxyDHCP offers.
 * Returns 0 when out->has_file, -ENOENT otherwise (out->reason says why).
 */
int dhcp_pxe_decide(const struct conf *c, const struct dhcp_pxe_facts *f, uint32_t server_ip,
		    enum dhcp_pxe_mode mode, struct dhcp_pxe_boot *out);

#endif
