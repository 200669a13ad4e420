/*
 * delivery - the SMTP-time link to mvmda: for a local recipient, mvmtr
 * asks mvmda's service (mvmda -D) what that recipient's own scripts
 * would do with the mail, once at RCPT with the envelope and, for the
 * recipients whose scripts need the message, again at end of message
 * with it. The answers are kept per recipient for the message, so a
 * script's $delivery_check and mvmtr's own check ask once.
 *
 * What is asked about, and when (mvmtr(8) DELIVERY CHECKS):
 * $mvmtr_delivery_socket names the service ("" is off); recipients in
 * $mvmtr_delivery_domains are asked about automatically, others when a
 * hook calls $delivery_check. At end of message the refusal is made
 * only when every accepted recipient refuses (RFC 5429's fallback:
 * otherwise the refusing recipients' deliveries reject as before).
 *
 * The wire format is mvmda's (mvmda(1) SMTP-TIME DECISIONS); this file
 * is its only client. It calls nothing in session.c: the session reads
 * the answers and makes the replies.
 *
 * DIAGNOSTICS: a service that is down, slow or answers "error" leaves
 * the recipient as if nothing had been asked (or tempfails it, when
 * $mvmtr_delivery_failure says "tempfail"); logged at most once a
 * minute, with the queue id and the reason.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "delivery.h"
#include "mvmtr.h"

#define DELIVERY_RCPTS_MAX	1000
#define DELIVERY_LOG_EVERY	60	/* seconds between failure lines */

/* failures are said once a minute each: the service's (down, slow,
 * busy) and the scripts' (a compile or runtime error) apart */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t last_logged[2];
static unsigned long unlogged[2];

/* control_str - the string control NAME of S's run, NUL-ended in OUT */
static const char *
control_str(struct session *s, const char *name, char *out, size_t size)
{
	struct value v;

	*out = 0;
	if (mfl_run_get_control(s->run, name, &v) == 0 && v.type == V_STR)
		snprintf(out, size, "%.*s", (int) v.u.s.len, v.u.s.ptr);
	return out;
}

/* failure_log - a failed question, said once a minute at most */
static void
failure_log(struct session *s, const char *rcpt, const char *why)
{
	time_t now = time(NULL);
	unsigned long skipped = 0;
	int say = 0, kind = strstr(why, "compile error") == why || strstr(why, "runtime error") == why;

	pthread_mutex_lock(&log_lock);
	if (now - last_logged[kind] >= DELIVERY_LOG_EVERY) {
		say = 1;
		skipped = unlogged[kind];
		unlogged[kind] = 0;
		last_logged[kind] = now;
	} else {
		unlogged[kind]++;
	}
	pthread_mutex_unlock(&log_lock);
	if (say)
		session_log(s, LOG_WARNING, "delivery check for <%s>: %s; %s (%lu more not "
			    "logged; said once a minute)", rcpt, why,
			    delivery_failure_tempfails(s) ? "tempfailing it" : "carrying on without it",
			    skipped);
}

/* put_field - "NAME: VALUE\n" with VALUE's line breaks made spaces */
static void
put_field(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, "%s: ", name);
	for (const char *p = value ? value : ""; *p; p++)
		buf_putc(b, *p == '\r' || *p == '\n' ? ' ' : *p);
	buf_putc(b, '\n');
}

/* request - the question about RCPT in PHASE, with MSG_LEN bytes after */
static void
request(struct session *s, struct buf *b, const char *phase, const char *rcpt,
	char **args, size_t msg_len)
{
	buf_puts(b, "MVMDA/1 DECIDE\n");
	put_field(b, "phase", phase);
	put_field(b, "recipient", rcpt);
	put_field(b, "sender", s->sender);
	put_field(b, "client", s->client_addr);
	put_field(b, "client-name", s->client_host);
	put_field(b, "helo", s->helo);
	put_field(b, "queue-id", s->queue_id);
	for (int i = 0; args != NULL && args[i] != NULL && i < 16; i++)
		put_field(b, "arg", args[i]);
	if (strcmp(phase, "data") == 0)
		buf_printf(b, "size: %zu\n", msg_len);
	buf_putc(b, '\n');
}

