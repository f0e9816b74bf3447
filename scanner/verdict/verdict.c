/*
 * verdict.c - meta rules, scores and actions (see verdict.h).
 *
 * Meta expressions are parsed by precedence climbing into postfix code
 * (numbers, rule references, operators); the parser is bounded by the
 * expression's length and nesting (VERDICT_MAX_DEPTH) since rule files are
 * operator input, not mail. Evaluation is a small stack machine per meta.
 */
#include "verdict/verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/task.h"
#include "match/match.h"
#include "rules/rules.h"

#define VERDICT_MAX_DEPTH 64
#define VERDICT_MAX_STACK 256

enum op {
    OP_NUM,
    OP_RULE,
    OP_NOT,
    OP_NEG,
    OP_MUL,
    OP_DIV,
    OP_ADD,
    OP_SUB,
    OP_LT,
    OP_GT,
    OP_LE,
    OP_GE,
    OP_EQ,
    OP_NE,
    OP_AND, /* short-circuit: jump over the right side */
    OP_OR,
};

struct insn {
    enum op op;
    double num;
    uint32_t rule;
    uint32_t jump; /* OP_AND/OP_OR: index after the right operand */
};

struct meta {
    uint32_t rule;
    struct insn *code;
    size_t ncode;
    int ok;
    int may_wait; /* depends, maybe through metas, on a rule whose match may wait */
    char *problem;
};

struct tm_scorer {
    const struct tm_ruleset *rs;
    struct meta *metas; /* in evaluation order */
    size_t nmetas;
    int32_t *rule2meta; /* per rule: meta index or -1 */
    double *scores;     /* per rule */
    int8_t *forced;     /* per rule: its force_action (tm_action_parse), or -1 */
    uint8_t *kind;      /* per rule: KIND_ACTIVE, KIND_SCORED (see active, scored) */
    double least_rest;  /* the least score the regex and meta rules can add (early exit) */
    int max_forced;     /* the strongest force_action of a scored rule, or -1 */
    uint32_t *evals;    /* the scored eval: rules, the only hits tm_verdict_early sees */
    size_t nevals;
};

static const char *const action_names[TM_ACT__COUNT] = {
    "no action", "add header", "rewrite subject", "soft reject", "quarantine", "reject",
    "discard"};

const char *
tm_action_name(enum tm_action a)
{
    return (unsigned)a < TM_ACT__COUNT ? action_names[a] : "?";
}

int
tm_action_parse(const char *s)
{
    static const char *const alt[TM_ACT__COUNT] = {"no_action",  "add_header", "rewrite_subject",
                                                   "soft_reject", "quarantine", "reject",
                                                   "discard"};
    int i;

    for (i = 0; i < TM_ACT__COUNT; i++)
        if (strcmp(s, action_names[i]) == 0 || strcmp(s, alt[i]) == 0)
            return i;
    return -1;
}

void
tm_verdict_cfg_default(struct tm_verdict_cfg *c)
{
    c->threshold[TM_ACT_NONE] = -1;
    c->threshold[TM_ACT_ADD_HEADER] = 5.0;
    c->threshold[TM_ACT_REWRITE_SUBJECT] = -1;
    c->threshold[TM_ACT_SOFT_REJECT] = -1;
    c->threshold[TM_ACT_QUARANTINE] = -1;
    c->threshold[TM_ACT_REJECT] = 15.0;
    c->threshold[TM_ACT_DISCARD] = -1;
    c->required_from_rules = 1;
    c->undecided = TM_ACT_SOFT_REJECT;
    c->early_exit = 1;
}

/* ---- meta expression parser ---------------------------------------------- */

struct parser {
    const struct tm_ruleset *rs;
    const char *s;
    size_t pos;
    struct insn *code;
    size_t n, cap;
    int depth;
    char err[200];
    uint32_t *deps;
    size_t ndeps, capdeps;
};

static void
emit(struct parser *p, struct insn in)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->code = tm_xrealloc(p->code, p->cap * sizeof(*p->code));
    }
    p->code[p->n++] = in;
}

static void
skip_ws(struct parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
        p->pos++;
}

static int parse_expr(struct parser *p, int minprec);

