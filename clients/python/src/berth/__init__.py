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
from .files import Files
from .models import (
    ContainerView,
    CreatedPreview,
    ExecResult,
    FileEntry,
    FileList,
    FileWatchEvent,
    Health,
    LogLine,
    Pool,
    SetupStatus,
    TemplateDeleted,
    TemplateInfo,
    TemplateList,
    TemplateOnHost,
    Volume,
    VolumeList,
)
from .previews import Previews
from .templates import TemplateBuildResult, Templates
from .volumes import Volumes

__all__ = [
    "ERROR_CODES", "Berth", "BerthApiError", "BerthError", "BerthNetworkError", "BerthResponseError", "BerthTimeoutError",
    "Commands", "Container", "ContainerView", "Containers", "CreatedPreview", "ExecResult", "FileEntry", "FileList", "FileWatchEvent",
    "Files", "Health", "LogLine", "Pool", "Pools", "Previews", "SetupStatus", "TemplateBuildResult", "TemplateDeleted", "TemplateInfo",
    "TemplateList", "TemplateOnHost", "Templates", "Volume", "VolumeList", "Volumes",
]
