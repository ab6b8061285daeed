"""Form definitions: the typed model and the TOML loader.

A form (申报表, 推荐表) is data: one TOML file per form and version in ``definitions/`` named ``<id>.v<version>.toml``,
so a ministry can change a form by shipping a new file, never new code. A definition names its sections and fields;
a field has a type (``text``, ``longtext``, ``int``, ``number``, ``percent``, ``year``, ``date``, ``choice``,
``multichoice``, ``table``), optional unit, choices, bounds, note, the dotted ``source`` path it is pre-filled from
(see :mod:`youjun.forms.context`), whether the user may edit it, and for ``longtext`` whether it is an opinion box
with a signature line. A ``table`` field has ``columns`` and either fixed ``rows`` (each column's ``source`` may use
``{row}``, the row key) or a ``row_source`` (a list in the context; column sources are then paths inside each item).

Every mistake in a definition file is reported with the file name and the dotted key (``sections[1].fields[3].type``),
all of them at once, like the rule-set loader does.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

from youjun.errors import YoujunError
from youjun.standards.tables import TableReader
from youjun.standards.tables import join as _join

__all__ = [
    "DEFINITIONS_DIR",
    "Column",
    "Field",
    "FieldType",
    "FormDefinition",
    "Row",
    "Section",
    "available_forms",
    "load_form",
    "load_form_file",
]

DEFINITIONS_DIR = Path(__file__).with_name("definitions")

FieldType = Literal["text", "longtext", "int", "number", "percent", "year", "date", "choice", "multichoice", "table"]
FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
CELL_TYPES = tuple(t for t in FIELD_TYPES if t not in ("table", "longtext"))
_FILE_NAME = re.compile(r"^(?P<id>[a-z0-9][a-z0-9-]*)\.v(?P<version>[1-9][0-9]*)\.toml$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")

_FORM_KEYS = frozenset({"id", "version", "title", "notes", "sections"})
_SECTION_KEYS = frozenset({"key", "title", "note", "fields"})
_FIELD_KEYS = frozenset(
    {
        "key",
        "label",
        "type",
        "unit",
        "required",
        "choices",
        "note",
        "source",
        "source_map",
        "editable",
        "opinion",
        "signer",
        "decimals",
        "min",
        "max",
        "columns",
        "rows",
        "row_source",
        "row_header",
    }
)
_COLUMN_KEYS = frozenset({"key", "label", "type", "unit", "required", "choices", "source", "decimals", "min", "max"})


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a table field; its cells are typed like a scalar field."""

    key: str
    label: str
    type: FieldType = "text"
    unit: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    source: str | None = None
    decimals: int | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    label: str
    type: FieldType
    unit: str = ""
    required: bool = False
    choices: tuple[str, ...] = ()
    note: str = ""
    source: str | None = None
    source_map: Mapping[str, str] | None = None
    editable: bool = True
    opinion: bool = False
    signer: str = ""
    decimals: int | None = None
    min: float | None = None
    max: float | None = None
    columns: tuple[Column, ...] = ()
    rows: tuple[Row, ...] = ()
    row_source: str | None = None
    row_header: str = ""

    @property
    def caption(self) -> str:
        """The label as printed, with the unit: 「常住人口（万人）」."""
        return f"{self.label}（{self.unit}）" if self.unit else self.label


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    fields: tuple[Field, ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class FormDefinition:
    id: str
    version: int
    title: str
    sections: tuple[Section, ...]
    notes: tuple[str, ...] = ()
    file: str = ""

    @property
    def fields(self) -> Iterator[Field]:
        for section in self.sections:
            yield from section.fields

    def field(self, key: str) -> Field:
        for item in self.fields:
            if item.key == key:
                return item
        raise KeyError(key)


# ----------------------------------------------------------------------------------------------------
# Loading


def _definition_files(directory: Path) -> dict[str, dict[int, Path]]:
    found: dict[str, dict[int, Path]] = {}
    for path in sorted(directory.glob("*.toml")):
        match = _FILE_NAME.match(path.name)
        if match:
            found.setdefault(match["id"], {})[int(match["version"])] = path
    return found


def load_form(
    form_id: str, version: int | None = None, *, directory: str | os.PathLike[str] | None = None
) -> FormDefinition:
    """The definition of ``form_id`` (its latest version unless ``version`` is given) from the shipped definitions
    or from ``directory``."""
    folder = Path(directory) if directory is not None else DEFINITIONS_DIR
    files = _definition_files(folder)
    if form_id not in files:
        known = "、".join(sorted(files)) or "（无）"
        raise YoujunError.single("form_unknown", f"找不到表单「{form_id}」。可用的表单：{known}")
    versions = files[form_id]
    chosen = max(versions) if version is None else version
    if chosen not in versions:
        known = "、".join(str(v) for v in sorted(versions))
        raise YoujunError.single("form_version_unknown", f"表单「{form_id}」没有第 {chosen} 版。现有版本：{known}")
    return load_form_file(versions[chosen])


def available_forms(*, directory: str | os.PathLike[str] | None = None) -> list[FormDefinition]:
    """The latest version of every form, ordered by id."""
    folder = Path(directory) if directory is not None else DEFINITIONS_DIR
    return [load_form(form_id, directory=folder) for form_id in sorted(_definition_files(folder))]


def load_form_file(path: str | os.PathLike[str]) -> FormDefinition:
    """Load and check one definition file; every problem is reported with the file name and dotted key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise YoujunError.single("form_missing", "表单定义文件不存在", file=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise YoujunError.single("form_syntax", f"表单定义文件格式错误（TOML）：{exc}", file=path.name) from None
    reader = _Reader(path.name)
    definition = reader.form(data)
    match = _FILE_NAME.match(path.name)
    if match and not reader.problems:
        if match["id"] != definition.id:
            reader.fail("id", f"应与文件名一致（{match['id']}）", definition.id)
        if int(match["version"]) != definition.version:
            reader.fail("version", f"应与文件名一致（{match['version']}）", definition.version)
    if reader.problems:
        raise YoujunError(reader.problems)
    return definition


class _Reader(TableReader):
    """Typed access to the TOML tables of a form definition, collecting problems with their dotted keys."""

    def __init__(self, file: str) -> None:
        super().__init__(file, "form_invalid")

    def tables(self, data: Mapping[str, Any], key: str, path: str) -> list[tuple[str, dict[str, Any]]]:
        value = self.get(data, key, path, list, [])
        out: list[tuple[str, dict[str, Any]]] = []
        for i, item in enumerate(value):
            where = f"{_join(path, key)}[{i}]"
            if isinstance(item, dict):
                out.append((where, item))
            else:
                self.fail(where, "应为表（table）", item)
        return out

    def key(self, data: Mapping[str, Any], path: str, seen: set[str]) -> str:
        key = str(self.get(data, "key", path, str))
        if key and not _KEY.match(key):
            self.fail(_join(path, "key"), "只能由小写英文字母、数字和下划线组成，并以字母开头", key)
        if key in seen:
            self.fail(_join(path, "key"), "与前面的键重复", key)
        seen.add(key)
        return key

    def form(self, data: Mapping[str, Any]) -> FormDefinition:
        self.unknown(data, _FORM_KEYS, "")
        form_id = str(self.get(data, "id", "", str))
        version = int(self.get(data, "version", "", int))
        if version < 1 and "version" in data:
            self.fail("version", "应为正整数", version)
        title = str(self.get(data, "title", "", str))
        notes = self.strings(data, "notes", "", ())
        seen: set[str] = set()
        section_keys: set[str] = set()
        sections = tuple(
            self.section(where, item, seen, section_keys) for where, item in self.tables(data, "sections", "")
        )
        if not sections and "sections" in data:
            self.fail("sections", "至少需要一个部分")
        elif "sections" not in data:
            self.fail("sections", "缺少必填项")
        return FormDefinition(form_id, version, title, sections, notes, self.file)

    def section(self, path: str, data: Mapping[str, Any], seen: set[str], section_keys: set[str]) -> Section:
        self.unknown(data, _SECTION_KEYS, path)
        key = self.key(data, path, section_keys)
        title = str(self.get(data, "title", path, str))
        note = str(self.get(data, "note", path, str, ""))
        fields = tuple(self.field(where, item, seen) for where, item in self.tables(data, "fields", path))
        if not fields:
            self.fail(_join(path, "fields"), "至少需要一个字段")
        return Section(key, title, fields, note)

    def _common(self, path: str, data: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
        kind = str(self.get(data, "type", path, str, "text"))
        if kind not in allowed:
            self.fail(_join(path, "type"), "取值应为：" + " / ".join(allowed), kind)
            kind = "text"
        choices = self.strings(data, "choices", path, ())
        if kind in ("choice", "multichoice") and not choices:
            self.fail(_join(path, "choices"), "单选或多选字段必须列出可选值")
        if choices and kind not in ("choice", "multichoice"):
            self.fail(_join(path, "choices"), "只有单选或多选字段可以有可选值")
        decimals = self.get(data, "decimals", path, int, None)
        if decimals is not None and not 0 <= decimals <= 6:
            self.fail(_join(path, "decimals"), "应为 0–6 之间的整数", decimals)
        return {
            "label": str(self.get(data, "label", path, str)),
            "type": cast(FieldType, kind),
            "unit": str(self.get(data, "unit", path, str, "")),
            "required": bool(self.get(data, "required", path, bool, False)),
            "choices": choices,
            "source": self.get(data, "source", path, str, None),
            "decimals": decimals,
            "min": self.get(data, "min", path, float, None),
            "max": self.get(data, "max", path, float, None),
        }

    def field(self, path: str, data: Mapping[str, Any], seen: set[str]) -> Field:
        self.unknown(data, _FIELD_KEYS, path)
        key = self.key(data, path, seen)
        common = self._common(path, data, FIELD_TYPES)
        source_map = self.get(data, "source_map", path, dict, None)
        if source_map is not None and not all(isinstance(v, str) for v in source_map.values()):
            self.fail(_join(path, "source_map"), "取值应为字符串", source_map)
            source_map = None
        opinion = bool(self.get(data, "opinion", path, bool, False))
        if opinion and common["type"] != "longtext":
            self.fail(_join(path, "opinion"), "只有多行文本（longtext）字段可以作为意见栏")
        columns: tuple[Column, ...] = ()
        rows: tuple[Row, ...] = ()
        row_source = self.get(data, "row_source", path, str, None)
        if common["type"] == "table":
            columns = self.columns(path, data)
            rows = self.rows(path, data)
            if rows and row_source:
                self.fail(_join(path, "row_source"), "固定行（rows）和行来源（row_source）只能二选一")
        else:
            for key_name in ("columns", "rows", "row_source", "row_header"):
                if key_name in data:
                    self.fail(_join(path, key_name), "只有表格（table）字段可以设置该项")
        return Field(
            key=key,
            note=str(self.get(data, "note", path, str, "")),
            source_map=source_map,
            editable=bool(self.get(data, "editable", path, bool, True)),
            opinion=opinion,
            signer=str(self.get(data, "signer", path, str, "")),
            columns=columns,
            rows=rows,
            row_source=row_source,
            row_header=str(self.get(data, "row_header", path, str, "")),
            **common,
        )

    def columns(self, path: str, data: Mapping[str, Any]) -> tuple[Column, ...]:
        out: list[Column] = []
        seen: set[str] = set()
        for where, item in self.tables(data, "columns", path):
            self.unknown(item, _COLUMN_KEYS, where)
            key = self.key(item, where, seen)
            out.append(Column(key=key, **self._common(where, item, CELL_TYPES)))
        if not out:
            self.fail(_join(path, "columns"), "表格字段至少需要一列")
        return tuple(out)

    def rows(self, path: str, data: Mapping[str, Any]) -> tuple[Row, ...]:
        out: list[Row] = []
        seen: set[str] = set()
        for where, item in self.tables(data, "rows", path):
            self.unknown(item, frozenset({"key", "label"}), where)
            key = str(self.get(item, "key", where, str))
            if key in seen:
                self.fail(_join(where, "key"), "与前面的行重复", key)
            seen.add(key)
            out.append(Row(key, str(self.get(item, "label", where, str))))
        return tuple(out)
