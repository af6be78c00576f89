/*
 * options.c: evkv-server's options, from the config file and the command
 * line, and --help: all from one table (see options.h).
 */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
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
/* --help's width (the longest line), and the column where the options' texts start. */
#define HELP_WIDTH  80
#define HELP_COLUMN 27

#define STRINGIFY(x) #x
#define STR(x)       STRINGIFY(x)
#define AT(field)    offsetof(server_config, field)
#define NAMED(field) AT(opt.names.field)

/* One row per option, laid out by hand: a row a few lines long reads as
 * one option. */
/* clang-format off */
const option_spec options_table[] = {
    {.name = "config", .short_name = 'c', .kind = OPTION_STRING, .offset = AT(config_path), .arg = "FILE",
     .flags = OPTION_CLI_ONLY,
     .help = "read options from FILE first: one `option value` per line, named as the long options below; "
             "flags given on the command line override it"},
    {.name = "check-config", .kind = OPTION_FLAG, .offset = AT(check_config), .flags = OPTION_CLI_ONLY,
     .help = "check the options, the config file, the log file and the data file, then exit: 0 if the server "
             "would start, 2 if not"},
    {.name = "host", .short_name = 'H', .kind = OPTION_STRING, .offset = AT(opt.host), .name_offset = NAMED(host),
     .def = "127.0.0.1", .arg = "HOST", .flags = OPTION_RESTART,
     .help = "address to listen on (default {default}; ::1 for IPv6)"},
    {.name = "port", .short_name = 'p', .kind = OPTION_PORT, .offset = AT(opt.port), .name_offset = NAMED(port),
     .def = "65432", .arg = "PORT", .flags = OPTION_RESTART,
     .help = "TCP port (default {default}; `any` picks a free one, shown in the start line; 0: none, for a "
             "server that listens only on --unix or only for Redis clients)"},
    {.name = "unix", .kind = OPTION_NONEMPTY, .offset = AT(opt.unix_path), .name_offset = NAMED(unix_path),
     .arg = "PATH", .must = "a path", .flags = OPTION_RESTART,
     .help = "listen on a Unix domain socket at PATH instead of TCP"},
    {.name = "unix-mode", .kind = OPTION_MODE, .offset = AT(opt.unix_mode), .def_num = -1, .arg = "MODE",
     .must = "an octal mode from 0 to 0777", .flags = OPTION_RESTART,
     .help = "the socket file's permissions, in octal (default: as the umask leaves them; 0666 lets every user "
             "in); also --resp-unix's"},
    {.name = "resp-port", .kind = OPTION_PORT, .offset = AT(opt.resp_port), .name_offset = NAMED(resp_port),
     .arg = "PORT", .flags = OPTION_RESTART,
     .help = "also answer Redis clients (RESP2) on this TCP port of --host, from the same table, as a read-only "
             "Redis replica would (none by default, nor with 0; `any` picks a free port, shown in the log)"},
    {.name = "resp-unix", .kind = OPTION_NONEMPTY, .offset = AT(opt.resp_unix_path),
     .name_offset = NAMED(resp_unix_path), .arg = "PATH", .must = "a path", .flags = OPTION_RESTART,
     .help = "answer Redis clients on a Unix domain socket at PATH instead of a TCP port"},
    {.name = "tls-port", .kind = OPTION_PORT, .offset = AT(opt.tls_port), .name_offset = NAMED(tls_port),
     .arg = "PORT", .flags = OPTION_RESTART,
     .help = "also answer the guide's protocol over TLS on this TCP port of --host (none by default, nor with 0; "
             "`any` picks a free port, shown in the log); needs --tls-cert-file and --tls-key-file"},
    {.name = "resp-tls-port", .kind = OPTION_PORT, .offset = AT(opt.resp_tls_port),
     .name_offset = NAMED(resp_tls_port), .arg = "PORT", .flags = OPTION_RESTART,
     .help = "also answer Redis clients over TLS on this TCP port of --host, as redis-server's tls-port does "
             "(none by default, nor with 0; `any` picks a free port)"},
    {.name = "tls-cert-file", .kind = OPTION_NONEMPTY, .offset = AT(opt.tls.cert_file), .arg = "FILE",
     .must = "a path",
     .help = "the TLS ports' certificate (PEM, the chain after it); read again on SIGHUP, even under the same "
             "name"},
    {.name = "tls-key-file", .kind = OPTION_NONEMPTY, .offset = AT(opt.tls.key_file), .arg = "FILE",
     .must = "a path", .help = "its private key (PEM); read again on SIGHUP"},
    {.name = "tls-key-file-pass", .kind = OPTION_STRING, .offset = AT(opt.tls.key_file_pass), .arg = "PASSWORD",
     .help = "the key file's passphrase, if it has one (safer in the config file: ps shows the command line)"},
    {.name = "tls-ca-cert-file", .kind = OPTION_NONEMPTY, .offset = AT(opt.tls.ca_cert_file), .arg = "FILE",
     .must = "a path",
     .help = "CA certificates (PEM) that client certificates must chain to; read again on SIGHUP"},
    {.name = "tls-ca-cert-dir", .kind = OPTION_NONEMPTY, .offset = AT(opt.tls.ca_cert_dir), .arg = "DIR",
     .must = "a path", .help = "a directory of CA certificates, named as `openssl rehash` names them"},
    {.name = "tls-auth-clients", .kind = OPTION_CHOICE, .offset = AT(opt.tls.auth_clients),
     .def_num = TLS_AUTH_YES, .arg = "yes|no|optional", .must = "yes, no or optional",
     .choices = (const char *const[]){"yes", "no", "optional", NULL},
     .help = "whether TLS clients must show a certificate from the CA (default yes; optional: one shown must "
             "verify, none is accepted too; no: none is asked for)"},
    {.name = "tls-auth-clients-user", .kind = OPTION_CHOICE, .offset = AT(opt.tls.auth_clients_user),
     .def_num = TLS_USER_OFF, .arg = "CN|off", .must = "CN or off",
     .choices = (const char *const[]){"off", "CN", NULL},
     .help = "CN: a TLS client whose verified certificate's subject CN names an enabled ACL user starts logged in "
             "as that user, with no password; any other starts as \"default\" (default off)"},
    {.name = "tls-protocols", .kind = OPTION_NONEMPTY, .offset = AT(opt.tls.protocols), .def = "TLSv1.2 TLSv1.3",
     .arg = "LIST", .must = "a list of protocols",
     .help = "the TLS versions accepted, among TLSv1, TLSv1.1, TLSv1.2 and TLSv1.3, separated by spaces; TLSv1.2 "
             "and TLSv1.3 by default"},
    {.name = "tls-ciphers", .kind = OPTION_NONEMPTY, .offset = AT(opt.tls.ciphers), .arg = "LIST",
     .must = "a cipher list", .help = "TLS 1.2's ciphers, in OpenSSL's cipher list syntax (default: OpenSSL's)"},
    {.name = "tls-ciphersuites", .kind = OPTION_NONEMPTY, .offset = AT(opt.tls.ciphersuites), .arg = "LIST",
     .must = "a list of suites", .help = "TLS 1.3's cipher suites, colon-separated (default: OpenSSL's)"},
    {.name = "tls-prefer-server-ciphers", .kind = OPTION_CHOICE, .offset = AT(opt.tls.prefer_server_ciphers),
     .arg = "yes|no", .must = "yes or no", .choices = (const char *const[]){"no", "yes", NULL},
     .help = "choose the cipher by the server's order, not the client's (default no)"},
    {.name = "tls-session-caching", .kind = OPTION_CHOICE, .offset = AT(opt.tls.session_caching), .def_num = 1,
     .arg = "yes|no", .must = "yes or no", .choices = (const char *const[]){"no", "yes", NULL},
     .help = "let TLS clients resume sessions, skipping most of a handshake (default yes)"},
    {.name = "tls-session-cache-size", .kind = OPTION_SIZE, .offset = AT(opt.tls.session_cache_size),
     .max = INT_MAX, .def_num = 20480, .arg = "N", .must = "a count (0: no limit)",
     .help = "sessions kept for resumption (default {default}; 0: no limit)"},
    {.name = "tls-session-cache-timeout", .kind = OPTION_SECONDS, .offset = AT(opt.tls.session_cache_timeout),
     .max = INT_MAX, .def_num = 300, .arg = "SECS", .must = "whole seconds",
     .help = "how long a session may be resumed (default {default})"},
    {.name = "data", .short_name = 'd', .kind = OPTION_STRING, .offset = AT(opt.data), .arg = "FILE",
     .help = "serve the table in FILE instead of the built-in one: a JSON object (key -> any JSON value) or "
             "TSV lines key<TAB>value"},
    {.name = "format", .short_name = 'f', .kind = OPTION_FORMAT, .offset = AT(opt.format), .arg = "json|tsv",
     .must = "json or tsv", .help = "how to read FILE (default: from its extension, .json or .tsv/.tab)"},
    {.name = "shard", .kind = OPTION_NONEMPTY, .offset = AT(opt.shard_name), .arg = "NAME", .must = "a value",
     .help = "serve only the keys of --data that twemproxy (nutcracker) sends to its server named NAME (the "
             "name in \"host:port:weight NAME\", or host:port)"},
    {.name = "shard-config", .kind = OPTION_NONEMPTY, .offset = AT(opt.shard_config), .arg = "FILE",
     .must = "a value",
     .help = "the nutcracker YAML config the proxies use, with the pool's hash, hash_tag, distribution and "
             "servers; refused where `nutcracker -t` would refuse it"},
    {.name = "shard-pool", .kind = OPTION_NONEMPTY, .offset = AT(opt.shard_pool), .arg = "POOL", .must = "a value",
     .help = "the pool of FILE (default: its only one)"},
    {.name = "cluster-config", .kind = OPTION_NONEMPTY, .offset = AT(opt.cluster_config), .arg = "FILE",
     .must = "a path",
     .help = "serve as a node of a Redis Cluster whose map is FILE, in the format of CLUSTER NODES (a real "
             "cluster's output will do): only the keys of --data in this node's slots are kept, and Redis clients "
             "get -MOVED for the others"},
    {.name = "cluster-myself", .kind = OPTION_NONEMPTY, .offset = AT(opt.cluster_myself), .arg = "ID",
     .must = "a node id",
     .help = "this node's id in the map (40 hex digits); a replica serves its master's slots"},
    {.name = "cluster-require-full-coverage", .kind = OPTION_CHOICE, .offset = AT(opt.cluster_full_coverage),
     .def_num = 1, .arg = "yes|no", .must = "yes or no", .choices = (const char *const[]){"no", "yes", NULL},
     .help = "refuse a map where a slot has no owner (default yes; no: keys of such slots get -CLUSTERDOWN)"},
    {.name = "requirepass", .kind = OPTION_STRING, .offset = AT(opt.requirepass), .arg = "PASSWORD",
     .help = "Redis clients must AUTH with PASSWORD, as the \"default\" user (as Redis's requirepass; put it in "
             "the config file, where ps does not show it); ignored with --aclfile, as Redis ignores it"},
    {.name = "aclfile", .kind = OPTION_NONEMPTY, .offset = AT(opt.aclfile), .arg = "FILE", .must = "a path",
     .help = "read Redis clients' users from FILE, in Redis's ACL file syntax (user NAME on|off nopass "
             ">password #sha256 ~pattern %R~pattern +@category -command ...); refused at start, as Redis "
             "refuses it, if any line is bad; a reload reads it again and keeps the old users if it is bad"},
    {.name = "protected-mode", .kind = OPTION_CHOICE, .offset = AT(opt.protected_mode), .def_num = 1,
     .arg = "yes|no", .must = "yes or no", .choices = (const char *const[]){"no", "yes", NULL},
     .flags = OPTION_RESTART,
     .help = "yes (the default): while the \"default\" user has no password, answer only clients on the "
             "loopback (127.0.0.1, ::1, a Unix socket); others get Redis's -DENIED text, or the guide's "
             "error, and are closed (as Redis's protected-mode)"},
    {.name = "echo", .short_name = 'e', .kind = OPTION_FLAG, .offset = AT(opt.echo), .flags = OPTION_RESTART,
     .help = "raw echo mode: send back whatever arrives"},
    {.name = "max-header", .kind = OPTION_SIZE, .offset = AT(opt.limits.max_header), .min = 16, .max = 65535,
     .def_num = PROTO_DEFAULT_MAX_HEADER, .arg = "BYTES", .must = "a byte count from 16 to 65535",
     .flags = OPTION_RESTART, .help = "largest JSON header accepted (default {default}, at most 65535)"},
    {.name = "max-content", .kind = OPTION_SIZE, .offset = AT(opt.limits.max_content), .max = (size_t)1 << 40,
     .def_num = PROTO_DEFAULT_MAX_CONTENT, .arg = "BYTES", .must = "a byte count", .flags = OPTION_RESTART,
     .help = "largest content accepted (default {default}); for Redis clients, the largest argument, and with "
             "4 KiB more the largest request and MULTI queue"},
    {.name = "max-conns", .kind = OPTION_SIZE, .offset = AT(opt.max_conns), .min = 1, .max = (size_t)1 << 30,
     .arg = "N", .must = "a count above 0", .flags = OPTION_RESTART | OPTION_AUTO,
     .help = "connections served at once; past it a new one gets an error answer and is closed (default: the "
             "open file limit, raised to its hard limit, less " STR(SERVER_FD_RESERVE) ")"},
    {.name = "max-output", .kind = OPTION_SIZE, .offset = AT(opt.max_output), .min = 1, .max = (size_t)1 << 40,
     .def_num = SERVER_DEFAULT_MAX_OUTPUT, .arg = "BYTES", .must = "a byte count above 0", .flags = OPTION_RESTART,
     .help = "unsent answers at which a connection stops being read, until they fall below half (default "
             "{default})"},
    {.name = "idle-timeout", .kind = OPTION_SECONDS, .offset = AT(opt.idle_timeout), .max = 1000000000,
     .def_num = SERVER_DEFAULT_IDLE_TIMEOUT, .arg = "SECS", .must = "whole seconds (0: never)",
     .flags = OPTION_RESTART,
     .help = "close a connection idle this long, or not reading its answers (default {default}; 0: never)"},
    {.name = "message-timeout", .kind = OPTION_SECONDS, .offset = AT(opt.message_timeout), .max = 1000000000,
     .def_num = SERVER_DEFAULT_MESSAGE_TIMEOUT, .arg = "SECS", .must = "whole seconds (0: never)",
     .flags = OPTION_RESTART,
     .help = "close a connection whose message is not complete this long after its first byte (default "
             "{default}; 0: never)"},
    {.name = "threads", .short_name = 't', .kind = OPTION_INT, .offset = AT(opt.threads), .min = 1, .max = 256,
     .arg = "N", .must = "1 to 256", .flags = OPTION_RESTART | OPTION_AUTO,
     .help = "worker threads, each with its own event loop and listeners (default: one per core)"},
    {.name = "log-level", .kind = OPTION_LOG_LEVEL, .offset = AT(opt.log_level), .def_num = LOG_INFO,
     .arg = "LEVEL", .must = "error, warn, info or debug",
     .help = "error, warn, info (the default) or debug (every connection and request)"},
    {.name = "log-file", .kind = OPTION_NONEMPTY, .offset = AT(opt.log_file), .arg = "FILE", .must = "a path",
     .help = "log to FILE, with timestamps, instead of stderr; reopened on SIGHUP"},
    {.name = "verbose", .short_name = 'v', .kind = OPTION_VERBOSE, .offset = AT(opt.log_level),
     .help = "the same as --log-level debug"},
    {.name = "help", .short_name = 'h', .kind = OPTION_ACTION, .flags = OPTION_CLI_ONLY,
     .help = "show this help and exit"},
    {.name = "version", .short_name = 'V', .kind = OPTION_ACTION, .flags = OPTION_CLI_ONLY,
     .help = "show the version and exit"},
};
/* clang-format on */
#define NOPTIONS (sizeof(options_table) / sizeof(options_table[0]))
const size_t options_count = NOPTIONS;

