/*
 * spf_cache_test - SPF results kept across connections: found again
 * only under everything they depend on (nameserver, client, HELO, the
 * identity, null sender or HELO check, receiver), never after they
 * expire, as copies the caller owns; a newer result takes the slot.
 * What spf_check() keeps, and for how long, is dns.sh's (unbound).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns.h"
#include "spf.h"
#include "tap.h"

struct check {
	const char *ns, *client, *helo, *sender, *receiver;
};

/* limits_for - limits naming nameserver SPEC (parsed into NS) */
static struct spf_limits
limits_for(const char *spec, struct dns_server *ns)
{
	char err[128];
	struct spf_limits lim = { ns, 1000, 0 };

	if (dns_server_parse(spec, ns, err, sizeof(err)) < 0)
		tap_diag("%s: %s", spec, err);
	return lim;
}

/* get - C's kept result into OUT (empty when there is none): 1, else 0 */
static int
get(const struct check *c, struct spf_result *out)
{
	struct dns_server ns;
	struct spf_limits lim = limits_for(c->ns, &ns);

	memset(out, 0, sizeof(*out));

	return spf_cache_get(&lim, c->client, c->helo, c->sender, c->receiver, out);
}

/* put - keep RESULT with field HEADER for check C until EXPIRES_MS */
static void
put(const struct check *c, const char *result, const char *header, int64_t expires_ms)
{
	struct dns_server ns;
	struct spf_limits lim = limits_for(c->ns, &ns);
	char comment[] = "mx.example: domain of pass.test designates 192.0.2.10";
	char hdr[256];
	struct spf_result r = { result, NULL, comment, hdr };

	snprintf(hdr, sizeof(hdr), "%s", header);
	spf_cache_put(&lim, c->client, c->helo, c->sender, c->receiver, &r, expires_ms);
	/* the cache has its own copies: the caller's buffers may go */
	memset(hdr, 'x', sizeof(hdr) - 1);
	memset(comment, 'x', sizeof(comment) - 1);
}

static void
test_keys(void)
{
	static const struct check base = {
		"127.0.0.1", "192.0.2.10", "mail.pass.test", "a@pass.test", "mx.example"
	};
	static const struct {
		struct check c;
		int want;
		const char *what;
	} cases[] = {
		{ { "127.0.0.1", "192.0.2.10", "mail.pass.test", "a@pass.test", "mx.example" }, 1,
		  "the same check" },
		{ { "127.0.0.1:5353", "192.0.2.10", "mail.pass.test", "a@pass.test", "mx.example" }, 0,
		  "another nameserver's port" },
		{ { "127.0.0.2", "192.0.2.10", "mail.pass.test", "a@pass.test", "mx.example" }, 0,
		  "another nameserver" },
		{ { "127.0.0.1", "192.0.2.11", "mail.pass.test", "a@pass.test", "mx.example" }, 0,
		  "another client" },
		{ { "127.0.0.1", "192.0.2.10", "mail2.pass.test", "a@pass.test", "mx.example" }, 0,
		  "another HELO name (%{h}, the field's helo=)" },
		{ { "127.0.0.1", "192.0.2.10", NULL, "a@pass.test", "mx.example" }, 0,
		  "no HELO" },
		{ { "127.0.0.1", "192.0.2.10", "mail.pass.test", "b@pass.test", "mx.example" }, 0,
		  "another local part (%{l}, envelope-from=)" },
		{ { "127.0.0.1", "192.0.2.10", "mail.pass.test", "", "mx.example" }, 0,
		  "the null sender" },
		{ { "127.0.0.1", "192.0.2.10", "mail.pass.test", NULL, "mx.example" }, 0,
		  "the HELO check" },
		{ { "127.0.0.1", "192.0.2.10", "mail.pass.test", "a@pass.test", "mx2.example" }, 0,
		  "another receiver" },
		{ { "127.0.0.1", "192.0.2.10", "mail.pass.test", "a@pass.tes", "tmx.example" }, 0,
		  "the same bytes split differently" },
	};
	struct spf_result r;

	put(&base, "pass", "pass (kept) client-ip=192.0.2.10;", dns_now_ms() + 60000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int hit = get(&cases[i].c, &r);

		tap_is_int(hit, cases[i].want, "%s: %s", cases[i].what,
			   cases[i].want ? "found" : "not found");
		if (hit)
			spf_result_free(&r);
	}
	if (get(&base, &r)) {
		tap_is_str(r.result, "pass", "the result");
		tap_is_str(r.header, "pass (kept) client-ip=192.0.2.10;", "a copy of the field");
		tap_is_str(r.comment, "mx.example: domain of pass.test designates 192.0.2.10",
			   "a copy of the comment");
		tap_ok(r.explanation == NULL, "no explanation stays none");
		spf_result_free(&r);
	} else {
		tap_ok(0, "the result is found again");
	}

	/* the HELO check and the null sender each have their own */
	{
		struct check helo = base, null = base;

		helo.sender = NULL;
		null.sender = "";
		put(&helo, "fail", "fail helo", dns_now_ms() + 60000);
		put(&null, "softfail", "softfail null", dns_now_ms() + 60000);
		tap_ok(get(&helo, &r) && strcmp(r.result, "fail") == 0,
		       "the HELO check's own result");
		spf_result_free(&r);
		tap_ok(get(&null, &r) && strcmp(r.result, "softfail") == 0,
		       "the null sender's own result");
		spf_result_free(&r);
		tap_ok(get(&base, &r) && strcmp(r.result, "pass") == 0, "MAIL FROM's result unchanged");
		spf_result_free(&r);
	}

	/* a newer result for the same check wins */
	put(&base, "fail", "fail (newer)", dns_now_ms() + 60000);
	tap_ok(get(&base, &r) && strcmp(r.result, "fail") == 0
	       && strcmp(r.header, "fail (newer)") == 0, "a newer result replaces the kept one");
	spf_result_free(&r);
}

static void
test_expiry(void)
{
	static const struct check c = {
		"127.0.0.1", "198.51.100.7", "mail.fail.test", "a@fail.test", "mx.example"
	};
	struct spf_result r;

	put(&c, "fail", "fail (expired)", dns_now_ms() - 1);
	tap_is_int(get(&c, &r), 0, "a result past its answers' TTL is not used");
	put(&c, "fail", "fail (soon)", dns_now_ms() + 300);
	tap_is_int(get(&c, &r), 1, "a result within its TTL is used");
	spf_result_free(&r);
	{
		struct timespec ts = { 0, 400 * 1000 * 1000 };

		nanosleep(&ts, NULL);
	}
	tap_is_int(get(&c, &r), 0, "... and no longer once the TTL has passed");
}

int
main(void)
{
	test_keys();
	test_expiry();
	return tap_done();
}
