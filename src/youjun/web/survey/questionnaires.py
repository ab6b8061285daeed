"""Questionnaires as data: one TOML file per respondent group in ``survey/data/`` plus ``settings.toml``.

A campaign never reads these files after it is created: it stores a *snapshot* (``snapshot()``) of the
questionnaires (id + version + questions), the answer scale of the rule set and the protection settings, so editing
a file later never changes what old answers mean.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from youjun.engine.recognition import RecognitionRules

DATA = Path(__file__).resolve().parent / "data"
SETTINGS_FILE = "settings.toml"


class QuestionnaireError(ValueError):
    """A questionnaire file is malformed (the message names the file and the key)."""


def _check(name: str, doc: dict[str, Any]) -> dict[str, Any]:
    for key in ("id", "version", "group", "group_name", "title", "questions"):
        if key not in doc:
            raise QuestionnaireError(f"{name}: 缺少 {key}")
    seen: set[str] = set()
    for i, q in enumerate(doc["questions"], 1):
        if not isinstance(q, dict) or not q.get("id") or not q.get("text"):
            raise QuestionnaireError(f"{name}: 第 {i} 题缺少 id 或 text")
        if q["id"] in seen:
            raise QuestionnaireError(f"{name}: 题目编号 {q['id']} 重复")
        seen.add(q["id"])
    return doc


@cache
def settings() -> dict[str, Any]:
    """``settings.toml``: content areas, protections of open links, default quota shares."""
    with (DATA / SETTINGS_FILE).open("rb") as f:
        return tomllib.load(f)


@cache
def default_questionnaires() -> dict[str, dict[str, Any]]:
    """Group key → questionnaire, in the files' ``order``."""
    docs = []
    for path in sorted(DATA.glob("*.toml")):
        if path.name == SETTINGS_FILE:
            continue
        with path.open("rb") as f:
            docs.append(_check(path.name, tomllib.load(f)))
    docs.sort(key=lambda d: (d.get("order", 99), d["group"]))
    return {d["group"]: d for d in docs}


def ordered_groups(questionnaire: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The groups of a campaign's snapshot in questionnaire order (a JSON object's key order is not kept)."""
    groups = questionnaire["groups"]
    return sorted(groups.items(), key=lambda item: (item[1].get("order", 99), item[0]))


def group_names() -> dict[str, str]:
    return {g: d["group_name"] for g, d in default_questionnaires().items()}


def quota_shares() -> dict[str, float]:
    return {str(k): float(v) for k, v in settings().get("quota_shares", {}).items()}


def snapshot(rules: RecognitionRules, standard: str) -> dict[str, Any]:
    """What a campaign stores: questionnaires, answer scale and protections, frozen at creation."""
    return {
        "standard": standard,
        "scale": list(rules.scale),
        "positive": list(rules.positive),
        "excluded": list(rules.excluded),
        "areas": dict(settings().get("areas", {})),
        "protection": dict(settings()["protection"]),
        # jsonb (PostgreSQL) does not keep key order: the order is stored with each group.
        "groups": {
            g: {
                "order": position,
                "id": d["id"],
                "version": d["version"],
                "name": d["group_name"],
                "title": d["title"],
                "intro": d.get("intro", ""),
                "questions": [{"id": q["id"], "area": q.get("area", ""), "text": q["text"]} for q in d["questions"]],
            }
            for position, (g, d) in enumerate(default_questionnaires().items())
        },
    }
