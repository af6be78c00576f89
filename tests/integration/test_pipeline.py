"""integration.pipeline: pipelined requests are all answered, in order."""

import random

import evkv_test as t


def mixed_requests(n, seed):
    """n (request, expected answer) pairs: hits, misses, binary requests of
    several sizes and invalid actions, in a reproducible random order."""
    rnd = random.Random(seed)
    pairs = []
    for i in range(n):
        kind = rnd.randrange(6)
        if kind == 0:
            key = rnd.choice(list(t.TABLE))
            pairs.append((t.search_request(key), t.search_answer(key)))
        elif kind in (1, 2):
            key = f"miss-{i}-" + "".join(rnd.choice("ab\u00e9\U0001f436\n\"\\\x01") for _ in range(rnd.randrange(8)))
            pairs.append((t.search_request(key), t.search_answer(key)))
        elif kind == 3:
            data = bytes(rnd.randrange(256) for _ in range(rnd.choice((0, 1, 9, 10, 11, 300))))
            pairs.append((t.binary_request(data), t.binary_answer(data)))
        elif kind == 4:
            pairs.append((t.binary_request(b"double12"), t.binary_answer(b"double12")))
        else:
            action = rnd.choice(("double", "", "x" * 40))
            pairs.append((t.search_request("v", action=action),
                          t.result_answer(f"Error: invalid action '{action}'.")))
    return pairs


class PipelineTest(t.ServerTestCase):

    def setUp(self):
        self.srv = self.start_server()

    def run_pipeline(self, conn, pairs):
        data = b"".join(req for req, _ in pairs)
        sender = conn.send_in_background(data)  # one sendall of everything
        for i, (_, want) in enumerate(pairs):
            got = conn.read_answer().raw
            if got != want:
                self.fail(f"answer {i} of {len(pairs)}:\n got  {got[:300]!r}\n want {want[:300]!r}")
        sender.join(t.IO_TIMEOUT)
        self.assertFalse(sender.is_alive())
        self.assertEqual(sender.errors, [])

    def test_1000_pipelined_in_one_sendall(self):
        conn = self.connect(self.srv)
        self.run_pipeline(conn, mixed_requests(1000, seed=1))
        # The connection is still usable afterwards.
        self.assert_search(conn, "morpheus")

    def test_1000_pipelined_answers_arrive_without_more_input(self):
        # Send everything, then wait: no answer may wait for further bytes.
        conn = self.connect(self.srv)
        pairs = mixed_requests(1000, seed=2)
        conn.send(b"".join(req for req, _ in pairs))
        for i, (_, want) in enumerate(pairs):
            self.assertEqual(conn.read_answer().raw, want, f"answer {i}")

    def test_20000_pipelined_reading_while_writing(self):
        # Several megabytes each way: exercises output backpressure.
        conn = self.connect(self.srv)
        pairs = mixed_requests(20000, seed=3)
        self.run_pipeline(conn, pairs)

    def test_large_answers_pipelined(self):
        conn = self.connect(self.srv)
        pairs = []
        for i in range(50):
            key = f"{i}-" + "\u00e9" * 100000
            pairs.append((t.search_request(key), t.search_answer(key)))
        self.run_pipeline(conn, pairs)

    def test_pipelines_on_several_connections_do_not_mix(self):
        conns = [self.connect(self.srv) for _ in range(8)]
        all_pairs = [mixed_requests(500, seed=100 + i) for i in range(len(conns))]
        senders = [c.send_in_background(b"".join(r for r, _ in p)) for c, p in zip(conns, all_pairs)]
        for c, pairs in zip(conns, all_pairs):
            for i, (_, want) in enumerate(pairs):
                self.assertEqual(c.read_answer().raw, want, f"answer {i}")
        for s in senders:
            s.join(t.IO_TIMEOUT)
            self.assertEqual(s.errors, [])

    def test_pipeline_then_client_closes_without_reading(self):
        conn = t.Conn(self.srv.port)
        conn.send(b"".join(r for r, _ in mixed_requests(1000, seed=4)))
        conn.close()
        with self.srv.connect() as other:
            self.assert_search(other, "ring")


if __name__ == "__main__":
    t.main()
