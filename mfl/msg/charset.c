/*
 * charset - text in any MIME charset to valid UTF-8
 *
 * Headers and bodies name their charset (RFC 2047, RFC 2045); tests see
 * UTF-8. Conversion goes through iconv(3) from libc after the name is
 * normalised (case, RFC 2231 language suffix, common aliases that glibc
 * does not know); the single-byte charsets mail uses most (ISO-8859-*,
 * windows-125x, KOI8, ...) go through tables of what glibc's iconv gives
 * each byte (sbcs_tables.h), with no converter to set up. UTF-8 and
 * US-ASCII take a fast path that keeps valid UTF-8 as it is, since
 * "us-ascii" mail is often UTF-8 in practice.
 *
 * Whatever comes out is valid UTF-8: a byte that cannot be converted
 * becomes U+FFFD and conversion goes on with the next one.
 *
 * A host may convert in place of iconv (charset_set_converter()): mvmda
 * linked with a static glibc hands the text to a process that has the
 * system's.
 *
 * DIAGNOSTICS: charset_to_utf8() returns -1 when the charset is unknown,
 * leaving OUT unchanged so the caller can keep the raw text. Memory
 * failures show in out->failed.
 */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "charset.h"
#include "sbcs_tables.h"
#include "str.h"

#define CHARSET_NAME_MAX	64

static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

/* set once at start by a host whose iconv must not be used (mvmda
 * linked with a static glibc, whose gconv modules are the system's) */
static charset_converter *converter;

/* Names seen in real mail that glibc's iconv does not take as they are. */
static const struct charset_alias {
	const char *name;
	const char *iconv_name;
} charset_aliases[] = {
	{ "ks_c_5601-1987", "CP949" },
	{ "ks_c_5601", "CP949" },
	{ "x-sjis", "SHIFT_JIS" },
	{ "shift-jis", "SHIFT_JIS" },
	{ "iso-8859-8-i", "ISO-8859-8" },
	{ "iso-8859-6-i", "ISO-8859-6" },
	{ "gb2312", "GBK" },
	{ "x-gbk", "GBK" },
	{ "unicode-1-1-utf-7", "UTF-7" },
	{ "x-mac-roman", "MACINTOSH" },
	{ "cp-850", "CP850" },
	{ "x-user-defined", "ISO-8859-1" },
	{ "ascii", "US-ASCII" },
};

/* utf8_seq_len - length of the valid UTF-8 sequence at IN, 0 if invalid */
size_t
utf8_seq_len(const unsigned char *in, size_t len)
{
	unsigned char c = in[0];
	size_t need, i;
	unsigned long code;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2, code = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3, code = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4, code = c & 0x07;
	else
		return 0;
	if (len < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((in[i] & 0xc0) != 0x80)
			return 0;
		code = (code << 6) | (in[i] & 0x3f);
	}
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((need == 3 && code < 0x800) || (need == 4 && code < 0x10000)
	    || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff)
		return 0;
	return need;
}

/* utf8_name_ok - NAME (LEN bytes) can name a file, a script or a
 * program: valid UTF-8, not empty, no '/', no control character (C0,
 * DEL, C1) and no line or paragraph separator (U+2028, U+2029) */
int
utf8_name_ok(const char *name, size_t len)
{
	if (len == 0 || !utf8_valid(name, len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) name[i];

		if (c == '/' || c < 0x20 || c == 0x7f)
			return 0;
		if (c == 0xc2 && i + 1 < len && (unsigned char) name[i + 1] <= 0x9f)
			return 0;	/* U+0080..U+009F */
		if (c == 0xe2 && i + 2 < len && (unsigned char) name[i + 1] == 0x80
		    && ((unsigned char) name[i + 2] == 0xa8 || (unsigned char) name[i + 2] == 0xa9))
			return 0;
	}
	return 1;
}

/* utf8_valid - 1 when all LEN bytes are valid UTF-8 */
int
utf8_valid(const char *in, size_t len)
{
	const unsigned char *p = (const unsigned char *) in;
	size_t n;

	while (len > 0) {
		if (*p < 0x80) {
			p++, len--;
			continue;
		}
		if ((n = utf8_seq_len(p, len)) == 0)
			return 0;
		p += n, len -= n;
	}
	return 1;
}

