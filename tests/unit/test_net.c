/*
 * Unit tests for net/: the pure parts (checksum, IPv4/UDP, ICMP and ARP building and
 * parsing) with reference bytes, and — as root only — the socket parts, each inside network
 * namespaces the test creates (unshare) and which vanish with the forked child that owns them:
 * IP_PKTINFO on loopback, raw send / UDP pktinfo / ICMP and ARP probes over a veth pair,
 * and the privilege drop checked against /proc/self/status.
 *
 * Root-only tests are skipped when not root, or fail when PIXIED_REQUIRE_ROOT_TESTS=1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "root_child.h"

#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* ---------------------------------------------------------------- checksum */

struct csum_case {
	const char *name;
	uint8_t data[24];
	size_t len;
	uint32_t initial;
	uint16_t want;
};

static const struct csum_case csum_cases[] = {
	/* RFC 1071 3: the example bytes sum to ddf2, so the checksum is ~ddf2 = 220d. */
	{"rfc1071_example", {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, 8, 0, 0x220d},
	/* Odd length: the last byte is padded with a zero byte on the right. */
	{"odd_length_pads_right", {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6}, 7, 0, 0x2304},
	{"single_byte_is_high_octet", {0xff}, 1, 0, 0x00ff},
	{"empty_is_all_ones", {0}, 0, 0, 0xffff},
	{"all_ones_word_is_zero", {0xff, 0xff}, 2, 0, 0x0000},
	/* The IPv4 header example (Wikipedia "IPv4 header checksum"). */
	{"ipv4_header_example",
	 {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
	  0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7},
	 20, 0, 0xb861},
	/* The same header with its checksum filled in verifies to zero. */
	{"ipv4_header_with_checksum_verifies_zero",
	 {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
	  0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7},
	 20, 0, 0x0000},
	/* initial is added in: 0x0001 + ddf2 = ddf3 -> 220c. */
	{"initial_sum_is_added", {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, 8, 1, 0x220c},
	/* A large initial carries: 0x1fffe folds to 0xffff, +0 -> checksum 0. */
	{"initial_carries_fold", {0}, 0, 0x1fffe, 0x0000},
};

static void test_csum_matches_reference_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(csum_cases) / sizeof(csum_cases[0]); i++) {
		const struct csum_case *c = &csum_cases[i];
		uint16_t got = net_csum(c->data, c->len, c->initial);
		if (got != c->want)
			fail_msg("%s: got %04x want %04x", c->name, got, c->want);
	}
}

static void test_csum_partial_chains_even_pieces(void **state)
{
	(void)state;
	uint8_t buf[64];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (size_t split = 0; split <= sizeof(buf); split += 2) {
		uint32_t s = net_csum_partial(buf, split, 0);
		assert_int_equal(net_csum(buf + split, sizeof(buf) - split, s),
				 net_csum(buf, sizeof(buf), 0));
	}
}

/* ---------------------------------------------------------------- IPv4/UDP build */

/* 192.168.0.1:67 -> 192.168.0.199:68, "abc". Checked by hand: IP sum f8b5, UDP sum b8d5
 * (pseudo c0a8+0001+c0a8+00c7+0011+000b, header 0043+0044+000b, data 6162+6300). */
static const uint8_t udp_abc[] = {
	0x45, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, 0xf8, 0xb5,
	0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7, 0x00, 0x43, 0x00, 0x44,
	0x00, 0x0b, 0xb8, 0xd5, 0x61, 0x62, 0x63,
};
/* 10.99.0.1:67 -> 255.255.255.255:68, no payload. */
static const uint8_t udp_empty_bcast[] = {
	0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, 0x70, 0x6e, 0x0a, 0x63,
	0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x00, 0x43, 0x00, 0x44, 0x00, 0x08, 0xf4, 0xf3,
};

struct build_case {
	const char *name;
	size_t cap;
	uint32_t src, dst;
	const char *payload;
	size_t len;
	int want;                 /* length or -errno */
	const uint8_t *bytes;     /* expected packet when want > 0 */
};

static const struct build_case build_cases[] = {
	{"abc_matches_reference", 64, IP4(192, 168, 0, 1), IP4(192, 168, 0, 199), "abc", 3, 31,
	 udp_abc},
	{"exact_cap_fits", 31, IP4(192, 168, 0, 1), IP4(192, 168, 0, 199), "abc", 3, 31, udp_abc},
	{"empty_payload_broadcast", 28, IP4(10, 99, 0, 1), IP4(255, 255, 255, 255), "", 0, 28,
	 udp_empty_bcast},
	{"one_byte_short_is_enospc", 30, IP4(192, 168, 0, 1), IP4(192, 168, 0, 199), "abc", 3,
	 -ENOSPC, NULL},
	{"no_room_for_headers_is_enospc", 27, IP4(10, 99, 0, 1), IP4(255, 255, 255, 255), "", 0,
	 -ENOSPC, NULL},
	{"zero_cap_is_enospc", 0, IP4(10, 99, 0, 1), IP4(255, 255, 255, 255), "", 0, -ENOSPC,
	 NULL},
};