/* getopt's code for each row: its short option, or 256 + its index. */
#define LONG_CODE(i) (256 + (int)(i))

/* The field spec keeps in cfg, as a T. */
#define FIELD(cfg, spec, T)  ((T *)(void *)((char *)(cfg) + (spec)->offset))
#define CFIELD(cfg, spec, T) ((const T *)(const void *)((const char *)(cfg) + (spec)->offset))

static const option_spec *option_named(const char *name)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strcmp(options_table[i].name, name) == 0)
            return &options_table[i];
    return NULL;
}

/* Prints text from column col (where the line stands now), filled to
 * HELP_WIDTH, each further line indented to column indent. */
static void help_fill(FILE *out, const char *text, size_t col, size_t indent)
{
    size_t start = col;

    while (*text) {
        size_t len = strcspn(text, " ");
        if (col > start && col + 1 + len > HELP_WIDTH) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = start = indent;
        }
        if (col > start)
            col += (size_t)fprintf(out, " ");
        col += (size_t)fprintf(out, "%.*s", (int)len, text);
        text += len;
        text += strspn(text, " ");
    }
    fputc('\n', out);
}

/* spec's --help text, with {default} replaced by its default. */
static void help_text(const option_spec *spec, char *out, size_t outlen)
{
    const char *mark = strstr(spec->help, "{default}");
    if (mark == NULL) {
        snprintf(out, outlen, "%s", spec->help);
    } else if (spec->def) {
        snprintf(out, outlen, "%.*s%s%s", (int)(mark - spec->help), spec->help, spec->def, mark + 9);
    } else {
        snprintf(out, outlen, "%.*s%lld%s", (int)(mark - spec->help), spec->help, spec->def_num, mark + 9);
    }
}

