"""Stage 4: hits — one Retriever interface; dense, BM25 and hybrid behind it."""
