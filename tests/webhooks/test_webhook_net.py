"""webhooks.net: URL safety rules and the pinned, bounded POST (no database needed)."""

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from webhooks.net import SendResult, UnsafeURL, check_url, make_session, post
from webhooks.net import client as net_client

LOOPBACK = ["127.0.0.0/8", "::1/128"]
PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"

_real_getaddrinfo = socket.getaddrinfo


def _answer(ip, port):
    if ":" in ip:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))


@pytest.fixture
def fake_dns(monkeypatch):
    """Controlled answers for chosen names; everything else goes to the real resolver.

    ``zone[name]`` is a list of IPs, or a callable returning one (called per lookup).
    ``calls`` records every looked-up host.
    """

    class FakeDNS:
        def __init__(self):
            self.zone = {}
            self.calls = []

        def count(self, name):
            return self.calls.count(name)

    dns = FakeDNS()

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        dns.calls.append(host)
        if host in dns.zone:
            ips = dns.zone[host]
            ips = ips() if callable(ips) else ips
            if not ips:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [_answer(ip, port) for ip in ips]
        if isinstance(host, str) and host.endswith((".test", ".example")):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return _real_getaddrinfo(host, port, family, type, proto, flags)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return dns


# --------------------------------------------------------------------- check_url


@pytest.mark.parametrize(
    "url, expected",
    [
        (f"https://{PUBLIC_V4}/hook", [PUBLIC_V4]),
        (f"http://{PUBLIC_V4}:8080/a?b=c#d", [PUBLIC_V4]),
        (f"http://[{PUBLIC_V6}]:8443/x", [PUBLIC_V6]),
        ("https://[2606:2800:220:1::]/", ["2606:2800:220:1::"]),
        (f"HTTPS://{PUBLIC_V4}/", [PUBLIC_V4]),
        (f"http://[::ffff:{PUBLIC_V4}]/", [f"::ffff:{PUBLIC_V4}"]),
    ],
)
def test_public_literal_addresses_are_accepted(url, expected):
    assert check_url(url) == [ipaddress.ip_address(ip) for ip in expected]


def test_public_name_is_accepted_with_all_its_addresses(fake_dns):
    fake_dns.zone["hooks.example"] = [PUBLIC_V4, PUBLIC_V6, PUBLIC_V4]
    assert check_url("https://hooks.example/pg") == [
        ipaddress.ip_address(PUBLIC_V4),
        ipaddress.ip_address(PUBLIC_V6),
    ]


@pytest.mark.parametrize("private", ["10.0.0.7", "127.0.0.1", "169.254.169.254", "fd00::1"])
def test_every_resolved_address_is_checked_not_just_the_first(fake_dns, private):
    fake_dns.zone["mixed.example"] = [PUBLIC_V4, private]
    with pytest.raises(UnsafeURL) as info:
        check_url("https://mixed.example/hook")
    assert info.value.kind == "blocked"
    assert private in info.value.message
    assert "mixed.example resolves to" in info.value.message
    assert "one of its 2 addresses" in info.value.message


def test_name_resolving_to_loopback_names_the_address(fake_dns):
    fake_dns.zone["localhost"] = ["127.0.0.1"]
    with pytest.raises(UnsafeURL) as info:
        check_url("http://localhost:8000/hook")
    assert info.value.kind == "blocked"
    assert str(info.value) == info.value.message == (
        "localhost resolves to 127.0.0.1, a loopback address. "
        "Webhooks can only go to public addresses."
    )


def test_dns_failure(fake_dns):
    with pytest.raises(UnsafeURL) as info:
        check_url("https://nowhere.test/hook")
    assert info.value.kind == "dns"
    assert "could not be resolved" in info.value.message
    assert "nowhere.test" in info.value.message


def test_numeric_spellings_are_refused_before_any_dns(fake_dns):
    with pytest.raises(UnsafeURL) as info:
        check_url("http://0x7f000001/")
    assert info.value.kind == "numeric"
    assert fake_dns.calls == []


