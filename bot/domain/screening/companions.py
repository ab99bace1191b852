"""Companion files of a list download: OFAC's `SDN.CSV` comes with `ALT.CSV` and `ADD.CSV`.

OFAC publishes the legacy CSV set side by side (the Sanctions List Service's
`.../PublicationPreview/exports/SDN.CSV`, `ALT.CSV`, `ADD.CSV`; the older `treasury.gov` folder
in lower case), so the companions of a source's `SDN.CSV` are the same folder's files. A source
that points at `SDN_ADVANCED.XML` needs none: the XML carries aliases and addresses.
"""

from __future__ import annotations

COMPANIONS = {"ofac_sdn": {"sdn.csv": ("alt", "add")}}


def companion_urls(kind: str, url: str) -> dict[str, str]:
    """The companion files a list source's download needs, by part name (`alt`, `add`)."""
    address = url.split("#", 1)[0].split("?", 1)[0]
    folder, _, file_name = address.rpartition("/")
    wanted = COMPANIONS.get(kind, {}).get(file_name.lower(), ()) if folder else ()
    out = {}
    for part in wanted:
        name = f"{part}.csv"
        out[part] = f"{folder}/{name.upper() if file_name.isupper() else name}"
    return out
