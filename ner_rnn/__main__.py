"""`python -m ner_rnn` runs the command line."""

import sys

from ner_rnn.cli import main

sys.exit(main())
