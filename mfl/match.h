/* match.h - Sieve comparators (RFC 4790), match types (RFC 5228 2.7,
 * RFC 5231 relational, draft-ietf-sieve-regex) and the wildcard captures
 * that become match variables (RFC 5229 3.2) */
#ifndef MFL_MATCH_H
#define MFL_MATCH_H

#include <stddef.h>
#include <stdint.h>

enum match_type {
	MATCH_IS, MATCH_CONTAINS, MATCH_MATCHES, MATCH_VALUE, MATCH_COUNT,
	MATCH_REGEX, MATCH_LIST
};
enum comparator { CMP_OCTET, CMP_ASCII_CASEMAP, CMP_ASCII_NUMERIC, CMP_UNICODE_CASEMAP };

/* RFC 5231 relational operators */
enum relop { REL_GT, REL_GE, REL_LT, REL_LE, REL_EQ, REL_NE };

/* ${0} .. ${99}: what a :matches or :regex key matched (RFC 5229 3.2) */
#define MATCH_CAPS	100	/* ${0}..${99} */
struct match_caps {
	int n;			/* captures set, ${0} included */
	const char *ptr[MATCH_CAPS];
	size_t len[MATCH_CAPS];
};

int comparator_find(const char *name, size_t len);
const char *comparator_name(int cmp);
const char *comparator_capability(int cmp);
int comparator_supports(int cmp, int match);
int relop_find(const char *name, size_t len);
int comparator_order(int cmp, const char *a, size_t alen, const char *b,
		     size_t blen);
int relop_holds(int relop, int order);
int match_value(int match, int cmp, int relop, const char *val, size_t vlen,
		const char *key, size_t klen, uint64_t *budget,
		struct match_caps *caps);

#endif
