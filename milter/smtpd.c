/*
 * smtpd - mvmtr-smtpd's SMTP server (RFC 5321): one connection, as
 * tcpserver hands it over, in place of qmail-smtpd. The policy is the
 * milter's (session.c), run at the same stages with the same arguments:
 * connect when the client arrives, helo, envfrom at MAIL, envrcpt at
 * RCPT, data at DATA, then header (the first one the Received: field
 * this server adds, as Postfix shows its own to a milter), eoh, body
 * and eom once the message is in; unknown for a command it does not
 * know, abort at RSET or a message given up, close at the end. A
 * decision answers the command it was made at; the changes queued by
 * the hooks are made to the message before it is queued.
 *
 * qmail-smtpd's controls (qmail_ctl.c) and environment are honoured as
 * it honours them: rcpthosts unless RELAYCLIENT is set (whose value is
 * appended to each recipient), badmailfrom (answered at RCPT),
 * databytes (DATABYTES first), localiphost, timeoutsmtpd, the
 * greeting; a bare LF in a message ends the connection with qmail's
 * 451; 100 Received:/Delivered-To: fields are a loop; the message goes
 * to qmail-queue (struct smtpd_io's queue) with a Received: field in
 * qmail-smtpd's form, and qmail-queue's failures are answered with
 * qmail's texts. Where this server is stricter than qmail-smtpd (a
 * command line over 512 bytes, a second MAIL, HELO without a name, a
 * syntax qmail-smtpd lets pass, more than max_rcpts recipients) it
 * follows RFC 5321; mvmtr(8) RECEIVER lists each difference.
 *
 * ESMTP: PIPELINING (answers are written when the input runs dry),
 * 8BITMIME, SIZE. Replies with enhanced status codes (RFC 3463) where
 * mvmtr's policy gives them.
 *
 * DIAGNOSTICS: decisions are logged as the milter logs them; the
 * return value is the exit status: 0 after QUIT or the client's end,
 * 1 after a timeout, a read error, a bare LF or running out of memory.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "msg/msg.h"
#include "smtpd.h"

#define CMD_MAX		512		/* RFC 5321 4.5.3.1.4, with CRLF */
#define ADDR_MAX	900		/* qmail-smtpd's */
#define MAX_HOPS	100		/* qmail-smtpd's MAXHOPS */
#define MSG_HARD_MAX	(256u << 20)	/* held in memory: the most without databytes */
#define BODY_CHUNK	65535		/* a milter body chunk */

enum { R_LINE = 1, R_EOF = 0, R_LONG = -1, R_TIMEOUT = -2, R_ERROR = -3 };

struct smtpd {
	const struct smtpd_conf *conf;
	const struct smtpd_io *io;
	struct smtpd_policy *pol;
	char in[4096];
	size_t inpos, inlen;
	struct buf out;
	int dead;			/* a write failed: nothing more to say */
	/* the connection */
	struct reply refused;		/* connect's reject: every command gets it */
	int conn_refused;
	int conn_accepted;		/* an accept at connect or HELO: no more hooks */
	int conn_discard;
	char *helo;
	int esmtp;
	unsigned long msgno;
	char id[64];			/* this message's id, the {i} macro */
	/* the message */
	int seenmail;
	int bmf;			/* the sender is in badmailfrom */
	int msg_accepted, msg_discard;
	char *sender;
	char **rcpts;
	size_t nrcpts;
	const char *cur_rcpt;
	struct buf msg;			/* as queued: LF line ends, Received: first */
};

/* -- output */

static void
out(struct smtpd *sd, const char *s)
{
	buf_puts(&sd->out, s);
}

/* flush - what is written so far goes to the client */
static void
flush(struct smtpd *sd)
{
	if (sd->out.len > 0 && !sd->dead
	    && sd->io->write(sd->io->ctx, sd->out.data, sd->out.len) < 0)
		sd->dead = 1;
	buf_reset(&sd->out);
}

/* reply - CODE with XCODE (or none) and TEXT, a line of it per '\n'; a
 * line is stripped of control characters */
