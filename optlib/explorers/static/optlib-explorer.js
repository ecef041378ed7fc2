/* optlib explorers on the website: copy the precomputed data of the chosen setting into Bokeh's sources.
 *
 * Every number was computed by optlib when the book was built (optlib/explorers/site.py); this script only
 * decodes them and selects the ones of the setting the controls name. Served once from _static.
 */
(function () {
  "use strict";

  async function decodePool(base64) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    const shuffled = new Uint8Array(await new Response(stream).arrayBuffer());
    const n = shuffled.length / 8;
    const out = new Uint8Array(shuffled.length);
    for (let b = 0; b < 8; b++) {
      const plane = b * n;
      for (let i = 0; i < n; i++) out[i * 8 + b] = shuffled[plane + i];
    }
    return new Float64Array(out.buffer);
  }

  const models = new Map();
  function findModel(name) {
    if (models.has(name)) return models.get(name);
    for (const doc of (window.Bokeh && Bokeh.documents) || []) {
      const model = doc.get_model_by_name(name);
      if (model) { models.set(name, model); return model; }
    }
    return null;
  }

  function whenReady(test, then, tries) {
    if (test()) { then(); return; }
    if (tries > 600) { console.warn("optlib explorer: Bokeh document not found"); return; }
    setTimeout(() => whenReady(test, then, tries + 1), 20);
  }

  async function start(root) {
    const spec = JSON.parse(root.querySelector("script.optlib-explorer-data").textContent);
    const uid = root.id;
    const pool = await decodePool(spec.pool);
    const array = (i) => (i < 0 ? new Float64Array(0) : pool.subarray(spec.offsets[i], spec.offsets[i + 1]));
    const inputs = Array.from(root.querySelectorAll("[data-control]"));
    const title = root.querySelector(".optlib-explorer-title");
    const legend = root.querySelector(".optlib-explorer-legend");

    function settingIndex() {
      let index = 0;
      inputs.forEach((input, i) => { index += Number(input.value) * spec.strides[i]; });
      return index;
    }

    // A setting's row: each slot's entry, looked up by the controls that slot depends on.
    function settingRow() {
      const chosen = inputs.map((input) => Number(input.value));
      const row = [];
      for (const slot of spec.slots) {
        let index = 0;
        slot.dims.forEach((d, i) => { index += chosen[d] * slot.strides[i]; });
        const value = slot.values[index];
        if (Array.isArray(value)) row.push(...value); else row.push(value);
      }
      return row;
    }

    const shown = {};  // what each source holds now: only sources whose data change are touched
    function render(index) {
      const row = settingRow();
      title.textContent = spec.strings[row[0]];
      let position = 1;
      for (const panel of spec.contour_panels) {
        const which = row[position++];
        if (shown[`contour${panel}`] === which) continue;
        shown[`contour${panel}`] = which;
        const entry = spec.contours[which];
        findModel(`${uid}:contour${panel}`).data = { x: array(entry[0]), y: array(entry[1]) };
        findModel(`${uid}:minima${panel}`).data = { x: array(entry[2]), y: array(entry[3]) };
        findModel(`${uid}:xrange${panel}`).setv({ start: entry[4], end: entry[5] });
        findModel(`${uid}:yrange${panel}`).setv({ start: entry[6], end: entry[7] });
      }
      const items = [];
      for (const line of spec.lines) {
        const [xi, yi, y2i, label, color] = row.slice(position, position + 5);
        position += 5;
        const text = label < 0 ? "" : spec.strings[label];
        const state = [xi, yi, y2i, label, color].join();
        if (line.legend && text && xi >= 0) items.push([text, spec.strings[color], line.dash]);
        if (shown[line.key] === state) continue;
        shown[line.key] = state;
        const x = array(xi), y = array(yi);
        const data = { x: x, y: y, step: Float64Array.from(x, (_, i) => i), label: new Array(x.length).fill(text) };
        if (line.style === "band") data.y2 = array(y2i);
        findModel(`${uid}:${line.key}`).data = data;
        if (color >= 0) {
          const colour = spec.strings[color];
          for (const suffix of [":line", ":markers", ":band"]) {
            const renderer = findModel(`${uid}:${line.key}${suffix}`);
            if (renderer === null) continue;
            for (const prop of ["line_color", "fill_color"]) {
              if (prop in renderer.glyph.properties) renderer.glyph[prop] = colour;
            }
          }
        }
      }
      legend.replaceChildren(...items.map(([text, colour, dash]) => {
        const li = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = "optlib-explorer-swatch";
        swatch.style.borderTopColor = colour;
        swatch.style.borderTopStyle = dash === "solid" ? "solid" : dash;
        li.append(swatch, document.createTextNode(text));
        return li;
      }));
      root.dataset.setting = String(index);
    }

    inputs.forEach((input, i) => {
      input.disabled = false;
      input.addEventListener("input", () => {
        const control = spec.controls[i];
        const shown = control.values[Number(input.value)];
        if (input.type === "range") {
          input.setAttribute("aria-valuetext", shown);
          const output = input.parentElement.querySelector("output");
          if (output) output.textContent = shown;
        }
        render(settingIndex());
      });
    });
    whenReady(() => findModel(`${uid}:${spec.lines[0].key}`) !== null, () => {
      render(settingIndex());
      root.classList.add("optlib-explorer-ready");
      whenReady(() => labelPlots(root) > 0, () => {}, 0);  // Bokeh may add its views a frame later
    }, 0);
  }

  // Bokeh makes each plot's event layer focusable (tabindex 0) for its keyboard tools, without a name:
  // give it the role of an image and a name, so Tab lands on something a screen reader can announce.
  function labelPlots(root) {
    const title = (root.querySelector(".optlib-explorer-title") || {}).textContent || "";
    let labelled = 0;
    const walk = (node) => {
      for (const element of node.querySelectorAll("*")) {
        if (element.matches(".bk-events[tabindex]")) {
          if (!element.hasAttribute("aria-label")) {
            element.setAttribute("role", "img");
            element.setAttribute("aria-label", `plot of the explorer${title ? ": " + title : ""}`);
          }
          labelled += 1;
        }
        if (element.shadowRoot) walk(element.shadowRoot);
      }
    };
    walk(root);
    return labelled;
  }

  function startAll() {
    document.documentElement.classList.add("optlib-js");
    for (const root of document.querySelectorAll(".optlib-explorer")) {
      start(root).catch((error) => console.error("optlib explorer", root.id, error));
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAll);
  else startAll();
})();
