/*
 * assess_test - the client-assessment policy on a real store, with the
 * clock given: CIDR parsing, greylisting (delay, retry window,
 * lifetime, automatic allow-listing, a client keyed by its SPF domain),
 * allow and block lists by prefix, expiry, rates, automatic blocks,
 * long keys, and two processes updating one triplet at once.
 *
 * Built twice from this one body: assess_test on LMDB in a temporary
 * directory, assess_redis_test (ASSESS_REDIS) on a redis-server it
 * starts on a private unix socket, which also checks what only Redis
 * has: the records' TTLs, key prefixes, a server that stops and comes
 * back, one that never answers (timeouts), one out of memory, AUTH.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "assess.h"
#include "msa.h"
#include "msg/msg.h"
#include "rdns.h"
#include "store.h"
#include "tap.h"

static const struct greylist_conf conf = { 300, 2 * 86400, 35 * 86400, 2, 0 };
static struct store_conf sconf = { 64 << 20, "t:", 1000, 1000 };

/* wait_for - greylist_check's answer, or -1 after a store error */
static int64_t
wait_for(struct store *st, const char *net, const char *from, const char *to,
	 time_t now)
{
	struct greylist_result res;

	if (greylist_check(st, net, from, to, now, &conf, &res) < 0)
		return -1;
	return res.wait;
}

static void
test_cidr(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "192.0.2.77/24", "192.0.2.0/24" },
		{ "192.0.2.77", "192.0.2.77/32" },
		{ "255.255.255.255", "255.255.255.255/32" },
		{ "0.0.0.0", "0.0.0.0/32" },
		{ "10.100.9.199", "10.100.9.199/32" },
		{ "1.20.109.250/32", "1.20.109.250/32" },
		{ "10.1.2.3/0", "0.0.0.0/0" },
		{ "2001:db8:1:2::5/64", "2001:db8:1:2::/64" },
		{ "2001:db8::1/127", "2001:db8::/127" },
		{ "192.0.2.1/33", NULL },
		{ "192.0.2.1/", NULL },
		{ "192.0.2.1/x", NULL },
		{ "example.org", NULL },
		{ "", NULL },
	};
	struct cidr c;
	char out[80];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = cidr_parse(cases[i].in, &c);

		if (cases[i].want == NULL) {
			tap_is_int(rc, -1, "cidr_parse refuses \"%s\"", cases[i].in);
			continue;
		}
		cidr_format(&c, out, sizeof(out));
		tap_is_str(rc == 0 ? out : "(error)", cases[i].want, "cidr_parse %s", cases[i].in);
	}
	tap_ok(cidr_of("198.51.100.9", 24, 64, &c) == 0, "cidr_of an IPv4 address");
	cidr_format(&c, out, sizeof(out));
	tap_is_str(out, "198.51.100.0/24", "grouped by /24");
	tap_ok(cidr_of("2001:db8::1:2", 24, 48, &c) == 0, "cidr_of an IPv6 address");
	cidr_format(&c, out, sizeof(out));
	tap_is_str(out, "2001:db8::/48", "grouped by /48");
	{
		static const unsigned char a[4] = { 1, 20, 109, 250 };

		tap_is_int((long long) ip4_format(a, 1, out), 12, "ip4_format reversed: its length");
		tap_is_str(out, "250.109.20.1", "ip4_format reversed (a DNSBL name)");
	}
}

/* test_msa - outbound: the sender map, limits in several windows, a
 * user's own limits, locks and the brakes */
