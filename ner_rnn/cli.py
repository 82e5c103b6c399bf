"""The `ner-rnn` command line: parses arguments and delegates; errors become one line."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import stat
import sys
from collections.abc import Iterator
from typing import BinaryIO, NoReturn

from tqdm import tqdm

from ner_rnn import __version__, signals
from ner_rnn.config import CORPUS_FORMATS, OFFSET_UNITS, SCHEMES, DataConfig, load_config
from ner_rnn.data.conll import format_conll
from ner_rnn.data.conversion import TARGETS
from ner_rnn.data.recasing import TRANSFORMS, recase
from ner_rnn.data.text import open_binary
from ner_rnn.errors import DataFormatError, Interrupted, NerError
from ner_rnn.files import atomic_write_text
from ner_rnn.metrics import format_report, score_predictions_file
from ner_rnn.model.constants import MAX_NBEST, TAG_BATCH_SIZE
from ner_rnn.serve.formats import FORMAT_OPTIONS, FORMATS
from ner_rnn.serve.inputs import Line, argument_lines, jsonl_lines, read_lines

DESCRIPTION = """\
Named-entity tagging with recurrent networks (RNN, GRU, LSTM): train a tagger on a
labelled corpus (CoNLL columns, JSON lines or a Label Studio export) from a YAML config,
score it as conlleval.pl does, and tag new text.

  ner-rnn train --config configs/default.yaml
  ner-rnn evaluate --model models/default --data data/sample/test.conll
  ner-rnn tag --model models/default "Maria Lopez flew to Paris ."

`ner-rnn COMMAND --help` describes each command's options."""

IMPLEMENTATION = ("run the encoder with torch's kernels or the lecture's cells, ner_rnn.cells "
                  "(default: the model's model.encoder.implementation)")
