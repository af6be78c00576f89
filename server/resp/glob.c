/*
 * glob.c: Redis's glob matching (util.c's stringmatchlen), see glob.h.
 */
#include <ctype.h>

#include "glob.h"

/* The [class] at *pattern (its '['): whether string[0] is in it, as
 * stringmatchlen decides. Moves *pattern to the class's ']' (or the
 * pattern's last byte, for a class left open). */
static int glob_class(const char **pp, long *pl, const char *string, int nocase)
{
    const char *pattern = *pp + 1;
    long patlen = *pl - 1;
    int not = pattern[0] == '^', match = 0;

    if (not ) {
        pattern++;
        patlen--;
    }
    while (1) {
        if (pattern[0] == '\\' && patlen >= 2) {
            pattern++;
            patlen--;
            if (pattern[0] == string[0])
                match = 1;
        } else if (pattern[0] == ']') {
            break;
        } else if (patlen == 0) {
            pattern--;
            patlen++;
            break;
        } else if (patlen >= 3 && pattern[1] == '-') {
            int start = pattern[0], end = pattern[2], ch = string[0];
            if (start > end) {
                int t = start;
                start = end;
                end = t;
            }
            if (nocase) {
                start = tolower(start);
                end = tolower(end);
                ch = tolower(ch);
            }
            pattern += 2;
            patlen -= 2;
            if (ch >= start && ch <= end)
                match = 1;
        } else if (!nocase) {
            if (pattern[0] == string[0])
                match = 1;
        } else if (tolower((int)pattern[0]) == tolower((int)string[0])) {
            match = 1;
        }
        pattern++;
        patlen--;
    }
    *pp = pattern;
    *pl = patlen;
    return not ? !match : match;
}

/* util.c's stringmatchlen (glob: * ? [a-z] [^x] \x), with nocase. The
 * pattern must be NUL-terminated after patlen bytes: Redis's reads one
 * byte past the end in two places. */
static int glob_match_impl(const char *pattern, long patlen, const char *string, long slen, int nocase,
                           int *skip_longer)
{
    while (patlen && slen) {
        switch (pattern[0]) {
        case '*':
            while (patlen && pattern[1] == '*') {
                pattern++;
                patlen--;
            }
            if (patlen == 1)
                return 1;
            while (slen) {
                if (glob_match_impl(pattern + 1, patlen - 1, string, slen, nocase, skip_longer))
                    return 1;
                if (*skip_longer)
                    return 0;
                string++;
                slen--;
            }
            /* No match for the rest anywhere in the rest of the string:
             * a longer match for an earlier '*' cannot help either. */
            *skip_longer = 1;
            return 0;
        case '?':
            string++;
            slen--;
            break;
        case '[':
            if (!glob_class(&pattern, &patlen, string, nocase))
                return 0;
            string++;
            slen--;
            break;
        case '\\':
            if (patlen >= 2) {
                pattern++;
                patlen--;
            }
            /* fall through */
        default:
            if (!nocase) {
                if (pattern[0] != string[0])
                    return 0;
            } else if (tolower((int)pattern[0]) != tolower((int)string[0])) {
                return 0;
            }
            string++;
            slen--;
            break;
        }
        pattern++;
        patlen--;
        if (slen == 0) {
            while (*pattern == '*') {
                pattern++;
                patlen--;
            }
            break;
        }
    }
    return patlen == 0 && slen == 0;
}

size_t resp_glob_collapse(char *p, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (p[i] == '\\' && i + 1 < len) {
            p[o++] = p[i++];
            p[o++] = p[i++];
        } else if (p[i] == '*' && o > 0 && p[o - 1] == '*' && (o < 2 || p[o - 2] != '\\')) {
            i++;
        } else {
            p[o++] = p[i++];
        }
    }
    if (o < len)
        p[o] = '\0';
    return o;
}

int resp_glob_match(const char *pattern, size_t patlen, const char *s, size_t slen, int nocase)
{
    int skip = 0;
    return glob_match_impl(pattern, (long)patlen, s, (long)slen, nocase, &skip);
}
