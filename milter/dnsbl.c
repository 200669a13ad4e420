/*
 * dnsbl - DNS block lists (RFC 5782). An address is looked up in a zone
 * by its reversed octets (IPv4) or nibbles (IPv6) under the zone; an A
 * answer lists it, a TXT answer says why. The answers are kept for the
 * connection, so a script may ask a zone in several hooks and pay one
 * query; the zones a batch names are asked at once (dns_resolve).
 *
 * Listed means an A answer in 127.0.0.0/8 (RFC 5782 2.3) or, when the
 * caller names codes, one of those; with a mask, the answer must also
 * have one of its bits. Without codes, answers in 127.255.255.0/24 are
 * the list refusing the query (Spamhaus's public-resolver codes), never
 * a listing.
 *
 * DIAGNOSTICS: an entry keeps the status of its query; a failed or
 * timed-out query lists nothing (callers log it).
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "dnsbl.h"
#include "msg/msg.h"

#define DNSBL_CACHE_MAX	256	/* entries per connection */
#define DNSBL_BATCH	64	/* queries one dns_resolve() asks */

struct dnsbl_cache {
	struct dnsbl_entry *head;
	size_t count;
};

/* dnsbl_cache_new - an empty cache, or NULL */
struct dnsbl_cache *
dnsbl_cache_new(void)
{
	return calloc(1, sizeof(struct dnsbl_cache));
}

/* entries_free - the list at E */
static void
entries_free(struct dnsbl_entry *e)
{
	while (e != NULL) {
		struct dnsbl_entry *next = e->next;

		free(e->zone);
		free(e->addr);
		free(e->txt);
		free(e);
		e = next;
	}
}

/* dnsbl_cache_free - CACHE and its answers */
void
dnsbl_cache_free(struct dnsbl_cache *cache)
{
	if (cache == NULL)
		return;
	entries_free(cache->head);
	free(cache);
}

/* dnsbl_name - the name to ask ZONE about ADDR ("2.0.0.127.zone");
 * -1 when ADDR is not an address or the name is too long */
int
dnsbl_name(const char *addr, const char *zone, char *out, size_t size)
{
	unsigned char a[16];
	size_t zlen = strlen(zone), at = 0;

	while (zlen > 0 && zone[zlen - 1] == '.')
		zlen--;
	if (*zone == '.' || zlen == 0)
		return -1;
	if (inet_pton(AF_INET, addr, a) == 1) {
		char rev[16];
		size_t n = ip4_format(a, 1, rev);

		if (n + 1 + zlen + 1 > size)
			return -1;
		memcpy(out, rev, n);
		out[n] = '.';
		memcpy(out + n + 1, zone, zlen);
		out[n + 1 + zlen] = 0;
		return 0;
	}
	if (inet_pton(AF_INET6, addr, a) != 1 || size < 64 + zlen + 1)
		return -1;
	for (int i = 15; i >= 0; i--) {	/* RFC 5782 2.4: nibbles, low first */
		out[at++] = "0123456789abcdef"[a[i] & 15];
		out[at++] = '.';
		out[at++] = "0123456789abcdef"[a[i] >> 4];
		out[at++] = '.';
	}
	memcpy(out + at, zone, zlen);
	out[at + zlen] = 0;
	return 0;
}

/* dnsbl_get - what CACHE knows of ZONE for ADDR, or NULL */
struct dnsbl_entry *
dnsbl_get(struct dnsbl_cache *cache, const char *addr, const char *zone)
{
	for (struct dnsbl_entry *e = cache->head; e != NULL; e = e->next)
		if (strcasecmp(e->zone, zone) == 0 && strcmp(e->addr, addr) == 0)
			return e;
	return NULL;
}

/* entry_new - a fresh entry for ZONE and ADDR in CACHE, or NULL */
static struct dnsbl_entry *
entry_new(struct dnsbl_cache *cache, const char *addr, const char *zone)
{
	struct dnsbl_entry *e;

	if ((e = calloc(1, sizeof(*e))) == NULL || (e->zone = strdup(zone)) == NULL
	    || (e->addr = strdup(addr)) == NULL) {
		entries_free(e);
		return NULL;
	}
	e->a_status = DNS_TIMEOUT;
	e->txt_status = DNS_TIMEOUT;
	e->next = cache->head;
	cache->head = e;
	cache->count++;
	return e;
}

/* take_a, take_txt - one answer record into the entry */
static void
take_a(void *ctx, const ns_msg *msg, const ns_rr *rr)
{
	struct dnsbl_entry *e = ctx;
	const unsigned char *p = ns_rr_rdata(*rr);

	(void) msg;
	if (ns_rr_rdlen(*rr) == 4 && e->na < DNSBL_MAX_A)
		e->a[e->na++] = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
		    | (uint32_t) p[2] << 8 | p[3];
}

static void
take_txt(void *ctx, const ns_msg *msg, const ns_rr *rr)
{
	struct buf *out = ctx;

	(void) msg;
	dns_txt(rr, out);
	buf_putc(out, 0);
}

