/*
 * transport_plain.c: the plain transport: a connection's bytes go through
 * its socket as they are (see transport.h).
 */
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"

static int plain_open(transport_conn *t, evutil_socket_t fd, void *ctx)
{
    (void)t;
    (void)fd;
    (void)ctx;
    return 0;
}

static ssize_t plain_read(transport_conn *t, void *buf, size_t len)
{
    return recv(t->fd, buf, len, 0);
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
};
