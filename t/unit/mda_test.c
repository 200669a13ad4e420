/*
 * mda_test - mvmda's delivery modules: Maildir names and flags,
 * namespace resolution (and every way out of a root we could think of),
 * mboxrd quoting and From lines, mbox locking (a held fcntl lock and a
 * held dot-lock time out and leave the file as it was; a program that
 * takes the dot-lock first and then fcntl is not deadlocked; a stale dot-lock
 * is broken), and the responsible IPs of a Received: chain.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "mail.h"
#include "maildir.h"
#include "mbox.h"
#include "mfl.h"
#include "namespace.h"
#include "received.h"
#include "tap.h"

static char dir[64];

/* test_unique - names have the spec's parts and never repeat */
static void
test_unique(void)
{
	char a[512], b[512];
	long long sec;
	long usec, pid;
	unsigned q;
	size_t size;
	char host[300];

	tap_ok(maildir_unique(a, sizeof(a), 4321) == 0, "a unique name");
	tap_ok(sscanf(a, "%lld.M%6ldP%ldQ%u.%299[^,],S=%zu", &sec, &usec, &pid, &q, host, &size) == 6,
	       "sec.MusecPpidQn.host,S=size: got %s", a);
	tap_is_int(pid, getpid(), "the pid is in it");
	tap_is_int((long long) size, 4321, "and the size");
	tap_ok(strchr(a, '/') == NULL && strchr(a, ':') == NULL, "no '/' or ':' in it");
	maildir_unique(b, sizeof(b), 4321);
	tap_ok(strcmp(a, b) != 0, "two names in one microsecond differ: %s %s", a, b);
	tap_ok(maildir_unique(a, 10, 1) < 0, "too small a buffer is an error");
}

/* test_flags - IMAP flags to Maildir info letters */
static void
test_flags(void)
{
	static const struct {
		const char *flags[5];
		const char *want;
	} cases[] = {
		{ { NULL }, "" },
		{ { "\\Seen", NULL }, "S" },
		{ { "\\Seen", "\\Flagged", "\\Answered", NULL }, "FRS" },
		{ { "\\deleted", "\\Draft", "$Junk", NULL }, "DT" },
		{ { "\\Seen", "\\Seen", NULL }, "S" },
	};
	char info[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		maildir_flags(cases[i].flags, info, sizeof(info));
		tap_is_str(info, cases[i].want, "flags case %zu", i);
	}
}

