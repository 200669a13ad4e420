/*
 * vacation - what RFC 5230 and RFC 6131 say about a vacation answer,
 * for every host that carries one out (mvmda, mflc -T): whether this
 * message deserves one, and its text. Sending it, and remembering whom
 * it went to, is the host's.
 *
 * No answer (RFC 5230 4.5, 4.6, 5): to the null sender; to senders that
 * are lists or daemons (owner-*, *-request, MAILER-DAEMON, LISTSERV,
 * majordomo); to mail with Auto-Submitted other than "no", Precedence
 * bulk/list/junk, or any List- field; to the user's own addresses; and
 * to mail whose To, Cc, Bcc and Resent- fields name none of them.
 *
 * The reply carries From (:from, else the recipient), To, Subject
 * (:subject, else "Auto: " and the original's), In-Reply-To and
 * References, Auto-Submitted: auto-replied, Date and Message-ID.
 *
 * DIAGNOSTICS: none; a field that cannot be read counts as absent.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "mflapi.h"
#include "msg/msg.h"

/* field - the first field NAME's unfolded value, or NULL */
static const char *
field(struct msg *msg, const char *name, size_t *len)
{
	struct hdr_index *idx = msg_headers(msg);
	struct hdr_field *f;

	if (idx == NULL || (f = hdr_find(idx, name, strlen(name), 0)) == NULL
	    || hdr_unfolded(idx, f) < 0)
		return NULL;
	*len = f->unfolded_len;
	return f->unfolded;
}

