/*
 * intr_dns - SPF and DNSBL in the language: the dnsbl test, $dnsbl_a,
 * $dnsbl_txt, $spf, $spf_helo, $spf_explanation, $spf_header.
 *
 * Each connection keeps what it asked (struct dns_state): DNSBL answers
 * per zone and address, the SPF result per sender and per HELO name,
 * so a script may ask in every hook and pay for one lookup. The first
 * dnsbl call also asks, at once, every zone the script names as a
 * constant anywhere (program.c collects them): the zones of a policy
 * are queried in parallel and the later calls are answered from the
 * cache.
 *
 * Settings are the run's controls when the call is made:
 * $mvmtr_resolver, $mvmtr_dns_timeout (one batch of queries, or one
 * query of an SPF check) and $mvmtr_spf_timeout (a whole SPF check).
 *
 * DIAGNOSTICS: runtime errors for a bad nameserver, zone, address or
 * code and for use outside a connection. A zone that does not answer
 * lists nothing and is logged once per connection; an SPF check that
 * cannot finish is temperror.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "dns_state.h"
#include "dnsbl_args.h"
#include "dnsbl.h"
#include "mvmtr.h"
#include "spf.h"

/* timeout_ms - control NAME, seconds kept within 1 to 300 */
static int
timeout_ms(struct mfl_run *run, const char *name)
{
	int64_t t = run_control_int(run, name);

	return (int) (t < 1 ? 1 : t > 300 ? 300 : t) * 1000;
}

/* state - the connection's DNS state with the resolver the run names;
 * NULL after a runtime error */
static struct dns_state *
state(struct mfl_run *run, const struct site *site, struct session **s_r)
{
	struct session *s = mfl_run_host_data(run);
	struct dns_state *st;
	struct value v;
	char err[256];
	const char *spec = "";

	if ((*s_r = s) == NULL) {
		run_error(run, site, "%s works in hooks only", site->intr->name);
		return NULL;
	}
	if (s->dns == NULL && (s->dns = calloc(1, sizeof(*s->dns))) == NULL) {
		run_error(run, site, "out of memory");
		return NULL;
	}
	st = s->dns;
	if (mfl_run_get_control(run, "mvmtr_resolver", &v) == 0 && v.type == V_STR
	    && (spec = run_cstr(run, &v)) == NULL) {
		run_error(run, site, "$mvmtr_resolver holds a NUL");
		return NULL;
	}
	if (st->spec == NULL || strcmp(st->spec, spec) != 0) {
		free(st->spec);
		st->spec = NULL;
		if (dns_server_parse(spec, &st->ns, err, sizeof(err)) < 0) {
			run_error(run, site, "$mvmtr_resolver: %s", err);
			return NULL;
		}
		if ((st->spec = strdup(spec)) == NULL) {
			run_error(run, site, "out of memory");
			return NULL;
		}
	}
	if (st->cache == NULL && (st->cache = dnsbl_cache_new()) == NULL) {
		run_error(run, site, "out of memory");
		return NULL;
	}
	return st;
}

/* The zones a call asks, then the program's constant ones. */
struct zones {
	const char **list;
	size_t n;
};

/* zones_get - ZONES from a string-list argument, with room for the
 * script's constant zones; -1 after a runtime error */
static int
zones_get(struct mfl_run *run, const struct site *site, const struct session *s,
	  const struct value *arg, struct zones *z)
{
	return dnsbl_args_zones(run, site, arg, s->pg->ndnsbl_zones, &z->list, &z->n);
}

/* address - the address to look up: ARG if given, else the client's;
 * NULL after a runtime error, "" for a local client */
static const char *
address(struct mfl_run *run, const struct site *site, const struct session *s,
	const struct value *arg)
{
	return arg != NULL ? dnsbl_args_address(run, site, arg) : s->client_addr;
}

/* fetch - the A (and TXT) answers of Z's zones for ADDR into the cache,
 * with the script's constant zones asked in the same batch; a zone that
 * failed is logged once */
static int
fetch(struct mfl_run *run, const struct site *site, struct session *s, struct dns_state *st,
      const char *addr, struct zones *z, int txt)
{
	size_t asked = z->n;
	int64_t deadline = dns_now_ms() + timeout_ms(run, "mvmtr_dns_timeout");

	if (!txt && strcmp(addr, s->client_addr) == 0)
		for (size_t i = 0; i < s->pg->ndnsbl_zones; i++)
			z->list[z->n++] = s->pg->dnsbl_zones[i];
	if (dnsbl_fetch(st->cache, &st->ns, addr, z->list, z->n, txt, deadline) < 0)
		return run_error(run, site, "out of memory");
	z->n = asked;
	for (size_t i = 0; i < z->n; i++) {
		struct dnsbl_entry *e = dnsbl_get(st->cache, addr, z->list[i]);

		if (e == NULL || e->logged)
			continue;
		e->logged = 1;
		if (e->a_status != DNS_OK && e->a_status != DNS_NXDOMAIN)
			session_log(s, LOG_WARNING, "dnsbl %s: %s for %s; taken as not listed",
				    e->zone, dns_status_name(e->a_status), addr);
		else if (dnsbl_refused(e))
			session_log(s, LOG_WARNING,
				    "dnsbl %s: the list refused to answer (127.255.255.x); "
				    "taken as not listed", e->zone);
	}
	return 0;
}