/* test_namespaces - names to paths; names that would escape */
static void
test_namespaces(void)
{
	static const struct {
		const char *name, *want;	/* want NULL: refused */
	} cases[] = {
		{ "INBOX", "M" },
		{ "inbox", "M" },
		{ "Lists", "M/.Lists" },
		{ "Lists.dev", "M/.Lists.dev" },
		{ "INBOX.Lists.dev", "M/.Lists.dev" },
		{ "INBOX.INBOX", "M" },
		{ "Trash", "M/.Trash" },
		{ "mb/Old", "B/Old" },
		{ "mb/a/b", "B/a/b" },
		{ "mb/INBOX", "/var/mail/u" },
		{ "..", NULL },
		{ ".", NULL },
		{ "A..B", NULL },
		{ ".A", NULL },
		{ "A.", NULL },
		{ "A/B", "M/.A.B" },	/* '/' is a level in Maildir++, as IMAP shows it */
		{ "Lists/dev.x", "M/.Lists.dev.x" },
		{ "A/", NULL },
		{ "A/../B", NULL },
		{ "../../etc/passwd", NULL },
		{ "/etc/passwd", NULL },
		{ "mb/../x", NULL },
		{ "mb/./x", NULL },
		{ "mb//x", NULL },
		{ "mb/.hidden", NULL },
		{ "mb/a/..", NULL },
		{ "mb/a/", NULL },
		{ "mb/", NULL },
		{ "A\nB", NULL },
		{ "", NULL },
		/* modified UTF-7 on disk (RFC 3501 5.1.3), as Dovecot names it */
		{ "Caf\xc3\xa9", "M/.Caf&AOk-" },
		{ "R&D", "M/.R&-D" },
		{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "M/.&ZeVnLIqe-" },
		{ "Lists.R\xc3\xa9union", "M/.Lists.R&AOk-union" },
		{ "\xf0\x9f\x98\x80", "M/.&2D3eAA-" },
		{ "mb/\xc3\xa9t\xc3\xa9/2026", "B/&AOk-t&AOk-/2026" },
		{ "u8/Caf\xc3\xa9", "U/Caf\xc3\xa9" },
		{ "Bad\xff", NULL },
		{ "Bad\xc3", NULL },
		{ "Bad\xc0\xaf", NULL },
		{ "Bad\xed\xa0\x80", NULL },
	};
	struct ns_table t = { .n = 0 };
	struct folder f;
	char err[256], want[512];

	tap_ok(ns_add(&t, "", "maildir++", "/h/M", "maildir", ".", NULL, err, sizeof(err)) == 0,
	       "maildir++ namespace");
	tap_ok(ns_add(&t, "INBOX.", "maildir++", "/h/M/", "maildir", ".", "", err, sizeof(err)) == 0,
	       "INBOX. prefix, trailing slash");
	tap_ok(ns_add(&t, "mb/", "fs", "/h/B", "mbox", "/", "/var/mail/u", err, sizeof(err)) == 0,
	       "fs mbox namespace with an inbox");
	tap_ok(ns_add(&t, "u8/", "fs,utf8", "/h/U", "mbox", "/", NULL, err, sizeof(err)) == 0,
	       "fs namespace keeping UTF-8 names");
	tap_ok(ns_add(&t, "x/", "maildir++", "/h/X", "mbox", "/", NULL, err, sizeof(err)) < 0
	       && strstr(err, "maildir++ holds maildirs only"), "maildir++ with mbox refused");
	tap_ok(ns_add(&t, "x/", "fs", "rel/X", "mbox", "/", NULL, err, sizeof(err)) < 0,
	       "relative root refused");
	tap_ok(ns_add(&t, "x/", "tree", "/X", "mbox", "/", NULL, err, sizeof(err)) < 0
	       && strstr(err, "want fs or maildir++"), "unknown layout refused");
	tap_ok(ns_add(&t, "x/", "fs", "/X", "mbox", "//", NULL, err, sizeof(err)) < 0,
	       "two-character separator refused");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = ns_resolve(&t, cases[i].name, strlen(cases[i].name), &f, err, sizeof(err));

		if (cases[i].want == NULL) {
			tap_ok(r < 0 && errno == EINVAL, "case %zu refused (%s)", i,
			       r < 0 ? err : f.path);
			continue;
		}
		if (cases[i].want[0] == '/')
			snprintf(want, sizeof(want), "%s", cases[i].want);
		else
			snprintf(want, sizeof(want), "/h/%s", cases[i].want);
		tap_ok(r == 0, "\"%s\" resolves", cases[i].name);
		tap_is_str(r == 0 ? f.path : err, want, "\"%s\" path", cases[i].name);
	}
	tap_ok(ns_resolve(&t, "mb/a", 4, &f, err, sizeof(err)) == 0 && f.type == STORE_MBOX,
	       "new folder takes the namespace's type");
	ns_clear(&t);
	tap_ok(ns_resolve(&t, "INBOX", 5, &f, err, sizeof(err)) < 0 && strstr(err, "no namespace"),
	       "no namespace: refused");
}

