/*
 * namespace - folder names to storage. A namespace is a prefix, a layout
 * (fs: "A/B" is ROOT/A/B; maildir++: "A/B" is ROOT/.A.B), a root no
 * folder may leave, the storage type of new folders and the separator
 * folder names use. A name goes to the namespace with the longest
 * matching prefix; INBOX is the root of a Maildir++ namespace, or the
 * namespace's inbox path when it has one.
 *
 * Leaving the root is refused by construction: a name's components may
 * not be empty, "." or "..", may not hold '/' or control characters,
 * and in fs layout may not start with '.'; and folder_open() walks the
 * components one openat() at a time with O_NOFOLLOW, following a
 * symlink only when what it points to is still under the root.
 *
 * DIAGNOSTICS: -1 with the reason in ERR; errno tells a temporary
 * failure (EIO, ENOSPC, EACCES...) from a bad name (EINVAL).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "namespace.h"

/* store_type_name - "maildir" or "mbox" */
const char *
store_type_name(enum store_type type)
{
	return type == STORE_MBOX ? "mbox" : "maildir";
}

/* fail - set ERR and errno; -1 */
static int
fail(int errnum, char *err, size_t errsize, const char *fmt, const char *arg)
{
	snprintf(err, errsize, fmt, arg);
	errno = errnum;
	return -1;
}

/* fail_sys - the same for a system call that failed with ERRNUM: the
 * reason follows the path */
static int
fail_sys(int errnum, char *err, size_t errsize, const char *fmt, const char *arg)
{
	size_t n;

	snprintf(err, errsize, fmt, arg);
	n = strlen(err);
	snprintf(err + n, errsize - n, ": %s", strerror(errnum));
	errno = errnum;
	return -1;
}

/* ns_add - one namespace; layout "fs" or "maildir++" (",utf8" after
 * it: names on disk in UTF-8), type "maildir" or "mbox", sep one
 * character, inbox NULL or "" for the default */
int
ns_add(struct ns_table *table, const char *prefix, const char *layout,
       const char *root, const char *type, const char *sep,
       const char *inbox, char *err, size_t errsize)
{
	struct ns ns = { 0 };

	size_t llen = strlen(layout);

	if (table->n == NS_MAX)
		return fail(ENOSPC, err, errsize, "more than %s namespaces", "16");
	if (llen > 5 && strcmp(layout + llen - 5, ",utf8") == 0) {
		ns.utf8 = 1;
		llen -= 5;
	}
	if (llen == 2 && strncmp(layout, "fs", 2) == 0)
		ns.layout = NS_FS;
	else if (llen == 9 && strncmp(layout, "maildir++", 9) == 0)
		ns.layout = NS_MAILDIRPP;
	else
		return fail(EINVAL, err, errsize, "namespace layout \"%s\": want fs or maildir++, "
			    "with ,utf8 or without", layout);
	if (strcmp(type, "maildir") == 0)
		ns.type = STORE_MAILDIR;
	else if (strcmp(type, "mbox") == 0)
		ns.type = STORE_MBOX;
	else
		return fail(EINVAL, err, errsize, "namespace type \"%s\": want maildir or mbox", type);
	if (ns.layout == NS_MAILDIRPP && ns.type != STORE_MAILDIR)
		return fail(EINVAL, err, errsize, "namespace %s: maildir++ holds maildirs only", root);
	if (root[0] != '/' || strlen(root) >= PATH_MAX / 2)
		return fail(EINVAL, err, errsize, "namespace root \"%s\" is not an absolute path", root);
	if (strlen(sep) != 1 || sep[0] == 0)
		return fail(EINVAL, err, errsize, "namespace separator \"%s\": want one character", sep);
	if (inbox != NULL && *inbox && inbox[0] != '/')
		return fail(EINVAL, err, errsize, "namespace inbox \"%s\" is not an absolute path", inbox);
	ns.sep = sep[0];
	ns.prefix = strdup(prefix);
	ns.root = strdup(root);
	ns.inbox = inbox && *inbox ? strdup(inbox) : NULL;
	if (ns.prefix == NULL || ns.root == NULL || (inbox && *inbox && ns.inbox == NULL)) {
		free(ns.prefix), free(ns.root), free(ns.inbox);
		return fail(ENOMEM, err, errsize, "%s", "out of memory");
	}
	/* "/home/u/Maildir/" and "/home/u/Maildir" are one root */
	for (size_t n = strlen(ns.root); n > 1 && ns.root[n - 1] == '/'; n--)
		ns.root[n - 1] = 0;
	table->v[table->n++] = ns;
	return 0;
}

