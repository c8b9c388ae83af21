/* context.c -- contextual novelty (the Contextual Anomaly Detector of
 * Mikhail Smirnov, clean-room; see context.h for the model).
 *
 * Layout.  Two "sides" (left, right) each hold their semi-contexts: a sorted
 * fact set in a shared pool, found through an open-addressing hash table,
 * and reached from each fact through an inverted index.  Crossing a side
 * with a fact set counts, for every semi-context sharing a fact with it, how
 * many of its facts are present; only the touched ones are visited.  Left
 * semi-contexts list their contexts; a context records the right half and
 * how well it predicted in the past. */
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

typedef struct {
    int *v;
    int n, cap;
} s_ivec_t;

typedef struct {
    int off, len;          /* facts in the side's pool */
    uint64_t h;
    int cnt;               /* facts present in the last crossing */
    s_ivec_t ctx;          /* left side only: its contexts */
} s_semi_t;

typedef struct {
    s_semi_t *s;
    int n, cap;
    int *pool;
    int pn, pcap;
    int *tab;              /* semi id + 1, 0 = empty */
    int tcap;
    s_ivec_t *idx;         /* fact -> semi ids */
    int nidx;
    s_ivec_t touched;      /* semis with cnt > 0 */
} s_side_t;

typedef struct {
    int left, right;
    uint32_t total, matched, act;
    int zero;              /* ever seen as a whole transition */
} s_ctx_t;

struct gh_context {
    gh_context_cfg_t cfg;
    int maxbin;
    double lo, hi;
    uint64_t n, restarts;
    uint64_t since;        /* steps since the last restart */
    s_side_t side[2];      /* 0 left, 1 right */
    s_ctx_t *ctx;
    int nctx, cctx;
    int lprev[S_MAX_FACTS], nlprev;
    int pred[S_MAX_FACTS], npred;
    s_ivec_t act, pot, ids;  /* scratch */
    int oom;
};

static int s_push(s_ivec_t *v, int x)
{
    if (v->n == v->cap) {
        int nc = v->cap ? 2 * v->cap : 8;
        int *p = realloc(v->v, (size_t)nc * sizeof *p);
        if (!p) return -1;
        v->v = p;
        v->cap = nc;
    }
    v->v[v->n++] = x;
    return 0;
}

static void s_side_free(s_side_t *s)
{
    for (int i = 0; i < s->n; i++) free(s->s[i].ctx.v);
    for (int i = 0; i < s->nidx; i++) free(s->idx[i].v);
    free(s->s);
    free(s->pool);
    free(s->tab);
    free(s->idx);
    free(s->touched.v);
    memset(s, 0, sizeof *s);
}

static uint64_t s_hash(const int *f, int n)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < n; i++) {
        h ^= (uint64_t)(uint32_t)f[i];
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    return h ^ (uint64_t)n;
}

static int s_side_rehash(s_side_t *s, int cap)
{
    int *t = calloc((size_t)cap, sizeof *t);
    if (!t) return -1;
    for (int i = 0; i < s->n; i++) {
        size_t j = (size_t)(s->s[i].h & (uint64_t)(cap - 1));
        while (t[j]) j = (j + 1) & (size_t)(cap - 1);
        t[j] = i + 1;
    }
    free(s->tab);
    s->tab = t;
    s->tcap = cap;
    return 0;
}

/* Id of the semi-context with facts f[0..n-1] (sorted), created when absent
 * (*fresh = 1).  -1 when out of memory. */
static int s_side_get(s_side_t *s, const int *f, int n, int *fresh)
{
    *fresh = 0;
    if (2 * (s->n + 1) > s->tcap && s_side_rehash(s, s->tcap ? 2 * s->tcap : 64) != 0) return -1;
    uint64_t h = s_hash(f, n);
    size_t j = (size_t)(h & (uint64_t)(s->tcap - 1));
    for (; s->tab[j]; j = (j + 1) & (size_t)(s->tcap - 1)) {
        const s_semi_t *e = &s->s[s->tab[j] - 1];
        if (e->h == h && e->len == n && !memcmp(s->pool + e->off, f, (size_t)n * sizeof *f)) return s->tab[j] - 1;
    }
    if (s->n == s->cap) {
        int nc = s->cap ? 2 * s->cap : 64;
        s_semi_t *p = realloc(s->s, (size_t)nc * sizeof *p);
        if (!p) return -1;
        s->s = p;
        s->cap = nc;
    }
    if (s->pn + n > s->pcap) {
        int nc = s->pcap ? 2 * s->pcap : 256;
        while (nc < s->pn + n) nc *= 2;
        int *p = realloc(s->pool, (size_t)nc * sizeof *p);
        if (!p) return -1;
        s->pool = p;
        s->pcap = nc;
    }
    int id = s->n;
    for (int i = 0; i < n; i++) {
        if (f[i] >= s->nidx) {
            int nc = s->nidx ? s->nidx : 64;
            while (nc <= f[i]) nc *= 2;
            s_ivec_t *p = realloc(s->idx, (size_t)nc * sizeof *p);
            if (!p) return -1;
            memset(p + s->nidx, 0, (size_t)(nc - s->nidx) * sizeof *p);
            s->idx = p;
            s->nidx = nc;
        }
        if (s_push(&s->idx[f[i]], id) != 0) return -1;
    }
    s_semi_t *e = &s->s[id];
    memset(e, 0, sizeof *e);
    e->off = s->pn;
    e->len = n;
    e->h = h;
    memcpy(s->pool + s->pn, f, (size_t)n * sizeof *f);
    s->pn += n;
    s->n++;
    s->tab[j] = id + 1;
    *fresh = 1;
    return id;
}

