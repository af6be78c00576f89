/*
 * fuzz_tls.c: a whole TLS connection, through the server's connection code
 * (server/conn.c) and its TLS transport (server/transport_tls.c) on a
 * socketpair, the client being OpenSSL on an in-memory BIO pair driven by
 * the harness.
 *
 * The stream (fuzz_common.h: fragment sizes, flags) is used in one of two
 * ways:
 *   - raw (no flag): the bytes go to the TLS port as they are, fragment by
 *     fragment: a handshake of garbage, plain text, a ClientHello cut
 *     short;
 *   - FUZZ_FLAG_RESP: the client makes a real handshake, then sends the
 *     stream as RESP requests, one TLS record per fragment, the records'
 *     bytes going out in pieces of the next fragment sizes; with
 *     FUZZ_FLAG_FRAMED as well, one byte of the ciphertext is flipped on
 *     the way (the server must drop the connection on the bad record).
 * Then the client closes (close_notify and its FIN). What the server sends
 * back must decrypt to whole, well-formed RESP2 replies; the server must
 * close the connection, and nothing may leak or touch freed memory (ASan).
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "protocol.h"
#include "tls.h"
#include "transport.h"
#include "worker.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

static server_options opt;
static server srv;
static worker wk;
static tls_context tls;
static SSL_CTX *client_ctx;

/* A self-signed EC certificate and its key, written to files for
 * tls_ctx_build, which reads files. */
static void make_certificate(const char *crt_path, const char *key_path)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FILE *f;

    if (key == NULL || x == NULL)
        fuzz_fail("cannot make a key");
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"fuzz", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    if (X509_sign(x, key, EVP_sha256()) == 0)
        fuzz_fail("cannot sign");
    if ((f = fopen(crt_path, "w")) == NULL || PEM_write_X509(f, x) != 1 || fclose(f) != 0)
        fuzz_fail("cannot write %s", crt_path);
    if ((f = fopen(key_path, "w")) == NULL || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 ||
        fclose(f) != 0)
        fuzz_fail("cannot write %s", key_path);
    X509_free(x);
    EVP_PKEY_free(key);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/evkv-fuzz-tls.XXXXXX", crt[64], key[64], err[512];
    (void)argc;
    (void)argv;

    if (mkdtemp(dir) == NULL)
        fuzz_fail("mkdtemp: %s", strerror(errno));
    snprintf(crt, sizeof(crt), "%s/server.crt", dir);
    snprintf(key, sizeof(key), "%s/server.key", dir);
    make_certificate(crt, key);
    opt.host = "fuzz";
    opt.limits.max_header = PROTO_DEFAULT_MAX_HEADER;
    opt.limits.max_content = 4096;
    opt.max_conns = 16;
    opt.max_output = 2048; /* small: backpressure over TLS is exercised */
    opt.threads = 1;
    opt.tls = (tls_options){.cert_file = crt,
                            .key_file = key,
                            .auth_clients = TLS_AUTH_NO,
                            .session_caching = 1,
                            .session_cache_size = 64,
                            .session_cache_timeout = 60};
    if (tls_context_init(&tls, &opt.tls, err, sizeof(err)) != 0)
        fuzz_fail("%s", err);
    unlink(crt);
    unlink(key);
    rmdir(dir);
    table *builtin = table_builtin();
    dataset *d = builtin ? dataset_new(builtin, "built-in", NULL, 0) : NULL;
    if (d == NULL || server_init(&srv, &opt, d, &wk, 1) != 0)
        fuzz_fail("cannot set up the server");
    srv.tls = &tls;
    if (worker_init(&wk, &srv, 0) != 0)
        fuzz_fail("cannot set up the worker");
    if ((client_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
        fuzz_fail("cannot make the client's context");
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
    return 0;
}

/* The client: OpenSSL on two memory BIOs, the socket's end, what it has
 * decrypted, and whether the server closed. */
typedef struct client {
    SSL *ssl;
    BIO *in, *out; /* in: bytes from the server; out: bytes for it */
    int fd;
    int closed;
    proto_buf replies;
    int flip; /* flip one byte of the ciphertext, this many bytes in (-1: none) */
    size_t flipped;
} client;

/* Sends n bytes of what the client's TLS wrote (all: n == 0). */
static void client_send(client *c, fuzz_input *in, int all)
{
    char buf[16384];
    int pending;
    while (!c->closed && (pending = BIO_ctrl_pending(c->out)) > 0) {
        size_t n = all ? (size_t)pending : fuzz_input_fragment(in, (size_t)pending);
        int got = BIO_read(c->out, buf, (int)(n < sizeof(buf) ? n : sizeof(buf)));
        if (got <= 0)
            return;
        if (c->flip >= 0 && c->flipped <= (size_t)c->flip && (size_t)c->flip < c->flipped + (size_t)got)
            buf[(size_t)c->flip - c->flipped] ^= 0x20;
        c->flipped += (size_t)got;
        if (send(c->fd, buf, (size_t)got, MSG_NOSIGNAL) < 0)
            c->closed = 1;
        event_base_loop(wk.base, EVLOOP_NONBLOCK);
        event_base_loop(wk.base, EVLOOP_NONBLOCK);
    }
}

/* Takes what the server sent into the client's TLS and decrypts it. */
static void client_receive(client *c)
{
    char buf[16384];
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            BIO_write(c->in, buf, (int)n);
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            c->closed = 1;
        break;
    }
    if (!SSL_is_init_finished(c->ssl))
        return;
    int n;
    while ((n = SSL_read(c->ssl, buf, sizeof(buf))) > 0)
        if (proto_buf_append(&c->replies, buf, (size_t)n) != 0)
            fuzz_fail("out of memory");
    ERR_clear_error();
}

