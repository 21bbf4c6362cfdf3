"""Stage 3: the index/ folder — built, updated, stored and checked (not the data folder itself)."""
