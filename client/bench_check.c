/*
 * bench_check.c: evkv-bench's answer checks. Every answer is checked: its
 * framing (evkv's decoder, or a RESP reply), and where the table is known,
 * its exact bytes against the answer the key must get, from one --data
 * table or either of two. A checked answer is counted (hit, miss or
 * error) with its latency.
 */
#include <event2/buffer.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "evkv_client.h"
#include "json_write.h"
#include "resp_reply.h"
#include "wire.h"

/* What the answer for key k must be, by a table: keys is ks.keys, or
 * ks.second for the second --data table. For EXPECT_HIT and, over evkv,
 * for EXPECT_MISS, data and len give its exact content (in th->scratch).
 * With --mget, that is the key's element of the answer's list instead:
 * the value, or over evkv null for a miss.
 * Inlined into its two callers, so that the first table's stays as it was
 * before there could be a second. */
static inline __attribute__((always_inline)) expect expected_answer_in(bthread *th, const bench_key *keys, uint32_t k,
                                                                       const char **data, size_t *len)
{
    const bench *b = th->b;
    proto_buf *t = &th->text, *s = &th->scratch;
    const bench_key *bk = (k & MISS_FLAG) ? NULL : &keys[k];
    int resp = b->opt.protocol == PROTOCOL_RESP, bare = b->opt.mget > 0;
    expect e;

    if (bk && bk->value_len == VALUE_UNKNOWN)
        return EXPECT_UNKNOWN;
    if (bk == NULL && !b->ks.table_known)
        return EXPECT_UNKNOWN;
    e = bk && bk->value_len != VALUE_MISS ? EXPECT_HIT : EXPECT_MISS;
    proto_buf_reset(s);
    if (e == EXPECT_HIT) {
        if (!resp && !bare)
            proto_buf_append(s, "{\"result\": ", 11);
        proto_buf_append(s, b->ks.arena.data + bk->value_off, bk->value_len);
        if (!resp && !bare)
            proto_buf_append(s, "}", 1);
    } else if (!resp && bare) {
        proto_buf_append(s, "null", 4);
    } else if (!resp) {
        char buf[40];
        size_t klen;
        const char *key = key_get(th, k, buf, sizeof(buf), &klen);
        proto_buf_reset(t);
        proto_buf_append(t, WIRE_MISS_PREFIX, sizeof(WIRE_MISS_PREFIX) - 1);
        proto_buf_append(t, key, klen);
        proto_buf_append(t, WIRE_MISS_SUFFIX, sizeof(WIRE_MISS_SUFFIX) - 1);
        proto_buf_append(s, "{\"result\": ", 11);
        proto_dump_string(s, t->data, t->len);
        proto_buf_append(s, "}", 1);
    }
    if (s->failed)
        return EXPECT_UNKNOWN;
    *data = s->data;
    *len = s->len;
    return e;
}

/* What the answer for key k must be, by the (first) table. */
static expect expected_answer(bthread *th, uint32_t k, const char **data, size_t *len)
{
    return expected_answer_in(th, th->b->ks.keys, k, data, len);
}

/* With two --data tables (ks.second), decides an answer for key k, the
 * request at the head of c's FIFO: right if it is either table's answer.
 * first is what the first table expects, first_ok whether the answer is
 * that; content and len are the answer's (nil: a RESP nil reply). Counts
 * which table the answer came from. Returns what the matching table
 * expects (EXPECT_HIT or EXPECT_MISS), or EXPECT_UNKNOWN if neither gives
 * this answer. */
