"""County items, evidence with reviewer verdicts, vetoes and the full assessment (standard-2017.md §4–8)."""