BAD_URLS = [
    # scheme
    ("ftp://x/", "scheme", "http:// or https://"),
    ("gopher://93.184.216.34/", "scheme", "http:// or https://"),
    ("file:///etc/passwd", "scheme", "http:// or https://"),
    ("javascript:alert(1)", "scheme", "http:// or https://"),
    ("93.184.216.34/hook", "scheme", "no scheme"),
    # userinfo
    ("http://user:pw@93.184.216.34/", "userinfo", "user name or password"),
    ("http://user@93.184.216.34/", "userinfo", "user name or password"),
    ("http://@93.184.216.34/", "userinfo", "user name or password"),
    ("http://evil.example\\@127.0.0.1/", "userinfo", "user name or password"),
    # host
    ("http:///hook", "host", "no host"),
    ("http://:8080/hook", "host", "no host"),
    ("https://", "host", "no host"),
    ("http://" + "a" * 2000 + ".example/", "host", "too long"),
    ("https://93.184.216.34/" + "x" * 2000, "host", "too long"),
    ("http://exa mple.com/", "host", "spaces"),
    ("http://example.com%2F@x/", "userinfo", "user name"),
    ("http://127%2E0%2E0%2E1/", "host", "not a valid host name"),
    ("http://[fe80::1%25eth0]/", "host", "zone"),
    ("http://[not-v6]/", "host", "could not be read"),
    # port
    ("http://93.184.216.34:99999/", "port", "1 to 65535"),
    ("http://93.184.216.34:0/", "port", "1 to 65535"),
    ("http://93.184.216.34:http/", "port", "1 to 65535"),
    # numeric oddities
    ("http://2130706433/", "numeric", "unusual way of writing an address"),
    ("http://0x7f000001/", "numeric", "unusual way of writing an address"),
    ("http://0x7f.0.0.1/", "numeric", "unusual way of writing an address"),
    ("http://017700000001/", "numeric", "unusual way of writing an address"),
    ("http://127.1/", "numeric", "unusual way of writing an address"),
    ("http://0177.0.0.1/", "numeric", "unusual way of writing an address"),
    ("http://127.0.0.01/", "numeric", "unusual way of writing an address"),
    ("http://010.0.0.1/", "numeric", "usual form"),
    ("http://93.184.216.034/", "numeric", "usual form"),
    ("http://127.0.0.1./", "numeric", "usual form"),
    ("http://1.2.3.4.5/", "numeric", "usual form"),
    ("http://256.1.1.1/", "numeric", "usual form"),
    ("http://foo.0x7f/", "numeric", "usual form"),
    # blocked categories (literal addresses, no DNS)
    ("http://127.0.0.1/", "blocked", "loopback"),
    ("http://127.255.0.9:8000/", "blocked", "loopback"),
    ("http://[::1]/", "blocked", "loopback"),
    ("http://10.1.2.3/", "blocked", "private"),
    ("http://172.16.0.1/", "blocked", "private"),
    ("http://172.31.255.254/", "blocked", "private"),
    ("http://192.168.1.1/", "blocked", "private"),
    ("http://[fc00::1]/", "blocked", "private"),
    ("http://[fd12:3456::1]/", "blocked", "private"),
    ("http://169.254.169.254/latest/meta-data/", "blocked",
     "including the cloud metadata address 169.254.169.254"),
    ("http://169.254.1.1/", "blocked", "link-local"),
    ("http://[fe80::1]/", "blocked", "link-local"),
    ("http://100.64.1.1/", "blocked", "CG-NAT"),
    ("http://100.127.255.254/", "blocked", "CG-NAT"),
    ("http://224.0.0.1/", "blocked", "multicast"),
    ("http://239.255.255.250/", "blocked", "multicast"),
    ("http://[ff02::1]/", "blocked", "multicast"),
    ("http://240.0.0.1/", "blocked", "reserved"),
    ("http://255.255.255.255/", "blocked", "reserved"),
    ("http://0.0.0.0/", "blocked", "unspecified"),
    ("http://0.1.2.3/", "blocked", "unspecified"),
    ("http://[::]/", "blocked", "unspecified"),
    ("http://192.0.2.10/", "blocked", "not publicly routable"),
    ("http://198.18.0.1/", "blocked", "not publicly routable"),
    ("http://[2001:db8::1]/", "blocked", "not publicly routable"),
    # requests-hardened's extra ranges
    ("http://192.88.99.1/", "blocked", "6to4 relay"),
    ("http://192.0.0.9/", "blocked", "192.0.0.0/24"),
    ("http://[64:ff9b:1::1]/", "blocked", "NAT64"),
    ("http://[2001:20::1]/", "blocked", "ORCHIDv2"),
    ("http://[5f00::1]/", "blocked", "segment routing"),
    # IPv6 forms embedding an IPv4 address
    ("http://[::ffff:127.0.0.1]/", "blocked", "loopback"),
    ("http://[::ffff:10.0.0.1]/", "blocked", "private"),
    ("http://[::ffff:169.254.169.254]/", "blocked", "cloud metadata"),
    ("http://[::127.0.0.1]/", "blocked", "IPv4-compatible IPv6 address embedding 127.0.0.1"),
    ("http://[64:ff9b::7f00:1]/", "blocked", "NAT64 IPv6 address embedding 127.0.0.1, a loopback"),
    ("http://[64:ff9b::a00:1]/", "blocked", "10.0.0.1, a private"),
    ("http://[64:ff9b::5db8:d822]/", "blocked", "NAT64 translation range"),
    ("http://[2002:7f00:1::]/", "blocked", "6to4 IPv6 address embedding 127.0.0.1, a loopback"),
    ("http://[2002:a9fe:a9fe::]/", "blocked", "cloud metadata"),
    ("http://[2002:5db8:d822::1]/", "blocked", "6to4 range"),
]


