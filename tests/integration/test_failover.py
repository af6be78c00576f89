"""integration.failover: three evkv replicas behind a real HAProxy, and
evkv-bench through it with every answer checked, while one replica is
killed with SIGKILL and started again, another stopped with SIGTERM and
started again, and the third reloaded with SIGHUP: no request fails. HAProxy
sends new connections elsewhere (retries, option redispatch, the guide
protocol's health check); the bench re-sends what a lost connection left
unanswered (--retries, default 3)."""

import json
import os
import signal
import subprocess
import time

import evkv_test as t
import test_redis_clients as rc
from test_bench import BENCH, BENCH_TIMEOUT
from test_haproxy import PING, PONG

REPLICAS = 3
RUN_SECONDS = 8


class FailoverTest(rc.ClientsTestCase):

    def replica(self, port, data):
        """An evkv replica on its own port (the same after a restart)."""
        srv = t.Server(argv=["--host", t.HOST, "--port", str(port), "--data", data, "--threads", "1"])
        self.addCleanup(self._cleanup_replica, srv)
        srv.wait_started()
        return srv

    @staticmethod
    def _cleanup_replica(srv):
        srv.kill()
        srv.close_files()

    def haproxy(self, ports):
        front = t.free_port()
        stats = self.path("haproxy.sock")
        cfg = self.path("haproxy.cfg")
        servers = "".join(f"    server evkv{i} {t.HOST}:{p} check inter 100ms fall 1 rise 2\n"
                          for i, p in enumerate(ports))
        with open(cfg, "w") as f:
            f.write(f"""global
    stats socket {stats} mode 600 level admin
defaults
    mode tcp
    retries 3
    option redispatch
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
frontend guide
    bind {t.HOST}:{front}
    default_backend replicas
backend replicas
    balance roundrobin
    option tcp-check
    tcp-check connect
    tcp-check send-binary {PING.hex()}
    tcp-check expect binary {PONG.hex()}
{servers}""")
        p, out = self.spawn([rc.program("haproxy"), "-db", "-f", cfg], "haproxy")
        rc.wait_until(lambda: p.poll() is not None or os.path.exists(stats), "haproxy's stats socket")
        self.assertIsNone(p.poll(), self.output(out))

        def up():
            rows = self.show_stat(stats)
            return sum(rows[("replicas", f"evkv{i}")]["status"] == "UP" for i in range(len(ports)))

        rc.wait_until(lambda: up() == len(ports), "haproxy marking every replica UP")
        return front, up

    def test_no_request_fails(self):
        data = self.path("table.tsv")
        with open(data, "w") as f:
            f.write("".join(f"key:{i:05d}\tvalue {i}\n" for i in range(5000)))
        ports = [t.free_port() for _ in range(REPLICAS)]
        replicas = [self.replica(p, data) for p in ports]
        front, up = self.haproxy(ports)
        report = self.path("bench.json")
        bench = subprocess.Popen([BENCH, "-h", t.HOST, "-p", str(front), "--data", data, "-c", "16", "-P", "8",
                                  "-d", str(RUN_SECONDS), "--json", report],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(bench.kill)
        try:
            time.sleep(1.5)
            replicas[0].proc.kill()  # SIGKILL: its connections are reset mid-stream
            replicas[0].proc.wait()
            time.sleep(1)
            replicas[1].stop()  # SIGTERM: answers what it read, then closes
            time.sleep(0.5)
            replicas[1] = self.replica(ports[1], data)
            replicas[2].send_signal(signal.SIGHUP)
            time.sleep(0.5)
            replicas[0] = self.replica(ports[0], data)
            rc.wait_until(lambda: up() == REPLICAS, "haproxy marking the restarted replicas UP")
            out, err = bench.communicate(timeout=BENCH_TIMEOUT)
        finally:
            bench.kill()
        self.assertEqual(bench.returncode, 0, out.decode() + err.decode())
        with open(report) as f:
            r = json.load(f)
        self.assertGreater(r["requests"], 10000, out.decode())
        self.assertEqual(r["errors"], 0, out.decode())
        self.assertGreater(r["retried"], 0, "nothing was lost in flight: the test saw no failover")
        self.assertEqual(r["hits"], r["requests"], out.decode())
        print(f"\nfailover: {r['requests']} requests, {r['retried']} retried, {r['errors']} errors")


if __name__ == "__main__":
    t.main()
