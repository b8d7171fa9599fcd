/*
 * dhcp/service — see dhcp.h. All I/O of the DHCP module lives here: sockets, the per-turn
 * commit, sending, conflict probes, the admin release, and handing each decision to
 * clients/. Does not own the decisions (dhcp_server), the wire format (dhcp_wire), SQL
 * (store/) or what clients/ makes of a request.
 *
 * Sending: a reply that depends on a lease write (tx->persist: an ACK that binds a lease)
 * is queued and sent after the turn's commit. Every other reply (OFFER, NAK, INFORM's
 * ACK, BOOTREPLY, proxy replies) goes out at once: an OFFER only holds the
 * address in memory (RFC 2131 §4.3.1: "the server need not reserve the offered network
 * address"), so nothing has to be durable before the client sees it.
 */
#include "dhcp/dhcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clients/clients.h"
#include "core/log.h"
#include "core/util.h"
#include "dhcp/dhcp_server.h"
#include "dhcp/dhcp_wire.h"

#define DHCP_SERVER_PORT 67
#define DHCP_PXE_PORT 4011
#define DHCP_RX_BATCH 64      /* datagrams read per socket per turn */
#define DHCP_MAX_PROBES 64    /* conflict probes in flight */
/* Receive buffer per socket: ~10,000 requests of ~350 bytes (skb overhead included), so a
 * loop turn held up by a slow fdatasync does not overflow at 10k+ requests/s. The kernel
 * default (net.core.rmem_default, ~208 KiB) holds about 300. */
#define DHCP_RCVBUF (4 * 1024 * 1024)

struct dhcp_sock {
	struct dhcp_service *svc;
	int fd;
	uint16_t port;
	int ifindex;
};

struct dhcp_probe {
	bool live;
	uint32_t ip;
	int ifindex;
	struct dhcp_rx rx;
	struct dhcp_msg msg; /* the request to run again when the probe is answered */
	struct dhcp_sock *sock;
	struct loop_timer timer;
	struct dhcp_service *svc;
	int arpfd;
};

struct dhcp_service {
	struct loop *loop;
	const struct conf *conf;
	struct store *store;
	struct dhcp_server *srv;
	struct dhcp_server_iface ifs[CONF_MAX_IFACES];
	size_t nifs;
	struct dhcp_sock socks[CONF_MAX_IFACES * 2];
	size_t nsocks;
	int rawfd;
	int icmpfd;
	/* replies decided this turn, sent after the commit */
	struct dhcp_tx *outbox;
	struct dhcp_sock **outsock;
	size_t nout, outcap;
	bool in_txn;
	bool txn_failed;
	struct dhcp_probe probes[DHCP_MAX_PROBES];
	uint16_t probe_seq;
	struct dhcp_msg msg; /* scratch for the packet being handled */
	struct dhcp_tx tx;   /* scratch */
	struct clients *clients; /* every request is reported here (NULL = nobody) */
};

static struct log_ratelimit rl_drop = LOG_RATELIMIT_INIT(1000);
static struct log_ratelimit rl_send = LOG_RATELIMIT_INIT(1000);
static struct log_ratelimit rl_store = LOG_RATELIMIT_INIT(1000);
static struct log_ratelimit rl_noreply = LOG_RATELIMIT_INIT(1000);

static const char *type_name(uint8_t t)
{
	static const char *const names[] = {"bootreply", "discover", "offer",   "request", "decline",
					    "ack",       "nak",      "release", "inform"};
	return t < ARRAY_SIZE(names) ? names[t] : "?";
}

static const struct dhcp_server_iface *iface_by_index(const struct dhcp_service *s, int ifindex)
{
	for (size_t i = 0; i < s->nifs; i++)
		if (s->ifs[i].ifindex == ifindex)
			return &s->ifs[i];
	return NULL;
}

/* ---- per-turn persistence and sending ---- */

static int persist(struct dhcp_service *s, const struct store_lease *l)
{
	if (!s->in_txn) {
		if (store_begin(s->store) < 0) {
			s->txn_failed = true;
			return -EIO;
		}
		s->in_txn = true;
	}
	int r = store_lease_put(s->store, l);
	if (r < 0)
		s->txn_failed = true;
	return r;
}

