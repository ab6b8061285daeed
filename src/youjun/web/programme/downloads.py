"""Every recommendation form of a batch (of one province, or of the whole jurisdiction) as one .zip of Word files,
prepared in the background form by form (see ``youjun.web.downloads``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from youjun.errors import YoujunError
from youjun.web.accounts.models import User
from youjun.web.accounts.scoping import can_see_unit, scoped
from youjun.web.downloads.services import Progress, register
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.programme import recommendation_docs
from youjun.web.programme.models import Batch, Nomination, NominationStatus

FORMS_KIND = "programme.forms"


def forms_of(owner: User, batch: Batch, province_code: str = "") -> QuerySet[Nomination]:
    """The nominations whose forms the bundle holds: the province's (``province_code``) or all the owner sees;
    withdrawn ones are left out."""
    if province_code:
        province = OrgUnit.objects.filter(code=province_code, level=Level.PROVINCE).first()
        if province is None or not can_see_unit(owner, province):
            raise YoujunError.single("not_found", "不存在或不在管辖范围内。")
        chosen = batch.nominations.filter(province=province)
    else:
        chosen = scoped(batch.nominations.all(), owner, "county__code")
    return chosen.exclude(status=NominationStatus.WITHDRAWN).select_related("county__parent", "batch")


def build_forms(owner: User, params: Mapping[str, Any], progress: Progress, target: Path) -> None:
    batch = Batch.objects.filter(number=int(params["number"])).first()
    if batch is None:
        raise YoujunError.single("not_found", "未找到该批次。")
    chosen = list(forms_of(owner, batch, str(params.get("province", ""))).order_by("county__code"))
    if not chosen:
        raise YoujunError.single("not_found", "没有可下载的推荐表。")
    progress.step("生成推荐表 Word 文件", total=len(chosen))
    content, _count = recommendation_docs.bundle(chosen, progress.advance)
    target.write_bytes(content)


def register_all() -> None:
    register(FORMS_KIND, "推荐表打包下载（.zip）", build_forms)
