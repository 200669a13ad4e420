/*
 * compile_expr - code for expressions: literals, variables, operators,
 * assignments, calls of the script's functions. Each expression leaves
 * one value on the stack (none when its type is void) and its type is
 * checked here, at compile time: ints and strings do not mix, except
 * that "+" joins strings and the comparisons compare strings bytewise.
 *
 * DIAGNOSTICS: errors go to the compiler's diag with file:line:col;
 * compile_expr() then returns -1 and emits nothing useful.
 */
#include "config.h"

#include <string.h>

#include "compile.h"
#include "env.h"
#include "lex.h"
#include "msg/arena.h"

/* type_assignable - a value of type FROM may be stored where TO is */
int
type_assignable(int to, int from)
{
	if (to == from)
		return 1;
	/* [] and arrays of "any" fit every array of the same depth or more */
	if (TYPE_IS_ARRAY(to) && TYPE_IS_ARRAY(from))
		return type_assignable(TYPE_ELEM(to), TYPE_ELEM(from))
		    || TYPE_ELEM(from) == TYPE_ANY;
	return from == TYPE_ANY && to != TYPE_VOID;
}

/* compile_zero - push the zero value of TYPE: 0, "" or an empty array */
int
compile_zero(struct compile *cc, int type)
{
	if (type == TYPE_INT)
		emit(cc, OP_PUSHINT, 0);
	else if (type == TYPE_STRING)
		emit(cc, OP_PUSHK, const_str(cc, "", 0));
	else
		emit(cc, OP_NEWARR, 0);
	return 0;
}

/* load - push variable SYM */
static void
load(struct compile *cc, const struct sym *sym)
{
	static const enum opcode ops[] = { OP_GETL, OP_GETG, OP_GETC };

	emit(cc, ops[sym->scope], sym->slot);
}

/* store - pop into variable SYM; host variables are read-only */
static int
store(struct compile *cc, struct ast *n, const struct sym *sym)
{
	static const enum opcode ops[] = { OP_SETL, OP_SETG, OP_SETC };

	if (sym->scope == SCOPE_CONTROL && cc->env->controls[sym->slot].var) {
		cerror(cc, n, "'$%.*s' is set by the host; it cannot be assigned",
		       (int) sym->len, sym->name);
		return -1;
	}
	emit(cc, ops[sym->scope], sym->slot);
	return 0;
}

/* var_sym - the variable an A_VAR names, or NULL after an error */
static struct sym *
var_sym(struct compile *cc, struct ast *n)
{
	struct sym *sym = sym_lookup(cc, n->str, n->len);

	if (sym == NULL)
		cerror(cc, n, "undeclared variable '$%.*s'", (int) n->len, n->str);
	return sym;
}

/* binary_op - the opcode for operator OP on operands of TYPE, or -1 */
static int
binary_op(int op, int type)
{
	static const struct {
		int tok;
		enum opcode int_op, str_op;
	} table[] = {
		{ T_PLUS, OP_ADD, OP_CONCAT }, { T_MINUS, OP_SUB, -1 },
		{ T_STAR, OP_MUL, -1 }, { T_SLASH, OP_DIV, -1 },
		{ T_PERCENT, OP_MOD, -1 }, { T_AMP, OP_BAND, -1 },
		{ T_PIPE, OP_BOR, -1 }, { T_CARET, OP_BXOR, -1 },
		{ T_SHL, OP_SHL, -1 }, { T_SHR, OP_SHR, -1 },
		{ T_EQ, OP_EQ, OP_SEQ }, { T_NE, OP_NE, OP_SNE },
		{ T_LT, OP_LT, OP_SLT }, { T_LE, OP_LE, OP_SLE },
		{ T_GT, OP_GT, OP_SGT }, { T_GE, OP_GE, OP_SGE },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].tok != op)
			continue;
		if (type == TYPE_INT)
			return table[i].int_op;
		if (type == TYPE_STRING)
			return (int) table[i].str_op;
		return -1;
	}
	return -1;
}

