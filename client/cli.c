/*
 * cli.c: evkv-cli, the command-line client.
 *
 *   evkv-cli [-h HOST] [-p PORT]                 an interactive prompt (cli_repl.c)
 *   evkv-cli [-h HOST] [-p PORT] search KEY      one lookup
 *   evkv-cli ping | stats | ping --latency       is the server there, its counters, round trips
 *   evkv-cli HOST PORT ACTION VALUE              the guide's app-client form
 *   evkv-cli [-h HOST] [-p PORT] < keys.txt      a batch, pipelined
 *   evkv-cli --echo TEXT                         talk to a server in echo mode
 *
 * The server is -h/-p (TCP, IPv4 or IPv6), -s (a Unix domain socket) or
 * -u (a URI naming either, uri.c). This file reads the command line and
 * runs the one-shot commands and --echo; the other modes are files of
 * their own (cli_modes.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli_modes.h"
#include "parse.h"
#include "text.h"

#ifndef EVKV_VERSION
#define EVKV_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: evkv-cli [OPTIONS] search KEY\n"
            "  or:  evkv-cli [OPTIONS] ping\n"
            "  or:  evkv-cli [OPTIONS] ping --latency [-i SECS] [-n N]\n"
            "  or:  evkv-cli [OPTIONS] stats\n"
            "  or:  evkv-cli [OPTIONS] -r COUNT [-i SECS] COMMAND\n"
            "  or:  evkv-cli [OPTIONS] --stat [-i SECS] [-r COUNT]\n"
            "  or:  evkv-cli [OPTIONS] ACTION VALUE\n"
            "  or:  evkv-cli [OPTIONS] HOST PORT ACTION VALUE\n"
            "  or:  evkv-cli [OPTIONS] < KEYS\n"
            "  or:  evkv-cli [OPTIONS]\n"
            "  or:  evkv-cli [OPTIONS] --echo TEXT\n"
            "Looks keys up on an evkv server and prints what it answers. With no KEY and\n"
            "stdin not a terminal, each line of stdin is a key; with no command and stdin\n"
            "a terminal, a prompt reads commands (the interactive mode, below).\n"
            "\n"
            "Server:\n"
            "  -h, --host HOST      server name or address, IPv4 or IPv6 (default %s)\n"
            "  -p, --port PORT      server port (default %s)\n"
            "  -u, --uri URI        the server as a URI, instead of -h/-p/-s (default port\n"
            "                       %s; %%XX escapes are decoded, an IPv6 zone is %%25):\n"
            "                         evkv://[USER[:PASSWORD]@]HOST[:PORT]\n"
            "                         evkv://[IPV6][:PORT], evkv://[fe80::1%%25eth0]:PORT\n"
            "                         evkv+unix:///PATH, unix:///PATH, unix:/PATH (a socket)\n"
            "                         evkvs://[USER[:PASSWORD]@]HOST[:PORT] (TLS, as --tls)\n"
            "  -s, --socket PATH    connect to the Unix domain socket PATH instead of TCP\n"
            "      --user NAME      log in as NAME (default: the server's \"default\" user)\n"
            "  -a, --pass PASSWORD  log in with PASSWORD (the auth action) on each connection;\n"
            "                       also from the URI, or from EVKV_AUTH in the environment,\n"
            "                       which ps does not show; a refusal exits 2\n"
            "Redis Cluster (evkv nodes with --cluster-config), as redis-cli -c:\n"
            "      --cluster        search KEY, or keys on stdin, each at its slot's node: the\n"
            "                       map is read with CLUSTER SLOTS from the node given (over\n"
            "                       RESP, at its port less N), a connection to each node is\n"
            "                       made when needed, and an \"Error: MOVED\" answer is\n"
            "                       followed (5 times at most); keys on stdin go one at a time\n"
            "      --guide-port-offset N\n"
            "                       with --cluster: each node's guide port is its RESP port\n"
            "                       (the one the map names) plus N, the same on every node\n"
            "TLS (the server's --tls-port), as redis-cli's:\n"
            "      --tls            speak TLS; the server's certificate must chain to a CA\n"
            "                       (the system's, or --cacert's) and name the host (or --sni)\n"
            "      --cacert FILE    CA certificates (PEM) to check the server's against\n"
            "      --cacertdir DIR  a directory of them, as `openssl rehash` names them\n"
            "      --cert FILE      the client's certificate (PEM), for a server that asks\n"
            "      --key FILE       its private key (PEM)\n"
            "      --sni NAME       the server name to send, and to check its certificate for\n"
            "      --insecure       do not check the server's certificate at all\n"
            "Requests and answers:\n"
            "  -t, --timeout SECS   each request's deadline, its retries included: its whole\n"
            "                       answer must come within SECS of its first try (connect and\n"
            "                       send included), however slowly its bytes come; a request out\n"
            "                       of time fails (\"timed out after ... ms\") and is not sent again\n"
            "                       (default 5; decimals for less than a second: 0.25)\n"
            "      --retries N      try a request again on a new connection when its connection\n"
            "                       failed before its whole answer came (connect refused, closed,\n"
            "                       reset, a send error), up to N times, while --timeout leaves\n"
            "                       time (default 3; 0: never); every try counts. In a batch,\n"
            "                       every unanswered request is sent again, in order, and\n"
            "                       answers stay in order. Tries pause 10 ms, doubling up to\n"
            "                       200 ms. A timeout and an error answer are not retried\n"
            "  -j, --json           print each answer's content as received (JSON text)\n"
            "      --max-answer BYTES\n"
            "                       largest answer content taken (default %zu: 512 MiB);\n"
            "                       an answer announcing more is refused before it is read\n"
            "Repeating and watching:\n"
            "  -r, --repeat COUNT   send the command COUNT times on one connection (-1: until\n"
            "                       Ctrl-C); with --stat, print COUNT lines\n"
            "  -i, --interval SECS  the pause between two: with -r (default 0), with --stat\n"
            "                       (default 1) and with ping --latency (default 0.01); 0 for none\n"
            "      --stat           print a line of the server's figures every second (-i), as\n"
            "                       redis-cli --stat does: keys, the table's memory, the server's\n"
            "                       resident memory, connections, requests, requests per second,\n"
            "                       hits and misses; the column names every 20 lines\n"
            "      --latency        time ping round trips, one after another on one connection\n"
            "  -n, --count N        stop after N round trips (default: at Ctrl-C when stdout\n"
            "                       is a terminal, else after %d)\n"
            "Other:\n"
            "  -e, --echo TEXT      send TEXT raw to a server in --echo mode, print what comes back\n"
            "                       (a server not in --echo mode is said to be so)\n"
            "      --help           show this help and exit\n"
            "  -V, --version        show the version and exit\n"
            "\n"
            "Commands:\n"
            "  search KEY           print KEY's value: a string as is, anything else as JSON;\n"
            "                       for a key with no match, the server's \"No match for 'KEY'.\"\n"
            "  ping                 print pong when the server answers\n"
            "  stats                print the server's counters as indented JSON, each size in bytes\n"
            "                       (X_bytes) followed by the same in K, M or G (X_human); --json:\n"
            "                       the answer as received\n"
            "  ping --latency       print min, avg, p50, p99 and max round trip in milliseconds and\n"
            "                       the number of samples; on a terminal, a line with min, max and\n"
            "                       avg so far is refreshed meanwhile\n"
            "  ACTION VALUE         any other action, and ping or stats followed by a VALUE, is sent\n"
            "                       as binary content ACTION+VALUE, as the guide's app-client does;\n"
            "                       the answer's content is printed\n"
            "Command names are read in any case (SEARCH, Ping), but in HOST PORT ACTION VALUE,\n"
            "which is app-client's form. A KEY with spaces is quoted: search 'two words'.\n"
            "With no command and stdin not a terminal, each line of stdin is one key and each\n"
            "answer one line of stdout, in order (use --json when values may hold newlines).\n"
            "\n"
            "Interactive mode:\n"
            "  With no command and stdin a terminal, a prompt reads commands, with line editing\n"
            "  and history (Tab completes a command name, or lists the names that start as\n"
            "  typed). The history is kept in\n"
            "  $HOME/.evkv_history, or in $EVKV_HISTFILE (set it empty for none). The commands:\n"
            "  search KEY (KEY is the rest of the line, spaces included), ping, stats, help,\n"
            "  quit or exit (Ctrl-D too). When the server has closed the connection, the next\n"
            "  command reconnects; when the server is down, the error is printed and the prompt\n"
            "  stays. The prompt is \"not connected> \" while no connection is open. Ctrl-C\n"
            "  while a command waits for its answer abandons it and its connection, and the\n"
            "  prompt comes back; at the prompt, Ctrl-C leaves.\n"
            "\n"
            "Exit status:\n"
            "  0  found (in a batch: every key found), or answered; the end of interactive mode\n"
            "     or of ping --latency\n"
            "  1  no match (in a batch: at least one key had none)\n"
            "  2  usage error, bad URI, connection or protocol error, a request out of time\n"
            "     or whose --retries are spent (a message on stderr names the cause: timed\n"
            "     out, connection refused, reset, ...)\n"
            "Ctrl-C ends the other modes at once, even while waiting for an answer: evkv-cli\n"
            "ends by the signal, as redis-cli does (a shell shows status 130); ping --latency\n"
            "prints what it measured and exits 0.\n",
            EVKV_DEFAULT_HOST, EVKV_DEFAULT_PORT, EVKV_DEFAULT_PORT, EVKV_DEFAULT_MAX_ANSWER, LATENCY_DEFAULT_COUNT);
}

/* ---- one-shot commands ---- */

