/* anomaly.c -- event-time rate series per key, bursts, new templates and rate
 * samples for ghost-anomaly (see anomaly.h for the contract). */
#include "anomaly/anomaly.h"
#include "anomaly/detector.h"
#include "anomaly/hostdet.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define S_KEY_MAX 96
#define S_CACHE 1024   /* series lookups by binary identity, direct-mapped */
#define S_TXT_MAX 1024     /* template text / class kept per series */
#define S_LINE_MAX 512     /* example line bytes kept */
#define S_HOST_MAX 64
#define S_HOST_SLOTS 4
#define S_TPL_SLOTS 4   /* templates tallied per bucket of a level or class series */
#define S_BACKFILL_MAX 288 /* zero buckets back-filled into a new series */
#define S_GAP_MAX 1440     /* zero buckets fed in one go to an idle series */
#define S_RING_MIN 4       /* open buckets a series starts with (grows by doubling) */
#define S_SUB_EX 2         /* per-host example slots, by bucket index mod 2 (enough while
                              lateness < bucket: a source's event two buckets ahead has
                              closed the older bucket before it is counted) */
#define S_SHARE 0.8        /* "one template" / "one host": this share of the bucket (or excess) */
#define S_HKEY_MAX (S_KEY_MAX + S_HOST_MAX)   /* a per-host alert key: "<key>/<host>" */

/* Why an open burst sends nothing (0: it alerts). */
enum {
    S_LOUD = 0,
    S_Q_TEMPLATE,      /* a level/class burst that is one template's: that series reports it */
    S_Q_HOST,          /* an aggregate burst that is one host's open burst: the host's alert stands */
    S_Q_AGGREGATE      /* a host's burst inside its series' burst: the aggregate's alert reports it */
};

typedef struct {
    char host[S_HOST_MAX];
    uint32_t n;
    uint32_t len;                   /* strlen(host) */
    uint64_t hh;                    /* hash of host (gh_anomaly_add's), 0: unknown */
} s_host_t;

typedef struct {
    uint64_t id;
    uint32_t n;
} s_tally_t;                        /* events of one template in a bucket */

typedef struct {                    /* the fields every event touches first */
    double count;
    uint32_t nex;
    s_tally_t tpls[S_TPL_SLOTS];    /* level/class series only */
    s_host_t hosts[S_HOST_SLOTS];
    char ex[GH_MAX_EXAMPLES][S_LINE_MAX];
} s_bucket_t;

/* Burst bookkeeping of a series or of one host's sub-series. */
typedef struct {
    double hist[GH_MAX_SERIES];     /* last closed bucket counts, ring */
    uint64_t nhist;
    int64_t start, last;            /* open burst: first and latest non-empty bucket */
    double sum, score;
    uint32_t nex;
    char ex[GH_MAX_EXAMPLES][S_LINE_MAX];
    uint8_t open;                   /* a burst is open */
    uint8_t quiet;                  /* S_LOUD, or why the open burst sends nothing */
} s_burst_t;

/* Examples (and template tally) of one host in one open bucket. */
typedef struct {
    int64_t idx;                    /* the bucket they belong to */
    uint32_t nex;
    char ex[GH_MAX_EXAMPLES][S_LINE_MAX];
    s_tally_t tpls[S_TPL_SLOTS];    /* level/class series only */
} s_subex_t;

/* One host's sub-series of a series (see anomaly.h, Hosts): counts in a ring
 * parallel to its series' open buckets, judged by the light count detector
 * (hostdet.h). */
typedef struct {
    uint64_t hh;                    /* hash of the host name */
    char host[S_HOST_MAX];
    gh_hostdet_t det;
    gh_det_out_t o;                 /* its detector's output for the bucket closing */
    uint32_t *cnt;                  /* ring of the series' ncap buckets */
    int64_t last_ts;                /* its last event time */
    s_subex_t exs[S_SUB_EX];
    s_tally_t prev[S_TPL_SLOTS];    /* template tally of the last closed bucket */
    s_burst_t b;
} s_sub_t;

typedef struct s_series {
    struct s_series *next;          /* hash chain */
    uint64_t h;
    char key[S_KEY_MAX];
    char tpl[S_TXT_MAX];
    char cls[S_TXT_MAX];
    gh_detector_t *det;
    int64_t next_close;             /* first bucket index not yet closed (the
                                       series' own clock: it never goes back) */
    int64_t hi;                     /* highest bucket index holding an event */
    int64_t last_ts;                /* last event time */
    s_bucket_t *open;               /* ring of ncap buckets, by index mod ncap */
    int64_t ncap;                   /* power of two, <= the stage's max_open */
    s_burst_t b;                    /* hist and open burst */
    char bhost[S_HOST_MAX];         /* the open burst's dominant host, or "" */
    uint64_t src;                   /* its source: it closes on that source's clock */
    uint8_t kind;                   /* 1 template, 2 class, 3 level */
    /* hosts (see anomaly.h, Hosts) */
    uint8_t multi;                  /* a second host was seen: per-host sub-series on */
    uint8_t refused;                /* a host got no sub-series (cap): later ones start cold */
    uint64_t h1;                    /* the first host (hash, name) while there is one */
    char host1[S_HOST_MAX];
    s_sub_t **subs;
    int nsub, subcap;
} s_series_t;

/* One event-time source (a file): its clock and when it last sent. */
typedef struct {
    uint64_t src;
    int64_t first_ts, max_ts;       /* event time */
    uint64_t seen_n;                /* a->nin when it last sent an item */
    int idle;
    int64_t target;                 /* its series close below this bucket */
} s_source_t;

struct gh_anomaly {
    gh_anomaly_cfg_t cfg;
    gh_anomaly_sink_t sink;
    gh_hostdet_cfg_t hcfg;          /* the hosts' detectors */
    int64_t bucket_ms, late_ms;
    int64_t max_open;               /* open buckets per series, at most */
    int period;
    int started;
    uint64_t pending_src;           /* gh_anomaly_source_start() for a source not yet seen */
    int64_t pending_first;
    int has_pending;
    int64_t first_ts, max_ts;       /* over every source */
    int64_t idx_lo, idx;            /* the last bucket gh_anomaly_add() met: its
                                       start (ms) and index, when has_idx */
    int has_idx;
    int64_t first_idx;
    int64_t closed_idx;             /* the stage's close target: idx(watermark);
                                       may go back when a lagging source wakes */
    uint64_t nin;                   /* items (and advances) received */
    s_source_t *srcs;
    size_t nsrcs;
    s_series_t **tab;
    size_t tabn;
    uint64_t *used;                 /* bit per tab slot: its chain is not empty
                                       (walks skip the empty slots) */
    gh_anomaly_stats_t st;
    uint64_t *seen;                 /* open-addressing set of template ids (+1) */
    size_t seen_cap, seen_n;
    struct {                        /* (kind, id, source) -> series, so the hot */
        uint64_t bh;                /* path builds no key string (s_lookup) */
        s_series_t *s;
    } cache[S_CACHE];
};

