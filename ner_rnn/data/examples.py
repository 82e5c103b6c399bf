"""The one hand-off from sentences to the model, used by training, resume, the benchmark
and the tagger alike: the tag scheme resolved, gold tags normalised through spans into
the model's scheme, tokens turned into ids, and batches of document windows planned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ner_rnn.config import Config
from ner_rnn.data.batching import plan_batches
from ner_rnn.data.conll import Sentence
from ner_rnn.data.encoding import Encoded, Example, encode
from ner_rnn.data.schemes import convert, detect_scheme
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.errors import DataFormatError, shorten


class Preprocessor:
    """Turns sentences into model-ready examples and batches for one model.

    `config.data.scheme` must be resolved (not `auto`): it is the scheme gold tags come
    in; `config.model.scheme` is the one the model's labels are written in.
    """

    def __init__(self, config: Config, vocabs: Vocabularies):
        if config.data.scheme not in ("iob1", "iob2", "bioes"):
            raise ValueError(f"data.scheme must be resolved, got {config.data.scheme!r}")
        self.config, self.vocabs = config, vocabs
        char = config.model.embeddings.char
        self.char_length = char.max_length if char.type else None

    @classmethod
    def for_training(cls, config: Config, sentences: Sequence[Sentence]) -> Preprocessor:
        """Resolve `data.scheme` (detected from the training tags when `auto`) and build
        the vocabularies from the training sentences, their tags normalised into the
        model's scheme."""
        scheme = config.data.scheme
        if scheme == "auto":
            scheme = detect_scheme([s.tags for s in sentences], str(config.data.train),
                                   [s.line for s in sentences])
        config = replace(config, data=replace(config.data, scheme=scheme))
        tags = [convert(s.tags, scheme, config.model.scheme) for s in sentences]
        word = config.model.embeddings.word
        vocabs = Vocabularies.build((s.tokens for s in sentences), tags, word.min_freq,
                                    word.lowercase, word.normalize_digits)
        return cls(config, vocabs)

    def model_tags(self, tags: Sequence[str]) -> list[str]:
        """Gold tags of the data's scheme as well-formed tags of the model's scheme: every
        sentence goes through its spans, so an ill-formed `B-PER O` in BIOES data is
        learnt as the `S-PER` the model can output."""
        return convert(tags, self.config.data.scheme, self.config.model.scheme)

    def example(self, tokens: Sequence[str], tags: Sequence[str] | None = None,
                document: int = 0) -> Example:
        """One sentence as ids; `tags`, if given, are gold tags of the data's scheme."""
        model_tags = None if tags is None else self.model_tags(tags)
        return encode(self.vocabs, list(tokens), model_tags, self.char_length, document)

    def examples(self, sentences: Sequence[Sentence], source: str = "the training data"
                 ) -> Encoded:
        """Tagged sentences (a training corpus, read from `source`) as one encoded block
        with their documents: `collate` gathers a batch from it by index, with no work per
        sentence. A tag the model has no label for (the data of a resumed run gained an
        entity type) is an error naming its sentence."""
        examples = []
        for sentence in sentences:
            tags = self.model_tags(sentence.tags)
            self._check_labels(tags, f"{source}:{sentence.line}")
            examples.append(encode(self.vocabs, list(sentence.tokens), tags, self.char_length,
                                   sentence.document))
        return Encoded.from_examples(examples)

    def _check_labels(self, tags: list[str], where: str) -> None:
        labels = self.vocabs.labels
        unknown = next((tag for tag in tags if tag not in labels), None)
        if unknown is not None:
            raise DataFormatError(
                f"{where}: this sentence needs the label {unknown!r} (in the model's "
                f"{self.config.model.scheme} scheme), which the model was not built with "
                f"({shorten(', '.join(labels.items))}): the data changed since the run "
                "began; train a new model instead of resuming")

    def batches(self, examples: Sequence[Example] | Encoded, batch_size: int,
                rng: np.random.Generator | None = None) -> list[list[list[int]]]:
        """Batches of encoder rows (document windows when `model.document_context` is
        set), each row a list of example indices; shuffled when `rng` is given."""
        return plan_batches(examples, self.config.model.document_context, batch_size, rng)
