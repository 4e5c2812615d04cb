#!/usr/bin/env python3
"""Read a chokepoint Parquet export the way researchers will, and check it.

Usage: read_with_pyarrow.py EXPORT_DIR [EXPECTED_JSON]

Reads every table listed in EXPORT_DIR/manifest.json with pyarrow (and with polars too
when it is importable) and checks: the schema's column names and types match the
manifest; the file carries the run's header under `chokepoint.header`; prices are finite
and > 0; goods balance: per (tick, commodity, stage, nation), the flows into the
nation (domestic included) equal what its consumers obtained in the shortages table,
within 1e-6 relative; and the negotiation and adaptation tables are consistent
(rounds within a tick, deliveries at most planned, recycled share, pipeline ticks). With EXPECTED_JSON (written by the Rust test from the engine's own
records of the same run), every listed table's listed columns must equal the expected
rows exactly and in order (Parquet keeps float64 bits; JSON numbers round-trip), and the
provenance must name the run's seed and world hash.
Prints `N passed, M failed` and exits non-zero on any failure.
"""

import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

try:
    import polars as pl
except ImportError:  # polars is optional
    pl = None

EXPECTED_TYPES = {
    "uint64": pa.uint64(),
    "uint32": pa.uint32(),
    "bool": pa.bool_(),
    "dictionary<int32, utf8>": pa.dictionary(pa.int32(), pa.string()),
    "utf8": pa.string(),
    "float64": pa.float64(),
}

REL_TOL = 1e-6

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}")


def close(a, b):
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b)) + 1e-9


def compare_with_run(tables, manifest, expected):
    check(manifest["ticks"] == expected["ticks"], f"manifest ticks {manifest['ticks']} != {expected['ticks']}")
    check(manifest["header"]["seed"] == expected["seed"], "manifest header seed is the run's")
    check(manifest["header"]["world_hash"] == expected["world_hash"], "manifest header world hash is the run's")
    for name, want in expected["tables"].items():
        table = tables.get(name)
        check(table is not None, f"{name}: table exported")
        if table is None:
            continue
        cols = [table.column(c).to_pylist() for c in want["columns"]]
        got = [list(r) for r in zip(*cols)] if cols else []
        rows = want["rows"]
        check(len(rows) > 0 or name in ("stockpiles",), f"{name}: the run has rows to compare")
        check(len(got) == len(rows), f"{name}: {len(got)} rows, the run has {len(rows)}")
        bad = [(i, g, w) for i, (g, w) in enumerate(zip(got, rows)) if g != w]
        check(not bad, f"{name}: {len(bad)} rows differ from the run, e.g. {bad[:2]}")


