import sys

from cnnlint.cli import main

sys.exit(main())