/* test_symlinks - folder_open never leaves the root through a symlink */
static void
test_symlinks(void)
{
	struct ns_table t = { .n = 0 };
	struct folder f;
	char err[256], leaf[NAME_MAX + 1], root[128], out[128], path[256];
	int fd;

	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(out, sizeof(out), "%s/outside", dir);
	mkdir(root, 0700);
	mkdir(out, 0700);
	snprintf(path, sizeof(path), "%s/inside", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/.Evil", root);
	symlink(out, path);
	snprintf(path, sizeof(path), "%s/.Alias", root);
	symlink("inside", path);
	snprintf(path, sizeof(path), "%s/esc", root);
	symlink(out, path);
	ns_add(&t, "", "maildir++", root, "maildir", ".", NULL, err, sizeof(err));
	ns_add(&t, "fs/", "fs", root, "mbox", "/", NULL, err, sizeof(err));

	ns_resolve(&t, "Evil", 4, &f, err, sizeof(err));
	fd = folder_open(&f, 1, leaf, err, sizeof(err));
	tap_ok(fd < 0 && errno == EINVAL && strstr(err, "outside the namespace root"),
	       "a Maildir++ folder symlinked out of the root is refused: %s", err);
	snprintf(path, sizeof(path), "%s/tmp", out);
	tap_ok(access(path, F_OK) < 0, "and nothing was made outside");

	ns_resolve(&t, "Alias", 5, &f, err, sizeof(err));
	fd = folder_open(&f, 1, leaf, err, sizeof(err));
	tap_ok(fd >= 0, "a symlink that stays inside is followed");
	if (fd >= 0)
		close(fd);

	ns_resolve(&t, "fs/esc/box", 10, &f, err, sizeof(err));
	fd = folder_open(&f, 1, leaf, err, sizeof(err));
	tap_ok(fd < 0 && errno == EINVAL, "an fs directory symlinked out is refused");

	ns_resolve(&t, "fs/sub/box", 10, &f, err, sizeof(err));
	fd = folder_open(&f, 1, leaf, err, sizeof(err));
	tap_ok(fd >= 0 && strcmp(leaf, "box") == 0, "fs mbox: the directory is made, leaf box");
	if (fd >= 0)
		close(fd);
	ns_clear(&t);
}

/* Senders a broken MTA may hand over, and the one word of the From line
 * each must become: never two lines, never two words. */
static const struct {
	const char *what, *sender, *want;
} from_cases[] = {
	{ "plain", "a.b+c@example.org", "From a.b+c@example.org Thu Jan  1 00:00:00 1970\n" },
	{ "a newline forging a second From line",
	  "a\nFrom evil@example.org Mon Jan  1 00:00:00 2026\n@example.org",
	  "From \"a?From evil@example.org Mon Jan  1 00:00:00 2026?\"@example.org "
	  "Thu Jan  1 00:00:00 1970\n" },
	{ "a space in the local part", "joe smith@example.org",
	  "From \"joe smith\"@example.org Thu Jan  1 00:00:00 1970\n" },
	{ "quotes and a backslash", "a\"b\\c@x", "From \"a\\\"b\\\\c\"@x Thu Jan  1 00:00:00 1970\n" },
	{ "a CR and a space in the domain", "a@ex ample\r.org",
	  "From a@ex?ample?.org Thu Jan  1 00:00:00 1970\n" },
	{ "no domain, a space", "post master", "From \"post master\" Thu Jan  1 00:00:00 1970\n" },
};

/* test_quote - mboxrd quoting and the From line */
static void
test_quote(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "a\nFrom b\n", "a\n>From b\n" },
		{ ">From b\n", ">>From b\n" },
		{ ">>>From b", ">>>>From b" },
		{ "From: x\n", "From: x\n" },
		{ "from b\n", "from b\n" },
		{ " From b\n", " From b\n" },
		{ ">From\n", ">From\n" },
		{ "x\n\nFrom \n", "x\n\n>From \n" },
		{ "", "" },
	};
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&out);
		mbox_quote(cases[i].in, strlen(cases[i].in), &out);
		tap_is_mem(out.data ? out.data : "", out.len, cases[i].want, strlen(cases[i].want),
			   "quote case %zu", i);
	}
	buf_reset(&out);
	mbox_from_line("a@b", 0, &out);
	tap_is_str(buf_cstr(&out), "From a@b Thu Jan  1 00:00:00 1970\n", "From line");
	buf_reset(&out);
	mbox_from_line("", 1795000000, &out);
	tap_is_str(buf_cstr(&out), "From MAILER-DAEMON Wed Nov 18 11:06:40 2026\n",
		   "null sender From line");
	for (size_t i = 0; i < sizeof(from_cases) / sizeof(from_cases[0]); i++) {
		buf_reset(&out);
		mbox_from_line(from_cases[i].sender, 0, &out);
		tap_is_str(buf_cstr(&out), from_cases[i].want, "From line: %s", from_cases[i].what);
	}
	buf_free(&out);
}

