/*
 * engine - the milter protocol, filter side: the listening socket, a
 * thread per MTA connection, the commands read, the callbacks called,
 * the replies and message changes written.
 *
 * The protocol (Sendmail's libmilter protocol, version 6, as Postfix
 * speaks it): packets of a 4-byte length in network order, a command
 * byte and its data. The MTA negotiates once per connection, then sends
 * macros ('D', never answered) ahead of the command they belong to and
 * one command per SMTP step; each is answered unless negotiated away
 * (NR_*). At end of message the filter's changes precede its decision.
 *
 * Threads: each thread accepts a connection itself and serves it to the
 * end, then accepts the next one, so a connection costs no hand-off
 * between threads; when no thread is left waiting in accept() the one
 * that took the last connection starts another (up to MAX_THREADS).
 * Threads beyond MIN_THREADS end after IDLE_SECONDS without work, each
 * claiming its end from the count (may_end), never the last one waiting.
 * Replies are collected and written in one write() before the thread
 * reads again; reads take whatever the socket holds, several commands
 * at once when the MTA sent them (macros and their command do).
 *
 * DIAGNOSTICS: a malformed packet, an unknown command or a read or
 * write error ends that connection (logged); the MTA then applies its
 * milter_default_action (tempfail in contrib's settings). Nothing the
 * MTA sends is trusted: every length is checked against the packet.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "msg/msg.h"
#include "mvmtr.h"

#define MIN_THREADS	4
#define MAX_THREADS	4096
#define IDLE_SECONDS	60
#define STACK_SIZE	((size_t) 1 << 20)	/* the VM's frames are on the heap */
#define MAX_PACKET	(4 << 20)	/* the MTA sends up to 64 KB, or 1 MB (MDS) */
#define CHUNK		65535		/* a body replacement packet's data */
#define MAX_ARGS	64		/* MAIL/RCPT: the address and its parameters */
#define STOP_WAIT	10		/* seconds in-flight connections get at exit */

struct eng_ctx {
	int fd;
	const struct eng_filter *filter;
	void *priv;
	int negotiated;
	uint32_t version, mta_actions, mta_steps;
	uint32_t actions, steps;	/* agreed */
	char *macros[ENG_STAGES];	/* name\0value\0... as sent */
	size_t macros_len[ENG_STAGES];
	char *symlists[ENG_STAGES];
	char *reply;			/* "550 5.7.1 text", or several lines */
	int in_eom;
	int broken;			/* a write failed: stop */
	struct buf *out;		/* replies not yet written */
};

static const struct eng_filter *the_filter;
static int listen_fd = -1;
static int io_timeout = 7210;		/* libmilter's default, seconds */
static atomic_int stopping;
static atomic_int idle_threads, threads, active;
static int idle_seconds = IDLE_SECONDS;
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t run_cond = PTHREAD_COND_INITIALIZER;
static char unix_path[sizeof(((struct sockaddr_un *) 0)->sun_path)];

/* send_packet - queue command CMD with the parts given (strings get
 * their NUL when LENS[i] is (size_t) -1); written before the next read */
static int
send_packet(struct eng_ctx *ctx, int cmd, const void *const *parts,
	    const size_t *lens, size_t nparts)
{
	struct buf *out = ctx->out;
	size_t total = 1, start = out->len;

	for (size_t i = 0; i < nparts; i++)
		total += lens[i] == (size_t) -1 ? strlen(parts[i]) + 1 : lens[i];
	if (total > MAX_PACKET || buf_reserve(out, 4 + total) < 0)
		return -1;
	put_u32((unsigned char *) out->data + start, (uint32_t) total);
	out->data[start + 4] = (char) cmd;
	out->len += 5;
	for (size_t i = 0; i < nparts; i++) {
		size_t n = lens[i] == (size_t) -1 ? strlen(parts[i]) + 1 : lens[i];

		memcpy(out->data + out->len, parts[i], n);
		out->len += n;
	}
	return 0;
}

/* send_strings - queue CMD with up to three NUL-terminated strings */
static int
send_strings(struct eng_ctx *ctx, int cmd, const char *a, const char *b, const char *c)
{
	const void *parts[3] = { a, b, c };
	size_t lens[3] = { (size_t) -1, (size_t) -1, (size_t) -1 };

	return send_packet(ctx, cmd, parts, lens, a == NULL ? 0 : b == NULL ? 1 : c == NULL ? 2 : 3);
}

