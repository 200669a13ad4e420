/*
 * env - what a host gives the language: controls (named settings, read
 * and set from MFL as $name, printed back as MFL by -V), and services
 * such as the log. One env serves every compile and run of a host; a run
 * copies the controls' values when it starts, so a script that sets a
 * control changes only its own run until the host copies it back.
 *
 * The language's own controls (mode and limits) are made by
 * mfl_env_new(); hosts add theirs with mfl_env_add_control(). Host
 * variables (mfl_env_add_var) live in the same table: a script reads
 * them like controls but cannot assign them, the host gives each run
 * its values (mfl_run_set_var), and -V does not print them.
 *
 * DIAGNOSTICS: -1 with errno EINVAL (unknown control, wrong type, value
 * out of range), EEXIST, ENOSPC or ENOMEM.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "env.h"
#include "mflapi.h"
#include "msg/buf.h"
#include "msg/str.h"

/* The language's controls, the first in every env (so the limits are
 * read by index): name, default, range, what it does. */
enum {
	LC_MODE_SIEVE, LC_INSTRUCTIONS, LC_MEMORY, LC_CALL_DEPTH, LC_INCLUDE_DEPTH,
	LC_ACTIONS, LC_REDIRECTS, LC_SCRIPT_SIZE, LC_COUNT
};
static const struct {
	const char *name;
	int64_t value, min, max;
	const char *doc;
} language_controls[LC_COUNT] = {
	[LC_MODE_SIEVE] = { "mfl_mode_sieve", 0, 0, 1,
			    "read scripts in Sieve mode (RFC 5228) whatever their name" },
	[LC_INSTRUCTIONS] = { "mfl_limit_instructions", 10000000, 1000, INT64_MAX,
			      "VM instructions and matcher steps one run may take" },
	[LC_MEMORY] = { "mfl_limit_memory", 64 << 20, 65536, INT64_MAX,
			"bytes one run may allocate" },
	[LC_CALL_DEPTH] = { "mfl_limit_call_depth", 100, 1, 10000, "nested function calls" },
	[LC_INCLUDE_DEPTH] = { "mfl_limit_include_depth", 10, 1, 100, "nested includes" },
	[LC_ACTIONS] = { "mfl_limit_actions", 32, 1, 100000, "actions one run may collect" },
	[LC_REDIRECTS] = { "mfl_limit_redirects", 4, 0, 10000,
			   "redirect actions one run may collect" },
	[LC_SCRIPT_SIZE] = { "mfl_limit_script_size", 1 << 20, 1024, INT64_MAX,
			     "bytes of one script file" },
};

_Static_assert(ENV_CONTROLS_MAX < 255 && ENV_CONTROL_SLOTS > ENV_CONTROLS_MAX,
	       "control_slots holds index + 1 in a byte and is never full");

/* control_added - the newest control becomes findable by name */
static void
control_added(struct mfl_env *env)
{
	struct mfl_control *c = &env->controls[env->ncontrols];
	uint32_t slot = str_hash(STR_HASH_INIT, c->name, c->name_len = strlen(c->name));

	while (env->control_slots[slot % ENV_CONTROL_SLOTS] != 0)
		slot++;
	env->control_slots[slot % ENV_CONTROL_SLOTS] = (uint8_t) (env->ncontrols + 1);
	env->ncontrols++;
}