static int
parse_primary(struct parser *p)
{
    const char *s = p->s;
    struct insn in;

    memset(&in, 0, sizeof(in));
    skip_ws(p);
    if (++p->depth > VERDICT_MAX_DEPTH) {
        snprintf(p->err, sizeof(p->err), "expression nested too deep");
        return -1;
    }
    if (s[p->pos] == '(') {
        p->pos++;
        if (parse_expr(p, 0) != 0)
            return -1;
        skip_ws(p);
        if (s[p->pos] != ')') {
            snprintf(p->err, sizeof(p->err), "missing ')' at column %zu", p->pos + 1);
            return -1;
        }
        p->pos++;
    } else if (s[p->pos] == '!') {
        p->pos++;
        if (parse_primary(p) != 0)
            return -1;
        in.op = OP_NOT;
        emit(p, in);
    } else if (s[p->pos] == '-') {
        p->pos++;
        if (parse_primary(p) != 0)
            return -1;
        in.op = OP_NEG;
        emit(p, in);
    } else if ((s[p->pos] >= '0' && s[p->pos] <= '9') || s[p->pos] == '.') {
        char *end;
        in.op = OP_NUM;
        in.num = strtod(s + p->pos, &end);
        p->pos = (size_t)(end - s);
        emit(p, in);
    } else if ((s[p->pos] >= 'A' && s[p->pos] <= 'Z') || (s[p->pos] >= 'a' && s[p->pos] <= 'z') ||
               s[p->pos] == '_') {
        size_t st = p->pos;
        char name[256];
        const struct tm_rule *r;
        while ((s[p->pos] >= 'A' && s[p->pos] <= 'Z') || (s[p->pos] >= 'a' && s[p->pos] <= 'z') ||
               (s[p->pos] >= '0' && s[p->pos] <= '9') || s[p->pos] == '_')
            p->pos++;
        if (p->pos - st >= sizeof(name)) {
            snprintf(p->err, sizeof(p->err), "rule name too long");
            return -1;
        }
        memcpy(name, s + st, p->pos - st);
        name[p->pos - st] = '\0';
        r = tm_rules_find(p->rs, name);
        if (r == NULL) {
            /* SpamAssassin: an unknown rule is 0 */
            in.op = OP_NUM;
            in.num = 0;
        } else {
            in.op = OP_RULE;
            in.rule = (uint32_t)(r - p->rs->rules);
            if (p->ndeps == p->capdeps) {
                p->capdeps = p->capdeps ? p->capdeps * 2 : 8;
                p->deps = tm_xrealloc(p->deps, p->capdeps * sizeof(*p->deps));
            }
            p->deps[p->ndeps++] = in.rule;
        }
        emit(p, in);
    } else {
        snprintf(p->err, sizeof(p->err), "unexpected '%c' at column %zu",
                 s[p->pos] ? s[p->pos] : '?', p->pos + 1);
        return -1;
    }
    p->depth--;
    return 0;
}

/* binop - the operator at the cursor, its precedence and length; 0 if none */
static int
binop(const char *s, enum op *op, int *prec)
{
    static const struct {
        const char *tok;
        enum op op;
        int prec;
    } ops[] = {
        {"||", OP_OR, 1}, {"&&", OP_AND, 2}, {"==", OP_EQ, 3}, {"!=", OP_NE, 3}, {"<=", OP_LE, 4},
        {">=", OP_GE, 4}, {"<", OP_LT, 4},   {">", OP_GT, 4},  {"+", OP_ADD, 5}, {"-", OP_SUB, 5},
        {"*", OP_MUL, 6}, {"/", OP_DIV, 6},
    };
    size_t i;

    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        size_t n = strlen(ops[i].tok);
        if (strncmp(s, ops[i].tok, n) == 0) {
            *op = ops[i].op;
            *prec = ops[i].prec;
            return (int)n;
        }
    }
    return 0;
}

static int
parse_expr(struct parser *p, int minprec)
{
    if (parse_primary(p) != 0)
        return -1;
    for (;;) {
        enum op op;
        int prec, len;
        struct insn in;
        size_t at;
        skip_ws(p);
        len = binop(p->s + p->pos, &op, &prec);
        if (len == 0 || prec <= minprec)
            return 0;
        p->pos += (size_t)len;
        memset(&in, 0, sizeof(in));
        in.op = op;
        if (op == OP_AND || op == OP_OR) {
            /* left value stays on the stack; the jump skips the right side */
            at = p->n;
            emit(p, in);
            if (parse_expr(p, prec) != 0)
                return -1;
            p->code[at].jump = (uint32_t)p->n;
            continue;
        }
        if (parse_expr(p, prec) != 0)
            return -1;
        emit(p, in);
    }
}

/* ---- evaluation ----------------------------------------------------------- */

