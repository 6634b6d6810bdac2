"""What an uploaded file really is, from its first bytes, and whether attachments may be it.

Pure functions, no I/O. The declared Content-Type and the file name come from the
reporter's browser, i.e. from anyone, so they only ever make a verdict stricter: the bytes
decide what a file is, and a name or declared type that a browser would treat as active
content (HTML, SVG, XML) refuses the file whatever the bytes are.

The rule behind the refusals: an attachment is later opened by an engineer, from our
origin or from their Downloads folder. Anything a browser may render as a document with
scripts (HTML, SVG, XML/XSLT) would run with our origin's or ``file://`` privileges, and
anything the OS may run on a double click is an executable. Neither is accepted. Serving
must still send ``X-Content-Type-Options: nosniff`` and the sniffed type, never the declared
one; this module is the first of two locks.
"""

from __future__ import annotations

import codecs
import re
import struct
import unicodedata
from dataclasses import dataclass
from typing import Final

__all__ = [
    "ALLOWED_TYPES",
    "SNIFF_BYTES",
    "Sniffed",
    "matches_declared",
    "safe_filename",
    "sniff",
]

# How many leading bytes callers must pass (fewer only when the file is shorter). Enough
# for every signature below, for the DocType of a WebM header and the compatible brands of
# an MP4 ftyp box, and for the WHATWG HTML patterns after leading whitespace.
SNIFF_BYTES: int = 4096

ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "video/webm",
        "video/mp4",
        "video/quicktime",
        "application/pdf",
        "text/plain",
        "application/json",
        "application/zip",
        "application/gzip",
    }
)


@dataclass(frozen=True, slots=True)
class Sniffed:
    """The verdict on a file's leading bytes.

    content_type: what the bytes are; None when we don't recognise them.
    allowed: whether attachments may be this.
    reason: why not, in plain words for the reporter; "" when allowed.
    """

    content_type: str | None
    allowed: bool
    reason: str


# ---------------------------------------------------------------------------------------------
# Reasons, worded for the person uploading
# ---------------------------------------------------------------------------------------------

REASON_EMPTY: Final = "The file is empty"
REASON_UNKNOWN: Final = "We could not recognise this type of file, so it is not accepted"
REASON_SVG: Final = "SVG images can carry scripts and are not accepted; please send a PNG or JPEG instead"
REASON_HTML: Final = (
    "Web pages (HTML) can carry scripts and are not accepted; please send a screenshot or a PDF"
)
REASON_XML: Final = "XML files can be displayed with scripts by browsers and are not accepted"
REASON_EXECUTABLE: Final = "Programs are not accepted"
REASON_DECLARED_MARKUP: Final = (
    "Files sent as web pages (HTML or XML) can carry scripts and are not accepted; "
    "please send a screenshot, a PDF or plain text"
)


def _reason_name(extension: str) -> str:
    return (
        f"Files named .{extension} would open as a web page or run as a program on the "
        "engineer's computer and are not accepted; please rename the file to .txt"
    )


def _reason_type(label: str) -> str:
    return f"{label} are not accepted"


# ---------------------------------------------------------------------------------------------
# Binary signatures
# ---------------------------------------------------------------------------------------------

# Fixed signatures at offset 0: (prefix, content type, label for refusals or "").
# PNG: https://www.w3.org/TR/png-3/#5PNG-file-signature
# JPEG: SOI marker FFD8 followed by the next marker's FF, as the WHATWG sniffing table does.
#   https://mimesniff.spec.whatwg.org/#matching-an-image-type-pattern
# GIF: https://www.w3.org/Graphics/GIF/spec-gif89a.txt ("GIF87a" / "GIF89a")
# PDF: ISO 32000 7.5.2, "%PDF-" at the start (the WHATWG table agrees).
# ZIP: local file header PK\3\4, or the end-of-central-directory record PK\5\6 that is all
#   an empty archive contains. https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT
# GZIP: ID1 ID2 and CM=8 (deflate, the only method defined). https://www.rfc-editor.org/rfc/rfc1952
_SIGNATURES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),
    (b"\x1f\x8b\x08", "application/gzip"),
)

