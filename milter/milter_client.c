/*
 * milter_client - mvmtr-smtpd's policy over the milter protocol: the
 * receiver, for one SMTP connection, is the MTA side of a milter
 * connection to a running mvmtr (or any milter), as Postfix and
 * Sendmail are. The script is compiled, the store opened and DNS
 * answers kept by that daemon, not by each connection's process.
 *
 * Protocol version 6: negotiation (the filter says which steps it
 * wants and which it will not answer), the macros ahead of each step
 * (from the receiver: struct smtpd_policy's macro), one packet per step,
 * the answers (continue, accept, reject, tempfail, discard, a reply
 * code, progress, skip) and, at the end of the message, the changes
 * (header add/insert/change, recipients, sender, body, quarantine).
 *
 * DIAGNOSTICS: a filter that cannot be reached, answers out of turn or
 * not within the timeout is logged once, and every later step of the
 * connection is answered tempfail ("451 4.3.0 Mail filter unavailable,
 * try again later"), as Postfix does with milter_default_action =
 * tempfail.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "engine.h"
#include "smtpd.h"

#define MAX_PACKET	(4 << 20)

/* the steps we offer to leave out or not to wait for */
#define OFFERED	(ENG_NOCONNECT | ENG_NOHELO | ENG_NOMAIL | ENG_NORCPT | ENG_NOBODY \
		 | ENG_NOHDRS | ENG_NOEOH | ENG_NR_HDR | ENG_NOUNKNOWN | ENG_NODATA \
		 | ENG_NR_CONN | ENG_NR_HELO | ENG_NR_MAIL | ENG_NR_RCPT | ENG_NR_DATA \
		 | ENG_NR_UNKN | ENG_NR_EOH | ENG_NR_BODY | ENG_SKIP)
#define ACTIONS	(ENG_ADDHDRS | ENG_CHGBODY | ENG_ADDRCPT | ENG_DELRCPT | ENG_CHGHDRS \
		 | ENG_QUARANTINE | ENG_CHGFROM | ENG_ADDRCPT_PAR)

struct client {
	struct smtpd_policy p;		/* first: the receiver's view */
	int fd;
	int timeout;
	const char *spec;
	uint32_t steps;			/* what the filter agreed to */
	int broken;
	int skip_body;			/* the filter said it has seen enough */
	struct reply reply;
	struct change *changes, **tail;
	unsigned char *in;		/* the last packet's data */
	size_t inlen;
	struct buf out;			/* packets not yet written */
	unsigned char rbuf[4096];	/* read ahead */
	size_t rpos, rlen;
};

#define C(p) ((struct client *) (p))

/* fail - the filter is gone: logged once, then tempfail throughout */
static enum decision
fail(struct client *c, const char *why)
{
	if (!c->broken)
		mtr_log(LOG_ERR, "milter %s: %s; answering tempfail", c->spec, why);
	c->broken = 1;
	free(c->reply.text);
	memset(&c->reply, 0, sizeof(c->reply));
	c->reply.decision = DEC_TEMPFAIL;
	snprintf(c->reply.code, sizeof(c->reply.code), "451");
	snprintf(c->reply.xcode, sizeof(c->reply.xcode), "4.3.0");
	c->reply.text = strdup("Mail filter unavailable, try again later");
	return DEC_TEMPFAIL;
}

/* flush_out - the packets queued go out in one write, so the filter
 * wakes once for a step and its macros */
static int
flush_out(struct client *c)
{
	const char *p = c->out.data;
	size_t left = c->out.len;

	while (left > 0 && !c->broken) {
		ssize_t n = write(c->fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fail(c, "cannot write to the filter");
			break;
		}
		p += n;
		left -= (size_t) n;
	}
	buf_reset(&c->out);
	return c->broken ? -1 : 0;
}

/* send_packet - CMD and LEN bytes of DATA, queued until an answer is
 * awaited (or much is queued) */
static int
send_packet(struct client *c, int cmd, const void *data, size_t len)
{
	unsigned char head[5];

	if (c->broken)
		return -1;
	put_u32(head, (uint32_t) len + 1);
	head[4] = (unsigned char) cmd;
	buf_append(&c->out, head, 5);
	if (len > 0)
		buf_append(&c->out, data, len);
	if (c->out.failed) {
		fail(c, "out of memory");
		return -1;
	}
	return c->out.len > (256u << 10) ? flush_out(c) : 0;
}

/* read_n - LEN bytes within the timeout, from what was read ahead; what
 * is queued goes out first */
