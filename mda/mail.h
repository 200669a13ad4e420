/* mail.h - what a delivery writes: mvmda's own header lines, then the
 * message as it came (without any "From " envelope line) */
#ifndef MDA_MAIL_H
#define MDA_MAIL_H

#include <stddef.h>
#include <sys/uio.h>
#include <time.h>

#include "mfl.h"
#include "msg/msg.h"

struct mail {
	struct buf head;	/* "Delivered-To: ...\n" lines mvmda adds */
	const char *data;	/* the message (a filter's output, once
				 * one ran) */
	size_t len;
	const char *came;	/* the message as it came */
	size_t came_len;
	const char *sender;	/* envelope sender, "" for <> */
	const char *recipient;	/* envelope recipient */
	time_t arrived;
	int file_fd;		/* a file holding the message, mapped at
				 * FILE_MAP (FILE_LEN bytes; NULL: none):
				 * what of DATA lies in it goes out with
				 * sendfile, never through our memory */
	const char *file_map;
	size_t file_len;
	int file_ours;		/* FILE_FD is mvmda's own spool file, in no
				 * folder yet: the first Maildir copy may be
				 * that file, linked into place */
};

int write_all(int fd, const char *p, size_t len);
int mail_in_file(const struct mail *mail);
int write_message(int fd, const struct mail *mail);

#endif
