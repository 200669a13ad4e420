/*
 * intr_replace - RFC 5703's replace (5) and enclose (6): the message the
 * script has is made anew, and every later test and action sees the new
 * one (as after a filter: the run owns it, the host delivers it).
 *
 * replace [":mime"] [":subject" s] [":from" s] <text>: outside
 * foreverypart the whole message's content becomes TEXT (text/plain
 * UTF-8, or with :mime a MIME entity: its own header and body), its
 * other header fields kept, Subject and From as given with the old ones
 * as Original-Subject and Original-From; inside foreverypart the current
 * part is replaced, the rest of the message left as it was.
 *
 * enclose [":subject" s] [":headers" names] <text>: a multipart/mixed
 * message with TEXT and the message as a message/rfc822 part; the fields
 * named by :headers are copied from it, a Date and a From (the user)
 * made when they are not.
 *
 * DIAGNOSTICS: memory; nothing else can fail.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "compile.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/msg.h"
#include "prog.h"

enum { REPL_MIME, REPL_SUBJECT, REPL_FROM, ENCL_HEADERS };

static const struct intr_tag replace_tags[] = {
	{ .name = "mime", .id = REPL_MIME },
	{ .name = "subject", .arg = TAGARG_STRING, .id = REPL_SUBJECT },
	{ .name = "from", .arg = TAGARG_STRING, .id = REPL_FROM },
	{ .name = NULL }
};

static const struct intr_tag enclose_tags[] = {
	{ .name = "subject", .arg = TAGARG_STRING, .id = REPL_SUBJECT },
	{ .name = "headers", .arg = TAGARG_STRLIST, .id = ENCL_HEADERS },
	{ .name = NULL }
};

/* mime_field - NAME is one of the fields that describe a MIME entity */
static int
mime_field(const char *name, size_t len)
{
	return (len > 8 && strncasecmp(name, "content-", 8) == 0)
	    || (len == 12 && strncasecmp(name, "mime-version", 12) == 0);
}

/* adopt - TEXT (taken over) is the run's message from now on */
static int
adopt(struct mfl_run *run, const struct site *site, struct buf *text)
{
	struct msg *msg;

	buf_putc(text, 0);
	if (text->failed || (msg = msg_take_mem(text->data, text->len - 1, 0)) == NULL)
		return run_error(run, site, "%s: out of memory", site->intr->name);
	if (run_own_message(run, msg) < 0) {
		msg_free(msg);
		return run_error(run, site, "%s: out of memory", site->intr->name);
	}
	return 0;
}

/* entity - TEXT as the new content: with :mime as it is, else a
 * text/plain part in UTF-8 */
static void
entity(const char *text, size_t len, int mime, struct buf *out)
{
	if (!mime)
		buf_puts(out, "Content-Type: text/plain; charset=utf-8\n"
			 "Content-Transfer-Encoding: 8bit\n\n");
	buf_append(out, text, len);
	if (len > 0 && text[len - 1] != '\n')
		buf_putc(out, '\n');
}

/* replace_part - PART of the message (inside foreverypart) becomes the
 * new entity; the rest is kept byte for byte */
static int
replace_part(struct mfl_run *run, const struct site *site, struct mime_part *part,
	     const char *text, size_t len, int mime)
{
	struct buf out = BUF_INIT;
	size_t body_len, total;
	const char *body = msg_body(run->msg, &body_len), *data = msg_data(run->msg, &total);

	if (part->start < data || part->start + part->len > data + total) {
		buf_free(&out);
		return run_error(run, site, "replace: the part is not in the message");
	}
	/* the header as the script left it, then the body around the part */
	if (msg_edited(run->msg, &out) == 1) {
		out.len -= body_len;	/* msg_edited appended the body */
	} else {
		buf_reset(&out);
		buf_append(&out, data, (size_t) (body - data));
	}
	buf_append(&out, body, (size_t) (part->start - body));
	entity(text, len, mime, &out);
	buf_append(&out, part->start + part->len,
		   (size_t) (body + body_len - (part->start + part->len)));
	return adopt(run, site, &out);
}

/* keep_fields - the message's header fields but the MIME ones and those
 * named NAME1, NAME2 (which, when ALSO, come again as Original-NAME) */
static void
keep_fields(struct msg *msg, const char *n1, const char *v1, const char *n2, const char *v2,
	    struct buf *out)
{
	struct hdr_index *h = msg_headers(msg);

	for (size_t i = 0; h != NULL && i < h->count; i++) {
		const struct hdr_field *f = &h->fields[i];
		const char *names[2] = { n1, n2 }, *given[2] = { v1, v2 };
		int skip = mime_field(f->name, f->name_len);

		for (int k = 0; k < 2 && !skip; k++)
			if (given[k] != NULL && strlen(names[k]) == f->name_len
			    && strncasecmp(f->name, names[k], f->name_len) == 0) {
				buf_printf(out, "Original-%s:%.*s\n", names[k], (int) f->value_len,
					   f->value);
				skip = 1;
			}
		if (!skip) {
			buf_append(out, f->raw, f->raw_len);
			buf_putc(out, '\n');
		}
	}
}

