/* test_reorder.c -- the reorder buffer (stages/anomaly/reorder.h) against a
 * plain model: a list of held items, released by a linear search for the
 * least (time, template id, hash of the line, or of the host for a line
 * sent without its raw text, which must come out still without it).  Random
 * streams from several sources, each mostly in time order with many equal
 * times in any template order and some late stragglers, random watermarks,
 * and a small bound so
 * that items are also forced out early.  Template texts change now and then
 * under one id while items with the old text are held: each item must come
 * out with its own. */
#include "check.h"
#include "anomaly/reorder.h"
#include "hash.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAXI 20000

typedef struct {
    int64_t ts;
    uint64_t tpl, tie, src;
    char line[48];       /* "" for a line sent without its raw text */
    char host[16];
    char text[32];       /* template text */
} m_item_t;

typedef struct {
    uint64_t src;
    int64_t wm;
    int has_wm;
} m_src_t;

static m_item_t held[MAXI];
static size_t nheld;
static m_src_t msrc[8];
static size_t nmsrc;
static size_t max_items;

/* What each side released, as text lines, in order. */
static char got[MAXI * 2][160], want[MAXI * 2][160]; /* room for every field: nothing is cut */
static size_t ngot, nwant;

static void on_got(void *ud, const gh_cls_t *c) {
    (void)ud;
    if (ngot < MAXI * 2)
        snprintf(got[ngot++], sizeof got[0], "%llx %lld %.*s%s%.*s %.*s", (unsigned long long)c->src,
                 (long long)c->ts_ms, (int)c->raw.n, c->raw.p ? c->raw.p : "", c->raw.p ? "" : "(no raw)@",
                 c->raw.p ? 0 : (int)c->host.n, c->host.p, (int)c->tpl.n, c->tpl.p);
}

static void m_emit(const m_item_t *it) {
    if (nwant < MAXI * 2)
        snprintf(want[nwant++], sizeof want[0], "%llx %lld %s%s%s %s", (unsigned long long)it->src,
                 (long long)it->ts, it->line, it->line[0] ? "" : "(no raw)@", it->line[0] ? "" : it->host,
                 it->text);
}

static m_src_t *m_find(uint64_t src) {
    for (size_t i = 0; i < nmsrc; i++)
        if (msrc[i].src == src) return &msrc[i];
    msrc[nmsrc] = (m_src_t){ src, 0, 0 };
    return &msrc[nmsrc++];
}

static int m_less(const m_item_t *a, const m_item_t *b) {
    if (a->ts != b->ts) return a->ts < b->ts;
    if (a->tpl != b->tpl) return a->tpl < b->tpl;
    return a->tie < b->tie;
}

/* Index of the least held item of src, or -1. */
static long m_least(uint64_t src) {
    long best = -1;
    for (size_t i = 0; i < nheld; i++)
        if (held[i].src == src && (best < 0 || m_less(&held[i], &held[best]))) best = (long)i;
    return best;
}

static void m_take(size_t i) {
    m_emit(&held[i]);
    held[i] = held[--nheld];
}

static void m_push(const m_item_t *it) {
    m_src_t *s = m_find(it->src);
    if (s->has_wm && it->ts <= s->wm) {
        m_emit(it);
        return;
    }
    held[nheld++] = *it;
    while (nheld > max_items) { /* the fullest source (first of equals) gives its least */
        size_t bestn = 0;
        uint64_t big = 0;
        for (size_t k = 0; k < nmsrc; k++) {
            size_t n = 0;
            for (size_t i = 0; i < nheld; i++) n += held[i].src == msrc[k].src;
            if (n > bestn) bestn = n, big = msrc[k].src;
        }
        long i = m_least(big);
        m_src_t *b = m_find(big);
        if (!b->has_wm || held[i].ts > b->wm) b->wm = held[i].ts;
        b->has_wm = 1;
        m_take((size_t)i);
    }
}

