/*
 * sieve_bench - compile and run a script over a message in-process, many
 * times: the cost of mvmf's language alone, without process start-up.
 * Prints the mean compile, run and total time per message in ms, first
 * compiling from source each time, then loading the compiled-script
 * cache (SCRIPT.mflc) each time, as mvmda does.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "mfl.h"
#include "msg/msg.h"

/* now - monotonic seconds */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct mfl_env *env = mfl_env_new();
	int rounds = argc > 3 ? atoi(argv[3]) : 500, fd;
	double t_compile = 0, t_run = 0;
	struct buf errors = BUF_INIT, out = BUF_INIT;
	struct msg *msg;

	if (argc < 3) {
		fprintf(stderr, "usage: sieve_bench script message [rounds]\n");
		return 2;
	}
	if ((fd = open(argv[2], O_RDONLY)) < 0 || (msg = msg_read_fd(fd, 0, 0)) == NULL) {
		perror(argv[2]);
		return 1;
	}
	for (int cached = 0; cached <= 1; cached++) {
		t_compile = t_run = 0;
		for (int i = 0; i < rounds; i++) {
			double t0 = now(), t1, t2;
			struct mfl_prog *prog = cached
			    ? mfl_compile_cached(env, argv[1], -1, &errors)
			    : mfl_compile_file(env, argv[1], -1, &errors);
			struct mfl_run *run;

			if (prog == NULL) {
				fprintf(stderr, "%s", errors.data);
				return 1;
			}
			t1 = now();
			run = mfl_run_new(prog);
			mfl_run_set_envelope(run, "someone@domain998.example", "user@example.net");
			mfl_run_set_message(run, msg);
			mfl_run_main(run);
			t2 = now();
			if (i == 0 && !cached) {
				mfl_run_json(run, &out);
				printf("actions: %s", out.data);
			}
			mfl_run_free(run);
			mfl_prog_free(prog);
			if (i > 0 || !cached) {	/* the first cached round writes it */
				t_compile += t1 - t0;
				t_run += t2 - t1;
			}
		}
		printf("in-process, %s, mean of %d: %s %.3f ms, run %.3f ms, total %.3f ms\n",
		       cached ? "cached program" : "compiled from source", rounds - cached,
		       cached ? "load" : "compile", t_compile * 1e3 / (rounds - cached),
		       t_run * 1e3 / (rounds - cached), (t_compile + t_run) * 1e3 / (rounds - cached));
	}
	msg_free(msg);
	mfl_env_free(env);
	buf_free(&out);
	return 0;
}
