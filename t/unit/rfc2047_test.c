/* rfc2047_test - encoded-words in header text, to UTF-8 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "msg/msg.h"
#include "tap.h"

static const struct rfc2047_case {
	const char *input;
	const char *want;
} cases[] = {
	{ "plain text", "plain text" },
	{ "", "" },
	{ "=?utf-8?q?caf=C3=A9?=", "caf\xc3\xa9" },
	{ "=?UTF-8?B?w6k=?=", "\xc3\xa9" },
	{ "=?utf-8?b?w6k?=", "\xc3\xa9" },
	{ "Re: =?utf-8?q?caf=C3=A9?= and more", "Re: caf\xc3\xa9 and more" },
	/* RFC 2047 section 8 examples */
	{ "(=?ISO-8859-1?Q?a?=)", "(a)" },
	{ "(=?ISO-8859-1?Q?a?= b)", "(a b)" },
	{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)" },
	{ "(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)" },
	{ "(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)" },
	{ "(=?ISO-8859-1?Q?a_b?=)", "(a b)" },
	{ "(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)" },
	{ "=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=", "Keld J\xc3\xb8rn Simonsen" },
	{ "=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard" },
	/* a character split across two words survives the join */
	{ "=?utf-8?b?5pc=?= =?utf-8?b?peacrOiqng==?=",
	  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
	{ "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=",
	  "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
	{ "=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore" },
	{ "=?windows-1252?q?=80?=", "\xe2\x82\xac" },
	{ "=?ks_c_5601-1987?B?x9GxuQ==?=", "\xed\x95\x9c\xea\xb5\xad" },
	/* unknown charsets and broken words stay as they are */
	{ "=?x-unknown?q?abc?=", "=?x-unknown?q?abc?=" },
	{ "=?utf-8?b?no-end", "=?utf-8?b?no-end" },
	{ "=?utf-8?x?abc?=", "=?utf-8?x?abc?=" },
	{ "=?" "?q?abc?=", "=?" "?q?abc?=" },
	{ "=?=", "=?=" },
	{ "=?", "=?" },
	{ "a=?b", "a=?b" },
	{ "=?utf-8?q?" "?=", "" },
	/* lenient where deployed mail needs it */
	{ "x=?utf-8?q?y?=z", "xyz" },
	{ "=?utf-8?q?hello world?=", "hello world" },
	{ "=?utf-8?q?a=ZZb?=", "a=ZZb" },
	{ "=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b" },
	{ "\"=?utf-8?q?quoted?=\"", "\"quoted\"" },
	/* output is valid UTF-8 whatever came in */
	{ "caf\xe9", "caf\xef\xbf\xbd" },
	{ "=?utf-8?q?=FF?=", "\xef\xbf\xbd" },
	{ "=?us-ascii?q?=E9?=", "\xef\xbf\xbd" },
	{ "=?utf-8?q?=ED=A0=80?=", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
};

int
main(void)
{
	struct buf out = BUF_INIT;
	size_t big_len = 6 * 100000;
	char *big;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&out);
		rfc2047_decode(cases[i].input, strlen(cases[i].input), &out);
		tap_is_str(buf_cstr(&out), cases[i].want, "rfc2047 %zu: %s", i,
			   cases[i].input);
	}
	/* 100,000 unterminated words: linear, and kept as they are */
	big = malloc(big_len);
	for (size_t i = 0; i < big_len; i += 6)
		memcpy(big + i, "=?a?q?", 6);
	buf_reset(&out);
	rfc2047_decode(big, big_len, &out);
	tap_is_int((long long) out.len, (long long) big_len,
		   "100,000 unterminated encoded-words kept whole");
	free(big);
	buf_free(&out);
	return tap_done();
}
