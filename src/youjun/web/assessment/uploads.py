"""Evidence files: what may be uploaded, how it is checked, where it is kept.

An evidence file is shown to reviewers in the province and the ministry, so it is treated as hostile input:

- the name as the browser sent it is checked, not the name Django has already cleaned (Django silently drops
  directories and control characters; a name with path tricks is a sign of a forged request and is refused with a
  message, never "repaired");
- the extension must be on the allow-list and the content must be what the extension says (magic bytes; OOXML is a
  ZIP holding ``[Content_Types].xml`` and the part of its kind; legacy Office is an OLE compound file holding the
  stream of its kind);
- the size is limited (``YOUJUN_EVIDENCE_MAX_BYTES``) before the body is read and again while it is read;
- an OOXML document (a ZIP) is refused when it is a zip bomb (``EVIDENCE_LIMITS``: entries, declared and actual
  inflated sizes, compression ratios), inflating no more than the bound; the file is stored, never parsed, but
  reviewers open it on their own machines;
- the bytes are stored under ``YOUJUN_EVIDENCE_DIR`` by a random name, never the user's; the sha256 is recorded.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import quote

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParser
from django.shortcuts import render
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from youjun.errors import YoujunError
from youjun.io.limits import MIB, WEB_LIMITS, check_archive
from youjun.web.collection.services import fail
from youjun.web.uploads import body_limited

MAX_NAME_CHARS = 120
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
#: Evidence documents: a 20 MB Word or PowerPoint file of text and pictures inflates to at most a few tens of MB
#: (pictures do not compress, text about tenfold); a presentation can hold thousands of parts.
EVIDENCE_LIMITS = replace(
    WEB_LIMITS,
    max_entries=10_000,
    max_declared_total=200 * MIB,
    max_entry_bytes=200 * MIB,
    max_uncompressed_total=200 * MIB,
    max_ratio=200,
)


@dataclass(frozen=True, slots=True)
class Kind:
    label: str
    content_type: str
    check: Callable[[IO[bytes], bytes], bool]


def _ooxml(part: str) -> Callable[[IO[bytes], bytes], bool]:
    def check(stream: IO[bytes], head: bytes) -> bool:
        if not head.startswith(ZIP_MAGIC):
            return False
        try:
            stream.seek(0)
            with zipfile.ZipFile(stream) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return False
        return "[Content_Types].xml" in names and any(n.startswith(part) for n in names)

    return check


def _ole(*streams: str) -> Callable[[IO[bytes], bytes], bool]:
    """An OLE compound file naming one of ``streams`` in its directory (UTF-16LE entry names)."""
    needles = [s.encode("utf-16-le") for s in streams]

    def check(stream: IO[bytes], head: bytes) -> bool:
        if not head.startswith(OLE_MAGIC):
            return False
        stream.seek(0)
        tail = b""
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            window = tail + chunk
            if any(n in window for n in needles):
                return True
            tail = window[-64:]
        return False

    return check


def _magic(*prefixes: bytes) -> Callable[[IO[bytes], bytes], bool]:
    return lambda _stream, head: head.startswith(prefixes)


KINDS: dict[str, Kind] = {
    ".pdf": Kind("PDF", "application/pdf", _magic(b"%PDF-")),
    ".png": Kind("PNG 图片", "image/png", _magic(b"\x89PNG\r\n\x1a\n")),
    ".jpg": Kind("JPEG 图片", "image/jpeg", _magic(b"\xff\xd8\xff")),
    ".jpeg": Kind("JPEG 图片", "image/jpeg", _magic(b"\xff\xd8\xff")),
    ".docx": Kind(
        "Word 文档",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ooxml("word/"),
    ),
    ".xlsx": Kind("Excel 工作簿", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ooxml("xl/")),
    ".pptx": Kind(
        "PowerPoint 演示文稿",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ooxml("ppt/"),
    ),
    ".doc": Kind("Word 97-2003 文档", "application/msword", _ole("WordDocument")),
    ".xls": Kind("Excel 97-2003 工作簿", "application/vnd.ms-excel", _ole("Workbook", "Book")),
}
ALLOWED_TEXT = "PDF、PNG、JPEG 图片和 Office 文档（docx、xlsx、pptx、doc、xls）"
_DRIVE = re.compile(r"^[A-Za-z]:")


def limit_bytes() -> int:
    return int(settings.YOUJUN_EVIDENCE_MAX_BYTES)


def limit_text() -> str:
    limit = limit_bytes()
    return f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{max(limit // 1024, 1)} KB"


def evidence_dir() -> Path:
    return Path(settings.YOUJUN_EVIDENCE_DIR)


def check_name(name: str) -> str:
    """The file name as given, if it is a plain file name; raises ``YoujunError`` with the reason otherwise."""
    if not name or not name.strip():
        raise fail("bad_name", "文件名为空，请重新选择文件。")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise fail("bad_name", "文件名含有控制字符或不可见字符，请重命名后再上传。")
    if "/" in name or "\\" in name or _DRIVE.match(name) or ".." in name:
        raise fail("bad_name", "文件名不能包含路径（如“/”“\\”“..”或盘符），请只上传文件本身。")
    if name.startswith("."):
        raise fail("bad_name", "文件名不能以“.”开头，请重命名后再上传。")
    if name != name.strip() or name.endswith("."):
        raise fail("bad_name", "文件名首尾不能是空格或“.”，请重命名后再上传。")
    if len(name) > MAX_NAME_CHARS or len(name.encode("utf-8")) > 255:
        raise fail("bad_name", f"文件名过长（不超过 {MAX_NAME_CHARS} 个字符），请重命名后再上传。")
    return name


def sniff(name: str, upload: UploadedFile[bytes]) -> Kind:
    """The kind of an upload whose extension is allowed and whose content agrees with it."""
    suffix = Path(name).suffix.lower()
    kind = KINDS.get(suffix)
    if kind is None:
        raise fail("unsupported_type", f"不支持的文件类型「{suffix or '无扩展名'}」：只能上传{ALLOWED_TEXT}。")
    if upload.size is None or upload.size > limit_bytes():
        raise fail("too_large", f"文件过大（上限 {limit_text()}），请压缩或拆分后再上传。")
    if upload.size == 0:
        raise fail("empty_file", "文件是空的（0 字节），请检查后重新上传。")
    upload.seek(0)
    head = upload.read(16)
    if suffix in (".docx", ".xlsx", ".pptx"):  # before the ZIP is opened at all: a zip bomb is refused here
        upload.seek(0)
        refused = check_archive(upload, EVIDENCE_LIMITS)
        if refused:
            raise YoujunError(refused)
    ok = kind.check(upload, head)
    upload.seek(0)
    if not ok:
        raise fail(
            "type_mismatch",
            f"文件内容与扩展名「{suffix}」不符（不是有效的{kind.label}），文件可能已损坏或被改了扩展名，请检查后再上传。",
        )
    return kind


@dataclass(frozen=True, slots=True)
class Stored:
    stored_name: str
    size: int
    sha256: str


def store(upload: UploadedFile[bytes]) -> Stored:
    """Write the checked upload under a random name (atomically: a partial file never has the final name)."""
    folder = evidence_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    target = folder / stored_name
    partial = folder / f"{stored_name}.part"
    digest = hashlib.sha256()
    size = 0
    upload.seek(0)
    try:
        with partial.open("xb") as out:
            for chunk in upload.chunks():
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        os.chmod(partial, 0o640)
        os.replace(partial, target)
    except OSError:
        partial.unlink(missing_ok=True)
        raise fail("store_failed", "文件保存失败，请稍后重试；如多次失败，请联系系统管理员。") from None
    return Stored(stored_name, size, digest.hexdigest())


def remove(stored_name: str) -> None:
    if re.fullmatch(r"[0-9a-f]{32}", stored_name):
        (evidence_dir() / stored_name).unlink(missing_ok=True)


_Row = TypeVar("_Row")


def kept(name: str, upload: UploadedFile[bytes], record: Callable[[Stored, Kind], _Row]) -> _Row:
    """Check an upload's name and content, store it, and ``record(stored, kind)`` it (a row naming the file): the
    stored file is removed again when recording fails, so nothing is left behind."""
    check_name(name)
    kind = sniff(name, upload)
    stored = store(upload)
    try:
        return record(stored, kind)
    except Exception:
        remove(stored.stored_name)
        raise


def path_of(stored_name: str) -> Path | None:
    """The stored file, if its name is one of ours and it exists."""
    if not re.fullmatch(r"[0-9a-f]{32}", stored_name):
        return None
    path = evidence_dir() / stored_name
    return path if path.is_file() else None


def file_response(stored_name: str, content_type: str, original_name: str) -> FileResponse | None:
    """A stored file as a download with the type found when it was checked (never the browser's guess), sandboxed
    and not cached; None when the file is no longer on the server."""
    path = path_of(stored_name)
    if path is None:
        return None
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Content-Disposition"] = attachment_header(original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def attachment_header(name: str) -> str:
    """``Content-Disposition`` with an ASCII fallback and the exact name in RFC 5987 ``filename*``."""
    suffix = Path(name).suffix.lower()
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem).strip("._") or "evidence"
    return f"attachment; filename=\"{fallback}{suffix}\"; filename*=UTF-8''{quote(name, safe='')}"


# ---------------------------------------------------------------------------------------------------------------
# Reading the request: the raw names, and the size limit while reading


class _SizeLimit(FileUploadHandler):
    """Stops reading a file once it exceeds the limit (a chunked request has no Content-Length to check first)."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > limit_bytes():
            self.request.youjun_too_large = True  # type: ignore[union-attr]  # our own flag, read by too_large()
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class _NameKeepingParser(MultiPartParser):
    """Records each file name as sent, before Django's cleaning, so the view can refuse path tricks."""

    def __init__(self, *args: Any, names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.names = names

    def sanitize_file_name(self, file_name: str) -> str | None:
        self.names.append(file_name)
        return super().sanitize_file_name(file_name) or "unnamed"


def raw_names(request: HttpRequest) -> list[str]:
    return list(getattr(request, "youjun_upload_names", []))


def too_large(request: HttpRequest) -> bool:
    return bool(getattr(request, "youjun_too_large", False))


def refuse_too_large(request: HttpRequest, back: str = "") -> HttpResponse:
    message = f"文件过大（上限 {limit_text()}），请压缩或拆分后再上传。"
    context = {"title": "文件过大", "message": message, "back": back}
    return render(request, "youjun/assessment/message.html", context, status=413)


def _refuse(request: HttpRequest, kwargs: Mapping[str, Any]) -> HttpResponse:
    back = reverse("assessment:county", args=[kwargs["code"], kwargs["year"]]) if "code" in kwargs else ""
    return refuse_too_large(request, back)


def keep_names(request: HttpRequest) -> None:
    """Enforce the size while reading, and keep each file name as sent (Django would strip path parts)."""
    names: list[str] = []
    request.youjun_upload_names = names  # type: ignore[attr-defined]  # read back by raw_names()
    request.upload_handlers.insert(0, _SizeLimit(request))

    def parse(meta: Any, post_data: Any) -> tuple[QueryDict, MultiValueDict[str, UploadedFile[Any]]]:
        parser = _NameKeepingParser(meta, post_data, request.upload_handlers, request.encoding, names=names)
        return parser.parse()

    # This request's own parser; mypy compares the function with the method unbound (self included).
    request.parse_file_upload = parse  # type: ignore[method-assign, assignment]


#: Evidence uploads: refuse an oversized body unread, keep the raw names while reading it, then check CSRF.
evidence_upload = body_limited(limit_bytes, _refuse, keep_names)


def checked_upload(request: HttpRequest, field_name: str = "file") -> tuple[UploadedFile[bytes], str, Kind]:
    """The one uploaded file of the request, its name as sent and its kind; ``YoujunError`` when refused."""
    files = request.FILES.getlist(field_name)  # reads the body: the size limit and the raw names apply here
    if too_large(request):
        raise fail("too_large", f"文件过大（上限 {limit_text()}），请压缩或拆分后再上传。")
    if not files:
        raise fail("no_file", "请选择要上传的文件。")
    if len(files) > 1:
        raise fail("many_files", "一次只能上传一个文件。")
    names = raw_names(request)
    name = names[-1] if names else (files[0].name or "")
    check_name(name)
    return files[0], name, sniff(name, files[0])
