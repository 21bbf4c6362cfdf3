"""Danish text: passages cut from documents, words for BM25, languages, places, personal data."""