/* flush - write what is queued */
static int
flush(struct eng_ctx *ctx)
{
	struct buf *out = ctx->out;
	size_t done = 0;

	while (done < out->len) {
		/* without blocking: a reply fits in the socket's buffer, so
		 * the wait (for an MTA slow to read a large body) costs a
		 * poll() only when needed, not a timeout set per connection */
		ssize_t n = send(ctx->fd, out->data + done, out->len - done,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = ctx->fd, .events = POLLOUT };
			int ready = poll(&pfd, 1, io_timeout > 0 ? io_timeout * 1000 : -1);

			if (ready > 0 || (ready < 0 && errno == EINTR))
				continue;
			if (ready == 0)
				errno = ETIMEDOUT;
		}
		if (n <= 0) {
			mtr_log(LOG_WARNING, "milter connection: write: %s",
				n < 0 ? strerror(errno) : "nothing written");
			ctx->broken = 1;
			out->len = 0;
			return -1;
		}
		done += (size_t) n;
	}
	out->len = 0;
	return 0;
}

/* stage_of - the macro stage of command CMD, or -1 */
static int
stage_of(int cmd)
{
	switch (cmd) {
	case CMD_CONNECT: return ENG_AT_CONNECT;
	case CMD_HELO: return ENG_AT_HELO;
	case CMD_MAIL: return ENG_AT_MAIL;
	case CMD_RCPT: return ENG_AT_RCPT;
	case CMD_DATA: return ENG_AT_DATA;
	case CMD_BODYEOB: return ENG_AT_EOM;
	case CMD_EOH: return ENG_AT_EOH;
	}
	return -1;
}

/* clear_macros - forget the macros of stages FROM and later */
static void
clear_macros(struct eng_ctx *ctx, int from)
{
	for (int i = from; i < ENG_STAGES; i++) {
		free(ctx->macros[i]);
		ctx->macros[i] = NULL;
		ctx->macros_len[i] = 0;
	}
}

/* eng_getsymval - macro NAME's value, the latest stage first; a one
 * letter name and its braced form ("i", "{i}") are the same macro */
const char *
eng_getsymval(struct eng_ctx *ctx, const char *name)
{
	char alt[4] = "";
	size_t len = strlen(name);

	if (len == 1) {		/* "i" is also sent as "{i}", and back */
		alt[0] = '{';
		alt[1] = name[0];
		alt[2] = '}';
	} else if (len == 3 && name[0] == '{' && name[2] == '}') {
		alt[0] = name[1];
	}
	for (int i = ENG_STAGES - 1; i >= 0; i--) {
		const char *p = ctx->macros[i], *end;

		if (p == NULL)
			continue;
		for (end = p + ctx->macros_len[i]; p < end;) {
			const char *value = p + strlen(p) + 1;

			if (value >= end)
				break;
			if (strcmp(p, name) == 0 || (*alt && strcmp(p, alt) == 0))
				return value;
			p = value + strlen(value) + 1;
		}
	}
	return NULL;
}

void
eng_setpriv(struct eng_ctx *ctx, void *priv)
{
	ctx->priv = priv;
}

void *
eng_getpriv(struct eng_ctx *ctx)
{
	return ctx->priv;
}

/* eng_setsymlist - ask for LIST (space-separated macro names) at STAGE;
 * only while negotiating */
int
eng_setsymlist(struct eng_ctx *ctx, enum eng_stage stage, const char *list)
{
	char *copy;

	if ((unsigned) stage >= ENG_STAGES || list == NULL || (copy = strdup(list)) == NULL)
		return -1;
	free(ctx->symlists[stage]);
	ctx->symlists[stage] = copy;
	return 0;
}

/* reply_code_ok - CODE is 4xx or 5xx, XCODE (if any) class.d{1,3}.d{1,3}
 * of the same class (RFC 3463) */
static int
reply_code_ok(const char *code, const char *xcode)
{
	const char *p;
	int digits;

	if (code == NULL || (code[0] != '4' && code[0] != '5') || code[1] < '0' || code[1] > '9'
	    || code[2] < '0' || code[2] > '9' || code[3] != 0)
		return 0;
	if (xcode == NULL)
		return 1;
	if (xcode[0] != code[0] || xcode[1] != '.')
		return 0;
	p = xcode + 2;
	for (int part = 0; part < 2; part++) {
		for (digits = 0; *p >= '0' && *p <= '9'; p++)
			digits++;
		if (digits < 1 || digits > 3 || *p != (part == 0 ? '.' : 0))
			return 0;
		p++;
	}
	return 1;
}

