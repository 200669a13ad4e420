/*
 * intr_test - the tests of RFC 5228 section 5 that look at the message
 * and envelope: header, address, envelope, exists, size. (allof, anyof,
 * not, true and false are compiled to code.)
 *
 * Header values are unfolded and RFC 2047-decoded (5.7); address tests
 * parse each field as an address list (5.1), with invalid addresses
 * matched only by :all, on their text; the null reverse-path "<>" is
 * the empty string whatever part is asked for (5.4).
 *
 * DIAGNOSTICS: -1 (runtime error) when the instruction budget runs out
 * inside a match or memory runs out.
 */
#include "config.h"

#include <string.h>

#include "compile.h"
#include "match.h"
#include "msg/addr.h"
#include "msg/arena.h"
#include "msg/buf.h"
#include "msg/hdr.h"
#include "msg/msg.h"
#include "msg/str.h"
#include "prog.h"
#include "tmatch.h"

#define ADDR_ALL	0
#define ADDR_LOCALPART	1
#define ADDR_DOMAIN	2
#define ADDR_USER	3	/* RFC 5233 */
#define ADDR_DETAIL	4

/* header_one - one value (or :mime piece of it) into the matcher */
static int
header_one(void *ctx, const char *s, size_t n)
{
	return tmatch_one(ctx, s, n);
}

/* what header_field and address_field need of the test */
struct field_test {
	struct mfl_run *run;
	const struct site *site;
	struct value *args;
	struct tmatch tm;
	struct buf tmp;
};

/* header_field - one field's decoded value into the matcher */
static int
header_field(void *ctx, struct hdr_index *idx, struct hdr_field *f, const struct value *name)
{
	struct field_test *ft = ctx;

	(void) name;
	if (hdr_decoded(idx, f) < 0)
		return run_error(ft->run, ft->site, "out of memory");
	return intr_mime_values(ft->run, ft->site, ft->args, f->decoded, f->decoded_len,
				header_one, &ft->tm);
}

/* header: header [:mime [options]] [:index n [:last]] [COMPARATOR]
 *	[MATCH-TYPE] <header-names> <key-list> */
static int
header_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	struct field_test ft = { run, site, args, { 0 }, BUF_INIT };
	const struct value *names;
	size_t nnames, nidx;
	struct hdr_index **idxs;
	int m;

	*ret = value_int(0);
	if (run->msg == NULL)
		return 0;
	if ((nidx = intr_test_indexes(run, site, &idxs)) == 0 && !(site->tags & (1u << INTR_TAG_MIME)))
		return run_error(run, site, "out of memory");
	run_strlist(run, site, &args[0], &nnames, &names);
	tmatch_init(&ft.tm, run, site, &args[1]);
	if ((m = intr_each_field(site, args, idxs, nidx, names, nnames, header_field, &ft)) == 0)
		m = tmatch_end(&ft.tm);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

const struct intrinsic intr_header = {
	.name = "header",
	.kind = INTR_TEST,
	.args = "ll",
	.flags = INTR_F_MATCH,
	.tags = intr_mime_tags,
	.check = intr_mime_check,
	.run = header_run,
};

/* separator - the first character of LOCAL (LEN) that is one of the
 * run's $mfl_subaddress_separator, or NULL */
static const char *
separator(const struct mfl_run *run, const char *local, size_t len)
{
	struct value seps;

	if (mfl_run_get_control(run, "mfl_subaddress_separator", &seps) < 0
	    || seps.type != V_STR)
		return memchr(local, '+', len);
	for (size_t i = 0; i < len; i++)
		if (memchr(seps.u.s.ptr, local[i], seps.u.s.len) != NULL)
			return local + i;
	return NULL;
}

/* address_part - the part of A the test asks for; 0 if it has none
 * (RFC 5233: no separator, no :detail; the first separator splits) */
static int
address_part(const struct mfl_run *run, const struct addr *a, int part,
	     struct buf *tmp, const char **p, size_t *len)
{
	const char *plus;