/* is_comparison - the operator yields int whatever it compares */
static int
is_comparison(int op)
{
	return op == T_EQ || op == T_NE || op == T_LT || op == T_LE
	    || op == T_GT || op == T_GE;
}

/* binary - a op b */
static int
binary(struct compile *cc, struct ast *n)
{
	int ta, tb, opc;
	char b1[32], b2[32];

	if ((ta = compile_expr(cc, n->a, 1)) < 0 || (tb = compile_expr(cc, n->b, 1)) < 0)
		return -1;
	if (ta != tb || (opc = binary_op(n->op, ta)) < 0) {
		cerror(cc, n, "operator %s cannot take %s and %s", tok_name(n->op),
		       type_name(ta, b1, sizeof(b1)), type_name(tb, b2, sizeof(b2)));
		return -1;
	}
	cc->at = n;
	emit(cc, (enum opcode) opc, 0);
	return is_comparison(n->op) ? TYPE_INT : ta;
}

/* logical - allof/anyof, && and ||: short-circuit, result 0 or 1 */
static int
logical(struct compile *cc, struct ast *n)
{
	int all = n->kind == A_AND;
	size_t jumps[256], nj = 0, end;

	if (n->nitems > 256) {
		cerror(cc, n, "more than 256 tests in one %s", all ? "allof" : "anyof");
		return -1;
	}
	for (size_t i = 0; i < n->nitems; i++) {
		int t = compile_expr(cc, n->items[i], 1);

		if (t < 0)
			return -1;
		if (t != TYPE_INT) {
			cerror(cc, n->items[i], "a test must be an int");
			return -1;
		}
		cc->at = n;
		jumps[nj++] = emit(cc, all ? OP_JZ : OP_JNZ, 0);
	}
	emit(cc, OP_PUSHINT, all);
	end = emit(cc, OP_JMP, 0);
	for (size_t i = 0; i < nj; i++)
		patch(cc, jumps[i], cc->ncode);
	emit(cc, OP_PUSHINT, !all);
	patch(cc, end, cc->ncode);
	return TYPE_INT;
}

/* conditional - a ? b : c */
static int
conditional(struct compile *cc, struct ast *n)
{
	int ta, tb, tc;
	size_t jelse, jend;

	if ((ta = compile_expr(cc, n->a, 1)) < 0)
		return -1;
	if (ta != TYPE_INT) {
		cerror(cc, n->a, "the condition must be an int");
		return -1;
	}
	jelse = emit(cc, OP_JZ, 0);
	if ((tb = compile_expr(cc, n->b, 1)) < 0)
		return -1;
	jend = emit(cc, OP_JMP, 0);
	patch(cc, jelse, cc->ncode);
	if ((tc = compile_expr(cc, n->c, 1)) < 0)
		return -1;
	patch(cc, jend, cc->ncode);
	if (!type_assignable(tb, tc) && !type_assignable(tc, tb)) {
		cerror(cc, n, "the two branches of ?: differ in type");
		return -1;
	}
	return tb == TYPE_ANY || (TYPE_IS_ARRAY(tb) && TYPE_ELEM(tb) == TYPE_ANY) ? tc : tb;
}

/* list - [a, b, c]: an array whose items share one type */
static int
list(struct compile *cc, struct ast *n)
{
	int type = TYPE_ANY;

	for (size_t i = 0; i < n->nitems; i++) {
		int t = compile_expr(cc, n->items[i], 1);

		if (t < 0)
			return -1;
		if (type == TYPE_ANY)
			type = t;
		else if (!type_assignable(type, t)) {
			cerror(cc, n->items[i], "array items differ in type");
			return -1;
		}
	}
	if (n->nitems > INSN_ARG_MAX) {
		cerror(cc, n, "array literal too long");
		return -1;
	}
	cc->at = n;
	emit(cc, OP_NEWARR, (int32_t) n->nitems);
	return TYPE_ARRAY(type);
}

