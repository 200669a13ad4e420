/*
 * intr_action - the actions of RFC 5228 section 4: keep, discard,
 * redirect, fileinto; and reject, ereject (RFC 5429). Each adds to the run's action list (action.c
 * applies the duplicate and implicit-keep rules); the host carries the
 * list out after the run.
 *
 * DIAGNOSTICS: runtime errors past mfl_limit_actions or
 * mfl_limit_redirects, for a reject beside keep, fileinto or redirect, and for a redirect address that is not one
 * address (a compile error when the address is a constant).
 */
#include "config.h"

#include <string.h>

#include "action.h"
#include "addr.h"
#include "arena.h"
#include "buf.h"
#include "compile.h"
#include "prog.h"

/* conflicts - ACT and the list cannot both be carried out: a reject
 * refuses the message another action would store or forward */
static int
conflicts(const struct action_list *list, const struct action *act)
{
	int stores = act->kind == ACT_KEEP || act->kind == ACT_FILEINTO
	    || act->kind == ACT_REDIRECT;

	if (act->kind == ACT_REJECT) {
		if (list->rejected)
			return 1;
		for (size_t i = 0; i < list->n; i++)
			if (list->v[i].kind != ACT_DISCARD)
				return 1;
		return 0;
	}
	return stores && list->rejected;
}

/* add_action - ACT into the list, within the limits */
static int
add_action(struct mfl_run *run, const struct site *site, struct action *act)
{
	act->line = site->line;
	act->file = site->file;
	if ((int) run->actions.n >= run->limits.actions)
		return run_error(run, site, "more than %d actions (mfl_limit_actions)",
				 run->limits.actions);
	if (act->kind == ACT_REDIRECT && run->actions.redirects >= run->limits.redirects)
		return run_error(run, site, "more than %d redirects (mfl_limit_redirects)",
				 run->limits.redirects);
	if (conflicts(&run->actions, act))
		return run_error(run, site, "reject cannot be combined with keep, "
				 "fileinto, redirect or another reject (RFC 5429 2.1)");
	if (action_add(run->arena, &run->actions, act) < 0)
		return run_error(run, site, "memory limit reached");
	return 0;
}

/* keep: store the message in the default mailbox (4.3) */
static int
keep_run(struct mfl_run *run, const struct site *site, struct value *args,
	 struct value *ret)
{
	struct action act = { .kind = ACT_KEEP };

	(void) args;
	(void) ret;
	return add_action(run, site, &act);
}

const struct intrinsic intr_keep = {
	.name = "keep",
	.kind = INTR_COMMAND,
	.args = "",
	.run = keep_run,
};

/* discard: silently throw the message away (4.4) */
static int
discard_run(struct mfl_run *run, const struct site *site, struct value *args,
	    struct value *ret)
{
	struct action act = { .kind = ACT_DISCARD };

	(void) args;
	(void) ret;
	return add_action(run, site, &act);
}

const struct intrinsic intr_discard = {
	.name = "discard",
	.kind = INTR_COMMAND,
	.args = "",
	.run = discard_run,
};

/* fileinto: fileinto <folder: string> (4.1) */
static int
fileinto_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	struct action act = { .kind = ACT_FILEINTO };

	(void) ret;
	act.target = args[0].u.s.ptr;
	act.target_len = args[0].u.s.len;
	if (act.target_len == 0 || memchr(act.target, 0, act.target_len) != NULL)
		return run_error(run, site, "fileinto: invalid mailbox name");
	return add_action(run, site, &act);
}

const struct intrinsic intr_fileinto = {
	.name = "fileinto",
	.kind = INTR_COMMAND,
	.capability = "fileinto",
	.args = "s",
	.run = fileinto_run,
};

/* one_address - TEXT is exactly one valid address with a domain; its
 * addr-spec goes to SPEC when that is not NULL */
static int
one_address(struct arena *arena, const char *text, size_t len,
	    struct buf *spec)
{
	struct addr *list;
	size_t count;

	if (addr_parse_list(arena, text, len, &list, &count) < 0)
		return -1;
	if (count != 1 || (list[0].flags & (ADDR_F_INVALID | ADDR_F_NULL))
	    || list[0].domain == NULL || !*list[0].domain || list[0].group != NULL)
		return 0;
	if (spec != NULL)
		addr_spec(&list[0], spec);
	return 1;
}

/* redirect: redirect <address: string> (4.2) */
static int
redirect_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	struct action act = { .kind = ACT_REDIRECT };
	struct buf spec = BUF_INIT;
	struct value v;
	int ok;

	(void) ret;
	if (one_address(run->arena, args[0].u.s.ptr, args[0].u.s.len, &spec) != 1) {
		buf_free(&spec);
		return run_error(run, site, "redirect: \"%.*s\" is not one mail address",
				 (int) (args[0].u.s.len > 80 ? 80 : args[0].u.s.len),
				 args[0].u.s.ptr);
	}
	ok = run_str(run, spec.data, spec.len, &v);
	buf_free(&spec);
	if (ok < 0)
		return run_error(run, site, "memory limit reached");
	act.target = v.u.s.ptr;
	act.target_len = v.u.s.len;
	return add_action(run, site, &act);
}

/* redirect_check - a constant address must be valid (4.2) */
static int
redirect_check(struct compile *cc, struct ast *n, struct site *site)
{
	struct ast *a = n->items[0];

	(void) site;
	if (a->kind == A_STR && one_address(cc->arena, a->str, a->len, NULL) != 1) {
		cerror(cc, a, "redirect: \"%.*s\" is not one mail address",
		       (int) (a->len > 80 ? 80 : a->len), a->str);
		return -1;
	}
	return 0;
}

const struct intrinsic intr_redirect = {
	.name = "redirect",
	.kind = INTR_COMMAND,
	.args = "s",
	.check = redirect_check,
	.run = redirect_run,
};

/* reject: reject <reason: string>; ereject the same (RFC 5429 2.1, 2.2) */
static int
reject_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	struct action act = { .kind = ACT_REJECT };

	(void) ret;
	act.target = args[0].u.s.ptr;
	act.target_len = args[0].u.s.len;
	act.extended = strcmp(site->intr->name, "ereject") == 0;
	return add_action(run, site, &act);
}

const struct intrinsic intr_reject = {
	.name = "reject",
	.kind = INTR_COMMAND,
	.capability = "reject",
	.args = "s",
	.run = reject_run,
};

const struct intrinsic intr_ereject = {
	.name = "ereject",
	.kind = INTR_COMMAND,
	.capability = "ereject",
	.args = "s",
	.run = reject_run,
};
