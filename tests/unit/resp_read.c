/*
 * resp_read.c: feeds standard input to the RESP request reader and writes
 * what it reads, for tests/integration/resp_differential.py to set beside a real Redis.
 *
 *   resp_read [--eval] [PIECE]
 *
 * Input goes in pieces of PIECE bytes (default: all at once). Each request
 * is written as an array of bulks, or with --eval as Redis answers it when
 * it is EVAL "return ARGV" 0 ARGS... (the array of ARGS) or PING (+PONG),
 * and any other request as "!other\r\n" (the script does not predict it);
 * a broken stream ends with "-ERR <errstr>\r\n", as Redis's answer does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resp.h"

static void write_request(proto_buf *out, const resp_request *req, int eval)
{
    size_t first = 0;
    if (eval) {
        if (req->argc == 1 && req->argv_len[0] == 4 && strncasecmp(req->argv[0], "PING", 4) == 0) {
            resp_encode_simple(out, "PONG", 4);
            return;
        }
        if (req->argc < 3 || req->argv_len[0] != 4 || strncasecmp(req->argv[0], "EVAL", 4) != 0) {
            proto_buf_append(out, "!other\r\n", 8); /* Redis's answer is not predicted */
            return;
        }
        first = 3;
    }
    resp_encode_array(out, req->argc - first);
    for (size_t i = first; i < req->argc; i++)
        resp_encode_bulk(out, req->argv[i], req->argv_len[i]);
}

int main(int argc, char **argv)
{
    int eval = 0;
    size_t piece = 0;
    proto_buf in = {0}, out = {0};
    resp_reader r;
    resp_request req;
    char chunk[65536];
    size_t n;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--eval") == 0)
            eval = 1;
        else
            piece = strtoul(argv[i], NULL, 10);
    }
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        proto_buf_append(&in, chunk, n);
    if (piece == 0)
        piece = in.len ? in.len : 1;
    resp_reader_init(&r, NULL);
    for (size_t at = 0; at < in.len && !r.err; at += piece) {
        resp_reader_feed(&r, in.data + at, in.len - at < piece ? in.len - at : piece);
        resp_status st;
        while ((st = resp_reader_next(&r, &req)) == RESP_OK)
            write_request(&out, &req, eval);
        if (st == RESP_ERROR)
            resp_encode_error(&out, r.errstr, strlen(r.errstr));
    }
    if (out.len > 0)
        fwrite(out.data, 1, out.len, stdout);
    resp_reader_free(&r);
    proto_buf_free(&in);
    proto_buf_free(&out);
    return out.failed ? 1 : 0;
}
