/*
 * wire.h: the words of the guide's protocol that are not framing: the
 * text of a miss, of a binary request's answer, and the reference server's
 * built-in table. The server says them, the clients recognise them, and
 * the tests read them from here (tests/integration/evkv_test.py parses
 * this file), so that all three agree by construction.
 */
#ifndef EVKV_WIRE_H
#define EVKV_WIRE_H

/* A search for KEY that finds nothing: {"result": "No match for 'KEY'."} */
#define WIRE_MISS_PREFIX "No match for '"
#define WIRE_MISS_SUFFIX "'."

/* In a Redis Cluster (--cluster-config), a search for a KEY of another
 * node's slot: {"result": "Error: MOVED SLOT IP:PORT: 'KEY' is another
 * node's."}, the owner as the map gives its RESP address; a slot no node
 * owns: "Error: CLUSTERDOWN SLOT: 'KEY' is no node's." A client routes by
 * the words after WIRE_MOVED_PREFIX, as a Redis client follows -MOVED. */
#define WIRE_MOVED_PREFIX       "Error: MOVED "
#define WIRE_CLUSTERDOWN_PREFIX "Error: CLUSTERDOWN "
#define WIRE_MOVED_SUFFIX       "' is another node's."
#define WIRE_CLUSTERDOWN_SUFFIX "' is no node's."

/* A binary request is answered with its first WIRE_BINARY_ECHOED bytes
 * after this text, as a binary/custom-server-binary-type answer. */
#define WIRE_BINARY_PREFIX "First 10 bytes of request: "
#define WIRE_BINARY_ECHOED 10

/* The reference server's table, served when no data file is given: each
 * X(key, value) with the value as the JSON text of its answer, UTF-8. */
#define WIRE_BUILTIN_TABLE(X)                                                                                          \
    X("morpheus", "\"Follow the white rabbit. \xf0\x9f\x90\xb0\"")                                                     \
    X("ring", "\"In the caves beneath the Misty Mountains. \xf0\x9f\x92\x8d\"")                                        \
    X("\xf0\x9f\x90\xb6", "\"\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90\"")

#endif
