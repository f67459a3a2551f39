"""The sample frame: random numbers within prefixes (pure, no database), the cells of a frame
file (pure), and the import: good rows, every bad row with its line in UTF-8 and GBK, all or
nothing, duplicates in a file and in the wave, a file imported twice, xlsx."""

from __future__ import annotations

from typing import Any

import pytest

from minyi.core import crypto
from minyi.core.audit import verify_chain
from minyi.core.models import Event
from minyi.intake.importing import BadInput
from minyi.intake.models import ImportBatch
from minyi.intake.tests.test_import_support import read_xlsx, write_csv, write_xlsx
from minyi.orgs.models import Role
from minyi.orgs.tests.factories import AreaFactory, UnitFactory
from minyi.surveys import frames
from minyi.surveys.frames import age_group_of, generate_numbers, parse_prefixes, sex_of
from minyi.surveys.models import FrameMember, Wave
from minyi.surveys.tests import factories

HEADER = ["电话", "乡镇", "性别", "年龄段"]


# --- random numbers (pure) -------------------------------------------------------------------


def test_a_fixed_seed_gives_the_same_numbers():
    numbers = generate_numbers("1390571", 5, seed=20261001)
    assert numbers == ["13905713891", "13905715252", "13905715895", "13905718668",
                       "13905719477"]
    assert generate_numbers(["1390571"], 5, seed=20261001) == numbers
    assert generate_numbers("1390571", 5, seed=20261002) != numbers


def test_numbers_are_distinct_mobile_numbers_within_the_prefixes():
    numbers = generate_numbers(["139", "1860571", "1390571"], 6, seed=7)
    assert numbers == ["13943464097", "13920246633", "13952992312", "13987366946",
                       "13906480894", "13909722233"]
    many = generate_numbers(["1390571", "18605712"], 2200, seed=11)
    assert len(set(many)) == 2200
    assert all(len(n) == 11 and crypto.is_valid_phone(n) for n in many)
    assert all(n.startswith(("1390571", "18605712")) for n in many)
    # Uniform over the union: 18605712 holds 1,000 of the 11,000 numbers, so about 1/11 of the
    # draws (200 expected) come from it; this seed gives 204.
    assert sum(n.startswith("18605712") for n in many) == 204


def test_taken_numbers_are_left_out_and_the_draw_goes_on():
    first = generate_numbers("1390571", 5, seed=20261001)
    again = generate_numbers("1390571", 4, seed=20261001, taken=lambda n: n == first[0])
    assert again == first[1:]


def test_a_small_space_is_drawn_whole_without_repeats():
    numbers = generate_numbers("1390571123", 8, seed=1)
    assert numbers == ["13905711232", "13905711231", "13905711234", "13905711230",
                       "13905711233", "13905711235", "13905711237", "13905711239"]
    assert sorted(generate_numbers("1390571123", 10, seed=2)) == [
        f"1390571123{d}" for d in range(10)]
    free = generate_numbers("1390571123", 4, seed=3, taken=lambda n: n[-1] in "01234")
    assert free == ["13905711239", "13905711238", "13905711235", "13905711237"]


def test_more_numbers_than_the_prefixes_hold_is_refused():
    with pytest.raises(ValueError, match="号段内可用的号码不足 11 个"):
        generate_numbers("1390571123", 11, seed=1)
    with pytest.raises(ValueError, match="不足 5 个"):
        generate_numbers("1390571123", 5, seed=1, taken=lambda n: n[-1] in "012345")
    with pytest.raises(ValueError, match="生成数量应为正整数"):
        generate_numbers("139", 0, seed=1)
    with pytest.raises(ValueError, match="一次最多生成 100000 个号码"):
        generate_numbers("139", 100_001, seed=1)


def test_prefixes_are_checked_sorted_and_covered_ones_dropped():
    assert parse_prefixes("1390571, 139 、 1860571\n188") == ["139", "1860571", "188"]
    with pytest.raises(ValueError, match="号段「13」应为 3 到 10 位数字"):
        parse_prefixes("13")
    with pytest.raises(ValueError, match="号段「12345」不是手机号段"):
        parse_prefixes("12345")
    with pytest.raises(ValueError, match="号段「139a」只能由数字组成"):
        parse_prefixes("139a")
    with pytest.raises(ValueError, match="请填写至少一个号段"):
        parse_prefixes(" , ")


# --- cells (pure) ----------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "group"), [
    ("18-29", "18-29"), ("18–29岁", "18-29"), ("30~39岁", "30-39"), ("40至49", "40-49"),
    ("60岁及以上", "60+"), ("60岁以上", "60+"), ("60+", "60+"), ("18", "18-29"),
    ("29岁", "18-29"), ("30", "30-39"), ("59周岁", "50-59"), ("87", "60+"),
])
def test_age_groups_and_ages_fold_into_groups(cell, group):
    assert age_group_of(cell) == (group, "")


