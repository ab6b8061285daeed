"""One audit trail for every workflow move of every app (school records, county submissions, batches, nominations,
plans, progress reports, experiences, extensions): what moved, from which state to which, who, when, why.

Apps write it through ``youjun.web.audit.record`` inside the transaction of the move (``youjun.web.workflow``), and
register the labels of their states (``register_states``) so that pages show 「已提交待审核」 rather than codes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from youjun.web.organisation.models import OrgUnit

#: kind → {state code: Chinese label}, filled by the apps that own the states (see ``register_states``).
STATE_LABELS: dict[str, dict[str, str]] = {}


def register_states(kind: str, choices: type[models.TextChoices]) -> None:
    STATE_LABELS[kind] = {str(value): str(label) for value, label in choices.choices}


class Transition(models.Model):
    kind = models.CharField("对象类型", max_length=24)
    object_id = models.PositiveBigIntegerField("对象")
    #: The county and year the move concerns, where it concerns one (records, submissions): filters and pages.
    county = models.ForeignKey(OrgUnit, models.PROTECT, null=True, blank=True, related_name="+")
    year = models.PositiveIntegerField(null=True, blank=True)
    action = models.CharField("操作", max_length=40, blank=True)
    source = models.CharField("原状态", max_length=16, blank=True)
    target = models.CharField("新状态", max_length=16, blank=True)
    reason = models.TextField("理由", blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["kind", "object_id"])]
        verbose_name = "办理记录"
        verbose_name_plural = "办理记录"

    def _label(self, state: str) -> str:
        return STATE_LABELS.get(self.kind, {}).get(state, state)

    @property
    def source_label(self) -> str:
        return self._label(self.source)

    @property
    def target_label(self) -> str:
        return self._label(self.target)

    # the names the programme's pages used
    from_label = source_label
    to_label = target_label
