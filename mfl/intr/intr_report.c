/*
 * intr_report - Pigeonhole's vnd.dovecot.report: report [:headers_only]
 * <feedback-type> <message> <address>, an action that sends an RFC 5965
 * abuse report about the message to the address (report.c writes it,
 * the host sends it). It keeps the implicit keep.
 *
 * DIAGNOSTICS: a constant feedback type that is not an atom, or a
 * constant address that is not one address, is a compile error; one
 * made at run time is a runtime error.
 */
#include "config.h"

#include <string.h>

#include "compile.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "prog.h"

enum { REPORT_HEADERS_ONLY };

static const struct intr_tag report_tags[] = {
	{ .name = "headers_only", .id = REPORT_HEADERS_ONLY },
	{ .name = NULL }
};

/* report_check - a constant feedback type and address must be right */
static int
report_check(struct compile *cc, struct ast *n, struct site *site)
{
	const struct ast *type = n->items[0], *to = n->items[2];

	(void) site;
	if (type->kind == A_STR && !mfl_report_type_ok(type->str, type->len)) {
		cerror(cc, type, "report: invalid feedback type \"%.*s\"",
		       (int) (type->len > 40 ? 40 : type->len), type->str);
		return -1;
	}
	if (to->kind == A_STR && intr_one_address(cc->arena, to->str, to->len, NULL) != 1) {
		cerror(cc, to, "report: \"%.*s\" is not one mail address",
		       (int) (to->len > 80 ? 80 : to->len), to->str);
		return -1;
	}
	return 0;
}

/* report: report [":headers_only"] <feedback-type: string>
 *	<message: string> <address: string> */
static int
report_run(struct mfl_run *run, const struct site *site, struct value *args, struct value *ret)
{
	struct report *r = arena_zalloc(run->arena, sizeof(*r));
	struct action act = { .kind = ACT_REPORT };
	struct buf spec = BUF_INIT;

	(void) ret;
	if (r == NULL)
		return run_error(run, site, "memory limit reached");
	if (!mfl_report_type_ok(args[0].u.s.ptr, args[0].u.s.len))
		return run_error(run, site, "report: invalid feedback type \"%.*s\"",
				 (int) (args[0].u.s.len > 40 ? 40 : args[0].u.s.len), args[0].u.s.ptr);
	if (intr_one_address(run->arena, args[2].u.s.ptr, args[2].u.s.len, &spec) != 1) {
		buf_free(&spec);
		return run_error(run, site, "report: \"%.*s\" is not one mail address",
				 (int) (args[2].u.s.len > 80 ? 80 : args[2].u.s.len), args[2].u.s.ptr);
	}
	act.target = arena_memdup(run->arena, spec.data ? spec.data : "", spec.len);
	act.target_len = spec.len;
	buf_free(&spec);
	r->feedback_type = run_cstr(run, &args[0]);
	r->message = run_cstr(run, &args[1]);
	r->headers_only = intr_tag_present(site, REPORT_HEADERS_ONLY, args, NULL);
	if (act.target == NULL || r->feedback_type == NULL || r->message == NULL)
		return run_error(run, site, "report: a NUL in an argument, or out of memory");
	act.report = r;
	act.copy = 1;		/* a report keeps the implicit keep */
	return intr_add_action(run, site, &act);
}

const struct intrinsic intr_report = {
	.name = "report",
	.kind = INTR_COMMAND,
	.capability = "vnd.dovecot.report",
	.args = "sss",
	.tags = report_tags,
	.check = report_check,
	.run = report_run,
};
