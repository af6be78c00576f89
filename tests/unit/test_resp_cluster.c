/*
 * test_resp_cluster.c: the RESP wing as a Redis Cluster node
 * (server/resp/cluster.c and dispatch.c's check), on a small map: -MOVED,
 * -CROSSSLOT, -CLUSTERDOWN, READONLY on a replica, MULTI, SELECT, and the
 * answers without a map. The expected slots come from keyslot(), whose
 * values unit.cluster_map checks; integration.cluster_oracle compares all
 * of it with a real Redis Cluster byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster_map.h"
#include "resp_harness.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccccccccccccccccc"

static cluster_map *load_map(const char *text, const char *myself, int full)
{
    char path[] = "/tmp/evkv-test-resp-cluster-XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    cluster_map *m = cluster_map_load(path, myself, full, err, sizeof(err));
    unlink(path);
    if (m == NULL)
        fail_msg("%s", err);
    return m;
}

static const char *const MAP = ID_A " 127.0.0.1:7001@17001 master - 0 0 1 connected 0-8191\n" ID_B
                                    " 127.0.0.1:7002@17002 master - 0 0 2 connected 8192-16383\n" ID_C
                                    " 127.0.0.1:7003@17003 slave " ID_A " 0 0 1 connected\n";

/* A's keys: those of make_table()'s in slots 0-8191, as a node loads them. */
static table *table_of_a(void)
{
    static const char *const keys[] = {"a", "b", "e", "u", "h?x"};
    table *t = table_new(8, 256);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (keyslot(keys[i], strlen(keys[i])) < 8192)
            assert_int_equal(table_put(t, keys[i], strlen(keys[i]), "\"v\"", 3), 0);
    return t;
}

/* Runs requests on a fresh client of a node with map m and table t;
 * compares the replies with want. */
static void expect_node(const table *t, const cluster_map *m, const char *requests, const char *want)
{
    resp_env env = {t, NULL, NULL, NULL, m};
    resp_client c;
    resp_client_init(&c, 7);
    proto_buf out = run_stream(&env, &c, requests, strlen(requests), NULL);
    expect_bytes(requests, out.data != NULL ? out.data : "", out.len, want, strlen(want));
    proto_buf_free(&out);
    resp_client_free(&c);
}

/* A key of A's slots and one of B's, with the text of their requests. */
typedef struct keys {
    const char *mine, *other;
    unsigned other_slot;
    char moved[64];
} keys;

static keys pick_keys(void)
{
    keys k = {keyslot("b", 1) < 8192 ? "b" : "a", NULL, 0, ""};
    k.other = keyslot("foo", 3) >= 8192 ? "foo" : "bar";
    assert_true(keyslot(k.mine, 1) < 8192);
    assert_true(keyslot(k.other, 3) >= 8192);
    k.other_slot = keyslot(k.other, 3);
    snprintf(k.moved, sizeof(k.moved), "-MOVED %u 127.0.0.1:7002\r\n", k.other_slot);
    return k;
}

