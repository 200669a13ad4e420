/*
 * compile_site - code for a call of an intrinsic: a Sieve command or
 * test, or a $function. The tags are resolved now (match type,
 * comparator, address part, the intrinsic's own tags), the positional
 * arguments are checked against the intrinsic's argument string, and the
 * call becomes one OP_INTR naming a site that records all of it.
 *
 * Arguments go on the stack positional first, then the values of the
 * tags that take one; site->tag_arg[id] says where each tag's value is.
 *
 * DIAGNOSTICS: errors go to the compiler's diag with file:line:col.
 */
#include "config.h"

#include <string.h>

#include "compile.h"
#include "match.h"
#include "msg/arena.h"
#include "tmatch.h"

/* new_site - a zeroed site in the program, or NULL */
static struct site *
new_site(struct compile *cc, size_t *index_r)
{
	struct site *site;

	if (cc->nsites == cc->sites_cap) {
		size_t cap = cc->sites_cap ? cc->sites_cap * 2 : 32;
		struct site *v = arena_alloc(cc->arena, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		if (cc->nsites)
			memcpy(v, cc->sites, cc->nsites * sizeof(*v));
		cc->sites = v;
		cc->sites_cap = cap;
	}
	*index_r = cc->nsites;
	site = &cc->sites[cc->nsites++];
	memset(site, 0, sizeof(*site));
	memset(site->tag_arg, -1, sizeof(site->tag_arg));
	return site;
}

/* required_args - how many positional arguments must be given */
static size_t
required_args(const char *spec)
{
	size_t n = 0;

	for (const char *a = spec; *a && *a != '?'; a++)
		if (*a != '*')
			n++;
	return n;
}

/* intr_facts_of - what site_valid() checks a site of INTR against,
 * worked out once for all its sites */
void
intr_facts_of(const struct intrinsic *intr, struct intr_facts *f)
{
	*f = (struct intr_facts) { required_args(intr->args), intr_max_positional(intr), 0, 0 };
	/* the ids of the intrinsic's own tags, and of those with a value
	 * (match types, comparators, address parts have fields of their own) */
	for (const struct intr_tag *t = intr->tags; t != NULL && t->name != NULL; t++)
		if (t->group != TG_MATCH && t->group != TG_COMPARATOR && t->group != TG_ADDRPART
		    && t->id >= 0 && t->id < SITE_TAGS_MAX) {
			f->known |= 1u << t->id;
			if (t->arg != TAGARG_NONE)
				f->valued |= 1u << t->id;
		}
}

/* site_valid_as - site_valid() with its intrinsic's facts F at hand */
int
site_valid_as(const struct site *site, size_t nglobals, const struct intr_facts *f)
{
	const struct intrinsic *intr = site->intr;
	uint32_t taken = 0;
	uint64_t lo, hi;
	int tagged = 0;

	if (site->npos < 0 || (size_t) site->npos < f->required
	    || (size_t) site->npos > f->max_pos || site->nargs < site->npos
	    || site->nargs - site->npos > SITE_TAGS_MAX || (site->tags >> SITE_TAGS_MAX) != 0
	    || site->match < 0 || site->match > MATCH_LIST || site->relop < 0
	    || site->relop > REL_NE || site->comparator < 0 || site->comparator > CMP_UNICODE_CASEMAP
	    || site->addrpart < 0 || site->addrpart > 4 || (site->tags & ~f->known))
		return 0;
	/* most sites have no tag of the intrinsic's own: all of tag_arg is -1 */
	_Static_assert(SITE_TAGS_MAX == 16, "tag_arg is read as two words");
	memcpy(&lo, site->tag_arg, 8);
	memcpy(&hi, site->tag_arg + 8, 8);
	for (int id = 0; (site->tags != 0 || lo != UINT64_MAX || hi != UINT64_MAX)
		     && id < SITE_TAGS_MAX; id++) {
		int present = (site->tags >> id) & 1, at = site->tag_arg[id];

		if (at < 0) {
			if (at < -1 || (present && (f->valued & (1u << id))))
				return 0;
			continue;
		}
		if (!present || !(f->valued & (1u << id)) || at < site->npos || at >= site->nargs
		    || (taken & (1u << (at - site->npos))))
			return 0;
		taken |= 1u << (at - site->npos);
		tagged++;
	}
	if (site->nargs != site->npos + tagged)
		return 0;
	switch (intr->aux) {
	case INTR_AUX_GLOBAL:
		return site->aux >= 0 && (size_t) site->aux < nglobals;
	case INTR_AUX_GLOBAL_OR_0:
		return site->aux >= 0 && (size_t) site->aux <= nglobals;
	default:
		return site->aux == 0;
	}
}

/* site_valid - SITE as the compiler makes it: as many positional
 * arguments as its intrinsic takes, each tag present one it knows with
 * its value on the stack once, nothing else on the stack, the match,
 * relation, comparator and address part in range, and an aux inside
 * NGLOBALS globals where the intrinsic keeps one; a program read back
 * from the cache must pass it for every site (verify.c) */
int
site_valid(const struct site *site, size_t nglobals)
{
	struct intr_facts f;

	if (site->intr == NULL)
		return 0;
	intr_facts_of(site->intr, &f);
	return site_valid_as(site, nglobals, &f);
}

/* kind_fits - a value of TYPE may be passed as argument KIND */
static int
kind_fits(int kind, int type)
{
	switch (kind) {
	case 's': return type == TYPE_STRING;
	case 'l': return type == TYPE_STRING || type == TYPE_ARRAY(TYPE_STRING)
		    || type == TYPE_ARRAY(TYPE_ANY);
	case 'i': return type == TYPE_INT;
	case 'A': return TYPE_IS_ARRAY(type);
	case 'x': return type == TYPE_STRING || TYPE_IS_ARRAY(type);
	default: return type != TYPE_VOID;
	}
}

/* kind_name - how an error message names an argument kind */
static const char *
kind_name(int kind)
{
	switch (kind) {
	case 's': return "a string";
	case 'l': return "a string list";
	case 'i': return "a number";
	case 'A': return "an array";
	case 'x': return "a string or an array";
	default: return "a value";
	}
}

/* const_strlist - push a list of string literals, given as an argument
 * that no script can change, as one constant array made at compile
 * time; 0 when N is not such a list */
static int
const_strlist(struct compile *cc, struct ast *n)
{
	struct marr *a;
	struct value v;

	if (n->kind != A_LIST || n->nitems == 0)
		return 0;
	for (size_t i = 0; i < n->nitems; i++)
		if (n->items[i]->kind != A_STR)
			return 0;
	if ((a = arena_zalloc(cc->prog->arena, sizeof(*a))) == NULL
	    || (a->items = arena_alloc(cc->prog->arena, n->nitems * sizeof(*a->items))) == NULL)
		return 0;
	for (size_t i = 0; i < n->nitems; i++) {
		char *s = arena_memdup(cc->prog->arena, n->items[i]->str, n->items[i]->len);

		if (s == NULL)
			return 0;
		a->items[i] = value_str(s, n->items[i]->len);
	}
	a->len = a->cap = n->nitems;
	v.type = V_ARR;
	v.u.a = a;
	cc->at = n;
	emit(cc, OP_PUSHK, const_value(cc, v));
	return 1;
}

/* site_tags - resolve N's tags into SITE; -1 after an error */
static int
site_tags(struct compile *cc, struct ast *n, struct site *site)
{
	const struct sieve_tag *seen[TG__COUNT] = { NULL };

	for (size_t i = 0; i < n->ntags; i++) {
		const struct sieve_tag *tag = &n->tags[i];
		const struct intr_tag *def = tag->def;

		if (def->group != TG_NONE) {
			if (seen[def->group] != NULL) {
				cerror(cc, n, "%s: :%s and :%s cannot be used together",
				       n->intr->name, seen[def->group]->name, tag->name);
				return -1;
			}
			seen[def->group] = tag;
		} else if (site->tags & (1u << def->id)) {
			cerror(cc, n, "%s: tag :%s given twice", n->intr->name, tag->name);
			return -1;
		}
		switch (def->group) {
		case TG_MATCH:
			site->match = def->id;
			if (tag->arg == NULL)
				break;
			/* RFC 5231: the operator is a constant, one of six */
			if (tag->arg->kind != A_STR
			    || (site->relop = relop_find(tag->arg->str, tag->arg->len)) < 0) {
				cerror(cc, tag->arg, "%s: :%s takes \"gt\", \"ge\", \"lt\", "
				       "\"le\", \"eq\" or \"ne\"", n->intr->name, tag->name);
				return -1;
			}
			break;
		case TG_ADDRPART:
			site->addrpart = def->id;
			break;
		case TG_COMPARATOR:
			if (tag->arg->kind != A_STR) {
				cerror(cc, n, "%s: :comparator takes a constant string", n->intr->name);
				return -1;
			}
			site->comparator = comparator_find(tag->arg->str, tag->arg->len);
			if (site->comparator < 0) {
				cerror(cc, tag->arg, "unknown comparator \"%.*s\"",
				       (int) (tag->arg->len > 60 ? 60 : tag->arg->len), tag->arg->str);
				return -1;
			}
			break;
		default:
			site->tags |= 1u << def->id;
			break;
		}
	}
	if ((n->intr->flags & INTR_F_MATCH)
	    && !comparator_supports(site->comparator, site->match)) {
		cerror(cc, n, "%s: comparator %s cannot do :%s", n->intr->name,
		       comparator_name(site->comparator),
		       site->match == MATCH_CONTAINS ? "contains"
		       : site->match == MATCH_REGEX ? "regex" : "matches");
		return -1;
	}
	return 0;
}

/* site_args - push positional arguments, then tag values; the site is
 * named by INDEX since compiling an argument may move the table */
static int
site_args(struct compile *cc, struct ast *n, size_t index)
{
	const struct intrinsic *intr = n->intr;
	size_t need = required_args(intr->args);
	int nargs = 0;

	if (n->nitems < need) {
		cerror(cc, n, "%s needs %zu argument%s, not %zu", intr->name, need,
		       need == 1 ? "" : "s", n->nitems);
		return -1;
	}
	for (size_t i = 0; i < n->nitems; i++) {
		int optional, kind = intr_arg_kind(intr->args, i, &optional), t;

		if (kind == 0) {
			cerror(cc, n->items[i], "%s takes %zu argument%s", intr->name,
			       intr_max_positional(intr),
			       intr_max_positional(intr) == 1 ? "" : "s");
			return -1;
		}
		if (kind == 'l' && const_strlist(cc, n->items[i]))
			t = TYPE_ARRAY(TYPE_STRING);
		else if ((t = compile_expr(cc, n->items[i], 1)) < 0)
			return -1;
		if (!kind_fits(kind, t)) {
			cerror(cc, n->items[i], "argument %zu of %s must be %s", i + 1,
			       intr->name, kind_name(kind));
			return -1;
		}
		nargs++;
	}
	cc->sites[index].npos = nargs;
	for (size_t i = 0; i < n->ntags; i++) {
		const struct sieve_tag *tag = &n->tags[i];
		int want, t;

		if (tag->arg == NULL || tag->def->group == TG_COMPARATOR
		    || tag->def->group == TG_MATCH)
			continue;
		want = tag->def->arg == TAGARG_NUMBER ? 'i'
		    : tag->def->arg == TAGARG_STRLIST ? 'l' : 's';
		if (want == 'l' && const_strlist(cc, tag->arg))
			t = TYPE_ARRAY(TYPE_STRING);
		else if ((t = compile_expr(cc, tag->arg, 1)) < 0)
			return -1;
		if (!kind_fits(want, t)) {
			cerror(cc, tag->arg, "%s: :%s takes %s", intr->name, tag->name,
			       kind_name(want));
			return -1;
		}
		cc->sites[index].tag_arg[tag->def->id] = (signed char) nargs++;
	}
	cc->sites[index].nargs = nargs;
	return 0;
}

/* const_arg - keep ARG, a string or a list of strings, in SITE for the
 * host, which wants it before running (mvmtr's macro names and DNSBL
 * zones): see mfl_prog_sites() */
static void
const_arg(struct compile *cc, const struct ast *arg, struct site *site)
{
	struct buf all = BUF_INIT;

	if (arg->kind == A_STR) {
		site->pattern = arena_memdup(cc->prog->arena, arg->str, arg->len);
		site->pattern_len = arg->len;
		return;
	}
	if (arg->kind != A_LIST || arg->nitems == 0)
		return;
	for (size_t i = 0; i < arg->nitems; i++) {
		if (arg->items[i]->kind != A_STR || memchr(arg->items[i]->str, 0, arg->items[i]->len)) {
			buf_free(&all);
			return;
		}
		buf_append(&all, arg->items[i]->str, arg->items[i]->len);
		buf_putc(&all, 0);
	}
	site->pattern = arena_memdup(cc->prog->arena, all.data, all.len);
	site->pattern_len = site->pattern != NULL ? all.len : 0;
	site->pattern_list = site->pattern != NULL;
	buf_free(&all);
}

/* compile_site - an intrinsic's call; its result type, or -1 */
int
compile_site(struct compile *cc, struct ast *n)
{
	const struct intrinsic *intr = n->intr;
	size_t index;
	struct site *site = new_site(cc, &index);

	if (site == NULL) {
		cerror(cc, n, "out of memory");
		return -1;
	}
	site->intr = intr;
	site->match = MATCH_IS;
	site->comparator = CMP_ASCII_CASEMAP;	/* RFC 5228 2.7.3 */
	if (site_tags(cc, n, site) < 0
	    || (intr->prepare != NULL && intr->prepare(cc, n, &cc->sites[index]) < 0)
	    || site_args(cc, n, index) < 0)
		return -1;
	site = &cc->sites[index];	/* the table may have moved */
	if ((intr->flags & INTR_F_CONST_ARG) && n->nitems > 0 && site->pattern == NULL)
		const_arg(cc, n->items[0], site);
	if ((intr->flags & INTR_F_MATCH) && n->nitems > 0
	    && tmatch_compile(cc, n->items[n->nitems - 1], site) < 0)
		return -1;
	if (intr->check != NULL && intr->check(cc, n, site) < 0)
		return -1;
	cc->at = n;
	emit(cc, OP_INTR, (int32_t) index);
	switch (intr->kind) {
	case INTR_TEST:
		return TYPE_INT;
	case INTR_COMMAND:
		return TYPE_VOID;
	default:
		return intr->ret;
	}
}