void gh_anomaly_defaults(gh_anomaly_cfg_t *c)
{
    c->bucket_s = 60;
    c->lateness_s = 30;
    c->warmup_s = 300;
    c->min_level = GH_LVL_WARNING;
    c->min_count = 5;
    c->max_series = 4096;
    c->idle_s = 21600;
    c->max_templates = 1000000;
    c->idle_source_s = 120;
    c->idle_items = 512;
    c->max_open_s = 86400;
    c->max_sources = 1024;
    c->max_hosts = 16;
    c->max_host_series = 4096;
}

gh_anomaly_t *gh_anomaly_new(const gh_anomaly_cfg_t *cfg, gh_anomaly_sink_t sink)
{
    gh_anomaly_t *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    gh_anomaly_defaults(&a->cfg);
    if (cfg) {
        if (cfg->bucket_s > 0) a->cfg.bucket_s = cfg->bucket_s;
        if (cfg->lateness_s > 0) a->cfg.lateness_s = cfg->lateness_s;
        if (cfg->warmup_s > 0) a->cfg.warmup_s = cfg->warmup_s;
        if (cfg->min_level > 0) a->cfg.min_level = cfg->min_level;
        if (cfg->min_count > 0) a->cfg.min_count = cfg->min_count;
        if (cfg->max_series > 0) a->cfg.max_series = cfg->max_series;
        if (cfg->idle_s > 0) a->cfg.idle_s = cfg->idle_s;
        if (cfg->max_templates > 0) a->cfg.max_templates = cfg->max_templates;
        if (cfg->idle_source_s > 0) a->cfg.idle_source_s = cfg->idle_source_s;
        if (cfg->idle_items > 0) a->cfg.idle_items = cfg->idle_items;
        if (cfg->max_open_s > 0) a->cfg.max_open_s = cfg->max_open_s;
        if (cfg->max_sources > 0) a->cfg.max_sources = cfg->max_sources;
        if (cfg->max_hosts) a->cfg.max_hosts = cfg->max_hosts;
        if (cfg->max_host_series) a->cfg.max_host_series = cfg->max_host_series;
    }
    a->sink = sink;
    gh_hostdet_defaults(&a->hcfg);
    a->hcfg.min_count = a->cfg.min_count;
    a->bucket_ms = (int64_t)a->cfg.bucket_s * 1000;
    a->late_ms = (int64_t)a->cfg.lateness_s * 1000;
    a->max_open = ((int64_t)a->cfg.max_open_s * 1000 + a->bucket_ms - 1) / a->bucket_ms;
    if (a->max_open < S_RING_MIN) a->max_open = S_RING_MIN;
    a->period = a->cfg.bucket_s <= 43200 ? 86400 / a->cfg.bucket_s : 0;
    a->tabn = 1;
    while (a->tabn < 2 * (size_t)a->cfg.max_series) a->tabn <<= 1;
    a->tab = calloc(a->tabn, sizeof *a->tab);
    a->used = calloc((a->tabn + 63) / 64, sizeof *a->used);
    a->seen_cap = 1024;
    a->seen = calloc(a->seen_cap, sizeof *a->seen);
    a->srcs = calloc((size_t)a->cfg.max_sources, sizeof *a->srcs);
    if (!a->tab || !a->used || !a->seen || !a->srcs) {
        gh_anomaly_destroy(&a);
        return NULL;
    }
    return a;
}

static void s_sub_free(s_sub_t *u)
{
    if (!u) return;
    free(u->cnt);
    free(u);
}

/* Free s and its sub-series (counted out of a's stats when a is not NULL). */
static void s_series_free(gh_anomaly_t *a, s_series_t *s)
{
    if (!s) return;
    for (int i = 0; i < s->nsub; i++) s_sub_free(s->subs[i]);
    if (a) {
        a->st.host_series -= (uint64_t)s->nsub;
        a->st.host_evicted += (uint64_t)s->nsub;
    }
    free(s->subs);
    gh_detector_destroy(&s->det);
    free(s->open);
    free(s);
}

void gh_anomaly_destroy(gh_anomaly_t **ap)
{
    if (!ap || !*ap) return;
    gh_anomaly_t *a = *ap;
    if (a->tab)
        for (size_t i = 0; i < a->tabn; i++)
            for (s_series_t *s = a->tab[i], *nx; s; s = nx) {
                nx = s->next;
                s_series_free(NULL, s);
            }
    free(a->tab);
    free(a->used);
    free(a->seen);
    free(a->srcs);
    free(a);
    *ap = NULL;
}

void gh_anomaly_get_stats(const gh_anomaly_t *a, gh_anomaly_stats_t *st) { *st = a->st; }

/* floor(ts / bucket) for negative times too. */
static int64_t s_idx(const gh_anomaly_t *a, int64_t ts)
{
    int64_t q = ts / a->bucket_ms;
    if (ts < 0 && q * a->bucket_ms != ts) q--;
    return q;
}

/* The first slot of a->tab at or after i whose chain is not empty; tabn
 * when none. */
static size_t s_tab_next(const gh_anomaly_t *a, size_t i)
{
    while (i < a->tabn) {
        uint64_t w = a->used[i / 64] >> (i % 64);
        if (w) return i + (size_t)__builtin_ctzll(w);
        i = (i / 64 + 1) * 64;
    }
    return a->tabn;
}

static void s_copy(char *dst, size_t cap, gh_str_t s)
{
    size_t n = s.n < cap - 1 ? s.n : cap - 1;
    if (n) memcpy(dst, s.p, n);
    dst[n] = 0;
}

/* One more example line for a window.  ghost-classify sends the raw line only
 * with lines that can be one of the first three of a window (per source, in
 * event time): a line without it in a free slot means the two stages' window
 * widths differ. */
static void s_example(gh_anomaly_t *a, char ex[][S_LINE_MAX], uint32_t *nex, const gh_cls_t *c)
{
    if (!c->raw.p) {
        a->st.examples_missing++;
        return;
    }
    s_copy(ex[(*nex)++], S_LINE_MAX, c->raw);
}

/* ---- seen template ids ---------------------------------------------------- */

/* Returns 1 if id was already known, 0 if it was added, -1 if the set is full
 * (then the id is treated as known: better silent than a flood). */
