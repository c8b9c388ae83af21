/* opt.c -- the option table parser, see opt.h. */
#include "opt.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int s_set(const gh_opt_t *o, const char *val, const char *from) {
    char *end;
    switch (o->type) {
    case GH_OPT_STR:
        free(*(char **)o->target);
        *(char **)o->target = val ? strdup(val) : NULL;
        return 0;
    case GH_OPT_INT: {
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end) break;
        *(long *)o->target = v;
        return 0;
    }
    case GH_OPT_DBL: {
        errno = 0;
        double v = strtod(val, &end);
        if (errno || end == val || *end) break;
        *(double *)o->target = v;
        return 0;
    }
    case GH_OPT_BOOL:
        if (!strcasecmp(val, "1") || !strcasecmp(val, "true") || !strcasecmp(val, "yes") || !strcasecmp(val, "on"))
            *(int *)o->target = 1;
        else if (!strcasecmp(val, "0") || !strcasecmp(val, "false") || !strcasecmp(val, "no") ||
                 !strcasecmp(val, "off"))
            *(int *)o->target = 0;
        else break;
        return 0;
    }
    fprintf(stderr, "error: bad value '%s' for %s (from %s)\n", val, o->name, from);
    return -1;
}

static const gh_opt_t *s_find(const gh_opt_t *opts, const char *name, size_t n) {
    for (const gh_opt_t *o = opts; o->name; o++)
        if (strlen(o->name) == n && !strncmp(o->name, name, n)) return o;
    return NULL;
}

static int s_config_file(const gh_opt_t *opts, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "error: cannot open config file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line, *eq, *end;
        while (isspace((unsigned char)*p)) p++;
        if (!*p || *p == '#') continue;
        if (!(eq = strchr(p, '='))) {
            fprintf(stderr, "error: %s:%d: expected 'name = value'\n", path, lineno);
            rc = -1;
            continue;
        }
        end = eq;
        while (end > p && isspace((unsigned char)end[-1])) end--;
        const gh_opt_t *o = s_find(opts, p, (size_t)(end - p));
        char *v = eq + 1;
        while (isspace((unsigned char)*v)) v++;
        for (end = v + strlen(v); end > v && isspace((unsigned char)end[-1]); end--) *(end - 1) = 0;
        if (!o) {
            fprintf(stderr, "error: %s:%d: unknown option '%.*s'\n", path, lineno, (int)(eq - p), p);
            rc = -1;
        } else if (s_set(o, v, path) < 0) rc = -1;
    }
    fclose(f);
    return rc;
}

void gh_opt_usage(const gh_opt_t *opts, const char *prog, const char *synopsis) {
    printf("Usage: %s %s\n\nOptions (flag, environment variable, default):\n", prog, synopsis ? synopsis : "[OPTIONS]");
    for (const gh_opt_t *o = opts; o->name; o++) {
        char env[96], flag[96];
        size_t i = 0;
        i += (size_t)snprintf(env, sizeof env, "GHOST_");
        for (const char *c = o->name; *c && i + 1 < sizeof env; c++) env[i++] = *c == '-' ? '_' : (char)toupper(*c);
        env[i] = 0;
        snprintf(flag, sizeof flag, "--%s%s", o->name, o->type == GH_OPT_BOOL ? "" : " V");
        printf("  %-26s %s\n  %-26s   env %s, default: %s\n", flag, o->help, "", env,
               o->def && *o->def ? o->def : "(none)");
    }
    printf("  %-26s %s\n  %-26s %s\n", "--config FILE", "read 'name = value' lines from FILE", "--help",
           "show this help");
}

int gh_opt_parse(const gh_opt_t *opts, const char *prog, const char *synopsis, int argc, char **argv,
                 int *nargs) {
    const char *config = getenv("GHOST_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            gh_opt_usage(opts, prog, synopsis);
            return 1;
        }
        if (!strncmp(argv[i], "--config=", 9)) config = argv[i] + 9;
        else if (!strcmp(argv[i], "--config") && i + 1 < argc) config = argv[i + 1];
    }
    for (const gh_opt_t *o = opts; o->name; o++) /* defaults */
        if (o->def && s_set(o, o->def, "default") < 0) return -1;
    if (config && s_config_file(opts, config) < 0) return -1;
    for (const gh_opt_t *o = opts; o->name; o++) { /* environment */
        char env[96];
        size_t i = (size_t)snprintf(env, sizeof env, "GHOST_");
        for (const char *c = o->name; *c && i + 1 < sizeof env; c++) env[i++] = *c == '-' ? '_' : (char)toupper(*c);
        env[i] = 0;
        const char *v = getenv(env);
        if (v && s_set(o, v, env) < 0) return -1;
    }
    int out = 1;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "--")) {
            while (++i < argc) argv[out++] = argv[i];
            break;
        }
        if (strncmp(a, "--", 2) || !a[2]) {
            argv[out++] = a;
            continue;
        }
        char *name = a + 2, *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        if (n == 6 && !strncmp(name, "config", 6)) {
            if (!eq) i++;
            continue;
        }
        const gh_opt_t *o = s_find(opts, name, n);
        int negate = 0;
        if (!o && n > 3 && !strncmp(name, "no-", 3) && (o = s_find(opts, name + 3, n - 3)) && o->type == GH_OPT_BOOL)
            negate = 1;
        else if (o && negate) o = NULL;
        if (!o) {
            fprintf(stderr, "%s: unknown option '--%.*s' (see --help)\n", prog, (int)n, name);
            return -1;
        }
        const char *val;
        if (o->type == GH_OPT_BOOL && !eq) val = negate ? "0" : "1";
        else if (eq) val = eq + 1;
        else if (i + 1 < argc) val = argv[++i];
        else {
            fprintf(stderr, "%s: option --%s needs a value\n", prog, o->name);
            return -1;
        }
        if (s_set(o, val, "command line") < 0) return -1;
    }
    argv[out] = NULL;
    *nargs = out - 1;
    return 0;
}
