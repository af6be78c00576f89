/*
 * acl.c: Redis 7.0's users and their rules (see acl.h), read as acl.c's
 * ACLSetUser and ACLLoadFromFile read them, with the same error texts.
 * What the rules allow is checked as ACLSelectorCheckCmd checks it; how a
 * user is shown (ACL LIST) is acl_describe.c's.
 *
 * Passwords are kept as Redis keeps them, the SHA-256 of the password in
 * lowercase hex, and compared in constant time (OpenSSL's CRYPTO_memcmp), so
 * that neither the file's text nor the time a wrong password takes tells
 * anything about the right one. No password is ever logged.
 */
#include "acl_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glob.h"

const char *const acl_categories[ACL_NCATEGORIES] = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting"};

/* ---- passwords ---- */

/* ACLHashPassword: the SHA-256 of pass, in lowercase hex. */
static int hash_password(const char *pass, size_t len, char hex[ACL_HASH_LEN])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(pass, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen * 2 != ACL_HASH_LEN)
        return -1;
    for (unsigned i = 0; i < mdlen; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    OPENSSL_cleanse(md, sizeof(md));
    return 0;
}

/* ACLCheckPasswordHash: 64 lowercase hex digits. */
static int valid_hash(const char *h, size_t len)
{
    if (len != ACL_HASH_LEN)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((h[i] >= 'a' && h[i] <= 'f') || (h[i] >= '0' && h[i] <= '9')))
            return 0;
    return 1;
}

static int add_password(acl_user *u, const char hex[ACL_HASH_LEN])
{
    for (size_t i = 0; i < u->npasswords; i++)
        if (memcmp(u->passwords[i], hex, ACL_HASH_LEN) == 0)
            return 0;
    char(*grown)[ACL_HASH_LEN] = realloc(u->passwords, (u->npasswords + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    u->passwords = grown;
    memcpy(u->passwords[u->npasswords++], hex, ACL_HASH_LEN);
    return 0;
}

static int remove_password(acl_user *u, const char hex[ACL_HASH_LEN])
{
    for (size_t i = 0; i < u->npasswords; i++) {
        if (memcmp(u->passwords[i], hex, ACL_HASH_LEN) == 0) {
            memmove(u->passwords[i], u->passwords[i + 1], (u->npasswords - i - 1) * ACL_HASH_LEN);
            u->npasswords--;
            return 0;
        }
    }
    errno = ENODEV;
    return -1;
}

/* ---- users ---- */

void acl_user_clear(acl_user *u)
{
    free(u->name);
    free(u->passwords);
    for (size_t i = 0; i < u->npatterns; i++)
        free(u->patterns[i].pat);
    free(u->patterns);
    for (size_t i = 0; i < u->nchannels; i++)
        free(u->channels[i]);
    free(u->channels);
    free(u->allowed);
    memset(u, 0, sizeof(*u));
}

/* ACLCreateUser: off, no password, no keys, no channels, no commands. */
static int user_init(acl_user *u, const char *name, size_t len)
{
    memset(u, 0, sizeof(*u));
    u->flags = ACL_USER_OFF;
    u->name = malloc(len + 1);
    u->allowed = calloc(resp_command_nspecs, 1);
    if (u->name == NULL || u->allowed == NULL) {
        acl_user_clear(u);
        return -1;
    }
    memcpy(u->name, name, len);
    u->name[len] = '\0';
    u->name_len = len;
    return 0;
}

/* The commands a container's subcommands are: the entries "name|..." that
 * follow it in the sorted table. */
static size_t subs_end(size_t i)
{
    const char *name = resp_command_specs[i].name;
    size_t n = strlen(name), j = i + 1;
    while (j < resp_command_nspecs && strncmp(resp_command_specs[j].name, name, n) == 0 &&
           resp_command_specs[j].name[n] == '|')
        j++;
    return j;
}

/* ACLSetSelectorCommandBit on bits (ALLCOMMANDS cleared by a 0 when flags
 * is given). */
static void set_bit(unsigned char *bits, unsigned *flags, size_t i, int value)
{
    bits[i] = (unsigned char)value;
    if (!value && flags != NULL)
        *flags &= ~ACL_ALLCOMMANDS;
}

void acl_change_perm(unsigned char *bits, unsigned *flags, size_t i, int value)
{
    set_bit(bits, flags, i, value);
    if (resp_command_specs[i].flags & RESP_CMD_CONTAINER)
        for (size_t j = i + 1, end = subs_end(i); j < end; j++)
            set_bit(bits, flags, j, value);
}

void acl_set_category(unsigned char *bits, unsigned *flags, int cat, int value)
{
    for (size_t i = 0; i < resp_command_nspecs; i++)
        if (resp_command_specs[i].categories & (1u << cat))
            acl_change_perm(bits, flags, i, value);
}

int acl_category_find(const char *name)
{
    for (int j = 0; j < ACL_NCATEGORIES; j++)
        if (strcasecmp(name, acl_categories[j]) == 0)
            return j;
    return -1;
}

/* ACLStringHasSpaces */
static int has_spaces(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)s[i]) || s[i] == '\0')
            return 1;
    return 0;
}

