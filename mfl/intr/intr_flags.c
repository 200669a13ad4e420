/*
 * intr_flags - RFC 5232 imap4flags: setflag, addflag, removeflag, the
 * hasflag test, and the flag lists that keep, fileinto and the implicit
 * keep carry (the :flags tag, or the internal variable).
 *
 * A flag list is a string of flags separated by spaces; every change
 * splits it, drops flags that are not valid IMAP flags and duplicates
 * (flags compare without case), and joins it again, so a variable
 * always holds a clean list. The internal variable lives in the run;
 * with variables (RFC 5229), a command's first argument names a Sieve
 * variable instead, resolved when the script is compiled.
 *
 * DIAGNOSTICS: a compile error for a variable name that is not a
 * constant identifier; runtime errors only for the memory limit.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/str.h"
#include "prog.h"
#include "tmatch.h"

enum { FLAGOP_SET, FLAGOP_ADD, FLAGOP_REMOVE };

static const char *const system_flags[] = {
	"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", NULL
};

/* flag_valid - an IMAP system flag or keyword (RFC 3501 flag) */
static int
flag_valid(const char *f, size_t len)
{
	if (len > 0 && f[0] == '\\') {
		for (const char *const *s = system_flags; *s != NULL; s++)
			if (str_ieq_cstr(f, len, *s))
				return 1;
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) f[i];

		/* atom-specials and "]" are not in a keyword */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return 0;
	}
	return len > 0;
}

/* flag_in - FLAG is in the list LIST (a clean flag string) */
static int
flag_in(const char *list, size_t len, const char *flag, size_t flen)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && list[j] != ' ')
			j++;
		if (j - i == flen && mem_ieq(list + i, flag, flen))
			return 1;
		i = j + 1;
	}
	return 0;
}

/* flags_add - the flags in TEXT (space-separated) onto OUT, each valid
 * one once */
static void
flags_add(struct buf *out, const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j;

		while (i < len && (text[i] == ' ' || text[i] == '\t'))
			i++;
		for (j = i; j < len && text[j] != ' ' && text[j] != '\t'; j++)
			;
		if (j > i && flag_valid(text + i, j - i)
		    && !flag_in(out->data ? out->data : "", out->len, text + i, j - i)) {
			if (out->len > 0)
				buf_putc(out, ' ');
			buf_append(out, text + i, j - i);
		}
		i = j;
	}
}

/* flags_remove - OUT without the flags in TEXT */
static void
flags_remove(struct buf *out, const char *text, size_t len)
{
	struct buf kept = BUF_INIT;
	size_t i = 0;

	kept.limit = out->limit;
	while (i < out->len) {
		size_t j = i;

		while (j < out->len && out->data[j] != ' ')
			j++;
		if (!flag_in(text, len, out->data + i, j - i)) {
			if (kept.len > 0)
				buf_putc(&kept, ' ');
			buf_append(&kept, out->data + i, j - i);
		}
		i = j + 1;
	}
	buf_reset(out);
	buf_append(out, kept.data ? kept.data : "", kept.len);
	buf_free(&kept);
}

/* flag_var - the variable a site works on: a global, or the internal one */
static struct value *
flag_var(struct mfl_run *run, const struct site *site)
{
	return site->aux > 0 ? &run->globals[site->aux - 1] : &run->imap_flags;
}

/* flagop - setflag, addflag, removeflag with the list in ARGS[0] */
static int
flagop(struct mfl_run *run, const struct site *site, struct value *args, int op)
{
	struct value *var = flag_var(run, site);
	const struct value *items;
	size_t n;
	struct buf out;
	int rc;

	run_buf_init(run, &out);	/* the memory limit holds while it grows */
	run_strlist(run, site, &args[0], &n, &items);
	if (op != FLAGOP_SET && var->type == V_STR)
		flags_add(&out, var->u.s.ptr, var->u.s.len);
	for (size_t i = 0; i < n; i++) {
		if (op == FLAGOP_REMOVE)
			flags_remove(&out, items[i].u.s.ptr, items[i].u.s.len);
		else
			flags_add(&out, items[i].u.s.ptr, items[i].u.s.len);
	}
	rc = out.failed ? -1 : run_str(run, out.data ? out.data : "", out.len, var);
	buf_free(&out);
	return rc < 0 ? run_error(run, site, "memory limit reached") : 0;
}

