"""Per-file analyses on CPython's `ast`, owned by the engine and shared by the rules.

Each analysis is a class taking the file's `FileContext`; `ctx.get(AnalysisClass)` builds it on
first use, at most once per file, and caches it on the context. Rules declare the analyses they
use (`uses = (Bindings, ...)`) so the engine can tell what a selection needs.

- `syntax.Syntax`: the tree, the source lines, parents, positions in characters (always present)
- `imports.ImportTable`: local name -> qualified name, from the module's imports
- `names`: small helpers on expressions (dotted names, keywords, string values)
"""
