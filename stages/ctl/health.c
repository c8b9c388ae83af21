/* health.c -- registry, parallel probes and the status table, see health.h. */
#include "ctl/health.h"
#include "clock.h"
#include "metrics.h"
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *s_field(const redisReply *h, const char *name) {
    for (size_t i = 0; h && h->type == REDIS_REPLY_ARRAY && i + 1 < h->elements; i += 2)
        if (h->element[i]->str && !strcmp(h->element[i]->str, name)) return h->element[i + 1]->str;
    return "";
}

/* Adds p, or replaces the row of the same worker when p started later. */
static void s_add(gh_health_t *h, const gh_health_proc_t *p) {
    for (size_t i = 0; i < h->n; i++)
        if (!strcmp(h->p[i].host, p->host) && !strcmp(h->p[i].id, p->id)) {
            if (p->started_ms > h->p[i].started_ms) h->p[i] = *p;
            return;
        }
    gh_health_proc_t *np = realloc(h->p, (h->n + 1) * sizeof *np);
    if (!np) return;
    h->p = np;
    h->p[h->n++] = *p;
}

static int s_cmp(const void *a, const void *b) {
    static const char *order[] = { "tail", "ingest", "classify", "anomaly", "predict", "alert" };
    const gh_health_proc_t *x = a, *y = b;
    int ox = 99, oy = 99;
    for (int i = 0; i < 6; i++) {
        if (!strcmp(x->stage, order[i])) ox = i;
        if (!strcmp(y->stage, order[i])) oy = i;
    }
    if (ox != oy) return ox - oy;
    int c = strcmp(x->id, y->id);
    return c ? c : strcmp(x->host, y->host);
}

static json_t *s_row_registry_json(const gh_health_proc_t *p) {
    return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:I, s:I, s:I, s:s}", "stage", p->stage, "id", p->id, "host",
                     p->host, "pid", p->pid, "endpoint", p->endpoint, "metrics_addr", p->maddr, "metrics", p->mport,
                     "heartbeat_s", (json_int_t)p->hb_s, "started", (json_int_t)p->started_ms, "heartbeat",
                     (json_int_t)p->hb_ms, "drops", p->drops_desc);
}

static void s_save_cache(const gh_health_t *h, const char *file) {
    if (!file || !*file) return;
    json_t *a = json_array();
    for (size_t i = 0; i < h->n; i++) json_array_append_new(a, s_row_registry_json(&h->p[i]));
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", file, (int)getpid());
    if (!json_dump_file(a, tmp, JSON_COMPACT)) rename(tmp, file); /* atomic: a reader never sees half */
    else unlink(tmp);
    json_decref(a);
}

static int s_load_cache(gh_health_t *h, const char *file) {
    json_error_t e;
    json_t *a = file && *file ? json_load_file(file, 0, &e) : NULL;
    if (!a || !json_is_array(a)) {
        json_decref(a);
        return -1;
    }
    size_t i;
    json_t *o;
    json_array_foreach(a, i, o) {
        gh_health_proc_t p;
        memset(&p, 0, sizeof p);
        const char *stage = NULL, *id = NULL, *host = NULL, *ep = "", *maddr = "", *drops = "";
        json_int_t pid = 0, mport = 0, hb_s = 5, started = 0, hb = 0;
        if (json_unpack(o, "{s:s, s:s, s:s, s:I, s?s, s?s, s?I, s?I, s?I, s?I, s?s}", "stage", &stage, "id", &id,
                        "host", &host, "pid", &pid, "endpoint", &ep, "metrics_addr", &maddr, "metrics", &mport,
                        "heartbeat_s", &hb_s, "started", &started, "heartbeat", &hb, "drops", &drops))
            continue;
        snprintf(p.stage, sizeof p.stage, "%s", stage);
        snprintf(p.id, sizeof p.id, "%s", id);
        snprintf(p.host, sizeof p.host, "%s", host);
        snprintf(p.endpoint, sizeof p.endpoint, "%s", ep);
        snprintf(p.maddr, sizeof p.maddr, "%s", maddr);
        snprintf(p.drops_desc, sizeof p.drops_desc, "%s", drops);
        p.pid = (int)pid, p.mport = (int)mport, p.hb_s = (long)hb_s, p.started_ms = started, p.hb_ms = hb;
        s_add(h, &p);
    }
    json_decref(a);
    return 0;
}

