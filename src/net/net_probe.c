/*
 * net/net_probe — address conflict probes: ICMP echo (RFC 2131 2.2: a server SHOULD probe
 * an address before allocating it) and ARP who-has on one interface. Opens, sends and reads
 * replies without blocking; does not time the probe or decide what a reply means (the DHCP
 * server does both).
 */
#include "net/net.h"

#include "core/cursor.h"
#include "core/writer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/icmp.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ICMP_TYPE_ECHO_REPLY 0
#define ICMP_TYPE_ECHO_REQUEST 8
#define ICMP_HDRLEN 8
#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

/* Packets read per recv call before giving the loop back (level-triggered: it comes back). */
#define PROBE_RECV_BUDGET 32

static const uint8_t echo_payload[8] = {'p', 'i', 'x', 'i', 'e', 'd', 0, 0};

/* ---- ICMP echo ---- */

int net_build_icmp_echo(uint8_t *buf, size_t cap, uint16_t id, uint16_t seq)
{
	struct writer w;
	uint8_t csum[2];

	writer_init(&w, buf, cap);
	/* RFC 792 Echo: type 8, code 0, checksum, identifier, sequence number, data. */
	writer_u8(&w, ICMP_TYPE_ECHO_REQUEST);
	writer_u8(&w, 0);
	writer_be16(&w, 0);
	writer_be16(&w, id);
	writer_be16(&w, seq);
	writer_bytes(&w, echo_payload, sizeof(echo_payload));
	if (w.overflow)
		return -ENOSPC;
	uint16_t c = net_csum(buf, w.len, 0);
	csum[0] = (uint8_t)(c >> 8);
	csum[1] = (uint8_t)c;
	writer_patch(&w, 2, csum, 2);
	return (int)w.len;
}

int net_parse_icmp_echo_reply(const void *buf, size_t len, bool with_ip_header, uint16_t *id,
			      uint16_t *seq)
{
	struct cursor c, icmp;
	uint8_t type, code;
	uint16_t csum, rid, rseq;

	cursor_init(&c, buf, len);
	if (with_ip_header) {
		uint8_t vihl, proto, tos, ttl;
		uint16_t tot, ipid, frag;
		if (cursor_u8(&c, &vihl) < 0 || cursor_u8(&c, &tos) < 0 ||
		    cursor_be16(&c, &tot) < 0 || cursor_be16(&c, &ipid) < 0 ||
		    cursor_be16(&c, &frag) < 0 || cursor_u8(&c, &ttl) < 0 ||
		    cursor_u8(&c, &proto) < 0)
			return -EBADMSG;
		size_t ihl = (size_t)(vihl & 0x0f) * 4;
		if (vihl >> 4 != 4 || ihl < 20 || tot < ihl || tot > len)
			return -EBADMSG;
		if (proto != IPPROTO_ICMP || (frag & 0x3fff) != 0)
			return 0;
		/* Restart at the top and take the ICMP message as total length minus header. */
		cursor_init(&c, buf, tot);
		if (cursor_skip(&c, ihl) < 0)
			return -EBADMSG;
	}
	icmp = c;
	if (cursor_u8(&c, &type) < 0 || cursor_u8(&c, &code) < 0 || cursor_be16(&c, &csum) < 0 ||
	    cursor_be16(&c, &rid) < 0 || cursor_be16(&c, &rseq) < 0)
		return -EBADMSG;
	if (net_csum(icmp.p, icmp.left, 0) != 0)
		return -EBADMSG;
	if (type != ICMP_TYPE_ECHO_REPLY || code != 0)
		return 0;
	if (id)
		*id = rid;
	if (seq)
		*seq = rseq;
	return 1;
}

int net_probe_icmp_open(void)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd >= 0) {
		/* A raw ICMP socket sees every ICMP message to the host: keep only echo replies. */
		struct icmp_filter f = {.data = ~(1u << ICMP_ECHOREPLY)};
		if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f)) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		return fd;
	}
	if (errno != EPERM && errno != EACCES)
		return -errno;
	/* Without CAP_NET_RAW: a ping socket (needs net.ipv4.ping_group_range to allow us). */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	return fd < 0 ? -errno : fd;
}

int net_probe_icmp_send(int fd, uint32_t dst, uint16_t id, uint16_t seq)
{
	uint8_t buf[ICMP_HDRLEN + sizeof(echo_payload)];
	int n = net_build_icmp_echo(buf, sizeof(buf), id, seq);
	if (n < 0)
		return n;
	/* On a ping socket the kernel replaces id with the socket's own and re-checksums. */
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(dst)};
	ssize_t r = sendto(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&to,
			   sizeof(to));
	if (r < 0)
		return -errno;
	return r == n ? 0 : -EIO;
}

