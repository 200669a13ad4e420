/*
 * intr_environment - RFC 5183 environment: facts about where the script
 * runs, named by items. "name" and "version" are libmfl's own; the host
 * gives the rest: mfl_env_set_environment() for what holds for every
 * run (domain, host, location, phase), mfl_run_set_environment() for
 * what one run or connection knows (remote-host, remote-ip). An item
 * nobody gave makes the test false, as RFC 5183 4 asks. Item names are
 * compared exactly, as Pigeonhole does.
 *
 * DIAGNOSTICS: -1 from the setters when memory runs out.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "mflapi.h"
#include "msg/str.h"
#include "prog.h"
#include "tmatch.h"

/* env_item_set - NAME = VALUE in TABLE (of MAX), replacing; -1 if full */
int
env_item_set(struct env_item *table, size_t *n, size_t max, const char *name,
	     const char *value)
{
	size_t i;
	char *copy;

	for (i = 0; i < *n; i++)
		if (strcmp(table[i].name, name) == 0)
			break;
	if (i == max || (copy = strdup(value)) == NULL)
		return -1;
	if (i == *n) {
		if ((table[i].name = strdup(name)) == NULL) {
			free(copy);
			return -1;
		}
		(*n)++;
	} else {
		free(table[i].value);
	}
	table[i].value = copy;
	return 0;
}

/* env_item_get - the value of item NAME in TABLE, or NULL */
static const char *
env_item_get(const struct env_item *table, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(table[i].name) == len && memcmp(name, table[i].name, len) == 0)
			return table[i].value;
	return NULL;
}

/* mfl_env_set_environment - item NAME is VALUE for every run */
int
mfl_env_set_environment(struct mfl_env *env, const char *name, const char *value)
{
	return env_item_set(env->environment, &env->nenvironment, ENV_ITEMS_MAX,
			    name, value);
}

/* mfl_run_set_environment - item NAME is VALUE for this run (and the
 * next messages of its connection) */
int
mfl_run_set_environment(struct mfl_run *run, const char *name, const char *value)
{
	return env_item_set(run->environment, &run->nenvironment, ENV_ITEMS_MAX,
			    name, value);
}

/* run_environment_value - the value of item NAME for RUN (its own,
 * then the host's), or NULL */
const char *
run_environment_value(const struct mfl_run *run, const char *name)
{
	const char *v = env_item_get(run->environment, run->nenvironment, name, strlen(name));

	return v ? v : env_item_get(run->env->environment, run->env->nenvironment, name,
				    strlen(name));
}

/* environment: environment [COMPARATOR] [MATCH-TYPE] <name: string> <key-list> */
static int
environment_run(struct mfl_run *run, const struct site *site, struct value *args,
		struct value *ret)
{
	const char *name = args[0].u.s.ptr, *value;
	size_t len = args[0].u.s.len;
	struct tmatch tm;
	int m;

	*ret = value_int(0);
	value = env_item_get(run->environment, run->nenvironment, name, len);
	if (value == NULL)
		value = env_item_get(run->env->environment, run->env->nenvironment, name, len);
	if (value == NULL && len == 4 && memcmp(name, "name", 4) == 0)
		value = "mvmf";
	if (value == NULL && len == 7 && memcmp(name, "version", 7) == 0)
		value = PACKAGE_VERSION;
	if (value == NULL)
		return 0;
	tmatch_init(&tm, run, site, &args[1]);
	if ((m = tmatch_one(&tm, value, strlen(value))) == 0)
		m = tmatch_end(&tm);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

const struct intrinsic intr_environment = {
	.name = "environment",
	.kind = INTR_TEST,
	.capability = "environment",
	.args = "sl",
	.flags = INTR_F_MATCH,
	.run = environment_run,
};

/* mfl_env_environment_defaults - what every host says alike: "host"
 * (this machine's name), "domain" (its name without the first label,
 * or the name itself), "location" (RFC 5183: "MTA", "MDA", "MS" or
 * "MUA") and "phase" ("pre", "during" or "post" delivery) */
int
mfl_env_environment_defaults(struct mfl_env *env, const char *location,
			     const char *phase)
{
	char host[256];
	const char *dot;

	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = 0;
	dot = strchr(host, '.');
	if (mfl_env_set_environment(env, "host", host) < 0
	    || mfl_env_set_environment(env, "vnd.dovecot.default-mailbox", "INBOX") < 0
	    || (getenv("USER") != NULL
		&& mfl_env_set_environment(env, "vnd.dovecot.username", getenv("USER")) < 0)
	    || mfl_env_set_environment(env, "domain", dot != NULL && dot[1] ? dot + 1 : host) < 0
	    || mfl_env_set_environment(env, "location", location) < 0
	    || mfl_env_set_environment(env, "phase", phase) < 0)
		return -1;
	return 0;
}

/* \001env_item <name: string>: Pigeonhole's ${env.NAME} (with
 * vnd.dovecot.environment): the environment item NAME, or "" (a '_' in
 * the variable's name stands for the item's '-') */
static int
env_item_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	char name[256];
	const char *value;
	size_t len = args[0].u.s.len < sizeof(name) ? args[0].u.s.len : sizeof(name) - 1;

	(void) site;
	memcpy(name, args[0].u.s.ptr, len);
	value = env_item_get(run->environment, run->nenvironment, name, len);
	if (value == NULL)
		value = env_item_get(run->env->environment, run->env->nenvironment, name, len);
	for (size_t i = 0; value == NULL && i < len; i++)
		if (name[i] == '_') {
			name[i] = '-';
			value = env_item_get(run->environment, run->nenvironment, name, len);
			if (value == NULL)
				value = env_item_get(run->env->environment, run->env->nenvironment,
						     name, len);
		}
	*ret = value_str("", 0);
	return value != NULL && run_str(run, value, strlen(value), ret) < 0
	    ? run_error(run, site, "memory limit reached") : 0;
}

const struct intrinsic intr_env_item = {
	.name = "\001env_item", .kind = INTR_FUNCTION, .args = "s", .ret = TYPE_STRING,
	.run = env_item_run,
};
