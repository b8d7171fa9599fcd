/*
 * dhcp/wire — DHCPv4/BOOTP messages: parse bytes into an owned, typed message, and build
 * a reply into a caller's buffer. Pure: no I/O, no allocation, no logging.
 *
 * Parsing (RFC 2131 §2, RFC 2132, RFC 3396): the fixed header is checked (op, htype,
 * hlen <= 16), the magic cookie is required for DHCP (its absence means plain BOOTP),
 * options are read with the bounds-checked cursor, option 52 overload pulls options from
 * `file` and then `sname`, and repeated instances of one option are concatenated (RFC 3396).
 * Typed getters check the exact length an option must have.
 *
 * Building: the header, the cookie, then options in the order the caller added them;
 * values longer than 255 bytes are split into consecutive instances (RFC 3396); options
 * that do not fit the client's maximum size (option 57) are left out, lowest priority
 * (added last) first; the message is padded to 300 bytes (RFC 1542 BOOTP minimum).
 */
#ifndef PIXIED_DHCP_WIRE_H
#define PIXIED_DHCP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_HDR_LEN 236         /* fixed BOOTP header, up to and including `file` */
#define DHCP_COOKIE 0x63825363u
#define DHCP_MIN_LEN 300         /* replies are padded to this (RFC 1542 §3.2.2) */
#define DHCP_MAX_LEN 1500        /* largest message we accept or build */
#define DHCP_OPTBUF_LEN 1500     /* concatenated option payload bytes */

enum dhcp_op { DHCP_OP_REQUEST = 1, DHCP_OP_REPLY = 2 };

enum dhcp_msg_type {
	DHCP_NONE = 0, /* BOOTP: no option 53 */
	DHCPDISCOVER = 1,
	DHCPOFFER = 2,
	DHCPREQUEST = 3,
	DHCPDECLINE = 4,
	DHCPACK = 5,
	DHCPNAK = 6,
	DHCPRELEASE = 7,
	DHCPINFORM = 8,
};

enum dhcp_opt_code {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_SUBNET_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6,
	DHCP_OPT_HOSTNAME = 12,
	DHCP_OPT_DOMAIN = 15,
	DHCP_OPT_BROADCAST = 28,
	DHCP_OPT_NTP = 42,
	DHCP_OPT_VENDOR = 43,
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PRL = 55,
	DHCP_OPT_MESSAGE = 56,
	DHCP_OPT_MAX_SIZE = 57,
	DHCP_OPT_T1 = 58,
	DHCP_OPT_T2 = 59,
	DHCP_OPT_VENDOR_CLASS = 60,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_TFTP_SERVER = 66,
	DHCP_OPT_BOOTFILE = 67,
	DHCP_OPT_USER_CLASS = 77,
	DHCP_OPT_RELAY_AGENT = 82,
	DHCP_OPT_CLIENT_ARCH = 93,
	DHCP_OPT_CLIENT_NDI = 94,
	DHCP_OPT_UUID = 97,
	DHCP_OPT_IPXE_ENCAP = 175,
	DHCP_OPT_PXELINUX_CONFIGFILE = 209,
	DHCP_OPT_PXELINUX_PATHPREFIX = 210,
	DHCP_OPT_END = 255,
};

/* Where one option's (concatenated) value lives in msg->optbuf. */
struct dhcp_optref {
	uint16_t off;
	uint16_t len;
	bool present;
};

struct dhcp_msg {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr; /* host byte order */
	uint8_t chaddr[16];
	uint8_t sname[64];       /* zeroed when option 52 says it carries options */
	uint8_t file[128];       /* zeroed when option 52 says it carries options */
	bool has_cookie;         /* false: BOOTP without options */
	uint8_t overload;        /* option 52 value (0 when absent) */
	uint8_t type;            /* enum dhcp_msg_type, DHCP_NONE for BOOTP */
	struct dhcp_optref opt[256];
	uint8_t optbuf[DHCP_OPTBUF_LEN];
	size_t optbuf_len;
};

