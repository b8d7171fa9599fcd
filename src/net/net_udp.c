/*
 * net/net_udp — UDP/IPv4 sockets that tell which interface a datagram arrived on and which
 * address it was sent to (IP_PKTINFO), and send replies out of a chosen interface with a
 * chosen source address. Knows nothing of what the datagrams contain.
 */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v)) < 0 ? -errno : 0;
}

int net_udp4_bind(uint32_t addr, uint16_t port, const char *ifname)
{
	size_t iflen = 0;
	int fd, r;

	if (ifname) {
		iflen = strlen(ifname);
		if (iflen == 0 || iflen >= IFNAMSIZ)
			return -EINVAL;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((r = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) < 0 ||
	    (r = set_int(fd, SOL_SOCKET, SO_BROADCAST, 1)) < 0 ||
	    (r = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1)) < 0)
		goto err;
	if (ifname && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)iflen) < 0) {
		r = -errno;
		goto err;
	}
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(addr),
	};
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		r = -errno;
		goto err;
	}
	return fd;
err:
	close(fd);
	return r;
}

/* Control buffer big enough and aligned for one in_pktinfo. */
union pktinfo_cmsg {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
};

ssize_t net_udp4_recv(int fd, void *buf, size_t cap, struct net_rx_info *info)
{
	struct sockaddr_in from;
	union pktinfo_cmsg ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};

	memset(&from, 0, sizeof(from));
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (info) {
		memset(info, 0, sizeof(*info));
		if (msg.msg_namelen >= sizeof(from) && from.sin_family == AF_INET) {
			info->src_addr = ntohl(from.sin_addr.s_addr);
			info->src_port = ntohs(from.sin_port);
		}
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_PKTINFO ||
			    c->cmsg_len < CMSG_LEN(sizeof(struct in_pktinfo)))
				continue;
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			info->ifindex = pi.ipi_ifindex;
			info->dst_addr = ntohl(pi.ipi_addr.s_addr);
		}
	}
	return n;
}

int net_udp4_send(int fd, const void *buf, size_t len, uint32_t dst, uint16_t dst_port,
		  uint32_t src, int ifindex)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(dst_port),
		.sin_addr.s_addr = htonl(dst),
	};
	union pktinfo_cmsg ctl;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct msghdr msg = {
		.msg_name = &to,
		.msg_namelen = sizeof(to),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};

	if (ifindex < 0 || (!buf && len))
		return -EINVAL;
	if (src || ifindex) {
		/* ip(7): ipi_ifindex picks the outgoing interface, ipi_spec_dst the source. */
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		struct in_pktinfo pi = {
			.ipi_ifindex = ifindex,
			.ipi_spec_dst.s_addr = htonl(src),
		};
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	ssize_t n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}
