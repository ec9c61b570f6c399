"""Engines turn an `EngineRequest` into an `EngineOutput`; the orchestrator does everything else."""

from .base import Engine, choose_engine

__all__ = ["Engine", "choose_engine"]
