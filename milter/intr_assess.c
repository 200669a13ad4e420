/*
 * intr_assess - the client-assessment store in the language:
 * $greylist, $client_net, $client_allowed, $client_blocked, $rate.
 * Their settings are the mvmtr_greylist_* controls of the run, so a
 * script can change them per client or per recipient.
 *
 * DIAGNOSTICS: runtime errors when the store fails (the answer is then
 * $mvmtr_default_action) or when used outside a connection.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "assess.h"
#include "msg/msg.h"
#include "mvmtr.h"
#include "store.h"

/* ready - the session and the store, or a runtime error */
static struct session *
ready(struct mfl_run *run, const struct site *site, struct store **st_r)
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

/* $greylist([net, sender, recipient]): 0 to pass, else seconds to wait */
static int
greylist_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	struct greylist_conf conf;
	struct store *st;
	struct session *s = ready(run, site, &st);
	char net[64];
	const char *parts[3];
	int64_t wait;

	if (s == NULL)
		return -1;
	conf.delay = run_control_int(run, "mvmtr_greylist_delay");
	conf.retry_window = run_control_int(run, "mvmtr_greylist_retry_window");
	conf.lifetime = run_control_int(run, "mvmtr_greylist_lifetime");
	conf.autoallow = run_control_int(run, "mvmtr_greylist_autoallow");
	client_net(run, s, net, sizeof(net));
	parts[0] = net;
	parts[1] = s->sender ? s->sender : "";
	parts[2] = s->cur_rcpt ? s->cur_rcpt : "";
	for (int i = 0; i < site->npos && i < 3; i++)
		if ((parts[i] = run_cstr(run, &args[i])) == NULL)
			return run_error(run, site, "$greylist: part %d holds a NUL", i + 1);
	if (greylist_check(st, parts[0], parts[1], parts[2], time(NULL), &conf, &wait) < 0)
		return run_error(run, site, "$greylist: %s", st->error);
	*ret = value_int(wait);
	return 0;
}

/* $client_allowed(): 1 when the client is on the allow list */
static int
client_allowed_run(struct mfl_run *run, const struct site *site,
		   struct value *args, struct value *ret)
{
	struct store *st;
	struct session *s = ready(run, site, &st);
	int rc;

	(void) args;
	if (s == NULL)
		return -1;
	if ((rc = list_match(st, REC_ALLOW, s->client_addr, time(NULL), NULL)) < 0)
		return run_error(run, site, "$client_allowed: %s", st->error);
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
	struct session *s = ready(run, site, &st);
	int rc;

	(void) args;
	if (s == NULL)
		return -1;
	if ((rc = list_match(st, REC_BLOCK, s->client_addr, time(NULL), &reason)) < 0) {
		buf_free(&reason);
		return run_error(run, site, "$client_blocked: %s", st->error);
	}
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
	struct session *s = ready(run, site, &st);
	const char *key;
	int64_t count;

	if (s == NULL)
		return -1;
	if (args[1].u.i <= 0 || args[1].u.i > 366 * 86400)
		return run_error(run, site, "$rate: the window must be 1 second to a year");
	if ((key = run_cstr(run, &args[0])) == NULL)
		return run_error(run, site, "$rate: the key holds a NUL");
	if (rate_hit(st, REC_RATE, key, args[1].u.i, time(NULL), 1, &count) < 0)
		return run_error(run, site, "$rate: %s", st->error);
	*ret = value_int(count);
	return 0;
}

static const struct intrinsic assess_intrinsics[] = {
	{ .name = "greylist", .kind = INTR_FUNCTION, .args = "?sss", .ret = TYPE_INT,
	  .run = greylist_run },
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
		    && mfl_prog_sites(prog, assess_intrinsics[i].name, NULL, NULL))
			return 1;
	return 0;
}
