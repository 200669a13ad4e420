/*
 * main - mvmtr, the milter: options, the script, the socket, the user
 * it runs as, the pidfile, signals; then the milter engine's loop, a
 * thread per MTA connection (engine.c, callbacks.c).
 *
 * Signals are taken by one thread (the others block them): SIGHUP
 * recompiles the script and swaps it in (program_reload), SIGTERM and
 * SIGINT stop the engine; SIGPIPE is ignored (a write to an MTA that
 * went away fails with EPIPE instead).
 *
 * Everything that can fail at start is done before mvmtr becomes a
 * daemon, in this order: the script, the directories of the socket and
 * the store when they are missing (0750, the user's), the socket (as
 * root, then made 0660 and the user's), the user, the store (as that
 * user), so a failed start exits with the reason on stderr. Files and
 * directories mvmtr makes are 0640 and 0750 whatever the caller's umask;
 * the pid file is 0644.
 *
 * DIAGNOSTICS: exit codes are sysexits(3), mvmtr(8) EXIT STATUS: usage
 * 64, a script that does not compile 78 (-c: 1), the socket 69, the user
 * 67 or 77, the store 73, the system 71; a reload that fails keeps the
 * running program.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <syslog.h>
#include <unistd.h>

#include "engine.h"
#include "msg/msg.h"
#include "mvmtr.h"

extern const struct eng_filter mvmtr_filter;

/* signal_thread - SIGHUP reloads the program; SIGTERM or SIGINT stops */
static void *
signal_thread(void *arg)
{
	const sigset_t *set = arg;

	for (;;) {
		int s = sigwaitinfo(set, NULL);

		if (s < 0) {
			if (errno == EINTR)
				continue;
			mtr_log(LOG_ERR, "sigwaitinfo: %s; stopping", strerror(errno));
			break;
		}
		if (s == SIGHUP) {
			mtr_log(LOG_INFO, "SIGHUP: reloading %s", program_script);
			program_reload();
			continue;
		}
		mtr_log(LOG_INFO, "%s: stopping", s == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
	eng_stop();
	return NULL;
}

/* usage - how to call mvmtr, on OUT; exits with CODE */
static void
usage(FILE *out, int code)
{
	fprintf(out,
		"usage: mvmtr [-cfv] [-l level] [-p socket] [-P pidfile] [-u user[:group]]\n"
		"             [-T timeout] [script]\n"
		"  -c          compile the script and exit\n"
		"  -f          stay in the foreground, log to stderr too\n"
		"  -l level    log up to err, warning, notice, info (default) or debug\n"
		"  -p socket   unix:PATH, inet:PORT@ADDR or inet6:PORT@ADDR\n"
		"              (default %s)\n"
		"  -P pidfile  write the daemon's pid there\n"
		"  -u user     run as USER (and GROUP) once the socket is open\n"
		"  -T timeout  seconds to wait for the MTA (default 7210)\n"
		"  -v          with -c: say what the script makes mvmtr negotiate\n"
		"script defaults to %s\n", MVMTR_SOCKET, MVMTR_SCRIPT);
	exit(code);
}

/* describe - what PG makes mvmtr ask of the MTA (-c -v) */
static void
describe(const struct program *pg)
{
	printf("%s: %s mode\nhooks:", pg->path, pg->sieve ? "Sieve" : "MFL");
	for (int h = 0; h < HOOK_COUNT; h++)
		if (pg->hooks & (1 << h))
			printf(" %s", hook_names[h]);
	printf("\nreceives: connect mail rcpt%s%s%s%s%s eom\n",
	       pg->needs & NEED_HELO ? " helo" : "", pg->needs & NEED_DATA ? " data" : "",
	       pg->needs & NEED_HEADERS ? " headers" : "",
	       pg->needs & (NEED_EOH | NEED_HEADERS) ? " eoh" : "",
	       pg->needs & NEED_BODY ? " body" : "");
	if (pg->needs & NEED_DATA_ACCEPT)
		printf("accepts at data: unless a hook queued a change\n");
	if (pg->needs & NEED_DATA_UNLESS_ASKED)
		printf("accepts at data: unless a hook queued a change or a recipient's "
		       "scripts need the message (mvmda -D)\n");
	if (pg->symlist != NULL && pg->symlist_connect != NULL)
		printf("macros: %s (at connect: %s)\n", pg->symlist, pg->symlist_connect);
	else
		printf("macros: the MTA's lists (the script computes macro names)\n");
}

/* owner_of - SPEC ("user[:group]") as a uid and gid; -1 with ERR */
static int
owner_of(const char *spec, uid_t *uid_r, gid_t *gid_r, char *name_r,
	 size_t namesize, char *err, size_t errsize)
{
	char user[256], *colon;
	struct passwd *pw;

	snprintf(user, sizeof(user), "%s", spec);
	if ((colon = strchr(user, ':')) != NULL)
		*colon++ = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errsize, "no such user: %s", user);
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;
	snprintf(name_r, namesize, "%s", pw->pw_name);
	if (colon != NULL) {
		struct group *gr = getgrnam(colon);

		if (gr == NULL) {
			snprintf(err, errsize, "no such group: %s", colon);
			return -1;
		}
		*gid_r = gr->gr_gid;
	}
	return 0;
}

/* drop_privileges - become USER[:GROUP]; 0, or the exit code with a
 * message: EX_NOUSER for no such user or group, EX_NOPERM */
static int
drop_privileges(const char *spec, char *err, size_t errsize)
{
	char name[256];
	uid_t uid;
	gid_t gid;

	if (owner_of(spec, &uid, &gid, name, sizeof(name), err, errsize) < 0)
		return EX_NOUSER;
	if (initgroups(name, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		snprintf(err, errsize, "cannot become %s: %s", spec, strerror(errno));
		return EX_NOPERM;
	}
	if (uid != 0 && setuid(0) == 0) {
		snprintf(err, errsize, "could regain root after becoming %s", spec);
		return EX_NOPERM;
	}
	return 0;
}

/* unix_path - the path of a unix socket CONN names, or NULL */
static const char *
unix_path(const char *conn)
{
	if (strncmp(conn, "unix:", 5) == 0 || strncmp(conn, "local:", 6) == 0)
		return strchr(conn, ':') + 1;
	return conn[0] == '/' ? conn : NULL;
}

/* socket_owner - a unix socket belongs to the user mvmtr becomes, so
 * the MTA's group can be given access (mode 0660) */
static void
socket_owner(const char *conn, const char *spec)
{
	const char *path = unix_path(conn);
	char name[256], err[256];
	uid_t uid;
	gid_t gid;

	if (path == NULL)
		return;
	chmod(path, 0660);
	if (spec == NULL || owner_of(spec, &uid, &gid, name, sizeof(name), err, sizeof(err)) < 0)
		return;		/* drop_privileges() reports a bad spec */
	if (chown(path, uid, gid) < 0)
		mtr_log(LOG_WARNING, "chown %s: %s", path, strerror(errno));
}

/* make_home - the directory that holds PATH (the socket's, the store's)
 * made when it is missing, as /run/mvmf is after a boot and
 * /var/lib/mvmf before the first start: the levels above it as mkdir -p
 * makes them (0755), itself 0750 and owned by SPEC, the -u user, so
 * mvmtr can make its files there once it is that user. A directory that
 * exists is left as it is. 0, or -1 and ERR naming the path */
static int
make_home(const char *path, const char *spec, char *err, size_t errsize)
{
	char dir[4096], name[256];
	char *slash, *p;
	struct stat st;
	uid_t uid;
	gid_t gid;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int) sizeof(dir)
	    || (slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) == 0 || errno != ENOENT)
		return 0;	/* there, or a problem the open reports */
	for (p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
		if (p != NULL)
			*p = '\0';
		if (mkdir(dir, 0700) == 0) {
			if (chmod(dir, p != NULL ? 0755 : 0750) < 0)
				goto fail;
		} else if (errno != EEXIST) {
			goto fail;
		}
		if (p == NULL)
			break;
		*p = '/';
	}
	/* a bad SPEC is drop_privileges()'s to report, with its own code */
	if (spec != NULL && owner_of(spec, &uid, &gid, name, sizeof(name), err, errsize) == 0
	    && chown(dir, uid, gid) < 0)
		goto fail;
	mtr_log(LOG_NOTICE, "made %s, mode 0750%s%s", dir, spec != NULL ? ", owner " : "",
		spec != NULL ? spec : "");
	return 0;
fail:
	snprintf(err, errsize, "cannot make %.400s: %s", dir, strerror(errno));
	return -1;
}

