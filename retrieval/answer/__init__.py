"""Stage 5: the answer — the one pipeline every door calls: search, abstain, highlight, cite."""
