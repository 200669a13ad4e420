/*
 * spf - SPF (RFC 7208) for MAIL FROM and HELO with libspf2, whose DNS
 * goes through dns.c: a libspf2 DNS layer that asks mvmtr's resolver,
 * so the nameserver is the script's ($mvmtr_resolver) and every query
 * keeps to a deadline.
 *
 * One checker (an SPF_server_t with its own layer) belongs to one
 * connection, so no libspf2 state is shared between threads; the
 * layer's hook points at the limits of the check in progress. A thread
 * keeps the checker of its last connection for its next one (making one
 * is most of an SPF check's CPU when the answers are cached).
 *
 * The result is libspf2's, except where it leaves none: a DNS failure
 * is temperror, a domain without a usable record none (RFC 7208 4.5),
 * more than one record permerror (4.5). The Received-SPF field (9.1) is
 * written here, the same way for every result.
 *
 * DIAGNOSTICS: spf_check() gives -1 only when out of memory; every
 * other trouble is in the result (temperror, permerror) and its
 * comment. libspf2's own errors (assertions) are logged, then abort.
 */
#include "config.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <spf2/spf.h>

#include "msg/msg.h"
#include "dns.h"
#include "mvmtr.h"
#include "spf.h"

/* What domains say when they say nothing (exp=, RFC 7208 6.2); %_ is a
 * space (7.3), which libspf2's macro compiler wants instead of one. */
#define SPF_EXPLANATION "%{i}%_is%_not%_one%_of%_%{o}'s%_designated%_mail%_servers"

struct spf_checker {
	SPF_server_t *server;
	SPF_dns_server_t layer;
	const struct spf_limits *limits;	/* during spf_check() */
	int64_t expires_ms;	/* the first of its answers to expire; 0: one
				 * is not to be kept (spf_cache.c) */
};

static const char *const result_names[] = {
	[SPF_RESULT_INVALID] = "temperror", [SPF_RESULT_NEUTRAL] = "neutral",
	[SPF_RESULT_PASS] = "pass", [SPF_RESULT_FAIL] = "fail",
	[SPF_RESULT_SOFTFAIL] = "softfail", [SPF_RESULT_NONE] = "none",
	[SPF_RESULT_TEMPERROR] = "temperror", [SPF_RESULT_PERMERROR] = "permerror",
};

/* libspf2's messages: errors are its assertions, the rest is noise */
__attribute__((noreturn)) static void
log_error(const char *file, int line, const char *msg)
{
	mtr_log(LOG_CRIT, "libspf2: %s:%d: %s", file ? file : "?", line, msg);
	abort();
}

static void
log_other(const char *file, int line, const char *msg)
{
	(void) file;
	(void) line;
	(void) msg;
}

/* quiet - route libspf2's messages, once per process */
static void
quiet(void)
{
	SPF_error_handler = log_error;
	SPF_warning_handler = log_other;
	SPF_info_handler = log_other;
	SPF_debug_handler = log_other;
}

/* exp_spaces - in a TXT record that is not an SPF record (so maybe an
 * explanation, RFC 7208 6.2), each space as "%_": libspf2 compiles an
 * explanation as a macro-string without the spaces that explain-string
 * allows, and would garble the text from its first space on */
static void
exp_spaces(struct buf *txt)
{
	struct buf out = BUF_INIT;

	if (txt->len == 0 || memchr(txt->data, ' ', txt->len) == NULL
	    || (txt->len >= 7 && strncasecmp(txt->data, "v=spf1 ", 7) == 0))
		return;
	for (size_t i = 0; i < txt->len; i++) {
		if (txt->data[i] == ' ')
			buf_puts(&out, "%_");
		else
			buf_putc(&out, txt->data[i]);
	}
	buf_free(txt);
	*txt = out;
}

/* Filling a libspf2 answer from ours. */
struct fill {
	SPF_dns_rr_t *rr;
	int n;
	int failed;
};