/* How a one-shot command is repeated (-r, -i). */
typedef struct repeat {
    long count;         /* times to send it; -1: until Ctrl-C */
    double interval_ms; /* pause between two */
} repeat;

/* Sends one request, count times on one connection, and prints each
 * answer. The connection is made by the first request, within its
 * deadline and its retries. Returns the worst exit status of the
 * answers. */
static int run_request(const cli_options *o, cli_kind kind, const proto_buf *req, const char *key, const repeat *rep)
{
    cli_session s = {.o = o};
    proto_message msg;
    int status = EXIT_FOUND;

    if (req->failed) {
        cli_error("out of memory");
        return EXIT_ERROR;
    }
    for (long i = 0; rep->count < 0 || i < rep->count; i++) {
        if (i > 0)
            cli_sleep_ms(rep->interval_ms);
        if (cli_session_exchange(&s, req, &msg) != 0) {
            status = EXIT_ERROR;
            break;
        }
        int st = cli_print_answer(o, kind, &msg, key, strlen(key));
        status = st > status ? st : status;
        fflush(stdout);
    }
    cli_session_close(&s);
    return status;
}

/* ACTION VALUE, as the guide's client builds it: search as JSON (the name
 * in any case, unless exact_search), anything else as binary content
 * ACTION+VALUE. */
