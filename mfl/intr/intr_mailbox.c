/*
 * intr_mailbox - RFC 5490 mailbox: the mailboxexists test and
 * fileinto's :create (the tag is read in intr_action.c). Whether a
 * mailbox exists is the host's to say (mfl_env_set_mailbox_exists);
 * without a host that knows, only INBOX exists.
 *
 * DIAGNOSTICS: none; a host that cannot tell says it does not exist.
 */
#include "config.h"

#include "compile.h"
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

/* mfl_env_set_specialuse - FN(CTX, flag, len) names the folder that has
 * the special-use FLAG (RFC 8579), or NULL */
void
mfl_env_set_specialuse(struct mfl_env *env,
		       const char *(*fn)(void *ctx, const char *flag, size_t len), void *ctx)
{
	env->specialuse = fn;
	env->specialuse_ctx = ctx;
}

/* mfl_specialuse_flag_ok - FLAG is "\\" and an IMAP atom (RFC 6154 2,
 * RFC 3501's flag-extension) */
int
mfl_specialuse_flag_ok(const char *flag, size_t len)
{
	if (len < 2 || flag[0] != '\\')
		return 0;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char) flag[i];

		if (c <= 32 || c >= 127 || strchr("(){%*\"\\]", c) != NULL)
			return 0;
	}
	return 1;
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

/* specialuse_exists: specialuse_exists [<mailbox: string>]
 *	<special-use-flags: string-list> - some folder (or that mailbox)
 *	has every flag (RFC 8579 3) */
static int
specialuse_exists_run(struct mfl_run *run, const struct site *site, struct value *args,
		      struct value *ret)
{
	const struct value *flags, *mailbox = site->npos == 2 ? &args[0] : NULL;
	size_t n;

	*ret = value_int(0);
	if (mailbox != NULL && mailbox->type != V_STR)
		return run_error(run, site, "specialuse_exists: the mailbox must be one string");
	run_strlist(run, site, &args[site->npos - 1], &n, &flags);
	for (size_t i = 0; i < n; i++) {
		const char *folder;

		if (!mfl_specialuse_flag_ok(flags[i].u.s.ptr, flags[i].u.s.len))
			return run_error(run, site, "specialuse_exists: \"%.*s\" is not a special-use flag",
					 (int) (flags[i].u.s.len > 40 ? 40 : flags[i].u.s.len),
					 flags[i].u.s.ptr);
		folder = run->env->specialuse != NULL
		    ? run->env->specialuse(run->env->specialuse_ctx, flags[i].u.s.ptr, flags[i].u.s.len)
		    : NULL;
		if (folder == NULL
		    || (mailbox != NULL && !str_ieq_cstr(mailbox->u.s.ptr, mailbox->u.s.len, folder)))
			return 0;
	}
	*ret = value_int(1);
	return 0;
}

/* specialuse_exists_check - constant flags must be special-use flags */
static int
specialuse_exists_check(struct compile *cc, struct ast *n, struct site *site)
{
	const struct ast *list = n->items[n->nitems - 1];
	const struct ast *const *items = list->kind == A_LIST
	    ? (const struct ast *const *) list->items : &list;
	size_t count = list->kind == A_LIST ? list->nitems : 1;

	(void) site;
	for (size_t i = 0; i < count; i++)
		if (items[i]->kind == A_STR && !mfl_specialuse_flag_ok(items[i]->str, items[i]->len)) {
			cerror(cc, items[i], "specialuse_exists: \"%.*s\" is not a special-use flag "
			       "(RFC 6154)", (int) (items[i]->len > 40 ? 40 : items[i]->len),
			       items[i]->str);
			return -1;
		}
	return 0;
}

const struct intrinsic intr_specialuse_exists = {
	.name = "specialuse_exists",
	.kind = INTR_TEST,
	.capability = "special-use",
	.args = "l?l",
	.check = specialuse_exists_check,
	.run = specialuse_exists_run,
};

/* mfl_env_set_extlist - FN says who is on the host's lists (RFC 6134) */
void
mfl_env_set_extlist(struct mfl_env *env,
		    int (*fn)(void *ctx, const char *list, size_t llen, const char *val, size_t vlen),
		    void *ctx)
{
	env->extlist = fn;
	env->extlist_ctx = ctx;
}

/* valid_ext_list: valid_ext_list <ext-list-names: string-list> - the
 * host has every one of these lists (RFC 6134 2.5) */
static int
valid_ext_list_run(struct mfl_run *run, const struct site *site, struct value *args,
		   struct value *ret)
{
	const struct value *names;
	size_t n;

	run_strlist(run, site, &args[0], &n, &names);
	*ret = value_int(n > 0);
	for (size_t i = 0; i < n; i++)
		if (run->env->extlist == NULL
		    || run->env->extlist(run->env->extlist_ctx, names[i].u.s.ptr, names[i].u.s.len,
					 NULL, 0) < 0) {
			*ret = value_int(0);
			break;
		}
	return 0;
}

const struct intrinsic intr_valid_ext_list = {
	.name = "valid_ext_list",
	.kind = INTR_TEST,
	.capability = "extlists",
	.args = "l",
	.run = valid_ext_list_run,
};
