/*
 * ra — see ra.h: the I/O half. One raw ICMPv6 socket per interface, bound to it, joined to
 * ff02::2, filtered to Router Solicitations; each valid solicitation is answered with the
 * "no router here" advertisement built by ra_wire.c, after the delay RFC 4861 §6.2.6 asks.
 * Answers are unicast to a solicitor that has an address (the MAY of §6.2.6), so booting
 * machines are not held to the multicast rate limit; a solicitation from the unspecified
 * address gets a multicast answer, at most one per MIN_DELAY_BETWEEN_RAS.
 */
#include "ra/ra.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "net/net.h"

#define RA_DELAY_MAX_MS 500  /* MAX_RA_DELAY_TIME (RFC 4861 §10) */
#define RA_MCAST_GAP_MS 3000 /* MIN_DELAY_BETWEEN_RAS (RFC 4861 §10) */
#define RA_MAX_PENDING  32   /* answers waiting for their delay, per interface */

struct ra_pending {
	struct in6_addr dst; /* the solicitor, or ff02::1 */
	uint64_t due_ms;
};

struct ra_if {
	struct ra *owner;
	char name[NET_IFNAMSIZ];
	int ifindex;
	uint8_t mac[6];
	int fd;
	struct loop_timer timer;
	struct ra_pending pend[RA_MAX_PENDING];
	size_t npend;
	uint64_t last_mcast_ms;
	bool mcast_sent;
};

struct ra {
	struct loop *l;
	struct ra_if ifs[CONF_MAX_IFACES];
	size_t nifs;
	struct ra_stats st;
};

static struct log_ratelimit rl_rx = LOG_RATELIMIT_INIT(10000);
static struct log_ratelimit rl_tx = LOG_RATELIMIT_INIT(10000);

static const struct in6_addr all_nodes = {{{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}};
static const struct in6_addr all_routers = {
    {{0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}}};

static uint64_t random_delay_ms(void)
{
	uint32_t v = 0;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = (uint32_t)time_mono_ms() * 2654435761u;
	return v % (RA_DELAY_MAX_MS + 1);
}

static void arm(struct ra_if *ri)
{
	if (!ri->npend) {
		if (loop_timer_armed(&ri->timer))
			loop_timer_cancel(ri->owner->l, &ri->timer);
		return;
	}
	uint64_t first = ri->pend[0].due_ms;
	for (size_t i = 1; i < ri->npend; i++)
		first = MIN(first, ri->pend[i].due_ms);
	loop_timer_arm(ri->owner->l, &ri->timer, first);
}

static void send_ra(struct ra_if *ri, const struct in6_addr *dst)
{
	struct ra_advert a;
	ra_no_router(&a, ri->mac);
	uint8_t buf[RA_MAX_LEN];
	int n = ra_build_ra(buf, sizeof(buf), &a);
	if (n < 0)
		return;
	struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_addr = *dst};
	to.sin6_scope_id = (uint32_t)ri->ifindex; /* link-local and ff02:: need the interface */
	/* RFC 4861 §6.1.2: the source MUST be the interface's link-local address — the kernel
	 * picks it for a link-scope destination on the bound interface; the hop limit (255)
	 * is set on the socket. */
	ssize_t r = sendto(ri->fd, buf, (size_t)n, 0, (const struct sockaddr *)&to, sizeof(to));
	char a6[INET6_ADDRSTRLEN] = "?";
	inet_ntop(AF_INET6, dst, a6, sizeof(a6));
	if (r < 0) {
		ri->owner->st.tx_errors++;
		log_rl(&rl_tx, LOG_LVL_WARN, "ra", "%s: router advertisement to %s: %s", ri->name,
		       a6, strerror(errno));
		return;
	}
	ri->owner->st.ra_tx++;
	log_debug("ra", "%s: sent router advertisement (no router) to %s", ri->name, a6);
}

static void timer_fn(void *arg)
{
	struct ra_if *ri = arg;
	uint64_t now = loop_now(ri->owner->l);
	size_t k = 0;
	for (size_t i = 0; i < ri->npend; i++) {
		if (ri->pend[i].due_ms <= now)
			send_ra(ri, &ri->pend[i].dst);
		else
			ri->pend[k++] = ri->pend[i];
	}
	ri->npend = k;
	arm(ri);
}

