/* test_detect.c -- the burst detector (detector.c) and the anomaly stage logic
 * (anomaly.c): quiet on flat and noisy Poisson series, one alert per injected
 * burst then a resolve, thin series quiet, watermark and lateness, new-template
 * alerts only after warm-up, identical alerts for 1 or 4 shards, a spike
 * that builds over steps reported once at its peak, after a quiet stretch
 * no burst for a spike of the size the series often had before, a drop to
 * a level never shown reported by its range score; per-host
 * series (hostdet.c): one host's burst inside a normal total is reported once,
 * naming the host, quiet without it, folded into the aggregate's alert when
 * the total bursts too, the same with 4 shards, caps counted. */
#include "anomaly/anomaly.h"
#include "anomaly/detector.h"
#include "anomaly/hostdet.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "hash.h"

/* Deterministic Poisson draws (Knuth for small means, normal approx above). */
static uint64_t s_rng = 88172645463325252ull;
static double s_unif(void)
{
    s_rng ^= s_rng << 13; s_rng ^= s_rng >> 7; s_rng ^= s_rng << 17;
    return (double)(s_rng >> 11) / 9007199254740992.0;
}
static double s_poisson(double lam)
{
    if (lam > 30) {
        double u1 = s_unif() + 1e-12, u2 = s_unif();
        double v = lam + sqrt(lam) * sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
        return v < 0 ? 0 : floor(v + 0.5);
    }
    double l = exp(-lam), p = 1;
    int k = 0;
    do { k++; p *= s_unif(); } while (p > l);
    return k - 1;
}

typedef struct { int start, update, end; } s_ev_t;

static s_ev_t s_run(const double *v, int n, double min_count)
{
    gh_detector_cfg_t c;
    gh_detector_defaults(&c);
    c.period = 1440;
    c.min_count = min_count;
    gh_detector_t *d = gh_detector_new(&c);
    s_ev_t e = { 0, 0, 0 };
    for (int i = 0; i < n; i++) {
        gh_det_out_t o;
        gh_detector_step(d, v[i], &o);
        CHECK(o.score >= 0 && o.score <= 1);
        CHECK(o.context >= 0 && o.context <= 1);
        CHECK(o.range >= 0 && o.range <= 1);
        e.start += o.event == GH_DET_START;
        e.update += o.event == GH_DET_UPDATE;
        e.end += o.event == GH_DET_END;
    }
    gh_detector_destroy(&d);
    CHECK(d == NULL);
    return e;
}

static void test_detector(void)
{
    static double v[3000];
    /* flat */
    for (int i = 0; i < 3000; i++) v[i] = 20;
    s_ev_t e = s_run(v, 3000, 5);
    CHECK_EQ(e.start, 0);
    /* noisy Poisson, several rates */
    double lams[] = { 0.2, 3, 20, 200 };
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < 3000; i++) v[i] = s_poisson(lams[k]);
        e = s_run(v, 3000, 5);
        if (e.start) fprintf(stderr, "lambda %g: %d bursts\n", lams[k], e.start);
        CHECK_EQ(e.start, 0);
    }
    /* injected burst: 10 buckets at 8x */
    for (int i = 0; i < 3000; i++) v[i] = s_poisson(20) + (i >= 2000 && i < 2010 ? 140 : 0);
    e = s_run(v, 3000, 5);
    CHECK_EQ(e.start, 1);
    CHECK_EQ(e.end, 1);
    CHECK(e.update <= 1);
    /* thin series: an occasional event, a 3-event minute: quiet */
    for (int i = 0; i < 3000; i++) v[i] = (i % 97 == 0) ? 1 : 0;
    v[1500] = 3;
    e = s_run(v, 3000, 5);
    CHECK_EQ(e.start, 0);
}

/* A spike that builds over three steps is reported once, at its peak: the
 * rising steps report a tenth of their score, the step after the peak
 * reports the peak's fused score (at least its surprise), and nothing else
 * near it reaches half. */
