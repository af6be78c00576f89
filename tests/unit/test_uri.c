/*
 * test_uri.c: unit tests of the clients' server URIs (client/uri.c):
 * every form -u takes, and the bad ones with their reasons.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "uri.h"

/* Parses text, which must be taken, and checks every field of the result. */
static void check_ok(const char *text, int is_unix, const char *host, const char *port, const char *path)
{
    evkv_uri u;
    char err[EVKV_URI_ERR_LEN] = "";
    if (evkv_uri_parse(text, &u, err, sizeof(err)) != 0)
        fail_msg("%s: refused: %s", text, err);
    assert_int_equal(u.is_unix, is_unix);
    assert_string_equal(u.host, host);
    assert_string_equal(u.port, port);
    assert_string_equal(u.path, path);
}

static void check_tcp(const char *text, const char *host, const char *port)
{
    check_ok(text, 0, host, port, "");
}

static void check_unix(const char *text, const char *path)
{
    check_ok(text, 1, "", "", path);
}

static void check_bad(const char *text, const char *why)
{
    evkv_uri u;
    char err[EVKV_URI_ERR_LEN] = "";
    if (evkv_uri_parse(text, &u, err, sizeof(err)) == 0)
        fail_msg("%s: taken", text);
    assert_string_equal(err, why);
}

/* TCP URIs, names and IPv4 and IPv6 addresses, and what they name. */
static const struct {
    const char *text, *host, *port;
} tcp_cases[] = {
    {"evkv://127.0.0.1:7000", "127.0.0.1", "7000"},
    {"evkv://localhost:1", "localhost", "1"},
    {"evkv://example.com:65535/", "example.com", "65535"},
    {"evkv://127.0.0.1", "127.0.0.1", "65432"},
    {"evkv://127.0.0.1/", "127.0.0.1", "65432"},
    {"EVKV://Host:80", "Host", "80"},
    {"Evkv://h%41st:80", "hAst", "80"},
    {"evkv://[::1]:7000", "::1", "7000"},
    {"evkv://[::1]", "::1", "65432"},
    {"evkv://[::1]/", "::1", "65432"},
    {"evkv://[fe80::1%25eth0]:9", "fe80::1%eth0", "9"},
    {"evkv://[2001:db8::ff]:00080", "2001:db8::ff", "00080"},
};

static void test_tcp(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(tcp_cases) / sizeof(tcp_cases[0]); i++)
        check_tcp(tcp_cases[i].text, tcp_cases[i].host, tcp_cases[i].port);
}

/* evkvs://: TCP over TLS; evkv:// and the Unix schemes are not. */
static void test_tls(void **state)
{
    static const struct {
        const char *text;
        int is_tls;
    } cases[] = {
        {"evkvs://127.0.0.1:6390", 1}, {"EVKVS://[::1]", 1},      {"evkv://127.0.0.1:6390", 0},
        {"unix:///tmp/x", 0},          {"evkv+unix:///tmp/x", 0},
    };
    (void)state;
    check_tcp("evkvs://example.com:6390/", "example.com", "6390");
    check_tcp("evkvs://[::1]", "::1", "65432");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        evkv_uri u;
        char err[EVKV_URI_ERR_LEN] = "";
        if (evkv_uri_parse(cases[i].text, &u, err, sizeof(err)) != 0)
            fail_msg("%s: refused: %s", cases[i].text, err);
        assert_int_equal(u.is_tls, cases[i].is_tls);
    }
    check_bad("evkvs://", "no host: write evkv://HOST[:PORT]");
    check_bad("evkvs+unix:///tmp/x", "expected evkv://HOST[:PORT], evkvs://HOST[:PORT] (TLS), evkv://[IPV6][:PORT], "
                                     "evkv+unix:///PATH or unix:///PATH");
}

static void test_unix(void **state)
{
    (void)state;
    check_unix("evkv+unix:///run/evkv.sock", "/run/evkv.sock");
    check_unix("unix:///tmp/x", "/tmp/x");
    check_unix("unix:/tmp/x", "/tmp/x");
    check_unix("EVKV+UNIX:///a%20b", "/a b");
    check_unix("evkv+unix:/", "/");
}

