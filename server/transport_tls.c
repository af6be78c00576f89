/*
 * transport_tls.c: TLS behind the transport table (transport.h): OpenSSL
 * driven on the connection's non-blocking socket, as Redis's tls.c and
 * memcached's tls.c drive it, not through a bufferevent_openssl (whose own
 * buffers memcached found too costly per connection).
 *
 * The handshake is not a step of its own: the connection reads as soon as
 * it is accepted, and SSL_read, on an SSL in the accept state, does the
 * handshake first. SSL_ERROR_WANT_READ is EAGAIN; SSL_ERROR_WANT_WRITE
 * during a read is EAGAIN with read_wants_write, and WANT_READ during a
 * write is EAGAIN with write_wants_read, so that conn.c waits for the
 * readiness OpenSSL needs. Decrypted bytes a read left in OpenSSL are
 * pending(), which conn.c reads at once since epoll will not announce
 * them. shutdown() sends close_notify before the socket's FIN.
 *
 * A worker's connections run on the worker's thread only; the context
 * (tls.c) is shared, under its lock, at accept. OpenSSL 3 keeps its error
 * queue per thread, and so does this file the reason for the last failure
 * (error()), which conn.c reads right after the failed call.
 */
#include <errno.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls.h"
#include "transport.h"

/* The most one write hands SSL_write: one full record. */
#define TLS_RECORD_MAX 16384

/* Why this thread's last call failed, or "": errno says it. */
static _Thread_local char tls_why[320];

static int tls_open(transport_conn *t, evutil_socket_t fd, void *ctx)
{
    SSL *ssl = tls_context_new_ssl(ctx);
    if (ssl == NULL)
        return -1;
    if (SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return -1;
    }
    SSL_set_accept_state(ssl);
    /* A TLS 1.3 server writes its session tickets, then the first answer:
     * with Nagle's algorithm the answer would wait for the client's
     * (delayed) acknowledgement of the tickets, 40 ms. Records go out
     * whole anyway, as Redis's sockets do with TCP_NODELAY. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    t->state = ssl;
    t->handshaking = 1;
    return 0;
}

/* The reason of a failed TLS call, for the log: OpenSSL's, with the
 * certificate check's own words when a client certificate was refused, and
 * a hint where the client plainly did not speak TLS. */
static void tls_note_reason(const transport_conn *t, unsigned long e)
{
    int reason = ERR_GET_REASON(e);
    const char *text = ERR_reason_error_string(e), *step = t->handshaking ? "handshake" : "connection";
    long verify = SSL_get_verify_result(t->state);

    if (text == NULL)
        text = "error";
    if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST ||
        reason == SSL_R_PACKET_LENGTH_TOO_LONG || reason == SSL_R_UNKNOWN_PROTOCOL)
        snprintf(tls_why, sizeof(tls_why), "TLS %s failed: %s (plain text on a TLS port?)", step, text);
    else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK)
        snprintf(tls_why, sizeof(tls_why), "TLS %s failed: %s (client certificate: %s)", step, text,
                 X509_verify_cert_error_string(verify));
    else
        snprintf(tls_why, sizeof(tls_why), "TLS %s failed: %s", step, text);
}

/* Maps a failed SSL_read/SSL_write (rc, its return) to recv(2)'s terms:
 * 0 for an end of input, or -1 with errno (EAGAIN, with the readiness
 * wanted noted in t). */
