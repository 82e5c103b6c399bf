"""`ner-rnn tag` as a script: python scripts/tag.py --help."""

import sys

from ner_rnn.cli import main

sys.exit(main(["tag", *sys.argv[1:]]))
