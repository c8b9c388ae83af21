/* ghost-alert -- deduplicates, groups and delivers alerts
 * (stages/alert/alerter.h): always to a JSON-lines sink, to Slack when a
 * webhook is configured (SLACK_WEBHOOK_URL or --slack-webhook-file; the URL is
 * never logged), and to a generic webhook.  Input: GH_T_ALERT batches from
 * ghost-anomaly and ghost-predict.  On the end of every producer's stream it
 * keeps delivering until its outbox is empty or --drain-timeout-s passes;
 * what is left stays in the Redis outbox for the next start.
 */
#include "alert/alerter.h"
#include "log.h"
#include "sig.h"
#include "stage.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gh_stage_cfg_t s_cfg;
static char *s_sink, *s_webhook_file, *s_generic;
static double s_rate;
static long s_burst, s_group_s, s_repeat_s, s_timeout_ms, s_drain_s, s_flap_window_s, s_flap_count, s_lease_s;

static const gh_opt_t s_opts[] = {
    GH_STAGE_OPTIONS(s_cfg, "(none: alert is the last stage)"),
    { "sink", GH_OPT_STR, &s_sink, "-", "JSON-lines file every alert is appended to; - for stdout" },
    { "slack-webhook-file", GH_OPT_STR, &s_webhook_file, "", "file holding the Slack webhook URL (else SLACK_WEBHOOK_URL)" },
    { "webhook", GH_OPT_STR, &s_generic, "", "generic webhook URL receiving {\"alerts\":[...]}" },
    { "rate", GH_OPT_DBL, &s_rate, "1", "messages per second per webhook (shared by all alert workers)" },
    { "burst", GH_OPT_INT, &s_burst, "3", "messages that may go at once before the rate applies" },
    { "group-window-s", GH_OPT_INT, &s_group_s, "30", "alerts of one key within this window become one message" },
    { "repeat-interval-s", GH_OPT_INT, &s_repeat_s, "300", "updates of a firing alert are sent at most this often" },
    { "flap-window-s", GH_OPT_INT, &s_flap_window_s, "900", "a key firing --flap-count times within this event time is flapping" },
    { "flap-count", GH_OPT_INT, &s_flap_count, "3", "firings within --flap-window-s that make a key flap (held, summarised)" },
    { "lease-ttl-s", GH_OPT_INT, &s_lease_s, "30", "outbox lease; another instance takes over an outbox whose lease expired" },
    { "timeout-ms", GH_OPT_INT, &s_timeout_ms, "10000", "HTTP timeout per attempt" },
    { "drain-timeout-s", GH_OPT_INT, &s_drain_s, "30", "at the end, keep delivering this long before leaving the rest queued" },
    { NULL, 0, NULL, NULL, NULL },
};

static void on_batch(gh_stage_t *st, const gh_batch_t *b) {
    gh_alerter_t *al = gh_stage_ctx(st);
    for (size_t i = 0; i < b->n; i++) gh_alerter_submit(al, &b->u.alert[i]);
    gh_alerter_flush(al);
}

static void on_tick(gh_stage_t *st) { gh_alerter_tick(gh_stage_ctx(st)); }

static void on_drain(gh_stage_t *st) {
    gh_alerter_t *al = gh_stage_ctx(st);
    gh_alerter_flush(al);
    int left = gh_alerter_drain(al, (int)s_drain_s * 1000);
    gh_alerter_stats_t s;
    gh_alerter_stats(al, &s);
    gh_info("alerts: %llu in, %llu duplicates, %llu silenced, %llu messages sent, %llu retries, %llu dead letters, "
            "%llu flap summaries, %llu taken over, %d left queued", (unsigned long long)s.submitted, (unsigned long long)s.duplicates,
            (unsigned long long)s.silenced, (unsigned long long)s.msgs_sent, (unsigned long long)s.retries,
            (unsigned long long)s.dead_letters, (unsigned long long)s.flap_held, (unsigned long long)s.taken_over,
            left);
}

static char *s_read_secret(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char buf[2048];
    char *r = fgets(buf, sizeof buf, f) ? strdup(strtok(buf, " \r\n\t") ? buf : "") : NULL;
    fclose(f);
    return r;
}

int main(int argc, char **argv) {
    gh_stage_parse_args(s_opts, "ghost-alert", "[OPTIONS]\n\nDeduplicates, groups, silences and delivers alerts: always to a JSON-lines sink, to\nSlack when SLACK_WEBHOOK_URL (or --slack-webhook-file) is set.", argc, argv);
    gh_sig_install();
    char *webhook = NULL;
    if (*s_webhook_file && !(webhook = s_read_secret(s_webhook_file))) {
        fprintf(stderr, "ghost-alert: cannot read the webhook file %s\n", s_webhook_file);
        return 2;
    }
    if (!webhook) webhook = gh_alert_webhook_from_env();
    gh_stage_ops_t ops = { "alert", GH_T_ALERT, NULL, on_batch, on_tick, on_drain };
    gh_stage_t *st = gh_stage_new(&s_cfg, &ops, 0, NULL, 0, NULL);
    if (!st) return 1;
    /* the outbox is named by host and index: workers on several hosts can share one Redis */
    char instance[320], host[256] = "";
    gethostname(host, sizeof host);
    snprintf(instance, sizeof instance, "%s-%ld", host, s_cfg.index);
    gh_alerter_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.sink_path = s_sink;
    cfg.webhook_url = webhook && *webhook ? webhook : NULL;
    cfg.generic_webhook_url = *s_generic ? s_generic : NULL;
    cfg.instance = instance;
    cfg.rate_per_s = s_rate;
    cfg.burst = (int)s_burst;
    cfg.group_window_s = (int)s_group_s;
    cfg.repeat_interval_s = (int)s_repeat_s;
    cfg.timeout_ms = (int)s_timeout_ms;
    cfg.flap_window_s = (int)s_flap_window_s;
    cfg.flap_count = (int)s_flap_count;
    cfg.lease_ttl_s = (int)s_lease_s;
    gh_alerter_t *al = gh_alerter_new(&cfg, gh_stage_redis(st));
    if (!al) {
        gh_error("cannot start the alerter (sink %s)", s_sink);
        gh_stage_destroy(&st);
        return 1;
    }
    gh_info("delivering to %s%s%s", strcmp(s_sink, "-") ? s_sink : "stdout", cfg.webhook_url ? ", Slack" : "",
            cfg.generic_webhook_url ? ", a generic webhook" : "");
    gh_stage_set_ctx(st, al);
    int rc = gh_stage_run(st);
    gh_alerter_destroy(&al);
    gh_stage_destroy(&st);
    free(webhook);
    return rc ? 1 : 0;
}
