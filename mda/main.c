/*
 * mvmda - the local delivery agent: one message on stdin, the envelope
 * from the MTA's environment, the system rc script deciding what runs
 * (mvmda-sysrc(5)), delivery into Maildir, Maildir++ and mbox, an exit
 * code the MTA understands ($hook_exitcode translates it).
 *
 * This file is the driver: options, the modes (-c, -i, -n, -V, -D, the
 * SMTP-time service: service.c and decide.c, and -L, the LMTP service:
 * lmtp.c, whose children come back here to deliver), and the order of
 * things: the account and the rc script (setup.c), read the message,
 * refuse a loop, $hook_msg_read_after, the rc script's top level (which
 * runs the user's scripts), then deliver.c.
 *
 * DIAGNOSTICS: sysexits(3). Every failure a retry might cure, and every
 * doubt (a bad option, a broken rc script), is EX_TEMPFAIL so the MTA
 * keeps the message; EX_NOUSER for an unknown -d user; EX_UNAVAILABLE
 * for a mail loop.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "lmtp.h"
#include "log.h"
#include "mda.h"
#include "mfl.h"
#include "msg/msg.h"
#include "progcache.h"
#include "service.h"
#include "state.h"
#include "twin.h"

#ifndef MDA_STATIC_LIBC
#define MDA_STATIC_LIBC	0
#endif

#ifdef WITH_BUILTIN_RC
extern const char mda_builtin_rc[];
#endif

static struct mda mda;
static const char *opt_sender, *opt_recipient;	/* -f, -a */
static struct service_opts service = {	/* -D -g -j -t */
	.group = "mvmtr", .timeout = 2, .max_children = 32, .memory = (size_t) 512 << 20,
};
static const char *opt_lmtp;		/* -L */
static int opt_group, opt_timeout;	/* -g, -t were given */
static int lmtp_child;			/* a delivery of the LMTP service */

/* usage - how to call it, on OUT; exits with CODE */
static void
usage(FILE *out, int code)
{
	fprintf(out, "usage: mvmda [-bcinpSvV] [-d user] [-f sender] [-a recipient] [-e string]\n"
		"             [-E string] [-m default-mailbox] [script ...]\n"
		"       mvmda -D unix:socket [-g group] [-j max] [-t seconds] [-x delimiter]\n"
		"       mvmda -L unix:socket|inet:[host:]port [-g group] [-j max] [-t seconds]\n"
		"             [-x delimiter]\n");
	exit(code);
}

/* mda_exit - end with CODE as $hook_exitcode translates it */
static void __attribute__((noreturn))
mda_exit(int code)
{
	struct value arg = value_int(code), ret;

	if (mda.rc_run != NULL && !mda.check && !mda.interactive
	    && mfl_run_hook(mda.rc_run, "exitcode", &arg, 1, &ret) == 1) {
		if (ret.type == V_INT && ret.u.i >= 0 && ret.u.i <= 255)
			code = (int) ret.u.i;
		else
			warn("$hook_exitcode gave %lld; exiting with %d", (long long) ret.u.i, code);
	} else if (mda.rc_run != NULL && mfl_run_error(mda.rc_run) != NULL && !mda.check) {
		warn("%s", mfl_run_error(mda.rc_run));
	}
	fflush(stdout);
	exit(code);
}

/* print_version - -V: version, rc path, controls as MFL; -V -V adds
 * the built-in rc script as comments */
static void
print_version(const char *rc_path, int verbose)
{
	struct buf out = BUF_INIT;

	buf_printf(&out, "# mvmda %s\n# rc: %s\n", PACKAGE_VERSION, rc_path);
	mfl_env_print_controls(mda.env, &out);
#ifdef WITH_BUILTIN_RC
	if (verbose > 1) {
		buf_puts(&out, "# built-in rc script:\n");
		for (const char *p = mda_builtin_rc; *p;) {
			size_t n = strcspn(p, "\n");

			buf_printf(&out, "#| %.*s\n", (int) n, p);
			p += n + (p[n] == '\n');
		}
	}
#else
	(void) verbose;
#endif
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
}

