/*
 * match - compare a value with a key the way a Sieve test asks: by one
 * of the comparators of RFC 4790 (i;octet, i;ascii-casemap,
 * i;ascii-numeric) and one of the match types of RFC 5228 2.7 (:is,
 * :contains, :matches with "*", "?" and backslash escapes).
 *
 * Every comparison is charged to the run's instruction budget, one unit
 * per byte position tried (per 16 bytes for straight scans), so that a
 * pathological :matches pattern or a megabyte header cannot run past the
 * limit: when the budget is gone the match returns -1.
 *
 * DIAGNOSTICS: match_value() returns 1 (match), 0 (no match), or -1 when
 * the budget ran out.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "match.h"
#include "str.h"

static const struct {
	const char *name;
	const char *capability;
} comparators[] = {
	[CMP_OCTET] = { "i;octet", NULL },
	[CMP_ASCII_CASEMAP] = { "i;ascii-casemap", NULL },
	[CMP_ASCII_NUMERIC] = { "i;ascii-numeric", "comparator-i;ascii-numeric" },
};

/* comparator_find - comparator named NAME, or -1 */
int
comparator_find(const char *name, size_t len)
{
	for (int i = 0; i < (int) (sizeof(comparators) / sizeof(comparators[0])); i++)
		if (strlen(comparators[i].name) == len
		    && strncasecmp(comparators[i].name, name, len) == 0)
			return i;
	return -1;
}

/* comparator_name - its registered name */
const char *
comparator_name(int cmp)
{
	return comparators[cmp].name;
}

/* comparator_capability - what must be required to use it, or NULL */
const char *
comparator_capability(int cmp)
{
	return comparators[cmp].capability;
}

/* comparator_supports - RFC 4790 4.2: numeric has no substring matches */
int
comparator_supports(int cmp, int match)
{
	return cmp != CMP_ASCII_NUMERIC || match == MATCH_IS;
}

/* charge - take N units from the budget; 0 when it is gone */
static int
charge(uint64_t *budget, uint64_t n)
{
	if (*budget < n) {
		*budget = 0;
		return 0;
	}
	*budget -= n;
	return 1;
}

/* ch_eq - one byte equal under the comparator */
static int
ch_eq(int cmp, unsigned char a, unsigned char b)
{
	return cmp == CMP_ASCII_CASEMAP ? ascii_lower(a) == ascii_lower(b) : a == b;
}

/* numeric_cmp - RFC 4790 9.1.1: leading digits as a number, none = infinity */
static int
numeric_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t na = 0, nb = 0;

	while (na < alen && a[na] >= '0' && a[na] <= '9')
		na++;
	while (nb < blen && b[nb] >= '0' && b[nb] <= '9')
		nb++;
	if (na == 0 || nb == 0)
		return (na == 0) - (nb == 0);	/* infinity is biggest */
	while (na > 1 && *a == '0')
		a++, na--;
	while (nb > 1 && *b == '0')
		b++, nb--;
	if (na != nb)
		return na < nb ? -1 : 1;
	int c = memcmp(a, b, na);
	return c < 0 ? -1 : c > 0;
}

/* match_is - equal under the comparator */
static int
match_is(int cmp, const char *v, size_t vlen, const char *k, size_t klen)
{
	if (cmp == CMP_ASCII_NUMERIC)
		return numeric_cmp(v, vlen, k, klen) == 0;
	if (vlen != klen)
		return 0;
	return cmp == CMP_ASCII_CASEMAP ? mem_ieq(v, k, klen)
	    : memcmp(v, k, klen) == 0;
}

/* match_contains - KEY occurs in V */
static int
match_contains(int cmp, const char *v, size_t vlen, const char *k, size_t klen,
	       uint64_t *budget)
{
	if (klen == 0)
		return 1;
	if (klen > vlen)
		return 0;
	for (size_t i = 0; i + klen <= vlen; i++) {
		if ((i & 15) == 0 && !charge(budget, 1 + klen / 16))
			return -1;
		if (ch_eq(cmp, (unsigned char) v[i], (unsigned char) k[0])
		    && (cmp == CMP_ASCII_CASEMAP ? mem_ieq(v + i, k, klen)
			: memcmp(v + i, k, klen) == 0))
			return 1;
	}
	return 0;
}

/* match_glob - :matches; "*" any run, "?" one octet, "\" quotes */
static int
match_glob(int cmp, const char *v, size_t vlen, const char *k, size_t klen,
	   uint64_t *budget)
{
	size_t vi = 0, ki = 0, star_k = (size_t) -1, star_v = 0;

	while (vi < vlen) {
		if (!charge(budget, 1))
			return -1;
		if (ki < klen && k[ki] == '*') {
			star_k = ++ki;
			star_v = vi;
			continue;
		}
		if (ki < klen && k[ki] == '?') {
			/* one octet: i;octet and i;ascii-casemap see octets,
			 * as Pigeonhole does */
			vi++;
			ki++;
			continue;
		}
		if (ki < klen) {
			size_t kc = ki;

			if (k[kc] == '\\' && kc + 1 < klen)
				kc++;
			if (ch_eq(cmp, (unsigned char) v[vi], (unsigned char) k[kc])) {
				vi++;
				ki = kc + 1;
				continue;
			}
		}
		if (star_k == (size_t) -1)
			return 0;
		ki = star_k;		/* let the last "*" take one more */
		vi = ++star_v;
	}
	while (ki < klen && k[ki] == '*')
		ki++;
	return ki == klen;
}

/* match_value - VAL against KEY; 1, 0, or -1 when the budget is gone */
int
match_value(int match, int cmp, const char *val, size_t vlen,
	    const char *key, size_t klen, uint64_t *budget)
{
	switch (match) {
	case MATCH_CONTAINS:
		return match_contains(cmp, val, vlen, key, klen, budget);
	case MATCH_MATCHES:
		return match_glob(cmp, val, vlen, key, klen, budget);
	default:
		if (!charge(budget, 1 + (vlen + klen) / 16))
			return -1;
		return match_is(cmp, val, vlen, key, klen);
	}
}