static void
reply(struct smtpd *sd, const char *code, const char *xcode, const char *text)
{
	const char *p = text, *nl;

	for (;;) {
		nl = strchr(p, '\n');
		if (nl != NULL && nl[1] == 0)
			nl = NULL;
		buf_printf(&sd->out, "%s%c", code, nl != NULL ? '-' : ' ');
		if (xcode != NULL && *xcode)
			buf_printf(&sd->out, "%s ", xcode);
		for (const char *c = p; *c && c != nl && *c != '\n'; c++)
			if ((unsigned char) *c >= 32 && *c != 127)
				buf_putc(&sd->out, *c);
		out(sd, "\r\n");
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* sd_log - a line about the connection and its message, starting with
 * the message's id (or NOQUEUE), as the milter's lines do */
static void
sd_log(const struct smtpd *sd, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
sd_log(const struct smtpd *sd, int priority, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	mtr_log(priority, "%s: %s", sd->seenmail ? sd->id : "NOQUEUE", line);
}

/* -- input */

/* fill - more input; the answers so far go out first (PIPELINING: a
 * client's batch is answered in one write) */
static int
fill(struct smtpd *sd)
{
	ssize_t n;

	flush(sd);
	if (sd->inpos > 0 && sd->inpos < sd->inlen)
		memmove(sd->in, sd->in + sd->inpos, sd->inlen - sd->inpos);
	sd->inlen -= sd->inpos;
	sd->inpos = 0;
	n = sd->io->read(sd->io->ctx, sd->in + sd->inlen, sizeof(sd->in) - sd->inlen,
			 sd->conf->timeout);
	if (n > 0)
		sd->inlen += (size_t) n;
	return n > 0 ? 1 : n == 0 ? R_EOF : n == -2 ? R_TIMEOUT : R_ERROR;
}

/* get_line - a command line into LINE (NUL-terminated, without CRLF or
 * LF; qmail-smtpd takes a bare LF there too): R_LINE, R_EOF, R_LONG
 * (the line was longer than CMD_MAX and was read to its end), R_TIMEOUT,
 * R_ERROR */
static int
get_line(struct smtpd *sd, char *line, size_t *len_r)
{
	size_t len = 0;
	int longline = 0, r;

	for (;;) {
		char *nl;
		size_t n;

		if (sd->inpos == sd->inlen && (r = fill(sd)) != 1)
			return r;
		nl = memchr(sd->in + sd->inpos, '\n', sd->inlen - sd->inpos);
		n = (nl ? (size_t) (nl - (sd->in + sd->inpos)) + 1 : sd->inlen - sd->inpos);
		if (!longline && len + n <= CMD_MAX) {
			memcpy(line + len, sd->in + sd->inpos, n);
			len += n;
		} else {
			longline = 1;
		}
		sd->inpos += n;
		if (nl != NULL)
			break;
	}
	if (longline)
		return R_LONG;
	len--;				/* the LF */
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = 0;
	*len_r = len;
	return R_LINE;
}

/* get_char - one byte of the message; R_LINE with *CH, or an R_ error */
static int
get_char(struct smtpd *sd, char *ch)
{
	int r;

	if (sd->inpos == sd->inlen && (r = fill(sd)) != 1)
		return r;
	*ch = sd->in[sd->inpos++];
	return R_LINE;
}

/* -- the policy */

/* macro - what mvmtr-smtpd gives for the milter macros a script asks for */
static const char *
macro(void *ctx, const char *name)
{
	struct smtpd *sd = ctx;
	const struct smtpd_conf *c = sd->conf;
	static char both[600];

	if (strcmp(name, "j") == 0)
		return c->ctl->me ? c->ctl->me : c->local;
	if (strcmp(name, "i") == 0)
		return sd->seenmail ? sd->id : NULL;
	if (strcmp(name, "_") == 0) {
		snprintf(both, sizeof(both), "%s [%s]", c->remotehost, c->remoteip);
		return both;
	}
	if (strcmp(name, "{client_addr}") == 0)
		return c->remoteip;
	if (strcmp(name, "{client_name}") == 0 || strcmp(name, "{client_ptr}") == 0)
		return c->remotehost;
	if (strcmp(name, "{daemon_name}") == 0)
		return "mvmtr-smtpd";
	if (strcmp(name, "{if_addr}") == 0)
		return c->localip;
	if (strcmp(name, "{if_name}") == 0)
		return c->local;
	if (strcmp(name, "{mail_addr}") == 0)
		return sd->sender;
	if (strcmp(name, "{rcpt_addr}") == 0)
		return sd->cur_rcpt;
	if (strcmp(name, "v") == 0)
		return "mvmtr-smtpd " PACKAGE_VERSION;
	return NULL;			/* {auth_authen} and the rest: none here */
}

static const char *const decision_names[] = {
	[DEC_CONTINUE] = "continue", [DEC_ACCEPT] = "accept", [DEC_REJECT] = "reject",
	[DEC_TEMPFAIL] = "tempfail", [DEC_DISCARD] = "discard",
};

/* log_decision - as the milter logs one (callbacks.c answer) */
static void
log_decision(struct smtpd *sd, enum decision d, const char *stage, const char *rcpt)
{
	const struct reply *r = sd->pol->reply(sd->pol);

	if (d == DEC_CONTINUE)
		return;
	sd_log(sd, LOG_INFO, "%s: %s from %s[%s]%s%s%s%s%s%s; from=<%s>%s%s%s",
		    decision_names[d], stage, sd->conf->remotehost, sd->conf->remoteip,
		    *r->code || *r->xcode || r->text ? ": " : "", r->code, *r->code ? " " : "",
		    r->xcode, *r->xcode ? " " : "", r->text ? r->text : "",
		    sd->sender ? sd->sender : "", rcpt ? " to=<" : "", rcpt ? rcpt : "",
		    rcpt ? ">" : "");
}

/* say_refusal - the reply for a reject or tempfail D the policy made;
 * DEF5 and DEF4 give the code, enhanced code and text it left out */
static void
say_refusal(struct smtpd *sd, enum decision d, const char *code5, const char *x5,
	    const char *code4, const char *x4)
{
	const struct reply *r = sd->pol->reply(sd->pol);
	const char *code = *r->code ? r->code : d == DEC_REJECT ? code5 : code4;
	const char *xcode = *r->xcode ? r->xcode : *r->code ? NULL : d == DEC_REJECT ? x5 : x4;
	const char *text = r->text ? r->text : d == DEC_REJECT ? "Rejected by policy"
	    : "Try again later";

	reply(sd, code, xcode, text);
}

/* decide - hook result D at STAGE: 1 when the command is refused (the
 * reply written), 0 when it goes on; accept and discard are noted for
 * the connection (CONN) or the message */
static int
decide(struct smtpd *sd, enum decision d, const char *stage, const char *rcpt, int conn)
{
	log_decision(sd, d, stage, rcpt);
	switch (d) {
	case DEC_REJECT:
		say_refusal(sd, d, "550", "5.7.1", "451", "4.7.1");
		return 1;
	case DEC_TEMPFAIL:
		say_refusal(sd, d, "550", "5.7.1", "451", "4.7.1");
		return 1;
	case DEC_ACCEPT:
		if (conn)
			sd->conn_accepted = 1;
		else
			sd->msg_accepted = 1;
		return 0;
	case DEC_DISCARD:
		if (conn)
			sd->conn_discard = 1;
		else
			sd->msg_discard = 1;
		return 0;
	default:
		return 0;
	}
}

/* hooks_on - the policy still has a say in this message */
static int
hooks_on(const struct smtpd *sd)
{
	return !sd->conn_accepted && !sd->msg_accepted && !sd->msg_discard && !sd->conn_discard;
}

/* -- the message state */

static void
message_reset(struct smtpd *sd)
{
	for (size_t i = 0; i < sd->nrcpts; i++)
		free(sd->rcpts[i]);
	free(sd->rcpts);
	sd->rcpts = NULL;
	sd->nrcpts = 0;
	free(sd->sender);
	sd->sender = NULL;
	sd->seenmail = 0;
	sd->bmf = 0;
	sd->msg_accepted = 0;
	sd->msg_discard = 0;
	buf_reset(&sd->msg);
}

/* message_abort - the message is given up: the policy's abort hook */
static void
message_abort(struct smtpd *sd)
{
	if (sd->seenmail)
		sd->pol->abort(sd->pol);
	message_reset(sd);
}

/* message_done - the message was answered at its end */
static void
message_done(struct smtpd *sd)
{
	sd->pol->message_done(sd->pol);
	message_reset(sd);
}

/* -- address parsing */

/* parse_path - "FROM:" or "TO:" (WHAT), then <path> and ESMTP
 * parameters, into ADDR (quotes and backslashes taken off, a source
 * route dropped, as qmail-smtpd's addrparse) and PARAMS (the rest, split
 * at spaces, NULL-terminated, pointing into ARG). 0, or -1 (syntax) */
static int
parse_path(char *arg, const char *what, char *addr, char **params, size_t maxparams)
{
	size_t wl = strlen(what), n = 0, np = 0;
	char *p, term = '>';
	int esc = 0, quoted = 0;

	if (strncasecmp(arg, what, wl) != 0)
		return -1;
	p = arg + wl;
	while (*p == ' ')
		p++;
	if (*p == '<')
		p++;
	else
		term = ' ';		/* no brackets: qmail-smtpd takes it */
	if (*p == '@')			/* a source route */
		while (*p && *p++ != ':')
			;
	for (; *p; p++) {
		if (esc) {
			esc = 0;
		} else if (*p == '\\') {
			esc = 1;
			continue;
		} else if (*p == '"') {
			quoted = !quoted;
			continue;
		} else if (!quoted && *p == term) {
			p++;
			break;
		} else if (term == ' ' && *p == '>') {
			return -1;
		}
		if (n >= ADDR_MAX)
			return -1;
		addr[n++] = *p;
	}
	if (term == '>' && p[-1] != '>')
		return -1;		/* no closing bracket */
	addr[n] = 0;
	for (char *save = NULL, *tok = strtok_r(p, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		if (np + 1 >= maxparams)
			return -1;
		params[np++] = tok;
	}
	params[np] = NULL;
	for (size_t i = 0; addr[i]; i++)
		if ((unsigned char) addr[i] < 32 || addr[i] == 127)
			return -1;
	return 0;
}

/* is_me - IP is an address of this host (for localiphost) */
static int
is_me(const struct smtpd *sd, const char *ip)
{
	struct ifaddrs *ifa, *i;
	char a[INET6_ADDRSTRLEN];
	int me = sd->conf->localip != NULL && strcmp(ip, sd->conf->localip) == 0;

	if (me || getifaddrs(&ifa) < 0)
		return me;
	for (i = ifa; i != NULL && !me; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *) i->ifa_addr)->sin_addr, a, sizeof(a));
		me = strcmp(a, ip) == 0;
	}
	freeifaddrs(ifa);
	return me;
}

/* localiphost - user@[a.b.c.d] for an address of ours is user@localiphost */
static void
localiphost(struct smtpd *sd, char *addr)
{
	char *at = strrchr(addr, '@');
	size_t len;
	char ip[64];

	if (at == NULL || at[1] != '[' || sd->conf->ctl->localiphost == NULL)
		return;
	len = strlen(at + 2);
	if (len < 2 || len >= sizeof(ip) || at[1 + len] != ']')
		return;
	memcpy(ip, at + 2, len - 1);
	ip[len - 1] = 0;
	if (is_me(sd, ip) && (size_t) (at + 1 - addr) + strlen(sd->conf->ctl->localiphost) < ADDR_MAX)
		strcpy(at + 1, sd->conf->ctl->localiphost);
}

/* argv_of - ADDR in angle brackets and PARAMS, as a milter hook gets
 * them; into V (room for N), pointing into STORE */
static char **
argv_of(const char *addr, char **params, char *store, size_t storesize, char **v, size_t n)
{
	size_t i = 0;

	snprintf(store, storesize, "<%s>", addr);
	v[i++] = store;
	for (; params[i - 1] != NULL && i + 1 < n; i++)
		v[i] = params[i - 1];
	v[i] = NULL;
	return v;
}

/* -- the commands */

static void
cmd_helo(struct smtpd *sd, char *arg, int esmtp)
{
	unsigned long size = sd->conf->databytes;

	if (*arg == 0) {
		reply(sd, "501", "5.5.4", esmtp ? "EHLO needs a domain" : "HELO needs a domain");
		return;
	}
	message_abort(sd);
	if (!sd->conn_accepted && decide(sd, sd->pol->helo(sd->pol, arg), "HELO", NULL, 1))
		return;
	free(sd->helo);
	sd->helo = strdup(arg);
	sd->esmtp = esmtp;
	if (!esmtp) {
		buf_printf(&sd->out, "250 %s\r\n", sd->conf->ctl->greeting);
		return;
	}
	buf_printf(&sd->out, "250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n", sd->conf->ctl->greeting);
	if (size > 0)
		buf_printf(&sd->out, "250 SIZE %lu\r\n", size);
	else
		out(sd, "250 SIZE\r\n");
}

static void
cmd_mail(struct smtpd *sd, char *arg)
{
	char addr[ADDR_MAX + 1], *params[32], *argv[34], store[ADDR_MAX + 3];
	unsigned long size = 0;

	if (sd->seenmail) {
		reply(sd, "503", "5.5.1", "nested MAIL command");
		return;
	}
	if (parse_path(arg, "FROM:", addr, params, 32) < 0) {
		reply(sd, "555", "5.5.4", "syntax error, MAIL FROM:<address>");
		return;
	}
	for (size_t i = 0; params[i] != NULL; i++) {
		if (strncasecmp(params[i], "SIZE=", 5) == 0) {
			size = strtoul(params[i] + 5, NULL, 10);
		} else if (strcasecmp(params[i], "BODY=8BITMIME") != 0
			   && strcasecmp(params[i], "BODY=7BIT") != 0) {
			reply(sd, "555", "5.5.4", "unsupported MAIL parameter");
			return;
		}
	}
	if (sd->conf->databytes > 0 && size > sd->conf->databytes) {
		reply(sd, "552", "5.3.4", "sorry, that message size exceeds my databytes limit");
		return;
	}
	sd->msgno++;
	snprintf(sd->id, sizeof(sd->id), "%ld.%lu", (long) getpid(), sd->msgno);
	sd->seenmail = 1;
	if ((sd->sender = strdup(addr)) == NULL) {
		reply(sd, "421", "4.3.0", "out of memory");
		sd->dead = 1;
		return;
	}
	sd->bmf = qctl_badmailfrom(sd->conf->ctl, addr);
	if (hooks_on(sd)
	    && decide(sd, sd->pol->envfrom(sd->pol, argv_of(addr, params, store, sizeof(store), argv, 34)),
		      "MAIL", NULL, 0)) {
		message_abort(sd);
		return;
	}
	reply(sd, "250", "2.1.0", "ok");
}

static void
cmd_rcpt(struct smtpd *sd, char *arg)
{
	char addr[ADDR_MAX + 256], *params[32], *argv[34], store[sizeof(addr) + 2];
	const char *rc = sd->conf->relayclient;
	char **more;
	int allowed;

	if (!sd->seenmail) {
		reply(sd, "503", "5.5.1", "MAIL first");
		return;
	}
	if (parse_path(arg, "TO:", addr, params, 32) < 0) {
		reply(sd, "555", "5.5.4", "syntax error, RCPT TO:<address>");
		return;
	}
	for (size_t i = 0; params[i] != NULL; i++)
		if (strncasecmp(params[i], "NOTIFY=", 7) != 0 && strncasecmp(params[i], "ORCPT=", 6) != 0) {
			reply(sd, "555", "5.5.4", "unsupported RCPT parameter");
			return;
		}
	localiphost(sd, addr);
	if (sd->bmf) {
		reply(sd, "553", "5.7.1", "sorry, your envelope sender is in my badmailfrom list");
		return;
	}
	if (rc != NULL) {
		if (strlen(addr) + strlen(rc) >= sizeof(addr)) {
			reply(sd, "555", "5.5.4", "syntax error, address too long");
			return;
		}
		strcat(addr, rc);
	} else if ((allowed = qctl_rcpt_allowed(sd->conf->ctl, addr)) <= 0) {
		if (allowed < 0) {
			mtr_log(LOG_ERR, "morercpthosts.cdb cannot be read as a cdb; "
				"answering 421");
			reply(sd, "421", "4.3.0", "unable to read controls");
			sd->dead = 1;
			return;
		}
		reply(sd, "553", "5.7.1", "sorry, that domain isn't in my list of allowed rcpthosts");
		return;
	}
	if (sd->nrcpts >= sd->conf->max_rcpts) {
		reply(sd, "452", "4.5.3", "too many recipients");
		return;
	}
	sd->cur_rcpt = addr;
	if (hooks_on(sd)
	    && decide(sd, sd->pol->envrcpt(sd->pol, argv_of(addr, params, store, sizeof(store), argv, 34)),
		      "RCPT", addr, 0)) {
		sd->cur_rcpt = NULL;
		return;
	}
	sd->cur_rcpt = NULL;
	if ((more = realloc(sd->rcpts, (sd->nrcpts + 1) * sizeof(*more))) == NULL
	    || (more[sd->nrcpts] = strdup(addr)) == NULL) {
		if (more != NULL)
			sd->rcpts = more;
		reply(sd, "421", "4.3.0", "out of memory");
		sd->dead = 1;
		return;
	}
	sd->rcpts = more;
	sd->nrcpts++;
	reply(sd, "250", "2.1.5", "ok");
}

/* utc_date - NOW as "06 Dec 2026 21:40:15 -0000" in DATE: the message
 * model's civil date, because gmtime_r() and strftime() would first read
 * /etc/localtime, a cost on every connection for a zone the field does
 * not use */
static void
utc_date(time_t now, char *date, size_t size)
{
	static const char months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};
	struct date_time dt;

	date_from_epoch((int64_t) now, 0, &dt);
	snprintf(date, size, "%02d %s %d %02d:%02d:%02d -0000", dt.day, months[dt.month - 1],
		 dt.year, dt.hour, dt.minute, dt.second);
}

