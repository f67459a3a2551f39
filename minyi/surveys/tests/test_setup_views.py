"""The set-up pages: a manager builds a wave from the template to fielding; a station handler of
the bureau sees the waves but may change nothing (403); an officer of another bureau gets 404
on every wave page; bad input is answered on the form in Chinese, with nothing written."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from minyi.core.models import Event
from minyi.intake.models import ImportBatch
from minyi.intake.tests.test_import_support import read_xlsx, write_csv
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import AreaFactory, MembershipFactory, UnitFactory, UserFactory
from minyi.surveys import actions
from minyi.surveys.frames import import_frame
from minyi.surveys.models import FrameMember, Questionnaire, QuestionnaireVersion, Quota, Wave
from minyi.surveys.tests import factories

pytestmark = pytest.mark.django_db
HEADER = ["电话", "乡镇", "性别", "年龄段"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MINYI_IMPORTS_INLINE = True


@pytest.fixture
def wave(bureau, opinion_officer) -> Wave:
    return factories.wave(bureau, opinion_officer)


@pytest.fixture
def stranger(db):
    """The opinion officer of another bureau: a manager, but not of this bureau's surveys."""
    other = UnitFactory(kind="bureau", name="邻县公安局")
    station = UnitFactory(kind="station", name="南山派出所", parent=other)
    AreaFactory(name="南山镇", station=station)
    user = UserFactory(full_name="邻县民意")
    MembershipFactory(user=user, unit=other, role=Role.OPINION_OFFICER)
    return user


def upload(tmp_path, rows, name="frame.csv", encoding="utf-8"):
    path = write_csv(tmp_path / name, rows, header=HEADER, encoding=encoding)
    return SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")


# --- a manager, from the template to fielding ------------------------------------------------


def test_a_manager_sets_a_wave_up_and_opens_it(client, bureau, opinion_officer, tmp_path):
    client.force_login(opinion_officer)
    page = client.get(reverse("surveys:questionnaires"))
    assert page.status_code == 200 and "由内置模板新建问卷" in page.content.decode()
    response = client.post(reverse("surveys:questionnaires"),
                           {"bureau": bureau.bureau.pk, "name": ""})
    made = Questionnaire.objects.get()
    version = made.latest_version()
    assert response["Location"] == reverse("surveys:questionnaire_version", args=[version.pk])
    page = client.get(response["Location"]).content.decode()
    assert "您觉得您所在的乡镇（街道）治安状况安全吗？" in page and "修改本题" in page
    assert "仅当第4题（antigang_aware）回答“知道”时问" in page

    response = client.post(reverse("surveys:wave_new"), {
        "name": "2026年第四季度群众安全感满意度调查", "version": version.pk,
        "starts_on": "2026-10-01", "ends_on": "2026-12-31", "web_enabled": "on",
        "max_attempts": "3"})
    wave = Wave.objects.get()
    assert response["Location"] == reverse("surveys:wave", args=[wave.pk])
    assert (wave.bureau, wave.version, wave.state) == (bureau.bureau, version, "draft")

    # Opening now is refused with the reason on the page.
    response = client.post(reverse("surveys:wave_open", args=[wave.pk]), follow=True)
    assert "请先设置至少一个乡镇（街道）的配额" in response.content.decode()

    page = client.get(reverse("surveys:wave_quotas", args=[wave.pk])).content.decode()
    assert "东城镇（东城派出所）" in page and "西城镇（西城派出所）" in page
    client.post(reverse("surveys:wave_quotas", args=[wave.pk]), {
        f"area_{bureau.township.pk}": "300", f"area_{bureau.other_township.pk}": ""})
    assert list(Quota.objects.values_list("area__name", "target")) == [("东城镇", 300)]

    response = client.post(reverse("surveys:frame_import", args=[wave.pk]), {
        "file": upload(tmp_path, [{"电话": "13812345678", "乡镇": "东城镇"},
                                  {"电话": "13912345678", "乡镇": "西城镇", "年龄段": "44"}])})
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("surveys:frame_import_detail",
                                           args=[wave.pk, batch.pk])
    assert (batch.status, batch.created, batch.created_by) == ("done", 2, opinion_officer)
    detail = client.get(response["Location"]).content.decode()
    assert "新建 2 条，已存在 0 条" in detail and 'hx-trigger="every 1s"' not in detail

    response = client.post(reverse("surveys:frame_generate", args=[wave.pk]), {
        "prefixes": "1390571", "count": "3", "seed": "20261001"}, follow=True)
    assert "已在号段 1390571 内随机生成 3 个号码（随机种子 20261001）" in response.content.decode()

    client.post(reverse("surveys:wave_open", args=[wave.pk]))
    wave.refresh_from_db()
    version.refresh_from_db()
    assert wave.state == "fielding" and version.is_frozen
    page = client.get(reverse("surveys:wave", args=[wave.pk])).content.decode()
    assert "调查中" in page and "结束调查" in page
    assert 'data-testid="frame-total">5<' in page
    assert 'data-testid="quota-total">300<' in page
    history = [e.action for e in Event.objects.filter(object_type="surveys.wave",
                                                      object_id=str(wave.pk)).order_by("id")]
    assert history == ["survey.wave_create", "survey.quotas_set", "survey.frame_import",
                       "survey.frame_generate", "survey.wave_open"]
    assert "随机种子 20261001" in page and "开始调查" in page

    client.post(reverse("surveys:wave_close", args=[wave.pk]))
    wave.refresh_from_db()
    assert wave.state == "closed"
    assert set(FrameMember.objects.values_list("state", "outcome")) == {("closed", "UH")}


