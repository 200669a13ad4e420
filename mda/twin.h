/* twin.h - mvmda with a static glibc, and mvmda-dynamic for what it cannot */
#ifndef MDA_TWIN_H
#define MDA_TWIN_H

#include <stddef.h>

struct buf;

const char *twin_path(void);
void twin_exec(char **argv) __attribute__((noreturn));
void twin_forget(void);
int twin_charset(const char *name, const char *in, size_t len, struct buf *out);
int twin_charset_serve(void);

#endif
