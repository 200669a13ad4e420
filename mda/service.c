/*
 * service - mvmda -D: the SMTP-time decision service. mvmtr asks, for a
 * local recipient, what that recipient's own scripts would do with the
 * mail; the answer comes back while the sender is still connected.
 *
 * This module is the service's machinery. The service (root) listens on
 * a unix socket (mode 0660, the milter's group), reads each question's
 * lines, finds the account it is for (decide.c's route) and hands the
 * connection (SCM_RIGHTS) to that account's worker: a process of its
 * own, made that user and confined before it reads anything of theirs,
 * that answers the user's questions one after the other and keeps what
 * it compiled between them (progcache.c). Workers are started when
 * needed, at most -j of them; one idle for a minute, or that answered
 * WORKER_USES questions, ends, and all are replaced when the rc script
 * changes. What the answer is - the rc script and the user's scripts
 * run in decision mode - is decide.c's.
 *
 * The protocol (mvmda(1) SMTP-TIME DECISIONS): one question per
 * connection, "MVMDA/1 DECIDE", then "name: value" lines, a blank line,
 * and for the "data" phase the message ("size: N" bytes). One line
 * answers: accept, data, unknown, reject CODE XCODE TEXT, tempfail CODE
 * XCODE TEXT, or error TEXT.
 *
 * DIAGNOSTICS: a question not answered within -t seconds is answered
 * "error timeout" (its worker, when it had one, is killed); a malformed
 * one gets "error" and the reason; when -j workers are busy, a question
 * for another user is answered "error busy" at once. The asker carries
 * on without a decision in every such case.
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

#define SERVICE_HEAD_MAX	16384	/* a question's lines (and what came with them) */
#define SERVICE_WORKERS_MAX	256
#define SERVICE_READING_MAX	256	/* questions whose lines are still coming */
#define WORKER_USES		1000	/* questions a worker answers, then ends */
#define WORKER_IDLE		60	/* seconds a worker waits for another */

/* A question: its connection, and what was read of it in the service. */
struct question {
	int fd;
	char data[SERVICE_HEAD_MAX];
	size_t len;
	struct timespec deadline;
	struct question *next;	/* in the reading list or a worker's queue */
};

/* A worker: one account's process, and its questions. */
struct worker {
	pid_t pid;		/* 0: a free slot */
	char name[64];		/* the account */
	int sock;		/* SOCK_SEQPACKET to it */
	struct question *current;	/* being answered, or NULL */
	struct question *queue;		/* waiting for it */
	struct timespec idle_since;
	int retiring;		/* no more questions: ends when idle */
};

static volatile sig_atomic_t stopping, reloading;
static int wake[2] = { -1, -1 };	/* SIGCHLD wakes poll() */
static int listen_fd = -1;
static struct worker workers[SERVICE_WORKERS_MAX];
static int nworkers_max;
static struct question *reading;	/* questions whose lines are coming */

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

/* service_listen_unix - a service's socket at SPEC's path (OPTION's,
 * for the log: "-D", "-L"), which only root and GROUP may use; -1
 * logged */