MAX_WORKERS = 1024  # like `threads`; each worker is a process, so a bound keeps this sane


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one `error: ...` line like every other."""

    def error(self, message: str) -> NoReturn:
        raise NerError(message)


def _path(value: str) -> str:
    """A path argument: an empty one (an unset shell variable) is an error, not a default."""
    if not value:
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ner-rnn", description=DESCRIPTION,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"ner-rnn {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a tagger from a YAML config")
    train.add_argument("--config", type=_path, help="YAML config file")
    train.add_argument("--resume", type=_path, metavar="DIR",
                       help="continue an interrupted run from its model directory")
    train.add_argument("--output-dir", type=_path,
                       help="model directory to write (default: output_dir)")
    train.add_argument("--overwrite", action="store_true",
                       help="replace a model already in the output directory")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key, e.g. --set train.epochs=3 (repeatable; "
                            "default: none)")

    evaluate = commands.add_parser("evaluate", help="score a model or a predictions file")
    source = evaluate.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", type=_path, help="model directory")
    source.add_argument("--predictions", type=_path,
                        help="file whose last two columns are gold, predicted")
    evaluate.add_argument("--data", type=_path,
                          help="tagged corpus to score the model on (CoNLL, JSON lines or a "
                               "Label Studio export)")
    evaluate.add_argument("--offsets", choices=OFFSET_UNITS,
                          help="what JSON offsets in --data count (default: the model's "
                               "data.offsets)")
    evaluate.add_argument("--output", type=_path,
                          help="also write `token gold predicted` lines here (default: none)")
    evaluate.add_argument("--transform", choices=tuple(TRANSFORMS),
                          help="re-case every token of --data first (tags unchanged), to see "
                               "how the model holds on badly cased text (default: none)")
    evaluate.add_argument("--format", choices=("text", "json"), default="text",
                          help="text: conlleval.pl's report; json: the same figures as JSON "
                               "(default: text)")
    evaluate.add_argument("--implementation", choices=("torch", "native"), help=IMPLEMENTATION)

    tag = commands.add_parser("tag", help="tag sentences with a trained model")
    tag.add_argument("--model", type=_path, required=True,
                     help="model directory, or a FILE.onnx `export` wrote (run by "
                          "onnxruntime; not with --nbest, --confidence, --implementation, "
                          "--device cuda)")
    tag.add_argument("sentences", nargs="*", metavar="SENTENCE",
                     help="sentences to tag; `-` reads lines from stdin")
    tag.add_argument("--input", type=_path,
                     help="file with one sentence a line (or CoNLL or JSON lines: "
                          "--input-format)")
    tag.add_argument("--input-format", choices=("text", "conll", "jsonl"), default="text",
                     help="text: one sentence a line; conll: tag the tokens of a CoNLL file "
                          "(its first column); jsonl: the \"text\" of each JSON line "
                          "(default: text)")
    tag.add_argument("--output", type=_path,
                     help="write results here (default: standard output)")
    tag.add_argument("--format", choices=FORMATS, default="json",
                     help="how results are written; which formats take --nbest, "
                          "--confidence and --offsets utf16: " + _format_options()
                          + " (default: json)")
    tag.add_argument("--offsets", choices=OFFSET_UNITS, default="codepoints",
                     help="jsonl: count entity offsets in code points or in UTF-16 units "
                          "(JavaScript tools) (default: codepoints)")
    tag.add_argument("--pretokenized", action="store_true",
                     help="split input lines on whitespace only")
    tag.add_argument("--split-sentences", action="store_true",
                     help="cut each line of raw text into sentences (after . ! ? before a "
                          "capital, a digit or an opening quote; not after Mr., U.S., "
                          "J. and the like) and tag each on its own: one result per "
                          "sentence, its offsets still into the line (default: off, one "
                          "sentence a line)")
    tag.add_argument("--scheme", choices=SCHEMES,
                     help="tag scheme of the output (default: the training data's)")
    tag.add_argument("--nbest", type=int, metavar="K",
                     help="also give the K best tag sequences (K <= 100) with their "
                          "probabilities (json; default: 1, the best one only)")
    tag.add_argument("--confidence", action="store_true",
                     help="give each entity's probability (json, html)")
    tag.add_argument("--chunk-size", type=int, default=8192, metavar="LINES",
                     help="lines read, tagged and written at a time (memory stays flat; "
                          "default: 8192)")
    tag.add_argument("--batch-size", type=int, default=TAG_BATCH_SIZE, metavar="N",
                     help="sentences (with document context: windows) run through the "
                          "model at a time: speed and memory; results change by float "
                          f"rounding at most (default: {TAG_BATCH_SIZE})")
    tag.add_argument("--workers", type=int, metavar="N",
                     help="processes that tokenise and format beside the model "
                          "(default: from the cores available; 0: all in one process)")
    tag.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"),
                     help="where the model runs; auto: cuda when available (default: cpu)")
    tag.add_argument("--implementation", choices=("torch", "native"), help=IMPLEMENTATION)
    report = commands.add_parser("report", help="an HTML page of a model's training and errors")
    report.add_argument("--model", type=_path, required=True, help="model directory")
    report.add_argument("--data", type=_path, required=True,
                        help="tagged corpus to analyse (CoNLL, JSON lines or Label Studio)")
    report.add_argument("--offsets", choices=OFFSET_UNITS,
                        help="what JSON offsets in --data count (default: the model's "
                             "data.offsets)")
    report.add_argument("--output", type=_path, metavar="FILE",
                        help="write the page (or the JSON) here; html default: report.html")
    report.add_argument("--examples", type=int, default=50, metavar="N",
                        help="show up to N sentences with errors (default 50)")
    report.add_argument("--format", choices=("html", "json"), default="html",
                        help="json: print the report's numbers instead of writing a page "
                             "(default: html)")
    convert = commands.add_parser("convert", help="rewrite a tagged corpus as CoNLL or JSON "
                                                  "lines")
    convert.add_argument("--input", type=_path, required=True, help="tagged corpus to read")
    convert.add_argument("--output", type=_path, required=True, help="file to write")
    convert.add_argument("--to", choices=TARGETS, required=True, help="format to write")
    convert.add_argument("--input-format", choices=CORPUS_FORMATS, default="auto",
                         help="format of --input (default: from its name, else its first "
                              "byte)")
    convert.add_argument("--offsets", choices=OFFSET_UNITS, default="codepoints",
                         help="what JSON offsets count, read or written: code points "
                              "(Python) or UTF-16 units (JavaScript tools) (default: "
                              "codepoints)")
    convert.add_argument("--misaligned", choices=("error", "expand", "skip"), default="error",
                         help="an entity not on token boundaries: stop, widen or drop it "
                              "(default: error)")
    convert.add_argument("--overlapping", choices=("error", "skip"), default="error",
                         help="overlapping entities: stop, or keep the first (default: error)")
    convert.add_argument("--scheme", choices=SCHEMES, default="iob2",
                         help="tag scheme of CoNLL output (default iob2)")
    ensemble = commands.add_parser("ensemble", help="join models trained with different seeds "
                                                    "into one that averages their scores")
    ensemble.add_argument("models", nargs="+", type=_path, metavar="MODEL",
                          help="model directories of one config (two or more)")
    ensemble.add_argument("--output", type=_path, required=True,
                          help="model directory to write")
    ensemble.add_argument("--overwrite", action="store_true",
                          help="replace a model already in the output directory")
    export = commands.add_parser("export", help="write a model as one ONNX file (or a "
                                                "torch.export program) that decodes in its graph")
    export.add_argument("--model", type=_path, required=True, metavar="DIR",
                        help="model directory written by train")
    export.add_argument("--output", type=_path, required=True, metavar="FILE",
                        help="file to write; its vocabularies go to FILE.vocab.json")
    export.add_argument("--format", choices=("onnx", "torch"), default="onnx",
                        help="onnx (an ONNX graph) or torch (a torch.export .pt2 program) "
                             "(default: onnx)")
    export.add_argument("--overwrite", action="store_true",
                        help="replace FILE and FILE.vocab.json if they exist (default: refuse)")
    bench = commands.add_parser("benchmark", help="measure training and tagging throughput")
    bench.add_argument("--config", type=_path, required=True, help="YAML config file")
    bench.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key (repeatable; default: none)")
    bench.add_argument("--train", type=_path, required=True,
                       help="CoNLL corpus for training throughput")
    bench.add_argument("--tag", type=_path,
                       help="CoNLL corpus whose sentences are tagged as raw lines (default: "
                           "no tagging figures)")
    bench.add_argument("--scale", type=int, default=1,
                       help="repeat the training corpus this many times (default: 1)")
    bench.add_argument("--stream-lines", type=int, nargs="*", default=[], metavar="N",
                       help="also time the whole tag command on generated inputs of N lines "
                            "(default: none)")
    bench.add_argument("--workers", type=int, nargs="+", metavar="N",
                       help="worker processes of the timed tag command; several: one run "
                            "each (default: tag's default)")
    bench.add_argument("--profile", action="store_true",
                       help="also list the training step's top ops by self time")
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


class _LogFormat(logging.Formatter):
    """Progress as plain lines; warnings and errors prefixed with their level."""

    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def main(argv: list[str] | None = None) -> int:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LogFormat("%(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    argv = sys.argv[1:] if argv is None else argv
    try:
        parser = build_parser()
        if not argv:  # a bare `ner-rnn`: what it can do, not a complaint
            parser.print_usage(sys.stderr)
            print("run `ner-rnn --help` for the commands", file=sys.stderr)
            return 2
        args = parser.parse_args(argv)
        commands = {"train": run_train, "evaluate": run_evaluate, "tag": run_tag,
                    "report": run_report, "convert": run_convert, "benchmark": run_benchmark,
                    "ensemble": run_ensemble, "export": run_export}
        with signals.installed():
            return commands[args.command](args)
    except Interrupted as error:  # training stopped: the message says how to resume
        _error(_one_line(error))
        stopped_by = error.__context__  # what training caught: Ctrl-C or a Terminated
        return 128 + stopped_by.args[0] if isinstance(stopped_by, signals.Terminated) else 130
    except NerError as error:
        _error(_one_line(error))
        return 2
    except signals.Terminated as error:
        _error("terminated")
        return 128 + error.args[0]
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except BrokenPipeError:  # e.g. `ner-rnn tag ... | head`
        sys.stderr.close()
        return 0
    except (MemoryError, RuntimeError) as error:
        if gone := _peer_gone(error):
            _error(f"another torchrun rank stopped, so this one stops too (gloo: {gone}); "
                   "that rank's error line says why")
            return 2
        if not _out_of_memory(error):
            raise
        _error("out of memory; lower train.batch_size or train.eval_batch_size (for tag: "
               "--batch-size), or the model's sizes")
        return 2


def _error(message: str) -> None:
    """Write `error: MESSAGE` as one whole line in one write, so that the lines of
    torchrun ranks sharing a stderr never run into each other."""
    line = f"error: {message}\n"
    try:
        descriptor = sys.stderr.fileno()
    except (OSError, ValueError):  # a stream without a descriptor (captured, closed)
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(line)
        return
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
        os.write(descriptor, line.encode(sys.stderr.encoding or "utf-8", "backslashreplace"))


def _one_line(error: NerError) -> str:
    """The message on one line, whatever a library's wording put in it."""
    return " ".join(line.strip() for line in str(error).splitlines())


