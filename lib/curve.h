/* curve.h -- CURVE encryption and authentication of tcp:// links.
 *
 * Key files are text, one "name = value" per line, keys in Z85 (40
 * characters), as `ghostctl keygen DIR [NAME]` writes them:
 *
 *   NAME.key (mode 0600)   public-key = "..."  and  secret-key = "..."
 *   NAME.pub               public-key = "..."
 *
 * A process that binds a tcp:// input with a secret key is a CURVE server:
 * every peer must connect with CURVE and knows the server's public key.  With
 * an allow directory, a ZAP handler (a thread on inproc://zeromq.zap.01 in
 * the process's ZeroMQ context) accepts only clients whose public key is in
 * one of the directory's *.pub (or *.key) files; the directory is read again
 * at each handshake, so keys can be added or removed without a restart.
 * A process that connects to a tcp:// peer with a secret key and the peer's
 * public key is a CURVE client.  ipc:// and inproc:// links stay plain (they
 * never leave the host).
 */
#ifndef GH_CURVE_H
#define GH_CURVE_H
#include <stddef.h>

#define GH_Z85_KEY_LEN 40

typedef struct {
    char pub[GH_Z85_KEY_LEN + 1], sec[GH_Z85_KEY_LEN + 1]; /* this process's keypair ("" when none) */
    char server[GH_Z85_KEY_LEN + 1];                      /* the public key of the peer we connect to */
} gh_curve_t;

typedef struct gh_zap gh_zap_t;

/* Creates DIR (0700) if needed and writes DIR/NAME.key (0600) and
 * DIR/NAME.pub.  Refuses to overwrite an existing key.  Returns 0 or -1 with
 * a reason in err. */
int gh_curve_keygen(const char *dir, const char *name, char *err, size_t errlen);

/* Reads public-key (and, when sec is not NULL, secret-key) from a key file.
 * Returns 0, or -1 with a reason in err. */
int gh_curve_read(const char *file, char pub[GH_Z85_KEY_LEN + 1], char sec[GH_Z85_KEY_LEN + 1], char *err,
                  size_t errlen);

/* Fills c from the stage options (either may be NULL or ""); a server key
 * without a secret is an error.  Returns 0 (c->sec[0] == 0: CURVE off) or -1
 * with a reason in err. */
int gh_curve_load(gh_curve_t *c, const char *secret_file, const char *server_key_file, char *err, size_t errlen);

/* 1 when the endpoint leaves the host (tcp://, pgm://, ...), where CURVE applies. */
int gh_curve_applies(const char *endpoint);

/* Makes sock a CURVE server (before bind).  Returns 0 or -1 (errno set by ZeroMQ). */
int gh_curve_server(void *sock, const gh_curve_t *c);
/* Makes sock a CURVE client of c->server (before connect).  Returns 0 or -1. */
int gh_curve_client(void *sock, const gh_curve_t *c);

/* Starts the ZAP handler in zctx that admits the CURVE clients whose public
 * key is in allow_dir.  Returns NULL (logged) on failure.  Stop it by
 * terminating the context (zmq_ctx_term), then gh_zap_join. */
gh_zap_t *gh_zap_start(void *zctx, const char *allow_dir);
void gh_zap_join(gh_zap_t **z);
unsigned long gh_zap_refused(const gh_zap_t *z); /* handshakes refused so far */
#endif
