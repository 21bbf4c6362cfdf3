"""Speed and memory figures of the product at 1,000 to 1,000,000 passages (docs/benchmarks.md)."""
