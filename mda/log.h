/* log.h - mvmda's diagnostics: syslog (mail facility) and stderr */
#ifndef MDA_LOG_H
#define MDA_LOG_H

#include <syslog.h>

void log_open(const char *ident, int to_stderr);
void log_open_service(const char *ident);
void log_set_id(const char *id);
void log_user_file(const char *path);
void mda_log(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_errors(const char *text, int to_stderr, const char *prefix);
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
