/*
 * tmatch - how a test (header, address, envelope, string, body, date,
 * ...) decides: each value it finds goes to tmatch_one(), which tries
 * every key by the site's match type and comparator; tmatch_end() gives
 * the answer of :count (RFC 5231), which needs all values first.
 *
 * A successful :matches or :regex leaves what the wildcards or groups
 * took as the match variables ${0}..${9} (RFC 5229 3.2); a failed test
 * leaves the old ones. Constant :regex keys are compiled once, when the
 * script is; others when the test runs.
 *
 * DIAGNOSTICS: -1 (a runtime error raised at the site) when the budget
 * or memory runs out or a key is not a valid regular expression; the
 * compiler is told about constant keys that are not.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "compile.h"
#include "env.h"
#include "match.h"
#include "msg/arena.h"
#include "prog.h"
#include "regex.h"
#include "tmatch.h"

/* Compiled constant :regex keys, in key order. */
struct regex_keys {
	size_t n;
	void *re[];
};

/* tmatch_init - ready to match values against KEYS (a string list) */
void
tmatch_init(struct tmatch *tm, struct mfl_run *run, const struct site *site,
	    const struct value *keys)
{
	memset(tm, 0, sizeof(*tm));
	tm->run = run;
	tm->site = site;
	run_strlist(run, site, keys, &tm->nkeys, &tm->keys);
}

/* keep_caps - CAPS become the run's match variables (copied: they may
 * point into a buffer the test reuses) */
static int
keep_caps(struct tmatch *tm, const struct match_caps *caps)
{
	struct mfl_run *run = tm->run;
	struct value vars[MATCH_CAPS];

	for (int i = 0; i < caps->n; i++)
		if (run_str(run, caps->ptr[i], caps->len[i], &vars[i]) < 0)
			return run_error(run, tm->site, "memory limit reached");
	memcpy(run->match_vars, vars, (size_t) caps->n * sizeof(vars[0]));
	run->n_match_vars = caps->n;
	return 1;
}

/* regex_one - VAL against key K as a regular expression: 1, 0, -1 */
static int
regex_one(struct tmatch *tm, size_t k, const char *val, size_t len,
	  struct match_caps *caps)
{
	const struct regex_keys *compiled = tm->site->data;
	const struct value *key = &tm->keys[k];
	void *re = compiled != NULL && k < compiled->n ? compiled->re[k] : NULL;
	char err[300];
	int m;

	if (re == NULL && (re = regex_compile(key->u.s.ptr, key->u.s.len,
					      tm->site->comparator == CMP_ASCII_CASEMAP,
					      err, sizeof(err))) == NULL)
		return run_error(tm->run, tm->site, "bad regular expression \"%.*s\": %s",
				 (int) (key->u.s.len > 60 ? 60 : key->u.s.len), key->u.s.ptr, err);
	m = regex_exec(re, val, len, &tm->run->budget, caps);
	if (compiled == NULL || k >= compiled->n || re != compiled->re[k])
		regex_free(re);
	if (m < 0)
		return run_error(tm->run, tm->site, "instruction limit reached in :regex");
	return m;
}

/* unicode_fold - RFC 5051's i;unicode-casemap form of S: each character
 * titlecased (its simple mapping), then NFKD; in the run's memory, into
 * *OUT; what is not UTF-8 stays as it is; -1 when memory runs out */
static int
unicode_fold(struct mfl_run *run, const char *s, size_t len, const char **out, size_t *out_len)
{
	struct buf title;
	uint8_t *nfkd;
	size_t n;

	run_buf_init(run, &title);
	for (size_t i = 0; i < len;) {
		ucs4_t uc;
		int k = u8_mbtouc(&uc, (const uint8_t *) s + i, len - i);
		uint8_t enc[6];
		int m;

		if (uc == 0xfffd && !(k == 3 && (unsigned char) s[i] == 0xef)) {
			buf_putc(&title, s[i]);		/* not UTF-8: the byte */
			i++;
			continue;
		}
		m = u8_uctomb(enc, uc_totitle(uc), sizeof(enc));
		buf_append(&title, enc, m > 0 ? (size_t) m : 0);
		i += (size_t) k;
	}
	if (title.failed)
		return -1;
	nfkd = u8_normalize(UNINORM_NFKD, (const uint8_t *) (title.data ? title.data : ""), title.len,
			    NULL, &n);
	buf_free(&title);
	if (nfkd == NULL)
		return -1;
	*out = arena_memdup(run->arena, nfkd, n);
	*out_len = n;
	free(nfkd);
	return *out == NULL ? -1 : 0;
}

/* tmatch_one - one value: 1 when a key matched it (the test is true),
 * 0 to go on, -1 after a runtime error */