static void test_build_udp4_matches_reference_and_checks_room(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(build_cases) / sizeof(build_cases[0]); i++) {
		const struct build_case *c = &build_cases[i];
		uint8_t buf[64];
		memset(buf, 0xee, sizeof(buf));
		int r = net_build_udp4(buf, c->cap, c->src, 67, c->dst, 68, c->payload, c->len);
		if (r != c->want)
			fail_msg("%s: returned %d want %d", c->name, r, c->want);
		if (r > 0 && memcmp(buf, c->bytes, (size_t)r) != 0)
			fail_msg("%s: bytes differ", c->name);
		if (r < 0 && c->cap < sizeof(buf) && buf[c->cap] != 0xee)
			fail_msg("%s: wrote past cap", c->name);
	}
}

/* Checks that a built packet verifies: IP header sums to 0, UDP with pseudo header to 0. */
static void assert_udp4_checksums_verify(const uint8_t *p, size_t n)
{
	assert_true(n >= NET_UDP4_HDRLEN);
	assert_int_equal(net_csum(p, 20, 0), 0);
	uint32_t src = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
	uint32_t dst = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
	uint32_t pseudo = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 17 +
			  (uint32_t)(n - 20);
	assert_int_not_equal(p[26] | p[27], 0); /* a checksum was sent */
	assert_int_equal(net_csum(p + 20, n - 20, pseudo), 0);
	assert_int_equal(p[2] << 8 | p[3], n);
	assert_int_equal(p[24] << 8 | p[25], n - 20);
	assert_int_equal(p[8], 64);         /* TTL */
	assert_int_equal(p[6] & 0x40, 0);   /* DF clear */
}

static void test_build_udp4_checksums_verify_for_every_length(void **state)
{
	(void)state;
	static uint8_t payload[1472], buf[1500];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	for (size_t len = 0; len <= sizeof(payload); len += (len < 64 ? 1 : 97)) {
		int r = net_build_udp4(buf, sizeof(buf), IP4(10, 0, 0, 1), 67, IP4(10, 0, 0, 77), 68,
				       payload, len);
		assert_int_equal(r, (int)(len + NET_UDP4_HDRLEN));
		assert_udp4_checksums_verify(buf, (size_t)r);
		assert_memory_equal(buf + NET_UDP4_HDRLEN, payload, len);
	}
}

static void test_build_udp4_zero_checksum_is_sent_as_all_ones(void **state)
{
	(void)state;
	uint8_t buf[64], pl[2] = {0, 0};
	/* With payload word P = the checksum c0 of the zero payload, the sum becomes ffff and
	 * the computed checksum 0, which RFC 768 says to transmit as all ones. */
	int r = net_build_udp4(buf, sizeof(buf), IP4(10, 0, 0, 1), 67, IP4(10, 0, 0, 2), 68, pl, 2);
	assert_int_equal(r, 30);
	pl[0] = buf[26];
	pl[1] = buf[27];
	r = net_build_udp4(buf, sizeof(buf), IP4(10, 0, 0, 1), 67, IP4(10, 0, 0, 2), 68, pl, 2);
	assert_int_equal(r, 30);
	assert_int_equal(buf[26], 0xff);
	assert_int_equal(buf[27], 0xff);
}

static void test_build_udp4_oversized_payload_is_emsgsize(void **state)
{
	(void)state;
	uint8_t buf[8];
	static const uint8_t big[1];
	assert_int_equal(net_build_udp4(buf, sizeof(buf), 1, 1, 2, 2, big, 65536 - 28),
			 -EMSGSIZE);
	assert_int_equal(net_build_udp4(buf, sizeof(buf), 1, 1, 2, 2, NULL, 1), -EINVAL);
}

/* ---------------------------------------------------------------- ICMP */

static void test_build_icmp_echo_matches_reference(void **state)
{
	(void)state;
	static const uint8_t want[] = {0x08, 0x00, 0x97, 0x8d, 0x12, 0x34, 0x00, 0x07,
				       0x70, 0x69, 0x78, 0x69, 0x65, 0x64, 0x00, 0x00};
	uint8_t buf[32];
	assert_int_equal(net_build_icmp_echo(buf, sizeof(buf), 0x1234, 7), 16);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(net_build_icmp_echo(buf, 15, 0x1234, 7), -ENOSPC);
}

struct icmp_case {
	const char *name;
	uint8_t data[48];
	size_t len;
	bool with_ip;
	int want;
};

#define ECHO_REPLY_1234_7                                                                          \
	0x00, 0x00, 0x9f, 0x8d, 0x12, 0x34, 0x00, 0x07, 0x70, 0x69, 0x78, 0x69, 0x65, 0x64, 0x00, \
		0x00
#define IP_HDR_10_0_0_2(len, csum_hi, csum_lo, proto, frag_hi)                                     \
	0x45, 0x00, 0x00, (len), 0x00, 0x55, (frag_hi), 0x00, 0x40, (proto), (csum_hi), (csum_lo), \
		0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01

