/* nabscore.h -- score a whole series the way NAB wants it, with the detector
 * ghost-anomaly uses (same code, same defaults, same unit conversion).
 *
 * The detector is configured exactly as ghost-anomaly configures a series'
 * detector: gh_detector_defaults(), the seasonal period set to one day in
 * steps and min_count set to the stage's default (gh_anomaly_defaults()).
 * A row's NAB score is the detector's reported `score` for that step, the
 * one its alerts carry (detector.h: the fused surprise / change / context
 * score, reported whole once per incident) -- nothing is added here.
 */
#ifndef GH_NABSCORE_H
#define GH_NABSCORE_H
#include <stddef.h>

/* Score v[0..n-1] (regularly spaced; period = steps per day, 0 = unknown)
 * into out[0..n-1], each in [0,1].  Returns 0, or -1 when out of memory. */
int gh_nab_score_series(const double *v, size_t n, int period, double *out);
#endif
