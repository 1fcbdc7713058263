"""One way to mask a card number, PortOne's (the 7th to the 12th digit hidden), on every
payment and billing key; and card_type and card_quota shown as words, not numbers (issue 22,
item 9)."""

import re

import pytest
from django.utils import translation

from payments.models import CardType, card_quota_label, card_type_label
from payments.sandbox import cards

MASKED = re.compile(r"[0-9]{6}\*+[0-9]{4}")


def test_the_mask_hides_the_7th_to_the_4th_last_digit():
    assert cards.mask("9410000070000000") == "941000******0000"
    assert cards.mask("376003000000000") == "376003*****0000"  # 15 digits: 7th to 11th hidden
    for card in cards.TEST_CARDS:
        assert MASKED.fullmatch(card.masked) and card.masked[:6] == card.digits[:6]
        assert card.masked[-4:] == card.digits[-4:] and len(card.masked) == len(card.digits)


@pytest.mark.django_db
def test_a_window_approval_masks_as_a_billing_key_does(client):
    from payments.models import Payment
    from tests.factories import make_merchant
    from tests.payments.test_payment_window import ensure_shared_kcp, open_window, press

    ensure_shared_kcp()
    shop = make_merchant("Corner Shop")
    _done, imp_uid = press(client, open_window(client, shop), "approve")
    paid = Payment.objects.get(imp_uid=imp_uid)
    assert paid.card_number == cards.DEFAULT_CARD.masked == cards.mask(cards.DEFAULT_CARD.digits)
    assert paid.card_type == CardType.CREDIT and paid.card_code == cards.DEFAULT_CARD.card_code


@pytest.mark.parametrize(("lang", "credit", "check", "lump", "three"), [
    ("en", "Credit card", "Check card", "Lump sum", "3 months in instalments"),
    ("ko", "신용카드", "체크카드", "일시불", "3개월 할부"),
])
def test_card_type_and_quota_read_as_words(lang, credit, check, lump, three):
    with translation.override(lang):
        assert card_type_label(0) == credit and card_type_label(1) == check
        assert card_type_label(None) == ""
        assert card_quota_label(0) == lump and card_quota_label(3) == three
