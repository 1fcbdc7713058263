"""Bank and card codes, per PG where they differ (PortOne V1 docs, opi/ko/support/code-info:
bank codes per PG, card company codes, overseas card codes).

Banks are keyed by our own short key (``kb``, ``shinhan``...); each PG names them with its
own code (KCP ``BK04``, KG INICIS ``04``, most others ``004``). Card company codes are
PortOne's, the same whatever the PG. Queries: ``bank_codes``, ``bank_for_code``,
``bank_code``, ``bank_for_standard_code``, ``pgs_with_bank_codes``, ``card_name``.
"""

from dataclasses import dataclass

from .types import T, Text


@dataclass(frozen=True)
class Bank:
    key: str
    name: Text


BANKS: dict[str, Bank] = {b.key: b for b in (
    Bank("kb", T("KB Kookmin Bank", "KB국민은행")),
    Bank("sc", T("SC First Bank", "SC제일은행")),
    Bank("kyongnam", T("Kyongnam Bank", "경남은행")),
    Bank("gwangju", T("Gwangju Bank", "광주은행")),
    Bank("ibk", T("IBK Industrial Bank", "기업은행")),
    Bank("nh", T("NongHyup Bank", "농협")),
    Bank("daegu", T("Daegu Bank", "대구은행")),
    Bank("busan", T("Busan Bank", "부산은행")),
    Bank("kdb", T("Korea Development Bank", "산업은행")),
    Bank("mg", T("MG Community Credit Cooperatives", "새마을금고")),
    Bank("suhyup", T("Suhyup Bank", "수협")),
    Bank("shinhan", T("Shinhan Bank", "신한은행")),
    Bank("shinhyup", T("Shinhyup (credit unions)", "신협")),
    Bank("hana", T("Hana Bank", "하나은행")),
    Bank("keb", T("Korea Exchange Bank", "외환은행")),
    Bank("woori", T("Woori Bank", "우리은행")),
    Bank("post", T("Korea Post", "우체국")),
    Bank("jeonbuk", T("Jeonbuk Bank", "전북은행")),
    Bank("chukhyup", T("Livestock cooperatives", "축협")),
    Bank("kakao", T("Kakao Bank", "카카오뱅크")),
    Bank("kbank", T("K Bank", "케이뱅크")),
    Bank("citi", T("Citibank Korea", "한국씨티은행")),
    Bank("toss", T("Toss Bank", "토스뱅크")),
)}

# The financial institution numbers most PGs build their codes from. Hana's number covers
# the former Korea Exchange Bank too, except at Daou, which still tells them apart.
_NUMBERS = {
    "kb": "04", "sc": "23", "kyongnam": "39", "gwangju": "34", "ibk": "03", "nh": "11",
    "daegu": "31", "busan": "32", "kdb": "02", "mg": "45", "suhyup": "07", "shinhan": "88",
    "shinhyup": "48", "hana": "81", "woori": "20", "post": "71", "jeonbuk": "37",
    "chukhyup": "12", "kakao": "90", "kbank": "89", "citi": "27", "toss": "92",
}
_THREE_DIGIT = {k: "0" + v for k, v in _NUMBERS.items()}


def _only(table: dict[str, str], keys: str) -> dict[str, str]:
    return {k: table[k] for k in keys.split()}


_KCP = {k: "BK" + v for k, v in _NUMBERS.items()}
_INICIS = dict(_NUMBERS)
_DAOU = {"kb": "04", "sc": "11", "ibk": "03", "nh": "08", "busan": "15", "shinhan": "10",
         "keb": "05", "woori": "09", "post": "31", "hana": "12"}
_NICE_V2 = _only(_THREE_DIGIT, "kb sc gwangju ibk nh daegu busan shinhan hana woori post kbank")
_WELCOME = _only(
    _THREE_DIGIT, "kb gwangju kyongnam ibk daegu busan suhyup shinhan hana woori jeonbuk kbank"
)

