/* action.h - the action list: collected while a script runs, carried
 * out by the host afterwards (RFC 5228 2.10) */
#ifndef MFL_ACTION_H
#define MFL_ACTION_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct arena;

enum action_kind {
	ACT_KEEP, ACT_FILEINTO, ACT_REDIRECT, ACT_DISCARD, ACT_REJECT,
	ACT_VACATION, ACT_NOTIFY, ACT_PIPE, ACT_REPORT
};

/* What a vacation action asks for (RFC 5230, RFC 6131); the reason is
 * the action's target. */
struct vacation {
	int64_t seconds;	/* answer a sender at most once in this */
	const char *subject;	/* NULL: subject_template's */
	const char *subject_template;	/* "%$": the original's subject */
	const char *default_subject;	/* when it has none (or "") */
	int64_t max_subject;	/* characters of the subject at most */
	const char *from;	/* NULL: the recipient */
	const char *handle;	/* what "once" counts by */
	const char **addresses;	/* the user's other addresses, NULL-ended */
	int mime;		/* the reason is a MIME entity */
	const char *fcc;	/* :fcc (RFC 8580): a copy of the reply here */
	const char **fcc_flags;	/* its :flags, NULL-ended, or NULL */
	const char *fcc_specialuse;	/* its :specialuse, or NULL */
};

/* What vnd.dovecot.report sends (RFC 5965): the address is the
 * action's target. */
struct report {
	const char *feedback_type;	/* "abuse", ... */
	const char *message;		/* the user's words */
	int headers_only;		/* the original's header, not all of it */
};

/* What a notify action asks for (RFC 5435); the method URI is the
 * action's target. */
struct notify {
	const char *from;	/* :from, or NULL */
	int importance;		/* 1 high, 2 normal, 3 low */
	const char *message;	/* :message, or NULL */
	const char **options;	/* :options, NULL-ended, or NULL */
	const char *fcc;	/* :fcc (RFC 8580): a copy of it here */
	const char **fcc_flags;	/* its :flags, NULL-ended, or NULL */
	const char *fcc_specialuse;	/* its :specialuse, or NULL */
	int legacy;		/* the deprecated notify: the target is
				 * "mailto", the message is the body */
	const char *id;		/* legacy :id, or NULL */
	const char **recipients;	/* legacy :options, NULL-ended */
};

struct action {
	enum action_kind kind;
	const char *target;	/* mailbox, address or reject reason;
				 * NULL for keep */
	size_t target_len;
	int copy;		/* :copy (RFC 3894) */
	int create;		/* fileinto :create (RFC 5490) */
	const char *specialuse;	/* fileinto :specialuse (RFC 8579): the
				 * folder with this flag, if there is one,
				 * rather than the target; or NULL */
	int implicit;		/* the implicit keep */
	int extended;		/* ereject rather than reject (RFC 5429) */
	const char *code;	/* reject :code "550" (SMTP reply), or NULL */
	const char *xcode;	/* reject :xcode "5.7.1" (RFC 3463), or NULL */
	const char **flags;	/* imap4flags, NULL-terminated or NULL */
	const struct vacation *vacation;	/* ACT_VACATION */
	const struct notify *notify;	/* ACT_NOTIFY */
	const struct report *report;	/* ACT_REPORT; target: its address */
	const char **args;	/* ACT_PIPE: the program's arguments,
				 * NULL-ended, or NULL; target: its name */
	int pipe_try;		/* ACT_PIPE :try: a failure is no error */
	int line;		/* where the script asked for it */
	const char *file;
};

struct action_list {
	struct action *v;
	size_t n, cap;
	int cancel_implicit;	/* an action cancelled the implicit keep */
	int discarded;		/* discard was executed */
	int redirects;
	int rejected;		/* a reject or ereject is in the list */
	int vacations;		/* a vacation is in the list */
	const char **implicit_flags;	/* imap4flags of the implicit keep */
};

void action_list_init(struct action_list *list);
int action_add(struct arena *arena, struct action_list *list,
	       const struct action *act);
int action_finish(struct arena *arena, struct action_list *list);
void action_json(const struct action *act, struct buf *out);
int action_copy(struct arena *arena, const struct action *from, struct action *to);
void json_string(struct buf *out, const char *s, size_t len);

#endif