/* parse - the service's answer LINE into A */
static void
parse(const char *line, struct delivery_answer *a)
{
	const char *rest;

	snprintf(a->line, sizeof(a->line), "%s", line);
	if (strcmp(line, "accept") == 0)
		a->verdict = DV_ACCEPT;
	else if (strcmp(line, "data") == 0)
		a->verdict = DV_DATA;
	else if (strcmp(line, "unknown") == 0)
		a->verdict = DV_UNKNOWN;
	else if ((strncmp(line, "reject ", 7) == 0 && line[7] == '5')
		 || (strncmp(line, "tempfail ", 9) == 0 && line[9] == '4')) {
		int reject = line[0] == 'r';
		const char *code = line + (reject ? 7 : 9), *xcode = code + 4;
		size_t xlen = strcspn(xcode, " ");

		a->verdict = reject ? DV_REJECT : DV_TEMPFAIL;
		snprintf(a->code, sizeof(a->code), "%.3s", code);
		snprintf(a->xcode, sizeof(a->xcode), "%.*s", (int) (xlen < 15 ? xlen : 15), xcode);
		rest = xcode[xlen] ? xcode + xlen + 1 : "";
		snprintf(a->text, sizeof(a->text), "%s", rest);
	} else {
		a->verdict = DV_ERROR;
		snprintf(a->text, sizeof(a->text), "%s", strncmp(line, "error ", 6) == 0
			 ? line + 6 : line);
	}
}

/* connect_to - a connection to the service at SPEC, non-blocking */
static int
connect_to(const char *spec, char *err, size_t errsize)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = strncmp(spec, "unix:", 5) == 0 ? spec + 5 : spec;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errsize, "%s: path too long", spec);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0
	    || connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* wait_for - FD ready for EVENTS before DEADLINE (ms since the epoch
 * of CLOCK_MONOTONIC); 0, or -1 on timeout */
static int
wait_for(int fd, short events, const struct timespec *deadline)
{
	for (;;) {
		struct timespec now;
		struct pollfd p = { .fd = fd, .events = events };
		long ms;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			return -1;
		switch (poll(&p, 1, (int) ms)) {
		case -1:
			if (errno != EINTR)
				return -1;
			break;	/* the time left is counted again */
		case 0:
			return -1;
		default:
			return 0;
		}
	}
}

/* send_all - DATA to FD before DEADLINE */
static int
send_all(int fd, const char *data, size_t len, const struct timespec *deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_for(fd, POLLOUT, deadline) < 0)
				return -1;
			continue;
		}
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t) n;
	}
	return 0;
}

/* ask - one question to the service at SPEC: REQ then MSG; the answer
 * into A (DV_ERROR with the reason when there is none in time) */
static void
ask(const char *spec, long timeout_ms, const struct buf *req, const char *msg, size_t msg_len,
    struct delivery_answer *a)
{
	struct timespec deadline;
	char line[700], err[300];
	size_t len = 0;
	int fd;

	memset(a, 0, sizeof(*a));
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	if ((fd = connect_to(spec, err, sizeof(err))) < 0) {
		parse("error", a);
		snprintf(a->text, sizeof(a->text), "%s", err);
		return;
	}
	if (send_all(fd, req->data, req->len, &deadline) < 0
	    || (msg_len > 0 && send_all(fd, msg, msg_len, &deadline) < 0)) {
		close(fd);
		parse("error", a);
		snprintf(a->text, sizeof(a->text), "sending the question: %s",
			 errno == EAGAIN || errno == 0 ? "timeout" : strerror(errno));
		return;
	}
	while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL) {
		ssize_t n = recv(fd, line + len, sizeof(line) - 1 - len, 0);

		if (n > 0) {
			len += (size_t) n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR) && wait_for(fd, POLLIN, &deadline) == 0)
			continue;
		break;
	}
	close(fd);
	line[len] = 0;
	if (strchr(line, '\n') == NULL) {
		parse("error", a);
		snprintf(a->text, sizeof(a->text), "no answer within %ld ms", timeout_ms);
		return;
	}
	line[strcspn(line, "\r\n")] = 0;
	parse(line, a);
}

/* find - RCPT's entry in S (made when MAKE), or NULL */
static struct delivery_rcpt *
find(struct session *s, const char *rcpt, int make)
{
	struct delivery_rcpt *grown;

	for (size_t i = 0; i < s->ndlv; i++)
		if (strcasecmp(s->dlv[i].rcpt, rcpt) == 0)
			return &s->dlv[i];
	if (!make || s->ndlv >= DELIVERY_RCPTS_MAX
	    || (grown = realloc(s->dlv, (s->ndlv + 1) * sizeof(*grown))) == NULL)
		return NULL;
	s->dlv = grown;
	memset(&s->dlv[s->ndlv], 0, sizeof(s->dlv[0]));
	if ((s->dlv[s->ndlv].rcpt = strdup(rcpt)) == NULL)
		return NULL;
	return &s->dlv[s->ndlv++];
}

/* timeout_ms - $mvmtr_delivery_timeout */
static long
timeout_ms(struct session *s)
{
	struct value v;

	return mfl_run_get_control(s->run, "mvmtr_delivery_timeout", &v) == 0 && v.u.i > 0
	    ? (long) v.u.i : 3000;
}

/* delivery_wanted - RCPT's domain is one $mvmtr_delivery_domains names
 * (and a service is set): mvmtr asks about it by itself */
