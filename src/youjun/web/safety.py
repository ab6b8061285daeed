"""The last line of defence for input the boundary checks missed: a value the database refuses (out of range, too
long, against a CHECK constraint) answers 400 with a Chinese page, never 500. Each such case is logged as a
warning with its request id: it is a missing check to add where the input enters."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DataError, IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

log = logging.getLogger("youjun.web.safety")


class DatabaseInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DataError | IntegrityError):
            return None
        log.warning("database refused input on %s %s: %s", request.method, request.path, exception)
        message = "提交的内容超出允许的范围或与已有数据冲突，未做任何修改。请检查后重试。"
        return render(request, "400.html", {"message": message}, status=400)
