/*
 * Unit tests for dhcp/server: pools, reservations, every RFC 2131 §4.3 message and REQUEST
 * state, relays, reply routing (§4.1), option order and size, proxy mode, probes, restore
 * and reconfigure, and the captured firmware packets. Requests are raw bytes parsed with
 * dhcp_wire; replies are parsed back the same way. The config is built by hand in C.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "core/util.h"
#include "dhcp/dhcp_server.h"
#include "dhcp/dhcp_wire.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define T0 1700000000
#define SRV0 IP(10, 0, 0, 2)  /* eth0, ifindex 2, /24 */
#define SRV1 IP(10, 1, 0, 2)  /* eth1, ifindex 3, /16 */
#define BCAST 0xffffffffu

/* ---- config and server ---- */

static struct conf cfg;
static struct conf_host hosts[4];
static const struct dhcp_server_iface ifs[2] = {
	{"eth0", 2, SRV0, 0xffffff00u, {0x02, 0xaa, 0, 0, 0, 1}},
	{"eth1", 3, SRV1, 0xffff0000u, {0x02, 0xaa, 0, 0, 0, 2}},
};
static struct dhcp_server *srv;
static int64_t now;

static const uint8_t MAC_STATION[6] = {0x00, 0x18, 0xe7, 0x42, 0x84, 0x3a};
static const uint8_t MAC_INRANGE[6] = {0x00, 0x18, 0xe7, 0x00, 0x00, 0x02};
static const uint8_t MAC_ELSEWHERE[6] = {0x00, 0x18, 0xe7, 0x00, 0x00, 0x03};
static const uint8_t MAC_BIGHOST[6] = {0x00, 0x18, 0xe7, 0x00, 0x00, 0x04};

static void add_pool(const char *name, bool has_subnet, uint32_t net, uint32_t mask,
		     uint32_t start, uint32_t end, uint32_t router)
{
	struct conf_pool *p = &cfg.pools[cfg.npools++];
	str_copy(p->name, name, sizeof(p->name));
	p->line = (unsigned)cfg.npools;
	p->has_subnet = has_subnet;
	p->net = net;
	p->mask = mask;
	p->ranges[0].start = start;
	p->ranges[0].end = end;
	p->nranges = 1;
	p->routers[0] = router;
	p->nrouters = 1;
}

static void conf_defaults(void)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(hosts, 0, sizeof(hosts));
	cfg.dhcp.mode = CONF_DHCP_FULL;
	cfg.dhcp.lease_time = 3600;
	cfg.dhcp.decline_time = 600;
	cfg.dhcp.offer_time = 60;
	cfg.dhcp.authoritative = true;
	cfg.dhcp.max_offers = 4096;
	cfg.dhcp.no_proxydhcp_wait = true;
	cfg.http.enabled = true;
	cfg.http.port = 80;
	cfg.tftp.enabled = true;
	strcpy(cfg.loaders[CONF_ARCH_BIOS], "/usr/lib/ipxe/undionly.kpxe");
	strcpy(cfg.loaders[CONF_ARCH_EFI64], "/usr/lib/ipxe/ipxe.efi");

	/* [dhcp] pool: subnet from eth0 */
	add_pool("dhcp", false, 0, 0, IP(10, 0, 0, 100), IP(10, 0, 0, 199), IP(10, 0, 0, 1));
	struct conf_pool *p = &cfg.pools[0];
	p->dns[0] = IP(10, 0, 0, 1);
	p->dns[1] = IP(10, 0, 0, 53);
	p->ndns = 2;
	p->ntp[0] = IP(10, 0, 0, 123);
	p->nntp = 1;
	strcpy(p->domain, "lab.example");
	/* a relayed subnet */
	add_pool("lab", true, IP(192, 168, 50, 0), 0xffffff00u, IP(192, 168, 50, 100),
		 IP(192, 168, 50, 150), IP(192, 168, 50, 1));
	/* a /16 on eth1 */
	add_pool("big", true, IP(10, 1, 0, 0), 0xffff0000u, IP(10, 1, 0, 10), IP(10, 1, 255, 250),
		 IP(10, 1, 0, 1));

	str_copy(hosts[0].name, "station-01", sizeof(hosts[0].name));
	memcpy(hosts[0].mac, MAC_STATION, 6);
	hosts[0].has_ip = true;
	hosts[0].ip = IP(10, 0, 0, 50); /* outside the range, inside the subnet */
	str_copy(hosts[1].name, "inrange", sizeof(hosts[1].name));
	str_copy(hosts[1].hostname, "printer", sizeof(hosts[1].hostname));
	memcpy(hosts[1].mac, MAC_INRANGE, 6);
	hosts[1].has_ip = true;
	hosts[1].ip = IP(10, 0, 0, 150);
	str_copy(hosts[2].name, "elsewhere", sizeof(hosts[2].name));
	memcpy(hosts[2].mac, MAC_ELSEWHERE, 6);
	hosts[2].has_ip = true;
	hosts[2].ip = IP(172, 16, 0, 5); /* in no pool's subnet */
	str_copy(hosts[3].name, "bighost", sizeof(hosts[3].name));
	memcpy(hosts[3].mac, MAC_BIGHOST, 6);
	hosts[3].has_ip = true;
	hosts[3].ip = IP(10, 1, 5, 5);
	cfg.hosts = hosts;
	cfg.nhosts = 4;
}

static void start(void)
{
	char err[512];
	srv = dhcp_server_new(&cfg, ifs, 2, err, sizeof(err));
	if (!srv)
		fail_msg("dhcp_server_new: %s", err);
}

static int setup(void **state)
{
	(void)state;
	conf_defaults();
	srv = NULL;
	now = T0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dhcp_server_free(srv);
	srv = NULL;
	return 0;
}

/* ---- requests ---- */

struct pkt {
	uint8_t b[DHCP_MAX_LEN];
	size_t len;
};

static void mac_n(uint8_t mac[6], unsigned n)
{
	mac[0] = 0x02;
	mac[1] = 0x00;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* type DHCP_NONE = BOOTP (cookie, no option 53) */
static void pkt_new(struct pkt *p, uint8_t type, const uint8_t mac[6], uint32_t xid)
{
	memset(p, 0, sizeof(*p));
	p->b[0] = 1;
	p->b[1] = 1;
	p->b[2] = 6;
	put32(p->b + 4, xid);
	memcpy(p->b + 28, mac, 6);
	put32(p->b + 236, DHCP_COOKIE);
	p->len = 240;
	if (type != DHCP_NONE) {
		p->b[p->len++] = DHCP_OPT_MSG_TYPE;
		p->b[p->len++] = 1;
		p->b[p->len++] = type;
	}
}

static void pkt_opt(struct pkt *p, uint8_t code, const void *data, size_t len)
{
	assert_true(p->len + 2 + len < sizeof(p->b));
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

static void pkt_u16(struct pkt *p, uint8_t code, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	pkt_opt(p, code, b, 2);
}

static void pkt_ciaddr(struct pkt *p, uint32_t ip) { put32(p->b + 12, ip); }
static void pkt_giaddr(struct pkt *p, uint32_t ip) { put32(p->b + 24, ip); }
static void pkt_bcast(struct pkt *p) { p->b[10] = 0x80; }

static struct dhcp_msg msg, rep;
static struct dhcp_tx tx;
static const char *why;

static int run_raw(const uint8_t *b, size_t len, int ifindex, uint32_t src, uint16_t sport,
		   uint32_t dst, uint16_t port)
{
	assert_int_equal(dhcp_msg_parse(&msg, b, len), DHCP_PARSE_OK);
	struct dhcp_rx rx = {.msg = &msg, .ifindex = ifindex, .src_ip = src, .src_port = sport,
			     .dst_ip = dst, .local_port = port};
	int r = dhcp_server_handle(srv, &rx, now, &tx, &why);
	if (r == DHCP_RES_REPLY) {
		assert_true(tx.len >= DHCP_MIN_LEN);
		assert_true(tx.len <= sizeof(tx.buf));
		assert_int_equal(dhcp_msg_parse(&rep, tx.buf, tx.len), DHCP_PARSE_OK);
		assert_int_equal(rep.op, DHCP_OP_REPLY);
		assert_int_equal(rep.xid, msg.xid);
		assert_memory_equal(rep.chaddr, msg.chaddr, 16);
	} else if (r < 0) {
		assert_non_null(why);
	}
	return r;
}

/* A client on eth0 (or eth1), no address yet: broadcast to port 67. */
static int run_on(struct pkt *p, int ifindex, uint32_t dst)
{
	if (p->b[p->len - 1] != DHCP_OPT_END || p->len < 241)
		p->b[p->len++] = DHCP_OPT_END;
	size_t len = p->len < 300 ? 300 : p->len;
	return run_raw(p->b, len, ifindex, 0, 68, dst, 67);
}

static int run(struct pkt *p)
{
	return run_on(p, 2, BCAST);
}

static uint32_t rep_ip(uint8_t code)
{
	uint32_t v = 0;
	assert_int_equal(dhcp_msg_opt_ip(&rep, code, &v), 0);
	return v;
}

static bool rep_has(uint8_t code)
{
	size_t n;
	return dhcp_msg_opt(&rep, code, &n) != NULL;
}

/* DISCOVER -> OFFER -> REQUEST -> ACK for `mac` on an interface; returns the address. */
static uint32_t dora_on(const uint8_t mac[6], uint32_t xid, int ifindex, uint32_t giaddr)
{
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, mac, xid);
	if (giaddr)
		pkt_giaddr(&p, giaddr);
	if (run_on(&p, ifindex, BCAST) != DHCP_RES_REPLY)
		fail_msg("DISCOVER not answered: %s", why ? why : "?");
	assert_int_equal(rep.type, DHCPOFFER);
	uint32_t ip = rep.yiaddr, sid = rep_ip(DHCP_OPT_SERVER_ID);
	assert_int_not_equal(ip, 0);
	pkt_new(&p, DHCPREQUEST, mac, xid);
	if (giaddr)
		pkt_giaddr(&p, giaddr);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, sid);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ip);
	if (run_on(&p, ifindex, BCAST) != DHCP_RES_REPLY)
		fail_msg("REQUEST not answered: %s", why ? why : "?");
	assert_int_equal(rep.type, DHCPACK);
	assert_int_equal(rep.yiaddr, ip);
	assert_true(tx.persist);
	assert_int_equal(tx.lease.ip, ip);
	assert_int_equal(tx.lease.state, STORE_LEASE_BOUND);
	return ip;
}

static uint32_t dora(const uint8_t mac[6], uint32_t xid)
{
	return dora_on(mac, xid, 2, 0);
}

static int discover(const uint8_t mac[6], uint32_t xid)
{
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, mac, xid);
	return run(&p);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- pools ---- */

