"""Typed reading of TOML tables that collects every problem with its file and dotted key (rule sets, form
definitions): a file with mistakes is reported whole, in Chinese, never one error at a time."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, cast

from youjun.errors import Location, Problem

EMPTY: dict[type, Any] = {int: 0, float: 0.0, str: "", bool: False, list: [], dict: {}}
KIND_NAMES = {
    int: "整数",
    float: "数值",
    str: "字符串",
    bool: "布尔值（true/false）",
    list: "列表",
    dict: "表",
}


def unknown_key_message(key: str, known: Iterable[str]) -> str:
    """The message for a key no table of its kind has: the likeliest intended keys first, then the others.

    >>> unknown_key_message("treshold", ["name", "threshold", "scale"])
    '未知的设置项（是否拼写错误？可用的设置项：threshold、name、scale）'
    """
    keys = list(dict.fromkeys(known))
    if not keys:
        return "未知的设置项（请检查拼写）"
    close = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
    ordered = [*close, *(k for k in keys if k not in close)]
    return "未知的设置项（是否拼写错误？可用的设置项：" + "、".join(ordered) + "）"


def join(*parts: str) -> str:
    """A dotted key from its parts, skipping empty ones: ``join("", "a", "b") == "a.b"``."""
    return ".".join(p for p in parts if p)


class TableReader:
    """Typed access to parsed TOML tables; ``problems`` collects what is wrong, each with ``code``."""

    def __init__(self, file: str, code: str) -> None:
        self.file = file
        self.code = code
        self.problems: list[Problem] = []

    def fail(self, key: str, message: str, value: object = None) -> None:
        shown = None if value is None else repr(value)
        self.problems.append(Problem(self.code, message, "error", Location(file=self.file, field=key, value=shown)))

    def table(self, data: Mapping[str, Any], key: str, path: str, required: bool = True) -> dict[str, Any]:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(join(path, key), "缺少该表（table）")
            return {}
        if not isinstance(value, dict):
            self.fail(join(path, key), "应为表（table）", value)
            return {}
        return value

    def get(self, data: Mapping[str, Any], key: str, path: str, kind: type, default: Any = ..., **rules: Any) -> Any:
        """``data[key]`` of type ``kind`` (an int is a float), checked against ``ge``, ``gt``, ``le``, ``choices``.

        Missing: ``default``, or a problem when there is none. Wrong type: a problem and an empty value (or the
        default)."""
        full = join(path, key)
        if key not in data:
            if default is ...:
                self.fail(full, "缺少必填项")
                return EMPTY[kind]
            return default
        value = data[key]
        ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            self.fail(full, f"类型应为{KIND_NAMES[kind]}", value)
            return EMPTY[kind] if default is ... else default
        if "ge" in rules and value < rules["ge"]:
            self.fail(full, f"应不小于 {rules['ge']}", value)
        if "gt" in rules and value <= rules["gt"]:
            self.fail(full, f"应大于 {rules['gt']}", value)
        if "le" in rules and value > rules["le"]:
            self.fail(full, f"应不大于 {rules['le']}", value)
        if "choices" in rules and value not in rules["choices"]:
            self.fail(full, "取值应为：" + " / ".join(map(str, rules["choices"])), value)
        return value

    def strings(self, data: Mapping[str, Any], key: str, path: str, default: Any = ...) -> tuple[str, ...]:
        """A list of strings; required unless a ``default`` (``()``, ``None``) is given."""
        value = self.get(data, key, path, list, default)
        if value is None or isinstance(value, tuple):
            return cast(tuple[str, ...], value)
        if not all(isinstance(v, str) for v in value):
            self.fail(join(path, key), "应为字符串列表", value)
            return ()
        return tuple(value)

    def unknown(self, data: Mapping[str, Any], known: Iterable[str], path: str) -> None:
        """A problem for every key of ``data`` outside ``known`` (listed in the message: a sequence in its order,
        a set sorted)."""
        allowed = sorted(known) if isinstance(known, set | frozenset) else list(known)
        for key in sorted(set(data) - set(allowed)):
            self.fail(join(path, key), unknown_key_message(key, allowed))
