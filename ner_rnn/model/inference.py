"""Running a network over examples without gradients, batch by batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import torch

from ner_rnn.data.batching import Batch, collate
from ner_rnn.data.encoding import Encoded
from ner_rnn.model.network import TaggerNetwork

Result = TypeVar("Result")


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


def over_batches(network: TaggerNetwork, examples: Encoded,
                 batches: list[list[list[int]]], decode: Callable[[Batch], list[Result]]
                 ) -> list[Result]:
    """`decode(batch)` for each planned batch (see `Preprocessor.batches`), in eval mode
    and without autograd; one result per example, in the examples' order."""
    device = next(network.parameters()).device
    results: list = [None] * len(examples)
    with evaluating(network):
        for rows in batches:
            batch = collate(examples, rows).to(device)
            for index, result in zip(batch.indices, decode(batch), strict=True):
                results[index] = result
    return results
