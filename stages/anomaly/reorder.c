/* reorder.c -- see reorder.h.  One binary min-heap per source; sources are
 * few (files), so they sit in an array searched linearly.  Heap entries carry
 * their sort key inline (event time, template id), so sifting compares
 * within the heap array; the tie (s_tie: a hash of the raw line) is computed only
 * when two entries' time and template are equal, and kept on the item.  In front of
 * each heap sits a run: a FIFO of entries in event-time order (each with a
 * time not less than the run's last), which is what one classify worker
 * delivers -- but the lines of one time come in any template order, so the
 * run takes them as they come and sorts each group of equal times by the
 * full key only when its first entry is released (no entry of that time can
 * join the group after that: the watermark has passed it).  Only entries
 * whose time is behind the run's last go through the heap, and the least of
 * the run's head and the heap's top is released first.  Held items come
 * from size-class free lists (64-byte steps up to 4 KiB, carved from 64 KiB
 * slabs), so holding and releasing an item allocates nothing once the
 * lists are warm; larger items use malloc. */
#include "reorder.h"
#include "hash.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    gh_cls_t c;          /* strings point into data[] */
    uint64_t tie;        /* s_tie, when has_tie */
    uint32_t size;       /* bytes of data[] */
    uint32_t has_tie;
    char data[];
} s_item_t;

typedef struct {
    int64_t ts;
    uint64_t tpl;
    s_item_t *it;
} s_ent_t;


typedef struct {
    uint64_t src;
    int64_t wm;          /* released up to here */
    int has_wm;
    s_ent_t *heap;
    size_t n, cap;         /* entries in the heap */
    s_ent_t *run;          /* ring of rcap entries, in time order */
    size_t rhead, rn, rcap;
    size_t rsorted;        /* the run's first rsorted entries are one time's
                              group, sorted by the full key (0: not yet) */
} s_src_t;

#define S_STEP 64                 /* size classes: 64, 128, ... S_MAX_SMALL bytes */
#define S_MAX_SMALL 4096
#define S_NCLASS (S_MAX_SMALL / S_STEP)
#define S_SLAB (64u << 10)

typedef struct s_free { struct s_free *next; } s_free_t;
typedef struct s_slab { struct s_slab *next; } s_slab_t;

struct gh_reorder {
    s_src_t *srcs;
    size_t nsrc, capsrc, held, max_items;
    uint64_t forced;
    s_free_t *free_list[S_NCLASS];
    s_slab_t *slabs;          /* every slab, for destroy */
    char *bump, *bump_end;    /* the unused rest of the newest slab */
};

/* An item of n bytes (header included): a free-list block, a piece of a
 * slab, or malloc for large ones.  NULL when out of memory. */
static s_item_t *s_item_alloc(gh_reorder_t *r, size_t n) {
    if (n > S_MAX_SMALL) return n > UINT32_MAX ? NULL : malloc(n);
    size_t k = (n - 1) / S_STEP, sz = (k + 1) * S_STEP;
    if (r->free_list[k]) {
        s_free_t *f = r->free_list[k];
        r->free_list[k] = f->next;
        /* the next block of this class went cold while its item was out
         * being counted: fetch it while this one is filled */
        if (f->next) __builtin_prefetch(f->next, 1);
        return (s_item_t *)f;
    }
    if ((size_t)(r->bump_end - r->bump) < sz) {
        s_slab_t *sl = malloc(S_SLAB);
        if (!sl) return NULL;
        sl->next = r->slabs;
        r->slabs = sl;
        r->bump = (char *)sl + S_STEP; /* the slab's link sits in its first step */
        r->bump_end = (char *)sl + S_SLAB;
    }
    s_item_t *it = (s_item_t *)r->bump;
    r->bump += sz;
    return it;
}

static void s_item_free(gh_reorder_t *r, s_item_t *it) {
    if (!it) return;
    size_t n = sizeof *it + it->size;
    if (n > S_MAX_SMALL) {
        free(it);
        return;
    }
    s_free_t *f = (s_free_t *)it;
    f->next = r->free_list[(n - 1) / S_STEP];
    r->free_list[(n - 1) / S_STEP] = f;
}

gh_reorder_t *gh_reorder_new(size_t max_items) {
    gh_reorder_t *r = calloc(1, sizeof *r);
    if (r) r->max_items = max_items ? max_items : 200000;
    return r;
}

void gh_reorder_destroy(gh_reorder_t **rp) {
    gh_reorder_t *r = *rp;
    if (!r) return;
    for (size_t i = 0; i < r->nsrc; i++) {
        s_src_t *s = &r->srcs[i];
        for (size_t k = 0; k < s->n; k++) s_item_free(r, s->heap[k].it);
        for (size_t k = 0; k < s->rn; k++) s_item_free(r, s->run[(s->rhead + k) & (s->rcap - 1)].it);
        free(s->heap);
        free(s->run);
    }
    while (r->slabs) {
        s_slab_t *next = r->slabs->next;
        free(r->slabs);
        r->slabs = next;
    }
    free(r->srcs);
    free(r);
    *rp = NULL;
}

