from pathlib import Path

from claude_backup.locate import default_archive, find_archive
from claude_backup.model.layout import MARKER


def make_archive(path: Path) -> Path:
    (path / ".git").mkdir(parents=True)
    (path / MARKER).write_text("{}")
    return path


def test_order_explicit_env_enclosing_default(tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "arch")
    inside = archive / "acct" / "org"
    inside.mkdir(parents=True)
    env = {"CLAUDE_BACKUP_ARCHIVE": str(tmp_path / "from-env")}
    assert find_archive(tmp_path / "x", environ=env, cwd=inside) == tmp_path / "x"
    assert find_archive(None, environ=env, cwd=inside) == tmp_path / "from-env"
    assert find_archive(None, environ={}, cwd=inside) == archive
    assert find_archive(None, environ={}, cwd=tmp_path) == default_archive()