int
service_listen_unix(const char *spec, const char *group, const char *option)
{
	const char *path = socket_path(spec);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct group *gr = NULL;
	struct stat st;
	int fd;

	if (path == NULL || strlen(path) >= sizeof(sun.sun_path)) {
		mda_log(LOG_ERR, "%s %s: not a unix socket path (unix:/run/mvmf/mvmda.sock)",
			option, spec);
		return -1;
	}
	if (group != NULL && *group && (gr = getgrnam(group)) == NULL) {
		mda_log(LOG_ERR, "-g %s: no such group (who may connect to %s)", group, path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);	/* a previous run's */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	    || bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
	    || chown(path, geteuid(), gr != NULL ? gr->gr_gid : getegid()) < 0
	    || chmod(path, 0660) < 0 || listen(fd, 128) < 0) {
		mda_log(LOG_ERR, "%s %s: %s", option, path, strerror(errno));
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

/* now_plus - the monotonic clock SECONDS from now */
static struct timespec
now_plus(int seconds)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += seconds;
	return t;
}

/* finish - Q is over: LINE said when it is not NULL, the connection
 * closed, Q freed */
static void
finish(struct question *q, const char *line)
{
	if (line != NULL)
		say(q->fd, line);
	close(q->fd);
	free(q);
}

/* head_end - the length of Q's lines with the blank one, or 0 when they
 * are not all there yet */
static size_t
head_end(const struct question *q)
{
	const char *end = memmem(q->data, q->len, "\n\n", 2);

	return end != NULL ? (size_t) (end - q->data) + 2 : 0;
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

		next = strchr(line, '\n');	/* there: service_parse cut after one */
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

/* service_parse - the question in DATA (LEN bytes: its lines, the
 * blank line, maybe the start of the message) into REQ, the message's
 * size into *SIZE_R and where it starts into *HEAD_LEN_R; the lines are
 * cut into strings in place. 0; 1 when the lines are not all there
 * yet; -1 (ERR) when it is not a question */
int
service_parse(char *data, size_t len, struct service_request *req, size_t *size_r,
	      size_t *head_len_r, const char **err)
{
	char *end = memmem(data, len, "\n\n", 2);

	*req = (struct service_request) { .phase = "", .recipient = "", .sender = "",
					  .client = "", .client_name = "", .helo = "",
					  .queue_id = "" };
	*size_r = 0;
	if (end == NULL)
		return 1;
	if (memchr(data, 0, (size_t) (end - data)) != NULL)
		return *err = "a line holds a NUL", -1;
	end[1] = 0;
	*head_len_r = (size_t) (end + 2 - data);
	if (parse_head(data, req, size_r, err) < 0)
		return -1;
	if (len - *head_len_r > *size_r)
		return *err = "more bytes than the size says", -1;
	return 0;
}

/* limits - what a worker may use: address space, no core file */
static void
limits(const struct service_opts *opts)
{
	struct rlimit mem = { opts->memory, opts->memory };
	struct rlimit none = { 0, 0 };

#ifndef __SANITIZE_ADDRESS__	/* ASan's shadow memory is terabytes of it */
	if (opts->memory > 0)
		setrlimit(RLIMIT_AS, &mem);
#else
	(void) mem;
#endif
	setrlimit(RLIMIT_CORE, &none);
}

/* receive - the next question handed to the worker on SOCK: its bytes
 * into DATA (*LEN_R), its connection in *FD_R; 0, or -1 when the
 * service has closed SOCK (the worker is to end) */
static int
receive(int sock, char *data, size_t size, size_t *len_r, int *fd_r)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { data, size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control) };
	struct cmsghdr *c;
	ssize_t n;

	while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n <= 0 || (c = CMSG_FIRSTHDR(&mh)) == NULL || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(fd_r, CMSG_DATA(c), sizeof(int));
	*len_r = (size_t) n;
	return 0;
}

/* answer_one - in a worker: the question on FD, whose first LEN bytes
 * are DATA, answered with CALLS' decide */
static void
answer_one(int fd, char *data, size_t len, const struct service_calls *calls)
{
	struct service_request req;
	struct buf answer = BUF_INIT;
	const char *err = "the request could not be read";
	char *message = NULL;
	size_t size, hlen = 0, nrest;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (service_parse(data, len, &req, &size, &hlen, &err) != 0
	    || (size > 0 && (message = malloc(size + 1)) == NULL)) {
		buf_printf(&answer, "error %s\n", err);
	} else {
		nrest = len - hlen;
		if (size > 0) {
			memcpy(message, data + hlen, nrest);
			if (read_full(fd, message + nrest, size - nrest) < 0) {
				say(fd, "error the message was cut short\n");
				free(message);
				return;
			}
			message[size] = 0;
			req.message = message;
			req.message_len = size;
		}
		calls->decide(&req, &answer, calls->ctx);
	}
	if (answer.failed || answer.len == 0)
		say(fd, "error out of memory\n");
	else if (write(fd, answer.data, answer.len) < 0) {
		/* the asker has gone */
	}
	buf_free(&answer);
	free(message);
}

/* worker_main - a new worker for NAME on SOCK: become the account, then
 * answer what the service hands over until it closes SOCK, or
 * WORKER_USES times; never returns */
