/*
 * service - mvmda -D: the SMTP-time decision service. mvmtr asks, for a
 * local recipient, what that recipient's own scripts would do with the
 * mail; the answer comes back while the sender is still connected.
 *
 * This module is the service's machinery: the unix socket (mode 0660,
 * the milter's group), one child per request (forked from root, which
 * the decision callback turns into the recipient before it runs
 * anything of theirs), the limits of a request (time, CPU, memory,
 * how many at once), the request's wire format and its answer. What
 * the answer is - the rc script and the user's scripts run in decision
 * mode - is main.c's, handed in as a callback.
 *
 * The protocol (mvmda(1) SMTP-TIME DECISIONS): one request per
 * connection, "MVMDA/1 DECIDE", then "name: value" lines, a blank line,
 * and for the "data" phase the message ("size: N" bytes). One line
 * answers: accept, data, unknown, reject CODE XCODE TEXT, tempfail CODE
 * XCODE TEXT, or error TEXT.
 *
 * DIAGNOSTICS: a request that takes longer than its limit is killed and
 * answered "error"; a malformed one gets "error" and the reason; when
 * as many requests run as allowed, the next is answered "error busy"
 * at once. The asker carries on without a decision in every such case.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "service.h"

/* Landlock ABI 3 (Linux 6.2), newer than Debian 12's headers */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)
#endif

#define SERVICE_HEAD_MAX	16384	/* the request's lines */
#define SERVICE_CHILDREN_MAX	256

struct child {
	pid_t pid;		/* 0: a free slot */
	int fd;			/* the asker's connection, kept to answer a timeout */
	struct timespec deadline;
	int killed;
};

static volatile sig_atomic_t stopping, reloading;
static int wake[2] = { -1, -1 };	/* SIGCHLD wakes poll() */

/* on_stop, on_reload, on_child - signal handlers: end the loop; read
 * the rc script again; reap children */
static void
on_stop(int sig)
{
	(void) sig;
	stopping = 1;
}

static void
on_reload(int sig)
{
	(void) sig;
	reloading = 1;
}

static void
on_child(int sig)
{
	int saved = errno;

	(void) sig;
	if (write(wake[1], "c", 1) < 0) {
		/* the pipe is full: poll will wake anyway */
	}
	errno = saved;
}

/* socket_path - the path in "unix:PATH" or PATH; NULL for another kind */
static const char *
socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return spec[0] == '/' ? spec : NULL;
}

/* listen_unix - the service's socket at PATH, which only root and
 * GROUP may use; -1 logged */
