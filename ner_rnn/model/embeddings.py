"""Token representations: word vectors, optional character CNN and casing features."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ner_rnn.config import CharConfig, EmbeddingsConfig
from ner_rnn.data.batching import Rows
from ner_rnn.data.vocab import CASINGS
from ner_rnn.model.constants import NEG_INF
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

    The convolution over windows of `width` character vectors (zero-padded at both
    ends) is linear in those vectors, so it is computed as a lookup: one table of each
    character's contribution at each window offset (character vectors times the
    convolution's weights, a small product per step), then each window's sum of its
    entries (`embedding_bag`), then the maximum over the word (`_WindowMax`). The same
    function as `nn.Conv1d` over the vectors, with a fraction of the work, for all the
    words of a batch in a few ops.
    """

    def __init__(self, config: CharConfig, num_chars: int):
        super().__init__()
        self.width = config.width
        self.embedding = nn.Embedding(num_chars, config.dim, padding_idx=0)
        _init_uniform(self.embedding)
        self.window = nn.Linear(config.width * config.dim, config.filters)
        self.output_size = config.filters
        # the padding character's vector is 0 and never learns, as nn.Embedding keeps it
        self.register_buffer("real", (torch.arange(num_chars) > 0).unsqueeze(1).float(),
                             persistent=False)  # (chars, 1)
        self.register_buffer("offsets", torch.arange(config.width) * num_chars,
                             persistent=False)  # (width,)
        # a window centred on padding scores NEG_INF, so it never wins the max
        penalty = torch.zeros(config.width, num_chars, 1)
        penalty[(config.width - 1) // 2, 0] = NEG_INF
        self.register_buffer("penalty", penalty.flatten(0, 1), persistent=False)

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        """chars: long (words, chars), 0-padded, each word with a character -> float
        (words, filters)."""
        table, windows = self.lookup(chars)
        h = _WindowMax.apply(table, windows)  # (words, filters)
        # the bias is the same at every position: added after the max, it moves it alike
        return h + self.window.bias

    def lookup(self, chars: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """chars: long (words, chars) -> the table, float (width * num chars, filters),
        and each window's rows of it, long (chars, words, width)."""
        vectors = self.embedding.weight * self.real  # (num chars, dim)
        weight = self.window.weight.view(self.output_size, self.width, -1)  # (filters, width, dim)
        table = (vectors @ weight.permute(1, 2, 0)).flatten(0, 1)  # (width * chars, filters)
        left = (self.width - 1) // 2
        padded = F.pad(chars, (left, self.width - 1 - left))  # (words, chars + width - 1)
        windows = padded.unfold(1, self.width, 1).transpose(0, 1)  # (chars, words, width)
        return table + self.penalty, windows + self.offsets


class _WindowMax(torch.autograd.Function):
    """Each word's maximum over its windows of the sum of their table rows, with the
    gradient of `torch.max`: all of it to the first window that reaches the maximum.

    Windows are laid out position first, so the maximum runs over the outer dimension
    (a fraction of the time of one over the middle); the backward pass adds each
    gradient to the table rows of its one winning window, not a gradient per window."""

    @staticmethod
    def forward(ctx, table: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
        """table: float (width * chars, filters); windows: long (positions, words, width),
        rows of table -> float (words, filters)."""
        positions, words, width = windows.shape
        windows = windows.reshape(-1, width)  # (positions * words, width)
        h = F.embedding_bag(windows, table, mode="sum").view(positions, words, -1)
        best = h.amax(dim=0)  # (words, filters)
        ctx.save_for_backward(h, best, windows)
        ctx.table_rows = table.size(0)
        return best

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        h, best, windows = ctx.saved_tensors
        (positions, words, filters), width = h.shape, windows.size(1)
        # the first window at the maximum: the least of its position, where every window
        # below the maximum counts its position plus `positions` (float ops: a comparison's
        # boolean output takes several times as long)
        order = torch.arange(positions, dtype=h.dtype, device=h.device).view(-1, 1, 1)
        below = (h - best).sign_()  # (positions, words, filters): -1 below the maximum, else 0
        first = torch.add(order, below, alpha=-positions).amin(dim=0)  # (words, filters)
        # with NaN scores (a diverged run) the index is whatever NaN makes it: clamped
        # after the conversion, it stays in range all the same
        first = first.long().clamp_(0, positions - 1)
        word = torch.arange(words, device=h.device)  # (words,)
        winners = (first * words + word.unsqueeze(1)).flatten()  # (words * filters,)
        rows = windows.index_select(0, winners)  # the winning windows' rows
        cells = rows.view(words, filters, width) * filters  # (words, filters, width)
        cells += torch.arange(filters, device=h.device).unsqueeze(1)  # + each filter's column
        table_grad = grad.new_zeros(ctx.table_rows * filters)
        table_grad.index_add_(0, cells.flatten(), grad.unsqueeze(2).expand_as(cells).flatten())
        return table_grad.view(ctx.table_rows, filters), None


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
        """chars: long (words, chars), 0-padded, each word with a character -> float
        (words, 2 * hidden). The words are read in LENGTH_GROUPS groups of similar
        length, each cut to its own longest word: most words are short, and padding to
        the batch's longest would multiply the steps."""
        lengths = (chars != 0).sum(dim=1)  # (words,)
        order = torch.argsort(lengths)
        outputs = [self._final_states(chars[group, : int(lengths[group[-1]])], lengths[group])
                   for group in order.tensor_split(LENGTH_GROUPS) if group.numel()]
        return torch.cat(outputs)[torch.argsort(order)]  # (words, 2 * hidden)

    def _final_states(self, words: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """words: long (words, chars); lengths: long (words,) -> float (words, 2 * hidden)."""
        x = self.embedding(words)  # (words, chars, dim)
        last = (lengths - 1).view(-1, 1, 1)  # each word's last real character
        forward = self.forward_lstm(x)[0]  # (words, chars, hidden)
        index = reverse_within_lengths(lengths, words.size(1))  # (words * chars,)
        backward = self.backward_lstm(gather_steps(x, index))[0]
        return torch.cat([forward.gather(1, last.expand(-1, 1, forward.size(2))).squeeze(1),
                          backward.gather(1, last.expand(-1, 1, backward.size(2))).squeeze(1)],
                         dim=1)


CHAR_ENCODERS = {"cnn": CharCNN, "lstm": CharLSTM}
LENGTH_GROUPS = 4  # word-length groups per batch for the character LSTM


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
            # each distinct spelling once (row 0 of rows.chars is padding), then per token
            spellings = self.chars(rows.chars[1:])  # (spellings, char features)
            spellings = F.pad(spellings, (0, 0, 1, 0))  # (1 + spellings, ...): padding scores 0
            parts.append(F.embedding(rows.spelling, spellings))  # (rows, row time, char features)
        if self.casing is not None:
            parts.append(self.casing(rows.casing))  # (rows, row time, casing dim)
        return self.dropout(torch.cat(parts, dim=-1))
