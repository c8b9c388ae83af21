/* test_parse_auditd.c -- fidelity of the auditd parser against reference
 * golden files.
 *
 * For every <name>.log with a <name>.log.golden beside it in
 * $GHOST_SRC/../shared/data/auditd (or ../shared/data/auditd from the current
 * directory; $GHOST_AUDIT_DIR overrides both), each line is parsed and every
 * golden field that maps onto the record is compared: @timestamp (-> ts_ms),
 * record_type, sequence, each key of data (-> the field of that name) and
 * keys/tags (-> the "tags" field, joined with ',').  raw_msg is not a parsed
 * field and is not counted; null golden entries (lines the reference parser
 * refused) are skipped.  Prints the share of golden fields matched per file
 * and in total; fails when any file is below 99%.  Exits 77 when the data is
 * absent.
 */
#include "check.h"
#include "ingest/parse.h"

#include <glob.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>

static const char *s_field(const gh_record_t *r, const char *k) {
    static char buf[1 << 16];
    size_t kn = strlen(k);
    for (uint32_t i = 0; i < r->nfields; i++)
        if (r->fields[2 * i].n == kn && !memcmp(r->fields[2 * i].p, k, kn)) {
            size_t n = r->fields[2 * i + 1].n < sizeof buf - 1 ? r->fields[2 * i + 1].n : sizeof buf - 1;
            memcpy(buf, r->fields[2 * i + 1].p, n);
            buf[n] = '\0';
            return buf;
        }
    return NULL;
}

/* "2017-04-22T21:25:01.818Z" -> ms; fractions of any length. */
static long long s_ts(const char *s) {
    int y, mo, d, h, mi;
    double sec;
    if (sscanf(s, "%d-%d-%dT%d:%d:%lfZ", &y, &mo, &d, &h, &mi, &sec) != 6) return LLONG_MIN;
    y -= mo <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return ((days * 86400 + h * 3600 + mi * 60) * 1000) + (long long)(sec * 1000 + 0.5);
}

static int s_cmp(const char *file, int line, const char *key, const char *want, const char *got, int verbose) {
    if (got && !strcmp(want, got)) return 1;
    if (verbose)
        fprintf(stderr, "  %s:%d %s: want \"%s\" got %s%s%s\n", file, line, key, want, got ? "\"" : "",
                got ? got : "(missing)", got ? "\"" : "");
    return 0;
}

int main(void) {
    char dir[PATH_MAX];
    const char *env = getenv("GHOST_AUDIT_DIR"), *src = getenv("GHOST_SRC");
    if (env) snprintf(dir, sizeof dir, "%s", env);
    else snprintf(dir, sizeof dir, "%s/../shared/data/auditd", src ? src : ".");
    char pat[PATH_MAX + 16];
    snprintf(pat, sizeof pat, "%s/*.log", dir);
    glob_t g;
    if (glob(pat, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        printf("skipped: no audit reference data in %s\n", dir);
        return TEST_SKIP;
    }
    int verbose = getenv("GHOST_VERBOSE") != NULL;
    long all_tot = 0, all_ok = 0;
    int files = 0;
    gh_parser_t *p = gh_parser_new(-1);
    CHECK(p != NULL);
    for (size_t f = 0; f < g.gl_pathc; f++) {
        char gpath[PATH_MAX + 16];
        snprintf(gpath, sizeof gpath, "%s.golden", g.gl_pathv[f]);
        json_error_t jerr;
        json_t *golden = json_load_file(gpath, 0, &jerr);
        if (!golden) continue;
        FILE *in = fopen(g.gl_pathv[f], "r");
        CHECK(in != NULL);
        if (!in) { json_decref(golden); continue; }
        files++;
        const char *base = strrchr(g.gl_pathv[f], '/') ? strrchr(g.gl_pathv[f], '/') + 1 : g.gl_pathv[f];
        long tot = 0, ok = 0;
        char *line = NULL;
        size_t cap = 0;
        ssize_t r;
        size_t idx = 0;
        while ((r = getline(&line, &cap, in)) >= 0) {
            size_t n = (size_t)r;
            if (n && line[n - 1] == '\n') n--;
            json_t *o = json_array_get(golden, idx++);
            gh_record_t rec;
            gh_parse_line(p, "audit.log", 9, line, n, 1700000000000, &rec);
            CHECK_EQ(rec.raw.n, n);
            if (!json_is_object(o)) continue;
            CHECK_EQ(rec.format, GH_FMT_AUDITD);
            const char *k;
            json_t *v;
            char buf[64];
            json_object_foreach(o, k, v) {
                if (!strcmp(k, "@timestamp")) {
                    tot++;
                    if (s_ts(json_string_value(v)) == rec.ts_ms) ok++;
                    else if (verbose) fprintf(stderr, "  %s:%zu ts: want %s got %lld\n", base, idx,
                                              json_string_value(v), (long long)rec.ts_ms);
                } else if (!strcmp(k, "record_type")) {
                    tot++;
                    ok += s_cmp(base, (int)idx, k, json_string_value(v), s_field(&rec, "record_type"), verbose);
                } else if (!strcmp(k, "sequence")) {
                    tot++;
                    snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
                    ok += s_cmp(base, (int)idx, k, json_is_string(v) ? json_string_value(v) : buf,
                                s_field(&rec, "sequence"), verbose);
                } else if (!strcmp(k, "data") && json_is_object(v)) {
                    const char *dk;
                    json_t *dv;
                    json_object_foreach(v, dk, dv) {
                        if (!json_is_string(dv)) continue;
                        tot++;
                        ok += s_cmp(base, (int)idx, dk, json_string_value(dv), s_field(&rec, dk), verbose);
                    }
                } else if ((!strcmp(k, "keys") || !strcmp(k, "tags")) && json_is_array(v)) {
                    char want[4096] = "";
                    size_t ai;
                    json_t *av;
                    json_array_foreach(v, ai, av) {
                        if (ai) strncat(want, ",", sizeof want - strlen(want) - 1);
                        strncat(want, json_string_value(av) ? json_string_value(av) : "", sizeof want - strlen(want) - 1);
                    }
                    tot++;
                    ok += s_cmp(base, (int)idx, "tags", want, s_field(&rec, "tags"), verbose);
                }
            }
        }
        free(line);
        fclose(in);
        json_decref(golden);
        double pct = tot ? 100.0 * (double)ok / (double)tot : 100.0;
        printf("%-28s %5ld/%-5ld golden fields matched (%.2f%%)\n", base, ok, tot, pct);
        CHECK(pct >= 99.0);
        all_tot += tot;
        all_ok += ok;
    }
    globfree(&g);
    gh_parser_destroy(&p);
    CHECK(p == NULL);
    if (!files) {
        printf("skipped: no .log/.log.golden pairs in %s\n", dir);
        return TEST_SKIP;
    }
    printf("%-28s %5ld/%-5ld golden fields matched (%.2f%%)\n", "total", all_ok, all_tot,
           all_tot ? 100.0 * (double)all_ok / (double)all_tot : 100.0);
    CHECK(all_tot == 0 || all_ok * 100 >= all_tot * 99);
    TEST_MAIN_END();
}
