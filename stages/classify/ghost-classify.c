/* ghost-classify -- gives every record a template and a failure class.
 *
 * Input: GH_T_RECORD batches, already partitioned by the miner's first split
 * (ingest hashes gh_miner_partition), so each template tree lives in exactly
 * one worker.  Output: GH_T_CLASSIFIED items to ghost-anomaly, routed by
 * series key: the record's template series, failure-class series and level
 * series may each belong to a different anomaly worker, so the item goes to
 * each worker that owns one of them, with the GH_KEY_* bits saying which.
 * Templates are saved to Redis every few seconds (only the changed ones) and
 * restored at start.
 */
#include "classify/classes.h"
#include "classify/miner.h"
#include "clock.h"
#include "hash.h"
#include "log.h"
#include "sig.h"
#include "stage.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gh_stage_cfg_t s_cfg;
static char *s_rules;
static long s_max_templates, s_save_ms, s_bucket_s;
static int s_class_cache;

static const gh_opt_t s_opts[] = {
    GH_STAGE_OPTIONS(s_cfg, "ipc://RUN_DIR/anomaly-0.sock"),
    { "classes", GH_OPT_STR, &s_rules, "", "failure-class rule file (default: the built-in rules)" },
    { "max-templates", GH_OPT_INT, &s_max_templates, "20000", "templates kept; the least used are evicted" },
    { "class-cache", GH_OPT_BOOL, &s_class_cache, "1", "cache failure classes per template (0: match every record whole)" },
    { "save-ms", GH_OPT_INT, &s_save_ms, "2000", "how often changed templates are written to Redis" },
    { "bucket-s", GH_OPT_INT, &s_bucket_s, "60",
      "ghost-anomaly's window width (set both with GHOST_BUCKET_S): only lines that can be a window's example carry their raw line; 0: every line" },
    { NULL, 0, NULL, NULL, NULL },
};

/* Routing memo: the anomaly shard of each series depends only on its key,
 * so it is computed once per template id / class / level, not per record. */
#define S_TPL_MEMO 4096
typedef struct {
    uint64_t id;
    unsigned shard;
} s_tpl_memo_t;

/* Examples.  ghost-anomaly shows, for each series window (and each host's
 * sub-series window), the first three lines it counts, and it counts the
 * lines of one source in event-time order.  A line can be one of those only
 * if fewer than three lines of its group -- (series, host, source, window),
 * for its template, class and level series -- that came before it have an
 * earlier event time.  Only such lines carry their raw line on to
 * ghost-anomaly; the others travel without it (most of a classified item's
 * bytes).  The three smallest event times per group are kept in a
 * direct-mapped table: a group that loses its slot starts again from zero,
 * which only sends more raw lines. */
#define S_EX_SLOTS 4096
typedef struct {
    uint64_t tag;
    int64_t t[3]; /* the three smallest event times seen, ascending; INT64_MAX: none */
} s_exslot_t;

typedef struct {
    gh_miner_t *miner;
    gh_classes_t *classes;
    gh_clscache_t *clscache;
    int64_t next_save;
    unsigned nshards;          /* the memos below are for this many shards */
    s_tpl_memo_t tpl_memo[S_TPL_MEMO];
    const char *cls_name[32];  /* class name (pointer from the rule set) -> shard */
    unsigned cls_shard[32], ncls;
    unsigned lvl_shard[8];
    s_exslot_t ex[S_EX_SLOTS];
} s_ctx_t;

/* 1 when the line at ts may be one of its group's first three (see above). */
static inline __attribute__((always_inline)) int s_example(s_ctx_t *c, uint64_t tag, int64_t ts) {
    s_exslot_t *e = &c->ex[tag & (S_EX_SLOTS - 1)];
    if (e->tag != tag) {
        e->tag = tag;
        e->t[0] = ts;
        e->t[1] = e->t[2] = INT64_MAX;
        return 1;
    }
    if (ts > e->t[2]) return 0;
    if (ts < e->t[0]) e->t[2] = e->t[1], e->t[1] = e->t[0], e->t[0] = ts;
    else if (ts < e->t[1]) e->t[2] = e->t[1], e->t[1] = ts;
    else if (ts < e->t[2]) e->t[2] = ts;
    return 1;
}

