/*
 * dhcp/server — the DHCPv4 protocol engine: full server (RFC 2131 §4.3) and proxyDHCP.
 *
 * Owns: pools (per-range bitmaps, next-fit), leases in memory (hash by IP and by client
 * key, expiry heap, released FIFO, pending offers bounded by max_offers), reservations,
 * every per-message rule of RFC 2131 §4.3 (DISCOVER, REQUEST in SELECTING / INIT-REBOOT /
 * RENEWING / REBINDING, DECLINE, RELEASE, INFORM), BOOTP for reserved hosts, relays (giaddr
 * pool selection, option 82 echo), proxy mode on ports 67 and 4011, where a reply goes
 * (RFC 2131 §4.1), which options it carries and in what order (client's option 55).
 *
 * Does not own: sockets, raw sends, probes on the wire, SQLite, the clock (time is passed
 * in) — the caller (the lead's glue) does those with what dhcp_server_handle() decides:
 * persist tx->lease (commit) before sending tx->buf. PXE facts and boot choice: dhcp_pxe.
 * Parsing/building bytes: dhcp_wire.
 */
#ifndef PIXIED_DHCP_SERVER_H
#define PIXIED_DHCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "dhcp/dhcp_pxe.h"
#include "dhcp/dhcp_wire.h"
#include "store/store.h"

struct dhcp_server;

/* One interface we serve on (from net_iface_get). Addresses in host order. */
struct dhcp_server_iface {
	char name[16];
	int ifindex;
	uint32_t addr, mask;
	uint8_t mac[6];
};

/*
 * A server for conf c (c->dhcp.mode decides full / proxy / off) on these interfaces.
 * Fails (NULL, err filled) when a full-mode pool without a subnet matches no interface,
 * a range lies outside its pool's subnet, ranges overlap, or memory runs out.
 * c and ifs are copied where needed; c itself must outlive the server.
 */
struct dhcp_server *dhcp_server_new(const struct conf *c, const struct dhcp_server_iface *ifs,
				    size_t nifs, char *err, size_t errlen);
void dhcp_server_free(struct dhcp_server *s);

/* SIGHUP: apply a new config, keep leases (pending offers are dropped); on error keep the
 * old one and fill err. The conf must outlive the server (the lead keeps it). */
int dhcp_server_reconfigure(struct dhcp_server *s, const struct conf *c,
			    const struct dhcp_server_iface *ifs, size_t nifs, char *err,
			    size_t errlen);

/* At start: feed every stored lease (expired ones too; the server decides). Returns 0,
 * or -ENOENT when the address is in no pool / not usable (the lease is then forgotten). */
int dhcp_server_restore_lease(struct dhcp_server *s, const struct store_lease *l, int64_t now);

struct dhcp_rx {
	const struct dhcp_msg *msg;
	int ifindex;          /* arrival interface */
	uint32_t src_ip;      /* host order */
	uint16_t src_port;
	uint32_t dst_ip;      /* the packet's destination: 255.255.255.255 or one of ours */
	uint16_t local_port;  /* 67 or 4011 */
};

enum dhcp_dest {
	DHCP_DEST_UDP,        /* to dst_ip:dst_port from the socket */
	DHCP_DEST_BROADCAST,  /* 255.255.255.255:68 out of ifindex */
	DHCP_DEST_RAW,        /* Ethernet frame to dst_mac, IP dst_ip:68 (client has no address yet) */
};

struct dhcp_tx {
	uint8_t buf[DHCP_MAX_LEN];                /* built reply */
	size_t len;
	enum dhcp_dest dest;
	uint32_t dst_ip;
	uint16_t dst_port;
	uint8_t dst_mac[6];
	int ifindex;
	uint32_t src_ip;
	uint16_t src_port;                        /* 67 or 4011 */
	uint8_t type;                             /* DHCPOFFER/ACK/NAK..., DHCP_NONE for BOOTREPLY */
	bool persist;                             /* write `lease` before sending (commit before ACK) */
	struct store_lease lease;
	uint32_t probe_ip;                        /* for DHCP_RES_PROBE */
	struct dhcp_pxe_facts facts;              /* for logs / client records */
	const char *boot_file;                    /* what we handed out (points into boot_buf), or NULL */
	char boot_buf[DHCP_PXE_FILE_LEN];
	char boot_reason[DHCP_PXE_REASON_LEN];    /* boot client without a file: why ("" otherwise) */
	uint32_t yiaddr;                          /* address offered/acked (0 if none), for logs */
};

