"""Cell references: their position as the workbook parser reads them, and bounds written as regular expressions
(a reference is within the limits when the expression matches it), so that plain rows are checked by one match."""

from __future__ import annotations


def digits_le(n: int) -> bytes:
    """A regular expression for the decimal integers 1..n (no leading zeros)."""
    s = str(n)
    parts = [rb"[1-9][0-9]{0,%d}" % (len(s) - 2)] if len(s) > 1 else []
    for i, ch in enumerate(s):
        d = int(ch)
        low = 1 if i == 0 else 0
        if d > low:
            parts.append(s[:i].encode() + b"[%d-%d]" % (low, d - 1) + (b"[0-9]{%d}" % (len(s) - i - 1)))
    parts.append(s.encode())
    return b"(?:" + b"|".join(parts) + b")"


def letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _letter_class(lo: int, hi: int) -> bytes:
    """Both cases of the letters lo..hi (0 = A)."""
    a, b = chr(65 + lo), chr(65 + hi)
    return f"[{a}-{b}{a.lower()}-{b.lower()}]".encode()


def columns_le(n: int) -> bytes:
    """A regular expression for the column letters A..(column n), either case."""
    s = [ord(c) - 65 for c in letters(n)]  # 0 = A

    def exactly(letters: list[int]) -> bytes:
        return b"".join(_letter_class(k, k) for k in letters)

    parts = [b"[A-Za-z]{1,%d}" % (len(s) - 1)] if len(s) > 1 else []  # fewer letters: always smaller
    for i, k in enumerate(s):  # the same first i letters, a smaller one at i, then any
        if k > 0:
            parts.append(exactly(s[:i]) + _letter_class(0, k - 1) + b"[A-Za-z]{%d}" % (len(s) - i - 1))
    parts.append(exactly(s))
    return b"(?:" + b"|".join(parts) + b")"


def columns_gt(n: int) -> bytes:
    """A regular expression for the column letters after column n, either case."""
    s = [ord(c) - 65 for c in letters(n)]
    parts = [b"[A-Za-z]{%d,}" % (len(s) + 1)]  # more letters: always larger
    for i, k in enumerate(s):  # the same first i letters, a larger one at i, then any
        if k < 25:
            parts.append(
                b"".join(_letter_class(j, j) for j in s[:i])
                + _letter_class(k + 1, 25)
                + b"[A-Za-z]{%d}" % (len(s) - i - 1)
            )
    return b"(?:" + b"|".join(parts) + b")"


def cell_position(ref: bytes) -> tuple[int, int] | None:
    """(row, column), 0-based, of a reference as the workbook parser reads it; None when it would fail."""
    i, col = 0, 0
    while i < len(ref) and (65 <= ref[i] <= 90 or 97 <= ref[i] <= 122):
        col = col * 26 + (ref[i] & 0x1F)
        i += 1
    digits = ref[i:]
    if not digits or not digits.isdigit() or col == 0:
        return None
    row = int(digits)
    return (row - 1, col - 1) if row >= 1 else None


def row_number(ref: bytes) -> int | None:
    """The 0-based row of a row's ``r`` attribute (letters allowed and ignored, as the parser does)."""
    i = 0
    while i < len(ref) and (65 <= ref[i] <= 90 or 97 <= ref[i] <= 122):
        i += 1
    digits = ref[i:]
    if not digits or not digits.isdigit() or int(digits) < 1:
        return None
    return int(digits) - 1
