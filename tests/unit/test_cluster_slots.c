/*
 * test_cluster_slots.c: unit tests of the clients' slot map reader
 * (client/cluster_slots.c): CLUSTER SLOTS replies as Redis 7.0 and evkv
 * send them (node metadata, replicas, ranges of one master apart), the
 * replies that are no map with their reasons, and -MOVED as RESP and the
 * guide protocol word it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster_slots.h"

/* Two masters over three ranges: 0-99 and 200-16383 the first's (with a
 * replica, named with 0-99 only, and Redis 7's metadata map, empty),
 * 100-199 the second's. */
static const char REDIS7[] = "*3\r\n"
                             "*4\r\n:0\r\n:99\r\n"
                             "*4\r\n$9\r\n127.0.0.1\r\n:7001\r\n$3\r\nid1\r\n*0\r\n"
                             "*4\r\n$9\r\n127.0.0.1\r\n:7004\r\n$3\r\nid4\r\n*0\r\n"
                             "*3\r\n:100\r\n:199\r\n"
                             "*3\r\n$8\r\n10.0.0.2\r\n:7002\r\n$3\r\nid2\r\n"
                             "*3\r\n:200\r\n:16383\r\n"
                             "*2\r\n$9\r\n127.0.0.1\r\n:7001\r\n";

static void test_parse_redis7(void **state)
{
    (void)state;
    static cluster_slots m;
    char err[256] = "";

    if (cluster_slots_parse(&m, REDIS7, sizeof(REDIS7) - 1, err, sizeof(err)) != 0)
        fail_msg("refused: %s", err);
    assert_int_equal(m.nnodes, 3);
    assert_string_equal(m.nodes[0].name, "127.0.0.1:7001");
    assert_string_equal(m.nodes[0].ip, "127.0.0.1");
    assert_string_equal(m.nodes[0].port, "7001");
    assert_int_equal(m.nodes[0].master, -1);
    assert_string_equal(m.nodes[1].name, "127.0.0.1:7004");
    assert_int_equal(m.nodes[1].master, 0);
    assert_string_equal(m.nodes[2].name, "10.0.0.2:7002");
    assert_int_equal(m.nodes[2].master, -1);
    assert_int_equal(m.owner[0], 0);
    assert_int_equal(m.owner[99], 0);
    assert_int_equal(m.owner[100], 2);
    assert_int_equal(m.owner[199], 2);
    assert_int_equal(m.owner[200], 0);
    assert_int_equal(m.owner[16383], 0);
    assert_int_equal(cluster_slots_find(&m, "10.0.0.2:7002"), 2);
    assert_int_equal(cluster_slots_find(&m, "10.0.0.2:7003"), -1);
}

static void test_parse_gaps(void **state)
{
    (void)state;
    static cluster_slots m;
    static const char reply[] = "*1\r\n*3\r\n:5\r\n:6\r\n*2\r\n$1\r\nh\r\n:1\r\n";
    char err[256] = "";

    assert_int_equal(cluster_slots_parse(&m, reply, sizeof(reply) - 1, err, sizeof(err)), 0);
    assert_int_equal(m.owner[4], CLUSTER_SLOTS_NONE);
    assert_int_equal(m.owner[5], 0);
    assert_int_equal(m.owner[6], 0);
    assert_int_equal(m.owner[7], CLUSTER_SLOTS_NONE);
}

static void check_bad(const char *reply, const char *why)
{
    static cluster_slots m;
    char err[256] = "";

    assert_int_equal(cluster_slots_parse(&m, reply, strlen(reply), err, sizeof(err)), -1);
    assert_string_equal(err, why);
}

static void test_parse_bad(void **state)
{
    (void)state;
    check_bad("-ERR This instance has cluster support disabled\r\n",
              "CLUSTER SLOTS: ERR This instance has cluster support disabled");
    check_bad("*0\r\n", "CLUSTER SLOTS names no slot: the cluster serves nothing");
    check_bad("+OK\r\n", "CLUSTER SLOTS answered something else than a slot map");
    check_bad("*1\r\n*2\r\n:0\r\n:1\r\n", "CLUSTER SLOTS answered something else than a slot map");
    check_bad("*1\r\n*3\r\n:0\r\n$1\r\n1\r\n*2\r\n$1\r\nh\r\n:1\r\n",
              "CLUSTER SLOTS answered something else than a slot map");
    check_bad("*1\r\n*3\r\n:9\r\n:3\r\n*2\r\n$1\r\nh\r\n:1\r\n", "CLUSTER SLOTS names slots 9-3");
    check_bad("*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n", "CLUSTER SLOTS names slots 0-16384");
    check_bad("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:0\r\n",
              "the cluster names a node with a bad address: 'h' port 0");
    check_bad("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$0\r\n\r\n:7001\r\n",
              "the cluster names a node with a bad address: '' port 7001");
    /* a replica array cut short */
    check_bad("*1\r\n*4\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:1\r\n",
              "CLUSTER SLOTS answered something else than a slot map");
}

static void check_moved(const char *text, unsigned slot, const char *name)
{
    char got[80] = "";
    unsigned s = 99999;

    if (cluster_slots_moved(text, strlen(text), &s, got, sizeof(got)) != 0)
        fail_msg("%s: not read as a MOVED", text);
    assert_int_equal(s, slot);
    assert_string_equal(got, name);
}

static void test_moved(void **state)
{
    (void)state;
    char got[80];
    unsigned s;

    check_moved("MOVED 3999 127.0.0.1:7002", 3999, "127.0.0.1:7002");
    check_moved("MOVED 0 ::1:7002", 0, "::1:7002");
    check_moved("MOVED 12182 10.0.0.2:7002: 'foo' is another node's.", 12182, "10.0.0.2:7002");
    check_moved("MOVED 12182 10.0.0.2:7002: 'a b: c' is another node's.", 12182, "10.0.0.2:7002");
    static const char *const bad[] = {"MOVED",   "MOVED ",   "MOVED x 1:2", "MOVED 16384 h:1", "MOVED -1 h:1",
                                      "MOVED 5", "MOVED 5 ", "ASK 5 h:1",   "ERR MOVED 5 h:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (cluster_slots_moved(bad[i], strlen(bad[i]), &s, got, sizeof(got)) == 0)
            fail_msg("'%s' read as a MOVED", bad[i]);
    /* an address longer than the room for it */
    assert_int_equal(cluster_slots_moved("MOVED 1 127.0.0.1:7002", 22, &s, got, 8), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_redis7),
        cmocka_unit_test(test_parse_gaps),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_moved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
