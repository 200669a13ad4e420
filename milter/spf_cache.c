/*
 * spf_cache - SPF results kept across connections for as long as the
 * DNS answers they came from hold: a client that sends again, or many
 * clients of one provider with one sender domain, cost no check.
 *
 * A result is kept under everything it depends on: the nameserver, the
 * client's address, the HELO name, the identity checked (MAIL FROM or
 * HELO) and the receiver named in the field. It expires with the first
 * of its answers (their TTL, at most dns.c's cap), so it never outlives
 * what a fresh check would read from dns.c's cache. Results that came
 * from no answer, or from a failed or timed-out query (temperror), are
 * not kept. 4,096 slots, one result each, the newer one wins.
 *
 * DIAGNOSTICS: none; a result that cannot be copied is not kept, or is
 * checked afresh.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "spf.h"

#define RESULT_SLOTS	4096

struct result_slot {
	char *key;
	size_t key_len;
	int64_t expires_ms;	/* dns_now_ms() */
	struct spf_result r;
};

static struct result_slot results[RESULT_SLOTS];
static pthread_mutex_t results_lock = PTHREAD_MUTEX_INITIALIZER;

/* key_of - what a result depends on, into KEY; its slot */
static struct result_slot *
key_of(struct buf *key, const struct spf_limits *lim, const char *client_addr,
       const char *helo, const char *sender, const char *receiver)
{
	const char *h = helo != NULL ? helo : "", *s = sender != NULL ? sender : "";

	buf_append(key, lim->ns, sizeof(*lim->ns));	/* zeroed past count: parse */
	buf_append(key, client_addr, strlen(client_addr) + 1);
	buf_append(key, h, strlen(h) + 1);
	buf_putc(key, sender != NULL ? 'm' : 'h');	/* "" is the null sender */
	buf_append(key, s, strlen(s) + 1);
	buf_puts(key, receiver != NULL ? receiver : "");
	return &results[str_hash(STR_HASH_INIT, key->data, key->len) % RESULT_SLOTS];
}

/* dup_or_null - a copy of S (NULL stays NULL); -1 when out of memory */
static int
dup_or_null(const char *s, char **copy_r)
{
	*copy_r = s != NULL ? strdup(s) : NULL;
	return s != NULL && *copy_r == NULL ? -1 : 0;
}

/* result_copy - OUT = a copy of R; -1 (OUT empty) when out of memory */
static int
result_copy(const struct spf_result *r, struct spf_result *out)
{
	memset(out, 0, sizeof(*out));
	out->result = r->result;
	if (dup_or_null(r->explanation, &out->explanation) < 0
	    || dup_or_null(r->comment, &out->comment) < 0
	    || dup_or_null(r->header, &out->header) < 0) {
		spf_result_free(out);
		return -1;
	}
	return 0;
}

/* spf_cache_get - the kept result of this check into OUT: 1, else 0 */
int
spf_cache_get(const struct spf_limits *lim, const char *client_addr, const char *helo,
	      const char *sender, const char *receiver, struct spf_result *out)
{
	struct buf key = BUF_INIT;
	struct result_slot *slot = key_of(&key, lim, client_addr, helo, sender, receiver);
	int hit = 0;

	if (key.failed) {
		buf_free(&key);
		return 0;
	}
	pthread_mutex_lock(&results_lock);
	if (slot->key != NULL && slot->key_len == key.len
	    && memcmp(slot->key, key.data, key.len) == 0 && slot->expires_ms > dns_now_ms())
		hit = result_copy(&slot->r, out) == 0;
	pthread_mutex_unlock(&results_lock);
	buf_free(&key);
	return hit;
}

/* spf_cache_put - keep R, this check's result, until EXPIRES_MS */
void
spf_cache_put(const struct spf_limits *lim, const char *client_addr, const char *helo,
	      const char *sender, const char *receiver, const struct spf_result *r,
	      int64_t expires_ms)
{
	struct buf key = BUF_INIT;
	struct result_slot *slot = key_of(&key, lim, client_addr, helo, sender, receiver);
	struct spf_result copy, old;
	char *old_key;

	if (key.failed || result_copy(r, &copy) < 0) {
		buf_free(&key);
		return;
	}
	pthread_mutex_lock(&results_lock);
	old_key = slot->key;
	old = slot->r;
	slot->key = key.data;	/* the buffer is the slot's now */
	slot->key_len = key.len;
	slot->expires_ms = expires_ms;
	slot->r = copy;
	pthread_mutex_unlock(&results_lock);
	free(old_key);
	spf_result_free(&old);
}
