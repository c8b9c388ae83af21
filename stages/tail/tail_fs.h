/* tail_fs.h -- change notification for ghost-tail: inotify when available,
 * plain polling otherwise.
 *
 * Events are only a hint that says "look now": ghost-tail always decides
 * from stat() and read() what changed, so a lost or coalesced event (or no
 * inotify at all) costs latency, never data.  Directories are watched rather
 * than files, which covers files that appear, are renamed or deleted.
 */
#ifndef GH_TAIL_FS_H
#define GH_TAIL_FS_H

#define GH_TAIL_FS_DATA 1    /* some file was written or truncated */
#define GH_TAIL_FS_NAMES 2   /* names appeared, moved or vanished: rescan globs */

typedef struct gh_tail_fs gh_tail_fs_t;

/* use_inotify 0 forces polling.  Never NULL unless out of memory; falls back
 * to polling (logged) when inotify cannot be set up. */
gh_tail_fs_t *gh_tail_fs_new(int use_inotify);
void gh_tail_fs_destroy(gh_tail_fs_t **fs);

/* Watches directory dir (once; repeated calls are cheap).  Returns 0, or -1
 * when it cannot be watched (polling still covers it). */
int gh_tail_fs_watch(gh_tail_fs_t *fs, const char *dir);

/* The descriptor to poll for POLLIN, -1 when polling only. */
int gh_tail_fs_fd(const gh_tail_fs_t *fs);

/* Reads pending events without blocking; returns GH_TAIL_FS_* bits. */
int gh_tail_fs_drain(gh_tail_fs_t *fs);
#endif