/* Queue an answer to dst (NULL = all nodes) after the §6.2.6 delay. */
static void queue_answer(struct ra_if *ri, const struct in6_addr *dst)
{
	uint64_t now = loop_now(ri->owner->l);
	bool mcast = dst == NULL;
	const struct in6_addr *to = mcast ? &all_nodes : dst;
	/* RFC 4861 §6.2.6: "If a single advertisement is sent in response to multiple
	 * solicitations, the delay is relative to the first solicitation." */
	for (size_t i = 0; i < ri->npend; i++)
		if (!memcmp(&ri->pend[i].dst, to, sizeof(*to)))
			return;
	if (ri->npend == RA_MAX_PENDING) {
		log_rl(&rl_rx, LOG_LVL_WARN, "ra",
		       "%s: %d answers already waiting; solicitation "
		       "dropped",
		       ri->name, RA_MAX_PENDING);
		return;
	}
	/* §6.2.6: "Router Advertisements sent in response to a Router Solicitation MUST be
	 * delayed by a random time between 0 and MAX_RA_DELAY_TIME seconds." */
	uint64_t due = now + random_delay_ms();
	if (mcast) {
		/* §6.2.6: "consecutive Router Advertisements sent to the all-nodes multicast
		 * address MUST be rate limited to no more than one advertisement every
		 * MIN_DELAY_BETWEEN_RAS seconds." */
		if (ri->mcast_sent && due < ri->last_mcast_ms + RA_MCAST_GAP_MS)
			due = ri->last_mcast_ms + RA_MCAST_GAP_MS;
		ri->last_mcast_ms = due;
		ri->mcast_sent = true;
	}
	ri->pend[ri->npend].dst = *to;
	ri->pend[ri->npend].due_ms = due;
	ri->npend++;
	arm(ri);
}

static void rx_fn(void *arg, uint32_t events)
{
	struct ra_if *ri = arg;
	(void)events;
	for (int budget = 0; budget < 64; budget++) {
		uint8_t buf[1500];
		struct sockaddr_in6 from;
		union {
			char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {.msg_name = &from,
				    .msg_namelen = sizeof(from),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf)};
		ssize_t n = recvmsg(ri->fd, &mh, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_rl(&rl_rx, LOG_LVL_WARN, "ra", "%s: recvmsg: %s", ri->name,
				       strerror(errno));
			return;
		}
		int hop_limit = -1, ifindex = ri->ifindex;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level != IPPROTO_IPV6)
				continue;
			if (cm->cmsg_type == IPV6_HOPLIMIT && cm->cmsg_len >= CMSG_LEN(sizeof(int)))
				memcpy(&hop_limit, CMSG_DATA(cm), sizeof(int));
			else if (cm->cmsg_type == IPV6_PKTINFO &&
				 cm->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
				struct in6_pktinfo pi;
				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				ifindex = (int)pi.ipi6_ifindex;
			}
		}
		bool unspec = IN6_IS_ADDR_UNSPECIFIED(&from.sin6_addr);
		struct ra_rs rs;
		int r = (mh.msg_flags & MSG_TRUNC) ? -EBADMSG
			: ifindex != ri->ifindex
			    ? -EXDEV
			    : ra_parse_rs(buf, (size_t)n, hop_limit, unspec, &rs);
		char a6[INET6_ADDRSTRLEN] = "?";
		inet_ntop(AF_INET6, &from.sin6_addr, a6, sizeof(a6));
		if (r == -ENOMSG)
			continue; /* the filter lets only RS through; a race at setup */
		if (r < 0) {
			ri->owner->st.rs_dropped++;
			log_rl(&rl_rx, LOG_LVL_DEBUG, "ra",
			       "%s: router solicitation from %s dropped: %s", ri->name, a6,
			       r == -EXDEV                 ? "arrived on another interface"
			       : hop_limit != RA_HOP_LIMIT ? "hop limit is not 255"
							   : "malformed (RFC 4861 6.1.1)");
			continue;
		}
		ri->owner->st.rs_rx++;
		log_debug("ra", "%s: router solicitation from %s", ri->name, a6);
		queue_answer(ri, unspec ? NULL : &from.sin6_addr);
	}
}

static void if_close(struct ra *r, struct ra_if *ri)
{
	if (loop_timer_armed(&ri->timer))
		loop_timer_cancel(r->l, &ri->timer);
	if (ri->fd >= 0) {
		loop_del_fd(r->l, ri->fd);
		close(ri->fd);
	}
	ri->fd = -1;
	ri->npend = 0;
}

static void close_all(struct ra *r)
{
	for (size_t i = 0; i < r->nifs; i++)
		if_close(r, &r->ifs[i]);
	r->nifs = 0;
}

static int sockopt_int(int fd, int level, int name, int v)
{
	return setsockopt(fd, level, name, &v, sizeof(v)) < 0 ? -errno : 0;
}

