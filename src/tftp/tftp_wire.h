/*
 * tftp/wire — TFTP packets: parse requests and transfer packets, build OACK, DATA headers,
 * ACK and ERROR; negotiate the RFC 2347 options (blksize RFC 2348, tsize and timeout
 * RFC 2349, windowsize RFC 7440) against the server's limits.
 *
 * Pure: no I/O, no allocation, no logging. Every read goes through struct cursor and every
 * build through struct writer. Does not own transfer state (tftp_xfer) or sockets (tftp.c).
 */
#ifndef PIXIED_TFTP_TFTP_WIRE_H
#define PIXIED_TFTP_TFTP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tftp_opcode {
	TFTP_OP_RRQ = 1,
	TFTP_OP_WRQ = 2,
	TFTP_OP_DATA = 3,
	TFTP_OP_ACK = 4,
	TFTP_OP_ERROR = 5,
	TFTP_OP_OACK = 6, /* RFC 2347 */
};

/* RFC 1350 §5 error codes, plus 8 from RFC 2347. */
enum tftp_errcode {
	TFTP_ERR_UNDEF = 0,
	TFTP_ERR_NOT_FOUND = 1,
	TFTP_ERR_ACCESS = 2,
	TFTP_ERR_DISK_FULL = 3,
	TFTP_ERR_ILLEGAL_OP = 4,
	TFTP_ERR_UNKNOWN_TID = 5,
	TFTP_ERR_EXISTS = 6,
	TFTP_ERR_NO_USER = 7,
	TFTP_ERR_OPTION = 8,
};

enum tftp_mode { TFTP_MODE_OCTET, TFTP_MODE_NETASCII };

#define TFTP_HDR_LEN 4
#define TFTP_BLKSIZE_DEFAULT 512
#define TFTP_BLKSIZE_MIN 8      /* RFC 2348 */
#define TFTP_BLKSIZE_MAX 65464  /* RFC 2348 */
#define TFTP_WINDOW_MAX 65535   /* RFC 7440 */
#define TFTP_TIMEOUT_MIN 1      /* RFC 2349, seconds */
#define TFTP_TIMEOUT_MAX 255
/* Room for an OACK carrying every option we know at its longest value. */
#define TFTP_OACK_MAX 128
/* An ERROR packet we build: header + message + NUL. */
#define TFTP_ERROR_MAX 128

/* The options of a request, each validated on its own; invalid ones are left unset. */
struct tftp_options {
	bool blksize_set;
	uint16_t blksize;    /* 8..65464 */
	bool tsize_set;
	uint64_t tsize;      /* RRQ: 0 asked; WRQ: the size the client will send */
	bool timeout_set;
	uint8_t timeout;     /* 1..255 s */
	bool windowsize_set;
	uint16_t windowsize; /* 1..65535 */
	unsigned seen;       /* bit per known option name met: the first one decides */
	unsigned count;      /* option pairs read, known or not */
	bool trailing;       /* bytes after the last complete option were ignored */
};

struct tftp_request {
	uint16_t opcode;      /* TFTP_OP_RRQ or TFTP_OP_WRQ */
	const char *file;     /* inside the packet, NUL-terminated there; may hold any byte */
	size_t file_len;
	enum tftp_mode mode;
	struct tftp_options opt;
};

/*
 * Parse a request. 0 on success; -EBADMSG when shorter than an opcode, or no NUL ends the
 * file name or the mode; -EOPNOTSUPP for an opcode that is not RRQ/WRQ (req->opcode is set);
 * -EPROTONOSUPPORT for a mode other than octet/netascii (case-insensitive).
 */
int tftp_parse_request(const void *pkt, size_t len, struct tftp_request *req);

/* Any packet seen on a transfer port. */
struct tftp_packet {
	uint16_t opcode;
	uint16_t block;       /* DATA, ACK */
	uint16_t error_code;  /* ERROR */
	const char *msg;      /* ERROR message, not NUL-terminated here */
	size_t msg_len;
	const uint8_t *data;  /* DATA payload */
	size_t data_len;
};

/* 0, or -EBADMSG when too short for its opcode; unknown opcodes parse with opcode set. */
int tftp_parse_packet(const void *pkt, size_t len, struct tftp_packet *out);

/* What the server allows (from the config and the interface MTU). */
struct tftp_limits {
	uint16_t blksize_max;    /* 8..65464 */
	uint16_t windowsize_max; /* 1..65535 */
};

/* The outcome of negotiation: what both ends use, and what goes in the OACK. */
struct tftp_params {
	uint16_t blksize;
	uint16_t windowsize;
	uint8_t timeout_s;      /* 0 = not negotiated (the server picks) */
	bool oack;              /* at least one option accepted: an OACK comes first */
	bool ack_blksize, ack_tsize, ack_timeout, ack_windowsize;
	uint64_t tsize;
};

/*
 * RFC 2347 negotiation. `tsize` is the file size for an RRQ (RFC 2349 §2: the server
 * answers with the size; left out when 0, for curl) or the client's value echoed for a WRQ. Options out of range were
 * already dropped by the parser, so a request whose options are all bad gets defaults.
 */
void tftp_negotiate(const struct tftp_options *o, const struct tftp_limits *lim, uint64_t tsize,
		    struct tftp_params *p);

/* Builders: return the packet length, or -ENOSPC when cap is too small. */
int tftp_build_oack(void *buf, size_t cap, const struct tftp_params *p);
int tftp_build_error(void *buf, size_t cap, uint16_t code, const char *msg);
int tftp_build_ack(void *buf, size_t cap, uint16_t block);
int tftp_build_data_hdr(void *buf, size_t cap, uint16_t block);

/* The RFC 1350 text for an error code ("File not found", ...). */
const char *tftp_error_text(uint16_t code);

#endif
