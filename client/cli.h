/*
 * cli.h: what evkv-cli's files share. cli.c reads the command line and
 * runs the one-shot commands, the batch from stdin and the latency probe;
 * cli_repl.c is the interactive prompt. Both talk to the server named by
 * one cli_options and print answers the same way.
 */
#ifndef EVKV_CLI_H
#define EVKV_CLI_H

#include <stddef.h>
#include <sys/un.h>

#include "evkv_client.h"

/* Exit statuses, as --help documents them. */
enum {
    EXIT_FOUND = 0,    /* found (every key, in a batch), or answered */
    EXIT_NO_MATCH = 1, /* no match (for at least one key, in a batch) */
    EXIT_ERROR = 2,    /* usage, connection or protocol error */
};

/* What a request asks; it decides how the answer is printed. */
typedef enum cli_kind {
    CLI_SEARCH = 0, /* {"action": "search", "value": KEY}: the value, or the miss text */
    CLI_BINARY,     /* binary content ACTION+VALUE, the guide's other actions: the content */
    CLI_PING,       /* {"action": "ping"}: "pong" */
    CLI_STATS,      /* {"action": "stats"}: the counters, pretty-printed */
} cli_kind;

typedef struct cli_options {
    const char *host, *port; /* the TCP server, when unix_path is NULL */
    const char *unix_path;   /* a Unix domain socket, or NULL */
    int timeout_ms;          /* longest wait to connect and for each whole answer */
    size_t max_answer;       /* largest answer content taken (--max-answer) */
    int json;                /* print each answer's content as received */
    char where[160];         /* the server as messages and the prompt name it */
    /* Where a -u URI's parts are kept. */
    char uri_host[128], uri_port[8], uri_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} cli_options;

/* Connects c to the server of o; on failure prints why on stderr and
 * returns -1 (c then holds nothing to free). */
int cli_connect(evkv_client *c, const cli_options *o);

/* Appends a request of the given kind to req (key is used by CLI_SEARCH
 * only; CLI_BINARY is built by the caller). */
void cli_encode(proto_buf *req, cli_kind kind, const char *key, size_t key_len);

/* Prints the answer msg to a request of the given kind for key (search)
 * on stdout, or what is wrong with it on stderr. Returns the exit status
 * that answer deserves. */
int cli_print_answer(const cli_options *o, cli_kind kind, const proto_message *msg, const char *key, size_t key_len);

/* Runs the interactive prompt until quit, exit or end of input. stdin is
 * a terminal. Returns the exit status (0). */
int cli_repl_run(const cli_options *o);

#endif
