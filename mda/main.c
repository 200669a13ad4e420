/*
 * mvmda - the local delivery agent: one message on stdin, the envelope
 * from the MTA's environment, the system rc script deciding what runs
 * (mvmda-sysrc(5)), delivery into Maildir, Maildir++ and mbox, an exit
 * code the MTA understands ($hook_exitcode translates it).
 *
 * This file is the driver: options, the account (-d), the envelope, the
 * rc script, the modes (-c, -i, -n, -V), and the order of things: read
 * the message, refuse a loop, $hook_msg_read_after, the rc script's top
 * level (which runs the user's scripts), then deliver.c.
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

#include "log.h"
#include "mda.h"
#include "mfl.h"
#include "msg/msg.h"
#include "service.h"
#include "state.h"

#ifndef MVMDA_RC
#define MVMDA_RC	"/etc/mvmf/mvmda-rc.mfl"
#endif
#ifndef MVMDA_RC_DEFAULT
#define MVMDA_RC_DEFAULT "/usr/share/mvmf/mvmda/mvmda-rc.mfl"
#endif
#ifndef MVMDA_DATA_DIR
#define MVMDA_DATA_DIR	"/usr/share/mvmf/mvmda"
#endif
#ifndef MVMDA_CACHE_DIR
#define MVMDA_CACHE_DIR	"/var/cache/mvmf"
#endif

#ifdef WITH_BUILTIN_RC
extern const char mda_builtin_rc[];
#endif

static struct mda mda;
static const char *opt_sender, *opt_recipient;	/* -f, -a */
static struct service_opts service = {	/* -D -g -j -t */
	.group = "mvmtr", .timeout = 2, .max_children = 32, .memory = (size_t) 512 << 20,
};
static const char *opt_delimiter = "+";	/* -x */

