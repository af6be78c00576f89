/*
 * test_resp_commands.c: unit tests of resp_execute (resp_commands.h).
 *
 * replica_sessions holds request streams and the exact bytes a read-only
 * Redis 7.0.15 replica answered to them, holding the same keys as
 * make_table() (a -> 1, b -> hello, e -> x"y, u -> é, n -> {"k": [1, 2]},
 * h?x -> q): each stream is read with resp_reader and answered on one
 * fresh client, and the answers must be the replica's, byte for byte.
 * The sessions were captured from the replica with a raw socket; to
 * capture them again, start a master with those keys and a replica of it,
 * and send each stream to the replica one request at a time.
 *
 * The tests after them cover what the replica cannot show the same way:
 * evkv's deliberate differences (proto/PROTOCOL.md), SCAN over a few
 * thousand keys, values of every kind, MULTI with queued copies, counters,
 * INFO.
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resp.h"
#include "resp_commands.h"
#include "table.h"

#define LIT(s) (s), (sizeof(s) - 1)

typedef struct session {
    const char *name;
    const char *requests, *replies;
    size_t requests_len, replies_len;
} session;

/* clang-format off */
static const session replica_sessions[] = {
    {"get",
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "a\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "b\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "e\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "u\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "n\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$2\r\n"
     "zz\r\n"
     "*1\r\n"
     "$3\r\n"
     "GET\r\n"
     "*3\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*2\r\n"
     "$3\r\n"
     "GeT\r\n"
     "$1\r\n"
     "b\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$0\r\n"
     "\r\n"
     ,
     "$1\r\n"
     "1\r\n"
     "$5\r\n"
     "hello\r\n"
     "$3\r\n"
     "x\"y\r\n"
     "$2\r\n"
     "\xc3\xa9\r\n"
     "$13\r\n"
     "{\"k\": [1, 2]}\r\n"
     "$-1\r\n"
     "-ERR wrong number of arguments for 'get' command\r\n"
     "-ERR wrong number of arguments for 'get' command\r\n"
     "$5\r\n"
     "hello\r\n"
     "$-1\r\n"
     , 200, 176},
    {"mget exists strlen",
     "*7\r\n"
     "$4\r\n"
     "mget\r\n"
     "$1\r\n"
     "a\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "e\r\n"
     "$1\r\n"
     "u\r\n"
     "$1\r\n"
     "n\r\n"
     "*1\r\n"
     "$4\r\n"
     "mget\r\n"
     "*5\r\n"
     "$6\r\n"
     "exists\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "a\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "b\r\n"
     "*1\r\n"
     "$6\r\n"
     "exists\r\n"
     "*2\r\n"
     "$6\r\n"
     "strlen\r\n"
     "$1\r\n"
     "e\r\n"
     "*2\r\n"
     "$6\r\n"
     "strlen\r\n"
     "$1\r\n"
     "u\r\n"
     "*2\r\n"
     "$6\r\n"
     "strlen\r\n"
     "$1\r\n"
     "n\r\n"
     "*2\r\n"
     "$6\r\n"
     "strlen\r\n"
     "$2\r\n"
     "zz\r\n"
     "*2\r\n"
     "$6\r\n"
     "strlen\r\n"
     "$1\r\n"
     "a\r\n"
     "*1\r\n"
     "$6\r\n"
     "strlen\r\n"
     ,
     "*6\r\n"
     "$1\r\n"
     "1\r\n"
     "$-1\r\n"
     "$5\r\n"
     "hello\r\n"
     "$3\r\n"
     "x\"y\r\n"
     "$2\r\n"
     "\xc3\xa9\r\n"
     "$13\r\n"
     "{\"k\": [1, 2]}\r\n"
     "-ERR wrong number of arguments for 'mget' command\r\n"
     ":3\r\n"
     "-ERR wrong number of arguments for 'exists' command\r\n"
     ":3\r\n"
     ":2\r\n"
     ":13\r\n"
     ":0\r\n"
     ":1\r\n"
     "-ERR wrong number of arguments for 'strlen' command\r\n"
     , 264, 246},
    {"type ttl dbsize",
     "*2\r\n"
     "$4\r\n"
     "type\r\n"
     "$1\r\n"
     "b\r\n"
     "*2\r\n"
     "$4\r\n"
     "type\r\n"
     "$2\r\n"
     "zz\r\n"
     "*2\r\n"
     "$3\r\n"
     "ttl\r\n"
     "$1\r\n"
     "b\r\n"
     "*2\r\n"
     "$3\r\n"
     "ttl\r\n"
     "$2\r\n"
     "zz\r\n"
     "*2\r\n"
     "$4\r\n"
     "pttl\r\n"
     "$1\r\n"
     "b\r\n"
     "*2\r\n"
     "$4\r\n"
     "pttl\r\n"
     "$2\r\n"
     "zz\r\n"
     "*1\r\n"
     "$3\r\n"
     "ttl\r\n"
     "*1\r\n"
     "$6\r\n"
     "dbsize\r\n"
     "*2\r\n"
     "$6\r\n"
     "dbsize\r\n"
     "$1\r\n"
     "x\r\n"
     ,
     "+string\r\n"
     "+none\r\n"
     ":-1\r\n"
     ":-2\r\n"
     ":-1\r\n"
     ":-2\r\n"
     "-ERR wrong number of arguments for 'ttl' command\r\n"
     ":6\r\n"
     "-ERR wrong number of arguments for 'dbsize' command\r\n"
     , 179, 143},
    {"ping echo select",
     "*1\r\n"
     "$4\r\n"
     "ping\r\n"
     "*2\r\n"
     "$4\r\n"
     "PING\r\n"
     "$2\r\n"
     "hi\r\n"
     "*3\r\n"
     "$4\r\n"
     "ping\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*2\r\n"
     "$4\r\n"
     "echo\r\n"
     "$1\r\n"
     "x\r\n"
     "*1\r\n"
     "$4\r\n"
     "echo\r\n"
     "*2\r\n"
     "$4\r\n"
     "echo\r\n"
     "$0\r\n"
     "\r\n"
     "*2\r\n"
     "$6\r\n"
     "select\r\n"
     "$1\r\n"
     "0\r\n"
     "*2\r\n"
     "$6\r\n"
     "select\r\n"
     "$2\r\n"
     "-1\r\n"
     "*2\r\n"
     "$6\r\n"
     "select\r\n"
     "$1\r\n"
     "x\r\n"
     "*2\r\n"
     "$6\r\n"
     "select\r\n"
     "$2\r\n"
     "00\r\n"
     "*2\r\n"
     "$6\r\n"
     "select\r\n"
     "$11\r\n"
     "99999999999\r\n"
     "*2\r\n"
     "$6\r\n"
     "select\r\n"
     "$2\r\n"
     " 0\r\n"
     ,
     "+PONG\r\n"
     "$2\r\n"
     "hi\r\n"
     "-ERR wrong number of arguments for 'ping' command\r\n"
     "$1\r\n"
     "x\r\n"
     "-ERR wrong number of arguments for 'echo' command\r\n"
     "$0\r\n"
     "\r\n"
     "+OK\r\n"
     "-ERR DB index is out of range\r\n"
     "-ERR value is not an integer or out of range\r\n"
     "-ERR value is not an integer or out of range\r\n"
     "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
     "-ERR value is not an integer or out of range\r\n"
     , 271, 379},
    {"client",
     "*2\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "getname\r\n"
     "*3\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "setname\r\n"
     "$3\r\n"
     "a b\r\n"
     "*3\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "setname\r\n"
     "$2\r\n"
     "ab\r\n"
     "*2\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "getname\r\n"
     "*3\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "setname\r\n"
     "$0\r\n"
     "\r\n"
     "*2\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "getname\r\n"
     "*4\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "setinfo\r\n"
     "$8\r\n"
     "lib-name\r\n"
     "$1\r\n"
     "x\r\n"
     "*1\r\n"
     "$6\r\n"
     "client\r\n"
     "*2\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "setname\r\n"
     "*2\r\n"
     "$6\r\n"
     "client\r\n"
     "$4\r\n"
     "help\r\n"
     "*2\r\n"
     "$6\r\n"
     "client\r\n"
     "$3\r\n"
     "foo\r\n"
     "*2\r\n"
     "$6\r\n"
     "CLIENT\r\n"
     "$8\r\n"
     "Foo\r\n"
     "bar\r\n"
     "*3\r\n"
     "$6\r\n"
     "client\r\n"
     "$2\r\n"
     "id\r\n"
     "$1\r\n"
     "x\r\n"
     ,
     "$-1\r\n"
     "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
     "+OK\r\n"
     "$2\r\n"
     "ab\r\n"
     "+OK\r\n"
     "$-1\r\n"
     "-ERR unknown subcommand 'setinfo'. Try CLIENT HELP.\r\n"
     "-ERR wrong number of arguments for 'client' command\r\n"
     "-ERR wrong number of arguments for 'client|setname' command\r\n"
     "*48\r\n"
     "+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
     "+CACHING (YES|NO)\r\n"
     "+    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.\r\n"
     "+GETREDIR\r\n"
     "+    Return the client ID we are redirecting to when tracking is enabled.\r\n"
     "+GETNAME\r\n"
     "+    Return the name of the current connection.\r\n"
     "+ID\r\n"
     "+    Return the ID of the current connection.\r\n"
     "+INFO\r\n"
     "+    Return information about the current client connection.\r\n"
     "+KILL <ip:port>\r\n"
     "+    Kill connection made from <ip:port>.\r\n"
     "+KILL <option> <value> [<option> <value> [...]]\r\n"
     "+    Kill connections. Options are:\r\n"
     "+    * ADDR (<ip:port>|<unixsocket>:0)\r\n"
     "+      Kill connections made from the specified address\r\n"
     "+    * LADDR (<ip:port>|<unixsocket>:0)\r\n"
     "+      Kill connections made to specified local address\r\n"
     "+    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)\r\n"
     "+      Kill connections by type.\r\n"
     "+    * USER <username>\r\n"
     "+      Kill connections authenticated by <username>.\r\n"
     "+    * SKIPME (YES|NO)\r\n"
     "+      Skip killing current connection (default: yes).\r\n"
     "+LIST [options ...]\r\n"
     "+    Return information about client connections. Options:\r\n"
     "+    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)\r\n"
     "+      Return clients of specified type.\r\n"
     "+UNPAUSE\r\n"
     "+    Stop the current client pause, resuming traffic.\r\n"
     "+PAUSE <timeout> [WRITE|ALL]\r\n"
     "+    Suspend all, or just write, clients for <timeout> milliseconds.\r\n"
     "+REPLY (ON|OFF|SKIP)\r\n"
     "+    Control the replies sent to the current connection.\r\n"
     "+SETNAME <name>\r\n"
     "+    Assign the name <name> to the current connection.\r\n"
     "+UNBLOCK <clientid> [TIMEOUT|ERROR]\r\n"
     "+    Unblock the specified blocked client.\r\n"
     "+TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]\r\n"
     "+         [OPTIN] [OPTOUT] [NOLOOP]\r\n"
     "+    Control server assisted client side caching.\r\n"
     "+TRACKINGINFO\r\n"
     "+    Report tracking status for the current connection.\r\n"
     "+NO-EVICT (ON|OFF)\r\n"
     "+    Protect current client connection from eviction.\r\n"
     "+HELP\r\n"
     "+    Prints this help.\r\n"
     "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"
     "-ERR unknown subcommand 'Foo  bar'. Try CLIENT HELP.\r\n"
     "-ERR wrong number of arguments for 'client|id' command\r\n"
     , 404, 2343},
    {"hello errors",
     "*2\r\n"
     "$5\r\n"
     "hello\r\n"
     "$1\r\n"
     "x\r\n"
     "*2\r\n"
     "$5\r\n"
     "hello\r\n"
     "$1\r\n"
     "1\r\n"
     "*2\r\n"
     "$5\r\n"
     "hello\r\n"
     "$1\r\n"
     "4\r\n"
     "*5\r\n"
     "$5\r\n"
     "hello\r\n"
     "$1\r\n"
     "2\r\n"
     "$4\r\n"
     "auth\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*4\r\n"
     "$5\r\n"
     "hello\r\n"
     "$1\r\n"
     "2\r\n"
     "$7\r\n"
     "setname\r\n"
     "$3\r\n"
     "a b\r\n"
     "*3\r\n"
     "$5\r\n"
     "hello\r\n"
     "$1\r\n"
     "2\r\n"
     "$3\r\n"
     "foo\r\n"
     "*3\r\n"
     "$5\r\n"
     "hello\r\n"
     "$1\r\n"
     "2\r\n"
     "$7\r\n"
     "setname\r\n"
     "*2\r\n"
     "$5\r\n"
     "hello\r\n"
     "$2\r\n"
     "-1\r\n"
     ,
     "-ERR Protocol version is not an integer or out of range\r\n"
     "-NOPROTO unsupported protocol version\r\n"
     "-NOPROTO unsupported protocol version\r\n"
     "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
     "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
     "-ERR Syntax error in HELLO option 'foo'\r\n"
     "-ERR Syntax error in HELLO option 'setname'\r\n"
     "-NOPROTO unsupported protocol version\r\n"
     , 245, 398},
    {"exec and multi errors",
     "*2\r\n"
     "$4\r\n"
     "exec\r\n"
     "$1\r\n"
     "x\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$4\r\n"
     "exec\r\n"
     "$1\r\n"
     "x\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "b\r\n"
     "*3\r\n"
     "$3\r\n"
     "set\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "1\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$5\r\n"
     "watch\r\n"
     "$1\r\n"
     "a\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     "*1\r\n"
     "$7\r\n"
     "discard\r\n"
     "*1\r\n"
     "$7\r\n"
     "discard\r\n"
     "*2\r\n"
     "$7\r\n"
     "discard\r\n"
     "$1\r\n"
     "x\r\n"
     ,
     "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n"
     "+OK\r\n"
     "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n"
     "-ERR EXEC without MULTI\r\n"
     "+OK\r\n"
     "+QUEUED\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-EXECABORT Transaction discarded because of previous errors.\r\n"
     "+OK\r\n"
     "-ERR WATCH inside MULTI is not allowed\r\n"
     "-ERR MULTI calls can not be nested\r\n"
     "*0\r\n"
     "-ERR DISCARD without MULTI\r\n"
     "-ERR DISCARD without MULTI\r\n"
     "-ERR wrong number of arguments for 'discard' command\r\n"
     , 271, 539},
    {"multi",
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "b\r\n"
     "*3\r\n"
     "$4\r\n"
     "mget\r\n"
     "$1\r\n"
     "a\r\n"
     "$2\r\n"
     "zz\r\n"
     "*1\r\n"
     "$4\r\n"
     "ping\r\n"
     "*2\r\n"
     "$4\r\n"
     "echo\r\n"
     "$1\r\n"
     "q\r\n"
     "*2\r\n"
     "$6\r\n"
     "exists\r\n"
     "$1\r\n"
     "a\r\n"
     "*2\r\n"
     "$4\r\n"
     "type\r\n"
     "$2\r\n"
     "zz\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$3\r\n"
     "foo\r\n"
     "$4\r\n"
     "a\r\n"
     "b\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*1\r\n"
     "$3\r\n"
     "get\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "a\r\n"
     "*1\r\n"
     "$7\r\n"
     "discard\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     ,
     "+OK\r\n"
     "+QUEUED\r\n"
     "+QUEUED\r\n"
     "+QUEUED\r\n"
     "+QUEUED\r\n"
     "+QUEUED\r\n"
     "+QUEUED\r\n"
     "*6\r\n"
     "$5\r\n"
     "hello\r\n"
     "*2\r\n"
     "$1\r\n"
     "1\r\n"
     "$-1\r\n"
     "+PONG\r\n"
     "$1\r\n"
     "q\r\n"
     ":1\r\n"
     "+none\r\n"
     "+OK\r\n"
     "-ERR unknown command 'foo', with args beginning with: 'a  b' \r\n"
     "-EXECABORT Transaction discarded because of previous errors.\r\n"
     "+OK\r\n"
     "-ERR wrong number of arguments for 'get' command\r\n"
     "-EXECABORT Transaction discarded because of previous errors.\r\n"
     "+OK\r\n"
     "+QUEUED\r\n"
     "+OK\r\n"
     "-ERR EXEC without MULTI\r\n"
     "+OK\r\n"
     "*0\r\n"
     , 347, 415},
    {"watch",
     "*2\r\n"
     "$5\r\n"
     "watch\r\n"
     "$1\r\n"
     "a\r\n"
     "*1\r\n"
     "$7\r\n"
     "unwatch\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*1\r\n"
     "$7\r\n"
     "unwatch\r\n"
     "*3\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "setname\r\n"
     "$1\r\n"
     "q\r\n"
     "*2\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "getname\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     "*1\r\n"
     "$5\r\n"
     "watch\r\n"
     "*3\r\n"
     "$5\r\n"
     "watch\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "a\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     ,
     "+OK\r\n"
     "+OK\r\n"
     "+OK\r\n"
     "+QUEUED\r\n"
     "+QUEUED\r\n"
     "+QUEUED\r\n"
     "*3\r\n"
     "+OK\r\n"
     "+OK\r\n"
     "$1\r\n"
     "q\r\n"
     "-ERR wrong number of arguments for 'watch' command\r\n"
     "+OK\r\n"
     "+OK\r\n"
     "+QUEUED\r\n"
     "*1\r\n"
     "$1\r\n"
     "1\r\n"
     , 243, 145},
    {"readonly",
     "*3\r\n"
     "$3\r\n"
     "set\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "1\r\n"
     "*2\r\n"
     "$3\r\n"
     "set\r\n"
     "$1\r\n"
     "a\r\n"
     "*2\r\n"
     "$3\r\n"
     "del\r\n"
     "$1\r\n"
     "a\r\n"
     "*1\r\n"
     "$3\r\n"
     "del\r\n"
     "*2\r\n"
     "$4\r\n"
     "incr\r\n"
     "$1\r\n"
     "x\r\n"
     "*3\r\n"
     "$6\r\n"
     "expire\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "1\r\n"
     "*1\r\n"
     "$8\r\n"
     "flushall\r\n"
     "*4\r\n"
     "$7\r\n"
     "flushdb\r\n"
     "$1\r\n"
     "x\r\n"
     "$1\r\n"
     "y\r\n"
     "$1\r\n"
     "z\r\n"
     "*3\r\n"
     "$5\r\n"
     "setex\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*4\r\n"
     "$4\r\n"
     "hset\r\n"
     "$1\r\n"
     "h\r\n"
     "$1\r\n"
     "f\r\n"
     "$1\r\n"
     "v\r\n"
     "*3\r\n"
     "$5\r\n"
     "lpush\r\n"
     "$1\r\n"
     "l\r\n"
     "$1\r\n"
     "x\r\n"
     "*3\r\n"
     "$4\r\n"
     "sadd\r\n"
     "$1\r\n"
     "s\r\n"
     "$1\r\n"
     "m\r\n"
     "*4\r\n"
     "$4\r\n"
     "zadd\r\n"
     "$1\r\n"
     "z\r\n"
     "$1\r\n"
     "1\r\n"
     "$1\r\n"
     "m\r\n"
     "*3\r\n"
     "$6\r\n"
     "append\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*3\r\n"
     "$6\r\n"
     "rename\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*3\r\n"
     "$4\r\n"
     "mset\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*2\r\n"
     "$6\r\n"
     "getdel\r\n"
     "$1\r\n"
     "a\r\n"
     "*2\r\n"
     "$5\r\n"
     "getex\r\n"
     "$1\r\n"
     "a\r\n"
     "*3\r\n"
     "$4\r\n"
     "copy\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*5\r\n"
     "$3\r\n"
     "Set\r\n"
     "$1\r\n"
     "x\r\n"
     "$1\r\n"
     "y\r\n"
     "$2\r\n"
     "EX\r\n"
     "$1\r\n"
     "1\r\n"
     ,
     "-READONLY You can't write against a read only replica.\r\n"
     "-ERR wrong number of arguments for 'set' command\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-ERR wrong number of arguments for 'del' command\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-ERR wrong number of arguments for 'setex' command\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     "-READONLY You can't write against a read only replica.\r\n"
     , 546, 1104},
    {"unknown",
     "*1\r\n"
     "$6\r\n"
     "foobar\r\n"
     "*3\r\n"
     "$6\r\n"
     "foobar\r\n"
     "$200\r\n"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxx\r\n"
     "$1\r\n"
     "y\r\n"
     "*3\r\n"
     "$6\r\n"
     "foobar\r\n"
     "$3\r\n"
     "a\x00""b\r\n"
     "$1\r\n"
     "c\r\n"
     "*4\r\n"
     "$3\r\n"
     "foo\r\n"
     "$100\r\n"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaa\r\n"
     "$100\r\n"
     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
     "bbb\r\n"
     "$1\r\n"
     "c\r\n"
     "*1\r\n"
     "$300\r\n"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxx\r\n"
     "*2\r\n"
     "$6\r\n"
     "config\r\n"
     "$3\r\n"
     "get\r\n"
     "*2\r\n"
     "$6\r\n"
     "config\r\n"
     "$3\r\n"
     "foo\r\n"
     "*1\r\n"
     "$6\r\n"
     "config\r\n"
     "*3\r\n"
     "$6\r\n"
     "config\r\n"
     "$3\r\n"
     "set\r\n"
     "$1\r\n"
     "x\r\n"
     "*2\r\n"
     "$7\r\n"
     "command\r\n"
     "$3\r\n"
     "foo\r\n"
     "*1\r\n"
     "$4\r\n"
     "scan\r\n"
     "*2\r\n"
     "$6\r\n"
     "client\r\n"
     "$1\r\n"
     "\x00\r\n"
     "*2\r\n"
     "$4\r\n"
     "fo\x00o\r\n"
     "$1\r\n"
     "x\r\n"
     ,
     "-ERR unknown command 'foobar', with args beginning with: \r\n"
     "-ERR unknown command 'foobar', with args beginning with: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' \r\n"
     "-ERR unknown command 'foobar', with args beginning with: 'a' 'c' \r\n"
     "-ERR unknown command 'foo', with args beginning with: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' 'bbbbbbbbbbbbbbbbbbbbbbbbb' \r\n"
     "-ERR unknown command 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', with args beginning with: \r\n"
     "-ERR wrong number of arguments for 'config|get' command\r\n"
     "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n"
     "-ERR wrong number of arguments for 'config' command\r\n"
     "-ERR wrong number of arguments for 'config|set' command\r\n"
     "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n"
     "-ERR wrong number of arguments for 'scan' command\r\n"
     "-ERR unknown subcommand ''. Try CLIENT HELP.\r\n"
     "-ERR unknown command 'fo', with args beginning with: 'x' \r\n"
     , 1009, 1106},
    {"other types",
     "*3\r\n"
     "$4\r\n"
     "hget\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "f\r\n"
     "*3\r\n"
     "$4\r\n"
     "hget\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "f\r\n"
     "*2\r\n"
     "$7\r\n"
     "hgetall\r\n"
     "$1\r\n"
     "b\r\n"
     "*2\r\n"
     "$7\r\n"
     "hgetall\r\n"
     "$2\r\n"
     "zz\r\n"
     "*4\r\n"
     "$5\r\n"
     "hmget\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*3\r\n"
     "$5\r\n"
     "hmget\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "a\r\n"
     "*2\r\n"
     "$4\r\n"
     "llen\r\n"
     "$2\r\n"
     "zz\r\n"
     "*4\r\n"
     "$6\r\n"
     "lrange\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "0\r\n"
     "$2\r\n"
     "-1\r\n"
     "*4\r\n"
     "$6\r\n"
     "lrange\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "x\r\n"
     "$1\r\n"
     "1\r\n"
     "*3\r\n"
     "$6\r\n"
     "lindex\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "1\r\n"
     "*3\r\n"
     "$6\r\n"
     "lindex\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "x\r\n"
     "*2\r\n"
     "$8\r\n"
     "smembers\r\n"
     "$2\r\n"
     "zz\r\n"
     "*3\r\n"
     "$9\r\n"
     "sismember\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "x\r\n"
     "*4\r\n"
     "$10\r\n"
     "smismember\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*3\r\n"
     "$6\r\n"
     "zscore\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "m\r\n"
     "*2\r\n"
     "$5\r\n"
     "zcard\r\n"
     "$1\r\n"
     "b\r\n"
     "*2\r\n"
     "$4\r\n"
     "hlen\r\n"
     "$2\r\n"
     "zz\r\n"
     "*3\r\n"
     "$7\r\n"
     "hexists\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "f\r\n"
     "*3\r\n"
     "$7\r\n"
     "hstrlen\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "f\r\n"
     "*2\r\n"
     "$5\r\n"
     "hkeys\r\n"
     "$2\r\n"
     "zz\r\n"
     "*2\r\n"
     "$5\r\n"
     "hvals\r\n"
     "$1\r\n"
     "b\r\n"
     "*2\r\n"
     "$5\r\n"
     "scard\r\n"
     "$2\r\n"
     "zz\r\n"
     ,
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
     "$-1\r\n"
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
     "*0\r\n"
     "*2\r\n"
     "$-1\r\n"
     "$-1\r\n"
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
     ":0\r\n"
     "*0\r\n"
     "-ERR value is not an integer or out of range\r\n"
     "$-1\r\n"
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
     "*0\r\n"
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
     "*2\r\n"
     ":0\r\n"
     ":0\r\n"
     "$-1\r\n"
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
     ":0\r\n"
     ":0\r\n"
     ":0\r\n"
     "*0\r\n"
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
     ":0\r\n"
     , 641, 599},
    {"auth",
     "*2\r\n"
     "$4\r\n"
     "auth\r\n"
     "$1\r\n"
     "x\r\n"
     "*3\r\n"
     "$4\r\n"
     "auth\r\n"
     "$7\r\n"
     "default\r\n"
     "$1\r\n"
     "x\r\n"
     "*3\r\n"
     "$4\r\n"
     "auth\r\n"
     "$3\r\n"
     "bob\r\n"
     "$1\r\n"
     "x\r\n"
     "*4\r\n"
     "$4\r\n"
     "auth\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "c\r\n"
     ,
     "-ERR AUTH <password> called without any password configured for the default user. Are you sure yo"
     "ur configuration is correct\?\r\n"
     "+OK\r\n"
     "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
     "-ERR syntax error\r\n"
     , 120, 215},
    {"scan errors",
     "*4\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "count\r\n"
     "$1\r\n"
     "0\r\n"
     "*2\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "x\r\n"
     "*3\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "match\r\n"
     "*4\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$3\r\n"
     "foo\r\n"
     "$1\r\n"
     "1\r\n"
     "*2\r\n"
     "$4\r\n"
     "scan\r\n"
     "$20\r\n"
     "18446744073709551616\r\n"
     "*2\r\n"
     "$4\r\n"
     "scan\r\n"
     "$2\r\n"
     "-1\r\n"
     "*2\r\n"
     "$4\r\n"
     "scan\r\n"
     "$2\r\n"
     " 1\r\n"
     "*2\r\n"
     "$4\r\n"
     "scan\r\n"
     "$2\r\n"
     "1 \r\n"
     "*4\r\n"
     "$4\r\n"
     "scan\r\n"
     "$2\r\n"
     "+0\r\n"
     "$5\r\n"
     "match\r\n"
     "$3\r\n"
     "zzz\r\n"
     "*4\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "count\r\n"
     "$1\r\n"
     "x\r\n"
     "*4\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "count\r\n"
     "$2\r\n"
     "-1\r\n"
     "*6\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "COUNT\r\n"
     "$4\r\n"
     "1000\r\n"
     "$5\r\n"
     "match\r\n"
     "$2\r\n"
     "q*\r\n"
     "*6\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "count\r\n"
     "$4\r\n"
     "1000\r\n"
     "$4\r\n"
     "type\r\n"
     "$4\r\n"
     "hash\r\n"
     "*6\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "count\r\n"
     "$4\r\n"
     "1000\r\n"
     "$5\r\n"
     "match\r\n"
     "$1\r\n"
     "b\r\n"
     "*5\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "count\r\n"
     "$1\r\n"
     "1\r\n"
     "$5\r\n"
     "count\r\n"
     ,
     "-ERR syntax error\r\n"
     "-ERR invalid cursor\r\n"
     "-ERR syntax error\r\n"
     "-ERR syntax error\r\n"
     "-ERR invalid cursor\r\n"
     "*2\r\n"
     "$1\r\n"
     "0\r\n"
     "*0\r\n"
     "-ERR invalid cursor\r\n"
     "-ERR invalid cursor\r\n"
     "*2\r\n"
     "$1\r\n"
     "0\r\n"
     "*0\r\n"
     "-ERR value is not an integer or out of range\r\n"
     "-ERR syntax error\r\n"
     "*2\r\n"
     "$1\r\n"
     "0\r\n"
     "*0\r\n"
     "*2\r\n"
     "$1\r\n"
     "0\r\n"
     "*0\r\n"
     "*2\r\n"
     "$1\r\n"
     "0\r\n"
     "*1\r\n"
     "$1\r\n"
     "b\r\n"
     "-ERR syntax error\r\n"
     , 590, 307},
    {"keys",
     "*2\r\n"
     "$4\r\n"
     "keys\r\n"
     "$1\r\n"
     "b\r\n"
     "*2\r\n"
     "$4\r\n"
     "keys\r\n"
     "$3\r\n"
     "zz*\r\n"
     "*2\r\n"
     "$4\r\n"
     "keys\r\n"
     "$4\r\n"
     "h\\\?x\r\n"
     "*2\r\n"
     "$4\r\n"
     "keys\r\n"
     "$3\r\n"
     "[b]\r\n"
     "*1\r\n"
     "$4\r\n"
     "keys\r\n"
     "*2\r\n"
     "$4\r\n"
     "keys\r\n"
     "$7\r\n"
     "[^a-z]*\r\n"
     ,
     "*1\r\n"
     "$1\r\n"
     "b\r\n"
     "*0\r\n"
     "*1\r\n"
     "$3\r\n"
     "h\?x\r\n"
     "*1\r\n"
     "$1\r\n"
     "b\r\n"
     "-ERR wrong number of arguments for 'keys' command\r\n"
     "*0\r\n"
     , 132, 94},
    {"command",
     "*3\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "info\r\n"
     "$3\r\n"
     "get\r\n"
     "*6\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "info\r\n"
     "$3\r\n"
     "get\r\n"
     "$4\r\n"
     "nope\r\n"
     "$3\r\n"
     "GET\r\n"
     "$4\r\n"
     "mget\r\n"
     "*3\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "docs\r\n"
     "$3\r\n"
     "get\r\n"
     "*5\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "docs\r\n"
     "$3\r\n"
     "get\r\n"
     "$4\r\n"
     "nope\r\n"
     "$4\r\n"
     "mget\r\n"
     "*2\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "help\r\n"
     "*2\r\n"
     "$6\r\n"
     "config\r\n"
     "$4\r\n"
     "help\r\n"
     "*3\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "info\r\n"
     "$10\r\n"
     "config|get\r\n"
     "*3\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "docs\r\n"
     "$9\r\n"
     "client|id\r\n"
     ,
     "*1\r\n"
     "*10\r\n"
     "$3\r\n"
     "get\r\n"
     ":2\r\n"
     "*2\r\n"
     "+readonly\r\n"
     "+fast\r\n"
     ":1\r\n"
     ":1\r\n"
     ":1\r\n"
     "*3\r\n"
     "+@read\r\n"
     "+@string\r\n"
     "+@fast\r\n"
     "*0\r\n"
     "*1\r\n"
     "*6\r\n"
     "$5\r\n"
     "flags\r\n"
     "*2\r\n"
     "+RO\r\n"
     "+access\r\n"
     "$12\r\n"
     "begin_search\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "index\r\n"
     "$4\r\n"
     "spec\r\n"
     "*2\r\n"
     "$5\r\n"
     "index\r\n"
     ":1\r\n"
     "$9\r\n"
     "find_keys\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "range\r\n"
     "$4\r\n"
     "spec\r\n"
     "*6\r\n"
     "$7\r\n"
     "lastkey\r\n"
     ":0\r\n"
     "$7\r\n"
     "keystep\r\n"
     ":1\r\n"
     "$5\r\n"
     "limit\r\n"
     ":0\r\n"
     "*0\r\n"
     "*4\r\n"
     "*10\r\n"
     "$3\r\n"
     "get\r\n"
     ":2\r\n"
     "*2\r\n"
     "+readonly\r\n"
     "+fast\r\n"
     ":1\r\n"
     ":1\r\n"
     ":1\r\n"
     "*3\r\n"
     "+@read\r\n"
     "+@string\r\n"
     "+@fast\r\n"
     "*0\r\n"
     "*1\r\n"
     "*6\r\n"
     "$5\r\n"
     "flags\r\n"
     "*2\r\n"
     "+RO\r\n"
     "+access\r\n"
     "$12\r\n"
     "begin_search\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "index\r\n"
     "$4\r\n"
     "spec\r\n"
     "*2\r\n"
     "$5\r\n"
     "index\r\n"
     ":1\r\n"
     "$9\r\n"
     "find_keys\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "range\r\n"
     "$4\r\n"
     "spec\r\n"
     "*6\r\n"
     "$7\r\n"
     "lastkey\r\n"
     ":0\r\n"
     "$7\r\n"
     "keystep\r\n"
     ":1\r\n"
     "$5\r\n"
     "limit\r\n"
     ":0\r\n"
     "*0\r\n"
     "$-1\r\n"
     "*10\r\n"
     "$3\r\n"
     "get\r\n"
     ":2\r\n"
     "*2\r\n"
     "+readonly\r\n"
     "+fast\r\n"
     ":1\r\n"
     ":1\r\n"
     ":1\r\n"
     "*3\r\n"
     "+@read\r\n"
     "+@string\r\n"
     "+@fast\r\n"
     "*0\r\n"
     "*1\r\n"
     "*6\r\n"
     "$5\r\n"
     "flags\r\n"
     "*2\r\n"
     "+RO\r\n"
     "+access\r\n"
     "$12\r\n"
     "begin_search\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "index\r\n"
     "$4\r\n"
     "spec\r\n"
     "*2\r\n"
     "$5\r\n"
     "index\r\n"
     ":1\r\n"
     "$9\r\n"
     "find_keys\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "range\r\n"
     "$4\r\n"
     "spec\r\n"
     "*6\r\n"
     "$7\r\n"
     "lastkey\r\n"
     ":0\r\n"
     "$7\r\n"
     "keystep\r\n"
     ":1\r\n"
     "$5\r\n"
     "limit\r\n"
     ":0\r\n"
     "*0\r\n"
     "*10\r\n"
     "$4\r\n"
     "mget\r\n"
     ":-2\r\n"
     "*2\r\n"
     "+readonly\r\n"
     "+fast\r\n"
     ":1\r\n"
     ":-1\r\n"
     ":1\r\n"
     "*3\r\n"
     "+@read\r\n"
     "+@string\r\n"
     "+@fast\r\n"
     "*1\r\n"
     "$26\r\n"
     "request_policy:multi_shard\r\n"
     "*1\r\n"
     "*6\r\n"
     "$5\r\n"
     "flags\r\n"
     "*2\r\n"
     "+RO\r\n"
     "+access\r\n"
     "$12\r\n"
     "begin_search\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "index\r\n"
     "$4\r\n"
     "spec\r\n"
     "*2\r\n"
     "$5\r\n"
     "index\r\n"
     ":1\r\n"
     "$9\r\n"
     "find_keys\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "range\r\n"
     "$4\r\n"
     "spec\r\n"
     "*6\r\n"
     "$7\r\n"
     "lastkey\r\n"
     ":-1\r\n"
     "$7\r\n"
     "keystep\r\n"
     ":1\r\n"
     "$5\r\n"
     "limit\r\n"
     ":0\r\n"
     "*0\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "*10\r\n"
     "$7\r\n"
     "summary\r\n"
     "$22\r\n"
     "Get the value of a key\r\n"
     "$5\r\n"
     "since\r\n"
     "$5\r\n"
     "1.0.0\r\n"
     "$5\r\n"
     "group\r\n"
     "$6\r\n"
     "string\r\n"
     "$10\r\n"
     "complexity\r\n"
     "$4\r\n"
     "O(1)\r\n"
     "$9\r\n"
     "arguments\r\n"
     "*1\r\n"
     "*6\r\n"
     "$4\r\n"
     "name\r\n"
     "$3\r\n"
     "key\r\n"
     "$4\r\n"
     "type\r\n"
     "$3\r\n"
     "key\r\n"
     "$14\r\n"
     "key_spec_index\r\n"
     ":0\r\n"
     "*4\r\n"
     "$3\r\n"
     "get\r\n"
     "*10\r\n"
     "$7\r\n"
     "summary\r\n"
     "$22\r\n"
     "Get the value of a key\r\n"
     "$5\r\n"
     "since\r\n"
     "$5\r\n"
     "1.0.0\r\n"
     "$5\r\n"
     "group\r\n"
     "$6\r\n"
     "string\r\n"
     "$10\r\n"
     "complexity\r\n"
     "$4\r\n"
     "O(1)\r\n"
     "$9\r\n"
     "arguments\r\n"
     "*1\r\n"
     "*6\r\n"
     "$4\r\n"
     "name\r\n"
     "$3\r\n"
     "key\r\n"
     "$4\r\n"
     "type\r\n"
     "$3\r\n"
     "key\r\n"
     "$14\r\n"
     "key_spec_index\r\n"
     ":0\r\n"
     "$4\r\n"
     "mget\r\n"
     "*10\r\n"
     "$7\r\n"
     "summary\r\n"
     "$36\r\n"
     "Get the values of all the given keys\r\n"
     "$5\r\n"
     "since\r\n"
     "$5\r\n"
     "1.0.0\r\n"
     "$5\r\n"
     "group\r\n"
     "$6\r\n"
     "string\r\n"
     "$10\r\n"
     "complexity\r\n"
     "$47\r\n"
     "O(N) where N is the number of keys to retrieve.\r\n"
     "$9\r\n"
     "arguments\r\n"
     "*1\r\n"
     "*8\r\n"
     "$4\r\n"
     "name\r\n"
     "$3\r\n"
     "key\r\n"
     "$4\r\n"
     "type\r\n"
     "$3\r\n"
     "key\r\n"
     "$14\r\n"
     "key_spec_index\r\n"
     ":0\r\n"
     "$5\r\n"
     "flags\r\n"
     "*1\r\n"
     "+multiple\r\n"
     "*21\r\n"
     "+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
     "+(no subcommand)\r\n"
     "+    Return details about all Redis commands.\r\n"
     "+COUNT\r\n"
     "+    Return the total number of commands in this Redis server.\r\n"
     "+LIST\r\n"
     "+    Return a list of all commands in this Redis server.\r\n"
     "+INFO [<command-name> ...]\r\n"
     "+    Return details about multiple Redis commands.\r\n"
     "+    If no command names are given, documentation details for all\r\n"
     "+    commands are returned.\r\n"
     "+DOCS [<command-name> ...]\r\n"
     "+    Return documentation details about multiple Redis commands.\r\n"
     "+    If no command names are given, documentation details for all\r\n"
     "+    commands are returned.\r\n"
     "+GETKEYS <full-command>\r\n"
     "+    Return the keys from a full Redis command.\r\n"
     "+GETKEYSANDFLAGS <full-command>\r\n"
     "+    Return the keys and the access flags from a full Redis command.\r\n"
     "+HELP\r\n"
     "+    Prints this help.\r\n"
     "*11\r\n"
     "+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
     "+GET <pattern>\r\n"
     "+    Return parameters matching the glob-like <pattern> and their values.\r\n"
     "+SET <directive> <value>\r\n"
     "+    Set the configuration <directive> to <value>.\r\n"
     "+RESETSTAT\r\n"
     "+    Reset statistics reported by the INFO command.\r\n"
     "+REWRITE\r\n"
     "+    Rewrite the configuration file.\r\n"
     "+HELP\r\n"
     "+    Prints this help.\r\n"
     "*1\r\n"
     "*10\r\n"
     "$10\r\n"
     "config|get\r\n"
     ":-3\r\n"
     "*4\r\n"
     "+admin\r\n"
     "+noscript\r\n"
     "+loading\r\n"
     "+stale\r\n"
     ":0\r\n"
     ":0\r\n"
     ":0\r\n"
     "*3\r\n"
     "+@admin\r\n"
     "+@slow\r\n"
     "+@dangerous\r\n"
     "*0\r\n"
     "*0\r\n"
     "*0\r\n"
     "*2\r\n"
     "$9\r\n"
     "client|id\r\n"
     "*8\r\n"
     "$7\r\n"
     "summary\r\n"
     "$48\r\n"
     "Returns the client ID for the current connection\r\n"
     "$5\r\n"
     "since\r\n"
     "$5\r\n"
     "5.0.0\r\n"
     "$5\r\n"
     "group\r\n"
     "$10\r\n"
     "connection\r\n"
     "$10\r\n"
     "complexity\r\n"
     "$4\r\n"
     "O(1)\r\n"
     , 332, 3527},
    {"config get",
     "*3\r\n"
     "$6\r\n"
     "config\r\n"
     "$3\r\n"
     "get\r\n"
     "$9\r\n"
     "MAXMEMORY\r\n"
     "*3\r\n"
     "$6\r\n"
     "config\r\n"
     "$3\r\n"
     "get\r\n"
     "$7\r\n"
     "nomatch\r\n"
     "*3\r\n"
     "$6\r\n"
     "config\r\n"
     "$3\r\n"
     "get\r\n"
     "$10\r\n"
     "appendonly\r\n"
     "*3\r\n"
     "$6\r\n"
     "config\r\n"
     "$3\r\n"
     "get\r\n"
     "$4\r\n"
     "save\r\n"
     "*3\r\n"
     "$6\r\n"
     "config\r\n"
     "$3\r\n"
     "get\r\n"
     "$4\r\n"
     "sav\?\r\n"
     ,
     "*2\r\n"
     "$9\r\n"
     "MAXMEMORY\r\n"
     "$1\r\n"
     "0\r\n"
     "*0\r\n"
     "*2\r\n"
     "$10\r\n"
     "appendonly\r\n"
     "$2\r\n"
     "no\r\n"
     "*2\r\n"
     "$4\r\n"
     "save\r\n"
     "$0\r\n"
     "\r\n"
     "*2\r\n"
     "$4\r\n"
     "save\r\n"
     "$0\r\n"
     "\r\n"
     , 190, 99},
    {"info",
     "*2\r\n"
     "$4\r\n"
     "info\r\n"
     "$3\r\n"
     "foo\r\n"
     "*2\r\n"
     "$4\r\n"
     "info\r\n"
     "$7\r\n"
     "modules\r\n"
     "*2\r\n"
     "$4\r\n"
     "info\r\n"
     "$7\r\n"
     "cluster\r\n"
     "*2\r\n"
     "$4\r\n"
     "info\r\n"
     "$8\r\n"
     "KEYSPACE\r\n"
     ,
     "$0\r\n"
     "\r\n"
     "$11\r\n"
     "# Modules\r\n"
     "\r\n"
     "$30\r\n"
     "# Cluster\r\n"
     "cluster_enabled:0\r\n"
     "\r\n"
     "$44\r\n"
     "# Keyspace\r\n"
     "db0:keys=6,expires=0,avg_ttl=0\r\n"
     "\r\n"
     , 105, 112},
    {"reset",
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "a\r\n"
     "*1\r\n"
     "$5\r\n"
     "reset\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     ,
     "+OK\r\n"
     "+QUEUED\r\n"
     "+RESET\r\n"
     "-ERR EXEC without MULTI\r\n"
     , 64, 47},
    {"subcommand names",
     "*2\r\n"
     "$10\r\n"
     "config|get\r\n"
     "$1\r\n"
     "x\r\n"
     "*2\r\n"
     "$10\r\n"
     "CONFIG|GET\r\n"
     "$9\r\n"
     "maxmemory\r\n"
     "*1\r\n"
     "$9\r\n"
     "client|id\r\n"
     "*3\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "docs\r\n"
     "$4\r\n"
     "nope\r\n"
     "*3\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "info\r\n"
     "$4\r\n"
     "nope\r\n"
     "*3\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "info\r\n"
     "$9\r\n"
     "CLIENT|ID\r\n"
     "*4\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "docs\r\n"
     "$9\r\n"
     "client|id\r\n"
     "$10\r\n"
     "config|get\r\n"
     ,
     "-ERR unknown command 'config|get', with args beginning with: 'x' \r\n"
     "-ERR unknown command 'CONFIG|GET', with args beginning with: 'maxmemory' \r\n"
     "-ERR unknown command 'client|id', with args beginning with: \r\n"
     "*0\r\n"
     "*1\r\n"
     "$-1\r\n"
     "*1\r\n"
     "*10\r\n"
     "$9\r\n"
     "client|id\r\n"
     ":2\r\n"
     "*3\r\n"
     "+noscript\r\n"
     "+loading\r\n"
     "+stale\r\n"
     ":0\r\n"
     ":0\r\n"
     ":0\r\n"
     "*2\r\n"
     "+@slow\r\n"
     "+@connection\r\n"
     "*0\r\n"
     "*0\r\n"
     "*0\r\n"
     "*4\r\n"
     "$9\r\n"
     "client|id\r\n"
     "*8\r\n"
     "$7\r\n"
     "summary\r\n"
     "$48\r\n"
     "Returns the client ID for the current connection\r\n"
     "$5\r\n"
     "since\r\n"
     "$5\r\n"
     "5.0.0\r\n"
     "$5\r\n"
     "group\r\n"
     "$10\r\n"
     "connection\r\n"
     "$10\r\n"
     "complexity\r\n"
     "$4\r\n"
     "O(1)\r\n"
     "$10\r\n"
     "config|get\r\n"
     "*12\r\n"
     "$7\r\n"
     "summary\r\n"
     "$42\r\n"
     "Get the values of configuration parameters\r\n"
     "$5\r\n"
     "since\r\n"
     "$5\r\n"
     "2.0.0\r\n"
     "$5\r\n"
     "group\r\n"
     "$6\r\n"
     "server\r\n"
     "$10\r\n"
     "complexity\r\n"
     "$62\r\n"
     "O(N) when N is the number of configuration parameters provided\r\n"
     "$7\r\n"
     "history\r\n"
     "*1\r\n"
     "*2\r\n"
     "$5\r\n"
     "7.0.0\r\n"
     "$65\r\n"
     "Added the ability to pass multiple pattern parameters in one call\r\n"
     "$9\r\n"
     "arguments\r\n"
     "*1\r\n"
     "*8\r\n"
     "$4\r\n"
     "name\r\n"
     "$9\r\n"
     "parameter\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "block\r\n"
     "$5\r\n"
     "flags\r\n"
     "*1\r\n"
     "+multiple\r\n"
     "$9\r\n"
     "arguments\r\n"
     "*1\r\n"
     "*4\r\n"
     "$4\r\n"
     "name\r\n"
     "$9\r\n"
     "parameter\r\n"
     "$4\r\n"
     "type\r\n"
     "$6\r\n"
     "string\r\n"
     , 258, 980},
    {"multi arity and select",
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$5\r\n"
     "multi\r\n"
     "$1\r\n"
     "x\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*1\r\n"
     "$5\r\n"
     "watch\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$6\r\n"
     "select\r\n"
     "$1\r\n"
     "0\r\n"
     "*2\r\n"
     "$6\r\n"
     "select\r\n"
     "$1\r\n"
     "x\r\n"
     "*1\r\n"
     "$6\r\n"
     "dbsize\r\n"
     "*2\r\n"
     "$9\r\n"
     "randomkey\r\n"
     "$1\r\n"
     "x\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     ,
     "+OK\r\n"
     "-ERR wrong number of arguments for 'multi' command\r\n"
     "-EXECABORT Transaction discarded because of previous errors.\r\n"
     "+OK\r\n"
     "-ERR wrong number of arguments for 'watch' command\r\n"
     "-EXECABORT Transaction discarded because of previous errors.\r\n"
     "+OK\r\n"
     "+QUEUED\r\n"
     "+QUEUED\r\n"
     "+QUEUED\r\n"
     "-ERR wrong number of arguments for 'randomkey' command\r\n"
     "-EXECABORT Transaction discarded because of previous errors.\r\n"
     , 212, 388},
    {"names",
     "*3\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "setname\r\n"
     "$1\r\n"
     "\x7f\r\n"
     "*3\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "setname\r\n"
     "$2\r\n"
     "~!\r\n"
     "*2\r\n"
     "$6\r\n"
     "client\r\n"
     "$7\r\n"
     "getname\r\n"
     "*3\r\n"
     "$4\r\n"
     "echo\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*1\r\n"
     "$4\r\n"
     "type\r\n"
     "*4\r\n"
     "$6\r\n"
     "lrange\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "0\r\n"
     "$1\r\n"
     "1\r\n"
     "*3\r\n"
     "$6\r\n"
     "zscore\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "m\r\n"
     ,
     "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
     "+OK\r\n"
     "$2\r\n"
     "~!\r\n"
     "-ERR wrong number of arguments for 'echo' command\r\n"
     "-ERR wrong number of arguments for 'type' command\r\n"
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
     "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
     , 211, 325},
    {"getrange",
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "0\r\n"
     "$2\r\n"
     "-1\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "1\r\n"
     "$1\r\n"
     "2\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "b\r\n"
     "$2\r\n"
     "-3\r\n"
     "$2\r\n"
     "-1\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "b\r\n"
     "$2\r\n"
     "-1\r\n"
     "$2\r\n"
     "-3\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "b\r\n"
     "$2\r\n"
     "10\r\n"
     "$2\r\n"
     "20\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "3\r\n"
     "$1\r\n"
     "1\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "0\r\n"
     "$2\r\n"
     "-1\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$2\r\n"
     "zz\r\n"
     "$1\r\n"
     "x\r\n"
     "$1\r\n"
     "1\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "0\r\n"
     "$1\r\n"
     "x\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "e\r\n"
     "$1\r\n"
     "0\r\n"
     "$1\r\n"
     "1\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "u\r\n"
     "$1\r\n"
     "0\r\n"
     "$1\r\n"
     "0\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "n\r\n"
     "$1\r\n"
     "2\r\n"
     "$1\r\n"
     "5\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "0\r\n"
     "$2\r\n"
     "-1\r\n"
     "*4\r\n"
     "$6\r\n"
     "substr\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "1\r\n"
     "$1\r\n"
     "3\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "b\r\n"
     "$4\r\n"
     "-100\r\n"
     "$3\r\n"
     "100\r\n"
     "*3\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "b\r\n"
     "$1\r\n"
     "0\r\n"
     "*4\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$1\r\n"
     "b\r\n"
     "$20\r\n"
     "-9223372036854775808\r\n"
     "$19\r\n"
     "9223372036854775807\r\n"
     ,
     "$5\r\n"
     "hello\r\n"
     "$2\r\n"
     "el\r\n"
     "$3\r\n"
     "llo\r\n"
     "$0\r\n"
     "\r\n"
     "$0\r\n"
     "\r\n"
     "$0\r\n"
     "\r\n"
     "$0\r\n"
     "\r\n"
     "-ERR value is not an integer or out of range\r\n"
     "-ERR value is not an integer or out of range\r\n"
     "$2\r\n"
     "x\"\r\n"
     "$1\r\n"
     "\xc3\r\n"
     "$4\r\n"
     "k\": \r\n"
     "$1\r\n"
     "1\r\n"
     "$3\r\n"
     "ell\r\n"
     "$5\r\n"
     "hello\r\n"
     "-ERR wrong number of arguments for 'getrange' command\r\n"
     "$5\r\n"
     "hello\r\n"
     , 709, 262},
    {"command info served",
     "*7\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "info\r\n"
     "$8\r\n"
     "getrange\r\n"
     "$4\r\n"
     "keys\r\n"
     "$4\r\n"
     "auth\r\n"
     "$5\r\n"
     "reset\r\n"
     "$6\r\n"
     "substr\r\n"
     "*4\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "docs\r\n"
     "$4\r\n"
     "keys\r\n"
     "$5\r\n"
     "reset\r\n"
     ,
     "*5\r\n"
     "*10\r\n"
     "$8\r\n"
     "getrange\r\n"
     ":4\r\n"
     "*1\r\n"
     "+readonly\r\n"
     ":1\r\n"
     ":1\r\n"
     ":1\r\n"
     "*3\r\n"
     "+@read\r\n"
     "+@string\r\n"
     "+@slow\r\n"
     "*0\r\n"
     "*1\r\n"
     "*6\r\n"
     "$5\r\n"
     "flags\r\n"
     "*2\r\n"
     "+RO\r\n"
     "+access\r\n"
     "$12\r\n"
     "begin_search\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "index\r\n"
     "$4\r\n"
     "spec\r\n"
     "*2\r\n"
     "$5\r\n"
     "index\r\n"
     ":1\r\n"
     "$9\r\n"
     "find_keys\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "range\r\n"
     "$4\r\n"
     "spec\r\n"
     "*6\r\n"
     "$7\r\n"
     "lastkey\r\n"
     ":0\r\n"
     "$7\r\n"
     "keystep\r\n"
     ":1\r\n"
     "$5\r\n"
     "limit\r\n"
     ":0\r\n"
     "*0\r\n"
     "*10\r\n"
     "$4\r\n"
     "keys\r\n"
     ":2\r\n"
     "*1\r\n"
     "+readonly\r\n"
     ":0\r\n"
     ":0\r\n"
     ":0\r\n"
     "*4\r\n"
     "+@keyspace\r\n"
     "+@read\r\n"
     "+@slow\r\n"
     "+@dangerous\r\n"
     "*2\r\n"
     "$25\r\n"
     "request_policy:all_shards\r\n"
     "$29\r\n"
     "nondeterministic_output_order\r\n"
     "*0\r\n"
     "*0\r\n"
     "*10\r\n"
     "$4\r\n"
     "auth\r\n"
     ":-2\r\n"
     "*6\r\n"
     "+noscript\r\n"
     "+loading\r\n"
     "+stale\r\n"
     "+fast\r\n"
     "+no_auth\r\n"
     "+allow_busy\r\n"
     ":0\r\n"
     ":0\r\n"
     ":0\r\n"
     "*2\r\n"
     "+@fast\r\n"
     "+@connection\r\n"
     "*0\r\n"
     "*0\r\n"
     "*0\r\n"
     "*10\r\n"
     "$5\r\n"
     "reset\r\n"
     ":1\r\n"
     "*6\r\n"
     "+noscript\r\n"
     "+loading\r\n"
     "+stale\r\n"
     "+fast\r\n"
     "+no_auth\r\n"
     "+allow_busy\r\n"
     ":0\r\n"
     ":0\r\n"
     ":0\r\n"
     "*2\r\n"
     "+@fast\r\n"
     "+@connection\r\n"
     "*0\r\n"
     "*0\r\n"
     "*0\r\n"
     "*10\r\n"
     "$6\r\n"
     "substr\r\n"
     ":4\r\n"
     "*1\r\n"
     "+readonly\r\n"
     ":1\r\n"
     ":1\r\n"
     ":1\r\n"
     "*3\r\n"
     "+@read\r\n"
     "+@string\r\n"
     "+@slow\r\n"
     "*0\r\n"
     "*1\r\n"
     "*6\r\n"
     "$5\r\n"
     "flags\r\n"
     "*2\r\n"
     "+RO\r\n"
     "+access\r\n"
     "$12\r\n"
     "begin_search\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "index\r\n"
     "$4\r\n"
     "spec\r\n"
     "*2\r\n"
     "$5\r\n"
     "index\r\n"
     ":1\r\n"
     "$9\r\n"
     "find_keys\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "range\r\n"
     "$4\r\n"
     "spec\r\n"
     "*6\r\n"
     "$7\r\n"
     "lastkey\r\n"
     ":0\r\n"
     "$7\r\n"
     "keystep\r\n"
     ":1\r\n"
     "$5\r\n"
     "limit\r\n"
     ":0\r\n"
     "*0\r\n"
     "*4\r\n"
     "$4\r\n"
     "keys\r\n"
     "*10\r\n"
     "$7\r\n"
     "summary\r\n"
     "$40\r\n"
     "Find all keys matching the given pattern\r\n"
     "$5\r\n"
     "since\r\n"
     "$5\r\n"
     "1.0.0\r\n"
     "$5\r\n"
     "group\r\n"
     "$7\r\n"
     "generic\r\n"
     "$10\r\n"
     "complexity\r\n"
     "$152\r\n"
     "O(N) with N being the number of keys in the database, under the assumption that the key names in "
     "the database and the given pattern have limited length.\r\n"
     "$9\r\n"
     "arguments\r\n"
     "*1\r\n"
     "*4\r\n"
     "$4\r\n"
     "name\r\n"
     "$7\r\n"
     "pattern\r\n"
     "$4\r\n"
     "type\r\n"
     "$7\r\n"
     "pattern\r\n"
     "$5\r\n"
     "reset\r\n"
     "*8\r\n"
     "$7\r\n"
     "summary\r\n"
     "$20\r\n"
     "Reset the connection\r\n"
     "$5\r\n"
     "since\r\n"
     "$5\r\n"
     "6.2.0\r\n"
     "$5\r\n"
     "group\r\n"
     "$10\r\n"
     "connection\r\n"
     "$10\r\n"
     "complexity\r\n"
     "$4\r\n"
     "O(1)\r\n"
     , 132, 1544},
    {"scan errors after match",
     "*5\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "match\r\n"
     "$1\r\n"
     "x\r\n"
     "$3\r\n"
     "foo\r\n"
     "*6\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "match\r\n"
     "$1\r\n"
     "b\r\n"
     "$5\r\n"
     "count\r\n"
     "$1\r\n"
     "0\r\n"
     "*6\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "MATCH\r\n"
     "$2\r\n"
     "b*\r\n"
     "$5\r\n"
     "count\r\n"
     "$1\r\n"
     "x\r\n"
     "*6\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "match\r\n"
     "$1\r\n"
     "[\r\n"
     "$5\r\n"
     "count\r\n"
     "$3\r\n"
     "100\r\n"
     "*5\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "match\r\n"
     "$1\r\n"
     "*\r\n"
     "$4\r\n"
     "type\r\n"
     "*8\r\n"
     "$4\r\n"
     "scan\r\n"
     "$1\r\n"
     "0\r\n"
     "$5\r\n"
     "match\r\n"
     "$1\r\n"
     "b\r\n"
     "$5\r\n"
     "match\r\n"
     "$2\r\n"
     "zz\r\n"
     "$5\r\n"
     "count\r\n"
     "$3\r\n"
     "100\r\n"
     ,
     "-ERR syntax error\r\n"
     "-ERR syntax error\r\n"
     "-ERR value is not an integer or out of range\r\n"
     "*2\r\n"
     "$1\r\n"
     "0\r\n"
     "*0\r\n"
     "-ERR syntax error\r\n"
     "*2\r\n"
     "$1\r\n"
     "0\r\n"
     "*0\r\n"
     , 349, 133},
    {"odd names",
     "*2\r\n"
     "$0\r\n"
     "\r\n"
     "$1\r\n"
     "a\r\n"
     "*2\r\n"
     "$4\r\n"
     " get\r\n"
     "$1\r\n"
     "a\r\n"
     "*2\r\n"
     "$4\r\n"
     "get \r\n"
     "$1\r\n"
     "a\r\n"
     "*2\r\n"
     "$4\r\n"
     "GET\x00\r\n"
     "$1\r\n"
     "a\r\n"
     "*2\r\n"
     "$4\r\n"
     "\xc3\xbf\xc3\xbe\r\n"
     "$1\r\n"
     "x\r\n"
     "*1\r\n"
     "$2\r\n"
     "\xc3\xa9\r\n"
     "*1\r\n"
     "$7\r\n"
     "client|\r\n"
     "*1\r\n"
     "$1\r\n"
     "|\r\n"
     "*2\r\n"
     "$6\r\n"
     "config\r\n"
     "$5\r\n"
     "get|x\r\n"
     "*4\r\n"
     "$7\r\n"
     "COMMAND\r\n"
     "$4\r\n"
     "INFO\r\n"
     "$3\r\n"
     "Get\r\n"
     "$3\r\n"
     "GET\r\n"
     "*3\r\n"
     "$7\r\n"
     "command\r\n"
     "$4\r\n"
     "docs\r\n"
     "$3\r\n"
     "GET\r\n"
     "*2\r\n"
     "$4\r\n"
     "echo\r\n"
     "$3\r\n"
     "a\x00""b\r\n"
     "*2\r\n"
     "$4\r\n"
     "ping\r\n"
     "$2\r\n"
     "\r\n"
     "\r\n"
     ,
     "-ERR unknown command '', with args beginning with: 'a' \r\n"
     "-ERR unknown command ' get', with args beginning with: 'a' \r\n"
     "-ERR unknown command 'get ', with args beginning with: 'a' \r\n"
     "-ERR unknown command 'GET', with args beginning with: 'a' \r\n"
     "-ERR unknown command '\xc3\xbf\xc3\xbe', with args beginning with: 'x' \r\n"
     "-ERR unknown command '\xc3\xa9', with args beginning with: \r\n"
     "-ERR unknown command 'client|', with args beginning with: \r\n"
     "-ERR unknown command '|', with args beginning with: \r\n"
     "-ERR unknown subcommand 'get|x'. Try CONFIG HELP.\r\n"
     "*2\r\n"
     "*10\r\n"
     "$3\r\n"
     "get\r\n"
     ":2\r\n"
     "*2\r\n"
     "+readonly\r\n"
     "+fast\r\n"
     ":1\r\n"
     ":1\r\n"
     ":1\r\n"
     "*3\r\n"
     "+@read\r\n"
     "+@string\r\n"
     "+@fast\r\n"
     "*0\r\n"
     "*1\r\n"
     "*6\r\n"
     "$5\r\n"
     "flags\r\n"
     "*2\r\n"
     "+RO\r\n"
     "+access\r\n"
     "$12\r\n"
     "begin_search\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "index\r\n"
     "$4\r\n"
     "spec\r\n"
     "*2\r\n"
     "$5\r\n"
     "index\r\n"
     ":1\r\n"
     "$9\r\n"
     "find_keys\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "range\r\n"
     "$4\r\n"
     "spec\r\n"
     "*6\r\n"
     "$7\r\n"
     "lastkey\r\n"
     ":0\r\n"
     "$7\r\n"
     "keystep\r\n"
     ":1\r\n"
     "$5\r\n"
     "limit\r\n"
     ":0\r\n"
     "*0\r\n"
     "*10\r\n"
     "$3\r\n"
     "get\r\n"
     ":2\r\n"
     "*2\r\n"
     "+readonly\r\n"
     "+fast\r\n"
     ":1\r\n"
     ":1\r\n"
     ":1\r\n"
     "*3\r\n"
     "+@read\r\n"
     "+@string\r\n"
     "+@fast\r\n"
     "*0\r\n"
     "*1\r\n"
     "*6\r\n"
     "$5\r\n"
     "flags\r\n"
     "*2\r\n"
     "+RO\r\n"
     "+access\r\n"
     "$12\r\n"
     "begin_search\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "index\r\n"
     "$4\r\n"
     "spec\r\n"
     "*2\r\n"
     "$5\r\n"
     "index\r\n"
     ":1\r\n"
     "$9\r\n"
     "find_keys\r\n"
     "*4\r\n"
     "$4\r\n"
     "type\r\n"
     "$5\r\n"
     "range\r\n"
     "$4\r\n"
     "spec\r\n"
     "*6\r\n"
     "$7\r\n"
     "lastkey\r\n"
     ":0\r\n"
     "$7\r\n"
     "keystep\r\n"
     ":1\r\n"
     "$5\r\n"
     "limit\r\n"
     ":0\r\n"
     "*0\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "*10\r\n"
     "$7\r\n"
     "summary\r\n"
     "$22\r\n"
     "Get the value of a key\r\n"
     "$5\r\n"
     "since\r\n"
     "$5\r\n"
     "1.0.0\r\n"
     "$5\r\n"
     "group\r\n"
     "$6\r\n"
     "string\r\n"
     "$10\r\n"
     "complexity\r\n"
     "$4\r\n"
     "O(1)\r\n"
     "$9\r\n"
     "arguments\r\n"
     "*1\r\n"
     "*6\r\n"
     "$4\r\n"
     "name\r\n"
     "$3\r\n"
     "key\r\n"
     "$4\r\n"
     "type\r\n"
     "$3\r\n"
     "key\r\n"
     "$14\r\n"
     "key_spec_index\r\n"
     ":0\r\n"
     "$3\r\n"
     "a\x00""b\r\n"
     "$2\r\n"
     "\r\n"
     "\r\n"
     , 294, 1365},
    /* captured from a Redis 7.0.15 with nothing logged, which is what
     * evkv answers as; ROLE from a master, as INFO's role:master */
    {"slowlog latency role",
     "SLOWLOG LEN\r\n"
     "SLOWLOG GET\r\n"
     "SLOWLOG GET -2\r\n"
     "slowlog GET 1 2\r\n"
     "SLOWLOG RESET\r\n"
     "LATENCY LATEST\r\n"
     "LATENCY HISTORY x\r\n"
     "LATENCY RESET a\r\n"
     "ROLE\r\n"
     "role x\r\n"
     ,
     ":0\r\n"
     "*0\r\n"
     "-ERR count should be greater than or equal to -1\r\n"
     "-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.\r\n"
     "+OK\r\n"
     "*0\r\n"
     "*0\r\n"
     ":0\r\n"
     "*3\r\n"
     "$6\r\n"
     "master\r\n"
     ":0\r\n"
     "*0\r\n"
     "-ERR wrong number of arguments for 'role' command\r\n"
     , 140, 233},
    {"exec refused ends multi",
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$4\r\n"
     "exec\r\n"
     "$1\r\n"
     "x\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "a\r\n"
     ,
     "+OK\r\n"
     "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n"
     "$1\r\n"
     "1\r\n"
     , 56, 103},
    {"queued errors run in exec",
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$3\r\n"
     "get\r\n"
     "$1\r\n"
     "a\r\n"
     "*3\r\n"
     "$4\r\n"
     "ping\r\n"
     "$1\r\n"
     "a\r\n"
     "$1\r\n"
     "b\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     "*1\r\n"
     "$5\r\n"
     "multi\r\n"
     "*2\r\n"
     "$3\r\n"
     "set\r\n"
     "$1\r\n"
     "a\r\n"
     "*1\r\n"
     "$4\r\n"
     "exec\r\n"
     ,
     "+OK\r\n"
     "+QUEUED\r\n"
     "+QUEUED\r\n"
     "*2\r\n"
     "$1\r\n"
     "1\r\n"
     "-ERR wrong number of arguments for 'ping' command\r\n"
     "+OK\r\n"
     "-ERR wrong number of arguments for 'set' command\r\n"
     "-EXECABORT Transaction discarded because of previous errors.\r\n"
     , 126, 202},
};
/* clang-format on */