static int add_pattern(acl_user *u, const char *p, size_t len, unsigned flags)
{
    for (size_t i = 0; i < u->npatterns; i++) {
        if (u->patterns[i].len == len && memcmp(u->patterns[i].pat, p, len) == 0) {
            u->patterns[i].flags |= flags;
            return 0;
        }
    }
    acl_pattern *grown = realloc(u->patterns, (u->npatterns + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    u->patterns = grown;
    char *copy = malloc(len + 1); /* NUL-terminated: resp_glob_match reads one past */
    if (copy == NULL)
        return -1;
    memcpy(copy, p, len);
    copy[len] = '\0';
    u->patterns[u->npatterns++] = (acl_pattern){copy, len, flags};
    return 0;
}

static int add_channel(acl_user *u, const char *p, size_t len)
{
    for (size_t i = 0; i < u->nchannels; i++)
        if (strlen(u->channels[i]) == len && memcmp(u->channels[i], p, len) == 0)
            return 0;
    char **grown = realloc(u->channels, (u->nchannels + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    u->channels = grown;
    if ((u->channels[u->nchannels] = strndup(p, len)) == NULL)
        return -1;
    u->nchannels++;
    return 0;
}

static void reset_keys(acl_user *u)
{
    for (size_t i = 0; i < u->npatterns; i++)
        free(u->patterns[i].pat);
    u->npatterns = 0;
}

static void reset_channels(acl_user *u)
{
    for (size_t i = 0; i < u->nchannels; i++)
        free(u->channels[i]);
    u->nchannels = 0;
}

/* ~pattern and %R~pattern (%W~, %RW~): ACLSetSelector's key patterns. */
static int key_pattern_op(acl_user *u, const char *op, size_t oplen)
{
    unsigned flags = 0;
    size_t off = 1;
    if (u->sel_flags & ACL_ALLKEYS) {
        errno = EEXIST;
        return -1;
    }
    if (op[0] == '%') {
        for (; off < oplen; off++) {
            if (toupper((unsigned char)op[off]) == 'R' && !(flags & ACL_PERM_READ)) {
                flags |= ACL_PERM_READ;
            } else if (toupper((unsigned char)op[off]) == 'W' && !(flags & ACL_PERM_WRITE)) {
                flags |= ACL_PERM_WRITE;
            } else if (op[off] == '~') {
                off++;
                break;
            } else {
                errno = EINVAL;
                return -1;
            }
        }
    } else {
        flags = ACL_PERM_READ | ACL_PERM_WRITE;
    }
    if (has_spaces(op + off, oplen - off)) {
        errno = EINVAL;
        return -1;
    }
    if (add_pattern(u, op + off, oplen - off, flags) != 0)
        return -2;
    u->sel_flags &= ~ACL_ALLKEYS;
    return 0;
}

/* +command, -command, +container|sub: ACLSetSelector's command rules. */
static int command_op(acl_user *u, const char *op, size_t oplen)
{
    const char *name = op + 1;
    const char *bar = memchr(name, '|', oplen - 1);
    if (op[0] == '+' && bar != NULL) {
        const resp_command_spec *c = resp_command_lookup(name, (size_t)(bar - name));
        if (c == NULL || memchr(name, '\0', oplen - 1) != NULL) {
            errno = ENOENT;
            return -1;
        }
        if (strchr(c->name, '|') != NULL) {
            errno = ECHILD;
            return -1;
        }
        if (bar[1] == '\0') {
            errno = EINVAL;
            return -1;
        }
        if (!(c->flags & RESP_CMD_CONTAINER)) {
            errno = EPERM; /* a first-arg rule: evkv's own refusal */
            return -1;
        }
    }
    const resp_command_spec *c = resp_command_lookup(name, oplen - 1);
    if (c == NULL) {
        errno = ENOENT;
        return -1;
    }
    acl_change_perm(u->allowed, &u->sel_flags, (size_t)(c - resp_command_specs), op[0] == '+');
    return 0;
}

static void all_commands(acl_user *u, int value)
{
    memset(u->allowed, value, resp_command_nspecs);
    u->future = value;
    if (value)
        u->sel_flags |= ACL_ALLCOMMANDS;
    else
        u->sel_flags &= ~ACL_ALLCOMMANDS;
}

/* ACLSetSelector: keys, channels and commands. Returns 0, -1 with errno
 * (ACLSetUserStringError's cases) or -2 when out of memory. */
static int selector_op(acl_user *u, const char *op, size_t oplen)
{
    if (!strcasecmp(op, "allkeys") || !strcasecmp(op, "~*")) {
        u->sel_flags |= ACL_ALLKEYS;
        reset_keys(u);
    } else if (!strcasecmp(op, "resetkeys")) {
        u->sel_flags &= ~ACL_ALLKEYS;
        reset_keys(u);
    } else if (!strcasecmp(op, "allchannels") || !strcasecmp(op, "&*")) {
        u->sel_flags |= ACL_ALLCHANNELS;
        reset_channels(u);
    } else if (!strcasecmp(op, "resetchannels")) {
        u->sel_flags &= ~ACL_ALLCHANNELS;
        reset_channels(u);
    } else if (!strcasecmp(op, "allcommands") || !strcasecmp(op, "+@all")) {
        all_commands(u, 1);
    } else if (!strcasecmp(op, "nocommands") || !strcasecmp(op, "-@all")) {
        all_commands(u, 0);
    } else if (op[0] == '~' || op[0] == '%') {
        return key_pattern_op(u, op, oplen);
    } else if (op[0] == '&') {
        if (u->sel_flags & ACL_ALLCHANNELS) {
            errno = EISDIR;
            return -1;
        }
        if (has_spaces(op + 1, oplen - 1)) {
            errno = EINVAL;
            return -1;
        }
        if (add_channel(u, op + 1, oplen - 1) != 0)
            return -2;
        u->sel_flags &= ~ACL_ALLCHANNELS;
    } else if ((op[0] == '+' || op[0] == '-') && op[1] != '@') {
        return command_op(u, op, oplen);
    } else if ((op[0] == '+' || op[0] == '-') && op[1] == '@') {
        int cat = acl_category_find(op + 2);
        if (cat < 0) {
            errno = ENOENT;
            return -1;
        }
        acl_set_category(u->allowed, &u->sel_flags, cat, op[0] == '+');
    } else {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/* A password rule: >pass, #hash, <pass, !hash. */
static int password_op(acl_user *u, const char *op, size_t oplen)
{
    char hex[ACL_HASH_LEN];
    if (op[0] == '>' || op[0] == '<') {
        if (hash_password(op + 1, oplen - 1, hex) != 0)
            return -2;
    } else {
        if (!valid_hash(op + 1, oplen - 1)) {
            errno = EBADMSG;
            return -1;
        }
        memcpy(hex, op + 1, ACL_HASH_LEN);
    }
    int rc;
    if (op[0] == '>' || op[0] == '#') {
        rc = add_password(u, hex) == 0 ? 0 : -2;
        u->flags &= ~ACL_USER_NOPASS;
    } else {
        rc = remove_password(u, hex);
    }
    OPENSSL_cleanse(hex, sizeof(hex));
    return rc;
}

int acl_user_op(acl_user *u, const char *op, size_t oplen)
{
    if (oplen == 0)
        return 0;
    if (!strcasecmp(op, "on")) {
        u->flags = (u->flags | ACL_USER_ON) & ~ACL_USER_OFF;
    } else if (!strcasecmp(op, "off")) {
        u->flags = (u->flags | ACL_USER_OFF) & ~ACL_USER_ON;
    } else if (!strcasecmp(op, "skip-sanitize-payload")) {
        u->flags = (u->flags | ACL_USER_SKIP_SANITIZE) & ~ACL_USER_SANITIZE;
    } else if (!strcasecmp(op, "sanitize-payload")) {
        u->flags = (u->flags | ACL_USER_SANITIZE) & ~ACL_USER_SKIP_SANITIZE;
    } else if (!strcasecmp(op, "nopass")) {
        u->flags |= ACL_USER_NOPASS;
        u->npasswords = 0;
    } else if (!strcasecmp(op, "resetpass")) {
        u->flags &= ~ACL_USER_NOPASS;
        u->npasswords = 0;
    } else if (op[0] == '>' || op[0] == '#' || op[0] == '<' || op[0] == '!') {
        return password_op(u, op, oplen);
    } else if (op[0] == '(') {
        errno = ENOTSUP; /* selectors: evkv's own refusal */
        return -1;
    } else if (!strcasecmp(op, "reset")) {
        u->flags &= ~ACL_USER_NOPASS;
        u->npasswords = 0;
        reset_keys(u);
        u->sel_flags &= ~ACL_ALLKEYS;
        reset_channels(u);
        u->sel_flags &= ~ACL_ALLCHANNELS;
        u->flags = (u->flags | ACL_USER_OFF) & ~ACL_USER_ON;
        u->flags = (u->flags | ACL_USER_SANITIZE) & ~ACL_USER_SKIP_SANITIZE;
        all_commands(u, 0);
    } else {
        return selector_op(u, op, oplen);
    }
    return 0;
}

/* ACLSetUserStringError, for errno as acl_user_op left it. */
const char *acl_op_error(int err)
{
    switch (err) {
    case ENOENT: return "Unknown command or category name in ACL";
    case EINVAL: return "Syntax error";
    case EEXIST:
        return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any "
               "effect. Try 'resetkeys' to start with an empty list of patterns";
    case EISDIR:
        return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have "
               "any effect. Try 'resetchannels' to start with an empty list of channels";
    case ENODEV: return "The password you are trying to remove from the user does not exist";
    case EBADMSG:
        return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters";
    case ECHILD: return "Allowing first-arg of a subcommand is not supported";
    case EPERM: return "evkv does not take first-arg rules (+command|arg)";
    case ENOTSUP: return "evkv does not take selectors ((...))";
    default: return "Wrong format";
    }
}

/* ACLCreateDefaultUser: +@all ~* &* on nopass. */
int acl_default_init(acl_user *u)
{
    static const char *const ops[] = {"+@all", "~*", "&*", "on", "nopass"};
    if (user_init(u, "default", 7) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        acl_user_op(u, ops[i], strlen(ops[i]));
    return 0;
}

int acl_user_new(acl_user *u, const char *name, size_t len)
{
    return user_init(u, name, len);
}