/* run_controls - what the rc script left in the controls mvmda reads */
static void
run_controls(struct mfl_run *run)
{
	struct value v;

	if (mfl_run_get_control(run, "mvmda_default_mailbox", &v) == 0 && v.u.s.len > 0)
		mda.default_mailbox = arena_memdup(mda.arena, v.u.s.ptr, v.u.s.len);
	if (mfl_run_get_control(run, "mvmda_lock_timeout", &v) == 0)
		mda.locking.timeout = (int) v.u.i;
	if (mfl_run_get_control(run, "mvmda_stale_lock", &v) == 0)
		mda.locking.stale = (int) v.u.i;
}

/* preline - MSG without the Return-Path and Delivered-To lines qmail's
 * preline(1) puts on top for this delivery (exactly $RPLINE and
 * $DTLINE, under its From_ line, which the message model sets apart):
 * the rc script adds the same lines as for a delivery without preline,
 * so the copy carries one of each and preline's Delivered-To is not
 * taken for a loop (one for this address below them still is). MSG
 * itself when it has none; NULL (errno) when memory runs out. A big
 * message (mapped, message.c) is not copied for it */
static struct msg *
preline(struct msg *msg)
{
	const char *lines[2] = { getenv("RPLINE"), getenv("DTLINE") };
	size_t len, off = 0;
	const char *data = msg_data(msg, &len);
	struct msg *rest;
	char *copy;

	if (strcmp(mda.mta, "qmail") != 0)
		return msg;
	for (int i = 0; i < 2; i++) {
		size_t n = lines[i] != NULL ? strlen(lines[i]) : 0;

		if (n > 0 && lines[i][n - 1] == '\n' && len - off >= n
		    && memcmp(data + off, lines[i], n) == 0)
			off += n;
	}
	if (off == 0)
		return msg;
	if (mda.mail.file_map != NULL) {
		/* a big message's mapping lives as long as the process: the
		 * rest of it, in place, not copied */
		if ((rest = msg_from_mem(data + off, len - off, (size_t) 256 << 20)) == NULL)
			return NULL;
	} else if ((copy = malloc(len - off + 1)) == NULL) {
		return NULL;
	} else {
		memcpy(copy, data + off, len - off);
		if ((rest = msg_from_mem(copy, len - off, (size_t) 256 << 20)) == NULL) {
			free(copy);
			return NULL;
		}
	}
	mda_log(LOG_DEBUG, "preline's Return-Path and Delivered-To taken off (the rc "
		"script adds its own)");
	msg_free(msg);
	return rest;	/* COPY lives as long as the process */
}

/* interactive_rc - -i: the rc script's top level run first, so its
 * namespaces and settings are there as at a delivery; the scripts it
 * names are compiled (reported if they do not), not run, and what it
 * decided is dropped; -1 when it does not compile */
static int
interactive_rc(void)
{
	const char *rc_path;
	struct mfl_run *run;

	if ((mda.rc = setup_rc_compile(&mda, &rc_path)) == NULL)
		return -1;
	if ((run = mfl_run_new(mda.rc)) == NULL || rc_publish(&mda, run) < 0) {
		mda_log(LOG_ERR, "out of memory");
		return -1;
	}
	mda.rc_run = run;
	mda.check = 1;
	if (mfl_run_main(run) < 0)
		fprintf(stderr, "rc script: %s\n", mfl_run_error(run));
	mda.check = 0;
	action_list_init(&mda.actions);
	return 0;
}