static table *make_table(void)
{
    table *t = table_new(0, 0);
    assert_non_null(t);
    assert_int_equal(table_put(t, LIT("a"), LIT("1")), 0);
    assert_int_equal(table_put(t, LIT("b"), LIT("\"hello\"")), 0);
    assert_int_equal(table_put(t, LIT("e"), LIT("\"x\\\"y\"")), 0);
    assert_int_equal(table_put(t, LIT("u"), LIT("\"\\u00e9\"")), 0);
    assert_int_equal(table_put(t, LIT("n"), LIT("{\"k\": [1, 2]}")), 0);
    assert_int_equal(table_put(t, LIT("h?x"), LIT("\"q\"")), 0);
    return t;
}

/* Answers every request in stream[0..len) on client c; returns the
 * replies, and the sum of the results in *sum. */
static proto_buf run_stream(const resp_env *env, resp_client *c, const char *stream, size_t len, resp_result *sum)
{
    resp_reader r;
    resp_request req;
    proto_buf out = {0};
    resp_result res, total = {0};

    resp_reader_init(&r, NULL);
    assert_int_equal(resp_reader_feed(&r, stream, len), 0);
    while (resp_reader_next(&r, &req) == RESP_OK) {
        assert_int_equal(resp_execute(env, c, &req, &out, &res), 0);
        total.hits += res.hits;
        total.misses += res.misses;
        total.close |= res.close;
        total.error += res.error;
        total.commands += res.commands;
    }
    assert_int_equal(resp_reader_buffered(&r), 0);
    resp_reader_free(&r);
    if (sum != NULL)
        *sum = total;
    return out;
}

