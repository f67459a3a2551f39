import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from minyi.orgs import access
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import MembershipFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_handler_sees_their_station_and_its_subtree_only(bureau, handler):
    seen = set(access.visible_units(handler))
    assert seen == {bureau.station, bureau.team}
    assert access.can_see_unit(handler, bureau.team)
    assert not access.can_see_unit(handler, bureau.other_station)
    assert not access.can_see_unit(handler, bureau.bureau)


def test_an_outsider_gets_404_like_for_a_missing_unit(bureau, outsider):
    with pytest.raises(Http404):
        access.get_unit_for_user(outsider, bureau.station.pk)
    with pytest.raises(Http404):
        access.get_unit_for_user(outsider, 999999)
    with pytest.raises(Http404):
        access.get_unit_for_user(outsider, "not-a-number")
    assert access.get_unit_for_user(outsider, bureau.other_station.pk) == bureau.other_station


def test_areas_follow_the_station_jurisdiction(bureau, handler, outsider):
    assert set(access.visible_areas(handler)) == {bureau.township, bureau.village}
    assert set(access.visible_areas(outsider)) == {bureau.other_township}
    with pytest.raises(Http404):
        access.get_area_for_user(outsider, bureau.village.pk)


@pytest.mark.parametrize("role", [Role.BUREAU_LEADER, Role.INSPECTOR, Role.ADMINISTRATOR])
def test_whole_bureau_roles_see_the_whole_bureau_even_from_a_squad(bureau, role):
    user = bureau.member(role, bureau.squad)
    assert set(access.visible_units(user)) == set(bureau.bureau.descendants())


def test_whole_bureau_roles_stop_at_their_own_bureau(bureau):
    other_bureau = UnitFactory(kind="bureau", name="邻县公安局")
    leader = bureau.member(Role.BUREAU_LEADER, bureau.bureau)
    assert not access.can_see_unit(leader, other_bureau)


def test_a_dispatcher_sees_the_command_centre_subtree(bureau):
    dispatcher = bureau.member(Role.DISPATCHER, bureau.command_centre)
    assert set(access.visible_units(dispatcher)) == {bureau.command_centre}


def test_several_memberships_add_up(bureau):
    user = bureau.member(Role.UNIT_HANDLER, bureau.station)
    MembershipFactory(user=user, unit=bureau.other_station, role=Role.UNIT_HEAD)
    access.forget(user)
    assert set(access.visible_units(user)) == {bureau.station, bureau.team, bureau.other_station}
    assert access.roles_of(user) == {Role.UNIT_HANDLER, Role.UNIT_HEAD}


def test_a_user_without_membership_sees_nothing(db):
    UnitFactory()
    assert not access.visible_units(UserFactory()).exists()


def test_inactive_users_see_nothing(bureau, handler):
    handler.is_active = False
    access.forget(handler)
    assert not access.visible_units(handler).exists()


def test_superuser_sees_everything(bureau):
    root = UserFactory(is_superuser=True, is_staff=True)
    assert access.visible_units(root).count() == 6
    assert access.home_role(root) == Role.ADMINISTRATOR


def test_require_role(bureau, handler, administrator):
    access.require_role(administrator, Role.ADMINISTRATOR)
    with pytest.raises(PermissionDenied):
        access.require_role(handler, Role.ADMINISTRATOR)


def test_home_role_prefers_the_primary_membership(bureau):
    user = bureau.member(Role.UNIT_HANDLER, bureau.station)
    MembershipFactory(user=user, unit=bureau.bureau, role=Role.BUREAU_LEADER, is_primary=False)
    access.forget(user)
    assert access.home_role(user) == Role.UNIT_HANDLER


def test_visible_users(bureau, handler, outsider):
    assert set(access.visible_users(handler)) == {handler}
    assert outsider not in access.visible_users(handler)
