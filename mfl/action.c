/*
 * action - the action list of one run (RFC 5228 2.10)
 *
 * Actions are collected while the script runs and carried out by the
 * host after it ends. Adding keeps RFC 5228's rules: a second fileinto
 * into the same mailbox, a keep beside fileinto "INBOX", or a second
 * redirect to the same address collapse into one (4.1-4.3, 2.10.3);
 * every action but those with :copy cancels the implicit keep, and so
 * does discard. action_finish() adds the implicit keep when nothing
 * cancelled it.
 *
 * The list prints as JSON lines, one action a line, the format mfl(7)
 * documents and mvmda -n prints.
 *
 * DIAGNOSTICS: -1 when the arena is full.
 */
#include "config.h"

#include <string.h>

#include "action.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/str.h"

/* action_list_init - empty list, implicit keep pending */
void
action_list_init(struct action_list *list)
{
	memset(list, 0, sizeof(*list));
}

/* mailbox_eq - same mailbox: INBOX is case-insensitive (RFC 3501 5.1) */
static int
mailbox_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen == 5 && blen == 5 && mem_ieq(a, "INBOX", 5) && mem_ieq(b, "INBOX", 5))
		return 1;
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* target_of - keep stores into INBOX: the mailbox an action writes to */
static void
target_of(const struct action *act, const char **t, size_t *len)
{
	if (act->kind == ACT_KEEP) {
		*t = "INBOX";
		*len = 5;
	} else {
		*t = act->target;
		*len = act->target_len;
	}
}

/* duplicate - an earlier action that makes ACT redundant, or NULL */
static struct action *
duplicate(struct action_list *list, const struct action *act)
{
	const char *t1, *t2;
	size_t l1, l2;

	for (size_t i = 0; i < list->n; i++) {
		struct action *old = &list->v[i];
		int store_old = old->kind == ACT_KEEP || old->kind == ACT_FILEINTO;
		int store_new = act->kind == ACT_KEEP || act->kind == ACT_FILEINTO;

		if (store_old && store_new) {
			target_of(old, &t1, &l1);
			target_of(act, &t2, &l2);
			if (mailbox_eq(t1, l1, t2, l2))
				return old;
		} else if (old->kind == ACT_REDIRECT && act->kind == ACT_REDIRECT
			   && old->target_len == act->target_len
			   && mem_ieq(old->target, act->target, act->target_len)) {
			return old;
		}
	}
	return NULL;
}

/* action_append - put ACT at the end of the list */
static int
action_append(struct arena *arena, struct action_list *list,
	      const struct action *act)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 8;
		struct action *v = arena_alloc(arena, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		if (list->n)
			memcpy(v, list->v, list->n * sizeof(*v));
		list->v = v;
		list->cap = cap;
	}
	list->v[list->n++] = *act;
	return 0;
}

/* action_add - add ACT, or merge it with the one it duplicates */
int
action_add(struct arena *arena, struct action_list *list,
	   const struct action *act)
{
	struct action *old;

	if (act->kind == ACT_VACATION) {	/* keeps the implicit keep */
		list->vacations++;
		return action_append(arena, list, act);
	}
	/* RFC 5435 3.8: keeps the implicit keep; the same notification
	 * twice is sent once (Pigeonhole: the same method URI) */
	if (act->kind == ACT_NOTIFY) {
		for (size_t i = 0; i < list->n && !act->notify->legacy; i++)
			if (list->v[i].kind == ACT_NOTIFY && list->v[i].target_len == act->target_len
			    && memcmp(list->v[i].target, act->target, act->target_len) == 0)
				return 0;
		return action_append(arena, list, act);
	}
	if (act->kind == ACT_DISCARD) {
		if (list->discarded)
			return 0;
		list->discarded = 1;	/* listed once, so the host sees it */
		return action_append(arena, list, act);
	}
	if (!act->copy)
		list->cancel_implicit = 1;
	if (act->kind == ACT_REDIRECT)
		list->redirects++;
	if (act->kind == ACT_REJECT) {
		list->rejected = 1;
		return action_append(arena, list, act);
	}
	if ((old = duplicate(list, act)) != NULL) {
		/* without :copy the duplicate still cancels implicit keep,
		 * and a later plain action makes the earlier one plain */
		if (!act->copy)
			old->copy = 0;
		if (act->kind == ACT_KEEP && old->kind == ACT_FILEINTO)
			old->kind = ACT_KEEP, old->target = NULL, old->target_len = 0;
		/* RFC 5232 5: of stores merged into one, the last one's
		 * flags win */
		if (old->kind == ACT_KEEP || old->kind == ACT_FILEINTO)
			old->flags = act->flags;
		return 0;
	}
	return action_append(arena, list, act);
}

