from django.core.management.base import BaseCommand

from minyi.assessment.programme_demo import load as load_demo_programme
from minyi.intake.seed import seed as seed_channels
from minyi.orders.demo import DEMO_ORDERS, load_demo_orders
from minyi.orders.seed import seed as seed_order_types
from minyi.orgs.demo import BUREAU_CODE, DEMO_LOGINS, DEMO_PASSWORD, load_demo_bureau
from minyi.orgs.models import Unit
from minyi.surveys.demo import load_demo_surveys
from minyi.surveys.seed import seed as seed_index_definitions
from minyi.workcal.seed import seed as seed_calendars


class Command(BaseCommand):
    help = "载入演示数据（沂源县公安局）；可重复执行，已有的数据不会改动。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--quiet-logins", action="store_true", help="不打印演示账号")
        parser.add_argument("--orders", type=int, default=DEMO_ORDERS,
                            help=f"演示工单数量（默认 {DEMO_ORDERS}，0 为不载入工单）")

    def handle(self, *args, quiet_logins: bool = False, orders: int = DEMO_ORDERS,
               **options) -> None:
        # The calendars and holidays come with the migrations; seeding again restores them
        # where they were removed, and changes nothing otherwise.
        seed_calendars()
        seed_channels()
        seed_order_types()
        result = load_demo_bureau()
        created_orders = load_demo_orders(orders) if orders else 0
        created_bulletins = _demo_bulletins() if orders else 0
        created_campaigns = _demo_campaign() if orders else 0
        if orders:
            _demo_callbacks()
        seed_index_definitions()
        surveys = load_demo_surveys(Unit.objects.get(code=BUREAU_CODE)) if orders else None
        created_waves = len(surveys.waves) if surveys and surveys.created else 0
        if orders:
            _demo_monthly_figures()
            _demo_assessment()
        created_programmes = int(load_demo_programme(Unit.objects.get(code=BUREAU_CODE))
                                 is not None)
        if (result.created or created_orders or created_bulletins or created_campaigns
                or created_waves or created_programmes):
            self.stdout.write(f"演示数据已载入：新建 {result.created} 条单位与人员记录，"
                              f"{created_orders} 张工单，{created_bulletins} 期每周通报，"
                              f"{created_campaigns} 项专项整治，{created_waves} 期民意调查，"
                              f"{created_programmes} 份年度工作方案。")
        else:
            self.stdout.write("演示数据已存在，未做任何改动。")
        if quiet_logins:
            return
        self.stdout.write(f"\n演示账号（密码均为 {DEMO_PASSWORD}）：")
        for person in DEMO_LOGINS:
            code = f"{BUREAU_CODE}-{person.unit}" if person.unit else BUREAU_CODE
            unit = Unit.objects.get(code=code)
            self.stdout.write(
                f"  {person.role.label}\t{person.username}\t{person.full_name}"
                f"（{unit.name} {person.title}）"
            )


# The weeks of demo orders that are over: their bulletins, as the Monday job would have made
# them. Generating is idempotent (a week's bulletin is made once), so a second load adds none.
DEMO_BULLETIN_WEEKS = 4


def _demo_bulletins() -> int:
    from django.utils import timezone

    from minyi.assessment.bulletins import generate
    from minyi.assessment.rules import last_complete_week

    bureau = Unit.objects.get(code=BUREAU_CODE)
    week = last_complete_week(timezone.localdate())
    weeks = [week]
    for _ in range(DEMO_BULLETIN_WEEKS - 1):
        weeks.append(weeks[-1].previous())
    return sum(generate(actor=None, bureau=bureau, week=w)[1] for w in reversed(weeks))


def _demo_campaign() -> int:
    """A special campaign opened from the demo's hottest issue (once: a second load adds none)."""
    from minyi.campaigns.demo import load_demo_campaigns

    return int(load_demo_campaigns(Unit.objects.get(code=BUREAU_CODE)) is not None)


def _demo_callbacks() -> None:
    """Callback plans, contacts from the closed demo orders and the last week's draws, so that
    the desk has tasks (idempotent: a second load draws nothing new)."""
    from minyi.callbacks.demo import load_demo_callbacks

    load_demo_callbacks(Unit.objects.get(code=BUREAU_CODE))


def _demo_monthly_figures() -> None:
    """The monthly figures of this year so far, which the leadership dashboard reads (the job
    keeps only the current and the previous month up to date); recounting is idempotent."""
    from datetime import date

    from django.utils import timezone

    from minyi.assessment import facts

    bureau = Unit.objects.get(code=BUREAU_CODE)
    today = timezone.localdate()
    for month in range(1, today.month + 1):
        facts.recount(bureau=bureau, month=date(today.year, month, 1))


def _demo_assessment() -> None:
    """The year's assessment scheme and the last complete month scored and closed, so that the
    demo has a closed month's ranking (idempotent: an existing scheme or closed month is kept)."""
    from django.utils import timezone

    from minyi.assessment import months
    from minyi.assessment.facts import previous_month
    from minyi.assessment.models import AssessmentMonth, Scheme
    from minyi.orgs.models import Role, User

    bureau = Unit.objects.get(code=BUREAU_CODE)
    actor = User.objects.filter(memberships__role=Role.OPINION_OFFICER,
                                memberships__unit__path__startswith=bureau.path).first()
    if actor is None:
        return
    today = timezone.localdate()
    month = previous_month(today.replace(day=1))
    if not Scheme.objects.filter(bureau=bureau, year=month.year).exists():
        months.create_default_scheme(actor=actor, bureau=bureau, year=month.year)
    assessment = months.run(actor=actor, bureau=bureau, month=month)
    if assessment.state != AssessmentMonth.State.CLOSED:
        months.close(actor=actor, assessment=assessment)