static int
read_n(struct client *c, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		size_t take = c->rlen - c->rpos;
		ssize_t n;
		int r;

		if (take > 0) {
			if (take > len)
				take = len;
			memcpy(p, c->rbuf + c->rpos, take);
			c->rpos += take;
			p += take;
			len -= take;
			continue;
		}
		if (c->out.len > 0 && flush_out(c) < 0)
			return -1;
		if ((r = poll(&pfd, 1, c->timeout * 1000)) < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			fail(c, "no answer within the timeout");
			return -1;
		}
		if ((n = read(c->fd, c->rbuf, sizeof(c->rbuf))) < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fail(c, n == 0 ? "the filter closed the connection" : "cannot read from the filter");
			return -1;
		}
		c->rpos = 0;
		c->rlen = (size_t) n;
	}
	return 0;
}

/* recv_packet - the next packet's command (its data in c->in), or -1 */
static int
recv_packet(struct client *c)
{
	unsigned char head[5];
	uint32_t len;

	if (c->broken || read_n(c, head, 5) < 0)
		return -1;
	len = get_u32(head);
	if (len == 0 || len > MAX_PACKET) {
		fail(c, "a packet of a size out of bounds");
		return -1;
	}
	free(c->in);
	c->inlen = len - 1;
	if ((c->in = malloc(c->inlen + 1)) == NULL) {
		fail(c, "out of memory");
		return -1;
	}
	if (read_n(c, c->in, c->inlen) < 0)
		return -1;
	c->in[c->inlen] = 0;
	return head[4];
}

/* macros - the MTA's macros for the command CMD, in one 'D' packet */
static int
macros(struct client *c, int cmd, const char *const *names)
{
	struct buf b = BUF_INIT;
	int rc;

	buf_putc(&b, cmd);
	for (size_t i = 0; names[i] != NULL; i++) {
		const char *v = c->p.macro ? c->p.macro(c->p.macro_ctx, names[i]) : NULL;

		if (v == NULL)
			continue;
		buf_puts(&b, names[i]);
		buf_putc(&b, 0);
		buf_puts(&b, v);
		buf_putc(&b, 0);
	}
	rc = b.failed ? -1 : b.len > 1 ? send_packet(c, CMD_MACRO, b.data, b.len) : 0;
	buf_free(&b);
	return rc;
}

/* set_reply - the filter's 'y' text: "550 5.7.1 one" or several lines
 * "550-5.7.1 one\r\n550 5.7.1 two" */
static enum decision
set_reply(struct client *c, const char *text)
{
	struct buf t = BUF_INIT;
	const char *p = text;

	if (strlen(text) < 3 || (text[0] != '4' && text[0] != '5'))
		return fail(c, "a reply code that is not 4xx or 5xx");
	memcpy(c->reply.code, text, 3);
	c->reply.code[3] = 0;
	while (*p) {
		const char *eol = strstr(p, "\r\n"), *s = p + 3;
		size_t n;

		if (*s == ' ' || *s == '-')
			s++;
		/* an enhanced code, once, from the first line */
		if (!*c->reply.xcode && s[0] >= '2' && s[0] <= '5' && s[1] == '.') {
			size_t x = strcspn(s, " \r");

			if (x < sizeof(c->reply.xcode)) {
				memcpy(c->reply.xcode, s, x);
				c->reply.xcode[x] = 0;
			}
		}
		if (*c->reply.xcode && strncmp(s, c->reply.xcode, strlen(c->reply.xcode)) == 0) {
			s += strlen(c->reply.xcode);
			if (*s == ' ')
				s++;
		}
		n = eol ? (size_t) (eol - s) : strlen(s);
		if (t.len > 0)
			buf_putc(&t, '\n');
		buf_append(&t, s, n);
		if (eol == NULL)
			break;
		p = eol + 2;
	}
	c->reply.text = t.failed ? NULL : strdup(buf_cstr(&t));
	buf_free(&t);
	return c->reply.decision = text[0] == '5' ? DEC_REJECT : DEC_TEMPFAIL;
}

/* change - one change the filter asked for at the end of the message */
static int
change(struct client *c, enum change_kind kind, const char *name, const char *value,
       size_t value_len, int index)
{
	return change_append(&c->tail, kind, name, value, value_len, index);
}

/* strings - the I-th NUL-ended string of the packet's data, or NULL */
static const char *
string_at(struct client *c, size_t off, size_t *next)
{
	const unsigned char *nul;

	if (off >= c->inlen || (nul = memchr(c->in + off, 0, c->inlen - off)) == NULL)
		return NULL;
	*next = (size_t) (nul - c->in) + 1;
	return (const char *) c->in + off;
}

