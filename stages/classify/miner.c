/* miner.c -- the online template miner (see miner.h for the contract).
 *
 * Design.  A message is masked (mask.h): tokens with digits, paths and URLs
 * become "<*>".  On the real Loghub samples that alone separates the event
 * kinds almost perfectly; what it misses are variables without digits (user
 * names, host names, words picked from a small set).  So:
 *
 *  1. Exact cache.  The hash of the masked text is looked up in a direct-
 *     mapped cache (hash -> template slot + generation).  Almost every line
 *     ends here: one mask pass, one hash, one probe, no allocation.
 *  2. First split.  Templates are chained per partition key = hash(token
 *     count, first masked token), the DESIGN's first split.  On a cache miss
 *     the chain is scanned for a template whose tokens all match the line's
 *     ("<*>" inside a template token matches any text, as a glob).
 *  3. Merging by positions (instead of Drain's similarity threshold).  When
 *     nothing matches, the chain is searched for templates that differ from
 *     the line in exactly one token position j.  If those templates and the
 *     line together show at least GH_MINER_MERGE_VALUES distinct values at j,
 *     or one of them already has a variable there, position j is a variable:
 *     all of them are merged into the oldest, which gets "<*>" at j (keeping
 *     a shared prefix/suffix such as "user=<*>") and keeps its id.  Two
 *     distinct values are not enough evidence ("Failed password" / "Failed
 *     none" are two events), three are.  The decision depends only on the
 *     templates of one partition, so sharding by the partition key does not
 *     change the result.  No threshold depends on a data set.
 *  4. Ids.  A template's id is xxHash64 of the masked text of the line that
 *     created it, so the same input yields the same ids in every process and
 *     run.  A template that gains a "<*>" keeps its id; templates absorbed
 *     by a merge are remembered as aliases of the survivor.
 *  5. Memory.  At most max_templates live templates; when full, the least
 *     recently used one is evicted.  Eviction and merges bump the slot's
 *     generation, which invalidates its cache entries lazily.
 *  6. Persistence.  Templates carry a dirty flag; gh_miner_save writes the
 *     dirty ones (HSET) and deletes merged/evicted ones (HDEL) in one
 *     pipelined batch into the hash <prefix>templates, field = id in hex,
 *     value = "seq<TAB>count<TAB>template".  gh_miner_load reads it back.
 */
#include "miner.h"
#include "hash.h"
#include "log.h"
#include "mask.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GH_MINER_MERGE_VALUES 3
#define S_NONE UINT32_MAX

typedef struct {
    uint64_t id, pkey, seq, count, last;
    uint64_t rev; /* revision of text (gh_miner_hit_t) */
    char *text;
    size_t text_n, text_cap;
    gh_span_t *toks;
    uint32_t ntok, tok_cap;
    uint32_t bnext; /* next slot in the partition chain */
    uint32_t gen;
    uint8_t live, dirty;
} s_tpl_t;

/* u64 -> u64 open-addressing map, linear probing, backward-shift deletion.
 * Key 0 means empty, so callers never store key 0. */
typedef struct {
    uint64_t *keys, *vals;
    size_t cap, n;
} s_map_t;

typedef struct {
    uint64_t h;
    uint32_t slot, gen;
} s_cache_t;

typedef struct { uint32_t slot, pos; } s_cand_t;

struct gh_miner {
    size_t max;
    s_tpl_t *t;
    uint32_t *free_slots;
    size_t nfree, live;
    s_map_t chains;  /* pkey -> first slot */
    s_map_t ids;     /* id -> slot */
    s_map_t alias;   /* absorbed id -> survivor id */
    s_cache_t *cache;
    size_t cache_mask;
    uint64_t seq, tick, rev;
    uint64_t *deleted; /* ids to HDEL at the next save */
    size_t ndeleted, deleted_cap;
    s_cand_t *cand;
    size_t cand_cap;
    char buf[GH_MASK_OUT_CAP];
    gh_span_t toks[GH_MASK_MAX_TOKENS];
    gh_span_t words[GH_MASK_MAX_TOKENS]; /* the line's words, in the message */
    size_t nwords;
    char scratch[GH_MASK_OUT_CAP + 64];
    gh_span_t stoks[GH_MASK_MAX_TOKENS];
};