static void __attribute__((noreturn))
worker_main(const char *name, int sock, const struct service_opts *opts,
	    const struct service_calls *calls)
{
	static char data[SERVICE_HEAD_MAX];
	size_t len;
	int fd;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	limits(opts);
	calls->become(calls->ctx, name);
	for (int used = 1; receive(sock, data, sizeof(data) - 1, &len, &fd) == 0; used++) {
		/* a question that runs away is killed by the service at -t;
		 * this is the backstop */
		alarm((unsigned) opts->timeout + 2);
		answer_one(fd, data, len, calls);
		close(fd);
		alarm(0);
		/* "x": this was the last one (the service sends no more) */
		if (send(sock, used >= WORKER_USES ? "x" : "d", 1, MSG_NOSIGNAL) < 0 || used >= WORKER_USES)
			_exit(0);
	}
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

/* hand_over - Q to W, which is idle: its connection and bytes; 0, or
 * -1 (Q answered and freed) when W cannot take it */
static int
hand_over(struct worker *w, struct question *q, int timeout)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { q->data, q->len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			     .msg_controllen = sizeof(control) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &q->fd, sizeof(int));
	if (sendmsg(w->sock, &mh, MSG_NOSIGNAL) < 0) {
		finish(q, "error the worker cannot take it\n");
		return -1;
	}
	q->deadline = now_plus(timeout);
	w->current = q;
	return 0;
}

/* next_question - W is idle: the next of its queue to it, or it ends
 * when it is retiring */
static void
next_question(struct worker *w, int timeout)
{
	while (w->current == NULL && w->queue != NULL) {
		struct question *q = w->queue;

		w->queue = q->next;
		hand_over(w, q, timeout);
	}
	if (w->current == NULL) {
		w->idle_since = now_plus(0);
		if (w->retiring && w->sock >= 0) {
			close(w->sock);	/* it reads the end and exits */
			w->sock = -1;
		}
	}
}

/* close_inherited - in a new worker: what is the service's, not its
 * (ALSO: the question being dispatched) */
static void
close_inherited(int keep, int also)
{
	close(also);
	close(listen_fd);
	close(wake[0]);
	close(wake[1]);
	for (struct question *q = reading; q != NULL; q = q->next)
		close(q->fd);
	for (int i = 0; i < nworkers_max; i++) {
		struct worker *w = &workers[i];

		if (w->pid == 0)
			continue;
		if (w->sock >= 0 && w->sock != keep)
			close(w->sock);
		if (w->current != NULL)
			close(w->current->fd);
		for (struct question *q = w->queue; q != NULL; q = q->next)
			close(q->fd);
	}
}

/* longest_idle - the worker without a question idle the longest, or
 * NULL when every one is busy */
static struct worker *
longest_idle(void)
{
	struct worker *best = NULL;

	for (int i = 0; i < nworkers_max; i++) {
		struct worker *w = &workers[i];

		if (w->pid != 0 && w->current == NULL && w->queue == NULL
		    && (best == NULL || later_than(&best->idle_since, &w->idle_since)))
			best = w;
	}
	return best;
}

/* start_worker - a worker for NAME (asked on FD) in a free slot, or in
 * the slot of the worker idle the longest; NULL when all are busy */
