"""berth: a Python client for the berth gateway (isolated Docker workspaces for coding agents)."""

from .client import Berth, Pools
from .container import Commands, Container, Containers
from .errors import (
    ERROR_CODES,
    BerthApiError,
    BerthError,
    BerthNetworkError,
    BerthResponseError,
    BerthTimeoutError,
)
from .models import ContainerView, ExecResult, Health, LogLine, Pool, SetupStatus

__all__ = [
    "ERROR_CODES", "Berth", "BerthApiError", "BerthError", "BerthNetworkError", "BerthResponseError", "BerthTimeoutError",
    "Commands", "Container", "ContainerView", "Containers", "ExecResult", "Health", "LogLine", "Pool", "Pools", "SetupStatus",
]
