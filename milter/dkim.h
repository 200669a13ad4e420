/* dkim.h - DKIM signing with libopendkim (dkim.c) */
#ifndef MVMTR_DKIM_H
#define MVMTR_DKIM_H

#include <stddef.h>

struct buf;

struct dkim_key {
	char domain[256];
	char selector[64];
	char path[4096];
};

int dkim_key_find(const char *table, const char *domain, struct dkim_key *key, char *err,
		  size_t errsize);
int dkim_sign_message(const struct dkim_key *key, const char *job, const char *const *fields,
		      size_t nfields, const char *body, size_t body_len, struct buf *sig_r,
		      char *err, size_t errsize);

#endif
