"""The PG catalog: one entry per payment gateway the console offers.

Facts come from shared/reference/pg-catalog.md. Adding a PG means adding one
``Provider`` to ``PROVIDERS``; tests/test_pg_catalog.py checks every entry is well
formed. Field lists for JTNET, Blue Walnut, CHAI and Alipay are the least
documented: they are the minimum, easy to amend here.
"""

import re
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

GUIDE_BASE = "https://developers.portone.io/opi/ko/integration/pg/v1/"


class Kind(models.TextChoices):
    PG = "pg", _("PG")
    SIMPLE = "simple", _("Simple payment")


class Module(models.TextChoices):
    WINDOW_GENERAL = "window_general", _("Payment window · general")
    WINDOW_SIMPLE = "window_simple", _("Payment window · simple")
    WINDOW_SUBSCRIPTION = "window_subscription", _("Payment window · subscription")
    API_KEYIN = "api_keyin", _("API · key-in")
    API_SUBSCRIPTION = "api_subscription", _("API · subscription")
    CERTIFICATION = "certification", _("Identity verification")


MODULE_LABELS = dict(Module.choices)

# The `type` that /users/pg reports for a module.
MODULE_TYPE = {
    Module.WINDOW_GENERAL: "payment",
    Module.WINDOW_SIMPLE: "payment",
    Module.WINDOW_SUBSCRIPTION: "payment",
    Module.API_KEYIN: "api_payment",
    Module.API_SUBSCRIPTION: "api_payment",
    Module.CERTIFICATION: "certification",
}

PAYMENT_METHODS = [
    ("card", _("Card")),
    ("trans", _("Bank transfer")),
    ("vbank", _("Virtual account")),
    ("phone", _("Phone")),
    ("point", _("Point")),
]

W, WS, WSUB, KEYIN, APISUB, CERT = (
    Module.WINDOW_GENERAL,
    Module.WINDOW_SIMPLE,
    Module.WINDOW_SUBSCRIPTION,
    Module.API_KEYIN,
    Module.API_SUBSCRIPTION,
    Module.CERTIFICATION,
)


@dataclass(frozen=True)
class Text:
    """A label in English and Korean, chosen by the active language."""

    en: str
    ko: str

    def __str__(self) -> str:
        return self.ko if (get_language() or "en").startswith("ko") else self.en


@dataclass(frozen=True)
class CredentialField:
    key: str
    label: Text
    required: bool = True
    secret: bool = True
    max_length: int = 200
    pattern: str | None = None  # a full-match regex, when the format is known
    pattern_hint: Text | None = None
    modules: frozenset[str] | None = None  # only for these modules (None: all)
    codes: frozenset[str] | None = None  # only for these pg codes (None: all)

    def applies(self, module: str, pg_code: str) -> bool:
        return (self.modules is None or module in self.modules) and (
            self.codes is None or pg_code in self.codes
        )

    def check(self, value: str) -> str | None:
        """The problem with ``value``, in the operator's words, or None."""
        if len(value) > self.max_length:
            return str(
                _("%(label)s is too long: at most %(max)d characters (it has %(n)d).")
                % {"label": self.label, "max": self.max_length, "n": len(value)}
            )
        if self.pattern and not re.fullmatch(self.pattern, value):
            hint = f" {self.pattern_hint}" if self.pattern_hint else ""
            return str(_("%(label)s is not in the expected format.") % {"label": self.label}) + hint
        return None


@dataclass(frozen=True)
class PgCode:
    """A value of IMP.request_pay's `pg` prefix, e.g. `kcp_billing`, and where it applies."""

    code: str
    label: Text
    modules: frozenset[str] | None = None

    def applies(self, module: str) -> bool:
        return self.modules is None or module in self.modules


