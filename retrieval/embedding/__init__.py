"""Stage 2: vectors — the e5 model converted from its registry package, loaded offline."""
