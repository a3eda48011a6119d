"""Every message exists in zh-CN and in en, fragments included."""

from nengtan import i18n


def test_both_catalogues_have_the_same_keys():
    zh, en = i18n.catalogue("zh-CN"), i18n.catalogue("en")
    assert sorted(set(zh) - set(en)) == []
    assert sorted(set(en) - set(zh)) == []


def test_fragment_keys_are_merged():
    assert i18n.t("dead.not_json", "zh-CN", error="x").startswith("报文不是有效的 JSON")
