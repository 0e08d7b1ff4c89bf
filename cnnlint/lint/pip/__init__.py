"""CNL401's text side: the shell lexer, what an install command installs, constraint and -r
files, the commands Python code runs, messages and fixes. Requirements themselves are judged
by cnnlint/lint/dependencies.py."""
