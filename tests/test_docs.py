"""The README and the shipped configs stay in step with the code."""

import dataclasses
import re
import typing

import pytest

from ner_rnn.config import Config, load_config
from tests.conftest import ROOT


def dotted_keys(cls=Config, prefix=""):
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[field.name]):
            yield from dotted_keys(hints[field.name], prefix + field.name + ".")
        else:
            yield prefix + field.name


def test_readme_config_reference_lists_every_key():
    readme = (ROOT / "README.md").read_text()
    missing = [key for key in dotted_keys() if f"| `{key}` |" not in readme]
    assert not missing


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    load_config(path)


def test_readme_layout_names_every_module():
    """report/ is named as a folder; every other module by its file name."""
    readme = (ROOT / "README.md").read_text()
    layout = readme[readme.index("## Layout of the package"):readme.index("## Performance")]
    named = set(re.findall(r"[\w]+\.py", layout))
    modules = {path.name for path in (ROOT / "ner_rnn").rglob("*.py")
               if path.parent.name != "report" and path.name != "__init__.py"}
    assert modules - named == set()


def test_ci_runs_the_readme_test_command():
    """.ci/run runs the README's test command, with each environment's python."""
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"Set up and run the tests:\n\n```sh\n(.*)\n```", readme).group(1)
    ci_run = (ROOT / ".ci" / "run").read_text()
    run_by_venv = command.replace("python -m", '"$venv/bin/python" -m')
    assert run_by_venv.replace("pip install", "pip install -q") in ci_run
