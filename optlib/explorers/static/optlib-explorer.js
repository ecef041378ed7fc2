/* optlib explorers on the website: show the precomputed data of the chosen setting with Bokeh.
 *
 * Every number was computed by optlib when the book was built (optlib/explorers/site.py): this script
 * decodes them, fetches the chunk that holds the chosen setting (and its neighbours, ahead of the reader),
 * copies the setting's arrays into Bokeh's data sources, and writes the summary and the data table from the
 * strings and numbers the build made. It computes nothing about optimizers. Served once from _static.
 */
(function () {
  "use strict";

  // --- decoding ---------------------------------------------------------------------------------
  async function inflate(text) {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  function unplane(planes, width) {
    const n = planes.length / width;
    const out = new Uint8Array(planes.length);
    for (let b = 0; b < width; b++) {
      const plane = b * n;
      for (let i = 0; i < n; i++) out[i * width + b] = planes[plane + i];
    }
    return out;
  }

  // Arrays of a pack, by length: a negative length -n is 0, 1, ..., n - 1; the others come from the numbers.
  function arraysOf(lengths, next) {
    return lengths.map((n) => (n < 0 ? Float64Array.from({ length: -n }, (_, i) => i) : next(n)));
  }

  // The default setting: float64, exactly.
  async function decodeExact(pack) {
    const values = new Float64Array(unplane(await inflate(pack.data), 8).buffer);
    let offset = 0;
    return { strings: pack.strings, arrays: arraysOf(pack.arrays, (n) => values.subarray(offset, (offset += n))) };
  }

  // A chunk: the high 32-bit word of each float64, as differences along each array.
  async function decodeChunk(meta, data) {
    const words = new Uint32Array(unplane(await inflate(data), 4).buffer);
    let offset = 0;
    const arrays = arraysOf(meta.arrays, (n) => {
      const out = new Float64Array(n);
      const halves = new Uint32Array(out.buffer);
      let word = 0;
      for (let i = 0; i < n; i++) {
        word = (word + words[offset + i]) >>> 0;
        halves[2 * i + 1] = word;   // little-endian: the high half
      }
      offset += n;
      return out;
    });
    return { strings: meta.strings, arrays: arrays, entries: meta.entries };
  }

  // Chunk files call this (see site.py): optlibExplorerChunk(id, name, meta, data).
  const arrived = new Map();
  window.optlibExplorerChunk = function (uid, name, meta, data) {
    const key = `${uid}/${name}`;
    const waiting = arrived.get(key);
    if (waiting && waiting.resolve) waiting.resolve([meta, data]);
    else arrived.set(key, { value: Promise.resolve([meta, data]) });
  };

  function loadScript(uid, name, url) {
    const key = `${uid}/${name}`;
    if (!arrived.has(key)) {
      let resolve, reject;
      const value = new Promise((ok, fail) => { resolve = ok; reject = fail; });
      arrived.set(key, { value, resolve });
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onerror = () => reject(new Error(`optlib explorer: could not load ${url}`));
      script.onload = () => script.remove();
      document.head.appendChild(script);
    }
    return arrived.get(key).value;
  }

  // --- Bokeh --------------------------------------------------------------------------------------
  // Bokeh's get_model_by_name scans every model of the document at each call, and a redraw looks up
  // dozens of names: a model once found is kept (the documents' models do not change after loading).
  const models = new Map();   // name -> model
  function findModel(name) {
    const known = models.get(name);
    if (known) return known;
    for (const doc of (window.Bokeh && Bokeh.documents) || []) {
      const model = doc.get_model_by_name(name);
      if (model) {
        models.set(name, model);
        return model;
      }
    }
    return null;
  }

  function* views() {
    const index = window.Bokeh && Bokeh.index;
    if (!index) return;
    const roots = typeof index[Symbol.iterator] === "function" ? [...index] : Object.values(index);
    const stack = [...roots];
    while (stack.length) {
      const view = stack.pop();
      yield view;
      for (const child of view.child_views || []) stack.push(child);
    }
  }

  // Lines are drawn at Bokeh's overlay level, which Bokeh repaints without the axes and contours; it does
  // not clip that level to the frame, so each of our line views is told to (a diverging path would
  // otherwise be drawn over the axes). Returns how many views were found.
  function clipOverlays(uid) {
    let found = 0;
    for (const view of views()) {
      if (!view.renderer_views) continue;
      for (const renderer of view.renderer_views.values()) {
        const name = renderer.model.name || "";
        if (name.startsWith(`${uid}:`) && renderer.model.level === "overlay") {
          Object.defineProperty(renderer, "needs_clip", { get: () => true, configurable: true });
          found += 1;
        }
      }
    }
    return found;
  }

  // --- numbers as text ----------------------------------------------------------------------------
  function formatNumber(value) {
    if (!Number.isFinite(value)) return Number.isNaN(value) ? "—" : String(value);
    return Number(value.toPrecision(3)).toString().replace("e+", "e").replace(/-/g, "−");
  }

  // The range of values rounded out to ticks: decades on a log axis, 1-2-5 steps otherwise (site.py's rule).
  function roundedRange(arrays, log) {
    let low = Infinity, high = -Infinity;
    for (const values of arrays) {
      for (const v of values) {
        if (Number.isFinite(v) && (!log || v > 0)) { if (v < low) low = v; if (v > high) high = v; }
      }
    }
    if (low > high) return null;
    if (log) {
      const a = Math.floor(Math.log10(low)), b = Math.ceil(Math.log10(high));
      return [10 ** a, 10 ** (b > a ? b : a + 1)];
    }
    if (high <= low) { const pad = Math.abs(low) * 0.1 || 1; return [low - pad, high + pad]; }
    const raw = (high - low) / 5, magnitude = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw * (1 - 1e-9));
    return [Math.floor(low / step + 1e-9) * step, Math.ceil(high / step - 1e-9) * step];
  }

  // --- one explorer -------------------------------------------------------------------------------
  async function start(root) {
    const spec = JSON.parse(root.querySelector("script.optlib-explorer-data").textContent);
    const uid = root.id;
    const chunkElement = root.querySelector("script.optlib-explorer-chunks");
    const chunkBase = chunkElement.dataset.src || null;
    const inline = chunkBase === null ? JSON.parse(chunkElement.textContent) : null;
    const defaults = await decodeExact(spec.default);
    const inputs = Array.from(root.querySelectorAll("[data-control]"));
    const summary = root.querySelector(".optlib-explorer-summary");
    const legend = root.querySelector(".optlib-explorer-legend");
    const details = root.querySelector("details.optlib-explorer-data");
    const tables = root.querySelector(".optlib-explorer-tables");
    const groups = spec.groups;

    const loaded = new Map();   // chunk name -> decoded chunk
    const pending = new Map();  // chunk name -> promise
    let active = false;         // fetch ahead only once the reader is near the explorer

    // A chunk's text, fetched (or read inline); decoding waits until the chunk is needed or the page is idle.
    function fetchChunk(name) {
      return inline ? Promise.resolve(inline[name]) : loadScript(uid, name, `${chunkBase}${name}.js`);
    }

    function load(name) {
      if (loaded.has(name)) return Promise.resolve(loaded.get(name));
      if (!pending.has(name)) {
        pending.set(name, fetchChunk(name).then(([meta, data]) => decodeChunk(meta, data)).then((chunk) => {
          loaded.set(name, chunk);
          pending.delete(name);
          return chunk;
        }));
      }
      return pending.get(name);
    }

    function chosen() {
      return inputs.map((input, i) => {
        if (input.type === "checkbox") return spec.controls[i].values.indexOf(input.checked ? "yes" : "no");
        return Number(input.value);
      });
    }

    function ravel(key, sizes) {
      let index = 0;
      for (let i = 0; i < key.length; i++) index = index * sizes[i] + key[i];
      return index;
    }

    // Where a group's value at the chosen setting is: [chunk name, index inside it], or null (the default).
    function locate(g, setting) {
      const group = groups[g];
      const key = group.dims.map((c) => setting[c]);
      if (group.dims.every((c, i) => key[i] === spec.default.setting[c])) return null;
      const outer = ravel(group.outer.map((i) => key[i]), group.outer.map((i) => group.sizes[i]));
      const inner = ravel(group.inner.map((i) => key[i]), group.inner.map((i) => group.sizes[i]));
      return [`${g}-${group.aliases[outer] ?? outer}`, inner];   // a chunk equal to another is stored once
    }

    // Fetch ahead: the chunks next to the setting along every control, and, when a slider is in the
    // reader's hand, every chunk along it (a drag then redraws at every value it passes). The fetching and
    // decoding wait until the browser is idle, after the redraw of the move that asked for them.
    const idle = window.requestIdleCallback ? (task) => requestIdleCallback(task, { timeout: 300 })
                                            : (task) => setTimeout(task, 50);
    function prefetch(setting, along) {
      if (!active) return;
      const names = new Set();
      groups.forEach((group, g) => {
        group.outer.forEach((i) => {
          const c = group.dims[i];
          const values = along === c ? [...Array(group.sizes[i]).keys()] : [setting[c] - 1, setting[c] + 1];
          for (const v of values) {
            if (v < 0 || v >= group.sizes[i]) continue;
            const next = setting.slice();
            next[c] = v;
            const where = locate(g, next);
            if (where && !loaded.has(where[0]) && !pending.has(where[0])) names.add(where[0]);
          }
        });
      });
      const fetchAll = () => names.forEach((name) => fetchChunk(name).then(() => idle(() => load(name)))
        .catch(() => {}));
      if (names.size && along !== null) fetchAll();   // a slider just taken in hand: now
      else if (names.size) idle(fetchAll);
    }

    const shown = {};   // what each source holds now: only sources whose data change are touched
    let drawn = null;
    // A line's renderers (its line, markers or band), looked up once they exist.
    const renderers = new Map();   // slot key -> renderers
    function renderersOf(key) {
      if (renderers.has(key)) return renderers.get(key);
      const found = [":line", ":markers", ":band"].map((suffix) => findModel(`${uid}:${key}${suffix}`))
        .filter((renderer) => renderer !== null);
      if (found.length) renderers.set(key, found);
      return found;
    }

    function render() {
      const setting = chosen();
      const key = setting.join();
      const located = groups.map((_, g) => locate(g, setting));
      const missing = located.filter((w) => w && !loaded.has(w[0])).map((w) => w[0]);
      prefetch(setting, null);
      if (missing.length) {
        root.dataset.pending = String(missing.length);
        Promise.all(missing.map(load)).then(() => { if (chosen().join() === key) render(); })
          .catch((error) => console.error("optlib explorer", uid, error));
        return;
      }
      delete root.dataset.pending;
      // Each slot's entry and the pack its references point into.
      const slots = spec.slots.map((slot, s) => {
        const where = located[slot.group];
        if (!where) return { pack: defaults, entry: spec.default.entries[s], id: "default" };
        const chunk = loaded.get(where[0]);
        return { pack: chunk, entry: chunk.entries[String(s)][where[1]], id: `${where[0]}:${where[1]}` };
      });
      const array = (pack, i) => (i < 0 ? new Float64Array(0) : pack.arrays[i]);
      const text = (pack, i) => (i < 0 ? "" : pack.strings[i]);
      const words = [];
      const items = [];
      const panelData = spec.panels.map(() => ({ x: [], y: [] }));
      const tableLines = [];
      spec.slots.forEach((slot, s) => {
        const { pack, entry, id } = slots[s];
        if (slot.kind === "title") {
          if (text(pack, entry[0])) words.push(text(pack, entry[0]));
          return;
        }
        if (slot.kind === "contour") {
          if (shown[`contour${slot.panel}`] === id) return;
          shown[`contour${slot.panel}`] = id;
          findModel(`${uid}:contour${slot.panel}`).data = { x: array(pack, entry[0]), y: array(pack, entry[1]) };
          findModel(`${uid}:minima${slot.panel}`).data = { x: array(pack, entry[2]), y: array(pack, entry[3]) };
          findModel(`${uid}:xrange${slot.panel}`).setv({ start: entry[4], end: entry[5] });
          findModel(`${uid}:yrange${slot.panel}`).setv({ start: entry[6], end: entry[7] });
          return;
        }
        const line = spec.lines.find((l) => l.key === slot.key);
        const [xi, yi, y2i, labelIndex, colorIndex, phraseIndex] = entry;
        const label = text(pack, labelIndex);
        const x = array(pack, xi), y = array(pack, yi), y2 = array(pack, y2i);
        if (text(pack, phraseIndex)) words.push(text(pack, phraseIndex));
        if (line.legend && label && xi >= 0) items.push([label, text(pack, colorIndex), line.dash]);
        if (xi >= 0) {
          panelData[slot.panel].x.push(x);
          panelData[slot.panel].y.push(y);
          if (line.style === "band") panelData[slot.panel].y.push(y2);
          if (line.style !== "band" && label) tableLines.push([slot.panel, label, x, y]);   // not a bare reference line
        }
        if (shown[slot.key] === id) return;
        shown[slot.key] = id;
        const data = { x: x, y: y, step: Float64Array.from(x, (_, i) => i), label: new Array(x.length).fill(label) };
        if (line.style === "band") data.y2 = y2;
        findModel(`${uid}:${slot.key}`).data = data;
        if (colorIndex >= 0) {
          const colour = text(pack, colorIndex);
          for (const renderer of renderersOf(slot.key)) {
            for (const prop of ["line_color", "fill_color"]) {
              if (prop in renderer.glyph.properties && renderer.glyph[prop] !== colour) renderer.glyph[prop] = colour;
            }
          }
        }
      });
      // Axes that follow the data, rounded out to ticks: most moves keep them (and Bokeh then repaints
      // only the lines).
      spec.panels.forEach((panel, p) => {
        if (panel.contour) return;
        for (const [axis, fixed, log, arrays] of [["x", panel.x, panel.xlog, panelData[p].x],
                                                  ["y", panel.y, panel.ylog, panelData[p].y]]) {
          if (fixed) continue;
          const range = roundedRange(arrays, log);
          const model = findModel(`${uid}:${axis}range${p}`);
          if (range && (model.start !== range[0] || model.end !== range[1])) model.setv({ start: range[0], end: range[1] });
        }
      });
      const said = words.join(". ") + (words.length ? "." : "");
      if (summary.textContent !== said) summary.textContent = said;
      const legendKey = JSON.stringify(items);   // the legend changes with a label or a colour only
      if (legend.dataset.items !== legendKey) {
        legend.dataset.items = legendKey;
        legend.replaceChildren(...items.map(([label, colour, dash]) => {
        const li = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = "optlib-explorer-swatch";
        swatch.style.borderTopColor = colour;
        swatch.style.borderTopStyle = dash === "solid" ? "solid" : dash;
        li.append(swatch, document.createTextNode(label));
        return li;
        }));
      }
      drawn = tableLines;
      if (details.open) writeTables();
      root.dataset.setting = key;
      root.dataset.renders = String(Number(root.dataset.renders || 0) + 1);
    }

    // The data table: for each drawn line, its values at a few key steps (the first, 1, 2, 5, 10, 20, ...,
    // the last finite one).
    function writeTables() {
      if (!drawn) return;
      const out = [];
      for (const [p, label, x, y] of drawn) {
        const panel = spec.panels[p];
        const n = x.length;
        let last = n - 1;
        while (last > 0 && !(Number.isFinite(x[last]) && Number.isFinite(y[last]))) last -= 1;
        const rows = new Set([0, last]);
        for (let k = 1; k < n; k *= 10) for (const m of [1, 2, 5]) if (k * m < last) rows.add(k * m);
        const table = document.createElement("table");
        const caption = document.createElement("caption");
        caption.textContent = `${label || "line"}: ${panel.ylabel} against ${panel.xlabel}`;
        table.append(caption);
        const head = table.createTHead().insertRow();
        for (const name of ["index", panel.xlabel, panel.ylabel]) {
          const th = document.createElement("th");
          th.scope = "col";
          th.textContent = name;
          head.append(th);
        }
        const body = table.createTBody();
        for (const i of [...rows].sort((a, b) => a - b)) {
          if (i >= n) continue;
          const row = body.insertRow();
          const th = document.createElement("th");
          th.scope = "row";
          th.textContent = String(i);
          row.append(th);
          row.insertCell().textContent = formatNumber(x[i]);
          row.insertCell().textContent = formatNumber(y[i]);
        }
        out.push(table);
      }
      tables.replaceChildren(...out);
    }
    details.addEventListener("toggle", () => { if (details.open) writeTables(); });

    inputs.forEach((input, i) => {
      input.disabled = false;
      const changed = () => {
        const control = spec.controls[i];
        if (input.type === "range") {
          const value = control.values[Number(input.value)];
          input.setAttribute("aria-valuetext", value);
          const output = input.parentElement.querySelector("output");
          if (output) output.textContent = value;
        }
        if (chosen().join() !== root.dataset.setting) render();
      };
      input.addEventListener("input", changed);
      input.addEventListener("change", changed);
      // A slider in the reader's hand: fetch every chunk along it.
      const grab = () => { activate(); prefetch(chosen(), i); };
      if (input.type === "range") {
        input.addEventListener("pointerdown", grab);
        input.addEventListener("focus", grab);
      } else {
        input.addEventListener("focus", () => activate());
      }
    });

    function activate() {
      if (active) return;
      active = true;
      prefetch(chosen(), null);
    }
    if ("IntersectionObserver" in window) {
      const observer = new IntersectionObserver((seen) => {
        if (seen.some((e) => e.isIntersecting)) { observer.disconnect(); activate(); }
      }, { rootMargin: "200px" });
      observer.observe(root);
    } else {
      activate();
    }

    whenReady(() => findModel(`${uid}:${spec.lines[0].key}`) !== null && clipOverlays(uid) > 0, () => {
      render();
      root.classList.add("optlib-explorer-ready");
      whenReady(() => labelPlots(root) > 0, () => {}, 0);  // Bokeh may add its views a frame later
    }, 0);
  }

  function whenReady(test, then, tries) {
    if (test()) { then(); return; }
    if (tries > 600) { console.warn("optlib explorer: Bokeh document not found"); return; }
    setTimeout(() => whenReady(test, then, tries + 1), 20);
  }

  // Bokeh makes each plot's event layer focusable (tabindex 0) for its keyboard tools, without a name:
  // give it the role of an image and a name, so Tab lands on something a screen reader can announce.
  function labelPlots(root) {
    const name = root.querySelector(".optlib-explorer-live").getAttribute("aria-label") || "explorer";
    let labelled = 0;
    const walk = (node) => {
      for (const element of node.querySelectorAll("*")) {
        if (element.matches(".bk-events[tabindex]")) {
          if (!element.hasAttribute("aria-label")) {
            element.setAttribute("role", "img");
            element.setAttribute("aria-label", `plot of the ${name}; its data are in the table below`);
          }
          labelled += 1;
        }
        if (element.shadowRoot) walk(element.shadowRoot);
      }
    };
    walk(root);
    return labelled;
  }

  // Style work of BokehJS 3.9 that cost a redraw more than the drawing (Chromium's profiler and trace, chapter
  // 14's explorer: 4.3 of 13 ms of Bokeh's paint, then 3.2 of 8.7; chapter 1's: 6.8 of 25 ms), spared here:
  // * unchanged-sheets: every renderer rewrites its element's position stylesheet at every paint, most often
  //   with the same text; each rewrite makes the browser recompute the page's styles at the next text Bokeh
  //   draws (setting a canvas's font reads styles), about 1 ms each. A sheet is rewritten only when its text
  //   changes.
  // * lines-placed-after-frame: each line's renderer has an element of its own, empty and transparent to the
  //   pointer, which Bokeh moves to the line's bounding box at every paint: again a rewritten stylesheet and
  //   a recomputation of styles per line, in the middle of the paint. These elements are moved after the
  //   frame, all at once.
  // * axis-room: an axis measures its tick labels at every paint, and when their width changes (axes that
  //   follow the data: "0.5" then "200") the whole plot is laid out again, its elements moved and the page's
  //   styles recomputed (chapter 1: 4 ms of a move). The measure is kept while the axis's range stays, and
  //   the room an axis takes (rounded up to AXIS_STEP pixels) only grows: the frame stays put while the
  //   reader drags (no jitter), and the plot is laid out again only when the labels need more room.
  // * no-css-visuals: a page's CSS may restyle Bokeh's plots through custom properties (--bk-text-color and
  //   the like): every visual property Bokeh reads while painting (each tick label's colour, font,
  //   alignment) first asks getComputedStyle for one. The book sets none (nor does Bokeh's own CSS), so the
  //   answer is always "" and the model's value is used.
  // * font-size-once: each plot reads its font size (13px, fixed by Bokeh's stylesheet) from
  //   getComputedStyle at every paint, which makes the browser recompute the page's styles once per plot:
  //   read once per plot.
  const AXIS_STEP = 8;
  // Each spare changes one prototype of BokehJS 3.9 (the version requirements.txt pins) and returns true once
  // applied; the names of those applied are on <html data-optlib-bokeh-spared>, which the site's tests read.
  // Another BokehJS may lack what a spare changes: that spare is skipped and the explorers work, only slower.
  const SPARES = {
    "unchanged-sheets": () => {
      const sheet = Bokeh.require("core/dom").InlineStyleSheet.prototype;
      const rewrite = sheet._update;
      if (typeof rewrite !== "function") return false;
      sheet._update = function (css) {
        if (this.el.textContent !== css) rewrite.call(this, css);
      };
      return true;
    },
    "lines-placed-after-frame": () => {
      const glyphs = Bokeh.require("models/renderers/glyph_renderer").GlyphRendererView.prototype;
      const place = glyphs.update_position;
      if (typeof place !== "function") return false;
      const unplaced = new Set();
      glyphs.update_position = function () {
        if (!unplaced.size) {
          setTimeout(() => {
            const views = [...unplaced];
            unplaced.clear();
            for (const view of views) place.call(view);
          }, 0);
        }
        unplaced.add(this);
      };
      return true;
    },
    "axis-room": () => {
      const axis = Bokeh.require("models/axes/axis").AxisView.prototype;
      const extents = Object.getOwnPropertyDescriptor(axis, "extents");
      const depth = axis.get_size;
      if (!(extents && extents.get && typeof depth === "function")) return false;
      Object.defineProperty(axis, "extents", {
        configurable: true,
        get() {
          const [range] = this.ranges;
          const key = `${range.start} ${range.end}`;
          if (this.optlibExtentsKey !== key) {
            this.optlibExtents = extents.get.call(this);
            this.optlibExtentsKey = key;
          }
          return this.optlibExtents;
        },
      });
      axis.get_size = function () {
        const size = depth.call(this);
        if (size.height === 0) return size;
        this.optlibDepth = Math.max(this.optlibDepth || 0, Math.ceil(size.height / AXIS_STEP) * AXIS_STEP);
        return { width: size.width, height: this.optlibDepth };
      };
      return true;
    },
    "no-css-visuals": () => {
      const visual = Bokeh.require("core/visuals/visual").VisualProperties.prototype;
      if (typeof visual._get_css_value !== "function") return false;
      visual._get_css_value = () => "";
      return true;
    },
    "font-size-once": () => {
      const plot = Bokeh.require("models/plots/plot_canvas").PlotView.prototype;
      const fontSize = Object.getOwnPropertyDescriptor(plot, "base_font_size");
      if (!(fontSize && fontSize.get)) return false;
      Object.defineProperty(plot, "base_font_size", {
        configurable: true,
        get() {
          if (this.optlibFontSize === undefined) this.optlibFontSize = fontSize.get.call(this);
          return this.optlibFontSize;
        },
      });
      return true;
    },
  };
  function spareBokehStyleWork() {
    const applied = Object.keys(SPARES).filter((name) => {
      try {
        return SPARES[name]();
      } catch (error) {
        return false;   // a module this BokehJS does not have
      }
    });
    document.documentElement.dataset.optlibBokehSpared = applied.join(" ");
  }

  function startAll() {
    document.documentElement.classList.add("optlib-js");
    if (window.Bokeh && Bokeh.require) spareBokehStyleWork();
    for (const root of document.querySelectorAll(".optlib-explorer")) {
      start(root).catch((error) => console.error("optlib explorer", root.id, error));
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
  else startAll();
})();
