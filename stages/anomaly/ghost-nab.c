/* ghost-nab.c -- run ghost's own detector (and forecaster) over NAB-style CSV
 * series, for the benchmark (bench/nab.sh) and for forecast accuracy.
 *
 *   ghost-nab IN.csv OUT.csv     score every row of IN (timestamp,value) with
 *                                the detector ghost-anomaly uses, same defaults;
 *                                writes timestamp,value,anomaly_score,label
 *   ghost-nab --mase IN.csv...   MASE of the predict stage's Holt forecaster at
 *                                a horizon of 12 steps against the naive
 *                                forecast (last value), one line per file and
 *                                the mean and median over all files
 *
 * The only thing taken from the data is its spacing: the seasonal period
 * handed to the detector is one day in steps (86400 / spacing), exactly what
 * ghost-anomaly passes for its buckets; min_count is the stage's default.
 * The NAB score of a row is the score the detector reports for that step
 * (nabscore.h), the one ghost-anomaly's alerts carry.
 */
#include "anomaly/detector.h"
#include "anomaly/nabscore.h"
#include "predict/holt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

typedef struct {
    char **ts;
    double *v;
    int64_t *t;
    size_t n, cap;
} s_series_t;

static void s_series_free(s_series_t *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->ts[i]);
    free(s->ts);
    free(s->v);
    free(s->t);
    memset(s, 0, sizeof *s);
}

/* "YYYY-MM-DD HH:MM:SS[.fff]" -> seconds since the epoch; -1 when malformed. */
static int64_t s_parse_ts(const char *p)
{
    int y, mo, d, h, mi;
    double sec;
    if (sscanf(p, "%d-%d-%d%*[ T]%d:%d:%lf", &y, &mo, &d, &h, &mi, &sec) != 6) return -1;
    return gh_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + (int64_t)sec;
}

static int s_load(const char *path, s_series_t *s)
{
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); return -1; }
    char line[4096];
    int first = 1;
    while (fgets(line, sizeof line, f)) {
        if (first) { first = 0; continue; }   /* header */
        char *comma = strchr(line, ',');
        if (!comma) continue;
        *comma = 0;
        if (s->n == s->cap) {
            size_t nc = s->cap ? 2 * s->cap : 1024;
            char **ts = realloc(s->ts, nc * sizeof *ts);
            if (ts) s->ts = ts;
            double *v = realloc(s->v, nc * sizeof *v);
            if (v) s->v = v;
            int64_t *t = realloc(s->t, nc * sizeof *t);
            if (t) s->t = t;
            if (!ts || !v || !t) { fclose(f); return -1; }
            s->cap = nc;
        }
        s->ts[s->n] = strdup(line);
        s->v[s->n] = strtod(comma + 1, NULL);
        s->t[s->n] = s_parse_ts(line);
        s->n++;
    }
    fclose(f);
    return 0;
}

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median spacing in seconds (0 when unknown). */
static int64_t s_step(const s_series_t *s)
{
    if (s->n < 2) return 0;
    size_t m = s->n - 1 < 1001 ? s->n - 1 : 1001;
    int64_t *d = malloc(m * sizeof *d);
    if (!d) return 0;
    for (size_t i = 0; i < m; i++) d[i] = s->t[i + 1] - s->t[i];
    qsort(d, m, sizeof *d, s_cmp_i64);
    int64_t r = d[m / 2];
    free(d);
    return r > 0 ? r : 0;
}

static int s_period(int64_t step)
{
    return step > 0 && step <= 86400 / 2 ? (int)(86400 / step) : 0;
}

static int s_score_file(const char *in, const char *out)
{
    s_series_t s = { 0 };
    if (s_load(in, &s) != 0) { s_series_free(&s); return -1; }
    double *score = calloc(s.n ? s.n : 1, sizeof *score);
    if (!score || gh_nab_score_series(s.v, s.n, s_period(s_step(&s)), score) != 0) {
        free(score);
        s_series_free(&s);
        return -1;
    }
    FILE *f = fopen(out, "w");
    if (!f) { perror(out); free(score); s_series_free(&s); return -1; }
    fprintf(f, "timestamp,value,anomaly_score,label\n");
    for (size_t i = 0; i < s.n; i++) fprintf(f, "%s,%.17g,%.17g,0\n", s.ts[i], s.v[i], score[i]);
    int rc = fclose(f) == 0 ? 0 : -1;
    free(score);
    s_series_free(&s);
    return rc;
}

static int s_cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int s_mase(int n, char **files)
{
    const int h = 12;
    double *all = calloc((size_t)n, sizeof *all);
    int nall = 0;
    if (!all) return -1;
    for (int fi = 0; fi < n; fi++) {
        s_series_t s = { 0 };
        if (s_load(files[fi], &s) != 0 || s.n < 100) { s_series_free(&s); continue; }
        gh_holt_cfg_t hc;
        gh_holt_defaults(&hc);
        hc.period = s_period(s_step(&s));
        hc.fit_h = h;
        gh_holt_t *m = gh_holt_new(&hc);
        double e_model = 0, e_naive = 0;
        size_t cnt = 0, warm = s.n * 15 / 100;
        for (size_t t = 0; t + (size_t)h < s.n; t++) {
            gh_holt_add(m, s.v[t]);
            if (t < warm) continue;
            double lo, hi, f = gh_holt_forecast(m, h, &lo, &hi);
            e_model += fabs(s.v[t + (size_t)h] - f);
            e_naive += fabs(s.v[t + (size_t)h] - s.v[t]);
            cnt++;
        }
        gh_holt_destroy(&m);
        if (cnt && e_naive > 0) {
            double r = e_model / e_naive;
            all[nall++] = r;
            printf("%-60s MASE@%d=%.4f (n=%zu)\n", files[fi], h, r, cnt);
        }
        s_series_free(&s);
    }
    if (nall) {
        double sum = 0;
        for (int i = 0; i < nall; i++) sum += all[i];
        qsort(all, (size_t)nall, sizeof *all, s_cmp_dbl);
        printf("series=%d mean MASE@%d=%.4f median=%.4f\n", nall, h, sum / nall, all[nall / 2]);
    }
    free(all);
    return nall ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: ghost-nab IN.csv OUT.csv | ghost-nab --mase IN.csv...\n");
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "--mase")) return s_mase(argc - 2, argv + 2) == 0 ? 0 : 1;
    if (argc != 3) {
        fprintf(stderr, "usage: ghost-nab IN.csv OUT.csv | ghost-nab --mase IN.csv...\n");
        return 2;
    }
    return s_score_file(argv[1], argv[2]) == 0 ? 0 : 1;
}