/* eng_setreply - the SMTP reply for the next reject or tempfail: CODE,
 * XCODE (or NULL) and NLINES lines of text (no CR or LF in them) */
int
eng_setreply(struct eng_ctx *ctx, const char *code, const char *xcode,
	     const char *const *lines, size_t nlines)
{
	struct buf b = BUF_INIT;

	if (!reply_code_ok(code, xcode) || nlines == 0)
		return -1;
	for (size_t i = 0; i < nlines; i++) {
		if (strpbrk(lines[i], "\r\n") != NULL) {
			buf_free(&b);
			return -1;
		}
		buf_printf(&b, "%s%s%s%s%s%s", i ? "\r\n" : "", code, i + 1 < nlines ? "-" : " ",
			   xcode ? xcode : "", xcode ? " " : "", lines[i]);
	}
	if (b.failed || b.data == NULL) {
		buf_free(&b);
		return -1;
	}
	free(ctx->reply);
	ctx->reply = b.data;	/* the buffer's storage is the reply's now */
	return 0;
}

/* change_allowed - a message change may be sent: at end of message,
 * with ACTION negotiated */
static int
change_allowed(struct eng_ctx *ctx, uint32_t action)
{
	return ctx->in_eom && !ctx->broken && (ctx->actions & action);
}

int
eng_addheader(struct eng_ctx *ctx, const char *name, const char *value)
{
	if (!change_allowed(ctx, ENG_ADDHDRS) || name == NULL || value == NULL)
		return -1;
	return send_strings(ctx, REP_ADDHEADER, name, value, NULL);
}

/* index_packet - CMD with a header index, NAME and VALUE */
static int
index_packet(struct eng_ctx *ctx, int cmd, int index, const char *name, const char *value)
{
	unsigned char idx[4];
	const void *parts[3] = { idx, name, value };
	size_t lens[3] = { 4, (size_t) -1, (size_t) -1 };

	put_u32(idx, (uint32_t) index);
	return send_packet(ctx, cmd, parts, lens, 3);
}

int
eng_insheader(struct eng_ctx *ctx, int index, const char *name, const char *value)
{
	if (!change_allowed(ctx, ENG_ADDHDRS) || name == NULL || value == NULL || index < 0)
		return -1;
	return index_packet(ctx, REP_INSHEADER, index, name, value);
}

/* eng_chgheader - change the INDEXth (from 1) field NAME; a NULL VALUE
 * deletes it */
int
eng_chgheader(struct eng_ctx *ctx, const char *name, int index, const char *value)
{
	if (!change_allowed(ctx, ENG_CHGHDRS) || name == NULL || index < 0)
		return -1;
	return index_packet(ctx, REP_CHGHEADER, index, name, value ? value : "");
}

/* eng_addrcpt - add a recipient, with ESMTP ARGS (or NULL) */
int
eng_addrcpt(struct eng_ctx *ctx, const char *rcpt, const char *args)
{
	if (rcpt == NULL)
		return -1;
	if (args != NULL)
		return change_allowed(ctx, ENG_ADDRCPT_PAR)
		    ? send_strings(ctx, REP_ADDRCPT_PAR, rcpt, args, NULL) : -1;
	return change_allowed(ctx, ENG_ADDRCPT) ? send_strings(ctx, REP_ADDRCPT, rcpt, NULL, NULL) : -1;
}

int
eng_delrcpt(struct eng_ctx *ctx, const char *rcpt)
{
	if (!change_allowed(ctx, ENG_DELRCPT) || rcpt == NULL)
		return -1;
	return send_strings(ctx, REP_DELRCPT, rcpt, NULL, NULL);
}

int
eng_chgfrom(struct eng_ctx *ctx, const char *from, const char *args)
{
	if (!change_allowed(ctx, ENG_CHGFROM) || from == NULL)
		return -1;
	return send_strings(ctx, REP_CHGFROM, from, args, NULL);
}

int
eng_quarantine(struct eng_ctx *ctx, const char *reason)
{
	if (!change_allowed(ctx, ENG_QUARANTINE) || reason == NULL || *reason == 0)
		return -1;
	return send_strings(ctx, REP_QUARANTINE, reason, NULL, NULL);
}