static void test_pool_hands_out_no_duplicates_across_1000_clients(void **state)
{
	(void)state;
	start();
	static uint32_t ips[1000];
	for (unsigned i = 0; i < 1000; i++) {
		uint8_t mac[6];
		mac_n(mac, i);
		ips[i] = dora_on(mac, i, 3, 0);
		assert_true(ips[i] >= IP(10, 1, 0, 10) && ips[i] <= IP(10, 1, 255, 250));
		assert_int_not_equal(ips[i], IP(10, 1, 0, 1));  /* router */
		assert_int_not_equal(ips[i], IP(10, 1, 5, 5));  /* reservation */
		assert_int_equal(rep_ip(DHCP_OPT_SERVER_ID), SRV1);
	}
	qsort(ips, 1000, sizeof(ips[0]), cmp_u32);
	for (unsigned i = 1; i < 1000; i++)
		assert_int_not_equal(ips[i - 1], ips[i]);
	struct dhcp_server_pool_stats ps;
	assert_int_equal(dhcp_server_pool_stats(srv, 2, now, &ps), 0);
	assert_string_equal(ps.name, "big");
	assert_int_equal(ps.bound, 1000);
	assert_int_equal(ps.offered, 0);
	assert_int_equal(ps.size, IP(10, 1, 255, 250) - IP(10, 1, 0, 10) + 1);
	assert_int_equal(ps.free, ps.size - 1000 - 1); /* the reservation is blocked */
	/* the same client asking again keeps its address */
	uint8_t mac[6];
	mac_n(mac, 17);
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, mac, 99);
	assert_int_equal(run_on(&p, 3, BCAST), DHCP_RES_REPLY);
	assert_true(bsearch(&rep.yiaddr, ips, 1000, sizeof(ips[0]), cmp_u32) != NULL);
}

static void test_pool_slash16_dora_speed_sanity(void **state)
{
	(void)state;
	start();
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned i = 0; i < 8000; i++) {
		uint8_t mac[6];
		mac_n(mac, 0x100000 + i);
		dora_on(mac, i, 3, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	print_message("8000 DORA on a /16 (with parse+build, test build): %.3f s\n", secs);
	assert_true(secs < 8.0); /* generous: sanitizers; the real figure is printed */
	assert_int_equal(dhcp_server_stats(srv)->acks, 8000);
}

static void test_pool_exhaustion_then_reclaims_oldest_expired_then_released(void **state)
{
	(void)state;
	cfg.pools[0].ranges[0].start = IP(10, 0, 0, 100);
	cfg.pools[0].ranges[0].end = IP(10, 0, 0, 103);
	cfg.dhcp.lease_time = 100;
	start();
	uint8_t m[7][6];
	uint32_t ip[7];
	for (unsigned i = 0; i < 7; i++)
		mac_n(m[i], 500 + i);
	for (unsigned i = 0; i < 4; i++) {
		now = T0 + i;
		ip[i] = dora(m[i], i);
	}
	assert_int_equal(discover(m[4], 4), -EINVAL);
	assert_string_equal(why, "pool exhausted");
	assert_int_equal(dhcp_server_stats(srv)->exhausted, 1);

	/* at T0+100 only client 0's lease has expired; client 1 releases */
	now = T0 + 100;
	struct pkt p;
	pkt_new(&p, DHCPRELEASE, m[1], 1);
	pkt_ciaddr(&p, ip[1]);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV0);
	assert_int_equal(run_on(&p, 2, SRV0), DHCP_RES_NOREPLY);
	assert_true(tx.persist);
	assert_int_equal(tx.lease.state, STORE_LEASE_RELEASED);

	/* expired first ... */
	assert_int_equal(discover(m[4], 40), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, ip[0]);
	/* ... then released */
	assert_int_equal(discover(m[5], 50), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, ip[1]);
	/* and then nothing (both reclaimed addresses are held by pending offers) */
	assert_int_equal(discover(m[6], 60), -EINVAL);
	assert_string_equal(why, "pool exhausted");
	/* an offer not taken up goes back after offer_time */
	now += 61;
	assert_int_equal(discover(m[6], 61), DHCP_RES_REPLY);
}

static void test_offer_flood_keeps_memory_bounded_and_reservations_served(void **state)
{
	(void)state;
	cfg.dhcp.max_offers = 100;
	start();
	for (unsigned i = 0; i < 10000; i++) {
		uint8_t mac[6];
		mac_n(mac, (unsigned)rand() ^ (i << 8));
		struct pkt p;
		pkt_new(&p, DHCPDISCOVER, mac, i);
		assert_int_equal(run_on(&p, 3, BCAST), DHCP_RES_REPLY);
	}
	const struct dhcp_server_stats *st = dhcp_server_stats(srv);
	assert_true(st->pending_offers <= 100);
	assert_true(st->leases <= 100);
	assert_true(st->offers_evicted >= 9900);
	/* the reservation on eth1 is still served */
	assert_int_equal(discover(MAC_BIGHOST, 1), -EINVAL); /* on eth0: not its network */
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, MAC_BIGHOST, 2);
	assert_int_equal(run_on(&p, 3, BCAST), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, IP(10, 1, 5, 5));
}

static void test_small_pool_flood_exhausts_but_reservation_still_served(void **state)
{
	(void)state;
	cfg.pools[0].ranges[0].end = IP(10, 0, 0, 103);
	start();
	unsigned answered = 0;
	for (unsigned i = 0; i < 10000; i++) {
		uint8_t mac[6];
		mac_n(mac, 0x200000 + i);
		if (discover(mac, i) == DHCP_RES_REPLY)
			answered++;
	}
	assert_int_equal(answered, 4);
	assert_true(dhcp_server_stats(srv)->leases <= 4);
	assert_int_equal(discover(MAC_STATION, 1), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, IP(10, 0, 0, 50));
}

/* ---- reservations ---- */

static void test_reservation_outside_range_gets_its_address_and_hostname(void **state)
{
	(void)state;
	start();
	uint32_t ip = dora(MAC_STATION, 7);
	assert_int_equal(ip, IP(10, 0, 0, 50));
	size_t n;
	const uint8_t *hn = dhcp_msg_opt(&rep, DHCP_OPT_HOSTNAME, &n);
	assert_non_null(hn);
	assert_int_equal(n, strlen("station-01"));
	assert_memory_equal(hn, "station-01", n);
	assert_string_equal(tx.lease.hostname, "station-01");
	/* SELECTING another address: NAK */
	struct pkt p;
	pkt_new(&p, DHCPREQUEST, MAC_STATION, 8);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV0);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, IP(10, 0, 0, 100));
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPNAK);
}

static void test_reserved_address_in_range_is_never_given_to_others(void **state)
{
	(void)state;
	cfg.pools[0].ranges[0].start = IP(10, 0, 0, 148);
	cfg.pools[0].ranges[0].end = IP(10, 0, 0, 152);
	start();
	for (unsigned i = 0; i < 4; i++) {
		uint8_t mac[6];
		mac_n(mac, 900 + i);
		assert_int_not_equal(dora(mac, i), IP(10, 0, 0, 150));
	}
	uint8_t mac[6];
	mac_n(mac, 999);
	assert_int_equal(discover(mac, 9), -EINVAL);
	assert_string_equal(why, "pool exhausted");
	/* a client asking for the reserved address does not get it */
	struct pkt p;
	pkt_new(&p, DHCPREQUEST, mac, 10);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, IP(10, 0, 0, 150));
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPNAK);
	assert_int_equal(dora(MAC_INRANGE, 11), IP(10, 0, 0, 150));
	size_t n;
	const uint8_t *hn = dhcp_msg_opt(&rep, DHCP_OPT_HOSTNAME, &n);
	assert_int_equal(n, 7);
	assert_memory_equal(hn, "printer", 7);
}

static void test_reservation_outside_the_arrival_subnet_gets_no_reply(void **state)
{
	(void)state;
	start();
	assert_int_equal(discover(MAC_ELSEWHERE, 1), -EINVAL);
	assert_string_equal(why, "reserved address not on the client's network");
}

/* ---- DORA ---- */

static void test_dora_offer_and_ack_carry_the_pool_options(void **state)
{
	(void)state;
	start();
	uint8_t mac[6];
	mac_n(mac, 42);
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, mac, 0xabcd);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPOFFER);
	assert_int_equal(tx.type, DHCPOFFER);
	assert_false(tx.persist);
	uint32_t ip = rep.yiaddr;
	assert_true(ip >= IP(10, 0, 0, 100) && ip <= IP(10, 0, 0, 199));
	assert_int_equal(rep.siaddr, 0);
	assert_int_equal(rep.ciaddr, 0);
	assert_int_equal(rep_ip(DHCP_OPT_SERVER_ID), SRV0);
	uint32_t v;
	assert_int_equal(dhcp_msg_opt_u32(&rep, DHCP_OPT_LEASE_TIME, &v), 0);
	assert_int_equal(v, 3600);
	assert_int_equal(dhcp_msg_opt_u32(&rep, DHCP_OPT_T1, &v), 0);
	assert_int_equal(v, 1800);
	assert_int_equal(dhcp_msg_opt_u32(&rep, DHCP_OPT_T2, &v), 0);
	assert_int_equal(v, 3150);
	assert_int_equal(rep_ip(DHCP_OPT_SUBNET_MASK), 0xffffff00u);
	assert_int_equal(rep_ip(DHCP_OPT_ROUTER), IP(10, 0, 0, 1));
	assert_int_equal(rep_ip(DHCP_OPT_BROADCAST), IP(10, 0, 0, 255));
	assert_int_equal(rep_ip(DHCP_OPT_NTP), IP(10, 0, 0, 123));
	size_t n;
	const uint8_t *d = dhcp_msg_opt(&rep, DHCP_OPT_DNS, &n);
	assert_int_equal(n, 8);
	assert_memory_equal(d, ((uint8_t[]){10, 0, 0, 1, 10, 0, 0, 53}), 8);
	d = dhcp_msg_opt(&rep, DHCP_OPT_DOMAIN, &n);
	assert_int_equal(n, 11);
	assert_memory_equal(d, "lab.example", 11);
	assert_false(rep_has(DHCP_OPT_VENDOR_CLASS));
	assert_false(rep_has(DHCP_OPT_BOOTFILE));
	/* flags 0, no ciaddr: straight to the MAC (RFC 2131 §4.1) */
	assert_int_equal(tx.dest, DHCP_DEST_RAW);
	assert_int_equal(tx.dst_ip, ip);
	assert_memory_equal(tx.dst_mac, mac, 6);
	assert_int_equal(tx.src_ip, SRV0);
	assert_int_equal(tx.src_port, 67);
	assert_int_equal(tx.ifindex, 2);

	pkt_new(&p, DHCPREQUEST, mac, 0xabcd);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV0);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ip);
	pkt_opt(&p, DHCP_OPT_HOSTNAME, "my<host>\"'&\\\x01name", 17);
	pkt_bcast(&p);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPACK);
	assert_int_equal(rep.yiaddr, ip);
	assert_int_equal(tx.dest, DHCP_DEST_BROADCAST);
	assert_true(tx.persist);
	assert_int_equal(tx.lease.ip, ip);
	assert_int_equal(tx.lease.state, STORE_LEASE_BOUND);
	assert_int_equal(tx.lease.expires, T0 + 3600);
	assert_memory_equal(tx.lease.mac, mac, 6);
	assert_string_equal(tx.lease.hostname, "myhostname");
	assert_false(rep_has(DHCP_OPT_HOSTNAME)); /* only reservations get option 12 */
	assert_int_equal(dhcp_server_stats(srv)->offers, 1);
	assert_int_equal(dhcp_server_stats(srv)->acks, 1);
	assert_int_equal(dhcp_server_stats(srv)->rx[DHCPDISCOVER], 1);
	assert_int_equal(dhcp_server_stats(srv)->rx[DHCPREQUEST], 1);
}

