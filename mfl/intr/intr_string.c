/*
 * intr_string - MFL's string and array functions: $length, $substr,
 * $index, $lower, $upper, $sprintf, $split, $join, $atoi, $regmatch
 * (PCRE2) and $log. Strings are bytes; positions count bytes from 0.
 *
 * $regmatch patterns that are constants are compiled once, at compile
 * time, with JIT where PCRE2 has it; others are compiled per call. The
 * instruction budget bounds a match through PCRE2's match limit.
 *
 * DIAGNOSTICS: runtime errors for bad patterns, bad formats and the
 * memory limit; compile errors for constant patterns that do not compile.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <limits.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "env.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "prog.h"
#include "regex.h"
#include "tmatch.h"

/* charge - take N units of budget; -1 (runtime error) when gone */
static int
charge(struct mfl_run *run, const struct site *site, size_t n)
{
	if (run->budget < n) {
		run->budget = 0;
		return run_error(run, site, "instruction limit reached");
	}
	run->budget -= n;
	return 0;
}

/* $length(s) / $length(array): bytes or items */
static int
length_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	(void) run;
	(void) site;
	*ret = value_int(args[0].type == V_ARR ? (int64_t) args[0].u.a->len
			 : (int64_t) args[0].u.s.len);
	return 0;
}

const struct intrinsic intr_length = {
	.name = "length", .kind = INTR_FUNCTION, .args = "x", .ret = TYPE_INT,
	.run = length_run,
};

/* $substr(s, start [, len]): clamped to the string, never an error */
static int
substr_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	int64_t len = (int64_t) args[0].u.s.len, start = args[1].u.i;
	int64_t n = site->npos > 2 ? args[2].u.i : len;

	(void) run;
	if (start < 0)
		start = len + start < 0 ? 0 : len + start;	/* from the end */
	if (start > len)
		start = len;
	if (n < 0)
		n = 0;
	if (n > len - start)
		n = len - start;
	*ret = value_str(args[0].u.s.ptr + start, (size_t) n);
	return 0;
}

const struct intrinsic intr_substr = {
	.name = "substr", .kind = INTR_FUNCTION, .args = "si?i", .ret = TYPE_STRING,
	.run = substr_run,
};

/* $index(s, t): byte position of the first T in S, or -1 */
static int
index_run(struct mfl_run *run, const struct site *site, struct value *args,
	  struct value *ret)
{
	const char *s = args[0].u.s.ptr, *t = args[1].u.s.ptr;
	size_t slen = args[0].u.s.len, tlen = args[1].u.s.len;

	if (charge(run, site, slen / 16 + 1) < 0)
		return -1;
	*ret = value_int(-1);
	if (tlen == 0) {
		*ret = value_int(0);
		return 0;
	}
	for (size_t i = 0; i + tlen <= slen; i++)
		if (s[i] == t[0] && memcmp(s + i, t, tlen) == 0) {
			*ret = value_int((int64_t) i);
			break;
		}
	return 0;
}

const struct intrinsic intr_index = {
	.name = "index", .kind = INTR_FUNCTION, .args = "ss", .ret = TYPE_INT,
	.run = index_run,
};

/* change_case - $lower and $upper: ASCII letters only */
static int
change_case(struct mfl_run *run, const struct site *site, struct value *args,
	    struct value *ret, int upper)
{
	size_t len = args[0].u.s.len;
	char *s;

	if (charge(run, site, len / 16 + 1) < 0)
		return -1;
	if ((s = arena_memdup(run->arena, args[0].u.s.ptr, len)) == NULL)
		return run_error(run, site, "memory limit reached");
	for (size_t i = 0; i < len; i++) {
		if (upper && s[i] >= 'a' && s[i] <= 'z')
			s[i] = (char) (s[i] - 32);
		else if (!upper && s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char) (s[i] + 32);
	}
	*ret = value_str(s, len);
	return 0;
}

static int
lower_run(struct mfl_run *run, const struct site *site, struct value *args,
	  struct value *ret)
{
	return change_case(run, site, args, ret, 0);
}

static int
upper_run(struct mfl_run *run, const struct site *site, struct value *args,
	  struct value *ret)
{
	return change_case(run, site, args, ret, 1);
}

const struct intrinsic intr_lower = {
	.name = "lower", .kind = INTR_FUNCTION, .args = "s", .ret = TYPE_STRING,
	.run = lower_run,
};

