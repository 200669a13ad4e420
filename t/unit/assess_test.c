/*
 * assess_test - the client-assessment policy on a real LMDB store in a
 * temporary directory, with the clock given: CIDR parsing, greylisting
 * (delay, retry window, lifetime, automatic allow-listing), allow and
 * block lists by prefix, expiry, rates, automatic blocks, long keys,
 * and two processes updating one triplet at once.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "assess.h"
#include "msg/msg.h"
#include "store.h"
#include "tap.h"

static const struct greylist_conf conf = { 300, 2 * 86400, 35 * 86400, 2 };

/* wait_for - greylist_check's answer, or -1 after a store error */
static int64_t
wait_for(struct store *st, const char *net, const char *from, const char *to,
	 time_t now)
{
	int64_t wait = -1;

	if (greylist_check(st, net, from, to, now, &conf, &wait) < 0)
		return -1;
	return wait;
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
test_race(const char *dir)
{
	pid_t kids[2];
	struct buf val = BUF_INIT;
	struct triplet_rec r;
	char err[256];
	struct store *st;
	const char key[] = "g192.0.2.0/24\0race@x\0r@y";

	for (int k = 0; k < 2; k++) {
		if ((kids[k] = fork()) == 0) {
			struct store *mine = store_open_lmdb(dir, 64 << 20, 0, err, sizeof(err));

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
	st = store_open_lmdb(dir, 64 << 20, 1, err, sizeof(err));
	tap_ok(st != NULL && store_get(st, key, sizeof(key) - 1, &val) == 1 && val.len == sizeof(r),
	       "the raced triplet is there");
	if (val.len == sizeof(r)) {
		memcpy(&r, val.data, sizeof(r));
		tap_is_int((int) r.attempts, 400, "no update was lost");
	}
	store_close(st);
	buf_free(&val);
}

int
main(void)
{
	char dir[] = "/tmp/assess_testXXXXXX", err[256], cmd[64];
	struct store *st;

	test_cidr();
	if (mkdtemp(dir) == NULL)
		tap_skip_all("cannot make a temporary directory");
	st = store_open_lmdb(dir, 64 << 20, 0, err, sizeof(err));
	tap_ok(st != NULL, "open the store");
	if (st == NULL) {
		tap_diag("%s", err);
		return tap_done();
	}
	test_greylist(st);
	test_lists(st);
	test_rates(st);
	store_close(st);
	test_race(dir);
	tap_ok(store_open_lmdb("/proc/no/such", 1 << 20, 0, err, sizeof(err)) == NULL && *err,
	       "a store that cannot be made says why");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
