/*
 * intr_dnsbl - DNS block lists in delivery scripts, as mvmda was first
 * designed: the dnsbl test, in MFL and in Sieve (require
 * "vnd.mvmf.dnsbl"), asks the zones of dnsbl.conf (or the zones it
 * names) about the message's responsible IP addresses: its :address, or
 * else the public addresses of the Received: chain, newest first (what
 * $received_ips() gives $hook_msg_read_after). Any zone that lists any
 * of them makes the test true.
 *
 * The lookups and what counts as listed are mvmtr's own code
 * (milter/dnsbl.c over milter/dns.c, in libshared): all zones of one
 * address asked at once, answers kept by their TTL, a zone that fails
 * or times out lists nothing (logged once), 127.255.255.x is the list
 * refusing to answer. Settings are the controls $mvmda_dnsbl_conf,
 * $mvmda_resolver and $mvmda_dns_timeout, as the rc script set them.
 *
 * dnsbl.conf: one zone a line, then, optionally, the answers that list
 * for it (IPv4 addresses or networks, as :codes takes them; none: any
 * answer in 127/8); "#" starts a comment. Read at the first dnsbl test:
 * the admin's in sysconfdir when it exists, else the packaged one (or
 * the file $mvmda_dnsbl_conf names); a missing file is no zone.
 * mvmda-sysrc(5) DNSBL.CONF.
 *
 * DIAGNOSTICS: runtime errors for a bad zone, code, mask, address or
 * resolver; a bad dnsbl.conf line is logged and skipped.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "../milter/dnsbl_args.h"
#include "log.h"
#include "mda.h"
#include "mfl.h"
#include "msg/msg.h"
#include "received.h"

#define CONF_ZONES	64
#define CONF_CODES	16
#define ADDRESSES	16

/* One zone of dnsbl.conf and the answers that list for it. */
struct conf_zone {
	char *zone;
	const char *codes[CONF_CODES];
	size_t ncodes;
};

static struct conf_zone conf[CONF_ZONES];
static size_t nconf;
static int conf_read;
static struct dnsbl_cache *cache;	/* this process's answers */

/* conf_line - one line of dnsbl.conf (LINENO in PATH) into conf */
static void
conf_line(char *line, const char *path, int lineno)
{
	struct conf_zone *z = &conf[nconf];
	char *tok, *save = NULL;

	line[strcspn(line, "#\n")] = 0;
	if ((tok = strtok_r(line, " \t", &save)) == NULL)
		return;
	if (nconf == CONF_ZONES || *tok == '.' || strlen(tok) > 200) {
		mda_log(LOG_WARNING, "%s:%d: %s; line skipped", path, lineno,
			nconf == CONF_ZONES ? "more than 64 zones" : "not a zone");
		return;
	}
	memset(z, 0, sizeof(*z));
	if ((z->zone = strdup(tok)) == NULL)
		return;
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		if (!dnsbl_code_ok(tok) || z->ncodes == CONF_CODES) {
			mda_log(LOG_WARNING, "%s:%d: \"%s\" is not an answer that lists (an "
				"IPv4 address or network); line skipped", path, lineno, tok);
			free(z->zone);
			for (size_t i = 0; i < z->ncodes; i++)
				free((char *) z->codes[i]);
			return;
		}
		if ((z->codes[z->ncodes] = strdup(tok)) != NULL)
			z->ncodes++;
	}
	nconf++;
}

/* conf_load - dnsbl.conf at PATH, once per process; "" (the default)
 * is the admin's in sysconfdir when there is one, else the packaged one */
