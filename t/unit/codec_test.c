/* codec_test - base64 and quoted-printable, as deployed mail needs them */
#include "config.h"

#include <string.h>

#include "msg/msg.h"
#include "tap.h"

static const struct codec_case {
	int qp;
	const char *input;
	const char *want;
} cases[] = {
	{ 0, "aGVsbG8=", "hello" },
	{ 0, "aGVs\r\nbG8=\r\n", "hello" },
	{ 0, "aGVsbG8", "hello" },
	{ 0, "aGVsbA", "hell" },
	{ 0, "a G V s b G 8 =", "hello" },
	{ 0, "aGVs!bG8=", "hello" },
	{ 0, "", "" },
	{ 0, "====", "" },
	{ 0, "aGk=aGk=", "hihi" },
	{ 0, "/+/+", "\xff\xef\xfe" },
	{ 1, "plain", "plain" },
	{ 1, "caf=C3=A9", "caf\xc3\xa9" },
	{ 1, "caf=c3=a9", "caf\xc3\xa9" },
	{ 1, "soft=\nbreak", "softbreak" },
	{ 1, "soft=\r\nbreak\r\n", "softbreak\r\n" },
	{ 1, "soft=  \nbreak", "softbreak" },
	{ 1, "trailing   \nspace", "trailing\nspace" },
	{ 1, "a=ZZb", "a=ZZb" },
	{ 1, "end=", "end" },
	{ 1, "end=4", "end=4" },
	{ 1, "a=3D=3D", "a==" },
	{ 1, "line1\r\nline2\r\n", "line1\r\nline2\r\n" },
	{ 1, "=\n", "" },
};

int
main(void)
{
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct codec_case *c = &cases[i];

		buf_reset(&out);
		if (c->qp)
			qp_decode(c->input, strlen(c->input), &out);
		else
			base64_decode(c->input, strlen(c->input), &out);
		tap_is_mem(out.data ? out.data : "", out.len, c->want,
			   strlen(c->want), "%s %zu", c->qp ? "qp" : "base64", i);
	}
	buf_reset(&out);
	qp_decode_header("a_b=5Fc", 7, &out);
	tap_is_str(buf_cstr(&out), "a b_c", "Q encoding: '_' is a space");
	buf_free(&out);
	return tap_done();
}
