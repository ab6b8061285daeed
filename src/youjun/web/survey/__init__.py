"""Social-recognition survey (S1): questionnaires, campaigns, single-use and QR links, anonymous answering."""