static const struct icmp_case icmp_cases[] = {
	{"echo_reply_from_ping_socket", {ECHO_REPLY_1234_7}, 16, false, 1},
	{"echo_reply_with_ip_header", {IP_HDR_10_0_0_2(0x24, 0x66, 0x82, 1, 0), ECHO_REPLY_1234_7},
	 36, true, 1},
	{"echo_reply_after_ip_options",
	 {0x46, 0x00, 0x00, 0x28, 0x00, 0x55, 0x00, 0x00, 0x40, 0x01, 0x63, 0x7c, 0x0a, 0x00,
	  0x00, 0x02, 0x0a, 0x00, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, ECHO_REPLY_1234_7},
	 40, true, 1},
	/* Link-layer padding after the IP total length is ignored. */
	{"trailing_padding_ignored",
	 {IP_HDR_10_0_0_2(0x24, 0x66, 0x82, 1, 0), ECHO_REPLY_1234_7, 0xaa, 0xbb}, 38, true, 1},
	{"echo_request_is_not_a_reply",
	 {0x08, 0x00, 0x97, 0x8d, 0x12, 0x34, 0x00, 0x07, 0x70, 0x69, 0x78, 0x69, 0x65, 0x64,
	  0x00, 0x00},
	 16, false, 0},
	{"unreachable_is_not_a_reply",
	 {0x03, 0x01, 0xfc, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 16, false, 0},
	{"not_icmp_protocol_ignored", {IP_HDR_10_0_0_2(0x24, 0x66, 0x82, 17, 0), ECHO_REPLY_1234_7},
	 36, true, 0},
	{"fragment_ignored", {IP_HDR_10_0_0_2(0x24, 0x66, 0x82, 1, 0x20), ECHO_REPLY_1234_7}, 36,
	 true, 0},
	{"bad_checksum_rejected",
	 {0x00, 0x00, 0x9f, 0x8e, 0x12, 0x34, 0x00, 0x07, 0x70, 0x69, 0x78, 0x69, 0x65, 0x64,
	  0x00, 0x00},
	 16, false, -EBADMSG},
	{"shorter_than_icmp_header_rejected", {0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00}, 7, false,
	 -EBADMSG},
	{"empty_rejected", {0}, 0, false, -EBADMSG},
	{"ip_total_length_past_end_rejected",
	 {IP_HDR_10_0_0_2(0x30, 0x66, 0x82, 1, 0), ECHO_REPLY_1234_7}, 36, true, -EBADMSG},
	{"ihl_below_5_rejected",
	 {0x44, 0x00, 0x00, 0x24, 0x00, 0x55, 0x00, 0x00, 0x40, 0x01, 0, 0, 10, 0, 0, 2, 10, 0, 0,
	  1, ECHO_REPLY_1234_7},
	 36, true, -EBADMSG},
	{"ipv6_version_rejected",
	 {0x65, 0x00, 0x00, 0x24, 0x00, 0x55, 0x00, 0x00, 0x40, 0x01, 0, 0, 10, 0, 0, 2, 10, 0, 0,
	  1, ECHO_REPLY_1234_7},
	 36, true, -EBADMSG},
	{"truncated_ip_header_rejected", {0x45, 0x00, 0x00}, 3, true, -EBADMSG},
	{"ihl_past_total_length_rejected",
	 {0x4f, 0x00, 0x00, 0x24, 0x00, 0x55, 0x00, 0x00, 0x40, 0x01, 0, 0, 10, 0, 0, 2, 10, 0, 0,
	  1, ECHO_REPLY_1234_7},
	 36, true, -EBADMSG},
};

static void test_parse_icmp_echo_reply_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(icmp_cases) / sizeof(icmp_cases[0]); i++) {
		const struct icmp_case *c = &icmp_cases[i];
		uint16_t id = 0, seq = 0;
		int r = net_parse_icmp_echo_reply(c->data, c->len, c->with_ip, &id, &seq);
		if (r != c->want)
			fail_msg("%s: returned %d want %d", c->name, r, c->want);
		if (r == 1 && (id != 0x1234 || seq != 7))
			fail_msg("%s: id %04x seq %u", c->name, id, seq);
	}
}

/* ---------------------------------------------------------------- ARP */

