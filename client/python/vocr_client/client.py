"""A blocking client for vocr-serve: one channel, one method per RPC, plain
Python values in and out, OcrError on any non-OK status."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Optional, Union

import grpc

from .proto import health_pb2, health_pb2_grpc, ocr_pb2, ocr_pb2_grpc
from .results import LineResult, ModelInfo, ModelSpec, OcrError, RawImage, Recognition, status_code

# A file to send as it is (PNG, JPEG, ... : the server decodes it), its bytes, or raw pixels.
ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview, RawImage]


def _pem(value: Union[None, bytes, str, os.PathLike]) -> Optional[bytes]:
    """PEM contents given as bytes, or a path to read them from."""
    if value is None or isinstance(value, bytes):
        return value
    return Path(value).read_bytes()


def _image(source: ImageSource) -> ocr_pb2.Image:
    if isinstance(source, RawImage):
        return ocr_pb2.Image(raw=ocr_pb2.RawImage(pixels=bytes(source.pixels), width=source.width,
                                                  height=source.height, channels=source.channels))
    if isinstance(source, (bytes, bytearray, memoryview)):
        return ocr_pb2.Image(encoded=bytes(source))
    # A path: its bytes go unchanged, so the server decodes exactly what is on disk.
    return ocr_pb2.Image(encoded=Path(source).read_bytes())


class Client:
    """Talks to one vocr-serve target ("host:port", "dns:///host:port", "unix:path").

    timeout: deadline of each call in seconds (None: no deadline).
    model: which model to ask for; the default means the one served.
    TLS is on when any of root_certificates / certificate_chain / private_key is
    given (PEM bytes or a file path); the last two together give mutual TLS.
    server_name: the name to check the server's certificate against, if not the target's.
    max_message_mb: largest message sent or received (gRPC's default receive limit is 4 MiB).
    """

    def __init__(self, target: str, timeout: Optional[float] = 10.0, model: ModelSpec = ModelSpec(), *,
                 root_certificates=None, certificate_chain=None, private_key=None,
                 server_name: Optional[str] = None, max_message_mb: int = 16):
        if (certificate_chain is None) != (private_key is None):
            raise ValueError("certificate_chain and private_key go together (mutual TLS needs both)")
        size = max_message_mb * 1024 * 1024
        options = [("grpc.max_send_message_length", size), ("grpc.max_receive_message_length", size)]
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        if root_certificates is None and certificate_chain is None:
            self._channel = grpc.insecure_channel(target, options=options)
        else:
            credentials = grpc.ssl_channel_credentials(_pem(root_certificates), _pem(private_key),
                                                       _pem(certificate_chain))
            self._channel = grpc.secure_channel(target, credentials, options=options)
        self._ocr = ocr_pb2_grpc.OcrServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self.timeout = timeout
        self._model = ocr_pb2.ModelSpec(name=model.name, version=model.version)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as e:  # every RpcError a blocking call raises is also a grpc.Call
            raise OcrError(e.code(), e.details() or "") from None

    def recognize(self, image: ImageSource) -> Recognition:
        """Reads one line image."""
        request = ocr_pb2.RecognizeRequest(image=_image(image), model=self._model)
        response = self._call(self._ocr.Recognize, request)
        return Recognition.from_proto(response.result, response.model)

    def recognize_batch(self, images: Iterable[ImageSource]) -> list[LineResult]:
        """Reads many line images in one call; one LineResult per image, in order. A bad
        image gets its own error code there; OcrError only when the whole call fails."""
        request = ocr_pb2.RecognizeBatchRequest(images=[_image(i) for i in images], model=self._model)
        response = self._call(self._ocr.RecognizeBatch, request)
        return [LineResult(status_code(line.code), line.message,
                           Recognition.from_proto(line.result, response.model) if line.HasField("result")
                           else None)
                for line in response.results]

    def info(self) -> ModelInfo:
        """What the server serves (GetModelInfo)."""
        request = ocr_pb2.GetModelInfoRequest(model=self._model)
        return ModelInfo.from_proto(self._call(self._ocr.GetModelInfo, request))

    def health(self, service: str = "") -> str:
        """grpc.health.v1 status by name: SERVING, NOT_SERVING (loading or draining), ...;
        service "" asks about the server as a whole."""
        response = self._call(self._health.Check, health_pb2.HealthCheckRequest(service=service))
        values = health_pb2.HealthCheckResponse.ServingStatus
        if response.status not in values.values():  # a value newer than this proto
            return f"STATUS_{response.status}"
        return values.Name(response.status)