static expect check_second(bconn *c, uint32_t k, expect first, int first_ok, int nil, const char *content, size_t len)
{
    bthread *th = c->th;
    const bench *b = th->b;
    const bench_key *k1 = (k & MISS_FLAG) ? NULL : &b->ks.keys[k];
    const bench_key *k2 = (k & MISS_FLAG) ? NULL : &b->ks.second[k];
    enum answer_from from;
    expect e = first;

    if (k1 == NULL || (k1->value_off == k2->value_off && k1->value_len == k2->value_len)) {
        if (!first_ok)
            return EXPECT_UNKNOWN;
        from = FROM_BOTH;
    } else if (first_ok) {
        from = FROM_FIRST;
    } else {
        const char *edata = NULL;
        size_t elen = 0;
        int match;
        e = expected_answer_in(th, b->ks.second, k, &edata, &elen);
        if (nil)
            match = e == EXPECT_MISS; /* RESP's miss answer */
        else if (e == EXPECT_MISS && b->opt.protocol == PROTOCOL_RESP)
            match = 0; /* a value where the table has none */
        else
            match = e != EXPECT_UNKNOWN && len == elen && memcmp(content, edata, elen) == 0;
        if (!match)
            return EXPECT_UNKNOWN;
        from = FROM_SECOND;
    }
    if (c->ring[c->head].t_sched >= b->t_measure)
        th->from[from]++;
    return e;
}

/* Takes the oldest request off c's FIFO and counts its answer, as
 * arrived when the read that brought it returned (th->t_read). A right
 * answer (ok) counts hits of the request's keys as hits, the others as
 * misses. */
static void conn_answered(bconn *c, int ok, int hits)
{
    bthread *th = c->th;
    inflight *f = &c->ring[c->head];
    uint64_t now = th->t_read;

    c->head = (c->head + 1) % (unsigned)th->b->opt.depth;
    c->count--;
    th->inflight--;
    c->pause_ms = 0;
    if (f->t_sched >= th->b->t_measure) {
        uint64_t lat = now > f->t_sched ? now - f->t_sched : 0;
        th->requests++;
        th->interval_requests++;
        th->last_answer = now;
        th->latency_sum += lat;
        histogram_record(&th->hist, lat);
        histogram_record(&th->interval, lat);
        if (ok) {
            th->hits += (uint64_t)hits;
            th->misses += (uint64_t)(keys_per_request(&th->b->opt) - hits);
        }
    }
}

/* Checks one evkv answer to the request at the head of the FIFO. */
static void check_evkv(bconn *c, const proto_message *msg)
{
    bthread *th = c->th;
    uint32_t k = c->ring[c->head].key;
    size_t elen = 0;
    const char *edata = NULL;
    expect e = expected_answer(th, k, &edata, &elen);
    char buf[40];
    size_t klen;
    const char *key = key_get(th, k, buf, sizeof(buf), &klen);

    if (!msg->is_json) {
        bench_error(th, 1, "answer for '%.*s' is not text/json", (int)klen, key);
        conn_answered(c, 0, 0);
        return;
    }
    if (e != EXPECT_UNKNOWN) {
        int ok = msg->content_len == elen && memcmp(msg->content, edata, elen) == 0;
        if (th->two_tables) {
            e = check_second(c, k, e, ok, 0, (const char *)msg->content, msg->content_len);
            ok = e != EXPECT_UNKNOWN;
        }
        if (!ok && th->b->cluster && bench_cluster_moved_evkv(c, msg))
            return;
        if (!ok)
            bench_error(th, 1, "wrong answer for '%.*s': %.*s", (int)(klen > 40 ? 40 : klen), key,
                        (int)(msg->content_len > 80 ? 80 : msg->content_len), (const char *)msg->content);
        conn_answered(c, ok, e == EXPECT_HIT);
        return;
    }
    /* Not known: classify from the JSON. */
    if (th->b->cluster && bench_cluster_moved_evkv(c, msg))
        return;
    json_t *result;
    evkv_answer a = evkv_answer_classify(msg, key, klen, &result);
    if (a == EVKV_ANSWER_ERROR)
        bench_error(th, 1, "error answer for '%.*s': %.*s", (int)(klen > 40 ? 40 : klen), key,
                    (int)(msg->content_len > 80 ? 80 : msg->content_len), (const char *)msg->content);
    conn_answered(c, a != EVKV_ANSWER_ERROR, a == EVKV_ANSWER_HIT);
    json_decref(result);
}

/* Checks one element of an --mget answer against what key k must get:
 * its bytes, or nil (RESP's nil reply). Returns 1 if it is right, with
 * *hit set for a value; 0 if it is wrong. */