/* utf8_repair - append IN with each invalid byte replaced by U+FFFD */
void
utf8_repair(const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *) in;
	const unsigned char *run = p;
	size_t n;

	while (len > 0) {
		if (*p < 0x80) {
			p++, len--;
			continue;
		}
		if ((n = utf8_seq_len(p, len)) > 0) {
			p += n, len -= n;
			continue;
		}
		buf_append(out, run, (size_t) (p - run));
		buf_append(out, replacement, 3);
		p++, len--;
		run = p;
	}
	buf_append(out, run, (size_t) (p - run));
}

/* utf8_put - append code point CODE as UTF-8 (U+FFFD if not a scalar) */
void
utf8_put(struct buf *out, unsigned long code)
{
	char tmp[4];

	if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
		buf_append(out, replacement, 3);
	} else if (code < 0x80) {
		buf_putc(out, (int) code);
	} else if (code < 0x800) {
		tmp[0] = (char) (0xc0 | (code >> 6));
		tmp[1] = (char) (0x80 | (code & 0x3f));
		buf_append(out, tmp, 2);
	} else if (code < 0x10000) {
		tmp[0] = (char) (0xe0 | (code >> 12));
		tmp[1] = (char) (0x80 | ((code >> 6) & 0x3f));
		tmp[2] = (char) (0x80 | (code & 0x3f));
		buf_append(out, tmp, 3);
	} else {
		tmp[0] = (char) (0xf0 | (code >> 18));
		tmp[1] = (char) (0x80 | ((code >> 12) & 0x3f));
		tmp[2] = (char) (0x80 | ((code >> 6) & 0x3f));
		tmp[3] = (char) (0x80 | (code & 0x3f));
		buf_append(out, tmp, 4);
	}
}

/* charset_normalise - iconv name for CHARSET in NAME, or -1 */
static int
charset_normalise(const char *charset, size_t len, char *name, size_t size)
{
	struct str cs = str_trim(charset, len);
	const char *star;
	size_t i;

	/* RFC 2231 section 5: "charset*language" */
	if ((star = memchr(cs.ptr, '*', cs.len)) != NULL)
		cs.len = (size_t) (star - cs.ptr);
	if (cs.len >= 2 && cs.ptr[0] == '"' && cs.ptr[cs.len - 1] == '"')
		cs.ptr++, cs.len -= 2;
	if (cs.len == 0 || cs.len >= size)
		return -1;
	for (i = 0; i < cs.len; i++) {
		unsigned char c = (unsigned char) cs.ptr[i];

		/* iconv names are printable ASCII without '/' (a '//' would
		 * select transliteration modes) */
		if (c <= ' ' || c >= 127 || c == '/')
			return -1;
		name[i] = (char) ascii_lower(c);
	}
	name[cs.len] = 0;
	for (i = 0; i < sizeof(charset_aliases) / sizeof(charset_aliases[0]);
	     i++) {
		if (strcmp(name, charset_aliases[i].name) == 0) {
			strcpy(name, charset_aliases[i].iconv_name);
			break;
		}
	}
	return 0;
}

/* charset_is_utf8 - charsets that take the UTF-8 fast path */
static int
charset_is_utf8(const char *name)
{
	return strcmp(name, "utf-8") == 0 || strcmp(name, "utf8") == 0
	    || strcmp(name, "us-ascii") == 0 || strcmp(name, "US-ASCII") == 0;
}

/* charset_utf8 - 1 when CHARSET's text is taken as UTF-8 as it is
 * (UTF-8, US-ASCII): charset_to_utf8 only repairs it */
int
charset_utf8(const char *charset, size_t charset_len)
{
	char name[CHARSET_NAME_MAX];

	return charset_normalise(charset, charset_len, name, sizeof(name)) == 0
	    && charset_is_utf8(name);
}

/* sbcs_find - the table of the single-byte charset NAME (normalised),
 * or NULL when it is not one of sbcs_tables.h's */
static const struct sbcs *
sbcs_find(const char *name)
{
	for (size_t i = 0; i < sizeof(sbcs_tables) / sizeof(sbcs_tables[0]); i++)
		for (size_t j = 0; j < 3 && sbcs_tables[i].names[j] != NULL; j++)
			if (strcasecmp(name, sbcs_tables[i].names[j]) == 0)
				return &sbcs_tables[i];
	return NULL;
}

