/*
 * test_resp_introspection.c: unit tests of COMMAND (server/resp/
 * introspection.c and the generated table): COMMAND, COMMAND COUNT,
 * COMMAND INFO, COMMAND DOCS, dispatch and proto/PROTOCOL.md's list of the
 * served commands cannot disagree.
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resp_harness.h"

/* COMMAND, COMMAND COUNT and COMMAND DOCS agree on the commands served. */
static void test_command_lists(void **state)
{
    (void)state;
    table *t = make_table();
    resp_env env = {t, NULL, NULL, NULL, NULL};
    resp_client c;
    resp_client_init(&c, 1);

    proto_buf count = run_stream(&env, &c, LIT("*2\r\n$7\r\ncommand\r\n$5\r\ncount\r\n"), NULL);
    proto_buf all = run_stream(&env, &c, LIT("*1\r\n$7\r\ncommand\r\n"), NULL);
    proto_buf docs = run_stream(&env, &c, LIT("*2\r\n$7\r\ncommand\r\n$4\r\ndocs\r\n"), NULL);
    long long n = strtoll(count.data + 1, NULL, 10);
    assert_true(n >= 20);
    assert_int_equal(strtoll(all.data + 1, NULL, 10), n);
    assert_int_equal(strtoll(docs.data + 1, NULL, 10), 2 * n);
    /* every entry is Redis's own, get's among them */
    assert_non_null(memmem(all.data, all.len, LIT("*10\r\n$3\r\nget\r\n:2\r\n")));
    proto_buf_free(&count);
    proto_buf_free(&all);
    proto_buf_free(&docs);

    /* the generated table is sorted, as the lookup's binary search needs */
    for (size_t i = 1; i < resp_command_nspecs; i++)
        assert_true(strcmp(resp_command_specs[i - 1].name, resp_command_specs[i].name) < 0);
    resp_client_free(&c);
    table_free(t);
}

static int starts_with(const proto_buf *b, const char *prefix)
{
    size_t n = strlen(prefix);
    return b->len >= n && memcmp(b->data, prefix, n) == 0;
}

/* Runs argv (argc words) on a fresh client, outside MULTI; returns whether
 * a handler of evkv answered it (anything but the answers for a command
 * it does not serve: READONLY, "does not serve", CONFIG SET's refusal). */
static int answered_by_handler(const resp_env *env, const char *const *argv, size_t argc)
{
    size_t len[8];
    resp_request req = {argc, argv, len, 0};
    resp_client c;
    resp_result res;
    proto_buf out = {0};

    assert_true(argc <= 8);
    for (size_t i = 0; i < argc; i++)
        len[i] = strlen(argv[i]);
    resp_client_init(&c, 1);
    assert_int_equal(resp_execute(env, &c, &req, &out, &res), 0);
    int served = !starts_with(&out, "-READONLY ") && !starts_with(&out, "-ERR evkv does not serve the '") &&
                 !starts_with(&out, "-ERR evkv does not change its configuration");
    proto_buf_free(&out);
    resp_client_free(&c);
    return served;
}

/* Whether evkv answers the command or subcommand spec names with a handler:
 * it is asked with arguments of a valid arity ("0" each). */
static int spec_answered(const resp_env *env, const resp_command_spec *spec)
{
    char name[64];
    const char *argv[8];
    size_t argc = spec->arity < 0 ? (size_t)-spec->arity : (size_t)spec->arity, n = 0;

    snprintf(name, sizeof(name), "%s", spec->name);
    char *bar = strchr(name, '|');
    if (bar != NULL)
        *bar = '\0';
    argv[n++] = name;
    if (bar != NULL)
        argv[n++] = bar + 1;
    while (n < argc && n < 8)
        argv[n++] = "0";
    return answered_by_handler(env, argv, n);
}

/* Whether COMMAND INFO name gives an entry (not a null). */
static int command_info_has(const resp_env *env, const char *name)
{
    const char *argv[] = {"command", "info", name};
    size_t len[] = {7, 4, strlen(name)};
    resp_request req = {3, argv, len, 0};
    resp_client c;
    resp_result res;
    proto_buf out = {0};

    resp_client_init(&c, 1);
    assert_int_equal(resp_execute(env, &c, &req, &out, &res), 0);
    int has = out.len > 6 && memcmp(out.data, "*1\r\n*", 5) == 0;
    if (!has)
        assert_memory_equal(out.data, "*1\r\n$-1\r\n", 9);
    proto_buf_free(&out);
    resp_client_free(&c);
    return has;
}

