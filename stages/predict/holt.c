/* holt.c -- online-fitted Holt / seasonal-adjusted Holt forecaster (holt.h). */
#include "predict/holt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_BINS 288
#define S_MAX_H 64

static const double s_alpha[] = { 0.03, 0.1, 0.2, 0.4, 0.7, 1.0 };
static const double s_beta[] = { 0.0, 0.02, 0.1, 0.3 };
static const double s_phi[] = { 0.9, 1.0 };
#define S_NA (sizeof s_alpha / sizeof *s_alpha)
#define S_NB (sizeof s_beta / sizeof *s_beta)
#define S_NP (sizeof s_phi / sizeof *s_phi)
#define S_NF (S_NA * S_NB * S_NP)

typedef struct {
    double alpha, beta, phi;
    double l, b;
    double mse1, mseh;
    double pend[S_MAX_H];   /* x-space forecasts fit_h steps ahead, by step mod fit_h */
} s_filter_t;

struct gh_holt {
    gh_holt_cfg_t cfg;
    uint64_t n;
    double last;
    s_filter_t f[2][S_NF];  /* [0] raw, [1] seasonally adjusted */
    /* seasonal profile */
    int bins;
    double *prof;
    uint32_t *prof_n;
    double lr_level;        /* long-run level the profile is measured from */
    int best_s, best_i;
};

void gh_holt_defaults(gh_holt_cfg_t *c)
{
    c->period = 0;
    c->fit_h = 1;
    c->memory = 200;
}

gh_holt_t *gh_holt_new(const gh_holt_cfg_t *cfg)
{
    gh_holt_t *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    gh_holt_defaults(&h->cfg);
    if (cfg) {
        if (cfg->period > 1) h->cfg.period = cfg->period;
        if (cfg->fit_h > 0) h->cfg.fit_h = cfg->fit_h > S_MAX_H ? S_MAX_H : cfg->fit_h;
        if (cfg->memory > 1) h->cfg.memory = cfg->memory;
    }
    if (h->cfg.period > 1) {
        h->bins = h->cfg.period < S_MAX_BINS ? h->cfg.period : S_MAX_BINS;
        h->prof = calloc((size_t)h->bins, sizeof *h->prof);
        h->prof_n = calloc((size_t)h->bins, sizeof *h->prof_n);
        if (!h->prof || !h->prof_n) {
            gh_holt_destroy(&h);
            return NULL;
        }
    }
    for (int s = 0; s < 2; s++) {
        size_t i = 0;
        for (size_t a = 0; a < S_NA; a++)
            for (size_t b = 0; b < S_NB; b++)
                for (size_t p = 0; p < S_NP; p++, i++) {
                    h->f[s][i].alpha = s_alpha[a];
                    h->f[s][i].beta = s_beta[b];
                    h->f[s][i].phi = s_phi[p];
                }
    }
    return h;
}

void gh_holt_destroy(gh_holt_t **hp)
{
    if (!hp || !*hp) return;
    free((*hp)->prof);
    free((*hp)->prof_n);
    free(*hp);
    *hp = NULL;
}

uint64_t gh_holt_count(const gh_holt_t *h) { return h->n; }

static int s_bin(const gh_holt_t *h, uint64_t step)
{
    uint64_t ph = step % (uint64_t)h->cfg.period;
    return (int)(ph * (uint64_t)h->bins / (uint64_t)h->cfg.period);
}

static int s_seasonal_on(const gh_holt_t *h)
{
    return h->prof && h->n >= 2 * (uint64_t)h->cfg.period;
}

/* Seasonal offset of step `step` (0 without a profile). */
static double s_season(const gh_holt_t *h, uint64_t step)
{
    return h->prof ? h->prof[s_bin(h, step)] : 0;
}

/* Sum_{i=1..k} phi^i. */
static double s_damp_sum(double phi, int k)
{
    if (phi >= 1.0) return k;
    return phi * (1 - pow(phi, k)) / (1 - phi);
}

/* k-step forecast of filter f in its own (raw or adjusted) space. */
static double s_fc(const s_filter_t *f, int k)
{
    return f->l + s_damp_sum(f->phi, k) * f->b;
}

