/*
 * intr_vacation - RFC 5230 vacation and RFC 6131 vacation-seconds: the
 * action that asks the host to answer the sender, at most once per
 * period and handle. The script only records what to send; whether a
 * reply goes out (never to <>, to lists, to bulk or automatic mail, or
 * for mail not addressed to the user) and the memory of whom it
 * answered are the host's (mvmda: deliver.c, vacation.c).
 *
 * The period is clamped to $mfl_vacation_min_period (default a day, as
 * Pigeonhole) and $mfl_vacation_max_period (0: none). Without :handle
 * the handle is made of the reason, subject, from and :mime, in
 * Pigeonhole's form, so a changed message counts anew.
 *
 * DIAGNOSTICS: runtime errors for a second vacation, a vacation beside
 * reject, and a :from or :addresses item that is not one address (a
 * compile error when it is a constant).
 */
#include "config.h"

#include <string.h>

#include "action.h"
#include "compile.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "prog.h"

enum {
	VAC_DAYS, VAC_SECONDS, VAC_SUBJECT, VAC_FROM, VAC_ADDRESSES, VAC_MIME, VAC_HANDLE,
	VAC_FCC, VAC_FCC_OPTIONS	/* and the two after it */
};

static const struct intr_tag vacation_tags[] = {
	{ .name = "days", .arg = TAGARG_NUMBER, .group = TG_PERIOD, .id = VAC_DAYS },
	{ .name = "seconds", .arg = TAGARG_NUMBER, .group = TG_PERIOD, .id = VAC_SECONDS,
	  .capability = "vacation-seconds" },
	{ .name = "subject", .arg = TAGARG_STRING, .id = VAC_SUBJECT },
	{ .name = "from", .arg = TAGARG_STRING, .id = VAC_FROM },
	{ .name = "addresses", .arg = TAGARG_STRLIST, .id = VAC_ADDRESSES },
	{ .name = "mime", .id = VAC_MIME },
	{ .name = "handle", .arg = TAGARG_STRING, .id = VAC_HANDLE },
	{ .name = "fcc", .arg = TAGARG_STRING, .id = VAC_FCC, .capability = "fcc" },
	INTR_FCC_OPTION_TAGS(VAC_FCC_OPTIONS),
	{ .name = NULL }
};

/* control_cstr - the run's string control NAME as a C string, or NULL */
static const char *
control_cstr(struct mfl_run *run, const char *name)
{
	struct value v;

	return mfl_run_get_control(run, name, &v) == 0 && v.type == V_STR ? run_cstr(run, &v) : NULL;
}

/* vacation_run - vacation [":days" n | ":seconds" n] [":subject" s]
 *	[":from" s] [":addresses" list] [":mime"] [":handle" s] <reason> */
static int
vacation_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	struct vacation *v = arena_zalloc(run->arena, sizeof(*v));
	struct action act = { .kind = ACT_VACATION };
	struct value *tag, handle;
	int64_t min = run_control_int(run, "mfl_vacation_min_period");
	int64_t max = run_control_int(run, "mfl_vacation_max_period");
	const struct value *items;
	size_t n;

	(void) ret;
	if (v == NULL)
		return run_error(run, site, "memory limit reached");
	if (run->actions.vacations > 0)
		return run_error(run, site, "vacation: a script may answer only once (RFC 5230 4.7)");
	v->seconds = 7 * 86400;
	if (intr_tag_present(site, VAC_DAYS, args, &tag) && tag != NULL)
		v->seconds = tag->u.i < 0 ? 0 : tag->u.i * 86400;
	if (intr_tag_present(site, VAC_SECONDS, args, &tag) && tag != NULL)
		v->seconds = tag->u.i < 0 ? 0 : tag->u.i;
	if (v->seconds < min)
		v->seconds = min;
	if (max > 0 && v->seconds > max)
		v->seconds = max;
	v->subject = intr_tag_cstr(run, site, args, VAC_SUBJECT);
	v->subject_template = control_cstr(run, "mfl_vacation_subject_template");
	v->default_subject = control_cstr(run, "mfl_vacation_default_subject");
	v->max_subject = run_control_int(run, "mfl_vacation_max_subject");
	v->from = intr_tag_cstr(run, site, args, VAC_FROM);
	v->mime = intr_tag_present(site, VAC_MIME, args, NULL);
	v->fcc = intr_tag_cstr(run, site, args, VAC_FCC);
	if (v->fcc != NULL && !*v->fcc)
		return run_error(run, site, "vacation: :fcc names no mailbox");
	if (intr_fcc_options(run, site, args, VAC_FCC_OPTIONS, &v->fcc_flags, &v->fcc_specialuse) < 0)
		return -1;
	if (v->from != NULL && intr_one_address(run->arena, v->from, strlen(v->from), NULL) != 1)
		return run_error(run, site, "vacation: :from \"%.80s\" is not one address", v->from);
	if (intr_tag_present(site, VAC_ADDRESSES, args, &tag) && tag != NULL) {
		run_strlist(run, site, tag, &n, &items);
		if ((v->addresses = arena_alloc(run->arena, (n + 1) * sizeof(char *))) == NULL)
			return run_error(run, site, "memory limit reached");
		for (size_t i = 0; i < n; i++)
			if ((v->addresses[i] = run_cstr(run, &items[i])) == NULL)
				return run_error(run, site, "vacation: an address holds a NUL");
		v->addresses[n] = NULL;
	}
	if ((v->handle = intr_tag_cstr(run, site, args, VAC_HANDLE)) == NULL && site->pattern != NULL
	    && (run_str(run, site->pattern, site->pattern_len, &handle) < 0
		|| (v->handle = run_cstr(run, &handle)) == NULL))	/* the script's text */
		return run_error(run, site, "memory limit reached");
	if (v->handle == NULL) {
		struct buf h = BUF_INIT;

		buf_append(&h, args[0].u.s.ptr, args[0].u.s.len);
		buf_puts(&h, v->subject ? v->subject : "<default-subject>");
		buf_puts(&h, v->from ? v->from : "<default-from>");
		buf_puts(&h, v->mime ? "<MIME>" : "<NO-MIME>");
		n = (size_t) run_str(run, h.data ? h.data : "", h.len, &handle);
		buf_free(&h);
		if (n != 0 || (v->handle = run_cstr(run, &handle)) == NULL)
			return run_error(run, site, "memory limit reached");
	}
	act.target = args[0].u.s.ptr;
	act.target_len = args[0].u.s.len;
	act.vacation = v;
	act.file = run_where(run, &act.line);
	if (run->actions.rejected)
		return run_error(run, site, "vacation cannot be combined with reject (RFC 5230 4.7)");
	if ((int) run->actions.n >= run->limits.actions)
		return run_error(run, site, "more than %d actions (mfl_limit_actions)",
				 run->limits.actions);
	if (action_add(run->arena, &run->actions, &act) < 0)
		return run_error(run, site, "memory limit reached");
	return 0;
}