/* eng_replacebody - the new body, in packets of at most 64 KB */
int
eng_replacebody(struct eng_ctx *ctx, const unsigned char *body, size_t len)
{
	if (!change_allowed(ctx, ENG_CHGBODY) || (body == NULL && len > 0))
		return -1;
	do {
		size_t n = len < CHUNK ? len : CHUNK;
		const void *parts[1] = { body };

		if (send_packet(ctx, REP_REPLBODY, parts, &n, 1) < 0)
			return -1;
		body += n;
		len -= n;
	} while (len > 0);
	return 0;
}

/* answer - the reply to a command whose NR step is NR_STEP */
static int
answer(struct eng_ctx *ctx, enum eng_status st, uint32_t nr_step)
{
	int rc = 0;

	if (nr_step && (ctx->steps & nr_step))
		goto done;	/* the MTA does not wait for it */
	switch (st) {
	case ENG_NOREPLY:	/* the MTA waits: it must get something */
	case ENG_CONTINUE:
		rc = send_packet(ctx, REP_CONTINUE, NULL, NULL, 0);
		break;
	case ENG_ACCEPT:
		rc = send_packet(ctx, REP_ACCEPT, NULL, NULL, 0);
		break;
	case ENG_DISCARD:
		rc = send_packet(ctx, REP_DISCARD, NULL, NULL, 0);
		break;
	case ENG_REJECT:
	case ENG_TEMPFAIL:
		/* the reply text goes with a decision of its own class only */
		if (ctx->reply != NULL && ctx->reply[0] == (st == ENG_REJECT ? '5' : '4'))
			rc = send_strings(ctx, REP_REPLYCODE, ctx->reply, NULL, NULL);
		else
			rc = send_packet(ctx, st == ENG_REJECT ? REP_REJECT : REP_TEMPFAIL,
					 NULL, NULL, 0);
		break;
	}
done:
	free(ctx->reply);
	ctx->reply = NULL;
	return rc;
}

/* split_args - ARGV from the NUL-terminated strings of DATA (LEN bytes) */
static int
split_args(char *data, size_t len, char **argv)
{
	size_t n = 0;
	char *p = data, *end = data + len;

	while (p < end && n < MAX_ARGS) {
		argv[n++] = p;
		p += strlen(p) + 1;
	}
	argv[n] = NULL;
	return n > 0 ? 0 : -1;
}

/* client_address - the sockaddr of a CONNECT packet's family, port and
 * address; NULL for an unknown family */
static const struct sockaddr *
client_address(const char *p, const char *end, struct sockaddr_storage *ss)
{
	char family;
	unsigned port;
	const char *addr;

	memset(ss, 0, sizeof(*ss));
	if (p >= end)
		return NULL;
	family = *p++;
	if (family != '4' && family != '6')
		return NULL;
	if (end - p < 3)
		return NULL;
	port = (unsigned) (unsigned char) p[0] << 8 | (unsigned char) p[1];
	addr = p + 2;
	if (family == '4') {
		struct sockaddr_in *in = (struct sockaddr_in *) ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t) port);
		return inet_pton(AF_INET, addr, &in->sin_addr) == 1 ? (struct sockaddr *) in : NULL;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;

		if (strncasecmp(addr, "IPv6:", 5) == 0)
			addr += 5;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t) port);
		return inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1 ? (struct sockaddr *) in6 : NULL;
	}
}

