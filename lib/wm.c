/* wm.c -- see wm.h.  Sources and producers are few (files, workers), so the
 * tables are arrays searched linearly. */
#include "wm.h"
#include <stdlib.h>
#include <string.h>

#define GH_WM_MAXP 64
#define GH_WM_NONE INT64_MIN

typedef struct {
    uint64_t src;
    int64_t ts[GH_WM_MAXP]; /* per producer, GH_WM_NONE when not reported */
    int64_t combined;
    int64_t first;           /* earliest first event time any producer reported */
} s_src_t;

struct gh_wmtab {
    int expected, require_all, nprod;
    char *prod[GH_WM_MAXP];
    int ended[GH_WM_MAXP];
    s_src_t *srcs;
    size_t nsrc, cap;
};

gh_wmtab_t *gh_wmtab_new(int expected_producers, int require_all) {
    gh_wmtab_t *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->expected = expected_producers > 0 ? expected_producers : 1;
    t->require_all = require_all;
    return t;
}

void gh_wmtab_destroy(gh_wmtab_t **tp) {
    gh_wmtab_t *t = *tp;
    if (!t) return;
    for (int i = 0; i < t->nprod; i++) free(t->prod[i]);
    free(t->srcs);
    free(t);
    *tp = NULL;
}

void gh_wmtab_set_rule(gh_wmtab_t *t, int require_all) { t->require_all = require_all; }

static int s_prod(gh_wmtab_t *t, const char *p, size_t n) {
    for (int i = 0; i < t->nprod; i++)
        if (strlen(t->prod[i]) == n && !memcmp(t->prod[i], p, n)) return i;
    if (t->nprod >= GH_WM_MAXP) return -1;
    t->prod[t->nprod] = strndup(p, n);
    return t->prod[t->nprod] ? t->nprod++ : -1;
}

/* The combined watermark of s, or GH_WM_NONE while it is not known. */
static int64_t s_combined(const gh_wmtab_t *t, const s_src_t *s) {
    int64_t m = INT64_MAX, top = GH_WM_NONE;
    int reported = 0, live = 0;
    for (int i = 0; i < t->nprod; i++) {
        if (s->ts[i] != GH_WM_NONE && s->ts[i] > top) top = s->ts[i];
        if (t->ended[i]) continue;
        live++;
        if (s->ts[i] == GH_WM_NONE) continue;
        reported++;
        if (s->ts[i] < m) m = s->ts[i];
    }
    /* every expected producer has ended: everything of every source has
     * arrived, so a source is complete up to the furthest any producer
     * reported (without this, a source whose last producer never reported
     * it would only be flushed, never advanced) */
    if (!live && t->nprod >= t->expected) return top;
    if (!reported) return GH_WM_NONE;
    /* broadcast: producers not heard from yet may still send this source */
    int ended = t->nprod - live, need = t->expected - ended;
    if (t->require_all && reported < need) return GH_WM_NONE;
    return m;
}

static void s_advance(gh_wmtab_t *t, s_src_t *s, gh_wm_fn fn, void *ud) {
    int64_t c = s_combined(t, s);
    if (c != GH_WM_NONE && (s->combined == GH_WM_NONE || c > s->combined)) {
        s->combined = c;
        if (fn) fn(ud, s->src, c, s->first);
    }
}

void gh_wmtab_update(gh_wmtab_t *t, const char *prod, size_t prod_n, uint64_t src, int64_t ts_ms, int64_t first_ms,
                     gh_wm_fn fn, void *ud) {
    int p = s_prod(t, prod, prod_n);
    if (p < 0) return;
    s_src_t *s = NULL;
    for (size_t i = 0; i < t->nsrc; i++)
        if (t->srcs[i].src == src) {
            s = &t->srcs[i];
            break;
        }
    if (!s) {
        if (t->nsrc == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 16;
            s_src_t *ns = realloc(t->srcs, cap * sizeof *ns);
            if (!ns) return;
            t->srcs = ns;
            t->cap = cap;
        }
        s = &t->srcs[t->nsrc++];
        s->src = src;
        s->combined = GH_WM_NONE;
        s->first = first_ms;
        for (int i = 0; i < GH_WM_MAXP; i++) s->ts[i] = GH_WM_NONE;
    }
    if (first_ms < s->first) s->first = first_ms;
    if (s->ts[p] == GH_WM_NONE || ts_ms > s->ts[p]) s->ts[p] = ts_ms;
    s_advance(t, s, fn, ud);
}

void gh_wmtab_end(gh_wmtab_t *t, const char *prod, size_t prod_n, gh_wm_fn fn, void *ud) {
    int p = s_prod(t, prod, prod_n);
    if (p < 0) return;
    t->ended[p] = 1;
    for (size_t i = 0; i < t->nsrc; i++) s_advance(t, &t->srcs[i], fn, ud);
}

void gh_wmtab_alive(gh_wmtab_t *t, const char *prod, size_t prod_n) {
    int p = s_prod(t, prod, prod_n);
    if (p >= 0) t->ended[p] = 0;
}
