"""Name folding and likely-duplicate matching for a registry of diaspora voters whose names
come in Latin letters (any transliteration, with or without diacritics), in Arabic script
(Arabic, Persian, Dari, Pashto letters) and, less thoroughly, in Cyrillic.

A name part is reduced to a skeleton: its consonants in a small shared alphabet, with one slot
per vowel position. ``latin_key`` is the consonant string, deliberately coarse so that the
spellings of a name collide (Mohammed, Muhammad, محمد → ``mhmd``); it is also the blocking
key. The vowel slots then separate names that merely share consonants. Arabic script writes
only long vowels (ا و ي), Latin writes every vowel but not its length, so slots compare only
what both can say: Hussein/حسين/Hossein/Husain agree, Hassan/Hussein, Mohammed/Mahmoud and
Hussein/حسن do not.

Judgment calls (each pinned by a test): Ahmed/Hamid and Ali/Alireza differ in consonants, so
they are different names. Omar/Amer share the key ``amr`` (in Arabic they differ only by a
vowel letter), but the Latin spellings clash on the first vowel, so they are not duplicates;
عمر, which writes no vowel, matches both. Ali/Alia count as one name: a final -a/-ah/-iya is
what transliterations vary in, and written Arabic often cannot tell them apart either (ى/ي);
telling twins apart is left to the date of birth and sex. Known misses: ح written as a dropped
final h (Salah/صلاح), ث read as s (Osman/عثمان), French ou for a short u against Arabic script
(Moustafa/مصطفى); and Iman/Ayman collide.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# --- fold ----------------------------------------------------------------------------------

# Apostrophes and ayn/hamza signs are dropped before anything else (O'Neil → oneil, Ra'ed → raed).
_APOSTROPHES = str.maketrans(dict.fromkeys("'\u2019\u2018\u02bc\u02bb\u02bf\u02be`\u00b4\u2032"))
_ARABIC_VARIANTS = str.maketrans(
    {
        "\u0640": None,  # tatweel, a stretching stroke
        "\u0623": "\u0627",
        "\u0625": "\u0627",
        "\u0622": "\u0627",
        "\u0671": "\u0627",  # أ إ آ ٱ → ا
        "\u0629": "\u0647",  # ة → ه
        "\u0649": "\u064a",
        "\u06cc": "\u064a",
        "\u06d0": "\u064a",
        "\u06cd": "\u064a",  # ى ی ې ۍ → ي
        "\u06a9": "\u0643",  # ک → ك
        "\u0624": "\u0648",  # ؤ → و
        "\u0626": "\u064a",  # ئ → ي
        "\u06c0": "\u0647",
        "\u06be": "\u0647",
        "\u06c1": "\u0647",
        "\u06d5": "\u0647",  # ۀ ھ ہ ە → ه
    }
)
_ZWNJ = "\u200c"  # Persian's zero-width non-joiner sits between the parts of a compound name
_ASCII_SEPARATORS = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Comparable form: compatibility-normalized, case-folded, no diacritics or tashkeel, Arabic
    letter variants unified, digits in ASCII, one space between words, no punctuation."""
    text = unicodedata.normalize("NFKC", text.translate(_APOSTROPHES)).casefold()
    if text.isascii():  # most Latin names: the same result, several times faster
        return " ".join(_ASCII_SEPARATORS.sub(" ", text).split())
    out = []
    for ch in unicodedata.normalize("NFKD", text.translate(_ARABIC_VARIANTS)):
        category = unicodedata.category(ch)
        if category == "Mn":  # Latin accents and Arabic tashkeel alike (and hamza/madda marks)
            continue
        if category == "Nd":
            out.append(str(unicodedata.decimal(ch)))
        elif ch.isalpha():
            out.append(ch)
        elif category != "Cf" or ch == _ZWNJ:  # bidi and joiner controls vanish
            out.append(" ")
    return " ".join("".join(out).split())


