"""The creation programme of the 2021 notice: batches, nominations, review and publication, plans, progress."""
