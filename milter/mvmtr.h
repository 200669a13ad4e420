/* mvmtr.h - the milter's modules, seen from each other (not libmilter) */
#ifndef MVMTR_H
#define MVMTR_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mfl.h"
#include "msg/msg.h"

struct dkim_key;

/* What a hook decided; DEC_CONTINUE when it decided nothing. */
enum decision {
	DEC_CONTINUE, DEC_ACCEPT, DEC_REJECT, DEC_TEMPFAIL, DEC_DISCARD
};

/* The SMTP reply that goes with a decision; text may hold '\n' for a
 * multi-line reply. Empty fields leave the MTA's default. */
struct reply {
	enum decision decision;
	char code[4];
	char xcode[16];
	char *text;		/* malloc'd, or NULL */
};

/* What the script uses, so only that is negotiated with the MTA. */
#define NEED_HELO	0x01
#define NEED_DATA	0x02
#define NEED_HEADERS	0x04
#define NEED_EOH	0x08
#define NEED_BODY	0x10
#define NEED_UNKNOWN	0x20
/* nothing to do past DATA (no content hook, test or Sieve script): the
 * message is accepted at DATA, so the MTA does not keep mvmtr for its
 * content (Postfix then hands nothing to cleanup) */
#define NEED_DATA_ACCEPT 0x40
/* the same, but for mvmda's service (delivery.c): the message is
 * accepted at DATA unless a recipient's scripts need it */
#define NEED_DATA_UNLESS_ASKED 0x80

/* program - one compiled script and what mvmtr read from it, shared
 * read-only by the connections that started with it (reference count
 * under program_lock); a reload makes a new one */
struct program {
	struct mfl_prog *prog;
	unsigned refs;
	unsigned needs;		/* NEED_ */
	int hooks;		/* HOOK_ bits of the defined hooks */
	char *symlist;		/* the macros asked for after connect: the
				 * script's and i; NULL: the MTA's lists */
	char *symlist_connect;	/* at connect: + j for SPF */
	char *path;
	int sieve;
	int uses_store;		/* $greylist & co., or automatic blocks */
	char *store_path;	/* $mvmtr_store as the top level left it */
	int64_t store_size;
	char *store_prefix;	/* Redis: $mvmtr_store_prefix, timeouts (ms) */
	int store_connect_ms, store_timeout_ms;
	int rcpt_rej;		/* $msa_recipient: the MTA's rejected recipients
				 * are wanted too (the failed-recipient brake) */
	int delivery_check;	/* $mvmtr_delivery_socket is set: the message
				 * is needed at its end for mvmda's service */
	char **dnsbl_zones;	/* the zones the script names as constants */
	size_t ndnsbl_zones;
};

/* The hooks, in milter callback order. */
enum hook {
	HOOK_CONNECT, HOOK_HELO, HOOK_ENVFROM, HOOK_ENVRCPT, HOOK_DATA,
	HOOK_HEADER, HOOK_EOH, HOOK_BODY, HOOK_EOM, HOOK_ABORT, HOOK_CLOSE,
	HOOK_UNKNOWN, HOOK_COUNT
};
extern const char *const hook_names[HOOK_COUNT];	/* session.c */

/* program.c */
struct mfl_env *program_env(void);
struct program *program_compile(const char *path, struct buf *errors);
int program_install(struct program *pg);
struct program *program_get(void);
void program_put(struct program *pg);
int program_reload(void);
struct store *program_store(void);
int program_open_store(const struct program *pg, char *err, size_t errsize);
const char *program_store_path(const struct program *pg);
extern const char *program_script;

/* A message change, queued by a hook, made at end of message. */
enum change_kind {
	CHG_HEADER_ADD, CHG_HEADER_INSERT, CHG_HEADER_CHANGE, CHG_RCPT_ADD,
	CHG_RCPT_DELETE, CHG_SENDER, CHG_BODY, CHG_QUARANTINE
};

struct change {
	enum change_kind kind;
	char *name;		/* header name, address, reason */
	char *value;		/* header value, ESMTP args, body; or NULL */
	size_t value_len;
	int index;		/* header index (insert, change) */
	struct change *next;
};

/* change.c */
int change_append(struct change ***tail, enum change_kind kind, const char *name,
		  const char *value, size_t value_len, int index);
void change_list_free(struct change *c);

