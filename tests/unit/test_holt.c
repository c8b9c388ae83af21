/* test_holt.c -- the online-fitted Holt forecaster (holt.c) and the predict
 * stage logic (predict.c): a linear trend is extrapolated, a rising series
 * gets one forecast alert whose crosses_at is near the truth, a flat noisy
 * series and a series already above its threshold get none. */
#include "predict/holt.h"
#include "predict/predict.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"

static uint64_t s_rng = 99991;
static double s_noise(void) /* uniform in [-1, 1] */
{
    s_rng ^= s_rng << 13; s_rng ^= s_rng >> 7; s_rng ^= s_rng << 17;
    return 2.0 * (double)(s_rng >> 11) / 9007199254740992.0 - 1.0;
}

typedef struct { int firing, update, resolved; int64_t crosses; char method[96]; } s_sink_t;
static void s_on_alert(void *ctx, const gh_alert_t *a)
{
    s_sink_t *s = ctx;
    CHECK(a->has_forecast);
    if (a->state.n == 6 && !memcmp(a->state.p, "firing", 6)) {
        s->firing++;
        s->crosses = a->fc_crosses_at_ms;
        snprintf(s->method, sizeof s->method, "%.*s", (int)a->fc_method.n, a->fc_method.p);
        CHECK(a->fc_upper >= a->fc_predicted && a->fc_lower <= a->fc_predicted);
        CHECK_NEAR(a->fc_threshold, 100, 1e-9);
    } else if (a->state.n == 6) {
        s->update++;
        s->crosses = a->fc_crosses_at_ms;
    }
    else s->resolved++;
}

static const int64_t T0 = 1699999980000LL;

static void s_run(double slope, double base, int n, s_sink_t *s)
{
    gh_predict_t *p = gh_predict_new(NULL, (gh_predict_sink_t){ s, s_on_alert });
    for (int t = 0; t < n; t++) {
        gh_rate_t r;
        memset(&r, 0, sizeof r);
        r.key = gh_cstr("class:timeout");
        r.t_ms = T0 + t * 60000LL;
        r.width_s = 60;
        r.count = base + slope * t + 2 * s_noise();
        r.threshold = 100;
        r.tpl = r.cls = r.host = gh_cstr("");
        CHECK_EQ(gh_predict_add(p, &r), 0);
    }
    gh_predict_flush(p);
    gh_predict_destroy(&p);
    CHECK(p == NULL);
}

int main(void)
{
    /* Holt on an exact line: forecasts follow it */
    gh_holt_t *h = gh_holt_new(NULL);
    for (int t = 0; t < 300; t++) gh_holt_add(h, 5 + 0.25 * t);
    double lo, hi, f = gh_holt_forecast(h, 20, &lo, &hi);
    CHECK_NEAR(f, 5 + 0.25 * 319, 0.5);
    CHECK(lo <= f && f <= hi);
    double trend;
    gh_holt_state(h, NULL, &trend, NULL, NULL, NULL, NULL);
    CHECK_NEAR(trend, 0.25, 0.02);
    gh_holt_destroy(&h);

    /* noisy rising series, 10 + 0.5 t: crosses 100 at t = 180 */
    s_sink_t s;
    memset(&s, 0, sizeof s);
    s_run(0.5, 10, 175, &s);
    CHECK_EQ(s.firing, 1);
    CHECK(s.update <= 8);
    double err_min = (double)(s.crosses - (T0 + 180 * 60000LL)) / 60000.0;
    printf("forecast: latest crosses_at error %.1f min, %d updates, method %s\n", err_min, s.update, s.method);
    CHECK(fabs(err_min) <= 6);

    /* flat noisy series: nothing */
    memset(&s, 0, sizeof s);
    s_run(0, 50, 600, &s);
    CHECK_EQ(s.firing, 0);

    /* already above the threshold: a burst, not a forecast */
    memset(&s, 0, sizeof s);
    s_run(0.5, 120, 200, &s);
    CHECK_EQ(s.firing, 0);
    TEST_MAIN_END();
}
