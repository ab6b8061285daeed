"""The creation-task catalogue (data/tackling-list.toml): the four basic tasks and the 5 groups / 20 tackling items
of the 2021 notice, in its own (restored) words, programme.md §2.3a.

Every page, form and document that names a task reads it from here, so a better copy of the notice corrects one data
file and nothing else. The file's shape is checked when it is read: a mistake names the file and the entry.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).parent / "data" / "tackling-list.toml"


@dataclass(frozen=True)
class Item:
    """A basic task (B1–B4) or a tackling item (1.1–5.2). ``note`` marks uncertain wording of the restored text."""

    code: str
    name: str
    group: str = ""
    text: str = ""
    note: str = ""
    group_name: str = ""

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def group_label(self) -> str:
        return f"{self.group}. {self.group_name}" if self.group else ""


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    items: tuple[Item, ...]

    @property
    def label(self) -> str:
        """The group's heading as pages show it: "1. 科学规划建设学校"."""
        return f"{self.code}. {self.name}"


@dataclass(frozen=True)
class Catalogue:
    basic: tuple[Item, ...]
    groups: tuple[Group, ...]
    basic_title: str = "基本任务"
    tackling_title: str = "攻坚清单"
    source: str = ""

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for group in self.groups for item in group.items)

    def by_code(self) -> dict[str, Item]:
        return {item.code: item for item in (*self.basic, *self.items)}

    def grouped(self, codes: list[str] | set[str] | tuple[str, ...]) -> list[tuple[Group, list[Item]]]:
        """The groups holding any of ``codes`` with those items, in the notice's order (headings for a selection)."""
        wanted = set(codes)
        out = []
        for group in self.groups:
            chosen = [i for i in group.items if i.code in wanted]
            if chosen:
                out.append((group, chosen))
        return out


class CatalogueError(ValueError):
    """The data file does not have the catalogue's shape."""


def _text(entry: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise CatalogueError(f"{CATALOGUE.name}: {where} 的 {key} 应为非空文字")
    return value.strip()


def parse(text: str) -> Catalogue:
    """The catalogue from the file's text; every code unique, every item numbered inside its group."""
    data = tomllib.loads(text)
    known = {"source", "basic_title", "tackling_title", "basic", "group"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise CatalogueError(f"{CATALOGUE.name}: 未知的键 {', '.join(unknown)}")
    seen: set[str] = set()

    def item(entry: Any, where: str, group: str = "", group_name: str = "") -> Item:
        if not isinstance(entry, dict):
            raise CatalogueError(f"{CATALOGUE.name}: {where} 应为表")
        extra = sorted(set(entry) - {"code", "name", "text", "note"})
        if extra:
            raise CatalogueError(f"{CATALOGUE.name}: {where} 有未知的键 {', '.join(extra)}")
        code = _text(entry, "code", where)
        if code in seen:
            raise CatalogueError(f"{CATALOGUE.name}: 编号 {code} 重复")
        if group and not code.startswith(group + "."):
            raise CatalogueError(f"{CATALOGUE.name}: {code} 不属于第 {group} 组")
        seen.add(code)
        return Item(
            code,
            _text(entry, "name", code),
            group=group,
            text=_text(entry, "text", code, required=False),
            note=_text(entry, "note", code, required=False),
            group_name=group_name,
        )

    basic = tuple(item(b, f"basic[{n}]") for n, b in enumerate(data.get("basic", [])))
    groups = []
    for n, g in enumerate(data.get("group", [])):
        code, name = _text(g, "code", f"group[{n}]"), _text(g, "name", f"group[{n}]")
        if code in seen:
            raise CatalogueError(f"{CATALOGUE.name}: 编号 {code} 重复")
        seen.add(code)
        entries = g.get("items", [])
        if not entries:
            raise CatalogueError(f"{CATALOGUE.name}: 第 {code} 组没有条目")
        groups.append(
            Group(code, name, tuple(item(i, f"{code} 组第 {k + 1} 项", code, name) for k, i in enumerate(entries)))
        )
    if not basic or not groups:
        raise CatalogueError(f"{CATALOGUE.name}: 应有 basic（基本任务）和 group（攻坚清单）")
    return Catalogue(
        basic,
        tuple(groups),
        basic_title=str(data.get("basic_title", "基本任务")),
        tackling_title=str(data.get("tackling_title", "攻坚清单")),
        source=str(data.get("source", "")),
    )


@cache
def catalogue() -> Catalogue:
    """The catalogue, read once; a code change is needed only when the file's shape changes, not its wording."""
    return parse(CATALOGUE.read_text(encoding="utf-8"))
