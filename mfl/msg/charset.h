/* charset.h - conversion to UTF-8 and UTF-8 validity */
#ifndef MFL_CHARSET_H
#define MFL_CHARSET_H

#include <stddef.h>

struct buf;

typedef int charset_converter(const char *name, const char *in, size_t len, struct buf *out);

int charset_to_utf8(const char *charset, size_t charset_len,
		    const char *in, size_t len, struct buf *out);
int charset_known(const char *charset, size_t charset_len);
int charset_utf8(const char *charset, size_t charset_len);
void charset_set_converter(charset_converter *fn);
void utf8_repair(const char *in, size_t len, struct buf *out);
int utf8_valid(const char *in, size_t len);
int utf8_name_ok(const char *name, size_t len);
size_t utf8_seq_len(const unsigned char *in, size_t len);
void utf8_put(struct buf *out, unsigned long code);

#endif
