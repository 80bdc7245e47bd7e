"""The backward pass as a small self-contained web page: one Graphviz layout, one frame per backward step.

``animate(root)`` returns an ``Animation``: in Jupyter it shows itself inline
(``_repr_html_``); ``.save("backward.html")`` writes a page that works offline
(plain JavaScript, no network resource, no build step). The graph is laid out
once, by ``draw``'s own element builder, with each changing line at its widest
across the frames, so nodes do not move; each frame only recolours nodes and
edges and rewrites the grad lines. Under the picture each step is told in words
from ``explain``: which node fired, its upstream gradient, each local derivative
and what it added to each input's grad.
"""

from __future__ import annotations

import html
import json
import os
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .draw import DEFAULT_MAX_NODES, FIELDS, _check_options, _digraph, _elements, _safe, _scene, _step_state
from .explain import explain
from .graph import check_node
from .notation import _format_data, _format_number, _op_symbol

PAGE_STYLE = """
.cr-anim { font-family: Helvetica, Arial, sans-serif; font-size: 14px; outline: none; max-width: 100%; }
.cr-anim .cr-picture svg { max-width: 100%; height: auto; }
.cr-anim .cr-controls { margin: 6px 0; display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.cr-anim button { font-size: 14px; padding: 3px 10px; cursor: pointer; }
.cr-anim input[type=range] { flex: 1; min-width: 120px; max-width: 420px; }
.cr-anim .cr-where { font-weight: bold; min-width: 9em; }
.cr-anim .cr-words { border-left: 4px solid #ffd27f; padding: 2px 10px; }
.cr-anim .cr-words table { border-collapse: collapse; margin: 4px 0; }
.cr-anim .cr-words td, .cr-anim .cr-words th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
.cr-anim .cr-legend { color: #555; font-size: 12px; margin-top: 4px; }
"""

# Reads its frames from the JSON beside it and drives the SVG above it; nothing global, one per Animation.
PAGE_SCRIPT = r"""
(function () {
  var root = document.getElementById(%(id)s);
  var data = JSON.parse(root.querySelector("script.cr-data").textContent);
  var svg = root.querySelector(".cr-picture svg");
  var slider = root.querySelector("input.cr-slider");
  var where = root.querySelector(".cr-where");
  var words = root.querySelector(".cr-words");
  var play = root.querySelector("button[data-action=play]");
  root.querySelector(".cr-nojs").style.display = "none";
  var parts = {};
  data.keys.forEach(function (key, i) {
    var g = svg.querySelector('[id="' + data.prefix + key + '"]');
    if (!g) { throw new Error("animate: no SVG element for " + key); }
    var p = {g: g, edge: data.kinds[i] === "e"};
    p.shape = g.querySelector("path, polygon, ellipse");
    p.arrow = p.edge ? g.querySelector("polygon") : null;
    var wanted = data.layout[i];
    if (wanted !== null) {
      g.querySelectorAll("text").forEach(function (t) { if (t.textContent === wanted) { p.text = t; } });
      if (!p.text) { throw new Error("animate: no text '" + wanted + "' in " + key); }
      if (!p.edge) {  // grad lines change length: centre them in their box
        var box = p.shape.getBBox();
        p.text.setAttribute("text-anchor", "middle");
        p.text.setAttribute("x", box.x + box.width / 2);
      }
    }
    parts[key] = p;
  });
  var states = [];  // frame k in full: frame 0, then each frame's changes
  data.frames.forEach(function (changes, k) {
    var state = k ? Object.assign({}, states[k - 1]) : {};
    Object.keys(changes).forEach(function (key) { state[key] = changes[key]; });
    states.push(state);
  });
  var last = states.length - 1, current = 0, timer = null;
  function show(k) {
    current = Math.max(0, Math.min(last, k));
    var state = states[current];
    Object.keys(state).forEach(function (key) {
      var p = parts[key], s = state[key];  // node: [fill, width, text, colour]; edge: [colour, width, text]
      if (p.edge) {
        p.shape.setAttribute("stroke", s[0]);
        p.shape.setAttribute("stroke-width", s[1]);
        if (p.arrow) { p.arrow.setAttribute("stroke", s[0]); p.arrow.setAttribute("fill", s[0]); }
      } else {
        p.shape.setAttribute("fill", s[0]);
        p.shape.setAttribute("stroke-width", s[1]);
        if (p.text) { p.text.setAttribute("fill", s[3]); }
      }
      if (p.text) { p.text.textContent = s[2]; }
    });
    slider.value = current;
    where.textContent = "step " + current + " of " + last;
    words.innerHTML = data.words[current];
    root.setAttribute("data-step", current);
    if (current === last) { stop(); }
  }
  function stop() { if (timer !== null) { clearInterval(timer); timer = null; } play.textContent = "\u25b6 play"; }
  function toggle() {
    if (timer !== null) { stop(); return; }
    if (current === last) { show(0); }
    play.textContent = "|| pause";
    timer = setInterval(function () { show(current + 1); }, data.interval);
  }
  var actions = {first: function () { stop(); show(0); }, prev: function () { stop(); show(current - 1); },
                 next: function () { stop(); show(current + 1); }, last: function () { stop(); show(last); },
                 play: toggle};
  root.querySelectorAll("button[data-action]").forEach(function (b) {
    b.addEventListener("click", function () { actions[b.getAttribute("data-action")](); });
  });
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  function key(event) {
    if (event.target === slider) { return; }  // the slider moves itself with the arrow keys
    var action = {ArrowLeft: "prev", ArrowRight: "next", Home: "first", End: "last", " ": "play"}[event.key];
    if (action) { event.preventDefault(); actions[action](); }
  }
  root.addEventListener("keydown", key);
  if (data.standalone) {
    document.addEventListener("keydown", function (event) { if (!root.contains(event.target)) { key(event); } });
  }
  show(0);
})();
"""


