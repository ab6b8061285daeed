"""Password rules with Chinese messages, the change and reset forms, temporary passwords.

Django's validators do the checking (at least 10 characters, not too similar to the user name or name, not a common
password, not all digits); the subclasses only give every message and help text in Chinese, because Django's own
Chinese catalogue lacks some of them (the minimum-length message is shown in English).
"""

from __future__ import annotations

import secrets
from typing import Any, cast

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import FieldDoesNotExist, ValidationError

#: Field names as the user knows them (the similarity message names the field the password resembles).
ATTRIBUTE_NAMES = {
    "username": "用户名",
    "display_name": "姓名",
    "email": "电子邮箱",
    "first_name": "名",
    "last_name": "姓",
}


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return f"密码太短，至少需要 {self.min_length} 个字符。"

    def get_help_text(self) -> str:
        return f"至少 {self.min_length} 个字符"


class UserAttributeSimilarityValidator(password_validation.UserAttributeSimilarityValidator):
    DEFAULT_USER_ATTRIBUTES = ("username", "display_name", "first_name", "last_name", "email")

    def __init__(self, user_attributes: Any = DEFAULT_USER_ATTRIBUTES, max_similarity: float = 0.7) -> None:
        super().__init__(user_attributes, max_similarity)

    def validate(self, password: str, user: Any = None) -> None:
        try:
            super().validate(password, user)
        except ValidationError as exc:
            shown = (exc.params or {}).get("verbose_name")
            label = next((v for k, v in ATTRIBUTE_NAMES.items() if shown in (k, _verbose(user, k))), "账号信息")
            raise ValidationError(self.get_error_message(), code=exc.code, params={"verbose_name": label}) from None

    def get_error_message(self) -> str:
        return "密码与%(verbose_name)s太相似，请换一个。"

    def get_help_text(self) -> str:
        return "不能与用户名、姓名太相似"


def _verbose(user: Any, name: str) -> str:
    try:
        return str(user._meta.get_field(name).verbose_name)
    except (AttributeError, FieldDoesNotExist):
        return name


class CommonPasswordValidator(password_validation.CommonPasswordValidator):
    def get_error_message(self) -> str:
        return "这个密码太常见，容易被猜中，请换一个。"

    def get_help_text(self) -> str:
        return "不能是常见密码"


class NumericPasswordValidator(password_validation.NumericPasswordValidator):
    def get_error_message(self) -> str:
        return "密码不能全是数字。"

    def get_help_text(self) -> str:
        return "不能全是数字"


#: Letters and digits that cannot be confused when read aloud or copied by hand (no 0/O, 1/l/I).
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def temporary_password(user: Any = None) -> str:
    """A random one-time password of 12 characters in groups of four (``Kp7w-3mXq-h9Ta``), about 69 bits."""
    while True:
        groups = ["".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3)]
        candidate = "-".join(groups)
        try:
            password_validation.validate_password(candidate, user)
        except ValidationError:  # practically never; draw again rather than hand out a refused password
            continue
        return candidate


class ChangePasswordForm(PasswordChangeForm):
    """The current password, the new one twice; the new one must pass the rules and differ from the current one."""

    error_messages = {
        "password_incorrect": "当前密码不正确，请重新输入。",
        "password_mismatch": "两次输入的新密码不一致。",
    }

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"].label = "当前密码"
        self.fields["new_password1"].label = "新密码"
        self.fields["new_password1"].help_text = "；".join(password_validation.password_validators_help_texts()) + "。"
        self.fields["new_password2"].label = "再次输入新密码"
        self.fields["new_password2"].help_text = ""
        for field in self.fields.values():
            field.error_messages["required"] = "请填写此项。"

    def clean(self) -> dict[str, Any]:
        data = cast("dict[str, Any]", super().clean())  # Form.clean returns cleaned_data (never None)
        new = data.get("new_password1")
        if new and not self.has_error("new_password2") and self.user.check_password(new):
            self.add_error("new_password2", ValidationError("新密码不能与当前密码相同。", code="password_unchanged"))
        return data


class ResetPasswordForm(forms.Form):
    """An administrator's reset: a generated temporary password, or one typed (twice) that passes the rules."""

    MODES = (("generate", "由系统生成临时密码（推荐）"), ("typed", "自行输入临时密码"))
    mode = forms.ChoiceField(label="临时密码", choices=MODES, widget=forms.RadioSelect)
    password1 = forms.CharField(label="临时密码", required=False, strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="再次输入临时密码", required=False, strip=False, widget=forms.PasswordInput)

    def __init__(self, target: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.target = target
        self.fields["mode"].error_messages.update(
            required="请选择临时密码的产生方式。", invalid_choice="请选择有效的方式。"
        )

    def clean(self) -> dict[str, Any]:
        data = cast("dict[str, Any]", super().clean())  # Form.clean returns cleaned_data (never None)
        if data.get("mode") != "typed":
            return data
        first, second = data.get("password1") or "", data.get("password2") or ""
        if not first:
            self.add_error("password1", "请输入临时密码。")
        elif first != second:
            self.add_error("password2", "两次输入的临时密码不一致。")
        else:
            try:
                password_validation.validate_password(first, self.target)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data

    def temporary_password(self) -> tuple[str, bool]:
        """The password to set and whether it was generated (only a generated one is shown back)."""
        if self.cleaned_data["mode"] == "typed":
            return self.cleaned_data["password1"], False
        return temporary_password(self.target), True