static void test_peak_report(void)
{
    gh_detector_cfg_t c;
    gh_detector_defaults(&c);
    c.period = 1440;
    c.min_count = 5;
    gh_detector_t *d = gh_detector_new(&c);
    double peak_surprise = 0, at_release = 0;
    int high = 0;
    for (int i = 0; i < 2300; i++) {
        double x = s_poisson(20);
        if (i == 2000) x += 40;
        if (i == 2001) x += 100;
        if (i == 2002) x += 220;
        gh_det_out_t o;
        gh_detector_step(d, x, &o);
        if (i >= 2000 && i <= 2002) CHECK(o.score <= 0.1);
        if (i == 2002) peak_surprise = o.surprise;
        if (i == 2003) at_release = o.score;
        if (i >= 1990 && o.score >= 0.5) high++;
    }
    CHECK(peak_surprise >= 0.95);
    CHECK(at_release >= peak_surprise);
    CHECK_EQ(high, 1);
    gh_detector_destroy(&d);
}

/* The surprise is rare only if it is rare for the series' longer past too:
 * a series that spiked by +60 every 50 steps for 3000 steps, then was
 * quiet for 2000 (five times the recent tail's memory at window 50), does
 * not start a burst for another +60 spike (the recent tail alone scores it
 * 0.97 and fires); a spike eight times the old ones still does.  Its own
 * seed, and the shared generator's state put back afterwards. */
static void s_hist_spike(double extra, double *surprise, int *event)
{
    gh_detector_cfg_t c;
    gh_detector_defaults(&c);
    c.window = 50;
    c.min_count = 5;
    gh_detector_t *d = gh_detector_new(&c);
    uint64_t saved = s_rng;
    s_rng = 88172645463325252ull;
    int starts = 0;
    for (int i = 0; i <= 5000; i++) {
        double x = s_poisson(20);
        if (i < 3000 && i % 50 == 25) x += 60;
        if (i == 5000) x += extra;
        gh_det_out_t o;
        gh_detector_step(d, x, &o);
        if (i < 5000) starts += o.event == GH_DET_START;
        *surprise = o.surprise;
        *event = o.event;
    }
    CHECK_EQ(starts, 0);
    s_rng = saved;
    gh_detector_destroy(&d);
}

static void test_hist_memory(void)
{
    double sur;
    int ev;
    s_hist_spike(60, &sur, &ev);
    CHECK(sur < 0.95);
    CHECK(ev != GH_DET_START);
    s_hist_spike(480, &sur, &ev);
    CHECK(sur >= 0.95);
    CHECK_EQ(ev, GH_DET_START);
}

/* The tail models judge a value against the current baseline and scale,
 * calibrated on the series' own departures -- both ways: a gauge that
 * spikes up by 30 every 20 steps teaches them that a departure of that
 * size is common, so a drop to a level it has never shown is not rare for
 * them.  The range signal sees it: nothing within the gauge's range
 * scores, the drop scores at least 0.9 and is reported (the step after it,
 * the held peak), and a value far beyond the range scores higher than one
 * just past the 5% tolerance (graded).  Its own seed, the shared
 * generator's state put back afterwards. */
static void test_range(void)
{
    gh_detector_cfg_t c;
    gh_detector_defaults(&c);
    gh_detector_t *d = gh_detector_new(&c);
    uint64_t saved = s_rng;
    s_rng = 88172645463325252ull;
    double in_range = 0, drop_surprise = 0, drop_range = 0, reported = 0;
    for (int i = 0; i <= 3001; i++) {
        double x = 50 + 10 * s_unif();
        if (i % 20 == 10) x += 30;
        if (i == 3000) x = 25;
        gh_det_out_t o;
        gh_detector_step(d, x, &o);
        CHECK(o.range >= 0 && o.range < 1);
        if (i < 3000 && o.range > in_range) in_range = o.range;
        if (i == 3000) drop_surprise = o.surprise, drop_range = o.range;
        if (i == 3001) reported = o.score;
    }
    CHECK(in_range == 0);
    CHECK(drop_surprise < 0.9);
    CHECK(drop_range >= 0.9);
    CHECK(reported >= drop_range);
    /* a range of about [50, 90]: a tolerance of about 2 */
    gh_det_out_t o1, o2;
    gh_detector_t *d2 = gh_detector_new(&c);
    for (int i = 0; i < 300; i++) {
        gh_det_out_t o;
        gh_detector_step(d2, 50 + 10 * s_unif() + (i % 20 == 10 ? 30 : 0), &o);
    }
    gh_detector_step(d2, 47.0, &o1);
    gh_detector_step(d2, 10.0, &o2);
    CHECK(o1.range >= 0.9);
    CHECK(o2.range > o1.range);
    printf("range: drop's surprise %.2f, range %.2f, reported %.2f; range at 47 / at 10: %.3f / %.3f\n",
           drop_surprise, drop_range, reported, o1.range, o2.range);
    s_rng = saved;
    gh_detector_destroy(&d);
    gh_detector_destroy(&d2);
}