static const uint8_t mac_a[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static void test_build_arp_request_matches_reference(void **state)
{
	(void)state;
	static const uint8_t want[] = {0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54,
				       0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00,
				       0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x09};
	uint8_t buf[32];
	assert_int_equal(net_build_arp_request(buf, sizeof(buf), mac_a, IP4(10, 0, 0, 1),
					       IP4(10, 0, 0, 9)),
			 28);
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(net_build_arp_request(buf, 27, mac_a, 1, 2), -ENOSPC);
}

struct arp_case {
	const char *name;
	uint8_t data[48];
	size_t len;
	int want;
};

#define ARP_REPLY_FROM_10_0_0_9                                                                    \
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef, 0x0a, \
		0x00, 0x00, 0x09, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x01

static const struct arp_case arp_cases[] = {
	{"reply_gives_sender", {ARP_REPLY_FROM_10_0_0_9}, 28, 1},
	{"reply_with_ethernet_padding", {ARP_REPLY_FROM_10_0_0_9, 0, 0, 0, 0, 0, 0}, 34, 1},
	{"request_is_not_a_reply",
	 {0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x0a,
	  0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x09},
	 28, 0},
	{"non_ethernet_hardware_ignored",
	 {0x00, 0x06, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  0, 0, 0, 0, 0, 0, 0},
	 28, 0},
	{"non_ipv4_protocol_ignored",
	 {0x00, 0x01, 0x86, 0xdd, 0x06, 0x04, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  0, 0, 0, 0, 0, 0, 0},
	 28, 0},
	{"odd_address_lengths_ignored",
	 {0x00, 0x01, 0x08, 0x00, 0x08, 0x04, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  0, 0, 0, 0, 0, 0, 0},
	 28, 0},
	{"truncated_reply_rejected", {ARP_REPLY_FROM_10_0_0_9}, 27, -EBADMSG},
	{"truncated_header_rejected", {0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00}, 7, -EBADMSG},
	{"empty_rejected", {0}, 0, -EBADMSG},
};

static void test_parse_arp_reply_table(void **state)
{
	(void)state;
	static const uint8_t sender_mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
	for (size_t i = 0; i < sizeof(arp_cases) / sizeof(arp_cases[0]); i++) {
		const struct arp_case *c = &arp_cases[i];
		uint32_t ip = 0;
		uint8_t mac[6] = {0};
		int r = net_parse_arp_reply(c->data, c->len, &ip, mac);
		if (r != c->want)
			fail_msg("%s: returned %d want %d", c->name, r, c->want);
		if (r == 1 && (ip != IP4(10, 0, 0, 9) || memcmp(mac, sender_mac, 6) != 0))
			fail_msg("%s: wrong sender", c->name);
	}
}

/* ---------------------------------------------------------------- argument checks */

static void test_iface_and_socket_argument_errors(void **state)
{
	(void)state;
	struct net_iface ifc;
	assert_int_equal(net_iface_get("", &ifc), -EINVAL);
	assert_int_equal(net_iface_get("a-name-way-too-long", &ifc), -EINVAL);
	assert_int_equal(net_iface_get("pxnosuch0", &ifc), -ENODEV);
	assert_int_equal(net_udp4_bind(0, 0, "a-name-way-too-long"), -EINVAL);
	assert_int_equal(net_udp4_bind(0, 0, ""), -EINVAL);
	static const uint8_t mac[6];
	assert_int_equal(net_raw_send_udp4(-1, 1, mac, 1, 1, 2, 2, "x", 1), -EINVAL);
	assert_int_equal(net_raw_send_udp4(3, 0, mac, 1, 1, 2, 2, "x", 1), -EINVAL);
	assert_int_equal(net_probe_arp_open(0), -EINVAL);
}

static void test_user_ids_resolves_root_and_rejects_unknown(void **state)
{
	(void)state;
	uid_t u = 1;
	gid_t g = 1;
	assert_int_equal(net_user_ids("root", &u, &g), 0);
	assert_int_equal(u, 0);
	assert_int_equal(g, 0);
	assert_int_equal(net_user_ids("pixied-no-such-user", &u, &g), -ENOENT);
	assert_int_equal(net_user_ids("", &u, &g), -EINVAL);
}

/* ---------------------------------------------------------------- root-only harness */

static void need_root(void)
{
	root_child_need_root("net");
}

static void run_child(int (*fn)(void *), void *arg)
{
	root_child_run(fn, arg, "cannot create network namespaces or run ip(8) here");
}

#define link_up root_child_link_up
#define fresh_netns root_child_fresh_netns

static int wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0 && (p.revents & POLLIN);
}

static int queued_bytes(int fd)
{
	int q = -1;
	return ioctl(fd, SIOCINQ, &q) < 0 ? -errno : q;
}

/* ---------------------------------------------------------------- loopback pktinfo */

static int child_udp4_pktinfo_on_lo(void *arg)
{
	(void)arg;
	int r = fresh_netns();
	if (r != CHILD_OK)
		return r;

	struct net_iface lo;
	CHECK_EQ(net_iface_get("lo", &lo), 0);
	CHECK_EQ(lo.ifindex, (int)if_nametoindex("lo"));
	CHECK_EQ(lo.addr, IP4(127, 0, 0, 1));
	CHECK_EQ(lo.mask, IP4(255, 0, 0, 0));
	CHECK(lo.mtu >= 1500);
	static const uint8_t zero[6];
	CHECK(memcmp(lo.mac, zero, 6) == 0);

	/* Bound to 127.0.0.1 on lo: sending to ourselves reports lo and 127.0.0.1. */
	int fd = net_udp4_bind(IP4(127, 0, 0, 1), 6767, "lo");
	CHECK(fd >= 0);
	CHECK_EQ(net_udp4_send(fd, "ping", 4, IP4(127, 0, 0, 1), 6767, IP4(127, 0, 0, 1),
			       lo.ifindex),
		 0);
	CHECK(wait_readable(fd, 2000));
	char buf[16];
	struct net_rx_info info;
	CHECK_EQ(net_udp4_recv(fd, buf, sizeof(buf), &info), 4);
	CHECK(memcmp(buf, "ping", 4) == 0);
	CHECK_EQ(info.ifindex, lo.ifindex);
	CHECK_EQ(info.dst_addr, IP4(127, 0, 0, 1));
	CHECK_EQ(info.src_addr, IP4(127, 0, 0, 1));
	CHECK_EQ(info.src_port, 6767);
	CHECK_EQ(net_udp4_recv(fd, buf, sizeof(buf), &info), -EAGAIN);

	/* Bound to any: the destination (127.0.0.2), not the bound address, is reported, and
	 * the source we asked for (127.0.0.3) is the one used. */
	int any = net_udp4_bind(0, 6868, NULL);
	CHECK(any >= 0);
	CHECK_EQ(net_udp4_send(fd, "hi", 2, IP4(127, 0, 0, 2), 6868, 0, 0), 0);
	CHECK(wait_readable(any, 2000));
	CHECK_EQ(net_udp4_recv(any, buf, sizeof(buf), &info), 2);
	CHECK_EQ(info.dst_addr, IP4(127, 0, 0, 2));
	CHECK_EQ(info.ifindex, lo.ifindex);
	CHECK_EQ(net_udp4_send(any, "yo", 2, IP4(127, 0, 0, 2), 6868, IP4(127, 0, 0, 3), 0), 0);
	CHECK(wait_readable(any, 2000));
	CHECK_EQ(net_udp4_recv(any, buf, sizeof(buf), &info), 2);
	CHECK_EQ(info.src_addr, IP4(127, 0, 0, 3));

	/* A datagram larger than the buffer is consumed and reported, not silently cut. */
	CHECK_EQ(net_udp4_send(fd, "0123456789abcdefXYZ", 19, IP4(127, 0, 0, 2), 6868, 0, 0), 0);
	CHECK(wait_readable(any, 2000));
	CHECK_EQ(net_udp4_recv(any, buf, sizeof(buf), &info), -EMSGSIZE);
	CHECK_EQ(net_udp4_recv(any, buf, sizeof(buf), &info), -EAGAIN);
	close(any);
	close(fd);
	return CHILD_OK;
}

