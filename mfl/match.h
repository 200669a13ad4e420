/* match.h - Sieve comparators (RFC 4790) and match types (RFC 5228 2.7) */
#ifndef MFL_MATCH_H
#define MFL_MATCH_H

#include <stddef.h>
#include <stdint.h>

enum match_type { MATCH_IS, MATCH_CONTAINS, MATCH_MATCHES };
enum comparator { CMP_OCTET, CMP_ASCII_CASEMAP, CMP_ASCII_NUMERIC };

int comparator_find(const char *name, size_t len);
const char *comparator_name(int cmp);
const char *comparator_capability(int cmp);
int comparator_supports(int cmp, int match);
int match_value(int match, int cmp, const char *val, size_t vlen,
		const char *key, size_t klen, uint64_t *budget);

#endif
