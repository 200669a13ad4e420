/*
 * smtpd_main - mvmtr-smtpd, the qmail-smtpd-compatible receiver (built
 * with --enable-qmail-smtpd): run by tcpserver (or inetd) for one SMTP
 * connection on descriptors 0 and 1, it reads the connection from
 * tcpserver's environment (TCPREMOTEIP, TCPREMOTEHOST, TCPREMOTEINFO,
 * TCPLOCALIP, TCPLOCALHOST, RELAYCLIENT, DATABYTES; the addresses from
 * the socket itself when inetd or systemd started it), qmail's controls
 * from its control directory, and serves the dialogue (smtpd.c), asking
 * the running mvmtr over the milter protocol (milter_client.c) as
 * Postfix would: the script compiled, the store open and DNS answers
 * kept there, once, so each connection's process stays as small as
 * qmail-smtpd (it links libc only). Accepted mail goes to qmail-queue
 * ($QMAILQUEUE, else the qmail home's bin/qmail-queue): the message on
 * descriptor 0, the envelope on 1, a custom error on 6 (notqmail's exit
 * 82), exit codes read as qmail-smtpd reads them.
 *
 * DIAGNOSTICS: controls that cannot be read and an mvmtr that cannot be
 * reached are answered "421 ... (#4.3.0)" and logged; exit 0 after QUIT,
 * 1 after a failure (as qmail-smtpd), 64 for a bad option.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include "msg/msg.h"
#include "smtpd.h"

static const char *qmail_home = QMAIL_HOME;

/* fd_read - up to LEN bytes from descriptor 0 within TIMEOUT seconds */
static ssize_t
fd_read(void *ctx, void *buf, size_t len, int timeout)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };
	ssize_t n;
	int r;

	(void) ctx;
	do
		r = poll(&p, 1, timeout * 1000);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -2;
	if (r < 0)
		return -1;
	do
		n = read(0, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* write_all - LEN bytes of BUF to FD; 0, or -1 */
static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t) n;
	}
	return 0;
}

/* fd_write - all of BUF to descriptor 1, the client */
static int
fd_write(void *ctx, const void *buf, size_t len)
{
	(void) ctx;
	return write_all(1, buf, len);
}

/* qq_text - what qmail-smtpd says for qmail-queue's exit CODE */
static const char *
qq_text(int code)
{
	switch (code) {
	case 11: case 115: return "Denvelope address too long for qq (#5.1.3)";
	case 31: return "Dmail server permanently rejected message (#5.3.0)";
	case 51: return "Zqq out of memory (#4.3.0)";
	case 52: return "Zqq timeout (#4.3.0)";
	case 53: return "Zqq write error or disk full (#4.3.0)";
	case 54: return "Zqq read error (#4.3.0)";
	case 55: return "Zqq unable to read configuration (#4.3.0)";
	case 56: return "Zqq trouble making network connection (#4.3.0)";
	case 61: return "Zqq trouble in home directory (#4.3.0)";
	case 62: case 63: case 64: case 65: case 66:
		return "Zqq trouble creating files in queue (#4.3.0)";
	case 71: return "Zmail server temporarily rejected message (#4.3.0)";
	case 72: return "Zconnection to mail server timed out (#4.4.1)";
	case 73: return "Zconnection to mail server rejected (#4.4.1)";
	case 74: return "Zcommunication with mail server failed (#4.4.2)";
	case 81: case 91: return "Zqq internal bug (#4.3.0)";
	case 120: return "Zunable to exec qq (#4.3.0)";
	}
	return code >= 11 && code <= 40 ? "Dqq permanent problem (#5.3.0)"
	    : "Zqq temporary problem (#4.3.0)";
}

/* qmail_queue - the message and envelope to qmail-queue, as qmail.c
 * hands them: 0 and *QP, or -1 and ERR ("D..." or "Z...") */
