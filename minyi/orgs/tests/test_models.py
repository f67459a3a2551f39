import pytest
from django.core.exceptions import ValidationError

from minyi.orgs.models import Area, Unit
from minyi.orgs.tests.factories import AreaFactory, UnitFactory

pytestmark = pytest.mark.django_db


def test_paths_follow_the_tree():
    bureau = UnitFactory(kind="bureau")
    station = UnitFactory(parent=bureau)
    team = UnitFactory(kind="team", parent=station)
    assert bureau.path == f"{bureau.pk:08d}."
    assert team.path == f"{bureau.pk:08d}.{station.pk:08d}.{team.pk:08d}."
    assert team.depth == 2
    assert list(team.ancestors()) == [bureau, station]
    assert set(bureau.descendants()) == {bureau, station, team}
    assert team.is_descendant_of(bureau)
    assert not bureau.is_descendant_of(station)


def test_moving_a_unit_moves_its_subtree():
    bureau = UnitFactory(kind="bureau")
    old_parent = UnitFactory(kind="squad", parent=bureau)
    new_parent = UnitFactory(kind="squad", parent=bureau)
    station = UnitFactory(parent=old_parent)
    team = UnitFactory(kind="team", parent=station)
    station.parent = new_parent
    station.save()
    team.refresh_from_db()
    assert team.path == f"{bureau.pk:08d}.{new_parent.pk:08d}.{station.pk:08d}.{team.pk:08d}."
    assert not Unit.objects.filter(path__startswith=old_parent.path).exclude(pk=old_parent.pk)


def test_a_unit_cannot_be_put_under_its_own_subtree():
    bureau = UnitFactory(kind="bureau")
    station = UnitFactory(parent=bureau)
    bureau.parent = station
    with pytest.raises(ValidationError) as excinfo:
        bureau.full_clean()
    assert "上级不能是自己或自己的下级" in str(excinfo.value)


def test_bureau_is_the_nearest_bureau_above():
    city = UnitFactory(kind="bureau")
    county = UnitFactory(kind="sub_bureau", parent=city)
    station = UnitFactory(parent=county)
    assert station.bureau() == county
    assert county.bureau() == county
    assert city.bureau() == city


def test_area_rules():
    squad = UnitFactory(kind="squad")
    area = Area(code="1", name="某镇", kind="township", station=squad)
    with pytest.raises(ValidationError) as excinfo:
        area.full_clean()
    assert "辖区单位必须是派出所" in str(excinfo.value)

    station = UnitFactory()
    orphan = Area(code="2", name="某村", kind="village", station=station)
    with pytest.raises(ValidationError) as excinfo:
        orphan.full_clean()
    assert "必须属于一个乡镇或街道" in str(excinfo.value)

    township = AreaFactory(station=station)
    village = AreaFactory(kind="village", parent=township, station=station)
    assert village.path.startswith(township.path)