# --- transliteration to a skeleton ----------------------------------------------------------
#
# Consonants become one letter each: b d f g h j k l m n p r s t w y and x for sh/ch (French
# transliterations write ش as ch: Aicha, Chérif). Per the usual variation: kh/k/q/c/gh → k
# (Persian writes ق as gh: Sadeghi, Bagheri), ph → f, th/dh/z/zh → d (ث ذ ز ض ظ are written
# all of these ways), v → w.
# Vowels are kept in slots; w and y are consonants only at the start of a word (Walid, Yusuf),
# elsewhere vowels, because Arabic writes و and ي for both.

_VOWELS = frozenset("aeiu")
_LATIN_EXTRA = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ı": "i", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ħ": "h", "ŋ": "n"}
)
# Cyrillic after fold (й and ё have already lost their marks); х is h because Russian writes
# Ахмед, Мухаммед, Хусейн with it.
_CYRILLIC = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "h",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "sh",
        "ъ": "",
        "ы": "i",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
        "і": "i",
        "є": "ye",
        "ґ": "g",
        "ғ": "gh",
        "қ": "q",
        "ҳ": "h",
        "ҷ": "j",
        "ө": "o",
        "ү": "u",
        "ә": "a",
        "ң": "n",
        "һ": "h",
    }
)
_DIGRAPHS = re.compile(r"sch|kh|gh|sh|ch|ph|th|dh|zh|ck|[qczvo]")
_DIGRAPH_CODE = {
    "sch": "x",
    "kh": "k",
    "gh": "k",
    "sh": "x",
    "ch": "x",
    "ph": "f",
    "th": "d",
    "dh": "d",
    "zh": "d",
    "ck": "k",
    "q": "k",
    "c": "k",
    "z": "d",
    "v": "w",
    "o": "u",
}
_NON_LETTERS = re.compile(r"[^a-z]+")
_DOUBLED = re.compile(r"([^aeiou])\1+")

# Arabic script: consonants map straight to codes. Vowel letters become A, U, I (long vowels);
# "?" marks a consonant's unwritten short vowel (or an ayn/hamza carrier); a word-final ي is Y,
# because folding merged it with ى (pronounced a: مصطفى, Mustafa).
_ARABIC_CONSONANTS = {
    "ب": "b",
    "پ": "p",
    "ت": "t",
    "ث": "d",
    "ج": "j",
    "چ": "x",
    "ح": "h",
    "خ": "k",
    "د": "d",
    "ذ": "d",
    "ر": "r",
    "ز": "d",
    "ژ": "d",
    "س": "s",
    "ش": "x",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "d",
    "غ": "k",
    "ف": "f",
    "ق": "k",
    "ك": "k",
    "گ": "g",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "ڤ": "w",
    "ټ": "t",
    "ډ": "d",
    "ړ": "r",
    "ږ": "d",
    "ښ": "x",
    "ځ": "d",
    "څ": "s",
    "ڼ": "n",
    "ګ": "g",
    "ٹ": "t",
    "ڈ": "d",
    "ڑ": "r",
    "ں": "n",
}
_ARABIC_LETTERS = frozenset(_ARABIC_CONSONANTS) | frozenset("اويعء")
_LATIN_ARTICLES = frozenset({"al", "el", "ul", "ol"})
_ABDUL = re.compile(r"abd[aeiou]l")
_ARABIC_RUN = frozenset("AUIY?")
_CONSONANT = re.compile(r"[^aeiuAUIY?]")


def _is_article(token: str, following: str) -> bool:
    if not following:  # a name that is only "Al" stays
        return False
    if token in _LATIN_ARTICLES:
        return True
    # ar-Rahman, as-Sayed, ash-Shami: a sun letter assimilates the l of al-
    return (
        (len(token) == 2 or token[1:] in ("sh", "th", "dh"))
        and token[0] in "aeou"
        and token[1] not in "aeiouy"
        and following.startswith(token[1:])
    )


