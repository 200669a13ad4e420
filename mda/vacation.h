/* vacation.h - the Sieve vacation action in mvmda (vacation.c) */
#ifndef MDA_VACATION_H
#define MDA_VACATION_H

#include "mda.h"

int vacation(struct mda *mda, const struct action *a, const char *state_path,
	     mda_send_fn *send, mda_copy_fn *copy);

#endif
