"""integration.haproxy: a real HAProxy health-checks evkv over the guide's
protocol, with the check docs/scaling.md gives: send a ping frame, expect
the pong. The frame is built here from the protocol, as a client builds it,
and must be the very bytes the page prints."""

import os
import re

import evkv_test as t
import test_redis_clients as rc

# The check's bytes, as hex for HAProxy's tcp-check.
PING = t.json_request({"action": "ping"})
PONG = t.json_encode({"result": "pong"})


def doc_hex(directive):
    """The hex string docs/scaling.md's haproxy.cfg gives after `directive`."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "scaling.md")
    with open(path, encoding="utf-8") as f:
        m = re.search(r"^\s*" + re.escape(directive) + r" ([0-9a-f]+)$", f.read(), re.M)
    assert m, f"docs/scaling.md has no `{directive} HEX` line"
    return m.group(1)


class GuideCheckTest(rc.ClientsTestCase):

    def haproxy(self, port):
        """HAProxy in front of port with the guide protocol's check;
        returns (front port, status function)."""
        front = t.free_port()
        _, _, row = self.start_haproxy(f"""frontend guide
    bind {t.HOST}:{front}
    default_backend evkv
backend evkv
    option tcp-check
    tcp-check connect
    tcp-check send-binary {PING.hex()}
    tcp-check expect binary {PONG.hex()}
    server evkv1 {t.HOST}:{port} check inter 100ms fall 2 rise 1
""")

        def status():
            r = row("evkv")
            return r["status"], r["check_status"]

        return front, status

    def test_doc_gives_these_bytes(self):
        self.assertEqual(doc_hex("tcp-check send-binary"), PING.hex())
        self.assertEqual(doc_hex("tcp-check expect binary"), PONG.hex())

    def test_up_then_down(self):
        srv = self.start_server()
        front, status = self.haproxy(srv.port)
        rc.wait_until(lambda: status()[0] == "UP", f"haproxy marking evkv UP ({status()})")
        self.assertEqual(status(), ("UP", "L7OK"))
        # requests go through, and the checks are answered and counted
        with t.Conn(front) as conn:
            self.assert_search(conn, "morpheus")
        srv.stop()
        rc.wait_until(lambda: status()[0] == "DOWN", f"haproxy marking evkv DOWN ({status()})")

    def test_a_server_that_answers_otherwise_is_down(self):
        # --echo sends the ping frame back: connected, but no pong
        srv = self.start_server("--echo")
        front, status = self.haproxy(srv.port)
        rc.wait_until(lambda: status()[0] == "DOWN" and status()[1].startswith("L7"),
                      f"haproxy marking the echo server DOWN for its answer ({status()})")


if __name__ == "__main__":
    t.main()