/* options - the command line into MDA; the scripts named stay in argv */
static int
options(int argc, char **argv, int *version, char *obsolete)
{
	int c;

	while ((c = getopt(argc, argv, "a:bcd:D:e:E:f:g:ij:l:L:m:npqr:s:St:vVx:")) != -1) {
		switch (c) {
		case 'D': service.socket_path = optarg; break;
		case 'L': opt_lmtp = optarg; break;
		case 'g': service.group = optarg; opt_group = 1; break;
		case 'j': service.max_children = atoi(optarg); break;
		case 't': service.timeout = atoi(optarg); opt_timeout = 1; break;
		case 'x': mda.delimiter = optarg; break;
		case 'a': opt_recipient = optarg; break;
		case 'f': opt_sender = optarg; break;
		case 'b': mda.builtin = 1; break;
		case 'c': mda.check = 1; break;
		case 'd': mda.user = optarg; break;
		case 'e': mda.opt_e[mda.n_e++] = optarg; break;
		case 'E': mda.opt_E[mda.n_E++] = optarg; break;
		case 'i': mda.interactive = 1; break;
		case 'm': mda.default_mailbox = optarg; break;
		case 'n': mda.test = 1; break;
		case 'p': mda.pass = 1; break;
		case 'S': mda.sieve = 1; break;
		case 'v': printf("%s\n", PACKAGE_VERSION); exit(0);
		case 'V': (*version)++; break;
		case 'l': case 'q': case 'r': case 's':
			if (!strchr(obsolete, c)) {
				size_t n = strlen(obsolete);

				obsolete[n] = (char) c;
				obsolete[n + 1] = 0;
			}
			break;
		default:
			usage(stderr, EX_TEMPFAIL);
		}
	}
	return optind;
}

/* deliver_main - a delivery: the account, the envelope, the rc script,
 * the message on stdin, the scripts, the delivery; exits with its code */
static void __attribute__((noreturn))
deliver_main(int version)
{
	const char *rc_path = setup_rc_file();
	int ret;
	struct mfl_run *run;
	struct buf edited = BUF_INIT;
	struct msg *filtered;

	if (mda.user != NULL)	/* in the LMTP service, its keeper became them */
		setup_user(mda.user, NULL, -1);
	if (mda.username == NULL)	/* the keeper found the account already */
		setup_account(&mda);
	setup_envelope(&mda, opt_sender, opt_recipient);
	if (lmtp_child)
		mda.mta = "lmtp";	/* its Return-Path is on top already */
	if (mda.env == NULL)	/* the LMTP service made it, and compiled the rc script */
		setup_env(&mda, "MDA");
	setup_env_user(&mda);
	action_list_init(&mda.actions);
	if (version) {
		print_version(setup_rc_file(), version);
		exit(0);
	}
	if (mda.interactive)
		exit(interactive_rc() < 0 ? 1 : interactive(&mda));
	if (mda.rc == NULL && (mda.rc = setup_rc_compile(&mda, &rc_path)) == NULL)
		exit(mda.check ? 1 : EX_TEMPFAIL);
	if ((run = mfl_run_new(mda.rc)) == NULL || rc_publish(&mda, run) < 0) {
		mda_log(LOG_ERR, "out of memory");
		exit(EX_TEMPFAIL);
	}
	mda.rc_run = run;
	if (mda.check) {
		mda.msg = msg_from_mem("", 0, 1 << 20);
		mfl_run_set_message(run, mda.msg);
		if (mfl_run_main(run) < 0) {
			fprintf(stderr, "%s\n", mfl_run_error(run));
			mda.errors++;
		}
		if (mda.errors == 0)
			printf("%s: ok\n", rc_path);
		setup_rc_cache_check(&mda, rc_path);
		exit(mda.errors ? 1 : 0);
	}
	if ((mda.msg = mda_read_message(&mda.mail, 0, mda.home)) == NULL
	    || (mda.msg = preline(mda.msg)) == NULL) {
		mda_log(LOG_ERR, "cannot read the message: %s", strerror(errno));
		mda_exit(EX_TEMPFAIL);
	}
	mda.mail.data = msg_data(mda.msg, &mda.mail.len);
	mda.mail.came = mda.mail.data;
	mda.mail.came_len = mda.mail.len;
	if (mda.mail.len == 0) {
		/* nothing at all is no message: a broken pipe from the MTA */
		mda_log(LOG_ERR, "to=<%s> result=deferred: the MTA handed over an empty "
			"message (nothing on standard input)", mda.recipient);
		mda_exit(EX_TEMPFAIL);
	}
	mda.mail.sender = mda.sender;
	mda.mail.recipient = mda.recipient;
	mda.mail.arrived = time(NULL);
	mfl_run_set_message(run, mda.msg);
	if (mda_loop(&mda)) {
		mda_log(LOG_NOTICE, "to=<%s> result=bounced: mail forwarding loop", mda.recipient);
		printf("mail forwarding loop for <%s>: the message already has "
		       "Delivered-To: %s\n", mda.recipient, mda.recipient);
		mda_exit(EX_UNAVAILABLE);
	}
	if (mfl_run_hook(run, "msg_read_after", NULL, 0, NULL) < 0 || mfl_run_main(run) < 0) {
		mda_script_error(&mda, "runtime", mfl_run_error(run));
		mda_log(LOG_ERR, "rc script: %s; keeping the message", mfl_run_error(run));
		action_list_init(&mda.actions);
		mda_keep_default(&mda);
	} else if (mda_merge(&mda, mfl_run_actions(run), mda.scripts_run == 0) < 0) {
		mda_log(LOG_ERR, "out of memory");
		mda_exit(EX_TEMPFAIL);
	}
	if ((filtered = mfl_run_take_message(run)) != NULL && mda_adopt_message(&mda, filtered) < 0) {
		mda_log(LOG_ERR, "out of memory");
		mda_exit(EX_TEMPFAIL);
	}
	run_controls(run);
	rc_user_log(run);	/* as the top level left it: where mail went */
	/* RFC 5293: what editheader left is what is stored and sent on */
	switch (msg_edited(mda.msg, &edited)) {
	case -1:
		mda_log(LOG_ERR, "out of memory");
		mda_exit(EX_TEMPFAIL);
	case 1:
		mda.mail.data = edited.data;
		mda.mail.len = edited.len;
		break;
	}
	if (mda.test) {
		struct buf out = BUF_INIT;

		deliver_print(&mda, &out);
		deliver_status(&mda, &out);
		fwrite(out.data, 1, out.len, stdout);
		buf_free(&out);
		exit(mda.error_phase != NULL ? 1 : 0);
	}
	ret = deliver_all(&mda);
	state_finish(ret == 0);	/* duplicate ids count once delivered */
	mda_exit(ret);
}

