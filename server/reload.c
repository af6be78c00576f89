/*
 * reload.c: SIGHUP's reload (see reload.h).
 */
#include "reload.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "acl.h"
#include "log.h"
#include "notify.h"
#include "tls.h"

/* The nice value a reload's threads run at: on a machine with no core to
 * spare, the workers keep theirs, and a reload takes the CPU they leave.
 * The lowest: at 10, a 10M-key reload on 2 cores under evkv-bench -c 50
 * took p99 to 2.1-6.3 times its value without a reload, at 19 to 1.1-1.5
 * times (scripts/bench-load), the reload taking 2.5-6 s instead of 3-4. */
#define RELOAD_NICE 19

static void *loader_main(void *arg)
{
    reload_job *job = arg;
    char byte = 1;

    /* Linux's nice is a thread's own, and the threads this one starts (the
     * file's reader) take it over. Failing is harmless: the reload then
     * only competes with the workers as any thread does. */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), RELOAD_NICE);
    dataset_shard_spec spec = {.name = job->shard_name,
                               .config = job->shard_config,
                               .pool = job->shard_pool,
                               .cluster_config = job->cluster_config,
                               .cluster_myself = job->cluster_myself,
                               .cluster_full_coverage = job->cluster_full_coverage};
    /* one parsing thread: the other cores are the workers' */
    job->result = dataset_load(job->data, job->format, job->echo, &spec, &job->cancel, 1, job->err, sizeof(job->err));
    ssize_t n = write(job->done_fd, &byte, 1);
    (void)n;
    return NULL;
}

/* Frees the file names a job was given. */
static void job_free_names(reload_job *job)
{
    free(job->data);
    free(job->shard_name);
    free(job->shard_config);
    free(job->shard_pool);
    free(job->cluster_config);
    free(job->cluster_myself);
    job->data = job->shard_name = job->shard_config = job->shard_pool = NULL;
    job->cluster_config = job->cluster_myself = NULL;
}

/* A copy of s (NULL stays NULL); sets *lost when out of memory. */
static char *copy_or_null(const char *s, int *lost)
{
    char *c = s ? strdup(s) : NULL;
    if (s && c == NULL)
        *lost = 1;
    return c;
}

/* Warns about each setting a reload cannot change (OPTION_RESTART in the
 * option table), one line each, naming it. */
static void warn_restart_needed(const server_config *was, const server_config *now)
{
    for (size_t i = 0; i < options_count; i++) {
        const option_spec *spec = &options_table[i];
        if ((spec->flags & OPTION_RESTART) && options_differ(spec, was, now))
            log_warn("reload: %s changed; that needs a restart, the running value stays", spec->name);
    }
}

/* Moves the log to path (NULL: stderr) if that is not where it goes; the
 * old log says where the new one is. */
static void apply_log_file(reloader *r, const char *path)
{
    char err[PATH_MAX + 64];
    if (path == NULL ? r->log_file == NULL : r->log_file != NULL && strcmp(path, r->log_file) == 0)
        return;
    char *copy = path ? strdup(path) : NULL;
    if (path && copy == NULL) {
        log_error("reload: out of memory");
        return;
    }
    log_info("reload: the log goes on in %s", path ? path : "stderr");
    if (log_set_file(path, err, sizeof(err)) != 0) {
        log_error("reload: %s; the log stays here", err);
        free(copy);
        return;
    }
    free(r->log_file);
    r->log_file = copy;
}

/* The TLS context, built again from the files (read again even under the
 * same names: a rotated certificate keeps its path). New connections get
 * it; established ones keep theirs. A bad file keeps the old context. */
static void reload_tls(reloader *r, const server_options *next)
{
    char err[512];

    if (r->server->tls == NULL)
        return;
    if (tls_context_reload(r->server->tls, &next->tls, err, sizeof(err)) != 0) {
        log_error("reload: TLS: %s; new TLS connections still get the certificates loaded before", err);
        return;
    }
    log_info("reload: TLS certificates read again from %s", next->tls.cert_file);
}

/* The users, read again here (an ACL file is a few lines) into r->users,
 * for the table the loader brings. A bad file keeps the users as they were,
 * with Redis's description of it in the log and a count in the stats. */
