/*
 * tls.c: the TLS listeners' context, built from the --tls-* options and
 * rebuilt by SIGHUP (see tls.h).
 *
 * The settings are Redis's, read as its tls.c reads them: the same
 * protocol names, TLS 1.2 and 1.3 by default, no compression, no
 * renegotiation (SSL_OP_NO_RENEGOTIATION), the server's session cache under the same three options,
 * a client certificate required unless --tls-auth-clients says otherwise.
 * Where evkv differs: every file is opened first, so that a missing or
 * unreadable one is named with errno's words instead of OpenSSL's, and an
 * unexpected EOF reads as an end of input (SSL_OP_IGNORE_UNEXPECTED_EOF):
 * both protocols frame their own messages, so a TLS truncation cannot cut
 * a request short unnoticed.
 */
#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* --tls-protocols' names, as Redis's parseProtocolsConfig reads them. */
static const struct {
    const char *name;
    long no; /* the option that turns it off */
} tls_protocols[] = {
    {"TLSv1", SSL_OP_NO_TLSv1},
    {"TLSv1.1", SSL_OP_NO_TLSv1_1},
    {"TLSv1.2", SSL_OP_NO_TLSv1_2},
    {"TLSv1.3", SSL_OP_NO_TLSv1_3},
};
#define TLS_NPROTOCOLS (sizeof(tls_protocols) / sizeof(tls_protocols[0]))

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* OpenSSL's reason for the last failure on this thread ("" if none), and
 * its error queue emptied. */
static const char *ssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_error(); /* the first: the cause, before what it made fail */
    buf[0] = '\0';
    if (e != 0) {
        const char *r = ERR_reason_error_string(e);
        if (r)
            snprintf(buf, len, "%s", r);
        else
            ERR_error_string_n(e, buf, len);
    }
    ERR_clear_error();
    return buf;
}

/* The options that turn off the protocols spec does not name, or -1 with
 * err. An empty or absent spec is the default, TLS 1.2 and 1.3. */
static long protocols_parse(const char *spec, char *err, size_t errlen)
{
    char copy[256], *save = NULL;
    long off = 0;

    if (spec == NULL || spec[strspn(spec, " ")] == '\0')
        spec = "TLSv1.2 TLSv1.3";
    snprintf(copy, sizeof(copy), "%s", spec);
    for (size_t i = 0; i < TLS_NPROTOCOLS; i++)
        off |= tls_protocols[i].no;
    for (char *word = strtok_r(copy, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
        size_t i = 0;
        while (i < TLS_NPROTOCOLS && strcasecmp(word, tls_protocols[i].name) != 0)
            i++;
        if (i == TLS_NPROTOCOLS) {
            set_err(err, errlen, "--tls-protocols: unknown protocol '%s' (TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)", word);
            return -1;
        }
        off &= ~tls_protocols[i].no;
    }
    return off;
}

/* Checks that path can be opened for reading: errno's words beat
 * OpenSSL's "system lib". Returns 0, or -1 with err. */
static int readable(const char *name, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        set_err(err, errlen, "%s %s: %s", name, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

/* Passes --tls-key-file-pass to OpenSSL when it reads the key. */
static int key_password_cb(char *buf, int size, int rwflag, void *u)
{
    const char *pass = u;
    (void)rwflag;
    if (pass == NULL || strlen(pass) > (size_t)size)
        return -1;
    memcpy(buf, pass, strlen(pass));
    return (int)strlen(pass);
}

/* The files: certificate chain, key, CAs. Returns 0, or -1 with err. */
static int ctx_load_files(SSL_CTX *ctx, const tls_options *o, char *err, size_t errlen)
{
    char why[256];

    if (readable("--tls-cert-file", o->cert_file, err, errlen) != 0 ||
        readable("--tls-key-file", o->key_file, err, errlen) != 0 ||
        (o->ca_cert_file && readable("--tls-ca-cert-file", o->ca_cert_file, err, errlen) != 0))
        return -1;
    SSL_CTX_set_default_passwd_cb(ctx, key_password_cb);
    SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)o->key_file_pass);
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) <= 0) {
        set_err(err, errlen, "--tls-cert-file %s: %s", o->cert_file, ssl_reason(why, sizeof(why)));
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) <= 0) {
        ssl_reason(why, sizeof(why));
        set_err(err, errlen, "--tls-key-file %s: %s%s", o->key_file, why,
                strstr(why, "mismatch") ? " (the key is not the certificate's)" : "");
        return -1;
    }
    if ((o->ca_cert_file || o->ca_cert_dir) &&
        SSL_CTX_load_verify_locations(ctx, o->ca_cert_file, o->ca_cert_dir) <= 0) {
        set_err(err, errlen, "--tls-ca-cert-%s %s: %s", o->ca_cert_file ? "file" : "dir",
                o->ca_cert_file ? o->ca_cert_file : o->ca_cert_dir, ssl_reason(why, sizeof(why)));
        return -1;
    }
    return 0;
}

/* Protocols, ciphers, sessions, client certificates. Returns 0, or -1
 * with err. */
