/*
 * log.h: evkv-server's log: levels, stderr or a file, one line per call.
 *
 * A line is "evkv-server: [LEVEL: ]message", the level named for warnings
 * and errors. On stderr it is preceded by an ISO-8601 UTC timestamp, except
 * when stderr is journald's (systemd's JOURNAL_STREAM names it): there the
 * line starts with a syslog priority "<N>" instead, and journald adds the
 * time itself. A --log-file always gets timestamps, is opened for append
 * without blocking (a FIFO with no reader is an error, and a line a full
 * FIFO cannot take is dropped) and is reopened by log_reopen() (on SIGHUP,
 * after logrotate moved it).
 *
 * Every line is written with one write(2), so lines from several threads
 * never interleave. Client bytes must go through log_escape() first.
 */
#ifndef EVKV_LOG_H
#define EVKV_LOG_H

#include <stdatomic.h>
#include <stddef.h>

typedef enum log_level {
    LOG_ERROR = 0,
    LOG_WARN,
    LOG_INFO,
    LOG_DEBUG,
} log_level;

extern atomic_int log_current_level;

/* Parses "error", "warn", "info" or "debug". Returns 0 or -1. */
int log_level_parse(const char *s, log_level *out);
const char *log_level_name(log_level level);

/* Sets the level; lines above it are dropped. */
void log_set_level(log_level level);
/* Sends the log to path (opened for append, created 0640), or back to
 * stderr when path is NULL. Returns 0, or -1 with the reason in err (the
 * log stays where it was). */
int log_set_file(const char *path, char *err, size_t errlen);
/* Opens path as log_set_file would, and closes it: whether it can be the
 * log file (--check-config). Returns 0, or -1 with the reason in err. */
int log_file_check(const char *path, char *err, size_t errlen);
/* Reopens the log file under its name. Returns 0, or -1 with err. */
int log_reopen(char *err, size_t errlen);

#define log_enabled(level) ((int)(level) <= atomic_load_explicit(&log_current_level, memory_order_relaxed))
#define log_error(...)     log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)      log_write(LOG_WARN, __VA_ARGS__)
#define log_info(...)      log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                                                 \
    do {                                                                                                               \
        if (log_enabled(LOG_DEBUG))                                                                                    \
            log_write(LOG_DEBUG, __VA_ARGS__);                                                                         \
    } while (0)

/* Writes one line (no newline in fmt) if level is enabled. Lines longer
 * than LOG_LINE_MAX are cut, ending in "...". */
#define LOG_LINE_MAX 2048
void log_write(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes at most max bytes of client data to out as printable ASCII,
 * other bytes (and \ and ') as \xNN, with "..." when cut: a log line
 * stays one short line whatever a client sends. */
void log_escape(char *out, size_t outlen, const char *s, size_t len, size_t max);

#endif
