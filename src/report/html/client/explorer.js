/* global document */
// The sample explorer: filters by evaluation, subset and outcome, and builds one page of samples at a time, so
// that a run of 10,000 samples opens as fast as one of 100. Texts are set as text, never as markup.
(() => {
  const data = JSON.parse(document.getElementById('explorer-data').textContent);
  const byId = (id) => document.getElementById(id);
  const evalSelect = byId('explorer-eval');
  const subsetSelect = byId('explorer-subset');
  const list = byId('explorer-list');
  const status = byId('explorer-status');
  const pageLabel = byId('explorer-page');
  const previous = byId('explorer-prev');
  const next = byId('explorer-next');
  const filterButtons = [...document.querySelectorAll('#explorer [data-filter]')];

  const OUTCOMES = {
    all: () => true,
    correct: (sample) => sample.correct,
    wrong: (sample) => !sample.correct,
    truncated: (sample) => sample.truncated,
    error: (sample) => sample.error !== null,
    flipped: (sample) => sample.flipped !== null,
  };
  const state = { evalIndex: 0, subset: '', filter: 'all', page: 0 };

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function option(value, label) {
    const node = element('option', null, label);
    node.value = value;
    return node;
  }

  function labelled(title, text, className) {
    const block = element('div', className);
    block.append(element('h4', null, title), element('pre', null, text.trim()));
    return block;
  }

  function badges(sample) {
    const result = [
      element(
        'span',
        `badge badge-${sample.correct ? 'correct' : 'wrong'}`,
        sample.correct ? 'correct' : 'wrong',
      ),
    ];
    if (sample.truncated) result.push(element('span', 'badge badge-truncated', 'truncated'));
    if (sample.error !== null) result.push(element('span', 'badge badge-error', 'error'));
    if (sample.flipped) {
      const before = `${sample.flipped.correct ? 'right' : 'wrong'}, answer ${sample.flipped.extracted ?? '–'}`;
      result.push(element('span', 'badge badge-flipped', `flipped (was ${before})`));
    }
    return result;
  }

  function sampleItem(sample) {
    const item = element('li', 'sample');
    item.dataset.id = sample.id;
    const header = element('div', 'sample-header');
    header.append(
      element('span', 'sample-id', sample.id),
      element('span', 'subset', sample.subset),
      ...badges(sample),
      element('span', 'letters', `extracted ${sample.extracted ?? '–'} · gold ${sample.gold}`),
    );
    const texts = element('div', 'texts');
    texts.append(
      labelled('Prompt', sample.prompt, 'prompt'),
      labelled('Answer', sample.content ?? '(no answer)', 'answer'),
    );
    item.append(header, texts);
    if (sample.reasoning) {
      const reasoning = element('details', 'reasoning');
      reasoning.append(element('summary', null, 'Reasoning'), element('pre', null, sample.reasoning.trim()));
      item.append(reasoning);
    }
    if (sample.error !== null) item.append(labelled('Error', sample.error, 'sample-error'));
    const tokens = sample.tokens === null ? '–' : sample.tokens;
    item.append(
      element('p', 'meta', `latency ${Math.round(sample.latency_ms)} ms · ${tokens} output tokens`),
    );
    return item;
  }

  function samplesOfSubset() {
    const samples = data.evals[state.evalIndex].samples;
    return state.subset ? samples.filter((sample) => sample.subset === state.subset) : samples;
  }

  function render() {
    const current = data.evals[state.evalIndex];
    const pool = samplesOfSubset();
    for (const button of filterButtons) {
      const filter = button.dataset.filter;
      button.querySelector('.count').textContent = `(${pool.filter(OUTCOMES[filter]).length})`;
      button.setAttribute('aria-pressed', String(filter === state.filter));
      button.disabled = filter === 'flipped' && !current.compared;
    }
    const matching = pool.filter(OUTCOMES[state.filter]);
    const pages = Math.max(1, Math.ceil(matching.length / data.pageSize));
    state.page = Math.min(state.page, pages - 1);
    const start = state.page * data.pageSize;
    const shown = matching.slice(start, start + data.pageSize);
    list.replaceChildren(...shown.map(sampleItem));
    list.dataset.matching = String(matching.length);
    status.textContent =
      matching.length === 0
        ? 'No sample matches.'
        : `Samples ${start + 1}–${start + shown.length} of ${matching.length} (${state.filter})`;
    pageLabel.textContent = `page ${state.page + 1} of ${pages}`;
    previous.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
  }

  function fillSubsets() {
    const subsets = data.evals[state.evalIndex].subsets;
    subsetSelect.replaceChildren(
      option('', 'all subsets'),
      ...subsets.map((subset) => option(subset, subset)),
    );
  }

  evalSelect.replaceChildren(
    ...data.evals.map((evaluation, index) => option(String(index), evaluation.name)),
  );
  evalSelect.disabled = data.evals.length < 2;
  evalSelect.addEventListener('change', () => {
    Object.assign(state, { evalIndex: Number(evalSelect.value), subset: '', filter: 'all', page: 0 });
    fillSubsets();
    render();
  });
  subsetSelect.addEventListener('change', () => {
    Object.assign(state, { subset: subsetSelect.value, page: 0 });
    render();
  });
  for (const button of filterButtons) {
    button.addEventListener('click', () => {
      Object.assign(state, { filter: button.dataset.filter, page: 0 });
      render();
    });
  }
  previous.addEventListener('click', () => {
    state.page -= 1;
    render();
  });
  next.addEventListener('click', () => {
    state.page += 1;
    render();
  });

  if (data.evals.length === 0) {
    status.textContent = 'This run has no samples.';
    for (const control of [evalSelect, subsetSelect, previous, next, ...filterButtons])
      control.disabled = true;
    return;
  }
  fillSubsets();
  render();
})();
