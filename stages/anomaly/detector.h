/* detector.h -- the streaming anomaly detector for ONE regularly spaced series.
 *
 * Feed it one value per step (a bucket count, a latency sample, ...), oldest
 * first, gaps as explicit values (zero buckets for counts).  For each value it
 * returns a score in [0,1] and, optionally, a burst event.
 *
 * Model.  The baseline is robust: the median of the last `window` values after
 * the daily (seasonal) profile has been taken out, and the scale is 1.4826 x
 * their median absolute deviation -- so the spikes the detector looks for
 * cannot drag the baseline along until they last longer than half the window
 * (then they are the new normal: the baseline adapts to level shifts).  When
 * every value seen so far is a non-negative integer the series is treated as
 * counts and the scale is floored at the Poisson standard deviation
 * sqrt(baseline + 1), which keeps low-rate series from alarming on one event.
 * Once `period` steps have been seen twice, a per-phase seasonal offset (an
 * exponentially weighted mean of the clipped residual at that phase) is added
 * to the baseline; once a week (7 x `period`) has been seen twice, a weekly
 * profile learnt the same way on what the daily one leaves (weekday versus
 * weekend, at most 288 bins) is added too.
 *
 * Surprise.  z = (x - baseline) / scale.  The surprise statistic is the
 * mean of log1p|z| over the last `short_len` values (log1p tames heavy
 * tails).  It is calibrated against the series' OWN history, so one
 * threshold means the same rarity for counts, heavy-tailed volumes and
 * smooth gauges: a streaming tail model (a tracker of the statistic's 90%
 * quantile u and the mean excess beta above it, learnt over ~8 windows,
 * excesses winsorised at 4 beta) gives an exceedance probability p
 * (exponential tail above u, a peaks-over-threshold model), mapped
 * monotonically from -ln p onto [0,1) (0.5 at 5 nats, 0.95 at ~10.4).  A
 * second such model learns over ~64 windows (the series' longer past), and
 * `surprise` is the lower of the two scores: a value must be rare for the
 * recent windows and for the longer past, so a series that has been quiet
 * lately does not page for a spike it used to have every day (the two agree
 * for the first 8 windows).  0 during warm-up.  The burst machine runs on
 * it.
 *
 * Change.  A second statistic for a change of distribution (level, spread,
 * density of spikes): a G test of the last 32 values against 8 quantile bins
 * of the older part of the window, log1p(G) calibrated by its own tail model
 * like the surprise; reported as `change`, not used by the burst machine.
 * The threshold is computed from copies of the surprise's two tail models
 * that learn only outside bursts, so a long burst does not raise it.
 *
 * Context.  A third score, the contextual novelty of the sequence that led
 * to this value (context.h, Smirnov's Contextual Anomaly Detector), in
 * [0,1] as `context`.  It ranks sequence anomalies (a daily peak that comes
 * at the wrong time, a pattern that stops repeating); on Poisson-like
 * counts it is noisy, so the burst machine does not fire on it.  Always on;
 * its memory is bounded by context.h's max_contexts (see there).
 *
 * Range.  A fourth score, `range`: 0 while the value stays within the range
 * of every value the series has shown (widened by 5% of its width each
 * way), else 0.9 just past that and towards 1 further out (the spatial
 * anomaly of Numenta's NAB detector).  The tail models judge a value
 * against the current baseline and scale, calibrated on the series' own
 * departures both ways: a latency that spikes up every day makes a drop of
 * the same size look common, though nothing that low was ever seen.  Not
 * used by the burst machine.
 *
 * Score.  The step's `score`, the one alerts carry and the NAB benchmark
 * ranks, fuses the four: f = max(surprise, 0.8 x change, context', range),
 * where context' = min(context, its own calibrated rarity): the context
 * score learns a tail model like the surprise (scored 0.5 at 7 nats rather
 * than 5), so it counts fully on a series where it is usually quiet and
 * little on one whose sequences often look new (heavy-tailed volumes).  An
 * incident is reported once, at its peak: a run of steps whose f is each a
 * new maximum of the last `window` steps is held while it rises, and the
 * first step after it reports the run's highest f; any other step reports
 * f / 10.  (Alerts carry at least the surprise of the burst's START.)
 *
 * Bursts (upward only: a burst is "more than usual").  A burst starts when the
 * surprise reaches `fire_score`, the value is above the baseline and at least
 * `min_count`; it is updated when the value grows by `update_ratio` over the
 * last reported peak; it ends after `end_quiet` consecutive values under
 * `end_score` or back at the baseline.  One start, few updates, one end.
 *
 * Units.  The detector knows nothing about time: `window`, `warmup` and
 * `period` are counts of steps.  The caller converts (period = 86400 / step).
 */
#ifndef GH_DETECTOR_H
#define GH_DETECTOR_H

#include <stdint.h>

typedef struct {
    int window;          /* steps in the robust baseline window (default 288) */
    int warmup;          /* steps before anything is scored (default 60) */
    int period;          /* seasonal period in steps, 0 = none (default 0) */
    int short_len;       /* steps averaged for the surprise statistic (default 1) */
    double fire_score;   /* surprise that starts a burst (default 0.95) */
    double end_score;    /* a burst ends after end_quiet steps of surprise below this (default 0.5) */
    int end_quiet;       /* (default 3) */
    double min_count;    /* a burst needs a value at least this (default 0 = any) */
    double update_ratio; /* update when the value reaches peak x this (default 2) */
} gh_detector_cfg_t;

typedef enum {
    GH_DET_NONE = 0,
    GH_DET_START,        /* a burst began at this step */
    GH_DET_UPDATE,       /* the burst grew materially */
    GH_DET_END           /* the burst ended (this step is back to normal) */
} gh_det_event_t;

typedef struct {
    double score;        /* [0,1], the step's reported score (see Score above) */
    double surprise;     /* [0,1], the calibrated surprise of this value alone */
    double change;       /* [0,1]: how unusual the recent distribution is (see above) */
    double context;      /* [0,1]: how new the sequence leading here is (context.h) */
    double range;        /* [0,1]: how far beyond the series' range so far (see Range) */
    double z;            /* signed robust z of this value */
    double baseline;     /* expected value for this step */
    double scale;        /* robust spread around it */
    double threshold;    /* smallest value that would score >= fire_score on its own */
    int event;           /* gh_det_event_t */
    int in_burst;        /* 1 while a burst is open (including its START step) */
    int warm;            /* 1 once past warm-up (score and threshold meaningful) */
    double peak;         /* highest value of the open (or just ended) burst */
} gh_det_out_t;

typedef struct gh_detector gh_detector_t;

/* Fill cfg with the defaults above. */
void gh_detector_defaults(gh_detector_cfg_t *cfg);

/* A new detector (cfg NULL = defaults; zero or negative fields also take the
 * default, except period and min_count where 0 is meaningful).  Returns NULL
 * when out of memory. */
gh_detector_t *gh_detector_new(const gh_detector_cfg_t *cfg);

/* Destroy *d and set *d to NULL; NULL-safe. */
void gh_detector_destroy(gh_detector_t **d);

/* Feed the next value; out (non-NULL) receives the score and any burst event.
 * Non-finite values are treated as 0.  Never fails. */
void gh_detector_step(gh_detector_t *d, double x, gh_det_out_t *out);

/* Steps fed so far. */
uint64_t gh_detector_count(const gh_detector_t *d);

/* 1 while a burst is open. */
int gh_detector_in_burst(const gh_detector_t *d);

#endif
