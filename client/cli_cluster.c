/*
 * cli_cluster.c: evkv-cli --cluster: search KEY, and keys on stdin, sent
 * each to its slot's node of a Redis Cluster of evkv nodes, following the
 * guide protocol's "Error: MOVED <slot> <ip>:<port>" as redis-cli -c
 * follows -MOVED.
 *
 * The map names each node's RESP port, and the guide protocol has no
 * port of its own in it: a node's guide port is its RESP port plus
 * --guide-port-offset, the same on every node. The map is read once with
 * CLUSTER SLOTS over RESP from the node given (its guide port minus the
 * offset); a MOVED answer moves the slot to the node it names (a node the
 * map did not name is added) and the key is asked there, up to
 * CLUSTER_REDIRECTS times. A connection to each node is kept and made
 * when first needed (cli_session: --timeout and --retries as always); a
 * batch asks one key at a time, in order.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_modes.h"
#include "cluster_slots.h"
#include "keyslot.h"
#include "text.h"

#define CLUSTER_REDIRECTS 5 /* MOVED answers followed for one key, as redis-cli's -c */

/* A node, as the guide protocol reaches it. */
typedef struct cli_node {
    cli_options o; /* the options, with host and port this node's guide address */
    char port[8];
    cli_session s;
} cli_node;

typedef struct cli_cluster {
    const cli_options *o;
    cluster_slots map;
    cli_node *nodes[CLUSTER_SLOTS_MAX_NODES]; /* by the map's index; NULL until used */
} cli_cluster;

/* Reads the map from the node o names. Returns 0, or -1 once said. */
static int cluster_load(cli_cluster *cc)
{
    const cli_options *o = cc->o;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    char port[16], where[200], err[512];
    long p = strtol(o->port, NULL, 10) - o->guide_port_offset;

    if (p < 1 || p > 65535) {
        cli_error("port %s less --guide-port-offset %d is no RESP port", o->port, o->guide_port_offset);
        return -1;
    }
    snprintf(port, sizeof(port), "%ld", p);
    evkv_server_name(where, sizeof(where), o->host, port, NULL);
    int rc = getaddrinfo(o->host, port, &hints, &res);
    if (rc != 0) {
        cli_error("cannot resolve %s: %s", o->host, gai_strerror(rc));
        return -1;
    }
    rc = cluster_slots_fetch(res->ai_addr, res->ai_addrlen, where, o->timeout_ms, &cc->map, err, sizeof(err));
    freeaddrinfo(res);
    if (rc != 0) {
        cli_error("%s", err);
        return -1;
    }
    return 0;
}

/* Node i of the map, made when first asked for. Returns NULL once said. */
static cli_node *cluster_node(cli_cluster *cc, int i)
{
    const cluster_slots_node *m = &cc->map.nodes[i];
    long port = strtol(m->port, NULL, 10) + cc->o->guide_port_offset;

    if (cc->nodes[i])
        return cc->nodes[i];
    if (port < 1 || port > 65535) {
        cli_error("the node %s's port plus --guide-port-offset %d is no port", m->name, cc->o->guide_port_offset);
        return NULL;
    }
    cli_node *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        cli_error("out of memory");
        return NULL;
    }
    n->o = *cc->o;
    snprintf(n->port, sizeof(n->port), "%ld", port);
    n->o.host = m->ip;
    n->o.port = n->port;
    evkv_server_name(n->o.where, sizeof(n->o.where), n->o.host, n->o.port, NULL);
    n->s.o = &n->o;
    return cc->nodes[i] = n;
}

/* If msg is the guide protocol's MOVED, the slot's new owner in the map.
 * Returns its index, or -1 (not a MOVED, or a node that cannot be added). */
static int answer_moved(cli_cluster *cc, const proto_message *msg, const char *key)
{
    json_t *result;
    char name[sizeof(cc->map.nodes[0].name)], err[256];
    unsigned slot;
    int node = -1;

    if (evkv_answer_classify(msg, key, strlen(key), &result) == EVKV_ANSWER_ERROR && json_is_string(result)) {
        const char *text = json_string_value(result);
        if (strncmp(text, "Error: ", 7) == 0 &&
            cluster_slots_moved(text + 7, strlen(text + 7), &slot, name, sizeof(name)) == 0) {
            char *colon = strrchr(name, ':');
            node = colon ? cluster_slots_add(&cc->map, name, (size_t)(colon - name), strtoll(colon + 1, NULL, 10), err,
                                             sizeof(err))
                         : -1;
            if (node >= 0)
                cc->map.owner[slot] = (unsigned char)node;
        }
    }
    json_decref(result);
    return node;
}

/* Asks for key at its slot's node, following MOVED, and prints the
 * answer. Returns the exit status it deserves; *lost is set when no
 * answer came (the error said). */
static int cluster_search(cli_cluster *cc, const char *key, int *lost)
{
    proto_buf req = {0};
    proto_message msg;
    unsigned slot = keyslot(key, strlen(key));
    int node = cc->map.owner[slot], status = EXIT_ERROR;

    if (!proto_utf8_valid(key, strlen(key))) {
        cli_error("the key must be valid UTF-8");
        return EXIT_ERROR;
    }
    if (node == CLUSTER_SLOTS_NONE) {
        cli_error("'%s': slot %u has no node in the cluster's map", key, slot);
        return EXIT_ERROR; /* the next key may have one */
    }
    cli_encode(&req, CLI_SEARCH, key, strlen(key));
    if (req.failed) {
        cli_error("out of memory");
        goto done;
    }
    *lost = 1;
    for (int hops = 0;; hops++) {
        cli_node *n = cluster_node(cc, node);
        if (n == NULL || cli_session_exchange(&n->s, &req, &msg) != 0)
            break;
        int to = hops < CLUSTER_REDIRECTS ? answer_moved(cc, &msg, key) : -1;
        if (to < 0) {
            *lost = 0;
            status = cli_print_answer(cc->o, CLI_SEARCH, &msg, key, strlen(key));
            break;
        }
        node = to;
    }
done:
    proto_buf_free(&req);
    return status;
}

static void cluster_free(cli_cluster *cc)
{
    for (int i = 0; i < CLUSTER_SLOTS_MAX_NODES; i++) {
        if (cc->nodes[i])
            cli_session_close(&cc->nodes[i]->s);
        free(cc->nodes[i]);
    }
    free(cc);
}

int cli_cluster_run(const cli_options *o, char *const *keys, size_t nkeys)
{
    cli_cluster *cc = calloc(1, sizeof(*cc));
    int status = EXIT_FOUND;

    if (cc == NULL) {
        cli_error("out of memory");
        return EXIT_ERROR;
    }
    cc->o = o;
    if (cluster_load(cc) != 0) {
        cluster_free(cc);
        return EXIT_ERROR;
    }
    for (size_t i = 0; i < nkeys; i++) {
        int lost = 0, s = cluster_search(cc, keys[i], &lost);
        fflush(stdout);
        status = s > status ? s : status;
        if (lost) {
            if (nkeys > 1)
                cli_error("the batch stops after %zu of %zu answers", i, nkeys);
            break;
        }
    }
    cluster_free(cc);
    return status;
}
