/*
 * acl_set.c: a set of users (see acl.h): read from an ACL file line by line
 * as Redis's ACLLoadFromFile reads it, errors collected in its words;
 * looked up, authenticated against, and checked as processCommand checks a
 * command.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acl_internal.h"
#include "glob.h"

#define ACL_FILE_MAX (16 * 1024 * 1024) /* an ACL file is a few lines: more is a mistake */

/* Appends to err, as Redis's sdscatprintf onto its errors. */
static void err_add(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void err_add(char *err, size_t errlen, const char *fmt, ...)
{
    size_t n = strlen(err);
    if (n + 1 >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - n, fmt, ap);
    va_end(ap);
}

static int user_cmp(const void *a, const void *b)
{
    const acl_user *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    return c != 0 ? c : (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

const acl_user *acl_user_find(const acl_set *s, const char *name, size_t len)
{
    acl_user key = {.name = (char *)name, .name_len = len};
    return bsearch(&key, s->users, s->nusers, sizeof(acl_user), user_cmp);
}

static acl_user *set_find(acl_set *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->nusers; i++)
        if (s->users[i].name_len == len && memcmp(s->users[i].name, name, len) == 0)
            return &s->users[i];
    return NULL;
}

static acl_set *set_new(void)
{
    acl_set *s = calloc(1, sizeof(*s));
    if (s != NULL)
        atomic_init(&s->refs, 1);
    return s;
}

static void set_free(acl_set *s)
{
    for (size_t i = 0; i < s->nusers; i++)
        acl_user_clear(&s->users[i]);
    free(s->users);
    free(s);
}

acl_set *acl_set_ref(acl_set *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void acl_set_release(acl_set *s)
{
    if (s != NULL && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        set_free(s);
}

/* A new user, off and without rules, at the end of s; NULL when out of memory. */
static acl_user *set_add(acl_set *s, const char *name, size_t len)
{
    acl_user *grown = realloc(s->users, (s->nusers + 1) * sizeof(*grown));
    if (grown == NULL)
        return NULL;
    s->users = grown;
    if (acl_user_new(&s->users[s->nusers], name, len) != 0)
        return NULL;
    return &s->users[s->nusers++];
}

/* Sorts the users and finds the default one, made as Redis makes it when
 * the file has none. Returns 0 or -1 (out of memory). */
static int set_finish(acl_set *s)
{
    if (set_find(s, "default", 7) == NULL) {
        acl_user *grown = realloc(s->users, (s->nusers + 1) * sizeof(*grown));
        if (grown == NULL)
            return -1;
        s->users = grown;
        if (acl_default_init(&s->users[s->nusers]) != 0)
            return -1;
        s->nusers++;
    }
    qsort(s->users, s->nusers, sizeof(acl_user), user_cmp);
    s->default_user = acl_user_find(s, "default", 7);
    return 0;
}

/* Splits line on single spaces, as sdssplitlen(line, " "): two spaces make
 * an empty rule (which changes nothing). Each piece is NUL-terminated in
 * place. Returns the count, at most max. */
static size_t split_spaces(char *line, char **argv, size_t *lens, size_t max)
{
    size_t argc = 0;
    char *p = line;
    for (;;) {
        char *sp = strchr(p, ' ');
        if (argc == max)
            break;
        argv[argc] = p;
        lens[argc] = sp ? (size_t)(sp - p) : strlen(p);
        argc++;
        if (sp == NULL)
            break;
        *sp = '\0';
        p = sp + 1;
    }
    return argc;
}

/* sdstrim(s, chars), in place; returns the new length. */
static size_t trim(char **s, size_t len, const char *chars)
{
    while (len > 0 && strchr(chars, (*s)[0]) != NULL)
        (*s)++, len--;
    while (len > 0 && strchr(chars, (*s)[len - 1]) != NULL)
        len--;
    (*s)[len] = '\0';
    return len;
}

/* Whether the user rule args (after "user NAME") hold a "(" that no ")"
 * closes: ACLMergeSelectorArguments's failure. */
static int unmatched_paren(char **argv, const size_t *lens, size_t argc)
{
    int open = 0;
    for (size_t j = 0; j < argc; j++) {
        if (!open && lens[j] > 0 && argv[j][0] == '(' && argv[j][lens[j] - 1] != ')')
            open = 1;
        else if (open && lens[j] > 0 && argv[j][lens[j] - 1] == ')')
            open = 0;
    }
    return open;
}

/* One line's rules applied to u; errors in Redis's words. Returns -2 when
 * out of memory, else 0. */
static int apply_rules(acl_user *u, char **argv, size_t *lens, size_t argc, const char *path, int linenum, char *err,
                       size_t errlen)
{
    int syntax_error = 0;
    for (size_t j = 0; j < argc; j++) {
        lens[j] = trim(&argv[j], lens[j], "\t\r\n");
        int rc = acl_user_op(u, argv[j], lens[j]);
        if (rc == -2)
            return -2;
        if (rc == 0)
            continue;
        if (errno == ENOENT)
            err_add(err, errlen, "%s:%d: Error in applying operation '%s': %s. ", path, linenum, argv[j],
                    acl_op_error(errno));
        else if (!syntax_error)
            err_add(err, errlen, "%s:%d: %s. ", path, linenum, acl_op_error(errno));
        syntax_error |= errno != ENOENT;
    }
    return 0;
}

/* One line of an ACL file. Returns -2 when out of memory, else 0. */
static int load_line(acl_set *s, char *line, const char *path, int linenum, char *err, size_t errlen)
{
    size_t len = trim(&line, strlen(line), " \t\r\n");
    char *argv[1024];
    size_t lens[1024];
    if (len == 0)
        return 0;
    size_t argc = split_spaces(line, argv, lens, sizeof(argv) / sizeof(argv[0]));
    if (strcmp(argv[0], "user") != 0 || argc < 2) {
        err_add(err, errlen, "%s:%d should start with user keyword followed by the username. ", path, linenum);
        return 0;
    }
    for (size_t i = 0; i < lens[1]; i++) {
        if (isspace((unsigned char)argv[1][i])) {
            err_add(err, errlen, "'%s:%d: username '%s' contains invalid characters. ", path, linenum, argv[1]);
            return 0;
        }
    }
    if (set_find(s, argv[1], lens[1]) != NULL) {
        err_add(err, errlen, "WARNING: Duplicate user '%s' found on line %d. ", argv[1], linenum);
        return 0;
    }
    acl_user *u = set_add(s, argv[1], lens[1]);
    if (u == NULL)
        return -2;
    if (unmatched_paren(argv + 2, lens + 2, argc - 2)) {
        err_add(err, errlen, "%s:%d: Unmatched parenthesis in selector definition.", path, linenum);
        return 0;
    }
    return apply_rules(u, argv + 2, lens + 2, argc - 2, path, linenum, err, errlen);
}

/* The whole file at path, NUL-terminated, or NULL with err. A regular file
 * only: a FIFO would block the main thread that reads it on a reload. */
static char *read_file(const char *path, char *err, size_t errlen)
{
    struct stat st;
    char *text = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "Error loading ACLs, opening file '%s': %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode) || st.st_size > ACL_FILE_MAX) {
        snprintf(err, errlen, "Error loading ACLs, opening file '%s': %s", path,
                 S_ISREG(st.st_mode) ? "larger than 16 MiB" : "not a regular file");
    } else if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
        snprintf(err, errlen, "out of memory");
    } else {
        ssize_t n = read(fd, text, (size_t)st.st_size);
        if (n < 0) {
            snprintf(err, errlen, "Error loading ACLs, opening file '%s': %s", path, strerror(errno));
            free(text);
            text = NULL;
        } else {
            text[n] = '\0'; /* a NUL byte ends the text, as Redis's fgets and sdscat end it */
        }
    }
    if (fd >= 0)
        close(fd);
    return text;
}

static acl_set *load_file(const char *path, char *err, size_t errlen)
{
    char *text = read_file(path, err, errlen);
    acl_set *s = text ? set_new() : NULL;
    if (s == NULL) {
        if (text != NULL)
            snprintf(err, errlen, "out of memory");
        free(text);
        return NULL;
    }
    err[0] = '\0';
    int linenum = 0, rc = 0;
    for (char *line = text, *nl; line != NULL && rc == 0; line = nl) {
        nl = strchr(line, '\n');
        if (nl != NULL)
            *nl++ = '\0';
        rc = load_line(s, line, path, ++linenum, err, errlen);
    }
    free(text);
    if (rc == 0 && err[0] != '\0')
        err_add(err, errlen,
                "WARNING: ACL errors detected, no change to the previously active ACL rules was "
                "performed");
    if (rc != 0 || err[0] != '\0' || set_finish(s) != 0) {
        if (rc != 0 || err[0] == '\0')
            snprintf(err, errlen, "out of memory");
        set_free(s);
        return NULL;
    }
    return s;
}

acl_set *acl_set_load(const char *path, const char *requirepass, char *err, size_t errlen)
{
    if (path != NULL)
        return load_file(path, err, errlen);
    acl_set *s = set_new();
    if (s == NULL || set_finish(s) != 0)
        goto fail;
    if (requirepass != NULL) {
        /* ACLUpdateDefaultUserPassword */
        acl_user *d = (acl_user *)s->default_user;
        size_t n = strlen(requirepass);
        char *op = malloc(n + 2);
        if (op == NULL)
            goto fail;
        op[0] = '>';
        memcpy(op + 1, requirepass, n + 1);
        acl_user_op(d, "resetpass", 9);
        int rc = acl_user_op(d, op, n + 1);
        OPENSSL_cleanse(op, n + 2);
        free(op);
        if (rc != 0)
            goto fail;
    }
    return s;
fail:
    snprintf(err, errlen, "out of memory");
    if (s != NULL)
        set_free(s);
    return NULL;
}

static acl_set *open_set;
static pthread_once_t open_once = PTHREAD_ONCE_INIT;

static void open_init(void)
{
    char err[64];
    if ((open_set = acl_set_load(NULL, NULL, err, sizeof(err))) == NULL)
        abort(); /* out of memory at the first request */
}

acl_set *acl_set_open(void)
{
    pthread_once(&open_once, open_init);
    return open_set;
}

const acl_user *acl_default_user(const acl_set *s)
{
    return s->default_user;
}

const char *acl_user_name(const acl_user *u, size_t *len)
{
    *len = u->name_len;
    return u->name;
}

int acl_auth_required(const acl_set *s)
{
    return !(s->default_user->flags & ACL_USER_NOPASS) || (s->default_user->flags & ACL_USER_OFF);
}

int acl_default_nopass(const acl_set *s)
{
    return (s->default_user->flags & ACL_USER_NOPASS) != 0;
}

int acl_user_unrestricted(const acl_user *u)
{
    return (u->sel_flags & (ACL_ALLKEYS | ACL_ALLCOMMANDS)) == (ACL_ALLKEYS | ACL_ALLCOMMANDS);
}

const acl_user *acl_authenticate(const acl_set *s, const char *user, size_t ulen, const char *pass, size_t plen)
{
    const acl_user *u = acl_user_find(s, user, ulen);
    if (u == NULL || (u->flags & ACL_USER_OFF))
        return NULL;
    if (u->flags & ACL_USER_NOPASS)
        return u;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[ACL_HASH_LEN];
    static const char digits[] = "0123456789abcdef";
    if (EVP_Digest(pass, plen, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen * 2 != ACL_HASH_LEN)
        return NULL;
    for (unsigned i = 0; i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    int match = 0;
    for (size_t i = 0; i < u->npasswords; i++) /* every one compared: the time tells nothing */
        match |= CRYPTO_memcmp(hex, u->passwords[i], ACL_HASH_LEN) == 0;
    OPENSSL_cleanse(md, sizeof(md));
    OPENSSL_cleanse(hex, sizeof(hex));
    return match ? u : NULL;
}

const acl_user *acl_certificate_user(const acl_set *s, const char *name, size_t len)
{
    const acl_user *u = acl_user_find(s, name, len);
    return u != NULL && !(u->flags & ACL_USER_OFF) ? u : NULL;
}

/* ACLSelectorCheckKey: keyflags are the key spec's RESP_KEY_READ/WRITE. */
static int check_key(const acl_user *u, const char *key, size_t len, unsigned keyflags)
{
    unsigned need = (keyflags & RESP_KEY_READ ? ACL_PERM_READ : 0) | (keyflags & RESP_KEY_WRITE ? ACL_PERM_WRITE : 0);
    if (u->sel_flags & ACL_ALLKEYS)
        return ACL_OK;
    for (size_t i = 0; i < u->npatterns; i++) {
        const acl_pattern *p = &u->patterns[i];
        if ((p->flags & need) == need && resp_glob_match(p->pat, p->len, key, len, 0))
            return ACL_OK;
    }
    return ACL_DENIED_KEY;
}

int acl_user_may_run(const acl_user *u, const char *name)
{
    const resp_command_spec *spec = resp_command_lookup(name, strlen(name));
    if (spec == NULL)
        return 0;
    return (u->sel_flags & ACL_ALLCOMMANDS) || (spec->flags & RESP_CMD_NO_AUTH) ||
           u->allowed[spec - resp_command_specs];
}

int acl_check_read_key(const acl_user *u, const char *key, size_t len)
{
    return check_key(u, key, len, RESP_KEY_READ) == ACL_OK;
}

/* Where one key spec's keys are in argv: [*first, *last] every *step, as
 * getKeysUsingKeySpecs finds them; 0 when the spec finds none here. */
static int spec_range(const resp_key_spec *k, size_t argc, const char *const *argv, const size_t *len, long *first,
                      long *last, long *step)
{
    long f = 0, n = (long)argc;
    if (k->bs_type == RESP_BS_INDEX) {
        f = k->bs_index;
    } else if (k->bs_type == RESP_BS_KEYWORD) {
        long start = k->bs_index > 0 ? k->bs_index : n + k->bs_index, end = k->bs_index > 0 ? n - 1 : 1;
        size_t kwlen = strlen(k->keyword);
        for (long i = start; i != end; i = start <= end ? i + 1 : i - 1) {
            if (i >= n || i < 1)
                break;
            if (cstr_len(argv[i], len[i]) == kwlen && strncasecmp(argv[i], k->keyword, kwlen) == 0) {
                f = i + 1;
                break;
            }
        }
        if (f == 0)
            return 0;
    } else {
        return 0;
    }
    if (k->fk_type == RESP_FK_RANGE) {
        *step = k->fk_b;
        if (k->fk_a >= 0)
            *last = f + k->fk_a;
        else if (k->fk_c == 0)
            *last = n + k->fk_a;
        else
            *last = f + ((n - f) / k->fk_c + k->fk_a);
    } else if (k->fk_type == RESP_FK_KEYNUM) {
        long long numkeys;
        if (k->fk_a >= n || f + k->fk_a >= n || !resp_string2ll(argv[f + k->fk_a], len[f + k->fk_a], &numkeys) ||
            numkeys < 0 || numkeys > n)
            return 0;
        *step = k->fk_c;
        f += k->fk_b;
        *last = f + (long)numkeys - 1;
    } else {
        return 0;
    }
    *first = f;
    return !(*last >= n || *last < f || f >= n) && *step > 0;
}

int acl_check_command(const acl_user *u, const resp_command_spec *spec, size_t argc, const char *const *argv,
                      const size_t *len, size_t *keypos)
{
    size_t id = (size_t)(spec - resp_command_specs);
    if (!(u->sel_flags & ACL_ALLCOMMANDS) && !(spec->flags & RESP_CMD_NO_AUTH) && !u->allowed[id])
        return ACL_DENIED_CMD;
    if (u->sel_flags & ACL_ALLKEYS)
        return ACL_OK;
    for (size_t j = 0; j < spec->nkeys; j++) {
        const resp_key_spec *k = &spec->keys[j];
        long first, last, step;
        if ((k->flags & RESP_KEY_NOT_KEY) || !spec_range(k, argc, argv, len, &first, &last, &step))
            continue;
        for (long i = first; i <= last && i < (long)argc; i += step) {
            if (check_key(u, argv[i], len[i], k->flags) != ACL_OK) {
                *keypos = (size_t)i;
                return ACL_DENIED_KEY;
            }
        }
    }
    return ACL_OK;
}

/* ---- a connection's login (acl_session.h) ---- */

void acl_session_init(acl_session *s)
{
    memset(s, 0, sizeof(*s));
    s->authenticated = 1;
}

void acl_session_free(acl_session *s)
{
    acl_set_release(s->acl);
    s->acl = NULL;
}

void acl_session_login(acl_session *s, const acl_user *u)
{
    s->user = u;
    s->authenticated = 1;
    s->restricted = !acl_user_unrestricted(u);
}

int acl_session_pending(const acl_session *s)
{
    return s->acl != NULL && !s->authenticated;
}

int acl_session_bind(acl_session *s, acl_set *acl)
{
    if (s->acl == acl || acl == NULL)
        return 0;
    if (s->acl == NULL) {
        s->acl = acl_set_ref(acl);
        s->user = acl->default_user;
        s->authenticated = !acl_auth_required(acl);
    } else {
        const acl_user *u = acl_user_find(acl, s->user->name, s->user->name_len);
        if (u == NULL)
            return -1;
        acl_set_release(s->acl);
        s->acl = acl_set_ref(acl);
        s->user = u;
        /* authRequired asks the default user of now: none needed, none pending */
        s->authenticated |= !acl_auth_required(acl);
    }
    s->restricted = !s->authenticated || !acl_user_unrestricted(s->user);
    return 0;
}

void acl_session_reset(acl_session *s)
{
    acl_set *acl = s->acl;
    if (acl == NULL)
        return;
    s->acl = NULL;
    acl_session_bind(s, acl);
    acl_set_release(acl);
}

acl_set *acl_session_users(const acl_session *s)
{
    return s->acl != NULL ? s->acl : acl_set_open();
}

const acl_user *acl_session_user(const acl_session *s)
{
    return s->user != NULL ? s->user : acl_set_open()->default_user;
}
