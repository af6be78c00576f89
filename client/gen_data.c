/*
 * gen_data.c: evkv-gen-data, which scripts/gen-data runs: a data file of
 * N keys and its key list, written fast enough for tens of millions of
 * keys (50 million in about a minute's budget: the bytes go out in big
 * writes, and no key or value is formatted twice).
 *
 * Keys are "key:" and a 9-digit number (13 bytes), in order; a value is
 * BYTES printable characters (letters and digits, the same bytes in TSV,
 * in JSON and in Redis) cut from a pool at a place the seed's random
 * sequence chooses (splitmix64), so the same arguments give the same files.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "parse.h"

#define POOL_SLACK 4096              /* a value starts anywhere in the pool's first 4096 bytes */
#define OUT_BUF    ((size_t)1 << 20) /* bytes written at a time */
#define KEY_LEN    13

static const char usage_text[] =
    "Usage: scripts/gen-data [-n N] [--value-size BYTES] [--format tsv|json] [--seed S] OUT\n"
    "Writes an evkv data file of N keys and its key list.\n"
    "\n"
    "OUT gets the data (key<TAB>value lines, or one JSON object) and OUT.keys\n"
    "one key per line, in the same order. Keys are \"key:\" and a 9-digit number\n"
    "(13 bytes); values are printable ASCII of exactly BYTES bytes. The same\n"
    "arguments always give the same files.\n"
    "\n"
    "  -n, --keys N          number of keys, 1..999999999 (default 100000)\n"
    "  --value-size BYTES    bytes per value (default 100)\n"
    "  --format tsv|json     default: from OUT's extension (.json or .tsv), else tsv\n"
    "  --seed S              random seed (default 1)\n"
    "\n"
    "Exit status: 0; 1 when a file cannot be written; 2 usage error.\n";

/* A file written through a buffer of its own. */
typedef struct out_file {
    const char *path;
    FILE *f;
    char *buf;
    size_t len;
} out_file;

static int out_open(out_file *o, const char *path)
{
    o->path = path;
    o->len = 0;
    o->buf = malloc(OUT_BUF);
    o->f = fopen(path, "w");
    return o->buf && o->f ? 0 : -1;
}

static int out_flush(out_file *o)
{
    if (o->len > 0 && fwrite(o->buf, 1, o->len, o->f) != o->len)
        return -1;
    o->len = 0;
    return 0;
}

/* Appends n bytes; a piece bigger than the buffer goes out on its own. */
static int out_write(out_file *o, const char *p, size_t n)
{
    if (OUT_BUF - o->len < n && out_flush(o) != 0)
        return -1;
    if (n > OUT_BUF)
        return fwrite(p, 1, n, o->f) == n ? 0 : -1;
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
}

static int out_close(out_file *o)
{
    int rc = 0;
    if (o->f && (out_flush(o) != 0 || ferror(o->f)))
        rc = -1;
    if (o->f && fclose(o->f) != 0)
        rc = -1;
    free(o->buf);
    o->f = NULL;
    o->buf = NULL;
    return rc;
}

/* Adds one to the 9 digits of key (after "key:"). */
static void key_next(char *key)
{
    for (int i = KEY_LEN - 1; i >= 4; i--) {
        if (key[i] != '9') {
            key[i]++;
            return;
        }
        key[i] = '0';
    }
}

typedef struct gen_args {
    long long keys;
    size_t value_size;
    int json;
    uint64_t seed;
    const char *out;
} gen_args;

/* Writes entry i (key, value) to data in its format, and the key to keys. */
static int write_entry(const gen_args *a, out_file *data, out_file *keys, long long i, const char *key,
                       const char *value)
{
    const char *after = a->json ? (i + 1 < a->keys ? "\",\n" : "\"\n") : "\n";

    if (out_write(keys, key, KEY_LEN) != 0 || out_write(keys, "\n", 1) != 0)
        return -1;
    if (a->json && out_write(data, "\"", 1) != 0)
        return -1;
    if (out_write(data, key, KEY_LEN) != 0 || out_write(data, a->json ? "\": \"" : "\t", a->json ? 4 : 1) != 0)
        return -1;
    if (out_write(data, value, a->value_size) != 0 || out_write(data, after, strlen(after)) != 0)
        return -1;
    return 0;
}

