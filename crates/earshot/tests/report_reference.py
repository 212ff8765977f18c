#!/usr/bin/env python3
"""Independent reference for `earshot report`, following the written methodology (v1).

Reads the raw data directly (no earshot code): the Customer Support on Twitter CSV with the csv
module, or IBM's customer-care conversations (`dev.json`) with the json module, and prints, as JSON,
per brand (lower-cased handle): inbound, replied, within_1h, within_24h, and the nearest-rank
median and p90 of the time to first response in seconds.

With --calendar JSON ({"timezone": IANA name, "hours": {"mon-fri": "09:00-17:30", ...}, "holidays":
["YYYY-MM-DD", ...]}, the shape of an SLA calendar in earshot.toml), also the business-hours median and p90:
the seconds of the calendar's opening hours between the inbound and the first response, computed here day
by day with zoneinfo.

Usage: report_reference.py [--calendar JSON] TWCS.csv
       report_reference.py [--calendar JSON] --ibm dev.json
"""
import csv
import html
import json
import math
import re
import sys
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

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


def mentions_of(text):
    return [m.lower() for m in MENTION.findall(html.unescape(text)) if re.fullmatch(r"[A-Za-z0-9_]+", m)]


def load_twcs(path):
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f)):
            t = datetime.strptime(r["created_at"].strip(), "%a %b %d %H:%M:%S %z %Y")
            rows.append({
                "i": i,
                "id": r["tweet_id"].strip(),
                "author": r["author_id"].strip(),
                "brand": r["inbound"].strip().lower() == "false",
                "t": int(t.timestamp()),
                "reply_to": (r.get("in_response_to_tweet_id") or "").strip() or None,
                "mentions": mentions_of(r["text"]),
            })
    return rows


def load_ibm(path):
    """Each dialog turn replies to the one before it; the closing agentURL tweet is the company's,
    and its time is the Snowflake time in its id: (id >> 22) ms after 1288834974657, whole seconds."""
    rows, seen = [], set()
    with open(path, encoding="utf-8") as f:
        conversations = json.load(f)
    for conv in conversations:
        company = conv["dialogHeader"]["company"]
        turns = []
        for turn in conv["dialogContent"]:
            author = turn.get("agent") or next(v for k, v in turn.items() if k.startswith("client"))
            t = datetime.strptime(turn["datetime"], "%Y-%m-%dT%H:%M:%S.%f%z")
            turns.append((turn["tweet_ID"], author, "agent" in turn, int(t.timestamp()), turn["message"]))
        closing = conv["agentURL"]
        t = ((int(closing["tweet_ID"]) >> 22) + 1288834974657) // 1000
        turns.append((closing["tweet_ID"], company, True, t, closing["url_utterance"]))
        previous = None
        for tweet_id, author, agent, t, message in turns:
            # A tweet in two conversations is stored once, as first seen.
            if tweet_id not in seen:
                seen.add(tweet_id)
                rows.append({
                    "i": len(rows),
                    "id": tweet_id,
                    "author": author,
                    "brand": agent,
                    "t": t,
                    "reply_to": previous,
                    "mentions": mentions_of(message),
                })
            previous = tweet_id
    return rows


DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def opening_hours(calendar):
    """Weekday (0 = Monday) -> list of (start, end) local times; keys like mon-fri, sat,sun, daily."""
    week = {d: [] for d in range(7)}
    for key, ranges in calendar["hours"].items():
        days = set()
        for part in key.split(","):
            part = part.strip()
            if part == "daily":
                days |= set(range(7))
            elif "-" in part:
                a, b = (DAYS.index(x) for x in part.split("-"))
                days |= set(range(a, b + 1))
            else:
                days.add(DAYS.index(part))
        spans = []
        if ranges.strip() != "closed":
            for r in ranges.split(","):
                a, b = r.strip().split("-")
                spans.append((time.fromisoformat(a), time.fromisoformat(b)))
        for d in days:
            week[d] = spans
    return week


def business_seconds(calendar, a, b):
    """Seconds of opening hours in [a, b) (Unix seconds), walking the local days between them."""
    tz = ZoneInfo(calendar["timezone"])
    week = opening_hours(calendar)
    holidays = {date.fromisoformat(h) for h in calendar.get("holidays", [])}
    day = datetime.fromtimestamp(a, tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(b, tz).date() + timedelta(days=1)
    total = 0
    while day <= last:
        if day not in holidays:
            for start, end in week[day.weekday()]:
                lo = datetime.combine(day, start, tz).timestamp()
                hi = datetime.combine(day, end, tz).timestamp()
                total += max(0, min(hi, b) - max(lo, a))
        day += timedelta(days=1)
    return total


def main(rows, calendar=None):
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
                    if calendar:
                        first = max(min(answers), p["t"])
                        out[b].setdefault("business", []).append(business_seconds(calendar, p["t"], first))
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
        if calendar:
            business = sorted(v.get("business", []))
            result[b]["first_response_business_median_s"] = nearest_rank(business, 50)
            result[b]["first_response_business_p90_s"] = nearest_rank(business, 90)
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    args = sys.argv[1:]
    calendar = None
    if args[0] == "--calendar":
        calendar = json.loads(args[1])
        args = args[2:]
    if args[0] == "--ibm":
        main(load_ibm(args[1]), calendar)
    else:
        main(load_twcs(args[0]), calendar)