static void m_release(uint64_t src, int64_t wm) {
    m_src_t *s = m_find(src);
    if (!s->has_wm || wm > s->wm) s->wm = wm;
    s->has_wm = 1;
    for (long i; (i = m_least(src)) >= 0 && held[i].ts <= s->wm;) m_take((size_t)i);
}

static void m_release_all(void) {
    for (size_t k = 0; k < nmsrc; k++)
        for (long i; (i = m_least(msrc[k].src)) >= 0;) m_take((size_t)i);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t s_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void run_case(unsigned seed, size_t bound, int nsrc, int nitems, int spread) {
    rng = 88172645463325252ull ^ ((uint64_t)seed * 0x9e3779b97f4a7c15ull);
    nheld = nmsrc = ngot = nwant = 0;
    max_items = bound;
    gh_reorder_t *r = gh_reorder_new(bound);
    CHECK(r != NULL);
    int64_t clock[8] = { 0 };
    int version[5] = { 0 };
    for (int n = 0; n < nitems; n++) {
        int k = (int)(s_rand() % (uint64_t)nsrc);
        uint64_t src = 0x1000 + (uint64_t)k;
        /* mostly in order, many equal times, some stragglers behind */
        uint64_t d = s_rand() % 16;
        if (d < 3) clock[k] += (int64_t)(s_rand() % 2000);
        int64_t ts = clock[k];
        if (d == 15) ts -= (int64_t)(s_rand() % (uint64_t)spread);
        m_item_t it = { ts, s_rand() % 5, 0, src, "", "", "" };
        /* one line in four comes without its raw text (ghost-classify sends it
         * only with lines that can be examples): ordered by host instead */
        int noraw = s_rand() % 4 == 0;
        if (!noraw) snprintf(it.line, sizeof it.line, "line %d of %d", n, k);
        snprintf(it.host, sizeof it.host, "h%d", (int)(s_rand() % 1000));
        if (s_rand() % 256 == 0) version[it.tpl]++;
        snprintf(it.text, sizeof it.text, "tpl %d v%d", (int)it.tpl, version[it.tpl]);
        gh_cls_t c;
        memset(&c, 0, sizeof c);
        c.ts_ms = ts;
        c.tpl_id = it.tpl;
        c.keys = 1;
        c.src = src;
        c.raw = noraw ? gh_str(NULL, 0) : gh_cstr(it.line);
        c.host = gh_cstr(it.host);
        c.tpl = gh_cstr(it.text);
        it.tie = noraw ? gh_hash_fast(c.host.p, c.host.n, c.keys + 0x100u) : gh_hash_fast(c.raw.p, c.raw.n, c.keys);
        gh_reorder_push(r, &c, on_got, NULL);
        m_push(&it);
        if (s_rand() % 64 == 0) { /* a watermark, somewhat behind the source's clock */
            int64_t wm = clock[k] - (int64_t)(s_rand() % (uint64_t)spread);
            gh_reorder_release(r, src, wm, on_got, NULL);
            m_release(src, wm);
        }
    }
    gh_reorder_release_all(r, on_got, NULL);
    m_release_all();
    CHECK_EQ(gh_reorder_held(r), 0);
    CHECK_EQ(ngot, nwant);
    size_t bad = 0;
    for (size_t i = 0; i < ngot && i < nwant; i++)
        if (strcmp(got[i], want[i]) && !bad++)
            fprintf(stderr, "seed %u: item %zu: got \"%s\", want \"%s\"\n", seed, i, got[i], want[i]);
    CHECK_EQ(bad, 0);
    gh_reorder_destroy(&r);
    CHECK(r == NULL);
}

int main(void) {
    for (unsigned seed = 1; seed <= 12; seed++) {
        run_case(seed, 200000, 1, 5000, 3000);        /* one source, no bound */
        run_case(seed + 100, 200000, 3, 8000, 6000);  /* several sources */
        run_case(seed + 200, 40, 3, 4000, 6000);      /* the bound forces items out */
        run_case(seed + 300, 200000, 2, 6000, 1);     /* stragglers by 0 ms: equal times only */
    }
    TEST_MAIN_END();
}
