/*
 * libFuzzer target: any bytes, parsed as a DHCP message, run through a full-mode and a
 * proxy-mode server (fixed config: two interfaces, a direct and a relayed pool, a /16,
 * reservations, probing on) on ports 67 and 4011. The servers keep their state across
 * inputs and the clock moves, so leases, offers, quarantines and expiry get exercised.
 * Invariants checked on every decision: a reply is 300..1500 bytes and parses back as a
 * BOOTREPLY to the same xid/chaddr; a persisted lease has an address and a valid state;
 * a probe names an address; a drop says why; every request is counted in exactly one
 * rx_arch column. Now and then an admin releases the address the input names (ciaddr or
 * yiaddr) and the released record must be valid.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "dhcp/dhcp_server.h"
#include "dhcp/dhcp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static struct conf full_cfg, proxy_cfg;
static struct conf_host hosts[2];
static struct dhcp_server *full, *proxy;
static int64_t now = 1700000000;
static const struct dhcp_server_iface ifs[2] = {
	{"eth0", 2, IP(10, 77, 0, 1), 0xffffff00u, {2, 0, 0, 0, 0, 1}},
	{"eth1", 3, IP(10, 1, 0, 2), 0xffff0000u, {2, 0, 0, 0, 0, 2}},
};

static void pool(struct conf *c, const char *name, bool has_subnet, uint32_t net, uint32_t mask,
		 uint32_t start, uint32_t end)
{
	struct conf_pool *p = &c->pools[c->npools++];
	strcpy(p->name, name);
	p->has_subnet = has_subnet;
	p->net = net;
	p->mask = mask;
	p->ranges[0].start = start;
	p->ranges[0].end = end;
	p->nranges = 1;
	p->routers[0] = net | 1;
	p->nrouters = 1;
	p->dns[0] = net | 1;
	p->ndns = 1;
	strcpy(p->domain, "fuzz.example");
}

static void init(void)
{
	struct conf *c = &full_cfg;
	c->dhcp.mode = CONF_DHCP_FULL;
	c->dhcp.lease_time = 120;
	c->dhcp.decline_time = 30;
	c->dhcp.offer_time = 10;
	c->dhcp.authoritative = true;
	c->dhcp.max_offers = 64;
	c->dhcp.probe = CONF_PROBE_PING;
	c->dhcp.no_proxydhcp_wait = true;
	c->http.enabled = true;
	c->http.port = 8080;
	strcpy(c->loaders[CONF_ARCH_BIOS], "/usr/lib/ipxe/undionly.kpxe");
	strcpy(c->loaders[CONF_ARCH_EFI64], "/usr/lib/ipxe/ipxe.efi");
	strcpy(c->loaders[CONF_ARCH_ARM64_HTTP], "http://boot.example/arm64.efi");
	/* the captures' subnet (10.77.0.0/24), small so it runs out */
	pool(c, "dhcp", false, 0, 0, IP(10, 77, 0, 100), IP(10, 77, 0, 131));
	pool(c, "lab", true, IP(192, 168, 50, 0), 0xffffff00u, IP(192, 168, 50, 10),
	     IP(192, 168, 50, 20));
	pool(c, "big", true, IP(10, 1, 0, 0), 0xffff0000u, IP(10, 1, 0, 10), IP(10, 1, 255, 250));
	strcpy(hosts[0].name, "vm");
	memcpy(hosts[0].mac, (uint8_t[]){0x52, 0x54, 0x00, 0x77, 0x00, 0x10}, 6);
	hosts[0].has_ip = true;
	hosts[0].ip = IP(10, 77, 0, 50);
	strcpy(hosts[1].name, "in-range");
	memcpy(hosts[1].mac, (uint8_t[]){2, 0, 0, 0, 0, 0x42}, 6);
	hosts[1].has_ip = true;
	hosts[1].ip = IP(10, 77, 0, 110);
	c->hosts = hosts;
	c->nhosts = 2;

	proxy_cfg = full_cfg;
	proxy_cfg.dhcp.mode = CONF_DHCP_PROXY;

	char err[256];
	full = dhcp_server_new(&full_cfg, ifs, 2, err, sizeof(err));
	proxy = dhcp_server_new(&proxy_cfg, ifs, 2, err, sizeof(err));
	if (!full || !proxy)
		abort();
}

