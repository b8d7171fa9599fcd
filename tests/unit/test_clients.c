/*
 * test_clients — unit tests for clients/ (per-MAC records, timelines, status, diagnosis).
 *
 * Covers, table-driven: status transitions for the flows pixied serves (BIOS iPXE ROM, UEFI
 * native PXE then iPXE, proxyDHCP, PXELINUX over TFTP, local boot, ISO, plain DHCP clients)
 * with one expected status after every step; diagnosis rows (each a flow that stalls and
 * the words its diagnosis must hold); IP -> MAC mapping for TFTP/HTTP (DHCP claims, newest
 * claimer, the store's leases, unknown addresses); bounded timeline and client count (10,000
 * MACs stay within max_clients, evicted records come back from the store); persistence
 * round trip through a temporary store (warm start, reload after eviction, the turn's
 * transaction joined, nothing written before flush_ms unless forced, no transaction left
 * open); JSON escaping of what clients send (HTML tags, quotes, control bytes, NULs, high
 * bytes) and buffer limits; subscribers; the interface a client was last heard on and its
 * permanent entry (read from the store, persisted, in the JSON); blobs of every version.
 * Does not cover: the wiring into dhcp/tftp/http (system tests), performance.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "clients/clients.h"
#include "core/util.h"
#include "store/store.h"

#include "../fuzz/clients_events/json_check.h"

#define T0  1700000000000LL
#define IP1 0x0a000032u /* 10.0.0.50 */
#define IP2 0x0a000033u /* 10.0.0.51 */
#define URL "http://10.0.0.1/boot.ipxe?mac=${net0/mac}"

