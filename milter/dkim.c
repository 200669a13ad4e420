/*
 * dkim - DKIM signing (RFC 6376) of outbound mail, with the field's
 * library, OpenDKIM's libopendkim: rsa-sha256, relaxed/relaxed, the
 * header fields the library recommends signing. Keys come from a key
 * table in OpenDKIM's KeyTable format, one key a line:
 *
 *   NAME  DOMAIN:SELECTOR:/path/to/private.key
 *
 * the key chosen by the signing domain. The caller (session.c) gives
 * the header as the MTA will have it (the script's edits applied) and
 * the body, and inserts the DKIM-Signature field it gets back.
 *
 * DIAGNOSTICS: -1 with ERR naming the file and the reason, or the
 * library's.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim.h"
#include "msg/msg.h"

#ifndef HAVE_DKIM

/* dkim_key_find - this build cannot sign */
int
dkim_key_find(const char *table, const char *domain, struct dkim_key *key, char *err,
	      size_t errsize)
{
	(void) domain;
	(void) key;
	snprintf(err, errsize, "%s: this mvmtr was built without DKIM (libopendkim: "
		 "./configure --with-dkim)", table);
	return -1;
}

/* dkim_sign_message - this build cannot sign */
int
dkim_sign_message(const struct dkim_key *key, const char *job, const char *const *fields,
		  size_t nfields, const char *body, size_t body_len, struct buf *sig_r,
		  char *err, size_t errsize)
{
	(void) key;
	(void) job;
	(void) fields;
	(void) nfields;
	(void) body;
	(void) body_len;
	(void) sig_r;
	snprintf(err, errsize, "this mvmtr was built without DKIM");
	return -1;
}

#else

#include <opendkim/dkim.h>
#include <pthread.h>

static DKIM_LIB *lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

/* lib_init - the library, once, fixing bare LFs to CRLF as it reads */
static void
lib_init(void)
{
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;

	if ((lib = dkim_init(NULL, NULL)) != NULL)
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags));
}

/* dkim_key_find - the key for DOMAIN in the key table TABLE into KEY:
 * 1, 0 when the table has none for it, -1 and ERR */
int
dkim_key_find(const char *table, const char *domain, struct dkim_key *key, char *err,
	      size_t errsize)
{
	FILE *f = fopen(table, "r");
	char line[4096 + 512];
	int found = 0, lineno = 0;

	if (f == NULL) {
		snprintf(err, errsize, "%s: %s", table, strerror(errno));
		return -1;
	}
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		char name[128], spec[4096 + 320], *d, *sel, *path;

		lineno++;
		if (line[0] == '#' || sscanf(line, "%127s %4415s", name, spec) != 2)
			continue;
		d = spec;
		if ((sel = strchr(d, ':')) == NULL || (path = strchr(sel + 1, ':')) == NULL) {
			snprintf(err, errsize, "%s:%d: not NAME DOMAIN:SELECTOR:KEYFILE", table, lineno);
			fclose(f);
			return -1;
		}
		*sel++ = 0;
		*path++ = 0;
		if (strcasecmp(d, domain) != 0)
			continue;
		snprintf(key->domain, sizeof(key->domain), "%.255s", d);
		snprintf(key->selector, sizeof(key->selector), "%.63s", sel);
		snprintf(key->path, sizeof(key->path), "%.4095s", path);
		found = 1;
	}
	fclose(f);
	return found;
}

/* read_key - the private key file's text into OUT */
static int
read_key(const char *path, struct buf *out, char *err, size_t errsize)
{
	FILE *f = fopen(path, "r");
	char chunk[4096];
	size_t n;

	if (f == NULL) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && out->len < 65536)
		buf_append(out, chunk, n);
	fclose(f);
	buf_putc(out, 0);
	return out->failed ? -1 : 0;
}

/* dkim_sign_message - sign the message (the N FIELDS "Name: value", the
 * BODY) with KEY; the DKIM-Signature field's value into SIG_R */
int
dkim_sign_message(const struct dkim_key *key, const char *job, const char *const *fields,
		  size_t nfields, const char *body, size_t body_len, struct buf *sig_r,
		  char *err, size_t errsize)
{
	struct buf secret = BUF_INIT;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	DKIM_STAT status;
	DKIM *dkim = NULL;
	int rc = -1;

	pthread_once(&lib_once, lib_init);
	if (lib == NULL) {
		snprintf(err, errsize, "libopendkim: cannot start");
		return -1;
	}
	if (read_key(key->path, &secret, err, errsize) < 0)
		goto out;
	dkim = dkim_sign(lib, (const unsigned char *) job, NULL, (dkim_sigkey_t) secret.data,
			 (const unsigned char *) key->selector, (const unsigned char *) key->domain,
			 DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &status);
	if (dkim == NULL) {
		snprintf(err, errsize, "%s: %s", key->path, dkim_getresultstr(status));
		goto out;
	}
	for (size_t i = 0; i < nfields; i++)
		if ((status = dkim_header(dkim, (u_char *) fields[i], strlen(fields[i]))) != DKIM_STAT_OK)
			goto fail;
	if ((status = dkim_eoh(dkim)) != DKIM_STAT_OK
	    || (body_len > 0 && (status = dkim_body(dkim, (u_char *) body, body_len)) != DKIM_STAT_OK)
	    || (status = dkim_eom(dkim, NULL)) != DKIM_STAT_OK
	    || (status = dkim_getsighdr_d(dkim, strlen("DKIM-Signature: "), &sig, &siglen))
	    != DKIM_STAT_OK)
		goto fail;
	/* folded with CRLF: a milter's field value takes bare LFs */
	for (size_t i = 0; i < siglen; i++)
		if (sig[i] != '\r')
			buf_putc(sig_r, (char) sig[i]);
	rc = sig_r->failed ? -1 : 0;
	goto out;
fail:
	snprintf(err, errsize, "signing for %s: %s", key->domain,
		 dkim_geterror(dkim) ? dkim_geterror(dkim) : dkim_getresultstr(status));
out:
	if (dkim != NULL)
		dkim_free(dkim);
	/* the key's text does not outlive the signing */
	if (secret.data != NULL)
		memset(secret.data, 0, secret.len);
	buf_free(&secret);
	return rc;
}

#endif /* HAVE_DKIM */
