"""The CJK font of the reports: one TrueType file embedded in PDFs and used in charts.

A PDF shows Chinese text on any reader only if it embeds a font with the glyphs.  reportlab
embeds TrueType outlines (``glyf`` tables) but not the CFF outlines of most OpenType CJK fonts
(Noto/Source Han ``.otf``/``.ttc``), so the search takes TrueType fonts only:

1. the file named by ``NENGTAN_CJK_FONT`` (``path`` or ``path#index`` for a collection);
2. well-known TrueType CJK fonts of Linux distributions (Debian/Ubuntu ``fonts-wqy-zenhei``
   first, which ``scripts/bootstrap.sh`` installs), then Windows and macOS fonts;
3. any TrueType font fontconfig lists for ``:lang=zh``.

When none is found, PDFs fall back to reportlab's built-in ``STSong-Light`` CID font: the text
is still real text (searchable, extractable), but it is not embedded, so a reader without
Adobe's Asian font pack shows boxes; :func:`cjk_font` says so in ``warning``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ENV = "NENGTAN_CJK_FONT"

#: TrueType CJK fonts, best first (path, face index in a collection).
CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc", 0),  # Fedora, Arch
    ("/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("C:/Windows/Fonts/simhei.ttf", 0),
    ("C:/Windows/Fonts/msyh.ttc", 0),
    ("C:/Windows/Fonts/simsun.ttc", 0),
    ("/System/Library/Fonts/Supplemental/Songti.ttc", 0),
    ("/Library/Fonts/Arial Unicode.ttf", 0),
)

#: reportlab's CID font when no TrueType CJK font exists (not embedded).
CID_FALLBACK = "STSong-Light"


@dataclass(frozen=True)
class CJKFont:
    """The font found: ``path`` is None for the non-embedded CID fallback."""

    path: str | None
    index: int = 0
    warning: str | None = None

    @property
    def embedded(self) -> bool:
        return self.path is not None

    @property
    def pdf_name(self) -> str:
        """The name the font is registered under in reportlab."""
        return "NengtanCJK" if self.path else CID_FALLBACK


def _is_truetype(path: str) -> bool:
    """True when the file (or the first face of a collection) has TrueType outlines."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
            if head == b"ttcf":
                f.seek(12)
                offset = int.from_bytes(f.read(4), "big")
                f.seek(offset)
                head = f.read(4)
            if head not in (b"\x00\x01\x00\x00", b"true"):
                return False  # 'OTTO': CFF outlines, which reportlab cannot embed
            num_tables = int.from_bytes(f.read(2), "big")
            f.read(6)
            tags = {f.read(16)[:4] for _ in range(num_tables)}
            return b"glyf" in tags
    except OSError:
        return False


def _fontconfig() -> list[str]:
    exe = shutil.which("fc-list")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = sorted({line.split(":", 1)[0].strip() for line in out.splitlines() if line.strip()})
    return [p for p in files if p.lower().endswith((".ttf", ".ttc"))]


@lru_cache(maxsize=1)
def cjk_font() -> CJKFont:
    """The CJK TrueType font to embed (searched once per process)."""
    configured = os.environ.get(ENV, "").strip()
    if configured:
        path, _, index = configured.partition("#")
        if Path(path).is_file() and _is_truetype(path):
            return CJKFont(path, int(index or 0))
        warnings.warn(f"{ENV}={configured!r} is not a readable TrueType font; searching others",
                      stacklevel=2)
    for path, index in CANDIDATES:
        if Path(path).is_file() and _is_truetype(path):
            return CJKFont(path, index)
    for path in _fontconfig():
        if _is_truetype(path):
            return CJKFont(path, 0)
    return CJKFont(None, 0, warning=(
        "no TrueType CJK font found (install fonts-wqy-zenhei, or set NENGTAN_CJK_FONT): "
        f"PDF reports use the non-embedded {CID_FALLBACK} font and charts may lack Chinese "
        "glyphs"))


@lru_cache(maxsize=1)
def register_pdf_font() -> str:
    """Register the font with reportlab once; the font name to use in styles."""
    from reportlab.pdfbase import pdfmetrics

    font = cjk_font()
    if font.path:
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont(font.pdf_name, font.path, subfontIndex=font.index))
    else:
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return font.pdf_name


@lru_cache(maxsize=1)
def chart_font_properties():
    """matplotlib FontProperties of the CJK font (None: matplotlib's default)."""
    font = cjk_font()
    if not font.path:
        return None
    from matplotlib import font_manager

    font_manager.fontManager.addfont(font.path)
    return font_manager.FontProperties(fname=font.path)
