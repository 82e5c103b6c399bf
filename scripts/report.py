"""`ner-rnn report` as a script: python scripts/report.py --help."""

import sys

from ner_rnn.cli import main

sys.exit(main(["report", *sys.argv[1:]]))
