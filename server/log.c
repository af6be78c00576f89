/*
 * log.c: the server's log (see log.h).
 */
#define _GNU_SOURCE /* dup3 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

atomic_int log_current_level = LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
/* syslog priorities, for journald's "<N>" line prefix */
static const int level_priorities[] = {3, 4, 6, 7};

/* The log file: its descriptor (-1: stderr) and name, for log_reopen. The
 * descriptor number never changes once set, and is not closed while the
 * server runs: a reopen dup3()s the new file onto it, a move back to
 * stderr dup3()s stderr onto it (and keeps it for the next log file), so a
 * thread that read log_fd just before writes to one or the other, never
 * to a closed descriptor, nor to one reused meanwhile for a client. A
 * thread loads log_fd with acquire, which orders its write after the
 * open() that made the descriptor. */
static atomic_int log_fd = -1;
static int log_spare_fd = -1; /* under log_lock: the old number, on stderr */
static char *log_path;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int journal; /* stderr is journald's */
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;

int log_level_parse(const char *s, log_level *out)
{
    for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(log_level level)
{
    return level >= LOG_ERROR && level <= LOG_DEBUG ? level_names[level] : "?";
}

void log_set_level(log_level level)
{
    atomic_store_explicit(&log_current_level, (int)level, memory_order_relaxed);
}

/* systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected
 * stdout/stderr to; the variable may be inherited by a child whose stderr
 * went elsewhere, hence the comparison. */
static void check_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0)
        journal = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* O_NONBLOCK: opening a FIFO for writing waits for a reader, which may
 * never come, and the opener is the main thread (at start, in
 * --check-config, on a reload). Without a reader the open fails at once
 * (ENXIO). The flag stays on the descriptor: a FIFO or terminal that cannot
 * take a line at once loses that line rather than stall the thread writing
 * it (a line, under PIPE_BUF, is written whole or not at all). On a regular
 * file the flag changes nothing. */
static int open_log(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0640);
    if (fd < 0)
        snprintf(err, errlen, "cannot open log file %s: %s", path,
                 errno == ENXIO ? "no process reads the FIFO" : strerror(errno));
    return fd;
}

int log_file_check(const char *path, char *err, size_t errlen)
{
    int fd = open_log(path, err, errlen);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

int log_set_file(const char *path, char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&log_lock);
    if (path == NULL) {
        int fd = log_fd;
        if (fd >= 0) {
            dup3(STDERR_FILENO, fd, O_CLOEXEC);
            log_fd = -1;
            log_spare_fd = fd;
        }
        free(log_path);
        log_path = NULL;
    } else {
        char *copy = strdup(path);
        int fd = copy ? open_log(path, err, errlen) : -1;
        if (copy == NULL)
            snprintf(err, errlen, "out of memory");
        if (fd < 0) {
            free(copy);
            rc = -1;
        } else if (log_fd >= 0) {
            dup3(fd, log_fd, O_CLOEXEC);
            close(fd);
        } else if (log_spare_fd >= 0) {
            dup3(fd, log_spare_fd, O_CLOEXEC);
            close(fd);
            log_fd = log_spare_fd;
            log_spare_fd = -1;
        } else {
            log_fd = fd;
        }
        if (rc == 0) {
            free(log_path);
            log_path = copy;
        }
    }
    pthread_mutex_unlock(&log_lock);
    return rc;
}

int log_reopen(char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&log_lock);
    if (log_path != NULL) {
        int fd = open_log(log_path, err, errlen);
        if (fd < 0) {
            rc = -1;
        } else {
            dup3(fd, log_fd, O_CLOEXEC);
            close(fd);
        }
    }
    pthread_mutex_unlock(&log_lock);
    return rc;
}

void log_write(log_level level, const char *fmt, ...)
{
    char line[LOG_LINE_MAX + 96];
    size_t n = 0, room = LOG_LINE_MAX;
    int fd = atomic_load_explicit(&log_fd, memory_order_acquire), to_file = fd >= 0;
    va_list ap;

    if (!log_enabled(level))
        return;
    pthread_once(&journal_once, check_journal);
    if (journal && !to_file) {
        n += (size_t)snprintf(line, sizeof(line), "<%d>", level_priorities[level]);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n += strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ ", ts.tv_nsec / 1000000);
    }
    n += (size_t)snprintf(line + n, sizeof(line) - n, "evkv-server: ");
    if (level <= LOG_WARN)
        n += (size_t)snprintf(line + n, sizeof(line) - n, "%s: ", level_names[level]);
    room += n;
    va_start(ap, fmt);
    int w = vsnprintf(line + n, room - n, fmt, ap);
    va_end(ap);
    if (w < 0)
        w = 0;
    if ((size_t)w >= room - n) {
        n = room - 4;
        memcpy(line + n, "...", 3);
        n += 3;
    } else {
        n += (size_t)w;
    }
    line[n++] = '\n';
    ssize_t rc = write(to_file ? fd : STDERR_FILENO, line, n);
    (void)rc;
}

void log_escape(char *out, size_t outlen, const char *s, size_t len, size_t max)
{
    size_t o = 0, i;
    if (outlen == 0)
        return;
    for (i = 0; i < len && i < max && o + 5 < outlen; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '\'')
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", ch);
    }
    if (i < len && o + 4 < outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}