static void
test_msa(struct store *st)
{
	static const struct {
		const char *user, *address;
		int want;
	} senders[] = {
		{ "alice", "alice@example.org", 1 },
		{ "alice", "Alice@Example.ORG", 1 },
		{ "alice", "alice+lists@example.org", 1 },
		{ "alice", "bob@example.org", 0 },
		{ "alice", "anyone@example.net", 1 },
		{ "alice", "anyone@sub.example.net", 0 },
		{ "alice", "", 0 },
		{ "bob", "whoever@wherever.example", 1 },
		{ "carol", "carol@example.org", 0 },
	};
	struct buf why = BUF_INIT, reason = BUF_INIT, m = BUF_INIT, r = BUF_INIT;
	struct user_rec rec;
	time_t t = 5000000;
	int i;

	msa_sender_add(st, "alice", "alice@example.org", t);
	msa_sender_add(st, "alice", "@example.net", t);
	msa_sender_add(st, "bob", "*", t);
	for (size_t k = 0; k < sizeof(senders) / sizeof(senders[0]); k++)
		tap_is_int(msa_sender_allowed(st, senders[k].user, senders[k].address), senders[k].want,
			   "%s may send as <%s>", senders[k].user, senders[k].address);
	tap_is_int(msa_sender_delete(st, "alice", "@example.net"), 1, "a pattern taken away");
	tap_is_int(msa_sender_allowed(st, "alice", "anyone@example.net"), 0, "no longer allowed");
	/* 3 a minute, 5 an hour */
	for (i = 0; i < 10; i++)
		if (msa_event(st, "alice", "messages", "3/60 5/3600", NULL, NULL, t, &why) < 0 || why.len)
			break;
	tap_is_int(i, 3, "3 messages in a minute pass, the 4th not");
	tap_is_str(why.data, "messages 3 of 3 in 60 s", "and says which limit");
	msa_event(st, "alice", "messages", "3/60 5/3600", NULL, NULL, t + 121, &why);
	msa_event(st, "alice", "messages", "3/60 5/3600", NULL, NULL, t + 122, &why);
	tap_is_str(why.len ? why.data : "", "", "two minutes later (the sliding window emptied) two more pass");
	msa_event(st, "alice", "messages", "3/60 5/3600", NULL, NULL, t + 123, &why);
	tap_is_str(why.data, "messages 5 of 5 in 3600 s", "then the hour's limit holds");
	msa_event(st, "alice", "recipients", "3/60 5/3600", NULL, NULL, t + 123, &why);
	tap_is_str(why.len ? why.data : "", "", "recipients count apart");
	tap_ok(msa_user_limits(st, "alice", "100/3600", NULL) == 0, "alice's own message limit");
	msa_event(st, "alice", "messages", "3/60 5/3600", NULL, NULL, t + 124, &why);
	tap_is_str(why.len ? why.data : "", "", "replaces the default");
	/* locks */
	tap_is_int(msa_user_lock(st, "alice", 1, "by hand", t), 1, "lock alice");
	tap_is_int(msa_user_lock(st, "alice", 1, "again", t), 0, "locking again changes nothing");
	msa_event(st, "alice", "messages", "", NULL, NULL, t + 65, &why);
	tap_is_str(why.data, "locked: by hand", "a locked user sends nothing");
	msa_user_get(st, "alice", &rec, &reason, &m, &r);
	tap_ok(rec.locked && strcmp(m.data, "100/3600") == 0, "the lock keeps her own limits");
	tap_is_int(msa_user_lock(st, "alice", 0, NULL, t), 1, "unlock");
	msa_event(st, "alice", "messages", "", NULL, NULL, t + 66, &why);
	tap_is_str(why.len ? why.data : "", "", "and she sends again");
	/* the brake: more than 3 in 60 s locks */
	for (i = 0; i < 10; i++)
		if (msa_event(st, "dave", "messages", "", "3/60", NULL, t + i, &why) != 0)
			break;
	tap_is_int(i, 3, "the 4th message within the brake's window locks the user");
	tap_is_str(why.data, "locked: automatic: 4 messages in 60 s (brake 3)",
		   "refused then, saying why");
	msa_event(st, "dave", "messages", "", NULL, NULL, t + 10, &why);
	tap_is_str(why.data, "locked: automatic: 4 messages in 60 s (brake 3)", "and later too");
	msa_user_lock(st, "dave", 0, NULL, t + 11);
	tap_is_int(msa_event(st, "dave", "messages", "", "3/60", NULL, t + 12, &why), 0,
		   "unlocked, the brake counts afresh (the next message does not lock again)");
	/* new recipients: more than 2 in an hour locks; known ones do not count */
	tap_is_int(msa_event(st, "erin", "recipients", "", "2/3600", "X@Example.org", t, &why), 0,
		   "a new recipient counts");
	tap_is_int(msa_event(st, "erin", "recipients", "", "2/3600", "x@example.org", t + 1, &why),
		   0, "a known one (case folded) does not");
	tap_is_int(msa_event(st, "erin", "recipients", "", "2/3600", "y@example.org", t + 2, &why),
		   0, "the second new one");
	tap_is_int(msa_event(st, "erin", "recipients", "", "2/3600", "z@example.org", t + 3, &why),
		   1, "the third new one locks");
	tap_is_str(why.data, "locked: automatic: 3 new recipients in 3600 s (brake 2)", "saying why");
	tap_is_int(msa_event(st, "frank", "recipients", "", "2/3600", "x@example.org", t, &why), 0,
		   "recipients are known per user");
	msa_event(st, "hank", "recipients", "1/60", NULL, "q1@example.org", t + 1, &why);
	msa_event(st, "hank", "recipients", "1/60", NULL, "q2@example.org", t + 2, &why);
	tap_ok(why.len > 0, "a recipient over the limit is refused");
	tap_is_int(msa_event(st, "hank", "recipients", "", "1/3600", "q2@example.org", t + 3, &why),
		   0, "and was not noted as known: later it is new, the brake's first");
	tap_is_int(msa_event(st, "hank", "recipients", "", "1/3600", "q1@example.org", t + 4, &why),
		   0, "one let through is known: not counted");
	tap_is_int(msa_event(st, "hank", "recipients", "", "1/3600", "q3@example.org", t + 5, &why),
		   1, "the next new one is over the brake");
	/* a recipient with its message: one step; a check counts nothing */
	{
		struct msa_kind k[2] = { { "messages", "1/60", "", NULL, 0 },
					 { "recipients", "1/60", "", "r1@example.org", 0 } };

		for (i = 0; i < 3; i++)
			msa_events(st, "ivy", k, 1, 1, t, &why);
		tap_is_str(why.len ? why.data : "", "", "checks (dry) count nothing");
		tap_ok(msa_events(st, "ivy", k, 2, 0, t, &why) == 0 && why.len == 0 && k[0].counted
		       && k[1].counted, "a message and its recipient counted in one step");
		k[1].rcpt = "r2@example.org";
		msa_events(st, "ivy", k, 2, 0, t + 1, &why);
		tap_is_str(why.data, "messages 1 of 1 in 60 s", "the next message is over its limit");
		tap_ok(!k[0].counted && !k[1].counted, "and its recipient is not counted either");
		k[0].limits = "5/60";
		msa_events(st, "ivy", k, 2, 0, t + 2, &why);
		tap_ok(strcmp(why.data, "recipients 1 of 1 in 60 s") == 0 && k[0].counted && !k[1].counted,
		       "a recipient over its limit: the message (before it) counted, the recipient not");
	}
	/* failed recipients: no limits, only the brake */
	for (i = 0; i < 10; i++)
		if (msa_event(st, "gina", "failed", "1/60", "4/600", NULL, t + i, &why) != 0)
			break;
	tap_is_int(i, 4, "the 5th failed recipient in 10 minutes locks (limits do not apply)");
	tap_is_str(why.data, "locked: automatic: 5 failed recipients in 600 s (brake 4)", "saying why");
	msa_user_lock(st, "gina", 0, NULL, t + 20);
	tap_is_int(msa_event(st, "gina", "failed", "", "4/600", NULL, t + 21, &why), 0,
		   "unlock resets that brake too");
	buf_free(&why);
	buf_free(&reason);
	buf_free(&m);
	buf_free(&r);
}

