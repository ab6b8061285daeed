"""The planner on the web: what-if scenarios copied from a county-year's approved data, edited, planned with the
engine's planner and compared side by side; never mixed with the reported data."""
