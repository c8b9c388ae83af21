/* ghost-predict -- forecasts every rate series (stages/predict/predict.h:
 * Holt's linear trend with parameters fitted online, seasonal once enough
 * periods are seen) and raises a forecast alert when the upper path crosses
 * the series' threshold within the horizon.
 *
 * Input: GH_T_RATE samples from ghost-anomaly, sharded by series key so each
 * series lives in one worker.  Output: GH_T_ALERT to ghost-alert.
 */
#include "log.h"
#include "predict/predict.h"
#include "sig.h"
#include "stage.h"
#include <stdio.h>

static gh_stage_cfg_t s_cfg;
static long s_horizon_s, s_min_points;

static const gh_opt_t s_opts[] = {
    GH_STAGE_OPTIONS(s_cfg, "ipc://RUN_DIR/alert-0.sock"),
    { "horizon-s", GH_OPT_INT, &s_horizon_s, "1800", "how far ahead a crossing is looked for, seconds" },
    { "min-points", GH_OPT_INT, &s_min_points, "30", "samples of a series before it may raise a forecast" },
    { NULL, 0, NULL, NULL, NULL },
};

static void on_alert(void *ctx, const gh_alert_t *a) { gh_stage_emit_alert(ctx, 0, a); }

static void on_batch(gh_stage_t *st, const gh_batch_t *b) {
    gh_predict_t *p = gh_stage_ctx(st);
    for (size_t i = 0; i < b->n; i++) gh_predict_add(p, &b->u.rate[i]);
}

static void on_drain(gh_stage_t *st) { gh_predict_flush(gh_stage_ctx(st)); }

int main(int argc, char **argv) {
    gh_stage_parse_args(s_opts, "ghost-predict", "[OPTIONS]\n\nForecasts every rate series (Holt, fitted online) and raises a forecast alert when\nthe series will cross its threshold within the horizon.", argc, argv);
    gh_sig_install();
    gh_stage_ops_t ops = { "predict", GH_T_RATE, NULL, on_batch, NULL, on_drain };
    gh_stage_t *st = gh_stage_new(&s_cfg, &ops, GH_T_ALERT, "alert", 0, NULL);
    if (!st) return 1;
    gh_predict_cfg_t cfg;
    gh_predict_defaults(&cfg);
    cfg.horizon_s = (int)s_horizon_s;
    cfg.min_points = (int)s_min_points;
    gh_predict_sink_t sink = { st, on_alert };
    gh_predict_t *p = gh_predict_new(&cfg, sink);
    if (!p) {
        gh_error("bad predict configuration");
        gh_stage_destroy(&st);
        return 2;
    }
    gh_stage_set_ctx(st, p);
    int rc = gh_stage_run(st);
    gh_predict_destroy(&p);
    gh_stage_destroy(&st);
    return rc ? 1 : 0;
}
