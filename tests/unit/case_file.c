/*
 * case_file.c: test cases read from a text file (case_file.h).
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
#include "text.h"

/* Appends the bytes that line (escaped, see case_file.h) stands for. */
static void unescape(const char *line, proto_buf *b)
{
    static const char from[] = "rntvfab0\\", to[] = "\r\n\t\v\f\a\b\0\\";
    for (const char *p = line; *p != '\0' && *p != '\n'; p++) {
        char c = *p;
        if (c == '\\' && p[1] == 'x' && proto_hex_digit(p[2]) >= 0 && proto_hex_digit(p[3]) >= 0) {
            c = (char)(proto_hex_digit(p[2]) * 16 + proto_hex_digit(p[3]));
            p += 3;
        } else if (c == '\\') {
            const char *e = p[1] ? strchr(from, p[1]) : NULL;
            if (e == NULL)
                fail_msg("bad escape in \"%s\"", line);
            c = to[e - from];
            p++;
        }
        assert_int_equal(proto_buf_append(b, &c, 1), 0);
    }
}

size_t case_file_load(const char *path, test_case **cases)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    size_t n = 0;
    test_case *c = NULL;

    if (f == NULL)
        fail_msg("cannot open %s", path);
    *cases = NULL;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '=' && line[1] == ' ') {
            *cases = realloc(*cases, (n + 1) * sizeof(**cases));
            assert_non_null(*cases);
            c = &(*cases)[n++];
            memset(c, 0, sizeof(*c));
            snprintf(c->name, sizeof(c->name), "%.*s", (int)strcspn(line + 2, "\n"), line + 2);
        } else if (c != NULL && line[0] == '<') {
            unescape(line + 1 + (line[1] == ' '), &c->in);
        } else if (c != NULL && line[0] == '>') {
            unescape(line + 1 + (line[1] == ' '), &c->out);
        }
    }
    fclose(f);
    assert_true(n > 0);
    return n;
}

void case_file_free(test_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        proto_buf_free(&cases[i].in);
        proto_buf_free(&cases[i].out);
    }
    free(cases);
}