/* fill_one - one record of the answer into the libspf2 answer */
static void
fill_one(void *ctx, const ns_msg *msg, const ns_rr *rr)
{
	struct fill *f = ctx;
	SPF_dns_rr_t *out = f->rr;
	const unsigned char *rdata = ns_rr_rdata(*rr);
	size_t rdlen = ns_rr_rdlen(*rr);
	char name[NS_MAXDNAME];
	struct buf txt = BUF_INIT;
	const void *data = rdata;
	size_t len;

	if (f->failed)
		return;
	switch (ns_rr_type(*rr)) {
	case ns_t_a:
	case ns_t_aaaa:
		len = ns_rr_type(*rr) == ns_t_a ? sizeof(struct in_addr) : sizeof(struct in6_addr);
		if (rdlen != len)
			return;
		break;
	case ns_t_mx:
	case ns_t_ptr:
		if (ns_rr_type(*rr) == ns_t_mx && rdlen < 3)
			return;
		if (dns_rr_name(msg, ns_rr_type(*rr) == ns_t_mx ? rdata + 2 : rdata, name,
				sizeof(name)) < 0)
			return;
		data = name;
		len = strlen(name) + 1;
		break;
	default:		/* TXT: the strings joined, as a C string */
		dns_txt(rr, &txt);
		exp_spaces(&txt);
		buf_putc(&txt, 0);
		data = txt.data;
		len = txt.len;
		break;
	}
	if (SPF_dns_rr_buf_realloc(out, f->n, len) != SPF_E_SUCCESS) {
		f->failed = 1;
	} else {
		memcpy(out->rr[f->n], data, len);
		out->num_rr = ++f->n;
	}
	buf_free(&txt);
}

/* lookup - the layer's one job: DOMAIN's records of TYPE, as libspf2
 * wants them (herrno: HOST_NOT_FOUND, NO_DATA, TRY_AGAIN) */
static SPF_dns_rr_t *
lookup(SPF_dns_server_t *layer, const char *domain, ns_type type, int should_cache)
{
	struct spf_checker *spf = layer->hook;
	const struct spf_limits *lim = spf->limits;
	struct dns_query *q;
	struct fill f = { NULL, 0, 0 };
	int64_t deadline = dns_now_ms() + lim->query_ms;
	int herrno;

	(void) should_cache;
	/* the SPF RR type is gone (RFC 7208 3.1): not asked, so a
	 * check costs one query per name, not two */
	if (type == ns_t_spf)
		return SPF_dns_rr_new_init(layer, domain, type, 0, NO_DATA);
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return SPF_dns_rr_new_init(layer, domain, type, 0, TRY_AGAIN);
	snprintf(q->name, sizeof(q->name), "%s", domain);
	q->type = type;
	dns_resolve(lim->ns, q, 1, deadline < lim->deadline_ms ? deadline : lim->deadline_ms);
	if (q->expires_ms < spf->expires_ms)
		spf->expires_ms = q->expires_ms;
	switch (q->status) {
	case DNS_OK:
		herrno = NETDB_SUCCESS;
		break;
	case DNS_NXDOMAIN:
	case DNS_BADNAME:	/* RFC 7208 4.3: not a domain, no record */
		herrno = HOST_NOT_FOUND;
		break;
	default:
		herrno = TRY_AGAIN;
		break;
	}
	f.rr = SPF_dns_rr_new_init(layer, domain, type, 0, herrno);
	if (f.rr != NULL && herrno == NETDB_SUCCESS) {
		dns_each(q, type, fill_one, &f);
		if (f.failed)
			f.rr->herrno = TRY_AGAIN;
		else if (f.n == 0)
			f.rr->herrno = NO_DATA;
	}
	dns_query_done(q);
	free(q);
	return f.rr;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t spare_key;	/* a thread's checker between connections */

static void discard(void *spf);

/* setup - once: libspf2's messages, the key of the spare checkers */
static void
setup(void)
{
	quiet();
	pthread_key_create(&spare_key, discard);
}

/* spf_new - a checker for one connection, or NULL */
struct spf_checker *
spf_new(void)
{
	struct spf_checker *spf;
	SPF_response_t *resp = NULL;

	pthread_once(&once, setup);
	if ((spf = pthread_getspecific(spare_key)) != NULL) {
		pthread_setspecific(spare_key, NULL);
		return spf;
	}
	if ((spf = calloc(1, sizeof(*spf))) == NULL)
		return NULL;
	spf->layer.lookup = lookup;
	spf->layer.name = "mvmtr";
	spf->layer.hook = spf;	/* destroy stays NULL: the layer is ours */
	if ((spf->server = SPF_server_new_dns(&spf->layer, 0)) == NULL
	    || SPF_server_set_explanation(spf->server, SPF_EXPLANATION, &resp) != SPF_E_SUCCESS) {
		if (resp != NULL)
			SPF_response_free(resp);
		discard(spf);
		return NULL;
	}
	if (resp != NULL)
		SPF_response_free(resp);
	return spf;
}

/* discard - SPF and its libspf2 server, gone */
static void
discard(void *arg)
{
	struct spf_checker *spf = arg;

	if (spf->server != NULL)
		SPF_server_free(spf->server);
	free(spf);
}

/* spf_free - the connection is done with SPF: kept as the thread's
 * spare if it has none, else gone */
void
spf_free(struct spf_checker *spf)
{
	if (spf == NULL)
		return;
	spf->limits = NULL;
	if (spf->server != NULL && pthread_getspecific(spare_key) == NULL
	    && pthread_setspecific(spare_key, spf) == 0)
		return;
	discard(spf);
}

/* spf_result_free - R's strings */
void
spf_result_free(struct spf_result *r)
{
	free(r->explanation);
	free(r->comment);
	free(r->header);
	memset(r, 0, sizeof(*r));
}

/* put_value - a key's value in Received-SPF: a dot-atom as it is,
 * anything else quoted (RFC 7208 9.1, RFC 5322 3.2.4) */
static void
put_value(struct buf *b, const char *key, const char *value)
{
	size_t atom_len = strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789!#$%&'*+-/=?^_`{|}~.");

	buf_putc(b, ' ');
	buf_puts(b, key);
	buf_putc(b, '=');
	if (*value && value[atom_len] == 0) {
		buf_append(b, value, atom_len);
		buf_putc(b, ';');
		return;
	}
	buf_putc(b, '"');
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_putc(b, '\\');
		if ((unsigned char) *p >= ' ' && *p != 0x7f)
			buf_putc(b, *p);
	}
	buf_puts(b, "\";");
}

