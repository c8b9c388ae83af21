/* predict.c -- per-series Holt forecasts and forecast alerts (predict.h). */
#include "predict/predict.h"
#include "predict/holt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define S_KEY_MAX 96
#define S_TXT_MAX 1024
#define S_HOST_MAX 64
#define S_FIT_H 10

typedef struct s_pseries {
    struct s_pseries *next;
    uint64_t h;
    char key[S_KEY_MAX];
    char tpl[S_TXT_MAX], cls[S_TXT_MAX], host[S_HOST_MAX];
    gh_holt_t *holt;
    uint32_t width_s;
    int64_t last_t;
    uint64_t seq;             /* feed order, for eviction */
    int up_run;               /* consecutive positive-trend samples */
    int firing, miss;
    int over;                 /* the fitted level reached the threshold: the
                                 series is bursting, not trending towards it */
    int64_t fire_t, crosses_at;
} s_pseries_t;

struct gh_predict {
    gh_predict_cfg_t cfg;
    gh_predict_sink_t sink;
    s_pseries_t **tab;
    size_t tabn, n;
    uint64_t seq;
};

void gh_predict_defaults(gh_predict_cfg_t *c)
{
    c->horizon_s = 1800;
    c->min_points = 30;
    c->trend_steps = 5;
    c->seasonal = 1;
    c->max_series = 4096;
    c->all_series = 0;
}

gh_predict_t *gh_predict_new(const gh_predict_cfg_t *cfg, gh_predict_sink_t sink)
{
    gh_predict_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    gh_predict_defaults(&p->cfg);
    if (cfg) {
        if (cfg->horizon_s > 0) p->cfg.horizon_s = cfg->horizon_s;
        if (cfg->min_points > 0) p->cfg.min_points = cfg->min_points;
        if (cfg->trend_steps > 0) p->cfg.trend_steps = cfg->trend_steps;
        p->cfg.seasonal = cfg->seasonal;
        if (cfg->max_series > 0) p->cfg.max_series = cfg->max_series;
        p->cfg.all_series = cfg->all_series;
    }
    p->sink = sink;
    p->tabn = 1;
    while (p->tabn < 2 * (size_t)p->cfg.max_series) p->tabn <<= 1;
    p->tab = calloc(p->tabn, sizeof *p->tab);
    if (!p->tab) {
        free(p);
        return NULL;
    }
    return p;
}

static void s_free(s_pseries_t *s)
{
    gh_holt_destroy(&s->holt);
    free(s);
}

void gh_predict_destroy(gh_predict_t **pp)
{
    if (!pp || !*pp) return;
    gh_predict_t *p = *pp;
    for (size_t i = 0; i < p->tabn; i++)
        for (s_pseries_t *s = p->tab[i], *nx; s; s = nx) {
            nx = s->next;
            s_free(s);
        }
    free(p->tab);
    free(p);
    *pp = NULL;
}

void gh_predict_flush(gh_predict_t *p) { (void)p; }

static void s_copy(char *dst, size_t cap, gh_str_t s)
{
    size_t n = s.n < cap - 1 ? s.n : cap - 1;
    if (n) memcpy(dst, s.p, n);
    dst[n] = 0;
}

static void s_evict_oldest(gh_predict_t *p)
{
    s_pseries_t **victim = NULL;
    for (size_t i = 0; i < p->tabn; i++)
        for (s_pseries_t **pp = &p->tab[i]; *pp; pp = &(*pp)->next)
            if (!victim || (*pp)->seq < (*victim)->seq) victim = pp;
    if (!victim) return;
    s_pseries_t *s = *victim;
    *victim = s->next;
    s_free(s);
    p->n--;
}

