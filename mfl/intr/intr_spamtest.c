/*
 * intr_spamtest - RFC 5235 spamtest, spamtestplus (:percent) and
 * virustest: the verdict a scanner left in a header, as the numbers the
 * RFC defines. The header and its scale are controls the administrator
 * sets: $mfl_spamtest_header holds a score (the first number in the
 * value; $mfl_spamtest_type "strlen" counts characters instead, as in
 * SpamAssassin's "X-Spam-Level: *****"), $mfl_spamtest_max is the score
 * that means certainly spam; the same for virustest with 5 levels.
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
#include "prog.h"
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

/* scanner_score - the score in the scanner's header as a fraction of
 * its maximum; -1 when there is none */
static double
scanner_score(struct mfl_run *run, const char *prefix)
{
	char name[64];
	const char *hname, *type;
	size_t hlen, tlen;
	struct hdr_index *idx;
	struct hdr_field *f;
	double score, max;
	char num[64], *end;
	size_t i = 0, n = 0;

	if (run->msg == NULL || (idx = msg_headers(run->msg)) == NULL)
		return -1;
	snprintf(name, sizeof(name), "%s_header", prefix);
	hname = control_str(run, name, &hlen);
	if (hlen == 0 || (f = hdr_find(idx, hname, hlen, 0)) == NULL || hdr_unfolded(idx, f) < 0)
		return -1;
	snprintf(name, sizeof(name), "%s_max", prefix);
	max = (double) run_control_int(run, name);
	snprintf(name, sizeof(name), "%s_type", prefix);
	type = control_str(run, name, &tlen);
	if (str_ieq_cstr(type, tlen, "strlen")) {
		score = (double) f->unfolded_len;
	} else {
		while (i < f->unfolded_len && is_wsp(f->unfolded[i]))
			i++;
		while (i < f->unfolded_len && n + 1 < sizeof(num)
		       && (ascii_isdigit(f->unfolded[i]) || f->unfolded[i] == '.'
			   || (n == 0 && (f->unfolded[i] == '-' || f->unfolded[i] == '+'))))
			num[n++] = f->unfolded[i++];
		num[n] = 0;
		score = strtod(num, &end);
		if (n == 0 || end == num)
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
	double p = scanner_score(run, "mfl_spamtest");
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
	double p = scanner_score(run, "mfl_virustest");

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