static int
listen_unix(const char *spec, const char *group)
{
	const char *path = socket_path(spec);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct group *gr = NULL;
	struct stat st;
	int fd;

	if (path == NULL || strlen(path) >= sizeof(sun.sun_path)) {
		mda_log(LOG_ERR, "-D %s: not a unix socket path (unix:/run/mvmf/mvmda.sock)", spec);
		return -1;
	}
	if (group != NULL && *group && (gr = getgrnam(group)) == NULL) {
		mda_log(LOG_ERR, "-g %s: no such group (the milter's group may connect)", group);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);	/* a previous run's */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
	    || chown(path, geteuid(), gr != NULL ? gr->gr_gid : getegid()) < 0
	    || chmod(path, 0660) < 0 || listen(fd, 128) < 0) {
		mda_log(LOG_ERR, "-D %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* later_than - A is past B */
static int
later_than(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* say - one answer line on FD, as much as the socket takes now */
static void
say(int fd, const char *line)
{
	if (send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* the asker has gone: nothing to tell */
	}
}

/* read_full - LEN bytes from FD into BUF; -1 on EOF or error */
static int
read_full(int fd, char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = read(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t) n;
	}
	return 0;
}

/* read_head - the request's lines up to the blank one into HEAD (NUL
 * ended; what came after them starts at *REST_R, *NREST_R bytes) */
static int
read_head(int fd, char *head, size_t size, char **rest_r, size_t *nrest_r)
{
	size_t len = 0;
	char *end;

	for (;;) {
		ssize_t n = read(fd, head + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t) n;
		head[len] = 0;
		if ((end = strstr(head, "\n\n")) != NULL) {
			end[1] = 0;
			*rest_r = end + 2;
			*nrest_r = len - (size_t) (end + 2 - head);
			return 0;
		}
		if (len == size - 1)
			return -1;
	}
}

/* parse_head - HEAD's "name: value" lines into REQ; -1 (ERR) when it
 * is not a request */
static int
parse_head(char *head, struct service_request *req, size_t *size_r, const char **err)
{
	char *line = head, *next;

	*size_r = 0;
	if (strncmp(head, "MVMDA/1 DECIDE\n", 15) != 0)
		return *err = "not an MVMDA/1 DECIDE request", -1;
	for (line = head + 15; *line; line = next) {
		char *colon, *value;

		next = strchr(line, '\n');
		*next++ = 0;
		if ((colon = strstr(line, ": ")) == NULL)
			return *err = "a line without \": \"", -1;
		*colon = 0;
		value = colon + 2;
		if (strcmp(line, "phase") == 0)
			req->phase = value;
		else if (strcmp(line, "recipient") == 0)
			req->recipient = value;
		else if (strcmp(line, "sender") == 0)
			req->sender = value;
		else if (strcmp(line, "client") == 0)
			req->client = value;
		else if (strcmp(line, "client-name") == 0)
			req->client_name = value;
		else if (strcmp(line, "helo") == 0)
			req->helo = value;
		else if (strcmp(line, "queue-id") == 0)
			req->queue_id = value;
		else if (strcmp(line, "arg") == 0 && req->nargs < SERVICE_ARGS_MAX)
			req->args[req->nargs++] = value;
		else if (strcmp(line, "size") == 0)
			*size_r = strtoul(value, NULL, 10);
		/* anything else: a later version's, ignored */
	}
	if (strcmp(req->phase, "rcpt") != 0 && strcmp(req->phase, "data") != 0)
		return *err = "phase is neither rcpt nor data", -1;
	if (!*req->recipient)
		return *err = "no recipient", -1;
	if (*size_r > SERVICE_MESSAGE_MAX)
		return *err = "message too large", -1;
	return 0;
}

/* limits - what one request may use: CPU seconds, address space, no
 * core file */
static void
limits(const struct service_opts *opts)
{
	struct rlimit cpu = { (rlim_t) opts->timeout, (rlim_t) opts->timeout + 1 };
	struct rlimit mem = { opts->memory, opts->memory };
	struct rlimit none = { 0, 0 };

	setrlimit(RLIMIT_CPU, &cpu);
	if (opts->memory > 0)
		setrlimit(RLIMIT_AS, &mem);
	setrlimit(RLIMIT_CORE, &none);
}

/* answer_one - in the child: read the request on FD, answer it, end */
static void __attribute__((noreturn))
answer_one(int fd, const struct service_opts *opts, service_decide_fn *fn, void *ctx)
{
	struct service_request req = { .phase = "", .recipient = "", .sender = "", .client = "",
				       .client_name = "", .helo = "", .queue_id = "" };
	static char head[SERVICE_HEAD_MAX];
	struct buf answer = BUF_INIT;
	const char *err = "the request could not be read";
	char *rest, *message = NULL;
	size_t nrest, size;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned) opts->timeout + 2);	/* the parent kills sooner */
	limits(opts);
	if (read_head(fd, head, sizeof(head), &rest, &nrest) < 0
	    || parse_head(head, &req, &size, &err) < 0 || nrest > size
	    || (size > 0 && (message = malloc(size + 1)) == NULL)) {
		buf_printf(&answer, "error %s\n", err);
	} else {
		if (size > 0) {
			memcpy(message, rest, nrest);
			if (read_full(fd, message + nrest, size - nrest) < 0) {
				say(fd, "error the message was cut short\n");
				_exit(1);
			}
			message[size] = 0;
			req.message = message;
			req.message_len = size;
		}
		fn(&req, &answer, ctx);
	}
	if (answer.failed || answer.len == 0)
		say(fd, "error out of memory\n");
	else if (write(fd, answer.data, answer.len) < 0)
		_exit(1);
	_exit(0);
}

/* landlock_abi - the kernel's Landlock version, or -1 (ERR) */
static long
landlock_abi(char *err, size_t errsize)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	if (abi < 1) {
		snprintf(err, errsize, "Landlock is not available (%s)", strerror(errno));
		return -1;
	}
	return abi;
}

/* confine_fsize - without Landlock: no file grows (RLIMIT_FSIZE 0;
 * SIGXFSZ ignored so a write fails instead) - the service's own log on
 * stderr included, when that is a file */
static void
confine_fsize(void)
{
	struct rlimit none = { 0, 0 };

	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &none);
}

/* service_confine - in a request's child, now the recipient: no file
 * may be opened for writing or made from here on (Landlock, where the
 * kernel has it; else RLIMIT_FSIZE 0), and no exec may gain
 * privileges; 0, or -1 (ERR) when Landlock is not there */
int
service_confine(char *err, size_t errsize)
{
	struct landlock_ruleset_attr attr = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR
		    | LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR
		    | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG
		    | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO
		    | LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM,
	};
	long abi, fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errsize, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if ((abi = landlock_abi(err, errsize)) < 0) {
		confine_fsize();
		return -1;
	}
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	/* no rule allows any of them: nothing anywhere is writable */
	if ((fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0)) < 0
	    || syscall(SYS_landlock_restrict_self, (int) fd, 0) < 0) {
		snprintf(err, errsize, "Landlock: %s", strerror(errno));
		if (fd >= 0)
			close((int) fd);
		confine_fsize();
		return -1;
	}
	close((int) fd);
	return 0;
}

