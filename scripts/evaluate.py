"""`ner-rnn evaluate` as a script: python scripts/evaluate.py --help."""

import sys

from ner_rnn.cli import main

sys.exit(main(["evaluate", *sys.argv[1:]]))
