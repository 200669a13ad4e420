/* maildir.h - one message into a maildir, safely */
#ifndef MDA_MAILDIR_H
#define MDA_MAILDIR_H

#include <stddef.h>

struct mail;

int maildir_unique(char *name, size_t size, size_t msg_size);
int maildir_flags(const char *const *flags, char *info, size_t size);
int maildir_deliver(int dirfd, const struct mail *mail,
		    const char *const *flags, char *name_r, size_t namesize,
		    char *err, size_t errsize);

#endif
