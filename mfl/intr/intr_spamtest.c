/*
 * intr_spamtest - RFC 5235 spamtest, spamtestplus (:percent) and
 * virustest: the verdict a scanner left in a header, as the numbers the
 * RFC defines. The header and its scale are controls the administrator
 * sets, read as Dovecot's settings read: $mfl_spamtest_header names the
 * header, optionally with a regular expression whose first group is the
 * verdict ("X-Spam-Status: score=(-?[0-9.]+)"); $mfl_spamtest_type says
 * how to read it: "score" (the first number), "strlen" (its length, as
 * SpamAssassin's "X-Spam-Level: *****") or "text" (the position of the
 * verdict among $mfl_spamtest_text's "N=text|..." entries);
 * $mfl_spamtest_max is the score that means certainly spam, unless
 * $mfl_spamtest_max_header names a header (and expression) it is read
 * from. The same for virustest, with 5 levels.
 *
 * The scaling is Pigeonhole's, so scripts see the same numbers: with
 * p = score / max, spamtest is 1 + floor(9p), :percent floor(100p),
 * virustest 1 + floor(4p), each clamped; "0" when the header is missing
 * or holds no number (not tested).
 *
 * DIAGNOSTICS: none beyond the match's own (budget, memory).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg/hdr.h"
#include "msg/msg.h"
#include "msg/str.h"
#include "match.h"
#include "prog.h"
#include "regex.h"
#include "tmatch.h"

enum { SPAM_PERCENT };

static const struct intr_tag spamtest_tags[] = {
	{ .name = "percent", .id = SPAM_PERCENT, .capability = "spamtestplus" },
	{ .name = NULL }
};

/* control_str - string control NAME of the run, "" if none */
static const char *
control_str(const struct mfl_run *run, const char *name, size_t *len)
{
	struct value v;

	if (mfl_run_get_control(run, name, &v) < 0 || v.type != V_STR) {
		*len = 0;
		return "";
	}
	*len = v.u.s.len;
	return v.u.s.ptr;
}

/* header_verdict - the text control CONTROL ("Name" or "Name: regex")
 * points at in the message: the header's value, or the regex's first
 * group in it; 0, or -1 when there is none */
static int
header_verdict(struct mfl_run *run, struct hdr_index *idx, const char *control,
	       const char **text_r, size_t *len_r)
{
	size_t clen, nlen, rlen;
	const char *spec = control_str(run, control, &clen), *colon, *re_text;
	struct hdr_field *f;
	struct match_caps caps = { 0 };
	char err[128];
	void *re;
	int rc;

	colon = memchr(spec, ':', clen);
	nlen = colon ? (size_t) (colon - spec) : clen;
	while (nlen > 0 && is_wsp(spec[nlen - 1]))
		nlen--;
	if (nlen == 0 || (f = hdr_find(idx, spec, nlen, 0)) == NULL || hdr_unfolded(idx, f) < 0)
		return -1;
	*text_r = f->unfolded;
	*len_r = f->unfolded_len;
	while (*len_r > 0 && is_wsp(**text_r))
		(*text_r)++, (*len_r)--;
	if (colon == NULL)
		return 0;
	re_text = colon + 1;
	rlen = clen - (size_t) (colon + 1 - spec);
	while (rlen > 0 && is_wsp(*re_text))
		re_text++, rlen--;
	if (rlen == 0)
		return 0;
	if ((re = regex_compile(re_text, rlen, 0, err, sizeof(err))) == NULL)
		return -1;
	rc = regex_exec(re, *text_r, *len_r, &run->budget, &caps);
	regex_free(re);
	if (rc <= 0 || caps.n < 2 || caps.ptr[1] == NULL)
		return -1;
	*text_r = caps.ptr[1];
	*len_r = caps.len[1];
	return 0;
}

/* number - the decimal number TEXT starts with; -1 when none */
static int
number(const char *text, size_t len, double *value_r)
{
	char num[64], *end;
	size_t i = 0, n = 0;

	while (i < len && n + 1 < sizeof(num)
	       && (ascii_isdigit(text[i]) || text[i] == '.'
		   || (n == 0 && (text[i] == '-' || text[i] == '+'))))
		num[n++] = text[i++];
	num[n] = 0;
	*value_r = strtod(num, &end);
	return n == 0 || end == num ? -1 : 0;
}

