"""The backup file: one zip holding ``manifest.json`` and the database's image (SQLite) or dump (PostgreSQL).

The manifest says what the payload is (database kind, schema revision, yuyue
version, time, rows per table) and carries the payload's SHA-256, so a
corrupt, truncated or foreign file is refused before anything is replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = "yuyue-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PAYLOADS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1 << 20

# Called with (bytes done, bytes in all) while a payload is hashed or packed; the CLI draws a bar on a terminal.
Progress = Callable[[int, int], None]


class BackupError(Exception):
    """A backup that cannot be made or a file that cannot be restored; the message is one line an operator can act on."""


@dataclass(frozen=True)
class Manifest:
    database: str
    revision: str | None
    yuyue_version: str
    created_at: str
    tables: dict[str, int]
    payload: str
    sha256: str
    size: int

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "database": self.database,
            "revision": self.revision,
            "yuyue_version": self.yuyue_version,
            "created_at": self.created_at,
            "tables": self.tables,
            "payload": {"name": self.payload, "sha256": self.sha256, "bytes": self.size},
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("not a yuyue backup: its manifest.json is not a yuyue backup manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise BackupError(f"backup format version {data.get('format_version')!r} is not one this yuyue reads ({FORMAT_VERSION})")
        try:
            payload = data["payload"]
            return cls(
                database=data["database"],
                revision=data["revision"],
                yuyue_version=data["yuyue_version"],
                created_at=data["created_at"],
                tables=dict(data["tables"]),
                payload=payload["name"],
                sha256=payload["sha256"],
                size=int(payload["bytes"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise BackupError(f"not a yuyue backup: its manifest lacks {error}") from None


def file_sha256(path: Path, progress: Progress | None = None) -> tuple[str, int]:
    digest, done, total = hashlib.sha256(), 0, path.stat().st_size
    with open(path, "rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return digest.hexdigest(), done


def write_archive(output: Path, manifest: Manifest, payload: Path) -> None:
    """Write the zip beside ``payload`` and move it to ``output`` when complete, so a half-written file never carries the backup's name.

    ``payload``'s folder is on ``output``'s file system (the backup's work
    folder), so the move is one atomic rename; the folder's entry is synced so
    the rename outlives a power cut.
    """
    partial = payload.with_name(output.name)
    compression = zipfile.ZIP_DEFLATED if manifest.database == "sqlite" else zipfile.ZIP_STORED  # a custom dump is compressed already
    try:
        with zipfile.ZipFile(partial, "w", compression=compression, allowZip64=True) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest.as_json(), indent=2, sort_keys=True))
            archive.write(payload, manifest.payload)
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    folder = os.open(output.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


@contextmanager
def open_archive(path: Path, what: str) -> Iterator[tuple[zipfile.ZipFile, Any]]:
    """Open the zip at ``path`` and read its ``manifest.json``: a backup and a tenant export are opened alike.

    ``what`` names the kind of file in the errors ("a yuyue backup", "a tenant
    export"); a missing, foreign, truncated or damaged file is a one-line
    :class:`BackupError`. Yields the open zip and the manifest as parsed JSON.
    """
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise BackupError(f"{path} is not {what}, or it is truncated ({error})") from None
    with archive:
        try:
            raw = archive.read(MANIFEST)
        except KeyError:
            raise BackupError(f"{path} is not {what}: it has no {MANIFEST}") from None
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
            raise BackupError(f"{path} is not {what}, or it is truncated ({error})") from None
        try:
            manifest = json.loads(raw)
        except ValueError:
            raise BackupError(f"{path} is not {what}: its {MANIFEST} is not JSON") from None
        yield archive, manifest


def read_manifest(path: Path) -> Manifest:
    """The manifest of backup ``path``; a file that is no backup (or a truncated one) is a :class:`BackupError`."""
    with open_archive(path, "a yuyue backup") as (_, manifest):
        return Manifest.from_json(manifest)


def extract_payload(path: Path, manifest: Manifest, target: Path, progress: Progress | None = None) -> None:
    """Copy the payload to ``target``, checking its SHA-256 against the manifest on the way."""
    digest, done = hashlib.sha256(), 0
    try:
        with zipfile.ZipFile(path) as archive, archive.open(manifest.payload) as source, open(target, "wb") as out:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, manifest.size)
            out.flush()
            os.fsync(out.fileno())
    except KeyError:
        raise BackupError(f"{path} is corrupt: it has no {manifest.payload}") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
        raise BackupError(f"{path} is corrupt or truncated ({error})") from None
    if digest.hexdigest() != manifest.sha256 or done != manifest.size:
        raise BackupError(f"{path} is corrupt: its database does not match the checksum in its manifest")
