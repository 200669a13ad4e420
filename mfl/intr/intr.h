/*
 * intr.h - intrinsics: Sieve commands, Sieve tests and $functions, each
 * described once, with designated initializers, beside its run function.
 */
#ifndef MFL_INTR_H
#define MFL_INTR_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

struct ast;
struct compile;
struct mfl_run;
struct site;
struct mfl_prog;
struct mfl_env;
struct mime_part;
struct hdr_index;

enum intr_kind { INTR_COMMAND, INTR_TEST, INTR_FUNCTION };

/* What a tag takes after it. */
enum tag_arg { TAGARG_NONE, TAGARG_STRING, TAGARG_NUMBER, TAGARG_STRLIST };

/* Tag groups: at most one tag of a group per call. */
enum tag_group {
	TG_NONE, TG_MATCH, TG_COMPARATOR, TG_ADDRPART, TG_SIZE,
	TG_CASE, TG_FIRST, TG_QUOTE,	/* set's modifiers (RFC 5229 4) */
	TG_TRANSFORM,			/* body's :raw, :content, :text */
	TG_ZONE,			/* date's :zone, :originalzone */
	TG_DUPID,			/* duplicate's :header, :uniqueid */
	TG_PERIOD,			/* vacation's :days, :seconds */
	TG_MIMEOPT,			/* :type, :subtype, :contenttype, :param */
	TG_IMPORTANCE,			/* deprecated notify's :low, :normal, :high */
	TG__COUNT
};

struct intr_tag {
	const char *name;
	enum tag_arg arg;
	enum tag_group group;
	int id;
	const char *capability;	/* Sieve mode: needs this require */
};

#define INTR_F_MATCH	0x01	/* takes :comparator and a match type */
#define INTR_F_ADDRPART	0x02	/* takes :all, :localpart, :domain */
#define INTR_F_CONST_ARG 0x04	/* keep a constant first argument (a
				 * string, or a list of strings) for the
				 * host (mfl_prog_sites) */

/*
 * Positional arguments, one character each: 's' string, 'l' string list
 * (a string or string[]), 'i' int, 'a' any, 'A' any array, 'x' a string
 * or any array; a '?' makes
 * the ones after it optional, a trailing '*' repeats the last one.
 */
/* What site->aux holds for an intrinsic: nothing (0), a global slot
 * (set, extracttext), or a global slot + 1 with 0 for the internal
 * variable (setflag, addflag, removeflag). The verifier checks it. */
enum intr_aux { INTR_AUX_NONE, INTR_AUX_GLOBAL, INTR_AUX_GLOBAL_OR_0 };

struct intrinsic {
	const char *name;	/* "header", "fileinto", "$length" */
	enum intr_kind kind;
	const char *capability;	/* Sieve mode: needs this require */
	const char *args;
	int ret;		/* result type (tests: TYPE_INT) */
	unsigned flags;
	enum intr_aux aux;	/* what its sites' aux holds */
	const struct intr_tag *tags;	/* NULL-terminated, or NULL */
	/* before the arguments are compiled: may resolve or rewrite them */
	int (*prepare)(struct compile *cc, struct ast *node, struct site *site);
	int (*check)(struct compile *cc, struct ast *node, struct site *site);
	int (*run)(struct mfl_run *run, const struct site *site,
		   struct value *args, struct value *ret);
};

#define SITE_TAGS_MAX	16

/* One call of an intrinsic in the program, resolved at compile time;
 * calls alike in all of this share one site (compile_share), and where a
 * call is in the script is its OP_INTR's line (run_where). */
struct site {
	const struct intrinsic *intr;
	int match;		/* MATCH_IS ... */
	int relop;		/* :value and :count: REL_GT ... */
	int aux;		/* the intrinsic's own: set's global slot */
	int comparator;		/* CMP_OCTET ... */
	int addrpart;		/* ADDR_ALL ... */
	uint32_t tags;		/* bit ID: the tag of that id is present (a
				 * match type, address part or comparator
				 * goes in its own field instead) */
	signed char tag_arg[SITE_TAGS_MAX];	/* args[] index, or -1 */
	int npos;		/* positional arguments */
	int nargs;		/* values on the stack */
	void *data;		/* compiled per-site data (a regex) */
	const char *pattern;	/* the constant it was compiled from */
	size_t pattern_len;
	int pattern_list;	/* INTR_F_CONST_ARG: pattern holds a list's
				 * strings, each ended by a NUL */
};

const struct intrinsic *intr_find(const struct mfl_env *env, const char *name,
				  size_t len, enum intr_kind kind);
const struct intrinsic *intr_find_as(const struct mfl_env *env, const char *name, size_t len,
				     enum intr_kind kind, const char *cap, size_t cap_len);
const struct intrinsic *intr_find_enabled(const struct mfl_env *env, const char *name,
					  size_t len, enum intr_kind kind,
					  int (*has)(void *ctx, const char *cap), void *ctx);
int mfl_env_add_intrinsic(struct mfl_env *env, const struct intrinsic *in);
int intr_tag_present(const struct site *site, int id, struct value *args,
		     struct value **arg_r);
