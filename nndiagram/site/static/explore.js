/* nndiagram: figure and equations as one (plain JS; the page works without it). Links are
 * classes (nnd-w-1-0-2: w^[1] row 0 column 2): hover or focus marks both sides; steps walk the
 * forward pass, then back through dz, dW, db where the block shows them (nnd-dz-1). */
(function () {
  "use strict";
  if (window.nndiagramExplore) return window.nndiagramExplore.scan();
  var LINK = /^nnd-([a-z]+)-(\d+(?:-\d+)*)$/;
  var VECTOR = { wv: "w", bv: "b", zv: "z", av: "a" };
  var PHASE = { z: "dz", a: "dz", g: "dz", w: "dw", b: "db", bias: "db" }; /* backward step */
  var BACK = ["dz", "dw", "db"];
  var tips = 0, current = null;
  var all = function (root, css) {
    return [].slice.call(root.querySelectorAll(css));
  };

  function parse(key) {
    var m = LINK.exec("nnd-" + key);
    return m ? { kind: m[1], n: m[2].split("-").map(Number) } : null;
  }

  function keyOf(el) {
    for (var i = 0, list = el.classList; i < list.length; i++) {
      var m = LINK.exec(list[i]);
      if (m && m[1] !== "link") return m[1] + "-" + m[2];
    }
    return null;
  }

  function back(kind) {
    return kind.charAt(0) === "d";
  }

  /* 0: the inputs, l + 1: layer l */
  function stepOf(p) {
    return p.kind === "x" ? 0 : p.n[0] + 1;
  }

  /* in backward step ph of layer l? (da^[l] goes with dz^[l]) */
  function inPhase(p, ph, l, math) {
    return (math ? p.kind.replace("da", "dz") : PHASE[p.kind]) === ph && p.n[0] === l;
  }

  /* does figure link f mark typeset link m (and m mark f)? */
  function related(f, m) {
    var a = f.n, b = m.n, same = a[0] === b[0];
    if (f.kind === m.kind && a.join() === b.join()) return true;
    if (back(m.kind)) return inPhase(m, PHASE[f.kind], a[0], true);
    if (m.kind === "g") return f.kind === "g" && same;
    if (f.kind === "z") return (m.kind === "w" || m.kind === "b") && same && a[1] === b[1]; /* its row, its bias */
    if (f.kind === "x") return m.kind === "w" && b[0] === 0 && b[2] === a[0]; /* its column of w^[0] */
    if (f.kind === "bias") return m.kind === "b" && same && (a.length === 1 || a[1] === b[1]);
    return f.kind === "g" && (m.kind === "a" || m.kind === "z") && same && a[1] === b[1];
  }

  /* does typeset link m mark figure link p? */
  function gathers(m, p) {
    var kind = VECTOR[m.kind];
    if (back(m.kind)) return related(p, m);
    if (kind) return (p.kind === kind || (kind === "b" && p.kind === "bias")) && p.n[0] === m.n[0];
    if (m.kind === "g") return p.kind === "g" && p.n[0] === m.n[0];
    return p.kind === m.kind && p.n.join() === m.n.join();
  }

  function Block(root) {
    var data = root.querySelector(".nnd-links[data-links]"), self = this;
    data = data ? JSON.parse(data.getAttribute("data-links")) : {};
    this.root = root;
    this.tips = data.tips || {};
    this.base = data.base || 0;
    this.marked = [];
    this.step = -1;
    this.fwd = 0;
    this.tip = document.createElement("div");
    attrs(this.tip, { id: "nnd-tip-" + ++tips, class: "nnd-tip", role: "tooltip", hidden: "" });
    this.links = all(root, ".nndiagram-svg g.nnd-link").filter(function (el) {
      var key = keyOf(el), p = key && parse(key);
      if (!p) return false;
      el.nndKey = key;
      el.nndLink = p;
      self.fwd = Math.max(self.fwd, stepOf(p) + 1);
      focusable(el, self.tip.id);
      if (el.classList.contains("edge")) addHitArea(el);
      return true;
    });
    /* forward: inputs, each layer; backward: dz, dW, db of each layer, last first */
    this.steps = this.fwd + (data.back ? 3 * (this.fwd - 1) : 0);
    this.build();
    this.listen();
  }

  function attrs(el, values) {
    for (var name in values) if (values[name] !== undefined) el.setAttribute(name, values[name]);
  }

  function focusable(el, tip, label) {
    attrs(el, { tabindex: 0, role: "button", "aria-describedby": tip, "aria-label": label });
  }

  Block.prototype.build = function () {
    var figure = this.root.querySelector("figure.nndiagram-diagram") || this.root;
    var bar = (this.bar = document.createElement("div"));
    figure.classList.add("nnd-figure");
    figure.appendChild(this.tip);
    attrs(bar, { class: "nnd-steps", role: "group", "aria-label": "step through the " + this.pass() });
    bar.innerHTML =
      '<button type="button" class="nnd-prev" aria-label="previous step">\u25c0</button>' +
      '<span class="nnd-step-label" aria-live="polite"></span>' +
      '<button type="button" class="nnd-next" aria-label="next step">\u25b6</button>';
    figure.parentNode.insertBefore(bar, figure.nextSibling);
    this.label = bar.querySelector(".nnd-step-label");
    this.showStep();
    /* symbols become focusable as MathJax typesets them */
    var self = this, queued = false;
    var watcher = new MutationObserver(function () {
      if (!queued) queued = setTimeout(function () {
        queued = false;
        self.math();
      }, 50);
    });
    this.equations().forEach(function (root) {
      watcher.observe(root, { childList: true, subtree: true });
    });
  };

  Block.prototype.pass = function () {
    return this.steps > this.fwd ? "forward and backward pass" : "forward pass";
  };

  Block.prototype.listen = function () {
    var self = this;
    function figureLink(target) {
      var el = target.closest && target.closest("g.nnd-link");
      return el && el.nndLink ? el : null;
    }
    function mathLink(el) {
      var css = 'mjx-container [class*="nnd-"]';
      for (el = el.closest && el.closest(css); el && !keyOf(el); ) el = el.parentNode.closest(css);
      return el;
    }
    /* the block of a figure part or step control (a symbol: this one) */
    function owner(el) {
      var root = el.closest(".nndiagram");
      return (root && root.nndExplore) || self;
    }
    function over(ev) {
      var el = figureLink(ev.target);
      if (el) return owner(el).point(el);
      el = mathLink(ev.target);
      if (el) self.pointMath(el);
    }
    function out(ev) {
      var to = ev.relatedTarget;
      if (!to || !(figureLink(to) || mathLink(to))) clear();
    }
    function key(ev) {
      var el = figureLink(ev.target) || mathLink(ev.target) || ev.target.closest(".nnd-steps");
      if (!el) return;
      if (ev.key === "Enter" || ev.key === " ") {
        if (el.classList.contains("nnd-steps")) return; /* a button: its click */
        ev.preventDefault();
        over(ev);
      }
      var by = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[ev.key];
      if (by) owner(el).move(by, ev);
    }
    this.equations().concat([this.root]).forEach(function (root) {
      if (root.nndListening) return; /* one equations block, two figures */
      root.nndListening = true;
      root.addEventListener("mouseover", over);
      root.addEventListener("mouseout", out);
      root.addEventListener("focusin", over);
      root.addEventListener("focusout", clear);
      root.addEventListener("keydown", key);
    });
    var buttons = this.bar.querySelectorAll("button");
    [-1, 1].forEach(function (by, i) {
      buttons[i].onclick = function () {
        self.move(by);
      };
    });
  };

  /* this block's equations, else those of other blocks of the same network */
  Block.prototype.equations = function () {
    var name = this.root.getAttribute("data-nndiagram");
    if (this.root.querySelector(".nndiagram-equations")) return [this.root];
    return all(document, ".nndiagram").filter(function (other) {
      return other.getAttribute("data-nndiagram") === name && other.querySelector(".nndiagram-equations");
    });
  };

  /* the linked typeset symbols, read again after MathJax typesets */
  Block.prototype.math = function () {
    var roots = this.equations(), typeset = 0, found = [], self = this;
    roots.forEach(function (root) {
      typeset += root.getElementsByTagName("mjx-container").length;
    });
    var cache = this.cache;
    if (cache && cache.typeset === typeset && cache.found.every(function (m) {
      return m.el.isConnected;
    })) return cache.found;
    roots.forEach(function (root) {
      all(root, '.nndiagram-equations mjx-container svg [class*="nnd-"]').forEach(function (el) {
        var key = keyOf(el), p = key && parse(key), svg = el.closest("svg");
        if (!p) return;
        found.push({ el: el, link: p });
        /* Tab reaches it, a screen reader too */
        focusable(el, self.tip.id, self.name(key, p));
        svg.removeAttribute("aria-hidden");
        svg.setAttribute("role", "group");
      });
    });
    this.cache = { typeset: typeset, found: found };
    return found;
  };

  /* first line of its tooltip, else letter and layer: w[1], dz[0] */
  Block.prototype.name = function (key, p) {
    if (this.tips[key]) return this.tips[key].split("\n")[0];
    return (VECTOR[p.kind] || p.kind.replace("w", "W")) + "[" + (p.n[0] + this.base) + "]";
  };

  Block.prototype.mark = function (els) {
    for (var i = 0; i < els.length; i++) els[i].classList.add("nnd-highlight");
    this.marked = this.marked.concat(els);
  };

  /* one block at a time is pointed at */
  function clear() {
    if (!current) return;
    current.marked.forEach(function (el) {
      el.classList.remove("nnd-highlight");
    });
    current.marked = [];
    current.tip.hidden = true;
  }

  Block.prototype.clear = function () {
    clear();
    current = this;
  };

  Block.prototype.symbols = function (test) {
    return this.math().filter(function (m) {
      return test(m.link, m.el);
    }).map(function (m) {
      return m.el;
    });
  };

  Block.prototype.point = function (el) {
    var f = el.nndLink, key = el.nndKey;
    this.clear();
    this.mark(this.links.filter(function (g) {
      return g.nndKey === key;
    }));
    this.mark(this.symbols(function (m) {
      return related(f, m);
    }));
    this.showTip(el, this.tips[key] || key);
  };

  Block.prototype.pointMath = function (el) {
    var key = keyOf(el), m = parse(key), name = this.name(key, m);
    this.clear();
    this.mark(this.symbols(function (p, other) {
      return keyOf(other) === key;
    }));
    var figure = this.links.filter(function (f) {
      return gathers(m, f.nndLink);
    });
    this.mark(figure);
    var shown = figure.filter(function (f) {
      return f.getClientRects().length;
    })[0];
    var text = back(m.kind) ? name + " = \u2202L/\u2202" + name.slice(1) : shown && this.tips[shown.nndKey];
    if (shown || this.links[0]) this.showTip(shown || this.links[0], text || name);
  };

  Block.prototype.showTip = function (el, text) {
    var holder = this.tip.parentNode.getBoundingClientRect(), box = el.getBoundingClientRect();
    this.tip.textContent = text;
    this.tip.hidden = false;
    this.tip.style.left = Math.max(0, box.left - holder.left) + "px";
    this.tip.style.top = box.bottom - holder.top + 6 + "px";
  };

  Block.prototype.move = function (by, ev) {
    var next = this.step + by;
    if (ev) ev.preventDefault();
    if (next < -1 || next >= this.steps) return;
    this.step = next;
    this.showStep();
  };

  Block.prototype.showStep = function () {
    var step = this.step, b = step - this.fwd, ph = BACK[b % 3], l = this.fwd - 2 - Math.floor(b / 3);
    function on(p, math) {
      return b >= 0 ? inPhase(p, ph, l, math) : !back(p.kind) && stepOf(p) === step;
    }
    this.math().forEach(function (m) {
      m.el.classList.toggle("nnd-active", on(m.link, true));
    });
    this.links.forEach(function (el) {
      el.classList.toggle("nnd-active", on(el.nndLink, false));
    });
    var what = b >= 0 ? "backward, " + ph.replace("w", "W") + "[" + (l + this.base) + "]" :
      step ? "layer " + (step - 1 + this.base) : "inputs";
    this.label.textContent = step < 0 ? this.pass() + ": " + this.steps + " steps" :
      "step " + (step + 1) + " of " + this.steps + ": " + what;
    /* not disabled: that drops the focus */
    this.bar.firstChild.setAttribute("aria-disabled", step < 0);
    this.bar.lastChild.setAttribute("aria-disabled", step >= this.steps - 1);
  };

  /* a wide transparent copy of a thin edge takes the pointer */
  function addHitArea(el) {
    var path = el.querySelector("path"), hit = path && path.cloneNode(false);
    if (!hit) return;
    hit.removeAttribute("id");
    attrs(hit, { class: "nnd-hit", stroke: "transparent", fill: "none" });
    path.parentNode.insertBefore(hit, path);
  }

  function scan() {
    all(document, ".nndiagram").forEach(function (root) {
      if (!root.nndExplore && root.querySelector(".nndiagram-svg g.nnd-link")) root.nndExplore = new Block(root);
    });
  }

  window.nndiagramExplore = { scan: scan, version: 2 };
  function start() {
    scan();
    if (window.document$) window.document$.subscribe(scan); /* Material: each page */
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
