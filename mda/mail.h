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
};

int write_all(int fd, const char *p, size_t len);

#endif
