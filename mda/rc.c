/*
 * rc - what mvmda gives the rc script and the scripts it runs: its
 * controls (printed by -V), host variables (the options, the envelope,
 * the account), and $functions: $namespace to map folders, $script_run
 * to run a user's script (its actions join the delivery), $getenv,
 * $file_exists, $received_ips for $hook_msg_read_after, $header_prepend
 * for the lines every delivery carries on top (Delivered-To), and
 * $controls to see the controls as MFL.
 *
 * Nothing here touches a mailbox: actions are collected into the
 * process's list (mda_merge, copying what they point to) and carried
 * out by deliver.c after the rc script is done.
 *
 * DIAGNOSTICS: runtime errors for a bad namespace, a header line that
 * is not one, and memory; a user script that does not compile is
 * logged with file:line and the message goes to the default mailbox.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mda.h"
#include "mfl.h"
#include "msg/msg.h"
#include "progcache.h"
#include "received.h"

/* cstr - a string value as a C string (run copies end in a NUL), or
 * NULL when it holds one */
static const char *
cstr(struct mfl_run *run, const struct value *v)
{
	struct value c;

	if (memchr(v->u.s.ptr, 0, v->u.s.len) != NULL || run_str(run, v->u.s.ptr, v->u.s.len, &c) < 0)
		return NULL;
	return c.u.s.ptr;
}

/* rc_only - a runtime error unless RUN is the rc script's own (or -i's):
 * a user's script may not map folders, run scripts (itself, forever),
 * add header lines or read the MTA's environment */
static int
rc_only(const struct mda *mda, struct mfl_run *run, const struct site *site)
{
	if (run == mda->rc_run || mda->interactive)
		return 0;
	return run_error(run, site, "$%s is for the rc script only (mvmda-sysrc(5))",
			 site->intr->name);
}

/* rc_user_log - the log file $mvmda_logfile names in RUN (the rc
 * script's), from now on */
void
rc_user_log(struct mfl_run *run)
{
	struct value v;
	char path[4096] = "";

	if (run != NULL && mfl_run_get_control(run, "mvmda_logfile", &v) == 0 && v.type == V_STR
	    && v.u.s.len < sizeof(path) && memchr(v.u.s.ptr, 0, v.u.s.len) == NULL)
		snprintf(path, sizeof(path), "%.*s", (int) v.u.s.len, v.u.s.ptr);
	log_user_file(path);
}

/* $namespace(prefix, layout, root, type, sep [, inbox]) */
static int
namespace_run(struct mfl_run *run, const struct site *site, struct value *args,
	      struct value *ret)
{
	struct mda *mda = mfl_run_host_data(run);
	const char *s[6] = { NULL };
	char err[256];

	if (rc_only(mda, run, site) < 0)
		return -1;
	for (int i = 0; i < site->npos; i++)
		if ((s[i] = cstr(run, &args[i])) == NULL)
			return run_error(run, site, "$namespace: argument %d holds a NUL", i + 1);
	if (ns_add(&mda->ns, s[0], s[1], s[2], s[3], s[4], s[5], err, sizeof(err)) < 0)
		return run_error(run, site, "$namespace: %s", err);
	*ret = value_int(0);
	return 0;
}

static const struct intrinsic intr_namespace = {
	.name = "namespace", .kind = INTR_FUNCTION, .args = "sssss?s",
	.ret = TYPE_INT, .run = namespace_run,
};

/* $specialuse(flag, folder): RFC 8579's special-use FLAG ("\\Junk")
 * is FOLDER's, for fileinto :specialuse and specialuse_exists */
static int
specialuse_run(struct mfl_run *run, const struct site *site, struct value *args,
	       struct value *ret)
{
	struct mda *mda = mfl_run_host_data(run);
	const char *flag, *folder;
	int i;

