/*
 * corpus_test - every message in $MVMF_CORPUS (a folder, searched
 * recursively; every regular file is a message) parses, and the parsed
 * view keeps its invariants:
 *   - every span (field name, raw, value; part, body) lies inside the
 *     message;
 *   - every decoded header value, display name and leaf text is UTF-8;
 *   - the MIME tree is consistent: children inside their parent's body,
 *     in order, not overlapping, depth and index as the walk finds them.
 * Run under --enable-sanitizers, it also proves no read out of bounds.
 * One TAP line per message; SKIP when MVMF_CORPUS is not set.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg/msg.h"
#include "tap.h"

static const char *const address_fields[] = {
	"From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Resent-From",
	"Resent-To", "Resent-Cc", "Return-Path", "Delivered-To",
};

struct check {
	const char *data;
	size_t len;
	const char *why;	/* first broken invariant, or NULL */
	unsigned next_index;
};

/* inside - [P, P+N) lies within the message */
static int
inside(const struct check *c, const char *p, size_t n)
{
	return p >= c->data && p <= c->data + c->len
	    && n <= (size_t) (c->data + c->len - p);
}

/* fail - remember the first broken invariant */
static void
fail(struct check *c, const char *why)
{
	if (c->why == NULL)
		c->why = why;
}

/* check_fields - spans and decoded values of one header index */
static void
check_fields(struct check *c, struct hdr_index *idx)
{
	for (size_t i = 0; i < idx->count; i++) {
		struct hdr_field *f = &idx->fields[i];

		if (!inside(c, f->name, f->name_len) || !inside(c, f->raw, f->raw_len)
		    || !inside(c, f->value, f->value_len))
			fail(c, "header span outside the message");
		if (hdr_decoded(idx, f) < 0)
			fail(c, "header decoding failed");
		else if (!utf8_valid(f->decoded, f->decoded_len))
			fail(c, "decoded header not UTF-8");
	}
}

/* check_addresses - every address field parses; names are UTF-8 */
static void
check_addresses(struct check *c, struct msg *m, struct hdr_index *idx)
{
	for (size_t k = 0; k < sizeof(address_fields) / sizeof(address_fields[0]); k++) {
		const char *name = address_fields[k];
		struct hdr_field *f;

		for (size_t n = 0; (f = hdr_find(idx, name, strlen(name), n)) != NULL; n++) {
			struct addr *list;
			size_t count;

			if (hdr_unfolded(idx, f) < 0
			    || addr_parse_list(msg_arena(m), f->unfolded,
					       f->unfolded_len, &list, &count) < 0) {
				fail(c, "address parsing failed");
				continue;
			}
			for (size_t i = 0; i < count; i++)
				if (list[i].name != NULL
				    && !utf8_valid(list[i].name, strlen(list[i].name)))
					fail(c, "display name not UTF-8");
		}
	}
}

/* check_part - one part and, recursively, its children */
static void
check_part(struct check *c, const struct mime_part *part, unsigned depth)
{
	const char *prev_end;
	size_t n = 0;

	if (part->index != c->next_index++)
		fail(c, "part index out of document order");
	if (part->depth != depth)
		fail(c, "part depth wrong");
	if (!inside(c, part->start, part->len) || part->body < part->start
	    || !inside(c, part->body, part->body_len)
	    || part->body + part->body_len != part->start + part->len)
		fail(c, "part span outside the message or its body");
	if (part->hdrs != NULL)
		check_fields(c, part->hdrs);
	if (part->child == NULL) {
		struct buf text = BUF_INIT;

		if (mime_part_text(part, &text) < 0)
			fail(c, "part decoding failed");
		else if (!utf8_valid(text.data ? text.data : "", text.len))
			fail(c, "part text not UTF-8");
		buf_free(&text);
	}
	prev_end = part->body;
	for (const struct mime_part *ch = part->child; ch != NULL; ch = ch->next, n++) {
		if (ch->parent != part)
			fail(c, "child's parent pointer wrong");
		if (ch->start < prev_end
		    || ch->start + ch->len > part->body + part->body_len)
			fail(c, "child outside its parent or overlapping");
		prev_end = ch->start + ch->len;
		check_part(c, ch, depth + 1);
	}
	if (n != part->nchildren)
		fail(c, "nchildren wrong");
}

/* check_file - parse PATH and check every invariant; TAP line */
static void
check_file(const char *path, const char *label)
{
	int fd = open(path, O_RDONLY);
	struct check c = { NULL, 0, NULL, 0 };
	struct hdr_index *idx;
	struct mime_part *root;
	struct msg *m;

	if (fd < 0 || (m = msg_read_fd(fd, 0, 0)) == NULL) {
		tap_ok(0, "%s: %s", label, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	c.data = msg_data(m, &c.len);
	if ((idx = msg_headers(m)) == NULL || (root = msg_mime(m)) == NULL) {
		fail(&c, "out of memory");
	} else {
		check_fields(&c, idx);
		check_addresses(&c, m, idx);
		check_part(&c, root, 0);
	}
	tap_ok(c.why == NULL, "%s%s%s", label, c.why ? ": " : "", c.why ? c.why : "");
	msg_free(m);
	close(fd);
}

/* name_cmp - qsort order for directory entries */
static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* walk - every regular file below DIR, in name order */
static void
walk(const char *dir, const char *root, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL) {
		tap_ok(0, "%s: %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct buf path = BUF_INIT;
		struct stat st;

		buf_printf(&path, "%s/%s", dir, names[i]);
		if (stat(path.data, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk(path.data, root, count);
		} else if (S_ISREG(st.st_mode)) {
			check_file(path.data, path.data + strlen(root) + 1);
			(*count)++;
		}
		buf_free(&path);
		free(names[i]);
	}
	free(names);
}

int
main(void)
{
	const char *dir = getenv("MVMF_CORPUS");
	size_t count = 0;

	if (dir == NULL || *dir == 0)
		tap_skip_all("MVMF_CORPUS is not set (a folder of messages; "
			     ".ci/run sets it to ../shared/corpus/messages)");
	walk(dir, dir, &count);
	tap_diag("%zu messages checked", count);
	return tap_done();
}