static s_pseries_t *s_get(gh_predict_t *p, const gh_rate_t *r)
{
    char key[S_KEY_MAX];
    s_copy(key, sizeof key, r->key);
    uint64_t h = gh_hash(key, strlen(key), 0);
    for (s_pseries_t *s = p->tab[h & (p->tabn - 1)]; s; s = s->next)
        if (s->h == h && !strcmp(s->key, key) && s->width_s == r->width_s) return s;
    if (p->n >= (size_t)p->cfg.max_series) s_evict_oldest(p);
    s_pseries_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    gh_holt_cfg_t hc;
    gh_holt_defaults(&hc);
    uint32_t w = r->width_s ? r->width_s : 60;
    /* parameters are chosen by their error S_FIT_H buckets ahead at most: a
     * trend must win the selection within minutes of starting, and errors at
     * the full horizon only exist a whole horizon after the forecast */
    hc.fit_h = (int)(p->cfg.horizon_s / w);
    if (hc.fit_h > S_FIT_H) hc.fit_h = S_FIT_H;
    if (hc.fit_h < 1) hc.fit_h = 1;
    hc.period = p->cfg.seasonal && w <= 43200 ? (int)(86400 / w) : 0;
    s->holt = gh_holt_new(&hc);
    if (!s->holt) {
        free(s);
        return NULL;
    }
    s->h = h;
    s->width_s = w;
    memcpy(s->key, key, sizeof key);
    s->next = p->tab[h & (p->tabn - 1)];
    p->tab[h & (p->tabn - 1)] = s;
    p->n++;
    return s;
}

static void s_alert(gh_predict_t *p, s_pseries_t *s, const char *state, const gh_rate_t *r, int hsteps,
                    int64_t crosses_at)
{
    gh_alert_t al;
    char id[17], buf[S_KEY_MAX + 64], method[96];
    memset(&al, 0, sizeof al);
    /* firing: xxHash64 of "forecast", key and first firing time; an update or
     * a resolve also names its state and sample time, so the alert stage
     * does not drop it as a duplicate of the firing */
    int n = !strcmp(state, "firing")
                ? snprintf(buf, sizeof buf, "forecast|%s|%" PRId64, s->key, s->fire_t)
                : snprintf(buf, sizeof buf, "forecast|%s|%" PRId64 "|%s|%" PRId64, s->key, s->fire_t, state, r->t_ms);
    if (n < 0) n = 0;
    if ((size_t)n >= sizeof buf) n = (int)sizeof buf - 1;
    snprintf(id, sizeof id, "%016" PRIx64, gh_hash(buf, (size_t)n, 0));
    double level, trend, alpha, beta, phi;
    int seasonal;
    gh_holt_state(s->holt, &level, &trend, &alpha, &beta, &phi, &seasonal);
    snprintf(method, sizeof method, "%s(alpha=%.2f,beta=%.2f,phi=%.2f)", seasonal ? "holt-seasonal" : "holt", alpha,
             beta, phi);
    double per_min = 60.0 / s->width_s;
    al.id = gh_cstr(id);
    al.kind = gh_cstr("forecast");
    al.key = gh_cstr(s->key);
    al.state = gh_cstr(state);
    al.tpl = gh_cstr(s->tpl);
    al.cls = gh_cstr(s->cls);
    if (s->host[0]) al.host = gh_cstr(s->host);
    al.start_ms = r->t_ms;
    al.end_ms = crosses_at ? crosses_at : r->t_ms + (int64_t)s->width_s * 1000;
    al.count = r->count;
    al.rate = r->count * per_min;
    al.baseline = level * per_min;
    al.score = 1;
    al.has_forecast = 1;
    al.fc_method = gh_cstr(method);
    al.fc_horizon_s = (double)hsteps * s->width_s;
    al.fc_predicted = gh_holt_forecast(s->holt, hsteps, &al.fc_lower, &al.fc_upper);
    al.fc_threshold = r->threshold;
    al.fc_crosses_at_ms = crosses_at;
    if (p->sink.on_alert) p->sink.on_alert(p->sink.ctx, &al);
}