static int
qmail_queue(void *ctx, const char *msg, size_t len, const char *sender,
	    char *const *rcpts, size_t nrcpts, unsigned long *qp, char *err, size_t errsize)
{
	const char *qq = getenv("QMAILQUEUE");
	char qqpath[4096], qqerr[256];
	int pm[2], pe[2], px[2], wstat, bad = 0;
	size_t nerr = 0;
	ssize_t n;
	pid_t pid;

	(void) ctx;
	if (qq == NULL || *qq == 0) {
		snprintf(qqpath, sizeof(qqpath), "%s/bin/qmail-queue", qmail_home);
		qq = qqpath;
	}
	if (pipe(pm) < 0)
		goto nopipe;
	if (pipe(pe) < 0) {
		close(pm[0]);
		close(pm[1]);
		goto nopipe;
	}
	if (pipe(px) < 0) {
		close(pm[0]), close(pm[1]), close(pe[0]), close(pe[1]);
		goto nopipe;
	}
	if ((pid = fork()) < 0) {
		close(pm[0]), close(pm[1]), close(pe[0]), close(pe[1]), close(px[0]), close(px[1]);
		goto nopipe;
	}
	if (pid == 0) {
		char *argv[] = { (char *) qq, NULL };

		close(pm[1]);
		close(pe[1]);
		close(px[0]);
		if (dup2(pm[0], 0) < 0 || dup2(pe[0], 1) < 0 || dup2(px[1], 6) < 0)
			_exit(120);
		if (pm[0] != 0)
			close(pm[0]);
		if (pe[0] != 1)
			close(pe[0]);
		if (px[1] != 6)
			close(px[1]);
		if (chdir(qmail_home) < 0)
			_exit(61);
		execv(qq, argv);
		_exit(120);
	}
	close(pm[0]);
	close(pe[0]);
	close(px[1]);
	*qp = (unsigned long) pid;
	bad |= write_all(pm[1], msg, len);
	close(pm[1]);
	{
		struct buf env = BUF_INIT;

		buf_printf(&env, "F%s", sender);
		buf_putc(&env, 0);
		for (size_t i = 0; i < nrcpts; i++) {
			buf_printf(&env, "T%s", rcpts[i]);
			buf_putc(&env, 0);
		}
		buf_putc(&env, 0);
		bad |= env.failed || write_all(pe[1], env.data, env.len);
		buf_free(&env);
	}
	close(pe[1]);
	while (nerr < sizeof(qqerr) - 1 && (n = read(px[0], qqerr + nerr, sizeof(qqerr) - 1 - nerr)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		nerr += (size_t) n;
	}
	qqerr[nerr] = 0;
	close(px[0]);
	while (waitpid(pid, &wstat, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errsize, "Zqq waitpid surprise (#4.3.0)");
			return -1;
		}
	if (!WIFEXITED(wstat)) {
		snprintf(err, errsize, "Zqq crashed (#4.3.0)");
		return -1;
	}
	if (WEXITSTATUS(wstat) == 0 && !bad)
		return 0;
	if (WEXITSTATUS(wstat) == 82 && nerr > 2 && (qqerr[0] == 'D' || qqerr[0] == 'Z'))
		snprintf(err, errsize, "%s", qqerr);	/* notqmail's custom error */
	else
		snprintf(err, errsize, "%s", WEXITSTATUS(wstat) == 0 ? "Zqq read error (#4.3.0)"
			 : qq_text(WEXITSTATUS(wstat)));
	return -1;
nopipe:
	snprintf(err, errsize, "Zqqt failure (#4.3.0)");
	return -1;
}

/* sock_ip - the address at one end of descriptor 0 (PEER, or ours) when
 * it is a socket, as inetd and systemd (Accept=yes) hand one over
 * without tcpserver's variables; NULL otherwise */
static const char *
sock_ip(int peer, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int r = peer ? getpeername(0, (struct sockaddr *) &ss, &len)
	    : getsockname(0, (struct sockaddr *) &ss, &len);

	if (r < 0)
		return NULL;
	if (ss.ss_family == AF_INET)
		return inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, out, (socklen_t) size);
	if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((struct sockaddr_in6 *) &ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a))
			return inet_ntop(AF_INET, (const char *) a + 12, out, (socklen_t) size);
		return inet_ntop(AF_INET6, a, out, (socklen_t) size);
	}
	return NULL;
}

