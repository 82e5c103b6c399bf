"""ner_rnn: named-entity tagging with recurrent networks."""

__version__ = "0.1.0"

from ner_rnn.tagging import Tagger

__all__ = ["Tagger", "__version__"]
