"""The project index: the project's own modules, read through a script's imports.

`locate` finds the project root and resolves an import to a module file of the project (never an
installed package); `summary` computes what a module defines that a script's rules care about (what
a model class's `forward()` ends in, what a Keras model built by a function ends in, what a loading
function returns); `memo` keeps the summaries by content hash; `imported.ImportedSummaries` is the
one analysis the rules ask (`uses = (ImportedSummaries, ...)`).
"""