@dataclass(frozen=True)
class Provider:
    key: str
    name: Text
    kind: str
    modules: tuple[str, ...]
    codes: tuple[PgCode, ...]
    mid_label: Text
    fields: tuple[CredentialField, ...]
    shared_test: bool
    guide: str
    mid_max_length: int = 80
    mid_pattern: str = r"[A-Za-z0-9_\-.@]+"
    test_mids: tuple[tuple[str, str, Text], ...] = field(default=())  # (module, mid, note)

    @property
    def guide_url(self) -> str:
        return GUIDE_BASE + self.guide

    def codes_for(self, module: str) -> list[PgCode]:
        return [c for c in self.codes if c.applies(module)]

    def default_code(self, module: str) -> str | None:
        codes = self.codes_for(module)
        return codes[0].code if codes else None

    def fields_for(self, module: str, pg_code: str) -> list[CredentialField]:
        return [f for f in self.fields if f.applies(module, pg_code)]

    def module_choices(self):
        return [(m, Module(m).label) for m in self.modules]


def T(en: str, ko: str) -> Text:
    return Text(en, ko)


def F(key, en, ko, **kw) -> CredentialField:
    for name in ("modules", "codes"):
        if kw.get(name) is not None:
            kw[name] = frozenset(kw[name])
    return CredentialField(key=key, label=T(en, ko), **kw)


def C(code, en, ko, modules=None) -> PgCode:
    return PgCode(code=code, label=T(en, ko), modules=frozenset(modules) if modules else None)


SUBSCRIPTION = (WSUB, APISUB)