static void test_discover_prefers_previous_lease_then_requested_address(void **state)
{
	(void)state;
	start();
	uint8_t a[6], b[6];
	mac_n(a, 1);
	mac_n(b, 2);
	uint32_t ipa = dora(a, 1);
	/* requested free address */
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, b, 2);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, IP(10, 0, 0, 177));
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, IP(10, 0, 0, 177));
	/* requested address held by someone else: not given */
	uint8_t c[6];
	mac_n(c, 3);
	pkt_new(&p, DHCPDISCOVER, c, 3);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ipa);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_not_equal(rep.yiaddr, ipa);
	assert_int_not_equal(rep.yiaddr, IP(10, 0, 0, 177));
	/* requested address outside the range: not given */
	uint8_t d[6];
	mac_n(d, 4);
	pkt_new(&p, DHCPDISCOVER, d, 4);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, IP(10, 0, 0, 20));
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_not_equal(rep.yiaddr, IP(10, 0, 0, 20));
	/* the previous lease wins over a requested one, even after expiry */
	now += 7200;
	pkt_new(&p, DHCPDISCOVER, a, 5);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, IP(10, 0, 0, 190));
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, ipa);
}

static void test_client_id_01_mac_is_the_same_client_as_its_mac(void **state)
{
	(void)state;
	start();
	uint8_t mac[6];
	mac_n(mac, 77);
	uint32_t ip = dora(mac, 1); /* PXE ROM: no option 61 */
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, mac, 2); /* iPXE: 61 = 01:<mac> */
	uint8_t cid[7] = {1};
	memcpy(cid + 1, mac, 6);
	pkt_opt(&p, DHCP_OPT_CLIENT_ID, cid, 7);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, ip);
	/* a different client id is a different client */
	uint8_t other[5] = {0, 'a', 'b', 'c', 'd'};
	pkt_new(&p, DHCPDISCOVER, mac, 3);
	pkt_opt(&p, DHCP_OPT_CLIENT_ID, other, 5);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_not_equal(rep.yiaddr, ip);
}

/* ---- REQUEST states ---- */

enum val { V_NONE, V_IPA, V_IPB, V_FREE, V_WRONGNET, V_OURS, V_OTHER };
enum who { W_A, W_B, W_U };
enum expect { E_ACK, E_NAK, E_SILENT, E_DROP };

struct req_row {
	const char *name;
	enum who who;
	enum val ciaddr, opt50, opt54;
	bool unicast;
	bool authoritative;
	enum expect expect;
	enum val yiaddr;
};

static const struct req_row req_rows[] = {
	{"SELECTING our offer/lease -> ACK", W_A, V_NONE, V_IPA, V_OURS, false, true, E_ACK, V_IPA},
	{"SELECTING an address we did not offer -> NAK", W_A, V_NONE, V_IPB, V_OURS, false, true,
	 E_NAK, V_NONE},
	{"SELECTING a free address never offered -> NAK", W_U, V_NONE, V_FREE, V_OURS, false, true,
	 E_NAK, V_NONE},
	{"SELECTING another server -> silent", W_A, V_NONE, V_IPA, V_OTHER, false, true, E_SILENT,
	 V_NONE},
	{"INIT-REBOOT own lease -> ACK", W_A, V_NONE, V_IPA, V_NONE, false, true, E_ACK, V_IPA},
	{"INIT-REBOOT own lease, not authoritative -> ACK", W_A, V_NONE, V_IPA, V_NONE, false, false,
	 E_ACK, V_IPA},
	{"INIT-REBOOT wrong subnet -> NAK", W_A, V_NONE, V_WRONGNET, V_NONE, false, true, E_NAK,
	 V_NONE},
	{"INIT-REBOOT wrong subnet, not authoritative -> NAK", W_U, V_NONE, V_WRONGNET, V_NONE,
	 false, false, E_NAK, V_NONE},
	{"INIT-REBOOT another client's address -> NAK", W_A, V_NONE, V_IPB, V_NONE, false, true,
	 E_NAK, V_NONE},
	{"INIT-REBOOT known client, not its address -> NAK", W_A, V_NONE, V_FREE, V_NONE, false,
	 false, E_NAK, V_NONE},
	{"INIT-REBOOT unknown client, authoritative -> NAK", W_U, V_NONE, V_FREE, V_NONE, false,
	 true, E_NAK, V_NONE},
	{"INIT-REBOOT unknown client, not authoritative -> silent", W_U, V_NONE, V_FREE, V_NONE,
	 false, false, E_SILENT, V_NONE},
	{"RENEWING own lease -> ACK", W_A, V_IPA, V_NONE, V_NONE, true, true, E_ACK, V_IPA},
	{"RENEWING another client's address -> NAK", W_A, V_IPB, V_NONE, V_NONE, true, true, E_NAK,
	 V_NONE},
	{"RENEWING unknown lease, authoritative -> NAK", W_U, V_FREE, V_NONE, V_NONE, true, true,
	 E_NAK, V_NONE},
	{"RENEWING unknown lease, not authoritative -> silent", W_U, V_FREE, V_NONE, V_NONE, true,
	 false, E_SILENT, V_NONE},
	{"REBINDING own lease -> ACK", W_B, V_IPB, V_NONE, V_NONE, false, true, E_ACK, V_IPB},
	{"REBINDING another client's address -> NAK", W_B, V_IPA, V_NONE, V_NONE, false, false,
	 E_NAK, V_NONE},
	{"REBINDING foreign network, not authoritative -> silent", W_U, V_WRONGNET, V_NONE, V_NONE,
	 false, false, E_SILENT, V_NONE},
	{"REBINDING foreign network, authoritative -> NAK", W_U, V_WRONGNET, V_NONE, V_NONE, false,
	 true, E_NAK, V_NONE},
	{"REQUEST with neither ciaddr nor option 50 -> dropped", W_A, V_NONE, V_NONE, V_OURS, false,
	 true, E_DROP, V_NONE},
};

static uint32_t val_ip(enum val v, uint32_t ipa, uint32_t ipb)
{
	switch (v) {
	case V_IPA: return ipa;
	case V_IPB: return ipb;
	case V_FREE: return IP(10, 0, 0, 188);
	case V_WRONGNET: return IP(192, 168, 99, 5);
	case V_OURS: return SRV0;
	case V_OTHER: return IP(10, 0, 0, 254);
	default: return 0;
	}
}

static void test_request_states_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(req_rows); i++) {
		const struct req_row *r = &req_rows[i];
		print_message("row: %s\n", r->name);
		conf_defaults();
		cfg.dhcp.authoritative = r->authoritative;
		now = T0;
		start();
		uint8_t ma[6], mb[6], mu[6], *m;
		mac_n(ma, 0xa);
		mac_n(mb, 0xb);
		mac_n(mu, 0xc);
		uint32_t ipa = dora(ma, 1), ipb = dora(mb, 2);
		m = r->who == W_A ? ma : r->who == W_B ? mb : mu;
		struct pkt p;
		pkt_new(&p, DHCPREQUEST, m, 0x1000 + (uint32_t)i);
		if (r->ciaddr != V_NONE)
			pkt_ciaddr(&p, val_ip(r->ciaddr, ipa, ipb));
		if (r->opt50 != V_NONE)
			pkt_ip(&p, DHCP_OPT_REQUESTED_IP, val_ip(r->opt50, ipa, ipb));
		if (r->opt54 != V_NONE)
			pkt_ip(&p, DHCP_OPT_SERVER_ID, val_ip(r->opt54, ipa, ipb));
		int res = run_on(&p, 2, r->unicast ? SRV0 : BCAST);
		switch (r->expect) {
		case E_ACK:
			assert_int_equal(res, DHCP_RES_REPLY);
			assert_int_equal(rep.type, DHCPACK);
			assert_int_equal(rep.yiaddr, val_ip(r->yiaddr, ipa, ipb));
			assert_true(tx.persist);
			if (r->ciaddr != V_NONE) {
				/* RFC 2131 §4.1: unicast to ciaddr */
				assert_int_equal(tx.dest, DHCP_DEST_UDP);
				assert_int_equal(tx.dst_ip, val_ip(r->ciaddr, ipa, ipb));
				assert_int_equal(tx.dst_port, 68);
				assert_int_equal(rep.ciaddr, val_ip(r->ciaddr, ipa, ipb));
			}
			break;
		case E_NAK:
			assert_int_equal(res, DHCP_RES_REPLY);
			assert_int_equal(rep.type, DHCPNAK);
			assert_int_equal(rep.yiaddr, 0);
			assert_false(rep_has(DHCP_OPT_LEASE_TIME));
			assert_int_equal(rep_ip(DHCP_OPT_SERVER_ID), SRV0);
			assert_int_equal(tx.dest, DHCP_DEST_BROADCAST);
			assert_false(tx.persist);
			break;
		case E_SILENT:
			assert_int_equal(res, DHCP_RES_NOREPLY);
			assert_false(tx.persist);
			break;
		case E_DROP:
			assert_true(res < 0);
			break;
		}
		dhcp_server_free(srv);
		srv = NULL;
	}
}

static void test_selecting_another_server_forgets_our_offer(void **state)
{
	(void)state;
	cfg.pools[0].ranges[0].end = IP(10, 0, 0, 100); /* one address */
	start();
	uint8_t a[6], b[6];
	mac_n(a, 1);
	mac_n(b, 2);
	assert_int_equal(discover(a, 1), DHCP_RES_REPLY);
	assert_int_equal(dhcp_server_stats(srv)->pending_offers, 1);
	assert_int_equal(discover(b, 2), -EINVAL); /* held by a's offer */
	struct pkt p;
	pkt_new(&p, DHCPREQUEST, a, 1);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, IP(10, 0, 0, 254));
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, IP(10, 0, 0, 231));
	assert_int_equal(run(&p), DHCP_RES_NOREPLY);
	assert_string_equal(why, "client selected another server");
	assert_int_equal(dhcp_server_stats(srv)->pending_offers, 0);
	assert_int_equal(discover(b, 3), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, IP(10, 0, 0, 100));
}

static void test_request_without_server_id_for_our_offer_is_acked(void **state)
{
	(void)state;
	start();
	uint8_t a[6];
	mac_n(a, 1);
	assert_int_equal(discover(a, 1), DHCP_RES_REPLY);
	uint32_t ip = rep.yiaddr;
	struct pkt p;
	pkt_new(&p, DHCPREQUEST, a, 1); /* no option 54: handled as INIT-REBOOT */
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ip);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPACK);
	assert_int_equal(rep.yiaddr, ip);
	assert_int_equal(dhcp_server_stats(srv)->pending_offers, 0);
}