/* usage - how to call it, on OUT; exits with CODE */
static void
usage(FILE *out, int code)
{
	fprintf(out, "usage: mvmda [-bcinpSvV] [-d user] [-f sender] [-a recipient] [-e string]\n"
		"             [-E string] [-m default-mailbox] [script ...]\n"
		"       mvmda -D unix:socket [-g group] [-j max] [-t seconds] [-x delimiter]\n");
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

/* script_log - $log from any script */
static void
script_log(void *ctx, const char *msg, size_t len)
{
	(void) ctx;
	mda_log(LOG_INFO, "script: %.*s", (int) len, msg);
}

/* switch_user - -d USER: become them when root; else be them already */
/* duplicate - RFC 7352: seen before? (state.c, in $mvmda_state) */
static int
duplicate(void *ctx, struct mfl_run *run, const char *key, size_t len,
	  int64_t seconds, int last)
{
	struct mda *m = ctx;
	char path[4096], err[512];
	struct buf k = BUF_INIT;
	int r = -1;

	(void) run;
	if (m->decision != NULL) {
		/* deciding writes nothing: whether it is a duplicate is the
		 * delivery's to say */
		m->uncertain = 1;
		return 0;
	}
	mda_state_path(m, path, sizeof(path));
	buf_putc(&k, 'd');	/* duplicate ids; "v" is vacation's */
	buf_append(&k, key, len);
	if (!k.failed && (r = state_duplicate(path, k.data, k.len, seconds, last, err,
					      sizeof(err))) < 0)
		mda_log(LOG_ERR, "to=<%s> duplicate: %s", m->recipient ? m->recipient : "", err);
	buf_free(&k);
	return r;
}

/* sieve_dir - Sieve include's personal scripts: ~/sieve when it is a
 * directory (where Dovecot users keep them), else the including
 * script's own directory */
static void
sieve_dir(void)
{
	char dir[4096];
	struct stat st;

	if (mda.home == NULL || *mfl_env_get_string(mda.env, "mfl_sieve_dir"))
		return;
	snprintf(dir, sizeof(dir), "%s/sieve", mda.home);
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		mfl_env_set_string(mda.env, "mfl_sieve_dir", dir);
}

/* mailbox_exists - RFC 5490 mailboxexists: the folder NAME resolves in
 * the namespaces and is there */
static int
mailbox_exists(void *ctx, const char *name, size_t len)
{
	struct mda *m = ctx;
	struct folder folder;
	char err[256];

	return ns_resolve(&m->ns, name, len, &folder, err, sizeof(err)) == 0 && folder.exists;
}

/* specialuse - RFC 8579: the folder the rc script gave FLAG, or NULL */
static const char *
specialuse(void *ctx, const char *flag, size_t len)
{
	struct mda *m = ctx;

	for (int i = 0; i < m->nspecialuse; i++)
		if (strlen(m->specialuse[i].flag) == len
		    && strncasecmp(m->specialuse[i].flag, flag, len) == 0)
			return m->specialuse[i].folder;
	return NULL;
}

/* extlist - RFC 6134: VAL (any case) is on the rc script's list LIST: 1,
 * 0, or -1 when there is no such list; VAL NULL: whether it exists */
static int
extlist(void *ctx, const char *list, size_t llen, const char *val, size_t vlen)
{
	struct mda *m = ctx;

	for (int i = 0; i < m->nextlists; i++) {
		if (strlen(m->extlists[i].name) != llen || memcmp(m->extlists[i].name, list, llen) != 0)
			continue;
		for (size_t k = 0; val != NULL && k < m->extlists[i].n; k++)
			if (strlen(m->extlists[i].items[k]) == vlen
			    && strncasecmp(m->extlists[i].items[k], val, vlen) == 0)
				return 1;
		return 0;
	}
	return -1;
}

static void
switch_user(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		mda_log(LOG_ERR, "-d %s: no such user", user);
		exit(EX_NOUSER);
	}
	if (geteuid() == 0 && pw->pw_uid != 0) {
		if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0
		    || setuid(pw->pw_uid) < 0) {
			mda_log(LOG_ERR, "-d %s: cannot become them: %s", user, strerror(errno));
			exit(EX_TEMPFAIL);
		}
		if (setuid(0) == 0) {	/* must not be able to return */
			mda_log(LOG_ERR, "-d %s: root privileges could be regained", user);
			exit(EX_TEMPFAIL);
		}
	} else if (geteuid() != pw->pw_uid) {
		mda_log(LOG_ERR, "-d %s: only root may deliver as another user", user);
		exit(EX_TEMPFAIL);
	}
	setenv("HOME", pw->pw_dir, 1);
	setenv("USER", pw->pw_name, 1);
	setenv("LOGNAME", pw->pw_name, 1);
	if (chdir(pw->pw_dir) < 0)
		chdir("/");
}

/* account - the user delivered to and their home: the account of the
 * real uid (after -d, the -d user). The environment's USER and HOME are
 * taken only when they belong to that uid (a qmail alias or virtual
 * user names another account of the same uid, or another home it owns):
 * whoever starts mvmda cannot make it deliver as someone else */
static void
account(void)
{
	struct passwd *pw = getpwuid(getuid()), *named;
	const char *user = getenv("USER"), *home = getenv("HOME");
	struct stat st;

	if (user != NULL && *user && (named = getpwnam(user)) != NULL
	    && named->pw_uid == getuid())
		mda.username = strdup(user);
	else
		mda.username = pw ? strdup(pw->pw_name) : "nobody";
	if (home != NULL && *home == '/' && stat(home, &st) == 0 && S_ISDIR(st.st_mode)
	    && st.st_uid == getuid())
		mda.home = strdup(home);
	else
		mda.home = pw ? strdup(pw->pw_dir) : "/";
	if (mda.username == NULL || mda.home == NULL) {
		mda_log(LOG_ERR, "out of memory");
		exit(EX_TEMPFAIL);
	}
	setenv("USER", mda.username, 1);
	setenv("HOME", mda.home, 1);
}

