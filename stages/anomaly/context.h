/* context.h -- contextual novelty of ONE regularly spaced series: how new is
 * the sequence that led to this value, rather than the value itself.
 *
 * The algorithm is the Contextual Anomaly Detector (CAD, "contextOSE" in NAB)
 * by Mikhail Smirnov (https://github.com/smirmik/CAD); this is a clean-room
 * implementation from its description, with the value range learnt online
 * instead of given in advance.
 *
 * Facts.  A value is quantised into 2^bits - 1 equal steps over the range
 * seen so far and written as `bits` binary facts (bit position, bit value).
 * The facts of one step, together with "neuron" facts naming the contexts
 * that were active at that step, form the left side of the next step.
 *
 * Contexts.  A context is a pair (left fact set, right fact set): "after
 * these facts, those facts followed".  Each step stores the whole transition
 * (previous left side, current facts) as a zero-level context and, when that
 * transition is new, the partial overlaps of known zero-level contexts with
 * it as further contexts (left overlaps of at most `max_left` facts).  Left
 * and right halves are shared between contexts (semi-contexts).
 *
 * Score.  Of the contexts whose left half fully matched the previous step
 * ("selected"), the share whose right half fully matches the current facts
 * is the familiarity a; the share of truly new contexts among the candidates
 * of this step is the novelty b.  The score is (1 - a + b) / 2 in [0,1], and
 * 0 when the contexts best predicting this step (highest share of right
 * facts matched in the past) had predicted all of its facts.
 *
 * Memory.  Bounded by `max_contexts`: when it is reached (saturation) the
 * memory restarts empty, keeping the learnt range -- which also lets it
 * forget old regimes; when a value leaves the range by more than half the
 * range, the range grows to include it and the memory restarts too (its
 * facts would no longer mean the same values).  After a restart the memory
 * learns for 32 steps before it scores again (0 meanwhile): an empty memory
 * finds everything new.  A context takes 12 bytes (18 from the first
 * counter past 16 bits to the next restart), a left half about 20; the
 * arrays are flat, grow by half and are kept across restarts, so a
 * detector holds its peak and no more.  Measured peak at the defaults
 * (gh_context_bytes, 20,000 steps): 35.4 kB on a Poisson series of rate
 * 0.2, 40.4 kB at rate 50, 43.8 kB on NAB's machine_temperature, 42.7 kB
 * on uniform noise; test_context checks < 48 kB on such series.  A full
 * memory with wide counters would hold ~13 kB more.  It grows with what the
 * series shows, a series that repeats itself stays small.  The defaults
 * (5 active contexts as facts, 2048 contexts) score better on NAB than
 * 15 / 4096 at well under half the memory (15 active contexts multiply the
 * distinct left sides).
 */
#ifndef GH_CONTEXT_H
#define GH_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int bits;            /* facts per value: 2^bits - 1 quantisation steps (default 3) */
    int max_left;        /* largest left half of a derived context (default 7) */
    int max_active;      /* active contexts carried as neuron facts (default 5) */
    int max_contexts;    /* memory bound before a restart (default 2048, at most 16000) */
} gh_context_cfg_t;

typedef struct gh_context gh_context_t;

/* Fill cfg with the defaults above. */
void gh_context_defaults(gh_context_cfg_t *cfg);

/* A new detector (cfg NULL = defaults; zero or negative fields take the
 * default).  Returns NULL when out of memory. */
gh_context_t *gh_context_new(const gh_context_cfg_t *cfg);

/* Destroy *c and set *c to NULL; NULL-safe. */
void gh_context_destroy(gh_context_t **c);

/* Feed the next value (non-finite = 0); returns its contextual score in
 * [0,1].  When memory cannot grow the detector restarts; never fails. */
double gh_context_step(gh_context_t *c, double x);

/* Restarts so far (saturation or range growth). */
uint64_t gh_context_restarts(const gh_context_t *c);

/* Bytes this detector holds: its struct and the capacity of its arrays
 * (allocator overhead not counted). */
size_t gh_context_bytes(const gh_context_t *c);

#endif
