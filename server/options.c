/*
 * options.c: evkv-server's options, from the config file and the command
 * line (see options.h).
 */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef EVKV_VERSION
#define EVKV_VERSION "0.0.0"
#endif

/* The longest config file line. */
#define CONFIG_LINE_MAX 4096

void options_usage(FILE *out)
{
    fprintf(out,
            "Usage: evkv-server [OPTIONS] [HOST PORT]\n"
            "Answers key lookups over the evkv protocol (the header + JSON protocol of the\n"
            "\"Socket Programming in Python\" guide's app-server), keeping connections open.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE        read options from FILE first: one `option value` per\n"
            "                           line, named as the long options below; flags given\n"
            "                           on the command line override it\n"
            "      --check-config       check the options, the config file, the log file and\n"
            "                           the data file, then exit: 0 if the server would\n"
            "                           start, 2 if not\n"
            "  -H, --host HOST          address to listen on (default 127.0.0.1; ::1 for IPv6)\n"
            "  -p, --port PORT          TCP port (default 65432; 0 picks a free one, shown\n"
            "                           in the start line)\n"
            "      --unix PATH          listen on a Unix domain socket at PATH instead of TCP\n"
            "      --unix-mode MODE     the socket file's permissions, in octal (default:\n"
            "                           as the umask leaves them; 0666 lets every user in);\n"
            "                           also --resp-unix's\n"
            "      --resp-port PORT     also answer Redis clients (RESP2) on this TCP port of\n"
            "                           --host, from the same table, as a read-only Redis\n"
            "                           replica would (none by default, nor with 0; `any`\n"
            "                           picks a free port, shown in the log)\n"
            "      --resp-unix PATH     answer Redis clients on a Unix domain socket at PATH\n"
            "                           instead of a TCP port\n"
            "  -d, --data FILE          serve the table in FILE instead of the built-in one:\n"
            "                           a JSON object (key -> any JSON value) or TSV lines\n"
            "                           key<TAB>value\n"
            "  -f, --format json|tsv    how to read FILE (default: from its extension,\n"
            "                           .json or .tsv/.tab)\n"
            "      --shard NAME         serve only the keys of --data that twemproxy\n"
            "                           (nutcracker) sends to its server named NAME (the\n"
            "                           name in \"host:port:weight NAME\", or host:port)\n"
            "      --shard-config FILE  the nutcracker YAML config the proxies use, with\n"
            "                           the pool's hash, hash_tag, distribution and servers;\n"
            "                           refused where `nutcracker -t` would refuse it\n"
            "      --shard-pool POOL    the pool of FILE (default: its only one)\n"
            "  -e, --echo               raw echo mode: send back whatever arrives\n"
            "      --max-header BYTES   largest JSON header accepted (default %d, at most 65535)\n"
            "      --max-content BYTES  largest content accepted (default %d); for Redis\n"
            "                           clients, the largest argument, and with 4 KiB\n"
            "                           more the largest request and MULTI queue\n"
            "      --max-conns N        connections served at once; past it a new one gets\n"
            "                           an error answer and is closed (default: the open\n"
            "                           file limit, raised to its hard limit, less %d)\n"
            "      --max-output BYTES   unsent answers at which a connection stops being\n"
            "                           read, until they fall below half (default %d)\n"
            "      --idle-timeout SECS  close a connection idle this long, or not reading\n"
            "                           its answers (default %d; 0: never)\n"
            "      --message-timeout SECS  close a connection whose message is not complete\n"
            "                           this long after its first byte (default %d; 0: never)\n"
            "  -t, --threads N          worker threads, each with its own event loop and\n"
            "                           listener on the port (default: one per core)\n"
            "      --log-level LEVEL    error, warn, info (the default) or debug (every\n"
            "                           connection and request)\n"
            "      --log-file FILE      log to FILE, with timestamps, instead of stderr;\n"
            "                           reopened on SIGHUP\n"
            "  -v, --verbose            the same as --log-level debug\n"
            "  -h, --help               show this help and exit\n"
            "  -V, --version            show the version and exit\n"
            "\n"
            "HOST PORT given as two arguments work as --host HOST --port PORT, as with the\n"
            "guide's app-server.py.\n"
            "\n"
            "Signals: SIGINT or SIGTERM stops accepting, answers the requests already\n"
            "received, then exits; a second one exits at once. SIGHUP reloads: it reads\n"
            "the config file again, loads the data file into a new table and swaps it in\n"
            "between two requests (if anything fails, the old table stays and the log says\n"
            "why), and reopens the log file. Under systemd (NOTIFY_SOCKET), the server\n"
            "tells it READY=1 once it listens, and RELOADING=1 / READY=1 around a reload.\n"
            "\n"
            "Exit status:\n"
            "  0  stopped by SIGINT/SIGTERM after sending the answers in flight, or\n"
            "     --check-config found nothing wrong\n"
            "  1  could not listen for a reason that may pass (address already in use, an\n"
            "     address not up yet, ...), or a second signal forced the stop\n"
            "  2  bad usage or config file, a bad address (--host, a --unix or --resp-unix\n"
            "     path too long, --resp-port on --port's port or --resp-unix on --unix's\n"
            "     path, a port not allowed) or a data file that could not be loaded: the\n"
            "     same as --check-config reports; nothing was served\n",
            PROTO_DEFAULT_MAX_HEADER, PROTO_DEFAULT_MAX_CONTENT, SERVER_FD_RESERVE, SERVER_DEFAULT_MAX_OUTPUT,
            SERVER_DEFAULT_IDLE_TIMEOUT, SERVER_DEFAULT_MESSAGE_TIMEOUT);
}

