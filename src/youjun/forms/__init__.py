"""Data-defined forms (申报表, 推荐表): definition files, pre-filling from the data, validation, Word/Excel output.

>>> defn = load_form("recommendation-2021")
>>> defn.title
'义务教育优质均衡先行创建县(市、区)推荐表'
>>> values = prefill(defn, make_context(county={"name": "鸠江区", "code": "340207"}))
>>> values["county_name"], values["county_code"]
('鸠江区', '340207')
"""

from youjun.forms.context import evaluation_summary, make_context, registry_summary
from youjun.forms.definition import (
    Column,
    Field,
    FieldType,
    FormDefinition,
    Row,
    Section,
    available_forms,
    load_form,
    load_form_file,
)
from youjun.forms.fill import display, flatten, prefill, resolve, validate
from youjun.forms.render import FIELDS_SHEET, FORM_SHEET, form_docx, form_xlsx

__all__ = [
    "FIELDS_SHEET",
    "FORM_SHEET",
    "Column",
    "Field",
    "FieldType",
    "FormDefinition",
    "Row",
    "Section",
    "available_forms",
    "display",
    "evaluation_summary",
    "flatten",
    "form_docx",
    "form_xlsx",
    "load_form",
    "load_form_file",
    "make_context",
    "prefill",
    "registry_summary",
    "resolve",
    "validate",
]