def test_editing_a_frozen_version_from_its_page_makes_the_next(client, opinion_officer, wave):
    version = wave.version
    QuestionnaireVersion.objects.filter(pk=version.pk).update(frozen_at="2026-10-01T00:00Z")
    client.force_login(opinion_officer)
    page = client.get(reverse("surveys:questionnaire_version", args=[version.pk]))
    assert "修改都会另存为第2版" in page.content.decode()
    response = client.post(reverse("surveys:question_edit", args=[version.pk, "sat_traffic"]), {
        "q-sat_traffic-kind": "scale", "q-sat_traffic-text": "您对本地交通秩序满意吗？",
        "q-sat_traffic-options": "满意\n基本满意\n不满意", "q-sat_traffic-required": "on"},
        follow=True)
    second = version.questionnaire.versions.get(number=2)
    assert response.redirect_chain[-1][0] == (
        reverse("surveys:questionnaire_version", args=[second.pk]) + "#q-sat_traffic")
    assert "第1版已冻结（已有调查使用），题目「sat_traffic」的修改已保存为第2版" in (
        response.content.decode())
    assert second.questions.get(code="sat_traffic").options == ["满意", "基本满意", "不满意"]
    assert version.questions.get(code="sat_traffic").options == ["满意", "基本满意", "不满意",
                                                                 "不清楚"]


def test_a_bad_skip_rule_is_answered_on_the_form_and_nothing_changes(client, opinion_officer,
                                                                    wave):
    version = wave.version
    client.force_login(opinion_officer)
    response = client.post(reverse("surveys:question_add", args=[version.pk]), {
        "new-code": "theft", "new-kind": "single", "new-text": "您家近一年被盗过吗？",
        "new-options": "是、否", "new-show_if_question": "security",
        "new-show_if_in": "很安全、满意"})
    assert response.status_code == 400
    assert ("第11题（theft）的跳题条件中的选项「满意」不是第1题「security」的选项"
            in response.content.decode())
    assert version.questions.count() == 10
    response = client.post(reverse("surveys:question_add", args=[version.pk]), {
        "new-code": "theft", "new-kind": "single", "new-text": "您家近一年被盗过吗？",
        "new-options": "是、否", "new-show_if_question": "security", "new-show_if_in": "不安全"})
    assert response.status_code == 302
    assert version.questions.get(code="theft").show_if == {"question": "security",
                                                           "in": ["不安全"]}
    client.post(reverse("surveys:question_move", args=[version.pk, "theft"]),
                {"direction": "up"})
    assert version.questions.get(code="theft").position == 10
    client.post(reverse("surveys:question_remove", args=[version.pk, "theft"]))
    assert not version.questions.filter(code="theft").exists()