/* test_rdns - which reverse DNS names look like an access network's */
static void
test_rdns(void)
{
	static const struct {
		const char *name, *addr, *want;
	} cases[] = {
		{ "203-0-113-7.dyn.example.net", "203.0.113.7", "its host name holds its address" },
		{ "7.113.0.203.in-addr.example", "203.0.113.7", "its host name holds its address" },
		{ "c-73-12-44-1.hsd1.ca.example.net", "73.12.44.1", "its host name holds its address" },
		{ "cpe-68-173-12-4.nyc.res.example.com", "68.173.12.4", "its host name holds its address" },
		{ "dsl.example.net", "192.0.2.9", "its host name looks generic" },
		{ "pool-abc.example.net", "192.0.2.9", "its host name looks generic" },
		{ "DYN-x.example.net", "192.0.2.9", "its host name looks generic" },
		{ "mail.example.org", "192.0.2.25", NULL },
		{ "mail1.example.org", "10.1.2.1", NULL },
		{ "mx-2-1.example.org", "10.1.2.1", NULL },	/* two small numbers: chance */
		{ "host-1-2-1.example.org", "10.1.2.1", "its host name holds its address" },
		{ "smtp.dsl-provider.example", "192.0.2.9", NULL },	/* not the first label */
		{ "mail-oi1-f176.google.example", "209.85.167.176", NULL },
		{ "outbound.pool.example", "2001:db8::7", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = rdns_generic(cases[i].name, cases[i].addr);

		tap_is_str(got ? got : "(not generic)", cases[i].want ? cases[i].want : "(not generic)",
			   "rdns_generic %s [%s]", cases[i].name, cases[i].addr);
	}
}

static void
test_greylist(struct store *st)
{
	const char *n = "192.0.2.0/24";
	time_t t = 1000000;

	tap_is_int(wait_for(st, n, "a@x", "b@y", t), 300, "a new triplet waits the delay");
	tap_is_int(wait_for(st, n, "a@x", "b@y", t + 100), 200, "a retry too early: the time left");
	tap_is_int(wait_for(st, n, "a@x", "b@y", t + 300), 0, "a retry after the delay passes");
	tap_is_int(wait_for(st, n, "a@x", "b@y", t + 400), 0, "and stays passed");
	tap_is_int(wait_for(st, n, "a@x", "c@y", t + 400), 300, "another recipient is another triplet");
	tap_is_int(wait_for(st, n, "a@x", "c@y", t + 400 + 3 * 86400), 300,
		   "a retry after the retry window starts over");
	tap_is_int(wait_for(st, n, "a@x", "c@y", t + 400 + 3 * 86400 + 299), 1,
		   "one second left");
	tap_is_int(wait_for(st, n, "a@x", "b@y", t + 400 + 36 * 86400), 300,
		   "a passed triplet not seen for its lifetime starts over");
	/* auto-allow after 2 passes: d@y and e@y pass, then any triplet does */
	n = "198.51.100.0/24";
	wait_for(st, n, "s@x", "d@y", t);
	tap_is_int(wait_for(st, n, "s@x", "d@y", t + 301), 0, "first pass of a network");
	tap_is_int(wait_for(st, n, "s@x", "new@y", t + 302), 300, "one pass does not allow-list");
	wait_for(st, n, "s@x", "e@y", t + 302);
	tap_is_int(wait_for(st, n, "s@x", "e@y", t + 700), 0, "second pass");
	tap_is_int(wait_for(st, n, "other@x", "anyone@y", t + 701), 0,
		   "after N passes the network is allow-listed");
	tap_is_int(wait_for(st, n, "other@x", "anyone@y", t + 701 + 40 * 86400), 300,
		   "until it stays away longer than the lifetime");
	/* a client keyed by its SPF-authenticated domain: the caller
	 * (intr_assess.c) names it so; retries from any address are one */
	n = "spf:big.example";
	tap_is_int(wait_for(st, n, "news@big.example", "u@y", t), 300, "an SPF domain's new triplet waits");
	tap_is_int(wait_for(st, n, "news@big.example", "u@y", t + 310), 0,
		   "its retry (from whichever address) passes");
	wait_for(st, n, "news@big.example", "v@y", t + 320);
	tap_is_int(wait_for(st, n, "news@big.example", "v@y", t + 700), 0, "a second pass");
	tap_is_int(wait_for(st, n, "other@big.example", "w@y", t + 701), 0,
		   "then the domain is a proven sender");
	/* keys longer than LMDB takes */
	{
		char big[2000];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		tap_is_int(wait_for(st, "203.0.113.0/24", big, "x@y", t), 300, "a 2000-byte sender is stored");
		tap_is_int(wait_for(st, "203.0.113.0/24", big, "x@y", t + 300), 0, "and found again");
		big[1000] = 'b';
		tap_is_int(wait_for(st, "203.0.113.0/24", big, "x@y", t + 300), 300,
			   "a sender differing past the cut is another triplet");
	}
}

/* test_memo - a passed triplet is taken as passed for conf.memo seconds
 * without asking the store: deleted behind mvmtr's back, it still
 * passes that long, then starts over */
static void
test_memo(struct store *st)
{
	struct greylist_conf memo = conf;
	struct greylist_result res;
	const char key[] = "g198.18.5.0/24\0memo@x\0m@y";
	time_t t = 4000000;

	memo.memo = 60;
	greylist_check(st, "198.18.5.0/24", "memo@x", "m@y", t, &memo, &res);
	greylist_check(st, "198.18.5.0/24", "memo@x", "m@y", t + 300, &memo, &res);
	greylist_check(st, "198.18.5.0/24", "memo@x", "m@y", t + 310, &memo, &res);
	tap_is_int(store_delete(st, key, sizeof(key) - 1), 1, "a passed triplet, deleted in the store");
	greylist_check(st, "198.18.5.0/24", "memo@x", "m@y", t + 369, &memo, &res);
	tap_is_int(res.wait, 0, "within the memo's 60 s it still passes, the store not asked");
	greylist_check(st, "198.18.5.0/24", "memo@x", "m@y", t + 370, &memo, &res);
	tap_is_int(res.wait, 300, "after them, the store says: a new triplet");
	greylist_check(st, "198.18.5.0/24", "memo@x", "m@y", t + 380, &conf, &res);
	tap_is_int(res.wait, 290, "without a memo, always the store's answer");
}

static void
test_lists(struct store *st)
{
	struct buf reason = BUF_INIT;
	struct cidr c;
	time_t t = 2000000;

	tap_is_int(list_match(st, REC_BLOCK, "192.0.2.9", t, NULL), 0, "nothing blocked yet");
	cidr_parse("192.0.2.0/24", &c);
	tap_ok(list_add(st, REC_BLOCK, &c, t, 0, 0, "spam source") == 0, "block a /24");
	cidr_parse("10.0.0.0/8", &c);
	tap_ok(list_add(st, REC_BLOCK, &c, t, t + 60, 0, "for a minute") == 0, "block a /8 for 60 s");
	cidr_parse("2001:db8::/32", &c);
	tap_ok(list_add(st, REC_ALLOW, &c, t, 0, 0, "friends") == 0, "allow an IPv6 /32");
	tap_is_int(list_match(st, REC_BLOCK, "192.0.2.9", t, &reason), 1, "an address in the /24 is blocked");
	tap_is_str(reason.data, "spam source", "with the reason");
	tap_is_int(list_match(st, REC_BLOCK, "192.0.3.9", t, NULL), 0, "the next /24 is not");
	tap_is_int(list_match(st, REC_BLOCK, "10.200.1.1", t + 59, NULL), 1, "inside the /8, in time");
	tap_is_int(list_match(st, REC_BLOCK, "10.200.1.1", t + 60, NULL), 0, "not after it expired");
	tap_is_int(list_match(st, REC_ALLOW, "2001:db8:ffff::1", t, NULL), 1, "IPv6 allow list");
	tap_is_int(list_match(st, REC_ALLOW, "2001:db9::1", t, NULL), 0, "outside it");
	tap_is_int(list_match(st, REC_ALLOW, "192.0.2.9", t, NULL), 0, "allow and block are apart");
	tap_is_int(list_match(st, REC_BLOCK, "", t, NULL), 0, "a local client (no address) is not listed");
	cidr_parse("192.0.2.0/24", &c);
	tap_is_int(list_delete(st, REC_BLOCK, &c), 1, "unblock");
	tap_is_int(list_delete(st, REC_BLOCK, &c), 0, "unblocking again finds nothing");
	tap_is_int(list_match(st, REC_BLOCK, "192.0.2.9", t, NULL), 0, "no longer blocked");
	buf_free(&reason);
}

static void
test_rates(struct store *st)
{
	time_t t = 3000000;
	int64_t n = 0;

	for (int i = 0; i < 10; i++)
		rate_hit(st, REC_RATE, "user:alice", 60, t + i, 1, &n);
	tap_is_int((int) n, 10, "10 events in a minute");
	rate_hit(st, REC_RATE, "user:alice", 60, t + 90, 1, &n);
	tap_is_int((int) n, 1 + 10 * 30 / 60, "half a window later half the old count remains");
	rate_hit(st, REC_RATE, "user:alice", 60, t + 500, 1, &n);
	tap_is_int((int) n, 1, "long after, only this event");
	rate_hit(st, REC_RATE, "user:bob", 60, t, 1, &n);
	tap_is_int((int) n, 1, "keys count apart");
	/* automatic blocks: 3 rejects within 100 s block for 1000 s */
	tap_is_int(reject_note(st, "203.0.113.5", t, 3, 100, 1000), 0, "first reject");
	tap_is_int(reject_note(st, "203.0.113.5", t + 10, 3, 100, 1000), 0, "second");
	tap_is_int(reject_note(st, "203.0.113.5", t + 20, 3, 100, 1000), 1, "the third blocks");
	tap_is_int(list_match(st, REC_BLOCK, "203.0.113.5", t + 21, NULL), 1, "the client is blocked");
	tap_is_int(list_match(st, REC_BLOCK, "203.0.113.6", t + 21, NULL), 0, "its neighbour is not");
	for (int i = 0; i < 5; i++)
		tap_is_int(reject_note(st, "203.0.113.5", t + 30 + i, 3, 100, 1000), 0,
			   "a reject while blocked (%d) is not counted", i + 1);
	tap_is_int(list_match(st, REC_BLOCK, "203.0.113.5", t + 1021, NULL), 0,
		   "until the block ends, not extended by them");
	tap_is_int(reject_note(st, "203.0.113.5", t, 0, 100, 1000), 0, "0 rejects: automatic blocks off");
}

/* race - two processes greylist the same new triplet 200 times each:
 * the store keeps every update (attempts = 400) */
static void
test_race(const char *where)
{
	pid_t kids[2];
	struct buf val = BUF_INIT;
	struct triplet_rec r;
	char err[256];
	struct store *st;
	const char key[] = "g192.0.2.0/24\0race@x\0r@y";

	for (int k = 0; k < 2; k++) {
		if ((kids[k] = fork()) == 0) {
			struct store *mine = store_open(where, &sconf, 0, err, sizeof(err));

			for (int i = 0; mine != NULL && i < 200; i++)
				if (wait_for(mine, "192.0.2.0/24", "race@x", "r@y", 5000000) < 0)
					_exit(1);
			store_close(mine);
			_exit(mine == NULL);
		}
	}
	for (int k = 0; k < 2; k++) {
		int status = -1;

		waitpid(kids[k], &status, 0);
		tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d updated the store", k);
	}
	st = store_open(where, &sconf, 1, err, sizeof(err));
	tap_ok(st != NULL && store_get(st, key, sizeof(key) - 1, &val) == 1 && val.len == sizeof(r),
	       "the raced triplet is there");
	if (val.len == sizeof(r)) {
		memcpy(&r, val.data, sizeof(r));
		tap_is_int((int) r.attempts, 400, "no update was lost");
	}
	store_close(st);
	buf_free(&val);
}

/* test_race_event - two processes count 200 messages each for one user
 * (a limit record and a brake rate, one multi-key update each time):
 * all 400 are in both */
static void
test_race_event(const char *where)
{
	struct buf why = BUF_INIT;
	pid_t kids[2];
	char err[256];
	struct store *st;
	time_t t = 7000000;

	for (int k = 0; k < 2; k++) {
		if ((kids[k] = fork()) == 0) {
			struct store *mine = store_open(where, &sconf, 0, err, sizeof(err));

			for (int i = 0; mine != NULL && i < 200; i++)
				if (msa_event(mine, "racer", "messages", "100000/60", "100000/60", NULL,
					      t, &why) != 0 || why.len)
					_exit(1);
			store_close(mine);
			_exit(mine == NULL);
		}
	}
	for (int k = 0; k < 2; k++) {
		int status = -1;

		waitpid(kids[k], &status, 0);
		tap_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d counted", k);
	}
	if ((st = store_open(where, &sconf, 0, err, sizeof(err))) == NULL) {
		tap_diag("%s", err);
		return;
	}
	tap_is_int(msa_event(st, "racer", "messages", "", "401/60", NULL, t, &why), 0,
		   "the brake's count after the race: 400, so the 401st passes");
	tap_is_int(msa_event(st, "racer", "messages", "", "401/60", NULL, t, &why), 1,
		   "and the 402nd locks");
	msa_user_lock(st, "racer", 0, NULL, t);
	/* those two had no limits: not counted there */
	msa_event(st, "racer", "messages", "401/60", NULL, NULL, t, &why);
	tap_is_str(why.len ? why.data : "", "", "the limit's count: 400, so the 401st passes");
	msa_event(st, "racer", "messages", "401/60", NULL, NULL, t, &why);
	tap_is_str(why.data, "messages 401 of 401 in 60 s", "and the 402nd is refused");
	store_close(st);
	buf_free(&why);
}

/* test_update_all - several keys in one step */
static void
test_update_all(struct store *st)
{
	struct store_change ch[STORE_CHANGES_MAX + 1];
	struct buf val = BUF_INIT;
	int64_t now = 1000;
	struct rate_arg a = { now, 60, 1, 0 }, b = { now, 60, 0, 0 };

	ch[0] = (struct store_change) { "xall:a", 6, rate_update, &a };
	ch[1] = (struct store_change) { "xall:b", 6, rate_update, &b };
	tap_ok(store_update_all(st, ch, 2) == 0, "two keys updated at once");
	tap_ok(store_get(st, "xall:a", 6, &val) == 1 && store_get(st, "xall:b", 6, &val) == 1,
	       "both are written");
	for (int i = 0; i <= STORE_CHANGES_MAX; i++)
		ch[i] = ch[0];
	tap_ok(store_update_all(st, ch, STORE_CHANGES_MAX + 1) < 0 && strstr(st->error, "at most"),
	       "more than STORE_CHANGES_MAX changes: refused, saying why");
	store_delete(st, "xall:a", 6);
	store_delete(st, "xall:b", 6);
	buf_free(&val);
}

/* Two failures written over and over while another thread reads them:
 * a reader must see one of them whole (snprintf() empties what it
 * writes into first: mvmtr once logged "store: ; failing open"). */
static const char *const error_texts[2] = {
	"redis unix:/run/x.sock: connect: No such file or directory (and a long tail "
	"to make the write take a while: 0123456789 0123456789 0123456789 0123456789)",
	"redis unix:/run/x.sock: EXEC: timed out",
};
static volatile int errors_done;

/* error_writer - ST's error set to each text in turn until told */
static void *
error_writer(void *arg)
{
	struct store *st = arg;

	for (unsigned long i = 0; !errors_done; i++)
		store_fail(st, "%s", error_texts[i & 1]);
	return NULL;
}

/* test_error_threads - store_error() beside store_fail() in a thread */
static void
test_error_threads(struct store *st)
{
	pthread_t writer;
	char copy[sizeof(st->error)];
	long torn = 0;

	store_fail(st, "%s", error_texts[0]);
	if (pthread_create(&writer, NULL, error_writer, st) != 0) {
		tap_ok(0, "a thread to fail in");
		return;
	}
	for (int i = 0; i < 200000; i++) {
		store_error(st, copy, sizeof(copy));
		torn += strcmp(copy, error_texts[0]) != 0 && strcmp(copy, error_texts[1]) != 0;
	}
	errors_done = 1;
	pthread_join(writer, NULL);
	tap_is_int(torn, 0, "a store's error read while another thread fails: always whole");
}

/* test_backend - the policy's tests on the store at WHERE */
static void
test_backend(const char *where)
{
	char err[512];
	struct store *st = store_open(where, &sconf, 0, err, sizeof(err));

	tap_ok(st != NULL, "open the store");
	if (st == NULL) {
		tap_diag("%s", err);
		return;
	}
	test_update_all(st);
	test_greylist(st);
	test_memo(st);
	test_msa(st);
	test_lists(st);
	test_rates(st);
	test_error_threads(st);
	store_close(st);
	test_race(where);
	test_race_event(where);
}

#ifdef ASSESS_REDIS

static char dir[] = "/tmp/assess_redisXXXXXX";
static pid_t server;

/* redis_start - a redis-server on DIR/NAME.sock, with more settings
 * (MORE1 MORE2 MORE3: "--requirepass", "x", NULL); 0 once it answers */
static int
redis_start(const char *name, const char *more1, const char *more2, const char *more3)
{
	char sock[100], logfile[220];

	snprintf(sock, sizeof(sock), "%.60s/%.20s.sock", dir, name);
	snprintf(logfile, sizeof(logfile), "%s/%s.log", dir, name);
	if ((server = fork()) == 0) {
		execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock,
		       "--dir", dir, "--save", "", "--appendonly", "no", "--logfile", logfile,
		       "--loglevel", "warning", more1, more2, more3, (char *) NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0), up;

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		up = connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
		close(fd);
		if (up)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* redis_stop - the server ends */
static void
redis_stop(void)
{
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
}

/* cli - the first line redis-cli prints for ARGS on the main server;
 * with STDIN_KEY (printf's escapes for NULs), that is the last argument */
static void
cli(const char *args, const char *stdin_key, char *out, size_t size)
{
	char cmd[600];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s%s%s redis-cli -s %s/main.sock %s%s 2>&1",
		 stdin_key ? "printf '" : "", stdin_key ? stdin_key : "", stdin_key ? "' |" : "",
		 dir, stdin_key ? "-x " : "", args);
	*out = 0;
	if ((p = popen(cmd, "r")) != NULL) {
		if (fgets(out, (int) size, p) != NULL)
			out[strcspn(out, "\n")] = 0;
		pclose(p);
	}
}

/* test_ttls - Redis drops records when they are of no more use */
static void
test_ttls(const char *where)
{
	char err[512], out[200];
	struct store *st = store_open(where, &sconf, 0, err, sizeof(err));
	time_t now = time(NULL);
	struct greylist_result res;
	struct cidr c;
	long ttl;

	tap_ok(st != NULL && st->expires, "a Redis store expires records itself");
	if (st == NULL)
		return;
	greylist_check(st, "192.0.2.0/24", "ttl@x", "r@y", now, &conf, &res);
	cli("TTL", "t:g192.0.2.0/24\\000ttl@x\\000r@y", out, sizeof(out));
	ttl = atol(out);
	tap_ok(ttl > 2 * 86400 - 10 && ttl <= 2 * 86400 + 1,
	       "a waiting triplet lives the retry window (TTL %s)", out);
	greylist_check(st, "192.0.2.0/24", "ttl@x", "r@y", now + 400, &conf, &res);
	cli("TTL", "t:g192.0.2.0/24\\000ttl@x\\000r@y", out, sizeof(out));
	ttl = atol(out);
	tap_ok(ttl > 35 * 86400 - 10 && ttl <= 35 * 86400 + 1,
	       "a passed one its lifetime (TTL %s)", out);
	cidr_parse("198.18.0.0/16", &c);
	list_add(st, REC_BLOCK, &c, now, now + 600, 0, "ten minutes");
	cli("TTL t:b198.18.0.0/16", NULL, out, sizeof(out));
	tap_ok(atol(out) > 590 && atol(out) <= 600, "a block for 600 s has its TTL (%s)", out);
	cidr_parse("198.19.0.0/16", &c);
	list_add(st, REC_ALLOW, &c, now, 0, 0, "for good");
	cli("TTL t:a198.19.0.0/16", NULL, out, sizeof(out));
	tap_is_str(out, "-1", "an entry for good has none");
	store_close(st);
}

/* test_prefix - two prefixes on one server are two stores */
static void
test_prefix(const char *where)
{
	struct store_conf other = sconf;
	char err[512];
	struct store *a, *b;
	struct cidr c;

	other.prefix = "cluster2:";
	a = store_open(where, &sconf, 0, err, sizeof(err));
	b = store_open(where, &other, 0, err, sizeof(err));
	if (a == NULL || b == NULL) {
		tap_ok(0, "open two prefixes: %s", err);
		return;
	}
	cidr_parse("203.0.113.0/24", &c);
	list_add(b, REC_BLOCK, &c, 100, 0, 0, "cluster 2 only");
	tap_is_int(list_match(b, REC_BLOCK, "203.0.113.7", 100, NULL), 1, "one cluster blocks");
	tap_is_int(list_match(a, REC_BLOCK, "203.0.113.7", 100, NULL), 0,
		   "the other, under its own prefix, does not see it");
	store_close(a);
	store_close(b);
}

/* test_faults - a server that stops, never answers, runs out of
 * memory, wants a password */
static void
test_faults(const char *where)
{
	char err[512], url[300], out[200];
	struct store *st = store_open(where, &sconf, 0, err, sizeof(err));
	struct greylist_result res;
	struct buf val = BUF_INIT;
	int rc = 0, i, fd;
	double t0;

	if (st == NULL) {
		tap_ok(0, "open: %s", err);
		return;
	}
	redis_stop();
	tap_is_int(greylist_check(st, "192.0.2.0/24", "f@x", "r@y", 1000, &conf, &res), -1,
		   "the server stopped: an error, not a crash");
	tap_ok(strstr(st->error, "redis ") != NULL, "naming the server: %s", st->error);
	tap_is_int(store_get(st, "x", 1, &val), -1, "every operation fails meanwhile");
	tap_ok(redis_start("main", NULL, NULL, NULL) == 0, "the server starts again");
	for (i = 0; i < 300 && (rc = store_get(st, "x", 1, &val)) < 0; i++)
		usleep(10000);
	tap_is_int(rc, 0, "the same store works again by itself (after %d ms)", i * 10);
	tap_is_int(greylist_check(st, "192.0.2.0/24", "f@x", "r@y", 1000, &conf, &res), 0,
		   "greylisting resumes");
	/* out of memory: noeviction refuses writes, reads go on */
	greylist_check(st, "192.0.2.0/24", "f@x", "r@y", 1300, &conf, &res);
	cli("INFO memory", NULL, out, sizeof(out));	/* "# Memory" */
	{
		char cmd[300];
		FILE *p;
		long used = 0;

		snprintf(cmd, sizeof(cmd), "redis-cli -s %s/main.sock INFO memory", dir);
		if ((p = popen(cmd, "r")) != NULL) {
			while (fgets(out, sizeof(out), p) != NULL)
				if (strncmp(out, "used_memory:", 12) == 0)
					used = atol(out + 12);
			pclose(p);
		}
		snprintf(cmd, sizeof(cmd), "CONFIG SET maxmemory %ld", used + 200000);
		cli(cmd, NULL, out, sizeof(out));
	}
	cli("CONFIG SET maxmemory-policy noeviction", NULL, out, sizeof(out));
	for (i = 0; i < 100000; i++) {
		char from[64];

		snprintf(from, sizeof(from), "s%d@fill.example", i);
		if ((rc = greylist_check(st, "192.0.2.0/24", from, "r@y", 1000, &conf, &res)) < 0)
			break;
	}
	tap_is_int(rc, -1, "maxmemory reached: updates fail (after %d)", i);
	tap_ok(strstr(st->error, "OOM") != NULL, "with Redis's reason: %s", st->error);
	tap_ok(i > 100, "not before the memory was used");
	tap_ok(greylist_check(st, "192.0.2.0/24", "f@x", "r@y", 1310, &conf, &res) == 0
	       && res.wait == 0, "a passed triplet is still read");
	cli("CONFIG SET maxmemory 0", NULL, out, sizeof(out));
	store_close(st);
	/* a server that accepts and never answers: the command timeout */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		struct store_conf quick = sconf;

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/mute.sock", dir);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
			tap_diag("mute socket: %m");
		snprintf(url, sizeof(url), "redis+unix://%s", sa.sun_path);
		quick.connect_ms = quick.timeout_ms = 50;
		{
			struct timespec a, b;

			clock_gettime(CLOCK_MONOTONIC, &a);
			st = store_open(url, &quick, 0, err, sizeof(err));
			rc = st ? store_get(st, "x", 1, &val) : 0;
			clock_gettime(CLOCK_MONOTONIC, &b);
			t0 = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
		}
		tap_is_int(rc, -1, "a server that never answers: an error");
		tap_ok(st && strstr(st->error, "timed out after 50 ms") != NULL, "a timeout: %s",
		       st ? st->error : err);
		tap_ok(t0 < 1000, "open and a read within bounds (%.0f ms)", t0);
		store_close(st);
		close(fd);
	}
	/* a read-only replica (of a master that is not there): reads
	 * answer, writes fail with READONLY */
	{
		pid_t main_server = server;

		tap_ok(redis_start("replica", "--replicaof", "127.0.0.1", "1") == 0,
		       "a read-only replica");
		snprintf(url, sizeof(url), "redis+unix://%s/replica.sock", dir);
		st = store_open(url, &sconf, 0, err, sizeof(err));
		tap_ok(st != NULL && store_get(st, "x", 1, &val) == 0, "reads on it answer");
		tap_is_int(st ? greylist_check(st, "192.0.2.0/24", "ro@x", "r@y", 1000, &conf, &res) : 0,
			   -1, "a write fails");
		tap_ok(st && strstr(st->error, "READONLY") != NULL, "with Redis's reason: %s",
		       st ? st->error : err);
		store_close(st);
		redis_stop();
		server = main_server;
	}
	/* a password */
	redis_stop();
	tap_ok(redis_start("main", "--requirepass", "s3cret", NULL) == 0, "a server with a password");
	snprintf(url, sizeof(url), "redis+unix://%s/main.sock", dir);
	st = store_open(url, &sconf, 0, err, sizeof(err));
	tap_ok(st == NULL && strstr(err, "AUTH") != NULL, "without it: refused at open (%s)", err);
	snprintf(url, sizeof(url), "redis+unix://:s3cret@%s/main.sock", dir);
	st = store_open(url, &sconf, 0, err, sizeof(err));
	tap_ok(st != NULL && store_get(st, "x", 1, &val) == 0, "with it: works");
	store_close(st);
	snprintf(url, sizeof(url), "redis+unix://default:s3cret@%s/main.sock?db=2", dir);
	st = store_open(url, &sconf, 0, err, sizeof(err));
	tap_ok(st != NULL && store_get(st, "x", 1, &val) == 0, "an ACL user and a database");
	store_close(st);
	st = store_open("redis://", &sconf, 0, err, sizeof(err));
	tap_ok(st == NULL && strstr(err, "not a Redis URL") != NULL, "a wrong URL says so");
	buf_free(&val);
}

