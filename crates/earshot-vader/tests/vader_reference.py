#!/usr/bin/env python3
"""Reference scores from Python vaderSentiment 3.3.2, for the earshot-vader parity tests.

Usage:
  vader_reference.py [--jsonl] [FILE]   score texts from FILE (or stdin); print one line per text:
                                        "compound<TAB>pos<TAB>neu<TAB>neg", each float as repr() prints it,
                                        i.e. the exact double Python returned.
                                        Plain input: one text per line, split on "\\n" only (not
                                        str.splitlines(), which would also split on \\x1c, \\x85, \\u2028 ...).
                                        --jsonl: each line is a JSON string (for texts containing newlines).
  vader_reference.py --version          print "vaderSentiment <v> CPython <v> unicode <v>"
  vader_reference.py --constants        print BOOSTER_DICT, NEGATE and SPECIAL_CASES as JSON
  vader_reference.py --unicode          print, per code point 0..0x10FFFF, one class letter
                                        (U upper, L lower, T title, O other; S surrogate), a blank line, the
                                        whitespace code points, a blank line, and "cp<TAB>lower()" for every
                                        code point whose lower() differs from itself and contains an ASCII char
  vader_reference.py --bench [FILE]     time polarity_scores in-process over the texts, print texts/s

  --sum=cpython312 (before the other arguments) makes vaderSentiment's sum() behave like CPython 3.12+'s
  builtin sum (Neumaier compensation over floats, plain addition of ints), to check that mode on an older
  interpreter.

Exit status 3 means vaderSentiment is not installed.
"""

import json
import math
import sys
import time


def load_analyzer():
    try:
        from vaderSentiment import vaderSentiment as vs
    except ImportError as e:  # pragma: no cover - environment problem
        print(f"vaderSentiment is not installed for {sys.executable}: {e}", file=sys.stderr)
        sys.exit(3)
    return vs


def read_texts(path, jsonl):
    data = open(path, "rb").read() if path else sys.stdin.buffer.read()
    text = data.decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if jsonl:
        return [json.loads(line) for line in lines]
    return lines


def cpython312_sum(items):
    """builtin_sum_impl of CPython 3.12+, for a list of ints and floats (start=0)."""
    it = iter(items)
    i_result = 0
    for item in it:
        if type(item) is int:
            i_result += item
            continue
        result = i_result + item
        break
    else:
        return i_result
    f_result = result
    c = 0.0
    for item in it:
        if type(item) is float:
            x = item
            t = f_result + x
            if abs(f_result) >= abs(x):
                c += (f_result - t) + x
            else:
                c += (x - t) + f_result
            f_result = t
        elif type(item) is int:
            f_result += float(item)
        else:
            raise TypeError(type(item))
    if c and math.isfinite(c):
        f_result += c
    return f_result


def main(argv):
    args = argv[1:]
    vs = load_analyzer()
    if args[:1] == ["--sum=cpython312"]:
        args = args[1:]
        if sys.version_info < (3, 12):
            vs.sum = cpython312_sum  # module global shadows the builtin in score_valence
    if args[:1] == ["--version"]:
        from importlib.metadata import version
        import platform
        import unicodedata

        print(
            f"vaderSentiment {version('vaderSentiment')} "
            f"{platform.python_implementation()} {platform.python_version()} "
            f"unicode {unicodedata.unidata_version}"
        )
        return 0
    if args[:1] == ["--constants"]:
        print(json.dumps({"BOOSTER_DICT": vs.BOOSTER_DICT, "NEGATE": vs.NEGATE, "SPECIAL_CASES": vs.SPECIAL_CASES}))
        return 0
    if args[:1] == ["--unicode"]:
        out = []
        for cp in range(0x110000):
            if 0xD800 <= cp <= 0xDFFF:
                out.append("S")
                continue
            c = chr(cp)
            out.append("U" if c.isupper() else "L" if c.islower() else "T" if c.istitle() else "O")
        sys.stdout.write("".join(out))
        sys.stdout.write("\n\n")
        spaces = [str(cp) for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF and chr(cp).isspace()]
        sys.stdout.write(" ".join(spaces))
        sys.stdout.write("\n\n")
        for cp in range(0x80, 0x110000):
            if 0xD800 <= cp <= 0xDFFF:
                continue
            low = chr(cp).lower()
            if low != chr(cp) and any(ord(x) < 0x80 for x in low):
                sys.stdout.write(f"{cp}\t{json.dumps(low)}\n")
        return 0

    bench = args[:1] == ["--bench"]
    if bench:
        args = args[1:]
    jsonl = args[:1] == ["--jsonl"]
    if jsonl:
        args = args[1:]
    texts = read_texts(args[0] if args else None, jsonl)
    analyzer = vs.SentimentIntensityAnalyzer()
    if bench:
        for t in texts[:200]:  # warm up
            analyzer.polarity_scores(t)
        start = time.perf_counter()
        for t in texts:
            analyzer.polarity_scores(t)
        elapsed = time.perf_counter() - start
        print(f"{len(texts)} texts in {elapsed:.3f} s: {len(texts) / elapsed:.0f} texts/s")
        return 0
    out = sys.stdout
    for t in texts:
        s = analyzer.polarity_scores(t)
        out.write(f"{s['compound']!r}\t{s['pos']!r}\t{s['neu']!r}\t{s['neg']!r}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
