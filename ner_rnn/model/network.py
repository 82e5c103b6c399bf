"""The sequence tagger network: token features -> recurrent encoder -> head."""

from __future__ import annotations

import functools
import logging
from contextlib import nullcontext

import torch
from torch import nn

from ner_rnn.config import Config, ModelConfig
from ner_rnn.data.batching import Batch
from ner_rnn.data.vocab import Vocabularies
from ner_rnn.model.decoding import Potentials
from ner_rnn.model.dropout import SequenceDropout
from ner_rnn.model.embeddings import Embedder
from ner_rnn.model.encoder import RecurrentEncoder
from ner_rnn.model.heads import build_head
from ner_rnn.model.size import check_size

log = logging.getLogger(__name__)


class TaggerNetwork(nn.Module):
    """Scores every tag for every token of a batch; built from the model config alone.

    `labels` are the tag strings of `config.scheme`, in id order.
    """

    def __init__(self, config: ModelConfig, num_words: int, num_chars: int, labels: list[str],
                 mixed_precision: bool = False):
        super().__init__()
        self.mixed_precision = mixed_precision
        self.embedder = Embedder(config.embeddings, num_words, num_chars, config.locked_dropout)
        self.encoder = RecurrentEncoder(config.encoder, self.embedder.output_size,
                                        config.locked_dropout)
        self.feature_dropout = SequenceDropout(config.dropout, config.locked_dropout)
        self.head = build_head(config.head.type, self.encoder.output_size, labels,
                               config.scheme, config.head.constrain, config.head.partition)

    def encode(self, batch: Batch) -> torch.Tensor:
        """Encoder features of the batch's rows (with document context, windows of
        sentences): float (rows, row time, encoder output); heads stay float32."""
        rows = batch.rows
        device_type = rows.words.device.type
        bfloat16 = self.mixed_precision and bfloat16_works(device_type)
        # no autocast context at all in float32: torch.export cannot save a disabled one
        with torch.autocast(device_type, torch.bfloat16) if bfloat16 else nullcontext():
            x = self.embedder(rows)  # (rows, row time, embedder output)
            return self.encoder(x, rows.lengths).float()  # (rows, row time, out)

    def features(self, batch: Batch) -> torch.Tensor:
        """Encoder features per sentence: float (batch, time, encoder output), zero on
        padding: each sentence's tokens picked out of its row."""
        return batch.sentences.from_rows(self.encode(batch))

    def loss(self, batch: Batch) -> torch.Tensor:
        """Scalar training loss of a tagged batch."""
        sentences = batch.sentences
        return self.head.loss(self.potentials(batch), sentences.tags, sentences.mask)

    def forward(self, batch: Batch) -> torch.Tensor:
        """The training loss: calling the module (as DistributedDataParallel does) trains."""
        return self.loss(batch)

    def potentials(self, batch: Batch) -> Potentials:
        """The head's scores per sentence: emissions float (batch, time, tags).

        The head scores the rows (dropout, in training, applies to the rows' features:
        with locked dropout one mask per row) and each sentence's scores are picked out:
        the head works on the rows' tokens instead of the sentences padded to the
        longest one, and the pick is at the width of the tags, not of the features.
        Padding scores zero here; decoders read the mask."""
        features = self.feature_dropout(self.encode(batch))  # (rows, row time, out)
        p = self.head.potentials(features)  # emissions (rows, row time, tags)
        return p._replace(emissions=batch.sentences.from_rows(p.emissions))

    def decode(self, batch: Batch) -> list[list[int]]:
        """Best tag ids per sentence, each trimmed to its length."""
        return best_paths(self.head, self.potentials(batch), batch)


def build_network(config: Config, vocabs: Vocabularies) -> TaggerNetwork:
    """The network a config describes, sized by its vocabularies; an absurd size is a
    ConfigError naming its key, before anything is allocated."""
    check_size(config.model, len(vocabs.words), len(vocabs.chars), len(vocabs.labels))
    return TaggerNetwork(config.model, len(vocabs.words), len(vocabs.chars),
                         vocabs.labels.items, config.train.mixed_precision)


@functools.cache
def bfloat16_works(device_type: str) -> bool:
    """Whether an LSTM trains under bfloat16 autocast on this kind of device. A CPU
    without bfloat16 instructions (AVX2 only, as many AMD EPYC and laptop chips) has no
    oneDNN kernel for it and raises; there mixed precision falls back to float32, with a
    warning, so a model trained with it on a GPU still tags on such a CPU."""
    if device_type != "cpu":
        return True
    lstm = nn.LSTM(2, 2)
    try:
        with torch.enable_grad(), torch.autocast("cpu", torch.bfloat16):
            lstm(torch.zeros(1, 1, 2))[0].float().sum().backward()
    except RuntimeError:
        log.warning("train.mixed_precision: this CPU has no bfloat16 kernels for the "
                    "encoder; running it in float32")
        return False
    return True


def best_paths(head: nn.Module, p: Potentials, batch: Batch) -> list[list[int]]:
    """The head's best tag ids per sentence, each trimmed to its length."""
    best = head.decode(p, batch.sentences.mask)  # (batch, time)
    return _trim(best.tolist(), batch.sentences.lengths.tolist())


def _trim(rows: list[list[int]], lengths: list[int]) -> list[list[int]]:
    return [row[:length] for row, length in zip(rows, lengths)]