/* Why a parse failed, for the one log line the caller writes. */
enum dhcp_parse_err {
	DHCP_PARSE_OK = 0,
	DHCP_PARSE_SHORT,        /* fewer than 236 bytes (or 240 with a cookie) */
	DHCP_PARSE_BAD_OP,       /* op not 1/2 */
	DHCP_PARSE_BAD_HLEN,     /* hlen 0 or > 16, or htype 1 with hlen != 6 */
	DHCP_PARSE_TRUNC_OPT,    /* an option's length runs past the end of its area */
	DHCP_PARSE_NO_END,       /* options area ends without END (tolerated for the main area) */
	DHCP_PARSE_BAD_OVERLOAD, /* option 52 not 1 byte 1..3 */
	DHCP_PARSE_BAD_TYPE,     /* option 53 not 1 byte 1..8 (17 and later types unsupported) */
	DHCP_PARSE_TOO_BIG,      /* concatenated options exceed DHCP_OPTBUF_LEN */
};
const char *dhcp_parse_strerror(enum dhcp_parse_err e);

/* Parse a UDP payload. Returns DHCP_PARSE_OK or the reason; m is fully reset either way.
 * 236..239 bytes, or no cookie, is BOOTP without options (has_cookie false), except 237..239
 * bytes that begin the cookie (DHCP_PARSE_SHORT). More than DHCP_MAX_LEN: DHCP_PARSE_TOO_BIG.
 * A missing END is tolerated in every area. On failure the header fields (xid, chaddr...)
 * stay filled in for the log line; options, type and overload are cleared. */
enum dhcp_parse_err dhcp_msg_parse(struct dhcp_msg *m, const uint8_t *buf, size_t len);

/* Raw option value, NULL (and *len 0) when absent; a present empty option gives a
 * non-NULL pointer and *len 0. */
const uint8_t *dhcp_msg_opt(const struct dhcp_msg *m, uint8_t code, size_t *len);
/* Exact-size getters: 0, -ENOENT when absent, -EBADMSG when the length is wrong. */
int dhcp_msg_opt_u8(const struct dhcp_msg *m, uint8_t code, uint8_t *v);
int dhcp_msg_opt_u16(const struct dhcp_msg *m, uint8_t code, uint16_t *v);
int dhcp_msg_opt_u32(const struct dhcp_msg *m, uint8_t code, uint32_t *v);
/* IPv4 address option (4 bytes), host order. */
int dhcp_msg_opt_ip(const struct dhcp_msg *m, uint8_t code, uint32_t *ip);

/* ---- building ---- */

#define DHCP_BUILD_MAX_OPTS 64

struct dhcp_build_opt {
	uint8_t code;
	uint16_t len;
	const uint8_t *data; /* must stay valid until dhcp_build() returns */
	bool required;       /* never dropped for size; building fails if it does not fit */
};

struct dhcp_reply {
	uint8_t op; /* DHCP_OP_REPLY */
	uint8_t htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr; /* host order */
	uint8_t chaddr[16];
	uint8_t sname[64];
	uint8_t file[128];
	bool bootp;       /* BOOTP reply: no cookie-less form; options still sent after cookie */
	size_t max_len;   /* largest UDP payload the client takes, 0 = 576-28; dhcp_reply_init
	                   * sets it to option 57 - 28; dhcp_build clamps it to 548..1500 */
	struct dhcp_build_opt opts[DHCP_BUILD_MAX_OPTS];
	size_t nopts;
	/* storage for option values added by the helpers below (opts[].data points in here,
	 * so a struct dhcp_reply must not be copied by value once options are added) */
	uint8_t store[1024];
	size_t store_len;
};

/* Start a reply to `req`: copies xid, flags, giaddr, htype/hlen/chaddr, hops; op 2, secs 0;
 * max_len from option 57; bootp when req has no cookie or no option 53. */
void dhcp_reply_init(struct dhcp_reply *r, const struct dhcp_msg *req);
/* Add an option (data copied into r->store). -ENOSPC when the table or store is full,
 * -EEXIST when `code` was already added, -EINVAL for codes 0, 52 (never overloads), 255. */
int dhcp_reply_add(struct dhcp_reply *r, uint8_t code, const void *data, size_t len, bool required);
int dhcp_reply_add_u8(struct dhcp_reply *r, uint8_t code, uint8_t v, bool required);
int dhcp_reply_add_u16(struct dhcp_reply *r, uint8_t code, uint16_t v, bool required);
int dhcp_reply_add_u32(struct dhcp_reply *r, uint8_t code, uint32_t v, bool required);
int dhcp_reply_add_ip(struct dhcp_reply *r, uint8_t code, uint32_t ip, bool required);
bool dhcp_reply_has(const struct dhcp_reply *r, uint8_t code);

/* Serialize. Returns the length (>= 300) or a negative errno (-EMSGSIZE when a required
 * option does not fit max_len / cap, or cap < 300). */
int dhcp_build(const struct dhcp_reply *r, uint8_t *buf, size_t cap);

#endif
