"""Nothing escapes the history folder (cservice_audit/history.py, docs/limits.md).

The history is written unattended on shared servers. Traversal in a platform, shop or agent
name, and symbolic links planted inside the history (the lock, a platform, shop or day
folder, a stored file, a temporary file), must never make a run create, change or delete a
file outside it: each is refused with one line naming the path (exit 2), or stays inside.
The whole parent folder is snapshotted before and after every case.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

HEADER = "时间,店铺,买家,发送方,客服账号,内容\n"


def chats(shop: str = "店", agent: str = "a1") -> str:
    return HEADER + f"2026-11-22 09:00:00,{shop},b1,买家,,在吗\n2026-11-22 09:01:00,{shop},b1,客服,{agent},在的\n"


def snapshot(folder: Path, skip: Path | None = None) -> dict[str, tuple]:
    """Every entry under `folder` (links not followed) but `skip`: kind, target or content hash."""
    seen: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        if skip is not None and (here == skip or skip in here.parents):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = here / name
            if skip is not None and path == skip:
                continue
            if path.is_symlink():
                seen[str(path)] = ("link", os.readlink(path))
            elif path.is_dir():
                seen[str(path)] = ("dir",)
            else:
                seen[str(path)] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mode)
    return seen


@pytest.fixture
def world(tmp_path):
    """tmp/outside (a victim folder with a file), tmp/h (the history), tmp/in (the input)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me", "utf-8")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "chats.csv").write_text(chats(), "utf-8")
    return tmp_path


def audit(cli, world: Path, *extra: str, file: str = "in/chats.csv"):
    return cli("audit", file, "-p", "pdd", "-f", "json", "--history", world / "h", *extra, cwd=world)


def refused_naming(run, path: Path) -> None:
    assert run.code == 2, (run.code, run.err)
    assert "Traceback" not in run.err and "internal error" not in run.err
    lines = run.err_lines()
    assert len(lines) == 1 and str(path) in lines[0], run.err


def first_store(cli, world: Path) -> Path:
    """A real stored day to plant links around; returns the day folder."""
    run = audit(cli, world)
    assert run.code in (0, 1), run.err
    (day,) = (world / "h" / "pinduoduo").glob("shop=*/day=*")
    return day


# --------------------------------------------------------------------------- traversal in names


@pytest.mark.parametrize("shop", ["../../outside", "/tmp/escape-shop", "..", "a/../../b", "%2e%2e"])
@pytest.mark.parametrize("agent", ["../../outside/x", "/etc/passwd"])
def test_traversal_in_shop_and_agent_names_stays_inside(cli, world, shop, agent):
    (world / "in" / "chats.csv").write_text(chats(shop, agent), "utf-8")
    outside = snapshot(world, skip=world / "h")
    run = audit(cli, world)
    assert run.code in (0, 1), run.err
    assert snapshot(world, skip=world / "h") == outside
    assert not Path("/tmp/escape-shop").exists()
    stored = [p for p in (world / "h").rglob("*") if p.is_file()]
    assert stored and all(world / "h" in p.parents for p in stored)
    listing = cli("history", "-p", "pdd", "--history", world / "h", "-f", "json")
    assert listing.code == 0 and listing.json()[0]["shop"] == shop


@pytest.mark.parametrize("platform", ["../../outside", "/tmp/escape-platform", ".."])
def test_traversal_in_the_platform_is_refused(cli, world, platform):
    (world / "r.yaml").write_text(f"extends: pinduoduo\nplatform: '{platform}'\n", "utf-8")
    before = snapshot(world)
    run = cli("audit", "in/chats.csv", "--ruleset", "r.yaml", "-f", "json", "--history", world / "h", cwd=world)
    assert run.code == 2 and "platform" in run.err and len(run.err_lines()) == 1, run.err
    assert snapshot(world) == before
    assert not Path("/tmp/escape-platform").exists()


# --------------------------------------------------------------------------- planted links


def test_a_linked_lock_is_refused(cli, world):
    platform = world / "h" / "pinduoduo"
    platform.mkdir(parents=True)
    (platform / ".lock").symlink_to(world / "outside" / "created-by-lock")
    before = snapshot(world, skip=world / "h")
    run = audit(cli, world)
    refused_naming(run, platform / ".lock")
    assert snapshot(world, skip=world / "h") == before
    assert not (world / "outside" / "created-by-lock").exists()


def test_a_linked_platform_folder_is_refused(cli, world):
    (world / "h").mkdir()
    (world / "h" / "pinduoduo").symlink_to(world / "outside")
    before = snapshot(world, skip=world / "h")
    refused_naming(audit(cli, world), world / "h" / "pinduoduo")
    refused_naming(cli("history", "-p", "pdd", "--history", world / "h", "--prune-before", "2030-01-01"), world / "h" / "pinduoduo")
    assert snapshot(world, skip=world / "h") == before


@pytest.mark.parametrize("what", ["shop", "day", "file", "temporary"])
def test_links_inside_the_store_are_refused_by_every_command(cli, world, what):
    """A shop or day folder, a stored file or a temporary file linked to the outside: the
    audit, the listing, the trend and the prune all refuse, and the outside is untouched
    (prune used to delete through a linked shop folder)."""
    day = first_store(cli, world)
    victim = world / "outside" / "moved"
    if what == "shop":
        shutil.move(day.parent, victim)
        link = day.parent
    elif what == "day":
        shutil.move(day, victim)
        link = day
    elif what == "file":
        victim.mkdir()
        shutil.move(day / "rows.parquet", victim / "rows.parquet")
        link = day / "rows.parquet"
        victim = victim / "rows.parquet"
    else:
        link = day / ".rows.parquet.tmp-1"
        victim = world / "outside" / "precious.txt"
    link.symlink_to(victim)
    before = snapshot(world, skip=world / "h")
    history = world / "h"
    for run in (
        audit(cli, world),
        cli("history", "-p", "pdd", "--history", history),
        cli("trend", "-p", "pdd", "--history", history),
        cli("history", "-p", "pdd", "--history", history, "--prune-before", "2030-01-01"),
    ):
        refused_naming(run, link)
    assert snapshot(world, skip=world / "h") == before
    assert (world / "outside" / "precious.txt").read_text("utf-8") == "keep me"


def test_a_history_root_that_is_a_link_is_the_users_choice(cli, world):
    """The root itself may be a link (data kept on another disk): it is used, and the days go there."""
    real = world / "real-history"
    real.mkdir()
    (world / "h").symlink_to(real)
    run = audit(cli, world)
    assert run.code in (0, 1), run.err
    assert list(real.glob("pinduoduo/shop=*/day=*/rows.parquet"))


# --------------------------------------------------------------------------- unwritable places


def test_a_day_folder_that_cannot_be_written_gives_a_reason(cli, world):
    """A day folder taken by a file (root ignores read-only modes, so a file stands in for an
    unwritable folder): one line with the operating system's reason, never "(None)"."""
    day = first_store(cli, world)
    shutil.rmtree(day)
    day.write_text("not a folder", "utf-8")
    run = audit(cli, world)
    assert run.code == 2 and len(run.err_lines()) == 1, run.err
    assert "(None)" not in run.err and "Traceback" not in run.err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_day_folder_gives_a_reason(cli, world):
    day = first_store(cli, world)
    day.chmod(0o555)
    try:
        run = audit(cli, world)
    finally:
        day.chmod(0o755)
    assert run.code == 2 and len(run.err_lines()) == 1, run.err
    assert "(None)" not in run.err and "ermission" in run.err, run.err
