/*
 * program - the compiled script every connection runs, and the env it is
 * compiled against (mvmtr's controls, host variables, hooks, commands).
 *
 * One program is current. A connection takes a reference when it starts
 * and drops it when it closes, so a reload (SIGHUP) swaps in the new
 * program at once while connections in flight finish with the one they
 * started with; the last reference frees it.
 *
 * What the script uses is read off the compiled program here, once:
 * which hooks it defines, whether any test reads headers or the body,
 * and which MTA macros it names (see callbacks.c, negotiation).
 *
 * DIAGNOSTICS: program_compile() gives NULL with the compiler's
 * file:line:col errors; program_reload() logs them and keeps the old
 * program.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "msg/msg.h"
#include "mvmtr.h"
#include "store.h"

/* Each hook's parameters, as mfl_env_add_hook() spells them. */
static const char *const hook_params[HOOK_COUNT] = {
	[HOOK_CONNECT] = "ssi", [HOOK_HELO] = "s", [HOOK_ENVFROM] = "sS",
	[HOOK_ENVRCPT] = "sS", [HOOK_DATA] = "", [HOOK_HEADER] = "ss",
	[HOOK_EOH] = "", [HOOK_BODY] = "s", [HOOK_EOM] = "", [HOOK_ABORT] = "",
	[HOOK_CLOSE] = "", [HOOK_UNKNOWN] = "s",
};

/* mvmtr's controls: policy settings a script sets (mvmtr(8) CONTROLS). */
static const struct {
	const char *name;
	int type;
	int64_t i;
	const char *s;
	const char *doc;
} controls[] = {
	{ "mvmtr_default_action", MFL_CONTROL_STRING, 0, "tempfail",
	  "answer after a runtime error: tempfail, accept or reject" },
	{ "mvmtr_store", MFL_CONTROL_STRING, 0, MVMTR_STORE_DEFAULT,
	  "the client-assessment store: a directory (LMDB) or a redis:// or redis+unix:// URL" },
	{ "mvmtr_store_size", MFL_CONTROL_INT, (int64_t) 4 << 30, NULL,
	  "largest size the store may grow to, in bytes (LMDB)" },
	{ "mvmtr_store_prefix", MFL_CONTROL_STRING, 0, "mvmf:",
	  "prefix of the store's keys in Redis (one per cluster sharing a server)" },
	{ "mvmtr_store_connect_timeout", MFL_CONTROL_INT, 50, NULL,
	  "milliseconds a new connection to Redis may take" },
	{ "mvmtr_store_timeout", MFL_CONTROL_INT, 50, NULL,
	  "milliseconds a Redis command may take" },
	{ "mvmtr_store_failure", MFL_CONTROL_STRING, 0, "open",
	  "when the store fails: open (greylist passes, lists say not listed) or tempfail" },
	{ "mvmtr_greylist_memo", MFL_CONTROL_INT, 60, NULL,
	  "seconds a triplet read as passed is taken as passed without asking the store (0: always ask)" },
	{ "mvmtr_greylist_spf", MFL_CONTROL_INT, 1, NULL,
	  "1: a sender whose SPF passes is greylisted by its domain, not its address" },
	{ "mvmtr_greylist_header", MFL_CONTROL_INT, 0, NULL,
	  "1: add an X-Greylist field saying how long the message was delayed, and why" },
	{ "mvmtr_greylist_delay", MFL_CONTROL_INT, 300, NULL,
	  "seconds a new triplet waits before a retry is accepted" },
	{ "mvmtr_greylist_retry_window", MFL_CONTROL_INT, 2 * 86400, NULL,
	  "seconds a waiting triplet is kept for its retry" },
	{ "mvmtr_greylist_lifetime", MFL_CONTROL_INT, 35 * 86400, NULL,
	  "seconds a passed triplet stays passed after it was last seen" },
	{ "mvmtr_greylist_autoallow", MFL_CONTROL_INT, 5, NULL,
	  "passed retries after which a client network skips greylisting (0: never)" },
	{ "mvmtr_greylist_prefix4", MFL_CONTROL_INT, 24, NULL,
	  "IPv4 prefix length that groups clients" },
	{ "mvmtr_greylist_prefix6", MFL_CONTROL_INT, 64, NULL,
	  "IPv6 prefix length that groups clients" },
	{ "mvmtr_msa_messages", MFL_CONTROL_STRING, 0, "",
	  "messages a user may submit: COUNT/SECONDS ..., e.g. \"30/60 500/86400\" (\"\": no limit)" },
	{ "mvmtr_msa_recipients", MFL_CONTROL_STRING, 0, "",
	  "recipients a user may submit to: COUNT/SECONDS ... (\"\": no limit)" },
	{ "mvmtr_msa_brake_messages", MFL_CONTROL_STRING, 0, "",
	  "COUNT/SECONDS: more messages than that locks the user (\"\": no brake)" },
	{ "mvmtr_msa_brake_new_recipients", MFL_CONTROL_STRING, 0, "",
	  "COUNT/SECONDS: more recipients never written to before locks the user" },
	{ "mvmtr_msa_brake_failed_recipients", MFL_CONTROL_STRING, 0, "",
	  "COUNT/SECONDS: more recipients the MTA refused locks the user" },
	{ "mvmtr_dkim_keys", MFL_CONTROL_STRING, 0, MVMTR_DKIM_KEYS,
	  "DKIM key table (OpenDKIM's KeyTable: NAME DOMAIN:SELECTOR:KEYFILE) for $dkim_sign" },
	{ "mvmtr_autoblock_rejects", MFL_CONTROL_INT, 0, NULL,
	  "rejects within mvmtr_autoblock_window that block a client (0: off)" },
	{ "mvmtr_autoblock_window", MFL_CONTROL_INT, 3600, NULL,
	  "seconds in which mvmtr_autoblock_rejects are counted" },
	{ "mvmtr_autoblock_duration", MFL_CONTROL_INT, 86400, NULL,
	  "seconds an automatic block lasts" },
	{ "mvmtr_delivery_socket", MFL_CONTROL_STRING, 0, "",
	  "mvmda's SMTP-time decision service (mvmda -D), e.g. unix:/run/mvmf/mvmda.sock (\"\": off)" },
	{ "mvmtr_delivery_domains", MFL_CONTROL_STRING, 0, "",
	  "domains (spaces or commas) whose recipients mvmda's service is asked about at RCPT" },
	{ "mvmtr_delivery_timeout", MFL_CONTROL_INT, 3000, NULL,
	  "milliseconds a question to mvmda's service may take" },
	{ "mvmtr_delivery_failure", MFL_CONTROL_STRING, 0, "continue",
	  "when the service cannot answer: continue (delivery decides) or tempfail" },
	{ "mvmtr_resolver", MFL_CONTROL_STRING, 0, "",
	  "nameservers (up to 3, with commas) for SPF and DNSBL (\"\": resolv.conf)" },
	{ "mvmtr_dns_timeout", MFL_CONTROL_INT, 5, NULL,
	  "seconds a DNS query, or a dnsbl call's queries together, may take" },
	{ "mvmtr_spf_timeout", MFL_CONTROL_INT, 20, NULL,
	  "seconds a whole SPF check may take; then it is temperror" },
};

