"""Companion files of a list download: OFAC's `SDN.CSV` comes with `ALT.CSV` and `ADD.CSV`.

OFAC publishes the legacy CSV set side by side (the Sanctions List Service's
`.../PublicationPreview/exports/SDN.CSV`, `ALT.CSV`, `ADD.CSV`; the older `treasury.gov` folder
in lower case), so the companions of a source's `SDN.CSV` are the same folder's files. A source
that points at `SDN_ADVANCED.XML` needs none: the XML carries aliases and addresses.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

COMPANIONS = {"ofac_sdn": {"sdn.csv": ("alt", "add")}}


def companion_urls(kind: str, url: str) -> dict[str, str]:
    """The companion files a list source's download needs, by part name (`alt`, `add`)."""
    parts = urlsplit(url)
    folder, _, file_name = parts.path.rpartition("/")
    wanted = COMPANIONS.get(kind, {}).get(file_name.lower(), ())
    out = {}
    for part in wanted:
        name = f"{part}.csv"
        name = name.upper() if file_name.isupper() else name
        out[part] = urlunsplit(parts._replace(path=f"{folder}/{name}", query="", fragment=""))
    return out
