/*
 * uri.h: the server URIs of the client programs' -u option, and the name
 * messages and prompts give a server.
 *
 *   evkv://[USER[:PASSWORD]@]HOST[:PORT][/]
 *                                  TCP; HOST a name or an IPv4 address; the
 *                                  user and password to log in with (%XX
 *                                  escapes decoded; no user: "default")
 *   evkvs://[USER[:PASSWORD]@]HOST[:PORT][/]
 *                                  the same over TLS (is_tls); IPv6 too
 *   evkv://[USER[:PASSWORD]@][IPV6][:PORT][/]
 *                                  an IPv6 address, a zone written %25
 *   evkv+unix:///PATH, unix:///PATH, unix:/PATH
 *                                  the Unix domain socket PATH (absolute,
 *                                  %XX escapes decoded)
 *
 * The schemes are read in any case; the port is 65432 unless given. No
 * path, query or fragment. No I/O, no allocation: a URI is parsed
 * into a caller's evkv_uri, which holds every string it names.
 */
#ifndef EVKV_URI_H
#define EVKV_URI_H

#include <stddef.h>
#include <sys/un.h>

/* Room enough for any err evkv_uri_parse writes. */
#define EVKV_URI_ERR_LEN 128

typedef struct evkv_uri {
    int is_unix;                                            /* a Unix socket (path), else TCP (host, port) */
    int is_tls;                                             /* evkvs://: TCP over TLS */
    char host[128];                                         /* TCP: the host, brackets and escapes removed */
    char port[8];                                           /* TCP: the port, 1 to 65535, as digits */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* Unix: the socket's path */
    char user[128];                                         /* TCP: USER, or "" */
    char password[256];                                     /* TCP: PASSWORD, when has_password */
    int has_password;                                       /* ":PASSWORD" was given */
} evkv_uri;

/* Parses text into *uri (the fields of the other kind are left empty).
 * Returns 0, or -1 with the reason in err (errlen bytes; e.g. "the port
 * must be a number from 1 to 65535"), *uri then undefined. */
int evkv_uri_parse(const char *text, evkv_uri *uri, char *err, size_t errlen);

/* Writes into buf (len bytes) the server's name as messages and prompts
 * give it: "unix:PATH" when unix_path is not NULL, else "[HOST]:PORT" for
 * an IPv6 address and "HOST:PORT" for anything else. */
void evkv_server_name(char *buf, size_t len, const char *host, const char *port, const char *unix_path);

#endif
