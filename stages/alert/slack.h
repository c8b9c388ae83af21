/* slack.h -- Slack Block Kit messages for alerts, inside Slack's limits.
 *
 * Messages are built from alert JSON objects (alert_json.h), the same form
 * the durable outbox stores, so a message can be rebuilt after a restart.
 * Two shapes: a group message (one key, one or more alerts: header, template
 * and an example in code formatting, rate against baseline, host, window in
 * the reader's terms, a sparkline of the series, the forecast crossing, and
 * a context block with every alert id) and a digest (several keys folded
 * into one message when the rate limit is reached).  Every message has a
 * plain `text` fallback.  Limits enforced here (from Slack's Block Kit
 * reference): <= 50 blocks, header text <= 150 characters, section text <=
 * 3000, section fields <= 10 of <= 2000, context elements <= 10.  Callers
 * keep a message to <= GH_SLACK_MAX_IDS alerts and a digest to <=
 * GH_SLACK_DIGEST_MAX_GROUPS keys.  User text is escaped for mrkdwn (&, <, >),
 * JSON escaping is jansson's.
 */
#ifndef GH_SLACK_H
#define GH_SLACK_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define GH_SLACK_MAX_BLOCKS 50
#define GH_SLACK_MAX_SECTION 3000
#define GH_SLACK_MAX_HEADER 150
#define GH_SLACK_MAX_FIELD 2000
#define GH_SLACK_MAX_CONTEXT 10
#define GH_SLACK_MAX_TEXT 3000          /* our own cap for the fallback text */
#define GH_SLACK_MAX_IDS 100            /* alerts carried by one message */
#define GH_SLACK_DIGEST_MAX_GROUPS 30   /* keys folded into one digest */

/* Group message for alerts (a JSON array of alert objects, oldest first, all
 * the same key).  now_ms is the processing time (when ghost-alert received
 * the newest of them), for "started 23:20 UTC, 3 min ago".  Rates are
 * events per minute, as in the alert line.  A group with a resolved alert
 * last is a resolve message naming the firing alert's id; a group with two
 * or more firings is a flap summary.  Returns a new
 * payload object, or NULL when alerts is empty or out of memory. */
json_t *gh_slack_group_message(const json_t *alerts, int64_t now_ms);

/* Distinct firing alerts (by id) in alerts; more than one in one group
 * means the key flapped, and the message says so. */
size_t gh_slack_firings(const json_t *alerts);

/* Digest message for groups (a JSON array of such alert arrays, one per
 * key).  Returns a new payload object, or NULL when groups is empty. */
json_t *gh_slack_digest_message(const json_t *groups, int64_t now_ms);

/* Writes a sparkline of series (a JSON array of numbers, null = gap) with
 * the blocks U+2581..U+2588 into buf.  Returns buf ("" when empty). */
char *gh_slack_sparkline(const json_t *series, char *buf, size_t len);

/* Checks a payload against the limits above; returns 0, or -1 and writes why
 * into why (may be NULL). */
int gh_slack_check_limits(const json_t *payload, char *why, size_t len);

/* Writes a loggable form of url (scheme and host only, the path that holds
 * the secret replaced by "/" and three stars) into buf.  Returns buf. */
char *gh_url_redact(const char *url, char *buf, size_t len);

/* Parses "YYYY-MM-DDTHH:MM:SS[.mmm]Z" into ms since the epoch; 0 if not. */
int64_t gh_rfc3339_parse_ms(const char *s);
#endif