/* action_finish - add the implicit keep unless something cancelled it */
int
action_finish(struct arena *arena, struct action_list *list)
{
	struct action keep = { .kind = ACT_KEEP, .implicit = 1,
			       .flags = list->implicit_flags };

	if (list->cancel_implicit || list->discarded)
		return 0;
	/* fileinto :copy "INBOX" already stores where keep would */
	if (duplicate(list, &keep) != NULL)
		return 0;
	return action_append(arena, list, &keep);
}

/* json_string - append S as a JSON string; bytes that are not UTF-8 as \u00XX */
void
json_string(struct buf *out, const char *s, size_t len)
{
	buf_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\') {
			buf_putc(out, '\\');
			buf_putc(out, c);
		} else if (c == '\n') {
			buf_puts(out, "\\n");
		} else if (c == '\r') {
			buf_puts(out, "\\r");
		} else if (c == '\t') {
			buf_puts(out, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(out, "\\u%04x", c);
		} else {
			buf_putc(out, c);
		}
	}
	buf_putc(out, '"');
}

/* json_cstr - S as a JSON string, or null */
static void
json_cstr(struct buf *out, const char *s)
{
	if (s == NULL)
		buf_puts(out, "null");
	else
		json_string(out, s, strlen(s));
}

/* vacation_json - the fields of a vacation action */
static void
vacation_json(const struct action *act, struct buf *out)
{
	const struct vacation *v = act->vacation;

	buf_printf(out, "{\"action\":\"vacation\",\"seconds\":%lld,\"subject\":",
		   (long long) v->seconds);
	json_cstr(out, v->subject);
	buf_puts(out, ",\"from\":");
	json_cstr(out, v->from);
	buf_puts(out, ",\"handle\":");
	json_cstr(out, v->handle);
	buf_printf(out, ",\"mime\":%s,\"addresses\":[", v->mime ? "true" : "false");
	for (size_t i = 0; v->addresses != NULL && v->addresses[i] != NULL; i++) {
		if (i > 0)
			buf_putc(out, ',');
		json_cstr(out, v->addresses[i]);
	}
	buf_puts(out, "],\"reason\":");
	json_string(out, act->target, act->target_len);
	if (v->fcc != NULL) {
		buf_puts(out, ",\"fcc\":");
		json_cstr(out, v->fcc);
	}
}

