/*
 * log - where mvmda says what it did: one syslog line per event on the
 * mail facility, prefixed with the MTA's queue id when it gave one, and
 * the same text on stderr when a person is watching (-c, -i, -n, or a
 * terminal), which is also how an MTA puts it into a bounce.
 *
 * DIAGNOSTICS: none; logging never fails a delivery.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static int log_stderr;
static char log_id[64];

/* log_open - start logging as IDENT; also to stderr when TO_STDERR */
void
log_open(const char *ident, int to_stderr)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_stderr = to_stderr;
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
	if (*log_id)
		syslog(priority, "%s: %s", log_id, line);
	else
		syslog(priority, "%s", line);
	if (log_stderr || priority <= LOG_WARNING)
		fprintf(stderr, "mvmda: %s\n", line);
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