/* 0 (open), 1 (this interface cannot take part: skipped) or a negative errno (fatal). */
static int if_open(struct ra *r, struct ra_if *ri, const struct net_iface *nif, char *err,
		   size_t errlen)
{
	memset(ri, 0, sizeof(*ri));
	ri->owner = r;
	ri->fd = -1;
	str_copy(ri->name, nif->name, sizeof(ri->name));
	ri->ifindex = nif->ifindex;
	memcpy(ri->mac, nif->mac, 6);
	loop_timer_init(&ri->timer, timer_fn, ri);

	int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "ra: raw ICMPv6 socket: %s%s", strerror(e),
			 e == EPERM || e == EACCES ? " (needs CAP_NET_RAW)" : "");
		return -e;
	}
	struct icmp6_filter f;
	ICMP6_FILTER_SETBLOCKALL(&f);
	ICMP6_FILTER_SETPASS(ND_ROUTER_SOLICIT, &f);
	int e = 0;
	const char *what = "";
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) < 0) {
		e = -errno;
		what = "ICMP6_FILTER";
	} else if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, nif->name, strlen(nif->name)) < 0) {
		e = -errno;
		what = "SO_BINDTODEVICE";
	} else if ((e = sockopt_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1)) < 0) {
		what = "IPV6_RECVHOPLIMIT";
	} else if ((e = sockopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)) < 0) {
		what = "IPV6_RECVPKTINFO";
	} else if ((e = sockopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, RA_HOP_LIMIT)) < 0 ||
		   (e = sockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, RA_HOP_LIMIT)) < 0) {
		what = "hop limit 255";
	} else if ((e = sockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, nif->ifindex)) < 0 ||
		   (e = sockopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0)) < 0) {
		what = "multicast interface";
	}
	if (e < 0) {
		close(fd);
		snprintf(err, errlen, "ra: %s: %s: %s", nif->name, what, strerror(-e));
		return e;
	}
	struct ipv6_mreq mr = {.ipv6mr_multiaddr = all_routers,
			       .ipv6mr_interface = (unsigned)nif->ifindex};
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) < 0) {
		/* no IPv6 on this interface (disable_ipv6): nothing to answer there */
		log_warn("ra", "%s: cannot join ff02::2 (%s); no router advertisements there",
			 nif->name, strerror(errno));
		close(fd);
		return 1;
	}
	if ((e = loop_add_fd(r->l, fd, EPOLLIN, rx_fn, ri)) < 0) {
		close(fd);
		snprintf(err, errlen, "ra: %s: cannot watch the socket: %s", nif->name,
			 strerror(-e));
		return e;
	}
	ri->fd = fd;
	return 0;
}

static int open_all(struct ra *r, const struct conf *c, const struct net_iface *ifs, size_t nifs,
		    char *err, size_t errlen)
{
	if (!c->ipv6_ra)
		return 0;
	char names[CONF_MAX_IFACES * (NET_IFNAMSIZ + 1)] = "";
	for (size_t i = 0; i < nifs && r->nifs < CONF_MAX_IFACES; i++) {
		if (ifs[i].ifindex <= 0)
			continue;
		int e = if_open(r, &r->ifs[r->nifs], &ifs[i], err, errlen);
		if (e < 0) {
			close_all(r);
			return e;
		}
		if (e == 0) {
			if (names[0])
				strncat(names, " ", sizeof(names) - strlen(names) - 1);
			strncat(names, ifs[i].name, sizeof(names) - strlen(names) - 1);
			r->nifs++;
		}
	}
	if (r->nifs)
		log_info("ra",
			 "answering IPv6 router solicitations on %s: no router here (router "
			 "lifetime 0, no prefix)",
			 names);
	return 0;
}

struct ra *ra_new(struct loop *l, const struct conf *c, const struct net_iface *ifs, size_t nifs,
		  char *err, size_t errlen)
{
	struct ra *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "ra: out of memory");
		return NULL;
	}
	r->l = l;
	if (open_all(r, c, ifs, nifs, err, errlen) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

void ra_free(struct ra *r)
{
	if (!r)
		return;
	close_all(r);
	free(r);
}

int ra_reconfigure(struct ra *r, const struct conf *c, const struct net_iface *ifs, size_t nifs,
		   char *err, size_t errlen)
{
	close_all(r);
	return open_all(r, c, ifs, nifs, err, errlen);
}

void ra_get_stats(const struct ra *r, struct ra_stats *st)
{
	*st = r->st;
}