static void test_server_id_is_the_address_the_client_used(void **state)
{
	(void)state;
	start();
	uint8_t a[6];
	mac_n(a, 1);
	uint32_t ip = dora_on(a, 1, 3, 0); /* a /16 lease from eth1 */
	assert_int_equal(rep_ip(DHCP_OPT_SERVER_ID), SRV1);
	/* its renewal reaches us over eth0, unicast to eth1's address */
	struct pkt p;
	pkt_new(&p, DHCPREQUEST, a, 2);
	pkt_ciaddr(&p, ip);
	assert_int_equal(run_on(&p, 2, SRV1), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPACK);
	assert_int_equal(rep_ip(DHCP_OPT_SERVER_ID), SRV1);
	assert_int_equal(tx.src_ip, SRV1);
	assert_int_equal(tx.dest, DHCP_DEST_UDP);
	assert_int_equal(tx.dst_ip, ip);
	/* SELECTING naming eth1's address on eth0: ours too, but not this link's address */
	pkt_new(&p, DHCPREQUEST, a, 3);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV1);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ip);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPNAK);
}

/* ---- DECLINE / RELEASE / INFORM ---- */

static void test_decline_quarantines_and_non_owner_is_ignored(void **state)
{
	(void)state;
	cfg.pools[0].ranges[0].end = IP(10, 0, 0, 101); /* two addresses */
	start();
	uint8_t a[6], b[6], u[6];
	mac_n(a, 1);
	mac_n(b, 2);
	mac_n(u, 3);
	uint32_t ipa = dora(a, 1);
	struct pkt p;

	/* a non-owner cannot take the address out of service */
	pkt_new(&p, DHCPDECLINE, u, 9);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV0);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ipa);
	assert_true(run(&p) < 0);
	assert_string_equal(why, "DECLINE from a client that does not hold the address");
	assert_false(tx.persist);
	/* nor can a DECLINE for another server */
	pkt_new(&p, DHCPDECLINE, a, 9);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, IP(10, 0, 0, 254));
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ipa);
	assert_true(run(&p) < 0);
	assert_string_equal(why, "DECLINE for another server");

	/* RFC 2131 §4.3.3: the owner's DECLINE quarantines */
	pkt_new(&p, DHCPDECLINE, a, 10);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV0);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ipa);
	assert_int_equal(run(&p), DHCP_RES_NOREPLY);
	assert_true(tx.persist);
	assert_int_equal(tx.lease.ip, ipa);
	assert_int_equal(tx.lease.state, STORE_LEASE_DECLINED);
	assert_int_equal(tx.lease.expires, T0 + 600);
	assert_memory_equal(tx.lease.mac, a, 6);
	assert_int_equal(dhcp_server_stats(srv)->declines, 1);

	/* a gets the other address, nobody gets the declined one */
	assert_int_not_equal(dora(a, 11), ipa);
	assert_int_equal(discover(b, 12), -EINVAL);
	assert_string_equal(why, "pool exhausted");
	struct dhcp_server_pool_stats ps;
	dhcp_server_pool_stats(srv, 0, now, &ps);
	assert_int_equal(ps.declined, 1);
	/* after the quarantine it is reused */
	now += 601;
	assert_int_equal(discover(b, 13), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, ipa);
}

static void test_decline_of_an_offer_quarantines(void **state)
{
	(void)state;
	start();
	uint8_t a[6];
	mac_n(a, 1);
	assert_int_equal(discover(a, 1), DHCP_RES_REPLY);
	uint32_t ip = rep.yiaddr;
	struct pkt p;
	pkt_new(&p, DHCPDECLINE, a, 1);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV0);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ip);
	assert_int_equal(run(&p), DHCP_RES_NOREPLY);
	assert_int_equal(tx.lease.state, STORE_LEASE_DECLINED);
	assert_int_equal(dhcp_server_stats(srv)->pending_offers, 0);
	assert_int_equal(discover(a, 2), DHCP_RES_REPLY);
	assert_int_not_equal(rep.yiaddr, ip);
}

static void test_release_by_owner_only_and_address_stays_sticky(void **state)
{
	(void)state;
	start();
	uint8_t a[6], u[6];
	mac_n(a, 1);
	mac_n(u, 2);
	uint32_t ipa = dora(a, 1);
	struct pkt p;
	pkt_new(&p, DHCPRELEASE, u, 5);
	pkt_ciaddr(&p, ipa);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV0);
	assert_true(run_on(&p, 2, SRV0) < 0);
	assert_string_equal(why, "RELEASE from a client that does not hold the address");
	assert_false(tx.persist);

	pkt_new(&p, DHCPRELEASE, a, 6);
	pkt_ciaddr(&p, ipa);
	assert_true(run_on(&p, 2, SRV0) < 0); /* no server id */

	pkt_new(&p, DHCPRELEASE, a, 7);
	pkt_ciaddr(&p, ipa);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV0);
	assert_int_equal(run_on(&p, 2, SRV0), DHCP_RES_NOREPLY);
	assert_true(tx.persist);
	assert_int_equal(tx.lease.state, STORE_LEASE_RELEASED);
	assert_int_equal(tx.lease.ip, ipa);
	assert_int_equal(dhcp_server_stats(srv)->releases, 1);
	/* others get fresh addresses while there are any ... */
	assert_int_equal(discover(u, 8), DHCP_RES_REPLY);
	assert_int_not_equal(rep.yiaddr, ipa);
	/* ... and the owner gets its address back */
	assert_int_equal(discover(a, 9), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, ipa);
}

static void test_inform_gets_options_without_address_or_lease_time(void **state)
{
	(void)state;
	start();
	uint8_t a[6];
	mac_n(a, 1);
	struct pkt p;
	pkt_new(&p, DHCPINFORM, a, 1);
	pkt_ciaddr(&p, IP(10, 0, 0, 77));
	assert_int_equal(run_raw(p.b, 300, 2, IP(10, 0, 0, 77), 68, SRV0, 67), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPACK);
	assert_int_equal(rep.yiaddr, 0);
	assert_int_equal(rep.ciaddr, IP(10, 0, 0, 77));
	assert_false(rep_has(DHCP_OPT_LEASE_TIME));
	assert_false(rep_has(DHCP_OPT_T1));
	assert_false(rep_has(DHCP_OPT_T2));
	assert_int_equal(rep_ip(DHCP_OPT_ROUTER), IP(10, 0, 0, 1));
	assert_int_equal(rep_ip(DHCP_OPT_SERVER_ID), SRV0);
	assert_int_equal(tx.dest, DHCP_DEST_UDP);
	assert_int_equal(tx.dst_ip, IP(10, 0, 0, 77));
	assert_int_equal(tx.dst_port, 68);
	assert_false(tx.persist);

	pkt_new(&p, DHCPINFORM, a, 2);
	pkt_ciaddr(&p, IP(172, 16, 1, 1));
	assert_true(run(&p) < 0);
	assert_string_equal(why, "INFORM from an address outside our subnets");
}

/* ---- BOOTP ---- */

static void test_bootp_reserved_host_gets_bootreply_others_nothing(void **state)
{
	(void)state;
	start();
	struct pkt p;
	pkt_new(&p, DHCP_NONE, MAC_STATION, 0x55);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCP_NONE);
	assert_int_equal(tx.type, DHCP_NONE);
	assert_int_equal(rep.yiaddr, IP(10, 0, 0, 50));
	assert_false(rep_has(DHCP_OPT_MSG_TYPE));
	assert_false(rep_has(DHCP_OPT_LEASE_TIME));
	assert_int_equal(rep_ip(DHCP_OPT_SUBNET_MASK), 0xffffff00u);
	assert_int_equal(tx.dest, DHCP_DEST_RAW);
	assert_int_equal(tx.dst_ip, IP(10, 0, 0, 50));
	assert_int_equal(dhcp_server_stats(srv)->bootp_replies, 1);

	/* RFC 951 client without the RFC 1497 cookie: address, no options */
	uint8_t raw[300] = {1, 1, 6, 0, 0, 0, 0, 0x56};
	memcpy(raw + 28, MAC_STATION, 6);
	assert_int_equal(run_raw(raw, sizeof(raw), 2, 0, 68, BCAST, 67), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, IP(10, 0, 0, 50));
	assert_false(rep_has(DHCP_OPT_SUBNET_MASK));

	uint8_t u[6];
	mac_n(u, 3);
	pkt_new(&p, DHCP_NONE, u, 0x57);
	assert_int_equal(run(&p), DHCP_RES_NOREPLY);
	assert_string_equal(why, "BOOTP client without a reservation");
}

/* ---- relays ---- */

/* Option codes in the order they appear on the wire (main options area). */
static size_t wire_order(uint8_t *codes, size_t max)
{
	size_t n = 0, i = 240;
	while (i < tx.len && n < max) {
		uint8_t c = tx.buf[i++];
		if (c == DHCP_OPT_PAD)
			continue;
		if (c == DHCP_OPT_END)
			break;
		codes[n++] = c;
		i += 1 + tx.buf[i];
	}
	return n;
}

static void test_relay_selects_pool_by_giaddr_and_echoes_option_82_last(void **state)
{
	(void)state;
	start();
	static const uint8_t o82[] = {1, 4, 'p', 'o', 'r', 't', 2, 3, 's', 'w', '1'};
	uint8_t a[6];
	mac_n(a, 1);
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, a, 1);
	pkt_giaddr(&p, IP(192, 168, 50, 1));
	pkt_u16(&p, DHCP_OPT_MAX_SIZE, 1500);
	pkt_opt(&p, DHCP_OPT_RELAY_AGENT, o82, sizeof(o82));
	assert_int_equal(run_raw(p.b, 300, 2, IP(192, 168, 50, 1), 67, SRV0, 67), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPOFFER);
	assert_true(rep.yiaddr >= IP(192, 168, 50, 100) && rep.yiaddr <= IP(192, 168, 50, 150));
	assert_int_equal(rep.giaddr, IP(192, 168, 50, 1));
	assert_int_equal(rep_ip(DHCP_OPT_ROUTER), IP(192, 168, 50, 1));
	assert_int_equal(rep_ip(DHCP_OPT_SUBNET_MASK), 0xffffff00u);
	assert_int_equal(rep_ip(DHCP_OPT_SERVER_ID), SRV0); /* the arrival interface's address */
	assert_int_equal(tx.dest, DHCP_DEST_UDP);
	assert_int_equal(tx.dst_ip, IP(192, 168, 50, 1));
	assert_int_equal(tx.dst_port, 67);
	size_t n;
	const uint8_t *e = dhcp_msg_opt(&rep, DHCP_OPT_RELAY_AGENT, &n);
	assert_int_equal(n, sizeof(o82));
	assert_memory_equal(e, o82, n);
	uint8_t codes[64];
	size_t nc = wire_order(codes, 64);
	assert_true(nc > 3);
	assert_int_equal(codes[nc - 1], DHCP_OPT_RELAY_AGENT);

	/* the whole DORA through the relay */
	uint32_t ip = dora_on(a, 1, 2, IP(192, 168, 50, 1));
	assert_true(ip >= IP(192, 168, 50, 100) && ip <= IP(192, 168, 50, 150));

	/* NAK through a relay sets the broadcast bit (RFC 2131 §4.3.2) */
	pkt_new(&p, DHCPREQUEST, a, 2);
	pkt_giaddr(&p, IP(192, 168, 50, 1));
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, IP(10, 0, 0, 120)); /* wrong network */
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPNAK);
	assert_true(rep.flags & 0x8000);
	assert_int_equal(tx.dest, DHCP_DEST_UDP);
	assert_int_equal(tx.dst_ip, IP(192, 168, 50, 1));

	/* unknown relay network: dropped */
	pkt_new(&p, DHCPDISCOVER, a, 3);
	pkt_giaddr(&p, IP(172, 20, 0, 1));
	assert_true(run(&p) < 0);
	assert_string_equal(why, "giaddr outside every configured subnet");
}

