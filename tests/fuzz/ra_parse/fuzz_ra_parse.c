/*
 * fuzz_ra_parse — libFuzzer target for ra/wire.
 *
 * The input is an ICMPv6 message (from its type byte). It is parsed as a Router Solicitation
 * (hop limit 255, from an address and from the unspecified address) and as a Router
 * Advertisement. A valid RS is answered as the daemon does (the "no router" RA with the
 * solicitor's link-layer address standing in for ours), and that RA must parse back with
 * lifetime 0, no prefix, M = O = 0. A valid RA is rebuilt from its parsed fields and must
 * parse back to the same fields. Any violation calls abort().
 *
 * Does not fuzz the socket half (ra.c). Seeds: tests/fuzz/ra_parse/corpus/ (iPXE's RS with
 * and without a source link-layer option, pixied's RA, a router's RA with a prefix).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ra/ra.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
	do {                                                                                       \
		if (!(x))                                                                          \
			abort();                                                                   \
	} while (0)

static void answer(const struct ra_rs *rs)
{
	static const uint8_t zero[6];
	struct ra_advert a, b;
	ra_no_router(&a, rs->has_slla ? rs->slla : zero);
	uint8_t buf[RA_MAX_LEN];
	int n = ra_build_ra(buf, sizeof(buf), &a);
	CHECK(n == 24);
	CHECK(ra_parse_ra(buf, (size_t)n, &b) == 0);
	CHECK(b.router_lifetime == 0 && !b.managed && !b.other && b.nprefixes == 0);
	CHECK(b.has_slla && !memcmp(b.slla, a.slla, 6));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ra_rs rs;
	for (int unspec = 0; unspec < 2; unspec++) {
		int r = ra_parse_rs(data, size, 255, unspec, &rs);
		CHECK(r == 0 || r == -EBADMSG || r == -ENOMSG);
		if (r == 0) {
			CHECK(size >= 8 && data[0] == 133 && data[1] == 0);
			CHECK(!(unspec && rs.has_slla));
			answer(&rs);
		}
		CHECK(ra_parse_rs(data, size, 254, unspec, &rs) != 0);
	}
	struct ra_advert a, b;
	int r = ra_parse_ra(data, size, &a);
	CHECK(r == 0 || r == -EBADMSG || r == -ENOMSG);
	if (r == 0) {
		CHECK(size >= 16);
		uint8_t buf[RA_MAX_LEN];
		int n = ra_build_ra(buf, sizeof(buf), &a);
		CHECK(n == (a.has_slla ? 24 : 16));
		CHECK(ra_parse_ra(buf, (size_t)n, &b) == 0);
		CHECK(b.cur_hop_limit == a.cur_hop_limit && b.managed == a.managed &&
		      b.other == a.other && b.router_lifetime == a.router_lifetime &&
		      b.reachable_ms == a.reachable_ms && b.retrans_ms == a.retrans_ms &&
		      b.has_slla == a.has_slla);
		CHECK(!a.has_slla || !memcmp(a.slla, b.slla, 6));
	}
	return 0;
}
