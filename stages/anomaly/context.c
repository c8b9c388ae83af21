/* context.c -- contextual novelty (the Contextual Anomaly Detector of
 * Mikhail Smirnov, clean-room; see context.h for the model).
 *
 * Layout, chosen to keep one model small (thousands of series each run one).
 * Facts are 16-bit: sensor facts 0 .. 2*bits-1, then one neuron fact per
 * context id.  A right half only ever holds sensor facts, at most one per
 * bit position, so it is a bit mask stored in the context itself.  Left
 * halves ("semi-contexts", shared by the contexts that start with them)
 * keep their sorted facts in one pool, are found through an open-addressing
 * table of 16-bit ids, and chain their contexts in creation order through
 * the contexts' `next` field.  A context is 6 bytes of links plus 12 of
 * counters.  Every array is flat (no per-fact or per-semi allocation),
 * grows by half when full, and is kept across a memory restart, which only
 * resets the counts: a model holds at most its peak, and a restart neither
 * allocates nor fragments.
 *
 * Crossing the left halves with a fact set scans them all (nearly every
 * half shares a sensor fact with any set, so an inverted index would visit
 * them all too) and orders those touched the way an inverted index walk
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
 * keeps every id and neuron fact (2*bits + id) in range. */
#define S_NONE 0x7fffu
#define S_MARK 0x8000u
#define S_MAX_IDS 0x7ffe
#define S_MAX_CONTEXTS 16000
#define S_ZERO 0x8000u     /* bit 15 of `left`: seen as a whole transition */

typedef struct {
    uint32_t off;          /* facts: pool[off .. off + len - 1], sorted */
    uint16_t head;         /* first context, S_NONE = none */
    uint8_t len, cnt;      /* facts; of them present in the last crossing */
} s_left_t;

typedef struct {
    uint16_t left;         /* left half id | S_ZERO */
    uint16_t right;        /* right half: mask of sensor facts */
    uint16_t next;         /* next context of the same left half | S_MARK */
} s_ctx_t;

typedef struct {
    uint32_t total, matched, act;
} s_cnt_t;

struct gh_context {
    gh_context_cfg_t cfg;
    int maxbin, nsens;     /* nsens = 2 * bits sensor facts */
    double lo, hi;
    uint64_t n, restarts;
    uint64_t since;        /* steps since the last restart */
    size_t bytes;          /* allocated by the arrays below */
    s_left_t *left;        /* left halves */
    int nleft, cleft;
    uint16_t *touched;     /* left halves with cnt > 0 */
    int ntouched, ctouched;
    uint16_t *pool;        /* facts of the left halves */
    int npool, cpool;
    uint16_t *tab;         /* left id + 1, 0 = empty; ctab a power of 2 */
    int ctab;
    s_ctx_t *ctx;
    s_cnt_t *cnt;
    int nctx, cctx;
    uint16_t lprev[S_MAX_FACTS];
    int nlprev;
    unsigned pred;         /* facts the best contexts predicted */
    uint16_t *act, *ids;   /* scratch: context ids */
    int cact, cids;
    uint32_t *pot;         /* scratch: left id | right mask << 16 */
    int cpot;
};

/* Make room for `need` elements of `size` bytes in *p (capacity *cap):
 * grow by half, at least to `need` and to `first`; `soft` > 0 caps a growth
 * that passes it at soft (the array's usual bound).  0, or -1 when out of
 * memory (*p unchanged). */
static int s_grow(gh_context_t *c, void *p, int *cap, int need, size_t size, int first, int soft)
{
    if (need <= *cap) return 0;
    int nc = *cap + *cap / 2;
    if (nc < first) nc = first;
    if (soft > 0 && nc > soft && *cap < soft) nc = soft;
    if (nc < need) nc = need;
    void **pp = p;
    void *q = realloc(*pp, (size_t)nc * size);
    if (!q) return -1;
    *pp = q;
    c->bytes += (size_t)(nc - *cap) * size;
    *cap = nc;
    return 0;
}

