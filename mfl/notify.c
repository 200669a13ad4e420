/*
 * notify - the enotify extension's mailto method (RFC 5435, RFC 5436)
 * for every host that carries a notification out (mvmda, mflc -T): the
 * mailto: URI read (RFC 6068), whether a message may cause a
 * notification at all, and the notification's text. Sending it is the
 * host's.
 *
 * The URI's recipients are its to-part and its to= and cc= fields; its
 * subject= and body= are the notification's; fields that would forge
 * the notification's origin or threading (RFC 5436 2.2: From, Sender,
 * Auto-Submitted, Received, Message-ID, In-Reply-To, References, Bcc,
 * the Resent- fields) are left out, as Pigeonhole leaves them out.
 *
 * DIAGNOSTICS: mailto_parse() gives -1 and the reason for a URI that is
 * not a mailto: URI or names an address that is not one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "intr/intr.h"
#include "mflapi.h"
#include "msg/arena.h"
#include "msg/msg.h"
#include "notify.h"

static const char *const reserved[] = {
	"auto-submitted", "received", "message-id", "date", "bcc", "in-reply-to",
	"references", "resent-date", "resent-from", "resent-sender", "resent-to",
	"resent-cc", "resent-bcc", "resent-msg-id", "from", "sender", NULL
};

/* hexval - a hex digit's value, or -1 */
static int
hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	    : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* pct_decode - LEN bytes of S with %XX decoded, in ARENA; NULL when a
 * % is not followed by two hex digits */
static char *
pct_decode(struct arena *arena, const char *s, size_t len)
{
	char *out = arena_alloc(arena, len + 1);
	size_t n = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return NULL;
			out[n++] = (char) (hi << 4 | lo);
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = 0;
	return out;
}

/* name_keep - SPEC came with a display name: remember how the URI wrote
 * it (its RFC 2047 words left as they are) for the To: and Cc: fields */
static int
name_keep(struct arena *arena, struct mailto *m, const char *spec, const struct addr *a)
{
	const char *raw = a->raw;
	size_t len = a->raw_len;
	void *more;

	while (len > 0 && (*raw == ' ' || *raw == '\t' || *raw == ','))
		raw++, len--;
	while (len > 0 && (raw[len - 1] == ' ' || raw[len - 1] == '\t' || raw[len - 1] == ','))
		len--;
	if (len == 0 || memchr(raw, '\r', len) || memchr(raw, '\n', len))
		return 0;
	if ((more = arena_alloc(arena, (m->nnamed + 1) * sizeof(*m->named))) == NULL)
		return -1;
	if (m->nnamed > 0)
		memcpy(more, m->named, m->nnamed * sizeof(*m->named));
	m->named = more;
	m->named[m->nnamed].spec = spec;
	if ((m->named[m->nnamed].shown = arena_memdup(arena, raw, len)) == NULL)
		return -1;
	m->nnamed++;
	return 0;
}

/* add_addresses - the comma-separated addresses in TEXT onto *LIST
 * (without repeats), those with a display name also into M's named;
 * -1 and ERR when one is not an address */
static int
add_addresses(struct arena *arena, const char *text, const char ***list, size_t *n,
	      struct mailto *m, char *err, size_t errsize)
{
	struct addr *addrs;
	size_t count;
	struct buf spec = BUF_INIT;

	if (addr_parse_list(arena, text, strlen(text), &addrs, &count) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		const char **more;
		char *copy;
		int seen = 0;

		if ((addrs[i].flags & (ADDR_F_INVALID | ADDR_F_NULL)) || addrs[i].domain == NULL) {
			snprintf(err, errsize, "\"%.80s\" is not a mail address", text);
			buf_free(&spec);
			return -1;
		}
		buf_reset(&spec);
		addr_spec(&addrs[i], &spec);
		buf_cstr(&spec);
		for (size_t k = 0; k < *n; k++)
			seen |= strcasecmp((*list)[k], spec.data) == 0;
		if (seen)
			continue;
		if ((copy = arena_memdup(arena, spec.data, spec.len)) == NULL
		    || (more = arena_alloc(arena, (*n + 2) * sizeof(*more))) == NULL) {
			buf_free(&spec);
			return -1;
		}
		if (*n > 0)
			memcpy(more, *list, *n * sizeof(*more));
		more[(*n)++] = copy;
		more[*n] = NULL;
		*list = more;
		if (addrs[i].name != NULL && *addrs[i].name && name_keep(arena, m, copy, &addrs[i]) < 0) {
			buf_free(&spec);
			return -1;
		}
	}
	buf_free(&spec);
	return 0;
}

