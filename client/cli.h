/*
 * cli.h: what evkv-cli's modes share (cli_common.c): the server they talk
 * to (one cli_options), connecting to it, encoding the requests and
 * printing the answers the same way in every mode.
 *
 * The modes are each a file of their own, declared in cli_modes.h: the
 * command line and its one-shot commands (cli.c, which runs the others),
 * the batch from stdin (cli_batch.c), ping --latency (cli_latency.c),
 * --stat (cli_stat.c) and the interactive prompt (cli_repl.c). Every mode
 * uses this file; none calls another.
 */
#ifndef EVKV_CLI_H
#define EVKV_CLI_H

#include <stddef.h>

#include "evkv_client.h"
#include "auth.h"
#include "uri.h"

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
    const char *host, *port; /* the TCP server, when unix_path is NULL (borrowed: argv or uri) */
    const char *unix_path;   /* a Unix domain socket, or NULL */
    int timeout_ms;          /* --timeout: each request's deadline, its retries included */
    int retries;             /* --retries: tries after the first of a request whose connection failed */
    size_t max_answer;       /* largest answer content taken (--max-answer) */
    int json;                /* print each answer's content as received */
    char where[160];         /* the server as messages and the prompt name it */
    evkv_uri uri;            /* where a -u URI's parts are kept */
    evkv_auth auth;          /* what each connection logs in with (auth.h): --user, -a, the URI, EVKV_AUTH */
    int cluster;             /* --cluster: search routed by slot (cli_cluster.c) */
    int guide_port_offset;   /* --guide-port-offset: a node's guide port less its RESP port */
} cli_options;

/* Connects c to the server of o, within --timeout; on failure prints why
 * on stderr and returns -1 (c then holds nothing to free). */
int cli_connect(evkv_client *c, const cli_options *o);
/* Connects c to the server of o by deadline (evkv_clock_ms; 0: within
 * --timeout), which c's calls then keep. Returns 0, or -1 with c->err
 * (nothing printed; c holds nothing to free), c->gone when the connect
 * itself failed (refused, reset: worth another try). */
int cli_connect_by(evkv_client *c, const cli_options *o, int64_t deadline);
/* After the try number tries (from 1) of a request whose deadline is
 * deadline failed on its connection (refused, reset, closed: c->gone):
 * whether another may be made. It may while the tries after the first
 * stay within --retries and the deadline leaves time after a pause; the
 * pause is *pause_ms doubled (10 ms to start, 200 at most), kept in
 * *pause_ms for the next: start it at 0 for each request. Returns 0 once
 * the pause is over (cut short by a signal with a handler), or -1: give
 * up, no pause made. */
int cli_retry_wait(const cli_options *o, int64_t deadline, int tries, int *pause_ms);

/* One connection kept from request to request (the prompt, -r, --stat),
 * opened when needed. Zero it but for o to start; cli_session_close it. */
typedef struct cli_session {
    const cli_options *o; /* borrowed */
    evkv_client c;
    int connected; /* c holds an open connection */
} cli_session;

/* Opens s's connection; on failure prints why and returns -1. */
int cli_session_connect(cli_session *s);
/* Whether s holds a connection still of use: one the server has closed
 * meanwhile (an idle timeout, a restart), or on which something nobody
 * asked for came, is closed first. */
int cli_session_alive(cli_session *s);
/* Sends req and waits for its answer, on s's connection or a new one,
 * all within --timeout of the call: the request's deadline, its retries
 * included. When the connection fails before the whole answer came (a
 * connect refused, a connection closed or reset, a send error), the
 * request is tried again on a new one (cli_retry_wait), up to --retries
 * times while the deadline leaves time, so that a restart goes unnoticed;
 * with --retries 0, a kept connection the server has closed or reset is
 * still replaced once without a word, as a restart or an idle timeout
 * between two requests closes it. A request whose deadline passes is not
 * sent again: it fails with "timed out after ... ms". Returns 0 with *msg
 * (borrowed from s->c until the next call), or -1 once the error (the
 * last try's) is printed; the connection is then closed (after a timeout
 * or a bad answer it is out of step). When a signal cut the wait short
 * (evkv_client_set_interrupt), s->c.interrupted is set and nothing is
 * printed but a failed connect. */
int cli_session_exchange(cli_session *s, const proto_buf *req, proto_message *msg);
void cli_session_close(cli_session *s);

/* Appends a request of the given kind to req (key is used by CLI_SEARCH
 * only; CLI_BINARY is built by the caller). */
void cli_encode(proto_buf *req, cli_kind kind, const char *key, size_t key_len);

/* Prints the answer msg to a request of the given kind for key (search)
 * on stdout, or what is wrong with it on stderr. Returns the exit status
 * that answer deserves. */
int cli_print_answer(const cli_options *o, cli_kind kind, const proto_message *msg, const char *key, size_t key_len);

/* Whether msg is the answer to a ping: {"result": "pong"}. */
int cli_answer_is_pong(const proto_message *msg);

/* Prints the start of an answer that is not what was expected on stderr,
 * "evkv-cli: unexpected answer<what>: ...". */
void cli_print_unexpected(const proto_message *msg, const char *what);

/* Writes n bytes a server sent to f: as they are into a pipe or a file;
 * on a terminal, control characters as \xNN (tab and newline as they are). */
void cli_write_text(FILE *f, const char *s, size_t n);

/* Writes n bytes into buf (len bytes) as a person reads a size: "512B",
 * "1.5K", "140.2M" (powers of 1024, one decimal), as redis-cli does. */
void cli_human_bytes(unsigned long long n, char *buf, size_t len);

/* Sleeps ms milliseconds, or less when a signal with a handler comes. */
void cli_sleep_ms(double ms);

/* Prints "evkv-cli: " and the message on stderr, after what is on stdout. */
__attribute__((format(printf, 1, 2))) void cli_error(const char *fmt, ...);

#endif