def test_frame_import_errors_are_listed_and_downloadable_in_gbk(client, opinion_officer, wave,
                                                               tmp_path):
    client.force_login(opinion_officer)
    response = client.post(reverse("surveys:frame_import", args=[wave.pk]), {
        "file": upload(tmp_path, [{"电话": "13812345678", "乡镇": "东城镇", "性别": "男"},
                                  {"电话": "138", "乡镇": "东城镇"},
                                  {"电话": "13812345678", "性别": "女"}], encoding="gbk"),
    })
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.bad, batch.created) == ("failed", 2, 0)
    detail = client.get(response["Location"]).content.decode()
    assert "第 3 行" in detail and "电话「138」格式不正确" in detail
    assert "第 4 行" in detail and "与第2行重复" in detail
    assert "本次未导入任何号码" in detail
    errors = client.get(reverse("surveys:frame_import_errors", args=[wave.pk, batch.pk]))
    saved = tmp_path / "errors.xlsx"
    saved.write_bytes(b"".join(errors.streaming_content))
    assert [r[-2] for r in read_xlsx(saved)[1:]] == [3, 4]
    assert not FrameMember.objects.exists()
    # A header without 电话 is refused at once, and no batch is kept.
    response = client.post(reverse("surveys:frame_import", args=[wave.pk]), {
        "file": SimpleUploadedFile("x.csv", "号码\n13812345678\n".encode())})
    assert response.status_code == 400 and "文件表头中没有「电话」列" in response.content.decode()
    assert ImportBatch.objects.count() == 1


def test_the_frame_page_shows_masked_numbers_only(client, opinion_officer, wave, tmp_path):
    factories.member(wave, phone="13812345678")
    client.force_login(opinion_officer)
    page = client.get(reverse("surveys:wave_frame", args=[wave.pk])).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    template = client.get(reverse("surveys:frame_template"))
    assert template["Content-Disposition"].startswith("attachment")
    saved = tmp_path / "template.xlsx"
    saved.write_bytes(b"".join(template.streaming_content))
    assert read_xlsx(saved) == [["电话", "乡镇", "性别", "年龄段"]]