@pytest.mark.parametrize("url, kind, fragment", BAD_URLS)
def test_bad_urls_are_refused(url, kind, fragment):
    with pytest.raises(UnsafeURL) as info:
        check_url(url)
    assert info.value.kind == kind, info.value.message
    assert fragment.lower() in info.value.message.lower()
    assert str(info.value) == info.value.message
    if kind == "blocked":
        assert info.value.message.endswith("Webhooks can only go to public addresses.")


def test_unsafe_url_exception_shape():
    exc = UnsafeURL("dns", "x could not be resolved.")
    assert (exc.kind, exc.message, str(exc)) == ("dns", "x could not be resolved.", exc.message)
    assert isinstance(exc, Exception)


def test_international_names_are_checked_in_their_ascii_form(fake_dns):
    fake_dns.zone["xn--bcher-kva.example"] = ["10.0.0.1"]
    with pytest.raises(UnsafeURL) as info:
        check_url("https://bücher.example/")
    assert info.value.kind == "blocked"
    assert "xn--bcher-kva.example resolves to 10.0.0.1" in info.value.message


# ------------------------------------------------------------ allowed_networks


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://127.8.9.10/",
        "http://[::1]:9/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_allowed_networks_open_loopback(url):
    assert check_url(url, allowed_networks=LOOPBACK)


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1/", "http://192.168.0.1/", "http://169.254.169.254/"]
)
def test_allowed_networks_open_nothing_else(url):
    with pytest.raises(UnsafeURL) as info:
        check_url(url, allowed_networks=LOOPBACK)
    assert info.value.kind == "blocked"


