/* state.h - mvmda's per-user memory: duplicate ids (RFC 7352), vacation
 * replies, and the parts of a delivery done before a retry */
#ifndef MDA_STATE_H
#define MDA_STATE_H

#include <stddef.h>
#include <stdint.h>

int state_duplicate(const char *path, const char *key, size_t len,
		    int64_t seconds, int last, char *err, size_t errsize);
int state_claim(const char *path, const char *key, size_t len,
		int64_t seconds, char *err, size_t errsize);
void state_forget(const char *path, const char *key, size_t len);
int state_seen(const char *path, const char *key, size_t len, char *err,
	       size_t errsize);
int state_mark(const char *path, const char *key, size_t len, int64_t seconds,
	       char *err, size_t errsize);
void state_drop(const char *path, const char *prefix, size_t len);
void state_finish(int delivered);

#endif
