"""Which rule set each province's counties are evaluated under (``services``), assigned by the ministry."""