/* source_text - the text of string argument A as written in the
 * script (${...} unexpanded), or NULL when it is computed */
static const char *
source_text(const struct ast *a, size_t *len)
{
	if (a == NULL || (a->kind != A_STR && a->kind != A_INTERP))
		return NULL;
	*len = a->len;
	return a->str;
}

/* default_handle - RFC 5230 4.2: without :handle, the reason, subject,
 * from and :mime make it; as in Pigeonhole, from the script's own text,
 * so a reason built from variables is still one handle */
static void
default_handle(struct compile *cc, struct ast *n, struct site *site)
{
	const struct ast *subject = NULL, *from = NULL;
	const char *t;
	size_t len;
	int mime = 0;
	struct buf h = BUF_INIT;

	for (size_t i = 0; i < n->ntags; i++) {
		int id = n->tags[i].def->id;

		if (id == VAC_HANDLE)
			return;
		subject = id == VAC_SUBJECT ? n->tags[i].arg : subject;
		from = id == VAC_FROM ? n->tags[i].arg : from;
		mime |= id == VAC_MIME;
	}
	if ((t = source_text(n->items[0], &len)) == NULL)
		return;
	buf_append(&h, t, len);
	if (subject != NULL && (t = source_text(subject, &len)) == NULL)
		goto out;
	buf_append(&h, subject ? t : "<default-subject>", subject ? len : 17);
	if (from != NULL && (t = source_text(from, &len)) == NULL)
		goto out;
	buf_append(&h, from ? t : "<default-from>", from ? len : 14);
	buf_puts(&h, mime ? "<MIME>" : "<NO-MIME>");
	if (!h.failed && memchr(h.data, 0, h.len) == NULL) {
		site->pattern = arena_memdup(cc->prog->arena, h.data, h.len);
		site->pattern_len = site->pattern != NULL ? h.len : 0;
	}
out:
	buf_free(&h);
}

/* vacation_check - constant :from and :addresses must be addresses;
 * the default handle is made now */
static int
vacation_check(struct compile *cc, struct ast *n, struct site *site)
{
	default_handle(cc, n, site);
	if (intr_fcc_check(cc, n, site, VAC_FCC, VAC_FCC_OPTIONS) < 0)
		return -1;
	for (size_t i = 0; i < n->ntags; i++) {
		struct ast *arg = n->tags[i].arg, *one[1] = { arg };
		struct ast **items;
		size_t count;

		if (arg == NULL || (n->tags[i].def->id != VAC_FROM
				    && n->tags[i].def->id != VAC_ADDRESSES))
			continue;
		items = arg->kind == A_LIST ? arg->items : one;
		count = arg->kind == A_LIST ? arg->nitems : 1;
		for (size_t k = 0; k < count; k++)
			if (items[k]->kind == A_STR
			    && intr_one_address(cc->arena, items[k]->str, items[k]->len, NULL) != 1) {
				cerror(cc, items[k], "vacation: :%s \"%.*s\" is not one address",
				       n->tags[i].name, (int) (items[k]->len > 60 ? 60 : items[k]->len),
				       items[k]->str);
				return -1;
			}
	}
	return 0;
}

const struct intrinsic intr_vacation = {
	.name = "vacation",
	.kind = INTR_COMMAND,
	.capability = "vacation",
	.args = "s",
	.tags = vacation_tags,
	.check = vacation_check,
	.run = vacation_run,
};
