#!/usr/bin/env python3
"""Seed requests for fuzz_server (tests/fuzz/fuzz_server.c), from the
documents of tests/data and one request per endpoint of the README's table.

    python3 tests/fuzz/server_seeds.py OUTDIR

Each file is one input: "WHO METHOD TARGET", header lines, an empty line,
the body; or "RAW" and bytes sent as they are.  Bodies are compact JSON
(the target's inputs are at most 4 KiB).  The server the target starts
holds the reports of tests/data/fleet n1-01, n1-02, v1-01, a72-01 and
tests/data/x86 snb-ep, spr-05, pools arm (n1-01, n1-02), mix (n1-01, v1-01,
a72-01), rack (label rack=r1) and x86 and the published profiles arm and
x86; its agent token is n1-01's."""

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def load(rel):
    with open(os.path.join(ROOT, "tests/data", rel)) as f:
        return json.load(f)


def compact(doc):
    return json.dumps(doc, separators=(",", ":"))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {}

    def req(name, who, method, target, body="", headers=()):
        text = "%s %s %s\n" % (who, method, target)
        text += "".join("%s\n" % h for h in headers) + "\n" + body
        seeds[name] = text.encode()

    for rel in ("fleet/n1-01.json", "fleet/v1-02.json",
                "arm64/real-writable/graviton3.json",
                "arm64/real/cortex-a72.json"):
        doc = load(rel)
        host = doc["host"]["id"]
        req("upload-" + host, "admin", "POST", "/v1/reports", compact(doc),
            ["Content-Type: application/json"])
        if host == "n1-01":
            req("agent-own", "agent", "POST", "/v1/reports", compact(doc))
            doc2 = dict(doc, report_id="fuzz-1")
            req("agent-new-id", "agent", "POST", "/v1/reports", compact(doc2))
        else:
            req("agent-other-" + host, "agent", "POST", "/v1/reports",
                compact(doc))
    prof = load("golden/real-writable.profile.json")
    req("profile-put", "admin", "PUT", "/v1/profiles/hand", compact(prof))
    req("check-doc", "reader", "POST", "/v1/check",
        compact({"profile": prof, "hosts": ["n1-01", "v1-01"]}))
    req("check-name", "reader", "POST", "/v1/check",
        compact({"profile": "arm", "version": 1, "vcpus": 4,
                 "hosts": ["n1-01", "a72-01"]}))
    req("check-x86", "admin", "POST", "/v1/check",
        compact({"profile": "x86", "hosts": ["snb-ep", "spr-05"]}))
    for who in ("admin", "reader", "agent", "revoked", "-", "cft_00_00"):
        req("health-" + who, who, "GET", "/v1/health")
    for who in ("revoked", "-", "cft_00_00", "agent"):
        req("hosts-" + who, who, "GET", "/v1/hosts")
    req("pool-put-revoked", "revoked", "PUT", "/v1/pools/r",
        compact({"hosts": []}))
    req("metrics", "-", "GET", "/metrics")
    req("hosts", "reader", "GET", "/v1/hosts")
    req("host", "reader", "GET", "/v1/hosts/n1-01?history=2")
    req("host-at", "admin", "GET", "/v1/hosts/snb-ep?at=2026-11-22T00:00:00Z")
    req("host-enc", "reader", "GET", "/v1/hosts/n1%2D01")
    req("labels", "admin", "PUT", "/v1/hosts/v1-01/labels",
        compact({"labels": {"rack": "r1", "row": "2"}}))
    req("labels-reader", "reader", "PUT", "/v1/hosts/v1-01/labels",
        compact({"labels": {"rack": "r2"}}))
    req("pools", "reader", "GET", "/v1/pools")
    req("pool", "reader", "GET", "/v1/pools/arm")
    req("pool-put", "admin", "PUT", "/v1/pools/p2",
        compact({"labels": {"rack": "r1"}, "hosts": ["a72-01"]}))
    req("pool-mixed", "admin", "PUT", "/v1/pools/mixed",
        compact({"hosts": ["n1-01", "snb-ep"]}))
    req("pool-delete", "admin", "DELETE", "/v1/pools/p2")
    req("baseline", "reader", "POST", "/v1/pools/arm/baseline")
    req("baseline-publish", "admin", "POST", "/v1/pools/rack/baseline",
        compact({"publish": True, "name": "rack-p"}))
    req("baseline-reader-publish", "reader", "POST",
        "/v1/pools/x86/baseline", compact({"publish": True}))
    req("matrix", "reader", "GET", "/v1/pools/arm/matrix?profile=arm")
    req("matrix-mix", "reader", "GET", "/v1/pools/mix/matrix")
    req("baseline-mix", "admin", "POST", "/v1/pools/mix/baseline",
        compact({"publish": True}))
    req("profiles", "reader", "GET", "/v1/profiles")
    req("profile", "reader", "GET", "/v1/profiles/arm")
    req("versions", "reader", "GET", "/v1/profiles/x86/versions")
    req("version", "reader", "GET", "/v1/profiles/arm/versions/1")
    req("events", "reader", "GET",
        "/v1/events?since=2000-01-01T00:00:00Z&host=spr-05&limit=5")
    req("events-all", "admin", "GET", "/v1/events")
    req("audit", "admin", "GET", "/v1/audit?limit=3")
    req("audit-reader", "reader", "GET", "/v1/audit")
    req("no-route", "admin", "GET", "/v2/hosts")
    req("method", "admin", "PATCH", "/v1/pools/arm", "{}")
    req("expect", "admin", "PUT", "/v1/pools/p3", compact({"hosts": []}),
        ["Expect: 100-continue"])
    req("close", "reader", "GET", "/v1/hosts", "",
        ["Connection: close"])
    req("head", "-", "HEAD", "/v1/health")
    seeds["raw-pipeline"] = (
        b"RAW\nGET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    seeds["raw-chunked"] = (
        b"RAW\nPOST /v1/reports HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    seeds["raw-http10"] = b"RAW\nGET /v1/health HTTP/1.0\r\n\r\n"
    seeds["raw-toolong"] = (
        b"RAW\nPOST /v1/check HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 99999999999\r\n\r\n{}")
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