/* session - one SMTP connection as the milter sees it */
struct session {
	struct program *pg;		/* the caller's reference */
	struct store *store;		/* the client-assessment store, or NULL */
	struct mfl_run *run;
	unsigned long id;		/* connection number, for the log */
	/* the MTA's macros: the callbacks set these before each call */
	const char *(*getsymval)(void *ctx, const char *name);
	void *ctx;
	char queue_id[64];
	char client_host[256];
	char mta_host[256];		/* j at connect: the MTA's name */
	char client_addr[64];		/* "" for a local (unix) client */
	struct sockaddr_storage client;
	int client_port;
	char *helo;
	char *sender;
	const char *cur_rcpt;		/* in $hook_envrcpt: the one decided */
	size_t nrcpt;
	int in_message;			/* MAIL seen, not yet eom/abort */
	int started;			/* the top level ran */
	int start_failed;		/* ... and failed: default action throughout */
	int retired;			/* the message below ended: freed when the
					 * next one starts (session.c settle) */
	/* the message so far (headers as the MTA gave them) */
	struct buf text;
	size_t header_len;		/* text's header part, with the blank line */
	int have_eoh;
	struct msg *msg;		/* over text, rebuilt when it grew */
	size_t msg_len;
	struct msg **old_msgs;		/* kept until the message ends */
	size_t nold_msgs;
	char **old_texts;		/* text's old buffers, the same */
	size_t nold_texts;
	/* what the hooks asked for */
	struct reply reply;
	struct change *changes, **changes_tail;
	size_t nchanges;
	size_t first_action;		/* actions before this were answered */
	struct dns_state *dns;		/* SPF and DNSBL answers (intr_dns.c) */
	/* what mvmda's service said of the recipients (delivery.c) */
	struct delivery_rcpt *dlv;
	size_t ndlv;
	int at_eom;			/* in session_eom: the message is whole */
	int store_tempfail;		/* the store failed: answer tempfail */
	/* what greylisting said of the message, for X-Greylist */
	struct dkim_key *dkim_key;	/* $dkim_sign asked to sign with it */
	/* $msa_message let the message by: it is counted with its first
	 * recipient (one store write for both), under these */
	char *msa_user, *msa_limits, *msa_brake;
	int grey_noted;
	int64_t grey_delayed;
	char grey_why[200];
};

/* session.c: each returns what to tell the MTA in S->reply */
struct session *session_new(struct program *pg, struct store *store,
			    unsigned long id);
void session_free(struct session *s);
enum decision session_connect(struct session *s, const char *host,
			      const struct sockaddr *sa);
enum decision session_helo(struct session *s, const char *helo);
enum decision session_envfrom(struct session *s, char **argv);
enum decision session_envrcpt(struct session *s, char **argv);
enum decision session_data(struct session *s);
enum decision session_header(struct session *s, const char *name,
			     const char *value);
enum decision session_eoh(struct session *s);
enum decision session_body(struct session *s, const unsigned char *data,
			   size_t len);
enum decision session_eom(struct session *s);
void session_message_done(struct session *s);
int session_msa_pending(struct session *s, const char *user, const char *limits,
			const char *brake);
void session_abort(struct session *s);
void session_close(struct session *s);
enum decision session_unknown(struct session *s, const char *cmd);
const char *session_macro(struct session *s, const char *name);
int session_eom_needed(struct session *s);
int session_change(struct session *s, enum change_kind kind, const char *name,
		   const char *value, size_t value_len, int index);
int session_decide(struct session *s, enum decision d, const char *code,
		   const char *xcode, const char *text, size_t len);
int session_override(struct session *s, enum decision d, const char *code,
		     const char *xcode, const char *text, size_t len);
int session_set_reply(struct session *s, enum decision d, const char *code,
		      const char *xcode, const char *text, size_t len);

/* intr_milter.c, intr_assess.c: mvmtr's commands and $functions */
int intr_milter_register(struct mfl_env *env);
int intr_assess_register(struct mfl_env *env);
int intr_assess_used(const struct mfl_prog *prog);
struct session *intr_store_ready(struct mfl_run *run, const struct site *site,
				 struct store **st_r);
int intr_msa_register(struct mfl_env *env);
int intr_msa_used(const struct mfl_prog *prog);
const char *intr_spf_result(struct mfl_run *run, const struct site *site);
int intr_dns_register(struct mfl_env *env);

/* log.c */
void log_open(const char *ident, int to_stderr, int level);
int log_level_parse(const char *name);
void mtr_log(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void session_log(const struct session *s, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
