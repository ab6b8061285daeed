"""The one signal that crosses the apps: a county-year's inputs changed.

The apps that hold inputs (collection, assessment, survey, organisation) send it inside the transaction that wrote
the change; the evaluation pipeline receives it, marks the stored result stale in the same transaction and
recomputes after the commit. The arrows point down: no lower app imports the evaluation app.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

#: Sent with ``county`` (an ``OrgUnit``), ``year`` and ``recompute`` (False: mark stale only; the caller recomputes
#: once for a batch).
data_changed = Signal()


def county_data_changed(county: Any, year: int, *, recompute: bool = True) -> None:
    """Call inside the transaction that changed anything the county-year's result depends on."""
    data_changed.send(sender=None, county=county, year=year, recompute=recompute)
