#!/usr/bin/python3
"""The web page of `cpufleet server` in a real browser: headless Chromium
(Debian's chromium and chromium-driver) driven by Selenium (Debian's
python3-selenium, hence /usr/bin/python3), against a real server on
127.0.0.1:0 with a temporary database, as tests/integration/run.py starts
them (its helpers are reused).

    /usr/bin/python3 tests/web/run.py build/cpufleet [OUTDIR]

Prints "ok - NAME" or "FAIL - NAME: why" per case, then "web: N passed, N
failed, N skipped"; screenshots go to OUTDIR (build/web).  Where no browser
can run it prints "skip: web: WHY" and exits 0.  CASE filtering as in run.py:
arguments after OUTDIR run only the cases whose name contains one of them.

What is expected comes from outside the page: the API's own answers, and
for a refused cell's reasons the local `cpufleet explain --json` of the two
hosts' report files (the engine on files, not the server).
"""

import concurrent.futures
import html.parser
import json
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import run as it  # noqa: E402  (the integration test's helpers)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
RW_DIR = "tests/data/arm64/real-writable"
REAL = ["altra", "cortex-a72", "graviton3"]
# Issue 15: a matrix of 1,000 hosts renders in under 2 s.
BIG_HOSTS = 1000
BIG_LIMIT_MS = 2000.0
WAIT_S = 30
OUT = None
check, eq, Fail = it.check, it.eq, it.Fail


def skip(why):
    print("skip: web: " + why)
    print("skip - web: " + why)
    print("web: 0 passed, 0 failed, 1 skipped")
    return 0


# ---- the browser -----------------------------------------------------------

def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    o = Options()
    o.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1400,1000",
              "--no-first-run", "--disable-extensions"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=o)


class Page:
    """A browser on the server at URL; closed with close()."""

    def __init__(self, url):
        self.url = url
        self.d = browser()
        it._live.append(_Quit(self.d))

    def close(self):
        try:
            self.d.quit()
        except Exception:
            pass

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def wait(self, what, fn, timeout=WAIT_S):
        t_end = time.monotonic() + timeout
        last = None
        while time.monotonic() < t_end:
            try:
                v = fn()
            except Exception as e:  # the element is not there yet
                v, last = None, e
            if v:
                return v
            time.sleep(0.05)
        raise Fail("waited %d s for %s%s" % (
            timeout, what, " (%s)" % it.short(str(last).split("\n")[0], 120)
            if last else ""))

    def by_id(self, i):
        return self.d.find_element("id", i)

    def visible(self, i):
        return self.by_id(i).is_displayed()

    def shot(self, name):
        os.makedirs(OUT, exist_ok=True)
        p = os.path.join(OUT, name + ".png")
        self.d.save_screenshot(p)
        return p

    def login(self, tok):
        self.d.get(self.url + "/")
        self.wait("the log-in form", lambda: self.visible("token"))
        self.by_id("token").send_keys(tok)
        self.by_id("login-button").click()

    def csp_violations(self):
        """What the browser logged against the page's policy."""
        return [e["message"] for e in self.d.get_log("browser")
                if "Content Security Policy" in e.get("message", "")]


class _Quit:
    """Lets the integration helpers' clean-up end a browser like a
    process (poll, kill, wait)."""

    def __init__(self, d):
        self.d, self.done = d, False

    def poll(self):
        return 0 if self.done else None

    def kill(self):
        try:
            self.d.quit()
        except Exception:
            pass
        self.done = True

    def wait(self, *_):
        return 0


# ---- fleets ----------------------------------------------------------------

