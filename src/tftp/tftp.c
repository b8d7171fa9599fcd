/*
 * tftp — see tftp.h. Sockets and bookkeeping around the pure tftp_xfer state machine:
 * listeners take requests (recvmmsg + IP_PKTINFO for the local address), each transfer gets
 * its own port (its TID: a connected socket and a catcher, see transfer_socket), one loop
 * timer, and a reference on a shared files handle whose data comes through the shared
 * chunk cache.
 *
 * Per lock-step block the daemon makes three system calls: epoll_wait, recv and send
 * (file reads are one pread per 64 KiB chunk, shared by every transfer of the file).
 */
#include "tftp/tftp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "files/files.h"
#include "net/net.h"
#include "net/net_listen.h"
#include "tftp/tftp_cache.h"
#include "tftp/tftp_rx.h"
#include "tftp/tftp_wire.h"
#include "tftp/tftp_xfer.h"

#define MOD "tftp"
#define RX_BATCH 16          /* requests per recvmmsg */
#define RX_REQ_BUF 8192      /* longest request read whole; longer ones are refused */
#define RX_XFER_BUF 65536    /* DATA of uploads up to blksize 65464, ACK and ERROR */
#define SCRATCH_CAP (256 * 1024)
#define GSO_MAX_SEGS 64      /* UDP_MAX_SEGMENTS on older kernels */
#define GSO_MAX_BYTES 65000  /* one GSO super-packet stays below 64 KiB */
#define RTO_MIN_MS 50        /* floor of the adaptive retransmission timeout */
#define DUP_RRQ_MS 2000      /* a same-TID same-bytes RRQ this soon after the client's last
				packet to its transfer is a retransmission */
#define MAX_LISTENERS (CONF_MAX_IFACES * 2)
#define CLIENT_STRLEN (INET6_ADDRSTRLEN + 16)
#define NAME_LOGLEN 128
/*
 * Lock-step read-ahead: a transfer with windowsize 1 reads this many bytes (whole blocks)
 * at once, so one pread serves several ACKs. Sized so that a transfer stays within
 * blksize x window + 4 KiB (the memory budget) with its bookkeeping.
 */
#define READAHEAD_BYTES 3584
/* The shared chunk cache (tftp_cache.h): a fixed 1 MiB, whatever the number of transfers. */
#define CACHE_SLOTS 16
#define CACHE_CHUNK (64 * 1024)
#define CACHE_COLD_MS 100

struct tftp_cfg {
	bool enabled;
	uint16_t port;
	bool single_port;
	uint32_t addrs[CONF_MAX_IFACES];
	size_t naddrs;
	uint64_t blksize_max, windowsize_max, retries, timeout_ms, max_transfers, max_per_client;
	char write_dir[CONF_PATH_LEN];
};

struct endpoint {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6; /* IPv4 and IPv6 only: the largest we take */
	} u;
	socklen_t len;
};

struct listener {
	struct tftp_server *srv;
	int fd;
	int family;
};

struct transfer {
	struct tftp_server *srv;
	struct transfer *prev, *next;
	int fd;          /* connected to the client's TID: only its packets arrive here */
	int cfd;         /* the catcher: unconnected on the same port, gets every other
			    source (answered with ERROR 5); -1 in single-port mode, where the
			    listener on port 69 does that */
	bool gso_off;    /* GSO refused on this path; plain sendmmsg */
	struct endpoint peer;
	struct files_handle *fh;
	struct loop_timer timer;
	uint64_t req_hash;
	uint64_t heard_ms; /* the request, or the client's last packet to this transfer */
	struct tftp_na_mark *marks;
	char name[NAME_LOGLEN];
	char client[CLIENT_STRLEN];
	bool cacheable;    /* file data goes through the shared chunk cache */
	uint8_t *ra;       /* read-ahead (lock-step only) when the cache is busy; lazily */
	size_t ra_cap, ra_len;
	uint64_t ra_off;
	bool write;        /* a WRQ: rx and up are used, not x and fh */
	struct files_upload *up;
	union {
		struct tftp_xfer x;
		struct tftp_rx rx;
	};
};

/* ---- one transfer, either direction ---- */

static size_t t_fill(struct transfer *t, struct tftp_batch *b, uint64_t now)
{
	return t->write ? tftp_rx_fill(&t->rx, b, now) : tftp_xfer_fill(&t->x, b, now);
}

static void t_on_packet(struct transfer *t, const void *p, size_t len, uint64_t now)
{
	if (t->write)
		tftp_rx_on_packet(&t->rx, p, len, now);
	else
		tftp_xfer_on_packet(&t->x, p, len, now);
}

static void t_on_timer(struct transfer *t, uint64_t now)
{
	if (t->write)
		tftp_rx_on_timer(&t->rx, now);
	else
		tftp_xfer_on_timer(&t->x, now);
}

static uint64_t t_deadline(const struct transfer *t)
{
	return t->write ? tftp_rx_deadline(&t->rx) : tftp_xfer_deadline(&t->x);
}

static bool t_finished(const struct transfer *t)
{
	return t->write ? tftp_rx_finished(&t->rx) : tftp_xfer_finished(&t->x);
}

static void t_cancel(struct transfer *t, uint64_t now)
{
	if (t->write)
		tftp_rx_cancel(&t->rx, now);
	else
		tftp_xfer_cancel(&t->x, now);
}

static void t_abort(struct transfer *t, uint16_t code, const char *msg, uint64_t now)
{
	if (t->write)
		tftp_rx_abort(&t->rx, code, msg, now);
	else
		tftp_xfer_abort(&t->x, code, msg, now);
}

struct tftp_server {
	struct loop *loop;
	struct files *files;
	struct tftp_cfg cfg;
	struct net_iface *ifs;
	size_t nifs;
	struct listener *ls[MAX_LISTENERS];
	size_t nls;
	struct transfer *head;
	size_t active;
	tftp_event_fn ev_fn;
	void *ev_arg;
	struct tftp_stats st;
	enum tftp_send_mode send_mode;
	struct tftp_batch batch;
	uint8_t *scratch;
	struct tftp_cache *cache; /* NULL: none (out of memory at start) */
	uint8_t *rxbuf; /* RX_BATCH * RX_REQ_BUF */
	uint8_t *xrx;   /* RX_XFER_BUF */
	struct log_ratelimit rl_refuse, rl_tid, rl_sock;
};