def test_allowed_networks_apply_to_resolved_names_and_accept_host_bits(fake_dns):
    fake_dns.zone["dev.test"] = ["127.0.0.1", "::1"]
    assert check_url("http://dev.test:8000/", allowed_networks=["127.0.0.1/8", "::1"]) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    fake_dns.zone["lab.test"] = ["127.0.0.1", "10.0.0.1"]
    with pytest.raises(UnsafeURL, match="10.0.0.1"):
        check_url("http://lab.test/", allowed_networks=LOOPBACK)
    assert check_url("http://lab.test/", allowed_networks=LOOPBACK + ["10.0.0.0/8"])


def test_allowed_networks_do_not_skip_syntax_rules():
    with pytest.raises(UnsafeURL) as info:
        check_url("http://127.1/", allowed_networks=LOOPBACK)
    assert info.value.kind == "numeric"


def test_invalid_allowed_network_is_a_configuration_error():
    with pytest.raises(ValueError, match="not-a-cidr"):
        check_url(f"https://{PUBLIC_V4}/", allowed_networks=["not-a-cidr"])


# ------------------------------------------------------------------ receiver


class _Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # idle keep-alive connections end on their own

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.seen.append(
            {
                "path": self.path,
                "headers": dict(self.headers),
                "body": body,
                "client": self.client_address,
            }
        )
        path = self.path.split("?")[0]
        if path == "/ok":
            self._reply(200, b"thanks", {"X-Test": "1"})
        elif path == "/fail":
            self._reply(500, b"boom")
        elif path == "/redirect":
            self._reply(302, b"", {"Location": "http://127.0.0.1:1/elsewhere"})
        elif path == "/big":
            self._reply(200, b"x" * (5 * 1024 * 1024))
        elif path == "/slow":
            self.server.release.wait(3)
            self._reply(200, b"late")
        else:
            self._reply(404, b"no such path")

    def _reply(self, status, body, headers=None):
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (truncated read, timeout): fine
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        pass


@pytest.fixture
def receiver():
    server = _Server(("127.0.0.1", 0), _Receiver)
    server.seen = []
    server.release = threading.Event()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    server.port = server.server_address[1]
    server.url = f"http://127.0.0.1:{server.port}"
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def _post(url, **kwargs):
    kwargs.setdefault("body", b'{"event":"ping"}')
    kwargs.setdefault("headers", {"Content-Type": "application/json", "webhook-id": "msg_1"})
    kwargs.setdefault("allowed_networks", ["127.0.0.0/8"])
    return post(url, **kwargs)


# ----------------------------------------------------------------------- post


def test_post_ok(receiver):
    body = b'{"event":"payment.paid","amount":1000}'
    headers = {
        "Content-Type": "application/json",
        "webhook-id": "msg_42",
        "User-Agent": "PG-Console/1",
    }
    result = _post(f"{receiver.url}/ok", body=body, headers=headers)

    assert isinstance(result, SendResult)
    assert result.ok is True
    assert (result.status, result.body, result.truncated) == (200, "thanks", False)
    assert (result.error_kind, result.error_message) == ("", "")
    assert result.headers["X-Test"] == "1"
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.headers.items())
    assert isinstance(result.duration_ms, int) and result.duration_ms >= 0

    [seen] = receiver.seen
    assert seen["body"] == body
    for name, value in headers.items():
        assert seen["headers"][name] == value
    assert seen["headers"]["Host"] == f"127.0.0.1:{receiver.port}"
    assert "Cookie" not in seen["headers"] and "Authorization" not in seen["headers"]


def test_post_non_2xx_is_http_status(receiver):
    result = _post(f"{receiver.url}/fail")
    assert (result.status, result.error_kind, result.ok) == (500, "http_status", False)
    assert result.error_message == "The receiver answered 500."
    assert result.body == "boom"

    result = _post(f"{receiver.url}/missing")
    assert (result.status, result.error_kind) == (404, "http_status")
    assert result.error_message == "The receiver answered 404."