/* modification - a change packet CMD; 0, or -1 when it is not one */
static int
modification(struct client *c, int cmd)
{
	const char *a, *b = NULL;
	size_t next = 0, next2;
	int index = 0;

	switch (cmd) {
	case REP_REPLBODY:
		return change(c, CHG_BODY, NULL, (const char *) c->in, c->inlen, 0);
	case REP_INSHEADER:
	case REP_CHGHEADER:
		if (c->inlen < 4)
			return -1;
		index = (int) get_u32(c->in);
		next = 4;
		/* fall through */
	case REP_ADDHEADER:
		if ((a = string_at(c, next, &next2)) == NULL || (b = string_at(c, next2, &next)) == NULL)
			return -1;
		return change(c, cmd == REP_ADDHEADER ? CHG_HEADER_ADD : cmd == REP_INSHEADER
			      ? CHG_HEADER_INSERT : CHG_HEADER_CHANGE, a, b, strlen(b), index);
	case REP_ADDRCPT:
	case REP_ADDRCPT_PAR:
		if ((a = string_at(c, 0, &next)) == NULL)
			return -1;
		return change(c, CHG_RCPT_ADD, a, NULL, 0, 0);
	case REP_DELRCPT:
		if ((a = string_at(c, 0, &next)) == NULL)
			return -1;
		return change(c, CHG_RCPT_DELETE, a, NULL, 0, 0);
	case REP_CHGFROM:
		if ((a = string_at(c, 0, &next)) == NULL)
			return -1;
		return change(c, CHG_SENDER, a, NULL, 0, 0);
	case REP_QUARANTINE:
		if ((a = string_at(c, 0, &next)) == NULL)
			return -1;
		return change(c, CHG_QUARANTINE, a, NULL, 0, 0);
	}
	return -1;
}

/* step - command CMD with DATA, unless the filter left it out (NO);
 * its answer, unless the filter does not give one (NR); at the end of
 * the message (EOM) the changes before the answer */
static enum decision
step(struct client *c, int cmd, const void *data, size_t len, uint32_t no, uint32_t nr, int eom)
{
	int r;

	free(c->reply.text);
	memset(&c->reply, 0, sizeof(c->reply));
	if (c->broken)
		return fail(c, "");
	if (no && (c->steps & no))
		return DEC_CONTINUE;
	if (send_packet(c, cmd, data, len) < 0)
		return DEC_TEMPFAIL;
	if (nr && (c->steps & nr))
		return DEC_CONTINUE;
	for (;;) {
		if ((r = recv_packet(c)) < 0)
			return DEC_TEMPFAIL;
		switch (r) {
		case REP_CONTINUE:
			return c->reply.decision = DEC_CONTINUE;
		case REP_ACCEPT:
			return c->reply.decision = DEC_ACCEPT;
		case REP_DISCARD:
			return c->reply.decision = DEC_DISCARD;
		case REP_REJECT:
			return c->reply.decision = DEC_REJECT;
		case REP_TEMPFAIL:
			return c->reply.decision = DEC_TEMPFAIL;
		case REP_REPLYCODE:
			return set_reply(c, (const char *) c->in);
		case REP_PROGRESS:
			continue;
		case REP_SKIP:
			c->skip_body = 1;
			return DEC_CONTINUE;
		default:
			if (eom && modification(c, r) == 0)
				continue;
			return fail(c, "an answer out of turn");
		}
	}
}

static enum decision
connect_(struct smtpd_policy *p, const char *host, const struct sockaddr *sa)
{
	static const char *const names[] = {
		"j", "_", "{daemon_name}", "{if_name}", "{if_addr}", "{client_addr}",
		"{client_name}", "{client_ptr}", "v", NULL,
	};
	struct client *c = C(p);
	struct buf b = BUF_INIT;
	char addr[INET6_ADDRSTRLEN] = "";
	enum decision d;

	buf_puts(&b, host);
	buf_putc(&b, 0);
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

		buf_putc(&b, '4');
		buf_putc(&b, ntohs(in->sin_port) >> 8);
		buf_putc(&b, ntohs(in->sin_port) & 255);
		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

		buf_putc(&b, '6');
		buf_putc(&b, ntohs(in6->sin6_port) >> 8);
		buf_putc(&b, ntohs(in6->sin6_port) & 255);
		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
	} else {
		buf_putc(&b, 'U');
	}
	if (*addr) {
		buf_puts(&b, addr);
		buf_putc(&b, 0);
	}
	d = b.failed ? fail(c, "out of memory")
	    : macros(c, CMD_CONNECT, names) < 0 ? DEC_TEMPFAIL
	    : step(c, CMD_CONNECT, b.data, b.len, ENG_NOCONNECT, ENG_NR_CONN, 0);
	buf_free(&b);
	return d;
}