/* lmtp_prepare - in the LMTP service, before each message: the rc
 * script compiled once (as root, as mvmda -c would), again when it
 * changed on disk, so the deliveries forked from here start from it;
 * NSS's modules loaded, so they do not load them each. 1 when it was
 * compiled again */
static int
lmtp_prepare(void *ctx)
{
	struct mda *m = ctx;

	if (m->env == NULL) {
		gid_t groups[64];
		int n = 64;

		setup_env(m, "MDA");
		(void) getpwnam("root");
		(void) getgrouplist("root", 0, groups, &n);
	}
	return decide_prepare(m, 0);
}

/* lmtp_route - the LMTP service's: the account RCPT is delivered to, as
 * the SMTP-time service finds it; -2 for root's */
static int
lmtp_route(void *ctx, const char *rcpt, char *name, size_t size)
{
	struct service_request req = { .recipient = rcpt };

	if (decide_route(ctx, &req, name, size) == 0)
		return 0;
	return decide_is_root(ctx, rcpt) ? -2 : -1;
}

/* lmtp_become - in USER's keeper: be them (with the groups the route
 * found), with their account and environment, as each delivery will */
static void
lmtp_become(void *ctx, const char *user)
{
	const gid_t *groups;
	int n = decide_groups(user, &groups);

	(void) ctx;
	setup_user(user, groups, n);
	setup_account(&mda);
	setup_env_user(&mda);
}

/* lmtp_learn - in a keeper: a script its delivery compiled or loaded
 * ("SIEVE CACHED PATH", rc.c), compiled here as the delivery did and
 * kept while its files are unchanged, for the next deliveries to
 * inherit */