/* The options part of --help, one entry a row. */
static void help_options(FILE *out)
{
    char head[64], text[1024];

    for (size_t i = 0; i < NOPTIONS; i++) {
        const option_spec *spec = &options_table[i];
        int n = snprintf(head, sizeof(head), "  %c%c%c --%s%s%s", spec->short_name ? '-' : ' ',
                         spec->short_name ? spec->short_name : ' ', spec->short_name ? ',' : ' ', spec->name,
                         spec->arg ? " " : "", spec->arg ? spec->arg : "");
        help_text(spec, text, sizeof(text));
        /* a head too long for the column gets two blanks before its text */
        int col = n + 2 > HELP_COLUMN ? n + 2 : HELP_COLUMN;
        fprintf(out, "%-*s", col, head);
        help_fill(out, text, (size_t)col, HELP_COLUMN);
    }
}

/* The paragraph on signals, with the options a reload applies. */
static void help_signals(FILE *out)
{
    char text[2048];
    size_t len, nreload = 0, seen = 0;

    for (size_t i = 0; i < NOPTIONS; i++)
        nreload += !(options_table[i].flags & (OPTION_RESTART | OPTION_CLI_ONLY));
    len = (size_t)snprintf(text, sizeof(text), "%s",
                           "Signals: SIGINT or SIGTERM stops accepting, answers the requests already received, "
                           "then exits; a second one exits at once. SIGHUP reloads: it reads the config file "
                           "again, loads the data file into a new table and swaps it in between two requests "
                           "(if anything fails, the old table stays and the log says why), and reopens the log "
                           "file. A reload applies");
    for (size_t i = 0; i < NOPTIONS && len < sizeof(text); i++) {
        if (options_table[i].flags & (OPTION_RESTART | OPTION_CLI_ONLY))
            continue;
        seen++;
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s",
                                seen == 1         ? " "
                                : seen == nreload ? " and "
                                                  : ", ",
                                options_table[i].name);
    }
    if (len < sizeof(text))
        snprintf(text + len, sizeof(text) - len, "%s",
                 "; any other option takes a restart (the log says so when a reload finds it changed). Under "
                 "systemd (NOTIFY_SOCKET), the server tells it READY=1 once it listens, and RELOADING=1 / "
                 "READY=1 around a reload.");
    help_fill(out, text, 0, 0);
}

