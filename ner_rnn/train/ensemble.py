"""`ner-rnn ensemble`: trained model directories of one config, as one model directory."""

from __future__ import annotations

import os
from pathlib import Path

from ner_rnn import model_dir
from ner_rnn.config import Config, to_dict
from ner_rnn.errors import NerError
from ner_rnn.model.ensemble import EnsembleNetwork
from ner_rnn.model.network import TaggerNetwork
from ner_rnn.train.output import ModelOutput


def build_ensemble(directories: list[Path], output: Path, overwrite: bool = False) -> int:
    """Write at `output` a model whose tagging averages the potentials of the models in
    `directories` (or of their members, for ensembles); returns the number of members.

    The models must share their `model` config, data scheme and vocabularies, as runs of
    one config on one corpus with different seeds do.
    """
    directories, output = [Path(d) for d in directories], Path(output)
    if len(directories) < 2:
        raise NerError("ensemble: expected two or more model directories")
    if len({os.path.realpath(d) for d in directories}) < len(directories):
        raise NerError("ensemble: a model directory is given twice")
    if os.path.realpath(output) in {os.path.realpath(d) for d in directories}:
        raise NerError(f"{output}: is one of the members; choose another --output")
    loaded = [model_dir.load_model(d) for d in directories]
    first_config, first_vocabs, _ = loaded[0]
    networks: list[TaggerNetwork] = []
    for directory, (config, vocabs, network) in zip(directories, loaded):
        _check_compatible(directory, config, first_config, directories[0])
        if vocabs.to_json() != first_vocabs.to_json():
            raise NerError(f"{directory / model_dir.VOCAB}: vocabularies differ from "
                           f"{directories[0] / model_dir.VOCAB}; members must be trained on "
                           "the same corpus with the same config")
        networks.extend(network.members if isinstance(network, EnsembleNetwork) else [network])
    if len(networks) > model_dir.MAX_MEMBERS:
        raise NerError(f"ensemble: {len(networks)} members, at most {model_dir.MAX_MEMBERS}")
    destination = ModelOutput.new(output, overwrite)
    try:
        target = destination.directory
        model_dir.save_description(target, first_config, first_vocabs, members=len(networks))
        model_dir.save_weights(target, EnsembleNetwork(networks))
        model_dir.save_metrics(target, [{"final": True, "ensemble_of": [
            os.fsdecode(os.path.abspath(d)) for d in directories]}])
        destination.publish()
    finally:
        destination.abandon()  # nothing, once published
        destination.release()
    return len(networks)


def _check_compatible(directory: Path, config: Config, first: Config, first_dir: Path) -> None:
    """Refuse a member whose model or data scheme differs, naming the first key that does."""
    mine, theirs = to_dict(config), to_dict(first)
    for tree in (mine, theirs):  # resolved by the device each trained on: not the model
        tree["model"]["head"].pop("partition", None)
    for section in ("model", "data.scheme"):
        key = _first_difference(_get(mine, section), _get(theirs, section), section)
        if key:
            raise NerError(f"{directory / model_dir.CONFIG}: {key} differs from "
                           f"{first_dir / model_dir.CONFIG}; an ensemble's members share "
                           "their config but for the seed")


def _get(tree: dict, dotted: str):
    for part in dotted.split("."):
        tree = tree[part]
    return tree


def _first_difference(a, b, path: str) -> str | None:
    """The dotted key of the first value that differs between two config trees."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a:
            found = _first_difference(a[key], b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    return None if a == b else path
