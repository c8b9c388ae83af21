/* predict.h -- the logic of ghost-predict, without sockets: one online-fitted
 * Holt forecaster (holt.h) per rate series, and a forecast alert when the
 * series' upper prediction path will cross its threshold within the horizon.
 *
 * Input is the gh_rate_t stream ghost-anomaly emits (one sample per closed
 * bucket per series, threshold = the count the burst detector would flag).
 * The forecaster's parameters are fitted at the horizon (fit_h = horizon in
 * buckets); seasonality (period = one day in buckets) is on by default and
 * only competes once two days have been seen.
 *
 * A forecast alert (kind "forecast", state "firing") is sent when all hold:
 *  - at least cfg.min_points samples and a threshold > 0;
 *  - the fitted level is below the threshold (with hysteresis, see Bursts
 *    and ramps) and the latest count below twice the threshold;
 *  - the fitted trend has been positive for cfg.trend_steps samples in a row
 *    and the rise it predicts over the horizon exceeds twice the one-step
 *    error (a sustained upward trend, not noise);
 *  - the upper ~95% path reaches the threshold within cfg.horizon_s.
 * fc_crosses_at_ms is where the point forecast reaches the threshold (searched
 * up to 4x the horizon), or where the upper path does when it never does;
 * fc_predicted/lower/upper are the forecast at the horizon; fc_horizon_s the
 * horizon; fc_method names the chosen model ("holt" or "holt-seasonal" with its
 * alpha/beta/phi).  count is the latest bucket count; rate and baseline are
 * per MINUTE (latest count and fitted level).  An "update" is sent only when
 * crosses_at moves by more than half the remaining lead time (at least five
 * buckets); "resolved" when the crossing disappears for 10 samples in a row
 * or the fitted level reaches the threshold.  Ids: xxHash64 of "forecast",
 * key and the first firing sample time.
 *
 * Which series.  Only template series ("tpl:...") are forecast, unless
 * cfg.all_series: a level or class series is a sum of template series, so a
 * ramp in it is a ramp in one of its templates (forecast there, with the
 * template's text) or a storm of many (the burst detector's case); forecasting
 * both gave two alerts for one trend, the class one with no text to show.
 *
 * Bursts and ramps.  "The series reached its threshold" means the fitted
 * level did, not one count: on a ramp the counts scatter around the level
 * (Poisson), and a single minute over the threshold -- which also makes the
 * burst detector fire on a series new enough to have a zero baseline -- must
 * not end the forecast of where the rate itself is going.  Only a count at
 * twice the threshold (a jump: the burst alert covers it) keeps a forecast
 * from starting.
 */
#ifndef GH_PREDICT_H
#define GH_PREDICT_H

#include <stdint.h>
#include "gh_proto.h"

typedef struct {
    int horizon_s;       /* look-ahead (default 1800) */
    int min_points;      /* samples before any forecast alert (default 30) */
    int trend_steps;     /* consecutive positive-trend samples required (default 5) */
    int seasonal;        /* 1 = daily seasonal adjustment (default 1) */
    int max_series;      /* (default 4096; least recently fed evicted) */
    int all_series;      /* 1 = forecast level: and class: series too (default 0:
                            template series only, see above) */
} gh_predict_cfg_t;

typedef struct {
    void *ctx;
    void (*on_alert)(void *ctx, const gh_alert_t *a);
} gh_predict_sink_t;

typedef struct gh_predict gh_predict_t;

void gh_predict_defaults(gh_predict_cfg_t *cfg);

/* New state (cfg NULL = defaults; zero fields take the default); NULL when
 * out of memory. */
gh_predict_t *gh_predict_new(const gh_predict_cfg_t *cfg, gh_predict_sink_t sink);

/* Feed one rate sample; may emit through the sink (synchronously; the alert
 * is valid only during the call).  Returns 0, -1 when out of memory. */
int gh_predict_add(gh_predict_t *p, const gh_rate_t *r);

/* End of input: nothing is pending (alerts are emitted as samples arrive);
 * kept for symmetry with the other stages. */
void gh_predict_flush(gh_predict_t *p);

/* Destroy *p and set it to NULL; NULL-safe. */
void gh_predict_destroy(gh_predict_t **p);

#endif