int gh_health_collect(gh_health_t *h, gh_redis_t *r, const char *cache_file) {
    memset(h, 0, sizeof *h);
    redisContext *c = gh_redis_ctx(r);
    char pattern[256];
    gh_redis_key(r, pattern, sizeof pattern, "session:*");
    if (c) {
        char cursor[32] = "0";
        do {
            redisReply *rep = redisCommand(c, "SCAN %s MATCH %s COUNT 500", cursor, pattern);
            if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
                if (rep) freeReplyObject(rep);
                gh_redis_failed(r);
                c = NULL;
                free(h->p);
                memset(h, 0, sizeof *h);
                break;
            }
            snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
            for (size_t i = 0; i < rep->element[1]->elements; i++) {
                redisReply *e = redisCommand(c, "HGETALL %s", rep->element[1]->element[i]->str);
                if (!e) continue;
                gh_health_proc_t p;
                memset(&p, 0, sizeof p);
                snprintf(p.stage, sizeof p.stage, "%s", s_field(e, "stage"));
                snprintf(p.id, sizeof p.id, "%s", s_field(e, "id"));
                snprintf(p.host, sizeof p.host, "%s", s_field(e, "host"));
                snprintf(p.endpoint, sizeof p.endpoint, "%s", s_field(e, "endpoint"));
                snprintf(p.maddr, sizeof p.maddr, "%s", s_field(e, "metrics_addr"));
                snprintf(p.drops_desc, sizeof p.drops_desc, "%s", s_field(e, "drops"));
                p.pid = atoi(s_field(e, "pid"));
                p.mport = atoi(s_field(e, "metrics"));
                p.hb_s = atol(s_field(e, "heartbeat_s"));
                if (p.hb_s <= 0) p.hb_s = 5;
                p.started_ms = atoll(s_field(e, "started"));
                p.hb_ms = atoll(s_field(e, "heartbeat"));
                /* registry counters: the fallback when /metrics does not answer */
                p.in = atof(s_field(e, "in"));
                p.out = atof(s_field(e, "out"));
                p.decode_errors = atof(s_field(e, "decode_errors"));
                if (*p.stage) s_add(h, &p);
                freeReplyObject(e);
            }
            freeReplyObject(rep);
        } while (strcmp(cursor, "0"));
    }
    if (c) {
        h->redis_ok = 1;
        snprintf(h->source, sizeof h->source, "registry %s", pattern);
        s_save_cache(h, cache_file);
    } else if (s_load_cache(h, cache_file) == 0) {
        snprintf(h->source, sizeof h->source, "redis unreachable: last known registry from %s", cache_file);
    } else {
        fprintf(stderr, "ghostctl: redis unreachable and no cached registry (%s)\n",
                cache_file && *cache_file ? cache_file : "--cache off");
        return -1;
    }
    if (h->n) qsort(h->p, h->n, sizeof *h->p, s_cmp);
    return 0;
}

/* --- probing -------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t n;
} s_body_t;

static size_t on_body(char *d, size_t sz, size_t nm, void *u) {
    s_body_t *b = u;
    if (b->n + sz * nm > (8u << 20)) return 0; /* a metrics page is small; refuse a flood */
    char *np = realloc(b->p, b->n + sz * nm + 1);
    if (!np) return 0;
    b->p = np;
    memcpy(b->p + b->n, d, sz * nm);
    b->n += sz * nm;
    b->p[b->n] = 0;
    return sz * nm;
}

typedef struct {
    gh_health_proc_t *p;
    long timeout_ms;
    char me[256];
} s_job_t;

