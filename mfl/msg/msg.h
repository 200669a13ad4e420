/*
 * msg.h - the message model, libmfl's lower layer, and its one face for
 * hosts: mvmda, mvmtr, mvmcas, the tools and the tests include this
 * header and no other from mfl/msg/.
 *
 * A message is held once (msg_from_mem, msg_read_fd, below); its header
 * index, addresses, MIME tree and decoded text refer into it and live in
 * the message's arena, freed with it. What the layer gives, by header:
 *
 *   arena.h      memory owned by a lifetime: allocate often, free once
 *   buf.h        struct buf, growable NUL-terminated byte strings
 *   str.h        struct str (pointer, length) views, ASCII helpers, and
 *                str_hash, the FNV-1a every hash table here uses
 *   hdr.h        the header index: fields by name, their unfolded and
 *                RFC 2047 decoded values, inserts and removals
 *   addr.h       RFC 5322 address lists, obsolete syntax included
 *   rfc2047.h    encoded words in header values
 *   charset.h    a named charset to UTF-8 (iconv); UTF-8 checks, repair
 *   codec.h      base64 and quoted-printable decoding
 *   mimeparam.h  Content-Type parameters (RFC 2045, RFC 2231)
 *   mime.h       the MIME tree and decoded part bodies
 *   date.h       RFC 5322 date-time, and the date parts of RFC 5260
 *
 * The layer knows nothing of the language: no file under mfl/msg/
 * includes a header from mfl/ or mfl/intr/ (t/sh/layers.sh checks).
 * Failures are return values (NULL, -1, or buf's failed flag): nothing
 * here exits or logs.
 */
#ifndef MFL_MSG_H
#define MFL_MSG_H

#include <stddef.h>

#include "addr.h"
#include "arena.h"
#include "buf.h"
#include "charset.h"
#include "codec.h"
#include "date.h"
#include "hdr.h"
#include "mime.h"
#include "mimeparam.h"
#include "rfc2047.h"
#include "str.h"

/* one message, held once, with lazy header and MIME indexes */
struct msg;

struct msg *msg_from_mem(const char *data, size_t len, size_t arena_limit);
struct msg *msg_take_mem(char *data, size_t len, size_t arena_limit);
struct msg *msg_read_fd(int fd, size_t max_size, size_t arena_limit);
void msg_free(struct msg *msg);
const char *msg_data(const struct msg *msg, size_t *len_r);
const char *msg_envelope_line(const struct msg *msg, size_t *len_r);
struct hdr_index *msg_headers(struct msg *msg);
const char *msg_body(struct msg *msg, size_t *len_r);
struct mime_part *msg_mime(struct msg *msg);
const char *msg_line_end(const struct msg *msg);
int msg_edited(struct msg *msg, struct buf *out);
size_t msg_size(struct msg *msg);

enum { MSG_EDIT_DELETE, MSG_EDIT_INSERT, MSG_EDIT_ADD };
typedef int (*msg_edit_fn)(void *ctx, int op, const char *name, size_t name_len,
			   const char *value, size_t value_len, int index);
int msg_header_edits(struct msg *msg, msg_edit_fn fn, void *ctx);
struct arena *msg_arena(struct msg *msg);
void msg_watch(struct msg *msg, void (*fn)(void *ctx), void *ctx);

#endif