/* ---- map ---------------------------------------------------------------- */

static int s_map_init(s_map_t *mp, size_t want) {
    size_t cap = 16;
    while (cap < want * 2) cap <<= 1;
    mp->keys = calloc(cap, sizeof *mp->keys);
    mp->vals = calloc(cap, sizeof *mp->vals);
    mp->cap = cap;
    mp->n = 0;
    return mp->keys && mp->vals ? 0 : -1;
}

static void s_map_free(s_map_t *mp) {
    free(mp->keys);
    free(mp->vals);
    memset(mp, 0, sizeof *mp);
}

static size_t s_map_idx(const s_map_t *mp, uint64_t k) {
    return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 17) & (mp->cap - 1);
}

static int s_map_get(const s_map_t *mp, uint64_t k, uint64_t *v) {
    for (size_t i = s_map_idx(mp, k);; i = (i + 1) & (mp->cap - 1)) {
        if (!mp->keys[i]) return 0;
        if (mp->keys[i] == k) {
            if (v) *v = mp->vals[i];
            return 1;
        }
    }
}

static int s_map_put(s_map_t *mp, uint64_t k, uint64_t v);

static int s_map_grow(s_map_t *mp) {
    s_map_t nm;
    if (s_map_init(&nm, mp->cap) < 0) {
        s_map_free(&nm);
        return -1;
    }
    for (size_t i = 0; i < mp->cap; i++)
        if (mp->keys[i]) s_map_put(&nm, mp->keys[i], mp->vals[i]);
    s_map_free(mp);
    *mp = nm;
    return 0;
}

/* Inserts or replaces; -1 when out of memory. */
static int s_map_put(s_map_t *mp, uint64_t k, uint64_t v) {
    if ((mp->n + 1) * 4 > mp->cap * 3 && s_map_grow(mp) < 0) return -1;
    size_t i = s_map_idx(mp, k);
    while (mp->keys[i] && mp->keys[i] != k) i = (i + 1) & (mp->cap - 1);
    if (!mp->keys[i]) mp->n++;
    mp->keys[i] = k;
    mp->vals[i] = v;
    return 0;
}

static void s_map_del(s_map_t *mp, uint64_t k) {
    size_t i = s_map_idx(mp, k);
    while (mp->keys[i] && mp->keys[i] != k) i = (i + 1) & (mp->cap - 1);
    if (!mp->keys[i]) return;
    mp->keys[i] = 0;
    mp->n--;
    /* backward shift: move later entries of the probe run into the hole */
    for (size_t j = (i + 1) & (mp->cap - 1); mp->keys[j]; j = (j + 1) & (mp->cap - 1)) {
        size_t home = s_map_idx(mp, mp->keys[j]);
        if (((j - home) & (mp->cap - 1)) >= ((j - i) & (mp->cap - 1))) {
            mp->keys[i] = mp->keys[j];
            mp->vals[i] = mp->vals[j];
            mp->keys[j] = 0;
            i = j;
        }
    }
}

/* ---- tokens -------------------------------------------------------------- */

static int s_is_star(const char *p, size_t n) { return n == 3 && p[0] == '<' && p[1] == '*' && p[2] == '>'; }

/* Glob match where "<*>" in the pattern matches any (possibly empty) text. */
static int s_glob(const char *p, size_t pn, const char *s, size_t sn) {
    size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
    while (si < sn) {
        if (pi + 3 <= pn && !memcmp(p + pi, "<*>", 3)) {
            star_p = pi += 3;
            star_s = si;
        } else if (pi < pn && p[pi] == s[si]) {
            pi++;
            si++;
        } else if (star_p != SIZE_MAX) {
            pi = star_p;
            si = ++star_s;
        } else {
            return 0;
        }
    }
    while (pi + 3 <= pn && !memcmp(p + pi, "<*>", 3)) pi += 3;
    return pi == pn;
}