/* ns_clear - forget every namespace */
void
ns_clear(struct ns_table *table)
{
	for (size_t i = 0; i < table->n; i++) {
		free(table->v[i].prefix);
		free(table->v[i].root);
		free(table->v[i].inbox);
	}
	table->n = 0;
}

/* ns_find - the namespace with the longest prefix NAME starts with */
static const struct ns *
ns_find(const struct ns_table *table, const char *name, size_t len)
{
	const struct ns *best = NULL;

	for (size_t i = 0; i < table->n; i++) {
		size_t plen = strlen(table->v[i].prefix);

		if (plen <= len && memcmp(table->v[i].prefix, name, plen) == 0
		    && (best == NULL || plen > strlen(best->prefix)))
			best = &table->v[i];
	}
	return best;
}

/* utf8_next - the code point of the UTF-8 sequence at *P (before END),
 * *P moved past it; -1 for a byte that starts no well-formed sequence */
static long
utf8_next(const unsigned char **p, const unsigned char *end)
{
	unsigned char c = *(*p)++;
	int more = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2
	    : c >= 0xf0 && c < 0xf5 ? 3 : -1;
	long cp = more == 0 ? c : more == 1 ? c & 0x1f : more == 2 ? c & 0x0f : c & 0x07;

	if (more < 0 || end - *p < more)
		return -1;
	for (int i = 0; i < more; i++, (*p)++) {
		if ((**p & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (**p & 0x3f);
	}
	if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff))
	    || (cp >= 0xd800 && cp < 0xe000))
		return -1;	/* overlong, past Unicode, or a surrogate */
	return cp;
}

/* mutf7 - component C of LEN bytes (UTF-8) as modified UTF-7 (RFC 3501
 * 5.1.3), the name Dovecot and Courier read on disk: printable ASCII as
 * it is ("&" as "&-"), every other run as UTF-16 in base64 between "&"
 * and "-"; into OUT, its length, or -1 when C is not UTF-8 or too long */
static int
mutf7(const char *c, size_t len, char *out, size_t size)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
	const unsigned char *p = (const unsigned char *) c, *end = p + len;
	size_t n = 0;

	while (p < end) {
		uint32_t bits = 0;
		int nbits = 0;

		if (*p >= 0x20 && *p < 0x7f) {
			if (n + 2 >= size)
				return -1;
			out[n++] = (char) *p;
			if (*p++ == '&')
				out[n++] = '-';
			continue;
		}
		out[n++] = '&';
		while (p < end && !(*p >= 0x20 && *p < 0x7f)) {
			long cp = utf8_next(&p, end);
			unsigned units[2];
			int nu = 0;

			if (cp < 0)
				return -1;
			if (cp >= 0x10000) {
				units[nu++] = 0xd800 + (unsigned) ((cp - 0x10000) >> 10);
				units[nu++] = 0xdc00 + (unsigned) ((cp - 0x10000) & 0x3ff);
			} else {
				units[nu++] = (unsigned) cp;
			}
			for (int u = 0; u < nu; u++) {
				bits = bits << 16 | units[u];
				nbits += 16;
				while (nbits >= 6) {
					if (n + 3 >= size)
						return -1;
					nbits -= 6;
					out[n++] = b64[(bits >> nbits) & 0x3f];
				}
			}
		}
		if (n + 3 >= size)
			return -1;
		if (nbits > 0)
			out[n++] = b64[(bits << (6 - nbits)) & 0x3f];
		out[n++] = '-';
	}
	out[n] = 0;
	return (int) n;
}

