/*
 * setup - what every mvmda run does before the rc script: the account
 * (-d, then who we are), the envelope from the options or the MTA's
 * environment, the language's environment with mvmda's controls,
 * variables, $functions and callbacks (folders, special-use, lists,
 * duplicate ids), and the rc script compiled. A delivery (main.c) and
 * a decision for mvmtr (decide.c) start alike from here.
 *
 * DIAGNOSTICS: exits like the delivery would, before anything is read:
 * EX_NOUSER for an unknown -d user, EX_TEMPFAIL when the user cannot be
 * become or memory runs out; a rc script that does not compile is
 * logged with file:line and left to the caller (NULL).
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
#include <unistd.h>

#include "log.h"
#include "mda.h"
#include "mfl.h"
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

/* script_log - $log from any script */
static void
script_log(void *ctx, const char *msg, size_t len)
{
	(void) ctx;
	mda_log(LOG_INFO, "script: %.*s", (int) len, msg);
}

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
sieve_dir(struct mda *m)
{
	char dir[4096];
	struct stat st;

	if (m->home == NULL || *mfl_env_get_string(m->env, "mfl_sieve_dir"))
		return;
	snprintf(dir, sizeof(dir), "%s/sieve", m->home);
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		mfl_env_set_string(m->env, "mfl_sieve_dir", dir);
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

/* setup_user - -d USER: become them when root, with NGROUPS GROUPS as
 * their supplementary groups when a service found them already (else,
 * NGROUPS -1, as NSS says); else be them already */
void
setup_user(const char *user, const gid_t *groups, int ngroups)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		mda_log(LOG_ERR, "-d %s: no such user", user);
		exit(EX_NOUSER);
	}
	if (geteuid() == 0 && pw->pw_uid != 0) {
		if ((ngroups >= 0 ? setgroups((size_t) ngroups, groups)
		     : initgroups(pw->pw_name, pw->pw_gid)) < 0 || setgid(pw->pw_gid) < 0
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

/* plain_name - NAME could be an account's: 1 to 64 bytes of letters,
 * digits, '.', '_', '-' (and '$' at the end, as Samba's are) */
static int
plain_name(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > 64 || name[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char) name[i]) && !strchr("._-", name[i])
		    && !(name[i] == '$' && i == n - 1))
			return 0;
	return 1;
}

/* own_dir - HOME is an absolute path to a directory UID owns */
static int
own_dir(const char *home, uid_t uid)
{
	struct stat st;

	return home != NULL && *home == '/' && stat(home, &st) == 0
	    && S_ISDIR(st.st_mode) && st.st_uid == uid;
}

/* setup_account_given - setup_account() will take the account from the
 * environment as it is, with no lookup (NSS) */
int
setup_account_given(void)
{
	uid_t uid = getuid();

	return uid != 0 && plain_name(getenv("USER")) && own_dir(getenv("HOME"), uid);
}

/* setup_account - the user delivered to and their home: the account of the
 * real uid (after -d, the -d user). The environment's USER and HOME are
 * taken only when they belong to that uid (a qmail alias or virtual
 * user names another account of the same uid, or another home it owns):
 * whoever starts mvmda cannot make it deliver as someone else. As an
 * MTA starts us (not root, HOME a directory the uid owns, USER a plain
 * name) both are taken as they are, with no account lookup: USER is
 * then only the name scripts see, which the invoker could give any
 * script anyway, and the lookup (NSS: nsswitch.conf, nscd, the password
 * file) was a tenth of a small delivery's own time */
