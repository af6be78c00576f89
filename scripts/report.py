#!/usr/bin/env python3
"""Writes report.md and its plots from a scripts/loadtest or scripts/compare run.

  scripts/report.py loadtest DIR --data FILE [--seed S] [--start LINE] [--command CMD] [--no-plots]
  scripts/report.py compare DIR --data FILE [--seed S] [--command CMD] [--no-plots] [--evkv-rss KIB]
                    [--redis-rss KIB] [--evkv-load S] [--redis-load S] [--evkv-threads N]
                    [--redis-version V]
  scripts/report.py redis-benchmark-json CSV REQUESTS OUT

loadtest reads DIR/server.tsv (one row per scenario: the server's CPU time
and memory) and DIR/SCENARIO.json (evkv-bench --json); compare reads
DIR/runs.tsv (one row per run, by evkv-bench or redis-benchmark) and
DIR/SCENARIO-SERVER-ROUND.json (evkv-bench's) or
DIR/SCENARIO-redis-benchmark-SERVER-ROUND.json. redis-benchmark-json turns
redis-benchmark --csv's line for a run of REQUESTS requests into the part
of evkv-bench's --json that compare reads, in OUT. loadtest and compare
write DIR/report.md, DIR/throughput.png and DIR/latency.png (gnuplot), and
print the report's text on stdout. The key count and value size are read
from the data file itself, so that the report states what was served.
"""
import argparse
import csv
import json
import math
import os
import platform
import statistics
import subprocess

# Okabe and Ito's colours, told apart by most colour-blind readers too;
# each scenario keeps its colour in every panel and plot.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
SERVER_COLOURS = {"evkv": "#0072B2", "redis": "#D55E00"}
SERVER_NAMES = {"evkv": "evkv", "redis": "Redis"}

# Scenarios of this many connections or more take their own panel: setting
# their connections up dominates their first second and their latencies.
MANY_CONNECTIONS = 1000

# Percentile axis: x = 1 / (1 - p), labelled with p. The ticks in the
# order they are kept while they fit: those told apart most often first.
PERCENTILE_TICKS = [(10, "90%"), (100, "99%"), (1000, "99.9%"), (2, "50%"), (10000, "99.99%"),
                    (100000, "99.999%"), (1, "0%")]

WIDTH = 1100
GNUPLOT_HEAD = """set terminal pngcairo size %d,{height} noenhanced font 'DejaVu Sans,10'
set grid
set key outside right top
set format y '%%.0s%%c'
""" % WIDTH

# Compare's panels: at most this many side by side, in rows of ROW_HEIGHT
# pixels under a TOP_HEIGHT strip for the plot's title.
PANEL_COLUMNS = 3
ROW_HEIGHT = 400
TOP_HEIGHT = 40
# Pixels around a panel's plot area: left (tick labels, y label), right,
# top (a title of two lines), bottom (tick labels, x label, key).
PANEL_LEFT, PANEL_RIGHT, PANEL_TOP, PANEL_BOTTOM = 80, 35, 50, 80


def percentile_ticks(xmax, width_px):
    """A set xtics command for a percentile axis from 1 to xmax (log scale)
    on width_px pixels: the ticks of PERCENTILE_TICKS, in their order, that
    fit without their labels touching (gnuplot reads a tic label as a
    format: %% is a percent sign)."""
    decades = max(math.log10(xmax), 1e-9)
    px = lambda x: math.log10(x) / decades * width_px
    label_px = lambda label: 7 * len(label) + 8
    kept = []
    for x, label in PERCENTILE_TICKS:
        if x > xmax * 1.0001:
            continue
        if all(abs(px(x) - px(k)) >= (label_px(label) + label_px(l)) / 2 for k, l in kept):
            kept.append((x, label))
    kept.sort()
    return "set xtics (%s)\nset mxtics 10\n" % ", ".join('"%s" %g' % (l.replace("%", "%%"), x) for x, l in kept)


