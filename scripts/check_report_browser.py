#!/usr/bin/env python3
"""Load an HTML report in headless Chromium and check it as a person would see it.

Python standard library only: Chromium is driven through the DevTools protocol over a tiny
websocket client (RFC 6455, text frames, client-side masking). Checks:

- every <img> has finished loading and decodes (img.decode() resolves, naturalWidth > 0);
- no console error, uncaught exception or error log entry (failed loads included);
- a screenshot of the whole page (and optionally a README crop from an element id) is saved.

    check_report_browser.py REPORT.html --screenshot OUT.png [--crop ID --crop-out OUT.png]
    check_report_browser.py REPORT.html --self-test     # proves the checks fail on a broken page

Exit status 0 when every check passes, 1 otherwise (each failure printed on its own line).
"""
import argparse
import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request


class WebSocket:
    def __init__(self, url):
        m = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        self.sock = socket.create_connection((host, port), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("websocket handshake: connection closed")
            response += chunk
        if b" 101 " not in response.split(b"\r\n", 1)[0]:
            raise RuntimeError("websocket handshake failed: " + response.split(b"\r\n", 1)[0].decode())
        self.buffer = response.split(b"\r\n\r\n", 1)[1]

    def send(self, text):
        payload = text.encode()
        header = bytes([0x81])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("websocket closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def receive(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            if b1 & 0x80:
                self._read(4)  # servers do not mask, but tolerate it
            data = self._read(n)
            opcode = b0 & 0x0F
            if opcode == 8:
                raise RuntimeError("websocket closed by the browser")
            if opcode in (9, 10):
                continue
            message += data
            if b0 & 0x80:
                return message.decode()


class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="report-chromium-")
        self.process = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--hide-scrollbars", f"--user-data-dir={self.profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 60
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("Chromium did not start (no DevToolsActivePort)")
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        deadline = time.time() + 30
        while True:
            try:
                pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5))
                page = next(p for p in pages if p.get("type") == "page")
                break
            except (OSError, StopIteration):
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.receive())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, event, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(e["method"] == event for e in self.events):
                return
            self.ws.sock.settimeout(max(0.1, deadline - time.time()))
            self.events.append(json.loads(self.ws.receive()))
        raise RuntimeError(f"timed out waiting for {event}")

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


IMAGES_JS = """
Promise.all([...document.images].map((img, i) =>
  img.decode().then(() => ({i, alt: img.alt, ok: img.complete && img.naturalWidth > 0, w: img.naturalWidth, h: img.naturalHeight}),
                    e => ({i, alt: img.alt, ok: false, w: img.naturalWidth, h: img.naturalHeight, error: String(e)}))))
"""


def check(browser, report, screenshot=None, crop=None, crop_out=None):
    """Problems found on the page (empty when it is fine)."""
    browser.events.clear()
    for domain in ("Page", "Runtime", "Log"):
        browser.call(f"{domain}.enable")
    browser.call("Emulation.setDeviceMetricsOverride", width=1200, height=900, deviceScaleFactor=1, mobile=False)
    browser.call("Page.navigate", url="file://" + os.path.abspath(report))
    browser.wait_for("Page.loadEventFired")
    result = browser.call("Runtime.evaluate", expression=IMAGES_JS, awaitPromise=True, returnByValue=True)
    images = result["result"].get("value") or []
    problems = []
    if not images:
        problems.append("the page has no <img>")
    for im in images:
        if not im["ok"]:
            problems.append(f"image {im['i']} ({im['alt'][:60]!r}) did not load or decode: {im.get('error', 'naturalWidth 0')}")
    time.sleep(0.3)  # let late console messages arrive
    browser.call("Runtime.evaluate", expression="1")
    for e in browser.events:
        p = e.get("params", {})
        if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            problems.append("console error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
        elif e["method"] == "Runtime.exceptionThrown":
            problems.append("uncaught exception: " + p.get("exceptionDetails", {}).get("text", ""))
        elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            problems.append("error log entry: " + p["entry"].get("text", "") + " " + p["entry"].get("url", "")[:80])
    if screenshot:
        height = browser.call("Runtime.evaluate", expression="document.documentElement.scrollHeight", returnByValue=True)["result"]["value"]
        shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                            clip={"x": 0, "y": 0, "width": 1200, "height": min(height, 16000), "scale": 1})
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    if crop and crop_out:
        top = browser.call("Runtime.evaluate", returnByValue=True,
                           expression=f"document.getElementById({json.dumps(crop)}).getBoundingClientRect().top + window.scrollY")["result"]["value"]
        shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                            clip={"x": 0, "y": max(0, top - 10), "width": 1200, "height": 760, "scale": 0.75})
        with open(crop_out, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    return problems, len(images)


def self_test(browser, report):
    """The checks must fail on a page with one corrupted image and on one with a console error."""
    html = open(report, encoding="utf-8").read()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        broken = re.sub(r'src="data:image/png;base64,([A-Za-z0-9+/]{40})[^"]*"', r'src="data:image/png;base64,\1AAAA"', html, count=1)
        noisy = html.replace("</body>", "<script>console.error('deliberate error')</script></body>")
        for name, text, expect in (("broken-image", broken, "did not load or decode"), ("console-error", noisy, "console error")):
            if text == html:
                failures.append(f"self-test {name}: could not alter the page")
                continue
            path = os.path.join(tmp, name + ".html")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            problems, _ = check(browser, path)
            if any(expect in p for p in problems):
                print(f"ok   self-test: the {name} page fails the check ({[p for p in problems if expect in p][0][:100]})")
            else:
                failures.append(f"self-test {name}: the check did not fail ({problems})")
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    ap.add_argument("--screenshot")
    ap.add_argument("--crop", help="element id where the README crop starts")
    ap.add_argument("--crop-out")
    ap.add_argument("--self-test", action="store_true", help="also prove the checks fail on a broken copy of the page")
    args = ap.parse_args()
    browser = Browser(args.chromium)
    try:
        problems, count = check(browser, args.report, args.screenshot, args.crop, args.crop_out)
        for p in problems:
            print("FAIL " + p)
        if not problems:
            print(f"ok   {count} images loaded and decoded, no console errors: {args.report}")
        if args.self_test:
            failures = self_test(browser, args.report)
            for f in failures:
                print("FAIL " + f)
            problems += failures
    finally:
        browser.close()
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