static void expect_bytes(const char *what, const char *got, size_t got_len, const char *want, size_t want_len)
{
    if (got_len == want_len && memcmp(got, want, want_len) == 0)
        return;
    size_t i = 0;
    while (i < got_len && i < want_len && got[i] == want[i])
        i++;
    size_t from = i > 40 ? i - 40 : 0;
    fail_msg("%s: replies differ at byte %zu (got %zu bytes, want %zu)\n  got:  ...%.*s\n  want: ...%.*s", what, i,
             got_len, want_len, (int)((got_len - from) < 120 ? got_len - from : 120), got + from,
             (int)((want_len - from) < 120 ? want_len - from : 120), want + from);
}

/* Runs requests (RESP) on a fresh client with id 7 and compares the replies. */
static void expect_session(const table *t, const char *requests, size_t rlen, const char *want, size_t wlen)
{
    resp_env env = {t, NULL, NULL, NULL};
    resp_client c;
    resp_client_init(&c, 7);
    proto_buf out = run_stream(&env, &c, requests, rlen, NULL);
    expect_bytes(requests, out.data != NULL ? out.data : "", out.len, want, wlen);
    proto_buf_free(&out);
    resp_client_free(&c);
}

#define EXPECT(t, req, want) expect_session((t), LIT(req), LIT(want))