/* bad_component - why component C of LEN bytes may not be used, or NULL */
static const char *
bad_component(const struct ns *ns, const char *c, size_t len)
{
	if (len == 0)
		return "an empty component";
	if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
		return "a \".\" or \"..\" component";
	if (len > 200)
		return "a component longer than 200 bytes";
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char) c[i];

		if (ch == '/' || ch < 0x20 || ch == 0x7f)
			return "'/' or a control character";
		if (ch == '.' && ns->layout == NS_MAILDIRPP)
			return "'.' inside a Maildir++ folder name";
	}
	if (ns->layout == NS_FS && c[0] == '.')
		return "a component starting with '.'";
	if (ns->layout == NS_FS && ns->type == STORE_MAILDIR
	    && len == 3 && (!memcmp(c, "tmp", 3) || !memcmp(c, "new", 3) || !memcmp(c, "cur", 3)))
		return "a component named tmp, new or cur";
	return NULL;
}

/* ns_resolve - where folder NAME is; -1 (EINVAL) for a name that would
 * leave its root or that no namespace takes */
int
ns_resolve(const struct ns_table *table, const char *name, size_t len,
	   struct folder *folder, char *err, size_t errsize)
{
	const struct ns *ns;
	const char *p, *end;
	size_t plen, off = 0;
	struct stat st;

	memset(folder, 0, sizeof(*folder));
	if (memchr(name, 0, len) != NULL)
		return fail(EINVAL, err, errsize, "%s", "folder name holds a NUL");
	if ((ns = ns_find(table, name, len)) == NULL)
		return fail(EINVAL, err, errsize, "%s", "no namespace takes this folder name");
	plen = strlen(ns->prefix);
	p = name + plen;
	end = name + len;
	folder->ns = ns;
	folder->type = ns->type;
	if (end - p == 5 && strncasecmp(p, "INBOX", 5) == 0) {
		if (ns->inbox != NULL) {
			folder->absolute = 1;
			snprintf(folder->path, sizeof(folder->path), "%s", ns->inbox);
		} else if (ns->layout == NS_MAILDIRPP) {
			snprintf(folder->path, sizeof(folder->path), "%s", ns->root);
		} else {
			snprintf(folder->rel, sizeof(folder->rel), "INBOX");
			snprintf(folder->path, sizeof(folder->path), "%s/INBOX", ns->root);
		}
		goto detect;
	}
	if (ns->layout == NS_MAILDIRPP)
		folder->rel[off++] = '.';
	while (p <= end) {
		const char *q = memchr(p, ns->sep, (size_t) (end - p));
		const char *why;
		size_t clen;

		if (ns->layout == NS_MAILDIRPP) {
			/* '/' cannot be in a Maildir++ name on disk: it is a
			 * level too, as IMAP clients show it ("Lists/dev" is
			 * .Lists.dev, as Dovecot maps it) */
			const char *slash = memchr(p, '/', (size_t) (end - p));

			if (slash != NULL && (q == NULL || slash < q))
				q = slash;
		}
		if (q == NULL)
			q = end;
		clen = (size_t) (q - p);
		if ((why = bad_component(ns, p, clen)) != NULL)
			return fail(EINVAL, err, errsize, "folder name has %s", why);
		if (!ns->utf8) {
			/* on disk as Dovecot and Courier name folders */
			char enc[NAME_MAX + 1];
			int elen = mutf7(p, clen, enc, sizeof(enc));

			if (elen < 0)
				return fail(EINVAL, err, errsize, "%s", "folder name is not UTF-8 "
					    "(or too long in modified UTF-7)");
			if (off + (size_t) elen + 2 >= sizeof(folder->rel) - strlen(ns->root) - 2)
				return fail(EINVAL, err, errsize, "%s", "folder name too long");
			memcpy(folder->rel + off, enc, (size_t) elen);
			off += (size_t) elen;
		} else {
			if (off + clen + 2 >= sizeof(folder->rel) - strlen(ns->root) - 2)
				return fail(EINVAL, err, errsize, "%s", "folder name too long");
			memcpy(folder->rel + off, p, clen);
			off += clen;
		}
		if (q < end)
			folder->rel[off++] = ns->layout == NS_MAILDIRPP ? '.' : '/';
		p = q + 1;
	}
	folder->rel[off] = 0;
	folder->maildirpp = ns->layout == NS_MAILDIRPP;
	if (strlen(ns->root) + 1 + off >= sizeof(folder->path))
		return fail(EINVAL, err, errsize, "%s", "folder name too long");
	memcpy(folder->path, ns->root, strlen(ns->root));
	folder->path[strlen(ns->root)] = '/';
	memcpy(folder->path + strlen(ns->root) + 1, folder->rel, off + 1);
detect:
	/* an existing folder keeps its own type (DESIGN: namespaces) */
	if (stat(folder->path, &st) == 0) {
		folder->exists = 1;
		folder->type = S_ISDIR(st.st_mode) ? STORE_MAILDIR : STORE_MBOX;
	}
	return 0;
}