# Recognised so the refusal can say what the file is; none of these is allowed.
# 7z: 7zFormat.txt in the 7-Zip sources; RAR: "Rar!\x1a\x07" https://www.rarlab.com/technote.htm ;
# xz: https://tukaani.org/xz/xz-file-format.txt ; TIFF: "II*\0" / "MM\0*" (TIFF 6.0 section 2);
# WebAssembly: "\0asm" https://webassembly.github.io/spec/core/binary/modules.html#binary-module
_REFUSED_SIGNATURES: Final[tuple[tuple[bytes, str, str], ...]] = (
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed", "7-Zip archives"),
    (b"Rar!\x1a\x07", "application/vnd.rar", "RAR archives"),
    (b"\xfd7zXZ\x00", "application/x-xz", "XZ archives"),
    (b"II*\x00", "image/tiff", "TIFF images"),
    (b"MM\x00*", "image/tiff", "TIFF images"),
    (b"\x00asm", "application/wasm", "WebAssembly modules"),
)

# Executables. ELF: "\x7fELF" (System V ABI). Mach-O: 32/64-bit magic in either byte order,
# and the "fat" universal header CAFEBABE (which Java class files share: refused either way).
# https://github.com/apple-oss-distributions/xnu/blob/main/EXTERNAL_HEADERS/mach-o/loader.h
_EXECUTABLE_SIGNATURES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\x7fELF", "application/x-elf"),
    (b"\xfe\xed\xfa\xce", "application/x-mach-binary"),
    (b"\xfe\xed\xfa\xcf", "application/x-mach-binary"),
    (b"\xce\xfa\xed\xfe", "application/x-mach-binary"),
    (b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
    (b"\xca\xfe\xba\xbe", "application/x-mach-binary"),
)


def _is_dos_executable(head: bytes) -> bool:
    """Windows/DOS programs start with "MZ". Their header always holds NUL bytes (the
    e_lfanew field and padding) in its first 64 bytes, which tells them from a text file
    that merely begins with the letters "MZ".
    https://learn.microsoft.com/en-us/windows/win32/debug/pe-format#ms-dos-stub-image-only
    """
    return head.startswith(b"MZ") and b"\x00" in head[:64]


def _is_webp(head: bytes) -> bool:
    # RIFF container: "RIFF", 4-byte little-endian size, form type "WEBP".
    # https://developers.google.com/speed/webp/docs/riff_container
    return len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP"


_EBML_MAGIC: Final = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE_ID: Final = b"\x42\x82"


def _read_vint(data: bytes, pos: int) -> tuple[int, int] | None:
    """An EBML variable-size integer at ``pos``: (value, position after it), or None.

    The count of leading zero bits in the first byte is the count of extra bytes; the
    marker bit itself is not part of the value. https://www.rfc-editor.org/rfc/rfc8794#section-4
    """
    if pos >= len(data):
        return None
    first = data[pos]
    if first == 0:
        return None  # longer than 8 bytes: not allowed for element sizes we care about
    length = 8 - first.bit_length() + 1
    if pos + length > len(data):
        return None
    value = first & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, pos + length


def _ebml_doctype(head: bytes) -> str | None:
    """The DocType string ("webm" or "matroska") of an EBML header, when the head holds it.

    The EBML header (ID 1A45DFA3) is a master element whose children include DocType
    (ID 4282). https://www.rfc-editor.org/rfc/rfc8794#section-11.2.6
    Its children are walked by ID and size rather than searched for, so that payload bytes
    that happen to contain 42 82 can't fool it.
    """
    header = _read_vint(head, len(_EBML_MAGIC))
    if header is None:
        return None
    header_size, pos = header
    end = min(len(head), pos + header_size)
    while pos < end:
        # Element IDs are vints that keep their marker bits; the children of the EBML
        # header all have 1- or 2-byte IDs.
        id_length = 8 - head[pos].bit_length() + 1 if head[pos] else 9
        if id_length > 4 or pos + id_length > end:
            return None
        element_id = head[pos : pos + id_length]
        size = _read_vint(head, pos + id_length)
        if size is None:
            return None
        element_size, data_start = size
        if element_id == _EBML_DOCTYPE_ID:
            value = head[data_start : data_start + element_size]
            if len(value) != element_size:
                return None
            return value.rstrip(b"\x00").decode("ascii", "replace").lower()
        pos = data_start + element_size
    return None