def _latin_tokens(words: list[str]) -> list[str]:
    """Drop Arabic articles (Al-Hassan, Abd al-Rahman, Nur ad-Din, Alhassan) and the article in
    Abdel/Abdul, so that all spellings of a compound name concatenate to the same letters."""
    out: list[str] = []
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if _is_article(word, following):
            continue
        if _ABDUL.fullmatch(word) and following:  # Abdel Aziz, Abdul Karim
            word = "abd"
        elif _ABDUL.match(word) and len(word) > 5:  # Abdulrahman, Abdelaziz, Abdallah
            word = "abd" + word[5:]
        elif word[:2] in ("al", "el") and len(word) >= 5 and word[2] not in "aeiouy":
            # Alhassan, Elsayed, as Arabic script is treated; Albert → bert is harmless, both
            # sides of a comparison lose the same letters
            word = word[2:]
        out.append(word)
    return out


def _arabic_word(word: str) -> str:
    if word.startswith("عبدال") and len(word) >= 7:  # عبدالرحمن, عبدالله
        return "عبد" + word[5:]
    if word.startswith("ال") and len(word) >= 4 and word != "الياس":  # the article; Elham
        return word[2:]  # الهام loses it too, as Latin Elham does, but Elias/Ilyas is common
    return word


def _arabic_symbols(token: str) -> str:
    out = []
    last = len(token) - 1
    for i, ch in enumerate(token):
        if ch == "ا":
            out.append("?" if i == 0 else "A")  # an initial alef only carries a short vowel
        elif ch in "وي" and i == 0:
            out.append("w?" if ch == "و" else "y?")
        elif ch == "و":
            out.append("U")
        elif ch == "ي":
            out.append("Y" if i == last else "I")
        elif ch in "عء":
            out.append("?")
        elif ch == "ه" and i == last and i > 0:
            out.append("A")  # ة and final ه: Fatima, Fatemeh, Abdullah
        elif ch in _ARABIC_CONSONANTS:
            out.append(_ARABIC_CONSONANTS[ch] + "?")
    return "".join(out)


def _latin_symbols(token: str) -> str:
    if not (token.isascii() and token.isalpha()):
        token = _NON_LETTERS.sub("", token.translate(_CYRILLIC).translate(_LATIN_EXTRA))
    token = token.replace("x", "ks")
    # Mohammed, Hassan: a doubled consonant once, as Arabic writes it. Before the mapping, so
    # that Ahmadzai keeps d and z apart as احمدزی does.
    token = _DOUBLED.sub(r"\1", token)
    head = ""
    if len(token) > 1 and token[0] in "wvy" and token[1] in "aeiouy":
        head, token = ("y" if token[0] == "y" else "w"), token[1:]
    token = _DIGRAPHS.sub(lambda m: _DIGRAPH_CODE[m.group()], token)
    token = head + token.replace("y", "i").replace("w", "u")
    if len(token) > 1 and token[-1] == "h" and token[-2] in _VOWELS:
        token = token[:-1]  # -ah, -eh: Fatemeh, Abdullah (and, alas, Salah for صلاح)
    return token


# Slot classes: "" no vowel; a e i u one Latin vowel of unknown length (e may stand for a, i
# or u: Ahmed, Fatemeh, Yusef); "?" an Arabic unwritten short vowel; a long vowel is the set of
# qualities it may carry, "A" "I" "U" "AI" ... (Latin ee, ou, ai, aye; Arabic ا و ي).
@lru_cache(maxsize=1024)  # runs are a handful of short strings
def _slot(run: str) -> str:
    if _ARABIC_RUN.intersection(run):
        qualities = {q for ch in run for q in {"A": "A", "U": "U", "I": "I", "Y": "AI"}.get(ch, "")}
        return "".join(sorted(qualities)) or "?"
    if len(run) <= 1:
        return run
    return "".join(sorted({"A" if ch == "a" else "U" if ch == "u" else "I" for ch in run}))