def small_fleet(tmp):
    """Pool real (the three real-writable dumps, published baseline), and
    pool spr with a drift event (tests/data/drift: the spr-05 dump before
    and after an update that clears HLE and RTM)."""
    db, adm, rdr, s, u = it.started(tmp)
    for h in REAL:
        it.want(it.upload(u, adm, it.report(src="%s/%s.json" % (RW_DIR, h))),
                201, "upload " + h)
    it.want(it.request(u, "PUT", "/v1/hosts/altra/labels",
                       {"labels": {"rack": "r7"}}, adm), 200, "label altra")
    it.want(it.request(u, "PUT", "/v1/pools/real", {"hosts": REAL}, adm),
            201, "pool real")
    it.want(it.request(u, "POST", "/v1/pools/real/baseline",
                       {"publish": True}, adm), 201, "publish real")
    it.want(it.upload(u, adm, it.report(src="tests/data/drift/spr-05.json")),
            201, "upload spr-05")
    it.want(it.request(u, "PUT", "/v1/pools/spr", {"hosts": ["spr-05"]}, adm),
            201, "pool spr")
    it.want(it.request(u, "POST", "/v1/pools/spr/baseline",
                       {"publish": True}, adm), 201, "publish spr")
    it.want(it.upload(u, adm, it.report(
        src="tests/data/drift/spr-05-tsx-off.json")), 201,
        "upload spr-05 after the update")
    return db, adm, rdr, s, u


def fleet_page(tmp):
    """small_fleet's server: (server, url, reader token, the API's hosts,
    a page logged in with the reader token once it lists every host)."""
    db, adm, rdr, s, u = small_fleet(tmp)
    hosts = api(u, rdr, "GET", "/v1/hosts")["hosts"]
    pg = Page(u)
    pg.login(rdr)
    pg.wait("the hosts table", lambda: len(pg.d.find_elements(
        "css selector", "#hosts tbody tr")) == len(hosts))
    return s, u, rdr, hosts, pg


def api(u, tok, method, path, body=None):
    return it.want(it.request(u, method, path, body, tok), 200,
                   "%s %s" % (method, path)).json()


# ---- the cases -------------------------------------------------------------

CASES, case = it.case_list()


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and not a.get("src"):
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")
        for k in a:
            if k == "style" or k.startswith("on"):
                self.inline.append("%s attribute on <%s>" % (k, tag))


@case("files: /, /web/app.js, /web/app.css with their content types, a "
      "strict Content-Security-Policy and nosniff, no token needed; nothing "
      "inline, nothing from elsewhere; unknown and tricky names refused")
def t_files(tmp):
    db, adm, rdr, s, u = it.started(tmp)
    # CSP Level 3 (W3C): 'none' as default-src, frame-ancestors 'none';
    # no 'unsafe-inline' or 'unsafe-eval'.
    for path, ctype in (("/", "text/html"), ("/web/app.js", "text/javascript"),
                        ("/web/app.css", "text/css")):
        r = it.want(it.request(u, "GET", path), 200, "GET " + path)
        check(r.headers.get("content-type", "").startswith(ctype),
              "GET %s: Content-Type %r, want %s" % (
                  path, r.headers.get("content-type"), ctype))
        eq(r.headers.get("x-content-type-options"), "nosniff",
           "GET %s: X-Content-Type-Options" % path)
        csp = r.headers.get("content-security-policy", "")
        for want in ("default-src 'none'", "frame-ancestors 'none'"):
            check(want in csp, "GET %s: CSP %r lacks %s" % (path, csp, want))
        for bad in ("unsafe-inline", "unsafe-eval", "*", "http:", "https:",
                    "data:"):
            check(bad not in csp, "GET %s: CSP %r allows %s" % (path, csp,
                                                                bad))
        text = r.body.decode("ascii")
        for ext in ("http://", "https://", "//cdn", "eval(", "innerHTML"):
            check(ext not in text, "GET %s holds %r" % (path, ext))
        if path == "/":
            p = _Tags()
            p.feed(text)
            eq(p.inline, [], "inline script or style in the page")
    # The JSON API says the same to browsers.
    r = it.request(u, "GET", "/v1/hosts", tok=rdr)
    eq(r.headers.get("x-content-type-options"), "nosniff",
       "/v1/hosts: X-Content-Type-Options")
    check("default-src 'none'" in r.headers.get("content-security-policy",
                                                ""),
          "/v1/hosts: CSP %r" % r.headers.get("content-security-policy"))
    # Names are looked up in the compiled table, never opened.
    for path in ("/web/nosuch.js", "/web/gen_assets.awk", "/web/..%2fMakefile",
                 "/web/%2e%2e", "/web/", "/index.html", "/web/app.js/x",
                 "/web/..", "/web/app.js%00.html"):
        r = it.request(u, "GET", path)
        check(400 <= r.status < 500, "GET %s: %r, want a 4xx" % (path, r))
        check(b"cpufleet" not in r.body and b"CF_" not in r.body,
              "GET %s answered a file: %r" % (path, r))
    it.want(it.request(u, "POST", "/"), 405, "POST /")
    s.stop()


