/* nndiagram: the figure and its equations as one (plain JavaScript, no framework, no network).
 * Each .nndiagram block whose figure carries links (classes such as nnd-w-1-0-2: layer 1,
 * row 0, column 2 of w^[1]) gets: highlight and a tooltip on hover or focus of a neuron, bias,
 * activation or edge, with the matching typeset symbols (classes set by nndiagram's own
 * class macro in the LaTeX) marked nnd-highlight; the reverse from the equations; and a step control
 * that walks the forward pass layer by layer (nnd-active). Without this script the figure and
 * the equations are unchanged: it only adds. Runs once per page load, and again after each
 * page change of Material's instant navigation (document$). */
(function () {
  "use strict";
  if (window.nndiagramExplore) {
    window.nndiagramExplore.scan();
    return;
  }
  var LINK = /^nnd-([a-z]+)-(\d+(?:-\d+)*)$/;
  var VECTOR = { wv: "w", bv: "b", zv: "z", av: "a" };
  var tips = 0;

  function parse(key) {
    var m = LINK.exec("nnd-" + key);
    return m ? { kind: m[1], n: m[2].split("-").map(Number) } : null;
  }

  function keyOf(el) {
    var list = el.classList;
    for (var i = 0; i < list.length; i++) {
      var m = LINK.exec(list[i]);
      if (m && m[1] !== "link") return m[1] + "-" + m[2];
    }
    return null;
  }

  /* The step (0: the inputs, L + 1: layer L) a link belongs to. */
  function stepOf(p) {
    return p.kind === "x" ? 0 : p.n[0] + 1;
  }

  /* Does pointing at figure link f mark typeset link m (and, read backwards, m mark f)? */
  function related(f, m) {
    var a = f.n, b = m.n;
    if (f.kind === m.kind && a.join() === b.join()) return true;
    if (m.kind === "g") return f.kind === "g" && a[0] === b[0];
    switch (f.kind) {
      case "z": /* a neuron: its row of w, its bias */
        return (m.kind === "w" || m.kind === "b") && a[0] === b[0] && a[1] === b[1];
      case "x": /* an input: its column of w^[0] */
        return m.kind === "w" && b[0] === 0 && b[2] === a[0];
      case "bias": /* a layer's bias node: every entry of its b */
        return m.kind === "b" && a[0] === b[0] && (a.length === 1 || a[1] === b[1]);
      case "g":
        return (m.kind === "a" || m.kind === "z") && a[0] === b[0] && a[1] === b[1];
      default:
        return false;
    }
  }

  function Block(root) {
    var data = root.querySelector(".nnd-links[data-links]");
    this.root = root;
    this.tips = data ? JSON.parse(data.getAttribute("data-links")).tips || {} : {};
    this.links = [].slice.call(root.querySelectorAll(".nndiagram-svg g.nnd-link"));
    this.marked = [];
    this.step = -1;
    this.steps = 0;
    var self = this;
    this.links.forEach(function (el) {
      var key = keyOf(el), p = key && parse(key);
      if (!p) return;
      el.nndKey = key;
      el.nndLink = p;
      self.steps = Math.max(self.steps, stepOf(p) + 1);
      el.setAttribute("tabindex", "0");
      el.setAttribute("role", "button");
      el.setAttribute("aria-describedby", self.tipId());
      if (el.classList.contains("edge")) addHitArea(el);
    });
    this.build();
    this.listen();
  }

  Block.prototype.tipId = function () {
    if (!this.tip) {
      tips += 1;
      this.tip = document.createElement("div");
      this.tip.id = "nnd-tip-" + tips;
      this.tip.className = "nnd-tip";
      this.tip.setAttribute("role", "tooltip");
      this.tip.hidden = true;
    }
    return this.tip.id;
  };

  Block.prototype.build = function () {
    var figure = this.root.querySelector("figure.nndiagram-diagram") || this.root;
    figure.classList.add("nnd-figure");
    figure.appendChild(this.tip);
    var bar = document.createElement("div");
    bar.className = "nnd-steps";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "step through the forward pass");
    bar.innerHTML =
      '<button type="button" class="nnd-prev" aria-label="previous step">\u25c0</button>' +
      '<span class="nnd-step-label" aria-live="polite"></span>' +
      '<button type="button" class="nnd-next" aria-label="next step">\u25b6</button>';
    figure.parentNode.insertBefore(bar, figure.nextSibling);
    this.bar = bar;
    this.label = bar.querySelector(".nnd-step-label");
    this.showStep();
  };

  Block.prototype.listen = function () {
    var self = this;
    function figureLink(ev) {
      var el = ev.target.closest && ev.target.closest("g.nnd-link");
      return el && el.nndLink ? el : null;
    }
    function mathLink(ev) {
      var el = ev.target;
      while (el && !(el.classList && el.classList.contains("nndiagram"))) {
        if (el.getAttribute && el.closest && el.closest("mjx-container")) {
          var key = keyOf(el);
          if (key && parse(key)) return el;
        }
        el = el.parentNode;
      }
      return null;
    }
    function over(ev) {
      var el = figureLink(ev);
      if (el) return self.point(el);
      el = mathLink(ev);
      if (el) self.pointMath(el);
    }
    function out(ev) {
      var to = ev.relatedTarget;
      if (!to || !(figureLink({ target: to }) || mathLink({ target: to }))) self.clear();
    }
    this.equations().concat([this.root]).forEach(function (root, index, roots) {
      if (roots.indexOf(root) !== index || root.nndListening) return;
      root.nndListening = true; /* a page may show one equations block for two figures */
      root.addEventListener("mouseover", over);
      root.addEventListener("mouseout", out);
    });
    this.root.addEventListener("focusin", function (ev) {
      var el = figureLink(ev);
      if (el) self.point(el);
    });
    this.root.addEventListener("focusout", function () {
      self.clear();
    });
    this.root.addEventListener("keydown", function (ev) {
      var el = figureLink(ev);
      if (el && (ev.key === "Enter" || ev.key === " ")) {
        ev.preventDefault();
        self.point(el);
        return;
      }
      if (!el && !self.bar.contains(ev.target)) return;
      if (ev.key === "ArrowRight" || ev.key === "ArrowDown") self.move(1, ev);
      else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp") self.move(-1, ev);
    });
    this.bar.querySelector(".nnd-prev").addEventListener("click", function () {
      self.move(-1);
    });
    this.bar.querySelector(".nnd-next").addEventListener("click", function () {
      self.move(1);
    });
  };

  /* The typeset equations of this block; when it shows only the figure, those of the page's
   * blocks of the same network that show its equations (a figure and its equations may be
   * two fences). */
  Block.prototype.equations = function () {
    if (this.root.querySelector(".nndiagram-equations")) return [this.root];
    var name = this.root.getAttribute("data-nndiagram");
    return [].filter.call(document.querySelectorAll(".nndiagram"), function (other) {
      return other.getAttribute("data-nndiagram") === name && other.querySelector(".nndiagram-equations");
    });
  };

  /* The linked typeset symbols, read again only when MathJax has typeset more (or again). */
  Block.prototype.math = function () {
    var roots = this.equations(), typeset = 0, found = [], all = [];
    roots.forEach(function (root) {
      typeset += root.getElementsByTagName("mjx-container").length;
    });
    if (this.cache && this.cache.typeset === typeset && this.cache.found.every(function (m) {
      return m.el.isConnected;
    })) return this.cache.found;
    roots.forEach(function (root) {
      all = all.concat([].slice.call(root.querySelectorAll('.nndiagram-equations mjx-container [class*="nnd-"]')));
    });
    for (var i = 0; i < all.length; i++) {
      var key = keyOf(all[i]), p = key && parse(key);
      if (p) found.push({ el: all[i], link: p });
    }
    this.cache = { typeset: typeset, found: found };
    return found;
  };

  Block.prototype.mark = function (els, name) {
    for (var i = 0; i < els.length; i++) {
      els[i].classList.add(name);
      this.marked.push(els[i]);
    }
  };

  Block.prototype.clear = function () {
    for (var i = 0; i < this.marked.length; i++) this.marked[i].classList.remove("nnd-highlight");
    this.marked = [];
    this.tip.hidden = true;
  };

  Block.prototype.same = function (key) {
    return this.links.filter(function (el) {
      return el.nndKey === key;
    });
  };

  Block.prototype.point = function (el) {
    this.clear();
    var f = el.nndLink;
    this.mark(this.same(el.nndKey), "nnd-highlight");
    this.mark(
      this.math()
        .filter(function (m) {
          return related(f, m.link);
        })
        .map(function (m) {
          return m.el;
        }),
      "nnd-highlight"
    );
    this.showTip(el, this.tips[el.nndKey] || el.nndKey);
  };

  Block.prototype.pointMath = function (el) {
    this.clear();
    var m = parse(keyOf(el));
    var key = keyOf(el);
    this.mark(
      this.math()
        .filter(function (x) {
          return keyOf(x.el) === key;
        })
        .map(function (x) {
          return x.el;
        }),
      "nnd-highlight"
    );
    var figure = this.links.filter(function (f) {
      var p = f.nndLink;
      if (VECTOR[m.kind]) {
        /* a whole matrix or vector: every part of the figure it gathers */
        var kind = VECTOR[m.kind];
        return (p.kind === kind || (kind === "b" && p.kind === "bias")) && p.n[0] === m.n[0];
      }
      if (m.kind === "g") return p.kind === "g" && p.n[0] === m.n[0];
      return p.kind === m.kind && p.n.join() === m.n.join();
    });
    this.mark(figure, "nnd-highlight");
    var shown = figure.filter(function (f) {
      return f.getClientRects().length > 0;
    })[0];
    if (shown) this.showTip(shown, this.tips[shown.nndKey] || shown.nndKey);
  };

  Block.prototype.showTip = function (el, text) {
    var holder = this.tip.parentNode.getBoundingClientRect();
    var box = el.getBoundingClientRect();
    this.tip.textContent = text;
    this.tip.hidden = false;
    this.tip.style.left = Math.max(0, box.left - holder.left) + "px";
    this.tip.style.top = box.bottom - holder.top + 6 + "px";
  };

  Block.prototype.move = function (by, ev) {
    if (ev) ev.preventDefault();
    var next = this.step + by;
    if (next < -1 || next >= this.steps) return;
    this.step = next;
    this.showStep();
  };

  Block.prototype.showStep = function () {
    var step = this.step;
    var old = this.root.querySelectorAll(".nnd-active");
    for (var i = 0; i < old.length; i++) old[i].classList.remove("nnd-active");
    if (step >= 0) {
      this.links.forEach(function (el) {
        if (stepOf(el.nndLink) === step) el.classList.add("nnd-active");
      });
      this.math().forEach(function (m) {
        if (stepOf(m.link) === step) m.el.classList.add("nnd-active");
      });
    }
    var last = this.steps - 1;
    this.label.textContent =
      step < 0
        ? "forward pass: " + this.steps + " steps"
        : "step " + (step + 1) + " of " + this.steps + ": " + (step === 0 ? "inputs" : "layer " + (step - 1));
    /* aria-disabled, not disabled: a disabled button would drop the keyboard focus */
    this.bar.querySelector(".nnd-prev").setAttribute("aria-disabled", String(step < 0));
    this.bar.querySelector(".nnd-next").setAttribute("aria-disabled", String(step >= last));
  };

  /* A thin edge is hard to point at: a wide transparent copy of its line takes the pointer. */
  function addHitArea(el) {
    var path = el.querySelector("path");
    if (!path) return;
    var hit = path.cloneNode(false);
    hit.removeAttribute("id");
    hit.setAttribute("class", "nnd-hit");
    hit.setAttribute("stroke", "transparent");
    hit.setAttribute("fill", "none");
    path.parentNode.insertBefore(hit, path);
  }

  function scan() {
    var roots = document.querySelectorAll(".nndiagram");
    for (var i = 0; i < roots.length; i++) {
      var root = roots[i];
      if (root.nndExplore || !root.querySelector(".nndiagram-svg g.nnd-link")) continue;
      root.nndExplore = new Block(root);
    }
  }

  window.nndiagramExplore = { scan: scan, version: 1 };
  function start() {
    scan();
    if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
      window.document$.subscribe(scan); /* Material: every page change */
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
