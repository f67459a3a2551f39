import pytest
from django.urls import reverse

from minyi.core.models import AuditCheck
from minyi.orgs.models import Role

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese_and_served_without_login(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'lang="zh-Hans"' in body
    assert "登录" in body and "用户名" in body and "密码" in body


def test_wrong_password_is_told_in_chinese(client, handler):
    response = client.post(reverse("login"), {"username": handler.username, "password": "x"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_login_then_home(client, handler):
    response = client.post(
        reverse("login"), {"username": handler.username, "password": "pw-for-tests-1"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")
    body = client.get(reverse("home")).content.decode()
    assert 'data-testid="home-unit_handler"' in body
    assert "东城派出所" in body and "东城镇" in body


def test_home_needs_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "unit_attr", "expected"),
    [
        (Role.BUREAU_LEADER, "bureau", 'data-testid="station-table"'),
        (Role.DISPATCHER, "command_centre", 'data-testid="directory"'),
        (Role.OPINION_OFFICER, "bureau", 'data-testid="station-table"'),
        (Role.INSPECTOR, "squad", 'data-testid="audit-card"'),
        (Role.LEGAL_REVIEWER, "squad", "今日工作时间"),
        (Role.UNIT_HEAD, "station", 'data-testid="unit-card"'),
        (Role.UNIT_HANDLER, "station", 'data-testid="unit-card"'),
        (Role.ADMINISTRATOR, "bureau", 'data-testid="audit-card"'),
    ],
)
def test_every_role_has_a_home_page(client, bureau, role, unit_attr, expected):
    user = bureau.member(role, getattr(bureau, unit_attr))
    client.force_login(user)
    body = client.get(reverse("home")).content.decode()
    assert f'data-testid="home-{role}"' in body
    assert expected in body


def test_navigation_depends_on_role(client, bureau, handler, administrator):
    client.force_login(handler)
    body = client.get(reverse("home")).content.decode()
    assert "单位与辖区" in body
    assert "节假日管理" not in body and "基础数据后台" not in body
    client.force_login(administrator)
    body = client.get(reverse("home")).content.decode()
    assert "节假日管理" in body and "基础数据后台" in body and "审计链" in body


def test_administrator_home_flags_years_without_holidays(client, bureau, administrator):
    from django.utils import timezone

    client.force_login(administrator)
    body = client.get(reverse("home")).content.decode()
    # The seeded package stops at 2026; the year after the current one is never entered here.
    assert 'data-testid="missing-years"' in body
    assert f"{timezone.localdate().year + 1}" in body


def test_audit_page_is_for_administrators_and_inspectors(client, bureau, handler, inspector):
    client.force_login(handler)
    assert client.get(reverse("audit")).status_code == 403
    assert client.post(reverse("audit_verify")).status_code == 403
    client.force_login(inspector)
    assert client.get(reverse("audit")).status_code == 200
    response = client.post(reverse("audit_verify"), follow=True)
    assert "审计链校验通过" in response.content.decode()
    assert AuditCheck.objects.get().ok


def test_static_assets_are_served_by_the_project(client, handler):
    client.force_login(handler)
    body = client.get(reverse("home")).content.decode()
    assert "/static/minyi/minyi.css" in body
    assert "/static/django_htmx/htmx-2.min.js" in body
    assert "http://" not in body.replace("http://testserver", "")
    assert "https://" not in body


def test_event_actions_are_shown_in_chinese(client, bureau, administrator):
    from minyi.orgs import actions

    actions.create_unit(actor=administrator, code="X1", name="新中队", kind="team",
                        parent=bureau.station)
    client.force_login(administrator)
    body = client.get(reverse("audit")).content.decode()
    assert "新建单位" in body and "unit.create" not in body


def test_error_pages_are_in_chinese(client, bureau, handler, outsider):
    client.force_login(outsider)
    response = client.get(reverse("orgs:unit_detail", args=[bureau.station.pk]))
    assert response.status_code == 404 and "没有找到" in response.content.decode()
    response = client.get(reverse("audit"))
    assert response.status_code == 403 and "没有权限" in response.content.decode()
