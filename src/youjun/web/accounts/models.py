"""Users, each bound to one organisation unit (or one school) with one role."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from youjun.web.organisation.models import Level, OrgUnit, School


class Role(models.TextChoices):
    MINISTRY = "ministry", "教育部"
    PROVINCE = "province", "省级"
    PREFECTURE = "prefecture", "地市级"
    COUNTY = "county", "县级"
    SCHOOL = "school", "学校"
    VIEWER = "viewer", "只读查看"


#: The organisation level each administrative role must be bound to.
ROLE_LEVEL = {
    Role.MINISTRY: Level.MINISTRY,
    Role.PROVINCE: Level.PROVINCE,
    Role.PREFECTURE: Level.PREFECTURE,
    Role.COUNTY: Level.COUNTY,
}


class User(AbstractUser):
    role = models.CharField("角色", max_length=16, choices=Role.choices, default=Role.VIEWER)
    org_unit = models.ForeignKey(
        OrgUnit, models.PROTECT, null=True, blank=True, related_name="users", verbose_name="所属单位"
    )
    school = models.ForeignKey(School, models.PROTECT, null=True, blank=True, related_name="users", verbose_name="学校")
    display_name = models.CharField("姓名", max_length=64, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_school(self) -> bool:
        return self.role == Role.SCHOOL

    @property
    def can_write(self) -> bool:
        return self.role != Role.VIEWER