/* ---- stage ---- */

typedef struct {
    int alerts, bursts, firing, resolved, news, rates;
    uint64_t idsum;
    char last_kind[32], last_host[64], last_key[160], last_example[512];
    int64_t first_start, first_end;
    double last_rate, last_baseline;
} s_sink_t;

static void s_on_alert(void *ctx, const gh_alert_t *a)
{
    s_sink_t *s = ctx;
    s->alerts++;
    snprintf(s->last_kind, sizeof s->last_kind, "%.*s", (int)a->kind.n, a->kind.p);
    if (!strcmp(s->last_kind, "burst")) {
        s->bursts++;
        if (a->state.n == 6 && !memcmp(a->state.p, "firing", 6)) {
            s->firing++;
            if (!s->first_start) s->first_start = a->start_ms;
            if (!s->first_end) s->first_end = a->end_ms;
            snprintf(s->last_host, sizeof s->last_host, "%.*s", (int)a->host.n, a->host.p ? a->host.p : "");
            snprintf(s->last_key, sizeof s->last_key, "%.*s", (int)a->key.n, a->key.p);
            snprintf(s->last_example, sizeof s->last_example, "%.*s", (int)a->examples[0].n, a->examples[0].p);
            s->last_rate = a->rate;
            s->last_baseline = a->baseline;
            CHECK(a->nexamples >= 1 && a->nexamples <= 3);
            CHECK(a->nseries >= 1 && a->nseries <= GH_MAX_SERIES);
            /* at least the surprise that started the burst (the detector's
             * own score of a rising step is held for its peak) */
            gh_detector_cfg_t dc;
            gh_detector_defaults(&dc);
            CHECK(a->score >= dc.fire_score && a->score <= 1);
        }
        if (a->state.n == 8 && !memcmp(a->state.p, "resolved", 8)) s->resolved++;
    } else if (!strcmp(s->last_kind, "new_template")) s->news++;
    s->idsum += gh_hash(a->id.p, a->id.n, 0) ^ gh_hash(a->state.p, a->state.n, 1);
}
static void s_on_rate(void *ctx, const gh_rate_t *r) { (void)r; ((s_sink_t *)ctx)->rates++; }

static gh_cls_t s_item(int64_t ts, uint64_t tpl, int level, const char *host)
{
    gh_cls_t c;
    memset(&c, 0, sizeof c);
    c.ts_ms = ts;
    c.tpl_id = tpl;
    c.level = (uint8_t)level;
    c.keys = GH_KEY_TEMPLATE | GH_KEY_LEVEL;
    c.cls = gh_cstr("");
    c.host = gh_cstr(host);
    c.tpl = gh_cstr("user <*> logged in");
    c.raw = gh_cstr("Jan 1 00:00:00 h1 sshd: user bob logged in");
    return c;
}

static const int64_t T0 = 1699999980000LL; /* minute aligned */

/* Feed 6 hours of a steady info template (Poisson 20/min) with a burst of
 * `burst` extra events per minute during minutes 300..309, plus one warning
 * template first seen at minute `new_at`, round-robin over `shards` stages. */