class Animation:
    """The backward pass of a graph as a web page (see ``animate``): ``.save(path)``, inline in Jupyter."""

    def __init__(self, svg: str, data: dict, title: str, element_id: str):
        self._svg = svg
        self._data = data
        self.title = title
        self._id = element_id

    @property
    def n_frames(self) -> int:
        """Frames: the seed, then one per backward step."""
        return len(self._data["frames"])

    def _fragment(self, standalone: bool) -> str:
        data = dict(self._data, standalone=standalone)
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
        buttons = "".join(f'<button type="button" data-action="{a}" title="{t}">{s}</button>'
                          for a, s, t in (("first", "|◀ first", "first step (Home)"),
                                          ("prev", "◀ previous", "previous step (←)"),
                                          ("play", "▶ play", "play / pause (space)"),
                                          ("next", "next ▶", "next step (→)"),
                                          ("last", "last ▶|", "last step (End)")))
        last = self.n_frames - 1
        return (f'<div class="cr-anim" id="{self._id}" tabindex="0"><style>{PAGE_STYLE}</style>'
                f'<div class="cr-picture">{self._svg}</div>'
                f'<div class="cr-controls">{buttons}'
                f'<input class="cr-slider" type="range" min="0" max="{last}" value="{last}" '
                f'aria-label="backward step">'
                f'<span class="cr-where">step {last} of {last}</span></div>'
                f'<div class="cr-nojs">(The buttons need JavaScript; in Jupyter, trust the notebook. '
                f'The picture shows the end of backward.)</div>'
                f'<div class="cr-words">{data["words"][-1]}</div>'
                f'<div class="cr-legend">{data["legend"]}</div>'
                f'<script type="application/json" class="cr-data">{payload}</script>'
                f'<script>{PAGE_SCRIPT % {"id": json.dumps(self._id)}}</script></div>')

    def to_html(self) -> str:
        """The whole page: the graph, the player and the steps in words, with nothing to fetch."""
        return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<title>{html.escape(self.title)}</title></head><body>\n'
                f'{self._fragment(standalone=True)}\n</body></html>\n')

    def _repr_html_(self) -> str:
        return self._fragment(standalone=False)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path`` (UTF-8) and return it as a ``Path``."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"Animation.save: path must be a str or os.PathLike, got {type(path).__name__}: "
                            f"{path!r:.40}")
        if not os.fspath(path):
            raise ValueError("Animation.save: path must name a file, got an empty path ''; expected e.g. "
                             "'backward.html'")
        path = Path(path)
        path.write_text(self.to_html(), encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return f"<Animation {self.title!r}: {self.n_frames} frames>"


def _numbers(x: Any, digits: int) -> str:
    """A scalar as a number; an array as its shape and its first few entries."""
    if isinstance(x, np.ndarray) and x.ndim > 0 and x.size > 4:
        head = ", ".join(_format_number(v, digits) for v in x.ravel()[:3])
        return f"shape {'×'.join(map(str, x.shape))}: [{head}, …]"
    return _format_data(x, digits)


def _step_words(ex: Any, k: int, digits: int) -> str:
    """Step ``k`` of the explanation in words, as HTML."""
    def name(node: Any) -> str:
        return f"<b>{html.escape(_safe(ex.names[node]))}</b>"

    n = len(ex.steps)
    root = name(ex.root)
    if k == 0:
        text = (f"<p><b>Step 0 of {n}: the seed.</b> Backward starts at {root} with ∂{root}/∂{root} = "
                f"{html.escape(_numbers(ex.seed, digits))}. Every other grad is still empty. "
                f"Press next (→) to run the first step.</p>")
    else:
        s = ex.steps[k - 1]
        rows = []
        for i, child in enumerate(s.inputs):
            local = "–" if s.local_derivatives is None else _numbers(s.local_derivatives[i], digits)
            added = "nothing (needs no grad)" if s.contributions[i] is None else _numbers(s.contributions[i], digits)
            rows.append(f"<tr><td>{name(child)}</td><td>{html.escape(local)}</td><td>{html.escape(added)}</td>"
                        f"<td>{html.escape(_numbers(s.accumulated[i], digits))}</td></tr>")
        several = len(s.inputs) > 1
        text = (f"<p><b>Step {k} of {n}: {html.escape(_safe(ex.names[s.node]))} fires</b> (operation "
                f"{html.escape(_safe(_op_symbol(s.node)))}). Its upstream gradient ∂{root}/∂{name(s.node)} = "
                f"{html.escape(_numbers(s.upstream, digits))} is complete, so it passes upstream × local "
                f"derivative to its input{'s' if several else ''}:</p>"
                f"<table><tr><th>input</th><th>local derivative ∂{name(s.node)}/∂input</th>"
                f"<th>adds (upstream × local)</th><th>input's grad now</th></tr>{''.join(rows)}</table>")
    if k == n:
        text += "<p>Backward is done: every grad is filled in.</p>"
    return text


def _node_state(element: Any) -> list:
    label = element.label
    return [element.attrs.get("fillcolor", "white"), element.attrs.get("penwidth", "1"),
            label.dynamic, label.colour or None]


def _edge_state(element: Any) -> list:
    return [element.attrs.get("color", "black"), element.attrs.get("penwidth", "1"), element.label.dynamic]


def animate(root: Any, edge_labels: bool = True, rankdir: str = "TB", show: Iterable[str] = FIELDS,
            collapse: str | None = None, max_nodes: int | None = DEFAULT_MAX_NODES, digits: int = 4,
            title: str | None = None, interval: float = 1.0) -> Animation:
    """The backward pass of ``root`` as a web page: one frame per step, a player, and each step in words.

    Options are ``draw``'s; ``interval`` is the seconds between frames when
    playing. The pass is computed on the side by ``explain`` (the graph's grads
    are not read or changed). Above ``max_nodes`` drawn nodes it refuses as
    ``draw`` does, suggesting ``collapse=``. Needs Graphviz's ``dot`` for the
    layout (``GraphvizNotFoundError`` otherwise).
    """
    check_node(root, "animate")
    show = _check_options(rankdir, show, "svg", collapse, max_nodes, None, digits, title, what="animate")
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 0.05 <= interval <= 60:
        raise ValueError(f"animate: interval must be a number of seconds from 0.05 to 60, got {interval!r:.40}")
    scene = _scene(root, collapse, max_nodes, "animate")
    ex = explain(root)  # once: every frame reads this one explanation
    per_frame = [_elements(scene, _step_state(ex, k), show, digits, edge_labels, pending=True)
                 for k in range(len(ex.steps) + 1)]
    final_nodes, final_edges = per_frame[-1]
    elements = final_nodes + final_edges
    kinds = ["n"] * len(final_nodes) + ["e"] * len(final_edges)

    # The layout holds each changing line at its widest across the frames, padded from the final text
    # with no-break spaces (two per missing character: a space is narrower than a digit), so a page
    # without JavaScript still shows the end of backward.
    layout: dict = {}
    per_frame_elements = [frame[0] + frame[1] for frame in per_frame]  # once: per element it made this cubic
    for i, element in enumerate(elements):
        texts = [frame_elements[i].label.dynamic for frame_elements in per_frame_elements]
        if texts[-1] is None:
            continue
        widest = max(len(t) for t in texts if t is not None)
        layout[element.key] = texts[-1] + "\u00a0" * (2 * (widest - len(texts[-1])))

    element_id = "cr" + uuid.uuid4().hex[:12]
    prefix = element_id + "-"
    name = _safe(ex.names[root])
    page_title = title if title is not None else f"backward of {name}, step by step"
    drawing = _digraph(final_nodes, final_edges, rankdir, "svg", title or "", [], layout, id_prefix=prefix)
    svg = drawing.pipe(format="svg", encoding="utf-8")
    svg = svg[svg.index("<svg"):]  # inline: no XML prolog or DOCTYPE

    frames = []
    previous: dict = {}
    for nodes, edges in per_frame:
        state = {e.key: _node_state(e) for e in nodes}
        state.update({e.key: _edge_state(e) for e in edges})
        frames.append({key: value for key, value in state.items() if previous.get(key) != value})
        previous = state
    data = {
        "prefix": prefix,
        "keys": [e.key for e in elements],
        "kinds": kinds,
        "layout": [layout.get(e.key) for e in elements],
        "frames": frames,
        "words": [_step_words(ex, k, digits) for k in range(len(ex.steps) + 1)],
        "interval": round(interval * 1000),
        "legend": ("orange: the node firing at this step · green: done · grey grad: not reached yet"
                   + (" · on each edge, local = ∂out/∂in and adds = grad(out) × local, added to grad(in)"
                      if edge_labels else "") + " · keys: ← → Home End, space plays"),
    }
    return Animation(svg, data, page_title, element_id)
