"""Files the tool writes: whole or not at all (spec §10).

Every report, rejects file and export goes to a temporary file beside its target and is
renamed over it, so a run killed or failing mid-write never leaves a truncated report that
would break tomorrow's `--baseline`.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cservice_audit.errors import AuditError, Term, check_stopped, os_reason
from cservice_audit.sanitize import data_on_terminal

# What is written, as the one-line error names it (catalogue words, `file.*`).
WHAT = {"report": "file.report", "items CSV": "file.items_csv", "rejects file": "file.rejects", "file": "file.file", "export": "file.export"}


def atomic_write(path: str | Path, data: str | bytes | Iterable[str], *, what: str = "file", like: Path | None = None) -> None:
    """Write `data` to `path` via a temporary file in the same folder and a rename. `data`
    may come in pieces (a report too big to hold as one string: json_report.render_chunks).
    A new file takes the permissions of `like`, when given and there (an earlier night's
    report written beside the kept one reads as privately as it), else of the umask."""
    what = Term(WHAT[what]) if what in WHAT else what
    target = Path(path)
    if target.is_dir():
        raise AuditError("error.write_folder", path=target, what=what)
    pieces = [data] if isinstance(data, (str, bytes)) else data
    try:
        mode = os.stat(target).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        # A device, FIFO or socket (`-o /dev/null`, `-o /dev/stdout`, a named pipe): write to
        # it. Renaming a temporary file over it would replace the device node itself.
        check_stopped()
        try:
            with open(target, "wb") as out:
                # A terminal (`-o /dev/tty`, `-o /dev/stdout` or `--rejects /dev/stdout` on one) is
                # read by a person: control characters shown as escapes, as on stdout (cli._data_out).
                person = out.isatty()
                for piece in pieces:
                    if isinstance(piece, str):
                        piece = (data_on_terminal(piece) if person else piece).encode("utf-8")
                    out.write(piece)
        except OSError as exc:
            raise AuditError("error.write_file", path=target, what=what, reason=os_reason(exc)) from None
        return
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise AuditError("error.write_file", path=target, what=what, reason=os_reason(exc)) from None
    try:
        with os.fdopen(handle, "wb") as out:
            for piece in pieces:
                out.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            out.flush()
            os.fsync(out.fileno())
        if target.exists():
            # Keep the permissions of the file being replaced (a report others read).
            os.chmod(temporary, target.stat().st_mode & 0o7777)
        elif like is not None and like.exists():
            os.chmod(temporary, like.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        check_stopped()  # a stopped run publishes nothing
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise AuditError("error.write_file", path=target, what=what, reason=os_reason(exc)) from None
    except BaseException:
        # A piece that failed to render, Ctrl-C: no half-written temporary file is left.
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_path(path: str | Path, *, what: str = "file") -> Iterator[Path]:
    """A temporary path beside `path` for a writer that wants a file name (polars' writers,
    for exports too big to hold as bytes); renamed over `path` when the block succeeds,
    removed when it fails, so a killed or failing write never leaves half a file."""
    what = Term(WHAT[what]) if what in WHAT else what
    target = Path(path)
    if target.is_dir():
        raise AuditError("error.write_folder", path=target, what=what)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise AuditError("error.write_file", path=target, what=what, reason=os_reason(exc)) from None
    os.close(handle)
    try:
        yield Path(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, (target.stat().st_mode & 0o7777) if target.exists() else 0o666 & ~umask)
        check_stopped()  # a stopped run publishes nothing
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