/* file_text - the whole of DIR/NAME */
static void
file_text(const char *name, struct buf *out)
{
	char path[256], b[4096];
	ssize_t n;
	int fd;

	buf_reset(out);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY)) < 0)
		return;
	while ((n = read(fd, b, sizeof(b))) > 0)
		buf_append(out, b, (size_t) n);
	close(fd);
}

/* test_mbox - deliveries, separators, locks held by others */
static void
test_mbox(void)
{
	struct mbox_locking lk = { .timeout = 1, .stale = 600 };
	struct mail mail = { .data = "Subject: x\n\nFrom me\nbody", .len = 24, .sender = "s@x",
			     .recipient = "r@y", .arrived = 0 };
	struct buf before = BUF_INIT, after = BUF_INIT;
	char err[256], path[256];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY), pfd[2];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	pid_t pid = -1;
	struct utimbuf old = { 1000, 1000 };

	tap_ok(mbox_deliver(dfd, "mbox", &mail, &lk, err, sizeof(err)) == 0, "first delivery");
	tap_ok(mbox_deliver(dfd, "mbox", &mail, &lk, err, sizeof(err)) == 0, "second delivery");
	file_text("mbox", &after);
	tap_is_str(buf_cstr(&after),
		   "From s@x Thu Jan  1 00:00:00 1970\nSubject: x\n\n>From me\nbody\n\n"
		   "From s@x Thu Jan  1 00:00:00 1970\nSubject: x\n\n>From me\nbody\n\n",
		   "two messages, quoted, each ended by a blank line");

	/* a file that does not end in a blank line gets one first */
	snprintf(path, sizeof(path), "%s/mbox2", dir);
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		write_all(fd, "From a Thu Jan  1 00:00:00 1970\nx", 33);
		close(fd);
	}
	mbox_deliver(dfd, "mbox2", &mail, &lk, err, sizeof(err));
	file_text("mbox2", &after);
	tap_ok(strstr(buf_cstr(&after), "\nx\n\nFrom s@x ") != NULL, "separator added");

	/* someone else holds the fcntl lock: time out, file unchanged */
	file_text("mbox", &before);
	if (pipe(pfd) == 0 && (pid = fork()) == 0) {
		int fd;

		close(pfd[0]);
		snprintf(path, sizeof(path), "%s/mbox", dir);
		fd = open(path, O_RDWR);
		fcntl(fd, F_SETLKW, &fl);
		write(pfd[1], "x", 1);
		for (;;)
			pause();	/* holding the lock until killed */
	} else {
		char c = 0;

		close(pfd[1]);
		if (read(pfd[0], &c, 1) != 1)
			tap_diag("the lock holder did not start");
		tap_ok(mbox_deliver(dfd, "mbox", &mail, &lk, err, sizeof(err)) < 0 && errno == ETIMEDOUT,
		       "a held fcntl lock times out: %s", err);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(pfd[0]);
		file_text("mbox", &after);
		tap_ok(after.len == before.len && memcmp(after.data, before.data, after.len) == 0,
		       "and the mbox is as it was");
		snprintf(path, sizeof(path), "%s/mbox.lock", dir);
		tap_ok(access(path, F_OK) < 0, "our dot-lock is gone");
	}

	/* a fresh dot-lock is respected, a stale one broken */
	snprintf(path, sizeof(path), "%s/mbox.lock", dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	tap_ok(mbox_deliver(dfd, "mbox", &mail, &lk, err, sizeof(err)) < 0 && errno == ETIMEDOUT,
	       "a fresh dot-lock is waited for");
	file_text("mbox", &after);
	tap_ok(after.len == before.len, "nothing written meanwhile");
	utime(path, &old);
	tap_ok(mbox_deliver(dfd, "mbox", &mail, &lk, err, sizeof(err)) == 0, "a stale dot-lock is broken");
	tap_ok(access(path, F_OK) < 0, "and removed");

	/* a writer killed mid-append: its journal in the dot-lock says
	 * where the mbox ended; the next delivery cuts the rest */
	{
		char host[256] = "";
		int fd;

		file_text("mbox", &before);
		gethostname(host, sizeof(host) - 1);
		snprintf(path, sizeof(path), "%s/mbox.lock", dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dprintf(fd, "%d %s %zu\n", 0x3ffffff0, host, before.len);
		close(fd);
		snprintf(path, sizeof(path), "%s/mbox", dir);
		fd = open(path, O_WRONLY | O_APPEND);
		write_all(fd, "From half Thu Jan  1 00:00:00 1970\nSubject: cut", 46);
		close(fd);
		tap_ok(mbox_deliver(dfd, "mbox", &mail, &lk, err, sizeof(err)) == 0,
		       "a dead writer's dot-lock is broken at once");
		file_text("mbox", &after);
		tap_ok(after.len > before.len && memcmp(after.data, before.data, before.len) == 0
		       && memmem(after.data, after.len, "From half", 9) == NULL,
		       "and the half message it left is gone");
	}

	/* another program's order, dot-lock first and then fcntl: while
	 * it holds the dot-lock we let go of the fcntl lock, so neither
	 * waits for the other until the timeout */
	{
		struct mbox_locking lk2 = { .timeout = 5, .stale = 600 };
		char host[256] = "";

		file_text("mbox", &before);
		gethostname(host, sizeof(host) - 1);
		if (pipe(pfd) == 0 && (pid = fork()) == 0) {
			int fd;
			char c;

			close(pfd[1]);
			snprintf(path, sizeof(path), "%s/mbox.lock", dir);
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
			dprintf(fd, "%ld %s -1\n", (long) getpid(), host);
			close(fd);
			if (read(pfd[0], &c, 1) != 1)
				_exit(2);
			usleep(300000);	/* the delivery is waiting by now */
			snprintf(path, sizeof(path), "%s/mbox", dir);
			fd = open(path, O_WRONLY | O_APPEND);
			fcntl(fd, F_SETLKW, &fl);
			write_all(fd, "From other Thu Jan  1 00:00:00 1970\nSubject: o\n\nother\n\n", 55);
			snprintf(path, sizeof(path), "%s/mbox.lock", dir);
			unlink(path);
			_exit(0);
		} else {
			int status = -1;

			close(pfd[0]);
			snprintf(path, sizeof(path), "%s/mbox.lock", dir);
			while (access(path, F_OK) < 0)
				usleep(1000);
			write(pfd[1], "x", 1);
			err[0] = 0;
			tap_ok(mbox_deliver(dfd, "mbox", &mail, &lk2, err, sizeof(err)) == 0,
			       "a writer holding the dot-lock and waiting for fcntl: no deadlock (%s)",
			       err);
			waitpid(pid, &status, 0);
			close(pfd[1]);
			tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "and it wrote too");
			file_text("mbox", &after);
			tap_ok(after.len == before.len + 55 + 61
			       && memmem(after.data + before.len, 55, "From other ", 11) != NULL,
			       "its message first, then ours, each whole");
		}
	}

	/* a symlink is never followed */
	snprintf(path, sizeof(path), "%s/link", dir);
	symlink("/etc/passwd", path);
	tap_ok(mbox_deliver(dfd, "link", &mail, &lk, err, sizeof(err)) < 0, "a symlinked mbox is refused");
	close(dfd);
	buf_free(&before);
	buf_free(&after);
}

