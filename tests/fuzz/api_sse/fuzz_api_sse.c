/*
 * libFuzzer target for the SSE serializer (api_sse_frame) and the Wake-on-LAN packet.
 *
 * Input: one byte picking the buffer size, a length-prefixed event name, then the data.
 * Checked: no crash or overrun; -ENOSPC leaves "" and never writes past cap; a frame
 * produced parses back (WHATWG event-stream rules: lines end at CR, LF or CRLF; "data: "
 * fields joined with LF) to the event name and to the data with CRLF and CR turned into LF;
 * it ends with a blank line and no field holds a raw CR or LF.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t cap = (size_t)data[0] * 64 + 1;
	size_t elen = data[1] % 24;
	data += 2;
	size -= 2;
	if (elen > size)
		elen = size;
	char ev[32];
	memcpy(ev, data, elen);
	ev[elen] = 0;
	const char *d = (const char *)data + elen;
	size_t dlen = size - elen;
	bool ev_has_nul = strlen(ev) != elen;
	char *buf = malloc(cap + 16);
	if (!buf)
		return 0;
	memset(buf + cap, 0xa5, 16);
	int n = api_sse_frame(buf, cap, elen ? ev : NULL, 42, d, dlen);
	for (int i = 0; i < 16; i++)
		if ((uint8_t)buf[cap + i] != 0xa5)
			abort();
	if (n == -EINVAL) {
		if (!strpbrk(ev, "\r\n"))
			abort();
	} else if (n == -ENOSPC) {
		if (buf[0])
			abort();
	} else if (n < 0) {
		abort();
	} else if (!ev_has_nul && !memchr(d, 0, dlen)) {
		/* parse it back */
		if ((size_t)n >= cap || buf[n] || n < 2 || buf[n - 1] != '\n' || buf[n - 2] != '\n')
			abort();
		char *want = malloc(dlen + 1), *got = malloc(dlen + 1);
		size_t wl = 0, gl = 0;
		for (size_t i = 0; i < dlen; i++) {
			if (d[i] == '\r' && i + 1 < dlen && d[i + 1] == '\n')
				continue;
			want[wl++] = d[i] == '\r' ? '\n' : d[i];
		}
		bool saw_event = false, first = true;
		char *p = buf;
		while (*p && *p != '\n') {
			char *nl = strchr(p, '\n');
			if (!nl || memchr(p, '\r', (size_t)(nl - p)))
				abort();
			*nl = 0;
			if (!strncmp(p, "data: ", 6)) {
				if (!first)
					got[gl++] = '\n';
				first = false;
				size_t l = strlen(p + 6);
				if (gl + l > dlen)
					abort();
				memcpy(got + gl, p + 6, l);
				gl += l;
			} else if (!strncmp(p, "event: ", 7)) {
				if (strcmp(p + 7, ev))
					abort();
				saw_event = true;
			} else if (strcmp(p, "id: 42")) {
				abort();
			}
			p = nl + 1;
		}
		if (saw_event != (elen > 0) || gl != wl || memcmp(got, want, wl))
			abort();
		free(want);
		free(got);
	}
	free(buf);
	if (size >= 6) {
		uint8_t pkt[API_WOL_LEN];
		if (api_wol_packet(pkt, sizeof(pkt), data) != API_WOL_LEN)
			abort();
		if (api_wol_packet(pkt, (size_t)data[0] % API_WOL_LEN, data) != -ENOSPC)
			abort();
	}
	return 0;
}