void options_usage(FILE *out)
{
    fprintf(out, "%s",
            "Usage: evkv-server [OPTIONS] [HOST PORT]\n"
            "Answers key lookups over the evkv protocol (the header + JSON protocol of the\n"
            "\"Socket Programming in Python\" guide's app-server), keeping connections open.\n"
            "\n"
            "Options:\n");
    help_options(out);
    fprintf(out, "%s",
            "\n"
            "HOST PORT given as two arguments work as --host HOST --port PORT, as with the\n"
            "guide's app-server.py. A port of 0 means no listener there, and `any` a free\n"
            "port; a server needs at least one listener (--port, --unix, --resp-port or\n"
            "--resp-unix).\n"
            "\n");
    help_signals(out);
    fprintf(out, "%s",
            "\n"
            "Exit status:\n"
            "  0  stopped by SIGINT/SIGTERM after sending the answers in flight, or\n"
            "     --check-config found nothing wrong\n"
            "  1  could not listen for a reason that may pass (address already in use, an\n"
            "     address not up yet, ...), or a second signal forced the stop\n"
            "  2  bad usage or config file (no listener at all, ...), a bad address (--host,\n"
            "     a --unix or --resp-unix path too long, --resp-port on --port's port or\n"
            "     --resp-unix on --unix's path, a port not allowed), a data file that\n"
            "     could not be loaded or a bad --aclfile: the same as --check-config\n"
            "     reports; nothing was served\n");
}

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