/* ---- small helpers ---- */

static void cfg_from_conf(struct tftp_cfg *o, const struct conf *c)
{
	const struct conf_tftp *t = &c->tftp;
	memset(o, 0, sizeof(*o));
	o->enabled = t->enabled;
	o->port = t->port;
	o->single_port = t->single_port;
	o->naddrs = MIN(t->naddrs, (size_t)CONF_MAX_IFACES);
	memcpy(o->addrs, t->addrs, o->naddrs * sizeof(o->addrs[0]));
	o->blksize_max = t->blksize_max;
	o->windowsize_max = t->windowsize_max ? t->windowsize_max : 1;
	o->retries = t->retries;
	o->timeout_ms = t->timeout_ms ? t->timeout_ms : 1000;
	o->max_transfers = t->max_transfers ? t->max_transfers : 1;
	o->max_per_client = t->max_per_client ? t->max_per_client : 1;
	str_copy(o->write_dir, t->write_dir, sizeof(o->write_dir));
}

static bool listen_cfg_equal(const struct tftp_cfg *a, const struct tftp_cfg *b)
{
	return a->enabled == b->enabled && a->port == b->port && a->single_port == b->single_port &&
	       a->naddrs == b->naddrs && !memcmp(a->addrs, b->addrs, a->naddrs * sizeof(a->addrs[0]));
}

static uint64_t fnv1a(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint16_t ep_port(const struct endpoint *e)
{
	return ntohs(e->u.sa.sa_family == AF_INET6 ? e->u.in6.sin6_port : e->u.in4.sin_port);
}

static void ep_set_port(struct endpoint *e, uint16_t port)
{
	if (e->u.sa.sa_family == AF_INET6)
		e->u.in6.sin6_port = htons(port);
	else
		e->u.in4.sin_port = htons(port);
}

static bool same_host(const struct endpoint *a, const struct endpoint *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET6)
		return !memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, 16);
	return a->u.in4.sin_addr.s_addr == b->u.in4.sin_addr.s_addr;
}

static bool same_endpoint(const struct endpoint *a, const struct endpoint *b)
{
	return same_host(a, b) && ep_port(a) == ep_port(b);
}

static void fmt_endpoint(char *buf, size_t len, const struct endpoint *e)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (e->u.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &e->u.in6.sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ep_port(e));
	} else {
		inet_ntop(AF_INET, &e->u.in4.sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ep_port(e));
	}
}

/* Sources we never answer: they cannot be a client and may be spoofed to reflect. */
static bool bad_source(const struct endpoint *e)
{
	if (ep_port(e) == 0)
		return true;
	if (e->u.sa.sa_family == AF_INET6) {
		const struct in6_addr *a = &e->u.in6.sin6_addr;
		return IN6_IS_ADDR_MULTICAST(a) || IN6_IS_ADDR_UNSPECIFIED(a);
	}
	uint32_t a = ntohl(e->u.in4.sin_addr.s_addr);
	return a == 0 || a == 0xffffffffu || (a >> 28) == 0xe;
}

static void client_of(const struct endpoint *e, struct files_client *w)
{
	memset(w, 0, sizeof(*w));
	w->proto = "tftp";
	if (e->u.sa.sa_family == AF_INET6) {
		w->is_v6 = true;
		memcpy(w->addr6, &e->u.in6.sin6_addr, 16);
	} else {
		w->addr4 = ntohl(e->u.in4.sin_addr.s_addr);
	}
}

static void event_fill(struct tftp_event *ev, enum tftp_event_kind kind, const struct endpoint *e,
		       const char *file)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->file = file;
	ev->port = ep_port(e);
	if (e->u.sa.sa_family == AF_INET6) {
		ev->is_v6 = true;
		memcpy(ev->addr6, &e->u.in6.sin6_addr, 16);
	} else {
		ev->addr4 = ntohl(e->u.in4.sin_addr.s_addr);
	}
}