enum {
    OPT_MAX_HEADER = 256,
    OPT_MAX_CONTENT,
    OPT_MAX_CONNS,
    OPT_MAX_OUTPUT,
    OPT_IDLE_TIMEOUT,
    OPT_MESSAGE_TIMEOUT,
    OPT_UNIX,
    OPT_UNIX_MODE,
    OPT_RESP_PORT,
    OPT_RESP_UNIX,
    OPT_LOG_LEVEL,
    OPT_LOG_FILE,
    OPT_CHECK_CONFIG,
    OPT_SHARD,
    OPT_SHARD_CONFIG,
    OPT_SHARD_POOL,
};

/* The leading ':' makes getopt tell a missing value (':') from an unknown option ('?'). */
static const char shortopts[] = ":c:H:p:d:f:et:vhV";
static const struct option longopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"unix", required_argument, NULL, OPT_UNIX},
    {"unix-mode", required_argument, NULL, OPT_UNIX_MODE},
    {"resp-port", required_argument, NULL, OPT_RESP_PORT},
    {"resp-unix", required_argument, NULL, OPT_RESP_UNIX},
    {"data", required_argument, NULL, 'd'},
    {"format", required_argument, NULL, 'f'},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"shard-config", required_argument, NULL, OPT_SHARD_CONFIG},
    {"shard-pool", required_argument, NULL, OPT_SHARD_POOL},
    {"echo", no_argument, NULL, 'e'},
    {"max-header", required_argument, NULL, OPT_MAX_HEADER},
    {"max-content", required_argument, NULL, OPT_MAX_CONTENT},
    {"max-conns", required_argument, NULL, OPT_MAX_CONNS},
    {"max-output", required_argument, NULL, OPT_MAX_OUTPUT},
    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
    {"message-timeout", required_argument, NULL, OPT_MESSAGE_TIMEOUT},
    {"threads", required_argument, NULL, 't'},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Parses a count in [min, max]. Returns 0 or -1. */
static int parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
        return -1;
    *out = (size_t)v;
    return 0;
}

/* Keeps a copy of s for as long as cfg lives. */
static const char *keep(server_config *cfg, const char *s)
{
    char *copy = strdup(s);
    char **grown = copy ? realloc(cfg->strings, (cfg->nstrings + 1) * sizeof(*grown)) : NULL;
    if (grown == NULL) {
        free(copy);
        return NULL;
    }
    cfg->strings = grown;
    cfg->strings[cfg->nstrings++] = copy;
    return copy;
}

/* The listener settings: where each was set goes with it, so that an error
 * found when the listeners are checked together (listen_check) names it as
 * the user wrote it. */
static const char **listen_name_slot(server_options *o, int code)
{
    switch (code) {
    case 'H': return &o->names.host;
    case 'p': return &o->names.port;
    case OPT_UNIX: return &o->names.unix_path;
    case OPT_RESP_PORT: return &o->names.resp_port;
    case OPT_RESP_UNIX: return &o->names.resp_unix_path;
    default: return NULL;
    }
}

/* Sets option `code` to value on o. `name` is how the error names the
 * option ("--port", or "FILE:LINE: port"). Returns 0, or -1 with err. */
