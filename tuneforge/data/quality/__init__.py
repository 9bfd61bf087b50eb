"""The data-quality gate: find, fix and record problems in labelled text before training."""

from .gate import BackboneInfo, GateResult, run_gate
from .ledger import Change, Finding, Ledger, Removal

__all__ = ["BackboneInfo", "Change", "Finding", "GateResult", "Ledger", "Removal", "run_gate"]