/* Keeps name as the one a listener option was given by, for listen_check's
 * errors (other options keep none). Returns 0, or -1: out of memory. */
static int set_name(server_config *cfg, const option_spec *spec, const char *name)
{
    if (spec->name_offset == 0)
        return 0;
    const char *kept = keep(cfg, name);
    *(const char **)(void *)((char *)cfg + spec->name_offset) = kept;
    return kept ? 0 : -1;
}

/* A port option's value: "0" is no listener (NULL), "any" is port 0 to
 * the kernel, which then picks a free one. Returns 0, or -1. */
static int parse_port(const char *value, const char **out)
{
    size_t n;
    if (strcmp(value, "any") == 0) {
        *out = "0";
        return 0;
    }
    if (parse_size(value, 0, 65535, &n) != 0)
        return -1;
    *out = n == 0 ? NULL : value;
    return 0;
}

/* Parses value as spec's kind into cfg. Returns 0, or -1 (a bad value). */
static int parse_value(server_config *cfg, const option_spec *spec, const char *value)
{
    size_t n;
    char *end;

    switch (spec->kind) {
    case OPTION_FLAG: *FIELD(cfg, spec, int) = 1; return 0;
    case OPTION_VERBOSE: *FIELD(cfg, spec, log_level) = LOG_DEBUG; return 0;
    case OPTION_ACTION: return 0;
    case OPTION_STRING: *FIELD(cfg, spec, const char *) = value; return 0;
    case OPTION_NONEMPTY: *FIELD(cfg, spec, const char *) = value; return value[0] == '\0' ? -1 : 0;
    case OPTION_PORT: return parse_port(value, FIELD(cfg, spec, const char *));
    case OPTION_MODE: {
        errno = 0;
        long mode = strtol(value, &end, 8);
        if (errno || end == value || *end != '\0' || mode < 0 || mode > 0777)
            return -1;
        *FIELD(cfg, spec, int) = (int)mode;
        return 0;
    }
    case OPTION_INT:
        if (parse_size(value, spec->min, spec->max, &n) != 0)
            return -1;
        *FIELD(cfg, spec, int) = (int)n;
        return 0;
    case OPTION_SIZE: return parse_size(value, spec->min, spec->max, FIELD(cfg, spec, size_t));
    case OPTION_SECONDS:
        if (parse_size(value, spec->min, spec->max, &n) != 0)
            return -1;
        *FIELD(cfg, spec, long) = (long)n;
        return 0;
    case OPTION_FORMAT: return datafile_format_parse(value, FIELD(cfg, spec, datafile_format));
    case OPTION_LOG_LEVEL: return log_level_parse(value, FIELD(cfg, spec, log_level));
    case OPTION_CHOICE:
        for (int i = 0; spec->choices[i]; i++) {
            if (strcmp(value, spec->choices[i]) == 0) {
                *FIELD(cfg, spec, int) = i;
                return 0;
            }
        }
        return -1;
    }
    return -1;
}