def test_post_does_not_follow_redirects(receiver):
    result = _post(f"{receiver.url}/redirect")
    assert (result.status, result.error_kind, result.ok) == (302, "redirect", False)
    assert result.error_message == (
        "Redirects are not followed: the receiver answered 302 to http://127.0.0.1:1/elsewhere."
    )
    assert [s["path"] for s in receiver.seen] == ["/redirect"]


def test_post_reads_at_most_max_body(receiver):
    result = _post(f"{receiver.url}/big")
    assert result.status == 200 and result.ok
    assert result.truncated is True
    assert len(result.body) <= 65536
    assert result.body == "x" * 65536

    small = _post(f"{receiver.url}/big", max_body=10)
    assert (small.body, small.truncated) == ("x" * 10, True)

    exact = _post(f"{receiver.url}/ok", max_body=6)
    assert (exact.body, exact.truncated) == ("thanks", False)


def test_post_read_timeout(receiver):
    result = _post(f"{receiver.url}/slow", read_timeout=0.5)
    assert result.error_kind == "timeout"
    assert result.status is None and not result.ok
    assert result.error_message == "The receiver did not answer within 0.5 seconds."


def test_post_connection_refused():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    result = _post(f"http://127.0.0.1:{port}/ok")
    assert result.error_kind == "refused"
    assert result.error_message == (
        "The receiver refused the connection (nothing listens on that port?)."
    )
    assert (result.status, result.headers, result.body) == (None, {}, "")


def test_post_blocked_at_send_time(receiver):
    result = _post(f"{receiver.url}/ok", allowed_networks=())
    assert result.error_kind == "blocked"
    assert "127.0.0.1 is a loopback address" in result.error_message
    assert result.status is None and not result.ok
    assert receiver.seen == []


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("ftp://x/", "http:// or https://"),
        ("http://user:pw@127.0.0.1/ok", "user name or password"),
        ("http://2130706433/", "unusual way"),
    ],
)
def test_post_refuses_bad_urls_without_sending(receiver, url, fragment):
    result = _post(url.replace("127.0.0.1", f"127.0.0.1:{receiver.port}"))
    assert result.error_kind == "blocked"
    assert fragment in result.error_message
    assert receiver.seen == []


def test_post_dns_failure(fake_dns):
    result = _post("https://nowhere.test/hook")
    assert result.error_kind == "dns"
    assert "could not be resolved" in result.error_message


def test_post_pins_the_checked_address_and_keeps_the_host_name(receiver, fake_dns):
    fake_dns.zone["receiver.test"] = ["127.0.0.1"]
    result = _post(f"http://receiver.test:{receiver.port}/ok")
    assert result.status == 200 and result.ok
    assert receiver.seen[0]["headers"]["Host"] == f"receiver.test:{receiver.port}"
    assert fake_dns.count("receiver.test") == 1


def test_post_is_not_fooled_by_a_second_dns_answer(receiver, fake_dns):
    answers = iter([["127.0.0.1"]])  # the first lookup is checked; any later one would be bad
    fake_dns.zone["rebind.test"] = lambda: next(answers, ["10.0.0.1"])
    session = make_session()

    result = _post(f"http://rebind.test:{receiver.port}/ok", session=session)
    assert result.status == 200 and result.ok
    # Resolved once (check + pin); urllib3 connected to the IP, not the name.
    assert fake_dns.count("rebind.test") == 1
    assert all(host != "rebind.test" for host in fake_dns.calls[1:])
    assert receiver.seen[0]["headers"]["Host"] == f"rebind.test:{receiver.port}"

    # The next send resolves again and checks every address again.
    again = _post(f"http://rebind.test:{receiver.port}/ok", session=session)
    assert again.error_kind == "blocked"
    assert "rebind.test resolves to 10.0.0.1, a private network address" in again.error_message
    assert len(receiver.seen) == 1


