"""Uploaded import files, kept in the instance folder between the dry run and the confirm.

Each file is stored under a random token; the token in the confirm form is checked
against a strict pattern, so it can never name a path outside the folder.
"""

import os
import re
import secrets
import time
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MAX_AGE_SECONDS = 24 * 3600
CHUNK = 1 << 20


class UploadTooLarge(ValueError):
    """The upload exceeds IMPORT_MAX_BYTES."""


def upload_folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _forget_old_uploads(folder: Path) -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for old in folder.glob("*.upload"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)


def save_upload(upload: FileStorage) -> tuple[str, Path]:
    """Copy the upload to disk in chunks; returns (token, path)."""
    folder = upload_folder()
    _forget_old_uploads(folder)
    limit = current_app.config["IMPORT_MAX_BYTES"]
    token = secrets.token_urlsafe(24)
    path = folder / f"{token}.upload"
    written = 0
    with path.open("wb") as out:
        while chunk := upload.stream.read(CHUNK):
            written += len(chunk)
            if written > limit:
                out.close()
                path.unlink(missing_ok=True)
                raise UploadTooLarge(f"the file is larger than {limit // (1024 * 1024)} MB")
            out.write(chunk)
    return token, path


def stored_upload(token: str) -> Path | None:
    """The stored file for ``token``, or None for a bad or expired token."""
    if not TOKEN_PATTERN.match(token or ""):
        return None
    path = upload_folder() / f"{token}.upload"
    return path if path.is_file() else None


def claim_upload(path: Path) -> str | None:
    """Move a stored upload to a new token, for one import job; None when it is gone.

    The rename is atomic, so of two confirms of the same upload (a double click) only one
    gets the file: the other finds it gone and cannot import it a second time.
    """
    token = secrets.token_urlsafe(24)
    claimed = path.with_name(f"{token}.upload")
    try:
        path.rename(claimed)
        # Its age counts from the claim, so clearing old uploads spares a queued import's.
        os.utime(claimed)
    except FileNotFoundError:
        return None
    return token