int
tmatch_one(struct tmatch *tm, const char *val, size_t len)
{
	const struct site *site = tm->site;
	struct match_caps caps;

	if (site->match == MATCH_COUNT) {
		tm->count++;
		return 0;
	}
	for (size_t k = 0; k < tm->nkeys; k++) {
		int m;

		caps.n = 0;
		if (site->match == MATCH_LIST) {
			/* RFC 6134 2.3: the key names a list; a list the host
			 * does not have holds no one */
			const struct mfl_env *env = tm->run->env;

			m = env->extlist != NULL && env->extlist(env->extlist_ctx, tm->keys[k].u.s.ptr,
								  tm->keys[k].u.s.len, val, len) > 0;
		} else if (site->match == MATCH_REGEX)
			m = regex_one(tm, k, val, len, &caps);
		else if (site->comparator == CMP_UNICODE_CASEMAP) {
			const char *fv, *fk;
			size_t fvl, fkl;

			if (unicode_fold(tm->run, val, len, &fv, &fvl) < 0
			    || unicode_fold(tm->run, tm->keys[k].u.s.ptr, tm->keys[k].u.s.len, &fk, &fkl) < 0)
				return run_error(tm->run, site, "memory limit reached");
			m = match_value(site->match, site->comparator, site->relop, fv, fvl, fk, fkl,
					&tm->run->budget, &caps);
		} else
			m = match_value(site->match, site->comparator, site->relop, val, len,
					tm->keys[k].u.s.ptr, tm->keys[k].u.s.len,
					&tm->run->budget, &caps);
		if (m < 0)
			return site->match == MATCH_REGEX ? -1
			    : run_error(tm->run, site, "instruction limit reached");
		if (m > 0)
			return caps.n > 0 && !tm->no_caps ? keep_caps(tm, &caps) : 1;
	}
	return 0;
}

/* tmatch_end - after the last value: :count's answer (1, 0, -1); 0
 * for the other match types, which answered in tmatch_one */
int
tmatch_end(struct tmatch *tm)
{
	char num[24];
	int len;

	if (tm->site->match != MATCH_COUNT)
		return 0;
	len = snprintf(num, sizeof(num), "%llu", (unsigned long long) tm->count);
	for (size_t k = 0; k < tm->nkeys; k++) {
		int m = match_value(MATCH_COUNT, tm->site->comparator, tm->site->relop,
				    num, (size_t) len, tm->keys[k].u.s.ptr,
				    tm->keys[k].u.s.len, &tm->run->budget, NULL);

		if (m != 0)
			return m < 0 ? run_error(tm->run, tm->site, "instruction limit reached") : 1;
	}
	return 0;
}

/* keys_compile - SITE's constant regex keys (pattern: NUL-ended
 * strings) compiled into PROG; -1 with ERR */
static int
keys_compile(struct mfl_prog *prog, struct site *site, char *err, size_t errsize)
{
	size_t n = 0;
	struct regex_keys *rk;

	for (size_t i = 0; i < site->pattern_len; i++)
		n += site->pattern[i] == 0;
	if ((rk = arena_zalloc(prog->arena, sizeof(*rk) + n * sizeof(void *))) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	for (const char *p = site->pattern; rk->n < n; p += strlen(p) + 1) {
		char why[300];
		void *re = regex_compile(p, strlen(p), site->comparator == CMP_ASCII_CASEMAP,
					 why, sizeof(why));

		if (re == NULL) {
			snprintf(err, errsize, "bad regular expression \"%.60s\": %s", p, why);
			return -1;
		}
		if (prog_on_free(prog, regex_free, re) < 0) {
			regex_free(re);
			snprintf(err, errsize, "out of memory");
			return -1;
		}
		rk->re[rk->n++] = re;
	}
	site->data = rk;
	return 0;
}

/* tmatch_compile - a :regex site's keys, when they are constants: kept
 * in the site (for the cache) and compiled now; -1 after an error */
int
tmatch_compile(struct compile *cc, struct ast *keys, struct site *site)
{
	struct ast *one[1] = { keys };
	struct ast **items = keys->kind == A_LIST ? keys->items : one;
	size_t count = keys->kind == A_LIST ? keys->nitems : 1;
	struct buf all = BUF_INIT;
	char err[400];
	int rc = 0;

	if (site->match != MATCH_REGEX)
		return 0;
	for (size_t i = 0; i < count; i++) {
		if (items[i]->kind != A_STR)
			return 0;	/* compiled when the test runs */
		if (memchr(items[i]->str, 0, items[i]->len) != NULL) {
			cerror(cc, items[i], "a regular expression cannot hold a NUL");
			buf_free(&all);
			return -1;
		}
		buf_append(&all, items[i]->str, items[i]->len);
		buf_putc(&all, 0);
	}
	site->pattern = arena_memdup(cc->prog->arena, all.data, all.len);
	site->pattern_len = all.len;
	site->pattern_list = 1;
	buf_free(&all);
	if (site->pattern == NULL) {
		cerror(cc, keys, "out of memory");
		return -1;
	}
	if (keys_compile(cc->prog, site, err, sizeof(err)) < 0) {
		cerror(cc, keys, "%s", err);
		rc = -1;
	}
	return rc;
}

/* tmatch_site_compile - redo tmatch_compile for a program read back
 * from the cache */
int
tmatch_site_compile(struct mfl_prog *prog, struct site *site, char *err,
		    size_t errsize)
{
	if (site->match != MATCH_REGEX || site->pattern == NULL)
		return 0;
	return keys_compile(prog, site, err, errsize);
}
