/*
 * dhcp — the DHCP service as the daemon runs it: sockets on port 67 (and 4011 in proxy
 * mode) on each configured interface, the per-turn lease commit, sending replies the way
 * the engine decided (UDP, broadcast, raw frame to a MAC), and the optional conflict probe.
 *
 * Decisions are made by the pure engine (dhcp_server.h, dhcp_pxe.h, dhcp_wire.h); this file
 * only moves bytes. Leases are committed before the replies that depend on them: a reply
 * that needs a lease write (an ACK that binds) is queued, the turn's lease writes are
 * committed in one SQLite transaction at the end of the turn, and only then are those
 * replies sent. A failed commit sends none of the replies that needed it. Replies that
 * need nothing durable (OFFER, NAK, INFORM's ACK, proxy replies) are sent at once.
 * Each socket asks for a 4 MiB receive buffer (SO_RCVBUFFORCE while still root, else
 * SO_RCVBUF up to net.core.rmem_max) so a slow commit does not overflow it.
 */
#ifndef PIXIED_DHCP_DHCP_H
#define PIXIED_DHCP_DHCP_H

#include <stddef.h>

#include "conf/conf.h"
#include "core/loop.h"
#include "net/net.h"
#include "store/store.h"

struct dhcp_service;

/* Bind sockets (before privileges are dropped), restore leases from the store. NULL with
 * err on failure. A mode = off config yields a service that owns no sockets. */
struct dhcp_service *dhcp_service_new(struct loop *l, const struct conf *c, struct store *st,
				      const struct net_iface *ifs, size_t nifs, char *err,
				      size_t errlen);
void dhcp_service_free(struct dhcp_service *s);

/* SIGHUP: apply a new config (same interfaces and mode; changing those needs a restart). */
int dhcp_service_reconfigure(struct dhcp_service *s, const struct conf *c, char *err,
			     size_t errlen);

/* Report every request and its decision to clients/ (clients_on_dhcp); NULL = stop. */
struct clients;
void dhcp_service_set_clients(struct dhcp_service *s, struct clients *c);

/*
 * Release the lease on ip now (API "release lease"): the address goes back to the pool and
 * the change is committed to the store before this returns. 0, -ENOENT (no lease on ip),
 * -ENODEV (mode is not full) or a store error, with a message in err.
 */
int dhcp_service_release(struct dhcp_service *s, uint32_t ip, char *err, size_t errlen);

/*
 * Commit the loop turn's open lease transaction now, if there is one: writes that others
 * made into it (the API's next boot, pins, client records) become durable before they
 * answer. 0, or a negative errno (the turn is then failed: its queued ACKs are not sent).
 */
int dhcp_service_commit(struct dhcp_service *s);

/* The engine (NULL when [dhcp] mode = off): its stats and pools for metrics and the API. */
const struct dhcp_server *dhcp_service_server(const struct dhcp_service *s);

#endif