static int run_one(const cli_options *o, const char *action, const char *value, int exact_search, const repeat *rep)
{
    proto_buf req = {0};
    int status;

    if (!proto_utf8_valid(action, strlen(action)) || !proto_utf8_valid(value, strlen(value))) {
        cli_error("the action and the key must be valid UTF-8");
        return EXIT_ERROR;
    }
    if (exact_search ? strcmp(action, "search") == 0 : strcasecmp(action, "search") == 0) {
        cli_encode(&req, CLI_SEARCH, value, strlen(value));
        status = run_request(o, CLI_SEARCH, &req, value, rep);
    } else {
        proto_buf content = {0};
        proto_buf_append(&content, action, strlen(action));
        proto_buf_append(&content, value, strlen(value));
        if (content.failed)
            req.failed = 1;
        else
            proto_encode_message(&req, "binary/custom-client-binary-type", "binary", content.data, content.len);
        proto_buf_free(&content);
        status = run_request(o, CLI_BINARY, &req, value, rep);
    }
    proto_buf_free(&req);
    return status;
}

/* ping or stats with no value: the commands. */
static int run_command(const cli_options *o, cli_kind kind, const repeat *rep)
{
    proto_buf req = {0};
    cli_encode(&req, kind, NULL, 0);
    int status = run_request(o, kind, &req, "", rep);
    proto_buf_free(&req);
    return status;
}

/* What came back from a server that does not echo text: an answer of the
 * evkv protocol (to a frame it could not read) is said to be that, rather
 * than shown as raw bytes. got[0..n) is what came; more of the answer may
 * be on its way. Returns 1 when that was an answer (said), else 0. */
