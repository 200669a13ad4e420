/*
 * intr - the table of intrinsics, looked up by name and kind, and the
 * tags that many share: the match types and comparator of RFC 5228 2.7
 * and the address parts of 2.7.4. Each intrinsic's descriptor and run
 * function live in its family's file (intr_test.c, intr_action.c,
 * intr_string.c).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "compile.h"
#include "env.h"
#include "intr.h"
#include "match.h"
#include "mflapi.h"

extern const struct intrinsic intr_header, intr_address, intr_envelope,
	intr_exists, intr_size, intr_header_fn, intr_headers_fn;
extern const struct intrinsic intr_keep, intr_discard, intr_redirect,
	intr_fileinto, intr_reject, intr_ereject;
extern const struct intrinsic intr_length, intr_substr, intr_index,
	intr_lower, intr_upper, intr_sprintf, intr_split, intr_join,
	intr_regmatch, intr_log, intr_atoi;
extern const struct intrinsic intr_set, intr_string, intr_match_fn;
extern const struct intrinsic intr_setflag, intr_addflag, intr_removeflag,
	intr_hasflag, intr_mark, intr_unmark;
extern const struct intrinsic intr_body, intr_environment, intr_date,
	intr_currentdate, intr_spamtest, intr_virustest, intr_ihave, intr_error,
	intr_mailboxexists, intr_addheader, intr_deleteheader, intr_duplicate,
	intr_vacation, intr_global, intr_fep_begin, intr_fep_next, intr_fep_end,
	intr_extracttext, intr_notify, intr_valid_notify_method,
	intr_notify_method_capability, intr_debug_log, intr_specialuse_exists,
	intr_valid_ext_list, intr_notify_old, intr_denotify, intr_report, intr_replace,
	intr_enclose;

const struct intrinsic *const intr_table[] = {
	&intr_header, &intr_address, &intr_envelope, &intr_exists, &intr_size,
	&intr_keep, &intr_discard, &intr_redirect, &intr_fileinto,
	&intr_reject, &intr_ereject,
	&intr_length, &intr_substr, &intr_index, &intr_lower, &intr_upper,
	&intr_sprintf, &intr_split, &intr_join, &intr_regmatch, &intr_log,
	&intr_atoi, &intr_header_fn, &intr_headers_fn,
	&intr_set, &intr_string, &intr_match_fn,
	&intr_setflag, &intr_addflag, &intr_removeflag, &intr_hasflag, &intr_mark, &intr_unmark,
	&intr_body, &intr_environment, &intr_date, &intr_currentdate,
	&intr_spamtest, &intr_virustest, &intr_ihave, &intr_error,
	&intr_mailboxexists, &intr_addheader, &intr_deleteheader, &intr_duplicate,
	&intr_vacation, &intr_global, &intr_fep_begin, &intr_fep_next, &intr_fep_end,
	&intr_extracttext, &intr_notify, &intr_valid_notify_method,
	&intr_notify_method_capability, &intr_debug_log, &intr_specialuse_exists,
	&intr_valid_ext_list,
	&intr_notify_old,	/* after enotify's notify: Sieve picks by require */
	&intr_denotify, &intr_report, &intr_replace, &intr_enclose,
	NULL
};

const struct intr_tag intr_match_tags[] = {
	{ .name = "is", .group = TG_MATCH, .id = MATCH_IS },
	{ .name = "contains", .group = TG_MATCH, .id = MATCH_CONTAINS },
	{ .name = "matches", .group = TG_MATCH, .id = MATCH_MATCHES },
	{ .name = "value", .arg = TAGARG_STRING, .group = TG_MATCH, .id = MATCH_VALUE,
	  .capability = "relational" },
	{ .name = "count", .arg = TAGARG_STRING, .group = TG_MATCH, .id = MATCH_COUNT,
	  .capability = "relational" },
	{ .name = "regex", .group = TG_MATCH, .id = MATCH_REGEX, .capability = "regex" },
	{ .name = "list", .group = TG_MATCH, .id = MATCH_LIST, .capability = "extlists" },
	{ .name = "comparator", .arg = TAGARG_STRING, .group = TG_COMPARATOR },
	{ .name = NULL }
};

