/* mflapi.h - the language's interface for hosts (included by mfl.h) */
#ifndef MFL_MFLAPI_H
#define MFL_MFLAPI_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct buf;
struct msg;
struct mfl_env;
struct mfl_prog;
struct mfl_run;
struct action_list;

/* Limits of one run; every one is also a control (mfl(7) LIMITS). */
struct mfl_limits {
	uint64_t instructions;	/* VM instructions and matcher steps */
	size_t memory;		/* bytes a run may allocate */
	int call_depth;		/* nested function calls */
	int include_depth;	/* nested includes */
	int actions;		/* actions in the list */
	int redirects;		/* redirect actions */
	size_t script_size;	/* bytes of one script file */
};

#define MFL_CONTROL_INT		1
#define MFL_CONTROL_STRING	2
#define MFL_CONTROL_STRARR	3	/* host variables only: string[] */

/* environment: controls and host services shared by compiles and runs */
struct mfl_env *mfl_env_new(void);
void mfl_env_free(struct mfl_env *env);
int mfl_env_add_control(struct mfl_env *env, const char *name, int type,
			int64_t int_value, const char *str_value,
			const char *doc);
int mfl_env_set_int(struct mfl_env *env, const char *name, int64_t value);
int mfl_env_set_string(struct mfl_env *env, const char *name,
		       const char *value);
int64_t mfl_env_get_int(const struct mfl_env *env, const char *name);
const char *mfl_env_get_string(const struct mfl_env *env, const char *name);
int mfl_env_add_var(struct mfl_env *env, const char *name, int type,
		    const char *doc);
void mfl_env_set_decisions_stop(struct mfl_env *env, int on);
int mfl_env_set_include_dir(struct mfl_env *env, const char *dir);
int mfl_env_add_hook(struct mfl_env *env, const char *name,
		     const char *params);
void mfl_env_print_controls(const struct mfl_env *env, struct buf *out);
int mfl_env_set_environment(struct mfl_env *env, const char *name,
			    const char *value);
void mfl_env_set_account(struct mfl_env *env, const char *user, const char *home);
void mfl_env_set_mailbox_exists(struct mfl_env *env,
				int (*fn)(void *ctx, const char *name, size_t len),
				void *ctx);
/* RFC 6134: VAL is on the host's LIST: 1, 0, or -1 for no such list;
 * VAL NULL asks whether LIST exists */
void mfl_env_set_extlist(struct mfl_env *env,
			 int (*fn)(void *ctx, const char *list, size_t llen,
				   const char *val, size_t vlen),
			 void *ctx);
/* RFC 8579: the folder the host gave special-use FLAG, or NULL */
void mfl_env_set_specialuse(struct mfl_env *env,
			    const char *(*fn)(void *ctx, const char *flag,
					      size_t len),
			    void *ctx);
int mfl_specialuse_flag_ok(const char *flag, size_t len);
/* RFC 7352: 1 when KEY was seen within SECONDS (and record it, in one
 * atomic step), 0 when not, -1 when the host cannot tell */
typedef int (*mfl_duplicate_fn)(void *ctx, struct mfl_run *run, const char *key,
				size_t len, int64_t seconds, int last);
void mfl_env_set_duplicate(struct mfl_env *env, mfl_duplicate_fn fn, void *ctx);
int mfl_env_environment_defaults(struct mfl_env *env, const char *location,
				 const char *phase);
void mfl_env_limits(const struct mfl_env *env, struct mfl_limits *limits);
/* a decision run, answering before delivery (mvmda's SMTP-time service):
 * nothing with an effect outside the run happens - no filter or execute
 * program runs, no compiled-script cache is written - and *UNCERTAIN is
 * set to 1 when the outcome depended on what was left out */
void mfl_env_set_decision(struct mfl_env *env, int *uncertain);
void mfl_env_set_log(struct mfl_env *env,
		     void (*log)(void *ctx, const char *msg, size_t len),
		     void *ctx);

/* compiling: -1 for the mode means "from the file name and first line" */
struct mfl_prog *mfl_compile_file(const struct mfl_env *env, const char *path,
				  int sieve, struct buf *errors);
struct mfl_prog *mfl_compile_mem(const struct mfl_env *env, const char *name,
				 const char *src, size_t len, int sieve,
				 struct buf *errors);
struct mfl_prog *mfl_compile_cached(const struct mfl_env *env, const char *path,
				    int sieve, struct buf *errors);
struct mfl_prog *mfl_compile_cached_in(const struct mfl_env *env, const char *path,
				       int sieve, const char *dir, struct buf *errors);
void mfl_prog_free(struct mfl_prog *prog);
int mfl_prog_has_hook(const struct mfl_prog *prog, const char *name);
size_t mfl_prog_sites(const struct mfl_prog *prog, const char *name,
		      void (*fn)(void *ctx, const char *arg, size_t len),
		      void *ctx);
size_t mfl_prog_sites_tagged(const struct mfl_prog *prog, const char *name,
			     const char *tag);
int mfl_prog_is_sieve(const struct mfl_prog *prog);
/* the files a program was compiled from: a host that keeps programs
 * (mvmda's SMTP-time workers) checks them as the cache does */
size_t mfl_prog_files(const struct mfl_prog *prog, const char *const **files_r);
void mfl_prog_disasm(const struct mfl_prog *prog, struct buf *out);
int mfl_file_is_sieve(const char *path, const char *src, size_t len);
void mfl_capabilities(const struct mfl_env *env,
		      void (*fn)(void *ctx, const char *cap), void *ctx);