def _compatible(x: str, y: str) -> bool:
    if x == y:
        return True
    x_long, y_long = x.isupper(), y.isupper()
    if not x_long and not y_long:  # two different Latin vowels clash (Hassan/Hussein), e aside
        return bool({"", "?", "e"} & {x, y})
    if x_long and y_long:
        return bool(set(x) & set(y))
    short, long = (y, x) if x_long else (x, y)
    # Latin cannot show length, but a digraph does show a long vowel, which Arabic would have
    # written: Mahmoud is not محمد, Hussein is not حسن
    return short not in ("", "?") and bool(set("AI" if short == "e" else short.upper()) & set(long))


_SLOT_CODES = ("", "a", "e", "i", "u", "?", "A", "I", "U", "AI", "AU", "IU", "AIU")
_COMPATIBLE = frozenset((x, y) for x in _SLOT_CODES for y in _SLOT_CODES if _compatible(x, y))


@lru_cache(maxsize=1 << 16)
def _skeleton(text: str) -> tuple[str, tuple[str, ...]]:
    """(key, vowel slots): slot 0 precedes the first consonant, slot k follows consonant k."""
    symbols: list[str] = []
    latin: list[str] = []
    for token in [*fold(text).split(), ""]:  # the sentinel flushes trailing Latin words
        if token and _ARABIC_LETTERS.isdisjoint(token):  # a Latin (or Cyrillic) word
            latin.append(token)
            continue
        symbols.extend(_latin_symbols(word) for word in _latin_tokens(latin))
        latin = []
        if token:
            symbols.append(_arabic_symbols(_arabic_word(token)))
    joined = "".join(symbols)
    key = "".join(_CONSONANT.findall(joined))
    runs = _CONSONANT.split(joined)
    # the name starts with a vowel, whichever: Omar, Umar, عمر, Amer
    return ("a" + key if runs[0] else key), tuple(_slot(run) for run in runs)


def latin_key(text: str) -> str:
    """Consonant skeleton of a name in Latin letters, shared by its transliterations:
    ``latin_key("Abd al-Rahman") == latin_key("عبد الرحمن") == "abdrhmn"``."""
    return _skeleton(text)[0]


# --- similarity ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NameParts:
    """One person's name as registered. ``original_script`` is the full name as written in its
    own script (any order, father's names may be included)."""

    given: str
    family: str
    father: str | None = None
    grandfather: str | None = None
    original_script: str | None = None


def _jaro_winkler(s: str, t: str) -> float:
    if s == t:
        return 1.0
    if not s or not t:
        return 0.0
    window = max(len(s), len(t)) // 2 - 1
    taken = [False] * len(t)
    s_matched = []
    for i, ch in enumerate(s):
        end = min(len(t), i + window + 1)
        j = t.find(ch, max(0, i - window), end)
        while j != -1 and taken[j]:
            j = t.find(ch, j + 1, end)
        if j != -1:
            taken[j] = True
            s_matched.append(ch)
    m = len(s_matched)
    if not m:
        return 0.0
    t_matched = [ch for ch, used in zip(t, taken, strict=True) if used]
    half_transpositions = sum(a != b for a, b in zip(s_matched, t_matched, strict=True))
    jaro = (m / len(s) + m / len(t) + (m - half_transpositions / 2) / m) / 3
    prefix = 0
    for a, b in zip(s[:4], t[:4], strict=False):
        if a != b:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


# Each vowel clash costs a fifth: one is enough to keep a part under the duplicate threshold.
_SLOT_PENALTY = 0.2
# Transliteration rarely changes a consonant, so differing skeletons are scaled below the band
# where a near miss (Ahmed/Hamid, 0.92 by Jaro-Winkler) could pass for a match.
_KEY_MISMATCH = 0.9
_SWAPPED = 0.98
# What a different spelling of the same skeleton costs: far less than a vowel clash.
_RESPELT = 0.02


# Keys come from a small vocabulary of names, so pairs of them repeat across a registry.
_key_similarity = lru_cache(maxsize=1 << 16)(_jaro_winkler)