static void send_one(struct dhcp_service *s, struct dhcp_sock *sock, const struct dhcp_tx *tx)
{
	int r;
	switch (tx->dest) {
	case DHCP_DEST_UDP:
		r = net_udp4_send(sock->fd, tx->buf, tx->len, tx->dst_ip, tx->dst_port, tx->src_ip,
				  tx->ifindex);
		break;
	case DHCP_DEST_BROADCAST:
		r = net_udp4_send(sock->fd, tx->buf, tx->len, 0xffffffffu, tx->dst_port, tx->src_ip,
				  tx->ifindex);
		break;
	case DHCP_DEST_RAW:
	default:
		r = net_raw_send_udp4(s->rawfd, tx->ifindex, tx->dst_mac, tx->src_ip, tx->src_port,
				      tx->dst_ip, tx->dst_port, tx->buf, tx->len);
		break;
	}
	if (r < 0)
		log_rl(&rl_send, LOG_LVL_WARN, "dhcp", "send failed type=%s err=%s",
		       type_name(tx->type), strerror(-r));
}

static void log_reply(const struct dhcp_tx *tx, const char *why)
{
	char mac[MAC_STRLEN], ip[IPV4_STRLEN], file[160], extra[256] = "";
	log_escape(file, sizeof(file), tx->boot_file ? tx->boot_file : "",
		   tx->boot_file ? strlen(tx->boot_file) : 0);
	if (tx->boot_reason[0])
		snprintf(extra, sizeof(extra), " no-boot-file=\"%s\"", tx->boot_reason);
	if (why) /* e.g. why a NAK was sent */
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " reason=\"%s\"", why);
	log_info("dhcp", "%s mac=%s ip=%s arch=\"%s\" ipxe=%s file=\"%s\"%s", type_name(tx->type),
		 fmt_mac(mac, tx->facts.mac), fmt_ipv4(ip, tx->yiaddr),
		 tx->facts.has_arch ? tx->facts.arch_name : "", tx->facts.is_ipxe ? "yes" : "no",
		 file, extra);
}

/* End of loop turn: commit the turn's lease writes, then send what depends on them. */
static void dhcp_turn_end(void *arg)
{
	struct dhcp_service *s = arg;
	bool ok = !s->txn_failed;
	if (s->in_txn) {
		if (ok && store_commit(s->store) < 0)
			ok = false;
		if (!ok)
			store_rollback(s->store);
		s->in_txn = false;
	}
	if (!ok)
		log_rl(&rl_store, LOG_LVL_ERR, "dhcp",
		       "lease store write failed: replies that needed it are not sent");
	for (size_t i = 0; i < s->nout; i++) {
		struct dhcp_tx *tx = &s->outbox[i];
		if (tx->persist && !ok)
			continue;
		send_one(s, s->outsock[i], tx);
	}
	s->nout = 0;
	s->txn_failed = false;
}

static int queue_reply(struct dhcp_service *s, struct dhcp_sock *sock, const struct dhcp_tx *tx)
{
	if (s->nout == s->outcap) {
		size_t n = s->outcap ? s->outcap * 2 : 16;
		struct dhcp_tx *o = realloc(s->outbox, n * sizeof(*o));
		if (!o)
			return -ENOMEM;
		s->outbox = o;
		struct dhcp_sock **os = realloc(s->outsock, n * sizeof(*os));
		if (!os)
			return -ENOMEM;
		s->outsock = os;
		s->outcap = n;
	}
	memcpy(&s->outbox[s->nout], tx, sizeof(*tx));
	s->outsock[s->nout++] = sock;
	return 0;
}

/* ---- conflict probes ---- */

static void probe_finish(struct dhcp_probe *p, bool in_use);

static void probe_timeout(void *arg)
{
	probe_finish(arg, false);
}

static struct dhcp_probe *probe_find(struct dhcp_service *s, uint32_t ip)
{
	for (size_t i = 0; i < DHCP_MAX_PROBES; i++)
		if (s->probes[i].live && s->probes[i].ip == ip)
			return &s->probes[i];
	return NULL;
}

