"""Ending a process the tests started: asked first (SIGTERM, so it cleans up after itself:
Xvfb its lock file, the service its connections), killed only when it does not stop."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