static uint64_t s_hash(const uint16_t *f, int n)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < n; i++) {
        h ^= f[i];
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    return h ^ (uint64_t)n;
}

static int s_rehash(gh_context_t *c, int cap)
{
    uint16_t *t = calloc((size_t)cap, sizeof *t);
    if (!t) return -1;
    for (int i = 0; i < c->nleft; i++) {
        const s_left_t *e = &c->left[i];
        size_t j = (size_t)(s_hash(c->pool + e->off, e->len) & (uint64_t)(cap - 1));
        while (t[j]) j = (j + 1) & (size_t)(cap - 1);
        t[j] = (uint16_t)(i + 1);
    }
    free(c->tab);
    c->bytes += (size_t)(cap - c->ctab) * sizeof *t;
    c->tab = t;
    c->ctab = cap;
    return 0;
}

/* Id of the left half with facts f[0..n-1] (sorted), created when absent.
 * -1 when out of memory or ids. */
static int s_left_get(gh_context_t *c, const uint16_t *f, int n)
{
    /* load at most 3/4 */
    if (4 * (c->nleft + 1) > 3 * c->ctab && s_rehash(c, c->ctab ? 2 * c->ctab : 64) != 0) return -1;
    uint64_t h = s_hash(f, n);
    size_t j = (size_t)(h & (uint64_t)(c->ctab - 1));
    for (; c->tab[j]; j = (j + 1) & (size_t)(c->ctab - 1)) {
        const s_left_t *e = &c->left[c->tab[j] - 1];
        if (e->len == n && !memcmp(c->pool + e->off, f, (size_t)n * sizeof *f)) return c->tab[j] - 1;
    }
    if (c->nleft >= S_MAX_IDS) return -1;
    if (s_grow(c, &c->left, &c->cleft, c->nleft + 1, sizeof *c->left, 64, 0) != 0) return -1;
    if (s_grow(c, &c->touched, &c->ctouched, c->cleft, sizeof *c->touched, 0, 0) != 0) return -1;
    if (s_grow(c, &c->pool, &c->cpool, c->npool + n, sizeof *c->pool, 256, 0) != 0) return -1;
    int id = c->nleft++;
    s_left_t *e = &c->left[id];
    e->off = (uint32_t)c->npool;
    e->len = (uint8_t)n;
    e->cnt = 0;
    e->head = S_NONE;
    memcpy(c->pool + c->npool, f, (size_t)n * sizeof *f);
    c->npool += n;
    c->tab[j] = (uint16_t)(id + 1);
    return id;
}

/* Position in f[0..n-1] (sorted; its sensor facts first, as the bit set
 * sens) of fact x, or -1. */
static int s_pos(const gh_context_t *c, unsigned sens, int nsf, const uint16_t *f, int n, unsigned x)
{
    if (x < (unsigned)c->nsens)
        return (sens >> x) & 1 ? __builtin_popcount(sens & ((1u << x) - 1)) : -1;
    for (int i = nsf; i < n; i++) if (f[i] == x) return i;
    return -1;
}

/* Count, for every left half, how many of its facts are in f[0..n-1]
 * (sorted), and list in `touched` those with any, in inverted-index order
 * (see the file header). */
static void s_cross(gh_context_t *c, const uint16_t *f, int n)
{
    unsigned sens = 0;
    int nsf = 0;
    while (nsf < n && f[nsf] < c->nsens) sens |= 1u << f[nsf++];
    int start[S_MAX_FACTS + 1] = { 0 };
    for (int i = 0; i < c->nleft; i++) {
        s_left_t *e = &c->left[i];
        const uint16_t *a = c->pool + e->off;
        int k = 0, first = -1;
        for (int j = 0; j < e->len; j++) {
            int p = s_pos(c, sens, nsf, f, n, a[j]);
            if (p < 0) continue;
            if (first < 0) first = p;
            k++;
        }
        e->cnt = (uint8_t)k;
        if (k) start[first + 1]++;
    }
    for (int p = 1; p <= n; p++) start[p] += start[p - 1];
    c->ntouched = start[n];
    for (int i = 0; i < c->nleft; i++) {
        const s_left_t *e = &c->left[i];
        if (!e->cnt) continue;
        const uint16_t *a = c->pool + e->off;
        int p = -1;
        for (int j = 0; p < 0; j++) p = s_pos(c, sens, nsf, f, n, a[j]);
        c->touched[start[p]++] = (uint16_t)i;
    }
}

