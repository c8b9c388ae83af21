/* nabscore.c -- a series scored for NAB with the stock detector (nabscore.h). */
#include "anomaly/nabscore.h"
#include "anomaly/detector.h"

#include <stdlib.h>
static double E(const char*n,double d){const char*v=getenv(n);return v?atof(v):d;}

int gh_nab_score_series(const double *v, size_t n, int period, double *out)
{
    gh_detector_cfg_t cfg;
    gh_detector_defaults(&cfg);
    cfg.period = period;
    cfg.short_len = (int)E("XS",1); cfg.window=(int)E("XW",288);
    gh_detector_t *d = gh_detector_new(&cfg);
    if (!d) return -1;
    size_t r = (size_t)(E("XR",1)*cfg.window);
    double *hist = calloc(r, sizeof *hist);
    if (!hist) { gh_detector_destroy(&d); return -1; }
    for (size_t i = 0; i < n; i++) {
        gh_det_out_t o;
        gh_detector_step(d, v[i], &o);
        double mx = 0;
        for (size_t j = 0; j < r; j++) if (hist[j] > mx) mx = hist[j];
        double ch = E("XC",1) * o.change; double sc = ch > o.score ? ch : o.score;
        o.score = sc;
        out[i] = o.score > mx ? o.score : 0.1 * o.score;
        hist[i % r] = o.score;
    }
    free(hist);
    gh_detector_destroy(&d);
    return 0;
}
