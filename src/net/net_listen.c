/*
 * net/listen — see net_listen.h. The listening-set decision (pure) and the open-all loop
 * with unwinding; no socket calls of its own.
 */
#include "net/net_listen.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "core/util.h"

static void spec_set(struct net_listen_spec *sp, int family, uint32_t addr4, const char *ifname,
		     bool optional)
{
	memset(sp, 0, sizeof(*sp));
	sp->family = family;
	sp->addr4 = addr4;
	if (ifname)
		str_copy(sp->ifname, ifname, sizeof(sp->ifname));
	sp->optional = optional;
}

size_t net_listen_plan(const uint32_t *addrs, size_t naddrs, const struct net_iface *ifs,
		       size_t nifs, struct net_listen_spec *out, size_t cap)
{
	size_t n = 0;
	if (naddrs) {
		for (size_t i = 0; i < naddrs && n < cap; i++)
			spec_set(&out[n++], AF_INET, addrs[i], NULL, false);
	} else if (nifs) {
		for (size_t i = 0; i < nifs && n + 2 <= cap; i++) {
			spec_set(&out[n++], AF_INET, 0, ifs[i].name, false);
			spec_set(&out[n++], AF_INET6, 0, ifs[i].name, true);
		}
	} else if (cap >= 2) {
		spec_set(&out[n++], AF_INET, 0, NULL, false);
		spec_set(&out[n++], AF_INET6, 0, NULL, true);
	}
	return n;
}

int net_listen_open(const struct net_listen_spec *specs, size_t n, net_listen_open_fn open_fn,
		    net_listen_close_fn close_fn, void *arg, void **out, size_t *nout,
		    const char *mod, enum log_level opt_lvl, char *err, size_t errlen)
{
	size_t k = 0;
	*nout = 0;
	for (size_t i = 0; i < n; i++) {
		const struct net_listen_spec *sp = &specs[i];
		if (!sp->optional) {
			void *o = open_fn(arg, sp, err, errlen);
			if (!o)
				goto err;
			out[k++] = o;
			continue;
		}
		char why[256] = "";
		void *o = open_fn(arg, sp, why, sizeof(why));
		if (o)
			out[k++] = o;
		else if (opt_lvl < LOG_LVL_DEBUG || log_get_level() >= LOG_LVL_DEBUG) {
			if (sp->ifname[0])
				log_msg(opt_lvl, mod, "no IPv6 on %s: %s", sp->ifname, why);
			else
				log_msg(opt_lvl, mod, "no IPv6: %s", why);
		}
	}
	*nout = k;
	return 0;
err:
	while (k)
		close_fn(arg, out[--k]);
	return -EADDRNOTAVAIL;
}