static int s_seen_test_add(gh_anomaly_t *a, uint64_t id)
{
    uint64_t v = id + 1 ? id + 1 : 1;   /* 0 marks an empty slot */
    if (a->seen_n * 2 >= a->seen_cap) {
        if (a->seen_n >= (size_t)a->cfg.max_templates) {
            for (size_t i = gh_mix64(v) & (a->seen_cap - 1); a->seen[i];
                 i = (i + 1) & (a->seen_cap - 1))
                if (a->seen[i] == v) return 1;
            return -1;
        }
        size_t nc = a->seen_cap * 2;
        uint64_t *ns = calloc(nc, sizeof *ns);
        if (!ns) return -1;
        for (size_t i = 0; i < a->seen_cap; i++) {
            if (!a->seen[i]) continue;
            size_t j = gh_mix64(a->seen[i]) & (nc - 1);
            while (ns[j]) j = (j + 1) & (nc - 1);
            ns[j] = a->seen[i];
        }
        free(a->seen);
        a->seen = ns;
        a->seen_cap = nc;
    }
    size_t i = gh_mix64(v) & (a->seen_cap - 1);
    while (a->seen[i]) {
        if (a->seen[i] == v) return 1;
        i = (i + 1) & (a->seen_cap - 1);
    }
    a->seen[i] = v;
    a->seen_n++;
    return 0;
}

/* ---- alerts ---------------------------------------------------------------- */

static void s_alert_id(char out[17], const char *kind, const char *key, int64_t start_ms)
{
    char buf[S_HKEY_MAX + 96];
    int n = snprintf(buf, sizeof buf, "%s|%s|%" PRId64, kind, key, start_ms);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf) n = (int)sizeof buf - 1;
    snprintf(out, 17, "%016" PRIx64, gh_hash(buf, (size_t)n, 0));
}

static void s_emit(gh_anomaly_t *a, const gh_alert_t *al)
{
    a->st.alerts++;
    if (a->sink.on_alert) a->sink.on_alert(a->sink.ctx, al);
}

/* Dominant host of a bucket (>= 80% of its events), or NULL. */
static const char *s_dominant(const s_bucket_t *b)
{
    for (int i = 0; i < S_HOST_SLOTS; i++)
        if (b->hosts[i].n && b->count > 0 && b->hosts[i].n >= 0.8 * b->count) return b->hosts[i].host;
    return NULL;
}

/* Send a burst transition of s, or of its host sub-series u (u NULL: of s
 * itself).  A host's alert is keyed "<key>/<host>" and names the host. */
static void s_burst_alert(gh_anomaly_t *a, const s_series_t *s, const s_sub_t *u, const char *state,
                          const gh_det_out_t *o, double last_count)
{
    gh_alert_t al;
    char id[17], key[S_HKEY_MAX];
    const s_burst_t *b = u ? &u->b : &s->b;
    memset(&al, 0, sizeof al);
    if (u) snprintf(key, sizeof key, "%s/%s", s->key, u->host);
    else snprintf(key, sizeof key, "%s", s->key);
    /* firing keeps the documented id (kind, key, start); an update or a
     * resolve is a distinct message the alert stage must not drop as a
     * duplicate of the firing, so its id also names the state and the end */
    if (!strcmp(state, "firing")) {
        s_alert_id(id, "burst", key, b->start * a->bucket_ms);
    } else {
        char k2[S_HKEY_MAX + 64];
        snprintf(k2, sizeof k2, "%s|%s|%" PRId64, key, state, (b->last + 1) * a->bucket_ms);
        s_alert_id(id, "burst", k2, b->start * a->bucket_ms);
    }
    double per_min = 60.0 / a->cfg.bucket_s;
    const char *host = u ? u->host : s->bhost;
    al.id = gh_cstr(id);
    al.kind = gh_cstr("burst");
    al.key = gh_cstr(key);
    al.state = gh_cstr(state);
    al.tpl = gh_cstr(s->tpl);
    al.cls = gh_cstr(s->cls);
    if (host[0]) al.host = gh_cstr(host);
    al.start_ms = b->start * a->bucket_ms;
    al.end_ms = (b->last + 1) * a->bucket_ms;
    al.count = b->sum;
    al.rate = last_count * per_min;
    al.baseline = o->baseline * per_min;
    al.score = b->score;
    al.nexamples = b->nex;
    for (uint32_t i = 0; i < b->nex; i++) al.examples[i] = gh_cstr(b->ex[i]);
    uint64_t n = b->nhist < GH_MAX_SERIES ? b->nhist : GH_MAX_SERIES;
    for (uint64_t i = 0; i < n; i++) al.series[i] = b->hist[(b->nhist - n + i) % GH_MAX_SERIES];
    al.nseries = (uint32_t)n;
    s_emit(a, &al);
}

/* ---- series ---------------------------------------------------------------- */

static s_bucket_t *s_slot(const s_series_t *s, int64_t idx)
{
    return &s->open[(uint64_t)idx & (uint64_t)(s->ncap - 1)];
}

/* Emit the rate sample of bucket idx of s. */
static void s_rate(gh_anomaly_t *a, const s_series_t *s, int64_t idx, double cnt, const gh_det_out_t *o,
                   const char *host)
{
    gh_rate_t r;
    memset(&r, 0, sizeof r);
    r.key = gh_cstr(s->key);
    r.t_ms = idx * a->bucket_ms;
    r.width_s = (uint32_t)a->cfg.bucket_s;
    r.count = cnt;
    r.threshold = o->warm ? o->threshold : 0;
    r.tpl = gh_cstr(s->tpl);
    r.cls = gh_cstr(s->cls);
    r.host = gh_cstr(host ? host : "");
    a->st.rates++;
    if (a->sink.on_rate) a->sink.on_rate(a->sink.ctx, &r);
}

/* One template made >= S_SHARE of n events (a level/class tally). */
static int s_one_template(const s_tally_t *t, double n)
{
    for (int i = 0; i < S_TPL_SLOTS; i++)
        if (t[i].n && t[i].n >= S_SHARE * n) return 1;
    return 0;
}

/* One template's growth since the previous bucket (tally prev) makes at
 * least half of excess: a host's level/class burst over a baseline of other
 * templates that is mostly one template's burst, which that template's
 * series reports (half, not S_SHARE: the other templates' noise is part of
 * the excess; measured on the bench set, a brute force made 73% of its
 * host's auth_failure excess in its first bucket). */
static int s_one_template_growth(const s_tally_t *t, const s_tally_t *prev, double excess)
{
    for (int i = 0; i < S_TPL_SLOTS; i++) {
        if (!t[i].n) continue;
        double before = 0;
        for (int j = 0; j < S_TPL_SLOTS; j++)
            if (prev[j].n && prev[j].id == t[i].id) before = prev[j].n;
        if (t[i].n - before >= 0.5 * excess) return 1;
    }
    return 0;
}

