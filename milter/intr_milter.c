/*
 * intr_milter - what mvmtr adds to the language: the SMTP decisions
 * (accept, tempfail, quarantine; reject, ereject and discard are the
 * language's own), the MTA's macros, and the message changes a milter
 * may make (headers, recipients, sender, body), which are queued and
 * made at end of message whatever hook asked for them.
 *
 * DIAGNOSTICS: runtime errors for a header name or value that is not
 * one, a reply code of the wrong class, and too many changes.
 */
#include "config.h"

#include <string.h>

#include "delivery.h"
#include "mvmtr.h"

/* session_of - the connection a run belongs to; NULL when the top
 * level runs once at start (program.c), with no connection */
static struct session *
session_of(struct mfl_run *run)
{
	return mfl_run_host_data(run);
}

/* in_hook - the connection, or a runtime error outside one */
static struct session *
in_hook(struct mfl_run *run, const struct site *site)
{
	struct session *s = session_of(run);

	if (s == NULL)
		run_error(run, site, "%s%s works in hooks only",
			  site->intr->kind == INTR_FUNCTION ? "$" : "", site->intr->name);
	return s;
}

/* accept: the message (or connection) is accepted; no more hooks */
static int
accept_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	struct session *s = in_hook(run, site);

	(void) args;
	(void) ret;
	if (s == NULL)
		return -1;
	if (session_decide(s, DEC_ACCEPT, NULL, NULL, NULL, 0) < 0)
		return run_error(run, site, "out of memory");
	mfl_run_stop(run);
	return 0;
}

static const struct intrinsic intr_accept = {
	.name = "accept", .kind = INTR_COMMAND, .capability = "vnd.mvmf.smtp",
	.args = "", .run = accept_run,
};

/* tempfail_check - :code and :xcode are 4XX / 4.X.Y */
static int
tempfail_check(struct compile *cc, struct ast *n, struct site *site)
{
	return intr_reply_check(cc, n, site, '4');
}

/* tempfail [:code "4XX"] [:xcode "4.X.Y"] [text]: try again later */
static int
tempfail_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	struct value *code = NULL, *xcode = NULL;
	char c[4] = "", x[16] = "";
	const struct value *text = site->npos > 0 ? &args[0] : NULL;
	struct session *s = in_hook(run, site);

	(void) ret;
	if (s == NULL)
		return -1;
	if (intr_tag_present(site, INTR_TAG_CODE, args, &code)) {
		if (!intr_reply_code_ok(code->u.s.ptr, code->u.s.len, '4'))
			return run_error(run, site, "tempfail :code must be 4XX");
		memcpy(c, code->u.s.ptr, 3);
	}
	if (intr_tag_present(site, INTR_TAG_XCODE, args, &xcode)) {
		if (!intr_reply_xcode_ok(xcode->u.s.ptr, xcode->u.s.len, '4'))
			return run_error(run, site, "tempfail :xcode must be 4.X.Y");
		memcpy(x, xcode->u.s.ptr, xcode->u.s.len);
	}
	if (session_decide(s, DEC_TEMPFAIL, c, x, text ? text->u.s.ptr : NULL,
			   text ? text->u.s.len : 0) < 0)
		return run_error(run, site, "out of memory");
	mfl_run_stop(run);
	return 0;
}

static const struct intrinsic intr_tempfail = {
	.name = "tempfail", .kind = INTR_COMMAND, .capability = "vnd.mvmf.smtp",
	.args = "?s", .tags = intr_reply_tags, .check = tempfail_check,
	.run = tempfail_run,
};

/* quarantine <reason>: the MTA holds the message (Postfix: hold queue) */
static int
quarantine_run(struct mfl_run *run, const struct site *site, struct value *args,
	       struct value *ret)
{
	const char *reason = run_cstr(run, &args[0]);
	struct session *s = in_hook(run, site);

	(void) ret;
	if (s == NULL)
		return -1;
	if (reason == NULL || *reason == 0)
		return run_error(run, site, "quarantine: the reason must be a non-empty text");
	if (session_change(s, CHG_QUARANTINE, reason, NULL, 0, 0) < 0)
		return run_error(run, site, "quarantine: too many changes");
	return 0;
}

static const struct intrinsic intr_quarantine = {
	.name = "quarantine", .kind = INTR_COMMAND, .capability = "vnd.mvmf.smtp",
	.args = "s", .run = quarantine_run,
};

