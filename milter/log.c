/*
 * log - what mvmtr says: syslog on the mail facility, one line per
 * event, every line about a message starting with the MTA's queue id
 * (the {i} macro) as Postfix's own lines do, or "NOQUEUE" before there
 * is one; the same on stderr when running in the foreground, and only
 * there under systemd (its journal reads stderr).
 *
 * DIAGNOSTICS: none; logging never changes an answer.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "mvmtr.h"

static int log_stderr;
static const char *log_ident = "mvmtr";
static int log_syslog = 1;
static int log_level = LOG_INFO;

/* log_open - log as IDENT up to LEVEL; also to stderr when TO_STDERR,
 * and only there when that is systemd's journal (JOURNAL_STREAM, as
 * sd_journal_stream_fd(3) tells a service): the journal would hold each
 * line twice, once from syslog and once from stderr */
void
log_open(const char *ident, int to_stderr, int level)
{
	log_ident = ident;
	log_syslog = !(to_stderr && getenv("JOURNAL_STREAM") != NULL);
	if (log_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_stderr = to_stderr;
	log_level = level;
}

/* vlog - one line at PRIORITY, after PREFIX */
static void
vlog(int priority, const char *prefix, const char *fmt, va_list ap)
{
	char line[2048];

	if (priority > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_syslog)
		syslog(priority, "%s%s", prefix, line);
	if (log_stderr)
		fprintf(stderr, "%s: %s%s\n", log_ident, prefix, line);
}

/* log_level_parse - "info" as LOG_INFO, or -1 */
int
log_level_parse(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING },
		{ "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(name, levels[i].name) == 0)
			return levels[i].level;
	return -1;
}

/* mtr_log - a line about the daemon */
void
mtr_log(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(priority, "", fmt, ap);
	va_end(ap);
}

/* session_log - a line about connection S and its message */
void
session_log(const struct session *s, int priority, const char *fmt, ...)
{
	char prefix[96];
	va_list ap;

	if (priority > log_level)
		return;
	snprintf(prefix, sizeof(prefix), "%s: ", *s->queue_id ? s->queue_id : "NOQUEUE");
	va_start(ap, fmt);
	vlog(priority, prefix, fmt, ap);
	va_end(ap);
}