	if (rc_only(mda, run, site) < 0)
		return -1;
	if ((flag = cstr(run, &args[0])) == NULL || !mfl_specialuse_flag_ok(flag, strlen(flag)))
		return run_error(run, site, "$specialuse: \"%.*s\" is not a special-use flag (RFC 6154)",
				 (int) (args[0].u.s.len > 40 ? 40 : args[0].u.s.len), args[0].u.s.ptr);
	if ((folder = cstr(run, &args[1])) == NULL || !*folder)
		return run_error(run, site, "$specialuse: bad folder name");
	for (i = 0; i < mda->nspecialuse && strcasecmp(mda->specialuse[i].flag, flag) != 0; i++)
		;
	if (i == MDA_SPECIALUSE_MAX)
		return run_error(run, site, "$specialuse: more than %d flags", MDA_SPECIALUSE_MAX);
	if (i == mda->nspecialuse) {
		if ((mda->specialuse[i].flag = strdup(flag)) == NULL)
			return run_error(run, site, "out of memory");
		mda->nspecialuse++;
	}
	free(mda->specialuse[i].folder);
	if ((mda->specialuse[i].folder = strdup(folder)) == NULL)
		return run_error(run, site, "out of memory");
	*ret = value_int(0);
	return 0;
}

/* $environment(name, value): the environment item NAME (RFC 5183) is
 * VALUE for the user's script, as Dovecot's sieve_env_NAME publishes
 * "vnd.dovecot.config.NAME" */
static int
environment_run(struct mfl_run *run, const struct site *site, struct value *args,
		struct value *ret)
{
	struct mda *mda = mfl_run_host_data(run);
	const char *name, *value;

	if (rc_only(mda, run, site) < 0)
		return -1;
	if ((name = cstr(run, &args[0])) == NULL || !*name || (value = cstr(run, &args[1])) == NULL)
		return run_error(run, site, "$environment: a NUL or an empty name");
	if (mfl_env_set_environment(mda->env, name, value) < 0)
		return run_error(run, site, "$environment: too many items");
	*ret = value_int(0);
	return 0;
}

static const struct intrinsic intr_environment_item = {
	.name = "environment", .kind = INTR_FUNCTION, .args = "ss",
	.ret = TYPE_INT, .run = environment_run,
};

/* $extlist(name, path): the list NAME (an RFC 6134 list name, as
 * ":addrbook:friends") is the file PATH: one entry a line, blank lines
 * and '#' comments left out, white space around an entry too */
static int
extlist_run(struct mfl_run *run, const struct site *site, struct value *args,
	    struct value *ret)
{
	struct mda *mda = mfl_run_host_data(run);
	const char *name, *path;
	char line[1024];
	FILE *f;
	int i;

	if (rc_only(mda, run, site) < 0)
		return -1;
	if ((name = cstr(run, &args[0])) == NULL || !*name || (path = cstr(run, &args[1])) == NULL)
		return run_error(run, site, "$extlist: a NUL or an empty name");
	for (i = 0; i < mda->nextlists && strcmp(mda->extlists[i].name, name) != 0; i++)
		;
	if (i == MDA_EXTLISTS_MAX)
		return run_error(run, site, "$extlist: more than %d lists", MDA_EXTLISTS_MAX);
	if ((f = fopen(path, "r")) == NULL)
		return run_error(run, site, "$extlist: %s: %s", path, strerror(errno));
	if (i == mda->nextlists) {
		if ((mda->extlists[i].name = strdup(name)) == NULL) {
			fclose(f);
			return run_error(run, site, "out of memory");
		}
		mda->nextlists++;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s = line, *e, **more;

		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strcspn(s, "\r\n");
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = 0;
		if (!*s || *s == '#')
			continue;
		more = realloc(mda->extlists[i].items, (mda->extlists[i].n + 1) * sizeof(*more));
		if (more == NULL || (more[mda->extlists[i].n] = strdup(s)) == NULL) {
			if (more != NULL)
				mda->extlists[i].items = more;
			fclose(f);
			return run_error(run, site, "out of memory");
		}
		mda->extlists[i].items = more;
		mda->extlists[i].n++;
	}
	if (ferror(f)) {
		fclose(f);
		return run_error(run, site, "$extlist: %s: read error", path);
	}
	fclose(f);
	*ret = value_int((int64_t) mda->extlists[i].n);
	return 0;
}

static const struct intrinsic intr_extlist = {
	.name = "extlist", .kind = INTR_FUNCTION, .args = "ss",
	.ret = TYPE_INT, .run = extlist_run,
};

static const struct intrinsic intr_specialuse = {
	.name = "specialuse", .kind = INTR_FUNCTION, .args = "ss",
	.ret = TYPE_INT, .run = specialuse_run,
};