/* copy_list - a NULL-ended string list into ARENA */
static const char **
copy_list(struct arena *arena, const char *const *list)
{
	size_t n = 0;
	const char **out;

	while (list[n] != NULL)
		n++;
	if ((out = arena_alloc(arena, (n + 1) * sizeof(*out))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((out[i] = arena_memdup(arena, list[i], strlen(list[i]))) == NULL)
			return NULL;
	out[n] = NULL;
	return out;
}

/* action_copy - FROM with every string it points to copied into ARENA
 * (a host keeping actions after the run's memory is gone); -1 if full */
int
action_copy(struct arena *arena, const struct action *from, struct action *to)
{
	*to = *from;
	if (from->target != NULL
	    && (to->target = arena_memdup(arena, from->target, from->target_len)) == NULL)
		return -1;
	if (from->file != NULL && (to->file = arena_memdup(arena, from->file, strlen(from->file))) == NULL)
		return -1;
	if (from->flags != NULL && (to->flags = copy_list(arena, from->flags)) == NULL)
		return -1;
	if (from->args != NULL && (to->args = copy_list(arena, from->args)) == NULL)
		return -1;
	if (from->specialuse != NULL
	    && (to->specialuse = arena_memdup(arena, from->specialuse, strlen(from->specialuse))) == NULL)
		return -1;
	if (from->vacation != NULL) {
		const struct vacation *v = from->vacation;
		struct vacation *c = arena_alloc(arena, sizeof(*c));

		if (c == NULL)
			return -1;
		*c = *v;
		if ((v->subject && (c->subject = arena_memdup(arena, v->subject, strlen(v->subject))) == NULL)
		    || (v->from && (c->from = arena_memdup(arena, v->from, strlen(v->from))) == NULL)
		    || (v->handle && (c->handle = arena_memdup(arena, v->handle, strlen(v->handle))) == NULL)
		    || (v->subject_template && (c->subject_template = arena_memdup(arena, v->subject_template,
										 strlen(v->subject_template))) == NULL)
		    || (v->default_subject && (c->default_subject = arena_memdup(arena, v->default_subject,
										strlen(v->default_subject))) == NULL)
		    || (v->addresses && (c->addresses = copy_list(arena, v->addresses)) == NULL)
		    || (v->fcc && (c->fcc = arena_memdup(arena, v->fcc, strlen(v->fcc))) == NULL)
		    || (v->fcc_flags && (c->fcc_flags = copy_list(arena, v->fcc_flags)) == NULL)
		    || (v->fcc_specialuse && (c->fcc_specialuse = arena_memdup(arena, v->fcc_specialuse,
									     strlen(v->fcc_specialuse))) == NULL))
			return -1;
		to->vacation = c;
	}
	if (from->report != NULL) {
		struct report *c = arena_alloc(arena, sizeof(*c));

		if (c == NULL)
			return -1;
		*c = *from->report;
		if ((c->feedback_type = arena_memdup(arena, c->feedback_type, strlen(c->feedback_type))) == NULL
		    || (c->message = arena_memdup(arena, c->message, strlen(c->message))) == NULL)
			return -1;
		to->report = c;
	}
	if (from->notify != NULL) {
		const struct notify *nt = from->notify;
		struct notify *c = arena_alloc(arena, sizeof(*c));

		if (c == NULL)
			return -1;
		*c = *nt;
		if ((nt->from && (c->from = arena_memdup(arena, nt->from, strlen(nt->from))) == NULL)
		    || (nt->message && (c->message = arena_memdup(arena, nt->message, strlen(nt->message))) == NULL)
		    || (nt->options && (c->options = copy_list(arena, nt->options)) == NULL)
		    || (nt->fcc && (c->fcc = arena_memdup(arena, nt->fcc, strlen(nt->fcc))) == NULL)
		    || (nt->fcc_flags && (c->fcc_flags = copy_list(arena, nt->fcc_flags)) == NULL)
		    || (nt->fcc_specialuse && (c->fcc_specialuse = arena_memdup(arena, nt->fcc_specialuse,
									      strlen(nt->fcc_specialuse))) == NULL)
		    || (nt->id && (c->id = arena_memdup(arena, nt->id, strlen(nt->id))) == NULL)
		    || (nt->recipients && (c->recipients = copy_list(arena, nt->recipients)) == NULL))
			return -1;
		to->notify = c;
	}
	return 0;
}

/* action_json - one action as a JSON object, no line end */
void
action_json(const struct action *act, struct buf *out)
{
	switch (act->kind) {
	case ACT_KEEP:
		buf_printf(out, "{\"action\":\"keep\",\"implicit\":%s",
			   act->implicit ? "true" : "false");
		break;
	case ACT_FILEINTO:
		buf_puts(out, "{\"action\":\"fileinto\",\"mailbox\":");
		json_string(out, act->target, act->target_len);
		buf_printf(out, ",\"copy\":%s", act->copy ? "true" : "false");
		if (act->create)
			buf_puts(out, ",\"create\":true");
		if (act->specialuse != NULL) {
			buf_puts(out, ",\"specialuse\":");
			json_string(out, act->specialuse, strlen(act->specialuse));
		}
		break;
	case ACT_REDIRECT:
		buf_puts(out, "{\"action\":\"redirect\",\"address\":");
		json_string(out, act->target, act->target_len);
		buf_printf(out, ",\"copy\":%s", act->copy ? "true" : "false");
		break;
	case ACT_DISCARD:
		buf_puts(out, "{\"action\":\"discard\"");
		break;
	case ACT_VACATION:
		vacation_json(act, out);
		break;
	case ACT_NOTIFY:
		buf_puts(out, "{\"action\":\"notify\",\"method\":");
		json_string(out, act->target, act->target_len);
		buf_printf(out, ",\"importance\":%d", act->notify->importance);
		if (act->notify->from != NULL) {
			buf_puts(out, ",\"from\":");
			json_string(out, act->notify->from, strlen(act->notify->from));
		}
		if (act->notify->message != NULL) {
			buf_puts(out, ",\"message\":");
			json_string(out, act->notify->message, strlen(act->notify->message));
		}
		buf_puts(out, ",\"options\":[");
		for (size_t i = 0; act->notify->options && act->notify->options[i]; i++) {
			if (i > 0)
				buf_putc(out, ',');
			json_string(out, act->notify->options[i], strlen(act->notify->options[i]));
		}
		buf_putc(out, ']');
		if (act->notify->fcc != NULL) {
			buf_puts(out, ",\"fcc\":");
			json_string(out, act->notify->fcc, strlen(act->notify->fcc));
		}
		if (act->notify->legacy) {
			buf_puts(out, ",\"deprecated\":true,\"recipients\":[");
			for (size_t i = 0; act->notify->recipients[i]; i++) {
				if (i > 0)
					buf_putc(out, ',');
				json_string(out, act->notify->recipients[i],
					    strlen(act->notify->recipients[i]));
			}
			buf_putc(out, ']');
			if (act->notify->id != NULL) {
				buf_puts(out, ",\"id\":");
				json_string(out, act->notify->id, strlen(act->notify->id));
			}
		}
		break;
	case ACT_PIPE:
		buf_puts(out, "{\"action\":\"pipe\",\"program\":");
		json_string(out, act->target, act->target_len);
		buf_puts(out, ",\"args\":[");
		for (size_t i = 0; act->args != NULL && act->args[i] != NULL; i++) {
			if (i > 0)
				buf_putc(out, ',');
			json_string(out, act->args[i], strlen(act->args[i]));
		}
		buf_printf(out, "],\"copy\":%s,\"try\":%s", act->copy ? "true" : "false",
			   act->pipe_try ? "true" : "false");
		break;
	case ACT_REPORT:
		buf_puts(out, "{\"action\":\"report\",\"address\":");
		json_string(out, act->target, act->target_len);
		buf_puts(out, ",\"feedback_type\":");
		json_string(out, act->report->feedback_type, strlen(act->report->feedback_type));
		buf_puts(out, ",\"message\":");
		json_string(out, act->report->message, strlen(act->report->message));
		buf_printf(out, ",\"headers_only\":%s", act->report->headers_only ? "true" : "false");
		break;
	case ACT_REJECT:
		buf_printf(out, "{\"action\":\"%s\",\"reason\":",
			   act->extended ? "ereject" : "reject");
		json_string(out, act->target, act->target_len);
		if (act->code != NULL)
			buf_printf(out, ",\"code\":\"%s\"", act->code);
		if (act->xcode != NULL)
			buf_printf(out, ",\"xcode\":\"%s\"", act->xcode);
		break;
	}
	if (act->kind == ACT_KEEP || act->kind == ACT_FILEINTO) {
		buf_puts(out, ",\"flags\":[");
		for (size_t i = 0; act->flags != NULL && act->flags[i] != NULL; i++) {
			if (i > 0)
				buf_putc(out, ',');
			json_string(out, act->flags[i], strlen(act->flags[i]));
		}
		buf_putc(out, ']');
	}
	buf_putc(out, '}');
}
