/*
 * tftp/xfer — the state machine of one read transfer (server sending a file), pure.
 *
 * It takes events (a packet from the client, the clock passing its deadline) with the
 * current time and produces the packets to send: the OACK, windows of DATA blocks, or one
 * final ERROR. It owns block numbering (a 64-bit block index, on the wire modulo 65536 so
 * numbers roll over from 65535 to 0), the window (RFC 7440), retransmission with an adaptive
 * timeout and a bounded retry budget, and netascii conversion. It reads file data through a
 * caller-supplied source (pread/preadv in the daemon, memory in tests and the fuzzer), so
 * it does no I/O of its own and never holds file data between calls.
 *
 * Does not own: sockets, timers, files, limits on transfers (tftp.c does those).
 *
 * Use: tftp_xfer_init(); then after every event call tftp_xfer_fill() until it returns 0
 * and send what it produced; arm a timer for tftp_xfer_deadline(); stop when
 * tftp_xfer_finished().
 */
#ifndef PIXIED_TFTP_TFTP_XFER_H
#define PIXIED_TFTP_TFTP_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "tftp/tftp_wire.h"

/* Where file bytes come from: fill the iovecs from offset off. Returns bytes or -errno. */
struct tftp_source {
	ssize_t (*readv)(void *arg, const struct iovec *iov, int iovcnt, uint64_t off);
	void *arg;
};

struct tftp_xfer_cfg {
	uint64_t rto_max_ms;  /* [tftp] timeout (or the client's RFC 2349 timeout): the first and
				 the longest retransmission timeout */
	uint64_t rto_min_ms;  /* floor of the adaptive timeout */
	unsigned retries;     /* retransmissions at rto_max_ms before giving up */
};

enum tftp_xfer_state {
	TFTP_XFER_OACK,   /* OACK sent; waiting for ACK 0 */
	TFTP_XFER_DATA,   /* sending the file */
	TFTP_XFER_DONE,   /* the last block was acknowledged */
	TFTP_XFER_FAILED, /* see enum tftp_xfer_end */
};

enum tftp_xfer_end {
	TFTP_END_NONE,
	TFTP_END_OK,
	TFTP_END_CLIENT_ERROR,  /* the client sent ERROR */
	TFTP_END_OPTION_ABORT,  /* ERROR 8 right after our OACK (the UEFI tsize probe) */
	TFTP_END_TIMEOUT,       /* retry budget spent */
	TFTP_END_READ_ERROR,    /* the file could not be read or shrank; ERROR 0 sent */
	TFTP_END_ABORTED,       /* tftp_xfer_abort() */
	TFTP_END_GONE,          /* tftp_xfer_cancel(): the client went away */
	TFTP_END_WRITE_ERROR,   /* an upload could not be written or committed; ERROR sent */
};

/* Packets produced by one tftp_xfer_fill(): laid out back to back in the caller's buffer. */
#define TFTP_BATCH_MAX 64
struct tftp_batch {
	uint8_t *buf;
	size_t cap;
	size_t used;
	size_t n;
	struct {
		uint32_t off, len;
	} pkt[TFTP_BATCH_MAX];
	unsigned ndata; /* how many of them are DATA */
};

/* netascii: where block k starts in the file, and a byte owed from a split CR LF / CR NUL. */
struct tftp_na_mark {
	uint64_t off;
	int16_t pending; /* -1 none, else the byte to emit first */
};

/*
 * On a timeout a windowed transfer resends what is in flight and one block more (see
 * tftp_xfer_on_timer), so up to two windows can be in flight: blocks base .. base + 2 *
 * window. Windows above this size do not (block numbers would become ambiguous).
 */
#define TFTP_PROBE_WINDOW_MAX 16384
/* netascii marks a transfer needs: one per block that can be in flight, plus one. */
#define TFTP_NA_MARKS(window) (2 * (size_t)(window) + 1)