int
delivery_wanted(struct session *s, const char *rcpt)
{
	char spec[256], domains[4096];
	const char *at = strrchr(rcpt, '@');
	size_t dlen;

	if (!*control_str(s, "mvmtr_delivery_socket", spec, sizeof(spec)) || at == NULL)
		return 0;
	dlen = strlen(at + 1);
	control_str(s, "mvmtr_delivery_domains", domains, sizeof(domains));
	for (char *p = domains; *p;) {
		size_t n;

		p += strspn(p, " ,\t");
		n = strcspn(p, " ,\t");
		if (n > 0 && n == dlen && strncasecmp(p, at + 1, n) == 0)
			return 1;
		p += n;
	}
	return 0;
}

/* question - ask about RCPT in PHASE (with ARGS, or the message so far
 * for "data") into A, the service at SPEC; a failure logged */
static void
question(struct session *s, const char *spec, const char *phase, const char *rcpt, char **args,
	 struct delivery_answer *a)
{
	int data = strcmp(phase, "data") == 0;
	struct buf req = BUF_INIT;

	request(s, &req, phase, rcpt, args, data ? s->text.len : 0);
	if (req.failed)
		parse("error out of memory", a);
	else
		ask(spec, timeout_ms(s), &req, data ? s->text.data : NULL, data ? s->text.len : 0, a);
	buf_free(&req);
	if (a->verdict == DV_ERROR)
		failure_log(s, rcpt, a->text);
}

/* delivery_rcpt - what RCPT's scripts say before DATA (asked once per
 * message); NULL when no service is set */
const struct delivery_answer *
delivery_rcpt(struct session *s, const char *rcpt, char **args, int automatic)
{
	struct delivery_rcpt *d;
	char spec[256];

	if (!*control_str(s, "mvmtr_delivery_socket", spec, sizeof(spec))
	    || (d = find(s, rcpt, 1)) == NULL)
		return NULL;
	d->automatic |= automatic;
	if (d->at_rcpt.verdict == DV_NONE)
		question(s, spec, "rcpt", rcpt, args, &d->at_rcpt);
	return &d->at_rcpt;
}

/* delivery_data - what RCPT's scripts say of the message as it stands
 * (asked once per message); NULL when no service is set */
const struct delivery_answer *
delivery_data(struct session *s, const char *rcpt)
{
	struct delivery_rcpt *d;
	char spec[256];

	if (!*control_str(s, "mvmtr_delivery_socket", spec, sizeof(spec))
	    || (d = find(s, rcpt, 1)) == NULL)
		return NULL;
	if (!d->asked_data) {
		d->asked_data = 1;
		question(s, spec, "data", rcpt, NULL, &d->at_data);
	}
	return &d->at_data;
}

/* delivery_accepted - RCPT was accepted: its answer counts at the end */
void
delivery_accepted(struct session *s, const char *rcpt)
{
	struct delivery_rcpt *d = find(s, rcpt, 0);

	if (d != NULL)
		d->accepted = 1;
}

/* delivery_eom - the refusal to give at end of message, or NULL: the
 * recipients asked about automatically that could not tell before DATA
 * are asked with the message; when every accepted recipient of the
 * message refuses, the first refusal is the answer (RFC 5429 2.1.1);
 * when only some do, nothing is refused here and their deliveries
 * reject as they would without mvmtr */
const struct delivery_answer *
delivery_eom(struct session *s)
{
	const struct delivery_answer *first = NULL;
	size_t refusing = 0;

	for (size_t i = 0; i < s->ndlv; i++) {
		struct delivery_rcpt *d = &s->dlv[i];
		const struct delivery_answer *a;

		if (!d->accepted || !d->automatic || d->at_rcpt.verdict != DV_DATA)
			continue;
		if ((a = delivery_data(s, d->rcpt)) == NULL || a->verdict != DV_REJECT)
			return NULL;	/* one that takes it is enough */
		refusing++;
		if (first == NULL)
			first = a;
	}
	return refusing > 0 && refusing == s->nrcpt ? first : NULL;
}

/* delivery_pending - an accepted recipient asked about automatically
 * could not tell before DATA: the message must reach its end */
int
delivery_pending(struct session *s)
{
	for (size_t i = 0; i < s->ndlv; i++)
		if (s->dlv[i].accepted && s->dlv[i].automatic && s->dlv[i].at_rcpt.verdict == DV_DATA)
			return 1;
	return 0;
}

/* delivery_failure_tempfails - $mvmtr_delivery_failure is "tempfail" */
int
delivery_failure_tempfails(struct session *s)
{
	char what[32];

	return strcmp(control_str(s, "mvmtr_delivery_failure", what, sizeof(what)), "tempfail") == 0;
}

/* delivery_reset - the message is over: forget its answers */
void
delivery_reset(struct session *s)
{
	for (size_t i = 0; i < s->ndlv; i++)
		free(s->dlv[i].rcpt);
	free(s->dlv);
	s->dlv = NULL;
	s->ndlv = 0;
}