static uint64_t s_key_hash(const char *kind, const char *v, size_t n) {
    char key[512];
    int k = snprintf(key, sizeof key, "%s:%.*s", kind, (int)(n > 400 ? 400 : n), v);
    return gh_hash(key, (size_t)k, 0);
}

static void s_memo_reset(s_ctx_t *c, unsigned nshards) {
    c->nshards = nshards;
    memset(c->tpl_memo, 0, sizeof c->tpl_memo);
    c->ncls = 0;
    for (int l = 0; l < 8; l++) {
        const char *lvl = gh_level_name(l);
        c->lvl_shard[l] = gh_shard(s_key_hash("level", lvl, strlen(lvl)), nshards);
    }
}

static unsigned s_tpl_shard(s_ctx_t *c, uint64_t id) {
    s_tpl_memo_t *m = &c->tpl_memo[(id ^ id >> 29) % S_TPL_MEMO];
    if (m->id != id) {
        char idbuf[32];
        int idn = snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)id);
        m->id = id;
        m->shard = gh_shard(s_key_hash("tpl", idbuf, (size_t)idn), c->nshards);
    }
    return m->shard;
}

static unsigned s_cls_shard(s_ctx_t *c, const char *cls) {
    for (unsigned i = 0; i < c->ncls; i++)
        if (c->cls_name[i] == cls) return c->cls_shard[i];
    unsigned sh = gh_shard(s_key_hash("class", cls, strlen(cls)), c->nshards);
    if (c->ncls < 32) {
        c->cls_name[c->ncls] = cls;
        c->cls_shard[c->ncls++] = sh;
    }
    return sh;
}

static void on_batch(gh_stage_t *st, const gh_batch_t *b) {
    s_ctx_t *c = gh_stage_ctx(st);
    gh_out_t *out = gh_stage_out(st, 0);
    unsigned nshards = gh_out_n(out);
    if (nshards != c->nshards) s_memo_reset(c, nshards);
    gh_str_t last_src = { NULL, 0 }, last_host = { NULL, 0 };
    uint64_t src_h = 0, host_h = 0;
    int64_t bucket_ms = s_bucket_s > 0 ? s_bucket_s * 1000 : 0;
    for (size_t i = 0; i < b->n; i++) {
        const gh_record_t *r = &b->u.rec[i];
        gh_miner_hit_t hit;
        uint64_t id = gh_miner_add_hit(c->miner, r->msg.p, r->msg.n, &hit);
        if (!id) hit = (gh_miner_hit_t){ "", 0, 0, 0, NULL, GH_MASK_WORDS_UNKNOWN }; /* out of memory */
        const char *tpl = hit.tpl;
        size_t tpl_n = hit.tpl_n;
        const char *cls = c->clscache ? gh_clscache_match(c->clscache, id, hit.rev, tpl, tpl_n, r->msg.p, r->msg.n,
                                                          hit.words, hit.nwords)
                                      : gh_classes_match(c->classes, r->msg.p, r->msg.n);
        /* a batch's records mostly share one source: hash it once */
        if (!last_src.p || r->source.n != last_src.n || memcmp(r->source.p, last_src.p, r->source.n)) {
            last_src = r->source;
            src_h = gh_hash(r->source.p, r->source.n, 0);
        }
        gh_cls_t item = { r->ts_ms, id, r->level, 0, gh_cstr(cls), r->host, gh_str(tpl, tpl_n), r->raw, src_h };
        if (bucket_ms) {
            if (!last_host.p || r->host.n != last_host.n || memcmp(r->host.p, last_host.p, r->host.n)) {
                last_host = r->host;
                host_h = gh_hash(r->host.p, r->host.n, 1);
            }
            int64_t w = r->ts_ms / bucket_ms - (r->ts_ms < 0 && r->ts_ms % bucket_ms); /* as ghost-anomaly */
            uint64_t g = gh_mix64(host_h ^ gh_mix64(src_h ^ (uint64_t)w * 0x9e3779b97f4a7c15ULL));
            int ex = s_example(c, gh_mix64(g ^ id), r->ts_ms);
            ex |= s_example(c, gh_mix64(g + 0x100 + (r->level & 7)), r->ts_ms);
            if (cls) ex |= s_example(c, gh_mix64(g ^ (uint64_t)(uintptr_t)cls * 0x2545f4914f6cdd1dULL), r->ts_ms);
            if (!ex) item.raw = gh_str(NULL, 0);
        }
        /* the shard of each series this record counts in */
        unsigned shard[3] = { s_tpl_shard(c, id), cls ? s_cls_shard(c, cls) : 0, c->lvl_shard[r->level & 7] };
        uint8_t bits[3] = { GH_KEY_TEMPLATE, cls ? GH_KEY_CLASS : 0, GH_KEY_LEVEL };
        for (int k = 0; k < 3; k++) {
            if (!bits[k]) continue;
            item.keys = bits[k];
            for (int j = k + 1; j < 3; j++) /* fold series that share this shard into one item */
                if (bits[j] && shard[j] == shard[k]) {
                    item.keys |= bits[j];
                    bits[j] = 0;
                }
            gh_enc_cls(gh_out_enc(out, shard[k]), &item);
            gh_out_commit(out, shard[k]);
        }
    }
}

