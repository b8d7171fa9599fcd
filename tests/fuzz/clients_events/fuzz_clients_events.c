/*
 * libFuzzer target for clients/: the JSON writers behind the API and the SSE stream, the
 * persisted blob reader, and the event inputs that feed them.
 *
 * Input: one mode byte (low 2 bits), then the rest.
 *  0: an event built from raw bytes (detail: any bytes up to its size) -> clients_event_json
 *     with a big and a small buffer;
 *  1: a record whose client-sent strings (hostname, vendor class, ...) are raw bytes, with
 *     a timeline -> clients_record_json;
 *  2: a sequence of DHCP / TFTP / HTTP / boot-choice / expect / tick operations on a small
 *     memory-only registry; every notification is serialised and every record at the end;
 *  3: a stored blob -> clients_blob_decode -> JSON; encode(decode(x)) decodes to the same.
 * Checked every time: the JSON is strict RFC 8259, one value, plain printable ASCII without
 * < > & ' (safe in HTML); a too-small buffer gives -ENOSPC and "" and never overruns; the
 * event's decoded "detail" equals the detail given (mode 0).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/clients.h"
#include "store/store.h"

#include "json_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "../fuzz_in.h"

/* A C string of up to cap - 1 raw bytes (stops at NUL like a C string would). */
static void take_str(struct in *in, char *dst, size_t cap)
{
	size_t l = take8(in);
	if (l > cap - 1)
		l = cap - 1;
	if (l > in->n)
		l = in->n;
	memcpy(dst, in->p, l);
	dst[l] = '\0';
	in->p += l;
	in->n -= l;
}

static void check_json(const char *buf, int len)
{
	if (len < 0)
		abort();
	if ((size_t)len != strlen(buf))
		abort();
	if (!json_check_strict(buf, (size_t)len))
		abort();
	if (!json_check_html_safe(buf, (size_t)len))
		abort();
}

static char big[1 << 20];

static void check_event(const struct clients_event *ev)
{
	char buf[CLIENTS_EVENT_JSON_MAX];
	int n = clients_event_json(ev, buf, sizeof(buf)); /* must always fit */
	check_json(buf, n);
}

static void check_record(const struct clients_record *r, const struct clients_event *tl, size_t n)
{
	int len = clients_record_json(r, tl, n, big, sizeof(big));
	check_json(big, len);
	/* every smaller buffer either fits exactly or says so */
	char small[64];
	int s = clients_record_json(r, NULL, 0, small, sizeof(small));
	if (s == -ENOSPC) {
		if (small[0] != '\0')
			abort();
	} else {
		check_json(small, s);
	}
}

static void mode_event(struct in *in)
{
	struct clients_event ev;
	memset(&ev, 0, sizeof(ev));
	for (int i = 0; i < 6; i++)
		ev.mac[i] = take8(in);
	ev.time_ms = (int64_t)take(in, 8);
	ev.kind = (enum clients_event_kind)(take8(in) % (CLIENTS_EV_COUNT + 2));
	ev.status = (enum clients_status)(take8(in) % (CLIENTS_ST_COUNT + 2));
	ev.ip = (uint32_t)take(in, 4);
	ev.bytes = take(in, 8);
	ev.duration_ms = take(in, 8);
	size_t l = in->n < sizeof(ev.detail) - 1 ? in->n : sizeof(ev.detail) - 1;
	memcpy(ev.detail, in->p, l);
	char buf[CLIENTS_EVENT_JSON_MAX];
	int n = clients_event_json(&ev, buf, sizeof(buf)); /* worst case: must always fit */
	check_json(buf, n);
	char dec[CLIENTS_DETAIL_LEN * 2];
	long dl = json_get_string(buf, (size_t)n, "detail", dec, sizeof(dec));
	if (dl < 0 || (size_t)dl != strlen(ev.detail) || memcmp(dec, ev.detail, (size_t)dl))
		abort();
	for (size_t cap = 0; cap < (size_t)n + 2; cap += 1 + cap / 3) {
		char *b = malloc(cap ? cap : 1);
		int r = clients_event_json(&ev, cap ? b : NULL, cap);
		if (cap > (size_t)n) {
			if (r != n || memcmp(b, buf, (size_t)n + 1))
				abort();
		} else if (r != -ENOSPC || (cap && b[0] != '\0')) {
			abort();
		}
		free(b);
	}
}

