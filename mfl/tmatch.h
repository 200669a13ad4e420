/* tmatch.h - a Sieve test matching its values against its key list:
 * match type, comparator, :count, :regex and the match variables */
#ifndef MFL_TMATCH_H
#define MFL_TMATCH_H

#include <stddef.h>
#include <stdint.h>

struct compile;
struct ast;
struct mfl_prog;
struct mfl_run;
struct site;
struct value;

struct tmatch {
	struct mfl_run *run;
	const struct site *site;
	const struct value *keys;
	size_t nkeys;
	uint64_t count;		/* :count: values seen */
	int no_caps;		/* a match sets no match variables */
};

void tmatch_init(struct tmatch *tm, struct mfl_run *run,
		 const struct site *site, const struct value *keys);
int tmatch_one(struct tmatch *tm, const char *val, size_t len);
int tmatch_end(struct tmatch *tm);
int tmatch_compile(struct compile *cc, struct ast *keys, struct site *site);
int tmatch_site_compile(struct mfl_prog *prog, struct site *site, char *err,
			size_t errsize);

#endif
