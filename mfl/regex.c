/*
 * regex - PCRE2 for the language: compile (JIT where PCRE2 has it) and
 * match with the run's instruction budget as PCRE2's match limit, so a
 * pattern that backtracks without end stops like any runaway script.
 * Captures come back as (pointer, length) views into the subject.
 *
 * DIAGNOSTICS: regex_compile() returns NULL with PCRE2's message and
 * offset in ERR; regex_exec() returns 1 (match), 0 (none), -1 when the
 * budget ran out or memory did.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>

#include "match.h"
#include "regex.h"

/* regex_compile - PATTERN compiled, or NULL with the reason in ERR */
void *
regex_compile(const char *pattern, size_t len, int caseless, char *err,
	      size_t errsize)
{
	int code;
	PCRE2_SIZE offset;
	uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF
	    | (caseless ? PCRE2_CASELESS : 0);
	pcre2_code *re = pcre2_compile((PCRE2_SPTR) pattern, len, options,
				       &code, &offset, NULL);

	if (re == NULL) {
		PCRE2_UCHAR msg[200];

		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errsize, "%s at offset %zu", (const char *) msg, (size_t) offset);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);	/* if it fails, interpret */
	return re;
}

/* regex_free - drop a compiled pattern */
void
regex_free(void *re)
{
	pcre2_code_free(re);
}

/* regex_exec - RE against SUBJECT; groups into CAPS (may be NULL) */
int
regex_exec(void *re, const char *subject, size_t len, uint64_t *budget,
	   struct match_caps *caps)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	int rc;

	if (md == NULL || mc == NULL) {
		rc = -1;
		goto out;
	}
	/* the budget bounds backtracking: PCRE2 counts its own steps */
	pcre2_set_match_limit(mc, *budget > UINT32_MAX ? UINT32_MAX : (uint32_t) *budget);
	rc = pcre2_match(re, (PCRE2_SPTR) subject, len, 0, 0, md, mc);
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT
	    || rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_NOMEMORY) {
		*budget = 0;
		rc = -1;
		goto out;
	}
	/* a straight scan of the subject at least */
	if (*budget < len / 16 + 1) {
		*budget = 0;
		rc = -1;
		goto out;
	}
	*budget -= len / 16 + 1;
	if (rc > 0 && caps != NULL) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);

		caps->n = rc < MATCH_CAPS ? rc : MATCH_CAPS;
		for (int i = 0; i < caps->n; i++) {
			int unset = ov[2 * i] == PCRE2_UNSET;

			caps->ptr[i] = unset ? "" : subject + ov[2 * i];
			caps->len[i] = unset ? 0 : ov[2 * i + 1] - ov[2 * i];
		}
	}
	rc = rc > 0;
out:
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	return rc;
}
