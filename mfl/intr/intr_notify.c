/*
 * intr_notify - enotify (RFC 5435) with its mailto method (RFC 5436):
 * the notify action, and the tests valid_notify_method and
 * notify_method_capability. A constant method, :from, :importance or
 * :options that cannot be right is a compile error; one made at run time
 * is a runtime error (the run then keeps the message).
 *
 * DIAGNOSTICS: the URI reader's reason (notify.c) in the message.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "compile.h"
#include "msg/arena.h"
#include "msg/str.h"
#include "notify.h"
#include "prog.h"
#include "tmatch.h"

enum { NTFY_FROM, NTFY_IMPORTANCE, NTFY_OPTIONS, NTFY_MESSAGE, NTFY_FCC, NTFY_FCC_OPTIONS };

static const struct intr_tag notify_tags[] = {
	{ .name = "from", .arg = TAGARG_STRING, .id = NTFY_FROM },
	{ .name = "importance", .arg = TAGARG_STRING, .id = NTFY_IMPORTANCE },
	{ .name = "options", .arg = TAGARG_STRLIST, .id = NTFY_OPTIONS },
	{ .name = "message", .arg = TAGARG_STRING, .id = NTFY_MESSAGE },
	{ .name = "fcc", .arg = TAGARG_STRING, .id = NTFY_FCC, .capability = "fcc" },
	INTR_FCC_OPTION_TAGS(NTFY_FCC_OPTIONS),
	{ .name = NULL }
};

/* importance_ok - "1", "2" or "3" (RFC 5435 3.4) */
static int
importance_ok(const char *s, size_t len)
{
	return len == 1 && s[0] >= '1' && s[0] <= '3';
}

/* option_ok - "name=value" with a name of letters, digits, '.', '-'
 * and '_' that starts with a letter or digit, a value without NUL, CR
 * or LF (RFC 5435 3.5) */
static int
option_ok(const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);

	if (eq == NULL || eq == s || !(ascii_isalpha(s[0]) || ascii_isdigit(s[0])))
		return 0;
	for (const char *p = s; p < eq; p++)
		if (!ascii_isalpha(*p) && !ascii_isdigit(*p) && *p != '.' && *p != '-' && *p != '_')
			return 0;
	/* option-value: no NUL, CR or LF */
	for (const char *p = eq + 1; p < s + len; p++)
		if (*p == 0 || *p == '\r' || *p == '\n')
			return 0;
	return 1;
}

/* notify_check - what is constant must be right */
static int
notify_check(struct compile *cc, struct ast *n, struct site *site)
{
	struct ast *method = n->items[0];
	char err[200];

	if (intr_fcc_check(cc, n, site, NTFY_FCC, NTFY_FCC_OPTIONS) < 0)
		return -1;
	if (method->kind == A_STR && !mfl_notify_valid(method->str, method->len, err, sizeof(err))) {
		cerror(cc, method, "notify: invalid method: %s", err);
		return -1;
	}
	for (size_t i = 0; i < n->ntags; i++) {
		const struct ast *v = n->tags[i].arg;
		int id = n->tags[i].def->id;

		if (v == NULL)
			continue;
		if (id == NTFY_IMPORTANCE && v->kind == A_STR && !importance_ok(v->str, v->len)) {
			cerror(cc, v, "notify: :importance must be \"1\", \"2\" or \"3\", not \"%.*s\"",
			       (int) (v->len > 20 ? 20 : v->len), v->str);
			return -1;
		}
		if (id == NTFY_FROM && v->kind == A_STR
		    && intr_one_address(cc->arena, v->str, v->len, NULL) != 1) {
			cerror(cc, v, "notify: :from \"%.*s\" is not one address",
			       (int) (v->len > 80 ? 80 : v->len), v->str);
			return -1;
		}
		if (id == NTFY_OPTIONS) {
			const struct ast *const *items = v->kind == A_LIST
			    ? (const struct ast *const *) v->items : &v;
			size_t count = v->kind == A_LIST ? v->nitems : 1;

			for (size_t k = 0; k < count; k++)
				if (items[k]->kind == A_STR && !option_ok(items[k]->str, items[k]->len)) {
					cerror(cc, items[k], "notify: invalid option \"%.*s\" "
					       "(not name=value)", (int) (items[k]->len > 40 ? 40
									: items[k]->len),
					       items[k]->str);
					return -1;
				}
		}
	}
	return 0;
}

/* notify: notify [":from" string] [":importance" <"1" / "2" / "3">]
 *	[":options" string-list] [":message" string] <method: string> */
