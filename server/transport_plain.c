/*
 * transport_plain.c: the plain transport: a connection's bytes go through
 * its socket as they are (see transport.h).
 *
 * A client that speaks TLS to a plain port would otherwise wait for an
 * answer its ClientHello never gets (to the guide's protocol it reads as
 * the start of a header, to RESP as an inline command without its end):
 * the first bytes read are looked at once, and a TLS record's start closes
 * the connection with a line in the log. A connection starts with the
 * table plain_first, whose read does that and hands over to
 * transport_plain: later reads cost nothing more.
 */
#include <errno.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"

static const transport plain_first;

static int plain_open(transport_conn *t, evutil_socket_t fd, void *ctx)
{
    (void)fd;
    (void)ctx;
    t->tp = &plain_first;
    return 0;
}

static ssize_t plain_read(transport_conn *t, void *buf, size_t len)
{
    return recv(t->fd, buf, len, 0);
}

/* Whether bytes start a TLS handshake record: content type 22, then a
 * version 3.x (SSL 3.0 to TLS 1.3 all say 3.0 to 3.4 there). No request
 * starts so: to the guide's protocol it would be a header 5635 bytes long
 * whose JSON starts with a control character, to RESP an inline command
 * starting with one. */
static int looks_like_tls(const unsigned char *p, ssize_t n)
{
    return n >= 3 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04;
}

/* The first read: what a connection reads before anything else. */
static ssize_t plain_first_read(transport_conn *t, void *buf, size_t len)
{
    ssize_t n = recv(t->fd, buf, len, 0);
    if (n <= 0)
        return n;
    t->tp = &transport_plain;
    if (looks_like_tls(buf, n)) {
        t->state = (void *)"a TLS handshake on a plain-text port: closed (the server's TLS ports are --tls-port "
                           "and --resp-tls-port)";
        errno = EPROTO;
        return -1;
    }
    return n;
}

static int plain_write(transport_conn *t, struct evbuffer *out)
{
    return evbuffer_write(out, t->fd);
}

static int plain_shutdown(transport_conn *t)
{
    return shutdown(t->fd, SHUT_WR);
}

/* SIOCOUTQ: for TCP, the bytes the peer has not acknowledged (the FIN
 * too); for a Unix socket, the bytes it has not read. */
static int plain_unacked(const transport_conn *t)
{
    int n = 0;
    return ioctl(t->fd, SIOCOUTQ, &n) == 0 ? n : -1;
}

static int plain_readable(const transport_conn *t)
{
    int n = 0;
    return ioctl(t->fd, FIONREAD, &n) == 0 ? n : -1;
}

static void plain_close(transport_conn *t)
{
    evutil_closesocket(t->fd);
    t->fd = -1;
}

/* t->state: NULL, or why the first read refused the connection. */
static const char *plain_error(const transport_conn *t)
{
    return t->state;
}

const transport transport_plain = {
    .name = "plain",
    .open = plain_open,
    .read = plain_read,
    .write = plain_write,
    .pending = NULL,
    .shutdown = plain_shutdown,
    .unacked = plain_unacked,
    .readable = plain_readable,
    .close = plain_close,
    .error = plain_error,
};

static const transport plain_first = {
    .name = "plain",
    .open = plain_open,
    .read = plain_first_read,
    .write = plain_write,
    .pending = NULL,
    .shutdown = plain_shutdown,
    .unacked = plain_unacked,
    .readable = plain_readable,
    .close = plain_close,
    .error = plain_error,
};