int
main(void)
{
	char where[300], cmd[300];

	test_cidr();
	test_rdns();
	signal(SIGPIPE, SIG_IGN);	/* as mvmtr and mvmcas do */
#ifndef HAVE_REDIS
	tap_skip_all("this build has no Redis backend (./configure --with-redis)");
#endif
	if (system("command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null") != 0)
		tap_skip_all("redis-server is not installed (apt-get install redis-server)");
	if (mkdtemp(dir) == NULL)
		tap_skip_all("cannot make a temporary directory");
	if (redis_start("main", NULL, NULL, NULL) < 0) {
		tap_diag("redis-server did not start (%s/main.log)", dir);
		return tap_done() || 1;
	}
	snprintf(where, sizeof(where), "redis+unix://%s/main.sock", dir);
	test_backend(where);
	test_ttls(where);
	test_prefix(where);
	test_faults(where);
	redis_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}

#else

int
main(void)
{
	char dir[] = "/tmp/assess_testXXXXXX", err[256], cmd[64];

	test_cidr();
	test_rdns();
	if (mkdtemp(dir) == NULL)
		tap_skip_all("cannot make a temporary directory");
	test_backend(dir);
	tap_ok(store_open_lmdb("/proc/no/such", 1 << 20, 0, err, sizeof(err)) == NULL && *err,
	       "a store that cannot be made says why");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}

#endif
