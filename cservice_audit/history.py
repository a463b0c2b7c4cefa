"""The history store: what each nightly run leaves for the next (issue: memory across runs).

Layout, per platform, one Parquet file per shop and day, readable by polars or DuckDB:

    <root>/<platform>/shop=<shop, %-quoted>/day=YYYY-MM-DD/rows.parquet

A shop name whose quoted form would pass file-system limits (255 bytes a name) is cut and
given a stable hash of the whole name (`shop=<start>~<sha1>`); the full name is kept in the
file (its `shop` column and metadata), so names round-trip exactly.

Each file holds the day rows of every rule for that shop and day (metrics/rollup.DAY_SCHEMA)
plus `ruleset_version`, `written_at` and `history_version`. Auditing a day again replaces its
file: the new rows go to a temporary file in the same folder, then `os.replace` swaps it in,
so a run killed half-way leaves the previous file intact. A lock file serialises runs; a file
that is not a readable history file stops the run with its name (never a silent reset).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import quote, unquote

import polars as pl

from cservice_audit.errors import AuditError, check_stopped, os_reason
from cservice_audit.metrics.rollup import DAY_SCHEMA

HISTORY_VERSION = 1
FILE_NAME = "rows.parquet"
# Beside a day's rows: the conversations whose turns were still pending when the run that
# judged up to that day ended (carry.py), for the next night to judge.
OPEN_FILE = "open.parquet"
CARRIED_KEY = "carried_turns"  # metadata of a day's rows: the questions of the night before it judged
STORED_SCHEMA = {**DAY_SCHEMA, "ruleset_version": pl.String, "written_at": pl.String, "history_version": pl.Int64}
# Longest quoted shop name kept whole in a folder name (file systems allow 255 bytes).
SHOP_NAME_BYTES = 200


class HistoryError(AuditError):
    """The history store cannot be used; the message names the file."""


class HistoryStore:
    def __init__(self, root: str | Path, platform: str):
        if not _PLATFORM_ID.match(platform):
            raise HistoryError("error.history_platform", platform=repr(platform))
        self.root = Path(root)
        self.folder = self.root / platform

    # -------------------------------------------------------------- paths: never through a link
    #
    # The history is written unattended on shared servers: a symbolic link planted inside it
    # (the lock, a shop or day folder, a file) would make a run create, replace or delete
    # files elsewhere. Nothing below the history root is followed: every path is checked part
    # by part (lstat) before use, files are opened with O_NOFOLLOW, and a link stops the run
    # naming it. The root itself may be a link (a user's own choice of where the data lives).

    def _no_links(self, path: Path) -> Path:
        """`path` (inside the root), once no existing part of it below the root is a link."""
        current = self.root
        for part in path.relative_to(self.root).parts:
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                break
            except OSError as exc:
                raise HistoryError("error.history_folder", path=current, reason=os_reason(exc)) from None
            if stat.S_ISLNK(mode):
                raise _link_error(current)
        return path

    def _mkdirs(self, folder: Path) -> None:
        self._no_links(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._no_links(folder)  # a link swapped in meanwhile is caught before anything is written

    @contextlib.contextmanager
    def locked(self, wait: float | None = None) -> Iterator[None]:
        """Hold the platform's lock; wait up to `wait` seconds (default: the lock_wait limit)
        for another run to finish."""
        try:
            self._mkdirs(self.folder)
            handle = _open_no_follow(self.folder / ".lock", os.O_RDWR | os.O_CREAT)
        except OSError as exc:
            raise HistoryError("error.history_folder", path=self.folder, reason=os_reason(exc)) from None
        with self._held(handle, fcntl.LOCK_EX, wait, self.folder / ".lock"):
            yield

    @contextlib.contextmanager
    def reading(self, wait: float | None = None) -> Iterator[None]:
        """Hold the platform's lock shared, for a run that writes nothing (audit --no-store):
        a night writing its days is waited for, but no folder or lock file is created (a look
        at a history not there yet, or one owned by the cron's account, changes nothing)."""
        lock = self._no_links(self.folder / ".lock")
        try:
            handle = _open_no_follow(lock, os.O_RDONLY)
        except FileNotFoundError:
            yield  # nothing stored yet, or nothing ever locked: nothing to wait for
            return
        except OSError as exc:
            raise HistoryError("error.history_folder", path=self.folder, reason=os_reason(exc)) from None
        with self._held(handle, fcntl.LOCK_SH, wait, lock):
            yield

    @contextlib.contextmanager
    def _held(self, handle, mode: int, wait: float | None, lock: Path) -> Iterator[None]:
        """flock `handle` in `mode`, retrying until `wait` seconds (default: the lock_wait
        limit) have passed, then say which lock is held; released and closed on the way out."""
        if wait is None:
            from cservice_audit import limits

            wait = limits.current().lock_wait
        deadline = time.monotonic() + wait
        with handle:
            while True:
                try:
                    fcntl.flock(handle, mode | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise HistoryError("error.history_locked", path=self.folder, lock=lock) from None
                    time.sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def files(self, shops: list[str] | None = None) -> list[Path]:
        """Every stored day file, or those of `shops` only (other shops' folders are not even
        listed: their damage must not stop this shop's run). A folder that looks like part of
        the layout but is not (`day=2026-04-28 (copy)`) stops the run: read, it would count a
        day twice."""
        found = self._layout_files(shops)
        for path in found:
            name = path.parent.name.removeprefix("day=")
            try:
                date.fromisoformat(name)
                valid = len(name) == 10
            except ValueError:
                valid = False
            if not valid:
                raise HistoryError("error.history_day_folder", path=path.parent)
        return found

    def _layout_files(self, shops: list[str] | None = None) -> list[Path]:
        """shop=*/day=*/rows.parquet (of `shops` only, when given), found without following
        links: a link among them stops the run (a shop folder linked elsewhere would be read,
        written and pruned there)."""
        self._no_links(self.folder)
        wanted = None if shops is None else {self.shop_folder(shop).name for shop in shops}
        found = []
        for shop in _subfolders(self.folder, "shop=", wanted):
            for day in _subfolders(shop, "day="):
                for entry in _entries(day):
                    if entry.is_symlink() and (entry.name == FILE_NAME or entry.name.startswith(f".{FILE_NAME}.tmp-")):
                        raise _link_error(entry)
                    if entry.name == FILE_NAME and entry.is_file():
                        found.append(Path(entry.path))
        return sorted(found)

    def days_of(self, shop: str) -> list[date]:
        """The days stored for `shop`, in order."""
        return [date.fromisoformat(path.parent.name.removeprefix("day=")) for path in self.files([shop])]

    def read(self, shops: list[str] | None = None, skip: pl.DataFrame | None = None) -> pl.LazyFrame | None:
        """Every stored day row of `shops` (all shops when None), validated file by file, or
        None when nothing is stored.

        Days in `skip` (shop, day) are not read: this run replaces them, so a damaged file is
        repaired by auditing its day again.
        """
        skipped = set() if skip is None else {self.day_folder(shop, day) for shop, day in skip.select("shop", "day").iter_rows()}
        frames = [self._read_file(path) for path in self.files(shops) if path.parent not in skipped]
        if not frames:
            return None
        return pl.concat(frames, how="vertical").lazy()

    def stored_days(self, covered: pl.DataFrame) -> dict[str, dict[date, int | None]]:
        """The (shop, day) pairs of `covered` that a stored file already holds, by shop, each
        with the export rows it was judged from (None when unknown: stored before that was
        kept, or the file is damaged)."""
        found: dict[str, dict[date, int | None]] = {}
        for shop, day in covered.select("shop", "day").unique().sort("shop", "day").iter_rows():
            path = self.day_folder(shop, day) / FILE_NAME
            if path.exists():
                found.setdefault(shop, {})[day] = self._chat_rows(path)
        return found

    @staticmethod
    def _chat_rows(path: Path) -> int | None:
        try:
            text = pl.read_parquet_metadata(path).get("chat_rows", "")
        except Exception:  # noqa: BLE001 - a damaged file is repaired by this run, not read
            return None
        return int(text) if text.isdigit() else None

    def _read_file(self, path: Path) -> pl.DataFrame:
        try:
            frame = pl.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - any failure to read is reported with the file
            raise HistoryError(
                "error.history_file", path=path, reason=str(exc).splitlines()[0]
            ) from None
        if dict(frame.schema) != STORED_SCHEMA or frame.height and frame["history_version"][0] != HISTORY_VERSION:
            raise HistoryError("error.history_foreign", path=path)
        folder_day = path.parent.name.removeprefix("day=")
        shops = frame["shop"].unique().to_list() if frame.height else []
        misplaced = len(shops) > 1 or (shops and self.shop_folder(shops[0]) != path.parent.parent)
        if frame.height and ((frame["day"].cast(pl.String) != folder_day).any() or misplaced):
            raise HistoryError("error.history_misplaced", path=path)
        return frame

    def write_days(
        self,
        days: pl.DataFrame,
        covered: pl.DataFrame,
        rules_run: set[str],
        ruleset_version: str,
        written_at: datetime,
        chat_rows: dict[tuple[str, date], int] | None = None,
        carried: dict[tuple[str, date], str] | None = None,
    ) -> int:
        """Replace the stored rows of the rules this run judged, for every (shop, day) in
        `covered`, with this run's rows. Rows of rules it did not run (--select, --ignore)
        stay as they were: they were not judged again."""
        stamp = written_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        stored = days.with_columns(
            pl.lit(ruleset_version).alias("ruleset_version"),
            pl.lit(stamp).alias("written_at"),
            pl.lit(HISTORY_VERSION, dtype=pl.Int64).alias("history_version"),
        ).select(list(STORED_SCHEMA))
        written = 0
        for shop, day in covered.select("shop", "day").unique().sort("shop", "day").iter_rows():
            folder = self.day_folder(shop, day)
            rows = stored.filter((pl.col("shop") == shop) & (pl.col("day") == day))
            kept = self._kept_rows(folder / FILE_NAME, rules_run)
            if kept is not None:
                rows = pl.concat([rows, kept], how="vertical")
            metadata = {"ruleset_version": ruleset_version, "written_at": stamp, "shop": shop}
            if chat_rows is not None:
                # The export rows that day came from, for `cservice-audit history`.
                metadata["chat_rows"] = str(chat_rows.get((shop, day), 0))
            if carried and (shop, day) in carried:
                # The questions of the night before this run judged (carry.py), as it read them.
                metadata[CARRIED_KEY] = carried[(shop, day)]
            self._replace(folder, rows, metadata)
            written += 1
        return written

    def read_open(self, shop: str, day: date) -> pl.DataFrame | None:
        """The conversations left open (turns pending) by the run that judged up to `day` for
        `shop` (carry.py), or None. A damaged file stops the run with its name."""
        path = self._no_links(self.day_folder(shop, day) / OPEN_FILE)
        if not path.exists():
            return None
        try:
            return pl.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - any failure to read is reported with the file
            raise HistoryError("error.history_file", path=path, reason=str(exc).splitlines()[0]) from None

    def write_open(self, shop: str, day: date, events: pl.DataFrame | None) -> None:
        """Store `events` as the conversations left open on `day` (none: remove the file).
        They hold chat texts and buyers, unlike the day rows: the file is the owner's only."""
        folder = self.day_folder(shop, day)
        self._no_links(folder / OPEN_FILE)  # a link planted there stops the run, as for the rows
        if events is None or events.is_empty():
            with contextlib.suppress(FileNotFoundError):
                self._no_links(folder / OPEN_FILE).unlink()
            return
        self._replace(folder, events, {"shop": shop}, name=OPEN_FILE, mode=0o600)

    def carried_turns(self, shop: str, day: date) -> set[str] | None:
        """The held-over questions the run that stored (shop, day) judged (carry.py's keys),
        or None when that day is not stored."""
        path = self._no_links(self.day_folder(shop, day) / FILE_NAME)
        if not path.exists():
            return None
        try:
            text = pl.read_parquet_metadata(path).get(CARRIED_KEY, "[]")
            return set(json.loads(text))
        except Exception:  # noqa: BLE001 - a damaged file read nothing: its day is audited again
            return set()

    def _kept_rows(self, path: Path, rules_run: set[str]) -> pl.DataFrame | None:
        """The rows of a stored day for rules this run did not judge; none if the file is
        missing or damaged (auditing the day again is how a damaged file is repaired)."""
        if not self._no_links(path).exists():
            return None
        try:
            return self._read_file(path).filter(~pl.col("rule").is_in(list(rules_run)))
        except HistoryError:
            return None

    def days_elsewhere(self, shop: str) -> dict[str, int]:
        """Stored days of `shop` under each other platform, when this platform has none of
        it: a shop audited nightly as kuaishou, now run with `-p douyin`, is most likely the
        wrong --platform (its export looks the same), and the run would start a second
        history of it under the wrong rules (audit notes it)."""
        if any(True for _ in _subfolders(self.folder, "shop=", {self.shop_folder(shop).name})):
            return {}
        found: dict[str, int] = {}
        for platform in _entries(self.root):
            if platform.name == self.folder.name or not _PLATFORM_ID.match(platform.name):
                continue
            if platform.is_symlink() or not platform.is_dir():
                continue
            other = HistoryStore(self.root, platform.name)
            shop_folders = _subfolders(other.folder, "shop=", {other.shop_folder(shop).name})
            days = [day for folder in shop_folders for day in _subfolders(folder, "day=")]
            if days:
                found[platform.name] = len(days)
        return dict(sorted(found.items()))

    def shop_folder(self, shop: str) -> Path:
        return self.folder / f"shop={shop_folder_name(shop)}"

    def day_folder(self, shop: str, day: date) -> Path:
        return self.shop_folder(shop) / f"day={day.isoformat()}"

    def _replace(self, folder: Path, rows: pl.DataFrame, metadata: dict[str, str], name: str = FILE_NAME, mode: int = 0o644) -> None:
        temporary = folder / f".{name}.tmp-{os.getpid()}"
        try:
            self._mkdirs(folder)
            # Temporary files of runs that were killed mid-write (harmless, never read) go now;
            # unlinking a link removes the link, never its target.
            for stale in folder.glob(f".{name}.tmp-*"):
                stale.unlink(missing_ok=True)
            # Created here, exclusively and without following a link, before polars writes it.
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode))
            # The version and time also go in the file's metadata, so a day with nothing to
            # count (no rows) still says which ruleset judged it and when.
            rows.write_parquet(temporary, metadata=metadata)
            with open(temporary, "rb") as fh:
                os.fsync(fh.fileno())
            check_stopped()  # a stopped run stores nothing
            os.replace(temporary, folder / name)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise HistoryError("error.history_write", path=folder, reason=os_reason(exc)) from None
        finally:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)

    def listing(self) -> pl.DataFrame:
        """One row per stored shop and day: the export rows it came from (`chat_rows`; null for
        days stored before that was kept), stored rows, ruleset version, when it was written."""
        entries = []
        for path in self.files():
            frame = self._read_file(path)
            metadata = pl.read_parquet_metadata(path)
            entries.append(
                {
                    "shop": metadata.get("shop") or unquote(path.parent.parent.name.removeprefix("shop=")),
                    "day": date.fromisoformat(path.parent.name.removeprefix("day=")),
                    "chat_rows": self._chat_rows(path),
                    "rows": frame.height,
                    "ruleset_version": metadata.get("ruleset_version"),
                    "written_at": metadata.get("written_at"),
                }
            )
        schema = {"shop": pl.String, "day": pl.Date, "chat_rows": pl.Int64, "rows": pl.Int64, "ruleset_version": pl.String, "written_at": pl.String}
        return pl.DataFrame(entries, schema=schema).sort("shop", "day")

    def prune(self, before: date) -> int:
        """Remove stored days before `before`; returns how many."""
        removed = 0
        for path in self.files():
            if date.fromisoformat(path.parent.name.removeprefix("day=")) < before:
                self._no_links(path).unlink()
                self._no_links(path.parent / OPEN_FILE).unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    path.parent.rmdir()
                removed += 1
        return removed