/* Sorted intersection of left half e's facts with f[0..n-1] into out. */
static int s_inter(const gh_context_t *c, const s_left_t *e, const uint16_t *f, int n, uint16_t *out)
{
    const uint16_t *a = c->pool + e->off;
    int i = 0, j = 0, k = 0;
    while (i < e->len && j < n) {
        if (a[i] < f[j]) i++;
        else if (a[i] > f[j]) j++;
        else { out[k++] = a[i]; i++; j++; }
    }
    return k;
}

/* Context (left facts lf[0..ln-1], right mask r), created when absent
 * (*fresh = 1); -1 when out of memory or ids. */
static int s_ctx_get(gh_context_t *c, const uint16_t *lf, int ln, unsigned r, int *fresh)
{
    *fresh = 0;
    int l = s_left_get(c, lf, ln);
    if (l < 0) return -1;
    int tail = -1;         /* last context of l; -1 = none */
    for (int id = c->left[l].head; id != S_NONE; id = c->ctx[id].next & S_NONE) {
        if (c->ctx[id].right == r) return id;
        tail = id;
    }
    if (c->nctx >= S_MAX_IDS) return -1;
    if (c->nctx == c->cctx) {
        /* not far past max_contexts: the memory restarts there, only one
         * step's new contexts can overshoot it */
        int cap = c->cctx, soft = c->cfg.max_contexts + 64;
        if (s_grow(c, &c->ctx, &cap, c->nctx + 1, sizeof *c->ctx, 256, soft) != 0) return -1;
        cap = c->cctx;
        if (s_grow(c, &c->cnt, &cap, c->nctx + 1, sizeof *c->cnt, 256, soft) != 0) return -1;
        c->cctx = cap;
    }
    int id = c->nctx++;
    /* linked after the growth: the arrays may have moved */
    if (tail < 0) c->left[l].head = (uint16_t)id;
    else c->ctx[tail].next = (uint16_t)((c->ctx[tail].next & S_MARK) | id);
    c->ctx[id].left = (uint16_t)l;
    c->ctx[id].right = (uint16_t)r;
    c->ctx[id].next = S_NONE;
    memset(&c->cnt[id], 0, sizeof c->cnt[id]);
    *fresh = 1;
    return id;
}