/* under_root - the real path of DIRFD/NAME is inside ROOT's real path */
static int
under_root(const char *root, int dirfd, const char *name)
{
	char link[64], here[PATH_MAX], real_root[PATH_MAX], *target;
	size_t rlen;
	int inside;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	if (realpath(root, real_root) == NULL || realpath(link, here) == NULL)
		return 0;
	if (strlen(here) + strlen(name) + 2 > sizeof(here))
		return 0;
	strcat(here, "/");
	strcat(here, name);
	if ((target = realpath(here, NULL)) == NULL)
		return 0;
	rlen = strlen(real_root);
	inside = strncmp(target, real_root, rlen) == 0 && (target[rlen] == '/' || !target[rlen]);
	free(target);
	return inside;
}

/* step - open directory NAME below DIRFD without leaving ROOT; made
 * when CREATE; the new fd, or -1 */
static int
step(const char *root, int dirfd, const char *name, int create, char *err,
     size_t errsize)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
			return fail_sys(errno, err, errsize, "cannot create folder directory %s", name);
		/* its name in DIRFD on disk before mail goes below it (also
		 * when a delivery beside us made it a moment ago) */
		if (fsync(dirfd) < 0)
			return fail_sys(errno, err, errsize, "cannot sync the directory holding %s", name);
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		if (!under_root(root, dirfd, name))
			return fail(EINVAL, err, errsize, "%s leads outside the namespace root", name);
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0) {
		int e = errno;

		snprintf(err, errsize, "cannot open %s: %s", name, strerror(e));
		errno = e;
	}
	return fd;
}

/* maildir_dirs - make tmp, new, cur in DIRFD; and maildirfolder for a
 * Maildir++ subfolder (Maildir++ spec); DIRFD fsync'd when any was
 * made, so what is made stays after a crash (POSIX asks it of a
 * directory's entries; not every file system does it on its own) */
static int
maildir_dirs(int dirfd, int maildirpp, char *err, size_t errsize)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	int made = 0;

	for (int i = 0; i < 3; i++) {
		if (mkdirat(dirfd, sub[i], 0700) == 0)
			made = 1;
		else if (errno != EEXIST)
			return fail_sys(errno, err, errsize, "cannot create %s", sub[i]);
	}
	if (maildirpp) {
		/* O_NONBLOCK: a FIFO planted here must not hang us */
		int fd = openat(dirfd, "maildirfolder",
				O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
		struct stat st;

		if (fd < 0 && (errno == ELOOP || errno == ENXIO))
			return fail(errno == ELOOP ? ELOOP : EINVAL, err, errsize,
				    "refused: maildirfolder is %s",
				    errno == ELOOP ? "a symbolic link" : "not a regular file");
		if (fd < 0)
			return fail_sys(errno, err, errsize, "cannot create %s", "maildirfolder");
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			return fail(EINVAL, err, errsize, "refused: maildirfolder is %s",
				    "not a regular file");
		}
		close(fd);
	}
	if (made && fsync(dirfd) < 0)
		return fail_sys(errno, err, errsize, "cannot sync %s", "the folder directory");
	return 0;
}

