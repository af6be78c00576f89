/*
 * acl_describe.c: users as ACL USERS, ACL LIST and ACL CAT show them.
 *
 * ACL LIST writes a user's command rules as Redis's
 * ACLDescribeSelectorCommandRules does: +@all or -@all, then the categories
 * that fit the user's commands best, then the single commands left over.
 * Redis lists those single commands, and ACL CAT a category's commands, in
 * the order of its command dict, whose hash seed is random per process:
 * evkv lists them in the table's order (by name).
 */
#include <stdlib.h>
#include <string.h>

#include "acl_internal.h"

static int put(proto_buf *b, const char *s)
{
    return proto_buf_append(b, s, strlen(s));
}

/* ACLCountCategoryBitsForSelector */
static void count_category(const unsigned char *bits, int cat, unsigned long *on, unsigned long *off)
{
    *on = *off = 0;
    for (size_t i = 0; i < resp_command_nspecs; i++) {
        if (resp_command_specs[i].categories & (1u << cat)) {
            if (bits[i])
                (*on)++;
            else
                (*off)++;
        }
    }
}

/* The best category left to apply, or -1: more commands in common than
 * not, and the fewest differences. */
static int best_category(const unsigned char *temp, const char *applied, int additive)
{
    int best = -1;
    unsigned long mindiff = (unsigned long)-1, maxsame = 0;
    for (int j = 0; j < ACL_NCATEGORIES; j++) {
        unsigned long on, off;
        if (applied[j])
            continue;
        count_category(temp, j, &on, &off);
        unsigned long diff = additive ? off : on, same = additive ? on : off;
        if (same > diff && (diff < mindiff || (diff == mindiff && same > maxsame))) {
            best = j;
            mindiff = diff;
            maxsame = same;
        }
    }
    return best;
}

/* The command rules of u, each followed by a space. */
static int describe_commands(const acl_user *u, proto_buf *b)
{
    size_t n = resp_command_nspecs;
    unsigned char *fake = malloc(n), *temp = malloc(n);
    char applied[ACL_NCATEGORIES] = {0};
    int additive = !u->future, rc = 0;
    if (fake == NULL || temp == NULL) {
        rc = -1;
        goto done;
    }
    memset(fake, additive ? 0 : 1, n);
    memcpy(temp, u->allowed, n);
    rc |= put(b, additive ? "-@all " : "+@all ");
    for (int best; (best = best_category(temp, applied, additive)) >= 0;) {
        acl_set_category(fake, NULL, best, additive);
        acl_set_category(temp, NULL, best, !additive);
        rc |= put(b, additive ? "+@" : "-@") | put(b, acl_categories[best]) | put(b, " ");
        applied[best] = 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (u->allowed[i] != fake[i]) {
            rc |= put(b, u->allowed[i] ? "+" : "-") | put(b, resp_command_specs[i].name) | put(b, " ");
            acl_change_perm(fake, NULL, i, u->allowed[i]);
        }
    }
done:
    free(fake);
    free(temp);
    return rc;
}

/* ACLDescribeUser, with "user NAME " before it. */
static int describe_user(const acl_user *u, proto_buf *b)
{
    int rc = put(b, "user ") | proto_buf_append(b, u->name, u->name_len) | put(b, " ");
    if (u->flags & ACL_USER_ON)
        rc |= put(b, "on ");
    if (u->flags & ACL_USER_OFF)
        rc |= put(b, "off ");
    if (u->flags & ACL_USER_NOPASS)
        rc |= put(b, "nopass ");
    if (u->flags & ACL_USER_SKIP_SANITIZE)
        rc |= put(b, "skip-sanitize-payload ");
    if (u->flags & ACL_USER_SANITIZE)
        rc |= put(b, "sanitize-payload ");
    for (size_t i = 0; i < u->npasswords; i++)
        rc |= put(b, "#") | proto_buf_append(b, u->passwords[i], ACL_HASH_LEN) | put(b, " ");
    if (u->sel_flags & ACL_ALLKEYS) {
        rc |= put(b, "~* ");
    } else {
        for (size_t i = 0; i < u->npatterns; i++) {
            const acl_pattern *p = &u->patterns[i];
            rc |= put(b, p->flags == (ACL_PERM_READ | ACL_PERM_WRITE) ? "~"
                         : p->flags == ACL_PERM_READ                  ? "%R~"
                                                                      : "%W~");
            rc |= proto_buf_append(b, p->pat, p->len) | put(b, " ");
        }
    }
    if (u->sel_flags & ACL_ALLCHANNELS) {
        rc |= put(b, "&* ");
    } else {
        rc |= put(b, "resetchannels ");
        for (size_t i = 0; i < u->nchannels; i++)
            rc |= put(b, "&") | put(b, u->channels[i]) | put(b, " ");
    }
    rc |= describe_commands(u, b);
    if (rc == 0 && b->len > 0)
        b->len--; /* the last space */
    return rc;
}

int acl_reply_users(const acl_set *s, proto_buf *out)
{
    int rc = resp_encode_array(out, s->nusers);
    for (size_t i = 0; i < s->nusers; i++)
        rc |= resp_encode_bulk(out, s->users[i].name, s->users[i].name_len);
    return rc;
}

int acl_reply_list(const acl_set *s, proto_buf *out)
{
    proto_buf line = {0};
    int rc = resp_encode_array(out, s->nusers);
    for (size_t i = 0; i < s->nusers && rc == 0; i++) {
        proto_buf_reset(&line);
        rc |= describe_user(&s->users[i], &line) | resp_encode_bulk(out, line.data, line.len);
    }
    proto_buf_free(&line);
    return rc;
}

int acl_reply_categories(proto_buf *out)
{
    int rc = resp_encode_array(out, ACL_NCATEGORIES);
    for (int j = 0; j < ACL_NCATEGORIES; j++)
        rc |= resp_encode_bulk(out, acl_categories[j], strlen(acl_categories[j]));
    return rc;
}

int acl_reply_category(const char *name, size_t len, proto_buf *out)
{
    char buf[32];
    if (len >= sizeof(buf))
        return 1;
    memcpy(buf, name, len);
    buf[len] = '\0';
    int cat = acl_category_find(buf);
    if (cat < 0)
        return 1;
    size_t count = 0;
    for (size_t i = 0; i < resp_command_nspecs; i++)
        count += (resp_command_specs[i].categories >> cat) & 1;
    int rc = resp_encode_array(out, count);
    for (size_t i = 0; i < resp_command_nspecs; i++)
        if (resp_command_specs[i].categories & (1u << cat))
            rc |= resp_encode_bulk(out, resp_command_specs[i].name, strlen(resp_command_specs[i].name));
    return rc ? -1 : 0;
}
