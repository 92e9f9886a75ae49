"""Python client of vocr-serve, the Vietnamese text-line OCR server (gRPC API ocr.v1).

    from vocr_client import Client
    with Client("127.0.0.1:50051") as ocr:
        print(ocr.recognize("line.png").text)

Needs only Debian's python3-grpcio and python3-protobuf; the stubs are shipped
in vocr_client/proto (regenerate them with ../generate_stubs.sh).
"""
from .client import Client, ImageSource
from .results import (InputSpec, LineResult, ModelInfo, ModelPart, ModelSpec, OcrError, RawImage, Recognition,
                      Timings, to_dict)

__all__ = ["Client", "ImageSource", "InputSpec", "LineResult", "ModelInfo", "ModelPart", "ModelSpec", "OcrError",
           "RawImage", "Recognition", "Timings", "to_dict"]
