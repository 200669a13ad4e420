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
 * in a child of its own that runs the same delivery as "mvmda -d USER
 * -f SENDER -a RECIPIENT" with the file on its standard input - the rc
 * script, the user's scripts, Maildir or mbox, fsync - and whose exit
 * code is the recipient's reply, mapped as Postfix maps a delivery
 * agent's (EX_TEMPFAIL and EX_OSERR 4xx, the others of sysexits.h 5xx,
 * anything else, a signal or a timeout 4xx: a doubt is never a bounce).
 *
 * Children are forked, not executed: no program start per delivery.
 * They fork from the account's keeper, a process of the connection that
 * became that account (uid, gid, groups) before it reads anything of
 * theirs and lives as long as the connection (at most LMTP_KEEPERS of
 * them): the scripts a delivery had to compile or load, it names to its
 * keeper, which compiles them once more for itself (progcache.c, kept
 * while their files are unchanged), so that the next deliveries start
 * with them in memory. The connection hands the keeper the message's
 * file and the reply's pipe (SCM_RIGHTS); the keeper says the child's
 * pid, then its exit status.
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
#define LMTP_KEEPERS	16	/* accounts a connection keeps a keeper for */

/* An account's keeper: its process and the socket to it. */
struct keeper {
	char user[64];		/* "": a free slot */
	pid_t pid;
	int sock;		/* SOCK_SEQPACKET */
	unsigned long used;	/* the connection's clock when last used */
};

/* What a keeper says about a delivery: its pid, then how it ended. */
struct keeper_says {
	int started;		/* 1: PID is the child's; 0: STATUS is its end */
	pid_t pid;
	int status;		/* waitpid's, or -1 when it could not start */
};

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
	struct keeper keepers[LMTP_KEEPERS];
	unsigned long clock;
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

/* send_fds - LEN bytes of DATA and the descriptors FDS (N) on SOCK; -1 */
static int
send_fds(int sock, const void *data, size_t len, const int *fds, int n)
{
	char control[CMSG_SPACE(2 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = CMSG_SPACE((size_t) n * sizeof(int)) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN((size_t) n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, (size_t) n * sizeof(int));
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* recv_fds - a message on SOCK into DATA (SIZE), its two descriptors
 * into FDS; its length, 0 at the end, -1 */
static ssize_t
recv_fds(int sock, char *data, size_t size, int *fds)
{
	char control[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control) };
	struct cmsghdr *cm;
	ssize_t n;

	fds[0] = fds[1] = -1;
	while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS
		    && cm->cmsg_len == CMSG_LEN(2 * sizeof(int)))
			memcpy(fds, CMSG_DATA(cm), 2 * sizeof(int));
	if (fds[0] < 0 || fds[1] < 0) {
		if (fds[0] >= 0)
			close(fds[0]);
		errno = EPROTO;
		return -1;
	}
	return n;
}

/* keeper_main - USER's keeper: each request on SOCK ("SENDER\0RCPT\0ID\0",
 * the message's file and the reply's pipe) delivered in a child of its
 * own; ends when the connection closes SOCK */
static void __attribute__((noreturn))
keeper_main(const struct lmtp_opts *o, const char *user, int sock)
{
	o->become(o->ctx, user);
	for (;;) {
		char req[3 * 1024 + 64], learned[8192];
		int fds[2], learn[2];
		ssize_t n = recv_fds(sock, req, sizeof(req) - 1, fds), got;
		struct keeper_says says = { .started = 0, .status = -1 };
		const char *sender = req, *rcpt, *id;
		size_t len = 0;

		if (n <= 0)
			_exit(0);	/* the connection ended, or broke */
		req[n] = 0;
		rcpt = sender + strlen(sender) + 1;
		id = rcpt < req + n ? rcpt + strlen(rcpt) + 1 : req + n;
		if (id >= req + n || pipe2(learn, O_CLOEXEC) < 0
		    || (says.pid = fork()) < 0) {
			(void) !write(sock, &says, sizeof(says));
			close(fds[0]);
			close(fds[1]);
			continue;
		}
		if (says.pid == 0) {
			close(sock);
			close(learn[0]);
			if (lseek(fds[0], 0, SEEK_SET) < 0 || dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0)
				_exit(EX_TEMPFAIL);
			setenv("QUEUE_ID", id, 1);
			log_set_id(id);
			o->deliver(o->ctx, user, sender, rcpt, learn[1]);
			_exit(EX_TEMPFAIL);	/* not reached */
		}
		close(fds[0]);
		close(fds[1]);
		close(learn[1]);
		says.started = 1;
		if (write(sock, &says, sizeof(says)) != (ssize_t) sizeof(says))
			kill(says.pid, SIGKILL);	/* nobody waits for it */
		/* what it names is short (a few paths): it fits the pipe */
		while (waitpid(says.pid, &says.status, 0) < 0 && errno == EINTR)
			;
		while (len < sizeof(learned) - 1
		       && (got = read(learn[0], learned + len, sizeof(learned) - 1 - len)) != 0)
			if (got > 0)
				len += (size_t) got;
			else if (errno != EINTR)
				break;
		close(learn[0]);
		learned[len] = 0;
		says.started = 0;
		(void) !write(sock, &says, sizeof(says));
		/* after the reply: what it compiled, compiled here too */
		for (char *line = learned, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
			*nl = 0;
			o->learn(o->ctx, line);
		}
	}
}

/* keeper_end - K's keeper told to end (its socket closed), and reaped */
static void
keeper_end(struct keeper *k)
{
	if (!*k->user)
		return;
	close(k->sock);
	while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR)
		;
	*k->user = 0;
}

