"""cnnlint: a pre-flight linter for CNN training code and image datasets."""

__version__ = "0.1.0"