static void
conf_load(const char *path)
{
	FILE *fp;
	char line[1024];
	int lineno = 0;

	if (conf_read)
		return;
	conf_read = 1;
	if (*path == '\0')
		path = access(MVMDA_DNSBL_CONF, F_OK) == 0 || errno != ENOENT
		    ? MVMDA_DNSBL_CONF : MVMDA_DNSBL_CONF_DEFAULT;
	if ((fp = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			mda_log(LOG_WARNING, "dnsbl.conf %s: %s; no zone", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL)
		conf_line(line, path, ++lineno);
	fclose(fp);
}

/* settings - the run whose controls say how to ask: the rc script's,
 * which the admin writes (a user's script runs with its own copies) */
static const struct mfl_run *
settings(struct mfl_run *run)
{
	const struct mda *mda = mfl_run_host_data(run);

	return mda != NULL && mda->rc_run != NULL ? mda->rc_run : run;
}

/* control_str - string control NAME of the settings, as a C string in
 * RUN; "" if none */
static const char *
control_str(struct mfl_run *run, const char *name)
{
	struct value v;
	const char *s;

	if (mfl_run_get_control(settings(run), name, &v) < 0 || v.type != V_STR
	    || (s = run_cstr(run, &v)) == NULL)
		return "";
	return s;
}

/* addresses - the IPs to look up: :address, else the Received: chain's
 * public ones; how many (in IPS, pointers in LIST) */
static size_t
addresses(struct mfl_run *run, const struct site *site, struct value *args,
	  char (*ips)[RECEIVED_IP_MAX], const char **list, int *failed)
{
	struct mda *mda = mfl_run_host_data(run);
	struct value *arg;
	struct hdr_index *index;
	size_t n;

	*failed = 0;
	if (intr_tag_present(site, DNSBL_TAG_ADDRESS, args, &arg)) {
		if ((list[0] = dnsbl_args_address(run, site, arg)) == NULL)
			*failed = 1;
		return *failed ? 0 : 1;
	}
	index = mda != NULL && mda->msg != NULL ? msg_headers(mda->msg) : NULL;
	n = index != NULL ? received_ips(index, ips, ADDRESSES) : 0;
	for (size_t i = 0; i < n; i++)
		list[i] = ips[i];
	return n;
}

/* listed - ADDR is listed by one of the N zones in ZONES (each with its
 * FILTER); the answers fetched first, all zones at once */
static int
listed(const struct dns_server *ns, int64_t timeout_ms, const char *addr,
       const char **zones, const struct dnsbl_filter *filters, size_t n)
{
	if (dnsbl_fetch(cache, ns, addr, zones, n, 0, dns_now_ms() + timeout_ms) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct dnsbl_entry *e = dnsbl_get(cache, addr, zones[i]);

		if (e == NULL)
			continue;
		if (!e->logged && e->a_status != DNS_OK && e->a_status != DNS_NXDOMAIN) {
			e->logged = 1;
			mda_log(LOG_WARNING, "dnsbl %s: %s for %s; taken as not listed", e->zone,
				dns_status_name(e->a_status), addr);
		} else if (!e->logged && dnsbl_refused(e)) {
			e->logged = 1;
			mda_log(LOG_WARNING, "dnsbl %s: the list refused to answer "
				"(127.255.255.x); taken as not listed", e->zone);
		}
		if (dnsbl_listed(e, &filters[i])) {
			mda_log(LOG_INFO, "dnsbl %s: %s is listed (%u.%u.%u.%u)", e->zone, addr,
				e->a[0] >> 24, (e->a[0] >> 16) & 255, (e->a[0] >> 8) & 255,
				e->a[0] & 255);
			return 1;
		}
	}
	return 0;
}

/* dnsbl [:codes list] [:mask n] [:address ip] [zones]: a responsible
 * address of the message is listed in a zone (of dnsbl.conf when none
 * is named) */
static int
dnsbl_run(struct mfl_run *run, const struct site *site, struct value *args, struct value *ret)
{
	char ips[ADDRESSES][RECEIVED_IP_MAX], err[256];
	const char *addrs[ADDRESSES], **zones = NULL, **codes = NULL;
	struct dnsbl_filter tags, filters[CONF_ZONES];
	struct dns_server ns;
	int64_t timeout = run_control_int(settings(run), "mvmda_dns_timeout");
	size_t nzones = 0, naddr;
	int rc = -1, bad, found = 0;

	*ret = value_int(0);
	if (dns_server_parse(control_str(run, "mvmda_resolver"), &ns, err, sizeof(err)) < 0)
		return run_error(run, site, "$mvmda_resolver: %s", err);
	if (dnsbl_args_filter(run, site, args, &tags, &codes) < 0)
		return -1;
	if (site->npos > 0) {
		if (dnsbl_args_zones(run, site, &args[0], 0, &zones, &nzones) < 0)
			goto out;
		if (nzones > CONF_ZONES)
			nzones = CONF_ZONES;
		for (size_t i = 0; i < nzones; i++)
			filters[i] = tags;
	} else {
		conf_load(control_str(run, "mvmda_dnsbl_conf"));
		if ((zones = calloc(nconf + 1, sizeof(*zones))) == NULL) {
			rc = run_error(run, site, "out of memory");
			goto out;
		}
		for (nzones = 0; nzones < nconf; nzones++) {
			zones[nzones] = conf[nzones].zone;
			filters[nzones] = tags;
			if (tags.codes == NULL) {	/* the zone's own, else any */
				filters[nzones].codes = conf[nzones].codes;
				filters[nzones].ncodes = conf[nzones].ncodes;
			}
		}
	}
	naddr = addresses(run, site, args, ips, addrs, &bad);
	if (bad)
		goto out;
	if (cache == NULL && nzones > 0 && naddr > 0 && (cache = dnsbl_cache_new()) == NULL) {
		rc = run_error(run, site, "out of memory");
		goto out;
	}
	timeout = (timeout < 1 ? 1 : timeout > 300 ? 300 : timeout) * 1000;
	for (size_t i = 0; i < naddr && nzones > 0 && !found; i++)
		if ((found = listed(&ns, timeout, addrs[i], zones, filters, nzones)) < 0) {
			rc = run_error(run, site, "out of memory");
			goto out;
		}
	*ret = value_int(found);
	rc = 0;
out:
	free(zones);
	free(codes);
	return rc;
}

static const struct intrinsic intr_dnsbl = {
	.name = "dnsbl", .kind = INTR_TEST, .capability = "vnd.mvmf.dnsbl", .args = "?l",
	.tags = dnsbl_tags, .run = dnsbl_run,
};

/* intr_dnsbl_register - the dnsbl test and its controls into ENV */
int
intr_dnsbl_register(struct mfl_env *env)
{
	if (mfl_env_add_control(env, "mvmda_dnsbl_conf", MFL_CONTROL_STRING, 0, "",
				"the DNS block lists the dnsbl test asks by default "
				"(\"\": " MVMDA_DNSBL_CONF ", else " MVMDA_DNSBL_CONF_DEFAULT ")") < 0
	    || mfl_env_add_control(env, "mvmda_resolver", MFL_CONTROL_STRING, 0, "",
				   "nameservers (up to 3, with commas) for dnsbl (\"\": resolv.conf)") < 0
	    || mfl_env_add_control(env, "mvmda_dns_timeout", MFL_CONTROL_INT, 5, NULL,
				   "seconds the queries of one address may take (1 to 300)") < 0)
		return -1;
	return mfl_env_add_intrinsic(env, &intr_dnsbl);
}