/* sbcs_convert - IN (LEN bytes in T's charset) appended to OUT as
 * UTF-8, a byte the charset has no character for as U+FFFD */
static void
sbcs_convert(const struct sbcs *t, const char *in, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len && !out->failed; i++) {
		unsigned char c = (unsigned char) in[i];

		if (c < 0x80)
			buf_putc(out, c);
		else if (t->high[c - 0x80] == 0)
			buf_append(out, replacement, 3);
		else
			utf8_put(out, t->high[c - 0x80]);
	}
}

/* charset_set_converter - FN converts in place of iconv(3) every charset
 * but UTF-8, US-ASCII and those of sbcs_tables.h: called with the
 * normalised name, and with OUT NULL to ask whether the charset is
 * known; 0 or -1 */
void
charset_set_converter(charset_converter *fn)
{
	converter = fn;
}

/* charset_known - 1 when text in CHARSET can be converted */
int
charset_known(const char *charset, size_t charset_len)
{
	char name[CHARSET_NAME_MAX];
	iconv_t cd;

	if (charset_normalise(charset, charset_len, name, sizeof(name)) < 0)
		return 0;
	if (charset_is_utf8(name) || sbcs_find(name) != NULL)
		return 1;
	if (converter != NULL)
		return converter(name, NULL, 0, NULL) == 0;
	if ((cd = iconv_open("UTF-8", name)) == (iconv_t) -1)
		return 0;
	iconv_close(cd);
	return 1;
}

/* charset_iconv - append IN converted by CD, bad bytes as U+FFFD */
static void
charset_iconv(iconv_t cd, const char *in, size_t len, struct buf *out)
{
	char *inp = (char *) in;
	size_t inleft = len;

	while (inleft > 0 && !out->failed) {
		size_t room = inleft * 4 + 16;
		char *outp;
		size_t outleft;

		if (buf_reserve(out, room) < 0)
			return;
		outp = out->data + out->len;
		outleft = room;
		if (iconv(cd, &inp, &inleft, &outp, &outleft) != (size_t) -1) {
			out->len = (size_t) (outp - out->data);
			break;
		}
		out->len = (size_t) (outp - out->data);
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL (truncated at the end): mark and skip */
		buf_append(out, replacement, 3);
		inp++, inleft--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	/* Flush a stateful encoding's shift sequence (ISO-2022-JP). */
	if (buf_reserve(out, 16) == 0) {
		char *outp = out->data + out->len;
		size_t outleft = 16;

		iconv(cd, NULL, NULL, &outp, &outleft);
		out->len = (size_t) (outp - out->data);
	}
	if (out->data != NULL)
		out->data[out->len] = 0;
}

/* charset_revalidate - repair what was appended to OUT since START */
static void
charset_revalidate(struct buf *out, size_t start)
{
	struct buf tmp = BUF_INIT;

	utf8_repair(out->data + start, out->len - start, &tmp);
	out->len = start;
	buf_append(out, tmp.data, tmp.len);
	if (tmp.failed)
		out->failed = 1;
	buf_free(&tmp);
}

/* charset_to_utf8 - append IN, in CHARSET, as UTF-8; -1 if unknown */
int
charset_to_utf8(const char *charset, size_t charset_len,
		const char *in, size_t len, struct buf *out)
{
	char name[CHARSET_NAME_MAX];
	const struct sbcs *sbcs;
	iconv_t cd;
	size_t start;

	if (charset_normalise(charset, charset_len, name, sizeof(name)) < 0)
		return -1;
	if (charset_is_utf8(name)) {
		utf8_repair(in, len, out);
		return 0;
	}
	if ((sbcs = sbcs_find(name)) != NULL) {
		sbcs_convert(sbcs, in, len, out);
		return 0;
	}
	start = out->len;
	if (converter != NULL) {
		if (converter(name, in, len, out) < 0) {
			out->len = start;	/* unknown: OUT unchanged */
			if (out->data != NULL)
				out->data[start] = 0;
			return -1;
		}
	} else {
		if ((cd = iconv_open("UTF-8", name)) == (iconv_t) -1)
			return -1;
		charset_iconv(cd, in, len, out);
		iconv_close(cd);
	}
	/* The promise is valid UTF-8 whatever iconv did. */
	if (!out->failed && !utf8_valid(out->data + start, out->len - start))
		charset_revalidate(out, start);
	return 0;
}
