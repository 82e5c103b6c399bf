"""ner_rnn: named-entity tagging with recurrent networks."""

__version__ = "0.1.0"

from ner_rnn.tagging import Tagger  # noqa: E402  (after __version__, which it imports)

__all__ = ["Tagger", "__version__"]
