"""The creation-task catalogue (data/tackling-list.toml): four basic tasks and the 5 groups / 20 tackling items."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOGUE = Path(__file__).parent / "data" / "tackling-list.toml"


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    group: str = ""
    text: str = ""

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Catalogue:
    basic: tuple[Item, ...]
    groups: tuple[Group, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for group in self.groups for item in group.items)

    def by_code(self) -> dict[str, Item]:
        return {item.code: item for item in (*self.basic, *self.items)}


@cache
def catalogue() -> Catalogue:
    """The catalogue, read once; a code change is needed only when the file's shape changes, not its items."""
    data = tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))
    basic = tuple(Item(b["code"], b["name"], text=b.get("text", "")) for b in data["basic"])
    groups = tuple(
        Group(g["code"], g["name"], tuple(Item(i["code"], i["name"], group=g["code"]) for i in g["items"]))
        for g in data["group"]
    )
    return Catalogue(basic, groups)
