#!/usr/bin/env python3
"""The pandas baseline for bench/chunks.sh: the same chunk work as Sortie's processor.

Reads the CSV (plain or gzip), checks every rule of the orders feed (required fields, integer,
number, date and boolean types, the three patterns), writes the valid records as JSON Lines and
the rejects with a reason. Prints one line per file and writes the figures as JSON.

    chunks_pandas.py [--repeat N] [--json OUT] FILE [FILE.gz ...]
"""
import argparse
import json
import time

import pandas as pd

RULES = [  # (name, type, required, pattern): the feed of functions/chunk-processor.json
    ("order_id", "integer", True, None),
    ("customer", "string", True, r"C[0-9]{8}"),
    ("email", "string", False, r"[^@ ]+@[^@ ]+"),
    ("amount", "number", True, None),
    ("currency", "string", True, r"[A-Z]{3}"),
    ("ordered_on", "date", True, None),
    ("paid", "boolean", False, None),
    ("note", "string", False, None),
]
BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


def process(path):
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, compression="infer")
    reasons = pd.Series("", index=frame.index)

    def fail(mask, reason):
        reasons[mask & (reasons == "")] = reason

    typed = {}
    for name, kind, required, pattern in RULES:
        text = frame[name]
        empty = text == ""
        if required:
            fail(empty, f"{name}: required")
        if kind == "integer":
            fail(~empty & ~text.str.fullmatch(r"[+-]?[0-9]+"), f"{name}: not an integer")
            typed[name] = pd.to_numeric(text.where(~empty), errors="coerce").astype("Int64")
        elif kind == "number":
            value = pd.to_numeric(text.where(~empty), errors="coerce")
            fail(~empty & value.isna(), f"{name}: not a number")
            typed[name] = value
        elif kind == "date":
            value = pd.to_datetime(text.where(~empty), format="%Y-%m-%d", errors="coerce")
            fail(~empty & value.isna(), f"{name}: not a date (YYYY-MM-DD)")
            typed[name] = text.where(~empty)
        elif kind == "boolean":
            value = text.str.lower().map(BOOLEANS)
            fail(~empty & value.isna(), f"{name}: not a boolean")
            typed[name] = value
        else:
            typed[name] = text.where(~empty)
        if pattern is not None:
            fail(~empty & ~text.str.fullmatch(pattern), f"{name}: does not match {pattern}")
    valid = reasons == ""
    output = pd.DataFrame(typed)[valid].to_json(orient="records", lines=True)
    rejects = pd.DataFrame({"line": frame.index[~valid] + 2, "reason": reasons[~valid]}).to_json(orient="records", lines=True)
    return len(frame), int(valid.sum()), len(output) + len(rejects)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json")
    parser.add_argument("files", nargs="+")
    options = parser.parse_args()
    results = []
    for path in options.files:
        best = None
        for _ in range(max(1, options.repeat)):
            start = time.process_time()
            records, valid, output = process(path)
            cpu = time.process_time() - start
            if best is None or cpu < best["cpuSeconds"]:
                best = {"file": path, "compressed": path.endswith(".gz"), "records": records, "valid": valid, "outputBytes": output, "cpuSeconds": cpu}
        print(f"pandas {'gzip ' if best['compressed'] else 'plain'}: {best['records']} records ({best['valid']} valid): "
              f"{best['cpuSeconds']:.3f} s CPU, {best['records'] / best['cpuSeconds']:.0f} records/s (pandas {pd.__version__})")
        results.append(best)
    if options.json:
        with open(options.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