/* compile_script - PATH compiled (cached when allowed); errors logged */
static struct mfl_prog *
compile_script(struct mda *mda, struct mfl_run *run, const char *path)
{
	struct buf errors = BUF_INIT;
	struct mfl_prog *prog;
	struct value v;
	int sieve = -1, cached;

	if (mfl_run_get_control(run, "mfl_mode_sieve", &v) == 0 && v.u.i)
		sieve = 1;
	/* an SMTP-time worker keeps what it compiled (progcache.c); an
	 * LMTP delivery finds what its keeper holds, and names to it what
	 * it does not */
	if ((mda->decision != NULL || mda->learn_fd > 0)
	    && (prog = progcache_get(path, sieve)) != NULL)
		return prog;
	cached = mfl_run_get_control(run, "mvmda_cache", &v) == 0 && v.u.i && !mda->check;
	prog = cached ? mfl_compile_cached(mda->env, path, sieve, &errors)
	    : mfl_compile_file(mda->env, path, sieve, &errors);
	if (prog == NULL) {
		mda->errors++;
		mda_script_error(mda, "compile", errors.data ? errors.data : path);
		log_errors(errors.data, mda->check, "");
	} else if (mda->decision != NULL) {
		progcache_put(path, sieve, prog);
	} else if (mda->learn_fd > 0 && strchr(path, '\n') == NULL) {
		(void) !dprintf(mda->learn_fd, "%d %d %s\n", sieve, cached, path);
	}
	buf_free(&errors);
	return prog;
}

/* $script_run(path): 1 when the script decided, 0 after its runtime
 * error (implicit keep), -1 when it does not compile (default mailbox) */
static int
script_run_run(struct mfl_run *run, const struct site *site, struct value *args,
	       struct value *ret)
{
	struct mda *mda = mfl_run_host_data(run);
	const char *path = cstr(run, &args[0]);
	struct mfl_prog *prog;
	struct mfl_run *sub;
	struct msg *filtered;
	int ok;

	if (rc_only(mda, run, site) < 0)
		return -1;
	if (path == NULL)
		return run_error(run, site, "$script_run: path holds a NUL");
	rc_user_log(run);	/* the script's lines go to the user's log */
	if ((prog = compile_script(mda, run, path)) == NULL) {
		*ret = value_int(-1);
		mda->scripts_run++;
		return mda->check ? 0 : mda_keep_default(mda) < 0
		    ? run_error(run, site, "out of memory") : 0;
	}
	*ret = value_int(1);
	if (mda->check) {
		if (!progcache_owns(prog))
			mfl_prog_free(prog);
		return 0;
	}
	/* the admin's program directories, as the rc script set them */
	/* and the controls it set are the user's script's to start with */
	if ((sub = mfl_run_new(prog)) == NULL || rc_publish(mda, sub) < 0
	    || mfl_run_inherit_controls(sub, run) < 0
	    || mfl_env_programs_from(mda->env, run) < 0) {
		mfl_run_free(sub);
		if (!progcache_owns(prog))
			mfl_prog_free(prog);
		return run_error(run, site, "$script_run: out of memory");
	}
	mda->user_run = sub;	/* what it decided so far: -D's first_read */
	ok = mfl_run_main(sub);
	mda->user_run = NULL;
	if (ok < 0) {
		mda_script_error(mda, "runtime", mfl_run_error(sub));
		mda_log(LOG_ERR, "%s; keeping the message", mfl_run_error(sub));
		*ret = value_int(0);
	}
	ok = mda_merge(mda, mfl_run_actions(sub), 1);
	if (ok == 0 && (filtered = mfl_run_take_message(sub)) != NULL) {
		ok = mda_adopt_message(mda, filtered);
		mda_log(LOG_INFO, "to=<%s> the message is a filter program's output from now "
			"on (%zu bytes)", mda->recipient, mda->mail.len);
	}
	mda->scripts_run++;
	mfl_run_free(sub);
	if (!progcache_owns(prog))
		mfl_prog_free(prog);
	return ok < 0 ? run_error(run, site, "$script_run: out of memory") : 0;
}

static const struct intrinsic intr_script_run = {
	.name = "script_run", .kind = INTR_FUNCTION, .args = "s",
	.ret = TYPE_INT, .run = script_run_run,
};

/* $getenv(name): the environment variable, or "" */
static int
getenv_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	const char *name, *v;

	if (rc_only(mfl_run_host_data(run), run, site) < 0)
		return -1;
	name = cstr(run, &args[0]);
	v = name ? getenv(name) : NULL;
	*ret = value_str(v ? v : "", v ? strlen(v) : 0);
	return 0;
}