static void mode_record(struct in *in)
{
	struct clients_record r;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 6; i++)
		r.mac[i] = take8(in);
	r.ip = (uint32_t)take(in, 4);
	r.has_arch = take8(in) & 1;
	r.arch_code = (uint16_t)take(in, 2);
	r.has_uuid = take8(in) & 1;
	for (int i = 0; i < 16; i++)
		r.uuid[i] = take8(in);
	r.status = (enum clients_status)(take8(in) % (CLIENTS_ST_COUNT + 1));
	r.stalled_in = (enum clients_status)(take8(in) % (CLIENTS_ST_COUNT + 1));
	r.first_seen_ms = (int64_t)take(in, 8);
	take_str(in, r.hostname, sizeof(r.hostname));
	take_str(in, r.arch_name, sizeof(r.arch_name));
	take_str(in, r.vendor_class, sizeof(r.vendor_class));
	take_str(in, r.loader, sizeof(r.loader));
	take_str(in, r.entry, sizeof(r.entry));
	take_str(in, r.diagnosis, sizeof(r.diagnosis));
	size_t n = take8(in) % 8;
	struct clients_event tl[8];
	memset(tl, 0, sizeof(tl));
	for (size_t i = 0; i < n; i++) {
		tl[i].kind = (enum clients_event_kind)(take8(in) % CLIENTS_EV_COUNT);
		take_str(in, tl[i].detail, sizeof(tl[i].detail));
	}
	take_str(in, r.pinned, sizeof(r.pinned)); /* last: older seeds keep their meaning */
	take_str(in, r.iface, sizeof(r.iface));
	check_record(&r, tl, n);
	uint8_t blob[STORE_CLIENT_DATA_MAX];
	int bl = clients_blob_encode(&r, tl, n, blob, sizeof(blob));
	if (bl <= 0)
		abort();
}

static void on_note(void *arg, const struct clients_event *ev)
{
	(void)arg;
	check_event(ev);
}