/* A burst transition of b (of s, or of its host u) after the detector said
 * o about bucket idx holding cnt.  A burst that starts here sends nothing
 * when quiet is not S_LOUD (nor its updates or resolve), and keeps the
 * bucket's nex examples ex. */
static void s_burst_step(gh_anomaly_t *a, const s_series_t *s, const s_sub_t *u, s_burst_t *b,
                         const gh_det_out_t *o, int64_t idx, double cnt, int quiet, uint32_t nex,
                         char (*ex)[S_LINE_MAX])
{
    if (o->event == GH_DET_START) {
        b->open = 1;
        b->quiet = (uint8_t)quiet;
        b->start = b->last = idx;
        b->sum = cnt;
        /* the alert carries at least the surprise that started the burst
         * (the reported score of a rising step is held for its peak) */
        b->score = o->score > o->surprise ? o->score : o->surprise;
        b->nex = nex;
        if (nex) memcpy(b->ex, ex, nex * sizeof b->ex[0]);
        if (!b->quiet) s_burst_alert(a, s, u, "firing", o, cnt);
    } else if (o->in_burst) {
        b->sum += cnt;
        if (cnt > 0) b->last = idx;
        if (o->score > b->score) b->score = o->score;
        if (o->event == GH_DET_UPDATE && !b->quiet) s_burst_alert(a, s, u, "update", o, cnt);
    } else if (o->event == GH_DET_END) {
        if (!b->quiet) s_burst_alert(a, s, u, "resolved", o, cnt);
        b->open = 0;
        b->quiet = S_LOUD;
    }
}

static void s_hist_push(s_burst_t *b, double cnt)
{
    b->hist[b->nhist % GH_MAX_SERIES] = cnt;
    b->nhist++;
}

/* The host of s in a burst in bucket idx whose excess over its own
 * baseline is >= S_SHARE of s's excess, or NULL: a burst of s starting
 * there is that host's. */
static s_sub_t *s_host_owner(const s_series_t *s, int64_t idx, double excess)
{
    for (int i = 0; i < s->nsub; i++) {
        s_sub_t *u = s->subs[i];
        if (!u->o.in_burst) continue;
        double x = u->cnt[(uint64_t)idx & (uint64_t)(s->ncap - 1)];
        if (x - u->o.baseline >= S_SHARE * excess) return u;
    }
    return NULL;
}

/* Drop the sub-series of s that saw no event for cfg.idle_s, are not in a
 * burst and hold nothing in s's open buckets above idx. */
static void s_subs_evict(gh_anomaly_t *a, s_series_t *s, int64_t idx)
{
    int64_t horizon = (idx + 1) * a->bucket_ms - (int64_t)a->cfg.idle_s * 1000;
    int k = 0;
    for (int i = 0; i < s->nsub; i++) {
        s_sub_t *u = s->subs[i];
        int keep = u->last_ts >= horizon || u->b.open;
        for (int64_t j = idx + 1; !keep && j <= s->hi; j++)
            keep = u->cnt[(uint64_t)j & (uint64_t)(s->ncap - 1)] != 0;
        if (keep) {
            s->subs[k++] = u;
            continue;
        }
        s_sub_free(u);
        a->st.host_series--;
        a->st.host_evicted++;
    }
    s->nsub = k;
}

/* Close bucket idx of s: feed the detectors (the series' and its hosts'),
 * emit the rate sample and any burst transition.  A host's burst that starts
 * while the series is in a burst is the aggregate's to report; an aggregate
 * burst that starts while one host's reported burst explains most of its
 * excess is that host's (see anomaly.h, Hosts). */
static void s_close_bucket(gh_anomaly_t *a, s_series_t *s, int64_t idx)
{
    s_bucket_t *b = s_slot(s, idx);
    uint64_t slot = (uint64_t)idx & (uint64_t)(s->ncap - 1);
    double cnt = b->count;
    gh_det_out_t o;
    gh_detector_step(s->det, cnt, &o);
    s_hist_push(&s->b, cnt);
    a->st.buckets++;
    for (int i = 0; i < s->nsub; i++) {
        s_sub_t *u = s->subs[i];
        gh_hostdet_step(&u->det, &a->hcfg, u->cnt[slot], &u->o);
        s_hist_push(&u->b, u->cnt[slot]);
    }

    const char *dom = s_dominant(b);
    s_rate(a, s, idx, cnt, &o, dom);

    int quiet = S_LOUD;
    uint32_t nex = b->nex;
    char (*ex)[S_LINE_MAX] = b->ex;
    if (o.event == GH_DET_START) {
        /* one host in a burst of its own that makes most of the excess:
         * this burst is that host's (named, with its lines as examples);
         * when the host's alert went out at an earlier bucket, this one
         * stays silent */
        s_sub_t *owner = s_host_owner(s, idx, cnt - o.baseline);
        if (owner) {
            s_subex_t *e = &owner->exs[(uint64_t)idx % S_SUB_EX];
            dom = owner->host;
            if (e->idx == idx && e->nex) {
                nex = e->nex;
                ex = e->ex;
            }
        }
        /* a level or class burst made of one template (>= 80% of the
         * bucket) is that template's burst: its own series alerts */
        if (s->kind != 1 && s_one_template(b->tpls, cnt)) {
            quiet = S_Q_TEMPLATE;
            a->st.covered++;
        } else if (owner && owner->b.open && !owner->b.quiet) {
            quiet = S_Q_HOST;
            a->st.host_folded++;
        }
        s_copy(s->bhost, sizeof s->bhost, gh_cstr(dom ? dom : ""));
    }
    s_burst_step(a, s, NULL, &s->b, &o, idx, cnt, quiet, nex, ex);

    for (int i = 0; i < s->nsub; i++) {
        s_sub_t *u = s->subs[i];
        double x = u->cnt[slot];
        s_subex_t *e = &u->exs[(uint64_t)idx % S_SUB_EX];
        int mine = e->idx == idx;
        quiet = S_LOUD;
        if (u->o.event == GH_DET_START) {
            if (o.in_burst) quiet = S_Q_AGGREGATE;
            else if (s->kind != 1 && mine &&
                     (s_one_template(e->tpls, x) || s_one_template_growth(e->tpls, u->prev, x - u->o.baseline)))
                quiet = S_Q_TEMPLATE;
            if (quiet) a->st.host_covered++;
        }
        if (s->kind != 1) {
            if (mine) memcpy(u->prev, e->tpls, sizeof u->prev);
            else memset(u->prev, 0, sizeof u->prev);
        }
        s_burst_step(a, s, u, &u->b, &u->o, idx, x, quiet, mine ? e->nex : 0, e->ex);
        u->cnt[slot] = 0;
        if (mine) e->idx = INT64_MIN;
    }
    if (s->nsub) s_subs_evict(a, s, idx);
    memset(b, 0, sizeof *b);
}