/* Send one datagram from a listener, with the request's destination as our source. */
static void listener_send(struct listener *l, const void *buf, size_t len,
			  const struct endpoint *peer, const struct endpoint *local, int ifindex)
{
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr m = {
		.msg_name = (void *)&peer->u.sa,
		.msg_namelen = peer->len,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	memset(&ctl, 0, sizeof(ctl));
	if (local) {
		m.msg_control = ctl.b;
		struct cmsghdr *cm = (struct cmsghdr *)ctl.b;
		if (l->family == AF_INET6) {
			struct in6_pktinfo pi = {.ipi6_addr = local->u.in6.sin6_addr,
						 .ipi6_ifindex = (unsigned)ifindex};
			m.msg_controllen = CMSG_SPACE(sizeof(pi));
			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		} else {
			struct in_pktinfo pi = {.ipi_spec_dst = local->u.in4.sin_addr};
			m.msg_controllen = CMSG_SPACE(sizeof(pi));
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		}
	}
	if (sendmsg(l->fd, &m, MSG_DONTWAIT) < 0)
		log_rl(&l->srv->rl_sock, LOG_LVL_WARN, MOD, "send failed error=%s",
		       strerror(errno));
}

struct request_ctx {
	struct listener *l;
	struct endpoint peer, local;
	int ifindex;
	char client[CLIENT_STRLEN];
	char name[NAME_LOGLEN];
	bool write;
};

static void refuse(struct request_ctx *rq, uint16_t code, const char *msg, const char *reason)
{
	struct tftp_server *s = rq->l->srv;
	uint8_t pkt[TFTP_ERROR_MAX];
	int n = tftp_build_error(pkt, sizeof(pkt), code, msg);
	if (n > 0)
		listener_send(rq->l, pkt, (size_t)n, &rq->peer, &rq->local, rq->ifindex);
	s->st.refused++;
	log_rl(&s->rl_refuse, LOG_LVL_INFO, MOD,
	       "refused client=%s file=\"%s\" error=%u reason=%s", rq->client, rq->name, code,
	       reason);
	if (s->ev_fn) {
		struct tftp_event ev;
		event_fill(&ev, TFTP_EVENT_REFUSED, &rq->peer, rq->name);
		ev.write = rq->write;
		ev.reason = reason;
		ev.error_code = code;
		s->ev_fn(s->ev_arg, &ev);
	}
}

/* ---- sending a batch: sendmmsg, UDP GSO for runs of equal-sized DATA ---- */

static void transfer_finish_if_done(struct transfer *t);

static int send_batch_once(struct transfer *t, const struct tftp_batch *b, bool gso)
{
	struct tftp_server *s = t->srv;
	struct mmsghdr mm[TFTP_BATCH_MAX];
	struct iovec iov[TFTP_BATCH_MAX];
	union {
		char b[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[TFTP_BATCH_MAX];
	size_t nm = 0;
	if (b->n == 1) /* lock-step, OACK, ERROR: a plain send on the connected socket */
		return send(t->fd, b->buf + b->pkt[0].off, b->pkt[0].len, MSG_DONTWAIT) < 0 ? -errno
											      : 0;
	memset(mm, 0, sizeof(mm[0]) * b->n);
	for (size_t i = 0; i < b->n;) {
		size_t j = i + 1;
		uint32_t seg = b->pkt[i].len;
		size_t total = seg;
		if (gso) {
			/* a run: same size, back to back; a shorter packet may end it */
			while (j < b->n && j - i < GSO_MAX_SEGS && b->pkt[j].len <= seg &&
			       total + b->pkt[j].len <= GSO_MAX_BYTES &&
			       b->pkt[j].off == b->pkt[j - 1].off + b->pkt[j - 1].len) {
				total += b->pkt[j].len;
				j++;
				if (b->pkt[j - 1].len < seg)
					break;
			}
		}
		iov[nm].iov_base = b->buf + b->pkt[i].off;
		iov[nm].iov_len = total;
		struct msghdr *m = &mm[nm].msg_hdr; /* no msg_name: the socket is connected */
		m->msg_iov = &iov[nm];
		m->msg_iovlen = 1;
		if (j - i > 1) {
			uint16_t gs = (uint16_t)seg;
			memset(&ctl[nm], 0, sizeof(ctl[nm]));
			struct cmsghdr *cm = (struct cmsghdr *)ctl[nm].b;
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(gs));
			memcpy(CMSG_DATA(cm), &gs, sizeof(gs));
			m->msg_control = ctl[nm].b;
			m->msg_controllen = CMSG_SPACE(sizeof(gs));
		}
		nm++;
		i = j;
	}
	if (s->send_mode == TFTP_SEND_SINGLE) {
		for (size_t k = 0; k < nm; k++)
			if (sendmsg(t->fd, &mm[k].msg_hdr, MSG_DONTWAIT) < 0)
				return k ? 0 : -errno;
		return 0;
	}
	int r = nm == 1 ? (int)sendmsg(t->fd, &mm[0].msg_hdr, MSG_DONTWAIT)
			: sendmmsg(t->fd, mm, (unsigned)nm, MSG_DONTWAIT);
	return r < 0 ? -errno : 0;
}

static void send_batch(struct transfer *t, const struct tftp_batch *b)
{
	bool gso = t->srv->send_mode == TFTP_SEND_GSO && !t->gso_off && b->ndata > 1;
	int r = send_batch_once(t, b, gso);
	if (r == -EIO || (r == -EINVAL && gso)) {
		/* no GSO on this path (no checksum offload, segment above the MTU) */
		t->gso_off = true;
		if (gso)
			r = send_batch_once(t, b, false);
	}
	if (r == -ECONNREFUSED) {
		t_cancel(t, loop_now(t->srv->loop));
		return;
	}
	if (r < 0 && r != -EAGAIN && r != -ENOBUFS)
		log_rl(&t->srv->rl_sock, LOG_LVL_WARN, MOD, "send failed client=%s error=%s",
		       t->client, strerror(-r));
	/* EAGAIN/ENOBUFS: treated as loss; the retransmission timer repairs it */
}

static void pump(struct transfer *t)
{
	struct tftp_server *s = t->srv;
	uint64_t now = loop_now(s->loop);
	for (int guard = 0; guard < 4096; guard++) {
		if (!t_fill(t, &s->batch, now))
			break;
		send_batch(t, &s->batch);
	}
}

/* ---- transfers ---- */

static void transfer_free(struct transfer *t)
{
	struct tftp_server *s = t->srv;
	if (t->prev)
		t->prev->next = t->next;
	else
		s->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	s->active--;
	loop_timer_cancel(s->loop, &t->timer);
	loop_del_fd(s->loop, t->fd);
	close(t->fd);
	if (t->cfd >= 0) {
		loop_del_fd(s->loop, t->cfd);
		close(t->cfd);
	}
	if (t->cacheable) {
		/* the handle may go with this reference: its key must not outlive it */
		bool shared = false;
		for (const struct transfer *u = s->head; u && !shared; u = u->next)
			shared = u->fh == t->fh;
		if (!shared)
			tftp_cache_drop(s->cache, t->fh);
	}
	files_close(t->fh);
	files_upload_close(t->up);
	free(t->marks);
	free(t->ra);
	free(t);
}

static void transfer_end(struct transfer *t)
{
	struct tftp_server *s = t->srv;
	enum tftp_xfer_end end;
	uint64_t started, ended, size, bytes, pkts, retrans;
	uint16_t blksize, windowsize, client_error;
	if (t->write) {
		const struct tftp_rx *r = &t->rx;
		end = r->end;
		started = r->started_ms;
		ended = r->ended_ms;
		size = bytes = r->offset;
		pkts = r->data_pkts;
		retrans = r->dup_pkts;
		blksize = r->p.blksize;
		windowsize = r->p.windowsize;
		client_error = r->client_error;
	} else {
		const struct tftp_xfer *x = &t->x;
		end = x->end;
		started = x->started_ms;
		ended = x->ended_ms;
		size = x->size;
		bytes = x->bytes_acked;
		pkts = x->data_pkts;
		retrans = x->retrans_pkts;
		blksize = x->p.blksize;
		windowsize = x->p.windowsize;
		client_error = x->client_error;
	}
	uint64_t dur = ended >= started ? ended - started : 0;
	bool ok = end == TFTP_END_OK;
	if (ok)
		s->st.completed++;
	else
		s->st.failed++;
	s->st.data_pkts += pkts;
	s->st.retrans_pkts += retrans;
	s->st.bytes += bytes;
	log_info(MOD,
		 "end client=%s file=\"%s\" %sresult=%s bytes=%" PRIu64 " size=%" PRIu64
		 " duration_ms=%" PRIu64 " blksize=%u windowsize=%u data_pkts=%" PRIu64
		 " %s=%" PRIu64 "%s",
		 t->client, t->name, t->write ? "write=yes " : "", tftp_xfer_end_name(end), bytes,
		 size, dur, blksize, windowsize, pkts, t->write ? "dups" : "retrans", retrans,
		 end == TFTP_END_CLIENT_ERROR ? " client_error=yes" : "");
	if (s->ev_fn) {
		struct tftp_event ev;
		event_fill(&ev, TFTP_EVENT_END, &t->peer, t->name);
		ev.write = t->write;
		ev.size = size;
		ev.bytes = bytes;
		ev.duration_ms = dur;
		ev.blksize = blksize;
		ev.windowsize = windowsize;
		ev.ok = ok;
		ev.reason = tftp_xfer_end_name(end);
		ev.error_code = client_error;
		s->ev_fn(s->ev_arg, &ev);
	}
	transfer_free(t);
}

static void transfer_arm(struct transfer *t)
{
	struct tftp_server *s = t->srv;
	uint64_t d = t_deadline(t);
	if (!d) {
		loop_timer_cancel(s->loop, &t->timer);
		return;
	}
	/*
	 * Lazy: the deadline moves later with every ACK; re-arming each time would reprogram
	 * the timerfd once per block. An early timer just finds it is not due and re-arms.
	 */
	if (!loop_timer_armed(&t->timer) || t->timer.deadline_ms > d)
		loop_timer_arm(s->loop, &t->timer, d);
}

static void transfer_finish_if_done(struct transfer *t)
{
	if (t_finished(t))
		transfer_end(t);
	else
		transfer_arm(t);
}

/*
 * Read what the client's TID sent, at most max datagrams. The socket is connected, so the
 * kernel delivers nothing else here (the catcher gets other sources).
 */
static void transfer_read(struct transfer *t, uint64_t now, int max)
{
	struct tftp_server *s = t->srv;
	for (int i = 0; i < max; i++) {
		ssize_t n = recv(t->fd, s->xrx, RX_XFER_BUF, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ECONNREFUSED) /* ICMP port unreachable: the client is gone */
				t_cancel(t, now);
			return;
		}
		t->heard_ms = now;
		t_on_packet(t, s->xrx, (size_t)n, now);
	}
}

static void on_transfer_timer(void *arg)
{
	struct transfer *t = arg;
	uint64_t now = loop_now(t->srv->loop), d = t_deadline(t);
	/*
	 * This timer may run before the socket's readiness in the same loop turn (a busy server
	 * reaches a transfer late): read what is queued first, so that an ACK already here is
	 * never answered by a spurious resend.
	 */
	if (d && now >= d)
		transfer_read(t, now, 4);
	t_on_timer(t, now);
	pump(t);
	transfer_finish_if_done(t);
}

static void on_transfer_readable(void *arg, uint32_t events)
{
	struct transfer *t = arg;
	(void)events;
	/*
	 * One datagram per wakeup: a transfer gets an ACK per window, and a plain recv is
	 * cheaper than recvmmsg's second look at an empty queue. epoll is level-triggered, so
	 * anything else queued comes next turn.
	 */
	transfer_read(t, loop_now(t->srv->loop), 1);
	pump(t);
	transfer_finish_if_done(t);
}

/*
 * The catcher: datagrams to the transfer's port from any source but the client's TID.
 * RFC 1350 §4: such a packet "should be discarded ... An error packet should be sent to the
 * source of the incorrect packet, while not disturbing the transfer." Never to an ERROR.
 */
static void on_catcher_readable(void *arg, uint32_t events)
{
	struct transfer *t = arg;
	struct tftp_server *s = t->srv;
	(void)events;
	for (int i = 0; i < 8; i++) { /* bounded work per turn */
		struct endpoint from;
		uint8_t p[4];
		from.len = sizeof(from.u);
		ssize_t n = recvfrom(t->cfd, p, sizeof(p), MSG_DONTWAIT | MSG_TRUNC, &from.u.sa,
				     &from.len);
		if (n < 0)
			return;
		char who[CLIENT_STRLEN];
		fmt_endpoint(who, sizeof(who), &from);
		log_rl(&s->rl_tid, LOG_LVL_INFO, MOD, "wrong tid client=%s from=%s", t->client,
		       who);
		if (!(n >= 2 && p[0] == 0 && p[1] == TFTP_OP_ERROR) && !bad_source(&from)) {
			uint8_t e[TFTP_ERROR_MAX];
			int k = tftp_build_error(e, sizeof(e), TFTP_ERR_UNKNOWN_TID, NULL);
			if (k > 0)
				sendto(t->cfd, e, (size_t)k, MSG_DONTWAIT, &from.u.sa, from.len);
		}
	}
}

static ssize_t cache_pread(void *arg, void *buf, size_t len, uint64_t off)
{
	return files_pread(arg, buf, len, off);
}

static ssize_t source_readv(void *arg, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct transfer *t = arg;
	struct tftp_server *s = t->srv;
	if (t->cacheable) {
		struct tftp_cache_reader rd = {.pread = cache_pread, .arg = t->fh};
		ssize_t n = tftp_cache_readv(s->cache, t->fh, t, &rd, iov, iovcnt, off,
					     loop_now(s->loop));
		if (n != -EAGAIN)
			return n;
	}
	if (!t->ra && t->ra_cap)
		t->ra = malloc(t->ra_cap); /* optional: without it every block is one pread */
	if (!t->ra || iovcnt != 1 || iov[0].iov_len > t->ra_cap)
		return files_preadv(t->fh, iov, iovcnt, off);
	size_t want = iov[0].iov_len;
	if (off < t->ra_off || off + want > t->ra_off + t->ra_len) {
		/* refill from here: the blocks that follow come from memory */
		ssize_t n = files_pread(t->fh, t->ra, t->ra_cap, off);
		if (n < 0) {
			t->ra_len = 0;
			return n;
		}
		t->ra_off = off;
		t->ra_len = (size_t)n;
		if ((size_t)n < want)
			want = (size_t)n; /* end of file */
	}
	memcpy(iov[0].iov_base, t->ra + (off - t->ra_off), want);
	return (ssize_t)want;
}

/* The largest block that fits the interface's MTU (RFC 2348 §3 note), unless configured. */
static uint16_t blksize_limit(struct tftp_server *s, struct listener *l, int family, int ifindex)
{
	if (s->cfg.blksize_max)
		return (uint16_t)MIN(s->cfg.blksize_max, (uint64_t)TFTP_BLKSIZE_MAX);
	unsigned mtu = 0;
	for (size_t i = 0; i < s->nifs; i++)
		if (s->ifs[i].ifindex == ifindex)
			mtu = s->ifs[i].mtu;
	if (!mtu && ifindex > 0) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		if (if_indextoname((unsigned)ifindex, ifr.ifr_name) &&
		    ioctl(l->fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
			mtu = (unsigned)ifr.ifr_mtu;
	}
	if (!mtu)
		mtu = 1500;
	unsigned overhead = (family == AF_INET6 ? 40u : 20u) + 8u + TFTP_HDR_LEN;
	unsigned max = mtu > overhead + TFTP_BLKSIZE_MIN ? mtu - overhead : TFTP_BLKSIZE_MIN;
	return (uint16_t)MIN(max, (unsigned)TFTP_BLKSIZE_MAX);
}

static int udp_socket(int family)
{
	int one = 1, fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	return fd;
}

/*
 * The transfer's sockets, both on the same local address and port (the transfer's TID):
 * the returned one connected to the client's TID, and in *cfd an unconnected catcher that
 * gets every other source (the kernel prefers the connected socket for the client's
 * packets). A connected socket sends and receives without a route or socket lookup per
 * datagram, and reports ICMP port unreachable (the client is gone) as ECONNREFUSED.
 * In single-port mode the one socket is bound to port 69 and the listener is the catcher.
 */
static int transfer_socket(struct tftp_server *s, const struct endpoint *local,
			   const struct endpoint *peer, int ifindex, int *cfd)
{
	int family = local->u.sa.sa_family, one = 1, c = -1, fd = -1;
	struct endpoint b = *local;
	*cfd = -1;
	if (family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&b.u.in6.sin6_addr))
		b.u.in6.sin6_scope_id = (uint32_t)ifindex;
	if (s->cfg.single_port) {
		ep_set_port(&b, s->cfg.port);
	} else {
		/*
		 * The catcher binds first, without SO_REUSEADDR, so the kernel picks a port that
		 * no other socket holds; only then may the connected socket share it.
		 */
		ep_set_port(&b, 0);
		c = udp_socket(family);
		if (c < 0 || bind(c, &b.u.sa, b.len) < 0 ||
		    setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
			goto err;
		b.len = sizeof(b.u);
		if (getsockname(c, &b.u.sa, &b.len) < 0)
			goto err;
	}
	fd = udp_socket(family);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, &b.u.sa, b.len) < 0 || connect(fd, &peer->u.sa, peer->len) < 0)
		goto err;
	/* what reached it between bind and connect came from a stranger: drop it */
	uint8_t junk[4];
	while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;
	*cfd = c;
	return fd;
err: {
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (c >= 0)
		close(c);
	return -e;
}
}

