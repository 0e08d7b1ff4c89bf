"""One static rule per module; discovered by cnnlint.lint.registry."""