/* store_answer - Q's answer into E */
static void
store_answer(struct dnsbl_entry *e, struct dns_query *q)
{
	if (q->type == ns_t_a) {
		e->a_status = q->status;
		e->na = 0;
		dns_each(q, ns_t_a, take_a, e);
	} else {
		struct buf txt = BUF_INIT;

		e->have_txt = 1;
		e->txt_status = q->status;
		e->ntxt = dns_each(q, ns_t_txt, take_txt, &txt);
		free(e->txt);
		e->txt = NULL;
		e->txt_len = 0;
		if (e->ntxt > 0 && (e->txt = malloc(txt.len)) != NULL) {
			memcpy(e->txt, txt.data, txt.len);
			e->txt_len = txt.len;
		} else {
			e->ntxt = 0;
		}
		buf_free(&txt);
	}
	dns_query_done(q);
}

/* resolve - the queries in Q[0..N) for ENTRIES, at once */
static void
resolve(const struct dns_server *ns, struct dns_query *q, struct dnsbl_entry **entries,
	size_t n, int64_t deadline_ms)
{
	dns_resolve(ns, q, n, deadline_ms);
	for (size_t i = 0; i < n; i++)
		store_answer(entries[i], &q[i]);
}

/* dnsbl_fetch - make CACHE know the N ZONES' A answers for ADDR (and
 * their TXT answers when TXT), asking what it does not know at once;
 * -1 when out of memory or ADDR is not an address */
int
dnsbl_fetch(struct dnsbl_cache *cache, const struct dns_server *ns, const char *addr,
	    const char *const *zones, size_t n, int txt, int64_t deadline_ms)
{
	struct dns_query *q = malloc(DNSBL_BATCH * sizeof(*q));
	struct dnsbl_entry *entries[DNSBL_BATCH];
	size_t nq = 0;

	if (q == NULL)
		return -1;
	if (cache->count + n > DNSBL_CACHE_MAX) {	/* a script asking
							 * computed zones */
		entries_free(cache->head);
		cache->head = NULL;
		cache->count = 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct dnsbl_entry *e = dnsbl_get(cache, addr, zones[i]);
		int fresh = e == NULL;

		if (fresh && (e = entry_new(cache, addr, zones[i])) == NULL)
			goto fail;
		for (int t = 0; t < 2; t++) {
			if (t == 0 ? !fresh : (!txt || e->have_txt))
				continue;
			if (nq == DNSBL_BATCH) {
				resolve(ns, q, entries, nq, deadline_ms);
				nq = 0;
			}
			if (dnsbl_name(addr, zones[i], q[nq].name, sizeof(q[nq].name)) < 0) {
				e->a_status = e->txt_status = DNS_BADNAME;
				e->have_txt = 1;
				break;
			}
			q[nq].type = t == 0 ? ns_t_a : ns_t_txt;
			entries[nq++] = e;
		}
	}
	if (nq > 0)
		resolve(ns, q, entries, nq, deadline_ms);
	free(q);
	return 0;
fail:
	free(q);
	return -1;
}

/* dnsbl_refused - E's answer is the list refusing to answer
 * (127.255.255.0/24), not a listing */
int
dnsbl_refused(const struct dnsbl_entry *e)
{
	for (size_t i = 0; i < e->na; i++)
		if ((e->a[i] & 0xffffff00u) == 0x7fffff00u)
			return 1;
	return 0;
}

/* code_match - answer A is CODE ("127.0.0.2" or "127.0.0.0/24") */
static int
code_match(uint32_t a, const char *code)
{
	struct cidr c;
	uint32_t net, bits;

	if (cidr_parse(code, &c) < 0 || c.family != AF_INET)
		return 0;
	net = (uint32_t) c.addr[0] << 24 | (uint32_t) c.addr[1] << 16
	    | (uint32_t) c.addr[2] << 8 | c.addr[3];
	bits = c.len == 0 ? 0 : 0xffffffffu << (32 - c.len);
	return (a & bits) == net;
}

/* dnsbl_code_ok - CODE can be given to :codes */
int
dnsbl_code_ok(const char *code)
{
	struct cidr c;

	return cidr_parse(code, &c) == 0 && c.family == AF_INET;
}

/* dnsbl_listed - E's answers list the address under filter F */
int
dnsbl_listed(const struct dnsbl_entry *e, const struct dnsbl_filter *f)
{
	if (e->a_status != DNS_OK)
		return 0;
	for (size_t i = 0; i < e->na; i++) {
		uint32_t a = e->a[i];
		int ok = 0;

		if (f->ncodes == 0)
			ok = (a >> 24) == 127 && (a & 0xffffff00u) != 0x7fffff00u;
		for (size_t c = 0; c < f->ncodes && !ok; c++)
			ok = code_match(a, f->codes[c]);
		if (ok && f->mask != 0)
			ok = (a & f->mask) != 0;
		if (ok)
			return 1;
	}
	return 0;
}