/* ---- reply routing (RFC 2131 §4.1) ---- */

static void test_reply_destination_table(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		uint32_t giaddr, ciaddr;
		uint16_t flags;
		uint8_t htype, hlen, type;
		uint32_t yiaddr;
		enum dhcp_dest dest;
		uint32_t dst_ip;
		uint16_t dst_port;
	} rows[] = {
		{"relay: to giaddr:67", IP(192, 168, 50, 1), 0, 0, 1, 6, DHCPOFFER, IP(192, 168, 50, 100),
		 DHCP_DEST_UDP, IP(192, 168, 50, 1), 67},
		{"relay wins over ciaddr", IP(192, 168, 50, 1), IP(192, 168, 50, 7), 0, 1, 6, DHCPACK,
		 IP(192, 168, 50, 7), DHCP_DEST_UDP, IP(192, 168, 50, 1), 67},
		{"relay NAK: to giaddr", IP(192, 168, 50, 1), 0, 0, 1, 6, DHCPNAK, 0, DHCP_DEST_UDP,
		 IP(192, 168, 50, 1), 67},
		{"NAK: broadcast", 0, IP(10, 0, 0, 7), 0, 1, 6, DHCPNAK, 0, DHCP_DEST_BROADCAST, BCAST,
		 68},
		{"ciaddr: unicast to ciaddr", 0, IP(10, 0, 0, 7), 0x8000, 1, 6, DHCPACK, IP(10, 0, 0, 7),
		 DHCP_DEST_UDP, IP(10, 0, 0, 7), 68},
		{"broadcast flag: broadcast", 0, 0, 0x8000, 1, 6, DHCPOFFER, IP(10, 0, 0, 100),
		 DHCP_DEST_BROADCAST, BCAST, 68},
		{"no flag: raw to chaddr/yiaddr", 0, 0, 0, 1, 6, DHCPACK, IP(10, 0, 0, 100),
		 DHCP_DEST_RAW, IP(10, 0, 0, 100), 68},
		{"no yiaddr (proxy offer): broadcast", 0, 0, 0, 1, 6, DHCPOFFER, 0, DHCP_DEST_BROADCAST,
		 BCAST, 68},
		{"not Ethernet: broadcast", 0, 0, 0, 6, 6, DHCPOFFER, IP(10, 0, 0, 100),
		 DHCP_DEST_BROADCAST, BCAST, 68},
		{"BOOTP reply: raw", 0, 0, 0, 1, 6, DHCP_NONE, IP(10, 0, 0, 50), DHCP_DEST_RAW,
		 IP(10, 0, 0, 50), 68},
	};
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct dhcp_msg m;
		memset(&m, 0, sizeof(m));
		m.op = 1;
		m.htype = rows[i].htype;
		m.hlen = rows[i].hlen;
		m.giaddr = rows[i].giaddr;
		m.ciaddr = rows[i].ciaddr;
		m.flags = rows[i].flags;
		memcpy(m.chaddr, mac, 6);
		print_message("row: %s\n", rows[i].name);
		memset(&tx, 0xee, sizeof(tx.dst_mac) + 0);
		dhcp_server_route(&m, rows[i].type, rows[i].yiaddr, &tx);
		assert_int_equal(tx.dest, rows[i].dest);
		assert_int_equal(tx.dst_ip, rows[i].dst_ip);
		assert_int_equal(tx.dst_port, rows[i].dst_port);
		if (rows[i].dest == DHCP_DEST_RAW)
			assert_memory_equal(tx.dst_mac, mac, 6);
	}
}

/* ---- options ---- */

static void test_options_follow_the_clients_prl_order(void **state)
{
	(void)state;
	start();
	uint8_t a[6];
	mac_n(a, 1);
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, a, 1);
	static const uint8_t prl[] = {42, 6, 15, 99, 3, 1};
	pkt_opt(&p, DHCP_OPT_PRL, prl, sizeof(prl));
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	uint8_t codes[64];
	size_t n = wire_order(codes, 64);
	static const uint8_t want[] = {53, 54, 42, 6, 15, 3, 1};
	assert_true(n > ARRAY_SIZE(want));
	assert_memory_equal(codes, want, sizeof(want));
	/* the rest follows: lease time among them */
	assert_non_null(memchr(codes + sizeof(want), DHCP_OPT_LEASE_TIME, n - sizeof(want)));
}

static void test_reply_fits_a_small_option_57(void **state)
{
	(void)state;
	memset(cfg.pools[0].domain, 'd', 127);
	for (size_t i = 0; i < CONF_MAX_ADDRS; i++) {
		cfg.pools[0].routers[i] = IP(10, 0, 0, 1 + i);
		cfg.pools[0].dns[i] = IP(10, 0, 0, 60 + i);
		cfg.pools[0].ntp[i] = IP(10, 0, 0, 70 + i);
	}
	cfg.pools[0].nrouters = cfg.pools[0].ndns = cfg.pools[0].nntp = CONF_MAX_ADDRS;
	cfg.http.port = 8080;
	start();
	static const uint16_t sizes[] = {576, 600, 1500};
	uint8_t o82[120];
	memset(o82, 'r', sizeof(o82));
	o82[0] = 1;
	o82[1] = sizeof(o82) - 2;
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		uint8_t a[6];
		mac_n(a, 100 + (unsigned)k);
		struct pkt p;
		pkt_new(&p, DHCPDISCOVER, a, 1);
		pkt_u16(&p, DHCP_OPT_MAX_SIZE, sizes[k]);
		pkt_opt(&p, DHCP_OPT_VENDOR_CLASS, "PXEClient:Arch:00000", 20);
		pkt_opt(&p, DHCP_OPT_USER_CLASS, "iPXE", 4);
		static const uint8_t prl[] = {1, 3, 67};
		pkt_opt(&p, DHCP_OPT_PRL, prl, sizeof(prl));
		pkt_opt(&p, DHCP_OPT_RELAY_AGENT, o82, sizeof(o82));
		assert_int_equal(run(&p), DHCP_RES_REPLY);
		print_message("option 57 = %u -> reply %zu bytes\n", sizes[k], tx.len);
		assert_true(tx.len <= MAX((size_t)sizes[k] - 28, 548));
		assert_int_equal(rep.type, DHCPOFFER);
		/* required and requested options survive */
		static const uint8_t kept[] = {DHCP_OPT_SERVER_ID, DHCP_OPT_LEASE_TIME, 1, 3, 67,
					       DHCP_OPT_VENDOR_CLASS, DHCP_OPT_RELAY_AGENT};
		for (size_t i = 0; i < sizeof(kept); i++)
			assert_true(rep_has(kept[i]));
		/* the boot URL is in `file` whatever happens to option 67 */
		assert_non_null(strstr((const char *)rep.file, "/boot.ipxe?"));
		uint8_t codes[64];
		size_t nc = wire_order(codes, 64);
		assert_int_equal(codes[nc - 1], DHCP_OPT_RELAY_AGENT);
		if (sizes[k] == 1500) {
			assert_true(rep_has(DHCP_OPT_NTP));
			assert_true(rep_has(DHCP_OPT_DOMAIN));
		} else {
			assert_false(rep_has(DHCP_OPT_NTP)); /* the lowest priority went first */
		}
	}
}

/* ---- proxy mode ---- */

#ifndef PIXIED_SOURCE_ROOT
#define PIXIED_SOURCE_ROOT "."
#endif

static size_t load_seed(const char *name, uint8_t *buf, size_t cap)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/fuzz/dhcp_parse/corpus/%s", PIXIED_SOURCE_ROOT, name);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot open %s", path);
	size_t n = fread(buf, 1, cap, fp);
	fclose(fp);
	return n;
}

static void test_proxy_mode_offers_boot_info_without_an_address(void **state)
{
	(void)state;
	cfg.dhcp.mode = CONF_DHCP_PROXY;
	start();
	uint8_t buf[DHCP_MAX_LEN];
	size_t n = load_seed("uefi-ovmf-virtio-native-pxe-0.bin", buf, sizeof(buf));
	assert_int_equal(run_raw(buf, n, 2, 0, 68, BCAST, 67), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPOFFER);
	assert_int_equal(rep.yiaddr, 0);
	assert_int_equal(rep.siaddr, SRV0);
	assert_string_equal((const char *)rep.file, "ipxe.efi");
	assert_int_equal(rep_ip(DHCP_OPT_SERVER_ID), SRV0);
	assert_false(rep_has(DHCP_OPT_LEASE_TIME));
	assert_false(rep_has(DHCP_OPT_SUBNET_MASK));
	size_t l;
	const uint8_t *v = dhcp_msg_opt(&rep, DHCP_OPT_VENDOR_CLASS, &l);
	assert_int_equal(l, 9);
	assert_memory_equal(v, "PXEClient", 9);
	v = dhcp_msg_opt(&rep, DHCP_OPT_VENDOR, &l);
	assert_int_equal(l, 4);
	assert_memory_equal(v, ((uint8_t[]){6, 1, 8, 255}), 4);
	v = dhcp_msg_opt(&rep, DHCP_OPT_UUID, &l);
	assert_int_equal(l, 17);
	v = dhcp_msg_opt(&rep, DHCP_OPT_BOOTFILE, &l);
	assert_int_equal(l, 9);
	assert_memory_equal(v, "ipxe.efi", 9);
	assert_int_equal(tx.dest, DHCP_DEST_BROADCAST);
	assert_false(tx.persist);
	assert_string_equal(tx.boot_file, "ipxe.efi");
	assert_int_equal(dhcp_server_stats(srv)->proxy_offers, 1);

	/* the client's REQUEST to the real DHCP server: not ours (dnsmasq does the same) */
	n = load_seed("uefi-ovmf-virtio-native-pxe-2.bin", buf, sizeof(buf));
	assert_int_equal(run_raw(buf, n, 2, 0, 68, BCAST, 67), DHCP_RES_NOREPLY);

	/* PXE boot server on 4011: ACK unicast back to the source */
	uint8_t a[6];
	mac_n(a, 1);
	struct pkt p;
	pkt_new(&p, DHCPREQUEST, a, 5);
	pkt_ciaddr(&p, IP(10, 0, 0, 77));
	pkt_opt(&p, DHCP_OPT_VENDOR_CLASS, "PXEClient:Arch:00000:UNDI:002001", 32);
	pkt_opt(&p, DHCP_OPT_CLIENT_ARCH, ((uint8_t[]){0, 0}), 2);
	assert_int_equal(run_raw(p.b, 300, 2, IP(10, 0, 0, 77), 68, SRV0, 4011), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPACK);
	assert_int_equal(rep.yiaddr, 0);
	assert_string_equal((const char *)rep.file, "undionly.kpxe");
	assert_int_equal(tx.dest, DHCP_DEST_UDP);
	assert_int_equal(tx.dst_ip, IP(10, 0, 0, 77));
	assert_int_equal(tx.dst_port, 68);
	assert_int_equal(tx.src_port, 4011);
	assert_int_equal(dhcp_server_stats(srv)->proxy_acks, 1);

	/* an ordinary client gets nothing, on either port */
	pkt_new(&p, DHCPDISCOVER, a, 6);
	assert_int_equal(run(&p), DHCP_RES_NOREPLY);
	pkt_new(&p, DHCPREQUEST, a, 7);
	pkt_ciaddr(&p, IP(10, 0, 0, 77));
	assert_int_equal(run_raw(p.b, 300, 2, IP(10, 0, 0, 77), 68, SRV0, 4011), DHCP_RES_NOREPLY);

	/* iPXE through the proxy: its script URL, 60 but no 43/175 */
	n = load_seed("bios-seabios-e1000-ipxe-rom-0.bin", buf, sizeof(buf));
	assert_int_equal(run_raw(buf, n, 2, 0, 68, BCAST, 67), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, 0);
	assert_non_null(strstr((const char *)rep.file, "http://10.0.0.2/boot.ipxe?"));
	assert_true(rep_has(DHCP_OPT_VENDOR_CLASS));
	assert_false(rep_has(DHCP_OPT_VENDOR));
	assert_false(rep_has(DHCP_OPT_IPXE_ENCAP));
}

