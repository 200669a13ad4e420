/* msg_test - holding a message: memory, files, pipes, "From " lines */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg/msg.h"
#include "tap.h"

static const struct msg_case {
	const char *input;
	const char *envelope;	/* NULL: none */
	const char *body;
	const char *subject;
} cases[] = {
	{ "Subject: s\n\nbody\n", NULL, "body\n", "s" },
	{ "From sender@example.com Mon Jan  1 00:00:00 2001\nSubject: s\n\nb\n",
	  "From sender@example.com Mon Jan  1 00:00:00 2001", "b\n", "s" },
	{ "From x\r\nSubject: s\r\n\r\nb", "From x", "b", "s" },
	{ "From: not an envelope\n\nb", NULL, "b", NULL },
	{ "From ", "From ", "", NULL },
	{ "", NULL, "", NULL },
};

/* check - the parts of M as the case wants them */
static void
check(struct msg *m, const struct msg_case *c, const char *how, size_t i)
{
	const char *env, *body;
	size_t env_len, body_len;
	struct hdr_index *idx = msg_headers(m);
	struct hdr_field *f = idx ? hdr_find(idx, "subject", 7, 0) : NULL;

	env = msg_envelope_line(m, &env_len);
	tap_is_mem(env, env_len, c->envelope, c->envelope ? strlen(c->envelope) : 0,
		   "%s %zu: envelope", how, i);
	body = msg_body(m, &body_len);
	tap_is_mem(body, body_len, c->body, strlen(c->body), "%s %zu: body", how, i);
	if (f != NULL)
		hdr_unfolded(idx, f);
	tap_is_mem(f ? f->unfolded : NULL, f ? f->unfolded_len : 0, c->subject,
		   c->subject ? strlen(c->subject) : 0, "%s %zu: subject", how, i);
	tap_ok(msg_mime(m) != NULL, "%s %zu: mime tree", how, i);
}

/* from_file - the case read back from a temporary file (mmap path) */
static struct msg *
from_file(const char *text, int *fd_r)
{
	char path[] = "/tmp/msg_testXXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return NULL;
	unlink(path);
	if (write(fd, text, strlen(text)) != (ssize_t) strlen(text)
	    || lseek(fd, 0, SEEK_SET) != 0) {
		close(fd);
		return NULL;
	}
	*fd_r = fd;
	return msg_read_fd(fd, 0, 0);
}

/* from_pipe - the case read from a pipe (read path) */
static struct msg *
from_pipe(const char *text)
{
	int fds[2];
	struct msg *m;

	if (pipe(fds) < 0)
		return NULL;
	if (write(fds[1], text, strlen(text)) != (ssize_t) strlen(text))
		return NULL;
	close(fds[1]);
	m = msg_read_fd(fds[0], 0, 0);
	close(fds[0]);
	return m;
}

int
main(void)
{
	int fds[2];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct msg_case *c = &cases[i];
		struct msg *m;
		int fd = -1;

		m = msg_from_mem(c->input, strlen(c->input), 0);
		check(m, c, "mem", i);
		msg_free(m);
		if ((m = from_file(c->input, &fd)) != NULL)
			check(m, c, "file", i);
		else
			tap_ok(0, "file %zu: %s", i, strerror(errno));
		msg_free(m);
		if (fd >= 0)
			close(fd);
		if ((m = from_pipe(c->input)) != NULL)
			check(m, c, "pipe", i);
		else
			tap_ok(0, "pipe %zu: %s", i, strerror(errno));
		msg_free(m);
	}
	/* the size limit: EFBIG, not a truncated message */
	if (pipe(fds) == 0) {
		struct msg *m;

		if (write(fds[1], "Subject: too big\n\n0123456789\n", 29) != 29)
			tap_diag("short write");
		close(fds[1]);
		errno = 0;
		m = msg_read_fd(fds[0], 10, 0);
		tap_ok(m == NULL && errno == EFBIG, "over the size limit: EFBIG");
		msg_free(m);
		close(fds[0]);
	}
	return tap_done();
}
