/*
 * rfc2047 - header text with encoded-words, to UTF-8
 *
 * "=?charset?B|Q?text?=" words are decoded wherever they stand, as
 * Dovecot and most MUAs do, not only where RFC 2047 section 5 allows them.
 * White space between two adjacent encoded-words is dropped (section 6.2).
 * Adjacent words in one charset are joined before conversion, so a
 * multi-byte character split across words (common in base64 subjects)
 * survives. A word in a charset iconv does not know is kept raw.
 * Text outside encoded-words is taken as UTF-8, invalid bytes replaced.
 *
 * The scan is linear: each "=?" is looked at once, and once no "?=" is
 * left in the input no later candidate is searched for one.
 *
 * DIAGNOSTICS: none; the output is always valid UTF-8.
 */
#include "config.h"

#include <string.h>

#include "buf.h"
#include "charset.h"
#include "codec.h"
#include "rfc2047.h"
#include "str.h"

/* One encoded-word: where it is in the input, and its parts. */
struct ew {
	const char *start, *end;	/* "=?" ... "?=" inclusive */
	const char *charset;
	size_t charset_len;
	int encoding;			/* 'b' or 'q' */
	const char *text;
	size_t text_len;
};

/* Encoded text of adjacent words, joined until the charset changes. */
struct ew_run {
	struct buf bytes;
	const char *charset;
	size_t charset_len;
	const char *raw_start, *raw_end;
	int active;
};

/* ew_charset_char - token character of RFC 2047's charset, '*' for 2231 */
static int
ew_charset_char(int ch)
{
	return ch > ' ' && ch < 127 && !strchr("()<>@,;:\"/[]?.=", ch);
}

/* ew_parse - encoded-word at P, with *NO_MORE_END set once "?=" is gone */
static int
ew_parse(const char *p, const char *end, struct ew *ew, int *no_more_end)
{
	const char *q = p + 2, *close;

	ew->charset = q;
	while (q < end && ew_charset_char((unsigned char) *q))
		q++;
	ew->charset_len = (size_t) (q - ew->charset);
	if (ew->charset_len == 0 || end - q < 3 || q[0] != '?' || q[2] != '?')
		return -1;
	ew->encoding = ascii_lower((unsigned char) q[1]);
	if (ew->encoding != 'b' && ew->encoding != 'q')
		return -1;
	ew->text = q + 3;
	if (*no_more_end)
		return -1;
	close = NULL;
	for (const char *s = ew->text; s + 1 < end; s++) {
		s = memchr(s, '?', (size_t) (end - s - 1));
		if (s == NULL)
			break;
		if (s[1] == '=') {
			close = s;
			break;
		}
	}
	if (close == NULL) {
		*no_more_end = 1;
		return -1;
	}
	ew->text_len = (size_t) (close - ew->text);
	ew->start = p;
	ew->end = close + 2;
	return 0;
}

/* ew_flush - convert the pending run into OUT */
static void
ew_flush(struct ew_run *run, struct buf *out)
{
	if (!run->active)
		return;
	if (charset_to_utf8(run->charset, run->charset_len, run->bytes.data,
			    run->bytes.len, out) < 0)
		utf8_repair(run->raw_start,
			    (size_t) (run->raw_end - run->raw_start), out);
	if (run->bytes.failed)
		out->failed = 1;
	buf_reset(&run->bytes);
	run->active = 0;
}

/* ew_add - add a decoded word to the run, flushing on a charset change */
static void
ew_add(struct ew_run *run, const struct ew *ew, struct buf *out)
{
	if (run->active && (run->charset_len != ew->charset_len
	    || !mem_ieq(run->charset, ew->charset, ew->charset_len)))
		ew_flush(run, out);
	if (!run->active) {
		run->active = 1;
		run->charset = ew->charset;
		run->charset_len = ew->charset_len;
		run->raw_start = ew->start;
	}
	run->raw_end = ew->end;
	if (ew->encoding == 'b')
		base64_decode(ew->text, ew->text_len, &run->bytes);
	else
		qp_decode_header(ew->text, ew->text_len, &run->bytes);
}

/* is_lwsp_only - only white space and line ends between two words */
static int
is_lwsp_only(const char *p, const char *end)
{
	for (; p < end; p++)
		if (!is_wsp(*p) && *p != '\r' && *p != '\n')
			return 0;
	return 1;
}

/* rfc2047_decode - append IN with encoded-words decoded, as UTF-8 */
void
rfc2047_decode(const char *in, size_t len, struct buf *out)
{
	const char *p = in, *end = in + len, *text = in;
	struct ew_run run = { BUF_INIT, NULL, 0, NULL, NULL, 0 };
	int no_more_end = 0;
	struct ew ew;

	while (end - p >= 2) {
		const char *cand = memchr(p, '=', (size_t) (end - p - 1));

		if (cand == NULL)
			break;
		if (cand[1] != '?' || ew_parse(cand, end, &ew, &no_more_end) < 0) {
			p = cand + 1;
			continue;
		}
		if (!(run.active && is_lwsp_only(text, cand))) {
			ew_flush(&run, out);
			utf8_repair(text, (size_t) (cand - text), out);
		}
		ew_add(&run, &ew, out);
		p = text = ew.end;
	}
	ew_flush(&run, out);
	utf8_repair(text, (size_t) (end - text), out);
	buf_free(&run.bytes);
}
