/* mda.h - the state of one mvmda process, shared by its modules */
#ifndef MDA_MDA_H
#define MDA_MDA_H

#include <stddef.h>
#include <sys/types.h>

#include "mail.h"
#include "mbox.h"
#include "namespace.h"

/* Exit codes besides sysexits(3): -p's "nothing delivered, go on". */
#define MDA_EX_CONTINUE	1

#define MDA_SCRIPTS_MAX	32

#define MDA_SPECIALUSE_MAX	16
#define MDA_EXTLISTS_MAX	16

struct mda {
	struct mfl_env *env;
	struct ns_table ns;
	struct mail mail;
	struct msg *msg;

	/* options */
	int check, test, pass, interactive, builtin, sieve;
	const char *user, *default_mailbox;
	const char **opt_e, **opt_E;
	size_t n_e, n_E;
	char **args;
	int nargs;

	/* -D: "rcpt" or "data" while a decision runs for mvmtr (service.c),
	 * NULL for a delivery; what the run read and could not do */
	const char *decision;
	/* -L: a delivery names the scripts it compiled or loaded on this
	 * pipe (0: none), for its keeper to hold for the next (lmtp.c) */
	int learn_fd;
	int touched;		/* the message was read (before DATA: ask again) */
	char early[600];	/* ... and the refusal made before it was, or "" */
	struct mfl_run *user_run;	/* the user's script running now, or NULL */
	const char *delimiter;	/* -x: where an address extension starts */
	int uncertain;		/* the outcome needed a side effect left out */

	/* envelope and account */
	const char *sender, *recipient, *mta, *home, *username;

	/* what the scripts decided, with the strings they point to */
	struct arena *arena;
	struct action_list actions;
	int scripts_run;	/* $script_run calls that decided something */
	int errors;		/* -c: errors reported */
	const char *error_phase;	/* the first script error: "compile" or */
	const char *error_message;	/* "runtime", and what it said (-n) */
	const struct mfl_prog *rc;
	struct mfl_run *rc_run;
	struct mfl_prog *scripts[MDA_SCRIPTS_MAX];	/* freed at exit */
	int nscripts;
	struct mbox_locking locking;
	/* RFC 8579: folders the rc script gave a special-use flag */
	struct {
		char *flag, *folder;
	} specialuse[MDA_SPECIALUSE_MAX];
	int nspecialuse;
	/* RFC 6134: the lists the rc script read ($extlist) */
	struct {
		char *name;
		char **items;	/* lower-cased */
		size_t n;
	} extlists[MDA_EXTLISTS_MAX];
	int nextlists;
};

/* a copy of what mvmda sent into a folder (fcc); deliver.c's
 * mda_store_copy, handed to vacation and notify as send is */
typedef int mda_copy_fn(struct mda *mda, const char *folder, const char *const *flags,
			const char *specialuse, const char *text, size_t len);
mda_copy_fn mda_store_copy;
int rc_setup(struct mda *mda);
struct msg *mda_lf_only(struct msg *msg);
struct msg *mda_read_message(struct mail *mail, int fd, const char *home);
int mda_adopt_message(struct mda *mda, struct msg *msg);
int rc_publish(struct mda *mda, struct mfl_run *run);
void rc_user_log(struct mfl_run *run);
int intr_dnsbl_register(struct mfl_env *env);
int mda_merge(struct mda *mda, const struct action_list *list, int implicit);
int deliver_all(struct mda *mda);
void deliver_print(struct mda *mda, struct buf *out);
void mda_script_error(struct mda *mda, const char *phase, const char *message);
void deliver_status(const struct mda *mda, struct buf *out);
int mda_keep_default(struct mda *mda);
void mda_state_path(struct mda *mda, char *path, size_t size);
/* mda_hand_over - mail that leaves (redirect, reject, vacation) goes to
 * the local sendmail; 0, or EX_TEMPFAIL when it could not */
typedef int mda_send_fn(struct mda *mda, const char *what, const char *from,
			const char *to, const char *head, size_t hlen,
			const char *data, size_t len);
mda_send_fn mda_hand_over;
int mda_loop(struct mda *mda);
/* setup.c */
void setup_user(const char *user, const gid_t *groups, int ngroups);
void setup_rc_cache_check(const struct mda *m, const char *path);
void setup_account(struct mda *m);
int setup_account_given(void);
void setup_envelope(struct mda *m, const char *opt_sender, const char *opt_recipient);
void setup_env(struct mda *m, const char *location);
void setup_env_user(struct mda *m);
const char *setup_rc_file(void);
struct mfl_prog *setup_rc_compile(struct mda *m, const char **path_r);
int interactive(struct mda *mda);

#endif
