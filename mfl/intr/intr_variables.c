/*
 * intr_variables - RFC 5229 variables: "${name}" and "${N}" inside
 * Sieve strings, the set command with its modifiers, the string test;
 * and $match(N), the match variables for MFL mode.
 *
 * A Sieve variable is the MFL global string of the same name, lower
 * case (names are case-insensitive): `set "Folder" "x"` in a Sieve file
 * and `$folder` in MFL code are one variable. The parser turns a string
 * holding a valid reference into an A_INTERP node (only once "variables"
 * is required); the compiler makes it a concatenation of its constant
 * pieces, the globals and the match variables ${0}..${9} that the last
 * successful :matches or :regex left (see tmatch.c). A reference that
 * is not well formed ("${a", "${ a}") stays literal text, as RFC 5229
 * 3 says; a number above 9 is the empty string, as in Pigeonhole.
 *
 * DIAGNOSTICS: compile errors for a set name that is not a constant
 * identifier, two modifiers of one precedence, and a reference into a
 * namespace no extension defines.
 */
#include "config.h"

#include <string.h>

#include "compile.h"
#include "match.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/str.h"
#include "prog.h"
#include "tmatch.h"

/* is_ident - identifier = (ALPHA / "_") *(ALPHA / DIGIT / "_") */
static int
is_ident(const char *s, size_t len)
{
	if (len == 0 || !(ascii_isalpha(s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!(ascii_isalpha(s[i]) || ascii_isdigit(s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

/* var_ref_kind - what "${NAME}" is: VREF_NUM, VREF_NAME, VREF_NS
 * (namespace.name), or VREF_NONE (not a reference: literal text) */
int
var_ref_kind(const char *name, size_t len)
{
	size_t i = 0, part = 0;

	while (i < len && ascii_isdigit(name[i]))
		i++;
	if (len > 0 && i == len)
		return VREF_NUM;
	for (i = 0; i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		if (!is_ident(name + part, i - part))
			return VREF_NONE;
		part = i + 1;
	}
	return memchr(name, '.', len) != NULL ? VREF_NS : VREF_NAME;
}

/* var_ref_next - the next reference in S from *POS: its "${" at
 * *START, its name at NAME/NAME_LEN; 0 when there is none */
int
var_ref_next(const char *s, size_t len, size_t *pos, size_t *start,
	     const char **name, size_t *name_len)
{
	for (size_t i = *pos; i + 1 < len; i++) {
		const char *close;

		if (s[i] != '$' || s[i + 1] != '{')
			continue;
		close = memchr(s + i + 2, '}', len - i - 2);
		if (close == NULL)
			return 0;
		if (var_ref_kind(s + i + 2, (size_t) (close - s - i - 2)) == VREF_NONE)
			continue;
		*start = i;
		*name = s + i + 2;
		*name_len = (size_t) (close - s - i - 2);
		*pos = (size_t) (close + 1 - s);
		return 1;
	}
	return 0;
}

/* svar_slot - the global slot of the string variable FULL (as it is
 * named inside: lower case, maybe with an include's prefix), made the
 * first time; MFL globals of that name count when MFL is set */
static int
svar_slot(struct compile *cc, const struct ast *at, const char *full, size_t len, int mfl)
{
	struct sym *s;

	for (size_t i = 0; i < cc->nsvars; i++)
		if (cc->svars[i].len == len && memcmp(cc->svars[i].name, full, len) == 0)
			return cc->svars[i].slot;
	for (size_t i = 0; mfl && i < cc->nsyms; i++) {
		s = &cc->syms[i];
		if (s->scope == SCOPE_GLOBAL && s->len == len && memcmp(s->name, full, len) == 0) {
			if (s->type != TYPE_STRING) {
				cerror(cc, at, "variable \"%s\" is the MFL global '$%s', which is "
				       "not a string", full, full);
				return -1;
			}
			return s->slot;
		}
	}
	if (compile_grow(cc, (void **) &cc->svars, cc->nsvars, &cc->svars_cap, sizeof(*s)) < 0
	    || compile_grow(cc, (void **) &cc->global_types, cc->nglobals, &cc->globals_cap,
			    sizeof(int)) < 0) {
		cerror(cc, at, "out of memory");
		return -1;
	}
	s = &cc->svars[cc->nsvars++];
	memset(s, 0, sizeof(*s));
	s->name = full;
	s->len = len;
	s->type = TYPE_STRING;
	s->scope = SCOPE_GLOBAL;
	cc->global_types[cc->nglobals] = TYPE_STRING;
	s->slot = (int) cc->nglobals++;
	return s->slot;
}

/* lower_copy - NAME in lower case, in the compiler's arena */
static char *
lower_copy(struct compile *cc, const char *name, size_t len)
{
	char *lower = arena_alloc(cc->arena, len + 1);

	if (lower == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		lower[i] = (char) ascii_lower((unsigned char) name[i]);
	lower[len] = 0;
	return lower;
}

/* sieve_var_global - the slot of NAME shared by every script (RFC 6609
 * global, ${global.name}); -1 after an error */
int
sieve_var_global(struct compile *cc, const struct ast *at, const char *name, size_t len)
{
	char *lower = lower_copy(cc, name, len);

	if (lower == NULL) {
		cerror(cc, at, "out of memory");
		return -1;
	}
	return svar_slot(cc, at, lower, len, 1);
}

/* sieve_var_slot - the global slot of Sieve variable NAME as the script
 * being compiled sees it: an included script's own (RFC 6609 3.3)
 * unless it declared NAME global; -1 after an error */
int
sieve_var_slot(struct compile *cc, const struct ast *at, const char *name,
	       size_t len)
{
	char *lower = lower_copy(cc, name, len), *full;
	size_t plen;

	if (lower == NULL) {
		cerror(cc, at, "out of memory");
		return -1;
	}
	if (cc->var_prefix == NULL)
		return svar_slot(cc, at, lower, len, 1);
	for (size_t i = 0; i < cc->nscope_globals; i++)
		if (strcmp(cc->scope_globals[i], lower) == 0)
			return svar_slot(cc, at, lower, len, 1);
	plen = strlen(cc->var_prefix);
	if ((full = arena_alloc(cc->arena, plen + len + 1)) == NULL) {
		cerror(cc, at, "out of memory");
		return -1;
	}
	memcpy(full, cc->var_prefix, plen);
	memcpy(full + plen, lower, len + 1);
	return svar_slot(cc, at, full, plen + len, 0);
}

/* piece - push one piece of an interpolated string; 1 if pushed */
static int
piece(struct compile *cc, struct ast *n, const char *name, size_t len)
{
	int slot;

	if (var_ref_kind(name, len) == VREF_NUM) {
		size_t i = 0;
		unsigned num = 0;

		/* RFC 5229 3.2: at least ${0}..${9}; as Pigeonhole, up to
		 * ${MATCH_CAPS - 1}, and one above is empty */
		while (i < len && name[i] == '0')
			i++;
		if (len - i > 3)
			return 0;
		for (; i < len; i++)
			num = num * 10 + (unsigned) (name[i] - '0');
		if (num >= MATCH_CAPS)
			return 0;
		cc->at = n;
		emit(cc, OP_GETMATCH, (int32_t) num);
		return 1;
	}
	if (var_ref_kind(name, len) == VREF_NS) {
		/* RFC 6609 3.4: ${global.name} is the shared variable */
		if (len > 7 && mem_ieq(name, "global.", 7) && var_ref_kind(name + 7, len - 7) == VREF_NAME)
			slot = sieve_var_global(cc, n, name + 7, len - 7);
		else if (len > 4 && mem_ieq(name, "env.", 4)
			 && n->op) {	/* the parser saw vnd.dovecot.environment */
			/* vnd.dovecot.environment: the environment item */
			extern const struct intrinsic intr_env_item;
			struct ast *call = ast_new(cc->arena, A_SIEVE, n->file, n->line, n->col);
			struct ast *arg = ast_new(cc->arena, A_STR, n->file, n->line, n->col);

			if (call == NULL || arg == NULL || ast_push(cc->arena, call, arg) < 0) {
				cerror(cc, n, "out of memory");
				return -1;
			}
			arg->str = name + 4;
			arg->len = len - 4;
			arg->type = TYPE_STRING;
			call->intr = &intr_env_item;
			call->str = intr_env_item.name;
			return compile_site(cc, call) < 0 ? -1 : 1;
		} else if (len == 8 && mem_ieq(name, "tst.path", 8)
			 && (slot = env_control_find(cc->env, "mfl_testsuite_path", 18)) >= 0) {
			/* vnd.dovecot.testsuite's namespace (mflc -T only): the
			 * test file's directory */
			cc->at = n;
			emit(cc, OP_GETC, slot);
			return 1;
		} else {
			cerror(cc, n, "\"${%.*s}\" refers to an unknown variable namespace",
			       (int) (len > 40 ? 40 : len), name);
			return -1;
		}
	} else {
		slot = sieve_var_slot(cc, n, name, len);
	}
	if (slot < 0)
		return -1;
	cc->at = n;
	emit(cc, OP_GETG, slot);
	return 1;
}

/* compile_interp - an A_INTERP string: its pieces joined; TYPE_STRING
 * or -1 */
int
compile_interp(struct compile *cc, struct ast *n)
{
	size_t pos = 0, start, name_len, lit = 0;
	const char *name;
	int pushed = 0, r;

	for (;;) {
		int more = var_ref_next(n->str, n->len, &pos, &start, &name, &name_len);
		size_t end = more ? start : n->len;

		cc->at = n;
		if (end > lit) {
			emit(cc, OP_PUSHK, const_str(cc, n->str + lit, end - lit));
			if (pushed++)
				emit(cc, OP_CONCAT, 0);
		}
		if (!more)
			break;
		if ((r = piece(cc, n, name, name_len)) < 0)
			return -1;
		if (r > 0 && pushed++)
			emit(cc, OP_CONCAT, 0);
		lit = pos;
	}
	if (!pushed)
		emit(cc, OP_PUSHK, const_str(cc, "", 0));
	return TYPE_STRING;
}

/* Modifiers of set (RFC 5229 4), grouped by precedence. */
enum {
	SET_LOWER, SET_UPPER, SET_LOWERFIRST, SET_UPPERFIRST,
	SET_QUOTEWILDCARD, SET_QUOTEREGEX, SET_LENGTH, SET_ENCODEURL
};

static const struct intr_tag set_tags[] = {
	{ .name = "lower", .group = TG_CASE, .id = SET_LOWER },
	{ .name = "upper", .group = TG_CASE, .id = SET_UPPER },
	{ .name = "lowerfirst", .group = TG_FIRST, .id = SET_LOWERFIRST },
	{ .name = "upperfirst", .group = TG_FIRST, .id = SET_UPPERFIRST },
	{ .name = "quotewildcard", .group = TG_QUOTE, .id = SET_QUOTEWILDCARD },
	{ .name = "quoteregex", .group = TG_QUOTE, .id = SET_QUOTEREGEX,
	  .capability = "regex" },
	{ .name = "length", .id = SET_LENGTH },
	/* RFC 5435 6: precedence 15, between the quoting ones and length */
	{ .name = "encodeurl", .id = SET_ENCODEURL, .capability = "enotify" },
	{ .name = NULL }
};

/* set_modify - VAL changed by set's modifiers in TAGS, into OUT */
static void
set_modify(uint32_t tags, const char *val, size_t len, struct buf *out)
{
	struct buf tmp = BUF_INIT;

	tmp.limit = out->limit;
	buf_append(out, val, len);
	if (tags & (1u << SET_LOWER | 1u << SET_UPPER))
		for (size_t i = 0; i < out->len; i++)
			out->data[i] = (char) ((tags & (1u << SET_LOWER))
					       ? ascii_lower((unsigned char) out->data[i])
					       : ascii_upper((unsigned char) out->data[i]));
	if (out->len > 0 && (tags & (1u << SET_LOWERFIRST)))
		out->data[0] = (char) ascii_lower((unsigned char) out->data[0]);
	if (out->len > 0 && (tags & (1u << SET_UPPERFIRST)))
		out->data[0] = (char) ascii_upper((unsigned char) out->data[0]);
	if (tags & (1u << SET_QUOTEWILDCARD | 1u << SET_QUOTEREGEX)) {
		const char *special = (tags & (1u << SET_QUOTEWILDCARD)) ? "*?\\"
		    : "\\.*+?^$()[]{}|";

		for (size_t i = 0; i < out->len; i++) {
			if (out->data[i] != 0 && strchr(special, out->data[i]) != NULL)
				buf_putc(&tmp, '\\');
			buf_putc(&tmp, out->data[i]);
		}
		buf_reset(out);
		buf_append(out, tmp.data, tmp.len);
	}
	if (tags & (1u << SET_ENCODEURL)) {
		/* RFC 3986 2.3: all but the unreserved characters as %XX */
		buf_reset(&tmp);
		for (size_t i = 0; i < out->len; i++) {
			unsigned char c = (unsigned char) out->data[i];

			if (ascii_isalpha(c) || ascii_isdigit(c) || c == '-' || c == '.' || c == '_'
			    || c == '~')
				buf_putc(&tmp, c);
			else
				buf_printf(&tmp, "%%%02X", c);
		}
		buf_reset(out);
		buf_append(out, tmp.data, tmp.len);
	}
	if (tags & (1u << SET_LENGTH)) {
		size_t chars = 0;

		/* characters, not octets: UTF-8 continuation bytes do not count */
		for (size_t i = 0; i < out->len; i++)
			chars += ((unsigned char) out->data[i] & 0xc0) != 0x80;
		buf_reset(out);
		buf_printf(out, "%zu", chars);
	}
	buf_free(&tmp);
}

/* intr_set_value - VAL, changed by set's modifiers in TAGS (bits of
 * set's tag ids; extracttext shares them), into the variable in SITE's
 * aux; 0 or -1 (runtime error) */
int
intr_set_value(struct mfl_run *run, const struct site *site, uint32_t tags,
	       const char *val, size_t len)
{
	struct buf out;
	struct value v;
	int rc;

	run_buf_init(run, &out);
	if (tags == 0)
		rc = run_str(run, val, len, &v);
	else {
		set_modify(tags, val, len, &out);
		rc = out.failed ? -1 : run_str(run, out.data ? out.data : "", out.len, &v);
		buf_free(&out);
	}
	if (rc < 0)
		return run_error(run, site, "memory limit reached");
	run->globals[site->aux] = v;
	return 0;
}

/* set: set [MODIFIER] <name: string> <value: string> */
static int
set_run(struct mfl_run *run, const struct site *site, struct value *args,
	struct value *ret)
{
	(void) ret;
	if (site->tags == 0) {		/* the value as it is, no copy */
		run->globals[site->aux] = args[1];
		return 0;
	}
	return intr_set_value(run, site, site->tags, args[1].u.s.ptr, args[1].u.s.len);
}

/* sieve_var_name_slot - the slot of the variable NAME names: a
 * constant identifier (RFC 5229 4) or global.IDENTIFIER, else a compile
 * error saying WHAT wanted it; -1 after an error */
int
sieve_var_name_slot(struct compile *cc, const struct ast *name, const char *what)
{
	/* RFC 6609 3.4.2: "global.NAME" is the shared variable NAME, as
	 * ${global.NAME} reads it */
	if (name->kind == A_STR && name->len > 7 && mem_ieq(name->str, "global.", 7)
	    && var_ref_kind(name->str + 7, name->len - 7) == VREF_NAME)
		return sieve_var_global(cc, name, name->str + 7, name->len - 7);
	if (name->kind != A_STR || var_ref_kind(name->str, name->len) != VREF_NAME) {
		cerror(cc, name, "%s: the name must be a constant identifier (RFC 5229 4)", what);
		return -1;
	}
	return sieve_var_slot(cc, name, name->str, name->len);
}

/* set_check - the name is a constant identifier; its slot goes to aux */
static int
set_check(struct compile *cc, struct ast *n, struct site *site)
{
	return (site->aux = sieve_var_name_slot(cc, n->items[0], "set")) < 0 ? -1 : 0;
}

const struct intrinsic intr_set = {
	.name = "set",
	.kind = INTR_COMMAND,
	.aux = INTR_AUX_GLOBAL,
	.capability = "variables",
	.args = "ss",
	.tags = set_tags,
	.check = set_check,
	.run = set_run,
};

/* string: string [MATCH-TYPE] [COMPARATOR] <source: string-list> <key-list>;
 * :count counts the sources that are not empty (RFC 5229 5) */
static int
string_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	const struct value *sources;
	size_t n;
	struct tmatch tm;
	int m = 0;

	run_strlist(run, site, &args[0], &n, &sources);
	tmatch_init(&tm, run, site, &args[1]);
	for (size_t i = 0; i < n && m == 0; i++)
		if (site->match != MATCH_COUNT || sources[i].u.s.len > 0)
			m = tmatch_one(&tm, sources[i].u.s.ptr, sources[i].u.s.len);
	if (m == 0)
		m = tmatch_end(&tm);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

const struct intrinsic intr_string = {
	.name = "string",
	.kind = INTR_TEST,
	.capability = "variables",
	.args = "ll",
	.flags = INTR_F_MATCH,
	.run = string_run,
};

/* global: global <value: string-list> - these variables are the ones
 * every script shares (RFC 6609 3.3); a compile-time declaration */
static int
global_check(struct compile *cc, struct ast *n, struct site *site)
{
	struct ast *arg = n->items[0], *one[1] = { arg };
	struct ast **items = arg->kind == A_LIST ? arg->items : one;
	size_t count = arg->kind == A_LIST ? arg->nitems : 1;
	const char **v;

	(void) site;
	for (size_t i = 0; i < count; i++) {
		if (items[i]->kind != A_STR || var_ref_kind(items[i]->str, items[i]->len) != VREF_NAME) {
			cerror(cc, items[i], "global: a variable name must be a constant identifier");
			return -1;
		}
		if ((v = arena_alloc(cc->arena, (cc->nscope_globals + 1) * sizeof(*v))) == NULL
		    || (v[cc->nscope_globals] = lower_copy(cc, items[i]->str, items[i]->len)) == NULL) {
			cerror(cc, n, "out of memory");
			return -1;
		}
		if (cc->nscope_globals)
			memcpy(v, cc->scope_globals, cc->nscope_globals * sizeof(*v));
		cc->scope_globals = v;
		cc->nscope_globals++;
	}
	return 0;
}

/* global_run - nothing is left to do when the script runs */
static int
global_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	(void) run, (void) site, (void) args, (void) ret;
	return 0;
}

const struct intrinsic intr_global = {
	.name = "global",
	.kind = INTR_COMMAND,
	.capability = "include",
	.args = "l",
	.check = global_check,
	.run = global_run,
};

/* $match(n): match variable N (0..99), "" when not set */
static int
match_fn_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	(void) site;
	*ret = args[0].u.i >= 0 && args[0].u.i < run->n_match_vars
	    ? run->match_vars[args[0].u.i] : value_str("", 0);
	return 0;
}

const struct intrinsic intr_match_fn = {
	.name = "match",
	.kind = INTR_FUNCTION,
	.args = "i",
	.ret = TYPE_STRING,
	.run = match_fn_run,
};