static int check_element(bconn *c, uint32_t k, int nil, const char *data, size_t len, int *hit)
{
    bthread *th = c->th;
    int resp = th->b->opt.protocol == PROTOCOL_RESP, ok;
    const char *edata = NULL;
    size_t elen = 0;
    expect e = expected_answer(th, k, &edata, &elen);

    if (e == EXPECT_UNKNOWN) {
        *hit = !nil && (resp || len != 4 || memcmp(data, "null", 4) != 0);
        return 1;
    }
    if (nil)
        ok = e == EXPECT_MISS;
    else if (resp && e == EXPECT_MISS)
        ok = 0; /* a value where the table has none */
    else
        ok = len == elen && memcmp(data, edata, elen) == 0;
    if (th->two_tables) {
        e = check_second(c, k, e, ok, nil, data, len);
        ok = e != EXPECT_UNKNOWN;
    }
    *hit = e == EXPECT_HIT;
    return ok;
}

/* Says which element of an --mget answer was wrong: index i, for key k. */
static void element_error(bconn *c, uint32_t k, int i, const char *data, size_t len)
{
    bthread *th = c->th;
    char buf[40];
    size_t klen;
    const char *key = key_get(th, k, buf, sizeof(buf), &klen);

    if (data == NULL)
        bench_error(th, 1, "wrong answer for '%.*s' (key %d of %d): nil", (int)(klen > 40 ? 40 : klen), key, i + 1,
                    th->b->opt.mget);
    else
        bench_error(th, 1, "wrong answer for '%.*s' (key %d of %d): %.*s", (int)(klen > 40 ? 40 : klen), key, i + 1,
                    th->b->opt.mget, (int)(len > 80 ? 80 : len), data);
}

/* The length of the JSON value at the start of p[0..n), as the server
 * writes one: enough to find where it ends in a list, not to validate it
 * (the bytes are compared with the expected ones, or, for an unknown
 * table, taken as they are). 0 if it does not end within n. */
static size_t json_value_span(const char *p, size_t n)
{
    size_t i = 0;
    int depth = 0;

    while (i < n) {
        char ch = p[i++];
        if (ch == '"') {
            while (i < n && p[i] != '"')
                i += p[i] == '\\' ? 2 : 1;
            if (i >= n)
                return 0;
            i++;
        } else if (ch == '[' || ch == '{') {
            depth++;
        } else if (ch == ']' || ch == '}') {
            if (--depth < 0)
                return 0;
        } else if (depth == 0) {
            while (i < n && p[i] != ',' && p[i] != ']')
                i++; /* a number, true, false or null */
            return i;
        }
        if (depth == 0)
            return i;
    }
    return 0;
}

/* Checks one evkv answer to an msearch request (--mget), the request at
 * the head of the FIFO: {"result": [V1, V2, ...]}, each element checked
 * against its key. Any wrong element makes the answer wrong. */
static void check_msearch(bconn *c, const proto_message *msg)
{
    bthread *th = c->th;
    int nkeys = th->b->opt.mget, hits = 0;
    const uint32_t *keys = &c->mkeys[(size_t)c->head * (size_t)nkeys];
    const char *p = (const char *)msg->content, *end = p + msg->content_len;
    static const char open[] = "{\"result\": [";

    if (!msg->is_json) {
        bench_error(th, 1, "answer to msearch is not text/json");
        conn_answered(c, 0, 0);
        return;
    }
    if (msg->content_len < sizeof(open) + 1 || memcmp(p, open, sizeof(open) - 1) != 0 || memcmp(end - 2, "]}", 2) != 0)
        goto bad;
    p += sizeof(open) - 1;
    end -= 2;
    for (int i = 0; i < nkeys; i++) {
        if (i > 0) {
            if (end - p < 2 || memcmp(p, ", ", 2) != 0)
                goto bad;
            p += 2;
        }
        size_t n = json_value_span(p, (size_t)(end - p));
        int hit = 0;
        if (n == 0)
            goto bad;
        if (!check_element(c, keys[i], 0, p, n, &hit)) {
            element_error(c, keys[i], i, p, n);
            conn_answered(c, 0, 0);
            return;
        }
        hits += hit;
        p += n;
    }
    if (p != end)
        goto bad;
    conn_answered(c, 1, hits);
    return;
bad:
    bench_error(th, 1, "not an answer to msearch of %d keys: %.*s", nkeys,
                (int)(msg->content_len > 80 ? 80 : msg->content_len), (const char *)msg->content);
    conn_answered(c, 0, 0);
}

