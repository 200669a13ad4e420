/*
 * intr_msa - outbound mail (MSA) in the language: $sender_allowed,
 * $from_allowed, $msa_message, $msa_recipient, $user_locked over
 * msa.c, and $dkim_sign (dkim.c signs at the message's end). The limits
 * and brakes are the mvmtr_msa_* controls of the run, so a script may
 * set them per user class before it asks.
 *
 * An outbound gate does not fail open: when the store fails, these
 * are runtime errors, answered with $mvmtr_default_action (tempfail).
 *
 * DIAGNOSTICS: runtime errors as above, for a NUL in an argument, or
 * when used outside a connection.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "assess.h"
#include "dkim.h"
#include "msa.h"
#include "msg/msg.h"
#include "mvmtr.h"
#include "store.h"

/* control_str - the string control NAME of the run ("" if unset) */
static void
control_str(struct mfl_run *run, const char *name, struct buf *out)
{
	struct value v;

	buf_reset(out);
	if (mfl_run_get_control(run, name, &v) == 0 && v.type == V_STR)
		buf_append(out, v.u.s.ptr, v.u.s.len);
	buf_putc(out, 0);
	out->len--;
}

/* store_run_error - the call at SITE failed in the store ST: a runtime
 * error with the store's reason (a copy: other threads fail too) */
static int
store_run_error(struct mfl_run *run, const struct site *site, struct store *st)
{
	char why[sizeof(st->error)];

	return run_error(run, site, "$%s: %s", site->intr->name,
			 store_error(st, why, sizeof(why)));
}

/* $sender_allowed(user, address): 1 when the user may send as it */
static int
sender_allowed_run(struct mfl_run *run, const struct site *site, struct value *args,
		   struct value *ret)
{
	struct store *st;
	struct session *s = intr_store_ready(run, site, &st);
	const char *user, *address;
	int rc;

	if (s == NULL)
		return -1;
	if ((user = run_cstr(run, &args[0])) == NULL || (address = run_cstr(run, &args[1])) == NULL)
		return run_error(run, site, "$sender_allowed: an argument holds a NUL");
	if ((rc = msa_sender_allowed(st, user, address)) < 0)
		return store_run_error(run, site, st);
	*ret = value_int(rc);
	return 0;
}

/* from_list - the addresses of the message's From: into *LIST_R (the
 * message's arena holds them); how many, 0 when none parses */
static size_t
from_list(struct session *s, struct addr **list_r)
{
	struct hdr_index *index = s->msg ? msg_headers(s->msg) : NULL;
	struct hdr_field *f = index ? hdr_find(index, "From", 4, 0) : NULL;
	size_t n = 0;

	if (f == NULL || hdr_unfolded(index, f) < 0
	    || addr_parse_list(msg_arena(s->msg), f->unfolded, f->unfolded_len, list_r, &n) < 0)
		return 0;
	return n;
}

/* $from_allowed(user): 1 when the message has a From: and the user may
 * send as every address in it (RFC 5322 allows several); at the end of
 * the message */
static int
from_allowed_run(struct mfl_run *run, const struct site *site, struct value *args,
		 struct value *ret)
{
	struct store *st;
	struct session *s = intr_store_ready(run, site, &st);
	struct addr *list = NULL;
	struct buf spec = BUF_INIT;
	const char *user;
	size_t n;
	int allowed = 1;

	if (s == NULL)
		return -1;
	if ((user = run_cstr(run, &args[0])) == NULL)
		return run_error(run, site, "$from_allowed: the user holds a NUL");
	if (s->msg == NULL)
		return run_error(run, site, "$from_allowed needs the message's header "
				 "($hook_eoh, $hook_eom)");
	if ((n = from_list(s, &list)) == 0)
		allowed = 0;	/* none, or none that parses: not an allowed one */
	for (size_t i = 0; allowed && i < n; i++) {
		int rc;

		buf_reset(&spec);
		addr_spec(&list[i], &spec);
		if ((rc = msa_sender_allowed(st, user, buf_cstr(&spec))) < 0) {
			buf_free(&spec);
			return store_run_error(run, site, st);
		}
		allowed = rc;
	}
	buf_free(&spec);
	*ret = value_int(allowed);
	return 0;
}