/* entries - how many files DIR/SUB holds */
static int
entries(const char *d, const char *sub)
{
	char path[256];
	struct dirent *e;
	DIR *dp;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", d, sub);
	if ((dp = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(dp)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dp);
	return n;
}

/* test_maildir - a delivery lands in new/, or cur/ with flags */
static void
test_maildir(void)
{
	struct mail mail = { .data = "Subject: m\n\nbody\n", .len = 17 };
	const char *flags[] = { "\\Seen", NULL };
	char err[256], name[1024], path[1200], md[128];
	struct stat st;
	int fd;

	snprintf(md, sizeof(md), "%s/md", dir);
	mkdir(md, 0700);
	fd = open(md, O_RDONLY | O_DIRECTORY);
	tap_ok(maildir_deliver(fd, &mail, NULL, name, sizeof(name), err, sizeof(err)) < 0,
	       "a directory without tmp/ is an error: %s", err);
	mkdirat(fd, "tmp", 0700), mkdirat(fd, "new", 0700), mkdirat(fd, "cur", 0700);
	buf_puts(&mail.head, "Delivered-To: u@x\n");
	tap_ok(maildir_deliver(fd, &mail, NULL, name, sizeof(name), err, sizeof(err)) == 0,
	       "delivered: %s", name);
	snprintf(path, sizeof(path), "%s/%s", md, name);
	tap_ok(strncmp(name, "new/", 4) == 0 && stat(path, &st) == 0 && st.st_size == 35,
	       "into new/, head and message, 35 bytes");
	tap_ok(strstr(name, ",S=35") != NULL, "the size is in the name");
	tap_ok(maildir_deliver(fd, &mail, flags, name, sizeof(name), err, sizeof(err)) == 0
	       && strncmp(name, "cur/", 4) == 0 && strstr(name, ":2,S") != NULL,
	       "with \\Seen: into cur/ with :2,S (%s)", name);
	tap_is_int(entries(md, "tmp"), 0, "nothing is left in tmp/");
	close(fd);
	buf_free(&mail.head);
}

/* test_received - the responsible IPs, newest first, public only */
static void
test_received(void)
{
	const char *msg =
		"Received: from mx.example (mx.example [203.0.113.7])\n"
		"\tby in.example (Postfix) with ESMTPS id 4Q; Mon, 1 Jan 2024 00:00:00 +0000\n"
		"Received: from [10.1.2.3] (helo=lan) by mx.example with esmtp\n"
		"Received: from relay (relay.example [IPv6:2001:db8:1::5]) by mx.example\n"
		"Received: from mx.example (mx.example [203.0.113.7]) by x\n"
		"Received: by localhost (Postfix, from userid 0) id 9; [198.51.100.1]\n"
		"Received: from nowhere (unknown [not.an.ip]) by x\n"
		"Received: from h (h [192.0.2.300]) by x\n"
		"Received: from h (h [127.0.0.1]) by x\n"
		"Received: from h (h [100.64.1.1]) (using TLS [1.2.3.4]) by x\n"
		"Subject: x\n\nbody\n";
	struct msg *m = msg_from_mem(msg, strlen(msg), 1 << 20);
	char ips[8][RECEIVED_IP_MAX];
	size_t n = received_ips(msg_headers(m), ips, 8);

	tap_is_int((long long) n, 2, "two public IPs");
	tap_is_str(n > 0 ? ips[0] : "", "203.0.113.7", "newest first");
	tap_is_str(n > 1 ? ips[1] : "", "2001:db8:1::5", "IPv6 literal");
	tap_ok(n < 3, "only the first literal of a from clause counts (not the TLS one)");
	tap_ok(!ip_is_public("192.168.1.1") && !ip_is_public("172.20.0.1") && !ip_is_public("::1")
	       && !ip_is_public("fe80::1") && !ip_is_public("fd00::1") && ip_is_public("8.8.8.8")
	       && ip_is_public("2a00:1450::1") && !ip_is_public("x"), "ip_is_public");
	n = received_ips(msg_headers(m), ips, 1);
	tap_is_int((long long) n, 1, "at most MAX");
	msg_free(m);

	/* qmail-smtpd's form: the address in its last comment, before "by";
	 * a HELO literal the client chose is not it */
	msg = "Received: (qmail 11878 invoked from network); 6 Dec 2026 19:27:03 -0000\n"
	    "Received: from unknown (HELO [203.0.113.66]) (192.0.2.25)\n"
	    "  by mx.test.example with SMTP; 6 Dec 2026 19:27:03 -0000\n"
	    "Received: from relay.example (HELO relay) (7@198.51.100.9)\n"
	    "  by mx.test.example with SMTP; 6 Dec 2026 19:27:00 -0000\n"
	    "Received: from h (HELO h) (IPv6? 2001:db8::1 not an address)\n by x\n"
	    "Received: from h (h) (not.an.ip) by x\n"
	    "Subject: x\n\nbody\n";
	m = msg_from_mem(msg, strlen(msg), 1 << 20);
	n = received_ips(msg_headers(m), ips, 8);
	tap_is_int((long long) n, 2, "qmail-smtpd's Received form: two addresses");
	tap_is_str(n > 0 ? ips[0] : "", "192.0.2.25",
		   "(IP) is read, not the HELO's [203.0.113.66]");
	tap_is_str(n > 1 ? ips[1] : "", "198.51.100.9", "(info@IP): the address after the '@'");
	msg_free(m);

	/* a HELO literal the client chose is not its address, wherever
	 * the MTA writes it */
	msg = "Received: from [203.0.113.66] (unknown [192.0.2.31])\n"
	    "\tby mx.example (Postfix) with ESMTP id 1; Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "Received: from [203.0.113.67] (host.example [192.0.2.32] (may be forged))\n"
	    "\tby mx.example (8.17.1/8.17.1) with ESMTP id x; Mon, 1 Jan 2024 00:00:00 +0000\n"
	    "Received: from host.example ([192.0.2.33] helo=[203.0.113.68])\n"
	    "\tby mx.example with esmtp (Exim 4.96)\n"
	    "Received: from [192.0.2.34] (helo=[203.0.113.69])\n"
	    "\tby mx.example with esmtp (Exim 4.96)\n"
	    "Subject: x\n\nbody\n";
	m = msg_from_mem(msg, strlen(msg), 1 << 20);
	n = received_ips(msg_headers(m), ips, 8);
	tap_is_int((long long) n, 4, "four fields, four addresses");
	tap_is_str(n > 0 ? ips[0] : "", "192.0.2.31", "Postfix: the address in the comment, not HELO [x]");
	tap_is_str(n > 1 ? ips[1] : "", "192.0.2.32", "Sendmail: likewise");
	tap_is_str(n > 2 ? ips[2] : "", "192.0.2.33", "Exim: not the helo= literal in the comment");
	tap_is_str(n > 3 ? ips[3] : "", "192.0.2.34", "Exim without a host name: the literal outside");
	msg_free(m);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mda_testXXXXXX");
	if (mkdtemp(dir) == NULL)
		tap_skip_all("cannot make a temporary directory");
	test_unique();
	test_flags();
	test_namespaces();
	test_symlinks();
	test_quote();
	test_mbox();
	test_maildir();
	test_received();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", dir);
	}
	return tap_done();
}