static int
setflag_run(struct mfl_run *run, const struct site *site, struct value *args,
	    struct value *ret)
{
	(void) ret;
	return flagop(run, site, args, FLAGOP_SET);
}

static int
addflag_run(struct mfl_run *run, const struct site *site, struct value *args,
	    struct value *ret)
{
	(void) ret;
	return flagop(run, site, args, FLAGOP_ADD);
}

static int
removeflag_run(struct mfl_run *run, const struct site *site, struct value *args,
	       struct value *ret)
{
	(void) ret;
	return flagop(run, site, args, FLAGOP_REMOVE);
}

/* mark, unmark: the obsolete imapflags draft's shorthands (Roundcube and
 * KMail still write them): addflag and removeflag of \\Flagged on the
 * internal variable */
static int
mark_run(struct mfl_run *run, const struct site *site, struct value *args,
	 struct value *ret)
{
	struct value flagged = value_str("\\Flagged", 8);

	(void) args, (void) ret;
	return flagop(run, site, &flagged, FLAGOP_ADD);
}

static int
unmark_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	struct value flagged = value_str("\\Flagged", 8);

	(void) args, (void) ret;
	return flagop(run, site, &flagged, FLAGOP_REMOVE);
}

const struct intrinsic intr_mark = {
	.name = "mark", .kind = INTR_COMMAND, .capability = "imapflags",
	.args = "", .run = mark_run,
};

const struct intrinsic intr_unmark = {
	.name = "unmark", .kind = INTR_COMMAND, .capability = "imapflags",
	.args = "", .run = unmark_run,
};

/* flag_prepare - "cmd <variablename> <list>": the name is resolved now
 * (aux = its global slot + 1) and dropped from the arguments */
static int
flag_prepare(struct compile *cc, struct ast *n, struct site *site)
{
	if (n->nitems != 2)
		return 0;
	if ((site->aux = sieve_var_name_slot(cc, n->items[0], n->intr->name)) < 0)
		return -1;
	site->aux++;
	n->items++;
	n->nitems--;
	return 0;
}

/* setflag: setflag [<variablename: string>] <list-of-flags: string-list> */
const struct intrinsic intr_setflag = {
	.name = "setflag", .kind = INTR_COMMAND, .capability = "imap4flags",
	.args = "l", .aux = INTR_AUX_GLOBAL_OR_0, .prepare = flag_prepare, .run = setflag_run,
};

const struct intrinsic intr_addflag = {
	.name = "addflag", .kind = INTR_COMMAND, .capability = "imap4flags",
	.args = "l", .aux = INTR_AUX_GLOBAL_OR_0, .prepare = flag_prepare, .run = addflag_run,
};

const struct intrinsic intr_removeflag = {
	.name = "removeflag", .kind = INTR_COMMAND, .capability = "imap4flags",
	.args = "l", .aux = INTR_AUX_GLOBAL_OR_0, .prepare = flag_prepare, .run = removeflag_run,
};

/* hasflag_prepare - "hasflag <variable-list> <flags>": the names become
 * references to the variables, so the test gets their values */
static int
hasflag_prepare(struct compile *cc, struct ast *n, struct site *site)
{
	struct ast *names;
	struct ast **items;
	size_t count;

	(void) site;
	if (n->nitems != 2)
		return 0;
	names = n->items[0];
	items = names->kind == A_LIST ? names->items : &n->items[0];
	count = names->kind == A_LIST ? names->nitems : 1;
	for (size_t i = 0; i < count; i++) {
		struct ast *s = items[i];
		char *ref;

		if (s->kind != A_STR || var_ref_kind(s->str, s->len) != VREF_NAME) {
			cerror(cc, s, "hasflag: a variable name must be a constant identifier");
			return -1;
		}
		if ((ref = arena_alloc(cc->arena, s->len + 3)) == NULL) {
			cerror(cc, s, "out of memory");
			return -1;
		}
		memcpy(ref, "${", 2);
		memcpy(ref + 2, s->str, s->len);
		ref[s->len + 2] = '}';
		s->str = ref;
		s->len += 3;
		s->kind = A_INTERP;
	}
	return 0;
}

/* split_flags - the strings of LIST cut at spaces, as a new list in OUT
 * (empty pieces dropped); -1 when memory runs out */