def _peer_gone(error: BaseException) -> str | None:
    """Under torchrun, gloo's words for a collective whose peer has gone (another rank
    ended, by its own error or a signal, while this one waited on it), with the peer's
    address: kept in the message, as they are the only clue when the network failed.
    Matched on wording because torch (2.13) raises this as a plain RuntimeError, not as
    torch.distributed.DistBackendError."""
    found = re.search(r"Connection (closed|reset) by peer( \[[^\]\n]*\]:\d+)?", str(error))
    return found.group() if found and os.environ.get("WORLD_SIZE", "1") != "1" else None


def _out_of_memory(error: BaseException) -> bool:
    """MemoryError, torch.OutOfMemoryError (a GPU allocation), or the CPU allocator's
    failure, which torch (2.13) raises as a plain RuntimeError known only by its words."""
    torch = sys.modules.get("torch")  # imported by whatever allocated; never imported here
    gpu = torch is not None and isinstance(error, torch.OutOfMemoryError)
    return isinstance(error, MemoryError) or gpu or "can't allocate memory" in str(error)


def _at_least_one(flag: str, values: int | list[int]) -> None:
    for value in values if isinstance(values, list) else [values]:
        if value < 1:
            raise NerError(f"{flag}: expected a number >= 1, got {value}")


def run_train(args: argparse.Namespace) -> int:
    from ner_rnn.train.loop import resume, train  # torch-heavy imports only when needed

    if args.resume:
        if args.config or args.set or args.output_dir or args.overwrite:
            raise NerError("--resume continues with the saved config and directory; "
                           "drop --config, --set, --output-dir and --overwrite")
        summary = resume(args.resume)
    elif args.config:
        summary = train(load_config(args.config, args.set), args.output_dir, args.overwrite)
    else:
        raise NerError("train needs --config FILE (or --resume DIR)")
    if summary:  # under torchrun, rank 0 reports
        _print(json.dumps(summary))
    return 0


