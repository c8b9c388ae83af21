/* context.c -- contextual novelty (the Contextual Anomaly Detector of
 * Mikhail Smirnov, clean-room; see context.h for the model).
 *
 * Layout, chosen to keep one model small (thousands of series each run one).
 * A fact set is a mask of sensor facts (2*bits of them, bit 2b + v: bit b
 * of the quantised value is v) and a sorted list of neuron facts (context
 * ids, 16-bit); in the model's fact order the sensor facts come first.  A
 * right half only ever holds sensor facts, so it is a mask stored in the
 * context itself.  Left halves ("semi-contexts", shared by the contexts
 * that start with them) keep their neuron facts in one pool, are found
 * through an open-addressing table of 16-bit ids, and chain their contexts
 * in creation order through the contexts' `next` field.  A context is 12
 * bytes: 3 links and 3 counters of 16 bits; the first counter that would
 * pass 16 bits brings a side array of high halves (6 bytes a context) that
 * lives until the next restart, so the arithmetic is 32-bit as before.  A
 * left half is 12 bytes plus 2 per neuron fact.  Every array is flat (no
 * per-fact or per-semi allocation), grows by half when full, and is kept
 * across a memory restart, which only resets the counts: a model holds at
 * most its peak, and a restart neither allocates nor fragments.
 *
 * A step walks the contexts of the left halves all of whose facts matched
 * the previous left side, once: it counts them, keeps the most activated
 * as the next neuron facts and takes, from their counts before this step,
 * the prediction the step is scored against.  Which halves those are, a
 * scan of all of them after the step tells (sensor mask, then a merge of
 * the sorted neuron facts).  Only a step whose transition is new needs the
 * partial matches, and only of the halves holding a whole transition (a
 * flag in `head`): it crosses them with the previous left side (nearly
 * every half shares a sensor fact with any set, so an inverted index would
 * visit them all too) and orders them the way an inverted index walk
 * would: by the position in the set of their first present fact, then by
 * id.  That order decides the order, hence the ids, of derived contexts. */
#include "anomaly/context.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_FACTS 64     /* facts in one left side: bits + max_active, capped */
/* A value beyond the learnt range by more than this share of its width
 * restarts the memory on the wider range (measured on NAB: 0.5 beats 1, 0.25
 * and 0.1; 0, a restart on any growth, loses the artificial series). */
#define S_REGROW 0.5
/* Steps after a restart during which the memory learns but scores 0: an
 * empty memory finds everything new, which says nothing about the series
 * (measured on NAB, standard profile: 0 steps 64.6, 10-30 steps 65.3-65.9,
 * 50 steps 64.3). */
#define S_RELEARN 32
/* Ids (contexts, left halves) are 15-bit; 0x7fff ends a chain and bit 15
 * of `next` marks a context while a step counts distinct ones.  One step at
 * most doubles the contexts (+1), so max_contexts is capped at a bound that
 * keeps every id in range. */
#define S_NONE 0x7fffu
#define S_MARK 0x8000u
#define S_MAX_IDS 0x7ffe
#define S_MAX_CONTEXTS 16000
/* bit 15 of a context's `left`: seen as a whole transition; of a left
 * half's `head`: one of its contexts was */
#define S_ZERO 0x8000u

typedef struct {
    uint32_t off;          /* neuron facts: pool[off .. off + nn - 1], sorted */
    uint16_t head;         /* first context, S_NONE = none | S_ZERO */
    uint16_t sens;         /* sensor facts */
    uint8_t nn, len;       /* neuron facts; all facts */
    uint8_t cnt, first;    /* last crossing: facts present, position of the first */
} s_left_t;

typedef struct {
    unsigned sens;
    int nn;
    uint16_t neu[S_MAX_FACTS];
} s_facts_t;

/* Counters of a context: how many facts its right half offered when its
 * left half matched, how many of them came, how often all of them did. */
enum { S_TOTAL, S_MATCHED, S_ACT, S_NCNT };

typedef struct {
    uint16_t left;         /* left half id | S_ZERO */
    uint16_t right;        /* right half: mask of sensor facts */
    uint16_t next;         /* next context of the same left half | S_MARK */
    uint16_t lo[S_NCNT];   /* counters, low 16 bits */
} s_ctx_t;

