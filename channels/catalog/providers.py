"""The data: one ``Provider`` per PG the console offers (facts from
shared/reference/pg-catalog.md and PortOne's V1 PG guides).

Where the rules come from (PortOne's V1 docs, opi/ko/...):
- modules per PG code: billing keys through the window / the API and paying at issuance
  (support/code-info/pg), the key-in API (integration/start/v1/non-auth), identity
  verification (the V1 API's certification endpoints: danal, inicis_unified, kcp_v2; KCP's
  site code also serves phone identity per integration/ready/readme);
- credential fields: integration/ready/readme, "연동 정보 확인하기";
- `pg` codes: support/code-info/pg-2 and each PG's own page beside integration/pg/v1/readme.
``retired`` pairs are what earlier versions of this catalog offered and the docs no longer
list: existing channels keep them, new ones are not offered them.
"""

from .types import APISUB, CERT, KEYIN, SUBSCRIPTION, WS, WSUB, C, F, Kind, Provider, T, W, bk

# Shared test MIDs are the ones PortOne's channel-setting help tells a test integration to
# choose (help/core-service/channel-setting/<pg>.md in the portone-mcp-server docs).
GENERAL = T("general", "일반결제")

PROVIDERS: tuple[Provider, ...] = (
    # --- PGs -----------------------------------------------------------------
    Provider(
        key="kcp", name=T("NHN KCP", "NHN KCP"), kind=Kind.PG,
        codes=(
            C("kcp", "kcp", "kcp", window=W, billing=bk(api=True), keyin=True, certification=True),
            C("kcp_billing", "kcp_billing (subscription)", "kcp_billing (정기결제)",
              billing=bk(window=True), retired=(APISUB,)),
            C("kcp_quick", "kcp_quick (Quick Pay)", "kcp_quick (퀵페이)", window=W),
            C("kcp_v2", "kcp_v2 (identity verification, new module)", "kcp_v2 (본인인증 신모듈)",
              certification=True, guide="kcp-v2-identity-verification"),
        ),
        mid_label=T("Site code", "사이트코드"),
        mid_pattern=r"[A-Za-z0-9]{5}", mid_max_length=5,
        fields=(
            F("site_key", "Site key", "사이트키", max_length=40,
              codes=("kcp", "kcp_billing", "kcp_quick")),
            F("group_id", "Subscription group ID", "정기자동결제 그룹아이디", secret=False,
              max_length=40, modules=SUBSCRIPTION),
            F("partner_type", "Partner type", "파트너 타입", secret=False, max_length=40,
              codes=("kcp_quick",)),
            F("partner_subtype", "Partner subtype", "파트너 서브타입", secret=False, max_length=40,
              codes=("kcp_quick",)),
            F("partner_name", "Partner name", "파트너이름", secret=False, max_length=100,
              codes=("kcp_quick",)),
            F("pg_api_cert", "PG-API certificate", "PG-API 인증서키", secret=False,
              max_length=5000, codes=("kcp_v2",)),
            F("pg_api_private_key", "PG-API private key", "PG-API 개인키", max_length=5000,
              codes=("kcp_v2",)),
            F("private_key_password", "Private key password", "개인키 비밀번호", max_length=100,
              codes=("kcp_v2",)),
        ),
        shared_test=True, guide="nhn-kcp",
        test_mids=((W, "T0000", T("general", "일반결제")),),
    ),
    Provider(
        key="html5_inicis", name=T("KG INICIS", "KG이니시스"), kind=Kind.PG,
        codes=(
            C("html5_inicis", "html5_inicis", "html5_inicis", window=W, billing=bk(window=True),
              keyin=True, retired=(APISUB,)),
            C("inicis", "inicis (API subscription)", "inicis (API 정기결제)", billing=bk(api=True)),
            C("inicis_unified", "inicis_unified (integrated identity)", "inicis_unified (통합인증)",
              certification=True),
        ),
        mid_label=T("MID", "상점 아이디(MID)"),
        mid_pattern=r"[A-Za-z0-9]{10}", mid_max_length=10,
        fields=(
            F("signkey", "Sign key", "웹표준 사인키", max_length=100, codes=("html5_inicis",)),
            F("inilite_key", "INILite key", "INILite 키", max_length=100, modules=(WSUB,),
              codes=("html5_inicis",)),
            F("iniapi_key", "INIAPI key", "INIAPI 키", required=False, max_length=100,
              codes=("html5_inicis", "inicis")),
            F("iniapi_iv", "INIAPI IV", "INIAPI IV", required=False, max_length=100,
              codes=("html5_inicis", "inicis")),
            F("api_key", "API key", "API 키", max_length=100, codes=("inicis_unified",)),
        ),
        shared_test=True, guide="inicis",
        test_mids=((W, "INIpayTest", T("general", "일반결제")),
                   (WSUB, "INIBillTst", T("subscription", "정기결제"))),
    ),
    Provider(
        key="nice", name=T("NICE Payments", "나이스페이먼츠"), kind=Kind.PG,
        codes=(
            C("nice_v2", "nice_v2", "nice_v2", window=W, billing=bk(api=True), keyin=True,
              retired=(WSUB,)),
            C("nice", "nice", "nice", window=W, billing=bk(api=True), keyin=True, legacy=True,
              retired=(WSUB,), guide="nice"),
        ),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(
            F("merchant_key", "Merchant key", "가맹점 키", max_length=200),
            F("cancel_password", "Cancel password", "취소 비밀번호", max_length=10),
        ),
        shared_test=True, guide="nice-v2/readme",
        test_mids=((W, "iamport00m", T("authenticated", "인증결제")),
                   (KEYIN, "iamport01m", T("non-authenticated", "비인증결제"))),
    ),
    Provider(
        key="tosspayments", name=T("Toss Payments", "토스페이먼츠"), kind=Kind.PG,
        codes=(
            C("tosspayments", "tosspayments", "tosspayments", window=W,
              billing=bk(window=True, api=True), keyin=True),
            C("uplus", "uplus", "uplus", window=W, legacy=True, guide="toss"),
        ),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(
            F("client_key", "Client key", "클라이언트 키", secret=False, max_length=100,
              pattern=r"(test|live)_ck_[A-Za-z0-9]+",
              pattern_hint=T("It starts with test_ck_ or live_ck_.", "test_ck_ 또는 live_ck_로 시작합니다."),
              codes=("tosspayments",)),
            F("secret_key", "Secret key", "시크릿 키", max_length=100,
              pattern=r"(test|live)_sk_[A-Za-z0-9]+",
              pattern_hint=T("It starts with test_sk_ or live_sk_.", "test_sk_ 또는 live_sk_로 시작합니다."),
              codes=("tosspayments",)),
            F("mert_key", "Mert key", "머트 키", max_length=100, codes=("uplus",)),
        ),
        shared_test=True, guide="newtoss/readme",
        test_mids=((W, "iamporttest_3", T("general", "일반결제")),
                   (WSUB, "iamporttest_4", T("subscription", "정기결제"))),
    ),
    Provider(
        key="kicc", name=T("KICC", "KICC(이지페이)"), kind=Kind.PG,
        codes=(C("kicc", "kicc", "kicc", window=W, billing=bk(window=True), retired=(KEYIN, APISUB)),),
        mid_label=T("MID", "가맹점ID"), mid_max_length=20,
        # The docs ask only for the merchant ID; the key stays for channels that have one.
        fields=(F("encryption_key", "Encryption key", "암호화 키", required=False, max_length=100),),
        shared_test=True, guide="kicc",
        test_mids=((W, "T5102001", GENERAL),),
    ),
    Provider(
        key="paymentwall", name=T("Paymentwall", "페이먼트월"), kind=Kind.PG,
        codes=(C("paymentwall", "paymentwall", "paymentwall", window=W,
                 billing=bk(window=True, pay=True)),),
        mid_label=T("Project key", "프로젝트 키"), mid_max_length=64,
        fields=(F("secret_key", "Secret key", "시크릿 키", max_length=100),),
        shared_test=True, guide="paymentwall",
    ),
    Provider(
        key="daou", name=T("Daou (Kiwoom Pay)", "다우(키움페이)"), kind=Kind.PG,
        codes=(C("daou", "daou", "daou", window=W, billing=bk(api=True), keyin=True,
                 retired=(WSUB,)),),
        mid_label=T("CPID", "CPID"), mid_max_length=20,
        fields=(F("integration_key", "Integration key", "결제연동키", max_length=100),),
        shared_test=True, guide="daou/readme",
        test_mids=((W, "CTS17362", T("general", "일반결제")),),
    ),
    Provider(
        key="danal", name=T("Danal", "다날"), kind=Kind.PG,
        codes=(
            C("danal_tpay", "danal_tpay (general)", "danal_tpay (일반결제)", window=W,
              billing=bk(window=True, pay=True)),
            C("danal", "danal (phone)", "danal (휴대폰)", window=W,
              billing=bk(window=True, api=True, pay=True), certification=True),
        ),
        mid_label=T("CPID", "CPID"), mid_max_length=20,
        fields=(
            # Needed for gift-card payments only (general), so not required.
            F("cppwd", "CPPWD", "CPPWD", required=False, max_length=100),
            F("card_key", "Card encryption key", "신용카드 암호화 키", max_length=100,
              codes=("danal_tpay",)),
            F("bank_key", "Transfer / virtual account encryption key",
              "계좌이체/가상계좌 암호화 키", required=False, max_length=100, codes=("danal_tpay",)),
            F("item_code", "Item code", "상품코드", secret=False, max_length=20,
              codes=("danal",), modules=(W, WSUB, APISUB)),
        ),
        shared_test=True, guide="danal",
        test_mids=((W, "9810030929", GENERAL),),
    ),
    Provider(
        key="jtnet", name=T("JTNET", "JTNET"), kind=Kind.PG,
        codes=(C("jtnet", "jtnet", "jtnet", window=W, retired=(WSUB,)),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(F("merchant_key", "Merchant key", "가맹점 키", max_length=200),),
        shared_test=True, guide="readme",  # PortOne's V1 docs have no JTNET page
        test_mids=((W, "tpaytest0m", T("general", "일반결제")),),
    ),
    Provider(
        key="settle", name=T("Settlebank (Hecto)", "헥토파이낸셜(세틀뱅크)"), kind=Kind.PG,
        codes=(
            C("settle", "settle", "settle", window=W, billing=bk(api=True), keyin=True,
              retired=(WSUB,)),
            C("settle_acc", "settle_acc (My account pay)", "settle_acc (내통장결제)", window=W,
              billing=bk(window=True, pay=True), guide="settle/mybank"),
            C("settle_firm", "settle_firm (firm banking)", "settle_firm (펌뱅킹)", window=W),
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
        codes=(C("mobilians", "mobilians", "mobilians", window=W,
                 billing=bk(window=True, pay=True), retired=(CERT,)),),
        mid_label=T("Service ID", "서비스 ID"), mid_max_length=20,
        # The docs ask only for the service ID; the key stays for channels that have one.
        fields=(F("integration_key", "Integration key", "연동키", required=False, max_length=100),),
        shared_test=True, guide="kg",
    ),
    Provider(
        key="smartro", name=T("Smartro", "스마트로"), kind=Kind.PG,
        codes=(
            C("smartro_v2", "smartro_v2", "smartro_v2", window=W, billing=bk(window=True),
              retired=(KEYIN, APISUB)),
            C("smartro", "smartro", "smartro", window=W, legacy=True,
              retired=(WSUB, KEYIN, APISUB), guide="smartro"),
        ),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(
            F("merchant_key", "Merchant key", "가맹점 키", max_length=200),
            F("cancel_password", "Cancel password", "취소 비밀번호", max_length=6),
            F("ssp_mall_id", "SSP Mall ID", "ssp Mall ID", secret=False, max_length=40,
              modules=(WSUB,), codes=("smartro_v2",)),
            F("escrow_api_key", "API key (escrow)", "API Key (에스크로)", required=False,
              max_length=200, codes=("smartro_v2",)),
        ),
        shared_test=True, guide="smartro-v2/readme",
        test_mids=((W, "t_2302141m", T("general", "일반결제")),),
    ),
    Provider(
        key="paypal", name=T("PayPal", "페이팔"), kind=Kind.PG,
        codes=(
            C("paypal_v2", "paypal_v2 (Smart Payment Buttons, Reference Transactions)",
              "paypal_v2 (SPB, RT 정기결제)", window=W, billing=bk(window=True)),
            C("paypal", "paypal (Express Checkout)", "paypal (Express Checkout)", window=W,
              legacy=True, retired=(WSUB,), guide="paypal"),
        ),
        mid_label=T("PayPal merchant ID", "페이팔 머천트 ID"), mid_max_length=40,
        fields=(
            F("api_username", "API username", "API 사용자 이름", secret=False, max_length=100, codes=("paypal",)),
            F("api_password", "API password", "API 비밀번호", max_length=100, codes=("paypal",)),
            F("api_signature", "API signature", "API 서명", max_length=200, codes=("paypal",)),
        ),
        shared_test=False, guide="spb/readme",
    ),
    Provider(
        key="eximbay", name=T("Eximbay", "엑심베이"), kind=Kind.PG,
        codes=(C("eximbay", "eximbay", "eximbay", window=W),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(F("secret_key", "Secret key", "시크릿 키", max_length=100),),
        shared_test=True, guide="eximbay",
    ),
    Provider(
        key="bluewalnut", name=T("Blue Walnut", "블루월넛"), kind=Kind.PG,
        codes=(C("bluewalnut", "bluewalnut", "bluewalnut", window=W, retired=(WSUB,)),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(F("merchant_key", "Merchant key", "가맹점 키", max_length=200),),
        shared_test=True, guide="blue",
    ),
    Provider(
        key="ksnet", name=T("KSNET", "KSNET"), kind=Kind.PG,
        codes=(C("ksnet", "ksnet", "ksnet", window=W, billing=bk(api=True), keyin=True),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(F("api_key", "API key", "API Key", max_length=200),),
        shared_test=True, guide="ksnet/readme",
        test_mids=((W, "2999199999", T("payment window", "결제창 일반결제")),
                   (KEYIN, "2999199990", T("API key-in", "API 수기결제")),
                   (APISUB, "2999199990", T("API subscription", "API 정기결제"))),
    ),
    Provider(
        key="welcome", name=T("Welcome Payments", "웰컴페이먼츠"), kind=Kind.PG,
        codes=(C("welcome", "welcome", "welcome", window=W, keyin=True,
                 billing=bk(window=True, api=True, pay=True, pay_methods=("phone",))),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=20,
        fields=(
            F("signkey", "Sign key", "웹결제 Signkey", max_length=100),
            F("field_iv", "Field encryption IV", "필드암호화 IV", max_length=100),
            F("field_key", "Field encryption key", "필드암호화 Key", max_length=100),
        ),
        shared_test=True, guide="welcome/readme",
        test_mids=((W, "welcometst", GENERAL),
                   (WSUB, "wpaybill01", T("subscription", "정기결제")),
                   (APISUB, "wpaybill01", T("API subscription", "API 정기결제"))),
    ),
    # --- Simple payments ----------------------------------------------------
    Provider(
        key="kakaopay", name=T("Kakao Pay", "카카오페이"), kind=Kind.SIMPLE,
        codes=(C("kakaopay", "kakaopay", "kakaopay", window=WS, billing=bk(window=True, pay=True)),),
        mid_label=T("CID", "CID"), mid_pattern=r"[A-Z0-9]{10}", mid_max_length=10,
        fields=(),
        shared_test=True, guide="kakaopay",
        test_mids=((WS, "TC0ONETIME", T("one-time", "단건결제")),
                   (WSUB, "TCSUBSCRIP", T("subscription", "정기결제"))),
    ),
    Provider(
        key="tosspay_v2", name=T("Toss Pay", "토스페이"), kind=Kind.SIMPLE,
        codes=(C("tosspay_v2", "tosspay_v2", "tosspay_v2", window=WS, billing=bk(window=True)),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=40,
        fields=(F("api_key", "API key", "API 키", max_length=100),),
        shared_test=True, guide="tosspay-v2/readme",
        test_mids=((WS, "tosstest", GENERAL),),
    ),
    Provider(
        key="tosspay", name=T("Toss Pay (tosspay)", "토스페이(tosspay)"), kind=Kind.SIMPLE,
        codes=(C("tosspay", "tosspay", "tosspay", window=WS, retired=(WSUB,)),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=40,
        fields=(F("api_key", "API key", "API 키", max_length=100),),
        shared_test=False, guide="tosspay",
        legacy=True,
        legacy_note=T("One-time payments only; new integrations use Toss Pay (tosspay_v2).",
                      "일반결제만 지원합니다. 새로 연동할 때는 토스페이(tosspay_v2)를 씁니다."),
    ),
    Provider(
        key="naverpay", name=T("Naver Pay", "네이버페이(결제형)"), kind=Kind.SIMPLE,
        codes=(C("naverpay", "naverpay", "naverpay", window=WS, billing=bk(window=True)),),
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
        codes=(C("payco", "payco", "payco", window=WS, billing=bk(window=True)),),
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
        key="smilepay", name=T("Smilepay", "스마일페이"), kind=Kind.SIMPLE,
        codes=(C("smilepay", "smilepay", "smilepay", window=WS, billing=bk(window=True)),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=40,
        # Not in the docs' list of channel fields: the minimum, easy to amend.
        fields=(F("merchant_key", "Merchant key", "가맹점 키", max_length=200),),
        shared_test=True, guide="smilepay",
        test_mids=((WS, "cnstest25m", GENERAL),),
    ),
    Provider(
        key="toss_brandpay", name=T("Toss Payments Brand Pay", "토스페이먼츠 브랜드페이"),
        kind=Kind.SIMPLE,
        codes=(C("toss_brandpay", "toss_brandpay", "toss_brandpay", window=WS),),
        mid_label=T("MID", "상점 아이디(MID)"), mid_max_length=40,
        # Not in the docs' list of channel fields: Toss Payments' keys, the minimum.
        fields=(
            F("client_key", "Client key", "클라이언트 키", secret=False, max_length=100,
              pattern=r"(test|live)_ck_[A-Za-z0-9]+",
              pattern_hint=T("It starts with test_ck_ or live_ck_.", "test_ck_ 또는 live_ck_로 시작합니다.")),
            F("secret_key", "Secret key", "시크릿 키", max_length=100,
              pattern=r"(test|live)_sk_[A-Za-z0-9]+",
              pattern_hint=T("It starts with test_sk_ or live_sk_.", "test_sk_ 또는 live_sk_로 시작합니다.")),
        ),
        shared_test=False, guide="toss-brandpay/readme",
    ),
    Provider(
        key="hyphen", name=T("Hyphen", "하이픈"), kind=Kind.SIMPLE,
        codes=(C("hyphen", "hyphen", "hyphen", window=WS),),
        mid_label=T("Store number", "상점 번호"), mid_max_length=40,
        fields=(
            F("encryption_key", "Encryption key", "암호화 키", max_length=200),
            F("encryption_token", "Encryption token", "암호화 토큰", max_length=200),
        ),
        shared_test=False, guide="hyphen",  # the docs give Hyphen no test MID
    ),
    Provider(
        key="chai", name=T("CHAI", "차이"), kind=Kind.SIMPLE,
        codes=(C("chai", "chai", "chai", window=WS, retired=(WSUB,)),),
        mid_label=T("MID (public API key)", "MID (Public API Key)"), mid_max_length=80,
        fields=(F("secret_key", "Secret key", "시크릿 키", max_length=100),),
        shared_test=True, guide="readme",  # PortOne's V1 docs have no CHAI page
    ),
    Provider(
        key="alipay", name=T("Alipay", "알리페이"), kind=Kind.SIMPLE,
        codes=(C("alipay", "alipay", "alipay", window=WS),),
        mid_label=T("Partner ID", "파트너 ID"), mid_max_length=40,
        fields=(F("key", "Key", "키", max_length=100),),
        shared_test=True, guide="readme",  # PortOne's V1 docs have no Alipay page
    ),
)