static void s_feed(int shards, double burst, int new_at, s_sink_t *sink)
{
    gh_anomaly_t *a[4];
    gh_anomaly_sink_t sk = { sink, s_on_alert, s_on_rate };
    for (int i = 0; i < shards; i++) a[i] = gh_anomaly_new(NULL, sk);
    s_rng = 12345;
    for (int m = 0; m < 360; m++) {
        int n = (int)s_poisson(20) + (m >= 300 && m < 310 ? (int)burst : 0);
        for (int j = 0; j < n; j++) {
            int64_t ts = T0 + m * 60000LL + (int64_t)(j * 60000LL / (n + 1));
            gh_cls_t c = s_item(ts, 1, 6, m >= 300 && m < 310 && j % 10 ? "web7" : "web1");
            gh_anomaly_add(a[gh_shard(1, (unsigned)shards)], &c);
            if (j == 0 && m == new_at) {
                gh_cls_t w = s_item(ts, 99, GH_LVL_ERR, "db1");
                gh_anomaly_add(a[gh_shard(99, (unsigned)shards)], &w);
            }
        }
        /* other templates, steady, spread over the shards */
        int no = (int)s_poisson(30);
        for (int j = 0; j < no; j++) {
            int64_t ts = T0 + m * 60000LL + (int64_t)(j * 60000LL / (no + 1));
            gh_cls_t o = s_item(ts, 2 + (uint64_t)(j % 3), 6, "web2");
            gh_anomaly_add(a[gh_shard(2 + (uint64_t)(j % 3), (unsigned)shards)], &o);
        }
        /* the pipeline's event time reaches every shard */
        for (int i = 0; i < shards; i++) gh_anomaly_advance(a[i], T0 + m * 60000LL + 59000);
    }
    for (int i = 0; i < shards; i++) {
        gh_anomaly_flush(a[i]);
        gh_anomaly_destroy(&a[i]);
    }
}

static void test_stage(void)
{
    s_sink_t s1, s4, q;
    memset(&s1, 0, sizeof s1);
    s_feed(1, 150, 200, &s1);
    CHECK_EQ(s1.firing, 1);
    CHECK_EQ(s1.resolved, 1);
    CHECK_EQ(s1.news, 1);
    CHECK(s1.first_start >= T0 + 300 * 60000LL && s1.first_start <= T0 + 302 * 60000LL);
    CHECK_STR(s1.last_host, "web7");
    CHECK(s1.rates > 4 * 350);
    /* determinism: 4 shards give the same alerts */
    memset(&s4, 0, sizeof s4);
    s_feed(4, 150, 200, &s4);
    CHECK_EQ(s4.alerts, s1.alerts);
    CHECK(s4.idsum == s1.idsum);
    /* no incident: no burst; new template during warm-up: no alert */
    memset(&q, 0, sizeof q);
    s_feed(1, 0, 2, &q);
    CHECK_EQ(q.bursts, 0);
    CHECK_EQ(q.news, 0);
}

static void test_watermark(void)
{
    s_sink_t s;
    memset(&s, 0, sizeof s);
    gh_anomaly_sink_t sk = { &s, s_on_alert, s_on_rate };
    gh_anomaly_t *a = gh_anomaly_new(NULL, sk);   /* 60 s buckets, 30 s lateness */
    gh_cls_t c = s_item(T0 + 10000, 1, 6, "h");
    CHECK_EQ(gh_anomaly_add(a, &c), 0);
    c.ts_ms = T0 + 80000;                          /* watermark 50 s: bucket 0 open */
    CHECK_EQ(gh_anomaly_add(a, &c), 0);
    c.ts_ms = T0 + 20000;                          /* 60 s late but bucket still open */
    CHECK_EQ(gh_anomaly_add(a, &c), 0);
    CHECK_EQ(s.rates, 0);
    c.ts_ms = T0 + 95000;                          /* watermark 65 s: bucket 0 closes */
    CHECK_EQ(gh_anomaly_add(a, &c), 0);
    CHECK(s.rates >= 1);
    c.ts_ms = T0 + 30000;                          /* its bucket closed: late, dropped */
    CHECK_EQ(gh_anomaly_add(a, &c), 1);
    gh_anomaly_stats_t st;
    gh_anomaly_get_stats(a, &st);
    CHECK_EQ(st.late, 1);
    CHECK_EQ(st.items, 4);
    gh_anomaly_flush(a);
    gh_anomaly_destroy(&a);
    CHECK(a == NULL);
}

