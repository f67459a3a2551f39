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
from minyi.surveys import answers as answer_rules
from minyi.surveys import desk, weblinks

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


# --- the survey's web link (/p/s/<token>/) -----------------------------------------------------
# The questionnaire of a survey wave, texted to a number of its frame (surveys.weblinks). The
# same rules as the rating page: no personal data shown, a page saying why for each way a link
# cannot be used (404 unknown, 410 used, expired, superseded or closed, 409 answered by phone),
# nothing written then or on bad answers.

SURVEY_PROBLEMS = {
    weblinks.UNKNOWN: ("链接无效", "没有找到这份问卷，请核对短信中的链接是否完整。"),
    weblinks.USED: ("您已经提交过了",
                    "这个问卷链接已经使用过，每条链接只能提交一次。感谢您的支持！"),
    weblinks.EXPIRED: ("链接已过期", "这个问卷链接已超过有效期，感谢您的关注。"),
    weblinks.SUPERSEDED: ("链接已失效",
                          "我们后来又给您发送了新的问卷短信，请使用最新一条短信中的链接。"),
    weblinks.ANSWERED: ("您已完成调查",
                        "您已在电话访问中回答过这份问卷，无需再次填写。感谢您的支持！"),
    weblinks.CLOSED: ("调查已结束", "这次调查已经结束，不再接受问卷。感谢您的关注！"),
    weblinks.QUOTA_FULL: ("调查样本已满",
                          "您所在乡镇（街道）的调查样本已经收集完毕，无需再填写。感谢您的支持！"),
}


def _survey_problem(request: HttpRequest, status: str) -> HttpResponse:
    title, text = SURVEY_PROBLEMS[status]
    return render(request, "public/rate_problem.html",
                  {"title": title, "text": text, "status": status},
                  status=weblinks.STATUS[status])


@login_not_required
@never_cache
@csrf_protect
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """The wave's questionnaire, answered by the person the link was texted to. The township,
    sex and age group are asked when the frame does not know them. Bad answers are shown next
    to their questions and nothing is written."""
    link = weblinks.find_link(token)
    status = weblinks.check(link)
    if status != weblinks.OK:
        return _survey_problem(request, status)
    member = link.member
    questions = answer_rules.questions_of(member.wave.version)
    data, problems, message = None, {}, ""
    if request.method == "POST":
        data = request.POST
        try:
            outcome = weblinks.submit_web_response(
                token=token, answers=answer_rules.from_post(questions, data),
                area=data.get("area") or None, sex=data.get("sex", ""),
                age_group=data.get("age_group", ""))
        except answer_rules.AnswerErrors as exc:
            problems = exc.problems
        except InvalidInput as exc:
            message = str(exc)
        else:
            if outcome.status != weblinks.OK:
                return _survey_problem(request, outcome.status)
            return render(request, "surveys/web/thanks.html", {"bureau": member.wave.bureau})
    values = answer_rules.from_post(questions, data) if data is not None else {}
    return render(request, "surveys/web/survey.html", {
        "wave": member.wave,
        "screeners": desk.respondent_questions(member, data, problems, for_public=True),
        "fqs": answer_rules.form_questions(questions, values, problems),
        "problems": list(problems.values()), "message": message,
    }, status=400 if request.method == "POST" else 200)
