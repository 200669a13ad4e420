/* testsuite.h - vnd.dovecot.testsuite inside libmfl: the test block's
 * code (compile.c) and the skip to its end after test_fail (vm.c) */
#ifndef MFL_TESTSUITE_H
#define MFL_TESTSUITE_H

#include <stdint.h>

struct compile;
struct ast;
struct mfl_run;

int compile_testblock(struct compile *cc, struct ast *n);
int testsuite_skip(struct mfl_run *run, uint32_t *pc);

#endif
