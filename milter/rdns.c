/*
 * rdns - does a client's reverse DNS name look like an access network's
 * (dial-up, DSL, cable, a provider's pool) rather than a mail server's?
 * The heuristics greylisting-only-the-suspicious has used since
 * Spamhaus's PBL and the "generic rDNS" lists: the address's octets in
 * the name, or words such as dyn, dsl, pool in its first label. A name
 * that fits says little alone; $client_suspicious gives the script the
 * reason, and the script decides (mvmtr(8)).
 *
 * DIAGNOSTICS: none.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rdns.h"

/* Words of generic (dial-up, cable, DSL, pool) reverse DNS names. */
static const char *const generic_words[] = {
	"dyn", "dynamic", "dynip", "dhcp", "dsl", "adsl", "vdsl", "xdsl", "cable",
	"pool", "ppp", "pppoe", "dial", "dialup", "dialin", "broadband", "customer",
	"cust", "residential", "unassigned", "static",
};

/* numbers - the runs of digits in NAME, up to MAX; how many */
static int
numbers(const char *name, long *out, int max)
{
	int n = 0;

	for (const char *p = name; *p && n < max;) {
		if (!isdigit((unsigned char) *p)) {
			p++;
			continue;
		}
		out[n] = 0;
		for (; isdigit((unsigned char) *p); p++)
			if (out[n] < 100000000)	/* past that, no octet anyway */
				out[n] = out[n] * 10 + (*p - '0');
		n++;
	}
	return n;
}

/* has_word - the first label of NAME has a word of generic_words */
static int
has_word(const char *name)
{
	for (const char *p = name; *p && *p != '.';) {
		size_t len = 0;

		while (isalpha((unsigned char) p[len]))
			len++;
		for (size_t i = 0; len > 0 && i < sizeof(generic_words) / sizeof(generic_words[0]); i++)
			if (strlen(generic_words[i]) == len && strncasecmp(p, generic_words[i], len) == 0)
				return 1;
		p += len;
		while (*p && *p != '.' && !isalpha((unsigned char) *p))
			p++;
	}
	return 0;
}

/* rdns_generic - NAME (the client's reverse DNS) looks like an access
 * network's: the address's last three octets in a row in it, either
 * way round (203-0-113-7.example, 7.113.0.203.dyn.example), or a word
 * of generic_words in its first label; why, or NULL */
const char *
rdns_generic(const char *name, const char *addr)
{
	unsigned a[4];
	long num[16];
	int n = numbers(name, num, 16);

	if (sscanf(addr, "%3u.%3u.%3u.%3u", &a[0], &a[1], &a[2], &a[3]) == 4 && strchr(addr, ':') == NULL)
		for (int i = 0; i + 2 < n; i++)
			if ((num[i] == a[1] && num[i + 1] == a[2] && num[i + 2] == a[3])
			    || (num[i] == a[3] && num[i + 1] == a[2] && num[i + 2] == a[1]))
				return "its host name holds its address";
	return has_word(name) ? "its host name looks generic" : NULL;
}