static int echo_was_answer(evkv_client *c, const char *got, size_t n)
{
    proto_message msg;
    json_t *result;

    /* An answer's header is a hundred bytes of JSON: "\0", its length,
     * "{". */
    if (n < 2 || got[0] != '\0' || (n >= 3 && got[2] != '{') || proto_decoder_feed(&c->dec, got, n) != 0)
        return 0;
    /* The rest of the answer, within the timeout (a request of 0 bytes). */
    if (evkv_client_exchange(c, "", 0, &msg) != 0)
        return 0;
    evkv_answer_classify(&msg, "", 0, &result);
    if (json_is_string(result))
        cli_error("the server does not echo (start it with --echo): it answered \"%s\"", json_string_value(result));
    else
        cli_error("the server does not echo (start it with --echo): it answered in the evkv protocol");
    json_decref(result);
    return 1;
}

static int run_echo(const cli_options *o, const char *text)
{
    evkv_client c;
    size_t len = strlen(text), got = 0;
    char *back = malloc(len + 1);
    int status = EXIT_ERROR;

    if (back == NULL)
        return EXIT_ERROR;
    /* One deadline for the connect, the text and its echo, as for a
     * request. */
    if (cli_connect_by(&c, o, evkv_clock_ms() + o->timeout_ms) != 0) {
        cli_error("%s", c.err);
        free(back);
        return EXIT_ERROR;
    }
    if (evkv_client_send(&c, text, len) != 0) {
        cli_error("%s", c.err);
    } else if (evkv_client_recv_raw(&c, back, len, &got) == 0 && memcmp(back, text, len) == 0) {
        cli_write_text(stdout, back, len);
        putchar('\n');
        status = EXIT_FOUND;
    } else if (echo_was_answer(&c, back, got)) {
        /* said */
    } else if (got == len) {
        cli_write_text(stdout, back, len);
        putchar('\n');
        cli_error("the echo differs from what was sent");
    } else if (strncmp(c.err, "timed out", 9) == 0) {
        cli_error("%s (is the server in --echo mode?)", c.err);
    } else {
        cli_error("%s", c.err);
    }
    evkv_client_close(&c);
    free(back);
    return status;
}

/* ---- the command line ---- */

static int usage_error(const char *msg)
{
    fprintf(stderr, "evkv-cli: %s\nTry 'evkv-cli --help'.\n", msg);
    return EXIT_ERROR;
}

/* A usage error in an option's value: "--count must be ..., not 'x'". */
static int usage_error_in(const char *option, const char *err)
{
    fprintf(stderr, "evkv-cli: %s %s\nTry 'evkv-cli --help'.\n", option, err);
    return EXIT_ERROR;
}

enum {
    OPT_HELP = 256,
    OPT_LATENCY,
    OPT_MAX_ANSWER,
    OPT_STAT,
    OPT_RETRIES,
    OPT_USER,
    OPT_TLS,
    OPT_CACERT, /* the EVKV_TLS_OPTIONS, in evkv_tls_config_set's order */
    OPT_CACERTDIR,
    OPT_CERT,
    OPT_KEY,
    OPT_SNI,
    OPT_INSECURE,
    OPT_CLUSTER,
    OPT_GUIDE_PORT_OFFSET,
};

/* Whether word is the command name, in any case. */
static int is_command(const char *word, const char *name)
{
    return strcasecmp(word, name) == 0;
}

/* What the command line asked for, beyond the connection (cli_options). */
typedef struct cli_request {
    const char *echo, *uri;  /* --echo TEXT, --uri URI; NULL when not given */
    const char *user, *pass; /* --user NAME, -a/--pass PASSWORD; NULL when not given */
    int host_set;            /* --host or --port given */
    int latency, stat;       /* ping --latency, --stat */
    int repeat_set;          /* --repeat given (in rep.count) */
    long count;              /* --count; -1: until Ctrl-C */
    double interval_ms;      /* --interval; -1: the mode's default */
    repeat rep;
    int nargs; /* the words after the options: args[0..nargs) */
    char **args;
    int tls;                 /* --tls, or an evkvs:// URI */
    const char *tls_option;  /* the first of --cacert, --cert, ... given, or NULL */
    evkv_tls_config tls_cfg; /* what they said */
    int offset_set;          /* --guide-port-offset given */
} cli_request;

/* parse_options' answer when the command line asks for a command to run. */
#define CLI_GO_ON (-1)

/* Reads one of the TLS options into r. Returns CLI_GO_ON, or the exit
 * status of a usage error. */