void gh_holt_add(gh_holt_t *h, double x)
{
    int H = h->cfg.fit_h;
    double w = 1.0 / (double)(h->n + 1 < (uint64_t)h->cfg.memory ? h->n + 1 : (uint64_t)h->cfg.memory);
    if (!isfinite(x)) x = h->n ? gh_holt_forecast(h, 1, NULL, NULL) : 0;
    uint64_t t = h->n;
    double sea = s_season(h, t);

    for (int s = 0; s < (h->prof ? 2 : 1); s++) {
        double y = s ? x - sea : x;
        for (size_t i = 0; i < S_NF; i++) {
            s_filter_t *f = &h->f[s][i];
            if (t == 0) {
                f->l = y;
                f->b = 0;
            } else {
                double e1 = y - s_fc(f, 1);
                f->mse1 += w * (e1 * e1 - f->mse1);
                if (t >= (uint64_t)H) {
                    double eh = x - f->pend[t % (uint64_t)H];
                    double wh = 1.0 / (double)(t - (uint64_t)H + 1 < (uint64_t)h->cfg.memory
                                                   ? t - (uint64_t)H + 1 : (uint64_t)h->cfg.memory);
                    f->mseh += wh * (eh * eh - f->mseh);
                }
                double lp = f->l;
                f->l = f->alpha * y + (1 - f->alpha) * (f->l + f->phi * f->b);
                f->b = f->beta * (f->l - lp) + (1 - f->beta) * f->phi * f->b;
            }
        }
    }

    /* seasonal profile: departure from a slow long-run level */
    if (h->prof) {
        double lw = 1.0 / (double)(t + 1 < (uint64_t)h->cfg.period ? t + 1 : (uint64_t)h->cfg.period);
        h->lr_level += lw * (x - h->lr_level);
        int b = s_bin(h, t);
        uint32_t m = h->prof_n[b];
        double g = m < 10 ? 1.0 / (m + 1) : 0.1;
        h->prof[b] += g * ((x - h->lr_level) - h->prof[b]);
        h->prof_n[b] = m + 1;
    }
    h->n = t + 1;
    h->last = x;

    /* pending fit_h-step forecasts, in x space */
    double sea_h = s_season(h, t + (uint64_t)H);
    for (int s = 0; s < (h->prof ? 2 : 1); s++)
        for (size_t i = 0; i < S_NF; i++)
            h->f[s][i].pend[t % (uint64_t)H] = s_fc(&h->f[s][i], H) + (s ? sea_h : 0);

    /* choose the filter with the lowest recent error at the fit horizon;
     * where that error cannot tell filters apart (equal within 1e-9: for
     * fit_h steps after a flat history every filter forecast the same),
     * the one-step error decides, so a change is followed at once */
    double best = INFINITY, best1 = INFINITY;
    int sn = s_seasonal_on(h) ? 2 : 1;
    h->best_s = 0;
    h->best_i = 0;
    for (int s = 0; s < sn; s++)
        for (size_t i = 0; i < S_NF; i++) {
            double e = H > 1 ? h->f[s][i].mseh : h->f[s][i].mse1, e1 = h->f[s][i].mse1;
            double tol = 1e-9 * (1 + (best < INFINITY ? best : 0));
            if (e < best - tol || (e <= best + tol && e1 < best1)) {
                best = e;
                best1 = e1;
                h->best_s = s;
                h->best_i = (int)i;
            }
        }
}

double gh_holt_forecast(const gh_holt_t *h, int k, double *lo, double *hi)
{
    if (k < 1) k = 1;
    if (h->n == 0) {
        if (lo) *lo = 0;
        if (hi) *hi = 0;
        return 0;
    }
    const s_filter_t *f = &h->f[h->best_s][h->best_i];
    double fc = s_fc(f, k) + (h->best_s ? s_season(h, h->n - 1 + (uint64_t)k) : 0);
    int H = h->cfg.fit_h;
    double v1 = f->mse1, vh = H > 1 ? f->mseh : f->mse1;
    if (vh < v1) vh = v1;
    double var = H > 1 ? v1 + (vh - v1) * (double)(k - 1) / (double)(H - 1)
                       : v1 * (1 + (double)(k - 1) * f->alpha * f->alpha);
    double sd = sqrt(var > 0 ? var : 0);
    if (lo) *lo = fc - 1.96 * sd;
    if (hi) *hi = fc + 1.96 * sd;
    return fc;
}

void gh_holt_state(const gh_holt_t *h, double *level, double *trend, double *alpha, double *beta,
                   double *phi, int *seasonal)
{
    const s_filter_t *f = &h->f[h->best_s][h->best_i];
    if (level) *level = f->l;
    if (trend) *trend = f->b;
    if (alpha) *alpha = f->alpha;
    if (beta) *beta = f->beta;
    if (phi) *phi = f->phi;
    if (seasonal) *seasonal = h->best_s;
}
