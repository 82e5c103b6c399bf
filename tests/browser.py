"""Opening pages in headless Chromium for the tests: the rendered DOM and a screenshot.

Chromium is the Debian package `chromium` (`apt-get install chromium`; `.ci/run` installs
it). Without it the browser tests skip. It runs with a fresh profile, no sandbox (the
tests may run as root) and every background request switched off: on a machine without
network access it would otherwise hang.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not found: install it to run the browser "
    "tests (Debian/Ubuntu: apt-get install chromium; .ci/run does it)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--force-device-scale-factor=1"]


def chromium(page: Path, profile: Path, *flags: str) -> str:
    """Run Chromium on `page` with `flags`; returns its stdout."""
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *flags,
                           page.resolve().as_uri()], capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout


def rendered_dom(page: Path, profile: Path) -> Dom:
    """The page's DOM after Chromium loaded it (and ran whatever it would run)."""
    dom = Dom()
    dom.feed(chromium(page, profile, "--dump-dom"))
    return dom


def screenshot_colours(page: Path, profile: Path, size: str = "1200,1400") -> set[bytes]:
    """The distinct RGB colours of a screenshot of the page's first `size` pixels."""
    shot = profile.parent / f"{page.stem}.png"
    chromium(page, profile, f"--window-size={size}", f"--screenshot={shot}")
    return png_colours(shot.read_bytes())


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Dom(HTMLParser):
    """Elements of a serialised DOM, each with its attributes and its ancestors' tags and
    classes, and the document's text."""

    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict, list[tuple[str, str]]]] = []
        self.text: list[str] = []
        self._open: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes, list(self._open)))
        if tag not in VOID:
            self._open.append((tag, attributes.get("class") or ""))

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, inside: tuple[str, str] | None = None, **attributes) -> list[dict]:
        """Attributes of each `tag` element whose attributes include `attributes` and that
        lies inside an element (tag, class), if given."""
        return [attrs for name, attrs, ancestors in self.elements
                if name == tag and all(attrs.get(k) == v for k, v in attributes.items())
                and (inside is None or inside in ancestors)]

    def tags(self) -> set[str]:
        return {name for name, _, _ in self.elements}


def png_colours(data: bytes) -> set[bytes]:
    """The distinct RGB colours of an 8-bit RGB or RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, compressed = 8, []
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour_type in (2, 6) and not interlace, "unexpected PNG"
        elif kind == b"IDAT":
            compressed.append(body)
    channels = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(b"".join(compressed)), width * channels
    previous, colours = bytearray(stride), set()
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), previous,
                         channels)
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, channels))
        previous = line
    return colours


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> bytearray:
    """Undo one PNG row filter (None, Sub, Up, Average, Paeth)."""
    if kind == 2:
        return bytearray((a + b) & 255 for a, b in zip(line, previous))
    for i in range(len(line) if kind else 0):
        left = line[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 255
        elif kind == 3:
            line[i] = (line[i] + ((left + previous[i]) >> 1)) & 255
        else:
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            guess = left + up - corner
            near = min((abs(guess - left), 0, left), (abs(guess - up), 1, up),
                       (abs(guess - corner), 2, corner))[2]
            line[i] = (line[i] + near) & 255
    return line
