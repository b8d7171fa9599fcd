/*
 * Unit tests for dhcp/service (dhcp.h): the admin release, the clients hook, and when
 * replies leave relative to the turn's commit. The service needs real sockets, so these
 * run as root only, each in a forked child inside a network namespace of its own (only lo,
 * nothing reaches the host's interfaces): the service serves lo (127.0.0.1/8), the test
 * plays a relay agent at 127.0.0.2 (giaddr), so every reply comes back to 127.0.0.2:67
 * where the test listens. The mode = off case needs no root.
 *
 * Root-only tests are skipped when not root, or fail when PIXIED_REQUIRE_ROOT_TESTS=1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "root_child.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clients/clients.h"
#include "conf/conf.h"
#include "core/loop.h"
#include "core/util.h"
#include "dhcp/dhcp.h"
#include "dhcp/dhcp_server.h"
#include "dhcp/dhcp_wire.h"
#include "net/net.h"
#include "store/store.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define SRV IP(127, 0, 0, 1)
#define RELAY IP(127, 0, 0, 2)

struct child_fn {
	int (*fn)(void);
};

static int call_child(void *arg)
{
	return ((struct child_fn *)arg)->fn();
}

static void run_child(int (*fn)(void))
{
	struct child_fn cf = {fn};
	root_child_need_root("dhcp_service");
	root_child_run(call_child, &cf, "cannot create a network namespace here");
}

#define fresh_netns root_child_fresh_netns

/* ---- config ---- */

static struct conf cfg;

static void conf_full(enum conf_dhcp_mode mode)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.dhcp.mode = mode;
	cfg.dhcp.lease_time = 3600;
	cfg.dhcp.decline_time = 600;
	cfg.dhcp.offer_time = 60;
	cfg.dhcp.authoritative = true;
	cfg.dhcp.max_offers = 64;
	cfg.dhcp.no_proxydhcp_wait = true;
	cfg.http.enabled = true;
	cfg.http.port = 80;
	cfg.tftp.enabled = true;
	strcpy(cfg.loaders[CONF_ARCH_BIOS], "undionly.kpxe");
	struct conf_pool *p = &cfg.pools[cfg.npools++];
	str_copy(p->name, "lo", sizeof(p->name));
	p->line = 1;
	p->has_subnet = true;
	p->net = IP(127, 0, 0, 0);
	p->mask = 0xff000000u;
	p->ranges[0].start = IP(127, 0, 0, 10);
	p->ranges[0].end = IP(127, 0, 0, 20);
	p->nranges = 1;
}

/* ---- packets ---- */

struct pkt {
	uint8_t b[DHCP_MAX_LEN];
	size_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void pkt_opt(struct pkt *p, uint8_t code, const void *data, size_t len)
{
	p->b[p->len++] = code;
	p->b[p->len++] = (uint8_t)len;
	memcpy(p->b + p->len, data, len);
	p->len += len;
}

static void pkt_ip(struct pkt *p, uint8_t code, uint32_t ip)
{
	uint8_t b[4];
	put32(b, ip);
	pkt_opt(p, code, b, 4);
}

static const uint8_t MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x42};

/* A relayed PXE BIOS request from MAC, hostname with a control byte in it. */
static void pkt_relayed(struct pkt *p, uint8_t type, uint32_t xid)
{
	memset(p, 0, sizeof(*p));
	p->b[0] = DHCP_OP_REQUEST;
	p->b[1] = 1;
	p->b[2] = 6;
	p->b[3] = 1; /* hops */
	put32(p->b + 4, xid);
	put32(p->b + 24, RELAY);
	memcpy(p->b + 28, MAC, 6);
	put32(p->b + 236, DHCP_COOKIE);
	p->len = 240;
	uint8_t t = type;
	pkt_opt(p, DHCP_OPT_MSG_TYPE, &t, 1);
	pkt_opt(p, DHCP_OPT_VENDOR_CLASS, "PXEClient:Arch:00000:UNDI:002001", 32);
	const uint8_t arch[2] = {0, 0};
	pkt_opt(p, DHCP_OPT_CLIENT_ARCH, arch, 2);
	pkt_opt(p, DHCP_OPT_HOSTNAME, "pc\x01one", 6);
}

static int pkt_send(int fd, struct pkt *p)
{
	p->b[p->len++] = DHCP_OPT_END;
	if (p->len < 300)
		p->len = 300;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(67),
				 .sin_addr.s_addr = htonl(SRV)};
	return sendto(fd, p->b, p->len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)p->len
		       ? 0
		       : -1;
}

/* ---- one service in a namespace ---- */

struct world {
	char dir[64];
	struct store *st;
	struct loop *loop;
	struct clients *clients;
	struct dhcp_service *svc;
	int relay_fd;  /* 127.0.0.2:67: where replies to the "relay" arrive */
	int client_fd; /* sends the requests */
	/* what the relay socket held when the hook before the service's commit ran */
	uint8_t before_commit[8];
	unsigned seen_turn[8]; /* the turn (of this spin, from 1) whose hook read it */
	size_t nbefore;
	unsigned turn;
	struct dhcp_msg last; /* the last reply read */
	struct loop_timer stop;
};

