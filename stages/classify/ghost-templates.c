/* ghost-templates -- mine log messages with ghost-classify's template miner
 * and print, for each input line in order, "template_id<TAB>template".
 *
 * The whole line is the message (feed it the Loghub Content column, not raw
 * lines with headers).  Output is two-pass: every line is mined first, then
 * each line is printed with its template as it stands at the end of the
 * input, so lines whose template was generalised later share the final text.
 */
#include "classify/miner.h"
#include "log.h"
#include "opt.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long s_max_templates;
static char *s_log_level;

static const gh_opt_t s_opts[] = {
    { "max-templates", GH_OPT_INT, &s_max_templates, "0", "templates kept in memory (0 = ghost-classify's default)" },
    { "log-level", GH_OPT_STR, &s_log_level, "warn", "error|warn|info|debug" },
    { NULL, 0, NULL, NULL, NULL }
};

typedef struct {
    uint64_t *ids;
    size_t n, cap;
} s_ids_t;

/* Mines every line of f, appending each line's template id to ids; -1 on
 * out of memory. */
static int s_mine_file(gh_miner_t *m, FILE *f, s_ids_t *ids) {
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (ids->n == ids->cap) {
            size_t cap = ids->cap ? ids->cap * 2 : 4096;
            uint64_t *p = realloc(ids->ids, cap * sizeof *p);
            if (!p) { rc = -1; break; }
            ids->ids = p;
            ids->cap = cap;
        }
        uint64_t id = gh_miner_add(m, line, (size_t)len, NULL, NULL, NULL);
        if (!id) { rc = -1; break; }
        ids->ids[ids->n++] = id;
    }
    free(line);
    return rc;
}

int main(int argc, char **argv) {
    int nargs = 0, rc = 1;
    int pr = gh_opt_parse(s_opts, "ghost-templates", "[FILE...]  (stdin when none)", argc, argv, &nargs);
    if (pr != 0) return pr > 0 ? 0 : 2;
    gh_log_init("ghost-templates", s_log_level);
    gh_miner_t *m = gh_miner_new(s_max_templates > 0 ? (size_t)s_max_templates : 0);
    s_ids_t ids = { 0 };
    if (!m) { gh_error("out of memory"); goto done; }
    if (nargs == 0) {
        if (s_mine_file(m, stdin, &ids) < 0) { gh_error("out of memory"); goto done; }
    }
    for (int i = 1; i <= nargs; i++) {
        FILE *f = !strcmp(argv[i], "-") ? stdin : fopen(argv[i], "r");
        if (!f) { gh_error("cannot open %s", argv[i]); goto done; }
        int r = s_mine_file(m, f, &ids);
        if (f != stdin) fclose(f);
        if (r < 0) { gh_error("out of memory"); goto done; }
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    uint64_t last_in = 0, last_out = 0;
    const char *tpl = "";
    size_t tn = 0;
    for (size_t i = 0; i < ids.n; i++) {
        if (ids.ids[i] != last_in || !last_out) {
            last_in = ids.ids[i];
            last_out = gh_miner_resolve(m, last_in, &tpl, &tn);
            if (!last_out) { /* evicted before the end: report the id it had, no text */
                last_out = last_in;
                tpl = "";
                tn = 0;
            }
        }
        printf("%016" PRIx64 "\t%.*s\n", last_out, (int)tn, tpl);
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
done:
    gh_miner_destroy(&m);
    free(ids.ids);
    free(s_log_level);
    return rc;
}