/* Empty memory; the arrays keep their capacity. */
static void s_reset(gh_context_t *c)
{
    c->nleft = c->ntouched = c->npool = c->nctx = 0;
    if (c->tab) memset(c->tab, 0, (size_t)c->ctab * sizeof *c->tab);
    c->nlprev = 0;
    c->pred = 0;
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
    c->nsens = 2 * c->cfg.bits;
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
    free(c->cnt);
    free(c->act);
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

    /* prediction error: weight of the facts the best contexts did not predict */
    double err = 0;
    for (unsigned m = sm & ~c->pred; m; m &= m - 1) err += (double)(1 << (__builtin_ctz(m) / 2));
    err /= c->maxbin;

    /* the whole transition as a zero-level context */
    int newctx = -1, newflag = 0;
    if (c->nlprev > 0) {
        int id = s_ctx_get(c, c->lprev, c->nlprev, sm, &fresh);
        if (id < 0) return -1;
        c->ctx[id].left |= S_ZERO;
        if (fresh) { newflag = 1; newctx = id; }
    }

    /* right halves matching now; left halves matched the previous step
     * (touched: halves that existed then) */
    int selected = 0, nact = 0, npot = 0;
    for (int t = 0; t < c->ntouched; t++) {
        int l = c->touched[t];
        const s_left_t *le = &c->left[l];
        int full = le->cnt == le->len;
        for (int id = le->head & S_NONE; id != S_NONE; id = c->ctx[id].next & S_NONE) {
            if (id == newctx) continue;
            const s_ctx_t *x = &c->ctx[id];
            s_cnt_t *xc = &c->cnt[id];
            unsigned rc = (unsigned)__builtin_popcount(x->right & sm);
            int cand = 0;
            if (full) {
                unsigned rl = (unsigned)__builtin_popcount(x->right);
                selected++;
                xc->total += rl;
                if (rc > 0) {
                    xc->matched += rc;
                    if (rc == rl) {
                        xc->act++;
                        if (s_grow(c, &c->act, &c->cact, nact + 1, sizeof *c->act, 64, 0) != 0) return -1;
                        c->act[nact++] = (uint16_t)id;
                    } else cand = 1;
                }
            } else cand = rc > 0;
            if (cand && (x->left & S_ZERO) && newflag && le->cnt <= c->cfg.max_left) {
                if (s_grow(c, &c->pot, &c->cpot, npot + 1, sizeof *c->pot, 64, 0) != 0) return -1;
                c->pot[npot++] = (uint32_t)l | (uint32_t)x->right << 16;
            }
        }
    }
    double fam = selected > 0 ? (double)nact / selected : 0.0;

    /* the next left side: these facts and the most active contexts */
    int nl = 0;
    uint16_t lf[S_MAX_FACTS];
    for (unsigned m = sm; m; m &= m - 1) lf[nl++] = (uint16_t)__builtin_ctz(m);
    for (int m = 0; m < c->cfg.max_active && m < nact; m++) {
        /* selection of the most activated (ties: the older context) */
        int best = m;
        for (int i = m + 1; i < nact; i++) {
            uint32_t a = c->cnt[c->act[i]].act, b = c->cnt[c->act[best]].act;
            if (a > b || (a == b && c->act[i] < c->act[best])) best = i;
        }
        uint16_t tmp = c->act[m];
        c->act[m] = c->act[best];
        c->act[best] = tmp;
        /* sensor facts come first; neuron facts go in sorted */
        uint16_t f = (uint16_t)(c->nsens + c->act[m]);
        int i = nl++;
        for (; i > 0 && lf[i - 1] > f; i--) lf[i] = lf[i - 1];
        lf[i] = f;
    }

    /* store the candidate contexts: overlaps of known transitions with this one */
    double nov = 0;
    if (newflag) {
        int nids = 0, added = 1;
        if (s_grow(c, &c->ids, &c->cids, npot + 1, sizeof *c->ids, 64, 0) != 0) return -1;
        c->ctx[newctx].next |= S_MARK;
        c->ids[nids++] = (uint16_t)newctx;
        int rc = 0;
        for (int p = 0; p < npot; p++) {
            uint16_t li[S_MAX_FACTS];
            int ln = s_inter(c, &c->left[c->pot[p] & 0xffff], c->lprev, c->nlprev, li);
            int id = s_ctx_get(c, li, ln, (c->pot[p] >> 16) & sm, &fresh);
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

    /* left halves matching now, and the prediction for the next step */
    s_cross(c, lf, nl);
    double wmax = 0;
    c->pred = 0;
    for (int t = 0; t < c->ntouched; t++) {
        const s_left_t *le = &c->left[c->touched[t]];
        if (le->cnt != le->len) continue;
        for (int id = le->head & S_NONE; id != S_NONE; id = c->ctx[id].next & S_NONE) {
            const s_cnt_t *xc = &c->cnt[id];
            double w = xc->total > 0 ? (double)xc->matched / xc->total : 0.0;
            if (w > wmax) { wmax = w; c->pred = 0; }
            if (w >= wmax) c->pred |= c->ctx[id].right;
        }
    }
    memcpy(c->lprev, lf, (size_t)nl * sizeof *lf);
    c->nlprev = nl;

    return err > 0 ? (1.0 - fam + nov) / 2.0 : 0.0;
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
