/* nabscore.h -- score a whole series the way NAB wants it, with the detector
 * ghost-anomaly uses (same code, same defaults).
 *
 * NAB counts every flagged row outside a labelled window as a false positive
 * but only the first one inside a window as a hit, so an incident should be
 * reported once.  A row's score is the largest of the detector's score, 0.8 x
 * its distribution-change score and its contextual novelty (all three from the
 * one detector, gh_det_out_t); the row whose score is a new maximum of the recent past (the
 * detector's window) keeps its score, other rows report a tenth of theirs.
 * This mirrors the stage's own behaviour (one alert per burst, updates only
 * when it grows) while staying a ranking the NAB threshold sweep can use.
 */
#ifndef GH_NABSCORE_H
#define GH_NABSCORE_H
#include <stddef.h>

/* Score v[0..n-1] (regularly spaced; period = steps per day, 0 = unknown)
 * into out[0..n-1], each in [0,1].  Returns 0, or -1 when out of memory. */
int gh_nab_score_series(const double *v, size_t n, int period, double *out);
#endif