static void on_probe_reply(void *arg, uint32_t ev)
{
	(void)ev;
	struct dhcp_service *s = arg;
	uint32_t ip;
	/* ICMP: one shared socket; ARP: one socket per probe (arg is the service too) */
	while (s->icmpfd >= 0 && net_probe_icmp_recv(s->icmpfd, &ip) > 0) {
		struct dhcp_probe *p = probe_find(s, ip);
		if (p)
			probe_finish(p, true);
	}
	for (size_t i = 0; i < DHCP_MAX_PROBES; i++) {
		struct dhcp_probe *p = &s->probes[i];
		if (p->live && p->arpfd >= 0 && net_probe_arp_recv(p->arpfd, &ip) > 0 && ip == p->ip)
			probe_finish(p, true);
	}
}

static void handle(struct dhcp_service *s, struct dhcp_sock *sock, const struct dhcp_rx *rx);

/* Start probing ip for rx; NULL, or why the request gets no answer now. */
static const char *probe_start(struct dhcp_service *s, struct dhcp_sock *sock,
			       const struct dhcp_rx *rx, uint32_t ip)
{
	if (probe_find(s, ip)) /* the client's retransmission will find the result */
		return "conflict probe of the address in progress";
	struct dhcp_probe *p = NULL;
	for (size_t i = 0; i < DHCP_MAX_PROBES && !p; i++)
		if (!s->probes[i].live)
			p = &s->probes[i];
	if (!p) {
		log_rl(&rl_drop, LOG_LVL_WARN, "dhcp", "drop reason=\"too many conflict probes\"");
		return "too many conflict probes";
	}
	const struct dhcp_server_iface *ifc = iface_by_index(s, rx->ifindex);
	int r = -EINVAL;
	p->arpfd = -1;
	if (s->conf->dhcp.probe == CONF_PROBE_ARP && ifc && !rx->msg->giaddr) {
		p->arpfd = net_probe_arp_open(ifc->ifindex);
		if (p->arpfd >= 0) {
			r = net_probe_arp_send(p->arpfd, ifc->ifindex, ifc->mac, ifc->addr, ip);
			if (r >= 0)
				loop_add_fd(s->loop, p->arpfd, EPOLLIN, on_probe_reply, s);
		}
	} else if (s->icmpfd >= 0) {
		r = net_probe_icmp_send(s->icmpfd, ip, 0x7078, ++s->probe_seq);
	}
	if (r < 0) {
		/* cannot probe: offer anyway rather than starve the client */
		if (p->arpfd >= 0)
			close(p->arpfd);
		struct dhcp_tx *tx = &s->tx;
		memset(tx, 0, sizeof(*tx));
		dhcp_server_probe_done(s->srv, ip, false, time_wall(), tx);
		handle(s, sock, rx);
		return NULL;
	}
	p->live = true;
	p->ip = ip;
	p->svc = s;
	p->sock = sock;
	memcpy(&p->msg, rx->msg, sizeof(p->msg));
	p->rx = *rx;
	p->rx.msg = &p->msg;
	loop_timer_init(&p->timer, probe_timeout, p);
	loop_timer_arm(s->loop, &p->timer, loop_now(s->loop) + s->conf->dhcp.probe_timeout_ms);
	return NULL;
}

static void probe_finish(struct dhcp_probe *p, bool in_use)
{
	struct dhcp_service *s = p->svc;
	loop_timer_cancel(s->loop, &p->timer);
	if (p->arpfd >= 0) {
		loop_del_fd(s->loop, p->arpfd);
		close(p->arpfd);
		p->arpfd = -1;
	}
	p->live = false;
	struct dhcp_tx *tx = &s->tx;
	memset(tx, 0, sizeof(*tx));
	dhcp_server_probe_done(s->srv, p->ip, in_use, time_wall(), tx);
	if (in_use) {
		char ip[IPV4_STRLEN];
		log_warn("dhcp", "conflict ip=%s answered the probe: quarantined", fmt_ipv4(ip, p->ip));
		if (tx->persist)
			persist(s, &tx->lease);
	}
	/* run the request again from the service's scratch copy: the slot may be reused */
	memcpy(&s->msg, &p->msg, sizeof(s->msg));
	struct dhcp_rx rx = p->rx;
	rx.msg = &s->msg;
	handle(s, p->sock, &rx);
}

/* ---- receiving ---- */