static int parse_tls_option(int ch, cli_request *r)
{
    if (ch == OPT_TLS) {
        r->tls = 1;
        return CLI_GO_ON;
    }
    if (ch < OPT_CACERT || ch >= OPT_CACERT + EVKV_TLS_OPTIONS) {
        fprintf(stderr, "Try 'evkv-cli --help'.\n");
        return EXIT_ERROR;
    }
    const char *name = evkv_tls_config_set(&r->tls_cfg, ch - OPT_CACERT, optarg);
    if (r->tls_option == NULL)
        r->tls_option = name;
    return CLI_GO_ON;
}

/* Reads one option ch (getopt_long's answer) into o and r. Returns
 * CLI_GO_ON, or the exit status when it is a usage error or asks for the
 * help or the version. */
static int parse_option(int ch, cli_options *o, cli_request *r)
{
    char err[PARSE_ERR_LEN];
    long long n;
    double secs;

    switch (ch) {
    case 'h':
        o->host = optarg;
        r->host_set = 1;
        break;
    case 'p':
        o->port = optarg;
        r->host_set = 1;
        break;
    case 'u': r->uri = optarg; break;
    case OPT_USER: r->user = optarg; break;
    case 'a': r->pass = optarg; break;
    case 's': o->unix_path = optarg; break;
    case 't':
        if (parse_seconds(optarg, 0.001, 86400, &secs, err, sizeof(err)) != 0)
            return usage_error_in("--timeout", err);
        o->timeout_ms = (int)(secs * 1000);
        break;
    case 'j': o->json = 1; break;
    case OPT_RETRIES:
        if (parse_count(optarg, 0, 1000, &n, err, sizeof(err)) != 0)
            return usage_error_in("--retries", err);
        o->retries = (int)n;
        break;
    case OPT_MAX_ANSWER:
        if (parse_bytes(optarg, 1, SIZE_MAX, &o->max_answer, err, sizeof(err)) != 0)
            return usage_error_in("--max-answer", err);
        break;
    case OPT_CLUSTER: o->cluster = 1; break;
    case OPT_GUIDE_PORT_OFFSET:
        if (parse_count(optarg, -65535, 65535, &n, err, sizeof(err)) != 0)
            return usage_error_in("--guide-port-offset", err);
        o->guide_port_offset = (int)n;
        r->offset_set = 1;
        break;
    case 'e': r->echo = optarg; break;
    case OPT_LATENCY: r->latency = 1; break;
    case OPT_STAT: r->stat = 1; break;
    case 'r':
        if (parse_count(optarg, -1, 1000000000000LL, &n, err, sizeof(err)) != 0 || n == 0)
            return usage_error("--repeat must be a whole number above 0, or -1 for ever");
        r->rep.count = (long)n;
        r->repeat_set = 1;
        break;
    case 'i':
        if (parse_seconds(optarg, 0, 3600, &secs, err, sizeof(err)) != 0)
            return usage_error_in("--interval", err);
        r->interval_ms = secs * 1000;
        break;
    case 'n':
        if (parse_count(optarg, 1, 1000000000, &n, err, sizeof(err)) != 0)
            return usage_error_in("--count", err);
        r->count = (long)n;
        break;
    case OPT_HELP: usage(stdout); return EXIT_FOUND;
    case 'V': printf("evkv-cli %s\n", EVKV_VERSION); return EXIT_FOUND;
    default: return parse_tls_option(ch, r);
    }
    return CLI_GO_ON;
}

/* Reads the options into o and r, and the words after them into r.
 * Returns CLI_GO_ON or an exit status, as parse_option. */
static int parse_options(int argc, char **argv, cli_options *o, cli_request *r)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"uri", required_argument, NULL, 'u'},
        {"user", required_argument, NULL, OPT_USER},
        {"pass", required_argument, NULL, 'a'},
        {"socket", required_argument, NULL, 's'},
        {"timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"max-answer", required_argument, NULL, OPT_MAX_ANSWER},
        {"retries", required_argument, NULL, OPT_RETRIES},
        {"echo", required_argument, NULL, 'e'},
        {"latency", no_argument, NULL, OPT_LATENCY},
        {"stat", no_argument, NULL, OPT_STAT},
        {"repeat", required_argument, NULL, 'r'},
        {"interval", required_argument, NULL, 'i'},
        {"count", required_argument, NULL, 'n'},
        {"tls", no_argument, NULL, OPT_TLS},
        {"cacert", required_argument, NULL, OPT_CACERT},
        {"cacertdir", required_argument, NULL, OPT_CACERTDIR},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"sni", required_argument, NULL, OPT_SNI},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"cluster", no_argument, NULL, OPT_CLUSTER},
        {"guide-port-offset", required_argument, NULL, OPT_GUIDE_PORT_OFFSET},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int ch, status;

    while ((ch = getopt_long(argc, argv, "h:p:u:a:s:t:je:r:i:n:V", longopts, NULL)) != -1)
        if ((status = parse_option(ch, o, r)) != CLI_GO_ON)
            return status;
    r->nargs = argc - optind;
    r->args = argv + optind;
    return CLI_GO_ON;
}

