"""Static files under content-hashed names (`ocv.3f9a1c2b7d4e.css`), cached for a year as
immutable: a repeat visit asks for none of them, and a changed file gets a new name.

`url_for('static', filename='ocv.css')` gives the hashed name by itself, so templates name
files as they are. The plain name is still served, revalidated on every use. Files are read
once at startup (restart the server after editing one), kept in memory and gzipped there,
beside the file as it is."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, request

from ocv.compression import COMPRESSIBLE, accepts_gzip

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class Asset:
    hashed_name: str
    body: bytes
    gzipped: bytes | None  # None when gzip would not make it smaller
    mimetype: str
    etag: str


def hashed_name(filename: str, digest: str) -> str:
    """`css/ocv.css` → `css/ocv.<digest>.css`."""
    path = Path(filename)
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def _load(folder: Path, path: Path) -> Asset:
    body = path.read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:12]
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    gzipped = gzip.compress(body, compresslevel=9, mtime=0) if mimetype in COMPRESSIBLE else None
    return Asset(
        hashed_name=hashed_name(path.relative_to(folder).as_posix(), digest),
        body=body,
        gzipped=gzipped if gzipped is not None and len(gzipped) < len(body) else None,
        mimetype=mimetype,
        etag=digest,
    )


class Assets:
    def __init__(self, folder: Path) -> None:
        self.by_name = {
            path.relative_to(folder).as_posix(): _load(folder, path)
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
        self.by_hashed_name = {asset.hashed_name: asset for asset in self.by_name.values()}

    def url_name(self, filename: str) -> str:
        asset = self.by_name.get(filename)
        return asset.hashed_name if asset else filename

    def serve(self, filename: str) -> Response:
        asset = self.by_hashed_name.get(filename)
        cache = IMMUTABLE
        if asset is None:
            asset = self.by_name.get(filename)
            cache = REVALIDATE
        if asset is None:
            abort(404)
        use_gzip = asset.gzipped is not None and accepts_gzip()
        response = Response(asset.gzipped if use_gzip else asset.body, mimetype=asset.mimetype)
        if use_gzip:
            response.headers["Content-Encoding"] = "gzip"
        if asset.gzipped is not None:
            response.vary.add("Accept-Encoding")
        response.headers["Cache-Control"] = cache
        response.set_etag(asset.etag + ("-gz" if use_gzip else ""))
        response.make_conditional(request)  # 304 for a copy the client has
        return response


def init_assets(app: Flask) -> None:
    if app.static_folder is None:
        return
    assets = Assets(Path(app.static_folder))
    app.view_functions["static"] = assets.serve

    @app.url_defaults
    def _hashed_static_names(endpoint: str, values: dict[str, Any]) -> None:
        # url_for('static', filename=...) builds the URL from these values: swap the name.
        if endpoint == "static" and "filename" in values:
            values["filename"] = assets.url_name(values["filename"])
