/*
 * net/net_iface — what pixied needs to know about one of the host's interfaces: index,
 * MAC, MTU and first IPv4 address/mask. Read once when asked; does not watch for changes
 * (no netlink) and does not configure anything.
 */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

_Static_assert(NET_IFNAMSIZ == IFNAMSIZ, "NET_IFNAMSIZ must match IFNAMSIZ");

static int first_ipv4(const char *name, uint32_t *addr, uint32_t *mask)
{
	struct ifaddrs *list;

	if (getifaddrs(&list) < 0)
		return -errno;
	for (struct ifaddrs *i = list; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_name ||
		    strcmp(i->ifa_name, name) != 0)
			continue;
		struct sockaddr_in sin;
		memcpy(&sin, i->ifa_addr, sizeof(sin));
		*addr = ntohl(sin.sin_addr.s_addr);
		if (i->ifa_netmask) {
			memcpy(&sin, i->ifa_netmask, sizeof(sin));
			*mask = ntohl(sin.sin_addr.s_addr);
		}
		break;
	}
	freeifaddrs(list);
	return 0;
}

int net_iface_get(const char *name, struct net_iface *out)
{
	struct ifreq ifr;
	size_t n;
	int fd, r;

	if (!name || !out)
		return -EINVAL;
	n = strlen(name);
	if (n == 0 || n >= NET_IFNAMSIZ)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(out->name, name, n);

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, n);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		goto err_errno;
	out->ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		goto err_errno;
	/* Only Ethernet-like hardware has a 6-byte MAC; loopback, tun and the like get zeros. */
	if (ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER)
		memcpy(out->mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		goto err_errno;
	out->mtu = ifr.ifr_mtu > 0 ? (unsigned)ifr.ifr_mtu : 0;
	close(fd);

	r = first_ipv4(name, &out->addr, &out->mask);
	return r;

err_errno:
	r = -errno;
	close(fd);
	return r;
}