/* mta - which MTA started us, by what each really sets: qmail-local
 * DTLINE and RPLINE; Postfix's local(8) RECIPIENT, LOCAL and
 * ORIGINAL_RECIPIENT; Exim's pipe transport RECIPIENT with LOCAL_PART
 * and QUALIFY_DOMAIN; "" for anything else (Sendmail passes arguments) */
static const char *
mta(void)
{
	if (getenv("DTLINE") != NULL && getenv("RPLINE") != NULL)
		return "qmail";
	if (getenv("RECIPIENT") != NULL && (getenv("LOCAL_PART") != NULL
					    || getenv("QUALIFY_DOMAIN") != NULL))
		return "exim";
	if (getenv("RECIPIENT") != NULL && getenv("LOCAL") != NULL
	    && getenv("ORIGINAL_RECIPIENT") != NULL)
		return "postfix";
	return "";
}

/* envelope - sender, recipient and MTA: -f and -a (the arguments of a
 * Sendmail mailer, as procmail and dovecot-lda take them), else the
 * MTA's environment */
static void
envelope(void)
{
	const char *s = opt_sender ? opt_sender : getenv("SENDER");
	const char *r = opt_recipient ? opt_recipient : getenv("RECIPIENT");

	mda.mta = mta();
	mda.sender = s ? s : "";
	if (strcmp(mda.sender, "<>") == 0 || strcmp(mda.sender, "#@[]") == 0)
		mda.sender = "";	/* the null sender, as qmail and Sendmail say it */
	else if (mda.sender[0] == '<' && mda.sender[strlen(mda.sender) - 1] == '>'
		 && (s = strndup(mda.sender + 1, strlen(mda.sender) - 2)) != NULL)
		mda.sender = s;		/* <a@example.org> as a@example.org */
	mda.recipient = r && *r ? r : mda.username;
}

/* rc_file - $MVMDA_RC, else the admin's rc script in /etc, else (when
 * there is none) the packaged default */
static const char *
rc_file(void)
{
	const char *path = getenv("MVMDA_RC");
	struct stat st;

	if (path != NULL && *path)
		return path;
	if (lstat(MVMDA_RC, &st) < 0 && errno == ENOENT)
		return MVMDA_RC_DEFAULT;
	return MVMDA_RC;
}

