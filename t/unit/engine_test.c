/*
 * engine_test - mvmtr's milter engine (milter/engine.c) fed the packets
 * an MTA sends, good and bad, over a socketpair: the callbacks it makes
 * (with their arguments) and the replies it writes, rendered as text.
 */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine.h"
#include "mvmtr.h"
#include "tap.h"

/* one packet: CMD and its data; CMD 0 writes DATA as it is */
struct packet {
	int cmd;
	const char *data;
	size_t len;
};

#define P(cmd, lit)	{ cmd, lit, sizeof(lit) - 1 }
#define RAW(lit)	{ 0, lit, sizeof(lit) - 1 }
#define END		{ -1, NULL, 0 }
/* OPTNEG: version 6, every action, every step */
#define OPTNEG		P('O', "\0\0\0\6" "\0\0\1\377" "\0\x1f\xff\xff")
#define CONNECT		P('C', "host.example\0" "4\0\x19" "192.0.2.1\0")

struct test_case {
	const char *name;
	struct packet in[16];
	uint32_t steps;		/* what negotiate asks for */
	const char *decide;	/* "step=status" words: c a r t d n R T X */
	const char *want_log;
	const char *want_replies;
};

static const struct test_case *cur;
static struct buf log_buf;

/* note - a callback was called */
static void
note(const char *fmt, const char *a, const char *b)
{
	if (log_buf.len)
		buf_putc(&log_buf, ' ');
	buf_printf(&log_buf, fmt, a ? a : "-", b ? b : "-");
}

/* check_setreply - codes of the wrong form or class are refused and
 * leave the reply set before them */
static void
check_setreply(struct eng_ctx *ctx)
{
	static const struct {
		const char *code, *xcode, *line;
		int want;
	} rc[] = {
		{ "550", "5.7.1", "no", 0 }, { "451", NULL, "later", 0 },
		{ "421", "4.3.2", "bye", 0 }, { "250", NULL, "ok", -1 },
		{ "550", "4.7.1", "no", -1 }, { "55", NULL, "no", -1 },
		{ "5500", NULL, "no", -1 }, { "550", "5.7", "no", -1 },
		{ "550", "5.7.1234", "no", -1 }, { "550", "5.7.1", "two\nlines", -1 },
		{ "550", "5.7.1", "cr\r", -1 }, { "550", "5.x.1", "no", -1 },
	};

	for (size_t i = 0; i < sizeof(rc) / sizeof(rc[0]); i++) {
		const char *line = rc[i].line;

		if (eng_setreply(ctx, rc[i].code, rc[i].xcode, &line, 1) != rc[i].want)
			note("setreply(%s %s) wrong", rc[i].code, rc[i].line);
	}
}

/* status_for - the case's decision at STEP, its reply text set */
static enum eng_status
status_for(struct eng_ctx *ctx, const char *step)
{
	static const char *const try_later[] = { "try", "later" };
	static const char *const no[] = { "no" };
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), "%s=", step);
	if (cur->decide == NULL || (p = strstr(cur->decide, key)) == NULL)
		return ENG_CONTINUE;
	switch (p[strlen(key)]) {
	case 'a': return ENG_ACCEPT;
	case 'r': return ENG_REJECT;
	case 't': return ENG_TEMPFAIL;
	case 'd': return ENG_DISCARD;
	case 'n': return ENG_NOREPLY;
	case 'R':
		eng_setreply(ctx, "550", "5.7.1", no, 1);
		return ENG_REJECT;
	case 'T':
		eng_setreply(ctx, "451", "4.7.1", try_later, 2);
		return ENG_TEMPFAIL;
	case 'V':
		check_setreply(ctx);
		return ENG_TEMPFAIL;
	case 'X':	/* a reply of the other class is not used */
		eng_setreply(ctx, "550", NULL, no, 1);
		return ENG_TEMPFAIL;
	}
	return ENG_CONTINUE;
}

static enum eng_status
t_negotiate(struct eng_ctx *ctx, uint32_t actions, uint32_t steps, uint32_t *actions_r,
	    uint32_t *steps_r)
{
	(void) steps;
	note("negotiate", NULL, NULL);
	*actions_r = actions;
	*steps_r = cur->steps;
	eng_setsymlist(ctx, ENG_AT_MAIL, "{i} {auth_authen}");
	return ENG_CONTINUE;
}