const struct intr_tag intr_addrpart_tags[] = {
	{ .name = "all", .group = TG_ADDRPART, .id = 0 },
	{ .name = "localpart", .group = TG_ADDRPART, .id = 1 },
	{ .name = "domain", .group = TG_ADDRPART, .id = 2 },
	{ .name = "user", .group = TG_ADDRPART, .id = 3, .capability = "subaddress" },
	{ .name = "detail", .group = TG_ADDRPART, .id = 4, .capability = "subaddress" },
	{ .name = NULL }
};

/* intr_arg_kind - the kind ('s', 'l', 'i', 'a', 'A', 'x') of positional
 * argument I in SPEC, 0 if there is none; *OPTIONAL_R when it may be
 * left out */
int
intr_arg_kind(const char *spec, size_t i, int *optional_r)
{
	size_t k = 0;

	*optional_r = 0;
	for (const char *a = spec; *a; a++) {
		if (*a == '?') {
			*optional_r = 1;
			continue;
		}
		if (*a == '*')
			return a[-1];
		if (k++ == i)
			return *a;
	}
	if (*spec && spec[strlen(spec) - 1] == '*')
		return spec[strlen(spec) - 2];
	return 0;
}

/* intr_tag_kind - the kind of the value tag ID of INTR takes ('s', 'i',
 * 'l'), 0 for none */
int
intr_tag_kind(const struct intrinsic *intr, int id)
{
	for (const struct intr_tag *t = intr->tags; t != NULL && t->name != NULL; t++)
		if (t->id == id && t->group != TG_MATCH && t->group != TG_COMPARATOR
		    && t->group != TG_ADDRPART)
			return t->arg == TAGARG_STRING ? 's' : t->arg == TAGARG_NUMBER ? 'i'
			    : t->arg == TAGARG_STRLIST ? 'l' : 0;
	return 0;
}

/* intr_match - IN is NAME of KIND (names compared without case) */
static int
intr_match(const struct intrinsic *in, const char *name, size_t len,
	   enum intr_kind kind)
{
	/* the first letter rules out nearly all before strlen */
	return in->kind == kind && (in->name[0] | 0x20) == (len ? (name[0] | 0x20) : 0)
	    && strlen(in->name) == len && strncasecmp(in->name, name, len) == 0;
}

/* cap_is - IN needs the capability CAP (CAP_LEN bytes; 0: none), or
 * CAP is NULL (any) */
static int
cap_is(const struct intrinsic *in, const char *cap, size_t cap_len)
{
	if (cap == NULL)
		return 1;
	return in->capability == NULL ? cap_len == 0
	    : strlen(in->capability) == cap_len && memcmp(in->capability, cap, cap_len) == 0;
}

/* intr_find - the intrinsic NAME of KIND: built in, or the host's */
const struct intrinsic *
intr_find(const struct mfl_env *env, const char *name, size_t len,
	  enum intr_kind kind)
{
	return intr_find_as(env, name, len, kind, NULL, 0);
}

/* intr_find_as - the intrinsic NAME (LEN bytes) of KIND that needs the
 * capability CAP (CAP_LEN bytes, 0 for none; CAP NULL: whichever comes
 * first): of two with one name (enotify's notify and the deprecated
 * one), the one a program read back from the cache was compiled with */
const struct intrinsic *
intr_find_as(const struct mfl_env *env, const char *name, size_t len, enum intr_kind kind,
	     const char *cap, size_t cap_len)
{
	for (size_t i = 0; intr_table[i] != NULL; i++)
		if (intr_match(intr_table[i], name, len, kind) && cap_is(intr_table[i], cap, cap_len))
			return intr_table[i];
	for (size_t i = 0; env != NULL && i < env->nintrs; i++)
		if (intr_match(env->intrs[i], name, len, kind) && cap_is(env->intrs[i], cap, cap_len))
			return env->intrs[i];
	return NULL;
}

/* intr_find_enabled - as intr_find, but of two with one name (enotify's
 * notify and the deprecated one) the one whose capability HAS (CTX,
 * capability) accepts; the first of them when none is */
