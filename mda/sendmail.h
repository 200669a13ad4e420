/* sendmail.h - mail that leaves, through the local sendmail program */
#ifndef MDA_SENDMAIL_H
#define MDA_SENDMAIL_H

#include <stddef.h>

struct mail;
struct buf;

int sendmail_send(const char *program, const char *sender,
		  const char *recipient, const char *head, size_t head_len,
		  const char *data, size_t len, char *err, size_t errsize);
void reject_notice(const struct mail *mail, const char *reason, size_t rlen,
		   const char *msgid_domain, struct buf *out);

#endif
