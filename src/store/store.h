/*
 * store — pixied's persistent state in SQLite (WAL) under the state directory:
 * DHCP leases, per-client records (clients/), one-shot and permanent boot assignments.
 *
 * One interface so another backend could follow. Writes are grouped by the caller into
 * one transaction per event-loop turn (store_begin/store_commit). The store takes an
 * exclusive lock on `<state>/pixied.lock` at open so a second pixied on the same state
 * directory refuses to start. Owns no sockets; never called with a transaction open
 * across loop turns.
 */
#ifndef PIXIED_STORE_STORE_H
#define PIXIED_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum store_lease_state {
	STORE_LEASE_BOUND = 1,    /* ACKed, valid until `expires` */
	STORE_LEASE_RELEASED = 2, /* client released it; free, remembered for stickiness */
	STORE_LEASE_DECLINED = 3, /* quarantined until `expires` (mac is the decliner) */
	STORE_LEASE_EXPIRED = 4,
};

#define STORE_CLIENT_ID_MAX 64
#define STORE_HOSTNAME_MAX 64

struct store_lease {
	uint32_t ip;                 /* host order; the primary key */
	uint8_t mac[6];
	uint8_t client_id[STORE_CLIENT_ID_MAX]; /* option 61 as sent, may be empty */
	uint8_t client_id_len;
	int64_t expires;             /* unix seconds */
	enum store_lease_state state;
	char hostname[STORE_HOSTNAME_MAX]; /* sanitised: printable ASCII only */
};

/*
 * Open (creating) `<dir>/leases.db`; dir itself is created (0750) if missing, its parent is
 * not. sync_full selects synchronous=FULL (else NORMAL).
 * Returns NULL with a message in err (which may be NULL): "another pixied is already using
 * state directory <dir> (lock <dir>/pixied.lock held)" when the flock is held, else the
 * file and the SQLite / filesystem error. A schema newer than this build is refused.
 * store_close(NULL) does nothing; closing with a transaction open rolls it back.
 */
struct store *store_open(const char *dir, bool sync_full, char *err, size_t errlen);
void store_close(struct store *s);

/*
 * Transaction around a batch of writes (BEGIN IMMEDIATE). begin returns -EINPROGRESS if one is
 * already open. commit returns 0 or a negative errno (-EIO, -ENOSPC, ...); on failure the
 * transaction has been rolled back and nothing in it is stored (do not ACK). commit without
 * begin is -EINVAL. rollback without a transaction does nothing.
 */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/*
 * True between store_begin and store_commit/store_rollback (for an end-of-turn hook that
 * must not leave a transaction open across loop turns).
 */
bool store_in_transaction(const struct store *s);

/*
 * Insert or replace the lease for l->ip. Works inside a transaction or alone (autocommit).
 * -EINVAL for a client_id_len above STORE_CLIENT_ID_MAX or an unknown state; the hostname
 * is stored as given up to its first NUL (at most STORE_HOSTNAME_MAX - 1 bytes).
 */
int store_lease_put(struct store *s, const struct store_lease *l);
/* Delete the lease for ip; deleting an absent lease is not an error (returns 0). */
int store_lease_del(struct store *s, uint32_t ip);
/*
 * Call fn for every stored lease, ordered by ip; stops early if fn returns non-zero (returned).
 * Rows that cannot be a valid lease (mac not 6 bytes, client id over STORE_CLIENT_ID_MAX,
 * unknown state, ip outside 32 bits, wrong column types) are skipped with one warning.
 * Hostnames read back are NUL-terminated and stripped of non-printable bytes.
 * Returns 0, fn's non-zero value, or a negative errno (-EBUSY if called from inside fn).
 * fn may put/del leases; whether later rows reflect those writes is unspecified.
 */
int store_lease_each(struct store *s, int (*fn)(void *arg, const struct store_lease *l), void *arg);

/*
 * The stored lease for ip (any state: check l->state and l->expires). 1 and *l when there
 * is one, 0 when none (or its row is unreadable: one warning), or a negative errno.
 */
int store_lease_by_ip(struct store *s, uint32_t ip, struct store_lease *l);

/*
 * One-shot next boot: the boot entry a MAC gets the next time it is served, then cleared by
 * the caller (get, serve, clear — in the same loop-turn transaction). `entry` is 1 to
 * STORE_NEXTBOOT_ENTRY_MAX - 1 printable ASCII bytes (else -EINVAL); set replaces.
 * get returns 1 and fills buf (NUL-terminated), 0 when none is set, -ENOSPC when buf is too
 * small, or another negative errno. clear of an absent entry returns 0.
 */
#define STORE_NEXTBOOT_ENTRY_MAX 128
int store_nextboot_set(struct store *s, const uint8_t mac[6], const char *entry);
int store_nextboot_get(struct store *s, const uint8_t mac[6], char *buf, size_t buflen);
int store_nextboot_clear(struct store *s, const uint8_t mac[6]);

/* A MAC's permanent entry (set through the API; wins over its [host] boot = and the menu,
 * loses to a one-shot next boot). Same conventions as store_nextboot_*. Migration 4. */
int store_pin_set(struct store *s, const uint8_t mac[6], const char *entry);
int store_pin_get(struct store *s, const uint8_t mac[6], char *buf, size_t buflen);
int store_pin_clear(struct store *s, const uint8_t mac[6]);

/*
 * Client records (clients/): one row per MAC with first/last seen (Unix ms) and an opaque
 * blob that clients/ encodes and validates (the store only bounds its size). Written
 * inside the caller's transaction when one is open, else autocommit.
 */
#define STORE_CLIENT_DATA_MAX 16384
struct store_client {
	uint8_t mac[6];
	int64_t first_seen_ms;
	int64_t last_seen_ms;
	const uint8_t *data; /* put: the caller's; get/each: valid until the call returns */
	size_t data_len;     /* 1..STORE_CLIENT_DATA_MAX */
};
/* Insert or replace the row for c->mac. -EINVAL for an empty or oversized blob. */
int store_client_put(struct store *s, const struct store_client *c);
/* The row for mac, its blob copied into buf: 1, 0 when none (or unreadable: one warning),
 * -ENOSPC when buflen is too small, or a negative errno. c->data points into buf. */
int store_client_get(struct store *s, const uint8_t mac[6], struct store_client *c, uint8_t *buf,
		     size_t buflen);
/* Every row, most recently seen first; stops when fn returns non-zero (returned). Unreadable
 * rows are skipped with one warning. -EBUSY when called from inside fn. */
int store_client_each(struct store *s, int (*fn)(void *arg, const struct store_client *c),
		      void *arg);
/* Delete the row for mac (absent is not an error). */
int store_client_del(struct store *s, const uint8_t mac[6]);
/* Keep only the `keep` (>= 1) most recently seen rows (and rows seen at the same time as the
 * keep-th). Returns how many were deleted, or < 0. */
int store_client_prune(struct store *s, size_t keep);

#endif
