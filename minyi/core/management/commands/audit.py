from django.core.management.base import BaseCommand, CommandError

from minyi.core.actions import verify_audit_chain


class Command(BaseCommand):
    help = (
        "审计链：verify 逐条校验哈希链，通过时输出 ok N，"
        "否则输出第一条断链事件的编号并以非零状态退出。"
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="校验审计链")

    def handle(self, *args, **options) -> None:
        check = verify_audit_chain(actor=None)
        if check.ok:
            self.stdout.write(f"ok {check.rows}")
            return
        self.stdout.write(str(check.broken_event_id))
        raise CommandError(
            f"审计链在第 {check.broken_event_id} 号事件处断开：{check.message}", returncode=1
        )
