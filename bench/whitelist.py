"""The whitelist check with 1,000 rules, next to 10 rules and a linear scan, in one run.

Target: under 100 µs per call with 1,000 rules.
"""

import ipaddress
import random
import time

from console.rest.whitelist import CompiledWhitelist

CALLS = 20000


def _per_call_us(fn, probes) -> float:
    start = time.perf_counter()
    for probe in probes:
        fn(probe)
    return (time.perf_counter() - start) / len(probes) * 1e6


def run() -> list[str]:
    rng = random.Random(42)
    rules = sorted({str(ipaddress.ip_network((rng.randrange(2**32), rng.randint(16, 32)), strict=False))
                    for _ in range(2000)})[:1000]
    probes = [str(ipaddress.IPv4Address(rng.randrange(2**32))) for _ in range(CALLS)]
    probes += [str(ipaddress.ip_network(rules[rng.randrange(len(rules))]).network_address)
               for _ in range(CALLS // 4)]
    small = CompiledWhitelist(rules[:10])
    big = CompiledWhitelist(rules)
    networks = [ipaddress.ip_network(r) for r in rules]

    def linear(address):
        ip = ipaddress.ip_address(address)
        return any(ip in n for n in networks)

    t_small = _per_call_us(small.allows, probes)
    t_big = _per_call_us(big.allows, probes)
    t_linear = _per_call_us(linear, probes[:2000])
    return [
        f"whitelist: 10 rules      {t_small:7.2f} µs/call",
        f"whitelist: 1000 rules    {t_big:7.2f} µs/call   ({t_big / t_small:4.2f}x 10 rules)",
        f"whitelist: 1000 rules, linear scan baseline {t_linear:8.2f} µs/call ({t_linear / t_big:5.1f}x slower)",
    ]
