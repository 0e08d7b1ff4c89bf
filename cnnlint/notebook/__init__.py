"""cnnlint in Jupyter and Colab: `%load_ext cnnlint` (see cnnlint.notebook.extension)."""
