/*
 * listen.h: the addresses a server listens on: resolving --host and a
 * port, checking that a port is free, Unix domain sockets, and writing an
 * address for the log.
 */
#ifndef EVKV_LISTEN_H
#define EVKV_LISTEN_H

#include <stddef.h>

struct addrinfo;
struct sockaddr;

/* What the listening functions return: how they failed decides the exit
 * status (bad configuration is 2, as for --check-config; 1 is for what
 * may pass on retry, such as an address in use). */
#define SERVER_LISTEN_OK     0
#define SERVER_LISTEN_FAILED (-1) /* may pass on retry */
#define SERVER_LISTEN_CONFIG (-2) /* bad configuration */

struct server_options;

/* Checks the listeners the options ask for (--host, --port, --unix, the
 * RESP listener's --resp-port, --resp-unix, and the TLS ones, --tls-port and
 * --resp-tls-port), as --check-config and the
 * start both do before anything listens: there is at least one (a port of
 * 0 is none), the host resolves, a socket path fits, no two listeners
 * take the same port or path. Returns
 * SERVER_LISTEN_OK, or a SERVER_LISTEN_* failure with err naming the
 * setting as the user gave it (o->names). */
int listen_check(const struct server_options *o, char *err, size_t errlen);
/* Resolves host and port for listening. Returns SERVER_LISTEN_OK with *res
 * (the caller frees it with freeaddrinfo), or a SERVER_LISTEN_* failure
 * with err. */
int server_resolve(const char *host, const char *port, struct addrinfo **res, char *err, size_t errlen);
/* 0 if nothing listens at ai's address (a plain bind succeeds), else -1
 * with errno. See listen.c. */
int listen_port_is_free(const struct addrinfo *ai);
/* The SERVER_LISTEN_* failure a bind or listen error err stands for. */
int listen_failure(int err);
/* Binds a Unix domain socket at path (replacing a stale one, refusing one
 * a server still answers on) and, if mode is not -1, gives it that mode.
 * Returns SERVER_LISTEN_OK with the listening socket in *fd, or a failure
 * with a message in the log. */
int server_unix_socket(const char *path, int mode, int *fd);
/* Checks that path can name a Unix domain socket. Returns 0, or -1 with
 * err, which starts with name (the setting, "--unix"). */
int server_unix_path_check(const char *name, const char *path, char *err, size_t errlen);
/* The TCP port the socket fd is bound to, or 0 (not TCP, or unknown). */
int listen_port_of(int fd);
/* Writes addr as host:port ([host]:port for IPv6). */
void server_format_addr(char *out, size_t outlen, const struct sockaddr *addr);

#endif
