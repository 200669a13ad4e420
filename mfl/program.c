/*
 * program - run one of the admin's programs for Pigeonhole's extprograms
 * (vnd.dovecot.pipe, .filter, .execute): only a file in the directory the
 * env gives its kind ($mfl_pipe_dir ...), by execve() with no shell, with
 * a fixed environment, its input written and its output read under a
 * time limit and an output limit, and never as root: run by root, it
 * runs as $mfl_program_user.
 *
 * The caller's signal dispositions are left alone: SIGPIPE is blocked in
 * this thread while the input is written, and one it raised is taken back.
 * The program gets its own process group, so a timeout kills what it
 * started as well.
 *
 * DIAGNOSTICS: -1 with the reason in ERR: no directory configured, a bad
 * name, no such program, root's target user unusable, fork or pipe
 * failures, a timeout, too much output, a non-zero exit (with the first
 * line the program wrote to stderr) or a signal.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "env.h"
#include "mflapi.h"
#include "msg/buf.h"
#include "msg/charset.h"

#define PROGRAM_ARGS_MAX	64
#define PROGRAM_STDERR_MAX	512

/* the child's identity and environment, made before fork(): the child
 * may call only async-signal-safe functions */
struct identity {
	uid_t uid;
	gid_t gid;
	int drop;		/* we are root: become uid/gid */
	char home[PATH_MAX], user[64];
};

/* mfl_program_name_ok - NAME is a file name the admin's directory may
 * hold: utf8_name_ok's, not starting with '.', at most 128 bytes */
int
mfl_program_name_ok(const char *name, size_t len)
{
	return len <= 128 && utf8_name_ok(name, len) && name[0] != '.';
}

/* control_of - the env's string control mfl_KIND_WHAT, or "" */
static const char *
control_of(const struct mfl_env *env, const char *kind, const char *what)
{
	char name[64];
	const char *v;

	snprintf(name, sizeof(name), "mfl_%s_%s", kind, what);
	v = mfl_env_get_string(env, name);
	return v != NULL ? v : "";
}

/* timeout_of - mfl_KIND_timeout in seconds; 0: none */
static int64_t
timeout_of(const struct mfl_env *env, const char *kind)
{
	char name[64];

	snprintf(name, sizeof(name), "mfl_%s_timeout", kind);
	return mfl_env_get_int(env, name);
}

/* mfl_env_set_account - a program run when we are not root has USER's
 * name and HOME (the host's account, which it found already; both must
 * outlive ENV), not the euid's from the user database */
void
mfl_env_set_account(struct mfl_env *env, const char *user, const char *home)
{
	env->account_user = user;
	env->account_home = home;
}

/* identity_get - who the program runs as: ourselves (as the host's
 * account says, else the user database), or, when we are root,
 * $mfl_program_user (never root) */
static int
identity_get(const struct mfl_env *env, struct identity *id, char *err, size_t errsize)
{
	struct passwd pw, *found = NULL;
	char pwbuf[4096];
	const char *user = mfl_env_get_string(env, "mfl_program_user");
	int rc;

	id->drop = geteuid() == 0;
	if (id->drop) {
		if (user == NULL || !*user) {
			snprintf(err, errsize, "not running a program as root, and "
				 "$mfl_program_user is empty");
			return -1;
		}
		rc = getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &found);
	} else if (env->account_user != NULL && env->account_home != NULL) {
		id->uid = geteuid();
		id->gid = getegid();
		snprintf(id->home, sizeof(id->home), "%s", env->account_home);
		snprintf(id->user, sizeof(id->user), "%s", env->account_user);
		return 0;
	} else {
		rc = getpwuid_r(geteuid(), &pw, pwbuf, sizeof(pwbuf), &found);
	}
	if (found == NULL) {
		snprintf(err, errsize, "no user %s to run the program as%s%s",
			 id->drop ? user : "(our uid)", rc ? ": " : "", rc ? strerror(rc) : "");
		return -1;
	}
	if (found->pw_uid == 0) {
		snprintf(err, errsize, "not running a program as root ($mfl_program_user %s is root)",
			 user);
		return -1;
	}
	id->uid = found->pw_uid;
	id->gid = found->pw_gid;
	snprintf(id->home, sizeof(id->home), "%s", found->pw_dir ? found->pw_dir : "/");
	snprintf(id->user, sizeof(id->user), "%s", found->pw_name);
	return 0;
}

/* input_of - P's input with its line ends as $mfl_KIND_eol says: "crlf"
 * (the default, RFC 5322's) or "lf" */
static void
input_of(const struct mfl_env *env, const struct mfl_program *p, struct buf *in)
{
	int crlf = strcmp(control_of(env, p->kind, "eol"), "lf") != 0;

	for (size_t i = 0; p->input != NULL && i < p->input_len; i++) {
		char c = p->input[i];

		if (c == '\r' && i + 1 < p->input_len && p->input[i + 1] == '\n')
			continue;	/* the LF that follows decides */
		if (c == '\n' && crlf)
			buf_putc(in, '\r');
		buf_putc(in, c);
	}
}

