"""Rule sets: the evaluation standards as data (one TOML file per national or provincial standard)."""

from youjun.standards.loader import DEFAULT_RULE_SET, available_rule_sets, load_rule_set
from youjun.standards.model import Indicator, RuleSet

__all__ = ["DEFAULT_RULE_SET", "Indicator", "RuleSet", "available_rule_sets", "load_rule_set"]
