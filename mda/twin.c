/*
 * twin - mvmda linked with a static glibc, and what it hands to its twin
 *
 * mvmda runs once per message, and with a static glibc it starts without
 * the dynamic loader's work (configure's --enable-mvmda-static-libc). A
 * static glibc must not load NSS modules (nss_systemd, nss_sss...) or
 * gconv modules: they belong to the system's glibc, which may be another
 * version after an upgrade. So what needs them goes to mvmda-dynamic, the
 * same program linked with the shared glibc:
 *
 * - a run that needs the user database (root, -d, the services, an
 *   account the environment does not give) is mvmda-dynamic from the
 *   start: twin_exec(), before anything is read;
 * - text in a charset libmfl does not convert itself (not UTF-8, nor
 *   one of its single-byte tables) is converted by one mvmda-dynamic
 *   --charset-service started on the first need and kept for the run: a
 *   request is the charset's name and the text, the reply its UTF-8
 *   (twin_charset(), twin_charset_serve()).
 *
 * mvmda-dynamic is looked for beside mvmda (the build tree), then where
 * it is installed (MVMDA_DYNAMIC: pkglibexecdir).
 *
 * DIAGNOSTICS: twin_exec() logs the path and the reason and exits
 * EX_TEMPFAIL when mvmda-dynamic cannot be run. A charset service that
 * cannot be started or fails is logged once; its charsets are then
 * unknown (-1), whose text callers keep as it came.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "msg/msg.h"
#include "twin.h"

#ifndef MVMDA_DYNAMIC
#define MVMDA_DYNAMIC	"/usr/libexec/mvmf/mvmda-dynamic"
#endif

/* set for mvmda-dynamic by twin_exec(): its own exec of itself is a
 * loop (a static mvmda installed as mvmda-dynamic) */
#define TWIN_MARK	"MVMDA_TWIN_EXEC"

#define CHARSET_TEXT_MAX	((uint64_t) 1 << 31)

enum { TWIN_KNOWN = 1, TWIN_CONVERT = 2 };

/* a request: the op, the charset's name, then the text */
struct twin_request {
	uint32_t op;
	uint32_t name_len;
	uint64_t len;
};

/* a reply: 0 (converted, known) or 1 (unknown), then the UTF-8 */
struct twin_reply {
	int32_t status;
	uint32_t pad;
	uint64_t len;
};

static int service_fd = -1;
static pid_t service_pid = -1;
static int service_failed;

/* twin_path - mvmda-dynamic beside this program, else the installed one */
const char *
twin_path(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - sizeof("mvmda-dynamic"));
	char *slash;

	if (n > 0 && (size_t) n < sizeof(path) - sizeof("mvmda-dynamic")) {
		path[n] = 0;
		if ((slash = strrchr(path, '/')) != NULL) {
			strcpy(slash + 1, "mvmda-dynamic");
			if (access(path, X_OK) == 0)
				return path;
		}
	}
	return MVMDA_DYNAMIC;
}

/* twin_exec - be mvmda-dynamic, with our arguments and environment */
void
twin_exec(char **argv)
{
	const char *path = twin_path();

	if (getenv(TWIN_MARK) != NULL) {
		mda_log(LOG_ERR, "%s is linked statically, as mvmda is: "
			"install the mvmda-dynamic that was built with it", path);
		exit(EX_TEMPFAIL);
	}
	setenv(TWIN_MARK, "1", 1);
	execv(path, argv);
	mda_log(LOG_ERR, "cannot run %s (this delivery needs the user database, "
		"which only it reads): %s", path, strerror(errno));
	exit(EX_TEMPFAIL);
}

/* twin_forget - in mvmda-dynamic, first: the mark twin_exec() left is
 * not passed on to what it runs */
void
twin_forget(void)
{
	unsetenv(TWIN_MARK);
}

/* io_all - all LEN bytes through FD, sent or received; 0, or -1 (at
 * end of file too) */
static int
io_all(int fd, void *p, size_t len, int out)
{
	char *at = p;

	while (len > 0) {
		ssize_t n = out ? send(fd, at, len, MSG_NOSIGNAL) : read(fd, at, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = out ? EIO : ENODATA;
			return -1;
		}
		at += n;
		len -= (size_t) n;
	}
	return 0;
}