static int upload_write(void *arg, const void *buf, size_t len, uint64_t off)
{
	return files_upload_write(arg, buf, len, off);
}

static int upload_commit(void *arg)
{
	return files_upload_commit(arg);
}

/* ERROR for a failed open (reads: files_open, writes: files_upload_open). */
static void refuse_open(struct request_ctx *rq, int r)
{
	switch (r) {
	case -ENOENT:
		refuse(rq, TFTP_ERR_NOT_FOUND, NULL, "not-found");
		break;
	case -ENAMETOOLONG:
		refuse(rq, TFTP_ERR_NOT_FOUND, "File name too long", "name-too-long");
		break;
	case -EACCES:
	case -EPERM:
	case -EROFS:
		refuse(rq, TFTP_ERR_ACCESS, NULL, "access");
		break;
	case -EEXIST:
		refuse(rq, TFTP_ERR_EXISTS, NULL, "exists");
		break;
	case -ENOSPC:
		refuse(rq, TFTP_ERR_DISK_FULL, NULL, "disk-full");
		break;
	default:
		refuse(rq, TFTP_ERR_UNDEF, "Server busy", "open-failed");
		break;
	}
}

static void start_transfer(struct request_ctx *rq, const struct tftp_request *req,
			   uint64_t hash)
{
	struct tftp_server *s = rq->l->srv;
	uint64_t now = loop_now(s->loop);
	size_t per_client = 0;

	for (struct transfer *t = s->head, *nx; t; t = nx) {
		nx = t->next;
		if (same_endpoint(&t->peer, &rq->peer)) {
			/*
			 * The same request again: the client resent it before our answer reached
			 * it, or it is still talking to this transfer (a busy server may reach
			 * copies of a request queued seconds ago: they must not restart it). A
			 * client that went quiet for DUP_RRQ_MS and asks again starts over.
			 */
			if (t->req_hash == hash && now - t->heard_ms < DUP_RRQ_MS) {
				log_debug(MOD, "duplicate request client=%s file=\"%s\"", rq->client,
					  rq->name);
				return;
			}
			/*
			 * A new request from the same TID: the old transfer is over for the client.
			 * End it without an ERROR, which would reach the client before our answer
			 * to its new request (tftp-hpa takes the first answer as the server's).
			 */
			t_cancel(t, now);
			transfer_end(t);
			continue;
		}
		if (same_host(&t->peer, &rq->peer))
			per_client++;
	}
	if (s->active >= s->cfg.max_transfers) {
		refuse(rq, TFTP_ERR_UNDEF, "Too many transfers, try again later", "busy");
		return;
	}
	if (per_client >= s->cfg.max_per_client) {
		refuse(rq, TFTP_ERR_UNDEF, "Too many transfers from this client", "client-busy");
		return;
	}

	bool write = req->opcode == TFTP_OP_WRQ;
	struct files_handle *fh = NULL;
	struct files_upload *up = NULL;
	int r;
	if (write) {
		r = files_upload_open(s->cfg.write_dir, req->file, &up);
	} else {
		struct files_client who;
		client_of(&rq->peer, &who);
		r = files_open(s->files, req->file, &who, &fh);
	}
	if (r < 0) {
		refuse_open(rq, r);
		return;
	}

	struct tftp_limits lim = {
		.blksize_max = blksize_limit(s, rq->l, rq->local.u.sa.sa_family, rq->ifindex),
		.windowsize_max = (uint16_t)MIN(s->cfg.windowsize_max, (uint64_t)TFTP_WINDOW_MAX),
	};
	struct tftp_params p;
	/* RFC 2349: for a read the server tells the size; for a write it echoes the client's */
	uint64_t size = write ? req->opt.tsize : files_size(fh);
	tftp_negotiate(&req->opt, &lim, size, &p);

	struct transfer *t = calloc(1, sizeof(*t));
	if (!t)
		goto err_file;
	if (!write && req->mode == TFTP_MODE_NETASCII) {
		t->marks = calloc(TFTP_NA_MARKS(p.windowsize), sizeof(*t->marks));
		if (!t->marks)
			goto err_t;
	}
	t->fd = transfer_socket(s, &rq->local, &rq->peer, rq->ifindex, &t->cfd);
	if (t->fd < 0)
		goto err_t;
	if (loop_add_fd(s->loop, t->fd, EPOLLIN, on_transfer_readable, t) < 0)
		goto err_fd;
	if (t->cfd >= 0 && loop_add_fd(s->loop, t->cfd, EPOLLIN, on_catcher_readable, t) < 0) {
		loop_del_fd(s->loop, t->fd);
		goto err_fd;
	}
	size_t wbytes = (size_t)p.windowsize * (p.blksize + TFTP_HDR_LEN + 64u);
	if (wbytes > 128 * 1024) {
		int sb = (int)MIN(wbytes * 2, (size_t)8 << 20);
		setsockopt(t->fd, SOL_SOCKET, write ? SO_RCVBUF : SO_SNDBUF, &sb, sizeof(sb));
	}
	t->srv = s;
	t->write = write;
	t->peer = rq->peer;
	t->fh = fh;
	t->up = up;
	t->req_hash = hash;
	t->heard_ms = now;
	memcpy(t->name, rq->name, sizeof(t->name));
	memcpy(t->client, rq->client, sizeof(t->client));
	loop_timer_init(&t->timer, on_transfer_timer, t);
	struct tftp_xfer_cfg xc = {
		.rto_max_ms = s->cfg.timeout_ms,
		.rto_min_ms = MIN((uint64_t)RTO_MIN_MS, s->cfg.timeout_ms),
		.retries = (unsigned)s->cfg.retries,
	};
	if (write) {
		struct tftp_sink sink = {.write = upload_write, .commit = upload_commit, .arg = up};
		tftp_rx_init(&t->rx, &p, req->mode, &xc, &sink, now);
	} else {
		if (p.windowsize == 1 && READAHEAD_BYTES / p.blksize >= 2)
			t->ra_cap = READAHEAD_BYTES / p.blksize * p.blksize;
		t->cacheable = s->cache && files_fd(fh) >= 0; /* generated files are in memory */
		struct tftp_source src = {.readv = source_readv, .arg = t};
		tftp_xfer_init(&t->x, &p, req->mode, size, &xc, &src, t->marks, now);
	}
	t->next = s->head;
	if (s->head)
		s->head->prev = t;
	s->head = t;
	s->active++;
	s->st.started++;

	log_info(MOD,
		 "start client=%s file=\"%s\" %ssize=%" PRIu64 " mode=%s blksize=%u"
		 " windowsize=%u tsize=%s timeout=%u",
		 t->client, t->name, write ? "write=yes " : "", size,
		 req->mode == TFTP_MODE_NETASCII ? "netascii" : "octet", p.blksize, p.windowsize,
		 p.ack_tsize ? "yes" : "no", p.timeout_s);
	if (s->ev_fn) {
		struct tftp_event ev;
		event_fill(&ev, TFTP_EVENT_START, &t->peer, t->name);
		ev.write = write;
		ev.size = size;
		ev.blksize = p.blksize;
		ev.windowsize = p.windowsize;
		s->ev_fn(s->ev_arg, &ev);
	}
	pump(t);
	transfer_finish_if_done(t);
	return;

err_fd:
	close(t->fd);
	if (t->cfd >= 0)
		close(t->cfd);
err_t:
	free(t->marks);
	free(t);
err_file:
	files_close(fh);
	files_upload_close(up);
	refuse(rq, TFTP_ERR_UNDEF, "Server busy", "no-resources");
}