/* mfl_env_new - an env with the language's controls at their defaults */
struct mfl_env *
mfl_env_new(void)
{
	struct mfl_env *env = calloc(1, sizeof(*env));

	if (env == NULL)
		return NULL;
	for (size_t i = 0; i < LC_COUNT; i++) {
		struct mfl_control *c = &env->controls[env->ncontrols];

		c->name = language_controls[i].name;
		c->type = MFL_CONTROL_INT;
		c->i = language_controls[i].value;
		c->min = language_controls[i].min;
		c->max = language_controls[i].max;
		c->doc = language_controls[i].doc;
		control_added(env);
	}
	if (mfl_env_add_control(env, "mfl_subaddress_separator", MFL_CONTROL_STRING,
				0, "+", "characters that separate :user from :detail") < 0
	    || mfl_env_add_control(env, "mfl_spamtest_header", MFL_CONTROL_STRING, 0,
				   "X-Spam-Score", "header holding the spam score (spamtest), "
				   "optionally \": regex\" whose first group is the score") < 0
	    || mfl_env_add_control(env, "mfl_spamtest_type", MFL_CONTROL_STRING, 0,
				   "score", "score: the first number; strlen: its length; "
				   "text: its N in $mfl_spamtest_text") < 0
	    || mfl_env_add_control(env, "mfl_spamtest_max", MFL_CONTROL_INT, 10, NULL,
				   "the score that means certainly spam") < 0
	    || mfl_env_add_control(env, "mfl_spamtest_max_header", MFL_CONTROL_STRING, 0,
				   "", "header (\": regex\") holding the maximum score, "
				   "rather than $mfl_spamtest_max") < 0
	    || mfl_env_add_control(env, "mfl_spamtest_text", MFL_CONTROL_STRING, 0,
				   "", "type text: \"N=verdict|N=verdict\", N from 0 to 10") < 0
	    || mfl_env_add_control(env, "mfl_virustest_header", MFL_CONTROL_STRING, 0,
				   "X-Virus-Score", "header holding the virus score (virustest), "
				   "optionally \": regex\" whose first group is the score") < 0
	    || mfl_env_add_control(env, "mfl_virustest_type", MFL_CONTROL_STRING, 0,
				   "score", "score: the first number; strlen: its length; "
				   "text: its N in $mfl_virustest_text") < 0
	    || mfl_env_add_control(env, "mfl_virustest_max", MFL_CONTROL_INT, 5, NULL,
				   "the score that means certainly infected") < 0
	    || mfl_env_add_control(env, "mfl_virustest_max_header", MFL_CONTROL_STRING, 0,
				   "", "header (\": regex\") holding the maximum score, "
				   "rather than $mfl_virustest_max") < 0
	    || mfl_env_add_control(env, "mfl_virustest_text", MFL_CONTROL_STRING, 0,
				   "", "type text: \"N=verdict|N=verdict\", N from 0 to 5") < 0
	    || mfl_env_add_control(env, "mfl_duplicate_period", MFL_CONTROL_INT, 43200, NULL,
				   "seconds duplicate remembers an id without :seconds") < 0
	    || mfl_env_add_control(env, "mfl_duplicate_max", MFL_CONTROL_INT, 172800, NULL,
				   "the most seconds duplicate remembers an id (0: no cap)") < 0
	    || mfl_env_add_control(env, "mfl_sieve_dir", MFL_CONTROL_STRING, 0, "",
				   "where include finds personal scripts (\"\": the including script's directory)") < 0
	    || mfl_env_add_control(env, "mfl_sieve_global_dir", MFL_CONTROL_STRING, 0,
				   MFL_SIEVE_GLOBAL_DIR, "where include :global finds scripts") < 0
	    || mfl_env_add_control(env, "mfl_vacation_min_period", MFL_CONTROL_INT, 86400, NULL,
				   "the least seconds between two vacation replies to one sender") < 0
	    || mfl_env_add_control(env, "mfl_vacation_max_period", MFL_CONTROL_INT, 0, NULL,
				   "the most seconds between two vacation replies (0: no cap)") < 0
	    || mfl_env_add_control(env, "mfl_vacation_subject_template", MFL_CONTROL_STRING, 0,
				   "Auto: %$", "a vacation reply's subject without :subject; "
				   "%$ is the message's") < 0
	    || mfl_env_add_control(env, "mfl_vacation_default_subject", MFL_CONTROL_STRING, 0, "",
				   "its subject when the message has none") < 0
	    || mfl_env_add_control(env, "mfl_vacation_max_subject", MFL_CONTROL_INT, 256, NULL,
				   "characters of a vacation reply's subject at most") < 0
	    || mfl_env_add_control(env, "mfl_redirect_envelope_from", MFL_CONTROL_STRING, 0,
				   "sender", "a redirected copy's envelope sender: sender, "
				   "recipient, orig_recipient, user_email, <address> or <>") < 0
	    || mfl_env_add_control(env, "mfl_notify_envelope_from", MFL_CONTROL_STRING, 0, "",
				   "a notification's envelope sender (\"\": :from, else postmaster; "
				   "or sender, recipient, orig_recipient, user_email, <address>)") < 0
	    || mfl_env_add_control(env, "mfl_report_from", MFL_CONTROL_STRING, 0, "postmaster",
				   "vnd.dovecot.report's From: postmaster, sender, recipient, "
				   "orig_recipient, user_email or <address>") < 0
	    || mfl_env_add_control(env, "mfl_user_email", MFL_CONTROL_STRING, 0, "",
				   "the user's own address, for redirect (\"\": the recipient)") < 0) {
		mfl_env_free(env);
		return NULL;
	}
	return env;
}

