/* enotify.h - the enotify notify action in mvmda (enotify.c) */
#ifndef MDA_ENOTIFY_H
#define MDA_ENOTIFY_H

#include "mda.h"

int notify(struct mda *mda, size_t index, const struct mfl_report_env *env,
	   mda_send_fn *send, mda_copy_fn *copy);

#endif
