import factory

from minyi.intake.models import Channel
from minyi.orders.models import OrderType


def channel(code: str = "12345") -> Channel:
    return Channel.objects.get_or_create(code=code, defaults={"name": f"渠道{code}"})[0]


def order_type(code: str = "noise") -> OrderType:
    return OrderType.objects.get(code=code)


class OrderTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderType

    code = factory.Sequence(lambda n: f"type{n}")
    name = factory.Sequence(lambda n: f"类型{n}")
    business_class = "law_enforcement"