static enum eng_status
t_connect(struct eng_ctx *ctx, const char *host, const struct sockaddr *sa)
{
	char addr[64] = "-";

	if (sa != NULL && sa->sa_family == AF_INET)
		snprintf(addr, sizeof(addr), "%s:%u", inet_ntoa(((struct sockaddr_in *) sa)->sin_addr),
			 ntohs(((struct sockaddr_in *) sa)->sin_port));
	else if (sa != NULL && sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *) sa)->sin6_addr, addr, sizeof(addr));
		strcat(addr, "/6");
	}
	note("connect(%s %s)", host, addr);
	return status_for(ctx, "connect");
}

static enum eng_status
t_helo(struct eng_ctx *ctx, const char *helo)
{
	note("helo(%s)", helo, NULL);
	return status_for(ctx, "helo");
}

/* args - ARGV joined with commas */
static const char *
args(char **argv, char *out, size_t size)
{
	*out = 0;
	for (int i = 0; argv[i] != NULL; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "," : "", argv[i]);
	return out;
}

static enum eng_status
t_envfrom(struct eng_ctx *ctx, char **argv)
{
	char a[256], m[128];

	/* a macro named either way; one of an earlier stage */
	snprintf(m, sizeof(m), "i=%s {i}=%s j=%s",
		 eng_getsymval(ctx, "i") ? eng_getsymval(ctx, "i") : "-",
		 eng_getsymval(ctx, "{i}") ? eng_getsymval(ctx, "{i}") : "-",
		 eng_getsymval(ctx, "j") ? eng_getsymval(ctx, "j") : "-");
	note("mail(%s %s)", args(argv, a, sizeof(a)), m);
	return status_for(ctx, "mail");
}

static enum eng_status
t_envrcpt(struct eng_ctx *ctx, char **argv)
{
	char a[256];

	note("rcpt(%s)%s", args(argv, a, sizeof(a)),
	     eng_addheader(ctx, "X-Early", "x") < 0 ? "" : "!changed");
	return status_for(ctx, "rcpt");
}

static enum eng_status
t_data(struct eng_ctx *ctx)
{
	note("data", NULL, NULL);
	return status_for(ctx, "data");
}

static enum eng_status
t_header(struct eng_ctx *ctx, const char *name, const char *value)
{
	note("header(%s=%s)", name, value);
	return status_for(ctx, "header");
}

static enum eng_status
t_eoh(struct eng_ctx *ctx)
{
	note("eoh", NULL, NULL);
	return status_for(ctx, "eoh");
}

static enum eng_status
t_body(struct eng_ctx *ctx, const unsigned char *data, size_t len)
{
	char n[32];

	(void) data;
	snprintf(n, sizeof(n), "%zu", len);
	note("body(%s)", n, NULL);
	return status_for(ctx, "body");
}

/* t_eom - with "changes" in the case, one of each, in order */
static enum eng_status
t_eom(struct eng_ctx *ctx)
{
	note("eom", NULL, NULL);
	if (cur->decide != NULL && strstr(cur->decide, "changes")) {
		static unsigned char body[150000];
		int failed = 0;

		memset(body, 'x', sizeof(body));
		failed |= eng_addheader(ctx, "X-A", "b");
		failed |= eng_insheader(ctx, 0, "X-First", "f");
		failed |= eng_chgheader(ctx, "Subject", 1, "new");
		failed |= eng_chgheader(ctx, "X-Old", 2, NULL);
		failed |= eng_addrcpt(ctx, "<n@x>", "NOTIFY=NEVER");
		failed |= eng_addrcpt(ctx, "<m@x>", NULL);
		failed |= eng_delrcpt(ctx, "<c@d>");
		failed |= eng_chgfrom(ctx, "<s@x>", NULL);
		failed |= eng_quarantine(ctx, "held");
		failed |= eng_replacebody(ctx, body, sizeof(body));
		if (failed)
			note("changes-failed", NULL, NULL);
		if (eng_quarantine(ctx, "") == 0 || eng_addheader(ctx, NULL, "v") == 0)
			note("bad-change-taken", NULL, NULL);
	}
	return status_for(ctx, "eom");
}

static void
t_abort(struct eng_ctx *ctx)
{
	(void) ctx;
	note("abort", NULL, NULL);
}

static void
t_close(struct eng_ctx *ctx)
{
	(void) ctx;
	note("close", NULL, NULL);
}