/* Does template token p cover message token s? */
static int s_tok_match(const char *p, size_t pn, const char *s, size_t sn) {
    if (s_is_star(p, pn)) return 1;
    if (pn == sn && !memcmp(p, s, pn)) return 1;
    if (!memchr(p, '<', pn)) return 0;
    return s_glob(p, pn, s, sn);
}

static int s_alnum(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' ||
           c == '.';
}

/* One token covering all k values: their shared prefix up to a delimiter,
 * "<*>", their shared suffix from a delimiter ("user=<*>", "<*>:<*>"-safe).
 * Writes to out (room for the longest value + 3); returns the length. */
static size_t s_generalise(const char *const *v, const size_t *vn, size_t k, char *out) {
    size_t pre = vn[0], suf = vn[0], minlen = vn[0];
    for (size_t i = 1; i < k; i++) {
        size_t a = 0;
        while (a < pre && a < vn[i] && v[i][a] == v[0][a]) a++;
        pre = a;
        size_t b = 0;
        while (b < suf && b < vn[i] && v[i][vn[i] - 1 - b] == v[0][vn[0] - 1 - b]) b++;
        suf = b;
        if (vn[i] < minlen) minlen = vn[i];
    }
    while (pre > 0 && s_alnum(v[0][pre - 1])) pre--;
    while (suf > 0 && s_alnum(v[0][vn[0] - suf])) suf--;
    if (memchr(v[0], '<', pre) || memchr(v[0], '*', pre)) pre = 0;
    if (suf && (memchr(v[0] + vn[0] - suf, '>', suf) || memchr(v[0] + vn[0] - suf, '*', suf))) suf = 0;
    if (pre + suf >= minlen) pre = suf = 0;
    memcpy(out, v[0], pre);
    memcpy(out + pre, "<*>", 3);
    memcpy(out + pre + 3, v[0] + vn[0] - suf, suf);
    size_t n = pre + 3 + suf;
    for (size_t i = 0; i < k; i++)
        if (!s_glob(out, n, v[i], vn[i])) {
            memcpy(out, "<*>", 3);
            return 3;
        }
    return n;
}

static uint64_t s_pkey(size_t ntok, const char *first, size_t first_n) {
    uint64_t h = gh_hash(first, first_n, (uint64_t)ntok);
    return h ? h : 1;
}

uint64_t gh_miner_partition(const char *msg, size_t n) {
    char out[GH_MASK_OUT_CAP];
    gh_span_t toks[GH_MASK_MAX_TOKENS];
    size_t on;
    size_t nt = gh_mask_line(msg, n, out, sizeof out, &on, toks);
    return s_pkey(nt, nt ? out + toks[0].off : "", nt ? toks[0].len : 0);
}

/* ---- templates ------------------------------------------------------------ */

/* Sets a template's text and re-derives its token spans; -1 when out of memory. */
static int s_tpl_set_text(gh_miner_t *m, s_tpl_t *t, const char *text, size_t n) {
    if (n + 1 > t->text_cap) {
        size_t cap = n + 1 < 64 ? 64 : n + 1;
        char *p = realloc(t->text, cap);
        if (!p) return -1;
        t->text = p;
        t->text_cap = cap;
    }
    memcpy(t->text, text, n);
    t->text[n] = 0;
    t->text_n = n;
    t->rev = ++m->rev;
    uint32_t nt = 0;
    for (size_t i = 0; i < n;) {
        size_t s = i;
        while (i < n && text[i] != ' ') i++;
        if (nt == t->tok_cap) {
            uint32_t cap = t->tok_cap ? t->tok_cap * 2 : 8;
            gh_span_t *q = realloc(t->toks, cap * sizeof *q);
            if (!q) return -1;
            t->toks = q;
            t->tok_cap = cap;
        }
        t->toks[nt].off = (uint32_t)s;
        t->toks[nt++].len = (uint32_t)(i - s);
        i++;
    }
    t->ntok = nt;
    return 0;
}