static double
eval(const struct meta *m, const uint32_t *hits)
{
    double st[VERDICT_MAX_STACK];
    size_t sp = 0, pc = 0;

    while (pc < m->ncode) {
        const struct insn *in = &m->code[pc];
        double a, b;
        switch (in->op) {
        case OP_NUM:
            if (sp < VERDICT_MAX_STACK)
                st[sp++] = in->num;
            break;
        case OP_RULE:
            if (sp < VERDICT_MAX_STACK)
                st[sp++] = (double)hits[in->rule];
            break;
        case OP_NOT:
            st[sp - 1] = st[sp - 1] == 0 ? 1 : 0;
            break;
        case OP_NEG:
            st[sp - 1] = -st[sp - 1];
            break;
        case OP_AND:
        case OP_OR: {
            /* Perl: a && b is a when a is false, else b; || the other way round */
            int take_left = in->op == OP_AND ? st[sp - 1] == 0 : st[sp - 1] != 0;
            if (take_left) {
                pc = in->jump;
                continue;
            }
            sp--;
            break;
        }
        default:
            b = st[--sp];
            a = st[sp - 1];
            switch (in->op) {
            case OP_MUL:
                a = a * b;
                break;
            case OP_DIV:
                a = b != 0 ? a / b : 0;
                break;
            case OP_ADD:
                a = a + b;
                break;
            case OP_SUB:
                a = a - b;
                break;
            case OP_LT:
                a = a < b;
                break;
            case OP_GT:
                a = a > b;
                break;
            case OP_LE:
                a = a <= b;
                break;
            case OP_GE:
                a = a >= b;
                break;
            case OP_EQ:
                a = a == b;
                break;
            case OP_NE:
                a = a != b;
                break;
            default:
                break;
            }
            st[sp - 1] = a;
        }
        pc++;
    }
    return sp > 0 ? st[sp - 1] : 0;
}

/* max_stack - the deepest stack the code can reach (so eval never overflows) */
static size_t
max_stack(const struct insn *code, size_t n)
{
    size_t i, sp = 0, max = 0;

    for (i = 0; i < n; i++) {
        if (code[i].op == OP_NUM || code[i].op == OP_RULE)
            sp++;
        else if (code[i].op != OP_NOT && code[i].op != OP_NEG && sp > 0)
            sp--;
        if (sp > max)
            max = sp;
    }
    return max;
}

/*
 * default_score - the loader fills in SpamAssassin's defaults (1.0, 0.01 for
 * T_ rules, negative for tflags nice) when a rule has no score line; a
 * __sub-rule scores nothing in the verdict.
 */
static double
default_score(const struct tm_rule *r)
{
    if (strncmp(r->name, "__", 2) == 0)
        return 0;
    return r->score[0];
}

#define KIND_ACTIVE 1u
#define KIND_SCORED 2u

/* kind_of - worked out once per rule at build (the name test per meta per
 * message was 1 % of a scan with SA's rules, perf) */
static unsigned
kind_of(const struct tm_scorer *s, size_t i)
{
    int sub = strncmp(s->rs->rules[i].name, "__", 2) == 0;

    return (s->scores[i] != 0 || sub ? KIND_ACTIVE : 0u) |
           (s->scores[i] != 0 && !sub ? KIND_SCORED : 0u);
}

/*
 * active - SpamAssassin drops the hit of a rule whose score is zero
 * (PerMsgStatus::got_hit), so metas see it as 0 too: "score X 0" disables X.
 * Sub-rules (__) always count.
 */
static int
active(const struct tm_scorer *s, size_t i)
{
    return (s->kind[i] & KIND_ACTIVE) != 0;
}

/* scored - a hit on rule i adds to the score (a __sub-rule or a zero score does not) */
static int
scored(const struct tm_scorer *s, size_t i)
{
    return (s->kind[i] & KIND_SCORED) != 0;
}

/* drop_inactive - SpamAssassin's got_hit: the hits of rules that are not active count as 0 */
static void
drop_inactive(const struct tm_scorer *s, struct tm_match_result *res)
{
    size_t i;

    for (i = 0; i < s->rs->n; i++)
        if (res->hits[i] && !active(s, i))
            res->hits[i] = 0;
}

/*
 * eval3 - eval() over values some of which are not known yet (unknown[r]:
 * rule r is 0 or 1), with intervals: 0 or 1 when every value the meta could
 * take is false or true, 2 when it depends on the unknown ones. A meta with
 * no unknown rule gets eval()'s answer. Where a && or || has a left side of
 * unknown truth the right side is evaluated too and the two are joined at
 * the jump's target.
 */
struct iv {
    double lo, hi;
    int nz; /* known not to be 0 (what || passes on from its left side) */
};

