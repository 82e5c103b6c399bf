"""Shared fixtures: tiny corpora written in the tests, the bundled sample corpus paths."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ner_rnn.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def write(tmp_path):
    """write(name, text) -> path of a new file under tmp_path (text written as UTF-8)."""

    def _write(name: str, text: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write


def floats_apart(value):
    """(value with each float replaced by None, the floats in order): results that may
    differ only by float rounding compare exactly, then approximately."""
    floats = []

    def strip(item):
        if isinstance(item, float):
            floats.append(item)
            return None
        if isinstance(item, dict):
            return {key: strip(entry) for key, entry in item.items()}
        if isinstance(item, list):
            return [strip(entry) for entry in item]
        return item

    return strip(value), floats


def train_small(directory, *overrides):
    """A small model trained for one epoch on the sample corpus (overrides: --set KEY=VALUE)."""
    sets = ["train.epochs=1", f"data.train={SAMPLE / 'train.conll'}",
            f"data.dev={SAMPLE / 'dev.conll'}", "data.test=null", "model.encoder.hidden_size=16",
            *overrides]
    assert main(["train", "--config", str(ROOT / "configs" / "default.yaml"),
                 "--output-dir", str(directory),
                 *(part for key in sets for part in ("--set", key))]) == 0
    return directory
