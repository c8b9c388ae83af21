/* curve.c -- CURVE keys, sockets and the ZAP handler, see curve.h. */
#include "curve.h"
#include "log.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

struct gh_zap {
    pthread_t thread;
    void *sock;
    char *dir;
    atomic_ulong refused;
};

static int s_err(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
    if (err && errlen) snprintf(err, errlen, fmt, a, b);
    return -1;
}

static int s_write_file(const char *path, mode_t mode, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) return -1;
    size_t n = strlen(text);
    int ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    close(fd);
    return ok ? 0 : -1;
}

int gh_curve_keygen(const char *dir, const char *name, char *err, size_t errlen) {
    char pub[GH_Z85_KEY_LEN + 1], sec[GH_Z85_KEY_LEN + 1], path[4096], text[256];
    if (zmq_curve_keypair(pub, sec) != 0)
        return s_err(err, errlen, "zmq_curve_keypair: %s%s (libzmq built without CURVE?)", zmq_strerror(errno), "");
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) return s_err(err, errlen, "cannot create %s: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    snprintf(text, sizeof text, "# ghost CURVE keypair: keep secret\npublic-key = \"%s\"\nsecret-key = \"%s\"\n", pub,
             sec);
    if (s_write_file(path, 0600, text) < 0) return s_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
    snprintf(path, sizeof path, "%s/%s.pub", dir, name);
    snprintf(text, sizeof text, "# ghost CURVE public key\npublic-key = \"%s\"\n", pub);
    if (s_write_file(path, 0644, text) < 0) return s_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

/* Copies the Z85 value of "name = "value"" into out when line holds it. */
static int s_key_line(const char *line, const char *name, char out[GH_Z85_KEY_LEN + 1]) {
    while (*line == ' ' || *line == '\t') line++;
    size_t n = strlen(name);
    if (strncmp(line, name, n)) return 0;
    line += n;
    while (*line == ' ' || *line == '\t' || *line == '=') line++;
    if (*line == '"') line++;
    size_t k = 0;
    while (line[k] && line[k] != '"' && line[k] != '\n' && line[k] != ' ' && k <= GH_Z85_KEY_LEN) k++;
    if (k != GH_Z85_KEY_LEN) return 0;
    memcpy(out, line, k);
    out[k] = 0;
    return 1;
}

int gh_curve_read(const char *file, char pub[GH_Z85_KEY_LEN + 1], char sec[GH_Z85_KEY_LEN + 1], char *err,
                  size_t errlen) {
    FILE *f = fopen(file, "r");
    if (!f) return s_err(err, errlen, "cannot open %s: %s", file, strerror(errno));
    char line[512];
    int have_pub = 0, have_sec = 0;
    while (fgets(line, sizeof line, f)) {
        have_pub |= s_key_line(line, "public-key", pub);
        if (sec) have_sec |= s_key_line(line, "secret-key", sec);
    }
    fclose(f);
    if (sec && !have_sec) return s_err(err, errlen, "%s holds no secret-key%s", file, "");
    if (!have_pub && sec) { /* derive the public key from the secret one */
        if (zmq_curve_public(pub, sec) != 0) return s_err(err, errlen, "%s: bad secret-key%s", file, "");
        have_pub = 1;
    }
    if (!have_pub) return s_err(err, errlen, "%s holds no public-key%s", file, "");
    return 0;
}

int gh_curve_load(gh_curve_t *c, const char *secret_file, const char *server_key_file, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    if (secret_file && *secret_file && gh_curve_read(secret_file, c->pub, c->sec, err, errlen) < 0) return -1;
    if (server_key_file && *server_key_file) {
        if (!c->sec[0]) return s_err(err, errlen, "--curve-server-key %s needs --curve-secret too%s", server_key_file, "");
        if (gh_curve_read(server_key_file, c->server, NULL, err, errlen) < 0) return -1;
    }
    return 0;
}

int gh_curve_applies(const char *endpoint) {
    return endpoint && strncmp(endpoint, "ipc://", 6) && strncmp(endpoint, "inproc://", 9);
}

int gh_curve_server(void *sock, const gh_curve_t *c) {
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, c->sec, GH_Z85_KEY_LEN) ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "ghost", 5))
        return -1;
    return 0;
}

int gh_curve_client(void *sock, const gh_curve_t *c) {
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, c->server, GH_Z85_KEY_LEN) ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, c->pub, GH_Z85_KEY_LEN) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, c->sec, GH_Z85_KEY_LEN))
        return -1;
    return 0;
}