static void
usage(FILE *f, int code)
{
	fprintf(f, "usage: mvmtr-smtpd [-f] [-l level] [-m milter] [-q qmail-home] [-R max-rcpts]\n"
		"                   [-t timeout]\n"
		"  -f          log to stderr too (for multilog)\n"
		"  -l level    log up to err, warning, notice, info (default) or debug\n"
		"  -m milter   the running mvmtr to ask (default %s)\n"
		"  -q home     qmail's home (default %s): control/, bin/qmail-queue\n"
		"  -R n        recipients a message may have (default 1000)\n"
		"  -t seconds  how long mvmtr may take to answer (default 30)\n"
		"run by tcpserver, one SMTP connection on fd 0 and 1\n",
		MVMTR_SOCKET, QMAIL_HOME);
	exit(code);
}

/* die421 - a start that cannot go on: the client is told, as
 * qmail-smtpd tells it, and it is logged */
static int
die421(const char *text, const char *why)
{
	char line[300];

	mtr_log(LOG_ERR, "%s: %s; answering 421", text, why);
	snprintf(line, sizeof(line), "421 %s (#4.3.0)\r\n", text);
	fd_write(NULL, line, strlen(line));
	return 1;
}

int
main(int argc, char **argv)
{
	const char *e, *milter = MVMTR_SOCKET;
	struct smtpd_policy *policy;
	struct smtpd_conf conf = { .max_rcpts = 1000 };
	struct smtpd_io io = { .read = fd_read, .write = fd_write, .queue = qmail_queue };
	struct qctl ctl;
	char ctldir[4096], err[512], peer[64], me[64];
	int to_stderr = 0, level = LOG_INFO, milter_timeout = 30, ch, status;

	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(stdout, 0);
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("mvmtr-smtpd %s\n", PACKAGE_VERSION);
		return 0;
	}
	while ((ch = getopt(argc, argv, "fl:m:q:R:t:V")) != -1) {
		switch (ch) {
		case 'f': to_stderr = 1; break;
		case 'l':
			if ((level = log_level_parse(optarg)) < 0)
				usage(stderr, EX_USAGE);
			break;
		case 'm': milter = optarg; break;
		case 'q': qmail_home = optarg; break;
		case 'R': conf.max_rcpts = strtoul(optarg, NULL, 10); break;
		case 't': milter_timeout = atoi(optarg); break;
		case 'V':
			printf("mvmtr-smtpd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	if (argc != optind || conf.max_rcpts == 0 || milter_timeout <= 0)
		usage(stderr, EX_USAGE);
	log_open("mvmtr-smtpd", to_stderr, level);
	signal(SIGPIPE, SIG_IGN);

	snprintf(ctldir, sizeof(ctldir), "%s/control", qmail_home);
	if (qctl_load(&ctl, ctldir, err, sizeof(err)) < 0) {
		qctl_free(&ctl);
		return die421("unable to read controls", err);
	}
	conf.ctl = &ctl;
	if ((e = getenv("TCPREMOTEIP")) == NULL && (e = sock_ip(1, peer, sizeof(peer))) == NULL)
		e = "unknown";
	conf.remoteip = e;
	conf.remotehost = (e = getenv("TCPREMOTEHOST")) ? e : "unknown";
	conf.remoteinfo = getenv("TCPREMOTEINFO");
	if ((conf.localip = getenv("TCPLOCALIP")) == NULL)
		conf.localip = sock_ip(0, me, sizeof(me));
	conf.local = (e = getenv("TCPLOCALHOST")) ? e : conf.localip ? conf.localip : "unknown";
	conf.relayclient = getenv("RELAYCLIENT");
	conf.databytes = ctl.databytes;
	if ((e = getenv("DATABYTES")) != NULL)
		conf.databytes = strtoul(e, NULL, 10);
	conf.timeout = ctl.timeout;
	if ((policy = milter_client_policy(milter, milter_timeout, err, sizeof(err))) == NULL) {
		qctl_free(&ctl);
		return die421("unable to reach the mail filter", err);
	}
	status = smtpd_run(&conf, &io, policy);
	qctl_free(&ctl);
	return status;
}
