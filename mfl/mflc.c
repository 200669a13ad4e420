/*
 * mflc - compile an MFL or Sieve script: report every error as
 * "file:line:col: error: ...", print the bytecode (-d), or run the script
 * over a message (-m) and print the action list as JSON lines (mfl(7)),
 * or run a test file (-T, vnd.dovecot.testsuite) and report each test.
 * For administrators checking scripts before installing them, and for
 * the test suite.
 *
 * DIAGNOSTICS: exit 0 when the script compiled (and ran, and every test
 * of a -T file passed), 1 on compile errors or a failed test, 2 on usage
 * errors, 3 on a runtime error, 4 when a file cannot be read.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <unistd.h>

#include "mfl.h"
#include "msg/msg.h"

/* usage - how to call it, on OUT; exits with CODE */
static void
usage(FILE *out, int code)
{
	fputs("usage: mflc [-CdLSMV] [-e sender] [-t recipient] [-m message] [-s name=value]\n"
	      "            [-H hook[:arg,...]] script\n"
	      "       mflc -T [-s name=value] test.svtest\n", out);
	exit(code);
}

/* print_cap - one capability a line (-L) */
static void
print_cap(void *ctx, const char *cap)
{
	(void) ctx;
	puts(cap);
}

/* log_stderr - where $log goes */
static void
log_stderr(void *ctx, const char *msg, size_t len)
{
	(void) ctx;
	fprintf(stderr, "mflc: log: %.*s\n", (int) len, msg);
}

/* set_control - "-s name=value" */
static void
set_control(struct mfl_env *env, char *arg)
{
	char *eq = strchr(arg, '='), *end;
	long long v;

	if (eq == NULL)
		usage(stderr, 2);
	*eq++ = 0;
	if (*arg == '$')
		arg++;
	if (mfl_env_get_string(env, arg) != NULL) {
		if (mfl_env_set_string(env, arg, eq) == 0)
			return;
	} else {
		errno = 0;
		v = strtoll(eq, &end, 10);
		if (errno == 0 && *eq && !*end && mfl_env_set_int(env, arg, v) == 0)
			return;
	}
	fprintf(stderr, "mflc: -s %s: unknown control or bad value\n", arg);
	exit(2);
}

/* call_hook - "-H name:arg,arg": call $hook_name, print a JSON line */
static int
call_hook(struct mfl_run *run, char *spec, struct buf *out)
{
	struct value args[16], ret = value_int(0);
	char *colon = strchr(spec, ':'), *arg, *end;
	int n = 0, rc;

	if (colon != NULL) {
		*colon++ = 0;
		for (arg = strtok(colon, ","); arg != NULL && n < 16; arg = strtok(NULL, ",")) {
			long long v = strtoll(arg, &end, 10);

			args[n++] = *arg && !*end ? value_int(v) : value_str(arg, strlen(arg));
		}
	}
	rc = mfl_run_hook(run, spec, args, n, &ret);
	buf_puts(out, "{\"hook\":");
	json_string(out, spec, strlen(spec));
	buf_printf(out, ",\"called\":%s", rc > 0 ? "true" : "false");
	if (rc > 0 && ret.type == V_INT)
		buf_printf(out, ",\"return\":%lld", (long long) ret.u.i);
	else if (rc > 0 && ret.type == V_STR) {
		buf_puts(out, ",\"return\":");
		json_string(out, ret.u.s.ptr, ret.u.s.len);
	}
	buf_puts(out, "}\n");
	return rc < 0 ? -1 : 0;
}

/* run_tests - -T: the test file PATH (in Sieve mode: the test blocks
 * are Sieve syntax), its report on standard output; the exit status */
static int
run_tests(struct mfl_env *env, const char *path)
{
	struct mfl_testsuite *ts = mfl_testsuite_new(env, path);
	struct buf errors = BUF_INIT, out = BUF_INIT;
	struct mfl_prog *prog;
	int rc;

	if (ts == NULL) {
		fprintf(stderr, "mflc: out of memory\n");
		return 4;
	}
	if ((prog = mfl_compile_file(env, path, 1, &errors)) == NULL) {
		fwrite(errors.data, 1, errors.len, stderr);
		printf("FAIL: %s does not compile\n", path);
		buf_free(&errors);
		mfl_testsuite_free(ts);
		return 1;
	}
	rc = mfl_testsuite_run(ts, prog, &out);
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	buf_free(&errors);
	mfl_testsuite_free(ts);
	mfl_prog_free(prog);
	return rc < 0 ? 3 : rc > 0 ? 1 : 0;
}