int gh_predict_add(gh_predict_t *p, const gh_rate_t *r)
{
    s_pseries_t *s = s_get(p, r);
    if (!s) return -1;
    s->seq = ++p->seq;
    s_copy(s->tpl, sizeof s->tpl, r->tpl);
    s_copy(s->cls, sizeof s->cls, r->cls);
    s_copy(s->host, sizeof s->host, r->host);
    /* level: and class: series are sums of template series: a ramp in one
     * is a ramp in a template, forecast there with its text (see predict.h) */
    if (!p->cfg.all_series && strncmp(s->key, "tpl:", 4)) return 0;
    gh_holt_add(s->holt, r->count);
    s->last_t = r->t_ms;

    double level, trend;
    gh_holt_state(s->holt, &level, &trend, NULL, NULL, NULL, NULL);
    s->up_run = trend > 0 ? s->up_run + 1 : 0;
    int hsteps = (int)(p->cfg.horizon_s / (int)s->width_s);
    if (hsteps < 1) hsteps = 1;
    double thr = r->threshold;

    /* a series whose fitted level has reached the threshold is there: a
     * forecast is moot (a firing one is resolved), and none is made until
     * the level is back under 80% of the threshold (hysteresis, so a level
     * hovering at the threshold does not flap).  Single counts do not set
     * this: on a ramp, a Poisson count at 60% of the threshold exceeds it
     * one minute in ten, and the ramp is what the forecast is for; the
     * burst detector has already reported such a count if it mattered.  A
     * count at twice the threshold is a jump, not a ramp: no forecast starts
     * on it (the burst alert covers it). */
    if (thr > 0 && level >= thr) s->over = 1;
    else if (s->over && level < 0.8 * thr) s->over = 0;
    if (s->over) {
        if (s->firing) {
            s_alert(p, s, "resolved", r, hsteps, s->crosses_at);
            s->firing = 0;
        }
        return 0;
    }
    int jump = thr > 0 && r->count >= 2 * thr;
    int64_t crosses = 0;
    if (thr > 0 && gh_holt_count(s->holt) >= (uint64_t)p->cfg.min_points && s->up_run >= p->cfg.trend_steps) {
        double lo1, hi1;
        double f1 = gh_holt_forecast(s->holt, 1, &lo1, &hi1);
        double sd1 = (hi1 - f1) / 1.96;
        double fh = gh_holt_forecast(s->holt, hsteps, NULL, NULL);
        if (fh - level > 2 * sd1) {
            /* the upper path must cross within the horizon; the estimate
             * is where the point forecast crosses (looked for up to 4x the
             * horizon) */
            int k_up = 0, k_pt = 0;
            for (int k = 1; k <= 4 * hsteps && !k_pt; k++) {
                double hi, f = gh_holt_forecast(s->holt, k, NULL, &hi);
                if (!k_up && hi >= thr && k <= hsteps) k_up = k;
                if (f >= thr) k_pt = k;
            }
            if (!k_up) k_pt = 0;
            if (k_up) crosses = r->t_ms + (int64_t)(k_pt ? k_pt : k_up) * s->width_s * 1000;
        }
    }
    if (crosses) {
        s->miss = 0;
        if (!s->firing && !jump) {
            s->firing = 1;
            s->fire_t = r->t_ms;
            s->crosses_at = crosses;
            s_alert(p, s, "firing", r, hsteps, crosses);
        } else if (s->firing) {
            int64_t lead = s->crosses_at - r->t_ms;
            int64_t moved = crosses > s->crosses_at ? crosses - s->crosses_at : s->crosses_at - crosses;
            /* material: half the lead left, and at least 5 buckets (a
             * trend fitted on Poisson counts moves its crossing by a few
             * minutes from one sample to the next) */
            int64_t need = lead / 2;
            if (need < 5 * (int64_t)s->width_s * 1000) need = 5 * (int64_t)s->width_s * 1000;
            if (moved > need) {
                s->crosses_at = crosses;
                s_alert(p, s, "update", r, hsteps, crosses);
            }
        }
    } else if (s->firing && ++s->miss >= 10) {
        s->firing = 0;
        s_alert(p, s, "resolved", r, hsteps, 0);
    }
    return 0;
}