/* ---- per-host series ---- */

static void test_hostdet(void)
{
    CHECK_NEAR(gh_poisson_tail_nats(0, 1), 0, 1e-12);
    CHECK_NEAR(gh_poisson_tail_nats(1, 1), 0, 1e-12);               /* x <= lambda */
    CHECK_NEAR(gh_poisson_tail_nats(3, 1), -log(1 - 2.5 * exp(-1)), 1e-6);   /* P(X>=3) */
    CHECK(gh_poisson_tail_nats(13, 1) > 20);
    CHECK_NEAR(gh_poisson_tail_nats(13, 1), 23.4784, 1e-3);
    CHECK_NEAR(gh_poisson_tail_nats(130, 100), 6.0827, 1e-3);        /* ~3 sigma */
    CHECK(gh_poisson_tail_nats(1100, 2000) == 0 && gh_poisson_tail_nats(2200, 2000) > 6);
    /* quiet on Poisson noise once warm, at several rates; a jump fires */
    gh_hostdet_cfg_t c;
    gh_hostdet_defaults(&c);
    double lams[] = { 0.3, 1, 3, 20, 200 };
    for (int k = 0; k < 5; k++) {
        gh_hostdet_t d;
        gh_hostdet_init(&d, 0);
        gh_det_out_t o;
        int starts = 0;
        for (int i = 0; i < 3000; i++) {
            gh_hostdet_step(&d, &c, s_poisson(lams[k]), &o);
            starts += o.event == GH_DET_START;
            CHECK(o.score >= 0 && o.score <= 1);
        }
        if (starts) fprintf(stderr, "hostdet lambda %g: %d bursts\n", lams[k], starts);
        CHECK_EQ(starts, 0);
        gh_hostdet_step(&d, &c, lams[k] * 4 + 20, &o);
        CHECK_EQ(o.event, GH_DET_START);
    }
}

/* One classified "failed password" line (template 7, class auth_failure). */
static gh_cls_t s_fail(int64_t ts, const char *host)
{
    gh_cls_t c;
    memset(&c, 0, sizeof c);
    c.ts_ms = ts;
    c.tpl_id = 7;
    c.level = 6;
    c.keys = GH_KEY_TEMPLATE | GH_KEY_CLASS | GH_KEY_LEVEL;
    c.cls = gh_cstr("auth_failure");
    c.host = gh_cstr(host);
    c.tpl = gh_cstr("Failed password for <*> from <*> port <*> ssh2");
    c.raw = gh_cstr(host);   /* the host as the line: examples say whose they are */
    return c;
}

/* Six hours of failed logins from six hosts: web1..web5 about 20 a minute
 * each, web6 about 1.2; during minutes 240..249 web6 sends `extra` more a
 * minute.  Routed like classify does over `shards` workers: the template and
 * the class series by their own key (one item to a worker owning both). */
