/*
 * evkv_client.h: the client side of the evkv protocol, shared by evkv-cli
 * and evkv-bench: connecting, sending, receiving answers with a deadline,
 * and telling a hit from a miss or an error answer, over TCP or a Unix
 * domain socket.
 *
 * The connection is a non-blocking socket driven with poll(), so every wait
 * is bounded by the client's timeout and a batch can send and receive at
 * once without either side's buffers filling up. Every wait is bounded by
 * a deadline on the monotonic clock, not by the silence between two bytes:
 * a server that trickles an answer cannot hold a client past it. The
 * deadline is either timeout_ms from the start of each call (a connect, a
 * send, an answer), or one instant that every call of a request shares,
 * its retries included (evkv_client_set_deadline), as gRPC's deadlines are.
 *
 * TLS: once evkv_client_tls_setup has run, every TCP connection of the
 * process speaks TLS (OpenSSL 3 on the same non-blocking socket), the
 * server's certificate checked against the CA and the host name unless
 * told otherwise, as redis-cli's --tls options ask.
 */
#ifndef EVKV_CLIENT_H
#define EVKV_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h" /* the deadlines are kept on evkv_clock_ms() */
#include "proto.h"

#define EVKV_DEFAULT_HOST "127.0.0.1"
#define EVKV_DEFAULT_PORT "65432"
/* The largest answer content the clients take unless --max-answer says
 * otherwise. A client must read whatever a correct server sends, and a
 * server's values are as big as its data file makes them: the limit only
 * stops a broken server from making the client allocate without end, so it
 * is generous, as Redis's proto-max-bulk-len (512 MB) is. */
#define EVKV_DEFAULT_MAX_ANSWER ((size_t)512 * 1024 * 1024)

typedef struct evkv_client {
    int fd;           /* -1 when not connected */
    int timeout_ms;   /* longest wait to connect, or for a whole send or answer */
    int64_t deadline; /* 0, or the evkv_clock_ms() by which every call ends instead */
    proto_decoder dec;
    /* The last call failed on the connection itself before an answer came:
     * the connect was refused or failed, or the connection was closed,
     * reset or failed a send or a receive. A request may go again on a new
     * connection. Not set by a timeout, an interrupt, a name that does not
     * resolve or an answer that cannot be read. */
    int gone;
    int interrupted; /* the last call was cut short by evkv_client_set_interrupt's flag */
    int timed_out;   /* the last call failed because its time ran out */
    void *ssl;       /* the connection's OpenSSL SSL, or NULL: plain */
    short tls_want;  /* what TLS waits for (POLLIN, POLLOUT) when a call ended wanting the other, or 0 */
    char err[256];   /* why the last call failed */
} evkv_client;

/* What an answer to a search says. */
typedef enum evkv_answer {
    EVKV_ANSWER_HIT = 0, /* the key was found: "result" is its value */
    EVKV_ANSWER_MISS,    /* "No match for '<key>'." */
    EVKV_ANSWER_BINARY,  /* a binary answer (to a binary request) */
    EVKV_ANSWER_ERROR,   /* an "Error: ..." result or a malformed answer */
} evkv_answer;

/* What --tls and its options ask for. Strings are borrowed: they must
 * outlive the setup call only. */
typedef struct evkv_tls_config {
    const char *cacert, *cacertdir; /* CA certificates for the server's (NULL, NULL: the system's) */
    const char *cert, *key;         /* the client's certificate and key, or NULL */
    const char *sni;                /* the name sent (and checked) instead of the host's, or NULL */
    int insecure;                   /* do not check the server's certificate at all */
} evkv_tls_config;

/* The TLS options both clients take after --tls, in this order:
 * --cacert, --cacertdir, --cert, --key, --sni, --insecure. */
enum { EVKV_TLS_OPTIONS = 6 };
/* Sets option i (0 .. EVKV_TLS_OPTIONS - 1, in the order above) of t to
 * arg (ignored by --insecure). Returns the option's name, for messages. */
const char *evkv_tls_config_set(evkv_tls_config *t, int i, const char *arg);

/* Makes every TCP connection the process opens from now on speak TLS with
 * cfg. Returns 0, or -1 with err (a file OpenSSL cannot read, a key that is
 * not the certificate's). Not thread-safe: call it before any client. */
int evkv_client_tls_setup(const evkv_tls_config *cfg, char *err, size_t errlen);
/* Frees what evkv_client_tls_setup made. */
void evkv_client_tls_cleanup(void);

/* One TLS connection over a connected non-blocking socket, for a client
 * with its own event loop (evkv-bench); evkv_client's calls use them too.
 * Whether evkv_client_tls_setup has run: */
int evkv_tls_enabled(void);
/* A TLS connection on fd to host (its name sent and checked, per the
 * setup), or NULL with err. Free it with evkv_tls_free before closing fd. */
