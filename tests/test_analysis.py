import tomllib
from importlib import resources

from indexer.analysis import char_grams, chinese_analyzer, gram_set, segment
from indexer.gazetteer import load_gazetteer


def _gazetteer_data():
    return tomllib.loads(resources.files("indexer").joinpath("data/gazetteer.toml").read_text("utf-8"))


def test_gazetteer_has_all_fourteen_cities_of_liaoning():
    cities = [c["short"] for c in _gazetteer_data()["city"]]
    assert cities == ["沈阳", "大连", "鞍山", "抚顺", "本溪", "丹东", "锦州", "营口", "阜新", "辽阳",
                      "盘锦", "铁岭", "朝阳", "葫芦岛"]
    fuxin = next(c for c in _gazetteer_data()["city"] if c["short"] == "阜新")
    assert {d["name"] for d in fuxin["districts"]} == {
        "海州区", "新邱区", "太平区", "清河门区", "细河区", "阜新蒙古族自治县", "彰武县"}
    total = sum(len(c["districts"]) for c in _gazetteer_data()["city"])
    assert total == 100  # Liaoning's county-level divisions


def test_every_place_name_and_alias_is_one_token():
    for name in load_gazetteer().dictionary_words():
        words = [w for w, _, _ in segment(f"来到{name}调研").words]
        assert name in words, (name, words)


def test_place_names_in_running_text():
    tokens = [t.text for t in chinese_analyzer()("阜蒙县和细河区以及开原市的企业")]
    assert "阜蒙县" in tokens and "细河区" in tokens and "开原市" in tokens


def test_word_positions_are_sequential_and_offsets_fit():
    text = "阜新市推进营商环境建设"
    tokens = [(t.text, t.pos, t.startchar, t.endchar)
              for t in chinese_analyzer()(text, positions=True, chars=True)]
    assert [pos for _, pos, _, _ in tokens] == list(range(len(tokens)))
    for word, _, start, end in tokens:
        assert text[start:end] == word


def test_punctuation_and_spaces_are_not_words():
    words = [w for w, _, _ in segment("“双十行动”， 开局！").words]
    assert words and all(w.strip("“”，！ ") for w in words)


def test_char_grams_cover_every_substring():
    grams = char_grams("铁岭市")
    assert grams == [("铁", 0), ("铁岭", 0), ("岭", 1), ("岭市", 1), ("市", 2)]
    assert ("a", 0) in char_grams("a b") and (" ", 1) not in char_grams("a b")


def test_gram_set_is_the_distinct_grams_of_char_grams():
    text = "阜新市 wifi 覆盖，阜新市再出发"
    assert gram_set(text) == {gram for gram, _ in char_grams(text)}


def test_jieba_loads_without_warnings_escaping():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-W", "error", "-c",
                           "from indexer.analysis import segmenter; segmenter()"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr
