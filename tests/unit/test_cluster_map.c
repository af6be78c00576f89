/*
 * test_cluster_map.c: unit tests of proto/keyslot.c (CRC16-XMODEM and
 * Redis Cluster's hash tags) and server/cluster_map.c (the map read from a
 * CLUSTER NODES file, and what it refuses).
 *
 * The known values are CRC-16/XMODEM's check value and the slots Redis's
 * documentation gives for CLUSTER KEYSLOT; the hash tag rules are checked
 * as relations between keys. tests/integration/test_cluster_map.py asks a
 * real Redis for the slots of many more keys.
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
#include "keyslot.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_crc16_check_value(void **state)
{
    (void)state;
    assert_int_equal(keyslot_crc16(S("123456789")), 0x31c3);
    assert_int_equal(keyslot_crc16("", 0), 0);
}

static void test_keyslot_documented(void **state)
{
    (void)state;
    /* CLUSTER KEYSLOT's examples in Redis's documentation */
    assert_int_equal(keyslot(S("somekey")), 11058);
    assert_int_equal(keyslot(S("foo{hash_tag}")), 2515);
    assert_int_equal(keyslot(S("bar{hash_tag}")), 2515);
    assert_int_equal(keyslot(S("foo")), 12182);
}

static unsigned whole(const char *k, size_t n)
{
    return keyslot_crc16(k, n) & (KEYSLOT_COUNT - 1);
}

static void test_hash_tags(void **state)
{
    (void)state;
    assert_int_equal(keyslot(S("a{b}c")), keyslot(S("b")));
    assert_int_equal(keyslot(S("{user1}.x")), keyslot(S("user1")));
    assert_int_equal(keyslot(S("x{y}{z}")), keyslot(S("y"))); /* the first tag */
    assert_int_equal(keyslot(S("}{q}")), keyslot(S("q")));    /* a '}' before the '{' is no end */
    assert_int_equal(keyslot(S("{{a}")), keyslot(S("{a")));   /* from the first '{' */
    /* an empty tag, or no '}', hashes the whole key */
    assert_int_equal(keyslot(S("{}")), whole(S("{}")));
    assert_int_equal(keyslot(S("x{}{y}")), whole(S("x{}{y}")));
    assert_int_equal(keyslot(S("{a")), whole(S("{a")));
    assert_int_equal(keyslot(S("a\0{b}")), keyslot(S("b"))); /* binary: bytes, not a C string */
    assert_int_equal(keyslot("", 0), 0);
}

/* CRC16-XMODEM a bit at a time, and keyHashSlot as Redis writes it: the
 * reference the table-driven, sliced keyslot must agree with. */
static uint16_t crc16_bitwise(const char *p, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((unsigned char)p[i] << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    return crc;
}

static unsigned keyslot_reference(const char *key, size_t len)
{
    size_t s, e;
    for (s = 0; s < len && key[s] != '{'; s++)
        ;
    if (s == len)
        return crc16_bitwise(key, len) & 0x3FFF;
    for (e = s + 1; e < len && key[e] != '}'; e++)
        ;
    if (e == len || e == s + 1)
        return crc16_bitwise(key, len) & 0x3FFF;
    return crc16_bitwise(key + s + 1, e - s - 1) & 0x3FFF;
}

/* Random keys of 0 to 40 bytes, braces anywhere, every byte value. */
static void test_keyslot_random(void **state)
{
    static const char alphabet[] = "ab{}x\x00\xff{}";
    char key[41];
    uint32_t seed = 12345;
    (void)state;

    for (int n = 0; n < 200000; n++) {
        size_t len = (seed = seed * 1103515245 + 12345) >> 16 & 0x3f;
        len = len > 40 ? len - 24 : len;
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245 + 12345;
            key[i] = (seed >> 20) & 1 ? (char)(seed >> 8) : alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
        }
        if (keyslot(key, len) != keyslot_reference(key, len) || keyslot_crc16(key, len) != crc16_bitwise(key, len))
            fail_msg("key %d of %zu bytes", n, len);
    }
}

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccccccccccccccccc"
#define ID_D "dddddddddddddddddddddddddddddddddddddddd"