static int
split_flags(struct mfl_run *run, const struct site *site, const struct value *list,
	    struct value *out)
{
	const struct value *items;
	const char **pieces = NULL;
	struct buf text = BUF_INIT;
	size_t n, np = 0, *offs = NULL;
	int rc = -1;

	run_strlist(run, site, list, &n, &items);
	for (size_t i = 0; i < n; i++) {
		const char *s = items[i].u.s.ptr;
		size_t len = items[i].u.s.len;

		for (size_t a = 0; a < len;) {
			size_t b = a;

			while (b < len && s[b] != ' ')
				b++;
			if (b > a) {
				size_t *more = realloc(offs, (np + 1) * sizeof(*offs));

				if (more == NULL)
					goto out;
				offs = more;
				offs[np++] = text.len;
				buf_append(&text, s + a, b - a);
				buf_putc(&text, 0);
			}
			a = b + 1;
		}
	}
	if (text.failed || (np > 0 && (pieces = malloc(np * sizeof(*pieces))) == NULL))
		goto out;
	for (size_t i = 0; i < np; i++)
		pieces[i] = text.data + offs[i];
	rc = mfl_run_strarr(run, pieces, np, out) < 0 ? -1 : 0;
out:
	if (rc < 0)
		run_error(run, site, "memory limit reached");
	free(pieces);
	free(offs);
	buf_free(&text);
	return rc;
}

/* hasflag: hasflag [MATCH-TYPE] [COMPARATOR] [<variable-list>] <list-of-flags> */
static int
hasflag_run(struct mfl_run *run, const struct site *site, struct value *args,
	    struct value *ret)
{
	const struct value *vars = &run->imap_flags;
	size_t nvars = 1;
	struct tmatch tm;
	struct value keys;
	int m = 0;

	if (site->npos == 2)
		run_strlist(run, site, &args[0], &nvars, &vars);
	if (site->match != MATCH_REGEX) {
		/* RFC 5232 4: each string of the list is a space-separated
		 * list of flags ("b A" asks for b and for A) */
		if (split_flags(run, site, &args[site->npos - 1], &keys) < 0)
			return -1;
		tmatch_init(&tm, run, site, &keys);
	} else {
		tmatch_init(&tm, run, site, &args[site->npos - 1]);
	}
	for (size_t v = 0; v < nvars && m == 0; v++) {
		struct buf clean = BUF_INIT;
		size_t i = 0;

		if (vars[v].type == V_STR)
			flags_add(&clean, vars[v].u.s.ptr, vars[v].u.s.len);
		while (i < clean.len && m == 0) {
			size_t j = i;

			while (j < clean.len && clean.data[j] != ' ')
				j++;
			m = tmatch_one(&tm, clean.data + i, j - i);
			i = j + 1;
		}
		buf_free(&clean);
	}
	if (m == 0)
		m = tmatch_end(&tm);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

const struct intrinsic intr_hasflag = {
	.name = "hasflag", .kind = INTR_TEST, .capability = "imap4flags",
	.args = "l?l", .flags = INTR_F_MATCH, .prepare = hasflag_prepare,
	.run = hasflag_run,
};

/* run_flags - a flag list (a string, or a string list) as the NULL-ended
 * array an action carries; NULL when empty or out of memory */
const char **
run_flags(struct mfl_run *run, const struct site *site, const struct value *list)
{
	const struct value *items;
	size_t n, count = 0;
	struct buf clean = BUF_INIT;
	const char **out = NULL;

	if (list->type == V_STR) {
		items = list;
		n = 1;
	} else {
		run_strlist(run, site, list, &n, &items);
	}
	for (size_t i = 0; i < n; i++)
		if (items[i].type == V_STR)
			flags_add(&clean, items[i].u.s.ptr, items[i].u.s.len);
	for (size_t i = 0; i < clean.len; i++)
		count += clean.data[i] == ' ';
	if (clean.len > 0 && (out = arena_alloc(run->arena, (count + 2) * sizeof(*out))) != NULL) {
		char *copy = arena_memdup(run->arena, clean.data, clean.len);
		size_t k = 0;

		if (copy == NULL)
			out = NULL;
		for (char *p = copy; out != NULL && p != NULL; k++) {
			char *sp = strchr(p, ' ');

			out[k] = p;
			if (sp != NULL)
				*sp++ = 0;
			p = sp;
		}
		if (out != NULL)
			out[k] = NULL;
	}
	buf_free(&clean);
	return out;
}