_PLATFORM_ID = re.compile(r"^[a-z0-9_-]{1,64}\Z")


def _link_error(path: Path | os.DirEntry) -> HistoryError:
    return HistoryError("error.history_link", path=getattr(path, "path", path))


def _subfolders(folder: Path | os.DirEntry, prefix: str, wanted: set[str] | None = None) -> Iterator[os.DirEntry]:
    """The real folders named `prefix`… in `folder` (of `wanted` names only, when given); a
    link among them stops the run, a link among the others is none of this run's business."""
    for entry in _entries(folder):
        if not entry.name.startswith(prefix) or (wanted is not None and entry.name not in wanted):
            continue
        if entry.is_symlink():
            raise _link_error(entry)
        if entry.is_dir():
            yield entry


def _entries(folder: Path | os.DirEntry) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise HistoryError("error.history_read", path=getattr(folder, "path", folder), reason=os_reason(exc)) from None


def _open_no_follow(path: Path, flags: int):
    """A regular file opened (read-write, or read-only with O_RDONLY) without following a
    link (ELOOP names it) and without blocking on a FIFO planted in its place."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _link_error(path) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise HistoryError("error.history_irregular", path=path)
    os.set_blocking(fd, True)
    return os.fdopen(fd, "r" if flags & os.O_ACCMODE == os.O_RDONLY else "a+")


def shop_folder_name(shop: str) -> str:
    """The shop's folder name: %-quoted, or for a long name its quoted start and a hash of
    the whole name, always within file-system limits and the same for the same name."""
    quoted = quote(shop, safe="")
    if len(quoted.encode()) <= SHOP_NAME_BYTES:
        return quoted
    head = quoted[:120]
    head = head[: head.rfind("%")] if "%" in head[-2:] else head  # never cut a %XX escape
    return f"{head}~{hashlib.sha1(shop.encode('utf-8')).hexdigest()}"