static int
notify_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	struct notify *nt = arena_zalloc(run->arena, sizeof(*nt));
	struct action act = { .kind = ACT_NOTIFY };
	const char *importance = intr_tag_cstr(run, site, args, NTFY_IMPORTANCE);
	struct value *tag;
	char err[200];

	(void) ret;
	if (nt == NULL)
		return run_error(run, site, "memory limit reached");
	if (!mfl_notify_valid(args[0].u.s.ptr, args[0].u.s.len, err, sizeof(err)))
		return run_error(run, site, "notify: invalid method: %s", err);
	nt->importance = 2;
	if (importance != NULL) {
		if (!importance_ok(importance, strlen(importance)))
			return run_error(run, site, "notify: :importance must be 1, 2 or 3");
		nt->importance = importance[0] - '0';
	}
	nt->from = intr_tag_cstr(run, site, args, NTFY_FROM);
	if (nt->from != NULL && intr_one_address(run->arena, nt->from, strlen(nt->from), NULL) != 1)
		return run_error(run, site, "notify: :from \"%.80s\" is not one address", nt->from);
	nt->message = intr_tag_cstr(run, site, args, NTFY_MESSAGE);
	nt->fcc = intr_tag_cstr(run, site, args, NTFY_FCC);
	if (nt->fcc != NULL && !*nt->fcc)
		return run_error(run, site, "notify: :fcc names no mailbox");
	if (intr_fcc_options(run, site, args, NTFY_FCC_OPTIONS, &nt->fcc_flags,
			     &nt->fcc_specialuse) < 0)
		return -1;
	if (intr_tag_present(site, NTFY_OPTIONS, args, &tag) && tag != NULL) {
		const struct value *items;
		size_t n;

		run_strlist(run, site, tag, &n, &items);
		if ((nt->options = arena_alloc(run->arena, (n + 1) * sizeof(char *))) == NULL)
			return run_error(run, site, "memory limit reached");
		for (size_t i = 0; i < n; i++)
			if ((nt->options[i] = run_cstr(run, &items[i])) == NULL
			    || !option_ok(nt->options[i], strlen(nt->options[i])))
				return run_error(run, site, "notify: an option is not name=value");
		nt->options[n] = NULL;
	}
	act.target = args[0].u.s.ptr;
	act.target_len = args[0].u.s.len;
	act.notify = nt;
	return intr_add_action(run, site, &act);
}

const struct intrinsic intr_notify = {
	.name = "notify",
	.kind = INTR_COMMAND,
	.capability = "enotify",
	.args = "s",
	.tags = notify_tags,
	.check = notify_check,
	.run = notify_run,
};

/* valid_notify_method: valid_notify_method <notification-uris: string-list> */
static int
valid_notify_method_run(struct mfl_run *run, const struct site *site, struct value *args,
			struct value *ret)
{
	const struct value *items;
	size_t n;
	char err[200];
	int ok = 1;

	run_strlist(run, site, &args[0], &n, &items);
	for (size_t i = 0; i < n && ok; i++)
		ok = mfl_notify_valid(items[i].u.s.ptr, items[i].u.s.len, err, sizeof(err));
	*ret = value_int(ok && n > 0);
	return 0;
}

const struct intrinsic intr_valid_notify_method = {
	.name = "valid_notify_method",
	.kind = INTR_TEST,
	.capability = "enotify",
	.args = "l",
	.run = valid_notify_method_run,
};

/* notify_method_capability: notify_method_capability [COMPARATOR]
 *	[MATCH-TYPE] <notification-uri: string>
 *	<notification-capability: string> <key-list: string-list>; mailto
 *	knows one capability, "online", whose value is "maybe" (RFC 5436 2.6) */
static int
notify_method_capability_run(struct mfl_run *run, const struct site *site, struct value *args,
			     struct value *ret)
{
	struct tmatch tm;
	char err[200];
	int m;

	*ret = value_int(0);
	if (!mfl_notify_valid(args[0].u.s.ptr, args[0].u.s.len, err, sizeof(err))
	    || !str_ieq_cstr(args[1].u.s.ptr, args[1].u.s.len, "online"))
		return 0;
	tmatch_init(&tm, run, site, &args[2]);
	if ((m = tmatch_one(&tm, "maybe", 5)) == 0)
		m = tmatch_end(&tm);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

const struct intrinsic intr_notify_method_capability = {
	.name = "notify_method_capability",
	.kind = INTR_TEST,
	.capability = "enotify",
	.args = "ssl",
	.flags = INTR_F_MATCH,
	.run = notify_method_capability_run,
};