struct gh_context {
    gh_context_cfg_t cfg;
    int maxbin;
    double lo, hi;
    uint64_t n, restarts;
    uint64_t since;        /* steps since the last restart */
    size_t bytes;          /* allocated by the arrays below */
    s_left_t *left;        /* left halves */
    int nleft, cleft;
    /* left halves to walk: after a step those all of whose facts are in
     * the next left side (s_full); in a step that derives contexts, every
     * one crossed that can take part (s_cross) */
    uint16_t *touched;
    int ntouched, ctouched;
    int ncross;            /* left halves when s_full last ran */
    uint16_t *pool;        /* neuron facts of the left halves */
    int npool, cpool;
    uint16_t *tab;         /* left id + 1, 0 = empty; ctab a power of 2 */
    int ctab;
    s_ctx_t *ctx;
    int nctx, cctx;
    /* high 16 bits of the counters, S_NCNT per context: allocated when a
     * counter first passes 16 bits, freed at the next restart */
    uint16_t *cnt_hi;
    int ccnt_hi;
    s_facts_t lprev;       /* the previous left side */
    int haveprev;
    uint16_t *ids;         /* scratch: context ids */
    int cids;
    uint32_t *pot;         /* scratch: left id | right mask << 16 */
    int cpot;
};

/* Array p (capacity *cap elements of `size` bytes) with room for `need`:
 * grown by half, at least to `need` and to `first`; `soft` > 0 caps a
 * growth that passes it at soft (the array's usual bound), and past it
 * grows by an eighth.  Returns the array, maybe moved, or NULL when out of
 * memory (p and *cap unchanged). */
static void *s_grow(gh_context_t *c, void *p, int *cap, int need, size_t size, int first, int soft)
{
    if (need <= *cap) return p;
    int nc = *cap + *cap / 2;
    if (nc < first) nc = first;
    if (soft > 0 && nc > soft) nc = *cap < soft ? soft : *cap + *cap / 8;
    if (nc < need) nc = need;
    void *q = realloc(p, (size_t)nc * size);
    if (!q) return NULL;
    c->bytes += (size_t)(nc - *cap) * size;
    *cap = nc;
    return q;
}

/* c->a grown to hold `need` (s_grow); -1 from the calling function when
 * out of memory. */
#define S_GROW(c, a, cap, need, first, soft) do { \
        if ((need) > (c)->cap) { \
            void *s_q_ = s_grow((c), (c)->a, &(c)->cap, (need), sizeof *(c)->a, (first), (soft)); \
            if (!s_q_) return -1; \
            (c)->a = s_q_; \
        } \
    } while (0)

/* Bits set in a 16-bit mask (a table: no popcount instruction at the
 * default -march). */
static const uint8_t s_pop8[256] = {
#define S_P2(n) n, n + 1, n + 1, n + 2
#define S_P4(n) S_P2(n), S_P2(n + 1), S_P2(n + 1), S_P2(n + 2)
#define S_P6(n) S_P4(n), S_P4(n + 1), S_P4(n + 1), S_P4(n + 2)
    S_P6(0), S_P6(1), S_P6(1), S_P6(2)
};

static inline int s_pop(unsigned m) { return s_pop8[m & 255] + s_pop8[(m >> 8) & 255]; }