def main(out_dir, expected_path=None):
    manifest = json.loads((out_dir / "manifest.json").read_text())
    check(manifest["format"] == "parquet", f"manifest format is parquet, got {manifest['format']}")
    tables = {}
    for entry in manifest["tables"]:
        name, path = entry["name"], out_dir / entry["file"]
        table = pq.read_table(path)
        tables[name] = table
        names = [c["name"] for c in entry["columns"]]
        check(table.schema.names == names, f"{name}: columns {table.schema.names} != {names}")
        for col in entry["columns"]:
            want = EXPECTED_TYPES[col["type"]]
            got = table.schema.field(col["name"]).type
            check(got == want, f"{name}.{col['name']}: type {got} != {want}")
        check(table.num_rows == entry["rows"], f"{name}: {table.num_rows} rows != manifest {entry['rows']}")
        meta = pq.read_metadata(path).metadata or {}
        header = meta.get(b"chokepoint.header")
        check(header is not None, f"{name}: no chokepoint.header metadata")
        if header is not None:
            h = json.loads(header)
            check(h["seed"] == manifest["header"]["seed"], f"{name}: header seed differs from manifest")
            check(bool(h["world_hash"]), f"{name}: header has no world hash")
        check(meta.get(b"chokepoint.table") == name.encode(), f"{name}: chokepoint.table metadata")
        if pl is not None:
            df = pl.read_parquet(path)
            check(df.columns == names, f"{name}: polars columns {df.columns}")
            check(df.height == entry["rows"], f"{name}: polars reads {df.height} rows")
            if "tick" in df.columns:
                check(df.schema["tick"] == pl.UInt64, f"{name}: polars tick type {df.schema['tick']}")

    prices = tables["prices"].column("price_usd_per_t").to_pylist()
    check(len(prices) > 0, "prices has rows")
    bad = [p for p in prices if not (math.isfinite(p) and p > 0)]
    check(not bad, f"prices finite and > 0 ({len(bad)} are not, e.g. {bad[:3]})")

    # Goods balance per (tick, commodity, stage, nation): flows in = obtained.
    inflow = defaultdict(float)
    f = tables["flows"].to_pydict()
    for t, c, s, d, q in zip(f["tick"], f["commodity"], f["stage"], f["destination"], f["quantity_t"]):
        inflow[(t, c, s, d)] += q
    obtained = defaultdict(float)
    sh = tables["shortages"].to_pydict()
    for t, c, s, n, q in zip(sh["tick"], sh["commodity"], sh["stage"], sh["nation"], sh["obtained_t"]):
        obtained[(t, c, s, n)] += q
    keys = sorted(set(inflow) | set(obtained))
    check(len(keys) > 0, "flows and shortages have rows")
    unbalanced = [(k, inflow[k], obtained[k]) for k in keys if not close(inflow[k], obtained[k])]
    check(
        not unbalanced,
        f"flows into a nation equal what its consumers obtained ({len(unbalanced)} of {len(keys)} differ, e.g. {unbalanced[:3]})",
    )

    # Shortage columns are consistent: shortage = max(0, wanted - obtained).
    ok = all(
        close(x, max(0.0, w - o))
        for w, o, x in zip(sh["wanted_t"], sh["obtained_t"], sh["shortage_t"])
    )
    check(ok, "shortage_t = max(0, wanted_t - obtained_t)")

    # Negotiation and adaptation tables (present in every export; rows only when the
    # run negotiated or adapted).
    rounds = tables["negotiation_rounds"].to_pydict()
    check(all(0 <= r < 4 for r in rounds["round"]), "negotiation rounds are 0..4 within a tick")
    d = tables["deliveries"].to_pydict()
    check(
        all(0.0 <= got <= planned * (1 + REL_TOL) + 1e-9 for got, planned in zip(d["delivered_t"], d["planned_t"])),
        "deliveries: 0 <= delivered_t <= planned_t",
    )
    ag = tables["agreements"].to_pydict()
    check(all(s <= t for s, t in zip(ag["signed_tick"], ag["tick"])), "agreements are signed by the tick they are listed at")
    r = tables["recycling"].to_pydict()
    check(
        all(
            close(share, sold / supply if supply > 0 else 0.0)
            for share, sold, supply in zip(r["recycled_share"], r["recycled_sold_t"], r["supply_t"])
        ),
        "recycling: recycled_share = recycled_sold_t / supply_t",
    )
    sub = tables["substitution"].to_pydict()
    check(
        all(math.isfinite(x) and x < 1.0 for x in sub["substitution_share"]),
        "substitution shares are finite and below 1",
    )
    p = tables["pipeline"].to_pydict()
    check(
        all((f is not None) == (k == "firm") for f, k in zip(p["firm"], p["kind"])),
        "pipeline: a firm is named exactly for firms' own projects",
    )
    check(
        all(s <= t < a for s, t, a in zip(p["started_tick"], p["tick"], p["arrives_at_tick"])),
        "pipeline: started <= tick < arrival",
    )

    # Welfare: one row per nation and tick.
    welfare = tables["welfare"]
    nations = len(set(welfare.column("nation").to_pylist()))
    check(welfare.num_rows == nations * manifest["ticks"], "welfare has one row per nation and tick")

    if expected_path is not None:
        compare_with_run(tables, manifest, json.loads(Path(expected_path).read_text()))


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        sys.exit(2)
    try:
        main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) == 3 else None)
    except Exception as e:  # a crash is a failure, reported like the others
        check(False, f"{type(e).__name__}: {e}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