/* uri_chars_ok - every character of the URI is one RFC 6068 allows
 * unescaped: unreserved, some-delims, "%" escapes, and "?", "&", "=",
 * "/" between the fields */
static int
uri_chars_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) s[i];

		if (!ascii_isalpha(c) && !ascii_isdigit(c) && strchr("-._~%!$'()*+,;:@?&=/", c) == NULL)
			return 0;
	}
	return 1;
}

/* to_part_ok - the URI's own recipients (before "?") are addr-specs,
 * comma-separated (RFC 6068 2: no display names, nothing after them) */
static int
to_part_ok(struct arena *arena, const char *to)
{
	while (*to) {
		const char *comma = strchr(to, ',');
		size_t n = comma ? (size_t) (comma - to) : strlen(to);
		struct addr a;

		if (n == 0 || to[0] == '<' || addr_parse_path(arena, to, n, &a) < 0 || a.domain == NULL)
			return 0;
		to += n + (comma != NULL);
	}
	return 1;
}

/* mailto_parse - URI (LEN bytes) into M, in ARENA; 0, or -1 and ERR */
int
mailto_parse(struct arena *arena, const char *uri, size_t len, struct mailto *m,
	     char *err, size_t errsize)
{
	const char *q, *end = uri + len, *to_end;
	char *to;

	memset(m, 0, sizeof(*m));
	if (len < 7 || strncasecmp(uri, "mailto:", 7) != 0) {
		snprintf(err, errsize, "\"%.*s\" is not a mailto: URI", (int) (len > 80 ? 80 : len), uri);
		return -1;
	}
	uri += 7;
	if (!uri_chars_ok(uri, (size_t) (end - uri))) {
		snprintf(err, errsize, "\"%.*s\" holds a character a URI must escape",
			 (int) (end - uri > 80 ? 80 : end - uri), uri);
		return -1;
	}
	q = memchr(uri, '?', (size_t) (end - uri));
	to_end = q ? q : end;
	if ((to = pct_decode(arena, uri, (size_t) (to_end - uri))) == NULL) {
		snprintf(err, errsize, "bad %%-escape in \"%.*s\"",
			 (int) (to_end - uri > 80 ? 80 : to_end - uri), uri);
		return -1;
	}
	if (*to && !to_part_ok(arena, to)) {
		snprintf(err, errsize, "\"%.80s\" is not a list of mail addresses", to);
		return -1;
	}
	if (*to && add_addresses(arena, to, &m->to, &m->nto, m, err, errsize) < 0)
		return -1;
	for (const char *f = q ? q + 1 : end; f < end;) {
		const char *amp = memchr(f, '&', (size_t) (end - f)), *f_end = amp ? amp : end;
		const char *eq = memchr(f, '=', (size_t) (f_end - f));
		char *name, *value;

		if (eq == NULL || eq == f || (name = pct_decode(arena, f, (size_t) (eq - f))) == NULL
		    || (value = pct_decode(arena, eq + 1, (size_t) (f_end - eq - 1))) == NULL) {
			snprintf(err, errsize, "bad header field \"%.*s\" in the URI",
				 (int) (f_end - f > 60 ? 60 : f_end - f), f);
			return -1;
		}
		f = amp ? amp + 1 : end;
		if (strcasecmp(name, "to") == 0 || strcasecmp(name, "cc") == 0) {
			int cc = strcasecmp(name, "cc") == 0;

			if (add_addresses(arena, value, cc ? &m->cc : &m->to, cc ? &m->ncc : &m->nto,
					  m, err, errsize) < 0)
				return -1;
			continue;
		}
		if (strcasecmp(name, "subject") == 0 || strcasecmp(name, "body") == 0) {
			const char **slot = name[0] == 's' || name[0] == 'S' ? &m->subject : &m->body;

			if (*slot != NULL) {
				snprintf(err, errsize, "%s given twice in the URI", name);
				return -1;
			}
			*slot = value;
			continue;
		}
		for (size_t i = 0; name[i]; i++)
			if ((unsigned char) name[i] <= 32 || (unsigned char) name[i] >= 127 || name[i] == ':') {
				snprintf(err, errsize, "bad header field name \"%.60s\" in the URI", name);
				return -1;
			}
		{
			int skip = 0;

			for (size_t i = 0; reserved[i] != NULL; i++)
				skip |= strcasecmp(name, reserved[i]) == 0;
			if (!skip && m->nheaders < MAILTO_HEADERS_MAX) {
				m->headers[m->nheaders].name = name;
				m->headers[m->nheaders++].value = value;
			}
		}
	}
	/* a recipient in To is not repeated in Cc */
	for (size_t i = 0; i < m->ncc;) {
		int dup = 0;

		for (size_t k = 0; k < m->nto; k++)
			dup |= strcasecmp(m->cc[i], m->to[k]) == 0;
		if (dup) {
			memmove(&m->cc[i], &m->cc[i + 1], (m->ncc - i) * sizeof(*m->cc));
			m->ncc--;
		} else {
			i++;
		}
	}
	return 0;
}