const struct intrinsic intr_upper = {
	.name = "upper", .kind = INTR_FUNCTION, .args = "s", .ret = TYPE_STRING,
	.run = upper_run,
};

/* result - OUT as the string result, copied into the run */
static int
result(struct mfl_run *run, const struct site *site, struct buf *out,
       struct value *ret)
{
	int rc = out->failed ? -1 : run_str(run, out->data ? out->data : "", out->len, ret);

	buf_free(out);
	return rc < 0 ? run_error(run, site, "memory limit reached") : 0;
}

/* number - the decimal digits at *F, saturating; *F moves past them */
static size_t
number(const char **f, const char *end)
{
	size_t n = 0;

	for (; *f < end && **f >= '0' && **f <= '9'; (*f)++)
		n = n > SIZE_MAX / 16 ? SIZE_MAX / 16 : n * 10 + (size_t) (**f - '0');
	return n;
}

/* $sprintf(fmt, ...): %d %i %x %s %c %% with flags, width, precision;
 * a width or precision that would pass the memory limit is refused
 * before anything is formatted */
static int
sprintf_run(struct mfl_run *run, const struct site *site, struct value *args,
	    struct value *ret)
{
	const char *f = args[0].u.s.ptr, *end = f + args[0].u.s.len;
	struct buf out;
	int next = 1;

	run_buf_init(run, &out);
	while (f < end) {
		const char *spec = f;
		size_t flen, width, precision = 0, most;
		char fmt[32];

		if (*f != '%') {
			buf_putc(&out, (unsigned char) *f++);
			continue;
		}
		if (f + 1 < end && f[1] == '%') {
			buf_putc(&out, '%');
			f += 2;
			continue;
		}
		for (f++; f < end && strchr("-+ 0#", *f); f++)
			;
		width = number(&f, end);
		if (f < end && *f == '.') {
			f++;
			precision = number(&f, end);
		}
		if (f >= end || !strchr("dixXsc", *f) || (size_t) (f - spec) > 20
		    || width > INT_MAX || precision > INT_MAX) {
			buf_free(&out);
			return run_error(run, site, "$sprintf: bad conversion in format");
		}
		if (next >= site->npos) {
			buf_free(&out);
			return run_error(run, site, "$sprintf: too few arguments");
		}
		/* the most this conversion writes: an int's 20 digits and sign */
		most = *f == 's' && args[next].type == V_STR ? args[next].u.s.len : 24;
		most = width > most ? width : most;
		most = precision > most ? precision + 2 : most;
		if (most > out.limit - out.len) {
			buf_free(&out);
			return run_error(run, site, "$sprintf: memory limit reached");
		}
		flen = (size_t) (f - spec);
		memcpy(fmt, spec, flen);
		if (*f == 's') {
			if (args[next].type != V_STR) {
				buf_free(&out);
				return run_error(run, site, "$sprintf: %%s needs a string");
			}
			memcpy(fmt + flen, ".*s", 4);
			/* a precision given in the format would clash: keep it simple */
			if (memchr(spec, '.', flen) != NULL) {
				buf_free(&out);
				return run_error(run, site, "$sprintf: no precision with %%s");
			}
			buf_printf(&out, fmt, (int) args[next].u.s.len, args[next].u.s.ptr);
		} else {
			if (args[next].type != V_INT) {
				buf_free(&out);
				return run_error(run, site, "$sprintf: %%%c needs an int", *f);
			}
			memcpy(fmt + flen, *f == 'c' ? "c" : "ll", *f == 'c' ? 2 : 3);
			if (*f != 'c') {
				fmt[flen + 2] = *f;
				fmt[flen + 3] = 0;
				buf_printf(&out, fmt, (long long) args[next].u.i);
			} else {
				buf_printf(&out, fmt, (int) (unsigned char) args[next].u.i);
			}
		}
		next++;
		f++;
	}
	if (next < site->npos) {
		buf_free(&out);
		return run_error(run, site, "$sprintf: too many arguments");
	}
	if (charge(run, site, out.len / 16 + 1) < 0) {
		buf_free(&out);
		return -1;
	}
	return result(run, site, &out, ret);
}

const struct intrinsic intr_sprintf = {
	.name = "sprintf", .kind = INTR_FUNCTION, .args = "s?a*", .ret = TYPE_STRING,
	.run = sprintf_run,
};

