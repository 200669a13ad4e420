/*
 * log - where mvmda says what it did: one syslog line per event on the
 * mail facility, prefixed with the MTA's queue id when it gave one, and
 * the same text on stderr when a person is watching (-c, -i, -n, or a
 * terminal), which is also how an MTA puts it into a bounce.
 *
 * The rc script may name a log file of the user's own ($mvmda_logfile,
 * off by default): every line goes there too, with the time, so users
 * see their scripts' $log lines and errors and where mail went, as with
 * procmail's LOGFILE. It is opened as the user, appended to, never
 * through a symlink, and only when it is a regular file.
 *
 * DIAGNOSTICS: none; logging never fails a delivery (a log file that
 * cannot be opened is said once on the system log).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_stderr;
static int log_syslog = 1;
static char log_id[64];
static int user_fd = -1;		/* $mvmda_logfile, open */
static char user_path[4096];		/* and what it names */

/* log_open - start logging as IDENT; also to stderr when TO_STDERR. The
 * socket to syslog is made with the first line: a delivery that says
 * nothing does not pay for it */
void
log_open(const char *ident, int to_stderr)
{
	openlog(ident, LOG_PID, LOG_MAIL);
	log_stderr = to_stderr;
}

/* log_open_service - a service's log (mvmda -D): to stderr, and to
 * syslog unless stderr is systemd's journal (JOURNAL_STREAM, as
 * sd_journal_stream_fd(3) tells a service), which would hold each line
 * twice */
void
log_open_service(const char *ident)
{
	log_syslog = getenv("JOURNAL_STREAM") == NULL;
	if (log_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_stderr = 1;
}

/* log_set_id - the queue id that prefixes every line from now on */
void
log_set_id(const char *id)
{
	snprintf(log_id, sizeof(log_id), "%s", id ? id : "");
}

/* vlog - one line at PRIORITY */
static void
vlog(int priority, const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (!log_syslog)
		;
	else if (*log_id)
		syslog(priority, "%s: %s", log_id, line);
	else
		syslog(priority, "%s", line);
	if (log_stderr || priority <= LOG_WARNING)
		fprintf(stderr, "mvmda: %s\n", line);
	if (user_fd >= 0) {
		char stamp[64], out[2200];
		time_t now = time(NULL);
		struct tm tm;
		int n;

		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		n = snprintf(out, sizeof(out), "%s %s%s%s\n", stamp, log_id, *log_id ? ": " : "", line);
		if (n > 0)	/* one write: lines of deliveries at once do not mix */
			(void) !write(user_fd, out, (size_t) n < sizeof(out) ? (size_t) n : sizeof(out) - 1);
	}
}

/* log_user_file - every line from now on also into PATH ("" for none) */
void
log_user_file(const char *path)
{
	struct stat st;
	int fd;

	if (strcmp(path, user_path) == 0)
		return;
	if (user_fd >= 0)
		close(user_fd);
	user_fd = -1;
	snprintf(user_path, sizeof(user_path), "%s", path);
	if (!*path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
		errno = EINVAL;
	}
	if (fd < 0) {
		int e = errno;

		syslog(LOG_WARNING, "$mvmda_logfile %s: %s", path,
		       e == ELOOP ? "a symbolic link" : e == EINVAL ? "not a regular file" : strerror(e));
		return;
	}
	user_fd = fd;
}

/* mda_log - one line at PRIORITY */
void
mda_log(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(priority, fmt, ap);
	va_end(ap);
}

/* log_errors - each line of TEXT (compiler errors): on stderr as it
 * is when TO_STDERR (check mode), else logged at LOG_ERR after PREFIX */
void
log_errors(const char *text, int to_stderr, const char *prefix)
{
	for (const char *p = text; p != NULL && *p;) {
		size_t n = strcspn(p, "\n");

		if (to_stderr)
			fprintf(stderr, "%.*s\n", (int) n, p);
		else
			mda_log(LOG_ERR, "%s%.*s", prefix, (int) n, p);
		p += n + (p[n] == '\n');
	}
}

/* warn - report and carry on */
void
warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap);
	va_end(ap);
}