	if (a->flags & ADDR_F_NULL) {
		*p = "";
		*len = 0;
		return 1;
	}
	if (a->flags & ADDR_F_INVALID) {
		if (part != ADDR_ALL)
			return 0;
		*p = a->raw;
		*len = a->raw_len;
		return 1;
	}
	switch (part) {
	case ADDR_LOCALPART:
	case ADDR_USER:
	case ADDR_DETAIL:
		*p = a->local;
		*len = strlen(a->local);
		plus = separator(run, *p, *len);
		if (part == ADDR_USER && plus != NULL)
			*len = (size_t) (plus - *p);
		if (part == ADDR_DETAIL) {
			if (plus == NULL)
				return 0;
			*len -= (size_t) (plus + 1 - *p);
			*p = plus + 1;
		}
		return 1;
	case ADDR_DOMAIN:
		*p = a->domain ? a->domain : "";
		*len = strlen(*p);
		return 1;
	default:
		buf_reset(tmp);
		addr_spec(a, tmp);
		*p = buf_cstr(tmp);
		*len = tmp->len;
		return 1;
	}
}

/* addr_usable - an address tests can see: valid, with a domain */
static int
addr_usable(const struct addr *a)
{
	if (a->flags & ADDR_F_NULL)
		return 1;
	return !(a->flags & ADDR_F_INVALID) && a->domain != NULL && *a->domain;
}

/* match_addresses - the addresses in field F against the keys; a field
 * with no usable address is matched whole, by :all only, as Pigeonhole
 * does ("undisclosed-recipients:;", "root") */
static int
match_addresses(struct tmatch *tm, struct hdr_field *f, struct buf *tmp)
{
	struct mfl_run *run = tm->run;
	const struct site *site = tm->site;
	size_t count, usable = 0;
	struct addr *list = f->addrs;

	/* parsed once per field and message, however many rules ask */
	if (list == NULL) {
		if (addr_parse_list(msg_arena(run->msg), f->unfolded, f->unfolded_len,
				    &list, &count) < 0)
			return run_error(run, site, "out of memory");
		f->addrs = list;
		f->naddrs = count;
	}
	count = f->naddrs;
	for (size_t i = 0; i < count; i++)
		usable += addr_usable(&list[i]);
	if (usable == 0)
		return site->addrpart == ADDR_ALL
		    ? tmatch_one(tm, f->unfolded, f->unfolded_len) : 0;
	for (size_t i = 0; i < count; i++) {
		const char *p;
		size_t plen;
		int m;

		if (!addr_usable(&list[i]) || !address_part(run, &list[i], site->addrpart, tmp, &p, &plen))
			continue;
		if ((m = tmatch_one(tm, p, plen)) != 0)
			return m;
	}
	return 0;
}

/* Fields the address test may look at (RFC 5228 5.1 says to restrict it
 * to fields that hold addresses); the same set as Pigeonhole's. */
static const char *const address_fields[] = {
	"from", "sender", "reply-to", "to", "cc", "bcc", "resent-from",
	"resent-sender", "resent-to", "resent-cc", "resent-bcc",
	"resent-reply-to", "delivered-to", "x-original-to", "errors-to",
	"mail-followup-to", "mail-reply-to", "apparently-to",
	"return-receipt-to", NULL
};

static const char *const envelope_parts[] = { "from", "to", "auth", NULL };

/* in_names - S is one of NAMES (a NULL-terminated list), without case */
static int
in_names(const char *s, size_t len, const char *const *names)
{
	for (; *names != NULL; names++)
		if (str_ieq_cstr(s, len, *names))
			return 1;
	return 0;
}

/* check_constants - every constant string in ARG (a string or a list)
 * is one of NAMES; else a compile error saying WHAT it is not */
static int
check_constants(struct compile *cc, struct ast *arg, const char *const *names,
		const char *what)
{
	struct ast *one[1] = { arg };
	struct ast **items = arg->kind == A_LIST ? arg->items : one;
	size_t count = arg->kind == A_LIST ? arg->nitems : 1;

	for (size_t i = 0; i < count; i++) {
		if (items[i]->kind == A_STR && !in_names(items[i]->str, items[i]->len, names)) {
			cerror(cc, items[i], what,
			       (int) (items[i]->len > 40 ? 40 : items[i]->len), items[i]->str);
			return -1;
		}
	}
	return 0;
}

/* address_check - constant field names must hold addresses */
static int
address_check(struct compile *cc, struct ast *n, struct site *site)
{
	if (check_constants(cc, n->items[0], address_fields,
			    "address: \"%.*s\" is not a field that holds addresses") < 0)
		return -1;
	return intr_mime_check(cc, n, site);
}