static void test_udp4_pktinfo_reports_lo_and_destination_in_fresh_netns(void **state)
{
	(void)state;
	need_root();
	run_child(child_udp4_pktinfo_on_lo, NULL);
}

/* ---------------------------------------------------------------- veth pair */

/*
 * Two anonymous namespaces, A (where the child stays) and B, joined by veth pxa0 (A,
 * 10.99.0.1/24 and 10.99.0.5/24) <-> pxb0 (B, 10.99.0.2/24). They disappear with the child,
 * whatever way it exits: nothing named is left behind on the host.
 */
struct veth {
	int ns_a, ns_b;
	struct net_iface a, b;
};

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "command failed (%d): %s\n", st, cmd);
		return WIFEXITED(st) && WEXITSTATUS(st) == 127 ? CHILD_SKIP : CHILD_FAIL;
	}
	return CHILD_OK;
}

static int enter(int nsfd)
{
	return setns(nsfd, CLONE_NEWNET) < 0 ? CHILD_FAIL : CHILD_OK;
}

/*
 * A freshly up veth drops frames until the kernel's link watcher has attached its qdisc
 * (asynchronously, up to a second later): bounce datagrams A -> B -> A until both arrive.
 */
static int veth_wait_ready(struct veth *v)
{
	int r = CHILD_FAIL;
	CHECK_EQ(enter(v->ns_b), CHILD_OK);
	int bs = net_udp4_bind(IP4(10, 99, 0, 2), 7001, NULL);
	CHECK_EQ(enter(v->ns_a), CHILD_OK);
	int as = net_udp4_bind(IP4(10, 99, 0, 1), 7001, NULL);
	CHECK(as >= 0 && bs >= 0);
	for (int i = 0; i < 100 && r != CHILD_OK; i++) {
		char b[8];
		(void)net_udp4_send(as, "ping", 4, IP4(10, 99, 0, 2), 7001, 0, 0);
		if (!wait_readable(bs, 50) || net_udp4_recv(bs, b, sizeof(b), NULL) != 4)
			continue;
		(void)net_udp4_send(bs, "pong", 4, IP4(10, 99, 0, 1), 7001, 0, 0);
		if (wait_readable(as, 50) && net_udp4_recv(as, b, sizeof(b), NULL) == 4)
			r = CHILD_OK;
	}
	close(as);
	close(bs);
	if (r != CHILD_OK)
		fprintf(stderr, "veth pair never passed traffic\n");
	return r;
}

static int veth_setup(struct veth *v)
{
	int r;
	if ((r = fresh_netns()) != CHILD_OK)
		return r;
	v->ns_a = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	CHECK(v->ns_a >= 0);
	if ((r = fresh_netns()) != CHILD_OK)
		return r;
	v->ns_b = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	CHECK(v->ns_b >= 0);
	CHECK_EQ(enter(v->ns_a), CHILD_OK);

	if ((r = sh("ip link add name pxa0 type veth peer name pxb0 netns /proc/%d/fd/%d",
		    (int)getpid(), v->ns_b)) != CHILD_OK ||
	    (r = sh("ip addr add 10.99.0.1/24 dev pxa0 && ip addr add 10.99.0.5/24 dev pxa0 && "
		    "ip link set pxa0 up")) != CHILD_OK)
		return r;
	CHECK_EQ(enter(v->ns_b), CHILD_OK);
	if ((r = sh("ip addr add 10.99.0.2/24 dev pxb0 && ip link set pxb0 up")) != CHILD_OK)
		return r;
	CHECK_EQ(net_iface_get("pxb0", &v->b), 0);
	CHECK_EQ(enter(v->ns_a), CHILD_OK);
	CHECK_EQ(net_iface_get("pxa0", &v->a), 0);

	static const uint8_t zero[6];
	CHECK_EQ(v->a.addr, IP4(10, 99, 0, 1));
	CHECK_EQ(v->a.mask, IP4(255, 255, 255, 0));
	CHECK_EQ(v->a.mtu, 1500);
	CHECK(memcmp(v->a.mac, zero, 6) != 0);
	CHECK(memcmp(v->a.mac, v->b.mac, 6) != 0);
	CHECK_EQ(v->b.addr, IP4(10, 99, 0, 2));
	return veth_wait_ready(v);
}

