"""Server-rendered pages: Jinja2 templates, their routes and the zh-CN / English text.

Pages use the feature modules' services like the API does; their scripts and styles are
static files of this package (no CDN, no external script).
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATE_DIR = Path(__file__).parent / "templates"
