#!/usr/bin/env python3
"""Writes DIR/report.md and its plots from a scripts/loadtest run.

  scripts/report.py DIR [SERVER_START_LINE [COMMAND]]

Reads DIR/server.tsv (one row per scenario: server CPU and memory) and
DIR/<scenario>.json (evkv-bench --json), writes DIR/report.md,
DIR/throughput.png and DIR/latency.png (gnuplot).
"""
import csv
import json
import os
import subprocess
import sys


def load(dirname):
    rows = []
    with open(os.path.join(dirname, "server.tsv"), newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            path = os.path.join(dirname, r["scenario"] + ".json")
            r["bench"] = json.load(open(path)) if os.path.exists(path) else None
            rows.append(r)
    return rows


def connections(cfg):
    return cfg["threads"] * cfg["connections"]


def plots(dirname, rows):
    tp = os.path.join(dirname, "throughput.dat")
    lat = os.path.join(dirname, "latency.dat")
    with open(tp, "w") as t, open(lat, "w") as l:
        for r in rows:
            b = r["bench"]
            if not b:
                continue
            t.write('"%s"\n' % r["scenario"])
            for p in b["series"]:
                t.write("%d %d\n" % (p["second"], p["requests"]))
            t.write("\n\n")
            l.write('"%s"\n' % r["scenario"])
            for d in b["distribution"]:
                if d["percentile"] < 100:
                    l.write("%.6f %.1f\n" % (1.0 / (1.0 - d["percentile"] / 100.0), max(d["latency_us"], 0.1)))
            l.write("\n\n")
    n = sum(1 for r in rows if r["bench"])
    script = """
set terminal pngcairo size 1000,600 noenhanced
set key outside right
set grid
set output '{dir}/throughput.png'
set title 'Throughput over time'
set xlabel 'second'
set ylabel 'requests per second'
set logscale y
plot for [i=0:{last}] '{tp}' index i using 1:2 with linespoints title columnheader(1)
set output '{dir}/latency.png'
set title 'Latency by percentile'
set xlabel 'percentile'
set ylabel 'latency (us)'
set logscale xy
set xtics ("0%%" 1, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
plot for [i=0:{last}] '{lat}' index i using 1:2 with linespoints title columnheader(1)
""".format(dir=dirname, tp=tp, lat=lat, last=n - 1)
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


def main():
    dirname = sys.argv[1]
    start = sys.argv[2] if len(sys.argv) > 2 else ""
    rows = load(dirname)
    out = ["# evkv load test", ""]
    if start:
        out += ["Server: `%s`" % start, ""]
    command = sys.argv[3] if len(sys.argv) > 3 else "scripts/loadtest"
    out += ["Produced by `%s`. Latencies in microseconds (evkv-bench); server CPU time and resident memory "
            "from /proc." % command, ""]
    out.append("| scenario | evkv-bench | requests | errors | hits | misses | req/s | p50 | p90 | p99 | p99.9 | max "
               "| server CPU us/req | server peak RSS MiB | RSS per connection KiB |")
    out.append("|" + "---|" * 15)
    for r in rows:
        b = r["bench"]
        if not b:
            out.append("| %s | `%s` | bench failed (status %s) |%s" % (r["scenario"], r["args"], r["bench_status"],
                                                                     " |" * 12))
            continue
        lat = b["latency_us"]
        reqs = b["requests"]
        cpu = float(r["server_cpu_s"])
        peak = int(r["server_rss_kib"] or 0)
        before = int(r["server_rss_before_kib"] or 0)
        conns = connections(b["config"]) if not b["config"]["reconnect"] else 0
        per_conn = "%.1f" % ((peak - before) / conns) if conns >= 1000 else ""
        out.append("| %s | `%s` | %d | %d | %d | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %.1f | %s |" % (
            r["scenario"], r["args"], reqs, b["errors"], b["hits"], b["misses"], b["throughput"], lat["p50"],
            lat["p90"], lat["p99"], lat["p99.9"], lat["max"], cpu * 1e6 / reqs if reqs else 0, peak / 1024.0,
            per_conn))
    out += ["", "RSS per connection: (peak RSS during the scenario - RSS before it) / connections, for scenarios "
            "of 1000 connections or more.", "",
            "![throughput over time](throughput.png)", "", "![latency by percentile](latency.png)", ""]
    with open(os.path.join(dirname, "report.md"), "w") as f:
        f.write("\n".join(out))
    plots(dirname, rows)


if __name__ == "__main__":
    main()
