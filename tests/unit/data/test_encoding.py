"""Encoding detection: BOMs, strict UTF-8, UTF-8 with bad bytes, legacy encodings, explicit encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneforge.data.encoding import read_text
from tuneforge.data.readers import read_examples
from tuneforge.errors import DataError

CHINESE = (
    "text,label\n"
    "这个宾馆比较陈旧了，特价的房间也很一般。总体来说一般,0\n"
    "怀着十分激动的心情放映，可是看着看着发现，在放映完毕后，出现一集米老鼠的动画片,0\n"
    "选择珠江花园的原因就是方便，有电动扶梯直接到达海边，周围餐馆、食廊、商场、超市、摊位一应俱全,1\n"
    "酒店装修一般，但还算整洁。泳池在大堂的屋顶，因此很小，不过女儿倒是喜欢。包的早餐是西式的,1\n"
)
FRENCH = (
    "text,label\n"
    "Le café était très bon, et le crème brûlée était délicieuse,pos\n"
    "Le garçon a été désagréable et la soirée fut décevante,neg\n"
    "Une expérience agréable: nous reviendrons à coup sûr l'été prochain,pos\n"
    "Très cher pour ce que c'est; l'hôtel était bruyant et mal situé,neg\n"
)


def write(tmp_path: Path, data: bytes, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("utf-32", "utf-32")],
)
def test_bom(tmp_path: Path, encoding: str, expected: str) -> None:
    text, used = read_text(write(tmp_path, "héllo,wörld\n".encode(encoding)))
    assert (text, used) == ("héllo,wörld\n", expected)


def test_utf16_be_bom(tmp_path: Path) -> None:
    text, used = read_text(write(tmp_path, b"\xfe\xff" + "中文\n".encode("utf-16-be")))
    assert text == "中文\n" and used == "utf-16"


def test_plain_utf8_and_newlines(tmp_path: Path) -> None:
    text, used = read_text(write(tmp_path, "a\r\nb\rc\n中\n".encode()))
    assert (text, used) == ("a\nb\nc\n中\n", "utf-8")


def test_utf8_with_a_bad_byte_names_line_and_column(tmp_path: Path) -> None:
    data = "text,label\nnaïve café,pos\n".encode() + b"bad \xff byte,neg\n" + "résumé,pos\n".encode()
    with pytest.raises(DataError) as info:
        read_text(write(tmp_path, data))
    err = info.value
    assert err.line == 3 and "byte column 5" in str(err) and "not UTF-8" in str(err)
    assert "re-save the file as UTF-8 or set data.encoding" in str(err)


def test_gb18030_chinese_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, CHINESE.encode("gb18030"))
    text, used = read_text(path)
    assert text == CHINESE and used.lower() in ("gb18030", "gbk", "gb2312")
    assert read_examples(path)[0].text.startswith("这个宾馆")


def test_cp1252_is_detected(tmp_path: Path) -> None:
    text, used = read_text(write(tmp_path, FRENCH.encode("cp1252")))
    assert "café" in text and "brûlée" in text and "décevante" in text, used


def test_explicit_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, CHINESE.encode("gbk"))
    assert read_text(path, "gbk") == (CHINESE, "gbk")
    with pytest.raises(DataError, match="cannot be decoded as utf-8") as info:
        read_text(path, "utf-8")
    assert info.value.line == 2


def test_unknown_explicit_encoding(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown encoding 'klingon'"):
        read_text(write(tmp_path, b"a\n"), "klingon")


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        (b"text\x00,label\n", "NUL bytes"),
        (b"PK\x03\x04\x14\x00\x00\x00", "Excel"),
        (b"\x1f\x8b\x08\x00", "gzip"),
    ],
)
def test_binary(tmp_path: Path, data: bytes, phrase: str) -> None:
    with pytest.raises(DataError, match="looks like a binary file") as info:
        read_text(write(tmp_path, data))
    assert phrase in str(info.value)