/* $macro(name): the MTA's macro, "" when it did not send it */
static int
macro_run(struct mfl_run *run, const struct site *site, struct value *args,
	  struct value *ret)
{
	const char *name = run_cstr(run, &args[0]), *v;

	if (name == NULL)
		return run_error(run, site, "$macro: the name holds a NUL");
	/* at start there is no MTA: every macro is "" */
	v = session_of(run) ? session_macro(session_of(run), name) : NULL;
	return run_str(run, v ? v : "", v ? strlen(v) : 0, ret) < 0
	    ? run_error(run, site, "memory limit reached") : 0;
}

static const struct intrinsic intr_macro = {
	.name = "macro", .kind = INTR_FUNCTION, .args = "s", .ret = TYPE_STRING,
	.flags = INTR_F_CONST_ARG, .run = macro_run,
};

/* header_name_ok - RFC 5322 2.2: printable US-ASCII but ':' */
static int
header_name_ok(const char *s)
{
	if (*s == 0 || strlen(s) > 997)
		return 0;
	for (; *s; s++)
		if (*s < 33 || *s > 126 || *s == ':')
			return 0;
	return 1;
}

/* header_value_ok - no NUL, no CR, a newline only before folding space */
static int
header_value_ok(const struct value *v)
{
	for (size_t i = 0; i < v->u.s.len; i++) {
		char c = v->u.s.ptr[i];

		if (c == 0 || c == '\r')
			return 0;
		if (c == '\n' && (i + 1 == v->u.s.len
				  || (v->u.s.ptr[i + 1] != ' ' && v->u.s.ptr[i + 1] != '\t')))
			return 0;
	}
	return 1;
}

/* queue - one change; its runtime errors */
static int
queue(struct mfl_run *run, const struct site *site, enum change_kind kind,
      const char *name, const struct value *value, int index)
{
	struct session *s = in_hook(run, site);

	if (s == NULL)
		return -1;
	if (session_change(s, kind, name, value ? value->u.s.ptr : NULL,
			   value ? value->u.s.len : 0, index) < 0)
		return run_error(run, site, "too many message changes");
	return 0;
}

/* $header_add(name, value), $header_insert(index, name, value),
 * $header_change(name, index, value), $header_delete(name, index) */
static int
header_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	const char *fn = site->intr->name + 7;	/* "header_" */
	int insert = strcmp(fn, "insert") == 0, del = strcmp(fn, "delete") == 0;
	const struct value *namev = &args[insert ? 1 : 0];
	const struct value *value = del ? NULL : &args[insert || strcmp(fn, "change") == 0 ? 2 : 1];
	int64_t index = strcmp(fn, "add") == 0 ? 0 : args[insert ? 0 : 1].u.i;
	const char *name = run_cstr(run, namev);
	static const struct value empty = { .type = V_STR, .u.s = { "", 0 } };

	*ret = value_int(0);
	if (name == NULL || !header_name_ok(name))
		return run_error(run, site, "$header_%s: \"%.*s\" is not a header field name", fn,
				 (int) (namev->u.s.len > 40 ? 40 : namev->u.s.len), namev->u.s.ptr);
	if (value != NULL && !header_value_ok(value))
		return run_error(run, site, "$header_%s: the value holds a NUL, a CR or a "
				 "line break not followed by white space", fn);
	if (strcmp(fn, "add") != 0 && (index < (insert ? 0 : 1) || index > 100000))
		return run_error(run, site, "$header_%s: index %lld out of range", fn,
				 (long long) index);
	if (strcmp(fn, "add") == 0)
		return queue(run, site, CHG_HEADER_ADD, name, value, 0);
	if (insert)
		return queue(run, site, CHG_HEADER_INSERT, name, value, (int) index);
	return queue(run, site, CHG_HEADER_CHANGE, name, del ? &empty : value, (int) index);
}

static const struct intrinsic intr_header_add = {
	.name = "header_add", .kind = INTR_FUNCTION, .args = "ss", .ret = TYPE_INT,
	.run = header_run,
};
static const struct intrinsic intr_header_insert = {
	.name = "header_insert", .kind = INTR_FUNCTION, .args = "iss", .ret = TYPE_INT,
	.run = header_run,
};
static const struct intrinsic intr_header_change = {
	.name = "header_change", .kind = INTR_FUNCTION, .args = "sis", .ret = TYPE_INT,
	.run = header_run,
};
static const struct intrinsic intr_header_delete = {
	.name = "header_delete", .kind = INTR_FUNCTION, .args = "si", .ret = TYPE_INT,
	.run = header_run,
};

