/*
 * server.h: evkv-server's settings, and what its workers share: the
 * current dataset, the connection count and the reload counters. Each
 * worker (worker.h) is one thread with its own event loop.
 */
#ifndef EVKV_SERVER_H
#define EVKV_SERVER_H

#include <pthread.h>
#include <stdatomic.h>

#include "dataset.h"
#include "datafile.h"
#include "log.h"
#include "proto.h"

/* How long a stopping server waits for answers to drain before it closes
 * the connections still open. */
#define SERVER_STOP_GRACE_SECONDS 5
/* Descriptors kept back from --max-conns's default (listener, logs, ...). */
#define SERVER_FD_RESERVE              32
#define SERVER_DEFAULT_IDLE_TIMEOUT    60 /* seconds */
#define SERVER_DEFAULT_MESSAGE_TIMEOUT 10 /* seconds */
#define SERVER_DEFAULT_MAX_OUTPUT      (1024 * 1024)

/* How errors name each listener setting: the flag ("--port"), or where
 * the config file set it ("evkv.conf:3: port"). */
typedef struct listen_names {
    const char *host, *port, *unix_path, *resp_port, *resp_unix_path, *tls_port, *resp_tls_port;
} listen_names;

/* --tls-auth-clients: whether a client must show a certificate. */
typedef enum tls_auth {
    TLS_AUTH_YES,      /* required, and verified against the CA (the default, as Redis's) */
    TLS_AUTH_NO,       /* not asked for */
    TLS_AUTH_OPTIONAL, /* asked for; one shown must verify, none is accepted */
} tls_auth;

/* --tls-auth-clients-user: what of a client certificate names its ACL user. */
typedef enum tls_user {
    TLS_USER_OFF, /* nothing: a TLS client logs in as a plain one does (the default) */
    TLS_USER_CN,  /* the subject's common name, once the certificate verified */
} tls_user;

/* The TLS listeners' settings, named as Redis's tls-* settings. All but
 * the ports are read again by SIGHUP's reload (tls.h). */
typedef struct tls_options {
    const char *cert_file, *key_file, *key_file_pass; /* the server's certificate (chain) and key */
    const char *ca_cert_file, *ca_cert_dir;           /* what client certificates are verified against */
    tls_auth auth_clients;
    tls_user auth_clients_user; /* what of a verified client certificate logs its connection in */
    const char *protocols;    /* "TLSv1.2 TLSv1.3" */
    const char *ciphers;      /* TLS 1.2's cipher list, or NULL: OpenSSL's */
    const char *ciphersuites; /* TLS 1.3's, or NULL: OpenSSL's */
    int prefer_server_ciphers;
    int session_caching;
    size_t session_cache_size;
    long session_cache_timeout; /* seconds */
} tls_options;

typedef struct server_options {
    const char *host;           /* address to listen on */
    const char *port;           /* port, as text ("0": a free one), or NULL: none */
    const char *unix_path;      /* Unix domain socket to listen on instead, or NULL */
    int unix_mode;              /* its permissions (and resp_unix_path's), or -1 for the umask's */
    const char *resp_port;      /* RESP listener's port on host ("0": a free one), or NULL: none */
    const char *resp_unix_path; /* RESP listener's Unix domain socket, or NULL */
    const char *tls_port;       /* the guide's protocol over TLS on host, or NULL: none */
    const char *resp_tls_port;  /* RESP over TLS on host, or NULL: none */
    tls_options tls;            /* the TLS listeners' certificates and rules */
    listen_names names;         /* where each of the above was set, for errors */
    const char *data;           /* data file, or NULL for the built-in table */
    datafile_format format;     /* how to read the data file */
    const char *shard_name;     /* --shard: keep only this nutcracker server's keys, or NULL */
    const char *shard_config;   /* the nutcracker config file naming it */
    const char *shard_pool;     /* its pool there, or NULL: the file's only one */
    const char *cluster_config; /* --cluster-config: the Redis Cluster map, or NULL */
    const char *cluster_myself; /* this node's id in it */
    int cluster_full_coverage;  /* a map with a slot of no owner is refused */
    const char *requirepass;    /* the default user's password, or NULL (ignored with aclfile) */
    const char *aclfile;        /* Redis ACL file with the users, or NULL */
    int protected_mode;         /* refuse non-loopback peers while "default" has no password */
    int echo;                   /* raw echo mode: send back whatever arrives */
    log_level log_level;        /* LOG_DEBUG logs each connection and request */
    const char *log_file;       /* log here instead of stderr, or NULL */
    proto_limits limits;
    size_t max_conns;     /* connections past this are refused */
    size_t max_output;    /* unsent answer bytes at which a connection stops being read */
    long idle_timeout;    /* seconds a connection may do nothing (0: forever) */
    long message_timeout; /* seconds from a message's first byte to its last (0: forever) */
    int threads;          /* workers, each with its own event loop */
} server_options;

struct worker;
struct resp_server_info;
struct tls_context;

/* What the workers share: read-only, but for the counters and the current
 * dataset (under lock). */
typedef struct server {
    const server_options *opt;
    pthread_mutex_t lock;
    dataset *current; /* under lock */
    struct worker *workers;
    int nworkers;
    atomic_size_t conns;   /* open connections, in all workers */
    atomic_ullong reloads; /* tables swapped in by SIGHUP */
    atomic_ullong reload_failures;
    atomic_ullong acl_load_failures; /* reloads that kept the old users: the ACL file was bad */
    double started; /* CLOCK_MONOTONIC seconds at start */
    int resp_port;  /* the RESP listener's TCP port, once bound (0: none, or a Unix socket) */
    int done_fd;    /* a worker writes a byte here when its loop ends */
    struct tls_context *tls; /* the TLS listeners' context, or NULL: none (owned by main) */
    /* What the workers hand their protocols for the stats action and INFO
     * (stats.c's, set by server_init); arg is a worker. */
    int (*stats_json)(void *arg, proto_buf *out);
    void (*server_info)(void *arg, struct resp_server_info *info);
} server;

/* Sets srv up to serve d (whose reference it takes). Returns 0 or -1. */
int server_init(server *srv, const server_options *opt, dataset *d, struct worker *workers, int nworkers);
void server_free(server *srv);
/* Makes d (whose reference it takes) the current dataset and tells every
 * worker to move to it between two requests. Returns the previous one,
 * whose reference passes to the caller: when it is the last one left (the
 * workers have all moved), the caller frees the old table, so that no
 * worker spends its time on that. */
dataset *server_swap(server *srv, dataset *d);
/* A new reference to the current dataset. */
dataset *server_current(server *srv);

#endif
