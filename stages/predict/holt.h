/* holt.h -- Holt's linear trend forecaster for one regularly spaced series,
 * with its smoothing parameters fitted online and a seasonal (Holt-Winters
 * style) adjustment once two periods have been seen.
 *
 * Fitting.  A small grid of Holt filters (alpha x beta x damping phi) runs side
 * by side over the same values; each keeps an exponentially weighted mean of
 * its squared `fit_h`-step-ahead error, and forecasts come from the filter with
 * the lowest one -- parameters are chosen by recent out-of-sample accuracy at
 * the horizon that matters, not fixed (ties -- for fit_h steps after a flat
 * history every filter forecast the same -- go to the lowest one-step error).  The grid runs twice: on the raw values
 * and on seasonally adjusted values (value minus a per-phase profile learnt as
 * an exponentially weighted mean of the value's departure from its long-run
 * level); the seasonal half competes only once two periods have been seen.
 *
 * Intervals.  The spread at k steps interpolates between the chosen filter's
 * measured one-step and fit_h-step mean squared errors (linearly in k, which is
 * what a local-level model gives); lower/upper are +-1.96 of it (~95%).
 */
#ifndef GH_HOLT_H
#define GH_HOLT_H

#include <stdint.h>

typedef struct {
    int period;          /* seasonal period in steps, 0 = none (default 0) */
    int fit_h;           /* horizon whose error picks the parameters (default 1) */
    int memory;          /* steps over which errors are averaged (default 200) */
} gh_holt_cfg_t;

typedef struct gh_holt gh_holt_t;

void gh_holt_defaults(gh_holt_cfg_t *cfg);

/* New forecaster (cfg NULL = defaults).  NULL when out of memory. */
gh_holt_t *gh_holt_new(const gh_holt_cfg_t *cfg);

/* Destroy *h and set it to NULL; NULL-safe. */
void gh_holt_destroy(gh_holt_t **h);

/* Feed the next value (non-finite values count as the last forecast). */
void gh_holt_add(gh_holt_t *h, double x);

/* Point forecast k >= 1 steps past the last value; *lo / *hi (either may be
 * NULL) receive the ~95% interval.  Before any value: 0. */
double gh_holt_forecast(const gh_holt_t *h, int k, double *lo, double *hi);

/* The chosen filter's current level and trend (per step), and its
 * parameters; any pointer may be NULL. */
void gh_holt_state(const gh_holt_t *h, double *level, double *trend, double *alpha, double *beta,
                   double *phi, int *seasonal);

/* Values fed so far. */
uint64_t gh_holt_count(const gh_holt_t *h);

#endif