static int child_raw_send(void *arg)
{
	(void)arg;
	struct veth v;
	int r = veth_setup(&v);
	if (r != CHILD_OK)
		return r;

	/* The "client" side: a UDP socket on port 68 in B. */
	CHECK_EQ(enter(v.ns_b), CHILD_OK);
	int lst = net_udp4_bind(0, 68, NULL);
	CHECK(lst >= 0);
	CHECK_EQ(enter(v.ns_a), CHILD_OK);
	int raw = net_raw_open();
	CHECK(raw >= 0);

	static uint8_t payload[1472];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 5);
	static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static uint8_t buf[2048];
	struct net_rx_info info;

	/* Unicast to the peer's MAC and address, odd length; then broadcast; then MTU-sized. */
	struct {
		const uint8_t *mac;
		uint32_t dst;
		size_t len;
	} sends[] = {
		{v.b.mac, IP4(10, 99, 0, 2), 333},
		{bcast_mac, IP4(255, 255, 255, 255), 300},
		{v.b.mac, IP4(10, 99, 0, 2), 1472},
		{v.b.mac, IP4(10, 99, 0, 2), 0},
	};
	for (size_t i = 0; i < sizeof(sends) / sizeof(sends[0]); i++) {
		CHECK_EQ(net_raw_send_udp4(raw, v.a.ifindex, sends[i].mac, IP4(10, 99, 0, 1), 67,
					   sends[i].dst, 68, payload, sends[i].len),
			 0);
		CHECK(wait_readable(lst, 2000));
		CHECK_EQ(net_udp4_recv(lst, buf, sizeof(buf), &info), (ssize_t)sends[i].len);
		CHECK(memcmp(buf, payload, sends[i].len) == 0);
		CHECK_EQ(info.src_addr, IP4(10, 99, 0, 1));
		CHECK_EQ(info.src_port, 67);
		CHECK_EQ(info.dst_addr, sends[i].dst);
		CHECK_EQ(info.ifindex, v.b.ifindex);
	}
	/* One byte over the MTU is refused by the kernel. */
	CHECK_EQ(net_raw_send_udp4(raw, v.a.ifindex, v.b.mac, IP4(10, 99, 0, 1), 67,
				   IP4(10, 99, 0, 2), 68, buf, 1473),
		 -EMSGSIZE);

	/* Traffic into A (B -> A, both directions of ARP) never lands in the raw socket. */
	CHECK_EQ(enter(v.ns_b), CHILD_OK);
	int bsock = net_udp4_bind(0, 0, NULL);
	CHECK(bsock >= 0);
	CHECK_EQ(enter(v.ns_a), CHILD_OK);
	int asock = net_udp4_bind(0, 9999, NULL);
	CHECK(asock >= 0);
	CHECK_EQ(net_udp4_send(bsock, "to-a", 4, IP4(10, 99, 0, 1), 9999, 0, 0), 0);
	CHECK(wait_readable(asock, 2000));
	CHECK_EQ(net_udp4_recv(asock, buf, sizeof(buf), &info), 4);
	CHECK_EQ(queued_bytes(raw), 0);
	CHECK(recv(raw, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN);
	CHECK(!wait_readable(raw, 50));

	/* IP_PKTINFO ifindex steers a limited broadcast out of pxa0 with our source. */
	int srv = net_udp4_bind(0, 67, NULL);
	CHECK(srv >= 0);
	CHECK_EQ(net_udp4_send(srv, "offer", 5, IP4(255, 255, 255, 255), 68, IP4(10, 99, 0, 5),
			       v.a.ifindex),
		 0);
	CHECK(wait_readable(lst, 2000));
	CHECK_EQ(net_udp4_recv(lst, buf, sizeof(buf), &info), 5);
	CHECK_EQ(info.src_addr, IP4(10, 99, 0, 5));
	CHECK_EQ(info.src_port, 67);
	CHECK_EQ(info.dst_addr, IP4(255, 255, 255, 255));
	CHECK_EQ(info.ifindex, v.b.ifindex);

	close(srv);
	close(asock);
	close(bsock);
	close(raw);
	close(lst);
	return CHILD_OK;
}

static void test_raw_send_udp4_reaches_peer_and_raw_socket_never_queues(void **state)
{
	(void)state;
	need_root();
	run_child(child_raw_send, NULL);
}

static int child_probes(void *arg)
{
	(void)arg;
	struct veth v;
	int r = veth_setup(&v);
	if (r != CHILD_OK)
		return r;
	uint32_t from = 0;

	/* ICMP: the peer answers; a free address does not. */
	int icmp = net_probe_icmp_open();
	CHECK(icmp >= 0);
	CHECK_EQ(net_probe_icmp_recv(icmp, &from), 0);
	CHECK_EQ(net_probe_icmp_send(icmp, IP4(10, 99, 0, 2), 0x5158, 1), 0);
	CHECK(wait_readable(icmp, 2000));
	CHECK_EQ(net_probe_icmp_recv(icmp, &from), 1);
	CHECK_EQ(from, IP4(10, 99, 0, 2));
	CHECK_EQ(net_probe_icmp_send(icmp, IP4(10, 99, 0, 3), 0x5158, 2), 0);
	CHECK(!wait_readable(icmp, 300));
	CHECK_EQ(net_probe_icmp_recv(icmp, &from), 0);
	close(icmp);

	/* ARP: who-has 10.99.0.2 is answered by pxb0; who-has 10.99.0.3 is not. */
	int arp = net_probe_arp_open(v.a.ifindex);
	CHECK(arp >= 0);
	CHECK_EQ(net_probe_arp_recv(arp, &from), 0);
	CHECK_EQ(net_probe_arp_send(arp, v.a.ifindex, v.a.mac, v.a.addr, IP4(10, 99, 0, 2)), 0);
	CHECK(wait_readable(arp, 2000));
	from = 0;
	CHECK_EQ(net_probe_arp_recv(arp, &from), 1);
	CHECK_EQ(from, IP4(10, 99, 0, 2));
	CHECK_EQ(net_probe_arp_send(arp, v.a.ifindex, v.a.mac, v.a.addr, IP4(10, 99, 0, 3)), 0);
	CHECK(!wait_readable(arp, 300));
	CHECK_EQ(net_probe_arp_recv(arp, &from), 0);

	/* B asks who-has 10.99.0.5 (a broadcast request into A) and A's kernel replies: neither
	 * the request nor our own outgoing reply is queued on the probe socket. */
	CHECK_EQ(enter(v.ns_b), CHILD_OK);
	int bsock = net_udp4_bind(0, 0, NULL);
	CHECK(bsock >= 0);
	CHECK_EQ(enter(v.ns_a), CHILD_OK);
	int asock = net_udp4_bind(IP4(10, 99, 0, 5), 9999, NULL);
	CHECK(asock >= 0);
	CHECK_EQ(net_udp4_send(bsock, "x", 1, IP4(10, 99, 0, 5), 9999, 0, 0), 0);
	CHECK(wait_readable(asock, 2000));
	CHECK_EQ(queued_bytes(arp), 0);
	CHECK_EQ(net_probe_arp_recv(arp, &from), 0);

	close(asock);
	close(bsock);
	close(arp);
	return CHILD_OK;
}

