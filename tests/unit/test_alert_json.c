/* test_alert_json.c -- the alert JSON line and the Slack message builder
 * without any network: keys and formats of the line, UTF-8 repair, and
 * Slack's limits under hostile sizes (huge template and examples, 100
 * grouped alerts, a 30-key digest with long ids), sparkline, URL redaction,
 * duration parsing for ghostctl; and the message a human reads: header with
 * kind and template, rate per minute against the usual rate, host, window
 * relative to processing time, forecast crossing with its interval, resolve
 * and flap summaries, uids in the context block.  With GHOST_PRINT_MSG set
 * it prints a rendered brute-force message (for the docs). */
#include "../check.h"
#include "alert/alert_json.h"
#include "alert/ctl.h"
#include "alert/slack.h"
#include "clock.h"

static char s_big[20000];

static void s_fill(gh_alert_t *a, const char *id, int big) {
    memset(a, 0, sizeof *a);
    a->id = gh_str(id, strlen(id));
    a->kind = gh_str("forecast", 8);
    a->key = big ? gh_str(s_big, 500) : gh_str("tpl:42", 6);
    a->tpl = big ? gh_str(s_big, sizeof s_big - 1) : gh_str("disk <*> full", 13);
    a->host = gh_str("db-1", 4);
    a->start_ms = 1700000000123LL;
    a->end_ms = 1700000060000LL;
    a->count = 10;
    a->rate = 2.5;
    a->baseline = 0.25;
    a->nexamples = 3;
    for (int i = 0; i < 3; i++) a->examples[i] = big ? gh_str(s_big, 9000) : gh_str("x", 1);
    a->nseries = GH_MAX_SERIES;
    for (int i = 0; i < GH_MAX_SERIES; i++) a->series[i] = i * i;
    a->has_forecast = 1;
    a->fc_method = gh_str("holt", 4);
    a->fc_horizon_s = 900;
    a->fc_predicted = 120;
    a->fc_lower = 100;
    a->fc_upper = 140;
    a->fc_threshold = 110;
    a->fc_crosses_at_ms = 1700000600000LL;
}


/* A realistic SSH brute-force burst (as ghost-anomaly emits it). */
static json_t *s_brute(const char *state, int64_t start_ms) {
    static double series[20] = { 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 38, 41 };
    gh_alert_t a;
    memset(&a, 0, sizeof a);
    a.id = gh_cstr("3f1c9a7e55d20b41");
    a.kind = gh_cstr("burst");
    a.state = gh_cstr(state);
    a.key = gh_cstr("tpl:12345678901234");
    a.tpl = gh_cstr("Failed password for invalid user <*> from <*> port <*> ssh2");
    a.cls = gh_cstr("auth_failure");
    a.host = gh_cstr("web1");
    a.start_ms = start_ms;
    a.end_ms = start_ms + 120000;
    a.count = 83;
    a.rate = 41;
    a.baseline = 0.3;
    a.score = 0.99;
    a.nexamples = 1;
    a.examples[0] = gh_cstr("Nov 21 23:20:01 web1 sshd[4711]: Failed password for invalid user admin from 203.0.113.7 port 52211 ssh2");
    a.nseries = 20;
    memcpy(a.series, series, sizeof series);
    return gh_alert_json(&a);
}