static void
lmtp_learn(void *ctx, const char *line)
{
	struct buf errors = BUF_INIT;
	struct mfl_prog *prog;
	int sieve, cached, off = 0;

	(void) ctx;
	if (sscanf(line, "%d %d %n", &sieve, &cached, &off) < 2 || off == 0
	    || progcache_get(line + off, sieve) != NULL)
		return;
	prog = cached ? mfl_compile_cached(mda.env, line + off, sieve, &errors)
	    : mfl_compile_file(mda.env, line + off, sieve, &errors);
	buf_free(&errors);
	if (prog != NULL && progcache_put(line + off, sieve, prog) < 0)
		mfl_prog_free(prog);
}

/* lmtp_deliver - in a child of the account's keeper, the message on
 * stdin: deliver as "mvmda -d USER -f SENDER -a RCPT" would, naming on
 * LEARN_FD the scripts the keeper does not hold yet */
static void
lmtp_deliver(void *ctx, const char *user, const char *sender, const char *rcpt, int learn_fd)
{
	(void) ctx;
	lmtp_child = 1;
	mda.learn_fd = learn_fd;
	mda.user = user;
	opt_sender = sender;
	opt_recipient = rcpt;
	deliver_main(0);
}

int
main(int argc, char **argv)
{
	char obsolete[8] = "";
	int version = 0, ret, tty;

	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(stdout, 0);
	if (argc > 1 && strcmp(argv[1], "--version") == 0)
		return printf("mvmda %s\n", PACKAGE_VERSION) < 0;
	if (!MDA_STATIC_LIBC) {
		twin_forget();
		if (argc == 2 && strcmp(argv[1], "--charset-service") == 0)
			return twin_charset_serve();
	}
	log_open("mvmda", (tty = isatty(2)));
	mda.opt_e = calloc((size_t) argc, sizeof(char *));
	mda.opt_E = calloc((size_t) argc, sizeof(char *));
	if (mda.opt_e == NULL || mda.opt_E == NULL)
		exit(EX_TEMPFAIL);
	mda.delimiter = "+";	/* -x: Debian's Postfix recipient_delimiter */
	ret = options(argc, argv, &version, obsolete);
	if (MDA_STATIC_LIBC) {
		/* twin.c: what needs the user database is mvmda-dynamic's */
		if (service.socket_path != NULL || opt_lmtp != NULL || mda.user != NULL
		    || geteuid() == 0 || !setup_account_given())
			twin_exec(argv);
		charset_set_converter(twin_charset);
	}
	mda.args = argv + ret;
	mda.nargs = argc - ret;
	log_open("mvmda", tty || mda.check || mda.interactive || mda.test);
	for (const char *o = obsolete; *o; o++)
		mda_log(LOG_NOTICE, "option -%c is obsolete and ignored", *o);
	log_set_id(getenv("QUEUE_ID"));
	if (service.socket_path != NULL) {
		if (service.timeout < 1 || service.max_children < 1 || mda.user != NULL) {
			mda_log(LOG_ERR, "-D: -t and -j must be at least 1, and -d has no place");
			exit(EX_USAGE);
		}
		log_open_service("mvmda");
		setup_env(&mda, "MTA");	/* the rc script is compiled once, here */
		exit(service_main(&service, &(struct service_calls) {
			.route = decide_route, .prepare = decide_prepare,
			.become = decide_become, .decide = decide, .ctx = &mda }));
	}
	if (opt_lmtp != NULL) {
		if (service.timeout < 1 || service.max_children < 1 || mda.user != NULL
		    || service.socket_path != NULL) {
			mda_log(LOG_ERR, "-L: -t and -j must be at least 1; -d and -D have no place");
			exit(EX_USAGE);
		}
		log_open_service("mvmda");
		lmtp_prepare(&mda);
		exit(lmtp_main(&(struct lmtp_opts) {
			.spec = opt_lmtp, .group = opt_group ? service.group : "postfix",
			.max_conns = service.max_children,
			.timeout = opt_timeout ? service.timeout : 600,
			.route = lmtp_route, .prepare = lmtp_prepare, .become = lmtp_become,
			.deliver = lmtp_deliver, .learn = lmtp_learn, .ctx = &mda }));
	}
	deliver_main(version);
}

