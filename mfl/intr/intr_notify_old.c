/*
 * intr_notify_old - the deprecated "notify" extension (the draft before
 * RFC 5435, which Pigeonhole still has and old Roundcube and Horde
 * scripts use): notify [":method" "mailto"] [":id" string]
 * [":options" addresses] [:low / :normal / :high] [":message" string],
 * and denotify [MATCH-TYPE string] [:low / :normal / :high], which takes
 * back the notify actions of the result so far whose :id matches.
 *
 * A notify becomes an ACT_NOTIFY marked legacy: its recipients and its
 * text ($from$, $env-from$, $subject$, $text$, $text[N]$ filled in when
 * the command runs) go to the host, which sends it as it sends enotify's
 * (mfl_notify_compose). It cannot be used with enotify (parse.c).
 *
 * DIAGNOSTICS: a constant address that is not one, and a method other
 * than mailto, are compile errors; an address made at run time that is
 * not one is a runtime error.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "compile.h"
#include "match.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/msg.h"
#include "prog.h"

enum {
	OLD_METHOD, OLD_ID, OLD_OPTIONS, OLD_MESSAGE, OLD_LOW, OLD_NORMAL, OLD_HIGH,
	OLD_IS, OLD_CONTAINS, OLD_MATCHES
};

#define IMPORTANCE_TAGS \
	{ .name = "low", .group = TG_IMPORTANCE, .id = OLD_LOW }, \
	{ .name = "normal", .group = TG_IMPORTANCE, .id = OLD_NORMAL }, \
	{ .name = "high", .group = TG_IMPORTANCE, .id = OLD_HIGH }

static const struct intr_tag notify_tags[] = {
	{ .name = "method", .arg = TAGARG_STRING, .id = OLD_METHOD },
	{ .name = "id", .arg = TAGARG_STRING, .id = OLD_ID },
	{ .name = "options", .arg = TAGARG_STRLIST, .id = OLD_OPTIONS },
	{ .name = "message", .arg = TAGARG_STRING, .id = OLD_MESSAGE },
	IMPORTANCE_TAGS,
	{ .name = NULL }
};

/* denotify's match type comes with its key */
static const struct intr_tag denotify_tags[] = {
	{ .name = "is", .arg = TAGARG_STRING, .id = OLD_IS },
	{ .name = "contains", .arg = TAGARG_STRING, .id = OLD_CONTAINS },
	{ .name = "matches", .arg = TAGARG_STRING, .id = OLD_MATCHES },
	IMPORTANCE_TAGS,
	{ .name = NULL }
};

/* importance - 1 (high, the draft's default), 2 or 3 from SITE's tags */
static int
importance(const struct site *site)
{
	return site->tags & (1u << OLD_LOW) ? 3 : site->tags & (1u << OLD_NORMAL) ? 2 : 1;
}

/* notify_old_check - a constant method is mailto, a constant option
 * one address */
static int
notify_old_check(struct compile *cc, struct ast *n, struct site *site)
{
	(void) site;
	for (size_t i = 0; i < n->ntags; i++) {
		const struct ast *v = n->tags[i].arg;
		int id = n->tags[i].def->id;

		if (v == NULL)
			continue;
		if (id == OLD_METHOD && v->kind == A_STR && !(v->len == 6 && !strncasecmp(v->str, "mailto", 6))) {
			cerror(cc, v, "notify: the deprecated notify only knows the mailto method");
			return -1;
		}
		if (id == OLD_OPTIONS) {
			const struct ast *const *items = v->kind == A_LIST
			    ? (const struct ast *const *) v->items : &v;
			size_t count = v->kind == A_LIST ? v->nitems : 1;
			int bad = 0;

			for (size_t k = 0; k < count; k++)
				if (items[k]->kind == A_STR
				    && intr_one_address(cc->arena, items[k]->str, items[k]->len, NULL) != 1) {
					cerror(cc, items[k], "notify: :options \"%.*s\" is not one address",
					       (int) (items[k]->len > 80 ? 80 : items[k]->len), items[k]->str);
					bad = 1;	/* every bad one is reported */
				}
			if (bad)
				return -1;
		}
	}
	return 0;
}

/* header_value - the first NAME field of MSG, decoded, onto OUT */
static void
header_value(struct msg *msg, const char *name, struct buf *out)
{
	struct hdr_index *idx = msg ? msg_headers(msg) : NULL;
	struct hdr_field *f = idx ? hdr_find(idx, name, strlen(name), 0) : NULL;

	if (f != NULL && hdr_decoded(idx, f) == 0)
		buf_append(out, f->decoded, f->decoded_len);
}

/* body_text - the text parts of MSG, decoded, onto OUT (N bytes at
 * most when N > 0) */
static void
body_text(struct msg *msg, size_t n, struct buf *out)
{
	struct buf text = BUF_INIT;
	struct mime_part *p = msg ? msg_mime(msg) : NULL;

	while (p != NULL) {
		if (p->child == NULL && strcmp(p->type, "text") == 0)
			mime_part_text(p, &text);
		if (p->child != NULL && strcmp(p->type, "message") != 0) {
			p = p->child;
			continue;
		}
		while (p != NULL && p->next == NULL)
			p = p->parent;
		p = p ? p->next : NULL;
	}
	buf_append(out, text.data ? text.data : "", n > 0 && n < text.len ? n : text.len);
	buf_free(&text);
}

/* message_text - FORMAT (the draft's default "$from$: $subject$") with
 * its substitutions filled in from the message, onto OUT */