void
setup_account(struct mda *m)
{
	const char *user = getenv("USER"), *home = getenv("HOME");
	uid_t uid = getuid();
	struct passwd *pw;
	int own_home = own_dir(home, uid);

	if (own_home && uid != 0 && plain_name(user))
		m->username = strdup(user);
	else if (user != NULL && *user && (pw = getpwnam(user)) != NULL && pw->pw_uid == uid)
		m->username = strdup(user);	/* one lookup when USER is the uid's */
	else
		m->username = (pw = getpwuid(uid)) ? strdup(pw->pw_name) : "nobody";
	if (own_home)
		m->home = strdup(home);
	else if ((pw = getpwuid(uid)) != NULL)	/* the uid's own, not USER's */
		m->home = strdup(pw->pw_dir);
	else
		m->home = "/";
	if (m->username == NULL || m->home == NULL) {
		mda_log(LOG_ERR, "out of memory");
		exit(EX_TEMPFAIL);
	}
	setenv("USER", m->username, 1);
	setenv("HOME", m->home, 1);
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

/* setup_envelope - sender, recipient and MTA: -f and -a (the arguments of a
 * Sendmail mailer, as procmail and dovecot-lda take them), else the
 * MTA's environment */
void
setup_envelope(struct mda *m, const char *opt_sender, const char *opt_recipient)
{
	const char *s = opt_sender ? opt_sender : getenv("SENDER");
	const char *r = opt_recipient ? opt_recipient : getenv("RECIPIENT");

	m->mta = mta();
	m->sender = s ? s : "";
	if (strcmp(m->sender, "<>") == 0 || strcmp(m->sender, "#@[]") == 0)
		m->sender = "";	/* the null sender, as qmail and Sendmail say it */
	else if (m->sender[0] == '<' && m->sender[strlen(m->sender) - 1] == '>'
		 && (s = strndup(m->sender + 1, strlen(m->sender) - 2)) != NULL)
		m->sender = s;		/* <a@example.org> as a@example.org */
	m->recipient = r && *r ? r : m->username;
}

/* setup_rc_file - $MVMDA_RC, else the admin's rc script in /etc, else (when
 * there is none) the packaged default */
const char *
setup_rc_file(void)
{
	const char *path = getenv("MVMDA_RC");
	struct stat st;

	if (path != NULL && *path)
		return path;
	if (lstat(MVMDA_RC, &st) < 0 && errno == ENOENT)
		return MVMDA_RC_DEFAULT;
	return MVMDA_RC;
}

/* setup_rc_compile - the rc script (or the built-in one); NULL after errors */
struct mfl_prog *
setup_rc_compile(struct mda *m, const char **path_r)
{
	const char *path = setup_rc_file();
	struct buf errors = BUF_INIT;
	struct mfl_prog *prog;

	*path_r = path;
	if (m->builtin) {
#ifdef WITH_BUILTIN_RC
		*path_r = "builtin:mvmda-rc.mfl";
		prog = mfl_compile_mem(m->env, *path_r, mda_builtin_rc, strlen(mda_builtin_rc), 0, &errors);
#else
		mda_log(LOG_ERR, "-b: this mvmda was built without --enable-builtin-rc");
		exit(EX_TEMPFAIL);
#endif
	} else if (!mfl_env_get_int(m->env, "mvmda_cache")) {
		prog = mfl_compile_file(m->env, path, 0, &errors);
	} else {
		/* a system script's cache goes to MVMDA_CACHE_DIR, not
		 * beside it in /etc or /usr */
		prog = mfl_compile_cached_in(m->env, path, 0, MVMDA_CACHE_DIR, &errors);
	}
	if (prog == NULL)
		log_errors(errors.data, m->check, "rc script: ");
	buf_free(&errors);
	return prog;
}

/* setup_rc_cache_check - -c: say when the compiled rc script at PATH
 * cannot be kept in MVMDA_CACHE_DIR (missing, or not ours to write), as
 * every delivery then compiles it again; a warning, not an error */
void
setup_rc_cache_check(const struct mda *m, const char *path)
{
	struct stat st;

	if (m->builtin || !mfl_env_get_int(m->env, "mvmda_cache") || stat(path, &st) < 0
	    || st.st_uid != 0 || access(MVMDA_CACHE_DIR, W_OK) == 0)
		return;
	fprintf(stderr, "mvmda: warning: %s: %s: the compiled rc script cannot be cached there, "
		"so every delivery compiles it (make install makes the directory; "
		"mvmda -c as root writes the cache)\n", MVMDA_CACHE_DIR, strerror(errno));
}

/* setup_env - the language's environment for this delivery (or decision,
 * at LOCATION "MTA"): mvmda's controls, variables, $functions and
 * callbacks, what the rc script is compiled with; the user's part is
 * setup_env_user's. Exits EX_TEMPFAIL when memory runs out */
void
setup_env(struct mda *m, const char *location)
{
	m->locking.timeout = 60;
	m->locking.stale = 600;
	if ((m->env = mfl_env_new()) == NULL || rc_setup(m) < 0
	    || (m->arena = arena_create((size_t) 1 << 30)) == NULL) {
		mda_log(LOG_ERR, "out of memory");
		exit(EX_TEMPFAIL);
	}
	mfl_env_set_log(m->env, script_log, NULL);
	if (mfl_env_set_include_dir(m->env, MVMDA_DATA_DIR) < 0) {
		mda_log(LOG_ERR, "out of memory");
		exit(EX_TEMPFAIL);
	}
	mfl_env_set_mailbox_exists(m->env, mailbox_exists, m);
	mfl_env_set_specialuse(m->env, specialuse, m);
	mfl_env_set_extlist(m->env, extlist, m);
	mfl_env_set_duplicate(m->env, duplicate, m);
	if (mfl_env_environment_defaults(m->env, location, "during") < 0) {
		mda_log(LOG_ERR, "out of memory");
		exit(EX_TEMPFAIL);
	}
	if (m->sieve)
		mfl_env_set_int(m->env, "mfl_mode_sieve", 1);
}

/* setup_env_user - what the environment says of the account (after
 * setup_account): where Sieve's include finds personal scripts, and
 * vnd.dovecot.environment's items (mfl(7) environment) */
void
setup_env_user(struct mda *m)
{
	sieve_dir(m);
	mfl_env_set_account(m->env, m->username, m->home);
	if (m->default_mailbox == NULL)
		m->default_mailbox = "INBOX";
	if (mfl_env_set_environment(m->env, "vnd.dovecot.default-mailbox", m->default_mailbox) < 0
	    || (m->username != NULL
		&& mfl_env_set_environment(m->env, "vnd.dovecot.username", m->username) < 0)) {
		mda_log(LOG_ERR, "out of memory");
		exit(EX_TEMPFAIL);
	}
}

