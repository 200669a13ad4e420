/*
 * addr_test - RFC 5322 address lists, obsolete forms and broken mail.
 * Each case is an unfolded header value and the list it must give, one
 * address as "<spec> [name] {group}" plus flags, joined with ", ".
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "msg/msg.h"
#include "tap.h"

static const struct addr_case {
	const char *input;
	const char *want;
} cases[] = {
	/* RFC 5322 appendix A.1 */
	{ "user@example.com", "<user@example.com>" },
	{ "User <user@example.com>", "<user@example.com> [User]" },
	{ "\"Joe Q. Public\" <john.q.public@example.com>",
	  "<john.q.public@example.com> [Joe Q. Public]" },
	{ "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	  "<mary@x.test> [Mary Smith], <jdoe@example.org>, <one@y.test> [Who?]" },
	{ "<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	  "<boss@nil.test>, <sysservices@example.net> [Giant; \"Big\" Box]" },
	{ "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	  "<c@a.test> [Ed Jones] {A Group}, <joe@where.test> {A Group}, "
	  "<jdoe@one.test> [John] {A Group}" },
	{ "Undisclosed recipients:;", "" },
	{ "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
	  "<pete@silly.test> [Pete]" },
	{ "A Group(Some people)\n     :Chris Jones <c@(Chris's host.)public.example>,\n"
	  "         joe@example.org,\n  John <jdoe@one.test> (my dear friend); (the end of the group)",
	  "<c@public.example> [Chris Jones] {A Group}, <joe@example.org> {A Group}, "
	  "<jdoe@one.test> [John] {A Group}" },
	{ "(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;", "" },
	/* RFC 5322 4.4 obsolete syntax, appendix A.6 */
	{ "Joe Q. Public <john.q.public@example.com>",
	  "<john.q.public@example.com> [Joe Q. Public]" },
	{ "Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
	  "<mary@example.net> [Mary Smith] route, <jdoe@test.example>" },
	{ "John Doe <jdoe@machine(comment).  example>",
	  "<jdoe@machine.example> [John Doe]" },
	{ "Mary Smith\n <mary@example.net>", "<mary@example.net> [Mary Smith]" },
	{ "<@a.test,@b.test:user@c.test>", "<user@c.test> route" },
	{ "\"john\".q . \"public\"@example.com", "<john.q.public@example.com>" },
	{ "Muhammed.(I am the greatest) Ali @(the)Vegas.WBA",
	  "<Muhammed.Ali@Vegas.WBA>" },
	{ "user @ example.com", "<user@example.com>" },
	{ "a@b.c,,d@e.f", "<a@b.c>, <d@e.f>" },
	{ ",,,", "" },
	{ "", "" },
	{ "   ", "" },
	{ "<x@y.z>,", "<x@y.z>" },
	/* quoting of local parts */
	{ "\"john doe\"@example.com", "<\"john doe\"@example.com>" },
	{ "\"john\\\"q\"@example.com", "<\"john\\\"q\"@example.com>" },
	{ "\"quoted@at\"@example.com", "<\"quoted@at\"@example.com>" },
	{ "\"Full Name\" <\"odd local\"@example.com>",
	  "<\"odd local\"@example.com> [Full Name]" },
	{ "a..b@c.d", "<\"a..b\"@c.d>" },
	{ ".a@b.c", "<\".a\"@b.c>" },
	{ "a.b.c@d.e.f", "<a.b.c@d.e.f>" },
	{ "user+detail@example.com", "<user+detail@example.com>" },
	{ "UPPER@Example.COM", "<UPPER@Example.COM>" },
	{ "o'brien@example.ie", "<o'brien@example.ie>" },
	{ "{weird}=#$%&*@example.com", "<{weird}=#$%&*@example.com>" },
	/* domain literals */
	{ "user@[192.168.0.1]", "<user@[192.168.0.1]>" },
	{ "Jane <jane@[IPv6:2001:db8::1]>", "<jane@[IPv6:2001:db8::1]> [Jane]" },
	/* missing parts */
	{ "user", "<user>" },
	{ "MAILER-DAEMON", "<MAILER-DAEMON>" },
	{ "<postmaster>", "<postmaster>" },
	{ "<>", "<> null" },
	{ "Nobody <>", "<> [Nobody] null" },
	{ "foo@", "invalid(foo@)" },
	{ "@example.com", "invalid(@example.com)" },
	{ "John Smith", "invalid(John Smith)" },
	{ "John Smith, jane@x.org", "invalid(John Smith), <jane@x.org>" },
	{ "Smith, John <john@x.org>", "<Smith>, <john@x.org> [John]" },
	{ "a@b@c", "invalid(a@b@c)" },
	/* display names */
	{ "\"Smith, John\" <john@x.org>", "<john@x.org> [Smith, John]" },
	{ "\"\" <a@b.c>", "<a@b.c> []" },
	{ "Tom & Jerry <tj@example.com>", "<tj@example.com> [Tom & Jerry]" },
	{ "\"Mr. O'Brien\" <ob@example.ie>", "<ob@example.ie> [Mr. O'Brien]" },
	{ "a@b.c (Comment Name)", "<a@b.c>" },
	{ "<user@example.com> (comment)", "<user@example.com>" },
	{ "Name <user@example.com> trailing junk", "<user@example.com> [Name]" },
	{ "J\xc3\xb6rg <joerg@example.de>", "<joerg@example.de> [J\xc3\xb6rg]" },
	{ "J\xf6rg <joerg@example.de>", "<joerg@example.de> [J\xef\xbf\xbdrg]" },
	{ "m\xc3\xbcller@example.de", "<m\xc3\xbcller@example.de>" },
	/* RFC 2047 in display names */
	{ "=?utf-8?q?J=C3=B6rg?= <joerg@example.de>",
	  "<joerg@example.de> [J\xc3\xb6rg]" },
	{ "\"=?iso-8859-1?q?Andr=E9?= Pirard\" <pirard@vm1.ulg.ac.be>",
	  "<pirard@vm1.ulg.ac.be> [Andr\xc3\xa9 Pirard]" },
	{ "=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>",
	  "<moore@cs.utk.edu> [Keith Moore]" },
	{ "=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>",
	  "<keld@dkuug.dk> [Keld J\xc3\xb8rn Simonsen]" },
	{ "=?utf-8?b?5pel5pys6Kqe?= <jp@example.jp>",
	  "<jp@example.jp> [\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e]" },
	{ "=?utf-8?q?a?= =?utf-8?q?b?= <x@y.z>", "<x@y.z> [ab]" },
	{ "=?bogus-charset?q?abc?= <x@y.z>", "<x@y.z> [=?bogus-charset?q?abc?=]" },
	/* groups */
	{ "group: a@b.c; d@e.f", "<a@b.c> {group}, <d@e.f>" },
	{ "g1: a@b.c;, g2: d@e.f;", "<a@b.c> {g1}, <d@e.f> {g2}" },
	{ "g: ;", "" },
	{ "g: a@b.c", "<a@b.c> {g}" },
	{ "Group: <a@b.c>, Name <d@e.f>;, last@x.y",
	  "<a@b.c> {Group}, <d@e.f> [Name] {Group}, <last@x.y>" },
	{ "undisclosed-recipients:;", "" },
	{ "g: a: b@c.d;", "invalid(a: b@c.d)" },
	/* broken mail */
	{ "Foo <foo@bar.com", "<foo@bar.com> [Foo] unclosed" },
	{ "Foo <foo@bar.com, baz@qux.com",
	  "<foo@bar.com> [Foo] unclosed, <baz@qux.com>" },
	{ "a@b.c (unterminated comment", "<a@b.c>" },
	{ "\"unterminated <a@b.c>", "<\"unterminated <a@b.c>\">" },
	{ "<a@b.c> <d@e.f>", "<a@b.c>" },
	{ "a@b.c;d@e.f", "<a@b.c>, <d@e.f>" },
	{ "a@b.c\n\t, d@e.f", "<a@b.c>, <d@e.f>" },
	{ ">a@b.c", "invalid(>a@b.c)" },
	{ "a@b.c>", "invalid(a@b.c>)" },
};

/* describe - the parsed list in the notation of the cases */
static void
describe(const struct addr *list, size_t count, struct buf *out)
{
	for (size_t i = 0; i < count; i++) {
		const struct addr *a = &list[i];

		if (i > 0)
			buf_puts(out, ", ");
		if (a->flags & ADDR_F_INVALID) {
			buf_puts(out, "invalid(");
			buf_append(out, a->raw, a->raw_len);
			buf_puts(out, ")");
			continue;
		}
		buf_putc(out, '<');
		addr_spec(a, out);
		buf_putc(out, '>');
		if (a->name != NULL)
			buf_printf(out, " [%s]", a->name);
		if (a->group != NULL)
			buf_printf(out, " {%s}", a->group);
		if (a->flags & ADDR_F_NULL)
			buf_puts(out, " null");
		if (a->flags & ADDR_F_ROUTE)
			buf_puts(out, " route");
		if (a->flags & ADDR_F_UNCLOSED)
			buf_puts(out, " unclosed");
	}
}

static const struct detail_case {
	const char *local;
	const char *separators;
	const char *user;
	const char *detail;	/* NULL: no separator */
} detail_cases[] = {
	{ "user+detail", "+", "user", "detail" },
	{ "user+", "+", "user", "" },
	{ "user", "+", "user", NULL },
	{ "a+b+c", "+", "a", "b+c" },
	{ "a-b+c", "+-", "a", "b+c" },
	{ "a-b+c", "+", "a-b", "c" },
	{ "+detail", "+", "", "detail" },
	{ "", "+", "", NULL },
};

/* SMTP paths (addr_parse_path): what they parse to, "local|domain",
 * "local|-" without a domain, or NULL when not a path */
static const struct {
	const char *input, *want;
} path_cases[] = {
	{ "<stephan@example.org>", "stephan|example.org" },
	{ "stephan@example.org", "stephan|example.org" },
	{ "<MAILER-DAEMON>", "MAILER-DAEMON|-" },
	{ "<@a.example,@b.example:stephan@example.org>", "stephan|example.org" },
	{ "<\"two words\"@example.org>", "two words|example.org" },
	{ ".japanese@example.com", ".japanese|example.com" },
	{ "x@_example.com", "x|_example.com" },
	{ "x@[192.0.2.1]", "x|[192.0.2.1]" },
	{ "<<stephan@example.org>", NULL },
	{ "stephan@example.org>", NULL },
	{ "<stephan@example.org", NULL },
	{ "<stephan example.org>", NULL },
	{ "<stephan@@example.org>", NULL },
	{ "hutsefluts@", NULL },
	{ "<cola.example.org:stephan@example.org>", NULL },
	{ "<@.example.org:stephan@example.org>", NULL },
	{ "<@cola..nl:stephan@example.org>", NULL },
	{ "<@a.example,b.example:stephan@example.org>", NULL },
	{ "<@a.example,@b.example,stephan@example.org>", NULL },
	{ "<\"open@example.org>", NULL },
	{ "", NULL },
};

int
main(void)
{
	struct arena *arena = arena_create(0);
	struct buf got = BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addr *list;
		size_t count;

		buf_reset(&got);
		if (addr_parse_list(arena, cases[i].input, strlen(cases[i].input),
				    &list, &count) < 0) {
			tap_ok(0, "addr %zu: out of memory", i);
			continue;
		}
		describe(list, count, &got);
		tap_is_str(buf_cstr(&got), cases[i].want, "addr %zu: %s", i,
			   cases[i].want);
	}
	for (size_t i = 0; i < sizeof(detail_cases) / sizeof(detail_cases[0]); i++) {
		const struct detail_case *c = &detail_cases[i];
		const char *detail;
		size_t user_len, detail_len;
		int found = addr_detail(c->local, strlen(c->local), c->separators,
					&user_len, &detail, &detail_len);

		tap_is_mem(c->local, user_len, c->user, strlen(c->user),
			   "detail %zu: user of %s", i, c->local);
		tap_is_int(found, c->detail != NULL, "detail %zu: found", i);
		if (c->detail != NULL)
			tap_is_mem(detail, detail_len, c->detail, strlen(c->detail),
				   "detail %zu: detail of %s", i, c->local);
	}
	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		struct addr a;
		int rc = addr_parse_path(arena, path_cases[i].input, strlen(path_cases[i].input), &a);

		buf_reset(&got);
		if (rc == 0)
			buf_printf(&got, "%s|%s", a.local, a.domain ? a.domain : "-");
		tap_is_str(rc == 0 ? buf_cstr(&got) : "(not a path)",
			   path_cases[i].want ? path_cases[i].want : "(not a path)",
			   "path %zu: %s", i, path_cases[i].input);
	}
	buf_free(&got);
	arena_free(arena);
	return tap_done();
}