static int ctx_configure(SSL_CTX *ctx, const tls_options *o, long off, char *err, size_t errlen)
{
    char why[256];
    static const int verify[] = {
        [TLS_AUTH_YES] = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
        [TLS_AUTH_NO] = SSL_VERIFY_NONE,
        [TLS_AUTH_OPTIONAL] = SSL_VERIFY_PEER,
    };

    SSL_CTX_set_options(ctx, SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | (unsigned long)off | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_NO_RENEGOTIATION | SSL_OP_SINGLE_DH_USE | SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (o->prefer_server_ciphers)
        SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Partial writes: a write returns once a record is out, as write(2)
     * does; the output buffer may move between a write and its retry
     * (evbuffer_pullup); idle connections give their buffers back. */
    SSL_CTX_set_mode(ctx,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_dh_auto(ctx, 1);
    if (o->ciphers && !SSL_CTX_set_cipher_list(ctx, o->ciphers)) {
        set_err(err, errlen, "--tls-ciphers '%s': %s", o->ciphers, ssl_reason(why, sizeof(why)));
        return -1;
    }
    if (o->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, o->ciphersuites)) {
        set_err(err, errlen, "--tls-ciphersuites '%s': %s", o->ciphersuites, ssl_reason(why, sizeof(why)));
        return -1;
    }
    if (o->session_caching) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(ctx, (long)o->session_cache_size);
        SSL_CTX_set_timeout(ctx, o->session_cache_timeout);
        SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"evkv", 4);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    SSL_CTX_set_verify(ctx, verify[o->auth_clients], NULL);
    return 0;
}

/* Does now, on this thread, what OpenSSL would otherwise do at the first
 * handshakes, on whichever workers run them at once: the server's chain,
 * and each CA certificate's extensions (key identifiers, usages), which
 * OpenSSL caches in the certificate the first time a check needs them.
 * Workers then only read the shared certificates. (CAs that
 * --tls-ca-cert-dir names are read at the first handshake that needs
 * them, under OpenSSL's own locks.) */
static void ctx_warm(SSL_CTX *ctx)
{
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        if (x)
            X509_check_purpose(x, -1, 0);
    }
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    if (leaf)
        X509_check_purpose(leaf, -1, 0);
    SSL_CTX_build_cert_chain(ctx, SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR);
    ERR_clear_error();
}

SSL_CTX *tls_ctx_build(const tls_options *o, char *err, size_t errlen)
{
    SSL_CTX *ctx = NULL;
    char why[256];

    if (o->cert_file == NULL || o->key_file == NULL) {
        set_err(err, errlen, "a TLS port needs --tls-cert-file and --tls-key-file");
        return NULL;
    }
    if (o->auth_clients != TLS_AUTH_NO && o->ca_cert_file == NULL && o->ca_cert_dir == NULL) {
        set_err(err, errlen,
                "--tls-auth-clients %s needs --tls-ca-cert-file or --tls-ca-cert-dir to verify client "
                "certificates against (or --tls-auth-clients no)",
                o->auth_clients == TLS_AUTH_YES ? "yes" : "optional");
        return NULL;
    }
    if (o->auth_clients_user != TLS_USER_OFF && o->auth_clients == TLS_AUTH_NO) {
        set_err(err, errlen,
                "--tls-auth-clients-user CN needs client certificates: --tls-auth-clients yes or optional");
        return NULL;
    }
    long off = protocols_parse(o->protocols, err, errlen);
    if (off < 0)
        return NULL;
    ERR_clear_error();
    if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
        set_err(err, errlen, "TLS: %s", ssl_reason(why, sizeof(why)));
        return NULL;
    }
    if (ctx_load_files(ctx, o, err, errlen) != 0 || ctx_configure(ctx, o, off, err, errlen) != 0)
        goto fail;
    ctx_warm(ctx);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return NULL;
}

int tls_wanted(const server_options *o)
{
    return o->tls_port != NULL || o->resp_tls_port != NULL;
}

int tls_context_init(tls_context *tc, const tls_options *o, char *err, size_t errlen)
{
    memset(tc, 0, sizeof(*tc));
    if ((tc->ctx = tls_ctx_build(o, err, errlen)) == NULL)
        return -1;
    if (pthread_mutex_init(&tc->lock, NULL) != 0) {
        SSL_CTX_free(tc->ctx);
        tc->ctx = NULL;
        set_err(err, errlen, "TLS: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int tls_context_reload(tls_context *tc, const tls_options *o, char *err, size_t errlen)
{
    SSL_CTX *next = tls_ctx_build(o, err, errlen), *old;

    pthread_mutex_lock(&tc->lock);
    if (next == NULL) {
        snprintf(tc->reload_error, sizeof(tc->reload_error), "%s", err);
        pthread_mutex_unlock(&tc->lock);
        atomic_fetch_add(&tc->reload_failures, 1);
        return -1;
    }
    old = tc->ctx;
    tc->ctx = next;
    tc->reload_error[0] = '\0';
    pthread_mutex_unlock(&tc->lock);
    atomic_fetch_add(&tc->reloads, 1);
    /* Connections made from it hold their own references. */
    SSL_CTX_free(old);
    return 0;
}

SSL *tls_context_new_ssl(tls_context *tc)
{
    pthread_mutex_lock(&tc->lock);
    SSL *ssl = SSL_new(tc->ctx); /* takes a reference to the context */
    pthread_mutex_unlock(&tc->lock);
    return ssl;
}

void tls_context_reload_error(tls_context *tc, char *out, size_t outlen)
{
    pthread_mutex_lock(&tc->lock);
    snprintf(out, outlen, "%s", tc->reload_error);
    pthread_mutex_unlock(&tc->lock);
}

void tls_context_free(tls_context *tc)
{
    if (tc->ctx) {
        SSL_CTX_free(tc->ctx);
        tc->ctx = NULL;
        pthread_mutex_destroy(&tc->lock);
    }
}
