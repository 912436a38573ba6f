#!/usr/bin/env python3
"""Regenerate runner/data/stable_abi.json: CPython's Stable ABI symbol list.

The runner embeds that file (include_str! in runner/src/audit.rs) to audit the
dynamic symbols a built extension imports. Only the *linkable* items of
CPython's Misc/stable_abi.toml are kept: every `[function.X]` and `[data.X]`
entry (including `abi_only` ones), with the version it was `added` in, its
`abi_only` flag and its `ifdef` feature macro, if any.

Two ways to get the data (pick one):

  # 1. (default) from the PyPI package `abi3info`, which ships data generated
  #    from CPython main's Misc/stable_abi.toml (its repository syncs daily):
  scripts/update-stable-abi.py                       # newest abi3info
  scripts/update-stable-abi.py --abi3info 2026.9.25  # a pinned version

  # 2. from a copy of Misc/stable_abi.toml itself (a path, or an https URL such
  #    as https://raw.githubusercontent.com/python/cpython/<rev>/Misc/stable_abi.toml);
  #    needs Python >= 3.11 (tomllib). Give the CPython revision it came from:
  scripts/update-stable-abi.py --toml path/to/stable_abi.toml --rev <commit>

Needs python3 >= 3.10 and, for (1), pip. Writes only the output file
(default: runner/data/stable_abi.json next to this script's repository).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "runner" / "data" / "stable_abi.json"
UPSTREAM = "https://github.com/python/cpython/blob/main/Misc/stable_abi.toml"


def _version_key(v: str) -> tuple[int, int]:
    major, minor = v.split(".")
    return int(major), int(minor)


def from_abi3info(version: str | None) -> tuple[dict, list[dict], list[str]]:
    """Download the abi3info wheel (no deps) and read its tables."""
    spec = f"abi3info=={version}" if version else "abi3info"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary", ":all:", "--dest", tmp, spec],
            check=True,
        )
        wheels = sorted(Path(tmp).glob("abi3info-*.whl"))
        if len(wheels) != 1:
            sys.exit(f"expected one abi3info wheel, got {wheels}")
        wheel = wheels[0]
        sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
        wheel_version = wheel.name.split("-")[1]
        # abi3info is pure Python: import it straight from the wheel (zipimport).
        sys.path.insert(0, str(wheel))
        import abi3info  # noqa: PLC0415
        from abi3info import models  # noqa: PLC0415

        symbols = []
        for kind, table in (("function", abi3info.FUNCTIONS), ("data", abi3info.DATAS)):
            for sym, item in table.items():
                symbols.append({
                    "name": sym.name,
                    "kind": kind,
                    "added": str(item.added),
                    "abi_only": bool(item.abi_only),
                    "ifdef": item.ifdef.name if item.ifdef else None,
                })
        # abi3t (PEP 803): structs whose layout is NOT part of abi3t even though
        # it is (fully or partly) part of abi3. Not symbols, but kept for reference.
        abi3t_opaque = sorted(
            name for name, s in abi3info.STRUCTS.items()
            if isinstance(s, models.PartialStruct)
            or (isinstance(s, models.FullStruct) and getattr(s, "abi3t_opaque", False))
        )
    meta = {
        "source": f"CPython Misc/stable_abi.toml (main) via abi3info {wheel_version}",
        "upstream": UPSTREAM,
        "derived_from": {
            "package": "abi3info (PyPI)",
            "version": wheel_version,
            "wheel": wheel.name,
            "wheel_sha256": sha,
            "note": "abi3info regenerates its tables from CPython main's "
                    "Misc/stable_abi.toml (daily bot); the wheel does not record "
                    "the CPython commit. Its version is its release date.",
        },
    }
    return meta, symbols, abi3t_opaque


def from_toml(src: str, rev: str) -> tuple[dict, list[dict], list[str]]:
    """Read a copy of Misc/stable_abi.toml (path or URL)."""
    import tomllib  # noqa: PLC0415  (Python >= 3.11)

    if src.startswith(("https://", "http://")):
        with urllib.request.urlopen(src) as r:  # noqa: S310
            raw = r.read()
    else:
        raw = Path(src).read_bytes()
    doc = tomllib.loads(raw.decode("utf-8"))
    symbols = []
    for kind in ("function", "data"):
        for name, item in doc[kind].items():
            symbols.append({
                "name": name,
                "kind": kind,
                "added": item["added"],
                "abi_only": bool(item.get("abi_only", False)),
                "ifdef": item.get("ifdef"),
            })
    abi3t_opaque = sorted(
        name for name, s in doc.get("struct", {}).items()
        if s.get("struct_abi_kind") == "members" or s.get("abi3t_opaque")
    )
    meta = {
        "source": f"CPython Misc/stable_abi.toml @ {rev}",
        "upstream": src,
        "derived_from": {
            "file_sha256": hashlib.sha256(raw).hexdigest(),
            "cpython_rev": rev,
        },
    }
    return meta, symbols, abi3t_opaque


def write(out: Path, meta: dict, symbols: list[dict], abi3t_opaque: list[str]) -> None:
    names = [s["name"] for s in symbols]
    if len(names) != len(set(names)):
        sys.exit("duplicate symbol names in the stable ABI data")
    for s in symbols:
        _version_key(s["added"])  # validates "3.N"
    symbols.sort(key=lambda s: s["name"])
    head = {
        **meta,
        "retrieved": _dt.date.today().isoformat(),
        "generated_by": "scripts/update-stable-abi.py",
        "contents": "Every [function.*] and [data.*] item of stable_abi.toml "
                    "(abi_only ones included): the linkable symbols of the "
                    "Stable ABI, with the version each was added in.",
        "abi3t_opaque_structs": abi3t_opaque,
        "abi3t_note": "No per-symbol abi3t/free-threading field exists in the "
                      "source; abi3t (PEP 803) information there is only about "
                      "struct layouts (listed above: structs that are opaque "
                      "under abi3t).",
    }
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"  {json.dumps(k)}: {json.dumps(v)},")
    lines.append('  "symbols": [')
    body = [
        "    " + json.dumps(s, separators=(", ", ": "))
        for s in symbols
    ]
    lines.append(",\n".join(body))
    lines.append("  ]")
    lines.append("}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    json.loads(out.read_text(encoding="utf-8"))  # sanity
    newest = max((s["added"] for s in symbols), key=_version_key)
    print(f"wrote {out}: {len(symbols)} symbols, newest 'added' = {newest}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--abi3info", metavar="VERSION", nargs="?", const="",
                   help="use the abi3info wheel from PyPI (default; newest if no VERSION)")
    g.add_argument("--toml", metavar="PATH_OR_URL", help="use a copy of Misc/stable_abi.toml")
    ap.add_argument("--rev", help="CPython revision of --toml (required with --toml)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = ap.parse_args()
    if a.toml:
        if not a.rev:
            ap.error("--toml needs --rev")
        meta, symbols, opaque = from_toml(a.toml, a.rev)
    else:
        meta, symbols, opaque = from_abi3info(a.abi3info or None)
    write(a.out, meta, symbols, opaque)


if __name__ == "__main__":
    main()
