"""animate(): the backward pass as a self-contained web page, checked as a page and in a real browser.

Numbers expected on the page come from the report's chain-rule formulas in floats
(tests/test_explain.py's ``chain_rule``), not from the engine. The browser tests drive
headless Chromium through the Chrome DevTools Protocol over a pipe (stdlib only) and
skip when ``chromium`` or Graphviz's ``dot`` is missing.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from test_explain import PARAMS, Y, chain_rule

import autograd
from autograd import Tensor, Value
from autograd.animate import Animation
from autograd.worked_example import two_two_one

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
CHROMIUM = shutil.which("chromium")
needs_browser = pytest.mark.skipif(CHROMIUM is None or shutil.which("dot") is None,
                                   reason="needs Debian's chromium package and Graphviz's dot")
SCREENSHOT = "/tmp/animate_last.png"


def page_of(root, **options):
    return autograd.animate(root, **options).to_html()


def frame_data(page):
    return json.loads(re.search(r'<script type="application/json" class="cr-data">(.*?)</script>', page,
                                flags=re.S).group(1))


# -- the page as text ------------------------------------------------------------------------------------------

@needs_dot
def test_the_2_2_1_page_is_small_self_contained_and_has_one_layout():
    ex = two_two_one()
    page = page_of(ex.loss)
    assert len(page.encode()) < 300_000
    assert page.count("<svg") == 1  # one layout; frames only recolour and retext it
    # nothing to fetch: the only URLs are the SVG namespaces
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= {"http://www.w3.org/2000/svg",
                                                                 "http://www.w3.org/1999/xlink"}
    assert not re.search(r"<link|<img|<iframe|@import|\bsrc=", page)
    for action in ("first", "prev", "play", "next", "last"):
        assert f'data-action="{action}"' in page
    assert 'type="range"' in page and "ArrowRight" in page
    assert len(frame_data(page)["frames"]) == 10  # the seed and nine steps


@needs_dot
def test_steps_in_words_carry_the_chain_rule_numbers():
    r = chain_rule()
    words = frame_data(page_of(two_two_one().loss))["words"]
    assert "Step 0 of 9: the seed" in words[0] and "∂<b>C</b>/∂<b>C</b> = 1.0000" in words[0]
    # step 2: (ŷ-y)^2 fires with upstream ∂C/∂(ŷ-y)² = 0.5; local 2(ŷ-y); it adds 0.5·2(ŷ-y) to ŷ-y
    two = words[2]
    assert "Step 2 of 9: (ŷ-y)^2 fires" in two and "∂<b>C</b>/∂<b>(ŷ-y)^2</b> = 0.5000" in two
    assert (f"<td><b>ŷ-y</b></td><td>{2 * (r['yhat'] - Y):.4f}</td><td>{r['yhat'] - Y:.4f}</td>"
            f"<td>{r['yhat'] - Y:.4f}</td>") in two
    # step 4: a0[2] = σ(z0[2]) passes δ[2] = (ŷ-y) σ'(z) to z0[2]
    four = words[4]
    assert "a0[2] fires" in four and f"<td>{r['yhat'] * (1 - r['yhat']):.4f}</td><td>{r['d2']:.4f}</td>" in four
    assert "Backward is done" in words[-1] and "Backward is done" not in words[-2]
    last = words[-1]  # z0[1]'s dot: x0 receives δ0·w00, its second share; x0's grad is now complete
    assert f"<td><b>x0</b></td><td>{PARAMS['w00[1]']:.4f}</td><td>{r['d0'] * PARAMS['w00[1]']:.4f}</td>" \
           f"<td>{r['x_grads'][0]:.4f}</td>" in last


@needs_dot
def test_frames_change_only_colours_and_grad_lines():
    r = chain_rule()
    ex = two_two_one()
    data = frame_data(page_of(ex.loss))
    keys = data["keys"]
    order = autograd.topological_order(ex.loss)
    z0 = keys.index(f"n{next(i for i, n in enumerate(order) if n.label == 'z0[1]')}")
    assert data["frames"][0][keys[z0]][2] == "grad –"
    full = {}
    for changes in data["frames"]:
        full.update(changes)
    assert full[keys[z0]][2] == f"grad {r['d0']:.4f}"
    assert not any(v[2] == "grad –" or v[2] == "adds –" for v in full.values() if v[2])
    # the layout holds the widest text: the final text padded with no-break spaces
    for key, layout in zip(keys, data["layout"]):
        if layout is not None:
            assert layout.rstrip("\u00a0") == full[key][2]


@needs_dot
def test_animate_leaves_grads_alone_and_computes_the_explanation_once(monkeypatch):
    animate_module = sys.modules["autograd.animate"]  # autograd.animate is the function

    ex = two_two_one()
    calls = []
    original = animate_module.explain
    monkeypatch.setattr(animate_module, "explain", lambda root: calls.append(root) or original(root))
    animation = autograd.animate(ex.loss)
    assert len(calls) == 1 and isinstance(animation, Animation) and animation.n_frames == 10
    assert all(n.grad == 0.0 for n in autograd.topological_order(ex.loss))


@needs_dot
def test_repr_html_is_a_fragment_and_save_writes_the_page(tmp_path):
    ex = two_two_one()
    animation = autograd.animate(ex.loss)
    fragment = animation._repr_html_()
    assert fragment.startswith('<div class="cr-anim"') and "<html" not in fragment
    path = animation.save(tmp_path / "backward.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int"):
        animation.save(3)
    with pytest.raises(ValueError, match="empty path"):
        animation.save("")
    # two animations in one notebook do not share element ids
    assert autograd.animate(ex.loss)._id != animation._id


@needs_dot
def test_tensor_graph_shows_shapes_and_a_few_entries():
    W = Tensor(np.arange(24.0).reshape(8, 3) / 10, "W", requires_grad=True)
    x = Tensor(np.ones(3), "x")
    loss = (W @ x).sigmoid().sum()
    loss.label = "L"
    data = frame_data(page_of(loss))
    assert len(data["frames"]) == 4
    last = data["words"][-1]  # the matmul passes upstream (8 entries) times x to W: an 8×3 grad
    s = 1 / (1 + np.exp(-(np.arange(24.0).reshape(8, 3) / 10).sum(axis=1)))
    first = s[0] * (1 - s[0])  # ∂L/∂W[0, k] = σ'(z0) x_k
    assert f"shape 8×3: [{first:.4f}, {first:.4f}, {first:.4f}, …]" in last
    assert W.grad is None  # computed on the side
    full = {}
    for changes in data["frames"]:
        full.update(changes)
    assert "grad shape 8×3" in [v[2] for v in full.values()]


def test_refuses_a_large_graph_as_draw_does():
    x = Value(0.5, "x")
    y = x
    for _ in range(100):
        y = y * 1.01
    with pytest.raises(ValueError) as from_draw:
        autograd.draw(y)
    with pytest.raises(ValueError) as from_animate:
        autograd.animate(y)
    assert str(from_animate.value) == str(from_draw.value).replace("draw:", "animate:", 1)
    assert "collapse=" in str(from_animate.value)


@pytest.mark.parametrize("kwargs, match", [
    ({"interval": 0}, "interval"), ({"interval": "1"}, "interval"), ({"rankdir": "up"}, "animate: rankdir"),
    ({"digits": 99}, "animate: digits"), ({"title": 5}, "animate: title must be a str or None, got int"),
])
def test_bad_options_name_the_argument(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        autograd.animate(Value(1.0) * 2, **kwargs)


def test_animate_rejects_a_non_node():
    with pytest.raises(TypeError, match="animate expects a graph node .* got str"):
        autograd.animate("loss")


@needs_dot
def test_notebook_03_plays_backward_with_animate_and_stays_under_a_megabyte(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = Path(__file__).parent.parent / "notebooks" / "03_see_the_chain_rule.ipynb"
    notebook = nbformat.read(path, as_version=4)
    assert "autograd.animate(loss)" in "".join(c.source for c in notebook.cells)
    assert "matplotlib" not in "".join(c.source for c in notebook.cells)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    out = tmp_path / "executed.ipynb"
    nbformat.write(notebook, out)
    assert out.stat().st_size < 1_000_000, out.stat().st_size  # it was 5.4 MB with the matplotlib player
    html_outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
                    if "text/html" in o.get("data", {})]
    assert len(html_outputs) == 1 and 'class="cr-anim"' in html_outputs[0]["data"]["text/html"]


# -- frames(): the explanation once, time linear in the frames drawn ----------------------------------------------

def chain(n):
    y = Value(0.5, "x")
    for _ in range(n):
        y = y * 1.001
    return y


def test_frames_computes_the_explanation_once(monkeypatch):
    draw_module = sys.modules["autograd.draw"]  # autograd.draw is the function

    calls = []
    original = draw_module.explain
    monkeypatch.setattr(draw_module, "explain", lambda root: calls.append(root) or original(root))
    fs = autograd.frames(chain(20), max_nodes=None)
    assert len(fs) == 21 and len(calls) == 1


def test_frames_of_a_200_op_chain_take_linear_time_per_frame():
    def per_node_frame(n):
        root = chain(n)
        start = time.perf_counter()
        fs = autograd.frames(root, max_nodes=None)
        elapsed = time.perf_counter() - start
        assert len(fs) == n + 1
        return elapsed / (len(fs) * (2 * n + 1))  # seconds per frame per drawn value

    small = min(per_node_frame(50) for _ in range(2))  # the quieter of two short runs
    large = per_node_frame(200)
    # each frame draws the whole graph, so the total grows as steps × nodes; recomputing the explanation
    # per frame would add another factor of n (4x more per frame-node at 200 than at 50)
    assert large < 3 * small + 2e-6, (small, large)
    assert large * 401 < 0.5  # seconds per frame of the 200-op chain, even on a loaded 2-core machine


# -- in a real browser --------------------------------------------------------------------------------------------

class Browser:
    """Headless Chromium driven over --remote-debugging-pipe: send a command, wait for its answer."""

    def __init__(self, profile):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds():  # Chromium reads commands on fd 3 and writes answers on fd 4
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-pipe",
                 "--window-size=1100,1400", "about:blank"]
        self.process = subprocess.Popen([CHROMIUM, *flags], pass_fds=(3, 4), preexec_fn=child_fds,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []
        self.session = None
        target = next(t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.send("Target.attachToTarget", targetId=target["targetId"], flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=1100, height=1400, deviceScaleFactor=1, mobile=False)

    def _read(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its debugging pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, timeout=30, **params):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]
            self.events.append(answer)

    def wait_for(self, event, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == event:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def open(self, url):
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def js(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector):
        box = self.js(f"(function(){{var r=document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
                      f"return [r.x + r.width / 2, r.y + r.height / 2];}})()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def press(self, key, code):
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code)

    def errors(self):
        found = []
        for e in self.events:
            p = e.get("params", {})
            if e.get("method") == "Runtime.exceptionThrown":
                found.append(p["exceptionDetails"])
            elif e.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                found.append(p["args"])
            elif e.get("method") == "Log.entryAdded" and p["entry"]["level"] == "error":
                found.append(p["entry"])
        return found

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


STATE = """(function () {
  var root = document.querySelector(".cr-anim"), out = {highlighted: [], grads: {}};
  root.querySelectorAll("g.node").forEach(function (g) {
    var shape = g.querySelector("path, polygon, ellipse");
    var key = g.id.slice(g.id.indexOf("-") + 1);
    if (shape.getAttribute("fill") === "#ffd27f") { out.highlighted.push(key); }
    g.querySelectorAll("text").forEach(function (t) {
      if (t.textContent.indexOf("grad") === 0) { out.grads[key] = t.textContent; }
    });
  });
  out.step = root.getAttribute("data-step");
  out.where = root.querySelector(".cr-where").textContent;
  out.words = root.querySelector(".cr-words").innerText;
  out.slider = root.querySelector("input.cr-slider").value;
  out.play = root.querySelector("button[data-action=play]").textContent;
  out.nojs = getComputedStyle(root.querySelector(".cr-nojs")).display;
  return out;
})()"""


@needs_browser
def test_the_page_in_chromium_steps_plays_and_ends_with_every_grad(browser, tmp_path):
    ex = two_two_one()
    order = autograd.topological_order(ex.loss)
    r = chain_rule()
    path = autograd.animate(ex.loss, interval=0.1).save(tmp_path / "backward.html")
    browser.open(path.as_uri())
    state = browser.js(STATE)
    assert browser.errors() == []
    assert state["step"] == "0" and state["where"] == "step 0 of 9" and state["nojs"] == "none"
    assert state["grads"][f"n{order.index(ex.loss)}"] == "grad 1.0000"
    # all but the seed and the constant ½ of C = ½ (ŷ-y)², which takes no gradient and has no grad line
    assert sum(text == "grad –" for text in state["grads"].values()) == 20

    browser.click("button[data-action=next]")
    browser.click("button[data-action=next]")
    state = browser.js(STATE)
    square = ex.loss.inputs[1]  # C = 0.5 · (ŷ-y)²: the square fires at step 2
    assert square.op.symbol == "^" or square.op.name == "pow"
    i = order.index(square)
    assert state["step"] == "2" and state["where"] == "step 2 of 9" and state["slider"] == "2"
    assert sorted(state["highlighted"]) == sorted([f"n{i}", f"n{i}op"])
    assert "Step 2 of 9: (ŷ-y)^2 fires" in state["words"]
    assert f"{2 * (r['yhat'] - Y):.4f}" in state["words"]
    error = order.index(square.inputs[0])
    assert state["grads"][f"n{error}"] == f"grad {r['yhat'] - Y:.4f}"   # ŷ-y has its grad now
    assert state["grads"][f"n{order.index(square.inputs[0].inputs[0])}"] == "grad –"  # a0[2] not yet

    browser.click("button[data-action=last]")
    state = browser.js(STATE)
    assert state["step"] == "9" and "Backward is done" in state["words"]
    assert not any(text.startswith("grad –") for text in state["grads"].values())
    assert len(state["grads"]) == 21  # 22 nodes, the constant ½ without a grad
    by_label = {n.label: f"n{order.index(n)}" for n in order if n.label}
    for name, grad in r["grads"].items():
        assert state["grads"][by_label[name]] == f"grad {grad:.4f}", name
    c1, c0 = r["d1"] * PARAMS["w10[1]"], r["d0"] * PARAMS["w00[1]"]
    assert state["grads"][by_label["x0"]] == f"grad {r['x_grads'][0]:.4f} = {c1:.4f} − {abs(c0):.4f}"
    z0 = by_label["z0[1]"]  # the last node to fire: z0[1], whose dot passes δ0 to its weights and inputs
    assert sorted(state["highlighted"]) == [z0, z0 + "op"]
    shot = browser.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    with open(SCREENSHOT, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print(f"screenshot of the last frame: {SCREENSHOT}")

    # keys and slider
    browser.js('document.querySelector(".cr-anim").focus()')
    browser.press("ArrowLeft", 37)
    assert browser.js(STATE)["step"] == "8"
    browser.press("Home", 36)
    assert browser.js(STATE)["step"] == "0"
    browser.press("ArrowRight", 39)
    assert browser.js(STATE)["step"] == "1"
    browser.js('var s = document.querySelector("input.cr-slider"); s.value = 5; '
               's.dispatchEvent(new Event("input"))')
    assert browser.js(STATE)["step"] == "5"
    # play runs to the end (0.1 s a frame) and stops there
    browser.click("button[data-action=play]")
    assert "pause" in browser.js(STATE)["play"]
    deadline = time.monotonic() + 10
    while browser.js(STATE)["step"] != "9" and time.monotonic() < deadline:
        time.sleep(0.1)
    state = browser.js(STATE)
    assert state["step"] == "9" and "play" in state["play"]
    assert browser.errors() == []


@needs_browser
def test_a_tensor_page_runs_in_chromium(browser, tmp_path):
    W = Tensor(np.full((8, 3), 0.1), "W", requires_grad=True)
    loss = (W @ Tensor(np.ones(3), "x")).sigmoid().sum()
    path = autograd.animate(loss).save(tmp_path / "tensor.html")
    browser.open(path.as_uri())
    browser.click("button[data-action=last]")
    state = browser.js(STATE)
    assert browser.errors() == []
    assert state["step"] == "3" and "shape 8×3: [" in state["words"]
    assert "grad shape 8×3" in state["grads"].values()
