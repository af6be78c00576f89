/*
 * acl.h: Redis 7.0's access control lists, the part that fits a read-only
 * server: users (on/off, nopass, passwords kept as SHA-256 hex), key
 * patterns (~, %R~, %W~, allkeys) and command rules (+@all, -@all,
 * +@category, +command, -command), read from a Redis ACL file or made from
 * --requirepass, and the checks processCommand runs with them.
 *
 * An acl_set is built once (at start, or by a reload on the main thread)
 * and then only read, by any worker: reference-counted, freed by the last
 * holder. A connection holds a reference to the set its user lives in
 * (resp_client.acl), so that the user stays valid until the connection
 * moves to the set a reload swapped in.
 */
#ifndef EVKV_RESP_ACL_H
#define EVKV_RESP_ACL_H

#include <stddef.h>

#include "acl_session.h"
#include "proto.h"
#include "resp_commands.h"

typedef struct acl_set acl_set;
typedef struct acl_user acl_user;

/* What acl_check_command found, as Redis's ACL_OK and ACL_DENIED_*. */
enum { ACL_OK = 0, ACL_DENIED_CMD, ACL_DENIED_KEY };

/* A new set (one reference): the users of the ACL file at path, else the
 * default user with requirepass as its password (NULL: nopass), as Redis
 * starts. NULL when the file is bad, with err holding Redis's own
 * description of every error (as ACL LOAD and the startup log give it), or
 * when out of memory. */
acl_set *acl_set_load(const char *path, const char *requirepass, char *err, size_t errlen);
/* The set of a server without access control: "default" alone, on, with
 * no password and every right. Made once; never freed. */
acl_set *acl_set_open(void);
acl_set *acl_set_ref(acl_set *s);
void acl_set_release(acl_set *s); /* NULL is fine */

/* The "default" user, which every connection starts as. */
const acl_user *acl_default_user(const acl_set *s);
/* The user named name[0..len), or NULL. */
const acl_user *acl_user_find(const acl_set *s, const char *name, size_t len);
const char *acl_user_name(const acl_user *u, size_t *len);

/* Whether a connection must authenticate before most commands: the
 * default user has passwords, or is off (Redis's authRequired). */
int acl_auth_required(const acl_set *s);
/* Whether the default user takes no password (protected mode's test). */
int acl_default_nopass(const acl_set *s);
/* Whether u may run every command on every key: the checks can be skipped. */
int acl_user_unrestricted(const acl_user *u);

/* ACLCheckUserCredentials: the user named user[0..ulen), on, whose
 * password (compared as SHA-256 in constant time) is pass, or NULL. */
const acl_user *acl_authenticate(const acl_set *s, const char *user, size_t ulen, const char *pass, size_t plen);

/* The user a client certificate's name logs in as: the user named
 * name[0..len), if it is on, whatever its passwords; else NULL. */
const acl_user *acl_certificate_user(const acl_set *s, const char *name, size_t len);

/* ACLCheckAllUserCommandPerm: whether u may run spec with these arguments
 * (argv[0] the name); on ACL_DENIED_KEY, *keypos is the key's position. */
int acl_check_command(const acl_user *u, const resp_command_spec *spec, size_t argc, const char *const *argv,
                      const size_t *len, size_t *keypos);
/* Whether u may run the Redis command named name (lower case), keys
 * aside: the guide's actions go by the rules of their Redis kin. */
int acl_user_may_run(const acl_user *u, const char *name);
/* ACLUserCheckKeyPerm for a read: whether u may read key[0..len). */
int acl_check_read_key(const acl_user *u, const char *key, size_t len);

/* The users' names, in Redis's order (ACL USERS), as a RESP array. */
int acl_reply_users(const acl_set *s, proto_buf *out);
/* ACL LIST: each user as "user NAME rules", passwords hashed. */
int acl_reply_list(const acl_set *s, proto_buf *out);
/* ACL CAT, and ACL CAT category (1 when it is unknown: nothing written). */
int acl_reply_categories(proto_buf *out);
int acl_reply_category(const char *name, size_t len, proto_buf *out);

#endif
