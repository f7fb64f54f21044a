"""What an ingest run did: counts for people and one JSON object for programs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_LISTED = 20  # documents named per kind in the human summary


@dataclass
class IngestReport:
    """What one run did (or, with dry_run, would do)."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    metadata_updated: int = 0
    skipped: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    chunks: int = 0  # chunks embedded and written by this run
    seconds: float = 0.0
    dry_run: bool = False
    documents: dict[str, list[str]] = field(
        default_factory=lambda: {"added": [], "updated": [], "removed": [], "metadata": []}
    )

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.metadata_updated)

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "metadata_updated": self.metadata_updated,
            "skipped": list(self.skipped),
            "failed": [dict(f) for f in self.failed],
            "warnings": list(self.warnings),
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "dry_run": self.dry_run,
            "documents": {k: list(v) for k, v in self.documents.items()},
        }

    def summary(self) -> str:
        """A few human lines."""
        verb = "Would ingest" if self.dry_run else "Ingested"
        lines = [
            f"{verb}: {self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.metadata_updated} metadata-only, {self.unchanged} unchanged; "
            f"{self.chunks} chunks embedded in {self.seconds:.1f} s."
        ]
        for kind in ("added", "updated", "removed", "metadata"):
            names = self.documents.get(kind, [])
            lines.extend(f"  {kind:<8} {doc_id}" for doc_id in names[:_LISTED])
            if len(names) > _LISTED:
                lines.append(f"  {kind:<8} ... and {len(names) - _LISTED} more")
        lines.extend(f"  skipped  {file} (not a supported document type)" for file in self.skipped)
        for failure in self.failed:
            lines.append(f"  FAILED   {failure['file']}: {failure['error']}")
        for warning in self.warnings:
            lines.append(f"  warning  {warning}")
        return "\n".join(lines)