/* dnsbl [:codes list] [:mask n] [:address ip] zones: the client (or the
 * address) is listed in one of the zones */
static int
dnsbl_run(struct mfl_run *run, const struct site *site, struct value *args, struct value *ret)
{
	struct session *s;
	struct dns_state *st = state(run, site, &s);
	struct value *addr_arg = NULL;
	struct dnsbl_filter f;
	struct zones z = { NULL, 0 };
	const char **codes = NULL, *addr;
	int rc = -1;

	*ret = value_int(0);
	if (st == NULL)
		return -1;
	intr_tag_present(site, DNSBL_TAG_ADDRESS, args, &addr_arg);
	if ((addr = address(run, site, s, addr_arg)) == NULL
	    || dnsbl_args_filter(run, site, args, &f, &codes) < 0 || zones_get(run, site, s, &args[0], &z) < 0)
		goto out;
	if (*addr == 0) {	/* a local client is on no list */
		rc = 0;
		goto out;
	}
	if (fetch(run, site, s, st, addr, &z, 0) < 0)
		goto out;
	for (size_t i = 0; i < z.n; i++) {
		struct dnsbl_entry *e = dnsbl_get(st->cache, addr, z.list[i]);

		if (e != NULL && dnsbl_listed(e, &f)) {
			session_log(s, LOG_INFO, "dnsbl %s: %s is listed (%u.%u.%u.%u)", e->zone,
				    addr, e->a[0] >> 24, (e->a[0] >> 16) & 255, (e->a[0] >> 8) & 255,
				    e->a[0] & 255);
			*ret = value_int(1);
			break;
		}
	}
	rc = 0;
out:
	free(codes);
	free(z.list);
	return rc;
}

/* answers - $dnsbl_a / $dnsbl_txt: the zone's answers as a string[] */
static int
answers(struct mfl_run *run, const struct site *site, struct value *args, struct value *ret,
	int txt)
{
	struct session *s;
	struct dns_state *st = state(run, site, &s);
	struct zones z = { NULL, 0 };
	struct dnsbl_entry *e;
	const char *items[DNSBL_MAX_A], *addr, *p;
	char text[DNSBL_MAX_A][16];
	size_t n = 0;
	int rc = -1;

	if (st == NULL || (addr = address(run, site, s, site->npos > 1 ? &args[1] : NULL)) == NULL
	    || zones_get(run, site, s, &args[0], &z) < 0)
		goto out;
	if (*addr && fetch(run, site, s, st, addr, &z, txt) < 0)
		goto out;
	e = *addr ? dnsbl_get(st->cache, addr, z.list[0]) : NULL;
	for (size_t i = 0; e != NULL && !txt && i < e->na; i++) {
		snprintf(text[n], sizeof(text[n]), "%u.%u.%u.%u", e->a[i] >> 24,
			 (e->a[i] >> 16) & 255, (e->a[i] >> 8) & 255, e->a[i] & 255);
		items[n] = text[n];
		n++;
	}
	for (p = e != NULL && txt ? e->txt : NULL; p != NULL && p < e->txt + e->txt_len
	     && n < DNSBL_MAX_A; p += strlen(p) + 1)
		items[n++] = p;
	rc = mfl_run_strarr(run, items, n, ret) < 0 ? run_error(run, site, "memory limit reached") : 0;
out:
	free(z.list);
	return rc;
}

/* $dnsbl_a(zone [, address]): the zone's A answers for the client */
static int
dnsbl_a_run(struct mfl_run *run, const struct site *site, struct value *args, struct value *ret)
{
	return answers(run, site, args, ret, 0);
}

/* $dnsbl_txt(zone [, address]): the zone's TXT answers (why it lists) */
static int
dnsbl_txt_run(struct mfl_run *run, const struct site *site, struct value *args,
	      struct value *ret)
{
	return answers(run, site, args, ret, 1);
}

/* spf_get - the SPF result for the sender (HELO: for the HELO name),
 * checked once per sender and connection; NULL after a runtime error */