static void s_feed_hosts(int shards, int extra, const gh_anomaly_cfg_t *cfg, s_sink_t *sink,
                         gh_anomaly_stats_t *st)
{
    gh_anomaly_t *a[4];
    gh_anomaly_sink_t sk = { sink, s_on_alert, s_on_rate };
    for (int i = 0; i < shards; i++) a[i] = gh_anomaly_new(cfg, sk);
    unsigned st_tpl = gh_shard(7, (unsigned)shards), st_cls = gh_shard(0xc1a55, (unsigned)shards);
    static const char *hosts[] = { "web1", "web2", "web3", "web4", "web5", "web6" };
    s_rng = 4242;
    for (int m = 0; m < 360; m++) {
        for (int h = 0; h < 6; h++) {
            int n = (int)s_poisson(h < 5 ? 20 : 1.2) + (h == 5 && m >= 240 && m < 250 ? extra : 0);
            for (int j = 0; j < n; j++) {
                gh_cls_t c = s_fail(T0 + m * 60000LL + (int64_t)((j * 6 + h) * 60000LL / (6 * n + 6)), hosts[h]);
                if (st_tpl == st_cls) {
                    gh_anomaly_add(a[st_tpl], &c);
                } else {
                    c.keys = GH_KEY_TEMPLATE | GH_KEY_LEVEL;
                    gh_anomaly_add(a[st_tpl], &c);
                    c.keys = GH_KEY_CLASS;
                    gh_anomaly_add(a[st_cls], &c);
                }
            }
        }
        for (int i = 0; i < shards; i++) gh_anomaly_advance(a[i], T0 + m * 60000LL + 59000);
    }
    memset(st, 0, sizeof *st);
    for (int i = 0; i < shards; i++) {
        gh_anomaly_flush(a[i]);
        gh_anomaly_stats_t x;
        gh_anomaly_get_stats(a[i], &x);
        st->host_series += x.host_series;
        st->host_untracked += x.host_untracked;
        st->host_covered += x.host_covered;
        st->host_folded += x.host_folded;
        st->covered += x.covered;
        gh_anomaly_destroy(&a[i]);
    }
}

static void test_hosts(void)
{
    s_sink_t s1, s4, q, off, big;
    gh_anomaly_stats_t st;
    /* web6 goes from ~1.2 to ~13 a minute; the total, ~101, barely moves */
    memset(&s1, 0, sizeof s1);
    s_feed_hosts(1, 12, NULL, &s1, &st);
    CHECK_EQ(s1.firing, 1);
    CHECK_EQ(s1.resolved, 1);
    CHECK_STR(s1.last_host, "web6");
    CHECK_STR(s1.last_key, "tpl:7/web6");
    CHECK_STR(s1.last_example, "web6");
    CHECK(s1.first_start >= T0 + 240 * 60000LL && s1.first_end <= T0 + 242 * 60000LL);
    CHECK(s1.last_rate >= 8 && s1.last_baseline < 3);
    CHECK_EQ(st.host_series, 12);     /* six hosts of the template and of the class */
    CHECK_EQ(st.host_untracked, 0);
    CHECK(st.host_covered >= 1);      /* the class's web6 burst is the template's */
    /* determinism: 4 shards give the same alerts */
    memset(&s4, 0, sizeof s4);
    s_feed_hosts(4, 12, NULL, &s4, &st);
    CHECK_EQ(s4.alerts, s1.alerts);
    CHECK(s4.idsum == s1.idsum);
    /* no host burst: no alert at all */
    memset(&q, 0, sizeof q);
    s_feed_hosts(1, 0, NULL, &q, &st);
    CHECK_EQ(q.bursts, 0);
    /* per-host series off: the same burst goes unreported (the total is normal) */
    gh_anomaly_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_hosts = -1;
    memset(&off, 0, sizeof off);
    s_feed_hosts(1, 12, &cfg, &off, &st);
    CHECK_EQ(off.bursts, 0);
    CHECK_EQ(st.host_series, 0);
    /* a burst the total shows too: one alert, the aggregate's or the host's,
     * naming web6 either way */
    memset(&big, 0, sizeof big);
    s_feed_hosts(1, 400, NULL, &big, &st);
    CHECK_EQ(big.firing, 1);
    CHECK_STR(big.last_host, "web6");
    CHECK_STR(big.last_example, "web6");
    /* caps: two hosts a series; the others are counted as untracked */
    memset(&cfg, 0, sizeof cfg);
    cfg.max_hosts = 2;
    memset(&q, 0, sizeof q);
    s_feed_hosts(1, 0, &cfg, &q, &st);
    CHECK_EQ(st.host_series, 4);
    CHECK(st.host_untracked > 0);
    cfg.max_hosts = 0;
    cfg.max_host_series = 3;
    s_feed_hosts(1, 0, &cfg, &q, &st);
    CHECK_EQ(st.host_series, 3);
}

int main(void)
{
    test_detector();
    test_peak_report();
    test_hist_memory();
    test_range();
    test_hostdet();
    test_hosts();
    test_stage();
    test_watermark();
    TEST_MAIN_END();
}
