#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench_chart.py: draws throughput against threads, walcache and RocksDB, sync and buffered,
as one SVG from `walcache bench --json` lines (tools/dev chart writes them).

  tools/bench_chart.py RESULTS_DIR OUT.svg [--workload txn]

Reads every file in RESULTS_DIR holding one JSON object; keeps those of the workload; plots
ops_per_s against threads, one panel per durability (their scales differ by orders of
magnitude), one line per engine. The standard library only (Debian's python3).
"""
import json
import os
import sys

W, H = 360, 260  # one panel
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 62, 16, 34, 40
COLORS = {"walcache": "#1f77b4", "rocksdb": "#d62728"}


def load(results_dir, workload):
    runs = []
    for name in sorted(os.listdir(results_dir)):
        path = os.path.join(results_dir, name)
        try:
            with open(path) as f:
                j = json.loads(f.read().strip().splitlines()[-1])
        except (OSError, ValueError, IndexError):
            continue
        if j.get("workload") == workload and "threads" in j:
            runs.append(j)
    return runs


def nice_max(v):
    step = 10 ** (len(str(int(max(v, 1)))) - 1)
    return ((int(v) // step) + 1) * step


def panel(x0, title, series, threads):
    out = []
    top = max([max(p[1] for p in pts) for pts in series.values() if pts] + [1])
    ymax = nice_max(top)
    pw, ph = W - MARGIN_L - MARGIN_R, H - MARGIN_T - MARGIN_B

    def px(t):
        i = threads.index(t)
        return x0 + MARGIN_L + (pw * i / max(len(threads) - 1, 1))

    def py(v):
        return MARGIN_T + ph - ph * v / ymax

    out.append(f'<text x="{x0 + W / 2}" y="20" text-anchor="middle" font-weight="bold">'
               f'{title}</text>')
    out.append(f'<rect x="{x0 + MARGIN_L}" y="{MARGIN_T}" width="{pw}" height="{ph}" '
               'fill="none" stroke="#888"/>')
    for k in range(5):
        v = ymax * k / 4
        y = py(v)
        out.append(f'<line x1="{x0 + MARGIN_L}" y1="{y:.1f}" x2="{x0 + MARGIN_L + pw}" '
                   f'y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 + MARGIN_L - 6}" y="{y + 4:.1f}" text-anchor="end" '
                   f'font-size="11">{v / 1000:g}k</text>')
    for t in threads:
        out.append(f'<text x="{px(t):.1f}" y="{MARGIN_T + ph + 16}" text-anchor="middle" '
                   f'font-size="11">{t}</text>')
    out.append(f'<text x="{x0 + MARGIN_L + pw / 2}" y="{H - 6}" text-anchor="middle" '
               'font-size="11">threads</text>')
    for engine, pts in sorted(series.items()):
        if not pts:
            continue
        c = COLORS.get(engine, "#333")
        d = " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in pts)
        out.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="2"/>')
        for t, v in pts:
            out.append(f'<circle cx="{px(t):.1f}" cy="{py(v):.1f}" r="3" fill="{c}"/>')
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    workload = "txn"
    if "--workload" in argv:
        workload = argv[argv.index("--workload") + 1]
    runs = load(argv[1], workload)
    if not runs:
        print(f"bench_chart.py: no {workload} results in {argv[1]}", file=sys.stderr)
        return 1
    threads = sorted({int(r["threads"]) for r in runs})
    svg = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<!-- SPDX-License-Identifier: Apache-2.0 -->',
           f'<!-- drawn by tools/bench_chart.py from walcache bench --json ({workload}) -->',
           f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{H + 24}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{2 * W}" height="{H + 24}" fill="white"/>']
    for i, durability in enumerate(["sync", "buffered"]):
        series = {}
        for engine in ["walcache", "rocksdb"]:
            pts = sorted((int(r["threads"]), float(r["ops_per_s"])) for r in runs
                         if r.get("engine") == engine and r.get("durability") == durability)
            series[engine] = pts
        svg += panel(i * W, f"{workload} {durability}: transactions/s", series, threads)
    lx = 20
    for engine in ["walcache", "rocksdb"]:
        svg.append(f'<rect x="{lx}" y="{H + 8}" width="14" height="4" fill="{COLORS[engine]}"/>')
        svg.append(f'<text x="{lx + 20}" y="{H + 14}" font-size="11">{engine}</text>')
        lx += 100
    svg.append("</svg>")
    with open(argv[2], "w") as f:
        f.write("\n".join(svg) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