def _part_similarity(x: str, y: str) -> float:
    key_x, slots_x = _skeleton(x)
    key_y, slots_y = _skeleton(y)
    if key_x != key_y:
        return _KEY_MISMATCH * _key_similarity(*sorted((key_x, key_y)))  # sorted: symmetric, one entry
    if not key_x:  # nothing transliterable (another script): fall back to the folded text
        fx, fy = sorted((fold(x), fold(y)))
        return 1.0 if fx == fy else _KEY_MISMATCH * _jaro_winkler(fx, fy)
    clashes = sum(pair not in _COMPATIBLE for pair in zip(slots_x, slots_y, strict=True))
    # 1 only for the same spelling: Fatima/Fatma are one name, but an officer comparing two
    # records is told they are written differently (a review page never says 100% for them).
    respelt = _RESPELT if fold(x) != fold(y) else 0.0
    return max(0.0, 1.0 - _SLOT_PENALTY * clashes - respelt)


def _combine(scores: list[float]) -> float:
    # The weakest part dominates: siblings share a family name, so a plain mean of a good family
    # score and a poor given-name score would still look like one person.
    return 0.75 * min(scores) + 0.25 * sum(scores) / len(scores)


def _script_similarity(x: str, y: str) -> float | None:
    """Order-free: every word of the shorter name must find its match in the longer one."""
    words_x, words_y = _words(x), _words(y)
    if not words_x or not words_y:
        return None
    if len(words_x) > len(words_y):
        words_x, words_y = words_y, words_x
    score = _combine([max(_part_similarity(w, v) for v in words_y) for w in words_x])
    if len(words_x) == len(words_y):  # either side may be "the shorter": take the stricter
        score = min(score, _combine([max(_part_similarity(w, v) for v in words_x) for w in words_y]))
    return score


@lru_cache(maxsize=1 << 14)
def _words(text: str) -> tuple[str, ...]:
    # Glue the compound names that are often written as one word: عبد الرحمن, Abd al-Rahman.
    words: list[str] = []
    for token in fold(text).split():
        if words and words[-1] in ("عبد", "abd", "abdel", "abdul", "al", "el"):
            words[-1] += " " + token
        else:
            words.append(token)
    return tuple(words)


def name_similarity(a: NameParts, b: NameParts) -> float:
    """0..1; 1 means the same name as far as spelling can tell."""
    extra = [
        _part_similarity(x, y) for x, y in ((a.father, b.father), (a.grandfather, b.grandfather)) if x and y
    ]  # missing on either side says nothing
    score = _combine([_part_similarity(a.given, b.given), _part_similarity(a.family, b.family), *extra])
    if score < _SWAPPED:  # given and family swapped (which one is the family name is often unclear)
        first = _part_similarity(a.given, b.family)
        if _SWAPPED * (0.75 * first + 0.25) > score:  # else even a perfect second part cannot win
            swapped = [first, _part_similarity(a.family, b.given), *extra]
            score = max(score, _SWAPPED * _combine(swapped))
    if a.original_script and b.original_script:
        script = _script_similarity(a.original_script, b.original_script)
        if script is not None:  # weighs double: it carries no transliteration noise
            score = (score + 2 * script) / 3
    return score


def best_part_similarity(word: str, parts: NameParts) -> float:
    """0..1: how well one typed word (any script) matches some part of the name, for a desk's
    search by a single name."""
    candidates = [parts.given, parts.family, parts.father or "", *(parts.original_script or "").split()]
    return max((_part_similarity(word, part) for part in candidates if part), default=0.0)


def is_likely_duplicate(a: NameParts, b: NameParts, threshold: float = 0.88) -> bool:
    return name_similarity(a, b) >= threshold


def blocking_key(parts: NameParts) -> str:
    """Index column to find candidates with the date of birth: the family name's key, 3 letters.
    A given/family swap lands in another block; look up the given name's key too to catch it."""
    return latin_key(parts.family)[:3]