static int
truth3(struct iv v)
{
    if (v.lo == 0 && v.hi == 0)
        return 0;
    if (v.lo > 0 || v.hi < 0 || v.nz)
        return 1;
    return 2;
}

static struct iv
iv_join(struct iv a, struct iv b)
{
    struct iv r = {a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi,
                   truth3(a) == 1 && truth3(b) == 1};
    return r;
}

static struct iv
iv_cmp(int always, int never)
{
    struct iv r = {always ? 1 : 0, never ? 0 : 1, 0};
    return r;
}

static int
eval3(const struct meta *m, const uint32_t *hits, const uint8_t *unknown)
{
    struct iv st[VERDICT_MAX_STACK];
    struct {
        uint32_t target;
        struct iv left; /* what the left side gives when it decides the result */
    } pend[VERDICT_MAX_STACK];
    size_t sp = 0, np = 0, pc = 0;

    for (;;) {
        const struct insn *in;
        struct iv a, b;
        while (np > 0 && pend[np - 1].target == pc && sp > 0) {
            st[sp - 1] = iv_join(pend[np - 1].left, st[sp - 1]);
            np--;
        }
        if (pc >= m->ncode)
            break;
        in = &m->code[pc];
        switch (in->op) {
        case OP_NUM:
            if (sp < VERDICT_MAX_STACK)
                st[sp++] = (struct iv){in->num, in->num, 0};
            break;
        case OP_RULE:
            if (sp < VERDICT_MAX_STACK)
                st[sp++] = unknown[in->rule] ? (struct iv){0, 1, 0}
                                             : (struct iv){(double)hits[in->rule],
                                                           (double)hits[in->rule], 0};
            break;
        case OP_NOT: {
            int t = truth3(st[sp - 1]);
            st[sp - 1] = t == 2 ? (struct iv){0, 1, 0} : (struct iv){t ? 0 : 1, t ? 0 : 1, 0};
            break;
        }
        case OP_NEG:
            st[sp - 1] = (struct iv){-st[sp - 1].hi, -st[sp - 1].lo, st[sp - 1].nz};
            break;
        case OP_AND:
        case OP_OR: {
            int t = truth3(st[sp - 1]);
            int take_left = in->op == OP_AND ? t == 0 : t == 1;
            if (take_left) {
                pc = in->jump;
                continue;
            }
            if (t == 2) {
                if (np >= VERDICT_MAX_STACK)
                    return 2;
                pend[np].target = in->jump;
                /* && gives its left side only when that is false (0); || when true */
                pend[np].left = in->op == OP_AND ? (struct iv){0, 0, 0} : st[sp - 1];
                pend[np].left.nz = in->op == OP_OR;
                np++;
            }
            sp--;
            break;
        }
        default:
            b = st[--sp];
            a = st[sp - 1];
            switch (in->op) {
            case OP_MUL: {
                double p1 = a.lo * b.lo, p2 = a.lo * b.hi, p3 = a.hi * b.lo, p4 = a.hi * b.hi;
                a.lo = fmin(fmin(p1, p2), fmin(p3, p4));
                a.hi = fmax(fmax(p1, p2), fmax(p3, p4));
                a.nz = 0; /* a product of two non-zero doubles can underflow to 0 */
                break;
            }
            case OP_DIV:
                if (a.lo == a.hi && b.lo == b.hi)
                    a.lo = a.hi = b.lo != 0 ? a.lo / b.lo : 0;
                else
                    a = (struct iv){-HUGE_VAL, HUGE_VAL, 0};
                a.nz = 0;
                break;
            case OP_ADD:
                a = (struct iv){a.lo + b.lo, a.hi + b.hi, 0};
                break;
            case OP_SUB:
                a = (struct iv){a.lo - b.hi, a.hi - b.lo, 0};
                break;
            case OP_LT:
                a = iv_cmp(a.hi < b.lo, a.lo >= b.hi);
                break;
            case OP_GT:
                a = iv_cmp(a.lo > b.hi, a.hi <= b.lo);
                break;
            case OP_LE:
                a = iv_cmp(a.hi <= b.lo, a.lo > b.hi);
                break;
            case OP_GE:
                a = iv_cmp(a.lo >= b.hi, a.hi < b.lo);
                break;
            case OP_EQ:
            case OP_NE: {
                int same = a.lo == a.hi && b.lo == b.hi && a.lo == b.lo;
                int apart = a.hi < b.lo || a.lo > b.hi;
                a = in->op == OP_EQ ? iv_cmp(same, apart) : iv_cmp(apart, same);
                break;
            }
            default:
                break;
            }
            st[sp - 1] = a;
        }
        pc++;
    }
    return sp > 0 ? truth3(st[sp - 1]) : 0;
}

