// kubereach's reachability picture. The page must work offline from one file, so the graph is
// embedded above as JSON and drawn here with plain SVG and HTML elements; names from the
// manifests only ever reach the page as text nodes and attribute values, never as markup.
//
// Three levels, each readable at any size: the overview is a reachability matrix of namespaces
// (sources in rows, destinations in columns, the internet's entries in the first row); a namespace
// opens in place to its workloads; a workload opens to its connections (what reaches it on the
// left, what it reaches on the right, ports written beside each peer). The whole picture, every
// workload in its namespace's box, is one more view. The location's fragment names the view:
// empty for the overview, a namespace, a workload's name, or `~all` for the whole picture.
(function () {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  // Thousands of curves give a picture no one can read and a page that barely scrolls: above this
  // many, the whole picture draws connections only for the selected workload.
  const MAX_DRAWN_EDGES = 4000;
  // Above this many, a selection draws no port labels: they would cover each other.
  const MAX_EDGE_LABELS = 150;
  // Up to this many workloads, the overview opens every namespace: the matrix of workloads fits.
  const OPEN_ALL_WORKLOADS = 30;
  const NODE_W = 196, NODE_H = 40, GAP = 10, PAD = 14, HEAD = 30, COL_GAP = 130, BOX_GAP = 26, MARGIN = 20;
  const LABEL_CHARS = 27;
  const CARD_W = 240, CARD_H = 40, CARD_GAP = 8, EGO_GAP = 110, GROUP_HEAD = 24, GROUP_GAP = 14;

  const data = JSON.parse(document.getElementById('kubereach-data').textContent);
  const svg = document.getElementById('graph');
  const ego = document.getElementById('ego');
  const matrix = document.getElementById('matrix');
  const canvas = document.getElementById('canvas');
  const panel = document.getElementById('panel');
  const search = document.getElementById('search');
  const where = document.getElementById('where');
  const layers = {
    boxes: document.getElementById('layer-boxes'),
    edges: document.getElementById('layer-edges'),
    nodes: document.getElementById('layer-nodes'),
    labels: document.getElementById('layer-labels'),
  };

  // ---- The model: nodes (workloads, then the endpoints outside namespaces) and edges.
  const nodes = [];
  for (const w of data.workloads) {
    nodes.push({ name: w.name, label: w.label, kind: w.kind, namespace: w.namespace, type: 'workload', controller: !!w.controller });
  }
  for (const o of data.outside) {
    nodes[o.id] = { name: o.name, label: o.label, kind: o.kind, namespace: null, type: o.type };
  }
  const edges = [];
  for (const [src, dst, conns] of data.edges) {
    edges.push({ src, dst, conns, entry: false, level: null });
  }
  const LEVELS = { note: 1, warning: 2, error: 3 };
  let internet = null;
  if (data.entries.length > 0) {
    internet = nodes.length;
    nodes.push({ name: '{internet}', label: '{internet}', kind: 'any client', namespace: null, type: 'internet' });
    for (const [peer, label, level] of data.entries) {
      edges.push({ src: internet, dst: peer, conns: label, entry: true, level });
      const n = nodes[peer];
      n.exposed = true;
      if (!n.level || LEVELS[level] > LEVELS[n.level]) n.level = level;
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
  const byName = new Map(nodes.map((n, i) => [n.name, i]));

  // Namespaces in drawing order (the workloads come sorted by namespace, then name).
  const namespaces = [];
  for (let i = 0; i < data.workloads.length; ) {
    const name = nodes[i].namespace;
    const members = [];
    while (i < data.workloads.length && nodes[i].namespace === name) members.push(i++);
    namespaces.push({ name, members });
  }
  const namespaceOf = new Map(namespaces.map((ns) => [ns.name, ns]));
  // Gateways are sources of their routes only; a repository may declare dozens. In the matrix they
  // are one row that opens like a namespace (a name no namespace can have).
  const GATEWAYS = '~gateways';
  const gatewayGroup = {
    name: GATEWAYS, title: 'Gateways',
    members: nodes.map((n, i) => i).filter((i) => nodes[i].type === 'gateway'),
  };
  if (gatewayGroup.members.length > 0) namespaceOf.set(GATEWAYS, gatewayGroup);
  const twins = new Set();
  for (const ns of namespaces) {
    const seen = new Map();
    for (const i of ns.members) {
      const other = seen.get(nodes[i].label);
      if (other !== undefined) { twins.add(other); twins.add(i); }
      seen.set(nodes[i].label, i);
    }
  }
  // {internet} first, then the controller and Gateways, then address ranges in graph order.
  const outsideRank = { internet: 0, 'ingress-controller': 1, gateway: 1, external: 2 };
  const byRank = (a, b) => outsideRank[nodes[a].type] - outsideRank[nodes[b].type] || a - b;
  const outside = nodes.map((n, i) => i).filter((i) => nodes[i].type !== 'workload').sort(byRank);

  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    for (const c of children) e.append(c);
    return e;
  }

  function shorten(s, chars) {
    const n = chars || LABEL_CHARS;
    return s.length > n ? s.slice(0, n - 1) + '\u2026' : s;
  }

  function plural(count, one, many) {
    return `${count} ${count === 1 ? one : many}`;
  }

  function describeKind(n) {
    if (n.type === 'external' && n.label === '0.0.0.0-255.255.255.255') return 'External: any IPv4 address';
    if (n.type === 'external' && n.label === '::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff') return 'External: any IPv6 address';
    if (n.type === 'ingress-controller') return 'entry of Ingresses and Routes';
    if (n.type === 'gateway') return 'Gateway: entry of its routes';
    if (n.controller) return `${n.kind}, ingress controller`;
    return n.kind;
  }

  // ---- Navigation: the fragment names the view, so that links and the Back button work.
  function go(fragment) {
    const wanted = fragment === '' ? '' : '#' + encodeURIComponent(fragment);
    if (location.hash === wanted || (wanted === '' && location.hash === '#')) route();
    else location.hash = wanted;
  }

  function setView(kind, label) {
    document.body.setAttribute('data-view', kind);
    where.textContent = label;
    for (const b of document.querySelectorAll('nav button')) b.classList.toggle('on', b.getAttribute('data-view') === kind);
  }

  // ---- The matrix: sources in rows, destinations in columns, namespaces folded or open.
  let open = new Set();

  function defaultOpen() {
    return new Set(data.workloads.length <= OPEN_ALL_WORKLOADS ? namespaces.map((ns) => ns.name) : []);
  }

  // The keys an endpoint counts under: its namespace, and itself when its namespace is open.
  function keys(i) {
    const n = nodes[i];
    if (n.type === 'gateway') return open.has(GATEWAYS) ? ['s' + GATEWAYS, 'n' + i] : ['s' + GATEWAYS];
    if (n.type !== 'workload') return ['n' + i];
    return open.has(n.namespace) ? ['s' + n.namespace, 'n' + i] : ['s' + n.namespace];
  }

  function renderMatrix() {
    const cells = new Map();
    edges.forEach((e, i) => {
      for (const r of keys(e.src)) {
        for (const c of keys(e.dst)) {
          const k = r + '|' + c;
          let cell = cells.get(k);
          if (!cell) cells.set(k, (cell = { count: 0, level: null, edge: i }));
          cell.count += 1;
          if (e.entry && (!cell.level || LEVELS[e.level] > LEVELS[cell.level])) cell.level = e.level;
        }
      }
    });
    const lines = (sources) => {
      const list = [];
      for (const i of outside) {
        if (nodes[i].type !== 'gateway' && (sources ? nodes[i].out.length > 0 : nodes[i].in.length > 0)) list.push({ key: 'n' + i, node: i });
      }
      if (sources && gatewayGroup.members.length > 0) {
        list.push({ key: 's' + GATEWAYS, ns: gatewayGroup });
        if (open.has(GATEWAYS)) for (const m of gatewayGroup.members) list.push({ key: 'n' + m, node: m, member: true });
      }
      const spaces = [];
      for (const ns of namespaces) {
        spaces.push({ key: 's' + ns.name, ns });
        if (open.has(ns.name)) for (const m of ns.members) spaces.push({ key: 'n' + m, node: m, member: true });
      }
      // Sources outside the cluster come first; destinations outside it last.
      return sources ? list.concat(spaces) : spaces.concat(list);
    };
    const rows = lines(true), cols = lines(false);

    const table = h('table', { class: 'matrix' });
    const head = h('tr', {}, h('th', { class: 'corner' }, h('span', {}, 'from \u2193 to \u2192')));
    for (const c of cols) head.append(header(c, 'col'));
    table.append(h('thead', {}, head));
    const body = h('tbody');
    for (const r of rows) {
      const tr = h('tr', { class: r.ns ? 'ns' : r.member ? 'member' : 'outside' }, header(r, 'row'));
      for (const c of cols) tr.append(cell(r, c, cells.get(r.key + '|' + c.key)));
      body.append(tr);
    }
    table.append(body);
    matrix.replaceChildren(table, h('p', { id: 'status', class: 'hint' }, 'Point at a cell to read it; click a namespace to open it, a workload to see its connections.'));
  }

  function header(line, axis) {
    const th = h('th', { class: axis + (line.ns ? ' ns' : line.member ? ' member' : ' outside'), scope: axis });
    let text, title;
    if (line.ns) {
      const ns = line.ns;
      // A long name is shortened, never its count.
      const name = shorten(ns.title || ns.name, axis === 'col' ? 32 : 56);
      text = `${open.has(ns.name) ? '\u25be' : '\u25b8'} ${name} (${ns.members.length})`;
      title = ns.title
        ? `${plural(ns.members.length, 'Gateway', 'Gateways')}; click to ${open.has(ns.name) ? 'fold' : 'open'} them`
        : `namespace ${ns.name}: ${plural(ns.members.length, 'workload', 'workloads')}; click to ${open.has(ns.name) ? 'fold' : 'open'} it`;
      th.setAttribute('data-namespace', ns.name);
      th.addEventListener('click', () => toggle(ns.name));
    } else {
      const n = nodes[line.node];
      // Two workloads of one name (a Deployment and a StatefulSet) are told apart by their kind.
      text = shorten(twins.has(line.node) ? `${n.label} [${n.kind}]` : n.label, axis === 'col' ? 34 : 60);
      title = `${n.name} (${describeKind(n)}); click to see its connections`;
      th.setAttribute('data-' + axis, n.name);
      th.setAttribute('data-index', line.node);
      if (n.exposed) th.classList.add('exposed', n.level);
      th.addEventListener('click', () => go(n.name));
    }
    th.append(h('span', { class: 'text', title }, text));
    return th;
  }

  function cell(r, c, value) {
    const td = h('td', {});
    const possible = pairs(r, c);
    if (!value || possible === 0) {
      if (possible === 0) td.classList.add('none');
      return td;
    }
    const entry = r.node === internet && internet !== null;
    const single = r.node !== undefined && c.node !== undefined;
    const e = edges[value.edge];
    let title;
    if (entry) {
      td.classList.add('entry', value.level);
      title = `${plural(value.count, 'entry', 'entries')} from the internet into ${label(c)}`;
      td.textContent = String(value.count);
    } else if (single) {
      td.classList.add('one');
      title = `${nodes[e.src].name} => ${nodes[e.dst].name} : ${e.conns}`;
      td.textContent = '\u25cf';
    } else {
      title = `${plural(value.count, 'connection', 'connections')} from ${label(r)} to ${label(c)} (of ${possible} possible pairs)`;
      td.textContent = String(value.count);
      const ratio = Math.min(1, value.count / possible);
      td.style.setProperty('--density', (0.1 + 0.75 * ratio).toFixed(2));
      if (ratio > 0.55) td.classList.add('dense');
    }
    td.setAttribute('data-cell', `${r.key}|${c.key}`);
    td.setAttribute('title', title);
    td.addEventListener('mouseenter', () => { document.getElementById('status').textContent = title; });
    td.addEventListener('click', () => {
      if (single) go(nodes[r.node].type === 'workload' ? nodes[r.node].name : nodes[c.node].name);
      else if (r.ns && !open.has(r.ns.name)) toggle(r.ns.name);
      else if (c.ns && !open.has(c.ns.name)) toggle(c.ns.name);
    });
    return td;
  }

  function label(line) {
    if (line.ns) return line.ns.title ? line.ns.title : `namespace ${line.ns.name}`;
    return nodes[line.node].name;
  }

  // Ordered pairs of distinct endpoints between a row and a column.
  function pairs(r, c) {
    const a = r.ns ? r.ns.members.length : 1, b = c.ns ? c.ns.members.length : 1;
    if (r.ns && c.ns) return r.ns === c.ns ? a * (a - 1) : a * b;
    if (r.ns && c.node !== undefined) return nodes[c.node].namespace === r.ns.name ? a - 1 : a;
    if (c.ns && r.node !== undefined) return nodes[r.node].namespace === c.ns.name ? b - 1 : b;
    return r.node === c.node ? 0 : 1;
  }

  function toggle(name) {
    if (open.has(name)) open.delete(name);
    else open.add(name);
    renderMatrix();
    applySearch();
    if (open.has(name)) showNamespace(name);
    else showOverview();
  }

  function showMatrix(openNamespace) {
    clearEgo();
    if (openNamespace === null) {
      open = defaultOpen();
      setView('overview', '');
    } else {
      open = new Set([openNamespace]);
      setView('overview', `Namespaces \u203a ${namespaceOf.get(openNamespace).title || openNamespace}`);
    }
    renderMatrix();
    if (openNamespace === null) showOverview();
    else showNamespace(openNamespace);
  }

  // ---- One workload and its connections: sources on the left, destinations on the right.
  let egoSize = null;

  function clearEgo() {
    ego.replaceChildren();
    egoSize = null;
  }

  function column(list, pick) {
    // Grouped: endpoints outside namespaces first, then namespaces in order.
    const groups = new Map();
    for (const i of list) {
      const other = pick(edges[i]);
      const n = nodes[other];
      const key = n.type === 'workload' ? n.namespace : '';
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(i);
    }
    const order = [...groups.keys()].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0));
    return order.map((key) => ({ title: key === '' ? 'outside the cluster' : key, items: groups.get(key) }));
  }

  function showEgo(index) {
    const n = nodes[index];
    clearEgo();
    const left = column(n.in, (e) => e.src), right = column(n.out, (e) => e.dst);
    const height = (groups) => groups.reduce((s, g) => s + GROUP_HEAD + g.items.length * (CARD_H + CARD_GAP) + GROUP_GAP, 0);
    const x0 = MARGIN, x1 = x0 + CARD_W + EGO_GAP, x2 = x1 + CARD_W + EGO_GAP;
    const width = x2 + CARD_W + MARGIN;
    const total = Math.max(height(left), height(right), CARD_H + GROUP_HEAD) + 2 * MARGIN;
    const g = {
      boxes: el('g', {}, ego), edges: el('g', {}, ego), nodes: el('g', {}, ego), labels: el('g', {}, ego),
    };
    const centre = { x: x1, y: MARGIN + GROUP_HEAD };
    el('text', { class: 'group', x: x0, y: MARGIN + 14 }, g.boxes).textContent = `Reached from (${n.in.length})`;
    el('text', { class: 'group', x: x1, y: MARGIN + 14 }, g.boxes).textContent = n.type === 'workload' ? `namespace ${n.namespace}` : 'outside the cluster';
    el('text', { class: 'group', x: x2, y: MARGIN + 14 }, g.boxes).textContent = `Connects to (${n.out.length})`;
    card(index, centre.x, centre.y, describeKind(n), ['selected'], g.nodes);
    const place = (groups, x, outgoing) => {
      let y = MARGIN + GROUP_HEAD;
      for (const group of groups) {
        const t = el('text', { class: 'box-title', x, y: y + 14 }, g.boxes);
        t.textContent = shorten(group.title, 34);
        el('title', {}, t).textContent = group.title;
        y += GROUP_HEAD;
        for (const i of group.items) {
          const e = edges[i];
          const other = outgoing ? e.dst : e.src;
          card(other, x, y, e.conns, ['hi'], g.nodes);
          const [ax, ay, bx, by] = outgoing
            ? [centre.x + CARD_W, centre.y + CARD_H / 2, x, y + CARD_H / 2]
            : [x + CARD_W, y + CARD_H / 2, centre.x, centre.y + CARD_H / 2];
          const d = (bx - ax) / 2;
          const path = el('path', { d: `M${ax},${ay} C${ax + d},${ay} ${bx - d},${by} ${bx},${by}` }, g.edges);
          const text = `${nodes[e.src].name} => ${nodes[e.dst].name} : ${e.conns}`;
          if (e.entry) {
            path.setAttribute('class', `edge entry ${e.level} hi entry-hi`);
            path.setAttribute('data-entry', e.conns);
          } else {
            path.setAttribute('class', `edge hi ${outgoing ? 'out' : 'in'}`);
            path.setAttribute('data-edge', i);
            path.setAttribute('data-conn', text);
          }
          el('title', {}, path).textContent = text;
          hoverLabel(path, e.conns, (ax + bx) / 2, (ay + by) / 2, g.labels);
          y += CARD_H + CARD_GAP;
        }
        y += GROUP_GAP;
      }
    };
    place(left, x0, false);
    place(right, x2, true);
    if (n.in.length === 0 && n.out.length === 0) {
      el('text', { class: 'box-title', x: x1, y: centre.y + CARD_H + 24 }, g.boxes).textContent = 'no connection in or out';
    }
    ego.setAttribute('viewBox', `0 0 ${width} ${total}`);
    egoSize = { width, height: total };
    setView('workload', n.type === 'workload' ? `Namespaces \u203a ${n.namespace} \u203a ${n.label}` : n.label);
    fitWidth();
    canvas.scrollTop = 0;
    showNode(index, false);
  }

  function card(i, x, y, second, classes, parent) {
    const n = nodes[i];
    const cls = ['node', n.type];
    if (n.exposed) cls.push('exposed');
    cls.push(...classes);
    const g = el('g', { class: cls.join(' '), transform: `translate(${x},${y})` }, parent);
    g.setAttribute('data-node', n.name);
    g.setAttribute('data-index', i);
    el('rect', { width: CARD_W, height: CARD_H, rx: n.type === 'workload' ? 6 : 18 }, g);
    el('text', { class: 'label', x: 10, y: 17 }, g).textContent = shorten(n.label, 30);
    el('text', { class: 'kind', x: 10, y: 32 }, g).textContent = shorten(second, 38);
    el('title', {}, g).textContent = `${n.name}\n${second}`;
    g.addEventListener('click', () => { if (!classes.includes('selected')) go(n.name); });
    return g;
  }

  // An edge's label appears while the pointer is on the edge: labels never pile up.
  function hoverLabel(path, text, x, y, parent) {
    let shown = null;
    path.addEventListener('mouseenter', () => {
      shown = el('text', { class: 'edge-label', x, y: y + 4, 'text-anchor': 'middle' }, parent);
      shown.textContent = text;
    });
    path.addEventListener('mouseleave', () => {
      if (shown) shown.remove();
      shown = null;
    });
  }

  // ---- The whole picture: an "outside the cluster" column, then namespace boxes packed into
  // columns. Built the first time it is shown.
  let picture = null;

  function buildPicture() {
    const boxes = [];
    const outsideBox = outside.length > 0 ? { title: 'outside the cluster', namespace: null, members: outside } : null;
    const namespaceBoxes = namespaces.map((ns) => ({ title: ns.name, namespace: ns.name, members: ns.members }));
    if (outsideBox) boxes.push(outsideBox);
    boxes.push(...namespaceBoxes);
    for (const b of boxes) {
      const n = b.members.length;
      b.cols = n <= 8 ? 1 : Math.ceil(Math.sqrt(n / 4));
      b.rows = Math.ceil(n / b.cols);
      b.w = b.cols * NODE_W + (b.cols - 1) * GAP + 2 * PAD;
      b.h = HEAD + b.rows * NODE_H + (b.rows - 1) * GAP + PAD;
    }

    // Namespace boxes are packed greedily into the shortest column, and the column count is the
    // one whose drawing is closest to the proportions of a wide screen less the side panel.
    // Deterministic: ties go left.
    const left = outsideBox ? outsideBox.w + COL_GAP : 0;
    function pack(ncols) {
      const heights = new Array(ncols).fill(0);
      const widths = new Array(ncols).fill(0);
      const at = [];
      for (const b of namespaceBoxes) {
        let c = 0;
        for (let k = 1; k < ncols; k++) if (heights[k] < heights[c]) c = k;
        at.push([c, heights[c]]);
        heights[c] += b.h + BOX_GAP;
        widths[c] = Math.max(widths[c], b.w);
      }
      const w = left + widths.reduce((s, x) => s + x, 0) + (ncols - 1) * COL_GAP;
      const h = Math.max(outsideBox ? outsideBox.h : 0, Math.max(...heights) - BOX_GAP);
      return { ncols, at, widths, w, h };
    }
    let best = null;
    for (let ncols = 1; ncols <= Math.min(namespaceBoxes.length, 60); ncols++) {
      const p = pack(ncols);
      p.score = Math.abs(Math.log(p.w / p.h / 1.3));
      if (best === null || p.score < best.score - 1e-9) best = p;
    }
    function placeBox(b, x, y) {
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
      placeBox(outsideBox, MARGIN, MARGIN);
      width += outsideBox.w;
      height += outsideBox.h;
    }
    if (best) {
      const colX = [MARGIN + left];
      for (let c = 1; c < best.ncols; c++) colX.push(colX[c - 1] + best.widths[c - 1] + COL_GAP);
      namespaceBoxes.forEach((b, i) => {
        const [c, y] = best.at[i];
        placeBox(b, colX[c], MARGIN + y);
      });
      width = 2 * MARGIN + 120 + best.w;
      height = 2 * MARGIN + best.h;
    }

    for (const b of boxes) {
      const g = el('g', { class: b.namespace === null ? 'box outside' : 'box', transform: `translate(${b.x},${b.y})` }, layers.boxes);
      if (b.namespace !== null) g.setAttribute('data-namespace', b.namespace);
      el('rect', { width: b.w, height: b.h, rx: 10 }, g);
      el('text', { x: PAD, y: 20 }, g).textContent = shorten(b.title);
      el('title', {}, g).textContent = b.namespace === null ? b.title : `namespace ${b.title}`;
    }
    nodes.forEach((n, i) => {
      const cls = ['node', n.type];
      if (n.exposed) cls.push('exposed');
      const g = el('g', { class: cls.join(' '), transform: `translate(${n.x},${n.y})` }, layers.nodes);
      g.setAttribute('data-node', n.name);
      g.setAttribute('data-index', i);
      el('rect', { width: NODE_W, height: NODE_H, rx: n.type === 'workload' ? 6 : 18 }, g);
      el('text', { class: 'label', x: 10, y: 17 }, g).textContent = shorten(n.label);
      el('text', { class: 'kind', x: 10, y: 32 }, g).textContent = describeKind(n);
      el('title', {}, g).textContent = n.name;
      n.el = g;
    });
    edges.forEach((e, i) => {
      if (drawAll || e.entry) drawEdge(i);
    });
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.addEventListener('click', (event) => {
      const g = event.target.closest('[data-index]');
      select(g ? Number(g.getAttribute('data-index')) : null);
    });
    picture = { width, height };
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
    hoverLabel(p, e.conns, g.mx, g.my, layers.labels);
    e.el = p;
    e.mid = g;
    return p;
  }

  function showPicture() {
    clearEgo();
    if (picture === null) buildPicture();
    setView('all', 'All workloads');
    fit();
    select(null);
  }

  // ---- Zoom, for the drawn views.
  let scale = 1;
  function current() {
    const view = document.body.getAttribute('data-view');
    if (view === 'all' && picture) return { element: svg, ...picture };
    if (view === 'workload' && egoSize) return { element: ego, ...egoSize };
    return null;
  }
  function applyScale() {
    const c = current();
    if (!c) return;
    c.element.setAttribute('width', Math.round(c.width * scale));
    c.element.setAttribute('height', Math.round(c.height * scale));
  }
  function fit() {
    const c = current();
    if (!c) return;
    const w = canvas.clientWidth - 4, h = canvas.clientHeight - 4;
    scale = w > 0 && h > 0 ? Math.max(0.15, Math.min(1.25, w / c.width, h / c.height)) : 1;
    applyScale();
  }
  // A workload's connections are read down a long column: fit the width, scroll the height.
  function fitWidth() {
    const c = current();
    if (!c) return;
    const w = canvas.clientWidth - 4;
    scale = w > 0 ? Math.max(0.5, Math.min(1.1, w / c.width)) : 1;
    applyScale();
  }
  document.getElementById('zoom-in').addEventListener('click', () => { scale = Math.min(4, scale * 1.25); applyScale(); });
  document.getElementById('zoom-out').addEventListener('click', () => { scale = Math.max(0.1, scale / 1.25); applyScale(); });
  document.getElementById('zoom-fit').addEventListener('click', fit);

  // ---- Selection in the whole picture: a workload, its neighbours and the connections between them.
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
  }

  function select(index) {
    clearSelection();
    if (index === null || nodes[index] === undefined) {
      showOverview();
      return;
    }
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
    showNode(index, true);
  }

  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      search.value = '';
      applySearch();
      if (document.body.getAttribute('data-view') === 'all') select(null);
    }
  });

  // ---- Search: highlight endpoints whose name holds the text; Enter opens the first.
  let matches = [];
  function applySearch() {
    const q = search.value.trim().toLowerCase();
    matches = [];
    nodes.forEach((n, i) => {
      if (q !== '' && n.name.toLowerCase().includes(q)) matches.push(i);
    });
    const hits = new Set(matches.map(String));
    for (const e of document.querySelectorAll('[data-index]')) e.classList.toggle('match', hits.has(e.getAttribute('data-index')));
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
      if (document.body.getAttribute('data-view') === 'all') {
        select(i);
        nodes[i].el.scrollIntoView({ block: 'center', inline: 'center' });
      } else {
        go(nodes[i].name);
      }
    }
  });

  // ---- The side panel, built from text nodes only.
  function peerButton(i, inPicture) {
    const b = h('button', { class: 'peer', type: 'button', title: nodes[i].name }, nodes[i].name);
    b.addEventListener('click', () => (inPicture ? select(i) : go(nodes[i].name)));
    return b;
  }

  function connectionList(list, cls, other, inPicture) {
    const ul = h('ul', { class: cls });
    for (const i of list) {
      const e = edges[i];
      const li = h('li', {}, peerButton(other(e), inPicture));
      if (e.entry) li.append(h('span', { class: `level ${e.level}` }, e.level), h('span', { class: 'ports' }, e.conns));
      else li.append(h('span', { class: 'ports' }, e.conns));
      ul.append(li);
    }
    if (list.length === 0) ul.append(h('li', { class: 'hint' }, 'none'));
    return ul;
  }

  function showNode(index, inPicture) {
    const n = nodes[index];
    const outs = n.out, ins = n.in.filter((i) => !edges[i].entry);
    const parts = [h('h2', {}, n.label)];
    if (n.type === 'workload') parts.push(h('p', { class: 'sub' }, `${describeKind(n)} in namespace ${n.namespace}`));
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
    parts.push(connectionList(outs, 'out', (e) => e.dst, inPicture));
    if (n.type !== 'internet') {
      parts.push(h('h3', {}, `Reached from (${ins.length})`));
      parts.push(connectionList(ins, 'in', (e) => e.src, inPicture));
    }
    if (inPicture) {
      const clear = h('button', { class: 'clear', type: 'button' }, 'Clear selection');
      clear.addEventListener('click', () => select(null));
      parts.push(clear);
    } else if (n.type === 'workload') {
      const back = h('button', { class: 'clear', type: 'button' }, `Back to namespace ${n.namespace}`);
      back.addEventListener('click', () => go(n.namespace));
      parts.push(back);
    }
    panel.replaceChildren(...parts);
  }

  function exposedList(members) {
    const exposed = members.filter((i) => nodes[i].exposed);
    exposed.sort((a, b) => LEVELS[nodes[b].level] - LEVELS[nodes[a].level] || a - b);
    const ul = h('ul', { class: 'exposed-list' });
    for (const i of exposed) {
      ul.append(h('li', {}, h('span', { class: `level ${nodes[i].level}` }, nodes[i].level), peerButton(i, false)));
    }
    if (exposed.length === 0) ul.append(h('li', { class: 'hint' }, 'none'));
    return ul;
  }

  function showOverview() {
    const view = document.body.getAttribute('data-view');
    const stat = (label, value) => h('li', {}, h('span', {}, label), h('b', {}, String(value)));
    const parts = [
      h('h2', {}, view === 'all' ? 'All workloads' : 'Overview'),
      h('ul', { class: 'stats' },
        stat('Namespaces', namespaces.length),
        stat('Workloads', data.workloads.length),
        stat('Connections', connectionCount),
        stat('Entries from the internet', data.entries.length)),
    ];
    if (view === 'all' && !drawAll) {
      parts.push(h('p', { class: 'notice' },
        `${connectionCount} connections are too many to draw at once: select a workload to draw its own.`));
    }
    parts.push(h('h3', {}, 'Reachable from the internet'), exposedList(data.workloads.map((w, i) => i)));
    if (view === 'all') {
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
          'the list of its connections appears here. Point at a connection to read its ports.'));
    } else {
      parts.push(
        h('h3', {}, 'How to read it'),
        h('p', { class: 'hint' },
          'Each row is a source, each column a destination. A cell counts the connections allowed from the ' +
          'row\u2019s workloads to the column\u2019s (darker: a larger share of the possible pairs); the ' +
          '{internet} row counts the ways in, coloured by the most severe. Click a namespace to open it to its ' +
          'workloads, a workload to see its connections with their ports. Search finds workloads by name; ' +
          'Enter opens the first match.'));
    }
    panel.replaceChildren(...parts);
  }

  function showNamespace(name) {
    const ns = namespaceOf.get(name);
    if (!ns) return showOverview();
    if (ns.title) return showOverview();
    const members = new Set(ns.members);
    let inside = 0, out = 0, into = 0;
    for (const e of edges) {
      if (e.entry) continue;
      const a = members.has(e.src), b = members.has(e.dst);
      if (a && b) inside += 1;
      else if (a) out += 1;
      else if (b) into += 1;
    }
    const stat = (label, value) => h('li', {}, h('span', {}, label), h('b', {}, String(value)));
    const list = h('ul', { class: 'out' });
    for (const i of ns.members) list.append(h('li', {}, peerButton(i, false), h('span', { class: 'ports' }, describeKind(nodes[i]))));
    panel.replaceChildren(
      h('h2', {}, name),
      h('p', { class: 'sub' }, 'namespace'),
      h('ul', { class: 'stats' },
        stat('Workloads', ns.members.length),
        stat('Connections inside', inside),
        stat('Connections out of it', out),
        stat('Connections into it', into)),
      h('h3', {}, 'Reachable from the internet'), exposedList(ns.members),
      h('h3', {}, 'Workloads'), list);
  }

  // ---- Routing
  function route() {
    let name = '';
    try {
      name = decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      name = '';
    }
    if (name === '~all') showPicture();
    else if (byName.has(name)) showEgo(byName.get(name));
    else if (namespaceOf.has(name)) showMatrix(name);
    else showMatrix(null);
    applySearch();
  }

  document.getElementById('view-overview').addEventListener('click', () => go(''));
  document.getElementById('view-all').addEventListener('click', () => go('~all'));
  document.getElementById('counts').textContent =
    `${plural(namespaces.length, 'namespace', 'namespaces')} \u00b7 ${plural(data.workloads.length, 'workload', 'workloads')} \u00b7 ${plural(connectionCount, 'connection', 'connections')}`;
  window.addEventListener('resize', () => {
    if (document.body.getAttribute('data-view') === 'all' && scale <= 1) fit();
  });
  window.addEventListener('hashchange', route);
  route();
})();
