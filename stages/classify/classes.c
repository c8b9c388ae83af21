/* classes.c -- failure classes (see classes.h).
 *
 * The rules become one pattern "(?<r0>rule0)|(?<r1>rule1)|...", compiled
 * with PCRE2_CASELESS (byte semantics, no UTF check) and JIT-compiled; a
 * match reports which named group took part, which names the class.  Rules
 * may contain their own groups: group numbers are looked up by name.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "classes.h"
#include <ctype.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep in step with stages/classify/classes.conf. */
static const struct { const char *name, *rx; } s_defaults[] = {
    { "oom", "\\b(?:out of memory|OutOfMemoryError|oom[-_ ]?kill(?:er|ed)?|cannot allocate memory|memory allocation failed|killed process \\d+)" },
    { "disk_full", "\\b(?:no space left on device|disk (?:is )?full|quota exceeded|ENOSPC|filesystem (?:is )?full)" },
    { "crash", "\\b(?:segmentation fault|segfault|core dumped|kernel panic|panic[:!]|fatal error|SIGSEGV|SIGABRT|stack trace|uncaught exception|assertion .*failed|terminated abnormally)" },
    { "auth_failure", "\\b(?:authentication failure|auth(?:entication)? failed|failed password|invalid user|invalid credentials|login failed|access denied for user|unauthori[sz]ed|401 unauthorized|bad password|incorrect password)" },
    { "permission_denied", "\\b(?:permission denied|operation not permitted|EACCES|EPERM|forbidden|403 forbidden|access denied)" },
    { "connection_refused", "\\b(?:connection refused|ECONNREFUSED|connect(?:ion)? failed|failed to connect|unable to connect|could not connect)" },
    { "timeout", "\\b(?:timed? ?out|timeout|deadline exceeded|ETIMEDOUT|took too long)" },
    { "network_unreachable", "\\b(?:network (?:is )?unreachable|no route to host|host (?:is )?unreachable|ENETUNREACH|EHOSTUNREACH|connection reset|ECONNRESET|broken pipe|link (?:is )?down)" },
    { "dns_failure", "\\b(?:name or service not known|could not resolve|unknown host|NXDOMAIN|temporary failure in name resolution|UnknownHostException|getaddrinfo\\b.*fail|dns (?:lookup|resolution) failed)" },
    { "tls_error", "\\b(?:ssl|tls|x509|certificate|handshake)\\b.{0,40}\\b(?:error|fail\\w*|expired|invalid|unknown|bad|verify)" },
    { "rate_limited", "\\b(?:rate limit\\w*|too many requests|429\\b|throttl\\w+|slow down)" },
    { "service_restart", "\\b(?:restart(?:ing|ed)?|shutting down|shutdown|starting up|started|stopped|reboot(?:ing|ed)?|re-?spawn\\w*)" },
    { NULL, NULL }
};

struct gh_classes {
    char **names;
    uint32_t *group; /* capture group number of each rule */
    size_t n, cap;
    pcre2_code *re;
    pcre2_match_data *md;
    char *pattern;
    size_t pat_n, pat_cap;
};

static int s_append(gh_classes_t *c, const char *s, size_t n) {
    if (c->pat_n + n + 1 > c->pat_cap) {
        size_t cap = (c->pat_n + n + 1) * 2;
        char *p = realloc(c->pattern, cap);
        if (!p) return -1;
        c->pattern = p;
        c->pat_cap = cap;
    }
    memcpy(c->pattern + c->pat_n, s, n);
    c->pat_n += n;
    c->pattern[c->pat_n] = 0;
    return 0;
}

/* Adds one rule; -1 with err set on a bad name or out of memory.  Each rule
 * is checked alone first, so a bad regex is reported against its own line. */
