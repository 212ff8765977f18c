#!/usr/bin/env python3
"""Throughput of `earshot classify` (every analyzer on) beside Python vaderSentiment alone, in the same run.

Both run pinned to one core (`taskset -c 0`), alternately, `--reps` times over the same texts (TweetEval sentiment
train, repeated to >= 100k lines). The machine is shared and noisy, so each repetition reports its own ratio and the
summary is the median ratio. Earshot's time is the whole cold process (model loading included); Python's is its own
timed loop over `polarity_scores` (interpreter start and lexicon loading excluded), so the ratio is conservative.

    python3 scripts/bench_classify.py [--data ../shared/data] [--copies 3] [--reps 3] [--json]

Needs `.venv` with vaderSentiment 3.3.2 (`.ci/run` creates it) and builds earshot in release mode.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pinned(cmd):
    return (["taskset", "-c", "0"] if shutil.which("taskset") else []) + cmd


def timed(cmd, stdin_path):
    with open(stdin_path, "rb") as stdin:
        start = time.perf_counter()
        subprocess.run(pinned(cmd), stdin=stdin, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--copies", type=int, default=3, help="repeat the 45,659 TweetEval train texts this many times")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()

    python = os.environ.get("EARSHOT_PYTHON", os.path.join(ROOT, ".venv", "bin", "python"))
    if not os.path.exists(python):
        sys.exit(f"error: {python} not found; create it with: python3 -m venv .venv && .venv/bin/pip install vaderSentiment==3.3.2")
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "earshot"], cwd=ROOT, check=True)
    earshot = os.path.join(ROOT, "target", "release", "earshot")

    with open(os.path.join(args.data, "tweeteval-sentiment", "train_text.txt"), encoding="utf-8") as f:
        texts = f.read().splitlines()
    texts = texts * args.copies
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as tmp:
        tmp.write("\n".join(texts) + "\n")
        path = tmp.name
    n = len(texts)
    vader_script = os.path.join(ROOT, "crates", "earshot-vader", "tests", "vader_reference.py")
    rows = []
    try:
        for rep in range(args.reps):
            # Python's own in-process loop time (interpreter start and lexicon load excluded: conservative for us).
            out = subprocess.run(pinned([python, vader_script, "--bench", path]), capture_output=True, text=True, check=True)
            py_s = float(out.stdout.split(" texts in ")[1].split(" s")[0])
            es_s = timed([earshot, "classify", "--json"], path)
            rows.append({"python_texts_per_s": n / py_s, "earshot_texts_per_s": n / es_s, "ratio": py_s / es_s})
            r = rows[-1]
            print(
                f"rep {rep + 1}: python vaderSentiment {r['python_texts_per_s']:,.0f} texts/s | "
                f"earshot classify {r['earshot_texts_per_s']:,.0f} texts/s | ratio {r['ratio']:.2f}x"
            )
    finally:
        os.unlink(path)
    summary = {
        "texts": n,
        "python_texts_per_s": round(statistics.median(r["python_texts_per_s"] for r in rows)),
        "earshot_texts_per_s": round(statistics.median(r["earshot_texts_per_s"] for r in rows)),
        "ratio": round(statistics.median(r["ratio"] for r in rows), 2),
        "reps": len(rows),
    }
    print(
        f"median over {len(rows)} reps, {n:,} texts, one core: earshot {summary['earshot_texts_per_s']:,} texts/s, "
        f"python vaderSentiment alone {summary['python_texts_per_s']:,} texts/s, ratio {summary['ratio']}x"
    )
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
