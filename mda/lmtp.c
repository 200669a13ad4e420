/*
 * lmtp - mvmda -L: a long-running delivery service speaking LMTP (RFC
 * 2033), for an MTA that hands its local deliveries over a socket
 * (Postfix's mailbox_transport = lmtp:unix:..., virtual_transport,
 * Dovecot-style) instead of starting mvmda once per message.
 *
 * The service (root) listens on a unix socket (mode 0660, -g's group)
 * or TCP, and serves each connection in a process of its own. A
 * transaction's message is read once into an unlinked file (with the
 * Return-Path of its sender on top), then each recipient is delivered
 * in a child of its own that becomes that recipient's account before it
 * reads anything of theirs and runs the same delivery as "mvmda -d USER
 * -f SENDER -a RECIPIENT" with the file on its standard input - the rc
 * script, the user's scripts, Maildir or mbox, fsync - and whose exit
 * code is the recipient's reply, mapped as Postfix maps a delivery
 * agent's (EX_TEMPFAIL and EX_OSERR 4xx, the others of sysexits.h 5xx,
 * anything else, a signal or a timeout 4xx: a doubt is never a bounce).
 * Children are forked, not executed: no program start per delivery.
 *
 * DIAGNOSTICS: each recipient's result is logged (to=, user, result,
 * exit code) and said in its reply with the child's first output line;
 * an account that does not exist is refused at RCPT (550 5.1.1), root's
 * too (550 5.7.1: mvmda never delivers as root); a connection idle for
 * -t seconds, or a delivery taking longer, ends with 421 / 451.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "lmtp.h"
#include "service.h"

#define LMTP_LINE_MAX	4096	/* a command line */
#define LMTP_RCPTS_MAX	1000	/* recipients of one transaction */
#define LMTP_MESSAGE_MAX	((off_t) 256 << 20)	/* as mvmda reads stdin */
#define LMTP_OUTPUT_MAX	512	/* of a delivery's output, for its reply */

static volatile sig_atomic_t stopping;

/* A connection: its socket and what was read ahead of the commands. */
struct conn {
	int fd;
	char buf[8192];
	size_t start, end;
	int timeout;		/* seconds a read may wait */
	int eof;		/* the client went (or a read failed) */
	unsigned long id;	/* for the log and the replies */
	int spool;		/* the file each message is spooled to, in
				 * turn (-1: none yet): one inode a
				 * connection, not one a message */
};

/* on_stop - SIGTERM, SIGINT: no new connections */
static void
on_stop(int sig)
{
	(void) sig;
	stopping = 1;
}

/* fill - more of C's input; 0, -1 at its end, a failure or the timeout */
static int
fill(struct conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;

	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == sizeof(c->buf))
		return 0;
	for (;;) {
		int r = poll(&p, 1, c->timeout * 1000);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			c->eof = 1;
			return -1;
		}
		n = read(c->fd, c->buf + c->end, sizeof(c->buf) - c->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->eof = 1;
			return -1;
		}
		c->end += (size_t) n;
		return 0;
	}
}

/* get_line - the next line of C, without its CRLF, into LINE (at most
 * SIZE - 1 bytes: the rest of a longer one is dropped and *LONG_R set);
 * its length, or -1 at the input's end */
static ssize_t
get_line(struct conn *c, char *line, size_t size, int *long_r)
{
	size_t len = 0;

	*long_r = 0;
	for (;;) {
		char *nl = memchr(c->buf + c->start, '\n', c->end - c->start);
		size_t take = nl != NULL ? (size_t) (nl - (c->buf + c->start)) : c->end - c->start;

		if (len + take < size) {
			memcpy(line + len, c->buf + c->start, take);
			len += take;
		} else {
			*long_r = 1;
		}
		c->start += take;
		if (nl != NULL) {
			c->start++;
			break;
		}
		if (fill(c) < 0)
			return -1;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = 0;
	return (ssize_t) len;
}

/* say - one reply (its lines CRLF-ended) to C's client; -1 when it is gone */
static int
say(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
say(struct conn *c, const char *fmt, ...)
{
	char out[1024];
	va_list ap;
	int n;
	size_t off = 0;

	va_start(ap, fmt);
	n = vsnprintf(out, sizeof(out) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t) n > sizeof(out) - 3)
		n = (int) sizeof(out) - 3;
	memcpy(out + n, "\r\n", 2);
	n += 2;
	while (off < (size_t) n) {
		ssize_t w = write(c->fd, out + off, (size_t) n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			c->eof = 1;
			return -1;
		}
		off += (size_t) w;
	}
	return 0;
}

/* address - the path in "FROM:<a@b> PARAMS" after PREFIX ("FROM:"),
 * without its brackets, into OUT; -1 when it is not one */
static int
address(const char *arg, const char *prefix, char *out, size_t size)
{
	size_t plen = strlen(prefix), len;
	const char *p, *end;

	if (strncasecmp(arg, prefix, plen) != 0)
		return -1;
	p = arg + plen;
	while (*p == ' ')
		p++;
	if (*p != '<' || (end = strchr(p, '>')) == NULL)
		return -1;
	p++;
	if (*p == '@' && (p = strchr(p, ':')) != NULL)
		p++;	/* a source route: dropped (RFC 5321 4.1.1.3) */
	if (p == NULL || p > end || (len = (size_t) (end - p)) >= size)
		return -1;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) p[i] < 0x20 || p[i] == 0x7f)
			return -1;
	memcpy(out, p, len);
	out[len] = 0;
	return 0;
}