static void test_replica_sessions(void **state)
{
    (void)state;
    table *t = make_table();
    for (size_t i = 0; i < sizeof(replica_sessions) / sizeof(replica_sessions[0]); i++) {
        const session *s = &replica_sessions[i];
        resp_env env = {t, NULL, NULL, NULL};
        resp_client c;
        resp_client_init(&c, 7);
        proto_buf out = run_stream(&env, &c, s->requests, s->requests_len, NULL);
        expect_bytes(s->name, out.data != NULL ? out.data : "", out.len, s->replies, s->replies_len);
        proto_buf_free(&out);
        resp_client_free(&c);
    }
    table_free(t);
}

/* Where evkv answers otherwise than the replica, on purpose. */
static void test_differences(void **state)
{
    (void)state;
    table *t = make_table();

    /* one database */
    EXPECT(t, "*2\r\n$6\r\nselect\r\n$1\r\n1\r\n", "-ERR DB index is out of range\r\n");
    /* RESP2 only: HELLO 3 as Redis answers a version it does not know */
    EXPECT(t, "*2\r\n$5\r\nhello\r\n$1\r\n3\r\n", "-NOPROTO unsupported protocol version\r\n");
    EXPECT(t, "*4\r\n$5\r\nhello\r\n$1\r\n3\r\n$7\r\nsetname\r\n$1\r\nx\r\n",
           "-NOPROTO unsupported protocol version\r\n");
    /* the caller's id */
    EXPECT(t, "*2\r\n$6\r\nclient\r\n$2\r\nid\r\n", ":7\r\n");
    EXPECT(
        t, "*1\r\n$5\r\nhello\r\n",
        "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:7\r\n"
        "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$7\r\nreplica\r\n$7\r\nmodules\r\n*0\r\n");
    EXPECT(
        t,
        "*7\r\n$5\r\nhello\r\n$1\r\n2\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$3\r\npwd\r\n$7\r\nSETNAME\r\n$2\r\nnm\r\n"
        "*2\r\n$6\r\nclient\r\n$7\r\ngetname\r\n",
        "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:7\r\n"
        "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$7\r\nreplica\r\n$7\r\nmodules\r\n*0\r\n$2\r\nnm\r\n");
    /* the configuration does not change */
    EXPECT(t, "*4\r\n$6\r\nconfig\r\n$3\r\nset\r\n$9\r\nmaxmemory\r\n$1\r\n1\r\n",
           "-ERR evkv does not change its configuration: CONFIG set is not supported\r\n");
    EXPECT(t, "*2\r\n$6\r\nCONFIG\r\n$9\r\nRESETSTAT\r\n",
           "-ERR evkv does not change its configuration: CONFIG RESETSTAT is not supported\r\n");
    /* a fixed list, in its own order */
    EXPECT(
        t,
        "*6\r\n$6\r\nconfig\r\n$3\r\nget\r\n$9\r\nmaxmemory\r\n$4\r\nsave\r\n$10\r\nappendonly\r\n$9\r\ndatabases\r\n",
        "*8\r\n$10\r\nappendonly\r\n$2\r\nno\r\n$9\r\ndatabases\r\n$1\r\n1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
        "$4\r\nsave\r\n$0\r\n\r\n");
    EXPECT(t, "*3\r\n$6\r\nconfig\r\n$3\r\nget\r\n$11\r\n*maxmemory*\r\n",
           "*4\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n");
    /* commands of Redis that evkv does not serve, in MULTI too */
    EXPECT(t, "*2\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n", "-ERR evkv does not serve the 'subscribe' command\r\n");
    EXPECT(t, "*2\r\n$6\r\nclient\r\n$4\r\nlist\r\n", "-ERR evkv does not serve the 'client|list' command\r\n");
    EXPECT(t, "*1\r\n$5\r\nmulti\r\n*2\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n*1\r\n$4\r\nexec\r\n",
           "+OK\r\n+QUEUED\r\n*1\r\n-ERR evkv does not serve the 'subscribe' command\r\n");
    /* COMMAND INFO of a command not served: as of one Redis does not know */
    EXPECT(t, "*3\r\n$7\r\ncommand\r\n$4\r\ninfo\r\n$3\r\nset\r\n", "*1\r\n$-1\r\n");
    table_free(t);
}