static const struct spf_result *
spf_get(struct mfl_run *run, const struct site *site, int helo)
{
	struct session *s;
	struct dns_state *st = state(run, site, &s);
	struct spf_result *r;
	struct spf_limits lim;
	char **for_r;
	const char *identity;

	if (st == NULL)
		return NULL;
	if (!helo && s->sender == NULL) {
		run_error(run, site, "%s: no MAIL FROM yet ($hook_envfrom and later)",
			  site->intr->name);
		return NULL;
	}
	identity = helo ? (s->helo ? s->helo : "") : s->sender;
	r = helo ? &st->helo : &st->from;
	for_r = helo ? &st->helo_for : &st->from_for;
	if (*for_r != NULL && strcmp(*for_r, identity) == 0)
		return r;
	spf_result_free(r);
	free(*for_r);
	if ((*for_r = strdup(identity)) == NULL
	    || (st->spf == NULL && (st->spf = spf_new()) == NULL))
		goto oom;
	lim.ns = &st->ns;
	lim.query_ms = timeout_ms(run, "mvmtr_dns_timeout");
	lim.deadline_ms = dns_now_ms() + timeout_ms(run, "mvmtr_spf_timeout");
	if (spf_check(st->spf, &lim, s->client_addr, s->helo, helo ? NULL : s->sender,
		      session_macro(s, "j"), r) < 0)
		goto oom;
	session_log(s, LOG_INFO, "spf: %s for %s=<%s> from %s (%s)", r->result,
		    helo ? "helo" : "mailfrom", identity, *s->client_addr ? s->client_addr : "local",
		    r->comment);
	return r;
oom:
	free(*for_r);
	*for_r = NULL;
	run_error(run, site, "out of memory");
	return NULL;
}

/* intr_spf_result - the SPF result for MAIL FROM ("pass", ...), checked
 * once per sender and connection, for the call at SITE; NULL after a
 * runtime error */
const char *
intr_spf_result(struct mfl_run *run, const struct site *site)
{
	const struct spf_result *r = spf_get(run, site, 0);

	return r != NULL ? r->result : NULL;
}

/* spf_string - one of R's strings (WHICH) as the call's result */
static int
spf_string(struct mfl_run *run, const struct site *site, struct value *ret, int helo,
	   int which)
{
	const struct spf_result *r = spf_get(run, site, helo);
	const char *v;

	if (r == NULL)
		return -1;
	v = which == 0 ? r->result : which == 1 ? r->explanation : r->header;
	if (v == NULL)
		v = "";
	return run_str(run, v, strlen(v), ret) < 0 ? run_error(run, site, "memory limit reached") : 0;
}

/* $spf(): the SPF result for MAIL FROM: "pass", "fail", "softfail",
 * "neutral", "none", "temperror" or "permerror" */
static int
spf_run(struct mfl_run *run, const struct site *site, struct value *args, struct value *ret)
{
	(void) args;
	return spf_string(run, site, ret, 0, 0);
}

/* $spf_helo(): the SPF result for the HELO name */
static int
spf_helo_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	(void) args;
	return spf_string(run, site, ret, 1, 0);
}

/* $spf_explanation(): why MAIL FROM failed (the domain's exp=), or "" */
static int
spf_explanation_run(struct mfl_run *run, const struct site *site, struct value *args,
		    struct value *ret)
{
	(void) args;
	return spf_string(run, site, ret, 0, 1);
}

/* $spf_header(): the Received-SPF field's body for MAIL FROM */
static int
spf_header_run(struct mfl_run *run, const struct site *site, struct value *args,
	       struct value *ret)
{
	(void) args;
	return spf_string(run, site, ret, 0, 2);
}

static const struct intrinsic dns_intrinsics[] = {
	{ .name = "dnsbl", .kind = INTR_TEST, .capability = "vnd.mvmf.dnsbl", .args = "l",
	  .flags = INTR_F_CONST_ARG, .tags = dnsbl_tags, .run = dnsbl_run },
	{ .name = "dnsbl_a", .kind = INTR_FUNCTION, .args = "s?s",
	  .ret = TYPE_ARRAY(TYPE_STRING), .flags = INTR_F_CONST_ARG, .run = dnsbl_a_run },
	{ .name = "dnsbl_txt", .kind = INTR_FUNCTION, .args = "s?s",
	  .ret = TYPE_ARRAY(TYPE_STRING), .flags = INTR_F_CONST_ARG, .run = dnsbl_txt_run },
	{ .name = "spf", .kind = INTR_FUNCTION, .args = "", .ret = TYPE_STRING, .run = spf_run },
	{ .name = "spf_helo", .kind = INTR_FUNCTION, .args = "", .ret = TYPE_STRING,
	  .run = spf_helo_run },
	{ .name = "spf_explanation", .kind = INTR_FUNCTION, .args = "", .ret = TYPE_STRING,
	  .run = spf_explanation_run },
	{ .name = "spf_header", .kind = INTR_FUNCTION, .args = "", .ret = TYPE_STRING,
	  .run = spf_header_run },
};

/* intr_dns_register - SPF's and DNSBL's intrinsics into ENV */
int
intr_dns_register(struct mfl_env *env)
{
	for (size_t i = 0; i < sizeof(dns_intrinsics) / sizeof(dns_intrinsics[0]); i++)
		if (mfl_env_add_intrinsic(env, &dns_intrinsics[i]) < 0)
			return -1;
	return 0;
}