/* compound_op - the operator of "+=" and friends */
static int
compound_op(int op)
{
	switch (op) {
	case T_ADD_ASSIGN: return T_PLUS;
	case T_SUB_ASSIGN: return T_MINUS;
	case T_MUL_ASSIGN: return T_STAR;
	case T_DIV_ASSIGN: return T_SLASH;
	default: return T_PERCENT;
	}
}

/* assign_index - a[i] = v, a[i] op= v */
static int
assign_index(struct compile *cc, struct ast *n, int want)
{
	struct ast *target = n->a;
	int ta, ti, tv;

	if ((ta = compile_expr(cc, target->a, 1)) < 0 || (ti = compile_expr(cc, target->b, 1)) < 0)
		return -1;
	if (!TYPE_IS_ARRAY(ta) || ti != TYPE_INT) {
		cerror(cc, target, "only arrays are indexed, by int");
		return -1;
	}
	if (n->op != T_ASSIGN) {
		cerror(cc, n, "compound assignment to an array item: write a[i] = a[i] op v");
		return -1;
	}
	if ((tv = compile_expr(cc, n->b, 1)) < 0)
		return -1;
	if (!type_assignable(TYPE_ELEM(ta), tv)) {
		cerror(cc, n, "cannot store this type in that array");
		return -1;
	}
	cc->at = n;
	emit(cc, OP_SETINDEX, 0);	/* leaves the value */
	if (!want)
		emit(cc, OP_POP, 0);
	return TYPE_ELEM(ta) == TYPE_ANY ? tv : TYPE_ELEM(ta);
}

/* assign - v = e, v op= e, a[i] = e */
static int
assign(struct compile *cc, struct ast *n, int want)
{
	struct sym *sym;
	int tv, opc;
	char b1[32], b2[32];

	if (n->a->kind == A_INDEX)
		return assign_index(cc, n, want);
	if (n->a->kind != A_VAR) {
		cerror(cc, n, "only variables and array items can be assigned");
		return -1;
	}
	if ((sym = var_sym(cc, n->a)) == NULL)
		return -1;
	if (n->op != T_ASSIGN)
		load(cc, sym);
	if ((tv = compile_expr(cc, n->b, 1)) < 0)
		return -1;
	cc->at = n;
	if (n->op != T_ASSIGN) {
		if (tv != sym->type || (opc = binary_op(compound_op(n->op), tv)) < 0) {
			cerror(cc, n, "operator %s cannot take %s and %s", tok_name(n->op),
			       type_name(sym->type, b1, sizeof(b1)), type_name(tv, b2, sizeof(b2)));
			return -1;
		}
		emit(cc, (enum opcode) opc, 0);
	} else if (!type_assignable(sym->type, tv)) {
		cerror(cc, n, "cannot assign %s to %s '$%.*s'",
		       type_name(tv, b1, sizeof(b1)), type_name(sym->type, b2, sizeof(b2)),
		       (int) sym->len, sym->name);
		return -1;
	}
	if (want)
		emit(cc, OP_DUP, 0);
	return store(cc, n, sym) < 0 ? -1 : sym->type;
}

/* incdec - ++v, --v, v++, v-- on an int variable */
static int
incdec(struct compile *cc, struct ast *n, int want)
{
	struct sym *sym;

	if (n->a->kind != A_VAR) {
		cerror(cc, n, "++ and -- take a variable");
		return -1;
	}
	if ((sym = var_sym(cc, n->a)) == NULL)
		return -1;
	if (sym->type != TYPE_INT) {
		cerror(cc, n, "++ and -- take an int");
		return -1;
	}
	cc->at = n;
	load(cc, sym);
	if (want && n->postfix)
		emit(cc, OP_DUP, 0);
	emit(cc, OP_PUSHINT, 1);
	emit(cc, n->num > 0 ? OP_ADD : OP_SUB, 0);
	if (want && !n->postfix)
		emit(cc, OP_DUP, 0);
	return store(cc, n, sym) < 0 ? -1 : TYPE_INT;
}