/* Drain relay_fd, append the message types read (0 = unparsable) to types. */
static size_t drain(int fd, uint8_t *types, size_t cap, size_t n, struct dhcp_msg *last)
{
	uint8_t buf[DHCP_MAX_LEN + 1];
	struct dhcp_msg m;
	ssize_t len;
	while ((len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		bool ok = dhcp_msg_parse(&m, buf, (size_t)len) == DHCP_PARSE_OK;
		if (n < cap)
			types[n++] = ok ? m.type : 0;
		if (ok && last)
			*last = m;
	}
	return n;
}

/* End-of-turn hook registered before the service's: sees what was sent before the commit. */
static void before_commit_hook(void *arg)
{
	struct world *w = arg;
	size_t n0 = w->nbefore;
	w->turn++;
	w->nbefore = drain(w->relay_fd, w->before_commit, sizeof(w->before_commit), w->nbefore,
			   &w->last);
	for (size_t i = n0; i < w->nbefore; i++)
		w->seen_turn[i] = w->turn;
}

static void stop_loop(void *arg)
{
	struct world *w = arg;
	loop_stop(w->loop);
}

/* Run the loop for about ms milliseconds. */
static int spin(struct world *w, unsigned ms)
{
	w->turn = 0;
	w->nbefore = 0;
	loop_timer_init(&w->stop, stop_loop, w);
	loop_timer_arm(w->loop, &w->stop, loop_now(w->loop) + ms);
	return loop_run(w->loop);
}

static int world_new(struct world *w)
{
	char err[512];
	memset(w, 0, sizeof(*w));
	w->relay_fd = w->client_fd = -1;
	snprintf(w->dir, sizeof(w->dir), "/tmp/pixied-test-dhcp-service.XXXXXX");
	CHECK(mkdtemp(w->dir));
	w->st = store_open(w->dir, false, err, sizeof(err));
	if (!w->st)
		fprintf(stderr, "store_open: %s\n", err);
	CHECK(w->st);
	CHECK((w->loop = loop_new()));
	CHECK((w->clients = clients_new(NULL, NULL)));
	CHECK_EQ(loop_on_turn_end(w->loop, before_commit_hook, w), 0);
	struct net_iface lo;
	CHECK_EQ(net_iface_get("lo", &lo), 0);
	conf_full(CONF_DHCP_FULL);
	w->svc = dhcp_service_new(w->loop, &cfg, w->st, &lo, 1, err, sizeof(err));
	if (!w->svc)
		fprintf(stderr, "dhcp_service_new: %s\n", err);
	CHECK(w->svc);
	dhcp_service_set_clients(w->svc, w->clients);
	w->relay_fd = net_udp4_bind(RELAY, 67, NULL);
	CHECK(w->relay_fd >= 0);
	w->client_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(w->client_fd >= 0);
	return CHILD_OK;
}

static void world_free(struct world *w)
{
	dhcp_service_free(w->svc);
	clients_free(w->clients);
	loop_free(w->loop);
	store_close(w->st);
	if (w->relay_fd >= 0)
		close(w->relay_fd);
	if (w->client_fd >= 0)
		close(w->client_fd);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", w->dir);
}

/*
 * DORA through the service: the OFFER leaves during the turn (before the commit hook),
 * the ACK only after the commit; the lease is in the store; clients/ got every request
 * with the arrival interface and the raw hostname; then the admin release.
 */
static int child_dora_clients_and_release(void)
{
	int r = fresh_netns();
	if (r != CHILD_OK)
		return r;
	struct world w;
	CHECK_EQ(world_new(&w), CHILD_OK);

	struct pkt p;
	uint8_t after[8];
	size_t nafter;

	pkt_relayed(&p, DHCPDISCOVER, 0x1001);
	CHECK_EQ(pkt_send(w.client_fd, &p), 0);
	CHECK_EQ(spin(&w, 200), 0);
	nafter = drain(w.relay_fd, after, sizeof(after), 0, &w.last);
	CHECK_EQ(w.nbefore, 1); /* the OFFER went out before the first turn's commit */
	CHECK_EQ(w.before_commit[0], DHCPOFFER);
	CHECK_EQ(w.seen_turn[0], 1);
	CHECK_EQ(nafter, 0);
	uint32_t ip = w.last.yiaddr;
	CHECK(ip >= IP(127, 0, 0, 10) && ip <= IP(127, 0, 0, 20));
	{
		struct store_lease l; /* an offer holds the address in memory only */
		CHECK_EQ(store_lease_by_ip(w.st, ip, &l), 0);
	}

	pkt_relayed(&p, DHCPREQUEST, 0x1001);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ip);
	CHECK_EQ(pkt_send(w.client_fd, &p), 0);
	/* One turn handles the REQUEST: its hook runs before the commit and must not see the
	 * ACK. The stop timer's turn (later) may read it; else it is still queued. */
	CHECK_EQ(spin(&w, 200), 0);
	nafter = drain(w.relay_fd, after, sizeof(after), 0, &w.last);
	CHECK_EQ(w.nbefore + nafter, 1);
	CHECK_EQ(w.nbefore ? w.before_commit[0] : after[0], DHCPACK);
	if (w.nbefore)
		CHECK(w.seen_turn[0] > 1);
	CHECK_EQ(w.last.yiaddr, ip);
	{
		struct store_lease l;
		CHECK_EQ(store_lease_by_ip(w.st, ip, &l), 1);
		CHECK_EQ(l.state, STORE_LEASE_BOUND);
		CHECK(!memcmp(l.mac, MAC, 6));
	}

	/* clients/: discover, offer, request, ack, on lo, hostname as printable bytes */
	struct clients_record rec;
	struct clients_event tl[16];
	size_t ntl = 0;
	CHECK_EQ(clients_get(w.clients, MAC, &rec, tl, 16, &ntl), 1);
	CHECK(!strcmp(rec.iface, "lo"));
	CHECK(!strcmp(rec.hostname, "pcone"));
	CHECK(rec.has_arch);
	CHECK_EQ(rec.arch_code, 0);
	CHECK(rec.is_pxe);
	CHECK_EQ(rec.ip, ip);
	CHECK(!strcmp(rec.loader, "undionly.kpxe"));
	CHECK_EQ(ntl, 4);
	CHECK_EQ(tl[0].kind, CLIENTS_EV_DHCP_DISCOVER);
	CHECK_EQ(tl[1].kind, CLIENTS_EV_DHCP_OFFER);
	CHECK_EQ(tl[1].ip, ip);
	CHECK_EQ(tl[2].kind, CLIENTS_EV_DHCP_REQUEST);
	CHECK_EQ(tl[3].kind, CLIENTS_EV_DHCP_ACK);

	/* a request that gets no reply is reported too: a REQUEST for another server */
	pkt_relayed(&p, DHCPREQUEST, 0x1002);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, IP(127, 9, 9, 9));
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, IP(127, 0, 0, 99));
	CHECK_EQ(pkt_send(w.client_fd, &p), 0);
	CHECK_EQ(spin(&w, 200), 0);
	CHECK_EQ(clients_get(w.clients, MAC, &rec, tl, 16, &ntl), 1);
	CHECK_EQ(ntl, 5);
	CHECK_EQ(tl[4].kind, CLIENTS_EV_DHCP_REQUEST);

	/* admin release: back to the pool, in the store before it returns */
	const struct dhcp_server *srv = dhcp_service_server(w.svc);
	CHECK(srv);
	struct dhcp_server_pool_stats ps;
	CHECK_EQ(dhcp_server_pool_stats(srv, 0, time_wall(), &ps), 0);
	CHECK_EQ(ps.bound, 1);
	char err[256] = "";
	CHECK_EQ(dhcp_service_release(w.svc, ip, err, sizeof(err)), 0);
	{
		struct store_lease l;
		CHECK_EQ(store_lease_by_ip(w.st, ip, &l), 1);
		CHECK_EQ(l.state, STORE_LEASE_RELEASED);
	}
	CHECK_EQ(dhcp_server_pool_stats(srv, 0, time_wall(), &ps), 0);
	CHECK_EQ(ps.bound, 0);
	CHECK_EQ(ps.reclaimable, 1);
	/* nothing left to release there; nor at an address nobody holds */
	CHECK_EQ(dhcp_service_release(w.svc, ip, err, sizeof(err)), -ENOENT);
	CHECK(err[0]);
	err[0] = '\0';
	CHECK_EQ(dhcp_service_release(w.svc, IP(127, 0, 0, 15), err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "127.0.0.15"));

	world_free(&w);
	return CHILD_OK;
}

