/*
 * listen.c: the addresses a server listens on (see listen.h).
 */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/util.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

/* A failed bind or listen: bad configuration, or a failure that may pass on
 * retry (an address in use, an interface not up yet, ...). */
int listen_failure(int err)
{
    return err == EACCES || err == EPERM ? SERVER_LISTEN_CONFIG : SERVER_LISTEN_FAILED;
}

/* Whether host can only be meant as a numeric address: then a bad one is
 * refused as such, without asking a resolver that may not answer. */
static int host_is_numeric(const char *host)
{
    return strchr(host, ':') != NULL || strspn(host, "0123456789.") == strlen(host);
}

/* server_resolve, with the error naming the host setting as name. */
static int resolve(const char *name, const char *host, const char *port, struct addrinfo **res, char *err,
                   size_t errlen)
{
    struct addrinfo hints;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | (host_is_numeric(host) ? AI_NUMERICHOST : 0);
    int rc = getaddrinfo(host, port, &hints, res);
    if (rc == 0)
        return SERVER_LISTEN_OK;
    *res = NULL;
    if (host_is_numeric(host) && rc == EAI_NONAME)
        snprintf(err, errlen, "%s %s: not an IPv4 or IPv6 address of this machine", name, host);
    else
        snprintf(err, errlen, "%s %s: %s", name, host, rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    /* A resolver that did not answer, or no memory, may do better later. */
    return rc == EAI_AGAIN || rc == EAI_MEMORY || rc == EAI_SYSTEM ? SERVER_LISTEN_FAILED : SERVER_LISTEN_CONFIG;
}

int server_resolve(const char *host, const char *port, struct addrinfo **res, char *err, size_t errlen)
{
    return resolve("--host", host, port, res, err, errlen);
}

int server_unix_path_check(const char *name, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "%s %s: the path is longer than %zu bytes", name, path, sizeof(sun.sun_path) - 1);
        return -1;
    }
    return 0;
}

/* Checks one listener: a Unix socket path, or host:port (resolved, then
 * let go). Returns a SERVER_LISTEN_* code, with err. */
static int listener_check(const server_options *o, const char *port, const char *unix_path, const char *unix_name,
                          char *err, size_t errlen)
{
    struct addrinfo *res = NULL;
    if (unix_path)
        return server_unix_path_check(unix_name, unix_path, err, errlen) == 0 ? SERVER_LISTEN_OK : SERVER_LISTEN_CONFIG;
    int rc = resolve(o->names.host, o->host, port, &res, err, errlen);
    if (res)
        freeaddrinfo(res);
    return rc;
}

/* The TCP listeners asked for, with their names: two of them may not take
 * the same port. Returns how many, in ports and names. */
static int tcp_listeners(const server_options *o, const char *ports[4], const char *names[4])
{
    const listen_names *n = &o->names;
    int k = 0;
    if (o->port && !o->unix_path) {
        ports[k] = o->port;
        names[k++] = n->port;
    }
    if (o->resp_port && !o->resp_unix_path) {
        ports[k] = o->resp_port;
        names[k++] = n->resp_port;
    }
    if (o->tls_port) {
        ports[k] = o->tls_port;
        names[k++] = n->tls_port;
    }
    if (o->resp_tls_port) {
        ports[k] = o->resp_tls_port;
        names[k++] = n->resp_tls_port;
    }
    return k;
}

/* The second of two listeners would find the first in its way, as if
 * another server held the address: that is a mistake in the settings, not
 * something a retry mends. `any` ("0" here) picks a free port for each. */
static int listeners_apart(const server_options *o, char *err, size_t errlen)
{
    const char *ports[4], *names[4];
    int k = tcp_listeners(o, ports, names);

    if (o->unix_path && o->resp_unix_path && strcmp(o->unix_path, o->resp_unix_path) == 0) {
        snprintf(err, errlen, "%s %s: the same socket as %s", o->names.resp_unix_path, o->resp_unix_path,
                 o->names.unix_path);
        return SERVER_LISTEN_CONFIG;
    }
    for (int i = 0; i < k; i++) {
        long port = strtol(ports[i], NULL, 10);
        for (int j = 0; j < i; j++) {
            if (port != 0 && port == strtol(ports[j], NULL, 10)) {
                snprintf(err, errlen, "%s %s: the same port as %s", names[i], ports[i], names[j]);
                return SERVER_LISTEN_CONFIG;
            }
        }
    }
    return SERVER_LISTEN_OK;
}

