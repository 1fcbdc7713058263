"""The payments domain's one error: a refusal with a PortOne-style code and a message."""





class PaymentError(Exception):
    """A refusal with PortOne-style ``code`` and a ``message`` in the active language."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message
