"""Workbook templates, readers, validation and writers (data-contract.md §1)."""
