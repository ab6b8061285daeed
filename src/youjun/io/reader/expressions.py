"""The expressions of ``checks.toml``: arithmetic and comparisons over one row's cells, compiled to polars.

The syntax is Python's, of which only this is allowed: column keys of the sheet, thresholds of
``plausibility.toml`` and the check's own ``values`` by name; numbers, and text in quotes (compared to a text
column with ``==`` / ``!=``); ``+ - * /`` on numbers; ``> >= < <= == !=`` (chained, as in ``3 <= x <= 5``);
``and``, ``or``, ``not`` and parentheses. Nothing is evaluated by Python: the tree is translated node by node, so
an expression can only ever read the row it is given. A blank cell makes what it takes part in unknown, and an
unknown result never fails a row.

>>> names = Names(columns={"a": "number", "b": "number"}, thresholds={"limit": 50})
>>> fails = compile_expression("a > b and a / b > limit", names, want="bool")
>>> pl.DataFrame({"a": [120, 90, None], "b": [2, 3, 1]}).select(fails).to_series().to_list()
[True, False, None]
>>> compile_expression("a >", names, want="bool")
Traceback (most recent call last):
...
youjun.io.reader.expressions.ExpressionError: 表达式有语法错误：「a >」
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

Kind = Literal["number", "text", "bool"]
Value = pl.Expr | int | float | str
_KIND_NAMES: dict[Kind, str] = {"number": "数值", "text": "文本", "bool": "比较（是/否）"}

_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_COMPARISONS: dict[type[ast.cmpop], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
}
_ALLOWED = "只能使用列名、阈值、数字、+ - * /、比较（> >= < <= == !=）、and / or / not 和括号"


class ExpressionError(ValueError):
    """An expression that cannot be compiled; the message is the Chinese reason."""


@dataclass(frozen=True, slots=True)
class Names:
    """What an expression may name: columns (by kind), derived columns, thresholds and earlier values."""

    columns: Mapping[str, Kind]
    thresholds: Mapping[str, int | float]
    derived: Mapping[str, pl.Expr] = field(default_factory=dict)
    values: Mapping[str, tuple[Value, Kind]] = field(default_factory=dict)


def compile_expression(text: str, names: Names, *, want: Kind | None = None) -> Any:
    """The polars expression (or constant) of ``text``; ``want`` is the kind it must have.

    Raises ``ExpressionError`` with the reason in Chinese."""
    value, kind = compile_typed(text, names)
    if want is not None and kind != want:
        raise ExpressionError(f"表达式「{text}」的结果应为{_KIND_NAMES[want]}，而不是{_KIND_NAMES[kind]}")
    return value


def compile_typed(text: str, names: Names) -> tuple[Value, Kind]:
    """(value, kind) of ``text``: see ``compile_expression``."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ExpressionError(f"表达式有语法错误：「{text}」") from None
    return _Compiler(names, text).node(tree.body)


class _Compiler:
    def __init__(self, names: Names, text: str) -> None:
        self.names = names
        self.text = text

    def fail(self, message: str) -> ExpressionError:
        return ExpressionError(f"表达式「{self.text}」有误：{message}")

    def node(self, node: ast.expr) -> tuple[Value, Kind]:
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
            if isinstance(node.value, int | float):
                return node.value, "number"
            if isinstance(node.value, str):
                return node.value, "text"
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            return self.arithmetic(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            return self.unary(node)
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.BoolOp):
            parts = [self.boolean(v) for v in node.values]
            combined = parts[0]
            for part in parts[1:]:
                combined = combined & part if isinstance(node.op, ast.And) else combined | part
            return combined, "bool"
        shown = ast.get_source_segment(self.text.strip(), node) or type(node).__name__
        raise self.fail(f"不能使用「{shown}」（{_ALLOWED}）")

    def name(self, name: str) -> tuple[Value, Kind]:
        names = self.names
        if name in names.values:
            return names.values[name]
        if name in names.columns:
            return pl.col(name), names.columns[name]
        if name in names.derived:
            return names.derived[name], "number"
        if name in names.thresholds:
            return names.thresholds[name], "number"
        raise self.fail(f"有未知的名称「{name}」（应为该表的列名、合理性阈值或本检查 values 中的名称）")

    def number(self, node: ast.expr) -> pl.Expr | int | float:
        value, kind = self.node(node)
        if kind != "number" or isinstance(value, str):
            raise self.fail(f"算术运算只能用于数值，「{ast.unparse(node)}」是{_KIND_NAMES[kind]}")
        return value

    def boolean(self, node: ast.expr) -> pl.Expr:
        value, kind = self.node(node)
        if kind != "bool" or not isinstance(value, pl.Expr):
            raise self.fail(f"and / or / not 只能连接比较，「{ast.unparse(node)}」不是比较")
        return value

    def arithmetic(self, node: ast.BinOp) -> tuple[Value, Kind]:
        left, right = self.number(node.left), self.number(node.right)
        if not isinstance(left, pl.Expr) and not isinstance(right, pl.Expr):
            left = pl.lit(left)  # thresholds and numbers alone: computed by polars (x / 0 is inf, not an error)
        return _ARITHMETIC[type(node.op)](left, right), "number"

    def unary(self, node: ast.UnaryOp) -> tuple[Value, Kind]:
        if isinstance(node.op, ast.Not):
            return ~self.boolean(node.operand), "bool"
        value = self.number(node.operand)
        return (-value if isinstance(node.op, ast.USub) else value), "number"

    def compare(self, node: ast.Compare) -> tuple[Value, Kind]:
        operands = [self.node(n) for n in (node.left, *node.comparators)]
        result: pl.Expr | None = None
        for (left, left_kind), op, (right, right_kind) in zip(operands, node.ops, operands[1:], strict=False):
            if type(op) not in _COMPARISONS:
                raise self.fail(f"不能使用比较「{type(op).__name__}」（{_ALLOWED}）")
            symbol, apply = _COMPARISONS[type(op)]
            if left_kind == "bool" or right_kind == "bool" or left_kind != right_kind:
                raise self.fail(f"「{symbol}」两边应同为数值或同为文本")
            if left_kind == "text" and symbol not in ("==", "!="):
                raise self.fail(f"文本只能用 == 或 != 比较，不能用「{symbol}」")
            if not isinstance(left, pl.Expr) and not isinstance(right, pl.Expr):
                raise self.fail(f"「{symbol}」两边至少应有一列")
            step = apply(left, right)
            result = step if result is None else result & step
        assert result is not None
        return result, "bool"
