"""`minyi apitoken …`: officers' own API tokens.

    minyi apitoken create --user USERNAME --name 工作手机 [--days N]
    minyi apitoken list [--user USERNAME]
    minyi apitoken revoke --prefix miu_XXXXXXXX

create prints one JSON line with the token: the only time it is shown (only its hash is kept).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from minyi.api import actions
from minyi.api.models import ApiToken
from minyi.core.errors import InvalidInput
from minyi.orgs.models import User

BAD_INPUT = 2


class Command(BaseCommand):
    help = "民警本人的接口令牌：create 生成（只显示一次），list 列出，revoke 撤销。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create", help="为用户生成令牌")
        create.add_argument("--user", required=True, help="登录名")
        create.add_argument("--name", required=True, help="用途，如：所里的工作手机")
        create.add_argument("--days", type=int, default=0, help="有效天数；0 为长期有效")
        listing = sub.add_parser("list", help="列出令牌（不含令牌本身）")
        listing.add_argument("--user", default="", help="只列此登录名的")
        revoke = sub.add_parser("revoke", help="撤销令牌")
        revoke.add_argument("--prefix", required=True, help="令牌前缀（list 中显示的）")

    def handle(self, *args: Any, **options: Any) -> None:
        command = options["subcommand"]
        if command == "create":
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"没有登录名为 {options['user']!r} 的用户", returncode=BAD_INPUT)
            days = options["days"]
            if days < 0:
                raise CommandError("有效天数不能为负数", returncode=BAD_INPUT)
            expires = timezone.now() + timedelta(days=days) if days else None
            try:
                row, token = actions.create_user_token(actor=None, user=user,
                                                       name=options["name"], expires_at=expires)
            except InvalidInput as exc:
                raise CommandError(str(exc), returncode=BAD_INPUT) from exc
            self._print({"user": user.username, "name": row.name, "prefix": row.prefix,
                         "token": token, "expires_at": _iso(row.expires_at)})
        elif command == "list":
            rows = ApiToken.objects.select_related("user")
            if options["user"]:
                rows = rows.filter(user__username=options["user"])
            for row in rows:
                self._print({"user": row.user.username, "name": row.name, "prefix": row.prefix,
                             "created_at": _iso(row.created_at),
                             "last_used_at": _iso(row.last_used_at),
                             "expires_at": _iso(row.expires_at),
                             "revoked_at": _iso(row.revoked_at)})
        elif command == "revoke":
            matches = list(ApiToken.objects.filter(prefix=options["prefix"],
                                                   revoked_at__isnull=True))
            if len(matches) != 1:
                raise CommandError(f"前缀 {options['prefix']!r} 对应 {len(matches)} 个有效令牌，"
                                   "应恰好一个", returncode=BAD_INPUT)
            row = actions.revoke_user_token(actor=None, token=matches[0])
            self._print({"prefix": row.prefix, "revoked_at": _iso(row.revoked_at)})

    def _print(self, data: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False))


def _iso(value: Any) -> str | None:
    return timezone.localtime(value).isoformat() if value else None