/* ---- listeners ---- */

static void handle_request(struct listener *l, const uint8_t *buf, size_t len, bool trunc,
			   struct request_ctx *rq)
{
	struct tftp_server *s = l->srv;
	struct tftp_request req;

	s->st.requests++;
	if (bad_source(&rq->peer))
		return;
	fmt_endpoint(rq->client, sizeof(rq->client), &rq->peer);
	str_copy(rq->name, "", sizeof(rq->name));
	if (trunc) {
		refuse(rq, TFTP_ERR_ILLEGAL_OP, "Request too long", "too-long");
		return;
	}
	int r = tftp_parse_request(buf, len, &req);
	if (r == -EOPNOTSUPP) {
		if (req.opcode == TFTP_OP_ERROR)
			return; /* never answer an ERROR: two servers could loop forever */
		if (req.opcode == TFTP_OP_ACK || req.opcode == TFTP_OP_DATA)
			refuse(rq, TFTP_ERR_UNKNOWN_TID, NULL, "unknown-tid");
		else
			refuse(rq, TFTP_ERR_ILLEGAL_OP, NULL, "illegal-op");
		return;
	}
	if (r == -EBADMSG) {
		if (len >= 2)
			refuse(rq, TFTP_ERR_ILLEGAL_OP, "Malformed request", "malformed");
		return;
	}
	log_escape(rq->name, sizeof(rq->name), req.file, req.file_len);
	rq->write = req.opcode == TFTP_OP_WRQ;
	if (r == -EPROTONOSUPPORT) {
		refuse(rq, TFTP_ERR_ILLEGAL_OP, "Unsupported transfer mode", "bad-mode");
		return;
	}
	/* writes only when [tftp] write-dir is set, and only there */
	if (req.opcode == TFTP_OP_WRQ && !s->cfg.write_dir[0]) {
		refuse(rq, TFTP_ERR_ACCESS, "Writes are disabled", "write-disabled");
		return;
	}
	start_transfer(rq, &req, fnv1a(buf, len));
}