/* Tell clients/ what a request was and what became of it (replied: a reply goes out). */
static void report(struct dhcp_service *s, const struct dhcp_rx *rx, const struct dhcp_tx *tx,
		   bool replied, const char *no_reply_why)
{
	if (!s->clients || !tx->facts.has_mac)
		return;
	const struct dhcp_msg *m = rx->msg;
	const struct dhcp_server_iface *ifc = iface_by_index(s, rx->ifindex);
	uint32_t req_ip = 0;
	size_t hlen = 0;
	const uint8_t *hn = dhcp_msg_opt(m, DHCP_OPT_HOSTNAME, &hlen);
	if (dhcp_msg_opt_ip(m, DHCP_OPT_REQUESTED_IP, &req_ip) < 0)
		req_ip = 0;
	struct clients_dhcp d = {
		.facts = &tx->facts,
		.msg_type = m->type,
		.replied = replied,
		.reply_type = replied ? tx->type : DHCP_NONE,
		.yiaddr = replied ? tx->yiaddr : 0,
		.ciaddr = m->ciaddr,
		.requested_ip = req_ip,
		.boot_file = replied ? tx->boot_file : NULL,
		.no_boot_why = tx->boot_reason[0] ? tx->boot_reason : NULL,
		.no_reply_why = replied ? NULL : no_reply_why,
		.hostname = hn,
		.hostname_len = hn ? hlen : 0,
		.local_port = rx->local_port,
		.iface = ifc ? ifc->name : NULL,
	};
	(void)clients_on_dhcp(s->clients, &d, clients_time_ms());
}

static void handle(struct dhcp_service *s, struct dhcp_sock *sock, const struct dhcp_rx *rx)
{
	struct dhcp_tx *tx = &s->tx;
	memset(tx, 0, sizeof(*tx));
	const char *why = NULL;
	int r = dhcp_server_handle(s->srv, rx, time_wall(), tx, &why);
	/* a decision may change a lease even when no reply can go out (e.g. build failure) */
	if (r < 0 && tx->persist)
		persist(s, &tx->lease);
	if (r < 0) {
		char mac[MAC_STRLEN];
		log_rl(&rl_drop, LOG_LVL_INFO, "dhcp", "drop mac=%s reason=\"%s\"",
		       fmt_mac(mac, rx->msg->chaddr), why ? why : "?");
		report(s, rx, tx, false, why ? why : "dropped");
		return;
	}
	if (why && r == DHCP_RES_NOREPLY) {
		char mac[MAC_STRLEN];
		log_rl(&rl_noreply, LOG_LVL_INFO, "dhcp", "no-reply mac=%s reason=\"%s\"",
		       fmt_mac(mac, rx->msg->chaddr), why);
	}
	if (tx->persist && persist(s, &tx->lease) < 0) {
		report(s, rx, tx, false, "lease store write failed");
		return;
	}
	if (r == DHCP_RES_PROBE) {
		/* once started, reported when the probe ends and the request is decided again */
		const char *busy = probe_start(s, sock, rx, tx->probe_ip);
		if (busy)
			report(s, rx, tx, false, busy);
		return;
	}
	if (r != DHCP_RES_REPLY) {
		report(s, rx, tx, false, why);
		return;
	}
	log_reply(tx, why);
	bool replied = true;
	if (!tx->persist) {
		send_one(s, sock, tx); /* depends on nothing the commit makes durable */
	} else if (queue_reply(s, sock, tx) < 0) {
		log_rl(&rl_drop, LOG_LVL_ERR, "dhcp", "out of memory queueing a reply");
		replied = false;
	}
	report(s, rx, tx, replied, replied ? NULL : "out of memory");
}

