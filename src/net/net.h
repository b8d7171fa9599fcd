/*
 * net — sockets and the host's interfaces: UDP sockets that report the arrival interface
 * and destination (IP_PKTINFO), sending a UDP/IPv4 frame straight to a MAC (AF_PACKET) for
 * DHCP clients that have no address yet, the conflict probes (ICMP echo, ARP), and dropping
 * root after binding. Knows nothing about DHCP or TFTP beyond port numbers it is handed.
 */
#ifndef PIXIED_NET_NET_H
#define PIXIED_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NET_IFNAMSIZ 16

struct net_iface {
	char name[NET_IFNAMSIZ];
	int ifindex;
	uint8_t mac[6];
	unsigned mtu;
	uint32_t addr;   /* primary IPv4, host order; 0 if none */
	uint32_t mask;   /* host order */
};

/* Look up an interface by name (its first IPv4 address). 0 or a negative errno. */
int net_iface_get(const char *name, struct net_iface *out);

/*
 * A UDP/IPv4 socket bound to addr:port (addr 0 = any), SO_REUSEADDR, SO_BROADCAST,
 * IP_PKTINFO on, non-blocking, close-on-exec. With ifname set, SO_BINDTODEVICE to it.
 * Returns the fd or a negative errno.
 */
int net_udp4_bind(uint32_t addr, uint16_t port, const char *ifname);

struct net_rx_info {
	uint32_t src_addr;   /* host order */
	uint16_t src_port;
	uint32_t dst_addr;   /* the packet's destination (ipi_addr), host order */
	int ifindex;         /* arrival interface */
};

/* recvmsg one datagram with its pktinfo. Returns bytes, or a negative errno (-EAGAIN;
 * -EMSGSIZE when the datagram was longer than cap: it is consumed and must be dropped). */
ssize_t net_udp4_recv(int fd, void *buf, size_t cap, struct net_rx_info *info);

/*
 * sendmsg one datagram to dst:port, from src (0 = kernel's choice) out of ifindex
 * (0 = routing's choice) via IP_PKTINFO. Returns 0 or a negative errno.
 */
int net_udp4_send(int fd, const void *buf, size_t len, uint32_t dst, uint16_t dst_port,
		  uint32_t src, int ifindex);

/*
 * A raw AF_PACKET socket (SOCK_DGRAM, ETH_P_IP) for net_raw_send_udp4; needs CAP_NET_RAW,
 * so open it before dropping privileges. Returns fd or negative errno.
 */
int net_raw_open(void);

/*
 * Send an IPv4/UDP datagram as an Ethernet frame straight to dst_mac on ifindex: builds the
 * IP header (checksummed, TTL 64, DF clear) and the UDP header (checksummed).
 */
int net_raw_send_udp4(int rawfd, int ifindex, const uint8_t dst_mac[6], uint32_t src,
		      uint16_t src_port, uint32_t dst, uint16_t dst_port, const void *payload,
		      size_t len);

/* Build the IPv4+UDP headers and payload into buf (pure; used by the above and by tests).
 * Returns the total length or a negative errno. */
int net_build_udp4(uint8_t *buf, size_t cap, uint32_t src, uint16_t src_port, uint32_t dst,
		   uint16_t dst_port, const void *payload, size_t len);

/* RFC 1071 Internet checksum. */
uint16_t net_csum(const void *data, size_t len, uint32_t initial);

/*
 * Conflict probes (non-blocking): open a probe socket, send, and later poll its fd for a
 * reply. ICMP echo uses a SOCK_DGRAM ICMP or raw socket; ARP uses AF_PACKET.
 */
int net_probe_icmp_open(void);
int net_probe_icmp_send(int fd, uint32_t dst, uint16_t id, uint16_t seq);
/* Returns 1 and sets *from if an echo reply was read, 0 if none pending, <0 on error. */
int net_probe_icmp_recv(int fd, uint32_t *from);
int net_probe_arp_open(int ifindex);
int net_probe_arp_send(int fd, int ifindex, const uint8_t src_mac[6], uint32_t src_ip,
		       uint32_t target_ip);
/* Returns 1 and sets *ip to the sender of an ARP reply, 0 if none pending. */
int net_probe_arp_recv(int fd, uint32_t *ip);

/*
 * Drop root: switch to `user` (its uid, gid, supplementary groups cleared), keep only the
 * capabilities listed (CAP_NET_RAW, CAP_NET_BIND_SERVICE, ...) in the permitted and effective
 * sets, clear the bounding set of everything else, and set no_new_privs. Does nothing and
 * returns 0 when not running as root. Returns 0 or a negative errno with a message in err.
 */
int net_drop_privileges(const char *user, const int *caps, size_t ncaps, char *err, size_t errlen);

/* uid/gid of a user (for chown of the state directory before dropping). */
int net_user_ids(const char *user, uid_t *uid, gid_t *gid);

/*
 * Pure helpers (no I/O) behind the functions above, exposed for unit tests and fuzzers.
 */

/* IPv4 (20, no options) + UDP (8) header bytes that net_build_udp4 puts before the payload. */
#define NET_UDP4_HDRLEN 28

/* Unfolded one's-complement sum of data added to sum; chain even-length pieces, then
 * net_csum(last, n, sum) folds and complements. */
uint32_t net_csum_partial(const void *data, size_t len, uint32_t sum);

/* ICMP echo request (type 8) with id/seq and a short payload. Returns length or -ENOSPC. */
int net_build_icmp_echo(uint8_t *buf, size_t cap, uint16_t id, uint16_t seq);

/*
 * Check an ICMP message (with_ip_header: it starts with the IPv4 header, as on a raw socket).
 * Returns 1 for a well-formed echo reply (sets *id, *seq if non-NULL), 0 for any other ICMP
 * message, -EBADMSG when truncated, malformed or the checksum is wrong.
 */
int net_parse_icmp_echo_reply(const void *buf, size_t len, bool with_ip_header, uint16_t *id,
			      uint16_t *seq);

/* ARP request (Ethernet/IPv4 who-has target_ip, 28 bytes). Returns length or -ENOSPC. */
int net_build_arp_request(uint8_t *buf, size_t cap, const uint8_t src_mac[6], uint32_t src_ip,
			  uint32_t target_ip);

/*
 * Check an ARP packet (no Ethernet header). Returns 1 for an Ethernet/IPv4 reply (sets *ip to
 * the sender's address and, if mac is non-NULL, its MAC), 0 for other ARP packets,
 * -EBADMSG when truncated.
 */
int net_parse_arp_reply(const void *buf, size_t len, uint32_t *ip, uint8_t mac[6]);

#endif
