/* opt.h -- one table per binary defines every option: its name, type,
 * default, target field and help text, so --help and the parser cannot
 * disagree.  Each option can be set by flag (--name VALUE or --name=VALUE),
 * by environment (GHOST_NAME, dashes become underscores, upper case), or by
 * a config file (--config FILE: "name = value" lines, # comments).
 * Precedence: flag > environment > config file > default.
 */
#ifndef GH_OPT_H
#define GH_OPT_H
#include <stddef.h>

typedef enum { GH_OPT_STR, GH_OPT_INT, GH_OPT_DBL, GH_OPT_BOOL } gh_opt_type_t;

typedef struct {
    const char *name;     /* long flag without dashes, e.g. "batch-size" */
    gh_opt_type_t type;
    void *target;         /* char ** (strdup'ed), long *, double *, int * */
    const char *def;      /* default as text, NULL for none */
    const char *help;
} gh_opt_t;

/* Parse argv against the table (terminated by a {NULL} row).  Arguments that
 * are not options are left in argv[1..*nargs] in order.  --help prints usage
 * (the synopsis text, then one line per option) and returns 1; an unknown
 * option or a bad value prints an error and returns -1; otherwise 0. */
int gh_opt_parse(const gh_opt_t *opts, const char *prog, const char *synopsis, int argc, char **argv,
                 int *nargs);
void gh_opt_usage(const gh_opt_t *opts, const char *prog, const char *synopsis);
#endif