def percentile_xmax(points):
    """The power of ten at or above the largest x = 1 / (1 - p) to plot."""
    top = max((x for x, _ in points), default=10)
    return 10 ** max(1, math.ceil(math.log10(top) - 1e-9))


def grid(count):
    """(columns, rows) of compare's panels."""
    cols = min(PANEL_COLUMNS, count)
    return cols, (count + cols - 1) // cols


def grid_height(count):
    return TOP_HEIGHT + ROW_HEIGHT * grid(count)[1]


def panel_box(n, count):
    """(left, right, bottom, top) of panel n's plot area in screen
    coordinates, the panels filling rows of grid(count) columns."""
    cols, _ = grid(count)
    height = float(grid_height(count))
    col, row = n % cols, n // cols
    cell_top = TOP_HEIGHT + row * ROW_HEIGHT
    left = (float(col) * WIDTH / cols + PANEL_LEFT) / WIDTH
    right = (float(col + 1) * WIDTH / cols - PANEL_RIGHT) / WIDTH
    top = 1 - (cell_top + PANEL_TOP) / height
    bottom = 1 - (cell_top + ROW_HEIGHT - PANEL_BOTTOM) / height
    return left, right, bottom, top


def panel_margins(n, count):
    left, right, bottom, top = panel_box(n, count)
    return ("set lmargin at screen %.4f\nset rmargin at screen %.4f\n"
            "set bmargin at screen %.4f\nset tmargin at screen %.4f\n" % (left, right, bottom, top))


def panel_title(name):
    """A panel's title, the client in parentheses on a line of its own so
    that titles side by side do not run into each other."""
    return 'set title "%s"\n' % name.replace("\\", "\\\\").replace('"', '\\"').replace(" (", "\\n(")


def rate_ticks(top):
    """(axis top, set ytics command) for a rate axis from 0 to at least
    top, 4 to 7 ticks labelled as si() does but without rounding two
    ticks to the same label (1.2M, 1.4M rather than 1M, 1M)."""
    top = max(top, 1.0)
    mag = 10 ** math.floor(math.log10(top / 4))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if top / (m * mag) <= 6)
    count = int(math.ceil(top / step - 1e-9))
    ticks = []
    for i in range(count + 1):
        v = i * step
        label = "0"
        for div, suffix in ((1e6, "M"), (1e3, "k")):
            if v >= div:
                label = "%g%s" % (round(v / div, 6), suffix)
                break
        else:
            if v:
                label = "%g" % v
        ticks.append('"%s" %r' % (label, v))
    return count * step, "set ytics (%s)\n" % ", ".join(ticks)


def margins(n, count, key_outside):
    """gnuplot margins for panel n of count side by side (count 1: the
    whole width), fixed so that panels stacked one above the other share
    their x axis's place, whatever their tick and key labels."""
    left, width = float(n) / count, 1.0 / count
    right = left + width - (0.17 if key_outside else 0.035)
    return "set lmargin at screen %.3f\nset rmargin at screen %.3f\n" % (left + 0.075, right)


def fmt_ms(us):
    """A latency in microseconds, written in milliseconds with three
    significant digits (0.114, 4.62, 156)."""
    ms = us / 1000.0
    if ms >= 100:
        return "%.0f" % ms
    if ms >= 10:
        return "%.1f" % ms
    if ms >= 1:
        return "%.2f" % ms
    return "%.3f" % ms


def si(x):
    """A rate for a plot label: 652k, 1.30M."""
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if x >= div:
            v = x / div
            return ("%.0f" if v >= 100 else "%.1f" if v >= 10 else "%.2f") % v + suffix
    return "%.0f" % x


def fmt_int(x):
    return "{:,.0f}".format(x)


def data_facts(path, seed):
    """Keys and value size of the data file as it is (TSV of scripts/gen-data)."""
    keys, size = 0, None
    with open(path, "rb") as f:
        for line in f:
            if size is None:
                size = len(line.rstrip(b"\n").partition(b"\t")[2])
            keys += 1
    text = "%s keys of %s bytes (`scripts/gen-data` seed %s), `%s`" % (
        fmt_int(keys), size if size is not None else 0, seed, os.path.basename(path))
    return keys, size, text


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d cores%s, Linux %s; client and server on the same machine (loopback)" % (
        os.cpu_count() or 0, " (%s)" % model if model else "", platform.release())