/* trimmed_is - VALUE, without white space around, is WORD (any case) */
static int
trimmed_is(const char *v, size_t len, const char *word)
{
	while (len > 0 && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	return len == strlen(word) && strncasecmp(v, word, len) == 0;
}

/* suppressed - Microsoft's X-Auto-Response-Suppress asks for no
 * out-of-office reply: a comma-separated list holding "All" or "OOF" */
static int
suppressed(const char *v, size_t len)
{
	while (len > 0) {
		const char *comma = memchr(v, ',', len);
		size_t n = comma ? (size_t) (comma - v) : len;

		if (trimmed_is(v, n, "all") || trimmed_is(v, n, "oof"))
			return 1;
		if (comma == NULL)
			break;
		len -= n + 1;
		v = comma + 1;
	}
	return 0;
}

/* automatic - the message is from a list, a daemon or a robot: why */
static const char *
automatic(struct msg *msg, const char *sender)
{
	static const char *const precedences[] = { "bulk", "list", "junk", NULL };
	struct hdr_index *idx = msg_headers(msg);
	const char *v, *at;
	size_t len, local;

	if ((v = field(msg, "auto-submitted", &len)) != NULL && !trimmed_is(v, len, "no"))
		return "Auto-Submitted";
	if ((v = field(msg, "x-auto-response-suppress", &len)) != NULL && suppressed(v, len))
		return "X-Auto-Response-Suppress";
	if ((v = field(msg, "precedence", &len)) != NULL)
		for (size_t i = 0; precedences[i] != NULL; i++)
			if (trimmed_is(v, len, precedences[i]))
				return "Precedence";
	for (size_t i = 0; idx != NULL && i < idx->count; i++)
		if (idx->fields[i].name_len > 5 && strncasecmp(idx->fields[i].name, "list-", 5) == 0)
			return "a mailing list field";
	at = strchr(sender, '@');
	local = at ? (size_t) (at - sender) : strlen(sender);
	if ((local >= 6 && strncasecmp(sender, "owner-", 6) == 0)
	    || (local >= 8 && strncasecmp(sender + local - 8, "-request", 8) == 0)
	    || (local == 13 && strncasecmp(sender, "mailer-daemon", 13) == 0)
	    || (local == 8 && strncasecmp(sender, "listserv", 8) == 0)
	    || (local == 9 && strncasecmp(sender, "majordomo", 9) == 0))
		return "a list or daemon sender";
	return NULL;
}

/* mine - ADDR is the recipient or one of :addresses */
static int
mine(const char *recipient, const struct vacation *v, const char *addr, size_t len)
{
	if (len == strlen(recipient) && strncasecmp(addr, recipient, len) == 0)
		return 1;
	for (size_t i = 0; v->addresses != NULL && v->addresses[i] != NULL; i++)
		if (len == strlen(v->addresses[i]) && strncasecmp(addr, v->addresses[i], len) == 0)
			return 1;
	return 0;
}

/* addressed - a To, Cc, Bcc or Resent- field names the user (that
 * address onto AS, when AS is not NULL) */
static int
addressed(struct msg *msg, const char *recipient, const struct vacation *v, struct buf *as)
{
	static const char *const fields[] = {
		"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc", NULL
	};
	struct hdr_index *idx = msg_headers(msg);
	struct buf spec = BUF_INIT;
	int found = 0;

	for (size_t i = 0; idx != NULL && fields[i] != NULL && !found; i++) {
		struct hdr_field *f;

		for (size_t n = 0; !found && (f = hdr_find(idx, fields[i], strlen(fields[i]), n)) != NULL; n++) {
			struct addr *list;
			size_t count;

			if (hdr_unfolded(idx, f) < 0
			    || addr_parse_list(msg_arena(msg), f->unfolded, f->unfolded_len,
					       &list, &count) < 0)
				continue;
			for (size_t k = 0; k < count && !found; k++) {
				if (list[k].flags & (ADDR_F_INVALID | ADDR_F_NULL))
					continue;
				buf_reset(&spec);
				addr_spec(&list[k], &spec);
				found = mine(recipient, v, spec.data ? spec.data : "", spec.len);
			}
		}
	}
	if (found && as != NULL)
		buf_append(as, spec.data, spec.len);
	buf_free(&spec);
	return found;
}

/* reply_to - the To: of the reply: the envelope sender, with the display
 * name the message gives that address (in From, Sender or Reply-To, as
 * Pigeonhole writes it), else in angle brackets */
static void
reply_to(struct msg *msg, const char *sender, struct buf *out)
{
	static const char *const fields[] = { "from", "sender", "reply-to" };
	struct hdr_index *idx = msg_headers(msg);
	struct buf spec = BUF_INIT;

	for (size_t i = 0; idx != NULL && i < sizeof(fields) / sizeof(fields[0]); i++) {
		struct hdr_field *f = hdr_find(idx, fields[i], strlen(fields[i]), 0);
		struct addr *list;
		size_t count;

		if (f == NULL || hdr_unfolded(idx, f) < 0
		    || addr_parse_list(msg_arena(msg), f->unfolded, f->unfolded_len, &list, &count) < 0)
			continue;
		for (size_t k = 0; k < count; k++) {
			int ascii = 1;

			if (list[k].flags & (ADDR_F_INVALID | ADDR_F_NULL) || list[k].name == NULL)
				continue;
			buf_reset(&spec);
			addr_spec(&list[k], &spec);
			if (spec.data == NULL || strcasecmp(spec.data, sender) != 0)
				continue;
			for (const char *c = list[k].name; *c; c++)
				ascii &= (unsigned char) *c >= 0x20 && (unsigned char) *c < 0x7f && *c != '"'
				    && *c != '\\';
			if (ascii && *list[k].name) {
				buf_printf(out, "To: \"%s\" <%s>\n", list[k].name, sender);
				buf_free(&spec);
				return;
			}
		}
	}
	buf_free(&spec);
	buf_printf(out, "To: <%s>\n", sender);
}

/* default_subject - without :subject: the template (Dovecot's
 * sieve_vacation_default_subject_template; "%$" and "%{subject}" are the
 * message's subject, decoded), or the default subject when it has none;
 * at most max_subject characters, "…" marking a cut */
static void
default_subject(struct msg *msg, const struct vacation *v, struct buf *out)
{
	struct hdr_index *idx = msg_headers(msg);
	struct hdr_field *f = idx ? hdr_find(idx, "subject", 7, 0) : NULL;
	const char *t = v->subject_template && *v->subject_template ? v->subject_template : "Auto: %$";
	const char *orig = "";
	size_t olen = 0, chars = 0, cut = 0;

	if (f != NULL && hdr_decoded(idx, f) == 0) {
		orig = f->decoded;
		olen = f->decoded_len;
		while (olen > 0 && (*orig == ' ' || *orig == '\t'))
			orig++, olen--;
	}
	if (olen == 0 && v->default_subject != NULL && *v->default_subject) {
		buf_puts(out, v->default_subject);
	} else {
		while (*t) {
			size_t var = t[0] == '%' && t[1] == '$' ? 2
			    : strncmp(t, "%{subject}", 10) == 0 ? 10 : 0;

			if (var > 0) {
				buf_append(out, orig, olen);
				t += var;
			} else {
				buf_putc(out, *t++);
			}
		}
	}
	/* RFC 5230 4.5 leaves the length open; keep it readable */
	for (size_t i = 0; v->max_subject > 0 && i < out->len; i++)
		if (((unsigned char) out->data[i] & 0xc0) != 0x80 && ++chars > (size_t) v->max_subject) {
			cut = i;
			break;
		}
	if (cut > 0) {
		out->len = cut;
		buf_puts(out, "\xe2\x80\xa6");	/* U+2026 */
	}
}

/* mfl_vacation_reply - the answer to MSG from SENDER for RECIPIENT that
 * vacation action A gives, into OUT (RFC 5230 5) */
void
mfl_vacation_reply(struct msg *msg, const char *sender, const char *recipient,
		   const struct action *a, struct buf *out)
{
	const struct vacation *v = a->vacation;
	const char *msgid, *refs;
	size_t mlen = 0, rlen = 0;
	char host[256] = "localhost", date[64];
	time_t now = time(NULL);
	struct tm tm;
	struct buf text = BUF_INIT;

	gethostname(host, sizeof(host) - 1);
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	/* without :from, the address the message came to (the recipient
	 * or one of :addresses in its To, Cc...), as Pigeonhole answers */
	if (v->from != NULL)
		buf_printf(out, "From: %s\n", v->from);
	else if (addressed(msg, recipient, v, &text) && text.len > 0)
		buf_printf(out, "From: %s\n", buf_cstr(&text));
	else
		buf_printf(out, "From: %s\n", recipient);
	buf_reset(&text);
	reply_to(msg, sender, out);
	if (v->subject != NULL)
		buf_puts(&text, v->subject);
	else
		default_subject(msg, v, &text);
	hdr_format_field(out, "Subject", 7, text.data ? text.data : "", text.len, "\n");
	buf_putc(out, '\n');
	buf_free(&text);
	if ((msgid = field(msg, "message-id", &mlen)) != NULL) {
		buf_printf(out, "In-Reply-To: %.*s\n", (int) mlen, msgid);
		refs = field(msg, "references", &rlen);
		buf_printf(out, "References: %.*s%s%.*s\n", (int) rlen, refs ? refs : "",
			   rlen > 0 ? " " : "", (int) mlen, msgid);
	}
	buf_printf(out, "Date: %s\n", date);
	buf_printf(out, "Message-ID: <%lld.%ld.vacation@%s>\n", (long long) now, (long) getpid(), host);
	buf_puts(out, "Auto-Submitted: auto-replied (vacation)\n");
	buf_puts(out, "MIME-Version: 1.0\n");
	if (!v->mime)
		buf_puts(out, "Content-Type: text/plain; charset=utf-8\n"
			 "Content-Transfer-Encoding: 8bit\n\n");
	buf_append(out, a->target, a->target_len);
	if (a->target_len == 0 || a->target[a->target_len - 1] != '\n')
		buf_putc(out, '\n');
}

/* mfl_vacation_skip - why MSG from SENDER gets no answer from RECIPIENT's
 * vacation V, or NULL when it gets one */
const char *
mfl_vacation_skip(struct msg *msg, const char *sender, const char *recipient,
		  const struct vacation *v)
{
	const char *why;

	if (sender == NULL || !*sender)
		return "the envelope sender is empty";
	if ((why = automatic(msg, sender)) != NULL)
		return why;
	if (mine(recipient, v, sender, strlen(sender)))
		return "the sender is the user";
	if (!addressed(msg, recipient, v, NULL))
		return "the message is not addressed to the user";
	return NULL;
}
