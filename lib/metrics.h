/* metrics.h -- a process's counters, gauges and histograms, rendered in the
 * Prometheus text exposition format (version 0.0.4) and served over HTTP by
 * an embedded libmicrohttpd server running in its own thread.
 *
 * Writers (the single-threaded stage loop) update values with atomic
 * operations and never take a lock; registering a new series and rendering
 * take the registry's mutex, so the HTTP thread always sees a consistent list
 * of series.  A series never moves once registered: callers keep the pointer.
 *
 * Rendering adds the standard process metrics read from the kernel at
 * scrape time: process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_start_time_seconds.
 *
 * The gh_prom_* functions read the text format back (ghostctl, tests).
 */
#ifndef GH_METRICS_H
#define GH_METRICS_H
#include <stddef.h>
#include <stdint.h>

typedef struct gh_metrics gh_metrics_t;
typedef struct gh_metric gh_metric_t;
typedef struct gh_hist gh_hist_t;

typedef enum { GH_METRIC_COUNTER, GH_METRIC_GAUGE } gh_metric_type_t;

/* An empty registry.  Returns NULL when out of memory. */
gh_metrics_t *gh_metrics_new(void);
/* Stops the HTTP server (if any), frees every series, sets *m to NULL. */
void gh_metrics_destroy(gh_metrics_t **m);

/* Registers the series name{labels} (labels: already formatted, e.g.
 * reason="duplicate", see gh_metrics_label; NULL or "" for none) or returns
 * the one registered before.  help is kept from the family's first series.
 * Returns NULL on a bad name, a type clash with the family, or no memory. */
gh_metric_t *gh_metrics_series(gh_metrics_t *m, gh_metric_type_t type, const char *name, const char *help,
                               const char *labels);
void gh_metric_add(gh_metric_t *s, double v);  /* counters; NULL s is ignored */
void gh_metric_set(gh_metric_t *s, double v);  /* gauges, or a counter copied from elsewhere */
double gh_metric_get(const gh_metric_t *s);

/* Registers a histogram with the given ascending upper bounds (+Inf is
 * implicit).  Returns NULL on bad arguments or no memory. */
gh_hist_t *gh_metrics_histogram(gh_metrics_t *m, const char *name, const char *help, const double *bounds,
                                int nbounds);
/* Adds count observations of value v.  NULL h is ignored. */
void gh_hist_observe(gh_hist_t *h, double v, uint64_t count);

/* Writes key="value" (value escaped as the format wants) into buf; returns buf. */
char *gh_metrics_label(char *buf, size_t len, const char *key, const char *value);

/* The whole registry in the text format, malloc'ed and NUL-terminated (the
 * caller frees it); *len gets its length when len is not NULL.  NULL on OOM. */
char *gh_metrics_render(gh_metrics_t *m, size_t *len);

/* Serves GET /metrics on addr (IPv4 or IPv6 literal) and port (0: a free
 * port chosen by the kernel).  Returns the bound port, or -1 (logged). */
int gh_metrics_serve(gh_metrics_t *m, const char *addr, int port);
int gh_metrics_port(const gh_metrics_t *m);   /* 0 when not serving */

/* --- reading the text format --------------------------------------------- */

/* Sum of every sample of the metric name whose label text contains
 * label_filter (NULL: every sample).  Returns the number of samples found. */
int gh_prom_sum(const char *text, const char *name, const char *label_filter, double *sum);
/* The q-quantile (0..1) of a histogram, interpolated within its bucket like
 * PromQL's histogram_quantile.  Returns NAN when it has no observations. */
double gh_prom_quantile(const char *text, const char *hist, double q);
/* The cumulative buckets of a histogram: upper bounds (the last +Inf) and
 * counts, at most max of them.  Returns how many were found. */
int gh_prom_buckets(const char *text, const char *hist, double *les, double *counts, int max);
/* histogram_quantile over bucket arrays as gh_prom_buckets returns them
 * (e.g. the difference of two scrapes: the quantile over that interval). */
double gh_hist_quantile(const double *les, const double *counts, int n, double q);
/* Checks the text against the format's rules (HELP/TYPE before the samples
 * of their family, families contiguous, valid names, labels and numbers,
 * histogram buckets cumulative and ending in +Inf with _count equal to it).
 * Returns 0, or -1 with a reason in err. */
int gh_prom_validate(const char *text, char *err, size_t errlen);
#endif
