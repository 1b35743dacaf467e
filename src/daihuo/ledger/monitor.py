"""A monitor that follows a running log over HTTP, like a CT monitor.

Each check fetches the log's checkpoint, verifies its signature with the given keys,
and compares it with the last checkpoint this monitor accepted: a smaller size is a
rollback, an equal size with another root or a larger size without a valid
consistency proof (fetched from the log) is a fork. Either raises :class:`Alert`.
The last accepted checkpoint can be kept in a state file, so separate runs
(``--once`` from cron) keep watching the same history.

Like the verifier, this imports no server code: httpx, and the verifier.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from daihuo.ledger import note
from daihuo.ledger.verify import (
    LogForked,
    LogRolledBack,
    VerifyError,
    open_checkpoint,
    verify_consistency,
)

CHECKPOINT_PATH = "/api/v1/ledger/checkpoint"
CONSISTENCY_PATH = "/api/v1/ledger/proof/consistency"


class MonitorError(Exception):
    """The log could not be checked this time (network, HTTP error, bad state file)."""


class Alert(Exception):
    """The log misbehaved: it rolled back, forked, or served a checkpoint that fails."""


@dataclass
class Monitor:
    base_url: str
    verifiers: list[note.Verifier]
    state_file: Path | None = None
    timeout: float = 10.0
    last: note.Checkpoint | None = None
    last_signed: str | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.state_file is not None and self.state_file.exists():
            try:
                signed = self.state_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise MonitorError(f"state file {self.state_file}: {exc}") from exc
            try:
                self.last = open_checkpoint(signed, self.verifiers, what=f"state {self.state_file}")
            except VerifyError as exc:
                raise MonitorError(str(exc)) from exc
            self.last_signed = signed

    def check(self, client: httpx.Client) -> str:
        """One round: fetch, verify, compare; return what was seen or raise."""
        signed = self._get(client, CHECKPOINT_PATH, {}).text
        try:
            current = open_checkpoint(signed, self.verifiers, what="the log's checkpoint")
        except VerifyError as exc:
            raise Alert(str(exc)) from exc
        previous = self.last
        if previous is None:
            message = f"first checkpoint: size {current.size} ({current.origin})"
        else:
            proof: dict[str, Any] | None = None
            if previous.size > 0 and current.size > previous.size:
                params = {"old": previous.size, "new": current.size}
                body = self._get(client, CONSISTENCY_PATH, params).json()
                proof = body if isinstance(body, dict) else {}
            try:
                verify_consistency(previous, current, proof)
            except (LogForked, LogRolledBack) as exc:
                raise Alert(str(exc)) from exc
            except VerifyError as exc:
                raise Alert(f"the log's consistency proof fails: {exc}") from exc
            if current.size == previous.size:
                message = f"unchanged: size {current.size}"
            else:
                message = f"consistent: size {previous.size} -> {current.size}"
        self.last, self.last_signed = current, signed
        self._save(signed)
        return message

    def _get(self, client: httpx.Client, path: str, params: dict[str, int]) -> httpx.Response:
        try:
            response = client.get(self.base_url + path, params=params, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise MonitorError(f"GET {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise MonitorError(f"GET {path}: HTTP {response.status_code} {response.text[:200]}")
        return response

    def _save(self, signed: str) -> None:
        if self.state_file is None:
            return
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        try:
            tmp.write_text(signed, encoding="utf-8")
            os.replace(tmp, self.state_file)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise MonitorError(f"state file {self.state_file}: {exc}") from exc