static const uint8_t MAC1[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
static const uint8_t MAC2[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x02};

/* ---- who is asking ------------------------------------------------------------------- */

enum who { W_PLAIN, W_PXE_BIOS, W_PXE_UEFI, W_IPXE_BIOS, W_IPXE_UEFI };

static void facts_for(enum who w, const uint8_t mac[6], struct dhcp_pxe_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->has_mac = true;
	memcpy(f->mac, mac, 6);
	bool uefi = w == W_PXE_UEFI || w == W_IPXE_UEFI;
	if (w != W_PLAIN) {
		f->has_arch = true;
		f->arch_code = uefi ? 7 : 0;
		str_copy(f->arch_name, uefi ? "x64 UEFI" : "x86 BIOS", sizeof(f->arch_name));
		f->is_pxe = true;
		snprintf(f->vendor_class, sizeof(f->vendor_class),
			 "PXEClient:Arch:%05u:UNDI:003016", uefi ? 7u : 0u);
	}
	f->is_ipxe = w == W_IPXE_BIOS || w == W_IPXE_UEFI;
}

/* ---- a scenario engine ----------------------------------------------------------------- */

enum op { S_END = 0, S_DHCP, S_TFTP, S_HTTP, S_CHOICE, S_EXPECT, S_TICK };

struct step {
	enum op op;
	int64_t dt; /* ms before this step */
	/* dhcp */
	enum who who;
	uint8_t msg, reply_type;
	bool replied;
	uint32_t yiaddr, requested;
	const char *file, *why;
	/* tftp / http */
	enum clients_xfer what;
	const char *path, *reason;
	bool ok, complete;
	int status;
	uint64_t bytes;
	/* expect */
	const char *exp[3];
	size_t nexp;
	int want; /* enum clients_status */
};

#define DHCP(W, M, R, Y, F, WANT)                                                                  \
	{                                                                                          \
		.op = S_DHCP, .dt = 100, .who = W, .msg = M, .replied = true, .reply_type = R,     \
		.yiaddr = Y, .file = F, .want = WANT                                               \
	}
#define DHCP_WHY(W, M, R, Y, WHY, WANT)                                                            \
	{                                                                                          \
		.op = S_DHCP, .dt = 100, .who = W, .msg = M, .replied = true, .reply_type = R,     \
		.yiaddr = Y, .why = WHY, .want = WANT                                              \
	}
#define DHCP_SILENT(W, M, REQ, WANT)                                                               \
	{                                                                                          \
		.op = S_DHCP, .dt = 100, .who = W, .msg = M, .requested = REQ, .want = WANT        \
	}
#define TFTP(WHAT, P, OK, REASON, WANT)                                                            \
	{                                                                                          \
		.op = S_TFTP, .dt = 50, .what = WHAT, .path = P, .ok = OK, .reason = REASON,       \
		.bytes = 1000, .want = WANT                                                        \
	}
#define HTTP(P, ST, COMPLETE, WANT)                                                                \
	{                                                                                          \
		.op = S_HTTP, .dt = 50, .path = P, .status = ST, .complete = COMPLETE,             \
		.bytes = 5000, .want = WANT                                                        \
	}
#define CHOICE(ENTRY, WANT)                                                                        \
	{                                                                                          \
		.op = S_CHOICE, .dt = 10, .file = ENTRY, .want = WANT                              \
	}
#define EXPECT(N, A, B, C, WANT)                                                                   \
	{                                                                                          \
		.op = S_EXPECT, .exp = {A, B, C}, .nexp = N, .want = WANT                          \
	}
#define TICK(DT, WANT)                                                                             \
	{                                                                                          \
		.op = S_TICK, .dt = DT, .want = WANT                                               \
	}

enum {
	ST_DHCP = CLIENTS_ST_WAITING_DHCP,
	ST_LOADER = CLIENTS_ST_WAITING_LOADER,
	ST_SCRIPT = CLIENTS_ST_WAITING_SCRIPT,
	ST_BOOTING = CLIENTS_ST_BOOTING,
	ST_BOOTED = CLIENTS_ST_BOOTED,
	ST_STALLED = CLIENTS_ST_STALLED,
	ST_ONLINE = CLIENTS_ST_ONLINE
};

#define D CLIENTS_XFER_START
#define E CLIENTS_XFER_END
#define X CLIENTS_XFER_REFUSED

struct scenario {
	const char *name;
	struct step steps[20];
	const char *diag; /* for the diagnosis table: words the diagnosis must contain */
};

static const struct clients_limits LIM = {.stall_ms = 60000, .booted_quiet_ms = 10000};

/* Run one scenario for MAC1 at IP1, checking the status after every step. */
static void run(struct clients *c, const struct scenario *sc, int64_t *now)
{
	for (size_t i = 0; sc->steps[i].op != S_END; i++) {
		const struct step *s = &sc->steps[i];
		*now += s->dt;
		int r = 0;
		switch (s->op) {
		case S_DHCP: {
			struct dhcp_pxe_facts f;
			facts_for(s->who, MAC1, &f);
			struct clients_dhcp d = {.facts = &f,
						 .msg_type = s->msg,
						 .replied = s->replied,
						 .reply_type = s->reply_type,
						 .yiaddr = s->yiaddr,
						 .requested_ip = s->requested,
						 .boot_file = s->file,
						 .no_boot_why = s->why,
						 .local_port = 67};
			r = clients_on_dhcp(c, &d, *now);
			break;
		}
		case S_TFTP: {
			struct clients_tftp t = {.what = s->what,
						 .ip = IP1,
						 .path = s->path,
						 .bytes = s->bytes,
						 .duration_ms = 20,
						 .ok = s->ok,
						 .reason = s->reason ? s->reason : "ok"};
			r = clients_on_tftp(c, &t, *now);
			break;
		}
		case S_HTTP: {
			struct clients_http h = {.ip = IP1,
						 .method = "GET",
						 .path = s->path,
						 .status = s->status,
						 .bytes = s->bytes,
						 .duration_ms = 30,
						 .complete = s->complete};
			r = clients_on_http(c, &h, *now);
			break;
		}
		case S_CHOICE:
			r = clients_on_boot_choice(c, MAC1, IP1, s->file, "host rule", "station-01",
						   *now);
			break;
		case S_EXPECT: r = clients_expect_files(c, MAC1, s->exp, NULL, s->nexp); break;
		case S_TICK: clients_tick(c, *now); break;
		default: fail();
		}
		if (r < 0)
			fail_msg("%s: step %zu returned %d", sc->name, i, r);
		struct clients_record rec;
		assert_int_equal(clients_get(c, MAC1, &rec, NULL, 0, NULL), 1);
		if (rec.status != (enum clients_status)s->want)
			fail_msg("%s: after step %zu: status %s, want %s (diagnosis: %s)", sc->name,
				 i, clients_status_name(rec.status),
				 clients_status_name((enum clients_status)s->want), rec.diagnosis);
	}
}

/* ---- status transitions ---------------------------------------------------------------- */

static const struct scenario flows[] = {
    {"bios_ipxe_rom_full_mode_boots_when_last_initrd_is_served",
     {DHCP(W_IPXE_BIOS, DHCPDISCOVER, DHCPOFFER, IP1, URL, ST_DHCP),
      DHCP(W_IPXE_BIOS, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT), CHOICE("debian", ST_SCRIPT),
      EXPECT(2, "http://10.0.0.1/debian/linux", "http://10.0.0.1/debian/initrd.gz", NULL,
	     ST_SCRIPT),
      HTTP("/boot.ipxe", 200, true, ST_BOOTING), HTTP("/debian/linux", 200, true, ST_BOOTING),
      HTTP("/debian/initrd.gz", 200, true, ST_BOOTED), TICK(120000, ST_BOOTED)},
     NULL},
    {"uefi_native_pxe_then_ipxe_moves_through_every_status",
     {DHCP(W_PXE_UEFI, DHCPDISCOVER, DHCPOFFER, IP1, "ipxe.efi", ST_DHCP),
      DHCP(W_PXE_UEFI, DHCPREQUEST, DHCPACK, IP1, "ipxe.efi", ST_LOADER),
      TFTP(D, "ipxe.efi", false, NULL, ST_LOADER), TFTP(E, "ipxe.efi", true, "ok", ST_SCRIPT),
      DHCP(W_IPXE_UEFI, DHCPDISCOVER, DHCPOFFER, IP1, URL, ST_SCRIPT),
      DHCP(W_IPXE_UEFI, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT), CHOICE("debian", ST_SCRIPT),
      EXPECT(2, "debian/linux", "debian/initrd.gz", NULL, ST_SCRIPT),
      HTTP("/boot.ipxe", 200, true, ST_BOOTING), HTTP("/debian/linux", 200, true, ST_BOOTING),
      HTTP("/debian/initrd.gz", 200, true, ST_BOOTED)},
     NULL},
    {"proxy_bios_pxe_maps_tftp_by_requested_ip_and_boots_after_quiet",
     {DHCP(W_PXE_BIOS, DHCPDISCOVER, DHCPOFFER, 0, "undionly.kpxe", ST_LOADER),
      DHCP_SILENT(W_PXE_BIOS, DHCPREQUEST, IP1, ST_LOADER),
      TFTP(D, "undionly.kpxe", false, NULL, ST_LOADER),
      TFTP(E, "undionly.kpxe", true, "ok", ST_SCRIPT),
      DHCP(W_IPXE_BIOS, DHCPDISCOVER, DHCPOFFER, 0, URL, ST_SCRIPT),
      HTTP("/boot.ipxe", 200, true, ST_BOOTING), HTTP("/debian/linux", 200, true, ST_BOOTING),
      HTTP("/debian/initrd.gz", 200, true, ST_BOOTING), TICK(5000, ST_BOOTING),
      TICK(6000, ST_BOOTED)},
     NULL},
    {"pxelinux_over_tftp_ignores_config_probes_and_boots_after_quiet",
     {DHCP(W_PXE_BIOS, DHCPDISCOVER, DHCPOFFER, IP1, "pxelinux.0", ST_DHCP),
      DHCP(W_PXE_BIOS, DHCPREQUEST, DHCPACK, IP1, "pxelinux.0", ST_LOADER),
      TFTP(D, "pxelinux.0", false, NULL, ST_LOADER),
      TFTP(E, "pxelinux.0", false, "option-abort", ST_LOADER),
      TFTP(D, "pxelinux.0", false, NULL, ST_LOADER), TFTP(E, "pxelinux.0", true, "ok", ST_SCRIPT),
      TFTP(E, "ldlinux.c32", true, "ok", ST_SCRIPT),
      TFTP(X, "pxelinux.cfg/01-52-54-00-00-00-01", false, "not-found", ST_SCRIPT),
      TFTP(E, "pxelinux.cfg/default", true, "ok", ST_BOOTING),
      TFTP(E, "debian/vmlinuz", true, "ok", ST_BOOTING),
      TFTP(E, "debian/initrd.img", true, "ok", ST_BOOTING), TICK(10000, ST_BOOTED)},
     NULL},
    {"plain_dhcp_client_is_online_and_never_stalls",
     {DHCP(W_PLAIN, DHCPDISCOVER, DHCPOFFER, IP1, NULL, ST_ONLINE),
      DHCP(W_PLAIN, DHCPREQUEST, DHCPACK, IP1, NULL, ST_ONLINE), TICK(600000, ST_ONLINE),
      HTTP("/api/v1/clients", 200, true, ST_ONLINE)},
     NULL},
    {"the_booted_system_asking_for_an_address_marks_booted",
     {DHCP(W_IPXE_BIOS, DHCPDISCOVER, DHCPOFFER, IP1, URL, ST_DHCP),
      DHCP(W_IPXE_BIOS, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT),
      HTTP("/boot.ipxe", 200, true, ST_BOOTING), HTTP("/debian/linux", 200, true, ST_BOOTING),
      DHCP(W_PLAIN, DHCPDISCOVER, DHCPOFFER, IP1, NULL, ST_BOOTED),
      DHCP(W_PLAIN, DHCPREQUEST, DHCPACK, IP1, NULL, ST_BOOTED)},
     NULL},
    {"local_boot_entry_is_booted_once_its_script_is_served",
     {DHCP(W_IPXE_BIOS, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT), CHOICE("local", ST_SCRIPT),
      EXPECT(0, NULL, NULL, NULL, ST_SCRIPT), HTTP("/boot.ipxe", 200, true, ST_BOOTED)},
     NULL},
    {"iso_sanboot_is_booted_after_its_reads_go_on_for_the_quiet_time",
     {DHCP(W_IPXE_UEFI, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT), CHOICE("live.iso", ST_SCRIPT),
      EXPECT(1, "isos/live.iso", NULL, NULL, ST_SCRIPT), HTTP("/boot.ipxe", 200, true, ST_BOOTING),
      HTTP("/isos/live.iso", 206, true, ST_BOOTING), HTTP("/isos/live.iso", 206, true, ST_BOOTING),
      TICK(10000, ST_BOOTED)},
     NULL},
    {"a_firmware_discover_after_booting_starts_a_new_attempt",
     {DHCP(W_IPXE_BIOS, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT),
      EXPECT(0, NULL, NULL, NULL, ST_SCRIPT), HTTP("/boot.ipxe", 200, true, ST_BOOTED),
      DHCP(W_PXE_BIOS, DHCPDISCOVER, DHCPOFFER, IP1, "undionly.kpxe", ST_DHCP)},
     NULL},
    {"progress_after_a_stall_clears_it",
     {DHCP(W_PXE_BIOS, DHCPREQUEST, DHCPACK, IP1, "undionly.kpxe", ST_LOADER),
      TICK(61000, ST_STALLED), TFTP(D, "undionly.kpxe", false, NULL, ST_LOADER),
      TFTP(E, "undionly.kpxe", true, "ok", ST_SCRIPT)},
     NULL},
    {"an_incomplete_kernel_download_does_not_count_as_served",
     {DHCP(W_IPXE_BIOS, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT),
      EXPECT(1, "debian/linux", NULL, NULL, ST_SCRIPT), HTTP("/boot.ipxe", 200, true, ST_BOOTING),
      HTTP("/debian/linux", 200, false, ST_BOOTING), HTTP("/debian/linux", 200, true, ST_BOOTED)},
     NULL},
    {"release_decline_and_inform_from_a_boot_client_start_nothing",
     {DHCP_SILENT(W_PXE_BIOS, DHCPRELEASE, 0, ST_ONLINE),
      DHCP_SILENT(W_PXE_BIOS, DHCPDECLINE, 0, ST_ONLINE),
      DHCP_SILENT(W_IPXE_BIOS, DHCPINFORM, 0, ST_ONLINE), TICK(120000, ST_ONLINE)},
     NULL},
    {"head_requests_and_other_clients_do_not_move_it",
     {DHCP(W_IPXE_BIOS, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT),
      EXPECT(0, NULL, NULL, NULL, ST_SCRIPT), TICK(1000, ST_SCRIPT)},
     NULL},
};

static void test_status_transitions_follow_each_boot_flow(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(flows); i++) {
		struct clients *c = clients_new(NULL, &LIM);
		assert_non_null(c);
		int64_t now = T0;
		run(c, &flows[i], &now);
		clients_free(c);
	}
}