/* write_pidfile - our pid into PATH, mode 0644 whatever the umask */
static int
write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fchmod(fileno(f), 0644);
	fprintf(f, "%ld\n", (long) getpid());
	return fclose(f);
}

/* fail - the reason on stderr and in the log; CODE */
static int
fail(int code, const char *what, const char *err)
{
	fprintf(stderr, "mvmtr: %s%s\n", what, err);
	mtr_log(LOG_ERR, "%s%s; not starting", what, err);
	return code;
}

int
main(int argc, char **argv)
{
	const char *conn = MVMTR_SOCKET, *user = NULL, *pidfile = NULL;
	int check = 0, foreground = 0, verbose = 0, level = LOG_INFO, timeout = 0;
	struct buf errors = BUF_INIT;
	struct program *pg;
	sigset_t signals;
	pthread_t signals_tid;
	char err[512];
	int ch;

	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(stdout, 0);
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		printf("mvmtr %s\n", PACKAGE_VERSION);
		return 0;
	}
	while ((ch = getopt(argc, argv, "cfl:p:P:T:u:vV")) != -1) {
		switch (ch) {
		case 'c': check = 1; break;
		case 'f': foreground = 1; break;
		case 'l':
			if ((level = log_level_parse(optarg)) < 0)
				usage(stderr, EX_USAGE);
			break;
		case 'p': conn = optarg; break;
		case 'P': pidfile = optarg; break;
		case 'T': timeout = atoi(optarg); break;
		case 'u': user = optarg; break;
		case 'v': verbose = 1; break;
		case 'V':
			printf("mvmtr %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr, EX_USAGE);
		}
	}
	if (argc - optind > 1)
		usage(stderr, EX_USAGE);
	program_script = optind < argc ? argv[optind] : MVMTR_SCRIPT;
	log_open("mvmtr", foreground || check, level);

	if ((pg = program_compile(program_script, &errors)) == NULL) {
		fputs(buf_cstr(&errors), stderr);
		if (!check)
			mtr_log(LOG_ERR, "%s does not compile; not starting", program_script);
		buf_free(&errors);
		return check ? 1 : EX_CONFIG;
	}
	buf_free(&errors);
	if (check) {
		if (verbose)
			describe(pg);
		program_put(pg);
		return 0;
	}
	program_install(pg);
	program_put(pg);	/* program_install took its own reference */

	umask(027);	/* 0640 files, 0750 directories, whatever the caller's */
	if (unix_path(conn) != NULL && make_home(unix_path(conn), user, err, sizeof(err)) < 0)
		return fail(EX_UNAVAILABLE, "the socket's directory: ", err);
	if (program_store_path(pg) != NULL
	    && make_home(program_store_path(pg), user, err, sizeof(err)) < 0)
		return fail(EX_CANTCREAT, "the store's directory: ", err);
	if (eng_open(conn, err, sizeof(err)) < 0)
		return fail(EX_UNAVAILABLE, "cannot open socket ", err);
	socket_owner(conn, user);
	if (user != NULL && (ch = drop_privileges(user, err, sizeof(err))) != 0)
		return fail(ch, "", err);
	if (program_open_store(pg, err, sizeof(err)) < 0)
		return fail(EX_CANTCREAT, "the store: ", err);
	if (!foreground && daemon(0, 0) < 0)
		return fail(EX_OSERR, "daemon: ", strerror(errno));
	if (pidfile != NULL && write_pidfile(pidfile) < 0)
		mtr_log(LOG_WARNING, "pidfile %s: %s", pidfile, strerror(errno));
	/* every thread from here on leaves these signals to signal_thread */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&signals);
	sigaddset(&signals, SIGHUP);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	if ((errno = pthread_sigmask(SIG_BLOCK, &signals, NULL)) != 0
	    || (errno = pthread_create(&signals_tid, NULL, signal_thread, &signals)) != 0) {
		mtr_log(LOG_ERR, "cannot start the signal thread: %s", strerror(errno));
		return EX_OSERR;
	}
	mtr_log(LOG_INFO, "started: %s on %s", program_script, conn);
	ch = eng_run(&mvmtr_filter, timeout);
	mtr_log(LOG_INFO, "stopped");
	return ch == 0 ? 0 : EX_SOFTWARE;
}