# By `pg` code. The docs name PGs, not codes: a PG's table is given to each of its codes,
# except NICE, whose new module (nice_v2) has its own shorter list.
BANK_CODES: dict[str, dict[str, str]] = {
    **dict.fromkeys(("kcp", "kcp_billing", "kcp_quick"), _KCP),
    **dict.fromkeys(("html5_inicis", "inicis"), _INICIS),
    "daou": _DAOU,
    **dict.fromkeys(
        ("tosspayments", "danal", "danal_tpay", "nice", "kicc", "smartro", "smartro_v2",
         "settle", "settle_acc", "settle_firm"),
        _THREE_DIGIT,
    ),
    "nice_v2": _NICE_V2,
    "welcome": _WELCOME,
}


def pgs_with_bank_codes() -> list[str]:
    return list(BANK_CODES)


def bank_codes(pg_code: str) -> dict[str, str]:
    """Bank key → the code `pg_code` uses for it (empty when the docs give none)."""
    return dict(BANK_CODES.get(pg_code, {}))


def bank_code(pg_code: str, bank_key: str) -> str | None:
    return BANK_CODES.get(pg_code, {}).get(bank_key)


def standard_banks() -> list[tuple[str, Bank]]:
    """Every bank with its standard 3-digit code (``004`` KB Kookmin), in the table's order:
    the codes PortOne's V1 API takes as ``vbank_code`` and ``refund_bank``, whatever the PG."""
    return [(code, BANKS[key]) for key, code in _THREE_DIGIT.items()]


def bank_for_standard_code(code: str) -> Bank | None:
    """The bank a financial institution's standard 3-digit code names (``004`` is KB Kookmin):
    the codes PortOne's V1 API takes as ``vbank_code``, whatever the PG."""
    for key, value in _THREE_DIGIT.items():
        if value == code:
            return BANKS[key]
    return None


def bank_for_code(pg_code: str, code: str) -> Bank | None:
    """The bank a PG's code stands for, e.g. ``bank_for_code("kcp", "BK88")`` is Shinhan."""
    for key, value in BANK_CODES.get(pg_code, {}).items():
        if value == code:
            return BANKS[key]
    return None


# Card companies: PortOne's codes, whatever the PG.
CARDS: dict[str, Text] = {
    "361": T("BC Card", "BC"),
    "381": T("KB Kookmin Card", "KB"),
    "367": T("Hyundai Card", "현대"),
    "365": T("Samsung Card", "삼성"),
    "368": T("Lotte Card", "롯데"),
    "371": T("NH Card", "NH"),
    "041": T("Woori Card", "우리"),
    "374": T("Hana Card", "하나SK"),
    "045": T("MG Community Credit Cooperatives", "새마을"),
    "373": T("Jeju Bank", "제주"),
    "364": T("Gwangju Bank", "광주"),
    "366": T("Shinhan Card", "신한"),
    "002": T("Korea Development Bank", "KDB"),
    "369": T("Suhyup", "수협"),
    "048": T("Shinhyup", "신협"),
    "370": T("Citi Card", "씨티"),
    "071": T("Korea Post", "우체국"),
    "089": T("K Bank", "K뱅크"),
    "372": T("Jeonbuk Bank", "전북"),
    "090": T("Kakao Bank", "카카오뱅크"),
}

# Overseas cards that have no Korean institution code: PortOne's own codes.
OVERSEAS_CARDS: dict[str, Text] = {
    "10001": T("UnionPay (overseas)", "해외 은련"),
    "10002": T("Diners Club (overseas)", "해외 다이너스"),
    "10003": T("American Express (overseas)", "해외 아멕스"),
    "10004": T("Mastercard (overseas)", "해외 마스터"),
    "10005": T("Visa (overseas)", "해외 비자"),
    "10006": T("JCB (overseas)", "해외 JCB"),
}


def card_name(code: str) -> Text | None:
    return CARDS.get(code) or OVERSEAS_CARDS.get(code)