@case("log in: a wrong token is refused with the server's reason and the "
      "fleet stays hidden; the token is kept in session storage, never in "
      "the URL")
def t_login(tmp):
    db, adm, rdr, s, u = small_fleet(tmp)
    pg = Page(u)
    try:
        bad = "cft_0000000000_" + "0" * 64
        pg.login(bad)
        pg.wait("the refusal", lambda: "unknown or revoked token" in
                pg.by_id("login-error").text)
        check(not pg.visible("app"), "the fleet is shown after a wrong token")
        eq(pg.js("return sessionStorage.getItem('cpufleet.token')"), None,
           "a refused token kept in session storage")
        pg.shot("wrong-token")
        # An agent token is no reader: refused too, with the role named.
        agt, _ = it.token(db, "agent", "altra")
        pg.login(agt)
        pg.wait("the agent's refusal", lambda: "agent tokens may not" in
                pg.by_id("login-error").text)
        check(not pg.visible("app"), "the fleet is shown to an agent token")
        pg.login(rdr)
        pg.wait("the hosts table", lambda: len(pg.d.find_elements(
            "css selector", "#hosts tbody tr")) == 4)
        check(not pg.visible("login"), "the log-in form stays after log-in")
        eq(pg.js("return sessionStorage.getItem('cpufleet.token')"), rdr,
           "the token in session storage")
        check(rdr not in pg.d.current_url, "the token is in the URL")
        eq(pg.js("return localStorage.length"), 0, "localStorage entries")
        # A reload keeps the session; log out forgets it.
        pg.d.refresh()
        pg.wait("the hosts after a reload", lambda: pg.visible("app"))
        pg.by_id("logout").click()
        pg.wait("the log-in form after log out", lambda: pg.visible("login"))
        eq(pg.js("return sessionStorage.getItem('cpufleet.token')"), None,
           "the token after log out")
        eq(pg.csp_violations(), [], "Content Security Policy violations")
    finally:
        pg.close()
    s.stop()


@case("fleet: hosts with arch, last report, labels and drift state; pools "
      "with their published versions; the drift event list; search over "
      "hosts and features")