/* received - the Received: field, in qmail-smtpd's form (what
 * $received_ips() and qmail's tools read): the HELO only when it is not
 * the host's name, every character not safe in it as '?' */
static void
received(struct smtpd *sd)
{
	static const char safe[] = ".@%+/=:-[]";
	const struct smtpd_conf *c = sd->conf;
	char date[64];

#define SAFE(str) for (const char *p_ = (str); *p_; p_++) \
		buf_putc(&sd->msg, isalnum((unsigned char) *p_) || strchr(safe, *p_) ? *p_ : '?')
	buf_puts(&sd->msg, "Received: from ");
	SAFE(c->remotehost);
	if (sd->helo != NULL && strcasecmp(sd->helo, c->remotehost) != 0) {
		buf_puts(&sd->msg, " (HELO ");
		SAFE(sd->helo);
		buf_putc(&sd->msg, ')');
	}
	buf_puts(&sd->msg, " (");
	if (c->remoteinfo != NULL) {
		SAFE(c->remoteinfo);
		buf_putc(&sd->msg, '@');
	}
	SAFE(c->remoteip);
	buf_puts(&sd->msg, ")\n  by ");
	SAFE(c->local);
	utc_date(time(NULL), date, sizeof(date));
	buf_printf(&sd->msg, " with %s; %s\n", sd->esmtp ? "ESMTP" : "SMTP", date);
#undef SAFE
}

