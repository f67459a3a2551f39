"""The pages: who may see what (404 for the others), the forms, and the order-list links."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from minyi.campaigns import actions
from minyi.campaigns.models import Campaign, CampaignTask
from minyi.campaigns.tests.conftest import REQUIREMENTS
from minyi.core.audit import events_for

REPORT = "已对三处广场舞点位夜间巡查 12 次，约谈组织者 3 人。"


def page(client, user, url, status=200):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, response.content.decode()[:500]
    return response.content.decode()


# --- hot issues ------------------------------------------------------------------------------


def test_hot_page(client, bureau, dispatcher, orders):
    html = page(client, dispatcher, reverse("campaigns:hot") + "?period=2026-W10")
    assert "2026年第10周（3月2日—3月8日）" in html
    assert 'data-testid="hot-order-types"' in html and 'data-testid="hot-keywords"' in html
    assert "显著上升" in html and "p &lt; 0.01" in html and "热点口径 2026.1" in html
    # Each row offers a campaign, prefilled from the row.
    links = re.findall(r'href="([^"]+)" data-testid="start-campaign"', html)
    assert "/campaigns/new/?source=order_type&amp;key=noise&amp;period=2026-W10" in links


def test_hot_page_defaults_to_the_last_complete_period(client, dispatcher):
    from django.utils import timezone

    from minyi.campaigns import hot

    today = timezone.localdate()
    html = page(client, dispatcher, reverse("campaigns:hot"))
    assert hot.default_period(hot.WEEK, today).title in html and "本期共受理工单 " in html
    html = page(client, dispatcher, reverse("campaigns:hot") + "?kind=month")
    assert f"<h2>{hot.default_period(hot.MONTH, today).title}</h2>" in html


@pytest.mark.parametrize(("value", "message"), [
    ("2026-W60", "2026 年没有第 60 周"), ("2026-13", "不是有效的月份"),
    ("yesterday", "周写作 2026-W47，月写作 2026-11")])
def test_hot_page_bad_period(client, dispatcher, value, message):
    html = page(client, dispatcher, reverse("campaigns:hot") + f"?period={value}", status=400)
    assert "统计周期有误" in html and message in html


@pytest.mark.parametrize("role", ["handler", "outsider"])
def test_hot_page_is_for_bureau_roles(request, client, role):
    page(client, request.getfixturevalue(role), reverse("campaigns:hot"), status=403)


def test_hot_page_for_a_leader_offers_campaigns_but_not_for_an_inspector(
        client, leader, inspector, orders):
    url = reverse("campaigns:hot") + "?period=2026-W10"
    assert 'data-testid="start-campaign"' in page(client, leader, url)
    assert 'data-testid="start-campaign"' not in page(client, inspector, url)


# --- issuing ---------------------------------------------------------------------------------


def test_new_is_prefilled_from_a_row(client, bureau, dispatcher, orders):
    url = reverse("campaigns:new") + f"?source=area&key={bureau.township.pk}&period=2026-W10"
    html = page(client, dispatcher, url)
    assert "来源热点：区域「东城镇」" in html
    assert "东城镇群众诉求集中问题专项整治" in html
    assert "相关群众诉求 6 件" in html
    # The area's station is ticked.
    assert re.search(rf'value="{bureau.station.pk}"[^>]*checked', html)
    html = page(client, dispatcher, reverse("campaigns:new")
                + "?source=keyword&key=噪音&period=2026-W10")
    assert "噪音问题专项整治" in html and "相关群众诉求 6 件" in html


def test_issue_through_the_form(client, bureau, dispatcher):
    client.force_login(dispatcher)
    url = reverse("campaigns:new")
    response = client.post(url, {"title": "噪音扰民问题专项整治", "requirements": REQUIREMENTS,
                                 "units": [bureau.station.pk, bureau.other_station.pk],
                                 "deadline": "2099-12-31T17:30", "source": "order_type",
                                 "key": "noise", "period": "2026-W10"})
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    assert (campaign.source_kind, campaign.source_label, campaign.source_period) == (
        "order_type", "噪音扰民", "2026-W10")
    assert campaign.tasks.count() == 2
    assert events_for(campaign).get().action == "campaign.issue"


def test_issue_form_errors_in_chinese(client, bureau, dispatcher):
    client.force_login(dispatcher)
    response = client.post(reverse("campaigns:new"), {"title": "", "requirements": "短",
                                                      "deadline": "2000-01-01T08:00",
                                                      "period": "2026-W99"})
    html = response.content.decode()
    assert response.status_code == 400
    for message in ("请填写专项整治的标题", "请至少选择一个责任单位", "完成期限须晚于现在",
                    "2026 年没有第 99 周"):
        assert message in html
    response = client.post(reverse("campaigns:new"), {
        "title": "整治", "requirements": "短", "units": [bureau.station.pk],
        "deadline": "2099-01-01T08:00"})
    assert response.status_code == 400 and "不少于 10 个字" in response.content.decode()
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("role", ["handler", "inspector", "outsider"])
def test_new_is_for_the_issuing_side(request, client, role):
    page(client, request.getfixturevalue(role), reverse("campaigns:new"), status=403)


# --- the campaign and its tasks --------------------------------------------------------------


@pytest.fixture
def campaign(bureau, dispatcher):
    return actions.issue_campaign(actor=dispatcher, bureau=bureau.bureau, title="噪音扰民专项整治",
                                  requirements=REQUIREMENTS, units=[bureau.station])


def test_access(client, bureau, campaign, dispatcher, leader, inspector, handler, outsider):
    url = reverse("campaigns:detail", args=[campaign.pk])
    for user in (dispatcher, leader, inspector, handler):
        assert campaign.display_number in page(client, user, url)
    page(client, outsider, url, status=404)
    page(client, outsider, reverse("campaigns:detail", args=[campaign.pk + 99]), status=404)
    assert campaign.display_number not in page(client, outsider, reverse("campaigns:list"))
    assert campaign.display_number in page(client, handler, reverse("campaigns:list"))
    task = campaign.tasks.get()
    client.force_login(outsider)
    for action in ("sign", "report", "accept", "return"):
        response = client.post(reverse("campaigns:task_act", args=[campaign.pk, task.pk, action]),
                               {"report": REPORT, "reason": "不行"})
        assert response.status_code == 404
    assert client.post(reverse("campaigns:close", args=[campaign.pk])).status_code == 404
    assert CampaignTask.objects.get().state == "issued"


def test_a_unit_sees_only_its_own_task(client, bureau, dispatcher, handler, outsider):
    campaign = actions.issue_campaign(actor=dispatcher, bureau=bureau.bureau, title="整治",
                                      requirements=REQUIREMENTS,
                                      units=[bureau.station, bureau.other_station])
    actions.report_task(actor=handler, task=campaign.tasks.get(unit=bureau.station),
                        report=REPORT)
    url = reverse("campaigns:detail", args=[campaign.pk])
    html = page(client, outsider, url)
    assert 'data-unit="西城派出所"' in html and 'data-unit="东城派出所"' not in html
    assert REPORT not in html
    html = page(client, dispatcher, url)
    assert 'data-unit="西城派出所"' in html and REPORT in html


def test_the_flow_through_the_pages(client, bureau, campaign, dispatcher, handler):
    task = campaign.tasks.get()
    url = reverse("campaigns:detail", args=[campaign.pk])

    def act(user, action, data=None, status=302):
        client.force_login(user)
        response = client.post(reverse("campaigns:task_act", args=[campaign.pk, task.pk, action]),
                               data or {})
        assert response.status_code == status, response.content.decode()[:300]
        return response.content.decode()

    html = page(client, handler, url)
    assert 'data-testid="act-sign"' in html and 'data-testid="act-accept"' not in html
    act(dispatcher, "sign", status=403)
    act(handler, "sign")
    assert "已签收" in act(handler, "sign", status=409)
    assert "请填写整治情况" in act(handler, "report", {"report": ""}, status=400)
    assert "不少于 10 个字" in act(handler, "report", {"report": "已整治"}, status=400)
    act(handler, "report", {"report": REPORT})
    act(handler, "accept", status=403)
    html = page(client, dispatcher, url)
    assert 'data-testid="act-accept"' in html and 'data-testid="act-return"' in html
    assert "请填写退回理由" in act(dispatcher, "return", {"reason": ""}, status=400)
    act(dispatcher, "return", {"reason": "请写明巡查时间"})
    act(handler, "report", {"report": REPORT + "每晚八点至十点。"})
    act(dispatcher, "accept")
    assert "验收通过" in act(dispatcher, "accept", status=409)
    actions_done = [e.action for e in events_for(task).order_by("id")]
    assert actions_done == ["campaign.sign", "campaign.report", "campaign.return",
                            "campaign.report", "campaign.accept"]
    html = page(client, dispatcher, url)
    assert "已验收" in html and "1/1 个单位已验收" in html
    client.force_login(handler)
    assert client.post(reverse("campaigns:close", args=[campaign.pk])).status_code == 403
    client.force_login(dispatcher)
    response = client.post(reverse("campaigns:close", args=[campaign.pk]), {"note": "完成"})
    assert response.status_code == 302
    assert client.post(reverse("campaigns:close", args=[campaign.pk])).status_code == 409
    assert "已结束" in page(client, dispatcher, url)


def test_list_shows_progress_and_overdue(client, bureau, dispatcher, handler):
    from datetime import timedelta

    from django.utils import timezone

    campaign = actions.issue_campaign(actor=dispatcher, bureau=bureau.bureau, title="整治",
                                      requirements=REQUIREMENTS,
                                      units=[bureau.station, bureau.other_station])
    task = campaign.tasks.get(unit=bureau.station)
    actions.report_task(actor=handler, task=task, report=REPORT)
    actions.accept_task(actor=dispatcher, task=task)
    html = page(client, dispatcher, reverse("campaigns:list"))
    assert "1/2 个单位已完成" in html and 'data-testid="overdue"' not in html
    Campaign.objects.filter(pk=campaign.pk).update(deadline=timezone.now() - timedelta(hours=1))
    html = page(client, dispatcher, reverse("campaigns:list"))
    assert "1 个单位逾期" in html and "campaign-overdue" in html
    html = page(client, dispatcher, reverse("campaigns:detail", args=[campaign.pk]))
    assert html.count('data-testid="task-overdue"') == 1
    assert "1/2" not in page(client, dispatcher, reverse("campaigns:list") + "?state=closed")


def test_a_unit_sees_its_tasks_to_do_on_the_list(client, bureau, campaign, handler):
    html = page(client, handler, reverse("campaigns:list"))
    assert 'data-testid="my-tasks"' in html and "待签收" in html


def test_links_keep_their_filters(client, dispatcher, orders):
    html = page(client, dispatcher, reverse("campaigns:hot") + "?period=2026-W10")
    hrefs = re.findall(r'href="(/orders/\?[^"]+)" data-testid="hot-current"', html)
    params = [parse_qs(urlparse(h.replace("&amp;", "&")).query) for h in hrefs]
    assert {"received_from": ["2026-03-02"], "received_to": ["2026-03-08"],
            "order_type": ["noise"]} in params
    assert any(p.get("q") == ["噪音"] for p in params)