def t_fleet(tmp):
    s, u, rdr, hosts, pg = fleet_page(tmp)
    try:
        events = api(u, rdr, "GET", "/v1/events")["events"]
        eq(len(events), 1, "drift events of the fleet")
        rows = {}
        for tr in pg.d.find_elements("css selector", "#hosts tbody tr"):
            cells = [td.text for td in tr.find_elements("css selector", "td")]
            rows[cells[0]] = cells
        for h in hosts:
            r = rows.get(h["id"])
            check(r, "host %s is not in the table" % h["id"])
            eq(r[1], h["arch"], "arch of %s" % h["id"])
            eq(r[2], h["last_seen"], "last report of %s" % h["id"])
        eq(rows["altra"][3], "rack=r7", "labels of altra")
        # tests/data/drift: the update clears HLE and RTM, and the pool's
        # published spr@1 is refused since.
        check("now refuses spr@1" in rows["spr-05"][4],
              "drift state of spr-05: %r" % rows["spr-05"][4])
        eq(rows["altra"][4], "none", "drift state of altra")
        pools = {tr.find_element("css selector", "td").text: tr.text
                 for tr in pg.d.find_elements("css selector",
                                              "#pools tbody tr")}
        eq(sorted(pools), ["real", "spr"], "pools listed")
        check("real@1" in pools["real"], "published versions of real: %r"
              % pools["real"])
        ev = pg.d.find_elements("css selector", "#events > li")
        eq(len(ev), 1, "drift events listed")
        for want in ("spr-05", "rtm", "hle", "lost", "now refused",
                     "host spr-05 lacks rtm"):
            check(want in ev[0].text, "the event lacks %r: %r" % (
                want, ev[0].text))
        # Search: a feature finds the event, a host id its row.
        pg.by_id("search").send_keys("rtm")
        pg.wait("the search", lambda: "1 of" in pg.by_id("hosts-count").text)
        check(ev[0].is_displayed(), "the event with rtm is hidden by 'rtm'")
        check(rows and pg.d.find_element(
            "css selector", "#hosts tr[data-host='spr-05']").is_displayed(),
            "spr-05 (drift: rtm) hidden by the search 'rtm'")
        pg.by_id("search").clear()
        pg.by_id("search").send_keys("graviton")
        pg.wait("the search 'graviton'", lambda: "(1 of %d match)" % len(
            hosts) in pg.by_id("hosts-count").text)
        check(not ev[0].is_displayed(), "the event shown for 'graviton'")
        pg.by_id("search").clear()
        pg.by_id("search").send_keys("x")
        pg.by_id("search").clear()
        pg.js("document.getElementById('search')"
              ".dispatchEvent(new Event('input'))")
        pg.shot("fleet")
        eq(pg.csp_violations(), [], "Content Security Policy violations")
    finally:
        pg.close()
    s.stop()


@case("feature search: typing a feature name shows how many hosts offer "
      "and lack it and only those hosts, each marked; clearing restores "
      "every host")
def t_feature_search(tmp):
    # The expectation from the dumps: FEAT_LSE is ID_AA64ISAR0_EL1.Atomic
    # (bits 23:20) >= 0b0010 (Arm ARM; arch/arm64/idregs.txt); the x86
    # host's catalogue has no FEAT_LSE, so it is not listed.
    lse = {h: it.reg_field(it.doc("%s/%s.json" % (RW_DIR, h)),
                           "ID_AA64ISAR0_EL1", 23, 20) >= 2 for h in REAL}
    eq(sorted(lse.items()), [("altra", True), ("cortex-a72", False),
                             ("graviton3", True)], "FEAT_LSE in the dumps")
    s, u, rdr, hosts, pg = fleet_page(tmp)

    def shown():
        return {tr.get_attribute("data-host"):
                tr.find_elements("css selector", "td")[-1].text
                for tr in pg.d.find_elements("css selector", "#hosts tbody tr")
                if tr.is_displayed()}
    try:
        check(not pg.visible("feature-line"), "a feature line before any "
              "search")
        pg.by_id("search").send_keys("FEAT_LSE")
        pg.wait("the feature line", lambda: pg.visible("feature-line"))
        eq(pg.by_id("feature-line").text, "FEAT_LSE: offered by %d hosts, "
           "lacked by %d" % (sum(lse.values()), len(lse) - sum(lse.values())),
           "the feature line of FEAT_LSE")
        eq(shown(), {h: ("offers " if v else "lacks ") + "FEAT_LSE"
                     for h, v in lse.items()}, "rows shown for FEAT_LSE")
        pg.shot("feature-search")
        # spr-05's latest report is the one with TSX off (RTM, CPUID leaf
        # 7 EBX bit 11, cleared): it lacks rtm, the arm64 hosts are not
        # listed.
        pg.by_id("search").clear()
        pg.by_id("search").send_keys("rtm")
        pg.wait("the feature line of rtm", lambda: pg.visible(
            "feature-line") and pg.by_id("feature-line").text.startswith(
            "rtm"))
        eq(pg.by_id("feature-line").text, "rtm: offered by 0 hosts, lacked "
           "by 1", "the feature line of rtm")
        eq(shown(), {"spr-05": "lacks rtm"}, "rows shown for rtm")
        # A word no catalogue names: no feature line, the text search.
        pg.by_id("search").clear()
        pg.by_id("search").send_keys("graviton")
        pg.wait("the search 'graviton'", lambda: "(1 of %d match)" % len(
            hosts) in pg.by_id("hosts-count").text)
        time.sleep(0.6)  # past the page's delay before asking the route
        check(not pg.visible("feature-line"), "a feature line for "
              "'graviton'")
        eq(list(shown()), ["graviton3"], "rows shown for 'graviton'")
        pg.by_id("search").clear()
        pg.js("document.getElementById('search')"
              ".dispatchEvent(new Event('input'))")
        pg.wait("every host again", lambda: len(shown()) == len(hosts))
        check(not pg.visible("feature-line"), "a feature line after "
              "clearing the search")
        eq(pg.csp_violations(), [], "Content Security Policy violations")
    finally:
        pg.close()
    s.stop()


