/*
 * intr_mailbox - RFC 5490 mailbox: the mailboxexists test and
 * fileinto's :create (the tag is read in intr_action.c). Whether a
 * mailbox exists is the host's to say (mfl_env_set_mailbox_exists);
 * without a host that knows, only INBOX exists.
 *
 * DIAGNOSTICS: none; a host that cannot tell says it does not exist.
 */
#include "config.h"

#include "env.h"
#include "mflapi.h"
#include "msg/str.h"
#include "prog.h"

/* mfl_env_set_mailbox_exists - FN(CTX, name, len) says 1 when the
 * mailbox NAME exists */
void
mfl_env_set_mailbox_exists(struct mfl_env *env,
			   int (*fn)(void *ctx, const char *name, size_t len), void *ctx)
{
	env->mailbox_exists = fn;
	env->mailbox_ctx = ctx;
}

/* mailboxexists: mailboxexists <mailbox-names: string-list> - all exist */
static int
mailboxexists_run(struct mfl_run *run, const struct site *site, struct value *args,
		  struct value *ret)
{
	const struct value *names;
	size_t n;

	run_strlist(run, site, &args[0], &n, &names);
	*ret = value_int(1);
	for (size_t i = 0; i < n; i++) {
		const char *name = names[i].u.s.ptr;
		size_t len = names[i].u.s.len;
		int exists = run->env->mailbox_exists != NULL
		    ? run->env->mailbox_exists(run->env->mailbox_ctx, name, len) > 0
		    : str_ieq_cstr(name, len, "INBOX");

		if (!exists) {
			*ret = value_int(0);
			break;
		}
	}
	return 0;
}

const struct intrinsic intr_mailboxexists = {
	.name = "mailboxexists",
	.kind = INTR_TEST,
	.capability = "mailbox",
	.args = "l",
	.run = mailboxexists_run,
};