/*
 * confirm_deps - confirm every waiting rule that the value of meta rule
 * `rule` depends on through metas of unknown value
 */
static void
confirm_deps(const struct tm_scorer *s, size_t rule, uint8_t *unknown, uint8_t *seen,
             struct tm_match_result *res, tm_rc (*confirm)(void *ctx, size_t rule), void *ctx,
             tm_rc *rc)
{
    const struct meta *m;
    size_t k;

    if (seen[rule] || s->rule2meta[rule] < 0)
        return;
    seen[rule] = 1;
    m = &s->metas[s->rule2meta[rule]];
    for (k = 0; k < m->ncode && *rc == TM_OK; k++) {
        uint32_t r = m->code[k].rule;
        if (m->code[k].op != OP_RULE || !unknown[r])
            continue;
        if (res->pending[r]) {
            *rc = confirm(ctx, r);
            res->pending[r] = 0;
            unknown[r] = 0;
        } else {
            confirm_deps(s, r, unknown, seen, res, confirm, ctx, rc);
        }
    }
}

tm_rc
tm_verdict_resolve(const struct tm_scorer *s, struct tm_task *t, struct tm_match_result *res,
                   tm_rc (*confirm)(void *ctx, size_t rule), void *ctx)
{
    const struct tm_ruleset *rs = s->rs;
    uint8_t *unknown, *seen;
    size_t i;
    tm_rc rc = TM_OK;

    if (res->pending == NULL || res->skipped)
        return TM_OK;
    unknown = tm_arena_calloc(t->arena, rs->n ? rs->n : 1, 1);
    seen = tm_arena_calloc(t->arena, rs->n ? rs->n : 1, 1);
    if (unknown == NULL || seen == NULL)
        return TM_ENOMEM;
    drop_inactive(s, res);
    /*
     * One pass in evaluation order suffices: a meta eval3 decides keeps its
     * value whatever the waiting rules turn out to be; for one it cannot
     * decide, every waiting rule it reaches through undecided metas is
     * confirmed, after which its value is exact. Rules left waiting sit only
     * under decided metas, and count as no match.
     */
    for (i = 0; i < rs->n; i++)
        unknown[i] = res->pending[i] && !res->hits[i] && active(s, i);
    for (i = 0; i < s->nmetas && rc == TM_OK; i++) {
        const struct meta *m = &s->metas[i];
        int v;
        if (!m->ok || !active(s, m->rule))
            continue;
        v = m->may_wait ? eval3(m, res->hits, unknown) : eval(m, res->hits) != 0;
        if (v != 2) {
            res->hits[m->rule] = (uint32_t)v;
            continue;
        }
        unknown[m->rule] = 1;
        if (scored(s, m->rule)) /* a force_action counts only on a scored hit too */
            confirm_deps(s, m->rule, unknown, seen, res, confirm, ctx, &rc);
    }
    return rc;
}

/*
 * early_bounds - for tm_verdict_early: the least the rules decided after the
 * evals (regex, exists and meta rules) can add to a score, and the strongest
 * action a rule forces. A multiple rule scores once per hit, up to its
 * maxhits; without maxhits its count has no bound (1000 per paragraph, over
 * any number of paragraphs), so a negative one leaves no bound at all.
 */
static void
early_bounds(struct tm_scorer *s)
{
    size_t i;

    s->least_rest = 0;
    s->max_forced = -1;
    s->evals = tm_xcalloc(s->rs->n ? s->rs->n : 1, sizeof(*s->evals));
    for (i = 0; i < s->rs->n; i++) {
        const struct tm_rule *r = &s->rs->rules[i];
        if (!scored(s, i) || r->unsupported)
            continue;
        if (s->forced[i] > s->max_forced)
            s->max_forced = s->forced[i];
        if (r->eval != NULL)
            s->evals[s->nevals++] = (uint32_t)i;
        if (r->eval != NULL || s->scores[i] >= 0)
            continue;
        if ((r->tflags & TM_TF_MULTIPLE) && r->maxhits == 0)
            s->least_rest = -HUGE_VAL;
        else
            s->least_rest += s->scores[i] * ((r->tflags & TM_TF_MULTIPLE) ? r->maxhits : 1);
    }
}

/* threshold_of - the score at which action a starts, or < 0 when it has none */
static double
threshold_of(const struct tm_ruleset *rs, const struct tm_verdict_cfg *cfg, int a)
{
    double req;

    if (a != TM_ACT_ADD_HEADER)
        return cfg->threshold[a];
    req = cfg->required_from_rules && rs->has_required_score ? rs->required_score
                                                             : cfg->threshold[TM_ACT_ADD_HEADER];
    return req <= 0 ? 5.0 : req;
}

