"""The pages of prepared files: the offer (what will be built, the button), a file's progress, the download and the
official's list of recent files. Every file is the owner's: others get 404, whatever their role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from youjun.web.downloads import services
from youjun.web.downloads.models import FileStatus, PreparedFile
from youjun.web.exports import content_disposition
from youjun.web.shortcuts import user_of


def offer(
    request: HttpRequest,
    kind: str,
    params: Mapping[str, Any],
    *,
    title: str,
    fallback: str,
    content_type: str,
    heading: str,
    description: str,
    back: str = "",
) -> HttpResponse:
    """GET: what the file holds, a button to prepare it and this official's recent files of the same request.
    POST: queue it (or find the one already in preparation) and go to its progress page."""
    user = user_of(request)
    if request.method == "POST":
        file = services.request_file(user, kind, params, title=title, fallback=fallback, content_type=content_type)
        return redirect("downloads:file", file.pk)
    context = {
        "heading": heading,
        "description": description,
        "title": title,
        "back": back,
        "files": services.recent(user, services.key_of(kind, params)),
    }
    return render(request, "youjun/downloads/offer.html", context)


def _mine(request: HttpRequest, pk: int) -> PreparedFile:
    file = PreparedFile.objects.filter(pk=pk, owner=user_of(request)).first()
    if file is None:
        raise Http404("未找到该文件")
    return file


@login_required
@require_GET
def file(request: HttpRequest, pk: int) -> HttpResponse:
    prepared = _mine(request, pk)
    label = services.KINDS[prepared.kind].label if prepared.kind in services.KINDS else prepared.kind
    return render(request, "youjun/downloads/file.html", {"file": prepared, "label": label})


@login_required
@require_GET
def download(request: HttpRequest, pk: int) -> FileResponse:
    prepared = _mine(request, pk)
    path = services.stored_path(prepared)
    if prepared.status != FileStatus.READY or not path.is_file():
        raise Http404("该文件尚未生成或已过期")
    response = FileResponse(path.open("rb"), content_type=prepared.content_type)
    response["Content-Disposition"] = content_disposition(prepared.title, prepared.fallback)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    files = services.recent(user_of(request))
    labels = {f.pk: services.KINDS[f.kind].label if f.kind in services.KINDS else f.kind for f in files}
    return render(request, "youjun/downloads/list.html", {"files": [(f, labels[f.pk]) for f in files]})
