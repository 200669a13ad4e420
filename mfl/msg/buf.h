/* buf.h - growable byte strings, always NUL-terminated */
#ifndef MFL_BUF_H
#define MFL_BUF_H

#include <stddef.h>

struct buf {
	char *data;		/* NUL-terminated once anything is added */
	size_t len;
	size_t cap;
	int failed;		/* an allocation failed: contents incomplete */
	size_t limit;		/* 0, or the most bytes it may hold: past
				 * it, appends fail as when memory runs out */
};

#define BUF_INIT	{ NULL, 0, 0, 0, 0 }

void buf_init(struct buf *buf);
void buf_free(struct buf *buf);
void buf_reset(struct buf *buf);
int buf_reserve(struct buf *buf, size_t more);
void buf_append(struct buf *buf, const void *data, size_t len);
void buf_putc(struct buf *buf, int ch);
void buf_puts(struct buf *buf, const char *str);
void buf_printf(struct buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *buf_cstr(struct buf *buf);

#endif