# ISO base media file format: the first box is "ftyp" (size, "ftyp", major brand, minor
# version, compatible brands...). ISO/IEC 14496-12 4.3; the WHATWG "matches the signature
# for MP4" algorithm reads it the same way. https://mimesniff.spec.whatwg.org/#signature-for-mp4
# QuickTime's brand is "qt  " (Apple's QuickTime File Format, "File type compatibility
# atom": https://developer.apple.com/documentation/quicktime-file-format).
_MP4_BRANDS: Final = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"M4V ",
        b"M4VH",
        b"M4VP",
        b"dash",
        b"MSNV",
    }
)
_QUICKTIME_BRAND: Final = b"qt  "
# Same container, but not video we take: named so the refusal can say what it is.
# HEIF/AVIF: https://www.iana.org/assignments/media-types/image/heif ; M4A is audio.
_OTHER_BRANDS: Final[dict[bytes, tuple[str, str]]] = {
    b"heic": ("image/heic", "HEIC images"),
    b"heix": ("image/heic", "HEIC images"),
    b"mif1": ("image/heif", "HEIF images"),
    b"msf1": ("image/heif", "HEIF images"),
    b"avif": ("image/avif", "AVIF images"),
    b"avis": ("image/avif", "AVIF images"),
    b"M4A ": ("audio/mp4", "Audio files"),
    b"M4B ": ("audio/mp4", "Audio files"),
}