/* 1 when the Z85 public key is in one of dir's *.pub / *.key files. */
static int s_allowed(const char *dir, const char *z85) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n < 5 || (strcmp(e->d_name + n - 4, ".pub") && strcmp(e->d_name + n - 4, ".key"))) continue;
        char path[4096], pub[GH_Z85_KEY_LEN + 1];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!gh_curve_read(path, pub, NULL, NULL, 0) && !strcmp(pub, z85)) found = 1;
    }
    closedir(d);
    return found;
}

/* ZAP (RFC 27): request frames version, request id, domain, address,
 * identity, mechanism, credentials...; reply version, request id, status
 * code, status text, user id, metadata. */
static void *s_zap_main(void *arg) {
    gh_zap_t *z = arg;
    for (;;) {
        zmq_msg_t part[8];
        int n = 0, more = 1;
        while (more) {
            zmq_msg_t tmp;
            zmq_msg_init(&tmp);
            if (zmq_msg_recv(&tmp, z->sock, 0) < 0) {
                zmq_msg_close(&tmp);
                for (int i = 0; i < n; i++) zmq_msg_close(&part[i]);
                if (zmq_errno() == EINTR) goto next;
                goto out; /* ETERM: the context is being terminated */
            }
            more = zmq_msg_more(&tmp);
            if (n < 8) part[n++] = tmp;
            else zmq_msg_close(&tmp);
        }
        {
            const char *code = "400", *text = "unknown key";
            char key[GH_Z85_KEY_LEN + 1] = "", addr[64] = "";
            if (n >= 7 && zmq_msg_size(&part[5]) == 5 && !memcmp(zmq_msg_data(&part[5]), "CURVE", 5) &&
                zmq_msg_size(&part[6]) == 32) {
                zmq_z85_encode(key, zmq_msg_data(&part[6]), 32);
                if (s_allowed(z->dir, key)) code = "200", text = "OK";
            } else {
                text = "CURVE required";
            }
            if (n >= 4) snprintf(addr, sizeof addr, "%.*s", (int)zmq_msg_size(&part[3]), (char *)zmq_msg_data(&part[3]));
            if (*code != '2') {
                atomic_fetch_add(&z->refused, 1);
                gh_warn("refused a connection from %s: %s (public key %s)", addr, text, *key ? key : "none");
            } else {
                gh_debug("admitted %s (public key %s)", addr, key);
            }
            zmq_send(z->sock, "1.0", 3, ZMQ_SNDMORE);
            if (n >= 2) zmq_send(z->sock, zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), ZMQ_SNDMORE);
            else zmq_send(z->sock, "", 0, ZMQ_SNDMORE);
            zmq_send(z->sock, code, 3, ZMQ_SNDMORE);
            zmq_send(z->sock, text, strlen(text), ZMQ_SNDMORE);
            zmq_send(z->sock, *code == '2' ? key : "", *code == '2' ? strlen(key) : 0, ZMQ_SNDMORE);
            zmq_send(z->sock, "", 0, 0);
        }
        for (int i = 0; i < n; i++) zmq_msg_close(&part[i]);
    next:;
    }
out:
    zmq_close(z->sock);
    return NULL;
}

gh_zap_t *gh_zap_start(void *zctx, const char *allow_dir) {
    gh_zap_t *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    struct stat sb;
    if (stat(allow_dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        gh_error("--curve-allow %s: not a directory", allow_dir);
        free(z);
        return NULL;
    }
    z->dir = strdup(allow_dir);
    z->sock = zmq_socket(zctx, ZMQ_REP);
    int linger = 0;
    if (!z->sock || zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof linger) ||
        zmq_bind(z->sock, "inproc://zeromq.zap.01") != 0) {
        gh_error("cannot start the ZAP handler: %s", zmq_strerror(zmq_errno()));
        if (z->sock) zmq_close(z->sock);
        free(z->dir);
        free(z);
        return NULL;
    }
    sigset_t block, old; /* signals belong to the main thread */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&z->thread, NULL, s_zap_main, z);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        zmq_close(z->sock);
        free(z->dir);
        free(z);
        return NULL;
    }
    return z;
}

void gh_zap_join(gh_zap_t **zp) {
    gh_zap_t *z = *zp;
    if (!z) return;
    pthread_join(z->thread, NULL);
    free(z->dir);
    free(z);
    *zp = NULL;
}

unsigned long gh_zap_refused(const gh_zap_t *z) { return z ? atomic_load(&((gh_zap_t *)z)->refused) : 0; }