static void test_proxy_pxe_client_without_loader_gets_nothing(void **state)
{
	(void)state;
	cfg.dhcp.mode = CONF_DHCP_PROXY;
	cfg.loaders[CONF_ARCH_EFI64][0] = '\0';
	start();
	uint8_t buf[DHCP_MAX_LEN];
	size_t n = load_seed("uefi-ovmf-virtio-native-pxe-0.bin", buf, sizeof(buf));
	assert_int_equal(run_raw(buf, n, 2, 0, 68, BCAST, 67), DHCP_RES_NOREPLY);
	assert_string_equal(why, "proxy: no boot file for this client");
	assert_non_null(strstr(tx.boot_reason, "no loader for x64 UEFI"));
}

static void test_mode_off_and_unknown_interface(void **state)
{
	(void)state;
	start();
	uint8_t a[6];
	mac_n(a, 1);
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, a, 1);
	assert_true(run_on(&p, 99, BCAST) < 0);
	assert_string_equal(why, "not a configured interface");
	assert_int_equal(dhcp_server_stats(srv)->drops, 1);
	dhcp_server_free(srv);
	cfg.dhcp.mode = CONF_DHCP_OFF;
	start();
	pkt_new(&p, DHCPDISCOVER, a, 1);
	assert_int_equal(run(&p), DHCP_RES_NOREPLY);
}

/* ---- firmware captures in full mode ---- */

static void test_full_mode_captured_firmware_discovers(void **state)
{
	(void)state;
	start();
	uint8_t buf[DHCP_MAX_LEN];
	size_t n, l;
	const uint8_t *v;

	/* SeaBIOS + iPXE ROM: the boot script URL, never undionly.kpxe again */
	n = load_seed("bios-seabios-e1000-ipxe-rom-0.bin", buf, sizeof(buf));
	assert_int_equal(run_raw(buf, n, 2, 0, 68, BCAST, 67), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPOFFER);
	assert_string_equal((const char *)rep.file,
			    "http://10.0.0.2/boot.ipxe?mac=${mac}&arch=${buildarch}"
			    "&platform=${platform}&uuid=${uuid}");
	assert_int_equal(rep.siaddr, SRV0);
	v = dhcp_msg_opt(&rep, DHCP_OPT_IPXE_ENCAP, &l);
	assert_int_equal(l, 3);
	assert_memory_equal(v, ((uint8_t[]){0xb0, 1, 1}), 3);
	assert_true(rep_has(DHCP_OPT_VENDOR_CLASS));
	assert_false(rep_has(DHCP_OPT_VENDOR));
	assert_false(rep_has(DHCP_OPT_TFTP_SERVER));
	assert_int_equal(tx.dest, DHCP_DEST_RAW); /* flags 0x0000 */
	assert_true(tx.facts.is_ipxe);
	assert_int_equal(tx.facts.arch, CONF_ARCH_BIOS);
	uint32_t bios_ip = rep.yiaddr;

	/* OVMF's own PXE: ipxe.efi over TFTP */
	n = load_seed("uefi-ovmf-virtio-native-pxe-0.bin", buf, sizeof(buf));
	assert_int_equal(run_raw(buf, n, 2, 0, 68, BCAST, 67), DHCP_RES_REPLY);
	assert_string_equal((const char *)rep.file, "ipxe.efi");
	assert_int_equal(rep.yiaddr, bios_ip); /* same MAC in every capture */
	v = dhcp_msg_opt(&rep, DHCP_OPT_TFTP_SERVER, &l);
	assert_int_equal(l, strlen("10.0.0.2"));
	assert_memory_equal(v, "10.0.0.2", l);
	assert_true(rep_has(DHCP_OPT_VENDOR));
	assert_true(rep_has(DHCP_OPT_UUID));
	assert_false(rep_has(DHCP_OPT_IPXE_ENCAP));
	assert_int_equal(tx.dest, DHCP_DEST_BROADCAST); /* flags 0x8000 */

	/* OVMF's REQUEST names dnsmasq's server id: another server, silence */
	n = load_seed("uefi-ovmf-virtio-native-pxe-2.bin", buf, sizeof(buf));
	assert_int_equal(run_raw(buf, n, 2, 0, 68, BCAST, 67), DHCP_RES_NOREPLY);
	assert_string_equal(why, "client selected another server");

	/* ipxe.efi chained from OVMF: the script URL */
	n = load_seed("uefi-ovmf-virtio-native-pxe-4.bin", buf, sizeof(buf));
	assert_int_equal(run_raw(buf, n, 2, 0, 68, BCAST, 67), DHCP_RES_REPLY);
	assert_non_null(strstr((const char *)rep.file, "/boot.ipxe?"));
	assert_int_equal(tx.facts.arch, CONF_ARCH_EFI64);

	/* every captured client packet goes through without a crash, replies parse */
	static const char *const seeds[] = {
		"bios-seabios-e1000-ipxe-rom-4.bin", "uefi-ovmf-e1000-ipxe-efi-rom-0.bin",
		"uefi-ovmf-virtio-native-pxe-8.bin", "bios-ipxe-rom-forced-undionly-tftp-loop-0.bin",
	};
	for (size_t i = 0; i < ARRAY_SIZE(seeds); i++) {
		n = load_seed(seeds[i], buf, sizeof(buf));
		(void)run_raw(buf, n, 2, 0, 68, BCAST, 67);
	}
}

static void test_full_mode_uefi_http_boot_client_gets_a_url(void **state)
{
	(void)state;
	start();
	uint8_t a[6];
	mac_n(a, 1);
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, a, 1);
	pkt_opt(&p, DHCP_OPT_VENDOR_CLASS, "HTTPClient:Arch:00016:UNDI:003000", 33);
	pkt_opt(&p, DHCP_OPT_CLIENT_ARCH, ((uint8_t[]){0, 16}), 2);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_string_equal((const char *)rep.file, "http://10.0.0.2/ipxe.efi");
	size_t l;
	const uint8_t *v = dhcp_msg_opt(&rep, DHCP_OPT_VENDOR_CLASS, &l);
	assert_int_equal(l, 10);
	assert_memory_equal(v, "HTTPClient", 10);
	v = dhcp_msg_opt(&rep, DHCP_OPT_BOOTFILE, &l);
	assert_int_equal(l, strlen("http://10.0.0.2/ipxe.efi") + 1);
	assert_false(rep_has(DHCP_OPT_VENDOR));
	assert_false(rep_has(DHCP_OPT_TFTP_SERVER));
	assert_true(rep_has(DHCP_OPT_LEASE_TIME));
	assert_true(tx.facts.is_http);
	assert_string_equal(tx.boot_file, "http://10.0.0.2/ipxe.efi");
}

static void test_pxelinux_client_gets_options_209_210_only_when_configured(void **state)
{
	(void)state;
	str_copy(cfg.loaders[CONF_ARCH_BIOS], "/usr/lib/PXELINUX/lpxelinux.0", CONF_PATH_LEN);
	str_copy(cfg.dhcp.pxelinux_configfile, "pxelinux.cfg/default", CONF_PATH_LEN);
	str_copy(cfg.dhcp.pxelinux_pathprefix, "http://10.0.0.2/", CONF_PATH_LEN);
	start();
	uint8_t a[6];
	mac_n(a, 7);
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, a, 1);
	pkt_opt(&p, DHCP_OPT_VENDOR_CLASS, "PXEClient:Arch:00000:UNDI:002001", 32);
	pkt_opt(&p, DHCP_OPT_CLIENT_ARCH, ((uint8_t[]){0, 0}), 2);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_string_equal((const char *)rep.file, "lpxelinux.0");
	size_t l;
	const uint8_t *v = dhcp_msg_opt(&rep, DHCP_OPT_PXELINUX_CONFIGFILE, &l);
	assert_non_null(v);
	assert_int_equal(l, strlen("pxelinux.cfg/default"));
	assert_memory_equal(v, "pxelinux.cfg/default", l);
	v = dhcp_msg_opt(&rep, DHCP_OPT_PXELINUX_PATHPREFIX, &l);
	assert_non_null(v);
	assert_memory_equal(v, "http://10.0.0.2/", l);

	/* a UEFI client handed ipxe.efi gets neither */
	mac_n(a, 8);
	pkt_new(&p, DHCPDISCOVER, a, 1);
	pkt_opt(&p, DHCP_OPT_VENDOR_CLASS, "PXEClient:Arch:00007:UNDI:003000", 32);
	pkt_opt(&p, DHCP_OPT_CLIENT_ARCH, ((uint8_t[]){0, 7}), 2);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_string_equal((const char *)rep.file, "ipxe.efi");
	assert_false(rep_has(DHCP_OPT_PXELINUX_CONFIGFILE));
	assert_false(rep_has(DHCP_OPT_PXELINUX_PATHPREFIX));
}

static void test_pxelinux_without_config_keys_gets_no_209_210(void **state)
{
	(void)state;
	str_copy(cfg.loaders[CONF_ARCH_BIOS], "pxelinux.0", CONF_PATH_LEN);
	start();
	uint8_t a[6];
	mac_n(a, 9);
	struct pkt p;
	pkt_new(&p, DHCPDISCOVER, a, 1);
	pkt_opt(&p, DHCP_OPT_VENDOR_CLASS, "PXEClient:Arch:00000:UNDI:002001", 32);
	pkt_opt(&p, DHCP_OPT_CLIENT_ARCH, ((uint8_t[]){0, 0}), 2);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_string_equal((const char *)rep.file, "pxelinux.0");
	assert_false(rep_has(DHCP_OPT_PXELINUX_CONFIGFILE));
	assert_false(rep_has(DHCP_OPT_PXELINUX_PATHPREFIX));
}