static void s_chain_unlink(gh_miner_t *m, uint32_t slot) {
    s_tpl_t *t = &m->t[slot];
    uint64_t head;
    if (!s_map_get(&m->chains, t->pkey, &head)) return;
    if (head == slot) {
        if (t->bnext == S_NONE) s_map_del(&m->chains, t->pkey);
        else s_map_put(&m->chains, t->pkey, t->bnext);
        return;
    }
    for (uint32_t s = (uint32_t)head; s != S_NONE; s = m->t[s].bnext)
        if (m->t[s].bnext == slot) {
            m->t[s].bnext = t->bnext;
            return;
        }
}

static void s_note_deleted(gh_miner_t *m, uint64_t id) {
    if (m->ndeleted >= 4 * m->max) return; /* Redis long gone: stale entries are harmless */
    if (m->ndeleted == m->deleted_cap) {
        size_t cap = m->deleted_cap ? m->deleted_cap * 2 : 64;
        uint64_t *p = realloc(m->deleted, cap * sizeof *p);
        if (!p) return; /* the stale entry stays in Redis; harmless */
        m->deleted = p;
        m->deleted_cap = cap;
    }
    m->deleted[m->ndeleted++] = id;
}

/* Removes a live template from every index and frees its slot. */
static void s_tpl_drop(gh_miner_t *m, uint32_t slot) {
    s_tpl_t *t = &m->t[slot];
    s_chain_unlink(m, slot);
    s_map_del(&m->ids, t->id);
    s_note_deleted(m, t->id);
    t->live = 0;
    t->dirty = 0;
    t->gen++;
    m->free_slots[m->nfree++] = slot;
    m->live--;
}

static void s_evict_one(gh_miner_t *m) {
    uint32_t best = S_NONE;
    for (uint32_t i = 0; i < m->max; i++)
        if (m->t[i].live && (best == S_NONE || m->t[i].last < m->t[best].last)) best = i;
    if (best != S_NONE) s_tpl_drop(m, best);
}

/* Creates a template from text; returns its slot or S_NONE. */
static uint32_t s_tpl_create(gh_miner_t *m, uint64_t id, uint64_t seq, uint64_t count, const char *text, size_t n) {
    if (!m->nfree) s_evict_one(m);
    if (!m->nfree) return S_NONE;
    uint32_t slot = m->free_slots[--m->nfree];
    s_tpl_t *t = &m->t[slot];
    if (s_tpl_set_text(m, t, text, n) < 0) {
        m->free_slots[m->nfree++] = slot;
        return S_NONE;
    }
    /* a 64-bit id collision between two different live templates: probe on */
    for (uint64_t s = 1; !id || s_map_get(&m->ids, id, NULL); s++) id = gh_hash(text, n, s);
    t->id = id;
    t->seq = seq;
    t->count = count;
    t->last = ++m->tick;
    t->pkey = s_pkey(t->ntok, t->ntok ? t->text + t->toks[0].off : "", t->ntok ? t->toks[0].len : 0);
    uint64_t head;
    t->bnext = s_map_get(&m->chains, t->pkey, &head) ? (uint32_t)head : S_NONE;
    if (s_map_put(&m->chains, t->pkey, slot) < 0 || s_map_put(&m->ids, id, slot) < 0) {
        s_chain_unlink(m, slot);
        s_map_del(&m->ids, id);
        m->free_slots[m->nfree++] = slot;
        return S_NONE;
    }
    t->live = 1;
    t->dirty = 1;
    m->live++;
    return slot;
}

gh_miner_t *gh_miner_new(size_t max_templates) {
    gh_miner_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->max = max_templates ? max_templates : GH_MINER_DEFAULT_MAX;
    if (m->max > S_NONE / 2) m->max = S_NONE / 2;
    m->t = calloc(m->max, sizeof *m->t);
    m->free_slots = malloc(m->max * sizeof *m->free_slots);
    size_t cs = 1u << 16;
    while (cs < m->max * 4) cs <<= 1;
    m->cache = calloc(cs, sizeof *m->cache);
    m->cache_mask = cs - 1;
    if (!m->t || !m->free_slots || !m->cache || s_map_init(&m->chains, 64) < 0 || s_map_init(&m->ids, 64) < 0 ||
        s_map_init(&m->alias, 64) < 0)
        goto fail;
    for (size_t i = 0; i < m->max; i++) m->free_slots[i] = (uint32_t)(m->max - 1 - i);
    m->nfree = m->max;
    return m;
fail:
    gh_miner_destroy(&m);
    return NULL;
}