/* read_data - the message up to "." into sd->msg after the Received:
 * field, as qmail-smtpd's blast reads it: CRLF becomes LF, a dot at a
 * line's start is taken off, a bare LF ends the connection. *TOO_BIG
 * when databytes was passed (the rest is read and dropped), *HOPS the
 * Received: and Delivered-To: fields of the header. R_LINE at ".", or
 * an R_ error, or 2 for a bare LF */
static int
read_data(struct smtpd *sd, int *too_big, int *hops)
{
	unsigned long limit = sd->conf->databytes ? sd->conf->databytes : MSG_HARD_MAX;
	size_t count = 0, pos = 0;
	int state = 1, inheader = 1, r;
	char line8[10];

	*too_big = 0;
	*hops = 0;
	for (;;) {
		char ch;

		if ((r = get_char(sd, &ch)) != R_LINE)
			return r;
		/* the header's Received: and Delivered-To: lines, by their
		 * first bytes, as qmail-smtpd counts them */
		if (inheader) {
			if (pos < 9)
				line8[pos] = (char) tolower((unsigned char) ch);
			pos++;
			if (pos == 8 && memcmp(line8, "received", 8) == 0)
				++*hops;
			if (pos == 9 && memcmp(line8, "delivered", 9) == 0)
				++*hops;
			if (ch == '\n') {
				if (pos <= 2 && (pos == 1 || line8[0] == '\r'))
					inheader = 0;
				pos = 0;
			}
		}
		switch (state) {
		case 0:		/* in a line */
			if (ch == '\n')
				return 2;
			if (ch == '\r') {
				state = 4;
				continue;
			}
			break;
		case 1:		/* at a line's start */
			if (ch == '\n')
				return 2;
			if (ch == '.') {
				state = 2;
				continue;
			}
			if (ch == '\r') {
				state = 4;
				continue;
			}
			state = 0;
			break;
		case 2:		/* "." at a line's start */
			if (ch == '\n')
				return 2;
			if (ch == '\r') {
				state = 3;
				continue;
			}
			state = 0;
			break;
		case 3:		/* ".\r" at a line's start */
			if (ch == '\n')
				return R_LINE;
			count += 2;
			if (count <= limit)
				buf_append(&sd->msg, ".\r", 2);
			if (ch == '\r') {
				state = 4;
				continue;
			}
			state = 0;
			break;
		case 4:		/* after "\r" */
			if (ch == '\n') {
				state = 1;
				break;
			}
			if (ch != '\r') {
				if (++count <= limit)
					buf_putc(&sd->msg, '\r');
				state = 0;
			} else {
				if (++count <= limit)
					buf_putc(&sd->msg, '\r');
				continue;
			}
		}
		if (++count <= limit)
			buf_putc(&sd->msg, ch);
		else
			*too_big = 1;
	}
}