def full_seconds(bench):
    """The per-second series without the partial last second and the zero
    seconds that follow the run: only seconds that ended within it."""
    end = bench.get("elapsed_s") or 0
    return [(p["second"], p["requests"]) for p in bench.get("series", [])
            if p["second"] <= end + 0.05]


def distribution(bench):
    """(1 / (1 - p), latency us) for the percentiles below 100."""
    return [(1.0 / (1.0 - d["percentile"] / 100.0), max(d["latency_us"], 0.1))
            for d in bench.get("distribution", []) if d["percentile"] < 100]


def latency_unit(benches):
    """ms (as in report.md) when the slowest latency to plot is 1 ms or
    more, else us."""
    top = max((lat for b in benches for _, lat in distribution(b)), default=0)
    return ("ms", 1000.0) if top >= 1000 else ("us", 1.0)


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


def write_blocks(path, blocks):
    """A gnuplot data file: one block (index) per (title, points)."""
    with open(path, "w") as f:
        for title, points in blocks:
            f.write('"%s"\n' % title)
            for x, y in points:
                f.write("%r %r\n" % (x, y))
            f.write("\n\n")


def finish(a, lines, plots):
    """Writes the report's lines to DIR/report.md and stdout, then the
    plots (unless --no-plots)."""
    text = "\n".join(lines)
    with open(os.path.join(a.dir, "report.md"), "w") as f:
        f.write(text)
    print(text)
    if not a.no_plots:
        plots()


def connections(cfg):
    return cfg["threads"] * cfg["connections"]


# ---- loadtest