/* COMMAND, COMMAND COUNT and COMMAND DOCS agree on the commands served. */
static void test_command_lists(void **state)
{
    (void)state;
    table *t = make_table();
    resp_env env = {t, NULL, NULL, NULL};
    resp_client c;
    resp_client_init(&c, 1);

    proto_buf count = run_stream(&env, &c, LIT("*2\r\n$7\r\ncommand\r\n$5\r\ncount\r\n"), NULL);
    proto_buf all = run_stream(&env, &c, LIT("*1\r\n$7\r\ncommand\r\n"), NULL);
    proto_buf docs = run_stream(&env, &c, LIT("*2\r\n$7\r\ncommand\r\n$4\r\ndocs\r\n"), NULL);
    long long n = strtoll(count.data + 1, NULL, 10);
    assert_true(n >= 20);
    assert_int_equal(strtoll(all.data + 1, NULL, 10), n);
    assert_int_equal(strtoll(docs.data + 1, NULL, 10), 2 * n);
    /* every entry is Redis's own, get's among them */
    assert_non_null(memmem(all.data, all.len, LIT("*10\r\n$3\r\nget\r\n:2\r\n")));
    proto_buf_free(&count);
    proto_buf_free(&all);
    proto_buf_free(&docs);

    /* the generated table is sorted, as the lookup's binary search needs */
    for (size_t i = 1; i < resp_command_nspecs; i++)
        assert_true(strcmp(resp_command_specs[i - 1].name, resp_command_specs[i].name) < 0);
    resp_client_free(&c);
    table_free(t);
}