/* Checks how the server is named (-h/-p, -s, -u or HOST PORT first) and
 * reads a --uri into o. Returns CLI_GO_ON or the exit status of a usage
 * error. */
static int resolve_server(cli_options *o, cli_request *r)
{
    if (r->nargs >= 3 && is_command(r->args[0], "search"))
        return usage_error("search takes one KEY: quote a key with spaces (evkv-cli search 'two words')");
    if (r->uri && (r->host_set || o->unix_path))
        return usage_error("--uri names the server: give it without --host, --port or --socket");
    if (o->unix_path && r->host_set)
        return usage_error("--socket cannot go with --host or --port");
    if (r->nargs == 4 && (r->uri || o->unix_path || r->host_set))
        return usage_error("HOST PORT ACTION VALUE names the server: give it without --host, --port, --uri or "
                           "--socket");
    if (r->uri) {
        char why[EVKV_URI_ERR_LEN];
        if (evkv_uri_parse(r->uri, &o->uri, why, sizeof(why)) != 0) {
            fprintf(stderr, "evkv-cli: bad URI '%s': %s\n", r->uri, why);
            return EXIT_ERROR;
        }
        if (o->uri.is_unix) {
            o->unix_path = o->uri.path;
        } else {
            o->host = o->uri.host;
            o->port = o->uri.port;
        }
        r->tls |= o->uri.is_tls;
    }
    if (o->unix_path && o->unix_path[0] == '\0')
        return usage_error("--socket needs a path");
    /* --echo's server speaks no protocol: nothing to log in to */
    if (!r->echo)
        evkv_auth_pick(&o->auth, r->user, r->pass, r->uri && !o->uri.is_unix ? &o->uri : NULL);
    if (r->user && !o->auth.password)
        return usage_error("--user needs a password: -a/--pass, the URI's, or EVKV_AUTH");
    return CLI_GO_ON;
}

/* The commands, in any case, as at the prompt; the guide's form
 * HOST PORT ACTION VALUE keeps app-client's exact "search". */
static int is_ping(const cli_request *r)
{
    return r->nargs == 1 && is_command(r->args[0], "ping");
}

static int is_search(const cli_request *r)
{
    return r->nargs == 1 && is_command(r->args[0], "search");
}

/* --cluster: checks what goes with it. Returns CLI_GO_ON or the exit
 * status of a usage error. */
static int check_cluster(const cli_options *o, const cli_request *r)
{
    int search = is_search(r) || (r->nargs == 2 && is_command(r->args[0], "search"));

    if (r->offset_set && !o->cluster)
        return usage_error("--guide-port-offset goes with --cluster");
    if (!o->cluster)
        return CLI_GO_ON;
    if (!r->offset_set)
        return usage_error("--cluster needs --guide-port-offset N: the cluster's map names each node's RESP port, "
                           "and its guide port is that plus N");
    if (!(search || (r->nargs == 0 && !isatty(STDIN_FILENO))) || r->echo || r->stat || r->repeat_set)
        return usage_error("--cluster goes with search KEY, or keys on stdin");
    if (o->unix_path || r->tls)
        return usage_error("--cluster is for plain TCP: the map names TCP addresses (no --socket, no --tls)");
    return CLI_GO_ON;
}

/* Checks that the options go with the command. Returns CLI_GO_ON or the
 * exit status of a usage error. */
