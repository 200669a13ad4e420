/*
 * sendmail - mail that leaves (redirect, reject notices) is handed to
 * the local sendmail program: fork, execve with an argument vector and a
 * small fixed environment, never a shell, so no address can become a
 * command. "-oi" keeps a lone "." line in the message; "-f" sets the
 * envelope sender ("<>" for notices, RFC 5429 2.1 and RFC 3798); "--"
 * ends options so a recipient starting with "-" stays an address.
 *
 * DIAGNOSTICS: -1 with the reason in ERR when sendmail cannot be run,
 * dies, or exits non-zero; the caller makes that a temporary failure.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mail.h"
#include "msg/msg.h"
#include "sendmail.h"

/* sendmail_send - HEAD then DATA to RECIPIENT from SENDER ("" for <>) */
int
sendmail_send(const char *program, const char *sender, const char *recipient,
	      const char *head, size_t head_len, const char *data, size_t len,
	      char *err, size_t errsize)
{
	/* a fixed environment, and Postfix's MAIL_CONFIG when it names a
	 * directory: the instance that delivered is the one to send with */
	const char *mc = getenv("MAIL_CONFIG");
	char config[1024];
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL, NULL };
	char from[1024];
	char *argv[] = { (char *) program, "-oi", "-f", from, "--", (char *) recipient, NULL };
	int pfd[2], status, wr;
	void (*old_pipe)(int);
	pid_t pid;

	snprintf(from, sizeof(from), "%s", sender && *sender ? sender : "<>");
	if (mc != NULL && mc[0] == '/' && strlen(mc) < sizeof(config) - 12) {
		snprintf(config, sizeof(config), "MAIL_CONFIG=%s", mc);
		envp[1] = config;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errsize, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errsize, "fork: %s", strerror(errno));
		close(pfd[0]), close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		if (dup2(pfd[0], 0) < 0)
			_exit(75);
		execve(program, argv, envp);
		fprintf(stderr, "mvmda: cannot run %s: %s\n", program, strerror(errno));
		_exit(75);
	}
	close(pfd[0]);
	old_pipe = signal(SIGPIPE, SIG_IGN);
	wr = write_all(pfd[1], head, head_len) == 0 && write_all(pfd[1], data, len) == 0;
	close(pfd[1]);
	signal(SIGPIPE, old_pipe);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errsize, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errsize, "%s %s %d", program,
			 WIFEXITED(status) ? "exited with" : "killed by signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	if (!wr) {
		snprintf(err, errsize, "%s did not take the whole message", program);
		return -1;
	}
	return 0;
}

/* reject_notice - the MDN of RFC 5429 2.1 (RFC 3798 form): text/plain
 * reason, the disposition, the original message */
void
reject_notice(const struct mail *mail, const char *reason, size_t rlen,
	      const char *msgid_domain, struct buf *out)
{
	char date[64], boundary[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	snprintf(boundary, sizeof(boundary), "mvmda-%lld-%ld", (long long) now, (long) getpid());
	/* as Pigeonhole signs it: a human may answer the postmaster */
	buf_printf(out, "From: Postmaster <postmaster@%s>\n", msgid_domain);
	buf_printf(out, "To: <%s>\n", mail->sender);
	buf_puts(out, "Subject: Rejected: your message was refused\n");
	buf_printf(out, "Date: %s\n", date);
	buf_printf(out, "Message-ID: <%s@%s>\n", boundary, msgid_domain);
	buf_puts(out, "Auto-Submitted: auto-replied (rejected)\n");
	buf_puts(out, "MIME-Version: 1.0\n");
	buf_printf(out, "Content-Type: multipart/report; report-type=disposition-notification;\n"
		   "\tboundary=\"%s\"\n\n", boundary);
	buf_printf(out, "--%s\nContent-Type: text/plain; charset=utf-8\n"
		   "Content-Transfer-Encoding: 8bit\n\n", boundary);
	buf_printf(out, "Your message to <%s> was automatically rejected:\n", mail->recipient);
	buf_append(out, reason, rlen);
	buf_puts(out, "\n\n");
	buf_printf(out, "--%s\nContent-Type: message/disposition-notification\n\n", boundary);
	buf_printf(out, "Reporting-UA: %s; mvmda " PACKAGE_VERSION "\n", msgid_domain);
	buf_printf(out, "Final-Recipient: rfc822; %s\n", mail->recipient);
	buf_puts(out, "Disposition: automatic-action/MDN-sent-automatically; deleted\n\n");
	buf_printf(out, "--%s\nContent-Type: message/rfc822\n\n", boundary);
	buf_append(out, mail->data, mail->len);
	if (mail->len > 0 && mail->data[mail->len - 1] != '\n')
		buf_putc(out, '\n');
	buf_printf(out, "\n--%s--\n", boundary);
}
