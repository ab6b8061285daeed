"""The site as a whole: what spans every app (the demo set-up)."""