/* reap - the children that ended: their slots free, their askers
 * answered when they said nothing (killed, or died) */
static int
reap(struct child *kids, int max)
{
	int status, running = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (int i = 0; i < max; i++)
			if (kids[i].pid == pid) {
				if (!kids[i].killed
				    && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
					say(kids[i].fd, "error the decision ended without an answer\n");
				close(kids[i].fd);
				kids[i].pid = 0;
			}
	for (int i = 0; i < max; i++)
		running += kids[i].pid != 0;
	return running;
}

/* expire - kill the children past their deadline, answering for them */
static void
expire(struct child *kids, int max, int timeout)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (int i = 0; i < max; i++)
		if (kids[i].pid != 0 && !kids[i].killed && later_than(&now, &kids[i].deadline)) {
			kill(kids[i].pid, SIGKILL);
			kids[i].killed = 1;
			mda_log(LOG_WARNING, "decision [%ld] took longer than %d s: killed",
				(long) kids[i].pid, timeout);
			say(kids[i].fd, "error timeout: no answer in time\n");
		}
}

/* start_child - a child for the request on FD, in a free slot of KIDS */
static void
start_child(struct child *kids, int max, int listen_fd, int fd,
	    const struct service_opts *opts, service_decide_fn *fn, void *ctx)
{
	int slot = 0;
	pid_t pid;

	while (slot < max && kids[slot].pid != 0)
		slot++;
	if (slot == max) {
		say(fd, "error busy: too many requests at once\n");
		close(fd);
		return;
	}
	if ((pid = fork()) < 0) {
		mda_log(LOG_ERR, "fork: %s", strerror(errno));
		say(fd, "error the service cannot fork\n");
		close(fd);
		return;
	}
	if (pid == 0) {
		close(listen_fd);
		close(wake[0]);
		close(wake[1]);
		answer_one(fd, opts, fn, ctx);
	}
	kids[slot] = (struct child) { .pid = pid, .fd = fd };
	clock_gettime(CLOCK_MONOTONIC, &kids[slot].deadline);
	kids[slot].deadline.tv_sec += opts->timeout;
}

/* signals - SIGTERM and SIGINT stop, SIGHUP reloads, SIGCHLD wakes,
 * SIGPIPE is ignored */
static int
signals(void)
{
	struct sigaction stop = { .sa_handler = on_stop }, child = { .sa_handler = on_child };
	struct sigaction reload = { .sa_handler = on_reload };

	if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	sigaction(SIGTERM, &stop, NULL);
	sigaction(SIGINT, &stop, NULL);
	sigaction(SIGCHLD, &child, NULL);
	sigaction(SIGHUP, &reload, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* warm_nss - the user and group lookups once here, so that NSS's
 * modules (nss_systemd...) are loaded before the children are forked,
 * not again in each of them */
static void
warm_nss(void)
{
	gid_t groups[16];
	int n = 16;

	(void) getpwnam("root");
	(void) getgrgid(0);
	(void) getgrouplist("root", 0, groups, &n);
	endpwent();
	endgrent();
}

/* service_main - answer requests on OPTS' socket with FN (and CTX),
 * PREPARE before each, until SIGTERM; the exit code for mvmda */
int
service_main(const struct service_opts *opts, service_prepare_fn *prepare,
	     service_decide_fn *fn, void *ctx)
{
	static struct child kids[SERVICE_CHILDREN_MAX];
	int max = opts->max_children < SERVICE_CHILDREN_MAX ? opts->max_children
	    : SERVICE_CHILDREN_MAX;
	int listen_fd, running = 0;
	char why[256];

	if ((listen_fd = listen_unix(opts->socket_path, opts->group)) < 0 || signals() < 0)
		return 1;
	warm_nss();
	prepare(ctx, 0);
	if (landlock_abi(why, sizeof(why)) < 0)
		mda_log(LOG_WARNING, "%s: decisions are kept from writing by RLIMIT_FSIZE only", why);
	mda_log(LOG_INFO, "answering SMTP-time decisions on %s (group %s, %d s, %d at once)",
		opts->socket_path, opts->group && *opts->group ? opts->group : "-", opts->timeout, max);
	while (!stopping) {
		struct pollfd p[2] = { { .fd = listen_fd, .events = POLLIN },
				       { .fd = wake[0], .events = POLLIN } };
		char drain[64];

		if (poll(p, 2, running ? 100 : -1) < 0 && errno != EINTR)
			break;
		while (read(wake[0], drain, sizeof(drain)) > 0)
			;
		running = reap(kids, max);
		expire(kids, max, opts->timeout);
		if (p[0].revents & POLLIN) {
			int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0) {
				prepare(ctx, reloading);
				reloading = 0;
				start_child(kids, max, listen_fd, fd, opts, fn, ctx);
				running++;
			}
		}
	}
	mda_log(LOG_INFO, "stopping");
	unlink(socket_path(opts->socket_path));
	return 0;
}
