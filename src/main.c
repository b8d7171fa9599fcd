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

#include "boot/boot.h"
#include "clients/clients.h"
#include "conf/conf.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "dhcp/dhcp.h"
#include "files/files.h"
#include "http/http.h"
#include "http/http_proto.h"
#include "net/net.h"
#include "store/store.h"
#include "tftp/tftp.h"

static const char usage[] =
	"Usage: pixied -c FILE [options]\n"
	"Network-boot server: DHCP (full or proxy) with PXE decisions, TFTP, HTTP.\n"
	"\n"
	"  -c, --config FILE  configuration file (INI; see pixied.conf(5))\n"
	"      --check        validate the configuration, print problems as FILE:LINE: ...,\n"
	"                     exit 0 when it is valid and 1 when it is not\n"
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
	struct http_server *http; /* always created; binds nothing with [http] enabled = no */
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
	return 0;
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
	loop_timer_init(&d->clients_timer, clients_timer_fn, d);
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
	http_server_free(d->http);
	tftp_server_free(d->tftp);
	dhcp_service_free(d->dhcp);
	files_free(d->files);
	boot_free(d->boot);
	if (d->loop && loop_timer_armed(&d->clients_timer))
		loop_timer_cancel(d->loop, &d->clients_timer);
	clients_free(d->clients); /* writes what is pending */
	store_close(d->store);
	conf_free(d->conf);
	loop_free(d->loop);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'C'},
		{"verbose", no_argument, NULL, 'v'},      {"quiet", no_argument, NULL, 'q'},
		{"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
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
	loop_on_signal(d.loop, SIGTERM, on_signal, &d);
	loop_on_signal(d.loop, SIGINT, on_signal, &d);
	loop_on_signal(d.loop, SIGHUP, on_signal, &d);
	if (start(&d) < 0) {
		stop(&d);
		return 1;
	}
	int r = loop_run(d.loop);
	if (r < 0)
		log_err("main", "event loop failed: %s", strerror(-r));
	stop(&d);
	log_info("main", "stopped");
	return r < 0 ? 1 : 0;
}
