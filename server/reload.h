/*
 * reload.h: SIGHUP's reload, run by the main thread.
 *
 * The config file is read again and the data file loaded into a new table
 * by a loader thread, off to the side, while the workers go on answering
 * from the old one. Once loaded, the new table is made the server's current
 * one and each worker moves to it between two requests; once the last
 * worker has let go of the old table, the reload is announced (the log's
 * "reloaded", READY=1 to systemd), so that a request sent after that is
 * answered from the new table, and the old table is freed here, not by a
 * worker. If anything fails, nothing changes but the log line saying why.
 * A SIGHUP during a reload queues one more. The TLS listeners' certificate,
 * key and CA files are read again too, at once (tls.h): a bad one keeps
 * the context in use, whatever becomes of the table.
 */
#ifndef EVKV_RELOAD_H
#define EVKV_RELOAD_H

#include <event2/event.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include "dataset.h"
#include "options.h"
#include "server.h"

/* A reload's data file, loaded by the loader thread. */
typedef struct reload_job {
    char *data; /* NULL: the built-in table */
    datafile_format format;
    char *shard_name; /* --shard, --shard-config, --shard-pool: NULL if not given */
    char *shard_config;
    char *shard_pool;
    char *cluster_config; /* --cluster-config, --cluster-myself: NULL if not given */
    char *cluster_myself;
    int cluster_full_coverage;
    int echo;
    dataset *result;   /* NULL if the load failed: see err */
    atomic_int cancel; /* set by a stop: give up loading */
    char err[512];
    int done_fd; /* the loader writes a byte here when it is done */
} reload_job;

typedef struct reloader {
    const server_config *cfg; /* the running configuration */
    int argc;                 /* the command line, read again with the file */
    char **argv;
    server *server;
    struct event_base *base; /* the main thread's */
    int stopping;            /* a stop came: no more reloads */
    pthread_t loader;
    int loading;      /* the loader thread runs */
    int reload_again; /* a SIGHUP came during a reload */
    /* A table swapped in, waiting for every worker to move to it before
     * the reload is announced: the swapped-out one (in retiring) is then
     * no worker's any more. */
    dataset *settling;
    char settled[PATH_MAX + 512]; /* what "reloaded: ..." then says */
    reload_job job;
    int pipe[2];    /* the loader's "done" */
    char *log_file; /* the log file in use (NULL: stderr), as last applied */
    struct acl_set *users; /* the users read for the reload under way (NULL: keep the old ones) */
    /* tables swapped out, freed once no worker answers from them */
    dataset **retiring;
    size_t nretiring;
    struct event *retire_timer, *done_ev;
} reloader;

/* Sets r up on the main thread's loop base, for srv running with cfg (from
 * argc/argv) and logging to log_file (NULL: stderr). Returns 0 or -1. */
int reloader_init(reloader *r, struct event_base *base, server *srv, const server_config *cfg, int argc, char **argv,
                  const char *log_file);
/* SIGHUP: reopens the log and starts a reload, or queues one. */
void reloader_hup(reloader *r);
/* A stop: a load in progress is given up, and nothing more is announced. */
void reloader_stop(reloader *r);
/* Waits for a loader still running and frees what r holds. */
void reloader_free(reloader *r);

#endif
