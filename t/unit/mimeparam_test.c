/* mimeparam_test - Content-Type and Content-Disposition values */
#include "config.h"

#include <string.h>

#include "msg/msg.h"
#include "tap.h"

static const struct param_case {
	const char *input;
	const char *want;	/* "token;name=value;..." */
} cases[] = {
	{ "text/plain", "text/plain" },
	{ "TEXT/Plain; CHARSET=us-ascii", "text/plain;charset=us-ascii" },
	{ "text/plain; charset=\"utf-8\"", "text/plain;charset=utf-8" },
	{ "text/plain (a comment); charset=utf-8", "text/plain;charset=utf-8" },
	{ "multipart/mixed;boundary=foo", "multipart/mixed;boundary=foo" },
	{ "multipart/mixed; boundary=----=_NextPart_000_0012",
	  "multipart/mixed;boundary=----=_NextPart_000_0012" },
	{ "multipart/mixed;\n\tboundary=\"a b\\\"c\"", "multipart/mixed;boundary=a b\"c" },
	{ "multipart/mixed; boundary=\"unterminated", "multipart/mixed;boundary=unterminated" },
	{ "text/plain; charset=a; charset=b", "text/plain;charset=a" },
	{ "text/plain; junk; charset=x", "text/plain;charset=x" },
	{ "text/plain;; ;charset=x;", "text/plain;charset=x" },
	{ "text/plain; =novalue; a=1", "text/plain;a=1" },
	{ "; charset=x", ";charset=x" },
	{ "", "" },
	{ "text/plain; name=", "text/plain;name=" },
	/* RFC 2231 */
	{ "application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
	  "application/x-stuff;title=This is ***fun***" },
	{ "message/external-body; access-type=URL;\n URL*0=\"ftp://\";\n URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
	  "message/external-body;access-type=URL;url=ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar" },
	{ "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20;"
	  " title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
	  "application/x-stuff;title=This is even more ***fun*** isn't it!" },
	{ "attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf",
	  "attachment;filename=\xe2\x82\xac rates.pdf" },
	{ "attachment; filename*=iso-8859-1''caf%E9.txt",
	  "attachment;filename=caf\xc3\xa9.txt" },
	{ "attachment; filename*1=\"b\"; filename*0=\"a\"", "attachment;filename=ab" },
	{ "attachment; filename*=x-bogus''%FF", "attachment;filename=\xef\xbf\xbd" },
	{ "attachment; filename*0=a; filename*2=c", "attachment;filename=a" },
	{ "attachment; filename*99999999999=a", "attachment" },
};

int
main(void)
{
	struct arena *arena = arena_create(0);
	struct buf got = BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mime_param *params;
		const char *token;
		size_t n;

		buf_reset(&got);
		if (mime_param_parse(arena, cases[i].input, strlen(cases[i].input),
				     &token, &params, &n) < 0) {
			tap_ok(0, "param %zu: out of memory", i);
			continue;
		}
		buf_puts(&got, token);
		for (size_t k = 0; k < n; k++)
			buf_printf(&got, ";%s=%s", params[k].name, params[k].value);
		tap_is_str(buf_cstr(&got), cases[i].want, "param %zu: %s", i,
			   cases[i].input);
	}
	buf_free(&got);
	arena_free(arena);
	return tap_done();
}