static enum eng_status
t_unknown(struct eng_ctx *ctx, const char *cmd)
{
	note("unknown(%s)", cmd, NULL);
	return status_for(ctx, "unknown");
}

static const struct eng_filter filter = {
	.negotiate = t_negotiate, .connect = t_connect, .helo = t_helo,
	.envfrom = t_envfrom, .envrcpt = t_envrcpt, .data = t_data,
	.header = t_header, .eoh = t_eoh, .body = t_body, .eom = t_eom,
	.abort = t_abort, .close = t_close, .unknown = t_unknown,
};

/* render - the replies in RAW (LEN bytes) as text: "O(6 1ff 1002
 * 2:{i} {auth_authen})", "c", "y(550 5.7.1 no)", "h(X-A: b)", "b(65535)" */
static void
render(const unsigned char *raw, size_t len, struct buf *out)
{
	size_t off = 0;

	while (off + 5 <= len) {
		size_t plen = (size_t) raw[off] << 24 | raw[off + 1] << 16 | raw[off + 2] << 8 | raw[off + 3];
		const unsigned char *d = raw + off + 5;
		size_t dlen = plen - 1;

		if (plen == 0 || off + 4 + plen > len) {
			buf_puts(out, " <broken>");
			return;
		}
		buf_printf(out, "%s%c", out->len ? " " : "", raw[off + 4]);
		if (raw[off + 4] == 'O' && dlen >= 12) {
			buf_printf(out, "(%x %x %x", d[3], d[6] << 8 | d[7],
				   d[9] << 16 | d[10] << 8 | d[11]);
			for (size_t i = 12; i + 4 < dlen; i += 4 + strlen((const char *) d + i + 4) + 1)
				buf_printf(out, " %d:%s", d[i + 3], d + i + 4);
			buf_putc(out, ')');
		} else if (raw[off + 4] == 'b') {
			buf_printf(out, "(%zu)", dlen);
		} else if (dlen > 0) {
			size_t i = 0;

			buf_putc(out, '(');
			if (raw[off + 4] == 'i' || raw[off + 4] == 'm') {
				buf_printf(out, "%d ", d[3]);
				i = 4;
			}
			for (; i < dlen; i++)
				buf_puts(out, d[i] == 0 ? (i + 1 < dlen ? "|" : "")
					 : d[i] == '\r' ? "\\r" : d[i] == '\n' ? "\\n"
					 : (char[]) { (char) d[i], 0 });
			buf_putc(out, ')');
		}
		off += 4 + plen;
	}
	if (off != len)
		buf_puts(out, " <partial>");
}

struct pipe_end {
	int fd;
	const struct packet *in;
	struct buf got;
};

/* writer - the MTA's packets, then end of input */
static void *
writer(void *arg)
{
	struct pipe_end *w = arg;
	struct buf b = BUF_INIT;

	for (const struct packet *p = w->in; p->cmd >= 0; p++) {
		if (p->cmd > 0) {
			unsigned char head[5] = { (unsigned char) ((p->len + 1) >> 24),
				(unsigned char) ((p->len + 1) >> 16), (unsigned char) ((p->len + 1) >> 8),
				(unsigned char) (p->len + 1), (unsigned char) p->cmd };

			buf_append(&b, head, 5);
		}
		buf_append(&b, p->data, p->len);
	}
	for (size_t done = 0; done < b.len;) {
		ssize_t n = write(w->fd, b.data + done, b.len - done);

		if (n <= 0)
			break;	/* the engine hung up: fine for broken input */
		done += (size_t) n;
	}
	shutdown(w->fd, SHUT_WR);
	buf_free(&b);
	return NULL;
}

/* reader - every reply, to end of file */
static void *
reader(void *arg)
{
	struct pipe_end *r = arg;
	char chunk[65536];
	ssize_t n;

	while ((n = read(r->fd, chunk, sizeof(chunk))) > 0)
		buf_append(&r->got, chunk, (size_t) n);
	return NULL;
}