void gh_miner_destroy(gh_miner_t **mp) {
    gh_miner_t *m = mp ? *mp : NULL;
    if (!m) return;
    if (m->t)
        for (size_t i = 0; i < m->max; i++) {
            free(m->t[i].text);
            free(m->t[i].toks);
        }
    free(m->t);
    free(m->free_slots);
    free(m->cache);
    free(m->deleted);
    free(m->cand);
    s_map_free(&m->chains);
    s_map_free(&m->ids);
    s_map_free(&m->alias);
    free(m);
    *mp = NULL;
}

size_t gh_miner_count(const gh_miner_t *m) { return m ? m->live : 0; }

/* The line's tokens (m->buf / m->toks) against template t: number of
 * positions t does not cover, and the first such position in *pos. */
static size_t s_mismatches(const gh_miner_t *m, const s_tpl_t *t, size_t limit, uint32_t *pos) {
    size_t miss = 0;
    for (uint32_t p = 0; p < t->ntok; p++) {
        if (!s_tok_match(t->text + t->toks[p].off, t->toks[p].len, m->buf + m->toks[p].off, m->toks[p].len)) {
            if (!miss) *pos = p;
            if (++miss > limit) break;
        }
    }
    return miss;
}

static int s_cand_cmp(const void *a, const void *b) {
    const s_cand_t *x = a, *y = b;
    if (x->pos != y->pos) return x->pos < y->pos ? -1 : 1;
    return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* Merges the k templates cand[0..k) (and the line) into the oldest one, which
 * gets a variable wherever they differ.  Returns the survivor's slot. */
static uint32_t s_merge(gh_miner_t *m, const s_cand_t *cand, size_t k) {
    uint32_t surv = cand[0].slot;
    for (size_t i = 1; i < k; i++)
        if (m->t[cand[i].slot].seq < m->t[surv].seq) surv = cand[i].slot;
    s_tpl_t *st = &m->t[surv];
    const char *v[64]; /* 63 candidates are plenty of evidence for a generalisation */
    size_t vn[64];
    size_t o = 0;
    for (uint32_t p = 0; p < st->ntok; p++) {
        size_t nv = 0;
        v[nv] = m->buf + m->toks[p].off;
        vn[nv++] = m->toks[p].len;
        for (size_t i = 0; i < k && nv < 64; i++) {
            const s_tpl_t *c = &m->t[cand[i].slot];
            v[nv] = c->text + c->toks[p].off;
            vn[nv++] = c->toks[p].len;
        }
        const char *sv = st->text + st->toks[p].off;
        size_t sn = st->toks[p].len, j;
        for (j = 0; j < nv; j++)
            if (!s_glob(sv, sn, v[j], vn[j])) break;
        if (o) m->scratch[o++] = ' ';
        if (j == nv) {
            memcpy(m->scratch + o, sv, sn);
            o += sn;
        } else {
            o += s_generalise(v, vn, nv, m->scratch + o);
        }
    }
    uint64_t gained = 0;
    for (size_t i = 0; i < k; i++) {
        uint32_t s = cand[i].slot;
        if (s == surv) continue;
        gained += m->t[s].count;
        s_map_put(&m->alias, m->t[s].id, st->id);
        s_tpl_drop(m, s);
    }
    if (s_tpl_set_text(m, st, m->scratch, o) == 0) {
        st->count += gained;
        st->dirty = 1; /* its cache entries stay valid: the new text covers the old */
    }
    return surv;
}

/* Looks for evidence that one position of the line is a variable and merges;
 * returns the survivor's slot or S_NONE. */
static uint32_t s_try_merge(gh_miner_t *m, uint64_t head, size_t ntok) {
    size_t k = 0;
    for (uint32_t s = (uint32_t)head; s != S_NONE; s = m->t[s].bnext) {
        const s_tpl_t *t = &m->t[s];
        uint32_t pos = 0;
        if (t->ntok != ntok || s_mismatches(m, t, 1, &pos) != 1) continue;
        if (k == m->cand_cap) {
            size_t cap = m->cand_cap ? m->cand_cap * 2 : 64;
            s_cand_t *p = realloc(m->cand, cap * sizeof *p);
            if (!p) return S_NONE;
            m->cand = p;
            m->cand_cap = cap;
        }
        m->cand[k].slot = s;
        m->cand[k++].pos = pos;
    }
    if (!k) return S_NONE;
    qsort(m->cand, k, sizeof *m->cand, s_cand_cmp);
    for (size_t a = 0, b; a < k; a = b) {
        uint32_t j = m->cand[a].pos;
        for (b = a; b < k && m->cand[b].pos == j; b++) {}
        /* distinct values at j among the line and the candidates */
        const char *vals[GH_MINER_MERGE_VALUES];
        size_t lens[GH_MINER_MERGE_VALUES], nd = 0;
        int star = memmem(m->buf + m->toks[j].off, m->toks[j].len, "<*>", 3) != NULL;
        vals[nd] = m->buf + m->toks[j].off;
        lens[nd++] = m->toks[j].len;
        for (size_t i = a; i < b && !star && nd < GH_MINER_MERGE_VALUES; i++) {
            const s_tpl_t *t = &m->t[m->cand[i].slot];
            const char *x = t->text + t->toks[j].off;
            size_t xn = t->toks[j].len, d;
            if (memmem(x, xn, "<*>", 3)) star = 1;
            for (d = 0; d < nd; d++)
                if (lens[d] == xn && !memcmp(vals[d], x, xn)) break;
            if (d == nd) {
                vals[nd] = x;
                lens[nd++] = xn;
            }
        }
        if (star || nd >= GH_MINER_MERGE_VALUES) return s_merge(m, m->cand + a, b - a);
    }
    return S_NONE;
}

uint64_t gh_miner_add_hit(gh_miner_t *m, const char *msg, size_t n, gh_miner_hit_t *hit) {
    size_t bn;
    size_t ntok = gh_mask_line_words(msg, n, m->buf, sizeof m->buf, &bn, m->toks, m->words, &m->nwords);
    /* the cache's key only (ids stay xxHash64 of the text): XXH3 is the faster one for short input */
    uint64_t h = gh_hash_fast(m->buf, bn, 0x6768);
    s_cache_t *ce = &m->cache[h & m->cache_mask];
    uint32_t slot = S_NONE;
    int created = 0;
    if (ce->h == h && m->t[ce->slot].live && m->t[ce->slot].gen == ce->gen) {
        slot = ce->slot;
    } else {
        uint64_t pkey = s_pkey(ntok, ntok ? m->buf + m->toks[0].off : "", ntok ? m->toks[0].len : 0), head;
        if (s_map_get(&m->chains, pkey, &head)) {
            uint32_t pos;
            for (uint32_t s = (uint32_t)head; s != S_NONE && slot == S_NONE; s = m->t[s].bnext)
                if (m->t[s].ntok == ntok && s_mismatches(m, &m->t[s], 0, &pos) == 0) slot = s;
            if (slot == S_NONE) slot = s_try_merge(m, head, ntok);
        }
        if (slot == S_NONE) {
            slot = s_tpl_create(m, gh_hash(m->buf, bn, 0), m->seq++, 0, m->buf, bn);
            if (slot == S_NONE) return 0;
            created = 1;
        }
        ce->h = h;
        ce->slot = slot;
        ce->gen = m->t[slot].gen;
    }
    s_tpl_t *t = &m->t[slot];
    t->count++;
    t->last = ++m->tick;
    hit->tpl = t->text;
    hit->tpl_n = t->text_n;
    hit->rev = t->rev;
    hit->is_new = created;
    hit->words = m->words;
    hit->nwords = m->nwords;
    return t->id;
}

uint64_t gh_miner_add(gh_miner_t *m, const char *msg, size_t n, const char **tpl, size_t *tpl_n, int *is_new) {
    gh_miner_hit_t hit;
    uint64_t id = gh_miner_add_hit(m, msg, n, &hit);
    if (!id) return 0;
    if (tpl) *tpl = hit.tpl;
    if (tpl_n) *tpl_n = hit.tpl_n;
    if (is_new) *is_new = hit.is_new;
    return id;
}

uint64_t gh_miner_resolve(gh_miner_t *m, uint64_t id, const char **tpl, size_t *tpl_n) {
    uint64_t v;
    for (int hops = 0; hops < 64; hops++) {
        if (s_map_get(&m->ids, id, &v)) {
            s_tpl_t *t = &m->t[v];
            if (tpl) *tpl = t->text;
            if (tpl_n) *tpl_n = t->text_n;
            return id;
        }
        if (!s_map_get(&m->alias, id, &v)) return 0;
        id = v;
    }
    return 0;
}

/* ---- persistence ----------------------------------------------------------- */

int gh_miner_save(gh_miner_t *m, gh_redis_t *r) {
    if (!r) return 0;
    redisContext *c = gh_redis_ctx(r);
    if (!c) return -1; /* down (or disabled): the changes are kept */
    char key[128], field[24], head[64];
    gh_redis_key(r, key, sizeof key, "templates");
    size_t sent = 0;
    for (size_t i = 0; i < m->ndeleted; i++) {
        snprintf(field, sizeof field, "%016" PRIx64, m->deleted[i]);
        redisAppendCommand(c, "HDEL %s %s", key, field);
        sent++;
    }
    for (size_t i = 0; i < m->max; i++) {
        s_tpl_t *t = &m->t[i];
        if (!t->live || !t->dirty) continue;
        snprintf(field, sizeof field, "%016" PRIx64, t->id);
        int hn = snprintf(head, sizeof head, "%" PRIu64 "\t%" PRIu64 "\t", t->seq, t->count);
        redisAppendCommand(c, "HSET %s %s %b%b", key, field, head, (size_t)hn, t->text, t->text_n);
        sent++;
    }
    int ok = 1;
    for (size_t i = 0; i < sent; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
            gh_redis_failed(r);
            return -1;
        }
        if (rep->type == REDIS_REPLY_ERROR) {
            gh_warn("template save: redis error: %s", rep->str);
            ok = 0;
        }
        freeReplyObject(rep);
    }
    if (!ok) return -1;
    m->ndeleted = 0;
    for (size_t i = 0; i < m->max; i++) m->t[i].dirty = 0;
    return 0;
}

