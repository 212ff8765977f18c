#!/usr/bin/env python3
"""Independent reference for `earshot report` on a TWCS CSV, following the written methodology (v1).

Reads the Customer Support on Twitter CSV directly with the csv module (no earshot code) and prints,
as JSON, per brand (lower-cased handle): inbound, replied, within_1h, within_24h, and the
nearest-rank median and p90 of the time to first response in seconds.

Usage: report_reference.py TWCS.csv
"""
import csv
import html
import json
import math
import re
import sys
from datetime import datetime

# A mention: '@' not preceded by a word character, '/' or '&', then word characters (ASCII only,
# as X handles are).
MENTION = re.compile(r"(?<![\w/&])@(\w+)")


def nearest_rank(sorted_values, p):
    """The ceil(p*n/100)-th smallest value (1-based), as the methodology defines percentiles."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = min(max((p * n + 99) // 100, 1), n)
    return sorted_values[rank - 1]


def main(path):
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f)):
            t = datetime.strptime(r["created_at"].strip(), "%a %b %d %H:%M:%S %z %Y")
            text = html.unescape(r["text"])
            mentions = [m.lower() for m in MENTION.findall(text) if re.fullmatch(r"[A-Za-z0-9_]+", m)]
            rows.append({
                "i": i,
                "id": r["tweet_id"].strip(),
                "author": r["author_id"].strip(),
                "brand": r["inbound"].strip().lower() == "false",
                "t": int(t.timestamp()),
                "reply_to": (r.get("in_response_to_tweet_id") or "").strip() or None,
                "mentions": mentions,
            })
    brands = {r["author"].lower() for r in rows if r["brand"]}
    by_id = {r["id"]: r for r in rows}
    # Discovery: an author answering conversation openers (replying to nothing) that mention it,
    # from at least 5 distinct customers, is a brand too.
    answered = {}
    for r in rows:
        parent = by_id.get(r["reply_to"]) if r["reply_to"] else None
        me = r["author"].lower()
        if parent is None or me in brands or parent["author"].lower() in brands or parent["author"].lower() == me:
            continue
        if parent["reply_to"] is None and me in parent["mentions"]:
            answered.setdefault(me, set()).add(parent["author"].lower())
    brands |= {a for a, customers in answered.items() if len(customers) >= 5}

    def root(r):
        seen = set()
        while r["reply_to"] in by_id and r["id"] not in seen:
            seen.add(r["id"])
            r = by_id[r["reply_to"]]
        return r["id"]

    threads = {}
    for r in sorted(rows, key=lambda r: (r["t"], r["i"])):
        threads.setdefault(root(r), []).append(r)

    out = {b: {"inbound": 0, "times": []} for b in brands}
    for posts in threads.values():
        done = set()
        for p in posts:
            if p["author"].lower() in brands or p["reply_to"] is not None:
                continue
            for b in sorted({m for m in p["mentions"] if m in brands}):
                if b in done:
                    continue
                done.add(b)
                out[b]["inbound"] += 1
                answers = [q["t"] for q in posts if q["author"].lower() == b]
                if answers:
                    out[b]["times"].append(max(0, min(answers) - p["t"]))
    result = {}
    for b, v in out.items():
        times = sorted(v["times"])
        result[b] = {
            "inbound": v["inbound"],
            "replied": len(times),
            "within_1h": sum(1 for x in times if x <= 3600),
            "within_24h": sum(1 for x in times if x <= 86400),
            "first_response_median_s": nearest_rank(times, 50),
            "first_response_p90_s": nearest_rank(times, 90),
        }
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
