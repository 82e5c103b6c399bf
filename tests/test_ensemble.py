"""`ner-rnn ensemble`: models of one config, trained with different seeds, as one."""

import json
import shutil

import pytest
import torch

from ner_rnn.cli import main
from ner_rnn.data.batching import collate
from ner_rnn.data.conll import read_conll
from ner_rnn.model.decoding import Potentials
from ner_rnn.serve.lines import LineEncoder
from ner_rnn.serve.tagger import Tagger
from tests.conftest import ROOT, SAMPLE

SENTENCES = ["The Apple is a great company !", "Maria Lopez flew from Paris to Tokyo ."]


def train(directory, *overrides):
    sets = ["train.epochs=3", "model.head.type=crf", f"data.train={SAMPLE / 'train.conll'}",
            f"data.dev={SAMPLE / 'dev.conll'}", "data.test=null", *overrides]
    assert main(["train", "--config", str(ROOT / "configs" / "default.yaml"),
                 "--output-dir", str(directory),
                 *(part for key in sets for part in ("--set", key))]) == 0
    return directory


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    root = tmp_path_factory.mktemp("ensemble")
    return [train(root / f"seed{seed}", f"seed={seed}") for seed in (1, 2)]


def test_an_ensemble_averages_its_members_potentials(members, tmp_path, capsys):
    output = tmp_path / "ensemble"
    assert main(["ensemble", *map(str, members), "--output", str(output)]) == 0
    assert json.loads((output / "meta.json").read_text())["members"] == 2
    assert (output / "vocab.json").read_bytes() == (members[0] / "vocab.json").read_bytes()
    ensemble, *alone = (Tagger.load(d) for d in (output, *members))
    batch = _batch(ensemble)
    expected = [torch.stack(f).mean(0) for f in
                zip(*(t.network.potentials(batch) for t in alone))]
    got = ensemble.network.potentials(batch)
    assert isinstance(got, Potentials)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)
    report, _ = ensemble.evaluate(read_conll(SAMPLE / "test.conll"))
    assert report["overall"]["f1"] > 0.3  # it tags: 3 epochs on the sample reach ~0.6


def _batch(tagger):
    encoded = LineEncoder(tagger.vocabs, tagger.preprocessor.char_length, False)(
        SENTENCES).encoded
    rows, = tagger.preprocessor.batches(encoded, len(SENTENCES))
    return collate(encoded, rows)


def test_an_ensemble_of_one_model_twice_tags_as_that_model(members, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(members[0], copy)
    output = tmp_path / "twice"
    assert main(["ensemble", str(members[0]), str(copy), "--output", str(output)]) == 0
    assert Tagger.load(output).tag(SENTENCES, nbest=3, confidence=True) == \
        Tagger.load(members[0]).tag(SENTENCES, nbest=3, confidence=True)
    for implementation in ("native", "torch"):  # the encoders' weights convert per member
        assert Tagger.load(output, implementation=implementation).tag(SENTENCES) == \
            Tagger.load(members[0]).tag(SENTENCES)


def test_ensembles_of_ensembles_join_their_members(members, tmp_path):
    pair = tmp_path / "pair"
    assert main(["ensemble", *map(str, members), "--output", str(pair)]) == 0
    copy = tmp_path / "copy"
    shutil.copytree(members[0], copy)
    triple = tmp_path / "triple"
    assert main(["ensemble", str(pair), str(copy), "--output", str(triple)]) == 0
    assert json.loads((triple / "meta.json").read_text())["members"] == 3
    assert main(["report", "--model", str(triple), "--data", str(SAMPLE / "dev.conll"),
                 "--format", "json", "--output", str(tmp_path / "r.json")]) == 0


def test_members_must_share_config_and_vocabularies(members, tmp_path, capsys):
    other = train(tmp_path / "wide", "model.encoder.hidden_size=16")
    output = tmp_path / "out"
    assert main(["ensemble", str(members[0]), str(other), "--output", str(output)]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "model.encoder.hidden_size differs" in err and not output.exists()

    fewer = tmp_path / "fewer.conll"
    fewer.write_text((SAMPLE / "train.conll").read_text()[:3000].rsplit("\n\n", 1)[0] + "\n")
    small = train(tmp_path / "small", f"data.train={fewer}")
    assert main(["ensemble", str(members[0]), str(small), "--output", str(output)]) != 0
    assert "vocab.json: vocabularies differ" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["one"], "two or more"), (["one", "one"], "given twice")])
def test_bad_member_lists_are_refused(members, tmp_path, capsys, args, message):
    paths = [str(members[0]) if a == "one" else a for a in args]
    assert main(["ensemble", *paths, "--output", str(tmp_path / "o")]) != 0
    assert message in capsys.readouterr().err


def test_an_existing_model_is_replaced_only_with_overwrite(members, tmp_path, capsys):
    output = tmp_path / "ensemble"
    assert main(["ensemble", *map(str, members), "--output", str(output)]) == 0
    assert not list(tmp_path.glob(".*"))  # its lock is released, no staging left
    assert main(["ensemble", *map(str, members), "--output", str(output)]) != 0
    assert "--overwrite" in capsys.readouterr().err
    assert main(["ensemble", *map(str, members), "--output", str(output),
                 "--overwrite"]) == 0


def test_a_member_as_output_is_refused(members, capsys):
    assert main(["ensemble", *map(str, members), "--output", str(members[0]),
                 "--overwrite"]) != 0
    assert "is one of the members" in capsys.readouterr().err
    assert (members[0] / "last.pt").exists()  # the member's run is untouched


def test_members_trained_on_other_devices_join(members, tmp_path):
    """model.head.partition is resolved by the device a member trained on (recursion on
    a CPU, tree on a GPU): it is not a difference of model."""
    import shutil

    gpu_trained = tmp_path / "gpu"
    shutil.copytree(members[1], gpu_trained)
    config = gpu_trained / "config.yaml"
    text = config.read_text()
    assert "partition: recursion" in text
    config.write_text(text.replace("partition: recursion", "partition: tree"))
    assert main(["ensemble", str(members[0]), str(gpu_trained), "--output",
                 str(tmp_path / "ensemble")]) == 0


def test_export_refuses_an_output_inside_the_model(members, capsys):
    assert main(["export", "--model", str(members[0]), "--output",
                 str(members[0] / "weights.pt"), "--overwrite"]) != 0
    assert "inside" in capsys.readouterr().err