static void reload_users(reloader *r, const server_options *opt)
{
    char why[4096];
    acl_set_release(r->users);
    r->users = acl_set_load(opt->aclfile, opt->requirepass, why, sizeof(why));
    if (r->users == NULL) {
        log_error("reload: %s; the users stay as they were", why);
        atomic_fetch_add(&r->server->acl_load_failures, 1);
    }
}

static void reload_start(reloader *r)
{
    server_config next;
    char err[512];
    const server_options *now = &r->cfg->opt;

    systemd_notify("RELOADING=1");
    if (options_parse(&next, r->argc, r->argv, err, sizeof(err)) != OPTIONS_OK) {
        log_error("reload: %s; nothing changed", err);
        atomic_fetch_add(&r->server->reload_failures, 1);
        options_free(&next);
        systemd_notify("READY=1");
        return;
    }
    warn_restart_needed(r->cfg, &next);
    log_set_level(next.opt.log_level);
    apply_log_file(r, next.opt.log_file);
    reload_tls(r, &next.opt);
    reload_users(r, &next.opt);

    memset(&r->job, 0, sizeof(r->job));
    int lost = 0;
    r->job.data = copy_or_null(next.opt.data, &lost);
    /* the shard config is read again with the data file */
    r->job.shard_name = copy_or_null(next.opt.shard_name, &lost);
    r->job.shard_config = copy_or_null(next.opt.shard_config, &lost);
    r->job.shard_pool = copy_or_null(next.opt.shard_pool, &lost);
    /* and so is the cluster map: the map and the keys change together */
    r->job.cluster_config = copy_or_null(next.opt.cluster_config, &lost);
    r->job.cluster_myself = copy_or_null(next.opt.cluster_myself, &lost);
    r->job.cluster_full_coverage = next.opt.cluster_full_coverage;
    r->job.format = next.opt.format;
    r->job.echo = now->echo; /* echo mode takes a restart */
    r->job.done_fd = r->pipe[1];
    atomic_init(&r->job.cancel, 0);
    options_free(&next);
    if (lost) {
        job_free_names(&r->job);
        log_error("reload: out of memory; nothing changed");
        systemd_notify("READY=1");
        return;
    }
    log_info("reloading %s", r->job.data ? r->job.data : "the built-in table");
    if (pthread_create(&r->loader, NULL, loader_main, &r->job) != 0) {
        log_error("reload: cannot start a thread; nothing changed");
        job_free_names(&r->job);
        systemd_notify("READY=1");
        return;
    }
    r->loading = 1;
}

/* How often the main thread looks for swapped-out tables to free. */
#define RETIRE_CHECK_USEC 20000

static void reload_done(reloader *r);

/* Every worker answers from the new table: the reload is done, and says
 * so (the log line, and READY=1 to systemd, come after the last request
 * answered from the old table). */
static void reload_settled(reloader *r)
{
    r->settling = NULL;
    log_info("reloaded: %s", r->settled);
    reload_done(r);
}

/* Frees the swapped-out tables no worker answers from any more, here on
 * the main thread: freeing a big table takes milliseconds no worker should
 * spend. Checks again later while some are still in use. */
static void retire_cb(evutil_socket_t fd, short what, void *arg)
{
    reloader *r = arg;
    size_t kept = 0;
    (void)fd;
    (void)what;

    for (size_t i = 0; i < r->nretiring; i++) {
        if (dataset_unshared(r->retiring[i])) {
            if (r->retiring[i] == r->settling)
                reload_settled(r);
            dataset_release(r->retiring[i]);
        } else {
            r->retiring[kept++] = r->retiring[i];
        }
    }
    r->nretiring = kept;
    if (kept > 0) {
        struct timeval tv = {0, RETIRE_CHECK_USEC};
        evtimer_add(r->retire_timer, &tv);
    }
}

/* Takes the main thread's reference to a swapped-out dataset. */
static void retire(reloader *r, dataset *d)
{
    dataset **grown = realloc(r->retiring, (r->nretiring + 1) * sizeof(*grown));
    if (grown == NULL) {
        if (d == r->settling)
            reload_settled(r); /* cannot tell when: say it now */
        dataset_release(d);    /* freed by the last worker to let go, then */
        return;
    }
    r->retiring = grown;
    r->retiring[r->nretiring++] = d;
    retire_cb(-1, 0, r);
}

