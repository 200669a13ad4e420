/*
 * intr_date - RFC 5260 date and index: the date test reads a date out
 * of a header, currentdate the time of the run; both cut it into the
 * part asked for (date.c) in the zone asked for (:zone "+hhmm",
 * :originalzone, or the machine's local zone). :index N and :last pick
 * one occurrence of a field for header, address and date.
 *
 * A Received field's date is what follows its last ";" (RFC 5260 4).
 * A field whose date does not parse matches nothing.
 *
 * DIAGNOSTICS: compile errors for :last without :index and :index 0.
 * An unknown date part matches nothing and a zone that is not
 * "+hhmm"/"-hhmm" is ignored, as in Pigeonhole.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "compile.h"
#include "msg/buf.h"
#include "msg/date.h"
#include "msg/hdr.h"
#include "msg/msg.h"
#include "msg/str.h"
#include "prog.h"
#include "tmatch.h"

enum { DATE_ZONE, DATE_ORIGINALZONE };

/* :index and :last, shared by header, address and date */
const struct intr_tag intr_index_tags[] = {
	{ .name = "index", .arg = TAGARG_NUMBER, .id = INTR_TAG_INDEX, .capability = "index" },
	{ .name = "last", .id = INTR_TAG_LAST, .capability = "index" },
	{ .name = NULL }
};

static const struct intr_tag date_tags[] = {
	{ .name = "zone", .arg = TAGARG_STRING, .group = TG_ZONE, .id = DATE_ZONE },
	{ .name = "originalzone", .group = TG_ZONE, .id = DATE_ORIGINALZONE },
	{ .name = "index", .arg = TAGARG_NUMBER, .id = INTR_TAG_INDEX, .capability = "index" },
	{ .name = "last", .id = INTR_TAG_LAST, .capability = "index" },
	{ .name = NULL }
};

static const struct intr_tag currentdate_tags[] = {
	{ .name = "zone", .arg = TAGARG_STRING, .group = TG_ZONE, .id = DATE_ZONE },
	{ .name = NULL }
};

/* intr_index_wanted - occurrence N (from 0) of field NAME is the one
 * :index/:last asks for, or there is no :index: 1; else 0 */
int
intr_index_wanted(const struct site *site, struct value *args,
		  struct hdr_index *idx, const char *name, size_t len, size_t n)
{
	struct value *index;
	size_t count = 0;
	int64_t want;

	if (!intr_tag_present(site, INTR_TAG_INDEX, args, &index) || index == NULL)
		return 1;
	want = index->u.i;
	if (want < 1)
		return 0;
	if (!intr_tag_present(site, INTR_TAG_LAST, args, NULL))
		return (int64_t) n == want - 1;
	while (hdr_find(idx, name, len, count) != NULL)
		count++;
	return (int64_t) count - want == (int64_t) n;
}

/* intr_each_field - FN on every field named in NAMES (NNAMES of them)
 * in the indexes IDXS (NIDX), only the occurrence :index picks when it
 * is given, until FN gives non-zero; that, or 0 */
int
intr_each_field(const struct site *site, struct value *args, struct hdr_index **idxs,
		size_t nidx, const struct value *names, size_t nnames,
		int (*fn)(void *ctx, struct hdr_index *idx, struct hdr_field *f,
			  const struct value *name), void *ctx)
{
	int m = 0;

	for (size_t x = 0; x < nidx && m == 0; x++) {
		for (size_t i = 0; i < nnames && m == 0; i++) {
			const char *name = names[i].u.s.ptr;
			size_t len = names[i].u.s.len;
			struct hdr_field *f;

			for (size_t n = 0; m == 0 && (f = hdr_find(idxs[x], name, len, n)) != NULL; n++)
				if (intr_index_wanted(site, args, idxs[x], name, len, n))
					m = fn(ctx, idxs[x], f, &names[i]);
		}
	}
	return m;
}

/* intr_index_check - :last needs :index (RFC 5260 6); index 0 is none */
int
intr_index_check(struct compile *cc, struct ast *n, struct site *site)
{
	(void) site;
	for (size_t i = 0; i < n->ntags; i++) {
		const struct sieve_tag *t = &n->tags[i];

		if (t->def->id == INTR_TAG_INDEX && t->arg != NULL && t->arg->kind == A_INT
		    && t->arg->num < 1) {
			cerror(cc, t->arg, "%s: :index counts from 1", n->intr->name);
			return -1;
		}
	}
	if ((site->tags & (1u << INTR_TAG_LAST)) && !(site->tags & (1u << INTR_TAG_INDEX))) {
		cerror(cc, n, "%s: :last needs :index", n->intr->name);
		return -1;
	}
	return 0;
}

