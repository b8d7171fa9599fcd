/*
 * net/listen — which listening sockets a service opens, and opening a whole set of them
 * with all-or-nothing unwinding. Shared by tftp/ (UDP) and http/ (TCP, [http] and [api]).
 *
 * Owns: the decision "one IPv4 socket per configured address; else per interface
 * (SO_BINDTODEVICE) IPv4 required + IPv6 optional; else wildcard IPv4 + optional IPv6", and
 * the loop that opens a set, skips an optional socket that fails (one log line) and closes
 * what it opened when a required one fails.
 * Does not own: making a socket (socket options, bind, listen, the loop registration): the
 * caller's open callback does that and keeps whatever object it likes.
 */
#ifndef PIXIED_NET_NET_LISTEN_H
#define PIXIED_NET_NET_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "net/net.h"

/* One socket to open. */
struct net_listen_spec {
	int family;                /* AF_INET or AF_INET6 */
	uint32_t addr4;            /* AF_INET: host order, 0 = any; AF_INET6: always ::, 0 */
	char ifname[NET_IFNAMSIZ]; /* SO_BINDTODEVICE to this interface; "" = none */
	bool optional;             /* failing is logged and skipped (IPv6) */
};

/*
 * The set for addrs (naddrs > 0: one IPv4 socket per address, no interface), else for the
 * interfaces ifs (per interface: IPv4 required, IPv6 optional), else the wildcards (IPv4
 * required, IPv6 optional). At most cap specs are written (an interface's pair is written
 * whole or not at all); returns how many. Pure.
 */
size_t net_listen_plan(const uint32_t *addrs, size_t naddrs, const struct net_iface *ifs,
		       size_t nifs, struct net_listen_spec *out, size_t cap);

/* Open one socket for sp: the caller's object, or NULL with a message in err (errno set). */
typedef void *(*net_listen_open_fn)(void *arg, const struct net_listen_spec *sp, char *err,
				    size_t errlen);
/* Close what net_listen_open_fn returned. */
typedef void (*net_listen_close_fn)(void *arg, void *obj);

/*
 * Open every spec in order into out[] (*nout of them; room for n). An optional spec that
 * fails is skipped with one line at opt_lvl from module mod ("no IPv6 on IF: why" or
 * "no IPv6: why"). A required one that fails closes everything opened so far (newest
 * first) and returns -EADDRNOTAVAIL with the open callback's message in err; *nout is 0.
 */
int net_listen_open(const struct net_listen_spec *specs, size_t n, net_listen_open_fn open_fn,
		    net_listen_close_fn close_fn, void *arg, void **out, size_t *nout,
		    const char *mod, enum log_level opt_lvl, char *err, size_t errlen);

#endif
