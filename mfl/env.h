/* env.h - controls and host services (libmfl inside) */
#ifndef MFL_ENV_H
#define MFL_ENV_H

#include <stddef.h>
#include <stdint.h>

#define ENV_CONTROLS_MAX	128
#define ENV_CONTROL_SLOTS	256	/* the name index: a power of 2, > 1.5 x the most */
#define ENV_INTRS_MAX		128
#define ENV_HOOKS_MAX		32

struct intrinsic;
struct mfl_run;

#define ENV_ITEMS_MAX		16

/* An RFC 5183 environment item. */
struct env_item {
	char *name;
	char *value;
};

struct mfl_control {
	const char *name;	/* without '$' */
	size_t name_len;
	int type;		/* MFL_CONTROL_INT or MFL_CONTROL_STRING */
	int64_t i;
	char *s;
	int64_t min, max;	/* for ints */
	const char *doc;
	int var;		/* a host variable: read-only, set per run */
};

struct mfl_env {
	struct mfl_control controls[ENV_CONTROLS_MAX];
	size_t ncontrols;
	/* control index + 1 by name hash (open addressing), 0: free; hosts
	 * look controls up by name on every message */
	uint8_t control_slots[ENV_CONTROL_SLOTS];
	void (*log)(void *ctx, const char *msg, size_t len);
	void *log_ctx;
	const struct intrinsic *intrs[ENV_INTRS_MAX];	/* the host's */
	size_t nintrs;
	struct {
		const char *name;	/* without "hook_" */
		const char *params;	/* 'i' int, 's' string, 'S' string[] */
	} hooks[ENV_HOOKS_MAX];	/* the host's hooks, when it declares them */
	size_t nhooks;
	int decisions_stop;	/* reject, ereject, discard end the run */
	struct env_item environment[ENV_ITEMS_MAX];
	size_t nenvironment;
	int (*mailbox_exists)(void *ctx, const char *name, size_t len);
	void *mailbox_ctx;
	/* RFC 6134: VAL is on LIST (1), is not (0), no such list (-1); VAL
	 * NULL asks whether the list exists */
	int (*extlist)(void *ctx, const char *list, size_t llen, const char *val, size_t vlen);
	void *extlist_ctx;
	/* RFC 8579: the folder that has special-use FLAG, or NULL */
	const char *(*specialuse)(void *ctx, const char *flag, size_t len);
	void *specialuse_ctx;
	int (*duplicate)(void *ctx, struct mfl_run *run, const char *key, size_t len,
			 int64_t seconds, int last);
	void *duplicate_ctx;
	char *include_dir;	/* where a relative include not found beside its includer is looked for */
	/* the account a program runs as when we are not root (the host's,
	 * mfl_env_set_account), else the euid's from the user database */
	const char *account_user, *account_home;
	/* a decision run (mfl_env_set_decision): no program runs, no cache
	 * is written; set to 1 when the outcome needed what did not run */
	int *uncertain;
};

struct buf;
void env_print_control(struct buf *out, const struct mfl_control *c,
		       int64_t i, const char *str);
int env_control_find(const struct mfl_env *env, const char *name, size_t len);
int env_hook_find(const struct mfl_env *env, const char *name, size_t len);
int env_item_set(struct env_item *table, size_t *n, size_t max,
		 const char *name, const char *value);

#endif