/* -- the message's header, for the hooks and the changes */

struct field {
	size_t off, len;		/* the whole field, with its last LF */
	size_t namelen;
	int gone;
	char *replacement;		/* "Name: value\n", or NULL */
};

/* fields - the header of TEXT (LEN bytes): up to the empty line, or up
 * to a line that is not a field; *BODY where the body starts */
static struct field *
fields(const char *text, size_t len, size_t *n_r, size_t *body)
{
	struct field *v = NULL;
	size_t n = 0, p = 0;

	while (p < len && text[p] != '\n') {
		const char *colon, *nl;
		size_t end, namelen;
		struct field *more;

		if (text[p] == ' ' || text[p] == '\t')
			break;		/* a continuation with no field: the body */
		nl = memchr(text + p, '\n', len - p);
		colon = memchr(text + p, ':', (nl ? (size_t) (nl - text) : len) - p);
		if (colon == NULL || colon == text + p)
			break;
		namelen = (size_t) (colon - (text + p));
		for (size_t i = 0; i < namelen; i++)
			if ((unsigned char) text[p + i] <= 32 || (unsigned char) text[p + i] >= 127)
				namelen = 0;
		if (namelen == 0)
			break;
		/* the field goes on over lines that start with white space */
		for (end = nl ? (size_t) (nl - text) + 1 : len;
		     end < len && (text[end] == ' ' || text[end] == '\t');) {
			nl = memchr(text + end, '\n', len - end);
			end = nl ? (size_t) (nl - text) + 1 : len;
		}
		if ((more = realloc(v, (n + 1) * sizeof(*v))) == NULL) {
			free(v);
			return NULL;
		}
		v = more;
		v[n].off = p;
		v[n].len = end - p;
		v[n].namelen = namelen;
		v[n].gone = 0;
		v[n].replacement = NULL;
		n++;
		p = end;
	}
	*n_r = n;
	*body = p < len && text[p] == '\n' ? p + 1 : p;
	return v != NULL ? v : calloc(1, sizeof(*v));
}

