/*
 * report - the mail Pigeonhole's vnd.dovecot.report action sends: an
 * RFC 5965 abuse report (multipart/report; report-type=feedback-report)
 * with the user's text, the machine-readable part, and the message (or
 * only its header), for every host that sends one (mvmda, the
 * testsuite). Its From: is $mfl_report_from's choice, as Dovecot's
 * sieve_report_from: postmaster (the default), sender, recipient,
 * orig_recipient, user_email or <address>.
 *
 * DIAGNOSTICS: none; what cannot be read is left out.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "mflapi.h"
#include "redirect.h"
#include "msg/msg.h"

/* mfl_report_type_ok - a feedback type ("abuse", "fraud", "virus"...,
 * RFC 5965 7.3) is a MIME token (RFC 2045 5.1) */
int
mfl_report_type_ok(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) s[i];

		if (c <= ' ' || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c) != NULL)
			return 0;
	}
	return 1;
}

/* report_from - the From: address the policy picks (policy_address),
 * else postmaster at the host (the report goes out from <> whatever it
 * is) */
static void
report_from(const struct mfl_report_env *e, char *buf, size_t size)
{
	const char *p = policy_address(e->policy, e, buf, size);

	if (p == NULL)
		snprintf(buf, size, "postmaster@%s", e->host ? e->host : "localhost");
	else if (p != buf)
		snprintf(buf, size, "%s", p);
}

/* mfl_report_compose - the report action A sends about MSG (as the
 * script left it: TEXT, LEN bytes), to A's address, into OUT */
void
mfl_report_compose(const struct mfl_report_env *e, struct msg *msg, const char *text,
		   size_t len, const struct action *a, struct buf *out)
{
	struct hdr_index *idx = msg_headers(msg);
	struct hdr_field *f = idx ? hdr_find(idx, "subject", 7, 0) : NULL;
	const char *user = e->user_email && *e->user_email ? e->user_email
	    : e->orig_recipient ? e->orig_recipient : e->recipient;
	char from[512], date[64];
	time_t now = time(NULL);
	struct tm tm;
	size_t head = len;

	report_from(e, from, sizeof(from));
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(out, "X-Sieve: mvmf %s\nMessage-ID: <%lld.%ld.report@%s>\nDate: %s\n",
		   PACKAGE_VERSION, (long long) now, (long) getpid(), e->host ? e->host : "localhost",
		   date);
	buf_printf(out, "From: <%s>\nTo: <%.*s>\nSubject: Report: ", from, (int) a->target_len,
		   a->target);
	if (f != NULL && hdr_decoded(idx, f) == 0)
		buf_append(out, f->decoded, f->decoded_len);
	else
		buf_puts(out, "(message without subject)");
	buf_printf(out, "\nAuto-Submitted: auto-generated (report)\nMIME-Version: 1.0\n"
		   "Content-Type: multipart/report; report-type=feedback-report;\n"
		   "\tboundary=\"%ld/mvmf-report\"\n\nThis is a MIME-encapsulated message\n\n",
		   (long) getpid());
	buf_printf(out, "--%ld/mvmf-report\nContent-Type: text/plain; charset=utf-8\n"
		   "Content-Transfer-Encoding: 8bit\nContent-Disposition: inline\n\n%s\n\n",
		   (long) getpid(), a->report->message);
	buf_printf(out, "--%ld/mvmf-report\nContent-Type: message/feedback-report\n\n"
		   "Version: 1\nFeedback-Type: %s\nUser-Agent: mvmf/%s\n", (long) getpid(),
		   a->report->feedback_type, PACKAGE_VERSION);
	buf_printf(out, "Original-Mail-From: <%s>\n", e->sender ? e->sender : "");
	if (e->orig_recipient || e->recipient)
		buf_printf(out, "Original-Rcpt-To: <%s>\n",
			   e->orig_recipient ? e->orig_recipient : e->recipient);
	if (user != NULL)
		buf_printf(out, "Dovecot-Reporting-User: <%s>\n", user);
	buf_printf(out, "\n--%ld/mvmf-report\nContent-Type: %s\nContent-Disposition: attachment\n\n",
		   (long) getpid(), a->report->headers_only ? "text/rfc822-headers" : "message/rfc822");
	if (a->report->headers_only) {	/* up to the blank line */
		const char *blank = NULL;

		for (size_t i = 0; i + 1 < len && blank == NULL; i++)
			if (text[i] == '\n' && (text[i + 1] == '\n'
						|| (text[i + 1] == '\r' && i + 2 < len && text[i + 2] == '\n')))
				blank = text + i + 1;
		head = blank ? (size_t) (blank - text) : len;
	}
	buf_append(out, text, head);
	if (head > 0 && text[head - 1] != '\n')
		buf_putc(out, '\n');
	buf_printf(out, "\n--%ld/mvmf-report--\n", (long) getpid());
}