def test_generate_form_says_what_is_wrong(client, opinion_officer, wave):
    client.force_login(opinion_officer)
    response = client.post(reverse("surveys:frame_generate", args=[wave.pk]),
                           {"prefixes": "0571", "count": "0"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "号段「0571」不是手机号段（应以 13–19 开头）" in page and "生成数量至少为 1" in page
    assert not FrameMember.objects.exists()


# --- a station handler of the bureau: sees, does not change ------------------------------------


def test_a_handler_sees_the_waves_but_changes_nothing(client, bureau, handler, wave):
    factories.member(wave, phone="13812345678")
    client.force_login(handler)
    page = client.get(reverse("surveys:waves")).content.decode()
    assert wave.name in page and "新建调查" not in page
    page = client.get(reverse("surveys:wave", args=[wave.pk])).content.decode()
    assert "各乡镇（街道）完成情况" in page and "应答率1（RR1）" in page
    assert "开始调查</button>" not in page and "138****5678" not in page
    assert "操作记录" not in page
    for name, method in [("surveys:wave_new", "get"), ("surveys:questionnaires", "get"),
                         ("surveys:wave_quotas", "get"), ("surveys:wave_open", "post"),
                         ("surveys:wave_close", "post"), ("surveys:wave_frame", "get"),
                         ("surveys:frame_import", "post"), ("surveys:frame_generate", "post"),
                         ("surveys:frame_clear", "post"), ("surveys:wave_edit", "get")]:
        args = [] if name in ("surveys:wave_new", "surveys:questionnaires") else [wave.pk]
        response = getattr(client, method)(reverse(name, args=args))
        assert response.status_code == 403, name
    response = client.get(reverse("surveys:questionnaire_version", args=[wave.version.pk]))
    assert response.status_code == 403
    assert Wave.objects.get().state == "draft" and FrameMember.objects.count() == 1


# --- an officer of another bureau: nothing of this bureau exists --------------------------------


def test_another_bureaus_officer_gets_404_on_everything_of_this_bureau(client, stranger,
                                                                      opinion_officer, wave,
                                                                      tmp_path):
    frame_batch, _ = import_frame(
        write_csv(tmp_path / "f.csv", [{"电话": "13812345678"}], header=HEADER),
        actor=opinion_officer, wave=wave)
    client.force_login(stranger)
    assert wave.name not in client.get(reverse("surveys:waves")).content.decode()
    version = wave.version
    for name, args, method in [
        ("surveys:wave", [wave.pk], "get"), ("surveys:wave_edit", [wave.pk], "get"),
        ("surveys:wave_quotas", [wave.pk], "post"), ("surveys:wave_open", [wave.pk], "post"),
        ("surveys:wave_close", [wave.pk], "post"), ("surveys:wave_frame", [wave.pk], "get"),
        ("surveys:frame_import", [wave.pk], "get"),
        ("surveys:frame_generate", [wave.pk], "post"),
        ("surveys:frame_clear", [wave.pk], "post"),
        ("surveys:frame_import_detail", [wave.pk, frame_batch.pk], "get"),
        ("surveys:frame_import_errors", [wave.pk, frame_batch.pk], "get"),
        ("surveys:questionnaire", [version.questionnaire_id], "get"),
        ("surveys:questionnaire_version", [version.pk], "get"),
        ("surveys:question_edit", [version.pk, "security"], "post"),
        ("surveys:question_add", [version.pk], "post"),
        ("surveys:question_remove", [version.pk, "security"], "post"),
        ("surveys:question_move", [version.pk, "security"], "post"),
    ]:
        response = getattr(client, method)(reverse(name, args=args))
        assert response.status_code == 404, name
    # Their own bureau's pages work: they are a manager there.
    assert client.get(reverse("surveys:questionnaires")).status_code == 200
    assert Wave.objects.get().state == "draft" and version.questions.count() == 10


def test_a_batch_of_another_wave_is_not_found_under_this_one(client, bureau, opinion_officer,
                                                            wave, tmp_path):
    other = factories.wave(bureau, opinion_officer, name="第二期")
    batch, _ = import_frame(write_csv(tmp_path / "f.csv", [{"电话": "13812345678"}],
                                      header=HEADER), actor=opinion_officer, wave=other)
    client.force_login(opinion_officer)
    url = reverse("surveys:frame_import_detail", args=[wave.pk, batch.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("surveys:frame_import_detail",
                              args=[other.pk, batch.pk])).status_code == 200


def test_the_wave_page_shows_progress_rates_and_links(client, bureau, leader, opinion_officer,
                                                      wave):
    actions.set_quotas(actor=opinion_officer, wave=wave, targets={bureau.township.pk: 4})
    factories.response(wave, bureau.township, {"security": "安全"})
    factories.member(wave, state=FrameMember.State.CLOSED, attempts=1, outcome="R")
    client.force_login(leader)
    page = client.get(reverse("surveys:wave", args=[wave.pk])).content.decode()
    assert 'data-testid="quota-completes">1<' in page and 'data-testid="quota-total">4<' in page
    assert "50.00%" in page  # RR1 = 1 / 2
    assert "RR1 = I/((I+P)+(R+NC+O)+(UH+UO)) = 1/2" in page
    # The desk is the interviewers' page: the leader is not offered it, the officer is.
    assert 'data-testid="link-desk"' not in page
    client.force_login(opinion_officer)
    page = client.get(reverse("surveys:wave", args=[wave.pk])).content.decode()
    assert f'href="{reverse("surveys:desk")}" data-testid="link-desk"' in page


def test_the_admin_shows_surveys_read_only_and_masked(client, bureau, opinion_officer, wave):
    member = factories.member(wave, phone="13812345678")
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    for model in ("wave", "framemember", "questionnaire", "questionnaireversion", "response",
                  "indexdefinition", "benchmark"):
        assert client.get(reverse(f"admin:surveys_{model}_changelist")).status_code == 200
    page = client.get(reverse("admin:surveys_framemember_change", args=[member.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and "138****5678" in text
    assert "13812345678" not in text and member.phone_hash not in text
    assert client.get(reverse("admin:surveys_wave_add")).status_code == 403
    version = wave.version
    page = client.get(reverse("admin:surveys_questionnaireversion_change", args=[version.pk]))
    assert "antigang_aware" in page.content.decode()


def test_a_bad_edit_comes_back_on_its_own_page_with_the_reasons(client, opinion_officer, wave):
    version = wave.version
    client.force_login(opinion_officer)
    url = reverse("surveys:question_edit", args=[version.pk, "antigang_sat"])
    assert "修改题目" in client.get(url).content.decode()
    response = client.post(url, {
        "q-antigang_sat-kind": "scale", "q-antigang_sat-text": "您对扫黑除恶斗争的成效满意吗？",
        "q-antigang_sat-options": "满意\n不满意", "q-antigang_sat-show_if_question":
            "antigang_aware", "q-antigang_sat-show_if_in": ""})
    assert response.status_code == 400
    assert "请填写满足哪些选项时才问本题" in response.content.decode()
    response = client.post(url, {
        "q-antigang_sat-kind": "multiple", "q-antigang_sat-text": "成效？",
        "q-antigang_sat-options": "好\n坏", "q-antigang_sat-max_choices": "3"})
    assert response.status_code == 400
    assert "“最多选几项”应在 1 到 2（选项数）之间" in response.content.decode()
    assert version.questions.get(code="antigang_sat").kind == "scale"
    assert client.get(reverse("surveys:question_edit",
                              args=[version.pk, "nope"])).status_code == 404
