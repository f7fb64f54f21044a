"""Addresses a listing names: the pages of a sitemap, the links of a page under a prefix."""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree, html

# Files a page links to are documents even outside the prefix (agreements, minutes as PDFs).
DOCUMENT_SUFFIXES = (".pdf", ".docx")


def sitemap_urls(body: bytes) -> tuple[list[str], list[str]]:
    """(page urls, nested sitemap urls) of a sitemap or sitemap index, in document order."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return [], []
    if root is None:
        return [], []
    pages: list[str] = []
    nested: list[str] = []
    for element in root.iter("{*}sitemap", "{*}url"):
        loc = next((child.text for child in element if _local(child.tag) == "loc"), None)
        if not loc or not loc.strip():
            continue
        (nested if _local(element.tag) == "sitemap" else pages).append(loc.strip())
    return pages, nested


def page_links(body: bytes, base_url: str) -> list[str]:
    """Every http(s) link of an HTML page, absolute, without fragments, first occurrence first."""
    try:
        tree = html.fromstring(body, base_url=base_url)
    except (etree.ParserError, ValueError):
        return []
    out: dict[str, None] = {}
    for element in tree.iter("a"):
        href = element.get("href")
        if not href:
            continue
        url = urldefrag(urljoin(base_url, href.strip())).url
        if urlsplit(url).scheme in ("http", "https"):
            out.setdefault(url, None)
    return list(out)


def follows(url: str, prefix: str, start: str) -> bool:
    """Whether a link found on a followed page is fetched: under the prefix, or a document
    (PDF, DOCX) on the start page's site."""
    if url.startswith(prefix):
        return True
    same_site = urlsplit(url).netloc == urlsplit(start).netloc
    return same_site and urlsplit(url).path.lower().endswith(DOCUMENT_SUFFIXES)


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]