/* running */
struct mfl_run *mfl_run_new(const struct mfl_prog *prog);
void mfl_run_free(struct mfl_run *run);
void mfl_run_set_message(struct mfl_run *run, struct msg *msg);
int mfl_run_set_envelope(struct mfl_run *run, const char *from,
			 const char *to);
int mfl_run_add_recipient(struct mfl_run *run, const char *to);
void mfl_run_end_message(struct mfl_run *run);
int mfl_run_compact(struct mfl_run *run);
void mfl_run_clear_actions(struct mfl_run *run);
void mfl_run_stop(struct mfl_run *run);
int mfl_run_set_environment(struct mfl_run *run, const char *name,
			    const char *value);
int mfl_run_main(struct mfl_run *run);
int mfl_run_hook(struct mfl_run *run, const char *name,
		 const struct value *args, int nargs, struct value *ret);
int mfl_run_set_var(struct mfl_run *run, const char *name,
		    const struct value *value);
int mfl_run_strarr(struct mfl_run *run, const char *const *items, size_t n,
		   struct value *out);
int mfl_run_get_control(const struct mfl_run *run, const char *name,
			struct value *value_r);
int mfl_run_inherit_controls(struct mfl_run *run, const struct mfl_run *from);
void mfl_run_print_controls(const struct mfl_run *run, struct buf *out);
const char *mfl_run_error(const struct mfl_run *run);
const struct action_list *mfl_run_actions(struct mfl_run *run);
void mfl_run_json(struct mfl_run *run, struct buf *out);

/* vacation (RFC 5230): whether a message gets an answer, and its text */
struct vacation;
struct action;
const char *mfl_vacation_skip(struct msg *msg, const char *sender,
			      const char *recipient, const struct vacation *v);
void mfl_vacation_reply(struct msg *msg, const char *sender,
			const char *recipient, const struct action *a,
			struct buf *out);

/* enotify's mailto method (RFC 5435, 5436): a URI mvmf can notify,
 * whether a message may cause a notification, and its text */
int mfl_notify_valid(const char *method, size_t len, char *err, size_t errsize);
const char *mfl_notify_skip(struct msg *msg);
int mfl_notify_compose(struct msg *msg, const char *owner,
		       const struct action_list *actions, size_t index,
		       struct buf *out, char ***rcpts_r);

/* a redirected copy (Pigeonhole's rules): its envelope sender by the
 * policy $mfl_redirect_envelope_from, who redirects ($mfl_user_email or
 * the recipient: its X-Sieve-Redirected-From), and whether MSG already
 * came through that user's redirect (a loop) */
const char *mfl_redirect_sender(const char *policy, const char *user_email,
				const char *sender, const char *recipient,
				const char *orig_recipient, char *buf, size_t size);
const char *mfl_redirect_user(const char *user_email, const char *recipient);
int mfl_redirect_loop(struct msg *msg, const char *user_email, const char *recipient);

/* vnd.dovecot.report (RFC 5965 abuse reports): what the host knows
 * of the delivery, and the report; it is sent from <> */
struct mfl_report_env {
	const char *policy;		/* $mfl_report_from */
	const char *user_email;		/* $mfl_user_email */
	const char *sender, *recipient, *orig_recipient, *host;
};
int mfl_report_type_ok(const char *s, size_t len);
/* the envelope sender of a notification (RFC 5436 2.3), the policy
 * $mfl_notify_envelope_from */
const char *mfl_notify_sender(const struct action *a, const struct mfl_report_env *e,
			      char *buf, size_t size);
void mfl_report_compose(const struct mfl_report_env *e, struct msg *msg,
			const char *text, size_t len, const struct action *a,
			struct buf *out);

/* Pigeonhole's extprograms (vnd.dovecot.pipe, .filter, .execute): a
 * host that allows them adds the commands, tests and their controls
 * ($mfl_pipe_dir ...: an empty directory keeps a kind off); the pipe
 * action is the host's to carry out with mfl_program_run (program.c) */
struct mfl_program {
	const char *kind;		/* "pipe", "filter" or "execute" */
	const char *name;		/* a file in $mfl_KIND_dir */
	const char *const *args;	/* NULL-ended, or NULL */
	const char *input;		/* its stdin, or NULL for none */
	size_t input_len;
	size_t output_max;		/* stdout kept up to this; 0: dropped */
	const char *sender, *recipient, *orig_recipient, *host;	/* or NULL */
};
int mfl_env_add_programs(struct mfl_env *env);
int mfl_env_programs_from(struct mfl_env *env, const struct mfl_run *run);
int mfl_program_run(const struct mfl_env *env, const struct mfl_program *p,
		    struct buf *out, char *err, size_t errsize);
int mfl_program_name_ok(const char *name, size_t len);
/* the message the run looks at now (a filter's output, once one ran);
 * take: that message becomes the caller's to msg_free(), or NULL when
 * the run holds none of its own */
struct msg *mfl_run_message(const struct mfl_run *run);
struct msg *mfl_run_take_message(struct mfl_run *run);
int mfl_run_set_orig_recipient(struct mfl_run *run, const char *to);
int mfl_run_set_auth(struct mfl_run *run, const char *user);

/* vnd.dovecot.testsuite (mflc -T): Pigeonhole's test language */
struct mfl_testsuite;
struct mfl_testsuite *mfl_testsuite_new(struct mfl_env *env, const char *path);
int mfl_testsuite_run(struct mfl_testsuite *ts, const struct mfl_prog *prog,
		      struct buf *out);
void mfl_testsuite_counts(const struct mfl_testsuite *ts, int *passed,
			  int *failed, int *na);
void mfl_testsuite_free(struct mfl_testsuite *ts);

#endif
