import pytest

from minyi.core import crypto


def test_round_trip_and_fresh_nonce(settings):
    settings.MINYI_DATA_KEY = "k1"
    one, two = crypto.encrypt("13800138000"), crypto.encrypt("13800138000")
    assert one != two and "13800138000" not in one
    assert crypto.decrypt(one) == "13800138000"
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


def test_another_key_cannot_read(settings):
    settings.MINYI_DATA_KEY = "k1"
    token = crypto.encrypt("张三")
    settings.MINYI_DATA_KEY = "k2"
    with pytest.raises(Exception):  # noqa: B017 - the AEAD tag check fails
        crypto.decrypt(token)


def test_keyed_hash_matches_written_forms_of_one_phone(settings):
    settings.MINYI_DATA_KEY = "k1"
    h = crypto.keyed_hash("phone", "138-0013-8000")
    assert h == crypto.keyed_hash("phone", "+86 138 0013 8000")
    assert h != crypto.keyed_hash("phone", "13800138001")
    assert h != crypto.keyed_hash("address", "13800138000")
    assert crypto.keyed_hash("phone", "") == ""
    settings.MINYI_DATA_KEY = "k2"
    assert crypto.keyed_hash("phone", "13800138000") != h


@pytest.mark.parametrize(
    ("phone", "ok"),
    [("13800138000", True), ("0533-3241110", True), ("3241110", True), ("12800138000", False),
     ("1380013800", False), ("abc", False), ("", False)],
)
def test_phone_validation(phone, ok):
    assert crypto.is_valid_phone(phone) is ok


def test_masks():
    assert crypto.mask_phone("13812345678") == "138****5678"
    assert crypto.mask_name("张三丰") == "张**"
    assert crypto.mask_name("李") == "李*"
    assert crypto.mask_address("沂源县历山街道振兴路12号") == "沂源县历山街****"