void *evkv_tls_new(int fd, const char *host, char *err, size_t errlen);
/* One step of the handshake: 0 when done, POLLIN or POLLOUT for the
 * readiness it waits for, or -1 with err (a refusal: another try would
 * meet the same). */
int evkv_tls_handshake(void *tls, char *err, size_t errlen);
/* recv(2) and send(2) through the TLS connection: a count, 0 at the end of
 * input, or -1 with errno (EAGAIN, *want then POLLOUT for a read or
 * POLLIN for a write that waits for the other direction, else 0; EPROTO
 * with err). */
long evkv_tls_read(void *tls, void *buf, size_t len, short *want, char *err, size_t errlen);
long evkv_tls_write(void *tls, const void *buf, size_t len, short *want, char *err, size_t errlen);
/* Bytes decrypted and not read yet, which poll will not announce. */
size_t evkv_tls_pending(void *tls);
/* Sends close_notify if the socket takes it now, and frees tls. */
void evkv_tls_free(void *tls);

/* Connects to host:port (a name, an IPv4 or an IPv6 address, tried in
 * getaddrinfo's order) by deadline (an evkv_clock_ms() value), or when
 * deadline is 0 within timeout_ms; the calls that follow keep that
 * deadline (0: timeout_ms each). Answers whose content-length is
 * over max_answer bytes are refused before their bytes are read. Returns 0,
 * or -1 with c->err; a failed c holds nothing (evkv_client_close on it is
 * harmless). */
int evkv_client_connect(evkv_client *c, const char *host, const char *port, int timeout_ms, int64_t deadline,
                        size_t max_answer);
/* The same over the Unix domain socket at path (at most 107 bytes). */
int evkv_client_connect_unix(evkv_client *c, const char *path, int timeout_ms, int64_t deadline, size_t max_answer);
/* Makes every call of c from now on end by deadline (an evkv_clock_ms()
 * value: a request's, shared by its tries), or with 0 within timeout_ms
 * of its start. A call that runs out of time fails with c->timed_out set
 * and c->err "timed out after TIMEOUT_MS ms waiting ...". */
void evkv_client_set_deadline(evkv_client *c, int64_t deadline);
/* Sends all len bytes within the timeout (or by the deadline). Returns 0,
 * or -1 with c->err. */
int evkv_client_send(evkv_client *c, const void *buf, size_t len);
/* Sends the request req[0..len) and waits for the next answer, the two
 * within the timeout (from the call), or by the deadline. *msg is borrowed from c->dec until
 * the next call. Returns 0, or -1 with c->err (timeout, closed, bad
 * framing). */
int evkv_client_exchange(evkv_client *c, const void *req, size_t len, proto_message *msg);
/* Reads exactly len raw bytes (echo mode) within the timeout. Returns 0, or
 * -1 with c->err. Either way *got (if got is not NULL) is the number of
 * bytes that came (fewer than len when the server closed the connection or
 * the time ran out). */
int evkv_client_recv_raw(evkv_client *c, void *buf, size_t len, size_t *got);
/* Reads what has arrived without waiting and feeds it to the decoder.
 * Returns bytes read (0 if none yet), or -1 with c->err (closed, error). */
long evkv_client_read_some(evkv_client *c);
/* Writes what the socket takes now without waiting. Returns bytes written
 * (possibly 0), or -1 with c->err. */
long evkv_client_write_some(evkv_client *c, const void *buf, size_t len);
void evkv_client_close(evkv_client *c);

/* Lets a signal cut short every wait of every client of the process (to
 * connect, to send, for an answer): once *flag (set by the caller's signal
 * handler) is non-zero, the call fails at once with c->interrupted set and
 * c->err "interrupted"; the connection is then out of step (a request may
 * be half sent or its answer half read): close it. The flag is checked
 * before each wait, and a wait ends when a signal arrives (EINTR): set the
 * handler without SA_RESTART. wait_mask, if not NULL, is the signal mask
 * to wait with (ppoll), for a caller that blocks its signals but while it
 * waits, so that none slips in between the check and the wait; NULL waits
 * with the mask in force. flag and wait_mask are borrowed: they must stay
 * valid until a call with flag NULL, which turns this off. Not for a
 * program whose threads are already running clients. */
void evkv_client_set_interrupt(const volatile sig_atomic_t *flag, const sigset_t *wait_mask);

/* What to add after a failed decoder's errstr so that the user knows what
 * to do: " (--max-answer raises it)" for an answer over the limit, else "".
 * A static string. */
const char *evkv_decoder_hint(const proto_decoder *d);

/* Classifies msg as the answer to a search for key. *result is the
 * answer's "result" (a new reference: json_decref it), or NULL when the
 * answer is binary or has none. */
evkv_answer evkv_answer_classify(const proto_message *msg, const char *key, size_t key_len, json_t **result);

#endif
