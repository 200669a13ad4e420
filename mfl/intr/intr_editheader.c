/*
 * intr_editheader - RFC 5293 editheader: addheader and deleteheader
 * change the message's header in place (hdr_insert, hdr_remove), so
 * the tests after them see the change and the host stores or passes on
 * the edited message (msg_edited(); mvmtr turns the edits into milter
 * header changes).
 *
 * A value is unfolded, RFC 2047-encoded (UTF-8, "B") when it is not
 * ASCII, and folded at white space to keep lines near 78 characters.
 * Received and Auto-Submitted fields are never deleted (RFC 5293 7;
 * Pigeonhole refuses the same), so a script cannot hide a message's
 * path or make a loop look like new mail.
 *
 * DIAGNOSTICS: compile errors for a constant field name that is not
 * one (RFC 5322 ftext); runtime errors for a computed one and when
 * memory runs out.
 */
#include "config.h"

#include <string.h>

#include "compile.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/hdr.h"
#include "msg/msg.h"
#include "msg/str.h"
#include "prog.h"
#include "tmatch.h"

enum { EDIT_LAST = 0 };

static const struct intr_tag addheader_tags[] = {
	{ .name = "last", .id = EDIT_LAST },
	{ .name = NULL }
};

static const struct intr_tag deleteheader_tags[] = {
	{ .name = "index", .arg = TAGARG_NUMBER, .id = INTR_TAG_INDEX },
	{ .name = "last", .id = INTR_TAG_LAST },
	{ .name = NULL }
};

/* field_name_ok - RFC 5322 field-name: 1*ftext (printable, not ":") */
static int
field_name_ok(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) s[i] < 33 || (unsigned char) s[i] > 126 || s[i] == ':')
			return 0;
	return 1;
}

/* protected - a field no script may delete */
static int
protected(const char *name, size_t len)
{
	return str_ieq_cstr(name, len, "received") || str_ieq_cstr(name, len, "auto-submitted");
}

/* addheader: addheader [":last"] <field-name: string> <value: string> */
static int
addheader_run(struct mfl_run *run, const struct site *site, struct value *args,
	      struct value *ret)
{
	struct hdr_index *idx;
	struct buf text = BUF_INIT;
	char *raw;
	int rc;

	(void) ret;
	if (!field_name_ok(args[0].u.s.ptr, args[0].u.s.len))
		return run_error(run, site, "addheader: field name \"%.*s\" is invalid",
				 (int) (args[0].u.s.len > 60 ? 60 : args[0].u.s.len), args[0].u.s.ptr);
	if (run->msg == NULL)
		return 0;
	if ((idx = msg_headers(run->msg)) == NULL)
		return run_error(run, site, "out of memory");
	hdr_format_field(&text, args[0].u.s.ptr, args[0].u.s.len, args[1].u.s.ptr, args[1].u.s.len,
		   msg_line_end(run->msg));
	raw = text.failed ? NULL : arena_memdup(msg_arena(run->msg), text.data, text.len);
	rc = raw == NULL ? -1
	    : hdr_insert(idx, intr_tag_present(site, EDIT_LAST, args, NULL) ? idx->count : 0,
			 raw, text.len);
	buf_free(&text);
	return rc < 0 ? run_error(run, site, "out of memory") : 0;
}

/* name_check - a constant field name must be one */
static int
name_check(struct compile *cc, struct ast *n, struct site *site)
{
	struct ast *name = n->items[0];

	if (name->kind == A_STR && !field_name_ok(name->str, name->len)) {
		cerror(cc, name, "%s: field name \"%.*s\" is invalid", n->intr->name,
		       (int) (name->len > 60 ? 60 : name->len), name->str);
		return -1;
	}
	/* a NUL cannot be in a header field (RFC 5322 2.2) */
	if (site->intr->tags != deleteheader_tags && n->nitems > 1 && n->items[1]->kind == A_STR
	    && memchr(n->items[1]->str, 0, n->items[1]->len) != NULL) {
		cerror(cc, n->items[1], "addheader: field value \"%.*s\" is invalid (it holds a NUL)",
		       (int) (n->items[1]->len > 60 ? 60 : n->items[1]->len), n->items[1]->str);
		return -1;
	}
	return site->intr->tags == deleteheader_tags ? intr_index_check(cc, n, site) : 0;
}

const struct intrinsic intr_addheader = {
	.name = "addheader",
	.kind = INTR_COMMAND,
	.capability = "editheader",
	.args = "ss",
	.tags = addheader_tags,
	.check = name_check,
	.run = addheader_run,
};

/* deleteheader: deleteheader [":index" n [":last"]] [COMPARATOR]
 *	[MATCH-TYPE] <field-name: string> [<value-patterns: string-list>] */
static int
deleteheader_run(struct mfl_run *run, const struct site *site, struct value *args,
		 struct value *ret)
{
	const char *name = args[0].u.s.ptr;
	size_t len = args[0].u.s.len, doomed = 0, *which;
	struct hdr_index *idx;
	struct hdr_field *f;

	(void) ret;
	if (!field_name_ok(name, len))
		return run_error(run, site, "deleteheader: field name \"%.*s\" is invalid",
				 (int) (len > 60 ? 60 : len), name);
	if (run->msg == NULL || protected(name, len))
		return 0;
	if ((idx = msg_headers(run->msg)) == NULL
	    || (which = arena_alloc(run->arena, (idx->count + 1) * sizeof(*which))) == NULL)
		return run_error(run, site, "out of memory");
	for (size_t n = 0; (f = hdr_find(idx, name, len, n)) != NULL; n++) {
		int m = 1;

		if (!intr_index_wanted(site, args, idx, name, len, n))
			continue;
		if (site->npos > 1) {
			struct tmatch tm;

			if (hdr_decoded(idx, f) < 0)
				return run_error(run, site, "out of memory");
			tmatch_init(&tm, run, site, &args[1]);
			if ((m = tmatch_one(&tm, f->decoded, f->decoded_len)) == 0)
				m = tmatch_end(&tm);
			if (m < 0)
				return -1;
		}
		if (m > 0)
			which[doomed++] = (size_t) (f - idx->fields);
	}
	/* from the last, so the positions still to remove stay right */
	while (doomed-- > 0)
		if (hdr_remove(idx, which[doomed]) < 0)
			return run_error(run, site, "out of memory");
	return 0;
}

const struct intrinsic intr_deleteheader = {
	.name = "deleteheader",
	.kind = INTR_COMMAND,
	.capability = "editheader",
	.args = "s?l",
	.flags = INTR_F_MATCH,
	.tags = deleteheader_tags,
	.check = name_check,
	.run = deleteheader_run,
};