static void test_icmp_and_arp_probes_see_only_replies_from_peer(void **state)
{
	(void)state;
	need_root();
	run_child(child_probes, NULL);
}

/* Without CAP_NET_RAW the ICMP probe falls back to a ping socket (no IP header on read). */
static int child_icmp_ping_socket(void *arg)
{
	(void)arg;
	int r = fresh_netns();
	if (r != CHILD_OK)
		return r;
	/* Per-namespace sysctl: lets every group open ping sockets, in this namespace only. */
	FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "we");
	CHECK(f != NULL);
	CHECK(fputs("0 2147483647\n", f) >= 0);
	CHECK_EQ(fclose(f), 0);

	char err[256] = "";
	CHECK_EQ(net_drop_privileges("nobody", NULL, 0, err, sizeof(err)), 0);
	int fd = net_probe_icmp_open();
	CHECK(fd >= 0);
	int type = 0;
	socklen_t tl = sizeof(type);
	CHECK_EQ(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl), 0);
	CHECK_EQ(type, SOCK_DGRAM);
	uint32_t from = 0;
	CHECK_EQ(net_probe_icmp_send(fd, IP4(127, 0, 0, 1), 0x5158, 9), 0);
	CHECK(wait_readable(fd, 2000));
	CHECK_EQ(net_probe_icmp_recv(fd, &from), 1);
	CHECK_EQ(from, IP4(127, 0, 0, 1));
	CHECK_EQ(net_probe_icmp_recv(fd, &from), 0);
	close(fd);
	return CHILD_OK;
}

static void test_icmp_probe_falls_back_to_ping_socket_without_cap_net_raw(void **state)
{
	(void)state;
	need_root();
	run_child(child_icmp_ping_socket, NULL);
}

/* ---------------------------------------------------------------- privilege drop */

struct status {
	uint64_t inh, prm, eff, bnd, amb;
	long uid[4], gid[4];
	int ngroups;
	int nnp;
};

static int read_status(struct status *s)
{
	char line[512];
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -errno;
	memset(s, 0, sizeof(*s));
	s->nnp = -1;
	s->ngroups = -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "CapInh: %llx", &v) == 1)
			s->inh = v;
		else if (sscanf(line, "CapPrm: %llx", &v) == 1)
			s->prm = v;
		else if (sscanf(line, "CapEff: %llx", &v) == 1)
			s->eff = v;
		else if (sscanf(line, "CapBnd: %llx", &v) == 1)
			s->bnd = v;
		else if (sscanf(line, "CapAmb: %llx", &v) == 1)
			s->amb = v;
		else if (sscanf(line, "NoNewPrivs: %d", &s->nnp) == 1)
			continue;
		else if (strncmp(line, "Uid:", 4) == 0)
			sscanf(line + 4, "%ld %ld %ld %ld", &s->uid[0], &s->uid[1], &s->uid[2],
			       &s->uid[3]);
		else if (strncmp(line, "Gid:", 4) == 0)
			sscanf(line + 4, "%ld %ld %ld %ld", &s->gid[0], &s->gid[1], &s->gid[2],
			       &s->gid[3]);
		else if (strncmp(line, "Groups:", 7) == 0) {
			s->ngroups = 0;
			for (char *t = strtok(line + 7, " \t\n"); t; t = strtok(NULL, " \t\n"))
				s->ngroups++;
		}
	}
	fclose(f);
	return 0;
}

struct drop_case {
	const char *name;
	int caps[3];
	size_t ncaps;
};

static const struct drop_case drop_cases[] = {
	{"raw_and_bind_service_kept", {CAP_NET_RAW, CAP_NET_BIND_SERVICE}, 2},
	{"bind_service_only_kept", {CAP_NET_BIND_SERVICE}, 1},
	{"nothing_kept", {0}, 0},
};