/* keepers_end - every keeper of C ended (the connection ends, or the rc
 * script they forked from changed) */
static void
keepers_end(struct conn *c)
{
	for (int i = 0; i < LMTP_KEEPERS; i++)
		keeper_end(&c->keepers[i]);
}

/* keeper_for - USER's keeper in C, started when there is none (the
 * least recently used one ends when all are taken); NULL (logged) */
static struct keeper *
keeper_for(const struct lmtp_opts *o, struct conn *c, const char *user)
{
	struct keeper *k = &c->keepers[0];
	int sv[2];

	if (strlen(user) >= sizeof(k->user)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	for (int i = 0; i < LMTP_KEEPERS; i++)
		if (strcmp(c->keepers[i].user, user) == 0) {
			c->keepers[i].used = ++c->clock;
			return &c->keepers[i];
		}
	for (int i = 1; i < LMTP_KEEPERS && *k->user; i++)
		if (!*c->keepers[i].user || c->keepers[i].used < k->used)
			k = &c->keepers[i];
	keeper_end(k);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0
	    || (k->pid = fork()) < 0)
		return NULL;
	if (k->pid == 0) {
		close(sv[0]);
		close(c->fd);
		for (int i = 0; i < LMTP_KEEPERS; i++)
			if (*c->keepers[i].user)
				close(c->keepers[i].sock);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		keeper_main(o, user, sv[1]);
	}
	close(sv[1]);
	snprintf(k->user, sizeof(k->user), "%s", user);
	k->sock = sv[0];
	k->used = ++c->clock;
	return k;
}

/* keeper_said - what K says next, waiting at most MS milliseconds
 * (-1: as long as it takes); -1 when it went or said nothing */
static int
keeper_said(struct keeper *k, struct keeper_says *says, int ms)
{
	struct pollfd p = { .fd = k->sock, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return -1;
	while ((n = read(k->sock, says, sizeof(*says))) < 0 && errno == EINTR)
		;
	return n == (ssize_t) sizeof(*says) ? 0 : -1;
}

/* deliver_one - RCPT (USER's) from SENDER, the message in MSG, in a child
 * of USER's keeper: its reply into REPLY */
static void
deliver_one(const struct lmtp_opts *o, struct conn *c, int msg, const char *user,
	    const char *sender, const char *rcpt, unsigned n, char *reply, size_t size)
{
	char out[LMTP_OUTPUT_MAX + 1], id[64], req[3 * 1024 + 64];
	size_t outlen = 0, reqlen;
	int pipefd[2] = { -1, -1 }, status = 0, timed_out = 0, ended = 0;
	struct timespec t0, t1;
	struct keeper_says says;
	struct keeper *k = NULL;
	const char *code = "451 4.3.0";

	snprintf(id, sizeof(id), "L%lu.%u", c->id, n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	errno = 0;
	reqlen = (size_t) snprintf(req, sizeof(req), "%s%c%s%c%s%c", sender, 0, rcpt, 0, id, 0);
	if (reqlen >= sizeof(req) || (k = keeper_for(o, c, user)) == NULL
	    || pipe2(pipefd, O_CLOEXEC) < 0
	    || send_fds(k->sock, req, reqlen, (int[]) { msg, pipefd[1] }, 2) < 0
	    || keeper_said(k, &says, o->timeout * 1000) < 0 || !says.started) {
		mda_log(LOG_ERR, "lmtp: to=<%s> cannot start its delivery: %s", rcpt,
			errno ? strerror(errno) : "its keeper could not fork");
		snprintf(reply, size, "451 4.3.0 <%s> cannot start the delivery, try again later", rcpt);
		if (pipefd[0] >= 0) {
			close(pipefd[0]);
			close(pipefd[1]);
		}
		if (k != NULL) {	/* gone, or stuck: a new one next time */
			kill(k->pid, SIGKILL);
			keeper_end(k);
		}
		return;
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
			kill(says.pid, SIGKILL);
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
	/* its end, from the keeper, which reaps it (a killed one at once; a
	 * child of its own still holding the output could keep it longer) */
	if (keeper_said(k, &says, timed_out ? 10000 : -1) == 0 && !says.started) {
		status = says.status;
		ended = 1;
	} else {
		kill(says.pid, SIGKILL);
		keeper_end(k);	/* it went, or lost count: a new one next time */
	}
	reply_text(out, outlen);
	if (ended && !timed_out && WIFEXITED(status)) {
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
		: ended ? "the delivery died of a signal" : "its keeper went");
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
				if (o->prepare(o->ctx))
					keepers_end(&c);	/* they forked from the old rc script */
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
	keepers_end(&c);
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
