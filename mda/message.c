/*
 * message - the message mvmda delivers, as every copy stores it: LF line
 * ends, and, once a filter program (vnd.dovecot.filter) ran, its output
 * in place of what came.
 *
 * A big message (over SPOOL_AFTER) is never held in memory: from a pipe
 * it is written once, its line ends made LF on the way, to an unlinked
 * file in $TMPDIR, else in the home directory (the filesystem of
 * ~/Maildir, most often), else in /tmp, and the scripts read it through
 * a mapping of that file, so only the pages they look at (the header,
 * for most) are ever in memory; a regular file on standard input is
 * mapped as it is when it has no CRLF. Copies go out of the file with
 * sendfile (write_message); the first Maildir copy, when nothing goes
 * on top of the message, is the spool file itself, linked into tmp/.
 *
 * DIAGNOSTICS: NULL or -1 with errno when memory runs out, or when the
 * spool file cannot be made or written (mda_read_message logs which).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "mda.h"
#include "mfl.h"
#include "msg/msg.h"

/* mda_lf_only - MSG with each CRLF as LF, as Maildir and mbox keep mail on
 * Unix and as mvmda's own lines end: a copy when it holds a CRLF, MSG
 * itself when not; NULL (errno) when memory runs out */
struct msg *
mda_lf_only(struct msg *msg)
{
	size_t len, n = 0;
	const char *data;
	char *copy;
	struct msg *lf;

	if (msg == NULL)
		return NULL;
	data = msg_data(msg, &len);
	if (len == 0 || memmem(data, len, "\r\n", 2) == NULL)
		return msg;
	if ((copy = malloc(len)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (!(data[i] == '\r' && i + 1 < len && data[i + 1] == '\n'))
			copy[n++] = data[i];
	if ((lf = msg_from_mem(copy, n, (size_t) 256 << 20)) == NULL) {
		free(copy);
		return NULL;
	}
	msg_free(msg);
	return lf;	/* COPY lives as long as the process */
}

#define SPOOL_AFTER	((size_t) 1 << 20)	/* bigger: spooled, not held */
#define SPOOL_CHUNK	((size_t) 64 << 10)

/* lf_chunk - the LEN bytes at P with CRLF as LF, into OUT (room for LEN
 * + 1; OUT may be P when no CR is held): a CR at the end is held in *CR
 * until the next chunk shows what follows it (LAST: none does); the
 * bytes put in OUT */
static size_t
lf_chunk(const char *p, size_t len, int *cr, int last, char *out)
{
	size_t n = 0, i = 0;

	if (*cr && (len == 0 || p[0] != '\n'))
		out[n++] = '\r';
	*cr = 0;
	while (i < len) {
		/* the run up to the next CR, as it is */
		const char *r = memchr(p + i, '\r', len - i);
		size_t run = r != NULL ? (size_t) (r - (p + i)) : len - i;

		if (out + n != p + i)
			memmove(out + n, p + i, run);
		n += run;
		i += run;
		if (r == NULL)
			break;
		if (i + 1 < len ? p[i + 1] != '\n' : last)
			out[n++] = '\r';
		else if (i + 1 == len)
			*cr = 1;
		i++;
	}
	return n;
}

/* spool_open - an unlinked file for a big message: in $TMPDIR when it
 * is set, else in HOME (or, failing that, /tmp); -1 (logged) */
static int
spool_open(const char *home)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (dir == NULL || *dir != '/')
		dir = home != NULL && *home == '/' ? home : "/tmp";
	for (;;) {
		if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
			return fd;
		snprintf(path, sizeof(path), "%s/.mvmda-spool.XXXXXX", dir);
		if ((fd = mkostemp(path, O_CLOEXEC)) >= 0) {
			unlink(path);
			return fd;
		}
		if (dir != home || strcmp(dir, "/tmp") == 0)
			break;
		dir = "/tmp";	/* a home we may not write in */
	}
	mda_log(LOG_ERR, "cannot make a file in %s for the message: %s", dir, strerror(errno));
	return -1;
}

/* spool - HEAD (LEN bytes already read, CR the pending CR) and the rest
 * of FD into a new spool file (spool_open's, HOME's), LF line ends; its
 * descriptor, or -1 (logged) */
static int
spool(int fd, const char *head, size_t len, int cr, const char *home)
{
	char in[SPOOL_CHUNK], out[SPOOL_CHUNK + 1];
	int sfd = spool_open(home);
	ssize_t n = 0;

	if (sfd < 0)
		return -1;
	if (len > 0 && write_all(sfd, head, len) < 0)
		goto fail;
	do {
		size_t m;

		n = read(fd, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			mda_log(LOG_ERR, "cannot read the message: %s", strerror(errno));
			close(sfd);
			return -1;
		}
		m = lf_chunk(in, (size_t) n, &cr, n == 0, out);
		if (m > 0 && write_all(sfd, out, m) < 0)
			goto fail;
	} while (n != 0);
	return sfd;
fail:
	mda_log(LOG_ERR, "cannot spool the message to a file: %s", strerror(errno));
	close(sfd);
	return -1;
}

/* has_crlf - FD (a regular file, LEN bytes) holds a CRLF, read through
 * the page cache rather than mapped; -1 on a read error */
static int
has_crlf(int fd, size_t len)
{
	char buf[SPOOL_CHUNK + 1];
	int cr = 0;

	for (off_t off = 0; (size_t) off < len;) {
		ssize_t n = pread(fd, buf + 1, SPOOL_CHUNK, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf[0] = cr ? '\r' : 0;
		if (memmem(buf, (size_t) n + 1, "\r\n", 2) != NULL)
			return 1;
		cr = buf[n] == '\r';
		off += n;
	}
	return 0;
}

/* mapped - the message in FD (a regular file at its start, LEN bytes,
 * LF line ends), mapped, its file and mapping noted in MAIL; NULL
 * (errno) */
static struct msg *
mapped(struct mail *mail, int fd, size_t len)
{
	char *map = len > 0 ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	struct msg *msg;

	if (map == MAP_FAILED)
		return NULL;
	if ((msg = msg_from_mem(map, len, (size_t) 256 << 20)) == NULL) {
		munmap(map, len);
		return NULL;
	}
	mail->file_fd = fd;	/* both live as long as the process */
	mail->file_map = map;
	mail->file_len = len;
	return msg;
}

/* mda_read_message - the message on FD, LF line ends: held in memory
 * when small, else mapped from FD itself (a regular file without CRLF)
 * or from a spool file (spool_open's, HOME's); MAIL notes the file.
 * NULL (errno; spool failures logged) */
struct msg *
mda_read_message(struct mail *mail, int fd, const char *home)
{
	struct msg *msg;
	struct stat st;
	size_t len = 0, cap = SPOOL_CHUNK;
	char *data, *bigger;
	int sfd, cr = 0;

	mail->file_fd = -1;
	mail->file_map = NULL;
	mail->file_ours = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0
	    && lseek(fd, 0, SEEK_CUR) == 0) {
		if ((uintmax_t) st.st_size <= SPOOL_AFTER)
			return mda_lf_only(msg_read_fd(fd, 0, (size_t) 256 << 20));
		switch (has_crlf(fd, (size_t) st.st_size)) {
		case 0:
			return mapped(mail, fd, (size_t) st.st_size);
		case -1:
			mda_log(LOG_ERR, "cannot read the message: %s", strerror(errno));
			return NULL;
		}
		if ((sfd = spool(fd, "", 0, 0, home)) < 0 || fstat(sfd, &st) < 0
		    || (msg = mapped(mail, sfd, (size_t) st.st_size)) == NULL)
			return NULL;
		mail->file_ours = 1;
		return msg;
	}
	/* a pipe: what fits under SPOOL_AFTER is kept in memory */
	if ((data = malloc(cap)) == NULL)
		return NULL;
	for (;;) {
		ssize_t n;

		if (len == cap && cap < SPOOL_AFTER) {
			if ((bigger = realloc(data, cap * 2)) == NULL) {
				free(data);
				return NULL;
			}
			data = bigger;
			cap *= 2;
		}
		if (len == cap)
			break;	/* more than SPOOL_AFTER: spooled */
		n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(data);
			return NULL;
		}
		if (n == 0)
			return mda_lf_only(msg_take_mem(data, len, (size_t) 256 << 20));
		len += (size_t) n;
	}
	/* its line ends made LF in place, the spool takes the rest */
	len = lf_chunk(data, len, &cr, 0, data);
	sfd = spool(fd, data, len, cr, home);
	free(data);
	if (sfd < 0 || fstat(sfd, &st) < 0 || (msg = mapped(mail, sfd, (size_t) st.st_size)) == NULL)
		return NULL;
	mail->file_ours = 1;
	return msg;
}

/* mda_adopt_message - MSG, what a filter made of the message (and now
 * ours), is the message every later test and action sees, with LF line
 * ends as every message here; the one before stays until exit (what the
 * scripts hold may point into it); -1 when memory runs out */
int
mda_adopt_message(struct mda *m, struct msg *msg)
{
	if ((msg = mda_lf_only(msg)) == NULL)
		return -1;
	m->msg = msg;
	m->mail.data = msg_data(msg, &m->mail.len);
	if (m->rc_run != NULL)
		mfl_run_set_message(m->rc_run, msg);
	return 0;
}