const struct intrinsic *
intr_find_enabled(const struct mfl_env *env, const char *name, size_t len,
		  enum intr_kind kind, int (*has)(void *ctx, const char *cap), void *ctx)
{
	const struct intrinsic *first = NULL;

	for (size_t i = 0; intr_table[i] != NULL; i++)
		if (intr_match(intr_table[i], name, len, kind)) {
			if (has(ctx, intr_table[i]->capability))
				return intr_table[i];
			first = first ? first : intr_table[i];
		}
	for (size_t i = 0; env != NULL && i < env->nintrs; i++)
		if (intr_match(env->intrs[i], name, len, kind)) {
			if (has(ctx, env->intrs[i]->capability))
				return env->intrs[i];
			first = first ? first : env->intrs[i];
		}
	return first;
}

/* mfl_env_add_intrinsic - a host's command, test or $function; its
 * capability, if any, becomes one a Sieve script may require */
int
mfl_env_add_intrinsic(struct mfl_env *env, const struct intrinsic *in)
{
	if (in == NULL || in->name == NULL || in->run == NULL || in->args == NULL
	    || intr_find(env, in->name, strlen(in->name), in->kind) != NULL) {
		errno = EEXIST;
		return -1;
	}
	if (env->nintrs == ENV_INTRS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	env->intrs[env->nintrs++] = in;
	return 0;
}

/* intr_tag_cstr - the string of tag ID, copied as a C string, or NULL */
const char *
intr_tag_cstr(struct mfl_run *run, const struct site *site, struct value *args, int id)
{
	struct value *v;

	if (!intr_tag_present(site, id, args, &v) || v == NULL)
		return NULL;
	return run_cstr(run, v);
}

/* intr_fcc_check - :fcc's options (ids OPTIONS_ID ...) only with :fcc
 * (FCC_ID), and a constant :specialuse a flag (RFC 8580 4) */
int
intr_fcc_check(struct compile *cc, struct ast *n, struct site *site, int fcc_id, int options_id)
{
	uint32_t options = 7u << options_id;

	if ((site->tags & options) && !(site->tags & (1u << fcc_id))) {
		cerror(cc, n, "%s: :create, :flags and :specialuse go with :fcc (RFC 8580 4)",
		       n->intr->name);
		return -1;
	}
	for (size_t i = 0; i < n->ntags; i++) {
		const struct ast *v = n->tags[i].arg;

		if (n->tags[i].def->id == options_id + 2 && v != NULL && v->kind == A_STR
		    && !mfl_specialuse_flag_ok(v->str, v->len)) {
			cerror(cc, v, "%s: :specialuse \"%.*s\" is not a special-use flag (RFC 6154)",
			       n->intr->name, (int) (v->len > 40 ? 40 : v->len), v->str);
			return -1;
		}
	}
	return 0;
}

/* intr_fcc_options - the :flags and :specialuse of :fcc's copy into
 * *FLAGS_R and *SPECIALUSE_R (NULL when not given); -1 after a runtime
 * error (a :specialuse that is no flag) */
int
intr_fcc_options(struct mfl_run *run, const struct site *site, struct value *args,
		 int options_id, const char ***flags_r, const char **specialuse_r)
{
	struct value *flags;

	*flags_r = NULL;
	if (intr_tag_present(site, options_id + 1, args, &flags) && flags != NULL)
		*flags_r = run_flags(run, site, flags);
	*specialuse_r = intr_tag_cstr(run, site, args, options_id + 2);
	if (*specialuse_r != NULL && !mfl_specialuse_flag_ok(*specialuse_r, strlen(*specialuse_r)))
		return run_error(run, site, "%s: :specialuse \"%.40s\" is not a special-use flag",
				 site->intr->name, *specialuse_r);
	return 0;
}

/* intr_tag_present - tag ID was given; its value in *ARG_R if it has one */
int
intr_tag_present(const struct site *site, int id, struct value *args,
		 struct value **arg_r)
{
	if (!(site->tags & (1u << id)))
		return 0;
	if (arg_r != NULL)
		*arg_r = site->tag_arg[id] >= 0 ? &args[site->tag_arg[id]] : NULL;
	return 1;
}