const char *
tm_verdict_early(const struct tm_scorer *s, struct tm_task *t, const struct tm_match_result *res,
                 const struct tm_verdict_cfg *cfg)
{
    const struct tm_ruleset *rs = s->rs;
    double known = 0;
    int a, act = TM_ACT_NONE, best = s->max_forced;
    const char *by = NULL;
    size_t k;
    char buf[200];

    for (a = TM_ACT_ADD_HEADER; a < TM_ACT__COUNT; a++)
        if (threshold_of(rs, cfg, a) >= 0 && a > best)
            best = a;
    if (best < TM_ACT_REJECT)
        return NULL;
    for (k = 0; k < s->nevals; k++) {
        uint32_t i = s->evals[k];
        const struct tm_rule *r = &rs->rules[i];
        if (!res->hits[i])
            continue;
        known += s->scores[i] * ((r->tflags & TM_TF_MULTIPLE) ? res->hits[i] : 1);
        if (s->forced[i] > act) {
            act = s->forced[i];
            by = r->name;
        }
    }
    for (a = TM_ACT_ADD_HEADER; a < TM_ACT__COUNT; a++) {
        double th = threshold_of(rs, cfg, a);
        if (th >= 0 && known + s->least_rest >= th && a > act) {
            act = a;
            by = NULL;
        }
    }
    if (act < best)
        return NULL;
    if (by != NULL)
        snprintf(buf, sizeof(buf), "%s forces %s", by, tm_action_name((enum tm_action)act));
    else
        snprintf(buf, sizeof(buf), "score %.2f, at least %.2f whatever the other rules add: %s",
                 known, known + s->least_rest, tm_action_name((enum tm_action)act));
    return tm_arena_strdup(t->arena, buf);
}

