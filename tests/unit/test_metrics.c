/* test_metrics.c -- the metrics registry, its text format, the reader
 * functions ghostctl uses, and a real scrape over HTTP from the embedded
 * server (libcurl as the client). */
#include "check.h"
#include "metrics.h"
#include <curl/curl.h>
#include <math.h>
#include <pthread.h>

typedef struct { char *p; size_t n; } s_body_t;

static size_t on_body(char *d, size_t sz, size_t nm, void *u) {
    s_body_t *b = u;
    char *np = realloc(b->p, b->n + sz * nm + 1);
    if (!np) return 0;
    b->p = np;
    memcpy(b->p + b->n, d, sz * nm);
    b->n += sz * nm;
    b->p[b->n] = 0;
    return sz * nm;
}

static long s_get(const char *url, s_body_t *b, char *ctype, size_t clen) {
    CURL *c = curl_easy_init();
    long code = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        char *ct = NULL;
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
        snprintf(ctype, clen, "%s", ct ? ct : "");
    }
    curl_easy_cleanup(c);
    return code;
}

/* A writer thread hammering counters while the main thread scrapes. */
static gh_metric_t *s_busy;
static gh_hist_t *s_busy_hist;
static void *s_writer(void *arg) {
    (void)arg;
    for (int i = 0; i < 200000; i++) {
        gh_metric_add(s_busy, 1);
        gh_hist_observe(s_busy_hist, 0.003, 2);
    }
    return NULL;
}