/* address_field - the addresses in one field into the matcher */
static int
address_field(void *ctx, struct hdr_index *idx, struct hdr_field *f, const struct value *name)
{
	struct field_test *ft = ctx;

	(void) name;
	if (hdr_unfolded(idx, f) < 0)
		return run_error(ft->run, ft->site, "out of memory");
	return match_addresses(&ft->tm, f, &ft->tmp);
}

/* address: address [ADDRESS-PART] [COMPARATOR] [MATCH-TYPE] <header-list> <key-list> */
static int
address_run(struct mfl_run *run, const struct site *site, struct value *args,
	    struct value *ret)
{
	struct field_test ft = { run, site, args, { 0 }, BUF_INIT };
	const struct value *names;
	size_t nnames, nidx;
	struct hdr_index **idxs;
	int m;

	*ret = value_int(0);
	if (run->msg == NULL)
		return 0;
	nidx = intr_test_indexes(run, site, &idxs);
	run_strlist(run, site, &args[0], &nnames, &names);
	tmatch_init(&ft.tm, run, site, &args[1]);
	if ((m = intr_each_field(site, args, idxs, nidx, names, nnames, address_field, &ft)) == 0)
		m = tmatch_end(&ft.tm);
	buf_free(&ft.tmp);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

const struct intrinsic intr_address = {
	.name = "address",
	.kind = INTR_TEST,
	.args = "ll",
	.flags = INTR_F_MATCH | INTR_F_ADDRPART,
	.tags = intr_mime_tags,
	.check = address_check,
	.run = address_run,
};

/* envelope_match - PATH, one envelope address, against the keys */
static int
envelope_match(struct tmatch *tm, const char *path, struct buf *tmp)
{
	struct mfl_run *run = tm->run;
	struct arena *arena = run->msg ? msg_arena(run->msg) : run->arena;
	struct addr a;
	const char *p;
	size_t plen;

	/* RFC 5228 5.4: the null reverse-path is "" */
	if (*path == 0 || strcmp(path, "<>") == 0)
		return tmatch_one(tm, "", 0);
	/* a path that is not one matches nothing (as Pigeonhole) */
	if (addr_parse_path(arena, path, strlen(path), &a) < 0)
		return 0;
	if (address_part(run, &a, tm->site->addrpart, tmp, &p, &plen))
		return tmatch_one(tm, p, plen);
	return 0;
}

/* envelope: envelope [COMPARATOR] [ADDRESS-PART] [MATCH-TYPE] <envelope-part> <key-list> */
static int
envelope_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	const struct value *parts;
	size_t nparts;
	struct buf tmp = BUF_INIT;
	struct tmatch tm;
	int m = 0;

	*ret = value_int(0);
	run_strlist(run, site, &args[0], &nparts, &parts);
	tmatch_init(&tm, run, site, &args[1]);
	for (size_t i = 0; i < nparts && m == 0; i++) {
		if (str_ieq_cstr(parts[i].u.s.ptr, parts[i].u.s.len, "from")) {
			if (run->env_from != NULL)
				m = envelope_match(&tm, run->env_from, &tmp);
		} else if (str_ieq_cstr(parts[i].u.s.ptr, parts[i].u.s.len, "to")) {
			for (size_t k = 0; k < run->n_env_to && m == 0; k++)
				m = envelope_match(&tm, run->env_to[k], &tmp);
		} else if (str_ieq_cstr(parts[i].u.s.ptr, parts[i].u.s.len, "auth")) {
			/* who authenticated (SMTP AUTH), when the host knows */
			if (run->auth != NULL)
				m = envelope_match(&tm, run->auth, &tmp);
		}
	}
	if (m == 0)
		m = tmatch_end(&tm);
	buf_free(&tmp);
	*ret = value_int(m > 0);
	return m < 0 ? -1 : 0;
}

/* envelope_check - constant envelope parts must be ones we know */
static int
envelope_check(struct compile *cc, struct ast *n, struct site *site)
{
	(void) site;
	return check_constants(cc, n->items[0], envelope_parts,
			       "unknown envelope part \"%.*s\"");
}

const struct intrinsic intr_envelope = {
	.name = "envelope",
	.kind = INTR_TEST,
	.capability = "envelope",
	.args = "ll",
	.flags = INTR_F_MATCH | INTR_F_ADDRPART,
	.check = envelope_check,
	.run = envelope_run,
};

/* exists: exists [:mime [:anychild]] <header-names> - all of them are
 * present (with :anychild, each in some part) */
