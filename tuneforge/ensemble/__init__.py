"""Ensembles of fine-tuned models: voting, bagging, boosting (SAMME), stacking, NER token averaging
and span voting, shared-backbone inference, n-gram members, distillation into one student. See docs/ensembling.md."""

from __future__ import annotations

from .bagging import BaggingEnsemble
from .base import Ensemble
from .boosting import BoostingEnsemble, samme_step
from .distill import distill
from .loglinear import LogLinearPool
from .member import Member
from .ngram import NgramMember
from .report import ensemble_report, write_ensemble_report
from .saved import is_ensemble_dir, load_ensemble, save_ensemble
from .stacking import StackingEnsemble
from .voting import VotingEnsemble

__all__ = [
    "BaggingEnsemble",
    "BoostingEnsemble",
    "Ensemble",
    "LogLinearPool",
    "Member",
    "NgramMember",
    "StackingEnsemble",
    "VotingEnsemble",
    "distill",
    "ensemble_report",
    "is_ensemble_dir",
    "load_ensemble",
    "samme_step",
    "save_ensemble",
    "write_ensemble_report",
]
