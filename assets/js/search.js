/* Search by paper, over the Pagefind index of the paper pages (digest_cli/site/pages.py).
 *
 * A small pre-step turns the reader's query into the words the pages were indexed with:
 *  - an arXiv id (2602.23333, arXiv:2602.23333v2, hep-th/9901001) becomes the one token
 *    only its paper has (`arxiv260223333`), so the paper comes first;
 *  - Chinese runs become their two-character tokens (`zh` + two code points in hex), which
 *    the page carries for its Chinese text: 声码器 then finds exactly the papers that have
 *    声码 and 码器 (so, in practice, 声码器), quoted or not, instead of 声 or 器 alone;
 *  - other words are left to Pagefind.
 * Every text shown comes from the index and is set as text, never as HTML.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  var bundle = script.getAttribute('data-bundle');
  var CJK = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/g;
  var NEW_ID = /^(?:arxiv[:\s]*)?(\d{4})\.(\d{4,5})(?:v\d+)?$/i;
  var OLD_ID = /^(?:arxiv[:\s]*)?([a-z][a-z\-]*(?:\.[a-z]{2})?)\/(\d{7})(?:v\d+)?$/i;

  function hex(ch) { return ('0000' + ch.charCodeAt(0).toString(16)).slice(-4); }

  function bigrams(run) {
    if (run.length === 1) { return [run]; }
    var out = [];
    for (var i = 0; i + 1 < run.length; i++) {
      var token = 'zh' + hex(run[i]) + hex(run[i + 1]);
      if (out.indexOf(token) < 0) { out.push(token); }
    }
    return out;
  }

  function idToken(query) {
    var m = NEW_ID.exec(query) || OLD_ID.exec(query);
    return m ? 'arxiv' + (m[1] + m[2]).toLowerCase().replace(/[^a-z0-9]/g, '') : null;
  }

  /* The query Pagefind is given. */
  function prepare(query) {
    query = query.trim();
    var id = idToken(query);
    if (id) { return id; }
    var words = [];
    query.replace(/["'“”‘’「」『』]/g, ' ').split(/\s+/).forEach(function (word) {
      if (!word) { return; }
      var rest = word.replace(CJK, function (run) {
        words.push.apply(words, bigrams(run));
        return ' ';
      });
      rest.split(/\s+/).forEach(function (w) { if (w) { words.push(w); } });
    });
    return words.join(' ');
  }
  window.digestSearchQuery = prepare;

  var form = document.getElementById('search-form');
  var input = document.getElementById('search-q');
  var topic = document.getElementById('search-topic');
  var month = document.getElementById('search-month');
  var status = document.getElementById('search-status');
  var list = document.getElementById('search-results');
  var pagefind = null;
  var known = { topic: {}, month: {} };  // filter values the index has
  var serial = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function fillSelect(select, values, chosen) {
    Object.keys(values || {}).sort().forEach(function (value) {
      var option = el('option', '', value + '（' + values[value] + '）');
      option.value = value;
      select.appendChild(option);
    });
    if (select.id === 'search-month') {  // newest month first
      var options = [].slice.call(select.options, 1).reverse();
      options.forEach(function (o) { select.appendChild(o); });
    }
    if (chosen) {
      if (!(chosen in (values || {}))) {  // keep a linked value the index lacks: it finds none
        var missing = el('option', '', chosen);
        missing.value = chosen;
        select.appendChild(missing);
      }
      select.value = chosen;
    }
  }

  var PAGE = 10;  // results shown at a time (each fetches its fragment); 显示更多: the next
  var more = document.getElementById('search-more');
  var current = [];

  function show(data, append) {
    if (!append) { list.textContent = ''; }
    data.forEach(function (page) {
      var item = el('li', 'search-result');
      var link = el('a', 'search-result-link', page.meta.title || page.url);
      link.href = page.url;
      var head = el('p', 'search-result-title');
      head.appendChild(link);
      item.appendChild(head);
      if (page.meta.en) {
        var en = el('p', 'search-result-en', page.meta.en);
        en.lang = 'en';
        item.appendChild(en);
      }
      var line = [page.meta.id, page.meta.date].filter(Boolean).join(' · ');
      if (line) { item.appendChild(el('p', 'search-result-meta', line)); }
      if (page.meta.summary) { item.appendChild(el('p', 'search-result-summary', page.meta.summary)); }
      list.appendChild(item);
    });
  }

  async function run(push) {
    var query = input.value.trim();
    var filters = {};
    if (topic.value) { filters.topic = topic.value; }
    if (month.value) { filters.month = month.value; }
    if (push) {
      var params = new URLSearchParams();
      if (query) { params.set('q', query); }
      if (topic.value) { params.set('topic', topic.value); }
      if (month.value) { params.set('month', month.value); }
      history.replaceState(null, '', '?' + params.toString());
    }
    var mine = ++serial;
    if (!query && !filters.topic && !filters.month) {
      list.textContent = '';
      status.textContent = '';
      return;
    }
    status.textContent = '搜索中…';
    var none = Object.keys(filters).some(function (k) { return !(filters[k] in known[k]); });
    var search = none ? { results: [] }  // a month or topic without papers (a linked URL)
      : await pagefind.search(query ? prepare(query) : null, { filters: filters });
    if (!none && query && idToken(query) && !search.results.length) {
      // an id-shaped query no paper has (a part of an id): Pagefind's prefix match
      search = await pagefind.search(query, { filters: filters });
    }
    var data = await Promise.all(search.results.slice(0, PAGE).map(function (r) { return r.data(); }));
    if (mine !== serial) { return; }
    current = search.results;
    show(data, false);
    var total = current.length;
    status.textContent = total ? ('找到 ' + total + ' 篇论文') : '没有找到 “' + query + '”';
    more.hidden = total <= PAGE;
  }

  async function showMore() {
    var from = list.children.length;
    var data = await Promise.all(current.slice(from, from + PAGE).map(function (r) { return r.data(); }));
    show(data, true);
    more.hidden = list.children.length >= current.length;
  }

  async function start() {
    pagefind = await import(bundle + 'pagefind.js');
    await pagefind.options({ excerptLength: 30 });
    await pagefind.init();
    var params = new URLSearchParams(location.search);
    var filters = await pagefind.filters();
    known = { topic: filters.topic || {}, month: filters.month || {} };
    fillSelect(topic, filters.topic, params.get('topic'));
    fillSelect(month, filters.month, params.get('month'));
    input.value = params.get('q') || '';
    form.addEventListener('submit', function (e) { e.preventDefault(); run(true); });
    more.addEventListener('click', showMore);
    topic.addEventListener('change', function () { run(true); });
    month.addEventListener('change', function () { run(true); });
    await run(false);
    document.documentElement.setAttribute('data-search-ready', '1');
  }
  start().catch(function (error) {
    status.textContent = '搜索暂不可用：' + error.message;
  });
})();