/* optneg - the MTA's offer; ours back, with the macro lists wanted */
static int
optneg(struct eng_ctx *ctx, const unsigned char *data, size_t len)
{
	uint32_t actions = 0, steps = 0;
	unsigned char head[12];
	const void *parts[1 + 2 * ENG_STAGES] = { head };
	size_t lens[1 + 2 * ENG_STAGES] = { 12 }, n = 1;
	unsigned char stages[ENG_STAGES][4];

	if (len < 12)
		return -1;
	ctx->version = get_u32(data);
	ctx->mta_actions = get_u32(data + 4);
	ctx->mta_steps = get_u32(data + 8);
	if (ctx->version < 2) {
		mtr_log(LOG_WARNING, "milter connection: the MTA speaks protocol version %u "
			"(2 or later needed)", (unsigned) ctx->version);
		return -1;
	}
	if (ctx->version > ENG_VERSION)
		ctx->version = ENG_VERSION;
	if (ctx->filter->negotiate(ctx, ctx->mta_actions, ctx->mta_steps, &actions, &steps)
	    != ENG_CONTINUE)
		return -1;
	ctx->negotiated = 1;
	ctx->actions = ctx->mta_actions & actions;
	ctx->steps = ctx->mta_steps & steps;
	put_u32(head, ctx->version);
	put_u32(head + 4, ctx->actions);
	put_u32(head + 8, ctx->steps);
	for (int i = 0; i < ENG_STAGES && (ctx->actions & ENG_SETSYMLIST); i++) {
		if (ctx->symlists[i] == NULL)
			continue;
		put_u32(stages[i], (uint32_t) i);
		parts[n] = stages[i];
		lens[n++] = 4;
		parts[n] = ctx->symlists[i];
		lens[n++] = (size_t) -1;
	}
	return send_packet(ctx, CMD_OPTNEG, parts, lens, n);
}

/* renegotiate - QUIT_NC: the next SMTP connection on this one; the
 * filter starts afresh, the protocol agreed stays */
static int
renegotiate(struct eng_ctx *ctx)
{
	uint32_t actions, steps;

	if (ctx->filter->close != NULL)
		ctx->filter->close(ctx);
	ctx->priv = NULL;
	clear_macros(ctx, 0);
	return ctx->filter->negotiate(ctx, ctx->mta_actions, ctx->mta_steps, &actions, &steps)
	    == ENG_CONTINUE ? 0 : -1;
}

/* strings_end - the strings in command CMD's DATA end in NUL, so the
 * callbacks may read them as C strings */
static int
strings_end(int cmd, const unsigned char *data, size_t len)
{
	const unsigned char *nul;

	switch (cmd) {
	case CMD_BODY:
	case CMD_BODYEOB:
	case CMD_OPTNEG:
		return 1;
	case CMD_MACRO:		/* the stage letter, then names and values */
		return len <= 1 || data[len - 1] == 0;
	case CMD_CONNECT:	/* host, family ('U': nothing more), port, address */
		if (len == 0)
			return 1;
		if ((nul = memchr(data, 0, len)) == NULL)
			return 0;
		if (nul + 1 == data + len || nul[1] == 'U')
			return 1;
		return data[len - 1] == 0;
	}
	return len == 0 || data[len - 1] == 0;
}

