/* mimeparam.h - Content-Type style values: token and parameters */
#ifndef MFL_MIMEPARAM_H
#define MFL_MIMEPARAM_H

#include <stddef.h>

struct arena;

#define MIME_PARAM_MAX	256	/* parameters read from one field */

struct mime_param {
	const char *name;	/* lower case */
	const char *value;	/* RFC 2231 values decoded to UTF-8 */
	size_t value_len;
};

int mime_param_parse(struct arena *arena, const char *text, size_t len,
		     const char **token_r, struct mime_param **params_r,
		     size_t *count_r);
const char *mime_param_get(const struct mime_param *params, size_t count,
			   const char *name);

#endif
