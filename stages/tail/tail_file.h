/* tail_file.h -- one followed file: its identity and its line reader.
 *
 * A file is identified by device, inode and a fingerprint: the xxHash of its
 * first GH_TAIL_FP_MAX bytes (or of all of it while it is shorter; the
 * fingerprint grows with the file until it covers GH_TAIL_FP_MAX bytes).
 * While ghost-tail holds a file open its inode cannot be reused, so device
 * and inode suffice live; the fingerprint is what tells, after a restart,
 * whether the inode on disk is still the file the checkpoint speaks of.
 *
 * Every identity gets a file_id that travels with its lines: a 64-bit hash of
 * (producer, device, inode, a random nonce) made when the identity is first
 * seen and kept in the checkpoint.  A copytruncate restarts the file at 0
 * under a fresh file_id (a new "generation"), so the receiver's per-file
 * high-water marks never mistake new lines for old ones.
 *
 * The reader does no policy: it reads from the last position, splits lines,
 * cuts lines longer than max_line (the rest of such a line is skipped up to
 * its newline) and hands each line with the offset just past its newline to a
 * callback.  A last line without a newline stays pending unless the caller
 * asks to flush it (the file was rotated or deleted, or --once ended).
 */
#ifndef GH_TAIL_FILE_H
#define GH_TAIL_FILE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GH_TAIL_FP_MAX 1024u

typedef struct gh_tail_file {
    char *path;          /* the path it was found under; sent as the source */
    int fd;
    uint64_t dev, ino;
    uint64_t file_id;
    uint64_t fp;         /* xxHash64 of the first fp_len bytes */
    uint32_t fp_len;
    uint64_t start;      /* offset reading of this identity began at */
    uint64_t off;        /* offset just past the last line handed out */
    uint64_t rpos;       /* offset of the next byte to read */
    char *buf;           /* pending bytes of an unfinished line (<= max_line) */
    size_t len, cap;
    int cutting;         /* pending line is over max_line: skip to its newline */
    int eof;             /* the last read reached the end of the file */
    int rotated;         /* the path no longer leads here (renamed or deleted) */
    int64_t idle_ms;     /* monotonic time the file was last seen at EOF and rotated */
} gh_tail_file_t;

/* Called for each line: bytes (no newline, possibly cut), the offset just past
 * the line in the file, and whether the line was cut. */
typedef void (*gh_tail_line_fn)(void *ud, gh_tail_file_t *f, const char *line, size_t n, uint64_t end_off,
                                int cut);

/* Opens path for reading.  When want_dev/want_ino are non-zero the open
 * fails (NULL, errno ESTALE) unless the file has that device and inode.
 * The fingerprint is computed; offsets start at 0 and file_id is 0. */
gh_tail_file_t *gh_tail_file_open(const char *path, uint64_t want_dev, uint64_t want_ino);

/* Closes the file, frees it and sets *f to NULL. */
void gh_tail_file_close(gh_tail_file_t **f);

/* Positions the reader at off (start = off = rpos) and drops pending bytes. */
void gh_tail_file_seek(gh_tail_file_t *f, uint64_t off);

/* Computes the fingerprint of fd: xxHash64 of its first min(size, limit)
 * bytes; *len receives that count.  Returns -1 on a read error. */
int gh_tail_fingerprint(int fd, uint32_t limit, uint64_t *fp, uint32_t *len);

/* Returns 1 when the file still starts with the fingerprinted bytes (and
 * extends the fingerprint if the file grew), 0 when its first bytes changed
 * (it was truncated and rewritten), -1 on error. */
int gh_tail_file_verify(gh_tail_file_t *f);

/* Returns a fresh file_id for (producer, dev, ino): never 0, different on
 * every call. */
uint64_t gh_tail_file_new_id(const char *producer, uint64_t dev, uint64_t ino);

/* Reads up to budget bytes from rpos and hands every complete line to fn.
 * When flush_partial is set and the end of the file is reached, a pending
 * last line without newline is handed out too (offset = end of file).
 * Returns the number of bytes read (0 at end of file), or -1 on error.
 * *ncut is incremented for every cut line. */
long gh_tail_file_read(gh_tail_file_t *f, size_t max_line, size_t budget, int flush_partial, gh_tail_line_fn fn,
                       void *ud, uint64_t *ncut);
#endif