/* local_zone - the machine's offset from UTC at T, in minutes */
static int
local_zone(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return (int) (tm.tm_gmtoff / 60);
}

/* match_date - DT (as parsed) in the zone the site asks for, part PART
 * against the keys */
static int
match_date(struct mfl_run *run, const struct site *site, struct value *args,
	   struct tmatch *tm, const struct date_time *parsed, const struct value *part)
{
	struct value *zone_arg;
	struct date_time dt;
	struct buf out = BUF_INIT;
	int64_t t = date_to_epoch(parsed);
	int zone, m;

	(void) run;
	if (intr_tag_present(site, DATE_ORIGINALZONE, args, NULL)) {
		dt = *parsed;
	} else {
		if (!intr_tag_present(site, DATE_ZONE, args, &zone_arg) || zone_arg == NULL
		    || date_zone_parse(zone_arg->u.s.ptr, zone_arg->u.s.len, &zone) < 0)
			zone = local_zone((time_t) t);
		date_from_epoch(t, zone, &dt);
	}
	if (date_part(&dt, part->u.s.ptr, part->u.s.len, &out) < 0) {
		buf_free(&out);
		return 0;	/* an unknown part matches nothing */
	}
	m = tmatch_one(tm, out.data, out.len);
	buf_free(&out);
	return m;
}

/* date_field - one field's date (after the last ';' of a Received
 * field, RFC 5322 3.6.7) into the matcher; a field without a date
 * matches nothing */
struct date_field {
	struct mfl_run *run;
	const struct site *site;
	struct value *args;
	struct tmatch tm;
};

static int
date_field(void *ctx, struct hdr_index *idx, struct hdr_field *f, const struct value *name)
{
	struct date_field *df = ctx;
	struct date_time dt;
	const char *text, *semi;
	size_t tlen;

	if (hdr_unfolded(idx, f) < 0)
		return run_error(df->run, df->site, "out of memory");
	text = f->unfolded;
	tlen = f->unfolded_len;
	if (str_ieq_cstr(name->u.s.ptr, name->u.s.len, "received")) {
		for (semi = text + tlen; semi > text && semi[-1] != ';'; semi--)
			;
		tlen -= (size_t) (semi - text);
		text = semi;
	}
	if (date_parse(text, tlen, &dt) < 0)
		return 0;
	return match_date(df->run, df->site, df->args, &df->tm, &dt, &df->args[1]);
}

/* date: date [ZONE] [COMPARATOR] [MATCH-TYPE] [:index n [:last]]
 *	<header-name> <date-part> <key-list> */
static int
date_run(struct mfl_run *run, const struct site *site, struct value *args,
	 struct value *ret)
{
	struct hdr_index *idx;
	struct date_field df = { run, site, args, { 0 } };
	int m;

	*ret = value_int(0);
	if (run->msg == NULL)
		return 0;
	if ((idx = msg_headers(run->msg)) == NULL)
		return run_error(run, site, "out of memory");
	tmatch_init(&df.tm, run, site, &args[2]);
	if ((m = intr_each_field(site, args, &idx, 1, &args[0], 1, date_field, &df)) == 0)
		m = tmatch_end(&df.tm);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

/* date_check - :last needs :index. An unknown date part or a zone
 * that is not "+hhmm" is no error: as in Pigeonhole, the first makes
 * the test false and the second is ignored (the local zone is used). */
static int
date_check(struct compile *cc, struct ast *n, struct site *site)
{
	return intr_index_check(cc, n, site);
}

const struct intrinsic intr_date = {
	.name = "date",
	.kind = INTR_TEST,
	.capability = "date",
	.args = "ssl",
	.flags = INTR_F_MATCH,
	.tags = date_tags,
	.check = date_check,
	.run = date_run,
};

/* currentdate: currentdate [":zone" <zone>] [COMPARATOR] [MATCH-TYPE]
 *	<date-part> <key-list> */
static int
currentdate_run(struct mfl_run *run, const struct site *site, struct value *args,
		struct value *ret)
{
	struct date_time now;
	struct tmatch tm;
	int m;

	*ret = value_int(0);
	date_from_epoch((int64_t) time(NULL), 0, &now);
	tmatch_init(&tm, run, site, &args[1]);
	if ((m = match_date(run, site, args, &tm, &now, &args[0])) == 0)
		m = tmatch_end(&tm);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

const struct intrinsic intr_currentdate = {
	.name = "currentdate",
	.kind = INTR_TEST,
	.capability = "date",
	.args = "sl",
	.flags = INTR_F_MATCH,
	.tags = currentdate_tags,
	.check = date_check,
	.run = currentdate_run,
};