#define LINE_A ID_A " 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460\n"
#define LINE_B ID_B " 127.0.0.1:7002@17002 master - 0 1700000000000 2 connected 5461-10922\n"
#define LINE_C ID_C " [::1]:7003@17003,host-c master - 0 1700000000000 3 connected 10923-16383\n"
#define LINE_D ID_D " 127.0.0.1:7004@17004 slave " ID_A " 0 1700000000000 1 connected\n"

/* The map text loaded as a file, for myself; NULL with err. */
static cluster_map *load_text(const char *text, const char *myself, int full, char *err, size_t errlen)
{
    char path[] = "/tmp/evkv-test-cluster-map-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    cluster_map *m = cluster_map_load(path, myself, full, err, errlen);
    unlink(path);
    return m;
}

static void test_map_read(void **state)
{
    char err[512] = "", slots[64];
    (void)state;
    /* "[::1]" is no address: Redis writes IPv6 bare, "::1:7003@17003" */
    cluster_map *m = load_text("# comment\n\n" LINE_A LINE_B ID_C
                               " ::1:7003@17003,host-c master,nofailover - 0 1 3 connected 10923-16383\n" LINE_D
                               "vars currentEpoch 3 lastVoteEpoch 0\n",
                               ID_D, 1, err, sizeof(err));
    assert_non_null(m);
    assert_int_equal(m->nnodes, 4);
    assert_int_equal(m->myself, 3);
    assert_int_equal(m->serving, 0); /* a replica serves its master's slots */
    assert_string_equal(m->nodes[2].ip, "::1");
    assert_string_equal(m->nodes[2].hostname, "host-c");
    assert_int_equal(m->nodes[2].port, 7003);
    assert_int_equal(m->nodes[2].cport, 17003);
    assert_int_equal(m->nodes[2].flags, CLUSTER_FLAG_MASTER | CLUSTER_FLAG_NOFAILOVER);
    assert_int_equal(m->nodes[0].flags, CLUSTER_FLAG_MASTER); /* myself is --cluster-myself's */
    assert_int_equal(m->nodes[3].master, 0);
    assert_int_equal(m->current_epoch, 3); /* the vars line's */
    assert_int_equal(cluster_map_owner(m, 0), 0);
    assert_int_equal(cluster_map_owner(m, 5461), 1);
    assert_int_equal(cluster_map_owner(m, 16383), 2);
    assert_true(cluster_map_serves(m, S("{user}x")) == (keyslot(S("user")) <= 5460));
    cluster_map_slots_text(m, 1, slots, sizeof(slots));
    assert_string_equal(slots, "5461-10922");
    cluster_map_slots_text(m, 3, slots, sizeof(slots));
    assert_string_equal(slots, "none");
    cluster_map_free(m);
}

static void test_map_partial(void **state)
{
    char err[512] = "", slots[64];
    (void)state;
    cluster_map *m = load_text(ID_A " 127.0.0.1:7001@17001 master - 0 0 1 connected 0 2-3 [5->-" ID_B "] 16383\n", ID_A,
                               0, err, sizeof(err));
    assert_non_null(m);
    cluster_map_slots_text(m, 0, slots, sizeof(slots));
    assert_string_equal(slots, "0 2-3 16383");
    assert_int_equal(cluster_map_owner(m, 1), -1);
    cluster_map_free(m);
    assert_null(load_text(ID_A " 127.0.0.1:7001@17001 master - 0 0 1 connected 0 2-3\n", ID_A, 1, err, sizeof(err)));
    assert_non_null(strstr(err, ": slots 1, 4-16383 have no owner"));
}