enum { DHCP_RES_NOREPLY = 0, DHCP_RES_REPLY = 1, DHCP_RES_PROBE = 2 };

/*
 * Decide. Returns >= 0 per the enum (tx->persist may be set with NOREPLY, e.g. RELEASE or
 * DECLINE); < 0 = dropped, *why says why (static string). Whatever the result, when
 * tx->persist is set the engine's state already changed: write tx->lease (it is set with
 * < 0 only when an ACK was decided but could not be built). *why may also be set with
 * NOREPLY for a normal silence worth a debug line (e.g. "selected another server").
 * DHCP_RES_PROBE: probe tx->probe_ip (conf->dhcp.probe), then call dhcp_server_probe_done()
 * and run this again with the same request.
 */
int dhcp_server_handle(struct dhcp_server *s, const struct dhcp_rx *rx, int64_t now,
		       struct dhcp_tx *tx, const char **why);

/* Conflict probe answer: in_use quarantines the address like a DECLINE (tx->persist set:
 * write tx->lease); otherwise the held offer is marked probed. At most
 * DHCP_SERVER_PROBE_ATTEMPTS candidates are probed per client and transaction. */
#define DHCP_SERVER_PROBE_ATTEMPTS 3
void dhcp_server_probe_done(struct dhcp_server *s, uint32_t ip, bool in_use, int64_t now,
			    struct dhcp_tx *tx);

/*
 * Admin release (API "release lease", dhcp_service_release): the lease on ip goes back to
 * the pool as if its owner had sent a DHCPRELEASE (RFC 2131 §4.3.4): state released, the
 * record stays keyed to its client (it gets the address back first), any pending offer on
 * it is dropped; counted in stats.releases. A quarantined (declined) address is released
 * too. *out is the record the caller must write to the store. 0, or -ENOENT when ip has no
 * bound or declined lease (unknown, only offered, already released or expired: free).
 */
int dhcp_server_release(struct dhcp_server *s, uint32_t ip, int64_t now, struct store_lease *out);

/* Counters for metrics/status. */
struct dhcp_server_stats {
	uint64_t rx[DHCPINFORM + 1];  /* messages by type; [0] = BOOTP (no option 53) */
	/* the same by client architecture: [type][conf_arch], [type][CONF_ARCH_COUNT] = no
	 * option 93 / not a boot client */
	uint64_t rx_arch[DHCPINFORM + 1][CONF_ARCH_COUNT + 1];
	uint64_t offers, acks, naks, bootp_replies, inform_acks;
	uint64_t proxy_offers, proxy_acks;
	uint64_t declines, releases, probes, probe_conflicts;
	uint64_t drops;               /* handle() returned < 0 */
	uint64_t exhausted;           /* DISCOVERs with no address left */
	uint64_t offers_evicted;      /* pending offers dropped for max_offers */
	uint64_t pending_offers;      /* gauge */
	uint64_t leases;              /* gauge: records held in memory */
};
const struct dhcp_server_stats *dhcp_server_stats(const struct dhcp_server *s);

struct dhcp_server_pool_stats {
	const char *name;
	uint32_t net, mask;
	uint64_t size;       /* addresses in the ranges */
	uint64_t free;       /* never used / not blocked: offered next */
	uint64_t bound;      /* unexpired BOUND */
	uint64_t offered;    /* pending offers */
	uint64_t declined;   /* quarantined now */
	uint64_t reclaimable;/* expired or released: reused when free runs out */
};
size_t dhcp_server_npools(const struct dhcp_server *s);
/* Stats of pool i (O(leases in the pool)); -ENOENT past the end. */
int dhcp_server_pool_stats(const struct dhcp_server *s, size_t i, int64_t now,
			   struct dhcp_server_pool_stats *out);

/* Hostname from the wire (option 12) made safe to store and show: printable ASCII without
 * < > " ' & \ (dropped), cut at the first NUL and at 63 bytes. Returns dst. */
char *dhcp_server_sanitize_hostname(char *dst, size_t dstlen, const uint8_t *src, size_t n);

/* RFC 2131 §4.1 reply routing for a reply of `type` with `yiaddr` to `req` (exposed for
 * tests): sets tx->dest, dst_ip, dst_port, dst_mac. Port 4011 replies are routed by the
 * caller (back to the source). */
void dhcp_server_route(const struct dhcp_msg *req, uint8_t type, uint32_t yiaddr,
		       struct dhcp_tx *tx);

#endif