int main(void) {
    gh_metrics_t *m = gh_metrics_new();
    CHECK(m != NULL);
    char lab[128];
    gh_metric_t *in = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_records_in_total", "Records received.", NULL);
    gh_metric_t *d1 = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_drops_total", "Records dropped, by reason.",
                                        gh_metrics_label(lab, sizeof lab, "reason", "duplicate"));
    gh_metric_t *d2 = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_drops_total", NULL,
                                        gh_metrics_label(lab, sizeof lab, "reason", "we\"ird\\"));
    gh_metric_t *g = gh_metrics_series(m, GH_METRIC_GAUGE, "ghost_redis_up", "1 when Redis answers.", NULL);
    CHECK(in && d1 && d2 && g);
    CHECK_STR(lab, "reason=\"we\\\"ird\\\\\"");
    CHECK(gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_drops_total", NULL, "reason=\"duplicate\"") == d1);
    CHECK(gh_metrics_series(m, GH_METRIC_GAUGE, "ghost_drops_total", NULL, NULL) == NULL); /* type clash */
    CHECK(gh_metrics_series(m, GH_METRIC_GAUGE, "9bad", NULL, NULL) == NULL);
    gh_metric_add(in, 41);
    gh_metric_add(in, 1);
    gh_metric_add(d1, 3);
    gh_metric_set(g, 1);
    CHECK_NEAR(gh_metric_get(in), 42, 0);
    static const double bounds[] = { 0.001, 0.01, 0.1, 1 };
    gh_hist_t *h = gh_metrics_histogram(m, "ghost_record_latency_seconds", "Latency.", bounds, 4);
    CHECK(h != NULL);
    gh_hist_observe(h, 0.0005, 50); /* bucket 0.001 */
    gh_hist_observe(h, 0.05, 45);   /* bucket 0.1 */
    gh_hist_observe(h, 5, 5);       /* +Inf */

    size_t n = 0;
    char *text = gh_metrics_render(m, &n);
    CHECK(text && n == strlen(text));
    char err[256] = "";
    int vrc = gh_prom_validate(text, err, sizeof err);
    CHECK_EQ(vrc, 0);
    if (vrc) fprintf(stderr, "%s\n---\n%s", err, text);
    CHECK(strstr(text, "# TYPE ghost_records_in_total counter\nghost_records_in_total 42\n") != NULL);
    CHECK(strstr(text, "ghost_drops_total{reason=\"duplicate\"} 3\n") != NULL);
    CHECK(strstr(text, "ghost_record_latency_seconds_bucket{le=\"0.1\"} 95\n") != NULL);
    CHECK(strstr(text, "ghost_record_latency_seconds_bucket{le=\"+Inf\"} 100\n") != NULL);
    CHECK(strstr(text, "ghost_record_latency_seconds_count 100\n") != NULL);
    CHECK(strstr(text, "# TYPE process_resident_memory_bytes gauge\n") != NULL);
    double v = 0;
    CHECK_EQ(gh_prom_sum(text, "ghost_drops_total", NULL, &v), 2);
    CHECK_NEAR(v, 3, 0);
    CHECK_EQ(gh_prom_sum(text, "ghost_drops_total", "reason=\"duplicate\"", &v), 1);
    CHECK_EQ(gh_prom_sum(text, "process_cpu_seconds_total", NULL, &v), 1);
    CHECK(v >= 0);
    CHECK_EQ(gh_prom_sum(text, "process_resident_memory_bytes", NULL, &v), 1);
    CHECK(v > 100000);
    /* p50 falls in (0.01, 0.1]: rank 50 is the 0th of the 45 there -> 0.01; p95 at its top; p99 beyond */
    CHECK_NEAR(gh_prom_quantile(text, "ghost_record_latency_seconds", 0.5), 0.001, 1e-9);
    CHECK_NEAR(gh_prom_quantile(text, "ghost_record_latency_seconds", 0.95), 0.1, 1e-9);
    CHECK_NEAR(gh_prom_quantile(text, "ghost_record_latency_seconds", 0.99), 1, 1e-9);
    CHECK(isnan(gh_prom_quantile("", "x", 0.5)));
    free(text);

    /* the validator catches what a scraper would refuse */
    CHECK(gh_prom_validate("x 1\n", err, sizeof err) < 0);                                  /* no TYPE */
    CHECK(gh_prom_validate("# TYPE x counter\nx -1\n", err, sizeof err) < 0);               /* negative */
    CHECK(gh_prom_validate("# TYPE x gauge\nx{a=\"1\" 1\n", err, sizeof err) < 0);          /* broken labels */
    CHECK(gh_prom_validate("# TYPE x gauge\nx one\n", err, sizeof err) < 0);                /* not a number */
    CHECK(gh_prom_validate("# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\n# TYPE x gauge\nx 2\n", err, sizeof err) < 0);
    CHECK(gh_prom_validate("# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n", err,
                           sizeof err) < 0);
    CHECK_EQ(gh_prom_validate("# HELP x a\n# TYPE x gauge\nx{a=\"}\"} 1.5e3 1700000000000\n", err, sizeof err), 0);

    /* a real scrape while another thread writes */
    int port = gh_metrics_serve(m, "127.0.0.1", 0);
    CHECK(port > 0);
    CHECK_EQ(gh_metrics_port(m), port);
    s_busy = gh_metrics_series(m, GH_METRIC_COUNTER, "ghost_busy_total", "Written by a thread.", NULL);
    s_busy_hist = h;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_t th;
    pthread_create(&th, NULL, s_writer, NULL);
    char url[128], ctype[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    for (int i = 0; i < 20; i++) {
        s_body_t b = { NULL, 0 };
        CHECK_EQ(s_get(url, &b, ctype, sizeof ctype), 200);
        int rc = b.p ? gh_prom_validate(b.p, err, sizeof err) : -1;
        CHECK_EQ(rc, 0);
        if (rc) fprintf(stderr, "scrape %d: %s\n", i, err);
        free(b.p);
    }
    pthread_join(th, NULL);
    CHECK(strstr(ctype, "text/plain; version=0.0.4") != NULL);
    s_body_t b = { NULL, 0 };
    CHECK(s_get(url, &b, ctype, sizeof ctype) == 200 && b.p);
    CHECK(b.p && gh_prom_sum(b.p, "ghost_busy_total", NULL, &v) == 1 && v == 200000);
    free(b.p);
    b = (s_body_t){ NULL, 0 };
    snprintf(url, sizeof url, "http://127.0.0.1:%d/nope", port);
    CHECK_EQ(s_get(url, &b, ctype, sizeof ctype), 404);
    free(b.p);
    /* a second server on the same fixed port fails cleanly */
    gh_metrics_t *m2 = gh_metrics_new();
    CHECK_EQ(gh_metrics_serve(m2, "127.0.0.1", port), -1);
    CHECK_EQ(gh_metrics_serve(m2, "not-an-address", 0), -1);
    gh_metrics_destroy(&m2);
    gh_metrics_destroy(&m);
    CHECK(m == NULL);
    curl_global_cleanup();
    TEST_MAIN_END();
}