static void local_from_cmsg(struct msghdr *m, int family, struct request_ctx *rq)
{
	memset(&rq->local, 0, sizeof(rq->local));
	rq->ifindex = 0;
	rq->local.u.sa.sa_family = (sa_family_t)family;
	rq->local.len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			rq->local.u.in4.sin_addr = pi.ipi_spec_dst;
			rq->ifindex = pi.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			rq->local.u.in6.sin6_addr = pi.ipi6_addr;
			rq->ifindex = (int)pi.ipi6_ifindex;
		}
	}
}

static void on_listener_readable(void *arg, uint32_t events)
{
	struct listener *l = arg;
	struct tftp_server *s = l->srv;
	struct mmsghdr mm[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct endpoint from[RX_BATCH];
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl[RX_BATCH];
	(void)events;

	for (int round = 0; round < 8; round++) { /* bounded work per turn */
		memset(mm, 0, sizeof(mm));
		for (int i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = s->rxbuf + (size_t)i * RX_REQ_BUF;
			iov[i].iov_len = RX_REQ_BUF;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_name = &from[i].u;
			mm[i].msg_hdr.msg_namelen = sizeof(from[i].u);
			mm[i].msg_hdr.msg_control = ctl[i].b;
			mm[i].msg_hdr.msg_controllen = sizeof(ctl[i].b);
		}
		int n = recvmmsg(l->fd, mm, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			struct request_ctx rq;
			memset(&rq, 0, sizeof(rq));
			rq.l = l;
			rq.peer = from[i];
			rq.peer.len = mm[i].msg_hdr.msg_namelen;
			local_from_cmsg(&mm[i].msg_hdr, l->family, &rq);
			handle_request(l, s->rxbuf + (size_t)i * RX_REQ_BUF, mm[i].msg_len,
				       mm[i].msg_hdr.msg_flags & MSG_TRUNC, &rq);
		}
		if (n < RX_BATCH)
			break;
	}
}

static void listener_close(struct tftp_server *s, struct listener *l)
{
	loop_del_fd(s->loop, l->fd);
	close(l->fd);
	free(l);
}

static struct listener *listener_open(struct tftp_server *s, int family, uint32_t addr4,
				      const char *ifname, uint16_t port, char *err, size_t errlen)
{
	int one = 1, fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct endpoint b;
	char what[64];
	memset(&b, 0, sizeof(b));
	if (family == AF_INET6) {
		b.u.in6.sin6_family = AF_INET6;
		b.u.in6.sin6_port = htons(port);
		b.len = sizeof(b.u.in6);
		snprintf(what, sizeof(what), "[::]:%u%s%s", port, ifname ? "%" : "",
			 ifname ? ifname : "");
	} else {
		b.u.in4.sin_family = AF_INET;
		b.u.in4.sin_port = htons(port);
		b.u.in4.sin_addr.s_addr = htonl(addr4);
		b.len = sizeof(b.u.in4);
		char a[IPV4_STRLEN];
		snprintf(what, sizeof(what), "%s:%u%s%s", fmt_ipv4(a, addr4), port,
			 ifname ? "%" : "", ifname ? ifname : "");
	}
	if (fd < 0)
		goto err;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0)
			goto err_fd;
	} else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0) {
		goto err_fd;
	}
	if (ifname && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
				 (socklen_t)strlen(ifname) + 1) < 0)
		goto err_fd;
	int rb = 1 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	if (bind(fd, &b.u.sa, b.len) < 0)
		goto err_fd;
	struct listener *l = calloc(1, sizeof(*l));
	if (!l) {
		errno = ENOMEM;
		goto err_fd;
	}
	l->srv = s;
	l->fd = fd;
	l->family = family;
	int r = loop_add_fd(s->loop, fd, EPOLLIN, on_listener_readable, l);
	if (r < 0) {
		free(l);
		errno = -r;
		goto err_fd;
	}
	log_info(MOD, "listening on=%s", what);
	return l;