static struct dhcp_msg reply;

static void check(const struct dhcp_msg *m, int r, const struct dhcp_tx *tx, const char *why)
{
	if (r < 0) {
		if (!why || !why[0])
			abort();
		return;
	}
	if (tx->persist) {
		if (!tx->lease.ip)
			abort();
		if (tx->lease.state < STORE_LEASE_BOUND || tx->lease.state > STORE_LEASE_EXPIRED)
			abort();
	}
	if (r == DHCP_RES_PROBE && !tx->probe_ip)
		abort();
	if (r != DHCP_RES_REPLY)
		return;
	if (tx->len < DHCP_MIN_LEN || tx->len > DHCP_MAX_LEN)
		abort();
	if (dhcp_msg_parse(&reply, tx->buf, tx->len) != DHCP_PARSE_OK)
		abort();
	if (reply.op != DHCP_OP_REPLY || reply.xid != m->xid ||
	    memcmp(reply.chaddr, m->chaddr, sizeof(m->chaddr)) != 0)
		abort();
	if (tx->dest == DHCP_DEST_RAW && !tx->dst_ip)
		abort();
}

static struct dhcp_msg msg;
static struct dhcp_tx tx;

static void run(struct dhcp_server *s, const struct dhcp_msg *m, int ifindex, uint32_t src,
		uint32_t dst, uint16_t port)
{
	struct dhcp_rx rx = {.msg = m, .ifindex = ifindex, .src_ip = src, .src_port = 68,
			     .dst_ip = dst, .local_port = port};
	const char *why = NULL;
	int r = dhcp_server_handle(s, &rx, now, &tx, &why);
	check(m, r, &tx, why);
	/* answer a probe, then decide again as the glue would */
	for (int i = 0; r == DHCP_RES_PROBE && i < DHCP_SERVER_PROBE_ATTEMPTS + 1; i++) {
		struct dhcp_tx ptx;
		dhcp_server_probe_done(s, tx.probe_ip, (m->xid >> i) & 1, now, &ptx);
		r = dhcp_server_handle(s, &rx, now, &tx, &why);
		check(m, r, &tx, why);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!full)
		init();
	if (dhcp_msg_parse(&msg, data, size) != DHCP_PARSE_OK)
		return 0;
	/* the clock moves a little with every input, sometimes a lot */
	now += 1 + (int64_t)(msg.secs % 64);
	uint32_t src = msg.ciaddr;
	uint32_t dst = (msg.xid & 0x100) ? ifs[0].addr : 0xffffffffu;
	int ifindex = (msg.xid & 0x200) ? 3 : 2;
	if (msg.xid & 0x400)
		ifindex = 9; /* not ours */
	run(full, &msg, ifindex, src, dst, 67);
	run(full, &msg, ifindex, src ? src : IP(10, 77, 0, 99), ifs[0].addr, 4011);
	run(proxy, &msg, ifindex, src, dst, 67);
	run(proxy, &msg, ifindex, src ? src : IP(10, 77, 0, 99), ifs[0].addr, 4011);
	/* an admin release of an address the input names (xid bit 11) */
	if (msg.xid & 0x800) {
		struct store_lease l;
		uint32_t ip = msg.ciaddr ? msg.ciaddr : msg.yiaddr;
		if (dhcp_server_release(full, ip, now, &l) == 0 &&
		    (l.ip != ip || l.state != STORE_LEASE_RELEASED))
			abort();
		if (dhcp_server_release(full, ip, now, &l) != -ENOENT) /* nothing left there */
			abort();
	}
	/* every request is in exactly one architecture column of its type */
	if (msg.type <= DHCPINFORM) {
		const struct dhcp_server_stats *st = dhcp_server_stats(full);
		uint64_t sum = 0;
		for (size_t k = 0; k <= CONF_ARCH_COUNT; k++)
			sum += st->rx_arch[msg.type][k];
		if (sum != st->rx[msg.type])
			abort();
	}
	/* stats stay consistent (O(leases): only now and then) */
	struct dhcp_server_pool_stats ps;
	if ((msg.xid & 0xff) == 0 && dhcp_server_pool_stats(full, msg.xid % 3, now, &ps) == 0 &&
	    ps.free > ps.size)
		abort();
	return 0;
}