static void test_master(void **state)
{
    (void)state;
    table *t = table_of_a();
    cluster_map *m = load_map(MAP, ID_A, 1);
    keys k = pick_keys();
    char req[1024], want[1024];

    /* b and h?x are A's, in two slots; {b}1 is b's slot */
    assert_true(keyslot("b", 1) < 8192 && keyslot("h?x", 3) < 8192 && keyslot("b", 1) != keyslot("h?x", 3));
    snprintf(req, sizeof(req),
             "GET %s\r\nGET %s\r\nSET %s x\r\nSET %s x\r\nMGET %s %s\r\nMGET {b}1 b\r\nSELECT 1\r\n"
             "SELECT 0\r\nREADONLY\r\nASKING\r\nCLUSTER MYID\r\nCLUSTER KEYSLOT foo\r\nGET {b}3\r\n",
             k.mine, k.other, k.mine, k.other, k.mine, k.other);
    snprintf(want, sizeof(want),
             "$1\r\nv\r\n%s-READONLY You can't write against a read only replica.\r\n%s"
             "-CROSSSLOT Keys in request don't hash to the same slot\r\n*2\r\n$-1\r\n$1\r\nv\r\n"
             "-ERR SELECT is not allowed in cluster mode\r\n+OK\r\n+OK\r\n+OK\r\n$40\r\n" ID_A "\r\n:12182\r\n$-1\r\n",
             k.moved, k.moved);
    expect_node(t, m, req, want);
    /* under MULTI: a redirected command makes EXEC abort; an EXEC whose
     * queue spans two slots is dropped with the error, no EXECABORT */
    snprintf(req, sizeof(req),
             "MULTI\r\nGET %s\r\nEXEC\r\nMULTI\r\nGET b\r\nGET {b}1\r\nEXEC\r\nMULTI\r\nGET b\r\n"
             "GET h?x\r\nEXEC\r\nEXEC\r\n",
             k.other);
    snprintf(want, sizeof(want),
             "+OK\r\n%s-EXECABORT Transaction discarded because of previous errors.\r\n+OK\r\n+QUEUED\r\n"
             "+QUEUED\r\n*2\r\n$1\r\nv\r\n$-1\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n"
             "-CROSSSLOT Keys in request don't hash to the same slot\r\n-ERR EXEC without MULTI\r\n",
             k.moved);
    expect_node(t, m, req, want);
    cluster_map_free(m);
    table_free(t);
}

static void test_replica(void **state)
{
    (void)state;
    table *t = table_of_a();
    cluster_map *m = load_map(MAP, ID_C, 1);
    keys k = pick_keys();
    char req[512], want[512], to_a[64];

    snprintf(to_a, sizeof(to_a), "-MOVED %u 127.0.0.1:7001\r\n", keyslot(k.mine, 1));
    snprintf(req, sizeof(req), "GET %s\r\nREADONLY\r\nGET %s\r\nSET %s x\r\nGET %s\r\nREADWRITE\r\nGET %s\r\n", k.mine,
             k.mine, k.mine, k.other, k.mine);
    snprintf(want, sizeof(want), "%s+OK\r\n$1\r\nv\r\n%s%s+OK\r\n%s", to_a, to_a, k.moved, to_a);
    expect_node(t, m, req, want);
    snprintf(req, sizeof(req), "READONLY\r\nRESET\r\nGET %s\r\n", k.mine);
    snprintf(want, sizeof(want), "+OK\r\n+RESET\r\n%s", to_a);
    expect_node(t, m, req, want);
    cluster_map_free(m);
    table_free(t);
}

static void test_slot_without_owner(void **state)
{
    (void)state;
    table *t = table_of_a();
    cluster_map *m = load_map(ID_A " 127.0.0.1:7001@17001 master - 0 0 1 connected 0-8191\n", ID_A, 0);
    keys k = pick_keys();
    char req[256];
    snprintf(req, sizeof(req), "GET %s\r\nEXISTS %s %s\r\n", k.other, k.mine, k.other);
    expect_node(t, m, req,
                "-CLUSTERDOWN Hash slot not served\r\n-CROSSSLOT Keys in request don't hash to the same slot\r\n");
    cluster_map_free(m);
    table_free(t);
}

static void test_without_a_map(void **state)
{
    (void)state;
    table *t = make_table();
    EXPECT(t, "CLUSTER INFO\r\nCLUSTER KEYSLOT a\r\nREADONLY\r\nREADWRITE\r\nASKING\r\nSELECT 1\r\n",
           "-ERR This instance has cluster support disabled\r\n-ERR This instance has cluster support disabled\r\n"
           "-ERR This instance has cluster support disabled\r\n-ERR This instance has cluster support disabled\r\n"
           "-ERR This instance has cluster support disabled\r\n-ERR DB index is out of range\r\n");
    table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_master),
        cmocka_unit_test(test_replica),
        cmocka_unit_test(test_slot_without_owner),
        cmocka_unit_test(test_without_a_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
