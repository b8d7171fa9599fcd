/*
 * tftp — the TFTP server: listening sockets, one port per transfer (its TID, RFC 1350 §4:
 * a socket connected to the client's TID plus an unconnected catcher on the same port that
 * answers other sources with ERROR 5), timers on the shared loop, limits on concurrent
 * transfers, a shared cache of file chunks (tftp_cache), sending windows with sendmmsg /
 * UDP GSO, logging and events.
 *
 * Protocol decisions are made by the pure parts: tftp_wire (parse, build, negotiate) and
 * tftp_xfer (one transfer's state machine). Files come from files/. This file owns the
 * sockets and the bookkeeping only.
 *
 * Serves read requests (octet, netascii) over IPv4 and IPv6. Write requests are refused
 * with ERROR 2 unless [tftp] write-dir is set; then tftp_rx receives them into that
 * directory only (files_upload_*: never replacing a file).
 */
#ifndef PIXIED_TFTP_TFTP_H
#define PIXIED_TFTP_TFTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct files;
struct loop;
struct net_iface;
struct tftp_server;

/*
 * Bind the listening sockets (call before privileges are dropped: port 69 and
 * SO_BINDTODEVICE need them). With [tftp] address set, one IPv4 socket per address;
 * otherwise one IPv4 and one IPv6 socket per interface in ifs (bound to the device, so
 * every address of it is served); with no interfaces at all, the wildcard addresses.
 * Returns NULL with a message in err.
 */
struct tftp_server *tftp_server_new(struct loop *l, const struct conf *c, struct files *f,
				    const struct net_iface *ifs, size_t nifs, char *err,
				    size_t errlen);
/* Ends every transfer (ERROR 0 to its client) and closes all sockets. */
void tftp_server_free(struct tftp_server *t);

/*
 * Apply a new config: limits, timeouts and window apply to new transfers at once. When the
 * listening set changes (enabled, address, port, single-port) new sockets are bound first
 * and swapped in only if all succeed; after privileges were dropped that needs
 * CAP_NET_BIND_SERVICE for port 69. Returns 0 or a negative errno with a message in err.
 */
int tftp_server_reconfigure(struct tftp_server *t, const struct conf *c, char *err,
			    size_t errlen);

enum tftp_event_kind {
	TFTP_EVENT_START,   /* a transfer began */
	TFTP_EVENT_END,     /* a transfer ended (ok or not) */
	TFTP_EVENT_REFUSED, /* a request was answered with an ERROR and no transfer began */
};

/* Per-client records (clients/ issue): what happened, for whom. */
struct tftp_event {
	enum tftp_event_kind kind;
	bool is_v6;
	uint32_t addr4;       /* host order */
	uint8_t addr6[16];
	uint16_t port;
	const char *file;     /* as requested: raw bytes, escape before showing */
	bool write;           /* a WRQ */
	uint64_t size;        /* file size (START, END) */
	uint64_t bytes;       /* bytes acknowledged (END) */
	uint64_t duration_ms; /* END */
	uint16_t blksize, windowsize;
	bool ok;              /* END: the whole file went through */
	const char *reason;   /* END/REFUSED: "ok", "timeout", "client-error", "not-found", ... */
	uint16_t error_code;  /* the ERROR code sent (REFUSED) or received (END) */
};
typedef void (*tftp_event_fn)(void *arg, const struct tftp_event *ev);
void tftp_server_set_event_fn(struct tftp_server *t, tftp_event_fn fn, void *arg);

struct tftp_stats {
	uint64_t requests;     /* datagrams on the listening sockets */
	uint64_t refused;      /* answered with ERROR */
	uint64_t started, completed, failed;
	uint64_t active;
	uint64_t data_pkts, retrans_pkts;
	uint64_t bytes;        /* payload bytes acknowledged by clients */
};
void tftp_server_stats(const struct tftp_server *t, struct tftp_stats *s);

/*
 * How a window (windowsize > 1) leaves the host: PIXIED_TFTP_SEND=gso|mmsg|single in the
 * daemon's environment (default gso; for bench/tftp.sh's send-path comparison). A lone
 * packet (lock-step DATA, OACK, ERROR) is always one send() on the connected socket.
 */
enum tftp_send_mode { TFTP_SEND_GSO, TFTP_SEND_MMSG, TFTP_SEND_SINGLE };

#endif
