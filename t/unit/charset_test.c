/* charset_test - conversion to UTF-8 and UTF-8 validity */
#include "config.h"

#include <iconv.h>
#include <stdint.h>
#include <string.h>

#include "msg/msg.h"
#include "msg/sbcs_tables.h"	/* white-box: every table entry against iconv */
#include "tap.h"

static const struct conv_case {
	const char *charset;
	const char *input;
	int ret;
	const char *want;
} conv_cases[] = {
	{ "utf-8", "caf\xc3\xa9", 0, "caf\xc3\xa9" },
	{ "UTF-8", "caf\xe9", 0, "caf\xef\xbf\xbd" },
	{ "us-ascii", "plain", 0, "plain" },
	{ "iso-8859-1", "caf\xe9", 0, "caf\xc3\xa9" },
	{ "ISO-8859-15", "\xa4", 0, "\xe2\x82\xac" },
	{ "windows-1252", "\x80", 0, "\xe2\x82\xac" },
	{ "koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", 0,
	  "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82" },
	{ "ks_c_5601-1987", "\xc7\xd1", 0, "\xed\x95\x9c" },
	{ "\"iso-8859-1\"", "\xe9", 0, "\xc3\xa9" },
	{ "utf-8*en", "x", 0, "x" },
	{ "shift_jis", "\x93\xfa", 0, "\xe6\x97\xa5" },
	{ "shift_jis", "\x93", 0, "\xef\xbf\xbd" },
	{ "x-unknown", "abc", -1, "" },
	{ "", "abc", -1, "" },
	{ "utf-8//TRANSLIT", "abc", -1, "" },
	{ "unknown-8bit", "abc", -1, "" },
};

static const struct valid_case {
	const char *input;
	size_t len;
	int valid;
} valid_cases[] = {
	{ "plain", 5, 1 },
	{ "\xc3\xa9", 2, 1 },
	{ "\xf0\x9f\x98\x80", 4, 1 },
	{ "\xc0\xaf", 2, 0 },		/* overlong '/' */
	{ "\xe0\x80\xaf", 3, 0 },	/* overlong */
	{ "\xed\xa0\x80", 3, 0 },	/* surrogate */
	{ "\xf4\x90\x80\x80", 4, 0 },	/* past U+10FFFF */
	{ "\xc3", 1, 0 },		/* truncated */
	{ "\x80", 1, 0 },
	{ "a\0b", 3, 1 },
};

/* sbcs_against_iconv - each of the 256 bytes in T's charset converted
 * as glibc's iconv(3) converts it (U+FFFD where iconv refuses it), under
 * each of T's names */
static void
sbcs_against_iconv(const struct sbcs *t, struct buf *out)
{
	iconv_t cd = iconv_open("UTF-8", t->names[0]);
	int same = cd != (iconv_t) -1;
	char want[8];

	for (int b = 0; b < 256 && same; b++) {
		char in = (char) b, *inp = &in, *outp = want;
		size_t inleft = 1, outleft = sizeof(want) - 1;

		iconv(cd, NULL, NULL, NULL, NULL);
		if (iconv(cd, &inp, &inleft, &outp, &outleft) == (size_t) -1)
			strcpy(want, "\xef\xbf\xbd");
		else
			*outp = 0;
		for (size_t j = 0; j < 3 && t->names[j] != NULL && same; j++) {
			buf_reset(out);
			same = charset_to_utf8(t->names[j], strlen(t->names[j]), &in, 1, out) == 0
			    && out->len == (b == 0 ? 1 : strlen(want)) && memcmp(out->data, want, out->len) == 0;
			if (!same)
				tap_diag("%s byte 0x%02x: got %s, want %s", t->names[j], b, buf_cstr(out), want);
		}
	}
	if (cd != (iconv_t) -1)
		iconv_close(cd);
	tap_ok(same, "%s: all 256 bytes as iconv converts them", t->names[0]);
}

int
main(void)
{
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < sizeof(conv_cases) / sizeof(conv_cases[0]); i++) {
		const struct conv_case *c = &conv_cases[i];
		int ret;

		buf_reset(&out);
		ret = charset_to_utf8(c->charset, strlen(c->charset), c->input,
				      strlen(c->input), &out);
		tap_is_int(ret, c->ret, "convert %zu: %s result", i, c->charset);
		tap_is_str(buf_cstr(&out), c->want, "convert %zu: %s text", i,
			   c->charset);
	}
	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++)
		tap_is_int(utf8_valid(valid_cases[i].input, valid_cases[i].len),
			   valid_cases[i].valid, "utf8_valid %zu", i);
	buf_reset(&out);
	utf8_repair("a\xc3\xa9\xff\xc3", 5, &out);
	tap_is_str(buf_cstr(&out), "a\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd", "repair");
	for (size_t i = 0; i < sizeof(sbcs_tables) / sizeof(sbcs_tables[0]); i++)
		sbcs_against_iconv(&sbcs_tables[i], &out);
	tap_ok(charset_known("iso-8859-2", 10), "iso-8859-2 known");
	tap_ok(!charset_known("no-such-set", 11), "no-such-set unknown");
	buf_free(&out);
	return tap_done();
}
