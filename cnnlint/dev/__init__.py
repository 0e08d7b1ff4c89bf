"""Tools for working on cnnlint itself: `python -m cnnlint.dev new-rule CODE NAME`, `rules-table`.
(`structure` holds the checker behind tests/test_structure.py.)"""
