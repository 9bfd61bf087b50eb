"""Fine-tuning methods, by name: ``method: full`` or ``method: {name: lora, r: 16}``."""

from . import adalora, adapters, full, ia3, lora, prompts, selective  # noqa: F401  (registration)
from .base import METHODS, Method, count_parameters, get_method, register

__all__ = ["METHODS", "Method", "count_parameters", "get_method", "register"]
