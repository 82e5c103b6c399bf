"""Hostile input III (issue 22, items 1-12): outputs over their own inputs or models,
directories shared by runs, schemes per file, duplicate YAML keys, Unicode spaces in
columns, scripts the tokeniser must keep whole, unconstrained k-best, unreadable models,
labels a resumed run never saw, floats beyond float32."""

import os
import subprocess
import sys

import pytest

from ner_rnn.cli import main
from ner_rnn.config import load_config
from ner_rnn.train.loop import train
from tests.conftest import ROOT

CORPUS = """\
Maria B-PER
Lopez I-PER
flew O
to O
Paris B-LOC
. O

Apple B-ORG
rose O
in O
Tokyo B-LOC
. O

John B-PER
visited O
Berlin B-LOC
and O
Rome B-LOC
. O
"""
TINY = ["model.embeddings.word.dim=4", "model.encoder.hidden_size=4", "train.batch_size=2",
        "train.epochs=1", "train.patience=null", "model.embeddings.char.type=null",
        "threads=1"]


def tiny_config(corpus, *overrides):
    return load_config(None, TINY + [f"data.train={corpus}", *overrides])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "train.conll"
    path.write_text(CORPUS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def model(corpus):
    directory = corpus.parent / "model"
    train(tiny_config(corpus), directory)
    return directory


def run_cli(*args, **kwargs):
    kwargs.setdefault("capture_output", True)
    return subprocess.run([sys.executable, "-m", "ner_rnn", *map(str, args)], cwd=ROOT,
                          check=False, env={**os.environ, "PYTHONPATH": str(ROOT)}, **kwargs)


def one_error_line(stderr: bytes | str) -> str:
    text = stderr.decode() if isinstance(stderr, bytes) else stderr
    errors = [line for line in text.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and text.rstrip("\n").endswith(errors[0]), text
    assert "Traceback" not in text, text
    return errors[0]


def train_args(config_dir, corpus, *overrides):
    """`train` arguments for the tiny config on `corpus` (a config file in `config_dir`)."""
    config = config_dir / "tiny.yaml"
    config.write_text(f"data:\n  train: {corpus}\n", encoding="utf-8")
    return ["train", "--config", str(config),
            *[a for s in TINY + list(overrides) for a in ("--set", s)]]


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


# 1. stdin that is the output file


def test_tag_refuses_output_that_is_its_stdin(model, tmp_path):
    text = tmp_path / "in.txt"
    text.write_text("Maria flew to Paris\n", encoding="utf-8")
    with open(text, "rb") as stdin:
        result = run_cli("tag", "--model", model, "--output", text, "-", stdin=stdin)
    assert result.returncode == 2
    assert "standard input" in one_error_line(result.stderr)
    assert text.read_text(encoding="utf-8") == "Maria flew to Paris\n"


def test_tag_from_stdin_to_another_file_works(model, tmp_path):
    text, out = tmp_path / "in.txt", tmp_path / "out.jsonl"
    text.write_text("Maria flew to Paris\n", encoding="utf-8")
    with open(text, "rb") as stdin:
        result = run_cli("tag", "--model", model, "--output", out, "-", stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").count("\n") == 1


# 2. outputs inside the model directory being read


@pytest.mark.parametrize("command", [
    ["tag", "--output", "{m}/weights.pt", "Maria flew"],
    ["evaluate", "--data", "{c}", "--output", "{m}/config.yaml"],
    ["report", "--data", "{c}", "--output", "{m}/vocab.json", "--format", "json"],
    ["report", "--data", "{c}", "--output", "{m}/sub/../report.html"],
])
def test_output_inside_the_model_directory_is_refused(model, corpus, command, capsys):
    before = snapshot(model)
    args = [a.format(m=model, c=corpus) for a in command]
    assert main([args[0], "--model", str(model), *args[1:]]) == 2
    assert "inside the model directory" in capsys.readouterr().err
    assert snapshot(model) == before


def test_output_through_a_symlink_into_the_model_is_refused(model, corpus, tmp_path, capsys):
    link = tmp_path / "link"
    link.symlink_to(model)
    before = snapshot(model)
    assert main(["evaluate", "--model", str(model), "--data", str(corpus),
                 "--output", str(link / "weights.pt")]) == 2
    assert "inside the model directory" in capsys.readouterr().err
    assert snapshot(model) == before


# 3. --overwrite replaces a model's own files only


def test_overwrite_refuses_a_directory_holding_a_data_file(corpus, tmp_path, capsys):
    directory = tmp_path / "m"
    train(tiny_config(corpus), directory)
    data = directory / "train.conll"
    data.write_text(CORPUS, encoding="utf-8")
    before = snapshot(directory)
    assert main([*train_args(tmp_path, data), "--output-dir", str(directory),
                 "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "train.conll: is not a model file" in err, err
    assert snapshot(directory) == before


def test_overwrite_replaces_a_directory_of_model_files(corpus, tmp_path):
    directory = tmp_path / "m"
    train(tiny_config(corpus), directory)
    first = (directory / "weights.pt").read_bytes()
    train(tiny_config(corpus, "seed=7"), directory, overwrite=True)
    assert (directory / "weights.pt").read_bytes() != first
    assert not (tmp_path / ".m.lock").exists()


# 4. one training run at a time into one directory


def test_second_run_into_a_locked_directory_stops_at_once(corpus, tmp_path, capsys):
    from ner_rnn.train.output import ModelOutput

    directory = tmp_path / "m"
    holder = ModelOutput.new(directory)  # a run that has begun and not yet saved
    try:
        assert main([*train_args(tmp_path, corpus), "--output-dir", str(directory)]) == 2
        err = capsys.readouterr().err
        assert "another training run is writing this directory" in err, err
        assert "epoch" not in err
        assert not directory.exists()
    finally:
        holder.release()
    train(tiny_config(corpus), directory)  # free again once the first run ends
    assert (directory / "weights.pt").is_file()


def test_resume_is_refused_while_another_run_holds_the_directory(corpus, tmp_path):
    from ner_rnn.errors import ModelError
    from ner_rnn.train.loop import resume
    from ner_rnn.train.output import ModelOutput

    directory = tmp_path / "m"
    train(tiny_config(corpus, "train.epochs=2"), directory)
    holder = ModelOutput.existing(directory)
    try:
        with pytest.raises(ModelError, match="another training run"):
            resume(directory)
    finally:
        holder.release()


# 5. each dev/test file is scored in its own scheme


def test_bioes_dev_file_is_scored_and_selected_in_bioes_under_iob2_training(tmp_path):
    import json

    from ner_rnn.data.corpus import read_corpus
    from ner_rnn.serve.tagger import Tagger

    iob2 = CORPUS + "\nParis B-LOC\nTokyo B-LOC\nrose O\n"  # two adjacent entities
    bioes = (iob2.replace("Lopez I-PER", "Lopez E-PER").replace("B-LOC", "S-LOC")
             .replace("B-ORG", "S-ORG").replace("John B-PER", "John S-PER"))
    (tmp_path / "train.conll").write_text(iob2, encoding="utf-8")
    dev = tmp_path / "dev.conll"
    dev.write_text(bioes, encoding="utf-8")
    summary = train(tiny_config(tmp_path / "train.conll", f"data.dev={dev}", f"data.test={dev}",
                                "train.epochs=15"), tmp_path / "m")
    tagger = Tagger.load(tmp_path / "m")
    report, _ = tagger.evaluate(read_corpus(dev, tagger.config.data))  # dev's own scheme
    assert report["overall"]["support"] == 9  # S-LOC S-LOC is two entities
    expected = {"precision": report["overall"]["precision"],
                "recall": report["overall"]["recall"], "f1": report["overall"]["f1"],
                "token_accuracy": report["token_accuracy"]}
    assert summary["dev"] == summary["test"] == expected
    records = [json.loads(line) for line in
               (tmp_path / "m" / "metrics.jsonl").read_text().splitlines()]
    best = max(r["dev"]["f1"] for r in records if "epoch" in r)
    assert records[summary["best_epoch"] - 1]["dev"]["f1"] == best == expected["f1"]


# 6. duplicate YAML keys


def test_duplicate_top_level_yaml_key_names_key_and_line(tmp_path):
    from ner_rnn.errors import ConfigError

    config = tmp_path / "c.yaml"
    config.write_text("train:\n  epochs: 2\ndata:\n  train: x.conll\ntrain:\n  lr: 0.1\n",
                      encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.yaml:5: duplicate key 'train' \(first given on "
                                          r"line 1\)"):
        load_config(config)


def test_duplicate_nested_yaml_key_and_in_set_are_refused(tmp_path):
    from ner_rnn.errors import ConfigError

    config = tmp_path / "c.yaml"
    config.write_text("train:\n  epochs: 2\n  epochs: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"c\.yaml:3: duplicate key 'epochs'"):
        load_config(config)
    with pytest.raises(ConfigError, match=r"duplicate key 'dim'"):
        load_config(None, ["model.embeddings.word={dim: 4, dim: 5}"])


def test_yaml_merge_keys_may_still_be_overridden():
    from ner_rnn.config import parse_yaml

    assert parse_yaml("a: &b {x: 1}\nc:\n  <<: *b\n  x: 2\n", "t") == {"a": {"x": 1},
                                                                      "c": {"x": 2}}


# 7. CoNLL columns split on ASCII spaces and tabs only


@pytest.mark.parametrize("space", ["\xa0", "\u3000", "\u2009", "\x1f", "\x85"])
def test_conll_columns_keep_unicode_spaces_inside_tokens(write, space):
    from ner_rnn.data.conll import read_conll

    path = write("u.conll", f"New{space}York B-LOC\nis\tO\n\nOslo  \t B-LOC\n")
    sentences = read_conll(path)
    assert [s.tokens for s in sentences] == [[f"New{space}York", "is"], ["Oslo"]]
    assert [s.tags for s in sentences] == [["B-LOC", "O"], ["B-LOC"]]


def test_predictions_file_columns_keep_unicode_spaces(write):
    from ner_rnn.metrics import score_predictions_file

    path = write("p.txt", "New\xa0York B-LOC B-LOC\nis O O\n")
    assert score_predictions_file(path)["overall"]["correct"] == 1
    bad = write("q.txt", "New York B-LOC B-LOC\nis O O\n")  # four columns, then three
    from ner_rnn.errors import DataFormatError

    with pytest.raises(DataFormatError, match=r"q\.txt:2: expected 4 columns"):
        score_predictions_file(bad)


def test_tagging_conll_input_keeps_a_token_with_a_no_break_space(model, tmp_path):
    import json

    from ner_rnn.data.tokenize import split_whitespace

    assert split_whitespace("New\xa0York  is\there") == [
        ("New\xa0York", 0, 8), ("is", 10, 12), ("here", 13, 17)]
    conll = tmp_path / "in.conll"
    conll.write_text("New\xa0York\nis\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["tag", "--model", str(model), "--input", str(conll), "--input-format",
                 "conll", "--output", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["tokens"] == ["New\xa0York", "is"]


# 8. the raw-text tokeniser keeps words of every script, and emoji sequences, whole


@pytest.mark.parametrize("word", [
    "हिन्दी",  # Devanagari: virama (Mn) and vowel signs (Mc)
    "العَرَبِيَّة",  # Arabic with harakat
    "שָׁלוֹם",  # Hebrew with niqqud
    "ภาษาไทย",  # Thai vowels above and below (Mn)
    "क्\u200dष",  # a ZWJ inside a word
    "می\u200cخواهم",  # Persian ZWNJ
    "e\u0301te\u0301",  # decomposed accents
    "👍🏽",  # emoji with a skin tone
    "👨\u200d👩\u200d👧",  # ZWJ family
    "🏳️\u200d🌈",  # variation selector inside a ZWJ sequence
    "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F",  # tag sequence
    "🇩🇪",  # a flag
    "1\ufe0f\u20e3",  # keycap (Me)
])
def test_tokeniser_keeps_word_or_emoji_sequence_whole_with_exact_offsets(word):
    from ner_rnn.data.tokenize import tokenize, tokenize_by_rules

    text = f"({word}, {word} x"
    expected = [("(", 0, 1), (word, 1, 1 + len(word)), (",", 1 + len(word), 2 + len(word)),
                (word, 3 + len(word), 3 + 2 * len(word)),
                ("x", 4 + 2 * len(word), 5 + 2 * len(word))]
    assert tokenize(text) == tokenize_by_rules(text) == expected
    assert all(text[start:end] == token for token, start, end in tokenize(text))


def test_tokeniser_still_splits_what_it_split():
    from ner_rnn.data.tokenize import tokenize

    assert [t for t, _, _ in tokenize("I don't like 🇩🇪🇫🇷 or 👍👎!")] == [
        "I", "do", "n't", "like", "🇩🇪", "🇫🇷", "or", "👍", "👎", "!"]


# 10. unreadable model directories and files (simulated: the tests run as root)


def _deny(monkeypatch, denied):
    """Make opening (or, for a directory, searching) `denied` fail as mode 000 would for
    a user who is not root."""
    import builtins
    import io

    real_open, real_stat = builtins.open, os.stat

    def fake_open(file, *args, **kwargs):
        if str(file) == str(denied):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    def fake_stat(path, *args, **kwargs):
        if os.path.dirname(os.fspath(path)) == str(denied):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "stat", fake_stat)


@pytest.mark.parametrize("name", ["meta.json", "config.yaml", "vocab.json", "weights.pt", ""])
@pytest.mark.parametrize("command", ["tag", "evaluate", "report"])
def test_unreadable_model_file_or_directory_is_one_error_line(model, corpus, tmp_path, name,
                                                              command, monkeypatch, capsys):
    denied = model / name if name else model
    args = {"tag": ["Maria flew"], "evaluate": ["--data", str(corpus)],
            "report": ["--data", str(corpus), "--output", str(tmp_path / "r.html")]}[command]
    _deny(monkeypatch, denied)
    assert main([command, "--model", str(model), *args]) == 2
    err = capsys.readouterr().err
    shown = denied / "meta.json" if not name else denied
    assert err == f"error: {shown}: cannot read (Permission denied)\n"
    assert not (tmp_path / "r.html").exists()


# 12. float keys beyond the float32 range the optimiser computes in


@pytest.mark.parametrize("override", ["train.lr=1e39", "train.lr=1e300", "train.lr=-1e39",
                                      "train.weight_decay=4e38", "train.lr_decay=1e300",
                                      "train.clip_grad_norm=1e39"])
def test_float_key_beyond_float32_is_refused_naming_the_key(override):
    from ner_rnn.errors import ConfigError

    key = override.partition("=")[0]
    with pytest.raises(ConfigError, match=rf"^{key}: expected a number within the float32 "
                                          r"range"):
        load_config(None, [override])


@pytest.mark.parametrize("optimizer,lr", [("sgd", "1e39"), ("adam", "1e300")])
def test_train_with_an_lr_beyond_float32_is_one_error_line(corpus, tmp_path, optimizer, lr):
    result = run_cli(*train_args(tmp_path, corpus, f"train.optimizer={optimizer}",
                                 f"train.lr={lr}"), "--output-dir", tmp_path / "m")
    assert result.returncode == 2
    assert one_error_line(result.stderr).startswith("error: train.lr: expected a number "
                                                    "within the float32 range")
    assert not (tmp_path / "m").exists()


def test_largest_float32_lr_is_accepted():
    assert load_config(None, ["train.lr=3.4e38"]).train.lr == 3.4e38


# 11. a resumed run whose training data gained labels the model was not built with


@pytest.mark.parametrize("added, label", [
    ("Bob B-MISC\n", "S-MISC"),  # a new entity type
    ("New B-LOC\nYork I-LOC\n", "B-LOC"),  # a known type, never before longer than a token
])
def test_resume_after_the_training_data_gained_a_label_is_one_error_line(tmp_path, added,
                                                                         label, capsys):
    data = tmp_path / "train.conll"
    data.write_text(CORPUS, encoding="utf-8")
    directory = tmp_path / "m"
    train(tiny_config(data), directory)
    with data.open("a", encoding="utf-8") as file:
        file.write("\n" + added)
    before = snapshot(directory)
    assert main(["train", "--resume", str(directory)]) == 2
    err = one_error_line(capsys.readouterr().err)
    assert err.startswith(f"error: {data}:21: this sentence needs the label '{label}'"), err
    assert "train a new model instead of resuming" in err
    assert snapshot(directory) == before


# 21. a BOM starting any line (files joined by `cat a b`) or an argument is not a token


def test_bom_in_the_middle_of_a_conll_file_is_dropped(write):
    from ner_rnn.data.conll import read_conll

    path = write("ab.conll", "\ufeffParis B-LOC\n\n\ufeffOslo B-LOC\nis O\n")
    assert [s.tokens for s in read_conll(path)] == [["Paris"], ["Oslo", "is"]]


def test_bom_in_the_middle_of_a_text_file_or_at_the_start_of_an_argument_is_dropped(model,
                                                                                   tmp_path):
    import json

    text, out = tmp_path / "ab.txt", tmp_path / "out.jsonl"
    text.write_text("\ufeffMaria flew\n\ufeffParis rose\n", encoding="utf-8")
    assert main(["tag", "--model", str(model), "--input", str(text), "--output", str(out)]) == 0
    assert [json.loads(line)["tokens"] for line in out.read_text().splitlines()] == [
        ["Maria", "flew"], ["Paris", "rose"]]
    assert main(["tag", "--model", str(model), "--output", str(out), "\ufeffParis rose",
                 "\ufeffOslo"]) == 0
    assert [json.loads(line)["tokens"] for line in out.read_text().splitlines()] == [
        ["Paris", "rose"], ["Oslo"]]


# 22. a command-line sentence holding a newline is several lines, a CR is refused, as in files


def test_argument_with_newlines_is_several_sentences_in_order(model, tmp_path):
    import json

    out = tmp_path / "out.jsonl"
    assert main(["tag", "--model", str(model), "--output", str(out), "Maria flew\nParis rose",
                 "Oslo\n", "Tokyo\r\n", "Rome"]) == 0
    assert [json.loads(line)["tokens"] for line in out.read_text().splitlines()] == [
        ["Maria", "flew"], ["Paris", "rose"], ["Oslo"], ["Tokyo"], ["Rome"]]


@pytest.mark.parametrize("conll", [False, True])
def test_argument_with_a_carriage_return_is_the_error_a_file_gets(model, tmp_path, conll,
                                                                  capsys):
    text = tmp_path / "cr.txt"
    text.write_bytes(b"Maria flew\nParis\rrose\n")
    fmt = ["--input-format", "conll"] if conll else []
    out = tmp_path / "out.jsonl"
    assert main(["tag", "--model", str(model), *fmt, "--input", str(text),
                 "--output", str(out)]) == 2
    from_file = capsys.readouterr().err
    assert main(["tag", "--model", str(model), *fmt, "--output", str(out), "Maria flew",
                 "Paris\rrose"]) == 2
    from_arguments = capsys.readouterr().err
    assert from_file == from_arguments.replace("<arguments>", str(text))
    assert from_arguments.startswith("error: <arguments>:2: carriage return inside a line")
    assert not out.exists()


# 13. file names that are not UTF-8 (kept by Python as lone surrogates)


@pytest.mark.parametrize("form", ["html", "json"])
def test_report_on_a_file_whose_name_is_not_utf8_shows_the_name_escaped(model, corpus,
                                                                        tmp_path, form):
    import json

    data = tmp_path / os.fsdecode(b"d\xffx.conll")
    data.write_bytes(corpus.read_bytes())
    out = tmp_path / f"r.{form}"
    assert main(["report", "--model", str(model), "--data", str(data), "--output", str(out),
                 "--format", form]) == 0
    text = out.read_text(encoding="utf-8")
    shown = json.loads(text)["data"] if form == "json" else text
    assert str(tmp_path / "d\\xffx.conll") in shown


def test_model_in_a_directory_whose_name_is_not_utf8_loads_and_resumes(corpus, tmp_path,
                                                                       capsys):
    directory = tmp_path / os.fsdecode(b"m\xffx")
    assert main([*train_args(tmp_path, corpus), "--output-dir", str(directory)]) == 0
    capsys.readouterr()
    assert main(["tag", "--model", str(directory), "Maria flew"]) == 0
    assert capsys.readouterr().out.startswith('{"tokens": ["Maria", "flew"]')
    assert main(["train", "--resume", str(directory)]) == 0  # reads last.pt


# 14. report refuses a training log with values out of their range


@pytest.mark.parametrize("field,value,message", [
    ("loss", 1e308, '"loss": expected a number from 0 to 3.40282e+38, got 1e+308'),
    ("lr", -0.5, '"lr": expected a number from 0 to 3.40282e+38, got -0.5'),
    ("f1", 5, '"f1": expected a number from 0 to 1, got 5'),
    ("token_accuracy", -1e-9, '"token_accuracy": expected a number from 0 to 1'),
])
def test_report_refuses_a_log_value_out_of_range_naming_file_and_line(model, corpus, tmp_path,
                                                                      field, value, message):
    import json
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(model, copy)
    log = copy / "metrics.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    if field in ("f1", "token_accuracy"):  # the model was trained without a dev set
        records[0]["dev"] = {"precision": 0.5, "recall": 0.5, "f1": 0.5, field: value}
    else:
        records[0][field] = value
    log.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "r.html"
    result = run_cli("report", "--model", copy, "--data", corpus, "--output", out)
    assert result.returncode == 2
    assert one_error_line(result.stderr).startswith(f"error: {log}:1: {message}")
    assert not out.exists()


# 15. a model's vocabularies checked for what tagging relies on, and against its config


def _edited_model(model, tmp_path, edit):
    import json
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(model, copy)
    vocab = json.loads((copy / "vocab.json").read_text(encoding="utf-8"))
    edit(vocab)
    (copy / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    return copy


@pytest.mark.parametrize("edit, message", [
    (lambda v: v["words"].remove("<unk>"), "words: expected '<pad>' and '<unk>' first"),
    (lambda v: v["chars"].remove("<unk>"), "chars: expected '<pad>' and '<unk>' first"),
    (lambda v: v["words"].insert(0, "Maria"), "words: expected '<pad>' and '<unk>' first"),
    (lambda v: v["words"].append("Paris"), "words: 'Paris' appears twice"),
    (lambda v: v.__setitem__("labels", ["O", *v["labels"]]), "labels: 'O' appears twice"),
    (lambda v: v.__setitem__("lowercase", "no"), "lowercase: expected true or false"),
    (lambda v: v.__setitem__("labels", ["B-LOC", "B-ORG", "B-PER", "I-PER", "O"]),
     "are not tags of the model's scheme (config.yaml: model.scheme: bioes)"),
])
def test_model_with_a_vocabulary_tagging_cannot_use_is_one_error_line(model, tmp_path, edit,
                                                                      message, capsys):
    copy = _edited_model(model, tmp_path, edit)
    assert main(["tag", "--model", str(copy), "Maria Zzyzx flew"]) == 2
    err = one_error_line(capsys.readouterr().err)
    assert err.startswith(f"error: {copy / 'vocab.json'}: ") and message in err, err


@pytest.mark.parametrize("scheme", ["iob2", "iob1"])
def test_model_whose_config_scheme_does_not_match_its_labels_is_refused(model, tmp_path,
                                                                        scheme, capsys):
    copy = _edited_model(model, tmp_path, lambda v: None)  # bioes labels: S-LOC, E-PER
    config = copy / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "  scheme: bioes", f"  scheme: {scheme}"), encoding="utf-8")
    assert main(["tag", "--model", str(copy), "Maria flew"]) == 2
    err = one_error_line(capsys.readouterr().err)
    assert f"model.scheme: {scheme})" in err and "S-LOC" in err, err


def test_labels_of_every_scheme_as_training_writes_them_fit_that_scheme():
    from ner_rnn.data.schemes import convert, foreign_labels

    gold = ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "O", "I-ORG", "I-ORG"]  # IOB1
    for scheme in ("iob1", "iob2", "bioes"):
        labels = sorted(set(convert(gold, "iob1", scheme)))
        assert foreign_labels(labels, scheme) == []


# 16. an unreadable weights file says what is wrong with it, not that it was refused


@pytest.mark.parametrize("damage, detail", [
    (lambda data: b"", "empty"),
    (lambda data: data[: len(data) // 2], "not the zip archive torch.save writes"),
    (lambda data: data[:-30], "not the zip archive torch.save writes"),
    (lambda data: b"weights\n", "not the zip archive torch.save writes"),
    (lambda data: data[:1000] + bytes(200) + data[1200:], "damaged: Bad CRC-32"),
    (lambda data: data[:4] + data[4:].replace(b"PK\x03\x04", b"PK\x03\x05"),
     "PytorchStreamReader failed"),  # every member but the first has lost its header
    (lambda data: b"PK\x03\x05" + data[4:], "not the zip archive torch.save writes"),
])
def test_truncated_or_foreign_weights_file_is_named_as_such(model, tmp_path, damage, detail,
                                                            capsys):
    import shutil

    copy = tmp_path / "m"
    shutil.copytree(model, copy)
    weights = copy / "weights.pt"
    weights.write_bytes(damage(weights.read_bytes()))
    assert main(["tag", "--model", str(copy), "Maria flew"]) == 2
    err = one_error_line(capsys.readouterr().err)
    assert err.startswith(f"error: {weights}: truncated or not a torch file ({detail}"), err
    assert "pickle" not in err


def test_a_foreign_pickle_is_still_refused_as_one(model, tmp_path, capsys):
    import datetime
    import shutil

    import torch

    copy = tmp_path / "m"
    shutil.copytree(model, copy)
    torch.save({"w": datetime.date(2020, 1, 1)}, copy / "weights.pt")
    assert main(["tag", "--model", str(copy), "Maria flew"]) == 2
    assert one_error_line(capsys.readouterr().err) == (
        f"error: {copy / 'weights.pt'}: refused to load, not a plain file of tensors (it would "
        "build datetime.date); never load model files from untrusted sources with pickle")