static const struct intrinsic intr_getenv = {
	.name = "getenv", .kind = INTR_FUNCTION, .args = "s",
	.ret = TYPE_STRING, .run = getenv_run,
};

/* $file_exists(path): 1 for a regular file this user can read */
static int
file_exists_run(struct mfl_run *run, const struct site *site, struct value *args,
		struct value *ret)
{
	const char *path = cstr(run, &args[0]);
	struct stat st;

	(void) site;
	*ret = value_int(path && stat(path, &st) == 0 && S_ISREG(st.st_mode)
			 && access(path, R_OK) == 0);
	return 0;
}

static const struct intrinsic intr_file_exists = {
	.name = "file_exists", .kind = INTR_FUNCTION, .args = "s",
	.ret = TYPE_INT, .run = file_exists_run,
};

/* $received_ips(): the public IPs of the Received: chain, newest first */
static int
received_ips_run(struct mfl_run *run, const struct site *site, struct value *args,
		 struct value *ret)
{
	struct mda *mda = mfl_run_host_data(run);
	char ips[32][RECEIVED_IP_MAX];
	const char *items[32];
	struct hdr_index *index = mda->msg ? msg_headers(mda->msg) : NULL;
	size_t n = index ? received_ips(index, ips, 32) : 0;

	(void) args;
	for (size_t i = 0; i < n; i++)
		items[i] = ips[i];
	if (mfl_run_strarr(run, items, n, ret) < 0)
		return run_error(run, site, "memory limit reached");
	return 0;
}

static const struct intrinsic intr_received_ips = {
	.name = "received_ips", .kind = INTR_FUNCTION, .args = "",
	.ret = TYPE_ARRAY(TYPE_STRING), .run = received_ips_run,
};

/* $header_prepend(name, value): "Name: value" on top of every copy
 * delivered; line ends in VALUE become folds */
static int
header_prepend_run(struct mfl_run *run, const struct site *site, struct value *args,
		   struct value *ret)
{
	struct mda *mda = mfl_run_host_data(run);
	const char *name = args[0].u.s.ptr, *v = args[1].u.s.ptr;
	size_t nlen = args[0].u.s.len, vlen = args[1].u.s.len;

	(void) ret;
	if (rc_only(mda, run, site) < 0)
		return -1;
	if (nlen == 0)
		return run_error(run, site, "$header_prepend: empty field name");
	for (size_t i = 0; i < nlen; i++)
		if ((unsigned char) name[i] <= 32 || (unsigned char) name[i] >= 127 || name[i] == ':')
			return run_error(run, site, "$header_prepend: \"%.*s\" is not a field name",
					 (int) nlen, name);
	buf_append(&mda->mail.head, name, nlen);
	buf_puts(&mda->mail.head, ": ");
	for (size_t i = 0; i < vlen; i++) {
		if (v[i] == '\r' || v[i] == 0)
			continue;
		buf_putc(&mda->mail.head, v[i]);
		if (v[i] == '\n')
			buf_putc(&mda->mail.head, '\t');
	}
	buf_putc(&mda->mail.head, '\n');
	return 0;
}

static const struct intrinsic intr_header_prepend = {
	.name = "header_prepend", .kind = INTR_FUNCTION, .args = "ss",
	.ret = TYPE_VOID, .run = header_prepend_run,
};

/* $controls(): the run's controls as MFL, as -V prints them */
static int
controls_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	struct buf out = BUF_INIT;
	int ok;

	(void) args;
	mfl_run_print_controls(run, &out);
	ok = run_str(run, out.data ? out.data : "", out.len, ret);
	buf_free(&out);
	return ok < 0 ? run_error(run, site, "memory limit reached") : 0;
}

static const struct intrinsic intr_controls = {
	.name = "controls", .kind = INTR_FUNCTION, .args = "",
	.ret = TYPE_STRING, .run = controls_run,
};

static const struct intrinsic *const mda_intrinsics[] = {
	&intr_namespace, &intr_specialuse, &intr_environment_item, &intr_extlist,
	&intr_script_run, &intr_getenv, &intr_file_exists,
	&intr_received_ips, &intr_header_prepend, &intr_controls,
};