/* content_hooks - header, eoh, body and eom for the message in sd->msg;
 * the decision (the first refusal wins) */
static enum decision
content_hooks(struct smtpd *sd, struct field *f, size_t nf, size_t body)
{
	unsigned wants = sd->pol->wants(sd->pol);
	const char *text = sd->msg.data;
	size_t len = sd->msg.len;
	enum decision d;
	char chunk[BODY_CHUNK + 1];

	if (wants & SMTPD_WANT_HEADERS) {
		for (size_t i = 0; i < nf; i++) {
			char name[1024];
			char *value;
			size_t vs = f[i].off + f[i].namelen + 1, ve = f[i].off + f[i].len - 1;

			snprintf(name, sizeof(name), "%.*s", (int) f[i].namelen, text + f[i].off);
			while (vs < ve && (text[vs] == ' ' || text[vs] == '\t'))
				vs++;
			if ((value = strndup(text + vs, ve - vs)) == NULL)
				return DEC_TEMPFAIL;
			d = sd->pol->header(sd->pol, name, value);
			free(value);
			if (d != DEC_CONTINUE)
				return d;
		}
	}
	if (wants & SMTPD_WANT_EOH)
		if ((d = sd->pol->eoh(sd->pol)) != DEC_CONTINUE)
			return d;
	if (wants & SMTPD_WANT_BODY) {
		/* in SMTP's form, CRLF, as a milter gets it */
		size_t n = 0;

		for (size_t p = body; p <= len; p++) {
			if (p == len || n + 2 > BODY_CHUNK) {
				if (n > 0 && (d = sd->pol->body(sd->pol, (unsigned char *) chunk, n)) != DEC_CONTINUE)
					return d;
				n = 0;
				if (p == len)
					break;
			}
			if (text[p] == '\n')
				chunk[n++] = '\r';
			chunk[n++] = text[p];
		}
	}
	return sd->pol->eom(sd->pol);
}

/* same_addr - A and B, each maybe in angle brackets, are one address */
static int
same_addr(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la >= 2 && a[0] == '<' && a[la - 1] == '>')
		a++, la -= 2;
	if (lb >= 2 && b[0] == '<' && b[lb - 1] == '>')
		b++, lb -= 2;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* bare - ADDR without angle brackets, malloc'd */
static char *
bare(const char *addr)
{
	size_t l = strlen(addr);

	if (l >= 2 && addr[0] == '<' && addr[l - 1] == '>')
		return strndup(addr + 1, l - 2);
	return strdup(addr);
}

/* apply_changes - the changes the hooks queued, made to sd->msg, the
 * envelope; 0, or -1 (a change this server cannot make: quarantine, or
 * memory) with WHY */
