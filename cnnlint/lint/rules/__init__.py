"""The static rules, one per module (`cnlNNN_name.py`), each module defining one `Rule` subclass.

Nothing lists them: `cnnlint.lint.discovery` imports every module of this package and takes the
Rule subclasses it defines. CONTRIBUTING.md has the recipe; `python -m cnnlint.dev new-rule CODE
name` writes the rule, its page and its test.
"""
