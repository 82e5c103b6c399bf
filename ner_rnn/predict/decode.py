"""Decoding sentences batch by batch into arrays over all their tokens: the best path of
each sentence, and on request the k best paths with their scores and each entity's
log-probability (forward-backward). Scoring and tagging both decode here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import torch

from ner_rnn.data.batching import Batch, collate
from ner_rnn.data.encoding import Encoded
from ner_rnn.data.examples import Preprocessor
from ner_rnn.model.constants import MAX_NBEST, NEG_INF
from ner_rnn.model.decoding import Potentials, log_partition, marginals
from ner_rnn.model.network import TaggerNetwork
from ner_rnn.predict.onnx_backend import OnnxBackend
from ner_rnn.predict.paths import Paths
from ner_rnn.predict.spans import SpanReader

DISTINCT_FACTOR = 4  # paths decoded per path returned where several may read as one


@contextmanager
def evaluating(network: TaggerNetwork) -> Iterator[None]:
    """Eval mode (no dropout) and no autograd for the block; the mode is restored after."""
    was_training = network.training
    network.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        network.train(was_training)


def decode(network: TaggerNetwork | OnnxBackend, preprocessor: Preprocessor, encoded: Encoded,
           batch_size: int, nbest: int = 1, confidence: bool = False) -> Paths:
    """The paths of every sentence of `encoded` (empty ones have none), in batches of up
    to `batch_size` encoder rows planned over all of them (with document context: windows
    of their documents' sentences)."""
    lines = np.flatnonzero(encoded.lengths > 0)  # (sentences,) the non-empty ones
    sentences = encoded.take(lines)  # the same tokens, in the same order
    tokens, count = encoded.words.size, len(encoded)
    paths = Paths(np.zeros(tokens, dtype=np.int64))
    if isinstance(network, OnnxBackend):  # an exported graph: best paths only
        network.refuse_scores(nbest, confidence)
        for batch, where in _batches(preprocessor, sentences, batch_size, torch.device("cpu")):
            paths.tags[where] = network.best(batch)[batch.sentences.mask.numpy()]
        return paths
    if confidence:
        paths = replace(paths, log_probability=np.full(tokens, np.nan, dtype=np.float32))
    if nbest > 1:
        paths = replace(paths, nbest_tags=np.zeros((nbest, tokens), dtype=np.int64),
                        nbest_valid=np.zeros((count, nbest), dtype=bool),
                        nbest_scores=np.zeros((count, nbest), dtype=np.float32),
                        log_z=np.zeros(count, dtype=np.float32))
    reader = SpanReader.of(tuple(preprocessor.vocabs.labels.items),
                           preprocessor.config.model.scheme)
    device = next(network.parameters()).device
    with evaluating(network):
        for batch, where in _batches(preprocessor, sentences, batch_size, device):
            _decode_batch(network, batch, paths, where, lines[batch.indices], nbest, reader,
                          confidence)
    return paths


def _batches(preprocessor: Preprocessor, sentences: Encoded, batch_size: int,
             device: torch.device) -> Iterator[tuple[Batch, np.ndarray]]:
    """The batches of `sentences` (none empty) on `device`, each with where its tokens
    are among theirs: int (batch tokens,)."""
    for rows in preprocessor.batches(sentences, batch_size):
        batch = collate(sentences, rows).to(device)
        yield batch, sentences.token_index(np.asarray(batch.indices))


def _decode_batch(network: TaggerNetwork, batch: Batch, out: Paths, where: np.ndarray,
                  lines: np.ndarray, nbest: int, reader: SpanReader, confidence: bool) -> None:
    """Decode `batch` into `out`: its tokens go to `where`, its sentences to `lines`."""
    mask = batch.sentences.mask
    p = network.potentials(batch)
    best = network.head.decode(p, mask)  # (batch, time)
    out.tags[where] = best[mask].cpu().numpy()
    if nbest > 1:
        if network.head.constrained:  # well-formed paths read as distinct tags
            paths, scores, valid = network.head.kbest(p, mask, nbest)  # (batch, k, time), ...
        else:
            paths, scores, valid = _distinct_kbest(network, p, mask, nbest, reader)
        out.nbest_tags[:, where] = paths.transpose(0, 1)[:, mask].cpu().numpy()
        out.nbest_valid[lines] = valid.cpu().numpy()
        out.nbest_scores[lines] = scores.cpu().numpy()
        out.log_z[lines] = log_partition(p, mask, network.head.partition).cpu().numpy()
    if confidence:
        lengths = batch.sentences.lengths.cpu().numpy()
        spans = reader.spans(out.tags[where], lengths)
        first = np.cumsum(lengths) - lengths  # (batch,) where each sentence's tokens begin
        log_p = span_log_probabilities(p, mask, best,
                                       *(torch.from_numpy(x).to(best.device) for x in
                                         (spans.sentence, spans.start, spans.end)))
        out.log_probability[where[first[spans.sentence] + spans.start]] = log_p.cpu().numpy()


def _distinct_kbest(network: TaggerNetwork, p: Potentials, mask: torch.Tensor, k: int,
                    reader: SpanReader) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Without constraints several paths read as one tag sequence (IOB2 `O I-PER` is
    `O B-PER`): the DISTINCT_FACTOR * k best paths (at most MAX_NBEST) are decoded, those
    with the same entities merged into the best of them with their scores log-summed, and
    the k best of what remains kept. Shapes as `head.kbest`'s."""
    wanted = min(MAX_NBEST, DISTINCT_FACTOR * k)
    paths, scores, valid = network.head.kbest(p, mask, wanted)  # (batch, wanted, time), ...
    batch, _, time = paths.shape
    lengths = mask.sum(dim=1).repeat_interleave(wanted).cpu().numpy()  # (batch * wanted,)
    flat = paths.reshape(batch * wanted, time)[mask.repeat_interleave(wanted, dim=0)]
    found = reader.spans(flat.cpu().numpy(), lengths)
    readings = [[] for _ in range(batch * wanted)]
    for row, *span in zip(*(x.tolist() for x in (found.sentence, found.start, found.end,
                                                 found.type))):
        readings[row].append(tuple(span))
    kept = torch.zeros(batch, k, dtype=torch.long)  # which decoded path each kept one is
    merged = torch.full((batch, k), NEG_INF)
    distinct = torch.zeros(batch, k, dtype=torch.bool)
    ok = valid.cpu().numpy()
    for row in range(batch):
        groups: dict[tuple, list[int]] = {}
        for rank in np.flatnonzero(ok[row]).tolist():
            groups.setdefault(tuple(readings[row * wanted + rank]), []).append(rank)
        totals = [(float(torch.logsumexp(scores[row, ranks], dim=0)), ranks[0])
                  for ranks in groups.values()]
        for place, (total, rank) in enumerate(sorted(totals, key=lambda t: -t[0])[:k]):
            kept[row, place], merged[row, place], distinct[row, place] = rank, total, True
    chosen = paths.gather(1, kept.to(paths.device)[:, :, None].expand(-1, -1, time))
    distinct = distinct.to(paths.device)
    return chosen * distinct.unsqueeze(2), merged.to(scores.device), distinct


def span_log_probabilities(p: Potentials, mask: torch.Tensor, paths: torch.Tensor,
                           rows: torch.Tensor, starts: torch.Tensor, ends: torch.Tensor
                           ) -> torch.Tensor:
    """log P(steps start..end-1 of sentence `row` carry the tags of `paths` there), for
    each (row, start, end): float (spans,). paths: long (batch, time).

    The score of the segment is added up step by step, as for a single span, so each
    value is the same float whichever spans are computed with it."""
    alpha, beta, log_z = marginals(p, mask)  # (batch, time, tags) twice, (batch,)
    score = (alpha[rows, starts, paths[rows, starts]]
             + beta[rows, ends - 1, paths[rows, ends - 1]])  # (spans,)
    last = paths.size(1) - 1
    longest = int((ends - starts).max()) if len(rows) else 1
    for step in range(1, longest):
        t = (starts + step).clamp(max=last)
        tag = paths[rows, t]
        moved = score + p.transitions[paths[rows, t - 1], tag] + p.emissions[rows, t, tag]
        score = torch.where(step < ends - starts, moved, score)
    return score - log_z[rows]