/* mfl_env_free - the env and its string values */
void
mfl_env_free(struct mfl_env *env)
{
	if (env == NULL)
		return;
	for (size_t i = 0; i < env->ncontrols; i++)
		free(env->controls[i].s);
	for (size_t i = 0; i < env->nenvironment; i++) {
		free(env->environment[i].name);
		free(env->environment[i].value);
	}
	free(env->include_dir);
	free(env);
}

/* env_control_find - index of control NAME, or -1 */
int
env_control_find(const struct mfl_env *env, const char *name, size_t len)
{
	uint32_t slot = str_hash(STR_HASH_INIT, name, len);
	int i;

	/* the table is never full (ENV_CONTROL_SLOTS > ENV_CONTROLS_MAX) */
	while ((i = env->control_slots[slot % ENV_CONTROL_SLOTS]) != 0) {
		const struct mfl_control *c = &env->controls[i - 1];

		if (c->name_len == len && memcmp(c->name, name, len) == 0)
			return i - 1;
		slot++;
	}
	return -1;
}

/* env_hook_find - index of declared hook NAME (without "hook_"), or -1 */
int
env_hook_find(const struct mfl_env *env, const char *name, size_t len)
{
	for (size_t i = 0; i < env->nhooks; i++)
		if (strlen(env->hooks[i].name) == len
		    && memcmp(env->hooks[i].name, name, len) == 0)
			return (int) i;
	return -1;
}

/* mfl_env_set_decisions_stop - reject, ereject and discard end the
 * script, as a milter's decisions do (mvmtr); Sieve leaves it off */
void
mfl_env_set_decisions_stop(struct mfl_env *env, int on)
{
	env->decisions_stop = on;
}