/* finish - OUT's comment and Received-SPF field from what was found */
static int
finish(struct spf_result *out, const char *comment, const char *client_addr,
       const char *helo, const char *sender, const char *receiver, const char *identity)
{
	struct buf b = BUF_INIT;

	if ((out->comment = strdup(comment)) == NULL)
		return -1;
	buf_printf(&b, "%s (%s)", out->result, comment);
	put_value(&b, "client-ip", client_addr);
	if (sender != NULL)
		put_value(&b, "envelope-from", sender);
	if (helo != NULL && *helo)
		put_value(&b, "helo", helo);
	put_value(&b, "receiver", receiver);
	put_value(&b, "identity", identity);
	out->header = strdup(buf_cstr(&b));
	buf_free(&b);
	return out->header != NULL ? 0 : -1;
}

/* request - SPF's libspf2 request for the identity; NULL with a
 * reason in WHY when there is nothing to check */
static SPF_request_t *
request(struct spf_checker *spf, const char *client_addr, const char *helo,
	const char *sender, const char **why)
{
	SPF_request_t *req;
	const char *identity = sender != NULL ? sender : helo;

	*why = "out of memory";
	if (sender != NULL && *sender == 0)	/* RFC 7208 2.4: <> is
						 * postmaster@HELO */
		identity = helo;
	if (identity == NULL || *identity == 0 || *identity == '[') {
		*why = sender == NULL || *sender == 0 ? "no HELO domain to check"
		    : "no sender domain to check";
		return NULL;
	}
	if ((req = SPF_request_new(spf->server)) == NULL)
		return NULL;
	if ((strchr(client_addr, ':') ? SPF_request_set_ipv6_str(req, client_addr)
	     : SPF_request_set_ipv4_str(req, client_addr)) != SPF_E_SUCCESS) {
		*why = "no client address";
		SPF_request_free(req);
		return NULL;
	}
	if ((helo != NULL && *helo && SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS)
	    || SPF_request_set_env_from(req, identity) != 0) {
		SPF_request_free(req);
		return NULL;
	}
	return req;
}

