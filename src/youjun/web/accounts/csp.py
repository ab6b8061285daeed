"""The Content-Security-Policy: everything from the application's own origin, plus exactly the inline code the
templates contain.

No CDN exists, so ``default-src 'self'``. Inline ``<script>`` and ``<style>`` blocks and inline event handlers
(``onsubmit="…"``) written in the template files are allowed by their SHA-256 hash, computed from the templates when
the process starts; a script injected into a page (or a template script containing template tags, whose rendered
text differs) is not. Style *attributes* (``style="width:42%"``, used for bars whose width is data) are allowed with
``style-src-attr 'unsafe-inline'`` — they cannot run code.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from django.apps import apps
from django.conf import settings

_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)
_STYLE = re.compile(r"<style[^>]*>(?P<body>.*?)</style>", re.S | re.I)
_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')""", re.I)
_TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def template_files() -> Iterable[Path]:
    """Every HTML template of the project (the DIRS of the template settings and each app's templates folder)."""
    folders = [Path(d) for engine in settings.TEMPLATES for d in engine.get("DIRS", [])]
    folders += [Path(app.path) / "templates" for app in apps.get_app_configs() if app.name.startswith("youjun.")]
    for folder in folders:
        if folder.is_dir():
            yield from sorted(folder.rglob("*.html"))


def inline_code(text: str) -> tuple[list[str], list[str], list[str]]:
    """The inline scripts, styles and event handlers of a template (those free of template syntax)."""
    scripts = [m["body"] for m in _SCRIPT.finditer(text) if "src=" not in m["attrs"].lower() and m["body"].strip()]
    styles = [m["body"] for m in _STYLE.finditer(text)]
    handlers = [html.unescape(m["dq"] if m["dq"] is not None else m["sq"]) for m in _HANDLER.finditer(text)]
    plain = [[c for c in group if not _TEMPLATE_SYNTAX.search(c)] for group in (scripts, styles, handlers)]
    return plain[0], plain[1], plain[2]


@cache
def policy() -> str:
    scripts: set[str] = set()
    styles: set[str] = set()
    handlers: set[str] = set()
    for path in template_files():
        found = inline_code(path.read_text(encoding="utf-8"))
        scripts.update(map(_hash, found[0]))
        styles.update(map(_hash, found[1]))
        handlers.update(map(_hash, found[2]))
    script_src = ["'self'", *sorted(scripts)]
    if handlers:
        script_src += ["'unsafe-hashes'", *sorted(handlers)]
    directives = [
        "default-src 'self'",
        "script-src " + " ".join(script_src),
        "style-src " + " ".join(["'self'", *sorted(styles)]),
        "style-src-attr 'unsafe-inline'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)
