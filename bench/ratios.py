#!/usr/bin/env python3
"""bench/ratios.py SPINDLE.jsonl PEERS-SUMMARY.jsonl: the side-by-side table of `make
bench-peers` and the ratios the targets of docs/BENCHMARKS.md are stated in.

SPINDLE.jsonl holds the JSON lines of one or more spindle-bench runs (one per repetition); the
median of each figure is used, as the peers harness reports medians. PEERS-SUMMARY.jsonl is
the harness's summary file (../shared/peers/harness.py). Prints Markdown on stdout."""
import json
import statistics
import sys


def spindle_medians(path):
    runs = {}
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        rec = json.loads(line)
        for key, value in rec.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                runs.setdefault((rec["scenario"], key), []).append(value)
    return {k: statistics.median(v) for k, v in runs.items()}


def median(peer, key):
    v = peer.get(key)
    return v["median"] if isinstance(v, dict) else None


def fmt(x, unit=""):
    return "-" if x is None else "{:,.0f}{}".format(x, unit)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: ratios.py SPINDLE.jsonl PEERS-SUMMARY.jsonl")
    s = spindle_medians(sys.argv[1])
    peers = [json.loads(l) for l in open(sys.argv[2]) if l.strip().startswith("{")]
    rows = [("spindle", "c2", s.get(("enqueue-single", "tasks_per_s")),
             s.get(("enqueue-bulk", "tasks_per_s")), s.get(("drain-1", "tasks_per_s")),
             s.get(("drain-2", "tasks_per_s")), s.get(("memory-queued", "bytes_per_task")),
             s.get(("memory-finished", "bytes_per_task")))]
    for p in peers:
        rows.append((p["peer"], p["variant"], median(p, "w1_single_jobs_s"),
                     median(p, "w1_bulk_jobs_s"), median(p, "w2_jobs_s"), median(p, "w3_jobs_s"),
                     median(p, "bytes_per_queued_job"), median(p, "bytes_per_finished_job")))
    print("| queue | variant | single enqueue/s | bulk enqueue/s | drain, 1 process/s |"
          " drain, 2 processes/s | bytes per queued | bytes per finished |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s |" % (r[0], r[1], " | ".join(fmt(x) for x in r[2:])))

    by = {p["peer"]: p for p in peers}
    targets = [
        ("drain-1 vs BullMQ", ("drain-1", "tasks_per_s"), "bullmq", "w2_jobs_s", 5.0),
        ("drain-1 vs bee-queue", ("drain-1", "tasks_per_s"), "bee-queue", "w2_jobs_s", 4.0),
        ("drain-2 vs BullMQ", ("drain-2", "tasks_per_s"), "bullmq", "w3_jobs_s", 5.0),
        ("drain-2 vs bee-queue", ("drain-2", "tasks_per_s"), "bee-queue", "w3_jobs_s", 4.0),
        ("single enqueue vs bee-queue", ("enqueue-single", "tasks_per_s"), "bee-queue",
         "w1_single_jobs_s", 1.5),
        ("bulk enqueue vs Sidekiq", ("enqueue-bulk", "tasks_per_s"), "sidekiq", "w1_bulk_jobs_s",
         2.0),
    ]
    print()
    print("| target | Spindle | peer | ratio | wanted | met |")
    print("|---|---|---|---|---|---|")
    for name, skey, peer, pkey, want in targets:
        mine, theirs = s.get(skey), median(by.get(peer, {}), pkey)
        if mine is None or not theirs:
            print("| %s | %s | %s | - | %.1f× | not measured |" % (name, fmt(mine), fmt(theirs), want))
            continue
        ratio = mine / theirs
        print("| %s | %s | %s | %.2f× | %.1f× | %s |" % (name, fmt(mine), fmt(theirs), ratio, want,
                                                     "yes" if ratio >= want else "NO"))
    absolute = [
        ("bytes per queued task", ("memory-queued", "bytes_per_task"), 250, "B"),
        ("bytes per finished task", ("memory-finished", "bytes_per_task"), 350, "B"),
        ("pickup p50", ("latency-pickup", "p50_ms"), 0.2, "ms"),
        ("pickup p99", ("latency-pickup", "p99_ms"), 1.0, "ms"),
        ("end seen by a waiter p50", ("latency-wait", "p50_ms"), 0.5, "ms"),
        ("idle worker commands/s", ("idle-commands", "commands_per_s"), 5, "/s"),
        ("worker RSS per process", ("idle-commands", "max_rss_kb"), 4096, "kB"),
    ]
    print()
    print("| figure | Spindle | at most | met |")
    print("|---|---|---|---|")
    for name, key, limit, unit in absolute:
        v = s.get(key)
        if v is None:
            print("| %s | - | %g %s | not measured |" % (name, limit, unit))
        else:
            print("| %s | %.3g %s | %g %s | %s |" % (name, v, unit, limit, unit,
                                                   "yes" if v <= limit else "NO"))


if __name__ == "__main__":
    main()
