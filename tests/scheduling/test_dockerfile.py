"""The Dockerfile, checked as far as a machine without a Docker engine allows: its instructions
are read and checked, the virtual environment its build stage makes is made the same way, and
the image's entry point and default command run from it against the emulator with its ENV."""

from __future__ import annotations

import gettext
import io
import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.emulator import EmulatorServer
from scanner.history import History
from scanner.i18n_build import compile_po

from ..conftest import SAMPLE_CALLERS, child_process_env

ROOT = Path(__file__).resolve().parents[2]


def _messages(data: bytes) -> dict[object, str]:
    """msgid -> msgstr of a .mo, without the header (it names the Babel version)."""
    catalog = gettext.GNUTranslations(io.BytesIO(data))
    return {k: v for k, v in catalog._catalog.items() if k != ""}  # type: ignore[attr-defined]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction; continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "a continuation line at the end of the Dockerfile"
    return out


def stages(items: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for item in items:
        if item[0] == "FROM":
            result.append([])
        result[-1].append(item)
    return result


def _env(args: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(args))


def test_dockerfile_instructions() -> None:
    items = instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    build, final = stages(items)
    for stage in (build, final):
        image = stage[0][1].split()[0]
        assert image.startswith("python:3.11-slim"), image
    for word, args in build:
        if word == "COPY":
            *sources, _ = shlex.split(args)
            for src in sources:
                assert (ROOT / src).exists(), f"COPY {src}: not in the repository"
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    env = {k: v for word, args in final if word == "ENV" for k, v in _env(args).items()}
    [volume] = [json.loads(args) for word, args in final if word == "VOLUME"]
    assert env["RDSCAN_HISTORY"].startswith(volume[0] + "/")
    assert env["RDSCAN_OUTPUT_DIR"].startswith(volume[0] + "/")
    [entry] = [json.loads(args) for word, args in final if word == "ENTRYPOINT"]  # exec form
    assert entry == ["rdscan"]
    assert json.loads(next(args for word, args in final if word == "CMD")) == ["scan", "--quiet"]


@pytest.mark.slow
def test_the_image_venv_runs_its_entry_point(
    emulator: Callable[..., EmulatorServer], tmp_path: Path
) -> None:
    """Build the build stage's virtual environment from a copy of exactly what it COPYs, then
    run ENTRYPOINT + CMD from it with the image's ENV (paths under tmp) against the emulator."""
    items = instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    build, final = stages(items)
    src = tmp_path / "src"
    src.mkdir()
    for word, args in build:
        if word == "COPY":
            *sources, dest = shlex.split(args)
            for s in sources:
                target = src / (Path(dest) / Path(s).name if dest.endswith("/") else dest)
                if (ROOT / s).is_dir():
                    # no compiled catalog: the wheel build (hatch_build.py) must make it
                    ignore = shutil.ignore_patterns("__pycache__", "*.mo")
                    shutil.copytree(ROOT / s, target, ignore=ignore)
                else:
                    shutil.copy(ROOT / s, target)
    [run] = [args for word, args in build if word == "RUN"]
    venv = tmp_path / "opt-rdscan"
    command = run.replace("/opt/rdscan", str(venv)).replace(
        "python -m venv", f"{sys.executable} -m venv"
    )
    command = command.replace("--no-cache-dir ", "")  # reuse this machine's wheel cache
    built = subprocess.run(
        ["bash", "-c", command], cwd=src, capture_output=True, text=True, timeout=600, check=False
    )
    assert built.returncode == 0, built.stderr[-2000:]

    env = {k: v for word, args in final if word == "ENV" for k, v in _env(args).items()}
    [volume] = [json.loads(args) for word, args in final if word == "VOLUME"]
    data = tmp_path / "volume"
    data.mkdir()
    run_env = child_process_env(SAMPLE_CALLERS["auditor"], HOME=str(tmp_path / "home"))
    for key, value in env.items():
        value = value.replace("$PATH", run_env["PATH"]).replace("/opt/rdscan", str(venv))
        run_env[key] = value.replace(volume[0], str(data))
    srv = emulator(rate_limit=1000)
    run_env.update(RDSCAN_ENDPOINT=srv.endpoint, RDSCAN_PROTOCOL="http")
    entry = json.loads(next(args for word, args in final if word == "ENTRYPOINT"))
    cmd = json.loads(next(args for word, args in final if word == "CMD"))
    exe = shutil.which(entry[0], path=run_env["PATH"])
    assert exe == str(venv / "bin" / "rdscan")  # the image's venv, not this checkout's
    proc = subprocess.run(
        [exe, *entry[1:], *cmd], env=run_env, cwd=data, capture_output=True, text=True,
        timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == "" and proc.stderr.startswith("rdscan rd-3G6R01: Exit code 1")
    assert (data / "report" / "report.html").is_file()  # templates shipped inside the wheel
    # the zh-CN catalog was compiled by the wheel build and is read from the venv
    [mo] = venv.glob("lib/python*/site-packages/scanner/locales/zh_CN/LC_MESSAGES/rdscan.mo")
    po = mo.with_suffix(".po")
    assert _messages(mo.read_bytes()) == _messages(compile_po(po.read_bytes(), "zh_CN"))
    zh = subprocess.run(
        [exe, "report", str(data / "report" / "report.json"), "--lang", "zh-CN",
         "--format", "md", "--output-dir", str(tmp_path / "zh")],
        env=run_env, cwd=data, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert zh.returncode == 0, zh.stderr
    assert (tmp_path / "zh" / "report.md").read_text(encoding="utf-8").startswith("# 安全手机")
    assert len(History(data / "history.sqlite").scans()) == 1