static enum decision
helo(struct smtpd_policy *p, const char *name)
{
	static const char *const names[] = { NULL };

	if (macros(C(p), CMD_HELO, names) < 0)
		return DEC_TEMPFAIL;
	return step(C(p), CMD_HELO, name, strlen(name) + 1, ENG_NOHELO, ENG_NR_HELO, 0);
}

/* args - ARGV as NUL-ended strings in one buffer */
static enum decision
args_step(struct client *c, int cmd, char **argv, const char *const *names, uint32_t no,
	  uint32_t nr)
{
	struct buf b = BUF_INIT;
	enum decision d;

	for (size_t i = 0; argv[i] != NULL; i++) {
		buf_puts(&b, argv[i]);
		buf_putc(&b, 0);
	}
	d = b.failed ? fail(c, "out of memory") : macros(c, cmd, names) < 0 ? DEC_TEMPFAIL
	    : step(c, cmd, b.data, b.len, no, nr, 0);
	buf_free(&b);
	return d;
}

static enum decision
envfrom(struct smtpd_policy *p, char **argv)
{
	static const char *const names[] = { "i", "{mail_addr}", NULL };

	C(p)->skip_body = 0;
	return args_step(C(p), CMD_MAIL, argv, names, ENG_NOMAIL, ENG_NR_MAIL);
}

static enum decision
envrcpt(struct smtpd_policy *p, char **argv)
{
	static const char *const names[] = { "i", "{rcpt_addr}", NULL };

	return args_step(C(p), CMD_RCPT, argv, names, ENG_NORCPT, ENG_NR_RCPT);
}

static enum decision
data(struct smtpd_policy *p)
{
	static const char *const names[] = { "i", NULL };

	if (macros(C(p), CMD_DATA, names) < 0)
		return DEC_TEMPFAIL;
	return step(C(p), CMD_DATA, NULL, 0, ENG_NODATA, ENG_NR_DATA, 0);
}

static enum decision
header(struct smtpd_policy *p, const char *name, const char *value)
{
	struct buf b = BUF_INIT;
	enum decision d;

	buf_puts(&b, name);
	buf_putc(&b, 0);
	buf_puts(&b, value);
	buf_putc(&b, 0);
	d = b.failed ? fail(C(p), "out of memory")
	    : step(C(p), CMD_HEADER, b.data, b.len, ENG_NOHDRS, ENG_NR_HDR, 0);
	buf_free(&b);
	return d;
}

static enum decision
eoh(struct smtpd_policy *p)
{
	return step(C(p), CMD_EOH, NULL, 0, ENG_NOEOH, ENG_NR_EOH, 0);
}

static enum decision
body(struct smtpd_policy *p, const unsigned char *chunk, size_t len)
{
	if (C(p)->skip_body)
		return DEC_CONTINUE;
	return step(C(p), CMD_BODY, chunk, len, ENG_NOBODY, ENG_NR_BODY, 0);
}

static enum decision
eom(struct smtpd_policy *p)
{
	static const char *const names[] = { "i", NULL };

	if (macros(C(p), CMD_BODYEOB, names) < 0)
		return DEC_TEMPFAIL;
	return step(C(p), CMD_BODYEOB, NULL, 0, 0, 0, 1);
}

static enum decision
unknown(struct smtpd_policy *p, const char *cmd)
{
	return step(C(p), CMD_UNKNOWN, cmd, strlen(cmd) + 1, ENG_NOUNKNOWN, ENG_NR_UNKN, 0);
}

static void
changes_free(struct client *c)
{
	change_list_free(c->changes);
	c->changes = NULL;
	c->tail = &c->changes;
}

static void
abort_(struct smtpd_policy *p)
{
	if (!C(p)->broken)
		send_packet(C(p), CMD_ABORT, NULL, 0);
	changes_free(C(p));
}

static void
message_done(struct smtpd_policy *p)
{
	changes_free(C(p));
}

static void
close_(struct smtpd_policy *p)
{
	if (!C(p)->broken && send_packet(C(p), CMD_QUIT, NULL, 0) == 0)
		flush_out(C(p));
}

static void
free_(struct smtpd_policy *p)
{
	struct client *c = C(p);

	changes_free(c);
	if (c->fd >= 0)
		close(c->fd);
	free(c->reply.text);
	free(c->in);
	buf_free(&c->out);
	free(c);
}