int gh_miner_load(gh_miner_t *m, gh_redis_t *r) {
    if (!r) return 0;
    redisContext *c = gh_redis_ctx(r);
    if (!c) return gh_redis_up(r) ? -1 : 0;
    char key[128];
    gh_redis_key(r, key, sizeof key, "templates");
    redisReply *rep = redisCommand(c, "HGETALL %s", key);
    if (!rep) {
        gh_redis_failed(r);
        return -1;
    }
    int rc = 0;
    if (rep->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 1 < rep->elements && m->nfree; i += 2) {
            redisReply *f = rep->element[i], *v = rep->element[i + 1];
            if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
            uint64_t id = strtoull(f->str, NULL, 16), seq, count;
            char *p = v->str, *end;
            seq = strtoull(p, &end, 10);
            if (*end != '\t') continue;
            count = strtoull(end + 1, &end, 10);
            if (*end != '\t') continue;
            p = end + 1;
            if (!id || s_map_get(&m->ids, id, NULL)) continue;
            uint32_t s = s_tpl_create(m, id, seq, count, p, v->len - (size_t)(p - v->str));
            if (s == S_NONE) { rc = -1; break; }
            m->t[s].dirty = 0;
            if (seq >= m->seq) m->seq = seq + 1;
        }
    } else if (rep->type == REDIS_REPLY_ERROR) {
        gh_warn("template load: redis error: %s", rep->str);
        rc = -1;
    }
    freeReplyObject(rep);
    return rc;
}