static void test_head_request_is_ignored(void **state)
{
	(void)state;
	struct clients *c = clients_new(NULL, &LIM);
	int64_t now = T0;
	run(c, &flows[ARRAY_SIZE(flows) - 1], &now);
	struct clients_http h = {
	    .ip = IP1, .method = "HEAD", .path = "/boot.ipxe", .status = 200, .complete = true};
	assert_int_equal(clients_on_http(c, &h, now), 0);
	struct clients_record r;
	assert_int_equal(clients_get(c, MAC1, &r, NULL, 0, NULL), 1);
	assert_int_equal(r.status, CLIENTS_ST_WAITING_SCRIPT);
	clients_free(c);
}

static void test_booted_event_carries_time_since_first_discover(void **state)
{
	(void)state;
	struct clients *c = clients_new(NULL, &LIM);
	int64_t now = T0;
	run(c, &flows[0], &now);
	struct clients_record r;
	struct clients_event tl[64];
	size_t n = 0;
	assert_int_equal(clients_get(c, MAC1, &r, tl, 64, &n), 1);
	assert_int_equal(r.boots, 1);
	assert_int_equal(r.attempt_start_ms, T0 + 100);
	size_t booted = n;
	for (size_t i = 0; i < n; i++)
		if (tl[i].kind == CLIENTS_EV_BOOTED)
			booted = i;
	assert_true(booted < n);
	/* the file that made it booted comes just before the mark */
	assert_int_equal(tl[booted - 1].kind, CLIENTS_EV_HTTP_INITRD);
	assert_int_equal(tl[booted].duration_ms, (uint64_t)(tl[booted].time_ms - (T0 + 100)));
	assert_int_equal(r.last_boot_ms, tl[booted].duration_ms);
	assert_string_equal(r.entry, "debian");
	assert_string_equal(r.rule, "host rule");
	assert_string_equal(r.host, "station-01");
	assert_string_equal(r.script, URL);
	clients_free(c);
}

/* ---- diagnosis ------------------------------------------------------------------------- */

static const struct scenario stalls[] = {
    {"got_address_never_fetched_loader",
     {DHCP(W_PXE_BIOS, DHCPREQUEST, DHCPACK, IP1, "undionly.kpxe", ST_LOADER),
      TICK(59000, ST_LOADER), TICK(2000, ST_STALLED)},
     "got an address but never fetched a loader (undionly.kpxe): check that nothing blocks "
     "UDP 69"},
    {"uefi_client_asked_for_bios_loader",
     {DHCP(W_PXE_UEFI, DHCPDISCOVER, DHCPOFFER, 0, "undionly.kpxe", ST_LOADER),
      DHCP_SILENT(W_PXE_UEFI, DHCPREQUEST, IP1, ST_LOADER),
      TFTP(D, "undionly.kpxe", false, NULL, ST_LOADER),
      TFTP(E, "undionly.kpxe", true, "ok", ST_SCRIPT), TICK(61000, ST_STALLED)},
     "UEFI client (x64 UEFI) asked for a BIOS loader (undionly.kpxe)"},
    {"bios_client_asked_for_uefi_loader",
     {DHCP(W_PXE_BIOS, DHCPREQUEST, DHCPACK, IP1, "ipxe.efi", ST_LOADER),
      TFTP(D, "ipxe.efi", false, NULL, ST_LOADER), TICK(61000, ST_STALLED)},
     "BIOS client asked for a UEFI loader (ipxe.efi)"},
    {"loader_fetched_but_ipxe_never_asked_for_script",
     {DHCP(W_PXE_UEFI, DHCPREQUEST, DHCPACK, IP1, "ipxe.efi", ST_LOADER),
      TFTP(E, "ipxe.efi", true, "ok", ST_SCRIPT),
      DHCP(W_IPXE_UEFI, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT), TICK(61000, ST_STALLED)},
     "loader fetched but iPXE never asked for its script"},
    {"loader_served_but_never_asked_for_an_address_again",
     {DHCP(W_PXE_UEFI, DHCPREQUEST, DHCPACK, IP1, "ipxe.efi", ST_LOADER),
      TFTP(E, "ipxe.efi", true, "ok", ST_SCRIPT), TICK(61000, ST_STALLED)},
     "never asked for an address again: it may not run on this machine (x64 UEFI)"},
    {"script_served_but_kernel_never_fetched",
     {DHCP(W_IPXE_BIOS, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT), CHOICE("debian", ST_SCRIPT),
      EXPECT(2, "debian/linux", "debian/initrd.gz", NULL, ST_SCRIPT),
      HTTP("/boot.ipxe", 200, true, ST_BOOTING), TICK(61000, ST_STALLED)},
     "script served but the kernel (debian/linux) was never fetched"},
    {"script_served_nothing_after_it_without_expectations",
     {DHCP(W_IPXE_BIOS, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT),
      HTTP("/boot.ipxe", 200, true, ST_BOOTING), TICK(61000, ST_STALLED)},
     "waiting at the menu"},
    {"initrd_never_requested_after_kernel",
     {DHCP(W_IPXE_BIOS, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT),
      EXPECT(2, "debian/linux", "debian/initrd.gz", NULL, ST_SCRIPT),
      HTTP("/boot.ipxe", 200, true, ST_BOOTING), HTTP("/debian/linux", 200, true, ST_BOOTING),
      TICK(61000, ST_STALLED)},
     "fetched 1 of 2 boot files; the initrd (debian/initrd.gz) was never requested"},
    {"tftp_transfer_failed",
     {DHCP(W_PXE_BIOS, DHCPREQUEST, DHCPACK, IP1, "undionly.kpxe", ST_LOADER),
      TFTP(D, "undionly.kpxe", false, NULL, ST_LOADER),
      TFTP(E, "undionly.kpxe", false, "timeout", ST_LOADER), TICK(61000, ST_STALLED)},
     "TFTP transfer of undionly.kpxe failed: timeout after 1000 bytes"},
    {"tftp_request_refused_not_found",
     {DHCP(W_PXE_BIOS, DHCPREQUEST, DHCPACK, IP1, "undionly.kpxe", ST_LOADER),
      TFTP(X, "undionly.kpxe", false, "not-found", ST_LOADER), TICK(61000, ST_STALLED)},
     "TFTP request for undionly.kpxe refused: not-found (no such file beneath the root)"},
    {"tftp_transfer_started_never_finished",
     {DHCP(W_PXE_BIOS, DHCPREQUEST, DHCPACK, IP1, "undionly.kpxe", ST_LOADER),
      TFTP(D, "undionly.kpxe", false, NULL, ST_LOADER), TICK(61000, ST_STALLED)},
     "the transfer of the loader undionly.kpxe started but never finished"},
    {"kernel_http_404",
     {DHCP(W_IPXE_BIOS, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT),
      HTTP("/boot.ipxe", 200, true, ST_BOOTING), HTTP("/debian/linux", 404, true, ST_BOOTING),
      TICK(61000, ST_STALLED)},
     "the kernel /debian/linux failed with HTTP 404: check the path beneath the root"},
    {"script_request_failed",
     {DHCP(W_IPXE_BIOS, DHCPREQUEST, DHCPACK, IP1, URL, ST_SCRIPT),
      HTTP("/boot.ipxe", 500, true, ST_SCRIPT), TICK(61000, ST_STALLED)},
     "the boot script /boot.ipxe failed with HTTP 500"},
    {"offered_but_never_requested",
     {DHCP(W_PXE_BIOS, DHCPDISCOVER, DHCPOFFER, IP1, "undionly.kpxe", ST_DHCP),
      TICK(61000, ST_STALLED)},
     "pixied offered 10.0.0.50 but the client never requested it"},
    {"request_refused_with_nak",
     {DHCP(W_PXE_BIOS, DHCPREQUEST, DHCPNAK, 0, NULL, ST_DHCP), TICK(61000, ST_STALLED)},
     "pixied refused its DHCP request (NAK)"},
    {"dhcp_answer_without_boot_file",
     {DHCP_WHY(W_PXE_UEFI, DHCPREQUEST, DHCPACK, IP1, "no loader for x64 UEFI in [loaders]",
	       ST_DHCP),
      TICK(61000, ST_STALLED)},
     "DHCP answered without a boot file: no loader for x64 UEFI in [loaders]"},
    {"no_answer_at_all",
     {DHCP_SILENT(W_PXE_BIOS, DHCPDISCOVER, 0, ST_DHCP),
      DHCP_SILENT(W_PXE_BIOS, DHCPDISCOVER, 0, ST_DHCP), TICK(61000, ST_STALLED)},
     "it asked for an address (2 times) but got no usable answer"},
    {"http_boot_loader_url_never_fetched",
     {DHCP(W_PXE_UEFI, DHCPREQUEST, DHCPACK, IP1, "http://10.0.0.1/ipxe.efi", ST_LOADER),
      TICK(61000, ST_STALLED)},
     "never fetched it: check that the HTTP port is reachable"},
    {"pxelinux_never_fetched_its_config",
     {DHCP(W_PXE_BIOS, DHCPREQUEST, DHCPACK, IP1, "pxelinux.0", ST_LOADER),
      TFTP(E, "pxelinux.0", true, "ok", ST_SCRIPT), TICK(61000, ST_STALLED)},
     "it never fetched a boot script or config"},
};

