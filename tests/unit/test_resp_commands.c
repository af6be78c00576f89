/*
 * test_resp_commands.c: unit tests of resp_execute (resp_commands.h)
 * against a read-only Redis 7.0.15 replica, and where evkv differs from it.
 *
 * resp-sessions.txt (RESP_SESSIONS, or argv[1]) holds request streams and
 * the exact bytes the replica answered to them, holding the same keys as
 * make_table(): each stream is read with resp_reader and answered on one
 * fresh client, and the answers must be the replica's, byte for byte (the
 * file says how they were captured).
 *
 * The tests of what the replica cannot show the same way live beside this
 * one, one file per part of server/resp/: test_resp_keyspace.c (SCAN over
 * a few thousand keys, values of every kind), test_resp_connection.c,
 * test_resp_multi.c (MULTI with queued copies, counters), test_resp_info.c
 * and test_resp_introspection.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_file.h"
#include "resp_harness.h"

static const char *sessions_path = RESP_SESSIONS;

static void test_replica_sessions(void **state)
{
    (void)state;
    table *t = make_table();
    test_case *sessions;
    size_t n = case_file_load(sessions_path, &sessions);
    for (size_t i = 0; i < n; i++) {
        const test_case *s = &sessions[i];
        resp_env env = {t, NULL, NULL, NULL, NULL};
        resp_client c;
        resp_client_init(&c, 7);
        proto_buf out = run_stream(&env, &c, s->in.data, s->in.len, NULL);
        expect_bytes(s->name, out.data != NULL ? out.data : "", out.len, s->out.data, s->out.len);
        proto_buf_free(&out);
        resp_client_free(&c);
    }
    case_file_free(sessions, n);
    table_free(t);
}

/* Where evkv answers otherwise than the replica, on purpose. */
static void test_differences(void **state)
{
    (void)state;
    table *t = make_table();

    /* one database */
    EXPECT(t, "*2\r\n$6\r\nselect\r\n$1\r\n1\r\n", "-ERR DB index is out of range\r\n");
    /* RESP2 only: HELLO 3 as Redis answers a version it does not know */
    EXPECT(t, "*2\r\n$5\r\nhello\r\n$1\r\n3\r\n", "-NOPROTO unsupported protocol version\r\n");
    EXPECT(t, "*4\r\n$5\r\nhello\r\n$1\r\n3\r\n$7\r\nsetname\r\n$1\r\nx\r\n",
           "-NOPROTO unsupported protocol version\r\n");
    /* the caller's id */
    EXPECT(t, "*2\r\n$6\r\nclient\r\n$2\r\nid\r\n", ":7\r\n");
    EXPECT(
        t, "*1\r\n$5\r\nhello\r\n",
        "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:7\r\n"
        "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$7\r\nreplica\r\n$7\r\nmodules\r\n*0\r\n");
    EXPECT(
        t,
        "*7\r\n$5\r\nhello\r\n$1\r\n2\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$3\r\npwd\r\n$7\r\nSETNAME\r\n$2\r\nnm\r\n"
        "*2\r\n$6\r\nclient\r\n$7\r\ngetname\r\n",
        "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:7\r\n"
        "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$7\r\nreplica\r\n$7\r\nmodules\r\n*0\r\n$2\r\nnm\r\n");
    /* the configuration does not change */
    EXPECT(t, "*4\r\n$6\r\nconfig\r\n$3\r\nset\r\n$9\r\nmaxmemory\r\n$1\r\n1\r\n",
           "-ERR evkv does not change its configuration: CONFIG set is not supported\r\n");
    EXPECT(t, "*2\r\n$6\r\nCONFIG\r\n$9\r\nRESETSTAT\r\n",
           "-ERR evkv does not change its configuration: CONFIG RESETSTAT is not supported\r\n");
    /* a fixed list, in its own order */
    EXPECT(
        t,
        "*6\r\n$6\r\nconfig\r\n$3\r\nget\r\n$9\r\nmaxmemory\r\n$4\r\nsave\r\n$10\r\nappendonly\r\n$9\r\ndatabases\r\n",
        "*8\r\n$10\r\nappendonly\r\n$2\r\nno\r\n$9\r\ndatabases\r\n$1\r\n1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
        "$4\r\nsave\r\n$0\r\n\r\n");
    EXPECT(t, "*3\r\n$6\r\nconfig\r\n$3\r\nget\r\n$11\r\n*maxmemory*\r\n",
           "*4\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n");
    /* commands of Redis that evkv does not serve, in MULTI too */
    EXPECT(t, "*2\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n", "-ERR evkv does not serve the 'subscribe' command\r\n");
    EXPECT(t, "*2\r\n$6\r\nclient\r\n$4\r\nlist\r\n", "-ERR evkv does not serve the 'client|list' command\r\n");
    EXPECT(t, "*1\r\n$5\r\nmulti\r\n*2\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n*1\r\n$4\r\nexec\r\n",
           "+OK\r\n+QUEUED\r\n*1\r\n-ERR evkv does not serve the 'subscribe' command\r\n");
    /* COMMAND INFO of a command not served: as of one Redis does not know */
    EXPECT(t, "*3\r\n$7\r\ncommand\r\n$4\r\ninfo\r\n$3\r\nset\r\n", "*1\r\n$-1\r\n");
    table_free(t);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replica_sessions),
        cmocka_unit_test(test_differences),
    };
    if (argc > 1)
        sessions_path = argv[1];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