/* count - one more message (RCPT NULL) or recipient RCPT for USER
 * under the run's limits and brakes: "" or why not. A message is only
 * checked here: it is counted with its first recipient let by (one
 * store write for both; a MAIL whose recipients are all refused is no
 * message) */
static int
count(struct mfl_run *run, const struct site *site, const char *user, const char *rcpt,
      struct value *ret)
{
	struct session *s;
	struct store *st;
	struct buf spec = BUF_INIT, burst = BUF_INIT, why = BUF_INIT;
	struct msa_kind k[MSA_KINDS_MAX];
	size_t n = 0;
	int rc;

	if ((s = intr_store_ready(run, site, &st)) == NULL)
		return -1;
	if (rcpt == NULL) {
		control_str(run, "mvmtr_msa_messages", &spec);
		control_str(run, "mvmtr_msa_brake_messages", &burst);
		k[n++] = (struct msa_kind) { "messages", spec.data, burst.data, NULL, 0 };
		rc = msa_events(st, user, k, n, 1, time(NULL), &why);
		if (rc == 0 && why.len == 0 && session_msa_pending(s, user, spec.data, burst.data) < 0)
			rc = run_error(run, site, "$%s: out of memory", site->intr->name);
	} else {
		if (s->msa_user != NULL && strcmp(s->msa_user, user) == 0)
			k[n++] = (struct msa_kind) { "messages", s->msa_limits, s->msa_brake, NULL, 0 };
		control_str(run, "mvmtr_msa_recipients", &spec);
		control_str(run, "mvmtr_msa_brake_new_recipients", &burst);
		k[n++] = (struct msa_kind) { "recipients", spec.data, burst.data, rcpt, 0 };
		rc = msa_events(st, user, k, n, 0, time(NULL), &why);
		if (rc > 0)
			session_log(s, LOG_WARNING, "msa: user %s locked: more %s than %s "
				    "(mvmcas unlock %s releases it)", user,
				    strcmp(k[rc - 1].kind, "messages") == 0 ? "messages"
				    : "new recipients", k[rc - 1].brake, user);
		if (rc >= 0 && n == 2 && k[0].counted)
			session_msa_pending(s, NULL, NULL, NULL);
	}
	if (rc < 0) {
		buf_free(&spec);
		buf_free(&burst);
		buf_free(&why);
		return store_run_error(run, site, st);
	}
	if (why.len > 0)
		session_log(s, LOG_NOTICE, "msa: user %s refused: %s", user, why.data);
	rc = run_str(run, why.len ? why.data : "", why.len, ret);
	buf_free(&spec);
	buf_free(&burst);
	buf_free(&why);
	return rc;
}

/* $msa_message(user): one more message: "" or why it may not go */
static int
msa_message_run(struct mfl_run *run, const struct site *site, struct value *args,
		struct value *ret)
{
	const char *user = run_cstr(run, &args[0]);

	if (user == NULL)
		return run_error(run, site, "$msa_message: the user holds a NUL");
	return count(run, site, user, NULL, ret);
}

/* $msa_recipient(user, rcpt): count one recipient (the brake: those the
 * user never wrote to before), and the message with its first; "" or
 * why not */
static int
msa_recipient_run(struct mfl_run *run, const struct site *site, struct value *args,
		  struct value *ret)
{
	const char *user = run_cstr(run, &args[0]), *rcpt = run_cstr(run, &args[1]);

	if (user == NULL || rcpt == NULL)
		return run_error(run, site, "$msa_recipient: an argument holds a NUL");
	return count(run, site, user, rcpt, ret);
}

/* $user_locked(user): why the user is locked, or "" */
static int
user_locked_run(struct mfl_run *run, const struct site *site, struct value *args,
		struct value *ret)
{
	struct buf reason = BUF_INIT;
	struct user_rec r;
	struct store *st;
	struct session *s = intr_store_ready(run, site, &st);
	const char *user;
	int rc;

	if (s == NULL)
		return -1;
	if ((user = run_cstr(run, &args[0])) == NULL)
		return run_error(run, site, "$user_locked: the user holds a NUL");
	if (msa_user_get(st, user, &r, &reason, NULL, NULL) < 0) {
		buf_free(&reason);
		return store_run_error(run, site, st);
	}
	if (r.locked && reason.len == 0)
		buf_puts(&reason, "locked");
	rc = run_str(run, r.locked ? reason.data : "", r.locked ? reason.len : 0, ret);
	buf_free(&reason);
	return rc;
}