size_t intr_max_positional(const struct intrinsic *intr);
int intr_arg_kind(const char *spec, size_t i, int *optional_r);
int intr_tag_kind(const struct intrinsic *intr, int id);
int intr_site_compile(struct mfl_prog *prog, struct site *site,
		      char *err, size_t errsize);
extern const struct intrinsic *const intr_table[];
extern const struct intr_tag intr_match_tags[];
extern const struct intr_tag intr_addrpart_tags[];

/* :code and :xcode, an SMTP reply (reject, and mvmtr's tempfail); the
 * tag ids are INTR_TAG_CODE and INTR_TAG_XCODE */
enum { INTR_TAG_CODE, INTR_TAG_XCODE };
extern const struct intr_tag intr_reply_tags[];
int intr_reply_check(struct compile *cc, struct ast *node, struct site *site,
		     char first);
int intr_reply_code_ok(const char *s, size_t len, char first);
int intr_reply_xcode_ok(const char *s, size_t len, char first);

/* For run functions, the host's too: raise a runtime error at SITE;
 * copy a string into the run (as a C string: NULL if it holds a NUL);
 * read an int control; see a string-list argument as items. */
int run_error(struct mfl_run *run, const struct site *site,
	      const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* run_where - the file and line of the call running now */
const char *run_where(const struct mfl_run *run, int *line_r);
int run_str(struct mfl_run *run, const char *ptr, size_t len,
	    struct value *out);
/* run_buf_init - BUF empty, limited to what RUN may still allocate:
 * output built from a small input fails there, before it is large */
struct buf;
void run_buf_init(const struct mfl_run *run, struct buf *buf);
const char *run_cstr(struct mfl_run *run, const struct value *v);
int64_t run_control_int(const struct mfl_run *run, const char *name);
int run_strlist(struct mfl_run *run, const struct site *site,
		const struct value *v, size_t *n_r, const struct value **items_r);
int run_arr_push(struct mfl_run *run, struct marr *a, struct value v);
struct action;
int intr_add_action(struct mfl_run *run, const struct site *site, struct action *act);
const char *intr_tag_cstr(struct mfl_run *run, const struct site *site,
			  struct value *args, int id);
/* RFC 8580 4: :fcc's :create, :flags and :specialuse, with ids FIRST,
 * FIRST + 1 and FIRST + 2 in a command's tags */
#define INTR_FCC_OPTION_TAGS(first) \
	{ .name = "create", .id = (first), .capability = "mailbox" }, \
	{ .name = "flags", .arg = TAGARG_STRLIST, .id = (first) + 1, .capability = "imap4flags" }, \
	{ .name = "specialuse", .arg = TAGARG_STRING, .id = (first) + 2, .capability = "special-use" }
int intr_fcc_check(struct compile *cc, struct ast *node, struct site *site, int fcc_id,
		   int options_id);
int intr_fcc_options(struct mfl_run *run, const struct site *site, struct value *args,
		     int options_id, const char ***flags_r, const char **specialuse_r);
/* :index and :last (RFC 5260 6) for header, address and date */
enum { INTR_TAG_INDEX = 8, INTR_TAG_LAST = 9 };
/* :mime and its options (RFC 5703 4) for header, address and exists */
enum {
	INTR_TAG_MIME = 10, INTR_TAG_ANYCHILD, INTR_TAG_TYPE, INTR_TAG_SUBTYPE,
	INTR_TAG_CONTENTTYPE, INTR_TAG_PARAM
};
extern const struct intr_tag intr_mime_tags[];
int intr_mime_check(struct compile *cc, struct ast *n, struct site *site);
size_t intr_test_indexes(struct mfl_run *run, const struct site *site,
			 struct hdr_index ***out);
int intr_mime_values(struct mfl_run *run, const struct site *site, struct value *args,
		     const char *text, size_t len,
		     int (*fn)(void *ctx, const char *s, size_t n), void *ctx);
struct mime_part *intr_current_part(struct mfl_run *run);
struct buf;
int intr_set_value(struct mfl_run *run, const struct site *site, uint32_t tags,
		   const char *val, size_t len);
extern const struct intr_tag intr_index_tags[];
struct hdr_index;
int intr_index_wanted(const struct site *site, struct value *args,
		      struct hdr_index *idx, const char *name, size_t len, size_t n);
int intr_index_check(struct compile *cc, struct ast *n, struct site *site);
struct hdr_field;
int intr_each_field(const struct site *site, struct value *args, struct hdr_index **idxs,
		    size_t nidx, const struct value *names, size_t nnames,
		    int (*fn)(void *ctx, struct hdr_index *idx, struct hdr_field *f,
			      const struct value *name), void *ctx);

struct arena;
const char *run_environment_value(const struct mfl_run *run, const char *name);
int intr_one_address(struct arena *arena, const char *text, size_t len,
		     struct buf *spec);
const char **run_flags(struct mfl_run *run, const struct site *site,
		       const struct value *list);
void *mfl_run_host_data(const struct mfl_run *run);
void mfl_run_set_host_data(struct mfl_run *run, void *data);

#endif