static int check_modes(const cli_options *o, const cli_request *r)
{
    if (r->latency && !is_ping(r))
        return usage_error("--latency goes with the ping command: evkv-cli ping --latency");
    if (r->count >= 0 && !r->latency)
        return usage_error("--count goes with ping --latency");
    if (r->stat && (r->nargs != 0 || r->echo || r->latency))
        return usage_error("--stat takes no command");
    if (r->repeat_set && (r->latency || r->echo || (!r->stat && (r->nargs == 0 || is_search(r)))))
        return usage_error("--repeat goes with one command (search KEY, ping, stats, ACTION VALUE) or --stat");
    if (r->interval_ms >= 0 && !r->latency && !r->stat && !r->repeat_set)
        return usage_error("--interval goes with --repeat, --stat or ping --latency");
    if (r->echo && r->nargs != 0)
        return usage_error("--echo takes no other arguments");
    return check_cluster(o, r);
}

/* Runs what the command line asked for. Returns the exit status. */
static int run(cli_options *o, cli_request *r)
{
    char **args = r->args;
    int nargs = r->nargs, ping = is_ping(r), search = is_search(r);
    int stats = nargs == 1 && is_command(args[0], "stats");

    if (nargs == 4) { /* the guide's form: HOST PORT ACTION VALUE */
        o->host = args[0];
        o->port = args[1];
    }
    evkv_server_name(o->where, sizeof(o->where), o->host, o->port, o->unix_path);
    if (r->interval_ms >= 0)
        r->rep.interval_ms = r->interval_ms;
    if (r->echo)
        return run_echo(o, r->echo);
    if (r->stat)
        return cli_stat_run(o, r->repeat_set ? r->rep.count : -1, r->interval_ms >= 0 ? r->interval_ms : 1000);
    if (nargs == 4)
        return run_one(o, args[2], args[3], 1, &r->rep);
    if (nargs == 2 && o->cluster)
        return cli_cluster_run(o, &args[1], 1);
    if (nargs == 2)
        return run_one(o, args[0], args[1], 0, &r->rep);
    if (ping && r->latency)
        return cli_latency_run(o, r->count, r->interval_ms >= 0 ? r->interval_ms : LATENCY_DEFAULT_INTERVAL_MS);
    if (ping || stats)
        return run_command(o, ping ? CLI_PING : CLI_STATS, &r->rep);
    if ((nargs == 0 || search) && !isatty(STDIN_FILENO))
        return cli_batch_run(o);
    if (nargs == 0) /* stdin is a terminal */
        return cli_repl_run(o);
    if (nargs == 1)
        return usage_error(search ? "give a key (search KEY), or keys on stdin"
                                  : "expected search KEY, ping, stats or ACTION VALUE");
    return usage_error("expected search KEY, ping, stats, ACTION VALUE or HOST PORT ACTION VALUE");
}

/* --tls: checks the TLS options go with it, and sets the client's TLS up.
 * Returns CLI_GO_ON, or the exit status of an error. */
static int tls_setup(const cli_options *o, const cli_request *r)
{
    char err[512];

    if (!r->tls && r->tls_option) {
        fprintf(stderr, "evkv-cli: %s goes with --tls (or an evkvs:// URI)\nTry 'evkv-cli --help'.\n", r->tls_option);
        return EXIT_ERROR;
    }
    if (!r->tls)
        return CLI_GO_ON;
    if (o->unix_path)
        return usage_error("--tls is for TCP: a Unix domain socket speaks plain text");
    if ((r->tls_cfg.cert == NULL) != (r->tls_cfg.key == NULL))
        return usage_error("--cert and --key go together");
    if (evkv_client_tls_setup(&r->tls_cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "evkv-cli: %s\n", err);
        return EXIT_ERROR;
    }
    return CLI_GO_ON;
}

int main(int argc, char **argv)
{
    cli_options o = {.host = EVKV_DEFAULT_HOST,
                     .port = EVKV_DEFAULT_PORT,
                     .timeout_ms = 5000,
                     .retries = 3,
                     .max_answer = EVKV_DEFAULT_MAX_ANSWER};
    cli_request r = {.count = -1, .interval_ms = -1, .rep = {.count = 1, .interval_ms = 0}};
    int status;

    if ((status = parse_options(argc, argv, &o, &r)) != CLI_GO_ON || (status = resolve_server(&o, &r)) != CLI_GO_ON ||
        (status = check_modes(&o, &r)) != CLI_GO_ON || (status = tls_setup(&o, &r)) != CLI_GO_ON)
        return status;
    signal(SIGPIPE, SIG_IGN);
    status = run(&o, &r);
    evkv_client_tls_cleanup();
    return status;
}