/* dispatch - one command; 1 when the connection ends, -1 on error */
static int
dispatch(struct eng_ctx *ctx, int cmd, unsigned char *data, size_t len)
{
	const struct eng_filter *f = ctx->filter;
	char *s = (char *) data, *argv[MAX_ARGS + 1];
	struct sockaddr_storage ss;
	enum eng_status st;

	if (cmd != CMD_OPTNEG && !ctx->negotiated) {
		mtr_log(LOG_WARNING, "milter connection: command '%c' before negotiation",
			cmd >= 32 && cmd < 127 ? cmd : '?');
		return -1;
	}
	if (!strings_end(cmd, data, len)) {
		mtr_log(LOG_WARNING, "milter connection: command '%c' without its NUL",
			cmd >= 32 && cmd < 127 ? cmd : '?');
		return -1;
	}
	switch (cmd) {
	case CMD_OPTNEG:
		return optneg(ctx, data, len);
	case CMD_MACRO: {
		int stage = len > 0 ? stage_of(data[0]) : -1;

		if (stage < 0)
			return 0;	/* macros for a step without a stage */
		free(ctx->macros[stage]);
		if ((ctx->macros[stage] = malloc(len)) == NULL)
			return -1;
		memcpy(ctx->macros[stage], data + 1, len - 1);
		ctx->macros[stage][len - 1] = 0;
		ctx->macros_len[stage] = len - 1;
		return 0;
	}
	case CMD_CONNECT: {
		const char *host = len > 0 ? s : "", *after = len > 0 ? s + strlen(s) + 1 : s;

		/* client_address() reads the family, port and address only
		 * within the packet, and the address only if NUL-ended */

		st = f->connect ? f->connect(ctx, host, client_address(after, s + len, &ss)) : ENG_CONTINUE;
		return answer(ctx, st, ENG_NR_CONN);
	}
	case CMD_HELO:
		st = f->helo ? f->helo(ctx, len > 0 ? s : "") : ENG_CONTINUE;
		return answer(ctx, st, ENG_NR_HELO);
	case CMD_MAIL:
	case CMD_RCPT:
		if (split_args(s, len, argv) < 0)
			return -1;
		if (cmd == CMD_MAIL)
			st = f->envfrom ? f->envfrom(ctx, argv) : ENG_CONTINUE;
		else
			st = f->envrcpt ? f->envrcpt(ctx, argv) : ENG_CONTINUE;
		return answer(ctx, st, cmd == CMD_MAIL ? ENG_NR_MAIL : ENG_NR_RCPT);
	case CMD_DATA:
		st = f->data ? f->data(ctx) : ENG_CONTINUE;
		return answer(ctx, st, ENG_NR_DATA);
	case CMD_HEADER: {
		const char *name = len > 0 ? s : "", *value = name + strlen(name) + 1;

		if (len == 0 || value >= s + len)
			value = "";
		st = f->header ? f->header(ctx, name, value) : ENG_CONTINUE;
		return answer(ctx, st, ENG_NR_HDR);
	}
	case CMD_EOH:
		st = f->eoh ? f->eoh(ctx) : ENG_CONTINUE;
		return answer(ctx, st, ENG_NR_EOH);
	case CMD_BODY:
		st = f->body ? f->body(ctx, data, len) : ENG_CONTINUE;
		return answer(ctx, st, ENG_NR_BODY);
	case CMD_BODYEOB:
		/* the end of message may carry the last piece of the body */
		st = len > 0 && f->body ? f->body(ctx, data, len) : ENG_CONTINUE;
		if (st == ENG_CONTINUE || st == ENG_NOREPLY) {
			ctx->in_eom = 1;
			st = f->eom ? f->eom(ctx) : ENG_CONTINUE;
			ctx->in_eom = 0;
		}
		clear_macros(ctx, ENG_AT_MAIL);
		return answer(ctx, st, 0);
	case CMD_ABORT:
		if (f->abort)
			f->abort(ctx);
		clear_macros(ctx, ENG_AT_MAIL);
		return 0;
	case CMD_UNKNOWN:
		st = f->unknown ? f->unknown(ctx, len > 0 ? s : "") : ENG_CONTINUE;
		return answer(ctx, st, ENG_NR_UNKN);
	case CMD_QUIT:
		return 1;
	case CMD_QUIT_NC:
		return renegotiate(ctx);
	}
	mtr_log(LOG_WARNING, "milter connection: unknown command '%c'",
		cmd >= 32 && cmd < 127 ? cmd : '?');
	return -1;
}

/* packet_in_time - wait, up to -T after *STARTED (now when 0), for more
 * of the packet FD is sending; 0 when that time has passed */
static int
packet_in_time(int fd, time_t *started)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	time_t now = time(NULL);
	long left;
	int ready;

	if (*started == 0)
		*started = now;
	if ((left = (long) (*started + io_timeout - now)) <= 0)
		return 0;
	while ((ready = poll(&pfd, 1, (int) (left > 86400 ? 86400 : left) * 1000)) < 0
	       && errno == EINTR)
		;
	return ready != 0;
}

