/*
 * intr_assess - the client-assessment store in the language:
 * $greylist, $greylist_key, $client_net, $client_allowed,
 * $client_blocked, $rate, and $client_suspicious (for greylisting only
 * the clients that look it). Their settings are the mvmtr_greylist_*
 * controls of the run, so a script can change them per client or per
 * recipient.
 *
 * $greylist's client is the sender's domain when SPF passes for it
 * ($mvmtr_greylist_spf, on by default), else the client's network: a
 * big sender retrying from any address its SPF record authorizes is
 * one client, not a new triplet each time.
 *
 * When the store fails, $mvmtr_store_failure decides: "open" (the
 * default) answers as if the store knew nothing (greylisting passes,
 * no list holds the client, a rate is 0), logged once a minute with
 * the error and how many failed since; "tempfail" makes it a runtime
 * error answered with a temporary failure. Either way, the first
 * success after failures is logged too.
 *
 * DIAGNOSTICS: runtime errors as above, or when used outside a
 * connection.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "assess.h"
#include "msg/msg.h"
#include "mvmtr.h"
#include "rdns.h"
#include "store.h"

#define FAILURE_LOG_SECONDS	60

/* Store failures since the last log line, for all connections. */
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t failure_logged;		/* when the last line was written */
static unsigned long failures;		/* since then, not logged */
static unsigned long failure_seq;	/* failures ever: an operation that
					 * began before the last one proves
					 * nothing when it succeeds */
static int failing;			/* no success since the last failure */

/* failure_mark - the failure count before an operation begins */
static unsigned long
failure_mark(void)
{
	unsigned long seq;

	pthread_mutex_lock(&failure_lock);
	seq = failure_seq;
	pthread_mutex_unlock(&failure_lock);
	return seq;
}

/* store_failed - the store failed under the call at SITE: the policy's
 * answer without a store (0) under "open", else a runtime error that
 * answers tempfail (-1); logged at most once a minute */
static int
store_failed(struct mfl_run *run, const struct site *site, struct session *s,
	     struct store *st)
{
	struct value v;
	int open = !(mfl_run_get_control(run, "mvmtr_store_failure", &v) == 0
		     && v.u.s.len == 8 && memcmp(v.u.s.ptr, "tempfail", 8) == 0);
	time_t now = time(NULL);
	unsigned long more = 0;
	int log = 0;
	char why[sizeof(st->error)];

	store_error(st, why, sizeof(why));	/* another thread may fail now */
	pthread_mutex_lock(&failure_lock);
	failing = 1;
	failure_seq++;
	if (now - failure_logged >= FAILURE_LOG_SECONDS) {
		log = 1;
		more = failures;
		failures = 0;
		failure_logged = now;
	} else {
		failures++;
	}
	pthread_mutex_unlock(&failure_lock);
	if (log)
		session_log(s, LOG_ERR, "store: %s; %s (logged once a minute; %lu more "
			    "failures since the last such line)", why,
			    open ? "failing open: no greylisting, no list holds the client"
			    : "answering tempfail", more);
	if (open)
		return 0;
	s->store_tempfail = 1;
	return run_error(run, site, "$%s: %s", site->intr->name, why);
}

/* store_worked - an operation that began at failure count MARK
 * succeeded: if no failure came since, the store works again (said
 * once, and the next failure is logged at once) */
static void
store_worked(struct session *s, unsigned long mark)
{
	unsigned long more;

	pthread_mutex_lock(&failure_lock);
	if (!failing || mark != failure_seq) {
		pthread_mutex_unlock(&failure_lock);
		return;
	}
	failing = 0;
	more = failures;
	failures = 0;
	failure_logged = 0;
	pthread_mutex_unlock(&failure_lock);
	session_log(s, LOG_NOTICE, "store: working again (%lu failures since the last line)",
		    more);
}

/* intr_store_ready - the session and its store for the call at SITE
 * (intr_assess.c, intr_msa.c), or a runtime error and NULL */
struct session *
intr_store_ready(struct mfl_run *run, const struct site *site, struct store **st_r)
{
	struct session *s = mfl_run_host_data(run);

	if (s == NULL) {
		run_error(run, site, "$%s works in hooks only", site->intr->name);
		return NULL;
	}
	if ((*st_r = s->store) == NULL) {
		run_error(run, site, "$%s: the store is not open", site->intr->name);
		return NULL;
	}
	return s;
}

/* client_net - the client's network per the prefix controls, or "" */
static void
client_net(struct mfl_run *run, const struct session *s, char *out, size_t size)
{
	struct cidr c;

	*out = 0;
	if (cidr_of(s->client_addr, (int) run_control_int(run, "mvmtr_greylist_prefix4"),
		    (int) run_control_int(run, "mvmtr_greylist_prefix6"), &c) == 0)
		cidr_format(&c, out, size);
}

/* $client_net(): "192.0.2.0/24" */
static int
client_net_run(struct mfl_run *run, const struct site *site, struct value *args,
	       struct value *ret)
{
	struct session *s = mfl_run_host_data(run);
	char net[64] = "";