static void *s_probe_one(void *arg) {
    s_job_t *j = arg;
    gh_health_proc_t *p = j->p;
    p->scraped = 0;
    if (p->mport <= 0) {
        snprintf(p->scrape_err, sizeof p->scrape_err, "no metrics port registered");
        return NULL;
    }
    /* where to reach it: its bind address, or its host name when it listens everywhere */
    const char *host = p->maddr;
    if (!*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
        host = strcmp(p->host, j->me) ? p->host : "127.0.0.1";
    char url[512];
    snprintf(url, sizeof url, strchr(host, ':') ? "http://[%s]:%d/metrics" : "http://%s:%d/metrics", host, p->mport);
    CURL *c = curl_easy_init();
    if (!c) return NULL;
    s_body_t b = { NULL, 0 };
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, j->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, j->timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || code != 200 || !b.p) {
        snprintf(p->scrape_err, sizeof p->scrape_err, "%.120s", rc != CURLE_OK ? (*cerr ? cerr : curl_easy_strerror(rc))
                                                                         : "bad HTTP status");
        free(b.p);
        return NULL;
    }
    double v;
    p->scraped = 1;
    p->scraped_ms = gh_mono_ms();
    gh_prom_sum(b.p, "ghost_records_in_total", NULL, &p->in);
    gh_prom_sum(b.p, "ghost_records_out_total", NULL, &p->out);
    gh_prom_sum(b.p, "ghost_drops_total", NULL, &p->drops);
    gh_prom_sum(b.p, "ghost_decode_errors_total", NULL, &p->decode_errors);
    p->rss = gh_prom_sum(b.p, "process_resident_memory_bytes", NULL, &v) ? v : NAN;
    p->cpu = gh_prom_sum(b.p, "process_cpu_seconds_total", NULL, &v) ? v : NAN;
    p->redis_up = gh_prom_sum(b.p, "ghost_redis_up", NULL, &v) ? v : NAN;
    p->redis_conf = gh_prom_sum(b.p, "ghost_redis_configured", NULL, &v) ? v : NAN;
    p->nb = gh_prom_buckets(b.p, "ghost_record_latency_seconds", p->les, p->counts, GH_HEALTH_BUCKETS);
    free(b.p);
    return NULL;
}

static const gh_health_proc_t *s_find_prev(const gh_health_t *prev, const gh_health_proc_t *p) {
    for (size_t i = 0; prev && i < prev->n; i++)
        if (prev->p[i].pid == p->pid && !strcmp(prev->p[i].host, p->host) && !strcmp(prev->p[i].id, p->id) &&
            prev->p[i].scraped)
            return &prev->p[i];
    return NULL;
}

void gh_health_probe(gh_health_t *h, const gh_health_t *prev, long timeout_ms) {
    if (!h->n) return;
    s_job_t *jobs = calloc(h->n, sizeof *jobs);
    pthread_t *th = calloc(h->n, sizeof *th);
    char *started = calloc(h->n, 1);
    if (!jobs || !th || !started) goto out;
    char me[256] = "";
    gethostname(me, sizeof me);
    for (size_t i = 0; i < h->n; i++) {
        jobs[i].p = &h->p[i];
        jobs[i].timeout_ms = timeout_ms;
        memcpy(jobs[i].me, me, sizeof me);
        started[i] = !pthread_create(&th[i], NULL, s_probe_one, &jobs[i]);
        if (!started[i]) s_probe_one(&jobs[i]);
    }
    for (size_t i = 0; i < h->n; i++)
        if (started[i]) pthread_join(th[i], NULL);
    for (size_t i = 0; i < h->n; i++) {
        gh_health_proc_t *p = &h->p[i];
        const gh_health_proc_t *q = s_find_prev(prev, p);
        p->in_rate = p->out_rate = p->p50 = p->p95 = p->p99 = NAN;
        if (!p->scraped) continue;
        double dc[GH_HEALTH_BUCKETS];
        const double *counts = p->counts;
        if (q && q->nb == p->nb && p->scraped_ms > q->scraped_ms) {
            double dt = (double)(p->scraped_ms - q->scraped_ms) / 1000.0;
            p->in_rate = (p->in - q->in) / dt;
            p->out_rate = (p->out - q->out) / dt;
            for (int k = 0; k < p->nb; k++) dc[k] = p->counts[k] - q->counts[k];
            if (p->nb && dc[p->nb - 1] > 0) counts = dc; /* latency over the interval when it saw records */
        }
        p->p50 = gh_hist_quantile(p->les, counts, p->nb, 0.50);
        p->p95 = gh_hist_quantile(p->les, counts, p->nb, 0.95);
        p->p99 = gh_hist_quantile(p->les, counts, p->nb, 0.99);
    }
out:
    free(jobs);
    free(th);
    free(started);
}