/* serve - one MTA connection on FD, to its end, with FILTER */
static void
serve(const struct eng_filter *filter, int fd, struct buf *in, struct buf *out)
{
	struct eng_ctx ctx = { .fd = fd, .filter = filter, .out = out };
	size_t off = 0;
	int rc = 0, one = 1, quickack;
	time_t started = 0;	/* when the packet being read began to come */

	buf_reset(in);
	buf_reset(out);
	/* TCP: ACK at once what is read. An MTA that writes a packet in
	 * two segments (Postfix: the macros, then the command) waits, with
	 * Nagle, for the first one's ACK before it sends the second, and a
	 * delayed ACK made each such command cost 40 ms. (Linux clears
	 * TCP_QUICKACK as it pleases: set again before every read.) */
	quickack = setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one)) == 0;
	for (;;) {
		size_t have = in->len - off, plen = 0;
		ssize_t n;
		/* (no buffer yet before the first read) */
		unsigned char *at = have > 0 ? (unsigned char *) in->data + off : NULL;

		if (have >= 4 && (plen = get_u32(at)) > 0 && plen <= MAX_PACKET && have >= 4 + plen) {
			rc = dispatch(&ctx, at[4], at + 5, plen - 1);
			off += 4 + plen;
			started = 0;
			if (rc != 0 || ctx.broken)
				break;
			continue;
		}
		if (have >= 4 && (plen == 0 || plen > MAX_PACKET)) {
			mtr_log(LOG_WARNING, "milter connection: a packet of %zu bytes", plen);
			rc = -1;
			break;
		}
		/* a whole packet is not here: answer what was asked, read on */
		if (out->len > 0 && flush(&ctx) < 0)
			break;
		if (off > 0) {
			memmove(in->data, in->data + off, have);
			in->len = have;
			off = 0;
		}
		if (buf_reserve(in, have >= 4 ? 4 + get_u32((unsigned char *) in->data) - have : 65536) < 0
		    || buf_reserve(in, 16384) < 0) {
			rc = -1;
			break;
		}
		/* a packet begun must be whole within -T, not -T per read: a
		 * peer trickling a byte at a time cannot hold the thread */
		if (have > 0 && io_timeout > 0 && !packet_in_time(fd, &started)) {
			mtr_log(LOG_WARNING, "milter connection: a packet took more than %d s "
				"to arrive (-T); closing it", io_timeout);
			rc = -1;
			break;
		}
		if (quickack)
			setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		n = read(fd, in->data + in->len, in->cap - in->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				mtr_log(LOG_NOTICE, "milter connection: idle for %d s (-T); closing it",
					io_timeout);
			else if (n < 0)
				mtr_log(LOG_WARNING, "milter connection: read: %s", strerror(errno));
			else if (have > 0 || !ctx.negotiated)
				rc = -1;	/* cut in the middle */
			break;
		}
		in->len += (size_t) n;
	}
	if (!ctx.broken)
		flush(&ctx);	/* the answers to the commands before an error too */
	if (ctx.negotiated && ctx.filter->close != NULL)
		ctx.filter->close(&ctx);
	clear_macros(&ctx, 0);
	for (int i = 0; i < ENG_STAGES; i++)
		free(ctx.symlists[i]);
	free(ctx.reply);
	/* a large packet's buffer is not kept for the next connection */
	if (in->cap > 1 << 20)
		buf_free(in);
}

/* eng_serve - one MTA connection on FD with FILTER, in this thread
 * (the tests' way in); FD stays open */
void
eng_serve(const struct eng_filter *filter, int fd)
{
	struct buf in = BUF_INIT, out = BUF_INIT;

	serve(filter, fd, &in, &out);
	buf_free(&in);
	buf_free(&out);
}

static int start_thread(void);

/* may_end - whether a thread whose accept() timed out, leaving
 * IDLE_LEFT others waiting in theirs, ends: only when one of them is
 * still waiting and more than MIN_THREADS are left. The count is taken
 * down here at once, so threads idle alike never end all together. */
static int
may_end(int idle_left)
{
	int n = atomic_load(&threads);

	if (idle_left == 0)
		return 0;
	while (n > MIN_THREADS)
		if (atomic_compare_exchange_weak(&threads, &n, n - 1))
			return 1;
	return 0;
}

/* worker - accept a connection, serve it, accept the next */
static void *
worker(void *arg)
{
	struct buf in = BUF_INIT, out = BUF_INIT;	/* kept from one connection to the next */
	int counted = 1;	/* still in THREADS */

	(void) arg;
	while (!stopping) {
		int fd, idle_left;

		atomic_fetch_add(&idle_threads, 1);
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		idle_left = atomic_fetch_sub(&idle_threads, 1) - 1;
		if (idle_left == 0 && fd >= 0)
			start_thread();	/* no one left waiting for the next */
		if (fd < 0) {
			if (stopping)
				break;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) && may_end(idle_left)) {
				counted = 0;
				break;	/* idle too long, and others wait */
			}
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				mtr_log(LOG_ERR, "accept: %s", strerror(errno));
				usleep(100000);
			}
			continue;
		}
		atomic_fetch_add(&active, 1);
		{
			/* replies are small and awaited: on TCP, Nagle's
			 * wait for the MTA's delayed ACK costs 40 ms each
			 * (a unix socket refuses this, harmlessly) */
			int one = 1;

			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		if (io_timeout > 0) {
			struct timeval tv = { .tv_sec = io_timeout };

			/* reads wait this long; writes: flush() */
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		serve(the_filter, fd, &in, &out);
		close(fd);
		if (atomic_fetch_sub(&active, 1) == 1 && stopping) {
			pthread_mutex_lock(&run_lock);
			pthread_cond_broadcast(&run_cond);
			pthread_mutex_unlock(&run_lock);
		}
	}
	buf_free(&in);
	buf_free(&out);
	if (counted)
		atomic_fetch_sub(&threads, 1);
	return NULL;
}

