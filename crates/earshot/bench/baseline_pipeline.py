#!/usr/bin/env python3
"""The pipeline a data team would write in Python, as the baseline of `earshot bench`.

Reads an X API v2 filtered-stream JSONL file (one `{"data": …, "includes": …}` object per line), and for each post:
parses the JSON, attributes it to brands by the mentioned handles (a set lookup), scores it with `vaderSentiment`
3.3.2, and stores it with its raw line in SQLite (`sqlite3`, `executemany` in batches of 5,000 inside one
transaction each, WAL, `INSERT OR IGNORE` on the platform id so re-running does not duplicate). Nothing here is
deliberately slow: no per-row commits, no ORM, one prepared statement per table.

    python3 crates/earshot/bench/baseline_pipeline.py INPUT.jsonl DB.sqlite --brands brand000care,brand001care,... [--json]

Prints the figures as JSON on the last line with `--json`: posts, seconds, posts_per_s.
"""

import argparse
import json
import os
import sqlite3
import sys
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

BATCH = 5000

SCHEMA = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY,
    platform TEXT NOT NULL,
    native_id TEXT NOT NULL,
    author_id TEXT,
    author_handle TEXT,
    text TEXT NOT NULL,
    published_at TEXT,
    conversation_id TEXT,
    in_reply_to TEXT,
    compound REAL, pos REAL, neu REAL, neg REAL,
    raw TEXT NOT NULL,
    UNIQUE (platform, native_id)
);
CREATE TABLE IF NOT EXISTS post_brands (post_native_id TEXT NOT NULL, brand TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS post_brands_brand ON post_brands (brand);
"""


def run(path, db, brands):
    analyzer = SentimentIntensityAnalyzer()
    conn = sqlite3.connect(db)
    conn.executescript(SCHEMA)
    insert_post = (
        "INSERT OR IGNORE INTO posts (platform, native_id, author_id, author_handle, text, published_at,"
        " conversation_id, in_reply_to, compound, pos, neu, neg, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    insert_brand = "INSERT INTO post_brands (post_native_id, brand) VALUES (?, ?)"
    posts, links, n, rejected = [], [], 0, 0

    def flush():
        with conn:
            conn.executemany(insert_post, posts)
            conn.executemany(insert_brand, links)
        posts.clear()
        links.clear()

    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                data = obj["data"]
                text = data["text"]
            except (ValueError, KeyError, TypeError):
                rejected += 1
                continue
            users = {u.get("id"): u for u in obj.get("includes", {}).get("users", [])}
            author = users.get(data.get("author_id"), {})
            replied = [r["id"] for r in data.get("referenced_tweets", []) if r.get("type") == "replied_to"]
            s = analyzer.polarity_scores(text)
            posts.append((
                "x", data["id"], data.get("author_id"), author.get("username"), text, data.get("created_at"),
                data.get("conversation_id"), replied[0] if replied else None,
                s["compound"], s["pos"], s["neu"], s["neg"], line,
            ))
            for m in data.get("entities", {}).get("mentions", []):
                handle = m.get("username", "").lower()
                if handle in brands:
                    links.append((data["id"], handle))
            n += 1
            if len(posts) >= BATCH:
                flush()
    flush()
    conn.close()
    return n, rejected


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("db")
    ap.add_argument("--brands", default="", help="comma-separated brand handles, without @")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(args.db + suffix)
        except FileNotFoundError:
            pass
    brands = {b.strip().lstrip("@").lower() for b in args.brands.split(",") if b.strip()}
    start = time.perf_counter()
    n, rejected = run(args.input, args.db, brands)
    seconds = time.perf_counter() - start
    figures = {"posts": n, "rejected": rejected, "seconds": round(seconds, 3), "posts_per_s": round(n / seconds)}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"python baseline: {n} posts in {seconds:.2f}s = {n / seconds:.0f} posts/s", file=sys.stderr)


if __name__ == "__main__":
    main()