@case("matrix: open a pool, its cells coloured as the API's matrix says, a "
      "click on a refused cell shows every reason as `cpufleet explain` "
      "words them, and the published profile's row")
def t_matrix(tmp):
    db, adm, rdr, s, u = small_fleet(tmp)
    m = api(u, rdr, "GET", "/v1/pools/real/matrix")
    pg = Page(u)
    try:
        pg.login(rdr)
        pg.wait("the pools", lambda: pg.d.find_elements(
            "css selector", "#pools tr[data-pool='real'] button"))
        pg.d.find_element("css selector",
                          "#pools tr[data-pool='real'] button").click()
        pg.wait("the matrix", lambda: pg.d.find_elements(
            "css selector", "#matrix-table button.cell"))
        cfg = {c["config"]: c["hosts"] for c in m["configs"]}
        refused = None
        for row in m["rows"]:
            for cell in row["cells"]:
                b = pg.d.find_element("css selector",
                                      "#matrix-table button[data-from='%s']"
                                      "[data-to='%s']" % (row["from"],
                                                          cell["to"]))
                cls = b.get_attribute("class").split()
                want = "ok" if cell["compatible"] else "bad"
                check(want in cls, "cell %s -> %s: class %r, want %s" % (
                    row["from"], cell["to"], cls, want))
                eq(b.text, "ok" if cell["compatible"] else
                   "NO (%d)" % cell["reasons"], "cell %s -> %s" % (
                       row["from"], cell["to"]))
                colour = b.value_of_css_property("background-color")
                if refused is None and not cell["compatible"]:
                    refused = (row["from"], cell["to"], b, colour)
                elif cell["compatible"]:
                    ok_colour = colour
        check(refused, "the pool real has no refused cell to click")
        check(refused[3] != ok_colour, "refused and compatible cells have "
              "one colour %s" % ok_colour)
        f, t, b, _ = refused
        src, dst = cfg[f][0], cfg[t][0]
        b.click()
        pg.wait("the reasons", lambda: len(pg.d.find_elements(
            "css selector", "#reasons-list li")) > 0)
        got = [li.text for li in pg.d.find_elements("css selector",
                                                    "#reasons-list li")]
        _, out, _ = it.cli("explain", "--json", "%s/%s.json" % (RW_DIR, src),
                           "%s/%s.json" % (RW_DIR, dst), check_rc=1)
        ex = [v for v in json.loads(out)["verdicts"] if v["from"] == src]
        want = [r["text"] for r in ex[0]["reasons"]]
        eq(got, want, "reasons of %s (%s) -> %s (%s)" % (f, src, t, dst))
        check(len(got) == [c for r in m["rows"] if r["from"] == f
                           for c in r["cells"] if c["to"] == t][0]["reasons"],
              "reasons listed and the cell's count differ")
        check(ex[0]["summary"] in pg.by_id("reasons-summary").text,
              "summary %r, want %r" % (pg.by_id("reasons-summary").text,
                                       ex[0]["summary"]))
        pg.shot("matrix")
        # The published profile's row: every configuration of the pool
        # accepts its baseline (the API says so).
        eq(m["baseline"]["profile"], "real", "published profile of real")
        for cell in m["baseline"]["cells"]:
            b = pg.d.find_element("css selector",
                                  "#matrix-table button[data-from='published']"
                                  "[data-to='%s']" % cell["to"])
            eq(b.text, "ok" if cell["compatible"] else
               "NO (%d)" % cell["reasons"], "published -> %s" % cell["to"])
        b.click()
        pg.wait("the published profile's verdict", lambda: pg.by_id(
            "reasons-summary").text == "compatible")
        # The README's picture (doc/web-matrix.png): the pool's part of
        # the page, on the refused cell with the fewest reasons but one.
        few = min(((c["reasons"], r["from"], c["to"]) for r in m["rows"]
                   for c in r["cells"] if c["reasons"] > 1))
        pg.d.find_element("css selector", "#matrix-table button[data-from="
                          "'%s'][data-to='%s']" % few[1:]).click()
        pg.wait("%d reasons" % few[0], lambda: len(pg.d.find_elements(
            "css selector", "#reasons-list li")) == few[0])
        pg.d.set_window_size(900, 900)
        pg.by_id("pool-view").screenshot(os.path.join(OUT, "pool-view.png"))
        eq(pg.csp_violations(), [], "Content Security Policy violations")
    finally:
        pg.close()
    s.stop()


