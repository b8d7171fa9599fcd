/*
 * main — wiring only: parse the command line, load the config, open the store and the
 * sockets, drop privileges, run the loop; SIGHUP reloads, SIGTERM/SIGINT stop.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "boot/boot.h"
#include "boot/boot_render.h"
#include "clients/clients.h"
#include "conf/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "dhcp/dhcp.h"
#include "files/files.h"
#include "http/http.h"
#include "http/http_proto.h"
#include "metrics/metrics.h"
#include "ra/ra.h"
#include "ui/ui.h"
#include "net/net.h"
#include "store/store.h"
#include "tftp/tftp.h"

static const char usage[] =
	"Usage: pixied -c FILE [options]\n"
	"Network-boot server: DHCP (full or proxy) with PXE decisions, TFTP, HTTP, boot\n"
	"menus; a web UI (/ui/), JSON API (/api/v1/) and metrics (/metrics).\n"
	"\n"
	"  -c, --config FILE  configuration file (INI; see pixied.conf(5))\n"
	"      --check        validate the configuration, print problems as FILE:LINE: ...,\n"
	"                     exit 0 when it is valid and 1 when it is not\n"
	"      --hash-password\n"
	"                     read a password from stdin, print its argon2id hash for\n"
	"                     [api] password-hash, and exit\n"
	"  -v, --verbose      log more (repeat for debug)\n"
	"  -q, --quiet        log only warnings and errors\n"
	"  -V, --version      print the version and exit\n"
	"  -h, --help         print this help and exit\n"
	"\n"
	"pixied runs in the foreground and logs to stderr. Signals: SIGHUP reloads the\n"
	"configuration (a bad file keeps the running one), SIGTERM and SIGINT stop.\n";

struct daemon {
	struct loop *loop;
	struct conf *conf;
	const char *conf_path;
	struct store *store;
	struct files *files;
	struct boot *boot;
	struct clients *clients;
	struct loop_timer clients_timer;
	struct dhcp_service *dhcp;
	struct tftp_server *tftp;
	struct http_server *http; /* always created (reload may enable it); see http.h */
	struct api *api;
	struct metrics *metrics;
	struct ra *ra;
	struct net_iface ifs[CONF_MAX_IFACES];
	size_t nifs;
	int exit_code;
};

static void log_errors(const char *errs)
{
	char line[1024];
	const char *p = errs;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		snprintf(line, sizeof(line), "%.*s", (int)MIN(n, sizeof(line) - 1), p);
		log_err("conf", "%s", line);
		p += n + (nl ? 1 : 0);
	}
}

static int get_ifaces(const struct conf *c, struct net_iface *ifs, size_t *nifs, char *err,
		      size_t errlen)
{
	*nifs = 0;
	for (size_t i = 0; i < c->nifaces; i++) {
		int r = net_iface_get(c->ifaces[i], &ifs[i]);
		if (r < 0) {
			snprintf(err, errlen, "%s: [server] interfaces: %s: %s", c->path,
				 c->ifaces[i],
				 r == -ENODEV ? "no such interface" : strerror(-r));
			return r;
		}
		(*nifs)++;
	}
	return 0;
}

/* Changes that need new sockets or a new identity: refuse them on reload. */
static const char *needs_restart(const struct conf *a, const struct conf *b)
{
	if (a->nifaces != b->nifaces || memcmp(a->ifaces, b->ifaces, sizeof(a->ifaces)))
		return "[server] interfaces";
	if (strcmp(a->state, b->state))
		return "[server] state";
	if (strcmp(a->user, b->user))
		return "[server] user";
	if (a->dhcp.mode != b->dhcp.mode)
		return "[dhcp] mode";
	if (a->dhcp.probe != b->dhcp.probe)
		return "[dhcp] probe";
	return NULL;
}

/*
 * Load the config file again and apply it to every service, or to none: on a failure the
 * services already changed are put back. 0, or a negative errno with the reason in err
 * (config errors one per line). The API's host changes go through here too.
 */