int gh_health_judge(gh_health_t *h, long stale_s) {
    char me[256] = "";
    gethostname(me, sizeof me);
    int64_t now = gh_wall_ms();
    int down = 0;
    for (size_t i = 0; i < h->n; i++) {
        gh_health_proc_t *p = &h->p[i];
        double age = (double)(now - p->hb_ms) / 1000.0, limit = stale_s > 0 ? (double)stale_s : 3.0 * (double)p->hb_s;
        int stale = age > limit;
        p->state = "ok";
        p->reason[0] = 0;
        if (!strcmp(me, p->host) && p->pid > 0 && kill(p->pid, 0) < 0 && errno == ESRCH) {
            p->state = "down";
            snprintf(p->reason, sizeof p->reason, "process %d is gone", p->pid);
        } else if (!p->scraped) {
            if (p->mport <= 0 && h->redis_ok && !stale) {
                snprintf(p->reason, sizeof p->reason, "metrics off; heartbeat %.0fs ago", age);
            } else if (stale || !h->redis_ok) {
                p->state = "down";
                snprintf(p->reason, sizeof p->reason, "no metrics (%s), heartbeat %.0fs ago", p->scrape_err, age);
            } else {
                p->state = "degraded";
                snprintf(p->reason, sizeof p->reason, "metrics: %s", p->scrape_err);
            }
        } else if (p->redis_conf > 0 && !(p->redis_up > 0)) {
            p->state = "degraded";
            snprintf(p->reason, sizeof p->reason, "its redis is down");
        } else if (!h->redis_ok) {
            p->state = "degraded";
            snprintf(p->reason, sizeof p->reason, "registry unreachable from here");
        } else if (stale) {
            p->state = "degraded";
            snprintf(p->reason, sizeof p->reason, "heartbeat %.0fs late", age - limit);
        }
        down += !strcmp(p->state, "down");
    }
    return down;
}

/* --- output --------------------------------------------------------------- */

static void s_fmt_rate(char *buf, size_t n, double v) {
    if (isnan(v)) snprintf(buf, n, "-");
    else if (v >= 1e6) snprintf(buf, n, "%.1fM", v / 1e6);
    else if (v >= 1e4) snprintf(buf, n, "%.1fk", v / 1e3);
    else snprintf(buf, n, "%.0f", v);
}

static void s_fmt_secs(char *buf, size_t n, double s) {
    if (isnan(s)) snprintf(buf, n, "-");
    else if (s < 1) snprintf(buf, n, "%.1fms", s * 1e3);
    else snprintf(buf, n, "%.2fs", s);
}

static void s_fmt_up(char *buf, size_t n, double s) {
    if (s < 0) s = 0;
    if (s < 120) snprintf(buf, n, "%.0fs", s);
    else if (s < 7200) snprintf(buf, n, "%.0fm", s / 60);
    else if (s < 172800) snprintf(buf, n, "%.1fh", s / 3600);
    else snprintf(buf, n, "%.1fd", s / 86400);
}

