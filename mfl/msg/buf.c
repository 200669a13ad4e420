/*
 * buf - growable byte strings (Postfix's VSTRING, smaller)
 *
 * A buf is 8-bit clean and always NUL-terminated after the first append,
 * so its data can go to C string functions when it holds no NUL.
 *
 * A buf may have a limit (buf->limit, set by its owner): a run's output
 * is built in one that cannot grow past what the run may still
 * allocate, so a small input cannot make a large buffer first.
 *
 * DIAGNOSTICS: when memory runs out or the limit is reached,
 * buf->failed is set, the append is dropped, and later appends are
 * dropped too; callers check it once at the end instead of after every
 * append.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* buf_init - empty buffer, no limit */
void
buf_init(struct buf *buf)
{
	buf->data = NULL;
	buf->len = buf->cap = 0;
	buf->failed = 0;
	buf->limit = 0;
}

/* buf_free - release the storage; the buffer is empty again, with the
 * same limit */
void
buf_free(struct buf *buf)
{
	size_t limit = buf->limit;

	free(buf->data);
	buf_init(buf);
	buf->limit = limit;
}

/* buf_reset - make the buffer empty, keeping its storage */
void
buf_reset(struct buf *buf)
{
	buf->len = 0;
	buf->failed = 0;
	if (buf->data != NULL)
		buf->data[0] = 0;
}

/* buf_reserve - room for MORE bytes plus the NUL; -1 on failure */
int
buf_reserve(struct buf *buf, size_t more)
{
	size_t need, cap;
	char *data;

	if (buf->failed)
		return -1;
	if (more >= SIZE_MAX - buf->len - 1)
		goto fail;
	need = buf->len + more + 1;
	if (buf->limit != 0 && need - 1 > buf->limit)
		goto fail;
	if (need <= buf->cap)
		return 0;
	cap = buf->cap ? buf->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((data = realloc(buf->data, cap)) == NULL)
		goto fail;
	buf->data = data;
	buf->cap = cap;
	return 0;
fail:
	buf->failed = 1;
	return -1;
}

/* buf_append - add LEN bytes */
void
buf_append(struct buf *buf, const void *data, size_t len)
{
	if (buf_reserve(buf, len) < 0)
		return;
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = 0;
}

/* buf_putc - add one byte */
void
buf_putc(struct buf *buf, int ch)
{
	if (buf->len + 1 < buf->cap) {
		buf->data[buf->len++] = (char) ch;
		buf->data[buf->len] = 0;
		return;
	}
	if (buf_reserve(buf, 1) < 0)
		return;
	buf->data[buf->len++] = (char) ch;
	buf->data[buf->len] = 0;
}

/* buf_puts - add a C string */
void
buf_puts(struct buf *buf, const char *str)
{
	buf_append(buf, str, strlen(str));
}

/* buf_printf - add formatted text */
void
buf_printf(struct buf *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(buf, (size_t) n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf->data + buf->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	buf->len += (size_t) n;
}

/* buf_cstr - the contents as a C string ("" when empty) */
const char *
buf_cstr(struct buf *buf)
{
	if (buf->data == NULL && buf_reserve(buf, 0) < 0)
		return "";
	buf->data[buf->len] = 0;
	return buf->data;
}