def run_benchmark(args: argparse.Namespace) -> int:
    from ner_rnn.benchmark import format_table, run

    _at_least_one("--scale", args.scale)
    _at_least_one("--stream-lines", args.stream_lines)
    if args.stream_lines and not args.tag:
        raise NerError("--stream-lines needs --tag FILE (its sentences make the input)")
    if any(not 0 <= n <= MAX_WORKERS for n in args.workers or []):
        raise NerError(f"--workers: expected numbers from 0 to {MAX_WORKERS}, "
                       f"got {args.workers}")
    result = run(load_config(args.config, args.set), args.train, args.tag, args.scale,
                 args.stream_lines, args.workers or [None], args.profile)
    _print(json.dumps(result) if args.json else format_table(result))
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    if args.predictions:
        if args.data or args.output or args.offsets or args.transform:
            raise NerError("--predictions scores a file as it is; drop --data, --output, "
                           "--offsets and --transform")
        report = score_predictions_file(args.predictions)
    else:
        if not args.data:
            raise NerError("--model needs --data FILE, a tagged corpus to score")
        from ner_rnn.data.corpus import read_scored_corpus
        from ner_rnn.predict.evaluation import warn_unseen_types
        from ner_rnn.serve.tagger import Tagger

        _refuse_export("evaluate", args.model)
        if args.output:
            _refuse_output_over(args.output, args.data)
            _refuse_output_inside(args.output, args.model)
        tagger = Tagger.load(args.model, implementation=args.implementation)
        sentences = read_scored_corpus(args.data, tagger.config.data, args.offsets)
        if args.transform:
            sentences = recase(sentences, args.transform)
        warn_unseen_types(args.data, sentences, tagger.vocabs)
        report, predicted = tagger.evaluate(sentences)
        if args.output:
            rows = [[[token, gold, guess] for token, gold, guess in zip(s.tokens, s.tags, tags)]
                    for s, tags in zip(sentences, predicted)]
            atomic_write_text(args.output, format_conll(rows))
    _print(json.dumps(report, indent=2) if args.format == "json" else format_report(report))
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from ner_rnn.data.conversion import convert_corpus

    _refuse_output_over(args.output, args.input)
    data = DataConfig(format=args.input_format, misaligned=args.misaligned,
                      overlapping=args.overlapping, offsets=args.offsets)
    count = convert_corpus(args.input, args.output, args.to, data, args.scheme)
    logging.getLogger(__name__).info("%d sentences written to %s", count, args.output)
    return 0