int net_probe_icmp_recv(int fd, uint32_t *from)
{
	int type;
	socklen_t tlen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0)
		return -errno;
	for (int i = 0; i < PROBE_RECV_BUDGET; i++) {
		uint8_t buf[1500];
		struct sockaddr_in sin;
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr msg = {
			.msg_name = &sin,
			.msg_namelen = sizeof(sin),
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};
		memset(&sin, 0, sizeof(sin));
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* Ours are small; a truncated message is someone else's big ping. */
		if (msg.msg_flags & MSG_TRUNC)
			continue;
		if (msg.msg_namelen < sizeof(sin) || sin.sin_family != AF_INET)
			continue;
		if (net_parse_icmp_echo_reply(buf, (size_t)n, type == SOCK_RAW, NULL, NULL) != 1)
			continue;
		if (from)
			*from = ntohl(sin.sin_addr.s_addr);
		return 1;
	}
	return 0;
}

/* ---- ARP ---- */

int net_build_arp_request(uint8_t *buf, size_t cap, const uint8_t src_mac[6], uint32_t src_ip,
			  uint32_t target_ip)
{
	static const uint8_t zero_mac[6];
	struct writer w;

	writer_init(&w, buf, cap);
	/* RFC 826 packet: hrd Ethernet, pro IPv4, hln 6, pln 4, op request, sha, spa, tha
	 * (unknown: zero), tpa. */
	writer_be16(&w, ARPHRD_ETHER);
	writer_be16(&w, ETH_P_IP);
	writer_u8(&w, 6);
	writer_u8(&w, 4);
	writer_be16(&w, ARP_OP_REQUEST);
	writer_bytes(&w, src_mac, 6);
	writer_be32(&w, src_ip);
	writer_bytes(&w, zero_mac, 6);
	writer_be32(&w, target_ip);
	return w.overflow ? -ENOSPC : (int)w.len;
}

int net_parse_arp_reply(const void *buf, size_t len, uint32_t *ip, uint8_t mac[6])
{
	struct cursor c;
	uint16_t hrd, pro, op;
	uint8_t hln, pln, sha[6];
	uint32_t spa;

	cursor_init(&c, buf, len);
	if (cursor_be16(&c, &hrd) < 0 || cursor_be16(&c, &pro) < 0 || cursor_u8(&c, &hln) < 0 ||
	    cursor_u8(&c, &pln) < 0 || cursor_be16(&c, &op) < 0)
		return -EBADMSG;
	if (hrd != ARPHRD_ETHER || pro != ETH_P_IP || hln != 6 || pln != 4 || op != ARP_OP_REPLY)
		return 0;
	if (cursor_bytes(&c, sha, 6) < 0 || cursor_be32(&c, &spa) < 0 ||
	    cursor_skip(&c, 6 + 4) < 0)
		return -EBADMSG;
	if (ip)
		*ip = spa;
	if (mac)
		memcpy(mac, sha, 6);
	return 1;
}

int net_probe_arp_open(int ifindex)
{
	/* BPF over the ARP header (SOCK_DGRAM: offset 0 is the ARP header): keep replies only,
	 * so the broadcast requests on a busy segment never fill the queue. */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARP_OP_REPLY, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
	int fd, r, one = 1;

	if (ifindex <= 0)
		return -EINVAL;
	/* Protocol 0 until bind: nothing is queued before the filter and the interface are set. */
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		goto err_errno;
	/* Our own outgoing replies (answering others about our address) are not a conflict.
	 * A socket bound to one protocol is not handed outgoing frames (only ETH_P_ALL taps
	 * are); this option (Linux >= 4.20) and the pkttype check in recv make sure of it. */
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = ifindex,
	};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto err_errno;
	return fd;

err_errno:
	r = -errno;
	close(fd);
	return r;
}

int net_probe_arp_send(int fd, int ifindex, const uint8_t src_mac[6], uint32_t src_ip,
		       uint32_t target_ip)
{
	uint8_t buf[ARP_LEN];
	int n;

	if (ifindex <= 0 || !src_mac)
		return -EINVAL;
	n = net_build_arp_request(buf, sizeof(buf), src_mac, src_ip, target_ip);
	if (n < 0)
		return n;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ARP),
		.sll_ifindex = ifindex,
		.sll_halen = 6,
		.sll_addr = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	};
	ssize_t r = sendto(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (struct sockaddr *)&sll, sizeof(sll));
	if (r < 0)
		return -errno;
	return r == n ? 0 : -EIO;
}

int net_probe_arp_recv(int fd, uint32_t *ip)
{
	for (int i = 0; i < PROBE_RECV_BUDGET; i++) {
		uint8_t buf[64];
		struct sockaddr_ll sll;
		socklen_t slen = sizeof(sll);

		memset(&sll, 0, sizeof(sll));
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sll,
				     &slen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (sll.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (net_parse_arp_reply(buf, (size_t)n, ip, NULL) == 1)
			return 1;
	}
	return 0;
}
