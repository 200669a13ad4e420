/*
 * host_test - what a host gives the language: its own commands, tests
 * and $functions (with tags, a capability Sieve scripts must require,
 * host data), its controls, hooks called with arguments, the log; in
 * both modes, and through the compiled-script cache.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mfl.h"
#include "msg/msg.h"
#include "tap.h"

struct host {
	int tempfails;
	char log[256];
};

/* $double(int) */
static int
double_run(struct mfl_run *run, const struct site *site, struct value *args,
	   struct value *ret)
{
	(void) run;
	(void) site;
	*ret = value_int(args[0].u.i * 2);
	return 0;
}

static const struct intrinsic host_double = {
	.name = "double", .kind = INTR_FUNCTION, .args = "i", .ret = TYPE_INT,
	.run = double_run,
};

/* tempfail [:code N] "text": a command with a tag that takes a number */
static const struct intr_tag tempfail_tags[] = {
	{ .name = "code", .arg = TAGARG_NUMBER, .id = 0 },
	{ .name = NULL }
};

static int
tempfail_run(struct mfl_run *run, const struct site *site, struct value *args,
	     struct value *ret)
{
	struct host *h = mfl_run_host_data(run);
	struct value *code = NULL;

	(void) ret;
	if (intr_tag_present(site, 0, args, &code) && code->u.i < 400)
		return run_error(run, site, "tempfail: code %lld is not 4xx", (long long) code->u.i);
	h->tempfails += code ? (int) code->u.i : 451;
	snprintf(h->log, sizeof(h->log), "%.*s", (int) args[0].u.s.len, args[0].u.s.ptr);
	return 0;
}

static const struct intrinsic host_tempfail = {
	.name = "tempfail", .kind = INTR_COMMAND, .capability = "vnd.mvmf.tempfail",
	.args = "s", .tags = tempfail_tags, .run = tempfail_run,
};

/* greylisted "sender": a test with the match tags */
static int
greylisted_run(struct mfl_run *run, const struct site *site, struct value *args,
	       struct value *ret)
{
	const struct value *keys;
	size_t n;

	run_strlist(run, site, &args[0], &n, &keys);
	*ret = value_int(0);
	for (size_t i = 0; i < n; i++)
		if (keys[i].u.s.len == 7 && memcmp(keys[i].u.s.ptr, "spammer", 7) == 0)
			*ret = value_int(1);
	return 0;
}

static const struct intrinsic host_greylisted = {
	.name = "greylisted", .kind = INTR_TEST, .capability = "vnd.mvmf.tempfail",
	.args = "l", .run = greylisted_run,
};

/* run_script - compile SRC, run it; the JSON lines */
static struct mfl_prog *
compile(struct mfl_env *env, const char *name, const char *src, int sieve,
	struct buf *errors)
{
	buf_reset(errors);
	return mfl_compile_mem(env, name, src, strlen(src), sieve, errors);
}