def run_ensemble(args: argparse.Namespace) -> int:
    from ner_rnn.train.ensemble import build_ensemble  # loads torch

    members = build_ensemble(args.models, args.output, args.overwrite)
    logging.getLogger(__name__).info("an ensemble of %d members written to %s", members,
                                     args.output)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from ner_rnn.export.files import export_model  # loads torch

    _refuse_output_inside(args.output, args.model)
    export_model(args.model, args.output, args.format, args.overwrite)
    logging.getLogger(__name__).info("exported %s to %s", args.model, args.output)
    return 0


def run_report(args: argparse.Namespace) -> int:
    from ner_rnn.report.analysis import build_report  # loads torch to predict
    from ner_rnn.report.page import render

    if args.examples < 0:
        raise NerError(f"--examples: expected a number >= 0, got {args.examples}")
    _refuse_export("report", args.model)
    output = args.output or ("report.html" if args.format == "html" else None)
    if output:
        _refuse_output_over(output, args.data)
        _refuse_output_inside(output, args.model)
    report = build_report(args.model, args.data, args.examples, args.offsets)
    if args.format == "json":
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
        if not args.output:
            _print(text.rstrip("\n"))
            return 0
    else:
        text = render(report)
    atomic_write_text(output, text)
    logging.getLogger(__name__).info("report written to %s", output)
    return 0