def _iso_bmff(head: bytes) -> Sniffed | None:
    """Sniffed for a head starting with an ftyp box, None when it doesn't."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    (box_size,) = struct.unpack(">I", head[:4])
    if box_size < 12:
        return None  # shorter than size + type + major brand: not an ftyp box
    major = head[8:12]
    compatible_end = min(len(head), box_size)
    compatible = [head[i : i + 4] for i in range(16, compatible_end - 3, 4)]
    # The major brand says what the file is; compatible brands are a fallback, because
    # e.g. an M4A (audio) also lists "isom" among them.
    for brand in (major, *compatible):
        if brand == _QUICKTIME_BRAND:
            return Sniffed("video/quicktime", True, "")
        if brand in _MP4_BRANDS:
            return Sniffed("video/mp4", True, "")
        if brand in _OTHER_BRANDS:
            content_type, label = _OTHER_BRANDS[brand]
            return Sniffed(content_type, False, _reason_type(label))
    return Sniffed(None, False, REASON_UNKNOWN)


def _binary(head: bytes) -> Sniffed | None:
    """Sniffed for a recognised binary signature, None when there is none."""
    for prefix, content_type in _SIGNATURES:
        if head.startswith(prefix):
            return Sniffed(content_type, True, "")
    if _is_webp(head):
        return Sniffed("image/webp", True, "")
    if head.startswith(_EBML_MAGIC):
        # Matroska and WebM share the EBML container; WebM is the subset browsers record
        # (MediaRecorder) and play. A head too short to show the DocType is taken as WebM.
        # https://www.matroska.org/technical/elements.html ; https://www.webmproject.org/docs/container/
        doctype = _ebml_doctype(head)
        if doctype is None or doctype == "webm":
            return Sniffed("video/webm", True, "")
        if doctype == "matroska":
            return Sniffed(
                "video/x-matroska",
                False,
                "Matroska (.mkv) videos are not accepted; please send WebM or MP4",
            )
        return Sniffed(None, False, REASON_UNKNOWN)
    iso = _iso_bmff(head)
    if iso is not None:
        return iso
    for prefix, content_type in _EXECUTABLE_SIGNATURES:
        if head.startswith(prefix):
            return Sniffed(content_type, False, REASON_EXECUTABLE)
    if _is_dos_executable(head):
        return Sniffed("application/x-msdownload", False, REASON_EXECUTABLE)
    for prefix, content_type, label in _REFUSED_SIGNATURES:
        if head.startswith(prefix):
            return Sniffed(content_type, False, _reason_type(label))
    return None


# ---------------------------------------------------------------------------------------------
# Text, and markup a browser would render
# ---------------------------------------------------------------------------------------------

_UTF8_BOM: Final = b"\xef\xbb\xbf"
_UTF16_BOMS: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)

# WHATWG "identifying a resource with an unknown MIME type": after leading whitespace
# (09 0A 0C 0D 20), these case-insensitive patterns followed by a tag-terminating byte
# (space or ">") make a browser render the resource as HTML.
# https://mimesniff.spec.whatwg.org/#identifying-a-resource-with-an-unknown-mime-type
# We are stricter than the spec: any whitespace, "/" or the end of the head also ends the
# tag, since "<html\n" is just as much HTML to a human and to some browsers.
_HTML_PREFIXES: Final = (
    "<!doctype html",
    "<html",
    "<head",
    "<script",
    "<iframe",
    "<h1",
    "<div",
    "<font",
    "<table",
    "<a",
    "<style",
    "<title",
    "<b",
    "<body",
    "<br",
    "<p",
)
_TAG_END_RE: Final = re.compile(r"[\s>/]|$")
# Markup without a WHATWG HTML pattern that browsers still render as documents: comments
# start HTML (the spec lists "<!--"), "<?xml" is XML (which may pull in XSLT with scripts),
# and a DOCTYPE for anything else is some SGML/XML dialect.
_SVG_RE: Final = re.compile(r"<svg[\s>/]|<svg$|<!doctype\s+svg", re.IGNORECASE)
_XHTML_RE: Final = re.compile(r"<html[\s>/]|http://www\.w3\.org/1999/xhtml", re.IGNORECASE)
_WHITESPACE: Final = "\t\n\x0c\r "

# Control characters tolerated in text: tab, newlines, form feed, vertical tab, and ESC for
# the ANSI colour codes every terminal log is full of.
_TEXT_CONTROLS: Final = frozenset("\t\n\r\x0b\x0c\x1b")
# At most this share of the characters may be other control characters.
_MAX_CONTROL_SHARE: Final = 0.02


def _decode_text(head: bytes) -> str | None:
    """The head as text, or None when it isn't text.

    UTF-8 (a BOM allowed), or UTF-16 with its BOM (what Windows PowerShell 5 writes). Both
    are safe to serve as text/plain: a BOM overrides any charset label when browsers decode
    (https://encoding.spec.whatwg.org/#decode).
    A multi-byte sequence cut off by the end of the head is fine: the head is only the
    start of the file. NUL characters mean binary.
    """
    encoding = "utf-8"
    data = head
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    else:
        for bom, name in _UTF16_BOMS:
            if data.startswith(bom):
                encoding, data = name, data[len(bom) :]
                break
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        # final=False keeps a truncated trailing sequence pending instead of failing on it.
        text: str = decoder.decode(data, final=False)
    except UnicodeDecodeError:
        return None
    if "\x00" in text:
        return None
    if not text:
        return text
    controls = sum(1 for char in text if char not in _TEXT_CONTROLS and (unicodedata.category(char) == "Cc"))
    if controls / len(text) > _MAX_CONTROL_SHARE:
        return None
    return text


def _markup(text: str) -> Sniffed | None:
    """A refusal when the text is (or a browser may take it for) HTML, SVG or XML."""
    # A stray second BOM is skipped too: being stricter than browsers costs nothing here.
    start = text.lstrip(_WHITESPACE + "\ufeff")
    lowered = start[:512].lower()
    if not lowered.startswith("<"):
        return None
    if lowered.startswith("<svg") and _TAG_END_RE.match(lowered, 4):
        return Sniffed("image/svg+xml", False, REASON_SVG)
    for prefix in _HTML_PREFIXES:
        if lowered.startswith(prefix) and _TAG_END_RE.match(lowered, len(prefix)):
            return Sniffed("text/html", False, REASON_HTML)
    if lowered.startswith("<!--"):
        # A comment is an HTML pattern in its own right; what follows may be SVG.
        if _SVG_RE.search(start):
            return Sniffed("image/svg+xml", False, REASON_SVG)
        return Sniffed("text/html", False, REASON_HTML)
    if lowered.startswith("<?xml") or lowered.startswith("<!doctype"):
        if _SVG_RE.search(start):
            return Sniffed("image/svg+xml", False, REASON_SVG)
        if _XHTML_RE.search(start):
            return Sniffed("application/xhtml+xml", False, REASON_HTML)
        return Sniffed("application/xml", False, REASON_XML)
    return None


def _looks_like_json(text: str) -> bool:
    # Only the start can be checked: the head is usually a prefix of the file.
    return text.lstrip(_WHITESPACE + "\ufeff")[:1] in ("{", "[")


# ---------------------------------------------------------------------------------------------
# Declared types and file names
# ---------------------------------------------------------------------------------------------


def _media_type(declared: str | None) -> str:
    """The bare media type: "Text/HTML; charset=UTF-8" -> "text/html"; None -> ""."""
    if not declared:
        return ""
    return declared.split(";", 1)[0].strip().lower()


# Declared types a browser renders as documents that may run scripts.
_ACTIVE_DECLARED: Final = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "message/rfc822",
        "multipart/related",
        "application/x-mimearchive",
    }
)


def _declared_active(media_type: str) -> bool:
    return media_type in _ACTIVE_DECLARED or media_type.endswith("+xml")


# File extensions that open as a web page (HTML, SVG, XML, MHTML web archives) or run as a
# program on a double click in Windows, whatever the bytes inside. A text file named
# "notes.bat" is a batch script to Explorer.
# https://support.microsoft.com/en-us/office/blocked-attachments-in-outlook-434752e1-02d3-4e90-9124-8b81e49a8519
_ACTIVE_EXTENSIONS: Final = frozenset(
    {
        "html", "htm", "xhtml", "xht", "shtml", "svg", "svgz", "xml", "xsl", "xslt",
        "mht", "mhtml",
        "exe", "com", "scr", "pif", "bat", "cmd", "ps1", "psm1", "vbs", "vbe", "js", "jse",
        "wsf", "wsh", "hta", "msi", "msp", "lnk", "cpl", "jar", "reg", "application",
    }
)  # fmt: skip


def _extension(filename: str | None) -> str:
    """The last extension, lowercased, of the last path component; "" when none."""
    if not filename:
        return ""
    base = re.split(r"[/\\]", filename)[-1].strip().rstrip(". ")
    if "." not in base:
        return ""
    return base.rsplit(".", 1)[1].lower()


_JSON_EXTENSIONS: Final = frozenset({"json", "har"})


def _declared_json(media_type: str) -> bool:
    return media_type in ("application/json", "text/json") or media_type.endswith("+json")


# ---------------------------------------------------------------------------------------------
# The verdict
# ---------------------------------------------------------------------------------------------


def sniff(
    head: bytes | bytearray | memoryview, *, declared_type: str | None = None, filename: str | None = None
) -> Sniffed:
    """What the leading bytes of a file are, and whether attachments may be that.

    ``head`` is the first :data:`SNIFF_BYTES` bytes (all of them when the file is shorter);
    more is ignored. ``declared_type`` and ``filename`` are what the uploader claimed; they
    can refuse a file (an HTML or SVG type, an .html or .exe name) and tell JSON from plain
    text, but never make bytes acceptable. Never raises.
    """
    head = bytes(head[:SNIFF_BYTES])
    media_type = _media_type(declared_type)
    extension = _extension(filename)

    if not head:
        return Sniffed(None, False, REASON_EMPTY)

    # Signatures first: a PNG with "<script>" in a text chunk is still a PNG, and it is
    # served as image/png with nosniff, where no browser will run it.
    verdict = _binary(head)
    if verdict is None:
        text = _decode_text(head)
        if text is None:
            return Sniffed(None, False, REASON_UNKNOWN)
        verdict = _markup(text)
        if verdict is None:
            wants_json = _declared_json(media_type) or extension in _JSON_EXTENSIONS
            content_type = "application/json" if wants_json and _looks_like_json(text) else "text/plain"
            verdict = Sniffed(content_type, True, "")

    if not verdict.allowed:
        return verdict
    # The bytes are fine; the claims may still be dangerous, because whoever downloads the
    # file gets it under its name, and a misconfigured server might trust the declared type.
    if media_type == "image/svg+xml" or extension in ("svg", "svgz"):
        return Sniffed(verdict.content_type, False, REASON_SVG)
    if _declared_active(media_type):
        return Sniffed(verdict.content_type, False, REASON_DECLARED_MARKUP)
    if extension in _ACTIVE_EXTENSIONS:
        return Sniffed(verdict.content_type, False, _reason_name(extension))
    return verdict


# Other names for the same formats, as browsers and operating systems declare them.
# (Windows declares zips as application/x-zip-compressed; MediaRecorder audio is audio/webm.)
_ALIASES: Final[dict[str, str]] = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "video/x-matroska": "video/webm",
    "video/mkv": "video/webm",
    "audio/webm": "video/webm",
    "video/x-m4v": "video/mp4",
    "video/quicktime": "video/mp4",  # both are ISO-BMFF files; the brand is all that differs
    "application/x-pdf": "application/pdf",
    "application/x-zip-compressed": "application/zip",
    "application/x-zip": "application/zip",
    "application/zip-compressed": "application/zip",
    "application/x-gzip": "application/gzip",
    "application/gzip-compressed": "application/gzip",
    "application/x-gzip-compressed": "application/gzip",
    "application/x-compressed-tar": "application/gzip",
    "application/x-tgz": "application/gzip",
    "text/json": "application/json",
    "application/x-json": "application/json",
}
_ZIP_BASED_PREFIXES: Final = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
)
_GENERIC_DECLARED: Final = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}
)
_TEXT_SNIFFED: Final = frozenset({"text/plain", "application/json"})


def _canonical(media_type: str) -> str:
    return _ALIASES.get(media_type, media_type)


def matches_declared(sniffed: str, declared: str | None) -> bool:
    """Whether the uploader's declared type agrees with the sniffed one.

    Parameters ("; charset=utf-8") and case are ignored. A missing or generic declared type
    (application/octet-stream) matches any allowed type. Known aliases are equal
    (image/jpg = image/jpeg, application/x-zip-compressed = application/zip, ...), and so are
    WebM/Matroska and MP4/QuickTime, which differ only in a container brand. Text is text: any
    non-markup text/* or JSON declared type matches sniffed text/plain or application/json.
    Anything else, e.g. image/png declared for JPEG bytes, is a mismatch the caller reports.
    """
    sniffed_type = _media_type(sniffed)
    declared_type = _media_type(declared)
    if declared_type in _GENERIC_DECLARED:
        return sniffed_type in ALLOWED_TYPES
    if _canonical(sniffed_type) == _canonical(declared_type):
        return True
    if sniffed_type in _TEXT_SNIFFED and not _declared_active(declared_type):
        return declared_type.startswith("text/") or _declared_json(declared_type)
    if sniffed_type == "application/zip":
        # Office, OpenDocument and EPUB files are ZIP archives under their own types.
        return declared_type.endswith("+zip") or declared_type.startswith(_ZIP_BASED_PREFIXES)
    return False


# ---------------------------------------------------------------------------------------------
# File names
# ---------------------------------------------------------------------------------------------

# Device names Windows reserves in every directory, with or without an extension
# ("con.txt" is the console). https://learn.microsoft.com/en-us/windows/win32/fileio/naming-a-file
_WINDOWS_RESERVED: Final = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{n}" for n in (*"123456789", "¹", "²", "³")}
    | {f"lpt{n}" for n in (*"123456789", "¹", "²", "³")}
)
# Characters Windows forbids in names (same source); "/" and "\" are handled as separators.
_WINDOWS_FORBIDDEN_RE: Final = re.compile(r'[<>:"|?*]')
MAX_FILENAME_CHARS: Final = 200
# Most file systems cap a name at 255 bytes; 200 CJK characters are 600 bytes of UTF-8.
MAX_FILENAME_BYTES: Final = 255
# Longer "extensions" are just a dot in a long name and are not kept whole.
_MAX_EXTENSION_CHARS: Final = 16


def _fits(name: str) -> bool:
    return len(name) <= MAX_FILENAME_CHARS and len(name.encode("utf-8")) <= MAX_FILENAME_BYTES


def _truncate(text: str, max_chars: int, max_bytes: int) -> str:
    text = text[:max_chars]
    while len(text.encode("utf-8")) > max_bytes:
        text = text[:-1]
    return text


def _clean_name(name: str) -> str:
    # The last path component under either separator: "../../etc/passwd" -> "passwd",
    # "C:\\evil\\a.exe" -> "a.exe".
    name = re.split(r"[/\\]", name)[-1]
    # NFC so visually identical names compare equal and combining marks stay attached.
    name = unicodedata.normalize("NFC", name)
    # Control characters (C0, DEL, C1: "Cc") and format characters ("Cf"), which include the
    # right-to-left override that makes "harmless\u202etxt.exe" display as "harmlessexe.txt".
    # Whitespace controls (tab, newline) separate words, so they become spaces first.
    name = "".join(
        " " if char.isspace() else char
        for char in name
        if unicodedata.category(char) not in ("Cc", "Cf") or char.isspace()
    )
    name = _WINDOWS_FORBIDDEN_RE.sub("_", name)
    name = " ".join(name.split())
    # Leading dots hide files (".bashrc") or climb directories (".."); Windows drops trailing
    # dots and spaces itself, so a name ending in them is not the name that lands on disk.
    name = name.lstrip(". ").rstrip(". ")
    stem = name.split(".", 1)[0].rstrip(" ").lower()
    if stem in _WINDOWS_RESERVED:
        name = "_" + name
    if not _fits(name):
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= _MAX_EXTENSION_CHARS:
            suffix = "." + ext
            room_chars = MAX_FILENAME_CHARS - len(suffix)
            room_bytes = MAX_FILENAME_BYTES - len(suffix.encode("utf-8"))
            name = _truncate(stem, room_chars, room_bytes).rstrip(". ") + suffix
        else:
            name = _truncate(name, MAX_FILENAME_CHARS, MAX_FILENAME_BYTES).rstrip(". ")
    return name


def safe_filename(name: str, *, fallback: str = "file") -> str:
    """A file name safe to store, show and offer for download on any OS. Never empty.

    Keeps only the last path component (under "/" or "\\"), drops control and bidi format
    characters, replaces characters Windows forbids, collapses whitespace, strips leading and
    trailing dots, defuses Windows device names (CON, COM1, ...) with a "_" prefix, and caps
    the result at 200 characters / 255 UTF-8 bytes, keeping the extension.
    """
    cleaned = _clean_name(name) if isinstance(name, str) else ""
    if cleaned:
        return cleaned
    fallback_cleaned = _clean_name(fallback) if isinstance(fallback, str) else ""
    return fallback_cleaned or "file"
