import pytest
from django.core.management import call_command

from minyi.core.models import Event
from minyi.orgs.models import Area, Membership, Role, Unit, User

pytestmark = pytest.mark.django_db


def test_demo_bureau_has_the_seed_shape(capsys):
    call_command("load_demo", "--orders", "0")
    out = capsys.readouterr().out
    bureau = Unit.objects.get(kind="bureau")
    assert bureau.name == "沂源县公安局"
    names = set(Unit.objects.values_list("name", flat=True))
    for name in ["指挥中心", "法制大队", "刑事侦查大队", "治安管理大队", "巡特警大队",
                 "户政管理科", "出入境管理科", "督察大队"]:
        assert name in names
    assert any(n.startswith("政工室") for n in names)
    assert Unit.objects.filter(kind="station").count() >= 10
    townships = Area.objects.filter(parent__isnull=True)
    assert townships.count() >= 10
    for township in townships:
        assert township.children.exists()
        assert all(v.station_id == township.station_id for v in township.children.all())
    for role in Role.values:
        assert Membership.objects.filter(role=role).exists(), role
    assert all(u.path.startswith(bureau.path) for u in Unit.objects.all())
    # One printed login per role.
    for role in Role:
        assert role.label in out
    assert "Minyi@2026" in out


def test_loading_twice_changes_nothing(capsys):
    call_command("load_demo", "--quiet-logins", "--orders", "0")
    counts = (Unit.objects.count(), Area.objects.count(), User.objects.count(),
              Membership.objects.count(), Event.objects.count())
    call_command("load_demo", "--quiet-logins", "--orders", "0")
    assert (Unit.objects.count(), Area.objects.count(), User.objects.count(),
            Membership.objects.count(), Event.objects.count()) == counts
    assert "未做任何改动" in capsys.readouterr().out


def test_demo_logins_work(client):
    call_command("load_demo", "--quiet-logins", "--orders", "0")
    from minyi.orgs.demo import DEMO_LOGINS, DEMO_PASSWORD

    for person in DEMO_LOGINS:
        assert client.login(username=person.username, password=DEMO_PASSWORD), person.username
        body = client.get("/").content.decode()
        assert f'data-testid="home-{person.role}"' in body
        client.logout()
