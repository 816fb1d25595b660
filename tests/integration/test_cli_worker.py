"""``ecm-comms worker`` refuses plainly what it cannot run on."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ecm_comms.entrypoints.cli.main import cli


def test_a_worker_on_a_database_that_is_not_migrated_says_so_and_exits_1(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"

    result = CliRunner().invoke(cli, ["worker"], env={"ECM_DATABASE_URL": url})

    assert result.exit_code == 1
    assert "migrated (ecm-comms db upgrade)" in result.output


def test_a_worker_needs_at_least_one_thread(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"

    result = CliRunner().invoke(cli, ["worker", "--threads", "0"], env={"ECM_DATABASE_URL": url})

    assert result.exit_code == 2
    assert "--threads" in result.output
