"""ner_rnn: named-entity tagging with recurrent networks.

`from ner_rnn import Tagger` is the Python API (see `ner_rnn.serve.tagger`). It is
imported on first use, so `import ner_rnn.cli` (and `ner-rnn --help`) does not load torch.
"""

__version__ = "0.1.0"

__all__ = ["Tagger", "__version__"]


def __getattr__(name: str):
    if name == "Tagger":
        from ner_rnn.serve.tagger import Tagger

        return Tagger
    raise AttributeError(f"module 'ner_rnn' has no attribute {name!r}")
