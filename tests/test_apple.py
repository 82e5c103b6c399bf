"""The lecture's motivating example holds with every shipped config: "apple"
is a fruit in "I like eating apple !" and a company in "The Apple is a great company !".

Each config is trained on the bundled sample corpus (CoNLL-2003 itself is not shipped),
on the CPU, with its own architecture and scheme; the GloVe config reads a small vectors
file written here in the GloVe text format.
"""

import random

import pytest

from ner_rnn.cli import main
from ner_rnn.data.conll import read_conll
from ner_rnn.serve.tagger import Tagger
from tests.conftest import ROOT, SAMPLE

CONFIGS = sorted(path.name for path in (ROOT / "configs").glob("*.yaml"))


def glove_file(path):
    """Random 100-dimensional vectors for the sample corpus's words, as GloVe text."""
    words = sorted({token.lower() for s in read_conll(SAMPLE / "train.conll")
                    for token in s.tokens})
    rng = random.Random(0)
    path.write_text("".join(word + " " + " ".join(f"{rng.uniform(-1, 1):.4f}"
                                                   for _ in range(100)) + "\n"
                            for word in words), encoding="utf-8")
    return path


def test_every_conll_config_is_checked():
    assert CONFIGS == ["conll2003.yaml", "conll2003_glove.yaml", "conll2003_gpu.yaml",
                       "default.yaml"]


@pytest.mark.parametrize("config", CONFIGS)
def test_apple_is_a_fruit_or_a_company_by_context(config, tmp_path):
    overrides = ["threads=1", "device=cpu", "train.epochs=12", "train.patience=12",
                 f"data.train={SAMPLE / 'train.conll'}", f"data.dev={SAMPLE / 'dev.conll'}"]
    if "glove" in config:
        overrides.append(f"model.embeddings.pretrained={glove_file(tmp_path / 'glove.txt')}")
    directory = tmp_path / "model"
    assert main(["train", "--config", str(ROOT / "configs" / config),
                 "--output-dir", str(directory),
                 *(part for key in overrides for part in ("--set", key))]) == 0
    fruit, company = Tagger.load(directory).tag(["I like eating apple !",
                                                 "The Apple is a great company !"])
    assert fruit["entities"] == []
    assert [(e["text"], e["type"]) for e in company["entities"]] == [("Apple", "ORG")]