/* Each map refused, with a part of the reason. */
static void test_map_refused(void **state)
{
    static const struct {
        const char *text, *myself, *reason;
    } cases[] = {
        {LINE_A LINE_B, ID_A, ": slots 10923-16383 have no owner"},
        {LINE_A LINE_B LINE_C LINE_D, ID_C, ":3: node " ID_C ": '[::1]' is not an IP address"},
        {LINE_A LINE_B, ID_C, ": --cluster-myself " ID_C " is not a node of the map"},
        {LINE_A ID_B " 127.0.0.1:7002@17002 master - 0 0 2 connected 5460-16383\n", ID_A,
         ":2: slot 5460 is owned by both " ID_A " and " ID_B},
        {LINE_A ID_B " 127.0.0.1:7002@17002 slave " ID_C " 0 0 2 connected 5461-16383\n", ID_A,
         ":2: node " ID_B " is a replica: it owns no slots"},
        {ID_A " 127.0.0.1:7001@17001 master - 0 0 1 connected 0-16383\n" LINE_D ID_C " 127.0.0.1:7003@17003 slave " ID_B
              " 0 0 1 connected\n",
         ID_A, ": replica " ID_C " names master " ID_B ", which is not in the map"},
        {ID_A " 127.0.0.1:7001@17001 master - 0 0 1 connected 0-16383\n" LINE_D ID_C " 127.0.0.1:7003@17003 slave " ID_D
              " 0 0 1 connected\n",
         ID_A, ": replica " ID_C " names " ID_D ", which is not a master"},
        {ID_A " 127.0.0.1:7001@17001 master - 0 0 1 connected 0-16384\n", ID_A, "is not a slot or range of slots"},
        {ID_A " 127.0.0.1:7001@17001 master - 0 0 1 connected 9-3\n", ID_A, "'9-3' is not a slot"},
        {ID_A " 127.0.0.1:7001 master - 0 0 1 connected 0-16383\n", ID_A, "is not ip:port@cport"},
        {ID_A " 127.0.0.1:0@17001 master - 0 0 1 connected 0-16383\n", ID_A, "are not from 1 to 65535"},
        {ID_A " 127.0.0.1:7001@17001 primary - 0 0 1 connected 0-16383\n", ID_A, "unknown flag 'primary'"},
        {ID_A " 127.0.0.1:7001@17001 fail - 0 0 1 connected 0-16383\n", ID_A, "must say master or slave"},
        {ID_A " 127.0.0.1:7001@17001 master " ID_B " 0 0 1 connected 0-16383\n", ID_A, "a master names a master"},
        {ID_A " 127.0.0.1:7001@17001 master - 0 0 x connected 0-16383\n", ID_A, "must be whole numbers"},
        {ID_A " 127.0.0.1:7001@17001 master - 0 0 1 up 0-16383\n", ID_A, "link state 'up'"},
        {ID_A " 127.0.0.1:7001@17001 master - 0 0 1\n", ID_A, "at least 8 fields"},
        {"abc 127.0.0.1:7001@17001 master - 0 0 1 connected 0-16383\n", ID_A, "'abc' is not a node id"},
        {LINE_A LINE_A, ID_A, ":2: node " ID_A " comes twice"},
        {"", ID_A, "no nodes in the map"},
        {LINE_A, "xyz", "--cluster-myself 'xyz' is not a node id"},
    };
    char err[512];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        cluster_map *m = load_text(cases[i].text, cases[i].myself, 1, err, sizeof(err));
        if (m != NULL || strstr(err, cases[i].reason) == NULL)
            fail_msg("case %zu: want '%s', got %s '%s'", i, cases[i].reason, m ? "a map" : "error", err);
    }
    assert_null(cluster_map_load("/nonexistent/map", ID_A, 1, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/map: cannot read the cluster map: No such file or directory"));
    assert_null(cluster_map_load("/tmp", ID_A, 1, err, sizeof(err)));
    assert_non_null(strstr(err, "not a regular file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_check_value), cmocka_unit_test(test_keyslot_documented),
        cmocka_unit_test(test_hash_tags),         cmocka_unit_test(test_keyslot_random),
        cmocka_unit_test(test_map_read),          cmocka_unit_test(test_map_partial),
        cmocka_unit_test(test_map_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
