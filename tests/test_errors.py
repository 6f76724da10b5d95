"""One error base class: every public exception class defined under metrics/ derives from KpiError, and keeps
the builtin base its callers catch today."""

from __future__ import annotations

import ast
import importlib
import inspect
import pickle
import pkgutil
from pathlib import Path

import pytest

import metrics
from metrics.auth.access import AccessDenied, Principal
from metrics.auth.users import UserError
from metrics.catalogue import CatalogueError
from metrics.contract.errors import KpiError
from metrics.demo.build import DemoDatabaseExists
from metrics.kpi.snapshots import SnapshotExists
from metrics.ledger import ConcurrentEdit, LedgerError
from metrics.releases.export import FontMissing
from metrics.releases.service import ReleaseError, ReleaseIntegrityError
from metrics.storage.backup import BackupError
from metrics.storage.store import StoreError

ROOT = Path(metrics.__file__).parent
# Not imported by the walk: entry points (running them is their import) and the upload fork server, whose
# import sets process-wide environment variables. They must define no classes (checked below).
SKIPPED = {"metrics.upload_server"}


def _module_names() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(metrics.__path__, "metrics.")]
    return sorted(n for n in names if n not in SKIPPED and not n.endswith(".__main__"))


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _module_names():
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == name:
                found[f"{name}.{obj.__qualname__}"] = obj
    return found


def test_every_public_error_under_metrics_derives_from_kpi_error() -> None:
    classes = _exception_classes()
    assert "metrics.ledger.errors.LedgerError" in classes and len(classes) >= 12  # the walk finds them
    public = {n: c for n, c in classes.items() if not c.__name__.startswith("_")}
    strays = sorted(n for n, c in public.items() if not issubclass(c, KpiError))
    assert strays == []


def test_skipped_modules_define_no_classes() -> None:
    for name in SKIPPED:
        tree = ast.parse((ROOT.parent / (name.replace(".", "/") + ".py")).read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)], name
    for main in ROOT.rglob("__main__.py"):
        tree = ast.parse(main.read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)], main


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (UserError, ValueError),
        (LedgerError, ValueError),
        (ConcurrentEdit, ValueError),
        (ReleaseError, ValueError),
        (ReleaseIntegrityError, ValueError),
        (SnapshotExists, ValueError),
        (CatalogueError, ValueError),
        (AccessDenied, PermissionError),
        (StoreError, RuntimeError),
        (BackupError, RuntimeError),
        (FontMissing, RuntimeError),
        (DemoDatabaseExists, FileExistsError),
    ],
)
def test_the_builtin_base_callers_catch_is_kept(error: type[Exception], builtin: type[Exception]) -> None:
    assert issubclass(error, KpiError) and issubclass(error, builtin)


def test_messages_in_chinese_and_english() -> None:
    err = LedgerError("任务已销账")
    assert (str(err), err.message_zh, err.message_en, err.args) == (
        "任务已销账",
        "任务已销账",
        "任务已销账",
        ("任务已销账",),
    )
    both = KpiError("数据库被占用", "database in use")
    assert (str(both), both.message_en) == ("数据库被占用", "database in use")
    again = pickle.loads(pickle.dumps(both))
    assert (again.message_zh, again.message_en) == ("数据库被占用", "database in use")


def test_subclasses_with_their_own_constructor_set_the_messages() -> None:
    denied = AccessDenied(Principal("press", "press"), "audit.read")
    assert denied.message_zh == str(denied) and "无权限" in denied.message_zh
    assert isinstance(denied, PermissionError) and denied.args == (denied.message_zh,)
    stale = ConcurrentEdit(3)
    assert stale.current_version == 3 and "当前版本 3" in stale.message_zh
    bad = CatalogueError("x.yaml", ["一", "二"])
    assert bad.problems == ["一", "二"] and bad.message_zh == str(bad)
