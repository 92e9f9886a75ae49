"""Stubs generated from ocr.v1 and grpc.health.v1 by ../../generate_stubs.sh; do not edit."""
