/* rfc2047.h - decoding of MIME encoded-words in header text */
#ifndef MFL_RFC2047_H
#define MFL_RFC2047_H

#include <stddef.h>

struct buf;

void rfc2047_decode(const char *in, size_t len, struct buf *out);

#endif
