/*
 * change - the list of message changes a hook queues for the end of the
 * message (struct change, mvmtr.h): session.c fills it from the script,
 * milter_client.c from a filter's answers; callbacks.c and smtpd.c make
 * the changes.
 *
 * DIAGNOSTICS: none; change_append fails only when memory runs out.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mvmtr.h"

/* change_append - a change of KIND at *TAIL (which then points past it):
 * NAME copied, VALUE (VALUE_LEN bytes, or NULL) copied and NUL-ended; 0,
 * or -1 when memory runs out */
int
change_append(struct change ***tail, enum change_kind kind, const char *name,
	      const char *value, size_t value_len, int index)
{
	struct change *c = calloc(1, sizeof(*c));

	if (c == NULL || (name != NULL && (c->name = strdup(name)) == NULL)
	    || (value != NULL && (c->value = malloc(value_len + 1)) == NULL)) {
		if (c != NULL)
			free(c->name);
		free(c);
		return -1;
	}
	if (value != NULL) {
		memcpy(c->value, value, value_len);
		c->value[value_len] = 0;
		c->value_len = value_len;
	}
	c->kind = kind;
	c->index = index;
	**tail = c;
	*tail = &c->next;
	return 0;
}

/* change_list_free - the changes from C on */
void
change_list_free(struct change *c)
{
	while (c != NULL) {
		struct change *next = c->next;

		free(c->name);
		free(c->value);
		free(c);
		c = next;
	}
}