	(void) args;
	if (s == NULL)
		return run_error(run, site, "$client_net works in hooks only");
	client_net(run, s, net, sizeof(net));
	return run_str(run, net, strlen(net), ret);
}

/* sender_domain - the domain of S's sender, lower case, or "" */
static void
sender_domain(const struct session *s, char *out, size_t size)
{
	const char *at = s->sender ? strrchr(s->sender, '@') : NULL;
	size_t i = 0;

	if (at != NULL)
		for (at++; *at && i + 1 < size; at++)
			out[i++] = (char) tolower((unsigned char) *at);
	out[i] = 0;
}

/* greylist_client - who the client is for greylisting: "spf:DOMAIN"
 * when SPF passes for the sender's domain (and $mvmtr_greylist_spf),
 * else its network; -1 after a runtime error */
static int
greylist_client(struct mfl_run *run, const struct site *site, struct session *s,
		char *out, size_t size)
{
	char domain[256];
	const char *spf;

	sender_domain(s, domain, sizeof(domain));
	if (*domain && *s->client_addr && run_control_int(run, "mvmtr_greylist_spf")) {
		if ((spf = intr_spf_result(run, site)) == NULL)
			return -1;
		if (strcmp(spf, "pass") == 0) {
			snprintf(out, size, "spf:%s", domain);
			return 0;
		}
	}
	client_net(run, s, out, size);
	return 0;
}

/* $greylist_key(): the client part of $greylist's triplet */
static int
greylist_key_run(struct mfl_run *run, const struct site *site, struct value *args,
		 struct value *ret)
{
	struct session *s = mfl_run_host_data(run);
	char client[300];

	(void) args;
	if (s == NULL)
		return run_error(run, site, "$greylist_key works in hooks only");
	if (s->sender == NULL)
		return run_error(run, site, "$greylist_key: no MAIL FROM yet");
	if (greylist_client(run, site, s, client, sizeof(client)) < 0)
		return -1;
	return run_str(run, client, strlen(client), ret);
}

/* note_greylist - what RES means for the X-Greylist field of the
 * message: the longest delay any recipient's triplet had */
static void
note_greylist(struct session *s, const char *client, const struct greylist_result *res)
{
	static const char *const why[] = {
		[GREY_NEW] = "new", [GREY_EARLY] = "retried too early",
		[GREY_PASSED_NOW] = "retried after the delay",
		[GREY_PASSED] = "passed before", [GREY_ALLOWED] = "proven sender",
	};

	if (s->grey_noted && res->delayed <= s->grey_delayed)
		return;
	s->grey_noted = 1;
	s->grey_delayed = res->delayed;
	snprintf(s->grey_why, sizeof(s->grey_why), "%s, client %.150s", why[res->why], client);
}

/* $greylist([client, sender, recipient]): 0 to pass, else seconds to wait */
static int
greylist_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	struct greylist_conf conf;
	struct greylist_result res;
	struct store *st;
	struct session *s = intr_store_ready(run, site, &st);
	char client[300];
	const char *parts[3];
	unsigned long mark;

	if (s == NULL)
		return -1;
	conf.delay = run_control_int(run, "mvmtr_greylist_delay");
	conf.retry_window = run_control_int(run, "mvmtr_greylist_retry_window");
	conf.lifetime = run_control_int(run, "mvmtr_greylist_lifetime");
	conf.autoallow = run_control_int(run, "mvmtr_greylist_autoallow");
	conf.memo = run_control_int(run, "mvmtr_greylist_memo");
	if (site->npos == 0 && greylist_client(run, site, s, client, sizeof(client)) < 0)
		return -1;
	parts[0] = client;
	parts[1] = s->sender ? s->sender : "";
	parts[2] = s->cur_rcpt ? s->cur_rcpt : "";
	for (int i = 0; i < site->npos && i < 3; i++)
		if ((parts[i] = run_cstr(run, &args[i])) == NULL)
			return run_error(run, site, "$greylist: part %d holds a NUL", i + 1);
	mark = failure_mark();
	if (greylist_check(st, parts[0], parts[1], parts[2], time(NULL), &conf, &res) < 0) {
		*ret = value_int(0);
		return store_failed(run, site, s, st);
	}
	store_worked(s, mark);
	if (res.wait == 0)
		note_greylist(s, parts[0], &res);
	*ret = value_int(res.wait);
	return 0;
}

/* $client_allowed(): 1 when the client is on the allow list */
static int
client_allowed_run(struct mfl_run *run, const struct site *site,
		   struct value *args, struct value *ret)
{
	struct store *st;
	struct session *s = intr_store_ready(run, site, &st);
	unsigned long mark = failure_mark();
	int rc;

	(void) args;
	if (s == NULL)
		return -1;
	if ((rc = list_match(st, REC_ALLOW, s->client_addr, time(NULL), NULL)) < 0) {
		*ret = value_int(0);
		return store_failed(run, site, s, st);
	}
	store_worked(s, mark);
	*ret = value_int(rc);
	return 0;
}