static struct worker *
start_worker(const char *name, int fd, const struct service_opts *opts,
	     const struct service_calls *calls)
{
	struct worker *w = NULL;
	int pair[2];
	pid_t pid;

	for (int i = 0; i < nworkers_max && w == NULL; i++)
		if (workers[i].pid == 0)
			w = &workers[i];
	if (w == NULL && (w = longest_idle()) != NULL) {
		/* all slots taken: the worker idle the longest ends now (it
		 * holds no question, and waits only for the next) */
		if (w->sock >= 0)
			close(w->sock);
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
		memset(w, 0, sizeof(*w));
		w->sock = -1;
	}
	if (w == NULL || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return NULL;
	if ((pid = fork()) < 0) {
		mda_log(LOG_ERR, "fork: %s", strerror(errno));
		close(pair[0]);
		close(pair[1]);
		return NULL;
	}
	if (pid == 0) {
		close(pair[0]);
		close_inherited(pair[1], fd);
		worker_main(name, pair[1], opts, calls);
	}
	close(pair[1]);
	*w = (struct worker) { .pid = pid, .sock = pair[0] };
	snprintf(w->name, sizeof(w->name), "%s", name);
	return w;
}

/* dispatch - Q's lines are all there: to the worker of its account */
static void
dispatch(struct question *q, const struct service_opts *opts, const struct service_calls *calls)
{
	struct service_request req;
	char head[SERVICE_HEAD_MAX], name[64], line[300];
	const char *err = "";
	size_t hlen, size;
	struct worker *w = NULL;
	struct question **qq;

	memcpy(head, q->data, q->len);
	if (service_parse(head, q->len, &req, &size, &hlen, &err) != 0) {
		snprintf(line, sizeof(line), "error %s\n", err);
		finish(q, line);
		return;
	}
	if (calls->route(calls->ctx, &req, name, sizeof(name)) < 0) {
		finish(q, "unknown\n");
		return;
	}
	for (int i = 0; i < nworkers_max && w == NULL; i++)
		if (workers[i].pid != 0 && !workers[i].retiring && strcmp(workers[i].name, name) == 0)
			w = &workers[i];
	if (w == NULL && (w = start_worker(name, q->fd, opts, calls)) == NULL) {
		finish(q, "error busy: too many users' questions at once\n");
		return;
	}
	for (qq = &w->queue; *qq != NULL; qq = &(*qq)->next)
		;
	q->next = NULL;
	*qq = q;
	next_question(w, opts->timeout);
}

/* read_question - more of Q's lines: dispatched when they are all
 * there; 1 when Q has left the reading list */
static int
read_question(struct question *q, const struct service_opts *opts,
	      const struct service_calls *calls)
{
	ssize_t n = read(q->fd, q->data + q->len, sizeof(q->data) - q->len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		finish(q, NULL);	/* the asker went away */
		return 1;
	}
	q->len += (size_t) n;
	if (head_end(q) > 0) {
		dispatch(q, opts, calls);
		return 1;
	}
	if (q->len == sizeof(q->data)) {
		finish(q, "error the request's lines are too long\n");
		return 1;
	}
	return 0;
}

/* reap - the workers that ended: their questions answered when they
 * said nothing */
static void
reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (int i = 0; i < nworkers_max; i++) {
			struct worker *w = &workers[i];

			if (w->pid != pid)
				continue;
			if (w->current != NULL)
				finish(w->current, "error the decision ended without an answer\n");
			while (w->queue != NULL) {
				struct question *q = w->queue;

				w->queue = q->next;
				finish(q, "error the user's worker ended\n");
			}
			if (w->sock >= 0)
				close(w->sock);
			memset(w, 0, sizeof(*w));
			w->sock = -1;
		}
}

/* worker_said - W wrote: its question is answered ("d", or "x" when it
 * ends now), or it has gone (reaped soon) */
