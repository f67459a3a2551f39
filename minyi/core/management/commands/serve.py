from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "启动网站（waitress）及进程内定时任务；生产环境请用 gunicorn/uwsgi 与 Celery。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-scheduler", action="store_true", help="不启动进程内定时任务")

    def handle(self, *args, host: str, port: int, threads: int, no_scheduler: bool, **options):
        from django.core.wsgi import get_wsgi_application
        from waitress import serve

        from minyi.core.scheduler import start_scheduler

        call_command("collectstatic", interactive=False, verbosity=0)
        # A new handler, made after collectstatic: WhiteNoise lists the static files when its
        # middleware is built, and a handler built earlier would not know the fresh ones.
        application = get_wsgi_application()
        if settings.MINYI_INPROCESS_SCHEDULER and not no_scheduler:
            start_scheduler()
        self.stdout.write(f"民意平台已启动：http://{host}:{port}/  （Ctrl+C 停止）")
        serve(application, host=host, port=port, threads=threads, ident="minyi")
