"""How a check stops: the refusal of one limit, and the sizes its messages show."""

from __future__ import annotations

from youjun.io.limits.presets import GIB, KIB, MIB


def size_text(n: int) -> str:
    if n >= GIB and n % GIB == 0:
        return f"{n // GIB} GB"
    if n >= MIB:
        return f"{n / MIB:.0f} MB" if n % MIB == 0 else f"{n / MIB:.1f} MB"
    return f"{max(n // KIB, 1)} KB"


class Refused(Exception):
    """One limit exceeded: stops the check (only ever raised and caught inside this package)."""

    def __init__(self, code: str, message: str, sheet: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.sheet = sheet


BOMB_HINT = "可能是压缩炸弹或错误的文件"
