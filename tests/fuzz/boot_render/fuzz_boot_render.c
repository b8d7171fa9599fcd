/*
 * libFuzzer target for the boot renderers (iPXE script, PXELINUX config).
 *
 * Input: bytes that build up to six catalog entries (kind, architectures, label, kernel,
 * initrds, args, chain files, image — arbitrary admin text), the choice (menu or one entry
 * by one of the three rules), the client's family, which netboot.xyz files exist, and a
 * client-controlled value used for every variable (host name, MAC, UUID, ...). Both
 * formats are rendered twice, once with harmless values and once with the fuzzed one:
 * the fuzzed value must not change the number of lines (no injected command), and
 * nothing may crash or read out of bounds. The files each entry makes a client fetch
 * (boot_item_files, for boot/'s report) must be as many with either value, each one line.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot_render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
	const uint8_t *p;
	size_t left;
};

static unsigned take(struct in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

/* A string of up to cap - 1 bytes (no NUL inside). */
static void take_str(struct in *in, char *dst, size_t cap)
{
	size_t n = take(in);
	if (n >= cap)
		n = cap - 1;
	size_t i = 0;
	for (; i < n && in->left; i++) {
		char c = (char)take(in);
		dst[i] = c ? c : 'x';
	}
	dst[i] = '\0';
}

static struct conf_entry entries[6];
static struct boot_item items[6];

static size_t lines(const struct boot_buf *b)
{
	size_t k = 0;
	for (size_t i = 0; i < b->len; i++)
		k += b->p[i] == '\n';
	return k;
}

static size_t render(const struct boot_menu *m, const struct boot_choice *ch,
		     const struct boot_vars *v, unsigned family, const struct boot_netboot *nb,
		     bool pxelinux, bool prefixed)
{
	struct boot_buf o;
	boot_buf_init(&o);
	int r = pxelinux ? boot_render_pxelinux_cfg(m, ch, v, prefixed, &o)
			 : boot_render_ipxe_script(m, ch, v, family, nb, &o);
	size_t n = r == 0 ? lines(&o) : (size_t)-1;
	if (r == 0 && strlen(o.p) != o.len)
		abort();
	boot_buf_free(&o);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	struct in in = {data, size};
	size_t n = 1 + take(&in) % 6;
	memset(entries, 0, sizeof(entries));
	memset(items, 0, sizeof(items));
	for (size_t i = 0; i < n; i++) {
		struct conf_entry *e = &entries[i];
		snprintf(e->name, sizeof(e->name), "e%zu", i);
		e->kind = (enum conf_entry_kind)(take(&in) % 7);
		e->archs = take(&in);
		take_str(&in, e->label, sizeof(e->label));
		take_str(&in, e->kernel, sizeof(e->kernel));
		e->ninitrd = take(&in) % 3;
		for (size_t k = 0; k < e->ninitrd; k++)
			take_str(&in, e->initrd[k], sizeof(e->initrd[k]));
		take_str(&in, e->args, sizeof(e->args));
		take_str(&in, e->chain, sizeof(e->chain));
		take_str(&in, e->chain_fam[take(&in) % 8], CONF_URL_LEN);
		take_str(&in, e->image, sizeof(e->image));
		items[i].entry = e;
	}
	if (take(&in) & 1) { /* an ISO from iso-dir in place of the last entry */
		items[n - 1].entry = NULL;
		snprintf(items[n - 1].iso_name, sizeof(items[0].iso_name), "x.iso");
		snprintf(items[n - 1].iso_image, sizeof(items[0].iso_image), "iso/x.iso");
	}
	char title[64], defname[8];
	take_str(&in, title, sizeof(title));
	snprintf(defname, sizeof(defname), "e%u", take(&in) % 8);
	struct boot_menu m = {.title = title,
			      .default_name = defname,
			      .timeout_ms = take(&in) * 100u,
			      .items = items,
			      .nitems = n};
	unsigned sel = take(&in);
	struct boot_choice ch = {.rule = (enum boot_rule)(sel % 4)};
	if (ch.rule != BOOT_RULE_MENU)
		ch.item = &items[(sel / 3) % n];
	take_str(&in, ch.why, sizeof(ch.why));
	unsigned fb = take(&in) % 9;
	unsigned family = fb == 8 ? 0 : 1u << fb;
	unsigned flags = take(&in);
	struct boot_netboot nb = {.local_vars = flags & 1, .menu = flags & 2};
	if (flags & 4)
		snprintf(nb.hostname_file, sizeof(nb.hostname_file), "HOSTNAME-h.ipxe");
	if (flags & 8)
		snprintf(nb.mac_file, sizeof(nb.mac_file), "MAC-525400123456.ipxe");
	bool prefixed = flags & 16;

	char value[256];
	take_str(&in, value, sizeof(value));
	struct boot_vars plain = {"10.0.0.1",
				  "http://10.0.0.1",
				  "52:54:00:12:34:56",
				  "10.0.0.9",
				  "host",
				  "b8945908-d6a6-41a9-611d-74a6ab80b83d",
				  "bios"};
	struct boot_vars hostile = {value, value, value, value, value, value, value};
	for (int fmt = 0; fmt < 2; fmt++) {
		/* what each entry makes a client fetch (boot/'s report): as many files whatever
		 * the values, each one line */
		for (size_t i = 0; i < n; i++) {
			struct boot_files fa, fb2;
			boot_item_files(&items[i], &plain, family, (enum boot_format)fmt, &fa);
			boot_item_files(&items[i], &hostile, family, (enum boot_format)fmt, &fb2);
			if (fa.n != fb2.n || fa.n > BOOT_REPORT_FILES_MAX)
				abort();
			for (size_t k = 0; k < fb2.n; k++)
				if (!boot_files_err(&fb2) &&
				    (strlen(fb2.path[k].p) != fb2.path[k].len ||
				     memchr(fb2.path[k].p, '\n', fb2.path[k].len)))
					abort();
			boot_files_free(&fa);
			boot_files_free(&fb2);
		}
		size_t a = render(&m, &ch, &plain, family, &nb, fmt, prefixed);
		size_t b = render(&m, &ch, &hostile, family, &nb, fmt, prefixed);
		if (a != (size_t)-1 && b != (size_t)-1 && a != b)
			abort(); /* a variable's value changed the number of lines */
	}
	return 0;
}
