/*
 * parse.c: the client programs' number parsers (see parse.h).
 */
#include "parse.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes "must be WHAT, not 'S'" into err (S cut to 40 bytes). */
static int parse_fail(char *err, size_t errlen, const char *what, const char *s)
{
    if (errlen > 0)
        snprintf(err, errlen, "must be %s, not '%.40s%s'", what, s, strlen(s) > 40 ? "..." : "");
    return -1;
}

/* Whether s starts as a decimal number may: a digit, or '-' and a digit
 * (strtoll and strtod would also take spaces and '+'). */
static int starts_number(const char *s)
{
    if (*s == '-')
        s++;
    return (*s >= '0' && *s <= '9') || (*s == '.' && s[1] >= '0' && s[1] <= '9');
}

int parse_count(const char *s, long long min, long long max, long long *out, char *err, size_t errlen)
{
    char what[80], *end;
    long long v;

    snprintf(what, sizeof(what), "a whole number from %lld to %lld", min, max);
    if (!starts_number(s) || *s == '.')
        return parse_fail(err, errlen, what, s);
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return parse_fail(err, errlen, what, s);
    *out = v;
    return 0;
}

int parse_bytes(const char *s, size_t min, size_t max, size_t *out, char *err, size_t errlen)
{
    char what[80], *end;
    unsigned long long v;

    snprintf(what, sizeof(what), "a whole number of bytes from %zu to %zu", min, max);
    if (*s < '0' || *s > '9')
        return parse_fail(err, errlen, what, s);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end != '\0' || v > SIZE_MAX || v < min || v > max)
        return parse_fail(err, errlen, what, s);
    *out = (size_t)v;
    return 0;
}

int parse_seconds(const char *s, double min, double max, double *out, char *err, size_t errlen)
{
    char what[80], *end;
    double v;

    snprintf(what, sizeof(what), "a number of seconds from %g to %g", min, max);
    if (!starts_number(s) || strpbrk(s, "xX")) /* strtod reads hexadecimal too */
        return parse_fail(err, errlen, what, s);
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end != '\0' || !isfinite(v) || v < min || v > max)
        return parse_fail(err, errlen, what, s);
    *out = v;
    return 0;
}
