/*
 * msg - a message held once: an mmap of a spool file, a buffer read from
 * a pipe, or memory the caller owns. Everything else refers into it.
 *
 * A leading "From " line (mbox envelope, as Postfix's local(8) and
 * procmail-style pipes give it) is set apart and not taken as a header.
 * The header index and the MIME tree are built on first use, in the
 * message's arena, which msg_free() drops in one call.
 *
 * Limits: msg_read_fd() refuses messages over MAX_SIZE (0 = no limit)
 * with EFBIG; the arena limit bounds what indexing may allocate.
 *
 * DIAGNOSTICS: NULL with errno set (ENOMEM, EFBIG, or read(2)'s errors).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "hdr.h"
#include "mime.h"
#include "msg.h"

struct msg {
	const char *data;	/* the message, without the "From " line */
	size_t len;
	const char *envelope;	/* the "From " line, or NULL */
	size_t envelope_len;
	struct arena *arena;
	struct hdr_index *hdrs;
	struct mime_part *mime;
	void *map;		/* what to munmap(), or NULL */
	size_t map_len;
	char *owned;		/* what to free(), or NULL */
};

/* msg_split_envelope - set a leading "From " line apart */
static void
msg_split_envelope(struct msg *msg, const char *data, size_t len)
{
	const char *nl;

	msg->data = data;
	msg->len = len;
	if (len < 5 || memcmp(data, "From ", 5) != 0)
		return;
	nl = memchr(data, '\n', len);
	msg->envelope = data;
	msg->envelope_len = nl != NULL ? (size_t) (nl - data) : len;
	if (msg->envelope_len > 0 && data[msg->envelope_len - 1] == '\r')
		msg->envelope_len--;
	msg->data = nl != NULL ? nl + 1 : data + len;
	msg->len = len - (size_t) (msg->data - data);
}

/* msg_new - a message over DATA, which must outlive it */
static struct msg *
msg_new(const char *data, size_t len, size_t arena_limit)
{
	struct msg *msg = calloc(1, sizeof(*msg));

	if (msg == NULL)
		return NULL;
	if ((msg->arena = arena_create(arena_limit)) == NULL) {
		free(msg);
		return NULL;
	}
	msg_split_envelope(msg, data, len);
	return msg;
}

/* msg_from_mem - a message over DATA; the caller keeps DATA alive */
struct msg *
msg_from_mem(const char *data, size_t len, size_t arena_limit)
{
	return msg_new(data, len, arena_limit);
}

/* msg_read_all - read FD to its end into a malloc'd buffer */
static char *
msg_read_all(int fd, size_t max_size, size_t *len_r)
{
	size_t len = 0, cap = 64 * 1024;
	char *data = malloc(cap), *bigger;
	ssize_t n;

	while (data != NULL) {
		if (len == cap) {
			if (cap > SIZE_MAX / 2
			    || (bigger = realloc(data, cap * 2)) == NULL)
				break;
			data = bigger;
			cap *= 2;
		}
		n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			*len_r = len;
			return data;
		}
		len += (size_t) n;
		if (max_size && len > max_size) {
			errno = EFBIG;
			break;
		}
	}
	if (data == NULL)
		errno = ENOMEM;
	free(data);
	return NULL;
}

/* msg_read_fd - the message on FD: mapped if a regular file, else read */
struct msg *
msg_read_fd(int fd, size_t max_size, size_t arena_limit)
{
	struct stat st;
	struct msg *msg;
	char *data;
	size_t len;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0
	    && lseek(fd, 0, SEEK_CUR) == 0) {
		void *map;

		if (max_size && (uintmax_t) st.st_size > max_size) {
			errno = EFBIG;
			return NULL;
		}
		map = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			if ((msg = msg_new(map, (size_t) st.st_size, arena_limit)) == NULL) {
				munmap(map, (size_t) st.st_size);
				return NULL;
			}
			msg->map = map;
			msg->map_len = (size_t) st.st_size;
			return msg;
		}
	}
	if ((data = msg_read_all(fd, max_size, &len)) == NULL)
		return NULL;
	if ((msg = msg_new(data, len, arena_limit)) == NULL) {
		free(data);
		return NULL;
	}
	msg->owned = data;
	return msg;
}

/* msg_free - the message, its indexes, and what it read */
void
msg_free(struct msg *msg)
{
	if (msg == NULL)
		return;
	arena_free(msg->arena);
	if (msg->map != NULL)
		munmap(msg->map, msg->map_len);
	free(msg->owned);
	free(msg);
}

/* msg_data - the message bytes, without the envelope "From " line */
const char *
msg_data(const struct msg *msg, size_t *len_r)
{
	*len_r = msg->len;
	return msg->data;
}

/* msg_envelope_line - the leading "From " line, or NULL */
const char *
msg_envelope_line(const struct msg *msg, size_t *len_r)
{
	*len_r = msg->envelope_len;
	return msg->envelope;
}

/* msg_headers - the header index, built on first use; NULL if no memory */
struct hdr_index *
msg_headers(struct msg *msg)
{
	if (msg->hdrs == NULL)
		msg->hdrs = hdr_index_build(msg->arena, msg->data, msg->len,
					    NULL, NULL);
	return msg->hdrs;
}

/* msg_body - the body: what follows the header block */
const char *
msg_body(struct msg *msg, size_t *len_r)
{
	struct hdr_index *hdrs = msg_headers(msg);
	size_t off = hdrs != NULL ? hdrs->body_off : 0;

	*len_r = msg->len - off;
	return msg->data + off;
}

/* msg_mime - the MIME tree, built on first use; NULL if no memory */
struct mime_part *
msg_mime(struct msg *msg)
{
	if (msg->mime == NULL && msg_headers(msg) != NULL)
		msg->mime = mime_parse(msg->arena, msg->data, msg->len, msg->hdrs);
	return msg->mime;
}

/* msg_arena - the arena whose lifetime is the message's */
struct arena *
msg_arena(struct msg *msg)
{
	return msg->arena;
}
