/*
 * message - the message mvmda delivers, as every copy stores it: LF line
 * ends, and, once a filter program (vnd.dovecot.filter) ran, its output
 * in place of what came.
 *
 * DIAGNOSTICS: NULL or -1 with errno when memory runs out.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mda.h"
#include "mfl.h"
#include "msg/msg.h"

/* mda_lf_only - MSG with each CRLF as LF, as Maildir and mbox keep mail on
 * Unix and as mvmda's own lines end: a copy when it holds a CRLF, MSG
 * itself when not; NULL (errno) when memory runs out */
struct msg *
mda_lf_only(struct msg *msg)
{
	size_t len, n = 0;
	const char *data = msg_data(msg, &len);
	char *copy;
	struct msg *lf;

	if (len == 0 || memmem(data, len, "\r\n", 2) == NULL)
		return msg;
	if ((copy = malloc(len)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
			copy[n++] = data[i];
	if ((lf = msg_from_mem(copy, n, (size_t) 256 << 20)) == NULL) {
		free(copy);
		return NULL;
	}
	msg_free(msg);
	return lf;	/* COPY lives as long as the process */
}

/* mda_adopt_message - MSG, what a filter made of the message (and now
 * ours), is the message every later test and action sees, with LF line
 * ends as every message here; the one before stays until exit (what the
 * scripts hold may point into it); -1 when memory runs out */
int
mda_adopt_message(struct mda *m, struct msg *msg)
{
	if ((msg = mda_lf_only(msg)) == NULL)
		return -1;
	m->msg = msg;
	m->mail.data = msg_data(msg, &m->mail.len);
	if (m->rc_run != NULL)
		mfl_run_set_message(m->rc_run, msg);
	return 0;
}
