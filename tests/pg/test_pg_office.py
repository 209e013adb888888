"""Setting a township up on a server (issue 18, office mode): ``setup.prepare_server`` — the
schema, the first 系统管理员, the keys, the township and its signing key in one transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from govshare_desktop.core.errors import UserError
from govshare_desktop.core.security import signin
from govshare_desktop.core.security.audit import audit_trail
from govshare_desktop.core.security.permissions import Principal, Role
from govshare_desktop.core.services import setup
from govshare_desktop.core.store.engine import open_store
from govshare_desktop.core.store.township import get_township
from tests.core.use_cases import covers


@covers("setup.prepare_server")
def test_a_township_is_set_up_on_a_server_in_one_transaction(pg_url) -> None:
    prepared = setup.prepare_server(pg_url, code="441900199000", name="青禾镇")
    assert prepared.path is None and "postgresql" in prepared.where
    labels = [label for label, _ in prepared.shown]
    assert labels[0] == "管理员账户" and "恢复密钥" in labels and "管理员初始密码" in labels
    assert not signin.is_initialised(pg_url)  # nothing committed before the secrets were shown
    prepared.finish()
    assert signin.is_initialised(pg_url)
    signed = signin.sign_in(pg_url, "admin", dict(prepared.shown)["管理员初始密码"])
    assert signed.must_change_password and signed.principal.role is Role.SYSADMIN
    township = get_township(signed.store)
    assert township is not None and (township.code, township.name) == ("441900199000", "青禾镇")
    trail = audit_trail(signed.store).verify(Principal("zhao", Role.AUDITOR))
    assert trail.ok and trail.entries == 3  # the administrator, the township's key, the sign-in
    signed.store.dispose()


def test_an_abandoned_server_setup_leaves_nothing(pg_url) -> None:
    prepared = setup.prepare_server(pg_url, code="441900199000", name="青禾镇")
    prepared.abandon()
    store = open_store(pg_url, migrate=False)
    with store.engine.connect() as connection:
        assert inspect(connection).get_table_names() == []
    store.dispose()


def test_only_a_server_url_is_set_up_as_a_server(tmp_path) -> None:
    with pytest.raises(UserError, match="不是数据库服务器的连接地址"):
        setup.prepare_server(str(tmp_path / "gov.db"), code="441900199000", name="青禾镇")