/* QUIT answers +OK and asks for a close, in MULTI too; an HTTP request is
 * closed with no answer, as Redis does. */
static void test_quit(void **state)
{
    (void)state;
    table *t = make_table();
    resp_env env = {t, NULL, NULL, NULL};
    resp_client c;
    resp_result res;

    resp_client_init(&c, 1);
    proto_buf out = run_stream(&env, &c, LIT("*1\r\n$4\r\nquit\r\n"), &res);
    assert_int_equal(res.close, 1);
    expect_bytes("quit", out.data, out.len, LIT("+OK\r\n"));
    proto_buf_free(&out);

    out = run_stream(&env, &c, LIT("*1\r\n$5\r\nmulti\r\n*1\r\n$4\r\nQUIT\r\n"), &res);
    assert_int_equal(res.close, 1);
    expect_bytes("multi quit", out.data, out.len, LIT("+OK\r\n+OK\r\n"));
    proto_buf_free(&out);

    out = run_stream(&env, &c, LIT("*2\r\n$4\r\nPOST\r\n$1\r\n/\r\n"), &res);
    assert_int_equal(res.close, 1);
    assert_int_equal(out.len, 0);
    proto_buf_free(&out);

    out = run_stream(&env, &c, LIT("*2\r\n$3\r\nget\r\n$1\r\nb\r\n"), &res);
    assert_int_equal(res.close, 0);
    assert_int_equal(res.error, 0);
    proto_buf_free(&out);

    /* errors are flagged for the caller's counters; EXEC's array is not one */
    resp_client_free(&c);
    resp_client_init(&c, 2);
    out = run_stream(
        &env, &c,
        LIT("*1\r\n$3\r\nfoo\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\nb\r\n*1\r\n$5\r\nmulti\r\n"
            "*1\r\n$3\r\nfoo\r\n*1\r\n$4\r\nexec\r\n*1\r\n$5\r\nmulti\r\n*1\r\n$3\r\nfoo\r\n*1\r\n$7\r\ndiscard\r\n"),
        &res);
    assert_int_equal(res.error, 5);
    assert_int_equal(res.commands, 4); /* multi, exec, multi, discard */
    proto_buf_free(&out);
    out = run_stream(&env, &c,
                     LIT("*1\r\n$5\r\nmulti\r\n*1\r\n$4\r\nping\r\n*2\r\n$3\r\nget\r\n$1\r\nb\r\n*1\r\n$4\r\nexec\r\n"),
                     &res);
    assert_int_equal(res.commands, 4); /* multi, exec, ping, get */
    assert_int_equal(res.error, 0);
    proto_buf_free(&out);
    resp_client_free(&c);
    table_free(t);
}

