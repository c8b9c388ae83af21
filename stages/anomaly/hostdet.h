/* hostdet.h -- a light burst detector for one host's share of a series: a
 * count per bucket, judged against that host's own Poisson-like rate.
 *
 * Why not detector.h.  A host's sub-series is usually thin (a host sends a
 * template a few times an hour to a few times a minute), there may be
 * thousands of them, and they start part-way through a series' life.  The
 * series detector calibrates its surprise on the series' own history
 * (~13 kB, ~13 us a step without its context model): on a thin series
 * started cold it misses a tenfold rise of a 0.6-a-minute host in most
 * trials, and started after back-filled zeros its tail model learns "always
 * zero" and fires on ordinary Poisson noise for hours (measured: 40 trials
 * of 360 buckets, 20-120 false starts for rates 1-5 a minute).  Counts
 * have a known noise model; this one uses it, in O(1) time and ~40 bytes.
 *
 * Model.  lambda = an exponentially weighted mean of the host's counts
 * (weight 2 / (window + 1) a bucket), floored at 0.05; the dispersion phi =
 * their weighted variance / lambda, in [1, 50] (1 for Poisson; more for a
 * host that sends in clumps).  Each count is winsorised at lambda + 3
 * sqrt(phi lambda) + 1 before it updates them, so a burst barely moves the
 * baseline but a lasting level shift is learnt within a few windows.
 * The surprise of a count x is -ln P(X >= x / phi) for X ~ Poisson(lambda /
 * phi) (quasi-Poisson), in nats; 0 when x <= lambda.
 *
 * Bursts (upward only).  A burst starts when, warm (>= warmup buckets
 * seen), x >= min_count and the surprise reaches fire_nats; it is updated
 * when x doubles over the last reported peak; it ends after end_quiet
 * buckets whose surprise is under end_nats.  Same events as detector.h.
 */
#ifndef GH_HOSTDET_H
#define GH_HOSTDET_H

#include <stdint.h>
#include "anomaly/detector.h"

typedef struct {
    int window;          /* buckets of memory of the rate (default 288) */
    int warmup;          /* buckets before anything fires (default 60) */
    double min_count;    /* a burst needs at least this many events (default 5) */
    double fire_nats;    /* surprise that starts a burst (default 16: p ~ 1e-7, kept
                            low because one series may have many hosts) */
    double end_nats;     /* calm below this (default 3) */
    int end_quiet;       /* calm buckets that end a burst (default 3) */
} gh_hostdet_cfg_t;

typedef struct {
    double lambda, var;  /* weighted mean and variance of the counts */
    uint32_t n;          /* buckets seen (saturates) */
    uint8_t in_burst, quiet;
    double reported;     /* last reported peak of the open burst */
} gh_hostdet_t;

void gh_hostdet_defaults(gh_hostdet_cfg_t *cfg);

/* Start d as a host that sent nothing for `zeros` buckets (0: cold). */
void gh_hostdet_init(gh_hostdet_t *d, uint32_t zeros);

/* Feed the next bucket's count x.  out receives event, in_burst, warm,
 * baseline (lambda), scale (sqrt(phi lambda)), score (the surprise mapped
 * onto [0,1) as detector.h maps its own: 0.5 at 5 nats, 0.99 at ~16) and
 * surprise (the same); the other fields are 0. */
void gh_hostdet_step(gh_hostdet_t *d, const gh_hostdet_cfg_t *cfg, double x, gh_det_out_t *out);

/* -ln P(X >= x) for X ~ Poisson(lambda), x and lambda > 0 (x may be
 * fractional: the tail sum runs over x, x + 1, ...).  0 when x <= lambda. */
double gh_poisson_tail_nats(double x, double lambda);

#endif