/* $rcpt_add(addr [, esmtp args]), $rcpt_delete(addr),
 * $sender_change(addr [, esmtp args]), $body_replace(text) */
static int
envelope_change_run(struct mfl_run *run, const struct site *site,
		    struct value *args, struct value *ret)
{
	const char *fn = site->intr->name;
	const char *addr = run_cstr(run, &args[0]);
	enum change_kind kind = strcmp(fn, "rcpt_add") == 0 ? CHG_RCPT_ADD
	    : strcmp(fn, "rcpt_delete") == 0 ? CHG_RCPT_DELETE
	    : strcmp(fn, "sender_change") == 0 ? CHG_SENDER : CHG_BODY;

	*ret = value_int(0);
	if (kind == CHG_BODY)
		return queue(run, site, kind, NULL, &args[0], 0);
	if (addr == NULL || strpbrk(addr, "\r\n") != NULL)
		return run_error(run, site, "$%s: not an address", fn);
	if (site->npos > 1 && (memchr(args[1].u.s.ptr, 0, args[1].u.s.len) != NULL
			       || memchr(args[1].u.s.ptr, '\n', args[1].u.s.len) != NULL))
		return run_error(run, site, "$%s: ESMTP arguments hold a NUL or a newline", fn);
	return queue(run, site, kind, addr, site->npos > 1 ? &args[1] : NULL, 0);
}

static const struct intrinsic intr_rcpt_add = {
	.name = "rcpt_add", .kind = INTR_FUNCTION, .args = "s?s", .ret = TYPE_INT,
	.run = envelope_change_run,
};
static const struct intrinsic intr_rcpt_delete = {
	.name = "rcpt_delete", .kind = INTR_FUNCTION, .args = "s", .ret = TYPE_INT,
	.run = envelope_change_run,
};
static const struct intrinsic intr_sender_change = {
	.name = "sender_change", .kind = INTR_FUNCTION, .args = "s?s", .ret = TYPE_INT,
	.run = envelope_change_run,
};
static const struct intrinsic intr_body_replace = {
	.name = "body_replace", .kind = INTR_FUNCTION, .args = "s", .ret = TYPE_INT,
	.run = envelope_change_run,
};

/* $delivery_check(rcpt): what RCPT's own scripts decide, asked of
 * mvmda's service (mvmtr(8) DELIVERY CHECKS): with the envelope before
 * DATA, with the message in $hook_eom; the answer line ("accept",
 * "reject 550 5.7.1 reason", "data", "unknown", "error reason"), or ""
 * when $mvmtr_delivery_socket is not set */
static int
delivery_check_run(struct mfl_run *run, const struct site *site, struct value *args,
		   struct value *ret)
{
	struct session *s = in_hook(run, site);
	const char *rcpt = run_cstr(run, &args[0]);
	const struct delivery_answer *a;

	if (s == NULL)
		return -1;
	if (rcpt == NULL || strpbrk(rcpt, "\r\n") != NULL)
		return run_error(run, site, "$delivery_check: not an address");
	a = s->at_eom ? delivery_data(s, rcpt) : delivery_rcpt(s, rcpt, NULL, 0);
	return run_str(run, a ? a->line : "", a ? strlen(a->line) : 0, ret) < 0
	    ? run_error(run, site, "memory limit reached") : 0;
}

static const struct intrinsic intr_delivery_check = {
	.name = "delivery_check", .kind = INTR_FUNCTION, .args = "s", .ret = TYPE_STRING,
	.run = delivery_check_run,
};

static const struct intrinsic *const milter_intrinsics[] = {
	&intr_delivery_check,
	&intr_accept, &intr_tempfail, &intr_quarantine, &intr_macro,
	&intr_header_add, &intr_header_insert, &intr_header_change,
	&intr_header_delete, &intr_rcpt_add, &intr_rcpt_delete,
	&intr_sender_change, &intr_body_replace,
};

/* intr_milter_register - mvmtr's intrinsics into ENV */
int
intr_milter_register(struct mfl_env *env)
{
	for (size_t i = 0; i < sizeof(milter_intrinsics) / sizeof(milter_intrinsics[0]); i++)
		if (mfl_env_add_intrinsic(env, milter_intrinsics[i]) < 0)
			return -1;
	return 0;
}
