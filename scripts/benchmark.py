"""`ner-rnn benchmark` as a script: python scripts/benchmark.py --help."""

import sys

from ner_rnn.cli import main

sys.exit(main(["benchmark", *sys.argv[1:]]))