/* A reload is over (swapped in and settled, or failed): systemd hears
 * READY=1, and a SIGHUP that came meanwhile starts the next one. */
static void reload_done(reloader *r)
{
    if (r->stopping)
        return;
    systemd_notify("READY=1");
    if (r->reload_again) {
        r->reload_again = 0;
        reload_start(r);
    }
}

/* The loader thread is done: swap its table in, or keep the old one. */
static void reload_finish(reloader *r)
{
    char what[PATH_MAX + 512];

    pthread_join(r->loader, NULL); /* orders its writes to r->job before ours */
    dataset *result = r->job.result;
    r->loading = 0;
    job_free_names(&r->job);
    r->job.result = NULL;
    if (r->stopping) {
        /* told to give up: whatever it loaded is dropped */
        dataset_release(result);
        return;
    }
    if (result == NULL) {
        dataset *cur = server_current(r->server);
        dataset_describe(cur, what, sizeof(what));
        dataset_release(cur);
        log_error("reload failed: %s; still serving %s", r->job.err, what);
        atomic_fetch_add(&r->server->reload_failures, 1);
        reload_done(r);
        return;
    }
    if (r->users == NULL) {
        /* the ACL file was bad: the users of the table being served stay */
        dataset *cur = server_current(r->server);
        r->users = acl_set_ref(cur->acl);
        dataset_release(cur);
    }
    result->acl = r->users;
    r->users = NULL;
    dataset_describe(result, r->settled, sizeof(r->settled));
    atomic_fetch_add(&r->server->reloads, 1);
    r->settling = server_swap(r->server, result);
    retire(r, r->settling); /* announced once no worker answers from it */
}

static void reload_done_cb(evutil_socket_t fd, short what, void *arg)
{
    reloader *r = arg;
    char buf[16];
    (void)what;
    if (read(fd, buf, sizeof(buf)) > 0 && r->loading)
        reload_finish(r);
}

void reloader_hup(reloader *r)
{
    char err[512];

    if (r->stopping)
        return;
    if (log_reopen(err, sizeof(err)) != 0)
        log_error("SIGHUP: %s", err);
    if (r->loading || r->settling) {
        r->reload_again = 1; /* the file may have changed again meanwhile */
        return;
    }
    reload_start(r);
}

int reloader_init(reloader *r, struct event_base *base, server *srv, const server_config *cfg, int argc, char **argv,
                  const char *log_file)
{
    memset(r, 0, sizeof(*r));
    r->base = base;
    r->server = srv;
    r->cfg = cfg;
    r->argc = argc;
    r->argv = argv;
    r->pipe[0] = r->pipe[1] = -1;
    if (log_file && (r->log_file = strdup(log_file)) == NULL)
        return -1;
    if (pipe(r->pipe) != 0)
        return -1;
    r->done_ev = event_new(base, r->pipe[0], EV_READ | EV_PERSIST, reload_done_cb, r);
    r->retire_timer = evtimer_new(base, retire_cb, r);
    if (r->done_ev == NULL || r->retire_timer == NULL || event_add(r->done_ev, NULL) != 0)
        return -1;
    return 0;
}

void reloader_stop(reloader *r)
{
    r->stopping = 1;
    if (r->loading)
        atomic_store(&r->job.cancel, 1); /* a reload would be thrown away */
}

void reloader_free(reloader *r)
{
    if (r->loading) {
        /* A reload still loading: it was told to give up; wait for it, and
         * drop what it loaded. */
        atomic_store(&r->job.cancel, 1);
        pthread_join(r->loader, NULL);
        dataset_release(r->job.result);
        job_free_names(&r->job);
        r->loading = 0;
    }
    if (r->done_ev)
        event_free(r->done_ev);
    if (r->retire_timer)
        event_free(r->retire_timer);
    for (int i = 0; i < 2; i++)
        if (r->pipe[i] >= 0)
            close(r->pipe[i]);
    for (size_t i = 0; i < r->nretiring; i++)
        dataset_release(r->retiring[i]);
    free(r->retiring);
    free(r->log_file);
    acl_set_release(r->users);
    memset(r, 0, sizeof(*r));
    r->pipe[0] = r->pipe[1] = -1;
}