/* start_thread - one more worker, detached, with a small stack */
static int
start_thread(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (atomic_fetch_add(&threads, 1) >= MAX_THREADS) {
		atomic_fetch_sub(&threads, 1);
		return -1;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	rc = pthread_create(&t, &attr, worker, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		atomic_fetch_sub(&threads, 1);
		mtr_log(LOG_ERR, "cannot start a connection thread: %s", strerror(rc));
		return -1;
	}
	return 0;
}

/* open_unix - listen on PATH, replacing a stale socket left there */
static int
open_unix(const char *path, char *err, size_t errsize)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errsize, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(unix_path, sizeof(unix_path), "%s", path);
	return fd;
}

/* open_inet - listen on PORT[@HOST] of FAMILY */
static int
open_inet(int family, const char *where, char *err, size_t errsize)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	char port[16];
	const char *at = strchr(where, '@'), *host = at ? at + 1 : NULL;
	int fd, one = 1, rc;

	if ((at ? (size_t) (at - where) : strlen(where)) >= sizeof(port)) {
		snprintf(err, errsize, "bad port in %s", where);
		return -1;
	}
	snprintf(port, sizeof(port), "%.*s", (int) (at ? at - where : (int) strlen(where)), where);
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errsize, "%s: %s", where, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0
	    || bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
		snprintf(err, errsize, "%s: %s", where, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* eng_set_idle - threads beyond the least end after SECONDS without a
 * connection (IDLE_SECONDS unless set; the tests' way); before eng_open */
void
eng_set_idle(int seconds)
{
	idle_seconds = seconds;
}

/* eng_open - listen on SPEC: unix:PATH, local:PATH, /PATH,
 * inet:PORT[@HOST], inet6:PORT[@HOST] */
int
eng_open(const char *spec, char *err, size_t errsize)
{
	struct timeval idle = { .tv_sec = idle_seconds };
	int fd;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0)
		fd = open_unix(strchr(spec, ':') + 1, err, errsize);
	else if (spec[0] == '/')
		fd = open_unix(spec, err, errsize);
	else if (strncmp(spec, "inet:", 5) == 0)
		fd = open_inet(AF_INET, spec + 5, err, errsize);
	else if (strncmp(spec, "inet6:", 6) == 0)
		fd = open_inet(AF_INET6, spec + 6, err, errsize);
	else {
		snprintf(err, errsize, "unknown socket type (unix:, inet:, inet6:): %s", spec);
		return -1;
	}
	if (fd < 0)
		return -1;
	if (listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errsize, "listen %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	/* accept() gives up after this long, so idle threads can end */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
	listen_fd = fd;
	return 0;
}

/* eng_run - serve connections with FILTER until eng_stop(); TIMEOUT
 * (seconds, 0 for the default) bounds each read and write */
int
eng_run(const struct eng_filter *filter, int timeout)
{
	struct timespec until;

	if (listen_fd < 0)
		return -1;
	the_filter = filter;
	if (timeout > 0)
		io_timeout = timeout;
	for (int i = 0; i < MIN_THREADS; i++)
		if (start_thread() < 0)
			return -1;
	pthread_mutex_lock(&run_lock);
	while (!stopping)
		pthread_cond_wait(&run_cond, &run_lock);
	/* connections in progress get a little time to finish */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STOP_WAIT;
	while (active > 0 && pthread_cond_timedwait(&run_cond, &run_lock, &until) == 0)
		;
	pthread_mutex_unlock(&run_lock);
	if (active > 0)
		mtr_log(LOG_WARNING, "stopping with %d connections still open", (int) active);
	if (*unix_path)
		unlink(unix_path);
	return 0;
}

/* eng_stop - stop accepting, let eng_run() return; for a signal thread */
void
eng_stop(void)
{
	stopping = 1;
	if (listen_fd >= 0)
		shutdown(listen_fd, SHUT_RDWR);
	pthread_mutex_lock(&run_lock);
	pthread_cond_broadcast(&run_cond);
	pthread_mutex_unlock(&run_lock);
}
