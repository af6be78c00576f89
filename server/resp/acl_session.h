/*
 * acl_session.h: a connection's login, on either protocol: the users it
 * answers to (a reference to an acl_set, acl.h, so that its user stays
 * valid until it moves to the users a reload made), its user, whether it
 * has authenticated (or need not), and whether any check applies to it.
 */
#ifndef EVKV_RESP_ACL_SESSION_H
#define EVKV_RESP_ACL_SESSION_H

struct acl_set;
struct acl_user;

typedef struct acl_session {
    struct acl_set *acl; /* a reference, or NULL: unbound */
    const struct acl_user *user;
    int authenticated;
    int restricted; /* not logged in, or a user without every right: the checks apply */
} acl_session;

/* Unbound: "default" of a server without access control (acl_set_open),
 * logged in, every right. */
void acl_session_init(acl_session *s);
void acl_session_free(acl_session *s);
/* Binds s to acl (NULL: leaves s as it is): first as the connection opens
 * (its user "default", logged in if that needs no password, as Redis's
 * clientSetDefaultAuth), then to the users a reload made: s keeps its user
 * (found again by name) and whether it authenticated. Returns 0, or -1
 * when its user is gone: the connection is to be closed, as Redis closes
 * a deleted user's clients. */
int acl_session_bind(acl_session *s, struct acl_set *acl);
/* Logs s in as u (a user of its users), as AUTH does: also the place a
 * client certificate's name would log a connection in. */
void acl_session_login(acl_session *s, const struct acl_user *u);
/* Back to "default", logged in if it needs no password (RESET). */
void acl_session_reset(acl_session *s);
/* Whether s must still authenticate before most requests. */
int acl_session_pending(const acl_session *s);
/* s's users and user, an unbound session's included (borrowed). */
struct acl_set *acl_session_users(const acl_session *s);
const struct acl_user *acl_session_user(const acl_session *s);

#endif
