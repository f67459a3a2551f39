"""`minyi intake …`: integrating systems and their feedback.

    minyi intake create-client --name 12345平台 --channel 12345 --bureau CODE [--webhook URL]
    minyi intake rotate-token --client ID
    minyi intake list-clients
    minyi intake deliver-feedback

create-client and rotate-token print one JSON line with the token, the only time it is shown
(only its hash is kept); with --webhook, also the secret the platform checks signatures with.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator

from minyi.api import actions
from minyi.core.errors import InvalidInput
from minyi.intake import feedback
from minyi.intake.models import Channel, IntegrationClient
from minyi.orgs.models import Unit

BAD_INPUT = 2


class Command(BaseCommand):
    help = "对接系统：create-client 新建并生成令牌，rotate-token 更换令牌，list-clients 列出，" \
           "deliver-feedback 立即推送到期的反馈。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create-client", help="新建对接系统，输出其令牌（只显示一次）")
        create.add_argument("--name", required=True, help="系统名称，如 12345政务服务热线平台")
        create.add_argument("--channel", required=True, help="默认渠道代码，如 12345")
        create.add_argument("--bureau", required=True, help="所属公安局的单位代码")
        create.add_argument("--webhook", default="", help="反馈地址（接收办理结果的 URL）")
        create.add_argument("--secret", default="",
                            help="反馈签名密钥；不填且有反馈地址时自动生成")
        rotate = sub.add_parser("rotate-token", help="更换令牌：旧令牌立即失效")
        rotate.add_argument("--client", required=True, type=int, help="对接系统编号")
        sub.add_parser("list-clients", help="列出对接系统（不含令牌）")
        sub.add_parser("deliver-feedback", help="立即推送到期的反馈，输出尝试条数")

    def handle(self, *args: Any, **options: Any) -> None:
        command = options["subcommand"]
        try:
            if command == "create-client":
                self._create(options)
            elif command == "rotate-token":
                client = IntegrationClient.objects.filter(pk=options["client"]).first()
                if client is None:
                    raise CommandError(f"没有编号为 {options['client']} 的对接系统",
                                       returncode=BAD_INPUT)
                token = actions.rotate_client_token(actor=None, client=client)
                self._print({"client": client.pk, "name": client.name, "token": token})
            elif command == "list-clients":
                for c in IntegrationClient.objects.select_related("channel", "bureau"):
                    self._print({"client": c.pk, "name": c.name, "channel": c.channel.code,
                                 "bureau": c.bureau.code, "token_prefix": c.token_prefix,
                                 "webhook_url": c.webhook_url, "active": c.is_active})
            elif command == "deliver-feedback":
                self._print({"tried": feedback.deliver_due()})
        except InvalidInput as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from exc

    def _create(self, options: dict[str, Any]) -> None:
        channel = Channel.objects.filter(code=options["channel"], is_active=True).first()
        if channel is None:
            raise CommandError(f"没有启用的渠道 {options['channel']!r}", returncode=BAD_INPUT)
        bureau = Unit.objects.filter(code=options["bureau"],
                                     kind__in=[Unit.Kind.BUREAU, Unit.Kind.SUB_BUREAU]).first()
        if bureau is None:
            raise CommandError(f"没有单位代码为 {options['bureau']!r} 的公安局",
                               returncode=BAD_INPUT)
        webhook = options["webhook"].strip()
        if webhook:
            try:
                URLValidator(schemes=["http", "https"])(webhook)
            except ValidationError:
                raise CommandError(f"反馈地址不是有效的 http(s) 地址：{webhook}",
                                   returncode=BAD_INPUT) from None
        client, token = actions.create_client(
            actor=None, name=options["name"], channel=channel, bureau=bureau,
            webhook_url=webhook, webhook_secret=options["secret"])
        self._print({"client": client.pk, "name": client.name, "token": token,
                     "webhook_url": client.webhook_url,
                     "webhook_secret": client.webhook_secret})

    def _print(self, data: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False))