static void on_readable(void *arg, uint32_t events)
{
	struct dhcp_sock *sock = arg;
	struct dhcp_service *s = sock->svc;
	(void)events;
	uint8_t buf[DHCP_MAX_LEN + 1];
	for (int n = 0; n < DHCP_RX_BATCH; n++) {
		struct net_rx_info info;
		ssize_t len = net_udp4_recv(sock->fd, buf, sizeof(buf), &info);
		if (len == -EAGAIN || len == -EWOULDBLOCK)
			break;
		if (len < 0) {
			log_rl(&rl_drop, LOG_LVL_INFO, "dhcp", "drop reason=\"%s\"",
			       len == -EMSGSIZE ? "datagram larger than 1500 bytes"
						: strerror((int)-len));
			continue;
		}
		enum dhcp_parse_err e = dhcp_msg_parse(&s->msg, buf, (size_t)len);
		if (e != DHCP_PARSE_OK) {
			char src[IPV4_STRLEN];
			log_rl(&rl_drop, LOG_LVL_INFO, "dhcp",
			       "drop src=%s:%u len=%zd reason=\"malformed: %s\"",
			       fmt_ipv4(src, info.src_addr), info.src_port, len,
			       dhcp_parse_strerror(e));
			continue;
		}
		if (s->msg.op != DHCP_OP_REQUEST)
			continue; /* replies from other servers on the wire */
		struct dhcp_rx rx = {
			.msg = &s->msg,
			.ifindex = info.ifindex,
			.src_ip = info.src_addr,
			.src_port = info.src_port,
			.dst_ip = info.dst_addr,
			.local_port = sock->port,
		};
		handle(s, sock, &rx);
	}
}

/* ---- setup ---- */

static int restore_one(void *arg, const struct store_lease *l)
{
	struct dhcp_service *s = arg;
	dhcp_server_restore_lease(s->srv, l, time_wall());
	return 0;
}

static int open_sock(struct dhcp_service *s, const struct dhcp_server_iface *ifc, uint16_t port,
		     char *err, size_t errlen)
{
	int fd = net_udp4_bind(0, port, ifc->name);
	if (fd < 0) {
		snprintf(err, errlen, "cannot bind UDP port %u on %s: %s", port, ifc->name,
			 strerror(-fd));
		return fd;
	}
	/* While still root: SO_RCVBUFFORCE passes net.core.rmem_max (CAP_NET_ADMIN);
	 * without it SO_RCVBUF gets what rmem_max allows. */
	int rb = DHCP_RCVBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	struct dhcp_sock *sk = &s->socks[s->nsocks++];
	*sk = (struct dhcp_sock){.svc = s, .fd = fd, .port = port, .ifindex = ifc->ifindex};
	int r = loop_add_fd(s->loop, fd, EPOLLIN, on_readable, sk);
	if (r < 0)
		snprintf(err, errlen, "epoll: %s", strerror(-r));
	return r;
}

static size_t to_server_ifaces(const struct net_iface *ifs, size_t nifs,
			       struct dhcp_server_iface *out)
{
	size_t n = 0;
	for (size_t i = 0; i < nifs && n < CONF_MAX_IFACES; i++) {
		struct dhcp_server_iface *d = &out[n++];
		memset(d, 0, sizeof(*d));
		str_copy(d->name, ifs[i].name, sizeof(d->name));
		d->ifindex = ifs[i].ifindex;
		d->addr = ifs[i].addr;
		d->mask = ifs[i].mask;
		memcpy(d->mac, ifs[i].mac, 6);
	}
	return n;
}

struct dhcp_service *dhcp_service_new(struct loop *l, const struct conf *c, struct store *st,
				      const struct net_iface *ifs, size_t nifs, char *err,
				      size_t errlen)
{
	struct dhcp_service *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->loop = l;
	s->conf = c;
	s->store = st;
	s->rawfd = -1;
	s->icmpfd = -1;
	for (size_t i = 0; i < DHCP_MAX_PROBES; i++)
		s->probes[i].arpfd = -1;
	s->nifs = to_server_ifaces(ifs, nifs, s->ifs);
	if (c->dhcp.mode == CONF_DHCP_OFF)
		return s;
	s->srv = dhcp_server_new(c, s->ifs, s->nifs, err, errlen);
	if (!s->srv)
		goto err;
	int r = store_lease_each(st, restore_one, s);
	if (r < 0) {
		snprintf(err, errlen, "cannot read leases from the store: %s", strerror(-r));
		goto err;
	}
	for (size_t i = 0; i < s->nifs; i++) {
		if (open_sock(s, &s->ifs[i], DHCP_SERVER_PORT, err, errlen) < 0)
			goto err;
		if (c->dhcp.mode == CONF_DHCP_PROXY &&
		    open_sock(s, &s->ifs[i], DHCP_PXE_PORT, err, errlen) < 0)
			goto err;
	}
	s->rawfd = net_raw_open();
	if (s->rawfd < 0) {
		snprintf(err, errlen,
			 "cannot open a raw socket for replies to clients without an address: %s "
			 "(pixied needs CAP_NET_RAW)",
			 strerror(-s->rawfd));
		goto err;
	}
	if (c->dhcp.probe == CONF_PROBE_PING) {
		s->icmpfd = net_probe_icmp_open();
		if (s->icmpfd < 0) {
			snprintf(err, errlen, "[dhcp] probe = ping: cannot open an ICMP socket: %s",
				 strerror(-s->icmpfd));
			goto err;
		}
		loop_add_fd(l, s->icmpfd, EPOLLIN, on_probe_reply, s);
	}
	if (loop_on_turn_end(l, dhcp_turn_end, s) < 0) {
		snprintf(err, errlen, "too many end-of-turn hooks");
		goto err;
	}
	return s;
err:
	dhcp_service_free(s);
	return NULL;
}