/* PROTOCOL.md's list of the served commands (between its markers), as
 * words: each name, "(" and ")"; backticks, commas and spaces dropped. */
static proto_buf protocol_md_words(void)
{
    static const char begin[] = "<!-- served commands:", end[] = "<!-- end of the served commands -->";
    proto_buf words = {0};
    FILE *f = fopen(PROTOCOL_MD, "rb");
    char *text = calloc(1, 1 << 20);

    assert_non_null(f);
    assert_non_null(text);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    char *p = strstr(text, begin), *q = strstr(text, end);
    assert_non_null(p);
    assert_non_null(q);
    p = strchr(p, '\n');
    assert_true(n > 0 && p != NULL && p < q);
    for (; p < q; p++) {
        if (*p == '(' || *p == ')') {
            proto_buf_append(&words, p, 1);
            proto_buf_append(&words, " ", 1);
        } else if (*p != '`' && *p != ',' && *p != ' ' && *p != '\n') {
            proto_buf_append(&words, p, 1);
            if (p[1] == '`' || p[1] == ',' || p[1] == ' ' || p[1] == '\n' || p[1] == ')')
                proto_buf_append(&words, " ", 1);
        }
    }
    free(text);
    return words;
}

/* Appends spec's name to the words PROTOCOL.md should hold: a command's
 * name, or a subcommand's in its container's parentheses. */
static void add_listed(proto_buf *w, int *open, const char *name)
{
    const char *bar = strchr(name, '|');
    if (bar != NULL && !*open)
        proto_buf_append(w, "( ", 2);
    if (bar == NULL && *open)
        proto_buf_append(w, ") ", 2);
    *open = bar != NULL;
    for (const char *p = bar ? bar + 1 : name; *p; p++) {
        char up = (char)toupper((unsigned char)*p);
        proto_buf_append(w, &up, 1);
    }
    proto_buf_append(w, " ", 1);
}

/* Every command or subcommand of Redis's that a handler answers is in
 * COMMAND INFO, and every one there is answered by a handler; a container
 * is there when a subcommand of it is (or it answers alone, as COMMAND).
 * COMMAND COUNT counts those, COMMAND DOCS describes them, and PROTOCOL.md
 * lists the same, as scripts/gen-resp-commands writes it. */
static void test_served_are_listed(void **state)
{
    (void)state;
    table *t = make_table();
    resp_env env = {t, NULL, NULL, NULL, NULL};
    resp_client c;
    proto_buf want = {0};
    long long ntop = 0;
    int open = 0;

    for (size_t i = 0; i < resp_command_nspecs; i++) {
        const resp_command_spec *s = &resp_command_specs[i];
        int served = 0;
        if (s->flags & RESP_CMD_CONTAINER) {
            size_t n = strlen(s->name);
            if (s->arity == -1) /* COMMAND alone answers too */
                served = spec_answered(&env, s);
            for (size_t j = i + 1; j < resp_command_nspecs; j++) {
                const char *sub = resp_command_specs[j].name;
                if (strncmp(sub, s->name, n) != 0 || sub[n] != '|')
                    break;
                served |= spec_answered(&env, &resp_command_specs[j]);
            }
        } else {
            served = spec_answered(&env, s);
        }
        if (served != command_info_has(&env, s->name))
            fail_msg("%s: %s by a handler, but %s COMMAND INFO", s->name, served ? "answered" : "not answered",
                     served ? "not in" : "in");
        if (served) {
            ntop += strchr(s->name, '|') == NULL;
            add_listed(&want, &open, s->name);
        }
    }
    if (open)
        proto_buf_append(&want, ") ", 2);

    resp_client_init(&c, 1);
    proto_buf count = run_stream(&env, &c, LIT("*2\r\n$7\r\ncommand\r\n$5\r\ncount\r\n"), NULL);
    proto_buf docs = run_stream(&env, &c, LIT("*2\r\n$7\r\ncommand\r\n$4\r\ndocs\r\n"), NULL);
    assert_int_equal(strtoll(count.data + 1, NULL, 10), ntop);
    assert_int_equal(strtoll(docs.data + 1, NULL, 10), 2 * ntop);
    proto_buf md = protocol_md_words();
    if (md.len != want.len || memcmp(md.data, want.data, md.len) != 0)
        fail_msg("PROTOCOL.md lists\n%.*s\nwhere COMMAND has\n%.*s", (int)md.len, md.data, (int)want.len, want.data);
    proto_buf_free(&md);
    proto_buf_free(&count);
    proto_buf_free(&docs);
    proto_buf_free(&want);
    resp_client_free(&c);
    table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_lists),
        cmocka_unit_test(test_served_are_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