static int
apply_changes(struct smtpd *sd, const char **why)
{
	struct buf text = BUF_INIT, newbody = BUF_INIT, added = BUF_INIT;
	struct field *f;
	size_t nf, body, ninsert = 0;
	int body_changed = 0, rc = -1;
	struct {
		size_t before;
		char *line;
	} *ins = NULL;

	if (sd->pol->changes(sd->pol) == NULL)
		return 0;
	if ((f = fields(sd->msg.data, sd->msg.len, &nf, &body)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	for (const struct change *c = sd->pol->changes(sd->pol); c != NULL; c = c->next) {
		switch (c->kind) {
		case CHG_HEADER_ADD:
			buf_printf(&added, "%s: %s\n", c->name, c->value ? c->value : "");
			break;
		case CHG_HEADER_INSERT: {
			void *more = realloc(ins, (ninsert + 1) * sizeof(*ins));

			if (more == NULL)
				goto nomem;
			ins = more;
			ins[ninsert].before = c->index < 0 ? 0 : (size_t) c->index;
			if ((ins[ninsert].line = malloc(strlen(c->name) + c->value_len + 4)) == NULL)
				goto nomem;
			sprintf(ins[ninsert].line, "%s: %s\n", c->name, c->value ? c->value : "");
			ninsert++;
			break;
		}
		case CHG_HEADER_CHANGE: {
			int seen = 0, done = 0;

			for (size_t i = 0; i < nf && !done; i++) {
				if (f[i].namelen != strlen(c->name)
				    || strncasecmp(sd->msg.data + f[i].off, c->name, f[i].namelen) != 0
				    || ++seen != (c->index > 0 ? c->index : 1))
					continue;
				free(f[i].replacement);
				f[i].replacement = NULL;
				if (c->value_len == 0) {
					f[i].gone = 1;
				} else {
					f[i].gone = 0;
					if ((f[i].replacement = malloc(strlen(c->name) + c->value_len + 4)) == NULL)
						goto nomem;
					sprintf(f[i].replacement, "%s: %s\n", c->name, c->value);
				}
				done = 1;
			}
			/* no such field (or not that many): added, as libmilter's
			 * smfi_chgheader and Postfix do */
			if (!done && c->value_len > 0)
				buf_printf(&added, "%s: %s\n", c->name, c->value);
			break;
		}
		case CHG_RCPT_ADD: {
			char **more = realloc(sd->rcpts, (sd->nrcpts + 1) * sizeof(*more));

			if (more == NULL)
				goto nomem;
			sd->rcpts = more;
			if ((sd->rcpts[sd->nrcpts] = bare(c->name)) == NULL)
				goto nomem;
			sd->nrcpts++;
			break;
		}
		case CHG_RCPT_DELETE:
			for (size_t i = 0; i < sd->nrcpts; i++)
				if (same_addr(sd->rcpts[i], c->name)) {
					free(sd->rcpts[i]);
					memmove(sd->rcpts + i, sd->rcpts + i + 1,
						(sd->nrcpts - i - 1) * sizeof(*sd->rcpts));
					sd->nrcpts--;
					i--;
				}
			break;
		case CHG_SENDER: {
			char *s = bare(c->name);

			if (s == NULL)
				goto nomem;
			free(sd->sender);
			sd->sender = s;
			break;
		}
		case CHG_BODY:
			/* in SMTP's form (CRLF) as a milter gives it: LF here */
			body_changed = 1;
			for (size_t i = 0; i < c->value_len; i++)
				if (!(c->value[i] == '\r' && i + 1 < c->value_len && c->value[i + 1] == '\n'))
					buf_putc(&newbody, c->value[i]);
			break;
		case CHG_QUARANTINE:
			*why = "quarantine has no meaning for mvmtr-smtpd: qmail has no hold "
			    "queue (mvmtr(8) RECEIVER)";
			goto out;
		}
	}
	/* the header again, with the changes */
	for (size_t i = 0; i <= nf; i++) {
		for (size_t k = 0; k < ninsert; k++)
			if (ins[k].before == i || (i == nf && ins[k].before > nf))
				buf_puts(&text, ins[k].line);
		if (i == nf)
			break;
		if (f[i].gone)
			continue;
		if (f[i].replacement != NULL)
			buf_puts(&text, f[i].replacement);
		else
			buf_append(&text, sd->msg.data + f[i].off, f[i].len);
	}
	buf_append(&text, added.data, added.len);
	buf_putc(&text, '\n');
	if (body_changed)
		buf_append(&text, newbody.data, newbody.len);
	else
		buf_append(&text, sd->msg.data + body, sd->msg.len - body);
	if (text.failed)
		goto nomem;
	buf_free(&sd->msg);
	sd->msg = text;
	text = (struct buf) BUF_INIT;
	rc = 0;
	goto out;
nomem:
	*why = "out of memory";
out:
	for (size_t i = 0; i < nf; i++)
		free(f[i].replacement);
	free(f);
	for (size_t k = 0; k < ninsert; k++)
		free(ins[k].line);
	free(ins);
	buf_free(&text);
	buf_free(&newbody);
	buf_free(&added);
	return rc;
}

/* queue - hand the message to qmail-queue; the reply, qmail-smtpd's */
static void
queue(struct smtpd *sd)
{
	char err[300];
	unsigned long qp = 0;

	if (sd->io->queue(sd->io->ctx, sd->msg.data, sd->msg.len, sd->sender ? sd->sender : "",
			  sd->rcpts, sd->nrcpts, &qp, err, sizeof(err)) == 0) {
		sd_log(sd, LOG_INFO, "queued: qp %lu from=<%s> nrcpt=%zu size=%zu", qp,
			    sd->sender, sd->nrcpts, sd->msg.len);
		buf_printf(&sd->out, "250 ok %ld qp %lu\r\n", (long) time(NULL), qp);
		return;
	}
	sd_log(sd, LOG_WARNING, "qmail-queue: %s", err[0] ? err + 1 : "failed");
	reply(sd, err[0] == 'D' ? "554" : "451", NULL, err[0] ? err + 1 : "qq temporary problem (#4.3.0)");
}

static int
cmd_data(struct smtpd *sd, char *arg)
{
	int too_big, hops, r;
	enum decision d;
	struct field *f;
	size_t nf, body;
	const char *why;

	(void) arg;
	if (!sd->seenmail) {
		reply(sd, "503", "5.5.1", "MAIL first");
		return 0;
	}
	if (sd->nrcpts == 0) {
		reply(sd, "503", "5.5.1", "RCPT first");
		return 0;
	}
	if (hooks_on(sd) && decide(sd, sd->pol->data(sd->pol), "DATA", NULL, 0)) {
		message_done(sd);
		return 0;
	}
	reply(sd, "354", NULL, "go ahead");
	buf_reset(&sd->msg);
	received(sd);
	if ((r = read_data(sd, &too_big, &hops)) != R_LINE) {
		if (r == 2) {
			reply(sd, "451", NULL, "See https://cr.yp.to/docs/smtplf.html.");
			sd_log(sd, LOG_NOTICE, "a bare LF in the message from %s[%s]; "
			       "closing the connection", sd->conf->remotehost, sd->conf->remoteip);
		} else if (r == R_TIMEOUT) {
			reply(sd, "451", "4.4.2", "timeout");
		}
		message_abort(sd);
		flush(sd);
		return 1;
	}
	if (too_big) {
		reply(sd, "552", "5.3.4", "sorry, that message size exceeds my databytes limit");
		message_abort(sd);
		return 0;
	}
	if (hops >= MAX_HOPS) {
		reply(sd, "554", "5.4.6", "too many hops, this message is looping");
		message_abort(sd);
		return 0;
	}
	if (sd->msg.failed) {
		reply(sd, "451", "4.3.0", "out of memory");
		message_abort(sd);
		return 0;
	}
	if (hooks_on(sd)) {
		if ((f = fields(sd->msg.data, sd->msg.len, &nf, &body)) == NULL) {
			reply(sd, "451", "4.3.0", "out of memory");
			message_abort(sd);
			return 0;
		}
		d = content_hooks(sd, f, nf, body);
		free(f);
		if (decide(sd, d, "END-OF-MESSAGE", NULL, 0)) {
			message_done(sd);
			return 0;
		}
	}
	if (sd->msg_discard || sd->conn_discard) {
		sd_log(sd, LOG_INFO, "discarded: from=<%s> nrcpt=%zu", sd->sender, sd->nrcpts);
		buf_printf(&sd->out, "250 ok %ld discarded\r\n", (long) time(NULL));
		message_done(sd);
		return 0;
	}
	if (apply_changes(sd, &why) < 0) {
		sd_log(sd, LOG_ERR, "%s; answering tempfail", why);
		reply(sd, "451", "4.3.0", "Mail filter could not change the message");
		message_done(sd);
		return 0;
	}
	if (sd->nrcpts == 0) {
		sd_log(sd, LOG_INFO, "no recipient left after the changes: discarded");
		buf_printf(&sd->out, "250 ok %ld discarded\r\n", (long) time(NULL));
	} else {
		queue(sd);
	}
	message_done(sd);
	return 0;
}

/* -- the dialogue */

/* connect - the client arrives: the connect hook, then the greeting;
 * 0, or 1 when the connection ends here */
static int
connect_client(struct smtpd *sd)
{
	const struct smtpd_conf *c = sd->conf;
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *) &ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
	const struct sockaddr *sa = NULL;
	enum decision d;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, c->remoteip, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		sa = (struct sockaddr *) in;
	} else if (inet_pton(AF_INET6, c->remoteip, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		sa = (struct sockaddr *) in6;
	}
	d = sd->pol->connect(sd->pol, c->remotehost, sa);
	log_decision(sd, d, "CONNECT", NULL);
	switch (d) {
	case DEC_TEMPFAIL:
		say_refusal(sd, d, "554", "5.7.1", "421", "4.7.1");
		return 1;
	case DEC_REJECT:
		/* RFC 5321 3.1: 554 instead of 220, then wait for QUIT */
		sd->conn_refused = 1;
		sd->refused = *sd->pol->reply(sd->pol);
		if (sd->refused.text != NULL && (sd->refused.text = strdup(sd->refused.text)) == NULL)
			return 1;
		reply(sd, *sd->refused.code == '5' ? sd->refused.code : "554",
		      *sd->refused.xcode ? sd->refused.xcode : "5.7.1",
		      sd->refused.text ? sd->refused.text : "Rejected by policy");
		return 0;
	case DEC_ACCEPT:
		sd->conn_accepted = 1;
		break;
	case DEC_DISCARD:
		sd->conn_discard = 1;
		break;
	default:
		break;
	}
	buf_printf(&sd->out, "220 %s ESMTP\r\n", c->ctl->greeting);
	return 0;
}

/* smtpd_run - one SMTP connection on IO, asking POLICY (freed here);
 * the exit status */
int
smtpd_run(const struct smtpd_conf *conf, const struct smtpd_io *io, struct smtpd_policy *policy)
{
	struct smtpd *sd = calloc(1, sizeof(*sd));
	char line[CMD_MAX + 1], whole[CMD_MAX + 1];
	size_t len = 0;
	int status = 0, r;

	if (sd == NULL || policy == NULL) {
		const char *nomem = "421 out of memory (#4.3.0)\r\n";

		io->write(io->ctx, nomem, strlen(nomem));
		free(sd);
		if (policy != NULL)
			policy->free(policy);
		return 1;
	}
	sd->conf = conf;
	sd->io = io;
	sd->pol = policy;
	policy->macro = macro;
	policy->macro_ctx = sd;
	if (connect_client(sd)) {
		flush(sd);
		goto done;
	}
	while (!sd->dead) {
		char *verb, *arg;

		r = get_line(sd, line, &len);
		if (r == R_EOF || r == R_ERROR) {
			status = r == R_ERROR;
			break;
		}
		if (r == R_TIMEOUT) {
			reply(sd, "451", "4.4.2", "timeout");
			status = 1;
			break;
		}
		if (r == R_LONG) {
			reply(sd, "500", "5.5.2", "line too long");
			continue;
		}
		if (memchr(line, 0, len) != NULL) {
			reply(sd, "500", "5.5.2", "syntax error, a NUL in the command");
			continue;
		}
		memcpy(whole, line, len + 1);
		verb = line;
		arg = line + strcspn(line, " ");
		if (*arg)
			*arg++ = 0;
		if (strcasecmp(verb, "QUIT") == 0) {
			buf_printf(&sd->out, "221 %s\r\n", conf->ctl->greeting);
			break;
		}
		if (sd->conn_refused) {
			reply(sd, *sd->refused.code == '5' ? sd->refused.code : "554",
			      *sd->refused.xcode ? sd->refused.xcode : "5.7.1",
			      sd->refused.text ? sd->refused.text : "Rejected by policy");
			continue;
		}
		if (strcasecmp(verb, "HELO") == 0 || strcasecmp(verb, "EHLO") == 0)
			cmd_helo(sd, arg, toupper((unsigned char) verb[0]) == 'E');
		else if (strcasecmp(verb, "MAIL") == 0)
			cmd_mail(sd, arg);
		else if (strcasecmp(verb, "RCPT") == 0)
			cmd_rcpt(sd, arg);
		else if (strcasecmp(verb, "DATA") == 0) {
			if (cmd_data(sd, arg)) {
				status = 1;
				break;
			}
		} else if (strcasecmp(verb, "RSET") == 0) {
			message_abort(sd);
			out(sd, "250 flushed\r\n");
		} else if (strcasecmp(verb, "NOOP") == 0)
			out(sd, "250 ok\r\n");
		else if (strcasecmp(verb, "VRFY") == 0)
			out(sd, "252 send some mail, i'll try my best\r\n");
		else if (strcasecmp(verb, "HELP") == 0)
			out(sd, "214 mvmtr-smtpd, see mvmtr(8)\r\n");
		else if (!sd->conn_accepted && decide(sd, sd->pol->unknown(sd->pol, whole), "UNKNOWN", NULL, 1))
			;
		else
			out(sd, "502 unimplemented (#5.5.1)\r\n");
	}
	flush(sd);
done:
	message_abort(sd);
	sd->pol->close(sd->pol);
	sd->pol->free(sd->pol);
	free(sd->helo);
	free(sd->refused.text);
	buf_free(&sd->out);
	buf_free(&sd->msg);
	free(sd);
	return status;
}
