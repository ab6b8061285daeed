"""Pure computation of the 2017 method (and the 2012 composite) on Polars frames. No I/O, no web imports.

Modules follow the parts of the method: ``scope`` (who is evaluated), ``split`` (multi-stage schools into units),
``resources`` (R1–R7 per unit, per-school rule, shortfall), ``balance`` (student-weighted difference coefficient,
influence, 2012 composite), ``evaluate`` (the resource-allocation evaluation of every county), ``items`` with
``guarantee`` (G1–G15) and ``quality`` (Q1–Q9), and ``assessment`` (eligibility, S1, vetoes V1–V7 and the verdict).
"""

#: The version of the computation. Bump it with every change that can alter a stored figure, status or text: stored
#: results carry it, and a result made by another version is "结果待更新" until it is recomputed.
ENGINE_VERSION = "2026.12.1"

from youjun.engine.assessment import Assessment, assess  # noqa: E402
from youjun.engine.balance import difference_coefficient  # noqa: E402
from youjun.engine.evaluate import ResourceEvaluation, evaluate_resources  # noqa: E402
from youjun.engine.guarantee import evaluate_guarantee  # noqa: E402
from youjun.engine.items import ItemEvaluation  # noqa: E402
from youjun.engine.quality import evaluate_quality  # noqa: E402

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