static int
exists_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	const struct value *names;
	size_t n, nidx;
	struct hdr_index **idxs;

	*ret = value_int(0);
	if (run->msg == NULL)
		return 0;
	nidx = intr_test_indexes(run, site, &idxs);
	run_strlist(run, site, &args[0], &n, &names);
	for (size_t i = 0; i < n; i++) {
		int found = 0;

		for (size_t x = 0; x < nidx && !found; x++)
			found = hdr_find(idxs[x], names[i].u.s.ptr, names[i].u.s.len, 0) != NULL;
		if (!found)
			return 0;
	}
	*ret = value_int(1);
	return 0;
}

const struct intrinsic intr_exists = {
	.name = "exists",
	.kind = INTR_TEST,
	.args = "l",
	.tags = intr_mime_tags,
	.check = intr_mime_check,
	.run = exists_run,
};

#define SIZE_OVER	0
#define SIZE_UNDER	1

static const struct intr_tag size_tags[] = {
	{ .name = "over", .group = TG_SIZE, .id = SIZE_OVER },
	{ .name = "under", .group = TG_SIZE, .id = SIZE_UNDER },
	{ .name = NULL }
};

/* size: size <":over" / ":under"> <limit: number> */
static int
size_run(struct mfl_run *run, const struct site *site, struct value *args,
	 struct value *ret)
{
	size_t len = 0;

	(void) site;
	/* the message as it would be stored, after editheader's changes
	 * (as Pigeonhole counts it) */
	if (run->msg != NULL)
		len = msg_size(run->msg);
	*ret = value_int(site->match == SIZE_OVER ? (int64_t) len > args[0].u.i
			 : (int64_t) len < args[0].u.i);
	return 0;
}

/* size_check - exactly one of :over and :under */
static int
size_check(struct compile *cc, struct ast *n, struct site *site)
{
	int seen = 0;

	for (size_t i = 0; i < n->ntags; i++)
		if (n->tags[i].def->group == TG_SIZE) {
			site->match = n->tags[i].def->id;
			seen = 1;
		}
	if (!seen) {
		cerror(cc, n, "size needs :over or :under");
		return -1;
	}
	return 0;
}

const struct intrinsic intr_size = {
	.name = "size",
	.kind = INTR_TEST,
	.args = "i",
	.tags = size_tags,
	.check = size_check,
	.run = size_run,
};

/* header_values - the decoded values of field NAME; the first only if ONE */
static int
header_values(struct mfl_run *run, const struct site *site, struct value *args,
	      struct value *ret, int one)
{
	struct hdr_index *idx = run->msg ? msg_headers(run->msg) : NULL;
	struct marr *a = NULL;
	struct hdr_field *f;

	*ret = value_str("", 0);
	if (!one) {
		if ((a = arena_zalloc(run->arena, sizeof(*a))) == NULL)
			return run_error(run, site, "memory limit reached");
		ret->type = V_ARR;
		ret->u.a = a;
	}
	if (run->msg != NULL && idx == NULL)
		return run_error(run, site, "out of memory");
	for (size_t n = 0; idx != NULL
	     && (f = hdr_find(idx, args[0].u.s.ptr, args[0].u.s.len, n)) != NULL; n++) {
		if (hdr_decoded(idx, f) < 0)
			return run_error(run, site, "out of memory");
		if (one) {
			*ret = value_str(f->decoded, f->decoded_len);
			return 0;
		}
		if (run_arr_push(run, a, value_str(f->decoded, f->decoded_len)) < 0)
			return run_error(run, site, "memory limit reached");
	}
	return 0;
}

/* $header(name): the first field NAME's value, decoded; "" if none */
static int
header_fn_run(struct mfl_run *run, const struct site *site, struct value *args,
	      struct value *ret)
{
	return header_values(run, site, args, ret, 1);
}

const struct intrinsic intr_header_fn = {
	.name = "header",
	.kind = INTR_FUNCTION,
	.args = "s",
	.ret = TYPE_STRING,
	.run = header_fn_run,
};

/* $headers(name): every field NAME's value, decoded, in message order */
static int
headers_fn_run(struct mfl_run *run, const struct site *site, struct value *args,
	       struct value *ret)
{
	return header_values(run, site, args, ret, 0);
}

const struct intrinsic intr_headers_fn = {
	.name = "headers",
	.kind = INTR_FUNCTION,
	.args = "s",
	.ret = TYPE_ARRAY(TYPE_STRING),
	.run = headers_fn_run,
};