static const struct test_case cases[] = {
	{ "negotiation: the steps agreed, the macros wanted",
	  { OPTNEG, P('Q', ""), END }, ENG_NR_CONN | ENG_NOHELO,
	  NULL, "negotiate close", "O(6 1ff 1002 2:{i} {auth_authen})" },
	{ "negotiation: an old MTA gets only what it offered, no macro lists",
	  { P('O', "\0\0\0\2" "\0\0\0\x3f" "\0\0\0\x7f"), P('Q', ""), END },
	  ENG_NR_CONN | ENG_NOHELO, NULL, "negotiate close", "O(2 3f 2)" },
	{ "a whole message: each step, its arguments and macros, a reply each",
	  { OPTNEG, P('D', "Cj\0mx.example\0"), CONNECT, P('H', "helo.example\0"),
	    P('D', "M{i}\0Q1\0"), P('M', "<a@b>\0SIZE=10\0"), P('R', "<c@d>\0"),
	    P('T', ""), P('L', "Subject\0hi\0"), P('N', ""), P('B', "body"), P('E', "tail"),
	    P('Q', ""), END }, 0, NULL,
	  "negotiate connect(host.example 192.0.2.1:25) helo(helo.example) "
	  "mail(<a@b>,SIZE=10 i=Q1 {i}=Q1 j=mx.example) rcpt(<c@d>) data header(Subject=hi) "
	  "eoh body(4) body(4) eom close",
	  "O(6 1ff 0 2:{i} {auth_authen}) c c c c c c c c c" },
	{ "reply-less steps (NR) get no reply, whatever was decided",
	  { OPTNEG, CONNECT, P('H', "h\0"), P('M', "<a@b>\0"), P('R', "<c@d>\0"), P('E', ""),
	    P('Q', ""), END },
	  ENG_NR_CONN | ENG_NR_HELO | ENG_NR_MAIL | ENG_NR_RCPT, "rcpt=r",
	  "negotiate connect(host.example 192.0.2.1:25) helo(h) mail(<a@b> i=- {i}=- j=-) "
	  "rcpt(<c@d>) eom close", "O(6 1ff f000 2:{i} {auth_authen}) c" },
	{ "decisions: accept, reject with its reply, a multi-line tempfail, discard",
	  { OPTNEG, CONNECT, P('H', "h\0"), P('M', "<a@b>\0"), P('R', "<c@d>\0"),
	    P('U', "XYZZY\0"), P('E', ""), P('Q', ""), END }, 0,
	  "connect=a helo=R mail=T rcpt=d unknown=X eom=n",
	  "negotiate connect(host.example 192.0.2.1:25) helo(h) mail(<a@b> i=- {i}=- j=-) "
	  "rcpt(<c@d>) unknown(XYZZY) eom close",
	  "O(6 1ff 0 2:{i} {auth_authen}) a y(550 5.7.1 no) y(451-4.7.1 try\\r\\n451 4.7.1 later) "
	  "d t c" },
	{ "end of message: the changes in order before the decision, the body in 64 KB packets",
	  { OPTNEG, CONNECT, P('M', "<a@b>\0"), P('R', "<c@d>\0"), P('E', ""), P('Q', ""), END },
	  0, "changes eom=a",
	  "negotiate connect(host.example 192.0.2.1:25) mail(<a@b> i=- {i}=- j=-) rcpt(<c@d>) "
	  "eom close",
	  "O(6 1ff 0 2:{i} {auth_authen}) c c c h(X-A|b) i(0 X-First|f) m(1 Subject|new) "
	  "m(2 X-Old|) 2(<n@x>|NOTIFY=NEVER) +(<m@x>) -(<c@d>) e(<s@x>) q(held) "
	  "b(65535) b(65535) b(18930) a" },
	{ "an abort forgets the message's macros",
	  { OPTNEG, CONNECT, P('D', "M{i}\0Q1\0"), P('M', "<a@b>\0"), P('A', ""),
	    P('M', "<x@y>\0"), P('Q', ""), END }, 0, NULL,
	  "negotiate connect(host.example 192.0.2.1:25) mail(<a@b> i=Q1 {i}=Q1 j=-) abort "
	  "mail(<x@y> i=- {i}=- j=-) close",
	  "O(6 1ff 0 2:{i} {auth_authen}) c c c" },
	{ "QUIT_NC: the filter starts again on the same connection",
	  { OPTNEG, CONNECT, P('K', ""), P('C', "other\0" "U"), P('Q', ""), END }, 0, NULL,
	  "negotiate connect(host.example 192.0.2.1:25) close negotiate connect(other -) close",
	  "O(6 1ff 0 2:{i} {auth_authen}) c c" },
	{ "IPv6 client, with or without Sendmail's IPv6: prefix",
	  { OPTNEG, P('C', "h6\0" "6\0\x19" "IPv6:2001:db8::1\0"), P('C', "h6\0" "6\0\x19" "::1\0"),
	    P('Q', ""), END }, 0, NULL,
	  "negotiate connect(h6 2001:db8::1/6) connect(h6 ::1/6) close",
	  "O(6 1ff 0 2:{i} {auth_authen}) c c" },
	{ "an address that is none, no data: no address; a family without a port ends it",
	  { OPTNEG, P('C', "h\0" "4\0\x19" "999.1.1.1\0"), P('C', ""), P('C', "h\0" "4"),
	    P('C', "h\0"), END }, 0, NULL,
	  "negotiate connect(h -) connect( -) close",
	  "O(6 1ff 0 2:{i} {auth_authen}) c c" },
	{ "a header without a value, macros without one: empty, no crash",
	  { OPTNEG, P('D', "M{i}\0"), P('M', "<a@b>\0"), P('L', "Subject\0"), P('Q', ""), END },
	  0, NULL, "negotiate mail(<a@b> i=- {i}=- j=-) header(Subject=) close",
	  "O(6 1ff 0 2:{i} {auth_authen}) c c" },
	{ "a string without its NUL ends the connection",
	  { OPTNEG, P('H', "abc"), P('M', "<a@b>\0"), END }, 0, NULL, "negotiate close",
	  "O(6 1ff 0 2:{i} {auth_authen})" },
	{ "MAIL without an address ends the connection",
	  { OPTNEG, P('M', ""), END }, 0, NULL, "negotiate close",
	  "O(6 1ff 0 2:{i} {auth_authen})" },
	{ "an unknown command ends the connection",
	  { OPTNEG, P('Z', "x\0"), P('H', "h\0"), END }, 0, NULL, "negotiate close",
	  "O(6 1ff 0 2:{i} {auth_authen})" },
	{ "a command before negotiation: nothing is called",
	  { P('H', "h\0"), OPTNEG, END }, 0, NULL, "", "" },
	{ "a negotiation too short, or from version 1",
	  { P('O', "\0\0\0\6"), END }, 0, NULL, "", "" },
	{ "protocol version 1 is refused",
	  { P('O', "\0\0\0\1" "\0\0\0\x0f" "\0\0\0\x3f"), END }, 0, NULL, "", "" },
	{ "a packet of length 0 ends the connection",
	  { OPTNEG, RAW("\0\0\0\0"), P('H', "h\0"), END }, 0, NULL, "negotiate close",
	  "O(6 1ff 0 2:{i} {auth_authen})" },
	{ "a packet of 80 MB is refused before it is read",
	  { OPTNEG, RAW("\x05\0\0\0" "B"), END }, 0, NULL, "negotiate close",
	  "O(6 1ff 0 2:{i} {auth_authen})" },
	{ "reply codes of the wrong form or class are refused, the last good one used",
	  { OPTNEG, P('H', "h\0"), P('Q', ""), END }, 0, "helo=V",
	  "negotiate helo(h) close", "O(6 1ff 0 2:{i} {auth_authen}) y(421 4.3.2 bye)" },
	{ "a connection cut inside a packet: the filter still closes",
	  { OPTNEG, P('M', "<a@b>\0"), RAW("\0\0\0\x10" "Hab"), END }, 0, NULL,
	  "negotiate mail(<a@b> i=- {i}=- j=-) close", "O(6 1ff 0 2:{i} {auth_authen}) c" },
};

