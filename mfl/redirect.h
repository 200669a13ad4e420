/* redirect.h - inside libmfl: the address policies redirect, notify and
 * report share (redirect.c) */
#ifndef MFL_REDIRECT_H
#define MFL_REDIRECT_H

#include <stddef.h>

struct mfl_report_env;

const char *policy_address(const char *policy, const struct mfl_report_env *e, char *buf,
			   size_t size);

#endif