int listen_check(const server_options *o, char *err, size_t errlen)
{
    const listen_names *n = &o->names;
    int main_on = o->port || o->unix_path, resp_on = o->resp_port || o->resp_unix_path;
    int tls_on = o->tls_port || o->resp_tls_port;
    int rc = SERVER_LISTEN_OK;

    /* Port 0 is no listener: with none at all, nothing could be served. */
    if (!main_on && !resp_on && !tls_on) {
        snprintf(err, errlen,
                 "%s 0 leaves no listener at all: give a port (any picks a free one), --unix, --resp-port, "
                 "--resp-unix, --tls-port or --resp-tls-port",
                 n->port);
        return SERVER_LISTEN_CONFIG;
    }
    if (main_on)
        rc = listener_check(o, o->port, o->unix_path, n->unix_path, err, errlen);
    if (rc == SERVER_LISTEN_OK && resp_on)
        rc = listener_check(o, o->resp_port, o->resp_unix_path, n->resp_unix_path, err, errlen);
    if (rc == SERVER_LISTEN_OK && tls_on)
        rc = listener_check(o, o->tls_port ? o->tls_port : o->resp_tls_port, NULL, NULL, err, errlen);
    if (rc != SERVER_LISTEN_OK)
        return rc;
    return listeners_apart(o, err, errlen);
}

int listen_port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

/* With SO_REUSEPORT, any socket of the same user can join a port that our
 * workers share, and the kernel then splits the connections between two
 * servers. So before the workers bind, one plain socket (SO_REUSEADDR
 * alone, as the listeners have it) is bound to the address and closed: if
 * anyone listens there, that fails with EADDRINUSE, as a second Redis or
 * memcached fails. Two servers started at the very same instant could
 * still both pass; one started while ours runs cannot. */
int listen_port_is_free(const struct addrinfo *ai)
{
    int one = 1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc =
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 ? bind(fd, ai->ai_addr, ai->ai_addrlen) : -1;
    int err = errno;
    close(fd);
    errno = err;
    return rc;
}

/* A socket file at sun: 1 if a server answers there, 0 if it is stale (a
 * dead server's), -1 with errno if that cannot be told. Non-blocking: a
 * server too busy to accept is still a server. */
static int unix_socket_alive(const struct sockaddr_un *sun)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
    int err = errno;
    close(fd);
    if (rc == 0 || err == EAGAIN || err == EINPROGRESS)
        return 1;
    if (err == ECONNREFUSED)
        return 0;
    errno = err;
    return -1;
}

int server_unix_socket(const char *path, int mode, int *fd_out)
{
    struct sockaddr_un sun;
    struct stat st;
    char err[PATH_MAX + 64];
    int fd;

    if (server_unix_path_check("cannot listen on", path, err, sizeof(err)) != 0) {
        log_error("%s", err);
        return SERVER_LISTEN_CONFIG;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);
    /* A socket file left by a server that died is in the way of bind();
     * one that a server still answers on is not ours to take. (Two servers
     * starting at once on one path can still race here: systemd's
     * RuntimeDirectory, one per service, keeps that from happening.) */
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        int alive = unix_socket_alive(&sun);
        if (alive != 0) {
            log_error("cannot listen on %s: %s", path,
                      alive > 0 ? "a server is already listening there" : strerror(errno));
            return alive > 0 ? SERVER_LISTEN_FAILED : listen_failure(errno);
        }
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_error("socket: %s", strerror(errno));
        return SERVER_LISTEN_FAILED;
    }
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
        int e = errno;
        log_error("cannot listen on %s: %s", path, strerror(e));
        close(fd);
        return listen_failure(e);
    }
    if ((mode >= 0 && chmod(path, (mode_t)mode) != 0) || listen(fd, 1024) != 0 ||
        evutil_make_socket_nonblocking(fd) != 0) {
        int e = errno;
        log_error("cannot listen on %s: %s", path, strerror(e));
        unlink(path);
        close(fd);
        return listen_failure(e);
    }
    *fd_out = fd;
    return SERVER_LISTEN_OK;
}

void server_format_addr(char *out, size_t outlen, const struct sockaddr *sa)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(out, outlen, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(out, outlen, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        snprintf(out, outlen, "local");
    }
}