/* service_stop - at exit: the charset service ends with us */
static void
service_stop(void)
{
	if (service_fd >= 0)
		close(service_fd);
	if (service_pid > 0)
		waitpid(service_pid, NULL, 0);
	service_fd = -1;
	service_pid = -1;
}

/* service_start - mvmda-dynamic --charset-service on a socket; 0 or -1 */
static int
service_start(void)
{
	const char *path = twin_path();
	int sv[2];

	if (access(path, X_OK) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if ((service_pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (service_pid == 0) {
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(EX_TEMPFAIL);
		execl(path, "mvmda-dynamic", "--charset-service", (char *) NULL);
		_exit(127);
	}
	close(sv[1]);
	service_fd = sv[0];
	atexit(service_stop);
	return 0;
}

/* service_ask - one request and its reply: 0 (converted, known), 1
 * (unknown), or -1 with errno when the service failed */
static int
service_ask(uint32_t op, const char *name, const char *in, size_t len, struct buf *out)
{
	struct twin_request rq = { op, (uint32_t) strlen(name), len };
	struct twin_reply rp;

	if (io_all(service_fd, &rq, sizeof(rq), 1) < 0
	    || io_all(service_fd, (void *) name, rq.name_len, 1) < 0
	    || (len > 0 && io_all(service_fd, (void *) in, len, 1) < 0)
	    || io_all(service_fd, &rp, sizeof(rp), 0) < 0)
		return -1;
	if (rp.len > CHARSET_TEXT_MAX || (rp.len > 0 && (out == NULL || rp.status != 0))) {
		errno = EPROTO;
		return -1;
	}
	if (rp.len > 0) {
		if (buf_reserve(out, rp.len) < 0)
			return -1;
		if (io_all(service_fd, out->data + out->len, rp.len, 0) < 0)
			return -1;
		out->len += rp.len;
		out->data[out->len] = 0;
	}
	return rp.status == 0 ? 0 : 1;
}

/* twin_charset - charset.c's converter in a static mvmda: IN (LEN
 * bytes in charset NAME, as charset.c normalised it) appended to OUT as
 * UTF-8 by the charset service; with OUT NULL, whether NAME is known.
 * 0, or -1: unknown, or the service failed (logged once) */
int
twin_charset(const char *name, const char *in, size_t len, struct buf *out)
{
	int status = -1;

	if (service_failed || (uint64_t) len > CHARSET_TEXT_MAX || (out != NULL && out->failed))
		return -1;
	if (service_fd >= 0 || service_start() == 0)
		status = service_ask(out == NULL ? TWIN_KNOWN : TWIN_CONVERT, name, in, len, out);
	if (status < 0 && !(out != NULL && out->failed)) {	/* not our memory: the service */
		mda_log(LOG_ERR, "charset %s: the charset service %s failed: %s; "
			"text in such charsets is taken as it came",
			name, twin_path(), strerror(errno));
		service_failed = 1;
	}
	if (status < 0)
		service_stop();	/* a reply may be half read: the next need starts anew */
	return status == 0 ? 0 : -1;
}

/* serve_one - read one request from fd 0 and answer it; 0, or -1 at
 * the end (the client closed) or on a broken request */
static int
serve_one(struct buf *name, struct buf *in, struct buf *out)
{
	struct twin_request rq;
	struct twin_reply rp = { 1, 0, 0 };

	if (io_all(0, &rq, sizeof(rq), 0) < 0 || rq.name_len == 0 || rq.name_len > 64
	    || rq.len > CHARSET_TEXT_MAX || (rq.op != TWIN_KNOWN && rq.op != TWIN_CONVERT))
		return -1;
	name->len = in->len = out->len = 0;
	if (buf_reserve(name, rq.name_len) < 0 || buf_reserve(in, rq.len) < 0
	    || io_all(0, name->data, rq.name_len, 0) < 0 || io_all(0, in->data, rq.len, 0) < 0)
		return -1;
	name->data[name->len = rq.name_len] = 0;
	in->len = rq.len;
	if (rq.op == TWIN_KNOWN) {
		rp.status = charset_known(name->data, name->len) ? 0 : 1;
	} else if (charset_to_utf8(name->data, name->len, in->data, in->len, out) == 0) {
		if (out->failed)
			return -1;
		rp.status = 0;
		rp.len = out->len;
	}
	return io_all(1, &rp, sizeof(rp), 1) < 0
	    || (rp.len > 0 && io_all(1, out->data, rp.len, 1) < 0) ? -1 : 0;
}

/* twin_charset_serve - mvmda-dynamic --charset-service: requests on
 * fd 0 answered on fd 1 until the client closes; the exit code */
int
twin_charset_serve(void)
{
	struct buf name = BUF_INIT, in = BUF_INIT, out = BUF_INIT;

	while (serve_one(&name, &in, &out) == 0)
		;
	buf_free(&name);
	buf_free(&in);
	buf_free(&out);
	return 0;
}

/*
 * In the static mvmda, configure's --wrap flags lead every call that
 * would reach NSS or gconv here instead, so that none of that code is
 * linked in: none is made (main.c sends such runs to mvmda-dynamic and
 * charsets to its service), and one that is, is a bug to defer.
 */

/* no_database - a static mvmda asked for what it must not do */
static void __attribute__((noreturn))
no_database(const char *fn)
{
	mda_log(LOG_ERR, "%s() in the statically linked mvmda, which never asks the "
		"user database or loads charset modules (a bug): deferred", fn);
	exit(EX_TEMPFAIL);
}

struct passwd;
struct group;
struct addrinfo;

struct passwd *__wrap_getpwnam(const char *name);
struct passwd *__wrap_getpwuid(uid_t uid);
int __wrap_getpwnam_r(const char *name, struct passwd *pw, char *b, size_t n, struct passwd **r);
int __wrap_getpwuid_r(uid_t uid, struct passwd *pw, char *b, size_t n, struct passwd **r);
void __wrap_endpwent(void);
struct group *__wrap_getgrnam(const char *name);
struct group *__wrap_getgrgid(gid_t gid);
void __wrap_endgrent(void);
int __wrap_getgrouplist(const char *user, gid_t group, gid_t *groups, int *n);
int __wrap_initgroups(const char *user, gid_t group);
int __wrap_getaddrinfo(const char *host, const char *port, const struct addrinfo *hints,
		       struct addrinfo **res);
void __wrap_freeaddrinfo(struct addrinfo *ai);
const char *__wrap_gai_strerror(int rc);
void *__wrap_iconv_open(const char *to, const char *from);
size_t __wrap_iconv(void *cd, char **in, size_t *inleft, char **out, size_t *outleft);
int __wrap_iconv_close(void *cd);

struct passwd *__wrap_getpwnam(const char *name) { (void) name; no_database("getpwnam"); }
struct passwd *__wrap_getpwuid(uid_t uid) { (void) uid; no_database("getpwuid"); }
int __wrap_getpwnam_r(const char *name, struct passwd *pw, char *b, size_t n, struct passwd **r)
{ (void) name, (void) pw, (void) b, (void) n, (void) r; no_database("getpwnam_r"); }
int __wrap_getpwuid_r(uid_t uid, struct passwd *pw, char *b, size_t n, struct passwd **r)
{ (void) uid, (void) pw, (void) b, (void) n, (void) r; no_database("getpwuid_r"); }
void __wrap_endpwent(void) { no_database("endpwent"); }
struct group *__wrap_getgrnam(const char *name) { (void) name; no_database("getgrnam"); }
struct group *__wrap_getgrgid(gid_t gid) { (void) gid; no_database("getgrgid"); }
void __wrap_endgrent(void) { no_database("endgrent"); }
int __wrap_getgrouplist(const char *user, gid_t group, gid_t *groups, int *n)
{ (void) user, (void) group, (void) groups, (void) n; no_database("getgrouplist"); }
int __wrap_initgroups(const char *user, gid_t group)
{ (void) user, (void) group; no_database("initgroups"); }
int __wrap_getaddrinfo(const char *host, const char *port, const struct addrinfo *hints,
		       struct addrinfo **res)
{ (void) host, (void) port, (void) hints, (void) res; no_database("getaddrinfo"); }
void __wrap_freeaddrinfo(struct addrinfo *ai) { (void) ai; no_database("freeaddrinfo"); }
const char *__wrap_gai_strerror(int rc) { (void) rc; no_database("gai_strerror"); }
void *__wrap_iconv_open(const char *to, const char *from)
{ (void) to, (void) from; no_database("iconv_open"); }
size_t __wrap_iconv(void *cd, char **in, size_t *inleft, char **out, size_t *outleft)
{ (void) cd, (void) in, (void) inleft, (void) out, (void) outleft; no_database("iconv"); }
int __wrap_iconv_close(void *cd) { (void) cd; no_database("iconv_close"); }
