"""The audit trail of every workflow move (``models.Transition``): ``services.record`` writes it,
``services.history`` reads it."""
