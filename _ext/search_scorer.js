// The website's search ranking (Sphinx's html_search_scorer; Sphinx puts it into language_data.js).
// Sphinx's own scores (sphinx/themes/basic/static/searchtools.js, Sphinx 7.4), plus one rule: a page whose
// own title names the query ranks above pages that only mention it, or name it in a section title
// (a search for "Nesterov" opens on "Nesterov's accelerated gradient", not on a section of another chapter).
var Scorer = {
  score: (result) => {
    const [docname, title, anchor, descr, score] = result;
    const query = (new URLSearchParams(window.location.search).get("q") || "").toLowerCase().trim();
    const ownTitle = !title.includes(" > ");  // "Page > Section" for a section's title
    return query && ownTitle && title.toLowerCase().includes(query) ? score + 20 : score;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: {0: 15, 1: 5, 2: -5},
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
