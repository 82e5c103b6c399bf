"""The command line end to end: train -> evaluate -> tag -> reload, and user errors."""

import json
import os
import re
import subprocess
import sys

import pytest

from ner_rnn.cli import main
from ner_rnn.model.constants import TAG_BATCH_SIZE
from ner_rnn.serve.tagger import Tagger
from tests.conftest import ROOT, SAMPLE, floats_apart

SENTENCES = ["The Apple is a great company !", "I like eating apple !", "",
             "Maria Lopez flew from Paris to Tokyo ."]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cli") / "model"
    code = main(["train", "--config", str(ROOT / "configs" / "default.yaml"),
                 "--output-dir", str(directory), "--set", "train.epochs=4",
                 "--set", f"data.train={SAMPLE / 'train.conll'}",
                 "--set", f"data.dev={SAMPLE / 'dev.conll'}", "--set", "data.test=null"])
    assert code == 0
    return directory


def test_model_directory_layout(model):
    names = sorted(p.name for p in model.iterdir())
    assert names == ["config.yaml", "last.pt", "meta.json", "metrics.jsonl", "vocab.json",
                     "weights.pt"]
    assert "scheme: iob2" in (model / "config.yaml").read_text()  # resolved, not auto


def test_evaluate_writes_conlleval_input_that_scores_the_same(model, tmp_path, capsys):
    output = tmp_path / "pred.txt"
    assert main(["evaluate", "--model", str(model), "--data", str(SAMPLE / "test.conll"),
                 "--output", str(output), "--format", "json"]) == 0
    direct = json.loads(capsys.readouterr().out)
    assert set(direct) >= {"overall", "per_type", "token_accuracy"}
    assert set(direct["overall"]) >= {"precision", "recall", "f1", "support"}
    assert all(0 <= v <= 1 for v in direct["overall"].values() if isinstance(v, float))
    gold_rows = (SAMPLE / "test.conll").read_text().splitlines()
    written = output.read_text().splitlines()
    assert [r.split()[:2] for r in written] == [r.split()[:2] for r in gold_rows]
    assert main(["evaluate", "--predictions", str(output), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == direct
    assert main(["evaluate", "--predictions", str(output)]) == 0
    assert capsys.readouterr().out.startswith("processed ")


def test_tag_formats(model, capsys, tmp_path):
    assert main(["tag", "--model", str(model), *SENTENCES]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert results == Tagger.load(model).tag(SENTENCES)
    assert results[2] == {"tokens": [], "tags": [], "entities": []}
    for result, text in zip(results, SENTENCES):
        for entity in result["entities"]:
            assert text[entity["char_start"]:entity["char_end"]] == entity["text"]
            assert entity["text"] == " ".join(result["tokens"][entity["start"]:entity["end"]])

    assert main(["tag", "--model", str(model), "--format", "conll", SENTENCES[0]]) == 0
    rows = capsys.readouterr().out.split("\n")
    assert rows[0].split("\t")[0] == "The" and rows[-2:] == ["", ""]

    assert main(["tag", "--model", str(model), "--format", "inline", "--pretokenized",
                 "Apple   shares"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.replace("[", "").replace("]", "").split()[0] == "Apple"

    input_file = tmp_path / "in.txt"
    input_file.write_text("\n".join(SENTENCES) + "\n", encoding="utf-8")
    out_file = tmp_path / "out.jsonl"
    assert main(["tag", "--model", str(model), "--input", str(input_file),
                 "--output", str(out_file)]) == 0
    assert [json.loads(x) for x in out_file.read_text().splitlines()] == results


def test_tag_conll_input_and_stdin(model, capsys, monkeypatch):
    import io

    assert main(["tag", "--model", str(model), "--input", str(SAMPLE / "test.conll"),
                 "--input-format", "conll", "--format", "conll"]) == 0
    tokens = [row.split("\t")[0] for row in capsys.readouterr().out.splitlines()]
    assert tokens == [row.split(" ")[0] for row in (SAMPLE / "test.conll").read_text().split("\n")
                      ][:-1]
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"Apple rose .\n\n")))
    assert main(["tag", "--model", str(model), "-"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


@pytest.mark.parametrize("args, message", [
    (["train", "--config", "configs/default.yaml", "--set", "model.encoder.hiden_size=3"],
     "error: --set model.encoder.hiden_size: unknown key; did you mean hidden_size?"),
    (["train", "--config", "missing.yaml"], "error: missing.yaml: no such file"),
    (["evaluate", "--model", "no/such/dir", "--data", "data/sample/test.conll"],
     "error: no/such/dir: no such model directory"),
    (["evaluate", "--predictions", "data/sample/test.conll"],
     "error: data/sample/test.conll:1: expected 3 columns"),
])
def test_user_errors_are_one_line_without_traceback(args, message):
    done = subprocess.run([sys.executable, "-m", "ner_rnn", *args], check=False, cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert done.stderr.strip() == message or done.stderr.startswith(message)
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_malformed_training_line(write, tmp_path, capsys):
    bad = write("bad.conll", "Paris B-LOC\nRome B_LOC\n")
    code = main(["train", "--config", str(ROOT / "configs" / "default.yaml"),
                 "--output-dir", str(tmp_path / "m"), "--set", f"data.train={bad}"])
    err = capsys.readouterr().err
    assert code == 2 and f"error: {bad}:2: expected a tag" in err
    assert not (tmp_path / "m").exists()


def test_non_ascii_offsets_slice_back_to_entities(model):
    texts = ["Zoë Ångström visited Zürich and 東京 😀 with Jose\u0301 Mu\u0308ller .",
             "Ça va ? Bjørk sang in Reykjavík ."]
    for text, result in zip(texts, Tagger.load(model).tag(texts)):
        assert len(result["tokens"]) == len(result["tags"])
        for entity in result["entities"]:
            assert text[entity["char_start"]:entity["char_end"]] == entity["text"]
    assert "Jose\u0301" in Tagger.load(model).tag(texts)[0]["tokens"]  # accent kept on word


def test_a_3000_token_sentence_is_tagged_whole(model, tmp_path, capsys):
    line = " ".join(["Maria Lopez flew to Paris ."] * 500)  # 3,000 tokens
    (tmp_path / "long.txt").write_text(line + "\n", encoding="utf-8")
    assert main(["tag", "--model", str(model), "--input", str(tmp_path / "long.txt")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["tokens"]) == len(result["tags"]) == 3000


def test_tab_separated_crlf_bom_corpus_evaluates(model, write, capsys):
    text = "\ufeffParis\tB-LOC\r\nis\tO\r\n\r\nMaria\tB-PER\r\nLopez\tI-PER\r\n"
    assert main(["evaluate", "--model", str(model), "--data", str(write("t.conll", text))]) == 0
    assert capsys.readouterr().out.startswith("processed 4 tokens with 2 phrases")


def test_nbest_and_confidence(model, capsys):
    assert main(["tag", "--model", str(model), "--nbest", "3", "--confidence",
                 "Maria Lopez flew from Paris to Tokyo ."]) == 0
    result = json.loads(capsys.readouterr().out)
    best, *others = result["nbest"]
    assert best["tags"] == result["tags"] and len(others) == 2
    probabilities = [path["probability"] for path in result["nbest"]]
    assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0001
    assert result["entities"] and all(0 < e["confidence"] <= 1 for e in result["entities"])
    assert main(["tag", "--model", str(model), "--nbest", "0", "x"]) == 2
    assert "error: --nbest: expected a number >= 1, got 0" in capsys.readouterr().err
    assert main(["tag", "--model", str(model), "--nbest", "1000000000", "x"]) == 2
    assert capsys.readouterr().err == ("error: --nbest: expected at most 100 alternatives, "
                                       "got 1000000000\n")
    with pytest.raises(ValueError, match="nbest must be from 1 to 100, got 101"):
        Tagger.load(model).tag(["x"], nbest=101)


def test_tagger_batch_size_is_checked_and_changes_no_result(model):
    default = Tagger.load(model)
    assert default.batch_size == TAG_BATCH_SIZE
    one = Tagger.load(model, batch_size=1)
    assert one.batch_size == 1
    found, probabilities = floats_apart(one.tag(SENTENCES, nbest=3, confidence=True))
    expected, expected_probabilities = floats_apart(default.tag(SENTENCES, nbest=3,
                                                                confidence=True))
    assert found == expected  # probabilities by float32 rounding at most:
    assert probabilities == pytest.approx(expected_probabilities, rel=1e-5)  # one row is
    # computed otherwise than a batch of several
    tokens = [text.split() for text in SENTENCES]
    assert one.predict(tokens) == default.predict(tokens)
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        Tagger.load(model, batch_size=0)
    with pytest.raises(TypeError, match="batch_size must be an int, got bool"):
        Tagger.load(model, batch_size=True)
    with pytest.raises(TypeError, match="batch_size must be an int, got float"):
        default.batch_size = 8.0
    assert default.batch_size == TAG_BATCH_SIZE  # unchanged by the refused value


def test_benchmark_json_keys(capsys):
    assert main(["benchmark", "--config", str(ROOT / "configs" / "default.yaml"),
                 "--train", str(SAMPLE / "dev.conll"), "--tag", str(SAMPLE / "dev.conll"),
                 "--set", "model.embeddings.char.type=cnn", "--stream-lines", "30",
                 "--workers", "0", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [(run["lines"], run["workers"]) for run in result["tag"]["whole_command"]] == [
        (30, 0), (30, 1)]
    assert all(run["sentences_per_s"] > 0 and run["peak_rss_mb"] > 0
               for run in result["tag"]["whole_command"])
    assert {"train", "tag", "peak_rss_mb", "device", "threads"} <= set(result)
    assert {"sentences_per_s", "tokens_per_s", "bound_tokens_per_s"} <= set(result["train"])
    assert {"sentences_per_s", "tokens_per_s", "model_tokens_per_s",
            "bound_tokens_per_s"} <= set(result["tag"])
    assert all(v > 0 for v in result["train"].values())
    assert result["train"]["ops_per_step"] > 0 and "top_ops" not in result["train"]


def test_benchmark_profile_lists_top_ops(capsys):
    assert main(["benchmark", "--config", str(ROOT / "configs" / "default.yaml"),
                 "--train", str(SAMPLE / "dev.conll"), "--profile"]) == 0
    table = capsys.readouterr().out
    assert "ops/step" in table and "top ops of a training step by self time" in table
    assert "aten::" in table


def test_help_does_not_import_torch():
    code = ("import sys\nfrom ner_rnn.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\nprint('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_an_error_is_one_write_of_the_whole_line(monkeypatch, tmp_path):
    """Processes sharing stderr (torchrun ranks) must not merge their lines into one."""
    read_end, write_end = os.pipe()
    writes = []
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: writes.append((fd, data))
                        or real_write(fd, data))
    with open(write_end, "w", closefd=False) as stderr:
        monkeypatch.setattr(sys, "stderr", stderr)
        assert main(["tag", "--model", str(tmp_path / "absent"), "x"]) == 2
    os.close(write_end)
    assert len(writes) == 1 and writes[0][0] == write_end
    assert writes[0][1].startswith(b"error: ") and writes[0][1].count(b"\n") == 1
    assert os.read(read_end, 4096) == writes[0][1]



def test_version_bare_command_and_tag_without_input(capsys, tmp_path):
    import ner_rnn

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"ner-rnn {ner_rnn.__version__}\n"
    version = re.search(r'^version = "(.*)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert version.group(1) == ner_rnn.__version__  # the package metadata says the same
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("usage: ner-rnn [-h] [--version] COMMAND ...")
    assert main(["tag", "--model", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ("error: tag needs text to tag: sentences as arguments, "
                                       "`-` to read stdin, or --input FILE\n")
    assert main(["tag", "--model", str(tmp_path), "--input", "f", "x"]) == 2
    assert capsys.readouterr().err.endswith("or --input FILE, not both\n")


@pytest.mark.parametrize("args, message", [
    (["--format", "inline", "--confidence"], ("--confidence: applies to --format json or html "
                                              "only, not inline")),
    (["--format", "conll", "--nbest", "2"], "--nbest: applies to --format json only, not conll"),
    (["--format", "html", "--nbest", "1"], "--nbest: applies to --format json only, not html"),
    (["--format", "jsonl", "--confidence"], ("--confidence: applies to --format json or html "
                                             "only, not jsonl")),
    (["--offsets", "utf16"], "--offsets utf16: applies to --format jsonl only, not json"),
])
def test_options_a_format_does_not_write_are_errors(args, message, tmp_path, capsys):
    assert main(["tag", "--model", str(tmp_path), *args, "x"]) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


def test_every_option_help_states_its_default():
    from ner_rnn.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    missing = [f"{name} {action.option_strings[0]}" for name, command in commands.items()
               for action in command._actions
               if action.option_strings and not action.required and action.nargs != 0
               and action.default not in (None, []) and "default" not in action.help]
    assert not missing
    tag = {action.dest: action.help for action in commands["tag"]._actions}
    assert "(default: json)" in tag["format"] and "(default: cpu)" in tag["device"]
    assert all(kind in tag["format"] for kind in ("json:", "jsonl:", "conll:", "inline:",
                                                    "html:"))


def test_inline_and_html_show_the_line_as_written(model, capsys):
    text = "Maria  Lopez paid $1,000.5 (cash) in Paris."
    [result] = Tagger.load(model).tag([text])
    assert result["tokens"][3:5] == ["$", "1,000.5"] and result["entities"]
    assert main(["tag", "--model", str(model), "--format", "inline", text]) == 0
    line = capsys.readouterr().out.rstrip("\n")
    assert re.sub(r"\[(.*?) [A-Z]+\]", r"\1", line) == text  # only the brackets added
    marked = [m.group(1) for m in re.finditer(r"\[(.*?) [A-Z]+\]", line)]
    assert marked == [e["text"] for e in result["entities"]]
    assert main(["tag", "--model", str(model), "--format", "html", text]) == 0
    page = capsys.readouterr().out
    item = page[page.index("<li>") + 4:page.index("</li>")]
    assert re.sub(r'<span class="type">.*?</span>|<mark[^>]*>|</mark>', "", item) == text
    # pre-tokenised input: the tokens joined by single spaces
    assert main(["tag", "--model", str(model), "--format", "inline", "--pretokenized",
                 "Maria   Lopez  flew"]) == 0
    assert capsys.readouterr().out.replace("[", "").replace("]", "").split()[:2] == [
        "Maria", "Lopez"]


def test_inline_text_of_a_multi_line_json_text_stays_one_line(model, capsys):
    record = json.dumps({"text": "Maria Lopez\r\nflew to Paris"})
    assert main(["tag", "--model", str(model), "--input-format", "jsonl", "--format",
                 "inline", record]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "\r" not in out


@pytest.mark.parametrize("raised", [
    MemoryError(), RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: "
                                "can't allocate memory: you tried to allocate 4 GB"),
    "torch.OutOfMemoryError"])
def test_running_out_of_memory_is_one_error_line(raised, monkeypatch, capsys):
    import torch

    from ner_rnn import cli

    if raised == "torch.OutOfMemoryError":
        raised = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    def run_out(args):
        raise raised

    monkeypatch.setattr(cli, "run_tag", run_out)
    assert main(["tag", "--model", "m", "x"]) == 2
    assert capsys.readouterr().err.startswith("error: out of memory; lower train.batch_size")


def test_another_runtime_error_is_not_taken_for_out_of_memory(monkeypatch):
    from ner_rnn import cli

    def fail(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "run_tag", fail)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["tag", "--model", "m", "x"])