int
main(void)
{
	struct mfl_env *env = mfl_env_new();
	struct buf errors = BUF_INIT, out = BUF_INIT;
	struct host host = { 0, "" };
	struct mfl_prog *prog;
	struct mfl_run *run;
	struct value ret, arg;

	tap_ok(mfl_env_add_intrinsic(env, &host_double) == 0, "add a $function");
	tap_ok(mfl_env_add_intrinsic(env, &host_tempfail) == 0, "add a command");
	tap_ok(mfl_env_add_intrinsic(env, &host_greylisted) == 0, "add a test");
	tap_ok(mfl_env_add_intrinsic(env, &host_double) < 0, "the same name twice is refused");
	tap_ok(mfl_env_add_control(env, "host_delay", MFL_CONTROL_INT, 300, NULL,
				   "greylist delay") == 0, "add a control");

	prog = compile(env, "h.mfl",
		       "int $seen = 0;\n"
		       "if (greylisted \"spammer\" && $double(21) == 42)\n"
		       "    tempfail :code 421 \"try later\";\n"
		       "int $hook_rcpt(string $to, int $n) { $seen += $n; return $seen + $host_delay; }\n",
		       0, &errors);
	tap_ok(prog != NULL, "MFL script with host intrinsics compiles");
	if (prog == NULL)
		tap_diag("%s", errors.data);
	tap_ok(prog && mfl_prog_has_hook(prog, "rcpt"), "the hook is there");
	if (prog != NULL) {
		run = mfl_run_new(prog);
		mfl_run_set_host_data(run, &host);
		tap_is_int(mfl_run_main(run), 0, "runs");
		tap_is_int(host.tempfails, 421, "the command saw its tag value");
		tap_is_str(host.log, "try later", "and its argument");
		arg = value_int(5);
		{
			struct value args[2] = { value_str("a@b", 3), arg };

			tap_is_int(mfl_run_hook(run, "rcpt", args, 2, &ret), 1, "hook called");
			tap_is_int(ret.u.i, 305, "hook result uses a global and a host control");
			tap_is_int(mfl_run_hook(run, "rcpt", args, 2, &ret), 1, "hook called again");
			tap_is_int(ret.u.i, 310, "globals persist between hook calls");
		}
		mfl_run_free(run);
		mfl_prog_free(prog);
	}

	prog = compile(env, "s.sieve", "if greylisted \"x\" { tempfail \"t\"; }\n", 1, &errors);
	tap_ok(prog == NULL && strstr(errors.data, "needs require \"vnd.mvmf.tempfail\"") != NULL,
	       "Sieve mode: host intrinsics need their capability");
	prog = compile(env, "s.sieve", "require \"vnd.mvmf.tempfail\";\n"
		       "if greylisted \"spammer\" { tempfail :code 300 \"t\"; }\n", 1, &errors);
	tap_ok(prog != NULL, "Sieve mode: with require it compiles");
	if (prog != NULL) {
		run = mfl_run_new(prog);
		mfl_run_set_host_data(run, &host);
		tap_is_int(mfl_run_main(run), -1, "a host runtime error stops the run");
		tap_ok(strstr(mfl_run_error(run), "s.sieve:2: runtime error: tempfail: code 300") != NULL,
		       "with the site's file and line");
		mfl_run_json(run, &out);
		tap_ok(strstr(out.data, "\"implicit\":true") != NULL, "and keeps implicitly");
		mfl_run_free(run);
		mfl_prog_free(prog);
	}

	/* host variables: typed, read-only, given per run */
	tap_ok(mfl_env_add_var(env, "Opts_e", MFL_CONTROL_STRARR, "-e strings") == 0,
	       "add a string[] host variable");
	tap_ok(mfl_env_add_var(env, "USER", MFL_CONTROL_STRING, NULL) == 0,
	       "add a string host variable");
	tap_ok(mfl_env_set_string(env, "USER", "x") < 0, "a host variable is not a control");
	buf_reset(&out);
	mfl_env_print_controls(env, &out);
	tap_ok(strstr(out.data, "$host_delay = 300;") != NULL && strstr(out.data, "Opts_e") == NULL,
	       "controls print, host variables do not");
	prog = compile(env, "v.mfl", "$USER = \"root\";\n", 0, &errors);
	tap_ok(prog == NULL && strstr(errors.data, "'$USER' is set by the host") != NULL,
	       "assigning a host variable is a compile error");
	prog = compile(env, "v.mfl", "if ($length($Opts_e) == 2 && $Opts_e[1] == \"b\")\n"
		       "    fileinto $USER + \"/\" + $Opts_e[0];\n", 0, &errors);
	tap_ok(prog != NULL, "a script reads host variables");
	if (prog != NULL) {
		const char *items[] = { "a", "b" };
		struct value v;

		run = mfl_run_new(prog);
		tap_ok(mfl_run_strarr(run, items, 2, &v) == 0 && mfl_run_set_var(run, "Opts_e", &v) == 0,
		       "the host sets an array");
		v = value_str("joe", 3);
		tap_ok(mfl_run_set_var(run, "USER", &v) == 0, "and a string");
		v = value_int(1);
		tap_ok(mfl_run_set_var(run, "USER", &v) < 0, "of the declared type only");
		tap_ok(mfl_run_set_var(run, "host_delay", &v) < 0, "and never a control");
		buf_reset(&out);
		mfl_run_main(run);
		mfl_run_json(run, &out);
		tap_ok(strstr(out.data, "\"mailbox\":\"joe/a\"") != NULL, "the run saw them");
		tap_ok(mfl_run_get_control(run, "host_delay", &v) == 0 && v.u.i == 300,
		       "the host reads a control of the run");
		mfl_run_free(run);
		mfl_prog_free(prog);
	}

	/* reject (RFC 5429): alone, or beside discard only */
	{
		static const struct {
			const char *src, *want;
		} cases[] = {
			{ "reject \"no\";", "{\"action\":\"reject\",\"reason\":\"no\"}\n{\"status\":\"ok\"}\n" },
			{ "ereject \"no\"; discard;", "{\"action\":\"ereject\",\"reason\":\"no\"}\n{\"action\":\"discard\"}\n{\"status\":\"ok\"}\n" },
			{ "fileinto \"A\"; reject \"no\";", "runtime error: reject cannot be combined" },
			{ "reject \"no\"; keep;", "runtime error: reject cannot be combined" },
			{ "reject \"a\"; reject \"b\";", "runtime error: reject cannot be combined" },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			prog = compile(env, "r.mfl", cases[i].src, 0, &errors);
			buf_reset(&out);
			if (prog != NULL) {
				run = mfl_run_new(prog);
				mfl_run_main(run);
				mfl_run_json(run, &out);
				mfl_run_free(run);
				mfl_prog_free(prog);
			}
			if (!tap_ok(out.data != NULL && strstr(out.data, cases[i].want) != NULL,
				    "%s", cases[i].src))
				tap_diag("got %s, want %s", out.data ? out.data : errors.data,
					 cases[i].want);
		}
	}

	/* reject's SMTP reply (mvmtr) */
	prog = compile(env, "c.mfl", "reject :code \"554\" :xcode \"5.7.1\" \"go\";", 0, &errors);
	buf_reset(&out);
	if (prog != NULL) {
		run = mfl_run_new(prog);
		mfl_run_main(run);
		mfl_run_json(run, &out);
		mfl_run_free(run);
		mfl_prog_free(prog);
	}
	tap_ok(out.data && strstr(out.data, "\"code\":\"554\",\"xcode\":\"5.7.1\"") != NULL,
	       "reject :code :xcode reach the action");
	prog = compile(env, "c.mfl", "reject :code \"451\" \"go\";", 0, &errors);
	tap_ok(prog == NULL && strstr(errors.data, "5-class SMTP reply code expected") != NULL,
	       "a constant :code of the wrong class is a compile error");
	prog = compile(env, "c.mfl", "reject :xcode \"5.7\" \"go\";", 0, &errors);
	tap_ok(prog == NULL && strstr(errors.data, "enhanced status code 5.X.Y expected") != NULL,
	       "so is a malformed :xcode");
	prog = compile(env, "c.mfl", "string $c = \"250\"; reject :code $c \"go\";", 0, &errors);
	if (prog != NULL) {
		run = mfl_run_new(prog);
		tap_is_int(mfl_run_main(run), -1, "a computed :code is checked when it runs");
		mfl_run_free(run);
		mfl_prog_free(prog);
	}

	/* declared hooks: a host that declares them gets its hooks checked */
	{
		struct mfl_env *henv = mfl_env_new();
		static const struct {
			const char *src, *want;
		} cases[] = {
			{ "void $hook_rcpt(string $a, string[] $b) { }", NULL },
			{ "void $hook_rcpt(string $a) { }", "'$hook_rcpt' takes (string, string[])" },
			{ "int $hook_rcpt(int $a, string[] $b) { return 0; }", "'$hook_rcpt' takes (string, string[])" },
			{ "void $hook_rcp(string $a, string[] $b) { }", "unknown hook '$hook_rcp' (this host calls $hook_rcpt, $hook_eom)" },
			{ "void $hook_eom() { } void $helper() { }", NULL },
		};

		tap_ok(mfl_env_add_hook(henv, "rcpt", "sS") == 0 && mfl_env_add_hook(henv, "eom", "") == 0,
		       "declare hooks");
		tap_ok(mfl_env_add_hook(henv, "eom", "") < 0, "a hook is declared once");
		tap_ok(mfl_env_add_hook(henv, "x", "sq") < 0, "with known parameter types");
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			prog = compile(henv, "k.mfl", cases[i].src, 0, &errors);
			if (cases[i].want == NULL)
				tap_ok(prog != NULL, "hook ok: %s", cases[i].src);
			else if (!tap_ok(prog == NULL && strstr(errors.data, cases[i].want) != NULL,
					 "hook refused: %s", cases[i].src))
				tap_diag("got %s, want %s", errors.data ? errors.data : "", cases[i].want);
			mfl_prog_free(prog);
		}
		mfl_env_free(henv);
	}

	/* a run per connection: globals survive mfl_run_end_message() and
	 * mfl_run_compact(), the rest starts over; the envelope collects
	 * recipients */
	prog = compile(env, "n.mfl",
		       "string[] $seen; string[][] $both; int $n = 0;\n"
		       "int $hook_rcpt(string $to, int $k) {\n"
		       "  $seen[$length($seen)] = $to + \"!\";\n"
		       "  if ($length($both) == 0) { $both[0] = $seen; $both[1] = $seen; }\n"
		       "  $n += $k;\n"
		       "  return envelope :all :is \"to\" \"b@x\";\n"
		       "}\n"
		       "int $hook_eom(string $a, int $b) { return $n * 100 + $length($seen) * 10 + $length($both[1]); }\n",
		       0, &errors);
	tap_ok(prog != NULL, "per-connection script compiles");
	if (prog == NULL)
		tap_diag("%s", errors.data);
	if (prog != NULL) {
		struct value a[2] = { value_str("a@x", 3), value_int(1) };

		run = mfl_run_new(prog);
		mfl_run_main(run);
		mfl_run_add_recipient(run, "a@x");
		tap_is_int(mfl_run_hook(run, "rcpt", a, 2, &ret) == 1 ? (int) ret.u.i : -1, 0,
			   "envelope to: b@x not yet a recipient");
		mfl_run_add_recipient(run, "b@x");
		tap_is_int(mfl_run_hook(run, "rcpt", a, 2, &ret) == 1 ? (int) ret.u.i : -1, 1,
			   "envelope to matches any recipient");
		for (int m = 0; m < 300; m++) {
			mfl_run_end_message(run);
			/* mvmtr compacts only before a message that follows */
			if (m % 2 == 0 && mfl_run_compact(run) < 0)
				break;
			mfl_run_hook(run, "rcpt", a, 2, &ret);
			if (m == 0)
				tap_is_int((int) ret.u.i, 0, "the recipients start over");
		}
		mfl_run_hook(run, "eom", a, 2, &ret);
		tap_is_int((int) ret.u.i, 302 * 100 + 3020 + 302,
			   "globals, arrays and a shared array survive 300 messages");
		mfl_run_free(run);
		mfl_prog_free(prog);
	}

	/* the cache finds host intrinsics again by name */
	{
		char path[] = "/tmp/host_testXXXXXX";
		int fd = mkstemp(path);
		const char *src = "fileinto $sprintf(\"n%d\", $double(4));\n";
		char cache[64];

		if (fd >= 0 && write(fd, src, strlen(src)) == (ssize_t) strlen(src)) {
			close(fd);
			for (int round = 0; round < 2; round++) {
				buf_reset(&errors);
				buf_reset(&out);
				prog = mfl_compile_cached(env, path, 0, &errors);
				run = prog ? mfl_run_new(prog) : NULL;
				if (run != NULL) {
					mfl_run_main(run);
					mfl_run_json(run, &out);
				}
				tap_ok(run != NULL && strstr(out.data, "\"mailbox\":\"n8\"") != NULL,
				       "cached program with a host $function, round %d", round);
				mfl_run_free(run);
				mfl_prog_free(prog);
			}
			snprintf(cache, sizeof(cache), "%s.mflc", path);
			tap_ok(access(cache, F_OK) == 0, "the cache file was written");
			unlink(cache);
		}
		unlink(path);
	}
	buf_free(&errors);
	buf_free(&out);
	mfl_env_free(env);
	return tap_done();
}