void dhcp_service_free(struct dhcp_service *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nsocks; i++) {
		loop_del_fd(s->loop, s->socks[i].fd);
		close(s->socks[i].fd);
	}
	for (size_t i = 0; i < DHCP_MAX_PROBES; i++) {
		if (s->probes[i].live)
			loop_timer_cancel(s->loop, &s->probes[i].timer);
		if (s->probes[i].arpfd >= 0) {
			loop_del_fd(s->loop, s->probes[i].arpfd);
			close(s->probes[i].arpfd);
		}
	}
	if (s->icmpfd >= 0) {
		loop_del_fd(s->loop, s->icmpfd);
		close(s->icmpfd);
	}
	if (s->rawfd >= 0)
		close(s->rawfd);
	if (s->in_txn)
		store_rollback(s->store);
	dhcp_server_free(s->srv);
	free(s->outbox);
	free(s->outsock);
	free(s);
}

int dhcp_service_reconfigure(struct dhcp_service *s, const struct conf *c, char *err,
			     size_t errlen)
{
	if (c->dhcp.mode != s->conf->dhcp.mode) {
		snprintf(err, errlen, "[dhcp] mode changed: restart pixied to apply it");
		return -EINVAL;
	}
	if (s->srv) {
		int r = dhcp_server_reconfigure(s->srv, c, s->ifs, s->nifs, err, errlen);
		if (r < 0)
			return r;
	}
	s->conf = c;
	return 0;
}

void dhcp_service_set_clients(struct dhcp_service *s, struct clients *c)
{
	s->clients = c;
}

const struct dhcp_server *dhcp_service_server(const struct dhcp_service *s)
{
	return s->srv;
}

/* Commit what this turn has written so far (the admin release must be durable before it
 * returns). A failure marks the turn failed: queued replies that needed it are not sent. */
static int commit_now(struct dhcp_service *s)
{
	if (!s->in_txn)
		return s->txn_failed ? -EIO : 0;
	int r = s->txn_failed ? -EIO : store_commit(s->store);
	if (r < 0) {
		store_rollback(s->store);
		s->txn_failed = true;
	}
	s->in_txn = false;
	return r < 0 ? r : 0;
}

int dhcp_service_commit(struct dhcp_service *s)
{
	return commit_now(s);
}

int dhcp_service_release(struct dhcp_service *s, uint32_t ip, char *err, size_t errlen)
{
	char ips[IPV4_STRLEN];
	fmt_ipv4(ips, ip);
	if (!s->srv || s->conf->dhcp.mode != CONF_DHCP_FULL) {
		snprintf(err, errlen, "[dhcp] mode is not full: pixied hands out no leases");
		return -ENODEV;
	}
	struct store_lease l;
	int r = dhcp_server_release(s->srv, ip, time_wall(), &l);
	if (r < 0) {
		snprintf(err, errlen, "no lease on %s", ips);
		return r;
	}
	/* joins the turn's transaction when one is open, and commits it now */
	r = persist(s, &l);
	if (r >= 0)
		r = commit_now(s);
	else
		(void)commit_now(s);
	if (r < 0) {
		snprintf(err, errlen, "lease store write failed: %s", strerror(-r));
		log_err("dhcp", "release ip=%s by admin: lease store write failed: %s", ips,
			strerror(-r));
		return r;
	}
	char mac[MAC_STRLEN];
	log_info("dhcp", "release ip=%s mac=%s by admin", ips, fmt_mac(mac, l.mac));
	return 0;
}