/* child - in the forked process: become the program; never returns */
static void
child(const char *path, char *const argv[], char *const envp[], const struct identity *id,
      int fds[3])
{
	sigset_t none;

	setpgid(0, 0);
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			_exit(127);
	/* the pipes are root's: theirs now, so /dev/stdin opens */
	for (int i = 0; id->drop && i < 3; i++)
		if (fchown(i, id->uid, id->gid) < 0)
			_exit(126);
	if (id->drop && (setgroups(1, &id->gid) < 0 || setgid(id->gid) < 0
			 || setuid(id->uid) < 0 || setuid(0) == 0))
		_exit(126);
	if (chdir(id->home) < 0 && chdir("/") < 0)
		_exit(126);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	closefrom(3);
	execve(path, argv, envp);
	_exit(127);
}

/* now_ms - a monotonic clock in milliseconds */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* exchange - write IN to FDS[0], read FDS[1] into OUT (up to MAX; 0:
 * dropped) and FDS[2] into ERRS until both end or DEADLINE (ms, 0:
 * none) passes; 0, -1 timeout, -2 too much output, -3 read error */
static int
exchange(int fds[3], const struct buf *in, struct buf *out, size_t max, struct buf *errs,
	 int64_t deadline)
{
	size_t written = 0;
	char chunk[8192];

	if (in->len == 0) {
		close(fds[0]);
		fds[0] = -1;
	}
	while (fds[1] >= 0 || fds[2] >= 0) {
		struct pollfd pfd[3] = { { fds[0], POLLOUT, 0 }, { fds[1], POLLIN, 0 },
					 { fds[2], POLLIN, 0 } };
		int wait = -1, n;

		if (deadline) {
			int64_t left = deadline - now_ms();

			if (left <= 0)
				return -1;
			wait = left > INT_MAX ? INT_MAX : (int) left;
		}
		if ((n = poll(pfd, 3, wait)) < 0 && errno != EINTR)
			return -3;
		if (n <= 0)
			continue;
		if (fds[0] >= 0 && pfd[0].revents) {
			ssize_t w = write(fds[0], in->data + written, in->len - written);

			if (w > 0)
				written += (size_t) w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == in->len) {
				close(fds[0]);	/* done, or the program stopped reading */
				fds[0] = -1;
			}
		}
		for (int k = 1; k <= 2; k++) {
			ssize_t r;

			if (fds[k] < 0 || !pfd[k].revents)
				continue;
			r = read(fds[k], chunk, sizeof(chunk));
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				close(fds[k]);
				fds[k] = -1;
				continue;
			}
			if (k == 2) {
				if (errs->len < PROGRAM_STDERR_MAX)
					buf_append(errs, chunk, (size_t) r);
			} else if (max > 0) {
				if (out->len + (size_t) r > max)
					return -2;
				buf_append(out, chunk, (size_t) r);
			}
		}
	}
	return 0;
}

/* first_line - the first line of what the program said on stderr */
static void
first_line(struct buf *errs, char *line, size_t size)
{
	size_t n = 0;

	while (n < errs->len && errs->data[n] != '\n' && errs->data[n] != '\r')
		n++;
	snprintf(line, size, "%s%.*s", n ? ": " : "", (int) (n > 200 ? 200 : n),
		 errs->data ? errs->data : "");
}

/* spawn - fork the program at PATH with its ends of three pipes; the
 * parent's ends in FDS (non-blocking); the pid, or -1 */
static pid_t
spawn(const char *path, char *const argv[], char *const envp[], const struct identity *id,
      int fds[3])
{
	int pipes[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } }, theirs[3];
	pid_t pid = -1;

	for (int i = 0; i < 3; i++)
		if (pipe2(pipes[i], O_CLOEXEC) < 0)
			goto out;
	for (int i = 0; i < 3; i++)
		theirs[i] = i == 0 ? pipes[0][0] : pipes[i][1];
	if ((pid = fork()) == 0)
		child(path, argv, envp, id, theirs);
 out:
	for (int i = 0; i < 3; i++) {
		int mine = i == 0 ? pipes[0][1] : pipes[i][0];

		if (pipes[i][0] >= 0)
			close(i == 0 ? pipes[i][0] : pipes[i][1]);
		fds[i] = pid > 0 ? mine : -1;
		if (pid > 0)
			fcntl(mine, F_SETFL, O_NONBLOCK);
		else if (mine >= 0)
			close(mine);
	}
	return pid;
}

/* env_line - "NAME=value" into SLOT; the value may be NULL ("") */
static char *
env_line(char *slot, size_t size, const char *name, const char *value)
{
	snprintf(slot, size, "%s=%s", name, value ? value : "");
	return slot;
}

/* verdict - ERR from how the program ended; 0 for exit status 0 */
static int
verdict(const struct mfl_program *p, int status, struct buf *errs, char *err, size_t errsize)
{
	char line[256];

	first_line(errs, line, sizeof(line));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
		snprintf(err, errsize, "program %s: could not take its user%s", p->name, line);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(err, errsize, "program %s: could not be started%s", p->name, line);
	else if (WIFEXITED(status))
		snprintf(err, errsize, "program %s exited with status %d%s", p->name,
			 WEXITSTATUS(status), line);
	else
		snprintf(err, errsize, "program %s killed by signal %d%s", p->name,
			 WTERMSIG(status), line);
	return -1;
}

