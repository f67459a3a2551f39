"""Who may see and change what: the one place that says it.

A user sees the units in the subtrees of their memberships. Bureau leaders, inspectors and
administrators see their whole bureau (the nearest bureau or sub-bureau above their unit), as
the seeds have leaders assess every unit and inspectors check any of them. Superusers see all.

Objects are fetched through the `get_*_for_user` helpers, which raise Http404 both for a missing
object and for one outside the user's units, so that a URL never tells whether a record exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from minyi.orgs.models import Area, Membership, Role, Unit

WHOLE_BUREAU_ROLES = frozenset({Role.BUREAU_LEADER, Role.INSPECTOR, Role.ADMINISTRATOR})
# The order a user's home page is chosen by when they hold several roles.
ROLE_PRECEDENCE = [
    Role.ADMINISTRATOR,
    Role.BUREAU_LEADER,
    Role.DISPATCHER,
    Role.OPINION_OFFICER,
    Role.INSPECTOR,
    Role.LEGAL_REVIEWER,
    Role.UNIT_HEAD,
    Role.UNIT_HANDLER,
]

_CACHE_ATTR = "_minyi_access"


def _memberships(user: Any) -> list[Membership]:
    cache = getattr(user, _CACHE_ATTR, None)
    if cache is None:
        cache = {"memberships": list(user.memberships.select_related("unit"))}
        setattr(user, _CACHE_ATTR, cache)
    return cache["memberships"]


def forget(user: Any) -> None:
    """Drop what was worked out for this user (after their memberships change)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def memberships_of(user: Any) -> list[Membership]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    return _memberships(user)


def primary_membership(user: Any) -> Membership | None:
    memberships = memberships_of(user)
    if not memberships:
        return None
    return min(
        memberships,
        key=lambda m: (not m.is_primary, ROLE_PRECEDENCE.index(m.role), m.pk),
    )


def roles_of(user: Any) -> set[str]:
    roles = {m.role for m in memberships_of(user)}
    if getattr(user, "is_superuser", False) and user.is_active:
        roles.add(Role.ADMINISTRATOR)
    return roles