/* $client_blocked(): the block's reason, "" when not blocked */
static int
client_blocked_run(struct mfl_run *run, const struct site *site,
		   struct value *args, struct value *ret)
{
	struct buf reason = BUF_INIT;
	struct store *st;
	struct session *s = intr_store_ready(run, site, &st);
	unsigned long mark = failure_mark();
	int rc;

	(void) args;
	if (s == NULL)
		return -1;
	if ((rc = list_match(st, REC_BLOCK, s->client_addr, time(NULL), &reason)) < 0) {
		buf_free(&reason);
		if (store_failed(run, site, s, st) < 0)
			return -1;
		return run_str(run, "", 0, ret);
	}
	store_worked(s, mark);
	if (rc == 1 && reason.len == 0)
		buf_puts(&reason, "blocked");
	rc = run_str(run, reason.data ? reason.data : "", reason.len, ret);
	buf_free(&reason);
	return rc;
}

/* $rate(key, window): events for KEY in the last WINDOW seconds, this
 * one included */
static int
rate_run(struct mfl_run *run, const struct site *site, struct value *args,
	 struct value *ret)
{
	struct store *st;
	struct session *s = intr_store_ready(run, site, &st);
	const char *key;
	int64_t count;
	unsigned long mark;

	if (s == NULL)
		return -1;
	if (args[1].u.i <= 0 || args[1].u.i > 366 * 86400)
		return run_error(run, site, "$rate: the window must be 1 second to a year");
	if ((key = run_cstr(run, &args[0])) == NULL)
		return run_error(run, site, "$rate: the key holds a NUL");
	mark = failure_mark();
	if (rate_hit(st, REC_RATE, key, args[1].u.i, time(NULL), 1, &count) < 0) {
		*ret = value_int(0);
		return store_failed(run, site, s, st);
	}
	store_worked(s, mark);
	*ret = value_int(count);
	return 0;
}

/* $client_suspicious(): why the client looks like one to greylist (no
 * reverse DNS, or a generic one), or "" */
static int
client_suspicious_run(struct mfl_run *run, const struct site *site,
		      struct value *args, struct value *ret)
{
	struct session *s = mfl_run_host_data(run);
	const char *why = NULL;

	(void) args;
	if (s == NULL)
		return run_error(run, site, "$client_suspicious works in hooks only");
	if (!*s->client_addr)
		why = NULL;	/* a local client */
	else if (s->client_host[0] == '[' || !*s->client_host
		 || strcmp(s->client_host, "unknown") == 0)
		why = "no reverse DNS";	/* Sendmail's [addr], Postfix's too */
	else
		why = rdns_generic(s->client_host, s->client_addr);
	return run_str(run, why ? why : "", why ? strlen(why) : 0, ret);
}

static const struct intrinsic assess_intrinsics[] = {
	{ .name = "greylist", .kind = INTR_FUNCTION, .args = "?sss", .ret = TYPE_INT,
	  .run = greylist_run },
	{ .name = "greylist_key", .kind = INTR_FUNCTION, .args = "", .ret = TYPE_STRING,
	  .run = greylist_key_run },
	{ .name = "client_suspicious", .kind = INTR_FUNCTION, .args = "", .ret = TYPE_STRING,
	  .run = client_suspicious_run },
	{ .name = "client_net", .kind = INTR_FUNCTION, .args = "", .ret = TYPE_STRING,
	  .run = client_net_run },
	{ .name = "client_allowed", .kind = INTR_FUNCTION, .args = "", .ret = TYPE_INT,
	  .run = client_allowed_run },
	{ .name = "client_blocked", .kind = INTR_FUNCTION, .args = "", .ret = TYPE_STRING,
	  .run = client_blocked_run },
	{ .name = "rate", .kind = INTR_FUNCTION, .args = "si", .ret = TYPE_INT,
	  .run = rate_run },
};

/* intr_assess_register - the store's intrinsics into ENV */
int
intr_assess_register(struct mfl_env *env)
{
	for (size_t i = 0; i < sizeof(assess_intrinsics) / sizeof(assess_intrinsics[0]); i++)
		if (mfl_env_add_intrinsic(env, &assess_intrinsics[i]) < 0)
			return -1;
	return 0;
}

/* intr_assess_used - the program calls the store */
int
intr_assess_used(const struct mfl_prog *prog)
{
	for (size_t i = 0; i < sizeof(assess_intrinsics) / sizeof(assess_intrinsics[0]); i++)
		if (strcmp(assess_intrinsics[i].name, "client_net") != 0
		    && strcmp(assess_intrinsics[i].name, "greylist_key") != 0
		    && strcmp(assess_intrinsics[i].name, "client_suspicious") != 0
		    && mfl_prog_sites(prog, assess_intrinsics[i].name, NULL, NULL))
			return 1;
	return 0;
}