/* What a connection can read about itself. */
static const struct {
	const char *name;
	int type;
	const char *doc;
} vars[] = {
	{ "client_addr", MFL_CONTROL_STRING, "the client's IP address (\"\" if local)" },
	{ "client_host", MFL_CONTROL_STRING, "the client's verified host name, or [addr]" },
	{ "client_port", MFL_CONTROL_INT, "the client's TCP port" },
	{ "helo_name", MFL_CONTROL_STRING, "the HELO/EHLO argument" },
	{ "mail_from", MFL_CONTROL_STRING, "MAIL FROM, without <>" },
	{ "recipients", MFL_CONTROL_STRARR, "the RCPT TO addresses so far" },
	{ "queue_id", MFL_CONTROL_STRING, "the MTA's queue id, once it has one" },
};

static struct mfl_env *env;
static struct program *current;
static struct store *store;	/* opened once, for every program */
static pthread_mutex_t program_lock = PTHREAD_MUTEX_INITIALIZER;
const char *program_script;

/* program_env - the env every compile uses, made once */
struct mfl_env *
program_env(void)
{
	if (env != NULL)
		return env;
	if ((env = mfl_env_new()) == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++)
		if (mfl_env_add_control(env, controls[i].name, controls[i].type, controls[i].i,
					controls[i].s, controls[i].doc) < 0)
			goto fail;
	if (mfl_env_set_int(env, "mfl_limit_memory", 16 << 20) < 0)
		goto fail;
	mfl_env_set_decisions_stop(env, 1);
	if (mfl_env_environment_defaults(env, "MTA", "pre") < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (mfl_env_add_var(env, vars[i].name, vars[i].type, vars[i].doc) < 0)
			goto fail;
	for (int h = 0; h < HOOK_COUNT; h++)
		if (mfl_env_add_hook(env, hook_names[h], hook_params[h]) < 0)
			goto fail;
	if (intr_milter_register(env) < 0 || intr_assess_register(env) < 0
	    || intr_msa_register(env) < 0
	    || intr_dns_register(env) < 0)
		goto fail;
	return env;
fail:
	mfl_env_free(env);
	env = NULL;
	return NULL;
}

/* Collecting the macro names the script reads. */
struct macros {
	struct buf list;
	int computed;		/* a name that is not a constant */
};

/* add_macro - NAME, as "{name}" unless it is one letter */
static void
add_macro(void *ctx, const char *name, size_t len)
{
	struct macros *m = ctx;
	char item[80];

	if (name == NULL) {
		m->computed = 1;
		return;
	}
	if (len > 2 && name[0] == '{' && name[len - 1] == '}') {
		name++;
		len -= 2;
	}
	if (len == 0 || len > 64 || memchr(name, ' ', len) || memchr(name, '}', len))
		return;
	snprintf(item, sizeof(item), len == 1 ? " %.*s " : " {%.*s} ", (int) len, name);
	buf_putc(&m->list, ' ');	/* each name between spaces, to find it */
	if (strstr(buf_cstr(&m->list), item) == NULL)
		buf_append(&m->list, item + 1, strlen(item) - 2);
	else
		m->list.len--;
}

/* add_zone - a DNSBL zone the script names, asked with the first
 * dnsbl call of a connection (intr_dns.c) */
static void
add_zone(void *ctx, const char *zone, size_t len)
{
	struct program *pg = ctx;
	char **list, *z;

	if (zone == NULL || len == 0 || len > 200 || pg->ndnsbl_zones >= 32)
		return;
	for (size_t i = 0; i < pg->ndnsbl_zones; i++)
		if (strlen(pg->dnsbl_zones[i]) == len && strncasecmp(pg->dnsbl_zones[i], zone, len) == 0)
			return;
	if ((z = strndup(zone, len)) == NULL
	    || (list = realloc(pg->dnsbl_zones, (pg->ndnsbl_zones + 1) * sizeof(*list))) == NULL) {
		free(z);
		return;		/* only a lost prefetch */
	}
	list[pg->ndnsbl_zones++] = z;
	pg->dnsbl_zones = list;
}

/* program_needs - what PG's script uses, into PG */
static void
program_needs(struct program *pg)
{
	/* the tests and $functions that read the message ("header" is
	 * both the test and $header) */
	static const char *const msg_tests[] = {
		"header", "address", "exists", "size", "body", "headers",
		"date", "spamtest", "virustest", "addheader", "deleteheader",
		"from_allowed", "dkim_sign",
	};
	/* SPF reads the HELO name (for <> and $spf_helo), and the macro
	 * j (the receiver, in explanations and Received-SPF) */
	static const char *const helo_fns[] = {
		"spf", "spf_helo", "spf_explanation", "spf_header",
		"greylist", "greylist_key",	/* SPF-keyed; j for X-Greylist */
	};
	const struct mfl_prog *prog = pg->prog;
	struct macros m = { BUF_INIT, 0 };
	int reads_message = pg->sieve, spf = 0;

	for (int h = 0; h < HOOK_COUNT; h++)
		if (mfl_prog_has_hook(prog, hook_names[h]))
			pg->hooks |= 1 << h;
	for (size_t i = 0; i < sizeof(msg_tests) / sizeof(msg_tests[0]); i++)
		if (mfl_prog_sites(prog, msg_tests[i], NULL, NULL))
			reads_message = 1;
	for (size_t i = 0; i < sizeof(helo_fns) / sizeof(helo_fns[0]); i++)
		if (mfl_prog_sites(prog, helo_fns[i], NULL, NULL))
			spf = 1;
	if (spf)
		pg->needs |= NEED_HELO;
	if (pg->hooks & (1 << HOOK_HELO))
		pg->needs |= NEED_HELO;
	if (pg->hooks & (1 << HOOK_DATA))
		pg->needs |= NEED_DATA;
	if (reads_message || pg->hooks & (1 << HOOK_HEADER))
		pg->needs |= NEED_HEADERS;
	if (pg->hooks & (1 << HOOK_EOH))
		pg->needs |= NEED_EOH;
	/* the body too: MIME parts (foreverypart, extracttext, :anychild
	 * below the top part) live there */
	if (pg->hooks & (1 << HOOK_BODY) || mfl_prog_sites(prog, "size", NULL, NULL)
	    || mfl_prog_sites(prog, "dkim_sign", NULL, NULL)
	    || mfl_prog_sites(prog, "body", NULL, NULL)
	    || mfl_prog_sites(prog, "extracttext", NULL, NULL)
	    || mfl_prog_sites(prog, "\001fep_next", NULL, NULL)
	    || mfl_prog_sites_tagged(prog, "header", "anychild")
	    || mfl_prog_sites_tagged(prog, "address", "anychild")
	    || mfl_prog_sites_tagged(prog, "exists", "anychild"))
		pg->needs |= NEED_BODY;
	if (pg->hooks & (1 << HOOK_UNKNOWN))
		pg->needs |= NEED_UNKNOWN;
	/* an abort hook waits for the message's end too (Sendmail sends
	 * no abort after an accept) */
	if (!pg->sieve && !(pg->needs & (NEED_HEADERS | NEED_EOH | NEED_BODY))
	    && !(pg->hooks & (1 << HOOK_HEADER | 1 << HOOK_EOH | 1 << HOOK_BODY
			      | 1 << HOOK_EOM | 1 << HOOK_ABORT)))
		pg->needs |= NEED_DATA | NEED_DATA_ACCEPT;
	/* the MTA's lists, unless every name is known: then i (the queue
	 * id, for the log) at every stage, j at connect for SPF, and the
	 * script's names; the MTA sends nothing else */
	mfl_prog_sites(prog, "macro", add_macro, &m);
	/* the recipients the MTA refused, for the failed-recipient brake:
	 * {rcpt_mailer} "error" marks them, {auth_authen} is whose */
	if (mfl_prog_sites(prog, "msa_recipient", NULL, NULL)) {
		pg->rcpt_rej = 1;
		add_macro(&m, "{rcpt_mailer}", 13);
		add_macro(&m, "{auth_authen}", 13);
	}
	if (!m.computed) {
		add_macro(&m, "i", 1);
		pg->symlist = strdup(buf_cstr(&m.list) + 1);
		if (spf)
			add_macro(&m, "j", 1);
		pg->symlist_connect = strdup(buf_cstr(&m.list) + 1);
	}
	buf_free(&m.list);
	mfl_prog_sites(prog, "dnsbl", add_zone, pg);
	mfl_prog_sites(prog, "dnsbl_a", add_zone, pg);
}

/* program_settings - run the top level once, with no connection, to
 * read the settings it makes (the store's path and size); -1 and
 * ERRORS when it fails */
static int
program_settings(struct program *pg, struct buf *errors)
{
	struct mfl_run *run = mfl_run_new(pg->prog);
	struct value v;
	int rc = -1;

	if (run == NULL) {
		buf_puts(errors, "out of memory\n");
		return -1;
	}
	if (!pg->sieve && mfl_run_main(run) < 0) {
		buf_printf(errors, "%s (running the top level)\n", mfl_run_error(run));
		goto out;
	}
	if (mfl_run_get_control(run, "mvmtr_store", &v) == 0
	    && (pg->store_path = strndup(v.u.s.ptr, v.u.s.len)) == NULL)
		goto out;
	if (mfl_run_get_control(run, "mvmtr_store_size", &v) == 0)
		pg->store_size = v.u.i;
	if (mfl_run_get_control(run, "mvmtr_store_prefix", &v) == 0
	    && (pg->store_prefix = strndup(v.u.s.ptr, v.u.s.len)) == NULL)
		goto out;
	if (mfl_run_get_control(run, "mvmtr_store_connect_timeout", &v) == 0)
		pg->store_connect_ms = (int) v.u.i;
	if (mfl_run_get_control(run, "mvmtr_store_timeout", &v) == 0)
		pg->store_timeout_ms = (int) v.u.i;
	if (mfl_run_get_control(run, "mvmtr_autoblock_rejects", &v) == 0 && v.u.i > 0)
		pg->uses_store = 1;
	if (mfl_run_get_control(run, "mvmtr_delivery_socket", &v) == 0 && v.u.s.len > 0) {
		/* mvmda's service may need the whole message at its end */
		pg->delivery_check = 1;
		pg->needs |= NEED_HEADERS | NEED_EOH | NEED_BODY;
		if (pg->needs & NEED_DATA_ACCEPT)
			pg->needs |= NEED_DATA_UNLESS_ASKED;
		pg->needs &= ~(unsigned) NEED_DATA_ACCEPT;
	}
	rc = 0;
out:
	mfl_run_free(run);
	return rc;
}

/* program_store - the open store, or NULL */
struct store *
program_store(void)
{
	return store;
}

/* program_store_path - the store directory PG opens, or NULL when it
 * uses no store or one on a Redis server */
const char *
program_store_path(const struct program *pg)
{
	return pg->uses_store && !store_is_redis(pg->store_path) ? pg->store_path : NULL;
}

/* program_open_store - open the store PG names, once; later programs
 * that name another path are told to restart */
int
program_open_store(const struct program *pg, char *err, size_t errsize)
{
	struct store_conf sc = { (size_t) pg->store_size, pg->store_prefix,
				 pg->store_connect_ms, pg->store_timeout_ms };

	if (store != NULL || !pg->uses_store)
		return 0;
	store = store_open(pg->store_path, &sc, 0, err, errsize);
	return store != NULL ? 0 : -1;
}

/* program_compile - PATH compiled, with what it needs and one
 * reference for the caller; NULL and ERRORS when it does not compile */
struct program *
program_compile(const char *path, struct buf *errors)
{
	struct mfl_env *e = program_env();
	struct program *pg;

	if (e == NULL) {
		buf_puts(errors, "out of memory\n");
		return NULL;
	}
	if ((pg = calloc(1, sizeof(*pg))) == NULL || (pg->path = strdup(path)) == NULL) {
		free(pg);
		buf_puts(errors, "out of memory\n");
		return NULL;
	}
	if ((pg->prog = mfl_compile_file(e, path, -1, errors)) == NULL) {
		free(pg->path);
		free(pg);
		return NULL;
	}
	pg->sieve = mfl_prog_is_sieve(pg->prog);
	pg->refs = 1;		/* the caller's */
	program_needs(pg);
	pg->uses_store = intr_assess_used(pg->prog) || intr_msa_used(pg->prog);
	if (program_settings(pg, errors) < 0) {
		program_put(pg);
		return NULL;
	}
	return pg;
}

/* program_free - PG and what it holds */
static void
program_free(struct program *pg)
{
	mfl_prog_free(pg->prog);
	free(pg->symlist);
	free(pg->symlist_connect);
	for (size_t i = 0; i < pg->ndnsbl_zones; i++)
		free(pg->dnsbl_zones[i]);
	free(pg->dnsbl_zones);
	free(pg->store_path);
	free(pg->store_prefix);
	free(pg->path);
	free(pg);
}

/* program_install - PG becomes current; the old one goes when its
 * last connection closes */
int
program_install(struct program *pg)
{
	struct program *old;

	pthread_mutex_lock(&program_lock);
	old = current;
	current = pg;
	pg->refs++;
	pthread_mutex_unlock(&program_lock);
	if (old != NULL)
		program_put(old);
	return 0;
}

/* program_get - the current program, with a reference for the caller */
struct program *
program_get(void)
{
	struct program *pg;

	pthread_mutex_lock(&program_lock);
	if ((pg = current) != NULL)
		pg->refs++;
	pthread_mutex_unlock(&program_lock);
	return pg;
}

/* program_put - drop a reference */
void
program_put(struct program *pg)
{
	int last;

	if (pg == NULL)
		return;
	pthread_mutex_lock(&program_lock);
	last = --pg->refs == 0;
	pthread_mutex_unlock(&program_lock);
	if (last)
		program_free(pg);
}

/* program_reload - compile the script again; on success it becomes
 * current, else the errors are logged and the old one stays */
int
program_reload(void)
{
	struct buf errors = BUF_INIT;
	struct program *pg = program_compile(program_script, &errors);
	const char *p, *nl;

	if (pg == NULL) {
		for (p = buf_cstr(&errors); *p; p = nl + (*nl != 0)) {
			nl = p + strcspn(p, "\n");
			if (nl > p)
				mtr_log(LOG_ERR, "%.*s", (int) (nl - p), p);
		}
		mtr_log(LOG_ERR, "reload: %s does not compile; keeping the running program",
			program_script);
		buf_free(&errors);
		return -1;
	}
	buf_free(&errors);
	if (store == NULL && pg->uses_store) {
		char err[512];

		if (program_open_store(pg, err, sizeof(err)) < 0) {
			mtr_log(LOG_ERR, "reload: the store: %s; keeping the running program", err);
			program_put(pg);
			return -1;
		}
	}
	program_install(pg);
	program_put(pg);
	mtr_log(LOG_INFO, "reload: %s compiled and in use", program_script);
	return 0;
}
