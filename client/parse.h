/*
 * parse.h: the number parsers of the client programs' options (evkv-cli,
 * evkv-bench): counts, byte sizes and seconds, each within a range the
 * caller gives, so that every option reads its numbers the same way.
 *
 * Each takes the whole string s (no leading or trailing space, no sign
 * unless negative numbers are in range, no trailing unit) and returns 0
 * with *out, or -1 with *out untouched and err (errlen bytes, a
 * NUL-terminated sentence fragment) saying what was expected, in the form
 * "must be ..., not 'S'", for the caller to put after the option's name:
 *
 *     if (parse_count(optarg, 1, 1000, &n, err, sizeof(err)) != 0)
 *         fprintf(stderr, "evkv-cli: --count %s\n", err);
 *
 * They hold no state and allocate nothing. err may be NULL when errlen is 0.
 */
#ifndef EVKV_PARSE_H
#define EVKV_PARSE_H

#include <stddef.h>

/* Room enough for any err these write (longer buffers are fine). */
#define PARSE_ERR_LEN 160

/* A whole number from min to max, in decimal. */
int parse_count(const char *s, long long min, long long max, long long *out, char *err, size_t errlen);
/* A whole number of bytes from min to max, in decimal (no unit suffix). */
int parse_bytes(const char *s, size_t min, size_t max, size_t *out, char *err, size_t errlen);
/* A number of seconds from min to max, decimals allowed ("0.25", "2",
 * "1e-3"); never NaN or infinite. */
int parse_seconds(const char *s, double min, double max, double *out, char *err, size_t errlen);

#endif