err_fd : {
	int e = errno;
	close(fd);
	errno = e;
}
err:
	snprintf(err, errlen, "tftp: cannot listen on %s: %s", what, strerror(errno));
	return NULL;
}

struct listen_ctx {
	struct tftp_server *s;
	uint16_t port;
};

static void *listener_open_spec(void *arg, const struct net_listen_spec *sp, char *err,
				size_t errlen)
{
	const struct listen_ctx *x = arg;
	return listener_open(x->s, sp->family, sp->addr4, sp->ifname[0] ? sp->ifname : NULL,
			     x->port, err, errlen);
}

static void listener_close_spec(void *arg, void *l)
{
	const struct listen_ctx *x = arg;
	listener_close(x->s, l);
}

/* Build the listening set for cfg into out (net_listen_plan: per address, else per
 * interface v4 + optional v6, else wildcard); 0, or -errno with err set (nothing left open). */
static int listeners_build(struct tftp_server *s, const struct tftp_cfg *cfg,
			   struct listener **out, size_t *nout, char *err, size_t errlen)
{
	*nout = 0;
	if (!cfg->enabled)
		return 0;
	struct net_listen_spec sp[MAX_LISTENERS];
	size_t n = net_listen_plan(cfg->addrs, cfg->naddrs, s->ifs, s->nifs, sp, MAX_LISTENERS);
	struct listen_ctx x = {s, cfg->port};
	void *o[MAX_LISTENERS];
	int r = net_listen_open(sp, n, listener_open_spec, listener_close_spec, &x, o, nout, MOD,
				LOG_LVL_WARN, err, errlen);
	for (size_t i = 0; i < *nout; i++)
		out[i] = o[i];
	return r;
}