tm_rc
tm_scorer_build(const struct tm_ruleset *rs, const uint8_t *runnable, struct tm_scorer **out)
{
    struct tm_scorer *s = tm_xcalloc(1, sizeof(*s));
    struct meta *all;
    uint32_t **deps;
    size_t *ndeps, nall = 0, i, j, placed = 0;
    uint8_t *state; /* 0 = not placed, 1 = placed */

    s->rs = rs;
    s->rule2meta = tm_xcalloc(rs->n ? rs->n : 1, sizeof(*s->rule2meta));
    s->scores = tm_xcalloc(rs->n ? rs->n : 1, sizeof(*s->scores));
    s->forced = tm_xcalloc(rs->n ? rs->n : 1, sizeof(*s->forced));
    s->kind = tm_xcalloc(rs->n ? rs->n : 1, sizeof(*s->kind));
    all = tm_xcalloc(rs->n ? rs->n : 1, sizeof(*all));
    deps = tm_xcalloc(rs->n ? rs->n : 1, sizeof(*deps));
    ndeps = tm_xcalloc(rs->n ? rs->n : 1, sizeof(*ndeps));
    for (i = 0; i < rs->n; i++) {
        const struct tm_rule *r = &rs->rules[i];
        struct parser p;
        s->rule2meta[i] = -1;
        s->scores[i] = default_score(r);
        s->kind[i] = (uint8_t)kind_of(s, i);
        s->forced[i] = (int8_t)(r->force_action != NULL ? tm_action_parse(r->force_action) : -1);
        if (r->type != TM_RULE_META || r->unsupported || r->meta == NULL)
            continue;
        memset(&p, 0, sizeof(p));
        p.rs = rs;
        p.s = r->meta;
        all[nall].rule = (uint32_t)i;
        if (parse_expr(&p, 0) == 0) {
            skip_ws(&p);
            if (p.s[p.pos] != '\0')
                snprintf(p.err, sizeof(p.err), "unexpected '%c' at column %zu", p.s[p.pos],
                         p.pos + 1);
        }
        if (p.err[0] == '\0' && max_stack(p.code, p.n) >= VERDICT_MAX_STACK)
            snprintf(p.err, sizeof(p.err), "expression too large");
        all[nall].code = p.code;
        all[nall].ncode = p.n;
        all[nall].ok = p.err[0] == '\0';
        if (!all[nall].ok) {
            char buf[260];
            snprintf(buf, sizeof(buf), "meta does not parse: %s", p.err);
            all[nall].problem = tm_xstrdup(buf);
        }
        deps[nall] = p.deps;
        ndeps[nall] = p.ndeps;
        nall++;
    }
    /* Order metas so each comes after the metas it uses (Kahn-style passes). */
    s->metas = tm_xcalloc(nall ? nall : 1, sizeof(*s->metas));
    state = tm_xcalloc(nall ? nall : 1, 1);
    for (i = 0; i < nall; i++)
        s->rule2meta[all[i].rule] = (int32_t)i; /* temporary: index into all */
    while (placed < nall) {
        size_t before = placed;
        for (i = 0; i < nall; i++) {
            int ready = 1;
            if (state[i])
                continue;
            for (j = 0; j < ndeps[i] && ready; j++) {
                int32_t d = s->rule2meta[deps[i][j]];
                if (d >= 0 && !state[d])
                    ready = 0;
            }
            if (ready) {
                s->metas[placed++] = all[i];
                state[i] = 1;
            }
        }
        if (placed == before) {
            /* the rest sit on or behind a cycle */
            for (i = 0; i < nall; i++)
                if (!state[i]) {
                    all[i].ok = 0;
                    tm_free(all[i].problem);
                    all[i].problem = tm_xstrdup("meta is part of a dependency cycle");
                    s->metas[placed++] = all[i];
                    state[i] = 1;
                }
        }
    }
    s->nmetas = nall;
    for (i = 0; i < rs->n; i++)
        s->rule2meta[i] = -1;
    for (i = 0; i < nall; i++)
        s->rule2meta[s->metas[i].rule] = (int32_t)i;
    /* In evaluation order, so a meta's meta dependencies are already judged. */
    for (i = 0; i < nall; i++) {
        struct meta *m = &s->metas[i];
        size_t k;
        if (!m->ok)
            continue;
        for (k = 0; k < m->ncode; k++) {
            uint32_t d;
            int32_t dm;
            const char *bad = NULL;
            if (m->code[k].op != OP_RULE)
                continue;
            d = m->code[k].rule;
            dm = s->rule2meta[d];
            if (rs->rules[d].type == TM_RULE_META && dm < 0)
                bad = "unsupported meta";
            else if (dm >= 0 && !s->metas[dm].ok)
                bad = "meta that cannot run";
            else if (rs->rules[d].type != TM_RULE_META && (runnable == NULL || !runnable[d]))
                bad = "rule that cannot run";
            if (bad != NULL) {
                char buf[300];
                snprintf(buf, sizeof(buf), "depends on %s %s", bad, rs->rules[d].name);
                m->ok = 0;
                m->problem = tm_xstrdup(buf);
                break;
            }
            if ((dm >= 0 && s->metas[dm].may_wait) || (dm < 0 && runnable[d] == 2))
                m->may_wait = 1;
        }
    }
    for (i = 0; i < nall; i++)
        tm_free(deps[i]);
    tm_free(deps);
    tm_free(ndeps);
    tm_free(state);
    tm_free(all);
    early_bounds(s);
    *out = s;
    return TM_OK;
}

void
tm_scorer_free(struct tm_scorer *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->nmetas; i++) {
        tm_free(s->metas[i].code);
        tm_free(s->metas[i].problem);
    }
    tm_free(s->metas);
    tm_free(s->rule2meta);
    tm_free(s->scores);
    tm_free(s->forced);
    tm_free(s->kind);
    tm_free(s->evals);
    tm_free(s);
}

const char *
tm_scorer_meta_problem(const struct tm_scorer *s, size_t rule)
{
    int32_t m = s->rule2meta[rule];

    return m >= 0 && !s->metas[m].ok ? s->metas[m].problem : NULL;
}

double
tm_scorer_rule_score(const struct tm_scorer *s, size_t rule)
{
    return s->scores[rule];
}

static int
cmp_sym(const void *a, const void *b)
{
    const struct tm_symbol *x = a, *y = b;

    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return strcmp(x->name, y->name);
}

void
tm_verdict_reply(struct tm_verdict *v)
{
    /* SMTP replies that name no rule, signature or component (RFC 3463 codes) */
    if (v->action == TM_ACT_REJECT)
        v->smtp_reply = "550 5.7.1 Message rejected by content policy";
    else if (v->action == TM_ACT_SOFT_REJECT)
        v->smtp_reply = "451 4.7.1 Message not accepted now, try again later";
    else
        v->smtp_reply = NULL;
}

