"""The agent's only channel to the daemon: the `mlagentctl` command, one subprocess per call.

Every failure becomes a CtlError carrying the exit status and mlagentctl's error line (the last
stderr line that starts with "mlagentctl:", else the last line: an error such as a failed replay
goes on with the scorer's log); callers decide whether to go on, end the run as failed or stop."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from .settings import Clock


class CtlError(Exception):
    def __init__(self, code: int, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.detail = detail or message  # all that mlagentctl printed on stderr


class Ctl:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def call(self, *args: str, patience: float = 15.0, cap: float = 120.0) -> str:
        # mlagentctl waits up to a minute for a restarting daemon; never wait far past the deadline.
        timeout = max(patience, min(cap, self.clock.deadline - time.time()))
        try:
            done = subprocess.run(["mlagentctl", *args], capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError:
            raise CtlError(127, "mlagentctl: not found on PATH") from None
        except subprocess.TimeoutExpired:
            raise CtlError(124, f"mlagentctl: no answer within {timeout:.0f} s") from None
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            errors = [line for line in lines if line.startswith("mlagentctl:")]
            message = (errors or lines or [f"mlagentctl: exit status {done.returncode}"])[-1]
            raise CtlError(done.returncode, message, done.stderr.strip())
        return done.stdout

    def call_json(self, *args: str, patience: float = 15.0, cap: float = 120.0) -> dict[str, Any]:
        out = self.call(*args, "--json", patience=patience, cap=cap)
        lines = [line for line in out.splitlines() if line.strip().startswith("{")]
        return json.loads(lines[-1]) if lines else {}

    def declare(self, name: str, rationale: str) -> None:
        self.call("direction", "declare", name, "--rationale", rationale)

    def directions(self) -> list[dict[str, Any]]:
        return list(self.call_json("direction", "list").get("directions", []))

    def run_start(self, name: str, rationale: str, params: dict[str, Any]) -> int:
        args = ["run", "start", "--name", name, "--rationale", rationale]
        for key, value in params.items():
            args += ["--param", f"{key}={value}"]
        out = self.call(*args)
        match = re.search(r"\d+", out)
        if not match:
            raise CtlError(1, f"mlagentctl: run start printed no run id: {out!r}")
        return int(match.group())

    def log_run(self, run: int, metrics_file: Path, metrics: dict[str, float]) -> None:
        self.call("run", "log", str(run), "--file", str(metrics_file))
        self.call("run", "log", str(run), *[a for k, v in metrics.items() for a in ("--metric", f"{k}={v:.6g}")])

    def artifact(self, run: int, path: Path) -> None:
        self.call("run", "artifact", str(run), str(path), "--as", "model")

    def evaluate(self, run: int, predictions: Path) -> dict[str, Any]:
        return self.call_json("eval", str(run), str(predictions))

    def run_end(self, run: int, analysis: str, failed: bool) -> None:
        self.call("run", "end", str(run), "--analysis", analysis, *(["--failed"] if failed else []))

    def submit(self, run: int, predictions: Path | None = None) -> dict[str, Any]:
        """Without predictions the daemon replays the run's saved model (loads it, predicts both splits): wait for
        its answer at least a minute, and up to the daemon's default replay timeout (600 s) if the deadline allows."""
        if predictions:
            return self.call_json("submit", str(run), str(predictions))
        return self.call_json("submit", str(run), patience=60.0, cap=600.0)

    def finish(self, learnings: Path) -> None:
        self.call("direction", "finish", "--learnings", str(learnings))
