"""The web link (网上自填): sending (one active link per member, only for a fielding wave with
the web on), and the public page /p/s/<token>/ — good, used, expired, superseded, answered by
phone, wave closed, quota full — with nothing half-written on bad input."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from minyi.core.audit import action_label, events_for, verify_chain
from minyi.core.errors import Conflict, InvalidInput, NotAllowed
from minyi.core.models import Event
from minyi.notifications.models import SmsMessage
from minyi.surveys import desk, weblinks
from minyi.surveys.models import FrameMember, Quota, Response, Wave, WebLink
from minyi.surveys.tests import factories
from minyi.surveys.tests.test_desk import (
    ANSWERS,
    NOW,
    clock,
    generated,
    known,
    other_bureau_officer,
    post_answers,
)
from minyi.testing import race

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave(bureau, opinion_officer) -> Wave:
    made = factories.wave(bureau, opinion_officer, state=Wave.State.FIELDING)
    Quota.objects.create(wave=made, area=bureau.township, target=2)
    return made


def token_of_last_sms() -> str:
    text = SmsMessage.objects.order_by("-pk").values_list("text", flat=True).first() or ""
    found = re.search(r"/p/s/([A-Za-z0-9_\-]+)/", text)
    assert found, text
    return found.group(1)


def send(member: FrameMember, actor) -> str:
    weblinks.send_web_link(actor=actor, member=member)
    return token_of_last_sms()


def url_of(token: str) -> str:
    return reverse("public:survey", args=[token])


# --- sending ---------------------------------------------------------------------------------


def test_sending_texts_a_link_whose_token_is_kept_only_hashed(bureau, wave, opinion_officer,
                                                              settings):
    settings.MINYI_PUBLIC_BASE_URL = "https://minyi.example.gov.cn/"
    m = known(wave, bureau, phone="13912345678")
    with clock(NOW):
        sent = weblinks.send_web_link(actor=opinion_officer, member=m)
    token = token_of_last_sms()
    assert sent.url == f"https://minyi.example.gov.cn/p/s/{token}/"
    sms = SmsMessage.objects.get()
    assert sms.to_masked == "139****5678" and sms.purpose == "survey_link"
    assert sms.text == (f"【测试县公安局】您好！我局正在开展群众安全感满意度调查，诚邀您花几分钟"
                        f"填写问卷：{sent.url} （7日内有效，仅可提交一次）。感谢您的支持！")
    link = WebLink.objects.get()
    assert link.token_hash == weblinks.hash_token(token) and token not in link.token_hash
    assert (link.expires_at, link.sent_by, link.sms, link.used_at) == (
        NOW + timedelta(days=7), opinion_officer, sms, None)
    event = events_for(m).get()
    assert event.action == "survey.link_sent"
    assert event.payload["superseded"] == [] and token not in str(event.payload)
    assert weblinks.check(link, NOW) == weblinks.OK


def test_the_expiry_is_a_setting(bureau, wave, opinion_officer, settings):
    settings.MINYI_SURVEY_LINK_DAYS = 3
    with clock(NOW):
        sent = weblinks.send_web_link(actor=opinion_officer, member=known(wave, bureau))
    assert sent.link.expires_at == NOW + timedelta(days=3)
    assert "3日内有效" in SmsMessage.objects.get().text


def test_a_new_link_supersedes_the_old(client, bureau, wave, opinion_officer):
    m = known(wave, bureau)
    with clock(NOW):
        old = send(m, opinion_officer)
    with clock(NOW + timedelta(hours=1)):
        new = send(m, opinion_officer)
    first, second = WebLink.objects.order_by("pk")
    assert first.expires_at == NOW + timedelta(hours=1)
    assert events_for(m).order_by("-id").first().payload["superseded"] == [first.pk]
    with clock(NOW + timedelta(hours=2)):
        response = client.get(url_of(old))
        assert client.get(url_of(new)).status_code == 200
    assert response.status_code == 410 and "请使用最新一条短信中的链接" in response.content.decode()
    assert weblinks.check(second, NOW + timedelta(days=7, hours=1)) == weblinks.EXPIRED
    assert weblinks.check(first, NOW + timedelta(hours=2)) == weblinks.SUPERSEDED


def test_sending_needs_a_fielding_wave_with_the_web_on(bureau, opinion_officer):
    draft = factories.wave(bureau, opinion_officer)
    with pytest.raises(InvalidInput, match="准备中，不能发送自填短信"):
        weblinks.send_web_link(actor=opinion_officer, member=known(draft, bureau))
    fielding = factories.wave(bureau, opinion_officer, name="不启用网上", state="fielding")
    Wave.objects.filter(pk=fielding.pk).update(web_enabled=False)
    with pytest.raises(InvalidInput, match="未启用网上自填"):
        weblinks.send_web_link(actor=opinion_officer, member=known(fielding, bureau))
    assert WebLink.objects.count() == 0 and SmsMessage.objects.count() == 0


def test_sending_refuses_done_members_full_townships_and_other_people(
        bureau, wave, opinion_officer, handler, administrator):
    done = known(wave, bureau)
    desk.record_response(actor=opinion_officer, member=done, answers=ANSWERS, now=NOW)
    with pytest.raises(Conflict, match="完成问卷（电话访问），不能再发送自填短信"):
        weblinks.send_web_link(actor=opinion_officer, member=done)
    factories.response(wave, bureau.township, ANSWERS)
    with pytest.raises(InvalidInput, match="东城镇的配额已满"):
        weblinks.send_web_link(actor=opinion_officer, member=known(wave, bureau))
    m = known(wave, bureau, area=bureau.other_township)
    for user in (handler, other_bureau_officer()):
        with pytest.raises(NotAllowed):
            weblinks.send_web_link(actor=user, member=m)
    assert WebLink.objects.count() == 0
    weblinks.send_web_link(actor=administrator, member=m)  # a survey manager may send
    assert WebLink.objects.count() == 1


def test_a_number_whose_calls_gave_up_may_still_get_a_link(bureau, wave, opinion_officer):
    m = known(wave, bureau)
    Wave.objects.filter(pk=wave.pk).update(max_attempts=1)
    desk.record_attempt(actor=opinion_officer, member=m, disposition="no_answer", now=NOW)
    m.refresh_from_db()
    assert m.state == "closed"
    weblinks.send_web_link(actor=opinion_officer, member=m)
    assert WebLink.objects.filter(member=m).count() == 1


# --- the public page -------------------------------------------------------------------------


def test_the_page_needs_no_login_and_shows_no_personal_data(client, bureau, wave,
                                                            opinion_officer):
    m = known(wave, bureau, phone="13912345678")
    response = client.get(url_of(send(m, opinion_officer)))
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="survey-form"' in html
    assert "测试县公安局" in html and "您觉得您所在的乡镇（街道）治安状况安全吗？" in html
    for secret in ("13912345678", "139****5678", "东城镇"):
        assert secret not in html
    assert 'data-testid="screener-area"' not in html and "<kbd>" not in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_page_asks_what_the_frame_does_not_know(client, bureau, wave, opinion_officer):
    factories.response(wave, bureau.township, ANSWERS)
    factories.response(wave, bureau.township, ANSWERS)
    html = client.get(url_of(send(generated(wave), opinion_officer))).content.decode()
    for name in ("area", "sex", "age_group"):
        assert f'data-testid="screener-{name}"' in html
    assert '<select name="area"' in html and "东城镇" in html and "西城镇" in html
    assert "配额已满" not in html  # the public is not told about quotas


def test_answering_on_the_web(client, bureau, wave, opinion_officer):
    m = generated(wave)
    with clock(NOW):
        url = url_of(send(m, opinion_officer))
        response = client.post(url, post_answers(
            {**ANSWERS, "antigang_aware": "不知道"}, area=bureau.township.pk, sex="F",
            age_group="18-29"))
    assert response.status_code == 200 and "感谢您的参与" in response.content.decode()
    r = Response.objects.get(member=m)
    expected = {k: v for k, v in ANSWERS.items() if k != "antigang_sat"}
    assert (r.mode, r.interviewer, r.area, r.station, r.sex, r.age_group, r.completed_at) == (
        "web", None, bureau.township, bureau.station, "F", "18-29", NOW)
    assert r.answers == {**expected, "antigang_aware": "不知道"}
    m.refresh_from_db()
    assert (m.state, m.outcome, m.attempts, m.closed_at) == ("done", "I", 0, NOW)
    link = WebLink.objects.get()
    assert link.used_at == NOW
    actions = [e.action for e in events_for(m).order_by("id")]
    assert actions == ["survey.link_sent", "survey.web_response", "survey.link_used"]
    web_event = events_for(m).get(action="survey.web_response")
    assert web_event.actor is None and web_event.payload["mode"] == "web"
    assert verify_chain().ok
    again = client.post(url, post_answers(ANSWERS, area=bureau.township.pk, sex="F",
                                          age_group="18-29"))
    assert again.status_code == 410 and "您已经提交过了" in again.content.decode()
    assert Response.objects.count() == 1


def test_bad_answers_are_shown_and_nothing_is_written(client, bureau, wave, opinion_officer):
    m = generated(wave)
    url = url_of(send(m, opinion_officer))
    events_before = Event.objects.count()
    response = client.post(url, post_answers({**ANSWERS, "problems": ["盗窃", "其他", "黄赌毒",
                                                                      "噪音扰民"],
                                              "sat_police": ""}, sex="M"))
    html = response.content.decode()
    assert response.status_code == 400
    for text in ("请选择受访者所在的乡镇（街道）", "请选择受访者年龄段",
                 "第2题为必答题，请选择", "第9题：最多选3项，现在选了4项"):
        assert text in html
    assert 'value="M" checked' in html
    assert Response.objects.count() == 0 and Event.objects.count() == events_before
    m.refresh_from_db()
    assert (m.state, m.version) == ("pending", 1)
    assert WebLink.objects.get().used_at is None


def test_a_township_of_another_bureau_is_refused(client, bureau, wave, opinion_officer):
    stranger = other_bureau_officer()
    foreign = stranger.memberships.first().unit.children.first().areas.first()
    url = url_of(send(generated(wave), opinion_officer))
    response = client.post(url, post_answers(ANSWERS, area=foreign.pk, sex="M",
                                             age_group="30-39"))
    assert response.status_code == 400
    assert "所选乡镇（街道）不在测试县公安局辖区内" in response.content.decode()
    assert Response.objects.count() == 0


def test_expired_and_unknown_links(client, bureau, wave, opinion_officer):
    m = known(wave, bureau)
    with clock(timezone.now() - timedelta(days=7, seconds=1)):
        url = url_of(send(m, opinion_officer))
    for response in (client.get(url), client.post(url, post_answers(ANSWERS))):
        assert response.status_code == 410 and "链接已过期" in response.content.decode()
    unknown = client.get(url_of("x" * 32))
    assert unknown.status_code == 404 and "链接无效" in unknown.content.decode()
    assert client.get(url_of("x" * 101)).status_code == 404
    assert Response.objects.count() == 0 and WebLink.objects.get().used_at is None


def test_a_number_answered_by_phone_says_so(client, bureau, wave, opinion_officer):
    m = known(wave, bureau)
    url = url_of(send(m, opinion_officer))
    desk.record_response(actor=opinion_officer, member=m, answers=ANSWERS, now=NOW)
    for response in (client.get(url), client.post(url, post_answers(ANSWERS))):
        assert response.status_code == 409
        assert "您已在电话访问中回答过这份问卷" in response.content.decode()
    assert Response.objects.count() == 1 and WebLink.objects.get().used_at is None


def test_a_closed_wave_takes_no_answers(client, bureau, wave, opinion_officer):
    m = known(wave, bureau)
    url = url_of(send(m, opinion_officer))
    Wave.objects.filter(pk=wave.pk).update(state=Wave.State.CLOSED)
    response = client.post(url, post_answers(ANSWERS))
    assert response.status_code == 410 and "这次调查已经结束" in response.content.decode()
    assert Response.objects.count() == 0


def test_a_full_quota_ends_the_web_interview(client, bureau, wave, opinion_officer):
    framed = known(wave, bureau)
    asked = generated(wave)
    framed_url = url_of(send(framed, opinion_officer))
    asked_url = url_of(send(asked, opinion_officer))
    factories.response(wave, bureau.township, ANSWERS)
    factories.response(wave, bureau.township, ANSWERS)
    # the frame's township is known to be full: told at once, nothing written
    response = client.get(framed_url)
    assert response.status_code == 200 and "调查样本已满" in response.content.decode()
    framed.refresh_from_db()
    assert framed.state == "pending"
    # the township asked turns out full: the interview ends screened out, the link used
    response = client.post(asked_url, post_answers(ANSWERS, area=bureau.township.pk, sex="M",
                                                   age_group="30-39"))
    assert response.status_code == 200 and "调查样本已满" in response.content.decode()
    asked.refresh_from_db()
    assert (asked.state, asked.outcome, asked.attempts) == ("closed", "NE", 0)
    assert Response.objects.filter(member=asked).count() == 0
    assert WebLink.objects.get(member=asked).used_at is not None
    assert [e.action for e in events_for(asked).order_by("id")] == [
        "survey.link_sent", "survey.screened_out", "survey.link_used"]


def test_a_response_made_at_the_same_moment_is_told_not_raised(bureau, wave,
                                                               opinion_officer):
    m = known(wave, bureau)
    token = send(m, opinion_officer)
    desk.record_response(actor=opinion_officer, member=m, answers=ANSWERS, now=NOW)
    # as if the check had run before the phone's response was written
    with mock.patch.object(weblinks, "check", return_value=weblinks.OK):
        outcome = weblinks.submit_web_response(token=token, answers=ANSWERS)
    assert outcome.status == weblinks.ANSWERED
    assert Response.objects.count() == 1 and WebLink.objects.get().used_at is None


@pytest.mark.django_db(transaction=True)
def test_the_same_form_sent_twice_at_once_counts_once(bureau, opinion_officer):
    w = factories.wave(bureau, opinion_officer, state=Wave.State.FIELDING)
    m = known(w, bureau)
    token = send(m, opinion_officer)
    results = race(lambda: weblinks.submit_web_response(token=token, answers=ANSWERS),
                   lambda: weblinks.submit_web_response(token=token, answers=ANSWERS))
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert sorted(r[1].status for r in results) == [weblinks.OK, weblinks.USED]
    assert Response.objects.filter(member=m).count() == 1
    assert Event.objects.filter(action="survey.web_response").count() == 1
    assert verify_chain().ok


def test_the_event_labels_are_registered():
    weblinks.register()
    assert action_label("survey.link_sent") == "发送民调自填短信"
    assert action_label("survey.link_used") == "群众通过短信链接提交问卷"