/* The client's handshake, the loop turning between its flights. Returns
 * whether it completed. */
static int client_handshake(client *c, fuzz_input *in)
{
    for (int turn = 0; turn < 50 && !c->closed; turn++) {
        int rc = SSL_do_handshake(c->ssl);
        client_send(c, in, 1);
        if (rc == 1)
            return 1;
        if (SSL_get_error(c->ssl, rc) != SSL_ERROR_WANT_READ)
            return 0;
        event_base_loop(wk.base, EVLOOP_NONBLOCK);
        client_receive(c);
    }
    return 0;
}

/* What the server sent must read as whole, well-formed RESP2 replies. */
static void check_replies(const proto_buf *replies)
{
    size_t pos = 0, used;
    const char *why;
    int st;
    while (pos < replies->len && (st = fuzz_resp_reply(replies->data + pos, replies->len - pos, &used, &why)) != 0) {
        if (st < 0) {
            fuzz_print_bytes("the rest", replies->data + pos, replies->len - pos);
            fuzz_fail("the server sent a malformed reply: %s", why);
        }
        pos += used;
    }
    if (pos < replies->len)
        fuzz_fail("the server's last reply is cut short");
}

/* The stream as RESP requests, a record per fragment. */
static void send_requests(client *c, fuzz_input *in)
{
    size_t pos = 0;
    while (pos < in->len && !c->closed) {
        size_t n = fuzz_input_fragment(in, in->len - pos);
        if (SSL_write(c->ssl, in->stream + pos, (int)n) <= 0)
            break;
        pos += n;
        client_send(c, in, 0);
        client_receive(c);
    }
    SSL_shutdown(c->ssl);
    client_send(c, in, 1);
}

/* Raw mode: drops what the server sent (a TLS alert). Returns whether it
 * closed. */
static int raw_closed(int fd)
{
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
        continue;
    return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in;
    int sv[2];
    client c = {.flip = -1};

    fuzz_input_init(&in, data, size);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
        fuzz_fail("socketpair: %s", strerror(errno));
    struct sockaddr_storage addr = {.ss_family = AF_UNIX};
    conn_endpoint ep = wk.listeners[LISTENER_RESP_TLS].ep;
    conn_new(&wk.conns, sv[0], (struct sockaddr *)&addr, &ep);
    c.fd = sv[1];
    if (in.flags & FUZZ_FLAG_RESP) {
        c.ssl = SSL_new(client_ctx);
        c.in = BIO_new(BIO_s_mem());
        c.out = BIO_new(BIO_s_mem());
        if (c.ssl == NULL || c.in == NULL || c.out == NULL)
            fuzz_fail("out of memory");
        SSL_set_bio(c.ssl, c.in, c.out);
        SSL_set_connect_state(c.ssl);
        if (client_handshake(&c, &in)) {
            if (in.flags & FUZZ_FLAG_FRAMED)
                c.flip = (int)(c.flipped + (in.len > 0 ? in.stream[0] : 0));
            send_requests(&c, &in);
        }
    } else {
        size_t pos = 0;
        while (pos < in.len && !c.closed) {
            size_t n = fuzz_input_fragment(&in, in.len - pos);
            if (send(sv[1], in.stream + pos, n, MSG_NOSIGNAL) < 0)
                break;
            pos += n;
            event_base_loop(wk.base, EVLOOP_NONBLOCK);
        }
    }
    shutdown(sv[1], SHUT_WR);
    for (int turn = 0; turn < 1000 && !c.closed; turn++) {
        event_base_loop(wk.base, EVLOOP_NONBLOCK);
        if (c.ssl)
            client_receive(&c);
        else
            c.closed = raw_closed(sv[1]);
    }
    if (!c.closed)
        fuzz_fail("the server did not close a connection whose client had finished");
    if (c.ssl && c.flip < 0)
        check_replies(&c.replies);
    if (c.ssl)
        SSL_free(c.ssl); /* and its BIOs */
    proto_buf_free(&c.replies);
    close(sv[1]);
    for (int turn = 0; turn < 100 && wk.conns.list != NULL; turn++)
        event_base_loop(wk.base, EVLOOP_NONBLOCK);
    if (wk.conns.list != NULL)
        fuzz_fail("a connection outlived its client");
    ERR_clear_error();
    return 0;
}
