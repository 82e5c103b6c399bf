"""examples/serve_onnx.py, the torch-free reference client of an ONNX export, tags as
`ner-rnn tag` does, in a Python where torch and ner_rnn cannot be imported."""

import json
import os
import runpy
import subprocess
import sys

import numpy as np
import pytest

from ner_rnn.cli import main
from ner_rnn.data.batching import context_windows
from ner_rnn.data.conll import read_conll
from tests.conftest import ROOT, SAMPLE
from tests.conftest import train_small as train

pytest.importorskip("onnxruntime")

CLIENT = ROOT / "examples" / "serve_onnx.py"
# Runs the script given first with the rest as its arguments, after making every import
# of torch and ner_rnn fail (a finder ahead of all others on sys.meta_path).
HIDING = '''
import runpy, sys
HIDDEN = ("torch", "ner_rnn")
assert not [name for name in sys.modules if name.split(".")[0] in HIDDEN]

class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden)", name=name)

sys.meta_path.insert(0, Hide())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''


def hidden_run(tmp_path, script, *args, stdin=""):
    """Runs `script` with torch and ner_rnn hidden, from tmp_path, without PYTHONPATH."""
    hiding = tmp_path / "hiding.py"
    hiding.write_text(HIDING)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    found = subprocess.run([sys.executable, str(hiding), str(script), *map(str, args)],
                           input=stdin.encode("utf-8"), capture_output=True, cwd=tmp_path,
                           env=env, timeout=300, check=False)
    return subprocess.CompletedProcess(found.args, found.returncode,
                                       found.stdout.decode("utf-8"), found.stderr.decode("utf-8"))


def test_torch_and_ner_rnn_cannot_be_imported_under_the_wrapper(tmp_path):
    for module in ("torch", "ner_rnn", "ner_rnn.export"):
        script = tmp_path / "imports.py"
        script.write_text(f"import {module}\n")
        found = hidden_run(tmp_path, script)
        assert found.returncode == 1
        hidden = module.split(".")[0]
        assert f"ModuleNotFoundError: No module named '{hidden}' (hidden)" in found.stderr
    script.write_text("import numpy, onnxruntime\n")
    assert hidden_run(tmp_path, script).returncode == 0


def test_the_client_tags_the_sample_test_set_as_ner_rnn_tag_does(tmp_path):
    # document context packs short neighbours into one row and leaves a long sentence alone
    model = train(tmp_path / "model", "model.head.type=crf", "model.document_context=12")
    onnx = tmp_path / "tagger.onnx"
    # in a process of its own: a second torch.onnx export in one process (test_export's
    # came first) fixes the time axis of an nn.LSTM (torch 2.13)
    subprocess.run([sys.executable, "-m", "ner_rnn", "export", "--model", str(model),
                    "--output", str(onnx)], check=True, capture_output=True, timeout=600)
    lines = [" ".join(s.tokens) for s in read_conll(SAMPLE / "test.conll")]
    lines[5:5] = [""]  # a blank line ends a document
    lines += ["", "Zürich 1999 ünknöwn XYZ abc1 Mx-9 ,", "\tspaced  \t out "]  # unseen tokens
    (tmp_path / "lines.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    scheme = json.loads((tmp_path / "tagger.onnx.vocab.json").read_text())["scheme"]
    assert main(["tag", "--model", str(model), "--input", str(tmp_path / "lines.txt"),
                 "--pretokenized", "--format", "conll", "--scheme", scheme,
                 "--output", str(tmp_path / "expected.conll")]) == 0
    found = hidden_run(tmp_path, CLIENT, onnx, stdin="\n".join(lines) + "\n")
    assert found.returncode == 0, found.stderr
    assert found.stdout == (tmp_path / "expected.conll").read_text(encoding="utf-8")


def test_the_client_packs_windows_as_ner_rnn_does():
    client = runpy.run_path(str(CLIENT))  # defines the client's functions, runs nothing
    sentences = [["a"] * n for n in (3, 4, 0, 2, 9, 1, 1)]  # 0: a blank line
    for context in (None, 0, 8):
        documents = np.cumsum([not s for s in sentences])  # a blank line starts a document
        real = [i for i, s in enumerate(sentences) if s]
        expected = [[real[i] for i in row] for row in context_windows(
            documents[real].tolist(), [len(sentences[i]) for i in real], context)]
        assert client["windows"](sentences, context or 0) == expected
