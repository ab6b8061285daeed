"""Pure computation of the 2017 method (and the 2012 composite) on Polars frames. No I/O, no web imports.

Modules follow the parts of the method: ``scope`` (who is evaluated), ``split`` (multi-stage schools into units),
``resources`` (R1–R7 per unit, per-school rule, shortfall), ``balance`` (student-weighted difference coefficient,
influence, 2012 composite), ``evaluate`` (the resource-allocation evaluation of every county).
"""

from youjun.engine.balance import difference_coefficient
from youjun.engine.evaluate import ResourceEvaluation, evaluate_resources

__all__ = ["ResourceEvaluation", "difference_coefficient", "evaluate_resources"]