static const struct reply *
reply(struct smtpd_policy *p)
{
	return &C(p)->reply;
}

static const struct change *
changes(struct smtpd_policy *p)
{
	return C(p)->changes;
}

static unsigned
wants(struct smtpd_policy *p)
{
	struct client *c = C(p);

	if (c->broken)
		return 0;
	return (c->steps & ENG_NOHDRS ? 0 : SMTPD_WANT_HEADERS)
	    | (c->steps & ENG_NOEOH ? 0 : SMTPD_WANT_EOH)
	    | (c->steps & ENG_NOBODY ? 0 : SMTPD_WANT_BODY);
}

/* dial - a connection to SPEC: unix:PATH, local:PATH, PATH,
 * inet:PORT@HOST or inet6:PORT@HOST */
static int
dial(const char *spec, char *err, size_t errsize)
{
	const char *path = NULL;
	int fd;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0)
		path = strchr(spec, ':') + 1;
	else if (spec[0] == '/')
		path = spec;
	if (path != NULL) {
		struct sockaddr_un un = { .sun_family = AF_UNIX };

		if (strlen(path) >= sizeof(un.sun_path)) {
			snprintf(err, errsize, "%s: path too long", spec);
			return -1;
		}
		strcpy(un.sun_path, path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			goto sys;
		if (connect(fd, (struct sockaddr *) &un, sizeof(un)) < 0) {
			close(fd);
			goto sys;
		}
		return fd;
	}
	if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0) {
		const char *port = strchr(spec, ':') + 1, *at = strchr(port, '@');
		struct sockaddr_in in4 = { .sin_family = AF_INET };
		struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
		char *end;
		unsigned long n = strtoul(port, &end, 10);
		int ok;

		/* numeric only, without getaddrinfo(): mvmtr-smtpd is linked
		 * statically, where the resolver would need glibc's NSS modules */
		if (at == NULL || end != at || port == at || n == 0 || n > 65535) {
			snprintf(err, errsize, "%s: not PORT@ADDRESS", spec);
			return -1;
		}
		in4.sin_port = in6.sin6_port = htons((uint16_t) n);
		ok = spec[4] == '6' ? inet_pton(AF_INET6, at + 1, &in6.sin6_addr)
		    : inet_pton(AF_INET, at + 1, &in4.sin_addr);
		if (ok != 1) {
			snprintf(err, errsize, "%s: not a numeric address and port", spec);
			return -1;
		}
		if ((fd = socket(spec[4] == '6' ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			goto sys;
		if ((spec[4] == '6' ? connect(fd, (struct sockaddr *) &in6, sizeof(in6))
		     : connect(fd, (struct sockaddr *) &in4, sizeof(in4))) < 0) {
			close(fd);
			goto sys;
		}
		return fd;
	}
	snprintf(err, errsize, "%s: not unix:PATH or inet:PORT@HOST", spec);
	return -1;
sys:
	snprintf(err, errsize, "%s: %s", spec, strerror(errno));
	return -1;
}

/* milter_client_policy - a milter connection to SPEC, negotiated; NULL
 * and ERR when the filter cannot be reached or refuses */
struct smtpd_policy *
milter_client_policy(const char *spec, int timeout, char *err, size_t errsize)
{
	struct client *c = calloc(1, sizeof(*c));
	unsigned char opt[12];
	int r;

	if (c == NULL) {
		snprintf(err, errsize, "out of memory");
		return NULL;
	}
	c->spec = spec;
	c->timeout = timeout > 0 ? timeout : 30;
	c->tail = &c->changes;
	c->p = (struct smtpd_policy) {
		.connect = connect_, .helo = helo, .envfrom = envfrom, .envrcpt = envrcpt,
		.data = data, .header = header, .eoh = eoh, .body = body, .eom = eom,
		.unknown = unknown, .abort = abort_, .message_done = message_done,
		.close = close_, .free = free_, .reply = reply, .changes = changes,
		.wants = wants,
	};
	if ((c->fd = dial(spec, err, errsize)) < 0) {
		free(c);
		return NULL;
	}
	put_u32(opt, ENG_VERSION);
	put_u32(opt + 4, ACTIONS);
	put_u32(opt + 8, OFFERED);
	if (send_packet(c, CMD_OPTNEG, opt, sizeof(opt)) < 0 || (r = recv_packet(c)) < 0
	    || r != CMD_OPTNEG || c->inlen < 12) {
		snprintf(err, errsize, "%s: the filter did not negotiate", spec);
		free_(&c->p);
		return NULL;
	}
	c->steps = get_u32(c->in + 8) & OFFERED;
	return &c->p;
}