PROVIDERS: tuple[Provider, ...] = (
    # --- PGs -----------------------------------------------------------------
    Provider(
        key="kcp", name=T("NHN KCP", "NHN KCP"), kind=Kind.PG,
        modules=(W, WSUB, KEYIN, APISUB, CERT),
        codes=(
            C("kcp", "kcp", "kcp", modules=(W, KEYIN, CERT)),
            C("kcp_billing", "kcp_billing (subscription)", "kcp_billing (정기결제)", modules=SUBSCRIPTION),
            C("kcp_quick", "kcp_quick (Quick Pay)", "kcp_quick (퀵페이)", modules=(W,)),
        ),
        mid_label=T("Site code", "사이트코드"),
        mid_pattern=r"[A-Za-z0-9]{5}", mid_max_length=5,
        fields=(
            F("site_key", "Site key", "사이트키", max_length=40),
            F("group_id", "Subscription group ID", "정기자동결제 그룹아이디", secret=False,
              max_length=40, modules=SUBSCRIPTION),
        ),
        shared_test=True, guide="nhn-kcp",
        test_mids=((W, "T0000", T("general", "일반결제")),),
    ),
    Provider(
        key="html5_inicis", name=T("KG INICIS", "KG이니시스"), kind=Kind.PG,
        modules=(W, WSUB, KEYIN, APISUB, CERT),
        codes=(
            C("html5_inicis", "html5_inicis", "html5_inicis", modules=(W, WSUB, KEYIN, APISUB)),
            C("inicis_unified", "inicis_unified (integrated identity)", "inicis_unified (통합인증)",
              modules=(CERT,)),
        ),
        mid_label=T("MID", "상점 아이디(MID)"),
        mid_pattern=r"[A-Za-z0-9]{10}", mid_max_length=10,
        fields=(
            F("signkey", "Sign key", "웹표준 사인키", max_length=100),
            F("inilite_key", "INILite key", "INILite 키", max_length=100, modules=SUBSCRIPTION),
            F("iniapi_key", "INIAPI key", "INIAPI 키", required=False, max_length=100),
            F("iniapi_iv", "INIAPI IV", "INIAPI IV", required=False, max_length=100),
        ),
        shared_test=True, guide="inicis",
        test_mids=((W, "INIpayTest", T("general", "일반결제")),
                   (WSUB, "INIBillTst", T("subscription", "정기결제"))),
    ),
    Provider(
        key="nice", name=T("NICE Payments", "나이스페이먼츠"), kind=Kind.PG,
        modules=(W, WSUB, KEYIN, APISUB),
        codes=(C("nice", "nice", "nice"), C("nice_v2", "nice_v2 (new API)", "nice_v2 (신모듈)")),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(
            F("merchant_key", "Merchant key", "가맹점 키", max_length=200),
            F("cancel_password", "Cancel password", "취소 비밀번호", max_length=10),
        ),
        shared_test=True, guide="nice",
        test_mids=((W, "iamport00m", T("authenticated", "인증결제")),
                   (KEYIN, "iamport01m", T("non-authenticated", "비인증결제"))),
    ),
    Provider(
        key="tosspayments", name=T("Toss Payments", "토스페이먼츠"), kind=Kind.PG,
        modules=(W, WSUB, KEYIN, APISUB),
        codes=(C("tosspayments", "tosspayments", "tosspayments"),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(
            F("client_key", "Client key", "클라이언트 키", secret=False, max_length=100,
              pattern=r"(test|live)_ck_[A-Za-z0-9]+",
              pattern_hint=T("It starts with test_ck_ or live_ck_.", "test_ck_ 또는 live_ck_로 시작합니다.")),
            F("secret_key", "Secret key", "시크릿 키", max_length=100,
              pattern=r"(test|live)_sk_[A-Za-z0-9]+",
              pattern_hint=T("It starts with test_sk_ or live_sk_.", "test_sk_ 또는 live_sk_로 시작합니다.")),
        ),
        shared_test=True, guide="newtoss/readme",
        test_mids=((W, "iamporttest_3", T("general", "일반결제")),
                   (WSUB, "iamporttest_4", T("subscription", "정기결제"))),
    ),
    Provider(
        key="kicc", name=T("KICC", "KICC(이지페이)"), kind=Kind.PG,
        modules=(W, WSUB, KEYIN, APISUB),
        codes=(C("kicc", "kicc", "kicc"),),
        mid_label=T("MID", "가맹점ID"), mid_max_length=20,
        fields=(F("encryption_key", "Encryption key", "암호화 키", max_length=100),),
        shared_test=True, guide="kicc",
        test_mids=((W, "T5102001", T("general (seen only in third-party code)", "일반결제 (외부 코드에서만 확인)")),),
    ),
    Provider(
        key="paymentwall", name=T("Paymentwall", "페이먼트월"), kind=Kind.PG,
        modules=(W,), codes=(C("paymentwall", "paymentwall", "paymentwall"),),
        mid_label=T("Project key", "프로젝트 키"), mid_max_length=64,
        fields=(F("secret_key", "Secret key", "시크릿 키", max_length=100),),
        shared_test=True, guide="paymentwall",
    ),
    Provider(
        key="daou", name=T("Daou (Kiwoom Pay)", "다우(키움페이)"), kind=Kind.PG,
        modules=(W, WSUB, KEYIN, APISUB), codes=(C("daou", "daou", "daou"),),
        mid_label=T("CPID", "CPID"), mid_max_length=20,
        fields=(F("integration_key", "Integration key", "결제연동키", max_length=100),),
        shared_test=True, guide="daou/readme",
        test_mids=((W, "CTS17362", T("general", "일반결제")),),
    ),
    Provider(
        key="danal", name=T("Danal", "다날"), kind=Kind.PG,
        modules=(W, CERT),
        codes=(
            C("danal_tpay", "danal_tpay (general)", "danal_tpay (일반결제)", modules=(W,)),
            C("danal", "danal (phone)", "danal (휴대폰)", modules=(W, CERT)),
        ),
        mid_label=T("CPID", "CPID"), mid_max_length=20,
        fields=(
            F("cppwd", "CPPWD", "CPPWD", max_length=100),
            F("card_key", "Card encryption key", "신용카드 암호화 키", max_length=100,
              codes=("danal_tpay",)),
            F("bank_key", "Transfer / virtual account encryption key",
              "계좌이체/가상계좌 암호화 키", required=False, max_length=100, codes=("danal_tpay",)),
            F("item_code", "Item code", "상품코드", secret=False, max_length=20,
              codes=("danal",), modules=(W,)),
        ),
        shared_test=True, guide="danal",
        test_mids=((W, "9810030929", T("general (seen only in third-party code)", "일반결제 (외부 코드에서만 확인)")),),
    ),
    Provider(
        key="jtnet", name=T("JTNET", "JTNET"), kind=Kind.PG,
        modules=(W, WSUB), codes=(C("jtnet", "jtnet", "jtnet"),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(F("merchant_key", "Merchant key", "가맹점 키", max_length=200),),
        shared_test=True, guide="readme",
        test_mids=((W, "tpaytest0m", T("general", "일반결제")),),
    ),
    Provider(
        key="settle", name=T("Settlebank (Hecto)", "헥토파이낸셜(세틀뱅크)"), kind=Kind.PG,
        modules=(W, WSUB, KEYIN, APISUB),
        codes=(
            C("settle", "settle", "settle"),
            C("settle_acc", "settle_acc (account)", "settle_acc (내통장결제)", modules=(W,)),
            C("settle_firm", "settle_firm (firm banking)", "settle_firm (펌뱅킹)", modules=(W,)),
        ),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(
            F("license_key", "License key", "라이센스키", max_length=100),
            F("encryption_key", "Encryption key", "암호화 키", max_length=100),
        ),
        shared_test=True, guide="settle/readme",
        test_mids=((W, "nxca_jt_il", T("general", "일반결제")),
                   (WSUB, "nxca_jt_bi", T("subscription", "정기결제"))),
    ),
    Provider(
        key="mobilians", name=T("KG Mobilians", "KG모빌리언스"), kind=Kind.PG,
        modules=(W, CERT), codes=(C("mobilians", "mobilians", "mobilians"),),
        mid_label=T("Service ID", "서비스 ID"), mid_max_length=20,
        fields=(F("integration_key", "Integration key", "연동키", max_length=100),),
        shared_test=True, guide="kg",
    ),
    Provider(
        key="smartro", name=T("Smartro", "스마트로"), kind=Kind.PG,
        modules=(W, WSUB, KEYIN, APISUB),
        codes=(C("smartro_v2", "smartro_v2", "smartro_v2"), C("smartro", "smartro (old)", "smartro (구모듈)")),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(
            F("merchant_key", "Merchant key", "가맹점 키", max_length=200),
            F("cancel_password", "Cancel password", "취소 비밀번호", max_length=6),
        ),
        shared_test=True, guide="smartro-v2/readme",
        test_mids=((W, "t_2302141m", T("general", "일반결제")),),
    ),
    Provider(
        key="paypal", name=T("PayPal", "페이팔"), kind=Kind.PG,
        modules=(W, WSUB),
        codes=(C("paypal_v2", "paypal_v2 (Smart Payment Buttons)", "paypal_v2 (SPB)"),
               C("paypal", "paypal (Express Checkout)", "paypal (Express Checkout)")),
        mid_label=T("PayPal merchant ID", "페이팔 머천트 ID"), mid_max_length=40,
        fields=(
            F("api_username", "API username", "API 사용자 이름", secret=False, max_length=100, codes=("paypal",)),
            F("api_password", "API password", "API 비밀번호", max_length=100, codes=("paypal",)),
            F("api_signature", "API signature", "API 서명", max_length=200, codes=("paypal",)),
        ),
        shared_test=False, guide="paypal",
    ),
    Provider(
        key="eximbay", name=T("Eximbay", "엑심베이"), kind=Kind.PG,
        modules=(W,), codes=(C("eximbay", "eximbay", "eximbay"),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(F("secret_key", "Secret key", "시크릿 키", max_length=100),),
        shared_test=True, guide="eximbay",
    ),
    Provider(
        key="bluewalnut", name=T("Blue Walnut", "블루월넛"), kind=Kind.PG,
        modules=(W, WSUB), codes=(C("bluewalnut", "bluewalnut", "bluewalnut"),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(F("merchant_key", "Merchant key", "가맹점 키", max_length=200),),
        shared_test=True, guide="blue",
    ),
    # --- Simple payments ----------------------------------------------------
    Provider(
        key="kakaopay", name=T("Kakao Pay", "카카오페이"), kind=Kind.SIMPLE,
        modules=(WS, WSUB), codes=(C("kakaopay", "kakaopay", "kakaopay"),),
        mid_label=T("CID", "CID"), mid_pattern=r"[A-Z0-9]{10}", mid_max_length=10,
        fields=(),
        shared_test=True, guide="kakaopay",
        test_mids=((WS, "TC0ONETIME", T("one-time", "단건결제")),
                   (WSUB, "TCSUBSCRIP", T("subscription", "정기결제"))),
    ),
    Provider(
        key="tosspay", name=T("Toss (simple pay)", "토스간편결제"), kind=Kind.SIMPLE,
        modules=(WS, WSUB), codes=(C("tosspay", "tosspay", "tosspay"),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=40,
        fields=(F("api_key", "API key", "API 키", max_length=100),),
        shared_test=False, guide="tosspay",
    ),
    Provider(
        key="naverpay", name=T("Naver Pay", "네이버페이(결제형)"), kind=Kind.SIMPLE,
        modules=(WS, WSUB), codes=(C("naverpay", "naverpay", "naverpay"),),
        mid_label=T("Partner ID", "파트너 ID"), mid_max_length=40,
        fields=(
            F("client_id", "Client ID", "클라이언트 ID", secret=False, max_length=100),
            F("client_secret", "Client secret", "클라이언트 시크릿", max_length=100),
            F("chain_id", "Chain ID", "체인 ID", secret=False, required=False, max_length=100),
        ),
        shared_test=False, guide="naver",
    ),
    Provider(
        key="payco", name=T("PAYCO", "페이코"), kind=Kind.SIMPLE,
        modules=(WS, WSUB), codes=(C("payco", "payco", "payco"),),
        mid_label=T("CPID", "CPID"), mid_max_length=40,
        fields=(
            F("product_id", "Product ID", "상품 ID", secret=False, max_length=100),
            F("seller_key", "Seller key", "가맹점 코드(Seller Key)", max_length=100),
        ),
        shared_test=True, guide="payco",
        test_mids=((WS, "PARTNERTEST", T("general", "일반결제")),
                   (WSUB, "AUTOPAY", T("subscription", "정기결제"))),
    ),
    Provider(
        key="chai", name=T("CHAI", "차이"), kind=Kind.SIMPLE,
        modules=(WS, WSUB), codes=(C("chai", "chai", "chai"),),
        mid_label=T("MID (public API key)", "MID (Public API Key)"), mid_max_length=80,
        fields=(F("secret_key", "Secret key", "시크릿 키", max_length=100),),
        shared_test=True, guide="readme",
    ),
    Provider(
        key="alipay", name=T("Alipay", "알리페이"), kind=Kind.SIMPLE,
        modules=(WS,), codes=(C("alipay", "alipay", "alipay"),),
        mid_label=T("Partner ID", "파트너 ID"), mid_max_length=40,
        fields=(F("key", "Key", "키", max_length=100),),
        shared_test=True, guide="readme",
    ),
)

BY_KEY: dict[str, Provider] = {p.key: p for p in PROVIDERS}


def get(key: str) -> Provider | None:
    return BY_KEY.get(key)


def provider_choices():
    return [(p.key, str(p.name)) for p in PROVIDERS]


def pg_string(pg_code: str, mid: str) -> str:
    """IMP.request_pay's `pg` parameter: `{code}.{MID}`."""
    return f"{pg_code}.{mid}"
