/* msg.h - one message, held once, with lazy header and MIME indexes */
#ifndef MFL_MSG_H
#define MFL_MSG_H

#include <stddef.h>

struct arena;
struct buf;
struct hdr_index;
struct mime_part;
struct msg;

struct msg *msg_from_mem(const char *data, size_t len, size_t arena_limit);
struct msg *msg_read_fd(int fd, size_t max_size, size_t arena_limit);
void msg_free(struct msg *msg);
const char *msg_data(const struct msg *msg, size_t *len_r);
const char *msg_envelope_line(const struct msg *msg, size_t *len_r);
struct hdr_index *msg_headers(struct msg *msg);
const char *msg_body(struct msg *msg, size_t *len_r);
struct mime_part *msg_mime(struct msg *msg);
const char *msg_line_end(const struct msg *msg);
int msg_edited(struct msg *msg, struct buf *out);

enum { MSG_EDIT_DELETE, MSG_EDIT_INSERT, MSG_EDIT_ADD };
typedef int (*msg_edit_fn)(void *ctx, int op, const char *name, size_t name_len,
			   const char *value, size_t value_len, int index);
int msg_header_edits(struct msg *msg, msg_edit_fn fn, void *ctx);
struct arena *msg_arena(struct msg *msg);

#endif
