/*
 * intr_ihave - RFC 5463 ihave: the test that asks whether capabilities
 * are there, and the error command. The parser does the part that
 * matters (parse_sieve.c): in `if ihave [...] { ... }` the block may
 * use the capabilities without require, and when one is unknown the
 * block is skipped unread, so a script written for a richer
 * implementation still compiles. "variables" and "encoded-character"
 * are never there for ihave (RFC 5463 4).
 *
 * DIAGNOSTICS: error raises a runtime error with the script's text.
 */
#include "config.h"

#include "compile.h"
#include "parse.h"
#include "prog.h"

/* ihave: ihave <capabilities: string-list> - all of them are known */
static int
ihave_run(struct mfl_run *run, const struct site *site, struct value *args,
	  struct value *ret)
{
	const struct value *caps;
	size_t n;

	run_strlist(run, site, &args[0], &n, &caps);
	*ret = value_int(1);
	for (size_t i = 0; i < n; i++)
		if (parse_ihave_capability(run->env, caps[i].u.s.ptr, caps[i].u.s.len) == NULL)
			*ret = value_int(0);
	return 0;
}

const struct intrinsic intr_ihave = {
	.name = "ihave",
	.kind = INTR_TEST,
	.capability = "ihave",
	.args = "l",
	.run = ihave_run,
};

/* error: error <message: string> - end the script with an error */
static int
error_run(struct mfl_run *run, const struct site *site, struct value *args,
	  struct value *ret)
{
	(void) ret;
	return run_error(run, site, "error: %.*s",
			 (int) (args[0].u.s.len > 300 ? 300 : args[0].u.s.len), args[0].u.s.ptr);
}

const struct intrinsic intr_error = {
	.name = "error",
	.kind = INTR_COMMAND,
	.capability = "ihave",
	.args = "s",
	.run = error_run,
};
