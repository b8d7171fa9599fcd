/*
 * ra — "no IPv6 router here": answers IPv6 Router Solicitations with a Router Advertisement
 * that offers nothing (router lifetime 0, no prefix, M = O = 0), so a client that waits for
 * IPv6 autoconfiguration (iPXE: ~13-15 s on a link without a router) learns at once that
 * there is none and boots over IPv4. Enabled by [server] ipv6-ra (default no).
 *
 * Owns: the ICMPv6 RS/RA wire format (pure builder and parser, through cursor/writer), one
 * raw ICMPv6 socket per configured interface joined to ff02::2 (all-routers), the answer
 * timers (RFC 4861 §6.2.6 delay and multicast rate limit).
 * Does not own: addresses (the kernel picks the link-local source), neighbour discovery,
 * DHCPv6, anything a real router does: it never advertises a prefix, a default route, an
 * MTU or a DNS server. Needs CAP_NET_RAW (kept after the privilege drop, so a reload can
 * open new sockets). Single-threaded like the rest of pixied.
 */
#ifndef PIXIED_RA_RA_H
#define PIXIED_RA_RA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

struct loop;
struct net_iface;

/* ---- pure: the wire (RFC 4861 §4.1, §4.2, §4.6.1) ---------------------------------------- */

#define RA_ICMP6_RS  133
#define RA_ICMP6_RA  134
#define RA_OPT_SLLA  1   /* source link-layer address */
#define RA_HOP_LIMIT 255 /* every ND message is sent with, and checked for, IP hop limit 255 */
#define RA_MAX_LEN   64  /* what ra_build_ra can produce (16 + one 8-byte option) */

/* A Router Solicitation that passed the checks of RFC 4861 §6.1.1. */
struct ra_rs {
	bool has_slla;
	uint8_t slla[6]; /* the solicitor's MAC when it sent a source link-layer option */
	size_t nopts;    /* options seen (any type) */
};

/*
 * Parse an ICMPv6 message (from its type byte; the kernel has checked the checksum of a raw
 * ICMPv6 socket's input) received with IP hop limit hop_limit (-1 = unknown: rejected) from
 * a source that is the unspecified address (src_unspecified) or not. 0 and *rs for a valid
 * RS; -ENOMSG for another ICMPv6 type; -EBADMSG for an invalid RS (hop limit not 255, code
 * not 0, shorter than 8 bytes, an option of length 0 or past the end, a source link-layer
 * option from the unspecified address).
 */
int ra_parse_rs(const uint8_t *buf, size_t len, int hop_limit, bool src_unspecified,
		struct ra_rs *rs);

/* What an RA says. ra_no_router() fills the one pixied sends. */
struct ra_advert {
	uint8_t cur_hop_limit;    /* 0 = unspecified */
	bool managed, other;      /* M and O flags */
	uint16_t router_lifetime; /* seconds; 0 = not a default router */
	uint32_t reachable_ms;    /* 0 = unspecified */
	uint32_t retrans_ms;      /* 0 = unspecified */
	bool has_slla;
	uint8_t slla[6];  /* our MAC on the interface */
	size_t nprefixes; /* parse only: prefix information options seen */
	size_t nopts;     /* parse only: options seen */
};

/* The "no router here" advertisement: everything 0, our MAC as source link-layer address. */
void ra_no_router(struct ra_advert *a, const uint8_t mac[6]);

/*
 * Build an RA into buf (checksum left 0: the kernel fills it for a raw ICMPv6 socket, RFC
 * 3542 §3.1). Returns its length, or -ENOSPC when cap is too small.
 */
int ra_build_ra(uint8_t *buf, size_t cap, const struct ra_advert *a);

/* Build an RS (tests, the fuzzer's round trip): with slla when non-NULL. Length or -ENOSPC. */
int ra_build_rs(uint8_t *buf, size_t cap, const uint8_t *slla);

/*
 * Parse an RA (tests and the system test's mirror): 0 and *a, -ENOMSG for another type,
 * -EBADMSG when code is not 0, it is shorter than 16 bytes, or an option has length 0 or
 * runs past the end. Hop limit is not checked here.
 */
int ra_parse_ra(const uint8_t *buf, size_t len, struct ra_advert *a);

/* ---- the service ---------------------------------------------------------------------------- */

struct ra;

/*
 * A new RA responder for config c on the interfaces ifs[0..nifs) (main's list). When
 * c->ipv6_ra is off it opens nothing (a later ra_reconfigure may turn it on). An interface
 * that cannot take part (no IPv6 on it) is skipped with a warning; failing to open a raw
 * socket at all (no CAP_NET_RAW) is an error. NULL with a message in err.
 */
struct ra *ra_new(struct loop *l, const struct conf *c, const struct net_iface *ifs, size_t nifs,
		  char *err, size_t errlen);
void ra_free(struct ra *r);
/* Switch to c (and the interface list): sockets are closed and opened as needed. 0 or a
 * negative errno with a message in err (then nothing is answered until the next success). */
int ra_reconfigure(struct ra *r, const struct conf *c, const struct net_iface *ifs, size_t nifs,
		   char *err, size_t errlen);

/* Counters (metrics / tests). */
struct ra_stats {
	uint64_t rs_rx;      /* valid solicitations */
	uint64_t rs_dropped; /* invalid ones, or from another interface */
	uint64_t ra_tx;      /* advertisements sent */
	uint64_t tx_errors;
};
void ra_get_stats(const struct ra *r, struct ra_stats *st);

#endif