tm_rc
tm_verdict_force(struct tm_task *t, enum tm_action action, const char *name,
                 const char *description, const char *const *options, size_t noptions,
                 const char *reply, struct tm_verdict *v)
{
    struct tm_symbol *syms = tm_arena_calloc(t->arena, v->n + 1, sizeof(*syms));
    struct tm_symbol *y;

    if (syms == NULL)
        return TM_ENOMEM;
    if (v->n > 0)
        memcpy(syms, v->syms, v->n * sizeof(*syms));
    y = &syms[v->n];
    y->name = name;
    y->score = 0;
    y->description = description;
    y->rule = TM_SYM_NO_RULE;
    y->count = 1;
    y->options = options;
    y->noptions = noptions;
    v->syms = syms;
    v->n++;
    /* the latest, most specific reason speaks to the client (no action forces nothing) */
    if (action > v->action || (action == v->action && action != TM_ACT_NONE)) {
        v->action = action;
        v->forced_by = name;
    }
    tm_verdict_reply(v);
    if (reply != NULL && v->forced_by == name)
        v->smtp_reply = reply;
    return TM_OK;
}

tm_rc
tm_verdict_undecided(struct tm_task *t, const struct tm_verdict_cfg *cfg, const char *name,
                     const char *description, const char *const *options, size_t noptions,
                     struct tm_verdict *v)
{
    return tm_verdict_force(t, cfg->undecided, name, description, options, noptions, NULL, v);
}

tm_rc
tm_verdict_compute(const struct tm_scorer *s, struct tm_task *t, struct tm_match_result *res,
                   const struct tm_verdict_cfg *cfg, struct tm_verdict *out)
{
    const struct tm_ruleset *rs = s->rs;
    size_t i, n = 0, nall = 0;
    int a;

    memset(out, 0, sizeof(*out));
    drop_inactive(s, res);
    for (i = 0; i < s->nmetas && !res->skipped; i++) {
        const struct meta *m = &s->metas[i];
        if (m->ok && active(s, m->rule))
            res->hits[m->rule] = eval(m, res->hits) != 0 ? 1 : 0;
    }
    for (i = 0; i < rs->n; i++)
        if (res->hits[i]) {
            nall++;
            n += (size_t)scored(s, i);
        }
    out->syms = tm_arena_calloc(t->arena, n ? n : 1, sizeof(*out->syms));
    out->all_hits = tm_arena_calloc(t->arena, nall ? nall : 1, sizeof(*out->all_hits));
    out->all_rules = tm_arena_calloc(t->arena, nall ? nall : 1, sizeof(*out->all_rules));
    out->all_counts = tm_arena_calloc(t->arena, nall ? nall : 1, sizeof(*out->all_counts));
    if (out->syms == NULL || out->all_hits == NULL || out->all_rules == NULL ||
        out->all_counts == NULL)
        return TM_ENOMEM;
    for (i = 0; i < rs->n; i++) {
        const struct tm_rule *r = &rs->rules[i];
        struct tm_symbol *y;
        if (!res->hits[i])
            continue;
        out->all_rules[out->nall] = (uint32_t)i;
        out->all_counts[out->nall] = res->hits[i];
        out->all_hits[out->nall++] = r->name;
        if (!scored(s, i))
            continue;
        y = &out->syms[out->n++];
        y->name = r->name;
        y->score = s->scores[i];
        /* multiple rules score once per hit, as SpamAssassin does */
        if (r->tflags & TM_TF_MULTIPLE)
            y->score *= res->hits[i];
        y->description = r->describe;
        y->rule = (uint32_t)i;
        y->count = res->hits[i];
        y->where = res->where != NULL && res->where[i].target != NULL ? &res->where[i] : NULL;
        if (res->opts != NULL) {
            y->options = res->opts[i].v;
            y->noptions = res->opts[i].n;
        }
        out->score += y->score;
    }
    qsort(out->syms, out->n, sizeof(*out->syms), cmp_sym);
    out->required = threshold_of(rs, cfg, TM_ACT_ADD_HEADER);
    /* Round first: a sum shown as 5.0 must not miss a 5.0 threshold by 1e-15. */
    out->score = round(out->score * 1000) / 1000;
    out->action = TM_ACT_NONE;
    for (a = TM_ACT_ADD_HEADER; a < TM_ACT__COUNT; a++) {
        double th = threshold_of(rs, cfg, a);
        if (th >= 0 && out->score >= th)
            out->action = (enum tm_action)a;
    }
    /* force_action: a scored hit on such a rule sets at least its action */
    for (i = 0; i < out->n; i++) {
        int fa = s->forced[out->syms[i].rule];
        if (fa > (int)out->action) {
            out->action = (enum tm_action)fa;
            out->forced_by = out->syms[i].name;
        }
    }
    tm_verdict_reply(out);
    return TM_OK;
}
