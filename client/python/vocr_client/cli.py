"""The command line: recognize, info, health. Flags carry the names of the C++
ocr_client's, so scripts can switch between the two."""
from __future__ import annotations

import argparse
import json
import sys

import grpc

from .client import Client
from .results import ModelInfo, ModelSpec, OcrError, Recognition, to_dict


def _json(value, indent=None) -> str:
    """JSON with floats rounded to 6 decimals as ocr_client prints them (float32 confidences
    would otherwise show noise digits such as 0.9295117259025574)."""
    def rounded(v):
        if isinstance(v, float):
            return round(v, 6)
        if isinstance(v, dict):
            return {k: rounded(x) for k, x in v.items()}
        if isinstance(v, list):
            return [rounded(x) for x in v]
        return v
    return json.dumps(rounded(value), indent=indent, ensure_ascii=False)


def _add_common_flags(parser: argparse.ArgumentParser, with_defaults: bool) -> None:
    """Connection and output flags. They are accepted before and after the command; the
    command's copy has no defaults, so it cannot overwrite a flag given before the command."""
    def default(value):
        return value if with_defaults else argparse.SUPPRESS
    add = parser.add_argument
    add("--target", default=default("localhost:50051"), help="server address: host:port, dns:///host:port, "
        "unix:path (default localhost:50051)")
    add("--timeout_ms", type=int, default=default(10000), help="deadline of each call in ms; 0: none")
    add("--json", action="store_true", default=default(False), help="machine-readable output: recognize "
        "prints one JSON object per file, info one object")
    add("--model_name", default=default(""), help="model to ask for; empty: the one served")
    add("--model_version", type=int, default=default(0), help="model version to ask for; 0: the one served")
    add("--max_message_mb", type=int, default=default(16), help="largest message sent or received, in MiB")
    add("--tls_ca", default=default(None), help="PEM file of the CA that signed the server's certificate; "
        "enables TLS")
    add("--tls_cert", default=default(None), help="PEM client certificate for mutual TLS (with --tls_key)")
    add("--tls_key", default=default(None), help="PEM private key of --tls_cert")
    add("--tls_server_name", default=default(None), help="name to check the server certificate against, "
        "if not the target's")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m vocr_client",
                                     description="Client of vocr-serve (Vietnamese text-line OCR over gRPC).")
    _add_common_flags(parser, with_defaults=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    recognize = commands.add_parser("recognize", help="print the text of each line image; exit 0 only if "
                                    "all were read")
    recognize.add_argument("files", nargs="+", metavar="FILE", help="line images (PNG, JPEG, BMP, WebP, TIFF)")
    recognize.add_argument("--batch", action="store_true", help="send every file in one RecognizeBatch call "
                           "(default: one Recognize call per file)")
    recognize.set_defaults(run=_recognize)

    info = commands.add_parser("info", help="the served model: version, quantization, sizes, evaluation")
    info.set_defaults(run=_info)

    health = commands.add_parser("health", help="grpc.health.v1 check; prints the status, exit 0 only when "
                                 "SERVING")
    health.add_argument("--service", default="", help="service to ask about; empty: the server as a whole")
    health.set_defaults(run=_health)

    for sub in (recognize, info, health):
        _add_common_flags(sub, with_defaults=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        client = Client(args.target, timeout=args.timeout_ms / 1000 if args.timeout_ms > 0 else None,
                        model=ModelSpec(args.model_name, args.model_version), root_certificates=args.tls_ca,
                        certificate_chain=args.tls_cert, private_key=args.tls_key,
                        server_name=args.tls_server_name, max_message_mb=args.max_message_mb)
    except (OSError, ValueError) as e:
        print(f"vocr_client: {e}", file=sys.stderr)
        return 2
    with client:
        try:
            return args.run(client, args)
        except OcrError as e:  # the whole call failed: the server is down, the model unknown, ...
            print(f"{args.command}: {e}", file=sys.stderr)
            return 1


def _read(path: str) -> bytes | OcrError:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return OcrError(grpc.StatusCode.NOT_FOUND, f"no such file: {path}")
    except OSError as e:
        return OcrError(grpc.StatusCode.INVALID_ARGUMENT, f"cannot read {path}: {e.strerror}")


def _recognize(client: Client, args) -> int:
    """Prints every file's outcome in order; a file that cannot be read or decoded fails alone."""
    if args.batch:
        outcomes = _recognize_in_one_call(client, args.files)
    else:  # lazily, so only one file at a time is in memory
        outcomes = ((path, _recognize_one(client, path)) for path in args.files)
    all_ok = True
    for path, outcome in outcomes:
        all_ok &= _print_outcome(path, outcome, several=len(args.files) > 1, as_json=args.json)
    return 0 if all_ok else 1


def _recognize_one(client: Client, path: str) -> Recognition | OcrError:
    data = _read(path)
    if isinstance(data, OcrError):
        return data
    try:
        return client.recognize(data)
    except OcrError as e:
        return e


def _recognize_in_one_call(client: Client, paths: list[str]):
    """(path, Recognition or OcrError) for each path, the readable files sent in one RecognizeBatch."""
    loaded = [(path, _read(path)) for path in paths]
    sendable = [data for _, data in loaded if not isinstance(data, OcrError)]
    lines = iter(client.recognize_batch(sendable) if sendable else [])  # results in the order sent
    for path, data in loaded:
        if isinstance(data, OcrError):
            yield path, data
        else:
            line = next(lines)
            yield path, line.recognition if line.ok else OcrError(line.code, line.message)


def _print_outcome(path: str, outcome: Recognition | OcrError, several: bool, as_json: bool) -> bool:
    if isinstance(outcome, OcrError):
        print(f"{path}: {outcome}", file=sys.stderr)
        if as_json:
            print(_json({"file": path, "code": outcome.code.name, "message": outcome.message}))
        return False
    if as_json:
        print(_json({"file": path, **to_dict(outcome)}))
    else:
        print(f"{path}\t{outcome.text}" if several else outcome.text)
    return True


def _info(client: Client, args) -> int:
    info = client.info()
    print(_json(to_dict(info), indent=2) if args.json else _describe(info))
    return 0


def _describe(info: ModelInfo) -> str:
    """ModelInfo for people, laid out like ocr_client's."""
    i = info.input
    lines = [f"model       {info.name} (version {info.version})"]
    if info.created:
        lines.append(f"created     {info.created}")
    lines += [f"engine      {info.engine}",
              f"vocabulary  {info.vocab_size} symbols",
              f"input       height {i.height}, {i.channels} channel(s), width {i.min_width}..{i.max_width} in "
              f"multiples of {i.width_multiple}, mean {i.mean:g}, std {i.std:g}",
              f"loaded in   {info.load_seconds:.2f} s",
              "parts"]
    mib = 1024 * 1024
    for p in info.parts:
        line = f"  {p.name:<4} {p.file:<24} {p.quantization:<14} {p.bytes / mib:7.2f} MiB"
        if p.bytes > 0 and p.fp32_reference_bytes > 0:
            ratio = p.fp32_reference_bytes / p.bytes
            line += f"  (fp32 {p.fp32_reference_bytes / mib:.2f} MiB, {ratio:.1f}x smaller)"
        lines.append(line + f"  {p.parameters} parameters  sha256 {p.sha256[:12]}")
    if info.evaluation is not None:
        lines.append("evaluation")
        text = info.evaluation
        if not isinstance(text, str):
            text = json.dumps(text, indent=2, ensure_ascii=False)
        lines += ["  " + line for line in text.splitlines()]
    return "\n".join(lines)


def _health(client: Client, args) -> int:
    status = client.health(args.service)
    print(status)
    return 0 if status == "SERVING" else 1