static uint64_t s_hash(unsigned sens, const uint16_t *neu, int nn)
{
    uint64_t h = 1469598103934665603ull ^ sens;
    for (int i = 0; i < nn; i++) {
        h ^= neu[i];
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    return h ^ (uint64_t)nn;
}

static int s_rehash(gh_context_t *c, int cap)
{
    uint16_t *t = calloc((size_t)cap, sizeof *t);
    if (!t) return -1;
    for (int i = 0; i < c->nleft; i++) {
        const s_left_t *e = &c->left[i];
        size_t j = (size_t)(s_hash(e->sens, c->pool + e->off, e->nn) & (uint64_t)(cap - 1));
        while (t[j]) j = (j + 1) & (size_t)(cap - 1);
        t[j] = (uint16_t)(i + 1);
    }
    free(c->tab);
    c->bytes += (size_t)(cap - c->ctab) * sizeof *t;
    c->tab = t;
    c->ctab = cap;
    return 0;
}

/* Id of the left half with facts f, created when absent.  -1 when out of
 * memory or ids. */
static int s_left_get(gh_context_t *c, const s_facts_t *f)
{
    int n = f->nn;
    /* load at most 3/4 */
    if (4 * (c->nleft + 1) > 3 * c->ctab && s_rehash(c, c->ctab ? 2 * c->ctab : 64) != 0) return -1;
    uint64_t h = s_hash(f->sens, f->neu, n);
    size_t j = (size_t)(h & (uint64_t)(c->ctab - 1));
    for (; c->tab[j]; j = (j + 1) & (size_t)(c->ctab - 1)) {
        const s_left_t *e = &c->left[c->tab[j] - 1];
        if (e->sens == f->sens && e->nn == n
            && (n == 0 || !memcmp(c->pool + e->off, f->neu, (size_t)n * sizeof *f->neu)))
            return c->tab[j] - 1;
    }
    if (c->nleft >= S_MAX_IDS) return -1;
    S_GROW(c, left, cleft, c->nleft + 1, 64, 0);
    S_GROW(c, touched, ctouched, c->cleft, 0, 0);
    S_GROW(c, pool, cpool, c->npool + n, 256, 0);
    int id = c->nleft++;
    s_left_t *e = &c->left[id];
    e->off = (uint32_t)c->npool;
    e->sens = (uint16_t)f->sens;
    e->nn = (uint8_t)n;
    e->len = (uint8_t)(s_pop(f->sens) + n);
    e->cnt = 0;
    e->head = S_NONE;
    if (n > 0) memcpy(c->pool + c->npool, f->neu, (size_t)n * sizeof *f->neu);   /* pool may be NULL */
    c->npool += n;
    c->tab[j] = (uint16_t)(id + 1);
    return id;
}

/* A fact set to cross the left halves with: q, its sensor facts counted
 * and its neuron facts hashed into 64 bits (most facts of a half miss
 * them all, which one bit test tells). */
typedef struct {
    const s_facts_t *q;
    int nsf;
    uint64_t bloom;
} s_query_t;

/* Facts of left half e present in the query; *first = the position in q,
 * in fact order, of the first of them (-1: none). */
static int s_match(const gh_context_t *c, const s_left_t *e, const s_query_t *qq, int *first)
{
    const s_facts_t *q = qq->q;
    unsigned m = e->sens & q->sens;
    int k = s_pop(m);
    /* q holds one sensor fact per bit position b (fact 2b or 2b+1), in
     * that order: fact x is at position x / 2 */
    *first = m ? __builtin_ctz(m) / 2 : -1;
    const uint16_t *a = e->nn > 0 ? c->pool + e->off : NULL;   /* pool may be NULL */
    for (int i = 0; i < e->nn; i++) {
        if (!((qq->bloom >> (a[i] & 63)) & 1)) continue;
        for (int j = 0; j < q->nn; j++)
            if (q->neu[j] == a[i]) {
                /* both sorted: the first found is the first in q */
                if (*first < 0) *first = qq->nsf + j;
                k++;
                break;
            }
    }
    return k;
}

/* List in `touched`, by id, the left halves all of whose facts are in q
 * (the next left side): the ones the next step selects.  Partial matches
 * wait for a step that derives contexts (s_cross).  A left half holds at
 * least one fact (a previous left side, or a non-empty overlap with one),
 * so these are exactly the halves with every fact and some present. */
static void s_full(gh_context_t *c, const s_facts_t *q)
{
    uint64_t bloom = 0;
    for (int j = 0; j < q->nn; j++) bloom |= 1ull << (q->neu[j] & 63);
    unsigned out = ~q->sens;
    int nt = 0;
    for (int i = 0; i < c->nleft; i++) {
        const s_left_t *e = &c->left[i];
        if ((e->sens & out) || e->nn > q->nn) continue;
        const uint16_t *a = e->nn > 0 ? c->pool + e->off : NULL;   /* pool may be NULL */
        int k = 0;
        /* both sorted and without repeats: one merge */
        for (int j = 0; k < e->nn; k++, j++) {
            if (!((bloom >> (a[k] & 63)) & 1)) break;
            while (j < q->nn && q->neu[j] < a[k]) j++;
            if (j == q->nn || q->neu[j] != a[k]) break;
        }
        if (k == e->nn) c->touched[nt++] = (uint16_t)i;
    }
    c->ntouched = nt;
    c->ncross = c->nleft;
}

/* List in `touched` the left halves a new transition derives contexts
 * from: those s_full saw with a whole transition among their contexts and
 * some of their facts in q (the left side s_full was given: its sensor
 * facts one per bit position), at most max_left.  Their cnt = the facts
 * present.  The order is the one an inverted-index walk would have had:
 * by the position in q of their first present fact, then by id; the ids
 * of the derived contexts follow it. */
static void s_cross(gh_context_t *c, const s_facts_t *q)
{
    s_query_t qq = { q, c->cfg.bits, 0 };
    for (int j = 0; j < q->nn; j++) qq.bloom |= 1ull << (q->neu[j] & 63);
    int start[S_MAX_FACTS + 1] = { 0 };
    int first;
    for (int i = 0; i < c->ncross; i++) {
        s_left_t *e = &c->left[i];
        e->cnt = 0;   /* out of this step */
        if (!(e->head & S_ZERO)) continue;
        int k = s_match(c, e, &qq, &first);
        if (k > 0 && k <= c->cfg.max_left) {
            e->cnt = (uint8_t)k;
            e->first = (uint8_t)first;
            start[first + 1]++;
        }
    }
    for (int p = 1; p <= S_MAX_FACTS; p++) start[p] += start[p - 1];
    for (int i = 0; i < c->ncross; i++) {
        const s_left_t *e = &c->left[i];
        if (e->cnt) c->touched[start[e->first]++] = (uint16_t)i;
    }
    c->ntouched = start[S_MAX_FACTS];
}

/* Intersection of left half e's facts with q into out. */
static void s_inter(const gh_context_t *c, const s_left_t *e, const s_facts_t *q, s_facts_t *out)
{
    const uint16_t *a = e->nn > 0 ? c->pool + e->off : NULL;   /* pool may be NULL */
    int i = 0, j = 0, k = 0;
    while (i < e->nn && j < q->nn) {
        if (a[i] < q->neu[j]) i++;
        else if (a[i] > q->neu[j]) j++;
        else { out->neu[k++] = a[i]; i++; j++; }
    }
    out->nn = k;
    out->sens = e->sens & q->sens;
}

static inline uint32_t s_cnt(const gh_context_t *c, int id, int k)
{
    uint32_t v = c->ctx[id].lo[k];
    return c->cnt_hi ? v | (uint32_t)c->cnt_hi[S_NCNT * id + k] << 16 : v;
}

/* Make room for the high halves of the counters (zero for the contexts
 * so far).  0, or -1 when out of memory. */
static int s_hi_grow(gh_context_t *c)
{
    int old = c->ccnt_hi;
    if (c->cctx <= old) return 0;
    uint16_t *q = s_grow(c, c->cnt_hi, &c->ccnt_hi, c->cctx, S_NCNT * sizeof *c->cnt_hi, 0, 0);
    if (!q) return -1;
    c->cnt_hi = q;
    memset(c->cnt_hi + S_NCNT * old, 0, (size_t)(c->ccnt_hi - old) * S_NCNT * sizeof *c->cnt_hi);
    return 0;
}

/* A selection of context id: its counters grow by (total, matched, act)
 * in 32-bit arithmetic, as if they had never been narrow.  0, or -1 when
 * out of memory. */
static inline int s_count(gh_context_t *c, int id, uint32_t total, uint32_t matched, uint32_t act)
{
    uint16_t *lo = c->ctx[id].lo;
    if (!c->cnt_hi) {
        uint32_t t = lo[S_TOTAL] + total, m = lo[S_MATCHED] + matched, a = lo[S_ACT] + act;
        if ((t | m | a) <= 0xffff) {
            lo[S_TOTAL] = (uint16_t)t;
            lo[S_MATCHED] = (uint16_t)m;
            lo[S_ACT] = (uint16_t)a;
            return 0;
        }
        if (s_hi_grow(c) != 0) return -1;
    }
    uint16_t *hi = c->cnt_hi + S_NCNT * id;
    uint32_t d[S_NCNT] = { total, matched, act };
    for (int k = 0; k < S_NCNT; k++) {
        uint32_t v = ((uint32_t)hi[k] << 16 | lo[k]) + d[k];
        lo[k] = (uint16_t)v;
        hi[k] = (uint16_t)(v >> 16);
    }
    return 0;
}

/* Context (left half l, right mask r), created when absent (*fresh = 1);
 * -1 when out of memory or ids. */
static int s_ctx_in(gh_context_t *c, int l, unsigned r, int *fresh)
{
    *fresh = 0;
    int tail = -1;         /* last context of l; -1 = none */
    for (int id = c->left[l].head & S_NONE; id != S_NONE; id = c->ctx[id].next & S_NONE) {
        if (c->ctx[id].right == r) return id;
        tail = id;
    }
    if (c->nctx >= S_MAX_IDS) return -1;
    if (c->nctx == c->cctx) {
        /* not far past max_contexts: the memory restarts there, only one
         * step's new contexts can overshoot it */
        S_GROW(c, ctx, cctx, c->nctx + 1, 256, c->cfg.max_contexts + 64);
    }
    if (c->cnt_hi && c->nctx >= c->ccnt_hi && s_hi_grow(c) != 0) return -1;
    int id = c->nctx++;
    /* linked after the growth: the arrays may have moved */
    if (tail < 0) c->left[l].head = (uint16_t)((c->left[l].head & S_ZERO) | id);
    else c->ctx[tail].next = (uint16_t)((c->ctx[tail].next & S_MARK) | id);
    c->ctx[id].left = (uint16_t)l;
    c->ctx[id].right = (uint16_t)r;
    c->ctx[id].next = S_NONE;
    memset(c->ctx[id].lo, 0, sizeof c->ctx[id].lo);
    if (c->cnt_hi) memset(c->cnt_hi + S_NCNT * id, 0, S_NCNT * sizeof *c->cnt_hi);
    *fresh = 1;
    return id;
}

/* Context (left facts lf, right mask r): s_ctx_in of lf's left half. */
static int s_ctx_get(gh_context_t *c, const s_facts_t *lf, unsigned r, int *fresh)
{
    *fresh = 0;
    int l = s_left_get(c, lf);
    return l < 0 ? -1 : s_ctx_in(c, l, r, fresh);
}

/* Empty memory; the arrays keep their capacity. */
static void s_reset(gh_context_t *c)
{
    c->nleft = c->ntouched = c->ncross = c->npool = c->nctx = 0;
    if (c->cnt_hi) {
        /* back to narrow counters */
        free(c->cnt_hi);
        c->cnt_hi = NULL;
        c->bytes -= (size_t)c->ccnt_hi * S_NCNT * sizeof *c->cnt_hi;
        c->ccnt_hi = 0;
    }
    if (c->tab) memset(c->tab, 0, (size_t)c->ctab * sizeof *c->tab);
    c->haveprev = 0;
    c->since = 0;
}

void gh_context_defaults(gh_context_cfg_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->bits = 3;
    cfg->max_left = 7;
    cfg->max_active = 5;
    cfg->max_contexts = 2048;
}

gh_context_t *gh_context_new(const gh_context_cfg_t *cfg)
{
    gh_context_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    gh_context_defaults(&c->cfg);
    if (cfg) {
        if (cfg->bits > 0) c->cfg.bits = cfg->bits > 8 ? 8 : cfg->bits;
        if (cfg->max_left > 0) c->cfg.max_left = cfg->max_left;
        if (cfg->max_active > 0) c->cfg.max_active = cfg->max_active;
        if (cfg->max_contexts > 0)
            c->cfg.max_contexts = cfg->max_contexts > S_MAX_CONTEXTS ? S_MAX_CONTEXTS : cfg->max_contexts;
    }
    if (c->cfg.max_active > S_MAX_FACTS - c->cfg.bits) c->cfg.max_active = S_MAX_FACTS - c->cfg.bits;
    c->maxbin = (1 << c->cfg.bits) - 1;
    return c;
}

void gh_context_destroy(gh_context_t **cp)
{
    if (!cp || !*cp) return;
    gh_context_t *c = *cp;
    free(c->left);
    free(c->touched);
    free(c->pool);
    free(c->tab);
    free(c->ctx);
    free(c->cnt_hi);
    free(c->ids);
    free(c->pot);
    free(c);
    *cp = NULL;
}

uint64_t gh_context_restarts(const gh_context_t *c) { return c->restarts; }

size_t gh_context_bytes(const gh_context_t *c) { return sizeof *c + c->bytes; }

/* One step on the sensor facts as the mask sm; returns the score, or -1
 * when out of memory (the caller restarts). */
static double s_step_facts(gh_context_t *c, unsigned sm)
{
    int fresh;

    /* the whole transition as a zero-level context */
    int newctx = -1, newflag = 0;
    if (c->haveprev) {
        int id = s_ctx_get(c, &c->lprev, sm, &fresh);
        if (id < 0) return -1;
        c->ctx[id].left |= S_ZERO;
        c->left[c->ctx[id].left & S_NONE].head |= S_ZERO;
        if (fresh) { newflag = 1; newctx = id; }
    }

    /* right halves matching now, of the left halves all of whose facts
     * matched the previous step (touched, listed by s_full) */
    int selected = 0, nact = 0, npot = 0;
    /* the most activated of the contexts all of whose right half came,
     * best first, as (activation << 16 | 0xffff - id): ties go to the
     * older context */
    uint64_t top[S_MAX_FACTS];
    int ntop = 0, kmax = c->cfg.max_active;
    /* the prediction of this step: the right halves of the selected
     * contexts with the highest share of right facts matched so far (their
     * counts before this step's) */
    double wmax = 0;
    unsigned pred = 0;
    /* While the counters are narrow (all below 2^16 when the step starts;
     * each context is read before it is counted), the shares are compared
     * as fractions: matched <= total, so two different shares differ by
     * more than 2^-32, far above the doubles' rounding, and equal ones
     * divide to the same double -- the same order as the divisions, without
     * them.  wmax as the fraction bm / bt. */
    const int narrow = !c->cnt_hi;
    uint32_t bm = 0, bt = 1;
    for (int t = 0; t < c->ntouched; t++) {
        const s_left_t *le = &c->left[c->touched[t]];
        for (int id = le->head & S_NONE; id != S_NONE; id = c->ctx[id].next & S_NONE) {
            if (id == newctx) continue;
            const s_ctx_t *x = &c->ctx[id];
            if (narrow) {
                uint32_t total = x->lo[S_TOTAL], matched = x->lo[S_MATCHED];
                if (!total) matched = 0, total = 1;   /* share 0 */
                uint32_t l = matched * bt, r = bm * total;   /* < 2^32 */
                if (l >= r) {
                    if (l > r) { bm = matched; bt = total; pred = 0; }
                    pred |= x->right;
                }
            } else {
                uint32_t total = s_cnt(c, id, S_TOTAL), matched = s_cnt(c, id, S_MATCHED);
                double w = total > 0 ? (double)matched / total : 0.0;
                if (w > wmax) { wmax = w; pred = 0; }
                if (w >= wmax) pred |= x->right;
            }
            unsigned rc = (unsigned)s_pop(x->right & sm), rl = (unsigned)s_pop(x->right);
            selected++;
            /* rl >= 1: rc == rl means all came */
            if (s_count(c, id, rl, rc, rc == rl) != 0) return -1;
            if (rc != rl) continue;
            nact++;
            uint64_t key = (uint64_t)s_cnt(c, id, S_ACT) << 16 | (uint64_t)(0xffff - id);
            if (ntop == kmax && key <= top[kmax - 1]) continue;
            int i = ntop < kmax ? ntop++ : kmax - 1;
            for (; i > 0 && top[i - 1] < key; i--) top[i] = top[i - 1];
            top[i] = key;
        }
    }

    /* a new transition: the known ones that partly match it, the
     * candidates for derived contexts (left halves that matched the
     * previous step at most max_left facts, right halves some but not all
     * of whose facts came when the left half matched in full) */
    if (newflag) {
        s_cross(c, &c->lprev);
        for (int t = 0; t < c->ntouched; t++) {
            int l = c->touched[t];
            const s_left_t *le = &c->left[l];
            unsigned notnow = le->cnt == le->len ? ~sm : ~0u;
            for (int id = le->head & S_NONE; id != S_NONE; id = c->ctx[id].next & S_NONE) {
                const s_ctx_t *x = &c->ctx[id];
                if (!(x->left & S_ZERO) || id == newctx || !(x->right & sm) || !(x->right & notnow)) continue;
                S_GROW(c, pot, cpot, npot + 1, 64, 0);
                c->pot[npot++] = (uint32_t)l | (uint32_t)x->right << 16;
            }
        }
    }
    double fam = selected > 0 ? (double)nact / selected : 0.0;
    /* facts of this step the prediction missed: none, score 0 */
    unsigned miss = sm & ~pred;

    /* the next left side: these facts and the most active contexts */
    s_facts_t lf;
    lf.sens = sm;
    lf.nn = 0;
    for (int m = 0; m < ntop; m++) {
        uint16_t id = (uint16_t)(0xffff - (top[m] & 0xffff));
        int i = lf.nn++;
        for (; i > 0 && lf.neu[i - 1] > id; i--) lf.neu[i] = lf.neu[i - 1];
        lf.neu[i] = id;
    }

    /* store the candidate contexts: overlaps of known transitions with this one */
    double nov = 0;
    if (newflag) {
        int nids = 0, added = 1;
        S_GROW(c, ids, cids, npot + 1, 64, 0);
        c->ctx[newctx].next |= S_MARK;
        c->ids[nids++] = (uint16_t)newctx;
        int rc = 0, pl = -1, li_id = -1;
        for (int p = 0; p < npot; p++) {
            /* the candidates of one left half are listed together: its
             * overlap, hence its left half id, is found once (ids are
             * indices, stable while the arrays grow) */
            if ((int)(c->pot[p] & 0xffff) != pl) {
                s_facts_t li;
                pl = (int)(c->pot[p] & 0xffff);
                s_inter(c, &c->left[pl], &c->lprev, &li);
                if ((li_id = s_left_get(c, &li)) < 0) { rc = -1; break; }
            }
            int id = s_ctx_in(c, li_id, (c->pot[p] >> 16) & sm, &fresh);
            if (id < 0) { rc = -1; break; }
            if (fresh) added++;
            if (!(c->ctx[id].next & S_MARK)) {
                c->ctx[id].next |= S_MARK;
                c->ids[nids++] = (uint16_t)id;
            }
        }
        for (int i = 0; i < nids; i++) c->ctx[c->ids[i]].next &= (uint16_t)~S_MARK;
        if (rc < 0) return -1;
        nov = (double)added / nids;
    }

    /* left halves matching now: the next step walks them.  A step that
     * made no context made no left half either (a new half brings a new
     * context), so with the same left side as before the list s_full made
     * last (s_cross did not overwrite it) still holds: steady series repeat
     * their left side for many windows. */
    if (newflag || !c->haveprev || c->ncross != c->nleft || lf.sens != c->lprev.sens || lf.nn != c->lprev.nn
        || memcmp(lf.neu, c->lprev.neu, (size_t)lf.nn * sizeof *lf.neu))
        s_full(c, &lf);
    c->lprev = lf;
    c->haveprev = 1;

    return miss ? (1.0 - fam + nov) / 2.0 : 0.0;
}

double gh_context_step(gh_context_t *c, double x)
{
    if (!isfinite(x)) x = 0;
    if (c->n == 0) c->lo = c->hi = x;
    c->n++;
    /* the range is learnt; a value well beyond it changes what the facts
     * mean, so the memory starts again on the wider range */
    double w = c->hi - c->lo;
    if (x < c->lo || x > c->hi) {
        if ((x > c->hi + S_REGROW * w || x < c->lo - S_REGROW * w) && c->nctx > 0) {
            s_reset(c);
            c->restarts++;
        }
        if (x < c->lo) c->lo = x;
        if (x > c->hi) c->hi = x;
        w = c->hi - c->lo;
    }
    double step = w > 0 ? w / c->maxbin : 1.0;
    int q = (int)((x - c->lo) / step);
    if (q < 0) q = 0;
    if (q > c->maxbin) q = c->maxbin;
    unsigned sm = 0;
    for (int b = 0; b < c->cfg.bits; b++) sm |= 1u << (2 * b + ((q >> b) & 1));
    if (c->nctx >= c->cfg.max_contexts) {
        s_reset(c);
        c->restarts++;
    }
    double r = s_step_facts(c, sm);
    if (r < 0) {
        s_reset(c);
        c->restarts++;
        r = 0;
    }
    return c->restarts > 0 && c->since++ < S_RELEARN ? 0.0 : r;
}
