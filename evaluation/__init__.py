"""Evaluation of the retrievers: gold set, BEIR folders, ranx metrics, reports."""

from evaluation.gold import GoldQuestion, load_gold
from evaluation.records import Evaluation, QueryRecord

__all__ = ["Evaluation", "GoldQuestion", "QueryRecord", "load_gold"]