static void s_save(gh_stage_t *st, s_ctx_t *c) {
    if (gh_stage_redis(st) && gh_miner_save(c->miner, gh_stage_redis(st)) < 0)
        gh_debug("templates not saved: redis unavailable; will retry");
}

static void on_tick(gh_stage_t *st) {
    s_ctx_t *c = gh_stage_ctx(st);
    int64_t now = gh_mono_ms();
    if (now >= c->next_save) {
        s_save(st, c);
        c->next_save = now + s_save_ms;
    }
}

static void on_drain(gh_stage_t *st) {
    s_ctx_t *c = gh_stage_ctx(st);
    s_save(st, c);
    uint64_t full, cached;
    gh_clscache_stats(c->clscache, &full, &cached);
    gh_info("%zu templates; classes: %llu records matched whole, %llu from the template cache", gh_miner_count(c->miner),
            (unsigned long long)full, (unsigned long long)cached);
}

int main(int argc, char **argv) {
    gh_stage_parse_args(s_opts, "ghost-classify", "[OPTIONS]\n\nGives every record a template (online miner) and a failure class, and routes it\nto the ghost-anomaly workers that own its series.", argc, argv);
    char err[256] = "";
    static s_ctx_t c; /* large (routing memos): not on the stack */
    c.miner = gh_miner_new((size_t)s_max_templates);
    c.classes = gh_classes_new(*s_rules ? s_rules : NULL, err, sizeof err);
    if (!c.classes) {
        fprintf(stderr, "ghost-classify: %s\n", err);
        return 2;
    }
    c.clscache = s_class_cache ? gh_clscache_new(c.classes) : NULL;
    gh_sig_install();
    gh_stage_ops_t ops = { "classify", GH_T_RECORD, &c, on_batch, on_tick, on_drain };
    gh_stage_t *st = gh_stage_new(&s_cfg, &ops, GH_T_CLASSIFIED, "anomaly", 0, NULL);
    if (!st) return 1;
    if (*s_cfg.redis && gh_miner_load(c.miner, gh_stage_redis(st)) == 0 && gh_miner_count(c.miner))
        gh_info("restored %zu templates from redis", gh_miner_count(c.miner));
    int rc = gh_stage_run(st);
    gh_stage_destroy(&st);
    gh_miner_destroy(&c.miner);
    gh_clscache_destroy(&c.clscache);
    gh_classes_destroy(&c.classes);
    return rc ? 1 : 0;
}
