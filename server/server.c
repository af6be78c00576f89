/*
 * server.c: what the workers share (see server.h).
 */
#include "server.h"

#include <string.h>
#include <time.h>

#include "stats.h"
#include "worker.h"

int server_init(server *srv, const server_options *opt, dataset *d, worker *workers, int nworkers)
{
    struct timespec ts;
    memset(srv, 0, sizeof(*srv));
    srv->opt = opt;
    srv->current = d;
    srv->workers = workers;
    srv->nworkers = nworkers;
    srv->done_fd = -1;
    srv->stats_json = server_stats_json;
    srv->server_info = stats_resp_info;
    atomic_init(&srv->conns, 0);
    atomic_init(&srv->reloads, 0);
    atomic_init(&srv->reload_failures, 0);
    atomic_init(&srv->acl_load_failures, 0);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    srv->started = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    return pthread_mutex_init(&srv->lock, NULL) == 0 ? 0 : -1;
}

void server_free(server *srv)
{
    dataset_release(srv->current);
    srv->current = NULL;
    pthread_mutex_destroy(&srv->lock);
}

dataset *server_current(server *srv)
{
    pthread_mutex_lock(&srv->lock);
    dataset *d = dataset_ref(srv->current);
    pthread_mutex_unlock(&srv->lock);
    return d;
}

dataset *server_swap(server *srv, dataset *d)
{
    pthread_mutex_lock(&srv->lock);
    dataset *old = srv->current;
    srv->current = d;
    pthread_mutex_unlock(&srv->lock);
    for (int i = 0; i < srv->nworkers; i++)
        if (srv->workers[i].base != NULL)
            worker_notify(&srv->workers[i], WORKER_CMD_SWAP);
    return old;
}