/* replace: replace [":mime"] [":subject" string] [":from" string]
 *	<replacement: string> */
static int
replace_run(struct mfl_run *run, const struct site *site, struct value *args, struct value *ret)
{
	struct mime_part *part = intr_current_part(run);
	const char *subject = intr_tag_cstr(run, site, args, REPL_SUBJECT);
	const char *from = intr_tag_cstr(run, site, args, REPL_FROM);
	int mime = intr_tag_present(site, REPL_MIME, args, NULL);
	struct buf out = BUF_INIT;

	(void) ret;
	if (run->msg == NULL)
		return 0;
	if (part != NULL && part->parent != NULL)
		return replace_part(run, site, part, args[0].u.s.ptr, args[0].u.s.len, mime);
	keep_fields(run->msg, "Subject", subject, "From", from, &out);
	if (subject != NULL) {
		hdr_format_field(&out, "Subject", 7, subject, strlen(subject), "\n");
		buf_putc(&out, '\n');
	}
	if (from != NULL) {
		hdr_format_field(&out, "From", 4, from, strlen(from), "\n");
		buf_putc(&out, '\n');
	}
	buf_puts(&out, "MIME-Version: 1.0\n");
	entity(args[0].u.s.ptr, args[0].u.s.len, mime, &out);
	return adopt(run, site, &out);
}

const struct intrinsic intr_replace = {
	.name = "replace",
	.kind = INTR_COMMAND,
	.capability = "replace",
	.args = "s",
	.tags = replace_tags,
	.run = replace_run,
};

/* copy_named - the message's fields named in LIST onto OUT; which of
 * Date and From were among them, in *HAVE (bit 1, bit 2) */
static void
copy_named(struct mfl_run *run, const struct site *site, struct value *list, struct buf *out,
	   int *have)
{
	struct hdr_index *h = msg_headers(run->msg);
	const struct value *items;
	size_t n;

	*have = 0;
	if (list == NULL || h == NULL)
		return;
	run_strlist(run, site, list, &n, &items);
	for (size_t i = 0; i < h->count; i++) {
		const struct hdr_field *f = &h->fields[i];

		for (size_t k = 0; k < n; k++)
			if (items[k].u.s.len == f->name_len
			    && strncasecmp(items[k].u.s.ptr, f->name, f->name_len) == 0
			    && !mime_field(f->name, f->name_len)) {
				buf_append(out, f->raw, f->raw_len);
				buf_putc(out, '\n');
				*have |= f->name_len == 4 && !strncasecmp(f->name, "date", 4) ? 1
				    : f->name_len == 4 && !strncasecmp(f->name, "from", 4) ? 2 : 0;
				break;
			}
	}
}

/* enclose: enclose [":subject" string] [":headers" string-list]
 *	<text: string> */
static int
enclose_run(struct mfl_run *run, const struct site *site, struct value *args, struct value *ret)
{
	const char *subject = intr_tag_cstr(run, site, args, REPL_SUBJECT);
	struct buf out = BUF_INIT, old = BUF_INIT;
	struct value *names = NULL;
	char date[64], boundary[64];
	time_t now = time(NULL);
	struct tm tm;
	int have;

	(void) ret;
	if (run->msg == NULL)
		return 0;
	intr_tag_present(site, ENCL_HEADERS, args, &names);
	copy_named(run, site, names, &out, &have);
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	if (!(have & 1))
		buf_printf(&out, "Date: %s\n", date);
	if (!(have & 2))	/* the user the script runs for */
		buf_printf(&out, "From: <%s>\n", run->n_env_to ? run->env_to[0] : "");
	if (subject == NULL) {
		struct hdr_index *h = msg_headers(run->msg);
		struct hdr_field *f = h ? hdr_find(h, "subject", 7, 0) : NULL;

		if (f != NULL && hdr_decoded(h, f) == 0)
			subject = arena_memdup(run->arena, f->decoded, f->decoded_len);
	}
	if (subject != NULL) {
		hdr_format_field(&out, "Subject", 7, subject, strlen(subject), "\n");
		buf_putc(&out, '\n');
	}
	snprintf(boundary, sizeof(boundary), "enclose-%lld-%ld", (long long) now, (long) getpid());
	buf_printf(&out, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"%s\"\n\n"
		   "--%s\n", boundary, boundary);
	entity(args[0].u.s.ptr, args[0].u.s.len, 0, &out);
	buf_printf(&out, "\n--%s\nContent-Type: message/rfc822\n\n", boundary);
	if (msg_edited(run->msg, &old) == 0) {
		size_t len;
		const char *data = msg_data(run->msg, &len);

		buf_append(&old, data, len);
	}
	buf_append(&out, old.data ? old.data : "", old.len);
	buf_free(&old);
	buf_printf(&out, "\n--%s--\n", boundary);
	return adopt(run, site, &out);
}

const struct intrinsic intr_enclose = {
	.name = "enclose",
	.kind = INTR_COMMAND,
	.capability = "enclose",
	.args = "s",
	.tags = enclose_tags,
	.run = enclose_run,
};
