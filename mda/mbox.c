/*
 * mbox - one message appended to an mbox file: both locks taken (a
 * dot-lock NAME.lock made by link(2), so it works over NFS, and an
 * fcntl lock on the file), a "From sender date" line, the message with
 * mboxrd quoting (a ">" before every line that is ">*From "), a blank
 * line after it, fsync; on any failure the file is cut back to its old
 * size before the locks go, so readers never see half a message.
 *
 * The dot-lock is also a journal: it holds "pid host size", the writer
 * and the mbox size before its append. A dot-lock whose writer is gone
 * (same host, no such pid) or that is older than the stale age was left
 * by a crash; whoever breaks it first cuts the mbox back to the size it
 * names, so a writer killed half-way (SIGKILL cannot be caught) leaves
 * no half message behind once the next delivery comes. When the
 * directory is not writable for the dot-lock (a /var/mail without the
 * mail group), the fcntl lock is used alone and that repair is lost.
 *
 * DIAGNOSTICS: -1 with errno and the reason in ERR; ETIMEDOUT when a
 * lock could not be had in time.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail.h"
#include "maildir.h"
#include "mbox.h"

/* mbox_quote - DATA with ">" before each line matching ^>*From  (mboxrd) */
void
mbox_quote(const char *data, size_t len, struct buf *out)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *q = p;
		size_t n = nl ? (size_t) (nl - p) + 1 : (size_t) (end - p);

		while (q < end && *q == '>')
			q++;
		if ((size_t) (end - q) >= 5 && memcmp(q, "From ", 5) == 0)
			buf_putc(out, '>');
		buf_append(out, p, n);
		p += n;
	}
}

/* mbox_from_line - "From SENDER Sat Nov 22 10:00:00 2026\n" in UTC
 * (asctime form); MAILER-DAEMON for the null sender */
void
mbox_from_line(const char *sender, long long when, struct buf *out)
{
	time_t t = (time_t) when;
	struct tm tm;
	char date[64];

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	buf_printf(out, "From %s %s\n", sender && *sender ? sender : "MAILER-DAEMON", date);
}

/* lock_owner_gone - 1 if the writer a dot-lock names is gone (a
 * crash), 0 if it is alive or unknown; its journal size in *SIZE_R */