/* Sets option spec to value on cfg. `name` is how the error names the
 * option ("--port", or "FILE:LINE: port"); a listener's keeps it, so
 * that an error found when the listeners are checked together
 * (listen_check) names it as the user wrote it. Returns 0, or -1 with
 * err. */
static int apply(server_config *cfg, const option_spec *spec, const char *value, const char *name, char *err,
                 size_t errlen)
{
    if (set_name(cfg, spec, name) != 0) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    if (parse_value(cfg, spec, value) == 0)
        return 0;
    switch (spec->kind) {
    case OPTION_NONEMPTY: set_err(err, errlen, "%s needs %s", name, spec->must); break;
    case OPTION_PORT: set_err(err, errlen, "%s must be a number from 0 to 65535 or any, not '%s'", name, value); break;
    case OPTION_MODE:
    case OPTION_FORMAT:
    case OPTION_CHOICE:
    case OPTION_LOG_LEVEL: set_err(err, errlen, "%s must be %s, not '%s'", name, spec->must, value); break;
    default: set_err(err, errlen, "%s must be %s", name, spec->must); break;
    }
    return -1;
}

/* A flag of the config file, alone or with yes or no. Returns 0, or -1
 * with err. */
static int apply_flag(server_config *cfg, const option_spec *spec, const char *value, const char *where, char *err,
                      size_t errlen)
{
    static const char *const yes[] = {"", "yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (strcmp(value, yes[i]) == 0)
            return apply(cfg, spec, "", where, err, errlen);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        if (strcmp(value, no[i]) != 0)
            continue;
        if (spec->kind == OPTION_FLAG)
            *FIELD(cfg, spec, int) = 0;
        else if (*FIELD(cfg, spec, log_level) == LOG_DEBUG)
            *FIELD(cfg, spec, log_level) = LOG_INFO;
        return 0;
    }
    set_err(err, errlen, "%s takes yes or no, not '%s'", where, value);
    return -1;
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

/* One line of the config file (where: "FILE:LINE"). Returns 0, or -1 with
 * err. */
static int config_line(server_config *cfg, char *line, char *where, size_t wherelen, char *err, size_t errlen)
{
    char *name, *value, *hash;
    const option_spec *spec;

    /* A # at the start of a line, or after a blank, starts a comment. */
    for (hash = strchr(line, '#'); hash; hash = strchr(hash + 1, '#'))
        if (hash == line || isspace((unsigned char)hash[-1])) {
            *hash = '\0';
            break;
        }
    name = trim(line);
    if (*name == '\0')
        return 0;
    value = name + strcspn(name, " \t");
    if (*value != '\0')
        *value++ = '\0';
    value = trim(value);
    if ((spec = option_named(name)) == NULL) {
        set_err(err, errlen, "%s: unknown option '%s'", where, name);
        return -1;
    }
    if (spec->flags & OPTION_CLI_ONLY) {
        set_err(err, errlen, "%s: '%s' is for the command line only", where, name);
        return -1;
    }
    snprintf(where + strlen(where), wherelen - strlen(where), ": %s", name);
    if (spec->arg == NULL)
        return apply_flag(cfg, spec, value, where, err, errlen);
    if (*value == '\0') {
        set_err(err, errlen, "%s needs a value", where);
        return -1;
    }
    const char *kept = keep(cfg, value);
    if (kept == NULL) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    return apply(cfg, spec, kept, where, err, errlen);
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
        char where[PATH_MAX + 128];

        lineno++;
        snprintf(where, sizeof(where), "%s:%d", path, lineno);
        if (len > CONFIG_LINE_MAX) {
            set_err(err, errlen, "%s: line longer than %d bytes", where, CONFIG_LINE_MAX);
            rc = -1;
        } else if (memchr(line, '\0', (size_t)len) != NULL) {
            set_err(err, errlen, "%s: a NUL byte: not a text file?", where);
            rc = -1;
        } else {
            rc = config_line(cfg, line, where, sizeof(where), err, errlen);
        }
    }
    if (rc == 0 && ferror(f)) {
        set_err(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

/* Every option's default, from the table. Returns 0, or -1 with err. */
static int set_defaults(server_config *cfg, char *err, size_t errlen)
{
    char flag[64];

    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option_spec *spec = &options_table[i];
        snprintf(flag, sizeof(flag), "--%s", spec->name);
        if (set_name(cfg, spec, flag) != 0) {
            set_err(err, errlen, "out of memory");
            return -1;
        }
        switch (spec->kind) {
        case OPTION_STRING:
        case OPTION_NONEMPTY:
        case OPTION_PORT: *FIELD(cfg, spec, const char *) = spec->def; break;
        case OPTION_MODE:
        case OPTION_CHOICE:
        case OPTION_INT: *FIELD(cfg, spec, int) = (int)spec->def_num; break;
        case OPTION_SIZE: *FIELD(cfg, spec, size_t) = (size_t)spec->def_num; break;
        case OPTION_SECONDS: *FIELD(cfg, spec, long) = (long)spec->def_num; break;
        case OPTION_LOG_LEVEL: *FIELD(cfg, spec, log_level) = (log_level)spec->def_num; break;
        default: break; /* flags start at 0; a format at its 0, "from the extension" */
        }
    }
    return 0;
}
/* The error for what getopt refused (ch: '?' unknown, ':' no value). */
static void argv_error(int argc, char **argv, int ch, char *err, size_t errlen)
{
    /* getopt says which option only through optopt (a short one, or the
     * code of a long one) and optind (past the argument it took the
     * option from, or still on it when more short options follow in the
     * same argument). */
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
}

/* One pass over argv. With only_config, takes the command-line-only
 * options (-c, --check-config, --help, --version) and skips the rest;
 * otherwise applies every other one. */
static int scan_argv(server_config *cfg, int argc, char **argv, int only_config, char *err, size_t errlen)
{
    /* The leading ':' makes getopt tell a missing value (':') from an unknown option ('?'). */
    char shortopts[2 + 2 * NOPTIONS] = ":", name[64];
    struct option longopts[NOPTIONS + 1];
    size_t nshort = 1;
    int ch;

    memset(longopts, 0, sizeof(longopts));
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option_spec *spec = &options_table[i];
        longopts[i] = (struct option){spec->name, spec->arg ? required_argument : no_argument, NULL, LONG_CODE(i)};
        if (spec->short_name) {
            shortopts[nshort++] = spec->short_name;
            if (spec->arg)
                shortopts[nshort++] = ':';
        }
    }
    optind = 0; /* glibc: start over, from argv[1] */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (ch == '?' || ch == ':') {
            if (only_config)
                continue;
            argv_error(argc, argv, ch, err, errlen);
            return OPTIONS_ERROR;
        }
        const option_spec *spec = NULL;
        for (size_t i = 0; i < NOPTIONS && spec == NULL; i++)
            if (ch == LONG_CODE(i) || ch == options_table[i].short_name)
                spec = &options_table[i];
        if (!(spec->flags & OPTION_CLI_ONLY) != !only_config)
            continue;
        if (spec->kind == OPTION_ACTION) {
            if (strcmp(spec->name, "help") == 0)
                options_usage(stdout);
            else
                printf("evkv-server %s\n", EVKV_VERSION);
            return OPTIONS_DONE;
        }
        snprintf(name, sizeof(name), "--%s", spec->name);
        if (apply(cfg, spec, optarg ? optarg : "", name, err, errlen) != 0)
            return OPTIONS_ERROR;
    }
    return OPTIONS_OK;
}

