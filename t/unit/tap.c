/*
 * tap - print TAP for the C unit tests: one "ok"/"not ok" line a case,
 * a "got X, want Y" diagnostic on failure, the plan at the end.
 * tap_skip_all() prints the skip plan with its reason and exits 77.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static int tap_count;
static int tap_failed;

/* tap_vresult - one result line */
static int
tap_vresult(int cond, const char *fmt, va_list ap)
{
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

/* tap_ok - pass when COND holds */
int
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(cond, fmt, ap);
	va_end(ap);
	return cond;
}

/* tap_escaped - bytes as a quoted C-like string, for diagnostics */
static void
tap_escaped(const char *s, size_t len)
{
	if (s == NULL) {
		printf("(null)");
		return;
	}
	putchar('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* tap_is_mem - pass when the byte strings are equal */
int
tap_is_mem(const char *got, size_t got_len, const char *want,
	   size_t want_len, const char *fmt, ...)
{
	int cond = (got == NULL && want == NULL)
	    || (got != NULL && want != NULL && got_len == want_len
		&& memcmp(got, want, got_len) == 0);
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		printf("# got ");
		tap_escaped(got, got_len);
		printf(", want ");
		tap_escaped(want, want_len);
		putchar('\n');
	}
	return cond;
}

/* tap_is_str - pass when the C strings are equal (both NULL too) */
int
tap_is_str(const char *got, const char *want, const char *fmt, ...)
{
	int cond = (got == NULL && want == NULL)
	    || (got != NULL && want != NULL && strcmp(got, want) == 0);
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		printf("# got ");
		tap_escaped(got, got ? strlen(got) : 0);
		printf(", want ");
		tap_escaped(want, want ? strlen(want) : 0);
		putchar('\n');
	}
	return cond;
}

/* tap_is_int - pass when the numbers are equal */
int
tap_is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vresult(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		printf("# got %lld, want %lld\n", got, want);
	return got == want;
}

/* tap_diag - a comment line */
void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* tap_skip_all - skip the whole test, saying why; exits 77 */
void
tap_skip_all(const char *reason)
{
	printf("1..0 # SKIP %s\n", reason);
	fflush(stdout);
	exit(77);
}

/* tap_done - print the plan; the exit status for main() */
int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_count);
	return tap_failed != 0 || tap_count == 0;
}