void read_evkv(bconn *c, const char *data, size_t n)
{
    proto_message msg;

    proto_decoder_feed(&c->dec, data, n);
    for (;;) {
        proto_status st = proto_decoder_next(&c->dec, &msg);
        if (st == PROTO_NEED_MORE)
            return;
        if (st == PROTO_OK && c->auth_pending) {
            /* the login's answer: {"result": "ok"} */
            static const char ok[] = "{\"result\": \"ok\"}";
            c->auth_pending = 0;
            if (!msg.is_json || msg.content_len != sizeof(ok) - 1 || memcmp(msg.content, ok, sizeof(ok) - 1) != 0) {
                conn_auth_refused(c, (const char *)msg.content, msg.content_len);
                return;
            }
            continue;
        }
        if (st == PROTO_ERROR || c->count == 0) {
            char why[200];
            snprintf(why, sizeof(why), "bad answer framing: %s%s",
                     st == PROTO_ERROR ? c->dec.errstr : "an answer nobody asked for",
                     st == PROTO_ERROR ? evkv_decoder_hint(&c->dec) : "");
            if (c->count == 0)
                bench_error(c->th, 1, "%s", why);
            conn_drop(c, why);
            return;
        }
        if (c->th->b->opt.mget)
            check_msearch(c, &msg);
        else
            check_evkv(c, &msg);
    }
}

/* One reply to GET at p[0..n), checked against the request at the head of
 * c's FIFO. Returns its length (taken), 0 if it is incomplete (*need: the
 * bytes it needs, when known), -1 if it is not RESP (errstr). */
static long get_reply(bconn *c, const char *p, size_t n, size_t *need, char *errstr)
{
    bthread *th = c->th;
    resp_reply r;
    long len = resp_reply_read(p, n, &r, need, errstr);

    if (len <= 0)
        return len;
    if (r.type == RESP_REPLY_ARRAY || r.type == RESP_REPLY_NIL_ARRAY) {
        snprintf(errstr, RESP_REPLY_ERRSTR_LEN, "an array in reply to GET");
        return -1;
    }
    if (r.type == RESP_REPLY_ERROR && th->b->cluster && bench_cluster_moved(c, r.str, r.len))
        return len;
    if (r.type != RESP_REPLY_BULK && r.type != RESP_REPLY_NIL) {
        bench_error(th, 1, "unexpected reply: %.*s", (int)(len - 2 > 80 ? 80 : len - 2), p);
        conn_answered(c, 0, 0);
        return len;
    }
    uint32_t k = c->ring[c->head].key;
    size_t elen = 0;
    const char *edata = NULL;
    expect e = expected_answer(th, k, &edata, &elen);
    int nil = r.type == RESP_REPLY_NIL, ok;
    const char *data = nil ? NULL : r.str;
    size_t dlen = nil ? 0 : r.len;

    if (nil)
        ok = e != EXPECT_HIT;
    else
        ok = !(e == EXPECT_MISS || (e == EXPECT_HIT && (dlen != elen || memcmp(data, edata, elen) != 0)));
    if (th->two_tables)
        ok = check_second(c, k, e, ok, nil, data, dlen) != EXPECT_UNKNOWN;
    if (!ok && nil)
        bench_error(th, 1, "nil answer for a key in the table");
    else if (!ok)
        bench_error(th, 1, "wrong answer: %.*s", (int)(dlen > 80 ? 80 : dlen), data);
    conn_answered(c, ok, !nil);
    return len;
}

/* One reply to MGET (--mget) at p[0..n), checked key by key against the
 * request at the head of c's FIFO. Returns its length (taken), 0 if it is
 * incomplete (*need: the bytes it needs, when known), -1 if it is not RESP
 * (errstr). */