static void s_unlink(gh_anomaly_t *a, s_series_t *s)
{
    size_t slot = s->h & (a->tabn - 1);
    s_series_t **pp = &a->tab[slot];
    while (*pp && *pp != s) pp = &(*pp)->next;
    if (*pp) *pp = s->next;
    if (!a->tab[slot]) a->used[slot / 64] &= ~(1ull << (slot % 64));
    a->st.series--;
    a->st.evicted++;
    for (size_t i = 0; i < S_CACHE; i++)
        if (a->cache[i].s == s) a->cache[i].s = NULL;
    s_series_free(a, s);
}

/* Evict the least recently active series that is not in a burst. */
static int s_evict_one(gh_anomaly_t *a)
{
    s_series_t *victim = NULL;
    for (size_t i = s_tab_next(a, 0); i < a->tabn; i = s_tab_next(a, i + 1))
        for (s_series_t *s = a->tab[i]; s; s = s->next)
            if (!gh_detector_in_burst(s->det) && (!victim || s->last_ts < victim->last_ts)) victim = s;
    if (!victim) return -1;
    s_unlink(a, victim);
    return 0;
}

/* ---- sources and the watermark ---------------------------------------------- */

static int64_t s_target(gh_anomaly_t *a);

/* The source of item c, created on first sight (the oldest idle source makes
 * room when the table is full; with none idle, the oldest one does). */
static s_source_t *s_source(gh_anomaly_t *a, uint64_t src, int64_t ts)
{
    for (size_t i = 0; i < a->nsrcs; i++)
        if (a->srcs[i].src == src) return &a->srcs[i];
    size_t k = a->nsrcs;
    if (k >= (size_t)a->cfg.max_sources) {
        a->closed_idx = s_target(a);   /* refreshes every source's idleness */
        k = 0;
        for (size_t i = 1; i < a->nsrcs; i++) {
            const s_source_t *x = &a->srcs[i], *v = &a->srcs[k];
            if (x->idle > v->idle || (x->idle == v->idle && x->seen_n < v->seen_n)) k = i;
        }
    } else {
        a->nsrcs++;
    }
    s_source_t *o = &a->srcs[k];
    o->src = src;
    o->first_ts = o->max_ts = ts;
    if (a->has_pending && a->pending_src == src) {
        if (a->pending_first < ts) o->first_ts = a->pending_first;
        a->has_pending = 0;
    }
    o->seen_n = a->nin;
    o->idle = 0;
    o->target = s_idx(a, ts - a->late_ms);
    return o;
}

/* Recompute idleness and the stage's close target (see anomaly.h, Time).
 * Returns the target bucket index: buckets below it may close. */
static int64_t s_target(gh_anomaly_t *a)
{
    int64_t lag_ms = (int64_t)a->cfg.idle_source_s * 1000;
    int64_t wm = INT64_MAX;
    for (size_t i = 0; i < a->nsrcs; i++) {
        s_source_t *o = &a->srcs[i];
        o->idle = a->max_ts - o->max_ts > lag_ms && a->nin - o->seen_n >= (uint64_t)a->cfg.idle_items;
        if (!o->idle && o->max_ts < wm) wm = o->max_ts;
    }
    if (wm == INT64_MAX) wm = a->max_ts;   /* every source idle: the leader's clock */
    int64_t c = s_idx(a, wm - a->late_ms);
    return c > a->first_idx ? c : a->first_idx;   /* nothing before the first event closes */
}

/* ---- series ---------------------------------------------------------------- */

static s_series_t *s_get(gh_anomaly_t *a, const char *key, const gh_cls_t *c, const s_source_t *o)
{
    uint64_t h = gh_hash(key, strlen(key), 0);
    for (s_series_t *s = a->tab[h & (a->tabn - 1)]; s; s = s->next)
        if (s->h == h && !strcmp(s->key, key)) return s;
    if (a->st.series >= (uint64_t)a->cfg.max_series && s_evict_one(a) != 0) return NULL;
    s_series_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    gh_detector_cfg_t dc;
    gh_detector_defaults(&dc);
    dc.period = a->period;
    dc.min_count = a->cfg.min_count;
    s->det = gh_detector_new(&dc);
    s->ncap = S_RING_MIN;
    s->open = calloc((size_t)s->ncap, sizeof *s->open);
    if (!s->det || !s->open) {
        s_series_free(NULL, s);
        return NULL;
    }
    s->h = h;
    snprintf(s->key, sizeof s->key, "%s", key);
    if (!strncmp(key, "tpl:", 4)) s_copy(s->tpl, sizeof s->tpl, c->tpl);
    if (!strncmp(key, "tpl:", 4) || !strncmp(key, "class:", 6)) s_copy(s->cls, sizeof s->cls, c->cls);
    /* the series was silent since its source started: say so to the
     * detector (at most one window of zeros before this event's bucket, so
     * the history does not depend on where the other sources stand) */
    s->src = c->src;
    int64_t tgt = o ? o->target : a->closed_idx;
    int64_t idx = s_idx(a, c->ts_ms), start = tgt < idx ? tgt : idx;
    int64_t from = idx - S_BACKFILL_MAX, src0 = s_idx(a, o->first_ts);
    if (from < src0) from = src0;
    gh_det_out_t out;
    for (int64_t i = from; i < start; i++) {
        gh_detector_step(s->det, 0, &out);
        s_rate(a, s, i, 0, &out, NULL);   /* the forecaster learns the silence too */
    }
    s->next_close = start;
    s->hi = start - 1;
    s->next = a->tab[h & (a->tabn - 1)];
    a->tab[h & (a->tabn - 1)] = s;
    a->used[(h & (a->tabn - 1)) / 64] |= 1ull << ((h & (a->tabn - 1)) % 64);
    a->st.series++;
    return s;
}

/* Close the buckets of s below `to` (long silences are skipped down to the
 * last S_GAP_MAX zero buckets: the detector only needs its last window). */
static void s_close_to(gh_anomaly_t *a, s_series_t *s, int64_t to)
{
    while (s->next_close < to) {
        if (s->next_close > s->hi && to - s->next_close > S_GAP_MAX) s->next_close = to - S_GAP_MAX;
        s_close_bucket(a, s, s->next_close);
        s->next_close++;
    }
}

/* Close every bucket below a->closed_idx in every series; evict idle ones. */
/* Where the series of source src close: below its source's target (every
 * series belongs to one source, and items reach this code in event-time
 * order per source, see reorder.h); the stage's target when the source is
 * gone. */
static int64_t s_series_target(const gh_anomaly_t *a, uint64_t src)
{
    for (size_t i = 0; i < a->nsrcs; i++)
        if (a->srcs[i].src == src) return a->srcs[i].target;
    return a->closed_idx;
}