/* The options that go together, or not at all. Returns 0, or -1 with err. */
static int check_together(const server_options *o, char *err, size_t errlen)
{
    if (o->echo && (o->resp_port || o->resp_unix_path || o->resp_tls_port)) {
        set_err(err, errlen, "--echo serves no table: it takes no --resp-port, --resp-unix or --resp-tls-port");
        return -1;
    }
    if ((o->shard_name == NULL) != (o->shard_config == NULL) || (o->shard_pool && o->shard_name == NULL)) {
        set_err(err, errlen, "--shard NAME and --shard-config FILE go together (and --shard-pool with them)");
        return -1;
    }
    if (o->shard_name && (o->echo || o->data == NULL)) {
        set_err(err, errlen, "--shard splits the table of --data: it needs --data and no --echo");
        return -1;
    }
    if ((o->cluster_config == NULL) != (o->cluster_myself == NULL)) {
        set_err(err, errlen, "--cluster-config FILE and --cluster-myself ID go together");
        return -1;
    }
    if (o->cluster_config && (o->echo || o->data == NULL || o->shard_name)) {
        set_err(err, errlen,
                "--cluster-config splits the table of --data by slot: it needs --data, and no --echo "
                "nor --shard");
        return -1;
    }
    return 0;
}

int options_parse(server_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    int rc;

    if (set_defaults(cfg, err, errlen) != 0)
        return OPTIONS_ERROR;
    /* -c first, so that the other flags override the file. */
    rc = scan_argv(cfg, argc, argv, 1, err, errlen);
    if (rc != OPTIONS_OK)
        return rc;
    if (cfg->config_path && read_config(cfg, cfg->config_path, err, errlen) != 0)
        return OPTIONS_ERROR;
    rc = scan_argv(cfg, argc, argv, 0, err, errlen);
    if (rc != OPTIONS_OK)
        return rc;
    if (check_together(&cfg->opt, err, errlen) != 0)
        return OPTIONS_ERROR;
    if (argc - optind == 2) {
        if (apply(cfg, option_named("host"), argv[optind], "host", err, errlen) != 0 ||
            apply(cfg, option_named("port"), argv[optind + 1], "port", err, errlen) != 0)
            return OPTIONS_ERROR;
    } else if (argc - optind != 0) {
        set_err(err, errlen, "expected no arguments or HOST PORT");
        return OPTIONS_ERROR;
    }
    return OPTIONS_OK;
}

