/*
 * vacation - carry out a Sieve vacation action (RFC 5230, RFC 6131):
 * decide whether this message deserves an answer, and if so send one
 * through the local sendmail from the null sender, at most once per
 * sender and handle within the period (remembered in the user's state
 * file, state.c, and claimed before the reply goes out, so two
 * deliveries at once answer once).
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
 * DIAGNOSTICS: every decision is logged with the recipient; a reply
 * that cannot be sent or remembered is logged and the delivery goes on.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mda.h"
#include "mfl.h"
#include "msg/msg.h"
#include "state.h"
#include "vacation.h"

/* field - the first field NAME's unfolded value, or NULL */
static const char *
field(struct mda *mda, const char *name, size_t *len)
{
	struct hdr_index *idx = msg_headers(mda->msg);
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

/* automatic - the message is from a list, a daemon or a robot */
static const char *
automatic(struct mda *mda)
{
	static const char *const precedences[] = { "bulk", "list", "junk", NULL };
	struct hdr_index *idx = msg_headers(mda->msg);
	const char *v, *at;
	size_t len, local;

	if ((v = field(mda, "auto-submitted", &len)) != NULL && !trimmed_is(v, len, "no"))
		return "Auto-Submitted";
	if ((v = field(mda, "precedence", &len)) != NULL)
		for (size_t i = 0; precedences[i] != NULL; i++)
			if (trimmed_is(v, len, precedences[i]))
				return "Precedence";
	for (size_t i = 0; idx != NULL && i < idx->count; i++)
		if (idx->fields[i].name_len > 5 && strncasecmp(idx->fields[i].name, "list-", 5) == 0)
			return "a mailing list field";
	at = strchr(mda->sender, '@');
	local = at ? (size_t) (at - mda->sender) : strlen(mda->sender);
	if ((local >= 6 && strncasecmp(mda->sender, "owner-", 6) == 0)
	    || (local >= 8 && strncasecmp(mda->sender + local - 8, "-request", 8) == 0)
	    || (local == 13 && strncasecmp(mda->sender, "mailer-daemon", 13) == 0)
	    || (local == 8 && strncasecmp(mda->sender, "listserv", 8) == 0)
	    || (local == 9 && strncasecmp(mda->sender, "majordomo", 9) == 0))
		return "a list or daemon sender";
	return NULL;
}

/* mine - ADDR is the recipient or one of :addresses */
static int
mine(struct mda *mda, const struct vacation *v, const char *addr, size_t len)
{
	if (len == strlen(mda->recipient) && strncasecmp(addr, mda->recipient, len) == 0)
		return 1;
	for (size_t i = 0; v->addresses != NULL && v->addresses[i] != NULL; i++)
		if (len == strlen(v->addresses[i]) && strncasecmp(addr, v->addresses[i], len) == 0)
			return 1;
	return 0;
}

/* addressed - a To, Cc, Bcc or Resent- field names the user */
static int
addressed(struct mda *mda, const struct vacation *v)
{
	static const char *const fields[] = {
		"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc", NULL
	};
	struct hdr_index *idx = msg_headers(mda->msg);
	struct buf spec = BUF_INIT;
	int found = 0;

	for (size_t i = 0; idx != NULL && fields[i] != NULL && !found; i++) {
		struct hdr_field *f;

		for (size_t n = 0; !found && (f = hdr_find(idx, fields[i], strlen(fields[i]), n)) != NULL; n++) {
			struct addr *list;
			size_t count;

			if (hdr_unfolded(idx, f) < 0
			    || addr_parse_list(msg_arena(mda->msg), f->unfolded, f->unfolded_len,
					       &list, &count) < 0)
				continue;
			for (size_t k = 0; k < count && !found; k++) {
				if (list[k].flags & (ADDR_F_INVALID | ADDR_F_NULL))
					continue;
				buf_reset(&spec);
				addr_spec(&list[k], &spec);
				found = mine(mda, v, spec.data ? spec.data : "", spec.len);
			}
		}
	}
	buf_free(&spec);
	return found;
}

/* reply - the answer's text into OUT */
static void
reply(struct mda *mda, const struct action *a, struct buf *out)
{
	const struct vacation *v = a->vacation;
	const char *subject, *msgid, *refs;
	size_t slen = 0, mlen = 0, rlen = 0;
	char host[256] = "localhost", date[64];
	time_t now = time(NULL);
	struct tm tm;
	struct buf text = BUF_INIT;

	gethostname(host, sizeof(host) - 1);
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(out, "From: %s\n", v->from ? v->from : mda->recipient);
	buf_printf(out, "To: %s\n", mda->sender);
	subject = field(mda, "subject", &slen);
	if (v->subject != NULL)
		buf_puts(&text, v->subject);
	else
		buf_printf(&text, "Auto: %.*s", (int) slen, subject ? subject : "");
	hdr_format_field(out, "Subject", 7, text.data ? text.data : "", text.len, "\n");
	buf_putc(out, '\n');
	buf_free(&text);
	if ((msgid = field(mda, "message-id", &mlen)) != NULL) {
		buf_printf(out, "In-Reply-To: %.*s\n", (int) mlen, msgid);
		refs = field(mda, "references", &rlen);
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

/* vacation - answer the sender if RFC 5230 lets us, remembering whom in
 * the state file at PATH and replying through SEND; 0 always (a reply
 * that does not go out is logged, never a reason to retry the delivery) */
int
vacation(struct mda *mda, const struct action *a, const char *path, mda_send_fn *send)
{
	const struct vacation *v = a->vacation;
	char err[512];
	struct buf key = BUF_INIT, text = BUF_INIT;
	const char *why = NULL;
	int r;

	if (!*mda->sender)
		why = "the envelope sender is empty";
	else if ((why = automatic(mda)) != NULL)
		;
	else if (mine(mda, v, mda->sender, strlen(mda->sender)))
		why = "the sender is the user";
	else if (!addressed(mda, v))
		why = "the message is not addressed to the user";
	if (why != NULL) {
		mda_log(LOG_INFO, "to=<%s> vacation to=<%s> result=skipped: %s", mda->recipient,
			mda->sender, why);
		return 0;
	}
	buf_putc(&key, 'v');
	buf_puts(&key, v->handle ? v->handle : "");
	buf_putc(&key, 0);
	for (const char *s = mda->sender; *s; s++)
		buf_putc(&key, *s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
	/* claimed before sending: of two deliveries at once only one answers */
	if ((r = state_claim(path, key.data, key.len, v->seconds, err, sizeof(err))) != 0) {
		if (r < 0)
			mda_log(LOG_ERR, "to=<%s> vacation to=<%s> result=skipped: %s",
				mda->recipient, mda->sender, err);
		else
			mda_log(LOG_INFO, "to=<%s> vacation to=<%s> result=skipped: answered "
				"within %lld s", mda->recipient, mda->sender, (long long) v->seconds);
		buf_free(&key);
		return 0;
	}
	reply(mda, a, &text);
	if (send(mda, "vacation", "", mda->sender, "", 0, text.data, text.len) != 0)
		state_forget(path, key.data, key.len);	/* not sent: a later one may */
	buf_free(&key);
	buf_free(&text);
	return 0;
}