static void test_network_broadcast_own_and_router_addresses_are_never_offered(void **state)
{
	(void)state;
	cfg.pools[0].ranges[0].start = IP(10, 0, 0, 0);
	cfg.pools[0].ranges[0].end = IP(10, 0, 0, 4); /* .0 net, .1 router, .2 us */
	cfg.pools[0].ranges[1].start = IP(10, 0, 0, 254);
	cfg.pools[0].ranges[1].end = IP(10, 0, 0, 255); /* .255 broadcast */
	cfg.pools[0].nranges = 2;
	start();
	uint32_t got[3];
	for (unsigned i = 0; i < 3; i++) {
		uint8_t m[6];
		mac_n(m, i);
		got[i] = dora(m, i);
	}
	qsort(got, 3, sizeof(got[0]), cmp_u32);
	assert_int_equal(got[0], IP(10, 0, 0, 3));
	assert_int_equal(got[1], IP(10, 0, 0, 4));
	assert_int_equal(got[2], IP(10, 0, 0, 254));
	uint8_t m[6];
	mac_n(m, 9);
	assert_true(discover(m, 9) < 0);
	/* nor are they handed out when asked for */
	static const uint32_t bad[] = {IP(10, 0, 0, 0), IP(10, 0, 0, 1), SRV0, IP(10, 0, 0, 255)};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct pkt p;
		pkt_new(&p, DHCPREQUEST, m, 10 + (uint32_t)i);
		pkt_ip(&p, DHCP_OPT_REQUESTED_IP, bad[i]);
		assert_int_equal(run(&p), DHCP_RES_REPLY);
		assert_int_equal(rep.type, DHCPNAK);
	}
}

/* ---- probes ---- */

static void test_probe_before_offer_and_conflict_quarantines(void **state)
{
	(void)state;
	cfg.dhcp.probe = CONF_PROBE_PING;
	start();
	uint8_t a[6], b[6];
	mac_n(a, 1);
	mac_n(b, 2);
	assert_int_equal(discover(a, 1), DHCP_RES_PROBE);
	uint32_t ip1 = tx.probe_ip;
	assert_int_not_equal(ip1, 0);
	/* a retransmission while probing */
	assert_int_equal(discover(a, 1), DHCP_RES_NOREPLY);
	assert_string_equal(why, "conflict probe in progress");
	/* another client cannot get the address being probed */
	assert_int_equal(discover(b, 2), DHCP_RES_PROBE);
	uint32_t ip2 = tx.probe_ip;
	assert_int_not_equal(ip2, ip1);
	struct dhcp_tx ptx;
	dhcp_server_probe_done(srv, ip1, false, now, &ptx);
	assert_false(ptx.persist);
	assert_int_equal(discover(a, 1), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, ip1);

	/* in use: quarantined, persisted, another address probed */
	dhcp_server_probe_done(srv, ip2, true, now, &ptx);
	assert_true(ptx.persist);
	assert_int_equal(ptx.lease.ip, ip2);
	assert_int_equal(ptx.lease.state, STORE_LEASE_DECLINED);
	assert_int_equal(ptx.lease.expires, now + 600);
	assert_int_equal(discover(b, 2), DHCP_RES_PROBE);
	uint32_t ip3 = tx.probe_ip;
	assert_int_not_equal(ip3, ip2);
	dhcp_server_probe_done(srv, ip3, true, now, &ptx);
	assert_int_equal(discover(b, 2), DHCP_RES_PROBE);
	dhcp_server_probe_done(srv, tx.probe_ip, true, now, &ptx);
	/* bounded: three conflicts in one transaction and we give up */
	assert_true(discover(b, 2) < 0);
	assert_string_equal(why, "no conflict-free address after probing");
	assert_int_equal(dhcp_server_stats(srv)->probe_conflicts, 3);
	/* reservations are not probed */
	assert_int_equal(discover(MAC_STATION, 3), DHCP_RES_REPLY);
	/* nor is a client's own previous address */
	struct pkt p;
	pkt_new(&p, DHCPREQUEST, a, 1);
	pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV0);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ip1);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPACK);
	assert_int_equal(discover(a, 9), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, ip1);
}

/* ---- restore and reconfigure ---- */

static void test_restore_brings_back_leases_quarantines_and_expired(void **state)
{
	(void)state;
	start();
	uint8_t a[6], b[6], c[6];
	mac_n(a, 1);
	mac_n(b, 2);
	mac_n(c, 3);
	struct store_lease l;
	memset(&l, 0, sizeof(l));
	l.ip = IP(10, 0, 0, 120);
	memcpy(l.mac, a, 6);
	l.client_id[0] = 1; /* 01:<mac>: the same client as its MAC */
	memcpy(l.client_id + 1, a, 6);
	l.client_id_len = 7;
	l.state = STORE_LEASE_BOUND;
	l.expires = now + 1000;
	assert_int_equal(dhcp_server_restore_lease(srv, &l, now), 0);
	l.ip = IP(10, 0, 0, 121);
	l.state = STORE_LEASE_DECLINED;
	memcpy(l.mac, c, 6);
	l.client_id_len = 0;
	assert_int_equal(dhcp_server_restore_lease(srv, &l, now), 0);
	l.ip = IP(10, 0, 0, 122);
	l.state = STORE_LEASE_EXPIRED;
	l.expires = now - 50;
	memcpy(l.mac, b, 6);
	assert_int_equal(dhcp_server_restore_lease(srv, &l, now), 0);
	l.ip = IP(172, 16, 9, 9);
	assert_int_equal(dhcp_server_restore_lease(srv, &l, now), -ENOENT);
	l.ip = SRV0;
	assert_int_equal(dhcp_server_restore_lease(srv, &l, now), -ENOENT);
	l.ip = IP(10, 0, 0, 255);
	assert_int_equal(dhcp_server_restore_lease(srv, &l, now), -ENOENT);

	assert_int_equal(discover(a, 1), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, IP(10, 0, 0, 120));
	assert_int_equal(discover(b, 2), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, IP(10, 0, 0, 122));
	/* the declined address is not offered even to its decliner */
	assert_int_equal(discover(c, 3), DHCP_RES_REPLY);
	assert_int_not_equal(rep.yiaddr, IP(10, 0, 0, 121));
	/* a restored lease renews */
	struct pkt p;
	pkt_new(&p, DHCPREQUEST, a, 4);
	pkt_ciaddr(&p, IP(10, 0, 0, 120));
	assert_int_equal(run_on(&p, 2, SRV0), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPACK);
}

static void test_reconfigure_keeps_leases_and_bad_config_keeps_old(void **state)
{
	(void)state;
	start();
	uint8_t a[6];
	mac_n(a, 1);
	uint32_t ip = dora(a, 1);
	static struct conf c2;
	c2 = cfg;
	c2.dhcp.lease_time = 7200;
	char err[256];
	assert_int_equal(dhcp_server_reconfigure(srv, &c2, ifs, 2, err, sizeof(err)), 0);
	struct pkt p;
	pkt_new(&p, DHCPREQUEST, a, 2);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ip);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPACK);
	uint32_t v;
	assert_int_equal(dhcp_msg_opt_u32(&rep, DHCP_OPT_LEASE_TIME, &v), 0);
	assert_int_equal(v, 7200);
	assert_int_equal(dhcp_server_stats(srv)->acks, 2); /* counters survive */

	static struct conf bad;
	bad = c2;
	bad.pools[0].ranges[0].start = IP(172, 30, 0, 10);
	bad.pools[0].ranges[0].end = IP(172, 30, 0, 20);
	err[0] = '\0';
	assert_true(dhcp_server_reconfigure(srv, &bad, ifs, 2, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "no interface has a subnet containing 172.30.0.10"));
	pkt_new(&p, DHCPREQUEST, a, 3);
	pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ip);
	assert_int_equal(run(&p), DHCP_RES_REPLY);
	assert_int_equal(rep.type, DHCPACK);
}