void gh_health_print(const gh_health_t *h, FILE *f) {
    fprintf(f, "%-9s %-12s %-14s %-8s %6s %9s %9s %8s %9s %8s  %-8s %s\n", "STAGE", "ID", "HOST", "PID", "UP", "IN/S",
            "OUT/S", "DROPS", "P99", "RSS", "STATE", "WHY");
    int64_t now = gh_wall_ms();
    int counts[3] = { 0, 0, 0 };
    for (size_t i = 0; i < h->n; i++) {
        const gh_health_proc_t *p = &h->p[i];
        char up[16], in[16], out[16], p99[16], rss[16];
        s_fmt_up(up, sizeof up, (double)(now - p->started_ms) / 1000.0);
        s_fmt_rate(in, sizeof in, p->in_rate);
        s_fmt_rate(out, sizeof out, p->out_rate);
        s_fmt_secs(p99, sizeof p99, p->p99);
        if (isnan(p->rss) || !p->scraped) snprintf(rss, sizeof rss, "-");
        else snprintf(rss, sizeof rss, "%.1fM", p->rss / 1048576.0);
        fprintf(f, "%-9s %-12s %-14.14s %-8d %6s %9s %9s %8.0f %9s %8s  %-8s %s\n", p->stage, p->id, p->host, p->pid,
                up, in, out, p->drops + p->decode_errors, p99, rss, p->state ? p->state : "?", p->reason);
        counts[p->state && !strcmp(p->state, "down") ? 2 : p->state && !strcmp(p->state, "degraded") ? 1 : 0]++;
    }
    if (!h->n) fprintf(f, "(no stage registered; %s)\n", h->source);
    else fprintf(f, "%zu process(es): %d ok, %d degraded, %d down; redis %s; %s\n", h->n, counts[0], counts[1],
                 counts[2], h->redis_ok ? "ok" : "UNREACHABLE", h->source);
}

static json_t *s_num(double v) { return isnan(v) || isinf(v) ? json_null() : json_real(v); }

json_t *gh_health_json(const gh_health_t *h) {
    json_t *rows = json_array();
    int64_t now = gh_wall_ms();
    for (size_t i = 0; i < h->n; i++) {
        const gh_health_proc_t *p = &h->p[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:f, s:f, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:b}", "stage",
                              p->stage, "id", p->id, "host", p->host, "pid", p->pid, "endpoint", p->endpoint, "up_s",
                              (double)(now - p->started_ms) / 1000.0, "heartbeat_age_s",
                              (double)(now - p->hb_ms) / 1000.0, "in", (json_int_t)p->in, "out", (json_int_t)p->out,
                              "drops", (json_int_t)p->drops, "decode_errors", (json_int_t)p->decode_errors,
                              "drops_by_reason", p->drops_desc, "state", p->state ? p->state : "?", "reason",
                              p->reason, "metrics_ok", p->scraped);
        json_object_set_new(o, "in_per_s", s_num(p->in_rate));
        json_object_set_new(o, "out_per_s", s_num(p->out_rate));
        json_object_set_new(o, "latency_p50_s", s_num(p->p50));
        json_object_set_new(o, "latency_p95_s", s_num(p->p95));
        json_object_set_new(o, "latency_p99_s", s_num(p->p99));
        json_object_set_new(o, "rss_bytes", p->scraped ? s_num(p->rss) : json_null());
        json_object_set_new(o, "cpu_s", p->scraped ? s_num(p->cpu) : json_null());
        json_object_set_new(o, "redis_up", p->scraped ? s_num(p->redis_up) : json_null());
        json_object_set_new(o, "metrics_port", json_integer(p->mport));
        json_object_set_new(o, "started", json_integer((json_int_t)p->started_ms));
        json_array_append_new(rows, o);
    }
    json_t *top = json_pack("{s:b, s:s, s:o}", "redis_ok", h->redis_ok, "source", h->source, "processes", rows);
    return top;
}

void gh_health_free(gh_health_t *h) {
    free(h->p);
    h->p = NULL;
    h->n = 0;
}
