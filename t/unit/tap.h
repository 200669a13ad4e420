/* tap.h - a small Test Anything Protocol helper for table-driven tests */
#ifndef T_TAP_H
#define T_TAP_H

#include <stddef.h>

int tap_ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int tap_is_str(const char *got, const char *want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int tap_is_mem(const char *got, size_t got_len, const char *want,
	       size_t want_len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int tap_is_int(long long got, long long want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void tap_skip_all(const char *reason);
int tap_done(void);

#endif
