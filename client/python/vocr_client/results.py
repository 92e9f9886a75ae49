"""Plain Python values for what the ocr.v1 API returns, so callers never touch
protobuf messages. Field names follow proto/ocr/v1/ocr.proto."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Optional

import grpc

from .proto import ocr_pb2

# google.rpc.Code numbers (LineResult.code) -> grpc.StatusCode, whose value is (number, name).
_CODES = {code.value[0]: code for code in grpc.StatusCode}


def status_code(number: int) -> grpc.StatusCode:
    """The grpc.StatusCode for a google.rpc.Code number; UNKNOWN for a number newer than grpcio."""
    return _CODES.get(number, grpc.StatusCode.UNKNOWN)


class OcrError(Exception):
    """A call the server (or the channel) answered with a non-OK status."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class RawImage:
    """Undecoded 8-bit pixels, rows top to bottom, channels interleaved (1 gray, 3 BGR, 4 BGRA)."""
    pixels: bytes
    width: int
    height: int
    channels: int


@dataclass(frozen=True)
class ModelSpec:
    """A model by name and version; empty name and version 0 mean "the one served"."""
    name: str = ""
    version: int = 0

    @classmethod
    def from_proto(cls, m: ocr_pb2.ModelSpec) -> ModelSpec:
        return cls(m.name, m.version)


@dataclass(frozen=True)
class Timings:
    """Where the server spent the time, in ms; batch_size is the CNN batch the line ran in."""
    queue_ms: float
    decode_image_ms: float
    preprocess_ms: float
    cnn_ms: float
    decoder_ms: float
    total_ms: float
    batch_size: int

    @classmethod
    def from_proto(cls, t: ocr_pb2.Timings) -> Timings:
        return cls(t.queue_ms, t.decode_image_ms, t.preprocess_ms, t.cnn_ms, t.decoder_ms, t.total_ms,
                   t.batch_size)


@dataclass(frozen=True)
class Recognition:
    """One line read: its text, the line's confidence, one confidence per code point of
    `text`, the stage timings, and the model that read it (from the response)."""
    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    timings: Timings
    model: ModelSpec

    @classmethod
    def from_proto(cls, r: ocr_pb2.Recognition, model: ocr_pb2.ModelSpec) -> Recognition:
        return cls(r.text, r.confidence, tuple(r.char_confidences), Timings.from_proto(r.timings),
                   ModelSpec.from_proto(model))


@dataclass(frozen=True)
class LineResult:
    """One image of a batch: a Recognition when code is OK, else the reason it failed."""
    code: grpc.StatusCode
    message: str
    recognition: Optional[Recognition]

    @property
    def ok(self) -> bool:
        return self.code == grpc.StatusCode.OK


@dataclass(frozen=True)
class InputSpec:
    height: int
    channels: int
    min_width: int
    max_width: int
    width_multiple: int
    mean: float
    std: float


@dataclass(frozen=True)
class ModelPart:
    """A file of the bundle ("cnn" or "seq") with its quantization and size beside the fp32 one."""
    name: str
    file: str
    quantization: str
    bytes: int
    fp32_reference_bytes: int
    parameters: int
    sha256: str


@dataclass(frozen=True)
class ModelInfo:
    """What is served. `evaluation` is the manifest's evaluation table, parsed from JSON
    (None when the manifest has none, the raw string if it is not valid JSON)."""
    name: str
    version: int
    created: str
    engine: str
    parts: tuple[ModelPart, ...]
    vocab_size: int
    input: InputSpec
    evaluation: Any
    load_seconds: float

    @classmethod
    def from_proto(cls, m: ocr_pb2.ModelInfo) -> ModelInfo:
        parts = tuple(ModelPart(p.name, p.file, p.quantization, p.bytes, p.fp32_reference_bytes, p.parameters,
                                p.sha256) for p in m.parts)
        i = m.input
        spec = InputSpec(i.height, i.channels, i.min_width, i.max_width, i.width_multiple, i.mean, i.std)
        return cls(m.name, m.version, m.created, m.engine, parts, m.vocab_size, spec,
                   _parse_json(m.evaluation_json), m.load_seconds)


def _parse_json(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def to_dict(value: Any) -> Any:
    """A JSON-ready copy of any value above (status codes by name)."""
    if isinstance(value, grpc.StatusCode):
        return value.name
    if dataclasses.is_dataclass(value):
        return {f.name: to_dict(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_dict(v) for v in value]
    return value
