#!/usr/bin/env python3
"""Side-by-side ratios of `tensorlift bench --json` and the peers' benchmark JSON.

Usage:
    python3 benches/compare.py TENSORLIFT.json PEERS.json [PEERS2.json ...] [--blas-threads N]

TENSORLIFT.json is written by `tensorlift bench ... --json FILE`; PEERS.json by
`peers_bench.py ... --out FILE` (see the README, "Comparing with the peers"). Both should
come from the same session on the same machine: only ratios measured together mean
anything. Prints one markdown table per workload: tensorlift's median (the JIT), each
peer's median, and the ratio peer / tensorlift (above 1: tensorlift is faster), then the
ratio to the best peer. Only the standard library is used.
"""

import argparse
import json
import re
import sys


def peer_key(workload, case):
    """The peers' case spelled as tensorlift spells it, and its BLAS thread count."""
    threads = None
    m = re.search(r",\s*BLAS (\d+)T$", case)
    if m:
        threads = int(m.group(1))
        case = case[: m.start()]
    case = re.sub(r"1e\+0*(\d+)", r"1e\1", case)
    case = {
        "gemm 1000^3": "gemm 1000x1000x1000",
        "logreg N=400 F=784": "400x784",
        "MLP 784-512-10 B=256": "batch 256",
        "scalar f(2.0)": "scalar",
    }.get(case, case)
    return (workload, case), threads


def tl_key(row):
    """tensorlift's case without the way it is called (`call_into` rows compare to the
    same peers as plain calls)."""
    return (row["workload"], row["case"].replace(" call_into", ""))


def fmt(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tensorlift", help="JSON written by `tensorlift bench --json`")
    ap.add_argument("peers", nargs="+", help="JSON written by peers_bench.py --out")
    ap.add_argument("--blas-threads", type=int, default=1, help="the peers' BLAS thread count to compare with")
    args = ap.parse_args()

    with open(args.tensorlift) as f:
        ours = [r for r in json.load(f) if r.get("engine") == "jit"]
    peers = {}
    for path in args.peers:
        with open(path) as f:
            run = json.load(f)
        for r in run.get("results", []):
            if "median_s" not in r or r.get("ok") is False:
                continue
            key, threads = peer_key(r["workload"], r["case"])
            if threads is not None and threads != args.blas_threads:
                continue
            peers.setdefault(key, []).append(r)

    print(f"tensorlift vs peers (ratio = peer median / tensorlift median; > 1: tensorlift is faster; BLAS threads {args.blas_threads})\n")
    print("| workload | case | tensorlift | best peer | ratio to best | every peer (ratio) |")
    print("|---|---|---|---|---|---|")
    missing = []
    for r in ours:
        t = r["median_ns"] * 1e-9
        rows = peers.get(tl_key(r), [])
        if not rows:
            missing.append(f"{r['workload']} {r['case']}")
            continue
        rows = sorted(rows, key=lambda p: p["median_s"])
        best = rows[0]
        every = "; ".join(f"{p['peer']} {fmt(p['median_s'])} ({p['median_s'] / t:.2f}×)" for p in rows)
        print(f"| {r['workload']} | {r['case']} (threads {r.get('threads', '?')}) | {fmt(t)} | "
              f"{best['peer']} {fmt(best['median_s'])} | {best['median_s'] / t:.2f}× | {every} |")
    if missing:
        print(f"\nno peer row for: {', '.join(missing)}", file=sys.stderr)


if __name__ == "__main__":
    main()
