"""A checkpoint that cannot be written (a full disk) never ends the scan in a traceback: it is
dropped whole (a torn checkpoint must not be resumed from) and the scan says it could not be
resumed. /dev/full answers every write with ENOSPC, a real full disk for one file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.client.model import AccountPhone
from scanner.inventory.checkpoint import Checkpoint, path_in

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")


def _phone() -> AccountPhone:
    return AccountPhone(
        has_secure_mobile_phone=True,
        secure_mobile_phone_masked="86-139****5678",
        account_type="ResourceAccount",
    )


def test_a_full_disk_drops_the_checkpoint_and_names_it(tmp_path: Path) -> None:
    saved = Checkpoint.start(tmp_path, {"kind": "rdscan-checkpoint"})
    assert path_in(tmp_path).exists()
    saved._fh.close()
    saved._fh = open("/dev/full", "w", encoding="utf-8")  # noqa: SIM115 - the "disk" from now on
    saved.read("1000000000000001", _phone())
    assert saved.problem is not None and saved.problem.startswith("out of space")
    assert not path_in(tmp_path).exists()  # never a torn checkpoint left to resume from
    saved.read("1000000000000002", _phone())  # later reads are not written, and do not raise
    saved.close()
    saved.remove()


def test_a_working_checkpoint_reports_no_problem(tmp_path: Path) -> None:
    saved = Checkpoint.start(tmp_path, {"kind": "rdscan-checkpoint"})
    saved.read("1000000000000001", _phone())
    saved.close()
    assert saved.problem is None
    assert '"read":"1000000000000001"' in path_in(tmp_path).read_text(encoding="utf-8")