static void test_human_message(void) {
    int64_t t0 = gh_rfc3339_parse_ms("2026-11-21T23:20:00.000Z"), now = t0 + 3 * 60000 + 5000;
    json_t *arr = json_array();
    json_array_append_new(arr, s_brute("firing", t0));
    json_t *msg = gh_slack_group_message(arr, now);
    char why[128] = "", *txt = json_dumps(msg, JSON_COMPACT);
    CHECK(msg && gh_slack_check_limits(msg, why, sizeof why) == 0);
    json_t *hdr = json_object_get(json_object_get(json_array_get(json_object_get(msg, "blocks"), 0), "text"), "text");
    CHECK_STR(json_string_value(hdr),
              ":rotating_light: Burst: Failed password for invalid user <*> from <*> port <*> ssh2");
    CHECK(txt && strstr(txt, "41/min vs 0.30/min usual (\u00d7137)") != NULL);
    CHECK(txt && strstr(txt, "started 23:20 UTC, 3 min ago") != NULL);
    CHECK(txt && strstr(txt, "*Host*\\nweb1") != NULL);
    CHECK(txt && strstr(txt, "```Nov 21 23:20:01 web1 sshd[4711]") != NULL);
    CHECK(txt && strstr(txt, "last 20 min, peak 41/min") != NULL);
    CHECK(txt && strstr(txt, "alert `3f1c9a7e55d20b41`") != NULL);
    if (getenv("GHOST_PRINT_MSG")) {
        char *pretty = json_dumps(msg, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        fprintf(stderr, "%s\n", pretty);
        free(pretty);
    }
    free(txt);
    json_decref(msg);

    /* the resolve of the same incident: its own message, naming the firing id */
    json_array_clear(arr);
    json_array_append_new(arr, s_brute("resolved", t0));
    msg = gh_slack_group_message(arr, now + 600000);
    txt = json_dumps(msg, JSON_COMPACT);
    hdr = json_object_get(json_object_get(json_array_get(json_object_get(msg, "blocks"), 0), "text"), "text");
    CHECK(strstr(json_string_value(hdr), ":white_check_mark: Resolved \xE2\x80\x94 Burst: Failed password") != NULL);
    CHECK(txt && strstr(txt, "Resolves alert `3f1c9a7e55d20b41`, which fired at 23:20 UTC") != NULL);
    CHECK(txt && strstr(txt, "23:20 UTC \u2013 23:22 UTC (2 min)") != NULL);
    CHECK(txt && strstr(txt, "`3f1c9a7e55d20b41/resolved`") != NULL);
    free(txt);
    json_decref(msg);

    /* flapping: three firings and two resolves in one group: one summary */
    json_array_clear(arr);
    for (int i = 0; i < 3; i++) {
        json_t *f = s_brute("firing", t0 + i * 300000LL), *r = s_brute("resolved", t0 + i * 300000LL);
        char id[32];
        snprintf(id, sizeof id, "flap%012d", i);
        json_object_set_new(f, "id", json_string(id));
        json_object_set_new(r, "id", json_string(id));
        json_array_append_new(arr, f);
        if (i < 2) json_array_append_new(arr, r);
        else json_decref(r);
    }
    CHECK_EQ(gh_slack_firings(arr), 3);
    msg = gh_slack_group_message(arr, now);
    txt = json_dumps(msg, JSON_COMPACT);
    CHECK(msg && gh_slack_check_limits(msg, why, sizeof why) == 0);
    CHECK(txt && strstr(txt, ":repeat: Flapping") != NULL);
    CHECK(txt && strstr(txt, "Fired *3 times* and resolved *2 times*") != NULL);
    CHECK(txt && strstr(txt, "`flap000000000001/resolved`") != NULL);
    free(txt);
    json_decref(msg);

    /* forecast: crossing time with its interval, relative to processing */
    gh_alert_t a;
    memset(&a, 0, sizeof a);
    a.id = gh_cstr("7723876e4cbbbb1d");
    a.kind = gh_cstr("forecast");
    a.key = gh_cstr("class:timeout@a89363ee");
    a.cls = gh_cstr("timeout");
    a.start_ms = t0;
    a.end_ms = t0 + 36 * 60000;
    a.count = 6;
    a.rate = 6;
    a.baseline = 5.5;
    a.has_forecast = 1;
    a.fc_method = gh_cstr("holt");
    a.fc_horizon_s = 1800;
    a.fc_predicted = 9.5;
    a.fc_lower = 7;
    a.fc_upper = 12;
    a.fc_threshold = 10.3;
    a.fc_crosses_at_ms = t0 + 36 * 60000;
    json_array_clear(arr);
    json_array_append_new(arr, gh_alert_json(&a));
    msg = gh_slack_group_message(arr, t0 + 60000);
    txt = json_dumps(msg, JSON_COMPACT);
    hdr = json_object_get(json_object_get(json_array_get(json_object_get(msg, "blocks"), 0), "text"), "text");
    CHECK_STR(json_string_value(hdr), ":chart_with_upwards_trend: Forecast: timeout events");
    CHECK(txt && strstr(txt, "Crosses it at *23:56 UTC* (in 35 min); interval 23:42 UTC \u2013 beyond the 30 min horizon") != NULL);
    if (getenv("GHOST_PRINT_MSG")) fprintf(stderr, "%s\n", txt);
    free(txt);
    json_decref(msg);

    /* uids: one per state of an incident */
    char uid[64];
    json_t *u = s_brute("update", t0);
    CHECK_STR(gh_alert_uid(u, uid, sizeof uid), "3f1c9a7e55d20b41/update@20261121T232200");
    json_decref(u);
    json_decref(arr);
}

int main(void) {
    for (size_t i = 0; i < sizeof s_big - 1; i++) s_big[i] = "<&>`*_ab\"\\"[i % 10];
    s_big[7] = (char)0xff; /* not UTF-8 */
    gh_alert_t a;
    s_fill(&a, "a-1", 0);
    char *line = NULL;
    CHECK_EQ(gh_alert_to_json(&a, &line), 0);
    json_t *o = json_loads(line, 0, NULL);
    CHECK(o != NULL);
    const char *keys[] = { "id", "kind", "state", "key", "template", "class", "host", "start", "end", "count", "rate",
                           "baseline", "score", "examples", "series", "forecast" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) CHECK(json_object_get(o, keys[i]) != NULL);
    CHECK_STR(json_string_value(json_object_get(o, "start")), "2023-11-14T22:13:20.123Z");
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "forecast"), "crosses_at")), "2023-11-14T22:23:20.000Z");
    CHECK_EQ(gh_rfc3339_parse_ms("2023-11-14T22:13:20.123Z"), 1700000000123LL);
    CHECK(strstr(line, "\"id\":\"a-1\",\"kind\":\"forecast\",\"state\":\"firing\"") != NULL);
    json_decref(o);
    free(line);
    a.host = gh_str("", 0);
    CHECK_EQ(gh_alert_to_json(&a, &line), 0);
    CHECK(strstr(line, "\"host\"") == NULL); /* only when set */
    free(line);

    /* hostile sizes: one huge alert, and 100 grouped */
    s_fill(&a, "big-1", 1);
    json_t *arr = json_array();
    json_t *one = gh_alert_json(&a);
    CHECK(one != NULL);
    json_array_append_new(arr, one);
    json_t *msg = gh_slack_group_message(arr, 1700000100000LL);
    char why[128] = "";
    CHECK(msg && gh_slack_check_limits(msg, why, sizeof why) == 0);
    if (why[0]) fprintf(stderr, "limits: %s\n", why);
    char *txt = json_dumps(msg, JSON_COMPACT);
    CHECK(txt && strlen(txt) < 40000);
    CHECK(txt && strstr(txt, "&lt;&amp;&gt;") != NULL); /* mrkdwn escaping */
    CHECK(txt && strstr(txt, "started 22:13 UTC") != NULL);
    CHECK(txt && strstr(txt, "Crosses it at") != NULL);
    free(txt);
    json_decref(msg);
    char ids[100][64];
    for (int i = 1; i < 100; i++) {
        snprintf(ids[i], sizeof ids[i], "id-%055d", i); /* long ids */
        s_fill(&a, ids[i], 1);
        json_array_append_new(arr, gh_alert_json(&a));
    }
    msg = gh_slack_group_message(arr, 1700000100000LL);
    CHECK(msg && gh_slack_check_limits(msg, why, sizeof why) == 0);
    txt = json_dumps(msg, JSON_COMPACT);
    int found = 0;
    for (int i = 1; i < 100; i++) found += txt && strstr(txt, ids[i]) != NULL;
    CHECK_EQ(found, 99); /* every id in the context blocks */
    free(txt);
    json_decref(msg);
    json_t *groups = json_array();
    for (int g = 0; g < 30; g++) {
        json_t *ga = json_array();
        for (int i = 0; i < 3; i++) json_array_append(ga, json_array_get(arr, (size_t)(g * 3 + i) % 100));
        json_array_append_new(groups, ga);
    }
    msg = gh_slack_digest_message(groups, 1700000100000LL);
    CHECK(msg && gh_slack_check_limits(msg, why, sizeof why) == 0);
    CHECK(json_array_size(json_object_get(msg, "blocks")) <= GH_SLACK_MAX_BLOCKS);
    json_decref(msg);
    json_decref(groups);
    json_decref(arr);

    char spark[64];
    json_t *series = json_pack("[i,i,i,i]", 0, 1, 2, 7);
    CHECK_STR(gh_slack_sparkline(series, spark, sizeof spark), "\xe2\x96\x81\xe2\x96\x82\xe2\x96\x83\xe2\x96\x88");
    json_decref(series);
    char red[128];
    CHECK_STR(gh_url_redact("https://hooks.slack.com/services/T1/B2/XYZ", red, sizeof red), "https://hooks.slack.com/***");
    CHECK_EQ(gh_alert_parse_duration("2h"), 7200);
    CHECK_EQ(gh_alert_parse_duration("1h30m"), 5400);
    CHECK_EQ(gh_alert_parse_duration("x"), -1);
    test_human_message();
    TEST_MAIN_END();
}