/* rc_compile - the rc script (or the built-in one); NULL after errors */
static struct mfl_prog *
rc_compile(const char **path_r)
{
	const char *path = rc_file();
	struct buf errors = BUF_INIT;
	struct mfl_prog *prog;

	*path_r = path;
	if (mda.builtin) {
#ifdef WITH_BUILTIN_RC
		*path_r = "builtin:mvmda-rc.mfl";
		prog = mfl_compile_mem(mda.env, *path_r, mda_builtin_rc, strlen(mda_builtin_rc), 0, &errors);
#else
		mda_log(LOG_ERR, "-b: this mvmda was built without --enable-builtin-rc");
		exit(EX_TEMPFAIL);
#endif
	} else if (!mfl_env_get_int(mda.env, "mvmda_cache")) {
		prog = mfl_compile_file(mda.env, path, 0, &errors);
	} else {
		/* a system script's cache goes to MVMDA_CACHE_DIR, not
		 * beside it in /etc or /usr */
		prog = mfl_compile_cached_in(mda.env, path, 0, MVMDA_CACHE_DIR, &errors);
	}
	if (prog == NULL)
		log_errors(errors.data, mda.check, "rc script: ");
	buf_free(&errors);
	return prog;
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
 * itself when it has none; NULL (errno) when memory runs out */
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
	if ((copy = malloc(len - off + 1)) == NULL)
		return NULL;
	memcpy(copy, data + off, len - off);
	if ((rest = msg_from_mem(copy, len - off, (size_t) 256 << 20)) == NULL) {
		free(copy);
		return NULL;
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

	if ((mda.rc = rc_compile(&rc_path)) == NULL)
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

/* setup - the language's environment for this delivery (or decision,
 * at LOCATION "MTA"): mvmda's controls, variables, $functions and
 * callbacks; exits EX_TEMPFAIL when memory runs out */
static void
setup(const char *location)
{
	mda.locking.timeout = 60;
	mda.locking.stale = 600;
	if ((mda.env = mfl_env_new()) == NULL || rc_setup(&mda) < 0
	    || (mda.arena = arena_create((size_t) 1 << 30)) == NULL) {
		mda_log(LOG_ERR, "out of memory");
		exit(EX_TEMPFAIL);
	}
	mfl_env_set_log(mda.env, script_log, NULL);
	if (mfl_env_set_include_dir(mda.env, MVMDA_DATA_DIR) < 0) {
		mda_log(LOG_ERR, "out of memory");
		exit(EX_TEMPFAIL);
	}
	mfl_env_set_mailbox_exists(mda.env, mailbox_exists, &mda);
	mfl_env_set_specialuse(mda.env, specialuse, &mda);
	mfl_env_set_extlist(mda.env, extlist, &mda);
	mfl_env_set_duplicate(mda.env, duplicate, &mda);
	sieve_dir();
	if (mfl_env_environment_defaults(mda.env, location, "during") < 0) {
		mda_log(LOG_ERR, "out of memory");
		exit(EX_TEMPFAIL);
	}
	if (mda.sieve)
		mfl_env_set_int(mda.env, "mfl_mode_sieve", 1);
	if (mda.default_mailbox == NULL)
		mda.default_mailbox = "INBOX";
	/* vnd.dovecot.environment's items (mfl(7) environment) */
	if (mfl_env_set_environment(mda.env, "vnd.dovecot.default-mailbox", mda.default_mailbox) < 0
	    || (mda.username != NULL
		&& mfl_env_set_environment(mda.env, "vnd.dovecot.username", mda.username) < 0)) {
		mda_log(LOG_ERR, "out of memory");
		exit(EX_TEMPFAIL);
	}
}

/* one_line - TEXT (LEN bytes) as one printable line of at most 400
 * bytes on OUT: line breaks and tabs become spaces */
static void
one_line(struct buf *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len && i < 400; i++) {
		unsigned char c = (unsigned char) text[i];

		buf_putc(out, c == '\r' || c == '\n' || c == '\t' ? ' ' : c < 0x20 || c == 0x7f ? '?' : c);
	}
}

/* refusal - the first reject (or ereject) in LIST as an answer line on
 * OUT; 0, or -1 when LIST has none */
static int
refusal(const struct action_list *list, struct buf *out)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct action *a = &list->v[i];

		if (a->kind != ACT_REJECT)
			continue;
		buf_printf(out, "reject %s %s ", a->code && *a->code ? a->code : "550",
			   a->xcode && *a->xcode ? a->xcode : "5.7.1");
		if (a->target_len > 0)
			one_line(out, a->target, a->target_len);
		else
			buf_puts(out, "Message refused by the recipient's filter");
		buf_putc(out, '\n');
		return 0;
	}
	return -1;
}

/* first_read - before DATA, a script reads the message there is not:
 * the answer is "data", unless it had refused already (a refusal on
 * the envelope stands; what follows it cannot take the mail back) */
static void
first_read(void *ctx)
{
	struct mda *m = ctx;
	struct buf line = BUF_INIT;

	m->touched = 1;
	if (refusal(&m->actions, &line) == 0
	    || (m->user_run != NULL && refusal(mfl_run_actions(m->user_run), &line) == 0))
		snprintf(m->early, sizeof(m->early), "%s", buf_cstr(&line));
	buf_free(&line);
}

/* decision_answer - what the run decided, as the service's answer: a
 * refusal when a script rejected (RFC 5429: ereject and reject refuse
 * at the protocol level when they can), "data" when it read the message
 * before there was one, accept otherwise */
