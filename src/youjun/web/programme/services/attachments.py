"""The files the notice asks for: evidence of conditions 1 and 3 on a nomination, the province's stamped
letter for its sign-off; checked as the assessment's evidence is checked, stored, and deleted while they can still
change.
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from youjun.web.accounts.models import Role, User
from youjun.web.assessment import uploads
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme.models import Attachment, AttachmentKind, Batch, BatchStatus, Nomination, ProvinceSubmission
from youjun.web.programme.services.common import require_province
from youjun.web.programme.services.nominations import EVIDENCE_KINDS, editable
from youjun.web.shortcuts import refusal


def _store(
    user: User, kind: str, batch: Batch, unit: OrgUnit, upload: UploadedFile[bytes], name: str,
    nomination: Nomination | None = None,
) -> Attachment:  # fmt: skip
    """Check the upload as the assessment's evidence is checked, store it, and record it (nothing left on failure)."""
    return uploads.kept(
        name,
        upload,
        lambda stored, file_kind: Attachment.objects.create(
            kind=kind,
            batch=batch,
            nomination=nomination,
            unit=unit,
            original_name=name,
            stored_name=stored.stored_name,
            content_type=file_kind.content_type,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by=user,
        ),
    )


def check_evidence_upload(user: User, nomination: Nomination, kind: str) -> None:
    require_province(user, nomination.province)
    if kind not in EVIDENCE_KINDS:
        raise refusal("未知的佐证材料类别。", 404)
    if not editable(nomination):
        raise refusal(f"推荐当前为「{nomination.get_status_display()}」，不能再上传佐证材料。")


def add_evidence(user: User, nomination: Nomination, kind: str, upload: UploadedFile[bytes], name: str) -> Attachment:
    nomination.refresh_from_db()
    check_evidence_upload(user, nomination, kind)
    return _store(user, kind, nomination.batch, nomination.county, upload, name, nomination)


def check_letter_upload(user: User, batch: Batch, province: OrgUnit) -> None:
    require_province(user, province)
    if ProvinceSubmission.objects.filter(batch=batch, province=province).exists():
        raise refusal("已签发报送，盖章扫描件不能再更换。")
    if batch.status != BatchStatus.OPEN:
        raise refusal(f"{batch.name}当前为「{batch.get_status_display()}」，不接受推荐文件。")


def add_letter(user: User, batch: Batch, province: OrgUnit, upload: UploadedFile[bytes], name: str) -> Attachment:
    """The stamped letter the sign-off is sent under; a new upload replaces the earlier one (its row is kept)."""
    check_letter_upload(user, batch, province)
    with transaction.atomic():
        earlier = list(
            Attachment.objects.filter(batch=batch, unit=province, kind=AttachmentKind.LETTER, deleted_at=None)
        )
        letter = _store(user, AttachmentKind.LETTER, batch, province, upload, name)
        for old in earlier:
            _delete(user, old)
    return letter


def may_delete(user: User, attachment: Attachment) -> bool:
    """The province deletes its files while they can still change: evidence of an editable nomination, a letter
    before the sign-off."""
    if attachment.deleted_at is not None or user.role != Role.PROVINCE:
        return False
    if attachment.nomination is not None:
        return user.org_unit_id == attachment.nomination.province_id and editable(attachment.nomination)
    signed = ProvinceSubmission.objects.filter(batch=attachment.batch, province=attachment.unit).exists()
    return user.org_unit_id == attachment.unit_id and not signed


def delete_attachment(user: User, attachment: Attachment) -> None:
    if user.role != Role.PROVINCE or user.org_unit_id != (
        attachment.nomination.province_id if attachment.nomination else attachment.unit_id
    ):
        raise refusal("只有上传单位（省级教育行政部门）可以删除该文件。", 403)
    if not may_delete(user, attachment):
        raise refusal("该文件已随推荐报送或已删除，不能删除。")
    with transaction.atomic():
        _delete(user, attachment)


def _delete(user: User, attachment: Attachment) -> None:
    updated = Attachment.objects.filter(pk=attachment.pk, deleted_at=None).update(
        deleted_at=timezone.now(), deleted_by=user
    )
    if updated:
        transaction.on_commit(lambda: uploads.remove(attachment.stored_name))
