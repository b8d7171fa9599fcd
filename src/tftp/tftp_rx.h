/*
 * tftp/rx — the state machine of one write transfer (server receiving a file), pure.
 *
 * Like tftp_xfer for reads: it takes events (a packet from the client, the clock) with the
 * current time and produces the packets to send (OACK or ACK 0, the ACK of each window,
 * a final ERROR). File bytes go to a caller-supplied sink in order (netascii decoded on the
 * way); at the last block the sink is asked to commit, and only when that succeeds does
 * the client get its final ACK. After it, the transfer dallies (one client retransmission
 * interval, 5 s or the timeout if longer) to answer a resent last block, then finishes.
 *
 * Does not own: files, sockets, timers, where writes may go (tftp.c and files do).
 */
#ifndef PIXIED_TFTP_TFTP_RX_H
#define PIXIED_TFTP_TFTP_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tftp/tftp_wire.h"
#include "tftp/tftp_xfer.h"

struct tftp_sink {
	/* append len bytes at off (always the next offset). Returns 0 or -errno. */
	int (*write)(void *arg, const void *buf, size_t len, uint64_t off);
	/* the file is complete: make it visible. 0, or -EEXIST / -ENOSPC / other -errno. */
	int (*commit)(void *arg);
	void *arg;
};

enum tftp_rx_state {
	TFTP_RX_WAIT,   /* OACK or ACK 0 sent; waiting for DATA 1 */
	TFTP_RX_DATA,   /* receiving */
	TFTP_RX_DALLY,  /* final ACK sent; answering a resent last block until the timer */
	TFTP_RX_DONE,
	TFTP_RX_FAILED,
};

struct tftp_rx {
	enum tftp_rx_state state;
	enum tftp_xfer_end end;
	struct tftp_params p;
	struct tftp_xfer_cfg cfg;
	struct tftp_sink sink;
	bool netascii;
	bool cr_pending;     /* netascii: a CR ended the last block */
	uint64_t expect;     /* next block index wanted */
	uint64_t in_window;  /* blocks taken since the last ACK */
	uint64_t offset;     /* bytes written */
	uint64_t last_block; /* index of the short block that ended the file (DALLY) */
	uint64_t acked;      /* highest block index acknowledged (expect - 1 once sent) */
	uint64_t ack_at;     /* when that ACK went out */
	bool reply_due;      /* an ACK (or the OACK) is to be sent */
	bool error_due;
	uint8_t oack[TFTP_OACK_MAX];
	uint16_t oack_len;
	uint8_t errpkt[TFTP_ERROR_MAX];
	uint16_t err_len;
	uint64_t deadline;
	unsigned timeouts;
	uint64_t started_ms, ended_ms;
	uint64_t data_pkts, dup_pkts;
	uint16_t client_error;
};

/* Start a write transfer with negotiated params; queues the OACK or ACK 0. */
void tftp_rx_init(struct tftp_rx *r, const struct tftp_params *p, enum tftp_mode mode,
		  const struct tftp_xfer_cfg *cfg, const struct tftp_sink *sink, uint64_t now);
int tftp_rx_on_packet(struct tftp_rx *r, const void *pkt, size_t len, uint64_t now);
void tftp_rx_on_timer(struct tftp_rx *r, uint64_t now);
/* The packet due now (0 or 1 of them) into b; returns the count. */
size_t tftp_rx_fill(struct tftp_rx *r, struct tftp_batch *b, uint64_t now);
uint64_t tftp_rx_deadline(const struct tftp_rx *r);
bool tftp_rx_finished(const struct tftp_rx *r);
void tftp_rx_abort(struct tftp_rx *r, uint16_t code, const char *msg, uint64_t now);
void tftp_rx_cancel(struct tftp_rx *r, uint64_t now);

#endif
