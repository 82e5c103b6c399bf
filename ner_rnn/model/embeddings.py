"""Token representations: word vectors, optional character CNN and casing features."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ner_rnn.config import CharConfig, EmbeddingsConfig
from ner_rnn.data.batching import Rows
from ner_rnn.data.vocab import CASINGS
from ner_rnn.model.decoding import NEG_INF
from ner_rnn.model.dropout import SequenceDropout
from ner_rnn.model.steps import gather_steps, reverse_within_lengths


def _init_uniform(embedding: nn.Embedding) -> None:
    """U(±sqrt(3 / dim)): vectors of about unit length (as Lample et al. and NCRF++ do);
    torch's N(0, 1) default makes them sqrt(dim) long, dwarfing the features beside them."""
    bound = (3.0 / embedding.embedding_dim) ** 0.5
    with torch.no_grad():
        embedding.weight.uniform_(-bound, bound)
        embedding.weight[0] = 0.0  # padding


class CharCNN(nn.Module):
    """Characters -> convolution -> max over the word (Ma & Hovy, 2016).

    The convolution is one matrix product over sliding windows of `width` characters
    (zero-padded at both ends): the same function as `nn.Conv1d`, faster on CPU for
    these small shapes.
    """

    def __init__(self, config: CharConfig, num_chars: int):
        super().__init__()
        self.width = config.width
        self.embedding = nn.Embedding(num_chars, config.dim, padding_idx=0)
        _init_uniform(self.embedding)
        self.window = nn.Linear(config.width * config.dim, config.filters)
        self.output_size = config.filters

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        """chars: long (words, chars), 0-padded -> float (words, filters)."""
        x = self.embedding(chars)  # (words, chars, dim)
        left = (self.width - 1) // 2
        x = F.pad(x, (0, 0, left, self.width - 1 - left))  # (words, chars + width - 1, dim)
        windows = x.unfold(1, self.width, 1).transpose(2, 3)  # (words, chars, width, dim)
        h = self.window(windows.reshape(*chars.shape, -1))  # (words, chars, filters)
        h = h.masked_fill((chars == 0).unsqueeze(2), NEG_INF)  # padding never wins the max
        return h.max(dim=1).values  # (words, filters)


class CharLSTM(nn.Module):
    """Characters -> BiLSTM -> the final state of each direction (Lample et al., 2016)."""

    def __init__(self, config: CharConfig, num_chars: int):
        super().__init__()
        self.embedding = nn.Embedding(num_chars, config.dim, padding_idx=0)
        _init_uniform(self.embedding)
        self.forward_lstm = nn.LSTM(config.dim, config.hidden_size, batch_first=True)
        self.backward_lstm = nn.LSTM(config.dim, config.hidden_size, batch_first=True)
        self.output_size = 2 * config.hidden_size

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        """chars: long (words, chars), 0-padded -> float (words, 2 * hidden)."""
        lengths = (chars != 0).sum(dim=1)  # (words,), every word has a character
        x = self.embedding(chars)  # (words, chars, dim)
        last = (lengths - 1).view(-1, 1, 1)  # each word's last real character
        forward = self.forward_lstm(x)[0]  # (words, chars, hidden)
        index = reverse_within_lengths(lengths, chars.size(1))  # (words, chars)
        backward = self.backward_lstm(gather_steps(x, index))[0]
        return torch.cat([forward.gather(1, last.expand(-1, 1, forward.size(2))).squeeze(1),
                          backward.gather(1, last.expand(-1, 1, backward.size(2))).squeeze(1)],
                         dim=1)


CHAR_ENCODERS = {"cnn": CharCNN, "lstm": CharLSTM}
CHAR_GROUPS = 4  # word-length groups per batch for the character encoder


class Embedder(nn.Module):
    """Concatenates word, character and casing features of every token, then dropout."""

    def __init__(self, config: EmbeddingsConfig, num_words: int, num_chars: int,
                 locked_dropout: bool = False):
        super().__init__()
        # sparse: each step updates only the rows of the words in the batch
        self.words = nn.Embedding(num_words, config.word.dim, padding_idx=0, sparse=True)
        _init_uniform(self.words)
        self.words.weight.requires_grad = not (config.pretrained and config.freeze)
        char_type = config.char.type
        self.chars = CHAR_ENCODERS[char_type](config.char, num_chars) if char_type else None
        self.casing = (nn.Embedding(len(CASINGS), config.casing_dim, padding_idx=0)
                       if config.casing_dim else None)
        self.dropout = SequenceDropout(config.dropout, locked_dropout)
        self.output_size = (config.word.dim + (self.chars.output_size if self.chars else 0)
                            + (config.casing_dim or 0))

    def _by_length(self, words: torch.Tensor) -> torch.Tensor:
        """Character features of words (tokens, chars), in CHAR_GROUPS groups of similar
        length, each cut to its own longest word: most words are short, and padding to
        the batch's longest word would multiply the work."""
        lengths = (words != 0).sum(dim=1)  # (tokens,)
        order = torch.argsort(lengths)
        outputs = [self.chars(words[group, : int(lengths[group[-1]])])
                   for group in order.tensor_split(CHAR_GROUPS) if group.numel()]
        return torch.cat(outputs)[torch.argsort(order)]  # back in token order

    @torch.no_grad()
    def set_word_vectors(self, rows: dict[int, torch.Tensor]) -> None:
        """Copy pretrained vectors into their rows; the other rows are drawn at the
        pretrained vectors' own scale, so no row stands out."""
        weight = self.words.weight
        if rows:
            found = torch.stack(list(rows.values()))  # (found, dim)
            weight.normal_(0.0, float(found.std()))
            weight[list(rows)] = found
        weight[0] = 0.0  # padding

    def forward(self, rows: Rows) -> torch.Tensor:
        """float (rows, row time, output_size) for the encoder's rows; padding is
        whatever dropout leaves of 0."""
        parts = [self.words(rows.words)]  # (rows, row time, word dim)
        if self.chars is not None:
            per_word = self._by_length(rows.chars[rows.mask])  # (tokens, filters)
            chars = per_word.new_zeros(rows.mask.shape + (per_word.size(1),))
            chars[rows.mask] = per_word  # (rows, row time, filters)
            parts.append(chars)
        if self.casing is not None:
            parts.append(self.casing(rows.casing))  # (rows, row time, casing dim)
        return self.dropout(torch.cat(parts, dim=-1))