static const struct {
	const char *name;
	int type;
	const char *doc;
} mda_vars[] = {
	{ "USER", MFL_CONTROL_STRING, "the user delivered to" },
	{ "HOME", MFL_CONTROL_STRING, "their home directory" },
	{ "SENDER", MFL_CONTROL_STRING, "envelope sender, \"\" for <>" },
	{ "RECIPIENT", MFL_CONTROL_STRING, "envelope recipient" },
	{ "MTA", MFL_CONTROL_STRING, "\"postfix\", \"qmail\", \"exim\" or \"\"" },
	{ "DECISION", MFL_CONTROL_STRING, "\"rcpt\" or \"data\" when mvmtr asks during SMTP (-D), \"\" at delivery" },
	{ "LOCAL", MFL_CONTROL_STRING, "qmail-local's LOCAL (\"\" under other MTAs)" },
	{ "HOST", MFL_CONTROL_STRING, "qmail-local's HOST" },
	{ "HOST2", MFL_CONTROL_STRING, "qmail-local's HOST2" },
	{ "HOST3", MFL_CONTROL_STRING, "qmail-local's HOST3" },
	{ "HOST4", MFL_CONTROL_STRING, "qmail-local's HOST4" },
	{ "EXT", MFL_CONTROL_STRING, "qmail-local's EXT" },
	{ "EXT2", MFL_CONTROL_STRING, "qmail-local's EXT2" },
	{ "EXT3", MFL_CONTROL_STRING, "qmail-local's EXT3" },
	{ "EXT4", MFL_CONTROL_STRING, "qmail-local's EXT4" },
	{ "DTLINE", MFL_CONTROL_STRING, "qmail-local's DTLINE" },
	{ "RPLINE", MFL_CONTROL_STRING, "qmail-local's RPLINE" },
	{ "UFLINE", MFL_CONTROL_STRING, "qmail-local's UFLINE" },
	{ "NEWSENDER", MFL_CONTROL_STRING, "qmail-local's NEWSENDER" },
	{ "Args", MFL_CONTROL_STRARR, "the scripts named on the command line" },
	{ "Opts_e", MFL_CONTROL_STRARR, "-e strings" },
	{ "Opts_E", MFL_CONTROL_STRARR, "-E strings" },
	{ "Opts_eL", MFL_CONTROL_INT, "length of $Opts_e, 1 when empty" },
	{ "Opts_EL", MFL_CONTROL_INT, "length of $Opts_E, 1 when empty" },
	{ "Opts_eC", MFL_CONTROL_INT, "number of -e strings" },
	{ "Opts_EC", MFL_CONTROL_INT, "number of -E strings" },
	{ "Opts_b", MFL_CONTROL_INT, "-b: the built-in rc script runs" },
	{ "Opts_c", MFL_CONTROL_INT, "-c: check mode" },
	{ "Opts_n", MFL_CONTROL_INT, "-n: test mode" },
	{ "Opts_p", MFL_CONTROL_INT, "-p: pass-through" },
	{ "Opts_d", MFL_CONTROL_STRING, "-d user" },
	{ "Opts_m", MFL_CONTROL_STRING, "-m default mailbox" },
};

/* rc_setup - mvmda's controls, variables and $functions into the env */
int
rc_setup(struct mda *mda)
{
	struct mfl_env *env = mda->env;

	if (mfl_env_add_programs(env) < 0
	    || mfl_env_add_control(env, "mvmda_default_mailbox", MFL_CONTROL_STRING, 0,
				mda->default_mailbox ? mda->default_mailbox : "INBOX",
				"where keep and implicit keep deliver (-m)") < 0
	    || mfl_env_add_control(env, "mvmda_sendmail", MFL_CONTROL_STRING, 0,
				   "/usr/sbin/sendmail", "the program redirect and reject hand mail to") < 0
	    || mfl_env_add_control(env, "mvmda_lock_timeout", MFL_CONTROL_INT, 60, NULL,
				   "seconds to wait for an mbox lock before a temporary failure") < 0
	    || mfl_env_add_control(env, "mvmda_stale_lock", MFL_CONTROL_INT, 600, NULL,
				   "seconds after which an mbox dot-lock is a crashed writer's") < 0
	    || mfl_env_add_control(env, "mvmda_cache", MFL_CONTROL_INT, 1, NULL,
				   "keep compiled scripts beside them as SCRIPT.mflc") < 0
	    || mfl_env_add_control(env, "mvmda_state", MFL_CONTROL_STRING, 0, "",
				   "the user's state file (duplicate); \"\": ~/.mvmda.state") < 0
	    || mfl_env_add_control(env, "mvmda_logfile", MFL_CONTROL_STRING, 0, "",
				   "a log file of the user's own (\"\": none)") < 0)
		return -1;
	/* the hooks mvmda calls, so a script's are checked when compiled
	 * (mvmda -c) rather than failing at every delivery */
	if (mfl_env_add_hook(env, "exitcode", "i") < 0
	    || mfl_env_add_hook(env, "msg_read_after", "") < 0)
		return -1;
	for (size_t i = 0; i < sizeof(mda_vars) / sizeof(mda_vars[0]); i++)
		if (mfl_env_add_var(env, mda_vars[i].name, mda_vars[i].type, mda_vars[i].doc) < 0)
			return -1;
	for (size_t i = 0; i < sizeof(mda_intrinsics) / sizeof(mda_intrinsics[0]); i++)
		if (mfl_env_add_intrinsic(env, mda_intrinsics[i]) < 0)
			return -1;
	return intr_dnsbl_register(env);
}

