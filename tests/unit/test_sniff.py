"""What a file really is: real file headers built here with the standard library."""

from __future__ import annotations

import gzip
import io
import struct
import unicodedata
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bugline.storage.sniff import (
    ALLOWED_TYPES,
    SNIFF_BYTES,
    Sniffed,
    matches_declared,
    safe_filename,
    sniff,
)

# --- Real files -------------------------------------------------------------------------------------


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def make_png(width: int = 2, height: int = 2, text: bytes = b"") -> bytes:
    """A valid RGB PNG; ``text`` goes into a tEXt chunk (where polyglots hide payloads)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    chunks = _png_chunk(b"IHDR", header)
    if text:
        chunks += _png_chunk(b"tEXt", b"Comment\x00" + text)
    chunks += _png_chunk(b"IDAT", zlib.compress(rows)) + _png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


# SOI, then an APP0 JFIF segment (length 16, version 1.1, no density units, 1x1, no thumbnail),
# then a quantisation table marker and EOI.
JPEG_JFIF = (
    b"\xff\xd8"
    + b"\xff\xe0"
    + struct.pack(">H", 16)
    + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\xff\xdb"
    + struct.pack(">H", 67)
    + b"\x00"
    + bytes(range(1, 65))
    + b"\xff\xd9"
)
# What phones write: SOI then APP1 Exif.
JPEG_EXIF = b"\xff\xd8\xff\xe1" + struct.pack(">H", 22) + b"Exif\x00\x00MM\x00*\x00\x00\x00\x08" + bytes(6)


def make_gif(version: bytes = b"89a") -> bytes:
    screen = struct.pack("<HHBBB", 1, 1, 0x80, 0, 0)  # 1x1, global colour table of 2
    palette = b"\x00\x00\x00\xff\xff\xff"
    image = b"," + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return b"GIF" + version + screen + palette + image + b";"


def make_webp() -> bytes:
    # A lossless (VP8L) 1x1 image: signature byte 0x2f, then the packed size and flags.
    payload = b"\x2f\x00\x00\x00\x00\x88\x88\x08\x08"
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload + b"\x00"
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def _ebml(element_id: bytes, payload: bytes) -> bytes:
    assert len(payload) < 127
    return element_id + bytes([0x80 | len(payload)]) + payload


def make_ebml(doctype: bytes = b"webm", long_size: bool = False) -> bytes:
    """An EBML header as MediaRecorder (1-byte size) or mkvmerge (8-byte size) writes it,
    followed by the start of an unknown-size Segment."""
    children = (
        _ebml(b"\x42\x86", b"\x01")  # EBMLVersion
        + _ebml(b"\x42\xf7", b"\x01")  # EBMLReadVersion
        + _ebml(b"\x42\xf2", b"\x04")  # EBMLMaxIDLength
        + _ebml(b"\x42\xf3", b"\x08")  # EBMLMaxSizeLength
        + _ebml(b"\x42\x82", doctype)  # DocType
        + _ebml(b"\x42\x87", b"\x04")  # DocTypeVersion
        + _ebml(b"\x42\x85", b"\x02")  # DocTypeReadVersion
    )
    # 8-byte vint: marker byte 0x01, then the value in the remaining 7 bytes.
    size = b"\x01" + len(children).to_bytes(7, "big") if long_size else bytes([0x80 | len(children)])
    segment = b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff"
    return b"\x1a\x45\xdf\xa3" + size + children + segment


def make_ftyp(major: bytes, *compatible: bytes, minor: int = 0x200) -> bytes:
    """An ISO-BMFF file start: the ftyp box, then a free box and the start of mdat."""
    body = major + struct.pack(">I", minor) + b"".join(compatible)
    ftyp = struct.pack(">I", 8 + len(body)) + b"ftyp" + body
    return ftyp + struct.pack(">I", 8) + b"free" + struct.pack(">I", 1000) + b"mdat" + bytes(32)


def make_pdf() -> bytes:
    """A minimal valid PDF: catalog, pages, one empty page, cross-reference table, trailer."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_zip(entries: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (entries or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def make_pe() -> bytes:
    """The start of a Windows program: MZ header, e_lfanew at 0x3C pointing at "PE\\0\\0"."""
    image = bytearray(0x200)
    image[0:2] = b"MZ"
    image[2:4] = b"\x90\x00"
    image[0x3C:0x40] = struct.pack("<I", 0x80)
    image[0x40:0x4E] = b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
    image[0x4E:0x76] = b"This program cannot be run in DOS mode.\r"
    image[0x80:0x84] = b"PE\x00\x00"
    image[0x84:0x86] = b"\x64\x86"  # x86-64
    return bytes(image)


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + bytes(40)
MACHO_64 = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00\x02\x00\x00\x00" + bytes(48)
MACHO_FAT = b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + bytes(40)

HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>x</title></head><body><script>alert(1)</script></body></html>"
)
SVG_IMAGE = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>'
SVG_ILLUSTRATOR = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b"<!-- Generator: Adobe Illustrator 27.0.0, SVG Export Plug-In . SVG Version: 6.00 Build 0)  -->\n"
    b'<svg version="1.1" id="Layer_1" xmlns="http://www.w3.org/2000/svg" x="0px" y="0px">\n'
    b"<script>alert(document.domain)</script></svg>"
)
SVG_DOCTYPE = (
    b'<?xml version="1.0" standalone="no"?>\n'
    b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
    b'<svg width="10" height="10" xmlns="http://www.w3.org/2000/svg"></svg>'
)

UTF8_BOM = b"\xef\xbb\xbf"

ALLOWED = "allowed"


def ok(content_type: str) -> Sniffed:
    return Sniffed(content_type, True, "")


# (id, head, declared type, file name, expected content type, expected allowed)
CASES: list[tuple[str, bytes, str | None, str | None, str | None, bool]] = [
    # Images
    ("png", make_png(), "image/png", "shot.png", "image/png", True),
    ("jpeg-jfif", JPEG_JFIF, "image/jpeg", "a.jpg", "image/jpeg", True),
    ("jpeg-exif", JPEG_EXIF, None, None, "image/jpeg", True),
    ("gif89a", make_gif(b"89a"), None, None, "image/gif", True),
    ("gif87a", make_gif(b"87a"), None, None, "image/gif", True),
    ("webp", make_webp(), None, None, "image/webp", True),
    ("riff-not-webp", b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(24), None, None, None, False),
    # Video
    ("webm-mediarecorder", make_ebml(b"webm"), "video/webm;codecs=vp9,opus", "rec.webm", "video/webm", True),
    ("webm-mkvmerge-sizes", make_ebml(b"webm", long_size=True), None, None, "video/webm", True),
    ("matroska", make_ebml(b"matroska"), None, "obs.mkv", "video/x-matroska", False),
    ("matroska-long-size", make_ebml(b"matroska", long_size=True), None, None, "video/x-matroska", False),
    ("ebml-magic-only", b"\x1a\x45\xdf\xa3", None, None, "video/webm", True),
    ("ebml-header-cut-short", make_ebml(b"matroska")[:12], None, None, "video/webm", True),
    ("ebml-other-doctype", make_ebml(b"zzzz"), None, None, None, False),
    ("mp4-isom", make_ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), None, None, "video/mp4", True),
    ("mp4-mp42", make_ftyp(b"mp42", b"mp42", b"isom"), None, None, "video/mp4", True),
    ("mp4-m4v", make_ftyp(b"M4V ", b"M4V ", b"M4A ", b"mp42", b"isom"), None, None, "video/mp4", True),
    ("mp4-compatible-only", make_ftyp(b"xyz1", b"xyz1", b"avc1"), None, None, "video/mp4", True),
    (
        "quicktime",
        make_ftyp(b"qt  ", b"qt  ", minor=0x20050300),
        "video/quicktime",
        "a.mov",
        "video/quicktime",
        True,
    ),
    ("heic", make_ftyp(b"heic", b"mif1", b"heic"), None, None, "image/heic", False),
    ("avif", make_ftyp(b"avif", b"avif", b"mif1", b"miaf"), None, None, "image/avif", False),
    ("m4a-audio", make_ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"), None, None, "audio/mp4", False),
    ("ftyp-unknown-brand", make_ftyp(b"zzzz", b"yyyy"), None, None, None, False),
    ("ftyp-bad-size", b"\x00\x00\x00\x04ftypisom" + bytes(20), None, None, None, False),
    # Documents and archives
    ("pdf", make_pdf(), "application/pdf", "invoice.pdf", "application/pdf", True),
    ("zip", make_zip({"logs/app.log": b"hello\n" * 100}), None, "logs.zip", "application/zip", True),
    ("zip-empty", make_zip(), None, None, "application/zip", True),
    ("docx-is-zip", make_zip({"[Content_Types].xml": b"<Types/>"}), None, "a.docx", "application/zip", True),
    ("gzip", gzip.compress(b"line\n" * 1000, mtime=0), None, "app.log.gz", "application/gzip", True),
    ("tar-gz", gzip.compress(bytes(1024), mtime=0), None, "dump.tar.gz", "application/gzip", True),
    ("gzip-unknown-method", b"\x1f\x8b\x07\x00" + bytes(20), None, None, None, False),
    # Executables
    ("windows-exe", make_pe(), "application/octet-stream", "setup.bin", "application/x-msdownload", False),
    ("elf", ELF, None, None, "application/x-elf", False),
    ("mach-o", MACHO_64, None, None, "application/x-mach-binary", False),
    ("mach-o-fat", MACHO_FAT, None, None, "application/x-mach-binary", False),
    ("mz-as-text", b"MZ is the name of our build server; it crashed.\n", None, None, "text/plain", True),
    # Recognised, refused archives and images
    ("7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24), None, None, "application/x-7z-compressed", False),
    ("rar", b"Rar!\x1a\x07\x01\x00" + bytes(24), None, None, "application/vnd.rar", False),
    ("xz", b"\xfd7zXZ\x00\x00\x04" + bytes(24), None, None, "application/x-xz", False),
    ("tiff-le", b"II*\x00\x08\x00\x00\x00" + bytes(24), None, None, "image/tiff", False),
    ("tiff-be", b"MM\x00*\x00\x00\x00\x08" + bytes(24), None, None, "image/tiff", False),
    ("wasm", b"\x00asm\x01\x00\x00\x00", None, None, "application/wasm", False),
    # Unknown binary
    ("all-bytes", bytes(range(256)), None, None, None, False),
    ("zeros", bytes(64), None, None, None, False),
    ("empty", b"", None, None, None, False),
    # Text
    (
        "ascii",
        b"Steps: click Save. Expected: saved. Actual: spinner forever.\n",
        None,
        "a.txt",
        "text/plain",
        True,
    ),
    ("crlf", b"line one\r\nline two\r\n", "text/plain", None, "text/plain", True),
    ("utf8", "naïve café, 日本語, emoji 😀\n".encode(), None, None, "text/plain", True),
    ("utf8-bom", UTF8_BOM + b"hello\n", None, None, "text/plain", True),
    # The head ends in the middle of a 2-byte character: only the start of the file.
    ("utf8-cut-mid-char", ("é" * SNIFF_BYTES).encode()[: SNIFF_BYTES - 1], None, None, "text/plain", True),
    ("utf8-cut-mid-emoji", ("😀" * 10).encode()[:-2], None, None, "text/plain", True),
    (
        "ansi-colours",
        b"\x1b[31mERROR\x1b[0m request failed\n\x1b[33mWARN\x1b[0m retrying\n",
        None,
        None,
        "text/plain",
        True,
    ),
    ("invalid-utf8", b"abc \xff\xfe\xfd def", None, None, None, False),
    ("latin1", "café au lait\n".encode("latin-1"), None, None, None, False),
    ("nul-byte", b"hello\x00world", None, None, None, False),
    ("controls", bytes(range(1, 9)) * 20, None, None, None, False),
    ("not-a-tag-heart", b"<3 this app, but the export button is broken", None, None, "text/plain", True),
    ("not-a-tag-bold-word", b"<bold claim> the export is broken", None, None, "text/plain", True),
    ("not-a-tag-pre", b"<pre-release build 4.2> export broken", None, None, "text/plain", True),
    # Markup in the middle of a log is not a document; only the start counts (WHATWG).
    (
        "html-mid-log",
        b"GET /index.html -> 500, body was <html><script>x</script>",
        None,
        None,
        "text/plain",
        True,
    ),
    ("svg-mid-log", b"warning: <svg> failed to render, retrying\n", None, None, "text/plain", True),
    ("postscript", b"%!PS-Adobe-3.0\n%%Title: x\n", None, None, "text/plain", True),
    # JSON
    ("json-declared", b'{"error": "boom"}', "application/json", "x", "application/json", True),
    ("json-declared-charset", b'{"a": 1}', "Application/JSON; charset=utf-8", None, "application/json", True),
    ("json-declared-suffix", b'{"log": {}}', "application/har+json", None, "application/json", True),
    ("json-array-whitespace", b"  \n\t[1, 2, 3]", None, "data.json", "application/json", True),
    ("json-bom", UTF8_BOM + b'{"a": 1}', None, "DATA.JSON", "application/json", True),
    (
        "har",
        b'{"log": {"version": "1.2", "entries": [{"response": {"content": {"text": "<svg/>"}}}]}}',
        None,
        "network.har",
        "application/json",
        True,
    ),
    ("json-undeclared", b'{"a": 1}', None, None, "text/plain", True),
    ("json-declared-not-json", b"hello", "application/json", "a.json", "text/plain", True),
    # HTML, by the WHATWG patterns, after whitespace and a BOM
    ("html-page", HTML_PAGE, None, None, "text/html", False),
    (
        "html-doctype-upper",
        b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN">',
        None,
        None,
        "text/html",
        False,
    ),
    ("html-leading-whitespace", b"\t\r\n\x0c   <html lang=en>", None, None, "text/html", False),
    ("html-bom", UTF8_BOM + b"<html>", None, None, "text/html", False),
    ("html-newline-after-tag", b"<html\n lang=en>", None, None, "text/html", False),
    ("html-uppercase", b"<HTML><BODY>", None, None, "text/html", False),
    ("html-script", b"<script>alert(1)</script>", None, None, "text/html", False),
    ("html-script-mixed-case", b"<ScRiPt src=//evil.example>", None, None, "text/html", False),
    ("html-iframe", b"<iframe src='//evil.example'>", None, None, "text/html", False),
    ("html-head", b"<head><meta http-equiv=refresh content='0;url=//evil'>", None, None, "text/html", False),
    ("html-body", b"<body onload=alert(1)>", None, None, "text/html", False),
    ("html-comment", b"<!-- saved from url=(0014)about:internet -->", None, None, "text/html", False),
    ("html-p", b"<p>hi", None, None, "text/html", False),
    ("html-a", b"<a href=x>", None, None, "text/html", False),
    ("html-b", b"<b>", None, None, "text/html", False),
    ("html-br", b"<br>", None, None, "text/html", False),
    ("html-h1", b"<h1 class=x>", None, None, "text/html", False),
    ("html-div", b"<div>", None, None, "text/html", False),
    ("html-table", b"<table>", None, None, "text/html", False),
    ("html-style", b"<style>", None, None, "text/html", False),
    ("html-title", b"<title>", None, None, "text/html", False),
    ("html-font", b"<font>", None, None, "text/html", False),
    ("html-tag-at-end-of-head", b"<html", None, None, "text/html", False),
    (
        "xhtml",
        b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><script/></html>',
        None,
        None,
        "application/xhtml+xml",
        False,
    ),
    ("xml", b'<?xml version="1.0"?>\n<note><to>x</to></note>', None, None, "application/xml", False),
    (
        "xml-stylesheet",
        b'<?xml-stylesheet type="text/xsl" href="evil.xsl"?><x/>',
        None,
        None,
        "application/xml",
        False,
    ),
    ("doctype-other", b'<!DOCTYPE note SYSTEM "note.dtd"><note/>', None, None, "application/xml", False),
    # SVG
    ("svg", SVG_IMAGE, None, None, "image/svg+xml", False),
    ("svg-whitespace", b"\n\n   \t" + SVG_IMAGE, None, None, "image/svg+xml", False),
    ("svg-bom", UTF8_BOM + SVG_IMAGE, None, None, "image/svg+xml", False),
    ("svg-uppercase", b"<SVG ONLOAD=alert(1)>", None, None, "image/svg+xml", False),
    ("svg-xml-prolog-comment", SVG_ILLUSTRATOR, None, None, "image/svg+xml", False),
    ("svg-doctype", SVG_DOCTYPE, None, None, "image/svg+xml", False),
    (
        "svg-after-comment",
        b"<!-- icon -->\n<svg><script>x</script></svg>",
        None,
        None,
        "image/svg+xml",
        False,
    ),
    ("svg-declared-png", SVG_IMAGE, "image/png", "cat.png", "image/svg+xml", False),
    # UTF-16 with a BOM (what Windows PowerShell 5 writes): text is text, markup is refused.
    ("utf16le-text", "error: disk full\r\n".encode("utf-16"), None, "log.txt", "text/plain", True),
    ("utf16be-text", b"\xfe\xff" + "error\n".encode("utf-16-be"), None, None, "text/plain", True),
    (
        "utf16le-html",
        b"\xff\xfe" + "<html><script>alert(1)</script>".encode("utf-16-le"),
        None,
        None,
        "text/html",
        False,
    ),
    ("utf16be-html", b"\xfe\xff" + "  <HTML>".encode("utf-16-be"), None, None, "text/html", False),
    ("utf16le-svg", b"\xff\xfe" + SVG_IMAGE.decode().encode("utf-16-le"), None, None, "image/svg+xml", False),
    ("utf16-html-no-bom", "<html>".encode("utf-16-le"), None, None, None, False),
    (
        "utf16-cut-mid-unit",
        ("\xff\xfe".encode("latin-1") + "abc".encode("utf-16-le"))[:-1],
        None,
        None,
        "text/plain",
        True,
    ),
]


@pytest.mark.parametrize(
    ("head", "declared", "filename", "content_type", "allowed"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_sniff(
    head: bytes, declared: str | None, filename: str | None, content_type: str | None, allowed: bool
) -> None:
    result = sniff(head[:SNIFF_BYTES], declared_type=declared, filename=filename)
    assert (result.content_type, result.allowed) == (content_type, allowed)
    if allowed:
        assert result.reason == ""
        assert result.content_type in ALLOWED_TYPES
    else:
        assert result.reason  # always says why, in words


# Polyglots and lies: the bytes decide what a file is; claims can only make it stricter.
POLYGLOTS: list[tuple[str, bytes, str | None, str | None, str | None, bool, str]] = [
    # A PNG carrying a script in a text chunk is still a PNG (served as image/png + nosniff).
    (
        "png-with-script",
        make_png(text=b"<script>alert(1)</script>"),
        "image/png",
        "a.png",
        "image/png",
        True,
        "",
    ),
    ("png-then-html", make_png() + HTML_PAGE, None, None, "image/png", True, ""),
    ("gif-then-html", make_gif() + HTML_PAGE, None, None, "image/gif", True, ""),
    ("pdf-then-html", b"%PDF-1.4\n" + HTML_PAGE, None, None, "application/pdf", True, ""),
    # HTML is HTML whatever it claims to be.
    ("html-declared-png", HTML_PAGE, "image/png", "cat.png", "text/html", False, "HTML"),
    ("html-declared-text", HTML_PAGE, "text/plain", "notes.txt", "text/html", False, "HTML"),
    # Claims of active content refuse even harmless bytes: a download named .html opens in
    # a browser from file://, and a server trusting the declared type would render it.
    ("text-declared-html", b"just words", "text/html; charset=utf-8", None, "text/plain", False, "HTML"),
    ("text-declared-xhtml", b"just words", "application/xhtml+xml", None, "text/plain", False, "HTML"),
    ("text-declared-xml", b"just words", "text/xml", None, "text/plain", False, "XML"),
    ("text-declared-atom", b"just words", "application/atom+xml", None, "text/plain", False, "XML"),
    ("text-declared-svg", b"just words", "image/svg+xml", None, "text/plain", False, "SVG"),
    ("png-declared-svg", make_png(), "image/svg+xml", None, "image/png", False, "SVG"),
    ("png-declared-html", make_png(), "text/html", None, "image/png", False, "HTML"),
    ("png-named-html", make_png(), "image/png", "cat.html", "image/png", False, ".html"),
    ("text-named-htm", b"just words", None, "page.HTM", "text/plain", False, ".htm"),
    ("text-named-xhtml", b"just words", None, "page.xhtml", "text/plain", False, ".xhtml"),
    ("text-named-svg", b"just words", None, "icon.svg", "text/plain", False, "SVG"),
    ("text-named-svg-trailing-dot", b"just words", None, "icon.svg.", "text/plain", False, "SVG"),
    ("zip-named-html", make_zip({"a": b"b"}), None, "x.html", "application/zip", False, ".html"),
    # A double click runs these on Windows whatever the bytes are.
    ("text-named-bat", b"del /s /q C:\\\r\n", None, "notes.bat", "text/plain", False, ".bat"),
    ("text-named-js", b"WScript.Echo('x')", None, "repro.JS", "text/plain", False, ".js"),
    ("png-named-exe", make_png(), None, "C:\\Users\\me\\shot.exe", "image/png", False, ".exe"),
    ("text-named-hta", b"words", None, "a.hta", "text/plain", False, ".hta"),
    ("harmless-double-extension", b"words", None, "notes.html.txt", "text/plain", True, ""),
]


@pytest.mark.parametrize(
    ("head", "declared", "filename", "content_type", "allowed", "reason_word"),
    [case[1:] for case in POLYGLOTS],
    ids=[case[0] for case in POLYGLOTS],
)
def test_polyglots_and_claims(
    head: bytes,
    declared: str | None,
    filename: str | None,
    content_type: str | None,
    allowed: bool,
    reason_word: str,
) -> None:
    result = sniff(head[:SNIFF_BYTES], declared_type=declared, filename=filename)
    assert (result.content_type, result.allowed) == (content_type, allowed)
    assert reason_word in result.reason


def test_reasons_are_plain_words() -> None:
    assert sniff(SVG_IMAGE).reason == (
        "SVG images can carry scripts and are not accepted; please send a PNG or JPEG instead"
    )
    assert sniff(b"").reason == "The file is empty"
    assert "Programs" in sniff(make_pe()).reason
    assert "Matroska" in sniff(make_ebml(b"matroska")).reason


def test_only_the_head_is_considered() -> None:
    # Whatever comes after SNIFF_BYTES (here a NUL and a script) is not looked at.
    head = b"a" * SNIFF_BYTES + b"\x00<script>"
    assert sniff(head) == ok("text/plain")


def test_head_accepts_bytes_like() -> None:
    assert sniff(bytearray(make_png())) == ok("image/png")
    assert sniff(memoryview(make_pdf())) == ok("application/pdf")


# --- matches_declared -------------------------------------------------------------------------------

MATCHES: list[tuple[str, str | None, bool]] = [
    ("image/png", "image/png", True),
    ("image/png", "IMAGE/PNG; foo=bar", True),
    ("image/jpeg", "image/jpg", True),
    ("image/jpeg", "image/pjpeg", True),
    ("image/png", "image/x-png", True),
    # One image type declared for another is a mismatch the caller reports.
    ("image/jpeg", "image/png", False),
    ("image/png", "image/gif", False),
    ("image/webp", "image/png", False),
    # Nothing or a generic type declared: anything allowed matches.
    ("image/png", None, True),
    ("image/png", "", True),
    ("application/pdf", "application/octet-stream", True),
    ("video/webm", "Application/Octet-Stream; x=y", True),
    ("text/html", None, False),
    ("image/svg+xml", "application/octet-stream", False),
    # Same container, different name.
    ("video/webm", "video/x-matroska", True),
    ("video/webm", "video/webm;codecs=vp9,opus", True),
    ("video/webm", "audio/webm", True),
    ("video/mp4", "video/quicktime", True),
    ("video/quicktime", "video/mp4", True),
    ("video/mp4", "video/x-m4v", True),
    ("video/mp4", "video/webm", False),
    ("video/webm", "video/mp4", False),
    # Text is text.
    ("application/json", "text/plain", True),
    ("application/json", "text/plain; charset=UTF-8", True),
    ("application/json", "application/json", True),
    ("application/json", "application/har+json", True),
    ("text/plain", "application/json", True),
    ("text/plain", "text/csv", True),
    ("text/plain", "text/x-log", True),
    ("text/plain", "text/markdown", True),
    ("text/plain", "text/javascript", True),
    ("text/plain", "text/html", False),
    ("text/plain", "application/xhtml+xml", False),
    ("text/plain", "image/svg+xml", False),
    ("text/plain", "text/xml", False),
    ("text/plain", "image/png", False),
    ("image/png", "text/plain", False),
    # Archives under their many names.
    ("application/zip", "application/x-zip-compressed", True),
    ("application/zip", "application/x-zip", True),
    ("application/zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", True),
    ("application/zip", "application/vnd.oasis.opendocument.text", True),
    ("application/zip", "application/epub+zip", True),
    ("application/zip", "application/gzip", False),
    ("application/gzip", "application/x-gzip", True),
    ("application/gzip", "application/x-compressed-tar", True),
    ("application/pdf", "application/x-pdf", True),
    ("application/pdf", "text/plain", False),
]


@pytest.mark.parametrize(("sniffed", "declared", "expected"), MATCHES)
def test_matches_declared(sniffed: str, declared: str | None, expected: bool) -> None:
    assert matches_declared(sniffed, declared) is expected


# --- safe_filename ----------------------------------------------------------------------------------

FILENAMES: list[tuple[str, str, str]] = [
    ("traversal", "../../etc/passwd", "passwd"),
    ("windows-path", "C:\\evil\\a.exe", "a.exe"),
    ("mixed-separators", "a/b\\c/d.txt", "d.txt"),
    ("unc-path", "\\\\server\\share\\x.log", "x.log"),
    ("trailing-separator", "dir/", "file"),
    ("only-separator", "/", "file"),
    ("dotdot", "..", "file"),
    ("dots", "...", "file"),
    ("empty", "", "file"),
    ("spaces", "   ", "file"),
    ("plain", "screenshot 2024-05-01.png", "screenshot 2024-05-01.png"),
    ("hidden", ".bashrc", "bashrc"),
    ("hidden-many-dots", "...env", "env"),
    ("trailing-dots-and-spaces", "report.pdf. . ", "report.pdf"),
    ("con", "con", "_con"),
    ("con-txt", "con.txt", "_con.txt"),
    ("con-upper", "CON.TXT", "_CON.TXT"),
    ("con-multi-ext", "con.tar.gz", "_con.tar.gz"),
    ("con-space", "con .txt", "_con .txt"),
    ("prn", "prn.log", "_prn.log"),
    ("aux", "AUX", "_AUX"),
    ("nul", "nul.json", "_nul.json"),
    ("com1", "COM1.txt", "_COM1.txt"),
    ("lpt9", "lpt9", "_lpt9"),
    ("com-superscript", "COM¹.txt", "_COM¹.txt"),
    ("not-reserved-console", "console.txt", "console.txt"),
    ("not-reserved-com10", "com10.txt", "com10.txt"),
    ("not-reserved-connect", "connect.txt", "connect.txt"),
    ("nul-and-controls", "a\x00b\x01c\x7f\x9bd\x1b.txt", "abcd.txt"),
    ("separator-controls-are-spaces", "a\x1fb\x85c.txt", "a b c.txt"),
    ("newlines", "two\nlines\r\n.txt", "two lines .txt"),
    ("collapse-whitespace", "my   file\t\tname .txt", "my file name .txt"),
    ("unicode-whitespace", "a\u00a0\u2003b.txt", "a b.txt"),
    # U+202E RIGHT-TO-LEFT OVERRIDE would display "invoice\u202excod.exe" as "invoiceexe.docx".
    ("rtl-override", "invoice\u202excod.exe", "invoicexcod.exe"),
    ("zero-width", "pay\u200bpal.pdf", "paypal.pdf"),
    ("windows-forbidden", 'a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
    ("ntfs-stream", "file.txt:hidden", "file.txt_hidden"),
    ("unicode", "Отчёт об ошибке 日本語 😀.txt", "Отчёт об ошибке 日本語 😀.txt"),  # noqa: RUF001
    ("nfc", unicodedata.normalize("NFD", "résumé.pdf"), "résumé.pdf"),
]


@pytest.mark.parametrize(
    ("name", "expected"), [case[1:] for case in FILENAMES], ids=[case[0] for case in FILENAMES]
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_long_name_keeps_extension() -> None:
    result = safe_filename("a" * 500 + ".png")
    assert len(result) == 200
    assert result == "a" * 196 + ".png"


def test_long_name_with_path_and_extension() -> None:
    result = safe_filename("../" * 100 + "b" * 300 + ".tar.gz")
    assert len(result) == 200
    assert result.endswith(".gz")


def test_long_name_without_extension() -> None:
    assert safe_filename("x" * 500) == "x" * 200


def test_long_extension_is_not_an_extension() -> None:
    result = safe_filename("name." + "e" * 300)
    assert len(result) == 200
    assert result.startswith("name.")


def test_long_unicode_name_fits_255_bytes() -> None:
    result = safe_filename("日本" * 300 + ".txt")
    assert result.endswith(".txt")
    assert len(result) <= 200
    assert len(result.encode("utf-8")) <= 255


def test_truncation_does_not_leave_a_trailing_dot() -> None:
    result = safe_filename("a" + "." * 300 + "txt")
    assert result == "a.txt"


def test_fallback() -> None:
    assert safe_filename("", fallback="upload.bin") == "upload.bin"
    assert safe_filename("../", fallback="../x.log") == "x.log"
    assert safe_filename("", fallback="") == "file"
    assert safe_filename("..", fallback="...") == "file"


# --- Properties ------------------------------------------------------------------------------------

SIGNATURES = [
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF89a",
    b"RIFF\x00\x00\x00\x00WEBP",
    b"\x1a\x45\xdf\xa3",
    b"\x00\x00\x00\x18ftyp",
    b"%PDF-",
    b"PK\x03\x04",
    b"\x1f\x8b\x08",
    b"MZ",
    b"\x7fELF",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"<?xml",
    b"<svg",
    b"<html",
]


@settings(max_examples=500, deadline=None)
@given(
    head=st.binary(max_size=SNIFF_BYTES + 100)
    | st.builds(lambda sig, rest: sig + rest, st.sampled_from(SIGNATURES), st.binary(max_size=300)),
    declared=st.none() | st.text(max_size=40) | st.sampled_from([*sorted(ALLOWED_TYPES), "text/html"]),
    filename=st.none() | st.text(max_size=40),
)
def test_sniff_never_raises(head: bytes, declared: str | None, filename: str | None) -> None:
    result = sniff(head, declared_type=declared, filename=filename)
    if result.allowed:
        assert result.content_type in ALLOWED_TYPES
        assert result.reason == ""
    else:
        assert result.reason
    # The verdict on the bytes never gets laxer because of the claims.
    if not sniff(head).allowed:
        assert not result.allowed


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=1500))
def test_utf8_text_is_text_or_refused_markup(text: str) -> None:
    result = sniff(text.encode("utf-8"))
    assert result.content_type in {
        "text/plain",
        "text/html",
        "image/svg+xml",
        "application/xml",
        "application/xhtml+xml",
        None,  # mostly control characters, or NUL
        # A few text prefixes are also signatures.
        "image/gif",
        "application/pdf",
        "application/x-msdownload",
        "image/tiff",
    }


@settings(max_examples=500, deadline=None)
@given(name=st.text(max_size=600), fallback=st.text(max_size=20))
def test_safe_filename_properties(name: str, fallback: str) -> None:
    result = safe_filename(name, fallback=fallback)
    assert result
    assert len(result) <= 200
    assert len(result.encode("utf-8")) <= 255
    assert "/" not in result and "\\" not in result
    assert not any(unicodedata.category(char) in ("Cc", "Cf") for char in result)
    assert not result.startswith((".", " "))
    assert not result.endswith((".", " "))
    assert result == result.strip()
    assert safe_filename(result) == result  # stable: cleaning a clean name changes nothing