/* ahead - at least N bytes of C's input at hand, or a line end among
 * them; 0, -1 at the input's end */
static int
ahead(struct conn *c, size_t n)
{
	while (c->end - c->start < n && !memchr(c->buf + c->start, '\n', c->end - c->start))
		if (fill(c) < 0)
			return -1;
	return 0;
}

/* spool - the message's data lines from C (dot-stuffing undone, CRLF
 * as LF) into the connection's unlinked spool file (cut first), under "Return-Path: <SENDER>"; its
 * descriptor, -1 when the client went (*WHY_R NULL) or it could not be
 * kept (*WHY_R the reply's code and text; the data is still read to
 * its end) */
static int
spool(struct conn *c, const char *sender, const char **why_r)
{
	char path[] = "/tmp/mvmda-lmtp.XXXXXX";
	FILE *f = NULL;
	int fd, wfd, failed = 0, too_big = 0;
	off_t size = 0;

	*why_r = NULL;
	if (c->spool < 0 && (c->spool = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0
	    && (c->spool = mkostemp(path, O_CLOEXEC)) >= 0)
		unlink(path);
	/* the deliveries read it through the same file offset */
	if ((fd = c->spool) >= 0 && (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)) {
		close(fd);
		fd = c->spool = -1;
	}
	if (fd >= 0 && (wfd = dup(fd)) >= 0 && (f = fdopen(wfd, "w")) == NULL)
		close(wfd);
	if (f == NULL) {
		mda_log(LOG_ERR, "lmtp: cannot make a file for the message in /tmp: %s",
			strerror(errno));
		failed = 1;
	} else {
		fprintf(f, "Return-Path: <%s>\n", sender);
	}
	while (ahead(c, 3) == 0) {
		const char *p = c->buf + c->start;
		size_t avail = c->end - c->start;

		/* a line's start: "." alone ends the data, ".." is "." */
		if (p[0] == '.' && ((avail >= 2 && p[1] == '\n')
				    || (avail >= 3 && p[1] == '\r' && p[2] == '\n'))) {
			c->start += p[1] == '\n' ? 2 : 3;
			if (f != NULL && (fflush(f) != 0 || ferror(f)))
				failed = 1;
			if (f != NULL)
				fclose(f);
			if (!failed && !too_big)
				return fd;
			*why_r = too_big ? "552 5.3.4 Message too big"
			    : "451 4.3.0 Cannot keep the message for delivery, try again later";
			return -1;	/* the spool is cut for the next one */
		}
		if (p[0] == '.')
			c->start++;
		/* the line, as it comes: a CR is held until what follows it
		 * shows whether it ends the line */
		for (;;) {
			char *nl = memchr(c->buf + c->start, '\n', c->end - c->start);
			size_t take = nl != NULL ? (size_t) (nl - (c->buf + c->start))
			    : c->end - c->start;

			if (take > 0 && c->buf[c->start + take - 1] == '\r')
				take--;
			if (f != NULL && !too_big) {
				if (take > 0 && fwrite(c->buf + c->start, 1, take, f) != take)
					failed = 1;
				if (nl != NULL && putc('\n', f) == EOF)
					failed = 1;
				size += (off_t) take + (nl != NULL);
				if (size > LMTP_MESSAGE_MAX)
					too_big = 1;
			}
			if (nl != NULL) {
				c->start = (size_t) (nl - c->buf) + 1;
				break;
			}
			c->start += take;
			if (fill(c) < 0)
				break;
		}
	}
	if (f != NULL)
		fclose(f);
	return -1;	/* the client went in the middle */
}

/* Postfix's reading of a delivery agent's exit code (sys_exits.c): the
 * enhanced status; 4xx for those that may pass, for any code not in the
 * table, for a signal */
static const struct exit_map {
	int code;
	const char *reply;
} exits[] = {
	{ EX_USAGE, "550 5.3.0" }, { EX_DATAERR, "550 5.6.0" },
	{ EX_NOINPUT, "550 5.3.0" }, { EX_NOUSER, "550 5.1.1" },
	{ EX_NOHOST, "550 5.1.2" }, { EX_UNAVAILABLE, "550 5.3.0" },
	{ EX_SOFTWARE, "550 5.3.0" }, { EX_OSERR, "451 4.3.0" },
	{ EX_OSFILE, "550 5.3.0" }, { EX_CANTCREAT, "550 5.2.0" },
	{ EX_IOERR, "550 5.3.0" }, { EX_TEMPFAIL, "451 4.3.0" },
	{ EX_PROTOCOL, "550 5.5.0" }, { EX_NOPERM, "550 5.7.0" },
	{ EX_CONFIG, "550 5.3.5" },
};

/* reply_text - what a delivery said on its output, made one short line */
static void
reply_text(char *out, size_t len)
{
	size_t j = 0;

	for (size_t i = 0; i < len && out[i] != '\n'; i++)
		out[j++] = (unsigned char) out[i] >= 0x20 && out[i] != 0x7f ? out[i] : ' ';
	out[j] = 0;
}

/* deliver_one - RCPT (USER's) from SENDER, the message in MSG, in a child
 * that becomes USER: its reply into REPLY */
static void
deliver_one(const struct lmtp_opts *o, struct conn *c, int msg, const char *user,
	    const char *sender, const char *rcpt, unsigned n, char *reply, size_t size)
{
	char out[LMTP_OUTPUT_MAX + 1], id[64];
	size_t outlen = 0;
	int pipefd[2], status = 0, timed_out = 0;
	struct timespec t0, t1;
	pid_t pid;
	const char *code = "451 4.3.0";

	snprintf(id, sizeof(id), "L%lu.%u", c->id, n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (pipe2(pipefd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		mda_log(LOG_ERR, "lmtp: to=<%s> cannot start its delivery: %s", rcpt, strerror(errno));
		snprintf(reply, size, "451 4.3.0 <%s> cannot start the delivery, try again later", rcpt);
		return;
	}
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (lseek(msg, 0, SEEK_SET) < 0 || dup2(msg, 0) < 0 || dup2(pipefd[1], 1) < 0)
			_exit(EX_TEMPFAIL);
		close(c->fd);
		setenv("QUEUE_ID", id, 1);
		log_set_id(id);
		o->deliver(o->ctx, user, sender, rcpt);
		_exit(EX_TEMPFAIL);	/* not reached */
	}
	close(pipefd[1]);
	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		char sink[512];
		ssize_t r;
		int left;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = o->timeout * 1000 - (int) ((t1.tv_sec - t0.tv_sec) * 1000
						  + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, left) == 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		r = read(pipefd[0], outlen < LMTP_OUTPUT_MAX ? out + outlen : sink,
			 outlen < LMTP_OUTPUT_MAX ? LMTP_OUTPUT_MAX - outlen : sizeof(sink));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (outlen < LMTP_OUTPUT_MAX)
			outlen += (size_t) r;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	reply_text(out, outlen);
	if (!timed_out && WIFEXITED(status)) {
		int ex = WEXITSTATUS(status);

		if (ex == 0)
			code = "250 2.0.0";
		for (size_t i = 0; i < sizeof(exits) / sizeof(exits[0]); i++)
			if (exits[i].code == ex)
				code = exits[i].reply;
		mda_log(ex == 0 ? LOG_INFO : LOG_NOTICE, "lmtp %s: to=<%s> user=%s result=%s "
			"(exit %d)%s%s", id, rcpt, user, ex == 0 ? "delivered"
			: code[0] == '4' ? "deferred" : "bounced", ex, *out ? ": " : "", out);
		if (ex == 0)
			snprintf(reply, size, "250 2.0.0 <%s> delivered (%s)", rcpt, id);
		else
			snprintf(reply, size, "%s <%s> %s (%s, exit %d)", code, rcpt,
				 *out ? out : code[0] == '4' ? "delivery deferred"
				 : "delivery failed", id, ex);
		return;
	}
	mda_log(LOG_ERR, "lmtp %s: to=<%s> user=%s result=deferred: %s", id, rcpt, user,
		timed_out ? "the delivery took too long (-t), killed"
		: "the delivery died of a signal");
	snprintf(reply, size, "451 4.3.0 <%s> delivery %s, try again later (%s)", rcpt,
		 timed_out ? "timed out" : "failed", id);
}

/* The transaction under way. */
struct txn {
	int has_lhlo, has_mail;
	char sender[1024];
	size_t nrcpt;
	char *rcpt[LMTP_RCPTS_MAX];
	char *user[LMTP_RCPTS_MAX];
};

/* txn_reset - RSET, or a transaction's end */
static void
txn_reset(struct txn *t)
{
	for (size_t i = 0; i < t->nrcpt; i++) {
		free(t->rcpt[i]);
		free(t->user[i]);
	}
	t->nrcpt = 0;
	t->has_mail = 0;
	t->sender[0] = 0;
}

/* serve - one connection, in a process of its own */
static void
serve(const struct lmtp_opts *o, int fd, unsigned long id, const char *host)
{
	struct conn c = { .fd = fd, .timeout = o->timeout, .id = id, .spool = -1 };
	struct txn t = { 0 };
	char line[LMTP_LINE_MAX], arg[1024];
	unsigned delivered = 0;

	say(&c, "220 %s LMTP mvmda ready", host);
	while (!c.eof) {
		int too_long;
		ssize_t len = get_line(&c, line, sizeof(line), &too_long);
		char *sp;

		if (len < 0) {
			if (!c.eof)
				break;
			say(&c, "421 4.4.2 %s timeout, closing", host);
			break;
		}
		if (too_long) {
			say(&c, "500 5.5.2 Line too long");
			continue;
		}
		sp = strchr(line, ' ');
		if (sp != NULL)
			*sp++ = 0;
		if (strcasecmp(line, "LHLO") == 0) {
			txn_reset(&t);
			t.has_lhlo = 1;
			say(&c, "250-%s\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
			    "250 8BITMIME", host);
		} else if (strcasecmp(line, "HELO") == 0 || strcasecmp(line, "EHLO") == 0) {
			say(&c, "500 5.5.1 This is LMTP: LHLO, please");
		} else if (strcasecmp(line, "MAIL") == 0) {
			if (!t.has_lhlo)
				say(&c, "503 5.5.1 LHLO first");
			else if (t.has_mail)
				say(&c, "503 5.5.1 Nested MAIL command");
			else if (sp == NULL || address(sp, "FROM:", t.sender, sizeof(t.sender)) < 0)
				say(&c, "501 5.1.7 Bad sender address syntax");
			else if ((t.has_mail = 1))
				say(&c, "250 2.1.0 Ok");
		} else if (strcasecmp(line, "RCPT") == 0) {
			char user[64];
			int r;

			if (!t.has_mail)
				say(&c, "503 5.5.1 MAIL first");
			else if (sp == NULL || address(sp, "TO:", arg, sizeof(arg)) < 0 || !*arg)
				say(&c, "501 5.1.3 Bad recipient address syntax");
			else if (t.nrcpt == LMTP_RCPTS_MAX)
				say(&c, "452 4.5.3 Too many recipients");
			else if ((r = o->route(o->ctx, arg, user, sizeof(user))) == -2)
				say(&c, "550 5.7.1 <%s> mvmda does not deliver as root "
				    "(alias root to a user)", arg);
			else if (r < 0)
				say(&c, "550 5.1.1 <%s> No such user here", arg);
			else if ((t.rcpt[t.nrcpt] = strdup(arg)) == NULL
				 || (t.user[t.nrcpt] = strdup(user)) == NULL) {
				free(t.rcpt[t.nrcpt]);
				say(&c, "452 4.3.0 Out of memory");
			} else {
				t.nrcpt++;
				say(&c, "250 2.1.5 Ok");
			}
		} else if (strcasecmp(line, "DATA") == 0) {
			const char *why;
			int msg;

			if (!t.has_mail || t.nrcpt == 0) {
				say(&c, t.has_mail ? "503 5.5.1 No valid recipients"
				    : "503 5.5.1 MAIL first");
				continue;
			}
			say(&c, "354 End data with <CR><LF>.<CR><LF>");
			if ((msg = spool(&c, t.sender, &why)) < 0) {
				if (why == NULL)
					break;	/* the client went: nothing was accepted */
				for (size_t i = 0; i < t.nrcpt; i++)
					say(&c, "%s <%s>", why, t.rcpt[i]);
			} else {
				o->prepare(o->ctx);
				/* each recipient's reply as soon as it is known */
				for (size_t i = 0; i < t.nrcpt && !c.eof; i++) {
					char reply[1024];

					deliver_one(o, &c, msg, t.user[i], t.sender, t.rcpt[i],
						    ++delivered, reply, sizeof(reply));
					say(&c, "%s", reply);
				}
			}
			txn_reset(&t);
		} else if (strcasecmp(line, "RSET") == 0) {
			txn_reset(&t);
			say(&c, "250 2.0.0 Ok");
		} else if (strcasecmp(line, "NOOP") == 0) {
			say(&c, "250 2.0.0 Ok");
		} else if (strcasecmp(line, "VRFY") == 0) {
			say(&c, "252 2.5.2 Send some mail, I'll try my best");
		} else if (strcasecmp(line, "QUIT") == 0) {
			say(&c, "221 2.0.0 Bye");
			break;
		} else {
			say(&c, "500 5.5.2 Command not recognized");
		}
	}
	txn_reset(&t);
	if (c.spool >= 0)
		close(c.spool);
	close(fd);
}

/* listen_inet - "inet:[HOST:]PORT" (HOST: an address; default
 * 127.0.0.1); -1 logged */
static int
listen_inet(const char *spec)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICHOST };
	struct addrinfo *ai = NULL;
	char host[256] = "127.0.0.1";
	const char *port = spec + 5, *colon = strrchr(spec + 5, ':');
	int fd = -1, one = 1, rc;

	if (colon != NULL) {
		size_t n = (size_t) (colon - (spec + 5));

		if (n >= sizeof(host)) {
			mda_log(LOG_ERR, "-L %s: not an address", spec);
			return -1;
		}
		memcpy(host, spec + 5, n);
		host[n] = 0;
		if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
			memmove(host, host + 1, n - 2);
			host[n - 2] = 0;
		}
		port = colon + 1;
	}
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		mda_log(LOG_ERR, "-L %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0
	    || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		mda_log(LOG_ERR, "-L %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* lmtp_main - the service: serves until SIGTERM; an exit code */
int
lmtp_main(const struct lmtp_opts *o)
{
	struct sigaction sa = { .sa_handler = on_stop };
	char host[256];
	unsigned long n = 0;
	int fd, active = 0;

	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = 0;
	if (strncmp(o->spec, "inet:", 5) == 0)
		fd = listen_inet(o->spec);
	else
		fd = service_listen_unix(o->spec, o->group, "-L");
	if (fd < 0)
		return EX_TEMPFAIL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	mda_log(LOG_INFO, "lmtp: listening on %s (at most %d connections)", o->spec, o->max_conns);
	while (!stopping) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int conn;
		pid_t pid;

		while (waitpid(-1, NULL, WNOHANG) > 0)
			active--;
		if (poll(&p, 1, 1000) <= 0)
			continue;
		if ((conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		while (waitpid(-1, NULL, WNOHANG) > 0)	/* the ones that ended meanwhile */
			active--;
		if (active >= o->max_conns) {
			static const char busy[] = "421 4.3.2 Too many connections, try again later\r\n";

			if (write(conn, busy, sizeof(busy) - 1) < 0) {
				/* the client went already */
			}
			mda_log(LOG_WARNING, "lmtp: %d connections at once (-j): one turned away",
				active);
			close(conn);
			continue;
		}
		n++;
		if ((pid = fork()) < 0) {
			mda_log(LOG_ERR, "lmtp: cannot fork: %s", strerror(errno));
			close(conn);
			continue;
		}
		if (pid == 0) {
			close(fd);
			signal(SIGTERM, SIG_DFL);	/* a transaction under way ends */
			signal(SIGINT, SIG_DFL);
			serve(o, conn, (unsigned long) getpid() * 1000 + n % 1000, host);
			_exit(0);
		}
		active++;
		close(conn);
	}
	close(fd);
	mda_log(LOG_INFO, "lmtp: stopping; %d connections finish on their own", active);
	return 0;
}
