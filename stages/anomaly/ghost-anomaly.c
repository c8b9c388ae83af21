/* ghost-anomaly -- counts every series in event-time windows and flags
 * bursts and never-seen error templates (stages/anomaly/anomaly.h).
 *
 * Input: GH_T_CLASSIFIED items, routed here by classify because this worker
 * owns one or more of the item's series keys.  Output 1: GH_T_ALERT to
 * ghost-alert (sharded by alert key); output 2: GH_T_RATE samples, one per
 * closed window and series, to ghost-predict (sharded by series key, so one
 * series' forecast lives in one predict worker).  End of input closes every
 * open window.
 */
#include "anomaly/anomaly.h"
#include "anomaly/reorder.h"
#include "hash.h"
#include "log.h"
#include "metrics.h"
#include "sig.h"
#include "stage.h"
#include <stdio.h>
#include <string.h>

static gh_stage_cfg_t s_cfg;
static long s_bucket_s, s_lateness_s, s_warmup_s, s_max_hosts, s_max_host_series;
static double s_min_count;

static const gh_opt_t s_opts[] = {
    GH_STAGE_OPTIONS(s_cfg, "ipc://RUN_DIR/alert-0.sock"),
    { "connect2", GH_OPT_STR, &s_cfg.connect2, NULL, "ghost-predict endpoints for rate samples (default ipc://RUN_DIR/predict-0.sock)" },
    { "bucket-s", GH_OPT_INT, &s_bucket_s, "60", "event-time window width, seconds" },
    { "lateness-s", GH_OPT_INT, &s_lateness_s, "30", "how late an event may arrive before its window has closed" },
    { "warmup-s", GH_OPT_INT, &s_warmup_s, "300", "event time seen before new-template alerts start" },
    { "min-count", GH_OPT_DBL, &s_min_count, "5", "a burst needs at least this many events in a window" },
    { "max-hosts", GH_OPT_INT, &s_max_hosts, "16", "per-host sub-series of one series with several hosts (0: none)" },
    { "max-host-series", GH_OPT_INT, &s_max_host_series, "4096", "per-host sub-series in all, in this worker (0: none)" },
    { NULL, 0, NULL, NULL, NULL },
};

static void on_alert(void *ctx, const gh_alert_t *a) { gh_stage_emit_alert(ctx, 0, a); }

static void on_rate(void *ctx, const gh_rate_t *r) {
    gh_out_t *out = gh_stage_out(ctx, 1);
    unsigned shard = gh_shard(gh_hash(r->key.p, r->key.n, 0), gh_out_n(out));
    gh_enc_rate(gh_out_enc(out, shard), r);
    gh_out_commit(out, shard);
}

static gh_anomaly_t *s_an;

static gh_reorder_t *s_ro;
static uint64_t s_late, s_nomem;

/* The anomaly state's counters, as metrics (copied on every tick). */
static struct {
    gh_metric_t *series, *host_series, *host_evicted, *host_untracked, *host_covered, *host_folded, *covered;
} s_m;

static void s_add_metrics(gh_stage_t *st) {
    gh_metrics_t *m = gh_stage_metrics(st);
    s_m.series = gh_metrics_series(m, GH_METRIC_GAUGE, "ghost_anomaly_series", "Live rate series.", NULL);
    s_m.host_series = gh_metrics_series(m, GH_METRIC_GAUGE, "ghost_anomaly_host_series",
                                        "Live per-host sub-series (of series with several hosts).", NULL);
    s_m.host_evicted = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_anomaly_host_series_evicted_total",
                                         "Per-host sub-series freed (idle, or with their series).", NULL);
    s_m.host_untracked = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_anomaly_host_untracked_total",
                                           "Events of a multi-host series whose host got no sub-series (cap reached).",
                                           NULL);
    s_m.host_covered = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_anomaly_host_bursts_covered_total",
                                         "Per-host bursts left to their series' or template's alert.", NULL);
    s_m.host_folded = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_anomaly_bursts_folded_total",
                                        "Series bursts left to one host's open burst alert.", NULL);
    s_m.covered = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_anomaly_bursts_covered_total",
                                    "Level/class bursts left to their template's alert.", NULL);
}

static void on_tick(gh_stage_t *st) {
    (void)st;
    static int warned;
    gh_anomaly_stats_t s;
    gh_anomaly_get_stats(s_an, &s);
    if (s.examples_missing && !warned) {
        warned = 1;
        gh_warn("an alert's example line came without its raw line: ghost-classify's --bucket-s is not this "
                "stage's (%ld s); set GHOST_BUCKET_S for both", s_bucket_s);
    }
    gh_metric_set(s_m.series, (double)s.series);
    gh_metric_set(s_m.host_series, (double)s.host_series);
    gh_metric_set(s_m.host_evicted, (double)s.host_evicted);
    gh_metric_set(s_m.host_untracked, (double)s.host_untracked);
    gh_metric_set(s_m.host_covered, (double)s.host_covered);
    gh_metric_set(s_m.host_folded, (double)s.host_folded);
    gh_metric_set(s_m.covered, (double)s.covered);
}

