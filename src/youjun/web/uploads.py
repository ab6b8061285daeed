"""Uploads whose size is checked before Django reads the body (workbooks, evidence files)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt, csrf_protect

BODY_SLACK = 64 * 1024  # multipart boundaries, part headers and the other form fields

View = Callable[..., HttpResponseBase]


def content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def body_limited(
    limit: Callable[[], int],
    refuse: Callable[[HttpRequest, Mapping[str, Any]], HttpResponse],
    prepare: Callable[[HttpRequest], None] | None = None,
) -> Callable[[View], View]:
    """Refuse a request whose body exceeds ``limit()`` (plus form overhead) unread, then check CSRF in the view.

    The CSRF middleware would parse the multipart body to find the token, so the check moves into the view: the
    wrapper is exempt from the middleware, measures ``Content-Length``, lets ``prepare`` set up the parsing
    (upload handlers) and runs the view under ``csrf_protect``. ``refuse`` gets the view's keyword arguments.
    """

    def decorate(view: View) -> View:
        protected = csrf_protect(view)

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if content_length(request) > limit() + BODY_SLACK:  # nothing read, nothing stored
                return refuse(request, kwargs)
            if prepare is not None:
                prepare(request)
            return protected(request, *args, **kwargs)

        return csrf_exempt(wrapper)

    return decorate
