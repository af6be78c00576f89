/*
 * notify.c: systemd's readiness protocol (sd_notify(3)) without libsystemd.
 *
 * systemd passes a Unix datagram socket's address in NOTIFY_SOCKET: a path,
 * or with a leading '@' a name in the abstract namespace. Each state change
 * is one datagram of "KEY=VALUE" lines.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

void systemd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sun;
    char msg[4096];
    size_t n;

    if (path == NULL || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sun.sun_path))
        return;
    if (strncmp(state, "RELOADING=1", 11) == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        snprintf(msg, sizeof(msg), "%s\nMONOTONIC_USEC=%llu", state,
                 (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    } else {
        snprintf(msg, sizeof(msg), "%s", state);
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    n = strlen(path);
    memcpy(sun.sun_path, path, n);
    if (path[0] == '@')
        sun.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
        log_warn("cannot notify systemd at %s: %s", path, strerror(errno));
    close(fd);
}
