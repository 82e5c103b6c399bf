"""Reading a model directory's metrics.jsonl into curves and the run's final scores.

`train` writes one JSON object per epoch (`epoch`, `loss`, `lr`, `dev`: {`f1`, ...}
when there is a dev set, and more), then `{"final": true, "best_epoch", "dev", "test"}`.
A missing file, or one with no epoch yet, gives empty curves (the page says so); a line
that is not such an object, or a value out of its range (an F1 of 5, a loss of 1e308:
beyond what float32 training computes), is an error naming the file and line. Values
that are not finite (a NaN loss) become gaps (None) in the curves.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ner_rnn.config import FLOAT32_MAX
from ner_rnn.errors import ModelError

SCORES = ("precision", "recall", "f1", "token_accuracy")
MAX_EPOCH = 1_000_000  # far beyond any run; keeps a corrupt log from breaking the chart's scale


def read_training_log(path: str | Path) -> dict:
    """Curves and summary of one training run.

    Returns `{"epochs": [...], "loss": [...], "dev_f1": [...], "lr": [...],
    "best_epoch": int | None, "dev": dict | None, "test": dict | None}`: one curve value
    per epoch record (None where missing or not finite); `best_epoch`, `dev` and `test`
    from the final summary, or, for a run without one (interrupted), the epoch training
    kept (the first highest dev F1, else the last) and no final scores.
    """
    path = Path(path)
    log: dict = {"epochs": [], "loss": [], "dev_f1": [], "lr": [], "best_epoch": None,
                 "dev": None, "test": None}
    if not path.is_file():
        return log
    final, final_line = None, 0
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ModelError(f"{path}: cannot read the training log ({error})") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        record = _parse(path, number, line)
        if record.get("final") is True:
            final, final_line = record, number
            continue
        epoch = record.get("epoch")
        if not isinstance(epoch, int) or isinstance(epoch, bool) or not 1 <= epoch <= MAX_EPOCH:
            raise ModelError(f'{path}:{number}: expected "epoch": a whole number from 1 to '
                             f'{MAX_EPOCH}, or "final": true, got {_short(line)}')
        if log["epochs"] and epoch <= log["epochs"][-1]:
            raise ModelError(f"{path}:{number}: epoch {epoch} after epoch {log['epochs'][-1]}; "
                             "expected increasing epochs")
        dev = _scores(path, number, record, "dev")
        log["epochs"].append(epoch)
        log["loss"].append(_number(path, number, record, "loss", FLOAT32_MAX))
        log["lr"].append(_number(path, number, record, "lr", FLOAT32_MAX))
        log["dev_f1"].append(dev.get("f1") if dev is not None else None)
    if final is not None:
        best = final.get("best_epoch")
        log["best_epoch"] = best if isinstance(best, int) and not isinstance(best, bool) else None
        log["dev"] = _scores(path, final_line, final, "dev")
        log["test"] = _scores(path, final_line, final, "test")
    elif log["epochs"]:
        log["best_epoch"] = _kept_epoch(log["epochs"], log["dev_f1"])
    return log


def _parse(path: Path, number: int, line: str) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict):
        raise ModelError(f"{path}:{number}: expected a JSON object (an epoch record or the "
                         f"final summary), got {_short(line)}")
    return record


def _number(path: Path, number: int, record: dict, key: str, maximum: float) -> float | None:
    """The finite number at `key`, None when absent or not finite; other values, and
    numbers outside [0, maximum], are errors."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelError(f'{path}:{number}: "{key}": expected a number, got {_short(json.dumps(value))}')
    if not math.isfinite(value):
        return None
    if not 0 <= value <= maximum:
        raise ModelError(f'{path}:{number}: "{key}": expected a number from 0 to {maximum:g}, '
                         f"got {value:g}")
    return float(value)


def _scores(path: Path, number: int, record: dict, key: str) -> dict | None:
    """The scores at `key` (`precision`, `recall`, `f1`, `token_accuracy`, those present)."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ModelError(f'{path}:{number}: "{key}": expected an object of scores, '
                         f"got {_short(json.dumps(value))}")
    return {name: _number(path, number, value, name, 1.0) for name in SCORES if name in value}


def _kept_epoch(epochs: list[int], dev_f1: list[float | None]) -> int:
    """The epoch training kept: the first with the highest dev F1, the last without dev."""
    scored = [(f1, -index) for index, f1 in enumerate(dev_f1) if f1 is not None]
    return epochs[-max(scored)[1]] if scored else epochs[-1]


def _short(text: str, limit: int = 60) -> str:
    text = text.strip()
    return repr(text if len(text) <= limit else text[:limit] + "...")