static int s_add_rule(gh_classes_t *c, const char *name, size_t name_n, const char *rx, char *err, size_t errlen,
                      const char *where) {
    for (size_t i = 0; i < name_n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-') {
            snprintf(err, errlen, "%s: bad class name", where);
            return -1;
        }
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *one = pcre2_compile((PCRE2_SPTR)rx, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &ec, &eo, NULL);
    if (!one) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "%s: regex error at offset %zu: %s", where, (size_t)eo, (char *)msg);
        return -1;
    }
    pcre2_code_free(one);
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        char **nn = realloc(c->names, cap * sizeof *nn);
        if (!nn) goto oom;
        c->names = nn;
        uint32_t *g = realloc(c->group, cap * sizeof *g);
        if (!g) goto oom;
        c->group = g;
        c->cap = cap;
    }
    if (!(c->names[c->n] = strndup(name, name_n))) goto oom;
    char head[32];
    int hn = snprintf(head, sizeof head, "%s(?<r%zu>", c->n ? "|" : "", c->n);
    if (s_append(c, head, (size_t)hn) < 0 || s_append(c, rx, strlen(rx)) < 0 || s_append(c, ")", 1) < 0) {
        free(c->names[c->n]);
        goto oom;
    }
    c->n++;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int s_load_file(gh_classes_t *c, const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 0, lineno = 0;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (len > 0 && isspace((unsigned char)line[len - 1])) line[--len] = 0;
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (!*p || *p == '#') continue;
        char *name = p;
        while (*p && !isspace((unsigned char)*p)) p++;
        size_t name_n = (size_t)(p - name);
        while (isspace((unsigned char)*p)) p++;
        char where[300];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (!*p) {
            snprintf(err, errlen, "%s: rule without a regex", where);
            rc = -1;
            break;
        }
        if (s_add_rule(c, name, name_n, p, err, errlen, where) < 0) {
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

gh_classes_t *gh_classes_new(const char *rules_path, char *err, size_t errlen) {
    char dummy[8];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = 0;
    gh_classes_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (rules_path) {
        if (s_load_file(c, rules_path, err, errlen) < 0) goto fail;
    } else {
        for (size_t i = 0; s_defaults[i].name; i++)
            if (s_add_rule(c, s_defaults[i].name, strlen(s_defaults[i].name), s_defaults[i].rx, err, errlen,
                           "built-in rule") < 0)
                goto fail;
    }
    if (!c->n) return c; /* an empty rule file: nothing ever matches */
    int ec;
    PCRE2_SIZE eo;
    c->re = pcre2_compile((PCRE2_SPTR)c->pattern, c->pat_n, PCRE2_CASELESS, &ec, &eo, NULL);
    if (!c->re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "combined rules: %s", (char *)msg);
        goto fail;
    }
    pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter when JIT is unavailable */
    c->md = pcre2_match_data_create_from_pattern(c->re, NULL);
    if (!c->md) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < c->n; i++) {
        char gname[32];
        snprintf(gname, sizeof gname, "r%zu", i);
        int g = pcre2_substring_number_from_name(c->re, (PCRE2_SPTR)gname);
        if (g <= 0) {
            snprintf(err, errlen, "rule %zu: a rule may not define group names r<N>", i);
            goto fail;
        }
        c->group[i] = (uint32_t)g;
    }
    return c;
fail:
    gh_classes_destroy(&c);
    return NULL;
}

void gh_classes_destroy(gh_classes_t **cp) {
    gh_classes_t *c = cp ? *cp : NULL;
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free(c->names[i]);
    free(c->names);
    free(c->group);
    free(c->pattern);
    if (c->md) pcre2_match_data_free(c->md);
    if (c->re) pcre2_code_free(c->re);
    free(c);
    *cp = NULL;
}

const char *gh_classes_match(gh_classes_t *c, const char *msg, size_t n) {
    if (!c || !c->re) return NULL;
    int rc = pcre2_match(c->re, (PCRE2_SPTR)msg, n, 0, 0, c->md, NULL);
    if (rc <= 0) return NULL;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
    uint32_t pairs = pcre2_get_ovector_count(c->md);
    for (size_t i = 0; i < c->n; i++) {
        uint32_t g = c->group[i];
        if (g < pairs && g < (uint32_t)rc && ov[2 * g] != PCRE2_UNSET) return c->names[i];
    }
    return NULL;
}

size_t gh_classes_count(const gh_classes_t *c) { return c ? c->n : 0; }
