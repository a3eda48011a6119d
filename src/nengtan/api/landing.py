"""``/``: a small bilingual landing page (zh-CN first) with status figures and links.

No external asset of any kind: styles are inline and there are no fonts, scripts or images.
"""

from __future__ import annotations

from html import escape

from nengtan import __version__
from nengtan.i18n import t

_ROWS = ("nodes", "meters", "readings", "first_reading", "last_reading", "database")


def _both(key: str) -> str:
    return f"{escape(t(key, 'zh-CN'))} <span class=en>{escape(t(key, 'en'))}</span>"


def render(status: dict) -> str:
    none = f"{escape(t('landing.none', 'zh-CN'))} / {escape(t('landing.none', 'en'))}"
    rows = "\n".join(
        f"<tr><th>{_both('landing.' + key)}</th>"
        f"<td>{escape(str(status[key])) if status.get(key) not in (None, '') else none}</td></tr>"
        for key in _ROWS)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>能碳 nengtan</title>
<style>
body {{ font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       margin: 2rem auto; max-width: 46rem; padding: 0 1rem; color: #1d2b24; }}
h1 {{ margin-bottom: .2rem; }} h1 small {{ font-weight: normal; color: #4a6b5a; }}
.en {{ color: #5b6f65; font-size: .9em; }}
table {{ border-collapse: collapse; width: 100%; margin: 1rem 0; }}
th, td {{ text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #d8e2dc; }}
td {{ font-variant-numeric: tabular-nums; }}
a {{ color: #1f6f4a; }} li {{ margin: .4rem 0; }}
</style>
</head>
<body>
<h1>能碳 <small>nengtan {escape(__version__)}</small></h1>
<p>{_both('landing.tagline')}</p>
<h2>{_both('landing.status')}</h2>
<table>
{rows}
</table>
<ul>
<li><a href="/docs">{_both('landing.docs')}</a></li>
<li><a href="/api/status">{_both('landing.status_json')}</a></li>
</ul>
</body>
</html>
"""
