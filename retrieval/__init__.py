"""Spørg Socialudvalget: retrieval of cited excerpts from municipal committee documents."""

from retrieval.types import Answer, Document, Hit, Passage

__all__ = ["Answer", "Document", "Hit", "Passage"]