def run_tag(args: argparse.Namespace) -> int:
    from ner_rnn import distributed
    from ner_rnn.predict.onnx_backend import is_export
    from ner_rnn.runtime import leave_cores_to, resolve_device, tagging_workers
    from ner_rnn.serve.streaming import TagOptions, tag_file
    from ner_rnn.serve.tagger import Tagger

    _refuse_options_of_other_formats(args)
    export = is_export(args.model)
    if export:
        _refuse_options_of_exports(args)
    args.nbest = 1 if args.nbest is None else args.nbest
    _at_least_one("--nbest", args.nbest)
    _at_least_one("--chunk-size", args.chunk_size)
    _at_least_one("--batch-size", args.batch_size)
    if args.nbest > MAX_NBEST:
        raise NerError(f"--nbest: expected at most {MAX_NBEST} alternatives, got {args.nbest}")
    if args.workers is not None and not 0 <= args.workers <= MAX_WORKERS:
        raise NerError(f"--workers: expected a number from 0 to {MAX_WORKERS}, "
                       f"got {args.workers}")
    if args.split_sentences and (args.pretokenized or args.input_format == "conll"):
        raise NerError("--split-sentences: splits raw text; not with "
                       + ("--pretokenized" if args.pretokenized else "--input-format conll")
                       + ", whose lines are sentences already")
    if not args.input and not args.sentences:
        raise NerError("tag needs text to tag: sentences as arguments, `-` to read stdin, "
                       "or --input FILE")
    if args.input and args.sentences:
        raise NerError("give sentences as arguments (or `-` for stdin) or --input FILE, not both")
    if args.input and args.output:
        _refuse_output_over(args.output, args.input)
    if args.output:
        if export:
            _refuse_output_over_export(args.output, args.model)
        else:
            _refuse_output_inside(args.output, args.model)
        if args.sentences == ["-"] and _stdin() is not None:
            _refuse_output_over_stdin(args.output, _stdin())
    if not args.output and sys.stdout is None:
        raise NerError("standard output is closed; give --output FILE")
    world, device = distributed.join(resolve_device("cpu" if export else args.device))
    if world.active and not (args.input and args.output):
        raise NerError("under torchrun, tag needs --input FILE and --output FILE")
    stream = _open_input(args)  # before the model loads: a missing file is reported at once
    try:
        workers = tagging_workers(device) if args.workers is None else args.workers
        leave_cores_to(workers)
        tagger = Tagger.load(args.model, str(device), args.implementation, args.batch_size)
        options = TagOptions(args.format, args.offsets,
                             args.pretokenized or args.input_format == "conll",
                             args.scheme, args.nbest, args.confidence, args.chunk_size,
                             workers, args.split_sentences)
        lines = _input_lines(args, stream, progress=world.is_main)
        if args.output:
            tag_file(tagger, lines, args.output, options, world)
        else:
            _tag_to_stdout(tagger, lines, options)
    finally:
        if stream is not None and stream is not _stdin():
            stream.close()
    distributed.leave(world)
    return 0


def _format_options() -> str:
    """FORMAT_OPTIONS as one line of help: `json: --nbest, --confidence; conll: none; ...`."""
    return "; ".join(f"{kind}: {', '.join(options) or 'none'}"
                     for kind, options in FORMAT_OPTIONS.items())


def _refuse_options_of_other_formats(args: argparse.Namespace) -> None:
    """An option the chosen --format does not write is an error, not silently dropped."""
    given = {"--nbest": args.nbest is not None, "--confidence": args.confidence,
             "--offsets utf16": args.offsets == "utf16"}
    for option, used in given.items():
        if used and option not in FORMAT_OPTIONS[args.format]:
            takers = [kind for kind, options in FORMAT_OPTIONS.items() if option in options]
            raise NerError(f"{option}: applies to --format {' or '.join(takers)} only, "
                           f"not {args.format}")


def _refuse_options_of_exports(args: argparse.Namespace) -> None:
    """What an exported model cannot do (it returns the best tags only, run by
    onnxruntime on the CPU) is an error, not silently dropped."""
    given = {"--nbest": args.nbest not in (None, 1), "--confidence": args.confidence,
             "--implementation": args.implementation is not None,
             "--device cuda": args.device == "cuda"}
    for option, used in given.items():
        if used:
            raise NerError(f"{option}: not with an exported model ({args.model} gives the "
                           "best tags only, on the CPU); tag with the model directory")


def _tag_to_stdout(tagger, lines: Iterator[Line], options) -> None:
    from ner_rnn.serve.streaming import tag_stream

    with _writing_stdout():
        tag_stream(tagger, lines, sys.stdout, options)


def _print(text: str) -> None:
    """print() to stdout; a closed stdout drops the text, as print() does."""
    if sys.stdout is not None:
        with _writing_stdout():
            print(text)