static void mode_ops(struct in *in)
{
	struct clients_limits lim = {.max_clients = 4,
				     .timeline_len = 6,
				     .persist_events = 3,
				     .stall_ms = 1000,
				     .booted_quiet_ms = 500};
	struct clients *c = clients_new(NULL, &lim);
	if (!c)
		return;
	clients_subscribe(c, on_note, NULL);
	int64_t now = 1700000000000;
	static const char *const paths[] = {"undionly.kpxe",        "/boot.ipxe",       "ipxe.efi",
					    "debian/linux",         "debian/initrd.gz", "x.iso",
					    "pxelinux.cfg/default", "http://h/k?x=1"};
	for (int op = 0; op < 64 && in->n; op++) {
		uint8_t o = take8(in);
		uint8_t mac[6] = {2, 0, 0, 0, 0, (uint8_t)(take8(in) % 6)};
		uint32_t ip = 0x0a000000u | (take8(in) % 8);
		now += take8(in) * 50;
		char str[80];
		switch (o % 7) {
		case 0: {
			struct dhcp_pxe_facts f;
			memset(&f, 0, sizeof(f));
			f.has_mac = true;
			memcpy(f.mac, mac, 6);
			uint8_t fl = take8(in);
			f.is_pxe = fl & 1;
			f.is_ipxe = fl & 2;
			f.is_http = fl & 4;
			f.has_arch = fl & 8;
			f.arch_code = take8(in) % 42;
			take_str(in, f.arch_name, sizeof(f.arch_name));
			take_str(in, f.vendor_class, sizeof(f.vendor_class));
			take_str(in, str, sizeof(str));
			uint8_t host[80];
			size_t hl = take8(in) % sizeof(host);
			for (size_t i = 0; i < hl; i++)
				host[i] = take8(in);
			struct clients_dhcp d = {
			    .facts = &f,
			    .msg_type = (uint8_t)(take8(in) % 9),
			    .replied = fl & 16,
			    .reply_type = (uint8_t)(take8(in) % 9),
			    .yiaddr = fl & 32 ? ip : 0,
			    .requested_ip = fl & 64 ? ip : 0,
			    .boot_file = fl & 128 ? str : NULL,
			    .no_boot_why = str,
			    .no_reply_why = str,
			    .hostname = host,
			    .hostname_len = hl,
			    .iface = str, /* raw bytes too; the seeds keep their meaning */
			};
			clients_on_dhcp(c, &d, now);
			break;
		}
		case 1: {
			struct clients_tftp t = {.what = (enum clients_xfer)(take8(in) % 3),
						 .ip = ip,
						 .path = paths[take8(in) % 8],
						 .bytes = take8(in),
						 .ok = take8(in) & 1,
						 .reason =
						     (take8(in) & 1) ? "timeout" : "option-abort"};
			take_str(in, str, sizeof(str));
			if (take8(in) & 1)
				t.path = str;
			clients_on_tftp(c, &t, now);
			break;
		}
		case 2: {
			take_str(in, str, sizeof(str));
			uint8_t fl = take8(in);
			struct clients_http h = {.ip = ip,
						 .mac = fl & 1 ? mac : NULL,
						 .path = fl & 2 ? str : paths[fl % 8],
						 .status = fl & 4 ? 404 : 200,
						 .complete = fl & 8};
			clients_on_http(c, &h, now);
			break;
		}
		case 3:
			take_str(in, str, sizeof(str));
			clients_on_boot_choice(c, mac, ip, str, "host rule", str, now);
			break;
		case 4: {
			const char *ps[3] = {paths[take8(in) % 8], paths[take8(in) % 8],
					     paths[take8(in) % 8]};
			clients_expect_files(c, mac, ps, NULL, take8(in) % 4);
			break;
		}
		case 5: clients_tick(c, now + take8(in) * 100); break;
		default:
			take_str(in, str, sizeof(str));
			clients_on_admin(c, mac, str, now);
			break;
		}
	}
	for (uint8_t m = 0; m < 6; m++) {
		uint8_t mac[6] = {2, 0, 0, 0, 0, m};
		struct clients_record r;
		struct clients_event tl[8];
		size_t n = 0;
		if (clients_get(c, mac, &r, tl, 8, &n) == 1)
			check_record(&r, tl, n);
	}
	for (uint8_t m = 0; m < 6; m++) {
		uint8_t mac[6] = {2, 0, 0, 0, 0, m};
		char *one = NULL;
		size_t ol = 0;
		if (clients_record_json_alloc(c, mac, &one, &ol) == 0) {
			check_json(one, (int)ol);
			free(one);
		}
	}
	char *list = NULL;
	size_t ll = 0;
	if (clients_list_json(c, &list, &ll) == 0) {
		check_json(list, (int)ll);
		free(list);
	}
	clients_free(c);
}

static void mode_blob(struct in *in)
{
	struct clients_record r, r2;
	struct clients_event tl[8], tl2[8];
	size_t n = 0, n2 = 0;
	memset(&r, 0, sizeof(r));
	if (clients_blob_decode(in->p, in->n, &r, tl, 8, &n) < 0)
		return;
	check_record(&r, tl, n);
	uint8_t blob[STORE_CLIENT_DATA_MAX];
	int bl = clients_blob_encode(&r, tl, n, blob, sizeof(blob));
	if (bl <= 0)
		abort();
	memset(&r2, 0, sizeof(r2));
	if (clients_blob_decode(blob, (size_t)bl, &r2, tl2, 8, &n2) < 0)
		abort();
	if (memcmp(&r, &r2, sizeof(r)) != 0 || n != n2 || memcmp(tl, tl2, n * sizeof(tl[0])))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct in in = {data + 1, size - 1};
	switch (data[0] & 3) {
	case 0: mode_event(&in); break;
	case 1: mode_record(&in); break;
	case 2: mode_ops(&in); break;
	default: mode_blob(&in); break;
	}
	return 0;
}
