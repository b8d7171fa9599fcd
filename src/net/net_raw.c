/*
 * net/net_raw — the RFC 1071 checksum, building an IPv4/UDP datagram (pure), and sending
 * one as an Ethernet frame straight to a MAC over a send-only AF_PACKET socket.
 *
 * Used for DHCP replies to clients that have no address yet (RFC 2131 4.1: unicast to
 * chaddr/yiaddr when the broadcast bit is clear). Does not decide when to do that: the
 * DHCP code does. Never receives: the socket registers no protocol hook.
 */
#include "net/net.h"

#include "core/writer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define IPV4_HDRLEN 20
#define UDP_HDRLEN 8
#define IP_TTL_DEFAULT 64
#define IPPROTO_UDP_NUM 17

_Static_assert(NET_UDP4_HDRLEN == IPV4_HDRLEN + UDP_HDRLEN, "header length");

uint32_t net_csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	/* RFC 1071 2(1): sum adjacent octets as 16-bit integers, an odd last octet padded
	 * with a zero octet on the right. */
	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	/* 2^32 = 1 (mod 0xffff): folding keeps the one's-complement sum. */
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t net_csum(const void *data, size_t len, uint32_t initial)
{
	uint32_t sum = net_csum_partial(data, len, initial);
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The 28 header bytes for payload into w. */
static int put_udp4_headers(struct writer *w, uint32_t src, uint16_t src_port, uint32_t dst,
			    uint16_t dst_port, const void *payload, size_t len)
{
	if (len > 0xffff - NET_UDP4_HDRLEN)
		return -EMSGSIZE;
	if (writer_room(w) < NET_UDP4_HDRLEN) {
		w->overflow = true;
		return -ENOSPC;
	}
	size_t ip_off = w->len;
	uint16_t udp_len = (uint16_t)(UDP_HDRLEN + len);
	uint8_t csum[2];

	/* RFC 791 3.1: version 4, IHL 5 (no options), TOS 0, total length, id 0, no DF/MF,
	 * fragment offset 0, TTL, protocol, header checksum over the header alone. */
	writer_u8(w, 0x45);
	writer_u8(w, 0);
	writer_be16(w, (uint16_t)(NET_UDP4_HDRLEN + len));
	writer_be16(w, 0);
	writer_be16(w, 0);
	writer_u8(w, IP_TTL_DEFAULT);
	writer_u8(w, IPPROTO_UDP_NUM);
	writer_be16(w, 0);
	writer_be32(w, src);
	writer_be32(w, dst);
	put_be16(csum, net_csum(w->buf + ip_off, IPV4_HDRLEN, 0));
	writer_patch(w, ip_off + 10, csum, 2);

	size_t udp_off = w->len;
	writer_be16(w, src_port);
	writer_be16(w, dst_port);
	writer_be16(w, udp_len);
	writer_be16(w, 0);

	/* RFC 768: the checksum covers a pseudo header (source, destination, zero, protocol,
	 * UDP length), the UDP header and the data; a computed 0 is sent as all ones. */
	uint32_t sum = (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) +
		       IPPROTO_UDP_NUM + udp_len;
	sum = net_csum_partial(w->buf + udp_off, UDP_HDRLEN, sum);
	uint16_t c = net_csum(payload, len, sum);
	put_be16(csum, c ? c : 0xffff);
	writer_patch(w, udp_off + 6, csum, 2);
	return w->overflow ? -ENOSPC : 0;
}

int net_build_udp4(uint8_t *buf, size_t cap, uint32_t src, uint16_t src_port, uint32_t dst,
		   uint16_t dst_port, const void *payload, size_t len)
{
	struct writer w;
	int r;

	if (!payload && len)
		return -EINVAL;
	writer_init(&w, buf, cap);
	r = put_udp4_headers(&w, src, src_port, dst, dst_port, payload, len);
	if (r < 0)
		return r;
	if (writer_bytes(&w, payload, len) < 0)
		return -ENOSPC;
	return (int)w.len;
}

int net_raw_open(void)
{
	/*
	 * Protocol 0: the kernel registers no receive hook for the socket, so it never queues
	 * a frame (packet(7)); it can still send, the protocol is given per sendto. The
	 * drop-everything filter keeps that true even if someone binds it to a protocol later.
	 */
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = {.len = 1, .filter = &drop};
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int net_raw_send_udp4(int rawfd, int ifindex, const uint8_t dst_mac[6], uint32_t src,
		      uint16_t src_port, uint32_t dst, uint16_t dst_port, const void *payload,
		      size_t len)
{
	uint8_t hdr[NET_UDP4_HDRLEN];
	struct writer w;
	int r;

	if (rawfd < 0 || ifindex <= 0 || !dst_mac || (!payload && len))
		return -EINVAL;
	writer_init(&w, hdr, sizeof(hdr));
	r = put_udp4_headers(&w, src, src_port, dst, dst_port, payload, len);
	if (r < 0)
		return r;

	/* SOCK_DGRAM packet socket: the kernel adds the Ethernet header (our MAC as source,
	 * sll_addr as destination, sll_protocol as EtherType). */
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = ifindex,
		.sll_halen = 6,
	};
	memcpy(sll.sll_addr, dst_mac, 6);
	struct iovec iov[2] = {
		{.iov_base = hdr, .iov_len = sizeof(hdr)},
		{.iov_base = (void *)(uintptr_t)payload, .iov_len = len},
	};
	struct msghdr msg = {
		.msg_name = &sll,
		.msg_namelen = sizeof(sll),
		.msg_iov = iov,
		.msg_iovlen = len ? 2 : 1,
	};
	ssize_t n = sendmsg(rawfd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(hdr) + len)
		return -EIO;
	return 0;
}