dataset_shard_spec options_dataset_spec(const server_options *o)
{
    return (dataset_shard_spec){.name = o->shard_name,
                                .config = o->shard_config,
                                .pool = o->shard_pool,
                                .cluster_config = o->cluster_config,
                                .cluster_myself = o->cluster_myself,
                                .cluster_full_coverage = o->cluster_full_coverage};
}

void options_free(server_config *cfg)
{
    for (size_t i = 0; i < cfg->nstrings; i++)
        free(cfg->strings[i]);
    free(cfg->strings);
    cfg->strings = NULL;
    cfg->nstrings = 0;
}

/* Whether two texts differ, NULL being a value of its own. */
static int text_differs(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

int options_differ(const option_spec *spec, const server_config *a, const server_config *b)
{
    switch (spec->kind) {
    case OPTION_STRING:
    case OPTION_NONEMPTY:
    case OPTION_PORT: return text_differs(*CFIELD(a, spec, char *), *CFIELD(b, spec, char *));
    case OPTION_FLAG:
    case OPTION_MODE:
    case OPTION_INT:
        return *CFIELD(a, spec, int) != *CFIELD(b, spec, int) &&
               !((spec->flags & OPTION_AUTO) && *CFIELD(b, spec, int) == 0);
    case OPTION_SIZE:
        return *CFIELD(a, spec, size_t) != *CFIELD(b, spec, size_t) &&
               !((spec->flags & OPTION_AUTO) && *CFIELD(b, spec, size_t) == 0);
    case OPTION_SECONDS: return *CFIELD(a, spec, long) != *CFIELD(b, spec, long);
    case OPTION_CHOICE: return *CFIELD(a, spec, int) != *CFIELD(b, spec, int);
    case OPTION_FORMAT: return *CFIELD(a, spec, datafile_format) != *CFIELD(b, spec, datafile_format);
    case OPTION_VERBOSE:
    case OPTION_LOG_LEVEL: return *CFIELD(a, spec, log_level) != *CFIELD(b, spec, log_level);
    case OPTION_ACTION: return 0;
    }
    return 0;
}