/* Count, for every semi-context sharing a fact with f[0..n-1], how many of
 * its facts are in f. */
static int s_side_cross(s_side_t *s, const int *f, int n)
{
    for (int i = 0; i < s->touched.n; i++) s->s[s->touched.v[i]].cnt = 0;
    s->touched.n = 0;
    for (int i = 0; i < n; i++) {
        if (f[i] >= s->nidx) continue;
        const s_ivec_t *l = &s->idx[f[i]];
        for (int k = 0; k < l->n; k++)
            if (s->s[l->v[k]].cnt++ == 0 && s_push(&s->touched, l->v[k]) != 0) return -1;
    }
    return 0;
}

/* Sorted intersection of semi-context e's facts with f[0..n-1] into out. */
static int s_inter(const s_side_t *s, const s_semi_t *e, const int *f, int n, int *out)
{
    const int *a = s->pool + e->off;
    int i = 0, j = 0, k = 0;
    while (i < e->len && j < n) {
        if (a[i] < f[j]) i++;
        else if (a[i] > f[j]) j++;
        else { out[k++] = a[i]; i++; j++; }
    }
    return k;
}

/* Context (left l, right r), created when absent (*fresh = 1); -1 = OOM. */
static int s_ctx_get(gh_context_t *c, int l, int r, int *fresh)
{
    *fresh = 0;
    s_ivec_t *v = &c->side[0].s[l].ctx;
    for (int i = 0; i < v->n; i++) if (c->ctx[v->v[i]].right == r) return v->v[i];
    if (c->nctx == c->cctx) {
        /* doubling, but not far past max_contexts: the memory restarts
         * there, only one step's new contexts can overshoot it */
        int nc = c->cctx ? 2 * c->cctx : 256, cap = c->cfg.max_contexts + 256;
        if (nc > cap && c->cctx < cap) nc = cap;
        s_ctx_t *p = realloc(c->ctx, (size_t)nc * sizeof *p);
        if (!p) return -1;
        c->ctx = p;
        c->cctx = nc;
    }
    int id = c->nctx;
    if (s_push(v, id) != 0) return -1;
    memset(&c->ctx[id], 0, sizeof c->ctx[id]);
    c->ctx[id].left = l;
    c->ctx[id].right = r;
    c->nctx++;
    *fresh = 1;
    return id;
}

/* Context for the fact sets (lf, rf), created when absent. */
static int s_ctx_get_facts(gh_context_t *c, const int *lf, int ln, const int *rf, int rn, int *fresh)
{
    int f1, f2;
    int l = s_side_get(&c->side[0], lf, ln, &f1);
    int r = l < 0 ? -1 : s_side_get(&c->side[1], rf, rn, &f2);
    if (r < 0) return -1;
    return s_ctx_get(c, l, r, fresh);
}

static void s_reset(gh_context_t *c)
{
    s_side_free(&c->side[0]);
    s_side_free(&c->side[1]);
    free(c->ctx);
    c->ctx = NULL;
    c->nctx = c->cctx = 0;
    c->nlprev = c->npred = 0;
    c->oom = 0;
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
        if (cfg->max_contexts > 0) c->cfg.max_contexts = cfg->max_contexts;
    }
    if (c->cfg.max_active > S_MAX_FACTS - c->cfg.bits) c->cfg.max_active = S_MAX_FACTS - c->cfg.bits;
    c->maxbin = (1 << c->cfg.bits) - 1;
    return c;
}

void gh_context_destroy(gh_context_t **cp)
{
    if (!cp || !*cp) return;
    gh_context_t *c = *cp;
    s_reset(c);
    free(c->act.v);
    free(c->pot.v);
    free(c->ids.v);
    free(c);
    *cp = NULL;
}

uint64_t gh_context_restarts(const gh_context_t *c) { return c->restarts; }

static int s_int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

static int s_in(const int *f, int n, int x)
{
    for (int i = 0; i < n; i++) if (f[i] == x) return 1;
    return 0;
}

/* One step on the sorted sensor facts s[0..ns-1]; returns the score, or -1
 * when out of memory (the caller restarts). */