static int child_drop(void *arg)
{
	const struct drop_case *c = arg;
	int r = fresh_netns(); /* the bind/raw checks below stay in a namespace of our own */
	if (r != CHILD_OK)
		return r;

	uid_t nobody_uid;
	gid_t nobody_gid;
	CHECK_EQ(net_user_ids("nobody", &nobody_uid, &nobody_gid), 0);
	CHECK(nobody_uid != 0);

	/* Start with supplementary groups (root's included) so clearing them is visible. */
	static const gid_t extra[] = {0, 4};
	CHECK_EQ(setgroups(2, extra), 0);

	char err[256] = "";
	r = net_drop_privileges("nobody", c->caps, c->ncaps, err, sizeof(err));
	if (r != 0)
		fprintf(stderr, "%s: net_drop_privileges: %d %s\n", c->name, r, err);
	CHECK_EQ(r, 0);

	uint64_t want = 0;
	for (size_t i = 0; i < c->ncaps; i++)
		want |= 1ull << c->caps[i];
	struct status s;
	CHECK_EQ(read_status(&s), 0);
	CHECK_EQ(s.eff, want);
	CHECK_EQ(s.prm, want);
	CHECK_EQ(s.bnd, want);
	CHECK_EQ(s.inh, 0);
	CHECK_EQ(s.amb, 0);
	CHECK_EQ(s.nnp, 1);
	CHECK_EQ(s.ngroups, 0);
	for (int i = 0; i < 4; i++) {
		CHECK(s.uid[i] != 0);
		CHECK_EQ(s.uid[i], nobody_uid);
		CHECK_EQ(s.gid[i], nobody_gid);
	}
	CHECK(setuid(0) < 0);
	CHECK(setgid(0) < 0);

	/* The capabilities kept actually work; the ones dropped are gone. */
	bool raw_kept = want & (1ull << CAP_NET_RAW);
	bool bind_kept = want & (1ull << CAP_NET_BIND_SERVICE);
	int fd = net_udp4_bind(IP4(127, 0, 0, 1), 67, NULL);
	CHECK(bind_kept ? fd >= 0 : fd == -EACCES);
	if (fd >= 0)
		close(fd);
	fd = net_raw_open();
	CHECK(raw_kept ? fd >= 0 : fd == -EPERM);
	if (fd >= 0)
		close(fd);

	/* Not root any more: a second call has nothing to do. */
	CHECK_EQ(net_drop_privileges("nobody", c->caps, c->ncaps, err, sizeof(err)), 0);
	return CHILD_OK;
}

static void test_drop_privileges_keeps_exactly_the_listed_caps(void **state)
{
	(void)state;
	need_root();
	for (size_t i = 0; i < sizeof(drop_cases) / sizeof(drop_cases[0]); i++) {
		print_message("  case %s\n", drop_cases[i].name);
		run_child(child_drop, (void *)(uintptr_t)&drop_cases[i]);
	}
}

static int child_drop_errors(void *arg)
{
	(void)arg;
	char err[256] = "";
	static const int caps[] = {CAP_NET_RAW};
	struct status before, after;

	CHECK_EQ(read_status(&before), 0);
	CHECK_EQ(net_drop_privileges("pixied-no-such-user", caps, 1, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "user 'pixied-no-such-user' does not exist") != NULL);
	CHECK(strstr(err, "useradd --system --no-create-home pixied-no-such-user") != NULL);
	CHECK(strstr(err, "[server] user") != NULL);

	static const int bad[] = {CAP_NET_RAW, 999};
	CHECK_EQ(net_drop_privileges("nobody", bad, 2, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "999") != NULL);

	CHECK_EQ(net_drop_privileges("root", caps, 1, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "uid 0") != NULL);

	/* A refused drop changed nothing. */
	CHECK_EQ(read_status(&after), 0);
	CHECK_EQ(after.eff, before.eff);
	CHECK_EQ(after.bnd, before.bnd);
	CHECK_EQ(geteuid(), 0);
	return CHILD_OK;
}

static void test_drop_privileges_refuses_unknown_user_bad_cap_and_root(void **state)
{
	(void)state;
	need_root();
	run_child(child_drop_errors, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csum_matches_reference_vectors),
		cmocka_unit_test(test_csum_partial_chains_even_pieces),
		cmocka_unit_test(test_build_udp4_matches_reference_and_checks_room),
		cmocka_unit_test(test_build_udp4_checksums_verify_for_every_length),
		cmocka_unit_test(test_build_udp4_zero_checksum_is_sent_as_all_ones),
		cmocka_unit_test(test_build_udp4_oversized_payload_is_emsgsize),
		cmocka_unit_test(test_build_icmp_echo_matches_reference),
		cmocka_unit_test(test_parse_icmp_echo_reply_table),
		cmocka_unit_test(test_build_arp_request_matches_reference),
		cmocka_unit_test(test_parse_arp_reply_table),
		cmocka_unit_test(test_iface_and_socket_argument_errors),
		cmocka_unit_test(test_user_ids_resolves_root_and_rejects_unknown),
		cmocka_unit_test(test_udp4_pktinfo_reports_lo_and_destination_in_fresh_netns),
		cmocka_unit_test(test_raw_send_udp4_reaches_peer_and_raw_socket_never_queues),
		cmocka_unit_test(test_icmp_and_arp_probes_see_only_replies_from_peer),
		cmocka_unit_test(test_icmp_probe_falls_back_to_ping_socket_without_cap_net_raw),
		cmocka_unit_test(test_drop_privileges_keeps_exactly_the_listed_caps),
		cmocka_unit_test(test_drop_privileges_refuses_unknown_user_bad_cap_and_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