@case("1,000 hosts: the pool's matrix renders in the browser in under 2 s")
def t_big(tmp):
    db, adm, rdr, s, u = it.started(tmp)
    srcs = sorted(
        ["tests/data/fleet/" + f for f in os.listdir(
            os.path.join(ROOT, "tests/data/fleet"))] +
        [RW_DIR + "/" + f for f in os.listdir(os.path.join(ROOT, RW_DIR))] +
        ["tests/data/lab/reports/" + f for f in os.listdir(
            os.path.join(ROOT, "tests/data/lab/reports"))])
    ids = ["h%04d" % i for i in range(BIG_HOSTS)]
    t0 = time.monotonic()

    def up(i):
        d = it.report(src=srcs[i % len(srcs)], report_id="big-%d" % i,
                      new_id=ids[i])
        return it.upload(u, adm, d).status

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        st = list(ex.map(up, range(BIG_HOSTS)))
    eq(sorted(set(st)), [201], "statuses of %d uploads" % BIG_HOSTS)
    t_up = time.monotonic() - t0
    it.want(it.request(u, "PUT", "/v1/pools/big", {"hosts": ids}, adm), 201,
            "pool big")
    m = api(u, rdr, "GET", "/v1/pools/big/matrix")
    eq(len(m["hosts"]), BIG_HOSTS, "hosts of the matrix")
    pg = Page(u)
    try:
        pg.login(rdr)
        pg.wait("the hosts table", lambda: pg.js(
            "return window.cpufleet.times.hosts !== undefined"))
        pg.d.find_element("css selector",
                          "#pools tr[data-pool='big'] button").click()
        pg.wait("the matrix", lambda: pg.js(
            "return window.cpufleet.times.matrix !== undefined"), 60)
        t = pg.js("return window.cpufleet.times")
        cells = pg.d.find_elements("css selector", "#matrix-table button.cell")
        eq(len(cells), len(m["configs"]) ** 2 + (len(m["configs"]) if
                                                 m["baseline"] else 0),
           "cells drawn")
        eq(t["matrixHosts"], BIG_HOSTS, "hosts in the drawn matrix")
        shown = pg.js("return Array.prototype.reduce.call("
                      "document.querySelectorAll('#matrix-table .hostlist'),"
                      "function (n, e) { return n + e.textContent.split(' ')"
                      ".length; }, 0)")
        eq(shown, BIG_HOSTS, "host ids listed in the matrix")
        pg.shot("matrix-1000")
        print("  %d uploads in %.1f s; %d hosts, %d configurations: matrix "
              "fetched in %.0f ms, rendered in %.0f ms; hosts table rendered "
              "in %.0f ms; page loaded in %.0f ms" % (
                  BIG_HOSTS, t_up, t["matrixHosts"], t["matrixConfigs"],
                  t["matrixFetch"], t["matrix"], t["hosts"], t["load"]),
              flush=True)
        check(t["matrix"] < BIG_LIMIT_MS, "the matrix of %d hosts rendered "
              "in %.0f ms, over %.0f ms" % (BIG_HOSTS, t["matrix"],
                                           BIG_LIMIT_MS))
        check(t["hosts"] < BIG_LIMIT_MS, "the %d hosts rendered in %.0f ms"
              % (BIG_HOSTS, t["hosts"]))
        eq(pg.csp_violations(), [], "Content Security Policy violations")
    finally:
        pg.close()
    s.stop()


