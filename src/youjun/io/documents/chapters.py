"""The chapters of the self-evaluation report that the county writes itself (its narrative), defined once.

A real 自评报告 opens with the county's own account (基本情况), says what it did (主要做法), then gives the results
of the evaluation, and ends with what is still wrong (存在的问题) and how it will be put right (整改措施与计划). The
figures are the system's; these chapters are the county's words. The web application stores one text per chapter
and county-year and shows the form from this list; the report places each chapter where :attr:`Chapter.place` says.
A chapter with no text is printed with :data:`PENDING`, so a draft shows what is still to be written (the command
line, which has no narrative, prints every chapter so).

>>> [c.title for c in CHAPTERS]
['基本情况', '主要做法', '存在的问题', '整改措施与计划']
>>> paragraphs(" 第一段。\\r\\n\\r\\n\\t第二段\\x07。\\n")
['第一段。', '第二段。']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["CHAPTERS", "MAX_CHARS", "PENDING", "PLACES", "Chapter", "by_key", "clean_text", "paragraphs"]

#: Where a chapter goes: ``basic`` opens the report's first part (基本情况, before its figures); ``before_results``
#: follows it, before the results of the evaluation; ``after_verdict`` follows the conclusion (自评结论).
Place = Literal["basic", "before_results", "after_verdict"]

#: How the page describes each place to the county.
PLACES: Mapping[str, str] = {
    "basic": "报告第一部分，置于数据概况之前",
    "before_results": "置于各项评估结果之前",
    "after_verdict": "置于评估结论之后",
}

#: The longest text of one chapter, in characters (a full 自评报告 runs to 10,000–30,000 characters).
MAX_CHARS = 20_000
#: What the report prints for a chapter the county has not written.
PENDING = "（由县级填写）"


@dataclass(frozen=True)
class Chapter:
    """One chapter the county writes: its key (stored), its title (printed) and what to write in it."""

    key: str
    title: str
    hint: str
    place: Place


CHAPTERS: tuple[Chapter, ...] = (
    Chapter(
        "overview",
        "基本情况",
        "县域概况：人口与区域、经济社会发展、义务教育学校和学生规模、通过基本均衡认定以来的发展情况。",
        "basic",
    ),
    Chapter(
        "measures",
        "主要做法",
        "为推进优质均衡采取的措施：政府责任与投入、学校建设与布局、教师队伍、教育质量、资源共享等，可分条目撰写。",
        "before_results",
    ),
    Chapter(
        "problems",
        "存在的问题",
        "对照评估结果，说明尚未达到标准的指标、学校和原因。",
        "after_verdict",
    ),
    Chapter(
        "plans",
        "整改措施与计划",
        "针对存在的问题，说明整改措施、责任单位和完成时限。",
        "after_verdict",
    ),
)


def by_key(key: str) -> Chapter | None:
    return next((c for c in CHAPTERS if c.key == key), None)


# Invisible characters pasted from other programs: XML 1.0 cannot hold them and no one can see or print them.
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1f\x7f\ufffe\uffff]")
_BREAKS = re.compile("\r\n|[\r\x0b\x0c\u2028\u2029]")


def clean_text(text: str) -> str:
    """A chapter's text as stored: line breaks unified to ``\\n``, tabs to spaces, invisible control characters
    dropped, trailing spaces of each line and blank lines at both ends removed."""
    text = _INVISIBLE.sub("", _BREAKS.sub("\n", text)).replace("\t", " ")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a chapter: one per non-blank line, without the spaces a county may indent with."""
    return [line.strip(" \u3000") for line in clean_text(text).split("\n") if line.strip(" \u3000")]