def loadtest_rows(dirname):
    rows = []
    with open(os.path.join(dirname, "server.tsv"), newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            path = os.path.join(dirname, r["scenario"] + ".json")
            r["bench"] = json.load(open(path)) if os.path.exists(path) else None
            rows.append(r)
    return rows


def many(row):
    b = row["bench"]
    return b is not None and not b["config"]["reconnect"] and connections(b["config"]) >= MANY_CONNECTIONS


def loadtest_plots(dirname, rows):
    measured = [r for r in rows if r["bench"]]
    if not measured:
        return
    panels = [("fewer than 1,000 connections", [r for r in measured if not many(r)]),
              ("10,000 connections (set up in the first second; 10,000 requests in flight wait their turn)",
               [r for r in measured if many(r)])]
    panels = [(title, rs) for title, rs in panels if rs]
    # Colours by place in a panel: the lines that share a panel differ most.
    colour = {r["scenario"]: COLOURS[i % len(COLOURS)] for _, rs in panels for i, r in enumerate(rs)}
    height = 380 * len(panels) + 40

    script = GNUPLOT_HEAD.format(height=height)
    script += "set output '%s'\nset multiplot layout %d,1 title 'Throughput over time (full seconds only)'\n" % (
        os.path.join(dirname, "throughput.png"), len(panels))
    for n, (title, rs) in enumerate(panels):
        path = os.path.join(dirname, "throughput-%d.dat" % n)
        write_blocks(path, [(r["scenario"], full_seconds(r["bench"])) for r in rs])
        last = max((s for r in rs for s, _ in full_seconds(r["bench"])), default=1)
        script += margins(0, 1, True)
        script += ("set title '%s'\nset xlabel 'second of the run'\nset ylabel 'requests per second'\n"
                   "set logscale y\nset xrange [0.5:%g]\nset xtics %d\n" % (title, last + 0.5, max(1, last // 10)))
        script += "plot " + ", ".join(
            "'%s' index %d using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '%s' title columnheader(1)" % (
                path, i, colour[r["scenario"]]) for i, r in enumerate(rs)) + "\n"
    script += "unset multiplot\n"

    script += "set output '%s'\nset multiplot layout %d,1 title 'Latency by percentile'\n" % (
        os.path.join(dirname, "latency.png"), len(panels))
    script += "set logscale xy\nset format y '%g'\n"
    for n, (title, rs) in enumerate(panels):
        unit, div = latency_unit([r["bench"] for r in rs])
        path = os.path.join(dirname, "latency-%d.dat" % n)
        write_blocks(path, [(r["scenario"], [(x, y / div) for x, y in distribution(r["bench"])]) for r in rs])
        script += margins(0, 1, True)
        xmax = percentile_xmax([p for r in rs for p in distribution(r["bench"])])
        script += "set xrange [1:%g]\n" % xmax + percentile_ticks(xmax, WIDTH * (1 - 0.075 - 0.17))
        script += "set title '%s'\nset xlabel 'percentile'\nset ylabel 'latency (%s)'\n" % (title, unit)
        script += "plot " + ", ".join(
            "'%s' index %d using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '%s' title columnheader(1)" % (
                path, i, colour[r["scenario"]]) for i, r in enumerate(rs)) + "\n"
    script += "unset multiplot\n"
    gnuplot(script)


def loadtest_report(a):
    rows = loadtest_rows(a.dir)
    _, _, data = data_facts(a.data, a.seed)
    out = ["# evkv load test", ""]
    out += ["Produced by `%s`." % (a.command or "scripts/loadtest"), "",
            "- Data: %s" % data,
            "- Machine: %s" % machine()]
    if a.start:
        out.append("- Server: `%s`" % a.start)
    out += ["", "| scenario | evkv-bench | req/s | errors | p50 (ms) | p99 (ms) | max (ms) "
            "| server CPU (µs/req) | server peak RSS (MiB) | RSS per connection (KiB) |",
            "|" + "---|" * 2 + "---:|" * 8]
    for r in rows:
        b = r["bench"]
        if not b:
            out.append("| %s | `%s` | failed (evkv-bench exit status %s) |%s" % (
                r["scenario"], r["args"], r["bench_status"], " |" * 7))
            continue
        lat = b["latency_us"]
        reqs = b["requests"]
        cpu = float(r["server_cpu_s"])
        peak = int(r["server_rss_kib"] or 0)
        before = int(r["server_rss_before_kib"] or 0)
        per_conn = ""
        if many(r) and r is next(x for x in rows if many(x)):
            per_conn = "%.1f" % ((peak - before) / connections(b["config"]))
        out.append("| %s | `%s` | %s | %s | %s | %s | %s | %.2f | %.1f | %s |" % (
            r["scenario"], r["args"], fmt_int(b["throughput"]), fmt_int(b["errors"]), fmt_ms(lat["p50"]),
            fmt_ms(lat["p99"]), fmt_ms(lat["max"]), cpu * 1e6 / reqs if reqs else 0, peak / 1024.0, per_conn))
    out += ["",
            "- Latencies from evkv-bench's histogram (within 0.8%), from when each request was sent "
            "(open loop: when it was scheduled).",
            "- The 10,000-connection scenarios (idle-10k, conns-10k) include setting up their 10,000 "
            "connections, in their first second: that is in their high percentiles and their max. In "
            "conns-10k, 10,000 requests are in flight at once, so each waits for the others (latency = "
            "connections / throughput). Both are plotted in a panel of their own.",
            "- Server CPU time and resident memory come from /proc; RSS per connection is (peak RSS "
            "during the scenario - RSS before it) / connections, for the first scenario of 1,000 "
            "connections or more (the later ones reuse the memory it freed).",
            "- The throughput plot shows the run's full seconds only (the last, partial one left out).",
            "", "![throughput over time](throughput.png)", "", "![latency by percentile](latency.png)", ""]
    finish(a, out, lambda: loadtest_plots(a.dir, rows))


# ---- compare


def compare_runs(dirname):
    """scenario -> server -> [run], a run being runs.tsv's row with its
    bench results ("bench", None when the bench wrote none) and the server's
    CPU time per request ("cpu_us"). A redis-benchmark run's scenario is
    named "SCENARIO (redis-benchmark)"."""
    runs = {}
    with open(os.path.join(dirname, "runs.tsv"), newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            client = r.get("client") or "evkv-bench"
            name = r["scenario"] if client == "evkv-bench" else "%s-%s" % (r["scenario"], client)
            path = os.path.join(dirname, "%s-%s-%s.json" % (name, r["server"], r["round"]))
            b = json.load(open(path)) if os.path.exists(path) else None
            r["bench"] = b
            r["cpu_us"] = float(r["cpu_s"]) * 1e6 / b["requests"] if b and b["requests"] else float("nan")
            if client != "evkv-bench":
                r["scenario"] = "%s (%s)" % (r["scenario"], client)
            runs.setdefault(r["scenario"], {}).setdefault(r["server"], []).append(r)
    return runs


def redis_benchmark_json(a):
    """redis-benchmark --csv's result line as evkv-bench --json's figures
    that compare reads: requests, throughput, latencies in us (min, p50,
    p95, p99, max, mean) and a distribution of those. redis-benchmark
    checks no answer: errors is 0."""
    with open(a.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    row = rows[-1]
    lat = {k: round(float(row[k + "_latency_ms"]) * 1000, 1) for k in ("min", "p50", "p95", "p99", "max")}
    lat["mean"] = round(float(row["avg_latency_ms"]) * 1000, 1)
    out = {"requests": int(a.requests), "errors": 0, "throughput": round(float(row["rps"]), 1),
           "latency_us": lat, "client": "redis-benchmark", "test": row["test"],
           "distribution": [{"percentile": p, "latency_us": lat[k]} for p, k in
                            ((0, "min"), (50, "p50"), (95, "p95"), (99, "p99"), (100, "max"))]}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2)


def spread(values, fmt):
    """'median (min-max)' of the values, or the median alone when the
    values do not differ as written."""
    med, lo, hi = fmt(statistics.median(values)), fmt(min(values)), fmt(max(values))
    return med if lo == hi else "%s (%s-%s)" % (med, lo, hi)


def median_run(runs):
    """The run of median throughput (the lower of two middle ones)."""
    ok = sorted((r for r in runs if r["bench"]), key=lambda r: r["bench"]["throughput"])
    return ok[(len(ok) - 1) // 2] if ok else None


def compare_plots(dirname, runs):
    """throughput.png and latency.png: a panel per scenario, at most
    PANEL_COLUMNS side by side, in as many rows as needed."""
    names = [n for n in runs if any(r["bench"] for s in runs[n].values() for r in s)]
    if not names:
        return
    count = len(names)
    script = GNUPLOT_HEAD.format(height=grid_height(count))
    script += ("set output '%s'\nset multiplot title 'Throughput: median of the rounds, "
               "bars from the slowest to the fastest round'\n" % os.path.join(dirname, "throughput.png"))
    script += ("unset key\nset style fill solid 0.8 border -1\nset boxwidth 0.6\n"
               "set xrange [-0.6:1.6]\nset ylabel 'requests per second'\nset xtics scale 0\n")
    for n, name in enumerate(names):
        path = os.path.join(dirname, "compare-throughput-%d.dat" % n)
        top = 0
        with open(path, "w") as f:
            for i, server in enumerate(("evkv", "redis")):
                tp = [r["bench"]["throughput"] for r in runs[name].get(server, []) if r["bench"]]
                if tp:
                    med = statistics.median(tp)
                    top = max(top, max(tp))
                    f.write("%d %s %r %r %r %s\n" % (i, SERVER_NAMES[server], med, min(tp), max(tp), si(med)))
        # Room above the fastest round's bar for the median's label.
        ymax, ytics = rate_ticks(top * 1.15)
        script += panel_margins(n, count) + panel_title(name) + ytics
        script += "set yrange [0:%r]\nset xtics ('evkv' 0, 'Redis' 1)\n" % ymax
        script += ("plot '{p}' every ::0::0 using 1:3 with boxes lc rgb '{e}', "
                   "'{p}' every ::1::1 using 1:3 with boxes lc rgb '{r}', "
                   "'{p}' using 1:3:4:5 with yerrorbars lc rgb 'black' pt 0 ps 0 lw 1.5, "
                   "'{p}' using 1:5:6 with labels offset 0,0.9 tc rgb 'black' font ',11'\n").format(
                       p=path, e=SERVER_COLOURS["evkv"], r=SERVER_COLOURS["redis"])
    script += "unset multiplot\n"

    # One latency unit for every panel.
    meds = [{s: r for s, r in ((s, median_run(rs)) for s, rs in runs[name].items()) if r} for name in names]
    unit, div = latency_unit([r["bench"] for med in meds for r in med.values()])
    script += ("set output '%s'\nset multiplot title 'Latency by percentile (the round of median "
               "throughput), in %s'\n" % (os.path.join(dirname, "latency.png"), unit))
    script += ("unset yrange\nset autoscale y\nset logscale xy\nset ytics autofreq\nset xtics scale default\n"
               "set format y '%g'\nset xlabel 'percentile'\nset ylabel 'latency (" + unit + ")'\n")
    for n, (name, med) in enumerate(zip(names, meds)):
        path = os.path.join(dirname, "compare-latency-%d.dat" % n)
        order = [s for s in ("evkv", "redis") if s in med]
        blocks = [(SERVER_NAMES[s], distribution(med[s]["bench"])) for s in order]
        write_blocks(path, [(t, [(x, y / div) for x, y in points]) for t, points in blocks])
        left, right, bottom, top = panel_box(n, count)
        xmax = percentile_xmax([p for _, points in blocks for p in points])
        # The key under the x axis's label, where it hides no curve.
        script += panel_margins(n, count) + panel_title(name)
        script += "set xrange [1:%g]\n" % xmax + percentile_ticks(xmax, (right - left) * WIDTH)
        script += "set key horizontal center bottom at screen %.4f,%.4f samplen 2\n" % (
            (left + right) / 2, bottom - 62.0 / grid_height(count))
        script += "plot " + ", ".join(
            "'%s' index %d using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb '%s' title columnheader(1)" % (
                path, i, SERVER_COLOURS[s]) for i, s in enumerate(order)) + "\n"
    script += "unset multiplot\n"
    gnuplot(script)


def compare_report(a):
    runs = compare_runs(a.dir)
    keys, _, data = data_facts(a.data, a.seed)
    rounds = max((int(r["round"]) for s in runs.values() for rs in s.values() for r in rs), default=0)
    out = ["# evkv and Redis compared", ""]
    out += ["Produced by `%s`." % (a.command or "scripts/compare"), "",
            "- Data: %s, in both servers" % data,
            "- Servers: evkv with %s worker thread%s; Redis %s, no persistence" % (
                a.evkv_threads, "" if a.evkv_threads == "1" else "s", a.redis_version or ""),
            "- Client: evkv-bench for both (`--protocol resp` for Redis, and for evkv's RESP listener in "
            "the resp-* scenarios), the runs alternating; in the resp-* scenarios, redis-benchmark too, "
            "as a second client that checks no answer (its rows say so). An MGET is one request: "
            "resp-mget-10's keys/s are 10 times its req/s",
            "- Machine: %s" % machine(), ""]
    if rounds == 1:
        out += ["**One round: no spread.** Each figure below is a single run, which can be off by "
                "10% or more on a busy machine; `--rounds 3` or more shows how much the figures move.", ""]
    out += ["## Each server", "",
            "Median of %d round%s, (slowest-fastest round) beside it." % (rounds, "" if rounds == 1 else "s"), "",
            "| scenario | server | req/s | p50 (ms) | p99 (ms) | server CPU (µs/req) | errors |",
            "|---|---|---:|---:|---:|---:|---:|"]
    medians = {}
    for name, servers in runs.items():
        for server in ("evkv", "redis"):
            rs = servers.get(server, [])
            ok = [r["bench"] for r in rs if r["bench"]]
            failed = [r["status"] for r in rs if not r["bench"]]
            if not ok:
                out.append("| %s | %s | failed (%s exit status %s) | | | | |" % (
                    name, SERVER_NAMES[server], (rs[0].get("client") if rs else None) or "evkv-bench",
                    ", ".join(failed)))
                continue
            tp = [b["throughput"] for b in ok]
            p50 = [b["latency_us"]["p50"] for b in ok]
            p99 = [b["latency_us"]["p99"] for b in ok]
            cpu = [r["cpu_us"] for r in rs if r["bench"]]
            medians[(name, server)] = (statistics.median(tp), statistics.median(p99), statistics.median(cpu))
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                name, SERVER_NAMES[server], spread(tp, fmt_int), spread(p50, fmt_ms), spread(p99, fmt_ms),
                spread(cpu, lambda x: "%.2f" % x), fmt_int(sum(b["errors"] for b in ok))))
    out += ["", "## evkv / Redis", "",
            "Ratios of the medians: throughput above 1 and the others below 1 favour evkv.", "",
            "| scenario | throughput | p99 | server CPU per request |", "|---|---:|---:|---:|"]
    for name in runs:
        e, r = medians.get((name, "evkv")), medians.get((name, "redis"))
        if e and r:
            out.append("| %s | %.2f | %.2f | %.2f |" % (name, e[0] / r[0], e[1] / r[1], e[2] / r[2]))
    out += [""]
    if a.evkv_rss and a.redis_rss:
        out.append("- Memory with %s keys, resident after the runs: evkv %.1f MiB, Redis %.1f MiB (ratio %.2f)" % (
            fmt_int(keys), int(a.evkv_rss) / 1024, int(a.redis_rss) / 1024, int(a.evkv_rss) / int(a.redis_rss)))
    if a.evkv_load and a.redis_load:
        out.append("- Load time: evkv %s s (from its start line), Redis %s s (`redis-cli --pipe`)" % (
            a.evkv_load, a.redis_load))
    out += ["", "## Runs", "", "| scenario | server | round | req/s | p50 (ms) | p99 (ms) | server CPU (µs/req) | errors |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, servers in runs.items():
        for server, rs in servers.items():
            for r in rs:
                b = r["bench"]
                if not b:
                    out.append("| %s | %s | %s | failed (status %s) | | | | |" % (
                        name, SERVER_NAMES[server], r["round"], r["status"]))
                    continue
                out.append("| %s | %s | %s | %s | %s | %s | %.2f | %s |" % (
                    name, SERVER_NAMES[server], r["round"], fmt_int(b["throughput"]),
                    fmt_ms(b["latency_us"]["p50"]), fmt_ms(b["latency_us"]["p99"]), r["cpu_us"],
                    fmt_int(b["errors"])))
    out += ["", "![throughput](throughput.png)", "", "![latency by percentile](latency.png)", ""]
    finish(a, out, lambda: compare_plots(a.dir, runs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="kind", required=True)
    for kind in ("loadtest", "compare"):
        p = sub.add_parser(kind)
        p.add_argument("dir")
        p.add_argument("--data", required=True, help="the data file the servers served")
        p.add_argument("--seed", default="1", help="scripts/gen-data's seed for it")
        p.add_argument("--command", default="", help="the command line of the run")
        p.add_argument("--no-plots", action="store_true", help="write report.md only, without gnuplot")
    sub.choices["loadtest"].add_argument("--start", default="", help="the server's start line")
    c = sub.choices["compare"]
    for opt in ("--evkv-rss", "--redis-rss", "--evkv-load", "--redis-load", "--redis-version"):
        c.add_argument(opt, default="")
    c.add_argument("--evkv-threads", default="1")
    rb = sub.add_parser("redis-benchmark-json")
    rb.add_argument("csv")
    rb.add_argument("requests")
    rb.add_argument("out")
    a = ap.parse_args()
    {"loadtest": loadtest_report, "compare": compare_report, "redis-benchmark-json": redis_benchmark_json}[a.kind](a)


if __name__ == "__main__":
    main()