static void test_diagnosis_names_the_cause_of_each_stall(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(stalls); i++) {
		struct clients *c = clients_new(NULL, &LIM);
		assert_non_null(c);
		int64_t now = T0;
		run(c, &stalls[i], &now);
		struct clients_record r;
		struct clients_event tl[64];
		size_t n = 0;
		assert_int_equal(clients_get(c, MAC1, &r, tl, 64, &n), 1);
		if (!strstr(r.diagnosis, stalls[i].diag))
			fail_msg("%s: diagnosis \"%s\" lacks \"%s\"", stalls[i].name, r.diagnosis,
				 stalls[i].diag);
		/* the stall is in the timeline once, with the diagnosis as its detail */
		assert_true(n > 0);
		assert_int_equal(tl[n - 1].kind, CLIENTS_EV_STALLED);
		assert_int_equal(strncmp(tl[n - 1].detail, r.diagnosis, CLIENTS_DETAIL_LEN - 1), 0);
		clients_tick(c, now + 60000);
		size_t n2 = 0;
		assert_int_equal(clients_get(c, MAC1, &r, tl, 64, &n2), 1);
		assert_int_equal(n2, n);
		clients_free(c);
	}
}

/* ---- IP -> MAC ------------------------------------------------------------------------- */

static void dhcp_ack(struct clients *c, const uint8_t mac[6], uint32_t ip, int64_t now)
{
	struct dhcp_pxe_facts f;
	facts_for(W_PXE_BIOS, mac, &f);
	struct clients_dhcp d = {.facts = &f,
				 .msg_type = DHCPREQUEST,
				 .replied = true,
				 .reply_type = DHCPACK,
				 .yiaddr = ip,
				 .boot_file = "undionly.kpxe"};
	assert_int_equal(clients_on_dhcp(c, &d, now), 0);
}

static size_t tftp_events_of(struct clients *c, const uint8_t mac[6])
{
	struct clients_record r;
	struct clients_event tl[64];
	size_t n = 0, k = 0;
	if (clients_get(c, mac, &r, tl, 64, &n) != 1)
		return 0;
	for (size_t i = 0; i < n; i++)
		k += tl[i].kind == CLIENTS_EV_TFTP_START;
	return k;
}

static void test_tftp_events_are_mapped_to_the_mac_that_holds_the_address(void **state)
{
	(void)state;
	struct clients *c = clients_new(NULL, &LIM);
	dhcp_ack(c, MAC1, IP1, T0);
	dhcp_ack(c, MAC2, IP2, T0 + 1);
	static const struct {
		uint32_t ip;
		int ret;
		size_t want1, want2;
	} rows[] = {
	    {IP1, 0, 1, 0},               /* MAC1's address */
	    {IP2, 0, 1, 1},               /* MAC2's */
	    {0x0a0000ffu, -ENOENT, 1, 1}, /* nobody's */
	    {0, -ENOENT, 1, 1},           /* IPv6 / unknown */
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct clients_tftp t = {
		    .what = CLIENTS_XFER_START, .ip = rows[i].ip, .path = "undionly.kpxe"};
		assert_int_equal(clients_on_tftp(c, &t, T0 + 10), rows[i].ret);
		assert_int_equal(tftp_events_of(c, MAC1), rows[i].want1);
		assert_int_equal(tftp_events_of(c, MAC2), rows[i].want2);
	}
	/* the address moves to MAC2: later events are MAC2's */
	dhcp_ack(c, MAC2, IP1, T0 + 20);
	struct clients_tftp t = {.what = CLIENTS_XFER_START, .ip = IP1, .path = "undionly.kpxe"};
	assert_int_equal(clients_on_tftp(c, &t, T0 + 30), 0);
	assert_int_equal(tftp_events_of(c, MAC1), 1);
	assert_int_equal(tftp_events_of(c, MAC2), 2);
	struct clients_stats st;
	clients_stats(c, &st);
	assert_int_equal(st.unmatched, 2);
	clients_free(c);
}

static void test_http_with_a_mac_claims_the_address(void **state)
{
	(void)state;
	struct clients *c = clients_new(NULL, &LIM);
	dhcp_ack(c, MAC1, IP1, T0);
	struct clients_http h = {
	    .ip = IP2, .mac = MAC1, .path = "/boot.ipxe", .status = 200, .complete = true};
	assert_int_equal(clients_on_http(c, &h, T0 + 1), 0);
	struct clients_tftp t = {.what = CLIENTS_XFER_START, .ip = IP2, .path = "debian/linux"};
	assert_int_equal(clients_on_tftp(c, &t, T0 + 2), 0);
	assert_int_equal(tftp_events_of(c, MAC1), 1);
	clients_free(c);
}

/* ---- bounds ---------------------------------------------------------------------------- */

static void test_timeline_is_bounded_and_keeps_the_newest(void **state)
{
	(void)state;
	struct clients_limits lim = {.timeline_len = 16};
	struct clients *c = clients_new(NULL, &lim);
	char d[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(d, sizeof(d), "event %d", i);
		assert_int_equal(clients_on_admin(c, MAC1, d, T0 + i), 0);
	}
	struct clients_record r;
	struct clients_event tl[64];
	size_t n = 0;
	assert_int_equal(clients_get(c, MAC1, &r, tl, 64, &n), 1);
	assert_int_equal(n, 16);
	for (size_t i = 0; i < n; i++) {
		snprintf(d, sizeof(d), "event %zu", 1000 - 16 + i);
		assert_string_equal(tl[i].detail, d);
	}
	/* a smaller copy gets the newest, oldest first */
	assert_int_equal(clients_get(c, MAC1, &r, tl, 4, &n), 1);
	assert_int_equal(n, 4);
	assert_string_equal(tl[0].detail, "event 996");
	assert_string_equal(tl[3].detail, "event 999");
	clients_free(c);
}