@contextlib.contextmanager
def _writing_stdout() -> Iterator[None]:
    """Failures to write stdout (a full disk, an encoding that cannot hold the text) as
    one-line errors; everything is flushed inside, so none is left for the exit."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # the reader has gone: main ends quietly
    except OSError as error:
        raise NerError(f"standard output: cannot write ({error.strerror})") from None
    except UnicodeEncodeError:
        raise NerError(f"standard output cannot write the results in its encoding "
                       f"({sys.stdout.encoding}); set PYTHONIOENCODING=utf-8 or give "
                       "--output FILE (always UTF-8)") from None


def _stdin() -> BinaryIO | None:
    return getattr(sys.stdin, "buffer", None)


def _open_input(args: argparse.Namespace) -> BinaryIO | None:
    """The binary stream to read: --input FILE, stdin for `-`, None for arguments."""
    if args.sentences and args.sentences != ["-"]:
        return None
    if not args.input:
        if _stdin() is None:
            raise DataFormatError("<stdin>: standard input is closed")
        return _stdin()
    return open_binary(args.input)


def _input_lines(args: argparse.Namespace, stream: BinaryIO | None, progress: bool = True
                 ) -> Iterator[Line]:
    """Lines to tag, each with its document id (None: blank lines end documents)."""
    conll = args.input_format == "conll"
    if args.input_format == "jsonl":
        if stream is None:
            stream = io.BytesIO("\n".join(args.sentences).encode("utf-8", "surrogateescape"))
        lines = jsonl_lines(stream, args.input or ("<stdin>" if args.sentences == ["-"]
                                                   else "<arguments>"))
    elif stream is None:
        return argument_lines(args.sentences, conll)
    else:
        lines = read_lines(stream, args.input or "<stdin>", conll)
    return iter(tqdm(lines, desc="tagging", unit=" sentences" if conll else " lines",
                     leave=False, disable=None if progress else True))


def _refuse_output_over(output: str, source: str) -> None:
    """Writing the output over the input would destroy the input."""
    try:
        same = os.path.samefile(output, source)
    except OSError:  # either does not exist (yet): they cannot be one file
        return
    if same:
        raise NerError(f"--output {output}: is the input file; choose another output")


def _refuse_output_over_stdin(output: str, stdin: BinaryIO) -> None:
    """`tag ... - < in.txt --output in.txt` would destroy its own input, as --input would."""
    try:
        source, target = os.fstat(stdin.fileno()), os.stat(output)
    except (OSError, ValueError):  # no such output yet, or stdin without a descriptor
        return
    if stat.S_ISREG(target.st_mode) and (source.st_dev, source.st_ino) == (
            target.st_dev, target.st_ino):
        raise NerError(f"--output {output}: is the file standard input reads; choose another "
                       "output")


def _refuse_output_inside(output: str, model: str) -> None:
    """An output inside the model directory being read could replace one of its files."""
    directory = os.path.realpath(model)
    target = os.path.realpath(output)
    if os.path.commonpath([directory, target]) == directory:
        raise NerError(f"--output {output}: is inside the model directory {model}; "
                       "choose an output outside it")


def _refuse_output_over_export(output: str, model: str) -> None:
    """An output over an exported model's FILE or FILE.vocab.json would replace it (the
    same file under another name too: a symlink, a hard link)."""
    from ner_rnn.export.files import vocab_path

    if _same_file(output, model):
        raise NerError(f"--output {output}: is the exported model {model}; choose another "
                       "output")
    vocab = vocab_path(model)
    if _same_file(output, vocab):
        raise NerError(f"--output {output}: is {vocab}, the vocabularies of the exported "
                       f"model {model}; choose another output")


def _same_file(one: str | os.PathLike, other: str | os.PathLike) -> bool:
    """Whether two paths name one file: the same device and inode where both exist, else
    the same path once symlinks are resolved."""
    try:
        first, second = os.stat(one), os.stat(other)
    except OSError:
        return os.path.realpath(one) == os.path.realpath(other)
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def _refuse_export(command: str, model: str) -> None:
    """evaluate and report score with the network itself: not with an exported model (nor
    with one file of a model directory)."""
    from ner_rnn.export.reading import refuse_model_file
    from ner_rnn.predict.onnx_backend import is_export

    refuse_model_file(model)
    if is_export(model):
        raise NerError(f"--model {model}: {command} needs the model directory, not an "
                       "exported model (tag reads that)")
