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
 * by a crash; the next writer takes it over and cuts the mbox back to
 * the size it names, so a writer killed half-way (SIGKILL cannot be
 * caught) leaves no half message behind once the next delivery comes.
 * The fcntl lock is taken first and the dot-lock under it, so reading a
 * dead writer's journal, taking its lock over (one rename, our lock
 * carrying its size until the cut is made) and cutting happen with no
 * other mvmda in between: none can cut a message that came after the
 * journal, or take the lock between the break and the take-over. A
 * dot-lock held by a live writer (another program, which takes the
 * dot-lock first) makes us let go of the fcntl lock and try again, so
 * the two orders do not deadlock. When the directory is not writable
 * for the dot-lock (a /var/mail without the mail group), the fcntl lock
 * is used alone and that repair is lost.
 *
 * DIAGNOSTICS: -1 with errno and the reason in ERR; ETIMEDOUT when a
 * lock could not be had in time.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mail.h"
#include "maildir.h"
#include "mbox.h"
#include "msg/msg.h"

/* quoted - the line at P (the data ending at END) is one mboxrd quotes:
 * ^>*From  */
static int
quoted(const char *p, const char *end)
{
	while (p < end && *p == '>')
		p++;
	return (size_t) (end - p) >= 5 && memcmp(p, "From ", 5) == 0;
}

/* mbox_quote - DATA with ">" before each line matching ^>*From  (mboxrd) */
void
mbox_quote(const char *data, size_t len, struct buf *out)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t n = nl ? (size_t) (nl - p) + 1 : (size_t) (end - p);

		if (quoted(p, end))
			buf_putc(out, '>');
		buf_append(out, p, n);
		p += n;
	}
}

/* from_address - SENDER as one word of a From line: a local part with
 * anything but atext and dots quoted (RFC 5322 3.2.4, as Postfix's local
 * quotes it), control characters as '?', and no white space in the
 * domain: a broken MTA's sender can never end the line or split it */
static void
from_address(const char *sender, struct buf *out)
{
	const char *at = strrchr(sender, '@'), *end = at ? at : sender + strlen(sender);
	int quote = end == sender;

	for (const char *p = sender; p < end && !quote; p++)
		quote = !(ascii_isalpha((unsigned char) *p) || ascii_isdigit((unsigned char) *p)
			  || (*p != 0 && strchr("!#$%&'*+-/=?^_`{|}~.", *p) != NULL));
	if (quote)
		buf_putc(out, '"');
	for (const char *p = sender; *p; p++) {
		unsigned char c = (unsigned char) *p;

		if (p == end && quote)
			buf_putc(out, '"');
		if (c < 0x20 || c == 0x7f || (p > end && c == ' '))
			buf_putc(out, '?');
		else if (p < end && quote && (c == '"' || c == '\\'))
			buf_printf(out, "\\%c", c);
		else
			buf_putc(out, c);
	}
	if (quote && end == sender + strlen(sender))
		buf_putc(out, '"');
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
	buf_puts(out, "From ");
	if (sender && *sender)
		from_address(sender, out);
	else
		buf_puts(out, "MAILER-DAEMON");
	buf_printf(out, " %s\n", date);
}

/* What a dot-lock says: its writer and the journal of its append. */
struct journal {
	long long size;		/* the mbox's size before it; -1: none */
	unsigned long long dev, ino;	/* the file appended to; 0: not said */
	long long length;	/* the most the append adds; -1: not said */
};

#define NO_JOURNAL	((struct journal) { -1, 0, 0, -1 })

/* lock_owner_gone - 1 if the writer a dot-lock names is gone (a
 * crash), 0 if it is alive or unknown; its journal in *J (a lock of an
 * older mvmda says only the size) */
