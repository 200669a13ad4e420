/* mbox.h - one message appended to an mbox, locked, all or nothing */
#ifndef MDA_MBOX_H
#define MDA_MBOX_H

#include <stddef.h>

struct mail;
struct buf;

struct mbox_locking {
	int timeout;		/* seconds to wait for the locks */
	int stale;		/* a dot-lock older than this is stale */
};

void mbox_quote(const char *data, size_t len, struct buf *out);
void mbox_from_line(const char *sender, long long when, struct buf *out);
int mbox_deliver(int dirfd, const char *name, const struct mail *mail,
		 const struct mbox_locking *lk, char *err, size_t errsize);

#endif