static int apply(server_config *cfg, int code, const char *value, const char *name, char *err, size_t errlen)
{
    server_options *o = &cfg->opt;
    const char **slot = listen_name_slot(o, code);
    size_t n;

    if (slot && (*slot = keep(cfg, name)) == NULL) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    switch (code) {
    case 'c': cfg->config_path = value; break;
    case OPT_CHECK_CONFIG: cfg->check_config = 1; break;
    case 'H': o->host = value; break;
    case 'p':
        if (parse_size(value, 0, 65535, &n) != 0) {
            set_err(err, errlen, "%s must be a number from 0 to 65535, not '%s'", name, value);
            return -1;
        }
        o->port = value;
        break;
    case OPT_UNIX:
        if (value[0] == '\0') {
            set_err(err, errlen, "%s needs a path", name);
            return -1;
        }
        o->unix_path = value;
        break;
    case OPT_RESP_PORT:
        if (strcmp(value, "any") == 0) {
            o->resp_port = "0";
        } else if (parse_size(value, 0, 65535, &n) != 0) {
            set_err(err, errlen, "%s must be a number from 0 to 65535 or any, not '%s'", name, value);
            return -1;
        } else {
            o->resp_port = n == 0 ? NULL : value;
        }
        break;
    case OPT_RESP_UNIX:
        if (value[0] == '\0') {
            set_err(err, errlen, "%s needs a path", name);
            return -1;
        }
        o->resp_unix_path = value;
        break;
    case OPT_UNIX_MODE: {
        char *end;
        errno = 0;
        long mode = strtol(value, &end, 8);
        if (errno || end == value || *end != '\0' || mode < 0 || mode > 0777) {
            set_err(err, errlen, "%s must be an octal mode from 0 to 0777, not '%s'", name, value);
            return -1;
        }
        o->unix_mode = (int)mode;
        break;
    }
    case 'd': o->data = value; break;
    case 'f':
        if (datafile_format_parse(value, &o->format) != 0) {
            set_err(err, errlen, "%s must be json or tsv, not '%s'", name, value);
            return -1;
        }
        break;
    case OPT_SHARD:
    case OPT_SHARD_CONFIG:
    case OPT_SHARD_POOL:
        if (value[0] == '\0') {
            set_err(err, errlen, "%s needs a value", name);
            return -1;
        }
        *(code == OPT_SHARD ? &o->shard_name : code == OPT_SHARD_CONFIG ? &o->shard_config : &o->shard_pool) = value;
        break;
    case 'e': o->echo = 1; break;
    case OPT_MAX_HEADER:
        if (parse_size(value, 16, 65535, &o->limits.max_header) != 0) {
            set_err(err, errlen, "%s must be a byte count from 16 to 65535", name);
            return -1;
        }
        break;
    case OPT_MAX_CONTENT:
        if (parse_size(value, 0, (size_t)1 << 40, &o->limits.max_content) != 0) {
            set_err(err, errlen, "%s must be a byte count", name);
            return -1;
        }
        break;
    case OPT_MAX_CONNS:
        if (parse_size(value, 1, (size_t)1 << 30, &o->max_conns) != 0) {
            set_err(err, errlen, "%s must be a count above 0", name);
            return -1;
        }
        break;
    case OPT_MAX_OUTPUT:
        if (parse_size(value, 1, (size_t)1 << 40, &o->max_output) != 0) {
            set_err(err, errlen, "%s must be a byte count above 0", name);
            return -1;
        }
        break;
    case OPT_IDLE_TIMEOUT:
    case OPT_MESSAGE_TIMEOUT:
        if (parse_size(value, 0, 1000000000, &n) != 0) {
            set_err(err, errlen, "%s must be whole seconds (0: never)", name);
            return -1;
        }
        *(code == OPT_IDLE_TIMEOUT ? &o->idle_timeout : &o->message_timeout) = (long)n;
        break;
    case 't':
        if (parse_size(value, 1, 256, &n) != 0) {
            set_err(err, errlen, "%s must be 1 to 256", name);
            return -1;
        }
        o->threads = (int)n;
        break;
    case OPT_LOG_LEVEL:
        if (log_level_parse(value, &o->log_level) != 0) {
            set_err(err, errlen, "%s must be error, warn, info or debug, not '%s'", name, value);
            return -1;
        }
        break;
    case OPT_LOG_FILE:
        if (value[0] == '\0') {
            set_err(err, errlen, "%s needs a path", name);
            return -1;
        }
        o->log_file = value;
        break;
    case 'v': o->log_level = LOG_DEBUG; break;
    default: set_err(err, errlen, "%s: unknown option", name); return -1;
    }
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Opens the config file for reading. It must be a regular file: anything
 * else could block the reader (a FIFO waits for a writer when opened, and
 * then for its data), and the reader is the main thread on a reload, which
 * must go on answering signals. Opened with O_NONBLOCK so that even the
 * open of a FIFO returns at once. Returns the stream, or NULL with err. */
static FILE *open_config(const char *path, char *err, size_t errlen)
{
    struct stat st;
    FILE *f = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0) {
        set_err(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        set_err(err, errlen, "cannot read config file %s: not a regular file (%s)", path,
                S_ISFIFO(st.st_mode)  ? "a FIFO"
                : S_ISDIR(st.st_mode) ? "a directory"
                                      : "a device or socket");
    } else if ((f = fdopen(fd, "r")) == NULL) {
        set_err(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
    }
    if (f == NULL && fd >= 0)
        close(fd);
    return f;
}

/* Reads the config file at path into cfg. Returns 0, or -1 with err. */
static int read_config(server_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = open_config(path, err, errlen);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = 0;

    if (f == NULL)
        return -1;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        char where[PATH_MAX + 128], *name, *value, *hash;
        const struct option *opt;

        lineno++;
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        if (len > CONFIG_LINE_MAX) {
            set_err(err, errlen, "%s: line longer than %d bytes", where, CONFIG_LINE_MAX);
            rc = -1;
            break;
        }
        if (memchr(line, '\0', (size_t)len) != NULL) {
            set_err(err, errlen, "%s: a NUL byte: not a text file?", where);
            rc = -1;
            break;
        }
        /* A # at the start of a line, or after a blank, starts a comment. */
        for (hash = strchr(line, '#'); hash; hash = strchr(hash + 1, '#'))
            if (hash == line || isspace((unsigned char)hash[-1])) {
                *hash = '\0';
                break;
            }
        name = trim(line);
        if (*name == '\0')
            continue;
        value = name + strcspn(name, " \t");
        if (*value != '\0')
            *value++ = '\0';
        value = trim(value);
        for (opt = longopts; opt->name; opt++)
            if (strcmp(opt->name, name) == 0)
                break;
        if (opt->name == NULL) {
            set_err(err, errlen, "%s: unknown option '%s'", where, name);
            rc = -1;
            break;
        }
        if (opt->val == 'c' || opt->val == OPT_CHECK_CONFIG || opt->val == 'h' || opt->val == 'V') {
            set_err(err, errlen, "%s: '%s' is for the command line only", where, name);
            rc = -1;
            break;
        }
        snprintf(where + strlen(where), sizeof(where) - strlen(where), ": %s", name);
        if (opt->has_arg == no_argument) {
            /* a flag: alone, or yes/no */
            if (*value == '\0' || strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "on") == 0 ||
                strcmp(value, "1") == 0) {
                rc = apply(cfg, opt->val, "", where, err, errlen);
            } else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 || strcmp(value, "off") == 0 ||
                       strcmp(value, "0") == 0) {
                if (opt->val == 'e')
                    cfg->opt.echo = 0;
                else if (opt->val == 'v' && cfg->opt.log_level == LOG_DEBUG)
                    cfg->opt.log_level = LOG_INFO;
            } else {
                set_err(err, errlen, "%s takes yes or no, not '%s'", where, value);
                rc = -1;
            }
            continue;
        }
        if (*value == '\0') {
            set_err(err, errlen, "%s needs a value", where);
            rc = -1;
            break;
        }
        const char *kept = keep(cfg, value);
        if (kept == NULL) {
            set_err(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        rc = apply(cfg, opt->val, kept, where, err, errlen);
    }
    if (rc == 0 && ferror(f)) {
        set_err(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

static void set_defaults(server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->opt.host = "127.0.0.1";
    cfg->opt.port = "65432";
    cfg->opt.limits.max_header = PROTO_DEFAULT_MAX_HEADER;
    cfg->opt.limits.max_content = PROTO_DEFAULT_MAX_CONTENT;
    cfg->opt.max_output = SERVER_DEFAULT_MAX_OUTPUT;
    cfg->opt.idle_timeout = SERVER_DEFAULT_IDLE_TIMEOUT;
    cfg->opt.message_timeout = SERVER_DEFAULT_MESSAGE_TIMEOUT;
    cfg->opt.log_level = LOG_INFO;
    cfg->opt.unix_mode = -1;
    cfg->opt.names = (listen_names){"--host", "--port", "--unix", "--resp-port", "--resp-unix"};
}

/* One pass over argv. With only_config, takes -c, --check-config, --help
 * and --version and skips the rest; otherwise applies every flag. */
static int scan_argv(server_config *cfg, int argc, char **argv, int only_config, char *err, size_t errlen)
{
    int ch;
    char name[64];

    optind = 0; /* glibc: start over, from argv[1] */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (ch == '?' || ch == ':') {
            if (only_config)
                continue;
            /* getopt says which option only through optopt (a short
             * one, or the value of a long one) and optind (past the
             * argument it took the option from, or still on it when more
             * short options follow in the same argument). */
            const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
            int is_long = strncmp(arg, "--", 2) == 0 && arg[2] != '\0';
            int arglen = (int)strcspn(arg, "=");
            if (ch == ':' && is_long)
                set_err(err, errlen, "option %.*s needs a value", arglen, arg);
            else if (ch == ':')
                set_err(err, errlen, "option -%c needs a value", optopt);
            else if (is_long && optopt != 0 && arg[arglen] == '=')
                set_err(err, errlen, "option %.*s takes no value", arglen, arg);
            else if (optopt != 0)
                set_err(err, errlen, "unknown option -%c", optopt);
            else
                set_err(err, errlen, "unknown option %.*s", arglen, arg);
            return OPTIONS_ERROR;
        }
        if (ch == 'h' || ch == 'V') {
            if (!only_config)
                continue;
            if (ch == 'h')
                options_usage(stdout);
            else
                printf("evkv-server %s\n", EVKV_VERSION);
            return OPTIONS_DONE;
        }
        int is_config = ch == 'c' || ch == OPT_CHECK_CONFIG;
        if (is_config != only_config)
            continue;
        for (const struct option *o = longopts; o->name; o++)
            if (o->val == ch)
                snprintf(name, sizeof(name), "--%s", o->name);
        if (apply(cfg, ch, optarg ? optarg : "", name, err, errlen) != 0)
            return OPTIONS_ERROR;
    }
    return OPTIONS_OK;
}

int options_parse(server_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    int rc;

    set_defaults(cfg);
    /* -c first, so that the other flags override the file. */
    rc = scan_argv(cfg, argc, argv, 1, err, errlen);
    if (rc != OPTIONS_OK)
        return rc;
    if (cfg->config_path && read_config(cfg, cfg->config_path, err, errlen) != 0)
        return OPTIONS_ERROR;
    rc = scan_argv(cfg, argc, argv, 0, err, errlen);
    if (rc != OPTIONS_OK)
        return rc;
    if (cfg->opt.echo && (cfg->opt.resp_port || cfg->opt.resp_unix_path)) {
        set_err(err, errlen, "--echo serves no table: it takes no --resp-port or --resp-unix");
        return OPTIONS_ERROR;
    }
    if ((cfg->opt.shard_name == NULL) != (cfg->opt.shard_config == NULL) ||
        (cfg->opt.shard_pool && cfg->opt.shard_name == NULL)) {
        set_err(err, errlen, "--shard NAME and --shard-config FILE go together (and --shard-pool with them)");
        return OPTIONS_ERROR;
    }
    if (cfg->opt.shard_name && (cfg->opt.echo || cfg->opt.data == NULL)) {
        set_err(err, errlen, "--shard splits the table of --data: it needs --data and no --echo");
        return OPTIONS_ERROR;
    }
    if (argc - optind == 2) {
        if (apply(cfg, 'H', argv[optind], "host", err, errlen) != 0 ||
            apply(cfg, 'p', argv[optind + 1], "port", err, errlen) != 0)
            return OPTIONS_ERROR;
    } else if (argc - optind != 0) {
        set_err(err, errlen, "expected no arguments or HOST PORT");
        return OPTIONS_ERROR;
    }
    return OPTIONS_OK;
}

void options_free(server_config *cfg)
{
    for (size_t i = 0; i < cfg->nstrings; i++)
        free(cfg->strings[i]);
    free(cfg->strings);
    cfg->strings = NULL;
    cfg->nstrings = 0;
}
