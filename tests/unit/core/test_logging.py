"""Structured logs: one JSON object per line, with the request id of the request."""

from __future__ import annotations

import json
import logging

from daihuo.core.context import request_id_var
from daihuo.core.logging import JsonFormatter


def test_json_log_lines_carry_the_request_id_and_extras() -> None:
    record = logging.makeLogRecord(
        {"name": "daihuo.access", "levelname": "INFO", "levelno": 20, "msg": "request"}
    )
    record.status = 201
    record.path = "/api/v1/members"
    token = request_id_var.set("01ABC")
    try:
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    data = json.loads(line)
    assert "\n" not in line
    assert data["request_id"] == "01ABC" and data["msg"] == "request"
    assert data["status"] == 201 and data["path"] == "/api/v1/members"
    assert data["ts"].endswith("+00:00") and data["level"] == "info"


def test_log_lines_outside_a_request_have_no_request_id() -> None:
    record = logging.makeLogRecord({"name": "x", "levelname": "WARNING", "msg": "中文 ok"})
    data = json.loads(JsonFormatter().format(record))
    assert "request_id" not in data and data["msg"] == "中文 ok"
