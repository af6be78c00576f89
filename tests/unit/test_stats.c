/*
 * test_stats.c: each protocol's requests are counted as its own, whatever
 * their outcome. A connection of each protocol whose answer fails for want
 * of memory (the one outcome both protocols share, and one no client can
 * provoke) must count in its own protocol's figures only: in the stats
 * action's answer and in INFO's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "protocol.h"
#include "stats.h"
#include "worker.h"

/* An answer that could not be built: the connection closes at once. */
static conn_answer answer_nomem(conn_proto_state *st, void *wing, struct evbuffer *out, handler_outcome *oc, char *what,
                                size_t whatlen)
{
    (void)st;
    (void)wing;
    (void)out;
    (void)what;
    (void)whatlen;
    *oc = OUTCOME_NOMEM;
    return CONN_NOMEM;
}

/* Runs one connection of ep that sends a byte, until it has closed. */
static void run_one(worker *w, const conn_endpoint *ep)
{
    int sv[2];
    struct sockaddr_storage addr = {.ss_family = AF_UNIX};

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    atomic_fetch_add(w->conns.open, 1); /* the place conn_new takes over */
    conn_new(&w->conns, sv[0], (struct sockaddr *)&addr, ep);
    for (int i = 0; i < 100 && w->conns.n > 0; i++)
        event_base_loop(w->base, EVLOOP_NONBLOCK);
    assert_int_equal(w->conns.n, 0);
    close(sv[1]);
}

static json_int_t field(json_t *stats, const char *object, const char *name)
{
    json_t *o = json_object_get(stats, object);
    assert_non_null(o);
    json_t *v = json_object_get(o, name);
    if (!json_is_integer(v))
        fail_msg("stats has no integer %s.%s", object, name);
    return json_integer_value(v);
}

static void test_nomem_counted_by_protocol(void **state)
{
    (void)state;
    server_options opt = {.max_conns = 16, .max_output = 1 << 20, .limits = {65535, 1 << 20}, .threads = 1};
    server srv;
    worker w;
    dataset *d = dataset_new(table_builtin(), "built-in", NULL, 0);

    assert_non_null(d);
    assert_int_equal(server_init(&srv, &opt, d, &w, 1), 0);
    assert_int_equal(worker_init(&w, &srv, 0), 0);
    w.thread_started = 0;
    conn_protocol guide = proto_guide, resp = proto_resp;
    guide.answer = resp.answer = answer_nomem;
    run_one(&w,
            &(conn_endpoint){&guide, w.listeners[LISTENER_MAIN].ep.tp, NULL, w.listeners[LISTENER_MAIN].ep.wing, 0});
    run_one(&w, &(conn_endpoint){&resp, w.listeners[LISTENER_RESP].ep.tp, NULL, w.listeners[LISTENER_RESP].ep.wing, 0});
    run_one(&w, &(conn_endpoint){&resp, w.listeners[LISTENER_RESP].ep.tp, NULL, w.listeners[LISTENER_RESP].ep.wing, 0});

    proto_buf out = {0};
    assert_int_equal(server_stats_json(&w, &out), 0);
    json_t *stats = json_loadb(out.data, out.len, 0, NULL);
    assert_non_null(stats);
    assert_int_equal(field(stats, "requests", "total"), 1);
    assert_int_equal(field(stats, "errors", "nomem"), 1);
    assert_int_equal(field(stats, "resp", "requests"), 2);
    json_decref(stats);
    proto_buf_free(&out);

    resp_server_info info = {0};
    stats_resp_info(&w, &info);
    assert_int_equal(info.guide_requests, 1);
    assert_int_equal(info.resp_requests, 2);
    assert_int_equal(info.total_commands_processed, 1); /* the guide's; RESP ran no command */

    worker_free(&w);
    server_free(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nomem_counted_by_protocol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