/* $split(s, sep): the pieces between separators ("" splits into bytes) */
static int
split_run(struct mfl_run *run, const struct site *site, struct value *args,
	  struct value *ret)
{
	const char *s = args[0].u.s.ptr, *sep = args[1].u.s.ptr;
	size_t len = args[0].u.s.len, slen = args[1].u.s.len, start = 0;
	struct marr *a = arena_zalloc(run->arena, sizeof(*a));

	if (a == NULL || charge(run, site, len / 16 + 1) < 0)
		return a == NULL ? run_error(run, site, "memory limit reached") : -1;
	ret->type = V_ARR;
	ret->u.a = a;
	for (size_t i = 0; i < len; i++) {
		if (slen == 0) {
			if (run_arr_push(run, a, value_str(s + i, 1)) < 0)
				return run_error(run, site, "memory limit reached");
			continue;
		}
		if (i + slen <= len && memcmp(s + i, sep, slen) == 0) {
			if (run_arr_push(run, a, value_str(s + start, i - start)) < 0)
				return run_error(run, site, "memory limit reached");
			start = i + slen;
			i += slen - 1;
		}
	}
	if (slen > 0 && run_arr_push(run, a, value_str(s + start, len - start)) < 0)
		return run_error(run, site, "memory limit reached");
	return 0;
}

const struct intrinsic intr_split = {
	.name = "split", .kind = INTR_FUNCTION, .args = "ss", .ret = TYPE_ARRAY(TYPE_STRING),
	.run = split_run,
};

/* $join(string[] a, sep): sized before it is built, so a long
 * separator between many items meets the memory limit first */
static int
join_run(struct mfl_run *run, const struct site *site, struct value *args,
	 struct value *ret)
{
	const struct marr *a = args[0].u.a;
	size_t sep = args[1].u.s.len, total = 0;
	struct buf out;

	run_buf_init(run, &out);
	for (size_t i = 0; i < a->len; i++) {
		if (a->items[i].type != V_STR)
			return run_error(run, site, "$join: items must be strings");
		if (total > out.limit || (i > 0 && sep > out.limit - total))
			return run_error(run, site, "$join: memory limit reached");
		total += (i > 0 ? sep : 0);
		if (a->items[i].u.s.len > out.limit - total)
			return run_error(run, site, "$join: memory limit reached");
		total += a->items[i].u.s.len;
	}
	if (buf_reserve(&out, total) < 0)
		return run_error(run, site, "memory limit reached");
	for (size_t i = 0; i < a->len; i++) {
		if (i > 0)
			buf_append(&out, args[1].u.s.ptr, sep);
		buf_append(&out, a->items[i].u.s.ptr, a->items[i].u.s.len);
	}
	if (charge(run, site, out.len / 16 + 1) < 0) {
		buf_free(&out);
		return -1;
	}
	return result(run, site, &out, ret);
}

const struct intrinsic intr_join = {
	.name = "join", .kind = INTR_FUNCTION, .args = "As", .ret = TYPE_STRING,
	.run = join_run,
};

/* $atoi(s): the leading decimal number of S (after white space), or 0 */
static int
atoi_run(struct mfl_run *run, const struct site *site, struct value *args,
	 struct value *ret)
{
	const char *s = args[0].u.s.ptr;
	size_t len = args[0].u.s.len, i = 0;
	uint64_t v = 0;
	int neg = 0;

	(void) run;
	(void) site;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		v = v > UINT64_MAX / 10 ? UINT64_MAX : v * 10 + (uint64_t) (s[i] - '0');
	if (v > (uint64_t) INT64_MAX)
		v = (uint64_t) INT64_MAX;	/* saturate */
	*ret = value_int(neg ? -(int64_t) v : (int64_t) v);
	return 0;
}

const struct intrinsic intr_atoi = {
	.name = "atoi", .kind = INTR_FUNCTION, .args = "s", .ret = TYPE_INT,
	.run = atoi_run,
};

