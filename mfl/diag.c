/*
 * diag - collect compile errors as "file:line:col: error: text" lines,
 * so that every error of a file is reported, not only the first. After
 * max_errors messages the rest are counted but not kept.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "diag.h"

/* diag_init - no errors yet */
void
diag_init(struct diag *d)
{
	buf_init(&d->text);
	d->errors = 0;
	d->max_errors = 50;
}

/* diag_free - drop the messages */
void
diag_free(struct diag *d)
{
	buf_free(&d->text);
}

/* diag_error - add one error at FILE:LINE:COL */
void
diag_error(struct diag *d, const char *file, int line, int col,
	   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (d->errors++ >= d->max_errors) {
		if (d->errors == d->max_errors + 1)
			buf_printf(&d->text, "%s: error: too many errors, "
				   "giving up\n", file);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_printf(&d->text, "%s:%d:%d: error: %s\n", file, line, col, msg);
}