static long mget_reply(bconn *c, const char *p, size_t n, size_t *need, char *errstr)
{
    bthread *th = c->th;
    int nkeys = th->b->opt.mget, hits = 0, ok = 1;
    const uint32_t *keys = &c->mkeys[(size_t)c->head * (size_t)nkeys];
    resp_reply r, el;
    long len = resp_reply_read(p, n, &r, need, errstr), total = len;

    if (len <= 0)
        return len;
    if (r.type != RESP_REPLY_ARRAY) {
        /* A whole reply, but not MGET's: its first line is shown. */
        const char *cr = memchr(p, '\r', (size_t)len);
        long shown = cr ? cr - p : 0;
        bench_error(th, 1, "unexpected reply to MGET: %.*s", (int)(shown > 80 ? 80 : shown), p);
        conn_answered(c, 0, 0);
        return len;
    }
    /* First the whole reply, then its elements: an answer is checked once. */
    for (long long i = 0; i < r.num; i++) {
        long l = resp_reply_read(p + total, n - (size_t)total, &el, need, errstr);
        if (l == 0)
            *need += (size_t)total;
        if (l <= 0)
            return l;
        if (el.type != RESP_REPLY_BULK && el.type != RESP_REPLY_NIL) {
            snprintf(errstr, RESP_REPLY_ERRSTR_LEN, "an element of an MGET reply is not a bulk");
            return -1;
        }
        total += l;
    }
    if (r.num != nkeys) {
        bench_error(th, 1, "MGET of %d keys answered with %lld values", nkeys, r.num);
        ok = 0;
    }
    for (int i = 0; ok && i < nkeys; i++) {
        len += resp_reply_read(p + len, (size_t)(total - len), &el, NULL, errstr);
        const char *data = el.type == RESP_REPLY_BULK ? el.str : NULL;
        size_t dlen = data ? el.len : 0;
        int hit = 0;
        if (!check_element(c, keys[i], data == NULL, data, dlen, &hit)) {
            element_error(c, keys[i], i, data, dlen);
            ok = 0;
        }
        hits += hit;
    }
    conn_answered(c, ok, hits);
    return total;
}

void read_resp(bconn *c, struct evbuffer *in)
{
    size_t avail = evbuffer_get_length(in), used = 0, need = 0;
    char errstr[RESP_REPLY_ERRSTR_LEN], why[RESP_REPLY_ERRSTR_LEN + 32];

    /* A reply still arriving (a big bulk) is made contiguous once it is
     * whole, not again at every read. */
    if (avail < c->resp_need)
        return;
    /* Most reads bring whole replies: one pullup, then plain parsing. */
    const char *p = (const char *)evbuffer_pullup(in, -1);

    if (p == NULL) {
        conn_drop(c, "out of memory");
        return;
    }
    while (used < avail && c->auth_pending) {
        /* the login's reply: +OK */
        resp_reply r;
        long n = resp_reply_read(p + used, avail - used, &r, &need, errstr);
        if (n == 0)
            break;
        if (n < 0 || r.type != RESP_REPLY_STATUS || r.len != 2 || memcmp(r.str, "OK", 2) != 0) {
            conn_auth_refused(c, p + used, n > 2 ? (size_t)n - 2 : avail - used);
            return;
        }
        c->auth_pending = 0;
        used += (size_t)n;
    }
    while (used < avail) {
        if (c->readonly_pending) {
            long n = bench_cluster_readonly_reply(c, p + used, avail - used);
            if (n == 0)
                break;
            if (n < 0) {
                conn_drop(c, "READONLY refused");
                return;
            }
            used += (size_t)n;
            continue;
        }
        if (c->count == 0) {
            conn_drop(c, "a reply nobody asked for");
            bench_error(c->th, 1, "a reply nobody asked for");
            return;
        }
        long n = c->th->b->opt.mget ? mget_reply(c, p + used, avail - used, &need, errstr)
                                    : get_reply(c, p + used, avail - used, &need, errstr);
        if (n == 0)
            break;
        if (n < 0) {
            snprintf(why, sizeof(why), "bad RESP reply: %s", errstr);
            conn_drop(c, why);
            return;
        }
        used += (size_t)n;
    }
    c->resp_need = used < avail ? need : 0;
    evbuffer_drain(in, used);
}