static void test_bad(void **state)
{
    static const char expected[] = "expected evkv://HOST[:PORT], evkvs://HOST[:PORT] (TLS), evkv://[IPV6][:PORT], "
                                   "evkv+unix:///PATH or unix:///PATH";
    static const char port_range[] = "the port must be a number from 1 to 65535";
    static const char escape[] = "a '%' must start an escape %XX of a byte other than 0";
    static const char no_host[] = "a Unix socket URI names no host: write evkv+unix:///PATH (three slashes) for /PATH";
    char long_path[300] = "unix:///";
    (void)state;

    check_bad("", expected);
    check_bad("http://127.0.0.1:65432", expected);
    check_bad("127.0.0.1:65432", expected);
    check_bad("evkv:/127.0.0.1", expected);
    check_bad("evkv://", "no host: write evkv://HOST[:PORT]");
    check_bad("evkv://:65432", "no host: write evkv://HOST[:PORT]");
    check_bad("evkv://127.0.0.1:", port_range);
    check_bad("evkv://127.0.0.1:0", port_range);
    check_bad("evkv://127.0.0.1:65536", port_range);
    check_bad("evkv://127.0.0.1:123456", port_range);
    check_bad("evkv://127.0.0.1:12a", port_range);
    check_bad("evkv://127.0.0.1:-1", port_range);
    check_bad("evkv://::1", "write an IPv6 address in brackets: evkv://[::1]:65432");
    check_bad("evkv://::1:65432", "write an IPv6 address in brackets: evkv://[::1]:65432");
    check_bad("evkv://[::1", "an IPv6 address needs its closing ']'");
    check_bad("evkv://[]:65432", "no address between '[' and ']'");
    check_bad("evkv://[127.0.0.1]:65432",
              "brackets are for an IPv6 address: evkv://[::1]:65432, evkv://127.0.0.1:65432");
    check_bad("evkv://[::1]65432", "expected ':' and a port after ']'");
    check_bad("evkv://[::1]:", port_range);
    check_bad("evkv://a@b@127.0.0.1:65432", "one '@' only: write an '@' of the user or password as %40");
    check_bad("evkv://us%zzer:pw@127.0.0.1", escape);
    check_bad("evkv://user:p%00w@127.0.0.1", escape);
    check_bad("evkv://127.0.0.1:65432/db", "nothing may follow HOST:PORT but one '/'");
    check_bad("evkv://127.0.0.1:65432?x=1", "nothing may follow HOST:PORT but one '/'");
    check_bad("evkv://127.0.0.1#frag", "nothing may follow HOST:PORT but one '/'");
    check_bad("evkv://h%zz:1", escape);
    check_bad("unix://relative/path", no_host);
    check_bad("evkv+unix://", no_host);
    check_bad("unix:relative", "the socket path must be absolute: evkv+unix:///PATH");
    check_bad("evkv+unix:", "the socket path must be absolute: evkv+unix:///PATH");
    check_bad("unix:///tmp/x?y", "a query or fragment ('?', '#') is not supported");
    check_bad("unix:///tmp/x#y", "a query or fragment ('?', '#') is not supported");
    check_bad("unix:///tmp/a%zz", escape);
    check_bad("unix:///tmp/a%00", escape);
    check_bad("unix:///tmp/a%4", escape);
    memset(long_path + 8, 'x', 200);
    check_bad(long_path, "too long");
}

/* USER[:PASSWORD]@: what to log in with, decoded, beside the address. */
static void test_user_information(void **state)
{
    static const struct {
        const char *text, *host, *port, *user, *password;
        int has_password, is_tls;
    } cases[] = {
        {"evkv://alice:s3cret@127.0.0.1:7000", "127.0.0.1", "7000", "alice", "s3cret", 1, 0},
        {"evkv://alice@localhost", "localhost", "65432", "alice", "", 0, 0},
        {"evkv://:pw@[::1]:7000/", "::1", "7000", "", "pw", 1, 0},
        {"evkv://a%40b:p%3Aw%25@h:1", "h", "1", "a@b", "p:w%", 1, 0},
        {"evkv://bob:@h:2", "h", "2", "bob", "", 1, 0},
        {"evkv://h:3", "h", "3", "", "", 0, 0},
        {"evkvs://alice:s3cret@example.com:6390", "example.com", "6390", "alice", "s3cret", 1, 1},
        {"EVKVS://carol@[::1]/", "::1", "65432", "carol", "", 0, 1},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        evkv_uri u;
        char err[EVKV_URI_ERR_LEN] = "";
        if (evkv_uri_parse(cases[i].text, &u, err, sizeof(err)) != 0)
            fail_msg("%s: refused: %s", cases[i].text, err);
        assert_string_equal(u.host, cases[i].host);
        assert_string_equal(u.port, cases[i].port);
        assert_string_equal(u.user, cases[i].user);
        assert_string_equal(u.password, cases[i].password);
        assert_int_equal(u.has_password, cases[i].has_password);
        assert_int_equal(u.is_tls, cases[i].is_tls);
    }
}

static void test_short_err_buffer(void **state)
{
    evkv_uri u;
    char err[8];
    (void)state;
    assert_int_equal(evkv_uri_parse("evkv://", &u, err, sizeof(err)), -1);
    assert_string_equal(err, "no host");
    assert_int_equal(evkv_uri_parse("evkv://", &u, NULL, 0), -1);
}

static void test_server_name(void **state)
{
    char buf[64];
    (void)state;
    evkv_server_name(buf, sizeof(buf), "127.0.0.1", "65432", NULL);
    assert_string_equal(buf, "127.0.0.1:65432");
    evkv_server_name(buf, sizeof(buf), "::1", "7000", NULL);
    assert_string_equal(buf, "[::1]:7000");
    evkv_server_name(buf, sizeof(buf), "ignored", "1", "/run/evkv.sock");
    assert_string_equal(buf, "unix:/run/evkv.sock");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp),
        cmocka_unit_test(test_unix),
        cmocka_unit_test(test_tls),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_user_information),
        cmocka_unit_test(test_short_err_buffer),
        cmocka_unit_test(test_server_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