/* Hits and misses count every key lookup, inside EXEC too; a queued
 * command keeps its own copy of its arguments. */
static void test_counts_and_queue(void **state)
{
    (void)state;
    table *t = make_table();
    resp_env env = {t, NULL, NULL, NULL};
    resp_client c;
    resp_result res;
    resp_reader r;
    resp_request req;
    proto_buf out = {0};

    resp_client_init(&c, 1);
    proto_buf o = run_stream(&env, &c, LIT("*4\r\n$4\r\nmget\r\n$1\r\na\r\n$2\r\nzz\r\n$1\r\nb\r\n"), &res);
    assert_int_equal(res.hits, 2);
    assert_int_equal(res.misses, 1);
    proto_buf_free(&o);
    o = run_stream(&env, &c, LIT("*4\r\n$6\r\nexists\r\n$1\r\na\r\n$1\r\na\r\n$1\r\nq\r\n"), &res);
    assert_int_equal(res.hits, 2);
    assert_int_equal(res.misses, 1);
    proto_buf_free(&o);

    /* MULTI; GET b; the reader's buffer is reused before EXEC */
    resp_reader_init(&r, NULL);
    assert_int_equal(resp_reader_feed(&r, LIT("*1\r\n$5\r\nmulti\r\n*2\r\n$3\r\nget\r\n$1\r\nb\r\n")), 0);
    while (resp_reader_next(&r, &req) == RESP_OK) {
        assert_int_equal(resp_execute(&env, &c, &req, &out, &res), 0);
        assert_int_equal(res.hits + res.misses, 0);
    }
    resp_reader_release(&r);
    assert_int_equal(resp_reader_feed(&r, LIT("*2\r\n$3\r\nGET\r\n$2\r\nzz\r\n*1\r\n$4\r\nexec\r\n")), 0);
    assert_int_equal(resp_reader_next(&r, &req), RESP_OK);
    assert_int_equal(resp_execute(&env, &c, &req, &out, &res), 0);
    assert_int_equal(resp_reader_next(&r, &req), RESP_OK);
    assert_int_equal(resp_execute(&env, &c, &req, &out, &res), 0);
    assert_int_equal(res.hits, 1);
    assert_int_equal(res.misses, 1);
    expect_bytes("exec", out.data, out.len, LIT("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n$5\r\nhello\r\n$-1\r\n"));
    assert_int_equal(c.in_multi, 0);
    assert_int_equal(c.nqueued, 0);
    resp_reader_free(&r);
    proto_buf_free(&out);

    /* a client freed in MULTI frees its queue (ASan checks) */
    o = run_stream(
        &env, &c,
        LIT("*1\r\n$5\r\nmulti\r\n*2\r\n$3\r\nget\r\n$1\r\nb\r\n*3\r\n$6\r\nclient\r\n$7\r\nsetname\r\n$1\r\nx\r\n"),
        NULL);
    assert_int_equal(c.nqueued, 2);
    proto_buf_free(&o);
    resp_client_free(&c);
    table_free(t);
}

/* GET sends a string's bytes, unescaped, and other values' JSON text;
 * STRLEN is the length of what GET sends. */
static void test_value_kinds(void **state)
{
    (void)state;
    table *t = table_new(0, 0);
    assert_int_equal(table_put(t, LIT("plain"), LIT("\"Follow the white rabbit. \xf0\x9f\x90\xb0\"")), 0);
    assert_int_equal(table_put(t, LIT("empty"), LIT("\"\"")), 0);
    assert_int_equal(table_put(t, LIT("esc"), LIT("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0000e\\u00e9\\u20ac\"")), 0);
    assert_int_equal(table_put(t, LIT("pair"), LIT("\"\\ud83d\\udc36!\"")), 0);
    assert_int_equal(table_put(t, LIT("lone"), LIT("\"\\ud83d\"")), 0);
    assert_int_equal(table_put(t, LIT("num"), LIT("-1.5e3")), 0);
    assert_int_equal(table_put(t, LIT("obj"), LIT("{\"a\": [1, \"x\\n\"], \"b\": null}")), 0);
    assert_int_equal(table_put(t, LIT("t"), LIT("true")), 0);
    assert_int_equal(table_put(t, LIT("nul"), LIT("null")), 0);

    EXPECT(t, "*2\r\n$3\r\nget\r\n$5\r\nplain\r\n*2\r\n$6\r\nstrlen\r\n$5\r\nplain\r\n",
           "$29\r\nFollow the white rabbit. \xf0\x9f\x90\xb0\r\n:29\r\n");
    EXPECT(t, "*2\r\n$3\r\nget\r\n$5\r\nempty\r\n*2\r\n$6\r\nstrlen\r\n$5\r\nempty\r\n", "$0\r\n\r\n:0\r\n");
    EXPECT(t, "*2\r\n$3\r\nget\r\n$3\r\nesc\r\n*2\r\n$6\r\nstrlen\r\n$3\r\nesc\r\n",
           "$19\r\na\"b\\c/d\b\f\n\r\t\0e\xc3\xa9\xe2\x82\xac\r\n:19\r\n");
    EXPECT(t, "*2\r\n$3\r\nget\r\n$4\r\npair\r\n*2\r\n$6\r\nstrlen\r\n$4\r\npair\r\n",
           "$5\r\n\xf0\x9f\x90\xb6!\r\n:5\r\n");
    EXPECT(t, "*2\r\n$3\r\nget\r\n$4\r\nlone\r\n", "$3\r\n\xed\xa0\xbd\r\n");
    EXPECT(t, "*2\r\n$3\r\nget\r\n$3\r\nnum\r\n*2\r\n$6\r\nstrlen\r\n$3\r\nnum\r\n", "$6\r\n-1.5e3\r\n:6\r\n");
    EXPECT(t, "*2\r\n$3\r\nget\r\n$3\r\nobj\r\n", "$28\r\n{\"a\": [1, \"x\\n\"], \"b\": null}\r\n");
    EXPECT(t, "*4\r\n$4\r\nmget\r\n$1\r\nt\r\n$3\r\nnul\r\n$1\r\nx\r\n", "*3\r\n$4\r\ntrue\r\n$4\r\nnull\r\n$-1\r\n");
    EXPECT(t, "*2\r\n$4\r\ntype\r\n$3\r\nobj\r\n*2\r\n$3\r\nttl\r\n$3\r\nnum\r\n*2\r\n$4\r\npttl\r\n$1\r\nx\r\n",
           "+string\r\n:-1\r\n:-2\r\n");
    EXPECT(t, "*1\r\n$6\r\ndbsize\r\n", ":9\r\n");
    table_free(t);
}

/* Reads a SCAN reply: returns the next cursor, adds each key's count. */
static unsigned long parse_scan(const proto_buf *b, unsigned *seen, size_t nkeys)
{
    const char *p = b->data;
    assert_memory_equal(p, "*2\r\n$", 5);
    p += 5;
    size_t len = strtoul(p, (char **)&p, 10);
    p += 2;
    unsigned long cursor = strtoul(p, NULL, 10);
    p += len + 2;
    assert_int_equal(*p, '*');
    size_t n = strtoul(p + 1, (char **)&p, 10);
    p += 2;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(*p, '$');
        size_t klen = strtoul(p + 1, (char **)&p, 10);
        p += 2;
        assert_true(klen > 4 && memcmp(p, "key:", 4) == 0);
        size_t k = strtoul(p + 4, NULL, 10);
        assert_true(k < nkeys);
        seen[k]++;
        p += klen + 2;
    }
    assert_int_equal((size_t)(p - b->data), b->len);
    return cursor;
}

/* A full SCAN returns every key (here exactly once: the table never
 * changes) and ends with cursor 0, whatever COUNT; MATCH filters. */
static void test_scan_complete(void **state)
{
    (void)state;
    enum { NKEYS = 3000 };
    table *t = table_new(0, 0);
    char key[32], req[256];
    static unsigned seen[NKEYS];
    for (int i = 0; i < NKEYS; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        assert_int_equal(table_put(t, key, (size_t)n, LIT("\"v\"")), 0);
    }
    resp_env env = {t, NULL, NULL, NULL};
    resp_client c;
    resp_client_init(&c, 1);
    static const char *const counts[] = {NULL, "1", "7", "100", "100000"};
    for (size_t ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
        memset(seen, 0, sizeof(seen));
        unsigned long cursor = 0;
        int calls = 0;
        do {
            char cur[24];
            int cl = snprintf(cur, sizeof(cur), "%lu", cursor);
            int n = counts[ci] == NULL
                        ? snprintf(req, sizeof(req), "*2\r\n$4\r\nscan\r\n$%d\r\n%s\r\n", cl, cur)
                        : snprintf(req, sizeof(req), "*4\r\n$4\r\nSCAN\r\n$%d\r\n%s\r\n$5\r\ncount\r\n$%zu\r\n%s\r\n",
                                   cl, cur, strlen(counts[ci]), counts[ci]);
            proto_buf out = run_stream(&env, &c, req, (size_t)n, NULL);
            cursor = parse_scan(&out, seen, NKEYS);
            proto_buf_free(&out);
            assert_true(++calls <= (int)table_slots(t) + 1);
        } while (cursor != 0);
        for (int i = 0; i < NKEYS; i++)
            assert_int_equal(seen[i], 1);
    }

    /* MATCH key:1?? returns key:100 .. key:199 over a full walk */
    memset(seen, 0, sizeof(seen));
    unsigned long cursor = 0;
    do {
        char cur[24];
        int cl = snprintf(cur, sizeof(cur), "%lu", cursor);
        int n =
            snprintf(req, sizeof(req), "*4\r\n$4\r\nscan\r\n$%d\r\n%s\r\n$5\r\nMATCH\r\n$7\r\nkey:1??\r\n", cl, cur);
        proto_buf out = run_stream(&env, &c, req, (size_t)n, NULL);
        cursor = parse_scan(&out, seen, NKEYS);
        proto_buf_free(&out);
    } while (cursor != 0);
    for (int i = 0; i < NKEYS; i++)
        assert_int_equal(seen[i], i >= 100 && i < 200);

    /* a cursor past the end ends the walk */
    EXPECT(t, "*2\r\n$4\r\nscan\r\n$9\r\n999999999\r\n", "*2\r\n$1\r\n0\r\n*0\r\n");
    resp_client_free(&c);
    table_free(t);
}

static uint64_t fixed_random(void *arg)
{
    return *(uint64_t *)arg;
}

static void test_randomkey(void **state)
{
    (void)state;
    table *t = table_new(0, 0);
    uint64_t r = 12345;
    resp_env env = {t, NULL, fixed_random, &r};
    resp_client c;
    resp_client_init(&c, 1);

    proto_buf out = run_stream(&env, &c, LIT("*1\r\n$9\r\nrandomkey\r\n"), NULL);
    expect_bytes("empty", out.data, out.len, LIT("$-1\r\n"));
    proto_buf_free(&out);
    assert_int_equal(table_put(t, LIT("only"), LIT("1")), 0);
    for (r = 0; r < 64; r++) {
        out = run_stream(&env, &c, LIT("*1\r\n$9\r\nRANDOMKEY\r\n"), NULL);
        expect_bytes("one key", out.data, out.len, LIT("$4\r\nonly\r\n"));
        proto_buf_free(&out);
    }
    resp_client_free(&c);
    table_free(t);
}

static void fill_info(void *arg, resp_server_info *info)
{
    (void)arg;
    info->evkv_version = "9.9.9";
    info->pid = 4242;
    info->uptime_seconds = 200000;
    info->threads = 4;
    info->tcp_port = 6380;
    info->connected_clients = 3;
    info->maxclients = 500;
    info->total_connections_received = 11;
    info->total_commands_processed = 1234;
    info->instantaneous_ops_per_sec = 56.7;
    info->keyspace_hits = 70;
    info->keyspace_misses = 8;
    info->rejected_connections = 1;
    info->used_memory = 1536;
    info->used_memory_rss = 3 * 1024 * 1024;
    info->table_source = "/data/table.json";
    info->table_format = "json";
    info->table_load_seconds = 0.25;
    info->table_loaded_at = 1700000000;
    info->reloads = 2;
    info->reload_failures = 1;
    info->guide_requests = 900;
    info->resp_requests = 345;
}

/* A table_source longer than any line buffer. */
static void fill_info_long(void *arg, resp_server_info *info)
{
    info->table_source = arg;
}

static void expect_info(const proto_buf *b, const char *line)
{
    if (memmem(b->data, b->len, line, strlen(line)) == NULL)
        fail_msg("INFO lacks \"%s\"", line);
}

/* max_queued_bytes: the queue takes commands up to its bound; the one
 * that would go over is refused, and EXEC then aborts, as for any command
 * refused while queueing. DISCARD or EXEC empties it: a new transaction
 * starts from nothing. */