static int
lock_owner_gone(int dirfd, const char *lock, struct journal *j)
{
	char text[400], host[256] = "", their[256];
	long pid;
	ssize_t n;
	struct stat st;
	int fd = openat(dirfd, lock, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	*j = NO_JOURNAL;
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {	/* never a FIFO */
		close(fd);
		return 0;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = 0;
	gethostname(host, sizeof(host) - 1);
	if (sscanf(text, "%ld %255s %lld %llu %llu %lld", &pid, their, &j->size, &j->dev,
		   &j->ino, &j->length) < 2 || strcmp(their, host) != 0)
		return 0;
	return pid > 0 && kill((pid_t) pid, 0) < 0 && errno == ESRCH;
}

/* lock_write - "pid host" and journal J into NAME in DIRFD: a new lock
 * file (made or emptied first), or, with JOURNAL, the lock we hold,
 * synced */
static int
lock_write(int dirfd, const char *name, const struct journal *j, int journal)
{
	char host[256] = "";
	int fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC
			| (journal ? 0 : O_CREAT | O_TRUNC), 0600);
	struct stat st;
	int ret;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	gethostname(host, sizeof(host) - 1);
	ret = dprintf(fd, "%ld %s %lld %llu %llu %lld\n", (long) getpid(), host, j->size,
		      j->dev, j->ino, j->length) < 0
	    || (journal && fsync(fd) < 0) ? -1 : 0;
	return close(fd) < 0 ? -1 : ret;
}

/* Dot-lock attempts (dotlock_try). */
enum { DOT_HELD, DOT_NONE, DOT_BUSY, DOT_ERROR, DOT_NOT_A_FILE };

/* dotlock_try - one attempt, under the fcntl lock, at NAME.lock in
 * DIRFD (into LOCK): DOT_HELD, DOT_NONE when the directory does not
 * allow it, DOT_BUSY while a live writer holds it, DOT_NOT_A_FILE when
 * the lock's name holds something no writer makes (a symlink, a FIFO),
 * DOT_ERROR. A crashed writer's lock is taken over, its journal in
 * *REPAIR_R (else a size of -1) */
static int
dotlock_try(int dirfd, const char *name, const struct mbox_locking *lk, char *lock,
	    size_t locksize, struct journal *repair_r)
{
	char tmp[600];
	struct stat st;
	struct journal j = NO_JOURNAL;
	int ret = DOT_ERROR, gone;

	*repair_r = NO_JOURNAL;
	snprintf(lock, locksize, "%s.lock", name);
	if (maildir_unique(tmp, sizeof(tmp), 0) < 0)
		return DOT_ERROR;
	memmove(tmp + 1, tmp, strlen(tmp) + 1);
	tmp[0] = '.';
	if (lock_write(dirfd, tmp, &j, 0) < 0) {
		ret = errno == EACCES || errno == EPERM || errno == EROFS ? DOT_NONE : DOT_ERROR;
		unlinkat(dirfd, tmp, 0);
		return ret;
	}
	if (linkat(dirfd, tmp, dirfd, lock, 0) == 0
	    || (fstatat(dirfd, tmp, &st, 0) == 0 && st.st_nlink == 2))
		ret = DOT_HELD;
	else if (errno == EEXIST) {
		if (fstatat(dirfd, lock, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
			unlinkat(dirfd, tmp, 0);
			errno = S_ISLNK(st.st_mode) ? ELOOP : EINVAL;
			return DOT_NOT_A_FILE;
		}
		gone = lock_owner_gone(dirfd, lock, &j);
		if (gone || (fstatat(dirfd, lock, &st, AT_SYMLINK_NOFOLLOW) == 0
			     && time(NULL) - st.st_mtime > lk->stale)) {
			/* a crashed writer's: ours replaces it in one step and
			 * carries its journal until the cut is made */
			if (lock_write(dirfd, tmp, &j, 0) == 0 && renameat(dirfd, tmp, dirfd, lock) == 0) {
				*repair_r = j;
				return DOT_HELD;
			}
		} else
			ret = DOT_BUSY;
	}
	unlinkat(dirfd, tmp, 0);
	return ret;
}

/* fcntl_lock - a write lock on FD, trying until DEADLINE */
static int
fcntl_lock(int fd, time_t deadline)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	while (fcntl(fd, F_SETLK, &fl) < 0) {
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			return -1;
		if (time(NULL) >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		usleep(20000);
	}
	return 0;
}

/* fcntl_unlock - FD's lock given up */
static void
fcntl_unlock(int fd)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	fcntl(fd, F_SETLK, &fl);
}

/* both_locks - the fcntl lock on FD, then NAME's dot-lock under it
 * (*DOTLOCKED_R: 1, or 0 when the directory does not allow one); 0, or
 * -1 with the step that failed in *WHY_R */
static int
both_locks(int fd, int dirfd, const char *name, const struct mbox_locking *lk, char *lock,
	   size_t locksize, int *dotlocked_r, struct journal *repair_r, const char **why_r)
{
	time_t deadline = time(NULL) + lk->timeout;

	for (;;) {
		*why_r = "cannot lock";
		if (fcntl_lock(fd, deadline) < 0)
			return -1;
		*why_r = "cannot dot-lock";
		switch (dotlock_try(dirfd, name, lk, lock, locksize, repair_r)) {
		case DOT_HELD:
			*dotlocked_r = 1;
			return 0;
		case DOT_NONE:
			*dotlocked_r = 0;
			return 0;
		case DOT_BUSY:
			/* its writer may wait for our fcntl lock */
			fcntl_unlock(fd);
			if (time(NULL) >= deadline) {
				errno = ETIMEDOUT;
				return -1;
			}
			usleep(20000);
			continue;
		case DOT_NOT_A_FILE:
			*why_r = "refused: the dot-lock of";
			fcntl_unlock(fd);
			return -1;
		default:
			fcntl_unlock(fd);
			return -1;
		}
	}
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

/* let_go - the whole pages of MAIL's mapping from *GONE to P dropped
 * from memory (read again from the file if needed), *GONE moved on */
static void
let_go(const char **gone, const char *p)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t from, to;

	if (page <= 0)
		return;
	from = ((uintptr_t) *gone + (uintptr_t) page - 1) & ~((uintptr_t) page - 1);
	to = (uintptr_t) p & ~((uintptr_t) page - 1);
	if (to > from) {
		(void) madvise((void *) from, to - from, MADV_DONTNEED);
		*gone = (const char *) to;
	}
}

/* entry - what an append writes after the separator: the From line,
 * the quoted message and a blank line; all of it into OUT, but for a
 * message as it came in its file (a big one, message.c), whose quoted
 * body and blank line write_entry writes in pieces: *REST_R is how long
 * they are (OUT then holds the From line and mvmda's header lines) */
static void
entry(const struct mail *mail, struct buf *out, size_t *rest_r)
{
	*rest_r = 0;
	mbox_from_line(mail->sender, (long long) mail->arrived, out);
	mbox_quote(mail->head.data ? mail->head.data : "", mail->head.len, out);
	/* only the file's pages may be let go: an edited or filtered
	 * message is in memory of ours */
	if (mail_in_file(mail) && mail->len > 0) {
		const char *gone = mail->data, *seen = gone;

		*rest_r = mail->len;
		for (const char *p = mail->data, *end = p + mail->len; p < end;) {
			const char *nl = memchr(p, '\n', (size_t) (end - p));

			*rest_r += quoted(p, end);
			p = nl != NULL ? nl + 1 : end;
			if (p - seen > (1 << 20)) {	/* counted: let it go */
				let_go(&gone, p);
				seen = p;
			}
		}
		*rest_r += (mail->data[mail->len - 1] != '\n') + 1;
		return;
	}
	mbox_quote(mail->data, mail->len, out);
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		buf_putc(out, '\n');
	buf_putc(out, '\n');
}

/* write_entry - the quoted message of a mail in a file (entry's REST)
 * to FD, a piece of about a megabyte at a time, each piece's pages of
 * the mapping let go once written: a big message is never resident
 * whole; -1 */
static int
write_entry(int fd, const struct mail *mail)
{
	const char *p = mail->data, *end = p + mail->len, *gone = p;
	struct buf piece = BUF_INIT;
	int ret = 0;

	while (p < end && ret == 0) {
		const char *cut = end - p > (1 << 20) ? memchr(p + (1 << 20), '\n', (size_t) (end - p - (1 << 20))) : NULL;
		const char *stop = cut != NULL ? cut + 1 : end;

		buf_reset(&piece);
		mbox_quote(p, (size_t) (stop - p), &piece);
		if (stop == end)	/* its last line ended, and a blank one */
			buf_puts(&piece, mail->data[mail->len - 1] != '\n' ? "\n\n" : "\n");
		if (piece.failed) {
			errno = ENOMEM;
			ret = -1;
		} else {
			ret = write_all(fd, piece.data, piece.len);
		}
		p = stop;
		let_go(&gone, p);
	}
	buf_free(&piece);
	return ret;
}

/* only_theirs - the bytes from J's size to SIZE in FD are the start of
 * one mbox entry and nothing after it: newlines, then a From line, and
 * no other From line (the entry itself is quoted, so a second one is
 * another writer's message); empty or only newlines is fine too */
static int
only_theirs(int fd, const struct journal *j, off_t size)
{
	char chunk[65536], tail[6] = "";
	off_t at = (off_t) j->size;
	size_t skipped = 0, keep = 0;
	int seen_from = 0;

	while (at < size) {
		size_t want = (size_t) (size - at) < sizeof(chunk) - 6 ? (size_t) (size - at)
		    : sizeof(chunk) - 6;
		ssize_t n;
		char *p;

		memcpy(chunk, tail, keep);
		if ((n = pread(fd, chunk + keep, want, at)) <= 0)
			return 0;
		at += n;
		n += (ssize_t) keep;
		p = chunk;
		if (!seen_from) {
			while (p < chunk + n && *p == '\n' && skipped < 2)
				p++, skipped++;
			if (p == chunk + n)
				continue;	/* newlines so far */
			if (chunk + n - p < 5 && at < size) {
				keep = (size_t) (chunk + n - p);	/* read more first */
				memmove(tail, p, keep);
				continue;
			}
			if (chunk + n - p < 5 ? memcmp(p, "From ", (size_t) (chunk + n - p)) != 0
			    : memcmp(p, "From ", 5) != 0)
				return 0;
			seen_from = 1;
			p += 1;
		}
		if (memmem(p, (size_t) (chunk + n - p), "\nFrom ", 6) != NULL)
			return 0;
		keep = (size_t) (chunk + n - p) < 5 ? (size_t) (chunk + n - p) : 5;
		memmove(tail, chunk + n - keep, keep);
	}
	return 1;
}

/* repair_ok - the crashed writer's journal J lets the mbox FD (ST now)
 * be cut back to J's size: it is the same file, no more was added than
 * that writer could add, and all of it is that writer's one entry; else
 * REASON says why not */
static int
repair_ok(int fd, const struct stat *st, const struct journal *j, const char **reason)
{
	if (j->dev != 0 && (j->dev != (unsigned long long) st->st_dev
			    || j->ino != (unsigned long long) st->st_ino))
		*reason = "the mbox was replaced since";
	else if (j->length >= 0 && st->st_size - j->size > j->length)
		*reason = "more was added than the crashed delivery could write";
	else if (!only_theirs(fd, j, st->st_size))
		*reason = "another program appended to it since";
	else
		return 1;
	return 0;
}

/* refused - the message for errno E at a file that is not one we write */
static const char *
refused(int e)
{
	return e == ELOOP ? "a symbolic link" : e == EMLINK ? "it has other hard links"
	    : "not a regular file";
}

/* mbox_deliver - MAIL appended to DIRFD/NAME, made 0600 if missing (and
 * DIRFD fsync'd then, for its name to stay after a crash: done for any
 * mbox empty before, a new one being empty) */
int
mbox_deliver(int dirfd, const char *name, const struct mail *mail,
	     const struct mbox_locking *lk, char *err, size_t errsize)
{
	char lock[600];
	const char *why = "cannot open", *sep, *reason;
	int fd, e, dotlocked = 0, keep = 0;	/* keep: the lock's journal is due */
	struct journal repair, mine;
	struct buf out = BUF_INIT;
	struct stat st;
	size_t rest;

	/* O_NONBLOCK: a FIFO planted here must not hang us; a symlink
	 * gives ELOOP and anything but a regular file is refused */
	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0) {
		why = errno == ELOOP || errno == ENXIO ? "refused:" : "cannot open";
		if (errno == ENXIO)
			errno = EINVAL;
		goto fail;
	}
	why = "refused:";
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink > 1) {
		errno = S_ISREG(st.st_mode) && st.st_nlink > 1 ? EMLINK : EINVAL;
		goto fail_fd;
	}
	why = "cannot write";
	entry(mail, &out, &rest);
	if (out.failed) {
		errno = ENOMEM;
		goto fail_fd;
	}
	if (both_locks(fd, dirfd, name, lk, lock, sizeof(lock), &dotlocked, &repair, &why) < 0)
		goto fail_fd;
	why = "cannot stat";
	if (fstat(fd, &st) < 0)
		goto fail_locked;
	why = "cannot repair";
	if (repair.size >= 0 && repair.size < (long long) st.st_size) {
		/* what a killed writer left after its journal size; until
		 * it is cut, our lock carries its journal for the next one */
		keep = 1;
		if (!repair_ok(fd, &st, &repair, &reason)) {
			/* its half entry stays: cutting would take others' mail */
			mda_log(LOG_WARNING, "mbox %s: a crashed delivery left part of a message "
				"at offset %lld, not cut: %s", name, repair.size, reason);
		} else if (ftruncate(fd, (off_t) repair.size) < 0 || fsync(fd) < 0
			   || fstat(fd, &st) < 0)
			goto fail_locked;
		keep = 0;
	}
	why = "cannot journal";
	sep = separator(fd, st.st_size);
	mine = (struct journal) { (long long) st.st_size, (unsigned long long) st.st_dev,
				  (unsigned long long) st.st_ino, (long long) (strlen(sep) + out.len + rest) };
	if (dotlocked && lock_write(dirfd, lock, &mine, 1) < 0)
		goto fail_locked;
	why = "cannot write";
	if (lseek(fd, st.st_size, SEEK_SET) < 0 || write_all(fd, sep, strlen(sep)) < 0
	    || write_all(fd, out.data, out.len) < 0 || (rest > 0 && write_entry(fd, mail) < 0)
	    || fsync(fd) < 0 || (st.st_size == 0 && fsync(dirfd) < 0)) {
		/* all or nothing: cut back to what was there */
		e = errno;
		if (ftruncate(fd, st.st_size) < 0 || fsync(fd) < 0)
			keep = 1;	/* the journal says where the next writer cuts */
		errno = e;
		goto fail_locked;
	}
	buf_free(&out);
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
	if (dotlocked && !keep)
		unlinkat(dirfd, lock, 0);
	errno = e;
fail_fd:
	e = errno;
	close(fd);
	errno = e;
fail:
	e = errno;
	buf_free(&out);
	if (strncmp(why, "refused", 7) == 0)
		snprintf(err, errsize, "%s %s: %s", why, name, refused(e));
	else if (e == ETIMEDOUT)
		snprintf(err, errsize, "%s %s: still locked by another writer after %d s "
			 "($mvmda_lock_timeout)", why, name, lk->timeout);
	else
		snprintf(err, errsize, "%s %s: %s", why, name, strerror(e));
	errno = e;
	return -1;
}
