/* ctl.h -- the alert stage's part of ghostctl: silences and dead letters.
 *
 *   silence add PATTERN --for 2h [--comment TEXT]   glob on the alert key
 *   silence list
 *   silence rm ID
 *   dead list
 *   dead replay ID|all
 *
 * A silence is the key <prefix>silence:<id> holding {"id","pattern",
 * "comment","created","expires"} with a TTL, so it expires by itself; every
 * ghost-alert process re-reads the silences (SCAN) every few seconds.  Dead
 * letters are the list <prefix>alert:dead (newest first); replay pushes
 * their alerts onto <prefix>alert:replay:<sink>, from which a running
 * ghost-alert moves them into its outbox and sends them again.
 */
#ifndef GH_ALERT_CTL_H
#define GH_ALERT_CTL_H
#include "redis.h"

/* argv[0] is "silence" or "dead", argv[1] the subcommand.  Prints results on
 * stdout and errors on stderr.  Returns 0 on success, 1 when Redis is
 * unreachable or the id is unknown, 2 on a usage error. */
int gh_alert_ctl(int argc, char **argv, gh_redis_t *r);

/* Parses "90s", "30m", "2h", "1d", "1h30m" (a bare number is seconds) into
 * seconds; -1 when malformed or not positive. */
long gh_alert_parse_duration(const char *s);
#endif