static void test_dora_offer_before_commit_ack_after_clients_told_admin_release(void **state)
{
	(void)state;
	run_child(child_dora_clients_and_release);
}

/* mode = off: no engine, no sockets; release is refused with -ENODEV. No root needed. */
static void test_mode_off_has_no_server_and_refuses_release(void **state)
{
	(void)state;
	char dir[] = "/tmp/pixied-test-dhcp-service.XXXXXX", err[256] = "";
	assert_non_null(mkdtemp(dir));
	struct store *st = store_open(dir, false, err, sizeof(err));
	assert_non_null(st);
	struct loop *l = loop_new();
	assert_non_null(l);
	conf_full(CONF_DHCP_OFF);
	struct net_iface lo = {.name = "lo", .ifindex = 1, .addr = SRV, .mask = 0xff000000u};
	struct dhcp_service *s = dhcp_service_new(l, &cfg, st, &lo, 1, err, sizeof(err));
	assert_non_null(s);
	assert_null(dhcp_service_server(s));
	dhcp_service_set_clients(s, NULL);
	assert_int_equal(dhcp_service_release(s, IP(127, 0, 0, 10), err, sizeof(err)), -ENODEV);
	assert_true(strstr(err, "mode") != NULL);
	dhcp_service_free(s);
	loop_free(l);
	store_close(st);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_off_has_no_server_and_refuses_release),
		cmocka_unit_test(test_dora_offer_before_commit_ack_after_clients_told_admin_release),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
