/* tail_fs.c -- inotify wake-ups with polling fallback, see tail_fs.h. */
#include "tail/tail_fs.h"
#include "log.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

struct gh_tail_fs {
    int fd;
    char **dirs;
    size_t n;
};

gh_tail_fs_t *gh_tail_fs_new(int use_inotify) {
    gh_tail_fs_t *fs = calloc(1, sizeof *fs);
    if (!fs) return NULL;
    fs->fd = -1;
#ifdef __linux__
    if (use_inotify && (fs->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
        gh_warn("inotify unavailable (%s): polling only", strerror(errno));
#else
    (void)use_inotify;
#endif
    return fs;
}

void gh_tail_fs_destroy(gh_tail_fs_t **fsp) {
    gh_tail_fs_t *fs = *fsp;
    if (!fs) return;
    if (fs->fd >= 0) close(fs->fd);
    for (size_t i = 0; i < fs->n; i++) free(fs->dirs[i]);
    free(fs->dirs);
    free(fs);
    *fsp = NULL;
}

int gh_tail_fs_watch(gh_tail_fs_t *fs, const char *dir) {
    for (size_t i = 0; i < fs->n; i++)
        if (!strcmp(fs->dirs[i], dir)) return 0;
    if (fs->fd < 0) return -1;
#ifdef __linux__
    uint32_t mask = IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                    IN_DELETE_SELF | IN_MOVE_SELF;
    if (inotify_add_watch(fs->fd, dir, mask) < 0) {
        gh_debug("cannot watch %s: %s (polling covers it)", dir, strerror(errno));
        return -1;
    }
#endif
    char **d = realloc(fs->dirs, (fs->n + 1) * sizeof *d);
    if (!d) return -1;
    fs->dirs = d;
    if (!(fs->dirs[fs->n] = strdup(dir))) return -1;
    fs->n++;
    return 0;
}

int gh_tail_fs_fd(const gh_tail_fs_t *fs) { return fs->fd; }

int gh_tail_fs_drain(gh_tail_fs_t *fs) {
    int bits = 0;
#ifdef __linux__
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(fs->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->mask & (IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB)) bits |= GH_TAIL_FS_DATA;
            if (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
                            IN_Q_OVERFLOW))
                bits |= GH_TAIL_FS_NAMES | GH_TAIL_FS_DATA;
            p += sizeof *ev + ev->len;
        }
    }
#else
    (void)fs;
#endif
    return bits;
}