static void
worker_said(struct worker *w, int timeout)
{
	char c;
	ssize_t n = recv(w->sock, &c, 1, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (w->current != NULL && n == 1) {
		finish(w->current, NULL);
		w->current = NULL;
	}
	if (n != 1 || c == 'x') {
		w->retiring = 1;
		if (w->current == NULL)
			next_question(w, timeout);
		return;
	}
	next_question(w, timeout);
}

/* expire - questions past their deadline: answered; a worker that took
 * too long killed; workers idle for a minute ended */
static void
expire(int timeout)
{
	struct timespec now = now_plus(0), idle = now;
	struct question **qq = &reading;

	idle.tv_sec -= WORKER_IDLE;
	while (*qq != NULL) {
		struct question *q = *qq;

		if (later_than(&now, &q->deadline)) {
			*qq = q->next;
			finish(q, "error timeout: the question did not come whole in time\n");
		} else {
			qq = &q->next;
		}
	}
	for (int i = 0; i < nworkers_max; i++) {
		struct worker *w = &workers[i];

		if (w->pid == 0)
			continue;
		for (struct question **wq = &w->queue; *wq != NULL;) {
			struct question *q = *wq;

			if (later_than(&now, &q->deadline)) {
				*wq = q->next;
				finish(q, "error timeout: the user's worker was busy\n");
			} else {
				wq = &q->next;
			}
		}
		if (w->current != NULL && later_than(&now, &w->current->deadline)) {
			mda_log(LOG_WARNING, "decision for %s took longer than %d s: its worker "
				"[%ld] killed", w->name, timeout, (long) w->pid);
			kill(w->pid, SIGKILL);
			finish(w->current, "error timeout: no answer in time\n");
			w->current = NULL;
			w->retiring = 1;
		}
		if (w->current == NULL && w->queue == NULL && !w->retiring
		    && later_than(&idle, &w->idle_since)) {
			w->retiring = 1;
			next_question(w, timeout);
		}
	}
}

/* retire_all - every worker ends once it has answered what it has: the
 * rc script they started from changed */
static void
retire_all(int timeout)
{
	for (int i = 0; i < nworkers_max; i++)
		if (workers[i].pid != 0 && !workers[i].retiring) {
			workers[i].retiring = 1;
			if (workers[i].current == NULL)
				next_question(&workers[i], timeout);
		}
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

/* accept_question - a new connection: its lines are read from now on */
static void
accept_question(int timeout)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct question *q;

	if (fd < 0)
		return;
	if ((q = malloc(sizeof(*q))) == NULL) {
		say(fd, "error out of memory\n");
		close(fd);
		return;
	}
	q->fd = fd;
	q->len = 0;
	q->deadline = now_plus(timeout);
	q->next = reading;
	reading = q;
}

/* service_main - answer questions on OPTS' socket with CALLS until
 * SIGTERM; the exit code for mvmda */
int
service_main(const struct service_opts *opts, const struct service_calls *calls)
{
	static struct pollfd p[2 + SERVICE_READING_MAX + SERVICE_WORKERS_MAX];
	char why[256];

	nworkers_max = opts->max_children < SERVICE_WORKERS_MAX ? opts->max_children
	    : SERVICE_WORKERS_MAX;
	for (int i = 0; i < SERVICE_WORKERS_MAX; i++)
		workers[i].sock = -1;
	if ((listen_fd = service_listen_unix(opts->socket_path, opts->group, "-D")) < 0 || signals() < 0)
		return 1;
	warm_nss();
	calls->prepare(calls->ctx, 0);
	if (landlock_abi(why, sizeof(why)) < 0)
		mda_log(LOG_WARNING, "%s: decisions are kept from writing by RLIMIT_FSIZE only", why);
	mda_log(LOG_INFO, "answering SMTP-time decisions on %s (group %s, %d s, %d users at once)",
		opts->socket_path, opts->group && *opts->group ? opts->group : "-", opts->timeout,
		nworkers_max);
	while (!stopping) {
		struct question *qs[SERVICE_READING_MAX];
		int wi[SERVICE_WORKERS_MAX], n = 0, nq = 0, nw = 0;
		char drain[64];

		p[n++] = (struct pollfd) { .fd = wake[0], .events = POLLIN };
		for (struct question *q = reading; q != NULL && nq < SERVICE_READING_MAX; q = q->next) {
			qs[nq++] = q;
			p[n++] = (struct pollfd) { .fd = q->fd, .events = POLLIN };
		}
		for (int i = 0; i < nworkers_max; i++)
			if (workers[i].pid != 0 && workers[i].sock >= 0) {
				wi[nw++] = i;
				p[n++] = (struct pollfd) { .fd = workers[i].sock, .events = POLLIN };
			}
		p[n++] = (struct pollfd) { .fd = nq < SERVICE_READING_MAX ? listen_fd : -1,
					   .events = POLLIN };
		if (poll(p, (nfds_t) n, 200) < 0 && errno != EINTR)
			break;
		while (read(wake[0], drain, sizeof(drain)) > 0)
			;
		for (int i = 0; i < nw; i++)
			if (p[1 + nq + i].revents)
				worker_said(&workers[wi[i]], opts->timeout);
		reap();
		/* the rc script looked at once per new question, and on SIGHUP */
		if (reloading || ((p[n - 1].revents & POLLIN) && calls->prepare(calls->ctx, 0))) {
			if (reloading)
				calls->prepare(calls->ctx, 1);
			reloading = 0;
			retire_all(opts->timeout);
		}
		for (int i = 0; i < nq; i++)
			if (p[1 + i].revents) {
				struct question **qq = &reading;

				while (*qq != qs[i])
					qq = &(*qq)->next;
				*qq = qs[i]->next;	/* out of the list while read */
				if (!read_question(qs[i], opts, calls)) {
					qs[i]->next = reading;
					reading = qs[i];
				}
			}
		if (p[n - 1].revents & POLLIN)
			accept_question(opts->timeout);
		expire(opts->timeout);
	}
	mda_log(LOG_INFO, "stopping");
	unlink(socket_path(opts->socket_path));
	return 0;
}