/* mfl_notify_valid - METHOD is a notification URI mvmf can send to (a
 * mailto: URI, RFC 5436); 1, or 0 with the reason in ERR */
int
mfl_notify_valid(const char *method, size_t len, char *err, size_t errsize)
{
	struct arena *arena = arena_create(0);
	struct mailto m;
	int ok;

	if (arena == NULL) {
		snprintf(err, errsize, "out of memory");
		return 0;
	}
	ok = mailto_parse(arena, method, len, &m, err, errsize) == 0;
	arena_free(arena);
	return ok;
}

/* mfl_notify_sender - the envelope sender of notify action A's mail
 * (RFC 5436 2.3): empty when the message's is (no loops); else as
 * $mfl_notify_envelope_from (POLICY, Dovecot's
 * sieve_notify_mailto_envelope_from) says when it is set, else :from,
 * else postmaster at HOST; BUF holds what is made */
const char *
mfl_notify_sender(const struct action *a, const struct mfl_report_env *e, char *buf,
		  size_t size)
{
	struct arena *arena;
	struct buf spec = BUF_INIT;

	if (e->sender == NULL || !*e->sender)
		return "";
	if (e->policy != NULL && *e->policy) {
		const char *p = e->policy;

		while (*p == ' ')
			p++;
		if (strncasecmp(p, "postmaster", 10) != 0)
			return mfl_redirect_sender(p, e->user_email, e->sender, e->recipient,
						   e->orig_recipient, buf, size);
	} else if (a->notify->from != NULL && (arena = arena_create(0)) != NULL) {
		int one = intr_one_address(arena, a->notify->from, strlen(a->notify->from), &spec);

		arena_free(arena);
		if (one == 1 && !spec.failed && spec.len < size) {
			snprintf(buf, size, "%s", spec.data);
			buf_free(&spec);
			return buf;
		}
		buf_free(&spec);
	}
	snprintf(buf, size, "postmaster@%s", e->host ? e->host : "localhost");
	return buf;
}

/* mfl_notify_skip - why MSG may not cause a notification (RFC 5436
 * 2.7: an automatic message, lest notifications loop), or NULL */
const char *
mfl_notify_skip(struct msg *msg)
{
	struct hdr_index *idx = msg_headers(msg);
	struct hdr_field *f;
	size_t i = 0, len;

	if (idx == NULL || (f = hdr_find(idx, "auto-submitted", 14, 0)) == NULL
	    || hdr_unfolded(idx, f) < 0)
		return NULL;
	len = f->unfolded_len;
	while (i < len && (f->unfolded[i] == ' ' || f->unfolded[i] == '\t'))
		i++;
	while (len > i && (f->unfolded[len - 1] == ' ' || f->unfolded[len - 1] == '\t'))
		len--;
	return len - i == 2 && strncasecmp(f->unfolded + i, "no", 2) == 0 ? NULL
	    : "the message is Auto-Submitted";
}

/* drop_notified - take out of *LIST the recipients the notify actions
 * before INDEX in ACTIONS already reach (RFC 5435 3.9: no one is
 * notified twice for one message) */