/* text_value - TEXT's N among the "N=text|N=text" entries of CONTROL;
 * -1 when it is none of them */
static double
text_value(struct mfl_run *run, const char *control, const char *text, size_t len)
{
	size_t clen;
	const char *spec = control_str(run, control, &clen), *end = spec + clen;

	while (spec < end) {
		const char *bar = memchr(spec, '|', (size_t) (end - spec)), *eq;
		const char *item_end = bar ? bar : end;

		eq = memchr(spec, '=', (size_t) (item_end - spec));
		if (eq != NULL && (size_t) (item_end - eq - 1) == len && memcmp(eq + 1, text, len) == 0)
			return strtod(spec, NULL);
		spec = bar ? bar + 1 : end;
	}
	return -1;
}

/* scanner_score - the score in the scanner's header as a fraction of
 * its maximum; -1 when there is none (as Pigeonhole's
 * ext_spamvirustest_get_value) */
static double
scanner_score(struct mfl_run *run, const char *prefix, double text_max)
{
	char name[64];
	const char *type, *text;
	size_t tlen, len;
	struct hdr_index *idx;
	double score, max;

	if (run->msg == NULL || (idx = msg_headers(run->msg)) == NULL)
		return -1;
	snprintf(name, sizeof(name), "%s_type", prefix);
	type = control_str(run, name, &tlen);
	if (str_ieq_cstr(type, tlen, "text")) {
		max = text_max;
	} else {
		snprintf(name, sizeof(name), "%s_max_header", prefix);
		control_str(run, name, &len);
		if (len > 0) {
			if (header_verdict(run, idx, name, &text, &len) < 0
			    || number(text, len, &max) < 0)
				return -1;
		} else {
			snprintf(name, sizeof(name), "%s_max", prefix);
			max = (double) run_control_int(run, name);
		}
	}
	snprintf(name, sizeof(name), "%s_header", prefix);
	if (header_verdict(run, idx, name, &text, &len) < 0)
		return -1;
	if (str_ieq_cstr(type, tlen, "strlen")) {
		score = (double) len;
	} else if (str_ieq_cstr(type, tlen, "text")) {
		snprintf(name, sizeof(name), "%s_text", prefix);
		if ((score = text_value(run, name, text, len)) < 0)
			return -1;
	} else if (number(text, len, &score) < 0) {
		return -1;
	}
	if (max <= 0)
		return -1;
	score /= max;
	return score < 0 ? 0 : score > 1 ? 1 : score;
}

/* verdict - the match of the number N (as text) against the keys */
static int
verdict(struct mfl_run *run, const struct site *site, struct value *args,
	struct value *ret, long n)
{
	char text[24];
	struct tmatch tm;
	int m;

	snprintf(text, sizeof(text), "%ld", n);
	tmatch_init(&tm, run, site, &args[0]);
	if ((m = tmatch_one(&tm, text, strlen(text))) == 0)
		m = tmatch_end(&tm);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

/* spamtest: spamtest [":percent"] [COMPARATOR] [MATCH-TYPE] <value> */
static int
spamtest_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	double p = scanner_score(run, "mfl_spamtest", 10);
	long n;

	if (intr_tag_present(site, SPAM_PERCENT, args, NULL))
		n = p < 0 ? 0 : (long) (p * 100 + 1e-9);	/* p is in [0, 1]: */
	else						/* a cast is floor */
		n = p < 0 ? 0 : 1 + (long) (p * 9 + 1e-9);
	return verdict(run, site, args, ret, n);
}

const struct intrinsic intr_spamtest = {
	.name = "spamtest",
	.kind = INTR_TEST,
	.capability = "spamtest",
	.args = "s",
	.flags = INTR_F_MATCH,
	.tags = spamtest_tags,
	.run = spamtest_run,
};

/* virustest: virustest [COMPARATOR] [MATCH-TYPE] <value> */
static int
virustest_run(struct mfl_run *run, const struct site *site, struct value *args,
	      struct value *ret)
{
	double p = scanner_score(run, "mfl_virustest", 5);

	return verdict(run, site, args, ret, p < 0 ? 0 : 1 + (long) (p * 4 + 1e-9));
}

const struct intrinsic intr_virustest = {
	.name = "virustest",
	.kind = INTR_TEST,
	.capability = "virustest",
	.args = "s",
	.flags = INTR_F_MATCH,
	.run = virustest_run,
};
