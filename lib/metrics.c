/* metrics.c -- Prometheus text-format metrics and their HTTP server, see metrics.h. */
#include "metrics.h"
#include "log.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

/* A value is a double kept as its bit pattern, so it can live in an atomic
 * integer: loads and stores are plain atomic operations, additions a CAS loop
 * (uncontended: one writer). */
struct gh_metric {
    char *labels;
    _Atomic uint64_t bits;
};

struct gh_hist {
    double *bounds;
    int nbounds;
    _Atomic uint64_t *buckets; /* per bucket (not cumulative), nbounds + 1 with +Inf */
    _Atomic uint64_t count, sum_bits;
};

typedef struct {
    char *name, *help;
    gh_metric_type_t type;
    int is_hist;
    gh_metric_t **series;
    size_t n;
    gh_hist_t *hist;
} s_family_t;

struct gh_metrics {
    pthread_mutex_t lock;
    s_family_t *fams;
    size_t nfams;
    struct MHD_Daemon *httpd;
    int port;
    double start_time;
};

static double s_from_bits(uint64_t b) {
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static uint64_t s_to_bits(double v) {
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static void s_atomic_add(_Atomic uint64_t *a, double v) {
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, s_to_bits(s_from_bits(old) + v), memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

gh_metrics_t *gh_metrics_new(void) {
    gh_metrics_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    pthread_mutex_init(&m->lock, NULL);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    m->start_time = (double)tv.tv_sec + tv.tv_usec / 1e6;
    return m;
}

void gh_metrics_destroy(gh_metrics_t **mp) {
    gh_metrics_t *m = *mp;
    if (!m) return;
    if (m->httpd) MHD_stop_daemon(m->httpd);
    for (size_t i = 0; i < m->nfams; i++) {
        s_family_t *f = &m->fams[i];
        for (size_t j = 0; j < f->n; j++) {
            free(f->series[j]->labels);
            free(f->series[j]);
        }
        free(f->series);
        if (f->hist) {
            free(f->hist->bounds);
            free((void *)f->hist->buckets);
            free(f->hist);
        }
        free(f->name);
        free(f->help);
    }
    free(m->fams);
    pthread_mutex_destroy(&m->lock);
    free(m);
    *mp = NULL;
}

static int s_valid_name(const char *n) {
    if (!n || !*n || isdigit((unsigned char)*n)) return 0;
    for (; *n; n++)
        if (!isalnum((unsigned char)*n) && *n != '_' && *n != ':') return 0;
    return 1;
}

/* The family called name, created when absent.  Called with the lock held. */
static s_family_t *s_family(gh_metrics_t *m, const char *name, const char *help, gh_metric_type_t type, int is_hist) {
    for (size_t i = 0; i < m->nfams; i++)
        if (!strcmp(m->fams[i].name, name))
            return m->fams[i].type == type && m->fams[i].is_hist == is_hist ? &m->fams[i] : NULL;
    s_family_t *nf = realloc(m->fams, (m->nfams + 1) * sizeof *nf);
    if (!nf) return NULL;
    m->fams = nf;
    s_family_t *f = &m->fams[m->nfams];
    memset(f, 0, sizeof *f);
    f->name = strdup(name);
    f->help = strdup(help ? help : name);
    if (!f->name || !f->help) {
        free(f->name);
        free(f->help);
        return NULL;
    }
    f->type = type;
    f->is_hist = is_hist;
    m->nfams++;
    return f;
}

gh_metric_t *gh_metrics_series(gh_metrics_t *m, gh_metric_type_t type, const char *name, const char *help,
                               const char *labels) {
    if (!m || !s_valid_name(name)) return NULL;
    if (!labels) labels = "";
    gh_metric_t *s = NULL;
    pthread_mutex_lock(&m->lock);
    s_family_t *f = s_family(m, name, help, type, 0);
    if (!f) goto out;
    for (size_t j = 0; j < f->n; j++)
        if (!strcmp(f->series[j]->labels, labels)) {
            s = f->series[j];
            goto out;
        }
    gh_metric_t **ns = realloc(f->series, (f->n + 1) * sizeof *ns);
    if (!ns) goto out;
    f->series = ns;
    if (!(s = calloc(1, sizeof *s)) || !(s->labels = strdup(labels))) {
        free(s);
        s = NULL;
        goto out;
    }
    atomic_init(&s->bits, s_to_bits(0.0));
    f->series[f->n++] = s;
out:
    pthread_mutex_unlock(&m->lock);
    return s;
}

void gh_metric_add(gh_metric_t *s, double v) {
    if (s) s_atomic_add(&s->bits, v);
}
void gh_metric_set(gh_metric_t *s, double v) {
    if (s) atomic_store_explicit(&s->bits, s_to_bits(v), memory_order_relaxed);
}
double gh_metric_get(const gh_metric_t *s) {
    return s ? s_from_bits(atomic_load_explicit(&((gh_metric_t *)s)->bits, memory_order_relaxed)) : 0.0;
}

gh_hist_t *gh_metrics_histogram(gh_metrics_t *m, const char *name, const char *help, const double *bounds,
                                int nbounds) {
    if (!m || !s_valid_name(name) || nbounds < 1) return NULL;
    for (int i = 1; i < nbounds; i++)
        if (!(bounds[i] > bounds[i - 1])) return NULL;
    gh_hist_t *h = NULL;
    pthread_mutex_lock(&m->lock);
    s_family_t *f = s_family(m, name, help, GH_METRIC_GAUGE, 1);
    if (!f) goto out;
    if (f->hist) {
        h = f->hist;
        goto out;
    }
    if (!(h = calloc(1, sizeof *h))) goto out;
    h->bounds = malloc((size_t)nbounds * sizeof *h->bounds);
    h->buckets = calloc((size_t)nbounds + 1, sizeof *h->buckets);
    if (!h->bounds || !h->buckets) {
        free(h->bounds);
        free((void *)h->buckets);
        free(h);
        h = NULL;
        goto out;
    }
    memcpy(h->bounds, bounds, (size_t)nbounds * sizeof *bounds);
    h->nbounds = nbounds;
    atomic_init(&h->sum_bits, s_to_bits(0.0));
    f->hist = h;
out:
    pthread_mutex_unlock(&m->lock);
    return h;
}

void gh_hist_observe(gh_hist_t *h, double v, uint64_t count) {
    if (!h || !count) return;
    int i = 0;
    while (i < h->nbounds && v > h->bounds[i]) i++;
    atomic_fetch_add_explicit(&h->buckets[i], count, memory_order_relaxed);
    s_atomic_add(&h->sum_bits, v * (double)count);
    atomic_fetch_add_explicit(&h->count, count, memory_order_relaxed);
}

char *gh_metrics_label(char *buf, size_t len, const char *key, const char *value) {
    size_t o = 0;
    int n = snprintf(buf, len, "%s=\"", key);
    if (n < 0 || (size_t)n >= len) {
        if (len) buf[0] = 0;
        return buf;
    }
    o = (size_t)n;
    for (const char *p = value; *p && o + 3 < len; p++) {
        if (*p == '\\' || *p == '"') buf[o++] = '\\', buf[o++] = *p;
        else if (*p == '\n') buf[o++] = '\\', buf[o++] = 'n';
        else buf[o++] = *p;
    }
    if (o + 1 < len) buf[o++] = '"';
    buf[o < len ? o : len - 1] = 0;
    return buf;
}

/* --- rendering ------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} s_buf_t;

static void s_printf(s_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_printf(s_buf_t *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->n) {
            b->n += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

/* Numbers as the format wants them: integers without a fraction, NaN/Inf by name. */
static void s_num(s_buf_t *b, double v) {
    if (isnan(v)) s_printf(b, "NaN");
    else if (isinf(v)) s_printf(b, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 1e15) s_printf(b, "%.0f", v);
    else s_printf(b, "%.9g", v);
}

static void s_help(s_buf_t *b, const char *name, const char *help, const char *type) {
    s_printf(b, "# HELP %s ", name);
    for (const char *p = help; *p; p++) { /* the format escapes \ and newline in help text */
        if (*p == '\\') s_printf(b, "\\\\");
        else if (*p == '\n') s_printf(b, "\\n");
        else s_printf(b, "%c", *p);
    }
    s_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void s_sample(s_buf_t *b, const char *name, const char *labels, double v) {
    s_printf(b, *labels ? "%s{%s} " : "%s%s ", name, labels);
    s_num(b, v);
    s_printf(b, "\n");
}

static void s_render_hist(s_buf_t *b, const char *name, const gh_hist_t *h) {
    uint64_t cum = 0;
    for (int i = 0; i <= h->nbounds; i++) {
        cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        if (i < h->nbounds) {
            s_printf(b, "%s_bucket{le=\"", name);
            s_num(b, h->bounds[i]);
            s_printf(b, "\"} %llu\n", (unsigned long long)cum);
        } else {
            s_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
        }
    }
    s_printf(b, "%s_sum ", name);
    s_num(b, s_from_bits(atomic_load_explicit(&((gh_hist_t *)h)->sum_bits, memory_order_relaxed)));
    /* _count equals the +Inf bucket as read above, even while observations land */
    s_printf(b, "\n%s_count %llu\n", name, (unsigned long long)cum);
}

/* The process_* family, from the kernel at scrape time. */
static void s_render_process(s_buf_t *b, double start_time) {
    struct rusage ru;
    if (!getrusage(RUSAGE_SELF, &ru)) {
        double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
                     ru.ru_stime.tv_usec / 1e6;
        s_help(b, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter");
        s_sample(b, "process_cpu_seconds_total", "", cpu);
    }
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long vsz = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &vsz, &rss) == 2) {
            double page = (double)sysconf(_SC_PAGESIZE);
            s_help(b, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
            s_sample(b, "process_resident_memory_bytes", "", (double)rss * page);
            s_help(b, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
            s_sample(b, "process_virtual_memory_bytes", "", (double)vsz * page);
        }
        fclose(f);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        int n = 0;
        for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
        closedir(d);
        s_help(b, "process_open_fds", "Number of open file descriptors.", "gauge");
        s_sample(b, "process_open_fds", "", n - 1); /* less the one opendir holds */
    }
    s_help(b, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge");
    s_sample(b, "process_start_time_seconds", "", floor(start_time));
}

char *gh_metrics_render(gh_metrics_t *m, size_t *len) {
    s_buf_t b = { malloc(4096), 0, 4096, 0 };
    if (!b.p) return NULL;
    b.p[0] = 0;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nfams; i++) {
        const s_family_t *f = &m->fams[i];
        if (f->is_hist) {
            s_help(&b, f->name, f->help, "histogram");
            s_render_hist(&b, f->name, f->hist);
            continue;
        }
        s_help(&b, f->name, f->help, f->type == GH_METRIC_COUNTER ? "counter" : "gauge");
        for (size_t j = 0; j < f->n; j++) s_sample(&b, f->name, f->series[j]->labels, gh_metric_get(f->series[j]));
    }
    double start = m->start_time;
    pthread_mutex_unlock(&m->lock);
    s_render_process(&b, start);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len) *len = b.n;
    return b.p;
}

/* --- HTTP ----------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)req_cls;
    gh_metrics_t *m = cls;
    struct MHD_Response *resp;
    unsigned status;
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        static const char msg[] = "only GET\n";
        resp = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (!strcmp(url, "/metrics")) {
        size_t n = 0;
        char *text = gh_metrics_render(m, &n);
        if (!text) return MHD_NO;
        resp = MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE);
        if (resp) MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        status = MHD_HTTP_OK;
    } else {
        static const char msg[] = "not found: try /metrics\n";
        resp = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_NOT_FOUND;
    }
    if (!resp) return MHD_NO;
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

int gh_metrics_serve(gh_metrics_t *m, const char *addr, int port) {
    if (m->httpd) return m->port;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    memset(&sin, 0, sizeof sin);
    memset(&sin6, 0, sizeof sin6);
    const struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (!addr || !*addr) addr = "127.0.0.1";
    if (strchr(addr, ':')) {
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, addr, &sin6.sin6_addr) != 1) goto bad_addr;
        sa = (const struct sockaddr *)&sin6;
        flags |= MHD_USE_IPv6;
    } else {
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) goto bad_addr;
        sa = (const struct sockaddr *)&sin;
    }
    /* The server thread inherits this mask: SIGTERM/SIGINT must reach the
     * stage's own thread, whose blocking calls they interrupt. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    m->httpd = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, sa,
                                MHD_OPTION_CONNECTION_TIMEOUT, 5u, MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!m->httpd) {
        gh_error("metrics: cannot serve on %s port %d", addr, port);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->httpd, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info && info->port ? info->port : port;
    return m->port;
bad_addr:
    gh_error("metrics: bad address '%s' (an IPv4 or IPv6 literal)", addr);
    return -1;
}

int gh_metrics_port(const gh_metrics_t *m) { return m && m->httpd ? m->port : 0; }

/* --- reading -------------------------------------------------------------- */

/* Splits one sample line into name, label text and value; 0 when it is one. */
static int s_parse_sample(const char *line, size_t len, char *name, size_t nlen, char *labels, size_t llen,
                          double *value) {
    size_t i = 0, o = 0;
    while (i < len && (isalnum((unsigned char)line[i]) || line[i] == '_' || line[i] == ':') && o + 1 < nlen)
        name[o++] = line[i++];
    name[o] = 0;
    if (!o || isdigit((unsigned char)name[0])) return -1;
    labels[0] = 0;
    if (i < len && line[i] == '{') {
        size_t s = ++i, q = 0;
        while (i < len && (q || line[i] != '}')) {
            if (line[i] == '\\' && q) i++;
            else if (line[i] == '"') q = !q;
            i++;
        }
        if (i >= len) return -1;
        size_t n = i - s < llen - 1 ? i - s : llen - 1;
        memcpy(labels, line + s, n);
        labels[n] = 0;
        i++;
    }
    if (i >= len || line[i] != ' ') return -1;
    while (i < len && line[i] == ' ') i++;
    char num[64];
    size_t k = 0;
    while (i < len && line[i] != ' ' && k + 1 < sizeof num) num[k++] = line[i++];
    num[k] = 0;
    if (!k) return -1;
    char *end;
    if (!strcmp(num, "+Inf")) *value = INFINITY;
    else if (!strcmp(num, "-Inf")) *value = -INFINITY;
    else if (!strcmp(num, "NaN")) *value = NAN;
    else {
        *value = strtod(num, &end);
        if (*end) return -1;
    }
    while (i < len && line[i] == ' ') i++;
    if (i < len) { /* an optional integer timestamp */
        strtoll(line + i, &end, 10);
        if (end != line + len) return -1;
    }
    return 0;
}

int gh_prom_sum(const char *text, const char *name, const char *label_filter, double *sum) {
    int found = 0;
    *sum = 0;
    for (const char *l = text; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char n[256], lab[1024];
        double v;
        if (*l != '#' && !s_parse_sample(l, len, n, sizeof n, lab, sizeof lab, &v) && !strcmp(n, name) &&
            (!label_filter || strstr(lab, label_filter))) {
            *sum += v;
            found++;
        }
        l = e ? e + 1 : NULL;
    }
    return found;
}

int gh_prom_buckets(const char *text, const char *hist, double *les, double *counts, int max) {
    char bucket[256];
    snprintf(bucket, sizeof bucket, "%s_bucket", hist);
    int nb = 0;
    for (const char *l = text; l && *l && nb < max;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char n[256], lab[256];
        double v;
        if (*l != '#' && !s_parse_sample(l, len, n, sizeof n, lab, sizeof lab, &v) && !strcmp(n, bucket)) {
            const char *le = strstr(lab, "le=\"");
            if (le) {
                les[nb] = !strncmp(le + 4, "+Inf", 4) ? INFINITY : strtod(le + 4, NULL);
                counts[nb++] = v;
            }
        }
        l = e ? e + 1 : NULL;
    }
    return nb;
}

double gh_hist_quantile(const double *les, const double *counts, int nb, double q) {
    if (nb < 1 || counts[nb - 1] <= 0) return NAN;
    double rank = q * counts[nb - 1];
    for (int i = 0; i < nb; i++) {
        if (counts[i] < rank) continue;
        if (isinf(les[i])) return i ? les[i - 1] : NAN; /* the highest finite bound, as PromQL does */
        double lo = i ? les[i - 1] : 0, below = i ? counts[i - 1] : 0, in = counts[i] - below;
        return in > 0 ? lo + (les[i] - lo) * (rank - below) / in : les[i];
    }
    return les[nb - 1];
}

double gh_prom_quantile(const char *text, const char *hist, double q) {
    double les[64], counts[64];
    return gh_hist_quantile(les, counts, gh_prom_buckets(text, hist, les, counts, 64), q);
}

static int s_fail(char *err, size_t errlen, int lineno, const char *why) {
    snprintf(err, errlen, "line %d: %s", lineno, why);
    return -1;
}

int gh_prom_validate(const char *text, char *err, size_t errlen) {
    char fam[256] = "", type[32] = "", seen[8192] = " ";
    int lineno = 0, samples = 0;
    double last_bucket = -1, inf_count = -1;
    for (const char *l = text; l && *l;) {
        const char *e = strchr(l, '\n');
        if (!e) return s_fail(err, errlen, lineno + 1, "last line has no newline");
        size_t len = (size_t)(e - l);
        lineno++;
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), l);
        l = e + 1;
        if (!len) continue;
        if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7)) {
            char n[256] = "", t[64] = "";
            if (sscanf(line + 7, "%255s %63s", n, t) < 1 || !s_valid_name(n))
                return s_fail(err, errlen, lineno, "bad metric name in HELP/TYPE");
            if (strcmp(n, fam)) {
                char key[300];
                snprintf(key, sizeof key, " %s ", n);
                if (strstr(seen, key)) return s_fail(err, errlen, lineno, "family appears twice");
                if (strlen(seen) + strlen(key) < sizeof seen) strcat(seen, key + 1);
                snprintf(fam, sizeof fam, "%s", n);
                type[0] = 0;
                last_bucket = -1, inf_count = -1;
            }
            if (line[2] == 'T') {
                if (strcmp(t, "counter") && strcmp(t, "gauge") && strcmp(t, "histogram") && strcmp(t, "summary") &&
                    strcmp(t, "untyped"))
                    return s_fail(err, errlen, lineno, "unknown TYPE");
                snprintf(type, sizeof type, "%.31s", t); /* one of the five names above */
            }
            continue;
        }
        if (line[0] == '#') continue;
        char n[256], lab[1024];
        double v;
        if (s_parse_sample(line, len, n, sizeof n, lab, sizeof lab, &v))
            return s_fail(err, errlen, lineno, "not a sample line");
        size_t fl = strlen(fam);
        int ok = !strcmp(n, fam);
        if (!strcmp(type, "histogram"))
            ok = !strncmp(n, fam, fl) && (!strcmp(n + fl, "_bucket") || !strcmp(n + fl, "_sum") ||
                                          !strcmp(n + fl, "_count"));
        if (!ok || !*type) return s_fail(err, errlen, lineno, "sample outside its family's HELP/TYPE");
        if (!strcmp(type, "counter") && (v < 0 || isnan(v))) return s_fail(err, errlen, lineno, "negative counter");
        if (!strcmp(type, "histogram") && !strcmp(n + fl, "_bucket")) {
            if (!strstr(lab, "le=\"")) return s_fail(err, errlen, lineno, "bucket without le");
            if (v < last_bucket) return s_fail(err, errlen, lineno, "buckets not cumulative");
            last_bucket = v;
            if (strstr(lab, "le=\"+Inf\"")) inf_count = v;
        }
        if (!strcmp(type, "histogram") && !strcmp(n + fl, "_count") && v != inf_count)
            return s_fail(err, errlen, lineno, "_count differs from the +Inf bucket");
        samples++;
    }
    if (!samples) return s_fail(err, errlen, lineno, "no samples");
    return 0;
}