def test_post_checks_every_address_at_send_time(receiver, fake_dns):
    fake_dns.zone["mixed.test"] = ["127.0.0.1", "10.0.0.1"]
    result = _post(f"http://mixed.test:{receiver.port}/ok")
    assert result.error_kind == "blocked"
    assert "10.0.0.1" in result.error_message
    assert receiver.seen == []


def test_adapter_sets_host_sni_and_pinned_address_for_https(fake_dns):
    fake_dns.zone["secure.example"] = [PUBLIC_V6]
    adapter = net_client.PinnedAddressAdapter()
    prepared = requests.Request("POST", "https://secure.example/hook", data=b"{}").prepare()
    host_params, pool_kwargs = adapter.build_connection_pool_key_attributes(prepared, True)
    assert host_params == {"scheme": "https", "host": f"[{PUBLIC_V6}]", "port": 443}
    assert pool_kwargs["assert_hostname"] == "secure.example"
    assert pool_kwargs["server_hostname"] == "secure.example"
    assert prepared.headers["Host"] == "secure.example"


def test_adapter_without_policy_is_strict(fake_dns):
    adapter = net_client.PinnedAddressAdapter()
    prepared = requests.Request("POST", "http://127.0.0.1:9/hook").prepare()
    with pytest.raises(UnsafeURL) as info:
        adapter.build_connection_pool_key_attributes(prepared, True)
    assert info.value.kind == "blocked"


def test_make_session_mounts_the_pinning_adapter_and_keeps_connections_alive(receiver):
    session = make_session()
    assert isinstance(session.get_adapter("http://x/"), net_client.PinnedAddressAdapter)
    assert isinstance(session.get_adapter("https://x/"), net_client.PinnedAddressAdapter)
    assert session.trust_env is False

    first = _post(f"{receiver.url}/ok", session=session)
    second = _post(f"{receiver.url}/ok", session=session)
    assert first.ok and second.ok
    assert receiver.seen[0]["client"] == receiver.seen[1]["client"]  # same TCP connection


def test_post_reuses_a_thread_local_session(receiver):
    assert _post(f"{receiver.url}/ok").ok
    session = net_client._thread_session()
    assert session is net_client._thread_session()
    other = []
    worker = threading.Thread(target=lambda: other.append(net_client._thread_session()))
    worker.start()
    worker.join()
    assert other[0] is not session


def test_post_rejects_a_session_without_the_pinning_adapter(receiver):
    with pytest.raises(TypeError):
        _post(f"{receiver.url}/ok", session=requests.Session())
    assert receiver.seen == []


def test_send_result_ok():
    assert SendResult(204, {}, "", False, 3, "", "").ok
    assert not SendResult(200, {}, "", False, 3, "connection", "cut").ok
    assert not SendResult(None, {}, "", False, 3, "timeout", "slow").ok
    assert not SendResult(302, {}, "", False, 3, "redirect", "moved").ok


def test_post_tls_failure(receiver):
    # The receiver speaks plain HTTP, so the TLS handshake fails.
    result = _post(f"https://127.0.0.1:{receiver.port}/ok")
    assert result.error_kind == "tls"
    assert result.error_message.startswith("The secure (TLS) connection to the receiver failed")


@pytest.mark.parametrize(
    "exc, kind, message",
    [
        (requests.ConnectTimeout("x"), "timeout",
         "The receiver did not accept the connection within 5 seconds."),
        (requests.ReadTimeout("x"), "timeout", "The receiver did not answer within 15 seconds."),
        (requests.exceptions.SSLError("x"), "tls",
         "The secure (TLS) connection to the receiver failed."),
        (requests.ConnectionError(ConnectionResetError(104, "reset")), "connection",
         "The receiver closed the connection before the answer was complete."),
        (UnsafeURL("dns", "x could not be resolved."), "dns", "x could not be resolved."),
        (UnsafeURL("numeric", "odd"), "blocked", "odd"),
    ],
)
def test_error_classification(exc, kind, message):
    assert net_client._classify(exc, 5.0, 15.0) == (kind, message)