/* program_path - the program's file in its kind's directory: PATH */
static int
program_path(const struct mfl_env *env, const struct mfl_program *p, char *path, size_t size,
	     char *err, size_t errsize)
{
	const char *dir = control_of(env, p->kind, "dir");
	struct stat st;

	if (!*dir) {
		snprintf(err, errsize, "vnd.dovecot.%s is off: $mfl_%s_dir names no directory",
			 p->kind, p->kind);
		return -1;
	}
	if (dir[0] != '/') {
		snprintf(err, errsize, "$mfl_%s_dir \"%.100s\" is not an absolute path", p->kind, dir);
		return -1;
	}
	if (!mfl_program_name_ok(p->name, strlen(p->name))) {
		snprintf(err, errsize, "invalid program name \"%.80s\"", p->name);
		return -1;
	}
	if ((size_t) snprintf(path, size, "%s/%s", dir, p->name) >= size) {
		snprintf(err, errsize, "program path too long");
		return -1;
	}
	if (stat(path, &st) < 0) {
		snprintf(err, errsize, "program %s: %s", path,
			 errno == ENOENT ? "no such program" : strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		snprintf(err, errsize, "program %s: %s", path,
			 !S_ISREG(st.st_mode) ? "not a regular file" : "not executable");
		return -1;
	}
	return 0;
}

/* mfl_program_run - run P from its kind's directory: its stdout onto
 * OUT (P->output_max bytes at most); 0 when it exited 0, else -1 and
 * the reason in ERR */
int
mfl_program_run(const struct mfl_env *env, const struct mfl_program *p, struct buf *out,
		char *err, size_t errsize)
{
	char path[PATH_MAX], envs[7][PATH_MAX + 16], *envp[8], *argv[PROGRAM_ARGS_MAX + 2];
	struct identity id;
	struct buf in = BUF_INIT, errs = BUF_INIT;
	int64_t timeout = timeout_of(env, p->kind);
	sigset_t pipe_set, old_mask, pending;
	int fds[3], status = 0, rc, had_pipe;
	size_t n = 0;
	pid_t pid;

	if (env->uncertain != NULL) {
		/* a decision run has no effects: what the program would
		 * have said is left to the delivery */
		*env->uncertain = 1;
		snprintf(err, errsize, "programs do not run while deciding before delivery");
		return -1;
	}
	if (program_path(env, p, path, sizeof(path), err, errsize) < 0
	    || identity_get(env, &id, err, errsize) < 0)
		return -1;
	argv[n++] = (char *) p->name;
	for (size_t i = 0; p->args != NULL && p->args[i] != NULL; i++) {
		if (n > PROGRAM_ARGS_MAX) {
			snprintf(err, errsize, "program %s: more than %d arguments", p->name,
				 PROGRAM_ARGS_MAX);
			return -1;
		}
		argv[n++] = (char *) p->args[i];
	}
	argv[n] = NULL;
	envp[0] = env_line(envs[0], sizeof(envs[0]), "PATH", "/usr/local/bin:/usr/bin:/bin");
	envp[1] = env_line(envs[1], sizeof(envs[1]), "HOME", id.home);
	envp[2] = env_line(envs[2], sizeof(envs[2]), "USER", id.user);
	envp[3] = env_line(envs[3], sizeof(envs[3]), "SENDER", p->sender);
	envp[4] = env_line(envs[4], sizeof(envs[4]), "RECIPIENT", p->recipient);
	envp[5] = env_line(envs[5], sizeof(envs[5]), "ORIG_RECIPIENT", p->orig_recipient);
	envp[6] = env_line(envs[6], sizeof(envs[6]), "HOST", p->host);
	envp[7] = NULL;
	input_of(env, p, &in);
	if (in.failed) {
		buf_free(&in);
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	had_pipe = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	if ((pid = spawn(path, argv, envp, &id, fds)) < 0) {
		snprintf(err, errsize, "program %s: cannot start it: %s", p->name, strerror(errno));
		rc = -1;
	} else {
		rc = exchange(fds, &in, out, p->output_max, &errs,
			      timeout > 0 ? now_ms() + timeout * 1000 : 0);
		for (int i = 0; i < 3; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		if (rc < 0)
			kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (rc == -1)
			snprintf(err, errsize, "program %s timed out after %lld s", p->name,
				 (long long) timeout);
		else if (rc == -2)
			snprintf(err, errsize, "program %s wrote more than %zu bytes", p->name,
				 p->output_max);
		else if (rc == -3)
			snprintf(err, errsize, "program %s: %s", p->name, strerror(errno));
		else
			rc = verdict(p, status, &errs, err, errsize);
	}
	sigpending(&pending);
	if (!had_pipe && sigismember(&pending, SIGPIPE)) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	buf_free(&in);
	buf_free(&errs);
	if (rc == 0 && out->failed) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	return rc < 0 ? -1 : 0;
}
