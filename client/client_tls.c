/*
 * client_tls.c: the clients' TLS (see evkv_client.h): the process's one
 * client SSL_CTX, made from --tls's options, and each connection's
 * handshake, reads and writes on its non-blocking socket, for evkv-cli's
 * connections (evkv_client.c) and evkv-bench's (bench_conn.c).
 *
 * As redis-cli: --cacert/--cacertdir (else the system's CAs), --cert and
 * --key for a server that asks for a client certificate, --sni, --insecure.
 * Beyond redis-cli, the server's name is checked too (the --sni name, else
 * the host given, an IP address against the certificate's IP entries),
 * unless --insecure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "evkv_client.h"

static SSL_CTX *tls_ctx;
static int tls_insecure;
static char tls_sni[256];

/* OpenSSL's first reason on this thread's error queue (the cause), which
 * it then empties. */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, len, "%s", r ? r : e ? "error" : "the connection ended");
    ERR_clear_error();
    return buf;
}

const char *evkv_tls_config_set(evkv_tls_config *t, int i, const char *arg)
{
    static const char *const names[EVKV_TLS_OPTIONS] = {"--cacert", "--cacertdir", "--cert",
                                                        "--key",    "--sni",       "--insecure"};
    const char **fields[EVKV_TLS_OPTIONS] = {&t->cacert, &t->cacertdir, &t->cert, &t->key, &t->sni, NULL};

    if (fields[i] != NULL)
        *fields[i] = arg;
    else
        t->insecure = 1;
    return names[i];
}

int evkv_client_tls_setup(const evkv_tls_config *cfg, char *err, size_t errlen)
{
    char why[200];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL) {
        snprintf(err, errlen, "TLS: %s", ssl_reason(why, sizeof(why)));
        return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_verify(ctx, cfg->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    if (cfg->cacert || cfg->cacertdir) {
        if (SSL_CTX_load_verify_locations(ctx, cfg->cacert, cfg->cacertdir) != 1) {
            snprintf(err, errlen, "--cacert%s %s: %s", cfg->cacert ? "" : "dir",
                     cfg->cacert ? cfg->cacert : cfg->cacertdir, ssl_reason(why, sizeof(why)));
            goto fail;
        }
    } else {
        SSL_CTX_set_default_verify_paths(ctx);
    }
    if (cfg->cert && SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
        snprintf(err, errlen, "--cert %s: %s", cfg->cert, ssl_reason(why, sizeof(why)));
        goto fail;
    }
    if (cfg->key && SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) != 1) {
        snprintf(err, errlen, "--key %s: %s", cfg->key, ssl_reason(why, sizeof(why)));
        goto fail;
    }
    SSL_CTX_free(tls_ctx);
    tls_ctx = ctx;
    tls_insecure = cfg->insecure;
    snprintf(tls_sni, sizeof(tls_sni), "%s", cfg->sni ? cfg->sni : "");
    return 0;
fail:
    SSL_CTX_free(ctx);
    return -1;
}

void evkv_client_tls_cleanup(void)
{
    SSL_CTX_free(tls_ctx);
    tls_ctx = NULL;
}

int evkv_tls_enabled(void)
{
    return tls_ctx != NULL;
}

/* The name sent and checked: --sni's, else host's (an IP address is only
 * checked, never sent: SNI names hosts). Returns 0, or -1. */
static int tls_set_names(SSL *ssl, const char *host)
{
    const char *name = tls_sni[0] ? tls_sni : host;
    unsigned char addr[sizeof(struct in6_addr)];
    int is_ip = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;

    if (!is_ip && SSL_set_tlsext_host_name(ssl, name) != 1)
        return -1;
    if (tls_insecure)
        return 0;
    if (is_ip)
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -1;
    return SSL_set1_host(ssl, name) == 1 ? 0 : -1;
}

void *evkv_tls_new(int fd, const char *host, char *err, size_t errlen)
{
    char why[200];
    SSL *ssl = SSL_new(tls_ctx);

    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || tls_set_names(ssl, host) != 0) {
        snprintf(err, errlen, "TLS: %s", ssl_reason(why, sizeof(why)));
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_connect_state(ssl);
    return ssl;
}

/* Why a failed handshake failed: the certificate check's own words when
 * that was it. */
static void tls_handshake_error(SSL *ssl, char *err, size_t errlen)
{
    char why[200];
    long verify = SSL_get_verify_result(ssl);
    ssl_reason(why, sizeof(why));
    if (verify != X509_V_OK)
        snprintf(err, errlen, "TLS handshake failed: %.100s (server certificate: %.80s)", why,
                 X509_verify_cert_error_string(verify));
    else
        snprintf(err, errlen, "TLS handshake failed: %.180s", why);
}

int evkv_tls_handshake(void *tls, char *err, size_t errlen)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(tls);
    if (rc == 1)
        return 0;
    switch (SSL_get_error(tls, rc)) {
    case SSL_ERROR_WANT_READ: return POLLIN;
    case SSL_ERROR_WANT_WRITE: return POLLOUT;
    default: tls_handshake_error(tls, err, errlen); return -1;
    }
}

/* A failed SSL_read or SSL_write, in recv(2)'s terms: 0 for the end, or
 * -1 with errno (EAGAIN: *want says for what, when it is not the call's
 * own direction `same`; EPROTO: err). */
static long tls_failed(SSL *ssl, int rc, short same, short *want, char *err, size_t errlen)
{
    char why[200];
    switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        *want = same == POLLIN ? 0 : POLLIN;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        *want = same == POLLOUT ? 0 : POLLOUT;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN: ERR_clear_error(); return 0;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (errno == 0)
            return 0;
        return -1;
    default:
        snprintf(err, errlen, "TLS: %.180s", ssl_reason(why, sizeof(why)));
        errno = EPROTO;
        return -1;
    }
}

long evkv_tls_read(void *tls, void *buf, size_t len, short *want, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    *want = 0;
    int n = SSL_read(tls, buf, len > 1 << 30 ? 1 << 30 : (int)len);
    return n > 0 ? n : tls_failed(tls, n, POLLIN, want, err, errlen);
}

long evkv_tls_write(void *tls, const void *buf, size_t len, short *want, char *err, size_t errlen)
{
    ERR_clear_error();
    errno = 0;
    *want = 0;
    int n = SSL_write(tls, buf, len > 1 << 30 ? 1 << 30 : (int)len);
    return n > 0 ? n : tls_failed(tls, n, POLLOUT, want, err, errlen);
}

size_t evkv_tls_pending(void *tls)
{
    int n = SSL_pending(tls);
    return n > 0 ? (size_t)n : 0;
}

void evkv_tls_free(void *tls)
{
    ERR_clear_error();
    SSL_shutdown(tls); /* close_notify, if the socket takes it now */
    ERR_clear_error();
    SSL_free(tls);
}