static void
drop_notified(struct arena *arena, const struct action_list *actions, size_t index,
	      const char **list, size_t *n)
{
	for (size_t a = 0; a < index; a++) {
		struct mailto earlier;
		char err[200];

		if (actions->v[a].kind != ACT_NOTIFY || actions->v[a].notify->legacy
		    || mailto_parse(arena, actions->v[a].target, actions->v[a].target_len, &earlier,
				    err, sizeof(err)) < 0)
			continue;
		for (size_t i = 0; i < *n;) {
			int dup = 0;

			for (size_t k = 0; k < earlier.nto; k++)
				dup |= strcasecmp(list[i], earlier.to[k]) == 0;
			for (size_t k = 0; k < earlier.ncc; k++)
				dup |= strcasecmp(list[i], earlier.cc[k]) == 0;
			if (dup) {
				memmove(&list[i], &list[i + 1], (*n - i) * sizeof(*list));
				(*n)--;
			} else {
				i++;
			}
		}
	}
}

/* join - the addresses of LIST as one field NAME onto OUT, each with
 * the display name M's URI gave it (M may be NULL) */
static void
join(struct buf *out, const char *name, const char **list, size_t n, const struct mailto *m)
{
	if (n == 0)
		return;
	buf_printf(out, "%s: ", name);
	for (size_t i = 0; i < n; i++) {
		const char *shown = NULL;

		for (size_t k = 0; m != NULL && k < m->nnamed && shown == NULL; k++)
			if (strcasecmp(m->named[k].spec, list[i]) == 0)
				shown = m->named[k].shown;
		if (shown != NULL)
			buf_printf(out, "%s%s", i ? ", " : "", shown);
		else
			buf_printf(out, "%s<%s>", i ? ", " : "", list[i]);
	}
	buf_putc(out, '\n');
}

/* earlier_reaches - a legacy notify action before INDEX already sends
 * to ADDR (Pigeonhole drops such a recipient from the later one) */
static int
earlier_reaches(const struct action_list *actions, size_t index, const char *addr)
{
	for (size_t a = 0; a < index; a++) {
		const struct action *e = &actions->v[a];

		for (size_t k = 0; e->kind == ACT_NOTIFY && e->notify->legacy
		     && e->notify->recipients[k] != NULL; k++)
			if (strcasecmp(e->notify->recipients[k], addr) == 0)
				return 1;
	}
	return 0;
}

/* compose_legacy - the deprecated notify's mail, as Pigeonhole writes
 * it: its :message as the body, to its :options recipients that no
 * earlier notify reached; as mfl_notify_compose */
static int
compose_legacy(const char *owner, const struct action_list *actions, size_t index,
	       struct buf *out, char ***rcpts_r)
{
	const struct notify *nt = actions->v[index].notify;
	char host[256] = "localhost", date[64], **rcpts;
	size_t total = 0, n = 0;
	time_t now = time(NULL);
	int eight_bit = 0;
	struct tm tm;

	while (nt->recipients[total] != NULL)
		total++;
	if ((rcpts = calloc(total + 1, sizeof(*rcpts))) == NULL)
		return -1;
	for (size_t i = 0; i < total; i++)
		if (!earlier_reaches(actions, index, nt->recipients[i])
		    && (rcpts[n++] = strdup(nt->recipients[i])) == NULL) {
			for (size_t k = 0; k < n; k++)
				free(rcpts[k]);
			free(rcpts);
			return -1;
		}
	for (const char *c = nt->message; c && *c; c++)
		eight_bit |= (unsigned char) *c >= 0x80;
	gethostname(host, sizeof(host) - 1);
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(out, "X-Sieve: mvmf %s\nDate: %s\n", PACKAGE_VERSION, date);
	buf_puts(out, nt->importance == 1 ? "X-Priority: 1 (Highest)\nImportance: High\n"
		 : nt->importance == 3 ? "X-Priority: 5 (Lowest)\nImportance: Low\n"
		 : "X-Priority: 3 (Normal)\nImportance: Normal\n");
	buf_printf(out, "From: %s\n", owner);
	join(out, "To", (const char **) rcpts, n, NULL);
	buf_puts(out, "Subject: [SIEVE] New mail notification\n"
		 "Auto-Submitted: auto-generated (notify)\nPrecedence: bulk\n");
	buf_printf(out, "Message-ID: <%lld.%ld.notify@%s>\nMIME-Version: 1.0\n"
		   "Content-Type: text/plain; charset=%s\nContent-Transfer-Encoding: %s\n\n",
		   (long long) now, (long) getpid(), host, eight_bit ? "utf-8" : "us-ascii",
		   eight_bit ? "8bit" : "7bit");
	buf_puts(out, nt->message ? nt->message : "");
	buf_putc(out, '\n');
	*rcpts_r = rcpts;
	return out->failed ? -1 : 0;
}