def test_bad_ages_say_why():
    assert age_group_of("17") == (None, "年龄 17 岁不满 18 岁，不是调查对象")
    assert age_group_of("130") == (None, "年龄「130」不合常理")
    assert age_group_of("中年")[1].startswith("年龄段「中年」无法识别")
    assert sex_of("女") == ("F", "") and sex_of("男性") == ("M", "")
    assert sex_of("未知") == (None, "性别「未知」无法识别（应为 男 或 女）")


# --- the import ------------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


def row(**fields: Any) -> dict[str, Any]:
    values = {"电话": "13812345678", "乡镇": "东城镇", "性别": "男", "年龄段": "30-39"}
    values.update(fields)
    return values


@pytest.fixture
def wave(bureau, opinion_officer):
    return factories.wave(bureau, opinion_officer)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytestmark_db
def test_a_good_file_fills_the_frame(bureau, opinion_officer, wave, tmp_path):
    path = write_csv(tmp_path / "frame.csv", [
        row(),
        row(电话="0571-88776655", 乡镇=bureau.other_township.code, 性别="女", 年龄段="67"),
        row(电话="+86 139 0000 1111", 乡镇="", 性别="", 年龄段=""),
    ], header=HEADER)
    batch, result = frames.import_frame(path, actor=opinion_officer, wave=wave)
    assert result.summary() == {"created": 3, "existing": 0, "bad": 0}
    assert (batch.kind, batch.status, batch.mapping["wave"]) == ("survey_frame", "done", wave.pk)
    first, second, third = FrameMember.objects.filter(wave=wave).order_by("line")
    assert (first.area, first.sex, first.age_group, first.line) == (bureau.township, "M",
                                                                    "30-39", 2)
    assert first.phone == "13812345678" and first.phone_mask == "138****5678"
    assert "13812345678" not in first.phone_enc
    assert first.phone_hash == crypto.keyed_hash("phone", "13812345678")
    assert (first.origin, first.state, first.import_batch) == ("imported", "pending", batch)
    assert (second.area, second.sex, second.age_group) == (bureau.other_township, "F", "60+")
    assert second.phone == "057188776655"
    assert (third.area, third.sex, third.age_group, third.phone) == (None, "", "", "13900001111")
    event = Event.objects.get(action="survey.frame_import")
    assert event.object_id == str(wave.pk)
    assert event.payload == {"batch": batch.pk, "created": 3, "first_line": 2, "last_line": 4}
    assert verify_chain().ok


@pytestmark_db
@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_every_bad_row_is_reported_with_its_line_and_nothing_is_kept(
        bureau, opinion_officer, wave, tmp_path, encoding):
    other = UnitFactory(kind="bureau", name="邻县公安局")
    foreign = AreaFactory(name="南山镇", station=UnitFactory(kind="station", parent=other))
    path = write_csv(tmp_path / "frame.csv", [
        row(),
        row(电话="12345"),
        row(电话="13800000001", 乡镇="南山镇"),
        row(电话="13800000002", 乡镇=foreign.code, 性别="未知"),
        row(电话="13800000003", 乡镇="东城村", 年龄段="16"),
        row(电话=""),
    ], header=HEADER, encoding=encoding)
    batch, result = frames.import_frame(path, actor=opinion_officer, wave=wave)
    assert (result.committed, result.created, result.bad) == (False, 0, 5)
    assert not FrameMember.objects.exists()
    assert not Event.objects.filter(action="survey.frame_import").exists()
    assert batch.status == "failed" and "本次未导入任何号码" in batch.message
    assert result.errors == [
        (3, "电话「12345」格式不正确（应为手机号、带区号的固定电话或本地号码）"),
        (4, "乡镇「南山镇」不是测试县公安局辖区的乡镇（街道）"),
        (5, f"乡镇「{foreign.code}」不是测试县公安局辖区的乡镇（街道）；"
            "性别「未知」无法识别（应为 男 或 女）"),
        (6, "「东城村」是村（社区），请填写它所在的乡镇（街道）「东城镇」；"
            "年龄 16 岁不满 18 岁，不是调查对象"),
        (7, "缺少电话"),
    ]


@pytestmark_db
def test_skip_bad_keeps_the_good_rows_and_writes_the_errors_workbook(
        opinion_officer, wave, tmp_path):
    path = write_csv(tmp_path / "frame.csv", [row(), row(电话="1"), row(电话="13800000009")],
                     header=HEADER)
    _, result = frames.import_frame(path, actor=opinion_officer, wave=wave, skip_bad=True,
                                        errors_path=tmp_path / "errors.xlsx")
    assert result.summary() == {"created": 2, "existing": 0, "bad": 1}
    assert FrameMember.objects.filter(wave=wave).count() == 2
    rows = read_xlsx(result.errors_file)
    assert rows[0][:4] == HEADER and rows[1][:4] == ["1", "东城镇", "男", "30-39"]
    assert rows[1][-2:] == [3, "电话「1」格式不正确（应为手机号、带区号的固定电话或本地号码）"]