static void mac_of(int i, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0;
	mac[2] = (uint8_t)(i >> 24);
	mac[3] = (uint8_t)(i >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

static void test_ten_thousand_macs_stay_within_the_bound_in_memory(void **state)
{
	(void)state;
	struct clients_limits lim = {.max_clients = 100};
	struct clients *c = clients_new(NULL, &lim);
	struct clients_stats st;
	for (int i = 0; i < 10000; i++) {
		uint8_t mac[6];
		mac_of(i, mac);
		dhcp_ack(c, mac, 0x0a000000u + (uint32_t)i, T0 + i);
		clients_stats(c, &st);
		assert_true(st.in_memory <= 100);
	}
	assert_int_equal(st.in_memory, 100);
	assert_int_equal(st.evicted, 9900);
	/* the most recent survive, the oldest are gone (no store) */
	uint8_t mac[6];
	struct clients_record r;
	mac_of(9999, mac);
	assert_int_equal(clients_get(c, mac, &r, NULL, 0, NULL), 1);
	mac_of(0, mac);
	assert_int_equal(clients_get(c, mac, &r, NULL, 0, NULL), 0);
	clients_free(c);
}

/* ---- with a store ---------------------------------------------------------------------- */

static char tmpdir[64], statedir[96];

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int setup_store(void **state)
{
	strcpy(tmpdir, "/tmp/pixied-test-clients-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(statedir, sizeof(statedir), "%s/state", tmpdir);
	char err[256];
	struct store *s = store_open(statedir, false, err, sizeof(err));
	if (!s)
		fail_msg("store_open: %s", err);
	*state = s;
	return 0;
}

static int teardown_store(void **state)
{
	store_close(*state);
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static struct store *reopen(struct store *s)
{
	store_close(s);
	char err[256];
	s = store_open(statedir, false, err, sizeof(err));
	if (!s)
		fail_msg("store_open: %s", err);
	return s;
}

static void test_records_survive_a_restart_with_their_last_events(void **state)
{
	struct store *s = *state;
	struct clients_limits lim = LIM;
	lim.persist_events = 4;
	struct clients *c = clients_new(s, &lim);
	int64_t now = T0;
	run(c, &flows[1], &now); /* UEFI PXE -> iPXE -> booted */
	assert_int_equal(store_nextboot_set(s, MAC1, "rescue"), 0);
	struct clients_record before;
	struct clients_event tl0[64];
	size_t n0;
	assert_int_equal(clients_get(c, MAC1, &before, tl0, 64, &n0), 1);
	assert_string_equal(before.next_boot, "rescue");
	clients_free(c); /* writes what is pending */
	assert_false(store_in_transaction(s));

	s = reopen(s);
	*state = s;
	c = clients_new(s, &lim); /* warm start */
	struct clients_stats st;
	clients_stats(c, &st);
	assert_int_equal(st.in_memory, 1);
	struct clients_record after;
	struct clients_event tl[64];
	size_t n = 0;
	assert_int_equal(clients_get(c, MAC1, &after, tl, 64, &n), 1);
	assert_memory_equal(&after, &before, offsetof(struct clients_record, next_boot));
	assert_string_equal(after.next_boot, "rescue");
	assert_int_equal(after.status, CLIENTS_ST_BOOTED);
	assert_int_equal(after.boots, 1);
	assert_int_equal(n, 4); /* persist_events */
	for (size_t i = 0; i < n; i++) {
		const struct clients_event *a = &tl[i], *b = &tl0[n0 - n + i];
		assert_int_equal(a->kind, b->kind);
		assert_int_equal(a->time_ms, b->time_ms);
		assert_int_equal(a->status, b->status);
		assert_int_equal(a->bytes, b->bytes);
		assert_string_equal(a->detail, b->detail);
	}
	clients_free(c);
}

static void test_evicted_records_come_back_from_the_store_and_are_all_listed(void **state)
{
	struct store *s = *state;
	struct clients_limits lim = {.max_clients = 100};
	struct clients *c = clients_new(s, &lim);
	struct clients_stats st;
	for (int i = 0; i < 10000; i++) {
		uint8_t mac[6];
		mac_of(i, mac);
		dhcp_ack(c, mac, 0x0a000000u + (uint32_t)i, T0 + i);
		clients_stats(c, &st);
		assert_true(st.in_memory <= 100);
		assert_false(store_in_transaction(s));
	}
	uint8_t mac[6];
	mac_of(7, mac);
	struct clients_record r;
	struct clients_event tl[8];
	size_t n = 0;
	assert_int_equal(clients_get(c, mac, &r, tl, 8, &n), 1);
	assert_int_equal(r.ip, 0x0a000007u);
	assert_int_equal(r.status, CLIENTS_ST_WAITING_LOADER);
	assert_string_equal(r.loader, "undionly.kpxe");
	assert_int_equal(n, 2); /* request + ack */
	/* an event for an evicted MAC reloads it with its history */
	dhcp_ack(c, mac, 0x0a000007u, T0 + 20000);
	assert_int_equal(clients_get(c, mac, &r, tl, 8, &n), 1);
	assert_int_equal(n, 4);
	assert_int_equal(r.first_seen_ms, T0 + 7);

	/* every record is listed, most recent first */
	char *json = NULL;
	size_t len = 0;
	assert_int_equal(clients_list_json(c, &json, &len), 0);
	assert_true(json_check_strict(json, len));
	size_t count = 0;
	for (const char *p = json; (p = strstr(p, "\"mac\":")); p++)
		count++;
	assert_int_equal(count, 10000);
	assert_non_null(strstr(json, "[{\"mac\":\"02:00:00:00:00:07\""));
	free(json);
	assert_false(store_in_transaction(s));
	clients_free(c);
}

static void test_flush_batches_per_flush_ms_and_joins_an_open_transaction_when_due(void **state)
{
	struct store *s = *state;
	struct clients *c = clients_new(s, &LIM);
	uint8_t buf[STORE_CLIENT_DATA_MAX];
	struct store_client sc;

	/* no transaction open, change younger than flush_ms: not written yet */
	dhcp_ack(c, MAC1, IP1, T0);
	assert_int_equal(clients_flush(c, T0 + 10, false), 0);
	assert_int_equal(store_client_get(s, MAC1, &sc, buf, sizeof(buf)), 0);
	/* once flush_ms has passed it writes in a transaction of its own, closed again */
	assert_int_equal(clients_flush(c, T0 + 1000, false), 1);
	assert_false(store_in_transaction(s));
	assert_int_equal(store_client_get(s, MAC1, &sc, buf, sizeof(buf)), 1);

	/* the DHCP service's transaction is open but the change is young: not written (a busy
	 * DHCP turn does not also write every record it touched) */
	dhcp_ack(c, MAC2, IP2, T0 + 2000);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(clients_flush(c, T0 + 2001, false), 0);
	/* once due, the write joins the open transaction and leaves it open */
	assert_int_equal(clients_flush(c, T0 + 3001, false), 1);
	assert_true(store_in_transaction(s));
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_client_get(s, MAC2, &sc, buf, sizeof(buf)), 1);
	assert_int_equal(sc.first_seen_ms, T0 + 2000);

	/* force writes at once */
	assert_int_equal(clients_on_admin(c, MAC1, "next boot set", T0 + 3500), 0);
	assert_int_equal(clients_flush(c, T0 + 3500, true), 1);
	assert_false(store_in_transaction(s));
	/* nothing pending: nothing written */
	assert_int_equal(clients_flush(c, T0 + 9000, true), 0);
	clients_free(c);
}

static void test_a_lease_in_the_store_maps_an_unknown_address(void **state)
{
	struct store *s = *state;
	struct clients_limits lim = LIM;
	lim.max_clients = 1;
	struct clients *c = clients_new(s, &lim);
	dhcp_ack(c, MAC1, IP1, T0);
	dhcp_ack(c, MAC2, IP2, T0 + 1); /* evicts MAC1 (and its IP index entry) */
	assert_int_equal(clients_flush(c, T0 + 2, true), 2);
	struct store_lease l = {.ip = IP1, .expires = 2000000000, .state = STORE_LEASE_BOUND};
	memcpy(l.mac, MAC1, 6);
	assert_int_equal(store_lease_put(s, &l), 0);
	struct clients_tftp t = {.what = CLIENTS_XFER_START, .ip = IP1, .path = "undionly.kpxe"};
	assert_int_equal(clients_on_tftp(c, &t, T0 + 3), 0);
	assert_int_equal(tftp_events_of(c, MAC1), 1);
	clients_free(c);
}

static void test_a_boot_in_progress_at_restart_stalls_with_an_honest_diagnosis(void **state)
{
	struct store *s = *state;
	struct clients *c = clients_new(s, &LIM);
	dhcp_ack(c, MAC1, IP1, T0);
	clients_free(c);
	s = reopen(s);
	*state = s;
	c = clients_new(s, &LIM);
	struct clients_record r;
	assert_int_equal(clients_get(c, MAC1, &r, NULL, 0, NULL), 1);
	assert_int_equal(r.status, CLIENTS_ST_WAITING_LOADER);
	clients_tick(c, T0 + 30000);
	assert_int_equal(clients_get(c, MAC1, &r, NULL, 0, NULL), 1);
	assert_int_equal(r.status, CLIENTS_ST_WAITING_LOADER);
	clients_tick(c, T0 + 61000);
	assert_int_equal(clients_get(c, MAC1, &r, NULL, 0, NULL), 1);
	assert_int_equal(r.status, CLIENTS_ST_STALLED);
	assert_int_equal(r.stalled_in, CLIENTS_ST_WAITING_LOADER);
	assert_non_null(strstr(r.diagnosis, "pixied restarted meanwhile"));
	clients_free(c);
	/* and the stall itself survives the next restart */
	s = reopen(s);
	*state = s;
	c = clients_new(s, &LIM);
	assert_int_equal(clients_get(c, MAC1, &r, NULL, 0, NULL), 1);
	assert_int_equal(r.status, CLIENTS_ST_STALLED);
	assert_non_null(strstr(r.diagnosis, "pixied restarted meanwhile"));
	clients_free(c);
}

static int count_row(void *arg, const struct store_client *sc)
{
	(void)sc;
	(*(size_t *)arg)++;
	return 0;
}

static size_t store_rows(struct store *s)
{
	size_t n = 0;
	assert_int_equal(store_client_each(s, count_row, &n), 0);
	return n;
}

static void test_store_rows_are_pruned_deleted_and_checked_on_read(void **state)
{
	struct store *s = *state;
	uint8_t blob[] = {1};
	for (int i = 0; i < 20; i++) {
		struct store_client sc = {
		    .first_seen_ms = i, .last_seen_ms = i, .data = blob, .data_len = sizeof(blob)};
		mac_of(i, sc.mac);
		assert_int_equal(store_client_put(s, &sc), 0);
	}
	/* bad puts */
	struct store_client bad = {.data = blob, .data_len = 0};
	assert_int_equal(store_client_put(s, &bad), -EINVAL);
	bad.data_len = STORE_CLIENT_DATA_MAX + 1;
	assert_int_equal(store_client_put(s, &bad), -EINVAL);
	assert_int_equal(store_rows(s), 20);
	assert_int_equal(store_client_prune(s, 15), 5);
	assert_int_equal(store_rows(s), 15);
	uint8_t mac[6], buf[16];
	struct store_client got;
	mac_of(4, mac); /* among the oldest: pruned */
	assert_int_equal(store_client_get(s, mac, &got, buf, sizeof(buf)), 0);
	mac_of(19, mac);
	assert_int_equal(store_client_get(s, mac, &got, buf, sizeof(buf)), 1);
	assert_int_equal(got.last_seen_ms, 19);
	assert_int_equal(store_client_get(s, mac, &got, buf, 0), -ENOSPC);
	assert_int_equal(store_client_del(s, mac), 0);
	assert_int_equal(store_client_del(s, mac), 0);
	assert_int_equal(store_rows(s), 14);

	/* rows written behind the store's back are skipped, never trusted */
	char db[160];
	snprintf(db, sizeof(db), "%s/leases.db", statedir);
	sqlite3 *raw;
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(raw,
			 "INSERT INTO clients VALUES (x'0102030405', 1, 100, x'01');"
			 "INSERT INTO clients VALUES (x'010203040506', 1, 101, 'text');"
			 "INSERT INTO clients VALUES (x'010203040507', 'a', 102, x'01');"
			 "INSERT INTO clients VALUES (x'010203040508', 1, 103, x'ff00');",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(store_rows(s), 15);      /* only the well-formed row with a bad blob */
	struct clients *c = clients_new(s, NULL); /* its blob has an unknown version: skipped */
	struct clients_stats st;
	clients_stats(c, &st);
	assert_int_equal(st.in_memory, 14);
	const uint8_t m8[6] = {1, 2, 3, 4, 5, 8};
	struct clients_record r;
	assert_int_equal(clients_get(c, m8, &r, NULL, 0, NULL), 1); /* known, empty */
	assert_string_equal(r.hostname, "");
	clients_free(c);
}

/* ---- iface and the permanent entry ------------------------------------------------------ */

static void test_iface_is_the_interface_the_client_was_last_heard_on(void **state)
{
	(void)state;
	struct clients *c = clients_new(NULL, &LIM);
	static const struct {
		const char *name;
		const char *iface; /* given with the request */
		const char *want;  /* record.iface after it */
	} rows[] = {
	    {"first heard on eth1", "eth1", "eth1"},       {"then on eth2", "eth2", "eth2"},
	    {"unknown keeps the last one", NULL, "eth2"},  {"empty keeps the last one", "", "eth2"},
	    {"control bytes dropped", "e\x01th3", "eth3"},
	};
	char json[4096];
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct dhcp_pxe_facts f;
		facts_for(W_PXE_BIOS, MAC1, &f);
		struct clients_dhcp d = {
		    .facts = &f, .msg_type = DHCPDISCOVER, .iface = rows[i].iface};
		assert_int_equal(clients_on_dhcp(c, &d, T0 + (int64_t)i), 0);
		struct clients_record r;
		assert_int_equal(clients_get(c, MAC1, &r, NULL, 0, NULL), 1);
		if (strcmp(r.iface, rows[i].want) != 0)
			fail_msg("%s: iface %s, want %s", rows[i].name, r.iface, rows[i].want);
		int len = clients_record_json(&r, NULL, 0, json, sizeof(json));
		assert_true(len > 0 && json_check_strict(json, (size_t)len));
		char v[32];
		assert_true(json_get_string(json, (size_t)len, "iface", v, sizeof(v)) >= 0);
		assert_string_equal(v, rows[i].want);
	}
	clients_free(c);
}

static void test_pinned_entry_is_read_from_the_store_and_persisted(void **state)
{
	struct store *s = *state;
	struct clients *c = clients_new(s, &LIM);
	dhcp_ack(c, MAC1, IP1, T0);
	struct clients_record r;
	char json[4096], v[64];
	assert_int_equal(clients_get(c, MAC1, &r, NULL, 0, NULL), 1);
	assert_string_equal(r.pinned, "");
	/* set through the store (the API), then announced */
	assert_int_equal(store_pin_set(s, MAC1, "debian"), 0);
	assert_int_equal(clients_changed(c, MAC1, T0 + 1), 0);
	assert_int_equal(clients_get(c, MAC1, &r, NULL, 0, NULL), 1);
	assert_string_equal(r.pinned, "debian");
	int len = clients_record_json(&r, NULL, 0, json, sizeof(json));
	assert_true(len > 0 && json_check_strict(json, (size_t)len));
	assert_true(json_get_string(json, (size_t)len, "pinned", v, sizeof(v)) >= 0);
	assert_string_equal(v, "debian");
	/* a pin for a MAC that is only in the store shows in the list too */
	assert_int_equal(store_pin_set(s, MAC2, "rescue"), 0);
	dhcp_ack(c, MAC2, IP2, T0 + 2);
	char *list = NULL;
	size_t ll = 0;
	assert_int_equal(clients_list_json(c, &list, &ll), 0);
	assert_non_null(strstr(list, "\"pinned\":\"rescue\""));
	assert_non_null(strstr(list, "\"pinned\":\"debian\""));
	free(list);
	clients_free(c);

	/* the persisted record carries it; the store stays the authority on read */
	s = reopen(s);
	*state = s;
	struct store_client sc;
	uint8_t blob[STORE_CLIENT_DATA_MAX];
	assert_int_equal(store_client_get(s, MAC1, &sc, blob, sizeof(blob)), 1);
	struct clients_record d;
	memset(&d, 0, sizeof(d));
	memcpy(d.mac, MAC1, 6);
	assert_int_equal(clients_blob_decode(sc.data, sc.data_len, &d, NULL, 0, NULL), 0);
	assert_string_equal(d.pinned, "debian");
	assert_int_equal(store_pin_clear(s, MAC1), 0);
	c = clients_new(s, &LIM);
	assert_int_equal(clients_get(c, MAC1, &r, NULL, 0, NULL), 1);
	assert_string_equal(r.pinned, "");
	clients_free(c);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void test_json_escapes_everything_a_client_sent(void **state)
{
	(void)state;
	struct clients *c = clients_new(NULL, &LIM);
	static const struct {
		const char *name;
		const char *raw;
		size_t len;
		const char *want_json;  /* the hostname as it must appear in the JSON text */
		const char *want_value; /* and decoded */
	} rows[] = {
	    {"html tag", "<img src=x onerror=alert(1)>", 28,
	     "\"hostname\":\"\\u003cimg src=x onerror=alert(1)\\u003e\"",
	     "<img src=x onerror=alert(1)>"},
	    {"quotes and backslash", "a\"b\\c'd&e", 9,
	     "\"hostname\":\"a\\\"b\\\\c\\u0027d\\u0026e\"", "a\"b\\c'd&e"},
	    {"control bytes dropped",
	     "a\x01\x1f\x7f"
	     "b\tc",
	     7, "\"hostname\":\"abc\"", "abc"},
	    {"cut at the first NUL", "ab\0<script>", 11, "\"hostname\":\"ab\"", "ab"},
	    {"high bytes dropped", "caf\xc3\xa9", 5, "\"hostname\":\"caf\"", "caf"},
	};
	char json[8192];
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct dhcp_pxe_facts f;
		facts_for(W_PLAIN, MAC1, &f);
		str_copy(f.vendor_class, "</script><script>alert(\"x\")</script>",
			 sizeof(f.vendor_class));
		struct clients_dhcp d = {.facts = &f,
					 .msg_type = DHCPDISCOVER,
					 .hostname = (const uint8_t *)rows[i].raw,
					 .hostname_len = rows[i].len};
		assert_int_equal(clients_on_dhcp(c, &d, T0 + (int64_t)i), 0);
		struct clients_record r;
		struct clients_event tl[64];
		size_t n;
		assert_int_equal(clients_get(c, MAC1, &r, tl, 64, &n), 1);
		int len = clients_record_json(&r, tl, n, json, sizeof(json));
		assert_true(len > 0);
		if (!json_check_strict(json, (size_t)len) ||
		    !json_check_html_safe(json, (size_t)len))
			fail_msg("%s: not strict, HTML-safe JSON: %s", rows[i].name, json);
		if (!strstr(json, rows[i].want_json))
			fail_msg("%s: %s not in %s", rows[i].name, rows[i].want_json, json);
		char v[128];
		assert_true(json_get_string(json, (size_t)len, "hostname", v, sizeof(v)) >= 0);
		assert_string_equal(v, rows[i].want_value);
		assert_true(json_get_string(json, (size_t)len, "vendor_class", v, sizeof(v)) >= 0);
		assert_string_equal(v, "</script><script>alert(\"x\")</script>");
		assert_null(strstr(json, "</script>"));
		char *one = NULL;
		size_t ol = 0;
		assert_int_equal(clients_record_json_alloc(c, MAC1, &one, &ol), 0);
		assert_int_equal(ol, strlen(one));
		assert_true(json_check_strict(one, ol));
		free(one);
	}
	char *none = NULL;
	assert_int_equal(clients_record_json_alloc(c, MAC2, &none, NULL), -ENOENT);
	clients_free(c);
}

static void test_event_json_escapes_control_and_high_bytes(void **state)
{
	(void)state;
	struct clients_event ev;
	memset(&ev, 0, sizeof(ev));
	memcpy(ev.mac, MAC1, 6);
	ev.time_ms = T0;
	ev.kind = CLIENTS_EV_TFTP_ERROR;
	ev.status = CLIENTS_ST_STALLED;
	ev.ip = IP1;
	ev.bytes = 42;
	memcpy(ev.detail, "x\x01\n\"<>\xff", 8);
	char buf[CLIENTS_EVENT_JSON_MAX];
	int n = clients_event_json(&ev, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf,
			    "{\"mac\":\"52:54:00:00:00:01\",\"time\":1700000000000,"
			    "\"kind\":\"tftp-error\",\"status\":\"stalled\",\"ip\":\"10.0.0.50\","
			    "\"bytes\":42,\"duration_ms\":0,"
			    "\"detail\":\"x\\u0001\\n\\\"\\u003c\\u003e\\u00ff\"}");
	assert_true(json_check_strict(buf, (size_t)n));
	/* the worst case fits CLIENTS_EVENT_JSON_MAX: a detail of nothing but escaped bytes */
	struct clients_event worst = ev;
	worst.time_ms = INT64_MIN;
	worst.bytes = worst.duration_ms = UINT64_MAX;
	worst.ip = 0xffffffffu;
	worst.kind = CLIENTS_EV_DHCP_DISCOVER;
	worst.status = CLIENTS_ST_WAITING_SCRIPT;
	memset(worst.detail, '<', sizeof(worst.detail) - 1);
	char wbuf[CLIENTS_EVENT_JSON_MAX];
	assert_true(clients_event_json(&worst, wbuf, sizeof(wbuf)) > 0);
	/* too small: -ENOSPC and an empty string; exactly enough: fits */
	char small[16] = "junk";
	assert_int_equal(clients_event_json(&ev, small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "");
	char *exact = malloc((size_t)n + 1);
	assert_int_equal(clients_event_json(&ev, exact, (size_t)n + 1), n);
	assert_string_equal(exact, buf);
	assert_int_equal(clients_event_json(&ev, exact, (size_t)n), -ENOSPC);
	free(exact);
	ev.ip = 0;
	n = clients_event_json(&ev, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"ip\":null"));
}

/* ---- subscribers ----------------------------------------------------------------------- */

struct seen {
	struct clients *c;
	size_t n;
	enum clients_event_kind last_kind;
	enum clients_status last_status;
	uint8_t last_mac[6];
	int reentry;
};

static void on_event(void *arg, const struct clients_event *ev)
{
	struct seen *s = arg;
	s->n++;
	s->last_kind = ev->kind;
	s->last_status = ev->status;
	memcpy(s->last_mac, ev->mac, 6);
	/* recording from inside a notification is refused; reading works */
	s->reentry = clients_on_admin(s->c, ev->mac, "x", T0);
	struct clients_record r;
	assert_int_equal(clients_get(s->c, ev->mac, &r, NULL, 0, NULL), 1);
}

static void dummy(void *arg, const struct clients_event *ev)
{
	(void)arg;
	(void)ev;
}

static void test_subscribers_see_every_event_with_its_status(void **state)
{
	(void)state;
	struct clients *c = clients_new(NULL, &LIM);
	struct seen s = {.c = c};
	assert_int_equal(clients_subscribe(c, on_event, &s), 0);
	assert_int_equal(clients_subscribe(c, on_event, &s), -EEXIST);
	int extra[CLIENTS_SUBSCRIBERS_MAX];
	for (size_t i = 1; i < CLIENTS_SUBSCRIBERS_MAX; i++)
		assert_int_equal(clients_subscribe(c, dummy, &extra[i]), 0);
	assert_int_equal(clients_subscribe(c, dummy, &extra[0]), -ENOSPC);

	dhcp_ack(c, MAC1, IP1, T0); /* request + ack */
	assert_int_equal(s.n, 2);
	assert_int_equal(s.last_kind, CLIENTS_EV_DHCP_ACK);
	assert_int_equal(s.last_status, CLIENTS_ST_WAITING_LOADER);
	assert_memory_equal(s.last_mac, MAC1, 6);
	assert_int_equal(s.reentry, -EBUSY);

	/* a change outside an event: notified, not in the timeline */
	assert_int_equal(clients_changed(c, MAC1, T0 + 1), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.last_kind, CLIENTS_EV_UPDATE);
	assert_int_equal(clients_changed(c, MAC2, T0 + 1), -ENOENT);
	struct clients_record r;
	struct clients_event tl[8];
	size_t n;
	assert_int_equal(clients_get(c, MAC1, &r, tl, 8, &n), 1);
	assert_int_equal(n, 2);

	clients_unsubscribe(c, on_event, &s);
	dhcp_ack(c, MAC1, IP1, T0 + 2);
	assert_int_equal(s.n, 3);
	clients_free(c);
}

/* ---- the persisted blob ---------------------------------------------------------------- */

static void test_blob_round_trip_and_untrusted_input(void **state)
{
	(void)state;
	struct clients_record r;
	memset(&r, 0, sizeof(r));
	memcpy(r.mac, MAC1, 6);
	r.ip = IP1;
	str_copy(r.hostname, "pc-1", sizeof(r.hostname));
	r.has_arch = true;
	r.arch_code = 7;
	str_copy(r.arch_name, "x64 UEFI", sizeof(r.arch_name));
	r.is_pxe = r.is_ipxe = true;
	r.has_uuid = true;
	memset(r.uuid, 0xab, 16);
	str_copy(r.loader, "ipxe.efi", sizeof(r.loader));
	str_copy(r.diagnosis, "why", sizeof(r.diagnosis));
	str_copy(r.pinned, "debian", sizeof(r.pinned));
	str_copy(r.iface, "eth1", sizeof(r.iface));
	r.status = CLIENTS_ST_STALLED;
	r.stalled_in = CLIENTS_ST_BOOTING;
	r.attempt_start_ms = T0;
	r.boots = 3;
	struct clients_event tl[2];
	memset(tl, 0, sizeof(tl));
	tl[0].kind = CLIENTS_EV_DHCP_ACK;
	str_copy(tl[0].detail, "file ipxe.efi", sizeof(tl[0].detail));
	tl[1].kind = CLIENTS_EV_STALLED;
	uint8_t blob[4096];
	int len = clients_blob_encode(&r, tl, 2, blob, sizeof(blob));
	assert_true(len > 0);
	struct clients_record d;
	struct clients_event dt[4];
	size_t n;
	memset(&d, 0, sizeof(d));
	memcpy(d.mac, MAC1, 6);
	assert_int_equal(clients_blob_decode(blob, (size_t)len, &d, dt, 4, &n), 0);
	assert_memory_equal(&d, &r, sizeof(r));
	assert_int_equal(n, 2);
	assert_string_equal(dt[0].detail, "file ipxe.efi");
	/* truncated anywhere: never fails past the version, keeps a prefix */
	for (int cut = 1; cut < len; cut++)
		assert_int_equal(clients_blob_decode(blob, (size_t)cut, &d, dt, 4, &n), 0);
	/* unknown version / empty */
	blob[0] = 99;
	assert_int_equal(clients_blob_decode(blob, (size_t)len, &d, dt, 4, &n), -EPROTO);
	assert_int_equal(clients_blob_decode(blob, 0, &d, dt, 4, &n), -EPROTO);
	/* too small a buffer */
	assert_int_equal(clients_blob_encode(&r, tl, 2, blob, 10), -ENOSPC);
}

/* Blobs as earlier versions wrote them still read; versions from the future do not. */
static void test_blob_versions_old_ones_decode_unknown_ones_are_refused(void **state)
{
	(void)state;
	/* tag, 16-bit length, value: T_HOSTNAME = 2, T_HOST = 11, T_PINNED = 16, T_IFACE = 17 */
	static const struct {
		const char *name;
		uint8_t blob[32];
		size_t len;
		int want;
		const char *hostname, *host, *pinned, *iface;
	} rows[] = {
	    {"version 1: hostname and host",
	     {1, 2, 0, 2, 'p', 'c', 11, 0, 1, 'h'},
	     10,
	     0,
	     "pc",
	     "h",
	     "",
	     ""},
	    {"version 1 with a later tag: tags only add, it is read",
	     {1, 16, 0, 1, 'x', 2, 0, 1, 'a'},
	     9,
	     0,
	     "a",
	     "",
	     "x",
	     ""},
	    {"version 2: pinned and iface",
	     {2, 16, 0, 2, 'd', 'b', 17, 0, 4, 'e', 't', 'h', '1'},
	     13,
	     0,
	     "",
	     "",
	     "db",
	     "eth1"},
	    {"version 2, iface too long is cut",
	     {2,   17,  0,   20,  'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
	      'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't'},
	     24,
	     0,
	     "",
	     "",
	     "",
	     "abcdefghijklmno"},
	    {"version 0 is refused", {0, 2, 0, 1, 'a'}, 5, -EPROTO, "", "", "", ""},
	    {"version 3 is refused", {3, 2, 0, 1, 'a'}, 5, -EPROTO, "", "", "", ""},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct clients_record d;
		memset(&d, 0, sizeof(d));
		int rc = clients_blob_decode(rows[i].blob, rows[i].len, &d, NULL, 0, NULL);
		if (rc != rows[i].want)
			fail_msg("%s: %d, want %d", rows[i].name, rc, rows[i].want);
		if (rc < 0)
			continue;
		assert_string_equal(d.hostname, rows[i].hostname);
		assert_string_equal(d.host, rows[i].host);
		assert_string_equal(d.pinned, rows[i].pinned);
		assert_string_equal(d.iface, rows[i].iface);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_transitions_follow_each_boot_flow),
	    cmocka_unit_test(test_head_request_is_ignored),
	    cmocka_unit_test(test_booted_event_carries_time_since_first_discover),
	    cmocka_unit_test(test_diagnosis_names_the_cause_of_each_stall),
	    cmocka_unit_test(test_tftp_events_are_mapped_to_the_mac_that_holds_the_address),
	    cmocka_unit_test(test_http_with_a_mac_claims_the_address),
	    cmocka_unit_test(test_timeline_is_bounded_and_keeps_the_newest),
	    cmocka_unit_test(test_ten_thousand_macs_stay_within_the_bound_in_memory),
	    cmocka_unit_test_setup_teardown(test_records_survive_a_restart_with_their_last_events,
					    setup_store, teardown_store),
	    cmocka_unit_test_setup_teardown(
		test_evicted_records_come_back_from_the_store_and_are_all_listed, setup_store,
		teardown_store),
	    cmocka_unit_test_setup_teardown(
		test_flush_batches_per_flush_ms_and_joins_an_open_transaction_when_due, setup_store,
		teardown_store),
	    cmocka_unit_test_setup_teardown(test_a_lease_in_the_store_maps_an_unknown_address,
					    setup_store, teardown_store),
	    cmocka_unit_test_setup_teardown(
		test_a_boot_in_progress_at_restart_stalls_with_an_honest_diagnosis, setup_store,
		teardown_store),
	    cmocka_unit_test_setup_teardown(test_store_rows_are_pruned_deleted_and_checked_on_read,
					    setup_store, teardown_store),
	    cmocka_unit_test(test_json_escapes_everything_a_client_sent),
	    cmocka_unit_test(test_event_json_escapes_control_and_high_bytes),
	    cmocka_unit_test(test_subscribers_see_every_event_with_its_status),
	    cmocka_unit_test(test_blob_round_trip_and_untrusted_input),
	    cmocka_unit_test(test_blob_versions_old_ones_decode_unknown_ones_are_refused),
	    cmocka_unit_test(test_iface_is_the_interface_the_client_was_last_heard_on),
	    cmocka_unit_test_setup_teardown(test_pinned_entry_is_read_from_the_store_and_persisted,
					    setup_store, teardown_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