/* run_on - run PROG over the message at PATH; print JSON; exit status */
static int
run_on(struct mfl_prog *prog, const char *path, const char *from, const char *to,
       char **hooks, int nhooks)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY);
	struct buf out = BUF_INIT;
	struct mfl_run *run;
	struct msg *msg;
	int status;

	if (fd < 0 || (msg = msg_read_fd(fd, 0, 0)) == NULL) {
		fprintf(stderr, "mflc: %s: %s\n", path, strerror(errno));
		return 4;
	}
	if (fd > 0)
		close(fd);
	if ((run = mfl_run_new(prog)) == NULL || mfl_run_set_envelope(run, from, to) < 0) {
		fprintf(stderr, "mflc: out of memory\n");
		return 4;
	}
	mfl_run_set_message(run, msg);
	status = mfl_run_main(run) < 0 ? 3 : 0;
	for (int i = 0; i < nhooks && status == 0; i++)
		if (call_hook(run, hooks[i], &out) < 0)
			status = 3;
	mfl_run_json(run, &out);
	fwrite(out.data, 1, out.len, stdout);
	if (status)
		fprintf(stderr, "%s\n", mfl_run_error(run));
	buf_free(&out);
	mfl_run_free(run);
	msg_free(msg);
	return status;
}

int
main(int argc, char **argv)
{
	const char *message = NULL, *from = NULL, *to = NULL;
	char *hooks[16];
	int nhooks = 0;
	int dump = 0, sieve = -1, ch, status = 0, cached = 0, tests = 0;
	struct buf errors = BUF_INIT;
	struct mfl_env *env;
	struct mfl_prog *prog;

	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		usage(stdout, 0);
	if (argc > 1 && strcmp(argv[1], "--version") == 0)
		return printf("mflc %s\n", MFL_VERSION) < 0;
	if ((env = mfl_env_new()) == NULL)
		return 4;
	mfl_env_set_log(env, log_stderr, NULL);
	if (mfl_env_add_programs(env) < 0) {
		fprintf(stderr, "mflc: %s\n", strerror(errno));
		return 2;
	}
	mfl_env_environment_defaults(env, "MDA", "during");
	if (getenv("USER") == NULL) {	/* vnd.dovecot.username: who runs it */
		struct passwd *pw = getpwuid(geteuid());

		if (pw != NULL)
			mfl_env_set_environment(env, "vnd.dovecot.username", pw->pw_name);
	}
	while ((ch = getopt(argc, argv, "Cde:H:Lm:s:t:vMSTV")) != -1) {
		switch (ch) {
		case 'L':
			mfl_capabilities(env, print_cap, NULL);
			mfl_env_free(env);
			return fflush(stdout) != 0;
		case 'T': tests = 1; break;
		case 'C': cached = 1; break;
		case 'H':
			if (nhooks == 16)
				usage(stderr, 2);
			hooks[nhooks++] = optarg;
			break;
		case 'd': dump = 1; break;
		case 'e': from = optarg; break;
		case 'm': message = optarg; break;
		case 's': set_control(env, optarg); break;
		case 't': to = optarg; break;
		case 'M': sieve = 0; break;
		case 'S': sieve = 1; break;
		case 'v':
			printf("mflc (mvmf) %s\n", MFL_VERSION);
			return 0;
		case 'V': {
			struct buf out = BUF_INIT;

			mfl_env_print_controls(env, &out);
			fwrite(out.data, 1, out.len, stdout);
			buf_free(&out);
			mfl_env_free(env);
			return fflush(stdout) != 0;
		}
		default:
			usage(stderr, 2);
		}
	}
	if (optind + 1 != argc)
		usage(stderr, 2);
	if (tests) {
		status = run_tests(env, argv[optind]);
		mfl_env_free(env);
		return status;
	}
	prog = cached ? mfl_compile_cached(env, argv[optind], sieve, &errors)
	    : mfl_compile_file(env, argv[optind], sieve, &errors);
	if (prog == NULL) {
		fwrite(errors.data, 1, errors.len, stderr);
		if (message != NULL) {
			struct buf js = BUF_INIT;

			buf_puts(&js, "{\"status\":\"error\",\"phase\":\"compile\",\"message\":");
			json_string(&js, errors.data ? errors.data : "", errors.len ? errors.len - 1 : 0);
			buf_puts(&js, "}\n");
			fwrite(js.data, 1, js.len, stdout);
			buf_free(&js);
		}
		buf_free(&errors);
		mfl_env_free(env);
		return 1;
	}
	if (dump) {
		struct buf out = BUF_INIT;

		mfl_prog_disasm(prog, &out);
		fwrite(out.data, 1, out.len, stdout);
		buf_free(&out);
	}
	if (message != NULL)
		status = run_on(prog, message, from, to, hooks, nhooks);
	mfl_prog_free(prog);
	mfl_env_free(env);
	buf_free(&errors);
	return status;
}
