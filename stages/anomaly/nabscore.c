/* nabscore.c -- a series scored for NAB with the stock detector (nabscore.h). */
#include "anomaly/nabscore.h"
#include "anomaly/anomaly.h"
#include "anomaly/detector.h"

int gh_nab_score_series(const double *v, size_t n, int period, double *out)
{
    /* the same rules as ghost-anomaly's s_get(): defaults, period, min_count */
    gh_anomaly_cfg_t ac;
    gh_anomaly_defaults(&ac);
    gh_detector_cfg_t cfg;
    gh_detector_defaults(&cfg);
    cfg.period = period;
    cfg.min_count = ac.min_count;
    gh_detector_t *d = gh_detector_new(&cfg);
    if (!d) return -1;
    for (size_t i = 0; i < n; i++) {
        gh_det_out_t o;
        gh_detector_step(d, v[i], &o);
        out[i] = o.score;
    }
    gh_detector_destroy(&d);
    return 0;
}