static void test_multi_queue_bound(void **state)
{
    (void)state;
    table *t = make_table();
    resp_env env = {t, NULL, NULL, NULL};
    resp_client c;
    resp_client_init(&c, 1);
    c.max_queued_bytes = 1000;

    proto_buf out = run_stream(&env, &c, LIT("MULTI\r\n"), NULL);
    proto_buf_free(&out);
    size_t queued = 0;
    for (;;) {
        out = run_stream(&env, &c, LIT("GET a\r\n"), NULL);
        int ok = out.len == 9 && memcmp(out.data, "+QUEUED\r\n", 9) == 0;
        if (!ok) {
            expect_bytes("over the bound", out.data, out.len,
                         LIT("-ERR MULTI queue over 1000 bytes: the transaction will abort\r\n"));
            proto_buf_free(&out);
            break;
        }
        proto_buf_free(&out);
        queued++;
        assert_true(c.queued_bytes <= 1000);
        assert_true(queued < 1000);
    }
    assert_true(queued > 5);
    assert_int_equal(c.nqueued, queued);
    out = run_stream(&env, &c, LIT("EXEC\r\n"), NULL);
    expect_bytes("exec", out.data, out.len, LIT("-EXECABORT Transaction discarded because of previous errors.\r\n"));
    proto_buf_free(&out);
    assert_int_equal(c.queued_bytes, 0);
    out = run_stream(&env, &c, LIT("MULTI\r\nGET a\r\nEXEC\r\n"), NULL);
    expect_bytes("a new transaction", out.data, out.len, LIT("+OK\r\n+QUEUED\r\n*1\r\n$1\r\n1\r\n"));
    proto_buf_free(&out);
    resp_client_free(&c);
    table_free(t);
}

/* INFO: Redis's layout and section choice, the caller's figures. */
static void test_info(void **state)
{
    (void)state;
    table *t = make_table();
    resp_env env = {t, fill_info, NULL, NULL};
    resp_client c;
    resp_client_init(&c, 1);

    proto_buf out = run_stream(&env, &c, LIT("*1\r\n$4\r\ninfo\r\n"), NULL);
    assert_memory_equal(out.data, "$", 1);
    const char *body = strstr(out.data, "\r\n") + 2;
    assert_int_equal(strtoul(out.data + 1, NULL, 10), out.len - (size_t)(body - out.data) - 2);
    assert_int_equal(strncmp(body, "# Server\r\nredis_version:7.0.15\r\n", 32), 0);
    static const char *const lines[] = {
        "\r\nprocess_id:4242\r\n",
        "\r\ntcp_port:6380\r\n",
        "\r\nuptime_in_seconds:200000\r\nuptime_in_days:2\r\n",
        "\r\n\r\n# Clients\r\nconnected_clients:3\r\ncluster_connections:0\r\nmaxclients:500\r\n",
        "\r\n\r\n# Memory\r\nused_memory:1536\r\nused_memory_human:1.50K\r\nused_memory_rss:3145728\r\n"
        "used_memory_rss_human:3.00M\r\n",
        "\r\n\r\n# Stats\r\ntotal_connections_received:11\r\ntotal_commands_processed:1234\r\n"
        "instantaneous_ops_per_sec:56\r\nrejected_connections:1\r\n",
        "\r\nkeyspace_hits:70\r\nkeyspace_misses:8\r\n",
        "\r\n\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n",
        "\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\ndb0:keys=6,expires=0,avg_ttl=0\r\n\r\n# Evkv\r\n"
        "evkv_version:9.9.9\r\nthreads:4\r\ntable_source:/data/table.json\r\ntable_format:json\r\ntable_keys:6\r\n",
        "\r\ntable_load_seconds:0.250\r\ntable_loaded_at:1700000000\r\nreloads:2\r\nreload_failures:1\r\n"
        "guide_requests:900\r\nresp_requests:345\r\n",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        expect_info(&out, lines[i]);
    assert_null(memmem(out.data, out.len, LIT("# Commandstats")));
    proto_buf_free(&out);

    /* sections as asked, in Redis's order, any case */
    out = run_stream(&env, &c, LIT("*3\r\n$4\r\ninfo\r\n$7\r\nCLIENTS\r\n$6\r\nserver\r\n"), NULL);
    assert_non_null(memmem(out.data, out.len, LIT("\r\n# Server\r\n")));
    assert_non_null(memmem(out.data, out.len, LIT("io_threads_active:0\r\n\r\n# Clients\r\n")));
    assert_null(memmem(out.data, out.len, LIT("# Memory")));
    expect_bytes("info tail", out.data + out.len - 31, 31, LIT("\nclients_in_timeout_table:0\r\n\r\n"));
    proto_buf_free(&out);

    out = run_stream(&env, &c, LIT("*2\r\n$4\r\ninfo\r\n$3\r\nall\r\n"), NULL);
    expect_info(&out, "\r\n\r\n# Commandstats\r\n\r\n# Errorstats\r\n\r\n# Latencystats\r\n\r\n# Cluster\r\n");
    proto_buf_free(&out);

    /* a long path comes whole */
    static char path[3002];
    memset(path, 'p', sizeof(path) - 1);
    path[0] = ':';
    resp_env env_long = {t, fill_info_long, NULL, path};
    out = run_stream(&env_long, &c, LIT("*2\r\n$4\r\ninfo\r\n$4\r\nevkv\r\n"), NULL);
    expect_info(&out, path);
    proto_buf_free(&out);

    /* an empty table has no db0 line */
    table *empty = table_new(0, 0);
    EXPECT(empty, "*2\r\n$4\r\ninfo\r\n$8\r\nkeyspace\r\n", "$12\r\n# Keyspace\r\n\r\n");
    table_free(empty);
    resp_client_free(&c);
    table_free(t);
}

/* ---- one list of commands: what a handler answers is what COMMAND lists ---- */

static int starts_with(const proto_buf *b, const char *prefix)
{
    size_t n = strlen(prefix);
    return b->len >= n && memcmp(b->data, prefix, n) == 0;
}

/* Runs argv (argc words) on a fresh client, outside MULTI; returns whether
 * a handler of evkv answered it (anything but the answers for a command
 * it does not serve: READONLY, "does not serve", CONFIG SET's refusal). */
static int answered_by_handler(const resp_env *env, const char *const *argv, size_t argc)
{
    size_t len[8];
    resp_request req = {argc, argv, len, 0};
    resp_client c;
    resp_result res;
    proto_buf out = {0};

    assert_true(argc <= 8);
    for (size_t i = 0; i < argc; i++)
        len[i] = strlen(argv[i]);
    resp_client_init(&c, 1);
    assert_int_equal(resp_execute(env, &c, &req, &out, &res), 0);
    int served = !starts_with(&out, "-READONLY ") && !starts_with(&out, "-ERR evkv does not serve the '") &&
                 !starts_with(&out, "-ERR evkv does not change its configuration");
    proto_buf_free(&out);
    resp_client_free(&c);
    return served;
}

/* Whether evkv answers the command or subcommand spec names with a handler:
 * it is asked with arguments of a valid arity ("0" each). */
static int spec_answered(const resp_env *env, const resp_command_spec *spec)
{
    char name[64];
    const char *argv[8];
    size_t argc = spec->arity < 0 ? (size_t)-spec->arity : (size_t)spec->arity, n = 0;

    snprintf(name, sizeof(name), "%s", spec->name);
    char *bar = strchr(name, '|');
    if (bar != NULL)
        *bar = '\0';
    argv[n++] = name;
    if (bar != NULL)
        argv[n++] = bar + 1;
    while (n < argc && n < 8)
        argv[n++] = "0";
    return answered_by_handler(env, argv, n);
}

/* Whether COMMAND INFO name gives an entry (not a null). */
static int command_info_has(const resp_env *env, const char *name)
{
    const char *argv[] = {"command", "info", name};
    size_t len[] = {7, 4, strlen(name)};
    resp_request req = {3, argv, len, 0};
    resp_client c;
    resp_result res;
    proto_buf out = {0};

    resp_client_init(&c, 1);
    assert_int_equal(resp_execute(env, &c, &req, &out, &res), 0);
    int has = out.len > 6 && memcmp(out.data, "*1\r\n*", 5) == 0;
    if (!has)
        assert_memory_equal(out.data, "*1\r\n$-1\r\n", 9);
    proto_buf_free(&out);
    resp_client_free(&c);
    return has;
}

/* PROTOCOL.md's list of the served commands (between its markers), as
 * words: each name, "(" and ")"; backticks, commas and spaces dropped. */
static proto_buf protocol_md_words(void)
{
    static const char begin[] = "<!-- served commands:", end[] = "<!-- end of the served commands -->";
    proto_buf words = {0};
    FILE *f = fopen(PROTOCOL_MD, "rb");
    char *text = calloc(1, 1 << 20);

    assert_non_null(f);
    assert_non_null(text);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    char *p = strstr(text, begin), *q = strstr(text, end);
    assert_non_null(p);
    assert_non_null(q);
    p = strchr(p, '\n');
    assert_true(n > 0 && p != NULL && p < q);
    for (; p < q; p++) {
        if (*p == '(' || *p == ')') {
            proto_buf_append(&words, p, 1);
            proto_buf_append(&words, " ", 1);
        } else if (*p != '`' && *p != ',' && *p != ' ' && *p != '\n') {
            proto_buf_append(&words, p, 1);
            if (p[1] == '`' || p[1] == ',' || p[1] == ' ' || p[1] == '\n' || p[1] == ')')
                proto_buf_append(&words, " ", 1);
        }
    }
    free(text);
    return words;
}

/* Appends spec's name to the words PROTOCOL.md should hold: a command's
 * name, or a subcommand's in its container's parentheses. */
static void add_listed(proto_buf *w, int *open, const char *name)
{
    const char *bar = strchr(name, '|');
    if (bar != NULL && !*open)
        proto_buf_append(w, "( ", 2);
    if (bar == NULL && *open)
        proto_buf_append(w, ") ", 2);
    *open = bar != NULL;
    for (const char *p = bar ? bar + 1 : name; *p; p++) {
        char up = (char)toupper((unsigned char)*p);
        proto_buf_append(w, &up, 1);
    }
    proto_buf_append(w, " ", 1);
}

/* Every command or subcommand of Redis's that a handler answers is in
 * COMMAND INFO, and every one there is answered by a handler; a container
 * is there when a subcommand of it is (or it answers alone, as COMMAND).
 * COMMAND COUNT counts those, COMMAND DOCS describes them, and PROTOCOL.md
 * lists the same, as scripts/gen-resp-commands writes it. */
static void test_served_are_listed(void **state)
{
    (void)state;
    table *t = make_table();
    resp_env env = {t, NULL, NULL, NULL};
    resp_client c;
    proto_buf want = {0};
    long long ntop = 0;
    int open = 0;

    for (size_t i = 0; i < resp_command_nspecs; i++) {
        const resp_command_spec *s = &resp_command_specs[i];
        int served = 0;
        if (s->flags & RESP_CMD_CONTAINER) {
            size_t n = strlen(s->name);
            if (s->arity == -1) /* COMMAND alone answers too */
                served = spec_answered(&env, s);
            for (size_t j = i + 1; j < resp_command_nspecs; j++) {
                const char *sub = resp_command_specs[j].name;
                if (strncmp(sub, s->name, n) != 0 || sub[n] != '|')
                    break;
                served |= spec_answered(&env, &resp_command_specs[j]);
            }
        } else {
            served = spec_answered(&env, s);
        }
        if (served != command_info_has(&env, s->name))
            fail_msg("%s: %s by a handler, but %s COMMAND INFO", s->name, served ? "answered" : "not answered",
                     served ? "not in" : "in");
        if (served) {
            ntop += strchr(s->name, '|') == NULL;
            add_listed(&want, &open, s->name);
        }
    }
    if (open)
        proto_buf_append(&want, ") ", 2);

    resp_client_init(&c, 1);
    proto_buf count = run_stream(&env, &c, LIT("*2\r\n$7\r\ncommand\r\n$5\r\ncount\r\n"), NULL);
    proto_buf docs = run_stream(&env, &c, LIT("*2\r\n$7\r\ncommand\r\n$4\r\ndocs\r\n"), NULL);
    assert_int_equal(strtoll(count.data + 1, NULL, 10), ntop);
    assert_int_equal(strtoll(docs.data + 1, NULL, 10), 2 * ntop);
    proto_buf md = protocol_md_words();
    if (md.len != want.len || memcmp(md.data, want.data, md.len) != 0)
        fail_msg("PROTOCOL.md lists\n%.*s\nwhere COMMAND has\n%.*s", (int)md.len, md.data, (int)want.len, want.data);
    proto_buf_free(&md);
    proto_buf_free(&count);
    proto_buf_free(&docs);
    proto_buf_free(&want);
    resp_client_free(&c);
    table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replica_sessions),  cmocka_unit_test(test_differences),
        cmocka_unit_test(test_command_lists),     cmocka_unit_test(test_quit),
        cmocka_unit_test(test_counts_and_queue),  cmocka_unit_test(test_value_kinds),
        cmocka_unit_test(test_scan_complete),     cmocka_unit_test(test_randomkey),
        cmocka_unit_test(test_multi_queue_bound), cmocka_unit_test(test_info),
        cmocka_unit_test(test_served_are_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
