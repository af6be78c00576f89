/*
 * uri.c: the clients' server URIs (see uri.h).
 */
#include "uri.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "evkv_client.h" /* EVKV_DEFAULT_PORT */
#include "text.h"

void evkv_server_name(char *buf, size_t len, const char *host, const char *port, const char *unix_path)
{
    if (unix_path)
        snprintf(buf, len, "unix:%s", unix_path);
    else if (strchr(host, ':'))
        snprintf(buf, len, "[%s]:%s", host, port);
    else
        snprintf(buf, len, "%s:%s", host, port);
}

/* Whether s starts with prefix, ignoring case (URI schemes do). */
static int has_prefix_nocase(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Copies s[0..len) to out (outlen bytes), decoding %XX escapes. Returns 0,
 * or -1 with why (a bad escape, an escaped NUL, too long). */
static int uri_unescape(const char *s, size_t len, char *out, size_t outlen, const char **why)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '%') {
            int hi = i + 2 < len ? proto_hex_digit((unsigned char)s[i + 1]) : -1,
                lo = i + 2 < len ? proto_hex_digit((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                *why = "a '%' must start an escape %XX of a byte other than 0";
                return -1;
            }
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (n + 1 >= outlen) {
            *why = "too long";
            return -1;
        }
        out[n++] = ch;
    }
    out[n] = '\0';
    return 0;
}

/* evkv+unix:///PATH and the like; p is after the scheme's ':'. */
static int uri_parse_unix(const char *p, evkv_uri *uri, const char **why)
{
    if (strncmp(p, "//", 2) == 0) {
        p += 2;
        if (*p != '/') {
            *why = "a Unix socket URI names no host: write evkv+unix:///PATH (three slashes) for /PATH";
            return -1;
        }
    }
    if (*p != '/') {
        *why = "the socket path must be absolute: evkv+unix:///PATH";
        return -1;
    }
    if (strpbrk(p, "?#")) {
        *why = "a query or fragment ('?', '#') is not supported";
        return -1;
    }
    if (uri_unescape(p, strlen(p), uri->path, sizeof(uri->path), why) != 0)
        return -1;
    uri->is_unix = 1;
    return 0;
}

/* evkv://HOST[:PORT][/]; p is after "evkv://". */
static int uri_parse_tcp(const char *p, evkv_uri *uri, const char **why)
{
    const char *end = p + strcspn(p, "/?#"), *host, *host_end, *after;

    if (*end != '\0' && strcmp(end, "/") != 0) {
        *why = "nothing may follow HOST:PORT but one '/'";
        return -1;
    }
    const char *at = memchr(p, '@', (size_t)(end - p));
    if (at != NULL) {
        /* USER[:PASSWORD]@: what to log in with */
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *user_end = colon ? colon : at;
        if (uri_unescape(p, (size_t)(user_end - p), uri->user, sizeof(uri->user), why) != 0 ||
            (colon &&
             uri_unescape(colon + 1, (size_t)(at - colon - 1), uri->password, sizeof(uri->password), why) != 0))
            return -1;
        uri->has_password = colon != NULL;
        p = at + 1;
        if (memchr(p, '@', (size_t)(end - p))) {
            *why = "one '@' only: write an '@' of the user or password as %40";
            return -1;
        }
    }
    if (*p == '[') {
        host = p + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (host_end == NULL || host_end == host) {
            *why = host_end ? "no address between '[' and ']'" : "an IPv6 address needs its closing ']'";
            return -1;
        }
        if (memchr(host, ':', (size_t)(host_end - host)) == NULL) {
            *why = "brackets are for an IPv6 address: evkv://[::1]:65432, evkv://127.0.0.1:65432";
            return -1;
        }
        after = host_end + 1;
    } else {
        host = p;
        host_end = memchr(p, ':', (size_t)(end - p));
        if (host_end && memchr(host_end + 1, ':', (size_t)(end - host_end - 1))) {
            *why = "write an IPv6 address in brackets: evkv://[::1]:65432";
            return -1;
        }
        if (host_end == NULL)
            host_end = end;
        if (host_end == host) {
            *why = "no host: write evkv://HOST[:PORT]";
            return -1;
        }
        after = host_end;
    }
    if (after < end) {
        const char *port = after + 1;
        size_t len = (size_t)(end - port);
        long v = 0;
        if (*after != ':') {
            *why = "expected ':' and a port after ']'";
            return -1;
        }
        for (size_t i = 0; i < len && v <= 65535; i++)
            v = port[i] >= '0' && port[i] <= '9' ? v * 10 + (port[i] - '0') : 99999;
        if (len == 0 || len > 5 || v < 1 || v > 65535) {
            *why = "the port must be a number from 1 to 65535";
            return -1;
        }
        memcpy(uri->port, port, len);
        uri->port[len] = '\0';
    } else {
        snprintf(uri->port, sizeof(uri->port), "%s", EVKV_DEFAULT_PORT);
    }
    /* An IPv6 zone is written %25 in a URI ([fe80::1%25eth0]). */
    return uri_unescape(host, (size_t)(host_end - host), uri->host, sizeof(uri->host), why);
}

int evkv_uri_parse(const char *text, evkv_uri *uri, char *err, size_t errlen)
{
    const char *why = NULL;
    int rc;

    memset(uri, 0, sizeof(*uri));
    if (has_prefix_nocase(text, "evkv+unix:") || has_prefix_nocase(text, "unix:"))
        rc = uri_parse_unix(strchr(text, ':') + 1, uri, &why);
    else if (has_prefix_nocase(text, "evkv://"))
        rc = uri_parse_tcp(text + strlen("evkv://"), uri, &why);
    else if (has_prefix_nocase(text, "evkvs://")) {
        rc = uri_parse_tcp(text + strlen("evkvs://"), uri, &why);
        uri->is_tls = 1;
    } else {
        why = "expected evkv://HOST[:PORT], evkvs://HOST[:PORT] (TLS), evkv://[IPV6][:PORT], evkv+unix:///PATH or "
              "unix:///PATH";
        rc = -1;
    }
    if (rc != 0 && errlen > 0)
        snprintf(err, errlen, "%s", why);
    return rc;
}