static void test_new_rejects_bad_pools(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int pool;
		uint32_t start, end;
		const char *err;
	} rows[] = {
		{"pool without subnet on no interface", 0, IP(172, 30, 0, 10), IP(172, 30, 0, 20),
		 "pool dhcp (line 1): no interface has a subnet containing 172.30.0.10"},
		{"range outside the subnet", 1, IP(192, 168, 50, 100), IP(192, 168, 51, 10),
		 "range 192.168.50.100-192.168.51.10 is not inside 192.168.50.0/24"},
		{"range reversed", 1, IP(192, 168, 50, 100), IP(192, 168, 50, 90), "is not inside"},
		{"ranges overlapping across pools", 2, IP(10, 0, 0, 150), IP(10, 0, 0, 160), NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		print_message("row: %s\n", rows[i].name);
		conf_defaults();
		if (i == 3) {
			/* pool "big" moved onto eth0's subnet, overlapping [dhcp]'s range */
			cfg.pools[2].net = IP(10, 0, 0, 0);
			cfg.pools[2].mask = 0xffffff00u;
		}
		cfg.pools[rows[i].pool].ranges[0].start = rows[i].start;
		cfg.pools[rows[i].pool].ranges[0].end = rows[i].end;
		char err[256] = "";
		struct dhcp_server *s = dhcp_server_new(&cfg, ifs, 2, err, sizeof(err));
		assert_null(s);
		print_message("  err: %s\n", err);
		assert_non_null(strstr(err, rows[i].err ? rows[i].err : "overlap"));
	}
	/* proxy mode does not care about pools */
	conf_defaults();
	cfg.dhcp.mode = CONF_DHCP_PROXY;
	cfg.pools[0].ranges[0].start = IP(172, 30, 0, 10);
	char err[64];
	struct dhcp_server *s = dhcp_server_new(&cfg, ifs, 2, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(dhcp_server_npools(s), 0);
	dhcp_server_free(s);
}

/* ---- hostnames ---- */

static void test_hostname_sanitizer_table(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} rows[] = {
		{"laptop", 6, "laptop"},
		{"lap top.lan", 11, "lap top.lan"},
		{"<script>alert('x')</script>", 27, "scriptalert(x)/script"},
		{"a\"b&c\\d", 7, "abcd"},
		{"nul\0after", 9, "nul"},
		{"ctl\x01\x1f\x7f\x80\xffok", 10, "ctlok"},
		{"", 0, ""},
		{"0123456789012345678901234567890123456789012345678901234567890123456789", 70,
		 "012345678901234567890123456789012345678901234567890123456789012"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char out[STORE_HOSTNAME_MAX];
		dhcp_server_sanitize_hostname(out, sizeof(out), (const uint8_t *)rows[i].in, rows[i].n);
		assert_string_equal(out, rows[i].out);
	}
	char tiny[4];
	dhcp_server_sanitize_hostname(tiny, sizeof(tiny), (const uint8_t *)"abcdef", 6);
	assert_string_equal(tiny, "abc");
}

/* ---- per-architecture counters ---- */

struct arch_row {
	const char *what;
	uint8_t type;        /* DHCPDISCOVER..., DHCP_NONE = BOOTP */
	const char *vclass;  /* option 60, NULL = absent */
	bool ipxe;           /* option 77 "iPXE" */
	int opt93;           /* -1 = absent */
	bool bad_opt50;      /* a 3-byte option 50: the request is dropped */
	size_t want;         /* rx_arch column */
};

static const struct arch_row arch_rows[] = {
	{"PXE BIOS", DHCPDISCOVER, "PXEClient:Arch:00000:UNDI:002001", false, 0, false,
	 CONF_ARCH_BIOS},
	{"PXE x64 UEFI (7)", DHCPDISCOVER, "PXEClient", false, 7, false, CONF_ARCH_EFI64},
	{"PXE x64 UEFI (9, EBC per errata)", DHCPDISCOVER, "PXEClient", false, 9, false,
	 CONF_ARCH_EFI64},
	{"HTTP Boot x64", DHCPDISCOVER, "HTTPClient:Arch:00016", false, 16, false,
	 CONF_ARCH_EFI64_HTTP},
	{"ARM64 from option 60 only", DHCPDISCOVER, "PXEClient:Arch:00011:UNDI:003000", false, -1,
	 false, CONF_ARCH_ARM64},
	{"iPXE x64 UEFI", DHCPDISCOVER, NULL, true, 7, false, CONF_ARCH_EFI64},
	{"PXE REQUEST BIOS", DHCPREQUEST, "PXEClient", false, 0, false, CONF_ARCH_BIOS},
	{"BOOTP PXE BIOS", DHCP_NONE, "PXEClient", false, 0, false, CONF_ARCH_BIOS},
	{"dropped request is still counted", DHCPREQUEST, "PXEClient", false, 7, true,
	 CONF_ARCH_EFI64},
	/* negative: the none/unknown column */
	{"PXE without option 93", DHCPDISCOVER, "PXEClient", false, -1, false, CONF_ARCH_COUNT},
	{"PXE with an unknown type", DHCPDISCOVER, "PXEClient", false, 0x1234, false,
	 CONF_ARCH_COUNT},
	{"PXE with a type that has no loader key (Itanium)", DHCPDISCOVER, "PXEClient", false, 2,
	 false, CONF_ARCH_COUNT},
	{"plain client sending option 93", DHCPDISCOVER, NULL, false, 7, false, CONF_ARCH_COUNT},
	{"plain client", DHCPDISCOVER, "MSFT 5.0", false, -1, false, CONF_ARCH_COUNT},
};

static void test_rx_arch_counts_requests_by_client_architecture(void **state)
{
	(void)state;
	start();
	for (size_t i = 0; i < ARRAY_SIZE(arch_rows); i++) {
		const struct arch_row *r = &arch_rows[i];
		uint64_t before[CONF_ARCH_COUNT + 1];
		memcpy(before, dhcp_server_stats(srv)->rx_arch[r->type], sizeof(before));
		uint8_t mac[6];
		mac_n(mac, 100 + (unsigned)i);
		struct pkt p;
		pkt_new(&p, r->type, mac, 1000 + (uint32_t)i);
		if (r->vclass)
			pkt_opt(&p, DHCP_OPT_VENDOR_CLASS, r->vclass, strlen(r->vclass));
		if (r->ipxe)
			pkt_opt(&p, DHCP_OPT_USER_CLASS, "iPXE", 4);
		if (r->opt93 >= 0)
			pkt_u16(&p, DHCP_OPT_CLIENT_ARCH, (uint16_t)r->opt93);
		if (r->bad_opt50)
			pkt_opt(&p, DHCP_OPT_REQUESTED_IP, "\x0a\x00\x00", 3);
		int res = run(&p);
		if (r->bad_opt50 && res >= 0)
			fail_msg("%s: not dropped", r->what);
		const uint64_t *after = dhcp_server_stats(srv)->rx_arch[r->type];
		for (size_t k = 0; k <= CONF_ARCH_COUNT; k++)
			if (after[k] != before[k] + (k == r->want))
				fail_msg("%s: rx_arch[%u][%zu] = %llu, want %llu", r->what, r->type, k,
					 (unsigned long long)after[k],
					 (unsigned long long)(before[k] + (k == r->want)));
	}
	/* every request is in exactly one column of its type */
	const struct dhcp_server_stats *st = dhcp_server_stats(srv);
	for (size_t t = 0; t <= DHCPINFORM; t++) {
		uint64_t sum = 0;
		for (size_t k = 0; k <= CONF_ARCH_COUNT; k++)
			sum += st->rx_arch[t][k];
		assert_int_equal(sum, st->rx[t]);
	}
}

/* ---- admin release ---- */

static void test_admin_release_returns_a_bound_lease_to_the_pool(void **state)
{
	(void)state;
	start();
	uint8_t a[6], b[6];
	mac_n(a, 1);
	mac_n(b, 2);
	uint32_t ip = dora(a, 1);
	struct dhcp_server_pool_stats ps;
	assert_int_equal(dhcp_server_pool_stats(srv, 0, now, &ps), 0);
	assert_int_equal(ps.bound, 1);
	struct store_lease l;
	assert_int_equal(dhcp_server_release(srv, ip, now, &l), 0);
	assert_int_equal(l.ip, ip);
	assert_int_equal(l.state, STORE_LEASE_RELEASED);
	assert_memory_equal(l.mac, a, 6);
	assert_true(l.expires <= now);
	assert_int_equal(dhcp_server_stats(srv)->releases, 1);
	assert_int_equal(dhcp_server_pool_stats(srv, 0, now, &ps), 0);
	assert_int_equal(ps.bound, 0);
	assert_int_equal(ps.reclaimable, 1);
	/* nothing left to release */
	assert_int_equal(dhcp_server_release(srv, ip, now, &l), -ENOENT);
	/* its owner asking again gets the same address back first (the record stays keyed
	 * to it) */
	assert_int_equal(discover(a, 2), DHCP_RES_REPLY);
	assert_int_equal(rep.yiaddr, ip);
	/* another client does not get it while fresh addresses remain */
	assert_int_equal(discover(b, 3), DHCP_RES_REPLY);
	assert_int_not_equal(rep.yiaddr, ip);
}

struct release_row {
	const char *what;
	int setup; /* 0 unknown address, 1 offer only, 2 declined, 3 bound with a pending
		    * re-offer, 4 released by its client */
	int want;
};

static const struct release_row release_rows[] = {
	{"bound with a pending re-offer: released, the offer dropped", 3, 0},
	{"declined (quarantined): released, back in the pool", 2, 0},
	{"address nobody holds", 0, -ENOENT},
	{"only offered, never acknowledged", 1, -ENOENT},
	{"already released by its client", 4, -ENOENT},
};

static void test_admin_release_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(release_rows); i++) {
		const struct release_row *r = &release_rows[i];
		now = T0;
		start();
		uint8_t a[6];
		mac_n(a, 7);
		uint32_t ip = IP(10, 0, 0, 123);
		struct pkt p;
		switch (r->setup) {
		case 1:
			assert_int_equal(discover(a, 1), DHCP_RES_REPLY);
			ip = rep.yiaddr;
			break;
		case 2:
			ip = dora(a, 1);
			pkt_new(&p, DHCPDECLINE, a, 2);
			pkt_ip(&p, DHCP_OPT_REQUESTED_IP, ip);
			pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV0);
			assert_int_equal(run(&p), DHCP_RES_NOREPLY);
			break;
		case 3:
			ip = dora(a, 1);
			assert_int_equal(discover(a, 2), DHCP_RES_REPLY);
			assert_int_equal(rep.yiaddr, ip);
			assert_int_equal(dhcp_server_stats(srv)->pending_offers, 1);
			break;
		case 4:
			ip = dora(a, 1);
			pkt_new(&p, DHCPRELEASE, a, 2);
			pkt_ciaddr(&p, ip);
			pkt_ip(&p, DHCP_OPT_SERVER_ID, SRV0);
			assert_int_equal(run_on(&p, 2, SRV0), DHCP_RES_NOREPLY);
			break;
		default:
			break;
		}
		uint64_t offers = dhcp_server_stats(srv)->pending_offers;
		struct store_lease l;
		memset(&l, 0, sizeof(l));
		int got = dhcp_server_release(srv, ip, now, &l);
		if (got != r->want)
			fail_msg("%s: got %d, want %d", r->what, got, r->want);
		if (got == 0) {
			assert_int_equal(l.state, STORE_LEASE_RELEASED);
			assert_int_equal(l.ip, ip);
			assert_int_equal(dhcp_server_stats(srv)->pending_offers, 0);
			struct dhcp_server_pool_stats ps;
			assert_int_equal(dhcp_server_pool_stats(srv, 0, now, &ps), 0);
			assert_int_equal(ps.bound + ps.declined + ps.offered, 0);
			assert_int_equal(ps.reclaimable, 1);
		} else {
			/* a refused release changes nothing */
			assert_int_equal(dhcp_server_stats(srv)->pending_offers, offers);
		}
		dhcp_server_free(srv);
		srv = NULL;
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_pool_hands_out_no_duplicates_across_1000_clients),
		T(test_pool_slash16_dora_speed_sanity),
		T(test_pool_exhaustion_then_reclaims_oldest_expired_then_released),
		T(test_offer_flood_keeps_memory_bounded_and_reservations_served),
		T(test_small_pool_flood_exhausts_but_reservation_still_served),
		T(test_reservation_outside_range_gets_its_address_and_hostname),
		T(test_reserved_address_in_range_is_never_given_to_others),
		T(test_reservation_outside_the_arrival_subnet_gets_no_reply),
		T(test_dora_offer_and_ack_carry_the_pool_options),
		T(test_discover_prefers_previous_lease_then_requested_address),
		T(test_client_id_01_mac_is_the_same_client_as_its_mac),
		T(test_request_states_table),
		T(test_selecting_another_server_forgets_our_offer),
		T(test_request_without_server_id_for_our_offer_is_acked),
		T(test_server_id_is_the_address_the_client_used),
		T(test_decline_quarantines_and_non_owner_is_ignored),
		T(test_decline_of_an_offer_quarantines),
		T(test_release_by_owner_only_and_address_stays_sticky),
		T(test_inform_gets_options_without_address_or_lease_time),
		T(test_bootp_reserved_host_gets_bootreply_others_nothing),
		T(test_relay_selects_pool_by_giaddr_and_echoes_option_82_last),
		T(test_reply_destination_table),
		T(test_options_follow_the_clients_prl_order),
		T(test_reply_fits_a_small_option_57),
		T(test_proxy_mode_offers_boot_info_without_an_address),
		T(test_proxy_pxe_client_without_loader_gets_nothing),
		T(test_mode_off_and_unknown_interface),
		T(test_full_mode_captured_firmware_discovers),
		T(test_full_mode_uefi_http_boot_client_gets_a_url),
		T(test_pxelinux_client_gets_options_209_210_only_when_configured),
		T(test_pxelinux_without_config_keys_gets_no_209_210),
		T(test_network_broadcast_own_and_router_addresses_are_never_offered),
		T(test_probe_before_offer_and_conflict_quarantines),
		T(test_restore_brings_back_leases_quarantines_and_expired),
		T(test_reconfigure_keeps_leases_and_bad_config_keeps_old),
		T(test_new_rejects_bad_pools),
		T(test_hostname_sanitizer_table),
		T(test_rx_arch_counts_requests_by_client_architecture),
		T(test_admin_release_returns_a_bound_lease_to_the_pool),
		T(test_admin_release_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
