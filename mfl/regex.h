/* regex.h - PCRE2 patterns for $regmatch and Sieve's :regex, compiled
 * once when constant, matched within the run's instruction budget */
#ifndef MFL_REGEX_H
#define MFL_REGEX_H

#include <stddef.h>
#include <stdint.h>

struct match_caps;

void *regex_compile(const char *pattern, size_t len, int caseless,
		    char *err, size_t errsize);
void regex_free(void *re);
int regex_exec(void *re, const char *subject, size_t len, uint64_t *budget,
	       struct match_caps *caps);

#endif
