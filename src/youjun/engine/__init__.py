"""Pure computation of the 2017 method (and the 2012 composite) on Polars frames. No I/O, no web imports.

Modules follow the parts of the method: ``scope`` (who is evaluated), ``split`` (multi-stage schools into units),
``resources`` (R1–R7 per unit, per-school rule, shortfall), ``balance`` (student-weighted difference coefficient,
influence, 2012 composite), ``evaluate`` (the resource-allocation evaluation of every county), ``items`` with
``guarantee`` (G1–G15) and ``quality`` (Q1–Q9), and ``assessment`` (eligibility, S1, vetoes V1–V7 and the verdict).
"""

from youjun.engine.assessment import Assessment, assess
from youjun.engine.balance import difference_coefficient
from youjun.engine.evaluate import ResourceEvaluation, evaluate_resources
from youjun.engine.guarantee import evaluate_guarantee
from youjun.engine.items import ItemEvaluation
from youjun.engine.quality import evaluate_quality

__all__ = [
    "Assessment",
    "ItemEvaluation",
    "ResourceEvaluation",
    "assess",
    "difference_coefficient",
    "evaluate_guarantee",
    "evaluate_quality",
    "evaluate_resources",
]