static double s_step_facts(gh_context_t *c, const int *s, int ns)
{
    const int B = c->cfg.bits;
    s_side_t *L = &c->side[0], *R = &c->side[1];
    int fresh;

    /* prediction error: weight of the facts the best contexts did not predict */
    double err = 0;
    for (int i = 0; i < ns; i++) if (!s_in(c->pred, c->npred, s[i])) err += (double)(1 << (s[i] / 2));
    err /= c->maxbin;

    /* the whole transition as a zero-level context */
    int newctx = -1, newflag = 0;
    if (c->nlprev > 0) {
        int id = s_ctx_get_facts(c, c->lprev, c->nlprev, s, ns, &fresh);
        if (id < 0) return -1;
        c->ctx[id].zero = 1;
        if (fresh) { newflag = 1; newctx = id; }
    }

    /* right halves matching now; left halves matched the previous step */
    if (s_side_cross(R, s, ns) != 0) return -1;
    int selected = 0;
    c->act.n = c->pot.n = 0;
    for (int t = 0; t < L->touched.n; t++) {
        int l = L->touched.v[t];
        const s_semi_t *le = &L->s[l];
        int full = le->cnt == le->len;
        for (int k = 0; k < le->ctx.n; k++) {
            int id = le->ctx.v[k];
            if (id == newctx) continue;
            s_ctx_t *x = &c->ctx[id];
            const s_semi_t *re = &R->s[x->right];
            int cand = 0;
            if (full) {
                selected++;
                x->total += (uint32_t)re->len;
                if (re->cnt > 0) {
                    x->matched += (uint32_t)re->cnt;
                    if (re->cnt == re->len) {
                        x->act++;
                        if (s_push(&c->act, id) != 0) return -1;
                    } else cand = 1;
                }
            } else cand = re->cnt > 0;
            if (cand && x->zero && newflag && le->cnt <= c->cfg.max_left) {
                if (s_push(&c->pot, l) != 0 || s_push(&c->pot, x->right) != 0) return -1;
            }
        }
    }
    double fam = selected > 0 ? (double)c->act.n / selected : 0.0;

    /* the next left side: these facts and the most active contexts */
    int nl = 0, lf[S_MAX_FACTS];
    for (int i = 0; i < ns; i++) lf[nl++] = s[i];
    int na = c->act.n;
    for (int m = 0; m < c->cfg.max_active && m < na; m++) {
        /* selection of the most activated (ties: the older context) */
        int best = m;
        for (int i = m + 1; i < na; i++) {
            const s_ctx_t *a = &c->ctx[c->act.v[i]], *b = &c->ctx[c->act.v[best]];
            if (a->act > b->act || (a->act == b->act && c->act.v[i] < c->act.v[best])) best = i;
        }
        int tmp = c->act.v[m];
        c->act.v[m] = c->act.v[best];
        c->act.v[best] = tmp;
        lf[nl++] = 2 * B + c->act.v[m];
    }
    qsort(lf, (size_t)nl, sizeof *lf, s_int_cmp);

    /* store the candidate contexts: overlaps of known transitions with this one */
    double nov = 0;
    if (newflag) {
        c->ids.n = 0;
        if (s_push(&c->ids, newctx) != 0) return -1;
        int added = 1;
        for (int p = 0; p + 1 < c->pot.n; p += 2) {
            int li[S_MAX_FACTS], ri[S_MAX_FACTS];
            int ln = s_inter(L, &L->s[c->pot.v[p]], c->lprev, c->nlprev, li);
            int rn = s_inter(R, &R->s[c->pot.v[p + 1]], s, ns, ri);
            int id = s_ctx_get_facts(c, li, ln, ri, rn, &fresh);
            if (id < 0) return -1;
            if (fresh) added++;
            if (!s_in(c->ids.v, c->ids.n, id) && s_push(&c->ids, id) != 0) return -1;
        }
        nov = (double)added / c->ids.n;
    }

    /* left halves matching now, and the prediction for the next step */
    if (s_side_cross(L, lf, nl) != 0) return -1;
    double wmax = 0;
    c->ids.n = 0;
    for (int t = 0; t < L->touched.n; t++) {
        const s_semi_t *le = &L->s[L->touched.v[t]];
        if (le->cnt != le->len) continue;
        for (int k = 0; k < le->ctx.n; k++) {
            const s_ctx_t *x = &c->ctx[le->ctx.v[k]];
            double w = x->total > 0 ? (double)x->matched / x->total : 0.0;
            if (w > wmax) { wmax = w; c->ids.n = 0; }
            if (w >= wmax && s_push(&c->ids, le->ctx.v[k]) != 0) return -1;
        }
    }
    c->npred = 0;
    for (int i = 0; i < c->ids.n; i++) {
        const s_semi_t *re = &R->s[c->ctx[c->ids.v[i]].right];
        for (int k = 0; k < re->len; k++) {
            int f = R->pool[re->off + k];
            if (!s_in(c->pred, c->npred, f) && c->npred < S_MAX_FACTS) c->pred[c->npred++] = f;
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
    int s[16], ns = 0;
    for (int b = 0; b < c->cfg.bits; b++) s[ns++] = 2 * b + ((q >> b) & 1);
    if (c->nctx >= c->cfg.max_contexts) {
        s_reset(c);
        c->restarts++;
    }
    double r = s_step_facts(c, s, ns);
    if (r < 0) {
        s_reset(c);
        c->restarts++;
        r = 0;
    }
    return c->restarts > 0 && c->since++ < S_RELEARN ? 0.0 : r;
}
