"""`zoofind info`: one entry in full, with what it needs and whether that is installed."""

from __future__ import annotations

from dataclasses import dataclass

from .frameworks import Requirement, check_requirements, install_command, requirements
from .records import Record
from .search import info_lookup


@dataclass(frozen=True)
class InfoResult:
    record: Record
    requirements: tuple[Requirement, ...]
    install: str | None  # the pip command for what is missing, None when all is installed
    warnings: tuple[str, ...] = ()


def info(raw_id: str, *, offline: bool = False, timeout: float = 5.0) -> InfoResult:
    record, warnings = info_lookup(raw_id, offline=offline, timeout=timeout)
    # The first library is the one the model loads with; the others are alternatives
    # (ESM-2 loads with transformers or fair-esm), not extra needs.
    reqs = check_requirements(requirements(record.libraries[:1], record.frameworks, record.packages))
    return InfoResult(record, reqs, install_command(reqs), warnings)