static void
decision_answer(struct buf *answer)
{
	if (strcmp(mda.decision, "rcpt") == 0 && mda.touched) {
		buf_puts(answer, *mda.early ? mda.early : "data\n");
		return;
	}
	if (mda.error_phase != NULL) {
		buf_printf(answer, "error %s error: ", mda.error_phase);
		one_line(answer, mda.error_message ? mda.error_message : "",
			 mda.error_message ? strlen(mda.error_message) : 0);
		buf_putc(answer, '\n');
		return;
	}
	if (mda.uncertain) {
		buf_puts(answer, "accept\n");	/* the delivery will tell */
		return;
	}
	if (refusal(&mda.actions, answer) < 0)
		buf_puts(answer, "accept\n");
}

/* decision_user - the account REQ's recipient is delivered to, as
 * Postfix's local(8) finds it: the local part in lower case, without
 * its extension (-x); its parts into the environment local(8) sets */
static struct passwd *
decision_user(const struct service_request *req)
{
	const char *at = strrchr(req->recipient, '@');
	size_t len = at != NULL ? (size_t) (at - req->recipient) : strlen(req->recipient);
	char local[256], *ext;

	if (len == 0 || len >= sizeof(local))
		return NULL;
	for (size_t i = 0; i < len; i++)
		local[i] = (char) tolower((unsigned char) req->recipient[i]);
	local[len] = 0;
	setenv("LOCAL", local, 1);
	setenv("DOMAIN", at != NULL ? at + 1 : "", 1);
	ext = *opt_delimiter ? strpbrk(local, opt_delimiter) : NULL;
	if (ext != NULL) {
		setenv("EXTENSION", ext + 1, 1);
		*ext = 0;
	}
	return getpwnam(local);
}

/* decide - the answer to mvmtr's REQ, in a child of the service: the
 * rc script and the recipient's scripts run as that user, as they will
 * at delivery, with the envelope (before DATA) or the message (after),
 * in decision mode: nothing is delivered, sent or written */
static void
decide(const struct service_request *req, struct buf *answer)
{
	struct passwd *pw;
	struct mfl_run *run;
	const char *rc_path;
	char why[256], name[256];

	log_set_id(*req->queue_id ? req->queue_id : NULL);
	if ((pw = decision_user(req)) == NULL || pw->pw_uid == 0) {
		buf_puts(answer, "unknown\n");	/* an alias, a virtual user, root */
		return;
	}
	setenv("SENDER", req->sender, 1);
	setenv("RECIPIENT", req->recipient, 1);
	setenv("ORIGINAL_RECIPIENT", req->recipient, 1);
	setenv("CLIENT_ADDRESS", req->client, 1);
	setenv("CLIENT_HOSTNAME", req->client_name, 1);
	setenv("CLIENT_HELO", req->helo, 1);
	setenv("QUEUE_ID", req->queue_id, 1);
	snprintf(name, sizeof(name), "%s", pw->pw_name);	/* getpwnam's buffer is reused */
	switch_user(name);
	if (service_confine(why, sizeof(why)) < 0)
		mda_log(LOG_DEBUG, "%s", why);
	account();
	envelope();
	mda.decision = req->phase;
	setup("MTA");
	mfl_env_set_decision(mda.env, &mda.uncertain);
	if ((*req->client && mfl_env_set_environment(mda.env, "remote-ip", req->client) < 0)
	    || (*req->client_name
		&& mfl_env_set_environment(mda.env, "remote-host", req->client_name) < 0)) {
		buf_puts(answer, "error out of memory\n");
		return;
	}
	action_list_init(&mda.actions);
	if ((mda.rc = rc_compile(&rc_path)) == NULL) {
		buf_puts(answer, "error the rc script does not compile\n");
		return;
	}
	mda.msg = req->message != NULL ? msg_from_mem(req->message, req->message_len, (size_t) 256 << 20)
	    : msg_from_mem("", 0, 1 << 20);
	if (mda.msg == NULL || (mda.msg = mda_lf_only(mda.msg)) == NULL
	    || (run = mfl_run_new(mda.rc)) == NULL || rc_publish(&mda, run) < 0) {
		buf_puts(answer, "error out of memory\n");
		return;
	}
	mda.rc_run = run;
	if (req->message != NULL && mda_loop(&mda)) {
		buf_puts(answer, "accept\n");	/* the delivery bounces the loop */
		return;
	}
	if (req->message == NULL)
		msg_watch(mda.msg, first_read, &mda);
	if ((req->message != NULL && mfl_run_hook(run, "msg_read_after", NULL, 0, NULL) < 0)
	    || mfl_run_main(run) < 0)
		mda_script_error(&mda, "runtime", mfl_run_error(run));
	else if (mda_merge(&mda, mfl_run_actions(run), mda.scripts_run == 0) < 0)
		mda_script_error(&mda, "runtime", "out of memory");
	msg_watch(mda.msg, NULL, NULL);
	decision_answer(answer);
	mda_log(LOG_INFO, "to=<%s> decision %s: %.*s", req->recipient, req->phase,
		(int) (answer->len > 0 ? answer->len - 1 : 0), answer->data ? answer->data : "");
}