size_t gh_reorder_held(const gh_reorder_t *r) { return r->held; }
uint64_t gh_reorder_forced(const gh_reorder_t *r) { return r->forced; }

/* The tie of an item, computed on first use: a hash of its raw line, so that
 * lines of one time and template leave in an order that does not depend on
 * how they arrived.  Lines sent without their raw line (they cannot be an
 * example: ghost-classify) are told apart by host, which is what the order
 * among them can change (a bucket's host slots); those of one host are alike
 * for everything the order decides. */
static uint64_t s_tie(s_item_t *it) {
    if (!it->has_tie) {
        gh_str_t by = it->c.raw.p ? it->c.raw : it->c.host;
        it->tie = gh_hash_fast(by.p, by.n, it->c.keys + (it->c.raw.p ? 0 : 0x100));
        it->has_tie = 1;
    }
    return it->tie;
}

/* The order: (event time, template id, tie). */
static inline int s_less(const s_ent_t *a, const s_ent_t *b) {
    if (a->ts != b->ts) return a->ts < b->ts;
    if (a->tpl != b->tpl) return a->tpl < b->tpl;
    return s_tie(a->it) < s_tie(b->it);
}

static void s_up(s_ent_t *h, size_t i) {
    s_ent_t e = h[i];
    while (i) {
        size_t p = (i - 1) / 2;
        if (!s_less(&e, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = e;
}

/* Removes the top: the hole at the root sinks to a leaf along the lesser
 * children, then the last entry rises from there (fewer comparisons than a
 * plain sift-down, since the last entry usually belongs near the bottom). */
static s_item_t *s_heap_pop(gh_reorder_t *r, s_src_t *s) {
    s_ent_t *h = s->heap;
    s_item_t *top = h[0].it;
    size_t n = --s->n, i = 0;
    r->held--;
    if (!n) return top;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= n) break;
        if (l + 1 < n && s_less(&h[l + 1], &h[l])) l++;
        h[i] = h[l];
        i = l;
    }
    h[i] = h[n];
    s_up(h, i);
    return top;
}

/* The least event time held by s; 0 when s holds nothing. */
static int s_least_ts(const s_src_t *s, int64_t *ts) {
    if (!s->rn && !s->n) return 0;
    if (!s->n) *ts = s->run[s->rhead].ts;
    else if (!s->rn) *ts = s->heap[0].ts;
    else *ts = s->run[s->rhead].ts < s->heap[0].ts ? s->run[s->rhead].ts : s->heap[0].ts;
    return 1;
}

static int s_cmp(const void *a, const void *b) {
    return s_less(a, b) ? -1 : s_less(b, a) ? 1 : 0;
}

/* Reverses entries [i, j) of a (plain array indices). */
static void s_reverse(s_ent_t *a, size_t i, size_t j) {
    while (i + 1 < j) {
        s_ent_t t = a[i];
        a[i++] = a[--j];
        a[j] = t;
    }
}

/* Sorts the group of equal times at the head of the run by the full key
 * (insertion sort: groups are small; qsort past 32).  A group that wraps
 * around the ring's end is first rotated to the array's start. */
static void s_run_sort(s_src_t *s) {
    size_t m = s->rcap - 1, g = 1;
    int64_t ts = s->run[s->rhead].ts;
    while (g < s->rn && s->run[(s->rhead + g) & m].ts == ts) g++;
    s->rsorted = g;
    if (g < 2) return;
    if (s->rhead + g > s->rcap) { /* rotate left by rhead: three reversals */
        s_reverse(s->run, 0, s->rhead);
        s_reverse(s->run, s->rhead, s->rcap);
        s_reverse(s->run, 0, s->rcap);
        s->rhead = 0;
    }
    s_ent_t *a = &s->run[s->rhead];
    if (g > 32) {
        qsort(a, g, sizeof *a, s_cmp);
        return;
    }
    for (size_t i = 1; i < g; i++) {
        s_ent_t e = a[i];
        size_t j = i;
        for (; j && s_less(&e, &a[j - 1]); j--) a[j] = a[j - 1];
        a[j] = e;
    }
}

/* Removes and returns the least held item of s (s holds one at least). */
static s_item_t *s_pop(gh_reorder_t *r, s_src_t *s) {
    if (s->rn && !s->rsorted) s_run_sort(s);
    if (!s->rn || (s->n && s_less(&s->heap[0], &s->run[s->rhead]))) return s_heap_pop(r, s);
    s_item_t *it = s->run[s->rhead].it;
    s->rhead = (s->rhead + 1) & (s->rcap - 1);
    s->rn--;
    s->rsorted--;
    r->held--;
    return it;
}

/* Held items went cold since they were copied in: while one is counted,
 * the next one (most likely the run's head) is fetched. */
static inline void s_prefetch_next(const s_src_t *s) {
    if (!s->rn) return;
    const char *p = (const char *)s->run[s->rhead].it;
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
    __builtin_prefetch(p + 128);
    __builtin_prefetch(p + 192);
}

/* Appends e to the run when its time is not behind the run's last (1),
 * else 0; -1 when the run cannot grow. */
static int s_run_push(s_src_t *s, const s_ent_t *e) {
    if (s->rn) {
        int64_t last = s->run[(s->rhead + s->rn - 1) & (s->rcap - 1)].ts;
        if (e->ts < last) return 0;
        /* joins the sorted head group (only if the order of its time was
         * released early): that group is sorted again */
        if (e->ts == last && s->rsorted == s->rn) s->rsorted = 0;
    }
    if (s->rn == s->rcap) {
        size_t cap = s->rcap ? 2 * s->rcap : 256;
        s_ent_t *nr = malloc(cap * sizeof *nr);
        if (!nr) return -1;
        for (size_t k = 0; k < s->rn; k++) nr[k] = s->run[(s->rhead + k) & (s->rcap - 1)];
        free(s->run);
        s->run = nr;
        s->rcap = cap;
        s->rhead = 0;
    }
    s->run[(s->rhead + s->rn) & (s->rcap - 1)] = *e;
    s->rn++;
    return 1;
}

static s_src_t *s_find(gh_reorder_t *r, uint64_t src, int create) {
    for (size_t i = 0; i < r->nsrc; i++)
        if (r->srcs[i].src == src) return &r->srcs[i];
    if (!create) return NULL;
    if (r->nsrc == r->capsrc) {
        size_t cap = r->capsrc ? 2 * r->capsrc : 8;
        s_src_t *ns = realloc(r->srcs, cap * sizeof *ns);
        if (!ns) return NULL;
        r->srcs = ns;
        r->capsrc = cap;
    }
    s_src_t *s = &r->srcs[r->nsrc++];
    memset(s, 0, sizeof *s);
    s->src = src;
    return s;
}

static gh_str_t s_put(char **p, gh_str_t v) {
    if (v.n) memcpy(*p, v.p, v.n); /* an empty string may have no pointer */
    gh_str_t out = { *p, v.n };
    *p += v.n;
    return out;
}

/* The bound: the fullest source gives up its oldest item. */
static void s_enforce(gh_reorder_t *r, gh_reorder_fn fn, void *ud) {
    while (r->held > r->max_items) {
        s_src_t *big = &r->srcs[0];
        for (size_t i = 1; i < r->nsrc; i++)
            if (r->srcs[i].n + r->srcs[i].rn > big->n + big->rn) big = &r->srcs[i];
        s_item_t *it = s_pop(r, big);
        if (!big->has_wm || it->c.ts_ms > big->wm) big->wm = it->c.ts_ms;
        big->has_wm = 1;
        r->forced++;
        fn(ud, &it->c);
        s_item_free(r, it);
    }
}

int gh_reorder_push(gh_reorder_t *r, const gh_cls_t *c, gh_reorder_fn fn, void *ud) {
    s_src_t *s = s_find(r, c->src, 1);
    if (s && s->has_wm && c->ts_ms <= s->wm) { /* its window of order has passed */
        fn(ud, c);
        return 0;
    }
    size_t dn = (size_t)c->cls.n + c->host.n + c->tpl.n + c->raw.n;
    s_item_t *it = s ? s_item_alloc(r, sizeof *it + dn) : NULL;
    if (it) { /* filled first: placing it in the heap may need its tie */
        it->size = (uint32_t)dn;
        it->has_tie = 0;
        it->c = *c;
        char *p = it->data;
        it->c.cls = s_put(&p, c->cls);
        it->c.host = s_put(&p, c->host);
        it->c.tpl = s_put(&p, c->tpl);
        it->c.raw = c->raw.p ? s_put(&p, c->raw) : c->raw; /* sent without its raw line: stays so */
    }
    s_ent_t e = { c->ts_ms, c->tpl_id, it };
    int placed = it ? s_run_push(s, &e) : -1;
    if (placed == 0) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 64;
            s_ent_t *nh = realloc(s->heap, cap * sizeof *nh);
            if (nh) {
                s->heap = nh;
                s->cap = cap;
            }
        }
        if (s->n < s->cap) {
            s->heap[s->n] = e;
            s_up(s->heap, s->n++);
            placed = 1;
        }
    }
    if (placed != 1) {
        s_item_free(r, it);
        fn(ud, c);
        return -1;
    }
    r->held++;
    s_enforce(r, fn, ud);
    return 0;
}

void gh_reorder_release(gh_reorder_t *r, uint64_t src, int64_t wm, gh_reorder_fn fn, void *ud) {
    s_src_t *s = s_find(r, src, 1);
    if (!s) return;
    if (!s->has_wm || wm > s->wm) s->wm = wm;
    s->has_wm = 1;
    for (int64_t ts; s_least_ts(s, &ts) && ts <= s->wm;) {
        s_item_t *it = s_pop(r, s);
        s_prefetch_next(s);
        fn(ud, &it->c);
        s_item_free(r, it);
    }
}

void gh_reorder_release_all(gh_reorder_t *r, gh_reorder_fn fn, void *ud) {
    for (size_t i = 0; i < r->nsrc; i++)
        while (r->srcs[i].n || r->srcs[i].rn) {
            s_item_t *it = s_pop(r, &r->srcs[i]);
            fn(ud, &it->c);
            s_item_free(r, it);
        }
}
