/*
 * maildir - one message into a maildir, as the Maildir spec says: a name
 * no other delivery can make (time, microseconds, pid, a counter, the
 * host), written in tmp/, fsync'd, moved into new/ (or into cur/ with
 * ":2,FLAGS" when it has flags) by a rename that never replaces (or a
 * link, where there is none), then new/ itself fsync'd so the entry
 * survives a crash. Only then is it delivered. The name carries
 * ",S=size" for Maildir++ quota readers.
 *
 * DIAGNOSTICS: -1 with errno and the reason in ERR; the tmp/ file is
 * removed on every failure, so nothing half-written is ever seen in
 * new/ or cur/.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "mail.h"
#include "maildir.h"

/* write_all - LEN bytes of P to FD, through short writes and EINTR */
int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

/* maildir_unique - "sec.MusecPpidQn.host,S=size": unique per the spec;
 * '/' and ':' in the host name become \057 and \072 */
int
maildir_unique(char *name, size_t size, size_t msg_size)
{
	static unsigned deliveries;
	struct timeval tv;
	char host[256], safe[1024], *o = safe;
	int n;

	gettimeofday(&tv, NULL);
	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = 0;
	for (const char *h = host; *h && o < safe + sizeof(safe) - 5; h++) {
		if (*h == '/' || *h == ':')
			o += sprintf(o, "\\%03o", (unsigned char) *h);
		else
			*o++ = *h;
	}
	*o = 0;
	n = snprintf(name, size, "%lld.M%06ldP%ldQ%u.%s,S=%zu", (long long) tv.tv_sec,
		     (long) tv.tv_usec, (long) getpid(), ++deliveries, safe, msg_size);
	return n < 0 || (size_t) n >= size ? -1 : 0;
}

/* maildir_flags - IMAP flags as Maildir info letters, ASCII order:
 * \Draft D, \Flagged F, \Answered R, \Seen S, \Deleted T; others are
 * dropped (they have no letter) */
int
maildir_flags(const char *const *flags, char *info, size_t size)
{
	static const struct {
		const char *name;
		char letter;
	} map[] = {
		{ "\\Draft", 'D' }, { "\\Flagged", 'F' }, { "\\Answered", 'R' },
		{ "\\Seen", 'S' }, { "\\Deleted", 'T' },
	};
	size_t n = 0;

	for (size_t m = 0; m < sizeof(map) / sizeof(map[0]); m++)
		for (size_t i = 0; flags != NULL && flags[i] != NULL; i++)
			if (strcasecmp(flags[i], map[m].name) == 0 && n + 1 < size) {
				info[n++] = map[m].letter;
				break;
			}
	info[n] = 0;
	return (int) n;
}

/* subdir - DIRFD's tmp, new or cur, not through a symlink (a planted
 * one would lead the message out of the namespace root): ELOOP then */
static int
subdir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOTDIR) {
		struct stat st;

		/* a symlink to a directory says ENOTDIR on some kernels */
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			errno = ELOOP;
	}
	return fd;
}

/* mail_in_file - MAIL's message lies in its file's mapping (a big one
 * as it came, message.c; not what a filter or editheader made of it):
 * it can go out of the file, and the mapping's pages be let go */
int
mail_in_file(const struct mail *mail)
{
	return mail->file_map != NULL && mail->data >= mail->file_map
	    && mail->data + mail->len <= mail->file_map + mail->file_len;
}

/* write_message - MAIL's message (not its head) to FD: from its file
 * with sendfile when it lies in one (a big message is never paged into
 * this process to be written), else from memory; -1 */
int
write_message(int fd, const struct mail *mail)
{
	off_t off;
	size_t left = mail->len;

	if (!mail_in_file(mail))
		return write_all(fd, mail->data, mail->len);
	off = (off_t) (mail->data - mail->file_map);
	while (left > 0) {
		ssize_t n = sendfile(fd, mail->file_fd, &off, left < ((size_t) 1 << 30) ? left : (size_t) 1 << 30);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EINVAL || errno == ENOSYS) && left == mail->len)
			return write_all(fd, mail->data, mail->len);
		if (n < 0)
			return -1;
		if (n == 0) {	/* the file is shorter than its mapping said */
			errno = EIO;
			return -1;
		}
		left -= (size_t) n;
	}
	return 0;
}

/* link_spool - MAIL's own spool file (message.c), when it is the whole
 * of what is stored (nothing on top, no filter's output), linked as
 * TMPFD/NAME and on disk: the message is not written again. Once only:
 * a second folder gets a copy of its own. 0, or -1 (errno EEXIST: the
 * name is taken; else the copy is to be written) */
