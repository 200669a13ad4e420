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
#include "buf.h"
#include "hdr.h"
#include "mime.h"
#include "msg.h"
#include "str.h"

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
	/* called once when the text is first read (msg_watch) */
	void (*watch)(void *ctx);
	void *watch_ctx;
};

/* seen - the text is being read: tell the watcher, once */
static void
seen(const struct msg *msg)
{
	void (*fn)(void *) = msg->watch;

	if (fn != NULL) {
		((struct msg *) msg)->watch = NULL;	/* the watcher's, not the text */
		fn(msg->watch_ctx);
	}
}

/* msg_watch - FN(CTX) is called when anything first reads the message's
 * text from now on (a decision before DATA learns so that it needs the
 * message, and what it had decided by then); FN NULL stops watching */
void
msg_watch(struct msg *msg, void (*fn)(void *ctx), void *ctx)
{
	msg->watch = fn;
	msg->watch_ctx = ctx;
}

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

/* msg_take_mem - a message over DATA, malloc'd by the caller and now
 * the message's: msg_free() frees it (even when this fails) */
struct msg *
msg_take_mem(char *data, size_t len, size_t arena_limit)
{
	struct msg *msg = msg_new(data, len, arena_limit);

	if (msg == NULL) {
		free(data);
		return NULL;
	}
	msg->owned = data;
	return msg;
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
	seen(msg);
	*len_r = msg->len;
	return msg->data;
}

/* msg_envelope_line - the leading "From " line, or NULL */
const char *
msg_envelope_line(const struct msg *msg, size_t *len_r)
{
	seen(msg);
	*len_r = msg->envelope_len;
	return msg->envelope;
}

/* msg_headers - the header index, built on first use; NULL if no memory */
struct hdr_index *
msg_headers(struct msg *msg)
{
	seen(msg);
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

/* msg_line_end - the line end the message uses: "\r\n" when its first
 * line ends so, else "\n" */
const char *
msg_line_end(const struct msg *msg)
{
	const char *nl = memchr(msg->data, '\n', msg->len);

	return nl != NULL && nl > msg->data && nl[-1] == '\r' ? "\r\n" : "\n";
}

/* msg_size - the message's size as it would be stored: with the header
 * as editheader left it */
size_t
msg_size(struct msg *msg)
{
	struct hdr_index *hdrs = msg->hdrs;
	size_t eol = strlen(msg_line_end(msg)), len;

	seen(msg);
	if (hdrs == NULL || !hdrs->edited) {
		msg_data(msg, &len);
		return len;
	}
	msg_body(msg, &len);
	len += eol;
	for (size_t i = 0; i < hdrs->count; i++)
		len += hdrs->fields[i].raw_len + eol;
	return len;
}

/* msg_edited - the message with the header as editheader left it, onto
 * OUT; 0 when the header was not edited (OUT untouched), 1 when it
 * was, -1 when memory ran out */
int
msg_edited(struct msg *msg, struct buf *out)
{
	struct hdr_index *hdrs = msg->hdrs;
	const char *eol = msg_line_end(msg), *body;
	size_t body_len;

	seen(msg);
	if (hdrs == NULL || !hdrs->edited)
		return 0;
	for (size_t i = 0; i < hdrs->count; i++) {
		buf_append(out, hdrs->fields[i].raw, hdrs->fields[i].raw_len);
		buf_puts(out, eol);
	}
	buf_puts(out, eol);
	body = msg_body(msg, &body_len);
	buf_append(out, body, body_len);
	return out->failed ? -1 : 1;
}

/* edit_value - field F's value as a milter wants it: no leading space,
 * folds as LF (libmilter's line end) */
static void
edit_value(const struct hdr_field *f, struct buf *out)
{
	size_t i = 0;

	buf_reset(out);
	if (f->value_len > 0 && f->value[0] == ' ')
		i = 1;
	for (; i < f->value_len; i++)
		if (f->value[i] != '\r')
			buf_putc(out, f->value[i]);
}

/* msg_header_edits - the editheader changes as the steps a milter
 * takes, in the order to take them: deletions of fields as they came
 * (MSG_EDIT_DELETE, name and occurrence from 1, the last first, so the
 * occurrences still to delete keep their numbers), then the fields
 * added at the top (MSG_EDIT_INSERT at 0, the lowest first), then those
 * added at the end (MSG_EDIT_ADD). FN's non-zero return stops; 0, or
 * what FN returned, or -1 when memory ran out. */
int
msg_header_edits(struct msg *msg, msg_edit_fn fn, void *ctx)
{
	struct hdr_index *h = msg->hdrs;
	struct buf value = BUF_INIT;
	size_t first = 0;
	int rc = 0;

	if (h == NULL || !h->edited)
		return 0;
	for (size_t k = h->orig_count; k-- > 0 && rc == 0;) {
		const struct hdr_field *o = &h->orig_fields[k];
		int present = 0, nth = 1;

		for (size_t i = 0; i < h->count && !present; i++)
			present = h->fields[i].orig == k + 1;
		if (present)
			continue;
		for (size_t j = 0; j < k; j++)
			nth += h->orig_fields[j].name_len == o->name_len
			    && mem_ieq(h->orig_fields[j].name, o->name, o->name_len);
		rc = fn(ctx, MSG_EDIT_DELETE, o->name, o->name_len, NULL, 0, nth);
	}
	while (first < h->count && h->fields[first].orig == 0)
		first++;
	for (size_t i = first; i-- > 0 && rc == 0;) {
		edit_value(&h->fields[i], &value);
		rc = value.failed ? -1 : fn(ctx, MSG_EDIT_INSERT, h->fields[i].name,
					    h->fields[i].name_len, value.data ? value.data : "",
					    value.len, 0);
	}
	for (size_t i = first; i < h->count && rc == 0; i++) {
		if (h->fields[i].orig != 0)
			continue;
		edit_value(&h->fields[i], &value);
		rc = value.failed ? -1 : fn(ctx, MSG_EDIT_ADD, h->fields[i].name,
					    h->fields[i].name_len, value.data ? value.data : "",
					    value.len, 0);
	}
	buf_free(&value);
	return rc;
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