/* mfl_notify_compose - the notification the notify action INDEX of
 * ACTIONS sends about MSG for OWNER (the recipient whose script asked
 * for it) into OUT, its recipients (NULL-ended, malloc'd, free with
 * free(); none when earlier notify actions reach them all) in *RCPTS_R;
 * 0, or -1 (a URI that is no longer valid, memory) */
int
mfl_notify_compose(struct msg *msg, const char *owner, const struct action_list *actions,
		   size_t index, struct buf *out, char ***rcpts_r)
{
	const struct action *a = &actions->v[index];
	struct arena *arena = arena_create(0);
	struct hdr_index *idx = msg_headers(msg);
	struct hdr_field *f;
	struct mailto m;
	char err[200], host[256] = "localhost", date[64], **rcpts;
	const char *subject;
	time_t now = time(NULL);
	struct tm tm;
	size_t n = 0;

	*rcpts_r = NULL;
	if (a->notify->legacy) {
		if (arena != NULL)
			arena_free(arena);
		return compose_legacy(owner, actions, index, out, rcpts_r);
	}
	if (arena == NULL || mailto_parse(arena, a->target, a->target_len, &m, err, sizeof(err)) < 0
	    || (drop_notified(arena, actions, index, m.to, &m.nto),
		drop_notified(arena, actions, index, m.cc, &m.ncc),
		(rcpts = calloc(m.nto + m.ncc + 1, sizeof(*rcpts))) == NULL)) {
		if (arena != NULL)
			arena_free(arena);
		return -1;
	}
	for (size_t i = 0; i < m.nto; i++)
		rcpts[n++] = strdup(m.to[i]);
	for (size_t i = 0; i < m.ncc; i++)
		rcpts[n++] = strdup(m.cc[i]);
	gethostname(host, sizeof(host) - 1);
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(out, "X-Sieve: mvmf %s\n", PACKAGE_VERSION);
	buf_printf(out, "From: %s\n", a->notify->from ? a->notify->from : owner);
	join(out, "To", m.to, m.nto, &m);
	join(out, "Cc", m.cc, m.ncc, &m);
	if (a->notify->message != NULL)
		subject = a->notify->message;
	else
		subject = m.subject;
	buf_puts(out, "Subject: ");
	if (subject != NULL) {
		buf_puts(out, subject);
	} else {
		buf_puts(out, "Notification: ");
		if (idx != NULL && (f = hdr_find(idx, "subject", 7, 0)) != NULL && hdr_unfolded(idx, f) == 0)
			buf_append(out, f->unfolded, f->unfolded_len);
		else
			buf_puts(out, "(no subject)");
	}
	buf_putc(out, '\n');
	for (size_t i = 0; i < m.nheaders; i++)
		buf_printf(out, "%s: %s\n", m.headers[i].name, m.headers[i].value);
	/* RFC 5435 3.4's importance, as mail clients show it */
	if (a->notify->importance == 1)
		buf_puts(out, "X-Priority: 1 (Highest)\nImportance: High\n");
	else if (a->notify->importance == 3)
		buf_puts(out, "X-Priority: 5 (Lowest)\nImportance: Low\n");
	else
		buf_puts(out, "X-Priority: 3 (Normal)\nImportance: Normal\n");
	buf_printf(out, "Auto-Submitted: auto-notified; owner-email=\"%s\"\n", owner);
	buf_printf(out, "Date: %s\nMessage-ID: <%lld.%ld.notify@%s>\n", date, (long long) now,
		   (long) getpid(), host);
	buf_puts(out, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
		 "Content-Transfer-Encoding: 8bit\n\n");
	buf_puts(out, m.body != NULL ? m.body : "Notification of new message.");
	buf_putc(out, '\n');
	arena_free(arena);
	for (size_t i = 0; i < n; i++)
		if (rcpts[i] == NULL) {
			for (size_t k = 0; k < n; k++)
				free(rcpts[k]);
			free(rcpts);
			return -1;
		}
	*rcpts_r = rcpts;
	return 0;
}