/* options - the command line into MDA; the scripts named stay in argv */
static int
options(int argc, char **argv, int *version, char *obsolete)
{
	int c;

	while ((c = getopt(argc, argv, "a:bcd:D:e:E:f:g:ij:l:m:npqr:s:St:vVx:")) != -1) {
		switch (c) {
		case 'D': service.socket_path = optarg; break;
		case 'g': service.group = optarg; break;
		case 'j': service.max_children = atoi(optarg); break;
		case 't': service.timeout = atoi(optarg); break;
		case 'x': opt_delimiter = optarg; break;
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

int
main(int argc, char **argv)
{
	const char *rc_path;
	char obsolete[8] = "";
	int version = 0, ret;
	struct mfl_run *run;
	struct buf edited = BUF_INIT;
	struct msg *filtered;

	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(stdout, 0);
	if (argc > 1 && strcmp(argv[1], "--version") == 0)
		return printf("mvmda %s\n", PACKAGE_VERSION) < 0;
	log_open("mvmda", isatty(2));
	mda.opt_e = calloc((size_t) argc, sizeof(char *));
	mda.opt_E = calloc((size_t) argc, sizeof(char *));
	if (mda.opt_e == NULL || mda.opt_E == NULL)
		exit(EX_TEMPFAIL);
	ret = options(argc, argv, &version, obsolete);
	mda.args = argv + ret;
	mda.nargs = argc - ret;
	log_open("mvmda", isatty(2) || mda.check || mda.interactive || mda.test);
	for (const char *o = obsolete; *o; o++)
		mda_log(LOG_NOTICE, "option -%c is obsolete and ignored", *o);
	log_set_id(getenv("QUEUE_ID"));
	if (service.socket_path != NULL) {
		if (service.timeout < 1 || service.max_children < 1 || mda.user != NULL) {
			mda_log(LOG_ERR, "-D: -t and -j must be at least 1, and -d has no place");
			exit(EX_USAGE);
		}
		log_open("mvmda", 1);	/* a service: its stderr is its log too */
		exit(service_main(&service, decide));
	}
	if (mda.user != NULL)
		switch_user(mda.user);
	account();
	envelope();
	setup("MDA");
	action_list_init(&mda.actions);
	if (version) {
		print_version(rc_file(), version);
		exit(0);
	}
	if (mda.interactive)
		exit(interactive_rc() < 0 ? 1 : interactive(&mda));
	if ((mda.rc = rc_compile(&rc_path)) == NULL)
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
		exit(mda.errors ? 1 : 0);
	}
	if ((mda.msg = msg_read_fd(0, 0, (size_t) 256 << 20)) == NULL
	    || (mda.msg = mda_lf_only(mda.msg)) == NULL || (mda.msg = preline(mda.msg)) == NULL) {
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
