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
#include "ast.h"
#include "compile.h"
#include "env.h"
#include "msg/addr.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/charset.h"
#include "prog.h"

/* conflicts - ACT and the list cannot both be carried out: a reject
 * refuses the message another action would store or forward */
static int
conflicts(const struct action_list *list, const struct action *act)
{
	int stores = act->kind == ACT_KEEP || act->kind == ACT_FILEINTO
	    || act->kind == ACT_REDIRECT || act->kind == ACT_VACATION;

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

/* intr_add_action - ACT into the list, within the limits (for every
 * intrinsic that makes an action) */
int
intr_add_action(struct mfl_run *run, const struct site *site, struct action *act)
{
	act->file = run_where(run, &act->line);
	if ((int) run->actions.n >= run->limits.actions)
		return run_error(run, site, "total number of actions exceeds policy limit "
				 "(%d, $mfl_limit_actions)", run->limits.actions);
	if (act->kind == ACT_REDIRECT && run->actions.redirects >= run->limits.redirects)
		return run_error(run, site, "number of redirect actions exceeds policy limit "
				 "(%d, $mfl_limit_redirects)", run->limits.redirects);
	if (conflicts(&run->actions, act))
		return run_error(run, site, "reject cannot be combined with keep, "
				 "fileinto, redirect or another reject (RFC 5429 2.1)");
	if (action_add(run->arena, &run->actions, act) < 0)
		return run_error(run, site, "memory limit reached");
	return 0;
}

/* decide - add a deciding action (reject, ereject, discard); a host
 * where decisions end the script (mvmtr's hooks) stops it there */
static int
decide(struct mfl_run *run, const struct site *site, struct action *act)
{
	if (intr_add_action(run, site, act) < 0)
		return -1;
	if (run->env->decisions_stop)
		run->stopped = 1;
	return 0;
}

/* The tags of keep, fileinto and redirect: :copy (RFC 3894), :flags
 * (RFC 5232), :create (RFC 5490). */
enum { TAG_COPY, TAG_FLAGS, TAG_CREATE, TAG_SPECIALUSE };

static const struct intr_tag store_tags[] = {
	{ .name = "copy", .id = TAG_COPY, .capability = "copy" },
	{ .name = "create", .id = TAG_CREATE, .capability = "mailbox" },
	{ .name = "flags", .arg = TAGARG_STRLIST, .id = TAG_FLAGS, .capability = "imap4flags" },
	{ .name = "specialuse", .arg = TAGARG_STRING, .id = TAG_SPECIALUSE,
	  .capability = "special-use" },
	{ .name = NULL }
};

static const struct intr_tag keep_tags[] = {
	{ .name = "flags", .arg = TAGARG_STRLIST, .id = TAG_FLAGS, .capability = "imap4flags" },
	{ .name = NULL }
};

static const struct intr_tag redirect_tags[] = {
	{ .name = "copy", .id = TAG_COPY, .capability = "copy" },
	{ .name = NULL }
};

/* store_options - :copy and the flags (:flags, else the internal
 * variable, RFC 5232 5) of a keep or fileinto */
static void
store_options(struct mfl_run *run, const struct site *site, struct value *args,
	      struct action *act)
{
	struct value *flags;

	act->copy = intr_tag_present(site, TAG_COPY, args, NULL);
	act->create = intr_tag_present(site, TAG_CREATE, args, NULL);
	if (intr_tag_present(site, TAG_FLAGS, args, &flags) && flags != NULL)
		act->flags = run_flags(run, site, flags);
	else
		act->flags = run_flags(run, site, &run->imap_flags);
}

/* keep: store the message in the default mailbox (4.3) */
static int
keep_run(struct mfl_run *run, const struct site *site, struct value *args,
	 struct value *ret)
{
	struct action act = { .kind = ACT_KEEP };

	(void) ret;
	store_options(run, site, args, &act);
	return intr_add_action(run, site, &act);
}

const struct intrinsic intr_keep = {
	.name = "keep",
	.kind = INTR_COMMAND,
	.args = "",
	.tags = keep_tags,
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
	return decide(run, site, &act);
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
	struct value *use;

	(void) ret;
	act.target = args[0].u.s.ptr;
	act.target_len = args[0].u.s.len;
	if (act.target_len == 0 || memchr(act.target, 0, act.target_len) != NULL)
		return run_error(run, site, "fileinto: invalid mailbox name");
	/* RFC 5228 2.4.2: strings are UTF-8, and so are mailbox names (a
	 * ${hex:} or a header's raw bytes can make one that is not) */
	if (!utf8_valid(act.target, act.target_len))
		return run_error(run, site, "fileinto: invalid folder name: not UTF-8");
	store_options(run, site, args, &act);
	if (intr_tag_present(site, TAG_SPECIALUSE, args, &use) && use != NULL) {
		if (!mfl_specialuse_flag_ok(use->u.s.ptr, use->u.s.len)
		    || (act.specialuse = run_cstr(run, use)) == NULL)
			return run_error(run, site, "fileinto: :specialuse \"%.*s\" is not a special-use "
					 "flag (RFC 6154)", (int) (use->u.s.len > 40 ? 40 : use->u.s.len),
					 use->u.s.ptr);
	}
	return intr_add_action(run, site, &act);
}

/* fileinto_check - a constant name must be UTF-8, a constant
 * :specialuse a special-use flag */
static int
fileinto_check(struct compile *cc, struct ast *n, struct site *site)
{
	(void) site;
	if (n->nitems > 0 && n->items[0]->kind == A_STR
	    && !utf8_valid(n->items[0]->str, n->items[0]->len)) {
		cerror(cc, n->items[0], "fileinto: invalid folder name: not UTF-8");
		return -1;
	}
	for (size_t i = 0; i < n->ntags; i++) {
		const struct ast *v = n->tags[i].arg;

		if (n->tags[i].def->id == TAG_SPECIALUSE && v != NULL && v->kind == A_STR
		    && !mfl_specialuse_flag_ok(v->str, v->len)) {
			cerror(cc, v, "fileinto: :specialuse \"%.*s\" is not a special-use flag "
			       "(RFC 6154)", (int) (v->len > 40 ? 40 : v->len), v->str);
			return -1;
		}
	}
	return 0;
}

const struct intrinsic intr_fileinto = {
	.name = "fileinto",
	.kind = INTR_COMMAND,
	.capability = "fileinto",
	.args = "s",
	.tags = store_tags,
	.check = fileinto_check,
	.run = fileinto_run,
};

/* intr_one_address - TEXT is exactly one valid address with a domain
 * (redirect, vacation's :from and :addresses); its addr-spec goes to
 * SPEC when that is not NULL; -1 when memory runs out */
int
intr_one_address(struct arena *arena, const char *text, size_t len,
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
	if (intr_one_address(run->arena, args[0].u.s.ptr, args[0].u.s.len, &spec) != 1) {
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
	act.copy = intr_tag_present(site, TAG_COPY, args, NULL);
	return intr_add_action(run, site, &act);
}

/* redirect_check - a constant address must be valid (4.2) */
static int
redirect_check(struct compile *cc, struct ast *n, struct site *site)
{
	struct ast *a = n->items[0];

	(void) site;
	if (a->kind == A_STR && intr_one_address(cc->arena, a->str, a->len, NULL) != 1) {
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
	.tags = redirect_tags,
	.check = redirect_check,
	.run = redirect_run,
};

/* The SMTP reply of a reject in mvmtr (mvmda ignores it). */
const struct intr_tag intr_reply_tags[] = {
	[INTR_TAG_CODE] = { .name = "code", .arg = TAGARG_STRING, .id = INTR_TAG_CODE,
		       .capability = "vnd.mvmf.smtp" },
	[INTR_TAG_XCODE] = { .name = "xcode", .arg = TAGARG_STRING, .id = INTR_TAG_XCODE,
			.capability = "vnd.mvmf.smtp" },
	{ 0 },
};

/* intr_reply_check - a constant :code must be an SMTP reply code of the
 * right class (FIRST), a constant :xcode an RFC 3463 status code */
int
intr_reply_check(struct compile *cc, struct ast *n, struct site *site,
		 char first)
{
	for (size_t i = 0; i < n->ntags; i++) {
		const struct ast *v = n->tags[i].arg;

		if (v == NULL || v->kind != A_STR)
			continue;
		if (n->tags[i].def->id == INTR_TAG_CODE && !intr_reply_code_ok(v->str, v->len, first))
		{
			cerror(cc, v, "%c-class SMTP reply code expected (%cNN), not \"%.*s\"",
			       first, first, (int) (v->len > 20 ? 20 : v->len), v->str);
			return -1;
		}
		if (n->tags[i].def->id == INTR_TAG_XCODE && !intr_reply_xcode_ok(v->str, v->len, first))
		{
			cerror(cc, v, "enhanced status code %c.X.Y expected, not \"%.*s\"",
			       first, (int) (v->len > 20 ? 20 : v->len), v->str);
			return -1;
		}
	}
	(void) site;
	return 0;
}

/* intr_reply_code_ok - "550": three digits, the first FIRST */
int
intr_reply_code_ok(const char *s, size_t len, char first)
{
	return len == 3 && s[0] == first && s[1] >= '0' && s[1] <= '5'
	    && s[2] >= '0' && s[2] <= '9';
}

/* intr_reply_xcode_ok - "5.7.1": class FIRST, subject and detail of
 * at most 3 digits each (RFC 3463 2) */
int
intr_reply_xcode_ok(const char *s, size_t len, char first)
{
	size_t i = 2, digits;

	if (len < 5 || s[0] != first || s[1] != '.')
		return 0;
	for (int part = 0; part < 2; part++) {
		for (digits = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
		if (digits == 0 || digits > 3 || (part == 0 && (i == len || s[i++] != '.')))
			return 0;
	}
	return i == len;
}

/* reject_check - :code and :xcode are 5XX / 5.X.Y */
static int
reject_check(struct compile *cc, struct ast *n, struct site *site)
{
	return intr_reply_check(cc, n, site, '5');
}

/* reject: reject [:code S] [:xcode S] <reason: string>; ereject the
 * same (RFC 5429 2.1, 2.2) */
static int
reject_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	struct action act = { .kind = ACT_REJECT };
	struct value *v;

	(void) ret;
	act.target = args[0].u.s.ptr;
	act.target_len = args[0].u.s.len;
	act.extended = strcmp(site->intr->name, "ereject") == 0;
	if (intr_tag_present(site, INTR_TAG_CODE, args, &v)) {
		if (!intr_reply_code_ok(v->u.s.ptr, v->u.s.len, '5'))
			return run_error(run, site, "reject :code must be 5XX");
		act.code = arena_memdup(run->arena, v->u.s.ptr, v->u.s.len);
	}
	if (intr_tag_present(site, INTR_TAG_XCODE, args, &v)) {
		if (!intr_reply_xcode_ok(v->u.s.ptr, v->u.s.len, '5'))
			return run_error(run, site, "reject :xcode must be 5.X.Y");
		act.xcode = arena_memdup(run->arena, v->u.s.ptr, v->u.s.len);
	}
	return decide(run, site, &act);
}

const struct intrinsic intr_reject = {
	.name = "reject",
	.kind = INTR_COMMAND,
	.capability = "reject",
	.args = "s",
	.tags = intr_reply_tags,
	.check = reject_check,
	.run = reject_run,
};

const struct intrinsic intr_ereject = {
	.name = "ereject",
	.kind = INTR_COMMAND,
	.capability = "ereject",
	.args = "s",
	.tags = intr_reply_tags,
	.check = reject_check,
	.run = reject_run,
};
