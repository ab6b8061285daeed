"""Pure computation of the 2017 method (and the 2012 composite) on Polars frames. No I/O, no web imports.

Modules follow the parts of the method: ``scope`` (who is evaluated), ``split`` (multi-stage schools into units),
``resources`` (R1–R7 per unit, per-school rule, shortfall), ``balance`` (student-weighted difference coefficient,
influence, 2012 composite), ``evaluate`` (the resource-allocation evaluation of every county), ``items`` with
``guarantee`` (G1–G15) and ``quality`` (Q1–Q9), and ``assessment`` (eligibility, S1, vetoes V1–V7 and the verdict).
"""

#: The version of the computation. Bump it with every change that can alter a stored figure, status or text: stored
#: results carry it, and a result made by another version is "结果待更新" until it is recomputed.
ENGINE_VERSION = "2026.12.1"

import importlib  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

if TYPE_CHECKING:
    from youjun.engine.assessment import Assessment, assess
    from youjun.engine.balance import difference_coefficient
    from youjun.engine.evaluate import ResourceEvaluation, evaluate_resources
    from youjun.engine.guarantee import evaluate_guarantee
    from youjun.engine.items import ItemEvaluation
    from youjun.engine.quality import evaluate_quality

#: Where each name of the package is defined: imported when first used, so that the resource evaluation alone (the
#: command line's ``evaluate`` of a school file) does not import the county parts.
_EXPORTS = {
    "Assessment": "assessment",
    "assess": "assessment",
    "difference_coefficient": "balance",
    "ResourceEvaluation": "evaluate",
    "evaluate_resources": "evaluate",
    "evaluate_guarantee": "guarantee",
    "ItemEvaluation": "items",
    "evaluate_quality": "quality",
}
_MODULES = frozenset(
    {
        "assessment",
        "balance",
        "evaluate",
        "forecast",
        "guarantee",
        "items",
        "monitoring",
        "precision",
        "quality",
        "recognition",
        "resources",
        "scope",
        "split",
        "status",
    }
)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    elif name in _MODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [
    "ENGINE_VERSION",
    "Assessment",
    "ItemEvaluation",
    "ResourceEvaluation",
    "assess",
    "difference_coefficient",
    "evaluate_guarantee",
    "evaluate_quality",
    "evaluate_resources",
]