def has_role(user: Any, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def home_role(user: Any) -> str | None:
    """The role whose home page the user lands on."""
    primary = primary_membership(user)
    if primary is not None:
        return primary.role
    return Role.ADMINISTRATOR if getattr(user, "is_superuser", False) else None


def require_role(user: Any, *roles: str) -> None:
    """For pages that belong to a role (entering holidays, dispatching): 403 for the others."""
    if not has_role(user, *roles):
        raise PermissionDenied("您的岗位没有此项权限")


def scope_paths(user: Any) -> list[str] | None:
    """The tree paths of the subtrees the user sees; None means everything."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return None
    cache = getattr(user, _CACHE_ATTR, None) or {}
    if "paths" in cache:
        return cache["paths"]
    roots: list[Unit] = []
    for membership in _memberships(user):
        if membership.role in WHOLE_BUREAU_ROLES:
            roots.append(membership.unit.bureau())
        else:
            roots.append(membership.unit)
    paths = sorted({u.path for u in roots})
    # A path inside another one adds nothing.
    paths = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    getattr(user, _CACHE_ATTR)["paths"] = paths
    return paths


def _path_filter(field: str, paths: Iterable[str]) -> Q:
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in paths), Q(pk__in=[]))


def visible_units(user: Any) -> QuerySet[Unit]:
    paths = scope_paths(user)
    if paths is None:
        return Unit.objects.all()
    return Unit.objects.filter(_path_filter("path", paths))


def unit_filter(user: Any, field: str = "unit") -> Q:
    """A filter for any model with a foreign key to Unit: rows of the units the user sees."""
    paths = scope_paths(user)
    if paths is None:
        return Q()
    return _path_filter(f"{field}__path", paths)


def can_see_unit(user: Any, unit: Unit) -> bool:
    paths = scope_paths(user)
    return paths is None or any(unit.path.startswith(p) for p in paths)


def get_unit_for_user(user: Any, pk: Any) -> Unit:
    try:
        return visible_units(user).get(pk=int(pk))
    except (Unit.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该单位") from None


def visible_areas(user: Any) -> QuerySet[Area]:
    return Area.objects.filter(unit_filter(user, "station"))


def get_area_for_user(user: Any, pk: Any) -> Area:
    try:
        return visible_areas(user).select_related("station", "parent").get(pk=int(pk))
    except (Area.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该区域") from None


def visible_users(user: Any) -> QuerySet:
    """Colleagues: the people with a membership in a unit the user sees."""
    from minyi.orgs.models import User

    paths = scope_paths(user)
    if paths is None:
        return User.objects.all()
    return User.objects.filter(_path_filter("memberships__unit__path", paths)).distinct()


# Roles whose work is every order of their bureau: the command centre dispatches and reviews
# them, the opinion office calls back, the legal squad reviews law-enforcement orders (seed
# 001: 督察、法制、信访 review every day's reports).
ORDER_WIDE_ROLES = WHOLE_BUREAU_ROLES | {Role.DISPATCHER, Role.OPINION_OFFICER,
                                         Role.LEGAL_REVIEWER}
UNIT_ROLES = frozenset({Role.UNIT_HANDLER, Role.UNIT_HEAD})


def _order_scope(user: Any) -> tuple[list[str], list[str]] | None:
    """(bureau paths, unit paths) whose orders the user sees; None means all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return [], []
    if user.is_superuser:
        return None
    cache = getattr(user, _CACHE_ATTR, None)
    if cache is None:
        _memberships(user)
        cache = getattr(user, _CACHE_ATTR)
    if "order_scope" not in cache:
        bureaus, units = set(), set()
        for membership in _memberships(user):
            if membership.role in ORDER_WIDE_ROLES:
                bureaus.add(membership.unit.bureau().path)
            else:
                units.add(membership.unit.path)
        cache["order_scope"] = (sorted(bureaus), sorted(units))
    return cache["order_scope"]


def order_arms(user: Any) -> list[Q] | None:
    """The parts of the user's order scope, each served by an index of its own: the orders of
    the user's bureaus for order-wide roles; for a unit's people, the orders their units (and
    the units below) lead, and those they help with. None means every order."""
    from minyi.orders.models import Assignment

    scope = _order_scope(user)
    if scope is None:
        return None
    bureaus, units = scope
    arms = []
    if bureaus:
        # The ids of the bureaus (and sub-bureaus) in scope, not a join on their paths: the
        # list of a million orders then reads the (bureau, received_at) index directly.
        arms.append(Q(bureau_id__in=list(
            Unit.objects.filter(_path_filter("path", bureaus),
                                kind__in=[Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU])
            .values_list("pk", flat=True))))
    if units:
        # Unit ids rather than joins on paths, so that the (lead_unit, received_at) index serves
        # the list of a station's own orders in a table of a million.
        unit_ids = list(Unit.objects.filter(_path_filter("path", units))
                        .values_list("pk", flat=True))
        arms.append(Q(lead_unit_id__in=unit_ids))
        arms.append(Q(pk__in=Assignment.objects.filter(unit_id__in=unit_ids, is_lead=False,
                                                       ended_at__isnull=True)
                      .values("order_id")))
    return arms


def _combined(arms: list[Q] | None) -> Q:
    if arms is None:
        return Q()
    q = Q(pk__in=[])
    for arm in arms:
        q |= arm
    return q


def order_filter(user: Any) -> Q:
    """One condition for the orders the user sees (see `order_arms`)."""
    return _combined(order_arms(user))


def bureaus_with_role(user: Any, roles: Iterable[str]) -> list[Unit]:
    """The bureaus (or sub-bureaus) in which the user holds one of `roles`: where they may, for
    example, import records. Every bureau for a superuser."""
    if getattr(user, "is_superuser", False):
        return list(Unit.objects.filter(kind__in=(Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU)))
    roles = set(roles)
    found: dict[int, Unit] = {}
    for membership in memberships_of(user):
        if membership.role in roles:
            bureau = membership.unit.bureau()
            found[bureau.pk] = bureau
    return list(found.values())


def unit_scope_q(user: Any, *, bureau_field: str = "bureau",
                 unit_field: str = "unit") -> Q | None:
    """Records that belong to a bureau and a unit (callback tasks, rectifications …): those of
    the user's bureaus for the bureau-wide roles, of their units' subtrees for a unit's people.
    None means all (a superuser); nothing for anyone not logged in."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return None
    q = Q(pk__in=[])
    for membership in memberships_of(user):
        if membership.role in ORDER_WIDE_ROLES:
            q |= Q(**{f"{bureau_field}__path__startswith": membership.unit.bureau().path})
        else:
            q |= Q(**{f"{unit_field}__path__startswith": membership.unit.path})
    return q


def visible_orders(user: Any) -> QuerySet:
    from minyi.orders.models import Order

    arms = order_arms(user)
    qs = Order.objects.filter(_combined(arms))
    # A page of a scope of several parts is taken part by part (OrderQuerySet.fetch_slice).
    qs.scope_arms = arms if arms and len(arms) > 1 else None
    return qs


def get_order_for_user(user: Any, pk: Any) -> Any:
    from minyi.orders.models import Order

    try:
        return visible_orders(user).get(pk=int(pk))
    except (Order.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该工单") from None


def acts_for_unit(user: Any, unit: Unit | None, roles: Iterable[str] = UNIT_ROLES) -> bool:
    """Whether the user holds one of `roles` in `unit` or a unit above it."""
    if unit is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    roles = set(roles)
    return any(
        m.role in roles and unit.path.startswith(m.unit.path) for m in _memberships(user)
    )


def bureau_role(user: Any, bureau: Unit, roles: Iterable[str]) -> bool:
    """Whether the user holds one of `roles` somewhere in `bureau`."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    roles = set(roles)
    return any(m.role in roles and m.unit.path.startswith(bureau.path)
               for m in _memberships(user))


# Surveys (民调) belong to a bureau. The opinion office runs them (questionnaires, waves,
# frames, interviews, weights); administrators may set them up too. Their results are
# aggregates with no personal data, read by everyone in the bureau; the single answers and the
# suggestions people wrote are read only by those who run surveys and the bureau's leaders.
SURVEY_MANAGERS = frozenset({Role.OPINION_OFFICER, Role.ADMINISTRATOR})
SURVEY_INTERVIEWERS = frozenset({Role.OPINION_OFFICER})
SURVEY_ANSWER_READERS = SURVEY_MANAGERS | {Role.BUREAU_LEADER}


def survey_bureaus(user: Any, roles: Iterable[str] | None = None) -> list[Unit]:
    """The bureaus whose surveys the user may see (any role), or act on with `roles`."""
    return bureaus_with_role(user, roles if roles is not None else set(Role.values))


def may_manage_surveys(user: Any, bureau: Unit) -> bool:
    return getattr(user, "is_superuser", False) or bureau_role(user, bureau, SURVEY_MANAGERS)


def may_interview(user: Any, bureau: Unit) -> bool:
    return getattr(user, "is_superuser", False) or bureau_role(user, bureau,
                                                               SURVEY_INTERVIEWERS)


def may_read_survey_answers(user: Any, bureau: Unit) -> bool:
    return getattr(user, "is_superuser", False) or bureau_role(user, bureau,
                                                               SURVEY_ANSWER_READERS)


def visible_waves(user: Any) -> QuerySet:
    from minyi.surveys.models import Wave

    return Wave.objects.filter(bureau__in=survey_bureaus(user))


def get_wave_for_user(user: Any, pk: Any) -> Any:
    from minyi.surveys.models import Wave

    try:
        return visible_waves(user).select_related("bureau", "version__questionnaire").get(
            pk=int(pk))
    except (Wave.DoesNotExist, ValueError, TypeError):
        raise Http404("没有找到该调查") from None