/* set_path - *SLOT = a copy of DIR (NULL: none); 0 or -1 */
static int
set_path(char **slot, const char *dir)
{
	char *copy = NULL;

	if (dir != NULL && *dir && (copy = strdup(dir)) == NULL)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

/* mfl_env_set_include_dir - where a relative include that is not beside
 * the file including it is looked for next (the packaged include/ of a
 * script an admin copied to /etc); NULL: nowhere */
int
mfl_env_set_include_dir(struct mfl_env *env, const char *dir)
{
	return set_path(&env->include_dir, dir);
}

/* mfl_env_add_hook - declare $hook_NAME and its parameters ('i' int,
 * 's' string, 'S' string[]); once a host declares one, a script's
 * $hook_ function must be one of them, with these parameters */
int
mfl_env_add_hook(struct mfl_env *env, const char *name, const char *params)
{
	if (params[strspn(params, "isS")] != 0) {
		errno = EINVAL;
		return -1;
	}
	if (env_hook_find(env, name, strlen(name)) >= 0) {
		errno = EEXIST;
		return -1;
	}
	if (env->nhooks == ENV_HOOKS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	env->hooks[env->nhooks].name = name;
	env->hooks[env->nhooks].params = params;
	env->nhooks++;
	return 0;
}

/* mfl_env_add_control - a host's control; its value is the default */
int
mfl_env_add_control(struct mfl_env *env, const char *name, int type,
		    int64_t int_value, const char *str_value, const char *doc)
{
	struct mfl_control *c;

	if (env_control_find(env, name, strlen(name)) >= 0) {
		errno = EEXIST;
		return -1;
	}
	if (env->ncontrols == ENV_CONTROLS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	c = &env->controls[env->ncontrols];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->type = type;
	c->i = int_value;
	c->min = INT64_MIN;
	c->max = INT64_MAX;
	c->doc = doc;
	if (type == MFL_CONTROL_STRING
	    && (c->s = strdup(str_value ? str_value : "")) == NULL)
		return -1;
	control_added(env);
	return 0;
}

/* mfl_env_add_var - a read-only host variable, "" / 0 / [] until a run
 * is given its value */
int
mfl_env_add_var(struct mfl_env *env, const char *name, int type,
		const char *doc)
{
	if (type != MFL_CONTROL_INT && type != MFL_CONTROL_STRING
	    && type != MFL_CONTROL_STRARR) {
		errno = EINVAL;
		return -1;
	}
	if (mfl_env_add_control(env, name, type, 0, "", doc) < 0)
		return -1;
	env->controls[env->ncontrols - 1].var = 1;
	return 0;
}

/* mfl_env_set_int - set an int control within its range */
int
mfl_env_set_int(struct mfl_env *env, const char *name, int64_t value)
{
	int i = env_control_find(env, name, strlen(name));

	if (i < 0 || env->controls[i].type != MFL_CONTROL_INT || env->controls[i].var
	    || value < env->controls[i].min || value > env->controls[i].max) {
		errno = EINVAL;
		return -1;
	}
	env->controls[i].i = value;
	return 0;
}

/* mfl_env_set_string - set a string control */
int
mfl_env_set_string(struct mfl_env *env, const char *name, const char *value)
{
	int i = env_control_find(env, name, strlen(name));
	char *copy;

	if (i < 0 || env->controls[i].type != MFL_CONTROL_STRING || env->controls[i].var) {
		errno = EINVAL;
		return -1;
	}
	if ((copy = strdup(value)) == NULL)
		return -1;
	free(env->controls[i].s);
	env->controls[i].s = copy;
	return 0;
}

/* mfl_env_get_int - an int control's value (0 if there is none) */
int64_t
mfl_env_get_int(const struct mfl_env *env, const char *name)
{
	int i = env_control_find(env, name, strlen(name));

	return i >= 0 && env->controls[i].type == MFL_CONTROL_INT
	    ? env->controls[i].i : 0;
}

/* mfl_env_get_string - a string control's value, or NULL */
const char *
mfl_env_get_string(const struct mfl_env *env, const char *name)
{
	int i = env_control_find(env, name, strlen(name));

	return i >= 0 && env->controls[i].type == MFL_CONTROL_STRING
	    ? env->controls[i].s : NULL;
}

/* mfl_string_literal - S as an MFL string literal */
static void
mfl_string_literal(struct buf *out, const char *s)
{
	buf_putc(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
			buf_printf(out, "\\%c", c);
		else if (c == '\n')
			buf_puts(out, "\\n");
		else if (c == '\t')
			buf_puts(out, "\\t");
		else if (c == '\r')
			buf_puts(out, "\\r");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(out, "\\x%02x", c);
		else
			buf_putc(out, c);
	}
	buf_putc(out, '"');
}

/* env_print_control - control C with value V as MFL, its doc above */
void
env_print_control(struct buf *out, const struct mfl_control *c,
		  int64_t i, const char *str)
{
	if (c->doc != NULL)
		buf_printf(out, "# %s\n", c->doc);
	buf_printf(out, "$%s = ", c->name);
	if (c->type == MFL_CONTROL_INT)
		buf_printf(out, "%lld", (long long) i);
	else
		mfl_string_literal(out, str);
	buf_puts(out, ";\n");
}

/* mfl_env_print_controls - every control as MFL that reads back the same */
void
mfl_env_print_controls(const struct mfl_env *env, struct buf *out)
{
	for (size_t i = 0; i < env->ncontrols; i++)
		if (!env->controls[i].var)
			env_print_control(out, &env->controls[i], env->controls[i].i,
					  env->controls[i].s);
}

/* mfl_env_limits - the limits the controls set */
void
mfl_env_limits(const struct mfl_env *env, struct mfl_limits *limits)
{
	limits->instructions = (uint64_t) env->controls[LC_INSTRUCTIONS].i;
	limits->memory = (size_t) env->controls[LC_MEMORY].i;
	limits->call_depth = (int) env->controls[LC_CALL_DEPTH].i;
	limits->include_depth = (int) env->controls[LC_INCLUDE_DEPTH].i;
	limits->actions = (int) env->controls[LC_ACTIONS].i;
	limits->redirects = (int) env->controls[LC_REDIRECTS].i;
	limits->script_size = (size_t) env->controls[LC_SCRIPT_SIZE].i;
}

/* mfl_env_set_log - where $log writes */
void
mfl_env_set_log(struct mfl_env *env,
		void (*log)(void *ctx, const char *msg, size_t len), void *ctx)
{
	env->log = log;
	env->log_ctx = ctx;
}

/* mfl_env_set_decision - runs on ENV decide, without side effects */
void
mfl_env_set_decision(struct mfl_env *env, int *uncertain)
{
	env->uncertain = uncertain;
}