static int
lock_owner_gone(int dirfd, const char *lock, long long *size_r)
{
	char text[400], host[256] = "", their[256];
	long pid;
	ssize_t n;
	int fd = openat(dirfd, lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	*size_r = -1;
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = 0;
	gethostname(host, sizeof(host) - 1);
	if (sscanf(text, "%ld %255s %lld", &pid, their, size_r) < 2 || strcmp(their, host) != 0)
		return 0;
	return pid > 0 && kill((pid_t) pid, 0) < 0 && errno == ESRCH;
}

/* dotlock - make NAME.lock in DIRFD by linking a unique file holding
 * our pid to it; 1 when held, 0 when the directory does not allow it,
 * -1. A crashed writer's journal size goes to *REPAIR_R (else -1). */
static int
dotlock(int dirfd, const char *name, const struct mbox_locking *lk, char *lock,
	size_t locksize, long long *repair_r)
{
	char tmp[600], host[256] = "";
	time_t start = time(NULL);
	struct stat st;
	long long size;
	int fd, gone;

	*repair_r = -1;
	snprintf(lock, locksize, "%s.lock", name);
	if (maildir_unique(tmp, sizeof(tmp), 0) < 0)
		return -1;
	memmove(tmp + 1, tmp, strlen(tmp) + 1);
	tmp[0] = '.';
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return errno == EACCES || errno == EPERM || errno == EROFS ? 0 : -1;
	gethostname(host, sizeof(host) - 1);
	dprintf(fd, "%ld %s -1\n", (long) getpid(), host);
	close(fd);
	for (;;) {
		if (linkat(dirfd, tmp, dirfd, lock, 0) == 0
		    || (fstatat(dirfd, tmp, &st, 0) == 0 && st.st_nlink == 2)) {
			unlinkat(dirfd, tmp, 0);
			return 1;
		}
		if (errno != EEXIST) {
			int e = errno;

			unlinkat(dirfd, tmp, 0);
			errno = e;
			return -1;
		}
		gone = lock_owner_gone(dirfd, lock, &size);
		if (gone || (fstatat(dirfd, lock, &st, AT_SYMLINK_NOFOLLOW) == 0
			     && time(NULL) - st.st_mtime > lk->stale)) {
			/* a crashed writer's: its journal says where to cut */
			if (unlinkat(dirfd, lock, 0) == 0 && size >= 0)
				*repair_r = size;
			continue;
		}
		if (time(NULL) - start >= lk->timeout) {
			unlinkat(dirfd, tmp, 0);
			errno = ETIMEDOUT;
			return -1;
		}
		usleep(20000);
	}
}

/* journal - record SIZE, the mbox's size before our append, in the lock */
static int
journal(int dirfd, const char *lock, off_t size)
{
	char host[256] = "";
	int fd = openat(dirfd, lock, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -1;
	gethostname(host, sizeof(host) - 1);
	ret = dprintf(fd, "%ld %s %lld\n", (long) getpid(), host, (long long) size) < 0
	    || fsync(fd) < 0 ? -1 : 0;
	return close(fd) < 0 ? -1 : ret;
}

/* fcntl_lock - a write lock on FD within the timeout */
static int
fcntl_lock(int fd, const struct mbox_locking *lk)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	time_t start = time(NULL);

	while (fcntl(fd, F_SETLK, &fl) < 0) {
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			return -1;
		if (time(NULL) - start >= lk->timeout) {
			errno = ETIMEDOUT;
			return -1;
		}
		usleep(20000);
	}
	return 0;
}

/* separator - the newlines the file needs so the next "From " line
 * starts after a blank line */
static const char *
separator(int fd, off_t size)
{
	char tail[2];

	if (size == 0)
		return "";
	if (size == 1)
		return pread(fd, tail, 1, 0) == 1 && tail[0] == '\n' ? "" : "\n\n";
	if (pread(fd, tail, 2, size - 2) != 2)
		return "\n";
	return tail[1] != '\n' ? "\n\n" : tail[0] != '\n' ? "\n" : "";
}

/* append - the From line, the quoted message and a blank line at SIZE */
static int
append(int fd, off_t size, const struct mail *mail)
{
	struct buf out = BUF_INIT;
	int ret;

	buf_puts(&out, separator(fd, size));
	mbox_from_line(mail->sender, (long long) mail->arrived, &out);
	mbox_quote(mail->head.data ? mail->head.data : "", mail->head.len, &out);
	mbox_quote(mail->data, mail->len, &out);
	if (out.len > 0 && out.data[out.len - 1] != '\n')
		buf_putc(&out, '\n');
	buf_putc(&out, '\n');
	ret = out.data == NULL ? (errno = ENOMEM, -1)
	    : lseek(fd, size, SEEK_SET) < 0 ? -1 : write_all(fd, out.data, out.len);
	buf_free(&out);
	return ret;
}

/* mbox_deliver - MAIL appended to DIRFD/NAME, made 0600 if missing */
int
mbox_deliver(int dirfd, const char *name, const struct mail *mail,
	     const struct mbox_locking *lk, char *err, size_t errsize)
{
	char lock[600];
	const char *why = "cannot open";
	int fd, e, dotlocked = 0;
	long long repair;
	struct stat st;

	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	why = "not a regular file:";
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink > 1) {
		errno = EINVAL;
		goto fail_fd;
	}
	why = "cannot dot-lock";
	if ((dotlocked = dotlock(dirfd, name, lk, lock, sizeof(lock), &repair)) < 0)
		goto fail_fd;
	why = "cannot lock";
	if (fcntl_lock(fd, lk) < 0 || fstat(fd, &st) < 0)
		goto fail_locked;
	why = "cannot repair";
	if (repair >= 0 && repair < (long long) st.st_size) {
		/* what a killed writer left after its journal size */
		if (ftruncate(fd, (off_t) repair) < 0 || fsync(fd) < 0 || fstat(fd, &st) < 0)
			goto fail_locked;
	}
	why = "cannot journal";
	if (dotlocked && journal(dirfd, lock, st.st_size) < 0)
		goto fail_locked;
	why = "cannot write";
	if (append(fd, st.st_size, mail) < 0 || fsync(fd) < 0) {
		/* all or nothing: cut back to what was there */
		e = errno;
		if (ftruncate(fd, st.st_size) == 0)
			fsync(fd);
		errno = e;
		goto fail_locked;
	}
	if (dotlocked)
		unlinkat(dirfd, lock, 0);
	if (close(fd) < 0) {
		why = "cannot close";
		fd = -1;
		goto fail;
	}
	return 0;
fail_locked:
	e = errno;
	if (dotlocked)
		unlinkat(dirfd, lock, 0);
	errno = e;
fail_fd:
	e = errno;
	close(fd);
	errno = e;
fail:
	e = errno;
	snprintf(err, errsize, "%s %s: %s", why, name, strerror(e));
	errno = e;
	return -1;
}