/*
 * A transfer holds two descriptors (its connected socket and the catcher): raise the soft
 * open-file limit toward that for max-transfers, so the limit on transfers is reached
 * (and answered with an ERROR) before the descriptors run out.
 */
static void tftp_raise_nofile(const struct tftp_cfg *cfg)
{
	if (cfg->enabled)
		raise_nofile(2 * cfg->max_transfers + 256, MOD, "max-transfers");
}

static enum tftp_send_mode send_mode_from_env(void)
{
	const char *e = getenv("PIXIED_TFTP_SEND");
	if (e && !strcmp(e, "mmsg"))
		return TFTP_SEND_MMSG;
	if (e && !strcmp(e, "single"))
		return TFTP_SEND_SINGLE;
	return TFTP_SEND_GSO;
}

struct tftp_server *tftp_server_new(struct loop *l, const struct conf *c, struct files *f,
				    const struct net_iface *ifs, size_t nifs, char *err,
				    size_t errlen)
{
	struct tftp_server *s = calloc(1, sizeof(*s));
	if (!s)
		goto err_nomem;
	s->loop = l;
	s->files = f;
	s->rl_refuse = (struct log_ratelimit)LOG_RATELIMIT_INIT(20);
	s->rl_tid = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000);
	s->rl_sock = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000);
	s->send_mode = send_mode_from_env();
	cfg_from_conf(&s->cfg, c);
	tftp_raise_nofile(&s->cfg);
	if (nifs) {
		s->ifs = calloc(nifs, sizeof(*s->ifs));
		if (!s->ifs)
			goto err_free;
		memcpy(s->ifs, ifs, nifs * sizeof(*ifs));
		s->nifs = nifs;
	}
	s->scratch = malloc(SCRATCH_CAP);
	s->cache = tftp_cache_new(CACHE_SLOTS, CACHE_CHUNK, CACHE_COLD_MS); /* optional */
	s->rxbuf = malloc((size_t)RX_BATCH * RX_REQ_BUF);
	s->xrx = malloc(RX_XFER_BUF);
	if (!s->scratch || !s->rxbuf || !s->xrx)
		goto err_free;
	s->batch.buf = s->scratch;
	s->batch.cap = SCRATCH_CAP;
	if (listeners_build(s, &s->cfg, s->ls, &s->nls, err, errlen) < 0)
		goto err_free_quiet;
	return s;

err_free:
	snprintf(err, errlen, "tftp: out of memory");
err_free_quiet:
	if (s) {
		free(s->xrx);
		free(s->rxbuf);
		free(s->scratch);
		tftp_cache_free(s->cache);
		free(s->ifs);
		free(s);
	}
	return NULL;
err_nomem:
	snprintf(err, errlen, "tftp: out of memory");
	return NULL;
}

void tftp_server_free(struct tftp_server *s)
{
	if (!s)
		return;
	uint64_t now = loop_now(s->loop);
	while (s->head) {
		struct transfer *t = s->head;
		t_abort(t, TFTP_ERR_UNDEF, "Server shutting down", now);
		pump(t);
		if (!t_finished(t))
			t_cancel(t, now);
		transfer_end(t);
	}
	for (size_t i = 0; i < s->nls; i++)
		listener_close(s, s->ls[i]);
	free(s->xrx);
	free(s->rxbuf);
	free(s->scratch);
	tftp_cache_free(s->cache);
	free(s->ifs);
	free(s);
}

int tftp_server_reconfigure(struct tftp_server *s, const struct conf *c, char *err,
			    size_t errlen)
{
	struct tftp_cfg nc;
	cfg_from_conf(&nc, c);
	tftp_raise_nofile(&nc);
	if (!listen_cfg_equal(&nc, &s->cfg)) {
		struct listener *nl[MAX_LISTENERS];
		size_t n;
		/* bind the new set while the old one still holds its ports: they may overlap */
		for (size_t i = 0; i < s->nls; i++)
			loop_del_fd(s->loop, s->ls[i]->fd);
		int r = listeners_build(s, &nc, nl, &n, err, errlen);
		if (r < 0) {
			for (size_t i = 0; i < s->nls; i++)
				loop_add_fd(s->loop, s->ls[i]->fd, EPOLLIN, on_listener_readable,
					    s->ls[i]);
			return r;
		}
		for (size_t i = 0; i < s->nls; i++) {
			close(s->ls[i]->fd);
			free(s->ls[i]);
		}
		memcpy(s->ls, nl, n * sizeof(nl[0]));
		s->nls = n;
	}
	s->cfg = nc;
	return 0;
}

void tftp_server_set_event_fn(struct tftp_server *s, tftp_event_fn fn, void *arg)
{
	s->ev_fn = fn;
	s->ev_arg = arg;
}

void tftp_server_stats(const struct tftp_server *s, struct tftp_stats *out)
{
	*out = s->st;
	out->active = s->active;
	for (const struct transfer *t = s->head; t; t = t->next) {
		if (t->write) {
			out->data_pkts += t->rx.data_pkts;
			out->bytes += t->rx.offset;
		} else {
			out->data_pkts += t->x.data_pkts;
			out->retrans_pkts += t->x.retrans_pkts;
			out->bytes += t->x.bytes_acked;
		}
	}
}