static void
message_text(struct mfl_run *run, const char *format, struct buf *out)
{
	const char *p = format ? format : "$from$: $subject$";

	while (*p) {
		size_t num = 0;
		const char *q;

		if (strncasecmp(p, "$from$", 6) == 0) {
			header_value(run->msg, "from", out);
			p += 6;
		} else if (strncasecmp(p, "$env-from$", 10) == 0) {
			buf_puts(out, run->env_from ? run->env_from : "");
			p += 10;
		} else if (strncasecmp(p, "$subject$", 9) == 0) {
			header_value(run->msg, "subject", out);
			p += 9;
		} else if (strncasecmp(p, "$text$", 6) == 0) {
			body_text(run->msg, 0, out);
			p += 6;
		} else if (strncasecmp(p, "$text[", 6) == 0) {
			for (q = p + 6; *q >= '0' && *q <= '9' && num < 1000000; q++)
				num = num * 10 + (size_t) (*q - '0');
			if (q[0] == ']' && q[1] == '$') {
				body_text(run->msg, num, out);
				p = q + 2;
			} else {
				buf_putc(out, *p++);
			}
		} else {
			buf_putc(out, *p++);
		}
	}
}

/* recipients - :options as addr-specs, each once, NULL-ended */
static const char **
recipients(struct mfl_run *run, const struct site *site, struct value *args)
{
	const struct value *items = NULL;
	struct value *tag;
	const char **list;
	size_t n = 0, count = 0;

	if (intr_tag_present(site, OLD_OPTIONS, args, &tag) && tag != NULL)
		run_strlist(run, site, tag, &n, &items);
	if ((list = arena_alloc(run->arena, (n + 1) * sizeof(*list))) == NULL) {
		run_error(run, site, "memory limit reached");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct buf spec = BUF_INIT;
		int dup = 0;

		if (intr_one_address(run->arena, items[i].u.s.ptr, items[i].u.s.len, &spec) != 1) {
			buf_free(&spec);
			run_error(run, site, "notify: :options \"%.*s\" is not one address",
				  (int) (items[i].u.s.len > 80 ? 80 : items[i].u.s.len),
				  items[i].u.s.ptr);
			return NULL;
		}
		for (size_t k = 0; k < count && spec.data; k++)
			dup |= strcasecmp(list[k], spec.data) == 0;
		if (!dup && (list[count++] = arena_memdup(run->arena, spec.data ? spec.data : "",
							   spec.len)) == NULL) {
			buf_free(&spec);
			run_error(run, site, "memory limit reached");
			return NULL;
		}
		buf_free(&spec);
	}
	list[count] = NULL;
	return list;
}

/* notify (deprecated) */
static int
notify_old_run(struct mfl_run *run, const struct site *site, struct value *args,
	       struct value *ret)
{
	struct notify *nt = arena_zalloc(run->arena, sizeof(*nt));
	struct action act = { .kind = ACT_NOTIFY, .target = "mailto", .target_len = 6 };
	const char *method = intr_tag_cstr(run, site, args, OLD_METHOD);
	struct buf text;

	(void) ret;
	if (nt == NULL)
		return run_error(run, site, "memory limit reached");
	if (method != NULL && strcasecmp(method, "mailto") != 0)
		return run_error(run, site, "notify: the deprecated notify only knows the mailto method");
	nt->legacy = 1;
	nt->importance = importance(site);
	nt->id = intr_tag_cstr(run, site, args, OLD_ID);
	if ((nt->recipients = recipients(run, site, args)) == NULL)
		return -1;
	run_buf_init(run, &text);
	message_text(run, intr_tag_cstr(run, site, args, OLD_MESSAGE), &text);
	if (text.failed || (nt->message = arena_memdup(run->arena, text.data ? text.data : "",
							 text.len)) == NULL) {
		buf_free(&text);
		return run_error(run, site, "memory limit reached");
	}
	buf_free(&text);
	act.notify = nt;
	return intr_add_action(run, site, &act);
}

const struct intrinsic intr_notify_old = {
	.name = "notify",
	.kind = INTR_COMMAND,
	.capability = "notify",
	.args = "",
	.tags = notify_tags,
	.check = notify_old_check,
	.run = notify_old_run,
};

/* denotify: denotify [MATCH-TYPE string] [:low / :normal / :high] -
 * the legacy notify actions so far of that importance (high when none
 * is given, as Pigeonhole) whose :id matches the key (with no match
 * type: all of them) leave the result */
static int
denotify_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	static const int types[] = { OLD_IS, OLD_CONTAINS, OLD_MATCHES };
	static const int matches[] = { MATCH_IS, MATCH_CONTAINS, MATCH_MATCHES };
	struct action_list *l = &run->actions;
	struct value *key = NULL;
	int want = importance(site), match = -1;
	size_t kept = 0;

	(void) ret;
	for (size_t i = 0; i < 3; i++)
		if (intr_tag_present(site, types[i], args, &key))
			match = matches[i];
	for (size_t i = 0; i < l->n; i++) {
		const struct action *a = &l->v[i];
		int drop = 0;

		if (a->kind == ACT_NOTIFY && a->notify->legacy && a->notify->importance == want) {
			const char *id = a->notify->id ? a->notify->id : "";
			int m = match < 0 || key == NULL ? 1
			    : match_value(match, CMP_OCTET, 0, id, strlen(id), key->u.s.ptr,
					  key->u.s.len, &run->budget, NULL);

			if (m < 0)
				return run_error(run, site, "instruction limit reached");
			drop = m > 0;
		}
		if (!drop)
			l->v[kept++] = *a;
	}
	l->n = kept;
	return 0;
}

const struct intrinsic intr_denotify = {
	.name = "denotify",
	.kind = INTR_COMMAND,
	.capability = "notify",
	.args = "",
	.tags = denotify_tags,
	.run = denotify_run,
};