/* run_case - the case through the engine; the log and the replies */
static void
run_case(const struct test_case *tc)
{
	int sv[2];
	pthread_t w, r;
	struct pipe_end we, re = { 0 };
	struct buf replies = BUF_INIT;

	cur = tc;
	buf_reset(&log_buf);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		tap_ok(0, "%s: socketpair", tc->name);
		return;
	}
	we = (struct pipe_end) { .fd = sv[0], .in = tc->in };
	re.fd = dup(sv[0]);
	pthread_create(&w, NULL, writer, &we);
	pthread_create(&r, NULL, reader, &re);
	eng_serve(&filter, sv[1]);
	close(sv[1]);
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	close(sv[0]);
	close(re.fd);
	render((const unsigned char *) re.got.data, re.got.len, &replies);
	tap_is_str(buf_cstr(&log_buf), tc->want_log, "%s: callbacks", tc->name);
	tap_is_str(buf_cstr(&replies), tc->want_replies, "%s: replies", tc->name);
	buf_free(&replies);
	buf_free(&re.got);
}

/* The thread pool, through a listening socket: a filter that only
 * negotiates (the callbacks above write a log shared by one thread). */
static enum eng_status
pool_negotiate(struct eng_ctx *ctx, uint32_t actions, uint32_t steps, uint32_t *actions_r,
	       uint32_t *steps_r)
{
	(void) ctx;
	(void) steps;
	*actions_r = actions;
	*steps_r = 0;
	return ENG_CONTINUE;
}

