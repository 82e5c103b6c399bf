"""`ner-rnn train` as a script: python scripts/train.py --help."""

import sys

from ner_rnn.cli import main

sys.exit(main(["train", *sys.argv[1:]]))