static void s_close_all(gh_anomaly_t *a)
{
    int64_t idle_ms = (int64_t)a->cfg.idle_s * 1000;
    for (size_t i = s_tab_next(a, 0); i < a->tabn; i = s_tab_next(a, i + 1)) {
        s_series_t *s = a->tab[i], *nx;
        for (; s; s = nx) {
            nx = s->next;
            int64_t to = s_series_target(a, s->src);
            if (s->next_close >= to) continue;
            if (to * a->bucket_ms - s->last_ts > idle_ms && s->hi < s->next_close && !gh_detector_in_burst(s->det)) {
                s_unlink(a, s);
                continue;
            }
            s_close_to(a, s, to);
        }
    }
}

/* Re-evaluate the watermark and close what it passed. */
static void s_update(gh_anomaly_t *a, s_source_t *o)
{
    /* the source's own clock, less the lateness, closes its series; the
     * stage's target (for series whose source is gone) and the sources'
     * idleness are only read when something closes, so they are only
     * recomputed then (and before a source is evicted) */
    if (o->max_ts - a->late_ms < (o->target + 1) * a->bucket_ms && a->first_idx <= o->target)
        return;   /* the test below without its division: nothing closes */
    int64_t t = s_idx(a, o->max_ts - a->late_ms);
    if (t < a->first_idx) t = a->first_idx;
    if (t > o->target) {
        o->target = t;
        a->closed_idx = s_target(a);
        s_close_all(a);
    }
}

/* Source src sent an event at ts (or its watermark reached ts): its clock
 * moves, buckets may close.  Returns the source. */
static s_source_t *s_progress(gh_anomaly_t *a, uint64_t src, int64_t ts)
{
    if (!a->started) {
        a->started = 1;
        a->first_ts = a->max_ts = ts;
        a->first_idx = s_idx(a, ts);
        /* nothing before the first event's bucket is counted */
        a->closed_idx = a->first_idx;
    }
    a->nin++;
    s_source_t *o = s_source(a, src, ts);
    o->seen_n = a->nin;
    if (ts > o->max_ts) o->max_ts = ts;
    if (ts < a->first_ts) {
        a->first_ts = ts;
        a->first_idx = s_idx(a, ts);
    }
    if (ts > a->max_ts) a->max_ts = ts;
    s_update(a, o);
    return o;
}

void gh_anomaly_source_start(gh_anomaly_t *a, uint64_t src, int64_t first)
{
    for (size_t i = 0; i < a->nsrcs; i++)
        if (a->srcs[i].src == src) {
            if (first < a->srcs[i].first_ts) a->srcs[i].first_ts = first;
            return;
        }
    a->pending_src = src; /* applied when the source is created by its first item */
    a->pending_first = first;
    a->has_pending = 1;
}

void gh_anomaly_advance_source(gh_anomaly_t *a, uint64_t src, int64_t ts)
{
    s_progress(a, src, ts);
}

void gh_anomaly_advance(gh_anomaly_t *a, int64_t ts)
{
    s_progress(a, 0, ts);
}

/* Make room in s's ring for bucket idx: grow it, or when idx is more than
 * max_open buckets ahead of the series' clock, close the oldest buckets (the
 * series moves on without the lagging source; see anomaly.h, Memory). */
static int s_make_room(gh_anomaly_t *a, s_series_t *s, int64_t idx)
{
    if (idx - s->next_close >= a->max_open) {
        a->st.forced += (uint64_t)(idx - a->max_open + 1 - s->next_close);
        s_close_to(a, s, idx - a->max_open + 1);
    }
    int64_t need = idx - s->next_close + 1;
    if (need <= s->ncap) return 0;
    int64_t nc = s->ncap;
    while (nc < need) nc *= 2;
    s_bucket_t *nb = calloc((size_t)nc, sizeof *nb);
    if (!nb) return -1;
    /* the hosts' rings follow (all allocated first: nothing changes on failure) */
    uint32_t **nu = s->nsub ? calloc((size_t)s->nsub, sizeof *nu) : NULL;
    int ok = !s->nsub || nu;
    for (int i = 0; ok && i < s->nsub; i++) ok = (nu[i] = calloc((size_t)nc, sizeof **nu)) != NULL;
    if (!ok) {
        for (int i = 0; nu && i < s->nsub; i++) free(nu[i]);
        free(nu);
        free(nb);
        return -1;
    }
    uint64_t om = (uint64_t)(s->ncap - 1), nm = (uint64_t)(nc - 1);
    for (int64_t j = s->next_close; j <= s->hi; j++) nb[(uint64_t)j & nm] = *s_slot(s, j);
    for (int i = 0; i < s->nsub; i++) {
        for (int64_t j = s->next_close; j <= s->hi; j++) nu[i][(uint64_t)j & nm] = s->subs[i]->cnt[(uint64_t)j & om];
        free(s->subs[i]->cnt);
        s->subs[i]->cnt = nu[i];
    }
    free(nu);
    free(s->open);
    s->open = nb;
    s->ncap = nc;
    return 0;
}

/* ---- hosts ------------------------------------------------------------------ */

/* A new sub-series of s for host (hash hh), or NULL: a cap was reached (s is
 * marked refused) or memory ran out.  Its detector is given the history the
 * host is known to have had in s, so that it judges the host as s's own
 * detector would have: for s's first host (first set), s's closed buckets,
 * which were all that host's -- after the back-filled zeros when the history
 * ring holds every one of them, else only the ring's last GH_MAX_SERIES (the
 * rest of its warm-up is learnt live); for a later host, zeros (it sent
 * nothing to s so far), unless some host was refused before (then nothing:
 * that host's history is unknown, and it starts cold). */
