"""Pages for the public (no login): the rating page a text message links to.

The page shows the unit and the kind of matter, never the person's data (whoever holds the
link sees it). A link that cannot be used answers with a page saying why, in Chinese: 404 for
an unknown link, 410 for one used or expired, 409 when the task was already answered by phone;
nothing is recorded then. The form carries Django's CSRF token, which works for anonymous
visitors through the cookie.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from minyi.callbacks import links
from minyi.callbacks.models import Reason, Satisfaction
from minyi.core.errors import InvalidInput

PROBLEMS = {
    links.UNKNOWN: ("链接无效", "没有找到这个评价链接，请核对短信中的链接是否完整。"),
    links.USED: ("您已经评价过了", "这个评价链接已经使用过，每条链接只能评价一次。感谢您的支持！"),
    links.EXPIRED: ("链接已过期", "这个评价链接已超过有效期。如需评价，请等待民警回访电话。"),
    links.ANSWERED: ("已通过电话回访评价",
                     "您已在电话回访中作出评价，无需再次评价。感谢您的支持！"),
    links.CLOSED: ("评价已结束", "这项回访已经结束，不再接受评价。"),
    links.RETRY: ("暂时未能保存", "您的评价这次没有保存成功，请稍后用同一链接再试一次。"),
}


CHOOSE = "请选择满意、基本满意或不满意"


class RatingForm(forms.Form):
    satisfaction = forms.ChoiceField(label="您对民警的服务是否满意？", choices=Satisfaction.choices,
                                     error_messages={"required": CHOOSE, "invalid_choice": CHOOSE})
    reasons = forms.MultipleChoiceField(label="不满意的原因（可多选）", choices=Reason.choices,
                                        required=False,
                                        widget=forms.CheckboxSelectMultiple)
    comment = forms.CharField(label="意见和建议（选填）", required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 3,
                                                           "placeholder": "请写下您的意见和建议"}),
                              error_messages={"max_length": "意见和建议最多 500 字"})

    def clean(self) -> dict:
        data = super().clean()
        if data.get("satisfaction") == Satisfaction.DISSATISFIED and not data.get("reasons"):
            self.add_error("reasons", "请选择不满意的原因")
        return data


def _problem(request: HttpRequest, status: str) -> HttpResponse:
    title, text = PROBLEMS[status]
    return render(request, "public/rate_problem.html", {"title": title, "text": text,
                                                        "status": status},
                  status=links.STATUS[status])


@login_not_required
@never_cache
@csrf_protect
def rate(request: HttpRequest, token: str) -> HttpResponse:
    link = links.find_link(token)
    status = links.check(link)
    if status != links.OK:
        return _problem(request, status)
    task = link.task
    form = RatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = links.submit_rating(token=token, satisfaction=data["satisfaction"],
                                          reasons=data["reasons"], comment=data["comment"])
        except InvalidInput as exc:
            form.add_error(None, str(exc))
        else:
            if outcome.status != links.OK:
                return _problem(request, outcome.status)
            return render(request, "public/rate_thanks.html", {
                "task": task, "answer": outcome.answer})
    return render(request, "public/rate.html", {
        "task": task, "unit": task.unit, "contact": task.contact, "form": form,
        "satisfactions": Satisfaction.choices, "reasons": Reason.choices,
        "chosen": form["satisfaction"].value() or "",
        "chosen_reasons": form["reasons"].value() or [],
    }, status=400 if request.method == "POST" else 200)