/* regmatch_check - compile a constant pattern now, once */
static int
regmatch_check(struct compile *cc, struct ast *n, struct site *site)
{
	struct ast *pat = n->items[1];
	char err[300];
	pcre2_code *re;

	if (pat->kind != A_STR)
		return 0;
	if ((re = regex_compile(pat->str, pat->len, 0, err, sizeof(err))) == NULL) {
		cerror(cc, pat, "$regmatch: bad pattern: %s", err);
		return -1;
	}
	site->data = re;
	site->pattern = arena_memdup(cc->prog->arena, pat->str, pat->len);
	site->pattern_len = pat->len;
	if (site->pattern == NULL || prog_on_free(cc->prog, regex_free, re) < 0) {
		pcre2_code_free(re);
		site->data = NULL;
		cerror(cc, pat, "out of memory");
		return -1;
	}
	return 0;
}

/* $regmatch(s, pattern [, string[] captures]): 1 on a match */
static int
regmatch_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	pcre2_code *re = site->data;
	pcre2_match_data *md;
	pcre2_match_context *mc;
	char err[300];
	int rc;

	*ret = value_int(0);
	if (re == NULL && (re = regex_compile(args[1].u.s.ptr, args[1].u.s.len, 0, err, sizeof(err))) == NULL)
		return run_error(run, site, "$regmatch: bad pattern: %s", err);
	md = pcre2_match_data_create_from_pattern(re, NULL);
	mc = pcre2_match_context_create(NULL);
	if (md == NULL || mc == NULL) {
		rc = run_error(run, site, "out of memory");
		goto out;
	}
	/* the budget bounds backtracking: PCRE2 counts its own steps */
	pcre2_set_match_limit(mc, run->budget > UINT32_MAX ? UINT32_MAX : (uint32_t) run->budget);
	rc = pcre2_match(re, (PCRE2_SPTR) args[0].u.s.ptr, args[0].u.s.len, 0, 0, md, mc);
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT) {
		run->budget = 0;
		rc = run_error(run, site, "instruction limit reached in $regmatch");
		goto out;
	}
	if (charge(run, site, args[0].u.s.len / 16 + 1) < 0) {
		rc = -1;
		goto out;
	}
	if (rc > 0 && site->npos > 2) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		struct marr *caps = args[2].u.a;

		caps->len = 0;
		for (int i = 0; i < rc; i++) {
			struct value v = ov[2 * i] == PCRE2_UNSET ? value_str("", 0)
			    : value_str(args[0].u.s.ptr + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);

			if (run_arr_push(run, caps, v) < 0) {
				rc = run_error(run, site, "memory limit reached");
				goto out;
			}
		}
	}
	*ret = value_int(rc > 0);
	rc = 0;
out:
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	if (re != site->data)
		pcre2_code_free(re);
	return rc < 0 ? -1 : 0;
}

const struct intrinsic intr_regmatch = {
	.name = "regmatch", .kind = INTR_FUNCTION, .args = "ss?A", .ret = TYPE_INT,
	.check = regmatch_check, .run = regmatch_run,
};

/* $log(s): a line to the host's log */
static int
log_run(struct mfl_run *run, const struct site *site, struct value *args,
	struct value *ret)
{
	(void) site;
	(void) ret;
	if (run->env->log != NULL)
		run->env->log(run->env->log_ctx, args[0].u.s.ptr, args[0].u.s.len);
	return 0;
}

const struct intrinsic intr_log = {
	.name = "log", .kind = INTR_FUNCTION, .args = "s", .ret = TYPE_VOID,
	.run = log_run,
};

/* debug_log <message: string>: Pigeonhole's vnd.dovecot.debug, a line
 * in the host's log, as MFL's $log */
const struct intrinsic intr_debug_log = {
	.name = "debug_log", .kind = INTR_COMMAND, .capability = "vnd.dovecot.debug",
	.args = "s", .run = log_run,
};

/* intr_site_compile - redo a site's compile-time work for a program read
 * back from the cache: a constant $regmatch pattern; 0 or -1 */
int
intr_site_compile(struct mfl_prog *prog, struct site *site, char *err,
		  size_t errsize)
{
	pcre2_code *re;

	if (site->intr->flags & INTR_F_MATCH)
		return tmatch_site_compile(prog, site, err, errsize);
	if (site->pattern == NULL || (site->intr->flags & INTR_F_CONST_ARG))
		return 0;
	if (site->intr != &intr_regmatch)
		return 0;	/* plain data for its intrinsic (vacation's handle) */
	if ((re = regex_compile(site->pattern, site->pattern_len, 0, err, errsize)) == NULL)
		return -1;
	if (prog_on_free(prog, regex_free, re) < 0) {
		pcre2_code_free(re);
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	site->data = re;
	return 0;
}
