#!/usr/bin/env python3
"""Prints a Google Benchmark JSON report as subject-vs-baseline ratios.

Convention: each benchmark is named "<group>/<variant>[/args]". In each group,
variants whose name starts with "baseline" are the named baselines; every
other variant is compared against each of them: ratio = baseline time /
variant time (above 1 means ours is faster).
"""
import json
import sys
from collections import defaultdict


def main(path):
    with open(path) as f:
        report = json.load(f)
    groups = defaultdict(dict)
    for b in report.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        parts = b["name"].split("/")
        if len(parts) < 2:
            print(f"  (skipped {b['name']}: not named <group>/<variant>)")
            continue
        group = parts[0] + ("/" + "/".join(parts[2:]) if len(parts) > 2 else "")
        groups[group][parts[1]] = b
    for group, variants in groups.items():
        baselines = {k: v for k, v in variants.items() if k.startswith("baseline")}
        print(f"  {group}")
        for name, b in variants.items():
            extra = ""
            if "items_per_second" in b:
                extra = f"  {b['items_per_second'] / 1e6:10.2f} M items/s"
            print(f"    {name:32s} {b['real_time']:12.1f} {b['time_unit']}/iter{extra}")
        for name, b in variants.items():
            if name in baselines:
                continue
            for bname, base in baselines.items():
                print(f"    ratio {bname}/{name}: {base['real_time'] / b['real_time']:.2f}x")
        if not baselines:
            print("    (no baseline in this group)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