/* set_str, set_int - one host variable of RUN */
static int
set_str(struct mfl_run *run, const char *name, const char *s)
{
	struct value v = value_str(s ? s : "", s ? strlen(s) : 0);

	return mfl_run_set_var(run, name, &v);
}

static int
set_int(struct mfl_run *run, const char *name, int64_t i)
{
	struct value v = value_int(i);

	return mfl_run_set_var(run, name, &v);
}

/* set_arr - a string[] host variable of RUN */
static int
set_arr(struct mfl_run *run, const char *name, const char *const *items, size_t n)
{
	struct value v;

	return mfl_run_strarr(run, items, n, &v) < 0 ? -1 : mfl_run_set_var(run, name, &v);
}

/* set_opts - -e or -E strings; one "" when there were none, so the
 * array's length ($Opts_eL) is 1 and $Opts_e[0] can always be read */
static int
set_opts(struct mfl_run *run, const char *name, const char **items, size_t n)
{
	static const char *const none[] = { "" };

	return n ? set_arr(run, name, items, n) : set_arr(run, name, none, 1);
}

/* qmail_vars - what qmail-local(8) sets for a delivery program (its
 * environment, exactly), as variables of every script; "" for each
 * under another MTA */
static int
qmail_vars(struct mda *mda, struct mfl_run *run)
{
	static const char *const names[] = {
		"LOCAL", "HOST", "HOST2", "HOST3", "HOST4", "EXT", "EXT2", "EXT3", "EXT4",
		"DTLINE", "RPLINE", "UFLINE", "NEWSENDER",
	};
	int qmail = mda->mta != NULL && strcmp(mda->mta, "qmail") == 0, rc = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		rc |= set_str(run, names[i], qmail ? getenv(names[i]) : "");
	return rc;
}

/* rc_publish - give RUN the message, the envelope and every variable */
int
rc_publish(struct mda *mda, struct mfl_run *run)
{
	mfl_run_set_host_data(run, mda);
	if (mda->msg != NULL)
		mfl_run_set_message(run, mda->msg);
	if (mfl_run_set_envelope(run, mda->sender, mda->recipient) < 0
	    || mfl_run_set_orig_recipient(run, getenv("ORIGINAL_RECIPIENT")) < 0)
		return -1;
	return set_str(run, "USER", mda->username) | set_str(run, "HOME", mda->home)
	    | set_str(run, "SENDER", mda->sender) | set_str(run, "RECIPIENT", mda->recipient)
	    | set_str(run, "MTA", mda->mta) | qmail_vars(mda, run)
	    | set_str(run, "DECISION", mda->decision)
	    | set_arr(run, "Args", (const char *const *) mda->args, (size_t) mda->nargs)
	    | set_opts(run, "Opts_e", mda->opt_e, mda->n_e) | set_opts(run, "Opts_E", mda->opt_E, mda->n_E)
	    | set_int(run, "Opts_eL", mda->n_e ? (int64_t) mda->n_e : 1)
	    | set_int(run, "Opts_EL", mda->n_E ? (int64_t) mda->n_E : 1)
	    | set_int(run, "Opts_eC", (int64_t) mda->n_e) | set_int(run, "Opts_EC", (int64_t) mda->n_E)
	    | set_int(run, "Opts_b", mda->builtin) | set_int(run, "Opts_c", mda->check)
	    | set_int(run, "Opts_n", mda->test) | set_int(run, "Opts_p", mda->pass)
	    | set_str(run, "Opts_d", mda->user) | set_str(run, "Opts_m", mda->default_mailbox);
}
