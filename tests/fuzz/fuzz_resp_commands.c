/*
 * fuzz_resp_commands.c: Redis commands (server/resp/) on a small
 * table, with one client's state kept from request to request.
 *
 * The stream (see fuzz_common.h: the first byte's flags and fragment
 * sizes) is read by resp_reader, so it holds multibulk and inline requests
 * as a Redis client sends them; each request goes through resp_execute
 * with one resp_client, so MULTI ... EXEC, DISCARD, WATCH, QUIT and RESET
 * run in any order. Each reply must read as exactly one well-formed RESP2
 * reply, be flagged an error exactly when it is an error reply, and leave
 * the transaction's state consistent (QUEUED queues one command; no queue
 * outside MULTI); only QUIT and an HTTP line ("POST", "Host:") may close,
 * the latter with no reply. The stream ends at a close or a protocol error, as a connection
 * does. ASan and UBSan watch the rest, leaks included.
 *
 * Flag bit 0 (in fuzz_input.flags) gives INFO server figures with strings
 * in them instead of none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "resp.h"
#include "resp_commands.h"
#include "table.h"

#define FLAG_INFO 1

int LLVMFuzzerInitialize(int *argc, char ***argv);

static table *tab;

/* The built-in table's entries and one key of each kind of value. */
static const struct {
    const char *key, *value;
} extra[] = {
    {"plain", "\"Follow the white rabbit.\""},
    {"empty", "\"\""},
    {"esc", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0000e\\u00e9\\ud83d\\udc36\""},
    {"lone", "\"\\ud83d\""},
    {"num", "-1.5e3"},
    {"int", "42"},
    {"list", "[1, \"two\", null]"},
    {"obj", "{\"a\": [1, \"x\\n\"], \"b\": true}"},
    {"t", "true"},
    {"h?x", "\"q\""},
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    table *builtin = table_builtin();
    tab = table_new(0, 0);
    if (builtin == NULL || tab == NULL)
        fuzz_fail("cannot build the table");
    for (size_t slot = 0; slot < table_slots(builtin); slot++) {
        const char *key, *value;
        size_t key_len, value_len;
        if (table_slot_key(builtin, slot, &key, &key_len) &&
            (!table_lookup(builtin, key, key_len, &value, &value_len) ||
             table_put(tab, key, key_len, value, value_len) != 0))
            fuzz_fail("cannot copy the built-in table");
    }
    table_free(builtin);
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        if (table_put(tab, extra[i].key, strlen(extra[i].key), extra[i].value, strlen(extra[i].value)) != 0)
            fuzz_fail("cannot add %s", extra[i].key);
    }
    return 0;
}

static void fill_info(void *arg, resp_server_info *info)
{
    (void)arg;
    info->evkv_version = "0.0-fuzz";
    info->pid = 4242;
    info->uptime_seconds = 86400 * 3 + 7;
    info->threads = 2;
    info->tcp_port = 6379;
    info->connected_clients = 3;
    info->maxclients = 1024;
    info->total_connections_received = 1LL << 40;
    info->total_commands_processed = 123456789;
    info->instantaneous_ops_per_sec = 12345.678;
    info->keyspace_hits = 5;
    info->used_memory = (size_t)1 << 33;
    info->table_source = "/data/a \"table\"\r\n.json";
    info->table_format = "json";
    info->table_load_seconds = 0.25;
    info->table_loaded_at = 1700000000;
}

/* Whether argument 0 is word, in any case. */
static int name_is(const resp_request *req, const char *word)
{
    return req->argv_len[0] == strlen(word) && strncasecmp(req->argv[0], word, req->argv_len[0]) == 0;
}

static void fail_request(const resp_request *req, const proto_buf *out, size_t start, const char *fmt, const char *why)
{
    for (size_t i = 0; i < req->argc && i < 8; i++)
        fuzz_print_bytes("argument", req->argv[i], req->argv_len[i]);
    fuzz_print_bytes("reply", out->data + start, out->len - start);
    fuzz_fail(fmt, why);
}

/* Checks one request's reply, out->data[start..out->len). */
static void check_reply(const resp_request *req, const resp_result *res, const proto_buf *out, size_t start)
{
    size_t len = out->len - start, used;
    const char *why;

    if (res->close && !name_is(req, "quit") && !name_is(req, "post") && !name_is(req, "host:"))
        fail_request(req, out, start, "%s closes the connection", "a command other than QUIT, POST and Host:");
    if (len == 0) {
        if (!res->close || name_is(req, "quit"))
            fail_request(req, out, start, "%s", "no reply");
        return;
    }
    int st = fuzz_resp_reply(out->data + start, len, &used, &why);
    if (st < 0)
        fail_request(req, out, start, "a malformed reply: %s", why);
    if (st == 0)
        fail_request(req, out, start, "%s", "a reply cut short");
    if (used != len)
        fail_request(req, out, start, "%s", "more than one reply");
    if (res->error != (out->data[start] == '-'))
        fail_request(req, out, start, "%s",
                     res->error ? "an error flagged on a reply that is not one" : "an error reply not flagged");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in;
    resp_reader r;
    resp_client c;
    resp_request req;
    resp_result res;
    proto_buf out = {0};
    resp_env env = {tab, NULL, NULL, NULL, NULL};

    fuzz_input_init(&in, data, size);
    if (in.flags & FLAG_INFO)
        env.server_info = fill_info;
    resp_reader_init(&r, NULL);
    resp_client_init(&c, 7);
    int done = 0;
    for (size_t pos = 0; pos < in.len && !done;) {
        size_t n = fuzz_input_fragment(&in, in.len - pos);
        if (resp_reader_feed(&r, in.stream + pos, n) != 0)
            fuzz_fail("out of memory");
        pos += n;
        resp_status st;
        while (!done && (st = resp_reader_next(&r, &req)) != RESP_NEED_MORE) {
            if (st == RESP_ERROR) {
                done = 1;
                break;
            }
            /* a reply of every request stays in out: a long stream of big
             * replies is cut short to keep memory bounded */
            if (out.len > (1u << 24))
                proto_buf_reset(&out);
            size_t start = out.len, queued = c.nqueued;
            if (resp_execute(&env, &c, &req, &out, &res) != 0)
                fuzz_fail("resp_execute failed (out of memory?)");
            check_reply(&req, &res, &out, start);
            /* the transaction's state: a queue only inside MULTI, and one
             * more command in it for each QUEUED */
            if (!c.in_multi && (c.nqueued != 0 || c.multi_dirty))
                fail_request(&req, &out, start, "%s", "a queue or a failed transaction outside MULTI");
            int is_queued = out.len - start == 9 && memcmp(out.data + start, "+QUEUED\r\n", 9) == 0;
            if (is_queued != (c.in_multi && c.nqueued == queued + 1))
                fail_request(&req, &out, start, "%s", "QUEUED without a command queued, or the other way round");
            done = res.close;
        }
    }
    proto_buf_free(&out);
    resp_client_free(&c);
    resp_reader_free(&r);
    return 0;
}