/* from_domain - the domain of the message's (first) From: address */
static int
from_domain(struct session *s, struct buf *out)
{
	struct addr *list = NULL;
	const char *at;

	if (from_list(s, &list) == 0)
		return 0;
	addr_spec(&list[0], out);
	if ((at = strrchr(buf_cstr(out), '@')) == NULL)
		return 0;
	memmove(out->data, at + 1, strlen(at + 1) + 1);
	out->len = strlen(out->data);
	return 1;
}

/* $dkim_sign([domain]): sign the message at its end with the key the
 * key table ($mvmtr_dkim_keys) has for DOMAIN, by default the From:
 * address's; 1 when there is one, else 0 (and nothing is signed) */
static int
dkim_sign_run(struct mfl_run *run, const struct site *site, struct value *args,
	      struct value *ret)
{
	struct session *s = mfl_run_host_data(run);
	struct buf domain = BUF_INIT, table = BUF_INIT;
	struct dkim_key key;
	char err[512];
	int rc;

	if (s == NULL)
		return run_error(run, site, "$dkim_sign works in hooks only");
	if (site->npos > 0) {
		const char *d = run_cstr(run, &args[0]);

		if (d == NULL)
			return run_error(run, site, "$dkim_sign: the domain holds a NUL");
		buf_puts(&domain, d);
	} else if (s->msg == NULL) {
		return run_error(run, site, "$dkim_sign needs the message's header ($hook_eom)");
	} else {
		from_domain(s, &domain);
	}
	control_str(run, "mvmtr_dkim_keys", &table);
	rc = domain.len > 0 ? dkim_key_find(table.len ? table.data : MVMTR_DKIM_KEYS,
					    buf_cstr(&domain), &key, err, sizeof(err)) : 0;
	if (rc < 0) {
		buf_free(&domain);
		buf_free(&table);
		return run_error(run, site, "$dkim_sign: %s", err);
	}
	if (rc == 1) {
		/* kept for the message's end: the table is not read again */
		free(s->dkim_key);
		if ((s->dkim_key = malloc(sizeof(key))) != NULL)
			*s->dkim_key = key;
	}
	buf_free(&domain);
	buf_free(&table);
	*ret = value_int(rc == 1 && s->dkim_key != NULL);
	return 0;
}

static const struct intrinsic msa_intrinsics[] = {
	{ .name = "dkim_sign", .kind = INTR_FUNCTION, .args = "?s", .ret = TYPE_INT,
	  .run = dkim_sign_run },
	{ .name = "sender_allowed", .kind = INTR_FUNCTION, .args = "ss", .ret = TYPE_INT,
	  .run = sender_allowed_run },
	{ .name = "from_allowed", .kind = INTR_FUNCTION, .args = "s", .ret = TYPE_INT,
	  .run = from_allowed_run },
	{ .name = "msa_message", .kind = INTR_FUNCTION, .args = "s", .ret = TYPE_STRING,
	  .run = msa_message_run },
	{ .name = "msa_recipient", .kind = INTR_FUNCTION, .args = "ss", .ret = TYPE_STRING,
	  .run = msa_recipient_run },
	{ .name = "user_locked", .kind = INTR_FUNCTION, .args = "s", .ret = TYPE_STRING,
	  .run = user_locked_run },
};

/* intr_msa_register - the MSA intrinsics into ENV */
int
intr_msa_register(struct mfl_env *env)
{
	for (size_t i = 0; i < sizeof(msa_intrinsics) / sizeof(msa_intrinsics[0]); i++)
		if (mfl_env_add_intrinsic(env, &msa_intrinsics[i]) < 0)
			return -1;
	return 0;
}

/* intr_msa_used - the program calls one of them (it needs the store) */
int
intr_msa_used(const struct mfl_prog *prog)
{
	for (size_t i = 0; i < sizeof(msa_intrinsics) / sizeof(msa_intrinsics[0]); i++)
		if (strcmp(msa_intrinsics[i].name, "dkim_sign") != 0
		    && mfl_prog_sites(prog, msa_intrinsics[i].name, NULL, NULL))
			return 1;
	return 0;
}