struct tftp_xfer {
	enum tftp_xfer_state state;
	enum tftp_xfer_end end;
	struct tftp_params p;
	struct tftp_xfer_cfg cfg;
	struct tftp_source src;
	bool netascii;
	uint64_t size;       /* file size */
	uint64_t last;       /* index of the final block; UINT64_MAX while unknown (netascii) */
	uint64_t base;       /* oldest block not yet acknowledged */
	uint64_t next;       /* next block of the current burst */
	uint64_t burst_end;  /* one past the last block of the current burst */
	uint64_t sent_hi;    /* one past the highest block ever sent */
	bool oack_due;       /* the OACK is to be (re)sent */
	bool oack_sent;
	bool error_due;      /* errpkt is to be sent, then we are finished */
	uint8_t oack[TFTP_OACK_MAX];
	uint16_t oack_len;
	uint8_t errpkt[TFTP_ERROR_MAX];
	uint16_t err_len;
	/* timing: RFC 6298-style estimator in ms, Karn's rule, exponential backoff */
	uint64_t deadline;   /* 0 = nothing outstanding */
	uint64_t rto, srtt, rttvar;
	bool have_rtt;
	bool sample_valid;
	uint64_t sample_block, sample_time;
	unsigned timeouts;   /* consecutive timeouts at the longest timeout */
	/* netascii marks for blocks base .. base + 2 * windowsize (a ring), else NULL */
	struct tftp_na_mark *marks;
	size_t nmarks;
	/* counters */
	uint64_t started_ms, ended_ms;
	uint64_t data_pkts, retrans_pkts;
	uint64_t bytes_acked; /* payload bytes the client has acknowledged */
	uint16_t client_error; /* the code of the client's ERROR, if any */
};

/*
 * Start a read transfer with negotiated params p for a file of `size` bytes. `marks` is
 * needed only for netascii: an array of TFTP_NA_MARKS(p->windowsize) entries the caller keeps alive
 * (NULL for octet). Queues the OACK (if p->oack) or the first window.
 */
void tftp_xfer_init(struct tftp_xfer *x, const struct tftp_params *p, enum tftp_mode mode,
		    uint64_t size, const struct tftp_xfer_cfg *cfg, const struct tftp_source *src,
		    struct tftp_na_mark *marks, uint64_t now);

/* A packet from the client's TID. Returns 0 (consumed or ignored). */
int tftp_xfer_on_packet(struct tftp_xfer *x, const void *pkt, size_t len, uint64_t now);

/* The clock: call when now >= tftp_xfer_deadline(); queues a retransmission or gives up. */
void tftp_xfer_on_timer(struct tftp_xfer *x, uint64_t now);

/* Stop with an ERROR to the client (shutdown, a newer request from the same TID). */
void tftp_xfer_abort(struct tftp_xfer *x, uint16_t code, const char *msg, uint64_t now);
/* Stop without a word (the client is gone: ICMP port unreachable). */
void tftp_xfer_cancel(struct tftp_xfer *x, uint64_t now);

/*
 * Put the packets due now into b (reset by this call): the OACK, DATA blocks of the current
 * burst (as many as fit), or the final ERROR. Returns the number of packets (0 = nothing
 * to send now).
 */
size_t tftp_xfer_fill(struct tftp_xfer *x, struct tftp_batch *b, uint64_t now);

/* When tftp_xfer_on_timer is due (0 = never: finished). */
uint64_t tftp_xfer_deadline(const struct tftp_xfer *x);

/* "ok", "timeout", "client-error", ... for logs and events. */
const char *tftp_xfer_end_name(enum tftp_xfer_end e);

/* Done or failed, and nothing left to send. */
bool tftp_xfer_finished(const struct tftp_xfer *x);

/* The block number on the wire for a block index (RFC 1350 block numbers wrap to 0). */
static inline uint16_t tftp_wire_block(uint64_t index)
{
	return (uint16_t)(index & 0xffff);
}

#endif