static s_sub_t *s_sub_new(gh_anomaly_t *a, s_series_t *s, uint64_t hh, const char *host, int first)
{
    if (s->nsub >= a->cfg.max_hosts || a->st.host_series >= (uint64_t)a->cfg.max_host_series) {
        s->refused = 1;
        return NULL;
    }
    if (s->nsub == s->subcap) {
        int nc = s->subcap ? 2 * s->subcap : 2;
        if (nc > a->cfg.max_hosts) nc = a->cfg.max_hosts;
        s_sub_t **ns = realloc(s->subs, (size_t)nc * sizeof *ns);
        if (!ns) return NULL;
        s->subs = ns;
        s->subcap = nc;
    }
    s_sub_t *u = calloc(1, sizeof *u);
    if (!u) return NULL;
    u->cnt = calloc((size_t)s->ncap, sizeof *u->cnt);
    if (!u->cnt) {
        s_sub_free(u);
        return NULL;
    }
    u->hh = hh;
    snprintf(u->host, sizeof u->host, "%s", host);
    for (int i = 0; i < S_SUB_EX; i++) u->exs[i].idx = INT64_MIN;
    gh_det_out_t out;
    uint64_t steps = gh_detector_count(s->det);
    uint32_t zeros = steps < UINT32_MAX ? (uint32_t)steps : UINT32_MAX;
    uint64_t mask = (uint64_t)(s->ncap - 1);
    if (first) {
        u->last_ts = s->last_ts;
        uint64_t nh = s->b.nhist < GH_MAX_SERIES ? s->b.nhist : GH_MAX_SERIES;
        gh_hostdet_init(&u->det, s->b.nhist <= GH_MAX_SERIES ? zeros - (uint32_t)nh : 0);
        for (uint64_t i = 0; i < nh; i++) {
            double v = s->b.hist[(s->b.nhist - nh + i) % GH_MAX_SERIES];
            gh_hostdet_step(&u->det, &a->hcfg, v, &out);
            s_hist_push(&u->b, v);
        }
        /* its events in the open buckets: the buckets' host tallies */
        for (int64_t j = s->next_close; j <= s->hi; j++) {
            const s_bucket_t *b = s_slot(s, j);
            for (int k = 0; k < S_HOST_SLOTS; k++)
                if (b->hosts[k].n && !strcmp(b->hosts[k].host, host)) u->cnt[(uint64_t)j & mask] = b->hosts[k].n;
            if (j > s->hi - S_SUB_EX && u->cnt[(uint64_t)j & mask]) {
                s_subex_t *e = &u->exs[(uint64_t)j % S_SUB_EX];
                e->idx = j;
                e->nex = b->nex;
                memcpy(e->ex, b->ex, sizeof e->ex);
                memcpy(e->tpls, b->tpls, sizeof e->tpls);
            }
        }
    } else {
        gh_hostdet_init(&u->det, s->refused ? 0 : zeros);
    }
    s->subs[s->nsub++] = u;
    a->st.host_series++;
    return u;
}

/* One more event of template id in a bucket's template tally (the first
 * S_TPL_SLOTS templates seen; level and class series only). */
static void s_tally(s_tally_t *t, uint64_t id)
{
    for (int i = 0; i < S_TPL_SLOTS; i++) {
        if (t[i].n && t[i].id != id) continue;
        t[i].id = id;
        t[i].n++;
        return;
    }
}

/* Count c, whose host hashes to hh, in its host's sub-series of s at bucket
 * idx: the first host is only remembered; the second turns sub-series on
 * (see anomaly.h, Hosts). */
static void s_host_count(gh_anomaly_t *a, s_series_t *s, const gh_cls_t *c, uint64_t hh, int64_t idx)
{
    if (!s->multi) {
        if (!s->h1) {
            s->h1 = hh;
            s_copy(s->host1, sizeof s->host1, c->host);
            return;
        }
        if (hh == s->h1) return;
        s->multi = 1;
        if (!s_sub_new(a, s, s->h1, s->host1, 1)) s->refused = 1;
    }
    s_sub_t *u = NULL;
    for (int i = 0; i < s->nsub && !u; i++)
        if (s->subs[i]->hh == hh) u = s->subs[i];
    if (!u) {
        char host[S_HOST_MAX];
        s_copy(host, sizeof host, c->host);
        if (!(u = s_sub_new(a, s, hh, host, 0))) {
            s->refused = 1;
            a->st.host_untracked++;
            return;
        }
    }
    u->cnt[(uint64_t)idx & (uint64_t)(s->ncap - 1)]++;
    s_subex_t *e = &u->exs[(uint64_t)idx % S_SUB_EX];
    if (e->idx != idx) {
        e->idx = idx;
        e->nex = 0;
        memset(e->tpls, 0, sizeof e->tpls);
    }
    if (e->nex < GH_MAX_EXAMPLES) s_example(a, e->ex, &e->nex, c);
    if (s->kind != 1) s_tally(e->tpls, c->tpl_id);
    if (c->ts_ms > u->last_ts) u->last_ts = c->ts_ms;
}

/* Count c in s at bucket idx.  Returns 0, 1 when the bucket has closed for
 * this series (late), -1 when out of memory. */
static int s_count(gh_anomaly_t *a, s_series_t *s, const gh_cls_t *c, int64_t idx, uint64_t hh)
{
    if (idx < s->next_close) return 1;
    if (s_make_room(a, s, idx) < 0) return -1;
    if (idx > s->hi) s->hi = idx;
    s_bucket_t *b = s_slot(s, idx);
    b->count += 1;
    if (b->nex < GH_MAX_EXAMPLES) s_example(a, b->ex, &b->nex, c);
    int placed = 0;
    for (int i = 0; i < S_HOST_SLOTS && !placed; i++) {
        s_host_t *hs = &b->hosts[i];
        if (hs->n == 0) {
            s_copy(hs->host, sizeof hs->host, c->host);
            hs->len = (uint32_t)strlen(hs->host);
            /* the hash is kept when it covers exactly the bytes kept (no
             * truncation, no NUL inside): a host equal to them then hashes
             * alike, so another hash is another host, without the compare */
            hs->hh = hs->len == c->host.n ? hh : 0;
            hs->n = 1;
            placed = 1;
        } else if ((!hs->hh || hs->hh == hh) && hs->len == c->host.n && !memcmp(hs->host, c->host.p, c->host.n)) {
            hs->n++;
            placed = 1;
        }
    }
    if (s->kind != 1) s_tally(b->tpls, c->tpl_id);
    if (c->ts_ms > s->last_ts) s->last_ts = c->ts_ms;
    /* per host: class and level series, and templates that are warning or
     * worse or carry a failure class (see anomaly.h, Hosts) */
    if (hh && (s->kind != 1 || c->level <= a->cfg.min_level || c->cls.n)) s_host_count(a, s, c, hh, idx);
    return 0;
}