@pytestmark_db
def test_the_same_number_twice_in_a_file_keeps_the_first(opinion_officer, wave, tmp_path):
    path = write_csv(tmp_path / "frame.csv", [
        row(), row(电话="13800000009"), row(电话="138-1234-5678", 乡镇="西城镇"),
    ], header=HEADER)
    _, result = frames.import_frame(path, actor=opinion_officer, wave=wave, skip_bad=True)
    assert result.summary() == {"created": 2, "existing": 0, "bad": 1}
    assert result.errors == [(4, "电话 138****5678 与第2行重复，只导入第2行")]
    kept = FrameMember.objects.get(phone_hash=crypto.keyed_hash("phone", "13812345678"))
    assert (kept.line, kept.area.name) == (2, "东城镇")


@pytestmark_db
def test_numbers_already_in_the_wave_count_as_existing_and_a_second_import_says_so(
        bureau, opinion_officer, wave, tmp_path):
    factories.member(wave, phone="13800000009")
    path = write_csv(tmp_path / "frame.csv", [row(), row(电话="13800000009")], header=HEADER)
    first, result = frames.import_frame(path, actor=opinion_officer, wave=wave)
    assert result.summary() == {"created": 1, "existing": 1, "bad": 0}
    assert first.message == "新建 1 条，已存在 1 条"
    again, result = frames.import_frame(path, actor=opinion_officer, wave=wave)
    assert result.summary() == {"created": 0, "existing": 2, "bad": 0}
    assert again.status == "done"
    assert again.message.startswith("文件中的 2 个号码都已在本调查的样本框中，本次未新增号码；"
                                    "同一文件已于 ")
    assert f"导入过本调查（批次 {first.pk}）" in again.message
    assert FrameMember.objects.filter(wave=wave).count() == 2
    # Another wave of the bureau takes the same numbers afresh.
    other = factories.wave(bureau, opinion_officer, name="第二期")
    _, result = frames.import_frame(path, actor=opinion_officer, wave=other)
    assert result.summary() == {"created": 2, "existing": 0, "bad": 0}


@pytestmark_db
def test_an_xlsx_with_numbers_as_numbers(bureau, opinion_officer, wave, tmp_path):
    path = write_xlsx(tmp_path / "frame.xlsx", [
        {"手机号码": 13812345678.0, "乡镇（街道）": "东城镇", "性别": "女", "年龄": 45},
        {"手机号码": 13900001111, "乡镇（街道）": None, "性别": None, "年龄": None},
    ], header=["手机号码", "乡镇（街道）", "性别", "年龄"])
    _, result = frames.import_frame(path, actor=opinion_officer, wave=wave)
    assert result.summary() == {"created": 2, "existing": 0, "bad": 0}
    member = FrameMember.objects.get(line=2)
    assert (member.phone, member.area, member.sex, member.age_group) == (
        "13812345678", bureau.township, "F", "40-49")


@pytestmark_db
def test_a_file_without_a_phone_column_or_into_a_closed_wave_is_refused(
        bureau, opinion_officer, tmp_path):
    wave = factories.wave(bureau, opinion_officer)
    path = write_csv(tmp_path / "frame.csv", [{"号码": "13812345678"}], header=["号码"])
    with pytest.raises(BadInput, match="文件表头中没有「电话」列"):
        frames.import_frame(path, actor=opinion_officer, wave=wave)
    closed = factories.wave(bureau, opinion_officer, state=Wave.State.CLOSED, name="已结束")
    good = write_csv(tmp_path / "good.csv", [row()], header=HEADER)
    with pytest.raises(BadInput, match="调查「已结束」已结束，不能再向样本框添加号码"):
        frames.import_frame(good, actor=opinion_officer, wave=closed)
    handler = bureau.member(Role.UNIT_HANDLER)
    with pytest.raises(BadInput, match="只有测试县公安局的民意专员或系统管理员可以导入样本框"):
        frames.import_frame(good, actor=handler, wave=wave)
    assert not ImportBatch.objects.exists() and not FrameMember.objects.exists()


@pytestmark_db
def test_a_wave_closed_while_its_batch_waits_takes_nothing(bureau, opinion_officer, wave,
                                                          tmp_path):
    path = write_csv(tmp_path / "frame.csv", [row()], header=HEADER)
    plan = frames.plan_frame_import(path, wave=wave)
    Wave.objects.filter(pk=wave.pk).update(state=Wave.State.CLOSED)
    with pytest.raises(BadInput, match="已结束，不能再向样本框添加号码"):
        frames.import_frame_rows(plan, wave_id=wave.pk, actor=opinion_officer)
    assert not FrameMember.objects.exists()