static ssize_t tls_failed(transport_conn *t, int rc, int writing)
{
    SSL *ssl = t->state;
    int e = SSL_get_error(ssl, rc);
    unsigned long queued;

    tls_why[0] = '\0';
    if (t->handshaking && SSL_is_init_finished(ssl))
        t->handshaking = 0;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        if (writing)
            t->write_wants_read = 1;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        if (!writing)
            t->read_wants_write = 1;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN: /* close_notify, or an EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
        ERR_clear_error();
        return 0;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (errno == 0)
            return 0;
        return -1;
    default:
        queued = ERR_peek_last_error();
        if (queued != 0)
            tls_note_reason(t, queued);
        else
            snprintf(tls_why, sizeof(tls_why), "TLS error %d", e);
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
}

static ssize_t tls_read(transport_conn *t, void *buf, size_t len)
{
    int n;

    t->read_wants_write = 0;
    ERR_clear_error();
    errno = 0;
    n = SSL_read(t->state, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0) {
        t->handshaking = 0;
        return n;
    }
    return tls_failed(t, n, 0);
}

/* Writes what the socket takes of out, a record (at most TLS_RECORD_MAX
 * bytes made contiguous) at a time, so that pipelined answers go out in a
 * few full records and not one small record each. A retry after EAGAIN
 * offers the same first bytes again, and at least as many, as OpenSSL
 * asks: out only grows at its end meanwhile. */
static int tls_write(transport_conn *t, struct evbuffer *out)
{
    int total = 0;
    size_t left;

    t->write_wants_read = 0;
    while ((left = evbuffer_get_length(out)) > 0) {
        size_t chunk = left < TLS_RECORD_MAX ? left : TLS_RECORD_MAX;
        unsigned char *p = evbuffer_pullup(out, (ev_ssize_t)chunk);
        if (p == NULL) {
            errno = ENOMEM;
            return total > 0 ? total : -1;
        }
        ERR_clear_error();
        errno = 0;
        int n = SSL_write(t->state, p, (int)chunk);
        if (n <= 0) {
            if (total > 0 && SSL_get_error(t->state, n) == SSL_ERROR_WANT_WRITE) {
                ERR_clear_error();
                return total;
            }
            ssize_t rc = tls_failed(t, n, 1);
            if (rc == 0)
                errno = EPIPE; /* the peer closed: nothing more can be sent */
            return total > 0 && errno == EAGAIN ? total : -1;
        }
        evbuffer_drain(out, (size_t)n);
        total += n;
    }
    return total;
}

static size_t tls_pending(const transport_conn *t)
{
    int n = SSL_pending(t->state);
    return n > 0 ? (size_t)n : 0;
}

/* close_notify, then the socket's FIN. A socket too full to take the
 * alert now gets the FIN alone: the client reads every answer either way,
 * then an end of input without the alert. */
static int tls_shutdown(transport_conn *t)
{
    ERR_clear_error();
    if (!t->handshaking)
        SSL_shutdown(t->state);
    ERR_clear_error();
    return shutdown(t->fd, SHUT_WR);
}

static int tls_unacked(const transport_conn *t)
{
    int n = 0;
    return ioctl(t->fd, SIOCOUTQ, &n) == 0 ? n : -1;
}

/* What the socket holds, and what OpenSSL holds decrypted. */
static int tls_readable(const transport_conn *t)
{
    int n = 0;
    if (ioctl(t->fd, FIONREAD, &n) != 0)
        return -1;
    return n + SSL_pending(t->state);
}

static void tls_close(transport_conn *t)
{
    SSL_free(t->state); /* and its reference to the context it was made from */
    t->state = NULL;
    evutil_closesocket(t->fd);
    t->fd = -1;
}

static const char *tls_error(const transport_conn *t)
{
    (void)t;
    return tls_why[0] ? tls_why : NULL;
}

/* Only a certificate the handshake verified names anyone: with
 * --tls-auth-clients no, none is asked for. A subject with two CNs is
 * ambiguous, and one with a NUL could pass for another name: neither does. */
static int tls_peer_cn(const transport_conn *t, char *buf, size_t len)
{
    X509 *cert = SSL_get0_peer_certificate(t->state);
    if (cert == NULL || SSL_get_verify_result(t->state) != X509_V_OK)
        return -1;
    X509_NAME *subject = X509_get_subject_name(cert);
    int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (at < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, at) >= 0)
        return -1;
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at)));
    int ok = n >= 0 && (size_t)n < len && memchr(utf8, '\0', (size_t)n) == NULL;
    if (ok) {
        memcpy(buf, utf8, (size_t)n);
        buf[n] = '\0';
    }
    OPENSSL_free(utf8);
    ERR_clear_error();
    return ok ? n : -1;
}

const transport transport_tls = {
    .name = "tls",
    .open = tls_open,
    .read = tls_read,
    .write = tls_write,
    .pending = tls_pending,
    .shutdown = tls_shutdown,
    .unacked = tls_unacked,
    .readable = tls_readable,
    .close = tls_close,
    .error = tls_error,
    .peer_cn = tls_peer_cn,
};
