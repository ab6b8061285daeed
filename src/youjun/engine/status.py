"""The status of every item and part of an evaluation (data-contract.md §2): met, not met or insufficient data.

A module of its own, without imports, so that code writing a resource evaluation needs no county part.
"""

MET, NOT_MET, INSUFFICIENT = "met", "not_met", "insufficient_data"
