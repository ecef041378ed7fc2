// optlib-citations: a JupyterLab extension (plain JavaScript, no build step) for `make lab`.
//
// jupyterlab-myst 2.7 renders a {cite} role as its bare key with a warning icon, in a
// <span title="Citation Not Found">, because it reads no bibliography. This plugin reads the book's
// references.bib (`make lab` serves the book's folder: files/references.bib) and marks each such span
// with the author-year label ("Polyak, 1964") and the full reference as its tooltip; a stylesheet
// shows the label in place of the key and icon, a group as "(Robbins and Monro, 1951; Bottou et al., 2018)"
// as the website's author_year style does. It only adds attributes: jupyterlab-myst's React
// rendering is left intact.
//
// The file is a module-federation container in the form JupyterLab's loader expects:
// window._JUPYTERLAB[name] = {init(shareScope), get(module) -> factory}.
(function () {
  'use strict';
  const NAME = 'optlib-citations';
  const CONFIG = JSON.parse(document.getElementById('jupyter-config-data').textContent);
  const BIB_URL = new URL(`${CONFIG.baseUrl || '/'}files/references.bib`, window.location.origin).href;
  const MARK = 'data-optlib-cite';

  // LaTeX accents and braces as they appear in references.bib, to plain Unicode text.
  const ACCENTS = { "'": '\u0301', '`': '\u0300', '^': '\u0302', '"': '\u0308', '~': '\u0303', 'c': '\u0327' };
  function plain(text) {
    return text
      .replace(/\\([`'^"~c])\s*\{?\\?([A-Za-z])\}?/g, (_, accent, letter) => letter + ACCENTS[accent])
      .replace(/--/g, '\u2013')
      .replace(/[{}]/g, '')
      .replace(/\s+/g, ' ')
      .trim()
      .normalize('NFC');
  }

  // A field's value: {braced, possibly {nested}}, "quoted" or a bare word/number.
  function readValue(text, start) {
    let i = start;
    while (/\s/.test(text[i])) i++;
    if (text[i] === '{' || text[i] === '"') {
      const close = text[i] === '{' ? '}' : '"';
      let depth = 0;
      for (let j = i; j < text.length; j++) {
        if (text[j] === '{') depth++;
        else if (text[j] === '}') depth--;
        if ((close === '}' && depth === 0) || (close === '"' && j > i && text[j] === '"' && depth === 0)) {
          return [text.slice(i + 1, j), j + 1];
        }
      }
      return [text.slice(i + 1), text.length];
    }
    const match = /^[^,}\s]+/.exec(text.slice(i));
    return [match ? match[0] : '', i + (match ? match[0].length : 0)];
  }

  // key -> {label, reference} for every entry of a BibTeX file.
  function parseBibtex(text) {
    const entries = {};
    const head = /@\s*(\w+)\s*\{\s*([^,\s]+)\s*,/g;
    let match;
    while ((match = head.exec(text))) {
      const fields = {};
      let i = head.lastIndex;
      const field = /\s*,?\s*([A-Za-z][\w-]*)\s*=\s*/y;
      for (;;) {
        field.lastIndex = i;
        const name = field.exec(text);
        if (!name) break;
        const [value, next] = readValue(text, field.lastIndex);
        fields[name[1].toLowerCase()] = plain(value);
        i = next;
      }
      head.lastIndex = i;
      const authors = (fields.author || fields.editor || '').split(/\s+and\s+/).filter(Boolean)
        .map(name => (name.includes(',') ? name.split(',')[0] : name.split(' ').pop()).trim());
      const who = authors.length > 2 ? `${authors[0]} et al.`
        : authors.length === 2 ? `${authors[0]} and ${authors[1]}` : authors[0] || match[2];
      const label = `${who}, ${fields.year || 'n.d.'}`;
      const where = fields.journal || fields.booktitle || fields.publisher || fields.howpublished || '';
      const reference = `${fields.author || who} (${fields.year || 'n.d.'}). ${fields.title || ''}.`
        + (where ? ` ${where}.` : '');
      entries[match[2]] = { label, reference };
    }
    return entries;
  }

  // !important: jupyterlab-myst's own stylesheet puts separators in a cite group's ::after.
  const STYLE = `
span[${MARK}] { color: inherit !important; font-size: 0 !important; }
span[${MARK}] > svg { display: none !important; }
span[${MARK}]::after { content: attr(${MARK}) !important; font-size: var(--jp-content-font-size1, 14px); }
span[${MARK}]::before { content: none !important; }
span[${MARK}] + span[${MARK}]::before { content: '; ' !important; font-size: var(--jp-content-font-size1, 14px); }
.cite-group:has(> span[${MARK}])::before { content: '(' !important; }
.cite-group:has(> span[${MARK}])::after { content: ')' !important; }
`;

  function mark(bibliography, root) {
    for (const span of root.querySelectorAll(`span[title="Citation Not Found"]:not([${MARK}])`)) {
      const entry = bibliography[span.textContent.trim()];
      if (entry) {
        span.setAttribute(MARK, entry.label);
        span.setAttribute('title', entry.reference);
      }
    }
  }

  const plugin = {
    id: `${NAME}:plugin`,
    description: "Shows the book's citation keys as author-year labels from references.bib",
    autoStart: true,
    activate: () => {
      const style = document.createElement('style');
      style.textContent = STYLE;
      document.head.appendChild(style);
      fetch(BIB_URL)
        .then(response => (response.ok ? response.text() : Promise.reject(new Error(`${BIB_URL}: ${response.status}`))))
        .then(text => {
          const bibliography = parseBibtex(text);
          window.optlibBibliography = bibliography;  // read by tests/test_lab.py
          mark(bibliography, document.body);
          new MutationObserver(() => mark(bibliography, document.body))
            .observe(document.body, { childList: true, subtree: true, characterData: true });
        })
        .catch(error => console.error(`${NAME}: cannot read the bibliography`, error));
    }
  };

  window._JUPYTERLAB = window._JUPYTERLAB || {};
  window._JUPYTERLAB[NAME] = {
    init: () => Promise.resolve(),
    get: module => Promise.resolve(() => ({ __esModule: true, default: [plugin] }))
  };
})();