static int
link_spool(int tmpfd, const char *name, const struct mail *mail)
{
	static int linked;
	char proc[64];

	if (linked || !mail->file_ours || mail->head.len != 0 || mail->data != mail->file_map
	    || mail->len != mail->file_len) {
		errno = EXDEV;
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", mail->file_fd);
	if (linkat(AT_FDCWD, proc, tmpfd, name, AT_SYMLINK_FOLLOW) < 0)
		return -1;
	linked = 1;
	if (fsync(mail->file_fd) < 0) {
		int e = errno;

		unlinkat(tmpfd, name, 0);
		errno = e;
		return -1;
	}
	return 0;
}

/* write_tmp - the whole message into TMPFD/NAME, on disk; -1 */
static int
write_tmp(int tmpfd, const char *name, const struct mail *mail)
{
	int fd, e;

	if (link_spool(tmpfd, name, mail) == 0)
		return 0;
	if (errno == EEXIST)
		return -1;	/* another name, then */
	if ((fd = openat(tmpfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return -1;
	if (write_all(fd, mail->head.data ? mail->head.data : "", mail->head.len) < 0
	    || write_message(fd, mail) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* move_into_place - TMPFD/NAME as DESTFD/LEAF, never over a file of
 * that name (EEXIST): one rename that refuses to replace, where the file
 * system has it, else a link and the tmp/ name unlinked, as the Maildir
 * spec has it, else (no hard links either) a plain rename, which the
 * unique name makes as safe; 0 or -1 */
static int
move_into_place(int tmpfd, const char *name, int destfd, const char *leaf)
{
#ifdef RENAME_NOREPLACE
	if (renameat2(tmpfd, name, destfd, leaf, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
#endif
	if (linkat(tmpfd, name, destfd, leaf, 0) == 0) {
		unlinkat(tmpfd, name, 0);
		return 0;
	}
	if (errno != EPERM && errno != ENOTSUP && errno != EXDEV && errno != ENOSYS)
		return -1;
	return renameat(tmpfd, name, destfd, leaf);
}

/* maildir_deliver - MAIL into the maildir DIRFD; its file name (below
 * the maildir) in NAME_R. tmp/ and new/ or cur/ are opened once, never
 * through a symlink, and everything else is relative to them. */
int
maildir_deliver(int dirfd, const struct mail *mail, const char *const *flags,
		char *name_r, size_t namesize, char *err, size_t errsize)
{
	char unique[512], leaf[600], info[16];
	const char *why = "cannot open", *sub = "tmp";
	int tries, e, has_info = maildir_flags(flags, info, sizeof(info)) > 0;
	int tmpfd, destfd = -1, written = 0;

	if ((tmpfd = subdir(dirfd, "tmp")) < 0)
		goto fail_early;
	sub = has_info ? "cur" : "new";
	if ((destfd = subdir(dirfd, sub)) < 0)
		goto fail_early;
	why = "cannot create";
	sub = "tmp";
	for (tries = 0; tries < 10; tries++) {
		if (maildir_unique(unique, sizeof(unique), mail->head.len + mail->len) < 0) {
			errno = ENAMETOOLONG;
			goto fail_early;
		}
		if (write_tmp(tmpfd, unique, mail) == 0)
			break;
		if (errno != EEXIST) {
			why = "cannot write";
			written = 1;
			goto fail;
		}
	}
	if (tries == 10)
		goto fail_early;
	written = 1;
	if (has_info)
		snprintf(leaf, sizeof(leaf), "%s:2,%s", unique, info);
	else
		snprintf(leaf, sizeof(leaf), "%s", unique);
	snprintf(name_r, namesize, "%s/%s", has_info ? "cur" : "new", leaf);
	why = "cannot move into place";
	if (move_into_place(tmpfd, unique, destfd, leaf) < 0)
		goto fail;
	written = 0;
	if (fsync(destfd) < 0) {
		/* not known to be durable: take it back, let the MTA retry */
		e = errno;
		unlinkat(destfd, leaf, 0);
		errno = e;
		why = "cannot sync the directory of";
		sub = name_r;
		goto fail_early;
	}
	close(tmpfd);
	close(destfd);
	return 0;
fail:
	e = errno;
	if (written)
		unlinkat(tmpfd, unique, 0);
	errno = e;
	sub = "tmp/";
fail_early:
	e = errno;
	if (tmpfd >= 0)
		close(tmpfd);
	if (destfd >= 0)
		close(destfd);
	if (e == ELOOP)
		snprintf(err, errsize, "refused: %s is a symbolic link", sub);
	else
		snprintf(err, errsize, "%s %s%s: %s", why, sub,
			 strcmp(sub, "tmp/") == 0 ? unique : "", strerror(e));
	errno = e;
	return -1;
}
