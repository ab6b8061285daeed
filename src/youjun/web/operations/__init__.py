"""Operations: the background worker, the scheduled jobs and the administrators' page of jobs (the top layer)."""