static int generate(const gen_args *a)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    char keys_path[4096], key[KEY_LEN + 1] = "key:000000000";
    out_file data = {0}, keys = {0};
    uint64_t state = a->seed;
    char *pool = malloc(a->value_size + POOL_SLACK);
    int rc = -1;

    if (snprintf(keys_path, sizeof(keys_path), "%s.keys", a->out) >= (int)sizeof(keys_path)) {
        fprintf(stderr, "gen-data: %s: name too long\n", a->out);
        free(pool);
        return -1;
    }
    if (pool == NULL) {
        fprintf(stderr, "gen-data: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < a->value_size + POOL_SLACK; i++)
        pool[i] = alphabet[hash_splitmix64(&state) % (sizeof(alphabet) - 1)];
    if (out_open(&data, a->out) != 0 || out_open(&keys, keys_path) != 0)
        goto fail;
    if (a->json && out_write(&data, "{\n", 2) != 0)
        goto fail;
    for (long long i = 0; i < a->keys; i++, key_next(key)) {
        const char *value = pool + hash_splitmix64(&state) % POOL_SLACK;
        if (write_entry(a, &data, &keys, i, key, value) != 0)
            goto fail;
    }
    if (a->json && out_write(&data, "}\n", 2) != 0)
        goto fail;
    if (out_close(&data) != 0 || out_close(&keys) != 0)
        goto fail;
    rc = 0;
    fprintf(stderr, "gen-data: wrote %lld keys to %s (%s) and %s\n", a->keys, a->out, a->json ? "json" : "tsv",
            keys_path);
fail:
    if (rc != 0)
        fprintf(stderr, "gen-data: %s: %s\n", data.f && keys.f ? keys_path : a->out,
                errno ? strerror(errno) : "write failed");
    out_close(&data);
    out_close(&keys);
    free(pool);
    return rc;
}

static int usage_error(const char *what)
{
    fprintf(stderr, "gen-data: %s\n(see scripts/gen-data --help)\n", what);
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"keys", required_argument, NULL, 'n'},   {"value-size", required_argument, NULL, 'v'},
        {"format", required_argument, NULL, 'f'}, {"seed", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    gen_args a = {.keys = 100000, .value_size = 100, .json = -1, .seed = 1};
    char err[PARSE_ERR_LEN], what[PARSE_ERR_LEN + 32];
    long long seed;
    int c;

    while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_count(optarg, 1, 999999999, &a.keys, err, sizeof(err)) != 0)
                return snprintf(what, sizeof(what), "-n %s", err), usage_error(what);
            break;
        case 'v':
            if (parse_bytes(optarg, 0, (size_t)1 << 30, &a.value_size, err, sizeof(err)) != 0)
                return snprintf(what, sizeof(what), "--value-size %s", err), usage_error(what);
            break;
        case 'f':
            if (strcmp(optarg, "tsv") != 0 && strcmp(optarg, "json") != 0)
                return usage_error("--format must be tsv or json");
            a.json = strcmp(optarg, "json") == 0;
            break;
        case 's':
            if (parse_count(optarg, INT64_MIN, INT64_MAX, &seed, err, sizeof(err)) != 0)
                return snprintf(what, sizeof(what), "--seed %s", err), usage_error(what);
            a.seed = (uint64_t)seed;
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: return usage_error("unknown option");
        }
    }
    if (optind != argc - 1)
        return usage_error("give one output file, OUT");
    a.out = argv[optind];
    if (a.json < 0) {
        size_t len = strlen(a.out);
        a.json = len >= 5 && strcmp(a.out + len - 5, ".json") == 0;
    }
    return generate(&a) == 0 ? 0 : 1;
}