/* call - $f(args): the script's function, or an intrinsic function */
static int
call(struct compile *cc, struct ast *n)
{
	int f = func_lookup(cc, n->str, n->len);
	const struct func *fn;
	char b1[32], b2[32];

	if (f < 0) {
		n->intr = intr_find(cc->env, n->str, n->len, INTR_FUNCTION);
		if (n->intr == NULL) {
			cerror(cc, n, "undefined function '$%.*s'", (int) n->len, n->str);
			return -1;
		}
		return compile_site(cc, n);
	}
	fn = &cc->funcs[f];
	if ((int) n->nitems != fn->nparams) {
		cerror(cc, n, "'$%s' takes %d argument%s, not %zu", fn->name,
		       fn->nparams, fn->nparams == 1 ? "" : "s", n->nitems);
		return -1;
	}
	for (size_t i = 0; i < n->nitems; i++) {
		int t = compile_expr(cc, n->items[i], 1);

		if (t < 0)
			return -1;
		if (!type_assignable(cc->funcs[f].param_types[i], t)) {
			cerror(cc, n->items[i], "argument %zu of '$%s' must be %s, not %s",
			       i + 1, cc->funcs[f].name,
			       type_name(cc->funcs[f].param_types[i], b1, sizeof(b1)),
			       type_name(t, b2, sizeof(b2)));
			return -1;
		}
	}
	cc->at = n;
	emit(cc, OP_CALL, f);
	return cc->funcs[f].ret;
}

/* compile_expr - code for N; its type, or -1. WANT: the value is used */
int
compile_expr(struct compile *cc, struct ast *n, int want)
{
	struct sym *sym;
	int t;

	cc->at = n;
	switch (n->kind) {
	case A_INT:
		if (n->num >= INSN_ARG_MIN && n->num <= INSN_ARG_MAX)
			emit(cc, OP_PUSHINT, (int32_t) n->num);
		else
			emit(cc, OP_PUSHK, const_int(cc, n->num));
		return TYPE_INT;
	case A_STR:
		emit(cc, OP_PUSHK, const_str(cc, n->str, n->len));
		return TYPE_STRING;
	case A_INTERP:
		return compile_interp(cc, n);
	case A_LIST:
		return list(cc, n);
	case A_VAR:
		if ((sym = var_sym(cc, n)) == NULL)
			return -1;
		load(cc, sym);
		return sym->type;
	case A_INDEX:
		if ((t = compile_expr(cc, n->a, 1)) < 0 || compile_expr(cc, n->b, 1) != TYPE_INT
		    || !TYPE_IS_ARRAY(t)) {
			cerror(cc, n, "only arrays are indexed, by int");
			return -1;
		}
		cc->at = n;
		emit(cc, OP_INDEX, 0);
		return TYPE_ELEM(t);
	case A_UNARY:
		if ((t = compile_expr(cc, n->a, 1)) < 0)
			return -1;
		if (t != TYPE_INT) {
			cerror(cc, n, "operator %s takes an int", tok_name(n->op));
			return -1;
		}
		cc->at = n;
		emit(cc, n->op == T_MINUS ? OP_NEG : OP_BNOT, 0);
		return TYPE_INT;
	case A_NOT:
		if ((t = compile_expr(cc, n->a, 1)) < 0)
			return -1;
		if (t != TYPE_INT) {
			cerror(cc, n, "'!' and not take an int or a test");
			return -1;
		}
		cc->at = n;
		emit(cc, OP_NOT, 0);
		return TYPE_INT;
	case A_BINARY:
		return binary(cc, n);
	case A_AND:
	case A_OR:
		return logical(cc, n);
	case A_COND:
		return conditional(cc, n);
	case A_ASSIGN:
		return assign(cc, n, want);
	case A_INCDEC:
		return incdec(cc, n, want);
	case A_CALL:
		return call(cc, n);
	case A_SIEVE:
		return compile_site(cc, n);
	default:
		cerror(cc, n, "not an expression");
		return -1;
	}
}
