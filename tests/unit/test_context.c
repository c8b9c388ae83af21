/* test_context.c -- the contextual novelty detector (context.c): a learnt
 * repeating sequence scores 0, a break in it scores high, also once its
 * counters have passed 16 bits; every score is in [0,1], memory is bounded
 * (restarts on saturation and on range growth; a restarted memory is silent
 * while it relearns; peak bytes at the defaults under the bound context.h
 * states), non-finite input is harmless, and the same input gives the same
 * scores. */
#include "anomaly/context.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "../check.h"

/* A sawtooth 0..7 repeated: after a few periods every step is predicted. */
static void test_pattern(void)
{
    gh_context_t *c = gh_context_new(NULL);
    CHECK(c != NULL);
    double late = 0, brk = 0;
    for (int i = 0; i < 800; i++) {
        double s = gh_context_step(c, (double)(i % 8));
        CHECK(s >= 0 && s <= 1);
        if (i >= 400) late += s;
    }
    CHECK(late == 0);
    /* break the pattern: 3 where 0 was due (inside the learnt range, so no
     * restart: only the first steps, while the range grows, restart) */
    uint64_t r0 = gh_context_restarts(c);
    brk = gh_context_step(c, 3);
    CHECK(brk >= 0.5);
    CHECK_EQ(gh_context_restarts(c), r0);
    gh_context_destroy(&c);
    CHECK(c == NULL);
    gh_context_destroy(&c);   /* NULL-safe */
}

/* Memory stays bounded on noise; a jump far above the range restarts. */
static void test_bounded(void)
{
    gh_context_cfg_t cfg;
    gh_context_defaults(&cfg);
    cfg.max_contexts = 512;
    gh_context_t *c = gh_context_new(&cfg);
    uint64_t r = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        double s = gh_context_step(c, (double)(r % 1000) / 10.0);
        CHECK(s >= 0 && s <= 1);
    }
    CHECK(gh_context_restarts(c) >= 1);
    uint64_t before = gh_context_restarts(c);
    gh_context_step(c, 1e6);
    CHECK_EQ(gh_context_restarts(c), before + 1);
    /* a restarted memory learns before it scores: noise is all new to it,
     * yet it reports 0 for 31 more steps, then scores again */
    double early = 0, after = 0;
    for (int i = 0; i < 31; i++) {
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        early += gh_context_step(c, (double)(r % 1000000));
    }
    CHECK_EQ(gh_context_restarts(c), before + 1);
    for (int i = 0; i < 200; i++) {
        r ^= r << 13; r ^= r >> 7; r ^= r << 17;
        after += gh_context_step(c, (double)(r % 1000000));
    }
    CHECK(early == 0);
    CHECK(after > 0);
    CHECK(gh_context_step(c, NAN) >= 0);
    CHECK(gh_context_step(c, INFINITY) >= 0);
    gh_context_destroy(&c);
}

/* Same input, same scores (no hidden state beyond the input). */
static void test_deterministic(void)
{
    gh_context_t *a = gh_context_new(NULL), *b = gh_context_new(NULL);
    int same = 1;
    for (int i = 0; i < 3000; i++) {
        double x = 50 + 40 * sin(i * 0.05) + (i % 37 == 0 ? 30 : 0);
        if (gh_context_step(a, x) != gh_context_step(b, x)) same = 0;
    }
    CHECK(same);
    gh_context_destroy(&a);
    gh_context_destroy(&b);
}

static uint64_t s_rng = 88172645463325252ull;

static double s_u01(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (double)(s_rng >> 11) / 9007199254740992.0;
}

static double s_poisson(double rate)
{
    double l = exp(-rate), p = 1;
    int k = 0;
    do {
        k++;
        p *= s_u01();
    } while (p > l);
    return k - 1;
}

/* Peak bytes over 20,000 steps at the defaults stay under 48 kB (context.h)
 * on sparse and dense counts, noise and a smooth series with spikes; the
 * memory is used (not a stub) and restarts do not add to it. */
static void test_memory(void)
{
    for (int kind = 0; kind < 4; kind++) {
        gh_context_t *c = gh_context_new(NULL);
        size_t peak = 0, first = gh_context_bytes(c);
        for (int i = 0; i < 20000; i++) {
            double x = kind == 0 ? s_poisson(0.2) : kind == 1 ? s_poisson(50)
                     : kind == 2 ? floor(s_u01() * 1000)
                     : 70 + 15 * sin(i * 0.01) + 3 * s_u01() + (i % 997 == 0 ? 40 : 0);
            gh_context_step(c, x);
            if (gh_context_bytes(c) > peak) peak = gh_context_bytes(c);
        }
        size_t end = gh_context_bytes(c);
        printf("context memory: series %d peak %zu bytes, %llu restarts\n", kind, peak,
               (unsigned long long)gh_context_restarts(c));
        CHECK(peak < 48 * 1024);
        CHECK(peak > first + 16 * 1024);
        CHECK(end <= peak);
        gh_context_destroy(&c);
    }
}

/* A sawtooth long enough that its contexts' counters pass 16 bits: still
 * learnt (0), a break still scores high, no restart; the high halves of
 * the counters show in the byte count. */
static void test_wide_counts(void)
{
    gh_context_t *c = gh_context_new(NULL);
    double late = 0;
    size_t early = 0;
    for (int i = 0; i < 150000; i++) {
        double s = gh_context_step(c, (double)(i % 8));
        if (i == 1000) early = gh_context_bytes(c);
        if (i >= 140000) late += s;
    }
    uint64_t r0 = gh_context_restarts(c);
    CHECK(late == 0);
    CHECK(gh_context_bytes(c) > early);
    CHECK(gh_context_step(c, 3) >= 0.5);
    CHECK_EQ(gh_context_restarts(c), r0);
    gh_context_destroy(&c);
}

int main(void)
{
    test_pattern();
    test_bounded();
    test_deterministic();
    test_memory();
    test_wide_counts();
    TEST_MAIN_END();
}
