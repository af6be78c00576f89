/*
 * acl_internal.h: what acl.c, acl_set.c and acl_describe.c share: a user's
 * fields and the rules' building blocks. Nothing outside them reads it.
 */
#ifndef EVKV_RESP_ACL_INTERNAL_H
#define EVKV_RESP_ACL_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>

#include "acl.h"
#include "command.h"

#define ACL_NCATEGORIES 21 /* acl.c's ACLCommandCategories */
#define ACL_HASH_LEN    64 /* a SHA-256 in hex */

/* A user's flags, as Redis's USER_FLAG_*; ACL LIST shows them in this order. */
#define ACL_USER_ON     1
#define ACL_USER_OFF    2
#define ACL_USER_NOPASS 4
#define ACL_USER_SKIP_SANITIZE 8 /* skip-sanitize-payload: only shown (evkv restores no payload) */
#define ACL_USER_SANITIZE      16 /* sanitize-payload: set by reset */
/* Its selector's flags, as SELECTOR_FLAG_*. */
#define ACL_ALLKEYS     1
#define ACL_ALLCHANNELS 2
#define ACL_ALLCOMMANDS 4
/* A key pattern's access, as ACL_READ_PERMISSION and ACL_WRITE_PERMISSION. */
#define ACL_PERM_READ  1
#define ACL_PERM_WRITE 2

typedef struct acl_pattern {
    char *pat; /* NUL-terminated after len bytes */
    size_t len;
    unsigned flags; /* ACL_PERM_* */
} acl_pattern;

struct acl_user {
    char *name; /* NUL-terminated after name_len bytes */
    size_t name_len;
    unsigned flags;                  /* ACL_USER_* */
    char (*passwords)[ACL_HASH_LEN]; /* SHA-256 hex, in the order added */
    size_t npasswords;
    unsigned sel_flags; /* ACL_ALLKEYS, ... */
    acl_pattern *patterns;
    size_t npatterns;
    char **channels; /* pub/sub patterns, only shown (evkv serves no pub/sub) */
    size_t nchannels;
    unsigned char *allowed; /* one byte per resp_command_specs entry: may run it */
    int future;             /* Redis's reserved command bit: set by +@all, cleared by -@all */
};

struct acl_set {
    atomic_int refs;
    acl_user *users; /* sorted by name, bytewise (Redis's rax order) */
    size_t nusers;
    const acl_user *default_user;
};

extern const char *const acl_categories[ACL_NCATEGORIES];

int acl_user_new(acl_user *u, const char *name, size_t len);
int acl_default_init(acl_user *u);
void acl_user_clear(acl_user *u);
/* ACLSetUser: one rule, op NUL-terminated after oplen bytes. Returns 0,
 * -1 with errno (acl_op_error's text), or -2 when out of memory. */
int acl_user_op(acl_user *u, const char *op, size_t oplen);
const char *acl_op_error(int err);
int acl_category_find(const char *name);
/* ACLChangeSelectorPerm on bits (and its subcommands), and for a category. */
void acl_change_perm(unsigned char *bits, unsigned *flags, size_t i, int value);
void acl_set_category(unsigned char *bits, unsigned *flags, int cat, int value);

#endif
