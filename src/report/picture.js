// kubereach's reachability picture. The page must work offline from one file, so the graph is
// embedded above as JSON and drawn here with plain SVG elements; names from the manifests only
// ever reach the page as text nodes and attribute values, never as markup.
(function () {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  // Thousands of curves give a picture no one can read and a page that barely scrolls: above this
  // many, connections are drawn only for the selected workload.
  const MAX_DRAWN_EDGES = 4000;
  // Above this many, a selection draws no port labels: they would cover each other.
  const MAX_EDGE_LABELS = 150;
  const NODE_W = 196, NODE_H = 40, GAP = 10, PAD = 14, HEAD = 30, COL_GAP = 130, BOX_GAP = 26, MARGIN = 20;
  const LABEL_CHARS = 27;

  const data = JSON.parse(document.getElementById('kubereach-data').textContent);
  const svg = document.getElementById('graph');
  const canvas = document.getElementById('canvas');
  const panel = document.getElementById('panel');
  const search = document.getElementById('search');
  const layers = {
    boxes: document.getElementById('layer-boxes'),
    edges: document.getElementById('layer-edges'),
    nodes: document.getElementById('layer-nodes'),
    labels: document.getElementById('layer-labels'),
  };

  // ---- The model: nodes (workloads, then the endpoints outside namespaces) and edges.
  const nodes = [];
  for (const w of data.workloads) {
    nodes.push({ name: w.name, label: w.label, kind: w.kind, namespace: w.namespace, type: 'workload' });
  }
  for (const o of data.outside) {
    nodes[o.id] = { name: o.name, label: o.label, kind: o.kind, namespace: null, type: o.type };
  }
  const edges = [];
  for (const [src, dst, conns] of data.edges) {
    edges.push({ src, dst, conns, entry: false, level: null });
  }
  let internet = null;
  if (data.entries.length > 0) {
    internet = nodes.length;
    nodes.push({ name: '{internet}', label: '{internet}', kind: 'any client', namespace: null, type: 'internet' });
    for (const [peer, label, level] of data.entries) {
      edges.push({ src: internet, dst: peer, conns: label, entry: true, level });
      nodes[peer].exposed = true;
    }
  }
  for (const n of nodes) {
    n.out = [];
    n.in = [];
    n.entries = [];
  }
  edges.forEach((e, i) => {
    nodes[e.src].out.push(i);
    nodes[e.dst].in.push(i);
    if (e.entry) nodes[e.dst].entries.push(i);
  });
  const connectionCount = data.edges.length;
  const drawAll = connectionCount <= MAX_DRAWN_EDGES;

  // ---- Layout: an "outside the cluster" column, then namespace boxes packed into columns.
  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  const boxes = [];
  const outsideMembers = nodes.map((n, i) => i).filter((i) => nodes[i].type !== 'workload');
  // {internet} first, then the controller, then address ranges in graph order.
  const outsideRank = { internet: 0, 'ingress-controller': 1, gateway: 1, external: 2 };
  outsideMembers.sort((a, b) => outsideRank[nodes[a].type] - outsideRank[nodes[b].type] || a - b);
  const outsideBox = outsideMembers.length > 0 ? { title: 'outside the cluster', namespace: null, members: outsideMembers } : null;
  const namespaceBoxes = [];
  for (let i = 0; i < data.workloads.length; ) {
    const namespace = nodes[i].namespace;
    const members = [];
    while (i < data.workloads.length && nodes[i].namespace === namespace) members.push(i++);
    namespaceBoxes.push({ title: namespace, namespace, members });
  }
  if (outsideBox) boxes.push(outsideBox);
  boxes.push(...namespaceBoxes);
  for (const b of boxes) {
    const n = b.members.length;
    b.cols = n <= 8 ? 1 : Math.ceil(Math.sqrt(n / 4));
    b.rows = Math.ceil(n / b.cols);
    b.w = b.cols * NODE_W + (b.cols - 1) * GAP + 2 * PAD;
    b.h = HEAD + b.rows * NODE_H + (b.rows - 1) * GAP + PAD;
  }

  // The outside endpoints get a column of their own on the left; namespace boxes are packed
  // greedily into the shortest of the other columns, and the column count is the one whose
  // drawing is closest to the proportions of a wide screen less the side panel. Deterministic:
  // ties go left.
  const left = outsideBox ? outsideBox.w + COL_GAP : 0;
  function pack(ncols) {
    const heights = new Array(ncols).fill(0);
    const widths = new Array(ncols).fill(0);
    const where = [];
    for (const b of namespaceBoxes) {
      let c = 0;
      for (let k = 1; k < ncols; k++) if (heights[k] < heights[c]) c = k;
      where.push([c, heights[c]]);
      heights[c] += b.h + BOX_GAP;
      widths[c] = Math.max(widths[c], b.w);
    }
    const w = left + widths.reduce((s, x) => s + x, 0) + (ncols - 1) * COL_GAP;
    const h = Math.max(outsideBox ? outsideBox.h : 0, Math.max(...heights) - BOX_GAP);
    return { ncols, where, widths, w, h };
  }
  let best = null;
  for (let ncols = 1; ncols <= Math.min(namespaceBoxes.length, 60); ncols++) {
    const p = pack(ncols);
    p.score = Math.abs(Math.log(p.w / p.h / 1.3));
    if (best === null || p.score < best.score - 1e-9) best = p;
  }
  function place(b, x, y) {
    b.x = x;
    b.y = y;
    b.members.forEach((m, k) => {
      const col = Math.floor(k / b.rows), row = k % b.rows;
      nodes[m].x = b.x + PAD + col * (NODE_W + GAP);
      nodes[m].y = b.y + HEAD + row * (NODE_H + GAP);
    });
  }
  // Room on the right for the loops between boxes of the last column.
  let width = 2 * MARGIN + 120, height = 2 * MARGIN;
  if (outsideBox) {
    place(outsideBox, MARGIN, MARGIN);
    width += outsideBox.w;
    height += outsideBox.h;
  }
  if (best) {
    const colX = [MARGIN + left];
    for (let c = 1; c < best.ncols; c++) colX.push(colX[c - 1] + best.widths[c - 1] + COL_GAP);
    namespaceBoxes.forEach((b, i) => {
      const [c, y] = best.where[i];
      place(b, colX[c], MARGIN + y);
    });
    width = 2 * MARGIN + 120 + best.w;
    height = 2 * MARGIN + best.h;
  }

  // ---- Drawing
  function shorten(s) {
    return s.length > LABEL_CHARS ? s.slice(0, LABEL_CHARS - 1) + '\u2026' : s;
  }

  for (const b of boxes) {
    const g = el('g', { class: b.namespace === null ? 'box outside' : 'box', transform: `translate(${b.x},${b.y})` }, layers.boxes);
    if (b.namespace !== null) g.setAttribute('data-namespace', b.namespace);
    el('rect', { width: b.w, height: b.h, rx: 10 }, g);
    const t = el('text', { x: PAD, y: 20 }, g);
    t.textContent = shorten(b.title);
    el('title', {}, g).textContent = b.namespace === null ? b.title : `namespace ${b.title}`;
  }

  nodes.forEach((n, i) => {
    const cls = ['node', n.type];
    if (n.exposed) cls.push('exposed');
    const g = el('g', { class: cls.join(' '), transform: `translate(${n.x},${n.y})` }, layers.nodes);
    g.setAttribute('data-node', n.name);
    g.setAttribute('data-index', i);
    el('rect', { width: NODE_W, height: NODE_H, rx: n.type === 'workload' ? 6 : 18 }, g);
    const label = el('text', { class: 'label', x: 10, y: 17 }, g);
    label.textContent = shorten(n.label);
    const kind = el('text', { class: 'kind', x: 10, y: 32 }, g);
    kind.textContent = describeKind(n);
    el('title', {}, g).textContent = n.name;
    n.el = g;
  });

  function describeKind(n) {
    if (n.type === 'external' && n.label === '0.0.0.0-255.255.255.255') return 'External: any IPv4 address';
    if (n.type === 'external' && n.label === '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff') return 'External: any IPv6 address';
    if (n.type === 'ingress-controller') return 'entry of Ingresses and Routes';
    if (n.type === 'gateway') return 'Gateway: entry of its routes';
    return n.kind;
  }

  function geometry(e) {
    const a = nodes[e.src], b = nodes[e.dst];
    let ay = a.y + NODE_H / 2, by = b.y + NODE_H / 2;
    let x1, x2, c1, c2;
    if (b.x > a.x + NODE_W / 2) {
      x1 = a.x + NODE_W; x2 = b.x;
      const d = Math.max(40, (x2 - x1) / 2);
      c1 = x1 + d; c2 = x2 - d;
    } else if (b.x + NODE_W / 2 < a.x) {
      // Shifted down, so that the edge back of a pair does not lie on the edge there.
      x1 = a.x; x2 = b.x + NODE_W;
      ay += 6; by += 6;
      const d = Math.max(40, (x1 - x2) / 2);
      c1 = x1 - d; c2 = x2 + d;
    } else {
      // Same column: a loop out to the right, wider for distant nodes.
      x1 = a.x + NODE_W; x2 = b.x + NODE_W;
      const d = 30 + Math.min(90, Math.abs(by - ay) * 0.25);
      c1 = x1 + d; c2 = x2 + d;
    }
    return {
      d: `M${x1},${ay} C${c1},${ay} ${c2},${by} ${x2},${by}`,
      mx: (x1 + 3 * c1 + 3 * c2 + x2) / 8,
      my: (ay + by) / 2,
    };
  }

  function drawEdge(i) {
    const e = edges[i];
    if (e.el) return e.el;
    const g = geometry(e);
    const p = el('path', { d: g.d, class: e.entry ? `edge entry ${e.level}` : 'edge' }, layers.edges);
    const text = `${nodes[e.src].name} => ${nodes[e.dst].name} : ${e.conns}`;
    if (e.entry) {
      p.setAttribute('data-entry', e.conns);
    } else {
      p.setAttribute('data-edge', i);
      p.setAttribute('data-conn', text);
    }
    el('title', {}, p).textContent = text;
    e.el = p;
    e.mid = g;
    return p;
  }

  edges.forEach((e, i) => {
    if (drawAll || e.entry) drawEdge(i);
  });

  // ---- Zoom
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  let scale = 1;
  function applyScale() {
    svg.setAttribute('width', Math.round(width * scale));
    svg.setAttribute('height', Math.round(height * scale));
  }
  function fit() {
    const w = canvas.clientWidth - 4, h = canvas.clientHeight - 4;
    scale = w > 0 && h > 0 ? Math.max(0.15, Math.min(1.25, w / width, h / height)) : 1;
    applyScale();
  }
  document.getElementById('zoom-in').addEventListener('click', () => { scale = Math.min(4, scale * 1.25); applyScale(); });
  document.getElementById('zoom-out').addEventListener('click', () => { scale = Math.max(0.1, scale / 1.25); applyScale(); });
  document.getElementById('zoom-fit').addEventListener('click', fit);

  // ---- Selection: a workload, its neighbours and the connections between them.
  let selected = null;
  let marked = [];
  let temporary = [];

  function mark(element, ...classes) {
    element.classList.add(...classes);
    marked.push([element, classes]);
  }

  function clearSelection() {
    for (const [element, classes] of marked) element.classList.remove(...classes);
    marked = [];
    for (const i of temporary) {
      edges[i].el.remove();
      edges[i].el = null;
    }
    temporary = [];
    layers.labels.replaceChildren();
    svg.classList.remove('selecting');
    selected = null;
  }

  function select(index) {
    clearSelection();
    if (index === null || nodes[index] === undefined) {
      showOverview();
      return;
    }
    selected = index;
    const n = nodes[index];
    svg.classList.add('selecting');
    mark(n.el, 'selected');
    const concerned = n.out.concat(n.in);
    for (const i of n.out) {
      const e = edges[i];
      if (!e.el) { drawEdge(i); temporary.push(i); }
      mark(e.el, 'hi', e.entry ? 'entry-hi' : 'out');
      mark(nodes[e.dst].el, 'hi');
    }
    for (const i of n.in) {
      const e = edges[i];
      if (!e.el) { drawEdge(i); temporary.push(i); }
      mark(e.el, 'hi', e.entry ? 'entry-hi' : 'in');
      mark(nodes[e.src].el, 'hi');
    }
    if (concerned.length <= MAX_EDGE_LABELS) {
      for (const i of concerned) {
        const e = edges[i];
        const t = el('text', { class: 'edge-label', x: e.mid.mx, y: e.mid.my + 4, 'text-anchor': 'middle' }, layers.labels);
        t.textContent = e.conns;
      }
    }
    showNode(index);
  }

  svg.addEventListener('click', (event) => {
    const g = event.target.closest('[data-index]');
    select(g ? Number(g.getAttribute('data-index')) : null);
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      search.value = '';
      applySearch();
      select(null);
    }
  });

  // ---- Search: highlight workloads whose name holds the text; Enter selects the first.
  let matches = [];
  function applySearch() {
    const q = search.value.trim().toLowerCase();
    matches = [];
    nodes.forEach((n, i) => {
      const hit = q !== '' && n.name.toLowerCase().includes(q);
      n.el.classList.toggle('match', hit);
      if (hit) matches.push(i);
    });
    svg.classList.toggle('searching', q !== '');
    document.getElementById('matches').textContent =
      q === '' ? '' : matches.length === 1 ? '1 match' : `${matches.length} matches`;
  }
  search.addEventListener('input', applySearch);
  search.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && matches.length > 0) {
      const i = matches[0];
      search.value = '';
      applySearch();
      select(i);
      nodes[i].el.scrollIntoView({ block: 'center', inline: 'center' });
    }
  });

  // ---- The side panel, built from text nodes only.
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    for (const c of children) e.append(c);
    return e;
  }

  function peerButton(i) {
    const b = h('button', { class: 'peer', type: 'button', title: nodes[i].name }, nodes[i].name);
    b.addEventListener('click', () => select(i));
    return b;
  }

  function connectionList(list, cls, other) {
    const ul = h('ul', { class: cls });
    for (const i of list) {
      const e = edges[i];
      const li = h('li', {}, peerButton(other(e)));
      if (e.entry) li.append(h('span', { class: `level ${e.level}` }, e.level), h('span', { class: 'ports' }, e.conns));
      else li.append(h('span', { class: 'ports' }, e.conns));
      ul.append(li);
    }
    if (list.length === 0) ul.append(h('li', { class: 'hint' }, 'none'));
    return ul;
  }

  function showNode(index) {
    const n = nodes[index];
    const outs = n.out, ins = n.in.filter((i) => !edges[i].entry);
    const parts = [h('h2', {}, n.label)];
    if (n.type === 'workload') parts.push(h('p', { class: 'sub' }, `${n.kind} in namespace ${n.namespace}`));
    else parts.push(h('p', { class: 'sub' }, describeKind(n)));
    parts.push(h('code', {}, n.name));
    if (n.entries.length > 0) {
      parts.push(h('h3', {}, 'Reachable from the internet'));
      const ul = h('ul', {});
      for (const i of n.entries) {
        ul.append(h('li', {}, h('span', { class: `level ${edges[i].level}` }, edges[i].level), h('span', {}, edges[i].conns)));
      }
      parts.push(ul);
    }
    parts.push(h('h3', {}, n.type === 'internet' ? `Entries (${outs.length})` : `Connects to (${outs.length})`));
    parts.push(connectionList(outs, 'out', (e) => e.dst));
    if (n.type !== 'internet') {
      parts.push(h('h3', {}, `Reached from (${ins.length})`));
      parts.push(connectionList(ins, 'in', (e) => e.src));
    }
    const clear = h('button', { class: 'clear', type: 'button' }, 'Clear selection');
    clear.addEventListener('click', () => select(null));
    parts.push(clear);
    panel.replaceChildren(...parts);
  }

  function showOverview() {
    const namespaces = boxes.filter((b) => b.namespace !== null).length;
    const stat = (label, value) => h('li', {}, h('span', {}, label), h('b', {}, String(value)));
    const parts = [
      h('h2', {}, 'Overview'),
      h('ul', { class: 'stats' },
        stat('Namespaces', namespaces),
        stat('Workloads', data.workloads.length),
        stat('Connections', connectionCount),
        stat('Entries from the internet', data.entries.length)),
    ];
    if (!drawAll) {
      parts.push(h('p', { class: 'notice' },
        `${connectionCount} connections are too many to draw at once: select a workload to draw its own.`));
    }
    parts.push(
      h('h3', {}, 'Legend'),
      h('div', { class: 'legend' },
        h('span', { class: 'swatch ns' }), h('span', {}, 'namespace'),
        h('span', { class: 'swatch' }), h('span', {}, 'workload'),
        h('span', { class: 'swatch ext' }), h('span', {}, 'outside the cluster'),
        h('span', { class: 'swatch exposed' }), h('span', {}, 'reachable from the internet'),
        h('span', { class: 'swatch line' }), h('span', {}, 'allowed connection'),
        h('span', { class: 'swatch line entry' }), h('span', {}, 'entry from the internet')),
      h('h3', {}, 'How to read it'),
      h('p', { class: 'hint' },
        'Click a workload to highlight what it connects to (blue) and what reaches it (green), with the ports; ' +
        'the list of its connections appears here. Type in the search box to find workloads by name; ' +
        'Enter selects the first match, Escape clears.'));
    panel.replaceChildren(...parts);
  }

  document.getElementById('counts').textContent =
    `${boxes.filter((b) => b.namespace !== null).length} namespaces \u00b7 ${data.workloads.length} workloads \u00b7 ${connectionCount} connections`;

  fit();
  window.addEventListener('resize', () => { if (scale <= 1) fit(); });

  // A workload's name after `#` selects it: links can point at one workload.
  function fromHash() {
    let name = '';
    try {
      name = decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      name = '';
    }
    const i = nodes.findIndex((n) => n.name === name);
    select(i >= 0 ? i : null);
    if (i >= 0) nodes[i].el.scrollIntoView({ block: 'center', inline: 'center' });
  }
  window.addEventListener('hashchange', fromHash);
  fromHash();
})();
