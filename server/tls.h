/*
 * tls.h: the TLS listeners' context: one OpenSSL SSL_CTX per server,
 * built from the --tls-* options (server_options.tls), shared by every
 * worker's TLS connections (transport_tls.c), and rebuilt by SIGHUP.
 *
 * The workers take the context only when they accept (tls_context_new_ssl),
 * under a lock; a connection holds its own reference to the SSL_CTX it
 * started with. So a reload swaps in a new context for new connections,
 * and the established ones go on with theirs until they close, as Redis's
 * tlsConfigure leaves them.
 */
#ifndef EVKV_TLS_H
#define EVKV_TLS_H

#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "server.h"

typedef struct tls_context {
    pthread_mutex_t lock;
    SSL_CTX *ctx;                  /* under lock: the one new connections get */
    char reload_error[512];        /* under lock: why the last reload failed, or "" */
    atomic_ullong reloads;         /* contexts rebuilt by SIGHUP */
    atomic_ullong reload_failures; /* rebuilds refused: the old context stayed */
} tls_context;

/* Builds an SSL_CTX from o (the certificate, key and CA files read now).
 * Returns it (the caller frees it with SSL_CTX_free), or NULL with err
 * naming the setting and why: a missing or unreadable file, a key that
 * does not match the certificate, a protocol or cipher OpenSSL does not
 * know. --check-config and the start call it, as a reload does. */
SSL_CTX *tls_ctx_build(const tls_options *o, char *err, size_t errlen);
/* Whether o asks for TLS at all (a --tls-port or --resp-tls-port). */
int tls_wanted(const server_options *o);
/* Sets tc up with a context built from o. Returns 0, or -1 with err. */
int tls_context_init(tls_context *tc, const tls_options *o, char *err, size_t errlen);
/* SIGHUP: builds a new context from o, re-reading every file even where
 * the paths did not change, and makes it the one new connections get.
 * Returns 0, or -1 with err: the context in use stays, and err is kept for
 * the stats. */
int tls_context_reload(tls_context *tc, const tls_options *o, char *err, size_t errlen);
/* A new server-side SSL for one connection, from the current context.
 * Safe from any thread. Returns NULL when out of memory. */
SSL *tls_context_new_ssl(tls_context *tc);
/* Copies why the last reload failed ("" if it did not) into out. */
void tls_context_reload_error(tls_context *tc, char *out, size_t outlen);
void tls_context_free(tls_context *tc);

#endif