/* other_error - RESP holds an error other than ERR */
static int
other_error(SPF_response_t *resp, SPF_errcode_t err)
{
	for (int i = 0; resp != NULL && i < SPF_response_messages(resp); i++) {
		SPF_error_t *e = SPF_response_message(resp, i);

		if (SPF_error_errorp(e) && SPF_error_code(e) != err)
			return 1;
	}
	return 0;
}

/* first_error - the first message libspf2 left in RESP, or DFLT */
static const char *
first_error(SPF_response_t *resp, const char *dflt)
{
	for (int i = 0; resp != NULL && i < SPF_response_messages(resp); i++) {
		SPF_error_t *e = SPF_response_message(resp, i);

		if (SPF_error_errorp(e))
			return SPF_error_message(e);
	}
	return dflt;
}

/* spf_check - the SPF result for SENDER (MAIL FROM without <>; "" for
 * the null sender) or, when SENDER is NULL, for HELO, of a client at
 * CLIENT_ADDR; RECEIVER names this host in the field. 0, or -1 when
 * out of memory. */
int
spf_check(struct spf_checker *spf, const struct spf_limits *limits, const char *client_addr,
	  const char *helo, const char *sender, const char *receiver, struct spf_result *out)
{
	const char *identity = sender != NULL ? "mailfrom" : "helo";
	const char *why, *comment;
	char text[512];
	SPF_request_t *req;
	SPF_response_t *resp = NULL;
	SPF_errcode_t err;
	SPF_result_t result;
	int rc;

	memset(out, 0, sizeof(*out));
	if (receiver != NULL && *receiver)
		SPF_server_set_rec_dom(spf->server, receiver);
	receiver = spf->server->rec_dom;
	if (spf_cache_get(limits, client_addr, helo, sender, receiver, out))
		return 0;
	if ((req = request(spf, client_addr, helo, sender, &why)) == NULL) {
		if (strcmp(why, "out of memory") == 0)
			return -1;
		out->result = "none";
		snprintf(text, sizeof(text), "%s: %s", receiver, why);
		return finish(out, text, client_addr, helo, sender, receiver, identity);
	}
	spf->limits = limits;
	spf->expires_ms = INT64_MAX;
	err = SPF_request_query_mailfrom(req, &resp);
	spf->limits = NULL;
	result = resp != NULL ? SPF_response_result(resp) : SPF_RESULT_INVALID;
	if (result == SPF_RESULT_INVALID || result > SPF_RESULT_PERMERROR) {
		/* libspf2 stopped before a result: map why (RFC 7208
		 * 4.4-4.6); a record that does not compile leaves the
		 * compiler's error beside "not SPF" */
		result = err == SPF_E_DNS_ERROR ? SPF_RESULT_TEMPERROR
		    : err == SPF_E_MULTIPLE_RECORDS || other_error(resp, err) ? SPF_RESULT_PERMERROR
		    : SPF_RESULT_NONE;
	} else if (err == SPF_E_DNS_ERROR) {
		result = SPF_RESULT_TEMPERROR;
	}
	out->result = result_names[result];
	comment = resp != NULL && err == SPF_E_SUCCESS ? SPF_response_get_header_comment(resp) : NULL;
	if (comment == NULL || *comment == 0) {
		snprintf(text, sizeof(text), "%s: %s", receiver,
			 first_error(resp, SPF_strerror(err)));
		comment = text;
	}
	if (result == SPF_RESULT_FAIL && SPF_response_get_explanation(resp) != NULL
	    && (out->explanation = strdup(SPF_response_get_explanation(resp))) == NULL) {
		rc = -1;
		goto out;
	}
	rc = finish(out, comment, client_addr, helo, sender, receiver, identity);
	/* kept while every answer holds; none asked: nothing to go by */
	if (rc == 0 && result != SPF_RESULT_TEMPERROR && spf->expires_ms < INT64_MAX
	    && spf->expires_ms > dns_now_ms())
		spf_cache_put(limits, client_addr, helo, sender, receiver, out, spf->expires_ms);
out:
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
	return rc;
}