#define BIG_BODY	((size_t) 8 << 20)

/* pool_eom - a new body far larger than a socket holds */
static enum eng_status
pool_eom(struct eng_ctx *ctx)
{
	unsigned char *body = malloc(BIG_BODY);

	if (body != NULL) {
		memset(body, 'x', BIG_BODY);
		eng_replacebody(ctx, body, BIG_BODY);
		free(body);
	}
	return ENG_CONTINUE;
}

static const struct eng_filter pool_filter = { .negotiate = pool_negotiate, .eom = pool_eom };

static void *
pool_run(void *arg)
{
	(void) arg;
	eng_run(&pool_filter, 2);	/* reads and writes wait 2 s at most */
	return NULL;
}


/* pool_connect - a connection to PATH that has negotiated (its reply
 * read within 3 s), or -1 */
static int
pool_connect(const char *path)
{
	static const char optneg[] = "\0\0\0\x0dO" "\0\0\0\6" "\0\0\1\377" "\0\x1f\xff\xff";
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval wait = { .tv_sec = 3 };
	char reply[5];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
	    || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait)) < 0
	    || write(fd, optneg, sizeof(optneg) - 1) != (ssize_t) sizeof(optneg) - 1
	    || read(fd, reply, sizeof(reply)) != (ssize_t) sizeof(reply) || reply[4] != 'O') {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* test_write_timeout - an MTA that stops reading in the middle of a
 * long answer: the engine gives up after the I/O timeout instead of
 * waiting for ever (the rest of the body is never sent) */
static void
test_write_timeout(const char *path)
{
	static const char eom[] = "\0\0\0\1E";
	int fd = pool_connect(path);
	size_t got = 0;
	char chunk[65536];
	ssize_t n;

	if (fd < 0 || write(fd, eom, sizeof(eom) - 1) != (ssize_t) sizeof(eom) - 1) {
		tap_ok(0, "a connection that asks for the end of message");
		if (fd >= 0)
			close(fd);
		return;
	}
	sleep(4);	/* not reading, past the 2 s timeout */
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		got += (size_t) n;
	close(fd);
	tap_ok(got > 0 && got < BIG_BODY,
	       "an MTA that stops reading: the engine gives up after the timeout (%zu of %zu bytes)",
	       got, BIG_BODY);
}

/* test_pool - threads that were busy end once idle, but never all of
 * them: a connection after a quiet spell is still served (200 threads
 * idle alike once all ended together, and mvmtr answered no more) */
static void
test_pool(void)
{
	char dir[] = "/tmp/engine_testXXXXXX", path[64], spec[80], err[256];
	int fds[200];
	pthread_t t;

	if (mkdtemp(dir) == NULL) {
		tap_ok(0, "a directory for the socket");
		return;
	}
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(spec, sizeof(spec), "unix:%s", path);
	eng_set_idle(1);
	if (eng_open(spec, err, sizeof(err)) < 0) {
		tap_ok(0, "listen on %s: %s", spec, err);
		return;
	}
	pthread_create(&t, NULL, pool_run, NULL);
	for (int round = 0; round < 3; round++) {
		int n = 0;

		/* a burst: a thread for each connection at once */
		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if ((fds[i] = n == (int) i ? pool_connect(path) : -1) >= 0)
				n++;	/* (after one is not served, none is tried) */
		tap_is_int(n, 200, "round %d: 200 connections at once, each served", round + 1);
		if (n < 200)
			break;
		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (fds[i] >= 0)
				close(fds[i]);
		/* quiet for longer than the idle time, twice over */
		sleep(3);
		if ((fds[0] = pool_connect(path)) >= 0)
			close(fds[0]);
		tap_ok(fds[0] >= 0, "round %d: after 3 s without connections, one is served",
		       round + 1);
	}
	test_write_timeout(path);
	eng_stop();
	pthread_join(t, NULL);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	buf_free(&log_buf);
	test_pool();	/* last: eng_stop() is for good */
	return tap_done();
}