/* An item leaves the reorder buffer in event-time order for its source. */
static void on_ordered(void *ud, const gh_cls_t *c) {
    (void)ud;
    int rc = gh_anomaly_add(s_an, c);
    if (rc > 0) s_late++;
    else if (rc < 0) s_nomem++;
}

static void s_count_drops(gh_stage_t *st) {
    if (s_late) gh_stage_drop(st, "late", s_late);
    if (s_nomem) gh_stage_drop(st, "nomem", s_nomem);
    s_late = s_nomem = 0;
}

static void on_batch(gh_stage_t *st, const gh_batch_t *b) {
    for (size_t i = 0; i < b->n; i++) {
        if (b->u.cls[i].src) gh_reorder_push(s_ro, &b->u.cls[i], on_ordered, NULL);
        else on_ordered(NULL, &b->u.cls[i]); /* no source: nothing to order by */
    }
    s_count_drops(st);
}

/* Upstream has sent every item of src up to ts: release them, in order. */
static void on_wm(gh_stage_t *st, uint64_t src, int64_t ts, int64_t first) {
    gh_anomaly_source_start(s_an, src, first);
    gh_reorder_release(s_ro, src, ts, on_ordered, NULL);
    gh_anomaly_advance_source(s_an, src, ts);
    s_count_drops(st);
}

static void on_drain(gh_stage_t *st) {
    gh_reorder_release_all(s_ro, on_ordered, NULL);
    s_count_drops(st);
    if (gh_reorder_forced(s_ro))
        gh_warn("%llu events left the reorder buffer before their watermark (bound reached)",
                (unsigned long long)gh_reorder_forced(s_ro));
    gh_anomaly_flush(s_an);
    gh_anomaly_stats_t s;
    gh_anomaly_get_stats(s_an, &s);
    gh_info("%llu series, %llu windows closed, %llu alerts, %llu late events dropped, %llu windows forced "
            "closed, %llu events in the unscored last window, %llu level/class bursts left to their template",
            (unsigned long long)s.series, (unsigned long long)s.buckets, (unsigned long long)s.alerts,
            (unsigned long long)s.late, (unsigned long long)s.forced, (unsigned long long)s.tail,
            (unsigned long long)s.covered);
    gh_info("hosts: %llu per-host sub-series (%llu freed), %llu events of untracked hosts (cap), "
            "%llu host bursts left to their series, %llu series bursts left to one host's",
            (unsigned long long)s.host_series, (unsigned long long)s.host_evicted,
            (unsigned long long)s.host_untracked, (unsigned long long)s.host_covered,
            (unsigned long long)s.host_folded);
    on_tick(st);
    if (s.examples_missing)
        gh_warn("%llu example lines came without their raw line", (unsigned long long)s.examples_missing);
}

int main(int argc, char **argv) {
    gh_stage_parse_args(s_opts, "ghost-anomaly", "[OPTIONS]\n\nCounts every template, class and level series in event-time windows, raises burst\nand new-template alerts, and sends rate samples to ghost-predict.", argc, argv);
    gh_sig_install();
    gh_stage_ops_t ops = { "anomaly", GH_T_CLASSIFIED, NULL, on_batch, on_tick, on_drain };
    gh_stage_t *st = gh_stage_new(&s_cfg, &ops, GH_T_ALERT, "alert", GH_T_RATE, "predict");
    if (!st) return 1;
    gh_anomaly_cfg_t cfg;
    gh_anomaly_defaults(&cfg);
    cfg.bucket_s = (int)s_bucket_s;
    cfg.lateness_s = (int)s_lateness_s;
    cfg.warmup_s = (int)s_warmup_s;
    cfg.min_count = s_min_count;
    cfg.max_hosts = s_max_hosts > 0 ? (int)s_max_hosts : -1;
    cfg.max_host_series = s_max_host_series > 0 ? (int)s_max_host_series : -1;
    gh_anomaly_sink_t sink = { st, on_alert, on_rate };
    if (!(s_an = gh_anomaly_new(&cfg, sink))) {
        gh_error("bad anomaly configuration");
        gh_stage_destroy(&st);
        return 2;
    }
    if (!(s_ro = gh_reorder_new(0))) return 1;
    s_add_metrics(st);
    /* classify passes every source's watermark to every anomaly worker */
    gh_stage_on_watermark(st, on_wm, 1);
    int rc = gh_stage_run(st);
    gh_anomaly_destroy(&s_an);
    gh_reorder_destroy(&s_ro);
    gh_stage_destroy(&st);
    return rc ? 1 : 0;
}
