#!/usr/bin/env python3
"""Regenerate Prism's built-in price snapshot from LiteLLM's model map.

    scripts/update-prices.py                         # pip-download the newest litellm wheel
    scripts/update-prices.py --wheel litellm-X.whl   # a wheel already downloaded
    scripts/update-prices.py --json map.json --version X.Y.Z
    scripts/update-prices.py --check                 # verify the snapshot against the map; write nothing

The map is `litellm/model_prices_and_context_window_backup.json` inside the `litellm`
package (MIT, Copyright (c) 2023 Berri AI). Only chat and responses entries are kept, with
the fields Prism prices by: input, output, cache read, cache write (5 minutes and 1 hour),
reasoning, the `*_above_<N>k_tokens` tiers and `tiered_pricing` ranges, max input and
output tokens, and `litellm_provider`. Prices become integer picodollars (1e-12 USD) per
token, converted from the JSON text with exact decimal arithmetic and rounded to the
nearest picodollar.

Files written, under src/pricing/data/:
  litellm-chat.tsv     the snapshot, with its source version and the date it was taken
  retired.tsv          every entry a previous snapshot had and this one lacks is appended,
                       keeping its last known prices; an entry that comes back is removed
  LICENSE-litellm.txt  LiteLLM's license, from the wheel

Standard library only.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from decimal import ROUND_HALF_EVEN, Decimal

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "pricing", "data")
MAP_IN_WHEEL = "litellm/model_prices_and_context_window_backup.json"

# The columns, in order; Prism's parser checks this header line exactly.
COLUMNS = [
    "key", "provider", "input", "output", "cache_read", "cache_write", "cache_write_1h",
    "reasoning", "max_input", "max_output", "tiers",
]
RETIRED_COLUMNS = COLUMNS + ["last_seen", "retired"]

# A tier's fields, in the order of the `tiers` column: `above:input,output,cache_read,
# cache_write,cache_write_1h,reasoning`, tiers separated by `;`, an absent price empty.
TIER_FIELDS = ["input", "output", "cache_read", "cache_write", "cache_write_1h", "reasoning"]

# LiteLLM's field for each of Prism's, base tier.
BASE = {
    "input": ["input_cost_per_token"],
    "output": ["output_cost_per_token"],
    # DeepSeek-style entries name cache reads "cache hits".
    "cache_read": ["cache_read_input_token_cost", "input_cost_per_token_cache_hit"],
    "cache_write": ["cache_creation_input_token_cost"],
    "cache_write_1h": ["cache_creation_input_token_cost_above_1hr"],
    "reasoning": ["output_cost_per_reasoning_token"],
}

# `<field>_above_<N>k_tokens`: the price once a request's input passes N x 1000 tokens.
TIER_KEY = re.compile(
    r"^(cache_creation_input_token_cost_above_1hr|input_cost_per_token|output_cost_per_token"
    r"|cache_read_input_token_cost|cache_creation_input_token_cost|output_cost_per_reasoning_token)"
    r"_above_(\d+)k_tokens$"
)
TIER_NAME = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "output_cost_per_reasoning_token": "reasoning",
}
# `tiered_pricing` ranges use the base field names.
RANGE_NAME = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost": "cache_write",
    "output_cost_per_reasoning_token": "reasoning",
}

PICO = Decimal(10) ** 12


class MapError(Exception):
    """The map says something this script cannot convert faithfully."""


def picodollars(key, field, value):
    """USD per token as written in the JSON -> integer picodollars per token."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise MapError(f"entry `{key}`: `{field}` = {value!r} is not a number")
    v = Decimal(value)
    if not v.is_finite() or v < 0:
        raise MapError(f"entry `{key}`: `{field}` = {value} is not a price (negative or not finite)")
    return int((v * PICO).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def tokens(key, field, value):
    """A token limit, or None when absent (a limit of 0, which some entries give, is no limit
    anyone can use: it is read as not listed)."""
    if value is None or (isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value == 0):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or Decimal(value) != int(value) or value < 0:
        raise MapError(f"entry `{key}`: `{field}` = {value!r} is not a token count")
    return int(value)


def convert(key, entry):
    """One map entry -> a snapshot row (dict of column -> text), or None when it has no
    per-token input and output price (priced per second, character or image, or not at all)."""
    row = {"key": key, "provider": str(entry.get("litellm_provider") or "")}
    base = {}
    for name, fields in BASE.items():
        for f in fields:
            if f in entry and entry[f] is not None:
                base[name] = picodollars(key, f, entry[f])
                break
    tiers = {}

    def tier_set(above, name, pd, origin):
        fields = tiers.setdefault(above, {})
        if name in fields and fields[name] != pd:
            raise MapError(f"entry `{key}`: {origin} gives {name} above {above} tokens two prices")
        fields[name] = pd

    for f, value in entry.items():
        m = TIER_KEY.match(f)
        if m:
            tier_set(int(m.group(2)) * 1000, TIER_NAME[m.group(1)], picodollars(key, f, value), f)
    ranges = entry.get("tiered_pricing")
    if ranges is not None:
        if not isinstance(ranges, list) or not ranges:
            raise MapError(f"entry `{key}`: `tiered_pricing` is not a list of ranges")
        for i, r in enumerate(sorted(ranges, key=lambda r: Decimal(r["range"][0]))):
            lo = Decimal(r["range"][0])
            if lo != int(lo) or lo < 0:
                raise MapError(f"entry `{key}`: `tiered_pricing` range starts at {lo}")
            prices = {
                RANGE_NAME[f]: picodollars(key, f"tiered_pricing[{i}].{f}", v)
                for f, v in r.items()
                if f in RANGE_NAME
            }
            if int(lo) == 0:
                for name, pd in prices.items():
                    if name in base and base[name] != pd:
                        raise MapError(f"entry `{key}`: `{name}` and the first `tiered_pricing` range disagree")
                    base.setdefault(name, pd)
            else:
                for name, pd in prices.items():
                    tier_set(int(lo), name, pd, "tiered_pricing")
    if "input" not in base or "output" not in base:
        return None
    for name in TIER_FIELDS:
        row[name] = str(base[name]) if name in base else ""
    row["max_input"] = str(tokens(key, "max_input_tokens", entry.get("max_input_tokens")) or "")
    row["max_output"] = str(tokens(key, "max_output_tokens", entry.get("max_output_tokens")) or "")
    row["tiers"] = ";".join(
        f"{above}:" + ",".join(str(t[n]) if n in t else "" for n in TIER_FIELDS)
        for above, t in sorted(tiers.items())
    )
    for column, text in row.items():
        if "\t" in text or "\n" in text:
            raise MapError(f"entry `{key}`: `{column}` holds a tab or a newline")
    return row


def rows_of_map(text):
    """The chat rows of a map, sorted by key, and how many chat entries were left out."""
    data = json.loads(text, parse_float=Decimal)
    if not isinstance(data, dict):
        raise MapError("the map is not a JSON object of models")
    rows, skipped = [], []
    for key, entry in data.items():
        if key == "sample_spec" or not isinstance(entry, dict):
            continue
        if entry.get("mode") not in ("chat", "responses"):
            continue
        row = convert(key, entry)
        if row is None:
            skipped.append(key)
        else:
            rows.append(row)
    rows.sort(key=lambda r: r["key"])
    return rows, skipped


def read_tsv(path, columns):
    """(metadata, rows) of a snapshot-format file; ({}, []) when it does not exist."""
    if not os.path.exists(path):
        return {}, []
    meta, rows, header = {}, [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#@ "):
                k, _, v = line[3:].partition("\t")
                meta[k] = v
            elif line.startswith("#") or not line:
                continue
            elif header is None:
                header = line.split("\t")
                if header != columns:
                    raise MapError(f"{path}: unexpected columns {header}")
            else:
                rows.append(dict(zip(columns, line.split("\t"))))
    return meta, rows


def write_tsv(path, comments, meta, columns, rows):
    lines = [f"# {c}" if c else "#" for c in comments]
    lines += [f"#@ {k}\t{v}" for k, v in meta.items()]
    lines.append("\t".join(columns))
    lines += ["\t".join(r.get(c, "") for c in columns) for r in rows]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


SNAPSHOT_COMMENTS = [
    "Prism's built-in prices: the chat and responses entries of LiteLLM's",
    "model_prices_and_context_window.json, with only the fields Prism uses.",
    "Prices are integer picodollars (1e-12 USD) per token, rounded to the nearest; empty = not listed.",
    "tiers: `above:input,output,cache_read,cache_write,cache_write_1h,reasoning;...` - prices for the",
    "whole request once its input passes `above` tokens (an empty price is the base one).",
    "LiteLLM is MIT-licensed, Copyright (c) 2023 Berri AI: see LICENSE-litellm.txt.",
    "Generated by scripts/update-prices.py; do not edit by hand.",
]

RETIRED_COMMENTS = [
    "Entries LiteLLM's map no longer lists, with their last known prices, so sessions that used",
    "them still price. scripts/update-prices.py appends every entry a new snapshot drops",
    "(`last_seen`: the snapshot that last had it; `retired`: the first that did not) and removes",
    "one that comes back. Columns and units as in litellm-chat.tsv.",
    "The first entries were seeded from the table Prism shipped before the snapshot",
    "(LiteLLM at commit 00035b69, read 2026-11-21).",
]


def label(meta):
    return f"{meta.get('source', '?')} ({meta.get('taken', '?')})"


def load_map(args):
    """(map text, version, license text or None)."""
    if args.json:
        if not args.version:
            sys.exit("--json needs --version (the litellm release the map comes from)")
        with open(args.json, encoding="utf-8") as f:
            return f.read(), args.version, None
    wheel = args.wheel
    if wheel is None:
        tmp = tempfile.mkdtemp(prefix="prism-prices-")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "litellm", "--no-deps", "--only-binary", ":all:", "-d", tmp],
            check=True,
        )
        wheels = [n for n in os.listdir(tmp) if n.endswith(".whl")]
        if len(wheels) != 1:
            sys.exit(f"expected one wheel in {tmp}, found {wheels}")
        wheel = os.path.join(tmp, wheels[0])
    with zipfile.ZipFile(wheel) as z:
        text = z.read(MAP_IN_WHEEL).decode("utf-8")
        version = None
        license_text = None
        for name in z.namelist():
            if name.endswith(".dist-info/METADATA"):
                for line in z.read(name).decode("utf-8").splitlines():
                    if line.startswith("Version: "):
                        version = line[len("Version: "):].strip()
                        break
            if re.search(r"\.dist-info/(licenses/)?LICENSE[^/]*$", name):
                license_text = z.read(name).decode("utf-8")
    if not version:
        sys.exit(f"{wheel}: no Version in the wheel's METADATA")
    return text, version, license_text


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--wheel", help="a litellm wheel already downloaded")
    src.add_argument("--json", help="a model_prices_and_context_window.json file")
    p.add_argument("--version", help="the litellm version of --json")
    p.add_argument("--date", help="the date the snapshot is taken (default: today, UTC)")
    p.add_argument("--check", action="store_true", help="compare the snapshot with the map; write nothing")
    p.add_argument("--data", default=DATA, help="the data directory (default: src/pricing/data)")
    args = p.parse_args()
    snapshot_path = os.path.join(args.data, "litellm-chat.tsv")
    retired_path = os.path.join(args.data, "retired.tsv")
    license_path = os.path.join(args.data, "LICENSE-litellm.txt")

    text, version, license_text = load_map(args)
    try:
        rows, skipped = rows_of_map(text)
        old_meta, old_rows = read_tsv(snapshot_path, COLUMNS)
        _, retired = read_tsv(retired_path, RETIRED_COLUMNS)
    except MapError as e:
        sys.exit(f"error: {e}")

    if args.check:
        if old_rows != rows:
            have = {r["key"]: r for r in old_rows}
            want = {r["key"]: r for r in rows}
            diff = sorted(k for k in have.keys() | want.keys() if have.get(k) != want.get(k))
            sys.exit(f"snapshot differs from the map in {len(diff)} entries, e.g. {diff[:5]}")
        print(f"snapshot matches the map: {len(rows)} entries")
        return

    date = args.date or datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    meta = {"source": f"LiteLLM {version}", "taken": date}
    new_keys = {r["key"] for r in rows}
    kept = [r for r in retired if r["key"] not in new_keys]
    back = len(retired) - len(kept)
    listed = {r["key"] for r in kept}
    gone = [r for r in old_rows if r["key"] not in new_keys and r["key"] not in listed]
    for r in gone:
        kept.append({**r, "last_seen": label(old_meta), "retired": label(meta)})

    write_tsv(snapshot_path, SNAPSHOT_COMMENTS, meta, COLUMNS, rows)
    write_tsv(retired_path, RETIRED_COMMENTS, {}, RETIRED_COLUMNS, kept)
    if license_text:
        with open(license_path, "w", encoding="utf-8", newline="\n") as f:
            f.write(license_text)
    print(
        f"{len(rows)} chat entries from LiteLLM {version} ({date}); "
        f"{len(skipped)} chat entries without per-token prices left out; "
        f"{len(gone)} newly retired, {back} back from retirement, {len(kept)} retired in all"
    )


if __name__ == "__main__":
    main()