@case("make run KEEP=1: the server stays up, and the URL and token file it "
      "prints open the page on the example fleet")
def t_make_run_keep(tmp):
    out_dir = os.path.join(tmp, "run")
    env = dict(os.environ, KEEP="1")
    p = subprocess.run(["sh", "tools/run.sh", it.BIN, out_dir], cwd=ROOT,
                       capture_output=True, timeout=300, env=env)
    text = p.stdout.decode("utf-8", "replace")
    eq(p.returncode, 0, "KEEP=1 tools/run.sh exit (stderr: %s)" % it.short(
        p.stderr.decode("utf-8", "replace")))
    m = re.search(r"keeps running at (http://127\.0\.0\.1:\d+) \(pid (\d+)",
                  text)
    check(m, "KEEP=1 does not say where the server runs: %s" % it.short(
        text[-600:], 600))
    u, pid = m.group(1), int(m.group(2))
    try:
        check("  %s/\n" % u in text, "the page's URL is not printed")
        tf = re.search(r"reader token written to (\S+)", text)
        check(tf and tf.group(1) == os.path.join(out_dir, "reader.token"),
              "where the reader token is: %r" % (tf and tf.group(1)))
        eq(os.stat(tf.group(1)).st_mode & 0o077, 0,
           "the token file's group and other permissions")
        with open(tf.group(1)) as f:
            rdr = f.read().strip()
        pg = Page(u)
        try:
            pg.login(rdr)
            pg.wait("the example fleet's pools", lambda: sorted(
                tr.get_attribute("data-pool") for tr in pg.d.find_elements(
                    "css selector", "#pools tbody tr")) ==
                ["example", "lab-v82", "real", "spr"])
            pg.wait("the drift event", lambda: "spr-05" in pg.by_id(
                "events").text)
        finally:
            pg.close()
    finally:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
            raise Fail("the kept server did not stop on SIGTERM")


def main(argv):
    global OUT
    if len(argv) < 2:
        print("usage: /usr/bin/python3 tests/web/run.py BINARY [OUTDIR "
              "[CASE...]]", file=sys.stderr)
        return 2
    it.BIN = os.path.abspath(argv[1])
    OUT = os.path.abspath(argv[2] if len(argv) > 2 else "build/web")
    os.chdir(ROOT)
    try:
        import selenium  # noqa: F401
    except ImportError:
        return skip("no selenium for %s (Debian: python3-selenium)" %
                    sys.executable)
    for p, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(p, os.X_OK):
            return skip("no %s (Debian: %s)" % (p, pkg))
    why = it.preflight()
    if why:
        print("tests/web/run.py: cannot run: " + why, file=sys.stderr)
        return 2
    try:
        b = browser()
        b.quit()
    except Exception as e:
        return skip("headless chromium does not start: %s" %
                    it.one_line(it.short(str(e), 200)))
    t0 = time.monotonic()
    passed, failed, skipped = it.run_cases(CASES, argv[3:], "cpufleet-web")
    print("web: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    print("tests/web/run.py: %.1f s; screenshots in %s" % (
        time.monotonic() - t0, OUT), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