static int apply_reload(struct daemon *d, char *err, size_t errlen)
{
	struct conf *nc = conf_load(d->conf_path, err, errlen);
	if (!nc)
		return -EINVAL;
	const char *what = needs_restart(d->conf, nc);
	if (what) {
		snprintf(err, errlen, "%s changed, which needs a restart", what);
		conf_free(nc);
		return -EBUSY;
	}
	/* Apply to each service; on a failure put the ones already changed back. */
	int r = files_reconfigure(d->files, nc, err, errlen);
	if (r == 0 && (r = boot_reconfigure(d->boot, nc, err, errlen)) < 0) {
		char e2[256];
		files_reconfigure(d->files, d->conf, e2, sizeof(e2));
	}
	if (r == 0) {
		r = dhcp_service_reconfigure(d->dhcp, nc, err, errlen);
		if (r == 0) {
			r = d->tftp ? tftp_server_reconfigure(d->tftp, nc, err, errlen) : 0;
			if (r == 0) {
				r = http_server_reconfigure(d->http, nc, err, errlen);
				if (r < 0 && d->tftp) {
					char e3[256];
					tftp_server_reconfigure(d->tftp, d->conf, e3, sizeof(e3));
				}
			}
			if (r < 0) {
				char e2[256];
				dhcp_service_reconfigure(d->dhcp, d->conf, e2, sizeof(e2));
			}
		}
		if (r < 0) {
			char e2[256];
			boot_reconfigure(d->boot, d->conf, e2, sizeof(e2));
			files_reconfigure(d->files, d->conf, e2, sizeof(e2));
		}
	}
	if (r < 0) {
		conf_free(nc);
		return r;
	}
	conf_free(d->conf);
	d->conf = nc;
	api_reconfigure(d->api, nc);
	char e4[256];
	if (ra_reconfigure(d->ra, nc, d->ifs, d->nifs, e4, sizeof(e4)) < 0)
		log_warn("main", "router advertisements: %s", e4);
	return 0;
}

/* The API's host changes reload through the same path (api.h: reload callback). */
static int api_reload(void *arg, char *err, size_t errlen)
{
	return apply_reload(arg, err, errlen);
}

static void reload(struct daemon *d)
{
	char err[8192];
	int r = apply_reload(d, err, sizeof(err));
	if (r == -EINVAL) {
		log_errors(err);
		log_err("main", "reload refused: %s has errors; still running the previous "
				"configuration", d->conf_path);
	} else if (r == -EBUSY) {
		log_err("main", "reload refused: %s; still running the previous configuration",
			err);
	} else if (r < 0) {
		log_err("main", "reload refused: %s; still running the previous configuration",
			err);
	} else {
		log_info("main", "reloaded config=%s", d->conf_path);
	}
}

static void on_signal(void *arg, int signo)
{
	struct daemon *d = arg;
	if (signo == SIGHUP) {
		reload(d);
		return;
	}
	log_info("main", "stopping signal=%s", signo == SIGTERM ? "TERM" : "INT");
	loop_stop(d->loop);
}