/* sync_parent - the directory holding PATH fsync'd: a directory just
 * made there keeps its name after a crash; -1 (ERR) */
static int
sync_parent(const char *path, char *err, size_t errsize)
{
	char dir[PATH_MAX], *slash;
	int fd, ret;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = 0;	/* "/x": "/" */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return fail_sys(errno, err, errsize, "cannot open %s", dir);
	ret = fsync(fd);
	close(fd);
	return ret < 0 ? fail_sys(errno, err, errsize, "cannot sync %s", dir) : 0;
}

/* folder_open - a directory fd for FOLDER: the maildir itself, or for
 * an mbox the directory holding it, whose file name goes to LEAF
 * (NAME_MAX + 1 bytes). Missing directories are made when CREATE (a
 * maildir's tmp, new and cur when the folder itself was missing). */
int
folder_open(const struct folder *folder, int create, char *leaf, char *err,
	    size_t errsize)
{
	const char *root = folder->ns->root;
	char rel[PATH_MAX], *p, *slash;
	int fd, next;

	leaf[0] = 0;
	if (folder->absolute) {
		/* the admin's inbox path: trusted, opened as given */
		snprintf(rel, sizeof(rel), "%s", folder->path);
		if (folder->type == STORE_MBOX) {
			slash = strrchr(rel, '/');
			snprintf(leaf, NAME_MAX + 1, "%s", slash + 1);
			*slash = 0;
			fd = open(*rel ? rel : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			return fd < 0 ? fail_sys(errno, err, errsize, "cannot open %s", *rel ? rel : "/") : fd;
		}
		if ((fd = open(rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 && errno == ENOENT && create) {
			if ((mkdir(rel, 0700) == 0 || errno == EEXIST) && sync_parent(rel, err, errsize) < 0)
				return -1;
			fd = open(rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		}
		if (fd < 0)
			return fail_sys(errno, err, errsize, "cannot open %s", folder->path);
		if (create && !folder->exists && folder_maildir_dirs(fd, folder, err, errsize) < 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 && errno == ENOENT && create) {
		/* EEXIST: a delivery beside us made it a moment ago */
		if ((mkdir(root, 0700) == 0 || errno == EEXIST) && sync_parent(root, err, errsize) < 0)
			return -1;
		fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return fail_sys(errno, err, errsize, "cannot open namespace root %s", root);
	snprintf(rel, sizeof(rel), "%s", folder->rel);
	for (p = rel; *p;) {
		if ((slash = strchr(p, '/')) != NULL)
			*slash = 0;
		if (slash == NULL && folder->type == STORE_MBOX) {
			/* mbox.c opens it with O_NOFOLLOW; components
			 * are at most 200 bytes (bad_component) */
			memcpy(leaf, p, strlen(p) + 1);
			return fd;
		}
		next = step(root, fd, p, create, err, errsize);
		close(fd);
		if ((fd = next) < 0)
			return -1;
		p = slash ? slash + 1 : p + strlen(p);
	}
	if (folder->type == STORE_MAILDIR && create && !folder->exists
	    && folder_maildir_dirs(fd, folder, err, errsize) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* folder_maildir_dirs - FOLDER's tmp, new and cur (and maildirfolder for
 * a Maildir++ subfolder) made in FD, its directory: by folder_open for
 * a folder that was not there, else when a delivery finds one missing
 * (a folder that was there is not probed each time); -1 (ERR) */
int
folder_maildir_dirs(int fd, const struct folder *folder, char *err, size_t errsize)
{
	return maildir_dirs(fd, !folder->absolute && folder->maildirpp, err, errsize);
}
