"""Small known-answer vectors transcribed from RFCs; see README.md for provenance."""