static void s_new_template(gh_anomaly_t *a, const gh_cls_t *c, const s_source_t *o)
{
    int known = s_seen_test_add(a, c->tpl_id);
    if (known != 0) return;
    char key[S_KEY_MAX];
    snprintf(key, sizeof key, "tpl:%" PRIu64, c->tpl_id);
    /* warm-up is per source: a file that starts later is learnt silently too */
    if (c->ts_ms - o->first_ts < (int64_t)a->cfg.warmup_s * 1000) return;
    /* a failure class (oom, crash, ...) is warning-or-worse whatever level the
     * line's format gave it (syslog without PRI has none) */
    if (c->level > a->cfg.min_level && !c->cls.n) return;
    gh_alert_t al;
    char id[17], tpl[S_TXT_MAX], cls[S_TXT_MAX], host[S_HOST_MAX], ex[S_LINE_MAX];
    memset(&al, 0, sizeof al);
    s_alert_id(id, "new_template", key, 0);
    s_copy(tpl, sizeof tpl, c->tpl);
    s_copy(cls, sizeof cls, c->cls);
    s_copy(host, sizeof host, c->host);
    s_copy(ex, sizeof ex, c->raw);
    al.id = gh_cstr(id);
    al.kind = gh_cstr("new_template");
    al.key = gh_cstr(key);
    al.state = gh_cstr("firing");
    al.tpl = gh_cstr(tpl);
    al.cls = gh_cstr(cls);
    if (host[0]) al.host = gh_cstr(host);
    al.start_ms = al.end_ms = c->ts_ms;
    al.count = 1;
    al.score = 1;
    al.nexamples = c->raw.p ? 1 : 0;
    al.examples[0] = gh_cstr(ex);
    if (!c->raw.p) a->st.examples_missing++;
    s_emit(a, &al);
}

/* Series key: the kind's name, and the source when there is one (one series
 * per key and source; see anomaly.h, Time). */
static void s_key(char *key, size_t cap, const gh_cls_t *c, const char *fmt, const char *name, int n)
{
    char base[S_KEY_MAX - 9];   /* room for "@" and 8 hex digits */
    snprintf(base, sizeof base, fmt, n, name);
    if (c->src) snprintf(key, cap, "%s@%08" PRIx32, base, (uint32_t)(c->src >> 32));
    else snprintf(key, cap, "%s", base);
}

/* The series of (kind, id, c's source), where id is the template id, the
 * level, or a hash of the class name: looked up in a small direct-mapped
 * cache by the hash of those three numbers, and only on a miss by its key
 * string (built from fmt and name, as s_key does; name NULL = id in decimal). */
static s_series_t *s_lookup(gh_anomaly_t *a, uint64_t kind, uint64_t id, const gh_cls_t *c,
                            const s_source_t *o, const char *fmt, const char *name, int n)
{
    uint64_t bh = gh_mix64(gh_mix64(id + kind * 0x9e3779b97f4a7c15ull) ^ c->src);
    if (!bh) bh = 1;
    size_t slot = bh & (S_CACHE - 1);
    if (a->cache[slot].s && a->cache[slot].bh == bh) return a->cache[slot].s;
    char key[S_KEY_MAX], num[24];
    if (!name) {   /* a template: its id in decimal */
        n = snprintf(num, sizeof num, "%" PRIu64, id);
        name = num;
    }
    s_key(key, sizeof key, c, fmt, name, n);
    s_series_t *s = s_get(a, key, c, o);
    if (s) {
        s->kind = (uint8_t)kind;
        a->cache[slot].bh = bh;
        a->cache[slot].s = s;
    }
    return s;
}

/* Count c (host hash hh) in series s; folds the result into *rc / *late. */
static void s_add_to(gh_anomaly_t *a, s_series_t *s, const gh_cls_t *c, int64_t idx, uint64_t hh, int *rc,
                     int *late)
{
    int r = s ? s_count(a, s, c, idx, hh) : -1;
    if (r < 0) *rc = -1;
    else if (r > 0) *late = 1;
}

int gh_anomaly_add(gh_anomaly_t *a, const gh_cls_t *c)
{
    const s_source_t *o = s_progress(a, c->src, c->ts_ms);
    if (c->keys & GH_KEY_TEMPLATE) s_new_template(a, c, o);
    /* events come in time order per source: most fall in the last bucket
     * met, whose index is known without a division */
    if (!a->has_idx || c->ts_ms < a->idx_lo || (uint64_t)c->ts_ms - (uint64_t)a->idx_lo >= (uint64_t)a->bucket_ms) {
        a->idx = s_idx(a, c->ts_ms);
        /* (a bucket at the very edge of the time range is not kept) */
        a->has_idx = !__builtin_mul_overflow(a->idx, a->bucket_ms, &a->idx_lo);
    }
    int64_t idx = a->idx;
    int rc = 0, late = 0;
    uint64_t hh = 0;   /* the host's hash, 0: not counted per host */
    if (c->host.n && a->cfg.max_hosts > 0 && a->cfg.max_host_series > 0) {
        hh = gh_hash_fast(c->host.p, c->host.n < S_HOST_MAX - 1 ? c->host.n : S_HOST_MAX - 1, 0x40);
        if (!hh) hh = 1;
    }
    if (c->keys & GH_KEY_TEMPLATE)
        s_add_to(a, s_lookup(a, 1, c->tpl_id, c, o, "tpl:%.*s", NULL, 0), c, idx, hh, &rc, &late);
    if ((c->keys & GH_KEY_CLASS) && c->cls.n) {
        int n = (int)(c->cls.n < 64 ? c->cls.n : 64);
        s_add_to(a, s_lookup(a, 2, gh_hash_fast(c->cls.p, (size_t)n, 0), c, o, "class:%.*s", c->cls.p, n), c, idx,
                 hh, &rc, &late);
    }
    if ((c->keys & GH_KEY_LEVEL) && c->level <= a->cfg.min_level) {
        const char *ln = gh_level_name(c->level);
        s_add_to(a, s_lookup(a, 3, (uint64_t)c->level, c, o, "level:%.*s", ln, (int)strlen(ln)), c, idx, hh,
                 &rc, &late);
    }
    if (rc < 0) return -1;
    if (late) {
        a->st.late++;
        return 1;
    }
    a->st.items++;
    return 0;
}

void gh_anomaly_flush(gh_anomaly_t *a)
{
    if (!a->started) return;
    /* every complete bucket closes; the one holding the last event time is
     * partial (input ended inside it) and is not scored */
    int64_t c = s_idx(a, a->max_ts);
    for (size_t i = s_tab_next(a, 0); i < a->tabn; i = s_tab_next(a, i + 1))
        for (s_series_t *s = a->tab[i]; s; s = s->next) {
            /* each series ends where its source ended (the same point in
             * every worker: the source's last watermark), else the stage's */
            int64_t sc = c;
            for (size_t k = 0; k < a->nsrcs; k++)
                if (a->srcs[k].src == s->src) sc = s_idx(a, a->srcs[k].max_ts);
            s_close_to(a, s, sc);
            for (int64_t j = s->next_close; j <= s->hi; j++) {
                a->st.tail += (uint64_t)s_slot(s, j)->count;
                memset(s_slot(s, j), 0, sizeof(s_bucket_t));
                for (int k = 0; k < s->nsub; k++) s->subs[k]->cnt[(uint64_t)j & (uint64_t)(s->ncap - 1)] = 0;
            }
            if (s->hi >= s->next_close) s->next_close = s->hi + 1;
        }
    if (c > a->closed_idx) a->closed_idx = c;
}
