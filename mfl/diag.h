/* diag.h - compile diagnostics: "file:line:col: error: ..." */
#ifndef MFL_DIAG_H
#define MFL_DIAG_H

#include "msg/buf.h"

struct diag {
	struct buf text;	/* every message, one a line */
	int errors;
	int max_errors;		/* stop collecting after this many */
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);
void diag_error(struct diag *d, const char *file, int line, int col,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
