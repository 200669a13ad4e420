/*
 * match - compare a value with a key the way a Sieve test asks: by one
 * of the comparators of RFC 4790 (i;octet, i;ascii-casemap,
 * i;ascii-numeric) or RFC 5051's i;unicode-casemap (its strings folded
 * by tmatch.c first) and one of the match types of RFC 5228 2.7 (:is,
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
#include "msg/str.h"

static const struct {
	const char *name;
	const char *capability;
} comparators[] = {
	[CMP_OCTET] = { "i;octet", NULL },
	[CMP_ASCII_CASEMAP] = { "i;ascii-casemap", NULL },
	[CMP_ASCII_NUMERIC] = { "i;ascii-numeric", "comparator-i;ascii-numeric" },
	/* RFC 5051: tmatch.c folds both sides (titlecase, NFKD); here the
	 * folded strings compare as octets, "?" takes one character */
	[CMP_UNICODE_CASEMAP] = { "i;unicode-casemap", "comparator-i;unicode-casemap" },
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
	/* RFC 6134 2.3: a list says who is on it, whatever the comparator */
	return cmp != CMP_ASCII_NUMERIC || match == MATCH_IS
	    || match == MATCH_VALUE || match == MATCH_COUNT || match == MATCH_LIST;
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

/* cap_set - capture W is V[from, from + len) */
static void
cap_set(struct match_caps *caps, int w, const char *v, size_t from, size_t len)
{
	if (caps == NULL || w >= MATCH_CAPS)
		return;
	caps->ptr[w] = v + from;
	caps->len[w] = len;
	if (w >= caps->n)
		caps->n = w + 1;
}

/* match_glob - :matches; "*" any run, "?" one octet, "\" quotes. Only
 * the last "*" seen grows when the rest fails, so each wildcard takes
 * as little as it can, left to right; what each took goes to CAPS */
static int
match_glob(int cmp, const char *v, size_t vlen, const char *k, size_t klen,
	   uint64_t *budget, struct match_caps *caps)
{
	size_t vi = 0, ki = 0, star_k = (size_t) -1, star_v = 0, star_from = 0;
	int w = 1, star_w = 0;

	while (vi < vlen) {
		if (!charge(budget, 1))
			return -1;
		if (ki < klen && k[ki] == '*') {
			star_k = ++ki;
			star_v = star_from = vi;
			star_w = w;
			cap_set(caps, w++, v, vi, 0);
			continue;
		}
		if (ki < klen && k[ki] == '?') {
			/* one octet: i;octet and i;ascii-casemap see octets,
			 * as Pigeonhole does; i;unicode-casemap a character */
			size_t n = 1;

			if (cmp == CMP_UNICODE_CASEMAP) {
				while (vi + n < vlen && ((unsigned char) v[vi + n] & 0xc0) == 0x80)
					n++;
				/* with the combining marks NFKD split off it
				 * (U+0300..U+036F): "?" is one "Ü" */
				while (vi + n + 1 < vlen
				       && (((unsigned char) v[vi + n] == 0xcc
					    && (unsigned char) v[vi + n + 1] >= 0x80)
					   || ((unsigned char) v[vi + n] == 0xcd
					       && (unsigned char) v[vi + n + 1] <= 0xaf)))
					n += 2;
			}
			cap_set(caps, w++, v, vi, n);
			vi += n;
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
		cap_set(caps, star_w, v, star_from, vi - star_from);
		w = star_w + 1;
	}
	while (ki < klen && k[ki] == '*') {
		cap_set(caps, w++, v, vlen, 0);
		ki++;
	}
	if (ki != klen)
		return 0;
	if (caps != NULL) {
		cap_set(caps, 0, v, 0, vlen);
		if (w < caps->n)
			caps->n = w;	/* captures of a failed try beyond the end */
	}
	return 1;
}

/* relop_find - the RFC 5231 operator NAME ("gt" ...), or -1 */
int
relop_find(const char *name, size_t len)
{
	static const char *const names[] = {
		[REL_GT] = "gt", [REL_GE] = "ge", [REL_LT] = "lt",
		[REL_LE] = "le", [REL_EQ] = "eq", [REL_NE] = "ne",
	};

	for (int i = 0; i < (int) (sizeof(names) / sizeof(names[0])); i++)
		if (len == 2 && strncasecmp(names[i], name, 2) == 0)
			return i;
	return -1;
}

/* comparator_order - A against B: <0, 0, >0 (RFC 4790 9: casemap
 * compares upper-cased octets, numeric compares the leading number) */
int
comparator_order(int cmp, const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;

	if (cmp == CMP_ASCII_NUMERIC)
		return numeric_cmp(a, alen, b, blen);
	for (size_t i = 0; i < n; i++) {
		int x = (unsigned char) a[i], y = (unsigned char) b[i];

		if (cmp == CMP_ASCII_CASEMAP) {
			x = x >= 'a' && x <= 'z' ? x - 32 : x;
			y = y >= 'a' && y <= 'z' ? y - 32 : y;
		}
		if (x != y)
			return x < y ? -1 : 1;
	}
	return alen == blen ? 0 : alen < blen ? -1 : 1;
}

/* relop_holds - ORDER (of value against key) satisfies RELOP */
int
relop_holds(int relop, int order)
{
	switch (relop) {
	case REL_GT: return order > 0;
	case REL_GE: return order >= 0;
	case REL_LT: return order < 0;
	case REL_LE: return order <= 0;
	case REL_EQ: return order == 0;
	default: return order != 0;
	}
}

/* match_value - VAL against KEY; 1, 0, or -1 when the budget is gone.
 * CAPS, when not NULL, gets what :matches wildcards took. :count and
 * :regex are the test's business (see tmatch.c). */
int
match_value(int match, int cmp, int relop, const char *val, size_t vlen,
	    const char *key, size_t klen, uint64_t *budget, struct match_caps *caps)
{
	switch (match) {
	case MATCH_CONTAINS:
		return match_contains(cmp, val, vlen, key, klen, budget);
	case MATCH_MATCHES:
		return match_glob(cmp, val, vlen, key, klen, budget, caps);
	case MATCH_VALUE:
	case MATCH_COUNT:
		if (!charge(budget, 1 + (vlen + klen) / 16))
			return -1;
		return relop_holds(relop, comparator_order(cmp, val, vlen, key, klen));
	default:
		if (!charge(budget, 1 + (vlen + klen) / 16))
			return -1;
		return match_is(cmp, val, vlen, key, klen);
	}
}
