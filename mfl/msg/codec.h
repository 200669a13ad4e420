/* codec.h - MIME transfer decoding: base64 and quoted-printable */
#ifndef MFL_CODEC_H
#define MFL_CODEC_H

#include <stddef.h>

struct buf;

void base64_decode(const char *in, size_t len, struct buf *out);
void qp_decode(const char *in, size_t len, struct buf *out);
void qp_decode_header(const char *in, size_t len, struct buf *out);
int hex_value(int ch);

#endif