/* Make the state directory and its files belong to the user we will run as. */
static int own_state_dir(const struct conf *c, char *err, size_t errlen)
{
	if (geteuid() != 0 || !c->user[0] || !strcmp(c->user, "root"))
		return 0;
	uid_t uid;
	gid_t gid;
	int r = net_user_ids(c->user, &uid, &gid);
	if (r < 0) {
		snprintf(err, errlen,
			 "%s: [server] user = %s: no such user; create it (useradd --system "
			 "--no-create-home %s) or name another",
			 c->path, c->user, c->user);
		return r;
	}
	if (mkdir(c->state, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create state directory %s: %s", c->state,
			 strerror(errno));
		return -errno;
	}
	int dfd = open(c->state, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0 || fchown(dfd, uid, gid) < 0) {
		snprintf(err, errlen, "cannot give state directory %s to user %s: %s", c->state,
			 c->user, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -errno;
	}
	static const char *const names[] = {"leases.db", "leases.db-wal", "leases.db-shm",
					    "pixied.lock"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (fchownat(dfd, names[i], uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
			log_warn("main", "cannot chown %s/%s: %s", c->state, names[i],
				 strerror(errno));
	close(dfd);
	return 0;
}

/* GET/HEAD /boot.ipxe?mac=..&arch=..&platform=..&uuid=..: the client's iPXE script (boot/).
 * HEAD renders it too (for its length) but does not consume a one-shot next boot. */
static int boot_route(void *arg, const struct http_request *req, struct http_response *resp)
{
	bool head = !strcmp(req->method, "HEAD");
	if (!head && strcmp(req->method, "GET")) {
		resp->status = 405;
		return http_response_header(resp, "Allow", "GET, HEAD");
	}
	struct boot_request rq = {.client_ip = req->is_v6 ? 0 : req->addr4,
				  .server_ip = req->local4,
				  .server_port = req->local_port};
	for (size_t i = 0; i < req->nparams; i++)
		boot_request_param(&rq, req->params[i].name, req->params[i].value);
	boot_request_finish(&rq);
	int r = boot_render_ipxe(arg, &rq, !head, &resp->body, &resp->body_len, NULL);
	if (r < 0)
		return r;
	return http_response_header(resp, "Cache-Control", "no-store");
}

/* Every second: stall and "booted" marks, and records whose write has waited long enough. */
static void clients_timer_fn(void *arg)
{
	struct daemon *d = arg;
	clients_tick(d->clients, clients_time_ms());
	loop_timer_arm(d->loop, &d->clients_timer, loop_now(d->loop) + 1000);
}

static void on_tftp_event(void *arg, const struct tftp_event *ev)
{
	struct daemon *d = arg;
	if (ev->is_v6 || ev->write)
		return;
	struct clients_tftp t = {
		.what = ev->kind == TFTP_EVENT_START	 ? CLIENTS_XFER_START
			: ev->kind == TFTP_EVENT_END ? CLIENTS_XFER_END
						     : CLIENTS_XFER_REFUSED,
		.ip = ev->addr4,
		.path = ev->file,
		.size = ev->size,
		.bytes = ev->bytes,
		.duration_ms = ev->duration_ms,
		.ok = ev->ok,
		.reason = ev->reason,
	};
	clients_on_tftp(d->clients, &t, clients_time_ms());
}

/* boot/ rendered a script or config for a known MAC: its choice and the files to expect. */
static void on_boot_report(void *arg, const struct boot_report *r)
{
	struct daemon *d = arg;
	int64_t now = clients_time_ms();
	clients_on_boot_choice(d->clients, r->mac, r->ip, r->entry, boot_rule_name(r->rule),
			       r->host, now);
	if (!r->entry || !r->entry[0])
		return; /* the menu: the user's choice decides what is fetched */
	if (r->nfiles && r->kinds[r->nfiles - 1] == BOOT_FILE_LOADER && r->files[r->nfiles - 1]) {
		/* a chain to PXELINUX: not booted when the loader is served; its config render
		 * reports the kernel and initrd it will fetch */
		if (boot_chain_is_pxelinux(r->files[r->nfiles - 1]))
			return;
	}
	enum clients_file_kind kinds[BOOT_REPORT_FILES_MAX];
	for (size_t i = 0; i < r->nfiles && i < BOOT_REPORT_FILES_MAX; i++) {
		switch (r->kinds[i]) {
		case BOOT_FILE_SCRIPT: kinds[i] = CLIENTS_FILE_SCRIPT; break;
		case BOOT_FILE_KERNEL: kinds[i] = CLIENTS_FILE_KERNEL; break;
		case BOOT_FILE_INITRD: kinds[i] = CLIENTS_FILE_INITRD; break;
		case BOOT_FILE_ISO: kinds[i] = CLIENTS_FILE_ISO; break;
		case BOOT_FILE_LOADER: kinds[i] = CLIENTS_FILE_LOADER; break;
		case BOOT_FILE_OTHER: kinds[i] = CLIENTS_FILE_OTHER; break;
		}
	}
	clients_expect_files(d->clients, r->mac, r->files, kinds, MIN(r->nfiles, BOOT_REPORT_FILES_MAX));
}

/* Every finished HTTP request: metrics count it; a boot file request goes on its client's
 * timeline (found by ?mac= or by address). */
static void on_http_access(void *arg, const struct http_access *a)
{
	struct daemon *d = arg;
	metrics_on_http(d->metrics, a);
	if (a->admin)
		return;
	uint8_t mac[6];
	bool has_mac = false;
	for (size_t i = 0; i < a->nparams && !has_mac; i++)
		if (!strcmp(a->params[i].name, "mac"))
			has_mac = parse_mac_any(a->params[i].value, mac) == 0;
	struct clients_http h = {.ip = a->is_v6 ? 0 : a->addr4,
				 .mac = has_mac ? mac : NULL,
				 .method = a->method,
				 .path = a->path,
				 .status = a->status,
				 .bytes = a->bytes,
				 .duration_ms = a->duration_ms,
				 .complete = a->complete};
	clients_on_http(d->clients, &h, clients_time_ms());
}

static int start(struct daemon *d)
{
	char err[4096];
	struct conf *c = d->conf;
	if (get_ifaces(c, d->ifs, &d->nifs, err, sizeof(err)) < 0)
		goto fail;
	if (own_state_dir(c, err, sizeof(err)) < 0)
		goto fail;
	d->store = store_open(c->state, c->dhcp.sync_full, err, sizeof(err));
	if (!d->store)
		goto fail;
	if (own_state_dir(c, err, sizeof(err)) < 0) /* files store_open just created */
		goto fail;
	/* clients before the DHCP service: its turn-end hook must run first so a turn's client
	 * writes join the lease commit (clients.h) */
	d->clients = clients_new(d->store, NULL);
	if (!d->clients) {
		snprintf(err, sizeof(err), "clients: out of memory");
		goto fail;
	}
	if (loop_on_turn_end(d->loop, clients_turn_end, d->clients) < 0) {
		snprintf(err, sizeof(err), "clients: cannot hook the loop");
		goto fail;
	}
	loop_timer_arm(d->loop, &d->clients_timer, loop_now(d->loop) + 1000);
	d->files = files_new(c, err, sizeof(err));
	if (!d->files)
		goto fail;
	d->boot = boot_new(c, d->store, err, sizeof(err));
	if (!d->boot)
		goto fail;
	uint32_t addrs[CONF_MAX_IFACES], masks[CONF_MAX_IFACES];
	for (size_t i = 0; i < d->nifs; i++) {
		addrs[i] = d->ifs[i].addr;
		masks[i] = d->ifs[i].mask;
	}
	boot_set_addresses(d->boot, addrs, masks, d->nifs);
	files_set_generator(d->files, boot_files_gen, d->boot);
	d->dhcp = dhcp_service_new(d->loop, c, d->store, d->ifs, d->nifs, err, sizeof(err));
	if (!d->dhcp)
		goto fail;
	dhcp_service_set_clients(d->dhcp, d->clients);
	boot_set_report_fn(d->boot, on_boot_report, d);
	if (c->tftp.enabled) {
		d->tftp = tftp_server_new(d->loop, c, d->files, d->ifs, d->nifs, err, sizeof(err));
		if (!d->tftp)
			goto fail;
		tftp_server_set_event_fn(d->tftp, on_tftp_event, d);
	}
	/* http: binds port 80 before privileges are dropped */
	d->http = http_server_new(d->loop, c, d->files, d->ifs, d->nifs, err, sizeof(err));
	if (!d->http)
		goto fail;
	if (http_server_route(d->http, "/boot.ipxe", boot_route, d->boot) < 0) {
		snprintf(err, sizeof(err), "http: cannot route /boot.ipxe");
		goto fail;
	}
	if (ui_register(d->http) < 0) {
		snprintf(err, sizeof(err), "http: cannot route /ui");
		goto fail;
	}
	struct metrics_sources ms = {.dhcp = d->dhcp, .tftp = d->tftp, .http = d->http,
				     .clients = d->clients};
	d->metrics = metrics_new(&ms);
	if (!d->metrics) {
		snprintf(err, sizeof(err), "metrics: out of memory or no room among the clients "
					   "subscribers");
		goto fail;
	}
	http_server_set_access_fn(d->http, on_http_access, d);
	/* ra: a raw ICMPv6 socket (CAP_NET_RAW is kept after the drop, so reload can open it) */
	d->ra = ra_new(d->loop, c, d->ifs, d->nifs, err, sizeof(err));
	if (!d->ra)
		goto fail;
	/* api: its Wake-on-LAN raw socket and generated password file need root */
	struct api_deps ad = {.loop = d->loop, .conf = c, .conf_path = d->conf_path,
			      .store = d->store, .clients = d->clients, .boot = d->boot,
			      .dhcp = d->dhcp, .tftp = d->tftp, .http = d->http, .ifs = d->ifs,
			      .nifs = d->nifs, .reload = api_reload, .reload_arg = d,
			      .metrics = metrics_render_hook, .metrics_arg = d->metrics};
	d->api = api_new(&ad, err, sizeof(err));
	if (!d->api)
		goto fail;
	if (geteuid() == 0 && c->user[0] && strcmp(c->user, "root")) {
		static const int caps[] = {CAP_NET_RAW, CAP_NET_BIND_SERVICE};
		if (net_drop_privileges(c->user, caps, ARRAY_SIZE(caps), err, sizeof(err)) < 0)
			goto fail;
	} else if (geteuid() == 0) {
		log_warn("main", "running as root: [server] user = %s", c->user[0] ? c->user : "\"\"");
	}
	static const char *const modes[] = {"off", "full", "proxy"};
	char ifl[CONF_MAX_IFACES * 17] = "";
	for (size_t i = 0; i < c->nifaces; i++) {
		if (i)
			strcat(ifl, ",");
		strcat(ifl, c->ifaces[i]);
	}
	log_info("main", "ready version=%s dhcp=%s tftp=%s interfaces=%s root=%s uid=%u",
		 PIXIED_VERSION, modes[c->dhcp.mode], c->tftp.enabled ? "on" : "off", ifl, c->root,
		 (unsigned)geteuid());
	return 0;
fail:
	log_errors(err);
	return -1;
}

static void stop(struct daemon *d)
{
	/* http first: freeing it may still run a buffered request or end streams, which call
	 * into the API */
	http_server_free(d->http);
	api_free(d->api);
	ra_free(d->ra);
	tftp_server_free(d->tftp);
	dhcp_service_free(d->dhcp);
	files_free(d->files);
	boot_free(d->boot);
	if (d->loop && loop_timer_armed(&d->clients_timer))
		loop_timer_cancel(d->loop, &d->clients_timer);
	metrics_free(d->metrics); /* unsubscribes from clients */
	clients_free(d->clients); /* writes what is pending */
	store_close(d->store);
	conf_free(d->conf);
	loop_free(d->loop);
}

/* --hash-password: one line from stdin (the newline dropped), its hash on stdout. */
static int hash_password(void)
{
	char pw[1024], hash[API_HASH_LEN];
	if (!fgets(pw, sizeof(pw), stdin)) {
		fprintf(stderr, "pixied: --hash-password: no password on stdin\n");
		return 1;
	}
	pw[strcspn(pw, "\r\n")] = 0;
	int r = api_hash_password(pw, hash);
	explicit_bzero(pw, sizeof(pw));
	if (r < 0) {
		fprintf(stderr, "pixied: --hash-password: %s\n",
			r == -EINVAL ? "the password is empty" : strerror(-r));
		return 1;
	}
	printf("%s\n", hash);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'C'},
		{"verbose", no_argument, NULL, 'v'},      {"quiet", no_argument, NULL, 'q'},
		{"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
		{"hash-password", no_argument, NULL, 'P'}, {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	bool check = false;
	int verbose = 0, opt;
	while ((opt = getopt_long(argc, argv, "c:vqVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case 'C': check = true; break;
		case 'v': verbose++; break;
		case 'q': verbose = -1; break;
		case 'V': printf("pixied %s\n", PIXIED_VERSION); return 0;
		case 'P': return hash_password();
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pixied: unexpected argument '%s'\n%s", argv[optind], usage);
		return 2;
	}
	if (!path) {
		fprintf(stderr, "pixied: no configuration file: use -c FILE\n%s", usage);
		return 2;
	}
	log_set_level(verbose < 0 ? LOG_LVL_WARN : verbose == 0 ? LOG_LVL_INFO : LOG_LVL_DEBUG);

	char err[8192];
	struct conf *c = conf_load(path, err, sizeof(err));
	if (check) {
		if (!c) {
			fputs(err, stderr);
			return 1;
		}
		printf("%s: ok\n", path);
		conf_free(c);
		return 0;
	}
	if (!c) {
		fputs(err, stderr);
		fprintf(stderr, "pixied: not starting: fix %s (check with pixied --check -c %s)\n",
			path, path);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	struct daemon d = {.conf = c, .conf_path = path};
	d.loop = loop_new();
	if (!d.loop) {
		fprintf(stderr, "pixied: cannot create the event loop: %s\n", strerror(errno));
		conf_free(c);
		return 1;
	}
	/* before start(): stop() looks at it even when start() failed early */
	loop_timer_init(&d.clients_timer, clients_timer_fn, &d);
	loop_on_signal(d.loop, SIGTERM, on_signal, &d);
	loop_on_signal(d.loop, SIGINT, on_signal, &d);
	loop_on_signal(d.loop, SIGHUP, on_signal, &d);
	if (start(&d) < 0) {
		stop(&d);
		return 1;
	}
	/* log lines of a turn go out in one write, after every other turn-end hook */
	loop_on_turn_end(d.loop, log_turn_end, NULL);
	log_set_buffered(true);
	int r = loop_run(d.loop);
	log_set_buffered(false);
	if (r < 0)
		log_err("main", "event loop failed: %s", strerror(-r));
	stop(&d);
	log_info("main", "stopped");
	return r < 0 ? 1 : 0;
}
